//  The store's write path: a batch (one LMDB write transaction) applies events through the
//  state machine, and writes what they changed at commit.
#include "jobd_store_internal.h"
#include "jobd_cause.h"
#include "jobd_fsm.h"
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ID_TRIES 1024 //  ids drawn for a submission until one is of a partition owned here

static int s_next_id_save (jobd_store_t *self);
static int s_stale_count_save (jobd_store_t *self);

//  Writes what the batch changed in its jobs: each record once, each state index entry once.
static int
s_batch_write (jobd_store_t *self)
{
    int rc = jobd_store_batch_save (self);
    if (rc == 0)
        rc = jobd_store_stream_save (self);
    if (rc == 0)
        rc = s_next_id_save (self);
    if (rc == 0)
        rc = s_stale_count_save (self);
    return rc ? rc : jobd_store_log_save (self);
}

//  Whether giving job the backend id (backend, ext) would take it from another job. One backend
//  id, one job: the caller refuses the event rather than steal the index entry.
static int
s_ext_taken (jobd_store_t *self, const jobd_job_t *job, const char *backend, const char *ext)
{
    char owner[JOBD_ID_MAX + 1];
    int rc = jobd_store_ext_lookup (self, self->txn, backend, ext, owner, sizeof owner);
    if (rc == JOBD_ENOTFOUND)
        return 0;
    if (rc == 0 && strcmp (owner, job->id) != 0)
        rc = JOBD_EEXIST;
    return rc;
}

//  Whether event names its job by a backend id (backend and ext): the id every instance derives.
static bool
s_derived (const jobd_event_t *event)
{
    return event->ext && *event->ext && event->backend && *event->backend;
}

//  Whether event is a submission another instance forwarded, with the id it drew (cluster mode).
static bool
s_given (const jobd_store_t *self, const jobd_event_t *event)
{
    return self->id_fn && event->type == JOBD_EVENT_SUBMIT && !s_derived (event) && event->job &&
           *event->job;
}

//  Takes the next job id into id. The counter is read from meta once per batch and written
//  back at commit (s_batch_write): two LMDB operations per new job fewer. With an id function
//  (a cluster), the id is its: nothing is counted, and an id a job holds already refuses the
//  event (a derived id whose backend id moved on to another).
static int
s_next_id (jobd_store_t *self, const jobd_event_t *event, char *id, size_t size)
{
    if (self->id_fn) {
        //  A submission's id is free: one of a partition this instance owns. A job first seen
        //  at a backend has the one id every instance derives: its partition's owner takes it.
        //  A submission another instance forwarded comes with the id it drew.
        bool derived = s_derived (event), given = s_given (self, event);
        int rc = 0;
        if (given && strlen (event->job) >= size)
            return JOBD_EPROTO;
        if (given) {
            snprintf (id, size, "%s", event->job);
            if (!jobd_store_owns (self, id))
                return JOBD_ENOTOWNER;
        }
        for (int tries = 0; !given && rc == 0 && tries < S_ID_TRIES; tries++) {
            rc = self->id_fn (event->backend, event->ext, id, size, self->id_arg);
            if (rc == 0 && jobd_store_owns (self, id))
                break;
            if (rc == 0 && (derived || tries == S_ID_TRIES - 1))
                rc = JOBD_ENOTOWNER;
        }
        if (rc)
            return rc;
        MDB_val job_key = jobd_store_val (id, strlen (id)), existing;
        rc = mdb_get (self->txn, self->jobs, &job_key, &existing);
        if (rc == 0)
            return JOBD_EEXIST;
        return rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
    }
    if (self->next_id == 0) {
        MDB_val key = jobd_store_val ("next_id", 7), value;
        int rc = mdb_get (self->txn, self->meta, &key, &value);
        if (rc == 0 && value.mv_size != 8)
            return JOBD_ECORRUPT;
        if (rc == 0)
            self->next_id = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
        else if (rc != MDB_NOTFOUND)
            return jobd_store_mdb_error (rc);
        if (self->next_id == 0)
            self->next_id = 1;
    }
    snprintf (id, size, "job-%llu", (unsigned long long)self->next_id);
    //  A counter behind the jobs would overwrite one: refuse instead.
    MDB_val job_key = jobd_store_val (id, strlen (id)), existing;
    int rc = mdb_get (self->txn, self->jobs, &job_key, &existing);
    if (rc != MDB_NOTFOUND)
        return rc == 0 ? JOBD_ECORRUPT : jobd_store_mdb_error (rc);
    self->next_id++;
    self->next_id_dirty = true;
    self->writes++;
    return 0;
}

