//  The event: the one message shape on jobd's bus, encoded as a msgpack map (see README.md).
#ifndef JOBD_EVENT_H_INCLUDED
#define JOBD_EVENT_H_INCLUDED

#include "jobd_error.h"
#include "jobd_figures.h"
#include "jobd_msgpack.h"
#include "jobd_state.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_PROTO_VERSION 1

//  Limits, in bytes, enforced by the decoder (and by jobd_event_validate before encoding).
#define JOBD_EVENT_MAX     (256 * 1024) //  a whole encoded event
#define JOBD_ID_MAX        128          //  id, source, job, kind, backend, ext, name, status
#define JOBD_NAME_MAX      256          //  name
#define JOBD_ERROR_MAX     4096         //  error
#define JOBD_DETAIL_MAX    16384        //  detail
#define JOBD_SPEC_MAX      (128 * 1024) //  spec
#define JOBD_CAUSE_MAX     256          //  cause: one line (jobd_cause.h)
#define JOBD_URL_MAX       2048         //  app_url, log_url
#define JOBD_BATCH_MAX     1024         //  observations in one `batch` event (README.md, section 3)
#define JOBD_CHANGE_MAX    1024         //  change: what a retry changes in the next attempt's spec
#define JOBD_HEARTBEAT_MAX (30LL * 24 * 3600 * 1000) //  heartbeat, heartbeat_grace: 30 days, in ms
//  How jobd names a heartbeat promise in the reason of the stale flag and the LOST it causes
//  ("RUNNING and no word from its source for more than 1s (its heartbeat), ..."): the words a
//  reader of those events looks for.
#define JOBD_HEARTBEAT_ORIGIN "its heartbeat"

//  The numeric values are internal only: on the wire the type is its name.
typedef enum {
    JOBD_EVENT_INVALID = 0,
    JOBD_EVENT_SUBMIT,        //  "submit": create a job from a spec (kind, spec; name, backend)
    JOBD_EVENT_TRACK,         //  "track": register a job already at a backend (kind, backend, ext)
    JOBD_EVENT_CANCEL,        //  "cancel": job
    JOBD_EVENT_RETRY,         //  "retry": job
    JOBD_EVENT_OBSERVED,      //  "observed": a source saw job (job, or backend+ext) in state
    JOBD_EVENT_TRANSITION,    //  "transition": a committed state change (output of the broker)
    JOBD_EVENT_STALE,         //  "stale": a job went silent past its deadline (job, state)
    JOBD_EVENT_PLUGIN_STATUS, //  "plugin.status": name, status, detail
    JOBD_EVENT_CURSOR,        //  "cursor": a reader of the transition log is done up to seq (name)
    JOBD_EVENT_CANCEL_FAILED, //  "cancel.failed": a backend refused a kill, or it did not take
                              //  effect (job, status, error); internal: plugins only
    JOBD_EVENT_RETRY_PLAN,    //  "retry.plan": the retry plugin's decision on a failed job (job,
                              //  attempt, state RETRY_WAIT + due, or FAILED + error: final);
                              //  internal: plugins only
    JOBD_EVENT_STATUS_ASK,    //  "status.ask": the broker asks every plugin for its status now
                              //  (on cmd.status); internal: the broker only
    JOBD_EVENT_TYPE_COUNT
} jobd_event_type_t;

//  One event. Strings are NUL-terminated, heap-owned by the event, NULL when absent. Numbers are
//  0 when absent, states JOBD_STATE_NONE. Which fields a type requires is in README.md.
typedef struct {
    //  Envelope: every event.
    uint32_t version;       //  "v": JOBD_PROTO_VERSION
    jobd_event_type_t type; //  "type"
    char *id;               //  "id": unique event id
    int64_t ts;             //  "ts": milliseconds since the Unix epoch
    char *source;           //  "src": who emitted it (plugin name, "jobctl", "broker", ...)
    //  Body.
    char *job;          //  "job": jobd job id
    char *name;         //  "name": job name, or plugin name for plugin.status
    char *kind;         //  "kind": "spark", "kafka", ...
    char *backend;      //  "backend": configured backend name
    char *ext;          //  "ext": the backend's id for the job
    jobd_state_t state; //  "state": observed state, new state of a transition, stale state
    jobd_state_t from;  //  "from": transition only: previous state (NONE for a new job)
    uint32_t attempt;   //  "attempt": 1-based attempt number, 0 = not given
    uint64_t seq;       //  "seq": transition: the job's history sequence number (1-based);
                        //  cursor: the last transition log position the reader is done with
    char *error;        //  "error": failure reason
    char *spec;         //  "spec": submit: JSON text of the submission spec
    char *detail;       //  "detail": free text (plugin.status detail, observation details)
    char *status;       //  "status": plugin.status: starting|running|degraded|failed|stopped;
                        //  cancel.failed: refused|retrying|failed
    bool create;        //  "create": observed: register the job (kind+ext) when unknown
    int64_t last_seen;  //  "last_seen": stale: when the job was last heard from (ms)
    bool reply;         //  "reply": the sender wants a reply once the event is durable
    char *stream;       //  "stream": observed: the ordered source it came from ("topic/partition")
    uint64_t pos;       //  "pos": observed: its position in stream; applied once, in order
    //  Why a job failed in one line, and where to look (appended: older readers skip them).
    char *cause;   //  "cause": observed, transition: the error's one-line cause (jobd_cause.h)
    char *app_id;  //  "app_id": observed: the application's id at the cluster (Spark/YARN)
    char *app_url; //  "app_url": observed: its web UI (Livy sparkUiUrl, YARN trackingUrl, ...)
    char *log_url; //  "log_url": observed: the driver's log (Livy driverLogUrl)
    //  Retries (issue 14; appended: older readers skip them).
    int64_t due;         //  "due": retry.plan and its RETRY_WAIT transition: when the next
                         //  attempt starts (ms since the epoch)
    char *failure_class; //  "class": retry.plan, transition: the failure class that matched
    char *policy;        //  "policy": retry.plan, transition: the policy that decided
    char *change;        //  "change": retry.plan, transition: what the next attempt changes
    bool now;            //  "now": retry: start the next attempt at once, skipping any wait
    bool stop;           //  "stop": retry: stop the job's pending retry (RETRY_WAIT -> FAILED)
    //  A plugin's measures (issue 16; appended: older readers skip them).
    jobd_figures_t figures; //  "figures": plugin.status: msgpack bytes of the checked array
    //  Status on demand (issue 17; appended: older readers skip it).
    char *ask; //  "ask": plugin.status: the id of the status.ask it answers
    //  Heartbeats (issue 18: deadlines in the store; appended: older readers skip them).
    int64_t heartbeat;       //  "heartbeat": observed: the job's next sign of life comes within
                             //  this long (ms) while it runs; 0: no promise
    int64_t heartbeat_grace; //  "heartbeat_grace": observed: silent this long more after the
                             //  stale flag, the job is declared LOST (ms); 0: jobd's default
} jobd_event_t;

