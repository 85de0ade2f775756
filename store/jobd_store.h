//  The store: LMDB, and the only code that touches it. Jobs, their histories, the indexes, the
//  on-disk format version, and the write path that applies events through the state machine.
#ifndef JOBD_STORE_H_INCLUDED
#define JOBD_STORE_H_INCLUDED

#include "jobd_event.h"
#include "jobd_job.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_STORE_FORMAT 6 //  on-disk format written by this build (6: partitions, cluster)

//  The `src` of jobd's own deadline actions (core/jobd_deadline.c): not a word from the job's
//  source, so it does not refresh the job's freshness. Reserved: the broker refuses it from
//  any other sender.
#define JOBD_STORE_SOURCE_DEADLINE "deadline"

//  The `src` of the move a due `retry` timer makes (RETRY_WAIT -> QUEUED), and that timer's name
//  (README.md, "Retries").
#define JOBD_STORE_SOURCE_RETRY "retry"
#define JOBD_STORE_TIMER_RETRY  "retry"

#define JOBD_STORE_RDONLY 1 //  open flag: read-only (jobctl while jobd is down, tests)

typedef struct _jobd_store_t jobd_store_t;

//  Opens (creating when writable and absent) the store in folder path. map_size is the LMDB map
//  size in bytes (0: 1 GiB). Returns 0 and sets *self_p, or: JOBD_EFORMAT (written by a newer
//  jobd), JOBD_ECORRUPT (not an LMDB store, or damaged), -ENOENT (read-only and absent),
//  -EACCES, or another negative error. A message naming the path is written to reason.
int jobd_store_open (const char *path, int flags, size_t map_size, jobd_store_t **self_p,
                     char *reason, size_t reason_size);

//  Closes the store (aborting an open write transaction); NULL-safe; sets *self_p to NULL.
void jobd_store_destroy (jobd_store_t **self_p);

//  ---------------------------------------------------------------------------------------------
//  Write path. One thread only (the broker). begin, any number of apply, then commit or abort:
//  one LMDB write transaction, one fsync, for the whole batch (group commit).

//  What applying one event did.
typedef enum {
    JOBD_APPLY_CHANGED = 0, //  transitions were recorded (see transitions[])
    JOBD_APPLY_DUPLICATE,   //  the job is already in that state: only last_seen was updated
    JOBD_APPLY_BACKWARD,    //  the state machine refuses the move: nothing written
    JOBD_APPLY_OLD_ATTEMPT, //  an observation from an earlier attempt: nothing written
    JOBD_APPLY_FORWARD,     //  a cancel the job's backend must carry out: nothing written
    JOBD_APPLY_REPLAY       //  an observation at or before its stream's last position: nothing
} jobd_apply_outcome_t;

//  One committed-to-be transition, as published: the encoded transition event (proto/README.md).
typedef struct {
    jobd_state_t from;
    jobd_state_t to;
    uint64_t seq;  //  the job's history sequence number
    uint8_t *data; //  the msgpack transition event, fresh (freed by jobd_apply_result_clear)
    size_t size;
} jobd_transition_t;

typedef struct {
    jobd_apply_outcome_t outcome;
    char job[JOBD_ID_MAX + 1];        //  the job concerned (the new id after submit or track)
    jobd_transition_t transitions[2]; //  in order
    size_t transition_count;          //  0, 1, or 2 (retry: FAILED -> RETRY_WAIT -> QUEUED)
    const char *reason;               //  a refusal the operator can act on (static text), or NULL
} jobd_apply_result_t;

//  Starts the batch's write transaction. Returns 0 or a negative error.
int jobd_store_begin (jobd_store_t *self);

//  Applies one event (submit, track, cancel, retry, observed, cursor, cancel.failed, retry.plan)
//  inside the open batch. An event
//  either applies whole or writes nothing. Returns 0 with *result filled, or: JOBD_ENOTFOUND (no
//  such job), JOBD_EEXIST (track of a backend id already known: result->job names it; an
//  observation that would give its job another job's backend id: the job's record keeps that in
//  `conflict`, the event's only effect, so that it is never dropped silently), JOBD_ESTATE (command
//  not allowed in the job's state; result->reason may say what to do instead), JOBD_EPROTO (not a
//  store event); these, and any error that came
//  before the event wrote anything (JOBD_ECORRUPT: a damaged record), cost that event only. An
//  error after it wrote (JOBD_EFULL, JOBD_ESTORE, -ENOMEM) makes the batch dead: further applies
//  and the commit return that error, and nothing of it is stored.
int jobd_store_apply (jobd_store_t *self, const jobd_event_t *event, jobd_apply_result_t *result);

