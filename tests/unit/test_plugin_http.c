//  Tests of the http plugin on the mock host, through a libcurl client: pages and cursors,
//  filters, one job, bad input and its counts, auth, commands relayed to the broker, the event
//  stream (resume, reset, filters, live wake, heartbeats), metrics, the token file.
#include "http_client.h"
#include "jobd_mock_host.h"
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#define S_DEADLINE 5000
#define S_TOKEN    "0123456789abcdef-test-token"

static int s_port;

static jobd_mock_host_t *
s_start_with (const char *const *extra, int *rc_p, char *reason, size_t reason_size)
{
    s_port = http_free_port ();
    char port[16];
    snprintf (port, sizeof port, "%d", s_port);
    const char *config[40] = {"port", port, "bus_timeout", "500ms", NULL};
    size_t used = 4;
    for (size_t index = 0; extra && extra[index] && used < 38; index++)
        config[used++] = extra[index];
    config[used] = NULL;
    const jobd_plugin_t *plugin = NULL;
    jobd_mock_host_t *host = jobd_mock_host_open ("http", config, &plugin, reason, reason_size);
    if (!host)
        fail_msg ("http did not load: %s", reason);
    *rc_p = jobd_mock_host_start (host, plugin, reason, reason_size);
    return host;
}

static jobd_mock_host_t *
s_start (const char *const *extra)
{
    const char *config[40] = {"token", S_TOKEN, NULL};
    size_t used = 2;
    for (size_t index = 0; extra && extra[index] && used < 38; index++)
        config[used++] = extra[index];
    config[used] = NULL;
    char reason[512] = "";
    int rc = 0;
    jobd_mock_host_t *host = s_start_with (config, &rc, reason, sizeof reason);
    if (rc)
        fail_msg ("http refused to start: %s", reason);
    assert_true (jobd_mock_host_subscribed (host, "job.x", S_DEADLINE));
    return host;
}

static char *
s_url (const char *path)
{
    static char url[600];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", s_port, path);
    return url;
}

static void
s_put (jobd_mock_host_t *host, int index, jobd_state_t state, int64_t updated)
{
    jobd_job_t *job = jobd_job_new ();
    char text[64];
    snprintf (text, sizeof text, "job-%02d", index);
    job->id = strdup (text);
    snprintf (text, sizeof text, "name %d%s", index, index % 5 == 0 ? " nightly" : "");
    job->name = strdup (text);
    job->kind = strdup (index % 2 ? "spark" : "kafka");
    job->state = state;
    job->updated_at = updated;
    job->queued_at = 1000 + index;
    if (state == JOBD_STATE_FAILED)
        job->error = strdup ("java.lang.OutOfMemoryError: Java heap space\n\tat x");
    jobd_mock_host_job_put (host, job);
    jobd_job_destroy (&job);
}

static json_t *
s_get_json (const char *path, long status)
{
    http_answer_t answer;
    assert_int_equal (http_call ("GET", s_url (path), NULL, NULL, NULL, &answer), 0);
    if (answer.status != status)
        fail_msg ("GET %s: %ld, not %ld: %s", path, answer.status, status, answer.body);
    json_t *value = json_loads (answer.body, 0, NULL);
    http_answer_clear (&answer);
    assert_non_null (value);
    return value;
}

//  25 jobs read by pages of 7, newest first: each once, in order; then a filter.
static void
test_pages_with_cursor (void **state)
{
    (void)state;
    jobd_mock_host_t *host = s_start (NULL);
    for (int index = 0; index < 25; index++)
        s_put (host, index, index % 3 ? JOBD_STATE_RUNNING : JOBD_STATE_FAILED,
               10000 + index / 2); //  ties, broken by id
    char seen[25] = {0};
    char path[1200] = "/api/v1/jobs?limit=7";
    int64_t last_updated = INT64_MAX;
    char last_id[64] = "~";
    size_t pages = 0, total = 0;
    while (true) {
        json_t *page = s_get_json (path, 200);
        assert_int_equal (json_integer_value (json_object_get (page, "matched")), 25);
        size_t index;
        json_t *job;
        json_array_foreach (json_object_get (page, "jobs"), index, job)
        {
            const char *id = json_string_value (json_object_get (job, "id"));
            int64_t updated = json_integer_value (json_object_get (job, "updated_at"));
            assert_true (updated < last_updated ||
                         (updated == last_updated && strcmp (id, last_id) < 0));
            last_updated = updated;
            snprintf (last_id, sizeof last_id, "%s", id);
            int number = atoi (id + 4);
            assert_int_equal (seen[number], 0);
            seen[number] = 1;
            total++;
        }
        pages++;
        const char *next = json_string_value (json_object_get (page, "next"));
        if (!next) {
            json_decref (page);
            break;
        }
        snprintf (path, sizeof path, "/api/v1/jobs?limit=7&cursor=%s", next);
        json_decref (page);
    }
    assert_int_equal (total, 25);
    assert_int_equal (pages, 4);

    json_t *failed = s_get_json ("/api/v1/jobs?state=FAILED&kind=kafka&sort=id", 200);
    assert_int_equal (json_integer_value (json_object_get (failed, "matched")), 5); //  0,6,..,24
    json_t *first = json_array_get (json_object_get (failed, "jobs"), 0);
    assert_string_equal (json_string_value (json_object_get (first, "id")), "job-00");
    json_decref (failed);
    json_t *named = s_get_json ("/api/v1/jobs?name=nightly&limit=2&sort=name", 200);
    assert_int_equal (json_integer_value (json_object_get (named, "matched")), 5);
    assert_int_equal (json_array_size (json_object_get (named, "jobs")), 2);
    json_decref (named);
    jobd_mock_host_destroy (&host);
}

