//  The broker: one thread that owns the bus and the store's write path. Observations and
//  commands in, group commit, transitions out, in that order and no other.
#ifndef JOBD_BROKER_H_INCLUDED
#define JOBD_BROKER_H_INCLUDED

#include "jobd_deadline.h"
#include "jobd_store.h"
#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _jobd_broker_t jobd_broker_t;

//  What the broker is started with (core/README.md, section core).
typedef struct {
    const char *admin_endpoint;
    const char *events_endpoint;
    size_t batch_max;          //  most events applied in one commit
    int64_t message_max;       //  bytes: the largest frame read from an admin client (0: 256 KiB)
    int client_queue_max;      //  messages each admin client may have waiting (0: 64)
    int64_t cursor_idle_max;   //  ms: a log cursor behind the head that has not moved for this
                               //  long is removed, with a warning (0: never)
    jobd_deadline_t *deadline; //  the deadline policy (borrowed; outlives the broker), or NULL:
                               //  no deadlines are armed (timers already stored still fire)
} jobd_broker_options_t;

//  Starts the broker thread on store (borrowed; must outlive the broker) with options (copied).
//  Returns 0 and sets *self_p, or a negative error with a reason naming the endpoint.
int jobd_broker_start (jobd_store_t *store, const jobd_broker_options_t *options,
                       jobd_broker_t **self_p, char *reason, size_t reason_size);

//  Starts the broker thread on store (borrowed; must outlive the broker), binding the admin and
//  events endpoints and the inproc bus, with the default limits. batch_max bounds events per
//  commit. Returns 0 and sets *self_p, or a negative error with a reason naming the endpoint (in
//  use, bad address, ...).
int jobd_broker_new (jobd_store_t *store, const char *admin_endpoint, const char *events_endpoint,
                     size_t batch_max, jobd_broker_t **self_p, char *reason, size_t reason_size);

//  Stops the broker: every event already received is applied, committed and published first.
//  NULL-safe; sets *self_p to NULL.
void jobd_broker_destroy (jobd_broker_t **self_p);

//  Tells the broker about a plugin the loader handled (for `jobctl plugins`). status is
//  "running", "failed", ...; detail may be NULL.
void jobd_broker_plugin (jobd_broker_t *self, const char *name, const char *version,
                         const char *status, const char *detail);

//  Returns the broker's pipe, readable when the broker thread died (for the main loop).
zsock_t *jobd_broker_pipe (jobd_broker_t *self);

#ifdef __cplusplus
}
#endif
#endif
