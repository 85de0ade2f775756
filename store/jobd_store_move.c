//  The store's transitions: the open batch's copies of the jobs it touches, written once at
//  commit, and the one function every state change goes through (README.md, "The write path").
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
    int64_t stored_updated;    //  its updated_at in the store before the batch (0: a new job)
    uint64_t stored_seq;       //  its last_seq in the store before the batch (0: a new job)
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
int
jobd_store_batch_get (jobd_store_t *self, const char *id, jobd_job_t **job_p)
{
    s_cached_t *cached = (s_cached_t *)zhashx_lookup (self->batch_jobs, id);
    //  An event for a job of a partition another instance owns changes nothing here.
    if (!cached && self->acting && !jobd_store_owns (self, id))
        return JOBD_ENOTOWNER;
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
        cached->stored_updated = job->updated_at;
        cached->stored_seq = job->last_seq;
        s_cached_key (cached, id);
        zhashx_insert (self->batch_jobs, cached->id, cached);
    }
    *job_p = cached->job;
    return 0;
}

//  Adds a new job to the batch, which takes it over (also on failure), and marks it to write.
int
jobd_store_batch_add (jobd_store_t *self, jobd_job_t **job_p)
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

void
jobd_store_batch_dirty (jobd_store_t *self, const jobd_job_t *job)
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

int
jobd_store_batch_save (jobd_store_t *self)
{
    int rc = 0;
    for (s_cached_t *cached = (s_cached_t *)zhashx_first (self->batch_jobs); cached && rc == 0;
         cached = (s_cached_t *)zhashx_next (self->batch_jobs)) {
        if (!cached->dirty)
            continue;
        rc = s_job_save (self, cached->job);
        if (rc == 0 && cached->stored_state != cached->job->state)
            rc = s_state_index (self, cached->job->id, cached->stored_state, cached->job->state);
        if (rc == 0)
            rc = jobd_store_order_move (self, cached->job->id, cached->stored_updated,
                                        cached->job->updated_at);
    }
    return rc;
}

