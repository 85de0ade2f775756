//  A changelog partition's transitions in changelog order (cl_plog), for the readers that act
//  for the partition's owner: the notifier's channels, one reader per owned partition
//  (docs/cluster.md, section 7). Their cursors are changelog records (`\0cursor/<name>`), so
//  that the next owner goes on where the last one stopped, even after a crash.
//
//  Positions: a cl_plog entry at changelog offset O is at position O + 1 when it is the last
//  entry of that offset (a record message may count several transitions), else at O. A reader
//  done with position P is done with every offset below P: a reader that stops inside an
//  offset's entries reads them all again (at least once), and a read never ends inside one.
#include "jobd_store_cl.h"
#include "jobd_store_internal.h"
#include <stdio.h>
#include <string.h>

#define S_CURSOR_PREFIX "cl_cursor/"

//  cl_plog's key: be16 partition, be64 offset, be64 seq.
static size_t
s_key (uint8_t *bytes, uint16_t partition, uint64_t offset)
{
    jobd_store_put_be (bytes, 2, partition);
    jobd_store_put_be (bytes + 2, 8, offset);
    jobd_store_put_be (bytes + 10, 8, 0);
    return 18;
}

int
jobd_store_plog_read (jobd_store_t *self, uint16_t partition, uint64_t after, size_t max,
                      jobd_store_log_fn *fn, void *arg)
{
    if (!self->has_cluster)
        return 0;
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->cl_plog, &cursor));
    if (rc) {
        jobd_store_read_end (self, txn);
        return rc;
    }
    uint8_t start[18];
    MDB_val key = jobd_store_val (start, s_key (start, partition, after)), value;
    int count = 0;
    size_t seen = 0;
    bool stop = false;
    //  Each transition is handed over once the next key is known: whether it ends its offset.
    //  (An entry whose history entry is gone, a tail that a later record replaced, is passed
    //  over: the one before it may end its offset.)
    MDB_val held = {0, NULL};
    uint64_t held_offset = 0;
    for (int found = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE); !stop;
         found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (found && found != MDB_NOTFOUND)
            rc = jobd_store_mdb_error (found);
        bool ours = found == 0 && key.mv_size == 18 &&
                    jobd_store_get_be ((const uint8_t *)key.mv_data, 2) == partition;
        uint64_t offset = ours ? jobd_store_get_be ((const uint8_t *)key.mv_data + 2, 8) : 0;
        MDB_val event = {0, NULL};
        int got = ours ? mdb_get (txn, self->history, &value, &event) : MDB_NOTFOUND;
        if (got && got != MDB_NOTFOUND)
            rc = jobd_store_mdb_error (got);
        bool next = ours && got == 0;
        if (held.mv_data && !rc && (!ours || offset != held_offset)) {
            //  The held transition ends its offset: no later one of it follows.
            count++;
            stop = !fn (held_offset + 1, (const uint8_t *)held.mv_data, held.mv_size, arg);
            held.mv_data = NULL;
            //  Up to max transitions (or 4 times as many entries passed over), never ending
            //  inside an offset.
            if ((size_t)count >= max || seen >= 4 * max)
                stop = true;
        } else if (held.mv_data && !rc && next) {
            //  Another transition of its offset follows.
            count++;
            stop = !fn (held_offset, (const uint8_t *)held.mv_data, held.mv_size, arg);
            held.mv_data = NULL;
        }
        if (rc || !ours || stop)
            break;
        seen++;
        if (next) {
            held = event;
            held_offset = offset;
        }
    }
    mdb_cursor_close (cursor);
    jobd_store_read_end (self, txn);
    return rc ? rc : count;
}

