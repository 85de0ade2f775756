//  notifier: the channel interface. A channel delivers notes (one event, or a digest of many) to
//  one receiver: webhook, slack, email, alertmanager, exec. The notifier's core reads the store's
//  transition log through a cursor per channel, matches rules, builds notes and hands them to
//  the channel in order, one at a time, from the channel's own thread; a channel only formats
//  and sends. It keeps no state that matters: what was delivered is the cursor, in the store.
//
//  Config of a channel: the section `plugins/notifier/channels/<name>/`, keys read through
//  nt_config_t (below). Every channel has `type` and `timeout` (duration, default 10s); the
//  keys of each type are listed with it in nt_channel_types (nt_channel.c) and in the README.
//  A secret key K (webhook `secret`, slack `url`, email `password`, alertmanager `password`)
//  may be given as K (the value), K_env (an environment variable's name) or K_file (a file
//  whose content, less one trailing newline, is the value); a secret is never logged, never in
//  a reason, never in jobctl's output nor in a note.
#ifndef NT_CHANNEL_H_INCLUDED
#define NT_CHANNEL_H_INCLUDED

#include "jobd_plugin.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  What a note is about (the rule's event that matched; a digest folds many).
typedef enum {
    NT_EVENT_STATE,     //  a transition to a state a rule names (e.g. `state:RUNNING`)
    NT_EVENT_FAILED,    //  FAILED (or LOST), whether or not a retry follows
    NT_EVENT_FINAL,     //  FAILED with no retry to come: failed for good
    NT_EVENT_STALE,     //  a RUNNING job silent past its heartbeat deadline
    NT_EVENT_RECOVERED, //  SUCCEEDED after an earlier attempt failed
    NT_EVENT_CANCELLED, //  CANCELLED
    NT_EVENT_SUCCEEDED, //  SUCCEEDED
    NT_EVENT_DIGEST     //  many events of one rule within its window, in one note
} nt_event_t;

//  One notification. Borrowed by deliver for the call.
typedef struct {
    //  Idempotency key: "<job id>/<transition seq>" for one event (the same across a crash and
    //  a redelivery), "digest/<rule>/<first member's key>" for a digest. webhook and slack send
    //  it as header `Idempotency-Key`, email in its Message-ID (`<KEY@jobd>`, the key's bytes
    //  outside [A-Za-z0-9._-] percent-encoded), exec in the JSON and $JOBD_NOTIFY_KEY.
    const char *key;
    nt_event_t event;
    //  One line for humans: "jobd: nightly-etl (job-42) FAILED for good: java.lang.OutOfMemoryError
    //  ..." (email subject, Slack's first line, the first line of text).
    const char *subject;
    //  Plain text for humans, several lines, ends with a newline: what happened, when (ISO 8601
    //  UTC), attempt, cause, the next retry or why none, links. Email body, Slack fallback text.
    const char *text;
    //  The note as JSON (the webhook body and exec's stdin; README "The note"): an object with
    //  "key", "event", "ts", "job" (id, name, kind, backend, ext, state, attempt, cause, error,
    //  retry fields), "transition" (from, to, seq, ts) and "links"; a digest has "digest":
    //  {"rule", "window_ms", "count", "by_state", "by_cause", "jobs" (the first 20), "more"}.
    json_t *body;
    //  Labels of a single event's job (NULL in a digest): for alertmanager and Slack's fields.
    const char *job, *name, *kind, *backend, *state;
    int64_t ts; //  ms since the epoch: when the event happened (the transition's ts)
    //  alertmanager: true when this note ends the job's alert (the job recovered, succeeded on
    //  a retry, or was cancelled); its alert fires on FAILED/FINAL/STALE.
    bool resolves;
} nt_note_t;

//  A channel's config: the plugin's host and the channel's name (section channels/<name>/).
typedef struct {
    const jobd_host_t *host;
    const char *name;
} nt_config_t;

//  The value of the channel's key (`channels/<name>/<key>`), its default when unset, or NULL.
const char *nt_config_str (const nt_config_t *self, const char *key);

//  The parsed value of an int, bool, duration (ms) or size key, or fallback when unset.
int64_t nt_config_int (const nt_config_t *self, const char *key, int64_t fallback);

//  The secret key's value from key, key_env or key_file (at most one set): fresh in *value_p
//  (NULL when none is set; free it). JOBD_ECONFIG when two are set, the variable is unset or
//  the file cannot be read, with a reason naming the key and never the value.
int nt_config_secret (const nt_config_t *self, const char *key, char **value_p, char *reason,
                      size_t reason_size);

//  One type of channel.
typedef struct {
    const char *type; //  "webhook", "slack", "email", "alertmanager", "exec"
    //  False for a receiver that groups alerts itself (alertmanager): storms are not folded
    //  into digests for it; it gets every event's note.
    bool digests;
    //  Reads and checks the channel's config; 0, or JOBD_ECONFIG with a reason naming the key
    //  (`channels/<name>/<key>: ...`). Runs at the plugin's init, on the main thread.
    int (*open) (const nt_config_t *config, void **state_p, char *reason, size_t reason_size);
    //  Delivers one note, blocking at most the channel's timeout. Returns 0 when the receiver
    //  took it (HTTP 2xx, SMTP 250 after DATA, exit status 0); JOBD_EINVAL when it refused this
    //  note for good, for what the note is (HTTP 400, 413, 422; SMTP 552, 554): the core logs
    //  and counts it, and goes on; JOBD_ETIMEOUT or -EAGAIN for anything else (no connection,
    //  timeout, HTTP 5xx, 408, 429, and refusals of the channel rather than of the note: 401,
    //  403, 404, 407, 410, SMTP 4xx, 530, 535, 550, 553; a non-zero exit): the core retries
    //  the same note with backoff and sends nothing after it meanwhile, so that a wrong
    //  password or address holds the notes (the channel shows failing with the error) until
    //  someone fixes it, instead of dropping every one. error gets one line ("HTTP 503 from
    //  http://host:port/path", "smtp: 550 mailbox unavailable"), never a secret.
    int (*deliver) (void *state, const nt_note_t *note, char *error, size_t error_size);
    //  Frees the state; NULL-safe; sets *state_p to NULL.
    void (*close) (void **state_p);
} nt_channel_type_t;

//  The channel types, each in its own file (nt_webhook.c, nt_slack.c, nt_email.c,
//  nt_alertmanager.c, nt_exec.c).
extern const nt_channel_type_t nt_webhook_type;
extern const nt_channel_type_t nt_slack_type;
extern const nt_channel_type_t nt_email_type;
extern const nt_channel_type_t nt_alertmanager_type;
extern const nt_channel_type_t nt_exec_type;

//  The type named type, or NULL.
const nt_channel_type_t *nt_channel_type (const char *type);

#ifdef __cplusplus
}
#endif
#endif
