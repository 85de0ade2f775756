//  The store: the write path through the state machine, reads, durability, and what it does with
//  a full map, a newer format, a corrupt file and a missing folder.
#include "jobd_fsm.h"
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char dir[64];
    jobd_store_t *store;
} s_fixture_t;

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    return remove (path);
}

static int
s_setup (void **state)
{
    s_fixture_t *self = (s_fixture_t *)calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/jobd-store-XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    char reason[256];
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &self->store, reason, sizeof reason), 0);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_destroy (&self->store);
    nftw (self->dir, s_remove, 8, FTW_DEPTH | FTW_PHYS);
    free (self);
    return 0;
}

static jobd_event_t *
s_event (jobd_event_type_t type, const char *job)
{
    jobd_event_t *event = jobd_event_new (type);
    jobd_event_set (&event->source, "test");
    jobd_event_set (&event->job, job);
    return event;
}

//  Applies one event in its own batch and commits. Returns apply's code; fills result.
static int
s_apply (jobd_store_t *store, jobd_event_t *event, jobd_apply_result_t *result)
{
    assert_int_equal (jobd_store_begin (store), 0);
    int rc = jobd_store_apply (store, event, result);
    assert_int_equal (jobd_store_commit (store), 0);
    jobd_event_destroy (&event);
    return rc;
}

static char *
s_submit (jobd_store_t *store)
{
    jobd_event_t *submit = s_event (JOBD_EVENT_SUBMIT, NULL);
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{\"appResource\":\"x.jar\"}");
    jobd_event_set (&submit->name, "etl");
    jobd_apply_result_t result;
    assert_int_equal (s_apply (store, submit, &result), 0);
    assert_int_equal (result.transition_count, 1);
    char *id = strdup (result.job);
    jobd_apply_result_clear (&result);
    return id;
}

static jobd_apply_outcome_t
s_observe (jobd_store_t *store, const char *job, jobd_state_t state, const char *ext,
           uint32_t attempt, int expect_rc)
{
    jobd_event_t *observed = s_event (JOBD_EVENT_OBSERVED, job);
    observed->state = state;
    observed->attempt = attempt;
    jobd_event_set (&observed->ext, ext);
    jobd_event_set (&observed->error, state == JOBD_STATE_FAILED ? "boom" : NULL);
    jobd_apply_result_t result;
    assert_int_equal (s_apply (store, observed, &result), expect_rc);
    jobd_apply_outcome_t outcome = result.outcome;
    jobd_apply_result_clear (&result);
    return outcome;
}

static size_t
s_history_length (jobd_store_t *store, const char *job)
{
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (store, job, &history, &count), 0);
    jobd_store_history_free (&history, count);
    return count;
}

static void
test_lifecycle (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_submit (self->store);
    assert_string_equal (job, "job-1");
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_SUBMITTED, "driver-1", 0, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_FAILED, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    assert_string_equal (record->ext, "driver-1");
    assert_string_equal (record->error, "boom");
    assert_int_equal (record->last_seq, 4);
    assert_true (record->queued_at > 0 && record->submitted_at >= record->queued_at);
    assert_true (record->started_at >= record->submitted_at);
    assert_true (record->finished_at >= record->started_at);
    assert_string_equal (record->spec, "{\"appResource\":\"x.jar\"}");
    jobd_job_destroy (&record);

    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->store, NULL, "driver-1", &found), 0);
    assert_string_equal (found, job);
    free (found);

    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (self->store, job, &history, &count), 0);
    assert_int_equal (count, 4);
    jobd_state_t expected[] = {JOBD_STATE_QUEUED, JOBD_STATE_SUBMITTED, JOBD_STATE_RUNNING,
                               JOBD_STATE_FAILED};
    for (size_t index = 0; index < count; index++) {
        assert_int_equal (history[index]->type, JOBD_EVENT_TRANSITION);
        assert_int_equal (history[index]->seq, index + 1);
        assert_int_equal (history[index]->state, expected[index]);
        assert_int_equal (history[index]->from, index ? expected[index - 1] : JOBD_STATE_NONE);
        assert_string_equal (history[index]->source, "test");
    }
    assert_string_equal (history[3]->error, "boom");
    jobd_store_history_free (&history, count);
    assert_null (history);

    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_FAILED], 1);
    assert_int_equal (counts[JOBD_STATE_QUEUED], 0);
    free (job);
}

