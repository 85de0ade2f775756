//  The plugin loader: finds, checks, configures and runs drop-in plugins, each on its own thread.
#include "jobd_plugin_loader.h"
#include "jobd_log.h"
#include "jobd_store_cl.h"
#include "jobd_trust.h"
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <string.h>

#define LOG "loader"

//  Keys the loader itself reads in every plugin's section.
static const jobd_conf_key_t s_loader_keys[] = {
    {"path", JOBD_CONF_STRING, "", "the plugin's shared object (empty: PLUGIN_DIR/NAME.so)"},
    {"enabled", JOBD_CONF_BOOL, "true", "false: do not load it"},
    {NULL, 0, NULL, NULL}};

typedef struct {
    char *name; //  section name: plugins/<name>
    char *path;
    char resolved[PATH_MAX]; //  path with symlinks resolved: what was vetted, and is dlopened
    char section[160];
    void *handle;         //  dlopen handle
    jobd_plugin_t plugin; //  the descriptor, copied into a zeroed struct
    jobd_host_t host;
    jobd_config_t *config;
    jobd_store_t *store;
    jobd_claims_t *claims; //  cluster mode: who acts on which job (NULL: a single jobd)
    void *state;
    zactor_t *actor;
    char error[512]; //  why it did not load or start
    bool disabled;   //  enabled = false in its section, or not configured (implicit)
    bool started;    //  init passed and its thread runs
} s_plugin_t;

struct _jobd_plugin_loader_t {
    jobd_config_t *config;
    jobd_store_t *store;
    jobd_claims_t *claims;
    const char *instance;
    char *dir;
    zlistx_t *plugins;        //  s_plugin_t, in load order
    char folder_refused[600]; //  why dir is not trusted, or ""
    size_t refused;           //  plugins not loaded because their file or folder is not trusted
    jobd_broker_t *broker;    //  the broker start told, or NULL: it calls the plugins' validate
    bool implicit;            //  no plugins section: every plugin of the folder, unconfigured
};

//  The host table's functions: the only way a plugin reaches the core.

static void
s_host_log (const jobd_host_t *host, jobd_log_level_t level, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    jobd_logv (level, host->plugin_name, format, args);
    va_end (args);
}

static const char *
s_host_config_str (const jobd_host_t *host, const char *key)
{
    s_plugin_t *self = (s_plugin_t *)host->core;
    return jobd_config_str (self->config, self->section, key);
}

static int64_t
s_host_config_int (const jobd_host_t *host, const char *key, int64_t fallback)
{
    s_plugin_t *self = (s_plugin_t *)host->core;
    return jobd_config_int (self->config, self->section, key, fallback);
}

static size_t
s_host_config_names (const jobd_host_t *host, const char *path, const char **names, size_t max)
{
    s_plugin_t *self = (s_plugin_t *)host->core;
    char full[512];
    snprintf (full, sizeof full, "%s/%s", self->section, path);
    return jobd_config_names (self->config, full, names, max);
}

static int
s_host_job_get (const jobd_host_t *host, const char *id, jobd_job_t **job_p)
{
    if (!((s_plugin_t *)host->core)->store)
        return JOBD_ESTORE; //  jobd --check: no store open
    return jobd_store_job_get (((s_plugin_t *)host->core)->store, id, job_p);
}

static int
s_host_job_find (const jobd_host_t *host, const char *backend, const char *ext, char **id_p)
{
    if (!((s_plugin_t *)host->core)->store)
        return JOBD_ESTORE; //  jobd --check: no store open
    return jobd_store_job_find (((s_plugin_t *)host->core)->store, backend, ext, id_p);
}

static int
s_host_job_scan (const jobd_host_t *host, uint32_t state_mask, jobd_host_scan_fn *fn, void *arg)
{
    if (!((s_plugin_t *)host->core)->store)
        return JOBD_ESTORE; //  jobd --check: no store open
    return jobd_store_scan (((s_plugin_t *)host->core)->store, state_mask, (jobd_store_scan_fn *)fn,
                            arg);
}

