//  spark-poller: one configured backend (a standalone master, a Livy server, a YARN RM, a history
//  server): the requests it takes for submit, poll and kill, and what their replies mean.
#include "sp_backend.h"
#include "sp_json.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void
s_config (const jobd_host_t *host, const char *name, const char *key, char *out, size_t size)
{
    char path[160];
    snprintf (path, sizeof path, "backend/%s/%s", name, key);
    const char *value = host->config_str (host, path);
    snprintf (out, size, "%s", value ? value : "");
    //  No trailing slash: paths are appended.
    size_t length = strlen (out);
    while (length && out[length - 1] == '/')
        out[--length] = 0;
}

static const char *s_kinds[] = {"standalone", "livy", "yarn", "history"};

int
sp_backend_load (sp_backend_t *self, const jobd_host_t *host, const char *name, char *reason,
                 size_t reason_size)
{
    memset (self, 0, sizeof *self);
    snprintf (self->name, sizeof self->name, "%s", name);
    char type[32];
    s_config (host, name, "type", type, sizeof type);
    size_t kind;
    for (kind = 0; kind < 4 && strcmp (type, s_kinds[kind]); kind++)
        ;
    if (kind == 4) {
        snprintf (reason, reason_size,
                  "backend '%s': type '%s' is not standalone, livy, yarn or history", name, type);
        return JOBD_ECONFIG;
    }
    self->kind = (sp_kind_t)kind;
    s_config (host, name, "url", self->url, sizeof self->url);
    if (strncmp (self->url, "http://", 7) && strncmp (self->url, "https://", 8)) {
        snprintf (reason, reason_size, "backend '%s': url '%s' is not http:// or https://", name,
                  self->url);
        return JOBD_ECONFIG;
    }
    s_config (host, name, "ui_url", self->ui_url, sizeof self->ui_url);
    s_config (host, name, "master", self->master, sizeof self->master);
    s_config (host, name, "tag", self->tag, sizeof self->tag);
    int rc = sp_auth_load (&self->auth, host, name, reason, reason_size);
    if (rc)
        return rc;
    char path[160];
    snprintf (path, sizeof path, "backend/%s/timeout", name);
    self->timeout_ms = (long)host->config_int (host, path, 10000);
    return 0;
}

bool
sp_backend_lists (const sp_backend_t *self)
{
    return self->kind == SP_LIVY || self->kind == SP_YARN ||
           (self->kind == SP_STANDALONE && self->ui_url[0]);
}

//  Copies the spec's string values of object key into a fresh object (Spark wants strings).
static json_t *
s_string_map (const json_t *spec, const char *key)
{
    json_t *out = json_object ();
    const char *name;
    json_t *value;
    json_object_foreach (json_object_get (spec, key), name, value)
    {
        if (json_is_string (value))
            json_object_set (out, name, value);
        else if (json_is_integer (value) || json_is_real (value) || json_is_boolean (value)) {
            char *text = json_dumps (value, JSON_ENCODE_ANY);
            json_object_set_new (out, name, json_string (text));
            free (text);
        }
    }
    return out;
}

void
sp_backend_tag (const char *job_id, uint32_t attempt, char *tag, size_t tag_size)
{
    if (attempt > 1)
        snprintf (tag, tag_size, "jobd-%s-%u", job_id, (unsigned)attempt);
    else
        snprintf (tag, tag_size, "jobd-%s", job_id);
}

