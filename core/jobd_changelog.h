//  The broker's side of cluster mode (docs/cluster.md, section 5): what each commit changed goes
//  to the changelog, and what the changelog holds comes back into the store by the replica apply,
//  whose transitions are the ones published. Used on the broker's thread only.
#ifndef JOBD_CHANGELOG_H_INCLUDED
#define JOBD_CHANGELOG_H_INCLUDED

#include "jobd_cluster.h"
#include "jobd_config.h"
#include "jobd_store.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jobd_changelog jobd_changelog_t;

//  What the changelog did since the start (`jobctl cluster`: jobd_changelog_pack).
typedef struct {
    uint64_t produced;     //  messages handed to the producer
    uint64_t produce_lost; //  messages the producer would not take (logged): a replica misses them
    uint64_t read;         //  messages read back
    uint64_t bad;          //  messages read that do not decode (logged, skipped)
    uint64_t applied;      //  messages that changed the store
    uint64_t fenced;       //  messages dropped: their epoch below their partition's claim
    uint64_t older;        //  records not newer than the store's
    uint64_t missing;      //  transitions counted by a record whose history entry never came
    uint64_t published;    //  transitions published on read-back
    uint64_t commits;      //  replica apply commits
    uint64_t apply_failures; //  replica apply commits that failed (tried again)
    uint64_t settled; //  jobs whose unconfirmed writes a later claim fenced, settled (section 6)
    uint64_t fenced_sends; //  sends that landed after a claim above their epoch: replies refused
    uint64_t repaired;     //  keys a fenced message left invalid, written again by this owner
} jobd_changelog_stats_t;

//  Called after the replica apply's commit for each transition it newly counted, in order.
typedef void (jobd_changelog_publish_fn) (const char *job, const jobd_transition_t *transition,
                                          void *arg);

//  Cluster mode on store (borrowed, as cluster; both outlive the changelog): the store names new
//  jobs with cluster ids, keys their timers by partition and logs transitions on read-back; the
//  replica reader starts at each partition's cl_next. Before the broker starts, on the thread
//  that opened the store. Returns 0 and *self_p, or an error with a reason.
int jobd_changelog_new (jobd_config_t *config, jobd_store_t *store, jobd_cluster_t *cluster,
                        jobd_changelog_t **self_p, char *reason, size_t reason_size);

//  Stops the reader; the store leaves cluster mode. NULL-safe; sets *self_p to NULL.
void jobd_changelog_destroy (jobd_changelog_t **self_p);

//  In the open batch, after its applies, before its commit: records what it changed as
//  changelog messages (kept until jobd_changelog_send or _drop). Returns 0 or an error that
//  kills the batch.
int jobd_changelog_record (jobd_changelog_t *self);

//  After the batch committed: produces what jobd_changelog_record kept, in commit order.
void jobd_changelog_send (jobd_changelog_t *self);

//  The ticket a batch's replies wait for (docs/cluster.md section 10: "stored" once the
//  changelog gave the write back): the last send's own (even when already confirmed, so that
//  its replies go through the fenced check), else the last one not confirmed yet (0: none).
uint64_t jobd_changelog_ticket (jobd_changelog_t *self);

//  Every send up to this ticket is confirmed: Kafka acked each of its messages and this instance
//  applied the changelog past them.
uint64_t jobd_changelog_confirmed (jobd_changelog_t *self);

//  What became of the write of job in the send of ticket (confirmed): FENCED when the send's
//  messages of the job's partition landed after a claim above the epoch they carry, so every
//  replica dropped them, and what the batch's reply calls stored is not; REFUSED when Kafka
//  refused them, or they were lost at produce: committed here and not confirmed, sent again
//  while this instance owns the partition under that epoch (jobd_changelog_resend_due), else
//  settled or sent again at a regain; else STORED. (The lowest and highest offsets its messages
//  of the partition landed at tell: a send that straddles the claim, some of its writes fenced
//  and some not, is REFUSED: which ones is not known.) job NULL: of any write of that send
//  (FENCED or REFUSED: the first such partition's).
typedef enum {
    JOBD_CHANGELOG_STORED,
    JOBD_CHANGELOG_FENCED,
    JOBD_CHANGELOG_REFUSED,
} jobd_changelog_fate_t;
jobd_changelog_fate_t jobd_changelog_fenced (jobd_changelog_t *self, uint64_t ticket,
                                             const char *job);

//  A claim read that raised a partition's epoch: where, and to what.
typedef struct {
    int64_t offset;
    uint64_t epoch;
} jobd_changelog_claim_t;

//  The fate of a send's messages of one partition, written with epoch, whose lowest and highest
//  offsets are first and last (-1: not known; first unknown: as last), refused when Kafka refused
//  one or one was lost at produce, given the claims (count) read there that raised its epoch:
//  FENCED when the first landed after a claim above epoch; REFUSED when refused, or when only
//  the last did (a send that straddles the claim); else STORED.
jobd_changelog_fate_t jobd_changelog_fate (const jobd_changelog_claim_t *claims, size_t count,
                                           uint64_t epoch, int64_t first, int64_t last,
                                           bool refused);

//  After the batch was aborted: forgets what jobd_changelog_record kept.
void jobd_changelog_drop (jobd_changelog_t *self);

