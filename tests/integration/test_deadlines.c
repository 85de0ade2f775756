//  Deadlines in the real jobd: a job left SUBMITTED with nobody polling it passes its deadline,
//  is published stale once with the reason, flagged in `jobctl ls`, counted in stats, and
//  declared LOST after the grace; a deadline that passes while jobd is killed fires right after
//  the restart; and one armed by a format 5 jobd fires after the upgrade to format 6.
#include "harness.h"
#include "jobd_map.h"
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include "../store_format.h"

static harness_t s_harness;

static int
s_setup (void **state)
{
    harness_init (&s_harness, "deadlines");
    //  No plugin handles kind "flink": a tracked job stays SUBMITTED until its deadline.
    harness_write_config (&s_harness, "    deadline_submitted = 700ms\n"
                                      "    deadline_action = lost\n"
                                      "    deadline_grace = 700ms\n"
                                      "    deadlines = \"other running=1h\"\n");
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  Tracks backend id ext of kind flink (SUBMITTED); returns the job id into job.
static void
s_track (const char *ext, char *job, size_t size)
{
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->source, "test");
    jobd_event_set (&track->kind, "flink");
    jobd_event_set (&track->backend, "b");
    jobd_event_set (&track->ext, ext);
    uint8_t *data;
    size_t data_size;
    assert_int_equal (jobd_event_encode (track, &data, &data_size, NULL, 0), 0);
    jobd_event_destroy (&track);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, data_size, &reply, 5000), 0);
    free (data);
    const msgpack_object *value = jobd_map_lookup (&reply.data, "job");
    assert_non_null (value);
    snprintf (job, size, "%.*s", (int)value->via.str.size, value->via.str.ptr);
    msgpack_unpacked_destroy (&reply);
}

//  The next event about job on sub (the test plugins' own jobs pass by too), with its topic,
//  within timeout_ms, or NULL.
static jobd_event_t *
s_next (zsock_t *sub, const char *job, char *topic, size_t size, int timeout_ms)
{
    int64_t until = zclock_mono () + timeout_ms;
    while (zclock_mono () < until) {
        zsock_set_rcvtimeo (sub, (int)(until - zclock_mono ()) + 1);
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            return NULL;
        char *head = zmsg_popstr (msg);
        snprintf (topic, size, "%s", head ? head : "");
        zstr_free (&head);
        zframe_t *payload = zmsg_first (msg);
        jobd_event_t *event = NULL;
        assert_int_equal (
            jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0), 0);
        zmsg_destroy (&msg);
        if (event->job && strcmp (event->job, job) == 0)
            return event;
        jobd_event_destroy (&event);
    }
    return NULL;
}

static int
s_jobctl (char *out, size_t out_size, const char *command)
{
    char binary[512], err[4096];
    char *argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                    "--run-dir",
                    s_harness.run_dir,
                    "--store",
                    s_harness.store,
                    (char *)command,
                    NULL};
    return harness_run (argv, out, out_size, err, sizeof err, 20000);
}

