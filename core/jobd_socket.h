//  The core's bound sockets: one way to make them (linger 0, high-water marks for bursts, the
//  welcome message of the subscribers' XPUB).
#ifndef JOBD_SOCKET_H_INCLUDED
#define JOBD_SOCKET_H_INCLUDED

#include <czmq.h>

//  Most bytes of a subscription message an XPUB reads (1 byte and a topic): a subscriber
//  sending more is disconnected before it is read.
#define JOBD_SOCKET_SUBSCRIPTION_MAX 1024

//  A socket of type bound to endpoint, or NULL with a reason. The limits of an external socket
//  are set before it binds (libzmq copies them into each connection): a ROUTER reads frames of
//  at most JOBD_EVENT_MAX bytes, an XPUB subscriptions of at most JOBD_SOCKET_SUBSCRIPTION_MAX;
//  a peer sending a larger one is disconnected before its bytes are read (ZMQ_MAXMSGSIZE).
zsock_t *jobd_socket_bind (int type, const char *endpoint, char *reason, size_t reason_size);

//  The same with the ROUTER limits given: message_max bytes per frame (ZMQ_MAXMSGSIZE) and
//  queue_max messages waiting per peer (ZMQ_RCVHWM: a client that sends faster than the broker
//  reads is held back by ZeroMQ, and holds at most queue_max * message_max bytes of jobd's
//  memory). 0 for either: the default.
zsock_t *jobd_socket_bind_limited (int type, const char *endpoint, int64_t message_max,
                                   int queue_max, char *reason, size_t reason_size);

//  Closes a socket made by jobd_socket_bind: an inproc endpoint is unbound first, so that it is
//  free when this returns (libzmq releases it later, on its reaper thread, when the socket is
//  only closed: a broker made again at once in the same process could not bind it). NULL-safe;
//  sets *socket_p to NULL.
void jobd_socket_close (zsock_t **socket_p);

#endif