static void
test_job (void **state)
{
    (void)state;
    jobd_mock_host_t *host = s_start (NULL);
    s_put (host, 3, JOBD_STATE_FAILED, 5000);
    json_t *body = s_get_json ("/api/v1/jobs/job-03", 200);
    json_t *job = json_object_get (body, "job");
    assert_string_equal (json_string_value (json_object_get (job, "state")), "FAILED");
    assert_string_equal (json_string_value (json_object_get (body, "reason")),
                         "java.lang.OutOfMemoryError: Java heap space");
    assert_true (json_is_array (json_object_get (body, "history")));
    assert_true (json_is_object (json_object_get (body, "links")));
    json_decref (body);
    body = s_get_json ("/api/v1/jobs/job-99", 404);
    assert_string_equal (json_string_value (json_object_get (body, "error")), "not_found");
    json_decref (body);
    body = s_get_json ("/api/v1/openapi.json", 200);
    assert_string_equal (json_string_value (json_object_get (body, "openapi")), "3.0.3");
    assert_non_null (json_object_get (json_object_get (body, "paths"), "/api/v1/events"));
    json_decref (body);
    jobd_mock_host_destroy (&host);
}

//  GET / and the page's files: their type, the headers that lock the page down, an ETag with
//  304 when the browser has it already, no token needed even when reads need one; an unknown
//  file is 404 like any unknown path.
static void
test_dashboard (void **state)
{
    (void)state;
    const char *read_auth[] = {"read_auth", "true", NULL};
    jobd_mock_host_t *host = s_start (read_auth);
    const struct {
        const char *path, *type, *text;
    } files[] = {{"/", "text/html; charset=utf-8", "<script src=\"/dashboard/app.js\" defer>"},
                 {"/dashboard/app.js", "text/javascript; charset=utf-8", "EventSource"},
                 {"/dashboard/app.css", "text/css; charset=utf-8", "prefers-color-scheme"},
                 {"/dashboard/icon.svg", "image/svg+xml", "<svg"}};
    for (size_t index = 0; index < sizeof files / sizeof files[0]; index++) {
        http_answer_t answer;
        assert_int_equal (http_call ("GET", s_url (files[index].path), NULL, NULL, NULL, &answer),
                          0);
        assert_int_equal (answer.status, 200);
        assert_string_equal (answer.content_type, files[index].type);
        assert_non_null (strstr (answer.body, files[index].text));
        assert_string_equal (answer.cache_control, "no-cache");
        assert_string_equal (answer.nosniff, "nosniff");
        assert_non_null (strstr (answer.csp, "default-src 'self'"));
        assert_non_null (strstr (answer.csp, "script-src 'self';"));
        assert_non_null (strstr (answer.csp, "connect-src 'self'"));
        assert_non_null (strstr (answer.csp, "frame-ancestors 'none'"));
        assert_null (strstr (answer.csp, "unsafe"));
        assert_int_equal (answer.etag[0], '"');
        //  The same ETag back: 304 and no body; another (or a list without it): the file.
        char header[200];
        snprintf (header, sizeof header, "If-None-Match: \"x\", W/%s", answer.etag);
        http_answer_t again;
        assert_int_equal (http_call ("GET", s_url (files[index].path), NULL, NULL, header, &again),
                          0);
        assert_int_equal (again.status, 304);
        assert_int_equal (again.size, 0);
        assert_string_equal (again.etag, answer.etag);
        http_answer_clear (&again);
        assert_int_equal (http_call ("GET", s_url (files[index].path), NULL, NULL,
                                     "If-None-Match: \"0000\"", &again),
                          0);
        assert_int_equal (again.status, 200);
        assert_int_equal (again.size, answer.size);
        http_answer_clear (&again);
        assert_int_equal (
            http_call ("GET", s_url (files[index].path), NULL, NULL, "If-None-Match: *", &again),
            0);
        assert_int_equal (again.status, 304);
        http_answer_clear (&again);
        http_answer_clear (&answer);
    }
    //  The page needs no token, the API it calls does (read_auth): the page asks for it.
    json_t *body = s_get_json ("/api/v1/stats", 401);
    json_decref (body);
    body = s_get_json ("/api/v1/openapi.json", 200);
    assert_non_null (json_object_get (json_object_get (body, "paths"), "/"));
    assert_non_null (json_object_get (json_object_get (body, "paths"), "/dashboard/{file}"));
    json_decref (body);
    body = s_get_json ("/dashboard/nope.js", 404);
    assert_string_equal (json_string_value (json_object_get (body, "error")), "not_found");
    json_decref (body);
    body = s_get_json ("/dashboard/..%2Fhttp.token", 404);
    json_decref (body);
    http_answer_t answer;
    assert_int_equal (http_call ("POST", s_url ("/"), S_TOKEN, "{}", NULL, &answer), 0);
    assert_int_equal (answer.status, 405);
    assert_string_equal (answer.allow, "GET, HEAD");
    http_answer_clear (&answer);
    assert_int_equal (http_call ("GET", s_url ("/?x=1"), NULL, NULL, NULL, &answer), 0);
    assert_int_equal (answer.status, 400);
    http_answer_clear (&answer);
    jobd_mock_host_destroy (&host);
}

