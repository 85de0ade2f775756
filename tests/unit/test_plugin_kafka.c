//  The kafka-listener plugin, unit-tested through the mock host: the built kafka-listener.so
//  against librdkafka's mock cluster (tools/kafka-mock), with the test in the broker's place on
//  the bus: a status event in Kafka becomes an observation, and its offset is committed only
//  once the broker answered it.
#include "harness_kafka.h"
#include "jobd_error.h"
#include "jobd_mock_host.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

#define S_DEADLINE 30000 //  ms: the group join on the mock cluster alone takes about 3 s

static harness_t s_harness;
static harness_proc_t s_mock;
static char s_brokers[256];

static int
s_setup (void **state)
{
    harness_init (&s_harness, "plugin_kafka");
    const char *const args[] = {"--topic", "jobd.status:1", "--topic", "jobd.dead-letter:1", NULL};
    return harness_kafka_mock (&s_mock, &s_harness, args, s_brokers, sizeof s_brokers);
}

static int
s_teardown (void **state)
{
    harness_kafka_mock_stop (&s_mock);
    harness_fini (&s_harness);
    return 0;
}

static const jobd_plugin_t *
s_load (jobd_mock_host_t *host)
{
    char reason[256] = "";
    const jobd_plugin_t *plugin =
        jobd_mock_host_load (host, "kafka-listener", reason, sizeof reason);
    if (!plugin)
        fail_msg ("cannot load: %s", reason);
    return plugin;
}

static void
s_produce (const char *key, const char *value)
{
    rd_kafka_t *producer = harness_kafka_client (s_brokers, RD_KAFKA_PRODUCER, NULL);
    assert_non_null (producer);
    assert_int_equal (rd_kafka_producev (producer, RD_KAFKA_V_TOPIC ("jobd.status"),
                                         RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_KEY (key, strlen (key)),
                                         RD_KAFKA_V_VALUE ((void *)value, strlen (value)),
                                         RD_KAFKA_V_END),
                      0);
    assert_int_equal (rd_kafka_flush (producer, 10000), 0);
    rd_kafka_destroy (producer);
}

//  A producer's STARTED event, named by its external id, is observed RUNNING for a new job of
//  the configured kind and backend; answered, its offset is committed.
static void
test_status_event_becomes_observation (void **state)
{
    jobd_mock_host_t *host = jobd_mock_host_new ("kafka-listener");
    assert_non_null (host);
    jobd_mock_host_set (host, "brokers", s_brokers);
    jobd_mock_host_set (host, "group", "jobd-unit");
    jobd_mock_host_set (host, "topics", "jobd.status");
    jobd_mock_host_set (host, "status_interval", "100ms");
    char reason[256] = "";
    assert_int_equal (jobd_mock_host_start (host, s_load (host), reason, sizeof reason), 0);
    s_produce ("orders-sync", "{\"ext\":\"orders-sync\",\"name\":\"orders sync\","
                              "\"state\":\"STARTED\"}");

    jobd_event_t *event = jobd_mock_host_expect (host, JOBD_EVENT_OBSERVED, S_DEADLINE);
    assert_non_null (event);
    assert_string_equal (event->ext, "orders-sync");
    assert_string_equal (jobd_state_name (event->state), "RUNNING");
    assert_string_equal (event->kind, "kafka");
    assert_string_equal (event->backend, "kafka");
    assert_string_equal (event->name, "orders sync");
    assert_string_equal (event->source, "kafka-listener");
    //  Nothing is committed before the broker answers.
    assert_int_equal (harness_kafka_committed (s_brokers, "jobd-unit", "jobd.status", 1), 0);
    assert_int_equal (jobd_mock_host_reply (host, event->id, NULL, NULL, "job-1", "changed"), 0);
    jobd_event_destroy (&event);
    int64_t deadline = zclock_mono () + S_DEADLINE, committed = 0;
    while ((committed = harness_kafka_committed (s_brokers, "jobd-unit", "jobd.status", 1)) < 1 &&
           zclock_mono () < deadline)
        zclock_sleep (50); //  polling the coordinator with a deadline: no event to wait on
    assert_int_equal (committed, 1);
    //  Its figures: one message consumed, none dead-lettered, the partition's lag read.
    double value = -1;
    assert_true (jobd_mock_host_figure (host, "kafka_consumed_total", 1, &value, S_DEADLINE, NULL));
    assert_true (value == 1);
    assert_true (
        jobd_mock_host_figure (host, "kafka_dead_letters_total", 0, &value, S_DEADLINE, NULL));
    assert_true (value == 0);
    assert_true (jobd_mock_host_figure (host, "kafka_consumer_lag", 0, &value, S_DEADLINE, "topic",
                                        "jobd.status", "partition", "0", NULL));
    assert_true (jobd_mock_host_figure (host, "kafka_brokers_up", 1, NULL, S_DEADLINE, NULL));
    assert_int_equal (jobd_mock_host_stop (host), 0);
    jobd_mock_host_destroy (&host);
}

//  Without brokers the plugin refuses to start, and says which key to set.
static void
test_refuses_no_brokers (void **state)
{
    jobd_mock_host_t *host = jobd_mock_host_new ("kafka-listener");
    assert_non_null (host);
    char reason[256] = "";
    assert_int_equal (jobd_mock_host_start (host, s_load (host), reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "plugins/kafka-listener/brokers"));
    jobd_mock_host_destroy (&host);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_status_event_becomes_observation, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_refuses_no_brokers, jobd_mock_host_teardown),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
