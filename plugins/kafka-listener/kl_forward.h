//  kafka-listener: the outbound topic. Every committed transition, read from the store's
//  transition log in commit order, is produced as JSON keyed by job id; the plugin's cursor in
//  the log moves (by `cursor` events to the broker) only over transitions Kafka has confirmed.
//  While Kafka is away the transitions wait in the log, durably, and go out in order when it
//  returns; after a crash, those not confirmed are sent again (at least once: a consumer drops
//  repeats by job and seq). In a cluster (ABI 1.9) a reader per owned partition does the same
//  over the partition's transitions in changelog order, with its cursor in the changelog, so
//  that the partition's next owner goes on from it, after a crash too.
#ifndef KL_FORWARD_H_INCLUDED
#define KL_FORWARD_H_INCLUDED

#include "jobd_plugin.h"
#include <librdkafka/rdkafka.h>

typedef struct _kl_forward_t kl_forward_t;

//  topic "": no outbound topic (a cursor left by an earlier config is kept moving, so the log
//  does not grow). Reads the cursor, or registers one at the log's head. NULL when the host has
//  no transition log (then nothing is forwarded).
kl_forward_t *kl_forward_new (const jobd_host_t *host, zsock_t *bus, rd_kafka_t *producer,
                              const char *topic);
void kl_forward_destroy (kl_forward_t **self_p);

//  The log has news (a transition was published).
void kl_forward_poke (kl_forward_t *self);

//  Produces what the log has and the producer has room for, and moves the cursor when due.
//  force: move the cursor now, whatever is due (at the end).
void kl_forward_pump (kl_forward_t *self, bool force);

//  The producer's delivery report of a message (any message of the producer: those that are not
//  the forwarder's are ignored).
void kl_forward_delivered (kl_forward_t *self, const rd_kafka_message_t *message);

//  Counts for status reports: sent and confirmed positions, failures.
void kl_forward_counts (const kl_forward_t *self, uint64_t *waiting, uint64_t *forwarded,
                        uint64_t *failed);

#endif