//  A descriptor readable while changelog messages wait to be applied (see jobd_replica_fd).
int jobd_changelog_fd (jobd_changelog_t *self);

//  Reads what arrived (up to 2,000 messages), applies it in one commit, then calls publish for
//  each transition it counted. A batch whose commit failed is kept and tried again (not before
//  a second). Also serves the producer's delivery reports. Returns how many messages it read.
size_t jobd_changelog_apply (jobd_changelog_t *self, jobd_changelog_publish_fn *publish, void *arg);

//  Ms until the changelog needs a turn: a kept batch due again, or a send waiting for its
//  delivery reports (0: now; -1: nothing waits).
int64_t jobd_changelog_wait (jobd_changelog_t *self);

//  Packs the `cluster` query's answer (proto/README.md section 12) into pk: the cluster's name,
//  this instance, the counters, and each partition as this instance sees it. arg: the
//  changelog (the admin context's cluster_pack).
void jobd_changelog_pack (msgpack_packer *pk, void *arg);

//  The same, as a map with room for more entries after it, which the caller packs.
void jobd_changelog_pack_more (msgpack_packer *pk, jobd_changelog_t *self, size_t more);

//  Cluster mode's ownership (core/jobd_owner.c): this instance's epoch of partition, written
//  into the records it produces (0: it does not own it).
void jobd_changelog_set_epoch (jobd_changelog_t *self, int partition, uint64_t epoch);

//  Outside a batch, once this instance owns partition (its epoch set): the writes it committed
//  there and Kafka never confirmed (it stopped, or lost the partition, first), of an epoch at
//  least min_epoch, are produced again with the new epoch, which their cl_pending entries take
//  (jobd_store_cl_resend). What another owner changed since is the changelog's version already.
//  Returns 0, or an error (logged: nothing was sent).
int jobd_changelog_resend (jobd_changelog_t *self, int partition, uint64_t epoch,
                           uint64_t min_epoch);

//  Outside a batch: settles this instance's writes of partition that the changelog never
//  confirmed and never will, those of an epoch below `below` (0: the partition's claim epoch as
//  applied here), reading the partition again (jobd_settle_partition: the broker waits for it,
//  at most 10 s). Logs what it did. Returns 0 or an error (logged; the writes stay).
int jobd_changelog_settle (jobd_changelog_t *self, int partition, uint64_t below);

//  For a partition this instance does not act on: settles it (below its claim epoch) when a
//  claim read since the start, or since it last did, or a loss of the partition, may have fenced
//  some of its writes, or a settle failed. One that failed is tried again 5 s later, then 10,
//  20... up to 5 minutes (a claim read or a loss asks at once again).
void jobd_changelog_settle_due (jobd_changelog_t *self, int partition);

//  For a partition this instance acts on: when some of its writes were refused by Kafka or lost
//  on the way (a send's ticket said so, under the epoch it still owns the partition with), sends
//  its unconfirmed writes of that epoch again (jobd_changelog_resend): at once the first time,
//  then, while Kafka refuses them, 5 s later, 10, 20, ... up to 5 minutes, until a send of the
//  partition is stored again.
void jobd_changelog_resend_due (jobd_changelog_t *self, int partition);

//  For a partition this instance acts on: when a fenced message read since it began to own it
//  (or before, on any instance: the marks are in the store) left a key's last value in the
//  changelog invalid, writes the key's valid value again (jobd_store_cl_repair), so that a
//  compacted changelog keeps valid values only (docs/cluster.md section 5, "As built: the
//  repair"). Looked at again 10 s after it wrote some (their read-back clears the marks); one
//  that failed is tried again 5 s later.
void jobd_changelog_repair_due (jobd_changelog_t *self, int partition);

//  Asks for partition's settle again (jobd_changelog_settle_due), after the backoff of failures.
//  Returns the wait (ms).
int64_t jobd_changelog_settle_later (jobd_changelog_t *self, int partition);

//  The changelog offset of partition this instance applied up to (committed).
int64_t jobd_changelog_applied (jobd_changelog_t *self, int partition);

//  Produces partition's owner record: a claim or a release of epoch by this instance, as group
//  member member. Returns 0, or an error with a reason.
int jobd_changelog_owner (jobd_changelog_t *self, int partition, bool claim, uint64_t epoch,
                          const char *member, char *reason, size_t reason_size);

//  Produces partition's cursor record of reader name (docs/cluster.md, section 7): it is done
//  with the partition's transitions below position, written under epoch (its owner's claim; a
//  lower one is fenced on every instance). Returns 0, or an error with a reason.
int jobd_changelog_cursor (jobd_changelog_t *self, int partition, const char *name,
                           uint64_t position, uint64_t epoch, char *reason, size_t reason_size);

//  A partition's owner state as this instance sees it (its name) and its epoch here.
typedef const char *(jobd_changelog_view_fn)(int partition, uint64_t *epoch_p, void *arg);

//  Sets what jobd_changelog_pack shows of each partition's ownership (NULL: nothing).
void jobd_changelog_set_view (jobd_changelog_t *self, jobd_changelog_view_fn *view, void *arg);

#ifdef __cplusplus
}
#endif
#endif
