//  The store's insides, shared by its files. Not part of the store's API: nothing outside store/
//  includes it. The files form a tree (tests/module_cycles.sh checks it): the environment
//  (jobd_store.c) calls the write path (jobd_store_write.c), which calls the transition log
//  (jobd_store_log.c) and stream positions (jobd_store_stream.c); every file may call the
//  leaves below (lookups, checksums, damage reports, LMDB helpers), and no leaf calls back.
#ifndef JOBD_STORE_INTERNAL_H_INCLUDED
#define JOBD_STORE_INTERNAL_H_INCLUDED

#include "jobd_cl_msg.h"
#include "jobd_store.h"
#include <czmq.h>
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

struct _jobd_store_t {
    MDB_env *env;
    MDB_dbi meta;       //  "format" -> be32, "next_id", "log_next", "cursor/NAME" -> be64
    MDB_dbi jobs;       //  job id -> job record (msgpack)
    MDB_dbi history;    //  job id, 0, be64 seq -> transition event (msgpack)
    MDB_dbi by_state;   //  1 byte state -> job ids (dupsort)
    MDB_dbi by_ext;     //  backend, 0, ext -> job id
    MDB_dbi by_updated; //  be64 updated_at, job id -> empty (format 5)
    MDB_dbi log;        //  be64 log position -> history key (job id, 0, be64 seq) of a transition
    MDB_dbi timers;     //  be16 partition, be64 due, job id, 0, name -> the timer's value
    MDB_dbi timers_by_job; //  job id, 0, name -> be16 partition, be64 due
    MDB_dbi cl_plog;       //  be16 partition, be64 changelog offset -> history key (format 6)
    MDB_dbi cl_pending;    //  job id -> be64 epoch, be64 seq published here (format 6)
    bool has_cluster;      //  cl_plog and cl_pending exist (a read-only format 5 has none)
    jobd_store_partition_fn *partition_fn; //  a job's partition (NULL: 0)
    void *partition_arg;
    jobd_store_owned_fn *owned_fn; //  the partitions this instance acts on (NULL: all)
    void *owned_arg;
    jobd_store_id_fn *id_fn; //  names new jobs (NULL: job-<counter>)
    void *id_arg;
    bool replicated;    //  cluster mode: a transition joins the log when the changelog confirms it
    bool acting;        //  in jobd_store_apply: a job of a partition not owned is refused
    bool has_timers;    //  the timer databases exist (a read-only older store has none)
    int64_t timer_next; //  the first due time, as committed (0: no timer)
    int64_t timer_batch_min;   //  the earliest timer the open batch armed (0: none)
    bool timer_took;           //  the open batch took due timers
    jobd_store_arm_fn *arm_fn; //  arms a job's timers for the state it enters, or NULL
    void *arm_arg;
    int64_t stale_delta; //  stale flags the open batch set, minus those it cleared
    bool retry_forward;  //  a plain retry of a failed job goes to the retry plugin
    bool has_log;        //  the log database exists (a read-only format 1 store has none)
    bool has_order;      //  by_updated exists (a read-only store older than format 5 has none)
    bool summed;         //  format 3 or later: every job record ends with its checksum
    bool logging;        //  a cursor exists: every transition is logged
    bool log_stopped;    //  the open batch dropped the last cursor (logging resumes on abort)
    uint64_t log_next;   //  the next log position, in the open batch
    uint64_t log_saved;  //  the next log position, as committed
    MDB_txn *txn;        //  the open batch, or NULL
    int failed;          //  the open batch's fatal error: an apply failed after it had written
    unsigned writes;     //  puts and deletes the open batch made while applying
    uint64_t next_id;    //  the next job number, in the open batch (0: not read yet)
    bool next_id_dirty;  //  taken from in the open batch: written to meta at commit
    char *path;
    //  Growing the map (mdb_env_set_mapsize) needs no transaction open in the process: readers
    //  hold map_lock shared for their transaction, the grower exclusive.
    pthread_rwlock_t map_lock;
    atomic_bool grow_pending;        //  a grower waits: new readers (not nested ones) wait for it
    size_t map_max;                  //  the largest the map may grow to (0: it does not grow)
    bool grow_next;                  //  a batch found the map full: grow before the next one
    jobd_store_damage_fn *notice_fn; //  says the map grew (one line), or NULL
    void *notice_arg;
    pthread_mutex_t damage_lock; //  the damage report: any reader's thread
    jobd_store_damage_fn *damage_fn;
    void *damage_arg;
    uint64_t damage_count;
    uint64_t damage_held;    //  reports held back since the last line
    int64_t damage_last_ms;  //  when the last line went out (0: never)
    msgpack_sbuffer scratch; //  the write path's packing buffer, reused
    zhashx_t *batch_jobs;    //  job id -> the batch's copy of each job it touched
    zhashx_t *batch_streams; //  stream -> the batch's last position applied from it
};

