//  Replies held back until their ticket is confirmed (see jobd_held.h).
#include "jobd_held.h"
#include "jobd_error.h"
#include "jobd_msgpack.h"
#include "jobd_reply.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t ticket;
    zsock_t *socket;
    uint8_t identity[256];
    size_t identity_size;
    bool delimiter;
    size_t size;
    uint8_t data[]; //  size bytes
} s_reply_t;

struct jobd_held {
    zlistx_t *replies; //  s_reply_t, oldest first
};

jobd_held_t *
jobd_held_new (void)
{
    jobd_held_t *self = (jobd_held_t *)calloc (1, sizeof (jobd_held_t));
    if (self && !(self->replies = zlistx_new ())) {
        free (self);
        return NULL;
    }
    if (self)
        zlistx_set_destructor (self->replies, (zlistx_destructor_fn *)zstr_free);
    return self;
}

void
jobd_held_destroy (jobd_held_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zlistx_destroy (&(*self_p)->replies);
    free (*self_p);
    *self_p = NULL;
}

int
jobd_held_add (jobd_held_t *self, uint64_t ticket, zsock_t *socket, const uint8_t *identity,
               size_t identity_size, bool delimiter, const void *data, size_t size)
{
    if (identity_size > sizeof ((s_reply_t *)NULL)->identity)
        return -EINVAL;
    s_reply_t *reply = (s_reply_t *)malloc (sizeof (s_reply_t) + size);
    if (!reply)
        return -ENOMEM;
    reply->ticket = ticket;
    reply->socket = socket;
    memcpy (reply->identity, identity, identity_size);
    reply->identity_size = identity_size;
    reply->delimiter = delimiter;
    reply->size = size;
    memcpy (reply->data, data, size);
    if (!zlistx_add_end (self->replies, reply)) {
        free (reply);
        return -ENOMEM;
    }
    return 0;
}

//  Whether answer one tells of a job whose partition's messages in the send of ticket every
//  replica dropped: an "ok" that it changed (a state, a cancel request: "changed", "forwarded"),
//  or that it was so already ("duplicate": the state it confirms was that write's), is not
//  true. (Sending a duplicate again is harmless.)
static jobd_held_fate_t
s_fenced_answer (const jobd_reply_t *one, uint64_t ticket, jobd_held_fenced_fn *fenced, void *arg)
{
    return one->ok && one->job[0] ? fenced (ticket, one->job, arg) : JOBD_HELD_STORED;
}

//  Packs answer one again as its write's fate says; returns whether it changed it.
static bool
s_answer (msgpack_packer *pk, const jobd_reply_t *one, jobd_held_fate_t fate)
{
    if (fate == JOBD_HELD_FENCED)
        jobd_reply_pack (pk, one->re, JOBD_ENOTOWNER,
                         "not stored: Kafka took the write to the job's changelog partition only "
                         "after another instance's claim of it, which fences it: send it again",
                         NULL, NULL);
    else if (fate == JOBD_HELD_REFUSED)
        jobd_reply_pack (pk, one->re, JOBD_ETIMEOUT,
                         "not confirmed: Kafka refused the write to the job's changelog "
                         "partition, lost it on the way, or took it partly after another "
                         "instance's claim; it may yet be stored: look the job up before sending "
                         "it again",
                         one->job, NULL);
    return fate != JOBD_HELD_STORED;
}

//  The reply data (this broker's own: a reply, or a batch's) with each answer that tells a
//  fenced write refused ENOTOWNER, the others as they were, into out. Returns how many it
//  refused (0: data goes as it is).
static size_t
s_refuse (const uint8_t *data, size_t size, uint64_t ticket, jobd_held_fenced_fn *fenced, void *arg,
          msgpack_sbuffer *out)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    jobd_reply_t reply;
    size_t refused = 0;
    if (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0) ||
        jobd_reply_read (&unpacked.data, &reply, NULL, 0)) {
        msgpack_unpacked_destroy (&unpacked);
        return 0;
    }
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    if (reply.replies && reply.replies->type == MSGPACK_OBJECT_ARRAY) {
        const msgpack_object_array *array = &reply.replies->via.array;
        jobd_reply_pack_batch (&pk, reply.re, array->size);
        for (uint32_t index = 0; index < array->size; index++) {
            jobd_reply_t one;
            if (jobd_reply_read (&array->ptr[index], &one, NULL, 0) == 0 &&
                s_answer (&pk, &one, s_fenced_answer (&one, ticket, fenced, arg)))
                refused++;
            else
                msgpack_pack_object (&pk, array->ptr[index]);
        }
    } else if (s_answer (&pk, &reply, s_fenced_answer (&reply, ticket, fenced, arg)))
        refused++;
    msgpack_unpacked_destroy (&unpacked);
    return refused;
}

size_t
jobd_held_release (jobd_held_t *self, uint64_t confirmed, jobd_held_send_fn *send,
                   jobd_held_fenced_fn *fenced, void *arg)
{
    size_t sent = 0;
    s_reply_t *reply;
    while ((reply = (s_reply_t *)zlistx_first (self->replies)) && reply->ticket <= confirmed) {
        msgpack_sbuffer refused;
        msgpack_sbuffer_init (&refused);
        //  Read only when its send had a fenced write: the common reply goes as it is.
        if (fenced && fenced (reply->ticket, NULL, arg) != JOBD_HELD_STORED &&
            s_refuse (reply->data, reply->size, reply->ticket, fenced, arg, &refused))
            send (reply->socket, reply->identity, reply->identity_size, reply->delimiter,
                  refused.data, refused.size, arg);
        else
            send (reply->socket, reply->identity, reply->identity_size, reply->delimiter,
                  reply->data, reply->size, arg);
        msgpack_sbuffer_destroy (&refused);
        zlistx_delete (self->replies, zlistx_cursor (self->replies));
        sent++;
    }
    return sent;
}

size_t
jobd_held_size (jobd_held_t *self)
{
    return zlistx_size (self->replies);
}
