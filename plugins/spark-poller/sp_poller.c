//  The spark-poller plugin: submits Spark jobs, follows every non-final one on its backend, and
//  kills on request; every change it sees becomes an `observed` event for the broker.
#include "sp_poller_internal.h"
#include "jobd_reply.h"
#include <string.h>

#define SP_WALK_SPACING 5 //  ms between two walks over every job, at the least
//  The states of a job at its backend that the poller follows.
#define SP_FOLLOWED                                                                                \
    ((1u << JOBD_STATE_SUBMITTED) | (1u << JOBD_STATE_RUNNING) | (1u << JOBD_STATE_UNKNOWN))

static const jobd_conf_key_t s_config[] = {
    {"interval_min", JOBD_CONF_DURATION, "250ms", "poll interval after a submission or a change"},
    {"interval_max", JOBD_CONF_DURATION, "1800ms",
     "poll interval of jobs that have been stable for long (with the +10% jitter, a change is "
     "seen within 2 s)"},
    {"list_interval", JOBD_CONF_DURATION, "1s", "how often list backends are polled"},
    {"lost_after", JOBD_CONF_DURATION, "60s",
     "how long a backend may not know a job before it is LOST"},
    {"max_in_flight", JOBD_CONF_INT, "8", "requests in flight per backend host"},
    {"status_interval", JOBD_CONF_DURATION, "5s",
     "how often the backends' health and list times are reported (plugin.status, jobctl "
     "plugins), when they changed"},
    {"cancel_timeout", JOBD_CONF_DURATION, "30s",
     "how long an accepted kill may take before it is sent again (doubling each time)"},
    {"cancel_retries", JOBD_CONF_INT, "3",
     "kills sent again (0 to 100) when one did not take effect or got no usable answer; then "
     "the cancel is failed"},
    {"backend/*/type", JOBD_CONF_STRING, NULL, "standalone, livy, yarn or history"},
    {"backend/*/url", JOBD_CONF_STRING, NULL,
     "REST base URL: http://master:6066, http://livy:8998, http://rm:8088, http://hs:18080"},
    {"backend/*/ui_url", JOBD_CONF_STRING, "",
     "standalone: the master web UI (http://master:8080) to poll /json/"},
    {"backend/*/master", JOBD_CONF_STRING, "", "standalone: spark.master of submissions"},
    {"backend/*/tag", JOBD_CONF_STRING, "jobd",
     "yarn: list only the applications with this tag (applicationTags=)"},
    {"backend/*/auth", JOBD_CONF_STRING, "auto",
     "how requests authenticate: auto, none, basic, bearer, simple, kerberos or delegation "
     "(more in its README)"},
    {"backend/*/user", JOBD_CONF_STRING, "", "user: basic auth, or YARN's simple auth user.name"},
    {"backend/*/password", JOBD_CONF_STRING, "", "HTTP basic password (never logged)"},
    {"backend/*/password_file", JOBD_CONF_STRING, "",
     "a file (0600 or 0640) holding the password instead (more in its README)"},
    {"backend/*/token", JOBD_CONF_STRING, "", "bearer or delegation token (never logged)"},
    {"backend/*/token_file", JOBD_CONF_STRING, "",
     "a file (0600 or 0640) holding the token instead (more in its README)"},
    {"backend/*/timeout", JOBD_CONF_DURATION, "10s", "timeout of every request"},
    {NULL, 0, NULL, NULL}};

