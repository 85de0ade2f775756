//  The repair marks of a cluster's store (docs/cluster.md section 5, "As built: the repair"): a
//  fenced message leaves its key's last value in the changelog invalid, which a compacted
//  changelog would keep as the truth. The replica apply marks the key here, in the same commit;
//  the owner writes the key's valid value again (jobd_store_cl_repair); a valid message of the
//  key, read back, clears the mark. Every instance holds the same marks: log order decides.
//
//  Meta keys: "repair/<p>/j<job id>" -> be64 the lowest history seq whose entry must be written
//  again (UINT64_MAX: the record only); "repair/<p>/m<changelog key>" (\0owner, \0in,
//  \0stream/..., \0cursor/...) -> be64 0; "repair_n/<p>" -> be64 how many marks p has.
#include "jobd_store_cl.h"
#include "jobd_store_internal.h"
#include <stdio.h>
#include <string.h>

#define S_MARK_MAX (32 + 1 + 1 + JOBD_CL_NAME_MAX + 8)

//  The mark's meta key of msg in partition into key; its size (0: msg has no mark key).
static size_t
s_mark_key (uint8_t *key, uint16_t partition, const jobd_cl_msg_t *msg)
{
    int head = snprintf ((char *)key, 32, "repair/%u/", (unsigned)partition);
    size_t size = (size_t)head;
    if (jobd_cl_msg_of_job (msg->kind)) {
        size_t id = strnlen (msg->job, JOBD_ID_MAX + 1);
        if (id == 0 || id > JOBD_ID_MAX)
            return 0;
        key[size++] = 'j';
        memcpy (key + size, msg->job, id);
        return size + id;
    }
    static const char *const prefixes[] = {"owner", "in", "stream/", "cursor/"};
    const char *prefix = msg->kind == JOBD_CL_OWNER    ? prefixes[0]
                         : msg->kind == JOBD_CL_IN     ? prefixes[1]
                         : msg->kind == JOBD_CL_STREAM ? prefixes[2]
                         : msg->kind == JOBD_CL_CURSOR ? prefixes[3]
                                                       : NULL;
    if (!prefix)
        return 0;
    key[size++] = 'm';
    key[size++] = 0;
    size_t prefix_size = strlen (prefix), name = 0;
    memcpy (key + size, prefix, prefix_size);
    size += prefix_size;
    if (msg->kind == JOBD_CL_STREAM || msg->kind == JOBD_CL_CURSOR) {
        name = strnlen (msg->name, JOBD_CL_NAME_MAX + 1);
        if (name == 0 || name > JOBD_CL_NAME_MAX)
            return 0;
        memcpy (key + size, msg->name, name);
    }
    return size + name;
}

//  A mark's (or the count's) value in txn into *value_p, 0 when absent (*found_p false).
static int
s_get (jobd_store_t *self, MDB_txn *txn, const void *key, size_t size, uint64_t *value_p,
       bool *found_p)
{
    *value_p = 0;
    int rc = jobd_store_meta_get (self, txn, key, size, value_p);
    *found_p = rc == 0;
    return rc == JOBD_ENOTFOUND ? 0 : rc;
}

int
jobd_store_repair_count (jobd_store_t *self, MDB_txn *txn, uint16_t partition, uint64_t *count_p)
{
    char key[32];
    int size = snprintf (key, sizeof key, "repair_n/%u", (unsigned)partition);
    bool found;
    return s_get (self, txn, key, (size_t)size, count_p, &found);
}

int
jobd_store_repair_count_put (jobd_store_t *self, uint16_t partition, uint64_t count)
{
    char key[32];
    int size = snprintf (key, sizeof key, "repair_n/%u", (unsigned)partition);
    return count ? jobd_store_meta_put (self, key, (size_t)size, count)
                 : jobd_store_meta_del (self, key, (size_t)size);
}

