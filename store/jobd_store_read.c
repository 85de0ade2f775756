//  The store's reads: one read-only transaction each, a consistent snapshot of committed data.
//  Nothing read from disk is trusted: what does not decode is JOBD_ECORRUPT for that read.
#include "jobd_store_internal.h"
#include "jobd_msgpack.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

//  Begins a read-only transaction. MDB_NOTLS lets any thread hold several, even the broker's
//  while its write transaction is open.
static int
s_read_begin (jobd_store_t *self, MDB_txn **txn_p)
{
    return jobd_store_mdb_error (mdb_txn_begin (self->env, NULL, MDB_RDONLY, txn_p));
}

int
jobd_store_job_get (jobd_store_t *self, const char *id, jobd_job_t **job_p)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    rc = jobd_store_job_load (self, txn, id, job_p);
    mdb_txn_abort (txn);
    return jobd_store_damaged (self, rc, "reading job '%.64s'", id);
}

int
jobd_store_job_find (jobd_store_t *self, const char *backend, const char *ext, char **id_p)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    char id[JOBD_ID_MAX + 1];
    rc = jobd_store_ext_lookup (self, txn, backend, ext, id, sizeof id);
    mdb_txn_abort (txn);
    if (rc == 0 && !(*id_p = strdup (id)))
        rc = -ENOMEM;
    return jobd_store_damaged (self, rc, "looking up backend id '%.64s'", ext ? ext : "");
}

//  Decodes one history entry: the transition with sequence number seq of the job whose key
//  prefix (id, 0) is prefix_size bytes. Returns 0 and sets *event_p, or JOBD_ECORRUPT.
static int
s_history_entry (const MDB_val *key, const MDB_val *value, size_t prefix_size, uint64_t seq,
                 jobd_event_t **event_p)
{
    if (key->mv_size != prefix_size + 8 ||
        jobd_store_get_be ((const uint8_t *)key->mv_data + prefix_size, 8) != seq)
        return JOBD_ECORRUPT; //  a gap or a stray key
    jobd_event_t *event = NULL;
    if (jobd_event_decode (value->mv_data, value->mv_size, &event, NULL, 0))
        return JOBD_ECORRUPT;
    if (event->type != JOBD_EVENT_TRANSITION || event->seq != seq) {
        jobd_event_destroy (&event);
        return JOBD_ECORRUPT;
    }
    *event_p = event;
    return 0;
}

//  Reads the history entries that follow the cursor's position into a growing array.
static int
s_history_walk (MDB_cursor *cursor, MDB_val *key, const uint8_t *prefix, size_t prefix_size,
                jobd_event_t ***events_p, size_t *count_p)
{
    MDB_val value;
    size_t capacity = 0;
    int mdb_rc = mdb_cursor_get (cursor, key, &value, MDB_SET_RANGE);
    while (mdb_rc == 0 && key->mv_size >= prefix_size &&
           memcmp (key->mv_data, prefix, prefix_size) == 0) {
        if (*count_p == capacity) {
            //  Grown as read: the record's last_seq is on disk, so not trusted for a size.
            capacity = capacity ? 2 * capacity : 16;
            jobd_event_t **grown =
                (jobd_event_t **)realloc (*events_p, capacity * sizeof (jobd_event_t *));
            if (!grown)
                return -ENOMEM;
            *events_p = grown;
        }
        int rc = s_history_entry (key, &value, prefix_size, *count_p + 1, &(*events_p)[*count_p]);
        if (rc)
            return rc;
        (*count_p)++;
        mdb_rc = mdb_cursor_get (cursor, key, &value, MDB_NEXT);
    }
    return mdb_rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (mdb_rc);
}