//  ABI 1.3's reads hand the plugin the record encoded, so that the plugin decodes it with its own
//  proto into memory it frees itself: no jobd_job_t crosses the boundary.
static int
s_host_job_read (const jobd_host_t *host, const char *id, jobd_host_job_fn *fn, void *arg)
{
    if (!((s_plugin_t *)host->core)->store)
        return JOBD_ESTORE; //  jobd --check: no store open
    jobd_job_t *job = NULL;
    int rc = jobd_store_job_get (((s_plugin_t *)host->core)->store, id, &job);
    if (rc)
        return rc;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    rc = jobd_job_pack_to (job, &buffer);
    if (rc == 0)
        fn ((const uint8_t *)buffer.data, buffer.size, arg);
    msgpack_sbuffer_destroy (&buffer);
    jobd_job_destroy (&job);
    return rc;
}

//  The records as stored: no decoding and encoding again between the store and the plugin.
static int
s_host_job_scan_encoded (const jobd_host_t *host, uint32_t state_mask, jobd_host_job_fn *fn,
                         void *arg)
{
    if (!((s_plugin_t *)host->core)->store)
        return JOBD_ESTORE; //  jobd --check: no store open
    return jobd_store_scan_encoded (((s_plugin_t *)host->core)->store, state_mask,
                                    (jobd_store_encoded_fn *)fn, arg);
}

static int
s_host_job_scan_updated (const jobd_host_t *host, bool descending, int64_t after,
                         const char *after_id, jobd_host_job_fn *fn, void *arg)
{
    if (!((s_plugin_t *)host->core)->store)
        return JOBD_ESTORE; //  jobd --check: no store open
    return jobd_store_scan_updated (((s_plugin_t *)host->core)->store, descending, after, after_id,
                                    (jobd_store_encoded_fn *)fn, arg);
}

static int
s_host_log_read (const jobd_host_t *host, uint64_t after, size_t max, jobd_host_log_fn *fn,
                 void *arg)
{
    if (!((s_plugin_t *)host->core)->store)
        return JOBD_ESTORE;
    //  A plugin built before ABI 1.6 knows transitions only: it is not handed the log's other
    //  events (stale).
    s_plugin_t *plugin = (s_plugin_t *)host->core;
    if (plugin->plugin.abi_minor < 6)
        return jobd_store_log_read_transitions (plugin->store, after, max, (jobd_store_log_fn *)fn,
                                                arg);
    return jobd_store_log_read (plugin->store, after, max, (jobd_store_log_fn *)fn, arg);
}

static int
s_host_log_cursor (const jobd_host_t *host, const char *name, uint64_t *position_p,
                   uint64_t *head_p)
{
    if (!((s_plugin_t *)host->core)->store)
        return JOBD_ESTORE; //  jobd --check: no store open
    return jobd_store_cursor_get (((s_plugin_t *)host->core)->store, name, position_p, head_p);
}

//  ABI 1.5: a job's history, each transition encoded as the plugin decodes it.
static int
s_host_job_history (const jobd_host_t *host, const char *id, size_t max, jobd_host_job_fn *fn,
                    void *arg)
{
    if (!((s_plugin_t *)host->core)->store)
        return JOBD_ESTORE; //  jobd --check: no store open
    jobd_event_t **events = NULL;
    size_t count = 0;
    int rc = jobd_store_history (((s_plugin_t *)host->core)->store, id, &events, &count);
    if (rc)
        return rc;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    for (size_t index = count > max ? count - max : 0; index < count && rc == 0; index++) {
        buffer.size = 0;
        rc = jobd_event_pack_to (events[index], &buffer);
        if (rc == 0 && !fn ((const uint8_t *)buffer.data, buffer.size, arg))
            break;
    }
    msgpack_sbuffer_destroy (&buffer);
    jobd_store_history_free (&events, count);
    return rc ? rc : (int)(count > INT_MAX ? INT_MAX : count);
}

static void
s_plugin_destroy (s_plugin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_plugin_t *self = *self_p;
    zactor_destroy (&self->actor);
    if (self->state && self->plugin.destroy)
        self->plugin.destroy (&self->state);
    if (self->handle)
        dlclose (self->handle);
    free (self->name);
    free (self->path);
    free (self);
    *self_p = NULL;
}

