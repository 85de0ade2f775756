//  The store: the write path through the state machine, reads, durability, and what it does with
//  a full map, a newer format, a corrupt file, damaged records and a missing folder.
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
#include <sys/wait.h>
#include <unistd.h>

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

static void
s_reopen (s_fixture_t *self)
{
    jobd_store_destroy (&self->store);
    assert_null (self->store);
    char reason[256];
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &self->store, reason, sizeof reason), 0);
}

//  Writes one raw value with LMDB itself, behind the store's back (the store must be closed:
//  one process must not open an environment twice).
static void
s_raw_put (const char *dir, const char *db, const void *key, size_t key_size, const void *data,
           size_t size)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 8), 0);
    assert_int_equal (mdb_env_open (env, dir, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, db, MDB_CREATE, &dbi), 0);
    MDB_val k = {key_size, (void *)key}, v = {size, (void *)data};
    assert_int_equal (mdb_put (txn, dbi, &k, &v, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

static jobd_event_t *
s_event (jobd_event_type_t type, const char *job)
{
    jobd_event_t *event = jobd_event_new (type);
    assert_non_null (event);
    jobd_event_set (&event->source, "test");
    jobd_event_set (&event->job, job);
    return event;
}

static jobd_event_t *
s_submit_event (void)
{
    jobd_event_t *submit = s_event (JOBD_EVENT_SUBMIT, NULL);
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{\"appResource\":\"x.jar\"}");
    jobd_event_set (&submit->name, "etl");
    return submit;
}

static jobd_event_t *
s_observed_event (const char *job, jobd_state_t state, const char *ext, uint32_t attempt)
{
    jobd_event_t *observed = s_event (JOBD_EVENT_OBSERVED, job);
    observed->state = state;
    observed->attempt = attempt;
    jobd_event_set (&observed->backend, "yarn");
    jobd_event_set (&observed->ext, ext);
    jobd_event_set (&observed->error, state == JOBD_STATE_FAILED ? "boom" : NULL);
    return observed;
}

static jobd_event_t *
s_track_event (const char *backend, const char *ext, jobd_state_t state)
{
    jobd_event_t *track = s_event (JOBD_EVENT_TRACK, NULL);
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, backend);
    jobd_event_set (&track->ext, ext);
    track->state = state;
    return track;
}

//  Applies one event (consumed) in its own batch and commits. Returns apply's code.
static int
s_apply (jobd_store_t *store, jobd_event_t *event, jobd_apply_result_t *result)
{
    assert_int_equal (jobd_store_begin (store), 0);
    int rc = jobd_store_apply (store, event, result);
    assert_int_equal (jobd_store_commit (store), 0);
    jobd_event_destroy (&event);
    return rc;
}

//  Applies one event (consumed) in its own batch; returns the outcome, checking the code.
static jobd_apply_outcome_t
s_apply_expect (jobd_store_t *store, jobd_event_t *event, int expect_rc)
{
    jobd_apply_result_t result;
    assert_int_equal (s_apply (store, event, &result), expect_rc);
    jobd_apply_outcome_t outcome = result.outcome;
    jobd_apply_result_clear (&result);
    return outcome;
}

static char *
s_submit (jobd_store_t *store)
{
    jobd_apply_result_t result;
    assert_int_equal (s_apply (store, s_submit_event (), &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
    assert_int_equal (result.transition_count, 1);
    char *id = strdup (result.job);
    jobd_apply_result_clear (&result);
    return id;
}

static jobd_apply_outcome_t
s_observe (jobd_store_t *store, const char *job, jobd_state_t state, const char *ext,
           uint32_t attempt, int expect_rc)
{
    return s_apply_expect (store, s_observed_event (job, state, ext, attempt), expect_rc);
}

static jobd_job_t *
s_job (jobd_store_t *store, const char *id)
{
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (store, id, &job), 0);
    return job;
}

static jobd_state_t
s_state (jobd_store_t *store, const char *id)
{
    jobd_job_t *job = s_job (store, id);
    jobd_state_t state = job->state;
    jobd_job_destroy (&job);
    return state;
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

//  Submits a job and observes it into state (ext "app-<id>" once at a backend).
static char *
s_job_in (jobd_store_t *store, jobd_state_t state)
{
    static const jobd_state_t paths[JOBD_STATE_COUNT][3] = {
        [JOBD_STATE_SUBMITTED] = {JOBD_STATE_SUBMITTED},
        [JOBD_STATE_RUNNING] = {JOBD_STATE_SUBMITTED, JOBD_STATE_RUNNING},
        [JOBD_STATE_SUCCEEDED] = {JOBD_STATE_RUNNING, JOBD_STATE_SUCCEEDED},
        [JOBD_STATE_FAILED] = {JOBD_STATE_SUBMITTED, JOBD_STATE_FAILED},
        [JOBD_STATE_CANCELLED] = {JOBD_STATE_CANCELLED},
        [JOBD_STATE_RETRY_WAIT] = {JOBD_STATE_FAILED, JOBD_STATE_RETRY_WAIT},
        [JOBD_STATE_UNKNOWN] = {JOBD_STATE_SUBMITTED, JOBD_STATE_UNKNOWN},
        [JOBD_STATE_LOST] = {JOBD_STATE_SUBMITTED, JOBD_STATE_UNKNOWN, JOBD_STATE_LOST},
    };
    char *id = s_submit (store);
    char ext[64];
    snprintf (ext, sizeof ext, "app-%s", id);
    for (int step = 0; step < 3 && paths[state][step]; step++)
        assert_int_equal (s_observe (store, id, paths[state][step], ext, 0, 0), JOBD_APPLY_CHANGED);
    assert_int_equal (s_state (store, id), state);
    return id;
}

//  ---------------------------------------------------------------------------------------------

static void
test_submit_lifecycle (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, s_submit_event (), &result), 0);
    assert_string_equal (result.job, "job-1");
    assert_int_equal (result.transitions[0].from, JOBD_STATE_NONE);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_QUEUED);
    assert_int_equal (result.transitions[0].seq, 1);
    jobd_apply_result_clear (&result);
    const char *job = "job-1";
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_SUBMITTED, "driver-1", 0, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);

    //  The published bytes are a whole transition event, and the same one history keeps.
    assert_int_equal (
        s_apply (self->store, s_observed_event (job, JOBD_STATE_FAILED, NULL, 1), &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
    assert_string_equal (result.job, job);
    assert_int_equal (result.transition_count, 1);
    jobd_event_t *published = NULL;
    assert_int_equal (jobd_event_decode (result.transitions[0].data, result.transitions[0].size,
                                         &published, NULL, 0),
                      0);
    jobd_apply_result_clear (&result);
    assert_int_equal (result.transition_count, 0);
    assert_int_equal (published->type, JOBD_EVENT_TRANSITION);
    assert_string_equal (published->job, job);
    assert_string_equal (published->name, "etl");
    assert_string_equal (published->kind, "spark");
    assert_string_equal (published->ext, "driver-1");
    assert_string_equal (published->error, "boom");
    assert_string_equal (published->source, "test");
    assert_int_equal (published->from, JOBD_STATE_RUNNING);
    assert_int_equal (published->state, JOBD_STATE_FAILED);
    assert_int_equal (published->attempt, 1);
    assert_int_equal (published->seq, 4);

    jobd_job_t *record = s_job (self->store, job);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    assert_int_equal (record->attempt, 1);
    assert_string_equal (record->ext, "driver-1");
    assert_string_equal (record->error, "boom");
    assert_int_equal (record->last_seq, 4);
    assert_true (record->queued_at > 0 && record->submitted_at >= record->queued_at);
    assert_true (record->started_at >= record->submitted_at);
    assert_true (record->finished_at >= record->started_at);
    assert_true (record->updated_at == published->ts && record->last_seen >= record->updated_at);
    assert_string_equal (record->spec, "{\"appResource\":\"x.jar\"}");
    jobd_job_destroy (&record);

    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->store, "yarn", "driver-1", &found), 0);
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
    assert_string_equal (history[3]->id, published->id);
    assert_string_equal (history[3]->error, "boom");
    jobd_store_history_free (&history, count);
    assert_null (history);
    jobd_event_destroy (&published);

    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    for (int index = 0; index < JOBD_STATE_COUNT; index++)
        assert_int_equal (counts[index], index == JOBD_STATE_FAILED ? 1 : 0);
    assert_string_equal (jobd_store_path (self->store), self->dir);
}

