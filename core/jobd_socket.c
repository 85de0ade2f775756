//  The core's bound sockets (see jobd_socket.h).
#include "jobd_socket.h"
#include "jobd_curve.h"
#include "jobd_event.h"
#include "jobd_plugin.h"
#include <string.h>

zsock_t *
jobd_socket_bind_limited (int type, const char *endpoint, int64_t message_max, int queue_max,
                          char *reason, size_t reason_size)
{
    zsock_t *socket = zsock_new (type);
    if (!socket) {
        snprintf (reason, reason_size, "cannot create a socket for %s", endpoint);
        return NULL;
    }
    zsock_set_linger (socket, 0);
    if (type == ZMQ_XPUB)
        //  Every new subscriber gets this first: it tells it that it is connected.
        zmq_setsockopt (zsock_resolve (socket), ZMQ_XPUB_WELCOME_MSG, JOBD_WELCOME_TOPIC,
                        strlen (JOBD_WELCOME_TOPIC));
    if (type == ZMQ_ROUTER || type == ZMQ_PUB || type == ZMQ_XPUB)
        zsock_set_sndhwm (socket, 100000);
    zsock_set_rcvhwm (socket, queue_max > 0 ? queue_max : 100000);
    //  What a peer may make jobd read: over it, libzmq drops the connection at the frame's
    //  header, before allocating or reading its body (inproc peers are not read: no effect).
    if (message_max <= 0)
        message_max = type == ZMQ_XPUB ? JOBD_SOCKET_SUBSCRIPTION_MAX : JOBD_EVENT_MAX;
    zmq_setsockopt (zsock_resolve (socket), ZMQ_MAXMSGSIZE, &message_max, sizeof message_max);
    jobd_curve_apply (socket, endpoint);
    if (zsock_bind (socket, "%s", endpoint) == -1) {
        snprintf (reason, reason_size, "cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&socket);
    }
    return socket;
}

zsock_t *
jobd_socket_bind (int type, const char *endpoint, char *reason, size_t reason_size)
{
    return jobd_socket_bind_limited (type, endpoint, 0, 0, reason, reason_size);
}

void
jobd_socket_close (zsock_t **socket_p)
{
    if (!socket_p || !*socket_p)
        return;
    const char *endpoint = zsock_endpoint (*socket_p);
    if (endpoint && strncmp (endpoint, "inproc://", 9) == 0)
        zsock_unbind (*socket_p, "%s", endpoint);
    zsock_destroy (socket_p);
}
