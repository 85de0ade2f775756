//  The notifier's own channels, called directly (open, deliver, close) against real receivers:
//  webhook against the test's webhook_sink (body, Idempotency-Key, custom headers, the
//  HMAC-SHA256 signature checked with OpenSSL here, 503 retried, 400 refused for good, a dead
//  port), exec with /bin/sh (stdin, environment, exit status, killed at the timeout); secrets
//  from a value, a variable or a file, and never in an error.
#include "nt_note.h"
#include "nt_rules.h"
#include "webhook_sink.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  A host whose config is a table the test fills: "channels/NAME/KEY" = value.
static char s_keys[32][128], s_values[32][512];
static size_t s_count;

static const char *
s_config_str (const jobd_host_t *host, const char *key)
{
    (void)host;
    for (size_t index = 0; index < s_count; index++)
        if (strcmp (s_keys[index], key) == 0)
            return s_values[index];
    return NULL;
}

static int64_t
s_config_int (const jobd_host_t *host, const char *key, int64_t fallback)
{
    const char *value = s_config_str (host, key);
    return value ? strtoll (value, NULL, 10) : fallback;
}

//  One channel, "c", once any key is set.
static size_t
s_config_names (const jobd_host_t *host, const char *path, const char **names, size_t max)
{
    (void)host;
    if (strcmp (path, "channels") || s_count == 0)
        return 0;
    if (max)
        names[0] = "c";
    return 1;
}

static jobd_host_t s_host = {.size = sizeof (jobd_host_t),
                             .plugin_name = "notifier",
                             .config_str = s_config_str,
                             .config_int = s_config_int,
                             .config_names = s_config_names};

static void
s_set (const char *key, const char *value)
{
    snprintf (s_keys[s_count], sizeof s_keys[0], "channels/c/%s", key);
    snprintf (s_values[s_count], sizeof s_values[0], "%s", value);
    s_count++;
}

static int
s_reset (void **state)
{
    s_count = 0;
    return 0;
}

static nt_note_t *
s_note (uint64_t seq)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->job, "job-1");
    jobd_event_set (&event->name, "etl");
    event->from = JOBD_STATE_RUNNING;
    event->state = JOBD_STATE_FAILED;
    event->attempt = 1;
    event->seq = seq;
    event->ts = 1000;
    nt_note_t *note = nt_note_new (NT_EVENT_FINAL, event, NULL, NULL);
    jobd_event_destroy (&event);
    return note;
}

static void *
s_open (const char *type, int expect, char *reason, size_t reason_size)
{
    const nt_channel_type_t *channel = nt_channel_type (type);
    assert_non_null (channel);
    nt_config_t config = {&s_host, "c"};
    void *state = NULL;
    assert_int_equal (channel->open (&config, &state, reason, reason_size), expect);
    return state;
}

