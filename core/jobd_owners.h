//  The owners of submissions: which running plugin takes which kind of job, and its check of a
//  submission before anything is stored (ABI 1.4, core/README.md "How a plugin validates what
//  it owns"). Used by the broker, on its thread only.
#ifndef JOBD_OWNERS_H_INCLUDED
#define JOBD_OWNERS_H_INCLUDED

#include "jobd_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _jobd_owners_t jobd_owners_t;

//  A plugin's validate (jobd_plugin_t.validate).
typedef int (jobd_owners_validate_fn) (void *state, const jobd_host_t *host,
                                       const jobd_submission_t *submission, char *reason,
                                       size_t reason_size);

//  Returns the plugin's status word ("running", "degraded", "failed", ...) or NULL.
typedef const char *(jobd_owners_status_fn)(const char *name, void *arg);

//  One plugin as the loader hands it to the broker. kinds NULL: the plugin says nothing of the
//  kinds it takes (ABI 1.0-1.3). Everything but name is borrowed until jobd_owners_clear.
typedef struct {
    char name[257]; //  a plugin's section name (JOBD_NAME_MAX)
    const char *const *kinds;
    jobd_owners_validate_fn *validate;
    void *state;
    const jobd_host_t *host;
} jobd_owner_t;

//  Returns a new, empty table: it checks nothing until jobd_owners_ready.
jobd_owners_t *jobd_owners_new (void);

//  Destroys the table. NULL-safe; sets *self_p to NULL.
void jobd_owners_destroy (jobd_owners_t **self_p);

//  Adds a plugin (copied). Returns 0, or JOBD_ETOOBIG when the table is full.
int jobd_owners_add (jobd_owners_t *self, const jobd_owner_t *owner);

//  Every plugin is known: from now on a submission must have a running owner.
void jobd_owners_ready (jobd_owners_t *self);

//  Forgets every plugin (their state is about to go) and stops checking: submissions are
//  accepted unchecked again, as before jobd_owners_ready.
void jobd_owners_clear (jobd_owners_t *self);

//  Whether a plugin with this status word (NULL: none yet) runs: "running" or "degraded".
bool jobd_owners_status_running (const char *status);

//  Checks a submission: its kind must be taken by a running plugin (status "running" or
//  "degraded", read through status_fn), whose validate then checks it. Returns 0, or
//  JOBD_EINVAL with the reason. While a plugin that says nothing of its kinds runs, a kind that
//  no plugin lists is accepted unchecked.
int jobd_owners_check (jobd_owners_t *self, const jobd_submission_t *submission,
                       jobd_owners_status_fn *status_fn, void *arg, char *reason,
                       size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
