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

//  A job the open batch has read or changed. Its record and its state index entry are written
//  once, at commit, however many transitions the batch gave it.
typedef struct {
    jobd_job_t *job;
    jobd_state_t stored_state; //  its state in the store before the batch (NONE: a new job)
    bool dirty;
    char id[JOBD_ID_MAX + 1]; //  its key in batch_jobs (kept here: no copy of each key)
} s_cached_t;

static void
s_cached_destroy (s_cached_t **self_p)
{
    if (*self_p) {
        jobd_job_destroy (&(*self_p)->job);
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_cached_key (s_cached_t *self, const char *id)
{
    size_t size = strnlen (id, JOBD_ID_MAX);
    memcpy (self->id, id, size);
    self->id[size] = 0;
}

//  ---------------------------------------------------------------------------------------------
//  The open batch's jobs.

int
jobd_store_batch_init (jobd_store_t *self)
{
    self->batch_jobs = zhashx_new ();
    self->batch_streams = zhashx_new ();
    if (!self->batch_jobs || !self->batch_streams)
        return -ENOMEM;
    zhashx_set_destructor (self->batch_streams, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_destructor (self->batch_jobs, (zhashx_destructor_fn *)s_cached_destroy);
    //  Keyed by the entry's own copy of the id: no allocation per key.
    zhashx_set_key_duplicator (self->batch_jobs, NULL);
    zhashx_set_key_destructor (self->batch_jobs, NULL);
    return 0;
}

//  The batch's copy of a job: borrowed, valid until the batch ends. Loaded on first use.
static int
s_batch_job (jobd_store_t *self, const char *id, jobd_job_t **job_p)
{
    s_cached_t *cached = (s_cached_t *)zhashx_lookup (self->batch_jobs, id);
    if (!cached) {
        jobd_job_t *job = NULL;
        int rc = jobd_store_job_load (self, self->txn, id, &job);
        if (rc)
            return rc;
        cached = (s_cached_t *)calloc (1, sizeof (s_cached_t));
        if (!cached) {
            jobd_job_destroy (&job);
            return -ENOMEM;
        }
        cached->job = job;
        cached->stored_state = job->state;
        s_cached_key (cached, id);
        zhashx_insert (self->batch_jobs, cached->id, cached);
    }
    *job_p = cached->job;
    return 0;
}

//  Adds a new job to the batch, which takes it over (also on failure), and marks it to write.
static int
s_batch_add (jobd_store_t *self, jobd_job_t **job_p)
{
    s_cached_t *cached = (s_cached_t *)calloc (1, sizeof (s_cached_t));
    if (!cached) {
        jobd_job_destroy (job_p);
        return -ENOMEM;
    }
    cached->job = *job_p;
    cached->dirty = true;
    *job_p = NULL;
    s_cached_key (cached, cached->job->id);
    zhashx_insert (self->batch_jobs, cached->id, cached);
    return 0;
}

static void
s_batch_dirty (jobd_store_t *self, const jobd_job_t *job)
{
    s_cached_t *cached = (s_cached_t *)zhashx_lookup (self->batch_jobs, job->id);
    assert (cached);
    cached->dirty = true;
}

static int
s_job_save (jobd_store_t *self, const jobd_job_t *job)
{
    //  The write path packs into one reused buffer: no allocation per record.
    self->scratch.size = 0;
    if (jobd_job_pack_to (job, &self->scratch) || jobd_store_sum_append (&self->scratch))
        return -ENOMEM;
    MDB_val key = jobd_store_val (job->id, strlen (job->id));
    MDB_val value = jobd_store_val (self->scratch.data, self->scratch.size);
    return jobd_store_mdb_error (mdb_put (self->txn, self->jobs, &key, &value, 0));
}

//  Moves the job's state index entry from `from` (NONE: none yet) to `to`.
static int
s_state_index (jobd_store_t *self, const char *id, jobd_state_t from, jobd_state_t to)
{
    uint8_t byte = (uint8_t)from;
    MDB_val key = jobd_store_val (&byte, 1), value = jobd_store_val (id, strlen (id));
    int rc = 0;
    if (from != JOBD_STATE_NONE) {
        rc = mdb_del (self->txn, self->by_state, &key, &value);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    byte = (uint8_t)to;
    if (rc == 0)
        rc = mdb_put (self->txn, self->by_state, &key, &value, 0);
    return jobd_store_mdb_error (rc);
}

static int s_next_id_save (jobd_store_t *self);
static int s_stale_count_save (jobd_store_t *self);

//  Writes what the batch changed in its jobs: each record once, each state index entry once.
static int
s_batch_write (jobd_store_t *self)
{
    int rc = 0;
    for (s_cached_t *cached = (s_cached_t *)zhashx_first (self->batch_jobs); cached && rc == 0;
         cached = (s_cached_t *)zhashx_next (self->batch_jobs)) {
        if (!cached->dirty)
            continue;
        rc = s_job_save (self, cached->job);
        if (rc == 0 && cached->stored_state != cached->job->state)
            rc = s_state_index (self, cached->job->id, cached->stored_state, cached->job->state);
    }
    if (rc == 0)
        rc = jobd_store_stream_save (self);
    if (rc == 0)
        rc = s_next_id_save (self);
    if (rc == 0)
        rc = s_stale_count_save (self);
    return rc ? rc : jobd_store_log_save (self);
}

//  ---------------------------------------------------------------------------------------------
//  Changes inside the open batch.

//  Adds (or, with id NULL, removes) the by_ext entry backend, 0, ext.
static int
s_ext_index (jobd_store_t *self, const char *backend, const char *ext, const char *id)
{
    char buffer[JOBD_STORE_EXT_KEY_MAX];
    size_t size = jobd_store_ext_key (buffer, backend, ext);
    if (size == 0)
        return 0; //  nothing a lookup could find
    MDB_val key = jobd_store_val (buffer, size);
    MDB_val value = jobd_store_val (id, id ? strlen (id) : 0);
    self->writes++;
    int rc = id ? mdb_put (self->txn, self->by_ext, &key, &value, 0)
                : mdb_del (self->txn, self->by_ext, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
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

//  Sets the job's backend id and its index entry (replacing the old one); ext NULL keeps it. A
//  job submitted without a backend takes the one that first gives it a backend id.
static int
s_set_ext (jobd_store_t *self, jobd_job_t *job, const char *backend, const char *ext)
{
    if (!ext || (job->ext && strcmp (job->ext, ext) == 0))
        return 0;
    int rc = job->ext ? s_ext_index (self, job->backend, job->ext, NULL) : 0;
    if (rc == 0 && !job->backend && jobd_event_set (&job->backend, backend))
        rc = -ENOMEM;
    if (rc == 0)
        rc = s_ext_index (self, job->backend, ext, job->id);
    if (rc == 0 && jobd_event_set (&job->ext, ext))
        rc = -ENOMEM;
    return rc;
}

//  Starts the job's next attempt (RETRY_WAIT -> QUEUED): the old backend id and times must not
//  reach it.
static int
s_new_attempt (jobd_store_t *self, jobd_job_t *job)
{
    int rc = job->ext ? s_ext_index (self, job->backend, job->ext, NULL) : 0;
    jobd_event_set (&job->ext, NULL);
    job->attempt++;
    job->submitted_at = job->started_at = job->finished_at = 0;
    return rc;
}

static int
s_history_append (jobd_store_t *self, const jobd_job_t *job, const jobd_transition_t *transition)
{
    uint8_t key_bytes[JOBD_ID_MAX + 9];
    size_t id_length = strlen (job->id);
    memcpy (key_bytes, job->id, id_length);
    key_bytes[id_length] = 0;
    jobd_store_put_be (key_bytes + id_length + 1, 8, transition->seq);
    MDB_val key = jobd_store_val (key_bytes, id_length + 9);
    MDB_val value = jobd_store_val (transition->data, transition->size);
    self->writes++;
    int rc = mdb_put (self->txn, self->history, &key, &value, MDB_NOOVERWRITE);
    //  An entry already there means the record's last_seq is behind its history.
    if (rc == MDB_KEYEXIST)
        return JOBD_ECORRUPT;
    return rc ? jobd_store_mdb_error (rc) : jobd_store_log_append (self, key_bytes, key.mv_size);
}

//  The one way a job changes state: checks the move with the state machine, updates the record,
//  appends the history entry and the encoded transition to result. The record and its state
//  index entry are written at commit. Returns JOBD_ESTATE, before changing anything, when the
//  state machine refuses; 0; or another error after which the batch is dead.
//  A job that ends (or goes LOST) while its cancel is still pending at the backend (requested
//  or retrying): the cancel is settled on the record, "done" when it ended CANCELLED, else
//  "failed", saying how it ended. Returns 0 or -ENOMEM.
static int
s_cancel_settle (jobd_job_t *job, jobd_state_t to, int64_t now)
{
    const char *status = job->cancel_status;
    bool pending = status && (!strcmp (status, "requested") || !strcmp (status, "retrying"));
    if (!pending || !(jobd_state_is_final (to) || to == JOBD_STATE_LOST))
        return 0;
    char reason[128];
    snprintf (reason, sizeof reason, "the job ended %s before its kill took effect",
              jobd_state_name (to));
    bool done = to == JOBD_STATE_CANCELLED;
    if (jobd_event_set (&job->cancel_status, done ? "done" : "failed") ||
        jobd_event_set (&job->cancel_error, done ? NULL : reason))
        return -ENOMEM;
    job->cancel_at = now;
    return 0;
}

//  Keeps a failure's full text and its one-line cause on the record: the producer's cause, or
//  when it gives none, the generic rule's line of the error (jobd_cause.h). Returns 0 or -ENOMEM.
static int
s_failure_note (jobd_job_t *job, const jobd_event_t *cause)
{
    char derived[JOBD_CAUSE_CUT + 4];
    const char *line = cause->cause;
    if (!line || !*line)
        line = jobd_cause_generic (cause->error, derived, sizeof derived) ? derived : NULL;
    const char *error = cause->error ? cause->error : cause->cause;
    return jobd_event_set (&job->error, error) || jobd_event_set (&job->cause, line) ? -ENOMEM : 0;
}

//  Keeps the backend's links that the observation gives (app id, UI, driver log); the ones it
//  leaves out stay as they were. Returns 0 or -ENOMEM.
static int
s_links_note (jobd_job_t *job, const jobd_event_t *event)
{
    if (event->app_id && jobd_event_set (&job->app_id, event->app_id))
        return -ENOMEM;
    if (event->app_url && jobd_event_set (&job->app_url, event->app_url))
        return -ENOMEM;
    return event->log_url && jobd_event_set (&job->log_url, event->log_url) ? -ENOMEM : 0;
}

//  A job entering a state: its stale flag and its old state's timers go (in this commit), and
//  the arm function arms the new state's. A new job has no timers to remove.
static int
s_state_timers (jobd_store_t *self, jobd_job_t *job, jobd_state_t from)
{
    if (job->stale) {
        jobd_event_set (&job->stale, NULL);
        job->stale_at = 0;
        self->stale_delta--;
    }
    self->writes++;
    int rc = from == JOBD_STATE_NONE ? 0 : jobd_store_timers_clear (self, job->id, NULL);
    if (rc == 0 && self->arm_fn)
        rc = self->arm_fn (self, job, self->arm_arg);
    return rc;
}

static int
s_move (jobd_store_t *self, jobd_job_t *job, jobd_state_t to, const jobd_event_t *cause,
        jobd_apply_result_t *result)
{
    if (jobd_fsm_check (job->state, to) != JOBD_FSM_ALLOW)
        return JOBD_ESTATE;
    assert (result->transition_count < sizeof result->transitions / sizeof result->transitions[0]);
    jobd_state_t from = job->state;
    int64_t now = jobd_now_ms ();
    job->state = to;
    job->last_seq++;
    job->updated_at = job->last_seen = now;
    if (to == JOBD_STATE_QUEUED)
        job->queued_at = now;
    //  A job first seen past QUEUED was submitted before we heard of it.
    bool submitted =
        to == JOBD_STATE_SUBMITTED || (from == JOBD_STATE_NONE && to != JOBD_STATE_QUEUED);
    if (submitted && !job->submitted_at)
        job->submitted_at = now;
    if (to == JOBD_STATE_RUNNING && !job->started_at)
        job->started_at = now;
    if (jobd_state_is_final (to))
        job->finished_at = now;
    if (s_cancel_settle (job, to, now))
        return -ENOMEM;
    bool failure = cause->error || cause->cause;
    if (failure && s_failure_note (job, cause))
        return -ENOMEM;
    if (s_links_note (job, cause))
        return -ENOMEM;
    int rc = s_state_timers (self, job, from);
    if (rc)
        return rc;

    //  The transition borrows the job's strings: it is encoded (and validated), never freed.
    char id[25];
    jobd_event_new_id (id);
    jobd_event_t transition = {.version = JOBD_PROTO_VERSION,
                               .type = JOBD_EVENT_TRANSITION,
                               .id = id,
                               .ts = now,
                               .source = cause->source,
                               .job = job->id,
                               .name = job->name,
                               .kind = job->kind,
                               .backend = job->backend,
                               .ext = job->ext,
                               .state = to,
                               .from = from,
                               .attempt = job->attempt,
                               .seq = job->last_seq,
                               .error = cause->error,
                               .cause = failure ? job->cause : NULL};
    jobd_transition_t *out = &result->transitions[result->transition_count];
    *out = (jobd_transition_t){.from = from, .to = to, .seq = job->last_seq};
    rc = jobd_event_encode (&transition, &out->data, &out->size, NULL, 0);
    if (rc == 0)
        rc = s_history_append (self, job, out);
    if (rc) {
        free (out->data);
        memset (out, 0, sizeof *out);
        return rc;
    }
    result->transition_count++;
    s_batch_dirty (self, job);
    return 0;
}

//  Takes the next job id into id. The counter is read from meta once per batch and written
//  back at commit (s_batch_write): two LMDB operations per new job fewer.
static int
s_next_id (jobd_store_t *self, char *id, size_t size)
{
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
    //  Checked: from here on, a failure kills the batch.
    jobd_job_t *job = jobd_job_new ();
    if (!job)
        return -ENOMEM;
    int rc = s_next_id (self, result->job, sizeof result->job);
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
    if (rc == 0)
        rc = s_set_ext (self, job, event->backend, event->ext);
    if (rc) {
        jobd_job_destroy (&job);
        return rc;
    }
    jobd_job_t *added = job;
    rc = s_batch_add (self, &job);
    return rc ? rc : s_move (self, added, state, event, result);
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
    s_batch_dirty (self, job);
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
        rc = s_batch_job (self, event->job ? event->job : result->job, job_p);
    return rc;
}

static int
s_observed (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result)
{
    jobd_job_t *job = NULL;
    int rc = s_observed_job (self, event, result, &job);
    if (rc == JOBD_ENOTFOUND && !event->job && event->create)
        return s_create (self, event, event->state, event->attempt ? event->attempt : 1, result);
    if (rc)
        return rc;
    if (event->attempt && event->attempt < job->attempt) {
        result->outcome = JOBD_APPLY_OLD_ATTEMPT;
        return 0;
    }
    jobd_fsm_verdict_t verdict = jobd_fsm_check (job->state, event->state);
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
    if (job->state == JOBD_STATE_RETRY_WAIT && event->state == JOBD_STATE_QUEUED)
        rc = s_new_attempt (self, job);
    if (rc == 0)
        rc = s_set_ext (self, job, backend, ext);
    if (rc)
        return rc;
    //  Freshness: the source confirmed the job's state, by a move or by repeating it. A repeat
    //  rewrites the record already (last_seen): this costs nothing more. jobd's own deadline
    //  action (source "deadline", core/README.md) is nobody's word on the job.
    if (strcmp (event->source, JOBD_STORE_SOURCE_DEADLINE) != 0)
        job->confirmed_at = jobd_now_ms ();
    if (verdict == JOBD_FSM_ALLOW)
        return s_move (self, job, event->state, event, result);
    //  Not a transition: only the sign of life is kept.
    result->outcome = JOBD_APPLY_DUPLICATE;
    job->last_seen = jobd_now_ms ();
    if (s_links_note (job, event))
        return -ENOMEM;
    s_batch_dirty (self, job);
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
    s_batch_dirty (self, job);
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
            return s_move (self, job, JOBD_STATE_CANCELLED, event, result);
    }
}

static int
s_retry (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
         jobd_apply_result_t *result)
{
    if (job->state != JOBD_STATE_FAILED)
        return JOBD_ESTATE;
    int rc = s_move (self, job, JOBD_STATE_RETRY_WAIT, event, result);
    if (rc == 0)
        rc = s_new_attempt (self, job);
    if (rc == 0)
        rc = s_move (self, job, JOBD_STATE_QUEUED, event, result);
    //  Both moves were checked above: ESTATE here would be a broken state machine.
    assert (rc != JOBD_ESTATE);
    return rc;
}

int
jobd_store_stale_set (jobd_store_t *self, const char *id, jobd_state_t state, const char *reason,
                      const jobd_job_t **job_p)
{
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    jobd_job_t *job = NULL;
    int rc = s_batch_job (self, id, &job);
    if (rc)
        return jobd_store_damaged (self, rc, "flagging job '%.64s' stale", id);
    if (job->state != state || job->stale)
        return JOBD_ESTATE;
    self->writes++;
    if (jobd_event_set (&job->stale, reason && *reason ? reason : "stale")) {
        self->failed = -ENOMEM;
        return -ENOMEM;
    }
    job->stale_at = jobd_now_ms ();
    self->stale_delta++;
    s_batch_dirty (self, job);
    *job_p = job;
    return 0;
}

int
jobd_store_batch_job (jobd_store_t *self, const char *id, const jobd_job_t **job_p)
{
    if (!self->txn)
        return JOBD_ESTORE;
    jobd_job_t *job = NULL;
    int rc = s_batch_job (self, id, &job);
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
    return jobd_store_mdb_error (mdb_txn_begin (self->env, NULL, 0, &self->txn));
}

int
jobd_store_apply (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result)
{
    memset (result, 0, sizeof *result);
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    bool store_event = event->type == JOBD_EVENT_SUBMIT || event->type == JOBD_EVENT_TRACK ||
                       event->type == JOBD_EVENT_CANCEL || event->type == JOBD_EVENT_RETRY ||
                       event->type == JOBD_EVENT_OBSERVED || event->type == JOBD_EVENT_CURSOR ||
                       event->type == JOBD_EVENT_CANCEL_FAILED;
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
            rc = jobd_store_stream_check (self, event, &replay);
            if (rc == 0 && replay)
                result->outcome = JOBD_APPLY_REPLAY;
            else if (rc == 0)
                rc = s_observed (self, event, result);
            if (rc == 0 && !replay)
                rc = jobd_store_stream_advance (self, event);
            break;
        }
        case JOBD_EVENT_CURSOR:
            rc = jobd_store_cursor_apply (self, event);
            break;
        default:
            snprintf (result->job, sizeof result->job, "%s", event->job);
            rc = s_batch_job (self, event->job, &job);
            if (rc == 0 && event->type == JOBD_EVENT_CANCEL)
                rc = s_cancel (self, job, event, result);
            else if (rc == 0 && event->type == JOBD_EVENT_CANCEL_FAILED)
                rc = s_cancel_failed (self, job, event, result);
            else if (rc == 0)
                rc = s_retry (self, job, event, result);
    }
    //  An error before anything was written (a damaged record that does not decode, say) costs
    //  this event only; one after a write costs the batch, so that nothing half-done commits.
    if (rc && !s_refusal (rc) && self->writes != writes)
        self->failed = rc;
    if (rc)
        jobd_apply_result_clear (result); //  keeps result->job
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
    jobd_store_log_end (self, rc == 0);
    jobd_store_timer_end (self, rc == 0);
    s_batch_end (self);
    return jobd_store_damaged (self, rc, "committing a batch");
}

void
jobd_store_abort (jobd_store_t *self)
{
    if (self->txn)
        mdb_txn_abort (self->txn);
    jobd_store_log_end (self, false);
    jobd_store_timer_end (self, false);
    s_batch_end (self);
}

void
jobd_apply_result_clear (jobd_apply_result_t *result)
{
    for (size_t index = 0; index < result->transition_count; index++)
        free (result->transitions[index].data);
    char job[JOBD_ID_MAX + 1];
    memcpy (job, result->job, sizeof job);
    memset (result, 0, sizeof *result);
    memcpy (result->job, job, sizeof job);
}
