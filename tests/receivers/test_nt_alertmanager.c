//  The alertmanager channel (plugins/notifier/nt_alertmanager.c) against a real Prometheus
//  Alertmanager on loopback: a failure fires an alert with the job's labels, a recovery
//  resolves it, refusals and a receiver down or silent map to nt_channel.h's codes, and no
//  password shows in an error.
#include "nt_channel.h"
#include "nt_config_stub.h"
#include "rcv_alertmanager.h"
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>
#include <cmocka.h>

//  The receiver of the running test: stopped by the teardown whatever happened.
static rcv_proc_t s_receiver;

static const nt_config_t s_config = {NULL, "am"};

//  A note about job, as the core builds it; links in its body.
static nt_note_t
s_note (const char *job, nt_event_t event, const char *state, bool resolves, json_t *body)
{
    nt_note_t note = {.key = "job-1/3",
                      .event = event,
                      .subject = "jobd: nightly-etl FAILED for good: OOM",
                      .text = "nightly-etl (job) FAILED for good.\ncause: OOM\n",
                      .body = body,
                      .job = job,
                      .name = "nightly-etl",
                      .kind = "spark",
                      .backend = "livy",
                      .state = state,
                      .ts = (int64_t)time (NULL) * 1000 - 5000,
                      .resolves = resolves};
    return note;
}

//  Opens the channel on the stub config set by the test. Returns its state (asserts success).
static void *
s_open (void)
{
    void *state = nt_config_stub_open (&nt_alertmanager_type, &s_config);
    assert_non_null (state);
    return state;
}

//  Waits up to timeout_ms until the job's alert named alertname (with label env, unless NULL)
//  is active (want true) or no longer active (want false). Returns the alert when active
//  (fresh), NULL otherwise.
static json_t *
s_wait_env (rcv_proc_t *am, const char *job, const char *alertname, const char *env, bool want,
            int timeout_ms)
{
    long long deadline = rcv_proc_now () + timeout_ms;
    while (true) {
        json_t *alerts = rcv_alertmanager_alerts (am, NULL);
        json_t *found = NULL;
        size_t index;
        json_t *alert;
        json_array_foreach (alerts, index, alert)
        {
            json_t *labels = json_object_get (alert, "labels");
            const char *state =
                json_string_value (json_object_get (json_object_get (alert, "status"), "state"));
            if (!strcmp (json_string_value (json_object_get (labels, "job")) ?: "", job) &&
                !strcmp (json_string_value (json_object_get (labels, "alertname")) ?: "",
                         alertname) &&
                state && !strcmp (state, "active") &&
                (!env || !strcmp (json_string_value (json_object_get (labels, "env")) ?: "", env)))
                found = alert;
        }
        if (found)
            json_incref (found);
        json_decref (alerts);
        if ((found != NULL) == want || rcv_proc_now () > deadline)
            return found;
        json_decref (found);
        rcv_proc_pause (50);
    }
}

static json_t *
s_wait_alert (rcv_proc_t *am, const char *job, const char *alertname, bool want, int timeout_ms)
{
    return s_wait_env (am, job, alertname, NULL, want, timeout_ms);
}

static int
s_teardown (void **state)
{
    //  A test that failed half-way left its receiver running.
    rcv_proc_stop (&s_receiver);
    nt_config_stub_reset ();
    return 0;
}

static void
test_config_refused (void **state)
{
    void *channel = NULL;
    char reason[256];
    assert_int_equal (nt_alertmanager_type.open (&s_config, &channel, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "channels/am/url"));
    nt_config_stub_set ("url", "http://127.0.0.1:9/?x=1");
    assert_int_equal (nt_alertmanager_type.open (&s_config, &channel, reason, sizeof reason),
                      JOBD_ECONFIG);
    nt_config_stub_set ("url", "http://127.0.0.1:9/");
    nt_config_stub_set ("labels", "team=data, 9lives=yes");
    assert_int_equal (nt_alertmanager_type.open (&s_config, &channel, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "channels/am/labels: '9lives=yes'"));
    nt_config_stub_set ("labels", "job=mine");
    assert_int_equal (nt_alertmanager_type.open (&s_config, &channel, reason, sizeof reason),
                      JOBD_ECONFIG);
    nt_config_stub_set ("labels", "team=data,");
    nt_config_stub_set ("username", "jobd");
    assert_int_equal (nt_alertmanager_type.open (&s_config, &channel, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "channels/am/password"));
    nt_config_stub_set ("password", "s3cret-pw");
    assert_int_equal (nt_alertmanager_type.open (&s_config, &channel, reason, sizeof reason), 0);
    nt_alertmanager_type.close (&channel);
    assert_null (channel);
}

