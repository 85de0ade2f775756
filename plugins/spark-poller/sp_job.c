//  The spark-poller's jobs: the table of followed jobs, the backend-id index, observations,
//  backends' health, and the requests (their start and context).
#include "sp_poller_internal.h"
#include <string.h>

void
sp_job_free (sp_job_t **job_p)
{
    if (*job_p) {
        free ((*job_p)->seek);
        free ((*job_p)->floor);
    }
    free (*job_p);
    *job_p = NULL;
}

static void
s_listed_free (sp_listed_t *listed)
{
    char *strings[] = {listed->id,     listed->name,    listed->error,  listed->cause,
                       listed->app_id, listed->app_url, listed->log_url};
    for (size_t index = 0; index < sizeof strings / sizeof strings[0]; index++)
        free (strings[index]);
}

//  A fresh copy of text, NULL when it is empty; *ok turns false when the copy failed.
static char *
s_listed_dup (const char *text, bool *ok)
{
    char *copy = text[0] ? strdup (text) : NULL;
    *ok = *ok && (copy || !text[0]);
    return copy;
}

void
sp_call_destroy (sp_call_t **call_p)
{
    sp_call_t *call = *call_p;
    for (size_t index = 0; call && index < call->listed_count; index++)
        s_listed_free (&call->listed[index]);
    if (call)
        free (call->listed);
    free (call);
    *call_p = NULL;
}

int64_t
sp_jitter (int64_t interval)
{
    //  +-10%, so that jobs submitted together do not poll together forever.
    return interval + (interval / 10) - (int64_t)(random () % (uint64_t)(interval / 5 + 1));
}

sp_backend_t *
sp_poller_backend (sp_poller_t *self, const char *name)
{
    for (size_t index = 0; name && index < self->backend_count; index++)
        if (strcmp (self->backends[index].name, name) == 0)
            return &self->backends[index];
    return NULL;
}

static const char *
s_text (const char *text)
{
    return text && *text ? text : NULL;
}

static void
s_observe (sp_poller_t *self, sp_job_t *job, jobd_state_t state, const char *ext, const char *error,
           const sp_status_t *status)
{
    //  A gone job's answer came after its partition moved: the instance acting on it now
    //  reports it (the broker here would refuse it).
    if (state == JOBD_STATE_NONE || state == job->state || job->gone)
        return;
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_event_set (&event->job, job->id);
    jobd_event_set (&event->ext, s_text (ext));
    jobd_event_set (&event->error, s_text (error));
    if (status) {
        //  A cause without its error would stand for a reason this answer did not give.
        jobd_event_set (&event->cause, s_text (error) ? s_text (status->cause) : NULL);
        jobd_event_set (&event->app_id, s_text (status->app_id));
        //  The standalone master's REST API links nothing: its web UI (ui_url) lists the driver,
        //  its state and its worker, whose page has the driver's logs.
        const char *ui = job->backend->kind == SP_STANDALONE ? job->backend->ui_url : "";
        jobd_event_set (&event->app_url, s_text (status->app_url) ? status->app_url : s_text (ui));
        jobd_event_set (&event->log_url, s_text (status->log_url));
    }
    event->state = state;
    event->attempt = job->attempt;
    if (jobd_plugin_send (self->bus, event))
        self->host->log (self->host, JOBD_LOG_WARN, "cannot send an observation of %s", job->id);
    jobd_event_destroy (&event);
    job->state = state;
    job->interval = self->interval_min; //  a change: look again soon
    job->done = jobd_state_is_final (state) || state == JOBD_STATE_LOST;
}

void
sp_job_observe (sp_poller_t *self, sp_job_t *job, jobd_state_t state, const char *ext,
                const char *error)
{
    s_observe (self, job, state, ext, error, NULL);
}

void
sp_job_observe_status (sp_poller_t *self, sp_job_t *job, jobd_state_t state, const char *ext,
                       const sp_status_t *status)
{
    s_observe (self, job, state, ext, status->error, status);
}