//  Returns a fresh event of the given type with version, a new unique id and ts = now set, or
//  NULL when out of memory. The caller owns it.
jobd_event_t *jobd_event_new (jobd_event_type_t type);

//  Writes a new unique event id (24 hex digits and a NUL) into id. Thread-safe.
void jobd_event_new_id (char id[25]);

//  Destroys the event and its strings; NULL-safe; sets *self_p to NULL.
void jobd_event_destroy (jobd_event_t **self_p);

//  Returns a fresh deep copy, or NULL when out of memory.
jobd_event_t *jobd_event_dup (const jobd_event_t *self);

//  Replaces *field (one of the event's string fields) with a copy of value (NULL clears it).
//  Returns 0 or -ENOMEM.
int jobd_event_set (char **field, const char *value);

//  Checks that the event has every field its type requires and that every string is within its
//  limit. Returns 0, or JOBD_EPROTO / JOBD_ETOOBIG with a reason written to reason (may be NULL).
int jobd_event_validate (const jobd_event_t *self, char *reason, size_t reason_size);

//  Replaces each maximal invalid UTF-8 sequence in every string of the event with U+FFFD (as
//  JSON readers do), for text from a source that is not held to UTF-8 (a backend's message, a
//  string cut inside a character). Returns how many strings changed (0: all were valid), or
//  -ENOMEM. The event must not be a flat one (jobd_event_from_object_flat).
int jobd_event_fix_utf8 (jobd_event_t *self);

//  Encodes the event as one msgpack map (absent fields are omitted). Validates first. Returns 0
//  and sets *data_p (fresh, free() it) and *size_p, or a negative error with a reason.
int jobd_event_encode (const jobd_event_t *self, uint8_t **data_p, size_t *size_p, char *reason,
                       size_t reason_size);

//  Decodes and validates one event from exactly size bytes. Never reads past data + size.
//  Unknown keys are ignored; wrong types, missing fields, unknown states or types, trailing bytes
//  and oversized strings are refused. Returns 0 and sets *event_p (fresh), or JOBD_EPROTO /
//  JOBD_ETOOBIG with a reason written to reason (may be NULL).
int jobd_event_decode (const void *data, size_t size, jobd_event_t **event_p, char *reason,
                       size_t reason_size);

//  Packs the event as one msgpack map into pk (for embedding in a larger message). Does not
//  validate. Returns 0 or a negative error.
int jobd_event_pack (const jobd_event_t *self, msgpack_packer *pk);

//  The same, appended to buffer directly (faster than through a packer). Returns 0 or -ENOMEM.
int jobd_event_pack_to (const jobd_event_t *self, msgpack_sbuffer *buffer);

//  Packs the head of a `batch` event into pk: its envelope (v, type, id, ts now, src) and, last,
//  "events": an array of count (1..JOBD_BATCH_MAX) observed events, to be packed next with
//  jobd_event_pack. Returns 0 or a negative error.
int jobd_event_pack_batch (msgpack_packer *pk, const char *id, const char *source, size_t count);

//  Builds and validates an event from a decoded msgpack object (a map), with the same strictness
//  as jobd_event_decode. Returns 0 and sets *event_p (fresh), or an error with a reason.
int jobd_event_from_object (const msgpack_object *obj, jobd_event_t **event_p, char *reason,
                            size_t reason_size);

//  The same, but the event and its strings are one allocation: free() it whole, never with
//  jobd_event_destroy, and never jobd_event_set its strings. For a reader that only reads the
//  events it decodes (the broker's batches: a malloc per string was a tenth of its time).
int jobd_event_from_object_flat (const msgpack_object *obj, jobd_event_t **event_p, char *reason,
                                 size_t reason_size);

//  True when status is a status of a cancel.failed event: "refused" (the backend said no),
//  "retrying" (the kill did not take effect, or no answer: it is sent again) or "failed" (the
//  last try did not take effect either).
bool jobd_cancel_status_known (const char *status);

//  Returns the wire name of the type ("submit", "plugin.status", ...) or "invalid". Static.
const char *jobd_event_type_name (jobd_event_type_t type);

//  Parses a wire type name of len bytes. Returns the type or JOBD_EVENT_INVALID.
jobd_event_type_t jobd_event_type_parse (const char *name, size_t len);

//  Returns the current time in milliseconds since the Unix epoch.
int64_t jobd_now_ms (void);

#ifdef __cplusplus
}
#endif
#endif