int
jobd_store_history (jobd_store_t *self, const char *id, jobd_event_t ***events_p, size_t *count_p)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    jobd_job_t *job = NULL;
    rc = jobd_store_job_load (self, txn, id, &job);
    jobd_event_t **events = NULL;
    size_t count = 0;
    MDB_cursor *cursor = NULL;
    if (rc == 0)
        rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->history, &cursor));
    if (rc == 0) {
        //  Keys are id, 0, be64 seq: start at seq 0 and walk while the prefix matches.
        uint8_t start[JOBD_ID_MAX + 9] = {0};
        size_t prefix_size = strlen (id) + 1;
        memcpy (start, id, prefix_size - 1);
        MDB_val key = jobd_store_val (start, prefix_size + 8);
        rc = s_history_walk (cursor, &key, start, prefix_size, &events, &count);
    }
    if (rc == 0 && count != job->last_seq)
        rc = JOBD_ECORRUPT;
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    jobd_job_destroy (&job);
    if (rc == 0 && !events && !(events = (jobd_event_t **)calloc (1, sizeof (jobd_event_t *))))
        rc = -ENOMEM;
    if (rc) {
        jobd_store_history_free (&events, count);
        return jobd_store_damaged (self, rc, "reading the history of job '%.64s'", id);
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

//  What a scan calls for each job: the decoded job (fn) or its stored bytes (encoded).
typedef struct {
    jobd_store_scan_fn *fn;
    jobd_store_encoded_fn *encoded;
    void *arg;
} s_visit_t;

//  Calls the visitor with the job. Returns 0 to go on, 1 to stop, or JOBD_ECORRUPT.
static int
s_scan_call (jobd_store_t *self, const MDB_val *record, const s_visit_t *visit)
{
    size_t size;
    if (jobd_store_record (self, record, &size))
        return JOBD_ECORRUPT;
    if (visit->encoded) {
        if (jobd_msgpack_check (record->mv_data, size, NULL, 0))
            return JOBD_ECORRUPT;
        return visit->encoded ((const uint8_t *)record->mv_data, size, visit->arg) ? 0 : 1;
    }
    jobd_job_t *job = NULL;
    if (jobd_job_decode (record->mv_data, size, &job, NULL, 0))
        return JOBD_ECORRUPT;
    bool more = visit->fn (job, visit->arg);
    jobd_job_destroy (&job);
    return more ? 0 : 1;
}

//  Every job, in id order.
static int
s_scan_all (jobd_store_t *self, MDB_txn *txn, const s_visit_t *visit)
{
    MDB_cursor *cursor = NULL;
    int rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->jobs, &cursor));
    MDB_val key, value;
    int mdb_rc = rc ? 0 : mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    while (rc == 0 && mdb_rc == 0) {
        rc = s_scan_call (self, &value, visit);
        if (rc == 0)
            mdb_rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    if (rc == 0 && mdb_rc != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (mdb_rc);
    mdb_cursor_close (cursor);
    return rc;
}

//  The jobs in one state, through the state index.
static int
s_scan_state (jobd_store_t *self, MDB_txn *txn, MDB_cursor *cursor, jobd_state_t state,
              const s_visit_t *visit)
{
    uint8_t byte = (uint8_t)state;
    MDB_val key = jobd_store_val (&byte, 1), id, record;
    int rc = 0, mdb_rc = mdb_cursor_get (cursor, &key, &id, MDB_SET);
    while (rc == 0 && mdb_rc == 0) {
        //  An index entry without its job is damage.
        mdb_rc = mdb_get (txn, self->jobs, &id, &record);
        rc = mdb_rc == MDB_NOTFOUND ? JOBD_ECORRUPT : jobd_store_mdb_error (mdb_rc);
        if (rc == 0)
            rc = s_scan_call (self, &record, visit);
        if (rc == 0)
            mdb_rc = mdb_cursor_get (cursor, &key, &id, MDB_NEXT_DUP);
    }
    if (rc == 0 && mdb_rc != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (mdb_rc);
    return rc;
}

static int
s_scan (jobd_store_t *self, uint32_t state_mask, const s_visit_t *visit)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    if (state_mask == 0)
        rc = s_scan_all (self, txn, visit);
    else {
        MDB_cursor *cursor = NULL;
        rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->by_state, &cursor));
        for (int state = JOBD_STATE_QUEUED; rc == 0 && state < JOBD_STATE_COUNT; state++)
            if (state_mask & (1u << state))
                rc = s_scan_state (self, txn, cursor, (jobd_state_t)state, visit);
        mdb_cursor_close (cursor);
    }
    mdb_txn_abort (txn);
    return rc == 1 ? 0 : jobd_store_damaged (self, rc, "listing jobs");
}

int
jobd_store_scan (jobd_store_t *self, uint32_t state_mask, jobd_store_scan_fn *fn, void *arg)
{
    s_visit_t visit = {fn, NULL, arg};
    return s_scan (self, state_mask, &visit);
}

int
jobd_store_scan_encoded (jobd_store_t *self, uint32_t state_mask, jobd_store_encoded_fn *fn,
                         void *arg)
{
    s_visit_t visit = {NULL, fn, arg};
    return s_scan (self, state_mask, &visit);
}

int
jobd_store_scan_updated (jobd_store_t *self, bool descending, int64_t after, const char *after_id,
                         jobd_store_encoded_fn *fn, void *arg)
{
    if (!self->has_order)
        return JOBD_ENOTFOUND;
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor = NULL;
    rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->by_updated, &cursor));
    s_visit_t visit = {NULL, fn, arg};
    MDB_val id, record;
    for (bool first = true; rc == 0; first = false) {
        int mdb_rc = jobd_store_order_read (cursor, descending, after, after_id, first, &id);
        if (mdb_rc == MDB_NOTFOUND)
            break;
        if (mdb_rc == 0) {
            //  An index entry without its job is damage.
            mdb_rc = mdb_get (txn, self->jobs, &id, &record);
            if (mdb_rc == MDB_NOTFOUND)
                mdb_rc = JOBD_ECORRUPT;
        }
        rc = mdb_rc == JOBD_ECORRUPT ? JOBD_ECORRUPT : jobd_store_mdb_error (mdb_rc);
        if (rc == 0)
            rc = s_scan_call (self, &record, &visit);
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return rc == 1 ? 0 : jobd_store_damaged (self, rc, "listing jobs by their last change");
}

int
jobd_store_counts (jobd_store_t *self, uint64_t counts[JOBD_STATE_COUNT])
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor = NULL;
    rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->by_state, &cursor));
    for (int state = 0; rc == 0 && state < JOBD_STATE_COUNT; state++) {
        uint8_t byte = (uint8_t)state;
        MDB_val key = jobd_store_val (&byte, 1), value;
        size_t count = 0;
        int mdb_rc = mdb_cursor_get (cursor, &key, &value, MDB_SET);
        if (mdb_rc == 0)
            mdb_rc = mdb_cursor_count (cursor, &count);
        if (mdb_rc && mdb_rc != MDB_NOTFOUND)
            rc = jobd_store_mdb_error (mdb_rc);
        counts[state] = count;
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return jobd_store_damaged (self, rc, "counting jobs by state");
}

int
jobd_store_size (jobd_store_t *self, uint64_t *used_p, uint64_t *map_p)
{
    MDB_envinfo info;
    MDB_stat stat;
    int rc = mdb_env_info (self->env, &info);
    if (rc == 0)
        rc = mdb_env_stat (self->env, &stat);
    if (rc)
        return jobd_store_mdb_error (rc);
    *used_p = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
    *map_p = info.me_mapsize;
    return 0;
}