static void
test_track_lifecycle (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_event_t *track = s_track_event ("livy", "batch-7", JOBD_STATE_NONE);
    jobd_event_set (&track->name, "nightly");
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, track, &result), 0);
    assert_int_equal (result.transition_count, 1);
    assert_int_equal (result.transitions[0].from, JOBD_STATE_NONE);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_SUBMITTED);
    char job[64];
    snprintf (job, sizeof job, "%s", result.job);
    jobd_apply_result_clear (&result);
    jobd_job_t *record = s_job (self->store, job);
    assert_int_equal (record->attempt, 1);
    assert_string_equal (record->backend, "livy");
    assert_string_equal (record->name, "nightly");
    assert_true (record->submitted_at > 0);
    assert_int_equal (record->queued_at, 0);
    assert_int_equal (record->started_at, 0);
    jobd_job_destroy (&record);

    //  Observations that name only the backend id find the job; the backend is part of the key.
    jobd_event_t *observed = s_observed_event (NULL, JOBD_STATE_RUNNING, "batch-7", 0);
    assert_int_equal (s_apply_expect (self->store, observed, JOBD_ENOTFOUND), 0);
    observed = s_observed_event (NULL, JOBD_STATE_RUNNING, "batch-7", 0);
    jobd_event_set (&observed->backend, "livy");
    assert_int_equal (s_apply (self->store, observed, &result), 0);
    assert_string_equal (result.job, job);
    jobd_apply_result_clear (&result);
    observed = s_observed_event (NULL, JOBD_STATE_SUCCEEDED, "batch-7", 0);
    jobd_event_set (&observed->backend, "livy");
    assert_int_equal (s_apply_expect (self->store, observed, 0), JOBD_APPLY_CHANGED);
    record = s_job (self->store, job);
    assert_int_equal (record->state, JOBD_STATE_SUCCEEDED);
    assert_true (record->started_at > 0 && record->finished_at >= record->started_at);
    jobd_job_destroy (&record);
    assert_int_equal (s_history_length (self->store, job), 3);

    //  A track may name the state the job is already in; a finished one has its times.
    track = s_track_event ("livy", "batch-8", JOBD_STATE_SUCCEEDED);
    assert_int_equal (s_apply (self->store, track, &result), 0);
    record = s_job (self->store, result.job);
    assert_int_equal (record->state, JOBD_STATE_SUCCEEDED);
    assert_true (record->submitted_at > 0 && record->finished_at > 0);
    jobd_job_destroy (&record);
    jobd_apply_result_clear (&result);
    track = s_track_event ("livy", "batch-9", JOBD_STATE_RUNNING);
    assert_int_equal (s_apply (self->store, track, &result), 0);
    record = s_job (self->store, result.job);
    assert_true (record->started_at > 0 && record->finished_at == 0);
    jobd_job_destroy (&record);
    jobd_apply_result_clear (&result);
}

static void
test_repeats_and_backward_moves_write_nothing (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_submit (self->store);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);
    jobd_job_t *before = s_job (self->store, job);
    //  A repeat keeps the sign of life and fills in a backend id the job lacked, nothing more.
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, "late-ext", 0, 0),
                      JOBD_APPLY_DUPLICATE);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, "other-ext", 0, 0),
                      JOBD_APPLY_DUPLICATE);
    jobd_job_t *after = s_job (self->store, job);
    assert_int_equal (after->last_seq, before->last_seq);
    assert_int_equal (after->updated_at, before->updated_at);
    assert_true (after->last_seen >= before->last_seen);
    assert_string_equal (after->ext, "late-ext");
    jobd_job_destroy (&before);
    jobd_job_destroy (&after);
    assert_int_equal (s_history_length (self->store, job), 2);

    assert_int_equal (s_observe (self->store, job, JOBD_STATE_SUCCEEDED, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);
    before = s_job (self->store, job);
    for (int to = JOBD_STATE_QUEUED; to < JOBD_STATE_COUNT; to++) {
        jobd_apply_outcome_t outcome =
            to == JOBD_STATE_SUCCEEDED ? JOBD_APPLY_DUPLICATE : JOBD_APPLY_BACKWARD;
        assert_int_equal (s_observe (self->store, job, (jobd_state_t)to, NULL, 0, 0), outcome);
    }
    after = s_job (self->store, job);
    assert_int_equal (after->state, JOBD_STATE_SUCCEEDED);
    assert_int_equal (after->last_seq, 3);
    assert_int_equal (after->finished_at, before->finished_at);
    jobd_job_destroy (&before);
    jobd_job_destroy (&after);
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
    assert_string_equal (result.job, "job-9");
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_RETRY, "job-9"), &result),
                      JOBD_ENOTFOUND);
    s_observe (self->store, "job-9", JOBD_STATE_RUNNING, NULL, 0, JOBD_ENOTFOUND);
    s_observe (self->store, NULL, JOBD_STATE_RUNNING, "nobody", 0, JOBD_ENOTFOUND);
    //  A job id given and unknown is not created, even when asked to.
    jobd_event_t *observed = s_observed_event ("job-9", JOBD_STATE_RUNNING, "x", 0);
    observed->create = true;
    jobd_event_set (&observed->kind, "spark");
    assert_int_equal (s_apply_expect (self->store, observed, JOBD_ENOTFOUND), 0);

    char *job = s_submit (self->store);
    //  Not store events, and store events that do not validate.
    jobd_event_type_t others[] = {JOBD_EVENT_STALE, JOBD_EVENT_PLUGIN_STATUS,
                                  JOBD_EVENT_TRANSITION};
    for (size_t index = 0; index < 3; index++) {
        jobd_event_t *event = s_event (others[index], job);
        event->state = JOBD_STATE_RUNNING;
        event->seq = 1;
        jobd_event_set (&event->name, "p");
        jobd_event_set (&event->status, "running");
        assert_int_equal (jobd_event_validate (event, NULL, 0), 0);
        assert_int_equal (s_apply (self->store, event, &result), JOBD_EPROTO);
    }
    jobd_event_t *submit = s_submit_event ();
    jobd_event_set (&submit->spec, NULL);
    assert_int_equal (s_apply (self->store, submit, &result), JOBD_EPROTO);
    observed = s_observed_event (job, JOBD_STATE_NONE, NULL, 0);
    assert_int_equal (s_apply (self->store, observed, &result), JOBD_EPROTO);

    //  One backend id, one job: result names the one that has it.
    jobd_event_t *track = s_track_event ("yarn", "application_1_0001", JOBD_STATE_NONE);
    assert_int_equal (s_apply (self->store, jobd_event_dup (track), &result), 0);
    char first[64];
    snprintf (first, sizeof first, "%s", result.job);
    jobd_apply_result_clear (&result);
    assert_int_equal (s_apply (self->store, track, &result), JOBD_EEXIST);
    assert_string_equal (result.job, first);
    assert_int_equal (result.transition_count, 0);
    //  A track in a state a new job cannot start in.
    track = s_track_event ("yarn", "application_1_0002", JOBD_STATE_RETRY_WAIT);
    assert_int_equal (s_apply (self->store, track, &result), JOBD_ESTATE);
    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->store, "yarn", "application_1_0002", &found),
                      JOBD_ENOTFOUND);

    //  None of the refusals consumed a job id or wrote anything.
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_QUEUED] + counts[JOBD_STATE_SUBMITTED], 2);
    assert_int_equal (s_history_length (self->store, job), 1);
    char *next = s_submit (self->store);
    assert_string_equal (next, "job-3");
    free (next);
    free (job);
}

