//  Cluster mode, the lease (docs/cluster.md section 8 (b), issue 18). An instance cut from Kafka
//  (netcut.so: its broker connections dropped, Spark still reachable) stops acting on its jobs
//  before the instance that takes its partitions starts; when Kafka is back it learns it was
//  replaced, rejoins, and gets a share again. An instance stopped (SIGSTOP) past its session
//  wakes up with its lease run out: it sends nothing under its old claim, though librdkafka has
//  not told it yet that it lost its partitions. spark-sim counts requests made under a
//  superseded claim (X-Jobd-Epoch): none may come. While b owns partitions it does not act on,
//  its http plugin's /readyz says so. Against librdkafka's mock cluster (tools/kafka-mock, over
//  loopback).
#include "harness_cluster.h"
#include "harness_spark.h"
#include "http_client.h"
#include "jobd_cl_msg.h"
#include "jobd_reply.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_PARTITIONS 4
#define S_JOBS       8 //  Spark jobs submitted to each instance

static harness_t s_a, s_b;
static harness_t *const s_nodes[2] = {&s_a, &s_b};
static harness_proc_t s_mock, s_sim;
static char s_brokers[256];
static char s_cut[600]; //  b is cut from Kafka while this file exists
static int s_port;
static int s_http_port; //  b's http plugin

static int
s_setup (void **state)
{
    harness_init (&s_a, "cluster-lease-a");
    harness_init (&s_b, "cluster-lease-b");
    const char *const args[] = {
        "--brokers",        "3",       "--topic",        "jobd.jobs:4", "--topic",
        "jobd.changelog:4", "--topic", "jobd.replies:1", NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_a, args, s_brokers, sizeof s_brokers), 0);
    s_port = harness_spark_sim (&s_sim, &s_a, NULL);
    assert_true (s_port > 0);
    snprintf (s_cut, sizeof s_cut, "%s/cut", s_b.dir);
    harness_cluster_spark_config (&s_a, "node-a", s_brokers, S_PARTITIONS, s_port, "",
                                  "    lease = 1s\n");
    s_http_port = http_free_port ();
    char http[512];
    snprintf (http, sizeof http,
              "    http\n"
              "        path = %s/plugins/http.so\n"
              "        port = %d\n",
              harness_build_dir (), s_http_port);
    harness_cluster_spark_config (&s_b, "node-b", s_brokers, S_PARTITIONS, s_port, http,
                                  "    lease = 1s\n");
    return 0;
}

//  One partition: the instance that owns it keeps it while the other joins (sticky assignment).
static int
s_setup_one (void **state)
{
    harness_init (&s_a, "cluster-settle-a");
    harness_init (&s_b, "cluster-settle-b");
    const char *const args[] = {"--topic", "jobd.jobs:1",    "--topic", "jobd.changelog:1",
                                "--topic", "jobd.replies:1", NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_a, args, s_brokers, sizeof s_brokers), 0);
    s_port = harness_spark_sim (&s_sim, &s_a, NULL);
    assert_true (s_port > 0);
    snprintf (s_cut, sizeof s_cut, "%s/cut", s_b.dir);
    harness_cluster_spark_config (&s_a, "node-a", s_brokers, 1, s_port, "", "    lease = 1s\n");
    harness_cluster_spark_config (&s_b, "node-b", s_brokers, 1, s_port, "", "    lease = 1s\n");
    return 0;
}

static int
s_teardown (void **state)
{
    unlink (s_cut);
    harness_stop (&s_a, SIGKILL, 5000);
    harness_stop (&s_b, SIGKILL, 5000);
    kill (s_sim.pid, SIGTERM);
    harness_proc_finish (&s_sim, 10000);
    harness_kafka_mock_stop (&s_mock);
    harness_fini (&s_a);
    harness_fini (&s_b);
    return 0;
}

//  Starts b with netcut.so preloaded: cut from the mock's brokers while s_cut exists.
static void
s_start_cuttable (harness_t *harness)
{
    char preload[1100], spec[1024];
    harness_netcut_env (s_brokers, s_cut, preload, sizeof preload, spec, sizeof spec);
    setenv ("LD_PRELOAD", preload, 1);
    setenv ("JOBD_TEST_NETCUT", spec, 1);
    pid_t pid = harness_start (harness);
    unsetenv ("LD_PRELOAD");
    unsetenv ("JOBD_TEST_NETCUT");
    assert_true (pid > 0);
    assert_true (harness_wait_ready (harness, 30000));
}

