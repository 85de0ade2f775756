//  Durable timers: the `timers` database keyed by partition and due time, then job id and name,
//  and its by-job index, so that the next due timer of a partition is one cursor seek and a
//  transition drops its job's timers in its own commit (README.md, "Timers").
#include "jobd_store_internal.h"
#include <assert.h>

//  The bytes before the job id in a timers key: be16 partition, be64 due. The by-job entry's
//  value is the same prefix, so that it finds the timer.
#define S_PREFIX 10

//  Fills key (be16 partition, be64 due, job id, 0, name) and returns its size.
static size_t
s_due_key (uint8_t *key, uint16_t partition, int64_t due, const char *job, const char *name)
{
    size_t job_size = strlen (job), name_size = strlen (name);
    jobd_store_put_be (key, 2, partition);
    jobd_store_put_be (key + 2, 8, (uint64_t)due);
    memcpy (key + S_PREFIX, job, job_size);
    key[S_PREFIX + job_size] = 0;
    memcpy (key + S_PREFIX + 1 + job_size, name, name_size);
    return S_PREFIX + 1 + job_size + name_size;
}

//  Whether the broker takes the timers of partition (no owned function: every partition).
static bool
s_owned (jobd_store_t *self, uint16_t partition)
{
    return !self->owned_fn || self->owned_fn (partition, self->owned_arg);
}

//  Puts cursor on the first timer of the first partition at or after *partition_p that this
//  instance owns, and sets *partition_p to it: one seek per partition that holds timers.
//  Returns 0, MDB_NOTFOUND (no more), or an LMDB error.
static int
s_seek_partition (jobd_store_t *self, MDB_cursor *cursor, uint32_t *partition_p, MDB_val *key,
                  MDB_val *value)
{
    for (uint32_t partition = *partition_p; partition <= UINT16_MAX;) {
        uint8_t seek[2];
        jobd_store_put_be (seek, 2, partition);
        *key = jobd_store_val (seek, 2);
        int rc = mdb_cursor_get (cursor, key, value, MDB_SET_RANGE);
        if (rc)
            return rc;
        if (key->mv_size <= S_PREFIX)
            return JOBD_ECORRUPT;
        partition = (uint32_t)jobd_store_get_be ((const uint8_t *)key->mv_data, 2);
        if (s_owned (self, (uint16_t)partition)) {
            *partition_p = partition;
            return 0;
        }
        partition++;
    }
    return MDB_NOTFOUND;
}

//  Fills key (job id, 0, name) and returns its size.
static size_t
s_job_key (uint8_t *key, const char *job, const char *name)
{
    size_t job_size = strlen (job), name_size = strlen (name);
    memcpy (key, job, job_size);
    key[job_size] = 0;
    memcpy (key + job_size + 1, name, name_size);
    return job_size + 1 + name_size;
}

//  Reads the first due time of the owned partitions in txn into self->timer_next (0: none).
static int
s_read_next (jobd_store_t *self, MDB_txn *txn)
{
    self->timer_next = 0;
    if (!self->has_timers)
        return 0;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->timers, &cursor);
    if (rc)
        return rc;
    MDB_val key, value;
    uint32_t partition = 0;
    while ((rc = s_seek_partition (self, cursor, &partition, &key, &value)) == 0) {
        int64_t due = (int64_t)jobd_store_get_be ((const uint8_t *)key.mv_data + 2, 8);
        if (self->timer_next == 0 || due < self->timer_next)
            self->timer_next = due;
        partition++;
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND || rc == JOBD_ECORRUPT ? 0 : rc;
}

int
jobd_store_timer_open (jobd_store_t *self, MDB_txn *txn, bool writable)
{
    unsigned create = writable ? MDB_CREATE : 0;
    int rc = mdb_dbi_open (txn, "timers", create, &self->timers);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "timers_by_job", create, &self->timers_by_job);
    //  A store written before timers existed, opened read-only: it has none.
    if (rc == MDB_NOTFOUND && !writable)
        return 0;
    self->has_timers = rc == 0;
    return rc ? rc : s_read_next (self, txn);
}

//  Removes the timer whose by-job entry is at cursor (positioned), and the entry.
static int
s_remove_at (jobd_store_t *self, MDB_cursor *cursor, const MDB_val *job_key, const MDB_val *due)
{
    if (due->mv_size != S_PREFIX || job_key->mv_size > JOBD_STORE_TIMER_KEY_MAX - S_PREFIX)
        return JOBD_ECORRUPT;
    uint8_t bytes[JOBD_STORE_TIMER_KEY_MAX];
    memcpy (bytes, due->mv_data, S_PREFIX);
    memcpy (bytes + S_PREFIX, job_key->mv_data, job_key->mv_size);
    MDB_val key = jobd_store_val (bytes, S_PREFIX + job_key->mv_size);
    self->writes++;
    int rc = mdb_del (self->txn, self->timers, &key, NULL);
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = mdb_cursor_del (cursor, 0);
    return jobd_store_mdb_error (rc);
}