//  Writes the job counter the batch took from.
static int
s_next_id_save (jobd_store_t *self)
{
    if (!self->next_id_dirty)
        return 0;
    MDB_val key = jobd_store_val ("next_id", 7);
    uint8_t bytes[8];
    jobd_store_put_be (bytes, 8, self->next_id);
    MDB_val value = jobd_store_val (bytes, 8);
    return jobd_store_mdb_error (mdb_put (self->txn, self->meta, &key, &value, 0));
}

//  The heartbeat an observation promises becomes the job's (kept until it ends; an observation
//  without one leaves it). Returns true when it changed.
static bool
s_heartbeat_note (jobd_job_t *job, const jobd_event_t *event)
{
    if (event->type != JOBD_EVENT_OBSERVED || event->heartbeat <= 0 ||
        (event->heartbeat == job->heartbeat && event->heartbeat_grace == job->heartbeat_grace))
        return false;
    job->heartbeat = event->heartbeat;
    job->heartbeat_grace = event->heartbeat_grace;
    return true;
}

//  A new job (submit, track, or an observation that may create one) in state with attempt.
static int
s_create (jobd_store_t *self, const jobd_event_t *event, jobd_state_t state, uint32_t attempt,
          jobd_apply_result_t *result)
{
    if (jobd_fsm_check (JOBD_STATE_NONE, state) != JOBD_FSM_ALLOW)
        return JOBD_ESTATE;
    if (!event->kind || !*event->kind)
        return JOBD_EPROTO; //  a record needs a kind
    if (event->ext) {
        int rc = jobd_store_ext_lookup (self, self->txn, event->backend, event->ext, result->job,
                                        sizeof result->job);
        if (rc != JOBD_ENOTFOUND)
            return rc == 0 ? JOBD_EEXIST : rc; //  one backend id, one job
    }
    //  A forwarded submission (its id given) delivered again, the jobs topic being read at
    //  least once: the job it made.
    if (s_given (self, event)) {
        jobd_job_t *known = NULL;
        int got = jobd_store_batch_get (self, event->job, &known);
        if (got == 0 && (!known->kind || strcmp (known->kind, event->kind) != 0))
            return JOBD_EEXIST; //  another job's id
        if (got == 0) {
            snprintf (result->job, sizeof result->job, "%s", event->job);
            result->outcome = JOBD_APPLY_DUPLICATE;
            return 0;
        }
        if (got != JOBD_ENOTFOUND)
            return got;
    }
    //  Checked: from here on, a failure kills the batch.
    jobd_job_t *job = jobd_job_new ();
    if (!job)
        return -ENOMEM;
    int rc = s_next_id (self, event, result->job, sizeof result->job);
    //  (Not a given id: that one's partition is another instance's.)
    if (rc == JOBD_ENOTOWNER && event->type == JOBD_EVENT_SUBMIT && !s_derived (event) &&
        !s_given (self, event))
        result->reason = "this instance acts on no partition of the cluster now (it is joining "
                         "the group, or the cluster has more instances than partitions): send "
                         "the submission to another instance, or again once `jobctl cluster` "
                         "shows a partition owned here";
    if (rc == 0 &&
        (jobd_event_set (&job->id, result->job) || jobd_event_set (&job->name, event->name) ||
         jobd_event_set (&job->kind, event->kind) ||
         jobd_event_set (&job->backend, event->backend) ||
         jobd_event_set (&job->spec, event->spec)))
        rc = -ENOMEM;
    job->attempt = attempt;
    //  A track or an observation is its source's word on the job's state; a submit is not.
    if (event->type != JOBD_EVENT_SUBMIT)
        job->confirmed_at = jobd_now_ms ();
    s_heartbeat_note (job, event);
    if (rc == 0)
        rc = jobd_store_set_ext (self, job, event->backend, event->ext);
    if (rc) {
        jobd_job_destroy (&job);
        return rc;
    }
    jobd_job_t *added = job;
    rc = jobd_store_batch_add (self, &job);
    return rc ? rc : jobd_store_move (self, added, state, event, result);
}

