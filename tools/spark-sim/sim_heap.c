//  sim_heap: a binary min-heap of timed job events, so that time is applied lazily.
#include "sim.h"

#include <stdlib.h>

struct _sim_heap_t {
    sim_event_t *items;
    size_t size;
    size_t cap;
};

sim_heap_t *
sim_heap_new (void)
{
    return calloc (1, sizeof (sim_heap_t));
}

void
sim_heap_destroy (sim_heap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->items);
    free (*self_p);
    *self_p = NULL;
}

static void
s_swap (sim_event_t *a, sim_event_t *b)
{
    sim_event_t t = *a;
    *a = *b;
    *b = t;
}

void
sim_heap_push (sim_heap_t *self, sim_event_t event)
{
    if (self->size == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 1024;
        sim_event_t *items = realloc (self->items, cap * sizeof *items);
        if (!items)
            abort ();
        self->items = items;
        self->cap = cap;
    }
    size_t i = self->size++;
    self->items[i] = event;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (self->items[parent].time <= self->items[i].time)
            break;
        s_swap (&self->items[parent], &self->items[i]);
        i = parent;
    }
}

bool
sim_heap_pop_due (sim_heap_t *self, int64_t now, sim_event_t *event)
{
    if (self->size == 0 || self->items[0].time > now)
        return false;
    *event = self->items[0];
    self->items[0] = self->items[--self->size];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < self->size && self->items[l].time < self->items[m].time)
            m = l;
        if (r < self->size && self->items[r].time < self->items[m].time)
            m = r;
        if (m == i)
            break;
        s_swap (&self->items[m], &self->items[i]);
        i = m;
    }
    return true;
}

void
sim_heap_drain (sim_heap_t *self, void (*fn) (sim_job_t *job, void *arg), void *arg)
{
    for (size_t i = 0; i < self->size; i++)
        fn (self->items[i].job, arg);
    self->size = 0;
}
