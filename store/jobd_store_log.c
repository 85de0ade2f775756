//  The transition log: every committed transition in commit order, for readers that forward them
//  (kafka-listener's outbound topic) and must lose none. An entry is a position (be64, from 1)
//  and the history key of its transition; the transition itself is read from the history, so
//  the log costs one small put per transition, and only while some reader has a cursor. Events
//  that are not transitions (`stale`) have no history entry: they are logged inline, a 0x00
//  byte (never the first byte of a history key: job ids are not empty and hold no NUL) and the
//  encoded event.
#include "jobd_store_internal.h"
#include <errno.h>
#include <string.h>

#define S_CURSOR_PREFIX "cursor/"
#define S_MOVED_PREFIX  "cursor_at/" //  cursor_at/NAME: be64 ms, when cursor NAME last moved
#define S_PRUNE_MAX     100000       //  entries one cursor event drops at most: batches stay short
#define S_EXPIRE_MAX    1000         //  cursors one expiry pass looks at

int
jobd_store_meta_get (jobd_store_t *self, MDB_txn *txn, const void *key, size_t size,
                     uint64_t *value_p)
{
    MDB_val k = jobd_store_val (key, size), value;
    int rc = mdb_get (txn, self->meta, &k, &value);
    if (rc)
        return jobd_store_mdb_error (rc);
    if (value.mv_size != 8)
        return JOBD_ECORRUPT;
    *value_p = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
    return 0;
}

int
jobd_store_meta_u64 (jobd_store_t *self, MDB_txn *txn, const char *name, uint64_t *value_p)
{
    return jobd_store_meta_get (self, txn, name, strlen (name), value_p);
}

int
jobd_store_meta_put (jobd_store_t *self, const void *key, size_t size, uint64_t value)
{
    uint8_t bytes[8];
    jobd_store_put_be (bytes, sizeof bytes, value);
    MDB_val k = jobd_store_val (key, size), v = jobd_store_val (bytes, 8);
    self->writes++;
    return jobd_store_mdb_error (mdb_put (self->txn, self->meta, &k, &v, 0));
}