//  An observation that would give job another job's backend id (a backend that restarted and
//  reused its ids) is refused, but never silently: the job keeps what was refused and who holds
//  the id (README, "by_ext"). Written only when it says something new, so that a source that
//  repeats the observation neither rewrites the record nor floods the log. Returns JOBD_EEXIST,
//  or the error that killed the batch.
static int
s_conflict_note (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
                 const char *backend, const char *ext)
{
    char owner[JOBD_ID_MAX + 1], note[JOBD_ERROR_MAX];
    if (jobd_store_ext_lookup (self, self->txn, backend, ext, owner, sizeof owner) != 0)
        snprintf (owner, sizeof owner, "another job");
    snprintf (note, sizeof note,
              "%s observed it %s as %s at backend %s, an id %s already holds (the backend may "
              "have restarted and reused its ids): not applied",
              event->source ? event->source : "a source", jobd_state_name (event->state), ext,
              backend ? backend : "(none)", owner);
    if (job->conflict && strcmp (job->conflict, note) == 0)
        return JOBD_EEXIST;
    self->writes++; //  the batch's copy changes: a failure from here on costs the batch
    if (jobd_event_set (&job->conflict, note))
        return -ENOMEM;
    job->conflict_at = jobd_now_ms ();
    jobd_store_batch_dirty (self, job);
    return JOBD_EEXIST;
}

//  The job an observation names: by id, else by backend id. Sets result->job when found.
static int
s_observed_job (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result,
                jobd_job_t **job_p)
{
    int rc = 0;
    if (event->job)
        snprintf (result->job, sizeof result->job, "%s", event->job);
    else
        rc = jobd_store_ext_lookup (self, self->txn, event->backend, event->ext, result->job,
                                    sizeof result->job);
    if (rc == 0)
        rc = jobd_store_batch_get (self, event->job ? event->job : result->job, job_p);
    return rc;
}

//  In a cluster, the job an observation with a stream position is about (its position is kept
//  per partition): its id, the job of its backend id, or the id a job first seen there gets.
//  "" when none is known (a single jobd, or no stream).
static void
s_stream_job (jobd_store_t *self, const jobd_event_t *event, char *job, size_t size)
{
    if (!self->partition_fn || !event->stream || !*event->stream)
        return;
    if (event->job) {
        snprintf (job, size, "%s", event->job);
        return;
    }
    if (event->backend && event->ext &&
        jobd_store_ext_lookup (self, self->txn, event->backend, event->ext, job, size) != 0) {
        job[0] = 0;
        if (self->id_fn && self->id_fn (event->backend, event->ext, job, size, self->id_arg))
            job[0] = 0;
    }
}

