//  The notifier in the real jobd, with a webhook channel to the test's own receiver
//  (webhook_sink, libmicrohttpd, in this process so that it outlives jobd's kills): a final
//  failure is told once, also across a restart; a channel down (503) then back loses nothing
//  and keeps the order; SIGKILL during delivery loses nothing and repeats only unconfirmed
//  notes, under the same Idempotency-Key; the webhook's secret is never in jobd's log, in
//  jobctl's output nor in a note.
#include "harness.h"
#include "jobd_map.h"
#include "webhook_sink.h"
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

#define S_SECRET "s3cr3t-hmac-key-of-the-test"

static harness_t s_harness;
static webhook_sink_t *s_sink;
static char s_out[65536], s_err[8192];

static int
s_setup (void **state)
{
    s_sink = webhook_sink_new ();
    assert_non_null (s_sink);
    harness_init (&s_harness, "notifier");
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    notifier\n"
              "        path = %s/plugins/notifier.so\n"
              "        final_wait = 200ms\n"
              "        backoff_max = 300ms\n"
              "        status_interval = 100ms\n"
              "        link = \"https://jobs.example/{job}\"\n"
              "        channels\n"
              "            hook\n"
              "                type = webhook\n"
              "                url = \"%s\"\n"
              "                secret = \"%s\"\n"
              "        rules\n"
              "            failures\n"
              "                events = \"final\"\n"
              "                digest_window = 0\n",
              harness_build_dir (), webhook_sink_url (s_sink), S_SECRET);
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    webhook_sink_destroy (&s_sink);
    return 0;
}

static int
s_jobctl (const char *command)
{
    const char *args[] = {"--run-dir",     s_harness.run_dir, "--store",
                          s_harness.store, command,           NULL};
    return harness_run_bin ("jobctl", args, s_out, sizeof s_out, s_err, sizeof s_err);
}

//  Starts jobd and waits until the channel's cursor is in the store (from then on every
//  transition is logged for it).
static void
s_start (void)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    int64_t until = zclock_mono () + 10000;
    bool listed = false;
    while (!listed && zclock_mono () < until) {
        listed = s_jobctl ("cursors") == 0 && strstr (s_out, "notifier/hook");
        if (!listed)
            zclock_sleep (50);
    }
    assert_true (listed);
}

static void
s_request (jobd_event_t *event, char *job, size_t size)
{
    jobd_event_set (&event->source, "test");
    uint8_t *data;
    size_t data_size;
    assert_int_equal (jobd_event_encode (event, &data, &data_size, NULL, 0), 0);
    jobd_event_destroy (&event);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, data_size, &reply, 5000), 0);
    free (data);
    const msgpack_object *ok = jobd_map_lookup (&reply.data, "ok");
    assert_true (ok && ok->via.boolean);
    if (job)
        assert_true (jobd_map_string (&reply.data, "job", job, size));
    msgpack_unpacked_destroy (&reply);
}

//  A tracked job observed FAILED (no retry plugin: final after final_wait). Its id into job.
static void
s_failed_job (const char *ext, char *job, size_t size)
{
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->kind, "flink");
    jobd_event_set (&track->backend, "b");
    jobd_event_set (&track->ext, ext);
    jobd_event_set (&track->name, ext);
    s_request (track, job, size);
    jobd_event_t *failed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&failed->job, job);
    jobd_event_set (&failed->error, "java.lang.OutOfMemoryError: Java heap space");
    failed->state = JOBD_STATE_FAILED;
    s_request (failed, NULL, 0);
}

//  The key of the sink's note index (fresh), checked against its Idempotency-Key header.
static char *
s_key (size_t index)
{
    char *body = webhook_sink_body (s_sink, index);
    assert_non_null (body);
    assert_null (strstr (body, S_SECRET));
    json_t *root = json_loads (body, 0, NULL);
    assert_non_null (root);
    assert_string_equal (json_string_value (json_object_get (root, "event")), "final");
    char *key = strdup (json_string_value (json_object_get (root, "key")));
    char *header = webhook_sink_header (s_sink, index, "Idempotency-Key");
    assert_string_equal (header, key);
    char *signature = webhook_sink_header (s_sink, index, "X-Jobd-Signature");
    assert_non_null (signature);
    assert_int_equal (strncmp (signature, "sha256=", 7), 0);
    free (signature);
    free (header);
    json_decref (root);
    free (body);
    return key;
}

