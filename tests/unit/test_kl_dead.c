//  kafka-listener's dead letters (kl_dead) against librdkafka's mock cluster, in process: a
//  letter holds its partition's offset until Kafka confirms it, a failed delivery is sent again
//  (never skipped), and a letter too large for the producer goes in a form that fits, even
//  under the smallest message.max.bytes librdkafka takes.
#include "kl_dead.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_logged[8192]; //  what the plugin logged, line after line

static void
s_log (const jobd_host_t *host, jobd_log_level_t level, const char *format, ...)
{
    size_t used = strlen (s_logged);
    va_list args;
    va_start (args, format);
    vsnprintf (s_logged + used, sizeof s_logged - used, format, args);
    va_end (args);
    used = strlen (s_logged);
    if (used + 1 < sizeof s_logged)
        strcat (s_logged, "\n");
}

typedef struct {
    kl_dead_t *dead;
    kl_dead_source_t confirmed[16];
    size_t count;
} s_state_t;

static void
s_delivered (rd_kafka_t *rk, const rd_kafka_message_t *report, void *opaque)
{
    s_state_t *state = (s_state_t *)opaque;
    kl_dead_source_t source;
    if (kl_dead_delivered (state->dead, report, &source) && state->count < 16)
        state->confirmed[state->count++] = source;
}

//  A producer with its own mock cluster (one broker, topic "dead"), as the plugin sets its
//  dead letters' producer up.
static rd_kafka_t *
s_producer (s_state_t *state, const char *max_bytes)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char error[256];
    assert_int_equal (rd_kafka_conf_set (conf, "test.mock.num.brokers", "1", error, sizeof error),
                      RD_KAFKA_CONF_OK);
    assert_int_equal (rd_kafka_conf_set (conf, "message.max.bytes", max_bytes, error, sizeof error),
                      RD_KAFKA_CONF_OK);
    assert_int_equal (rd_kafka_conf_set (conf, "acks", "all", error, sizeof error),
                      RD_KAFKA_CONF_OK);
    assert_int_equal (rd_kafka_conf_set (conf, "message.timeout.ms", "0", error, sizeof error),
                      RD_KAFKA_CONF_OK);
    rd_kafka_conf_set_dr_msg_cb (conf, s_delivered);
    rd_kafka_conf_set_opaque (conf, state);
    rd_kafka_t *producer = rd_kafka_new (RD_KAFKA_PRODUCER, conf, error, sizeof error);
    assert_non_null (producer);
    assert_int_equal (
        rd_kafka_mock_topic_create (rd_kafka_handle_mock_cluster (producer), "dead", 1, 1), 0);
    return producer;
}

static const jobd_host_t s_host = {
    .size = sizeof (jobd_host_t), .plugin_name = "kafka-listener", .log = s_log};

//  A consumed message, as the listener hands it over: topic "status", partition, offset.
static rd_kafka_message_t
s_message (rd_kafka_topic_t *topic, int32_t partition, int64_t offset, void *payload, size_t size)
{
    rd_kafka_message_t message;
    memset (&message, 0, sizeof message);
    message.rkt = topic;
    message.partition = partition;
    message.offset = offset;
    message.payload = payload;
    message.len = size;
    message.key = (void *)"key-1";
    message.key_len = 5;
    return message;
}

//  Serves the producer (and due retries) until count letters are confirmed, or 20 s.
static void
s_wait (rd_kafka_t *producer, s_state_t *state, size_t count)
{
    int64_t deadline = zclock_mono () + 20000;
    while (state->count < count && zclock_mono () < deadline) {
        kl_dead_retry (state->dead);
        rd_kafka_poll (producer, 50);
    }
    assert_int_equal (state->count, count);
}