//  Whether a plain `retry` (neither now nor stop) of a FAILED or LOST job is forwarded to the
//  retry plugin (outcome JOBD_APPLY_FORWARD, nothing written) rather than applied as `now`: the
//  broker sets it while a plugin named retry runs. The writer's thread only.
void jobd_store_set_retry_forward (jobd_store_t *self, bool forward);

//  Commits the batch (one fsync). Returns 0, or a negative error after which nothing of the
//  batch is stored.
int jobd_store_commit (jobd_store_t *self);

//  Drops the open batch; nothing of it is stored. Safe when no batch is open.
void jobd_store_abort (jobd_store_t *self);

//  Destroys the transitions held by result and zeroes it.
void jobd_apply_result_clear (jobd_apply_result_t *result);

//  ---------------------------------------------------------------------------------------------
//  Reads. Any thread, concurrently with the write path; each call is one consistent snapshot of
//  committed data. Returned objects are fresh copies the caller owns.

//  Returns 0 and sets *job_p, or JOBD_ENOTFOUND, or a negative error.
int jobd_store_job_get (jobd_store_t *self, const char *id, jobd_job_t **job_p);

//  Finds the job with this backend id. Returns 0 and sets *id_p (fresh), or JOBD_ENOTFOUND.
int jobd_store_job_find (jobd_store_t *self, const char *backend, const char *ext, char **id_p);

//  Reads the job's whole history in sequence order. Returns 0 and sets *events_p (a fresh array
//  of fresh transition events; free with jobd_store_history_free) and *count_p, or
//  JOBD_ENOTFOUND.
int jobd_store_history (jobd_store_t *self, const char *id, jobd_event_t ***events_p,
                        size_t *count_p);

//  Frees an array returned by jobd_store_history; NULL-safe; sets *events_p to NULL.
void jobd_store_history_free (jobd_event_t ***events_p, size_t count);

//  Called for each job by jobd_store_scan. The job is borrowed for the call only. Return false
//  to stop the scan.
typedef bool (jobd_store_scan_fn) (const jobd_job_t *job, void *arg);

//  Calls fn for every job whose state is in state_mask (bit 1 << state; 0 means every job), in
//  id order for all jobs, or state by state through the state index. Returns 0 or an error.
int jobd_store_scan (jobd_store_t *self, uint32_t state_mask, jobd_store_scan_fn *fn, void *arg);

//  The store's size: the bytes of its pages in use (up to the last page written) and its map
//  size. Returns 0 or a negative error.
int jobd_store_size (jobd_store_t *self, uint64_t *used_p, uint64_t *map_p);

//  Called for each job by jobd_store_scan_encoded: the record as stored, one msgpack map (the
//  encoding of jobd_job_encode, proto/README.md section 7), borrowed for the call only. Return
//  false to stop the scan.
typedef bool (jobd_store_encoded_fn) (const uint8_t *data, size_t size, void *arg);

//  The same scan as jobd_store_scan, handing each record over as it is stored (its checksum
//  checked, its msgpack checked as one bounded value) without decoding it: for readers that
//  decode it themselves (the plugin host's job_scan_encoded). Returns 0 or a negative error.
int jobd_store_scan_encoded (jobd_store_t *self, uint32_t state_mask, jobd_store_encoded_fn *fn,
                             void *arg);

//  Calls fn for every job in the order of its last change (updated_at, then id), newest first
//  when descending, starting strictly after (after, after_id) in that order (after_id NULL: from
//  the start), each record as jobd_store_scan_encoded hands it, through the index by_updated:
//  a page of the newest jobs costs that page, not a pass over every job. One read transaction.
//  Returns 0, JOBD_ENOTFOUND when the store has no such index (older than format 5, opened read
//  only: scan instead), or a negative error.
int jobd_store_scan_updated (jobd_store_t *self, bool descending, int64_t after,
                             const char *after_id, jobd_store_encoded_fn *fn, void *arg);

