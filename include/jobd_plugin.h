//  The plugin ABI: the one header a jobd plugin includes. A plugin is a shared object that
//  exports exactly one symbol, the const descriptor `jobd_plugin` (JOBD_PLUGIN_DEFINE).
#ifndef JOBD_PLUGIN_H_INCLUDED
#define JOBD_PLUGIN_H_INCLUDED

#include "jobd_event.h"
#include "jobd_job.h"
#include <czmq.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  A plugin built for another major is refused. Minor versions only append fields to the
//  descriptor and the host table: each side reads only what the other's size covers.
//
//  What crosses the boundary between the core and a plugin is one of three things, so that
//  neither side depends on the other's struct layouts or on the other's copy of proto:
//  - sized: a struct that starts with its own size and only grows at the end (the descriptor,
//    the host table); the reader checks the size before reading a field (JOBD_PLUGIN_HAS,
//    JOBD_HOST_HAS). The entries of a config map (jobd_conf_key_t) are fixed by ABI 1.0.
//  - encoded: msgpack bytes with their size (events on the bus, transition log entries, job
//    records from job_read and job_scan_encoded), decoded by the reader's own proto.
//  - borrowed for a call: a pointer valid only until the call returns; the side that allocates
//    memory is the side that frees it.
//  job_get and job_scan, which hand over the core's jobd_job_t, are kept for 1.0-1.2 plugins;
//  plugins use jobd_host_job_get and jobd_host_job_scan below.
#define JOBD_PLUGIN_ABI_MAJOR 1
#define JOBD_PLUGIN_ABI_MINOR 9
#define JOBD_PLUGIN_SYMBOL    "jobd_plugin"

//  Inproc endpoints of the bus, for plugins that open more sockets on other threads.
#define JOBD_BUS_ENDPOINT    "inproc://jobd-bus"
#define JOBD_EVENTS_ENDPOINT "inproc://jobd-events"

//  The topic of the broker's status.ask (plugins only; jobd_sdk_status_listen subscribes to it).
#define JOBD_STATUS_ASK_TOPIC "cmd.status"

//  The one-frame message the events endpoint sends each new subscriber that subscribes to it.
#define JOBD_WELCOME_TOPIC "jobd.welcome"

typedef enum {
    JOBD_LOG_ERROR = 0,
    JOBD_LOG_WARN = 1,
    JOBD_LOG_INFO = 2,
    JOBD_LOG_DEBUG = 3
} jobd_log_level_t;

//  Config value types. The host parses and checks every value before the plugin starts, so a
//  plugin never sees a malformed one.
typedef enum {
    JOBD_CONF_STRING = 1, //  any text
    JOBD_CONF_INT,        //  a signed decimal integer
    JOBD_CONF_BOOL,       //  true|false|yes|no|on|off|1|0
    JOBD_CONF_DURATION,   //  "250ms", "2s", "5m", "1h" or plain milliseconds; read as ms
    JOBD_CONF_SIZE        //  "512", "64k", "16MiB", "1G"; read as bytes
} jobd_conf_type_t;

//  One entry of a plugin's typed config map; the map ends with an entry whose key is NULL.
//  A key is a path below the plugin's section; a "*" segment matches any one name, for named
//  subsections ("backend/*/url"). Keys not in the map stop jobd's start-up.
typedef struct {
    const char *key;
    jobd_conf_type_t type;
    const char
        *default_value; //  NULL: required (a "*" key is required only in a present subsection)
    const char *help;
} jobd_conf_key_t;

typedef struct jobd_host jobd_host_t;

//  ABI 1.4: a submission as the plugin that owns its kind checks it (jobd_plugin_t.validate),
//  borrowed for the call. Sized: a field the size does not cover is absent (JOBD_SUBMISSION_HAS).
typedef struct {
    uint32_t size;       //  sizeof (jobd_submission_t) in the core that built it
    const char *kind;    //  never NULL
    const char *name;    //  the job's name, or NULL
    const char *backend; //  the backend named by the submission, or NULL
    const char *spec;    //  the spec, JSON text (an object), or NULL
} jobd_submission_t;