static int
s_observed (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result)
{
    jobd_job_t *job = NULL;
    int rc = s_observed_job (self, event, result, &job);
    if (rc == JOBD_ENOTFOUND && !event->job && event->create)
        return s_create (self, event, event->state, event->attempt ? event->attempt : 1, result);
    //  In a cluster, a job first seen at a backend has the id every instance derives from its
    //  backend id. Unknown here, it may be known to that id's owner (a `track` forwarded there
    //  that the changelog has not brought back yet): the observation goes there, after it in the
    //  owner's partition of the jobs topic, and the owner answers.
    if (rc == JOBD_ENOTFOUND && !event->job && self->id_fn && event->backend && event->ext &&
        self->id_fn (event->backend, event->ext, result->job, sizeof result->job, self->id_arg) ==
            0 &&
        !jobd_store_owns (self, result->job))
        return JOBD_ENOTOWNER;
    if (rc == JOBD_ENOTFOUND)
        result->job[0] = 0;
    if (rc)
        return rc;
    if (event->attempt && event->attempt < job->attempt) {
        result->outcome = JOBD_APPLY_OLD_ATTEMPT;
        return 0;
    }
    jobd_fsm_verdict_t verdict = jobd_fsm_check (job->state, event->state);
    //  The failure jobd's own pending retry is for (retry_at: a plan's wait), heard again (a
    //  redelivered message, a poller's late look): news of the attempt already failed, not a move
    //  that would cancel the retry. A later attempt's failure ends the wait, and so does a
    //  producer's FAILED after its own RETRY_WAIT (it retries itself and gave up).
    if (verdict == JOBD_FSM_ALLOW && job->state == JOBD_STATE_RETRY_WAIT && job->retry_at &&
        event->state == JOBD_STATE_FAILED && event->attempt <= job->attempt)
        verdict = JOBD_FSM_REPEAT;
    //  Nor does a QUEUED of that attempt (a redelivered message, a stray observation) skip the
    //  wait: only jobd's timer (or retry now) starts the next attempt.
    if (verdict == JOBD_FSM_ALLOW && job->state == JOBD_STATE_RETRY_WAIT && job->retry_at &&
        event->state == JOBD_STATE_QUEUED && event->attempt <= job->attempt)
        verdict = JOBD_FSM_REPEAT;
    if (verdict == JOBD_FSM_REFUSE) {
        result->outcome = JOBD_APPLY_BACKWARD;
        return 0;
    }
    //  A repeat only fills in a backend id the job lacked.
    const char *ext = verdict == JOBD_FSM_REPEAT && job->ext ? NULL : event->ext;
    const char *backend = job->backend ? job->backend : event->backend;
    if (ext && (rc = s_ext_taken (self, job, backend, ext)))
        return rc == JOBD_EEXIST ? s_conflict_note (self, job, event, backend, ext) : rc;
    //  Checked: from here on, a failure kills the batch.
    if (verdict == JOBD_FSM_ALLOW && job->state == JOBD_STATE_RETRY_WAIT &&
        event->state == JOBD_STATE_QUEUED)
        rc = jobd_store_new_attempt (self, job);
    if (rc == 0)
        rc = jobd_store_set_ext (self, job, backend, ext);
    if (rc)
        return rc;
    //  Freshness: the source confirmed the job's state, by a move or by repeating it. A repeat
    //  rewrites the record already (last_seen): this costs nothing more. jobd's own deadline
    //  action (source "deadline", core/README.md) is nobody's word on the job.
    if (strcmp (event->source, JOBD_STORE_SOURCE_DEADLINE) != 0)
        job->confirmed_at = jobd_now_ms ();
    bool promised = s_heartbeat_note (job, event);
    if (verdict == JOBD_FSM_ALLOW)
        return jobd_store_move (self, job, event->state, event, result);
    //  Not a transition: only the sign of life is kept, and a new promise re-arms the job's
    //  timers for it in this commit.
    result->outcome = JOBD_APPLY_DUPLICATE;
    job->last_seen = jobd_now_ms ();
    if (jobd_store_links_note (job, event))
        return -ENOMEM;
    if (promised && self->arm_fn && !jobd_state_is_final (job->state) &&
        (rc = self->arm_fn (self, job, self->arm_arg)))
        return rc;
    jobd_store_batch_dirty (self, job);
    return 0;
}

//  Records the state of the job's last cancel at its backend (written at commit).
static int
s_cancel_note (jobd_store_t *self, jobd_job_t *job, const char *status, const char *error)
{
    self->writes++; //  the batch's copy changes: a failure from here on costs the batch
    if (jobd_event_set (&job->cancel_status, status) || jobd_event_set (&job->cancel_error, error))
        return -ENOMEM;
    job->cancel_at = jobd_now_ms ();
    jobd_store_batch_dirty (self, job);
    return 0;
}

//  A plugin's word that the backend refused a kill, or that the kill did not take effect. Kept
//  on the record (README, "cancel.failed"); a job already CANCELLED keeps its record as it is.
static int
s_cancel_failed (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
                 jobd_apply_result_t *result)
{
    if (job->state == JOBD_STATE_CANCELLED) {
        result->outcome = JOBD_APPLY_DUPLICATE;
        return 0;
    }
    result->outcome = JOBD_APPLY_CHANGED;
    return s_cancel_note (self, job, event->status, event->error);
}

static int
s_cancel (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
          jobd_apply_result_t *result)
{
    switch (job->state) {
        case JOBD_STATE_SUBMITTED:
        case JOBD_STATE_RUNNING:
        case JOBD_STATE_UNKNOWN:
            //  At a backend: its plugin kills it there and will observe CANCELLED. The request
            //  is recorded, so that a refusal (cancel.failed) can be told from a cancel that
            //  was never asked, and a restarted plugin sees the kill it still owes.
            result->outcome = JOBD_APPLY_FORWARD;
            return s_cancel_note (self, job, "requested", NULL);
        default:
            //  QUEUED, RETRY_WAIT, LOST: cancelled here; final states: JOBD_ESTATE.
            return jobd_store_move (self, job, JOBD_STATE_CANCELLED, event, result);
    }
}