static void
s_done (void *arg, long http, const char *body, size_t size, const char *error, bool sent)
{
    sp_call_t *call = (sp_call_t *)arg;
    sp_poller_t *self = call->self;
    if (self->stopping) {
        sp_call_destroy (&call);
        return;
    }
    sp_backend_t *backend = call->backend;
    sp_job_t *job = call->job[0] ? (sp_job_t *)zhashx_lookup (self->jobs, call->job) : NULL;
    if (job)
        job->in_flight = false;
    if (call->what == SP_LIST)
        backend->list_in_flight = false;
    if (call->what == SP_PROBE)
        backend->probe_in_flight = false;
    char why[SP_ERROR_MAX + 64];
    sp_status_t status;
    int rc = -1;
    if (call->what == SP_SUBMIT) {
        rc = sp_submit_create_done (self, backend, call->job, job, http, body, size, error, sent,
                                    why, sizeof why);
        if (job) {
            free (job->floor);
            job->floor = NULL;
        }
    } else if (call->what == SP_KILL)
        rc = sp_kill_track_done (self, job, http, body, size, error, why, sizeof why);
    else if (error)
        snprintf (why, sizeof why, "%s", error);
    else if (http >= 500)
        snprintf (why, sizeof why, "HTTP %ld", http);
    else if (call->what == SP_PROBE) {
        rc = sp_backend_probe_ok (backend, http, body, size) ? 0 : -1;
        snprintf (why, sizeof why, "unreadable reply (HTTP %ld)", http);
    } else if (call->what == SP_LIST) {
        if (call->from == 0)
            backend->list_count = 0;
        long total = 0;
        rc = sp_list_read (self, call, http, body, size, &total);
        backend->list_count += call->count;
        if (rc == 0 && (backend->kind != SP_LIVY || call->from + call->count >= total)) {
            self->status_now |= backend->listed_at == 0; //  its first list: say how it went
            backend->listed_at = backend->list_started;  //  the pass is read whole
            backend->listed_jobs = backend->list_count;
            backend->listed_ms = zclock_time () - backend->list_started;
        }
        snprintf (why, sizeof why, "unreadable list reply (HTTP %ld)", http);
        if (rc == 0 && backend->kind == SP_STANDALONE)
            sp_seek_find_created (self, call, body, size, http);
        if (rc == 0 && backend->kind == SP_STANDALONE)
            sp_list_follow_relaunches (self, call, body, size, http);
        if (rc == 0 && backend->kind == SP_LIVY && call->count > 0 &&
            call->from + call->count < total) {
            //  Livy holds more than a page: the pass goes on with the next one.
            char url[1024];
            sp_backend_list_url (backend, call->from + call->count, url, sizeof url);
            backend->list_in_flight = true;
            sp_call_t *next = sp_call_start (self, backend, NULL, SP_LIST, "GET", url, NULL);
            if (next)
                next->from = call->from + call->count;
            else
                backend->list_in_flight = false;
        } else if (rc == 0 && backend->kind == SP_LIVY)
            sp_list_whole (self, backend);
    } else if (job) {
        rc = call->what == SP_VERDICT         ? sp_history_jobs (body, size, http, &status)
             : backend->kind == SP_STANDALONE ? sp_standalone_status (body, size, http, &status)
             : backend->kind == SP_LIVY       ? sp_livy_batch (body, size, http, &status)
             : backend->kind == SP_YARN       ? sp_yarn_app (body, size, http, &status)
                                        : sp_list_history (self, job, body, size, http, &status);
        snprintf (why, sizeof why, "unreadable status reply (HTTP %ld)", http);
        if (call->what == SP_REASON)
            sp_reason_done (self, job, rc, &status, why);
        else if (rc == 0 && !status.standby)
            sp_list_apply_status (self, job, &status);
    } else
        rc = 0; //  the job ended meanwhile
    if (job && call->what == SP_REASON && rc != 0 && (error || http >= 500))
        sp_reason_done (self, job, rc, &status, why); //  no reply to read: the trouble is why
    if (call->what == SP_POLL || call->what == SP_LIST) {
        //  Figures: every poll and list request, answered or not, and how long it took.
        backend->polls++;
        backend->poll_errors += rc != 0;
        backend->poll_us_last = zclock_usecs () - call->started;
        backend->poll_us_total += (uint64_t)backend->poll_us_last;
    }
    if (call->what == SP_PROBE)
        sp_poller_probe_result (self, backend, rc == 0, why);
    else
        sp_poller_backend_result (self, backend, rc == 0, why);
    if (job)
        sp_poller_walk_by (self, job->due);
    else if (call->what == SP_LIST || call->what == SP_PROBE)
        sp_poller_walk_by (self, zclock_time ()); //  sweep what ended, poll what the list missed
    sp_call_destroy (&call);
}

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    sp_poller_t *self = (sp_poller_t *)zmalloc (sizeof (sp_poller_t));
    self->host = host;
    self->done = s_done;
    self->interval_min = host->config_int (host, "interval_min", 250);
    self->interval_max = host->config_int (host, "interval_max", 1800);
    self->list_interval = host->config_int (host, "list_interval", 1000);
    self->status_interval = host->config_int (host, "status_interval", 5000);
    self->lost_after = host->config_int (host, "lost_after", 60000);
    self->cancel_timeout = host->config_int (host, "cancel_timeout", 30000);
    self->cancel_retries = (int)host->config_int (host, "cancel_retries", 3);
    const char *names[SP_BACKENDS_MAX];
    size_t count = host->config_names (host, "backend", names, SP_BACKENDS_MAX);
    int rc = 0;
    if (count > SP_BACKENDS_MAX) {
        snprintf (reason, reason_size, "more than %d backends", SP_BACKENDS_MAX);
        rc = JOBD_ECONFIG;
    }
    for (size_t index = 0; rc == 0 && index < count; index++)
        rc = sp_backend_load (&self->backends[self->backend_count++], host, names[index], reason,
                              reason_size);
    if (rc == 0 && self->interval_min <= 0)
        rc = JOBD_ECONFIG;
    if (rc == 0 &&
        (self->cancel_timeout <= 0 || self->cancel_retries < 0 || self->cancel_retries > 100)) {
        snprintf (reason, reason_size,
                  "cancel_timeout must be above 0 and cancel_retries from 0 to 100");
        rc = JOBD_ECONFIG;
    }
    if (rc) {
        free (self);
        return rc;
    }
    //  Cluster mode: the instance's name in the User-Agent, so that a backend's operator (and
    //  spark-sim's agents) can tell which instance asked.
    char agent[256];
    bool cluster = JOBD_HOST_HAS (host, instance) && host->instance;
    self->cluster = cluster;
    snprintf (agent, sizeof agent, "%s%s%s%s", SP_USER_AGENT, cluster ? " (" : "",
              cluster ? host->instance : "", cluster ? ")" : "");
    self->http = sp_http_new (host->config_int (host, "max_in_flight", 8), agent);
    self->jobs = zhashx_new ();
    zhashx_set_destructor (self->jobs, (zhashx_destructor_fn *)sp_job_free);
    self->by_ext = zhashx_new ();
    self->marks = zhashx_new ();
    zhashx_set_destructor (self->marks, (zhashx_destructor_fn *)zstr_free);
    self->resuming = zhashx_new ();
    zhashx_set_destructor (self->resuming, (zhashx_destructor_fn *)zstr_free);
    self->report = jobd_sdk_status_new (host, self->status_interval);
    *state_p = self;
    return 0;
}