//  True when the submission has field (a core of this minor or newer built it).
#define JOBD_SUBMISSION_HAS(submission, field)                                                     \
    ((submission)->size >= offsetof (jobd_submission_t, field) + sizeof ((submission)->field))

//  Called by jobd_host_t.job_scan for each job; the job is borrowed for the call. Return false
//  to stop.
typedef bool (jobd_host_scan_fn) (const jobd_job_t *job, void *arg);

//  Called by jobd_host_t.job_read and job_scan_encoded for each job: the job record encoded as
//  one msgpack map (jobd_job_encode, proto/README.md), borrowed for the call. Return false to
//  stop a scan.
typedef bool (jobd_host_job_fn) (const uint8_t *data, size_t size, void *arg);

//  Called by jobd_host_t.log_read for each entry of the transition log: its position and the
//  encoded event (msgpack, proto/README.md), borrowed for the call: a `transition`, or (for
//  plugins built for ABI 1.6 or later) a `stale`; skip types you do not use, as more may come.
//  Plugins built for 1.1 to 1.5 are handed transitions only. Return false to stop.
typedef bool (jobd_host_log_fn) (uint64_t position, const uint8_t *data, size_t size, void *arg);

//  True when the host table has field (a core of this minor or newer built it).
#define JOBD_HOST_HAS(host, field)                                                                 \
    ((host)->size >= offsetof (jobd_host_t, field) + sizeof ((host)->field))

//  The host table: the plugin's only way into the core. Owned by the core, valid from init until
//  destroy returns. Functions marked "any thread" may be called from threads the plugin starts.
struct jobd_host {
    uint32_t size; //  sizeof (jobd_host_t) in the core that built it
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *plugin_name; //  the plugin's section name

    //  Logs one line, prefixed with the plugin's name. Any thread.
    void (*log) (const jobd_host_t *self, jobd_log_level_t level, const char *format, ...)
        __attribute__ ((format (printf, 3, 4)));

    //  Returns the value of a key of the plugin's section (its default when unset), or NULL when
    //  unset without default. Borrowed until destroy. Any thread.
    const char *(*config_str) (const jobd_host_t *self, const char *key);

    //  Returns the parsed value of an INT, BOOL (0/1), DURATION (ms) or SIZE (bytes) key, or
    //  fallback when unset. Any thread.
    int64_t (*config_int) (const jobd_host_t *self, const char *key, int64_t fallback);

    //  Writes up to max names of the subsections under path (e.g. "backend") into names
    //  (borrowed until destroy). Returns how many exist. Any thread.
    size_t (*config_names) (const jobd_host_t *self, const char *path, const char **names,
                            size_t max);

    //  Store reads: a consistent snapshot of committed data each. Return 0 or a negative error
    //  (JOBD_ENOTFOUND). Returned objects are fresh: free them with jobd_job_destroy or free().
    //  Any thread. job_get and job_scan hand over the core's own jobd_job_t (no size, allocated
    //  by the core's proto): kept for 1.0-1.2 plugins; use jobd_host_job_get and
    //  jobd_host_job_scan, which use job_read and job_scan_encoded when the core has them.
    int (*job_get) (const jobd_host_t *self, const char *id, jobd_job_t **job_p);
    int (*job_find) (const jobd_host_t *self, const char *backend, const char *ext, char **id_p);
    int (*job_scan) (const jobd_host_t *self, uint32_t state_mask, jobd_host_scan_fn *fn,
                     void *arg);

    void *core; //  the core's own; plugins do not touch it

    //  ABI 1.1: the transition log, every committed transition in commit order, for plugins that
    //  forward transitions and must lose none across restarts and outages. A reader names itself
    //  with a cursor: it sends `cursor` events (name, seq: the last position it is done with) on
    //  the bus; logging starts with the first cursor, and entries all cursors passed are dropped.
    //  Check JOBD_HOST_HAS (host, log_read) first. Any thread.