//  The batch's copy of job id for a change of its stale flag (what: for the log of a damaged
//  store), when it is still in state and its flag is flagged (set or not). Returns 0,
//  JOBD_ESTATE (nothing to change), or an error.
static int
s_stale_job (jobd_store_t *self, const char *id, jobd_state_t state, bool flagged, const char *what,
             jobd_job_t **job_p)
{
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    int rc = jobd_store_batch_get (self, id, job_p);
    if (rc)
        return jobd_store_damaged (self, rc, "%s job '%.64s''s stale flag", what, id);
    return (*job_p)->state != state || ((*job_p)->stale != NULL) != flagged ? JOBD_ESTATE : 0;
}

int
jobd_store_stale_set (jobd_store_t *self, const char *id, jobd_state_t state, const char *reason,
                      const jobd_job_t **job_p)
{
    jobd_job_t *job = NULL;
    int rc = s_stale_job (self, id, state, false, "setting", &job);
    if (rc)
        return rc;
    self->writes++;
    if (jobd_event_set (&job->stale, reason && *reason ? reason : "stale")) {
        self->failed = -ENOMEM;
        return -ENOMEM;
    }
    job->stale_at = jobd_now_ms ();
    self->stale_delta++;
    jobd_store_batch_dirty (self, job);
    *job_p = job;
    return 0;
}

int
jobd_store_stale_clear (jobd_store_t *self, const char *id, jobd_state_t state)
{
    jobd_job_t *job = NULL;
    int rc = s_stale_job (self, id, state, true, "clearing", &job);
    if (rc)
        return rc;
    self->writes++;
    jobd_event_set (&job->stale, NULL);
    job->stale_at = 0;
    self->stale_delta--;
    jobd_store_batch_dirty (self, job);
    return 0;
}

int
jobd_store_batch_job (jobd_store_t *self, const char *id, const jobd_job_t **job_p)
{
    if (!self->txn)
        return JOBD_ESTORE;
    jobd_job_t *job = NULL;
    int rc = jobd_store_batch_get (self, id, &job);
    if (rc == 0)
        *job_p = job;
    return jobd_store_damaged (self, rc, "reading job '%.64s' in a batch", id);
}

//  Adds the batch's stale flags to the count in meta ("stale_jobs", be64).
static int
s_stale_count_save (jobd_store_t *self)
{
    if (self->stale_delta == 0)
        return 0;
    MDB_val key = jobd_store_val ("stale_jobs", 10), value;
    int64_t count = 0;
    int rc = mdb_get (self->txn, self->meta, &key, &value);
    if (rc == 0 && value.mv_size == 8)
        count = (int64_t)jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
    else if (rc && rc != MDB_NOTFOUND)
        return jobd_store_mdb_error (rc);
    count += self->stale_delta;
    uint8_t bytes[8];
    jobd_store_put_be (bytes, 8, (uint64_t)(count > 0 ? count : 0));
    value = jobd_store_val (bytes, 8);
    return jobd_store_mdb_error (mdb_put (self->txn, self->meta, &key, &value, 0));
}

void
jobd_store_set_arm_fn (jobd_store_t *self, jobd_store_arm_fn *fn, void *arg)
{
    self->arm_fn = fn;
    self->arm_arg = arg;
}

//  Errors returned before an apply wrote anything: the batch goes on without the event.
static bool
s_refusal (int rc)
{
    return rc == JOBD_ENOTFOUND || rc == JOBD_EEXIST || rc == JOBD_ESTATE || rc == JOBD_EPROTO;
}

int
jobd_store_begin (jobd_store_t *self)
{
    if (self->txn)
        return 0;
    self->failed = 0;
    //  A map that could not grow is still usable: the batch may fit.
    jobd_store_map_grow (self);
    return jobd_store_mdb_error (mdb_txn_begin (self->env, NULL, 0, &self->txn));
}

static int s_apply (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result);

int
jobd_store_apply (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result)
{
    self->acting = true;
    int rc = s_apply (self, event, result);
    self->acting = false;
    return rc;
}

