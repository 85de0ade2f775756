//  retry: per-backend resubmission slots (rt_slots.h). Each backend has an array of counts, one
//  per second from `base` (the oldest second still ahead); seconds that passed are dropped.
#include "rt_slots.h"
#include <czmq.h>

#define S_SECONDS_MAX (30 * 86400) //  ahead: a due past that is not counted

typedef struct {
    int64_t base;     //  the second counts[0] is for
    uint32_t *counts; //  retries starting in each second
    size_t size;      //  seconds allocated
    //  A run of seconds known full at full_rate: [full_from, full_until) (absolute seconds), so
    //  that a storm at a low rate does not scan the same full seconds for every retry.
    int64_t full_from, full_until, full_rate;
} s_backend_t;

struct rt_slots {
    zhashx_t *backends; //  name ("" for none) -> s_backend_t
};

static void
s_backend_destroy (void **item)
{
    s_backend_t *backend = (s_backend_t *)*item;
    if (backend) {
        free (backend->counts);
        free (backend);
    }
    *item = NULL;
}

rt_slots_t *
rt_slots_new (void)
{
    rt_slots_t *self = (rt_slots_t *)zmalloc (sizeof (rt_slots_t));
    self->backends = zhashx_new ();
    zhashx_set_destructor (self->backends, s_backend_destroy);
    return self;
}

void
rt_slots_destroy (rt_slots_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->backends);
    free (*self_p);
    *self_p = NULL;
}

//  Backend name's counts with the seconds before now's dropped; created when create is set.
static s_backend_t *
s_backend (rt_slots_t *self, const char *name, int64_t now, bool create)
{
    s_backend_t *backend = (s_backend_t *)zhashx_lookup (self->backends, name ? name : "");
    if (!backend && create) {
        backend = (s_backend_t *)zmalloc (sizeof (s_backend_t));
        backend->base = now / 1000;
        zhashx_insert (self->backends, name ? name : "", backend);
    }
    int64_t second = now / 1000;
    if (backend && second > backend->base) {
        size_t passed = (size_t)(second - backend->base);
        if (passed >= backend->size)
            memset (backend->counts, 0, backend->size * sizeof (uint32_t));
        else {
            memmove (backend->counts, backend->counts + passed,
                     (backend->size - passed) * sizeof (uint32_t));
            memset (backend->counts + backend->size - passed, 0, passed * sizeof (uint32_t));
        }
        backend->base = second;
    }
    return backend;
}

//  The count of second index (from base), growing the array; NULL past S_SECONDS_MAX.
static uint32_t *
s_count (s_backend_t *backend, int64_t index)
{
    if (index < 0 || index >= S_SECONDS_MAX)
        return NULL;
    if ((size_t)index >= backend->size) {
        size_t size = backend->size ? backend->size : 64;
        while (size <= (size_t)index)
            size *= 2;
        uint32_t *counts = (uint32_t *)realloc (backend->counts, size * sizeof (uint32_t));
        if (!counts)
            return NULL;
        memset (counts + backend->size, 0, (size - backend->size) * sizeof (uint32_t));
        backend->counts = counts;
        backend->size = size;
    }
    return &backend->counts[index];
}

int64_t
rt_slots_take (rt_slots_t *self, const char *name, int64_t rate, int64_t due, int64_t now)
{
    s_backend_t *backend = s_backend (self, name, now, true);
    int64_t index = due / 1000 - backend->base;
    if (index < 0)
        index = 0;
    int64_t first = backend->base + index, second = first;
    bool same = rate > 0 && rate == backend->full_rate;
    uint32_t *count;
    while (true) {
        if (same && second >= backend->full_from && second < backend->full_until)
            second = backend->full_until; //  known full: skipped at once
        count = s_count (backend, second - backend->base);
        if (!count || rate <= 0 || *count < (uint64_t)rate)
            break;
        second++;
    }
    if (!count)
        return due;
    //  [first, second) was full: joined to the run when they touch, else kept when longer.
    if (same && first <= backend->full_until && second >= backend->full_from) {
        backend->full_from = first < backend->full_from ? first : backend->full_from;
        backend->full_until = second > backend->full_until ? second : backend->full_until;
    } else if (rate > 0 && second - first > backend->full_until - backend->full_from) {
        backend->full_rate = rate;
        backend->full_from = first;
        backend->full_until = second;
    }
    index = second - backend->base;
    //  A retry moved to a later second takes its place in it: the n-th of that second starts
    //  n/rate into it, so that the moved ones do not all start at once, on the second.
    int64_t start = (backend->base + index) * 1000;
    if (rate > 0 && start > due)
        start += (int64_t)*count * 1000 / rate;
    (*count)++;
    return start > due ? start : due;
}

void
rt_slots_count (rt_slots_t *self, const char *name, int64_t due, int64_t now)
{
    s_backend_t *backend = s_backend (self, name, now, true);
    uint32_t *count = s_count (backend, due / 1000 - backend->base);
    if (count)
        (*count)++;
}

void
rt_slots_give (rt_slots_t *self, const char *name, int64_t due, int64_t now)
{
    s_backend_t *backend = s_backend (self, name, now, false);
    uint32_t *count = backend ? s_count (backend, due / 1000 - backend->base) : NULL;
    if (count && *count)
        (*count)--;
    //  A second in the full run has room again: the run ends there.
    int64_t second = due / 1000;
    if (backend && second >= backend->full_from && second < backend->full_until)
        backend->full_until = second;
}

size_t
rt_slots_pending (rt_slots_t *self, int64_t now)
{
    size_t pending = 0;
    for (s_backend_t *backend = (s_backend_t *)zhashx_first (self->backends); backend;
         backend = (s_backend_t *)zhashx_next (self->backends)) {
        int64_t skip = now / 1000 - backend->base;
        for (size_t index = skip > 0 ? (size_t)skip : 0; index < backend->size; index++)
            pending += backend->counts[index];
    }
    return pending;
}

uint32_t
rt_slots_at (rt_slots_t *self, const char *name, int64_t at)
{
    s_backend_t *backend = (s_backend_t *)zhashx_lookup (self->backends, name ? name : "");
    int64_t index = backend ? at / 1000 - backend->base : -1;
    return index >= 0 && (size_t)index < backend->size ? backend->counts[index] : 0;
}
