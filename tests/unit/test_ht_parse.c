//  Tests of the http plugin's parsers (plugins/http/ht_parse.c): routes and path tricks, query
//  parameters, cursors, bodies, tokens.
#include "ht_parse.h"
#include "ht_status.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
test_routes (void **state)
{
    (void)state;
    char id[JOBD_ID_MAX + 1];
    assert_int_equal (ht_route ("/api/v1/jobs", id, sizeof id), HT_ROUTE_JOBS);
    assert_int_equal (ht_route ("/api/v1/jobs/job-42", id, sizeof id), HT_ROUTE_JOB);
    assert_string_equal (id, "job-42");
    assert_int_equal (ht_route ("/api/v1/jobs/job-42/cancel", id, sizeof id), HT_ROUTE_CANCEL);
    assert_int_equal (ht_route ("/api/v1/jobs/job 7/retry", id, sizeof id), HT_ROUTE_RETRY);
    assert_string_equal (id, "job 7");
    assert_int_equal (ht_route ("/api/v1/stats", id, sizeof id), HT_ROUTE_STATS);
    assert_int_equal (ht_route ("/api/v1/plugins", id, sizeof id), HT_ROUTE_PLUGINS);
    assert_int_equal (ht_route ("/api/v1/events", id, sizeof id), HT_ROUTE_EVENTS);
    assert_int_equal (ht_route ("/api/v1/openapi.json", id, sizeof id), HT_ROUTE_OPENAPI);
    assert_int_equal (ht_route ("/metrics", id, sizeof id), HT_ROUTE_METRICS);
    assert_int_equal (ht_route ("/healthz", id, sizeof id), HT_ROUTE_HEALTHZ);
    assert_int_equal (ht_route ("/readyz", id, sizeof id), HT_ROUTE_READYZ);
    //  The dashboard's files: "/" is its page; names of [a-z0-9.-] only, not starting with '.'.
    assert_int_equal (ht_route ("/", id, sizeof id), HT_ROUTE_DASHBOARD);
    assert_string_equal (id, "index.html");
    assert_int_equal (ht_route ("/dashboard/app.js", id, sizeof id), HT_ROUTE_DASHBOARD);
    assert_string_equal (id, "app.js");
    assert_int_equal (ht_route ("/dashboard/xy", id, 2), HT_ROUTE_NONE); //  no room for it
    //  Path tricks and ids jobd would not have.
    const char *refused[] = {"",
                             "//",
                             "/index.html",
                             "/dashboard/",
                             "/dashboard/.",
                             "/dashboard/..",
                             "/dashboard/../api/v1/stats",
                             "/dashboard/.hidden",
                             "/dashboard/a/b",
                             "/dashboard/App.js",
                             "/dashboard/a%2Fb",
                             "/dashboard/a\\b",
                             "/api/v1/jobs/",
                             "/api/v1/jobs/..",
                             "/api/v1/jobs/.",
                             "/api/v1/jobs/../stats",
                             "/api/v1/jobs/a/b",
                             "/api/v1/jobs/a/cancel/x",
                             "/api/v1/jobs/a\\b",
                             "/api/v1/jobs/a\nb",
                             "/api/v1/jobs/a\x7f",
                             "/api/v1/stats/",
                             "/api/v1//jobs",
                             "/API/v1/jobs",
                             "/metrics/../healthz"};
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++)
        assert_int_equal (ht_route (refused[index], id, sizeof id), HT_ROUTE_NONE);
    char path[400];
    snprintf (path, sizeof path, "/api/v1/jobs/%0129d", 7);
    assert_int_equal (ht_route (path, id, sizeof id), HT_ROUTE_NONE);
    snprintf (path, sizeof path, "/api/v1/jobs/%0128d", 7);
    assert_int_equal (ht_route (path, id, sizeof id), HT_ROUTE_JOB);
}

