//  The broker's publications, from a thread of their own (see jobd_publisher.h).
#include "jobd_publisher.h"
#include "jobd_plugin.h"
#include "jobd_socket.h"
#include <errno.h>
#include <msgpack.h>
#include <string.h>

struct _jobd_publisher_t {
    zactor_t *actor;
    msgpack_sbuffer pending; //  records added since the last hand-over
};

//  A record: external (1 byte), topic size (2), topic, body size (4), body.
typedef struct {
    const char *events_endpoint;
    char *reason;
    size_t reason_size;
    int status;
} s_args_t;

static uint32_t
s_get (const uint8_t *bytes, size_t size)
{
    uint32_t value = 0;
    for (size_t index = 0; index < size; index++)
        value = value << 8 | bytes[index];
    return value;
}

//  Sends every record of a hand-over, in order.
static void
s_send (zsock_t *plugins, zsock_t *subscribers, const uint8_t *data, size_t size)
{
    size_t offset = 0;
    while (offset + 7 <= size) {
        bool external = data[offset];
        size_t topic_size = s_get (data + offset + 1, 2);
        const char *topic = (const char *)data + offset + 3;
        if (offset + 7 + topic_size > size)
            break; //  cannot happen: the broker wrote it whole
        size_t body_size = s_get (data + offset + 3 + topic_size, 4);
        const uint8_t *body = data + offset + 7 + topic_size;
        offset += 7 + topic_size + body_size;
        if (offset > size)
            break;
        //  The body is copied once: the second socket shares it (zmq counts its references).
        zmq_msg_t shared;
        if (zmq_msg_init_size (&shared, body_size))
            continue;
        memcpy (zmq_msg_data (&shared), body, body_size);
        zsock_t *sockets[] = {plugins, subscribers};
        for (size_t index = 0; index < (external ? 2u : 1u); index++) {
            void *handle = zsock_resolve (sockets[index]);
            zmq_msg_t part;
            zmq_msg_init (&part);
            zmq_msg_copy (&part, &shared);
            zmq_send (handle, topic, topic_size, ZMQ_SNDMORE);
            if (zmq_msg_send (&part, handle, 0) < 0)
                zmq_msg_close (&part);
        }
        zmq_msg_close (&shared);
    }
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = (s_args_t *)arg;
    zsock_t *plugins =
        jobd_socket_bind (ZMQ_PUB, JOBD_EVENTS_ENDPOINT, args->reason, args->reason_size);
    zsock_t *subscribers = plugins ? jobd_socket_bind (ZMQ_XPUB, args->events_endpoint,
                                                       args->reason, args->reason_size)
                                   : NULL;
    zpoller_t *poller = subscribers ? zpoller_new (pipe, subscribers, NULL) : NULL;
    if (poller)
        zpoller_set_nonstop (poller, true); //  signals are the main thread's
    args->status = poller ? 0 : -EADDRINUSE;
    zsock_signal (pipe, 0);
    args = NULL; //  on the caller's stack: gone from now on
    bool running = poller != NULL;
    while (running) {
        zsock_t *which = (zsock_t *)zpoller_wait (poller, -1);
        if (which == subscribers) {
            //  Subscriptions arrive here; nothing to do with them but read them.
            zmsg_t *subscription = zmsg_recv (subscribers);
            zmsg_destroy (&subscription);
        } else if (which == pipe) {
            zmq_msg_t message;
            zmq_msg_init (&message);
            if (zmq_msg_recv (&message, zsock_resolve (pipe), 0) < 0)
                running = false;
            else if (zmq_msg_size (&message) == 5 && !memcmp (zmq_msg_data (&message), "$TERM", 5))
                running = false;
            else
                s_send (plugins, subscribers, (const uint8_t *)zmq_msg_data (&message),
                        zmq_msg_size (&message));
            zmq_msg_close (&message);
        }
    }
    zpoller_destroy (&poller);
    jobd_socket_close (&subscribers);
    jobd_socket_close (&plugins);
}

int
jobd_publisher_new (const char *events_endpoint, jobd_publisher_t **self_p, char *reason,
                    size_t reason_size)
{
    s_args_t args = {events_endpoint, reason, reason_size, 0};
    jobd_publisher_t *self = (jobd_publisher_t *)zmalloc (sizeof (jobd_publisher_t));
    msgpack_sbuffer_init (&self->pending);
    self->actor = zactor_new (s_actor, &args);
    int rc = self->actor ? args.status : -ENOMEM;
    if (rc) {
        jobd_publisher_destroy (&self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void
jobd_publisher_destroy (jobd_publisher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_publisher_t *self = *self_p;
    jobd_publisher_flush (self);
    zactor_destroy (&self->actor); //  "$TERM" comes after every hand-over
    msgpack_sbuffer_destroy (&self->pending);
    free (self);
    *self_p = NULL;
}

int
jobd_publisher_add (jobd_publisher_t *self, const char *topic, const void *data, size_t size,
                    bool external)
{
    size_t topic_size = strlen (topic);
    if (topic_size > 65535 || size > UINT32_MAX)
        return -EINVAL;
    uint8_t head[3] = {external, (uint8_t)(topic_size >> 8), (uint8_t)topic_size};
    uint8_t body_head[4] = {(uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8),
                            (uint8_t)size};
    return msgpack_sbuffer_write (&self->pending, (const char *)head, 3) ||
                   msgpack_sbuffer_write (&self->pending, topic, topic_size) ||
                   msgpack_sbuffer_write (&self->pending, (const char *)body_head, 4) ||
                   msgpack_sbuffer_write (&self->pending, (const char *)data, size)
               ? -ENOMEM
               : 0;
}

static void
s_free (void *data, void *hint)
{
    free (data);
}

void
jobd_publisher_flush (jobd_publisher_t *self)
{
    if (!self || self->pending.size == 0)
        return;
    //  One message per hand-over; its bytes go to the thread without a copy.
    size_t size = self->pending.size;
    char *data = msgpack_sbuffer_release (&self->pending);
    zmq_msg_t message;
    if (zmq_msg_init_data (&message, data, size, s_free, NULL) == 0) {
        if (zmq_msg_send (&message, zsock_resolve (self->actor), 0) < 0)
            zmq_msg_close (&message);
    } else
        free (data);
}