int
sp_backend_submit (const sp_backend_t *self, const char *job_id, const char *tag, const char *name,
                   const char *spec_text, const char **method, char *url, size_t url_size,
                   char **body_p, char *reason, size_t reason_size)
{
    if (self->kind == SP_YARN || self->kind == SP_HISTORY) {
        snprintf (reason, reason_size,
                  "backend '%s' (%s) follows jobs only: submit through a standalone or livy "
                  "backend, or track the application",
                  self->name, self->kind == SP_YARN ? "yarn" : "history");
        return JOBD_ESTATE;
    }
    json_error_t error;
    json_t *spec = spec_text ? json_loads (spec_text, 0, &error) : NULL;
    const char *resource =
        sp_json_str_or (spec, "appResource", sp_json_str_or (spec, "file", NULL));
    if (!json_is_object (spec) || !resource) {
        snprintf (reason, reason_size, "the spec has no appResource (the jar or .py to run)");
        json_decref (spec);
        return JOBD_ESTATE;
    }
    const char *main_class = sp_json_str_or (spec, "mainClass", NULL);
    json_t *args = json_object_get (spec, "args");
    json_t *properties = s_string_map (spec, "sparkProperties");
    json_t *body = json_object ();
    if (self->kind == SP_STANDALONE) {
        //  The portable create request (reference §1.4): appArgs, environmentVariables and
        //  spark.app.name always; every property a string.
        json_object_set_new (properties, "spark.app.name", json_string (name ? name : tag));
        json_object_set_new (properties, "spark.jobd.id", json_string (job_id));
        if (!json_object_get (properties, "spark.master") && self->master[0])
            json_object_set_new (properties, "spark.master", json_string (self->master));
        if (!json_object_get (properties, "spark.submit.deployMode"))
            json_object_set_new (properties, "spark.submit.deployMode", json_string ("cluster"));
        json_object_set_new (body, "action", json_string ("CreateSubmissionRequest"));
        json_object_set_new (body, "clientSparkVersion", json_string (""));
        json_object_set_new (body, "appResource", json_string (resource));
        json_object_set_new (
            body, "mainClass",
            json_string (main_class ? main_class : "org.apache.spark.deploy.SparkSubmit"));
        json_object_set (body, "appArgs", json_is_array (args) ? args : json_array ());
        json_object_set_new (body, "sparkProperties", properties);
        json_object_set_new (body, "environmentVariables",
                             s_string_map (spec, "environmentVariables"));
        *method = "POST";
        snprintf (url, url_size, "%s/v1/submissions/create", self->url);
    } else {
        //  Livy: the batch name is jobd's tag, so that a restart finds it again (GET /batches).
        char yarn_tag[JOBD_ID_MAX + 16];
        snprintf (yarn_tag, sizeof yarn_tag, "jobd-%s", job_id);
        json_object_set_new (properties, "spark.yarn.tags", json_string (yarn_tag));
        json_object_set_new (body, "file", json_string (resource));
        if (main_class)
            json_object_set_new (body, "className", json_string (main_class));
        if (json_is_array (args))
            json_object_set (body, "args", args);
        json_object_set_new (body, "name", json_string (tag));
        json_object_set_new (body, "conf", properties);
        *method = "POST";
        snprintf (url, url_size, "%s/batches", self->url);
    }
    *body_p = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    json_decref (spec);
    return *body_p ? 0 : -ENOMEM;
}

int
sp_backend_id_length (const char *ext)
{
    return (int)strcspn (ext, "@");
}

void
sp_backend_tagged_ext (const char *id, const char *name, char *ext, size_t ext_size)
{
    if (name && *name && strlen (id) + strlen (name) + 2 <= ext_size)
        snprintf (ext, ext_size, "%s@%s", id, name);
    else
        snprintf (ext, ext_size, "%s", id);
}

int64_t
sp_backend_cluster_ts (const char *app_id)
{
    const char *prefix = "application_";
    if (strncmp (app_id, prefix, strlen (prefix)) != 0)
        return 0;
    char *end = NULL;
    long long stamp = strtoll (app_id + strlen (prefix), &end, 10);
    return end && *end == '_' && stamp > 0 ? (int64_t)stamp : 0;
}

bool
sp_backend_livy_other (const char *ext, const char *name)
{
    const char *at = strchr (ext, '@');
    return at && name && *name && strcmp (at + 1, name) != 0;
}