//  Cancel and retry in every state, against what each must do there.
static void
test_commands_in_every_state (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    for (int from = JOBD_STATE_QUEUED; from < JOBD_STATE_COUNT; from++) {
        char *job = s_job_in (self->store, (jobd_state_t)from);
        size_t length = s_history_length (self->store, job);
        jobd_apply_result_t result;
        int rc = s_apply (self->store, s_event (JOBD_EVENT_CANCEL, job), &result);
        switch (from) {
            case JOBD_STATE_QUEUED:
            case JOBD_STATE_RETRY_WAIT:
            case JOBD_STATE_LOST:
                assert_int_equal (rc, 0);
                assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
                assert_int_equal (result.transition_count, 1);
                assert_int_equal (result.transitions[0].from, from);
                assert_int_equal (result.transitions[0].to, JOBD_STATE_CANCELLED);
                assert_int_equal (s_history_length (self->store, job), length + 1);
                break;
            case JOBD_STATE_SUBMITTED:
            case JOBD_STATE_RUNNING:
            case JOBD_STATE_UNKNOWN:
                assert_int_equal (rc, 0);
                assert_int_equal (result.outcome, JOBD_APPLY_FORWARD);
                assert_int_equal (result.transition_count, 0);
                assert_int_equal (s_history_length (self->store, job), length);
                break;
            default:
                assert_int_equal (rc, JOBD_ESTATE);
                assert_int_equal (s_history_length (self->store, job), length);
        }
        assert_string_equal (result.job, job);
        jobd_apply_result_clear (&result);
        free (job);

        job = s_job_in (self->store, (jobd_state_t)from);
        length = s_history_length (self->store, job);
        rc = s_apply (self->store, s_event (JOBD_EVENT_RETRY, job), &result);
        bool failed = from == JOBD_STATE_FAILED || from == JOBD_STATE_LOST;
        assert_int_equal (rc, failed ? 0 : JOBD_ESTATE);
        assert_int_equal (s_history_length (self->store, job), length + (rc ? 0 : 2));
        jobd_apply_result_clear (&result);
        free (job);
    }
}

//  A cancel forwarded to the backend is recorded as requested; a plugin's cancel.failed
//  records the refusal durably (it survives a reopen), costs no history entry, and is ignored
//  once the job is CANCELLED.
static void
test_cancel_refusal_is_recorded (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_job_in (self->store, JOBD_STATE_RUNNING);
    size_t length = s_history_length (self->store, job);
    assert_int_equal (s_apply_expect (self->store, s_event (JOBD_EVENT_CANCEL, job), 0),
                      JOBD_APPLY_FORWARD);
    jobd_job_t *record = s_job (self->store, job);
    assert_string_equal (record->cancel_status, "requested");
    assert_null (record->cancel_error);
    assert_true (record->cancel_at > 0);
    jobd_job_destroy (&record);

    jobd_event_t *failed = s_event (JOBD_EVENT_CANCEL_FAILED, job);
    jobd_event_set (&failed->status, "refused");
    jobd_event_set (&failed->error, "HTTP 403: Unable to obtain user name");
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, failed, &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
    assert_int_equal (result.transition_count, 0);
    assert_string_equal (result.job, job);
    jobd_apply_result_clear (&result);
    s_reopen (self);
    record = s_job (self->store, job);
    assert_int_equal (record->state, JOBD_STATE_RUNNING);
    assert_string_equal (record->cancel_status, "refused");
    assert_string_equal (record->cancel_error, "HTTP 403: Unable to obtain user name");
    jobd_job_destroy (&record);
    assert_int_equal (s_history_length (self->store, job), length);

    //  A second cancel asks again: the refusal gives way to the new request.
    assert_int_equal (s_apply_expect (self->store, s_event (JOBD_EVENT_CANCEL, job), 0),
                      JOBD_APPLY_FORWARD);
    record = s_job (self->store, job);
    assert_string_equal (record->cancel_status, "requested");
    assert_null (record->cancel_error);
    jobd_job_destroy (&record);

    //  Unknown jobs are refused; a CANCELLED job keeps its record.
    failed = s_event (JOBD_EVENT_CANCEL_FAILED, "job-999");
    jobd_event_set (&failed->status, "refused");
    jobd_event_set (&failed->error, "no");
    assert_int_equal (s_apply_expect (self->store, failed, JOBD_ENOTFOUND), JOBD_APPLY_CHANGED);
    s_observe (self->store, job, JOBD_STATE_CANCELLED, NULL, 0, 0);
    failed = s_event (JOBD_EVENT_CANCEL_FAILED, job);
    jobd_event_set (&failed->status, "retrying");
    jobd_event_set (&failed->error, "late");
    assert_int_equal (s_apply_expect (self->store, failed, 0), JOBD_APPLY_DUPLICATE);
    //  The job ended CANCELLED while its cancel was pending: settled as done.
    record = s_job (self->store, job);
    assert_string_equal (record->cancel_status, "done");
    assert_null (record->cancel_error);
    jobd_job_destroy (&record);
    free (job);

    //  A job that ends otherwise while its kill is retried: the cancel failed, and says why.
    job = s_job_in (self->store, JOBD_STATE_RUNNING);
    assert_int_equal (s_apply_expect (self->store, s_event (JOBD_EVENT_CANCEL, job), 0),
                      JOBD_APPLY_FORWARD);
    failed = s_event (JOBD_EVENT_CANCEL_FAILED, job);
    jobd_event_set (&failed->status, "retrying");
    jobd_event_set (&failed->error, "HTTP 503");
    assert_int_equal (s_apply_expect (self->store, failed, 0), JOBD_APPLY_CHANGED);
    s_observe (self->store, job, JOBD_STATE_SUCCEEDED, NULL, 0, 0);
    record = s_job (self->store, job);
    assert_string_equal (record->cancel_status, "failed");
    assert_string_equal (record->cancel_error,
                         "the job ended SUCCEEDED before its kill took effect");
    jobd_job_destroy (&record);
    //  A refusal stays what it is when the job ends.
    free (job);
    job = s_job_in (self->store, JOBD_STATE_RUNNING);
    assert_int_equal (s_apply_expect (self->store, s_event (JOBD_EVENT_CANCEL, job), 0),
                      JOBD_APPLY_FORWARD);
    failed = s_event (JOBD_EVENT_CANCEL_FAILED, job);
    jobd_event_set (&failed->status, "refused");
    jobd_event_set (&failed->error, "HTTP 403");
    assert_int_equal (s_apply_expect (self->store, failed, 0), JOBD_APPLY_CHANGED);
    s_observe (self->store, job, JOBD_STATE_FAILED, NULL, 0, 0);
    record = s_job (self->store, job);
    assert_string_equal (record->cancel_status, "refused");
    assert_string_equal (record->cancel_error, "HTTP 403");
    jobd_job_destroy (&record);
    free (job);
}