jobd_plugin_loader_t *
jobd_plugin_loader_new (jobd_config_t *config, jobd_store_t *store, const char *dir)
{
    jobd_plugin_loader_t *self = (jobd_plugin_loader_t *)zmalloc (sizeof *self);
    self->config = config;
    self->store = store;
    self->dir = strdup (dir);
    self->plugins = zlistx_new ();
    zlistx_set_destructor (self->plugins, (zlistx_destructor_fn *)s_plugin_destroy);
    return self;
}

void
jobd_plugin_loader_destroy (jobd_plugin_loader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_plugin_loader_t *self = *self_p;
    //  The broker calls no validate from here on: the plugins' state is about to go.
    if (self->broker)
        jobd_broker_owners_drop (self->broker);
    //  Stop in reverse order of start.
    for (s_plugin_t *plugin = (s_plugin_t *)zlistx_last (self->plugins); plugin;
         plugin = (s_plugin_t *)zlistx_prev (self->plugins))
        zactor_destroy (&plugin->actor);
    zlistx_destroy (&self->plugins);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

static s_plugin_t *
s_plugin_new (jobd_plugin_loader_t *loader, const char *name)
{
    s_plugin_t *self = (s_plugin_t *)zmalloc (sizeof (s_plugin_t));
    self->name = strdup (name);
    self->config = loader->config;
    self->store = loader->store;
    self->claims = loader->claims;
    snprintf (self->section, sizeof self->section, "plugins/%s", name);
    zlistx_add_end (loader->plugins, self);
    return self;
}

//  dlopen and descriptor checks. Returns 0, or an error with self->error set.
static int
s_plugin_open (s_plugin_t *self)
{
    //  RTLD_NODELETE: a plugin's libraries (librdkafka, libcurl, OpenSSL) keep global state
    //  allocated at first use; unloading them at exit would only turn it into leaks.
    //  The resolved path that s_plugin_vet checked, not the configured one: a symlink in it may
    //  have changed since.
    self->handle = dlopen (self->resolved, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!self->handle) {
        snprintf (self->error, sizeof self->error,
                  "cannot load %s: %s (missing file or dependencies? run ldd on it)", self->path,
                  dlerror ());
        return -ENOENT;
    }
    const jobd_plugin_t *descriptor =
        (const jobd_plugin_t *)dlsym (self->handle, JOBD_PLUGIN_SYMBOL);
    if (!descriptor) {
        snprintf (self->error, sizeof self->error, "%s exports no '%s' symbol: not a jobd plugin",
                  self->path, JOBD_PLUGIN_SYMBOL);
        return JOBD_EABI;
    }
    if (descriptor->abi_major != JOBD_PLUGIN_ABI_MAJOR) {
        snprintf (self->error, sizeof self->error,
                  "%s is built for plugin ABI %u.%u, this jobd has %u.%u: rebuild the plugin",
                  self->path, descriptor->abi_major, descriptor->abi_minor, JOBD_PLUGIN_ABI_MAJOR,
                  JOBD_PLUGIN_ABI_MINOR);
        return JOBD_EABI;
    }
    //  Any descriptor from ABI 1.0 on: a smaller one is not a descriptor of this major.
    if (descriptor->size < JOBD_PLUGIN_SIZE_1_0) {
        snprintf (self->error, sizeof self->error,
                  "%s has an incomplete descriptor (size %u, ABI %u.0 has %zu bytes): rebuild the "
                  "plugin",
                  self->path, descriptor->size, (unsigned)JOBD_PLUGIN_ABI_MAJOR,
                  JOBD_PLUGIN_SIZE_1_0);
        return JOBD_EABI;
    }
    //  Copy what both sides know: fields an older descriptor lacks stay zero (and its size says
    //  so to JOBD_PLUGIN_HAS); fields of a newer one are not read.
    size_t size = descriptor->size < sizeof self->plugin ? descriptor->size : sizeof self->plugin;
    memcpy (&self->plugin, descriptor, size);
    if (!self->plugin.name || !self->plugin.init || !self->plugin.run) {
        snprintf (self->error, sizeof self->error,
                  "%s has an incomplete descriptor (size %u, needs name, init and run)", self->path,
                  descriptor->size);
        return JOBD_EABI;
    }
    return 0;
}

//  The loader's keys followed by the plugin's own.
static jobd_conf_key_t *
s_merged_map (const jobd_conf_key_t *map)
{
    size_t count = 0;
    while (map && map[count].key)
        count++;
    jobd_conf_key_t *merged = (jobd_conf_key_t *)zmalloc (sizeof (jobd_conf_key_t) * (count + 3));
    memcpy (merged, s_loader_keys, sizeof (jobd_conf_key_t) * 2);
    if (count)
        memcpy (merged + 2, map, sizeof (jobd_conf_key_t) * count);
    return merged;
}

//  Vets the plugin's file (and every folder above it) before anything of it is loaded: a
//  constructor runs at dlopen, before any other check. Returns 0, or -EPERM (not trusted) or
//  -ENOENT (missing) with self->error set.
static int
s_plugin_vet (jobd_plugin_loader_t *loader, s_plugin_t *self)
{
    char what[200];
    snprintf (what, sizeof what, "plugin %s", self->name);
    if (loader->folder_refused[0]) {
        snprintf (self->error, sizeof self->error, "%s", loader->folder_refused);
        loader->refused++;
        return -EPERM;
    }
    int rc = jobd_trust_check (self->path, false, what, self->resolved, sizeof self->resolved,
                               self->error, sizeof self->error);
    if (rc == -ENOENT || rc == -ENOTDIR)
        //  Worded as dlopen's own failure, which a missing file used to reach; dlopen is not
        //  asked (a name without a slash would send it searching the library path).
        snprintf (self->error, sizeof self->error,
                  "cannot load %s: %s (missing file or dependencies? run ldd on it)", self->path,
                  strerror (-rc));
    if (rc == -EPERM)
        loader->refused++;
    return rc;
}

static int
s_load_one (jobd_plugin_loader_t *self, const char *name, const char *file, char *reason,
            size_t reason_size)
{
    s_plugin_t *plugin = s_plugin_new (self, name);
    //  The loader's keys first: they say where the plugin is and whether to load it.
    int rc =
        jobd_config_resolve (self->config, plugin->section, s_loader_keys, reason, reason_size);
    if (rc)
        return rc;
    const char *path = jobd_config_str (self->config, plugin->section, "path");
    if (!jobd_config_int (self->config, plugin->section, "enabled", 1)) {
        snprintf (plugin->error, sizeof plugin->error, "disabled in the config");
        plugin->disabled = true;
        return 0;
    }
    if (path && *path)
        plugin->path = strdup (path);
    else if (file)
        plugin->path = strdup (file);
    else {
        char buffer[1024];
        snprintf (buffer, sizeof buffer, "%s/%s.so", self->dir, name);
        plugin->path = strdup (buffer);
    }
    if (s_plugin_vet (self, plugin) || s_plugin_open (plugin)) {
        jobd_log (JOBD_LOG_ERROR, LOG, "plugin %s not loaded: %s", name, plugin->error);
        return 0;
    }
    jobd_conf_key_t *merged = s_merged_map (plugin->plugin.config);
    rc = jobd_config_check (self->config, plugin->section, merged, reason, reason_size);
    free (merged);
    if (rc)
        return rc;
    jobd_log (JOBD_LOG_INFO, LOG, "loaded plugin %s %s from %s", plugin->plugin.name,
              plugin->plugin.version ? plugin->plugin.version : "", plugin->path);
    return 0;
}

int
jobd_plugin_loader_load (jobd_plugin_loader_t *self, char *reason, size_t reason_size)
{
    const char *names[64];
    size_t count = jobd_config_names (self->config, "plugins", names, 64);
    if (count > 64) {
        snprintf (reason, reason_size, "config %s: more than 64 plugins",
                  jobd_config_filename (self->config));
        return JOBD_ECONFIG;
    }
    if (jobd_config_has (self->config, "plugins")) {
        for (size_t index = 0; index < count; index++) {
            int rc = s_load_one (self, names[index], NULL, reason, reason_size);
            if (rc)
                return rc;
        }
        return 0;
    }
    //  No plugins section: every plugin in the folder, in name order, with its defaults. In a
    //  folder others can write, each is refused (and named) rather than loaded.
    self->implicit = true;
    if (jobd_trust_check (self->dir, true, "plugin folder", NULL, 0, self->folder_refused,
                          sizeof self->folder_refused) == -ENOENT)
        self->folder_refused[0] = 0;
    struct dirent **entries = NULL;
    int found = scandir (self->dir, &entries, NULL, alphasort);
    if (found < 0) {
        jobd_log (JOBD_LOG_WARN, LOG, "plugin folder %s: %s", self->dir, strerror (errno));
        return 0;
    }
    int rc = 0;
    for (int index = 0; index < found; index++) {
        const char *file = entries[index]->d_name;
        size_t length = strlen (file);
        if (rc == 0 && length > 3 && strcmp (file + length - 3, ".so") == 0) {
            char name[128], path[1024];
            snprintf (name, sizeof name, "%.*s", (int)(length - 3), file);
            snprintf (path, sizeof path, "%s/%s", self->dir, file);
            rc = s_load_one (self, name, path, reason, reason_size);
        }
        free (entries[index]);
    }
    free (entries);
    return rc;
}

static void
s_send_status (zsock_t *bus, const char *name, const char *status, const char *detail)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    if (!event)
        return;
    jobd_event_set (&event->source, name);
    jobd_event_set (&event->name, name);
    jobd_event_set (&event->status, status);
    jobd_event_set (&event->detail, detail);
    jobd_plugin_send (bus, event);
    jobd_event_destroy (&event);
}

