//  kafka-listener: heartbeat deadlines. A RUNNING Kafka job that promised to report (by its kind's
//  deadline, or by the `heartbeat` of its own events) and stays silent past the deadline is
//  stale; silent for a grace more, it is lost. Pure bookkeeping on times the caller gives: no
//  clock, no sockets, so it is tested alone.
#ifndef KL_WATCH_H_INCLUDED
#define KL_WATCH_H_INCLUDED

#include "jobd_state.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct _kl_watch_t kl_watch_t;

typedef enum { KL_WATCH_STALE, KL_WATCH_LOST } kl_watch_verdict_t;

//  Called by kl_watch_check for each job that crossed a line: stale (once per silence), then
//  lost. last_heard and deadline are in ms.
typedef void (kl_watch_fn) (const char *job, kl_watch_verdict_t verdict, int64_t last_heard,
                            int64_t deadline, void *arg);

//  grace: how long a stale job may stay silent before it is lost.
kl_watch_t *kl_watch_new (int64_t grace);
void kl_watch_destroy (kl_watch_t **self_p);

//  The deadline of every job of kind (0: jobs of that kind promise nothing).
void kl_watch_set_kind (kl_watch_t *self, const char *kind, int64_t deadline);

//  A job's state as the broker committed it: RUNNING jobs with a deadline are watched from now,
//  others are not; a final state forgets the job, its own promise included.
void kl_watch_state (kl_watch_t *self, const char *job, const char *kind, jobd_state_t state,
                     int64_t now);

//  A sign of life from the job at now; promise > 0: the job's own deadline from now on.
void kl_watch_heard (kl_watch_t *self, const char *job, int64_t promise, int64_t now);

//  Reports what crossed a line at now. Returns ms until the next line (at most 1000).
int64_t kl_watch_check (kl_watch_t *self, int64_t now, kl_watch_fn *fn, void *arg);

//  True when the job has an entry (it was watched, or promised).
bool kl_watch_knows (kl_watch_t *self, const char *job);

//  True when no kind has a deadline and no job promised one: transitions can be ignored.
bool kl_watch_idle (kl_watch_t *self);

//  Jobs watched (RUNNING with a deadline) and stale ones, for status reports.
size_t kl_watch_size (kl_watch_t *self);
size_t kl_watch_stale (kl_watch_t *self);

#endif