//  A failure keeps its full text and a one-line cause: the producer's, else one derived from the
//  error by the generic rule; the transition carries the cause; links stay until replaced.
static void
test_cause_and_links (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_job_in (self->store, JOBD_STATE_RUNNING);
    jobd_event_t *observed = s_observed_event (job, JOBD_STATE_RUNNING, NULL, 0);
    jobd_event_set (&observed->app_id, "application_1700000000000_0042");
    jobd_event_set (&observed->app_url, "http://rm:8088/proxy/application_1700000000000_0042/");
    //  A repeat of the state is no transition, but its links are kept.
    assert_int_equal (s_apply_expect (self->store, observed, 0), JOBD_APPLY_DUPLICATE);
    observed = s_observed_event (job, JOBD_STATE_FAILED, NULL, 0);
    jobd_event_set (&observed->error,
                    "Exception from the cluster:\norg.apache.spark.SparkException: Job aborted: "
                    "stage 3 failed 4 times\n\torg.apache.spark.Foo.bar(Foo.scala:1)");
    jobd_event_set (&observed->log_url, "http://nm:8042/node/containerlogs/c1/alice");
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, observed, &result), 0);
    assert_int_equal (result.transition_count, 1);
    jobd_event_t *transition = NULL;
    assert_int_equal (jobd_event_decode (result.transitions[0].data, result.transitions[0].size,
                                         &transition, NULL, 0),
                      0);
    assert_string_equal (transition->cause, "SparkException: Job aborted: stage 3 failed 4 times");
    assert_non_null (strstr (transition->error, "\n\torg.apache.spark.Foo.bar"));
    jobd_event_destroy (&transition);
    jobd_apply_result_clear (&result);
    jobd_job_t *record = s_job (self->store, job);
    assert_string_equal (record->cause, "SparkException: Job aborted: stage 3 failed 4 times");
    assert_string_equal (record->app_id, "application_1700000000000_0042");
    assert_string_equal (record->app_url, "http://rm:8088/proxy/application_1700000000000_0042/");
    assert_string_equal (record->log_url, "http://nm:8042/node/containerlogs/c1/alice");
    jobd_job_destroy (&record);

    //  A producer's own cause is kept as given; the history has it too.
    char *other = s_job_in (self->store, JOBD_STATE_RUNNING);
    observed = s_observed_event (other, JOBD_STATE_FAILED, NULL, 0);
    jobd_event_set (&observed->cause, "the sink refused the batch");
    assert_int_equal (s_apply_expect (self->store, observed, 0), JOBD_APPLY_CHANGED);
    record = s_job (self->store, other);
    assert_string_equal (record->cause, "the sink refused the batch");
    assert_string_equal (record->error, "boom");
    assert_null (record->app_id);
    jobd_job_destroy (&record);
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (self->store, other, &history, &count), 0);
    assert_string_equal (history[count - 1]->cause, "the sink refused the batch");
    assert_null (history[0]->cause);
    jobd_store_history_free (&history, count);
    //  A transition with no error carries no cause.
    assert_int_equal (s_apply_expect (self->store, s_event (JOBD_EVENT_RETRY, other), 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (jobd_store_history (self->store, other, &history, &count), 0);
    assert_null (history[count - 1]->cause);
    jobd_store_history_free (&history, count);
    free (job);
    free (other);
}

static void
test_retry_and_old_attempts (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_job_in (self->store, JOBD_STATE_FAILED);
    char old_ext[64];
    snprintf (old_ext, sizeof old_ext, "app-%s", job);
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_RETRY, job), &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_CHANGED);
    assert_int_equal (result.transition_count, 2);
    assert_int_equal (result.transitions[0].from, JOBD_STATE_FAILED);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (result.transitions[1].from, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (result.transitions[1].to, JOBD_STATE_QUEUED);
    assert_int_equal (result.transitions[1].seq, result.transitions[0].seq + 1);
    jobd_event_t *decoded = NULL;
    assert_int_equal (jobd_event_decode (result.transitions[1].data, result.transitions[1].size,
                                         &decoded, NULL, 0),
                      0);
    assert_int_equal (decoded->attempt, 2);
    assert_int_equal (decoded->seq, 5);
    assert_null (decoded->ext);
    jobd_event_destroy (&decoded);
    jobd_apply_result_clear (&result);

    jobd_job_t *record = s_job (self->store, job);
    assert_int_equal (record->attempt, 2);
    assert_null (record->ext);
    assert_int_equal (record->submitted_at, 0);
    assert_int_equal (record->finished_at, 0);
    assert_string_equal (record->error, "boom"); //  the last error stays until a new one
    jobd_job_destroy (&record);
    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->store, "yarn", old_ext, &found), JOBD_ENOTFOUND);

    //  The first attempt's news is ignored, and writes nothing.
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_SUCCEEDED, NULL, 1, 0),
                      JOBD_APPLY_OLD_ATTEMPT);
    assert_int_equal (
        s_observe (self->store, NULL, JOBD_STATE_SUCCEEDED, old_ext, 1, JOBD_ENOTFOUND), 0);
    assert_int_equal (s_history_length (self->store, job), 5);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_SUBMITTED, "app-2", 2, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (jobd_store_job_find (self->store, "yarn", "app-2", &found), 0);
    assert_string_equal (found, job);
    free (found);
    //  A later attempt's news is taken (the attempt number is the backend's to know).
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, NULL, 3, 0),
                      JOBD_APPLY_CHANGED);

    //  RETRY_WAIT -> QUEUED by observation (the retry plugin) starts an attempt the same way.
    s_observe (self->store, job, JOBD_STATE_FAILED, NULL, 0, 0);
    s_observe (self->store, job, JOBD_STATE_RETRY_WAIT, NULL, 0, 0);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_QUEUED, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);
    record = s_job (self->store, job);
    assert_int_equal (record->attempt, 3);
    assert_null (record->ext);
    jobd_job_destroy (&record);
    assert_int_equal (jobd_store_job_find (self->store, "yarn", "app-2", &found), JOBD_ENOTFOUND);
    free (job);
}

static void
test_observed_can_create (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_event_t *observed = s_observed_event (NULL, JOBD_STATE_RUNNING, "stream-7", 0);
    jobd_event_set (&observed->backend, "kafka");
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, jobd_event_dup (observed), &result), JOBD_ENOTFOUND);
    observed->create = true;
    jobd_event_set (&observed->kind, "kafka");
    jobd_event_set (&observed->name, "orders");
    assert_int_equal (s_apply (self->store, jobd_event_dup (observed), &result), 0);
    assert_int_equal (result.transitions[0].from, JOBD_STATE_NONE);
    assert_int_equal (result.transitions[0].to, JOBD_STATE_RUNNING);
    char job[64];
    snprintf (job, sizeof job, "%s", result.job);
    jobd_apply_result_clear (&result);
    jobd_job_t *record = s_job (self->store, job);
    assert_string_equal (record->kind, "kafka");
    assert_string_equal (record->name, "orders");
    assert_string_equal (record->ext, "stream-7");
    assert_int_equal (record->attempt, 1);
    assert_true (record->started_at > 0);
    jobd_job_destroy (&record);
    //  The same observation again is a repeat of the job now known, not a second job.
    assert_int_equal (s_apply (self->store, observed, &result), 0);
    assert_int_equal (result.outcome, JOBD_APPLY_DUPLICATE);
    assert_string_equal (result.job, job);
    //  A new job cannot start in RETRY_WAIT.
    observed = s_observed_event (NULL, JOBD_STATE_RETRY_WAIT, "stream-8", 0);
    observed->create = true;
    jobd_event_set (&observed->kind, "kafka");
    assert_int_equal (s_apply (self->store, observed, &result), JOBD_ESTATE);
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_RUNNING], 1);
}

