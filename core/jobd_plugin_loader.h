//  The plugin loader: finds, checks, configures and runs drop-in plugins, each on its own thread.
#ifndef JOBD_PLUGIN_LOADER_H_INCLUDED
#define JOBD_PLUGIN_LOADER_H_INCLUDED

#include "jobd_broker.h"
#include "jobd_claims.h"
#include "jobd_config.h"
#include "jobd_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _jobd_plugin_loader_t jobd_plugin_loader_t;

//  Returns a loader for the plugins named under "plugins" in config, or, when config names
//  none, every *.so in dir. config and store are borrowed and must outlive the loader.
jobd_plugin_loader_t *jobd_plugin_loader_new (jobd_config_t *config, jobd_store_t *store,
                                              const char *dir);

//  Loads every plugin: trust check, dlopen, ABI check, config check. A plugin whose file, or a
//  folder above it, is writable by others than its owner or root (see jobd_trust_check) is
//  refused before dlopen: none of its code runs. A plugin that cannot be loaded is logged with
//  the reason and skipped (jobd carries on without it). Returns 0, or JOBD_ECONFIG
//  with a reason when a loaded plugin's config section is invalid (start-up must stop).
int jobd_plugin_loader_load (jobd_plugin_loader_t *self, char *reason, size_t reason_size);

//  Returns how many plugins load refused because their file or folder is not trusted.
size_t jobd_plugin_loader_refused (jobd_plugin_loader_t *self);

//  Runs each loaded plugin's own check (ABI 1.6's descriptor `check`) with a host table that has
//  no store, before anything is started (jobd --check, and every start). A configured plugin
//  that refuses is failed (logged; start skips it); one found in the folder with no plugins
//  section (the embedded default) is left out as "not configured". Returns 0, or JOBD_ECONFIG
//  with the first refusal (or how many) in reason.
int jobd_plugin_loader_check (jobd_plugin_loader_t *self, char *reason, size_t reason_size);

//  Sets the store the plugins read through their host table (the store opens after loading).
void jobd_plugin_loader_set_store (jobd_plugin_loader_t *self, jobd_store_t *store);

//  Cluster mode: the plugins' host tables tell who acts on which job (ABI 1.7's job_acting,
//  acting_changes) and this instance's name (borrowed: both outlive the plugins). Before start.
void jobd_plugin_loader_set_claims (jobd_plugin_loader_t *self, jobd_claims_t *claims,
                                    const char *instance);

//  Initialises and starts every loaded plugin on its own thread and tells the broker about each
//  (loaded, failed and why, the kinds of submission each takes and its validate: ABI 1.4), then
//  tells it every plugin is known, so that it refuses submissions nobody running takes. broker
//  may be NULL; when not, it must outlive the loader (destroy makes it drop the validators
//  before their state goes). Failures are logged; the others run. Returns how many run.
size_t jobd_plugin_loader_start (jobd_plugin_loader_t *self, jobd_broker_t *broker);

//  Returns the status of the plugin named name: "loaded" (before start), "running", "failed" or
//  "disabled", or NULL when the loader has no such plugin. When reason is not NULL, sets *reason
//  to why it failed ("" otherwise). Both strings are borrowed until destroy.
const char *jobd_plugin_loader_status (jobd_plugin_loader_t *self, const char *name,
                                       const char **reason);

//  The keys the loader itself reads in every plugin's section (path, enabled): a map ending with
//  a NULL key. Static.
const jobd_conf_key_t *jobd_plugin_loader_keys (void);

//  Called by jobd_plugin_loader_each for each plugin: its name (its section is plugins/<name>), its
//  descriptor, or NULL when it was not loaded; its status and reason as jobd_plugin_loader_status
//  gives them. All borrowed for the call.
typedef void (jobd_plugin_loader_fn) (const char *name, const jobd_plugin_t *plugin,
                                      const char *status, const char *reason, void *arg);

//  Calls fn for each plugin the loader found, in load order (before or after start).
void jobd_plugin_loader_each (jobd_plugin_loader_t *self, jobd_plugin_loader_fn *fn, void *arg);

//  Returns the host table the loader built for the plugin named name (borrowed until destroy),
//  or NULL before start or when the plugin did not start. For tests that call the host's
//  functions as a plugin would.
const jobd_host_t *jobd_plugin_loader_host (jobd_plugin_loader_t *self, const char *name);

//  Stops every plugin (sends $TERM, joins its thread), destroys their state, unloads them.
//  NULL-safe; sets *self_p to NULL.
void jobd_plugin_loader_destroy (jobd_plugin_loader_t **self_p);

#ifdef __cplusplus
}
#endif
#endif