//  The plugin's thread: its sockets, then its run function until $TERM.
static void
s_plugin_actor (zsock_t *pipe, void *arg)
{
    s_plugin_t *self = (s_plugin_t *)arg;
    zsock_t *bus = zsock_new_dealer (">" JOBD_BUS_ENDPOINT);
    zsock_t *events = zsock_new_sub (">" JOBD_EVENTS_ENDPOINT, NULL);
    zsock_set_linger (bus, 1000);
    zsock_signal (pipe, 0);
    int rc = self->plugin.run (self->state, &self->host, pipe, bus, events);
    if (rc) {
        snprintf (self->error, sizeof self->error, "stopped by itself: %s", jobd_strerror (rc));
        jobd_log (JOBD_LOG_ERROR, self->name, "%s", self->error);
        s_send_status (bus, self->name, "failed", self->error);
    } else
        s_send_status (bus, self->name, "stopped", NULL);
    zsock_destroy (&events);
    zsock_destroy (&bus);
}

size_t
jobd_plugin_loader_refused (jobd_plugin_loader_t *self)
{
    return self->refused;
}

const char *
jobd_plugin_loader_status (jobd_plugin_loader_t *self, const char *name, const char **reason)
{
    for (s_plugin_t *plugin = (s_plugin_t *)zlistx_first (self->plugins); plugin;
         plugin = (s_plugin_t *)zlistx_next (self->plugins)) {
        if (strcmp (plugin->name, name))
            continue;
        if (reason)
            *reason = plugin->error;
        if (plugin->disabled)
            return "disabled";
        if (plugin->error[0])
            return "failed";
        return plugin->started ? "running" : "loaded";
    }
    return NULL;
}

