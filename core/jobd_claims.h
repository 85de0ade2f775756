//  Ownership in cluster mode (docs/cluster.md section 7): the instances form a consumer group on
//  <prefix>.jobs; the instance assigned a partition claims it in the changelog and, once its
//  claim is read back (and the previous owner's lease ran out, when it did not release), acts
//  on that partition's jobs alone. Used on the broker's thread only.
#ifndef JOBD_CLAIMS_H_INCLUDED
#define JOBD_CLAIMS_H_INCLUDED

#include "jobd_changelog.h"
#include "jobd_cluster.h"
#include "jobd_config.h"
#include "jobd_store.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jobd_claims jobd_claims_t;

//  A partition's state here.
typedef enum {
    JOBD_CLAIMS_REPLICA = 0, //  another instance's, or nobody's: followed only
    JOBD_CLAIMS_CATCHUP,     //  assigned: the replica catches up with the changelog first
    JOBD_CLAIMS_CLAIMING,    //  the claim is produced: waiting to read it back
    JOBD_CLAIMS_WAITING,     //  claimed after another's claim: its lease must run out first
    JOBD_CLAIMS_OWNED        //  this instance acts on the partition's jobs
} jobd_claims_state_t;

//  Joins the group (store, cluster and changelog borrowed; they outlive the owner). Before the
//  broker starts. Returns 0 and *self_p, or an error with a reason.
int jobd_claims_new (jobd_config_t *config, jobd_store_t *store, jobd_cluster_t *cluster,
                     jobd_changelog_t *changelog, jobd_claims_t **self_p, char *reason,
                     size_t reason_size);

//  Leaves the group cleanly: every owned partition released in the changelog (waiting up to
//  cluster/revoke_timeout for Kafka). NULL-safe; sets *self_p to NULL.
void jobd_claims_destroy (jobd_claims_t **self_p);

//  One turn on the broker's thread, outside a batch: serves the group (assignments and
//  revocations) and moves each assigned partition on towards owned. Returns the ms until the
//  next turn is needed.
int64_t jobd_claims_turn (jobd_claims_t *self);

//  Whether the group gave this instance its share and every partition of it is owned: from then
//  on submissions find a partition to land in. Any thread.
bool jobd_claims_settled (jobd_claims_t *self);

//  Whether this instance acts on partition now.
bool jobd_claims_owns (jobd_claims_t *self, int partition);

//  A partition's state and this instance's epoch of it (0 when it never claimed it).
jobd_claims_state_t jobd_claims_state (jobd_claims_t *self, int partition, uint64_t *epoch_p);

//  Whether this instance acts on job id now (docs/cluster.md section 7, "What acting covers"):
//  0, or JOBD_ENOTOWNER; *partition_p gets the job's partition and *epoch_p the epoch this
//  instance acts under (0 when it does not). Either may be NULL. Any thread: for the plugins.
int jobd_claims_acting (jobd_claims_t *self, const char *id, uint32_t *partition_p,
                        uint64_t *epoch_p);

//  A count that grows each time the set of partitions this instance acts on changes. Any thread.
uint64_t jobd_claims_changes (jobd_claims_t *self);

//  The epoch this instance acts on partition under now (0: it does not; its lease ran out).
//  Any thread.
uint64_t jobd_claims_partition_acting (jobd_claims_t *self, uint32_t partition);

//  The number of partitions. Any thread.
int jobd_claims_partitions (jobd_claims_t *self);

//  The transition log's head when this instance last began to own partition (0: never). Any
//  thread: for the plugins (the host table's acting_since).
uint64_t jobd_claims_since (jobd_claims_t *self, uint32_t partition);

//  A command forwarded through the jobs topic (jobd_forward), handed to the broker by the owner
//  of its partition: its msgpack, and its reply token (token_size 0: no reply is wanted).
typedef void (jobd_claims_command_fn) (const void *data, size_t size, const uint8_t *token,
                                       size_t token_size, void *arg);

//  Commands of the jobs topic go to fn (NULL: dropped), in each partition's order, while this
//  instance acts on their partition; those of a partition it does not act on yet wait.
void jobd_claims_set_command_fn (jobd_claims_t *self, jobd_claims_command_fn *fn, void *arg);

//  The commands handed so far are applied (the broker committed their batch): their offsets are
//  committed to the group, so that the next owner starts after them. At least once: a command
//  handed and applied just before this instance died is applied again by the next owner.
void jobd_claims_commit (jobd_claims_t *self);

//  The state's name ("replica", "catchup", "claiming", "waiting", "owned").
const char *jobd_claims_state_name (jobd_claims_state_t state);

#ifdef __cplusplus
}
#endif
#endif
