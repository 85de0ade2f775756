//  CURVE for jobd's network endpoints: the server's key pair, the folder of authorized clients
//  (checked by zauth, ZeroMQ's ZAP handler) and the rules that refuse plain TCP.
#ifndef JOBD_CURVE_H_INCLUDED
#define JOBD_CURVE_H_INCLUDED

#include "jobd_config.h"
#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _jobd_curve_t jobd_curve_t;

//  Checks the admin and events endpoints against the config's keys core/curve_key,
//  core/curve_clients and core/insecure. An endpoint over the network (anything but ipc:// and
//  inproc://) needs CURVE: the server's secret certificate (curve_key) and the folder of
//  authorized clients' public certificates (curve_clients), both trusted (jobd_trust_check), the
//  key readable by nobody else; or an explicit insecure = true (plain TCP, with a warning).
//  A wildcard address (*, 0.0.0.0, ::) gets a warning. When CURVE is needed, loads the key and
//  starts zauth; from then on jobd_curve_apply makes network sockets CURVE servers. Returns 0
//  and sets *self_p (NULL when no endpoint needs CURVE), or JOBD_ECONFIG / -errno with a reason
//  naming the key and the fix. Call before any socket is bound; destroy after they all closed.
int jobd_curve_new (jobd_config_t *config, const char *admin, const char *events,
                    jobd_curve_t **self_p, char *reason, size_t reason_size);

//  Stops zauth and forgets the key; NULL-safe; sets *self_p to NULL.
void jobd_curve_destroy (jobd_curve_t **self_p);

//  Makes socket a CURVE server with the key of the live jobd_curve_t when endpoint is over the
//  network; leaves it alone otherwise (ipc sockets keep their file-mode protection). The key is
//  set once by jobd_curve_new, before the threads that bind start, and only read afterwards.
void jobd_curve_apply (zsock_t *socket, const char *endpoint);

//  True when endpoint goes over the network: anything but ipc:// and inproc://.
bool jobd_curve_is_network (const char *endpoint);

//  Reads one message from a socket monitor (zmq_socket_monitor's PAIR) and returns its event
//  (ZMQ_EVENT_*), or 0 when it is not one.
int jobd_curve_monitor_event (zsock_t *monitor);

#ifdef __cplusplus
}
#endif
#endif
