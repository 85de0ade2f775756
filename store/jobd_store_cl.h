//  The store's side of a jobd cluster (docs/cluster.md, sections 5 and 6): the replica apply of
//  changelog messages, and the changelog messages of what a batch changed. Nothing here talks
//  to Kafka: the cluster module (core/) reads and produces the bytes.
#ifndef JOBD_STORE_CL_H_INCLUDED
#define JOBD_STORE_CL_H_INCLUDED

#include "jobd_cl_msg.h"
#include "jobd_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  What a replica apply did.
typedef struct {
    uint64_t fenced;  //  messages dropped: epoch below the claim of their partition (step 1)
    uint64_t older;   //  records not newer than the local one: nothing written
    uint64_t missing; //  transitions counted by a record whose history entry never came
    uint64_t applied; //  messages that changed something
    uint64_t marked;  //  fenced messages that left their key's last value invalid (the repair)
    uint64_t repairs; //  the partition's keys marked for repair, after the apply
    bool claimed;     //  a claim raised the partition's claim epoch
    uint16_t partition;
    //  The claims that raised it, in offset order (the last 4 of them).
    struct {
        uint64_t offset;
        uint64_t epoch;
    } claims[4];
    size_t claim_count;
    //  The transitions the records newly counted, in order: the caller publishes them after the
    //  commit (fresh: jobd_store_cl_applied_clear).
    jobd_transition_t *transitions;
    char (*jobs)[JOBD_ID_MAX + 1]; //  the job of each transition
    size_t transition_count;
    size_t transition_alloc;
} jobd_store_cl_applied_t;

//  One message of changelog partition `partition` to apply, with its offset there.
typedef struct {
    const jobd_cl_msg_t *msg; //  decoded (borrowed for the call)
    uint64_t offset;
} jobd_store_cl_input_t;

//  In the open batch: applies count decoded messages of one changelog partition, in offset
//  order (the replica apply, steps 1-5 of docs/cluster.md section 5): a message whose epoch is
//  below the partition's claim is fenced (dropped, counted); a history entry is put; a record
//  replaces the local one when its (epoch, last_seq) is not below the local (cl_epoch,
//  last_seq), deletes the local history past its last_seq, replaces the job's timers, and its
//  indexes follow; the transitions it counts that were not published here yet go to the
//  transition log (and cl_plog) and to applied; owner, in, stream and cursor records update
//  their meta keys; meta cl_next/<p> becomes the last
//  offset + 1. Applying the same messages again changes nothing. Returns 0 with applied filled
//  (cleared first), JOBD_EPROTO (a message this store cannot hold: nothing written), or an
//  error that kills the batch.
int jobd_store_cl_apply (jobd_store_t *self, uint16_t partition,
                         const jobd_store_cl_input_t *inputs, size_t count,
                         jobd_store_cl_applied_t *applied);

//  A changelog partition's transitions in changelog order (cl_plog), for the readers that act
//  for its owner (docs/cluster.md, section 7). cl_plog holds them until every reader of the
//  partition is done with them (its cursor: meta cl_cursor/<name>/<partition>, from a
//  `\0cursor/<name>` changelog record), or, while the partition has no reader, its last
//  JOBD_STORE_PLOG_KEEP offsets. Positions: an entry at changelog
//  offset O is at O + 1 when it is the last of its offset, else at O; a reader done with
//  position P is done with every offset below P.

//  Calls fn for the entries of partition after position `after` (each its history entry: the
//  transition, msgpack, borrowed for the call), in order, up to max entries but never ending
//  inside an offset. Returns how many it handed over, or a negative error. One read
//  transaction.
int jobd_store_plog_read (jobd_store_t *self, uint16_t partition, uint64_t after, size_t max,
                          jobd_store_log_fn *fn, void *arg);

//  Reads reader name's cursor of partition into *position_p (0 and JOBD_ENOTFOUND when it has
//  none) and the partition's head into *head_p (the position of its last transition kept; with
//  none, of the last offset applied; 0: none). Either pointer may be NULL.
int jobd_store_plog_cursor (jobd_store_t *self, const char *name, uint16_t partition,
                            uint64_t *position_p, uint64_t *head_p);

//  One partition reader's cursor, as jobd_store_plog_cursor_list lists it.
typedef struct {
    char name[JOBD_CL_NAME_MAX + 1];
    uint16_t partition;
    uint64_t position;
    uint64_t head;    //  the partition's last transition kept, if past position, else position
    int64_t moved_at; //  ms since the epoch when it last moved (the expiry's clock); 0: not known
} jobd_store_plog_cursor_t;

//  Lists up to max partition readers' cursors, in key order (cl_cursor/<name>/<p>), into *cursors_p
//  (fresh: free it) and *count_p; *more_p when there are more. A single jobd's store has none.
//  One read transaction. Returns 0 or an error.
int jobd_store_plog_cursor_list (jobd_store_t *self, size_t max,
                                 jobd_store_plog_cursor_t **cursors_p, size_t *count_p,
                                 bool *more_p);