//  An observation must not take another job's backend id.
static void
test_backend_id_belongs_to_one_job (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *owner = s_job_in (self->store, JOBD_STATE_SUBMITTED);
    char *other = s_submit (self->store);
    char ext[64];
    snprintf (ext, sizeof ext, "app-%s", owner);
    assert_int_equal (s_observe (self->store, other, JOBD_STATE_SUBMITTED, ext, 0, JOBD_EEXIST), 0);
    assert_int_equal (s_state (self->store, other), JOBD_STATE_QUEUED);
    assert_int_equal (s_history_length (self->store, other), 1);
    //  Refused, but not silently: the job keeps what was refused and who holds the id (a
    //  backend that restarted and reused its ids), once.
    jobd_job_t *record = s_job (self->store, other);
    assert_non_null (record->conflict);
    assert_non_null (strstr (record->conflict, ext));
    assert_non_null (strstr (record->conflict, owner));
    assert_non_null (strstr (record->conflict, "SUBMITTED"));
    int64_t noted_at = record->conflict_at;
    assert_true (noted_at > 0);
    jobd_job_destroy (&record);
    assert_int_equal (s_observe (self->store, other, JOBD_STATE_SUBMITTED, ext, 0, JOBD_EEXIST), 0);
    record = s_job (self->store, other);
    assert_int_equal (record->conflict_at, noted_at);
    jobd_job_destroy (&record);
    //  The holder's record is untouched.
    record = s_job (self->store, owner);
    assert_null (record->conflict);
    jobd_job_destroy (&record);
    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->store, "yarn", ext, &found), 0);
    assert_string_equal (found, owner);
    free (found);
    //  A job's own id again is fine; a new one replaces the old index entry.
    assert_int_equal (s_observe (self->store, owner, JOBD_STATE_RUNNING, ext, 0, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (s_observe (self->store, owner, JOBD_STATE_UNKNOWN, "moved", 0, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (jobd_store_job_find (self->store, "yarn", ext, &found), JOBD_ENOTFOUND);
    assert_int_equal (jobd_store_job_find (self->store, "yarn", "moved", &found), 0);
    assert_string_equal (found, owner);
    free (found);
    free (owner);
    free (other);
}

static bool
s_count_job (const jobd_job_t *job, void *arg)
{
    (*(size_t *)arg)++;
    return true;
}

static bool
s_count_to_ten (const jobd_job_t *job, void *arg)
{
    return ++(*(size_t *)arg) < 10;
}

//  Many events in one transaction; later ones see what earlier ones did.
//  Counts encoded records, each decoded and of a state in mask; stops at stop (0: never).
typedef struct {
    size_t seen;
    uint32_t mask;
    size_t stop;
} s_encoded_t;

static bool
s_count_encoded (const uint8_t *data, size_t size, void *arg)
{
    s_encoded_t *encoded = (s_encoded_t *)arg;
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_job_decode (data, size, &job, NULL, 0), 0);
    assert_true (encoded->mask & (1u << job->state));
    jobd_job_destroy (&job);
    return ++encoded->seen != encoded->stop;
}

static void
test_many_events_in_one_batch (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_begin (self->store), 0); //  already open: the same batch
    for (int index = 0; index < 50; index++) {
        char id[32], ext[32];
        snprintf (id, sizeof id, "job-%d", index + 1);
        snprintf (ext, sizeof ext, "app-%d", index);
        jobd_event_t *events[] = {
            s_submit_event (),
            s_observed_event (id, JOBD_STATE_SUBMITTED, ext, 0),
            s_observed_event (NULL, JOBD_STATE_RUNNING, ext, 0),
            s_observed_event (NULL, index % 2 ? JOBD_STATE_SUCCEEDED : JOBD_STATE_RUNNING, ext, 1),
        };
        for (size_t step = 0; step < 4; step++) {
            jobd_apply_result_t result;
            assert_int_equal (jobd_store_apply (self->store, events[step], &result), 0);
            assert_string_equal (result.job, id);
            assert_int_equal (result.outcome, step == 3 && index % 2 == 0 ? JOBD_APPLY_DUPLICATE
                                                                          : JOBD_APPLY_CHANGED);
            if (result.transition_count)
                assert_int_equal (result.transitions[0].seq, step + 1);
            jobd_apply_result_clear (&result);
            jobd_event_destroy (&events[step]);
        }
    }
    //  Reads see committed data only, even on the writer's thread while its batch is open.
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_RUNNING], 0);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, "job-1", &record), JOBD_ENOTFOUND);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (jobd_store_commit (self->store), 0); //  no batch: nothing to do

    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_RUNNING], 25);
    assert_int_equal (counts[JOBD_STATE_SUCCEEDED], 25);
    assert_int_equal (counts[JOBD_STATE_QUEUED] + counts[JOBD_STATE_SUBMITTED], 0);
    assert_int_equal (s_history_length (self->store, "job-2"), 4);
    assert_int_equal (s_history_length (self->store, "job-1"), 3);
    size_t seen = 0;
    assert_int_equal (jobd_store_scan (self->store, 0, s_count_job, &seen), 0);
    assert_int_equal (seen, 50);
    seen = 0;
    assert_int_equal (jobd_store_scan (self->store, 1u << JOBD_STATE_RUNNING, s_count_job, &seen),
                      0);
    assert_int_equal (seen, 25);
    seen = 0;
    uint32_t both = (1u << JOBD_STATE_RUNNING) | (1u << JOBD_STATE_SUCCEEDED);
    assert_int_equal (jobd_store_scan (self->store, both, s_count_job, &seen), 0);
    assert_int_equal (seen, 50);
    seen = 0;
    assert_int_equal (jobd_store_scan (self->store, both, s_count_to_ten, &seen), 0);
    assert_int_equal (seen, 10);
    seen = 0;
    assert_int_equal (jobd_store_scan (self->store, 0, s_count_to_ten, &seen), 0);
    assert_int_equal (seen, 10);
    seen = 0;
    assert_int_equal (jobd_store_scan (self->store, 1u << JOBD_STATE_LOST, s_count_job, &seen), 0);
    assert_int_equal (seen, 0);
    //  The same scans with the records as stored: each decodes to a job of the states asked.
    s_encoded_t encoded = {0, 1u << JOBD_STATE_RUNNING, 0};
    assert_int_equal (
        jobd_store_scan_encoded (self->store, encoded.mask, s_count_encoded, &encoded), 0);
    assert_int_equal (encoded.seen, 25);
    encoded = (s_encoded_t){0, both, 0};
    assert_int_equal (jobd_store_scan_encoded (self->store, 0, s_count_encoded, &encoded), 0);
    assert_int_equal (encoded.seen, 50);
    encoded = (s_encoded_t){0, both, 7};
    assert_int_equal (jobd_store_scan_encoded (self->store, both, s_count_encoded, &encoded), 0);
    assert_int_equal (encoded.seen, 7);
}

static void
test_abort_discards_everything (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *kept = s_submit (self->store);
    jobd_store_abort (self->store); //  no batch: harmless
    assert_int_equal (jobd_store_begin (self->store), 0);
    for (int index = 0; index < 100; index++) {
        jobd_apply_result_t result;
        jobd_event_t *submit = s_submit_event ();
        assert_int_equal (jobd_store_apply (self->store, submit, &result), 0);
        jobd_apply_result_clear (&result);
        jobd_event_destroy (&submit);
    }
    //  An aborted change to a job already stored leaves it as it was.
    jobd_event_t *observed = s_observed_event (kept, JOBD_STATE_SUCCEEDED, "gone", 0);
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_apply (self->store, observed, &result), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&observed);
    jobd_store_abort (self->store);

    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_QUEUED], 1);
    assert_int_equal (counts[JOBD_STATE_SUCCEEDED], 0);
    assert_int_equal (s_state (self->store, kept), JOBD_STATE_QUEUED);
    assert_int_equal (s_history_length (self->store, kept), 1);
    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->store, "yarn", "gone", &found), JOBD_ENOTFOUND);
    assert_int_equal (jobd_store_job_get (self->store, "job-2", &(jobd_job_t *){NULL}),
                      JOBD_ENOTFOUND);
    //  The aborted batch's ids are free again.
    char *next = s_submit (self->store);
    assert_string_equal (next, "job-2");
    //  Without a batch, apply refuses.
    jobd_event_t *submit = s_submit_event ();
    assert_int_equal (jobd_store_apply (self->store, submit, &result), JOBD_ESTORE);
    jobd_event_destroy (&submit);
    free (next);
    free (kept);
}

static void
test_committed_data_survives_reopen (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *running = s_job_in (self->store, JOBD_STATE_RUNNING);
    char *failed = s_job_in (self->store, JOBD_STATE_FAILED);
    s_reopen (self);
    assert_int_equal (s_state (self->store, running), JOBD_STATE_RUNNING);
    assert_int_equal (s_history_length (self->store, running), 3);
    assert_int_equal (s_history_length (self->store, failed), 3);
    char ext[64], *found = NULL;
    snprintf (ext, sizeof ext, "app-%s", running);
    assert_int_equal (jobd_store_job_find (self->store, "yarn", ext, &found), 0);
    assert_string_equal (found, running);
    free (found);
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_RUNNING], 1);
    assert_int_equal (counts[JOBD_STATE_FAILED], 1);
    //  The write path goes on where it stopped: ids and sequence numbers.
    char *next = s_submit (self->store);
    assert_string_equal (next, "job-3");
    jobd_apply_result_t result;
    assert_int_equal (s_apply (self->store, s_event (JOBD_EVENT_RETRY, failed), &result), 0);
    assert_int_equal (result.transitions[0].seq, 4);
    jobd_apply_result_clear (&result);
    free (next);
    free (running);
    free (failed);
}