    //  Calls fn for up to max entries after position `after`, in order. Returns how many it read,
    //  or a negative error.
    int (*log_read) (const jobd_host_t *self, uint64_t after, size_t max, jobd_host_log_fn *fn,
                     void *arg);
    //  Reads cursor name's position (JOBD_ENOTFOUND and 0 when never set) and the log's head
    //  (the last position written). Either pointer may be NULL.
    int (*log_cursor) (const jobd_host_t *self, const char *name, uint64_t *position_p,
                       uint64_t *head_p);

    //  ABI 1.2: the broker takes `batch` events (proto/README.md, section 3): up to batch_max
    //  observations in one bus message, applied in one commit and answered by one reply that
    //  holds each observation's reply in order. Check JOBD_HOST_HAS (host, batch_max) first;
    //  0: send observations one by one.
    uint32_t batch_max;

    //  ABI 1.3: size-carrying store reads. The job record is handed to fn encoded (msgpack, with
    //  its size), borrowed for the call: the plugin decodes it with its own proto, into memory
    //  it allocates and frees itself. Check JOBD_HOST_HAS (host, job_read) first, or call the
    //  helpers jobd_host_job_get and jobd_host_job_scan. Any thread.

    //  Calls fn once with job id's record. Returns 0, JOBD_ENOTFOUND, or a negative error.
    int (*job_read) (const jobd_host_t *self, const char *id, jobd_host_job_fn *fn, void *arg);
    //  Calls fn for each job whose state is in state_mask (bit 1 << state; 0: every job), until
    //  fn returns false. Returns 0 or a negative error.
    int (*job_scan_encoded) (const jobd_host_t *self, uint32_t state_mask, jobd_host_job_fn *fn,
                             void *arg);

    //  ABI 1.5: for readers that show jobs (the http plugin). Check JOBD_HOST_HAS first.

    //  jobd's run folder (owner-only, core/run_dir), for a plugin's own files beside jobd's
    //  sockets (the http plugin's token). Borrowed until destroy.
    const char *run_dir;
    //  Calls fn for each of the last max transitions of job id's history, in seq order, each
    //  encoded as its transition event (msgpack, proto/README.md), borrowed for the call, in one
    //  read transaction. Returns how many transitions the history holds in all (so the caller
    //  knows how many earlier ones it skipped), JOBD_ENOTFOUND, or a negative error. Any thread.
    int (*job_history) (const jobd_host_t *self, const char *id, size_t max, jobd_host_job_fn *fn,
                        void *arg);

    //  ABI 1.6: the transition log's entries may be `stale` events too (jobd_host_log_fn), and
    //  jobs can be read in the order of their last change. Check JOBD_HOST_HAS first.

    //  Calls fn for each job in the order of its last change (updated_at, then id), newest first
    //  when descending, from strictly after (after, after_id) in that order (after_id NULL: from
    //  the start), each record encoded as for job_scan_encoded, until fn returns false; through
    //  an index, so a page of the newest jobs costs that page. One read transaction. Returns 0,
    //  JOBD_ENOTFOUND when the store has no such index (an old store opened read only: use
    //  job_scan_encoded), or a negative error. Any thread.
    int (*job_scan_updated) (const jobd_host_t *self, bool descending, int64_t after,
                             const char *after_id, jobd_host_job_fn *fn, void *arg);

    //  ABI 1.7: cluster mode (docs/cluster.md). Each job belongs to one partition, and one
    //  instance of the cluster acts on a partition's jobs at a time: it alone submits, polls,
    //  kills, plans retries and notifies for them. Every instance sees every job (store reads,
    //  events). Check JOBD_HOST_HAS first, or call jobd_host_acting: an older core is a single
    //  jobd, which acts on every job.