static void
s_assert_no_secret (void)
{
    assert_false (harness_log_contains (&s_harness, S_SECRET));
    assert_int_equal (s_jobctl ("plugins"), 0);
    assert_null (strstr (s_out, S_SECRET));
    assert_null (strstr (s_err, S_SECRET));
}

static void
test_final_failure_once_and_down_then_back (void **state)
{
    s_start ();
    char job[64];
    s_failed_job ("first", job, sizeof job);
    assert_true (webhook_sink_wait (s_sink, 1, 10000));
    char *key = s_key (0);
    char expected[96];
    snprintf (expected, sizeof expected, "%s/2", job); //  QUEUED (1), FAILED (2)
    assert_string_equal (key, expected);
    free (key);
    //  Down: notes wait, tried again; the status says so.
    webhook_sink_fail (s_sink, 503);
    char jobs[5][64];
    for (int index = 0; index < 5; index++) {
        char ext[16];
        snprintf (ext, sizeof ext, "down-%d", index);
        s_failed_job (ext, jobs[index], sizeof jobs[index]);
    }
    assert_true (webhook_sink_wait_refused (s_sink, 3, 10000));
    assert_int_equal (webhook_sink_count (s_sink), 1);
    char status[64] = "", detail[1024] = "";
    int64_t until = zclock_mono () + 10000;
    while (zclock_mono () < until && !(harness_plugin (&s_harness, "notifier", status,
                                                       sizeof status, detail, sizeof detail) == 0 &&
                                       strstr (detail, "failing for")))
        zclock_sleep (50);
    assert_string_equal (status, "degraded");
    assert_non_null (strstr (detail, "hook: 1 delivered"));
    assert_non_null (strstr (detail, "HTTP 503 from http://127.0.0.1:"));
    s_assert_no_secret ();
    assert_int_equal (s_jobctl ("plugins"), 0);
    assert_non_null (strstr (s_out, "failing for"));
    //  Back: all of them, in order.
    webhook_sink_fail (s_sink, 0);
    assert_true (webhook_sink_wait (s_sink, 6, 15000));
    for (int index = 0; index < 5; index++) {
        key = s_key ((size_t)index + 1);
        snprintf (expected, sizeof expected, "%s/2", jobs[index]);
        assert_string_equal (key, expected);
        free (key);
    }
    //  Once: a restart sends none of them again (the cursor is past them).
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    s_start ();
    s_failed_job ("after-restart", job, sizeof job);
    assert_true (webhook_sink_wait (s_sink, 7, 10000));
    key = s_key (6);
    snprintf (expected, sizeof expected, "%s/2", job);
    assert_string_equal (key, expected);
    free (key);
    assert_int_equal (webhook_sink_count (s_sink), 7);
    s_assert_no_secret ();
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

static void
test_sigkill_during_delivery_loses_nothing (void **state)
{
    s_start ();
    //  Held while the receiver is down, then let go and killed in the middle of them.
    webhook_sink_fail (s_sink, 503);
    enum { S_JOBS = 30 };
    char jobs[S_JOBS][64];
    for (int index = 0; index < S_JOBS; index++) {
        char ext[16];
        snprintf (ext, sizeof ext, "kill-%d", index);
        s_failed_job (ext, jobs[index], sizeof jobs[index]);
    }
    assert_true (webhook_sink_wait_refused (s_sink, 1, 10000));
    webhook_sink_fail (s_sink, 0);
    assert_true (webhook_sink_wait (s_sink, 5, 15000));
    assert_int_equal (harness_stop (&s_harness, SIGKILL, 10000), 128 + SIGKILL);
    size_t before = webhook_sink_count (s_sink);
    s_start ();
    //  Every job's note comes, in order; a note seen twice is one whose cursor had not moved,
    //  with the same key.
    int64_t until = zclock_mono () + 20000;
    size_t next = 0; //  the next job expected, in order
    size_t index = 0;
    size_t repeats = 0;
    while (next < S_JOBS && zclock_mono () < until) {
        if (!webhook_sink_wait (s_sink, index + 1, 200))
            continue;
        char *key = s_key (index++);
        char expected[96];
        snprintf (expected, sizeof expected, "%s/2", jobs[next]);
        if (strcmp (key, expected) == 0)
            next++;
        else {
            //  A repeat: a key already seen, and only right after the restart.
            bool seen = false;
            for (size_t earlier = 0; earlier < next && !seen; earlier++) {
                snprintf (expected, sizeof expected, "%s/2", jobs[earlier]);
                seen = strcmp (key, expected) == 0;
            }
            if (!seen)
                fail_msg ("note %zu: key %s out of order (expected %s/2)", index - 1, key,
                          jobs[next]);
            assert_true (index - 1 >= before);
            repeats++;
        }
        free (key);
    }
    assert_int_equal (next, S_JOBS);
    print_message ("notes before the kill: %zu, repeats after it: %zu\n", before, repeats);
    //  Only notes delivered before the kill whose cursor had not been committed yet repeat.
    assert_true (repeats <= before);
    s_assert_no_secret ();
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  A storm: the failer test plugin fails 1,000 jobs at once (no retry plugin: each final after
//  final_wait); the rule's first 10 notes go out one by one, the other 990 in one digest.
static int
s_setup_storm (void **state)
{
    s_sink = webhook_sink_new ();
    assert_non_null (s_sink);
    harness_init (&s_harness, "notifier-storm");
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    failer\n"
              "        path = %s/test-plugins/failer.so\n"
              "        jobs = 1000\n"
              "    notifier\n"
              "        path = %s/plugins/notifier.so\n"
              "        final_wait = 200ms\n"
              "        channels\n"
              "            hook\n"
              "                type = webhook\n"
              "                url = \"%s\"\n"
              "                secret_file = %s/key\n"
              "        rules\n"
              "            storm\n"
              "                events = \"final\"\n"
              "                digest_after = 10\n"
              "                digest_window = 10s\n",
              harness_build_dir (), harness_build_dir (), webhook_sink_url (s_sink), s_harness.dir);
    char path[400];
    snprintf (path, sizeof path, "%s/key", s_harness.dir);
    FILE *file = fopen (path, "w");
    fputs (S_SECRET "\n", file);
    fclose (file);
    harness_write_config (&s_harness, extra);
    return 0;
}

static void
test_storm_of_1000_failures_is_one_digest (void **state)
{
    s_start ();
    jobd_event_t *go = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&go->kind, "failer.go");
    jobd_event_set (&go->spec, "{}");
    s_request (go, NULL, 0);
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_FAILED, 1000, 30000));
    assert_true (webhook_sink_wait (s_sink, 11, 30000));
    for (size_t index = 0; index < 10; index++) {
        char *key = s_key (index);
        free (key);
    }
    char *body = webhook_sink_body (s_sink, 10);
    json_t *root = json_loads (body, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (root, "event")), "digest");
    json_t *digest = json_object_get (root, "digest");
    assert_int_equal (json_integer_value (json_object_get (digest, "count")), 990);
    assert_int_equal (json_array_size (json_object_get (digest, "jobs")), 20);
    assert_int_equal (json_integer_value (json_object_get (digest, "more")), 970);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (digest, "by_state"),
                                                           "FAILED for good")),
                      990);
    char *header = webhook_sink_header (s_sink, 10, "Idempotency-Key");
    assert_string_equal (header, json_string_value (json_object_get (root, "key")));
    assert_int_equal (strncmp (header, "digest/storm/", 13), 0);
    free (header);
    json_decref (root);
    free (body);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    assert_int_equal (webhook_sink_count (s_sink), 11);
}