static void
test_fires_and_resolves (void **state)
{
    if (!rcv_alertmanager_binary ())
        skip ();
    rcv_proc_t *am = &s_receiver;
    assert_int_equal (rcv_alertmanager_start (am, NULL, NULL, 20000), 0);
    nt_config_stub_set ("url", am->url);
    nt_config_stub_set ("labels", "team=data, env=prod");
    void *channel = s_open ();
    json_t *body = json_pack ("{s:s, s:{s:s}}", "key", "job-42/3", "links", "job",
                              "http://jobd.example/jobs/job-42");
    nt_note_t note = s_note ("job-42", NT_EVENT_FINAL, "FAILED", false, body);
    char error[256] = "";
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), 0);

    json_t *alert = s_wait_alert (am, "job-42", "JobdJobFailed", true, 5000);
    assert_non_null (alert);
    json_t *labels = json_object_get (alert, "labels");
    const char *const expected[][2] = {
        {"job", "job-42"},   {"name", "nightly-etl"}, {"kind", "spark"}, {"backend", "livy"},
        {"state", "FAILED"}, {"team", "data"},        {"env", "prod"}};
    for (size_t index = 0; index < sizeof expected / sizeof expected[0]; index++)
        assert_string_equal (json_string_value (json_object_get (labels, expected[index][0])),
                             expected[index][1]);
    assert_string_equal (json_string_value (json_object_get (alert, "generatorURL")),
                         "http://jobd.example/jobs/job-42");
    json_t *annotations = json_object_get (alert, "annotations");
    assert_string_equal (json_string_value (json_object_get (annotations, "summary")),
                         note.subject);
    assert_string_equal (json_string_value (json_object_get (annotations, "description")),
                         note.text);
    //  endsAt is now + alert_ttl (24h by default): an hour from now is well before it.
    char hour[32];
    time_t later = time (NULL) + 3600;
    strftime (hour, sizeof hour, "%Y-%m-%dT%H:%M:%S", gmtime (&later));
    assert_true (strcmp (json_string_value (json_object_get (alert, "endsAt")), hour) > 0);
    json_decref (alert);

    //  The same job going stale fires a second alert beside it.
    note = s_note ("job-42", NT_EVENT_STALE, "RUNNING", false, NULL);
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), 0);
    alert = s_wait_alert (am, "job-42", "JobdJobStale", true, 5000);
    assert_non_null (alert);
    json_decref (alert);

    //  Another job's alert stays when job-42 recovers.
    note = s_note ("job-43", NT_EVENT_FAILED, "LOST", false, NULL);
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), 0);

    //  Another jobd (env=dev) has a job of the same id failing: its alert is not ours.
    nt_config_stub_set ("labels", "team=data, env=dev");
    void *dev = s_open ();
    note = s_note ("job-42", NT_EVENT_FAILED, "FAILED", false, NULL);
    assert_int_equal (nt_alertmanager_type.deliver (dev, &note, error, sizeof error), 0);
    alert = s_wait_env (am, "job-42", "JobdJobFailed", "dev", true, 5000);
    assert_non_null (alert);
    json_decref (alert);
    nt_alertmanager_type.close (&dev);

    note = s_note ("job-42", NT_EVENT_RECOVERED, "SUCCEEDED", true, NULL);
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), 0);
    assert_null (s_wait_env (am, "job-42", "JobdJobFailed", "prod", false, 5000));
    alert = s_wait_env (am, "job-42", "JobdJobFailed", "dev", true, 5000);
    assert_non_null (alert);
    json_decref (alert);
    assert_null (s_wait_alert (am, "job-42", "JobdJobStale", false, 5000));
    alert = s_wait_alert (am, "job-43", "JobdJobFailed", true, 5000);
    assert_non_null (alert);
    assert_string_equal (
        json_string_value (json_object_get (json_object_get (alert, "labels"), "state")), "LOST");
    json_decref (alert);

    //  Resolving a job with no active alert sends nothing, and job-43's alert stays.
    note = s_note ("job-42", NT_EVENT_RECOVERED, "SUCCEEDED", true, NULL);
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), 0);
    alert = s_wait_alert (am, "job-43", "JobdJobFailed", true, 5000);
    assert_non_null (alert);
    json_decref (alert);

    //  A name and subject that are not UTF-8 (a job's name is any bytes): sent, bad bytes as '?'.
    note = s_note ("job-45", NT_EVENT_FAILED, "FAILED", false, NULL);
    note.name = "etl-\xff";
    note.subject = "jobd: etl-\xff failed";
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), 0);
    alert = s_wait_alert (am, "job-45", "JobdJobFailed", true, 5000);
    assert_non_null (alert);
    assert_string_equal (
        json_string_value (json_object_get (json_object_get (alert, "labels"), "name")), "etl-?");
    json_decref (alert);

    //  A succeeded job that never failed (a rule sent it here) is nothing to alert on.
    note = s_note ("job-44", NT_EVENT_SUCCEEDED, "SUCCEEDED", false, NULL);
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), 0);
    json_decref (body);
    nt_alertmanager_type.close (&channel);
    rcv_proc_stop (am);
}