const jobd_conf_key_t *
jobd_plugin_loader_keys (void)
{
    return s_loader_keys;
}

void
jobd_plugin_loader_each (jobd_plugin_loader_t *self, jobd_plugin_loader_fn *fn, void *arg)
{
    for (s_plugin_t *plugin = (s_plugin_t *)zlistx_first (self->plugins); plugin;
         plugin = (s_plugin_t *)zlistx_next (self->plugins)) {
        //  Not jobd_plugin_loader_status: it would move the list's one cursor.
        const char *status = plugin->disabled   ? "disabled"
                             : plugin->error[0] ? "failed"
                             : plugin->started  ? "running"
                                                : "loaded";
        bool loaded = !plugin->disabled && !plugin->error[0];
        fn (plugin->name, loaded ? &plugin->plugin : NULL, status, plugin->error, arg);
    }
}

const jobd_host_t *
jobd_plugin_loader_host (jobd_plugin_loader_t *self, const char *name)
{
    for (s_plugin_t *plugin = (s_plugin_t *)zlistx_first (self->plugins); plugin;
         plugin = (s_plugin_t *)zlistx_next (self->plugins))
        if (strcmp (plugin->name, name) == 0)
            return plugin->started ? &plugin->host : NULL;
    return NULL;
}

void
jobd_plugin_loader_set_store (jobd_plugin_loader_t *self, jobd_store_t *store)
{
    self->store = store;
    for (s_plugin_t *plugin = (s_plugin_t *)zlistx_first (self->plugins); plugin;
         plugin = (s_plugin_t *)zlistx_next (self->plugins))
        plugin->store = store;
}

