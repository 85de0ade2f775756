//  spark-poller: how a backend authenticates each request, and where its secret comes from.
#include "sp_auth.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *s_names[] = {"none", "basic", "bearer", "simple", "kerberos", "delegation"};
#define S_KINDS (sizeof s_names / sizeof s_names[0])

const char *
sp_auth_name (sp_auth_kind_t kind)
{
    return (size_t)kind < S_KINDS ? s_names[kind] : "none";
}

static const char *
s_config (const jobd_host_t *host, const char *name, const char *key)
{
    char path[160];
    snprintf (path, sizeof path, "backend/%s/%s", name, key);
    const char *value = host->config_str (host, path);
    return value ? value : "";
}

int
sp_auth_read_secret (const char *path, char *secret, size_t size, char *reason, size_t reason_size)
{
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat info;
    if (fd < 0 || fstat (fd, &info)) {
        snprintf (reason, reason_size, "cannot read '%s': %s", path, strerror (errno));
        if (fd >= 0)
            close (fd);
        return JOBD_ECONFIG;
    }
    int rc = 0;
    if (!S_ISREG (info.st_mode)) {
        snprintf (reason, reason_size, "'%s' is not a regular file", path);
        rc = JOBD_ECONFIG;
    } else if (info.st_mode & (S_IWGRP | S_IRWXO)) {
        snprintf (reason, reason_size,
                  "'%s' holds a secret but is %s by others (mode %04o): chmod 600 it", path,
                  info.st_mode & S_IWGRP ? "writable" : "readable or writable",
                  (unsigned)(info.st_mode & 07777));
        rc = JOBD_ECONFIG;
    }
    char buffer[SP_AUTH_SECRET_MAX + 2];
    ssize_t got = rc ? 0 : read (fd, buffer, sizeof buffer - 1);
    close (fd);
    if (rc)
        return rc;
    if (got < 0) {
        snprintf (reason, reason_size, "cannot read '%s': %s", path, strerror (errno));
        return JOBD_ECONFIG;
    }
    buffer[got] = 0;
    size_t length = strcspn (buffer, "\r\n");
    while (length && (buffer[length - 1] == ' ' || buffer[length - 1] == '\t'))
        length--;
    if (length == 0 || length >= size || memchr (buffer, 0, length)) {
        snprintf (reason, reason_size, "'%s': %s", path,
                  length == 0 ? "the first line is empty" : "the secret is too long or binary");
        return JOBD_ECONFIG;
    }
    memcpy (secret, buffer, length);
    secret[length] = 0;
    explicit_bzero (buffer, sizeof buffer);
    return 0;
}

//  The secret of key (inline) or key_file (a file): one of them, not both.
static int
s_secret (sp_auth_t *self, const jobd_host_t *host, const char *name, const char *key, char *reason,
          size_t reason_size)
{
    char file_key[32];
    snprintf (file_key, sizeof file_key, "%s_file", key);
    const char *inline_value = s_config (host, name, key);
    const char *file = s_config (host, name, file_key);
    if (*inline_value && *file) {
        snprintf (reason, reason_size, "backend '%s': give %s or %s, not both", name, key,
                  file_key);
        return JOBD_ECONFIG;
    }
    if (*file) {
        char why[512];
        if (sp_auth_read_secret (file, self->secret, sizeof self->secret, why, sizeof why)) {
            snprintf (reason, reason_size, "backend '%s': %s: %s", name, file_key, why);
            return JOBD_ECONFIG;
        }
        return 0;
    }
    if (strlen (inline_value) >= sizeof self->secret) {
        snprintf (reason, reason_size, "backend '%s': %s is over %d bytes", name, key,
                  SP_AUTH_SECRET_MAX - 1);
        return JOBD_ECONFIG;
    }
    snprintf (self->secret, sizeof self->secret, "%s", inline_value);
    return 0;
}

