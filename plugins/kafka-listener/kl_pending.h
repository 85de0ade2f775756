//  kafka-listener: the consumed messages whose observations wait for the broker's answer, in
//  the order they were sent. The broker answers one sender's events in that order, so an answer
//  is nearly always for the oldest: a ring, without an allocation or a hash per message.
#ifndef KL_PENDING_H_INCLUDED
#define KL_PENDING_H_INCLUDED

#include "jobd_event.h"
#include <stddef.h>
#include <stdint.h>

//  A consumed message waiting for the broker's answer: its offset is committed after it.
typedef struct {
    char id[JOBD_ID_MAX + 1]; //  the observation's event id
    char topic[256];
    int32_t partition;
    int64_t offset;
} kl_pending_t;

typedef struct _kl_pending_queue_t kl_pending_queue_t;

kl_pending_queue_t *kl_pending_queue_new (void);
void kl_pending_queue_destroy (kl_pending_queue_t **self_p);

//  A new entry at the back, zeroed, for the caller to fill; NULL when out of memory.
kl_pending_t *kl_pending_queue_push (kl_pending_queue_t *self);

//  The entry answered by the reply to id, or NULL when none waits for it. Entries sent before it
//  that are still waiting never will be (the broker answers in order): they are dropped, and
//  *skipped says how many (the caller logs them).
kl_pending_t *kl_pending_queue_answer (kl_pending_queue_t *self, const char *id, size_t *skipped);

//  Removes the entry kl_pending_queue_answer returned: the oldest.
void kl_pending_queue_pop (kl_pending_queue_t *self);

size_t kl_pending_queue_size (const kl_pending_queue_t *self);

#endif
