//  The core's bound sockets: one way to make them (linger 0, high-water marks for bursts, the
//  welcome message of the subscribers' XPUB).
#ifndef JOBD_SOCKET_H_INCLUDED
#define JOBD_SOCKET_H_INCLUDED

#include <czmq.h>

//  A socket of type bound to endpoint, or NULL with a reason.
zsock_t *jobd_socket_bind (int type, const char *endpoint, char *reason, size_t reason_size);

#endif
