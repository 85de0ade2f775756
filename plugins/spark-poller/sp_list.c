//  What backends say of jobs (spark-poller): lists, per-job statuses, relaunched drivers, Livy
//  batches found by name.
#include "sp_poller_internal.h"
#include "sp_spec.h"
#include <string.h>

//  A standalone driver that ended RELAUNCHING: dead under this id, alive under a new one the
//  master's REST API does not give (reference 1.9). With ui_url, each /json/ pass looks for the
//  replacement (sp_list_follow_relaunches); without, nothing can find it: LOST after the grace.
static void
s_relaunched (sp_poller_t *self, sp_job_t *job)
{
    sp_backend_t *backend = job->backend;
    bool visible = backend->ui_url[0] != 0;
    char error[600];
    if (!job->relaunched) {
        job->relaunched = true;
        job->unknown_since = zclock_time ();
        if (visible)
            snprintf (error, sizeof error,
                      "driver %s was relaunched by the master (RELAUNCHING): looking for its "
                      "replacement in %s/json/",
                      job->ext, backend->ui_url);
        else
            snprintf (error, sizeof error,
                      "driver %s was relaunched by the master under a new driver id that jobd "
                      "cannot see: backend %s has no ui_url (only the master's /json/ lists the "
                      "new driver); LOST in %lld s",
                      job->ext, backend->name, (long long)(self->lost_after / 1000));
        sp_job_observe (self, job, JOBD_STATE_UNKNOWN, NULL, error);
    } else if (zclock_time () - job->unknown_since > self->lost_after) {
        if (visible)
            snprintf (error, sizeof error,
                      "driver %s was relaunched by the master and no replacement (same mainclass, "
                      "cores and memory, a newer id, followed by no other job) appeared in "
                      "%s/json/ within %lld s; find it on the master and `jobctl track` it",
                      job->ext, backend->ui_url, (long long)(self->lost_after / 1000));
        else
            snprintf (error, sizeof error,
                      "driver %s was relaunched by the master under a new driver id that jobd "
                      "cannot see (backend %s has no ui_url); find the new driver on the master "
                      "and `jobctl track` it",
                      job->ext, backend->name);
        sp_job_observe (self, job, JOBD_STATE_LOST, NULL, error);
    }
}

//  Livy answered for the job's batch id with a batch of another name: Livy restarted without
//  recovery and gave the id to a new batch; the job's own batch is gone with what Livy knew of
//  it. That is certain, so LOST at once, saying why (not after the grace of an unknown id).
static void
s_id_reused (sp_poller_t *self, sp_job_t *job, const sp_status_t *status)
{
    char error[600];
    int length = sp_backend_id_length (job->ext);
    snprintf (error, sizeof error,
              "backend %s now gives batch id %.*s to another batch (named %s): Livy restarted "
              "without recovery and numbers its batches from 0 again; the batch of this job%s%s%s "
              "is gone from Livy, and its outcome is unknown (look for it in the cluster)",
              job->backend->name, length, job->ext, status->name, job->ext[length] ? " (" : "",
              job->ext[length] ? job->ext + length + 1 : "", job->ext[length] ? ")" : "");
    self->host->log (self->host, JOBD_LOG_WARN, "%s: %s", job->id, error);
    sp_job_observe (self, job, JOBD_STATE_LOST, NULL, error);
}

//  FNV-1a: a batch's name, remembered small (a job may be one of 100,000).
static uint64_t
s_name_hash (const char *name)
{
    uint64_t hash = 14695981039346656037ull;
    for (; *name; name++)
        hash = (hash ^ (uint8_t)*name) * 1099511628211ull;
    return hash ? hash : 1;
}

//  Whether Livy answered for the job's batch id with another batch: named otherwise than the
//  name in its ext ("ID@NAME"), or, for a plain id (a tracked batch, a record of an older jobd),
//  than the name the batch had when this poller first saw it.
static bool
s_other_batch (sp_job_t *job, const sp_status_t *status)
{
    if (job->backend->kind != SP_LIVY || !status->known || !status->name[0])
        return false;
    if (strchr (job->ext, '@'))
        return sp_backend_livy_other (job->ext, status->name);
    uint64_t hash = s_name_hash (status->name);
    if (!job->batch_name)
        job->batch_name = hash;
    return job->batch_name != hash;
}