//  Each bad request gets its 4xx with a JSON error, and is counted by reason and code.
static void
test_bad_input (void **state)
{
    (void)state;
    jobd_mock_host_t *host = s_start (NULL);
    const struct {
        const char *method, *path, *token, *body, *header;
        long status;
        const char *error;
    } cases[] = {
        {"GET", "/nope", NULL, NULL, NULL, 404, "not_found"},
        {"GET", "/api/v1/jobs/../stats", NULL, NULL, NULL, 404, "not_found"},
        {"GET", "/api/v1/jobs/a%2F..%2Fb", NULL, NULL, NULL, 404, "not_found"},
        {"DELETE", "/api/v1/jobs", NULL, NULL, NULL, 405, "method_not_allowed"},
        {"GET", "/api/v1/jobs?limit=5000", NULL, NULL, NULL, 400, "bad_request"},
        {"GET", "/api/v1/jobs?limit=5&limit=6", NULL, NULL, NULL, 400, "bad_request"},
        {"GET", "/api/v1/jobs?cursor=garbage", NULL, NULL, NULL, 400, "bad_request"},
        {"GET", "/api/v1/stats?x=1", NULL, NULL, NULL, 400, "bad_request"},
        {"POST", "/api/v1/jobs", NULL, "{\"kind\":\"demo\"}", NULL, 401, "unauthorized"},
        {"POST", "/api/v1/jobs", "wrong-token-wrong", "{\"kind\":\"demo\"}", NULL, 401,
         "unauthorized"},
        {"POST", "/api/v1/jobs", S_TOKEN, "{\"kind\":", NULL, 400, "bad_json"},
        {"POST", "/api/v1/jobs", S_TOKEN, "[1]", NULL, 400, "bad_json"},
        {"POST", "/api/v1/jobs/job-1/retry", S_TOKEN, "{\"now\":true,\"stop\":true}", NULL, 400,
         "bad_json"},
        {"POST", "/api/v1/jobs/job-1/cancel", S_TOKEN, "x=1",
         "Content-Type: application/x-www-form-urlencoded", 415, "unsupported_media_type"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        http_answer_t answer;
        assert_int_equal (http_call (cases[index].method, s_url (cases[index].path),
                                     cases[index].token, cases[index].body, cases[index].header,
                                     &answer),
                          0);
        if (answer.status != cases[index].status)
            fail_msg ("%s %s: %ld, not %ld (%s)", cases[index].method, cases[index].path,
                      answer.status, cases[index].status, answer.body);
        json_t *body = json_loads (answer.body, 0, NULL);
        assert_non_null (body);
        assert_string_equal (json_string_value (json_object_get (body, "error")),
                             cases[index].error);
        assert_true (strlen (json_string_value (json_object_get (body, "reason"))) > 0);
        if (cases[index].status == 405)
            assert_string_equal (answer.allow, "GET, HEAD, POST");
        json_decref (body);
        http_answer_clear (&answer);
    }
    //  A body over body_max (64k): 413, declared or not.
    char *big = (char *)malloc (70000);
    memset (big, ' ', 69999);
    big[0] = '{';
    big[69998] = '}';
    big[69999] = 0;
    http_answer_t answer;
    assert_int_equal (http_call ("POST", s_url ("/api/v1/jobs"), S_TOKEN, big, NULL, &answer), 0);
    assert_int_equal (answer.status, 413);
    http_answer_clear (&answer);
    assert_int_equal (http_call ("POST", s_url ("/api/v1/jobs"), S_TOKEN, big,
                                 "Transfer-Encoding: chunked", &answer),
                      0);
    assert_true (answer.status == 411 || answer.status == 413);
    http_answer_clear (&answer);
    free (big);
    //  Headers past header_max (32k): libmicrohttpd's own 431, counted all the same.
    char *header = (char *)malloc (40000);
    memcpy (header, "X-Big: ", 7);
    memset (header + 7, 'a', 39992);
    header[39999] = 0;
    assert_int_equal (http_call ("GET", s_url ("/api/v1/stats"), NULL, NULL, header, &answer), 0);
    assert_int_equal (answer.status, 431);
    http_answer_clear (&answer);
    free (header);
    //  Nothing of it reached the broker (a bounded wait for what must not come).
    assert_null (jobd_mock_host_expect (host, JOBD_EVENT_SUBMIT, 300));
    //  Counted: by reason and by code, in a text promtool accepts.
    assert_int_equal (http_call ("GET", s_url ("/metrics"), NULL, NULL, NULL, &answer), 0);
    assert_int_equal (answer.status, 200);
    const char *expected[] = {"jobd_http_refused_total{reason=\"auth\"} 2",
                              "jobd_http_refused_total{reason=\"path\"} 3",
                              "jobd_http_refused_total{reason=\"method\"} 1",
                              "jobd_http_refused_total{reason=\"cursor\"} 1",
                              "jobd_http_refused_total{reason=\"json\"} 3",
                              "jobd_http_refused_total{reason=\"headers\"} 1",
                              "jobd_http_requests_total{code=\"431\"} 1",
                              "jobd_http_requests_total{code=\"404\"} 3",
                              "jobd_http_requests_total{code=\"413\"}",
                              "jobd_http_request_duration_seconds_count"};
    for (size_t index = 0; index < sizeof expected / sizeof expected[0]; index++)
        if (!strstr (answer.body, expected[index]))
            fail_msg ("/metrics lacks %s:\n%s", expected[index], answer.body);
    if (access ("/usr/bin/promtool", X_OK) == 0) {
        char path[] = "/tmp/test_plugin_http_metrics_XXXXXX";
        int fd = mkstemp (path);
        assert_true (fd >= 0);
        assert_int_equal (write (fd, answer.body, answer.size), (ssize_t)answer.size);
        close (fd);
        char command[200];
        snprintf (command, sizeof command, "promtool check metrics < %s", path);
        assert_int_equal (system (command), 0);
        unlink (path);
    }
    http_answer_clear (&answer);
    jobd_mock_host_destroy (&host);
}

//  A request made on a thread of its own, while the test plays the broker.
typedef struct {
    const char *method;
    char path[200];
    const char *token;
    const char *body;
    http_answer_t answer;
    pthread_t thread;
} s_call_t;

static void *
s_call_run (void *arg)
{
    s_call_t *call = (s_call_t *)arg;
    http_call (call->method, s_url (call->path), call->token, call->body, NULL, &call->answer);
    return NULL;
}

static void
s_call_start (s_call_t *call, const char *method, const char *path, const char *body)
{
    memset (&call->answer, 0, sizeof call->answer);
    call->method = method;
    snprintf (call->path, sizeof call->path, "%s", path);
    call->token = S_TOKEN;
    call->body = body;
    assert_int_equal (pthread_create (&call->thread, NULL, s_call_run, call), 0);
}

static void
s_call_end (s_call_t *call, long status)
{
    pthread_join (call->thread, NULL);
    if (call->answer.status != status)
        fail_msg ("%s %s: %ld, not %ld (%s)", call->method, call->path, call->answer.status, status,
                  call->answer.body);
}

//  The plugins' figures on /metrics: one family per name across plugins, HELP and TYPE from the
//  name (counter for _total) and the first help given, label values and help escaped as the text
//  format wants; a figure that takes the name of one of the plugin's own series is left out.
static void
test_metrics_figures (void **state)
{
    (void)state;
    jobd_mock_host_t *host = s_start (NULL);
    //  [["polls_total", 7, {"backend": "a\"b\\c\nd"}, "Polls \\ sent"], ["lag", 0.5],
    //   ["up", 2]]   (jobd_up is the plugin's own)
    msgpack_sbuffer one;
    msgpack_sbuffer_init (&one);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &one, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 3);
    msgpack_pack_array (&pk, 4);
    msgpack_pack_str_with_body (&pk, "polls_total", 11);
    msgpack_pack_int (&pk, 7);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "backend", 7);
    msgpack_pack_str_with_body (&pk, "a\"b\\c\nd", 7);
    msgpack_pack_str_with_body (&pk, "Polls \\ sent", 12);
    msgpack_pack_array (&pk, 2);
    msgpack_pack_str_with_body (&pk, "lag", 3);
    msgpack_pack_double (&pk, 0.5);
    msgpack_pack_array (&pk, 2);
    msgpack_pack_str_with_body (&pk, "up", 2);
    msgpack_pack_int (&pk, 2);
    assert_int_equal (jobd_figures_check_bytes ((const uint8_t *)one.data, one.size, NULL, 0), 0);
    //  The other plugin: [["polls_total", 3]] (no help: the first one given stands).
    static const uint8_t two[] = {0x91, 0x92, 0xab, 'p', 'o', 'l', 'l', 's',
                                  '_',  't',  'o',  't', 'a', 'l', 0x03};
    jobd_answer_plugin_t plugins[] = {
        {"alpha", "1.0", "running", "", (const uint8_t *)one.data, one.size},
        {"beta", "1.0", "running", "", two, sizeof two},
        {"gamma", "1.0", "running", "", NULL, 0}};
    s_call_t call;
    s_call_start (&call, "GET", "/metrics", NULL);
    assert_true (jobd_mock_host_answer_plugins (host, plugins, 3, S_DEADLINE));
    s_call_end (&call, 200);
    const char *body = call.answer.body;
    const char *family =
        strstr (body, "# HELP jobd_polls_total Polls \\\\ sent\n"
                      "# TYPE jobd_polls_total counter\n"
                      "jobd_polls_total{plugin=\"alpha\",backend=\"a\\\"b\\\\c\\nd\"} 7\n"
                      "jobd_polls_total{plugin=\"beta\"} 3\n");
    if (!family)
        fail_msg ("/metrics lacks the polls_total family:\n%s", body);
    assert_non_null (strstr (body, "# HELP jobd_lag A plugin's figure lag.\n"
                                   "# TYPE jobd_lag gauge\njobd_lag{plugin=\"alpha\"} 0.5\n"));
    assert_null (strstr (body, "jobd_up{"));
    assert_non_null (strstr (body, "jobd_up 1\n"));
    if (access ("/usr/bin/promtool", X_OK) == 0) {
        char path[] = "/tmp/test_plugin_http_figures_XXXXXX";
        int fd = mkstemp (path);
        assert_true (fd >= 0);
        assert_int_equal (write (fd, call.answer.body, call.answer.size),
                          (ssize_t)call.answer.size);
        close (fd);
        char command[200];
        snprintf (command, sizeof command, "promtool check metrics < %s", path);
        assert_int_equal (system (command), 0);
        unlink (path);
    }
    http_answer_clear (&call.answer);
    msgpack_sbuffer_destroy (&one);
    jobd_mock_host_destroy (&host);
}

