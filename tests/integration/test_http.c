//  The http plugin against the real jobd with the demo backend, through libcurl: health and
//  readiness, submit/cancel/retry with and without the token (the token file jobd made in its
//  run folder), pages with a cursor, one job's history, stats, plugins, metrics (promtool when
//  installed), and the event stream resumed with Last-Event-ID across a jobd restart.
#include "harness.h"
#include "http_client.h"
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_DEADLINE 10000

static harness_t s_harness;
static int s_port;
static char s_token[128];

static int
s_setup (void **state)
{
    (void)state;
    harness_init (&s_harness, "http");
    s_port = http_free_port ();
    char extra[1024];
    //  Every third demo job fails; the http plugin takes its token from the run folder.
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        step = 30ms\n"
              "        fail_every = 3\n"
              "        status_interval = 100ms\n"
              "    http\n"
              "        path = %s/plugins/http.so\n"
              "        port = %d\n"
              "        metrics_scan_interval = 0\n"
              "        heartbeat = 1s\n",
              harness_build_dir (), harness_build_dir (), s_port);
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    (void)state;
    harness_fini (&s_harness);
    return 0;
}

static char *
s_url (const char *path)
{
    static char url[600];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", s_port, path);
    return url;
}

static json_t *
s_call_json (const char *method, const char *path, const char *token, const char *body, long status)
{
    http_answer_t answer;
    assert_int_equal (http_call (method, s_url (path), token, body, NULL, &answer), 0);
    if (answer.status != status)
        fail_msg ("%s %s: %ld, not %ld: %s", method, path, answer.status, status, answer.body);
    json_t *value = json_loads (answer.body, 0, NULL);
    http_answer_clear (&answer);
    assert_non_null (value);
    return value;
}

//  Waits (bounded) until GET path answers status.
static void
s_wait_status (const char *path, long status)
{
    int64_t deadline = zclock_mono () + S_DEADLINE;
    while (true) {
        http_answer_t answer;
        int rc = http_call ("GET", s_url (path), NULL, NULL, NULL, &answer);
        bool done = rc == 0 && answer.status == status;
        http_answer_clear (&answer);
        if (done)
            return;
        if (zclock_mono () > deadline)
            fail_msg ("GET %s never answered %ld", path, status);
        zclock_sleep (20); //  a poll's pace, not a wait for the event
    }
}

//  Waits until count jobs match query.
static void
s_wait_matched (const char *query, json_int_t count)
{
    int64_t deadline = zclock_mono () + S_DEADLINE;
    while (true) {
        json_t *page = s_call_json ("GET", query, NULL, NULL, 200);
        json_int_t matched = json_integer_value (json_object_get (page, "matched"));
        json_decref (page);
        if (matched == count)
            return;
        if (zclock_mono () > deadline)
            fail_msg ("%s: %lld jobs, never %lld", query, (long long)matched, (long long)count);
        zclock_sleep (20);
    }
}

static void
s_start (void)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, S_DEADLINE));
    s_wait_status ("/readyz", 200);
    char path[400];
    snprintf (path, sizeof path, "%s/http.token", s_harness.run_dir);
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    assert_non_null (fgets (s_token, sizeof s_token, file));
    fclose (file);
    s_token[strcspn (s_token, "\n")] = 0;
}

static void
s_submit (int count)
{
    for (int index = 0; index < count; index++) {
        json_t *reply = s_call_json ("POST", "/api/v1/jobs", s_token,
                                     "{\"kind\":\"demo\",\"name\":\"etl\",\"demo\":true}", 201);
        assert_string_equal (json_string_value (json_object_get (reply, "outcome")), "changed");
        json_decref (reply);
    }
}

//  The last id of a stream's text, 0 when none.
static uint64_t
s_last_id (const char *text)
{
    uint64_t last = 0;
    for (const char *at = strstr (text, "id: "); at; at = strstr (at + 1, "\nid: "))
        last = strtoull (at[0] == '\n' ? at + 5 : at + 4, NULL, 10);
    return last;
}

//  Reads every page of /api/v1/jobs?QUERY by 5 and checks that each of the expected jobs comes
//  once, matched, and (by_updated: QUERY sorts by -updated, the default) the order. The last id
//  into last.
static void
s_pages (const char *filter, int expected, bool by_updated, char *last_id, size_t size)
{
    char path[1200];
    snprintf (path, sizeof path, "/api/v1/jobs?limit=5&%s", filter);
    int seen = 0;
    int64_t last_updated = INT64_MAX;
    char last[64] = "~";
    while (true) {
        json_t *page = s_call_json ("GET", path, NULL, NULL, 200);
        assert_int_equal (json_integer_value (json_object_get (page, "matched")), expected);
        size_t index;
        json_t *job;
        json_array_foreach (json_object_get (page, "jobs"), index, job)
        {
            const char *id = json_string_value (json_object_get (job, "id"));
            int64_t updated = json_integer_value (json_object_get (job, "updated_at"));
            assert_string_not_equal (id, last);
            if (by_updated)
                assert_true (updated < last_updated ||
                             (updated == last_updated && strcmp (id, last) < 0));
            last_updated = updated;
            snprintf (last, sizeof last, "%s", id);
            seen++;
        }
        const char *next = json_string_value (json_object_get (page, "next"));
        if (!next) {
            json_decref (page);
            break;
        }
        snprintf (path, sizeof path, "/api/v1/jobs?limit=5&%s&cursor=%s", filter, next);
        json_decref (page);
    }
    assert_int_equal (seen, expected);
    snprintf (last_id, size, "%s", last);
}