static void
s_destroy (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    sp_poller_t *self = (sp_poller_t *)*state_p;
    self->stopping = true;
    sp_http_destroy (&self->http);
    zhashx_destroy (&self->by_ext);
    zhashx_destroy (&self->jobs);
    zhashx_destroy (&self->marks);
    zhashx_destroy (&self->resuming);
    jobd_sdk_status_destroy (&self->report);
    free (self);
    *state_p = NULL;
}

//  The broker's reply to a submission mark: durable (the create goes out), or not applied.
static void
s_on_reply (zsock_t *bus, void *arg)
{
    sp_poller_t *self = (sp_poller_t *)arg;
    zframe_t *frame = zframe_recv (bus);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    jobd_reply_t answer = {0};
    if (frame &&
        jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), &reply, NULL, 0) == 0)
        jobd_reply_read (&reply.data, &answer, NULL, 0);
    const char *re = answer.re, *outcome = answer.outcome, *why = answer.reason;
    bool ok = answer.ok;
    msgpack_unpacked_destroy (&reply);
    zframe_destroy (&frame);
    char *id = (char *)zhashx_lookup (self->marks, re);
    sp_job_t *job = id ? (sp_job_t *)zhashx_lookup (self->jobs, id) : NULL;
    jobd_job_t *record = NULL;
    if (job && job->marking) {
        job->marking = false;
        //  Durable ("duplicate": QUEUED again, with the mark) and still queued: send it.
        if (ok && strcmp (outcome, "duplicate") == 0 &&
            jobd_host_job_get (self->host, job->id, &record) == 0 &&
            record->state == JOBD_STATE_QUEUED && sp_submit_marked (job, record))
            sp_submit_send_create (self, job, record);
        else
            self->host->log (self->host, JOBD_LOG_WARN,
                             "%s not submitted: its submission mark was not applied (%s%s%s)",
                             job->id, ok ? outcome : "refused", *why ? ": " : "", why);
    }
    jobd_job_destroy (&record);
    if (id)
        zhashx_delete (self->marks, re);
}

