//  The transition log: every committed transition in commit order, for readers that forward them
//  (kafka-listener's outbound topic) and must lose none. An entry is a position (be64, from 1)
//  and the history key of its transition; the transition itself is read from the history, so
//  the log costs one small put per transition, and only while some reader has a cursor.
#include "jobd_store_internal.h"
#include <errno.h>
#include <string.h>

#define S_CURSOR_PREFIX "cursor/"
#define S_PRUNE_MAX     100000 //  entries one cursor event drops at most: batches stay short

static int
s_meta_u64 (jobd_store_t *self, MDB_txn *txn, const char *name, uint64_t *value_p)
{
    MDB_val key = jobd_store_val (name, strlen (name)), value;
    int rc = mdb_get (txn, self->meta, &key, &value);
    if (rc)
        return jobd_store_mdb_error (rc);
    if (value.mv_size != 8)
        return JOBD_ECORRUPT;
    *value_p = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
    return 0;
}

static int
s_meta_put_u64 (jobd_store_t *self, const char *name, uint64_t number)
{
    uint8_t bytes[8];
    jobd_store_put_be (bytes, sizeof bytes, number);
    MDB_val key = jobd_store_val (name, strlen (name)), value = jobd_store_val (bytes, 8);
    self->writes++;
    return jobd_store_mdb_error (mdb_put (self->txn, self->meta, &key, &value, 0));
}

//  The lowest position of all cursors, into *lowest_p. Returns 0, or JOBD_ENOTFOUND when there
//  is no cursor.
static int
s_lowest_cursor (jobd_store_t *self, MDB_txn *txn, uint64_t *lowest_p)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->meta, &cursor);
    if (rc)
        return jobd_store_mdb_error (rc);
    size_t prefix = strlen (S_CURSOR_PREFIX);
    MDB_val key = jobd_store_val (S_CURSOR_PREFIX, prefix), value;
    bool found = false;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
         rc == 0 && key.mv_size > prefix && !memcmp (key.mv_data, S_CURSOR_PREFIX, prefix);
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        uint64_t position =
            value.mv_size == 8 ? jobd_store_get_be ((const uint8_t *)value.mv_data, 8) : 0;
        if (!found || position < *lowest_p)
            *lowest_p = position;
        found = true;
    }
    mdb_cursor_close (cursor);
    return rc && rc != MDB_NOTFOUND ? jobd_store_mdb_error (rc) : found ? 0 : JOBD_ENOTFOUND;
}

int
jobd_store_log_open (jobd_store_t *self, MDB_txn *txn, bool writable)
{
    int rc = mdb_dbi_open (txn, "log", writable ? MDB_CREATE : 0, &self->log);
    if (rc == MDB_NOTFOUND && !writable)
        return 0; //  a format 1 store, read only: no log to read
    if (rc)
        return rc;
    self->has_log = true;
    self->log_saved = 1;
    MDB_val key = jobd_store_val ("log_next", 8), value;
    rc = mdb_get (txn, self->meta, &key, &value);
    if (rc == 0 && value.mv_size == 8)
        self->log_saved = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
    self->log_next = self->log_saved;
    uint64_t lowest;
    self->logging = s_lowest_cursor (self, txn, &lowest) == 0;
    return 0;
}

int
jobd_store_log_append (jobd_store_t *self, const void *key, size_t key_size)
{
    if (!self->logging)
        return 0;
    uint8_t position[8];
    jobd_store_put_be (position, sizeof position, self->log_next);
    MDB_val log_key = jobd_store_val (position, 8), value = jobd_store_val (key, key_size);
    self->writes++;
    int rc = mdb_put (self->txn, self->log, &log_key, &value, MDB_APPEND);
    if (rc == 0)
        self->log_next++;
    return rc == MDB_KEYEXIST ? JOBD_ECORRUPT : jobd_store_mdb_error (rc);
}

int
jobd_store_log_save (jobd_store_t *self)
{
    return self->log_next == self->log_saved ? 0
                                             : s_meta_put_u64 (self, "log_next", self->log_next);
}

void
jobd_store_log_end (jobd_store_t *self, bool committed)
{
    if (committed)
        self->log_saved = self->log_next;
    else
        self->log_next = self->log_saved;
}

int
jobd_store_cursor_apply (jobd_store_t *self, const jobd_event_t *event)
{
    if (!self->has_log)
        return JOBD_ESTORE;
    //  A reader cannot be done with what was never written.
    if (event->seq >= self->log_next)
        return JOBD_ESTATE;
    char name[sizeof S_CURSOR_PREFIX + JOBD_NAME_MAX];
    snprintf (name, sizeof name, S_CURSOR_PREFIX "%s", event->name);
    int rc = s_meta_put_u64 (self, name, event->seq);
    self->logging = true;
    uint64_t lowest = 0;
    if (rc == 0)
        rc = s_lowest_cursor (self, self->txn, &lowest);
    //  Entries every reader is done with go, a bounded number at a time.
    MDB_cursor *cursor = NULL;
    if (rc == 0)
        rc = jobd_store_mdb_error (mdb_cursor_open (self->txn, self->log, &cursor));
    MDB_val key, value;
    size_t dropped = 0;
    int found = rc ? rc : mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    while (rc == 0 && found == 0 && dropped < S_PRUNE_MAX && key.mv_size == 8 &&
           jobd_store_get_be ((const uint8_t *)key.mv_data, 8) <= lowest) {
        self->writes++;
        rc = jobd_store_mdb_error (mdb_cursor_del (cursor, 0));
        dropped++;
        if (rc == 0) //  the next oldest (none: not 0, the loop ends)
            found = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    }
    if (cursor)
        mdb_cursor_close (cursor);
    return rc;
}

int
jobd_store_log_read (jobd_store_t *self, uint64_t after, size_t max, jobd_store_log_fn *fn,
                     void *arg)
{
    if (!self->has_log)
        return 0;
    MDB_txn *txn;
    int rc = jobd_store_mdb_error (mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn));
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->log, &cursor));
    if (rc) {
        mdb_txn_abort (txn);
        return rc;
    }
    uint8_t start[8];
    jobd_store_put_be (start, sizeof start, after + 1);
    MDB_val key = jobd_store_val (start, 8), value;
    int count = 0;
    for (int found = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
         found == 0 && (size_t)count < max;
         found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        MDB_val transition;
        if (key.mv_size != 8 || mdb_get (txn, self->history, &value, &transition) != 0) {
            rc = JOBD_ECORRUPT;
            break;
        }
        count++;
        if (!fn (jobd_store_get_be ((const uint8_t *)key.mv_data, 8),
                 (const uint8_t *)transition.mv_data, transition.mv_size, arg))
            break;
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return rc ? rc : count;
}

int
jobd_store_cursor_get (jobd_store_t *self, const char *name, uint64_t *position_p, uint64_t *head_p)
{
    MDB_txn *txn;
    int rc = jobd_store_mdb_error (mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn));
    if (rc)
        return rc;
    uint64_t next = 1, position = 0;
    int found = s_meta_u64 (self, txn, "log_next", &next);
    if (found && found != JOBD_ENOTFOUND)
        rc = found;
    char key[sizeof S_CURSOR_PREFIX + JOBD_NAME_MAX];
    snprintf (key, sizeof key, S_CURSOR_PREFIX "%s", name ? name : "");
    if (rc == 0)
        rc = s_meta_u64 (self, txn, key, &position);
    mdb_txn_abort (txn);
    if (head_p)
        *head_p = next - 1;
    if (position_p)
        *position_p = rc == 0 ? position : 0;
    return rc;
}