//  A test's producer, its letters and the topic its messages come from ("status").
static rd_kafka_t *
s_start (s_state_t *state, const char *max_bytes, rd_kafka_topic_t **topic_p)
{
    s_logged[0] = 0;
    rd_kafka_t *producer = s_producer (state, max_bytes);
    state->dead = kl_dead_new (&s_host, producer, "dead");
    *topic_p = rd_kafka_topic_new (producer, "status", NULL);
    return producer;
}

static void
s_finish (s_state_t *state, rd_kafka_t *producer, rd_kafka_topic_t *topic)
{
    rd_kafka_topic_destroy (topic);
    rd_kafka_destroy (producer); //  before the letters: it may hold their bytes
    kl_dead_destroy (&state->dead);
}

static void
test_offsets_wait_for_kafka (void **state_p)
{
    s_state_t state = {0};
    rd_kafka_topic_t *topic = NULL;
    rd_kafka_t *producer = s_start (&state, "1000000", &topic);
    //  Kafka refuses the first two deliveries for good (not a network error): the letter is
    //  sent again, and its partition stays held below it all along.
    rd_kafka_mock_push_request_errors (rd_kafka_handle_mock_cluster (producer), 0, 2,
                                       RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                       RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    rd_kafka_message_t junk = s_message (topic, 3, 41, "not json", 8);
    assert_int_equal (kl_dead_send (state.dead, &junk, "not JSON"), 0);
    assert_int_equal (kl_dead_floor (state.dead, "status", 3), 41);
    assert_int_equal (kl_dead_floor (state.dead, "status", 2), INT64_MAX);
    assert_int_equal (kl_dead_floor (state.dead, "other", 3), INT64_MAX);
    assert_int_equal (kl_dead_waiting (state.dead), 1);
    int64_t deadline = zclock_mono () + 20000;
    while (!strstr (s_logged, "trying again in 1000 ms") && zclock_mono () < deadline) {
        kl_dead_retry (state.dead);
        rd_kafka_poll (producer, 50);
        assert_int_equal (kl_dead_floor (state.dead, "status", 3), 41);
    }
    assert_non_null (strstr (s_logged, "trying again in 500 ms"));
    assert_non_null (strstr (s_logged, "Topic authorization failed"));
    s_wait (producer, &state, 1);
    assert_string_equal (state.confirmed[0].topic, "status");
    assert_int_equal (state.confirmed[0].partition, 3);
    assert_int_equal (state.confirmed[0].offset, 41);
    assert_int_equal (kl_dead_floor (state.dead, "status", 3), INT64_MAX);
    assert_int_equal (kl_dead_waiting (state.dead), 0);
    assert_int_equal (kl_dead_confirmed (state.dead), 1);
    assert_non_null (strstr (s_logged, "dead-lettered status/3/41: not JSON"));
    s_finish (&state, producer, topic);
}

//  Under the smallest message.max.bytes (1000), a letter of 5000 bytes is cut to what fits,
//  with its size and SHA-256; one that fits goes whole.
static void
test_small_producer_limit (void **state_p)
{
    s_state_t state = {0};
    rd_kafka_topic_t *topic = NULL;
    rd_kafka_t *producer = s_start (&state, "1000", &topic);
    char *big = (char *)malloc (5000);
    memset (big, 'z', 5000);
    rd_kafka_message_t large = s_message (topic, 0, 7, big, 5000);
    char reason[600];
    memset (reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = 0;
    memcpy (reason, "long reason ", 12);
    assert_int_equal (kl_dead_send (state.dead, &large, reason), 0);
    rd_kafka_message_t small = s_message (topic, 0, 8, "tiny", 4);
    assert_int_equal (kl_dead_send (state.dead, &small, "short"), 0);
    s_wait (producer, &state, 2);
    assert_non_null (strstr (s_logged, "dead-lettered status/0/7: long reason"));
    assert_non_null (strstr (s_logged, "dead-lettered status/0/8: short\n"));
    free (big);
    s_finish (&state, producer, topic);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_offsets_wait_for_kafka),
        cmocka_unit_test (test_small_producer_limit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