//  Property: after a long random mix of observations and commands, in batches some of which
//  are aborted, every history runs 1, 2, 3... with each entry's from the previous entry's state,
//  every step allowed by the state machine, and the records and the state index agree.
static void
test_random_events_keep_histories_whole (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    enum { JOBS = 20 };
    char *jobs[JOBS];
    for (int index = 0; index < JOBS; index++)
        jobs[index] = s_submit (self->store);
    srand (42);
    for (int round = 0; round < 300; round++) {
        assert_int_equal (jobd_store_begin (self->store), 0);
        for (int index = 0; index < 25; index++) {
            int which = rand () % JOBS, kind = rand () % 10;
            jobd_event_t *event;
            if (kind == 0)
                event = s_event (JOBD_EVENT_RETRY, jobs[which]);
            else if (kind == 1)
                event = s_event (JOBD_EVENT_CANCEL, jobs[which]);
            else {
                char ext[32];
                snprintf (ext, sizeof ext, "e%d", rand () % (2 * JOBS));
                event = s_observed_event (jobs[which],
                                          (jobd_state_t)(1 + rand () % (JOBD_STATE_COUNT - 1)),
                                          rand () % 3 ? NULL : ext, (uint32_t)(rand () % 4));
            }
            jobd_apply_result_t result;
            int rc = jobd_store_apply (self->store, event, &result);
            assert_true (rc == 0 || rc == JOBD_ESTATE || rc == JOBD_EEXIST);
            for (size_t t = 0; t < result.transition_count; t++)
                assert_int_equal (
                    jobd_fsm_check (result.transitions[t].from, result.transitions[t].to),
                    JOBD_FSM_ALLOW);
            jobd_apply_result_clear (&result);
            jobd_event_destroy (&event);
        }
        if (round % 7 == 3)
            jobd_store_abort (self->store);
        else
            assert_int_equal (jobd_store_commit (self->store), 0);
    }
    uint64_t counts[JOBD_STATE_COUNT], tally[JOBD_STATE_COUNT] = {0};
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    size_t transitions = 0;
    for (int index = 0; index < JOBS; index++) {
        jobd_event_t **history = NULL;
        size_t count = 0;
        assert_int_equal (jobd_store_history (self->store, jobs[index], &history, &count), 0);
        jobd_state_t previous = JOBD_STATE_NONE;
        for (size_t entry = 0; entry < count; entry++) {
            assert_int_equal (history[entry]->seq, entry + 1);
            assert_int_equal (history[entry]->from, previous);
            assert_int_equal (jobd_fsm_check (previous, history[entry]->state), JOBD_FSM_ALLOW);
            assert_string_equal (history[entry]->job, jobs[index]);
            previous = history[entry]->state;
        }
        transitions += count;
        jobd_job_t *record = s_job (self->store, jobs[index]);
        assert_int_equal (record->state, previous);
        assert_int_equal (record->last_seq, count);
        if (record->ext) {
            char *found = NULL;
            assert_int_equal (jobd_store_job_find (self->store, "yarn", record->ext, &found), 0);
            assert_string_equal (found, jobs[index]);
            free (found);
        }
        tally[record->state]++;
        jobd_job_destroy (&record);
        jobd_store_history_free (&history, count);
        free (jobs[index]);
    }
    assert_true (transitions > 3 * JOBS); //  the mix did move jobs
    for (int index = 0; index < JOBD_STATE_COUNT; index++)
        assert_int_equal (counts[index], tally[index]);
}

static void
test_full_map_keeps_committed_data (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_destroy (&self->store);
    char dir[96], reason[256];
    snprintf (dir, sizeof dir, "%s/small", self->dir);
    const size_t map_size = 40 * 4096;
    assert_int_equal (jobd_store_open (dir, 0, map_size, &self->store, reason, sizeof reason), 0);
    char *first = s_submit (self->store);
    uint64_t stored = 1;
    int rc = 0;
    //  Fill it until LMDB refuses: the batch that does not fit is lost, nothing before it.
    while (rc == 0) {
        assert_int_equal (jobd_store_begin (self->store), 0);
        int applied = 0;
        for (int index = 0; index < 10 && rc == 0; index++) {
            jobd_event_t *submit = s_submit_event ();
            char spec[2000];
            memset (spec, 'x', sizeof spec - 1);
            spec[sizeof spec - 1] = 0;
            jobd_event_set (&submit->spec, spec);
            jobd_apply_result_t result;
            rc = jobd_store_apply (self->store, submit, &result);
            applied += rc == 0;
            jobd_apply_result_clear (&result);
            jobd_event_destroy (&submit);
        }
        if (rc) {
            //  A dead batch refuses more events and its commit fails too.
            jobd_event_t *submit = s_submit_event ();
            jobd_apply_result_t result;
            assert_int_equal (jobd_store_apply (self->store, submit, &result), rc);
            jobd_event_destroy (&submit);
            assert_int_equal (jobd_store_commit (self->store), rc);
        } else if ((rc = jobd_store_commit (self->store)) == 0)
            stored += applied;
    }
    assert_int_equal (rc, JOBD_EFULL);
    assert_true (stored > 1);
    jobd_store_destroy (&self->store);
    assert_int_equal (jobd_store_open (dir, 0, map_size, &self->store, reason, sizeof reason), 0);
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_QUEUED], stored);
    jobd_job_t *record = s_job (self->store, first);
    assert_int_equal (record->state, JOBD_STATE_QUEUED);
    jobd_job_destroy (&record);
    //  Small changes still fit.
    assert_int_equal (s_observe (self->store, first, JOBD_STATE_RUNNING, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);
    free (first);
}

static void
test_open_refuses_what_it_cannot_read (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_destroy (&self->store);
    char reason[256];
    jobd_store_t *store = NULL;
    //  Read-only: a missing folder, and a folder with no store, are not created.
    char missing[96];
    snprintf (missing, sizeof missing, "%s/missing", self->dir);
    assert_int_equal (
        jobd_store_open (missing, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason), -ENOENT);
    assert_non_null (strstr (reason, missing));
    assert_int_equal (access (missing, F_OK), -1);
    char empty[96];
    snprintf (empty, sizeof empty, "%s/empty", self->dir);
    assert_int_equal (mkdir (empty, 0700), 0);
    assert_int_equal (jobd_store_open (empty, JOBD_STORE_RDONLY, 0, &store, NULL, 0), -ENOENT);
    assert_null (store);

    //  A newer format.
    uint8_t format[4] = {0, 0, 0, JOBD_STORE_FORMAT + 1};
    s_raw_put (self->dir, "meta", "format", 6, format, sizeof format);
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &store, reason, sizeof reason),
                      JOBD_EFORMAT);
    char expected[256];
    snprintf (expected, sizeof expected, "store %s has format %d, this jobd reads up to %d",
              self->dir, JOBD_STORE_FORMAT + 1, JOBD_STORE_FORMAT);
    assert_non_null (strstr (reason, expected));
    assert_int_equal (
        jobd_store_open (self->dir, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason),
        JOBD_EFORMAT);
    //  A format that is no number.
    s_raw_put (self->dir, "meta", "format", 6, "x", 1);
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &store, reason, sizeof reason),
                      JOBD_ECORRUPT);

    //  Garbage where data.mdb should be, large and small.
    size_t sizes[] = {170000, 100};
    for (size_t index = 0; index < 2; index++) {
        char dir[96], path[128];
        snprintf (dir, sizeof dir, "%s/garbage%zu", self->dir, index);
        assert_int_equal (mkdir (dir, 0700), 0);
        snprintf (path, sizeof path, "%s/data.mdb", dir);
        FILE *file = fopen (path, "w");
        assert_non_null (file);
        for (size_t written = 0; written < sizes[index]; written += 17)
            fputs ("not an lmdb file ", file);
        fclose (file);
        assert_int_equal (jobd_store_open (dir, 0, 0, &store, reason, sizeof reason),
                          JOBD_ECORRUPT);
        assert_non_null (strstr (reason, dir));
        assert_int_equal (
            jobd_store_open (dir, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason),
            JOBD_ECORRUPT);
        assert_null (store);
    }
    //  An LMDB store that is not jobd's, read-only.
    char foreign[96];
    snprintf (foreign, sizeof foreign, "%s/foreign", self->dir);
    assert_int_equal (mkdir (foreign, 0700), 0);
    s_raw_put (foreign, "other", "k", 1, "v", 1);
    assert_int_equal (
        jobd_store_open (foreign, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason),
        JOBD_ECORRUPT);
}

