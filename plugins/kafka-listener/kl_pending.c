//  kafka-listener: the messages waiting for the broker's answer (see kl_pending.h).
#include "kl_pending.h"
#include <stdlib.h>
#include <string.h>

struct _kl_pending_queue_t {
    kl_pending_t *entries; //  a ring of capacity entries
    size_t capacity;
    size_t head; //  the oldest
    size_t count;
};

kl_pending_queue_t *
kl_pending_queue_new (void)
{
    return (kl_pending_queue_t *)calloc (1, sizeof (kl_pending_queue_t));
}

void
kl_pending_queue_destroy (kl_pending_queue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->entries);
    free (*self_p);
    *self_p = NULL;
}

static kl_pending_t *
s_at (kl_pending_queue_t *self, size_t index)
{
    return &self->entries[(self->head + index) % self->capacity];
}

kl_pending_t *
kl_pending_queue_push (kl_pending_queue_t *self)
{
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 1024;
        kl_pending_t *entries = (kl_pending_t *)malloc (capacity * sizeof (kl_pending_t));
        if (!entries)
            return NULL;
        for (size_t index = 0; index < self->count; index++)
            entries[index] = *s_at (self, index);
        free (self->entries);
        self->entries = entries;
        self->capacity = capacity;
        self->head = 0;
    }
    kl_pending_t *entry = &self->entries[(self->head + self->count++) % self->capacity];
    memset (entry, 0, sizeof *entry);
    return entry;
}

kl_pending_t *
kl_pending_queue_answer (kl_pending_queue_t *self, const char *id, size_t *skipped)
{
    *skipped = 0;
    size_t index = 0;
    while (index < self->count && strcmp (s_at (self, index)->id, id) != 0)
        index++;
    if (index == self->count)
        return NULL;
    self->head = (self->head + index) % self->capacity;
    self->count -= index;
    *skipped = index;
    return s_at (self, 0);
}

void
kl_pending_queue_pop (kl_pending_queue_t *self)
{
    if (self->count == 0)
        return;
    self->head = (self->head + 1) % self->capacity;
    self->count--;
}

size_t
kl_pending_queue_size (const kl_pending_queue_t *self)
{
    return self->count;
}