//  A transition or a command from the broker.
static void
s_on_event (zsock_t *events, void *arg)
{
    sp_poller_t *self = (sp_poller_t *)arg;
    zmsg_t *msg = zmsg_recv (events);
    zframe_t *payload = msg ? zmsg_last (msg) : NULL;
    jobd_event_t *event = NULL;
    if (payload && zmsg_size (msg) == 2 &&
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) == 0 &&
        !jobd_sdk_status_asked (self->report, event) && event->kind &&
        strcmp (event->kind, "spark") == 0) {
        sp_job_t *job = (sp_job_t *)zhashx_lookup (self->jobs, event->job);
        //  Cluster mode: every instance sees every job's transitions; the one that acts on the
        //  job submits, follows and kills it (the others take it up if its partition moves).
        bool acting = jobd_host_acting (self->host, event->job);
        if (!acting && !job)
            ;
        else if (event->type == JOBD_EVENT_TRANSITION && event->state == JOBD_STATE_QUEUED &&
                 acting && !self->draining) {
            jobd_job_t *record = NULL;
            if (jobd_host_job_get (self->host, event->job, &record) == 0)
                sp_submit_job (self, record);
            jobd_job_destroy (&record);
        } else if (event->type == JOBD_EVENT_TRANSITION && !job &&
                   ((1u << event->state) & SP_FOLLOWED)) {
            //  A job that started elsewhere (jobctl track): follow it when it is at one of ours.
            jobd_job_t *record = NULL;
            if (jobd_host_job_get (self->host, event->job, &record) == 0 && record->ext &&
                *record->ext && ((1u << record->state) & SP_FOLLOWED))
                sp_job_follow (self, record);
            jobd_job_destroy (&record);
        } else if (event->type == JOBD_EVENT_TRANSITION && job) {
            //  The broker's word is the truth (jobctl observe, a cancel applied here, ...).
            job->state = event->state;
            job->attempt = event->attempt;
            if (jobd_state_is_final (event->state) || event->state == JOBD_STATE_LOST)
                sp_poller_forget (self, event->job);
        } else if (event->type == JOBD_EVENT_CANCEL && acting)
            sp_kill_track_cancel (self, job, event);
    }
    jobd_event_destroy (&event);
    zmsg_destroy (&msg);
}

//  A backend's own request, when due: its list (list backends), or, while it fails and backs off,
//  the probe that tells when it answers again (about every second; the list itself on list
//  backends): its success ends the backoff, and polls and waiting submissions go out at once.
static void
s_poll_backend (sp_poller_t *self, sp_backend_t *backend, int64_t now, int64_t *next)
{
    bool lists = sp_backend_lists (backend);
    bool failing = backend->failures && (backend->resume_at > now || backend->probed);
    if ((!lists && !failing) || (lists ? backend->list_in_flight : backend->probe_in_flight))
        return;
    //  In a cluster, a backend is listed only by the instances that follow a job there (as of
    //  the last walk): each instance lists for its own jobs, and the others would ask it for
    //  nothing (docs/cluster.md section 7). A jobd alone lists it whatever it follows, which
    //  keeps the backend's health in its status.
    if (lists && !failing && self->cluster && backend->followed == 0)
        return;
    int64_t due = failing ? backend->probe_due : backend->list_due;
    if (due <= now) {
        char url[1024];
        sp_backend_probe_url (backend, url, sizeof url);
        if (lists) {
            backend->list_due = now + sp_jitter (self->list_interval);
            backend->list_started = now;
        }
        backend->probe_due = now + sp_jitter (SP_PROBE_INTERVAL);
        bool sent =
            sp_call_start (self, backend, NULL, lists ? SP_LIST : SP_PROBE, "GET", url, NULL);
        if (lists)
            backend->list_in_flight = sent;
        else
            backend->probe_in_flight = sent;
        due = failing ? backend->probe_due : backend->list_due;
    }
    if (failing && backend->resume_at > now && backend->resume_at < due)
        due = backend->resume_at;
    *next = due < *next ? due : *next;
}