//  In the open batch, with the partition applied up to head (its next offset): removes its
//  cl_plog entries below its lowest reader's cursor, or, while it has no reader, below its last
//  JOBD_STORE_PLOG_KEEP offsets.
#define JOBD_STORE_PLOG_KEEP 1000
int jobd_store_plog_prune (jobd_store_t *self, uint16_t partition, uint64_t head);

//  Called by jobd_store_plog_expire for each cursor it removed: the reader's name, the
//  partition, how long it had not moved (ms) and how far behind the partition's head it was.
typedef void (jobd_store_plog_expired_fn) (const char *name, uint16_t partition, int64_t idle_ms,
                                           uint64_t behind, void *arg);

//  In the open batch: removes each partition reader's cursor that is behind its partition's head
//  and has not moved for idle_max ms (0: never), as jobd_store_cursor_expire does for the
//  transition log's, calling fn for each: cl_plog holds no more for it (the partition's next
//  apply batch prunes). Each instance decides for its own store (cl_plog is not replicated);
//  the reader's next cursor record sets it again. A cursor at its head holds nothing: its clock
//  restarts. At most 4,096 cursors are looked at per call. Returns 0 or an error that makes the
//  batch dead.
int jobd_store_plog_expire (jobd_store_t *self, int64_t now, int64_t idle_max,
                            jobd_store_plog_expired_fn *fn, void *arg);

//  Cluster mode on store (before the first batch): a transition joins the transition log when
//  the changelog confirms it (jobd_store_cl_apply), not when the batch that made it commits, so
//  that `watch` and the http event stream follow the changelog's order on every instance.
void jobd_store_cl_set_replicated (jobd_store_t *self, bool replicated);

//  Reads the cluster the store belongs to (meta `cluster`: "<prefix>@<Kafka cluster id>") into
//  cluster (size bytes). Returns 0, JOBD_ENOTFOUND (a single jobd's store), or an error.
int jobd_store_cl_bound (jobd_store_t *self, char *cluster, size_t size);

//  Binds the store to cluster at an instance's start, in a commit of its own (outside a batch):
//  a store bound to it already is taken; an empty store is bound to it; a store with jobs and no
//  cluster (a single jobd's) or another cluster's is refused (JOBD_ECONFIG with a reason).
//  Returns 0 or an error.
int jobd_store_cl_bind (jobd_store_t *self, const char *cluster, char *reason, size_t reason_size);

//  Frees the transitions held by applied and zeroes it. NULL-safe.
void jobd_store_cl_applied_clear (jobd_store_cl_applied_t *applied);

//  One changelog message to produce: its partition, key and value (fresh).
typedef struct {
    uint16_t partition;
    uint8_t *key;
    size_t key_size;
    uint8_t *value;
    size_t value_size;
} jobd_store_cl_out_t;

typedef struct {
    jobd_store_cl_out_t *messages;
    size_t count;
    size_t alloc;
} jobd_store_cl_outbox_t;

//  In the open batch, after its applies and before its commit: what the batch changed, as
//  changelog messages appended to outbox (for each job: its new history entries, then its
//  record and timers), written by instance inst with epochs[p] for a job of partition p (each
//  below partitions). The records get their cl_epoch, and cl_pending an entry per job (epoch,
//  the last seq published here), in this batch. Produce the messages once the batch committed.
//  Returns 0 or an error that kills the batch (-ENOMEM, JOBD_ECORRUPT, JOBD_EINVAL: a job of a
//  partition beyond partitions).
int jobd_store_cl_record (jobd_store_t *self, const char *inst, const uint64_t *epochs,
                          size_t partitions, jobd_store_cl_outbox_t *outbox);

//  In an open batch: the writes this instance committed and the changelog never confirmed
//  (cl_pending: it stopped, or lost the partition, before Kafka acked them), of partition only
//  (-1: every partition) and of an epoch at least min_epoch, as changelog messages appended to
//  outbox: the job's history entries past what was published here, then its record and timers,
//  with epochs[p] (NULL: the epoch each was written with). Produced again, they make those
//  writes durable as the first produce would have (applying a message twice changes nothing).
//  With epochs, their cl_pending entries take the new epoch (commit the batch, then produce;
//  without, it writes nothing). A job the changelog changed since (another owner's write) has
//  no entry: the replica apply took the changelog's version and cleared it. *jobs_p: how many
//  jobs. Returns 0 or an error.
int jobd_store_cl_resend (jobd_store_t *self, const char *inst, const uint64_t *epochs,
                          size_t partitions, int only, uint64_t min_epoch,
                          jobd_store_cl_outbox_t *outbox, size_t *jobs_p);

