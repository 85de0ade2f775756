//  Cluster mode, ownership (docs/cluster.md section 7, commit 4 of section 15): the instances share
//  the partitions of <prefix>.jobs as a consumer group; each claims its partitions in the
//  changelog and acts only on their jobs. A second instance takes its share from the first by a
//  clean release; a killed one's partitions are claimed by the other once the group drops it
//  (and its lease ran out). Against librdkafka's mock cluster (tools/kafka-mock, over loopback).
#include "harness_cluster.h"
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
static harness_t *const s_nodes[2] = {&s_a, &s_b};
static harness_proc_t s_mock;
static char s_brokers[256];
static char s_notes[600]; //  where both instances' notifiers append the keys of their notes

static void
s_config (harness_t *harness, const char *instance)
{
    char text[2048];
    snprintf (text, sizeof text,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        step = 20ms\n"
              "    notifier\n"
              "        path = %s/plugins/notifier.so\n"
              "        channels\n"
              "            file\n"
              "                type = exec\n"
              "                command = \"echo $JOBD_NOTIFY_KEY >> %s\"\n"
              "        rules\n"
              "            done\n"
              "                events = succeeded\n"
              "                digest_window = 0\n"
              "cluster\n"
              "    instance = %s\n"
              "    brokers = %s\n"
              "    partitions = %d\n"
              "    session_timeout = 4s\n",
              harness_build_dir (), harness_build_dir (), s_notes, instance, s_brokers,
              S_PARTITIONS);
    harness_write_config (harness, text);
}

static int
s_setup (void **state)
{
    harness_init (&s_a, "cluster-owner-a");
    harness_init (&s_b, "cluster-owner-b");
    snprintf (s_notes, sizeof s_notes, "%s/notes", s_a.dir);
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

//  Waits until the notes file holds count lines (within timeout_ms), then checks that no key is
//  there twice: each job's note was sent by one instance, the one acting on it.
static void
s_check_notes (int64_t count, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms, lines = 0;
    zlistx_t *keys = zlistx_new ();
    zlistx_set_destructor (keys, (zlistx_destructor_fn *)zstr_free);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *)strcmp);
    while (lines < count && zclock_mono () < deadline) {
        zlistx_purge (keys);
        lines = 0;
        FILE *file = fopen (s_notes, "r");
        char line[256];
        while (file && fgets (line, sizeof line, file)) {
            line[strcspn (line, "\n")] = 0;
            if (zlistx_find (keys, line))
                fail_msg ("note %s sent twice", line);
            zlistx_add_end (keys, strdup (line));
            lines++;
        }
        if (file)
            fclose (file);
        if (lines < count)
            zclock_sleep (50); //  polling interval: the notes come from other processes
    }
    zlistx_destroy (&keys);
    assert_int_equal (lines, count);
}

static void
test_partitions_are_shared_and_move (void **state)
{
    //  Alone, a claims every partition (nothing was released before: it waits one lease).
    s_start (&s_a);
    int64_t alone = harness_cluster_wait_shared (s_nodes, 1, S_PARTITIONS, 30000);
    assert_true (alone >= 0);
    //  b joins: a hands some over by a clean release, b claims them; none is owned twice.
    s_start (&s_b);
    int64_t shared = harness_cluster_wait_shared (s_nodes, 2, S_PARTITIONS, 60000);
    assert_true (shared >= 0);
    printf ("cluster-owner: a alone owned %d partitions in %lld ms; shared with b in %lld ms\n",
            S_PARTITIONS, (long long)alone, (long long)shared);
    //  Each takes submissions (ids of its own partitions), and each job moves once, by the demo
    //  of the instance that owns it: the other's observations are refused.
    assert_int_equal (s_submit (&s_a, S_JOBS), S_JOBS);
    assert_int_equal (s_submit (&s_b, S_JOBS), S_JOBS);
    assert_true (harness_cluster_wait_ended (&s_a, 2 * S_JOBS, 30000));
    assert_true (harness_cluster_wait_ended (&s_b, 2 * S_JOBS, 30000));
    //  Every instance's notifier reads every transition; each success is notified once.
    s_check_notes (harness_count (&s_a, JOBD_STATE_SUCCEEDED), 20000);
    //  b dies: once the group dropped it, a claims its partitions and acts on their jobs.
    harness_stop (&s_b, SIGKILL, 5000);
    int64_t takeover = harness_cluster_wait_shared (s_nodes, 1, S_PARTITIONS, 60000);
    assert_true (takeover >= 0);
    printf ("cluster-owner: a took b's partitions %lld ms after b's SIGKILL\n",
            (long long)takeover);
    assert_int_equal (s_submit (&s_a, S_JOBS), S_JOBS);
    assert_true (harness_cluster_wait_ended (&s_a, 3 * S_JOBS, 30000));
    //  b back: it catches up, and gets a share again.
    s_start (&s_b);
    assert_true (harness_cluster_wait_shared (s_nodes, 2, S_PARTITIONS, 60000) >= 0);
    assert_true (harness_cluster_wait_ended (&s_b, 3 * S_JOBS, 30000));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_partitions_are_shared_and_move)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
