//  kafka-listener's dead letters against librdkafka's mock cluster (real Kafka protocol over
//  loopback TCP): a message is never committed past before it is applied or its dead letter is
//  confirmed by Kafka; a payload too large for the dead-letter topic is kept in a form that fits
//  (its first bytes, its size and SHA-256); a msgpack event that is not UTF-8 is dead-lettered as
//  its JSON twin is, and never registers a job.
#include "harness_kafka.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static harness_t s_harness;
static harness_proc_t s_mock;
static char s_brokers[256];

#define S_BIG (2 * 1024 * 1024) //  the status event of the issue: 2 MiB

static int
s_setup (void **state)
{
    harness_init (&s_harness, "kafka-dead-letter");
    const char *const args[] = {"--commands",         "--topic", "jobd.status:1", "--topic",
                                "jobd.dead-letter:1", NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_harness, args, s_brokers, sizeof s_brokers),
                      0);
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    kafka-listener\n"
              "        path = %s/plugins/kafka-listener.so\n"
              "        brokers = %s\n"
              "        group = jobd-dead\n"
              "        topics = jobd.status\n"
              "        fetch_wait = 20ms\n",
              harness_build_dir (), s_brokers);
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_kafka_mock_stop (&s_mock);
    harness_fini (&s_harness);
    return 0;
}

static rd_kafka_t *
s_client (rd_kafka_type_t type)
{
    rd_kafka_t *client = harness_kafka_client (s_brokers, type, "jobd-dead");
    assert_non_null (client);
    return client;
}

static void
s_produce (rd_kafka_t *producer, const char *key, const void *value, size_t size)
{
    assert_int_equal (rd_kafka_producev (producer, RD_KAFKA_V_TOPIC ("jobd.status"),
                                         RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_KEY (key, strlen (key)),
                                         RD_KAFKA_V_VALUE ((void *)value, size), RD_KAFKA_V_END),
                      0);
    assert_int_equal (rd_kafka_flush (producer, 10000), 0);
}

//  {"ext": ext, "state": "STARTED", key: value} in msgpack, strings as given.
static void
s_produce_msgpack (rd_kafka_t *producer, const char *ext, const char *key, const char *value)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    const char *strings[] = {"ext", ext, "state", "STARTED", key, value};
    for (size_t index = 0; index < 6; index++) {
        msgpack_pack_str (&pk, strlen (strings[index]));
        msgpack_pack_str_body (&pk, strings[index], strlen (strings[index]));
    }
    s_produce (producer, ext, buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
}

//  A dead letter read back: its bytes (the first ones), their size, and jobd's headers.
typedef struct {
    char *payload;
    size_t size;
    char reason[1024], source[320], full_size[32], sha256[80];
} s_letter_t;

static void
s_header (rd_kafka_headers_t *headers, const char *name, char *value, size_t value_size)
{
    const void *found = NULL;
    size_t found_size = 0;
    value[0] = 0;
    if (headers && rd_kafka_header_get_last (headers, name, &found, &found_size) == 0)
        snprintf (value, value_size, "%.*s", (int)found_size, (const char *)found);
}

//  Reads the dead-letter topic from the start: up to count letters, or what came by the
//  deadline. Returns how many.
static size_t
s_letters (s_letter_t *letters, size_t count, int timeout_ms)
{
    rd_kafka_t *consumer = harness_kafka_reader (s_brokers, "jobd.dead-letter", 1);
    assert_non_null (consumer);
    size_t got = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    while (got < count && zclock_mono () < deadline) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll (consumer, 50);
        if (message && !message->err) {
            s_letter_t *letter = &letters[got++];
            letter->size = message->len;
            letter->payload = (char *)malloc (message->len + 1);
            memcpy (letter->payload, message->payload, message->len);
            rd_kafka_headers_t *headers = NULL;
            rd_kafka_message_headers (message, &headers);
            s_header (headers, "jobd-reason", letter->reason, sizeof letter->reason);
            s_header (headers, "jobd-source", letter->source, sizeof letter->source);
            s_header (headers, "jobd-size", letter->full_size, sizeof letter->full_size);
            s_header (headers, "jobd-sha256", letter->sha256, sizeof letter->sha256);
        }
        if (message)
            rd_kafka_message_destroy (message);
    }
    rd_kafka_destroy_flags (consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return got;
}

