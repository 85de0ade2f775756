//  retry: the policy (rt_policy.h). `policies` has core/deadlines' shape: entries split on ';',
//  the first word KIND or KIND/BACKEND, then KEY=VALUE words.
#include "rt_policy.h"
#include "jobd_value.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define S_ENTRIES_MAX 64
#define S_WAIT_MAX_MS (365.0 * 86400 * 1000) //  the longest wait before an attempt

typedef struct {
    char kind[JOBD_ID_MAX + 1];
    char backend[JOBD_ID_MAX + 1]; //  empty: every backend of the kind
    rt_rule_t rule;
} s_entry_t;

struct rt_policy {
    rt_rule_t base;
    s_entry_t entries[S_ENTRIES_MAX];
    size_t count;
};

void
rt_rule_unset (rt_rule_t *rule)
{
    jobd_sdk_retry_unset (&rule->retry);
    rule->rate = -1;
}

int
rt_rule_set (rt_rule_t *rule, const char *key, const char *value, char *reason, size_t reason_size)
{
    if (strcmp (key, "rate") != 0)
        return jobd_sdk_retry_set (&rule->retry, key, value, reason, reason_size);
    int64_t rate;
    if (jobd_config_parse_value (JOBD_CONF_INT, value ? value : "", &rate) || rate < 0) {
        snprintf (reason, reason_size, "rate '%.64s': not a whole number, 0 or more (0: no limit)",
                  value ? value : "");
        return JOBD_EINVAL;
    }
    rule->rate = rate;
    return 0;
}

//  One entry's words after its KIND[/BACKEND]. Returns 0 or JOBD_ECONFIG with the reason.
static int
s_entry_parse (s_entry_t *entry, char **save_word, char *reason, size_t reason_size)
{
    char *word;
    while ((word = strtok_r (NULL, " \t", save_word))) {
        char *equals = strchr (word, '=');
        char why[256] = "not KEY=VALUE";
        if (equals)
            *equals = 0;
        if (!equals || rt_rule_set (&entry->rule, word, equals + 1, why, sizeof why)) {
            snprintf (reason, reason_size, "policies: entry '%s%s%s': %s", entry->kind,
                      entry->backend[0] ? "/" : "", entry->backend, why);
            return JOBD_ECONFIG;
        }
    }
    return 0;
}

int
rt_policy_new (const rt_rule_t *base, const char *policies, rt_policy_t **self_p, char *reason,
               size_t reason_size)
{
    *self_p = NULL;
    rt_policy_t *self = (rt_policy_t *)calloc (1, sizeof (rt_policy_t));
    char *copy = strdup (policies ? policies : "");
    if (!self || !copy) {
        free (self);
        free (copy);
        return -ENOMEM;
    }
    self->base = *base;
    int rc = 0;
    char *save_entry = NULL;
    for (char *text = strtok_r (copy, ";", &save_entry); text && rc == 0;
         text = strtok_r (NULL, ";", &save_entry)) {
        char *save_word = NULL, *word = strtok_r (text, " \t", &save_word);
        if (!word)
            continue;
        char *slash = strchr (word, '/');
        if (slash)
            *slash = 0;
        if (self->count == S_ENTRIES_MAX)
            snprintf (reason, reason_size, "policies: more than %d entries", S_ENTRIES_MAX);
        else if (!*word || strlen (word) > JOBD_ID_MAX ||
                 (slash && (!slash[1] || strlen (slash + 1) > JOBD_ID_MAX)))
            snprintf (reason, reason_size, "policies: '%.64s': not KIND or KIND/BACKEND", word);
        else {
            s_entry_t *entry = &self->entries[self->count++];
            rt_rule_unset (&entry->rule);
            snprintf (entry->kind, sizeof entry->kind, "%s", word);
            snprintf (entry->backend, sizeof entry->backend, "%s", slash ? slash + 1 : "");
            rc = s_entry_parse (entry, &save_word, reason, reason_size);
            continue;
        }
        rc = JOBD_ECONFIG;
    }
    free (copy);
    if (rc)
        rt_policy_destroy (&self);
    *self_p = self;
    return rc;
}

void
rt_policy_destroy (rt_policy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

bool
rt_rule_sets (const rt_rule_t *rule)
{
    const jobd_sdk_retry_t *retry = &rule->retry;
    return rule->rate >= 0 || retry->max_attempts >= 0 || retry->backoff_initial >= 0 ||
           retry->backoff_max >= 0 || retry->multiplier >= 0 ||
           retry->jitter != JOBD_SDK_JITTER_UNSET || retry->on_lost >= 0;
}

void
rt_policy_resolve (const rt_policy_t *self, const char *kind, const char *backend, rt_rule_t *rule,
                   char *name, size_t name_size)
{
    *rule = self->base;
    snprintf (name, name_size, "default");
    for (int pass = 0; pass < 2; pass++)
        for (size_t index = 0; index < self->count; index++) {
            const s_entry_t *entry = &self->entries[index];
            bool by_backend = entry->backend[0] != 0;
            if ((pass == 1) != by_backend || !kind || strcmp (entry->kind, kind))
                continue;
            if (by_backend && (!backend || strcmp (entry->backend, backend)))
                continue;
            jobd_sdk_retry_over (&rule->retry, &entry->rule.retry);
            if (entry->rule.rate >= 0)
                rule->rate = entry->rule.rate;
            if (rt_rule_sets (&entry->rule))
                snprintf (name, name_size, by_backend ? "backend %s" : "kind %s",
                          by_backend ? entry->backend : entry->kind);
        }
}

int64_t
rt_policy_backoff (const jobd_sdk_retry_t *settings, uint32_t attempt, uint64_t random)
{
    double initial = settings->backoff_initial > 0 ? (double)settings->backoff_initial : 0;
    double most = settings->backoff_max >= 0 ? (double)settings->backoff_max : initial;
    double factor = settings->multiplier >= 1 ? settings->multiplier : 1;
    double wait = initial * pow (factor, attempt > 1 ? attempt - 1 : 0);
    if (!(wait <= most)) //  also when the power overflowed to inf
        wait = most;
    if (wait > S_WAIT_MAX_MS) //  a year at most: the sum with now, and the cast, stay defined
        wait = S_WAIT_MAX_MS;
    if (settings->jitter == JOBD_SDK_JITTER_FULL)
        wait = floor (wait * ((double)(random >> 11) * 0x1.0p-53));
    return (int64_t)wait;
}
