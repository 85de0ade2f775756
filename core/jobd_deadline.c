//  Deadlines: the policy (per state; per kind and backend from core/deadlines; per job from its
//  spec), armed as store timers in the commit that enters a state, and fired by the broker in
//  the commit that deletes them (core/README.md, "Deadlines").
#include "jobd_deadline.h"
#include "jobd_log.h"
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG "deadline"

#define S_OVERRIDES_MAX 64 //  entries of core/deadlines

//  What a job gets on entering a state: 0 limit means no deadline. -1 in an override: not set.
typedef enum { S_ACTION_NONE = 0, S_ACTION_LOST, S_ACTION_CANCEL, S_ACTION_UNSET } s_action_t;

typedef struct {
    int64_t limit[JOBD_STATE_COUNT]; //  ms; -1: not set here
    int64_t grace;                   //  ms; -1: not set here
    int64_t fresh; //  ms: longest silence of the job's source in any state (0: none; -1: not set)
    s_action_t action;
} s_rule_t;

typedef struct {
    char kind[JOBD_ID_MAX + 1];
    char backend[JOBD_ID_MAX + 1]; //  empty: every backend of the kind
    s_rule_t rule;
} s_override_t;

struct _jobd_deadline_t {
    s_rule_t base; //  core/deadline_*
    s_override_t overrides[S_OVERRIDES_MAX];
    size_t override_count;
};

//  The value of a deadline timer: what the firing needs without reading the policy again (it
//  may have changed since, and the timer was armed under the old one).
typedef struct {
    uint8_t version; //  1: a deadline; 2: a freshness check (its source may speak again)
    uint8_t state;
    uint8_t action;
    int64_t limit;
    int64_t grace;
    char origin[64]; //  which setting gave the limit: "core/deadline_queued", "spec", ...
    //  Not stored: the freshness limit, resolved with the deadline, armed as its own timer, and
    //  its action and grace when they are not the state's (a heartbeat's).
    int64_t fresh;
    char fresh_origin[64];
    uint8_t fresh_action;
    int64_t fresh_grace;
} s_value_t;

#define S_VERSION_DEADLINE 1
#define S_VERSION_FRESH    2

#define S_VALUE_HEAD 19 //  version, state, action, be64 limit, be64 grace

static const char *s_action_names[] = {"none", "lost", "cancel"};

static s_action_t
s_action_parse (const char *text)
{
    for (int index = 0; text && index < 3; index++)
        if (strcmp (text, s_action_names[index]) == 0)
            return (s_action_t)index;
    return S_ACTION_UNSET;
}

static void
s_rule_unset (s_rule_t *rule)
{
    for (int state = 0; state < JOBD_STATE_COUNT; state++)
        rule->limit[state] = -1;
    rule->grace = -1;
    rule->fresh = -1;
    rule->action = S_ACTION_UNSET;
}

//  The states a deadline may be set for, by their key in config and spec.
static const struct {
    const char *key;
    jobd_state_t state;
} s_states[] = {{"queued", JOBD_STATE_QUEUED},
                {"submitted", JOBD_STATE_SUBMITTED},
                {"running", JOBD_STATE_RUNNING},
                {"unknown", JOBD_STATE_UNKNOWN},
                {"retry_wait", JOBD_STATE_RETRY_WAIT}};
#define S_STATE_KEYS (sizeof s_states / sizeof s_states[0])

//  Sets one KEY=VALUE of a rule (a state's limit, action, grace, max_runtime). Returns 0 or
//  JOBD_ECONFIG.
static int
s_rule_set (s_rule_t *rule, const char *key, const char *value)
{
    int64_t number;
    if (strcmp (key, "action") == 0) {
        rule->action = s_action_parse (value);
        return rule->action == S_ACTION_UNSET ? JOBD_ECONFIG : 0;
    }
    if (jobd_config_parse_value (JOBD_CONF_DURATION, value, &number))
        return JOBD_ECONFIG;
    if (strcmp (key, "grace") == 0) {
        rule->grace = number;
        return 0;
    }
    if (strcmp (key, "fresh") == 0) {
        rule->fresh = number;
        return 0;
    }
    if (strcmp (key, "max_runtime") == 0)
        key = "running";
    for (size_t index = 0; index < S_STATE_KEYS; index++)
        if (strcmp (key, s_states[index].key) == 0) {
            rule->limit[s_states[index].state] = number;
            return 0;
        }
    return JOBD_ECONFIG;
}

