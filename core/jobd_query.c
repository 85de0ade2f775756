//  The store's admin queries, on a thread of their own (see jobd_query.h).
#include "jobd_query.h"
#include "jobd_admin.h"
#include <errno.h>
#include <string.h>

//  A sender with queries in flight.
typedef struct {
    uint8_t identity[256];
    size_t identity_size;
    size_t count;
} s_sender_t;

struct _jobd_query_t {
    zactor_t *actor;
    size_t in_flight;
    s_sender_t senders[JOBD_QUERY_IN_FLIGHT_MAX]; //  count 0: free; bounded by in_flight
};

//  The thread: each message is identity, delimiter (1 byte), query; each answer the same with
//  the reply in place of the query.
static void
s_actor (zsock_t *pipe, void *arg)
{
    jobd_store_t *store = (jobd_store_t *)arg;
    jobd_stats_t stats;
    memset (&stats, 0, sizeof stats);
    zhashx_t *plugins = zhashx_new ();
    jobd_admin_context_t context = {.store = store, .stats = &stats, .plugins = plugins};
    zsock_signal (pipe, 0);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg || zmsg_size (msg) != 3) {
            zmsg_destroy (&msg); //  $TERM, or the pipe is gone
            break;
        }
        zframe_t *query = zmsg_last (msg);
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        msgpack_sbuffer_clear (&buffer);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
        //  The broker checked and unpacked it before handing it over: it unpacks again.
        if (jobd_msgpack_unpack (zframe_data (query), zframe_size (query), &unpacked, NULL, 0) == 0)
            jobd_admin_query (&context, &unpacked.data, &pk);
        msgpack_unpacked_destroy (&unpacked);
        zmsg_remove (msg, query);
        zframe_destroy (&query);
        zmsg_addmem (msg, buffer.data, buffer.size);
        zmsg_send (&msg, pipe);
    }
    msgpack_sbuffer_destroy (&buffer);
    zhashx_destroy (&plugins);
}

jobd_query_t *
jobd_query_new (jobd_store_t *store)
{
    jobd_query_t *self = (jobd_query_t *)zmalloc (sizeof (jobd_query_t));
    self->actor = zactor_new (s_actor, store);
    if (!self->actor) {
        free (self);
        return NULL;
    }
    return self;
}

void
jobd_query_destroy (jobd_query_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy (&(*self_p)->actor);
    free (*self_p);
    *self_p = NULL;
}

bool
jobd_query_handles (jobd_request_kind_t kind)
{
    return kind == JOBD_REQUEST_LS || kind == JOBD_REQUEST_SHOW || kind == JOBD_REQUEST_CURSORS;
}

static s_sender_t *
s_sender (jobd_query_t *self, const uint8_t *identity, size_t identity_size)
{
    for (size_t index = 0; index < JOBD_QUERY_IN_FLIGHT_MAX; index++) {
        s_sender_t *sender = &self->senders[index];
        if (sender->count && sender->identity_size == identity_size &&
            memcmp (sender->identity, identity, identity_size) == 0)
            return sender;
    }
    return NULL;
}

int
jobd_query_send (jobd_query_t *self, const uint8_t *identity, size_t identity_size, bool delimiter,
                 const void *data, size_t size, char *reason, size_t reason_size)
{
    assert (identity_size <= sizeof self->senders[0].identity);
    s_sender_t *sender = s_sender (self, identity, identity_size);
    if (self->in_flight >= JOBD_QUERY_IN_FLIGHT_MAX ||
        (sender && sender->count >= JOBD_QUERY_PER_CLIENT_MAX)) {
        snprintf (reason, reason_size,
                  "busy: %zu queries wait for their answer (%s); ask again after an answer",
                  sender && sender->count >= JOBD_QUERY_PER_CLIENT_MAX ? sender->count
                                                                       : self->in_flight,
                  sender && sender->count >= JOBD_QUERY_PER_CLIENT_MAX ? "yours" : "all clients'");
        return -EBUSY;
    }
    //  A free slot exists: fewer than JOBD_QUERY_IN_FLIGHT_MAX senders have queries in flight.
    for (size_t index = 0; !sender && index < JOBD_QUERY_IN_FLIGHT_MAX; index++)
        if (self->senders[index].count == 0) {
            sender = &self->senders[index];
            memcpy (sender->identity, identity, identity_size);
            sender->identity_size = identity_size;
        }
    zmsg_t *msg = zmsg_new ();
    uint8_t flag = delimiter;
    zmsg_addmem (msg, identity, identity_size);
    zmsg_addmem (msg, &flag, 1);
    zmsg_addmem (msg, data, size);
    if (zmsg_send (&msg, self->actor)) {
        zmsg_destroy (&msg);
        snprintf (reason, reason_size, "cannot hand the query over");
        return -ENOMEM;
    }
    sender->count++;
    self->in_flight++;
    return 0;
}

zsock_t *
jobd_query_sock (jobd_query_t *self)
{
    return zactor_sock (self->actor);
}

size_t
jobd_query_deliver (jobd_query_t *self, zsock_t *router)
{
    size_t delivered = 0;
    zsock_t *pipe = zactor_sock (self->actor);
    while (zsock_events (pipe) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break;
        zframe_t *identity = zmsg_first (msg);
        zframe_t *flag = zmsg_next (msg);
        zframe_t *answer = zmsg_next (msg);
        if (answer && zframe_size (identity) <= sizeof self->senders[0].identity) {
            s_sender_t *sender = s_sender (self, zframe_data (identity), zframe_size (identity));
            if (sender)
                sender->count--;
            self->in_flight--;
            //  ROUTER drops what it cannot deliver: an answer never blocks the broker.
            void *handle = zsock_resolve (router);
            zmq_send (handle, zframe_data (identity), zframe_size (identity), ZMQ_SNDMORE);
            if (zframe_size (flag) == 1 && zframe_data (flag)[0])
                zmq_send (handle, "", 0, ZMQ_SNDMORE);
            zmq_send (handle, zframe_data (answer), zframe_size (answer), 0);
            delivered++;
        }
        zmsg_destroy (&msg);
    }
    return delivered;
}
