//  The settle of unconfirmed writes a later claim fences (see jobd_settle.h).
#include "jobd_settle.h"
#include "jobd_cl_msg.h"
#include "jobd_error.h"
#include "jobd_replica.h"
#include "jobd_store_cl.h"
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

//  One message kept: its key then value bytes (and a history entry's seq).
typedef struct {
    uint8_t *bytes;
    size_t key_size;
    size_t value_size;
    uint64_t seq;
} s_kept_t;

//  A job to settle: the epoch of its unconfirmed writes, the last record of it read that was not
//  fenced (bytes NULL: none yet), and its history entries that were not fenced, in order.
typedef struct {
    uint64_t epoch;
    s_kept_t record;
    s_kept_t *entries;
    size_t entry_count;
    size_t entry_alloc;
} s_dead_t;

typedef struct {
    zhashx_t *dead; //  job id -> s_dead_t
    uint64_t claim; //  the partition's claim epoch as the read goes (the replica apply's step 1)
    msgpack_zone zone;
    size_t bad;
    int rc; //  the first failure to keep a message (-ENOMEM)
} s_settle_t;

static void
s_dead_destroy (void **item)
{
    s_dead_t *dead = (s_dead_t *)*item;
    if (dead) {
        free (dead->record.bytes);
        for (size_t index = 0; index < dead->entry_count; index++)
            free (dead->entries[index].bytes);
        free (dead->entries);
    }
    free (dead);
    *item = NULL;
}

static int
s_dead_add (const char *id, uint64_t epoch, void *arg)
{
    s_dead_t *dead = (s_dead_t *)calloc (1, sizeof (s_dead_t));
    if (!dead)
        return -ENOMEM;
    dead->epoch = epoch;
    zhashx_insert ((zhashx_t *)arg, id, dead);
    return 0;
}

//  Copies message into kept (freeing what it held). Returns 0 or -ENOMEM.
static int
s_keep (s_kept_t *kept, const jobd_replica_message_t *message)
{
    uint8_t *bytes = (uint8_t *)malloc (message->key_size + message->value_size + 1);
    if (!bytes)
        return -ENOMEM;
    memcpy (bytes, message->key, message->key_size);
    memcpy (bytes + message->key_size, message->value, message->value_size);
    free (kept->bytes);
    kept->bytes = bytes;
    kept->key_size = message->key_size;
    kept->value_size = message->value_size;
    return 0;
}

//  A record kept: the history entries before it past its last seq go, as the replica apply's
//  step 3 deleted them.
static void
s_entries_cut (s_dead_t *dead, uint64_t last_seq)
{
    size_t kept = 0;
    for (size_t index = 0; index < dead->entry_count; index++) {
        if (dead->entries[index].seq > last_seq)
            free (dead->entries[index].bytes);
        else
            dead->entries[kept++] = dead->entries[index];
    }
    dead->entry_count = kept;
}

//  Appends a copy of message (history entry seq) to dead's history entries. Returns 0 or
//  -ENOMEM.
static int
s_keep_entry (s_dead_t *dead, const jobd_replica_message_t *message, uint64_t seq)
{
    if (dead->entry_count == dead->entry_alloc) {
        size_t alloc = dead->entry_alloc ? 2 * dead->entry_alloc : 8;
        s_kept_t *grown = (s_kept_t *)realloc (dead->entries, alloc * sizeof (s_kept_t));
        if (!grown)
            return -ENOMEM;
        dead->entries = grown;
        dead->entry_alloc = alloc;
    }
    s_kept_t *entry = &dead->entries[dead->entry_count];
    *entry = (s_kept_t){NULL, 0, 0, 0};
    int rc = s_keep (entry, message);
    entry->seq = seq;
    dead->entry_count += rc == 0;
    return rc;
}

//  The job a record or history entry key names (its id: the key up to its first 0), when it is
//  one to settle; NULL for any other message.
static s_dead_t *
s_dead_of (s_settle_t *settle, const uint8_t *key, size_t key_size)
{
    const uint8_t *zero = (const uint8_t *)memchr (key, 0, key_size);
    size_t size = zero ? (size_t)(zero - key) : key_size;
    char id[JOBD_ID_MAX + 1];
    if (size == 0 || size > JOBD_ID_MAX)
        return NULL;
    memcpy (id, key, size);
    id[size] = 0;
    return (s_dead_t *)zhashx_lookup (settle->dead, id);
}

//  One message of the partition, in offset order: fenced as the replica apply fences it; of a job
//  to settle, a record is kept (the last one wins) and so is each history entry. Only partition
//  records (their key starts with 0) and the messages of those jobs are decoded.
static bool
s_read (const jobd_replica_message_t *message, void *arg)
{
    s_settle_t *settle = (s_settle_t *)arg;
    const uint8_t *key = (const uint8_t *)message->key;
    if (!key || message->key_size == 0)
        return true; //  no changelog message: the replica apply refuses it too
    s_dead_t *dead = key[0] == 0 ? NULL : s_dead_of (settle, key, message->key_size);
    if (key[0] != 0 && !dead)
        return true;
    jobd_cl_msg_t msg;
    char reason[256];
    if (jobd_cl_msg_decode (message->key, message->key_size, message->value, message->value_size,
                            &settle->zone, &msg, reason, sizeof reason)) {
        settle->bad++;
        return true;
    }
    int rc = 0;
    if (msg.epoch < settle->claim)
        ; //  fenced
    else if (msg.kind == JOBD_CL_OWNER && msg.claim)
        settle->claim = msg.epoch;
    else if (dead && msg.kind == JOBD_CL_REC) {
        rc = s_keep (&dead->record, message);
        s_entries_cut (dead, msg.record->last_seq);
    } else if (dead && msg.kind == JOBD_CL_EV)
        rc = s_keep_entry (dead, message, msg.seq);
    else if (dead && msg.kind == JOBD_CL_GONE) {
        //  No valid record of it (the owner's repair): as one the changelog never had.
        free (dead->record.bytes);
        dead->record = (s_kept_t){NULL, 0, 0, 0};
        s_entries_cut (dead, 0);
    }
    if (rc && !settle->rc)
        settle->rc = rc;
    jobd_cl_msg_clear (&msg);
    return true;
}

