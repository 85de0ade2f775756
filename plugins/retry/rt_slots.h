//  retry: per-backend resubmission slots, so that at most `rate` retries of one backend start in
//  any one second (a backend that just came back is not knocked over again). A cache of the
//  store: rebuilt at start from the RETRY_WAIT jobs' retry_at.
#ifndef RT_SLOTS_H_INCLUDED
#define RT_SLOTS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rt_slots rt_slots_t;

//  No slot taken. NULL when out of memory.
rt_slots_t *rt_slots_new (void);

//  Frees the slots; NULL-safe; sets *self_p to NULL.
void rt_slots_destroy (rt_slots_t **self_p);

//  Takes a slot of backend (NULL: jobs without one) for a retry due at due (ms) when now is now:
//  the first second from due's on with fewer than rate retries (rate 0: no limit, due's own).
//  Returns due when its own second has room; else the later second's start plus n/rate s for
//  the n-th retry it already holds (moved retries are spread over the second, not started at
//  once). A due more than 30 days ahead is counted in no second and returned as is.
int64_t rt_slots_take (rt_slots_t *self, const char *backend, int64_t rate, int64_t due,
                       int64_t now);

//  Counts a retry already planned at due (a RETRY_WAIT job found at start), without moving it.
void rt_slots_count (rt_slots_t *self, const char *backend, int64_t due, int64_t now);

//  Gives back a slot taken at due (a plan the broker did not apply).
void rt_slots_give (rt_slots_t *self, const char *backend, int64_t due, int64_t now);

//  Retries counted at now's second or later, over every backend.
size_t rt_slots_pending (rt_slots_t *self, int64_t now);

//  Retries counted in backend's second that holds at (for tests and the status).
uint32_t rt_slots_at (rt_slots_t *self, const char *backend, int64_t at);

#ifdef __cplusplus
}
#endif
#endif