//  Fills counts[state] with the number of jobs in each state. Returns 0 or an error.
int jobd_store_counts (jobd_store_t *self, uint64_t counts[JOBD_STATE_COUNT]);

//  ---------------------------------------------------------------------------------------------
//  The transition log: every committed transition in commit order, numbered from 1, for readers
//  that forward them elsewhere and must lose none across restarts and outages. A reader names
//  itself with a cursor (a `cursor` event, applied by the write path); logging starts with the
//  first cursor, and entries every cursor has passed are dropped.

//  Called by jobd_store_log_read for each entry: its position and the encoded event (borrowed
//  for the call): a `transition`, or a `stale` (jobd_store_log_event). Return false to stop.
typedef bool (jobd_store_log_fn) (uint64_t position, const uint8_t *data, size_t size, void *arg);

//  Calls fn for up to max entries after position `after`, in order. Returns how many it read, or
//  a negative error (JOBD_ECORRUPT: an entry whose transition is missing or damaged).
int jobd_store_log_read (jobd_store_t *self, uint64_t after, size_t max, jobd_store_log_fn *fn,
                         void *arg);

//  The same, for readers that know transitions only (plugins built for ABI 1.1 to 1.5): the
//  entries of other events are passed over (their positions are skipped, and not counted).
int jobd_store_log_read_transitions (jobd_store_t *self, uint64_t after, size_t max,
                                     jobd_store_log_fn *fn, void *arg);

//  In the open batch: logs event (a `stale`: not a transition, which is logged with its history
//  entry) inline, when some reader has a cursor, so that readers of the log meet it in commit
//  order and none loses it across a restart. Returns 0, JOBD_EINVAL (a transition),
//  JOBD_EPROTO (an event that does not encode), or an error that makes the batch dead.
int jobd_store_log_event (jobd_store_t *self, const jobd_event_t *event);

//  Reads the log's head, the last position written and committed, into *head_p (0: empty).
//  Returns 0 or an error.
int jobd_store_log_head (jobd_store_t *self, uint64_t *head_p);

//  Reads the cursor `name` into *position_p (JOBD_ENOTFOUND, and 0, when it was never set) and
//  the log's head, the last position written, into *head_p. Either pointer may be NULL.
int jobd_store_cursor_get (jobd_store_t *self, const char *name, uint64_t *position_p,
                           uint64_t *head_p);

//  Damage met while reading or writing (JOBD_ECORRUPT: a page LMDB calls corrupt, a value that
//  does not decode or does not fit its key) is reported to this function: one line naming the
//  file, what was read, and what to do; at most one per JOBD_STORE_DAMAGE_QUIET_MS, with the
//  count of those held back. Any thread. Without one, nothing is reported.
typedef void (jobd_store_damage_fn) (const char *line, void *arg);

#define JOBD_STORE_DAMAGE_QUIET_MS 10000

//  Sets the function damage is reported to (NULL: none). Call before any other thread uses the
//  store.
void jobd_store_set_damage_fn (jobd_store_t *self, jobd_store_damage_fn *fn, void *arg);

//  The largest the map may grow to (bytes; 0, the default: it does not grow). Before each write
//  batch, a map three quarters used (or found full by the batch before) doubles, up to this,
//  and the notice function says so; only past it does a commit fail with JOBD_EFULL. Call
//  before any other thread uses the store.
void jobd_store_set_map_max (jobd_store_t *self, size_t map_max);

//  True when the map is below its maximum: a batch refused with JOBD_EFULL fits after the map
//  grows (jobd_store_begin grows it after one), so the writer applies it again.
bool jobd_store_map_may_grow (jobd_store_t *self);

//  Sets the function told when the map grows (one line for the log; NULL: none). Call before
//  any other thread uses the store.
void jobd_store_set_notice_fn (jobd_store_t *self, jobd_store_damage_fn *fn, void *arg);

//  Returns how many reads and writes met damage since the store was opened.
uint64_t jobd_store_damage_count (jobd_store_t *self);

