//  Retry settings: one reader for a spec's `retry` object, the retry plugin's config keys and
//  its `policies` entries, so that the submit validators and the plugin agree on what is valid.
#include "jobd_plugin_sdk.h"
#include "jobd_value.h"
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define S_ATTEMPTS_MAX   1000
#define S_MULTIPLIER_MAX 100.0
#define S_BACKOFF_MAX_MS (365LL * 86400 * 1000) //  a wait longer than a year is a mistake
#define S_KEYS           "max_attempts, backoff_initial, backoff_max, multiplier, jitter, on_lost"

void
jobd_sdk_retry_unset (jobd_sdk_retry_t *self)
{
    assert (self);
    *self = (jobd_sdk_retry_t){.max_attempts = -1,
                               .backoff_initial = -1,
                               .backoff_max = -1,
                               .multiplier = -1,
                               .jitter = JOBD_SDK_JITTER_UNSET,
                               .on_lost = -1};
}

int
jobd_sdk_retry_set (jobd_sdk_retry_t *self, const char *key, const char *value, char *reason,
                    size_t reason_size)
{
    assert (self && key);
    int64_t number = 0;
    const char *wanted = NULL;
    if (!value)
        value = "";
    if (strcmp (key, "max_attempts") == 0) {
        if (jobd_config_parse_value (JOBD_CONF_INT, value, &number) || number < 1 ||
            number > S_ATTEMPTS_MAX)
            wanted = "a whole number from 1 (never retried) to 1000";
        else
            self->max_attempts = number;
    } else if (strcmp (key, "backoff_initial") == 0 || strcmp (key, "backoff_max") == 0) {
        if (jobd_config_parse_value (JOBD_CONF_DURATION, value, &number) ||
            number > S_BACKOFF_MAX_MS)
            wanted = "a duration like 30s, 5m, 2h (or ms), at most a year (8760h)";
        else if (key[8] == 'i')
            self->backoff_initial = number;
        else
            self->backoff_max = number;
    } else if (strcmp (key, "multiplier") == 0) {
        char *end = NULL;
        errno = 0;
        double factor = *value ? strtod (value, &end) : NAN;
        if (isnan (factor) || errno || !end || *end || factor < 1 || factor > S_MULTIPLIER_MAX)
            wanted = "a number from 1 to 100";
        else
            self->multiplier = factor;
    } else if (strcmp (key, "jitter") == 0) {
        if (strcmp (value, "full") == 0)
            self->jitter = JOBD_SDK_JITTER_FULL;
        else if (strcmp (value, "none") == 0)
            self->jitter = JOBD_SDK_JITTER_NONE;
        else
            wanted = "full or none";
    } else if (strcmp (key, "on_lost") == 0) {
        if (jobd_config_parse_value (JOBD_CONF_BOOL, value, &number))
            wanted = "true or false";
        else
            self->on_lost = (int)number;
    } else {
        snprintf (reason, reason_size, "unknown key '%.64s' (one of " S_KEYS ")", key);
        return JOBD_EINVAL;
    }
    if (wanted) {
        snprintf (reason, reason_size, "%s '%.64s': not %s", key, value, wanted);
        return JOBD_EINVAL;
    }
    return 0;
}

//  One value of a spec's retry object as the text jobd_sdk_retry_set reads, or NULL when its
//  JSON type is not one the key takes.
static const char *
s_text (const char *key, const json_t *value, char *text, size_t size)
{
    bool flag = strcmp (key, "on_lost") == 0;
    bool word = strcmp (key, "jitter") == 0;
    if (flag)
        return json_is_boolean (value) ? (json_is_true (value) ? "true" : "false") : NULL;
    if (json_is_string (value) && (word || strncmp (key, "backoff_", 8) == 0))
        return json_string_value (value);
    if (json_is_integer (value) && !word) {
        snprintf (text, size, "%lld", (long long)json_integer_value (value));
        return text;
    }
    if (json_is_real (value) && strcmp (key, "multiplier") == 0) {
        snprintf (text, size, "%.17g", json_real_value (value));
        return text;
    }
    return NULL;
}

int
jobd_sdk_retry_read (jobd_sdk_retry_t *self, const struct json_t *object, char *reason,
                     size_t reason_size)
{
    jobd_sdk_retry_t scratch;
    jobd_sdk_retry_unset (&scratch);
    if (self)
        scratch = *self;
    if (!json_is_object (object)) {
        snprintf (reason, reason_size, "key 'retry': not an object (keys " S_KEYS ")");
        return JOBD_EINVAL;
    }
    jobd_sdk_retry_t given;
    jobd_sdk_retry_unset (&given);
    const char *key;
    json_t *value;
    char why[256] = "";
    json_object_foreach ((json_t *)object, key, value)
    {
        char text[64];
        const char *as_text = s_text (key, value, text, sizeof text);
        int rc = jobd_sdk_retry_set (&given, key, as_text ? as_text : "", why, sizeof why);
        if (rc == 0 && !as_text) {
            snprintf (why, sizeof why, "%s: wrong type", key);
            rc = JOBD_EINVAL;
        }
        if (rc) {
            snprintf (reason, reason_size, "key 'retry': %s", why);
            return JOBD_EINVAL;
        }
    }
    jobd_sdk_retry_over (&scratch, &given);
    if (scratch.backoff_initial >= 0 && scratch.backoff_max >= 0 &&
        scratch.backoff_max < scratch.backoff_initial) {
        snprintf (reason, reason_size, "key 'retry': backoff_max is below backoff_initial");
        return JOBD_EINVAL;
    }
    if (self)
        *self = scratch;
    return 0;
}

int
jobd_sdk_retry_from_spec (jobd_sdk_retry_t *self, const char *spec, char *reason,
                          size_t reason_size)
{
    if (!spec || !strstr (spec, "\"retry\""))
        return 0;
    json_t *root = json_loads (spec, 0, NULL);
    json_t *object = json_object_get (root, "retry");
    int rc = object ? jobd_sdk_retry_read (self, object, reason, reason_size) : 0;
    json_decref (root);
    return rc;
}

void
jobd_sdk_retry_over (jobd_sdk_retry_t *self, const jobd_sdk_retry_t *over)
{
    assert (self && over);
    if (over->max_attempts >= 0)
        self->max_attempts = over->max_attempts;
    if (over->backoff_initial >= 0)
        self->backoff_initial = over->backoff_initial;
    if (over->backoff_max >= 0)
        self->backoff_max = over->backoff_max;
    if (over->multiplier >= 0)
        self->multiplier = over->multiplier;
    if (over->jitter != JOBD_SDK_JITTER_UNSET)
        self->jitter = over->jitter;
    if (over->on_lost >= 0)
        self->on_lost = over->on_lost;
}