    //  This instance's name in its cluster (cluster/instance), or NULL for a single jobd.
    //  Borrowed until destroy.
    const char *instance;
    //  Whether this instance acts on job id now: 0, or JOBD_ENOTOWNER (another instance does,
    //  or none yet). *partition_p gets the job's partition and *epoch_p the epoch this instance
    //  acts under there (0 when it does not); either may be NULL. A single jobd acts on every
    //  job (0, partition 0, epoch 0). Ask right before each side effect (a request to a
    //  backend, a plan, a notification): ownership moves at any time. Any thread.
    int (*job_acting) (const jobd_host_t *self, const char *id, uint32_t *partition_p,
                       uint64_t *epoch_p);
    //  A count that grows each time the set of partitions this instance acts on changes (always
    //  0 in a single jobd). A plugin that keeps jobs in memory reads it each turn; when it moved,
    //  it drops the jobs it no longer acts on and scans the store for those it now does. Any
    //  thread.
    uint64_t (*acting_changes) (const jobd_host_t *self);

    //  ABI 1.8: the transition log's position when this instance began to act on partition
    //  under its present claim (0 in a single jobd). The log's entries of that partition's jobs
    //  up to it were committed under an earlier owner, which notified and forwarded them itself
    //  (it does so before it lets a partition go): a reader of the log that acts for jobs (the
    //  notifier, the outbound topic) leaves them alone, or each would go out twice. Any thread.
    uint64_t (*acting_since) (const jobd_host_t *self, uint32_t partition);

    //  ABI 1.9: cluster mode, readers that must not lose a transition when an owner dies
    //  (docs/cluster.md, section 7): a partition's transitions in changelog order, read by its
    //  owner, with cursors that the changelog carries to the next owner. A reader moves its
    //  cursor of partition P with a `cursor` event whose `stream` is "changelog/P" (sent only
    //  while it owns P; proto/README.md). Check JOBD_HOST_HAS first; partitions is 0 in a single
    //  jobd, where the transition log (log_read) is the one to read.

    //  The cluster's number of partitions (0: a single jobd).
    uint32_t partitions;
    //  The epoch this instance acts on partition under now, or 0 when it does not. Any thread.
    uint64_t (*partition_acting) (const jobd_host_t *self, uint32_t partition);
    //  Calls fn for partition's transitions after position `after`, in changelog order, up to
    //  max (never ending inside one changelog record: a position may repeat, and a reader done
    //  with position P is done with all before P). Each is handed over as in log_read (a
    //  `transition`). Returns how many it read, or a negative error. Any thread.
    int (*plog_read) (const jobd_host_t *self, uint32_t partition, uint64_t after, size_t max,
                      jobd_host_log_fn *fn, void *arg);
    //  Reads cursor name's position in partition (JOBD_ENOTFOUND and 0 when never set) and the
    //  partition's head (the last position the changelog gave this instance). Either pointer
    //  may be NULL. The partition keeps its transitions from the first cursor of any reader on,
    //  until every reader's cursor passed them. Any thread.
    int (*plog_cursor) (const jobd_host_t *self, const char *name, uint32_t partition,
                        uint64_t *position_p, uint64_t *head_p);
};