int
jobd_store_repair_fenced (jobd_store_t *self, uint16_t partition, const jobd_cl_msg_t *msg,
                          uint64_t *count_p, bool *marked_p)
{
    uint8_t key[S_MARK_MAX];
    size_t size = s_mark_key (key, partition, msg);
    if (size == 0)
        return 0;
    uint64_t from = UINT64_MAX, had = 0;
    if (msg->kind == JOBD_CL_EV)
        from = msg->seq;
    else if (msg->kind != JOBD_CL_REC && msg->kind != JOBD_CL_GONE)
        from = 0;
    bool found;
    int rc = s_get (self, self->txn, key, size, &had, &found);
    if (rc || (found && had <= from))
        return rc;
    rc = jobd_store_meta_put (self, key, size, from);
    if (rc == 0 && !found)
        (*count_p)++;
    *marked_p = rc == 0;
    return rc;
}

int
jobd_store_repair_valid (jobd_store_t *self, uint16_t partition, const jobd_cl_msg_t *msg,
                         uint64_t *count_p)
{
    uint8_t key[S_MARK_MAX];
    size_t size = s_mark_key (key, partition, msg);
    uint64_t from = 0;
    bool found = false;
    int rc = size ? s_get (self, self->txn, key, size, &from, &found) : 0;
    if (rc || !found)
        return rc;
    //  A history entry of the lowest seq marked is valid again: the next one may not be. A
    //  record clears what is past its last_seq (a restore deletes those entries when it applies
    //  it: it comes after them); a partition record, or "gone", clears its key.
    if (msg->kind == JOBD_CL_EV)
        return msg->seq == from ? jobd_store_meta_put (self, key, size, from + 1) : 0;
    if (msg->kind == JOBD_CL_REC && msg->record && from <= msg->record->last_seq)
        return 0;
    rc = jobd_store_meta_del (self, key, size);
    if (rc == 0 && *count_p)
        (*count_p)--;
    return rc;
}

int
jobd_store_repair_each (jobd_store_t *self, MDB_txn *txn, uint16_t partition,
                        jobd_store_repair_fn *fn, void *arg, uint64_t *dropped_p)
{
    *dropped_p = 0;
    char prefix[32];
    size_t prefix_size =
        (size_t)snprintf (prefix, sizeof prefix, "repair/%u/", (unsigned)partition);
    MDB_cursor *cursor = NULL;
    int rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->meta, &cursor));
    MDB_val key = jobd_store_val (prefix, prefix_size), value;
    int found = rc ? MDB_NOTFOUND : mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    for (; rc == 0 && found == 0; found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size <= prefix_size + 1 || memcmp (key.mv_data, prefix, prefix_size))
            break;
        if (value.mv_size != 8) {
            rc = JOBD_ECORRUPT;
            break;
        }
        const uint8_t *rest = (const uint8_t *)key.mv_data + prefix_size;
        rc = fn (self, (char)rest[0], rest + 1, key.mv_size - prefix_size - 1,
                 jobd_store_get_be ((const uint8_t *)value.mv_data, 8), arg);
        if (rc == JOBD_STORE_REPAIR_DROP) {
            //  After a delete, MDB_NEXT gives the mark that followed the deleted one.
            self->writes++;
            rc = jobd_store_mdb_error (mdb_cursor_del (cursor, 0));
            *dropped_p += rc == 0;
        } else if (rc == JOBD_STORE_REPAIR_RECORD) {
            //  The record only from now on (its read-back clears the mark).
            uint8_t bytes[8];
            jobd_store_put_be (bytes, 8, UINT64_MAX);
            MDB_val record = jobd_store_val (bytes, 8);
            self->writes++;
            rc = jobd_store_mdb_error (mdb_cursor_put (cursor, &key, &record, MDB_CURRENT));
        }
    }
    if (rc == 0 && found != 0 && found != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (found);
    if (cursor)
        mdb_cursor_close (cursor);
    return rc;
}
