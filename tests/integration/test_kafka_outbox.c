//  kafka-listener's outbound topic while Kafka is away: transitions wait in the store's
//  transition log, survive a SIGKILL of jobd, and go out in order, each once, when the brokers
//  return (librdkafka's mock cluster over loopback TCP, a broker taken down and up by command).
#include "harness_kafka.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <string.h>

#define S_JOBS 20 //  jobs made while Kafka is down, 3 transitions each

static harness_t s_harness;
static harness_proc_t s_mock;
static char s_brokers[256];

static int
s_setup (void **state)
{
    harness_init (&s_harness, "kafka-outbox");
    const char *const args[] = {"--commands",         "--topic", "jobd.status:1", "--topic",
                                "jobd.transitions:3", NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_harness, args, s_brokers, sizeof s_brokers),
                      0);
    char extra[1024];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    kafka-listener\n"
              "        path = %s/plugins/kafka-listener.so\n"
              "        brokers = %s\n"
              "        transitions = jobd.transitions\n"
              "        status_interval = 200ms\n",
              harness_build_dir (), s_brokers);
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_stop (&s_harness, SIGKILL, 5000);
    harness_proc_say (&s_mock, "quit");
    harness_proc_finish (&s_mock, 10000);
    harness_fini (&s_harness);
    return 0;
}

//  Runs jobctl with up to 8 arguments; returns its exit code.
static int
s_jobctl (const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
          const char *a6, const char *a7, const char *a8)
{
    char binary[512], out[4096], err[4096];
    char *argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                    "--run-dir",
                    s_harness.run_dir,
                    (char *)a1,
                    (char *)a2,
                    (char *)a3,
                    (char *)a4,
                    (char *)a5,
                    (char *)a6,
                    (char *)a7,
                    (char *)a8,
                    NULL};
    int rc = harness_run (argv, out, sizeof out, err, sizeof err, 20000);
    if (rc)
        fprintf (stderr, "jobctl %s: %d: %s", a1, rc, err);
    return rc;
}

//  Makes a job (track) and moves it to RUNNING and SUCCEEDED: 3 transitions.
static void
s_job (int number)
{
    char ext[32], id[32];
    snprintf (ext, sizeof ext, "ext-%d", number);
    assert_int_equal (s_jobctl ("track", ext, "--kind", "batch", "--backend", "b", NULL, NULL), 0);
    snprintf (id, sizeof id, "job-%d", number + 1); //  ids are given in order
    assert_int_equal (s_jobctl ("observe", id, "RUNNING", NULL, NULL, NULL, NULL, NULL), 0);
    assert_int_equal (s_jobctl ("observe", id, "SUCCEEDED", NULL, NULL, NULL, NULL, NULL), 0);
}

static void
s_say (const char *command)
{
    assert_true (harness_kafka_command (&s_mock, command, "ok"));
}

//  The outbound topic, read from the start of every partition: per job, the seqs in the order
//  they came. Returns how many messages were read once count arrived or the deadline passed.
static size_t
s_read_transitions (size_t count, uint64_t seqs[S_JOBS + 2][4], size_t lengths[S_JOBS + 2],
                    int timeout_ms)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char error[256];
    rd_kafka_conf_set (conf, "bootstrap.servers", s_brokers, error, sizeof error);
    rd_kafka_conf_set (conf, "group.id", "outbox-reader", error, sizeof error);
    rd_kafka_t *consumer = rd_kafka_new (RD_KAFKA_CONSUMER, conf, error, sizeof error);
    assert_non_null (consumer);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (3);
    for (int partition = 0; partition < 3; partition++)
        rd_kafka_topic_partition_list_add (list, "jobd.transitions", partition)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal (rd_kafka_assign (consumer, list), 0);
    rd_kafka_topic_partition_list_destroy (list);
    memset (lengths, 0, sizeof (size_t) * (S_JOBS + 2));
    size_t got = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    while (got < count && zclock_mono () < deadline) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll (consumer, 100);
        if (message && !message->err) {
            json_t *json = json_loadb (message->payload, message->len, 0, NULL);
            const char *job = json_string_value (json_object_get (json, "job"));
            int number = job ? atoi (job + 4) : 0;
            assert_true (number >= 1 && number <= S_JOBS + 2);
            //  Keyed by job id: one job, one partition, its order kept.
            assert_int_equal ((int)message->key_len, (int)strlen (job));
            size_t *length = &lengths[number - 1];
            assert_true (*length < 4);
            seqs[number - 1][(*length)++] =
                (uint64_t)json_integer_value (json_object_get (json, "seq"));
            json_decref (json);
            got++;
        }
        if (message)
            rd_kafka_message_destroy (message);
    }
    rd_kafka_destroy_flags (consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return got;
}