//  The descriptor. Only ever appended to: the loader accepts any descriptor from ABI 1.0 on
//  (JOBD_PLUGIN_SIZE_1_0 bytes or more), and reads a field that a descriptor's size does not
//  cover as absent (JOBD_PLUGIN_HAS).
typedef struct {
    uint16_t abi_major; //  JOBD_PLUGIN_ABI_MAJOR
    uint16_t abi_minor; //  JOBD_PLUGIN_ABI_MINOR
    uint32_t size;      //  sizeof (jobd_plugin_t)
    const char *name;   //  short name; its config section is plugins/<name>
    const char *version;
    const char *description;
    const jobd_conf_key_t *config; //  typed config map, or NULL for no keys

    //  Called on jobd's main thread before run: checks what config alone cannot, allocates.
    //  Returns 0 and sets *state_p, or a negative error with a reason for the operator.
    int (*init) (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size);

    //  Runs on the plugin's own thread until "$TERM" arrives on pipe. bus is a DEALER connected
    //  to the broker: send events with jobd_plugin_send, read replies (for events with reply set).
    //  events is a SUB connected to the broker's publications, subscribed to nothing: subscribe
    //  to the topics wanted ("job.QUEUED.", "cmd.cancel.<kind>", ...; see proto/README.md).
    //  The sockets belong to the host. Returns 0 after $TERM, or a negative error if the plugin
    //  had to stop by itself (reported as failed).
    int (*run) (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events);

    //  Frees the state; NULL-safe; sets *state_p to NULL. Called on the main thread after run.
    void (*destroy) (void **state_p);
    //  The last field of ABI 1.0 is destroy: fields appended after it go below, each with the
    //  minor that added it.

    //  ABI 1.4: the kinds of job this plugin takes submissions of, a NULL-terminated list
    //  ({NULL}: none, the plugin only follows jobs), static. A `submit` of a kind that no running
    //  plugin lists is refused with JOBD_EINVAL, naming the kinds that are listed. NULL, or a
    //  descriptor without this field (ABI 1.0-1.3), says nothing: while such a plugin runs, a
    //  kind nobody lists is accepted unchecked, as before 1.4 (it may be that plugin's).
    const char *const *kinds;
    //  ABI 1.4: checks a submission of one of kinds before anything is stored: the kind, the
    //  backend, the spec's keys and types. Returns 0, or JOBD_EINVAL with a one-line reason for
    //  the client (which key, what was wanted). NULL: submissions are accepted unchecked. Called
    //  on the broker's thread, between init and destroy, while run may be running: it must be
    //  pure (read only the submission and what init prepared, no I/O, no lock run may hold).
    int (*validate) (void *state, const jobd_host_t *host, const jobd_submission_t *submission,
                     char *reason, size_t reason_size);
    //  ABI 1.6: `jobd --check`: checks the plugin's config as init would refuse it (values that
    //  the typed map cannot judge alone, files it names, combinations), with no side effect: no
    //  file written, no port bound, no connection, nothing left allocated. Returns 0, or
    //  JOBD_ECONFIG (or another negative error) with a one-line reason for the operator. The host
    //  table has no store then (its store reads answer JOBD_ESTORE). NULL: --check vets the
    //  plugin's typed config map only.
    int (*check) (const jobd_host_t *host, char *reason, size_t reason_size);
} jobd_plugin_t;

//  The size of the ABI 1.0 descriptor, frozen: the smallest descriptor the loader accepts.
#define JOBD_PLUGIN_SIZE_1_0                                                                       \
    (offsetof (jobd_plugin_t, destroy) + sizeof (((jobd_plugin_t *)0)->destroy))

//  True when the descriptor has field (its size covers it).
#define JOBD_PLUGIN_HAS(desc, field)                                                               \
    ((desc)->size >= offsetof (jobd_plugin_t, field) + sizeof ((desc)->field))

#define JOBD_PLUGIN_EXPORT __attribute__ ((visibility ("default")))

//  Defines the plugin's one exported symbol: JOBD_PLUGIN_DEFINE (.name = "x", .init = ..., ...).
#define JOBD_PLUGIN_DEFINE(...)                                                                    \
    JOBD_PLUGIN_EXPORT const jobd_plugin_t jobd_plugin = {.abi_major = JOBD_PLUGIN_ABI_MAJOR,      \
                                                          .abi_minor = JOBD_PLUGIN_ABI_MINOR,      \
                                                          .size = sizeof (jobd_plugin_t),          \
                                                          __VA_ARGS__}

//  Encodes event and sends it to the broker on bus (one frame). Text that is not UTF-8 (a
//  backend's message, a string cut inside a character), which the broker refuses, is sent with
//  U+FFFD for its invalid bytes rather than lost. Returns 0, or a negative error (the event is
//  invalid, or the socket refused it).
static inline int
jobd_plugin_send (zsock_t *bus, const jobd_event_t *event)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = jobd_event_encode (event, &data, &size, NULL, 0);
    if (rc == JOBD_EPROTO) {
        jobd_event_t *fixed = jobd_event_dup (event);
        if (fixed && jobd_event_fix_utf8 (fixed) > 0)
            rc = jobd_event_encode (fixed, &data, &size, NULL, 0);
        jobd_event_destroy (&fixed);
    }
    if (rc)
        return rc;
    zframe_t *frame = zframe_new (data, size);
    free (data);
    if (!frame)
        return -ENOMEM;
    if (zframe_send (&frame, bus, 0)) {
        zframe_destroy (&frame);
        return -EAGAIN;
    }
    return 0;
}