int
jobd_store_meta_del (jobd_store_t *self, const void *key, size_t size)
{
    MDB_val k = jobd_store_val (key, size);
    self->writes++;
    int rc = mdb_del (self->txn, self->meta, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
}

//  A be64 meta value named name, in the open batch.
static int
s_meta_put_u64 (jobd_store_t *self, const char *name, uint64_t number)
{
    return jobd_store_meta_put (self, name, strlen (name), number);
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
jobd_store_log_event (jobd_store_t *self, const jobd_event_t *event)
{
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    if (!self->logging)
        return 0;
    if (!event || event->type == JOBD_EVENT_TRANSITION)
        return JOBD_EINVAL; //  transitions are logged with their history entry
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = jobd_event_encode (event, &data, &size, NULL, 0);
    uint8_t *entry = rc ? NULL : (uint8_t *)malloc (size + 1);
    if (rc == 0 && !entry)
        rc = -ENOMEM;
    if (rc == 0) {
        entry[0] = 0;
        memcpy (entry + 1, data, size);
        rc = jobd_store_log_append (self, entry, size + 1);
    }
    free (entry);
    free (data);
    //  An event that does not encode is the caller's mistake, not the batch's; anything else
    //  leaves the batch half written.
    if (rc && rc != JOBD_EPROTO && rc != JOBD_ETOOBIG)
        self->failed = rc;
    return rc;
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
    else {
        self->log_next = self->log_saved;
        if (self->log_stopped) //  the cursors the batch dropped are still there
            self->logging = true;
    }
    self->log_stopped = false;
}

//  Drops the entries every reader is done with (all of them when no cursor is left: logging
//  then stops), a bounded number at a time; the rest go with the next cursor move or expiry.
static int
s_prune (jobd_store_t *self)
{
    uint64_t lowest = 0;
    int rc = s_lowest_cursor (self, self->txn, &lowest);
    if (rc == JOBD_ENOTFOUND) {
        if (self->logging)
            self->log_stopped = true; //  given back when the batch is not committed
        self->logging = false;
        lowest = UINT64_MAX;
        rc = 0;
    }
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

//  The meta key of cursor name under prefix, into key (at least sizeof S_MOVED_PREFIX +
//  JOBD_NAME_MAX bytes).
static void
s_cursor_key (char *key, size_t size, const char *prefix, const char *name)
{
    snprintf (key, size, "%s%s", prefix, name);
}

int
jobd_store_cursor_apply (jobd_store_t *self, const jobd_event_t *event)
{
    if (!self->has_log)
        return JOBD_ESTORE;
    //  A reader cannot be done with what was never written.
    if (event->seq >= self->log_next)
        return JOBD_ESTATE;
    char name[sizeof S_MOVED_PREFIX + JOBD_NAME_MAX];
    s_cursor_key (name, sizeof name, S_CURSOR_PREFIX, event->name);
    uint64_t before = 0;
    int had = jobd_store_meta_u64 (self, self->txn, name, &before);
    int rc = had && had != JOBD_ENOTFOUND && had != JOBD_ECORRUPT ? had : 0;
    if (rc == 0)
        rc = s_meta_put_u64 (self, name, event->seq);
    //  The cursor's clock for cursor_idle_max: it runs from its last move.
    if (rc == 0 && (had || before != event->seq)) {
        s_cursor_key (name, sizeof name, S_MOVED_PREFIX, event->name);
        rc = s_meta_put_u64 (self, name, (uint64_t)jobd_now_ms ());
    }
    self->logging = true;
    self->log_stopped = false;
    return rc ? rc : s_prune (self);
}

//  Opens a read transaction (*txn_p, NULL on failure) and reads the log's head into *head_p.
static int
s_read_begin (jobd_store_t *self, MDB_txn **txn_p, uint64_t *head_p)
{
    *head_p = 0;
    int rc = jobd_store_read_begin (self, txn_p);
    if (rc)
        return rc;
    uint64_t next = 1;
    int found = jobd_store_meta_u64 (self, *txn_p, "log_next", &next);
    *head_p = next - 1;
    return found && found != JOBD_ENOTFOUND ? found : 0;
}

//  Reads up to max cursors from txn into a fresh array (*cursors_p) and their number (*count_p).
static int
s_cursors_read (jobd_store_t *self, MDB_txn *txn, size_t max, jobd_store_cursor_t **cursors_p,
                size_t *count_p, bool *more_p)
{
    *cursors_p = NULL;
    *count_p = 0;
    *more_p = false;
    MDB_cursor *cursor;
    int rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->meta, &cursor));
    if (rc)
        return rc;
    size_t prefix = strlen (S_CURSOR_PREFIX), room = 0, count = 0;
    jobd_store_cursor_t *cursors = NULL;
    MDB_val key = jobd_store_val (S_CURSOR_PREFIX, prefix), value;
    int found;
    for (found = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
         found == 0 && rc == 0 && key.mv_size > prefix &&
         !memcmp (key.mv_data, S_CURSOR_PREFIX, prefix);
         found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (count == max) {
            *more_p = true;
            break;
        }
        if (count == room) {
            room = room ? room * 2 : 16;
            jobd_store_cursor_t *grown =
                (jobd_store_cursor_t *)realloc (cursors, room * sizeof *cursors);
            if (!grown) {
                rc = -ENOMEM;
                break;
            }
            cursors = grown;
        }
        jobd_store_cursor_t *one = &cursors[count];
        memset (one, 0, sizeof *one);
        size_t length = key.mv_size - prefix;
        if (length > JOBD_NAME_MAX || value.mv_size != 8 ||
            memchr ((const char *)key.mv_data + prefix, 0, length)) {
            //  Not a name a cursor event could have written: damage, reported (rate-limited),
            //  and passed over, so that the other cursors are still listed and expire.
            jobd_store_damaged (self, JOBD_ECORRUPT, "reading a cursor entry of %zu bytes",
                                key.mv_size);
            continue;
        }
        memcpy (one->name, (const char *)key.mv_data + prefix, length);
        one->position = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
        count++;
    }
    mdb_cursor_close (cursor);
    if (rc == 0 && found && found != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (found);
    //  Each cursor's last move, read after the walk (a get would move the walk's cursor).
    for (size_t index = 0; rc == 0 && index < count; index++) {
        char name[sizeof S_MOVED_PREFIX + JOBD_NAME_MAX];
        s_cursor_key (name, sizeof name, S_MOVED_PREFIX, cursors[index].name);
        uint64_t moved = 0;
        int got = jobd_store_meta_u64 (self, txn, name, &moved);
        if (got == 0)
            cursors[index].moved_at = (int64_t)moved;
        else if (got != JOBD_ENOTFOUND)
            rc = got;
    }
    if (rc) {
        free (cursors);
        return rc;
    }
    *cursors_p = cursors;
    *count_p = count;
    return 0;
}

int
jobd_store_cursor_list (jobd_store_t *self, size_t max, jobd_store_cursor_t **cursors_p,
                        size_t *count_p, uint64_t *head_p, bool *more_p)
{
    *cursors_p = NULL;
    *count_p = 0;
    *head_p = 0;
    *more_p = false;
    if (!self->has_log)
        return 0;
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn, head_p);
    if (rc == 0)
        rc = s_cursors_read (self, txn, max, cursors_p, count_p, more_p);
    if (txn)
        jobd_store_read_end (self, txn);
    return rc;
}

//  Deletes cursor name and its clock in the open batch. Returns 0, JOBD_ENOTFOUND, or an error.
static int
s_cursor_delete (jobd_store_t *self, const char *name)
{
    char key_text[sizeof S_MOVED_PREFIX + JOBD_NAME_MAX];
    s_cursor_key (key_text, sizeof key_text, S_CURSOR_PREFIX, name);
    MDB_val key = jobd_store_val (key_text, strlen (key_text));
    int rc = mdb_del (self->txn, self->meta, &key, NULL);
    if (rc)
        return jobd_store_mdb_error (rc);
    self->writes++;
    s_cursor_key (key_text, sizeof key_text, S_MOVED_PREFIX, name);
    key = jobd_store_val (key_text, strlen (key_text));
    rc = mdb_del (self->txn, self->meta, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
}

//  A write that failed after others in the open batch: the batch must not commit half of it.
static int
s_batch_failed (jobd_store_t *self, int rc)
{
    if (rc && rc != JOBD_ENOTFOUND)
        self->failed = rc;
    return rc;
}

int
jobd_store_cursor_drop (jobd_store_t *self, const char *name)
{
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    if (!self->has_log || !name || !*name || strlen (name) > JOBD_NAME_MAX)
        return JOBD_ENOTFOUND;
    int rc = s_cursor_delete (self, name);
    if (rc == 0)
        rc = s_prune (self);
    return s_batch_failed (self, rc);
}

int
jobd_store_cursor_expire (jobd_store_t *self, int64_t now, int64_t idle_max,
                          jobd_store_expired_fn *fn, void *arg)
{
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    if (!self->has_log || idle_max <= 0)
        return 0;
    jobd_store_cursor_t *cursors = NULL;
    size_t count = 0;
    bool more = false;
    int rc = s_cursors_read (self, self->txn, S_EXPIRE_MAX, &cursors, &count, &more);
    uint64_t head = self->log_next - 1;
    size_t expired = 0;
    for (size_t index = 0; rc == 0 && index < count; index++) {
        jobd_store_cursor_t *one = &cursors[index];
        char key[sizeof S_MOVED_PREFIX + JOBD_NAME_MAX];
        s_cursor_key (key, sizeof key, S_MOVED_PREFIX, one->name);
        if (one->position >= head || one->moved_at == 0) {
            //  Caught up (it holds nothing: its clock restarts) or never timed (written by an
            //  older jobd: its clock starts now). Written only when the clock is stale, so an
            //  idle store is not written at every pass.
            if (one->moved_at == 0 || now - one->moved_at >= idle_max / 4)
                rc = s_meta_put_u64 (self, key, (uint64_t)now);
        } else if (now - one->moved_at >= idle_max) {
            rc = s_cursor_delete (self, one->name);
            if (rc == 0) {
                expired++;
                if (fn)
                    fn (one, head, arg);
            }
        }
    }
    if (rc == 0 && expired)
        rc = s_prune (self);
    free (cursors);
    return s_batch_failed (self, rc);
}

//  Reads up to max entries after `after` (inline ones only when all is true; those skipped do not
//  count). Returns how many it handed to fn, or a negative error.
static int
s_log_read (jobd_store_t *self, uint64_t after, size_t max, bool all, jobd_store_log_fn *fn,
            void *arg)
{
    if (!self->has_log)
        return 0;
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->log, &cursor));
    if (rc) {
        jobd_store_read_end (self, txn);
        return rc;
    }
    uint8_t start[8];
    jobd_store_put_be (start, sizeof start, after + 1);
    MDB_val key = jobd_store_val (start, 8), value;
    int count = 0;
    for (int found = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
         found == 0 && (size_t)count < max;
         found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        MDB_val event;
        if (key.mv_size != 8 || value.mv_size < 2) {
            rc = JOBD_ECORRUPT;
            break;
        }
        if (((const uint8_t *)value.mv_data)[0] == 0) {
            if (!all)
                continue;
            event = jobd_store_val ((const uint8_t *)value.mv_data + 1, value.mv_size - 1);
        } else if (mdb_get (txn, self->history, &value, &event) != 0) {
            rc = JOBD_ECORRUPT;
            break;
        }
        count++;
        if (!fn (jobd_store_get_be ((const uint8_t *)key.mv_data, 8),
                 (const uint8_t *)event.mv_data, event.mv_size, arg))
            break;
    }
    mdb_cursor_close (cursor);
    jobd_store_read_end (self, txn);
    return rc ? rc : count;
}