void
sp_poller_backend_result (sp_poller_t *self, sp_backend_t *backend, bool ok, const char *error)
{
    if (ok) {
        if (backend->failures) {
            self->host->log (self->host, JOBD_LOG_INFO, "backend %s answers again", backend->name);
            self->status_now = true;
        }
        backend->failures = 0;
        backend->resume_at = 0;
        backend->probed = false;
        return;
    }
    backend->probed = false;
    self->status_now |= backend->failures++ == 0;
    int64_t delay = self->interval_min << (backend->failures < 8 ? backend->failures : 8);
    if (delay > 30000)
        delay = 30000;
    backend->resume_at = zclock_time () + sp_jitter (delay);
    backend->probe_due = zclock_time () + sp_jitter (SP_PROBE_INTERVAL);
    snprintf (backend->last_error, sizeof backend->last_error, "%s", error);
    if (backend->failures == 1 || backend->failures % 20 == 0)
        self->host->log (self->host, JOBD_LOG_WARN, "backend %s: %s (failure %d, retrying)",
                         backend->name, error, backend->failures);
}

void
sp_poller_probe_result (sp_poller_t *self, sp_backend_t *backend, bool ok, const char *error)
{
    if (ok && !backend->probed && backend->failures) {
        backend->probed = true;
        backend->resume_at = 0;
    } else
        sp_poller_backend_result (self, backend, ok, error);
}

void
sp_poller_walk_by (sp_poller_t *self, int64_t due)
{
    if (due < self->walk_at)
        self->walk_at = due;
}

static void
s_ext_key (sp_poller_t *self, const sp_backend_t *backend, const char *ext, char *key, size_t size)
{
    snprintf (key, size, "%zu/%s", (size_t)(backend - self->backends), ext);
}

sp_job_t *
sp_job_by_ext (sp_poller_t *self, const sp_backend_t *backend, const char *ext)
{
    char key[JOBD_ID_MAX + 32];
    s_ext_key (self, backend, ext, key, sizeof key);
    return (sp_job_t *)zhashx_lookup (self->by_ext, key);
}

void
sp_job_set_ext (sp_poller_t *self, sp_job_t *job, const char *ext)
{
    char key[JOBD_ID_MAX + 32];
    if (job->ext[0] && job->backend) {
        s_ext_key (self, job->backend, job->ext, key, sizeof key);
        if (zhashx_lookup (self->by_ext, key) == job)
            zhashx_delete (self->by_ext, key);
    }
    if (strcmp (job->ext, ext ? ext : "") != 0)
        job->batch_name = 0; //  another batch: its name is learnt again
    snprintf (job->ext, sizeof job->ext, "%s", ext ? ext : "");
    if (job->ext[0] && job->backend) {
        s_ext_key (self, job->backend, job->ext, key, sizeof key);
        zhashx_update (self->by_ext, key, job);
    }
}

void
sp_poller_forget (sp_poller_t *self, const char *id)
{
    sp_job_t *job = (sp_job_t *)zhashx_lookup (self->jobs, id);
    if (job) {
        sp_job_set_ext (self, job, NULL);
        zhashx_delete (self->jobs, id);
    }
}

//  A job of a list being read: kept for when it is read whole.
static bool
s_list_keep (const sp_status_t *status, void *arg)
{
    sp_call_t *call = (sp_call_t *)arg;
    if (call->listed_count == call->listed_size) {
        size_t size = call->listed_size ? call->listed_size * 2 : 1024;
        sp_listed_t *grown = (sp_listed_t *)realloc (call->listed, size * sizeof *grown);
        if (!grown) {
            call->list_failed = true;
            return false;
        }
        call->listed = grown;
        call->listed_size = size;
    }
    sp_listed_t *listed = &call->listed[call->listed_count];
    //  A cause and links go out only with news: a followed job that the list shows in the state
    //  it has sends nothing, and copying them for each of 100,000 such jobs costs a list pass.
    const sp_job_t *followed = sp_job_by_ext (call->self, call->backend, status->id);
    const char *none = "";
    bool news = !followed || followed->state != status->state, ok = true;
    *listed = (sp_listed_t){.id = strdup (status->id),
                            .name = s_listed_dup (status->name, &ok),
                            .error = s_listed_dup (status->error, &ok),
                            .cause = s_listed_dup (news ? status->cause : none, &ok),
                            .app_id = s_listed_dup (news ? status->app_id : none, &ok),
                            .app_url = s_listed_dup (news ? status->app_url : none, &ok),
                            .log_url = s_listed_dup (news ? status->log_url : none, &ok),
                            .state = status->state,
                            .known = status->known};
    memcpy (listed->raw, status->raw, sizeof listed->raw);
    if (!listed->id || !ok) {
        s_listed_free (listed);
        call->list_failed = true;
        return false;
    }
    call->listed_count++;
    return true;
}