//  Sends what is due: one list request per list backend, one status request per due job on the
//  others. Returns ms until the next thing is due.
static int64_t
s_poll_due (sp_poller_t *self)
{
    int64_t now = zclock_time (), next = now + 1000;
    for (size_t index = 0; index < self->backend_count; index++)
        s_poll_backend (self, &self->backends[index], now, &next);
    //  Every reply asks for a walk: at a thousand replies a second, walking a thousand jobs each
    //  time was the plugin's main cost. A poll waits a few ms at most for the next walk.
    int64_t walk_at = self->walk_at > self->walked_at + SP_WALK_SPACING
                          ? self->walk_at
                          : self->walked_at + SP_WALK_SPACING;
    if (now < walk_at)
        return (walk_at < next ? walk_at : next) - now;
    self->walked_at = now;
    //  Jobs that reached a final state leave the table here, outside any walk over it.
    zlist_t *done = zlist_new ();
    for (size_t index = 0; index < self->backend_count; index++)
        self->backends[index].followed = 0;
    for (sp_job_t *job = (sp_job_t *)zhashx_first (self->jobs); job;
         job = (sp_job_t *)zhashx_next (self->jobs)) {
        if ((job->done || job->gone) && !job->in_flight && !job->marking)
            zlist_append (done, job->id);
        else if (job->backend)
            job->backend->followed++;
    }
    for (char *id = (char *)zlist_first (done); id; id = (char *)zlist_next (done))
        sp_poller_forget (self, id);
    zlist_destroy (&done);
    zlist_t *resubmit = zlist_new ();
    for (sp_job_t *job = (sp_job_t *)zhashx_first (self->jobs); job;
         job = (sp_job_t *)zhashx_next (self->jobs))
        if (job->submit && !job->in_flight && job->backend->resume_at <= now)
            zlist_append (resubmit, job->id);
    for (char *id = (char *)zlist_first (resubmit); id; id = (char *)zlist_next (resubmit)) {
        jobd_job_t *record = NULL;
        if (jobd_host_job_get (self->host, id, &record) == 0 && record->state == JOBD_STATE_QUEUED)
            sp_submit_job (self, record);
        else if (zhashx_lookup (self->jobs, id))
            ((sp_job_t *)zhashx_lookup (self->jobs, id))->submit = false;
        jobd_job_destroy (&record);
    }
    zlist_destroy (&resubmit);
    for (sp_job_t *job = (sp_job_t *)zhashx_first (self->jobs); job;
         job = (sp_job_t *)zhashx_next (self->jobs)) {
        sp_backend_t *backend = job->backend;
        if (job->seek && now - job->seek->examined_at > self->lost_after)
            sp_seek_failed (self, job, NULL);
        if (job->submit && backend->resume_at > now)
            next = backend->resume_at < next ? backend->resume_at : next;
        //  A kill to send again, or one whose effect is due by now.
        if (job->killing && job->kill_at && job->kill_at <= now && !job->done)
            sp_kill_track_due (self, job);
        if (job->killing && job->kill_at)
            next = job->kill_at < next ? job->kill_at : next;
        //  Jobs of list backends are polled one by one only when the list missed them (not
        //  listed, or gone: then the backend's 404 starts the grace before LOST), once a list
        //  pass started after they were followed was read without them.
        bool listed = sp_backend_lists (backend) && (job->seen || backend->listed_at <= job->since);
        if (job->in_flight || !job->ext[0] || listed || backend->resume_at > now)
            continue;
        if (job->due <= now) {
            char url[1024];
            sp_backend_poll_url (backend, job->ext, url, sizeof url);
            job->due = now + sp_jitter (job->interval);
            sp_call_start (self, backend, job, SP_POLL, "GET", url, NULL);
        }
        next = job->due < next ? job->due : next;
    }
    self->walk_at = next;
    return next - now;
}