//  The broker counter name from stats, or -1.
static int64_t
s_counter (const char *name)
{
    static const char query[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1q\xa1q\xa5stats";
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    if (harness_request (&s_harness, query, sizeof query - 1, &reply, 5000))
        return -1;
    const msgpack_object *value = jobd_map_lookup (jobd_map_lookup (&reply.data, "broker"), name);
    int64_t number = value ? (int64_t)value->via.u64 : -1;
    msgpack_unpacked_destroy (&reply);
    return number;
}

static void
test_stale_once_flagged_then_lost (void **state)
{
    harness_start (&s_harness);
    assert_true (harness_wait_ready (&s_harness, 10000));
    zsock_t *sub = harness_subscribe (&s_harness, "stale.", 5000);
    assert_non_null (sub);
    zsock_set_subscribe (sub, "job.");
    char job[64], topic[128];
    s_track ("app-1", job, sizeof job);
    jobd_event_t *event = s_next (sub, job, topic, sizeof topic, 5000);
    assert_non_null (event);
    assert_int_equal (event->state, JOBD_STATE_SUBMITTED);
    jobd_event_destroy (&event);
    //  Past its deadline: stale, once, with the reason.
    event = s_next (sub, job, topic, sizeof topic, 5000);
    assert_non_null (event);
    assert_int_equal (event->type, JOBD_EVENT_STALE);
    assert_string_equal (event->job, job);
    assert_int_equal (event->state, JOBD_STATE_SUBMITTED);
    assert_non_null (strstr (event->error, "SUBMITTED for more than 700ms"));
    assert_non_null (strstr (event->error, "core/deadline_submitted"));
    assert_true (event->last_seen > 0);
    jobd_event_destroy (&event);
    //  Flagged in ls (before the grace is over, which the events below would show).
    char out[8192];
    assert_int_equal (s_jobctl (out, sizeof out, "ls"), 0);
    assert_non_null (strstr (out, "NAME CAUSE"));
    char *row = strstr (out, job);
    assert_non_null (row);
    char *flag = strstr (row, " stale"); //  the flag leads its CAUSE
    assert_true (flag && flag < strchr (row, '\n'));
    assert_true (s_counter ("stale") >= 1);
    //  After the grace: LOST, by the deadline; no second stale.
    event = s_next (sub, job, topic, sizeof topic, 5000);
    assert_non_null (event);
    assert_int_equal (event->type, JOBD_EVENT_TRANSITION);
    assert_int_equal (event->state, JOBD_STATE_LOST);
    assert_string_equal (event->source, "deadline");
    assert_non_null (strstr (event->error, "declared LOST"));
    jobd_event_destroy (&event);
    assert_true (s_counter ("stale_published") >= 1);
    jobd_store_t *store = NULL;
    assert_int_equal (jobd_store_open (s_harness.store, JOBD_STORE_RDONLY, 0, &store, NULL, 0), 0);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (store, job, &record), 0);
    assert_null (record->stale); //  its transition cleared the flag
    //  Its freshness is still the track's: jobd's own action is nobody's word on the job.
    assert_true (record->confirmed_at > 0);
    assert_true (record->confirmed_at + 1000 < record->updated_at);
    jobd_job_destroy (&record);
    jobd_store_destroy (&store);
    zsock_destroy (&sub);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  Tracks a job, kills jobd before its deadline, lets the deadline pass while it is down (with
//  format_5, the store is meanwhile rewritten as a format 5 jobd would have left it, and still
//  reads read only), starts jobd again: the deadline fires at its first turn.
static void
s_deadline_across_restart (const char *ext, bool format_5)
{
    harness_start (&s_harness);
    assert_true (harness_wait_ready (&s_harness, 10000));
    char job[64];
    int64_t tracked = jobd_now_ms ();
    s_track (ext, job, sizeof job);
    //  Killed before its deadline (700 ms): nothing can have fired.
    assert_int_equal (harness_stop (&s_harness, SIGKILL, 10000), 128 + SIGKILL);
    jobd_store_t *store = NULL;
    assert_int_equal (jobd_store_open (s_harness.store, JOBD_STORE_RDONLY, 0, &store, NULL, 0), 0);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (store, job, &record), 0);
    bool early = jobd_now_ms () < tracked + 700;
    assert_true (!early || record->stale == NULL);
    jobd_job_destroy (&record);
    if (format_5) {
        jobd_store_destroy (&store);
        store_make_format_5 (s_harness.store);
        assert_int_equal (jobd_store_open (s_harness.store, JOBD_STORE_RDONLY, 0, &store, NULL, 0),
                          0);
        assert_int_equal (jobd_store_job_get (store, job, &record), 0);
        assert_int_equal (record->state, JOBD_STATE_SUBMITTED);
        jobd_job_destroy (&record);
    }
    //  While it is down, the deadline passes (the clock is what this waits for).
    while (jobd_now_ms () < tracked + 800)
        zclock_sleep (20);
    harness_start (&s_harness);
    assert_true (harness_wait_ready (&s_harness, 10000));
    //  Fired at the first turn: the record says so (the subscriber may come after it).
    int64_t until = zclock_mono () + 5000;
    bool flagged = false;
    while (!flagged && zclock_mono () < until) {
        assert_int_equal (jobd_store_job_get (store, job, &record), 0);
        flagged = record->stale != NULL;
        jobd_job_destroy (&record);
        if (!flagged)
            zclock_sleep (20);
    }
    assert_true (flagged);
    assert_true (harness_log_contains (&s_harness, "is stale: SUBMITTED for more than 700ms"));
    jobd_store_destroy (&store);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

static void
test_deadline_passed_while_down_fires_after_restart (void **state)
{
    s_deadline_across_restart ("app-2", false);
}

//  A deadline armed in a format 5 store (timers keyed by due time alone): the format 6 jobd
//  upgrades the store at start, in place, and the deadline still fires.
static void
test_format_5_deadline_fires_after_upgrade (void **state)
{
    s_deadline_across_restart ("app-5", true);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_stale_once_flagged_then_lost, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_deadline_passed_while_down_fires_after_restart,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_format_5_deadline_fires_after_upgrade, s_setup,
                                         s_teardown)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