static void
test_webhook_delivers_signed (void **unused)
{
    webhook_sink_t *sink = webhook_sink_new ();
    assert_non_null (sink);
    s_set ("type", "webhook");
    s_set ("url", webhook_sink_url (sink));
    s_set ("headers", "X-Team: data; Authorization: Bearer t0");
    setenv ("NT_TEST_SECRET", "hunter2-secret", 1);
    s_set ("secret_env", "NT_TEST_SECRET");
    char reason[256] = "";
    void *state = s_open ("webhook", 0, reason, sizeof reason);
    nt_note_t *note = s_note (5);
    char error[256] = "";
    assert_int_equal (nt_webhook_type.deliver (state, note, error, sizeof error), 0);
    assert_int_equal (webhook_sink_count (sink), 1);
    char *body = webhook_sink_body (sink, 0);
    char *key = webhook_sink_header (sink, 0, "Idempotency-Key");
    char *team = webhook_sink_header (sink, 0, "X-Team");
    char *signature = webhook_sink_header (sink, 0, "X-Jobd-Signature");
    char *agent = webhook_sink_header (sink, 0, "User-Agent");
    assert_string_equal (agent, "jobd/" JOBD_VERSION " notifier");
    free (agent);
    assert_string_equal (key, "job-1/5");
    assert_string_equal (team, "data");
    json_t *root = json_loads (body, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (root, "key")), "job-1/5");
    assert_null (strstr (body, "hunter2"));
    //  The signature, computed here with the receiver's view of the body.
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC (EVP_sha256 (), "hunter2-secret", 14, (const unsigned char *)body, strlen (body), digest,
          &length);
    char expected[80] = "sha256=";
    for (unsigned int index = 0; index < length; index++)
        snprintf (expected + 7 + 2 * index, 3, "%02x", digest[index]);
    assert_string_equal (signature, expected);
    json_decref (root);
    free (body), free (key), free (team), free (signature);
    //  Down (503): may take it later; refused (400): for good.
    webhook_sink_fail (sink, 503);
    assert_int_equal (nt_webhook_type.deliver (state, note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "HTTP 503 from http://127.0.0.1:"));
    webhook_sink_fail (sink, 400);
    assert_int_equal (nt_webhook_type.deliver (state, note, error, sizeof error), JOBD_EINVAL);
    webhook_sink_fail (sink, 422);
    assert_int_equal (nt_webhook_type.deliver (state, note, error, sizeof error), JOBD_EINVAL);
    webhook_sink_fail (sink, 401);
    assert_int_equal (nt_webhook_type.deliver (state, note, error, sizeof error), -EAGAIN);
    webhook_sink_fail (sink, 404);
    assert_int_equal (nt_webhook_type.deliver (state, note, error, sizeof error), -EAGAIN);
    webhook_sink_fail (sink, 429);
    assert_int_equal (nt_webhook_type.deliver (state, note, error, sizeof error), -EAGAIN);
    assert_null (strstr (error, "hunter2"));
    nt_note_destroy (&note);
    nt_webhook_type.close (&state);
    assert_null (state);
    //  A token in the url's user info or query stays out of error lines.
    char url[256];
    const char *port = strrchr (webhook_sink_url (sink), ':');
    snprintf (url, sizeof url, "http://user:tok3n@127.0.0.1%.*s?key=tok3n",
              (int)strcspn (port, "/"), port);
    s_count = 0;
    s_set ("url", url);
    state = s_open ("webhook", 0, reason, sizeof reason);
    note = s_note (6);
    assert_int_equal (nt_webhook_type.deliver (state, note, error, sizeof error), -EAGAIN);
    assert_null (strstr (error, "tok3n"));
    assert_non_null (strstr (error, "HTTP 429 from http://127.0.0.1:"));
    nt_note_destroy (&note);
    nt_webhook_type.close (&state);
    webhook_sink_destroy (&sink);
}

static void
test_webhook_unreachable_and_config (void **unused)
{
    webhook_sink_t *sink = webhook_sink_new ();
    char url[128];
    snprintf (url, sizeof url, "%s", webhook_sink_url (sink));
    webhook_sink_destroy (&sink); //  nobody listens there now
    s_set ("type", "webhook");
    s_set ("url", url);
    s_set ("timeout", "2000");
    char reason[256] = "";
    void *state = s_open ("webhook", 0, reason, sizeof reason);
    nt_note_t *note = s_note (1);
    char error[256] = "";
    int rc = nt_webhook_type.deliver (state, note, error, sizeof error);
    assert_true (rc == -EAGAIN || rc == JOBD_ETIMEOUT);
    nt_note_destroy (&note);
    nt_webhook_type.close (&state);
    //  Two sources of one secret, a file that is not there, a missing url, bad headers.
    s_count = 0;
    s_set ("url", url);
    s_set ("secret", "x");
    s_set ("secret_file", "/nonexistent");
    assert_null (s_open ("webhook", JOBD_ECONFIG, reason, sizeof reason));
    assert_non_null (strstr (reason, "channels/c/secret: set only one of"));
    s_count = 0;
    s_set ("url", url);
    s_set ("secret_file", "/nonexistent/key");
    assert_null (s_open ("webhook", JOBD_ECONFIG, reason, sizeof reason));
    assert_non_null (strstr (reason, "channels/c/secret_file: cannot read /nonexistent/key"));
    s_count = 0;
    assert_null (s_open ("webhook", JOBD_ECONFIG, reason, sizeof reason));
    assert_non_null (strstr (reason, "channels/c/url: required"));
    s_count = 0;
    s_set ("url", url);
    s_set ("headers", "NoColon");
    assert_null (s_open ("webhook", JOBD_ECONFIG, reason, sizeof reason));
    assert_non_null (strstr (reason, "channels/c/headers:"));
    //  A secret from a file, less its trailing newline: the env variable unset is refused.
    s_count = 0;
    s_set ("url", url);
    s_set ("secret_env", "NT_TEST_UNSET_VARIABLE");
    assert_null (s_open ("webhook", JOBD_ECONFIG, reason, sizeof reason));
    assert_non_null (strstr (reason, "NT_TEST_UNSET_VARIABLE is not set"));
    //  No timeout (0) would let one receiver that never answers hold the channel for ever.
    static const char *const types[] = {"webhook", "exec"};
    for (size_t index = 0; index < 2; index++) {
        s_count = 0;
        s_set ("url", url);
        s_set ("command", "true");
        s_set ("timeout", "0");
        assert_null (s_open (types[index], JOBD_ECONFIG, reason, sizeof reason));
        assert_non_null (strstr (reason, "channels/c/timeout: must be more than 0"));
    }
}