//  Recovered and stale with the real jobd: a failed job run again (retry now) is not final, and
//  its success in attempt 2 is a recovered note; a RUNNING job silent past core's
//  deadline_running is a stale note.
static int
s_setup_recovered (void **state)
{
    s_sink = webhook_sink_new ();
    assert_non_null (s_sink);
    harness_init (&s_harness, "notifier-recovered");
    char extra[2048];
    snprintf (extra, sizeof extra,
              "    deadline_running = 300ms\n"
              "plugins\n"
              "    notifier\n"
              "        path = %s/plugins/notifier.so\n"
              "        final_wait = 1h\n"
              "        channels\n"
              "            hook\n"
              "                type = webhook\n"
              "                url = \"%s\"\n"
              "                secret = \"%s\"\n"
              "        rules\n"
              "            r\n"
              "                events = \"final, recovered, stale\"\n"
              "                digest_window = 0\n",
              harness_build_dir (), webhook_sink_url (s_sink), S_SECRET);
    harness_write_config (&s_harness, extra);
    return 0;
}

//  A tracked job observed RUNNING, then silent (stale past deadline_running). Its id into job.
static void
s_silent_job (char *job, size_t size)
{
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->kind, "flink");
    jobd_event_set (&track->backend, "b");
    jobd_event_set (&track->ext, "silent");
    s_request (track, job, size);
    jobd_event_t *running = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&running->job, job);
    running->state = JOBD_STATE_RUNNING;
    s_request (running, NULL, 0);
}