//  Decodes a kept message into msg, with zone (it decoded as it was read: only memory can fail).
static int
s_decode (const s_kept_t *kept, msgpack_zone *zone, jobd_cl_msg_t *msg)
{
    char reason[256];
    return jobd_cl_msg_decode (kept->bytes, kept->key_size, kept->bytes + kept->key_size,
                               kept->value_size, zone, msg, reason, sizeof reason)
               ? -ENOMEM
               : 0;
}

//  Settles one job: its record and history entries decoded (the entries with a zone of their
//  own: decoded messages borrow from it), then jobd_store_cl_settle.
static int
s_settle_job (jobd_store_t *store, int partition, const char *id, s_settle_t *settle,
              const s_dead_t *dead, jobd_store_settled_t *settled)
{
    jobd_cl_msg_t record;
    bool have_record = false;
    int rc = 0;
    if (dead->record.bytes) {
        rc = s_decode (&dead->record, &settle->zone, &record);
        have_record = rc == 0;
    }
    jobd_cl_msg_t *entries =
        (jobd_cl_msg_t *)calloc (dead->entry_count + 1, sizeof (jobd_cl_msg_t));
    msgpack_zone *zone = msgpack_zone_new (4096);
    size_t decoded = 0;
    if (rc == 0 && (!entries || !zone))
        rc = -ENOMEM;
    for (; rc == 0 && decoded < dead->entry_count; decoded++)
        rc = s_decode (&dead->entries[decoded], zone, &entries[decoded]);
    if (rc == 0)
        rc = jobd_store_cl_settle (store, (uint16_t)partition, id, dead->epoch,
                                   have_record ? &record : NULL, entries, dead->entry_count,
                                   settled);
    for (size_t index = 0; entries && index < decoded; index++)
        jobd_cl_msg_clear (&entries[index]);
    free (entries);
    if (zone)
        msgpack_zone_free (zone);
    if (have_record)
        jobd_cl_msg_clear (&record);
    return rc;
}

//  In one batch: each job takes its record, or goes.
static int
s_apply (jobd_store_t *store, int partition, s_settle_t *settle, jobd_settle_result_t *result)
{
    int rc = jobd_store_begin (store);
    for (s_dead_t *dead = (s_dead_t *)zhashx_first (settle->dead); dead && rc == 0;
         dead = (s_dead_t *)zhashx_next (settle->dead)) {
        const char *id = (const char *)zhashx_cursor (settle->dead);
        jobd_store_settled_t settled = JOBD_STORE_SETTLED_NOT;
        rc = s_settle_job (store, partition, id, settle, dead, &settled);
        result->taken += settled == JOBD_STORE_SETTLED_TAKEN;
        result->removed += settled == JOBD_STORE_SETTLED_REMOVED;
        result->kept += settled == JOBD_STORE_SETTLED_KEPT;
    }
    if (rc == 0)
        rc = jobd_store_commit (store);
    else
        jobd_store_abort (store);
    return rc;
}

int
jobd_settle_partition (jobd_config_t *config, jobd_store_t *store, const char *topic, int partition,
                       int64_t end, uint64_t below, jobd_settle_result_t *result, char *reason,
                       size_t reason_size)
{
    memset (result, 0, sizeof *result);
    int64_t start = zclock_mono ();
    s_settle_t settle = {.dead = zhashx_new ()};
    if (!settle.dead)
        return -ENOMEM;
    zhashx_set_destructor (settle.dead, s_dead_destroy);
    msgpack_zone_init (&settle.zone, 4096);
    int rc = jobd_store_cl_dead (store, (uint16_t)partition, below, s_dead_add, settle.dead);
    result->dead = zhashx_size (settle.dead);
    if (rc)
        snprintf (reason, reason_size, "listing its unconfirmed writes: %s", jobd_strerror (rc));
    if (rc == 0 && result->dead)
        rc = jobd_replica_scan (config, topic, partition, end, JOBD_SETTLE_READ_MS, s_read, &settle,
                                reason, reason_size);
    if (rc == 0 && settle.rc) {
        rc = settle.rc;
        snprintf (reason, reason_size, "out of memory");
    }
    result->bad = settle.bad;
    if (rc == 0 && result->dead) {
        rc = s_apply (store, partition, &settle, result);
        if (rc) {
            snprintf (reason, reason_size, "settling them in the store: %s", jobd_strerror (rc));
            result->taken = result->removed = result->kept = 0;
        }
    }
    msgpack_zone_destroy (&settle.zone);
    zhashx_destroy (&settle.dead);
    result->ms = zclock_mono () - start;
    return rc;
}