void
jobd_plugin_loader_set_claims (jobd_plugin_loader_t *self, jobd_claims_t *claims,
                               const char *instance)
{
    self->claims = claims;
    self->instance = instance;
    for (s_plugin_t *plugin = (s_plugin_t *)zlistx_first (self->plugins); plugin;
         plugin = (s_plugin_t *)zlistx_next (self->plugins))
        plugin->claims = claims;
}

static int
s_host_job_acting (const jobd_host_t *host, const char *id, uint32_t *partition_p,
                   uint64_t *epoch_p)
{
    jobd_claims_t *claims = ((s_plugin_t *)host->core)->claims;
    if (claims)
        return jobd_claims_acting (claims, id, partition_p, epoch_p);
    if (partition_p)
        *partition_p = 0;
    if (epoch_p)
        *epoch_p = 0;
    return 0;
}

static uint64_t
s_host_acting_changes (const jobd_host_t *host)
{
    jobd_claims_t *claims = ((s_plugin_t *)host->core)->claims;
    return claims ? jobd_claims_changes (claims) : 0;
}

static uint64_t
s_host_acting_since (const jobd_host_t *host, uint32_t partition)
{
    jobd_claims_t *claims = ((s_plugin_t *)host->core)->claims;
    return claims ? jobd_claims_since (claims, partition) : 0;
}

//  ABI 1.9: a partition's transitions in changelog order, for the readers of its owner.
static uint64_t
s_host_partition_acting (const jobd_host_t *host, uint32_t partition)
{
    jobd_claims_t *claims = ((s_plugin_t *)host->core)->claims;
    return claims ? jobd_claims_partition_acting (claims, partition) : 0;
}

static int
s_host_plog_read (const jobd_host_t *host, uint32_t partition, uint64_t after, size_t max,
                  jobd_host_log_fn *fn, void *arg)
{
    s_plugin_t *plugin = (s_plugin_t *)host->core;
    if (!plugin->store || !plugin->claims || partition > UINT16_MAX)
        return JOBD_ESTORE;
    return jobd_store_plog_read (plugin->store, (uint16_t)partition, after, max,
                                 (jobd_store_log_fn *)fn, arg);
}

static int
s_host_plog_cursor (const jobd_host_t *host, const char *name, uint32_t partition,
                    uint64_t *position_p, uint64_t *head_p)
{
    s_plugin_t *plugin = (s_plugin_t *)host->core;
    if (!plugin->store || !plugin->claims || partition > UINT16_MAX)
        return JOBD_ESTORE;
    return jobd_store_plog_cursor (plugin->store, name, (uint16_t)partition, position_p, head_p);
}