//  The event and key of the sink's note index, into event and key.
static void
s_note (size_t index, char *event, char *key, size_t size)
{
    char *body = webhook_sink_body (s_sink, index);
    assert_non_null (body);
    json_t *root = json_loads (body, 0, NULL);
    snprintf (event, size, "%s", json_string_value (json_object_get (root, "event")));
    snprintf (key, size, "%s", json_string_value (json_object_get (root, "key")));
    json_decref (root);
    free (body);
}

static void
test_recovered_and_stale (void **state)
{
    s_start ();
    char failing[64], silent[64];
    s_failed_job ("rec", failing, sizeof failing);
    jobd_event_t *retry = jobd_event_new (JOBD_EVENT_RETRY);
    jobd_event_set (&retry->job, failing);
    retry->now = true;
    s_request (retry, NULL, 0);
    jobd_event_t *succeeded = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&succeeded->job, failing);
    succeeded->state = JOBD_STATE_SUCCEEDED;
    s_request (succeeded, NULL, 0);
    s_silent_job (silent, sizeof silent);
    assert_true (webhook_sink_wait (s_sink, 2, 15000));
    char event[64], key[128], expected[128];
    bool recovered = false, stale = false;
    for (size_t index = 0; index < 2; index++) {
        s_note (index, event, key, sizeof key);
        if (strcmp (event, "recovered") == 0) {
            //  QUEUED 1, FAILED 2, RETRY_WAIT 3, QUEUED 4, SUCCEEDED 5.
            snprintf (expected, sizeof expected, "%s/5", failing);
            assert_string_equal (key, expected);
            recovered = true;
        } else if (strcmp (event, "stale") == 0) {
            snprintf (expected, sizeof expected, "%s/2/stale", silent);
            assert_string_equal (key, expected);
            stale = true;
        } else
            fail_msg ("unexpected note %s %s", event, key);
    }
    assert_true (recovered && stale);
    s_assert_no_secret ();
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    assert_int_equal (webhook_sink_count (s_sink), 2);
}

//  A stale note is durable: the stale event is in the transition log, so a SIGKILL while the
//  channel is down loses it not (it was held in memory before, and the job is flagged stale once
//  per state: it was never told).
static void
test_stale_note_survives_sigkill (void **state)
{
    s_start ();
    webhook_sink_fail (s_sink, 503);
    char silent[64];
    s_silent_job (silent, sizeof silent);
    assert_true (webhook_sink_wait_refused (s_sink, 1, 15000));
    assert_int_equal (harness_stop (&s_harness, SIGKILL, 10000), 128 + SIGKILL);
    webhook_sink_fail (s_sink, 0);
    s_start ();
    assert_true (webhook_sink_wait (s_sink, 1, 15000));
    char event[64], key[128], expected[128];
    s_note (0, event, key, sizeof key);
    assert_string_equal (event, "stale");
    snprintf (expected, sizeof expected, "%s/2/stale", silent);
    assert_string_equal (key, expected);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    assert_int_equal (webhook_sink_count (s_sink), 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_final_failure_once_and_down_then_back, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_sigkill_during_delivery_loses_nothing, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_storm_of_1000_failures_is_one_digest, s_setup_storm,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_recovered_and_stale, s_setup_recovered, s_teardown),
        cmocka_unit_test_setup_teardown (test_stale_note_survives_sigkill, s_setup_recovered,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
