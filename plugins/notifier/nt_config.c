//  notifier: a channel's config keys, and its secrets (see nt_channel.h).
#include "nt_channel.h"
#include "jobd_error.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SECRET_MAX 65536 //  bytes of a secret file, at most

const char *
nt_config_str (const nt_config_t *self, const char *key)
{
    char path[512];
    snprintf (path, sizeof path, "channels/%s/%s", self->name, key);
    return self->host->config_str (self->host, path);
}

int64_t
nt_config_int (const nt_config_t *self, const char *key, int64_t fallback)
{
    char path[512];
    snprintf (path, sizeof path, "channels/%s/%s", self->name, key);
    return self->host->config_int (self->host, path, fallback);
}

//  The value of key when set and not empty, else NULL.
static const char *
s_set (const nt_config_t *self, const char *key)
{
    const char *value = nt_config_str (self, key);
    return value && *value ? value : NULL;
}

//  The content of file path, less one trailing newline (fresh), or NULL with errno.
static char *
s_read_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *value = (char *)malloc (S_SECRET_MAX + 1);
    size_t size = value ? fread (value, 1, S_SECRET_MAX + 1, file) : 0;
    int failed = !value || ferror (file);
    fclose (file);
    if (failed || size > S_SECRET_MAX) {
        free (value);
        errno = failed ? EIO : EFBIG;
        return NULL;
    }
    value[size] = 0;
    if (size && value[size - 1] == '\n')
        value[--size] = 0;
    if (size && value[size - 1] == '\r')
        value[--size] = 0;
    return value;
}

int
nt_config_secret (const nt_config_t *self, const char *key, char **value_p, char *reason,
                  size_t reason_size)
{
    *value_p = NULL;
    char env_key[128], file_key[128];
    snprintf (env_key, sizeof env_key, "%s_env", key);
    snprintf (file_key, sizeof file_key, "%s_file", key);
    const char *value = s_set (self, key);
    const char *env = s_set (self, env_key);
    const char *file = s_set (self, file_key);
    if ((value != NULL) + (env != NULL) + (file != NULL) > 1) {
        snprintf (reason, reason_size, "channels/%s/%s: set only one of %s, %s and %s", self->name,
                  key, key, env_key, file_key);
        return JOBD_ECONFIG;
    }
    if (value)
        *value_p = strdup (value);
    else if (env) {
        const char *from_env = getenv (env);
        if (!from_env || !*from_env) {
            snprintf (reason, reason_size, "channels/%s/%s: the environment variable %s is not set",
                      self->name, env_key, env);
            return JOBD_ECONFIG;
        }
        *value_p = strdup (from_env);
    } else if (file) {
        *value_p = s_read_file (file);
        if (!*value_p) {
            snprintf (reason, reason_size, "channels/%s/%s: cannot read %s: %s", self->name,
                      file_key, file, strerror (errno));
            return JOBD_ECONFIG;
        }
    }
    return 0;
}