//  Damaged records fail the read that meets them, never the process; the rest stays readable.
static void
test_damaged_records_are_errors (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *damaged = s_job_in (self->store, JOBD_STATE_RUNNING);
    char *healthy = s_job_in (self->store, JOBD_STATE_RUNNING);
    jobd_store_destroy (&self->store);
    s_raw_put (self->dir, "jobs", damaged, strlen (damaged), "\xc1garbage", 8);
    s_reopen (self);

    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, damaged, &record), JOBD_ECORRUPT);
    assert_null (record);
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (self->store, damaged, &history, &count), JOBD_ECORRUPT);
    assert_null (history);
    size_t seen = 0;
    assert_int_equal (jobd_store_scan (self->store, 0, s_count_job, &seen), JOBD_ECORRUPT);
    assert_int_equal (jobd_store_scan (self->store, 1u << JOBD_STATE_RUNNING, s_count_job, &seen),
                      JOBD_ECORRUPT);
    assert_int_equal (s_state (self->store, healthy), JOBD_STATE_RUNNING);
    assert_int_equal (s_history_length (self->store, healthy), 3);
    //  A write that meets it fails, and its batch with it.
    assert_int_equal (jobd_store_begin (self->store), 0);
    jobd_event_t *observed = s_observed_event (damaged, JOBD_STATE_SUCCEEDED, NULL, 0);
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_apply (self->store, observed, &result), JOBD_ECORRUPT);
    jobd_event_destroy (&observed);
    jobd_store_abort (self->store);
    assert_int_equal (s_observe (self->store, healthy, JOBD_STATE_SUCCEEDED, NULL, 0, 0),
                      JOBD_APPLY_CHANGED);

    //  A damaged history entry, a stray index entry, a damaged id counter.
    jobd_store_destroy (&self->store);
    uint8_t key[32] = {0};
    size_t id_length = strlen (healthy);
    memcpy (key, healthy, id_length);
    key[id_length + 8] = 2;
    s_raw_put (self->dir, "history", key, id_length + 9, "\x81\xa1", 2);
    s_raw_put (self->dir, "by_ext", "yarn\0stray", 10, "job-99", 6);
    s_raw_put (self->dir, "meta", "next_id", 7, "abc", 3);
    s_reopen (self);
    assert_int_equal (jobd_store_history (self->store, healthy, &history, &count), JOBD_ECORRUPT);
    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->store, "yarn", "stray", &found), 0);
    assert_int_equal (jobd_store_job_get (self->store, found, &record), JOBD_ENOTFOUND);
    free (found);
    jobd_event_t *submit = s_submit_event ();
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, submit, &result), JOBD_ECORRUPT);
    //  Refused before it wrote anything: it costs this event, not the batch.
    assert_int_equal (jobd_store_commit (self->store), 0);
    jobd_event_destroy (&submit);

    //  Ids that cannot be keys name no job.
    char long_id[600];
    memset (long_id, 'j', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    assert_int_equal (jobd_store_job_get (self->store, long_id, &record), JOBD_ENOTFOUND);
    assert_int_equal (jobd_store_job_get (self->store, "", &record), JOBD_ENOTFOUND);
    assert_int_equal (jobd_store_history (self->store, long_id, &history, &count), JOBD_ENOTFOUND);
    assert_int_equal (jobd_store_job_find (self->store, long_id, "x", &found), JOBD_ENOTFOUND);
    assert_int_equal (jobd_store_job_find (self->store, "yarn", "", &found), JOBD_ENOTFOUND);
    free (damaged);
    free (healthy);
}

//  In a child process (a second process, as jobctl is): opens the store read-only and exits 0
//  when the job is in state, 1 when it is not, 2 when the store did not open.
static int
s_child_reads (const char *dir, const char *job, jobd_state_t state)
{
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        jobd_store_t *reader = NULL;
        if (jobd_store_open (dir, JOBD_STORE_RDONLY, 0, &reader, NULL, 0))
            _exit (2);
        jobd_job_t *record = NULL;
        int code = jobd_store_job_get (reader, job, &record) == 0 && record->state == state ? 0 : 1;
        jobd_job_destroy (&record);
        jobd_store_destroy (&reader);
        _exit (code);
    }
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status));
    return WEXITSTATUS (status);
}

static void
test_reader_alongside_writer (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_submit (self->store);
    assert_int_equal (s_child_reads (self->dir, job, JOBD_STATE_QUEUED), 0);
    s_observe (self->store, job, JOBD_STATE_RUNNING, NULL, 0, 0);
    assert_int_equal (s_child_reads (self->dir, job, JOBD_STATE_RUNNING), 0);
    //  While the writer's batch is open, readers see the last commit.
    assert_int_equal (jobd_store_begin (self->store), 0);
    jobd_event_t *observed = s_observed_event (job, JOBD_STATE_SUCCEEDED, NULL, 0);
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_apply (self->store, observed, &result), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&observed);
    assert_int_equal (s_child_reads (self->dir, job, JOBD_STATE_RUNNING), 0);
    assert_int_equal (s_state (self->store, job), JOBD_STATE_RUNNING);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (s_child_reads (self->dir, job, JOBD_STATE_SUCCEEDED), 0);
    free (job);
}

//  ---------------------------------------------------------------------------------------------
//  The transition log.

typedef struct {
    uint64_t positions[64];
    jobd_event_t *events[64];
    size_t count;
} s_log_t;

static bool
s_log_one (uint64_t position, const uint8_t *data, size_t size, void *arg)
{
    s_log_t *log = (s_log_t *)arg;
    assert_true (log->count < 64);
    log->positions[log->count] = position;
    assert_int_equal (jobd_event_decode (data, size, &log->events[log->count], NULL, 0), 0);
    log->count++;
    return true;
}

static size_t
s_log_read (jobd_store_t *store, uint64_t after, s_log_t *log)
{
    for (size_t index = 0; index < log->count; index++)
        jobd_event_destroy (&log->events[index]);
    log->count = 0;
    int rc = jobd_store_log_read (store, after, 64, s_log_one, log);
    assert_true (rc >= 0);
    assert_int_equal ((size_t)rc, log->count);
    return log->count;
}

static int
s_cursor (jobd_store_t *store, const char *name, uint64_t position)
{
    jobd_event_t *event = s_event (JOBD_EVENT_CURSOR, NULL);
    jobd_event_set (&event->name, name);
    event->seq = position;
    jobd_apply_result_t result;
    int rc = s_apply (store, event, &result);
    assert_int_equal (result.transition_count, 0);
    return rc;
}

static void
test_transition_log (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    s_log_t log = {0};
    uint64_t position = 99, head = 99;
    //  No reader, no log.
    free (s_submit (self->store));
    assert_int_equal (s_log_read (self->store, 0, &log), 0);
    assert_int_equal (jobd_store_cursor_get (self->store, "kafka", &position, &head),
                      JOBD_ENOTFOUND);
    assert_int_equal (position, 0);
    assert_int_equal (head, 0);
    //  A first cursor at the head starts the log; every transition after it is there, in order.
    assert_int_equal (s_cursor (self->store, "kafka", 0), 0);
    char *job = s_job_in (self->store, JOBD_STATE_SUCCEEDED); //  QUEUED, RUNNING, SUCCEEDED
    assert_int_equal (s_log_read (self->store, 0, &log), 3);
    for (size_t index = 0; index < 3; index++) {
        assert_int_equal (log.positions[index], index + 1);
        assert_int_equal (log.events[index]->type, JOBD_EVENT_TRANSITION);
        assert_string_equal (log.events[index]->job, job);
        assert_int_equal (log.events[index]->seq, index + 1);
    }
    assert_int_equal (log.events[2]->state, JOBD_STATE_SUCCEEDED);
    assert_int_equal (s_log_read (self->store, 2, &log), 1);
    assert_int_equal (log.positions[0], 3);
    assert_int_equal (jobd_store_cursor_get (self->store, "kafka", &position, &head), 0);
    assert_int_equal (position, 0);
    assert_int_equal (head, 3);
    //  A reader cannot be past the head; a refused cursor costs nothing else.
    assert_int_equal (s_cursor (self->store, "kafka", 4), JOBD_ESTATE);
    //  An aborted batch gives its positions back: no gap.
    assert_int_equal (jobd_store_begin (self->store), 0);
    jobd_event_t *submit = s_submit_event ();
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_apply (self->store, submit, &result), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&submit);
    jobd_store_abort (self->store);
    free (s_submit (self->store));
    assert_int_equal (s_log_read (self->store, 3, &log), 1);
    assert_int_equal (log.positions[0], 4);
    //  Entries every reader is done with go; a second reader holds them back.
    assert_int_equal (s_cursor (self->store, "audit", 1), 0);
    assert_int_equal (s_cursor (self->store, "kafka", 3), 0);
    assert_int_equal (s_log_read (self->store, 0, &log), 3); //  2, 3, 4
    assert_int_equal (log.positions[0], 2);
    assert_int_equal (s_cursor (self->store, "audit", 4), 0);
    assert_int_equal (s_log_read (self->store, 0, &log), 1); //  4: kafka is at 3
    assert_int_equal (log.positions[0], 4);
    //  Positions, cursors and logging survive a restart.
    s_reopen (self);
    free (s_submit (self->store));
    assert_int_equal (s_log_read (self->store, 0, &log), 2);
    assert_int_equal (log.positions[1], 5);
    assert_int_equal (jobd_store_cursor_get (self->store, "kafka", &position, &head), 0);
    assert_int_equal (position, 3);
    assert_int_equal (head, 5);
    s_log_read (self->store, 99, &log);
    free (job);
}