//  Commands go to the broker with reply set; its reply becomes the HTTP status.
static void
test_commands (void **state)
{
    (void)state;
    jobd_mock_host_t *host = s_start (NULL);
    s_call_t call;
    s_call_start (&call, "POST", "/api/v1/jobs", "{\"kind\":\"demo\",\"name\":\"x\",\"n\":1}");
    jobd_event_t *event = jobd_mock_host_expect (host, JOBD_EVENT_SUBMIT, S_DEADLINE);
    assert_non_null (event);
    assert_true (event->reply);
    assert_string_equal (event->kind, "demo");
    assert_string_equal (event->name, "x");
    assert_string_equal (event->spec, "{\"kind\":\"demo\",\"name\":\"x\",\"n\":1}");
    assert_int_equal (jobd_mock_host_reply (host, event->id, NULL, NULL, "job-9", "changed"), 0);
    jobd_event_destroy (&event);
    s_call_end (&call, 201);
    assert_string_equal (call.answer.location, "/api/v1/jobs/job-9");
    assert_non_null (strstr (call.answer.body, "\"job\":\"job-9\""));
    http_answer_clear (&call.answer);

    const struct {
        const char *path, *body;
        jobd_event_type_t type;
        const char *error;
        long status;
    } cases[] = {{"/api/v1/jobs", "{\"kind\":\"nope\"}", JOBD_EVENT_SUBMIT, "EINVAL", 400},
                 {"/api/v1/jobs/job-9/cancel", NULL, JOBD_EVENT_CANCEL, "ESTATE", 409},
                 {"/api/v1/jobs/job-9/cancel", "{}", JOBD_EVENT_CANCEL, NULL, 200},
                 {"/api/v1/jobs/job-8/retry", "{\"now\":true}", JOBD_EVENT_RETRY, "ENOTFOUND", 404},
                 {"/api/v1/jobs/job-9/retry", NULL, JOBD_EVENT_RETRY, "EFULL", 503},
                 //  Cluster mode: another instance owns the job (ask there, or again later).
                 {"/api/v1/jobs/job-7/cancel", NULL, JOBD_EVENT_CANCEL, "ENOTOWNER", 503}};
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        s_call_start (&call, "POST", cases[index].path, cases[index].body);
        event = jobd_mock_host_expect (host, cases[index].type, S_DEADLINE);
        assert_non_null (event);
        if (cases[index].type == JOBD_EVENT_RETRY && cases[index].body)
            assert_true (event->now);
        assert_int_equal (jobd_mock_host_reply (host, event->id, cases[index].error,
                                                cases[index].error ? "the broker says no" : NULL,
                                                event->job,
                                                cases[index].error ? NULL : "forwarded"),
                          0);
        jobd_event_destroy (&event);
        s_call_end (&call, cases[index].status);
        json_t *body = json_loads (call.answer.body, 0, NULL);
        assert_non_null (body);
        if (cases[index].error)
            assert_string_equal (json_string_value (json_object_get (body, "reason")),
                                 "the broker says no");
        else
            assert_string_equal (json_string_value (json_object_get (body, "outcome")),
                                 "forwarded");
        json_decref (body);
        http_answer_clear (&call.answer);
    }
    //  A broker that does not answer: 503 after bus_timeout.
    s_call_start (&call, "POST", "/api/v1/jobs/job-9/cancel", NULL);
    event = jobd_mock_host_expect (host, JOBD_EVENT_CANCEL, S_DEADLINE);
    jobd_event_destroy (&event);
    s_call_end (&call, 503);
    http_answer_clear (&call.answer);
    jobd_mock_host_destroy (&host);
}