static void
test_repeats_and_backward_moves_write_nothing (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_submit (self->store);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, NULL, 0, 0),
                      JOBD_APPLY_DUPLICATE);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_SUCCEEDED, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, NULL, 0, 0),
                      JOBD_APPLY_BACKWARD);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_QUEUED, NULL, 0, 0),
                      JOBD_APPLY_BACKWARD);
    assert_int_equal (s_history_length (self->store, job), 3);
    free (job);
}

static void
test_command_errors (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_CANCEL, "job-9"), &result),
                      JOBD_ENOTFOUND);
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_RETRY, "job-9"), &result),
                      JOBD_ENOTFOUND);
    s_observe (self->store, "job-9", JOBD_STATE_RUNNING, NULL, 0, JOBD_ENOTFOUND);
    char *job = s_submit (self->store);
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_RETRY, job), &result), JOBD_ESTATE);
    assert_string_equal (result.job, job);
    //  Not store events.
    jobd_event_t *stale = s_event (JOBD_EVENT_STALE, job);
    stale->state = JOBD_STATE_RUNNING;
    assert_int_equal (s_apply (self->store, stale, &result), JOBD_EPROTO);
    //  One backend id, one job.
    jobd_event_t *track = s_event (JOBD_EVENT_TRACK, NULL);
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, "yarn");
    jobd_event_set (&track->ext, "application_1_0001");
    assert_int_equal (s_apply (self->store, jobd_event_dup (track), &result), 0);
    char first[64];
    snprintf (first, sizeof first, "%s", result.job);
    jobd_apply_result_clear (&result);
    assert_int_equal (s_apply (self->store, track, &result), JOBD_EEXIST);
    assert_string_equal (result.job, first);
    //  A track in a state a new job cannot start in.
    track = s_event (JOBD_EVENT_TRACK, NULL);
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, "yarn");
    jobd_event_set (&track->ext, "application_1_0002");
    track->state = JOBD_STATE_RETRY_WAIT;
    assert_int_equal (s_apply (self->store, track, &result), JOBD_ESTATE);
    free (job);
}

static void
test_cancel_and_retry (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    //  Queued: cancelled here. Running: handed to the backend.
    char *queued = s_submit (self->store);
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_CANCEL, queued), &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_CANCELLED);
    jobd_apply_result_clear (&result);
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_CANCEL, queued), &result),
                      JOBD_ESTATE);
    char *running = s_submit (self->store);
    s_observe (self->store, running, JOBD_STATE_RUNNING, "app-1", 0, 0);
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_CANCEL, running), &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_FORWARD);
    assert_int_equal (result.transition_count, 0);

    //  Retry: two transitions, attempt 2, the old backend id forgotten.
    s_observe (self->store, running, JOBD_STATE_FAILED, NULL, 0, 0);
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_RETRY, running), &result), 0);
    assert_int_equal (result.transition_count, 2);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (result.transitions[1].to, JOBD_STATE_QUEUED);
    jobd_event_t *decoded = NULL;
    assert_int_equal (jobd_event_decode (result.transitions[1].data, result.transitions[1].size,
                                         &decoded, NULL, 0),
                      0);
    assert_int_equal (decoded->attempt, 2);
    assert_int_equal (decoded->seq, 5);
    jobd_event_destroy (&decoded);
    jobd_apply_result_clear (&result);
    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->store, NULL, "app-1", &found), JOBD_ENOTFOUND);
    //  An observation of the first attempt is ignored.
    assert_int_equal (s_observe (self->store, running, JOBD_STATE_SUBMITTED, NULL, 1, 0),
                      JOBD_APPLY_OLD_ATTEMPT);
    assert_int_equal (s_observe (self->store, running, JOBD_STATE_SUBMITTED, "app-2", 2, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (jobd_store_job_find (self->store, NULL, "app-2", &found), 0);
    assert_string_equal (found, running);
    free (found);
    free (queued);
    free (running);
}

static void
test_observed_can_create (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_event_t *observed = s_event (JOBD_EVENT_OBSERVED, NULL);
    jobd_event_set (&observed->backend, "kafka");
    jobd_event_set (&observed->ext, "stream-7");
    observed->state = JOBD_STATE_RUNNING;
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, jobd_event_dup (observed), &result), JOBD_ENOTFOUND);
    observed->create = true;
    jobd_event_set (&observed->kind, "kafka");
    assert_int_equal (s_apply (self->store, observed, &result), 0);
    assert_int_equal (result.transitions[0].from, JOBD_STATE_NONE);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_RUNNING);
    jobd_apply_result_clear (&result);
}

