//  Cluster mode (docs/cluster.md): several jobd share the jobs over Kafka. What is built so far:
//  the `cluster` config section, and at start the three topics (jobs, changelog, replies), made
//  when missing and checked when there. Without a `cluster` section nothing of this runs.
#ifndef JOBD_CLUSTER_H_INCLUDED
#define JOBD_CLUSTER_H_INCLUDED

#include "jobd_config.h"
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_CLUSTER_PARTITIONS_MAX 4096 //  partitions of the jobs and changelog topics

typedef struct jobd_cluster jobd_cluster_t;

//  The `cluster` section's keys (jobd --describe-config, the config check).
extern const jobd_conf_key_t jobd_cluster_map[];

//  True when config has a `cluster` section: cluster mode.
bool jobd_cluster_configured (jobd_config_t *config);

//  Checks the section without connecting (jobd --check, and before start): the instance's name,
//  the numbers, and every librdkafka property under cluster/kafka (librdkafka's own check).
//  Returns 0, or JOBD_ECONFIG with a reason naming the key.
int jobd_cluster_check (jobd_config_t *config, char *reason, size_t reason_size);

//  A librdkafka config for a cluster client of type: the properties under cluster/kafka, then
//  jobd's own, which win (a producer idempotent with acks=all; a consumer that commits nothing).
//  NULL with a reason naming the property librdkafka refused. The caller owns it.
rd_kafka_conf_t *jobd_cluster_conf (jobd_config_t *config, rd_kafka_type_t type, char *reason,
                                    size_t reason_size);

//  Connects to the brokers (waiting up to cluster/connect_timeout for them), makes the topics
//  that are missing and checks those there. Returns 0 and *self_p, or JOBD_ECONFIG (a topic with
//  another partition count or cleanup policy than the config's: another cluster's, or a changed
//  config) or JOBD_EUNAVAILABLE (no broker answered), with a reason.
int jobd_cluster_new (jobd_config_t *config, jobd_cluster_t **self_p, char *reason,
                      size_t reason_size);

//  Closes the clients; NULL-safe; sets *self_p to NULL.
void jobd_cluster_destroy (jobd_cluster_t **self_p);

//  This instance's name (cluster/instance), borrowed.
const char *jobd_cluster_instance (jobd_cluster_t *self);

//  The cluster's name, "<prefix>@<Kafka cluster id>" (borrowed): a store belongs to one.
const char *jobd_cluster_name (jobd_cluster_t *self);

//  Partitions of the jobs and changelog topics.
int jobd_cluster_partitions (jobd_cluster_t *self);

//  The topic of role "jobs", "changelog" or "replies" (<prefix>.<role>), borrowed.
const char *jobd_cluster_topic (jobd_cluster_t *self, const char *role);

//  Produces one message (key and value copied) to partition of the topic of role, through the
//  idempotent producer: per partition in the order produced, once, acked by every in-sync
//  replica. Returns 0, or JOBD_ETOOBIG / -ENOBUFS (the producer's queue is full: poll, then
//  produce again) / -EINVAL with a reason.
int jobd_cluster_produce (jobd_cluster_t *self, const char *role, int32_t partition,
                          const void *key, size_t key_size, const void *value, size_t value_size,
                          char *reason, size_t reason_size);

//  The same with one header (header NULL: none) and an opaque handed to the delivered function
//  (jobd_cluster_set_delivered_fn) with the message's delivery report, for a message of another
//  topic than the changelog; for a changelog message, to the landed function.
int jobd_cluster_produce_with (jobd_cluster_t *self, const char *role, int32_t partition,
                               const void *key, size_t key_size, const void *value,
                               size_t value_size, const char *header, const char *header_value,
                               void *opaque, char *reason, size_t reason_size);

//  Told the delivery report of a message produced with an opaque to another topic than the
//  changelog: err 0 (acked) or why Kafka refused it for good. On the thread that polls.
typedef void (jobd_cluster_delivered_fn) (void *opaque, rd_kafka_resp_err_t err, void *arg);
void jobd_cluster_set_delivered_fn (jobd_cluster_t *self, jobd_cluster_delivered_fn *fn, void *arg);

//  Told where a changelog message produced with an opaque (jobd_cluster_produce_with) landed:
//  its delivery report (partition and offset, or err; its key and value). On the thread that
//  polls.
typedef void (jobd_cluster_landed_fn) (void *opaque, const rd_kafka_message_t *message, void *arg);
void jobd_cluster_set_landed_fn (jobd_cluster_t *self, jobd_cluster_landed_fn *fn, void *arg);

//  The high watermark of partition of the topic of role (a round trip, up to connect_timeout).
//  Returns 0, or JOBD_ETIMEOUT when Kafka did not answer.
int jobd_cluster_high (jobd_cluster_t *self, const char *role, int32_t partition, int64_t *high_p);

//  Serves the producer's delivery reports (no wait). Returns how many messages are produced and
//  not acked yet.
size_t jobd_cluster_poll (jobd_cluster_t *self);

//  The highest offset acked in partition of the changelog (-1: none yet), and how many messages
//  Kafka refused for good (a fatal producer error: the instance must stop acting).
int64_t jobd_cluster_acked (jobd_cluster_t *self, int32_t partition);
uint64_t jobd_cluster_refused (jobd_cluster_t *self);

//  How many messages produced to partition of the changelog have their delivery report (acked
//  or refused), since the start. Delivery is in order per partition: once it reaches the count
//  produced, every one of them was answered.
uint64_t jobd_cluster_reported (jobd_cluster_t *self, int32_t partition);

//  Waits until every message produced is acked, up to timeout_ms. Returns 0, or JOBD_ETIMEOUT.
int jobd_cluster_flush (jobd_cluster_t *self, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