//  Asks b's /readyz until it answers 503 with text among its reasons, up to timeout_ms (a
//  state to look at: no event to wait on). True when it did.
static bool
s_not_ready_for (const char *text, int timeout_ms)
{
    char url[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/readyz", s_http_port);
    int64_t deadline = zclock_mono () + timeout_ms;
    bool said = false;
    while (!said && zclock_mono () < deadline) {
        http_answer_t answer;
        if (http_call ("GET", url, NULL, NULL, NULL, &answer) == 0) {
            said = answer.status == 503 && strstr (answer.body, text);
            http_answer_clear (&answer);
        }
        if (!said)
            zclock_sleep (20); //  polling interval
    }
    return said;
}

//  Waits until harness owns no partition it can act on (`jobctl cluster`: none "owned").
//  Returns the ms it took, or -1 past timeout_ms.
static int64_t
s_wait_not_acting (harness_t *harness, int timeout_ms)
{
    int64_t start = zclock_mono (), deadline = start + timeout_ms;
    while (harness_cluster_owned (harness) != 0 && zclock_mono () < deadline)
        zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    return harness_cluster_owned (harness) == 0 ? zclock_mono () - start : -1;
}

//  spark-sim's stats: requests under a superseded claim, and whether every create tag was made
//  once (how many tags into *tags).
static int64_t
s_stale (int *tags)
{
    json_t *stats = harness_spark_call (s_port, "GET", "/sim/stats", NULL);
    assert_non_null (stats);
    const char *tag;
    json_t *count;
    *tags = 0;
    json_object_foreach (json_object_get (stats, "creates"), tag, count)
    {
        if (json_integer_value (count) != 1)
            fail_msg ("%s created %lld times", tag, (long long)json_integer_value (count));
        (*tags)++;
    }
    int64_t stale = json_integer_value (json_object_get (stats, "stale_epoch_requests"));
    json_decref (stats);
    return stale;
}

//  Submits count jobs to each instance (ids of its own partitions), running 12 s each.
static void
s_submit (int count)
{
    char id[JOBD_ID_MAX + 1];
    for (int job = 0; job < count; job++)
        for (int node = 0; node < 2; node++)
            assert_int_equal (harness_spark_submit (s_nodes[node], "master", "com.example.Etl",
                                                    "queue=50,run=12000,outcome=success", id,
                                                    sizeof id),
                              0);
}

static void
test_cut_instance_stops_acting (void **state)
{
    assert_true (harness_start (&s_a) > 0);
    assert_true (harness_wait_ready (&s_a, 30000));
    s_start_cuttable (&s_b);
    assert_true (harness_cluster_wait_shared (s_nodes, 2, S_PARTITIONS, 60000) >= 0);
    s_submit (S_JOBS);
    assert_true (harness_wait_count (&s_a, JOBD_STATE_RUNNING, 2 * S_JOBS, 30000));
    //  b cut from Kafka: its lease runs out and it stops acting, within the lease and a renewal.
    FILE *file = fopen (s_cut, "w");
    assert_non_null (file);
    fclose (file);
    //  Owner of partitions it may not act on: not ready, until the group drops it.
    assert_true (s_not_ready_for ("cluster: lease expired on partition", 10000));
    int64_t stopped = s_wait_not_acting (&s_b, 10000);
    assert_true (stopped >= 0);
    //  The group drops b; a claims its partitions and, after a lease, polls its jobs.
    int64_t taken = harness_cluster_wait_shared (s_nodes, 1, S_PARTITIONS, 60000);
    assert_true (taken >= 0);
    printf ("cluster-lease: b cut from Kafka stopped acting after %lld ms; a owned every "
            "partition %lld ms later\n",
            (long long)stopped, (long long)taken);
    //  Kafka back: b learns a's claims, rejoins, and gets a share again.
    assert_int_equal (unlink (s_cut), 0);
    assert_true (harness_cluster_wait_shared (s_nodes, 2, S_PARTITIONS, 60000) >= 0);
    int tags = 0;
    assert_int_equal (s_stale (&tags), 0);

    //  b stopped past its session: a takes its partitions. Woken up, b's plugins find its lease
    //  run out on the monotonic clock before its Kafka clients tell it anything: no request
    //  about its jobs goes out under its old claim.
    assert_true (harness_wait_count (&s_a, JOBD_STATE_SUCCEEDED, 2 * S_JOBS, 60000));
    s_submit (S_JOBS);
    assert_true (harness_wait_count (&s_a, JOBD_STATE_RUNNING, 2 * S_JOBS, 30000));
    assert_int_equal (kill (s_b.pid, SIGSTOP), 0);
    assert_true (harness_cluster_wait_shared (s_nodes, 1, S_PARTITIONS, 60000) >= 0);
    assert_int_equal (kill (s_b.pid, SIGCONT), 0);
    assert_true (harness_cluster_wait_shared (s_nodes, 2, S_PARTITIONS, 60000) >= 0);
    assert_true (harness_wait_count (&s_a, JOBD_STATE_SUCCEEDED, 4 * S_JOBS, 60000));
    assert_true (harness_wait_count (&s_b, JOBD_STATE_SUCCEEDED, 4 * S_JOBS, 30000));
    //  No request under a superseded claim, nothing made twice.
    assert_int_equal (s_stale (&tags), 0);
    assert_int_equal (tags, 4 * S_JOBS);
}

//  Writes an instance committed and Kafka never took give way when another instance claims
//  their partition (docs/cluster.md, section 6). b owns the one partition (a submission to a,
//  which owns none, goes to b through the jobs topic); cut from Kafka, it
//  takes a submission: committed in its store, never in the changelog, never answered. a takes
//  the partition over. Back, b reads a's claim, which fences that write: the job b made is gone
//  from b, and b lists what a lists.
static void
test_cut_writes_give_way (void **state)
{
    harness_t *const b_only[1] = {&s_b}, *const a_only[1] = {&s_a};
    s_start_cuttable (&s_b);
    assert_true (harness_cluster_wait_shared (b_only, 1, 1, 60000) >= 0);
    assert_true (harness_start (&s_a) > 0);
    assert_true (harness_wait_ready (&s_a, 30000));
    //  a owns no partition (the one is b's): a submission to it goes to b through the jobs
    //  topic, which makes the job under the id a drew, and answers; then one to b.
    char id[JOBD_ID_MAX + 1];
    for (int job = 0; job < 2; job++)
        assert_int_equal (harness_spark_submit (job ? &s_b : &s_a, "master", "com.example.Etl",
                                                "queue=50,run=600000,outcome=success", id,
                                                sizeof id),
                          0);
    assert_true (harness_wait_count (&s_a, JOBD_STATE_RUNNING, 2, 30000));
    FILE *file = fopen (s_cut, "w");
    assert_non_null (file);
    fclose (file);
    //  The cut in force (netcut.so says so: FILE.on), b still acts (its lease runs a second): it
    //  commits the job and holds its reply until Kafka took it.
    char marker[sizeof s_cut + 8];
    snprintf (marker, sizeof marker, "%s.on", s_cut);
    int64_t deadline = zclock_mono () + 5000;
    while (access (marker, F_OK) != 0 && zclock_mono () < deadline)
        zclock_sleep (2); //  polling interval: the marker is a file
    assert_int_equal (access (marker, F_OK), 0);
    zsock_t *submission = harness_spark_submit_start (&s_b, "master", "com.example.Etl",
                                                      "queue=50,run=600000,outcome=success");
    assert_non_null (submission);
    deadline = zclock_mono () + 5000;
    while (harness_count (&s_b, JOBD_STATE_QUEUED) != 1 && zclock_mono () < deadline)
        zclock_sleep (20); //  polling interval: jobd has no "tell me when" query
    assert_int_equal (harness_count (&s_b, JOBD_STATE_QUEUED), 1);
    assert_true (harness_cluster_wait_shared (a_only, 1, 1, 60000) >= 0);
    assert_int_equal (unlink (s_cut), 0);
    //  b lists what a lists (each job as JSON: its record, no clock), soon.
    static char a_out[1 << 14], b_out[1 << 14];
    char err[1024];
    const char *a_ls[] = {"-c", s_a.config, "-o", "jsonl", "ls", NULL};
    const char *b_ls[] = {"-c", s_b.config, "-o", "jsonl", "ls", NULL};
    int64_t back = zclock_mono ();
    deadline = back + 30000;
    bool same = false;
    while (!same && zclock_mono () < deadline) {
        same = harness_run_bin ("jobctl", a_ls, a_out, sizeof a_out, err, sizeof err) == 0 &&
               harness_run_bin ("jobctl", b_ls, b_out, sizeof b_out, err, sizeof err) == 0 &&
               strcmp (a_out, b_out) == 0;
        if (!same)
            zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    }
    if (!same)
        fail_msg ("b lists\n%sa lists\n%s", b_out, a_out);
    printf ("cluster-lease: b settled the write a's claim fenced %lld ms after Kafka was back\n",
            (long long)(zclock_mono () - back));
    //  The job b made is gone from b. Its settle removed it (the changelog never had it), or,
    //  when Kafka took the write after a's claim and b's replica read a's claim, that write and
    //  a's repair of its key in one go, before the settle ran, the repair's "gone" did.
    char line[1024];
    if (harness_log_line (&s_b, "1 it never had are removed", line, sizeof line))
        printf ("cluster-lease: b's log: %s\n", strstr (line, "partition"));
    else {
        assert_true (harness_log_line (&s_b, "are fenced (dropped)", line, sizeof line));
        printf ("cluster-lease: b's log: %s\n", strstr (line, "partition"));
        assert_true (harness_log_line (&s_a, "whose last changelog message was a fenced write",
                                       line, sizeof line));
        printf ("cluster-lease: a's log: %s\n", strstr (line, "partition"));
    }
    assert_int_equal (harness_count (&s_b, JOBD_STATE_QUEUED), 0);
    //  Kafka took the write after a's claim: its reply says so, not "stored".
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (harness_request_finish (&submission, &unpacked, 30000), 0);
    jobd_reply_t reply;
    assert_int_equal (jobd_reply_read (&unpacked.data, &reply, NULL, 0), 0);
    msgpack_unpacked_destroy (&unpacked);
    if (reply.ok)
        fail_msg ("the submission of a write a's claim fenced was answered stored (job %s)",
                  reply.job);
    assert_string_equal (reply.error, "ENOTOWNER");
    //  When Kafka took it (after a's claim: fenced), a, the owner, writes the job's key again,
    //  so that a compacted changelog keeps no fenced record of it.
    if (harness_log_line (&s_a, "are fenced (dropped)", line, sizeof line)) {
        printf ("cluster-lease: a's log: %s\n", strstr (line, "partition"));
        assert_true (
            harness_wait_log (&s_a, "whose last changelog message was a fenced write", 10000));
    } else
        printf ("cluster-lease: Kafka refused b's write: a read nothing fenced\n");
    int tags = 0;
    assert_int_equal (s_stale (&tags), 0);
    assert_int_equal (tags, 2);
}

//  A claim no instance the group assigned the partition to wrote (a zombie's that landed late;
//  here produced by the test, epoch 1000): the owner stops acting, and, still assigned the
//  partition a session timeout later, claims it again (epoch 1001) and acts: the partition is
//  not left with no owner until the next rebalance.
static void
test_stray_claim_is_overruled (void **state)
{
    harness_t *const b_only[1] = {&s_b};
    assert_true (harness_start (&s_b) > 0);
    assert_true (harness_wait_ready (&s_b, 30000));
    assert_true (harness_cluster_wait_shared (b_only, 1, 1, 60000) >= 0);
    char id[JOBD_ID_MAX + 1];
    assert_int_equal (harness_spark_submit (&s_b, "master", "com.example.Etl",
                                            "queue=50,run=600000,outcome=success", id, sizeof id),
                      0);
    jobd_cl_msg_t claim = {.kind = JOBD_CL_OWNER, .epoch = 1000, .claim = true};
    snprintf (claim.inst, sizeof claim.inst, "ghost");
    snprintf (claim.name, sizeof claim.name, "ghost-member");
    msgpack_sbuffer key, value;
    msgpack_sbuffer_init (&key);
    msgpack_sbuffer_init (&value);
    assert_int_equal (jobd_cl_msg_encode (&claim, &key, &value), 0);
    rd_kafka_t *producer = harness_kafka_client (s_brokers, RD_KAFKA_PRODUCER, NULL);
    assert_non_null (producer);
    assert_int_equal (rd_kafka_producev (producer, RD_KAFKA_V_TOPIC ("jobd.changelog"),
                                         RD_KAFKA_V_PARTITION (0),
                                         RD_KAFKA_V_KEY (key.data, key.size),
                                         RD_KAFKA_V_VALUE (value.data, value.size),
                                         RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                      RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal (rd_kafka_flush (producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy (producer);
    msgpack_sbuffer_destroy (&key);
    msgpack_sbuffer_destroy (&value);
    int64_t produced = zclock_mono ();
    assert_true (harness_wait_log (&s_b, "ghost claimed it (epoch 1000)", 10000));
    //  Meanwhile a cancel goes through the jobs topic (b does not act on the partition): it is
    //  kept for b, not dropped when b claims the partition again.
    char out[1024], err[1024];
    const char *cancel[] = {"-c", s_b.config, "--timeout", "20000", "cancel", id, NULL};
    int code = harness_run_bin ("jobctl", cancel, out, sizeof out, err, sizeof err);
    if (code)
        fail_msg ("the cancel sent while b did not act was not applied: %s", err);
    assert_true (harness_wait_log (&s_b, "claiming it again", 30000));
    assert_true (harness_cluster_wait_shared (b_only, 1, 1, 30000) >= 0);
    printf ("cluster-lease: b owned its partition again %lld ms after a stray claim\n",
            (long long)(zclock_mono () - produced));
    char line[1024];
    assert_true (harness_log_line (&s_b, "(epoch 1001)", line, sizeof line));
    assert_int_equal (harness_spark_submit (&s_b, "master", "com.example.Etl",
                                            "queue=50,run=100,outcome=success", id, sizeof id),
                      0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_cut_instance_stops_acting, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cut_writes_give_way, s_setup_one, s_teardown),
        cmocka_unit_test_setup_teardown (test_stray_claim_is_overruled, s_setup_one, s_teardown)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
