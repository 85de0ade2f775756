//  The slack channel (plugins/notifier/nt_slack.c) against the HTTP recorder: the payload
//  (fallback text, a mrkdwn section readable on a phone, a context with the key), Slack's
//  escaping, the Idempotency-Key header, the answers' codes (5xx and 429 later, 4xx never), and
//  the webhook URL, a secret, in no reason nor error.
#include "nt_channel.h"
#include "nt_config_stub.h"
#include "rcv_http.h"
#include "rcv_proc.h"
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static const nt_config_t s_config = {NULL, "chat"};

//  The secret part of the webhook's URL, as Slack's.
#define S_SECRET_PATH "/services/T0001/B0002/XXXXsecretXXXX"

static void *
s_open (void)
{
    void *state = nt_config_stub_open (&nt_slack_type, &s_config);
    assert_non_null (state);
    return state;
}

//  A recorder and the channel pointed at it (the URL through url_file: a secret's usual way).
static void *
s_start (rcv_http_t **recorder_p, char *file, size_t file_size)
{
    rcv_http_t *recorder = rcv_http_new ();
    assert_non_null (recorder);
    snprintf (file, file_size, "/tmp/jobd-slack-url-%d", (int)getpid ());
    FILE *handle = fopen (file, "w");
    assert_non_null (handle);
    fprintf (handle, "%s%s\n", rcv_http_url (recorder), S_SECRET_PATH);
    fclose (handle);
    nt_config_stub_set ("url_file", file);
    *recorder_p = recorder;
    return s_open ();
}

static int
s_teardown (void **state)
{
    nt_config_stub_reset ();
    return 0;
}