static void
test_refused_and_down (void **state)
{
    if (!rcv_alertmanager_binary ())
        skip ();
    rcv_proc_t *am = &s_receiver;
    assert_int_equal (rcv_alertmanager_start (am, NULL, NULL, 20000), 0);
    char url[128];
    //  Alertmanager answers 404 under another path: the channel's mistake, tried again later.
    snprintf (url, sizeof url, "http://user:t0ken@127.0.0.1:%d/elsewhere", am->port);
    nt_config_stub_set ("url", url);
    void *channel = s_open ();
    nt_note_t note = s_note ("job-1", NT_EVENT_FAILED, "FAILED", false, NULL);
    char error[256] = "";
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "HTTP 404 from http://127.0.0.1:"));
    assert_null (strstr (error, "t0ken"));
    nt_alertmanager_type.close (&channel);

    //  Down: nothing listens on its port any more. May take it later.
    nt_config_stub_set ("url", am->url);
    rcv_proc_stop (am);
    channel = s_open ();
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, am->url));
    nt_alertmanager_type.close (&channel);

    //  Silent: a port that takes connections and never answers, past the timeout.
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    assert_int_equal (bind (fd, (struct sockaddr *)&address, sizeof address), 0);
    assert_int_equal (listen (fd, 8), 0);
    getsockname (fd, (struct sockaddr *)&address, &length);
    snprintf (url, sizeof url, "http://127.0.0.1:%d", ntohs (address.sin_port));
    nt_config_stub_set ("url", url);
    nt_config_stub_set ("timeout", "300ms");
    channel = s_open ();
    long long start = rcv_proc_now ();
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error),
                      JOBD_ETIMEOUT);
    assert_true (rcv_proc_now () - start < 3000);
    nt_alertmanager_type.close (&channel);
    close (fd);
}

static void
test_basic_auth (void **state)
{
    if (!rcv_alertmanager_binary ())
        skip ();
    rcv_proc_t *am = &s_receiver;
    assert_int_equal (rcv_alertmanager_start (am, "jobd", "pa55-w0rd-ok", 20000), 0);
    char path[400];
    snprintf (path, sizeof path, "%s/password", am->dir);
    FILE *file = fopen (path, "w");
    fprintf (file, "pa55-w0rd-ok\n");
    fclose (file);
    nt_config_stub_set ("url", am->url);
    nt_config_stub_set ("username", "jobd");
    nt_config_stub_set ("password_file", path);
    void *channel = s_open ();
    nt_note_t note = s_note ("job-7", NT_EVENT_FINAL, "FAILED", false, NULL);
    char error[256] = "";
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), 0);
    json_t *alert = s_wait_alert (am, "job-7", "JobdJobFailed", true, 5000);
    assert_non_null (alert);
    json_decref (alert);
    nt_alertmanager_type.close (&channel);

    //  A wrong password: 401, held until the config is fixed; the error names neither password.
    nt_config_stub_set ("password_file", NULL);
    nt_config_stub_set ("password", "wr0ng-pa55");
    channel = s_open ();
    assert_int_equal (nt_alertmanager_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "HTTP 401"));
    assert_null (strstr (error, "wr0ng-pa55"));
    assert_null (strstr (error, "pa55-w0rd-ok"));
    nt_alertmanager_type.close (&channel);
    rcv_proc_stop (am);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_config_refused, s_teardown),
        cmocka_unit_test_teardown (test_fires_and_resolves, s_teardown),
        cmocka_unit_test_teardown (test_refused_and_down, s_teardown),
        cmocka_unit_test_teardown (test_basic_auth, s_teardown),
    };
    if (!rcv_alertmanager_binary ())
        fprintf (stderr, "SKIP: no Alertmanager binary (Debian's prometheus-alertmanager: run "
                         "scripts/deps.sh)\n");
    return cmocka_run_group_tests (tests, NULL, NULL);
}