//  Whether this instance acts on job id now (ABI 1.7's job_acting; true on an older core, which
//  is a single jobd). Any thread.
static inline bool
jobd_host_acting (const jobd_host_t *host, const char *id)
{
    return !JOBD_HOST_HAS (host, job_acting) || !host->job_acting ||
           host->job_acting (host, id, NULL, NULL) == 0;
}

//  Whether this instance acts on job id now and the log entry at position was committed under
//  its present claim (ABI 1.8's acting_since): the entries a reader of the log notifies or
//  forwards. jobd_host_acting on an older core. Any thread.
static inline bool
jobd_host_acting_at (const jobd_host_t *host, const char *id, uint64_t position)
{
    if (!JOBD_HOST_HAS (host, job_acting) || !host->job_acting)
        return true;
    uint32_t partition = 0;
    if (host->job_acting (host, id, &partition, NULL) != 0)
        return false;
    return !position || !JOBD_HOST_HAS (host, acting_since) || !host->acting_since ||
           position > host->acting_since (host, partition);
}

//  ABI 1.7's acting_changes, or 0 on an older core. Any thread.
static inline uint64_t
jobd_host_acting_changes (const jobd_host_t *host)
{
    return JOBD_HOST_HAS (host, acting_changes) && host->acting_changes
               ? host->acting_changes (host)
               : 0;
}

//  Store reads for plugins, decoded by the plugin's own proto: ABI 1.3's job_read and
//  job_scan_encoded, or job_get and job_scan on an older core.

//  The helpers' state for one read: fn NULL keeps the decoded job (jobd_host_job_get).
typedef struct {
    jobd_host_scan_fn *fn;
    void *arg;
    jobd_job_t *job;
    int rc;
} jobd_host_read_t;

static inline bool
s_jobd_host_decode (const uint8_t *data, size_t size, void *arg)
{
    jobd_host_read_t *reader = (jobd_host_read_t *)arg;
    reader->rc = jobd_job_decode (data, size, &reader->job, NULL, 0);
    if (!reader->fn)
        return false;
    bool more = reader->rc == 0 && reader->fn (reader->job, reader->arg);
    jobd_job_destroy (&reader->job);
    return more;
}

//  Reads job id's record. Returns 0 and sets *job_p (fresh, allocated by the plugin's own
//  proto: jobd_job_destroy it), or JOBD_ENOTFOUND, or a negative error. Any thread.
static inline int
jobd_host_job_get (const jobd_host_t *host, const char *id, jobd_job_t **job_p)
{
    *job_p = NULL;
    if (!JOBD_HOST_HAS (host, job_read))
        return host->job_get (host, id, job_p);
    jobd_host_read_t reader = {NULL, NULL, NULL, JOBD_EPROTO};
    int rc = host->job_read (host, id, s_jobd_host_decode, &reader);
    if (rc == 0)
        rc = reader.rc;
    if (rc == 0)
        *job_p = reader.job;
    else
        jobd_job_destroy (&reader.job);
    return rc;
}

//  Calls fn for each job whose state is in state_mask (bit 1 << state; 0: every job) until fn
//  returns false; the job is borrowed for the call. Returns 0, or a negative error (a record
//  this plugin's proto cannot decode stops the scan with JOBD_EPROTO). Any thread.
static inline int
jobd_host_job_scan (const jobd_host_t *host, uint32_t state_mask, jobd_host_scan_fn *fn, void *arg)
{
    if (!JOBD_HOST_HAS (host, job_scan_encoded))
        return host->job_scan (host, state_mask, fn, arg);
    jobd_host_read_t reader = {fn, arg, NULL, 0};
    int rc = host->job_scan_encoded (host, state_mask, s_jobd_host_decode, &reader);
    return rc ? rc : reader.rc;
}

#ifdef __cplusplus
}
#endif
#endif