static void
test_config_refused (void **state)
{
    void *channel = NULL;
    char reason[256] = "";
    assert_int_equal (nt_slack_type.open (&s_config, &channel, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "channels/chat/url"));
    nt_config_stub_set ("url", "ftp://hooks.example/XXXXsecretXXXX");
    assert_int_equal (nt_slack_type.open (&s_config, &channel, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_null (strstr (reason, "XXXXsecretXXXX"));
    nt_config_stub_set ("url", NULL);
    nt_config_stub_set ("url_env", "NT_SLACK_TEST_UNSET_VARIABLE");
    assert_int_equal (nt_slack_type.open (&s_config, &channel, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "NT_SLACK_TEST_UNSET_VARIABLE"));
    setenv ("NT_SLACK_TEST_URL", "https://hooks.example" S_SECRET_PATH, 1);
    nt_config_stub_set ("url_env", "NT_SLACK_TEST_URL");
    channel = s_open ();
    nt_slack_type.close (&channel);
    assert_null (channel);
}

static void
test_payload (void **state)
{
    rcv_http_t *recorder;
    char file[128];
    void *channel = s_start (&recorder, file, sizeof file);
    json_t *body = json_pack ("{s:{s:i, s:s, s:s}, s:{s:s, s:s}}", "job", "attempt", 3, "cause",
                              "java.lang.OutOfMemoryError: <heap> & more", "retry_final",
                              "attempts exhausted (3 of 3)", "links", "job",
                              "http://jobd.example/jobs/job-42?a=1&b=2", "spark ui",
                              "http://spark.example/app|x");
    nt_note_t note = {.key = "job-42/7",
                      .event = NT_EVENT_FINAL,
                      .subject = "jobd: etl <nightly> & co (job-42) FAILED for good",
                      .text = "etl failed.\n",
                      .body = body,
                      .job = "job-42",
                      .name = "etl <nightly> & co",
                      .kind = "spark",
                      .backend = "livy",
                      .state = "FAILED",
                      .ts = 1764820634123LL};
    char error[256] = "";
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), 0);
    assert_true (rcv_http_wait (recorder, 1, 5000));
    const rcv_request_t *request = rcv_http_request (recorder, 0);
    assert_string_equal (request->method, "POST");
    assert_string_equal (request->path, S_SECRET_PATH);
    char *key = rcv_http_header (request, "Idempotency-Key");
    char *type = rcv_http_header (request, "Content-Type");
    assert_string_equal (key, "job-42/7");
    assert_string_equal (type, "application/json");
    free (key);
    free (type);

    json_t *payload = json_loads (request->body, 0, NULL);
    assert_non_null (payload);
    assert_string_equal (json_string_value (json_object_get (payload, "text")),
                         "jobd: etl &lt;nightly&gt; &amp; co (job-42) FAILED for good");
    json_t *blocks = json_object_get (payload, "blocks");
    assert_int_equal (json_array_size (blocks), 2);
    json_t *section = json_array_get (blocks, 0);
    assert_string_equal (json_string_value (json_object_get (section, "type")), "section");
    json_t *text = json_object_get (section, "text");
    assert_string_equal (json_string_value (json_object_get (text, "type")), "mrkdwn");
    const char *mrkdwn = json_string_value (json_object_get (text, "text"));
    const char *const lines[] = {
        "*etl &lt;nightly&gt; &amp; co* (job-42)\n",
        ":x: *failed for good*\n",
        "cause: java.lang.OutOfMemoryError: &lt;heap&gt; &amp; more\n",
        "attempt: 3\n",
        "no retry: attempts exhausted (3 of 3)\n",
        "kind: spark on livy\n",
        "<http://jobd.example/jobs/job-42?a=1&amp;b=2|job>  ·  "
        "<http://spark.example/app%7Cx|spark ui>",
    };
    const char *cursor = mrkdwn;
    for (size_t index = 0; index < sizeof lines / sizeof lines[0]; index++) {
        const char *found = strstr (cursor, lines[index]);
        if (!found)
            fail_msg ("no '%s' in order in:\n%s", lines[index], mrkdwn);
        cursor = found + strlen (lines[index]);
    }
    //  Short lines for a phone but the links'.
    for (const char *line = mrkdwn; *line;) {
        size_t length = strcspn (line, "\n");
        assert_true (length <= 80 || line[0] == '<');
        line += length + (line[length] ? 1 : 0);
    }
    json_t *context = json_array_get (blocks, 1);
    assert_string_equal (json_string_value (json_object_get (context, "type")), "context");
    const char *footer = json_string_value (
        json_object_get (json_array_get (json_object_get (context, "elements"), 0), "text"));
    assert_non_null (strstr (footer, "`job-42/7`"));
    assert_non_null (strstr (footer, "2025-12-04T03:57:14.123Z"));
    json_decref (payload);

    //  A failure with a retry to come says when.
    json_object_set_new (json_object_get (body, "job"), "retry_at", json_integer (1764820934000LL));
    json_object_del (json_object_get (body, "job"), "retry_final");
    note.event = NT_EVENT_FAILED;
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), 0);
    assert_true (rcv_http_wait (recorder, 2, 5000));
    assert_non_null (
        strstr (rcv_http_request (recorder, 1)->body, "next retry: 2025-12-04T04:02:14.000Z"));
    //  A name that is not UTF-8 (a job's name is any bytes): sent, the bad byte as '?'.
    note.name = "etl-\xff\xc3"
                "x";
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), 0);
    assert_true (rcv_http_wait (recorder, 3, 5000));
    assert_non_null (strstr (rcv_http_request (recorder, 2)->body, "*etl-?"
                                                                   "?x*"));
    json_decref (body);
    nt_slack_type.close (&channel);
    rcv_http_destroy (&recorder);
    unlink (file);
}