int
sp_auth_load (sp_auth_t *self, const jobd_host_t *host, const char *name, char *reason,
              size_t reason_size)
{
    memset (self, 0, sizeof *self);
    const char *kind = s_config (host, name, "auth");
    const char *user = s_config (host, name, "user");
    if (strlen (user) >= sizeof self->user) {
        snprintf (reason, reason_size, "backend '%s': user is over %zu bytes", name,
                  sizeof self->user - 1);
        return JOBD_ECONFIG;
    }
    snprintf (self->user, sizeof self->user, "%s", user);
    char token[SP_AUTH_SECRET_MAX];
    int rc = s_secret (self, host, name, "token", reason, reason_size);
    if (rc)
        return rc;
    memcpy (token, self->secret, sizeof token);
    rc = s_secret (self, host, name, "password", reason, reason_size);
    if (rc)
        return rc;
    bool has_token = token[0] != 0, has_password = self->secret[0] != 0;
    if (*kind == 0 || strcmp (kind, "auto") == 0)
        self->kind = has_token      ? SP_AUTH_BEARER
                     : has_password ? SP_AUTH_BASIC
                     : *user        ? SP_AUTH_SIMPLE
                                    : SP_AUTH_NONE;
    else {
        size_t index;
        for (index = 0; index < S_KINDS && strcmp (kind, s_names[index]); index++)
            ;
        if (index == S_KINDS) {
            snprintf (reason, reason_size,
                      "backend '%s': auth '%.32s' is not auto, none, basic, bearer, simple, "
                      "kerberos or delegation",
                      name, kind);
            return JOBD_ECONFIG;
        }
        self->kind = (sp_auth_kind_t)index;
    }
    const char *missing = NULL;
    if ((self->kind == SP_AUTH_BASIC || self->kind == SP_AUTH_SIMPLE) && !*user)
        missing = "user";
    else if ((self->kind == SP_AUTH_BEARER || self->kind == SP_AUTH_DELEGATION) && !has_token)
        missing = "token (or token_file)";
    if (self->kind == SP_AUTH_KERBEROS &&
        !(curl_version_info (CURLVERSION_NOW)->features & CURL_VERSION_SPNEGO)) {
        snprintf (reason, reason_size,
                  "backend '%s': auth kerberos needs a libcurl with SPNEGO (GSS-API), and this "
                  "one has none",
                  name);
        return JOBD_ECONFIG;
    }
    if (missing) {
        snprintf (reason, reason_size, "backend '%s': auth %s needs %s", name,
                  sp_auth_name (self->kind), missing);
        return JOBD_ECONFIG;
    }
    if (self->kind == SP_AUTH_BEARER || self->kind == SP_AUTH_DELEGATION)
        memcpy (self->secret, token, sizeof token);
    explicit_bzero (token, sizeof token);
    return 0;
}

//  Appends ?key=value (or &key=value) to url, the value escaped.
static int
s_query (CURL *easy, const char *url, const char *key, const char *value, char *out, size_t size)
{
    char *escaped = curl_easy_escape (easy, value, 0);
    if (!escaped)
        return -ENOMEM;
    int length =
        snprintf (out, size, "%s%c%s=%s", url, strchr (url, '?') ? '&' : '?', key, escaped);
    curl_free (escaped);
    return length < 0 || (size_t)length >= size ? -ENAMETOOLONG : 0;
}

int
sp_auth_apply (const sp_auth_t *self, CURL *easy, const char *url, char *url_out, size_t url_size,
               struct curl_slist **headers)
{
    char header[SP_AUTH_SECRET_MAX + 32];
    switch (self->kind) {
        case SP_AUTH_SIMPLE:
            return s_query (easy, url, "user.name", self->user, url_out, url_size);
        case SP_AUTH_DELEGATION:
            return s_query (easy, url, "delegation", self->secret, url_out, url_size);
        case SP_AUTH_BASIC:
            curl_easy_setopt (easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt (easy, CURLOPT_USERNAME, self->user);
            curl_easy_setopt (easy, CURLOPT_PASSWORD, self->secret);
            break;
        case SP_AUTH_BEARER: {
            snprintf (header, sizeof header, "Authorization: Bearer %s", self->secret);
            struct curl_slist *grown = curl_slist_append (*headers, header);
            explicit_bzero (header, sizeof header);
            if (!grown)
                return -ENOMEM;
            *headers = grown;
            break;
        }
        case SP_AUTH_KERBEROS:
            //  SPNEGO with the credentials of jobd's own Kerberos ticket: an empty user.
            curl_easy_setopt (easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_NEGOTIATE);
            curl_easy_setopt (easy, CURLOPT_USERPWD, ":");
            break;
        case SP_AUTH_NONE:
            break;
    }
    int length = snprintf (url_out, url_size, "%s", url);
    return length < 0 || (size_t)length >= url_size ? -ENAMETOOLONG : 0;
}
