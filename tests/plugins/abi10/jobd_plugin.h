//  The plugin ABI: the one header a jobd plugin includes. A plugin is a shared object that
//  exports exactly one symbol, the const descriptor `jobd_plugin` (JOBD_PLUGIN_DEFINE).
#ifndef JOBD_PLUGIN_H_INCLUDED
#define JOBD_PLUGIN_H_INCLUDED

#include "jobd_event.h"
#include "jobd_job.h"
#include <czmq.h>
#include <stdarg.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  A plugin built for another major is refused. Minor versions only append fields to the
//  descriptor and the host table: each side reads only what the other's size covers.
#define JOBD_PLUGIN_ABI_MAJOR 1
#define JOBD_PLUGIN_ABI_MINOR 0
#define JOBD_PLUGIN_SYMBOL    "jobd_plugin"

//  Inproc endpoints of the bus, for plugins that open more sockets on other threads.
#define JOBD_BUS_ENDPOINT    "inproc://jobd-bus"
#define JOBD_EVENTS_ENDPOINT "inproc://jobd-events"

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

//  Called by jobd_host_t.job_scan for each job; the job is borrowed for the call. Return false
//  to stop.
typedef bool (jobd_host_scan_fn) (const jobd_job_t *job, void *arg);

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
    //  Any thread.
    int (*job_get) (const jobd_host_t *self, const char *id, jobd_job_t **job_p);
    int (*job_find) (const jobd_host_t *self, const char *backend, const char *ext, char **id_p);
    int (*job_scan) (const jobd_host_t *self, uint32_t state_mask, jobd_host_scan_fn *fn,
                     void *arg);

    void *core; //  the core's own; plugins do not touch it
};

//  The descriptor. Only ever appended to.
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
} jobd_plugin_t;

#define JOBD_PLUGIN_EXPORT __attribute__ ((visibility ("default")))

//  Defines the plugin's one exported symbol: JOBD_PLUGIN_DEFINE (.name = "x", .init = ..., ...).
#define JOBD_PLUGIN_DEFINE(...)                                                                    \
    JOBD_PLUGIN_EXPORT const jobd_plugin_t jobd_plugin = {.abi_major = JOBD_PLUGIN_ABI_MAJOR,      \
                                                          .abi_minor = JOBD_PLUGIN_ABI_MINOR,      \
                                                          .size = sizeof (jobd_plugin_t),          \
                                                          __VA_ARGS__}

//  Encodes event and sends it to the broker on bus (one frame). Returns 0, or a negative error
//  (the event is invalid, or the socket refused it).
static inline int
jobd_plugin_send (zsock_t *bus, const jobd_event_t *event)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = jobd_event_encode (event, &data, &size, NULL, 0);
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

#ifdef __cplusplus
}
#endif
#endif