static uint64_t
s_log (jobd_mock_host_t *host, const char *job, jobd_state_t from, jobd_state_t to, uint64_t seq)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->source, "test");
    jobd_event_set (&event->job, job);
    jobd_event_set (&event->kind, "spark");
    event->from = from;
    event->state = to;
    event->seq = seq;
    char topic[100];
    snprintf (topic, sizeof topic, "job.%s.%s", jobd_state_name (to), job);
    uint64_t position = jobd_mock_host_log_event (host, topic, event);
    assert_true (position > 0);
    jobd_event_destroy (&event);
    return position;
}

//  A stream read on a thread of its own.
typedef struct {
    char url[300];
    const char *last;
    const char *until;
    char *text;
    pthread_t thread;
} s_stream_t;

static void *
s_stream_run (void *arg)
{
    s_stream_t *stream = (s_stream_t *)arg;
    //  Longer than s_wait_streams may take: each /metrics waits for the mock's unanswered
    //  stats and plugins queries (bus_timeout).
    stream->text =
        http_sse_read (stream->url, stream->last, NULL, stream->until, 4 * S_DEADLINE, NULL);
    return NULL;
}

//  Waits until /metrics says that many streams are open.
static void
s_wait_streams (int count)
{
    char want[64];
    snprintf (want, sizeof want, "jobd_http_stream_clients %d\n", count);
    int64_t deadline = zclock_mono () + 2 * S_DEADLINE;
    while (true) {
        http_answer_t answer;
        assert_int_equal (http_call ("GET", s_url ("/metrics"), NULL, NULL, NULL, &answer), 0);
        bool found = strstr (answer.body, want) != NULL;
        http_answer_clear (&answer);
        if (found)
            return;
        if (zclock_mono () > deadline)
            fail_msg ("never %d streams open", count);
    }
}

