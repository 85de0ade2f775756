//  kafka-listener against librdkafka's mock cluster (real Kafka protocol over loopback TCP):
//  status events become transitions, bad payloads land in the dead-letter topic intact, every
//  transition goes out on the outbound topic, replaying the whole topic changes nothing, and a
//  RUNNING job that stays silent past its heartbeat deadline is stale, then LOST.
#include "harness_kafka.h"
#include "jobd_map.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <string.h>

static harness_t s_harness;
static harness_proc_t s_mock;
static char s_brokers[256];

static void
s_config_with (const char *group, const char *more)
{
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    kafka-listener\n"
              "        path = %s/plugins/kafka-listener.so\n"
              "        brokers = %s\n"
              "        group = %s\n"
              "        topics = jobd.status\n"
              "        transitions = jobd.transitions\n"
              "%s",
              harness_build_dir (), s_brokers, group, more);
    harness_write_config (&s_harness, extra);
}

static void
s_config (const char *group)
{
    s_config_with (group, "");
}

static int
s_setup (void **state)
{
    harness_init (&s_harness, "kafka");
    const char *const args[] = {"--topic", "jobd.status:2",      "--topic", "jobd.dead-letter:1",
                                "--topic", "jobd.transitions:1", NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_harness, args, s_brokers, sizeof s_brokers),
                      0);
    return 0;
}

static int
s_teardown (void **state)
{
    kill (s_mock.pid, SIGTERM);
    harness_proc_finish (&s_mock, 10000);
    harness_fini (&s_harness);
    return 0;
}

static rd_kafka_t *
s_client (rd_kafka_type_t type)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char error[256];
    rd_kafka_conf_set (conf, "bootstrap.servers", s_brokers, error, sizeof error);
    if (type == RD_KAFKA_CONSUMER) { //  assign needs a group id, though it never joins
        rd_kafka_conf_set (conf, "group.id", "jobd-test-reader", error, sizeof error);
        rd_kafka_conf_set (conf, "enable.auto.commit", "false", error, sizeof error);
    }
    rd_kafka_t *client = rd_kafka_new (type, conf, error, sizeof error);
    assert_non_null (client);
    return client;
}

static void
s_produce (rd_kafka_t *producer, const char *key, const char *value)
{
    assert_int_equal (rd_kafka_producev (producer, RD_KAFKA_V_TOPIC ("jobd.status"),
                                         RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_KEY (key, strlen (key)),
                                         RD_KAFKA_V_VALUE ((void *)value, strlen (value)),
                                         RD_KAFKA_V_END),
                      0);
}

//  A message read back, copied: librdkafka's own messages must be gone before its handle is.
typedef struct {
    char payload[1024];
    size_t size;
    char reason[256]; //  the jobd-reason header, when there is one
} s_message_t;

