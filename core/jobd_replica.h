//  The replica reader of cluster mode (docs/cluster.md section 5): one consumer assigned every
//  partition of the changelog (no group: it joins nothing), each from the position the store
//  keeps for it, read in batches on the thread that applies them.
#ifndef JOBD_REPLICA_H_INCLUDED
#define JOBD_REPLICA_H_INCLUDED

#include "jobd_config.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jobd_replica jobd_replica_t;

//  One message, borrowed for the call. timestamp: ms since the epoch (the producer's), or -1.
typedef struct {
    int32_t partition;
    int64_t offset;
    const void *key;
    size_t key_size;
    const void *value;
    size_t value_size;
    int64_t timestamp;
} jobd_replica_message_t;

//  Called for each message, in offset order per partition. Return false to stop the batch
//  there (the message is taken: the next read starts after it).
typedef bool (jobd_replica_fn) (const jobd_replica_message_t *message, void *arg);

//  A reader of partitions 0..partitions-1 of topic, partition p from next[p] (below 0: from the
//  beginning), with the cluster section's client settings. Returns 0 and *self_p, or
//  JOBD_ECONFIG with a reason.
int jobd_replica_new (jobd_config_t *config, const char *topic, int partitions, const int64_t *next,
                      jobd_replica_t **self_p, char *reason, size_t reason_size);

//  Stops the consumer; NULL-safe; sets *self_p to NULL.
void jobd_replica_destroy (jobd_replica_t **self_p);

//  Hands fn what has arrived, at most max messages, waiting up to timeout_ms for the first.
//  Returns how many fn was handed.
size_t jobd_replica_read (jobd_replica_t *self, size_t max, int timeout_ms, jobd_replica_fn *fn,
                          void *arg);

//  A file descriptor readable while messages wait: wait on it with the rest of a loop, then read
//  (a read drains it, and makes it readable again when it left messages behind).
int jobd_replica_fd (jobd_replica_t *self);

//  The next offset to read in partition: the last handed plus one, else where it started (-1:
//  from the beginning, as given to jobd_replica_new). -1 too for a partition it does not read.
int64_t jobd_replica_next (jobd_replica_t *self, int32_t partition);

//  How many messages partition holds past what was handed, from the high watermark librdkafka
//  last heard (no round trip); -1 when none was heard yet.
int64_t jobd_replica_behind (jobd_replica_t *self, int32_t partition);

//  Reads partition of topic again from its start, with a consumer of its own, up to offset end
//  (exclusive) or the partition's end, handing fn each message in order (fn's return is not
//  asked: every message goes to it). Returns 0, JOBD_ETIMEOUT (Kafka did not hand it all
//  within timeout_ms) or JOBD_ECONFIG, with a reason.
int jobd_replica_scan (jobd_config_t *config, const char *topic, int32_t partition, int64_t end,
                       int timeout_ms, jobd_replica_fn *fn, void *arg, char *reason,
                       size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