static void
test_events (void **state)
{
    (void)state;
    const char *extra[] = {"heartbeat", "300ms", NULL};
    jobd_mock_host_t *host = s_start (extra);
    s_log (host, "job-1", JOBD_STATE_NONE, JOBD_STATE_QUEUED, 1);
    s_log (host, "job-1", JOBD_STATE_QUEUED, JOBD_STATE_RUNNING, 2);
    s_log (host, "job-2", JOBD_STATE_NONE, JOBD_STATE_QUEUED, 1);
    s_log (host, "job-2", JOBD_STATE_QUEUED, JOBD_STATE_RUNNING, 2);
    s_log (host, "job-1", JOBD_STATE_RUNNING, JOBD_STATE_SUCCEEDED, 3);
    //  Resumed after 2: 3, 4, 5 and nothing before.
    char *text = http_sse_read (s_url ("/api/v1/events"), "2", NULL, "id: 5\n", S_DEADLINE, NULL);
    assert_non_null (text);
    assert_non_null (strstr (text, "event: hello\ndata: {\"head\":5,\"after\":2}"));
    assert_null (strstr (text, "id: 2\n"));
    assert_non_null (strstr (text, "id: 3\nevent: transition\ndata: {"));
    assert_non_null (strstr (text, "id: 4\n"));
    assert_non_null (strstr (text, "\"job\":\"job-1\",\"kind\":\"spark\",\"state\":\"SUCCEEDED\""));
    free (text);
    //  Filters: one job's RUNNING only; the ids of the others are passed over.
    text = http_sse_read (s_url ("/api/v1/events?last_event_id=0&job=job-2&state=RUNNING"), NULL,
                          NULL, "id: 4\n", S_DEADLINE, NULL);
    assert_non_null (text);
    assert_null (strstr (text, "id: 1\n"));
    assert_null (strstr (text, "id: 3\n"));
    assert_non_null (strstr (text, "id: 4\n"));
    free (text);
    //  Past the head (another store): a reset, then on from the head.
    text = http_sse_read (s_url ("/api/v1/events"), "99", NULL, "event: reset", S_DEADLINE, NULL);
    assert_non_null (text);
    assert_non_null (strstr (text, "\"after\":99,\"resume\":5"));
    free (text);
    //  Live: a stream waiting at the head is woken by the next publication. The streams read
    //  above are gone first (the server sees a client gone at its next write: a heartbeat), so
    //  that the one open stream counted below is this one, waiting at head 5.
    s_wait_streams (0);
    s_stream_t stream = {.last = NULL, .until = "id: 6\n"};
    snprintf (stream.url, sizeof stream.url, "%s", s_url ("/api/v1/events"));
    assert_int_equal (pthread_create (&stream.thread, NULL, s_stream_run, &stream), 0);
    s_wait_streams (1);
    s_log (host, "job-2", JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 3);
    pthread_join (stream.thread, NULL);
    assert_non_null (stream.text);
    assert_non_null (strstr (stream.text, "id: 6\nevent: transition"));
    free (stream.text);
    //  A stale event is in the log too (ABI 1.6): sent with its position as id, through the
    //  streams' filters, and again to a stream that resumes before it.
    s_wait_streams (0);
    s_stream_t stale = {.last = NULL, .until = "event: stale\n"};
    snprintf (stale.url, sizeof stale.url, "%s", s_url ("/api/v1/events?kind=spark"));
    assert_int_equal (pthread_create (&stale.thread, NULL, s_stream_run, &stale), 0);
    s_wait_streams (1);
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_STALE);
    jobd_event_set (&event->source, "deadline");
    jobd_event_set (&event->job, "job-2");
    jobd_event_set (&event->kind, "spark");
    jobd_event_set (&event->error, "RUNNING for more than 2m0s");
    event->state = JOBD_STATE_RUNNING;
    assert_int_equal (jobd_mock_host_log_event (host, "stale.job-2", event), 7);
    jobd_event_destroy (&event);
    pthread_join (stale.thread, NULL);
    assert_non_null (stale.text);
    assert_non_null (strstr (stale.text, "id: 7\nevent: stale\ndata: {"));
    assert_non_null (strstr (stale.text, "\"error\":\"RUNNING for more than 2m0s\""));
    free (stale.text);
    text =
        http_sse_read (s_url ("/api/v1/events?kind=spark"), "6", NULL, "id: 7\n", S_DEADLINE, NULL);
    assert_non_null (text);
    assert_non_null (strstr (text, "id: 7\nevent: stale\ndata: {"));
    free (text);
    //  Heartbeats on an idle stream.
    text = http_sse_read (s_url ("/api/v1/events"), NULL, NULL, ": keepalive", S_DEADLINE, NULL);
    assert_non_null (text);
    assert_non_null (strstr (text, ": keepalive\n\n"));
    free (text);
    s_wait_streams (0);
    jobd_mock_host_destroy (&host);
}