//  In an open batch: the key of msg, a changelog message of partition that Kafka refused (or that
//  was lost at produce), is marked as a fenced one is (its kind, job, seq and name count), so
//  that jobd_store_cl_repair writes its valid value again once this instance acts on the
//  partition: a refused history entry goes again even when a later record of its job, read
//  back first, ended the job's cl_pending entry (or moved it past the entry) that
//  jobd_store_cl_resend goes by. A job's key that a resend with min_epoch sends anyway (its
//  cl_pending entry of that epoch or later, published below the entry) is not marked.
//  *marked_p says whether it was. Only this instance holds the mark. Returns 0 or an error.
int jobd_store_cl_lost (jobd_store_t *self, uint16_t partition, const jobd_cl_msg_t *msg,
                        uint64_t min_epoch, bool *marked_p);

//  In an open batch, by the owner of partition (epoch: its claim): the keys a fenced message left
//  with an invalid last value in the changelog (marked by the replica apply) get their valid
//  value again, as changelog messages appended to outbox: a job's history entries from the
//  lowest one marked, then its record and timers (a job this store does not have: "gone"); an
//  owner record: this owner's claim; in, stream and cursor records: their value here. Their
//  read-back clears the marks (on every instance). A compacted changelog then keeps valid
//  values only (docs/cluster.md section 5, "As built: the repair"), but for a partition record
//  this owner holds no value of: its mark goes. *keys_p: how many keys. Returns 0 or an error.
int jobd_store_cl_repair (jobd_store_t *self, const char *inst, uint16_t partition, uint64_t epoch,
                          jobd_store_cl_outbox_t *outbox, size_t *keys_p);

//  Called by jobd_store_cl_dead for each job: its id and the epoch of its unconfirmed writes.
//  Return 0, or an error that ends the walk.
typedef int (jobd_store_cl_dead_fn) (const char *id, uint64_t epoch, void *arg);

//  The jobs of partition that this instance changed and the changelog will never confirm
//  (committed cl_pending): those whose unconfirmed writes have an epoch below `below` (0: the
//  partition's claim epoch as applied here, the last claim read), which a later claim fences.
//  Calls fn for each (inside a read transaction: it must not use the store). Returns 0 or an
//  error.
int jobd_store_cl_dead (jobd_store_t *self, uint16_t partition, uint64_t below,
                        jobd_store_cl_dead_fn *fn, void *arg);

typedef enum {
    JOBD_STORE_SETTLED_NOT,     //  no unconfirmed write of that epoch (settled, or written since)
    JOBD_STORE_SETTLED_TAKEN,   //  the job is the changelog's record now
    JOBD_STORE_SETTLED_REMOVED, //  the changelog never had the job: it is gone
    //  no record in the changelog, though it confirmed some of the job (a compacted changelog
    //  can hide a record behind a fenced one): the job stays as it is here
    JOBD_STORE_SETTLED_KEPT,
} jobd_store_settled_t;

//  In the open batch: job id's writes of epoch that the changelog never confirmed, and never
//  will (a later claim of its partition fences them), give way to the changelog's last record
//  of the job that was not fenced, record (a REC message; NULL: the changelog has none): the
//  job becomes that record (jobd_store_cl_apply's step 3: history past its last_seq deleted,
//  timers replaced), or, when the changelog never had it, is removed with its history and
//  timers; then entries (EV messages of the job, in changelog order), the history entries of
//  the job the changelog holds up to where this store applied it, are put again (step 2: a
//  later owner's entries whose record has not come yet stay). Its cl_pending entry goes. Nothing is
//  published: in cluster mode nothing of those writes was. *settled_p says which. Returns 0,
//  JOBD_EINVAL (a record of another job, not a REC), or an error that kills the batch.
int jobd_store_cl_settle (jobd_store_t *self, uint16_t partition, const char *id, uint64_t epoch,
                          const jobd_cl_msg_t *record, const jobd_cl_msg_t *entries,
                          size_t entry_count, jobd_store_settled_t *settled_p);

//  Frees the messages of outbox and zeroes it. NULL-safe.
void jobd_store_cl_outbox_clear (jobd_store_cl_outbox_t *outbox);

//  Reads meta number NAME of partition (e.g. "cl_next", "claim_epoch", "in"), committed, into
//  *value_p (0 when absent). Returns 0 or an error.
int jobd_store_cl_meta (jobd_store_t *self, const char *name, uint16_t partition,
                        uint64_t *value_p);

//  Reads the last owner record of partition (meta owner/<p>, committed): a claim or a release,
//  its epoch and the instance that wrote it (into inst, inst_size bytes). Returns 0,
//  JOBD_ENOTFOUND (no owner record yet), or an error.
int jobd_store_cl_owner (jobd_store_t *self, uint16_t partition, bool *claim_p, uint64_t *epoch_p,
                         char *inst, size_t inst_size);

//  Reads job id's cl_pending entry (committed): *epoch_p and *published_p, 0 when it has none.
//  Returns 0, JOBD_ENOTFOUND, or an error.
int jobd_store_cl_pending (jobd_store_t *self, const char *id, uint64_t *epoch_p,
                           uint64_t *published_p);

#ifdef __cplusplus
}
#endif
#endif
