//  spark-poller: one configured backend (a standalone master, a Livy server, a YARN RM, a history
//  server): the requests it takes for submit, poll and kill, and what their replies mean.
#include "sp_backend.h"
#include "sp_json.h"
#include "sp_spec.h"
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
    if (!spec_text || !*spec_text) {
        //  A job registered with `jobctl track` (or by another source) and then retried.
        snprintf (reason, reason_size,
                  "%s has no submit spec (it was registered at its backend, not submitted by "
                  "jobd): jobd cannot submit it again; its failure stands",
                  job_id);
        return JOBD_EINVAL;
    }
    //  The spec's keys, checked and mapped by the one table (sp_spec.c, SPECS.md).
    sp_spec_job_t job = {.job_id = job_id, .tag = tag, .name = name, .master = self->master};
    *method = "POST";
    if (self->kind == SP_STANDALONE)
        snprintf (url, url_size, "%s/v1/submissions/create", self->url);
    else
        snprintf (url, url_size, "%s/batches", self->url);
    return sp_spec_body (spec_text, self->kind == SP_LIVY ? SP_SPEC_LIVY : SP_SPEC_STANDALONE, &job,
                         body_p, reason, reason_size);
}

int
sp_backend_id_length (const char *ext)
{
    return (int)strcspn (ext, "@");
}

//  The tag in a batch name: what is inside a trailing "[...]" ("nightly [jobd-job-5]" gives
//  "jobd-job-5", the name jobd gives a named job's batch), else the whole name. Sets *length.
static const char *
s_name_tag (const char *name, size_t *length)
{
    size_t size = strlen (name);
    const char *open = size > 2 && name[size - 1] == ']' ? strrchr (name, '[') : NULL;
    if (open) {
        *length = (size_t)(name + size - 1 - (open + 1));
        return open + 1;
    }
    *length = size;
    return name;
}

void
sp_backend_tagged_ext (const char *id, const char *name, char *ext, size_t ext_size)
{
    size_t length = 0;
    const char *tag = name ? s_name_tag (name, &length) : NULL;
    if (tag && length && strlen (id) + length + 2 <= ext_size)
        snprintf (ext, ext_size, "%s@%.*s", id, (int)length, tag);
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
    if (!at || !name || !*name)
        return false;
    size_t length = 0;
    const char *tag = s_name_tag (name, &length);
    return strlen (at + 1) != length || strncmp (at + 1, tag, length) != 0;
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