static void
s_list_progress (void *arg, const char *body, size_t size)
{
    sp_call_t *call = (sp_call_t *)arg;
    if (sp_jlist_feed (&call->list, body, size, false))
        call->list_failed = true;
}

sp_call_t *
sp_call_start (sp_poller_t *self, sp_backend_t *backend, sp_job_t *job, int what,
               const char *method, const char *url, const char *body)
{
    //  Cluster mode: a request about a job goes out only while this instance acts on it, and
    //  says under which claim (docs/cluster.md section 8 (c)).
    char epoch[64] = "";
    const jobd_host_t *host = self->host;
    if (job && JOBD_HOST_HAS (host, job_acting) && host->job_acting && host->instance) {
        uint32_t partition = 0;
        uint64_t claim = 0;
        if (host->job_acting (host, job->id, &partition, &claim)) {
            job->gone = true;
            return NULL;
        }
        snprintf (epoch, sizeof epoch, "X-Jobd-Epoch: %" PRIu32 "/%" PRIu64, partition, claim);
    }
    sp_call_t *call = (sp_call_t *)zmalloc (sizeof (sp_call_t));
    call->self = self;
    call->backend = backend;
    call->what = what;
    call->started = zclock_usecs ();
    if (job) {
        snprintf (call->job, sizeof call->job, "%s", job->id);
        job->in_flight = true;
    }
    if (what == SP_LIST)
        sp_jlist_init (&call->list,
                       backend->kind == SP_STANDALONE ? &sp_master_list_shape
                       : backend->kind == SP_LIVY     ? &sp_livy_list_shape
                                                      : &sp_yarn_list_shape,
                       s_list_keep, call);
    if (sp_http_request (self->http, method, url, body, epoch[0] ? epoch : NULL, &backend->auth,
                         backend->timeout_ms, self->done, what == SP_LIST ? s_list_progress : NULL,
                         call)) {
        if (job)
            job->in_flight = false;
        sp_call_destroy (&call);
        return NULL;
    }
    return call;
}

sp_job_t *
sp_job_follow (sp_poller_t *self, const jobd_job_t *record)
{
    sp_backend_t *backend = sp_poller_backend (self, record->backend);
    if (!backend)
        return NULL;
    sp_job_t *job = (sp_job_t *)zhashx_lookup (self->jobs, record->id);
    if (!job) {
        job = (sp_job_t *)zmalloc (sizeof (sp_job_t));
        snprintf (job->id, sizeof job->id, "%s", record->id);
        zhashx_insert (self->jobs, job->id, job);
    }
    if (job->backend != backend)
        sp_job_set_ext (self, job, NULL);
    job->backend = backend;
    //  A queued job's ext is its submission mark, not a backend id: nothing to poll.
    bool queued = record->state == JOBD_STATE_QUEUED;
    sp_job_set_ext (self, job, record->ext && !queued ? record->ext : NULL);
    job->state = record->state;
    job->attempt = record->attempt;
    job->queued_at = record->queued_at;
    job->interval = self->interval_min;
    job->due = zclock_time ();
    if (job->resume) {
        //  A new attempt (or a new look at the same one) starts its own search.
        zhashx_delete (self->resuming, job->tag);
        job->resume = false;
    }
    job->relaunched = false;
    free (job->seek);
    job->seek = NULL;
    sp_backend_tag (job->id, job->attempt, job->tag, sizeof job->tag);
    job->since = job->due;
    sp_poller_walk_by (self, job->due);
    return job;
}
