//  Commands forwarded to the owner of their job's partition (cluster mode, docs/cluster.md
//  section 4). A command this instance may not apply (its job's partition is another's: the
//  store said ENOTOWNER) is produced to <prefix>.jobs, partition of the job, keyed by the job id,
//  with the header jobd-reply = a token naming this instance and the request. The owner applies
//  it and produces its reply to <prefix>.replies keyed by the token; this instance reads the
//  replies topic and relays each of its own to the client that waits, or answers ETIMEOUT after
//  cluster/reply_timeout. The observations of a `batch` are forwarded without a reply each: the
//  batch's reply goes once Kafka acked every forward of it. Used on the broker's thread only.
#ifndef JOBD_FORWARD_H_INCLUDED
#define JOBD_FORWARD_H_INCLUDED

#include "jobd_cluster.h"
#include "jobd_config.h"
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_FORWARD_HEADER "jobd-reply" //  the header of a forwarded command: its reply token

typedef struct jobd_forward jobd_forward_t;

//  Where a reply goes: a client of one of the broker's ROUTER sockets.
typedef struct {
    zsock_t *socket;
    const uint8_t *identity;
    size_t identity_size;
    bool delimiter;
} jobd_forward_to_t;

//  Sends a reply's bytes to its client (the broker's ROUTER send).
typedef void (jobd_forward_send_fn) (const jobd_forward_to_t *to, const void *data, size_t size,
                                     void *arg);

//  Sends a batch's reply whose forwards Kafka acked, once ticket (the broker's hold of the
//  batch's own writes, 0: none) is confirmed too.
typedef void (jobd_forward_release_fn) (const jobd_forward_to_t *to, const void *data, size_t size,
                                        uint64_t ticket, void *arg);

//  Starts reading <prefix>.replies from its end. Returns 0 and *self_p, or an error with a reason.
int jobd_forward_new (jobd_config_t *config, jobd_cluster_t *cluster, jobd_forward_t **self_p,
                      char *reason, size_t reason_size);

//  Logs what it forwarded, relayed and answered ETIMEOUT. NULL-safe; sets *self_p to NULL.
//  Clients still waiting get no answer.
void jobd_forward_destroy (jobd_forward_t **self_p);

//  Forwards one encoded command (data, size: its msgpack) about job to the job's partition.
//  With to (copied), the owner's reply to the command re (its event id) is relayed there; with
//  group (jobd_forward_group), it belongs to that batch. Returns 0, or an error with a reason
//  (the producer's queue is full, the command is too big).
int jobd_forward_send (jobd_forward_t *self, const void *data, size_t size, const char *job,
                       const jobd_forward_to_t *to, const char *re, uint64_t group, char *reason,
                       size_t reason_size);

//  A new batch group (never 0). Its forwards follow (jobd_forward_send), then its reply
//  (jobd_forward_group_close).
uint64_t jobd_forward_group (jobd_forward_t *self);

//  The batch's reply (data copied), sent through release once Kafka acked every forward of group.
void jobd_forward_group_close (jobd_forward_t *self, uint64_t group, const jobd_forward_to_t *to,
                               const void *data, size_t size, uint64_t ticket);

//  The owner's reply to a forwarded command, to the replies topic under its token. Returns 0 or
//  an error.
int jobd_forward_reply (jobd_forward_t *self, const uint8_t *token, size_t token_size,
                        const void *data, size_t size);

//  One turn: replies for this instance relayed through send, clients waiting past reply_timeout
//  answered ETIMEOUT, batch replies whose forwards were acked handed to release. Returns the ms
//  until the next turn is needed.
int64_t jobd_forward_turn (jobd_forward_t *self, jobd_forward_send_fn *send,
                           jobd_forward_release_fn *release, void *arg);

//  Readable while replies wait (for the broker's poll).
int jobd_forward_fd (jobd_forward_t *self);

//  Its counts since start: commands forwarded to their owners, replies relayed back to their
//  clients, and commands answered ETIMEOUT because no reply came within reply_timeout.
void jobd_forward_counts (jobd_forward_t *self, uint64_t *forwarded, uint64_t *relayed,
                          uint64_t *timed_out);

#ifdef __cplusplus
}
#endif
#endif