//  The figures of plugin.status, per backend (README.md, "Figures").
static void
s_figures (sp_poller_t *self)
{
    jobd_sdk_status_t *report = self->report;
    jobd_sdk_status_figures_clear (report);
    for (size_t index = 0; index < self->backend_count; index++) {
        const sp_backend_t *backend = &self->backends[index];
        const char *name = backend->name;
        jobd_sdk_status_figure (report, "spark_backend_up",
                                "1 while the backend answers, 0 while it fails", !backend->failures,
                                "backend", name, NULL);
        jobd_sdk_status_figure (report, "spark_polls_total",
                                "Poll and list requests sent to the backend",
                                (double)backend->polls, "backend", name, NULL);
        jobd_sdk_status_figure (report, "spark_poll_errors_total",
                                "Poll and list requests that failed (no answer, or unreadable)",
                                (double)backend->poll_errors, "backend", name, NULL);
        jobd_sdk_status_figure (report, "spark_poll_seconds",
                                "How long the last poll or list request took",
                                (double)backend->poll_us_last / 1e6, "backend", name, NULL);
        jobd_sdk_status_figure (report, "spark_poll_seconds_total",
                                "Time spent on poll and list requests (over spark_polls_total: "
                                "their mean)",
                                (double)backend->poll_us_total / 1e6, "backend", name, NULL);
        jobd_sdk_status_figure (report, "spark_jobs_followed", "Jobs the poller follows",
                                (double)backend->followed, "backend", name, NULL);
        if (sp_backend_lists (backend)) {
            jobd_sdk_status_figure (report, "spark_last_list_timestamp_seconds",
                                    "When the last list read whole was asked (0: none yet)",
                                    (double)(backend->listed_at / 1000), "backend", name, NULL);
            jobd_sdk_status_figure (report, "spark_listed_jobs", "Jobs in the last list read whole",
                                    (double)backend->listed_jobs, "backend", name, NULL);
        }
    }
}

//  plugin.status: "degraded" while a backend fails, else "running"; the detail has a line per
//  backend (sp_backend_describe), the figures numbers per backend.
static void
s_report (sp_poller_t *self)
{
    if (!jobd_sdk_status_due (self->report, self->status_now))
        return;
    self->status_now = false;
    s_figures (self);
    char detail[SP_STATUS_MAX] = "", part[SP_STATUS_MAX];
    size_t used = 0;
    bool failing = false;
    for (size_t index = 0; index < self->backend_count; index++) {
        failing |= self->backends[index].failures > 0;
        sp_backend_describe (&self->backends[index], part, sizeof part);
        if (used < sizeof detail - 1)
            used += (size_t)snprintf (detail + used, sizeof detail - used, "%s%s",
                                      index ? "; " : "", part);
    }
    jobd_sdk_status_send (self->report, self->bus, failing ? "degraded" : "running", detail);
}

static bool
s_resume_one (const jobd_job_t *record, void *arg)
{
    sp_poller_t *self = (sp_poller_t *)arg;
    if (!record->kind || strcmp (record->kind, "spark") != 0 ||
        !jobd_host_acting (self->host, record->id))
        return true;
    sp_job_t *known = (sp_job_t *)zhashx_lookup (self->jobs, record->id);
    if (known) {
        known->gone = false; //  its partition came back before the job was dropped
        return true;
    }
    sp_job_t *job = sp_job_follow (self, record);
    if (job && job->ext[0] && record->cancel_status &&
        (!strcmp (record->cancel_status, "requested") ||
         !strcmp (record->cancel_status, "retrying"))) {
        //  A cancel jobd had not seen through when it stopped: the kill is sent again.
        self->host->log (self->host, JOBD_LOG_INFO,
                         "%s: its cancel was not seen through: killing "
                         "%s at backend %s again",
                         job->id, job->ext, job->backend->name);
        job->killing = true;
        job->kill_tries = 0;
        job->kill_at = zclock_time ();
    }
    if (!job || record->state != JOBD_STATE_QUEUED)
        return true;
    if (!record->ext || !*record->ext)
        job->submit = true; //  no submission mark: its create was never sent
    else if (job->backend->kind == SP_LIVY) {
        sp_list_resume (self, job); //  found by its batch name, or submitted after a whole list
        //  Cluster mode: a create the instance that acted on it before sent under its lease may
        //  reach Livy up to the request's timeout later (docs/cluster.md section 8 (c)).
        if (JOBD_HOST_HAS (self->host, instance) && self->host->instance)
            job->resume_after += job->backend->timeout_ms;
    } else {
        sp_seek_start (self, job, record->spec, NULL,
                       self->taking_over ? "by the instance that acted on it before"
                                         : "before jobd stopped");
        if (job->seek)
            job->seek->marked_at = record->last_seen; //  its floor: sp_seek_find_floors
    }
    return true;
}