static void
test_secret_file (void **unused)
{
    char path[] = "/tmp/nt-secret-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, "s3cret\n", 7), 7);
    close (fd);
    s_set ("password_file", path);
    nt_config_t config = {&s_host, "c"};
    char *value = NULL, reason[256] = "";
    assert_int_equal (nt_config_secret (&config, "password", &value, reason, sizeof reason), 0);
    assert_string_equal (value, "s3cret");
    free (value);
    assert_int_equal (nt_config_secret (&config, "secret", &value, reason, sizeof reason), 0);
    assert_null (value);
    unlink (path);
}

static void
test_exec (void **unused)
{
    char out[] = "/tmp/nt-exec-XXXXXX";
    int fd = mkstemp (out);
    close (fd);
    char command[512];
    snprintf (
        command, sizeof command,
        "{ echo \"$JOBD_NOTIFY_KEY $JOBD_NOTIFY_EVENT ${NT_TEST_HIDDEN:-none}\"; cat; } > %s; "
        "exit ${CODE:-0}",
        out);
    //  A variable a channel reads its secret from is not passed to the command.
    setenv ("NT_TEST_HIDDEN", "t0p-secret", 1);
    s_set ("secret_env", "NT_TEST_HIDDEN");
    s_set ("type", "exec");
    s_set ("command", command);
    s_set ("timeout", "500");
    char reason[256] = "";
    void *state = s_open ("exec", 0, reason, sizeof reason);
    nt_note_t *note = s_note (3);
    char error[256] = "";
    assert_int_equal (nt_exec_type.deliver (state, note, error, sizeof error), 0);
    FILE *file = fopen (out, "r");
    char line[4096] = "";
    assert_non_null (fgets (line, sizeof line, file));
    assert_string_equal (line, "job-1/3 final none\n");
    assert_non_null (fgets (line, sizeof line, file));
    assert_non_null (strstr (line, "\"key\":\"job-1/3\""));
    fclose (file);
    //  A non-zero exit: later; past the timeout: killed, later.
    setenv ("CODE", "3", 1);
    assert_int_equal (nt_exec_type.deliver (state, note, error, sizeof error), -EAGAIN);
    assert_string_equal (error, "exec: exit status 3");
    unsetenv ("CODE");
    nt_exec_type.close (&state);
    s_count = 0;
    s_set ("command", "sleep 30");
    s_set ("timeout", "300");
    state = s_open ("exec", 0, reason, sizeof reason);
    int64_t started = zclock_mono ();
    assert_int_equal (nt_exec_type.deliver (state, note, error, sizeof error), JOBD_ETIMEOUT);
    assert_true (zclock_mono () - started < 5000);
    assert_non_null (strstr (error, "killed at the timeout"));
    nt_exec_type.close (&state);
    s_count = 0;
    assert_null (s_open ("exec", JOBD_ECONFIG, reason, sizeof reason));
    assert_non_null (strstr (reason, "channels/c/command: required"));
    nt_note_destroy (&note);
    unlink (out);
}

static void
test_types (void **unused)
{
    assert_ptr_equal (nt_channel_type ("webhook"), &nt_webhook_type);
    assert_ptr_equal (nt_channel_type ("exec"), &nt_exec_type);
    assert_null (nt_channel_type ("pigeon"));
    assert_null (nt_channel_type (NULL));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup (test_webhook_delivers_signed, s_reset),
        cmocka_unit_test_setup (test_webhook_unreachable_and_config, s_reset),
        cmocka_unit_test_setup (test_secret_file, s_reset),
        cmocka_unit_test_setup (test_exec, s_reset),
        cmocka_unit_test_setup (test_types, s_reset),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