//  Reads core/deadlines: "KIND[/BACKEND] KEY=VALUE ...; ...".
static int
s_overrides_parse (jobd_deadline_t *self, const char *text, char *reason, size_t reason_size)
{
    char *copy = strdup (text ? text : "");
    if (!copy)
        return -ENOMEM;
    int rc = 0;
    char *save_entry = NULL;
    for (char *entry = strtok_r (copy, ";", &save_entry); entry && rc == 0;
         entry = strtok_r (NULL, ";", &save_entry)) {
        char *save_word = NULL, *word = strtok_r (entry, " \t", &save_word);
        if (!word)
            continue;
        if (self->override_count == S_OVERRIDES_MAX) {
            snprintf (reason, reason_size, "core/deadlines: more than %d entries", S_OVERRIDES_MAX);
            rc = JOBD_ECONFIG;
            break;
        }
        s_override_t *override = &self->overrides[self->override_count++];
        s_rule_unset (&override->rule);
        char *slash = strchr (word, '/');
        if (slash)
            *slash = 0;
        if (strlen (word) > JOBD_ID_MAX || (slash && strlen (slash + 1) > JOBD_ID_MAX)) {
            snprintf (reason, reason_size, "core/deadlines: '%.64s': a name over %d bytes", word,
                      JOBD_ID_MAX);
            rc = JOBD_ECONFIG;
            break;
        }
        snprintf (override->kind, sizeof override->kind, "%s", word);
        snprintf (override->backend, sizeof override->backend, "%s", slash ? slash + 1 : "");
        while (rc == 0 && (word = strtok_r (NULL, " \t", &save_word))) {
            char *equals = strchr (word, '=');
            if (equals)
                *equals = 0;
            if (!equals || s_rule_set (&override->rule, word, equals + 1)) {
                snprintf (
                    reason, reason_size,
                    "core/deadlines: entry '%s': '%.64s%s%.64s' is not KEY=VALUE with KEY "
                    "one of queued, submitted, running, unknown, retry_wait, max_runtime, fresh "
                    "(a duration like 90s, 15m, 2h; 0: none), grace (a duration) or action "
                    "(none, lost, cancel)",
                    override->kind, word, equals ? "=" : "", equals ? equals + 1 : "");
                rc = JOBD_ECONFIG;
            }
        }
    }
    free (copy);
    return rc;
}

