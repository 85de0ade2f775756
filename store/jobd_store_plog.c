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
#include <stdlib.h>
#include <string.h>

#define S_CURSOR_PREFIX "cl_cursor/"
#define S_MOVED_PREFIX  "cl_cursor_at/" //  cl_cursor_at/<name>/<p>: be64 ms, when it last moved
#define S_EXPIRE_MAX    4096            //  cursors looked at per expiry pass

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

//  A partition's head in txn: its last transition kept, else where the changelog was applied up
//  to (a reader's first start goes on from there).
static uint64_t
s_head (jobd_store_t *self, MDB_txn *txn, uint16_t partition)
{
    char key[32];
    uint64_t head = s_last (self, txn, partition);
    snprintf (key, sizeof key, "cl_next/%u", (unsigned)partition);
    if (head == 0 && jobd_store_meta_u64 (self, txn, key, &head))
        head = 0;
    return head;
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
    char key[JOBD_CL_NAME_MAX + 64];
    uint64_t head = s_head (self, txn, partition);
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

//  One partition cursor, as the expiry pass reads it.
typedef struct {
    char name[JOBD_CL_NAME_MAX + 1];
    uint16_t partition;
    uint64_t position;
} s_cursor_t;

//  Reads up to max partition cursors (cl_cursor/<name>/<p>) in txn into cursors; returns how
//  many. A key of another shape is passed over.
static size_t
s_cursors_read (jobd_store_t *self, MDB_txn *txn, s_cursor_t *cursors, size_t max)
{
    MDB_cursor *cursor;
    if (mdb_cursor_open (txn, self->meta, &cursor))
        return 0;
    size_t prefix = sizeof S_CURSOR_PREFIX - 1, count = 0;
    MDB_val key = jobd_store_val (S_CURSOR_PREFIX, prefix), value;
    for (int found = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
         found == 0 && count < max && key.mv_size > prefix &&
         memcmp (key.mv_data, S_CURSOR_PREFIX, prefix) == 0;
         found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        const char *rest = (const char *)key.mv_data + prefix;
        size_t size = key.mv_size - prefix;
        const char *slash = (const char *)memrchr (rest, '/', size);
        char digits[8];
        size_t name = slash ? (size_t)(slash - rest) : 0, tail = slash ? size - name - 1 : 0;
        if (!slash || name == 0 || name > JOBD_CL_NAME_MAX || tail == 0 || tail >= sizeof digits ||
            value.mv_size != 8)
            continue;
        memcpy (digits, slash + 1, tail);
        digits[tail] = 0;
        char *end = NULL;
        unsigned long partition = strtoul (digits, &end, 10);
        if (*end || partition > UINT16_MAX)
            continue;
        s_cursor_t *one = &cursors[count++];
        memcpy (one->name, rest, name);
        one->name[name] = 0;
        one->partition = (uint16_t)partition;
        one->position = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
    }
    mdb_cursor_close (cursor);
    return count;
}

int
jobd_store_plog_expire (jobd_store_t *self, int64_t now, int64_t idle_max,
                        jobd_store_plog_expired_fn *fn, void *arg)
{
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    if (!self->has_cluster || idle_max <= 0)
        return 0;
    s_cursor_t *cursors = (s_cursor_t *)malloc (S_EXPIRE_MAX * sizeof (s_cursor_t));
    if (!cursors)
        return -ENOMEM;
    size_t count = s_cursors_read (self, self->txn, cursors, S_EXPIRE_MAX);
    int rc = 0;
    for (size_t index = 0; rc == 0 && index < count; index++) {
        const s_cursor_t *one = &cursors[index];
        //  Caught up: past the last transition kept (none kept: every reader is past them; the
        //  offsets of other changelog messages after it hold nothing for a reader).
        char key[JOBD_CL_NAME_MAX + 64];
        uint64_t head = s_last (self, self->txn, one->partition), moved = 0;
        snprintf (key, sizeof key, S_MOVED_PREFIX "%s/%u", one->name, (unsigned)one->partition);
        int got = jobd_store_meta_u64 (self, self->txn, key, &moved);
        if (got && got != JOBD_ENOTFOUND && got != JOBD_ECORRUPT)
            rc = got;
        else if (one->position >= head || moved == 0) {
            //  Caught up (its clock restarts) or never timed (its clock starts now); written
            //  only when the clock is stale, so that an idle store is not written at every pass.
            if (moved == 0 || now - (int64_t)moved >= idle_max / 4)
                rc = jobd_store_meta_put (self, key, strlen (key), (uint64_t)now);
        } else if (now - (int64_t)moved >= idle_max) {
            rc = jobd_store_meta_del (self, key, strlen (key));
            snprintf (key, sizeof key, S_CURSOR_PREFIX "%s/%u", one->name,
                      (unsigned)one->partition);
            if (rc == 0)
                rc = jobd_store_meta_del (self, key, strlen (key));
            if (rc == 0 && fn)
                fn (one->name, one->partition, now - (int64_t)moved, head - one->position, arg);
        }
    }
    free (cursors);
    if (rc)
        self->failed = rc;
    return jobd_store_damaged (self, rc, "expiring idle partition cursors");
}

int
jobd_store_plog_cursor_list (jobd_store_t *self, size_t max, jobd_store_plog_cursor_t **cursors_p,
                             size_t *count_p, bool *more_p)
{
    *cursors_p = NULL;
    *count_p = 0;
    *more_p = false;
    if (!self->has_cluster)
        return 0;
    s_cursor_t *read = (s_cursor_t *)malloc ((max + 1) * sizeof (s_cursor_t));
    jobd_store_plog_cursor_t *cursors =
        (jobd_store_plog_cursor_t *)calloc (max + 1, sizeof (jobd_store_plog_cursor_t));
    MDB_txn *txn = NULL;
    int rc = read && cursors ? jobd_store_read_begin (self, &txn) : -ENOMEM;
    size_t count = rc ? 0 : s_cursors_read (self, txn, read, max + 1);
    *more_p = count > max;
    count = count > max ? max : count;
    for (size_t index = 0; rc == 0 && index < count; index++) {
        jobd_store_plog_cursor_t *one = &cursors[index];
        memcpy (one->name, read[index].name, sizeof one->name);
        one->partition = read[index].partition;
        one->position = read[index].position;
        //  Behind: the transitions kept past it (none: caught up).
        uint64_t last = s_last (self, txn, one->partition);
        one->head = last > one->position ? last : one->position;
        char key[JOBD_CL_NAME_MAX + 64];
        uint64_t moved = 0;
        snprintf (key, sizeof key, S_MOVED_PREFIX "%s/%u", one->name, (unsigned)one->partition);
        if (jobd_store_meta_u64 (self, txn, key, &moved))
            moved = 0;
        one->moved_at = (int64_t)moved;
    }
    if (txn)
        jobd_store_read_end (self, txn);
    free (read);
    if (rc)
        free (cursors);
    else {
        *cursors_p = cursors;
        *count_p = count;
    }
    return rc;
}
