//  The mock host: a plugin's descriptor run without the daemon, for unit tests of its logic.
#include "jobd_mock_host.h"
#include "jobd_config.h"
#include "jobd_error.h"
#include "jobd_reply.h"
#include "jobd_request.h"
#include <dlfcn.h>
#include <stdarg.h>
#include <pthread.h>
#include <string.h>

struct jobd_mock_host {
    jobd_host_t host; //  first: the plugin's host table points at the mock
    char name[JOBD_NAME_MAX + 1];
    zhashx_t *config;  //  key -> value
    zsock_t *bus;      //  ROUTER, the broker's end of the bus
    zsock_t *events;   //  XPUB, the broker's end of the publications
    zlistx_t *topics;  //  subscriptions seen (char *)
    zframe_t *peer;    //  the plugin's bus identity, from its first message
    zchunk_t *figures; //  the figures of the last plugin.status received (none: NULL)
    void *handle;      //  dlopen's
    const jobd_plugin_t *plugin;
    void *state;
    zactor_t *actor;
    int run_rc;
    //  Shared with the plugin's threads, under mutex.
    pthread_mutex_t mutex;
    pthread_cond_t logged;
    zhashx_t *jobs;   //  id -> jobd_job_t
    zhashx_t *others; //  cluster mode: ids of jobs another instance acts on
    uint64_t changes; //  cluster mode: acting_changes
    zlistx_t *lines;  //  log lines (char *)
    zlistx_t *log;    //  transition log (zchunk_t), position = index + 1
    zlistx_t *names;  //  config_names' names, kept until destroy
};

//  The mock host alive, for jobd_mock_host_teardown: one at a time (the endpoints are fixed).
static jobd_mock_host_t *s_live;

static jobd_mock_host_t *
s_self (const jobd_host_t *host)
{
    return (jobd_mock_host_t *)host->core;
}

static int
s_job_acting (const jobd_host_t *host, const char *id, uint32_t *partition_p, uint64_t *epoch_p)
{
    jobd_mock_host_t *self = s_self (host);
    pthread_mutex_lock (&self->mutex);
    bool acting = !zhashx_lookup (self->others, id);
    pthread_mutex_unlock (&self->mutex);
    if (partition_p)
        *partition_p = 0;
    if (epoch_p)
        *epoch_p = acting ? 1 : 0;
    return acting ? 0 : JOBD_ENOTOWNER;
}

static uint64_t
s_acting_changes (const jobd_host_t *host)
{
    jobd_mock_host_t *self = s_self (host);
    pthread_mutex_lock (&self->mutex);
    uint64_t changes = self->changes;
    pthread_mutex_unlock (&self->mutex);
    return changes;
}

void
jobd_mock_host_cluster (jobd_mock_host_t *self, const char *instance)
{
    self->host.instance = instance;
    self->host.job_acting = s_job_acting;
    self->host.acting_changes = s_acting_changes;
}

void
jobd_mock_host_acting (jobd_mock_host_t *self, const char *id, bool acting)
{
    pthread_mutex_lock (&self->mutex);
    if (acting)
        zhashx_delete (self->others, id);
    else
        zhashx_update (self->others, id, (void *)1);
    self->changes++;
    pthread_mutex_unlock (&self->mutex);
}

