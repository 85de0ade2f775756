//  kafka-listener: positions in flight to Kafka (see kl_outbox.h). A ring of flags, one per
//  position in flight, indexed by position modulo its size.
#include "kl_outbox.h"
#include <stdlib.h>

struct _kl_outbox_t {
    uint64_t done_upto; //  every position up to here is delivered
    uint64_t sent_upto; //  every position up to here was handed to the producer
    uint8_t delivered[KL_OUTBOX_MAX];
};

kl_outbox_t *
kl_outbox_new (uint64_t start)
{
    kl_outbox_t *self = (kl_outbox_t *)calloc (1, sizeof (kl_outbox_t));
    if (self)
        self->done_upto = self->sent_upto = start;
    return self;
}

void
kl_outbox_destroy (kl_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

uint64_t
kl_outbox_sent_upto (const kl_outbox_t *self)
{
    return self->sent_upto;
}

size_t
kl_outbox_room (const kl_outbox_t *self)
{
    return KL_OUTBOX_MAX - (size_t)(self->sent_upto - self->done_upto);
}

bool
kl_outbox_sent (kl_outbox_t *self, uint64_t position)
{
    if (position != self->sent_upto + 1 || kl_outbox_room (self) == 0)
        return false;
    self->delivered[position % KL_OUTBOX_MAX] = 0;
    self->sent_upto = position;
    return true;
}

bool
kl_outbox_skip_to (kl_outbox_t *self, uint64_t position)
{
    if (position <= self->sent_upto + 1 || self->done_upto != self->sent_upto)
        return false;
    self->done_upto = self->sent_upto = position - 1;
    return true;
}

bool
kl_outbox_done (kl_outbox_t *self, uint64_t position)
{
    if (position <= self->done_upto || position > self->sent_upto)
        return false;
    self->delivered[position % KL_OUTBOX_MAX] = 1;
    while (self->done_upto < self->sent_upto &&
           self->delivered[(self->done_upto + 1) % KL_OUTBOX_MAX])
        self->done_upto++;
    return true;
}

uint64_t
kl_outbox_done_upto (const kl_outbox_t *self)
{
    return self->done_upto;
}
