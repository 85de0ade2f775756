//  A real Prometheus (Debian's `prometheus`, scripts/deps.sh) scrapes the http plugin's /metrics
//  on loopback with a generated config; the test reads jobd_ series back through Prometheus'
//  query API: the target is up, jobd_jobs counts the demo jobs by state and kind, and the demo
//  plugin's figures are there.
#include "harness.h"
#include "http_client.h"
#include <curl/curl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_DEADLINE   10000
#define S_SCRAPED    60000 //  Prometheus starts, scrapes each second, and answers
#define S_PROMETHEUS "/usr/bin/prometheus"

static harness_t s_harness;

static int
s_setup (void **state)
{
    (void)state;
    harness_init (&s_harness, "http-prometheus");
    return 0;
}

static int
s_teardown (void **state)
{
    (void)state;
    harness_fini (&s_harness);
    return 0;
}

//  Asks Prometheus' query API for query; returns the value of its first sample as text, "" when
//  the result is empty.
static void
s_query (int port, const char *query, char *value, size_t size)
{
    char *escaped = curl_easy_escape (NULL, query, 0);
    char url[1200];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/api/v1/query?query=%s", port, escaped);
    curl_free (escaped);
    value[0] = 0;
    http_answer_t answer;
    if (http_call ("GET", url, NULL, NULL, NULL, &answer) == 0 && answer.status == 200) {
        json_t *body = json_loads (answer.body, 0, NULL);
        json_t *result = json_object_get (json_object_get (body, "data"), "result");
        json_t *sample = json_array_get (json_object_get (json_array_get (result, 0), "value"), 1);
        if (json_is_string (sample))
            snprintf (value, size, "%s", json_string_value (sample));
        json_decref (body);
    }
    http_answer_clear (&answer);
}

//  Waits until query's first sample is want.
static void
s_wait_value (int port, const char *query, const char *want)
{
    int64_t deadline = zclock_mono () + S_SCRAPED;
    char value[64] = "";
    while (zclock_mono () < deadline) {
        s_query (port, query, value, sizeof value);
        if (strcmp (value, want) == 0)
            return;
        zclock_sleep (100); //  a poll's pace, not a wait for the event
    }
    fail_msg ("Prometheus: %s is '%s', never %s", query, value, want);
}

static void
test_prometheus_scrapes_jobd (void **state)
{
    (void)state;
    if (access (S_PROMETHEUS, X_OK) != 0) {
        fprintf (stderr, "no %s: run scripts/deps.sh\n", S_PROMETHEUS);
        skip ();
    }
    int port = http_free_port ();
    char extra[1024];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        step = 20ms\n"
              "        fail_every = 2\n"
              "        jobs = 4\n"
              "        status_interval = 200ms\n"
              "    http\n"
              "        path = %s/plugins/http.so\n"
              "        port = %d\n"
              "        metrics_scan_interval = 0\n",
              harness_build_dir (), harness_build_dir (), port);
    harness_write_config (&s_harness, extra);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, S_DEADLINE));
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_FAILED, 2, S_DEADLINE));
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_SUCCEEDED, 2, S_DEADLINE));

    char config[400], storage[400];
    snprintf (config, sizeof config, "%s/prometheus.yml", s_harness.dir);
    snprintf (storage, sizeof storage, "%s/prometheus", s_harness.dir);
    FILE *file = fopen (config, "w");
    fprintf (file,
             "global:\n"
             "  scrape_interval: 1s\n"
             "  evaluation_interval: 1s\n"
             "scrape_configs:\n"
             "  - job_name: jobd\n"
             "    static_configs:\n"
             "      - targets: ['127.0.0.1:%d']\n",
             port);
    fclose (file);
    int prometheus_port = http_free_port ();
    char config_arg[450], storage_arg[450], listen_arg[100], log[400];
    snprintf (config_arg, sizeof config_arg, "--config.file=%s", config);
    snprintf (storage_arg, sizeof storage_arg, "--storage.tsdb.path=%s", storage);
    snprintf (listen_arg, sizeof listen_arg, "--web.listen-address=127.0.0.1:%d", prometheus_port);
    snprintf (log, sizeof log, "%s/prometheus.log", s_harness.dir);
    char *argv[] = {S_PROMETHEUS, config_arg, storage_arg, listen_arg, NULL};
    harness_proc_t *prometheus = (harness_proc_t *)calloc (1, sizeof (harness_proc_t));
    assert_int_equal (harness_spawn_logged (prometheus, argv, log), 0);

    s_wait_value (prometheus_port, "up{job=\"jobd\"}", "1");
    s_wait_value (prometheus_port, "jobd_up", "1");
    s_wait_value (prometheus_port, "jobd_jobs{state=\"FAILED\",kind=\"demo\"}", "2");
    s_wait_value (prometheus_port, "jobd_jobs{state=\"SUCCEEDED\",kind=\"demo\"}", "2");
    s_wait_value (prometheus_port, "jobd_broker_transitions_total", "16");
    s_wait_value (prometheus_port, "jobd_plugin_up{plugin=\"demo\",status=\"running\"}", "1");
    //  A plugin's figures (the demo's): its 4 jobs were observed 3 times each, none moves now.
    s_wait_value (prometheus_port, "jobd_demo_observations_total{plugin=\"demo\"}", "12");
    s_wait_value (prometheus_port, "jobd_demo_jobs_moving{plugin=\"demo\",backend=\"demo\"}", "0");

    kill (prometheus->pid, SIGTERM);
    harness_proc_finish (prometheus, S_DEADLINE);
    free (prometheus);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, S_DEADLINE), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_prometheus_scrapes_jobd, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