static void
test_batch_abort_and_reopen (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *kept = s_submit (self->store);
    //  Many events in one batch, then abort: none of them is stored.
    assert_int_equal (jobd_store_begin (self->store), 0);
    for (int index = 0; index < 100; index++) {
        jobd_event_t *submit = s_event (JOBD_EVENT_SUBMIT, NULL);
        jobd_event_set (&submit->kind, "spark");
        jobd_event_set (&submit->spec, "{}");
        jobd_apply_result_t result;
        assert_int_equal (jobd_store_apply (self->store, submit, &result), 0);
        jobd_apply_result_clear (&result);
        jobd_event_destroy (&submit);
    }
    jobd_store_abort (self->store);
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_QUEUED], 1);
    s_observe (self->store, kept, JOBD_STATE_RUNNING, NULL, 0, 0);

    //  An aborted change to a job already stored leaves it as it was.
    assert_int_equal (jobd_store_begin (self->store), 0);
    jobd_event_t *observed = s_event (JOBD_EVENT_OBSERVED, kept);
    observed->state = JOBD_STATE_SUCCEEDED;
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_apply (self->store, observed, &result), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&observed);
    jobd_store_abort (self->store);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, kept, &record), 0);
    assert_int_equal (record->state, JOBD_STATE_RUNNING);
    jobd_job_destroy (&record);

    //  Close and reopen: everything committed is there.
    jobd_store_destroy (&self->store);
    char reason[256];
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &self->store, reason, sizeof reason), 0);
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_RUNNING], 1);
    assert_int_equal (counts[JOBD_STATE_QUEUED], 0);
    assert_int_equal (s_history_length (self->store, kept), 2);
    free (kept);
}

//  Property: after many random observations, every history is contiguous and each entry's
//  "from" is the previous entry's state.
static void
test_random_observations_keep_histories_whole (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *jobs[20];
    for (int index = 0; index < 20; index++)
        jobs[index] = s_submit (self->store);
    srand (42);
    for (int round = 0; round < 200; round++) {
        assert_int_equal (jobd_store_begin (self->store), 0);
        for (int index = 0; index < 25; index++) {
            jobd_event_t *observed = s_event (JOBD_EVENT_OBSERVED, jobs[rand () % 20]);
            observed->state = (jobd_state_t)(1 + rand () % (JOBD_STATE_COUNT - 1));
            jobd_apply_result_t result;
            assert_int_equal (jobd_store_apply (self->store, observed, &result), 0);
            jobd_apply_result_clear (&result);
            jobd_event_destroy (&observed);
        }
        assert_int_equal (jobd_store_commit (self->store), 0);
    }
    for (int index = 0; index < 20; index++) {
        jobd_event_t **history = NULL;
        size_t count = 0;
        assert_int_equal (jobd_store_history (self->store, jobs[index], &history, &count), 0);
        jobd_state_t previous = JOBD_STATE_NONE;
        for (size_t entry = 0; entry < count; entry++) {
            assert_int_equal (history[entry]->seq, entry + 1);
            assert_int_equal (history[entry]->from, previous);
            assert_int_equal (jobd_fsm_check (previous, history[entry]->state), JOBD_FSM_ALLOW);
            previous = history[entry]->state;
        }
        jobd_job_t *record = NULL;
        assert_int_equal (jobd_store_job_get (self->store, jobs[index], &record), 0);
        assert_int_equal (record->state, previous);
        assert_int_equal (record->last_seq, count);
        jobd_job_destroy (&record);
        jobd_store_history_free (&history, count);
        free (jobs[index]);
    }
}