int
jobd_store_log_read (jobd_store_t *self, uint64_t after, size_t max, jobd_store_log_fn *fn,
                     void *arg)
{
    return s_log_read (self, after, max, true, fn, arg);
}

int
jobd_store_log_read_transitions (jobd_store_t *self, uint64_t after, size_t max,
                                 jobd_store_log_fn *fn, void *arg)
{
    return s_log_read (self, after, max, false, fn, arg);
}

int
jobd_store_log_head (jobd_store_t *self, uint64_t *head_p)
{
    MDB_txn *txn;
    int rc = s_read_begin (self, &txn, head_p);
    if (txn)
        jobd_store_read_end (self, txn);
    return rc;
}

int
jobd_store_cursor_get (jobd_store_t *self, const char *name, uint64_t *position_p, uint64_t *head_p)
{
    MDB_txn *txn;
    uint64_t head = 0, position = 0;
    int rc = s_read_begin (self, &txn, &head);
    char key[sizeof S_CURSOR_PREFIX + JOBD_NAME_MAX];
    snprintf (key, sizeof key, S_CURSOR_PREFIX "%s", name ? name : "");
    if (rc == 0)
        rc = jobd_store_meta_u64 (self, txn, key, &position);
    if (txn)
        jobd_store_read_end (self, txn);
    if (head_p)
        *head_p = head;
    if (position_p)
        *position_p = rc == 0 ? position : 0;
    return rc;
}