//  Reads a whole topic partition from the start, up to count messages or the deadline.
static size_t
s_read_topic (const char *topic, s_message_t *messages, size_t count, int timeout_ms)
{
    rd_kafka_t *consumer = s_client (RD_KAFKA_CONSUMER);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (1);
    rd_kafka_topic_partition_list_add (list, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    //  assign, not subscribe: no group join.
    assert_int_equal (rd_kafka_assign (consumer, list), 0);
    rd_kafka_topic_partition_list_destroy (list);
    size_t got = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    while (got < count && zclock_mono () < deadline) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll (consumer, 100);
        if (message && !message->err) {
            s_message_t *copy = &messages[got++];
            memset (copy, 0, sizeof *copy);
            copy->size =
                message->len < sizeof copy->payload ? message->len : sizeof copy->payload - 1;
            memcpy (copy->payload, message->payload, copy->size);
            rd_kafka_headers_t *headers = NULL;
            const void *reason = NULL;
            size_t reason_size = 0;
            if (rd_kafka_message_headers (message, &headers) == 0 &&
                rd_kafka_header_get_last (headers, "jobd-reason", &reason, &reason_size) == 0)
                snprintf (copy->reason, sizeof copy->reason, "%.*s", (int)reason_size,
                          (const char *)reason);
        }
        if (message)
            rd_kafka_message_destroy (message);
    }
    //  Not a group member: nothing to leave or commit on the way out.
    rd_kafka_destroy_flags (consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return got;
}

static void
test_events_dead_letters_and_replay (void **state)
{
    s_config ("jobd-test");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER);
    s_produce (producer, "orders-sync",
               "{\"ext\":\"orders-sync\",\"name\":\"orders sync\","
               "\"state\":\"STARTED\"}");
    s_produce (producer, "orders-sync", "{\"ext\":\"orders-sync\",\"state\":\"COMPLETED\"}");
    s_produce (producer, "fx-stream", "{\"ext\":\"fx-stream\",\"state\":\"RUNNING\"}");
    s_produce (
        producer, "fx-stream",
        "{\"ext\":\"fx-stream\",\"state\":\"ERROR\",\"error\":\"org.apache.kafka.common."
        "errors.TimeoutException: sink timed out\\n\\tat com.acme.Sink.write(Sink.java:42)\"}");
    s_produce (producer, "junk", "not json at all");
    s_produce (producer, "junk", "{\"ext\":\"x\"}");
    assert_int_equal (rd_kafka_flush (producer, 10000), 0);
    rd_kafka_destroy (producer);

    //  The group join on the mock takes about 3 s.
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_SUCCEEDED, 1, 30000));
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_FAILED, 1, 10000));

    //  Both bad payloads, unchanged, with their reason.
    static s_message_t messages[4];
    assert_int_equal (s_read_topic ("jobd.dead-letter", messages, 2, 10000), 2);
    bool saw_junk = false;
    for (size_t index = 0; index < 2; index++) {
        assert_true (strlen (messages[index].reason) > 0);
        saw_junk = saw_junk || (messages[index].size == 15 &&
                                !memcmp (messages[index].payload, "not json at all", 15));
    }
    assert_true (saw_junk);

    //  Every transition on the outbound topic: 2 per job here (new -> RUNNING -> final).
    assert_int_equal (s_read_topic ("jobd.transitions", messages, 4, 10000), 4);
    size_t causes = 0;
    for (size_t index = 0; index < 4; index++) {
        assert_non_null (strstr (messages[index].payload, "\"seq\":"));
        //  The failure's one-line cause goes with its full error (jobd derives it here).
        causes += strstr (messages[index].payload,
                          "\"cause\":\"TimeoutException: sink timed out\"") != NULL;
    }
    assert_int_equal (causes, 1);
    //  And jobctl shows it: ls in the row, show beside the whole error.
    static char out[16384];
    char err[4096];
    const char *ls[] = {"--run-dir", s_harness.run_dir, "ls", "--state", "FAILED", NULL};
    assert_int_equal (harness_run_bin ("jobctl", ls, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, "TimeoutException: sink timed out\n"));
    const char *id = strstr (out, "job-");
    assert_non_null (id);
    char job[32];
    snprintf (job, sizeof job, "%.*s", (int)strcspn (id, " "), id);
    const char *show[] = {"--run-dir", s_harness.run_dir, "show", job, NULL};
    assert_int_equal (harness_run_bin ("jobctl", show, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, "cause:        TimeoutException: sink timed out\n"));
    assert_non_null (strstr (out, "\tat com.acme.Sink.write(Sink.java:42)"));

    //  Replay: a new group reads the topic from offset 0. Nothing changes in the store.
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    s_config ("jobd-replay");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    //  Wait until the replayed events were answered: known by their topic, partition and
    //  offset, they are counted as replayed, whatever the state machine would say.
    int64_t deadline = zclock_mono () + 30000;
    static const char query[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1t\xa1q\xa5stats";
    uint64_t repeats = 0;
    while (repeats < 4 && zclock_mono () < deadline) {
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        if (harness_request (&s_harness, query, sizeof query - 1, &reply, 1000) == 0) {
            const msgpack_object *broker = jobd_map_lookup (&reply.data, "broker");
            const msgpack_object *replayed = jobd_map_lookup (broker, "replayed");
            repeats = replayed ? replayed->via.u64 : 0;
        }
        msgpack_unpacked_destroy (&reply);
        if (repeats < 4)
            zclock_sleep (50); //  polling a counter with a deadline: no event to wait on
    }
    assert_true (repeats >= 4);
    assert_int_equal (harness_count (&s_harness, JOBD_STATE_SUCCEEDED), 1);
    assert_int_equal (harness_count (&s_harness, JOBD_STATE_FAILED), 1);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  Observations sent one by one, as to a jobd without batch events (batch = false): the same
//  transitions, and every offset committed once the broker answered.
static void
test_one_by_one_without_batches (void **state)
{
    s_config_with ("jobd-single", "        batch = false\n");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER);
    for (int index = 0; index < 20; index++) {
        char ext[32], value[128];
        snprintf (ext, sizeof ext, "single-%d", index);
        snprintf (value, sizeof value, "{\"ext\":\"%s\",\"state\":\"RUNNING\"}", ext);
        s_produce (producer, ext, value);
        snprintf (value, sizeof value, "{\"ext\":\"%s\",\"state\":\"DONE\"}", ext);
        s_produce (producer, ext, value);
    }
    assert_int_equal (rd_kafka_flush (producer, 10000), 0);
    rd_kafka_destroy (producer);
    int64_t before = harness_count (&s_harness, JOBD_STATE_SUCCEEDED);
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_SUCCEEDED, before + 20, 30000));
    //  Every offset committed: the group's committed offsets reach the end of both partitions
    //  (commits follow the broker's answers, so they are awaited with a deadline).
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char error[256];
    rd_kafka_conf_set (conf, "bootstrap.servers", s_brokers, error, sizeof error);
    rd_kafka_conf_set (conf, "group.id", "jobd-single", error, sizeof error);
    rd_kafka_t *reader = rd_kafka_new (RD_KAFKA_CONSUMER, conf, error, sizeof error);
    assert_non_null (reader);
    int64_t end = 0, committed = -1, deadline = zclock_mono () + 20000;
    for (int32_t partition = 0; partition < 2; partition++) {
        int64_t low, high;
        assert_int_equal (
            rd_kafka_query_watermark_offsets (reader, "jobd.status", partition, &low, &high, 5000),
            0);
        end += high;
    }
    while (committed != end && zclock_mono () < deadline) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (2);
        rd_kafka_topic_partition_list_add (list, "jobd.status", 0);
        rd_kafka_topic_partition_list_add (list, "jobd.status", 1);
        committed = 0;
        if (rd_kafka_committed (reader, list, 5000) == 0)
            for (int index = 0; index < list->cnt; index++)
                committed += list->elems[index].offset > 0 ? list->elems[index].offset : 0;
        rd_kafka_topic_partition_list_destroy (list);
        if (committed != end)
            zclock_sleep (100); //  polling the group's offsets with a deadline: no event to wait on
    }
    if (committed != end) {
        //  For whoever reads the failure: what jobd said meanwhile.
        char text[4096] = "";
        FILE *file = fopen (s_harness.log, "r");
        if (file) {
            fseek (file, 0, SEEK_END);
            long length = ftell (file);
            fseek (file, length > 4000 ? length - 4000 : 0, SEEK_SET);
            text[fread (text, 1, sizeof text - 1, file)] = 0;
            fclose (file);
        }
        fprintf (stderr, "committed %lld of %lld; jobd's log ends:\n%s\n", (long long)committed,
                 (long long)end, text);
    }
    assert_int_equal (committed, end);
    rd_kafka_destroy_flags (reader, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    assert_int_equal (harness_count (&s_harness, JOBD_STATE_SUCCEEDED), before + 20);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  jobctl's output for one command against the harness's jobd.
static int
s_jobctl (char *out, size_t out_size, const char *command, const char *arg)
{
    char binary[512];
    char *argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                    "--run-dir",
                    s_harness.run_dir,
                    "--store",
                    s_harness.store,
                    (char *)command,
                    (char *)arg,
                    NULL};
    return harness_run (argv, out, out_size, NULL, 0, 20000);
}

