//  kafka-listener: the positions of the transition log handed to the producer and not yet
//  delivered. Positions are sent in order and delivered in any order (one partition per job);
//  the reader's cursor may move only over the contiguous run of delivered ones, so that a crash
//  resends what Kafka may not have, and never skips anything.
#ifndef KL_OUTBOX_H_INCLUDED
#define KL_OUTBOX_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KL_OUTBOX_MAX 65536 //  positions in flight at most

typedef struct _kl_outbox_t kl_outbox_t;

//  start: the last position already delivered (the cursor).
kl_outbox_t *kl_outbox_new (uint64_t start);
void kl_outbox_destroy (kl_outbox_t **self_p);

//  The last position sent, and how many more may be sent now.
uint64_t kl_outbox_sent_upto (const kl_outbox_t *self);
size_t kl_outbox_room (const kl_outbox_t *self);

//  Position was handed to the producer: it must be sent_upto + 1 and there must be room.
//  Returns false (and records nothing) otherwise.
bool kl_outbox_sent (kl_outbox_t *self, uint64_t position);

//  The log has no entries from sent_upto + 1 to position - 1 (jobd dropped them: the reader's
//  cursor was removed while it was behind): the next position sent is position. Only once
//  nothing is in flight, so that the run the cursor may move over stays contiguous. Returns
//  false (and records nothing) while something is in flight or when position leaves no gap.
bool kl_outbox_skip_to (kl_outbox_t *self, uint64_t position);

//  Kafka has position (or it was given up on). Returns false for a position not in flight.
bool kl_outbox_done (kl_outbox_t *self, uint64_t position);

//  The last position of the contiguous delivered run: where the cursor may go.
uint64_t kl_outbox_done_upto (const kl_outbox_t *self);

#endif