static int
s_apply (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result)
{
    memset (result, 0, sizeof *result);
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    bool store_event = event->type == JOBD_EVENT_SUBMIT || event->type == JOBD_EVENT_TRACK ||
                       event->type == JOBD_EVENT_CANCEL || event->type == JOBD_EVENT_RETRY ||
                       event->type == JOBD_EVENT_OBSERVED || event->type == JOBD_EVENT_CURSOR ||
                       event->type == JOBD_EVENT_CANCEL_FAILED ||
                       event->type == JOBD_EVENT_RETRY_PLAN;
    //  Checked here too: a record written from a bad event would not decode again.
    if (!store_event || jobd_event_validate (event, NULL, 0))
        return JOBD_EPROTO;
    int rc;
    unsigned writes = self->writes;
    jobd_job_t *job = NULL;
    switch (event->type) {
        case JOBD_EVENT_SUBMIT:
            rc = s_create (self, event, JOBD_STATE_QUEUED, 1, result);
            break;
        case JOBD_EVENT_TRACK:
            rc = s_create (self, event, event->state ? event->state : JOBD_STATE_SUBMITTED, 1,
                           result);
            break;
        case JOBD_EVENT_OBSERVED: {
            bool replay = false;
            char stream_job[JOBD_ID_MAX + 1] = "";
            s_stream_job (self, event, stream_job, sizeof stream_job);
            rc = jobd_store_stream_check (self, event, stream_job, &replay);
            if (rc == 0 && replay)
                result->outcome = JOBD_APPLY_REPLAY;
            else if (rc == 0)
                rc = s_observed (self, event, result);
            if (rc == 0 && !replay)
                rc = jobd_store_stream_advance (self, event, stream_job);
            break;
        }
        case JOBD_EVENT_CURSOR:
            rc = jobd_store_cursor_apply (self, event);
            break;
        default:
            snprintf (result->job, sizeof result->job, "%s", event->job);
            rc = jobd_store_batch_get (self, event->job, &job);
            if (rc == 0 && event->type == JOBD_EVENT_CANCEL)
                rc = s_cancel (self, job, event, result);
            else if (rc == 0 && event->type == JOBD_EVENT_CANCEL_FAILED)
                rc = s_cancel_failed (self, job, event, result);
            else if (rc == 0 && event->type == JOBD_EVENT_RETRY_PLAN)
                rc = jobd_store_retry_plan (self, job, event, result);
            else if (rc == 0)
                rc = jobd_store_retry_apply (self, job, event, result);
    }
    //  An error before anything was written (a damaged record that does not decode, say) costs
    //  this event only; one after a write costs the batch, so that nothing half-done commits.
    if (rc && !s_refusal (rc) && self->writes != writes)
        self->failed = rc;
    if (rc) {
        const char *reason = result->reason;
        jobd_apply_result_clear (result); //  keeps result->job
        result->reason = reason;
    }
    return jobd_store_damaged (self, rc, "applying a %s event (job '%.64s')",
                               jobd_event_type_name (event->type), result->job);
}

static void
s_batch_end (jobd_store_t *self)
{
    self->txn = NULL;
    self->failed = 0;
    self->next_id = 0;
    self->next_id_dirty = false;
    self->stale_delta = 0;
    zhashx_purge (self->batch_jobs);
    jobd_store_stream_end (self);
}

int
jobd_store_commit (jobd_store_t *self)
{
    if (!self->txn)
        return 0;
    int rc = self->failed ? self->failed : s_batch_write (self);
    if (rc)
        mdb_txn_abort (self->txn);
    else
        rc = jobd_store_mdb_error (mdb_txn_commit (self->txn));
    if (rc == JOBD_EFULL) //  the map grows before the next batch, if it may
        self->grow_next = true;
    jobd_store_log_end (self, rc == 0);
    jobd_store_timer_end (self, rc == 0);
    s_batch_end (self);
    return jobd_store_damaged (self, rc, "committing a batch");
}

void
jobd_store_abort (jobd_store_t *self)
{
    if (self->failed == JOBD_EFULL)
        self->grow_next = true;
    if (self->txn)
        mdb_txn_abort (self->txn);
    jobd_store_log_end (self, false);
    jobd_store_timer_end (self, false);
    s_batch_end (self);
}