//  Slow clients (headers never finished) hold connections but no thread: others are answered
//  meanwhile, and the idle ones are closed after `timeout`.
static void
test_slow_clients (void **state)
{
    (void)state;
    const char *extra[] = {"timeout", "1s", NULL};
    jobd_mock_host_t *host = s_start (extra);
    int sockets[50];
    for (size_t index = 0; index < 50; index++) {
        sockets[index] = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (s_port)};
        address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        assert_int_equal (connect (sockets[index], (struct sockaddr *)&address, sizeof address), 0);
        const char *partial = "GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        assert_int_equal (write (sockets[index], partial, strlen (partial)),
                          (ssize_t)strlen (partial));
    }
    for (int round = 0; round < 20; round++) {
        http_answer_t answer;
        assert_int_equal (
            http_call ("GET", s_url ("/api/v1/openapi.json"), NULL, NULL, NULL, &answer), 0);
        assert_int_equal (answer.status, 200);
        http_answer_clear (&answer);
    }
    //  Each slow one is closed by the server (end of file, or a refusal then end of file).
    for (size_t index = 0; index < 50; index++) {
        struct timeval wait = {.tv_sec = 10};
        setsockopt (sockets[index], SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
        char buffer[4096];
        ssize_t got;
        while ((got = read (sockets[index], buffer, sizeof buffer)) > 0)
            ;
        assert_int_equal (got, 0);
        close (sockets[index]);
    }
    jobd_mock_host_destroy (&host);
}

