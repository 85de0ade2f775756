//  kafka-listener: dead letters until Kafka confirms them. A message that cannot be observed is
//  produced to the dead-letter topic, and its offset may be committed only once the producer's
//  delivery report says Kafka stored it: until then its partition's offsets wait below it
//  (kl_dead_floor). A delivery that fails is tried again, with a growing pause (never skipped);
//  one too large for the topic (over the producer's message.max.bytes, or refused by the broker
//  as too large) is sent in a form that fits: its first bytes, its full size and SHA-256 in
//  headers (jobd-size, jobd-sha256, jobd-kept), and a reason that says so.
#ifndef KL_DEAD_H_INCLUDED
#define KL_DEAD_H_INCLUDED

#include "jobd_plugin.h"
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _kl_dead_t kl_dead_t;

//  Where a dead-lettered message came from.
typedef struct {
    char topic[256];
    int32_t partition;
    int64_t offset;
} kl_dead_source_t;

//  Dead letters produced with producer (whose delivery reports the caller hands to
//  kl_dead_delivered) to topic. The producer's message.max.bytes is read once. NULL when out of
//  memory.
kl_dead_t *kl_dead_new (const jobd_host_t *host, rd_kafka_t *producer, const char *topic);

//  Frees every letter. The producer must be destroyed first: it may hold their bytes.
void kl_dead_destroy (kl_dead_t **self_p);

//  Dead-letters message (consumed from Kafka) with reason: a copy of its key and value is kept
//  until Kafka confirms it. Returns 0, or -ENOMEM when even that could not be noted: then its
//  partition's offsets stay below it until the next start (kl_dead_floor).
int kl_dead_send (kl_dead_t *self, const rd_kafka_message_t *message, const char *reason);

//  The delivery report of a dead letter (report->_private is the letter). Returns true and
//  fills *source when Kafka confirmed it (its offset may move on); false when it is sent again,
//  now in a smaller form or later.
bool kl_dead_delivered (kl_dead_t *self, const rd_kafka_message_t *report,
                        kl_dead_source_t *source);

//  Sends again the letters whose pause after a failure is over. Call it every loop turn.
void kl_dead_retry (kl_dead_t *self);

//  The lowest offset of the partition whose dead letter Kafka has not confirmed, or INT64_MAX:
//  no offset of it may be committed past that.
int64_t kl_dead_floor (const kl_dead_t *self, const char *topic, int32_t partition);

//  Letters Kafka has not confirmed yet.
size_t kl_dead_waiting (const kl_dead_t *self);

//  True when so many letters (or bytes) wait that the caller should stop consuming until Kafka
//  confirms some.
bool kl_dead_full (const kl_dead_t *self);

//  Letters confirmed so far.
uint64_t kl_dead_confirmed (const kl_dead_t *self);

#endif
