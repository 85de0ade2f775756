//  The owners of submissions: which running plugin takes which kind, and its check.
#include "jobd_owners.h"
#include "jobd_error.h"
#include <string.h>

#define JOBD_OWNERS_MAX 256 //  as many as the broker's plugin table holds

struct _jobd_owners_t {
    jobd_owner_t owners[JOBD_OWNERS_MAX];
    size_t count;
    bool ready;
};

jobd_owners_t *
jobd_owners_new (void)
{
    return (jobd_owners_t *)zmalloc (sizeof (jobd_owners_t));
}

void
jobd_owners_destroy (jobd_owners_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

int
jobd_owners_add (jobd_owners_t *self, const jobd_owner_t *owner)
{
    assert (self);
    if (self->count == JOBD_OWNERS_MAX)
        return JOBD_ETOOBIG;
    self->owners[self->count++] = *owner;
    return 0;
}

void
jobd_owners_ready (jobd_owners_t *self)
{
    assert (self);
    self->ready = true;
}

void
jobd_owners_clear (jobd_owners_t *self)
{
    assert (self);
    self->count = 0;
    self->ready = false;
}

static bool
s_lists (const jobd_owner_t *owner, const char *kind)
{
    for (size_t index = 0; owner->kinds && owner->kinds[index]; index++)
        if (strcmp (owner->kinds[index], kind) == 0)
            return true;
    return false;
}

bool
jobd_owners_status_running (const char *status)
{
    return status && (strcmp (status, "running") == 0 || strcmp (status, "degraded") == 0);
}

//  A plugin that failed init, stopped, or is disabled takes nothing.
static bool
s_running (const jobd_owner_t *owner, jobd_owners_status_fn *status_fn, void *arg)
{
    return jobd_owners_status_running (status_fn (owner->name, arg));
}

//  Writes the kinds running plugins take ("demo, spark"), or "none".
static void
s_handled (const jobd_owners_t *self, jobd_owners_status_fn *status_fn, void *arg, char *text,
           size_t size)
{
    size_t used = 0;
    text[0] = 0;
    for (size_t index = 0; index < self->count; index++) {
        const jobd_owner_t *owner = &self->owners[index];
        if (!s_running (owner, status_fn, arg))
            continue;
        for (size_t kind = 0; owner->kinds && owner->kinds[kind] && used < size; kind++)
            used += (size_t)snprintf (text + used, size - used, "%s%s", used ? ", " : "",
                                      owner->kinds[kind]);
    }
    if (!text[0])
        snprintf (text, size, "none");
}

int
jobd_owners_check (jobd_owners_t *self, const jobd_submission_t *submission,
                   jobd_owners_status_fn *status_fn, void *arg, char *reason, size_t reason_size)
{
    assert (self);
    if (!self->ready)
        return 0;
    const jobd_owner_t *owner = NULL, *stopped = NULL;
    bool silent = false; //  a running plugin says nothing of its kinds
    for (size_t index = 0; index < self->count && !owner; index++) {
        const jobd_owner_t *each = &self->owners[index];
        bool running = s_running (each, status_fn, arg);
        if (running && !each->kinds)
            silent = true;
        else if (s_lists (each, submission->kind)) {
            if (running)
                owner = each;
            else if (!stopped)
                stopped = each;
        }
    }
    if (owner) {
        if (!owner->validate)
            return 0;
        reason[0] = 0;
        int rc = owner->validate (owner->state, owner->host, submission, reason, reason_size);
        if (rc == 0)
            return 0;
        if (!reason[0])
            snprintf (reason, reason_size, "%s", jobd_strerror (rc));
        //  A validator's own words, prefixed with who said them.
        char text[512];
        snprintf (text, sizeof text, "%s refused the %s job: %s", owner->name, submission->kind,
                  reason);
        snprintf (reason, reason_size, "%s", text);
        return JOBD_EINVAL;
    }
    if (silent)
        return 0; //  perhaps the older plugin takes it: accepted unchecked, as before ABI 1.4
    char handled[256];
    s_handled (self, status_fn, arg, handled, sizeof handled);
    if (stopped) {
        const char *status = status_fn (stopped->name, arg);
        snprintf (reason, reason_size,
                  "kind '%s' is taken by plugin %s, which is not running (%s); kinds taken now: "
                  "%s",
                  submission->kind, stopped->name, status ? status : "not started", handled);
    } else
        snprintf (reason, reason_size, "no running plugin takes jobs of kind '%s'; kinds taken: %s",
                  submission->kind, handled);
    return JOBD_EINVAL;
}