//  One cursor of the transition log, as listed.
typedef struct {
    char name[JOBD_NAME_MAX + 1];
    uint64_t position; //  the last log position its reader is done with
    int64_t moved_at;  //  ms since the epoch: when it last moved, or was last seen caught up
                       //  (0: not known yet, set by a jobd older than this one)
} jobd_store_cursor_t;

//  Reads up to max cursors, in name order, into *cursors_p (a fresh array: free it) and
//  *count_p; *head_p is the log's head, *more_p tells whether more cursors were left out.
//  Returns 0 or a negative error (JOBD_ECORRUPT: a cursor entry that does not fit the layout).
int jobd_store_cursor_list (jobd_store_t *self, size_t max, jobd_store_cursor_t **cursors_p,
                            size_t *count_p, uint64_t *head_p, bool *more_p);

//  Removes cursor name in the open batch; the log entries no other cursor holds are dropped
//  (logging stops with the last cursor). Returns 0, JOBD_ENOTFOUND, or an error that makes the
//  batch dead (as jobd_store_apply's).
int jobd_store_cursor_drop (jobd_store_t *self, const char *name);

//  Called by jobd_store_cursor_expire for each cursor it removed (borrowed for the call), with
//  the log's head.
typedef void (jobd_store_expired_fn) (const jobd_store_cursor_t *cursor, uint64_t head, void *arg);

//  In the open batch: removes every cursor that is behind the log's head and has not moved for
//  idle_max ms (0: never), calling fn for each, and drops the log entries no cursor holds any
//  more. A cursor at the head holds nothing: its clock restarts. At most 1,000 cursors are looked
//  at per call. Returns 0 or an error that makes the batch dead.
int jobd_store_cursor_expire (jobd_store_t *self, int64_t now, int64_t idle_max,
                              jobd_store_expired_fn *fn, void *arg);

//  ---------------------------------------------------------------------------------------------
//  Durable timers (README.md, "Timers"): store state written by the commit that causes it. Keyed
//  by due time, so the next due timer is one cursor seek however many wait; a transition removes
//  every timer of its job in its own commit, then the arm function (if set) arms the timers of
//  the state it enters.

#define JOBD_STORE_TIMER_NAME_MAX  64  //  a timer's name: "deadline", "deadline.action", ...
#define JOBD_STORE_TIMER_VALUE_MAX 256 //  its value: what its owner needs to act on it

typedef struct {
    int64_t due; //  ms since the epoch
    char job[JOBD_ID_MAX + 1];
    char name[JOBD_STORE_TIMER_NAME_MAX + 1];
    uint8_t value[JOBD_STORE_TIMER_VALUE_MAX];
    size_t value_size;
} jobd_store_timer_t;

//  Called inside the open batch each time a job enters a state, after its old timers are gone:
//  arms the new state's timers with jobd_store_timer_set. job is the batch's copy (borrowed for
//  the call). Returns 0 or an error that kills the batch.
typedef int (jobd_store_arm_fn) (jobd_store_t *store, const jobd_job_t *job, void *arg);

//  Sets the arm function (NULL: none). Call before the first batch.
void jobd_store_set_arm_fn (jobd_store_t *self, jobd_store_arm_fn *fn, void *arg);

//  In the open batch: sets the job's timer name to fire at due with value (size bytes, at most
//  JOBD_STORE_TIMER_VALUE_MAX), replacing a timer of that name. Returns 0, JOBD_EPROTO (a name
//  or value over its limit; nothing written), or an error that kills the batch.
int jobd_store_timer_set (jobd_store_t *self, const char *job, const char *name, int64_t due,
                          const void *value, size_t size);

//  In the open batch: removes up to max timers due at or before now, of the owned partitions
//  (each in turn, first due first within a partition), and
//  copies them to timers[] (*count_p of them). They fire in this batch: what they do must be
//  applied before the commit, so that a timer fires exactly once. Returns 0, or an error that
//  kills the batch (JOBD_ECORRUPT: an entry that does not fit the layout).
int jobd_store_timer_take (jobd_store_t *self, int64_t now, size_t max, jobd_store_timer_t *timers,
                           size_t *count_p);

