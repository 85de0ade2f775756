//  The keys of refused changelog messages, until the store marks them (see jobd_lost.h).
#include "jobd_lost.h"
#include "jobd_cl_msg.h"
#include "jobd_store_cl.h"
#include <stdlib.h>
#include <string.h>

//  What a mark needs of a message: its key's parts.
typedef struct {
    int32_t partition;
    jobd_cl_kind_t kind;
    char job[JOBD_ID_MAX + 1];       //  REC, EV, GONE
    uint64_t seq;                    //  EV
    char name[JOBD_CL_NAME_MAX + 1]; //  STREAM, CURSOR
} s_key_t;

struct jobd_lost {
    s_key_t *keys;
    size_t count;
    size_t alloc;
    uint64_t dropped;
};

jobd_lost_t *
jobd_lost_new (void)
{
    return (jobd_lost_t *)calloc (1, sizeof (jobd_lost_t));
}

void
jobd_lost_destroy (jobd_lost_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->keys);
    free (*self_p);
    *self_p = NULL;
}

bool
jobd_lost_add (jobd_lost_t *self, int32_t partition, const void *key, size_t key_size,
               const void *value, size_t value_size)
{
    if (partition < 0 || !key || !value)
        return false;
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, 1024))
        return false;
    jobd_cl_msg_t msg;
    char reason[256];
    bool kept = false;
    if (jobd_cl_msg_decode (key, key_size, value, value_size, &zone, &msg, reason, sizeof reason) ==
        0) {
        if (msg.kind != JOBD_CL_OWNER && self->count == self->alloc &&
            self->alloc < JOBD_LOST_MAX) {
            size_t alloc = self->alloc ? 2 * self->alloc : 16;
            s_key_t *grown = (s_key_t *)realloc (self->keys, alloc * sizeof (s_key_t));
            if (grown) {
                self->keys = grown;
                self->alloc = alloc;
            }
        }
        if (msg.kind != JOBD_CL_OWNER && self->count < self->alloc) {
            s_key_t *kept_key = &self->keys[self->count++];
            *kept_key = (s_key_t){.partition = partition, .kind = msg.kind, .seq = msg.seq};
            memcpy (kept_key->job, msg.job, sizeof kept_key->job);
            memcpy (kept_key->name, msg.name, sizeof kept_key->name);
            kept = true;
        } else if (msg.kind != JOBD_CL_OWNER)
            self->dropped++;
        jobd_cl_msg_clear (&msg);
    }
    msgpack_zone_destroy (&zone);
    return kept;
}

int
jobd_lost_mark (jobd_lost_t *self, jobd_store_t *store, int32_t partition, size_t *marked_p)
{
    *marked_p = 0;
    jobd_cl_msg_t msg; //  about 2 KiB (its timers' room)
    int rc = 0;
    for (size_t index = 0; rc == 0 && index < self->count; index++) {
        const s_key_t *key = &self->keys[index];
        if (key->partition != partition)
            continue;
        memset (&msg, 0, sizeof msg);
        msg.kind = key->kind;
        msg.seq = key->seq;
        memcpy (msg.job, key->job, sizeof msg.job);
        memcpy (msg.name, key->name, sizeof msg.name);
        rc = jobd_store_cl_lost (store, (uint16_t)partition, &msg);
        *marked_p += rc == 0;
    }
    return rc;
}

void
jobd_lost_forget (jobd_lost_t *self, int32_t partition)
{
    size_t kept = 0;
    for (size_t index = 0; index < self->count; index++)
        if (self->keys[index].partition != partition)
            self->keys[kept++] = self->keys[index];
    self->count = kept;
}

uint64_t
jobd_lost_dropped (const jobd_lost_t *self)
{
    return self->dropped;
}