int
jobd_store_batch_each (jobd_store_t *self, jobd_store_batch_fn *fn, void *arg)
{
    int rc = 0;
    for (s_cached_t *cached = (s_cached_t *)zhashx_first (self->batch_jobs); cached && rc == 0;
         cached = (s_cached_t *)zhashx_next (self->batch_jobs))
        if (cached->dirty)
            rc = fn (self, cached->job, cached->stored_seq, arg);
    return rc;
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

//  Sets the job's backend id and its index entry (replacing the old one); ext NULL keeps it. A
//  job submitted without a backend takes the one that first gives it a backend id.
int
jobd_store_set_ext (jobd_store_t *self, jobd_job_t *job, const char *backend, const char *ext)
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

int
jobd_store_batch_replace (jobd_store_t *self, jobd_job_t **job_p)
{
    jobd_job_t *job = *job_p;
    *job_p = NULL;
    s_cached_t *cached = (s_cached_t *)zhashx_lookup (self->batch_jobs, job->id);
    const jobd_job_t *old = cached ? cached->job : NULL;
    bool same_ext =
        old && (old->ext ? job->ext && strcmp (old->ext, job->ext) == 0 : !job->ext) &&
        (old->backend ? job->backend && strcmp (old->backend, job->backend) == 0 : !job->backend);
    int rc = 0;
    if (!same_ext && old && old->ext)
        rc = s_ext_index (self, old->backend, old->ext, NULL);
    if (rc == 0 && !same_ext && job->ext)
        rc = s_ext_index (self, job->backend, job->ext, job->id);
    if (rc) {
        jobd_job_destroy (&job);
        return rc;
    }
    self->stale_delta += (job->stale != NULL) - (old && old->stale != NULL);
    if (!cached)
        return jobd_store_batch_add (self, &job);
    jobd_job_destroy (&cached->job);
    cached->job = job;
    cached->dirty = true;
    return 0;
}

int
jobd_store_batch_remove (jobd_store_t *self, const char *id)
{
    jobd_job_t *job = NULL;
    int rc = jobd_store_batch_get (self, id, &job);
    if (rc)
        return rc;
    s_cached_t *cached = (s_cached_t *)zhashx_lookup (self->batch_jobs, id);
    rc = job->ext ? s_ext_index (self, job->backend, job->ext, NULL) : 0;
    if (rc == 0 && cached->stored_state != JOBD_STATE_NONE) {
        uint8_t byte = (uint8_t)cached->stored_state;
        MDB_val key = jobd_store_val (&byte, 1), value = jobd_store_val (id, strlen (id));
        self->writes++;
        rc = mdb_del (self->txn, self->by_state, &key, &value);
        rc = rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
    }
    if (rc == 0 && cached->stored_updated) {
        //  jobd_store_order_move takes `after` 0 as "no entry".
        rc = jobd_store_order_move (self, id, cached->stored_updated, 0);
    }
    if (rc == 0) {
        MDB_val key = jobd_store_val (id, strlen (id));
        self->writes++;
        rc = mdb_del (self->txn, self->jobs, &key, NULL);
        rc = rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
    }
    if (rc == 0) {
        self->stale_delta -= job->stale != NULL;
        zhashx_delete (self->batch_jobs, id);
    }
    return rc;
}

//  Starts the job's next attempt (RETRY_WAIT -> QUEUED): the old backend id and times must not
//  reach it.
int
jobd_store_new_attempt (jobd_store_t *self, jobd_job_t *job)
{
    int rc = job->ext ? s_ext_index (self, job->backend, job->ext, NULL) : 0;
    jobd_event_set (&job->ext, NULL);
    jobd_event_set (&job->retry_final, NULL); //  a new attempt: a "no retry" said of the last ends
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
    //  In a cluster the transition joins the log when the changelog confirms it
    //  (jobd_store_cl_apply), on every instance alike.
    if (rc || self->replicated)
        return jobd_store_mdb_error (rc);
    return jobd_store_log_append (self, key_bytes, key.mv_size);
}

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
int
jobd_store_links_note (jobd_job_t *job, const jobd_event_t *event)
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
    //  A promise of signs of life ends with the job (a next attempt's events make their own).
    if (jobd_state_is_final (job->state)) {
        job->heartbeat = 0;
        job->heartbeat_grace = 0;
    }
    self->writes++;
    int rc = from == JOBD_STATE_NONE ? 0 : jobd_store_timers_clear (self, job->id, NULL);
    if (rc == 0 && self->arm_fn)
        rc = self->arm_fn (self, job, self->arm_arg);
    return rc;
}

//  The one way a job changes state: checks the move with the state machine, updates the record,
//  appends the history entry and the encoded transition to result. The record and its state
//  index entry are written at commit.
int
jobd_store_move (jobd_store_t *self, jobd_job_t *job, jobd_state_t to, const jobd_event_t *cause,
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
    //  A pending retry's time belongs to RETRY_WAIT: a plan that enters it sets it after the move.
    job->retry_at = 0;
    //  A "no retry" said of a lost job ends when it comes back: its next failure is decided anew.
    if (from == JOBD_STATE_LOST && to != JOBD_STATE_FAILED && to != JOBD_STATE_RETRY_WAIT &&
        jobd_event_set (&job->retry_final, NULL))
        return -ENOMEM;
    if (s_cancel_settle (job, to, now))
        return -ENOMEM;
    bool failure = cause->error || cause->cause;
    if (failure && s_failure_note (job, cause))
        return -ENOMEM;
    if (jobd_store_links_note (job, cause))
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
    //  A retry plan's move says when the next attempt starts, and why (proto/README.md).
    if (cause->type == JOBD_EVENT_RETRY_PLAN) {
        transition.due = cause->due;
        transition.failure_class = cause->failure_class;
        transition.policy = cause->policy;
        transition.change = cause->change;
    }
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
    jobd_store_batch_dirty (self, job);
    return 0;
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
