//  Kill-and-restart: jobd is SIGKILLed in the middle of a stream of observations, restarted,
//  and must lose nothing, duplicate nothing, and carry on where it stopped.
#include "harness.h"
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

#define JOBS       20000
#define KILLS      3
#define KILL_AFTER 2000 //  transitions received in a round before the kill

//  What a subscriber saw: "job/seq" -> state.
static void
s_record (zhashx_t *seen, const jobd_event_t *event)
{
    char key[JOBD_ID_MAX + 32];
    snprintf (key, sizeof key, "%s/%" PRIu64, event->job, event->seq);
    zhashx_update (seen, key, (void *)(intptr_t)event->state);
}

//  Receives transitions into seen until `until` returns true or the deadline passes.
static size_t
s_receive (zsock_t *sub, zhashx_t *seen, int timeout_ms, bool (*until) (size_t, void *), void *arg)
{
    size_t received = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    zpoller_t *poller = zpoller_new (sub, NULL);
    while (!until (received, arg) && zclock_mono () < deadline) {
        if (zpoller_wait (poller, 100) != sub)
            continue;
        zmsg_t *msg = zmsg_recv (sub);
        zframe_t *payload = zmsg_last (msg);
        jobd_event_t *event = NULL;
        assert_int_equal (
            jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0), 0);
        assert_int_equal (event->type, JOBD_EVENT_TRANSITION);
        s_record (seen, event);
        received++;
        jobd_event_destroy (&event);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return received;
}

static bool
s_enough (size_t received, void *arg)
{
    return received >= KILL_AFTER;
}

static bool
s_all_done (size_t received, void *arg)
{
    //  Asking jobd costs a round trip: only every 500 transitions, or when idle.
    static size_t last = 0;
    if (received != 0 && received - last < 500)
        return false;
    last = received;
    return harness_count ((harness_t *)arg, JOBD_STATE_SUCCEEDED) == JOBS;
}

typedef struct {
    jobd_store_t *store;
    zhashx_t *seen;
    size_t jobs;
    size_t checked;
} s_verify_t;

static bool
s_verify_job (const jobd_job_t *job, void *arg)
{
    s_verify_t *verify = (s_verify_t *)arg;
    verify->jobs++;
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (verify->store, job->id, &history, &count), 0);
    //  Exactly track -> RUNNING -> SUCCEEDED, sequence 1, 2, 3, each from the previous state.
    assert_int_equal (count, 3);
    assert_int_equal (job->state, JOBD_STATE_SUCCEEDED);
    assert_int_equal (job->last_seq, 3);
    jobd_state_t previous = JOBD_STATE_NONE;
    for (size_t index = 0; index < count; index++) {
        assert_int_equal (history[index]->seq, index + 1);
        assert_int_equal (history[index]->from, previous);
        previous = history[index]->state;
        //  What a subscriber received matches what is stored.
        char key[JOBD_ID_MAX + 32];
        snprintf (key, sizeof key, "%s/%zu", job->id, index + 1);
        void *state = zhashx_lookup (verify->seen, key);
        if (state) {
            assert_int_equal ((intptr_t)state, history[index]->state);
            zhashx_delete (verify->seen, key);
            verify->checked++;
        }
    }
    assert_int_equal (previous, JOBD_STATE_SUCCEEDED);
    jobd_store_history_free (&history, count);
    return true;
}

static void
test_kill_and_restart (void **state)
{
    harness_t harness;
    harness_init (&harness, "restart");
    char extra[256];
    snprintf (extra, sizeof extra, "plugins\n    driver\n        jobs = %d\n", JOBS);
    harness_write_config (&harness, extra);
    zhashx_t *seen = zhashx_new ();

    for (int round = 0; round <= KILLS; round++) {
        assert_true (harness_start (&harness) > 0);
        zsock_t *sub = zsock_new_sub (harness.events, "job.");
        assert_true (harness_wait_ready (&harness, 10000));
        if (round < KILLS) {
            size_t received = s_receive (sub, seen, 30000, s_enough, NULL);
            assert_true (received >= KILL_AFTER);
            assert_int_equal (harness_stop (&harness, SIGKILL, 5000), 128 + SIGKILL);
        } else {
            s_receive (sub, seen, 60000, s_all_done, &harness);
            assert_int_equal (harness_count (&harness, JOBD_STATE_SUCCEEDED), JOBS);
            assert_int_equal (harness_stop (&harness, SIGTERM, 10000), 0);
        }
        zsock_destroy (&sub);
    }
    //  Every job's history is whole, in order, without repeats; every transition a subscriber
    //  received is in the store.
    jobd_store_t *store = NULL;
    char reason[256];
    assert_int_equal (
        jobd_store_open (harness.store, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason), 0);
    s_verify_t verify = {store, seen, 0, 0};
    size_t received = zhashx_size (seen);
    assert_int_equal (jobd_store_scan (store, 0, s_verify_job, &verify), 0);
    assert_int_equal (verify.jobs, JOBS);
    assert_int_equal (zhashx_size (seen), 0);
    assert_int_equal (verify.checked, received);
    print_message ("%zu jobs verified, %zu received transitions matched the store\n", verify.jobs,
                   verify.checked);
    jobd_store_destroy (&store);
    zhashx_destroy (&seen);
    harness_fini (&harness);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_kill_and_restart)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