static void
test_methods (void **state)
{
    (void)state;
    assert_true (ht_route_takes (HT_ROUTE_JOBS, "GET"));
    assert_true (ht_route_takes (HT_ROUTE_JOBS, "POST"));
    assert_true (ht_route_takes (HT_ROUTE_JOBS, "HEAD"));
    assert_false (ht_route_takes (HT_ROUTE_JOBS, "DELETE"));
    assert_false (ht_route_takes (HT_ROUTE_JOB, "POST"));
    assert_false (ht_route_takes (HT_ROUTE_CANCEL, "GET"));
    assert_true (ht_route_takes (HT_ROUTE_RETRY, "POST"));
    assert_false (ht_route_takes (HT_ROUTE_METRICS, "PUT"));
    assert_false (ht_route_takes (HT_ROUTE_NONE, "GET"));
    assert_string_equal (ht_route_allow (HT_ROUTE_CANCEL), "POST");
    assert_string_equal (ht_route_allow (HT_ROUTE_JOBS), "GET, HEAD, POST");
}

static int
s_set (ht_params_t *params, const char *key, const char *value, bool events)
{
    char reason[300] = "";
    int rc = ht_params_set (params, key, value, events, reason, sizeof reason);
    if (rc)
        assert_true (strlen (reason) > 0);
    return rc;
}

static void
test_params (void **state)
{
    (void)state;
    ht_params_t params;
    ht_params_init (&params);
    assert_int_equal (params.limit, HT_LIMIT_DEFAULT);
    assert_true (params.descending);
    assert_int_equal (s_set (&params, "state", "FAILED,RUNNING", false), 0);
    assert_int_equal (params.state_mask, (1u << JOBD_STATE_FAILED) | (1u << JOBD_STATE_RUNNING));
    assert_int_equal (s_set (&params, "state", "QUEUED", false), -EINVAL); //  twice
    assert_int_equal (s_set (&params, "kind", "spark", false), 0);
    assert_int_equal (s_set (&params, "limit", "0", false), -EINVAL);
    assert_int_equal (s_set (&params, "sort", "-created", false), 0);
    assert_int_equal (params.sort, HT_SORT_CREATED);
    assert_true (params.descending);
    assert_int_equal (s_set (&params, "since", "100", false), 0);
    assert_int_equal (s_set (&params, "until", "50", false), 0);
    char reason[200];
    assert_int_equal (ht_params_finish (&params, reason, sizeof reason), -EINVAL);

    ht_params_init (&params);
    const char *bad[][2] = {{"state", "running"}, {"state", "RUNNING,"}, {"state", ""},
                            {"limit", "1001"},    {"limit", "-1"},       {"limit", "1e3"},
                            {"since", "12x"},     {"time", "now"},       {"stale", "yes"},
                            {"sort", "size"},     {"cursor", "!!"},      {"bogus", "1"},
                            {"job", "x"},         {"kind", ""}};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        ht_params_init (&params);
        assert_int_equal (s_set (&params, bad[index][0], bad[index][1], false), -EINVAL);
    }
    //  /events takes job, last_event_id and token, not sort or limit.
    ht_params_init (&params);
    assert_int_equal (s_set (&params, "job", "job-1", true), 0);
    assert_int_equal (s_set (&params, "last_event_id", "42", true), 0);
    assert_int_equal (params.last_event_id, 42);
    assert_int_equal (s_set (&params, "token", "secret", true), 0);
    assert_int_equal (s_set (&params, "limit", "5", true), -EINVAL);
    assert_int_equal (s_set (&params, "last_event_id", "43", true), -EINVAL);
}

static jobd_job_t *
s_job (const char *id, const char *name, jobd_state_t state, int64_t updated)
{
    jobd_job_t *job = jobd_job_new ();
    job->id = strdup (id);
    job->name = name ? strdup (name) : NULL;
    job->kind = strdup ("spark");
    job->state = state;
    job->updated_at = updated;
    job->queued_at = updated - 10;
    return job;
}

static void
test_match (void **state)
{
    (void)state;
    jobd_job_t *job = s_job ("job-1", "nightly orders", JOBD_STATE_FAILED, 1000);
    ht_params_t params;
    ht_params_init (&params);
    assert_true (ht_params_match_job (&params, job));
    s_set (&params, "name", "orders", false);
    assert_true (ht_params_match_job (&params, job));
    s_set (&params, "state", "RUNNING", false);
    assert_false (ht_params_match_job (&params, job));
    ht_params_init (&params);
    s_set (&params, "since", "990", false);
    s_set (&params, "until", "991", false);
    assert_true (ht_params_match_job (&params, job)); //  created at 990
    ht_params_init (&params);
    s_set (&params, "time", "updated", false);
    s_set (&params, "until", "1000", false);
    assert_false (ht_params_match_job (&params, job)); //  until is exclusive
    ht_params_init (&params);
    s_set (&params, "stale", "true", false);
    assert_false (ht_params_match_job (&params, job));
    jobd_job_destroy (&job);
}