//  Cluster mode: when the partitions this instance acts on changed, the jobs of those it lost
//  are dropped (once no request of theirs is in flight) and those of the partitions it gained
//  are taken up from the store, as after a restart.
static void
s_acting_moved (sp_poller_t *self)
{
    uint64_t changes = jobd_host_acting_changes (self->host);
    if (changes == self->acting_changes)
        return;
    self->acting_changes = changes;
    size_t left = 0, before = zhashx_size (self->jobs);
    for (sp_job_t *job = (sp_job_t *)zhashx_first (self->jobs); job;
         job = (sp_job_t *)zhashx_next (self->jobs))
        if (!job->gone && !jobd_host_acting (self->host, job->id)) {
            job->gone = true;
            left++;
        }
    self->taking_over = true;
    jobd_host_job_scan (self->host, (1u << JOBD_STATE_QUEUED) | SP_FOLLOWED, s_resume_one, self);
    self->taking_over = false;
    sp_seek_find_floors (self);
    size_t taken = zhashx_size (self->jobs) - before;
    if (left || taken)
        self->host->log (self->host, JOBD_LOG_INFO,
                         "partitions moved: %zu jobs left to other instances, %zu taken up", left,
                         taken);
    sp_poller_walk_by (self, zclock_time ());
}

//  The loop's timers: the polls due, then the status report when due. Returns ms until the
//  next poll is due.
static int64_t
s_tick (void *arg)
{
    sp_poller_t *self = (sp_poller_t *)arg;
    if (self->draining)
        return 50; //  only the answers of submissions under way are waited for
    s_acting_moved (self);
    int64_t wait = s_poll_due (self);
    s_report (self);
    return wait;
}

//  After "$TERM": a submission whose mark is on its way to the store, or whose create is at the
//  backend, finishes and is recorded (SUBMITTED, with the backend's id) before the plugin stops,
//  within the longest backend timeout. Stopped halfway, the job would be left marked, and the
//  next start (or, in a cluster, the partition's next owner) would have to look for it at the
//  backend, which a standalone master without ui_url cannot do. Nothing new starts meanwhile.
static bool
s_draining (void *arg)
{
    sp_poller_t *self = (sp_poller_t *)arg;
    if (!self->draining) {
        self->draining = true;
        long longest = 0;
        for (size_t index = 0; index < self->backend_count; index++)
            longest = self->backends[index].timeout_ms > longest ? self->backends[index].timeout_ms
                                                                 : longest;
        self->drain_until = zclock_mono () + longest + 1000;
    }
    if (zclock_mono () >= self->drain_until)
        return false;
    for (sp_job_t *job = (sp_job_t *)zhashx_first (self->jobs); job;
         job = (sp_job_t *)zhashx_next (self->jobs))
        if (job->marking || (job->in_flight && !job->ext[0]))
            return true;
    return false;
}

//  HTTP transfers and the sockets are waited on together; the transfers that end are handled.
static void
s_wait (zsock_t **sockets, size_t count, int timeout, void *arg)
{
    sp_http_wait (((sp_poller_t *)arg)->http, sockets, count, timeout);
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    sp_poller_t *self = (sp_poller_t *)state;
    self->bus = bus;
    zsock_set_subscribe (events, "job.");
    zsock_set_subscribe (events, "cmd.cancel.spark");
    jobd_sdk_status_listen (self->report, events);
    //  After a restart: every non-final Spark job with a backend id is followed again at once.
    self->acting_changes = jobd_host_acting_changes (host);
    jobd_host_job_scan (host, (1u << JOBD_STATE_QUEUED) | SP_FOLLOWED, s_resume_one, self);
    sp_seek_find_floors (self);
    jobd_sdk_loop_t loop = {.tick = s_tick,
                            .wait = s_wait,
                            .on_event = s_on_event,
                            .on_reply = s_on_reply,
                            .draining = s_draining};
    return jobd_sdk_loop_run (&loop, pipe, bus, events, self);
}

static const char *const s_kinds[] = {"spark", NULL};

//  jobd --check: init reads the config and allocates only, so the check is init then destroy.
static int
s_check (const jobd_host_t *host, char *reason, size_t reason_size)
{
    return jobd_sdk_check_init (host, s_init, s_destroy, reason, reason_size);
}

JOBD_PLUGIN_DEFINE (.name = "spark-poller", .version = "0.1.0",
                    .description = "submits, follows and cancels Spark jobs (standalone, livy, "
                                   "yarn, history)",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy,
                    .check = s_check, .kinds = s_kinds, .validate = sp_submit_validate);
