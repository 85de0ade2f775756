//  The admin protocol's answers to queries (ls, show, stats, plugins, cursors): packed by the
//  core from the store and its tables, read by jobctl and any client. Each answer is a reply map
//  (jobd_reply.h) with the answer's keys after the head. proto/README.md, section 12.
#ifndef JOBD_ANSWER_H_INCLUDED
#define JOBD_ANSWER_H_INCLUDED

#include "jobd_event.h"
#include "jobd_job.h"
#include "jobd_state.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The bounds of the commit histograms: durations in ms, batch sizes in events.
#define JOBD_STATS_DURATIONS 10
#define JOBD_STATS_SIZES     7
static const double jobd_stats_duration_ms[JOBD_STATS_DURATIONS] = {1,  2.5, 5,   10,  25,
                                                                    50, 100, 250, 500, 1000};
static const double jobd_stats_size[JOBD_STATS_SIZES] = {1, 4, 16, 64, 256, 1024, 4096};

//  The broker's counters, monotonic since start: the stats answer's "broker" map, in this order.
typedef struct {
    uint64_t received;    //  messages received on the bus and the admin endpoint
    uint64_t rejected;    //  messages refused (malformed, oversized, unknown job, bad command)
    uint64_t applied;     //  events that produced transitions
    uint64_t transitions; //  transitions committed and published
    uint64_t duplicates;  //  observations repeating the current state
    uint64_t backward;    //  observations the state machine refused
    uint64_t old_attempt; //  observations of an earlier attempt
    uint64_t replayed;    //  observations at or before their stream's last position
    uint64_t forwarded; //  cancels handed to the job's backend plugin, retries to the retry plugin
    uint64_t commits;   //  write transactions committed
    uint64_t commit_failures;
    uint64_t queries;          //  admin queries answered
    uint64_t internal_refused; //  internal events (plugin.status, cursor, ...) refused from the
                               //  admin endpoint (also counted in rejected)
    int64_t started_at;        //  ms since the epoch
    //  Deadlines (issue 13; appended).
    uint64_t stale_published; //  stale events published (each job once per state entered)
    uint64_t stale;           //  jobs flagged stale now (from the store, not a counter)
    //  Retries (issue 14; appended).
    uint64_t retry_planned; //  retry.plan RETRY_WAIT applied: a next attempt scheduled
    uint64_t retry_fired;   //  retry timers that started a next attempt (RETRY_WAIT -> QUEUED)
    uint64_t retry_final;   //  retry.plan FAILED applied: no retry follows
    //  Commits and the store (issue 16; appended): not in the "broker" map but in the stats
    //  answer's "commits" and "store" maps (proto/README.md, section 12).
    uint64_t commit_duration[JOBD_STATS_DURATIONS + 1]; //  batch commits that took at most
                                                        //  jobd_stats_duration_ms[i]; last: more
    uint64_t commit_us;                        //  microseconds spent in batch commits, in all
    uint64_t batch_size[JOBD_STATS_SIZES + 1]; //  batch commits of at most jobd_stats_size[i]
                                               //  events; last: more
    uint64_t batch_events;                     //  events in committed batches, in all
    uint64_t store_bytes;                      //  the store's pages in use, in bytes
    uint64_t store_map_bytes;                  //  its map size (core/map_size), in bytes
} jobd_stats_t;

//  Records one batch commit of events events that took us microseconds into stats.
void jobd_stats_commit (jobd_stats_t *stats, size_t events, int64_t us);

//  One plugin of the plugins answer. Strings borrowed; NULL packs "".
typedef struct {
    const char *name;
    const char *version;
    const char *status;
    const char *detail;
    const uint8_t *figures; //  its last figures (msgpack bytes of a checked array), or NULL:
    size_t figures_size;    //  packed as they are under "figures", left out when NULL
} jobd_answer_plugin_t;

//  One cursor of the cursors answer. name borrowed.
typedef struct {
    const char *name;
    uint64_t position;
    int64_t moved_at;  //  ms since the epoch; 0: not known
    int32_t partition; //  a cluster partition reader's (changelog offsets); -1: the log's
    uint64_t head;     //  partition readers: their partition's head (else the answer's head)
} jobd_answer_cursor_t;

//  Packs the ls answer: count job records, already packed one after the other into jobs_size
//  bytes at jobs (jobd_job_pack), copied as they are.
void jobd_answer_pack_ls (msgpack_packer *pk, const char *re, bool truncated, size_t count,
                          const void *jobs, size_t jobs_size);

//  Packs the show answer: job, then history[skipped .. count - 1] (skipped earlier ones are
//  counted in history_skipped, present when not 0).
void jobd_answer_pack_show (msgpack_packer *pk, const char *re, const jobd_job_t *job,
                            jobd_event_t *const *history, size_t count, size_t skipped);

//  Packs the stats answer: counts[state] for every state but NONE, and the broker's counters.
void jobd_answer_pack_stats (msgpack_packer *pk, const char *re,
                             const uint64_t counts[JOBD_STATE_COUNT], const jobd_stats_t *stats);

//  Packs the plugins answer, in the order given.
void jobd_answer_pack_plugins (msgpack_packer *pk, const char *re,
                               const jobd_answer_plugin_t *plugins, size_t count);

//  Packs the cursors answer: the log's head, whether cursors were left out, and each cursor
//  with how far behind head it is (a partition reader's: its partition's head; it also says
//  which partition).
void jobd_answer_pack_cursors (msgpack_packer *pk, const char *re, uint64_t head, bool truncated,
                               const jobd_answer_cursor_t *cursors, size_t count);

//  Reads an ls answer: *jobs_p (the array of job records, borrowed from reply; read each with
//  jobd_job_from_object) and *truncated_p. Returns 0, or JOBD_EPROTO when it has no jobs array.
int jobd_answer_read_ls (const msgpack_object *reply, const msgpack_object **jobs_p,
                         bool *truncated_p);

//  Reads a show answer: *job_p (fresh: destroy it), *history_p (the array of transition events,
//  borrowed from reply; read each with jobd_event_from_object) and *skipped_p (0 when absent).
//  Returns 0, or JOBD_EPROTO with a reason (and nothing to free).
int jobd_answer_read_show (const msgpack_object *reply, jobd_job_t **job_p,
                           const msgpack_object **history_p, uint64_t *skipped_p, char *reason,
                           size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
