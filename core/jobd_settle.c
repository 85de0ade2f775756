//  The settle of unconfirmed writes a later claim fences (see jobd_settle.h).
#include "jobd_settle.h"
#include "jobd_cl_msg.h"
#include "jobd_error.h"
#include "jobd_replica.h"
#include "jobd_store_cl.h"
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

//  A job to settle: the epoch of its unconfirmed writes, and the last record of it read that
//  was not fenced (its key then value bytes; NULL: none yet).
typedef struct {
    uint64_t epoch;
    uint8_t *bytes;
    size_t key_size;
    size_t value_size;
} s_dead_t;

typedef struct {
    zhashx_t *dead; //  job id -> s_dead_t
    uint64_t claim; //  the partition's claim epoch as the read goes (the replica apply's step 1)
    msgpack_zone zone;
    size_t bad;
    int rc; //  the first failure to keep a record (-ENOMEM)
} s_settle_t;

static void
s_dead_destroy (void **item)
{
    s_dead_t *dead = (s_dead_t *)*item;
    if (dead)
        free (dead->bytes);
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

//  One message of the partition, in offset order: fenced as the replica apply fences it; a
//  record of a job to settle is kept, the last one winning.
static bool
s_read (const jobd_replica_message_t *message, void *arg)
{
    s_settle_t *settle = (s_settle_t *)arg;
    jobd_cl_msg_t msg;
    char reason[256];
    if (jobd_cl_msg_decode (message->key, message->key_size, message->value, message->value_size,
                            &settle->zone, &msg, reason, sizeof reason)) {
        settle->bad++;
        return true;
    }
    s_dead_t *dead = NULL;
    if (msg.epoch < settle->claim)
        ; //  fenced
    else if (msg.kind == JOBD_CL_OWNER && msg.claim)
        settle->claim = msg.epoch;
    else if (msg.kind == JOBD_CL_REC &&
             (dead = (s_dead_t *)zhashx_lookup (settle->dead, msg.job))) {
        uint8_t *bytes = (uint8_t *)malloc (message->key_size + message->value_size + 1);
        if (bytes) {
            memcpy (bytes, message->key, message->key_size);
            memcpy (bytes + message->key_size, message->value, message->value_size);
            free (dead->bytes);
            dead->bytes = bytes;
            dead->key_size = message->key_size;
            dead->value_size = message->value_size;
        } else
            settle->rc = -ENOMEM;
    }
    jobd_cl_msg_clear (&msg);
    return true;
}

//  In one batch: each job takes its record, or goes.
static int
s_apply (jobd_store_t *store, int partition, s_settle_t *settle, jobd_settle_result_t *result)
{
    int rc = jobd_store_begin (store);
    for (s_dead_t *dead = (s_dead_t *)zhashx_first (settle->dead); dead && rc == 0;
         dead = (s_dead_t *)zhashx_next (settle->dead)) {
        const char *id = (const char *)zhashx_cursor (settle->dead);
        jobd_cl_msg_t msg;
        char reason[256];
        bool record = false;
        if (dead->bytes) {
            record = jobd_cl_msg_decode (dead->bytes, dead->key_size, dead->bytes + dead->key_size,
                                         dead->value_size, &settle->zone, &msg, reason,
                                         sizeof reason) == 0;
            if (!record) //  it decoded as it was read: only memory can fail
                rc = -ENOMEM;
        }
        jobd_store_settled_t settled = JOBD_STORE_SETTLED_NOT;
        if (rc == 0)
            rc = jobd_store_cl_settle (store, (uint16_t)partition, id, dead->epoch,
                                       record ? &msg : NULL, &settled);
        if (record)
            jobd_cl_msg_clear (&msg);
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
