//  netcut.so (tests/integration/netcut.c) cuts a librdkafka client from the mock cluster while
//  its file exists and lets it back when the file goes: a producer (this program run again
//  with --producer, netcut.so preloaded) delivers, stops delivering in a cut, and delivers again.
#include "harness_kafka.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static harness_t s_harness;
static harness_proc_t s_mock;
static char s_brokers[256];

//  --producer mode: one message every 50 ms to topic "cut"; each delivery report is one line,
//  "ok SEQ" or "fail SEQ REASON". Stops at the end of stdin. message.timeout.ms 1000 makes a
//  message fail within a second of a cut.
static void
s_delivered (rd_kafka_t *kafka, const rd_kafka_message_t *message, void *unused)
{
    int seq = (int)(intptr_t)message->_private;
    if (message->err)
        printf ("fail %d %s\n", seq, rd_kafka_err2name (message->err));
    else
        printf ("ok %d\n", seq);
    fflush (stdout);
}

static int
s_producer (const char *brokers)
{
    char error[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    const char *settings[][2] = {{"bootstrap.servers", brokers},
                                 {"message.timeout.ms", "1000"},
                                 {"reconnect.backoff.ms", "10"},
                                 {"reconnect.backoff.max.ms", "100"},
                                 {"linger.ms", "0"}};
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (rd_kafka_conf_set (conf, settings[i][0], settings[i][1], error, sizeof error))
            return fprintf (stderr, "producer: %s\n", error), 1;
    rd_kafka_conf_set_dr_msg_cb (conf, s_delivered);
    rd_kafka_t *kafka = rd_kafka_new (RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!kafka)
        return fprintf (stderr, "producer: %s\n", error), 1;
    int64_t next = zclock_mono ();
    for (int seq = 0;; seq++) {
        rd_kafka_producev (kafka, RD_KAFKA_V_TOPIC ("cut"), RD_KAFKA_V_PARTITION (0),
                           RD_KAFKA_V_VALUE ("x", 1), RD_KAFKA_V_OPAQUE ((void *)(intptr_t)seq),
                           RD_KAFKA_V_END);
        next += 50;
        bool end = false;
        while (!end && zclock_mono () < next) {
            rd_kafka_poll (kafka, 0);
            struct pollfd in = {.fd = 0, .events = POLLIN};
            char byte;
            int wait = (int)(next - zclock_mono ());
            if (poll (&in, 1, wait > 0 ? wait : 0) > 0 && read (0, &byte, 1) <= 0)
                end = true;
        }
        if (end)
            break;
    }
    rd_kafka_flush (kafka, 3000);
    rd_kafka_destroy (kafka);
    return 0;
}

//  Reads the producer's output for up to timeout_ms or until a line starting with prefix
//  appears at or after offset. Returns that line's start, or NULL.
static const char *
s_wait_line (harness_proc_t *producer, size_t offset, const char *prefix, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (true) {
        for (const char *line = producer->out + offset; line && *line;) {
            if ((line == producer->out || line[-1] == '\n') &&
                !strncmp (line, prefix, strlen (prefix)))
                return line;
            line = strchr (line, '\n');
            line = line ? line + 1 : NULL;
        }
        if (zclock_mono () >= deadline)
            return NULL;
        //  "\001" never comes: this reads for 100 ms, or less when output arrives.
        harness_proc_wait_out (producer, "\001", 100);
    }
}

//  True when the first 64 KiB of the file at path contain text.
static bool
s_file_contains (const char *path, const char *text)
{
    static char contents[65536];
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    size_t got = fread (contents, 1, sizeof contents - 1, file);
    contents[got] = '\0';
    fclose (file);
    return strstr (contents, text) != NULL;
}

static int
s_setup (void **state)
{
    harness_init (&s_harness, "kafka-netcut");
    const char *const args[] = {"--brokers", "3", "--topic", "cut:1", NULL};
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

//  Starts this program as the producer, with netcut.so preloaded and configured by value.
static void
s_start_producer (harness_proc_t *producer, const char *netcut_value, const char *log)
{
    char self[512], preload[1100], unused[64];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    assert_true (n > 0);
    self[n] = '\0';
    harness_netcut_env ("", "", preload, sizeof preload, unused, sizeof unused);
    setenv ("LD_PRELOAD", preload, 1);
    setenv ("JOBD_TEST_NETCUT", netcut_value, 1);
    char *argv[] = {self, "--producer", s_brokers, NULL};
    int rc = harness_spawn_talking (producer, argv, log);
    unsetenv ("LD_PRELOAD");
    unsetenv ("JOBD_TEST_NETCUT");
    assert_int_equal (rc, 0);
}

static void
test_cut_and_back (void **state)
{
    //  The file's value: FILE:PORT,PORT,PORT (the mock's three broker ports).
    char cut_file[400], value[1024], log[400];
    snprintf (cut_file, sizeof cut_file, "%s/cut", s_harness.dir);
    snprintf (log, sizeof log, "%s/producer.log", s_harness.dir);
    char unused[1100];
    harness_netcut_env (s_brokers, cut_file, unused, sizeof unused, value, sizeof value);
    harness_proc_t producer;
    s_start_producer (&producer, value, log);

    //  Delivers through netcut.so while the file is absent.
    assert_non_null (s_wait_line (&producer, 0, "ok ", 20000));

    //  The cut: deliveries fail, and then fail one after another (nothing gets through).
    int64_t cut_at = zclock_mono ();
    FILE *file = fopen (cut_file, "w");
    assert_non_null (file);
    fclose (file);
    size_t offset = producer.out_used;
    const char *failed = s_wait_line (&producer, offset, "fail ", 10000);
    assert_non_null (failed);
    int64_t failed_at = zclock_mono ();
    int first = atoi (failed + 5);
    char fifth[32];
    snprintf (fifth, sizeof fifth, "fail %d ", first + 5);
    size_t failed_offset = (size_t)(failed - producer.out);
    const char *later = s_wait_line (&producer, failed_offset, fifth, 10000);
    assert_non_null (later);
    assert_null (memmem (failed, (size_t)(later - failed), "ok ", 3));
    //  librdkafka met the refused connects (its logs go to the producer's log).
    assert_true (s_file_contains (log, "Connection refused"));

    //  Back: deliveries resume.
    int64_t back_at = zclock_mono ();
    assert_int_equal (unlink (cut_file), 0);
    offset = producer.out_used;
    assert_non_null (s_wait_line (&producer, offset, "ok ", 15000));
    int64_t resumed_at = zclock_mono ();
    printf ("netcut: first failed delivery %lld ms after the cut (message.timeout.ms 1000), "
            "first delivery %lld ms after it ended\n",
            (long long)(failed_at - cut_at), (long long)(resumed_at - back_at));
    assert_int_equal (harness_proc_finish (&producer, 10000), 0);
}

//  A malformed JOBD_TEST_NETCUT is named on stderr and the library stays out of the way.
static void
test_bad_value (void **state)
{
    char log[400];
    snprintf (log, sizeof log, "%s/producer-bad.log", s_harness.dir);
    harness_proc_t producer;
    s_start_producer (&producer, "/tmp/no-ports:", log);
    assert_non_null (s_wait_line (&producer, 0, "ok ", 20000));
    assert_int_equal (harness_proc_finish (&producer, 10000), 0);
    assert_true (s_file_contains (log, "netcut: JOBD_TEST_NETCUT: expected FILE:PORT"));
}

int
main (int argc, char *argv[])
{
    if (argc == 3 && !strcmp (argv[1], "--producer"))
        return s_producer (argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_cut_and_back),
        cmocka_unit_test (test_bad_value),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