//  The host table of plugin (its store: plugin->store, NULL under --check).
static jobd_host_t
s_host_table (jobd_plugin_loader_t *self, s_plugin_t *plugin)
{
    return (jobd_host_t){.size = sizeof (jobd_host_t),
                         .abi_major = JOBD_PLUGIN_ABI_MAJOR,
                         .abi_minor = JOBD_PLUGIN_ABI_MINOR,
                         .plugin_name = plugin->name,
                         .log = s_host_log,
                         .config_str = s_host_config_str,
                         .config_int = s_host_config_int,
                         .config_names = s_host_config_names,
                         .job_get = s_host_job_get,
                         .job_find = s_host_job_find,
                         .job_scan = s_host_job_scan,
                         .core = plugin,
                         .log_read = s_host_log_read,
                         .log_cursor = s_host_log_cursor,
                         .batch_max = JOBD_BATCH_MAX,
                         .job_read = s_host_job_read,
                         .job_scan_encoded = s_host_job_scan_encoded,
                         .run_dir = jobd_config_str (self->config, "core", "run_dir"),
                         .job_history = s_host_job_history,
                         .job_scan_updated = s_host_job_scan_updated,
                         .instance = self->instance,
                         .job_acting = s_host_job_acting,
                         .acting_changes = s_host_acting_changes,
                         .acting_since = s_host_acting_since,
                         .partitions =
                             plugin->claims ? (uint32_t)jobd_claims_partitions (plugin->claims) : 0,
                         .partition_acting = s_host_partition_acting,
                         .plog_read = s_host_plog_read,
                         .plog_cursor = s_host_plog_cursor};
}

int
jobd_plugin_loader_check (jobd_plugin_loader_t *self, char *reason, size_t reason_size)
{
    int failed = 0;
    for (s_plugin_t *plugin = (s_plugin_t *)zlistx_first (self->plugins); plugin;
         plugin = (s_plugin_t *)zlistx_next (self->plugins)) {
        if (plugin->disabled || plugin->error[0] || !JOBD_PLUGIN_HAS (&plugin->plugin, check) ||
            !plugin->plugin.check)
            continue;
        plugin->host = s_host_table (self, plugin);
        char why[400] = "";
        int rc = plugin->plugin.check (&plugin->host, why, sizeof why);
        if (rc == 0)
            continue;
        if (!*why)
            snprintf (why, sizeof why, "%s", jobd_strerror (rc));
        if (self->implicit) {
            //  Found in the folder with no section of its own (the embedded default config):
            //  a plugin that needs settings it was not given is left out, not failed.
            snprintf (plugin->error, sizeof plugin->error, "not configured: %s", why);
            plugin->disabled = true;
            jobd_log (JOBD_LOG_WARN, LOG, "plugin %s not started: not configured: %s", plugin->name,
                      why);
            continue;
        }
        snprintf (plugin->error, sizeof plugin->error, "config refused: %s", why);
        jobd_log (JOBD_LOG_ERROR, LOG, "plugin %s: %s", plugin->name, why);
        if (failed++ == 0)
            snprintf (reason, reason_size, "plugin %s: %s", plugin->name, why);
    }
    if (failed > 1)
        snprintf (reason, reason_size, "%d plugins refuse their config (see above)", failed);
    return failed ? JOBD_ECONFIG : 0;
}

size_t
jobd_plugin_loader_start (jobd_plugin_loader_t *self, jobd_broker_t *broker)
{
    size_t running = 0;
    for (s_plugin_t *plugin = (s_plugin_t *)zlistx_first (self->plugins); plugin;
         plugin = (s_plugin_t *)zlistx_next (self->plugins)) {
        const char *version = plugin->plugin.version;
        if (!plugin->error[0]) {
            plugin->host = s_host_table (self, plugin);
            char reason[400] = "";
            int rc = plugin->plugin.init (&plugin->host, &plugin->state, reason, sizeof reason);
            if (rc) {
                snprintf (plugin->error, sizeof plugin->error, "init failed: %s",
                          *reason ? reason : jobd_strerror (rc));
                jobd_log (JOBD_LOG_ERROR, LOG, "plugin %s not started: %s", plugin->name,
                          plugin->error);
            } else {
                plugin->actor = zactor_new (s_plugin_actor, plugin);
                plugin->started = true;
                running++;
            }
        }
        const char *status = plugin->disabled   ? "disabled"
                             : plugin->error[0] ? "failed"
                                                : "running";
        if (broker) {
            jobd_broker_owner (broker, plugin->name, &plugin->plugin, plugin->state, &plugin->host);
            jobd_broker_plugin (broker, plugin->name, version, status,
                                plugin->error[0] ? plugin->error : plugin->plugin.description);
        }
    }
    if (broker) {
        self->broker = broker;
        jobd_broker_owners_ready (broker);
    }
    return running;
}