static void
s_letters_free (s_letter_t *letters, size_t count)
{
    for (size_t index = 0; index < count; index++)
        free (letters[index].payload);
    memset (letters, 0, count * sizeof *letters);
}

//  Waits until the committed offset reaches end, checking all along that it never passes the
//  message at offset dead (-1: none) before that message's dead letter is in the topic.
//  Returns the committed offset.
static int64_t
s_wait_committed (int64_t end, int64_t dead, int timeout_ms)
{
    int64_t committed = -1, deadline = zclock_mono () + timeout_ms;
    static s_letter_t letters[8];
    char source[64];
    snprintf (source, sizeof source, "jobd.status/0/%lld", (long long)dead);
    while (committed < end && zclock_mono () < deadline) {
        committed = harness_kafka_committed (s_brokers, "jobd-dead", "jobd.status", 1);
        if (dead >= 0 && committed > dead) {
            //  Read after the commit: its dead letter must be there already.
            //  Every letter the topic holds now: up to its high watermark.
            rd_kafka_t *reader = s_client (RD_KAFKA_CONSUMER);
            int64_t low = 0, high = 0;
            assert_int_equal (
                rd_kafka_query_watermark_offsets (reader, "jobd.dead-letter", 0, &low, &high, 5000),
                0);
            rd_kafka_destroy_flags (reader, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
            size_t got = s_letters (letters, high < 8 ? (size_t)high : 8, 10000);
            bool found = false;
            for (size_t index = 0; index < got; index++)
                found = found || strcmp (letters[index].source, source) == 0;
            s_letters_free (letters, got);
            if (!found)
                fail_msg ("offset %lld committed, past %lld, whose dead letter is not in Kafka",
                          (long long)committed, (long long)dead);
            dead = -1;
        }
        if (committed < end)
            zclock_sleep (100); //  polling the group's offset with a deadline: no event to wait on
    }
    return committed;
}

//  The SHA-256 of size bytes at data, in hex, by sha256sum (another implementation).
static void
s_sha256 (const void *data, size_t size, char hex[65])
{
    char path[600];
    snprintf (path, sizeof path, "%s/big-payload", s_harness.dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, size, file), size);
    fclose (file);
    char *argv[] = {"/usr/bin/sha256sum", path, NULL}, out[256] = "";
    assert_int_equal (harness_run (argv, out, sizeof out, NULL, 0, 10000), 0);
    snprintf (hex, 65, "%.64s", out);
}

