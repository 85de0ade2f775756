//  Host helpers for plugins: what every plugin repeats, written once. The command loop (the
//  plugin's run loop over its pipe, bus and events sockets, with "$TERM", timers and callbacks)
//  and status reporting (plugin.status when the status or its detail changes). A static library
//  (jobd_sdk) that jobd_add_plugin links into every plugin; it uses proto and the ABI header only.
#ifndef JOBD_PLUGIN_SDK_H_INCLUDED
#define JOBD_PLUGIN_SDK_H_INCLUDED

#include "jobd_plugin.h"
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

//  ---------------------------------------------------------------------------------------------
//  The command loop

//  Does what is due (timers, retries, polls). Returns ms until the next thing is due: the loop
//  waits no longer than that (and no longer than its wait_max). 0 or less: do not wait.
typedef int64_t (jobd_sdk_tick_fn) (void *arg);

//  The socket (bus or events) has a message waiting: read and handle one or more of them.
typedef void (jobd_sdk_read_fn) (zsock_t *socket, void *arg);

//  Waits up to timeout ms for a message on any of the sockets or for input from the plugin's own
//  sources (HTTP transfers, a Kafka consumer), and handles the latter. Returns when a socket may
//  have a message: the loop then asks each socket.
typedef void (jobd_sdk_wait_fn) (zsock_t **sockets, size_t count, int timeout, void *arg);

//  Called once per loop turn, after the sockets were read.
typedef void (jobd_sdk_turn_fn) (void *arg);

//  A plugin's loop, as one designated-initializer struct; every field may be 0/NULL.
typedef struct {
    jobd_sdk_tick_fn *tick;     //  before each wait; NULL: wait up to wait_max
    jobd_sdk_wait_fn *wait;     //  NULL: zmq_poll on the three sockets
    jobd_sdk_read_fn *on_event; //  a publication waits on events; NULL: read and dropped
    jobd_sdk_read_fn *on_reply; //  a reply waits on bus; NULL: read and dropped
    jobd_sdk_turn_fn *after;    //  at the end of each turn
    int wait_max;               //  ms; 0: 1000
    size_t events_max;          //  on_event calls per turn; 0: while a message waits
    size_t replies_max;         //  on_reply calls per turn; 0: while a message waits
    //  After "$TERM": the loop goes on turning while this returns true, so that the plugin
    //  finishes what it started (a request whose answer must be recorded); it bounds the time
    //  itself. NULL: the loop ends at "$TERM".
    bool (*draining) (void *arg);
} jobd_sdk_loop_t;

//  Runs loop on the plugin's thread (from the descriptor's run) until "$TERM" arrives on pipe or
//  the pipe fails (the context is terminating), or, with draining, once it returns false after
//  "$TERM". Each turn: tick, wait, the pipe, replies on bus, events, after; the turn that reads
//  "$TERM" still reads bus and events to its end. Other
//  commands on pipe are ignored. arg is passed to every callback. Returns 0.
int jobd_sdk_loop_run (const jobd_sdk_loop_t *loop, zsock_t *pipe, zsock_t *bus, zsock_t *events,
                       void *arg);

//  ---------------------------------------------------------------------------------------------
//  Submission specs (ABI 1.4, jobd_plugin_t.validate)