void
sp_list_apply_status (sp_poller_t *self, sp_job_t *job, const sp_status_t *given)
{
    if (s_other_batch (job, given)) {
        s_id_reused (self, job, given);
        return;
    }
    sp_status_t explained;
    const sp_status_t *status = given;
    if (given->state == JOBD_STATE_FAILED && !given->error[0]) {
        explained = *given;
        sp_reason_explain (job, &explained, NULL);
        status = &explained;
    }
    if (status->known && job->backend->kind == SP_STANDALONE &&
        strcmp (status->raw, "RELAUNCHING") == 0) {
        s_relaunched (self, job);
        return;
    }
    if (!status->known) {
        //  Not known: aged out, cleared, or never there. LOST only after the grace.
        if (!job->unknown_since)
            job->unknown_since = zclock_time ();
        else if (zclock_time () - job->unknown_since > self->lost_after) {
            char error[600];
            int64_t stamp = job->backend->kind == SP_YARN ? sp_backend_cluster_ts (job->ext) : 0;
            int length = snprintf (error, sizeof error, "backend %s has no record of %s for %.1f s",
                                   job->backend->name, job->ext, (double)self->lost_after / 1000);
            if (stamp && stamp < job->backend->cluster_ts && length < (int)sizeof error)
                snprintf (error + length, sizeof error - length,
                          ": the ResourceManager restarted without recovery (its applications "
                          "now carry cluster timestamp %lld, this one %lld) and forgot it",
                          (long long)job->backend->cluster_ts, (long long)stamp);
            sp_job_observe (self, job, JOBD_STATE_LOST, NULL, error);
        }
        return;
    }
    job->unknown_since = 0;
    jobd_state_t before = job->state;
    sp_job_observe_status (self, job, status->state, NULL, status);
    if (before == job->state && job->interval < self->interval_max)
        job->interval =
            job->interval * 2 > self->interval_max ? self->interval_max : job->interval * 2;
}

static bool
s_copy_status (const sp_status_t *status, void *arg)
{
    *(sp_status_t *)arg = *status;
    return false;
}

int
sp_list_history (sp_poller_t *self, sp_job_t *job, const char *body, size_t size, long http,
                 sp_status_t *status)
{
    sp_status_reset (status);
    status->known = http != 404;
    if (http == 404)
        return 0;
    int rc = sp_history_apps (body, size, http, s_copy_status, status);
    if (rc == 0 && status->ended) {
        char url[1024];
        sp_backend_poll_url (job->backend, job->ext, url, sizeof url);
        strncat (url, "/jobs", sizeof url - strlen (url) - 1);
        sp_call_start (self, job->backend, job, SP_VERDICT, "GET", url, NULL);
    }
    return rc;
}

//  A Livy batch found by its name (the job's tag): the create reached Livy before jobd lost its
//  reply. The job follows that batch instead of being submitted again.
static void
s_adopt (sp_poller_t *self, sp_job_t *job, const sp_status_t *status)
{
    zhashx_delete (self->resuming, job->tag);
    job->resume = false;
    char ext[JOBD_ID_MAX + 1];
    sp_backend_tagged_ext (status->id, status->name, ext, sizeof ext);
    sp_job_set_ext (self, job, ext);
    self->host->log (self->host, JOBD_LOG_INFO,
                     "%s: batch %s named %s is already at backend %s: following it, not "
                     "submitting again",
                     job->id, status->id, job->tag, job->backend->name);
    //  QUEUED moves on with the batch id; a batch with no news yet (recovering) is SUBMITTED.
    jobd_state_t state = status->state != JOBD_STATE_NONE ? status->state : JOBD_STATE_SUBMITTED;
    if (!sp_reason_ask (self, job, status))
        sp_job_observe_status (self, job, state, ext, status);
}

//  The job a list item is: Livy's by its id and name first (README, "Incarnations"), then by the
//  id alone (tracked batches, records of older jobds).
static sp_job_t *
s_listed_job (sp_poller_t *self, const sp_backend_t *backend, const sp_status_t *status)
{
    sp_job_t *job = NULL;
    if (backend->kind == SP_LIVY && status->name[0]) {
        char ext[JOBD_ID_MAX + 1];
        sp_backend_tagged_ext (status->id, status->name, ext, sizeof ext);
        job = sp_job_by_ext (self, backend, ext);
    }
    return job ? job : sp_job_by_ext (self, backend, status->id);
}

static bool
s_list_one (const sp_status_t *status, void *arg)
{
    sp_call_t *call = (sp_call_t *)arg;
    sp_poller_t *self = call->self;
    call->count++;
    if (call->backend->kind == SP_YARN) {
        int64_t stamp = sp_backend_cluster_ts (status->id);
        if (stamp > call->backend->cluster_ts)
            call->backend->cluster_ts = stamp;
    }
    sp_job_t *job = s_listed_job (self, call->backend, status);
    if (job) {
        job->seen = true;
        if (!sp_reason_ask (self, job, status))
            sp_list_apply_status (self, job, status);
    } else if (status->name[0] && zhashx_size (self->resuming)) {
        char tag[JOBD_NAME_MAX + 1]; //  the batch name is "<job name> [<tag>]" (sp_spec.h)
        const char *id = (const char *)zhashx_lookup (
            self->resuming, sp_spec_livy_tag (status->name, tag, sizeof tag));
        job = id ? (sp_job_t *)zhashx_lookup (self->jobs, id) : NULL;
        if (job && job->resume && job->backend == call->backend)
            s_adopt (self, job, status);
    }
    return true;
}

