//  jobctl's side of the admin protocol: one request, one reply, with a deadline.
#ifndef JOBCTL_CLIENT_H_INCLUDED
#define JOBCTL_CLIENT_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

#define JOBCTL_EUNREACHABLE -2001 //  no reply before the deadline: jobd is not running there
#define JOBCTL_EREFUSED     -2002 //  jobd refused the connection (CURVE handshake failed)
#define JOBCTL_EACCES       -2003 //  the admin socket is not open to this user

//  Checks that data holds one reply map (v, type "reply", ok). Returns 0 and fills unpacked
//  (the caller destroys it), or JOBD_EPROTO with a reason. Never reads past data + size.
int jobctl_reply_parse (const void *data, size_t size, msgpack_unpacked *unpacked, char *reason,
                        size_t reason_size);

//  Checks an ipc endpoint without waiting: JOBCTL_EACCES when this user may not reach it,
//  JOBCTL_EUNREACHABLE when nothing listens there, each with a reason; 0 otherwise (someone
//  may listen; any endpoint that is not ipc).
int jobctl_endpoint_probe (const char *endpoint, char *reason, size_t reason_size);

//  Sends request (one msgpack map) to the admin endpoint and waits up to timeout_ms for the
//  reply. Returns 0 with *unpacked filled (a reply map; see jobctl_reply_parse), or
//  JOBCTL_EUNREACHABLE, or JOBD_EPROTO, each with a reason.
int jobctl_request (const char *endpoint, int timeout_ms, const msgpack_sbuffer *request,
                    msgpack_unpacked *unpacked, char *reason, size_t reason_size);

//  Sets jobctl's CURVE keys for network (tcp://) endpoints: client_key, its own secret key file
//  (jobctl keygen; readable by its owner only), and server_key, jobd's public key file
//  (KEY.pub of jobd --keygen). Both or neither (then network endpoints are plain). Returns 0, or
//  JOBD_ECONFIG / -errno with a reason naming the file.
int jobctl_curve_set (const char *client_key, const char *server_key, char *reason,
                      size_t reason_size);

//  Connects socket to endpoint: a CURVE client when keys are set and endpoint is over the
//  network. Returns 0, or -1 when the endpoint is invalid.
int jobctl_connect (zsock_t *socket, const char *endpoint);

//  The monitor events of a failed handshake.
#define JOBCTL_HANDSHAKE_EVENTS                                                                    \
    (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                  \
     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

//  Watches socket's events (ZMQ_EVENT_* bits): returns a PAIR socket that becomes readable on
//  each (read it with jobctl_monitor_read), or NULL. Destroy it before socket.
zsock_t *jobctl_monitor_events (zsock_t *socket, int events);

//  Watches socket's handshakes (jobctl_monitor_events with JOBCTL_HANDSHAKE_EVENTS).
zsock_t *jobctl_monitor_new (zsock_t *socket);

//  Reads one event from monitor. Returns its ZMQ_EVENT_* code; for a failed handshake, with a
//  reason naming endpoint (jobd refused our key, or we and jobd disagree on CURVE).
int jobctl_monitor_read (zsock_t *monitor, const char *endpoint, char *reason, size_t reason_size);

//  Reads one event from monitor. Returns true, with a reason naming endpoint, when it is a
//  failed handshake (jobd refused our key, or we and jobd disagree on CURVE).
bool jobctl_handshake_failed (zsock_t *monitor, const char *endpoint, char *reason,
                              size_t reason_size);

//  True when the reply says ok; otherwise copies its reason.
bool jobctl_reply_ok (const msgpack_object *reply, char *reason, size_t reason_size);

#endif
