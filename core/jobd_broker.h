//  The broker: one thread that owns the bus and the store's write path. Observations and
//  commands in, group commit, transitions out, in that order and no other.
#ifndef JOBD_BROKER_H_INCLUDED
#define JOBD_BROKER_H_INCLUDED

#include "jobd_answer.h"
#include "jobd_plugin.h"
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
    //  Cluster mode (borrowed; outlives the broker), or NULL: each batch's changes go to the
    //  changelog after its commit, and transitions are published when the changelog gives them
    //  back (docs/cluster.md, section 5).
    struct jobd_changelog *changelog;
    //  Cluster mode (borrowed; outlives the broker): the group and the claims, turned on the
    //  broker's thread (docs/cluster.md section 7).
    struct jobd_claims *claims;
    //  Cluster mode (borrowed; outlives the broker): commands for jobs of partitions another
    //  instance owns go to it through Kafka, and its replies come back (docs/cluster.md section 4).
    struct jobd_forward *forward;
    //  Called on the broker's thread every heartbeat_ms (0: 1 s) while its loop turns, with its
    //  counters: proof that the broker is alive, for the service watchdog (jobd_notify.h). NULL:
    //  none.
    void (*heartbeat) (const jobd_stats_t *stats, void *arg);
    void *heartbeat_arg;
    int64_t heartbeat_ms;
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

//  Tells the broker that the started plugin name takes the kinds of submission its descriptor
//  lists (ABI 1.4) and checks them with its validate, called on the broker's thread with state
//  and host. plugin is read at once; the kinds, validate, state and host are borrowed until
//  jobd_broker_owners_drop returns.
void jobd_broker_owner (jobd_broker_t *self, const char *name, const jobd_plugin_t *plugin,
                        void *state, const jobd_host_t *host);

//  Tells the broker it knows every plugin: from now on a `submit` whose kind no running plugin
//  takes, or that its owner finds invalid, is refused (JOBD_EINVAL) and nothing is stored.
void jobd_broker_owners_ready (jobd_broker_t *self);

//  Makes the broker forget the plugins' validators, and returns once it has (before their state
//  is freed). Submissions are accepted unchecked from then on.
void jobd_broker_owners_drop (jobd_broker_t *self);

//  Returns the broker's pipe, readable when the broker thread died (for the main loop).
zsock_t *jobd_broker_pipe (jobd_broker_t *self);

#ifdef __cplusplus
}
#endif
#endif
