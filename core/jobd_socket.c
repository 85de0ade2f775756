//  The core's bound sockets (see jobd_socket.h).
#include "jobd_socket.h"
#include "jobd_curve.h"
#include "jobd_plugin.h"
#include <string.h>

zsock_t *
jobd_socket_bind (int type, const char *endpoint, char *reason, size_t reason_size)
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
    zsock_set_rcvhwm (socket, 100000);
    jobd_curve_apply (socket, endpoint);
    if (zsock_bind (socket, "%s", endpoint) == -1) {
        snprintf (reason, reason_size, "cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&socket);
    }
    return socket;
}