int
jobd_store_timers_clear (jobd_store_t *self, const char *job, const char *name)
{
    if (!self->has_timers)
        return 0;
    uint8_t bytes[JOBD_STORE_TIMER_KEY_MAX];
    size_t prefix = name ? s_job_key (bytes, job, name) : s_job_key (bytes, job, "");
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (self->txn, self->timers_by_job, &cursor);
    if (rc)
        return jobd_store_mdb_error (rc);
    MDB_val key = jobd_store_val (bytes, prefix), due;
    rc = mdb_cursor_get (cursor, &key, &due, MDB_SET_RANGE);
    //  Every entry of the job (or the one named): the keys that start with the prefix.
    while (rc == 0 && key.mv_size >= prefix && memcmp (key.mv_data, bytes, prefix) == 0 &&
           (!name || key.mv_size == prefix)) {
        rc = s_remove_at (self, cursor, &key, &due);
        //  After a delete, MDB_NEXT gives the entry that followed the deleted one.
        if (rc == 0)
            rc = mdb_cursor_get (cursor, &key, &due, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND || rc == JOBD_ENOTFOUND ? 0 : jobd_store_mdb_error (rc);
}

int
jobd_store_timer_set (jobd_store_t *self, const char *job, const char *name, int64_t due,
                      const void *value, size_t size)
{
    assert (self && job && name && due > 0);
    return jobd_store_timer_put (self, jobd_store_partition (self, job), job, name, due, value,
                                 size);
}

int
jobd_store_timer_put (jobd_store_t *self, uint16_t partition, const char *job, const char *name,
                      int64_t due, const void *value, size_t size)
{
    if (!self->txn)
        return JOBD_ESTORE;
    if (!self->has_timers)
        return JOBD_ESTORE;
    if (!*job || strlen (job) > JOBD_ID_MAX || !*name ||
        strlen (name) > JOBD_STORE_TIMER_NAME_MAX || size > JOBD_STORE_TIMER_VALUE_MAX)
        return JOBD_EPROTO;
    int rc = jobd_store_timers_clear (self, job, name);
    uint8_t due_key[JOBD_STORE_TIMER_KEY_MAX], job_key[JOBD_STORE_TIMER_KEY_MAX];
    MDB_val key = jobd_store_val (due_key, s_due_key (due_key, partition, due, job, name));
    MDB_val data = jobd_store_val (value, size);
    self->writes++;
    if (rc == 0)
        rc = jobd_store_mdb_error (mdb_put (self->txn, self->timers, &key, &data, 0));
    key = jobd_store_val (job_key, s_job_key (job_key, job, name));
    data = jobd_store_val (due_key, S_PREFIX); //  the by-job value: partition and due
    if (rc == 0)
        rc = jobd_store_mdb_error (mdb_put (self->txn, self->timers_by_job, &key, &data, 0));
    if (rc == 0 && (self->timer_batch_min == 0 || due < self->timer_batch_min))
        self->timer_batch_min = due;
    if (rc)
        self->failed = rc;
    return rc;
}

//  Copies the timer at key/value into timer. Returns 0 or JOBD_ECORRUPT.
static int
s_timer_read (const MDB_val *key, const MDB_val *value, jobd_store_timer_t *timer)
{
    const uint8_t *bytes = (const uint8_t *)key->mv_data;
    const uint8_t *zero =
        key->mv_size > S_PREFIX + 1 ? memchr (bytes + S_PREFIX, 0, key->mv_size - S_PREFIX) : NULL;
    size_t job_size = zero ? (size_t)(zero - bytes - S_PREFIX) : 0;
    size_t name_size = zero ? key->mv_size - S_PREFIX - 1 - job_size : 0;
    if (!zero || job_size == 0 || job_size > JOBD_ID_MAX || name_size == 0 ||
        name_size > JOBD_STORE_TIMER_NAME_MAX || value->mv_size > JOBD_STORE_TIMER_VALUE_MAX)
        return JOBD_ECORRUPT;
    timer->due = (int64_t)jobd_store_get_be (bytes + 2, 8);
    memcpy (timer->job, bytes + S_PREFIX, job_size);
    timer->job[job_size] = 0;
    memcpy (timer->name, zero + 1, name_size);
    timer->name[name_size] = 0;
    memcpy (timer->value, value->mv_data, value->mv_size);
    timer->value_size = value->mv_size;
    return 0;
}

int
jobd_store_timer_take (jobd_store_t *self, int64_t now, size_t max, jobd_store_timer_t *timers,
                       size_t *count_p)
{
    *count_p = 0;
    if (!self->txn)
        return JOBD_ESTORE;
    if (!self->has_timers)
        return 0;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (self->txn, self->timers, &cursor);
    if (rc)
        return jobd_store_mdb_error (rc);
    //  Each owned partition in turn, first due first within it.
    MDB_val key, value;
    uint32_t partition = 0;
    size_t count = 0;
    rc = 0;
    while (rc == 0 && count < max &&
           (rc = s_seek_partition (self, cursor, &partition, &key, &value)) == 0) {
        while (rc == 0 && count < max && key.mv_size > S_PREFIX &&
               jobd_store_get_be ((const uint8_t *)key.mv_data, 2) == partition &&
               (int64_t)jobd_store_get_be ((const uint8_t *)key.mv_data + 2, 8) <= now) {
            jobd_store_timer_t *timer = &timers[count];
            rc = s_timer_read (&key, &value, timer);
            self->writes++;
            if (rc == 0)
                rc = mdb_cursor_del (cursor, 0);
            if (rc == 0) {
                count++;
                self->timer_took = true;
                uint8_t job_key[JOBD_STORE_TIMER_KEY_MAX];
                MDB_val by_job =
                    jobd_store_val (job_key, s_job_key (job_key, timer->job, timer->name));
                rc = mdb_del (self->txn, self->timers_by_job, &by_job, NULL);
                if (rc == MDB_NOTFOUND)
                    rc = 0;
            }
            if (rc == 0)
                rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
        }
        if (rc == MDB_NOTFOUND)
            rc = 0; //  the last entry was taken: the next seek says whether more follow
        partition++;
    }
    mdb_cursor_close (cursor);
    *count_p = count;
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc && rc != JOBD_ECORRUPT)
        rc = jobd_store_mdb_error (rc);
    if (rc)
        self->failed = rc;
    return jobd_store_damaged (self, rc, "taking due timers");
}

int64_t
jobd_store_timer_next (jobd_store_t *self)
{
    return self->timer_next;
}

void
jobd_store_timer_end (jobd_store_t *self, bool committed)
{
    //  What the batch armed lowers the first due time; what it took or cleared may raise it:
    //  re-read from the committed data, one cursor seek.
    if (committed && self->timer_took) {
        MDB_txn *txn;
        if (jobd_store_read_begin (self, &txn) == 0) {
            s_read_next (self, txn);
            jobd_store_read_end (self, txn);
        }
    } else if (committed && self->timer_batch_min &&
               (self->timer_next == 0 || self->timer_batch_min < self->timer_next))
        self->timer_next = self->timer_batch_min;
    self->timer_batch_min = 0;
    self->timer_took = false;
}

int
jobd_store_timer_list (jobd_store_t *self, const char *job, jobd_store_timer_t *timers, size_t max,
                       size_t *count_p)
{
    *count_p = 0;
    if (!self->has_timers)
        return 0;
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor = NULL;
    rc = mdb_cursor_open (txn, self->timers_by_job, &cursor);
    uint8_t prefix[JOBD_STORE_TIMER_KEY_MAX];
    size_t prefix_size = s_job_key (prefix, job, "");
    MDB_val key = jobd_store_val (prefix, prefix_size), due;
    if (rc == 0)
        rc = mdb_cursor_get (cursor, &key, &due, MDB_SET_RANGE);
    size_t count = 0;
    while (rc == 0 && count < max && key.mv_size >= prefix_size &&
           memcmp (key.mv_data, prefix, prefix_size) == 0) {
        uint8_t bytes[JOBD_STORE_TIMER_KEY_MAX];
        if (due.mv_size != S_PREFIX || key.mv_size > sizeof bytes - S_PREFIX) {
            rc = JOBD_ECORRUPT;
            break;
        }
        memcpy (bytes, due.mv_data, S_PREFIX);
        memcpy (bytes + S_PREFIX, key.mv_data, key.mv_size);
        MDB_val timer_key = jobd_store_val (bytes, S_PREFIX + key.mv_size), value;
        rc = mdb_get (txn, self->timers, &timer_key, &value);
        if (rc == 0)
            rc = s_timer_read (&timer_key, &value, &timers[count]);
        if (rc == 0)
            count++;
        if (rc == 0)
            rc = mdb_cursor_get (cursor, &key, &due, MDB_NEXT);
    }
    //  A read-only transaction's cursors are not freed with it.
    if (cursor)
        mdb_cursor_close (cursor);
    jobd_store_read_end (self, txn);
    *count_p = count;
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc && rc != JOBD_ECORRUPT)
        rc = jobd_store_mdb_error (rc);
    return jobd_store_damaged (self, rc, "reading the timers of job '%.64s'", job);
}

