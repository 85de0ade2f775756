//  The keys of refused changelog messages, until the store marks them (see jobd_lost.h).
#include "jobd_lost.h"
#include "jobd_cl_msg.h"
#include "jobd_store_cl.h"
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

//  What a mark needs of a message: its key's parts. One per key: a job's history entries, record
//  and "gone" are one (kind REC; seq: the lowest history entry refused, UINT64_MAX: none).
typedef struct {
    int32_t partition;
    jobd_cl_kind_t kind; //  REC (a job), IN, STREAM or CURSOR
    uint64_t seq;
    char name[JOBD_CL_NAME_MAX + 1]; //  REC: the job; STREAM, CURSOR: the name
} s_key_t;

static void
s_key_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

struct jobd_lost {
    zhashx_t *keys; //  "<partition>/<kind class><job or name>" -> s_key_t
    uint64_t dropped;
};

jobd_lost_t *
jobd_lost_new (void)
{
    jobd_lost_t *self = (jobd_lost_t *)calloc (1, sizeof (jobd_lost_t));
    if (self)
        self->keys = zhashx_new ();
    if (!self || !self->keys) {
        jobd_lost_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->keys, s_key_destroy);
    return self;
}

void
jobd_lost_destroy (jobd_lost_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->keys);
    free (*self_p);
    *self_p = NULL;
}

//  Keeps the key of msg (not an owner record), of partition: once, with the lowest seq.
static bool
s_keep (jobd_lost_t *self, int32_t partition, const jobd_cl_msg_t *msg)
{
    bool job = jobd_cl_msg_of_job (msg->kind);
    uint64_t seq = msg->kind == JOBD_CL_EV ? msg->seq : UINT64_MAX;
    const char *name = job ? msg->job : msg->name;
    //  "<partition>/<class><job or name>": the class 'j' for a job, the kind's digit else.
    char id[32 + JOBD_CL_NAME_MAX + 1];
    snprintf (id, sizeof id, "%d/%c%s", (int)partition, job ? 'j' : '0' + (int)msg->kind, name);
    s_key_t *known = (s_key_t *)zhashx_lookup (self->keys, id);
    if (known) {
        if (seq < known->seq)
            known->seq = seq;
        return true;
    }
    s_key_t *added =
        zhashx_size (self->keys) < JOBD_LOST_MAX ? (s_key_t *)calloc (1, sizeof (s_key_t)) : NULL;
    if (added) {
        *added =
            (s_key_t){.partition = partition, .kind = job ? JOBD_CL_REC : msg->kind, .seq = seq};
        snprintf (added->name, sizeof added->name, "%s", name);
        if (zhashx_insert (self->keys, id, added) == 0)
            return true;
        free (added);
    }
    self->dropped++;
    return false;
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
    //  Owner records are the claims' own business.
    if (jobd_cl_msg_decode (key, key_size, value, value_size, &zone, &msg, reason, sizeof reason) ==
        0) {
        kept = msg.kind != JOBD_CL_OWNER && s_keep (self, partition, &msg);
        jobd_cl_msg_clear (&msg);
    }
    msgpack_zone_destroy (&zone);
    return kept;
}

int
jobd_lost_mark (jobd_lost_t *self, jobd_store_t *store, int32_t partition, uint64_t min_epoch,
                size_t *marked_p)
{
    *marked_p = 0;
    jobd_cl_msg_t msg; //  about 2 KiB (its timers' room)
    int rc = 0;
    for (s_key_t *key = (s_key_t *)zhashx_first (self->keys); rc == 0 && key;
         key = (s_key_t *)zhashx_next (self->keys)) {
        if (key->partition != partition)
            continue;
        memset (&msg, 0, sizeof msg);
        bool job = key->kind == JOBD_CL_REC;
        msg.kind = job && key->seq != UINT64_MAX ? JOBD_CL_EV : key->kind;
        msg.seq = key->seq;
        snprintf (job ? msg.job : msg.name, job ? sizeof msg.job : sizeof msg.name, "%s",
                  key->name);
        bool marked = false;
        rc = jobd_store_cl_lost (store, (uint16_t)partition, &msg, min_epoch, &marked);
        *marked_p += marked;
    }
    return rc;
}

size_t
jobd_lost_forget (jobd_lost_t *self, int32_t partition)
{
    if (zhashx_size (self->keys) == 0)
        return 0; //  the usual case: nothing was refused
    zlistx_t *gone = zlistx_new ();
    if (!gone)
        return 0;
    zlistx_set_duplicator (gone, (zlistx_duplicator_fn *)strdup);
    zlistx_set_destructor (gone, (zlistx_destructor_fn *)zstr_free);
    for (s_key_t *key = (s_key_t *)zhashx_first (self->keys); key;
         key = (s_key_t *)zhashx_next (self->keys))
        if (key->partition == partition)
            zlistx_add_end (gone, (void *)zhashx_cursor (self->keys));
    size_t count = zlistx_size (gone);
    for (const char *id = (const char *)zlistx_first (gone); id;
         id = (const char *)zlistx_next (gone))
        zhashx_delete (self->keys, id);
    zlistx_destroy (&gone);
    return count;
}

uint64_t
jobd_lost_dropped (const jobd_lost_t *self)
{
    return self->dropped;
}