static void
s_log (const jobd_host_t *host, jobd_log_level_t level, const char *format, ...)
{
    static const char *levels[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    jobd_mock_host_t *self = s_self (host);
    char line[2048];
    int used = snprintf (line, sizeof line, "%s %s: ", levels[level & 3], host->plugin_name);
    va_list args;
    va_start (args, format);
    vsnprintf (line + used, sizeof line - (size_t)used, format, args);
    va_end (args);
    fprintf (stderr, "mock host: %s\n", line);
    pthread_mutex_lock (&self->mutex);
    zlistx_add_end (self->lines, strdup (line));
    pthread_cond_broadcast (&self->logged);
    pthread_mutex_unlock (&self->mutex);
}

//  The map entry of key: "*" segments of the map match any one name.
static const jobd_conf_key_t *
s_map_entry (const jobd_plugin_t *plugin, const char *key)
{
    for (const jobd_conf_key_t *entry = plugin && plugin->config ? plugin->config : NULL;
         entry && entry->key; entry++) {
        const char *pattern = entry->key, *text = key;
        while (*pattern && *text) {
            if (*pattern == '*' && (pattern[1] == '/' || !pattern[1])) {
                pattern++;
                while (*text && *text != '/')
                    text++;
            } else if (*pattern++ != *text++)
                break;
        }
        if (!*pattern && !*text)
            return entry;
    }
    return NULL;
}

static const char *
s_config_str (const jobd_host_t *host, const char *key)
{
    jobd_mock_host_t *self = s_self (host);
    const char *value = (const char *)zhashx_lookup (self->config, key);
    const jobd_conf_key_t *entry = s_map_entry (self->plugin, key);
    return value ? value : entry ? entry->default_value : NULL;
}

//  Values are read as jobd reads them (jobd_config_parse_value).
static int64_t
s_config_int (const jobd_host_t *host, const char *key, int64_t fallback)
{
    const char *text = s_config_str (host, key);
    const jobd_conf_key_t *entry = s_map_entry (s_self (host)->plugin, key);
    int64_t value = 0;
    if (!text || jobd_config_parse_value (entry ? entry->type : JOBD_CONF_INT, text, &value))
        return fallback;
    return value;
}

//  The names are kept in self->names until destroy: the host's are borrowed that long.
static const char *
s_keep_name (jobd_mock_host_t *self, const char *name, size_t size)
{
    for (const char *kept = (const char *)zlistx_first (self->names); kept;
         kept = (const char *)zlistx_next (self->names))
        if (strlen (kept) == size && strncmp (kept, name, size) == 0)
            return kept;
    char *copy = strndup (name, size);
    zlistx_add_end (self->names, copy);
    return copy;
}

static size_t
s_config_names (const jobd_host_t *host, const char *path, const char **names, size_t max)
{
    jobd_mock_host_t *self = s_self (host);
    size_t path_size = strlen (path), count = 0;
    pthread_mutex_lock (&self->mutex);
    zlistx_t *keys = zhashx_keys (self->config);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *)strcmp);
    zlistx_sort (keys);
    const char *last = NULL;
    for (const char *key = (const char *)zlistx_first (keys); key;
         key = (const char *)zlistx_next (keys)) {
        if (strncmp (key, path, path_size) || key[path_size] != '/')
            continue;
        const char *name = key + path_size + 1;
        const char *slash = strchr (name, '/');
        const char *kept = s_keep_name (self, name, slash ? (size_t)(slash - name) : strlen (name));
        if (kept == last)
            continue;
        if (count < max)
            names[count] = kept;
        count++;
        last = kept;
    }
    zlistx_destroy (&keys);
    pthread_mutex_unlock (&self->mutex);
    return count;
}

static int
s_job_get (const jobd_host_t *host, const char *id, jobd_job_t **job_p)
{
    jobd_mock_host_t *self = s_self (host);
    pthread_mutex_lock (&self->mutex);
    const jobd_job_t *job = (const jobd_job_t *)zhashx_lookup (self->jobs, id);
    *job_p = job ? jobd_job_dup (job) : NULL;
    pthread_mutex_unlock (&self->mutex);
    return !job ? JOBD_ENOTFOUND : *job_p ? 0 : -ENOMEM;
}

static int
s_job_find (const jobd_host_t *host, const char *backend, const char *ext, char **id_p)
{
    jobd_mock_host_t *self = s_self (host);
    *id_p = NULL;
    pthread_mutex_lock (&self->mutex);
    for (const jobd_job_t *job = (const jobd_job_t *)zhashx_first (self->jobs); job && !*id_p;
         job = (const jobd_job_t *)zhashx_next (self->jobs))
        if (job->backend && job->ext && !strcmp (job->backend, backend) && !strcmp (job->ext, ext))
            *id_p = strdup (job->id);
    pthread_mutex_unlock (&self->mutex);
    return *id_p ? 0 : JOBD_ENOTFOUND;
}