//  Longest by_ext key: backend, 0, ext.
#define JOBD_STORE_EXT_KEY_MAX (2 * JOBD_ID_MAX + 1)

//  Reports damage (rc JOBD_ECORRUPT) met doing what (printf-style) to the damage function,
//  rate-limited (jobd_store_damage.c). Returns rc, whatever it is.
int jobd_store_damaged (jobd_store_t *self, int rc, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Record checksums (jobd_store_sum.c): CRC32C, 4 bytes big-endian after the msgpack bytes.
#define JOBD_STORE_SUM_SIZE 4

//  Returns the CRC32C of size bytes at data.
uint32_t jobd_store_crc32c (const void *data, size_t size);

//  Checks a job record as read: sets *size_p to the size of its msgpack bytes. Returns 0, or
//  JOBD_ECORRUPT when its checksum does not match (a record without one is read as it is in a
//  store older than format 3).
int jobd_store_record (jobd_store_t *self, const MDB_val *value, size_t *size_p);

//  Appends the checksum of buffer's bytes to buffer. Returns 0 or -ENOMEM.
int jobd_store_sum_append (msgpack_sbuffer *buffer);

//  Gives every job record in txn its checksum (the upgrade to format 3). Returns 0 or an LMDB
//  error.
int jobd_store_sum_upgrade (jobd_store_t *self, MDB_txn *txn);

//  LMDB helpers (jobd_store_mdb.c). Maps an LMDB return code into jobd's range (MDB_NOTFOUND:
//  JOBD_ENOTFOUND).
int jobd_store_mdb_error (int rc);

//  Returns an MDB_val over size bytes at data (borrowed).
MDB_val jobd_store_val (const void *data, size_t size);

//  Writes value as size bytes, big-endian, to out.
void jobd_store_put_be (uint8_t *out, size_t size, uint64_t value);

//  Reads size bytes at in as a big-endian number.
uint64_t jobd_store_get_be (const uint8_t *in, size_t size);

//  Lookups (jobd_store_lookup.c). Reads and decodes the job id in txn. Returns 0 and sets *job_p
//  (fresh), JOBD_ENOTFOUND, JOBD_ECORRUPT (the record does not decode), or another negative error.
int jobd_store_job_load (jobd_store_t *self, MDB_txn *txn, const char *id, jobd_job_t **job_p);

//  Looks up the job with this backend id in txn, into id (NUL-terminated, id_size >
//  JOBD_ID_MAX). Returns 0, JOBD_ENOTFOUND, JOBD_ECORRUPT, or another negative error.
int jobd_store_ext_lookup (jobd_store_t *self, MDB_txn *txn, const char *backend, const char *ext,
                           char *id, size_t id_size);

//  Fills buffer (JOBD_STORE_EXT_KEY_MAX bytes) with the by_ext key (backend, 0, ext); returns its
//  size, or 0 when the pair cannot be a key (no ext, or a string over its limit).
size_t jobd_store_ext_key (char *buffer, const char *backend, const char *ext);

//  The transitions (jobd_store_move.c): the open batch's jobs and the one way a job changes
//  state, for the write path and the retries. Creates the open batch's tables (jobs and stream
//  positions). Returns 0 or -ENOMEM (then destroying the store frees what was made).
int jobd_store_batch_init (jobd_store_t *self);

//  The batch's copy of job id, loaded on first use: borrowed, valid until the batch ends.
//  Returns 0, JOBD_ENOTFOUND, JOBD_ECORRUPT, or another negative error.
int jobd_store_batch_get (jobd_store_t *self, const char *id, jobd_job_t **job_p);

//  Adds a new job to the batch, which takes it over (also on failure), marked to be written.
int jobd_store_batch_add (jobd_store_t *self, jobd_job_t **job_p);

//  Replaces the batch's copy of a job (loaded with jobd_store_batch_get first, or a job new to
//  the store) by *job_p, which it takes over (also on failure): its backend id index entry
//  follows now, its record, state and order entries at commit, the stale count with them.
//  Returns 0 or an error that kills the batch.
int jobd_store_batch_replace (jobd_store_t *self, jobd_job_t **job_p);

//  Removes job id's record and its index entries (state, backend id, order) in the open batch,
//  and drops the batch's copy of it: its history and timers are the caller's. Returns 0,
//  JOBD_ENOTFOUND, or an error.
int jobd_store_batch_remove (jobd_store_t *self, const char *id);

//  Called for each job the open batch changed: job is the batch's copy (borrowed), stored_seq
//  its last_seq before the batch (0: new). Returns 0, or an error that stops the walk.
typedef int (jobd_store_batch_fn) (jobd_store_t *self, jobd_job_t *job, uint64_t stored_seq,
                                   void *arg);

//  Walks the jobs the open batch changed. Returns 0 or the first error of fn.
int jobd_store_batch_each (jobd_store_t *self, jobd_store_batch_fn *fn, void *arg);

//  Marks the batch's copy of job to be written at commit.
void jobd_store_batch_dirty (jobd_store_t *self, const jobd_job_t *job);

//  Writes the batch's changed jobs: each record once, each state index entry once. Inside the
//  open batch, before commit.
int jobd_store_batch_save (jobd_store_t *self);

//  Sets the job's backend id and its index entry (replacing the old one); ext NULL keeps it. A
//  job submitted without a backend takes the one that first gives it a backend id.
int jobd_store_set_ext (jobd_store_t *self, jobd_job_t *job, const char *backend, const char *ext);

//  Starts the job's next attempt (before its move RETRY_WAIT -> QUEUED): the old backend id,
//  times and retry_final must not reach it. Returns 0 or an error that kills the batch.
int jobd_store_new_attempt (jobd_store_t *self, jobd_job_t *job);

//  Keeps the backend's links that the event gives (app id, UI, driver log); the ones it leaves
//  out stay as they were. Returns 0 or -ENOMEM.
int jobd_store_links_note (jobd_job_t *job, const jobd_event_t *event);

//  Moves job (the batch's copy) to state `to` because of cause: checks the move with the state
//  machine, updates the record, removes the job's timers and arms the new state's, appends the
//  history entry and the encoded transition to result. Returns JOBD_ESTATE, before changing
//  anything, when the state machine refuses; 0; or another error after which the batch is dead.
int jobd_store_move (jobd_store_t *self, jobd_job_t *job, jobd_state_t to,
                     const jobd_event_t *cause, jobd_apply_result_t *result);

//  A read transaction (jobd_store_mdb.c): begins one under the map lock, shared (adopting a
//  map another process grew). Returns 0, or an error with *txn_p NULL and the lock not held.
int jobd_store_read_begin (jobd_store_t *self, MDB_txn **txn_p);

//  Reads meta key name (a be64) in txn into *value_p: 0, JOBD_ENOTFOUND, JOBD_ECORRUPT (not 8
//  bytes), or another error.
int jobd_store_meta_u64 (jobd_store_t *self, MDB_txn *txn, const char *name, uint64_t *value_p);
//  The same with a key of size bytes (which may hold zeros).
int jobd_store_meta_get (jobd_store_t *self, MDB_txn *txn, const void *key, size_t size,
                         uint64_t *value_p);
//  In the open batch: puts value (be64) under meta key (size bytes). Returns 0 or an error.
int jobd_store_meta_put (jobd_store_t *self, const void *key, size_t size, uint64_t value);
//  In the open batch: deletes meta key (size bytes); 0 also when it was not there.
int jobd_store_meta_del (jobd_store_t *self, const void *key, size_t size);

//  Ends a read transaction begun by jobd_store_read_begin (NULL: nothing).
void jobd_store_read_end (jobd_store_t *self, MDB_txn *txn);

//  Before a write batch: grows the map when it is three quarters used or the last batch found
//  it full, up to map_max. Returns 0 or an error.
int jobd_store_map_grow (jobd_store_t *self);

//  The order index by_updated (jobd_store_order.c). Opens it in txn (creating it when
//  writable). Returns 0 or an LMDB error.
int jobd_store_order_open (jobd_store_t *self, MDB_txn *txn, bool writable);

//  In the open batch: moves job id's entry from updated_at `before` (0: none) to `after` (0:
//  none). Returns 0 or an error.
int jobd_store_order_move (jobd_store_t *self, const char *id, int64_t before, int64_t after);

//  Puts every job's entry in txn (a store upgraded to format 5). Returns 0 or an LMDB error.
int jobd_store_order_build (jobd_store_t *self, MDB_txn *txn);

//  Steps cursor (on by_updated) to the next entry in the order: the first after (after,
//  after_id) when first (after_id NULL: from the newest when descending, else the oldest), else
//  the one after the cursor's. Sets *id_p to its job id (in the map). Returns 0, MDB_NOTFOUND
//  at the end, JOBD_ECORRUPT for an entry that cannot be a key, or an LMDB error.
int jobd_store_order_read (MDB_cursor *cursor, bool descending, int64_t after, const char *after_id,
                           bool first, MDB_val *id_p);

//  The transition log (jobd_store_log.c). Opens its database in txn (creating it when writable)
//  and reads its position and whether any cursor exists. Returns 0 or an LMDB error.
int jobd_store_log_open (jobd_store_t *self, MDB_txn *txn, bool writable);

//  Logs the transition whose history key is key (when logging). Inside the open batch.
int jobd_store_log_append (jobd_store_t *self, const void *key, size_t key_size);

//  Writes the log position, when the batch moved it. Inside the open batch, before commit.
int jobd_store_log_save (jobd_store_t *self);

//  The batch ended: committed or not.
void jobd_store_log_end (jobd_store_t *self, bool committed);

//  Stream positions (jobd_store_stream.c). Sets *replay_p when the event's position in its
//  stream is not past the last one applied (the event then applies nothing).
int jobd_store_stream_check (jobd_store_t *self, const jobd_event_t *event, const char *job,
                             bool *replay_p);

//  Records the event's position as its stream's last, for the commit.
int jobd_store_stream_advance (jobd_store_t *self, const jobd_event_t *event, const char *job);

//  Writes the batch's stream positions. Inside the open batch, before commit.
int jobd_store_stream_save (jobd_store_t *self);

//  The batch ended: its positions are forgotten (written, or not).
void jobd_store_stream_end (jobd_store_t *self);

//  Applies a cursor event: records the reader's position and drops the entries every reader is
//  done with. Returns 0, JOBD_ESTATE (a position past the log's head), or a write error.
int jobd_store_cursor_apply (jobd_store_t *self, const jobd_event_t *event);

//  Retries (jobd_store_retry.c). Applies a `retry` command to job (the batch's copy): now, stop,
//  or neither (forwarded while the retry plugin runs). Returns 0, JOBD_ESTATE (result->reason
//  says why, when it can help), or an error that kills the batch.
int jobd_store_retry_apply (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
                            jobd_apply_result_t *result);

//  Applies a `retry.plan` to job (the batch's copy): RETRY_WAIT with its timer, or final.
//  Returns 0 (outcome CHANGED, or DUPLICATE: nothing written) or an error that kills the batch.
int jobd_store_retry_plan (jobd_store_t *self, jobd_job_t *job, const jobd_event_t *event,
                           jobd_apply_result_t *result);

//  Timers (jobd_store_timer.c). Opens their databases in txn (creating them when writable) and
//  reads the first due time. Returns 0 or an LMDB error.
int jobd_store_timer_open (jobd_store_t *self, MDB_txn *txn, bool writable);

//  Removes the job's timer name (NULL: all of the job's timers) in the open batch. Returns 0 or
//  an error that kills the batch.
int jobd_store_timers_clear (jobd_store_t *self, const char *job, const char *name);

//  The batch ended: committed or not. Updates the cached first due time.
void jobd_store_timer_end (jobd_store_t *self, bool committed);

//  In the open batch: puts the job's timer name in partition (jobd_store_timer_set, with the
//  partition given: the replica apply's). Returns 0, JOBD_EPROTO, or an error that kills the batch.
int jobd_store_timer_put (jobd_store_t *self, uint16_t partition, const char *job, const char *name,
                          int64_t due, const void *value, size_t size);

//  Rewrites the timers of a format 5 store in txn with partition 0 (the upgrade to format 6).
//  Returns 0 or an LMDB error.
int jobd_store_timer_upgrade (jobd_store_t *self, MDB_txn *txn);

//  Returns the partition of job id (the partition function's; 0 without one).
uint16_t jobd_store_partition (jobd_store_t *self, const char *job);

//  Whether this instance acts on job's partition (no owned function: on every one).
bool jobd_store_owns (jobd_store_t *self, const char *job);

//  The cluster's databases (jobd_store_cl.c). Opens cl_plog and cl_pending in txn (creating them
//  when writable). Returns 0 or an LMDB error.
int jobd_store_cl_open (jobd_store_t *self, MDB_txn *txn, bool writable);

//  A job's cl_pending entry: the epoch of this instance's last unconfirmed write of it, and the
//  last seq published here (what the changelog confirmed).
typedef struct {
    bool exists;
    uint64_t epoch;
    uint64_t published;
} jobd_store_pending_t;

//  Reads job id's cl_pending entry in txn into *pending (exists false: none). Returns 0 or an
//  error.
int jobd_store_cl_pending_get (jobd_store_t *self, MDB_txn *txn, const char *id,
                               jobd_store_pending_t *pending);

//  Calls fn for each cl_pending entry in txn, in id order, until it returns an error. Returns 0,
//  fn's error, or JOBD_ECORRUPT (an entry of the wrong size).
typedef int (jobd_store_pending_fn) (jobd_store_t *self, const char *id,
                                     const jobd_store_pending_t *pending, void *arg);
int jobd_store_cl_pending_each (jobd_store_t *self, MDB_txn *txn, jobd_store_pending_fn *fn,
                                void *arg);

//  Puts history entry msg (an EV message) in the open batch, unless it is there byte for byte
//  (*changed_p false). Returns 0 or an error.
int jobd_store_cl_entry_put (jobd_store_t *self, const jobd_cl_msg_t *msg, bool *changed_p);

//  Deletes the job's history entries past seq in the open batch: a zombie's tail that the
//  changelog never took (seq 0: all of them). Returns 0 or an error.
int jobd_store_cl_tail_delete (jobd_store_t *self, const char *job, uint64_t seq);

//  In the open batch: job msg->job (whose record in the batch is local, NULL: none) becomes the
//  changelog record msg, of partition: its record (with msg's epoch), its history past the
//  record's last_seq deleted, its timers msg's. *changed_p: whether anything was written.
//  Returns 0 or an error that kills the batch.
int jobd_store_cl_take (jobd_store_t *self, uint16_t partition, const jobd_job_t *local,
                        const jobd_cl_msg_t *msg, bool *changed_p);

//  The repair marks (jobd_store_repair.c; docs/cluster.md section 5, "As built: the repair").
//  Reads how many marks partition has in txn (0: none). Returns 0 or an error.
int jobd_store_repair_count (jobd_store_t *self, MDB_txn *txn, uint16_t partition,
                             uint64_t *count_p);
//  In the open batch: sets partition's count of marks (0 deletes it). Returns 0 or an error.
int jobd_store_repair_count_put (jobd_store_t *self, uint16_t partition, uint64_t count);
//  In the open batch: msg, fenced, left its key's last value invalid: marks the key (a job's
//  with the lowest history seq to write again), *count_p counting a new mark, *marked_p set
//  when a mark was written. Returns 0 or an error.
int jobd_store_repair_fenced (jobd_store_t *self, uint16_t partition, const jobd_cl_msg_t *msg,
                              uint64_t *count_p, bool *marked_p);
//  In the open batch: msg, valid, makes its key's last value valid again: its mark moves on or
//  goes (*count_p counting it). Returns 0 or an error.
int jobd_store_repair_valid (jobd_store_t *self, uint16_t partition, const jobd_cl_msg_t *msg,
                             uint64_t *count_p);
//  Calls fn for each mark of partition in txn, in key order: its kind ('j' a job, 'm' a
//  partition record), the job id or the changelog key (size bytes, not terminated), and its
//  value (j: the lowest history seq to write again, UINT64_MAX: the record only). fn returns
//  JOBD_STORE_REPAIR_DROP to delete the mark (txn: the open batch's), counted in *dropped_p, or
//  JOBD_STORE_REPAIR_RECORD to make a job's mark the record's only. Returns 0, fn's error, or an
//  error.
#define JOBD_STORE_REPAIR_DROP   1
#define JOBD_STORE_REPAIR_RECORD 2
typedef int (jobd_store_repair_fn) (jobd_store_t *self, char kind, const uint8_t *key, size_t size,
                                    uint64_t from, void *arg);
int jobd_store_repair_each (jobd_store_t *self, MDB_txn *txn, uint16_t partition,
                            jobd_store_repair_fn *fn, void *arg, uint64_t *dropped_p);

//  Longest timers key: be16 partition, be64 due, job id, 0, name.
#define JOBD_STORE_TIMER_KEY_MAX (2 + 8 + JOBD_ID_MAX + 1 + JOBD_STORE_TIMER_NAME_MAX)

#endif
