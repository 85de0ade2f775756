//  The store: LMDB, and the only code that touches it. Jobs, their histories, the indexes, the
//  on-disk format version, and the write path that applies events through the state machine.
#include "jobd_store.h"
#include "jobd_fsm.h"
#include <czmq.h>
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _jobd_store_t {
    MDB_env *env;
    MDB_dbi meta;     //  "format" -> be32, "next_id" -> be64
    MDB_dbi jobs;     //  job id -> job record (msgpack)
    MDB_dbi history;  //  job id, 0, be64 seq -> transition event (msgpack)
    MDB_dbi by_state; //  1 byte state -> job ids (dupsort)
    MDB_dbi by_ext;   //  backend, 0, ext -> job id
    MDB_txn *txn;     //  the open batch, or NULL
    char *path;
    msgpack_sbuffer scratch; //  the write path's packing buffer, reused
    msgpack_packer scratch_pk;
    zhashx_t *batch_jobs; //  job id -> s_cached_t: the jobs the open batch touched
};

//  A job the open batch has read or changed. Its record and its state index entry are written
//  once, at commit, however many transitions the batch gave it.
typedef struct {
    jobd_job_t *job;
    jobd_state_t stored_state; //  its state in the store before the batch (NONE: a new job)
    bool dirty;
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

//  LMDB's codes in jobd's range; the reason keeps LMDB's own text.
static int
s_error (int rc)
{
    switch (rc) {
        case 0:
            return 0;
        case MDB_NOTFOUND:
            return JOBD_ENOTFOUND;
        case MDB_MAP_FULL:
            return JOBD_EFULL;
        case MDB_CORRUPTED:
        case MDB_INVALID:
        case MDB_VERSION_MISMATCH:
        case MDB_PAGE_NOTFOUND:
            return JOBD_ECORRUPT;
        case ENOENT:
        case EACCES:
        case ENOMEM:
        case ENOSPC:
            return -rc;
        default:
            return JOBD_ESTORE;
    }
}

static void
s_be64 (uint8_t *out, uint64_t value)
{
    for (int index = 7; index >= 0; index--, value >>= 8)
        out[index] = (uint8_t)value;
}

static uint64_t
s_read_be64 (const uint8_t *in)
{
    uint64_t value = 0;
    for (int index = 0; index < 8; index++)
        value = (value << 8) | in[index];
    return value;
}

static MDB_val
s_val (const void *data, size_t size)
{
    MDB_val value = {size, (void *)data};
    return value;
}

static MDB_val
s_str (const char *text)
{
    return s_val (text, strlen (text));
}

//  Opens the databases in txn and checks (or, when writable and new, writes) the format.
static int
s_open_databases (jobd_store_t *self, MDB_txn *txn, bool writable, char *reason, size_t reason_size)
{
    unsigned create = writable ? MDB_CREATE : 0;
    int rc = mdb_dbi_open (txn, "meta", create, &self->meta);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "jobs", create, &self->jobs);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "history", create, &self->history);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "by_state", create | MDB_DUPSORT, &self->by_state);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "by_ext", create, &self->by_ext);
    if (rc) {
        snprintf (reason, reason_size, "store %s: %s", self->path,
                  rc == MDB_NOTFOUND ? "not a jobd store (no jobd databases)" : mdb_strerror (rc));
        return rc == MDB_NOTFOUND ? JOBD_ECORRUPT : s_error (rc);
    }
    MDB_val key = s_str ("format"), value;
    rc = mdb_get (txn, self->meta, &key, &value);
    if (rc == MDB_NOTFOUND && writable) {
        uint8_t format[8];
        s_be64 (format, JOBD_STORE_FORMAT);
        value = s_val (format, 8);
        rc = mdb_put (txn, self->meta, &key, &value, 0);
        if (rc) {
            snprintf (reason, reason_size, "store %s: %s", self->path, mdb_strerror (rc));
            return s_error (rc);
        }
        return 0;
    }
    if (rc || value.mv_size != 8) {
        snprintf (reason, reason_size, "store %s: no format version: not a jobd store", self->path);
        return JOBD_ECORRUPT;
    }
    uint64_t format = s_read_be64 ((const uint8_t *)value.mv_data);
    if (format > JOBD_STORE_FORMAT) {
        snprintf (reason, reason_size,
                  "store %s has format %llu, this jobd reads up to %d: upgrade jobd", self->path,
                  (unsigned long long)format, JOBD_STORE_FORMAT);
        return JOBD_EFORMAT;
    }
    return 0;
}

