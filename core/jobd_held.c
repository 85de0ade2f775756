//  Replies held back until their ticket is confirmed (see jobd_held.h).
#include "jobd_held.h"
#include <errno.h>
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

size_t
jobd_held_release (jobd_held_t *self, uint64_t confirmed, jobd_held_send_fn *send, void *arg)
{
    size_t sent = 0;
    s_reply_t *reply;
    while ((reply = (s_reply_t *)zlistx_first (self->replies)) && reply->ticket <= confirmed) {
        send (reply->socket, reply->identity, reply->identity_size, reply->delimiter, reply->data,
              reply->size, arg);
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
