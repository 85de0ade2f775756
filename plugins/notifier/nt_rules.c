//  notifier: the rules (see nt_rules.h).
#include "nt_rules.h"
#include "jobd_error.h"
#include <ctype.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LIST_MAX    64  //  names or globs in one list
#define S_PATTERN_MAX 256 //  bytes of one glob or regex
#define S_REPEATS_MAX 8   //  repetition operators in one regex (glibc's regcomp grows with each)

//  A compiled pattern: "" (any), globs, or a regex.
typedef struct {
    bool any;
    bool regex;
    regex_t compiled;
    char *globs[S_LIST_MAX];
    size_t count;
} s_pattern_t;

typedef struct {
    char *name;
    uint32_t events; //  bits 1 << nt_event_t (NT_EVENT_STATE: any state of states)
    uint32_t states; //  bits 1 << jobd_state_t, for state:<STATE>
    bool all_channels;
    char *channels[S_LIST_MAX];
    size_t channel_count;
    s_pattern_t kinds, backends, names;
    int64_t digest_after, digest_window;
} s_rule_t;

struct nt_rules {
    s_rule_t rules[NT_RULES_MAX];
    size_t count;
};

static const char *const s_event_names[] = {"state",     "failed",    "final",     "stale",
                                            "recovered", "cancelled", "succeeded", "digest"};

const char *
nt_event_name (nt_event_t event)
{
    return (unsigned)event <= NT_EVENT_DIGEST ? s_event_names[event] : "?";
}

//  Splits text at commas into trimmed, non-empty items (fresh strings). Returns how many, or -1
//  when there are more than max.
static int
s_split (const char *text, char **items, size_t max)
{
    size_t count = 0;
    const char *at = text;
    while (at && *at) {
        const char *end = strchr (at, ',');
        size_t length = end ? (size_t)(end - at) : strlen (at);
        const char *start = at;
        while (length && isspace ((unsigned char)*start))
            start++, length--;
        while (length && isspace ((unsigned char)start[length - 1]))
            length--;
        if (length) {
            if (count == max) {
                while (count)
                    free (items[--count]);
                return -1;
            }
            items[count++] = strndup (start, length);
        }
        at = end ? end + 1 : NULL;
    }
    return (int)count;
}

static void
s_pattern_fini (s_pattern_t *self)
{
    if (self->regex)
        regfree (&self->compiled);
    while (self->count)
        free (self->globs[--self->count]);
    self->regex = false;
}

static int
s_pattern_init (s_pattern_t *self, const char *text, char *reason, size_t reason_size)
{
    memset (self, 0, sizeof *self);
    const char *start = text ? text : "";
    while (isspace ((unsigned char)*start))
        start++;
    if (*start == '~') {
        //  Stacked repetitions ("a+++") and many of them make glibc's regcomp take exponential
        //  time and memory: refused, as POSIX leaves stacked ones undefined anyway.
        size_t repeats = 0;
        bool stacked = false;
        for (const char *at = start + 1; *at; at++) {
            bool repeat = strchr ("*+?{", *at) && at[-1] != '\\';
            repeats += repeat;
            stacked |= repeat && at > start + 1 && strchr ("*+?}", at[-1]) && at[-2] != '\\';
        }
        if (strlen (start + 1) > S_PATTERN_MAX || repeats > S_REPEATS_MAX || stacked) {
            snprintf (reason, reason_size,
                      "regular expression over %d bytes, with over %d repetitions, or with "
                      "stacked ones",
                      S_PATTERN_MAX, S_REPEATS_MAX);
            return JOBD_ECONFIG;
        }
        int rc = regcomp (&self->compiled, start + 1, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char why[128];
            regerror (rc, &self->compiled, why, sizeof why);
            snprintf (reason, reason_size, "bad regular expression: %s", why);
            return JOBD_ECONFIG;
        }
        self->regex = true;
        return 0;
    }
    int count = s_split (start, self->globs, S_LIST_MAX);
    if (count < 0) {
        snprintf (reason, reason_size, "more than %d patterns", S_LIST_MAX);
        return JOBD_ECONFIG;
    }
    self->count = (size_t)count;
    self->any = count == 0;
    for (size_t index = 0; index < self->count; index++)
        if (strlen (self->globs[index]) > S_PATTERN_MAX) {
            snprintf (reason, reason_size, "a glob over %d bytes", S_PATTERN_MAX);
            s_pattern_fini (self);
            return JOBD_ECONFIG;
        }
    return 0;
}