//  read_auth: reads need the token too; health checks never do.
static void
test_read_auth (void **state)
{
    (void)state;
    const char *extra[] = {"read_auth", "true", NULL};
    jobd_mock_host_t *host = s_start (extra);
    http_answer_t answer;
    assert_int_equal (http_call ("GET", s_url ("/api/v1/jobs"), NULL, NULL, NULL, &answer), 0);
    assert_int_equal (answer.status, 401);
    http_answer_clear (&answer);
    assert_int_equal (http_call ("GET", s_url ("/api/v1/jobs"), S_TOKEN, NULL, NULL, &answer), 0);
    assert_int_equal (answer.status, 200);
    http_answer_clear (&answer);
    long status = 0;
    char *text =
        http_sse_read (s_url ("/api/v1/events"), NULL, NULL, "event: hello", 2000, &status);
    assert_int_equal (status, 401);
    free (text);
    text = http_sse_read (s_url ("/api/v1/events?token=" S_TOKEN), NULL, NULL, "event: hello",
                          S_DEADLINE, &status);
    assert_int_equal (status, 200);
    free (text);
    //  The mock answers no stats query: not healthy, but answered without a token.
    assert_int_equal (http_call ("GET", s_url ("/healthz"), NULL, NULL, NULL, &answer), 0);
    assert_int_equal (answer.status, 503);
    http_answer_clear (&answer);
    jobd_mock_host_destroy (&host);
}

//  No token set: the token file is made 0600 with a random token; one others may read is refused.
static void
test_token_file (void **state)
{
    (void)state;
    char dir[] = "/tmp/test_plugin_http_XXXXXX";
    assert_non_null (mkdtemp (dir));
    char path[200];
    snprintf (path, sizeof path, "%s/token", dir);
    const char *extra[] = {"token_file", path, NULL};
    char reason[512] = "";
    int rc = 0;
    jobd_mock_host_t *host = s_start_with (extra, &rc, reason, sizeof reason);
    assert_int_equal (rc, 0);
    struct stat info;
    assert_int_equal (stat (path, &info), 0);
    assert_int_equal (info.st_mode & 0777, 0600);
    FILE *file = fopen (path, "r");
    char token[100] = "";
    assert_non_null (fgets (token, sizeof token, file));
    fclose (file);
    token[strcspn (token, "\n")] = 0;
    assert_int_equal (strlen (token), 64);
    http_answer_t answer;
    assert_int_equal (http_call ("POST", s_url ("/api/v1/jobs/x/cancel"), "not-the-token-at-all",
                                 NULL, NULL, &answer),
                      0);
    assert_int_equal (answer.status, 401);
    http_answer_clear (&answer);
    jobd_mock_host_destroy (&host);

    assert_int_equal (chmod (path, 0644), 0);
    host = s_start_with (extra, &rc, reason, sizeof reason);
    assert_int_equal (rc, JOBD_ECONFIG);
    assert_non_null (strstr (reason, "chmod 600"));
    jobd_mock_host_destroy (&host);
    unlink (path);
    rmdir (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_pages_with_cursor, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_job, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_dashboard, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_bad_input, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_commands, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_metrics_figures, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_events, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_slow_clients, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_read_auth, jobd_mock_host_teardown),
        cmocka_unit_test_teardown (test_token_file, jobd_mock_host_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
