//  Status on demand: the queries that wait for the plugins' answers to one status.ask.
#include "jobd_asks.h"
#include "jobd_event.h"
#include "jobd_log.h"
#include "jobd_owners.h"
#include <string.h>

#define LOG "broker"

#define S_HELD_MAX 1024 //  queries held at once; past it, answered at once from what is known

typedef struct {
    zsock_t *socket;
    uint8_t identity[256];
    size_t identity_size;
    bool delimiter;
    zchunk_t *query;
} s_held_t;

struct jobd_asks {
    char ask[25];      //  the ask in flight, "" when none
    int64_t until;     //  zclock_mono when it is due at the latest
    zhashx_t *waiting; //  names not answered yet (values unused)
    zhashx_t *deaf;    //  names that let an ask pass and answered none since
    zlistx_t *held;    //  s_held_t, oldest first
};

static void
s_held_destroy (s_held_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zchunk_destroy (&(*self_p)->query);
    free (*self_p);
    *self_p = NULL;
}

jobd_asks_t *
jobd_asks_new (void)
{
    jobd_asks_t *self = (jobd_asks_t *)calloc (1, sizeof (jobd_asks_t));
    if (!self)
        return NULL;
    self->waiting = zhashx_new ();
    self->deaf = zhashx_new ();
    self->held = zlistx_new ();
    if (!self->waiting || !self->deaf || !self->held) {
        jobd_asks_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->held, (zlistx_destructor_fn *)s_held_destroy);
    return self;
}

void
jobd_asks_destroy (jobd_asks_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_asks_t *self = *self_p;
    zhashx_destroy (&self->waiting);
    zhashx_destroy (&self->deaf);
    zlistx_destroy (&self->held);
    free (self);
    *self_p = NULL;
}

//  Starts an ask: the running plugins that answer asks are waited for. False when there is none.
static bool
s_start (jobd_asks_t *self, zhashx_t *plugins)
{
    zhashx_purge (self->waiting);
    for (zhashx_t *info = (zhashx_t *)zhashx_first (plugins); info;
         info = (zhashx_t *)zhashx_next (plugins)) {
        const char *name = (const char *)zhashx_cursor (plugins);
        if (jobd_owners_status_running ((const char *)zhashx_lookup (info, "status")) &&
            !zhashx_lookup (self->deaf, name))
            zhashx_insert (self->waiting, name, (void *)"");
    }
    if (zhashx_size (self->waiting) == 0)
        return false;
    jobd_event_new_id (self->ask);
    self->until = zclock_mono () + JOBD_ASKS_WAIT_MS;
    return true;
}

bool
jobd_asks_hold (jobd_asks_t *self, zhashx_t *plugins, zsock_t *socket, const uint8_t *identity,
                size_t identity_size, bool delimiter, const void *query, size_t size, char ask[25])
{
    assert (self);
    ask[0] = 0;
    if (identity_size > sizeof ((s_held_t *)NULL)->identity ||
        zlistx_size (self->held) >= S_HELD_MAX)
        return false;
    bool started = false;
    if (!self->ask[0]) {
        if (!s_start (self, plugins))
            return false;
        started = true;
    }
    s_held_t *held = (s_held_t *)calloc (1, sizeof (s_held_t));
    if (held)
        held->query = zchunk_new (query, size);
    if (!held || !held->query) {
        s_held_destroy (&held);
        if (started)
            self->ask[0] = 0;
        return false;
    }
    held->socket = socket;
    memcpy (held->identity, identity, identity_size);
    held->identity_size = identity_size;
    held->delimiter = delimiter;
    zlistx_add_end (self->held, held);
    if (started)
        memcpy (ask, self->ask, sizeof self->ask);
    return true;
}

void
jobd_asks_answer (jobd_asks_t *self, const char *name, const char *ask, bool running)
{
    assert (self);
    if (!name)
        return;
    //  A plugin that stopped will not answer.
    if (!running)
        zhashx_delete (self->waiting, name);
    if (!ask || !*ask)
        return;
    //  A plugin that answers any ask is waited for again.
    zhashx_delete (self->deaf, name);
    if (self->ask[0] && strcmp (ask, self->ask) == 0)
        zhashx_delete (self->waiting, name);
}

int64_t
jobd_asks_wait (jobd_asks_t *self)
{
    assert (self);
    if (!self->ask[0])
        return -1;
    if (zhashx_size (self->waiting) == 0)
        return 0;
    int64_t wait = self->until - zclock_mono ();
    return wait > 0 ? wait : 0;
}

size_t
jobd_asks_finish (jobd_asks_t *self, jobd_asks_answer_fn *fn, void *arg)
{
    assert (self);
    if (jobd_asks_wait (self) != 0)
        return 0;
    for (void *item = zhashx_first (self->waiting); item; item = zhashx_next (self->waiting)) {
        const char *name = (const char *)zhashx_cursor (self->waiting);
        jobd_log (JOBD_LOG_INFO, LOG,
                  "plugin %s did not answer a status ask in %d ms: its status is shown as last "
                  "reported, and it is not waited for until it answers one",
                  name, JOBD_ASKS_WAIT_MS);
        zhashx_insert (self->deaf, name, (void *)"");
    }
    zhashx_purge (self->waiting);
    self->ask[0] = 0;
    size_t count = 0;
    s_held_t *held;
    while ((held = (s_held_t *)zlistx_first (self->held))) {
        fn (held->socket, held->identity, held->identity_size, held->delimiter,
            zchunk_data (held->query), zchunk_size (held->query), arg);
        zlistx_delete (self->held, zlistx_cursor (self->held));
        count++;
    }
    return count;
}