static bool
s_pattern_match (const s_pattern_t *self, const char *value)
{
    if (self->any)
        return true;
    const char *text = value ? value : "";
    if (self->regex)
        return regexec (&self->compiled, text, 0, NULL, 0) == 0;
    for (size_t index = 0; index < self->count; index++)
        if (fnmatch (self->globs[index], text, 0) == 0)
            return true;
    return false;
}

int
nt_pattern_check (const char *pattern, char *reason, size_t reason_size)
{
    s_pattern_t compiled;
    int rc = s_pattern_init (&compiled, pattern, reason, reason_size);
    if (rc == 0)
        s_pattern_fini (&compiled);
    return rc;
}

bool
nt_pattern_match (const char *pattern, const char *value)
{
    s_pattern_t compiled;
    char reason[128];
    if (s_pattern_init (&compiled, pattern, reason, sizeof reason))
        return false;
    bool match = s_pattern_match (&compiled, value);
    s_pattern_fini (&compiled);
    return match;
}

nt_rules_t *
nt_rules_new (void)
{
    return (nt_rules_t *)calloc (1, sizeof (nt_rules_t));
}

static void
s_rule_fini (s_rule_t *rule)
{
    free (rule->name);
    while (rule->channel_count)
        free (rule->channels[--rule->channel_count]);
    s_pattern_fini (&rule->kinds);
    s_pattern_fini (&rule->backends);
    s_pattern_fini (&rule->names);
    memset (rule, 0, sizeof *rule);
}

void
nt_rules_destroy (nt_rules_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nt_rules_t *self = *self_p;
    for (size_t index = 0; index < self->count; index++)
        s_rule_fini (&self->rules[index]);
    free (self);
    *self_p = NULL;
}

//  Reads the events list into rule. Returns 0, or JOBD_ECONFIG with a reason.
static int
s_events (s_rule_t *rule, const char *events, char *reason, size_t reason_size)
{
    char *items[S_LIST_MAX];
    int count = s_split (events ? events : "", items, S_LIST_MAX);
    int rc = count > 0 ? 0 : JOBD_ECONFIG;
    if (count <= 0)
        snprintf (reason, reason_size, "events: %s", count ? "too many" : "none named");
    for (int index = 0; index < count; index++) {
        const char *item = items[index];
        bool known = false;
        if (strncmp (item, "state:", 6) == 0) {
            jobd_state_t state;
            known = jobd_state_parse (item + 6, strlen (item + 6), &state) == 0 &&
                    state != JOBD_STATE_NONE;
            if (known) {
                rule->events |= 1u << NT_EVENT_STATE;
                rule->states |= 1u << state;
            }
        } else
            for (int event = NT_EVENT_FAILED; event < NT_EVENT_DIGEST && !known; event++)
                if (strcmp (item, s_event_names[event]) == 0) {
                    rule->events |= 1u << event;
                    known = true;
                }
        if (!known && rc == 0) {
            snprintf (reason, reason_size,
                      "events: unknown event '%.64s' (failed, final, stale, recovered, "
                      "cancelled, succeeded, state:<STATE>)",
                      item);
            rc = JOBD_ECONFIG;
        }
    }
    for (int index = 0; index < count; index++)
        free (items[index]);
    return rc;
}