static void
test_cursor_round_trip (void **state)
{
    (void)state;
    const char *sorts[] = {"-updated", "created", "name", "-state", "kind", "backend", "-id"};
    for (size_t index = 0; index < sizeof sorts / sizeof sorts[0]; index++) {
        ht_params_t params;
        ht_params_init (&params);
        assert_int_equal (s_set (&params, "sort", sorts[index], false), 0);
        jobd_job_t *job = s_job ("job-|9", "a|b\x1fname", JOBD_STATE_RUNNING, -5);
        ht_key_t key = ht_key_of (&params, job);
        char *cursor = ht_cursor_encode (&params, &key);
        assert_non_null (cursor);
        for (const char *c = cursor; *c; c++)
            assert_non_null (strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_",
                                     *c));
        ht_params_t next;
        ht_params_init (&next);
        assert_int_equal (s_set (&next, "cursor", cursor, false), 0);
        char reason[200];
        assert_int_equal (ht_params_finish (&next, reason, sizeof reason), 0);
        assert_int_equal (next.sort, params.sort); //  taken from the cursor
        assert_int_equal (next.descending, params.descending);
        assert_false (ht_params_after_cursor (&next, &key)); //  strictly after
        assert_string_equal (next.after_id, "job-|9");
        //  The same cursor with another sort is refused.
        ht_params_t other;
        ht_params_init (&other);
        assert_int_equal (s_set (&other, "sort", index == 2 ? "kind" : "name", false), 0);
        assert_int_equal (s_set (&other, "cursor", cursor, false), 0);
        assert_int_equal (ht_params_finish (&other, reason, sizeof reason), -EINVAL);
        free (cursor);
        jobd_job_destroy (&job);
    }
    //  Junk, truncated and hand-made cursors.
    const char *junk[] = {"",
                          "a",
                          "AAAA",
                          "MXwxMHxkfDB8MHx4",
                          "MXw5OXxkfDB8MHx4",
                          "MXwwfGR8MHw5OXx4",
                          "MXwwfGR8MHwwfA"};
    for (size_t index = 0; index < sizeof junk / sizeof junk[0]; index++) {
        ht_params_t params;
        ht_params_init (&params);
        assert_int_equal (s_set (&params, "cursor", junk[index], false), -EINVAL);
    }
}

static void
test_order (void **state)
{
    (void)state;
    ht_params_t params;
    ht_params_init (&params); //  -updated
    jobd_job_t *a = s_job ("a", NULL, JOBD_STATE_RUNNING, 10);
    jobd_job_t *b = s_job ("b", NULL, JOBD_STATE_RUNNING, 10);
    jobd_job_t *c = s_job ("c", NULL, JOBD_STATE_RUNNING, 20);
    ht_key_t ka = ht_key_of (&params, a), kb = ht_key_of (&params, b), kc = ht_key_of (&params, c);
    assert_true (ht_key_compare (&params, &kc, &ka) < 0); //  newest first
    assert_true (ht_key_compare (&params, &kb, &ka) < 0); //  ties by id, descending too
    s_set (&params, "sort", "updated", false);
    ka = ht_key_of (&params, a);
    kb = ht_key_of (&params, b);
    assert_true (ht_key_compare (&params, &ka, &kb) < 0);
    jobd_job_destroy (&a);
    jobd_job_destroy (&b);
    jobd_job_destroy (&c);
}