int
jobd_deadline_new (jobd_config_t *config, jobd_deadline_t **self_p, char *reason,
                   size_t reason_size)
{
    jobd_deadline_t *self = (jobd_deadline_t *)calloc (1, sizeof (jobd_deadline_t));
    if (!self)
        return -ENOMEM;
    s_rule_unset (&self->base);
    for (int state = 0; state < JOBD_STATE_COUNT; state++)
        self->base.limit[state] = 0;
    //  Without a config (tests, the benchmark): the defaults of the config map.
    self->base.limit[JOBD_STATE_QUEUED] =
        config ? jobd_config_int (config, "core", "deadline_queued", 0) : 2 * 60000;
    self->base.limit[JOBD_STATE_SUBMITTED] =
        config ? jobd_config_int (config, "core", "deadline_submitted", 0) : 15 * 60000;
    self->base.limit[JOBD_STATE_RUNNING] =
        config ? jobd_config_int (config, "core", "deadline_running", 0) : 0;
    self->base.limit[JOBD_STATE_UNKNOWN] =
        config ? jobd_config_int (config, "core", "deadline_unknown", 0) : 0;
    self->base.grace = config ? jobd_config_int (config, "core", "deadline_grace", 0) : 5 * 60000;
    self->base.fresh = config ? jobd_config_int (config, "core", "deadline_fresh", 0) : 0;
    const char *action = config ? jobd_config_str (config, "core", "deadline_action") : NULL;
    self->base.action = action ? s_action_parse (action) : S_ACTION_NONE;
    int rc = 0;
    if (self->base.action == S_ACTION_UNSET) {
        snprintf (reason, reason_size, "core/deadline_action: '%.32s' is not none, lost or cancel",
                  action);
        rc = JOBD_ECONFIG;
    }
    if (rc == 0 && config)
        rc = s_overrides_parse (self, jobd_config_str (config, "core", "deadlines"), reason,
                                reason_size);
    if (rc) {
        jobd_deadline_destroy (&self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void
jobd_deadline_destroy (jobd_deadline_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

void
jobd_deadline_set (jobd_deadline_t *self, jobd_state_t state, int64_t limit, const char *action,
                   int64_t grace)
{
    if ((unsigned)state < JOBD_STATE_COUNT)
        self->base.limit[state] = limit;
    if (action && s_action_parse (action) != S_ACTION_UNSET)
        self->base.action = s_action_parse (action);
    if (grace >= 0)
        self->base.grace = grace;
}

//  Lays rule over value where rule sets something, naming origin.
static void
s_apply_rule (s_value_t *value, const s_rule_t *rule, jobd_state_t state, const char *origin)
{
    if (rule->limit[state] >= 0) {
        value->limit = rule->limit[state];
        snprintf (value->origin, sizeof value->origin, "%s", origin);
    }
    if (rule->grace >= 0)
        value->grace = rule->grace;
    if (rule->action != S_ACTION_UNSET)
        value->action = (uint8_t)rule->action;
    if (rule->fresh >= 0) {
        value->fresh = rule->fresh;
        snprintf (value->fresh_origin, sizeof value->fresh_origin, "%s", origin);
    }
}

//  The job's own settings: `max_runtime` and a `deadlines` object in its spec (JSON). Parsed
//  only when the spec names them: most specs do not, and a spec may be 128 KiB.
static void
s_spec_rule (const char *spec, s_rule_t *rule)
{
    s_rule_unset (rule);
    if (!spec || (!strstr (spec, "max_runtime") && !strstr (spec, "deadlines")))
        return;
    json_t *root = json_loads (spec, 0, NULL);
    json_t *deadlines = json_object_get (root, "deadlines");
    json_t *max_runtime = json_object_get (root, "max_runtime");
    const char *key;
    json_t *item;
    char text[64];
    json_object_foreach (deadlines, key, item)
    {
        if (json_is_string (item))
            s_rule_set (rule, key, json_string_value (item));
        else if (json_is_integer (item)) {
            snprintf (text, sizeof text, "%lld", (long long)json_integer_value (item));
            s_rule_set (rule, key, text);
        }
    }
    if (json_is_string (max_runtime))
        s_rule_set (rule, "running", json_string_value (max_runtime));
    else if (json_is_integer (max_runtime)) {
        snprintf (text, sizeof text, "%lld", (long long)json_integer_value (max_runtime));
        s_rule_set (rule, "running", text);
    }
    json_decref (root);
}

//  The deadline of job in its state: the base, then its kind, then its kind and backend, then
//  its spec.
static void
s_resolve (jobd_deadline_t *self, const jobd_job_t *job, s_value_t *value)
{
    jobd_state_t state = job->state;
    *value = (s_value_t){.version = 1, .state = (uint8_t)state};
    char origin[64];
    snprintf (origin, sizeof origin, "core/deadline_%s", jobd_state_name (state));
    for (char *c = origin; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
    s_apply_rule (value, &self->base, state, origin);
    //  Freshness is one limit for every state, not one per state.
    snprintf (value->fresh_origin, sizeof value->fresh_origin, "core/deadline_fresh");
    for (int pass = 0; pass < 2; pass++)
        for (size_t index = 0; index < self->override_count; index++) {
            const s_override_t *override = &self->overrides[index];
            bool by_backend = override->backend[0] != 0;
            if ((pass == 1) != by_backend || !job->kind || strcmp (override->kind, job->kind))
                continue;
            if (by_backend && (!job->backend || strcmp (override->backend, job->backend)))
                continue;
            s_apply_rule (value, &override->rule, state, "core/deadlines");
        }
    s_rule_t spec;
    s_spec_rule (job->spec, &spec);
    s_apply_rule (value, &spec, state, "the job's spec");
    value->fresh_action = value->action;
    value->fresh_grace = value->grace;
    //  A running job's own heartbeat promise (its source's word: it says how often it speaks)
    //  is its freshness, and its silence past the grace makes it LOST.
    if (job->heartbeat > 0 && state == JOBD_STATE_RUNNING) {
        value->fresh = job->heartbeat;
        snprintf (value->fresh_origin, sizeof value->fresh_origin, "%s", JOBD_HEARTBEAT_ORIGIN);
        value->fresh_action = S_ACTION_LOST;
        if (job->heartbeat_grace > 0)
            value->fresh_grace = job->heartbeat_grace;
    }
}

static size_t
s_value_pack (const s_value_t *value, uint8_t *out)
{
    out[0] = value->version;
    out[1] = value->state;
    out[2] = value->action;
    for (int index = 0; index < 8; index++) {
        out[3 + index] = (uint8_t)((uint64_t)value->limit >> (56 - 8 * index));
        out[11 + index] = (uint8_t)((uint64_t)value->grace >> (56 - 8 * index));
    }
    size_t size = strnlen (value->origin, sizeof value->origin - 1);
    memcpy (out + S_VALUE_HEAD, value->origin, size);
    return S_VALUE_HEAD + size;
}

static int
s_value_unpack (const jobd_store_timer_t *timer, s_value_t *value)
{
    const uint8_t *in = timer->value;
    if (timer->value_size < S_VALUE_HEAD ||
        (in[0] != S_VERSION_DEADLINE && in[0] != S_VERSION_FRESH) || in[1] >= JOBD_STATE_COUNT ||
        in[2] > 2)
        return JOBD_EPROTO;
    *value = (s_value_t){.version = in[0], .state = in[1], .action = in[2]};
    for (int index = 0; index < 8; index++) {
        value->limit = (int64_t)(((uint64_t)value->limit << 8) | in[3 + index]);
        value->grace = (int64_t)(((uint64_t)value->grace << 8) | in[11 + index]);
    }
    size_t size = timer->value_size - S_VALUE_HEAD;
    if (size >= sizeof value->origin)
        size = sizeof value->origin - 1;
    memcpy (value->origin, in + S_VALUE_HEAD, size);
    value->origin[size] = 0;
    return 0;
}

int
jobd_deadline_arm (jobd_store_t *store, const jobd_job_t *job, void *arg)
{
    jobd_deadline_t *self = (jobd_deadline_t *)arg;
    if (jobd_state_is_final (job->state))
        return 0;
    s_value_t value;
    s_resolve (self, job, &value);
    uint8_t bytes[JOBD_STORE_TIMER_VALUE_MAX];
    int rc = 0;
    if (value.limit > 0)
        rc = jobd_store_timer_set (store, job->id, "deadline", job->updated_at + value.limit, bytes,
                                   s_value_pack (&value, bytes));
    //  Freshness: the source's silence is checked from its last word on (the state's entry, or
    //  a later confirmation when a new heartbeat promise re-arms it), then lazily at each firing:
    //  no timer write per observation. A job waiting for its retry has no source to hear from:
    //  the wait is jobd's own timer.
    if (rc == 0 && value.fresh > 0 && job->state != JOBD_STATE_RETRY_WAIT) {
        value.version = S_VERSION_FRESH;
        value.limit = value.fresh;
        value.action = value.fresh_action;
        value.grace = value.fresh_grace;
        snprintf (value.origin, sizeof value.origin, "%s", value.fresh_origin);
        int64_t last = job->confirmed_at > job->updated_at ? job->confirmed_at : job->updated_at;
        rc = jobd_store_timer_set (store, job->id, "fresh", last + value.fresh, bytes,
                                   s_value_pack (&value, bytes));
    }
    return rc;
}

//  "1h30m", "2m0s", "45s", "800ms": a duration as an operator reads it.
static void
s_duration (int64_t ms, char *out, size_t size)
{
    if (ms < 1000)
        snprintf (out, size, "%lldms", (long long)ms);
    else if (ms < 60000)
        snprintf (out, size, "%llds", (long long)(ms / 1000));
    else if (ms < 3600000)
        snprintf (out, size, "%lldm%llds", (long long)(ms / 60000), (long long)(ms % 60000 / 1000));
    else
        snprintf (out, size, "%lldh%lldm", (long long)(ms / 3600000),
                  (long long)(ms % 3600000 / 60000));
}

//  A deadline fell due (or a freshness check found the source silent for longer than its limit,
//  fresh true): the job is flagged stale (once per state entered) and its action armed.
static int
s_fire_deadline (jobd_store_t *store, const jobd_store_timer_t *timer, const s_value_t *value,
                 bool fresh, jobd_deadline_fired_t *fired)
{
    char limit[32], grace[32], reason[256], action[96] = "";
    s_duration (value->limit, limit, sizeof limit);
    s_duration (value->grace, grace, sizeof grace);
    jobd_state_t state = (jobd_state_t)value->state;
    if (value->action != S_ACTION_NONE)
        snprintf (action, sizeof action, "; action %s in %s unless it moves",
                  s_action_names[value->action], grace);
    if (fresh)
        snprintf (reason, sizeof reason, "%s and no word from its source for more than %s (%s)%s",
                  jobd_state_name (state), limit, value->origin, action);
    else
        snprintf (reason, sizeof reason, "%s for more than %s: past its deadline (%s)%s",
                  jobd_state_name (state), limit, value->origin, action);
    const jobd_job_t *job = NULL;
    int rc = jobd_store_stale_set (store, timer->job, state, reason, &job);
    if (rc == JOBD_ESTATE || rc == JOBD_ENOTFOUND || rc == JOBD_ECORRUPT)
        return 0; //  it moved on (or is gone): nothing to say
    if (rc)
        return rc;
    jobd_event_t *stale = jobd_event_new (JOBD_EVENT_STALE);
    if (!stale || jobd_event_set (&stale->source, JOBD_STORE_SOURCE_DEADLINE) ||
        jobd_event_set (&stale->job, job->id) || jobd_event_set (&stale->error, reason) ||
        jobd_event_set (&stale->name, job->name) || jobd_event_set (&stale->kind, job->kind) ||
        jobd_event_set (&stale->backend, job->backend) || jobd_event_set (&stale->ext, job->ext)) {
        jobd_event_destroy (&stale);
        return -ENOMEM;
    }
    stale->state = state;
    stale->last_seen = job->confirmed_at ? job->confirmed_at : job->updated_at;
    fired->stale = stale;
    //  In the transition log too, in the same commit: the log's readers (the notifier, the
    //  event stream) meet it in order and lose none across a restart.
    rc = jobd_store_log_event (store, stale);
    if (rc)
        return rc;
    if (value->action == S_ACTION_NONE)
        return 0;
    uint8_t bytes[JOBD_STORE_TIMER_VALUE_MAX];
    size_t size = s_value_pack (value, bytes);
    return jobd_store_timer_set (store, timer->job, "deadline.action", job->stale_at + value->grace,
                                 bytes, size);
}

//  The batch's copy of a timer's job: 0 and *job_p; 1 when it is gone (or unreadable: nothing
//  to fire); else the error that kills the batch.
static int
s_timer_job (jobd_store_t *store, const jobd_store_timer_t *timer, const jobd_job_t **job_p)
{
    int rc = jobd_store_batch_job (store, timer->job, job_p);
    return rc == JOBD_ENOTFOUND || rc == JOBD_ECORRUPT ? 1 : rc;
}

//  The grace after a deadline is over and the job has not moved: its action applies, through
//  the state machine like any event.
static int
s_fire_action (jobd_store_t *store, const jobd_store_timer_t *timer, const s_value_t *value,
               jobd_deadline_fired_t *fired)
{
    jobd_state_t state = (jobd_state_t)value->state;
    //  A freshness check's action waits for the source's silence, not for a move: a source that
    //  spoke again within the grace ends the flag, and its silence is checked from that word on.
    if (value->version == S_VERSION_FRESH) {
        const jobd_job_t *job = NULL;
        int rc = s_timer_job (store, timer, &job);
        if (rc)
            return rc > 0 ? 0 : rc;
        //  (A word in the flag's own millisecond counts: the flag found the source silent for a
        //  whole limit before it, so that word came after.)
        if (job->state == state && job->stale && job->confirmed_at >= job->stale_at) {
            int64_t due = job->confirmed_at + value->limit;
            rc = jobd_store_stale_clear (store, timer->job, state);
            if (rc == 0) {
                uint8_t bytes[JOBD_STORE_TIMER_VALUE_MAX];
                rc = jobd_store_timer_set (store, timer->job, "fresh", due, bytes,
                                           s_value_pack (value, bytes));
            }
            return rc == JOBD_ESTATE ? 0 : rc;
        }
    }
    char limit[32], grace[32], reason[256];
    s_duration (value->limit, limit, sizeof limit);
    s_duration (value->grace, grace, sizeof grace);
    snprintf (reason, sizeof reason, "%s %s %s (%s), then %s of grace: %s by jobd",
              jobd_state_name (state),
              value->version == S_VERSION_FRESH ? "and no word from its source for more than"
                                                : "for more than",
              limit, value->origin, grace,
              value->action == S_ACTION_LOST ? "declared LOST" : "cancelled");
    jobd_event_t *event =
        jobd_event_new (value->action == S_ACTION_LOST ? JOBD_EVENT_OBSERVED : JOBD_EVENT_CANCEL);
    if (!event || jobd_event_set (&event->source, JOBD_STORE_SOURCE_DEADLINE) ||
        jobd_event_set (&event->job, timer->job) ||
        (value->action == S_ACTION_LOST && jobd_event_set (&event->error, reason))) {
        jobd_event_destroy (&event);
        return -ENOMEM;
    }
    event->state = value->action == S_ACTION_LOST ? JOBD_STATE_LOST : JOBD_STATE_NONE;
    fired->action = event;
    fired->rc = jobd_store_apply (store, event, &fired->result);
    //  A refusal (the state machine's, a job gone) costs this action only; anything else, the
    //  batch.
    bool refused = fired->rc == JOBD_ESTATE || fired->rc == JOBD_ENOTFOUND ||
                   fired->rc == JOBD_EEXIST || fired->rc == JOBD_EPROTO ||
                   fired->rc == JOBD_ECORRUPT;
    return fired->rc && !refused ? fired->rc : 0;
}

//  A freshness check: the job's source last confirmed it (or it entered its state) at `last`.
//  Heard from within the limit: checked again at last + limit. Silent longer: stale.
static int
s_fire_fresh (jobd_store_t *store, const jobd_store_timer_t *timer, const s_value_t *value,
              jobd_deadline_fired_t *fired)
{
    const jobd_job_t *job = NULL;
    int rc = s_timer_job (store, timer, &job);
    if (rc)
        return rc > 0 ? 0 : rc;
    if (job->state != value->state || job->stale)
        return 0; //  moved on (its transition would have removed this timer), or flagged
    int64_t last = job->confirmed_at > job->updated_at ? job->confirmed_at : job->updated_at;
    if (last + value->limit > jobd_now_ms ())
        return jobd_store_timer_set (store, timer->job, "fresh", last + value->limit, timer->value,
                                     timer->value_size);
    return s_fire_deadline (store, timer, value, true, fired);
}

int
jobd_deadline_fire (jobd_deadline_t *self, jobd_store_t *store, const jobd_store_timer_t *timer,
                    jobd_deadline_fired_t *fired)
{
    memset (fired, 0, sizeof *fired);
    s_value_t value;
    (void)self;
    bool deadline = strcmp (timer->name, "deadline") == 0;
    bool fresh = strcmp (timer->name, "fresh") == 0;
    bool action = strcmp (timer->name, "deadline.action") == 0;
    if (!deadline && !fresh && !action)
        return 0;
    if (s_value_unpack (timer, &value)) {
        jobd_log (JOBD_LOG_WARN, LOG,
                  "job %s: timer '%s' with a value this jobd cannot read: dropped", timer->job,
                  timer->name);
        return 0;
    }
    if (deadline)
        return s_fire_deadline (store, timer, &value, false, fired);
    if (fresh)
        return s_fire_fresh (store, timer, &value, fired);
    //  The job is still where its deadline found it: moving on would have removed this timer.
    return s_fire_action (store, timer, &value, fired);
}

void
jobd_deadline_fired_clear (jobd_deadline_fired_t *fired)
{
    jobd_event_destroy (&fired->stale);
    jobd_event_destroy (&fired->action);
    jobd_apply_result_clear (&fired->result);
    memset (fired, 0, sizeof *fired);
}