int
nt_rules_add (nt_rules_t *self, const char *name, const char *events, const char *channels,
              const char *kinds, const char *backends, const char *names, int64_t digest_after,
              int64_t digest_window, char *reason, size_t reason_size)
{
    if (self->count == NT_RULES_MAX) {
        snprintf (reason, reason_size, "more than %d rules", NT_RULES_MAX);
        return JOBD_ECONFIG;
    }
    s_rule_t *rule = &self->rules[self->count];
    memset (rule, 0, sizeof *rule);
    rule->name = strdup (name ? name : "");
    rule->digest_after = digest_after;
    rule->digest_window = digest_window;
    char why[200] = "";
    int rc = s_events (rule, events, reason, reason_size);
    if (rc == 0) {
        const char *list = channels ? channels : "*";
        while (isspace ((unsigned char)*list))
            list++;
        rule->all_channels = strcmp (list, "*") == 0 || *list == 0;
        int count = rule->all_channels ? 0 : s_split (list, rule->channels, S_LIST_MAX);
        if (count < 0) {
            snprintf (reason, reason_size, "channels: more than %d names", S_LIST_MAX);
            rc = JOBD_ECONFIG;
        } else
            rule->channel_count = (size_t)count;
    }
    if (rc == 0 && s_pattern_init (&rule->kinds, kinds, why, sizeof why)) {
        snprintf (reason, reason_size, "kinds: %s", why);
        rc = JOBD_ECONFIG;
    }
    if (rc == 0 && s_pattern_init (&rule->backends, backends, why, sizeof why)) {
        snprintf (reason, reason_size, "backends: %s", why);
        rc = JOBD_ECONFIG;
    }
    if (rc == 0 && s_pattern_init (&rule->names, names, why, sizeof why)) {
        snprintf (reason, reason_size, "names: %s", why);
        rc = JOBD_ECONFIG;
    }
    if (rc == 0 && digest_after < 0) {
        snprintf (reason, reason_size, "digest_after: must be 0 or more");
        rc = JOBD_ECONFIG;
    }
    if (rc == 0 && digest_window < 0) {
        snprintf (reason, reason_size, "digest_window: must be 0 or more");
        rc = JOBD_ECONFIG;
    }
    if (rc)
        s_rule_fini (rule);
    else
        self->count++;
    return rc;
}

size_t
nt_rules_size (const nt_rules_t *self)
{
    return self->count;
}

const char *
nt_rules_name (const nt_rules_t *self, size_t index)
{
    return index < self->count ? self->rules[index].name : NULL;
}

int64_t
nt_rules_digest_after (const nt_rules_t *self, size_t index)
{
    return index < self->count ? self->rules[index].digest_after : 0;
}

int64_t
nt_rules_digest_window (const nt_rules_t *self, size_t index)
{
    return index < self->count ? self->rules[index].digest_window : 0;
}

const char *
nt_rules_unknown_channel (const nt_rules_t *self, const char *const *names, size_t count)
{
    for (size_t index = 0; index < self->count; index++) {
        const s_rule_t *rule = &self->rules[index];
        for (size_t channel = 0; channel < rule->channel_count; channel++) {
            bool known = false;
            for (size_t name = 0; name < count && !known; name++)
                known = strcmp (names[name], rule->channels[channel]) == 0;
            if (!known)
                return rule->channels[channel];
        }
    }
    return NULL;
}

static bool
s_names_channel (const s_rule_t *rule, const char *channel)
{
    if (rule->all_channels)
        return true;
    for (size_t index = 0; index < rule->channel_count; index++)
        if (strcmp (rule->channels[index], channel) == 0)
            return true;
    return false;
}

int
nt_rules_match (const nt_rules_t *self, const char *channel, const nt_facts_t *facts,
                nt_event_t *event_p)
{
    //  The most telling first.
    static const nt_event_t order[] = {NT_EVENT_FINAL,  NT_EVENT_STALE,     NT_EVENT_RECOVERED,
                                       NT_EVENT_FAILED, NT_EVENT_CANCELLED, NT_EVENT_SUCCEEDED,
                                       NT_EVENT_STATE};
    for (size_t index = 0; index < self->count; index++) {
        const s_rule_t *rule = &self->rules[index];
        uint32_t wanted = rule->events & facts->events;
        if (wanted == (1u << NT_EVENT_STATE) && !(rule->states & (1u << facts->state)))
            wanted = 0;
        else if (!(rule->states & (1u << facts->state)))
            wanted &= ~(1u << NT_EVENT_STATE);
        if (!wanted || !s_names_channel (rule, channel) ||
            !s_pattern_match (&rule->kinds, facts->kind) ||
            !s_pattern_match (&rule->backends, facts->backend) ||
            !s_pattern_match (&rule->names, facts->name))
            continue;
        for (size_t event = 0; event < sizeof order / sizeof order[0]; event++)
            if (wanted & (1u << order[event])) {
                *event_p = order[event];
                break;
            }
        return (int)index;
    }
    return -1;
}
