//  The order index `by_updated`: be64 updated_at (the job's last transition), then its id, for
//  each job; the value is empty. It lets a reader page through the jobs newest first (the http
//  plugin's default order) without reading every record. The write path moves a job's entry when
//  a batch changed its updated_at (jobd_store_batch_save); a store of format 4 or older gets the
//  index built when it is first opened writable.
#include "jobd_store_internal.h"
#include <errno.h>
#include <string.h>

#define S_KEY_MAX (8 + JOBD_ID_MAX)

//  The index key of (updated, id) into key (S_KEY_MAX bytes); returns its size.
static size_t
s_key (uint8_t *key, int64_t updated, const char *id)
{
    //  Times before the epoch (never written by jobd) sort first.
    jobd_store_put_be (key, 8, updated > 0 ? (uint64_t)updated : 0);
    size_t length = strnlen (id, JOBD_ID_MAX);
    memcpy (key + 8, id, length);
    return 8 + length;
}

int
jobd_store_order_open (jobd_store_t *self, MDB_txn *txn, bool writable)
{
    int rc = mdb_dbi_open (txn, "by_updated", writable ? MDB_CREATE : 0, &self->by_updated);
    if (rc == MDB_NOTFOUND && !writable)
        return 0; //  a store older than format 5, read only: readers fall back to a scan
    if (rc == 0)
        self->has_order = true;
    return rc;
}

int
jobd_store_order_move (jobd_store_t *self, const char *id, int64_t before, int64_t after)
{
    if (!self->has_order || before == after)
        return 0;
    uint8_t bytes[S_KEY_MAX];
    MDB_val key, empty = jobd_store_val ("", 0);
    int rc = 0;
    if (before) {
        key = jobd_store_val (bytes, s_key (bytes, before, id));
        rc = mdb_del (self->txn, self->by_updated, &key, NULL);
        if (rc == MDB_NOTFOUND) //  a record older than the index: put below
            rc = 0;
    }
    if (rc == 0 && after) {
        key = jobd_store_val (bytes, s_key (bytes, after, id));
        self->writes++;
        rc = mdb_put (self->txn, self->by_updated, &key, &empty, 0);
    }
    return jobd_store_mdb_error (rc);
}

int
jobd_store_order_build (jobd_store_t *self, MDB_txn *txn)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->jobs, &cursor);
    if (rc)
        return rc;
    MDB_val id, record, empty = jobd_store_val ("", 0);
    int found;
    for (found = mdb_cursor_get (cursor, &id, &record, MDB_FIRST); found == 0 && rc == 0;
         found = mdb_cursor_get (cursor, &id, &record, MDB_NEXT)) {
        //  A record that does not read is left out (jobd --verify names it), not fatal here.
        size_t size;
        jobd_job_t *job = NULL;
        if (id.mv_size > JOBD_ID_MAX || jobd_store_record (self, &record, &size) ||
            jobd_job_decode (record.mv_data, size, &job, NULL, 0))
            continue;
        uint8_t bytes[S_KEY_MAX];
        MDB_val key = jobd_store_val (bytes, s_key (bytes, job->updated_at, job->id));
        rc = mdb_put (txn, self->by_updated, &key, &empty, 0);
        jobd_job_destroy (&job);
    }
    mdb_cursor_close (cursor);
    return rc ? rc : found == MDB_NOTFOUND ? 0 : found;
}

int
jobd_store_order_read (MDB_cursor *cursor, bool descending, int64_t after, const char *after_id,
                       bool first, MDB_val *id_p)
{
    MDB_val key, value;
    int rc;
    if (!first)
        rc = mdb_cursor_get (cursor, &key, &value, descending ? MDB_PREV : MDB_NEXT);
    else if (!after_id) //  from one end
        rc = mdb_cursor_get (cursor, &key, &value, descending ? MDB_LAST : MDB_FIRST);
    else {
        uint8_t bytes[S_KEY_MAX];
        key = jobd_store_val (bytes, s_key (bytes, after, after_id));
        MDB_val start = key;
        rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
        if (descending) //  the last key before start
            rc = rc == MDB_NOTFOUND ? mdb_cursor_get (cursor, &key, &value, MDB_LAST)
                                    : mdb_cursor_get (cursor, &key, &value, MDB_PREV);
        else if (rc == 0 && key.mv_size == start.mv_size &&
                 memcmp (key.mv_data, start.mv_data, key.mv_size) == 0) //  strictly after
            rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    if (rc)
        return rc;
    if (key.mv_size <= 8 || key.mv_size > S_KEY_MAX)
        return JOBD_ECORRUPT;
    *id_p = jobd_store_val ((const uint8_t *)key.mv_data + 8, key.mv_size - 8);
    return 0;
}