//  Deletes database db of the store in dir, as an older jobd's store lacks it.
static void
s_raw_drop (const char *dir, const char *db)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 16), 0);
    assert_int_equal (mdb_env_open (env, dir, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, db, 0, &dbi), 0);
    assert_int_equal (mdb_drop (txn, dbi, 1), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

static void
test_format_1_store_is_upgraded (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_submit (self->store);
    jobd_store_destroy (&self->store);
    //  What a format 1 jobd wrote: no log database, format 1.
    uint8_t format[4] = {0, 0, 0, 1};
    s_raw_put (self->dir, "meta", "format", 6, format, sizeof format);
    s_raw_drop (self->dir, "log");
    //  Read-only: readable as it is.
    char reason[256];
    assert_int_equal (
        jobd_store_open (self->dir, JOBD_STORE_RDONLY, 0, &self->store, reason, sizeof reason), 0);
    assert_int_equal (s_state (self->store, job), JOBD_STATE_QUEUED);
    s_log_t log = {0};
    assert_int_equal (s_log_read (self->store, 0, &log), 0);
    jobd_store_destroy (&self->store);
    //  Writable: upgraded in place, and logging works.
    s_reopen (self);
    assert_int_equal (s_cursor (self->store, "kafka", 0), 0);
    assert_int_equal (s_observe (self->store, job, JOBD_STATE_RUNNING, "app-1", 0, 0),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (s_log_read (self->store, 0, &log), 1);
    s_log_read (self->store, 99, &log);
    free (job);
}

//  The jobs scan_updated hands over, in its order: ids and times.
typedef struct {
    char ids[8][32];
    int64_t times[8];
    size_t count;
} s_order_t;

static bool
s_order_one (const uint8_t *data, size_t size, void *arg)
{
    s_order_t *order = (s_order_t *)arg;
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_job_decode (data, size, &job, NULL, 0), 0);
    assert_true (order->count < 8);
    snprintf (order->ids[order->count], sizeof order->ids[0], "%s", job->id);
    order->times[order->count++] = job->updated_at;
    jobd_job_destroy (&job);
    return true;
}

//  Scans in the order asked and checks it: every job once, each after the one before it.
static void
s_order_check (jobd_store_t *store, bool descending, size_t expected)
{
    s_order_t order = {0};
    assert_int_equal (jobd_store_scan_updated (store, descending, 0, NULL, s_order_one, &order), 0);
    assert_int_equal (order.count, expected);
    for (size_t index = 1; index < order.count; index++) {
        int by_time = order.times[index - 1] < order.times[index]   ? -1
                      : order.times[index - 1] > order.times[index] ? 1
                                                                    : 0;
        int by_id = by_time ? by_time : strcmp (order.ids[index - 1], order.ids[index]);
        assert_true (descending ? by_id > 0 : by_id < 0);
    }
    //  From after the first: the others, in the same order.
    s_order_t rest = {0};
    assert_int_equal (jobd_store_scan_updated (store, descending, order.times[0], order.ids[0],
                                               s_order_one, &rest),
                      0);
    assert_int_equal (rest.count, expected - 1);
    for (size_t index = 0; index < rest.count; index++)
        assert_string_equal (rest.ids[index], order.ids[index + 1]);
}

//  The order index by_updated follows every job's last change, and is built when a format 4
//  store is opened writable; a format 4 store opened read only has none (JOBD_ENOTFOUND).
static void
test_order_index (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *jobs[4];
    for (int index = 0; index < 4; index++)
        jobs[index] = s_submit (self->store);
    assert_int_equal (s_observe (self->store, jobs[0], JOBD_STATE_RUNNING, "app-1", 0, 0),
                      JOBD_APPLY_CHANGED);
    s_order_check (self->store, true, 4);
    s_order_check (self->store, false, 4);
    //  The job changed last is the newest (ties: the greater id first).
    s_order_t order = {0};
    assert_int_equal (jobd_store_scan_updated (self->store, true, 0, NULL, s_order_one, &order), 0);
    jobd_job_t *running = s_job (self->store, jobs[0]);
    assert_int_equal (order.times[0], running->updated_at);
    jobd_job_destroy (&running);
    //  What a format 4 jobd left: no index.
    jobd_store_destroy (&self->store);
    uint8_t format[4] = {0, 0, 0, 4};
    s_raw_put (self->dir, "meta", "format", 6, format, sizeof format);
    s_raw_drop (self->dir, "by_updated");
    char reason[256];
    assert_int_equal (
        jobd_store_open (self->dir, JOBD_STORE_RDONLY, 0, &self->store, reason, sizeof reason), 0);
    assert_int_equal (jobd_store_scan_updated (self->store, true, 0, NULL, s_order_one, &order),
                      JOBD_ENOTFOUND);
    s_reopen (self);
    s_order_check (self->store, true, 4);
    for (int index = 0; index < 4; index++)
        free (jobs[index]);
}

static jobd_apply_outcome_t
s_observe_at (jobd_store_t *store, const char *job, jobd_state_t state, const char *stream,
              uint64_t pos)
{
    jobd_event_t *observed = s_observed_event (job, state, NULL, 0);
    jobd_event_set (&observed->stream, stream);
    observed->pos = pos;
    return s_apply_expect (store, observed, 0);
}

static void
test_stream_positions_apply_once (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char *job = s_job_in (self->store, JOBD_STATE_SUBMITTED);
    assert_int_equal (s_observe_at (self->store, job, JOBD_STATE_RUNNING, "status/0", 5),
                      JOBD_APPLY_CHANGED);
    //  The same position again, or an older one: a replay, whatever the state machine says.
    assert_int_equal (s_observe_at (self->store, job, JOBD_STATE_SUCCEEDED, "status/0", 5),
                      JOBD_APPLY_REPLAY);
    assert_int_equal (s_observe_at (self->store, job, JOBD_STATE_FAILED, "status/0", 2),
                      JOBD_APPLY_REPLAY);
    assert_int_equal (s_state (self->store, job), JOBD_STATE_RUNNING);
    //  Another stream has its own positions.
    assert_int_equal (s_observe_at (self->store, job, JOBD_STATE_RUNNING, "status/1", 1),
                      JOBD_APPLY_DUPLICATE);
    //  Within one batch: the second of two equal positions is the replay.
    assert_int_equal (jobd_store_begin (self->store), 0);
    jobd_apply_result_t result;
    for (int round = 0; round < 2; round++) {
        jobd_event_t *observed = s_observed_event (job, JOBD_STATE_SUCCEEDED, NULL, 0);
        jobd_event_set (&observed->stream, "status/0");
        observed->pos = 9;
        assert_int_equal (jobd_store_apply (self->store, observed, &result), 0);
        assert_int_equal (result.outcome, round ? JOBD_APPLY_REPLAY : JOBD_APPLY_CHANGED);
        jobd_apply_result_clear (&result);
        jobd_event_destroy (&observed);
    }
    //  An aborted batch forgets its positions with the rest.
    jobd_store_abort (self->store);
    char *other = s_job_in (self->store, JOBD_STATE_SUBMITTED);
    assert_int_equal (s_observe_at (self->store, other, JOBD_STATE_RUNNING, "status/0", 9),
                      JOBD_APPLY_CHANGED);
    //  Positions survive a restart.
    s_reopen (self);
    assert_int_equal (s_observe_at (self->store, other, JOBD_STATE_SUCCEEDED, "status/0", 9),
                      JOBD_APPLY_REPLAY);
    assert_int_equal (s_observe_at (self->store, other, JOBD_STATE_SUCCEEDED, "status/0", 10),
                      JOBD_APPLY_CHANGED);
    free (job);
    free (other);
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T (test_submit_lifecycle),
        T (test_track_lifecycle),
        T (test_repeats_and_backward_moves_write_nothing),
        T (test_command_errors),
        T (test_commands_in_every_state),
        T (test_cancel_refusal_is_recorded),
        T (test_retry_and_old_attempts),
        T (test_cause_and_links),
        T (test_observed_can_create),
        T (test_backend_id_belongs_to_one_job),
        T (test_many_events_in_one_batch),
        T (test_abort_discards_everything),
        T (test_committed_data_survives_reopen),
        T (test_random_events_keep_histories_whole),
        T (test_full_map_keeps_committed_data),
        T (test_open_refuses_what_it_cannot_read),
        T (test_damaged_records_are_errors),
        T (test_reader_alongside_writer),
        T (test_transition_log),
        T (test_format_1_store_is_upgraded),
        T (test_order_index),
        T (test_stream_positions_apply_once),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