static void
test_full_map_keeps_committed_data (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_destroy (&self->store);
    char dir[64], reason[256];
    snprintf (dir, sizeof dir, "%s/small", self->dir);
    assert_int_equal (jobd_store_open (dir, 0, 64 * 4096, &self->store, reason, sizeof reason), 0);
    char *first = s_submit (self->store);
    int rc = 0;
    //  Fill it until LMDB refuses: the batch that does not fit is lost, nothing before it.
    while (rc == 0) {
        assert_int_equal (jobd_store_begin (self->store), 0);
        for (int index = 0; index < 50 && rc == 0; index++) {
            jobd_event_t *submit = s_event (JOBD_EVENT_SUBMIT, NULL);
            jobd_event_set (&submit->kind, "spark");
            char spec[2000];
            memset (spec, 'x', sizeof spec - 1);
            spec[sizeof spec - 1] = 0;
            jobd_event_set (&submit->spec, spec);
            jobd_apply_result_t result;
            rc = jobd_store_apply (self->store, submit, &result);
            jobd_apply_result_clear (&result);
            jobd_event_destroy (&submit);
        }
        if (rc == 0)
            rc = jobd_store_commit (self->store);
        else
            jobd_store_abort (self->store);
    }
    assert_int_equal (rc, JOBD_EFULL);
    jobd_store_destroy (&self->store);
    assert_int_equal (jobd_store_open (dir, 0, 64 * 4096, &self->store, reason, sizeof reason), 0);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, first, &record), 0);
    assert_int_equal (record->state, JOBD_STATE_QUEUED);
    jobd_job_destroy (&record);
    free (first);
}

static void
test_open_refuses_what_it_cannot_read (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_destroy (&self->store);
    char reason[256];
    //  Read-only on a missing folder.
    jobd_store_t *store = NULL;
    assert_int_equal (
        jobd_store_open ("/nonexistent/jobd", JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason),
        -ENOENT);
    //  A newer format.
    MDB_env *env;
    mdb_env_create (&env);
    mdb_env_set_maxdbs (env, 8);
    assert_int_equal (mdb_env_open (env, self->dir, 0, 0600), 0);
    MDB_txn *txn;
    MDB_dbi meta;
    mdb_txn_begin (env, NULL, 0, &txn);
    mdb_dbi_open (txn, "meta", 0, &meta);
    uint8_t format[8] = {0, 0, 0, 0, 0, 0, 0, 2};
    MDB_val key = {6, "format"}, value = {8, format};
    assert_int_equal (mdb_put (txn, meta, &key, &value, 0), 0);
    mdb_txn_commit (txn);
    mdb_env_close (env);
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &store, reason, sizeof reason),
                      JOBD_EFORMAT);
    assert_non_null (strstr (reason, "has format 2, this jobd reads up to 1"));
    //  Garbage where data.mdb should be.
    char dir[64], path[96];
    snprintf (dir, sizeof dir, "%s/garbage", self->dir);
    mkdir (dir, 0700);
    snprintf (path, sizeof path, "%s/data.mdb", dir);
    FILE *file = fopen (path, "w");
    for (int index = 0; index < 10000; index++)
        fputs ("not an lmdb file ", file);
    fclose (file);
    assert_int_equal (jobd_store_open (dir, 0, 0, &store, reason, sizeof reason), JOBD_ECORRUPT);
    assert_non_null (strstr (reason, dir));
    assert_int_equal (jobd_store_open (dir, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason),
                      JOBD_ECORRUPT);
}

static void
test_reader_alongside_writer (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_submit (self->store);
    jobd_store_t *reader = NULL;
    char reason[256];
    assert_int_equal (
        jobd_store_open (self->dir, JOBD_STORE_RDONLY, 0, &reader, reason, sizeof reason), 0);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (reader, job, &record), 0);
    jobd_job_destroy (&record);
    s_observe (self->store, job, JOBD_STATE_RUNNING, NULL, 0, 0);
    assert_int_equal (jobd_store_job_get (reader, job, &record), 0);
    assert_int_equal (record->state, JOBD_STATE_RUNNING);
    jobd_job_destroy (&record);
    jobd_store_destroy (&reader);
    free (job);
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T (test_lifecycle),
        T (test_repeats_and_backward_moves_write_nothing),
        T (test_command_errors),
        T (test_cancel_and_retry),
        T (test_observed_can_create),
        T (test_batch_abort_and_reopen),
        T (test_random_observations_keep_histories_whole),
        T (test_full_map_keeps_committed_data),
        T (test_open_refuses_what_it_cannot_read),
        T (test_reader_alongside_writer),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
