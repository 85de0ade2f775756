//  The daemon as an operator meets it: plugins that load and fail to load, config errors with
//  file and line, endpoints and stores already in use, bad input on the admin endpoint.
#include "harness.h"
#include "jobd_map.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

static harness_t s_harness;

static int
s_setup (void **state)
{
    harness_init (&s_harness, "daemon");
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  Runs a built binary with arguments; returns its exit code, output in out and err.
static int
s_run (const char *binary, const char *const *args, char *out, size_t out_size, char *err,
       size_t err_size)
{
    return harness_run_bin (binary, args, out, out_size, err, err_size);
}

static void
test_help_and_version (void **state)
{
    char out[4096], err[4096];
    const char *help[] = {"--help", NULL};
    assert_int_equal (s_run ("jobd", help, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, "Usage: jobd"));
    const char *version[] = {"--version", NULL};
    assert_int_equal (s_run ("jobd", version, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, JOBD_VERSION));
    const char *bad[] = {"--no-such-flag", NULL};
    assert_int_equal (s_run ("jobd", bad, out, sizeof out, err, sizeof err), 2);
    assert_int_equal (s_run ("jobctl", help, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, "Usage: jobctl"));
    const char *unknown[] = {"frobnicate", NULL};
    assert_int_equal (s_run ("jobctl", unknown, out, sizeof out, err, sizeof err), 2);
    assert_non_null (strstr (err, "unknown command 'frobnicate'"));
}

static void
test_config_errors_name_file_line_and_key (void **state)
{
    char out[4096], err[4096];
    const char *args[] = {"-c", s_harness.config, "--check", NULL};
    //  An unknown key on line 6.
    harness_write_config (&s_harness, "    colour = blue\n");
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 3);
    char expected[512];
    snprintf (expected, sizeof expected, "%s:6: unknown key 'colour'", s_harness.config);
    assert_non_null (strstr (err, expected));
    //  A bad value.
    harness_write_config (&s_harness, "    map_size = lots\n");
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, "'core/map_size': 'lots' is not a size"));
    //  A bad plugin value.
    harness_write_config (&s_harness, "plugins\n    driver\n        jobs = many\n");
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, ":8: key 'plugins/driver/jobs': 'many' is not an integer"));
    //  Not ZPL: the line and zconfig's words, on stderr only (zconfig says it on stdout).
    harness_write_config (&s_harness, "  bad = =\n");
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 3);
    snprintf (expected, sizeof expected, "%s:6: not valid ZPL: indent 4 spaces at once",
              s_harness.config);
    assert_non_null (strstr (err, expected));
    assert_string_equal (out, "");
    //  An unknown section.
    harness_write_config (&s_harness, "extras\n    a = 1\n");
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, ":6: unknown section 'extras'"));
    //  A missing file.
    const char *missing[] = {"-c", "/nonexistent/jobd.cfg", NULL};
    assert_int_equal (s_run ("jobd", missing, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, "/nonexistent/jobd.cfg: No such file"));
    //  Environment overrides reach the check too.
    harness_write_config (&s_harness, "");
    setenv ("JOBD_CORE_BATCH_MAX", "ten", 1);
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, "environment JOBD_CORE_BATCH_MAX"));
    unsetenv ("JOBD_CORE_BATCH_MAX");
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 0);
}

//  --check runs each plugin's own check (ABI 1.6): what its init would refuse fails the check,
//  named; the embedded default (no plugins section) leaves an unconfigured plugin out instead.
static void
test_check_runs_the_plugins_checks (void **state)
{
    char out[4096], err[8192];
    const char *args[] = {"-c", s_harness.config, "--check", NULL};
    char config[1024];
    //  kafka-listener without brokers: its init would refuse it.
    snprintf (config, sizeof config,
              "plugins\n    kafka-listener\n        path = %s/plugins/kafka-listener.so\n",
              harness_build_dir ());
    harness_write_config (&s_harness, config);
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, "plugin kafka-listener: no Kafka brokers"));
    //  A librdkafka property librdkafka does not know.
    snprintf (config, sizeof config,
              "plugins\n    kafka-listener\n        path = %s/plugins/kafka-listener.so\n"
              "        brokers = 127.0.0.1:1\n        kafka\n            no.such.property = 1\n",
              harness_build_dir ());
    harness_write_config (&s_harness, config);
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, "plugin kafka-listener: kafka config:"));
    assert_non_null (strstr (err, "no.such.property"));
    //  A retry policy the plugin cannot read, and http TLS keys that do not go together.
    snprintf (config, sizeof config,
              "plugins\n    retry\n        path = %s/plugins/retry.so\n"
              "        policies = \"spark: attempts=lots\"\n"
              "    http\n        path = %s/plugins/http.so\n        tls_cert = /nonexistent\n",
              harness_build_dir (), harness_build_dir ());
    harness_write_config (&s_harness, config);
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, "plugin retry:"));
    assert_non_null (strstr (err, "plugin http: keys 'tls_cert' and 'tls_key' go together"));
    assert_non_null (strstr (err, "2 plugins refuse their config"));
    //  Fine: brokers given, nothing connects (the broker address is closed).
    snprintf (config, sizeof config,
              "plugins\n    kafka-listener\n        path = %s/plugins/kafka-listener.so\n"
              "        brokers = 127.0.0.1:1\n",
              harness_build_dir ());
    harness_write_config (&s_harness, config);
    assert_int_equal (s_run ("jobd", args, out, sizeof out, err, sizeof err), 0);
    //  No plugins section: every plugin of the folder; kafka-listener, given no brokers, is left
    //  out as not configured, and the config is valid.
    snprintf (config, sizeof config, "%s/plugins", harness_build_dir ());
    setenv ("JOBD_CORE_PLUGIN_DIR", config, 1);
    harness_write_config (&s_harness, "");
    int rc = s_run ("jobd", args, out, sizeof out, err, sizeof err);
    unsetenv ("JOBD_CORE_PLUGIN_DIR");
    assert_int_equal (rc, 0);
    assert_non_null (strstr (err, "plugin kafka-listener not started: not configured: no Kafka"));
    assert_non_null (strstr (out, "is valid"));
}