//  In the open batch: fires a `retry` timer taken by jobd_store_timer_take (the one a
//  retry.plan armed): the job, still in RETRY_WAIT in the timer's attempt, starts its next
//  attempt, RETRY_WAIT -> QUEUED with attempt + 1 (src JOBD_STORE_SOURCE_RETRY), like a retry
//  with `now`. Returns 0 with result (outcome CHANGED, one transition), JOBD_ESTATE (the job
//  moved on: nothing written), JOBD_EPROTO (a value this jobd cannot read), JOBD_ENOTFOUND,
//  JOBD_ECORRUPT, or an error that killed the batch.
int jobd_store_retry_fire (jobd_store_t *self, const jobd_store_timer_t *timer,
                           jobd_apply_result_t *result);

//  Names a new job (docs/cluster.md, section 3): writes its id into id (size bytes), from the
//  backend id (backend, ext) it is created with, or for a submission (ext NULL) from nothing.
//  Returns 0 or an error that refuses the event.
typedef int (jobd_store_id_fn) (const char *backend, const char *ext, char *id, size_t size,
                                void *arg);

//  Sets the id function (NULL: the store's counter, job-1, job-2, ...). Call before the first
//  batch.
void jobd_store_set_id_fn (jobd_store_t *self, jobd_store_id_fn *fn, void *arg);

//  The partition of a job (docs/cluster.md, section 3): its timers are keyed under it. Called
//  with the job id on the writer's thread. Without one (the single instance), every job is in
//  partition 0.
typedef uint16_t (jobd_store_partition_fn) (const char *id, void *arg);

//  Sets the partition function (NULL: every job in partition 0). Call before the first batch.
void jobd_store_set_partition_fn (jobd_store_t *self, jobd_store_partition_fn *fn, void *arg);

//  Whether this instance acts on a partition: jobd_store_timer_take and jobd_store_timer_next
//  see the timers of those partitions only (a replica's others wait in the store), and
//  jobd_store_apply refuses an event for a job of another partition (JOBD_ENOTOWNER; a
//  submission gets an id of an owned partition).
typedef bool (jobd_store_owned_fn) (uint16_t partition, void *arg);

//  Sets the owned function (NULL: every partition, the single instance) and re-reads the first
//  due time. Outside a batch, on the writer's thread. Returns 0 or a read error.
int jobd_store_set_owned_fn (jobd_store_t *self, jobd_store_owned_fn *fn, void *arg);

//  Returns the first due time of the committed timers (ms since the epoch; 0: none). Kept in
//  memory by the write path (it may be early after a transition removed that timer: a take then
//  finds nothing). The writer's thread only.
int64_t jobd_store_timer_next (jobd_store_t *self);

//  Reads up to max timers of one job (committed), in name order. Returns 0 or an error.
int jobd_store_timer_list (jobd_store_t *self, const char *job, jobd_store_timer_t *timers,
                           size_t max, size_t *count_p);

//  In the open batch: flags the job stale with reason (the record's `stale` and `stale_at`)
//  when it is still in state and not flagged yet; *job_p is the batch's copy (borrowed until
//  the batch ends). Returns 0, JOBD_ESTATE (it moved on, or is flagged already: nothing
//  written), JOBD_ENOTFOUND, or an error that kills the batch.
int jobd_store_stale_set (jobd_store_t *self, const char *id, jobd_state_t state,
                          const char *reason, const jobd_job_t **job_p);

//  In the open batch: clears the job's stale flag while it is still in state and flagged (its
//  source spoke again after a freshness deadline). Returns 0, JOBD_ESTATE (nothing written),
//  JOBD_ENOTFOUND, or an error that kills the batch.
int jobd_store_stale_clear (jobd_store_t *self, const char *id, jobd_state_t state);

//  In the open batch: the batch's copy of job id (borrowed until the batch ends), as the batch
//  has it so far. Returns 0, JOBD_ENOTFOUND, JOBD_ECORRUPT, or another error.
int jobd_store_batch_job (jobd_store_t *self, const char *id, const jobd_job_t **job_p);

//  Reads how many jobs are flagged stale (committed). Returns 0 or an error.
int jobd_store_stale_count (jobd_store_t *self, uint64_t *count_p);

//  Returns the folder the store lives in (borrowed, valid until destroy).
const char *jobd_store_path (jobd_store_t *self);

#ifdef __cplusplus
}
#endif
#endif