static void
test_bodies (void **state)
{
    (void)state;
    char reason[300];
    ht_submit_t submit;
    const char *good = "{\"kind\":\"spark\",\"name\":\"n\",\"backend\":\"livy\",\"x\":[1,2]}";
    assert_int_equal (ht_submit_read (good, strlen (good), &submit, reason, sizeof reason), 0);
    assert_string_equal (submit.kind, "spark");
    assert_string_equal (submit.name, "n");
    assert_string_equal (submit.backend, "livy");
    assert_non_null (strstr (submit.spec, "\"x\":[1,2]"));
    ht_submit_clear (&submit);
    const char *bad[] = {"",
                         "[]",
                         "{",
                         "{\"name\":\"n\"}",
                         "{\"kind\":7}",
                         "{\"kind\":\"\"}",
                         "{\"kind\":\"a\",\"kind\":\"b\"}",
                         "{\"kind\":\"a\",\"name\":null}",
                         "{\"kind\":\"a\"} {}",
                         "{\"kind\":\"a\\u0000b\"}"};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        reason[0] = 0;
        assert_int_equal (
            ht_submit_read (bad[index], strlen (bad[index]), &submit, reason, sizeof reason),
            -EINVAL);
        assert_true (strlen (reason) > 0);
        assert_null (submit.kind);
    }
    bool now, stop;
    assert_int_equal (ht_retry_read ("", 0, &now, &stop, reason, sizeof reason), 0);
    assert_int_equal (ht_retry_read ("{\"now\":true}", 12, &now, &stop, reason, sizeof reason), 0);
    assert_true (now);
    const char *both = "{\"now\":true,\"stop\":true}";
    assert_int_equal (ht_retry_read (both, strlen (both), &now, &stop, reason, sizeof reason),
                      -EINVAL);
    assert_int_equal (ht_retry_read ("{\"now\":1}", 9, &now, &stop, reason, sizeof reason),
                      -EINVAL);
    assert_int_equal (ht_cancel_read (" {} ", 4, reason, sizeof reason), 0);
    assert_int_equal (ht_cancel_read ("{\"x\":1}", 7, reason, sizeof reason), -EINVAL);
}

static void
test_tokens (void **state)
{
    (void)state;
    char token[64];
    assert_int_equal (ht_bearer_read ("Bearer abc", token, sizeof token), 0);
    assert_string_equal (token, "abc");
    assert_int_equal (ht_bearer_read ("bearer  abc ", token, sizeof token), 0);
    assert_string_equal (token, "abc");
    assert_int_equal (ht_bearer_read ("Basic abc", token, sizeof token), -EINVAL);
    assert_int_equal (ht_bearer_read ("Bearer ", token, sizeof token), -EINVAL);
    assert_int_equal (ht_bearer_read (NULL, token, sizeof token), -EINVAL);
    assert_true (ht_token_equal ("secret", "secret"));
    assert_false (ht_token_equal ("secre", "secret"));
    assert_false (ht_token_equal ("secrets", "secret"));
    assert_false (ht_token_equal ("", ""));
}

//  A broker's refusal as HTTP: each error's status and code; a cluster's write committed and
//  not confirmed (ETIMEOUT with a job) is 504 unconfirmed, not 503 (which invites a retry).
static void
test_statuses (void **state)
{
    (void)state;
    const struct {
        const char *error, *job;
        unsigned status;
        const char *code;
    } cases[] = {{"EINVAL", "", 400, "invalid"},          {"ENOTFOUND", "", 404, "not_found"},
                 {"ESTATE", "", 409, "conflict"},         {"ETIMEOUT", "", 503, "unavailable"},
                 {"ETIMEOUT", "j-1", 504, "unconfirmed"}, {"ENOTOWNER", "", 503, "unavailable"},
                 {"EFAIL", "", 500, "internal"}};
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        jobd_reply_t reply = {.ok = false};
        snprintf (reply.error, sizeof reply.error, "%s", cases[index].error);
        snprintf (reply.job, sizeof reply.job, "%s", cases[index].job);
        const char *code = NULL;
        assert_int_equal (ht_status_of (&reply, &code), cases[index].status);
        assert_string_equal (code, cases[index].code);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_statuses), cmocka_unit_test (test_routes),
        cmocka_unit_test (test_methods),  cmocka_unit_test (test_params),
        cmocka_unit_test (test_match),    cmocka_unit_test (test_cursor_round_trip),
        cmocka_unit_test (test_order),    cmocka_unit_test (test_bodies),
        cmocka_unit_test (test_tokens),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