static void
test_api_against_jobd (void **state)
{
    (void)state;
    s_start ();
    json_t *health = s_call_json ("GET", "/healthz", NULL, NULL, 200);
    json_decref (health);
    //  Writes need the token.
    json_t *refused =
        s_call_json ("POST", "/api/v1/jobs", NULL, "{\"kind\":\"demo\",\"demo\":true}", 401);
    json_decref (refused);
    refused = s_call_json ("POST", "/api/v1/jobs", "not-the-token-at-all",
                           "{\"kind\":\"demo\",\"demo\":true}", 401);
    json_decref (refused);
    //  The owning plugin checks the spec: nothing stored.
    refused =
        s_call_json ("POST", "/api/v1/jobs", s_token, "{\"kind\":\"demo\",\"colour\":1}", 400);
    assert_string_equal (json_string_value (json_object_get (refused, "error")), "invalid");
    json_decref (refused);
    refused = s_call_json ("POST", "/api/v1/jobs", s_token, "{\"kind\":\"nobody\"}", 400);
    json_decref (refused);

    s_submit (12);
    s_wait_matched ("/api/v1/jobs?state=SUCCEEDED,FAILED", 12);
    s_wait_matched ("/api/v1/jobs?state=FAILED", 4);

    //  Pages of 5, oldest first, by the cursor: 12 jobs, each once.
    char last[64];
    s_pages ("sort=created", 12, false, last, sizeof last);
    assert_string_equal (last, "job-12");
    //  Pages of 5 of the finished jobs, the last changed first (through the store's order
    //  index): each once, each no newer than the one before, matched from the counts.
    s_pages ("state=SUCCEEDED,FAILED", 12, true, last, sizeof last);
    s_pages ("state=FAILED", 4, true, last, sizeof last);

    //  One job and its whole history.
    json_t *job = s_call_json ("GET", "/api/v1/jobs/job-1", NULL, NULL, 200);
    json_t *history = json_object_get (job, "history");
    assert_int_equal (json_array_size (history), 4);
    assert_string_equal (json_string_value (json_object_get (json_array_get (history, 3), "state")),
                         "SUCCEEDED");
    assert_int_equal (json_integer_value (json_object_get (json_array_get (history, 3), "seq")), 4);
    //  The spec is an object, as jobctl writes it (it is JSON text in the record).
    json_t *spec = json_object_get (json_object_get (job, "job"), "spec");
    assert_true (json_is_object (spec));
    assert_string_equal (json_string_value (json_object_get (spec, "kind")), "demo");
    json_decref (job);
    job = s_call_json ("GET", "/api/v1/jobs/job-3", NULL, NULL, 200);
    assert_non_null (json_string_value (json_object_get (job, "reason")));
    json_decref (job);

    //  Cancel: a final job 409, an unknown one 404. Retry a failed one at once: 200, and it
    //  runs again (attempt 2; the demo fails every third job it runs: this is its 13th).
    json_decref (s_call_json ("POST", "/api/v1/jobs/job-1/cancel", s_token, NULL, 409));
    json_decref (s_call_json ("POST", "/api/v1/jobs/job-99/cancel", s_token, NULL, 404));
    json_t *retried =
        s_call_json ("POST", "/api/v1/jobs/job-3/retry", s_token, "{\"now\":true}", 200);
    assert_string_equal (json_string_value (json_object_get (retried, "outcome")), "changed");
    json_decref (retried);
    s_wait_matched ("/api/v1/jobs?state=SUCCEEDED,FAILED", 12);

    //  The broker's figures, answered at most 100 ms old.
    int64_t deadline = zclock_mono () + S_DEADLINE;
    while (true) {
        json_t *stats = s_call_json ("GET", "/api/v1/stats", NULL, NULL, 200);
        json_int_t transitions =
            json_integer_value (json_object_get (json_object_get (stats, "broker"), "transitions"));
        json_int_t failed =
            json_integer_value (json_object_get (json_object_get (stats, "counts"), "FAILED"));
        json_decref (stats);
        if (transitions >= 48 && failed >= 3)
            break;
        if (zclock_mono () > deadline)
            fail_msg ("stats: %lld transitions, %lld failed", (long long)transitions,
                      (long long)failed);
        zclock_sleep (20);
    }
    //  The demo's figures: reported with its status, answered with the plugins, and on /metrics
    //  as jobd_<name>{plugin="demo",...}; its observations counter has seen 3 for each of 12 jobs.
    json_t *figure = NULL;
    for (int64_t deadline = zclock_mono () + S_DEADLINE;;) {
        json_t *plugins = s_call_json ("GET", "/api/v1/plugins", NULL, NULL, 200);
        assert_int_equal (json_array_size (json_object_get (plugins, "plugins")), 2);
        json_t *demo = json_array_get (json_object_get (plugins, "plugins"), 0);
        assert_string_equal (json_string_value (json_object_get (demo, "name")), "demo");
        size_t index;
        json_t *entry;
        json_array_foreach (json_object_get (demo, "figures"), index,
                            entry) if (strcmp (json_string_value (json_array_get (entry, 0)),
                                               "demo_observations_total") == 0 &&
                                       json_integer_value (json_array_get (entry, 1)) >= 36)
            figure = json_incref (entry);
        json_decref (plugins);
        if (figure || zclock_mono () > deadline)
            break;
        zclock_sleep (20);
    }
    assert_non_null (figure);
    assert_string_equal (json_string_value (json_array_get (figure, 3)),
                         "Observations the demo plugin sent");
    json_decref (figure);

    http_answer_t answer;
    assert_int_equal (http_call ("GET", s_url ("/metrics"), NULL, NULL, NULL, &answer), 0);
    assert_int_equal (answer.status, 200);
    assert_non_null (
        strstr (answer.body, "jobd_jobs{state=\"FAILED\",kind=\"demo\",backend=\"\"}"));
    assert_non_null (
        strstr (answer.body, "jobd_transitions_total{from=\"RUNNING\",to=\"FAILED\"}"));
    assert_non_null (strstr (answer.body, "jobd_plugin_up{plugin=\"demo\",status=\"running\"} 1"));
    assert_non_null (strstr (answer.body, "jobd_commit_duration_seconds_bucket{le=\"0.001\"}"));
    assert_non_null (strstr (answer.body, "jobd_commit_batch_events_bucket{le=\"+Inf\"}"));
    assert_non_null (strstr (answer.body, "jobd_store_size_bytes "));
    assert_non_null (strstr (answer.body, "jobd_store_map_size_bytes 1073741824"));
    assert_non_null (strstr (answer.body, "# HELP jobd_demo_observations_total Observations the "
                                          "demo plugin sent\n"
                                          "# TYPE jobd_demo_observations_total counter\n"
                                          "jobd_demo_observations_total{plugin=\"demo\"} "));
    assert_non_null (strstr (answer.body,
                             "# TYPE jobd_demo_jobs_moving gauge\n"
                             "jobd_demo_jobs_moving{plugin=\"demo\",backend=\"demo\"} "));
    if (access ("/usr/bin/promtool", X_OK) == 0) {
        char file[400];
        snprintf (file, sizeof file, "%s/metrics.txt", s_harness.dir);
        FILE *out = fopen (file, "w");
        fwrite (answer.body, 1, answer.size, out);
        fclose (out);
        char command[600];
        snprintf (command, sizeof command, "promtool check metrics < %s", file);
        assert_int_equal (system (command), 0);
    }
    http_answer_clear (&answer);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, S_DEADLINE), 0);
}