int
jobd_store_stale_count (jobd_store_t *self, uint64_t *count_p)
{
    *count_p = 0;
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_val key = jobd_store_val ("stale_jobs", 10), value;
    rc = mdb_get (txn, self->meta, &key, &value);
    if (rc == 0 && value.mv_size == 8)
        *count_p = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
    jobd_store_read_end (self, txn);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : jobd_store_mdb_error (rc);
}

uint16_t
jobd_store_partition (jobd_store_t *self, const char *job)
{
    return self->partition_fn ? self->partition_fn (job, self->partition_arg) : 0;
}

bool
jobd_store_owns (jobd_store_t *self, const char *job)
{
    return s_owned (self, jobd_store_partition (self, job));
}

void
jobd_store_set_partition_fn (jobd_store_t *self, jobd_store_partition_fn *fn, void *arg)
{
    assert (self && !self->txn);
    self->partition_fn = fn;
    self->partition_arg = arg;
}

void
jobd_store_set_id_fn (jobd_store_t *self, jobd_store_id_fn *fn, void *arg)
{
    assert (self && !self->txn);
    self->id_fn = fn;
    self->id_arg = arg;
}

int
jobd_store_set_owned_fn (jobd_store_t *self, jobd_store_owned_fn *fn, void *arg)
{
    assert (self && !self->txn);
    self->owned_fn = fn;
    self->owned_arg = arg;
    //  Other partitions fire now: their first due time may be earlier.
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc == 0) {
        rc = jobd_store_mdb_error (s_read_next (self, txn));
        jobd_store_read_end (self, txn);
    }
    return rc;
}