int
sp_list_read (sp_poller_t *self, sp_call_t *call, long http, const char *body, size_t size,
              long *total_p)
{
    if (http != 200 || call->list_failed || sp_jlist_feed (&call->list, body, size, true) ||
        call->list_failed)
        return JOBD_EPROTO;
    *total_p = (long)call->list.captured;
    //  A list read whole says which jobs it holds (one that could not be read says nothing: its
    //  jobs are not polled one by one for it, which would flood a backend in trouble).
    for (sp_job_t *each = (sp_job_t *)zhashx_first (self->jobs); call->from == 0 && each;
         each = (sp_job_t *)zhashx_next (self->jobs))
        if (each->backend == call->backend)
            each->seen = false; //  another backend's list says nothing of its jobs
    sp_status_t status;
    for (size_t index = 0; index < call->listed_count; index++) {
        const sp_listed_t *listed = &call->listed[index];
        sp_status_reset (&status);
        sp_copy (status.id, sizeof status.id, listed->id);
        sp_copy (status.name, sizeof status.name, listed->name);
        sp_copy (status.error, sizeof status.error, listed->error);
        sp_copy (status.cause, sizeof status.cause, listed->cause);
        sp_copy (status.app_id, sizeof status.app_id, listed->app_id);
        sp_copy (status.app_url, sizeof status.app_url, listed->app_url);
        sp_copy (status.log_url, sizeof status.log_url, listed->log_url);
        memcpy (status.raw, listed->raw, sizeof status.raw);
        status.state = listed->state;
        status.known = listed->known;
        s_list_one (&status, call);
    }
    return 0;
}

void
sp_list_resume (sp_poller_t *self, sp_job_t *job)
{
    job->resume = true;
    job->submit = false;
    job->resume_after = zclock_time ();
    zhashx_update (self->resuming, job->tag, strdup (job->id));
}

void
sp_list_whole (sp_poller_t *self, sp_backend_t *backend)
{
    zlist_t *missing = zlist_new ();
    for (const char *id = (const char *)zhashx_first (self->resuming); id;
         id = (const char *)zhashx_next (self->resuming)) {
        sp_job_t *job = (sp_job_t *)zhashx_lookup (self->jobs, id);
        if (!job || !job->resume)
            zlist_append (missing, (void *)zhashx_cursor (self->resuming));
        else if (job->backend == backend && job->resume_after <= backend->list_started) {
            job->resume = false;
            job->submit = true;
            zlist_append (missing, (void *)zhashx_cursor (self->resuming));
        }
    }
    for (const char *tag = (const char *)zlist_first (missing); tag;
         tag = (const char *)zlist_next (missing))
        zhashx_delete (self->resuming, tag);
    zlist_destroy (&missing);
}

void
sp_list_follow_relaunches (sp_poller_t *self, sp_call_t *call, const char *body, size_t size,
                           long http)
{
    //  A create whose reply is still on its way made a driver no job follows yet: not a
    //  replacement, but indistinguishable from one until then. Look again next pass.
    for (sp_job_t *job = (sp_job_t *)zhashx_first (self->jobs); job;
         job = (sp_job_t *)zhashx_next (self->jobs))
        if (job->backend == call->backend && job->in_flight && !job->ext[0])
            return;
    zlist_t *relaunched = zlist_new ();
    for (sp_job_t *job = (sp_job_t *)zhashx_first (self->jobs); job;
         job = (sp_job_t *)zhashx_next (self->jobs))
        if (job->backend == call->backend && job->relaunched && !job->done)
            zlist_append (relaunched, job);
    for (sp_job_t *job = (sp_job_t *)zlist_first (relaunched); job;
         job = (sp_job_t *)zlist_next (relaunched)) {
        sp_status_t status;
        if (sp_master_replacement (body, size, http, job->ext, sp_seek_taken, call, &status))
            continue;
        self->host->log (self->host, JOBD_LOG_INFO,
                         "%s: driver %s was relaunched as %s: following the new driver", job->id,
                         job->ext, status.id);
        sp_job_set_ext (self, job, status.id);
        job->relaunched = false;
        job->unknown_since = 0;
        job->seen = true;
        if (strcmp (status.raw, "RELAUNCHING") == 0)
            s_relaunched (self, job); //  relaunched again: its own replacement is next
        else if (!sp_reason_ask (self, job, &status))
            sp_job_observe (self, job, status.state, status.id, NULL);
    }
    zlist_destroy (&relaunched);
}