static void
test_dead_letters_confirmed_before_offsets_pass (void **state)
{
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER);
    //  0: the 2 MiB status event of the issue (over the plugin's 256 KiB, and over what its
    //  producer takes by default, 1 MB), 1: a good one, 2: a msgpack event whose name is not
    //  UTF-8, 3: a good one in msgpack.
    char *big = (char *)malloc (S_BIG);
    memset (big, 'x', S_BIG);
    const char head[] = "{\"ext\":\"huge\",\"state\":\"RUNNING\",\"log\":\"";
    memcpy (big, head, sizeof head - 1);
    memcpy (big + S_BIG - 2, "\"}", 2);
    s_produce (producer, "huge", big, S_BIG);
    const char *good = "{\"ext\":\"good\",\"state\":\"STARTED\"}";
    s_produce (producer, "good", good, strlen (good));
    s_produce_msgpack (producer, "bad-name", "name", "caf\xe9");
    s_produce_msgpack (producer, "fine", "name", "caf\xc3\xa9");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    //  The group join on the mock takes about 3 s.
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_RUNNING, 2, 30000));
    assert_true (s_wait_committed (4, 0, 30000) == 4);

    static s_letter_t letters[8];
    assert_int_equal (s_letters (letters, 2, 10000), 2);
    //  The big one, in a form that fits: its first bytes, its size and SHA-256, and why.
    char expected[65];
    s_sha256 (big, S_BIG, expected);
    assert_string_equal (letters[0].source, "jobd.status/0/0");
    assert_true (letters[0].size > 0 && letters[0].size <= 65536);
    assert_memory_equal (letters[0].payload, big, letters[0].size);
    assert_string_equal (letters[0].full_size, "2097152");
    assert_string_equal (letters[0].sha256, expected);
    if (!strstr (letters[0].reason, "payload of 2097152 bytes, over the 262144 byte limit") ||
        !strstr (letters[0].reason, expected) || !strstr (letters[0].reason, "first"))
        fail_msg ("reason: %s", letters[0].reason);
    //  The msgpack event that is not UTF-8: whole, with its reason; no job for it.
    assert_string_equal (letters[1].source, "jobd.status/0/2");
    assert_non_null (strstr (letters[1].reason, "field 'name': not valid UTF-8"));
    assert_string_equal (letters[1].full_size, "");
    s_letters_free (letters, 2);
    free (big);
    char out[8192];
    char binary[512];
    char *argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                    "--run-dir",
                    s_harness.run_dir,
                    "--json",
                    "ls",
                    NULL};
    assert_int_equal (harness_run (argv, out, sizeof out, NULL, 0, 20000), 0);
    json_t *jobs = json_loads (out, 0, NULL);
    assert_int_equal (json_array_size (jobs), 2);
    json_decref (jobs);

    //  Kafka refuses the next dead letter for a while (a permanent error, twice): the
    //  message after it is applied, but the offset waits for the dead letter. (jobd is
    //  stopped meanwhile, so that the errors meet its producer, not the test's.)
    assert_int_equal (kill (s_harness.pid, SIGSTOP), 0);
    s_produce (producer, "junk", "not json at all", 15);
    const char *later = "{\"ext\":\"later\",\"state\":\"STARTED\"}";
    s_produce (producer, "later", later, strlen (later));
    assert_true (harness_kafka_command (&s_mock, "error 0 29 2", "fails 2 times with 29"));
    assert_int_equal (kill (s_harness.pid, SIGCONT), 0);
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_RUNNING, 3, 20000));
    assert_true (s_wait_committed (6, 4, 30000) == 6);
    assert_int_equal (s_letters (letters, 3, 10000), 3);
    assert_string_equal (letters[2].source, "jobd.status/0/4");
    assert_int_equal (letters[2].size, 15);
    s_letters_free (letters, 3);
    assert_true (harness_log_contains (&s_harness, "trying again"));

    //  A dead letter under the producer's limit that the broker refuses as too large: the
    //  form that fits, the broker's word in the reason.
    size_t size = 300 * 1024;
    char *large = (char *)malloc (size);
    memset (large, 'y', size);
    assert_int_equal (kill (s_harness.pid, SIGSTOP), 0);
    s_produce (producer, "large", large, size);
    assert_true (harness_kafka_command (&s_mock, "error 0 10 1", "fails 1 times with 10"));
    assert_int_equal (kill (s_harness.pid, SIGCONT), 0);
    assert_true (s_wait_committed (7, 6, 30000) == 7);
    assert_int_equal (s_letters (letters, 4, 10000), 4);
    s_sha256 (large, size, expected);
    assert_string_equal (letters[3].source, "jobd.status/0/6");
    assert_string_equal (letters[3].full_size, "307200");
    assert_string_equal (letters[3].sha256, expected);
    assert_true (letters[3].size < size);
    s_letters_free (letters, 4);
    free (large);
    rd_kafka_destroy (producer);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_dead_letters_confirmed_before_offsets_pass)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
