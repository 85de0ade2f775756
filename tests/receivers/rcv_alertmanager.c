//  Test receivers: Prometheus Alertmanager on loopback (rcv_alertmanager.h).
#include "rcv_alertmanager.h"
#include <crypt.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *
rcv_alertmanager_binary (void)
{
    const char *binary = getenv ("JOBD_ALERTMANAGER");
    if (binary && *binary)
        return access (binary, X_OK) == 0 ? binary : NULL;
    static const char *const paths[] = {"/usr/bin/prometheus-alertmanager",
                                        "/usr/bin/alertmanager"};
    for (size_t index = 0; index < sizeof paths / sizeof paths[0]; index++)
        if (access (paths[index], X_OK) == 0)
            return paths[index];
    return NULL;
}

typedef struct {
    char *data;
    size_t size;
} s_buffer_t;

static size_t
s_collect (char *data, size_t size, size_t count, void *arg)
{
    s_buffer_t *buffer = arg;
    char *bigger = realloc (buffer->data, buffer->size + size * count + 1);
    if (!bigger)
        return 0;
    memcpy (bigger + buffer->size, data, size * count);
    buffer->data = bigger;
    buffer->size += size * count;
    buffer->data[buffer->size] = 0;
    return size * count;
}

//  GET url (the receiver's url + path) with basic auth when user is set. Returns the HTTP
//  status (0: no answer) and the body in *body_p (fresh, may be NULL).
static long
s_get (const char *url, const char *user, const char *password, char **body_p)
{
    CURL *curl = curl_easy_init ();
    s_buffer_t buffer = {NULL, 0};
    long status = 0;
    if (curl) {
        curl_easy_setopt (curl, CURLOPT_URL, url);
        curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 2000L);
        curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_collect);
        curl_easy_setopt (curl, CURLOPT_WRITEDATA, &buffer);
        if (user) {
            curl_easy_setopt (curl, CURLOPT_USERNAME, user);
            curl_easy_setopt (curl, CURLOPT_PASSWORD, password);
        }
        if (curl_easy_perform (curl) == CURLE_OK)
            curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup (curl);
    }
    if (body_p)
        *body_p = buffer.data;
    else
        free (buffer.data);
    return status;
}

//  Writes the config (one route, a receiver with no integration) and, with a user, the web
//  config asking for basic auth. Returns 0 or -1.
static int
s_write_configs (rcv_proc_t *self, const char *user, const char *password)
{
    char path[400];
    snprintf (path, sizeof path, "%s/alertmanager.yml", self->dir);
    FILE *file = fopen (path, "w");
    if (!file)
        return -1;
    fprintf (file, "route:\n  receiver: \"null\"\n  group_wait: 1s\n"
                   "receivers:\n  - name: \"null\"\n");
    fclose (file);
    if (!user)
        return 0;
    char salt[64];
    const char *hash = NULL;
    //  bcrypt's lowest cost: the hash is checked on every request.
    if (crypt_gensalt_rn ("$2b$", 4, NULL, 0, salt, sizeof salt))
        hash = crypt (password, salt);
    if (!hash || hash[0] != '$')
        return -1;
    snprintf (path, sizeof path, "%s/web.yml", self->dir);
    file = fopen (path, "w");
    if (!file)
        return -1;
    fprintf (file, "basic_auth_users:\n  %s: \"%s\"\n", user, hash);
    fclose (file);
    return 0;
}

//  Starts the binary on a free port and waits for /-/ready. Returns 0, 1 when the port was
//  taken meanwhile (try another), or -1.
static int
s_start_once (rcv_proc_t *self, const char *user, const char *password, int timeout_ms)
{
    self->port = rcv_proc_free_port ();
    snprintf (self->url, sizeof self->url, "http://127.0.0.1:%d", self->port);
    char config[400], storage[400], web_config[400], listen[64];
    snprintf (config, sizeof config, "--config.file=%s/alertmanager.yml", self->dir);
    snprintf (storage, sizeof storage, "--storage.path=%s/data", self->dir);
    snprintf (web_config, sizeof web_config, "--web.config.file=%s/web.yml", self->dir);
    snprintf (listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", self->port);
    char *argv[] = {
        (char *)rcv_alertmanager_binary (), config, storage, "--cluster.listen-address=", listen,
        user ? web_config : NULL,           NULL};
    if (self->port < 0 || rcv_proc_spawn (self, argv))
        return -1;
    char url[128];
    snprintf (url, sizeof url, "%s/-/ready", self->url);
    long long deadline = rcv_proc_now () + timeout_ms;
    while (rcv_proc_alive (self)) {
        if (s_get (url, user, password, NULL) == 200)
            return 0;
        if (rcv_proc_now () > deadline)
            break;
        rcv_proc_pause (20);
    }
    if (!self->pid) {
        char *log = rcv_proc_slurp (self->log, NULL);
        bool taken = log && strstr (log, "address already in use");
        free (log);
        if (taken)
            return 1;
    }
    rcv_proc_dump (self, "alertmanager not ready before the deadline");
    return -1;
}

int
rcv_alertmanager_start (rcv_proc_t *self, const char *user, const char *password, int timeout_ms)
{
    if (!rcv_alertmanager_binary () || rcv_proc_init (self, "alertmanager"))
        return -1;
    if (user) {
        snprintf (self->user, sizeof self->user, "%s", user);
        snprintf (self->password, sizeof self->password, "%s", password);
    }
    int rc = s_write_configs (self, user, password) ? -1 : 1;
    for (int attempt = 0; rc == 1 && attempt < 3; attempt++)
        rc = s_start_once (self, user, password, timeout_ms);
    if (rc != 0)
        rcv_proc_stop (self);
    return rc == 0 ? 0 : -1;
}

json_t *
rcv_alertmanager_alerts (rcv_proc_t *self, const char *query)
{
    char url[512];
    snprintf (url, sizeof url, "%s/api/v2/alerts%s%s", self->url, query && *query ? "?" : "",
              query ? query : "");
    char *body = NULL;
    long status = s_get (url, self->user[0] ? self->user : NULL, self->password, &body);
    json_t *alerts = status == 200 && body ? json_loads (body, 0, NULL) : NULL;
    free (body);
    if (alerts && !json_is_array (alerts))
        json_decref (alerts);
    else if (alerts)
        return alerts;
    return NULL;
}

json_t *
rcv_alertmanager_find (json_t *alerts, const char *name, const char *value)
{
    size_t index;
    json_t *alert;
    json_array_foreach (alerts, index, alert)
    {
        const char *label =
            json_string_value (json_object_get (json_object_get (alert, "labels"), name));
        if (label && strcmp (label, value) == 0)
            return alert;
    }
    return NULL;
}