int
jobd_store_timer_upgrade (jobd_store_t *self, MDB_txn *txn)
{
    //  Every key k of format 5 (be64 due, job id, 0, name) becomes 0x0000 k: partition 0. The
    //  new key sorts before k (k holds a byte that is not 0 where 0x0000 k holds one that is),
    //  so after k is moved, the first key at or after k is the next old one: one pass, no copy
    //  of the database in memory.
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->timers, &cursor);
    if (rc)
        return rc;
    uint8_t old_key[JOBD_STORE_TIMER_KEY_MAX], new_key[JOBD_STORE_TIMER_KEY_MAX];
    uint8_t old_value[JOBD_STORE_TIMER_VALUE_MAX];
    MDB_val key, value;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    while (rc == 0) {
        if (key.mv_size <= 9 || key.mv_size > sizeof old_key - 2 ||
            value.mv_size > sizeof old_value) {
            rc = MDB_CORRUPTED;
            break;
        }
        size_t key_size = key.mv_size, value_size = value.mv_size;
        memcpy (old_key, key.mv_data, key_size);
        memcpy (old_value, value.mv_data, value_size);
        new_key[0] = new_key[1] = 0;
        memcpy (new_key + 2, old_key, key_size);
        MDB_val put_key = jobd_store_val (new_key, key_size + 2);
        MDB_val put_value = jobd_store_val (old_value, value_size);
        MDB_val del_key = jobd_store_val (old_key, key_size);
        rc = mdb_put (txn, self->timers, &put_key, &put_value, 0);
        if (rc == 0)
            rc = mdb_del (txn, self->timers, &del_key, NULL);
        key = del_key;
        if (rc == 0)
            rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    }
    mdb_cursor_close (cursor);
    if (rc != MDB_NOTFOUND)
        return rc;
    //  The by-job entries' values: be64 due becomes be16 0, be64 due.
    rc = mdb_cursor_open (txn, self->timers_by_job, &cursor);
    if (rc)
        return rc;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    while (rc == 0) {
        if (value.mv_size == 8 && key.mv_size <= sizeof old_key) {
            //  The key is copied: a put that grows the value may move the node it points into.
            uint8_t prefix[S_PREFIX] = {0, 0};
            memcpy (prefix + 2, value.mv_data, 8);
            memcpy (old_key, key.mv_data, key.mv_size);
            MDB_val put_key = jobd_store_val (old_key, key.mv_size);
            MDB_val put_value = jobd_store_val (prefix, S_PREFIX);
            rc = mdb_cursor_put (cursor, &put_key, &put_value, MDB_CURRENT);
        }
        if (rc == 0)
            rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    //  The first due time was read (at open) from the old keys.
    return rc == MDB_NOTFOUND ? s_read_next (self, txn) : rc;
}
