//  kafka-listener: heartbeat deadlines (see kl_watch.h).
#include "kl_watch.h"
#include <czmq.h>

typedef struct {
    char kind[64];
    jobd_state_t state;
    int64_t promise;    //  the job's own deadline, or 0: its kind's
    int64_t last_heard; //  last sign of life, or when it became RUNNING
    bool stale, lost;   //  reported
} s_entry_t;

struct _kl_watch_t {
    zhashx_t *jobs;  //  job id -> s_entry_t
    zhashx_t *kinds; //  kind -> int64_t deadline
    int64_t grace;
    bool any_kind; //  some kind has a deadline
};

kl_watch_t *
kl_watch_new (int64_t grace)
{
    kl_watch_t *self = (kl_watch_t *)zmalloc (sizeof (kl_watch_t));
    self->jobs = zhashx_new ();
    zhashx_set_destructor (self->jobs, (zhashx_destructor_fn *)zstr_free);
    self->kinds = zhashx_new ();
    zhashx_set_destructor (self->kinds, (zhashx_destructor_fn *)zstr_free);
    self->grace = grace;
    return self;
}

void
kl_watch_destroy (kl_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kl_watch_t *self = *self_p;
    zhashx_destroy (&self->jobs);
    zhashx_destroy (&self->kinds);
    free (self);
    *self_p = NULL;
}

void
kl_watch_set_kind (kl_watch_t *self, const char *kind, int64_t deadline)
{
    int64_t *value = (int64_t *)zmalloc (sizeof (int64_t));
    *value = deadline;
    zhashx_update (self->kinds, kind, value);
    self->any_kind = self->any_kind || deadline > 0;
}

static int64_t
s_deadline (kl_watch_t *self, const s_entry_t *entry)
{
    if (entry->promise > 0)
        return entry->promise;
    int64_t *deadline = (int64_t *)zhashx_lookup (self->kinds, entry->kind);
    return deadline ? *deadline : 0;
}

static s_entry_t *
s_entry (kl_watch_t *self, const char *job)
{
    s_entry_t *entry = (s_entry_t *)zhashx_lookup (self->jobs, job);
    if (!entry) {
        entry = (s_entry_t *)zmalloc (sizeof (s_entry_t));
        zhashx_insert (self->jobs, job, entry);
    }
    return entry;
}

void
kl_watch_state (kl_watch_t *self, const char *job, const char *kind, jobd_state_t state,
                int64_t now)
{
    s_entry_t *entry = (s_entry_t *)zhashx_lookup (self->jobs, job);
    if (jobd_state_is_final (state)) {
        zhashx_delete (self->jobs, job);
        return;
    }
    int64_t *deadline = kind ? (int64_t *)zhashx_lookup (self->kinds, kind) : NULL;
    if (!entry && (!deadline || *deadline <= 0))
        return; //  promises nothing (yet): not watched
    entry = s_entry (self, job);
    if (kind)
        snprintf (entry->kind, sizeof entry->kind, "%s", kind);
    if (state == JOBD_STATE_RUNNING && entry->state != JOBD_STATE_RUNNING) {
        entry->last_heard = now > entry->last_heard ? now : entry->last_heard;
        entry->stale = entry->lost = false;
    }
    entry->state = state;
}

void
kl_watch_heard (kl_watch_t *self, const char *job, int64_t promise, int64_t now)
{
    s_entry_t *entry =
        promise > 0 ? s_entry (self, job) : (s_entry_t *)zhashx_lookup (self->jobs, job);
    if (!entry)
        return;
    if (promise > 0)
        entry->promise = promise;
    entry->last_heard = now;
    entry->stale = entry->lost = false;
}

int64_t
kl_watch_check (kl_watch_t *self, int64_t now, kl_watch_fn *fn, void *arg)
{
    int64_t next = now + 1000;
    //  Callbacks may send events but never touch the table: safe to walk it.
    for (s_entry_t *entry = (s_entry_t *)zhashx_first (self->jobs); entry;
         entry = (s_entry_t *)zhashx_next (self->jobs)) {
        int64_t deadline = s_deadline (self, entry);
        if (entry->state != JOBD_STATE_RUNNING || deadline <= 0 || entry->lost)
            continue;
        int64_t stale_at = entry->last_heard + deadline;
        int64_t lost_at = stale_at + self->grace;
        const char *job = (const char *)zhashx_cursor (self->jobs);
        if (!entry->stale && now >= stale_at) {
            entry->stale = true;
            fn (job, KL_WATCH_STALE, entry->last_heard, deadline, arg);
        }
        if (entry->stale && now >= lost_at) {
            entry->lost = true;
            fn (job, KL_WATCH_LOST, entry->last_heard, deadline, arg);
            continue;
        }
        int64_t line = entry->stale ? lost_at : stale_at;
        next = line < next ? line : next;
    }
    return next - now;
}

bool
kl_watch_knows (kl_watch_t *self, const char *job)
{
    return zhashx_lookup (self->jobs, job) != NULL;
}

bool
kl_watch_idle (kl_watch_t *self)
{
    return !self->any_kind && zhashx_size (self->jobs) == 0;
}

size_t
kl_watch_size (kl_watch_t *self)
{
    size_t count = 0;
    for (s_entry_t *entry = (s_entry_t *)zhashx_first (self->jobs); entry;
         entry = (s_entry_t *)zhashx_next (self->jobs))
        count += entry->state == JOBD_STATE_RUNNING && s_deadline (self, entry) > 0;
    return count;
}

size_t
kl_watch_stale (kl_watch_t *self)
{
    size_t count = 0;
    for (s_entry_t *entry = (s_entry_t *)zhashx_first (self->jobs); entry;
         entry = (s_entry_t *)zhashx_next (self->jobs))
        count += entry->state == JOBD_STATE_RUNNING && entry->stale;
    return count;
}