//  Asks jobctl plugins until its output holds text, up to timeout ms (polling a report: no event
//  to wait on). True when it did; the last output in out, and on stderr when it did not.
static bool
s_plugins_say (const char *text, char *out, size_t size, int timeout)
{
    int64_t deadline = zclock_mono () + timeout;
    bool said = false;
    while (!said && zclock_mono () < deadline) {
        assert_int_equal (s_jobctl (out, size, "plugins", NULL), 0);
        said = strstr (out, text) != NULL;
        if (!said)
            zclock_sleep (50);
    }
    if (!said)
        fprintf (stderr, "jobctl plugins said:\n%s", out);
    return said;
}

static void
test_heartbeats_stale_then_lost (void **state)
{
    //  Jobs of kind kafka promise a status event every 400 ms; one job promises its own 10 s;
    //  a job of another kind promises 300 ms in its events.
    s_config_with ("jobd-heartbeat", "        heartbeat = 400ms\n"
                                     "        stale_grace = 400ms\n"
                                     "        status_interval = 200ms\n");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    zsock_t *sub = zsock_new_sub (s_harness.events, "stale.");
    assert_non_null (sub);
    zsock_set_rcvtimeo (sub, 30000);
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER);
    s_produce (producer, "quiet", "{\"ext\":\"quiet\",\"state\":\"STARTED\"}");
    s_produce (producer, "chatty",
               "{\"ext\":\"chatty\",\"state\":\"STARTED\",\"heartbeat\":10000}");
    s_produce (producer, "promised",
               "{\"ext\":\"promised\",\"kind\":\"batch\",\"state\":\"STARTED\","
               "\"heartbeat\":300}");
    assert_int_equal (rd_kafka_flush (producer, 10000), 0);

    //  The silent ones are said stale first (published on stale.<job>), then they are LOST.
    char *topic = NULL;
    zframe_t *payload = NULL;
    assert_int_equal (zsock_recv (sub, "sf", &topic, &payload), 0);
    jobd_event_t *event = NULL;
    assert_int_equal (
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0), 0);
    assert_int_equal (event->type, JOBD_EVENT_STALE);
    assert_int_equal (event->state, JOBD_STATE_RUNNING);
    assert_true (event->last_seen > 0);
    jobd_event_destroy (&event);
    zframe_destroy (&payload);
    zstr_free (&topic);
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_LOST, 2, 30000));
    //  The one that promised 10 s is still running: its own promise beats its kind's.
    assert_int_equal (harness_count (&s_harness, JOBD_STATE_RUNNING), 1);
    char out[8192];
    assert_int_equal (s_jobctl (out, sizeof out, "ls", "--json"), 0);
    assert_non_null (strstr (out, "RUNNING and no word from its source for more than 400ms (its "
                                  "heartbeat), then 400ms of grace: declared LOST by jobd"));

    //  A lost job that speaks again is RUNNING again (promising a minute, not to be lost again
    //  while the test looks).
    s_produce (producer, "quiet",
               "{\"ext\":\"quiet\",\"state\":\"HEARTBEAT\",\"heartbeat\":60000}");
    assert_int_equal (rd_kafka_flush (producer, 10000), 0);
    rd_kafka_destroy (producer);
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_RUNNING, 2, 30000));

    //  jobctl plugins tells the Kafka side's state.
    assert_true (s_plugins_say ("brokers up 1/1", out, sizeof out, 20000));
    //  And its figures, in --json: the brokers up and the partition's lag among them.
    assert_int_equal (s_jobctl (out, sizeof out, "plugins", "--json"), 0);
    if (!strstr (out, "[\"kafka_brokers_up\",1,") || !strstr (out, "\"kafka_consumer_lag\",") ||
        !strstr (out, "\"kafka_consumed_total\","))
        fail_msg ("jobctl plugins --json lacks the listener's figures:\n%s", out);
    zsock_destroy (&sub);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  jobctl plugins says a job went stale and LOST when it happens, not at the next statistics
//  (status_interval, an hour here): the listener reports at once.
static void
test_silence_is_reported_at_once (void **state)
{
    s_config_with ("jobd-silence", "        heartbeat = 300ms\n"
                                   "        stale_grace = 300ms\n"
                                   "        status_interval = 1h\n");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER);
    s_produce (producer, "quiet", "{\"ext\":\"quiet\",\"state\":\"STARTED\"}");
    assert_int_equal (rd_kafka_flush (producer, 10000), 0);
    rd_kafka_destroy (producer);
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_LOST, 1, 30000));
    char out[8192];
    assert_true (s_plugins_say ("(stale 1, lost 1 in all)", out, sizeof out, 5000));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_events_dead_letters_and_replay),
                                       cmocka_unit_test (test_one_by_one_without_batches),
                                       cmocka_unit_test (test_heartbeats_stale_then_lost),
                                       cmocka_unit_test (test_silence_is_reported_at_once)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