static void
test_digest_fits (void **state)
{
    rcv_http_t *recorder;
    char file[128];
    void *channel = s_start (&recorder, file, sizeof file);
    //  A digest's text longer than a section takes.
    char *text = calloc (1, 20000);
    for (int index = 0; index < 500; index++)
        sprintf (text + strlen (text), "job-%d nightly FAILED <oom>\n", index);
    nt_note_t note = {.key = "digest/failures/job-1/2",
                      .event = NT_EVENT_DIGEST,
                      .subject = "jobd: 1000 jobs FAILED in 1m (rule failures)",
                      .text = text,
                      .ts = 1764820634123LL};
    char error[256] = "";
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), 0);
    assert_true (rcv_http_wait (recorder, 1, 5000));
    json_t *payload = json_loads (rcv_http_request (recorder, 0)->body, 0, NULL);
    const char *mrkdwn = json_string_value (json_object_get (
        json_object_get (json_array_get (json_object_get (payload, "blocks"), 0), "text"), "text"));
    assert_non_null (mrkdwn);
    assert_true (!strncmp (mrkdwn, "*jobd: 1000 jobs FAILED in 1m (rule failures)*\njob-0 ", 52));
    assert_true (strlen (mrkdwn) <= 3000);
    assert_non_null (strstr (mrkdwn, "&lt;oom&gt;"));
    //  Cut at a whole entity, never inside one.
    const char *last_amp = strrchr (mrkdwn, '&');
    assert_non_null (strchr (last_amp, ';'));
    json_decref (payload);
    free (text);
    nt_slack_type.close (&channel);
    rcv_http_destroy (&recorder);
    unlink (file);
}

static void
test_answers (void **state)
{
    rcv_http_t *recorder;
    char file[128];
    void *channel = s_start (&recorder, file, sizeof file);
    nt_note_t note = {.key = "job-1/2",
                      .event = NT_EVENT_FINAL,
                      .subject = "s",
                      .text = "t\n",
                      .job = "job-1",
                      .state = "FAILED",
                      .ts = 1764820634123LL};
    char error[256] = "";
    rcv_http_answer (recorder, 503, NULL);
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "HTTP 503 from slack webhook"));
    assert_null (strstr (error, "secret"));
    assert_null (strstr (error, rcv_http_url (recorder)));

    rcv_http_answer (recorder, 429, "30");
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "HTTP 429 from slack webhook (Retry-After: 30)"));

    //  A revoked webhook (404) is the channel's: held until fixed; a payload refused (400) is
    //  this note's: dropped.
    rcv_http_answer (recorder, 404, NULL);
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "HTTP 404"));
    rcv_http_answer (recorder, 400, NULL);
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), JOBD_EINVAL);
    assert_non_null (strstr (error, "HTTP 400"));

    rcv_http_answer (recorder, 200, NULL);
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), 0);
    assert_int_equal (rcv_http_count (recorder), 5);
    //  An empty subject (found by fuzz_channels: the payload was not built, "out of memory").
    nt_note_t bare = {.key = "job-1/3", .event = NT_EVENT_FAILED, .subject = "", .job = "job-1"};
    assert_int_equal (nt_slack_type.deliver (channel, &bare, error, sizeof error), 0);
    assert_true (rcv_http_wait (recorder, 6, 5000));
    //  Every attempt of one note carries its key.
    for (size_t index = 0; index < 5; index++) {
        char *key = rcv_http_header (rcv_http_request (recorder, index), "Idempotency-Key");
        assert_string_equal (key, "job-1/2");
        free (key);
    }

    //  Down: later; the error names the webhook, not its URL nor its host's port.
    char port[16];
    snprintf (port, sizeof port, "%s", strrchr (rcv_http_url (recorder), ':'));
    rcv_http_destroy (&recorder);
    assert_int_equal (nt_slack_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "slack webhook"));
    assert_null (strstr (error, "secret"));
    assert_null (strstr (error, port));
    nt_slack_type.close (&channel);
    unlink (file);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_config_refused, s_teardown),
        cmocka_unit_test_teardown (test_payload, s_teardown),
        cmocka_unit_test_teardown (test_digest_fits, s_teardown),
        cmocka_unit_test_teardown (test_answers, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
