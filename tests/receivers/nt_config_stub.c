//  A stand-in for the notifier's nt_config in the channels' tests (nt_config_stub.h): a table
//  of keys, values parsed with jobd's own value parser, secrets from the value, an
//  environment variable or a file as nt_channel.h says.
#include "nt_config_stub.h"
#include "jobd_value.h"
#include "nt_channel.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEYS_MAX 64

static struct {
    char *key;
    char *value;
} s_table[S_KEYS_MAX];

void
nt_config_stub_reset (void)
{
    for (size_t index = 0; index < S_KEYS_MAX; index++) {
        free (s_table[index].key);
        free (s_table[index].value);
        s_table[index].key = s_table[index].value = NULL;
    }
}

void
nt_config_stub_set (const char *key, const char *value)
{
    size_t free_slot = S_KEYS_MAX;
    for (size_t index = 0; index < S_KEYS_MAX; index++) {
        if (s_table[index].key && strcmp (s_table[index].key, key) == 0) {
            free (s_table[index].value);
            s_table[index].value = value ? strdup (value) : NULL;
            return;
        }
        if (!s_table[index].key && free_slot == S_KEYS_MAX)
            free_slot = index;
    }
    if (free_slot < S_KEYS_MAX && value) {
        s_table[free_slot].key = strdup (key);
        s_table[free_slot].value = strdup (value);
    }
}

const char *
nt_config_str (const nt_config_t *self, const char *key)
{
    for (size_t index = 0; index < S_KEYS_MAX; index++)
        if (s_table[index].key && strcmp (s_table[index].key, key) == 0)
            return s_table[index].value;
    return NULL;
}

int64_t
nt_config_int (const nt_config_t *self, const char *key, int64_t fallback)
{
    const char *text = nt_config_str (self, key);
    int64_t value;
    //  A duration parses plain numbers too: every int key the channels read is one or the other.
    if (text && jobd_config_parse_value (JOBD_CONF_DURATION, text, &value) == 0)
        return value;
    return fallback;
}

int
nt_config_secret (const nt_config_t *self, const char *key, char **value_p, char *reason,
                  size_t reason_size)
{
    *value_p = NULL;
    char env_key[128], file_key[128];
    snprintf (env_key, sizeof env_key, "%s_env", key);
    snprintf (file_key, sizeof file_key, "%s_file", key);
    const char *value = nt_config_str (self, key);
    const char *env = nt_config_str (self, env_key);
    const char *file = nt_config_str (self, file_key);
    if ((value != NULL) + (env != NULL) + (file != NULL) > 1) {
        snprintf (reason, reason_size, "channels/%s/%s: set one of %s, %s_env, %s_file", self->name,
                  key, key, key, key);
        return JOBD_ECONFIG;
    }
    if (env) {
        value = getenv (env);
        if (!value) {
            snprintf (reason, reason_size, "channels/%s/%s_env: variable %s is not set", self->name,
                      key, env);
            return JOBD_ECONFIG;
        }
    }
    if (file) {
        FILE *handle = fopen (file, "r");
        char buffer[4096];
        size_t size = handle ? fread (buffer, 1, sizeof buffer - 1, handle) : 0;
        if (handle)
            fclose (handle);
        if (!handle) {
            snprintf (reason, reason_size, "channels/%s/%s_file: cannot read %s", self->name, key,
                      file);
            return JOBD_ECONFIG;
        }
        buffer[size] = 0;
        if (size && buffer[size - 1] == '\n')
            buffer[size - 1] = 0;
        *value_p = strdup (buffer);
        return *value_p ? 0 : -ENOMEM;
    }
    if (value && !(*value_p = strdup (value)))
        return -ENOMEM;
    return 0;
}

void *
nt_config_stub_open (const nt_channel_type_t *type, const nt_config_t *config)
{
    void *state = NULL;
    char reason[256] = "";
    int rc = type->open (config, &state, reason, sizeof reason);
    if (rc)
        fprintf (stderr, "%s channel %s: open: %s (%d)\n", type->type, config->name, reason, rc);
    return rc ? NULL : state;
}