void
sp_backend_poll_url (const sp_backend_t *self, const char *ext, char *url, size_t url_size)
{
    switch (self->kind) {
        case SP_STANDALONE:
            if (ext)
                snprintf (url, url_size, "%s/v1/submissions/status/%.*s", self->url,
                          sp_backend_id_length (ext), ext);
            else
                snprintf (url, url_size, "%s/json/", self->ui_url);
            break;
        case SP_LIVY:
            if (ext)
                snprintf (url, url_size, "%s/batches/%.*s", self->url, sp_backend_id_length (ext),
                          ext);
            else
                sp_backend_list_url (self, 0, url, url_size);
            break;
        case SP_YARN:
            if (ext)
                snprintf (url, url_size, "%s/ws/v1/cluster/apps/%s", self->url, ext);
            else
                snprintf (url, url_size,
                          "%s/ws/v1/cluster/apps?applicationTypes=SPARK&applicationTags=%s"
                          "&deSelects=resourceRequests",
                          self->url, self->tag[0] ? self->tag : "jobd");
            break;
        case SP_HISTORY:
            snprintf (url, url_size, "%s/api/v1/applications/%s", self->url, ext ? ext : "");
            break;
    }
}

void
sp_backend_probe_url (const sp_backend_t *self, char *url, size_t url_size)
{
    if (sp_backend_lists (self))
        sp_backend_poll_url (self, NULL, url, url_size);
    else if (self->kind == SP_STANDALONE)
        //  How masters before 4.0 were checked (reference 1.7): 200, success false.
        snprintf (url, url_size, "%s/v1/submissions/status/none", self->url);
    else
        snprintf (url, url_size, "%s/api/v1/applications?limit=1", self->url);
}

static bool
s_ignore (const sp_status_t *status, void *arg)
{
    (void)status;
    (void)arg;
    return false;
}

bool
sp_backend_probe_ok (const sp_backend_t *self, long http, const char *body, size_t size)
{
    sp_status_t status;
    if (self->kind == SP_STANDALONE) //  a standby master is not ready yet
        return sp_standalone_status (body, size, http, &status) == 0 && !status.standby;
    return http == 200 && sp_history_apps (body, size, http, s_ignore, NULL) == 0;
}

void
sp_backend_list_url (const sp_backend_t *self, long from, char *url, size_t url_size)
{
    //  Big pages: a poll cycle is one request unless Livy holds more batches than that.
    snprintf (url, url_size, "%s/batches?from=%ld&size=100000", self->url, from);
}

void
sp_backend_kill (const sp_backend_t *self, const char *ext, const char **method, char *url,
                 size_t url_size, const char **body)
{
    *body = NULL;
    switch (self->kind) {
        case SP_STANDALONE:
            *method = "POST";
            snprintf (url, url_size, "%s/v1/submissions/kill/%.*s", self->url,
                      sp_backend_id_length (ext), ext);
            break;
        case SP_LIVY:
            *method = "DELETE";
            snprintf (url, url_size, "%s/batches/%.*s", self->url, sp_backend_id_length (ext), ext);
            break;
        case SP_YARN:
            *method = "PUT";
            *body = "{\"state\":\"KILLED\"}";
            snprintf (url, url_size, "%s/ws/v1/cluster/apps/%s/state", self->url, ext);
            break;
        case SP_HISTORY:
            *method = NULL; //  a history server cannot kill
            url[0] = 0;
            break;
    }
}

void
sp_backend_describe (const sp_backend_t *self, char *text, size_t size)
{
    const char *kind = s_kinds[self->kind];
    if (self->failures)
        snprintf (text, size, "%s (%s): %s, %d failures in a row", self->name, kind,
                  self->last_error, self->failures);
    else if (sp_backend_lists (self) && self->listed_at)
        snprintf (text, size, "%s (%s): %ld jobs listed in %lld ms", self->name, kind,
                  self->listed_jobs, (long long)self->listed_ms);
    else
        snprintf (text, size, "%s (%s): answering", self->name, kind);
}
