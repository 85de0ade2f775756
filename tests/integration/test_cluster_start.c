//  Cluster mode's start (docs/cluster.md, core/README.md "Section cluster"): the section is
//  checked, jobd waits for a broker and says so when none answers, takes the cluster's topics when
//  they are as the config says, and refuses them when their partitions differ. Against
//  librdkafka's mock cluster (tools/kafka-mock, three brokers, over loopback TCP).
#include "harness_kafka.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

static harness_t s_harness;
static harness_proc_t s_mock;
static char s_brokers[256];

static int
s_setup (void **state)
{
    harness_init (&s_harness, "cluster-start");
    //  The mock takes no CreateTopics (librdkafka 2.0.2): the topics are made here, as an
    //  operator would with Kafka's tools.
    const char *const args[] = {"--brokers", "3",
                                "--topic",   "jobd.jobs:32",
                                "--topic",   "jobd.changelog:32",
                                "--topic",   "jobd.replies:1",
                                "--topic",   "other.jobs:8",
                                NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_harness, args, s_brokers, sizeof s_brokers),
                      0);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_kafka_mock_stop (&s_mock);
    harness_fini (&s_harness);
    return 0;
}

static void
s_config (const char *cluster)
{
    char text[1024];
    snprintf (text, sizeof text,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "cluster\n"
              "%s",
              harness_build_dir (), cluster);
    harness_write_config (&s_harness, text);
}

//  jobd -c config: its exit code, its stderr in err.
static int
s_jobd (const char *option, char *err, size_t size)
{
    static char out[4096];
    const char *args[] = {"-c", s_harness.config, option, NULL};
    return harness_run_bin ("jobd", args, out, sizeof out, err, size);
}

static void
test_topics_as_configured_are_taken (void **state)
{
    char cluster[512];
    snprintf (cluster, sizeof cluster, "    instance = node-a\n    brokers = %s\n", s_brokers);
    s_config (cluster);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 20000));
    assert_true (harness_log_contains (
        &s_harness, "instance node-a: topics jobd.jobs, jobd.changelog, jobd.replies (32 "
                    "partitions) ready"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

static void
test_other_partitions_are_refused (void **state)
{
    char cluster[512], err[4096];
    //  The config says 16; the topics have 32: another cluster's, or a changed config.
    snprintf (cluster, sizeof cluster,
              "    instance = node-a\n    brokers = %s\n    partitions = 16\n", s_brokers);
    s_config (cluster);
    assert_int_equal (s_jobd (NULL, err, sizeof err), 3);
    assert_non_null (strstr (err, "topic jobd.jobs has 32 partitions, this instance needs 16"));
    //  Another prefix, whose jobs topic has 8.
    snprintf (cluster, sizeof cluster,
              "    instance = node-a\n    brokers = %s\n    prefix = other\n", s_brokers);
    s_config (cluster);
    assert_int_equal (s_jobd (NULL, err, sizeof err), 3);
    assert_non_null (strstr (err, "topic other.jobs has 8 partitions, this instance needs 32"));
}

static void
test_bad_section_is_refused_by_check (void **state)
{
    char err[4096];
    const char *cases[][2] = {
        {"    instance = node a\n    brokers = 127.0.0.1:9\n", "cluster/instance"},
        {"    instance = node-a\n", "cluster/brokers: required"},
        {"    instance = node-a\n    brokers = 127.0.0.1:9\n    partitions = 0\n",
         "cluster/partitions: 1 to 4096"},
        {"    instance = node-a\n    brokers = 127.0.0.1:9\n    lease = 4s\n",
         "cluster/session_timeout: at least twice cluster/lease"},
        {"    instance = node-a\n    brokers = 127.0.0.1:9\n    kafka\n        acks = maybe\n",
         "cluster/kafka/acks"},
        {"    instance = node-a\n    brokers = 127.0.0.1:9\n    bogus = 1\n", "bogus"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        s_config (cases[index][0]);
        err[0] = 0;
        int code = s_jobd ("--check", err, sizeof err);
        if (code != 3 || !strstr (err, cases[index][1]))
            fail_msg ("case %zu: exit %d, stderr: %s", index, code, err);
    }
}

static void
test_no_broker_is_said (void **state)
{
    char err[4096];
    //  Nothing listens on port 9 of loopback.
    s_config ("    instance = node-a\n    brokers = 127.0.0.1:9\n    connect_timeout = 2s\n");
    assert_int_equal (s_jobd (NULL, err, sizeof err), 7);
    assert_non_null (strstr (err, "no Kafka broker answered at 127.0.0.1:9 in 2000 ms"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_topics_as_configured_are_taken),
                                       cmocka_unit_test (test_other_partitions_are_refused),
                                       cmocka_unit_test (test_bad_section_is_refused_by_check),
                                       cmocka_unit_test (test_no_broker_is_said)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