//  A client that read the stream up to id L, then lost it while jobd committed more and
//  restarted, resumes with Last-Event-ID: L and gets L + 1 on, none missed, none repeated.
static void
test_stream_resumes_across_restart (void **state)
{
    (void)state;
    s_start ();
    s_submit (2);
    s_wait_matched ("/api/v1/jobs?state=SUCCEEDED,FAILED", 2);
    //  Everything so far, from the start of the log.
    char *text = http_sse_read (s_url ("/api/v1/events"), "0", NULL, "id: 8\n", S_DEADLINE, NULL);
    assert_non_null (text);
    uint64_t last = s_last_id (text);
    assert_int_equal (last, 8);
    free (text);
    //  Gone; meanwhile one more job runs, and jobd restarts.
    s_submit (1);
    s_wait_matched ("/api/v1/jobs?state=SUCCEEDED,FAILED", 3);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, S_DEADLINE), 0);
    s_start ();
    s_submit (1);
    s_wait_matched ("/api/v1/jobs?state=SUCCEEDED,FAILED", 4);
    text = http_sse_read (s_url ("/api/v1/events"), "8", NULL, "id: 16\n", S_DEADLINE, NULL);
    assert_non_null (text);
    assert_null (strstr (text, "event: reset"));
    assert_null (strstr (text, "id: 8\n"));
    for (int id = 9; id <= 16; id++) {
        char want[32];
        snprintf (want, sizeof want, "id: %d\nevent: transition\n", id);
        if (!strstr (text, want))
            fail_msg ("no %s in:\n%s", want, text);
    }
    assert_non_null (strstr (text, "\"job\":\"job-3\""));
    assert_non_null (strstr (text, "\"job\":\"job-4\""));
    free (text);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, S_DEADLINE), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_api_against_jobd, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stream_resumes_across_restart, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
