//  Cluster mode, ownership (docs/cluster.md section 7, commit 4 of section 15): the instances share
//  the partitions of <prefix>.jobs as a consumer group; each claims its partitions in the
//  changelog and acts only on their jobs. A second instance takes its share from the first by a
//  clean release; a killed one's partitions are claimed by the other once the group drops it
//  (and its lease ran out). Against librdkafka's mock cluster (tools/kafka-mock, over loopback).
#include "harness_kafka.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>

#define S_PARTITIONS 4
#define S_JOBS       10 //  demo jobs submitted to each instance, each round
#define S_STATES     4  //  a demo job's transitions: QUEUED, SUBMITTED, RUNNING, and its end

static harness_t s_a, s_b;
static harness_proc_t s_mock;
static char s_brokers[256];

static void
s_config (harness_t *harness, const char *instance)
{
    char text[2048];
    snprintf (text, sizeof text,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        step = 20ms\n"
              "cluster\n"
              "    instance = %s\n"
              "    brokers = %s\n"
              "    partitions = %d\n"
              "    session_timeout = 4s\n",
              harness_build_dir (), instance, s_brokers, S_PARTITIONS);
    harness_write_config (harness, text);
}

static int
s_setup (void **state)
{
    harness_init (&s_a, "cluster-owner-a");
    harness_init (&s_b, "cluster-owner-b");
    const char *const args[] = {
        "--brokers",        "3",       "--topic",        "jobd.jobs:4", "--topic",
        "jobd.changelog:4", "--topic", "jobd.replies:1", NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_a, args, s_brokers, sizeof s_brokers), 0);
    s_config (&s_a, "node-a");
    s_config (&s_b, "node-b");
    return 0;
}

static int
s_teardown (void **state)
{
    harness_stop (&s_a, SIGKILL, 5000);
    harness_stop (&s_b, SIGKILL, 5000);
    harness_kafka_mock_stop (&s_mock);
    harness_fini (&s_a);
    harness_fini (&s_b);
    return 0;
}

static void
s_start (harness_t *harness)
{
    assert_true (harness_start (harness) > 0);
    assert_true (harness_wait_ready (harness, 30000));
}

//  The partitions an instance owns now, as a bit mask (jobctl cluster); -1 when it did not say.
static int
s_owned (harness_t *harness)
{
    char out[16384], err[1024];
    const char *args[] = {"-c", harness->config, "--json", "cluster", NULL};
    if (harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) != 0)
        return -1;
    json_t *root = json_loads (out, 0, NULL);
    size_t index;
    json_t *partition;
    int mask = 0;
    json_array_foreach (json_object_get (root, "partition"), index, partition)
    {
        const char *state = json_string_value (json_object_get (partition, "state"));
        if (state && strcmp (state, "owned") == 0)
            mask |= 1 << json_integer_value (json_object_get (partition, "partition"));
    }
    json_decref (root);
    return root ? mask : -1;
}

//  Waits until a owns a_mask's partitions... or, with a_mask -1, until a and b share them all
//  (each some, none both). Returns the ms it took, or -1 past timeout_ms.
static int64_t
s_wait_owned (int a_mask, int timeout_ms)
{
    int64_t start = zclock_mono (), deadline = start + timeout_ms;
    int all = (1 << S_PARTITIONS) - 1;
    while (zclock_mono () < deadline) {
        int a = s_owned (&s_a);
        if (a_mask >= 0 && a == a_mask)
            return zclock_mono () - start;
        if (a_mask < 0) {
            int b = s_owned (&s_b);
            if (a > 0 && b > 0 && (a & b) == 0 && (a | b) == all)
                return zclock_mono () - start;
        }
        zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    }
    return -1;
}

//  Submits count demo jobs to harness with jobctl; returns how many were taken.
static int
s_submit (harness_t *harness, int count)
{
    char spec[300], out[256], err[1024];
    snprintf (spec, sizeof spec, "%s/spec.json", harness->dir);
    FILE *file = fopen (spec, "w");
    assert_non_null (file);
    fprintf (file, "{\"kind\":\"demo\",\"name\":\"owned\",\"demo\":true}");
    fclose (file);
    int taken = 0;
    for (int index = 0; index < count; index++) {
        const char *args[] = {"-c", harness->config, "submit", spec, NULL};
        if (harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) == 0)
            taken++;
        else
            fprintf (stderr, "submit refused: %s", err);
    }
    return taken;
}

static int64_t
s_ended (harness_t *harness)
{
    int64_t succeeded = harness_count (harness, JOBD_STATE_SUCCEEDED);
    int64_t failed = harness_count (harness, JOBD_STATE_FAILED);
    return succeeded < 0 || failed < 0 ? -1 : succeeded + failed;
}

static bool
s_wait_ended (harness_t *harness, int64_t ended, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (s_ended (harness) != ended && zclock_mono () < deadline)
        zclock_sleep (20); //  polling interval: jobd has no "tell me when" query
    return s_ended (harness) == ended;
}

static void
test_partitions_are_shared_and_move (void **state)
{
    //  Alone, a claims every partition (nothing was released before: it waits one lease).
    s_start (&s_a);
    int64_t alone = s_wait_owned ((1 << S_PARTITIONS) - 1, 30000);
    assert_true (alone >= 0);
    //  b joins: a hands some over by a clean release, b claims them; none is owned twice.
    s_start (&s_b);
    int64_t shared = s_wait_owned (-1, 60000);
    assert_true (shared >= 0);
    printf ("cluster-owner: a alone owned %d partitions in %lld ms; shared with b in %lld ms\n",
            S_PARTITIONS, (long long)alone, (long long)shared);
    //  Each takes submissions (ids of its own partitions), and each job moves once, by the demo
    //  of the instance that owns it: the other's observations are refused.
    assert_int_equal (s_submit (&s_a, S_JOBS), S_JOBS);
    assert_int_equal (s_submit (&s_b, S_JOBS), S_JOBS);
    assert_true (s_wait_ended (&s_a, 2 * S_JOBS, 30000));
    assert_true (s_wait_ended (&s_b, 2 * S_JOBS, 30000));
    //  b dies: once the group dropped it, a claims its partitions and acts on their jobs.
    harness_stop (&s_b, SIGKILL, 5000);
    int64_t takeover = s_wait_owned ((1 << S_PARTITIONS) - 1, 60000);
    assert_true (takeover >= 0);
    printf ("cluster-owner: a took b's partitions %lld ms after b's SIGKILL\n",
            (long long)takeover);
    assert_int_equal (s_submit (&s_a, S_JOBS), S_JOBS);
    assert_true (s_wait_ended (&s_a, 3 * S_JOBS, 30000));
    //  b back: it catches up, and gets a share again.
    s_start (&s_b);
    assert_true (s_wait_owned (-1, 60000) >= 0);
    assert_true (s_wait_ended (&s_b, 3 * S_JOBS, 30000));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_partitions_are_shared_and_move)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