static void
test_plugins_load_fail_and_report (void **state)
{
    harness_write_config (&s_harness, "plugins\n"
                                      "    driver\n"
                                      "        jobs = 2\n"
                                      "    failinit\n"
                                      "    badabi\n"
                                      "    missing\n");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    char out[8192], err[4096];
    const char *args[] = {"--admin", s_harness.admin, "plugins", "--json", NULL};
    assert_int_equal (s_run ("jobctl", args, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, "\"name\":\"driver\""));
    assert_non_null (strstr (out, "\"status\":\"running\""));
    assert_non_null (strstr (out, "failinit refuses to start"));
    assert_non_null (strstr (out, "built for plugin ABI 99.0"));
    assert_non_null (strstr (out, "missing.so"));
    assert_true (harness_log_contains (&s_harness, "plugin badabi not loaded"));

    //  A second jobd on the same store is refused (exit 4); on the same endpoints (exit 5).
    harness_t second;
    harness_init (&second, "second");
    char config[1024];
    snprintf (config, sizeof config, "%s", s_harness.config);
    const char *same_store[] = {"-c", config, NULL};
    assert_int_equal (s_run ("jobd", same_store, out, sizeof out, err, sizeof err), 4);
    assert_non_null (strstr (err, "is in use by another jobd (pid"));
    FILE *file = fopen (second.config, "w");
    fprintf (file, "core\n    store = %s\n    run_dir = %s\n", second.store, s_harness.run_dir);
    fclose (file);
    const char *same_run[] = {"-c", second.config, NULL};
    assert_int_equal (s_run ("jobd", same_run, out, sizeof out, err, sizeof err), 5);
    assert_non_null (strstr (err, "admin.sock is in use by another process"));
    harness_fini (&second);

    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  Sends raw bytes to the admin endpoint and returns the reply's error name.
static void
s_expect_error (const void *data, size_t size, const char *error)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, size, &reply, 5000), 0);
    char name[32] = "";
    assert_true (jobd_map_string (&reply.data, "error", name, sizeof name));
    assert_string_equal (name, error);
    msgpack_unpacked_destroy (&reply);
}

static void
test_bad_admin_input_costs_nothing (void **state)
{
    harness_write_config (&s_harness, "plugins\n    driver\n        jobs = 5\n");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_SUCCEEDED, 5, 10000));

    s_expect_error ("\xc1", 1, "EPROTO");                     //  never-used msgpack byte
    s_expect_error ("\x92\x01", 2, "EPROTO");                 //  truncated array
    s_expect_error ("\x81\xa4type\xa7observe", 14, "EPROTO"); //  no such event
    s_expect_error ("\x01\x02", 2, "EPROTO");                 //  trailing bytes
    //  A message over 256 KiB is not read at all: the connection is dropped (see
    //  test_admin_limits); one that claims more than it holds is refused.
    s_expect_error ("\xc6\x00\x04\x80\x00", 5, "EPROTO"); //  bin 32 of 300 KiB, 0 given
    //  A valid observation of a job that does not exist.
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&event->source, "test");
    jobd_event_set (&event->job, "job-999999");
    event->state = JOBD_STATE_RUNNING;
    uint8_t *data;
    size_t size;
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    s_expect_error (data, size, "ENOTFOUND");
    free (data);
    //  A backward move is no error but changes nothing.
    jobd_event_set (&event->job, "job-1");
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, size, &reply, 5000), 0);
    char outcome[32] = "";
    assert_true (jobd_map_string (&reply.data, "outcome", outcome, sizeof outcome));
    assert_string_equal (outcome, "backward");
    msgpack_unpacked_destroy (&reply);
    free (data);
    jobd_event_destroy (&event);

    assert_int_equal (harness_count (&s_harness, JOBD_STATE_SUCCEEDED), 5);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_help_and_version),
        cmocka_unit_test (test_config_errors_name_file_line_and_key),
        cmocka_unit_test (test_check_runs_the_plugins_checks),
        cmocka_unit_test (test_plugins_load_fail_and_report),
        cmocka_unit_test (test_bad_admin_input_costs_nothing),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