//  fn is called on copies, outside the lock: it may call the host again.
static int
s_job_scan (const jobd_host_t *host, uint32_t state_mask, jobd_host_scan_fn *fn, void *arg)
{
    jobd_mock_host_t *self = s_self (host);
    zlistx_t *copies = zlistx_new ();
    zlistx_set_destructor (copies, (zlistx_destructor_fn *)jobd_job_destroy);
    pthread_mutex_lock (&self->mutex);
    for (const jobd_job_t *job = (const jobd_job_t *)zhashx_first (self->jobs); job;
         job = (const jobd_job_t *)zhashx_next (self->jobs))
        if (!state_mask || state_mask & (1u << job->state)) //  0: every job, as the core reads it
            zlistx_add_end (copies, jobd_job_dup (job));
    pthread_mutex_unlock (&self->mutex);
    for (const jobd_job_t *job = (const jobd_job_t *)zlistx_first (copies); job;
         job = (const jobd_job_t *)zlistx_next (copies))
        if (!fn (job, arg))
            break;
    zlistx_destroy (&copies);
    return 0;
}

//  ABI 1.3's reads: the record encoded, as the core hands it over (jobd_plugin_loader.c).
static int
s_job_read (const jobd_host_t *host, const char *id, jobd_host_job_fn *fn, void *arg)
{
    jobd_job_t *job = NULL;
    int rc = s_job_get (host, id, &job);
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

typedef struct {
    jobd_host_job_fn *fn;
    void *arg;
    int rc;
} s_scan_encoded_t;

static bool
s_scan_encoded_one (const jobd_job_t *job, void *arg)
{
    s_scan_encoded_t *scan = (s_scan_encoded_t *)arg;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    scan->rc = jobd_job_pack_to (job, &buffer);
    bool more = scan->rc == 0 && scan->fn ((const uint8_t *)buffer.data, buffer.size, scan->arg);
    msgpack_sbuffer_destroy (&buffer);
    return more;
}

static int
s_job_scan_encoded (const jobd_host_t *host, uint32_t state_mask, jobd_host_job_fn *fn, void *arg)
{
    s_scan_encoded_t scan = {.fn = fn, .arg = arg};
    int rc = s_job_scan (host, state_mask, s_scan_encoded_one, &scan);
    return rc ? rc : scan.rc;
}

//  ABI 1.6's ordered read, as the store's index gives it: by (updated_at, id).
static bool
s_collect (const jobd_job_t *job, void *arg)
{
    zlistx_add_end ((zlistx_t *)arg, jobd_job_dup (job));
    return true;
}

static int
s_by_updated (const void *a, const void *b)
{
    const jobd_job_t *first = (const jobd_job_t *)a, *second = (const jobd_job_t *)b;
    if (first->updated_at != second->updated_at)
        return first->updated_at < second->updated_at ? -1 : 1;
    return strcmp (first->id, second->id);
}

static int
s_job_scan_updated (const jobd_host_t *host, bool descending, int64_t after, const char *after_id,
                    jobd_host_job_fn *fn, void *arg)
{
    zlistx_t *jobs = zlistx_new ();
    zlistx_set_destructor (jobs, (zlistx_destructor_fn *)jobd_job_destroy);
    zlistx_set_comparator (jobs, s_by_updated);
    int rc = s_job_scan (host, 0, s_collect, jobs);
    zlistx_sort (jobs);
    jobd_job_t bound = {.id = (char *)(after_id ? after_id : ""), .updated_at = after};
    s_scan_encoded_t scan = {.fn = fn, .arg = arg};
    for (jobd_job_t *job = (jobd_job_t *)(descending ? zlistx_last (jobs) : zlistx_first (jobs));
         job && rc == 0 && scan.rc == 0;
         job = (jobd_job_t *)(descending ? zlistx_prev (jobs) : zlistx_next (jobs))) {
        int order = s_by_updated (job, &bound);
        if (after_id && (descending ? order >= 0 : order <= 0))
            continue;
        if (!s_scan_encoded_one (job, &scan))
            break;
    }
    zlistx_destroy (&jobs);
    return rc ? rc : scan.rc;
}

static int
s_log_read (const jobd_host_t *host, uint64_t after, size_t max, jobd_host_log_fn *fn, void *arg)
{
    jobd_mock_host_t *self = s_self (host);
    zlistx_t *copies = zlistx_new ();
    zlistx_set_destructor (copies, (zlistx_destructor_fn *)zchunk_destroy);
    pthread_mutex_lock (&self->mutex);
    uint64_t position = 0;
    for (zchunk_t *entry = (zchunk_t *)zlistx_first (self->log); entry;
         entry = (zchunk_t *)zlistx_next (self->log))
        if (++position > after && zlistx_size (copies) < max)
            zlistx_add_end (copies, zchunk_dup (entry));
    pthread_mutex_unlock (&self->mutex);
    int count = 0;
    for (zchunk_t *entry = (zchunk_t *)zlistx_first (copies); entry;
         entry = (zchunk_t *)zlistx_next (copies)) {
        count++;
        if (!fn (after + (uint64_t)count, zchunk_data (entry), zchunk_size (entry), arg))
            break;
    }
    zlistx_destroy (&copies);
    return count;
}

//  ABI 1.5: histories are not kept: a known job has none.
static int
s_job_history (const jobd_host_t *host, const char *id, size_t max, jobd_host_job_fn *fn, void *arg)
{
    (void)max;
    (void)fn;
    (void)arg;
    jobd_job_t *job = NULL;
    int rc = s_job_get (host, id, &job);
    jobd_job_destroy (&job);
    return rc;
}

//  Cursors are not kept: every reader starts at 0 (JOBD_ENOTFOUND).
static int
s_log_cursor (const jobd_host_t *host, const char *name, uint64_t *position_p, uint64_t *head_p)
{
    jobd_mock_host_t *self = s_self (host);
    pthread_mutex_lock (&self->mutex);
    if (position_p)
        *position_p = 0;
    if (head_p)
        *head_p = zlistx_size (self->log);
    pthread_mutex_unlock (&self->mutex);
    return JOBD_ENOTFOUND;
}

jobd_mock_host_t *
jobd_mock_host_new (const char *name)
{
    jobd_mock_host_t *self = (jobd_mock_host_t *)zmalloc (sizeof (jobd_mock_host_t));
    snprintf (self->name, sizeof self->name, "%s", name);
    self->bus = zsock_new_router ("@" JOBD_BUS_ENDPOINT);
    self->events = zsock_new (ZMQ_XPUB);
    if (self->events && zsock_bind (self->events, JOBD_EVENTS_ENDPOINT) != 0)
        zsock_destroy (&self->events);
    if (!self->bus || !self->events) {
        zsock_destroy (&self->bus);
        zsock_destroy (&self->events);
        free (self);
        return NULL;
    }
    zsock_set_xpub_verbose (self->events, 1);
    self->topics = zlistx_new ();
    zlistx_set_destructor (self->topics, (zlistx_destructor_fn *)zstr_free);
    self->names = zlistx_new ();
    zlistx_set_destructor (self->names, (zlistx_destructor_fn *)zstr_free);
    self->config = zhashx_new ();
    zhashx_set_destructor (self->config, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_duplicator (self->config, (zhashx_duplicator_fn *)strdup);
    self->jobs = zhashx_new ();
    zhashx_set_destructor (self->jobs, (zhashx_destructor_fn *)jobd_job_destroy);
    self->others = zhashx_new ();
    self->lines = zlistx_new ();
    zlistx_set_destructor (self->lines, (zlistx_destructor_fn *)zstr_free);
    self->log = zlistx_new ();
    zlistx_set_destructor (self->log, (zlistx_destructor_fn *)zchunk_destroy);
    pthread_mutex_init (&self->mutex, NULL);
    pthread_cond_init (&self->logged, NULL);
    self->host = (jobd_host_t){.size = sizeof (jobd_host_t),
                               .abi_major = JOBD_PLUGIN_ABI_MAJOR,
                               .abi_minor = JOBD_PLUGIN_ABI_MINOR,
                               .plugin_name = self->name,
                               .log = s_log,
                               .config_str = s_config_str,
                               .config_int = s_config_int,
                               .config_names = s_config_names,
                               .job_get = s_job_get,
                               .job_find = s_job_find,
                               .job_scan = s_job_scan,
                               .core = self,
                               .log_read = s_log_read,
                               .log_cursor = s_log_cursor,
                               .job_read = s_job_read,
                               .job_scan_encoded = s_job_scan_encoded,
                               .job_history = s_job_history,
                               .job_scan_updated = s_job_scan_updated};
    s_live = self;
    return self;
}

void
jobd_mock_host_destroy (jobd_mock_host_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_mock_host_t *self = *self_p;
    jobd_mock_host_stop (self);
    //  Unbound first: a closed socket's inproc endpoint is freed only later, by zmq's reaper,
    //  and the next mock host binds the same ones.
    zsock_unbind (self->bus, JOBD_BUS_ENDPOINT);
    zsock_unbind (self->events, JOBD_EVENTS_ENDPOINT);
    zsock_destroy (&self->bus);
    zsock_destroy (&self->events);
    zframe_destroy (&self->peer);
    zchunk_destroy (&self->figures);
    zlistx_destroy (&self->topics);
    zlistx_destroy (&self->names);
    zhashx_destroy (&self->config);
    zhashx_destroy (&self->jobs);
    zhashx_destroy (&self->others);
    zlistx_destroy (&self->lines);
    zlistx_destroy (&self->log);
    pthread_mutex_destroy (&self->mutex);
    pthread_cond_destroy (&self->logged);
    if (self->handle)
        dlclose (self->handle);
    if (s_live == self)
        s_live = NULL;
    free (self);
    *self_p = NULL;
}

int
jobd_mock_host_teardown (void **state)
{
    jobd_mock_host_destroy (&s_live);
    return 0;
}

void
jobd_mock_host_set (jobd_mock_host_t *self, const char *key, const char *value)
{
    pthread_mutex_lock (&self->mutex);
    zhashx_update (self->config, key, (void *)value);
    pthread_mutex_unlock (&self->mutex);
}

void
jobd_mock_host_set_batch_max (jobd_mock_host_t *self, uint32_t batch_max)
{
    self->host.batch_max = batch_max;
}

void
jobd_mock_host_job_put (jobd_mock_host_t *self, const jobd_job_t *job)
{
    pthread_mutex_lock (&self->mutex);
    zhashx_update (self->jobs, job->id, jobd_job_dup (job));
    pthread_mutex_unlock (&self->mutex);
}

uint64_t
jobd_mock_host_log_append (jobd_mock_host_t *self, const uint8_t *data, size_t size)
{
    pthread_mutex_lock (&self->mutex);
    zlistx_add_end (self->log, zchunk_new (data, size));
    uint64_t position = zlistx_size (self->log);
    pthread_mutex_unlock (&self->mutex);
    return position;
}

uint64_t
jobd_mock_host_log_event (jobd_mock_host_t *self, const char *topic, const jobd_event_t *event)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (jobd_event_encode (event, &data, &size, NULL, 0))
        return 0;
    uint64_t position = jobd_mock_host_log_append (self, data, size);
    free (data);
    return topic && jobd_mock_host_publish (self, topic, event) ? 0 : position;
}

const jobd_plugin_t *
jobd_mock_host_load (jobd_mock_host_t *self, const char *plugin_path, char *reason,
                     size_t reason_size)
{
    assert (!self->handle);
    char path[1024];
    const char *build = getenv ("JOBD_BUILD_DIR");
    if (strchr (plugin_path, '/'))
        snprintf (path, sizeof path, "%s", plugin_path);
    else
        snprintf (path, sizeof path, "%s/plugins/%s.so", build ? build : ".", plugin_path);
    //  RTLD_NODELETE, as jobd: librdkafka, libcurl and OpenSSL keep global state from first use.
    self->handle = dlopen (path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    const jobd_plugin_t *plugin =
        self->handle ? (const jobd_plugin_t *)dlsym (self->handle, JOBD_PLUGIN_SYMBOL) : NULL;
    if (!plugin)
        snprintf (reason, reason_size, "%s", dlerror ());
    else if (plugin->abi_major != JOBD_PLUGIN_ABI_MAJOR) {
        snprintf (reason, reason_size, "ABI %u, not %u", plugin->abi_major, JOBD_PLUGIN_ABI_MAJOR);
        plugin = NULL;
    }
    return plugin;
}

jobd_mock_host_t *
jobd_mock_host_open (const char *name, const char *const *config, const jobd_plugin_t **plugin_p,
                     char *reason, size_t reason_size)
{
    jobd_mock_host_t *self = jobd_mock_host_new (name);
    *plugin_p = NULL;
    if (!self) {
        snprintf (reason, reason_size, "the bus endpoints are taken");
        return NULL;
    }
    for (size_t index = 0; config && config[index] && config[index + 1]; index += 2)
        jobd_mock_host_set (self, config[index], config[index + 1]);
    *plugin_p = jobd_mock_host_load (self, name, reason, reason_size);
    if (!*plugin_p)
        jobd_mock_host_destroy (&self);
    return self;
}

//  Keys the map does not have, and required ones not set, are refused as jobd refuses them.
static int
s_check_config (jobd_mock_host_t *self, const jobd_plugin_t *plugin, char *reason,
                size_t reason_size)
{
    for (const char *value = (const char *)zhashx_first (self->config); value;
         value = (const char *)zhashx_next (self->config)) {
        const char *key = (const char *)zhashx_cursor (self->config);
        const jobd_conf_key_t *entry = s_map_entry (plugin, key);
        int64_t parsed;
        if (!entry || jobd_config_parse_value (entry->type, value, &parsed)) {
            snprintf (reason, reason_size, "%s: %s", entry ? "bad value" : "unknown key", key);
            return JOBD_ECONFIG;
        }
    }
    for (const jobd_conf_key_t *entry = plugin->config; entry && entry->key; entry++)
        if (!entry->default_value && !strchr (entry->key, '*') &&
            !zhashx_lookup (self->config, entry->key)) {
            snprintf (reason, reason_size, "required key not set: %s", entry->key);
            return JOBD_ECONFIG;
        }
    return 0;
}

//  The plugin's thread, as the loader's: its sockets, then run until $TERM.
static void
s_actor (zsock_t *pipe, void *arg)
{
    jobd_mock_host_t *self = (jobd_mock_host_t *)arg;
    zsock_t *bus = zsock_new_dealer (">" JOBD_BUS_ENDPOINT);
    zsock_t *events = zsock_new_sub (">" JOBD_EVENTS_ENDPOINT, NULL);
    zsock_set_linger (bus, 1000);
    zsock_signal (pipe, 0);
    self->run_rc = self->plugin->run (self->state, &self->host, pipe, bus, events);
    zsock_destroy (&events);
    zsock_destroy (&bus);
}

int
jobd_mock_host_start (jobd_mock_host_t *self, const jobd_plugin_t *plugin, char *reason,
                      size_t reason_size)
{
    assert (plugin);
    assert (!self->actor);
    self->plugin = plugin;
    int rc = s_check_config (self, plugin, reason, reason_size);
    if (rc == 0)
        rc = plugin->init (&self->host, &self->state, reason, reason_size);
    if (rc == 0)
        self->actor = zactor_new (s_actor, self);
    return rc;
}

int
jobd_mock_host_validate (jobd_mock_host_t *self, const char *kind, const char *backend,
                         const char *name, const char *spec, char *reason, size_t reason_size)
{
    assert (self->actor); //  started: the state validate reads is init's
    reason[0] = 0;
    if (!JOBD_PLUGIN_HAS (self->plugin, validate) || !self->plugin->validate)
        return 0;
    jobd_submission_t submission = {
        .size = sizeof submission, .kind = kind, .name = name, .backend = backend, .spec = spec};
    return self->plugin->validate (self->state, &self->host, &submission, reason, reason_size);
}

int
jobd_mock_host_stop (jobd_mock_host_t *self)
{
    if (!self->actor)
        return 0;
    zactor_destroy (&self->actor); //  sends $TERM and waits for the thread
    self->plugin->destroy (&self->state);
    return self->run_rc;
}

//  The next message the plugin sends on the bus (identity, payload), or NULL past deadline.
static zmsg_t *
s_bus_next (jobd_mock_host_t *self, zpoller_t *poller, int64_t deadline)
{
    int64_t left = deadline - zclock_time ();
    if (left < 0 || !zpoller_wait (poller, (int)left))
        return NULL;
    return zmsg_recv (self->bus);
}

jobd_event_t *
jobd_mock_host_recv (jobd_mock_host_t *self, int timeout)
{
    int64_t deadline = zclock_time () + timeout;
    zpoller_t *poller = zpoller_new (self->bus, NULL);
    jobd_event_t *event = NULL;
    zmsg_t *msg;
    while (!event && (msg = s_bus_next (self, poller, deadline))) {
        zframe_t *identity = msg ? zmsg_pop (msg) : NULL;
        zframe_t *payload = msg ? zmsg_last (msg) : NULL;
        char why[256] = "";
        if (payload && jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, why,
                                          sizeof why)) {
            fprintf (stderr, "mock host: the plugin sent an event that does not decode: %s\n", why);
            event = NULL;
        }
        if (identity) {
            zframe_destroy (&self->peer);
            self->peer = identity;
        }
        if (event && event->type == JOBD_EVENT_PLUGIN_STATUS) {
            //  The plugin's figures now: those of its last status (jobd_mock_host_figure).
            zchunk_destroy (&self->figures);
            if (event->figures.data)
                self->figures = zchunk_new (event->figures.data, event->figures.size);
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return event;
}

jobd_event_t *
jobd_mock_host_expect (jobd_mock_host_t *self, jobd_event_type_t type, int timeout)
{
    int64_t deadline = zclock_time () + timeout;
    jobd_event_t *event = NULL;
    int64_t left;
    while ((left = deadline - zclock_time ()) >= 0 &&
           (event = jobd_mock_host_recv (self, (int)left)) && event->type != type)
        jobd_event_destroy (&event);
    return event;
}

//  The value of name with the labels (pairs in labels[0..count)) in figures, if it is there.
static bool
s_figure_in (const msgpack_object *figures, const char *name, const char **labels, size_t count,
             double *value_p)
{
    for (uint32_t index = 0;
         figures->type == MSGPACK_OBJECT_ARRAY && index < figures->via.array.size; index++) {
        const msgpack_object *entry = figures->via.array.ptr[index].via.array.ptr;
        if (entry[0].via.str.size != strlen (name) ||
            memcmp (entry[0].via.str.ptr, name, strlen (name)))
            continue;
        size_t matched = 0;
        for (size_t label = 0; label < count; label++) {
            const msgpack_object *map =
                figures->via.array.ptr[index].via.array.size > 2 ? &entry[2] : NULL;
            for (uint32_t pair = 0;
                 map && map->type == MSGPACK_OBJECT_MAP && pair < map->via.map.size; pair++) {
                const msgpack_object_kv *kv = &map->via.map.ptr[pair];
                if (kv->key.via.str.size == strlen (labels[2 * label]) &&
                    !memcmp (kv->key.via.str.ptr, labels[2 * label], kv->key.via.str.size) &&
                    kv->val.via.str.size == strlen (labels[2 * label + 1]) &&
                    !memcmp (kv->val.via.str.ptr, labels[2 * label + 1], kv->val.via.str.size))
                    matched++;
            }
        }
        if (matched < count)
            continue;
        const msgpack_object *value = &entry[1];
        *value_p = value->type == MSGPACK_OBJECT_POSITIVE_INTEGER   ? (double)value->via.u64
                   : value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? (double)value->via.i64
                                                                    : value->via.f64;
        return true;
    }
    return false;
}

bool
jobd_mock_host_figure (jobd_mock_host_t *self, const char *name, double min, double *value_p,
                       int timeout, ...)
{
    const char *labels[8];
    size_t count = 0;
    va_list args;
    va_start (args, timeout);
    const char *label;
    while (count < 4 && (label = va_arg (args, const char *))) {
        labels[2 * count] = label;
        labels[2 * count + 1] = va_arg (args, const char *);
        count++;
    }
    va_end (args);
    //  The last status's figures first: the plugin sends them again only when they change.
    int64_t deadline = zclock_time () + timeout;
    for (;;) {
        double value = 0;
        bool found = false;
        if (self->figures) {
            msgpack_unpacked unpacked;
            msgpack_unpacked_init (&unpacked);
            size_t offset = 0;
            if (msgpack_unpack_next (&unpacked, (const char *)zchunk_data (self->figures),
                                     zchunk_size (self->figures),
                                     &offset) == MSGPACK_UNPACK_SUCCESS)
                found = s_figure_in (&unpacked.data, name, labels, count, &value) && value >= min;
            msgpack_unpacked_destroy (&unpacked);
        }
        if (found) {
            if (value_p)
                *value_p = value;
            return true;
        }
        int64_t left = deadline - zclock_time ();
        jobd_event_t *event =
            left >= 0 ? jobd_mock_host_expect (self, JOBD_EVENT_PLUGIN_STATUS, (int)left) : NULL;
        if (!event)
            return false;
        jobd_event_destroy (&event);
    }
}

int
jobd_mock_host_reply (jobd_mock_host_t *self, const char *event_id, const char *error,
                      const char *reason, const char *job, const char *outcome)
{
    if (!self->peer)
        return -ENOTCONN;
    //  The broker's own codec: an error travels as its name, which must be one jobd knows.
    int rc = 0;
    if (error && jobd_error_parse (error, strlen (error), &rc))
        return -EINVAL;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    jobd_reply_pack (&pk, event_id, rc, reason, job, outcome);
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *){zframe_dup (self->peer)});
    zmsg_addmem (msg, buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return zmsg_send (&msg, self->bus) ? -EAGAIN : 0;
}

bool
jobd_mock_host_answer_plugins (jobd_mock_host_t *self, const jobd_answer_plugin_t *plugins,
                               size_t count, int timeout)
{
    int64_t deadline = zclock_time () + timeout;
    zpoller_t *poller = zpoller_new (self->bus, NULL);
    bool answered = false;
    zmsg_t *msg;
    while (!answered && (msg = s_bus_next (self, poller, deadline))) {
        zframe_t *identity = msg ? zmsg_pop (msg) : NULL;
        zframe_t *payload = msg ? zmsg_last (msg) : NULL;
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        jobd_request_in_t query;
        if (payload &&
            jobd_msgpack_unpack (zframe_data (payload), zframe_size (payload), &unpacked, NULL,
                                 0) == 0 &&
            jobd_request_read (&unpacked.data, &query, NULL, 0) == 0 &&
            strcmp (query.q, "plugins") == 0) {
            msgpack_sbuffer buffer;
            msgpack_sbuffer_init (&buffer);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
            jobd_answer_pack_plugins (&pk, query.id, plugins, count);
            zmsg_t *reply = zmsg_new ();
            zmsg_append (reply, &identity);
            zmsg_addmem (reply, buffer.data, buffer.size);
            msgpack_sbuffer_destroy (&buffer);
            answered = zmsg_send (&reply, self->bus) == 0;
        }
        msgpack_unpacked_destroy (&unpacked);
        zframe_destroy (&identity);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return answered;
}

bool
jobd_mock_host_subscribed (jobd_mock_host_t *self, const char *topic, int timeout)
{
    int64_t deadline = zclock_time () + timeout;
    zpoller_t *poller = zpoller_new (self->events, NULL);
    bool found = false;
    while (!found) {
        for (const char *prefix = (const char *)zlistx_first (self->topics); prefix && !found;
             prefix = (const char *)zlistx_next (self->topics))
            found = strncmp (topic, prefix, strlen (prefix)) == 0;
        int64_t left = deadline - zclock_time ();
        if (found || left < 0 || !zpoller_wait (poller, (int)left))
            break;
        zframe_t *frame = zframe_recv (self->events);
        //  A subscription: 1 and the topic (0 and the topic: an unsubscription, not kept).
        if (frame && zframe_size (frame) > 0 && zframe_data (frame)[0] == 1)
            zlistx_add_end (self->topics, strndup ((const char *)zframe_data (frame) + 1,
                                                   zframe_size (frame) - 1));
        zframe_destroy (&frame);
    }
    zpoller_destroy (&poller);
    return found;
}

int
jobd_mock_host_publish (jobd_mock_host_t *self, const char *topic, const jobd_event_t *event)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = jobd_event_encode (event, &data, &size, NULL, 0);
    if (rc)
        return rc;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, topic);
    zmsg_addmem (msg, data, size);
    free (data);
    return zmsg_send (&msg, self->events) ? -EAGAIN : 0;
}

bool
jobd_mock_host_log_wait (jobd_mock_host_t *self, const char *text, int timeout)
{
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += timeout / 1000;
    until.tv_nsec += (long)(timeout % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->mutex);
    bool found = false;
    size_t checked = 0;
    while (!found) {
        size_t index = 0;
        for (const char *line = (const char *)zlistx_first (self->lines); line && !found;
             line = (const char *)zlistx_next (self->lines))
            if (index++ >= checked)
                found = strstr (line, text) != NULL;
        checked = index;
        if (found || pthread_cond_timedwait (&self->logged, &self->mutex, &until))
            break;
    }
    pthread_mutex_unlock (&self->mutex);
    return found;
}