static void
test_transitions_wait_durably_while_kafka_is_away (void **state)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    //  The topic begins when the plugin first sets its cursor (on its own thread, maybe after
    //  jobd says it is ready): a job tracked before that is not its to send.
    assert_true (harness_wait_log (&s_harness, "transitions go to", 10000));
    //  One job while Kafka is there: its transition goes out (the plugin's cursor is set).
    assert_int_equal (
        s_jobctl ("track", "ext-first", "--kind", "batch", "--backend", "b", NULL, NULL), 0);
    uint64_t seqs[S_JOBS + 2][4];
    size_t lengths[S_JOBS + 2];
    assert_int_equal (s_read_transitions (1, seqs, lengths, 20000), 1);

    //  Kafka goes away; jobs move on; jobd is killed with everything still unsent.
    s_say ("down all");
    for (int number = 1; number <= S_JOBS; number++)
        s_job (number);
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_SUCCEEDED, S_JOBS, 10000));
    assert_int_equal (harness_stop (&s_harness, SIGKILL, 5000), 128 + SIGKILL);

    //  Restarted while Kafka is still away: one more transition queues behind the others.
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    assert_int_equal (
        s_jobctl ("track", "ext-last", "--kind", "batch", "--backend", "b", NULL, NULL), 0);
    s_say ("up all");

    //  Every transition, each once, in order per job.
    size_t total = 1 + 3 * S_JOBS + 1;
    assert_int_equal (s_read_transitions (total, seqs, lengths, 60000), total);
    assert_int_equal (lengths[0], 1);
    for (int number = 1; number <= S_JOBS; number++) {
        assert_int_equal (lengths[number], 3);
        for (size_t index = 0; index < 3; index++)
            assert_int_equal (seqs[number][index], index + 1);
    }
    assert_int_equal (lengths[S_JOBS + 1], 1);
    //  The plugin says nothing waits for Kafka any more.
    int64_t deadline = zclock_mono () + 20000;
    bool drained = false;
    while (!drained && zclock_mono () < deadline) {
        char binary[512], out[4096];
        char *argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary), "--run-dir",
                        s_harness.run_dir, "plugins", NULL};
        assert_int_equal (harness_run (argv, out, sizeof out, NULL, 0, 20000), 0);
        drained = strstr (out, "transitions out 1, awaiting Kafka 0") ||
                  strstr (out, "awaiting Kafka 0, failed 0") != NULL;
        if (!drained)
            zclock_sleep (100); //  polling a report with a deadline: no event to wait on
    }
    assert_true (drained);
    //  This run applied one event (ext-last); the plugin's cursor moves are not counted as such.
    char binary[512], out[8192];
    char *argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                    "--run-dir",
                    s_harness.run_dir,
                    "stats",
                    "--json",
                    NULL};
    assert_int_equal (harness_run (argv, out, sizeof out, NULL, 0, 20000), 0);
    json_t *stats = json_loads (out, 0, NULL);
    assert_non_null (stats);
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (stats, "broker"), "applied")), 1);
    json_decref (stats);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_transitions_wait_durably_while_kafka_is_away)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