//  The position of partition's last transition kept (0: none).
static uint64_t
s_last (jobd_store_t *self, MDB_txn *txn, uint16_t partition)
{
    MDB_cursor *cursor;
    if (mdb_cursor_open (txn, self->cl_plog, &cursor))
        return 0;
    uint8_t start[18];
    MDB_val key = jobd_store_val (start, s_key (start, partition, UINT64_MAX)), value;
    int found = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    found = found == 0 ? mdb_cursor_get (cursor, &key, &value, MDB_PREV)
                       : mdb_cursor_get (cursor, &key, &value, MDB_LAST);
    uint64_t last = 0;
    if (found == 0 && key.mv_size == 18 &&
        jobd_store_get_be ((const uint8_t *)key.mv_data, 2) == partition)
        last = jobd_store_get_be ((const uint8_t *)key.mv_data + 2, 8) + 1;
    mdb_cursor_close (cursor);
    return last;
}

int
jobd_store_plog_cursor (jobd_store_t *self, const char *name, uint16_t partition,
                        uint64_t *position_p, uint64_t *head_p)
{
    if (position_p)
        *position_p = 0;
    if (head_p)
        *head_p = 0;
    if (!self->has_cluster)
        return JOBD_ENOTFOUND;
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    //  The head: the last transition kept, else where the changelog was applied up to (a
    //  reader's first start goes on from there).
    char key[JOBD_CL_NAME_MAX + 64];
    uint64_t head = s_last (self, txn, partition);
    snprintf (key, sizeof key, "cl_next/%u", (unsigned)partition);
    if (head == 0 && jobd_store_meta_u64 (self, txn, key, &head) == JOBD_ECORRUPT)
        head = 0;
    if (head_p)
        *head_p = head;
    int size =
        snprintf (key, sizeof key, S_CURSOR_PREFIX "%s/%u", name ? name : "", (unsigned)partition);
    uint64_t position = 0;
    rc = (size_t)size >= sizeof key ? JOBD_ENOTFOUND
                                    : jobd_store_meta_u64 (self, txn, key, &position);
    if (position_p)
        *position_p = position;
    jobd_store_read_end (self, txn);
    return rc;
}

int
jobd_store_plog_prune (jobd_store_t *self, uint16_t partition, uint64_t head)
{
    //  The lowest cursor of the partition: every reader is done below it.
    MDB_cursor *cursor;
    int rc = jobd_store_mdb_error (mdb_cursor_open (self->txn, self->meta, &cursor));
    if (rc)
        return rc;
    char suffix[16];
    size_t suffix_size = (size_t)snprintf (suffix, sizeof suffix, "/%u", (unsigned)partition);
    size_t prefix = sizeof S_CURSOR_PREFIX - 1;
    MDB_val key = jobd_store_val (S_CURSOR_PREFIX, prefix), value;
    uint64_t lowest = UINT64_MAX;
    for (int found = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
         found == 0 && key.mv_size > prefix && memcmp (key.mv_data, S_CURSOR_PREFIX, prefix) == 0;
         found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        const char *end = (const char *)key.mv_data + key.mv_size - suffix_size;
        if (key.mv_size > prefix + suffix_size && memcmp (end, suffix, suffix_size) == 0 &&
            value.mv_size == 8) {
            uint64_t position = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
            if (position < lowest)
                lowest = position;
        }
    }
    mdb_cursor_close (cursor);
    //  No reader yet: the last JOBD_STORE_PLOG_KEEP offsets stay, for the first one to come.
    if (lowest == UINT64_MAX)
        lowest = head > JOBD_STORE_PLOG_KEEP ? head - JOBD_STORE_PLOG_KEEP : 0;
    if (lowest == 0)
        return 0;
    //  Entries at offsets below it go.
    rc = jobd_store_mdb_error (mdb_cursor_open (self->txn, self->cl_plog, &cursor));
    if (rc)
        return rc;
    uint8_t start[18];
    key = jobd_store_val (start, s_key (start, partition, 0));
    int found = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    while (found == 0 && key.mv_size == 18 &&
           jobd_store_get_be ((const uint8_t *)key.mv_data, 2) == partition &&
           jobd_store_get_be ((const uint8_t *)key.mv_data + 2, 8) < lowest) {
        self->writes++;
        found = mdb_cursor_del (cursor, 0);
        if (found == 0)
            found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    return found == 0 || found == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (found);
}