//  The spec keys jobd itself reads in a submission of any kind (`jobctl submit` sends the whole
//  object: kind, name, backend; the core's deadlines read max_runtime and deadlines; the retry
//  plugin reads retry, which a validate checks with jobd_sdk_retry_read): a plugin's validate
//  accepts them beside its own keys and refuses any other.
static inline bool
jobd_sdk_spec_common (const char *key)
{
    static const char *const keys[] = {"kind",        "name",      "backend",
                                       "max_runtime", "deadlines", "retry"};
    for (size_t index = 0; index < sizeof keys / sizeof keys[0]; index++)
        if (strcmp (key, keys[index]) == 0)
            return true;
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  Retry settings (the retry plugin's policy; a spec's `retry` object, plugins/retry/README.md)

struct json_t; //  jansson's json_t: a validate that loaded the spec passes its "retry" value

typedef enum {
    JOBD_SDK_JITTER_UNSET = -1,
    JOBD_SDK_JITTER_NONE,
    JOBD_SDK_JITTER_FULL
} jobd_sdk_jitter_t;

//  Retry settings, as a spec's `retry` object, a config key or a `policies` entry sets them.
//  Every field may be unset (-1; jitter JOBD_SDK_JITTER_UNSET): a layer sets only what it names.
typedef struct {
    int64_t max_attempts;    //  attempts in all, the first included (1: never retried); 1..1000
    int64_t backoff_initial; //  ms: the wait before the second attempt
    int64_t backoff_max;     //  ms: the longest wait
    double multiplier;       //  the wait grows by it each attempt; 1..100
    jobd_sdk_jitter_t jitter;
    int on_lost; //  1: a LOST job is retried too (it may still be running)
} jobd_sdk_retry_t;

//  Sets every field of self to unset.
void jobd_sdk_retry_unset (jobd_sdk_retry_t *self);

//  Sets one setting from text ("max_attempts", "5"; "backoff_initial", "30s" or ms, at most a
//  year; "jitter",
//  "full"|"none"; "on_lost", a boolean). Returns 0, or JOBD_EINVAL with a reason naming the key
//  and what was wanted (an unknown key too).
int jobd_sdk_retry_set (jobd_sdk_retry_t *self, const char *key, const char *value, char *reason,
                        size_t reason_size);

//  Reads a spec's `retry` object (a JSON object of the keys above: numbers, or durations as
//  strings or ms, booleans for on_lost) into self, over what self holds. Returns 0, or
//  JOBD_EINVAL with a reason starting "key 'retry': " (not an object, an unknown key, a value of
//  the wrong type or out of range, backoff_max below backoff_initial). self may be NULL (check
//  only). Pure: a validate calls it.
int jobd_sdk_retry_read (jobd_sdk_retry_t *self, const struct json_t *object, char *reason,
                         size_t reason_size);

//  The same from a spec's JSON text: its `retry` key, if any (none: 0, self unchanged). Specs
//  that do not name "retry" are not parsed.
int jobd_sdk_retry_from_spec (jobd_sdk_retry_t *self, const char *spec, char *reason,
                              size_t reason_size);

//  Lays over on self: every field over sets replaces self's.
void jobd_sdk_retry_over (jobd_sdk_retry_t *self, const jobd_sdk_retry_t *over);

//  ---------------------------------------------------------------------------------------------
//  Status reporting: the plugin.status event (proto/README.md) that `jobctl plugins` shows

typedef struct jobd_sdk_status jobd_sdk_status_t;

//  A status reporter for the plugin host describes, due every interval ms (0: whenever asked).
//  Returns NULL when out of memory. Any thread, but one thread at a time per reporter.
jobd_sdk_status_t *jobd_sdk_status_new (const jobd_host_t *host, int64_t interval);

//  Frees the reporter; NULL-safe; sets *self_p to NULL.
void jobd_sdk_status_destroy (jobd_sdk_status_t **self_p);

//  True when a report is due: interval ms passed since it last said true, or now is set (the
//  plugin saw something worth reporting at once). The next is due one interval later.
bool jobd_sdk_status_due (jobd_sdk_status_t *self, bool now);

//  Sends plugin.status (status: "running", "degraded", ...; detail: one line for the operator,
//  or NULL; and the figures set, below) on bus when status, detail or figures differ from what it
//  last sent. A plugin calls it when jobd_sdk_status_due says so, which bounds the rate. Returns
//  1 when sent, 0 when unchanged, or a negative error (nothing recorded: the next call tries
//  again).
int jobd_sdk_status_send (jobd_sdk_status_t *self, zsock_t *bus, const char *status,
                          const char *detail);

//  Sets a figure, one of the plugin's measures, sent with each status from now on until cleared
//  (proto/README.md section 3, Figures; /metrics shows it as jobd_<name>{plugin=...,labels}):
//  name is the plugin's own, [a-z][a-z0-9_]* of at most 64 bytes: ending in _total it is a
//  counter, else a gauge, in base units (_seconds, _bytes). help is one line (NULL: none; a
//  name's first help counts). The labels follow value as name, value pairs of strings, ended by
//  NULL: at most 4, names [a-z][a-z0-9_]* but not "plugin", values at most 128 bytes of UTF-8.
//  A figure of the same name and labels is replaced. An integral value within 2^53 is sent as
//  an integer. Returns 0, or JOBD_EINVAL (a rule broken: the reason is logged; a NaN or infinite
//  value too), JOBD_ETOOBIG (512 figures held), or -ENOMEM.
int jobd_sdk_status_figure (jobd_sdk_status_t *self, const char *name, const char *help,
                            double value, ...) __attribute__ ((sentinel));

//  Forgets every figure set. A plugin that sets all of its figures before each report clears
//  them first, so that a figure that is gone (a backend removed) is no longer reported.
void jobd_sdk_status_figures_clear (jobd_sdk_status_t *self);

//  How many figures are set.
size_t jobd_sdk_status_figures (jobd_sdk_status_t *self);

//  Status on demand: `jobctl plugins`, `jobctl health` and the http API's plugin views make the
//  broker publish a status.ask on JOBD_STATUS_ASK_TOPIC and wait (a quarter of a second at most)
//  for every running plugin's answer, so that what they show is current. listen subscribes
//  events to that topic (call it once, before the loop). asked is true when event is such an ask:
//  the plugin then skips the event; its next jobd_sdk_status_due is true, and the next
//  jobd_sdk_status_send goes out even unchanged, carrying the ask's id. A plugin that does not
//  listen is waited for once, then only when it answers an ask again.
void jobd_sdk_status_listen (jobd_sdk_status_t *self, zsock_t *events);
bool jobd_sdk_status_asked (jobd_sdk_status_t *self, const jobd_event_t *event);

//  The detail last sent ("" before the first), borrowed until the next send.
const char *jobd_sdk_status_detail (jobd_sdk_status_t *self);

//  ---------------------------------------------------------------------------------------------
//  jobd --check (the descriptor's `check`, ABI 1.6)

//  For a plugin whose init only reads its config and allocates (no file written, no port bound,
//  no connection opened): its check, as init then destroy. Returns what init returned, with its
//  reason.
int jobd_sdk_check_init (const jobd_host_t *host,
                         int (*init) (const jobd_host_t *, void **, char *, size_t),
                         void (*destroy) (void **), char *reason, size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
