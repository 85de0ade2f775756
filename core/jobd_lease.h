//  The owner's lease on its partitions (docs/cluster.md section 8 (b)): an instance acts on a
//  partition only while Kafka recently confirmed that no later claim exists. A thread of its own
//  reads the changelog's high watermark h of each claimed partition every lease / 4, at
//  monotonic time t; once the replica applied the partition up to h and the last owner record
//  there is still this instance's claim, the lease runs to t + lease. No answer (a network cut,
//  a stopped process), and it runs out: the instance stops acting before a successor, which
//  waits one lease after its claim, starts. Only durations on this host's monotonic clock count.
#ifndef JOBD_LEASE_H_INCLUDED
#define JOBD_LEASE_H_INCLUDED

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jobd_lease jobd_lease_t;

//  Starts the renewal thread, which asks Kafka through handle (borrowed: it outlives the lease)
//  about the partitions of topic (copied). Returns 0 and *self_p, or -ENOMEM / an errno.
int jobd_lease_new (rd_kafka_t *handle, const char *topic, int partitions, int64_t lease_ms,
                    jobd_lease_t **self_p);

//  Stops the thread; NULL-safe; sets *self_p to NULL.
void jobd_lease_destroy (jobd_lease_t **self_p);

//  This instance claimed partition at monotonic time claimed_at (its claim was produced then):
//  the lease is renewed from then on, the claim itself its first renewal (a later claim can
//  only come after it). held false: no longer renewed, and no lease (a revoke, a lost claim).
void jobd_lease_hold (jobd_lease_t *self, int partition, bool held, int64_t claimed_at);

//  The newest renewal of partition not taken yet: true, with *asked_at (when the high
//  watermark was asked) and *high (its answer). The caller takes it (jobd_lease_grant) once
//  its replica applied the partition up to *high and no claim above its own was there.
bool jobd_lease_renewal (jobd_lease_t *self, int partition, int64_t *asked_at, int64_t *high);

//  The lease of partition runs to asked_at + lease (never backwards).
void jobd_lease_grant (jobd_lease_t *self, int partition, int64_t asked_at);

//  The ms left on partition's lease (0: none, or run out; NULL self: none). Any thread.
int64_t jobd_lease_left (jobd_lease_t *self, int partition);

#ifdef __cplusplus
}
#endif
#endif