int
jobd_store_open (const char *path, int flags, size_t map_size, jobd_store_t **self_p, char *reason,
                 size_t reason_size)
{
    char scratch[8];
    if (!reason) {
        reason = scratch;
        reason_size = sizeof scratch;
    }
    bool writable = !(flags & JOBD_STORE_RDONLY);
    if (writable && mkdir (path, 0700) && errno != EEXIST) {
        int rc = -errno;
        snprintf (reason, reason_size, "store %s: %s", path, strerror (errno));
        return rc;
    }
    char data_file[1024];
    snprintf (data_file, sizeof data_file, "%s/data.mdb", path);
    if (!writable && access (data_file, F_OK)) {
        snprintf (reason, reason_size, "store %s: no such store", path);
        return -ENOENT;
    }
    jobd_store_t *self = (jobd_store_t *)calloc (1, sizeof (jobd_store_t));
    if (!self)
        return -ENOMEM;
    self->path = strdup (path);
    msgpack_sbuffer_init (&self->scratch);
    msgpack_packer_init (&self->scratch_pk, &self->scratch, msgpack_sbuffer_write);
    self->batch_jobs = zhashx_new ();
    zhashx_set_destructor (self->batch_jobs, (zhashx_destructor_fn *)s_cached_destroy);
    int rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, 8);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env, map_size ? map_size : (size_t)1 << 30);
    //  Readers on several threads, and the broker reading while its batch is open.
    if (rc == 0)
        rc = mdb_env_open (self->env, path, MDB_NOTLS | (writable ? 0 : MDB_RDONLY), 0600);
    if (rc) {
        snprintf (reason, reason_size, "store %s: %s", path, mdb_strerror (rc));
        rc = s_error (rc);
        jobd_store_destroy (&self);
        return rc;
    }
    MDB_txn *txn = NULL;
    rc = mdb_txn_begin (self->env, NULL, writable ? 0 : MDB_RDONLY, &txn);
    if (rc) {
        snprintf (reason, reason_size, "store %s: %s", path, mdb_strerror (rc));
        rc = s_error (rc);
    } else
        rc = s_open_databases (self, txn, writable, reason, reason_size);
    if (rc == 0) {
        rc = mdb_txn_commit (txn);
        if (rc) {
            snprintf (reason, reason_size, "store %s: %s", path, mdb_strerror (rc));
            rc = s_error (rc);
        }
    } else if (txn)
        mdb_txn_abort (txn);
    if (rc) {
        jobd_store_destroy (&self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void
jobd_store_destroy (jobd_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_store_t *self = *self_p;
    jobd_store_abort (self);
    if (self->env)
        mdb_env_close (self->env);
    msgpack_sbuffer_destroy (&self->scratch);
    zhashx_destroy (&self->batch_jobs);
    free (self->path);
    free (self);
    *self_p = NULL;
}

const char *
jobd_store_path (jobd_store_t *self)
{
    return self->path;
}

//  ---------------------------------------------------------------------------------------------
//  Records inside a transaction.

static int
s_job_load (jobd_store_t *self, MDB_txn *txn, const char *id, jobd_job_t **job_p)
{
    MDB_val key = s_str (id), value;
    int rc = mdb_get (txn, self->jobs, &key, &value);
    if (rc)
        return s_error (rc);
    return jobd_job_decode (value.mv_data, value.mv_size, job_p, NULL, 0) ? JOBD_ECORRUPT : 0;
}

static int
s_job_save (jobd_store_t *self, const jobd_job_t *job)
{
    //  The write path packs into one reused buffer: no allocation per record.
    self->scratch.size = 0;
    jobd_job_pack (job, &self->scratch_pk);
    MDB_val key = s_str (job->id), value = s_val (self->scratch.data, self->scratch.size);
    return s_error (mdb_put (self->txn, self->jobs, &key, &value, 0));
}

//  The batch's copy of a job: borrowed, valid until the batch ends. Loaded on first use.
static int
s_batch_job (jobd_store_t *self, const char *id, jobd_job_t **job_p)
{
    s_cached_t *cached = (s_cached_t *)zhashx_lookup (self->batch_jobs, id);
    if (!cached) {
        jobd_job_t *job = NULL;
        int rc = s_job_load (self, self->txn, id, &job);
        if (rc)
            return rc;
        cached = (s_cached_t *)calloc (1, sizeof (s_cached_t));
        if (!cached) {
            jobd_job_destroy (&job);
            return -ENOMEM;
        }
        cached->job = job;
        cached->stored_state = job->state;
        zhashx_insert (self->batch_jobs, id, cached);
    }
    *job_p = cached->job;
    return 0;
}

//  Adds a new job to the batch (which takes it over) and marks it to be written.
static int
s_batch_add (jobd_store_t *self, jobd_job_t *job)
{
    s_cached_t *cached = (s_cached_t *)calloc (1, sizeof (s_cached_t));
    if (!cached)
        return -ENOMEM;
    cached->job = job;
    cached->dirty = true;
    zhashx_insert (self->batch_jobs, job->id, cached);
    return 0;
}

static void
s_batch_dirty (jobd_store_t *self, const jobd_job_t *job)
{
    s_cached_t *cached = (s_cached_t *)zhashx_lookup (self->batch_jobs, job->id);
    if (cached)
        cached->dirty = true;
}

//  by_ext key: backend, 0, ext.
static MDB_val
s_ext_key (char *buffer, size_t size, const char *backend, const char *ext)
{
    int length = snprintf (buffer, size, "%s%c%s", backend ? backend : "", 0, ext);
    return s_val (buffer, (size_t)length < size ? (size_t)length : size - 1);
}

static int
s_ext_find (jobd_store_t *self, MDB_txn *txn, const char *backend, const char *ext, char *id,
            size_t id_size)
{
    char buffer[2 * JOBD_ID_MAX + 4];
    MDB_val key = s_ext_key (buffer, sizeof buffer, backend, ext), value;
    int rc = mdb_get (txn, self->by_ext, &key, &value);
    if (rc)
        return s_error (rc);
    if (value.mv_size >= id_size)
        return JOBD_ECORRUPT;
    memcpy (id, value.mv_data, value.mv_size);
    id[value.mv_size] = 0;
    return 0;
}

static int
s_ext_put (jobd_store_t *self, const char *backend, const char *ext, const char *id, bool remove)
{
    char buffer[2 * JOBD_ID_MAX + 4];
    MDB_val key = s_ext_key (buffer, sizeof buffer, backend, ext), value = s_str (id);
    int rc = remove ? mdb_del (self->txn, self->by_ext, &key, NULL)
                    : mdb_put (self->txn, self->by_ext, &key, &value, 0);
    return rc == MDB_NOTFOUND ? 0 : s_error (rc);
}

static int
s_state_index (jobd_store_t *self, const char *id, jobd_state_t from, jobd_state_t to)
{
    uint8_t byte = (uint8_t)from;
    MDB_val key = s_val (&byte, 1), value = s_str (id);
    int rc = 0;
    if (from != JOBD_STATE_NONE) {
        rc = mdb_del (self->txn, self->by_state, &key, &value);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    byte = (uint8_t)to;
    if (rc == 0)
        rc = mdb_put (self->txn, self->by_state, &key, &value, 0);
    return s_error (rc);
}

static int
s_next_id (jobd_store_t *self, char *id, size_t size)
{
    MDB_val key = s_str ("next_id"), value;
    uint64_t next = 1;
    int rc = mdb_get (self->txn, self->meta, &key, &value);
    if (rc == 0 && value.mv_size == 8)
        next = s_read_be64 ((const uint8_t *)value.mv_data);
    else if (rc && rc != MDB_NOTFOUND)
        return s_error (rc);
    snprintf (id, size, "job-%llu", (unsigned long long)next);
    uint8_t bytes[8];
    s_be64 (bytes, next + 1);
    value = s_val (bytes, 8);
    return s_error (mdb_put (self->txn, self->meta, &key, &value, 0));
}

//  Moves job to `to` because of cause: the record, both indexes, one history entry, and one
//  encoded transition appended to result. The caller has checked that the move is legal.
static int
s_move (jobd_store_t *self, jobd_job_t *job, jobd_state_t to, const jobd_event_t *cause,
        jobd_apply_result_t *result)
{
    jobd_state_t from = job->state;
    int64_t now = jobd_now_ms ();
    job->state = to;
    job->last_seq++;
    job->updated_at = now;
    job->last_seen = now;
    if (to == JOBD_STATE_QUEUED)
        job->queued_at = now;
    if (to == JOBD_STATE_SUBMITTED || (from == JOBD_STATE_NONE && !job->submitted_at))
        job->submitted_at = to == JOBD_STATE_QUEUED ? 0 : now;
    if (to == JOBD_STATE_RUNNING && !job->started_at)
        job->started_at = now;
    if (jobd_state_is_final (to))
        job->finished_at = now;
    bool carries_error = cause->error && to != JOBD_STATE_RETRY_WAIT && to != JOBD_STATE_QUEUED;
    if (carries_error && jobd_event_set (&job->error, cause->error))
        return -ENOMEM;

    //  The transition borrows the job's strings: it is only packed, never freed.
    char id[25];
    jobd_event_new_id (id);
    jobd_event_t transition = {.version = JOBD_PROTO_VERSION,
                               .type = JOBD_EVENT_TRANSITION,
                               .id = id,
                               .ts = now,
                               .source = cause->source ? cause->source : (char *)"jobd",
                               .job = job->id,
                               .name = job->name,
                               .kind = job->kind,
                               .backend = job->backend,
                               .ext = job->ext,
                               .state = to,
                               .from = from,
                               .attempt = job->attempt,
                               .seq = job->last_seq,
                               .error = carries_error ? cause->error : NULL};
    self->scratch.size = 0;
    jobd_event_pack (&transition, &self->scratch_pk);
    uint8_t *data = (uint8_t *)malloc (self->scratch.size);
    if (!data)
        return -ENOMEM;
    memcpy (data, self->scratch.data, self->scratch.size);
    jobd_transition_t *out = &result->transitions[result->transition_count];
    *out = (jobd_transition_t){from, to, job->last_seq, data, self->scratch.size};

    uint8_t key_bytes[JOBD_ID_MAX + 9];
    size_t id_length = strlen (job->id);
    memcpy (key_bytes, job->id, id_length);
    key_bytes[id_length] = 0;
    s_be64 (key_bytes + id_length + 1, job->last_seq);
    MDB_val key = s_val (key_bytes, id_length + 9), value = s_val (out->data, out->size);
    int rc = s_error (mdb_put (self->txn, self->history, &key, &value, MDB_NOOVERWRITE));
    if (rc) {
        free (out->data);
        memset (out, 0, sizeof *out);
        return rc;
    }
    result->transition_count++;
    s_batch_dirty (self, job);
    return 0;
}

//  A new job from a submit, a track, or an observation that may create it.
static int
s_create (jobd_store_t *self, const jobd_event_t *event, jobd_state_t state,
          jobd_apply_result_t *result)
{
    if (jobd_fsm_check (JOBD_STATE_NONE, state) != JOBD_FSM_ALLOW)
        return JOBD_ESTATE;
    char existing[JOBD_ID_MAX + 1];
    if (event->ext &&
        s_ext_find (self, self->txn, event->backend, event->ext, existing, sizeof existing) == 0)
        return JOBD_EEXIST; //  one backend id, one job
    jobd_job_t *job = jobd_job_new ();
    if (!job)
        return -ENOMEM;
    int rc = s_next_id (self, result->job, sizeof result->job);
    if (rc == 0 &&
        (jobd_event_set (&job->id, result->job) || jobd_event_set (&job->name, event->name) ||
         jobd_event_set (&job->kind, event->kind) ||
         jobd_event_set (&job->backend, event->backend) || jobd_event_set (&job->ext, event->ext) ||
         jobd_event_set (&job->spec, event->spec)))
        rc = -ENOMEM;
    job->attempt = event->attempt ? event->attempt : 1;
    if (rc == 0 && job->ext)
        rc = s_ext_put (self, job->backend, job->ext, job->id, false);
    if (rc == 0)
        rc = s_batch_add (self, job);
    if (rc) {
        jobd_job_destroy (&job);
        return rc;
    }
    return s_move (self, job, state, event, result);
}

//  Sets the job's backend id (and its index entry) when an observation brings a new one.
static int
s_set_ext (jobd_store_t *self, jobd_job_t *job, const char *ext)
{
    if (!ext || (job->ext && strcmp (job->ext, ext) == 0))
        return 0;
    int rc = job->ext ? s_ext_put (self, job->backend, job->ext, job->id, true) : 0;
    if (rc == 0)
        rc = s_ext_put (self, job->backend, ext, job->id, false);
    if (rc == 0 && jobd_event_set (&job->ext, ext))
        rc = -ENOMEM;
    return rc;
}

static int
s_observed (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result)
{
    int rc;
    if (event->job)
        snprintf (result->job, sizeof result->job, "%s", event->job);
    else {
        rc = s_ext_find (self, self->txn, event->backend, event->ext, result->job,
                         sizeof result->job);
        if (rc == JOBD_ENOTFOUND && event->create)
            return s_create (self, event, event->state, result);
        if (rc)
            return rc;
    }
    jobd_job_t *job = NULL;
    rc = s_batch_job (self, result->job, &job);
    if (rc)
        return rc;
    if (event->attempt && event->attempt < job->attempt)
        result->outcome = JOBD_APPLY_OLD_ATTEMPT;
    else
        switch (jobd_fsm_check (job->state, event->state)) {
            case JOBD_FSM_REPEAT:
                //  Not a transition: only the sign of life is kept.
                result->outcome = JOBD_APPLY_DUPLICATE;
                job->last_seen = jobd_now_ms ();
                rc = s_set_ext (self, job, job->ext ? NULL : event->ext);
                s_batch_dirty (self, job);
                break;
            case JOBD_FSM_REFUSE:
                result->outcome = JOBD_APPLY_BACKWARD;
                break;
            case JOBD_FSM_ALLOW:
                if (job->state == JOBD_STATE_RETRY_WAIT && event->state == JOBD_STATE_QUEUED) {
                    //  A new attempt: the old backend id must not reach it.
                    job->attempt++;
                    rc = job->ext ? s_ext_put (self, job->backend, job->ext, job->id, true) : 0;
                    jobd_event_set (&job->ext, NULL);
                    job->submitted_at = job->started_at = job->finished_at = 0;
                }
                if (rc == 0)
                    rc = s_set_ext (self, job, event->ext);
                if (rc == 0)
                    rc = s_move (self, job, event->state, event, result);
                break;
        }
    return rc;
}

static int
s_command (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result)
{
    snprintf (result->job, sizeof result->job, "%s", event->job);
    jobd_job_t *job = NULL;
    int rc = s_batch_job (self, event->job, &job);
    if (rc)
        return rc;
    jobd_state_t state = job->state;
    if (event->type == JOBD_EVENT_CANCEL) {
        if (state == JOBD_STATE_SUBMITTED || state == JOBD_STATE_RUNNING ||
            state == JOBD_STATE_UNKNOWN)
            result->outcome = JOBD_APPLY_FORWARD;
        else if (jobd_fsm_check (state, JOBD_STATE_CANCELLED) == JOBD_FSM_ALLOW)
            rc = s_move (self, job, JOBD_STATE_CANCELLED, event, result);
        else
            rc = JOBD_ESTATE;
    } else if (state != JOBD_STATE_FAILED)
        rc = JOBD_ESTATE; //  retry: FAILED jobs only
    else {
        jobd_event_t requeue = *event;
        requeue.state = JOBD_STATE_QUEUED;
        rc = s_move (self, job, JOBD_STATE_RETRY_WAIT, event, result);
        if (rc == 0) {
            job->attempt++;
            rc = job->ext ? s_ext_put (self, job->backend, job->ext, job->id, true) : 0;
            jobd_event_set (&job->ext, NULL);
            job->submitted_at = job->started_at = job->finished_at = 0;
        }
        if (rc == 0)
            rc = s_move (self, job, JOBD_STATE_QUEUED, &requeue, result);
    }
    return rc;
}

int
jobd_store_begin (jobd_store_t *self)
{
    if (self->txn)
        return 0;
    return s_error (mdb_txn_begin (self->env, NULL, 0, &self->txn));
}

int
jobd_store_apply (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result)
{
    memset (result, 0, sizeof *result);
    if (!self->txn)
        return JOBD_ESTORE;
    int rc;
    switch (event->type) {
        case JOBD_EVENT_SUBMIT:
            rc = s_create (self, event, JOBD_STATE_QUEUED, result);
            break;
        case JOBD_EVENT_TRACK:
            rc = s_ext_find (self, self->txn, event->backend, event->ext, result->job,
                             sizeof result->job);
            if (rc == 0)
                rc = JOBD_EEXIST;
            else if (rc == JOBD_ENOTFOUND)
                rc = s_create (self, event, event->state ? event->state : JOBD_STATE_SUBMITTED,
                               result);
            break;
        case JOBD_EVENT_CANCEL:
        case JOBD_EVENT_RETRY:
            rc = s_command (self, event, result);
            break;
        case JOBD_EVENT_OBSERVED:
            rc = s_observed (self, event, result);
            break;
        default:
            rc = JOBD_EPROTO;
    }
    if (rc && rc != JOBD_EEXIST)
        jobd_apply_result_clear (result);
    return rc;
}

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
    return rc;
}

int
jobd_store_commit (jobd_store_t *self)
{
    if (!self->txn)
        return 0;
    int rc = s_batch_write (self);
    if (rc)
        mdb_txn_abort (self->txn);
    else
        rc = s_error (mdb_txn_commit (self->txn));
    self->txn = NULL;
    zhashx_purge (self->batch_jobs);
    return rc;
}

void
jobd_store_abort (jobd_store_t *self)
{
    if (self->txn)
        mdb_txn_abort (self->txn);
    self->txn = NULL;
    zhashx_purge (self->batch_jobs);
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

//  ---------------------------------------------------------------------------------------------
//  Reads: one read-only transaction each, a consistent snapshot of committed data.

static int
s_read_begin (jobd_store_t *self, MDB_txn **txn_p)
{
    return s_error (mdb_txn_begin (self->env, NULL, MDB_RDONLY, txn_p));
}

int
jobd_store_job_get (jobd_store_t *self, const char *id, jobd_job_t **job_p)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    rc = s_job_load (self, txn, id, job_p);
    mdb_txn_abort (txn);
    return rc;
}

int
jobd_store_job_find (jobd_store_t *self, const char *backend, const char *ext, char **id_p)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    char id[JOBD_ID_MAX + 1];
    rc = s_ext_find (self, txn, backend, ext, id, sizeof id);
    mdb_txn_abort (txn);
    if (rc == 0 && !(*id_p = strdup (id)))
        rc = -ENOMEM;
    return rc;
}

int
jobd_store_history (jobd_store_t *self, const char *id, jobd_event_t ***events_p, size_t *count_p)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    jobd_job_t *job = NULL;
    rc = s_job_load (self, txn, id, &job);
    size_t count = 0, wanted = job ? (size_t)job->last_seq : 0;
    jobd_event_t **events = NULL;
    if (rc == 0 && !(events = (jobd_event_t **)calloc (wanted + 1, sizeof (jobd_event_t *))))
        rc = -ENOMEM;
    MDB_cursor *cursor = NULL;
    if (rc == 0)
        rc = s_error (mdb_cursor_open (txn, self->history, &cursor));
    if (rc == 0) {
        //  Keys are id, 0, be64 seq: start at seq 0 and walk while the prefix matches.
        uint8_t start[JOBD_ID_MAX + 9] = {0};
        size_t id_length = strlen (id);
        memcpy (start, id, id_length);
        MDB_val key = s_val (start, id_length + 9), value;
        int mdb_rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
        while (mdb_rc == 0 && count < wanted && key.mv_size == id_length + 9 &&
               memcmp (key.mv_data, start, id_length + 1) == 0) {
            if (jobd_event_decode (value.mv_data, value.mv_size, &events[count], NULL, 0)) {
                rc = JOBD_ECORRUPT;
                break;
            }
            count++;
            mdb_rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
        }
        if (mdb_rc && mdb_rc != MDB_NOTFOUND)
            rc = s_error (mdb_rc);
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    jobd_job_destroy (&job);
    if (rc) {
        jobd_store_history_free (&events, count);
        return rc;
    }
    *events_p = events;
    *count_p = count;
    return 0;
}

void
jobd_store_history_free (jobd_event_t ***events_p, size_t count)
{
    if (!events_p || !*events_p)
        return;
    for (size_t index = 0; index < count; index++)
        jobd_event_destroy (&(*events_p)[index]);
    free (*events_p);
    *events_p = NULL;
}

//  Calls fn with the decoded record of the job named by id. Returns 1 to stop, 0, or an error.
static int
s_scan_one (jobd_store_t *self, MDB_txn *txn, const MDB_val *id, jobd_store_scan_fn *fn, void *arg)
{
    char buffer[JOBD_ID_MAX + 1];
    if (id->mv_size > JOBD_ID_MAX)
        return JOBD_ECORRUPT;
    memcpy (buffer, id->mv_data, id->mv_size);
    buffer[id->mv_size] = 0;
    jobd_job_t *job = NULL;
    int rc = s_job_load (self, txn, buffer, &job);
    if (rc)
        return rc;
    bool more = fn (job, arg);
    jobd_job_destroy (&job);
    return more ? 0 : 1;
}

int
jobd_store_scan (jobd_store_t *self, uint32_t state_mask, jobd_store_scan_fn *fn, void *arg)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor = NULL;
    MDB_val key, value;
    if (state_mask == 0) {
        rc = s_error (mdb_cursor_open (txn, self->jobs, &cursor));
        int mdb_rc = rc ? MDB_NOTFOUND : mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
        while (rc == 0 && mdb_rc == 0) {
            jobd_job_t *job = NULL;
            if (jobd_job_decode (value.mv_data, value.mv_size, &job, NULL, 0))
                rc = JOBD_ECORRUPT;
            else {
                rc = fn (job, arg) ? 0 : 1;
                jobd_job_destroy (&job);
            }
            mdb_rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
        }
    } else {
        rc = s_error (mdb_cursor_open (txn, self->by_state, &cursor));
        for (int state = JOBD_STATE_QUEUED; rc == 0 && state < JOBD_STATE_COUNT; state++) {
            if (!(state_mask & (1u << state)))
                continue;
            uint8_t byte = (uint8_t)state;
            key = s_val (&byte, 1);
            int mdb_rc = mdb_cursor_get (cursor, &key, &value, MDB_SET);
            while (rc == 0 && mdb_rc == 0) {
                rc = s_scan_one (self, txn, &value, fn, arg);
                mdb_rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT_DUP);
            }
        }
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return rc == 1 ? 0 : rc;
}

int
jobd_store_counts (jobd_store_t *self, uint64_t counts[JOBD_STATE_COUNT])
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor = NULL;
    rc = s_error (mdb_cursor_open (txn, self->by_state, &cursor));
    for (int state = 0; rc == 0 && state < JOBD_STATE_COUNT; state++) {
        uint8_t byte = (uint8_t)state;
        MDB_val key = s_val (&byte, 1), value;
        size_t count = 0;
        if (mdb_cursor_get (cursor, &key, &value, MDB_SET) == 0)
            mdb_cursor_count (cursor, &count);
        counts[state] = count;
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return rc;
}
