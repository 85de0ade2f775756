//  The spark-poller plugin: submits Spark jobs, follows every non-final one on its backend, and
//  kills on request; every change it sees becomes an `observed` event for the broker.
#include "jobd_plugin.h"
#include "sp_backend.h"
#include "sp_http.h"
#include "sp_json.h"
#include <string.h>

#define SP_BACKENDS_MAX 32
#define SP_TAG_MAX      (JOBD_ID_MAX + 16)
#define SP_WALK_SPACING 5 //  ms between two walks over every job, at the least
#define SP_REASON_TRIES 3 //  asks for a failure's reason while the backend is in trouble
//  A lost create's driver (s_seek): a /json/ pass that does not find it decides only once it
//  started this long (ms) after the search, so that a create still on its way is in it.
#define SP_SEEK_SETTLE 1000
#define SP_SEEK_MAX    8 //  candidates kept per search: more is ambiguous anyway
//  The states of a job at its backend that the poller follows.
#define SP_FOLLOWED                                                                                \
    ((1u << JOBD_STATE_SUBMITTED) | (1u << JOBD_STATE_RUNNING) | (1u << JOBD_STATE_UNKNOWN))

static const jobd_conf_key_t s_config[] = {
    {"interval_min", JOBD_CONF_DURATION, "250ms", "poll interval after a submission or a change"},
    {"interval_max", JOBD_CONF_DURATION, "1800ms", "poll interval of jobs stable for long"},
    {"list_interval", JOBD_CONF_DURATION, "1s", "how often list backends are polled"},
    {"lost_after", JOBD_CONF_DURATION, "60s", "how long a backend may not know a job before LOST"},
    {"max_in_flight", JOBD_CONF_INT, "8", "requests in flight per backend host"},
    {"status_interval", JOBD_CONF_DURATION, "5s",
     "how often the backends' health and list times are reported (jobctl plugins)"},
    {"cancel_timeout", JOBD_CONF_DURATION, "30s",
     "how long an accepted kill may take before it is sent again (doubling each time)"},
    {"cancel_retries", JOBD_CONF_INT, "3",
     "kills sent again when one did not take effect or got no usable answer"},
    {"backend/*/type", JOBD_CONF_STRING, NULL, "standalone, livy, yarn or history"},
    {"backend/*/url", JOBD_CONF_STRING, NULL, "REST base URL (http://master:6066, ...)"},
    {"backend/*/ui_url", JOBD_CONF_STRING, "", "standalone: master web UI, for /json/"},
    {"backend/*/master", JOBD_CONF_STRING, "", "standalone: spark.master of submissions"},
    {"backend/*/tag", JOBD_CONF_STRING, "jobd", "yarn: the application tag listed by"},
    {"backend/*/auth", JOBD_CONF_STRING, "auto",
     "auto, none, basic, bearer, simple (user.name=USER), kerberos (SPNEGO) or delegation"},
    {"backend/*/user", JOBD_CONF_STRING, "", "user: basic auth, or YARN's simple auth user.name"},
    {"backend/*/password", JOBD_CONF_STRING, "", "HTTP basic password (never logged)"},
    {"backend/*/password_file", JOBD_CONF_STRING, "",
     "a file (mode 0600) holding the password (never logged)"},
    {"backend/*/token", JOBD_CONF_STRING, "", "bearer or delegation token (never logged)"},
    {"backend/*/token_file", JOBD_CONF_STRING, "",
     "a file (mode 0600) holding the token (never logged)"},
    {"backend/*/timeout", JOBD_CONF_DURATION, "10s", "timeout of every request"},
    {NULL, 0, NULL, NULL}};

//  One Spark job being followed.
typedef struct {
    char id[JOBD_ID_MAX + 1];
    char ext[JOBD_ID_MAX + 1];
    sp_backend_t *backend;
    jobd_state_t state; //  as last reported to (or by) the broker
    uint32_t attempt;
    int64_t due; //  next poll
    int64_t interval;
    int64_t unknown_since; //  the backend first said it does not know the job, or 0
    int64_t since;         //  followed from (a list sent before this cannot have missed it)
    bool in_flight;
    bool seen;   //  present in the backend's last list
    bool done;   //  final: dropped at the next sweep
    bool submit; //  to be submitted (again, when the backend did not answer)
    //  The attempt's tag: the Livy batch name and the submission mark (README, "Restart").
    char tag[SP_TAG_MAX];
    bool marking; //  the mark is on its way to the store: the create waits for the reply
    bool resume;  //  Livy: the create may have reached Livy: the next whole list decides
    int64_t resume_after;
    bool relaunched; //  standalone: the driver ended RELAUNCHING; its replacement is looked for
    //  A cancel being carried out: kills sent, and when the next is due (0: none) or, once the
    //  last one was accepted, when the job must have ended.
    bool killing;
    bool kill_accepted;
    int kill_tries;
    int64_t kill_at;
    //  A list said FAILED with no reason: the job's own status is asked for it (s_ask_reason).
    bool asking;
    int reason_tries;
    char listed_raw[32];
    struct s_seek_t *seek; //  standalone: a lost create's driver is looked for (s_seek), or NULL
    char *floor;           //  standalone: the backend's last_created when its create went out
    int64_t sent_at;       //  when its last create went out
} s_job_t;

//  What a standalone create whose answer was lost asked for: its driver is looked for in /json/.
typedef struct s_seek_t {
    sp_created_t wanted;
    char main_class[256];
    char after[JOBD_ID_MAX + 1]; //  the newest driver made before the create, or ""
    int64_t marked_at;   //  when the mark was stored (after a restart) or the create sent, in
                         //  jobd's clock: lost creates are paired with drivers in this order
    int64_t since;       //  looked for since then
    int64_t examined_at; //  a /json/ pass last looked (or since, before any)
    char when[300];      //  how the answer was lost, for the operator
} s_seek_t;

static void
s_job_free (s_job_t **job_p)
{
    if (*job_p) {
        free ((*job_p)->seek);
        free ((*job_p)->floor);
    }
    free (*job_p);
    *job_p = NULL;
}

typedef struct {
    const jobd_host_t *host;
    zsock_t *bus;
    sp_http_t *http;
    sp_backend_t backends[SP_BACKENDS_MAX];
    size_t backend_count;
    zhashx_t *jobs;     //  job id -> s_job_t
    zhashx_t *by_ext;   //  "<backend index>/<ext>" -> s_job_t (borrowed from jobs)
    zhashx_t *marks;    //  event id of a submission mark -> job id
    zhashx_t *resuming; //  tag -> job id, of Livy jobs looked for in the list before a submit
    int64_t interval_min, interval_max, list_interval, lost_after;
    int64_t cancel_timeout; //  an accepted kill must show within this (doubling each try)
    int cancel_retries;     //  kills sent again, at most
    bool stopping;          //  requests cancelled at the end: their calls are only freed
    //  The next walk over every job (sweep, resubmit, per-job polls) is due then, or earlier
    //  when something happens to a job: walking 100,000 jobs at every wake-up of the loop (each
    //  chunk of a big list reply) starved the reply past its timeout.
    int64_t walk_at;
    int64_t walked_at; //  the last walk: walks are SP_WALK_SPACING apart at the least
    //  plugin.status: sent when a backend starts or stops failing, else every status_interval
    //  when it changed.
    int64_t status_interval, status_due;
    bool status_now;
    char status[1024]; //  the last detail sent
} s_poller_t;

//  What a list said of one job, kept until the whole list is read (sp_status_t, made small).
typedef struct {
    char *id, *name, *error; //  fresh; name and error NULL when empty
    char raw[32];
    jobd_state_t state;
    bool known;
} s_listed_t;

//  A request's context: which poller, which job (or NULL for a list), which backend.
typedef struct {
    s_poller_t *self;
    char job[JOBD_ID_MAX + 1];
    sp_backend_t *backend;
    enum { SP_SUBMIT, SP_POLL, SP_LIST, SP_KILL, SP_VERDICT, SP_REASON, SP_PROBE } what;
    long from;  //  SP_LIST: the first item of the page asked
    long count; //  SP_LIST: the items read from the page
    //  SP_LIST: the reply is read as it arrives (a list of 100,000 jobs is read while it comes
    //  rather than after); what it says is kept, and acted on only once it is read whole.
    sp_jlist_t list;
    bool list_failed;
    s_listed_t *listed;
    size_t listed_count, listed_size;
} s_call_t;

static void
s_call_destroy (s_call_t **call_p)
{
    s_call_t *call = *call_p;
    for (size_t index = 0; call && index < call->listed_count; index++) {
        free (call->listed[index].id);
        free (call->listed[index].name);
        free (call->listed[index].error);
    }
    if (call)
        free (call->listed);
    free (call);
    *call_p = NULL;
}

static int64_t
s_jitter (int64_t interval)
{
    //  +-10%, so that jobs submitted together do not poll together forever.
    return interval + (interval / 10) - (int64_t)(random () % (uint64_t)(interval / 5 + 1));
}

static sp_backend_t *
s_backend (s_poller_t *self, const char *name)
{
    for (size_t index = 0; name && index < self->backend_count; index++)
        if (strcmp (self->backends[index].name, name) == 0)
            return &self->backends[index];
    return NULL;
}

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    s_poller_t *self = (s_poller_t *)zmalloc (sizeof (s_poller_t));
    self->host = host;
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
    self->http = sp_http_new (host->config_int (host, "max_in_flight", 8));
    self->jobs = zhashx_new ();
    zhashx_set_destructor (self->jobs, (zhashx_destructor_fn *)s_job_free);
    self->by_ext = zhashx_new ();
    self->marks = zhashx_new ();
    zhashx_set_destructor (self->marks, (zhashx_destructor_fn *)zstr_free);
    self->resuming = zhashx_new ();
    zhashx_set_destructor (self->resuming, (zhashx_destructor_fn *)zstr_free);
    *state_p = self;
    return 0;
}

static void
s_destroy (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_poller_t *self = (s_poller_t *)*state_p;
    self->stopping = true;
    sp_http_destroy (&self->http);
    zhashx_destroy (&self->by_ext);
    zhashx_destroy (&self->jobs);
    zhashx_destroy (&self->marks);
    zhashx_destroy (&self->resuming);
    free (self);
    *state_p = NULL;
}

//  Reports what the backend said about a job: an `observed` event, when it is news.
static void
s_observe (s_poller_t *self, s_job_t *job, jobd_state_t state, const char *ext, const char *error)
{
    if (state == JOBD_STATE_NONE || state == job->state)
        return;
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_event_set (&event->job, job->id);
    jobd_event_set (&event->ext, ext && *ext ? ext : NULL);
    jobd_event_set (&event->error, error && *error ? error : NULL);
    event->state = state;
    event->attempt = job->attempt;
    if (jobd_plugin_send (self->bus, event))
        self->host->log (self->host, JOBD_LOG_WARN, "cannot send an observation of %s", job->id);
    jobd_event_destroy (&event);
    job->state = state;
    job->interval = self->interval_min; //  a change: look again soon
    job->done = jobd_state_is_final (state) || state == JOBD_STATE_LOST;
}

//  A backend that failed backs off, with jitter, and recovers by itself.
static void
s_backend_result (s_poller_t *self, sp_backend_t *backend, bool ok, const char *error)
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
    backend->resume_at = zclock_time () + s_jitter (delay);
    backend->probe_due = zclock_time () + s_jitter (SP_PROBE_INTERVAL);
    snprintf (backend->last_error, sizeof backend->last_error, "%s", error);
    if (backend->failures == 1 || backend->failures % 20 == 0)
        self->host->log (self->host, JOBD_LOG_WARN, "backend %s: %s (failure %d, retrying)",
                         backend->name, error, backend->failures);
}

//  A probe's answer (s_poll_backend): a good one ends the backoff, so that what waits goes out at
//  once. The failures end only with an answer to a real request, or a second good probe in a
//  row (nothing else was asked): a backend whose reply about one job stays unreadable is not
//  logged as back and failing again every second.
static void
s_probe_result (s_poller_t *self, sp_backend_t *backend, bool ok, const char *error)
{
    if (ok && !backend->probed && backend->failures) {
        backend->probed = true;
        backend->resume_at = 0;
    } else
        s_backend_result (self, backend, ok, error);
}

//  A standalone driver that ended RELAUNCHING: dead under this id, alive under a new one the
//  master's REST API does not give (reference 1.9). With ui_url, each /json/ pass looks for the
//  replacement (s_follow_relaunches); without, nothing can find it: LOST after the grace.
static void
s_relaunched (s_poller_t *self, s_job_t *job)
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
        s_observe (self, job, JOBD_STATE_UNKNOWN, NULL, error);
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
        s_observe (self, job, JOBD_STATE_LOST, NULL, error);
    }
}

//  A failure the backend gave no reason for (a driver that exited non-zero, a Livy log the caller
//  may not see, empty YARN diagnostics): the reason says what is known. trouble: why the job's
//  own status could not be read, or NULL.
static void
s_explain (const s_job_t *job, sp_status_t *status, const char *trouble)
{
    if (status->state != JOBD_STATE_FAILED || status->error[0])
        return;
    snprintf (status->error, sizeof status->error,
              "backend %s reports that %s ended %s and gives no reason for it%s%.300s",
              job->backend->name, job->ext, status->raw[0] ? status->raw : "in failure",
              trouble ? "; asking for its own status failed: " : "", trouble ? trouble : "");
}

//  One job's status, from a per-job poll or from a list.
static void
s_apply_status (s_poller_t *self, s_job_t *job, const sp_status_t *given)
{
    sp_status_t explained;
    const sp_status_t *status = given;
    if (given->state == JOBD_STATE_FAILED && !given->error[0]) {
        explained = *given;
        s_explain (job, &explained, NULL);
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
            char error[300];
            snprintf (error, sizeof error, "backend %s has no record of %s for %.1f s",
                      job->backend->name, job->ext, (double)self->lost_after / 1000);
            s_observe (self, job, JOBD_STATE_LOST, NULL, error);
        }
        return;
    }
    job->unknown_since = 0;
    jobd_state_t before = job->state;
    s_observe (self, job, status->state, NULL, status->error);
    if (before == job->state && job->interval < self->interval_max)
        job->interval =
            job->interval * 2 > self->interval_max ? self->interval_max : job->interval * 2;
}

//  Asks for a walk over the jobs at due (or before).
static void
s_walk_by (s_poller_t *self, int64_t due)
{
    if (due < self->walk_at)
        self->walk_at = due;
}

static void
s_ext_key (s_poller_t *self, const sp_backend_t *backend, const char *ext, char *key, size_t size)
{
    snprintf (key, size, "%zu/%s", (size_t)(backend - self->backends), ext);
}

//  A list reply names jobs by the backend's id: looked up in an index, not by a walk over every
//  job (that made a list of N jobs cost N^2).
static s_job_t *
s_job_by_ext (s_poller_t *self, const sp_backend_t *backend, const char *ext)
{
    char key[JOBD_ID_MAX + 32];
    s_ext_key (self, backend, ext, key, sizeof key);
    return (s_job_t *)zhashx_lookup (self->by_ext, key);
}

//  Sets a job's backend id and keeps the index in step.
static void
s_set_ext (s_poller_t *self, s_job_t *job, const char *ext)
{
    char key[JOBD_ID_MAX + 32];
    if (job->ext[0] && job->backend) {
        s_ext_key (self, job->backend, job->ext, key, sizeof key);
        if (zhashx_lookup (self->by_ext, key) == job)
            zhashx_delete (self->by_ext, key);
    }
    snprintf (job->ext, sizeof job->ext, "%s", ext ? ext : "");
    if (job->ext[0] && job->backend) {
        s_ext_key (self, job->backend, job->ext, key, sizeof key);
        zhashx_update (self->by_ext, key, job);
    }
}

//  Stops following a job.
static void
s_forget (s_poller_t *self, const char *id)
{
    s_job_t *job = (s_job_t *)zhashx_lookup (self->jobs, id);
    if (job) {
        s_set_ext (self, job, NULL);
        zhashx_delete (self->jobs, id);
    }
}

static bool
s_copy_status (const sp_status_t *status, void *arg)
{
    *(sp_status_t *)arg = *status;
    return false;
}

static s_call_t *s_call (s_poller_t *self, sp_backend_t *backend, s_job_t *job, int what,
                         const char *method, const char *url, const char *body);

//  A list that says a job failed without saying why (the master's /json/ has no message): the
//  job's own status (standalone status/{id}, Livy's batch, YARN's app) is asked for the reason
//  before FAILED is recorded (s_reason_done). Returns true when the status waits for it.
static bool
s_ask_reason (s_poller_t *self, s_job_t *job, const sp_status_t *status)
{
    if (status->state != JOBD_STATE_FAILED || status->error[0] || job->done || !job->ext[0])
        return false;
    if (!job->asking && !job->in_flight) {
        char url[1024];
        sp_backend_poll_url (job->backend, job->ext, url, sizeof url);
        snprintf (job->listed_raw, sizeof job->listed_raw, "%s", status->raw);
        job->asking = s_call (self, job->backend, job, SP_REASON, "GET", url, NULL) != NULL;
    }
    return true; //  a request of the job is out: the next list asks again
}

//  The job's own status, asked by s_ask_reason: its state and reason are recorded. While the
//  backend is in trouble the next list asks again (SP_REASON_TRIES in all); then, or when the
//  backend no longer knows the job, the list's verdict is recorded with what is known.
static void
s_reason_done (s_poller_t *self, s_job_t *job, int rc, sp_status_t *status, const char *why)
{
    job->asking = false;
    bool answered =
        rc == 0 && status->known && !status->standby && status->state != JOBD_STATE_NONE;
    if (!answered && (rc != 0 || status->standby) && ++job->reason_tries < SP_REASON_TRIES)
        return;
    char trouble[SP_ERROR_MAX];
    if (!answered) {
        snprintf (trouble, sizeof trouble, "%s",
                  rc != 0 || status->standby ? why : "the backend no longer knows it");
        sp_status_reset (status);
        status->state = JOBD_STATE_FAILED;
        sp_copy (status->raw, sizeof status->raw, job->listed_raw);
    }
    s_explain (job, status, answered ? NULL : trouble);
    job->unknown_since = 0;
    s_observe (self, job, status->state, job->ext, status->error);
}

//  A history server application: running, or ended (then its jobs give the verdict).
static int
s_history (s_poller_t *self, s_job_t *job, const char *body, size_t size, long http,
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
        s_call (self, job->backend, job, SP_VERDICT, "GET", url, NULL);
    }
    return rc;
}

//  A Livy batch found by its name (the job's tag): the create reached Livy before jobd lost its
//  reply. The job follows that batch instead of being submitted again.
static void
s_adopt (s_poller_t *self, s_job_t *job, const sp_status_t *status)
{
    zhashx_delete (self->resuming, job->tag);
    job->resume = false;
    s_set_ext (self, job, status->id);
    self->host->log (self->host, JOBD_LOG_INFO,
                     "%s: batch %s named %s is already at backend %s: following it, not "
                     "submitting again",
                     job->id, status->id, job->tag, job->backend->name);
    //  QUEUED moves on with the batch id; a batch with no news yet (recovering) is SUBMITTED.
    jobd_state_t state = status->state != JOBD_STATE_NONE ? status->state : JOBD_STATE_SUBMITTED;
    if (!s_ask_reason (self, job, status))
        s_observe (self, job, state, status->id, status->error);
}

static bool
s_list_one (const sp_status_t *status, void *arg)
{
    s_call_t *call = (s_call_t *)arg;
    s_poller_t *self = call->self;
    call->count++;
    s_job_t *job = s_job_by_ext (self, call->backend, status->id);
    if (job) {
        job->seen = true;
        if (!s_ask_reason (self, job, status))
            s_apply_status (self, job, status);
    } else if (status->name[0] && zhashx_size (self->resuming)) {
        const char *id = (const char *)zhashx_lookup (self->resuming, status->name);
        job = id ? (s_job_t *)zhashx_lookup (self->jobs, id) : NULL;
        if (job && job->resume && job->backend == call->backend)
            s_adopt (self, job, status);
    }
    return true;
}

//  A job of a list being read: kept for when it is read whole.
static bool
s_list_keep (const sp_status_t *status, void *arg)
{
    s_call_t *call = (s_call_t *)arg;
    if (call->listed_count == call->listed_size) {
        size_t size = call->listed_size ? call->listed_size * 2 : 1024;
        s_listed_t *grown = (s_listed_t *)realloc (call->listed, size * sizeof *grown);
        if (!grown) {
            call->list_failed = true;
            return false;
        }
        call->listed = grown;
        call->listed_size = size;
    }
    s_listed_t *listed = &call->listed[call->listed_count];
    *listed = (s_listed_t){.id = strdup (status->id),
                           .name = status->name[0] ? strdup (status->name) : NULL,
                           .error = status->error[0] ? strdup (status->error) : NULL,
                           .state = status->state,
                           .known = status->known};
    memcpy (listed->raw, status->raw, sizeof listed->raw);
    if (!listed->id || (status->name[0] && !listed->name) || (status->error[0] && !listed->error)) {
        free (listed->id);
        free (listed->name);
        free (listed->error);
        call->list_failed = true;
        return false;
    }
    call->listed_count++;
    return true;
}

static void
s_list_progress (void *arg, const char *body, size_t size)
{
    s_call_t *call = (s_call_t *)arg;
    if (sp_jlist_feed (&call->list, body, size, false))
        call->list_failed = true;
}

//  The end of a list reply: read whole, then what it said is acted on. Returns 0 or JOBD_EPROTO
//  (nothing acted on).
static int
s_list_read (s_poller_t *self, s_call_t *call, long http, const char *body, size_t size,
             long *total_p)
{
    if (http != 200 || call->list_failed || sp_jlist_feed (&call->list, body, size, true) ||
        call->list_failed)
        return JOBD_EPROTO;
    *total_p = (long)call->list.captured;
    //  A list read whole says which jobs it holds (one that could not be read says nothing: its
    //  jobs are not polled one by one for it, which would flood a backend in trouble).
    for (s_job_t *each = (s_job_t *)zhashx_first (self->jobs); call->from == 0 && each;
         each = (s_job_t *)zhashx_next (self->jobs))
        if (each->backend == call->backend)
            each->seen = false; //  another backend's list says nothing of its jobs
    sp_status_t status;
    for (size_t index = 0; index < call->listed_count; index++) {
        const s_listed_t *listed = &call->listed[index];
        sp_status_reset (&status);
        sp_copy (status.id, sizeof status.id, listed->id);
        sp_copy (status.name, sizeof status.name, listed->name);
        sp_copy (status.error, sizeof status.error, listed->error);
        memcpy (status.raw, listed->raw, sizeof status.raw);
        status.state = listed->state;
        status.known = listed->known;
        s_list_one (&status, call);
    }
    return 0;
}

//  Standalone: a create that may have reached the master, with no answer to say and no driver
//  found for it (s_seek). Sending it again could run the job twice: the job fails with what the
//  operator can do instead.
static void
s_maybe_submitted (s_poller_t *self, s_job_t *job, const char *when)
{
    char error[SP_ERROR_MAX], blind[200] = "";
    if (!job->backend->ui_url[0])
        snprintf (blind, sizeof blind,
                  "; backend %s has no ui_url (with the master's /json/, jobd looks for the "
                  "driver itself)",
                  job->backend->name);
    snprintf (error, sizeof error,
              "the submission may have reached the master %s%s; jobd does not send it again "
              "(that could run it twice): check the master for a driver of this job "
              "(spark.jobd.id %s); if there is one, `jobctl track DRIVER_ID --kind spark "
              "--backend %s`, if not, `jobctl retry %s`",
              when, blind, job->id, job->backend->name, job->id);
    self->host->log (self->host, JOBD_LOG_WARN, "%s: %s", job->id, error);
    s_observe (self, job, JOBD_STATE_FAILED, NULL, error);
}

//  Livy: a job whose create may have reached Livy is submitted again only after a whole list,
//  asked after that, has no batch of its name.
static void
s_resume (s_poller_t *self, s_job_t *job)
{
    job->resume = true;
    job->submit = false;
    job->resume_after = zclock_time ();
    zhashx_update (self->resuming, job->tag, strdup (job->id));
}

//  A whole Livy list was read (every page): the jobs it was to look for and did not find were
//  never created (or Livy forgot them: README): they are submitted.
static void
s_list_whole (s_poller_t *self, sp_backend_t *backend)
{
    zlist_t *missing = zlist_new ();
    for (const char *id = (const char *)zhashx_first (self->resuming); id;
         id = (const char *)zhashx_next (self->resuming)) {
        s_job_t *job = (s_job_t *)zhashx_lookup (self->jobs, id);
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

//  Whether a driver id is followed by a job (here, or in the store): no relaunch's replacement,
//  nor a lost create's driver.
static bool
s_taken (const char *id, void *arg)
{
    s_call_t *call = (s_call_t *)arg;
    //  Any backend on the same master (two names for one master share its drivers).
    s_poller_t *self = call->self;
    bool taken = false;
    for (size_t index = 0; !taken && index < self->backend_count; index++) {
        sp_backend_t *backend = &self->backends[index];
        if (backend != call->backend && strcmp (backend->url, call->backend->url) != 0)
            continue;
        char *owner = NULL;
        taken = s_job_by_ext (self, backend, id) ||
                self->host->job_find (self->host, backend->name, id, &owner) == 0;
        free (owner);
    }
    return taken;
}

//  After a /json/ pass: each relaunched driver's replacement, once /json/ lists it, is what its
//  job follows from then on (an observation with the new id: the job ends with its state).
static void
s_follow_relaunches (s_poller_t *self, s_call_t *call, const char *body, size_t size, long http)
{
    //  A create whose reply is still on its way made a driver no job follows yet: not a
    //  replacement, but indistinguishable from one until then. Look again next pass.
    for (s_job_t *job = (s_job_t *)zhashx_first (self->jobs); job;
         job = (s_job_t *)zhashx_next (self->jobs))
        if (job->backend == call->backend && job->in_flight && !job->ext[0])
            return;
    zlist_t *relaunched = zlist_new ();
    for (s_job_t *job = (s_job_t *)zhashx_first (self->jobs); job;
         job = (s_job_t *)zhashx_next (self->jobs))
        if (job->backend == call->backend && job->relaunched && !job->done)
            zlist_append (relaunched, job);
    for (s_job_t *job = (s_job_t *)zlist_first (relaunched); job;
         job = (s_job_t *)zlist_next (relaunched)) {
        sp_status_t status;
        if (sp_master_replacement (body, size, http, job->ext, s_taken, call, &status))
            continue;
        self->host->log (self->host, JOBD_LOG_INFO,
                         "%s: driver %s was relaunched as %s: following the new driver", job->id,
                         job->ext, status.id);
        s_set_ext (self, job, status.id);
        job->relaunched = false;
        job->unknown_since = 0;
        job->seen = true;
        if (strcmp (status.raw, "RELAUNCHING") == 0)
            s_relaunched (self, job); //  relaunched again: its own replacement is next
        else if (!s_ask_reason (self, job, &status))
            s_observe (self, job, status.state, status.id, NULL);
    }
    zlist_destroy (&relaunched);
}

//  Standalone: a create whose answer was lost (jobd stopped before it came, or no usable reply),
//  sent after the master made driver after (or NULL). With ui_url, its driver is looked for in
//  the master's /json/ (s_find_created); without, nothing can find it: the operator is asked
//  (s_maybe_submitted).
static void
s_seek (s_poller_t *self, s_job_t *job, const char *spec, const char *after, const char *when)
{
    s_seek_t *seek = job->backend->ui_url[0] ? (s_seek_t *)zmalloc (sizeof (s_seek_t)) : NULL;
    if (!seek ||
        sp_created_from_spec (spec, &seek->wanted, seek->main_class, sizeof seek->main_class)) {
        free (seek);
        s_maybe_submitted (self, job, when);
        return;
    }
    int64_t now = zclock_time ();
    snprintf (seek->after, sizeof seek->after, "%s", after ? after : "");
    seek->wanted.after = seek->after;
    seek->marked_at = job->sent_at;
    seek->since = seek->examined_at = now;
    snprintf (seek->when, sizeof seek->when, "%s", when);
    free (job->seek);
    job->seek = seek;
    job->submit = false;
    job->backend->list_due = now; //  look at once
    s_walk_by (self, now);
    self->host->log (self->host, JOBD_LOG_INFO,
                     "%s: the create's answer was lost (%s): looking for its driver in %s/json/",
                     job->id, when, job->backend->ui_url);
}

//  The search found the one driver the lost create made: the job follows it.
static void
s_adopt_driver (s_poller_t *self, s_job_t *job, sp_status_t *status)
{
    free (job->seek);
    job->seek = NULL;
    s_set_ext (self, job, status->id);
    job->seen = true;
    self->host->log (self->host, JOBD_LOG_INFO,
                     "%s: driver %s (%s) is the one its lost create made: following it, not "
                     "submitting again",
                     job->id, status->id, status->raw);
    //  QUEUED moves on with the driver id (a relaunched one is followed from SUBMITTED).
    jobd_state_t state = status->state == JOBD_STATE_NONE || status->state == JOBD_STATE_UNKNOWN
                             ? JOBD_STATE_SUBMITTED
                             : status->state;
    status->state = state;
    if (!s_ask_reason (self, job, status))
        s_observe (self, job, state, status->id, status->error);
}

//  The search cannot tell: no driver of the job in /json/ (it may have aged out), or several
//  that it cannot tell apart, or /json/ not read. The operator decides (ids: the candidates, ""
//  for none, NULL when /json/ could not be read).
static void
s_seek_failed (s_poller_t *self, s_job_t *job, const char *ids)
{
    s_seek_t *seek = job->seek;
    char when[SP_ERROR_MAX];
    if (!ids)
        snprintf (when, sizeof when,
                  "%s; no pass of the master's /json/ could look for it for %lld s (unreadable, "
                  "or creates to that master kept awaiting their replies)",
                  seek->when, (long long)((zclock_time () - seek->examined_at) / 1000));
    else if (*ids)
        snprintf (when, sizeof when,
                  "%s; the master's /json/ lists drivers that could be it or another lost "
                  "create's (%s: main class %s, the same cores and memory, made since) and "
                  "nothing tells which",
                  seek->when, ids, seek->main_class);
    else
        snprintf (when, sizeof when,
                  "%s; no driver of it (main class %s, newer than %s, followed by no job) is in "
                  "the master's /json/, which keeps only its latest drivers",
                  seek->when, seek->main_class, seek->after[0] ? seek->after : "any");
    free (job->seek);
    job->seek = NULL;
    s_maybe_submitted (self, job, when);
}

//  One lost create's search in a /json/ pass: its candidates, oldest first.
typedef struct {
    s_job_t *job;
    int count; //  candidates (more than SP_SEEK_MAX kept is possible), or <0: unreadable
    sp_status_t found[SP_SEEK_MAX];
    bool decided;
} s_search_t;

//  The candidates' ids, for the operator.
static void
s_search_ids (const s_search_t *search, char *text, size_t size)
{
    size_t used = 0;
    text[0] = 0;
    for (int index = 0; index < search->count && index < SP_SEEK_MAX && used < size; index++)
        used += (size_t)snprintf (text + used, size - used, "%s%s", index ? ", " : "",
                                  search->found[index].id);
    if (search->count > SP_SEEK_MAX && used < size)
        snprintf (text + used, size - used, " and %d more", search->count - SP_SEEK_MAX);
}

//  Whether two searches have the very same candidates (kept whole), or share any.
static bool
s_search_same (const s_search_t *a, const s_search_t *b)
{
    bool same = a->count == b->count && a->count <= SP_SEEK_MAX;
    for (int index = 0; same && index < a->count; index++)
        same = strcmp (a->found[index].id, b->found[index].id) == 0;
    return same;
}

static bool
s_search_shares (const s_search_t *a, const s_search_t *b)
{
    if (a->count > SP_SEEK_MAX || b->count > SP_SEEK_MAX)
        return a->count > 0 && b->count > 0; //  not all kept: maybe
    for (int index = 0; index < a->count; index++)
        for (int other = 0; other < b->count; other++)
            if (strcmp (a->found[index].id, b->found[other].id) == 0)
                return true;
    return false;
}

static int
s_by_mark (const void *a, const void *b)
{
    const s_job_t *job_a = *(s_job_t *const *)a, *job_b = *(s_job_t *const *)b;
    if (job_a->seek->marked_at != job_b->seek->marked_at)
        return job_a->seek->marked_at < job_b->seek->marked_at ? -1 : 1;
    return strcmp (job_a->id, job_b->id);
}

//  k lost creates of one description and exactly k drivers that only they could have made,
//  each of them a candidate of all: which is whose, /json/ cannot say. When every one of those
//  drivers has ended in the same state, each job's outcome is known all the same: they are
//  paired in order (the creates' order, the drivers' ids), which the log says. While some run,
//  the jobs wait; drivers that ended differently go to the operator.
static void
s_pair_in_order (s_poller_t *self, s_search_t *searches, size_t count, size_t first)
{
    s_search_t *search = &searches[first];
    s_job_t *group[SP_SEEK_MAX];
    size_t members = 0;
    for (size_t index = first; index < count; index++)
        if (!searches[index].decided && s_search_same (search, &searches[index]))
            group[members++] = searches[index].job;
    bool ended = true, alike = true;
    for (int index = 0; index < search->count; index++) {
        ended &= jobd_state_is_final (search->found[index].state);
        alike &= strcmp (search->found[index].raw, search->found[0].raw) == 0;
    }
    if (!ended)
        return; //  wait: the next pass looks again
    char ids[SP_ERROR_MAX];
    s_search_ids (search, ids, sizeof ids);
    qsort (group, members, sizeof group[0], s_by_mark);
    for (size_t index = 0; index < members; index++) {
        for (size_t each = first; each < count; each++)
            if (searches[each].job == group[index])
                searches[each].decided = true;
        if (!alike)
            s_seek_failed (self, group[index], ids);
        else {
            self->host->log (self->host, JOBD_LOG_WARN,
                             "%s: drivers %s could each be its lost create's, and all ended %s: "
                             "paired in order of creation",
                             group[index]->id, ids, search->found[0].raw);
            s_adopt_driver (self, group[index], &search->found[index]);
        }
    }
}

//  After a /json/ pass: each lost create's driver. One driver described as its request (main
//  class, cores, memory), newer than the last one made before it, followed by no job, and no
//  other search's candidate: the job follows it. Drivers only a group of identical searches
//  could have made: s_pair_in_order. None, or several otherwise, once the create has had time
//  to reach the master: the operator is asked.
static void
s_find_created (s_poller_t *self, s_call_t *call, const char *body, size_t size, long http)
{
    //  A create whose reply is still on its way made a driver no job follows yet.
    zlist_t *seekers = zlist_new ();
    for (s_job_t *job = (s_job_t *)zhashx_first (self->jobs); job;
         job = (s_job_t *)zhashx_next (self->jobs)) {
        if (job->backend == call->backend && job->in_flight && !job->ext[0]) {
            zlist_purge (seekers);
            break;
        }
        if (job->backend == call->backend && job->seek && !job->done)
            zlist_append (seekers, job);
    }
    size_t count = zlist_size (seekers);
    s_search_t *searches = count ? (s_search_t *)calloc (count, sizeof *searches) : NULL;
    s_job_t *job = (s_job_t *)zlist_first (seekers);
    for (size_t index = 0; searches && index < count;
         index++, job = (s_job_t *)zlist_next (seekers)) {
        searches[index].job = job;
        searches[index].count = sp_master_created (body, size, http, &job->seek->wanted, s_taken,
                                                   call, searches[index].found, SP_SEEK_MAX);
        if (searches[index].count >= 0)
            job->seek->examined_at = zclock_time (); //  looked, even if it waits
    }
    for (size_t index = 0; searches && index < count; index++) {
        s_search_t *search = &searches[index];
        if (search->decided || search->count < 0)
            continue;
        size_t same = 0, shared = 0;
        for (size_t other = 0; other < count; other++) {
            same += s_search_same (search, &searches[other]);
            shared += other != index && !s_search_same (search, &searches[other]) &&
                      s_search_shares (search, &searches[other]);
        }
        bool settled = call->backend->list_started >= search->job->seek->since + SP_SEEK_SETTLE;
        char ids[SP_ERROR_MAX];
        s_search_ids (search, ids, sizeof ids);
        if (search->count == 1 && same == 1 && !shared) {
            search->decided = true;
            s_adopt_driver (self, search->job, &search->found[0]);
        } else if (search->count > 1 && (size_t)search->count == same && !shared)
            s_pair_in_order (self, searches, count, index);
        else if (settled) {
            search->decided = true;
            s_seek_failed (self, search->job, ids);
        }
    }
    free (searches);
    zlist_destroy (&seekers);
}

//  A create on this master was answered with driver id: the newest known, on every backend with
//  this url, when it is newer.
static void
s_note_created (s_poller_t *self, const sp_backend_t *backend, const char *id)
{
    for (size_t index = 0; index < self->backend_count; index++) {
        sp_backend_t *each = &self->backends[index];
        int order = 1;
        if (strcmp (each->url, backend->url) == 0 &&
            (!each->last_created[0] ||
             (sp_driver_id_order (id, each->last_created, &order) == 0 && order > 0)))
            snprintf (each->last_created, sizeof each->last_created, "%s", id);
    }
}

//  The answer to a create, or its absence. Returns 0 when the backend answered (taken or
//  refused), or -1 with why for the backend's health.
static int
s_create_done (s_poller_t *self, s_job_t *job, long http, const char *body, size_t size,
               const char *error, bool sent, char *why, size_t why_size)
{
    sp_status_t status;
    sp_status_reset (&status);
    int rc = -1;
    if (!error)
        rc = job && job->backend->kind == SP_STANDALONE
                 ? sp_standalone_create (body, size, http, &status)
                 : sp_livy_batch (body, size, http, &status);
    snprintf (why, why_size, "%s",
              error             ? error
              : status.error[0] ? status.error
                                : "unreadable reply to a create");
    if (!job)
        return rc == 0 || rc == JOBD_ESTATE ? 0 : -1;
    if (rc == 0) {
        if (job->backend->kind == SP_STANDALONE)
            s_note_created (self, job->backend, status.id);
        s_set_ext (self, job, status.id);
        s_observe (self, job, JOBD_STATE_SUBMITTED, status.id, NULL);
        return 0;
    }
    if (rc == JOBD_ESTATE && !status.standby) {
        s_observe (self, job, JOBD_STATE_FAILED, NULL, status.error);
        return 0; //  the backend answered: a refusal is the job's failure, not the backend's
    }
    //  Not taken, or no usable answer. Sent again only when it certainly was not taken: never
    //  sent, a standby master, a 503 (the server did not process it).
    if (!sent || status.standby || http == 503)
        job->submit = true; //  again once the backend answers (it backs off)
    else if (job->backend->kind == SP_LIVY)
        s_resume (self, job); //  found by its batch name, or sent again after a whole list
    else {
        char when[SP_ERROR_MAX + 64];
        snprintf (when, sizeof when, "without a usable answer (%.*s)", 200, why);
        jobd_job_t *record = NULL;
        self->host->job_get (self->host, job->id, &record);
        s_seek (self, job, record ? record->spec : NULL, job->floor, when);
        jobd_job_destroy (&record);
    }
    return -1;
}

//  ---------------------------------------------------------------------------------------------
//  Cancel: the kill at the backend, and what comes of it. A refusal, or a kill that does not
//  take effect, is logged and sent to the broker (cancel.failed), which records it on the job.

//  Tells the broker (and the log) that the job's kill did not work: status "refused" or
//  "failed" end the cancel, "retrying" says it is sent again.
static void
s_cancel_failed (s_poller_t *self, const char *id, sp_backend_t *backend, const char *ext,
                 const char *status, const char *reason)
{
    self->host->log (self->host, JOBD_LOG_WARN, "%s: cancel %s at backend %s: %s", id, status,
                     backend ? backend->name : "(none)", reason);
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_CANCEL_FAILED);
    if (!event || jobd_event_set (&event->source, self->host->plugin_name) ||
        jobd_event_set (&event->job, id) || jobd_event_set (&event->status, status) ||
        jobd_event_set (&event->error, reason) ||
        jobd_event_set (&event->backend, backend ? backend->name : NULL) ||
        jobd_event_set (&event->ext, ext && *ext ? ext : NULL) ||
        jobd_plugin_send (self->bus, event))
        self->host->log (self->host, JOBD_LOG_ERROR, "%s: cannot send the cancel's failure", id);
    jobd_event_destroy (&event);
}

static void
s_kill_send (s_poller_t *self, s_job_t *job)
{
    const char *method, *body;
    char url[1024];
    job->kill_at = 0;
    job->kill_accepted = false;
    sp_backend_kill (job->backend, job->ext, &method, url, sizeof url, &body);
    if (!method) {
        job->killing = false;
        s_cancel_failed (self, job->id, job->backend, job->ext, "refused",
                         "a history server cannot kill an application: kill it where it runs");
        return;
    }
    job->kill_tries++;
    if (!s_call (self, job->backend, job, SP_KILL, method, url, body))
        job->kill_at = zclock_time () + self->interval_min; //  tried again at the next walk
}

//  The kill did not work this time: sent again after a while, or, past cancel_retries, given up.
static void
s_kill_again (s_poller_t *self, s_job_t *job, const char *why, int64_t delay)
{
    char reason[SP_ERROR_MAX + 200];
    if (job->kill_tries > self->cancel_retries) {
        job->killing = false;
        snprintf (reason, sizeof reason, "%s (gave up after %d kill%s)", why, job->kill_tries,
                  job->kill_tries > 1 ? "s" : "");
        s_cancel_failed (self, job->id, job->backend, job->ext, "failed", reason);
        return;
    }
    snprintf (reason, sizeof reason, "%s; sending the kill again %s%.1f s (%d of %d)", why,
              delay ? "in " : "now, then waiting ",
              (double)(delay
                           ? delay
                           : self->cancel_timeout << (job->kill_tries < 5 ? job->kill_tries : 4)) /
                  1000,
              job->kill_tries + 1, self->cancel_retries + 1);
    s_cancel_failed (self, job->id, job->backend, job->ext, "retrying", reason);
    job->kill_at = zclock_time () + delay;
    job->kill_accepted = false;
}

//  Starts carrying out a cancel the broker forwarded (or one a restart found unfinished).
static void
s_cancel (s_poller_t *self, s_job_t *job, const jobd_event_t *event)
{
    if (!job || !job->ext[0]) {
        char reason[400];
        snprintf (reason, sizeof reason, "spark-poller %s: nothing was killed",
                  !job ? "does not follow this job (no backend of that name, or it is not at one)"
                       : "has no backend id for this job yet");
        s_cancel_failed (self, event->job, job ? job->backend : s_backend (self, event->backend),
                         event->ext, "refused", reason);
        return;
    }
    self->host->log (self->host, JOBD_LOG_INFO, "%s: killing %s at backend %s", job->id, job->ext,
                     job->backend->name);
    job->killing = true;
    job->kill_tries = 0;
    s_kill_send (self, job);
}

//  A walk found the job's kill due: sent again, or, when the last was accepted and the job is
//  still at its backend, that is said first.
static void
s_kill_due (s_poller_t *self, s_job_t *job)
{
    if (job->kill_accepted) {
        char why[400];
        snprintf (
            why, sizeof why, "the kill was accepted but %s is still %s at backend %s %.1f s later",
            job->ext, jobd_state_name (job->state), job->backend->name,
            (double)(self->cancel_timeout << (job->kill_tries < 5 ? job->kill_tries - 1 : 4)) /
                1000);
        s_kill_again (self, job, why, 0);
        if (!job->killing)
            return;
    }
    s_kill_send (self, job);
}

//  The answer to a kill. Returns 0 when the backend answered (whatever it said), or -1 with why
//  for the backend's health.
static int
s_kill_done (s_poller_t *self, s_job_t *job, long http, const char *body, size_t size,
             const char *error, char *why, size_t why_size)
{
    sp_status_t status;
    sp_status_reset (&status);
    if (!job || !job->killing) {
        snprintf (why, why_size, "%s", error ? error : "");
        return 0; //  the job ended meanwhile: nothing to say
    }
    sp_kind_t kind = job->backend->kind;
    sp_kill_t verdict = error             ? SP_KILL_UNCLEAR
                        : kind == SP_YARN ? sp_yarn_kill (body, size, http, &status)
                        : kind == SP_LIVY ? sp_livy_kill (body, size, http, &status)
                        : kind == SP_STANDALONE
                            ? sp_standalone_kill_verdict (body, size, http, &status)
                            : SP_KILL_UNCLEAR;
    snprintf (why, why_size, "%s", error ? error : status.error);
    if (kind == SP_LIVY && verdict == SP_KILL_REFUSED && http == 404 && job->kill_tries > 1) {
        //  A DELETE sent again after one that got no answer, and the batch is gone: the first
        //  one stopped it (Livy answers once the stop finishes, which can outlast a timeout).
        verdict = SP_KILL_DONE;
        status.state = JOBD_STATE_CANCELLED;
    }
    char reason[SP_ERROR_MAX + 200];
    switch (verdict) {
        case SP_KILL_ACCEPTED:
            job->kill_accepted = true;
            job->kill_at = zclock_time () + (self->cancel_timeout
                                             << (job->kill_tries < 5 ? job->kill_tries - 1 : 4));
            job->due = 0; //  look at once, then as usual: the state will show the kill
            return 0;
        case SP_KILL_DONE:
            job->killing = false;
            job->due = 0;
            if (status.state == JOBD_STATE_CANCELLED)
                s_observe (self, job, JOBD_STATE_CANCELLED, NULL,
                           kind == SP_LIVY ? "deleted through Livy" : "killed through YARN");
            else
                self->host->log (self->host, JOBD_LOG_INFO, "%s: %s", job->id, status.error);
            return 0;
        case SP_KILL_REFUSED:
            job->killing = false;
            job->due = 0;
            snprintf (reason, sizeof reason, "backend %s refused to kill %s: %s",
                      job->backend->name, job->ext, status.error);
            s_cancel_failed (self, job->id, job->backend, job->ext, "refused", reason);
            return 0;
        case SP_KILL_UNCLEAR:
            break;
    }
    snprintf (reason, sizeof reason, "no usable answer from backend %s to the kill of %s: %s",
              job->backend->name, job->ext, why);
    int64_t delay = self->interval_min << (job->kill_tries < 8 ? job->kill_tries : 8);
    s_kill_again (self, job, reason, delay < self->cancel_timeout ? delay : self->cancel_timeout);
    return error || http >= 500 ? -1 : 0;
}

static void
s_done (void *arg, long http, const char *body, size_t size, const char *error, bool sent)
{
    s_call_t *call = (s_call_t *)arg;
    s_poller_t *self = call->self;
    if (self->stopping) {
        s_call_destroy (&call);
        return;
    }
    sp_backend_t *backend = call->backend;
    s_job_t *job = call->job[0] ? (s_job_t *)zhashx_lookup (self->jobs, call->job) : NULL;
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
        rc = s_create_done (self, job, http, body, size, error, sent, why, sizeof why);
        if (job) {
            free (job->floor);
            job->floor = NULL;
        }
    } else if (call->what == SP_KILL)
        rc = s_kill_done (self, job, http, body, size, error, why, sizeof why);
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
        rc = s_list_read (self, call, http, body, size, &total);
        backend->list_count += call->count;
        if (rc == 0 && (backend->kind != SP_LIVY || call->from + call->count >= total)) {
            self->status_now |= backend->listed_at == 0; //  its first list: say how it went
            backend->listed_at = backend->list_started;  //  the pass is read whole
            backend->listed_jobs = backend->list_count;
            backend->listed_ms = zclock_time () - backend->list_started;
        }
        snprintf (why, sizeof why, "unreadable list reply (HTTP %ld)", http);
        if (rc == 0 && backend->kind == SP_STANDALONE)
            s_find_created (self, call, body, size, http);
        if (rc == 0 && backend->kind == SP_STANDALONE)
            s_follow_relaunches (self, call, body, size, http);
        if (rc == 0 && backend->kind == SP_LIVY && call->count > 0 &&
            call->from + call->count < total) {
            //  Livy holds more than a page: the pass goes on with the next one.
            char url[1024];
            sp_backend_list_url (backend, call->from + call->count, url, sizeof url);
            backend->list_in_flight = true;
            s_call_t *next = s_call (self, backend, NULL, SP_LIST, "GET", url, NULL);
            if (next)
                next->from = call->from + call->count;
            else
                backend->list_in_flight = false;
        } else if (rc == 0 && backend->kind == SP_LIVY)
            s_list_whole (self, backend);
    } else if (job) {
        rc = call->what == SP_VERDICT         ? sp_history_jobs (body, size, http, &status)
             : backend->kind == SP_STANDALONE ? sp_standalone_status (body, size, http, &status)
             : backend->kind == SP_LIVY       ? sp_livy_batch (body, size, http, &status)
             : backend->kind == SP_YARN       ? sp_yarn_app (body, size, http, &status)
                                              : s_history (self, job, body, size, http, &status);
        snprintf (why, sizeof why, "unreadable status reply (HTTP %ld)", http);
        if (call->what == SP_REASON)
            s_reason_done (self, job, rc, &status, why);
        else if (rc == 0 && !status.standby)
            s_apply_status (self, job, &status);
    } else
        rc = 0; //  the job ended meanwhile
    if (job && call->what == SP_REASON && rc != 0 && (error || http >= 500))
        s_reason_done (self, job, rc, &status, why); //  no reply to read: the trouble is why
    if (call->what == SP_PROBE)
        s_probe_result (self, backend, rc == 0, why);
    else
        s_backend_result (self, backend, rc == 0, why);
    if (job)
        s_walk_by (self, job->due);
    else if (call->what == SP_LIST || call->what == SP_PROBE)
        s_walk_by (self, zclock_time ()); //  sweep what ended, poll what the list missed
    s_call_destroy (&call);
}

//  Starts a request. Returns its context (valid until its reply is handled), or NULL when it
//  could not start.
static s_call_t *
s_call (s_poller_t *self, sp_backend_t *backend, s_job_t *job, int what, const char *method,
        const char *url, const char *body)
{
    s_call_t *call = (s_call_t *)zmalloc (sizeof (s_call_t));
    call->self = self;
    call->backend = backend;
    call->what = what;
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
    if (sp_http_request (self->http, method, url, body, &backend->auth, backend->timeout_ms, s_done,
                         what == SP_LIST ? s_list_progress : NULL, call)) {
        if (job)
            job->in_flight = false;
        s_call_destroy (&call);
        return NULL;
    }
    return call;
}

static s_job_t *
s_follow (s_poller_t *self, const jobd_job_t *record)
{
    sp_backend_t *backend = s_backend (self, record->backend);
    if (!backend)
        return NULL;
    s_job_t *job = (s_job_t *)zhashx_lookup (self->jobs, record->id);
    if (!job) {
        job = (s_job_t *)zmalloc (sizeof (s_job_t));
        snprintf (job->id, sizeof job->id, "%s", record->id);
        zhashx_insert (self->jobs, job->id, job);
    }
    if (job->backend != backend)
        s_set_ext (self, job, NULL);
    job->backend = backend;
    //  A queued job's ext is its submission mark, not a backend id: nothing to poll.
    bool queued = record->state == JOBD_STATE_QUEUED;
    s_set_ext (self, job, record->ext && !queued ? record->ext : NULL);
    job->state = record->state;
    job->attempt = record->attempt;
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
    s_walk_by (self, job->due);
    return job;
}

//  Whether a queued job carries its submission mark: its create may have been sent.
static bool
s_marked (const s_job_t *job, const jobd_job_t *record)
{
    return record->ext && strcmp (record->ext, job->tag) == 0;
}

//  Sends the create request of a marked job.
static void
s_send_create (s_poller_t *self, s_job_t *job, const jobd_job_t *record)
{
    const char *method;
    char url[1024], reason[512];
    char *body = NULL;
    s_set_ext (self, job, NULL);
    job->submit = false;
    free (job->floor);
    job->floor = job->backend->kind == SP_STANDALONE ? strdup (job->backend->last_created) : NULL;
    job->sent_at = zclock_time ();
    if (sp_backend_submit (job->backend, record->id, job->tag, record->name, record->spec, &method,
                           url, sizeof url, &body, reason, sizeof reason)) {
        s_observe (self, job, JOBD_STATE_FAILED, NULL, reason);
        return;
    }
    s_call (self, job->backend, job, SP_SUBMIT, method, url, body);
    free (body);
}

//  The submission mark: before its create is sent, a job records its tag as its ext (an
//  observation of QUEUED, the state it is in: the store keeps the backend id a job lacked, and
//  nothing else). The create goes out once the broker replies that the mark is durable, so that
//  after a crash a queued job without the mark was certainly never sent (README, "Restart").
static void
s_mark (s_poller_t *self, s_job_t *job)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_event_set (&event->job, job->id);
    jobd_event_set (&event->ext, job->tag);
    jobd_event_set (&event->detail, "submission mark: the create request is about to be sent");
    event->state = JOBD_STATE_QUEUED;
    event->attempt = job->attempt;
    event->reply = true;
    if (jobd_plugin_send (self->bus, event) == 0) {
        zhashx_update (self->marks, event->id, strdup (job->id));
        job->marking = true;
        job->submit = false;
    } else
        self->host->log (self->host, JOBD_LOG_WARN, "cannot send the submission mark of %s",
                         job->id);
    jobd_event_destroy (&event);
}

//  The broker's reply to a submission mark: durable (the create goes out), or not applied.
static void
s_on_reply (s_poller_t *self, zsock_t *bus)
{
    zframe_t *frame = zframe_recv (bus);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    char re[JOBD_ID_MAX + 1] = "", outcome[32] = "", why[256] = "";
    bool ok = false;
    if (frame &&
        jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), &reply, NULL, 0) == 0 &&
        reply.data.type == MSGPACK_OBJECT_MAP) {
        struct {
            const char *key;
            char *out;
            size_t size;
        } fields[] = {{"re", re, sizeof re},
                      {"outcome", outcome, sizeof outcome},
                      {"reason", why, sizeof why}};
        for (uint32_t index = 0; index < reply.data.via.map.size; index++) {
            const msgpack_object_kv *kv = &reply.data.via.map.ptr[index];
            if (kv->key.type != MSGPACK_OBJECT_STR)
                continue;
            const msgpack_object_str *key = &kv->key.via.str;
            if (key->size == 2 && memcmp (key->ptr, "ok", 2) == 0 &&
                kv->val.type == MSGPACK_OBJECT_BOOLEAN)
                ok = kv->val.via.boolean;
            for (size_t field = 0; field < sizeof fields / sizeof fields[0]; field++)
                if (key->size == strlen (fields[field].key) &&
                    memcmp (key->ptr, fields[field].key, key->size) == 0 &&
                    kv->val.type == MSGPACK_OBJECT_STR && kv->val.via.str.size < fields[field].size)
                    snprintf (fields[field].out, fields[field].size, "%.*s",
                              (int)kv->val.via.str.size, kv->val.via.str.ptr);
        }
    }
    msgpack_unpacked_destroy (&reply);
    zframe_destroy (&frame);
    char *id = (char *)zhashx_lookup (self->marks, re);
    s_job_t *job = id ? (s_job_t *)zhashx_lookup (self->jobs, id) : NULL;
    jobd_job_t *record = NULL;
    if (job && job->marking) {
        job->marking = false;
        //  Durable ("duplicate": QUEUED again, with the mark) and still queued: send it.
        if (ok && strcmp (outcome, "duplicate") == 0 &&
            self->host->job_get (self->host, job->id, &record) == 0 &&
            record->state == JOBD_STATE_QUEUED && s_marked (job, record))
            s_send_create (self, job, record);
        else
            self->host->log (self->host, JOBD_LOG_WARN,
                             "%s not submitted: its submission mark was not applied (%s%s%s)",
                             job->id, ok ? outcome : "refused", *why ? ": " : "", why);
    }
    jobd_job_destroy (&record);
    if (id)
        zhashx_delete (self->marks, re);
}

static void
s_submit (s_poller_t *self, const jobd_job_t *record)
{
    s_job_t *job = s_follow (self, record);
    if (!job) {
        //  Not one of ours to submit: tell the operator rather than leave it queued for ever.
        s_job_t orphan = {.attempt = record->attempt, .state = record->state};
        snprintf (orphan.id, sizeof orphan.id, "%s", record->id);
        char error[256];
        snprintf (error, sizeof error, "spark-poller has no backend named '%s'",
                  record->backend ? record->backend : "(none)");
        orphan.backend = NULL;
        jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
        jobd_event_set (&event->source, self->host->plugin_name);
        jobd_event_set (&event->job, record->id);
        jobd_event_set (&event->error, error);
        event->state = JOBD_STATE_FAILED;
        event->attempt = record->attempt;
        jobd_plugin_send (self->bus, event);
        jobd_event_destroy (&event);
        return;
    }
    if (job->marking || job->in_flight)
        return; //  already on its way
    if (s_marked (job, record))
        s_send_create (self, job, record);
    else
        s_mark (self, job);
}

//  A transition or a command from the broker.
static void
s_on_event (s_poller_t *self, zsock_t *events)
{
    zmsg_t *msg = zmsg_recv (events);
    zframe_t *payload = msg ? zmsg_last (msg) : NULL;
    jobd_event_t *event = NULL;
    if (payload && zmsg_size (msg) == 2 &&
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) == 0 &&
        event->kind && strcmp (event->kind, "spark") == 0) {
        s_job_t *job = (s_job_t *)zhashx_lookup (self->jobs, event->job);
        if (event->type == JOBD_EVENT_TRANSITION && event->state == JOBD_STATE_QUEUED) {
            jobd_job_t *record = NULL;
            if (self->host->job_get (self->host, event->job, &record) == 0)
                s_submit (self, record);
            jobd_job_destroy (&record);
        } else if (event->type == JOBD_EVENT_TRANSITION && !job &&
                   ((1u << event->state) & SP_FOLLOWED)) {
            //  A job that started elsewhere (jobctl track): follow it when it is at one of ours.
            jobd_job_t *record = NULL;
            if (self->host->job_get (self->host, event->job, &record) == 0 && record->ext &&
                *record->ext && ((1u << record->state) & SP_FOLLOWED))
                s_follow (self, record);
            jobd_job_destroy (&record);
        } else if (event->type == JOBD_EVENT_TRANSITION && job) {
            //  The broker's word is the truth (jobctl observe, a cancel applied here, ...).
            job->state = event->state;
            job->attempt = event->attempt;
            if (jobd_state_is_final (event->state) || event->state == JOBD_STATE_LOST)
                s_forget (self, event->job);
        } else if (event->type == JOBD_EVENT_CANCEL)
            s_cancel (self, job, event);
    }
    jobd_event_destroy (&event);
    zmsg_destroy (&msg);
}

//  A backend's own request, when due: its list (list backends), or, while it fails and backs off,
//  the probe that tells when it answers again (about every second; the list itself on list
//  backends): its success ends the backoff, and polls and waiting submissions go out at once.
static void
s_poll_backend (s_poller_t *self, sp_backend_t *backend, int64_t now, int64_t *next)
{
    bool lists = sp_backend_lists (backend);
    bool failing = backend->failures && (backend->resume_at > now || backend->probed);
    if ((!lists && !failing) || (lists ? backend->list_in_flight : backend->probe_in_flight))
        return;
    int64_t due = failing ? backend->probe_due : backend->list_due;
    if (due <= now) {
        char url[1024];
        sp_backend_probe_url (backend, url, sizeof url);
        if (lists) {
            backend->list_due = now + s_jitter (self->list_interval);
            backend->list_started = now;
        }
        backend->probe_due = now + s_jitter (SP_PROBE_INTERVAL);
        bool sent = s_call (self, backend, NULL, lists ? SP_LIST : SP_PROBE, "GET", url, NULL);
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
s_poll_due (s_poller_t *self)
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
    for (s_job_t *job = (s_job_t *)zhashx_first (self->jobs); job;
         job = (s_job_t *)zhashx_next (self->jobs))
        if (job->done && !job->in_flight)
            zlist_append (done, job->id);
    for (char *id = (char *)zlist_first (done); id; id = (char *)zlist_next (done))
        s_forget (self, id);
    zlist_destroy (&done);
    zlist_t *resubmit = zlist_new ();
    for (s_job_t *job = (s_job_t *)zhashx_first (self->jobs); job;
         job = (s_job_t *)zhashx_next (self->jobs))
        if (job->submit && !job->in_flight && job->backend->resume_at <= now)
            zlist_append (resubmit, job->id);
    for (char *id = (char *)zlist_first (resubmit); id; id = (char *)zlist_next (resubmit)) {
        jobd_job_t *record = NULL;
        if (self->host->job_get (self->host, id, &record) == 0 &&
            record->state == JOBD_STATE_QUEUED)
            s_submit (self, record);
        else if (zhashx_lookup (self->jobs, id))
            ((s_job_t *)zhashx_lookup (self->jobs, id))->submit = false;
        jobd_job_destroy (&record);
    }
    zlist_destroy (&resubmit);
    for (s_job_t *job = (s_job_t *)zhashx_first (self->jobs); job;
         job = (s_job_t *)zhashx_next (self->jobs)) {
        sp_backend_t *backend = job->backend;
        if (job->seek && now - job->seek->examined_at > self->lost_after)
            s_seek_failed (self, job, NULL);
        if (job->submit && backend->resume_at > now)
            next = backend->resume_at < next ? backend->resume_at : next;
        //  A kill to send again, or one whose effect is due by now.
        if (job->killing && job->kill_at && job->kill_at <= now && !job->done)
            s_kill_due (self, job);
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
            job->due = now + s_jitter (job->interval);
            s_call (self, backend, job, SP_POLL, "GET", url, NULL);
        }
        next = job->due < next ? job->due : next;
    }
    self->walk_at = next;
    return next - now;
}

//  plugin.status: "degraded" while a backend fails, else "running"; the detail has a line per
//  backend (sp_backend_describe).
static void
s_report (s_poller_t *self)
{
    int64_t now = zclock_time ();
    if (!self->status_now && now < self->status_due)
        return;
    self->status_now = false;
    self->status_due = now + self->status_interval;
    char detail[sizeof self->status] = "", part[sizeof self->status];
    size_t used = 0;
    bool failing = false;
    for (size_t index = 0; index < self->backend_count; index++) {
        failing |= self->backends[index].failures > 0;
        sp_backend_describe (&self->backends[index], part, sizeof part);
        if (used < sizeof detail - 1)
            used += (size_t)snprintf (detail + used, sizeof detail - used, "%s%s",
                                      index ? "; " : "", part);
    }
    if (strcmp (detail, self->status) == 0)
        return;
    snprintf (self->status, sizeof self->status, "%s", detail);
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    if (event && !jobd_event_set (&event->source, self->host->plugin_name) &&
        !jobd_event_set (&event->name, self->host->plugin_name) &&
        !jobd_event_set (&event->status, failing ? "degraded" : "running") &&
        !jobd_event_set (&event->detail, detail))
        jobd_plugin_send (self->bus, event);
    jobd_event_destroy (&event);
}

static bool
s_resume_one (const jobd_job_t *record, void *arg)
{
    s_poller_t *self = (s_poller_t *)arg;
    if (!record->kind || strcmp (record->kind, "spark") != 0)
        return true;
    s_job_t *job = s_follow (self, record);
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
    else if (job->backend->kind == SP_LIVY)
        s_resume (self, job); //  found by its batch name, or submitted after a whole list
    else {
        s_seek (self, job, record->spec, NULL, "before jobd stopped");
        if (job->seek)
            job->seek->marked_at = record->last_seen; //  its floor: s_find_floors
    }
    return true;
}

//  One stored job for s_find_floors: a driver it followed, made before a search's mark, on the
//  same master, raises that search's floor.
typedef struct {
    s_poller_t *self;
    zlist_t *seekers; //  the jobs that search
} s_floors_t;

static bool
s_floor_one (const jobd_job_t *record, void *arg)
{
    s_floors_t *floors = (s_floors_t *)arg;
    sp_backend_t *backend = s_backend (floors->self, record->backend);
    int order;
    //  Only driver ids: a queued job's ext is its mark.
    if (!backend || backend->kind != SP_STANDALONE || !record->ext || !record->submitted_at ||
        record->state == JOBD_STATE_QUEUED || !record->kind ||
        strcmp (record->kind, "spark") != 0 ||
        sp_driver_id_order (record->ext, record->ext, &order) != 0)
        return true;
    for (s_job_t *job = (s_job_t *)zlist_first (floors->seekers); job;
         job = (s_job_t *)zlist_next (floors->seekers)) {
        s_seek_t *seek = job->seek;
        if (strcmp (job->backend->url, backend->url) == 0 &&
            record->submitted_at <= seek->marked_at &&
            (!seek->after[0] ||
             (sp_driver_id_order (record->ext, seek->after, &order) == 0 && order > 0)))
            snprintf (seek->after, sizeof seek->after, "%s", record->ext);
    }
    return true;
}

//  After a restart, the searches for lost creates' drivers (s_seek) start from the newest
//  driver the store says this master made before each mark: the driver ids the master gave
//  around that time.
static void
s_find_floors (s_poller_t *self)
{
    s_floors_t floors = {.self = self, .seekers = zlist_new ()};
    for (s_job_t *job = (s_job_t *)zhashx_first (self->jobs); job;
         job = (s_job_t *)zhashx_next (self->jobs))
        if (job->seek)
            zlist_append (floors.seekers, job);
    if (zlist_size (floors.seekers))
        self->host->job_scan (self->host, (1u << JOBD_STATE_COUNT) - 1, s_floor_one, &floors);
    zlist_destroy (&floors.seekers);
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    s_poller_t *self = (s_poller_t *)state;
    self->bus = bus;
    zsock_set_subscribe (events, "job.");
    zsock_set_subscribe (events, "cmd.cancel.spark");
    //  After a restart: every non-final Spark job with a backend id is followed again at once.
    host->job_scan (host, (1u << JOBD_STATE_QUEUED) | SP_FOLLOWED, s_resume_one, self);
    s_find_floors (self);
    zsock_t *sockets[] = {pipe, events, bus};
    bool running = true;
    while (running) {
        int64_t wait = s_poll_due (self);
        s_report (self);
        sp_http_wait (self->http, sockets, 3, wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait);
        while (running && (zsock_events (pipe) & ZMQ_POLLIN)) {
            char *command = zstr_recv (pipe);
            running = command && strcmp (command, "$TERM") != 0;
            zstr_free (&command);
        }
        while (zsock_events (events) & ZMQ_POLLIN)
            s_on_event (self, events);
        while (zsock_events (bus) & ZMQ_POLLIN)
            s_on_reply (self, bus);
    }
    return 0;
}

JOBD_PLUGIN_DEFINE (.name = "spark-poller", .version = "0.1.0",
                    .description = "submits, follows and cancels Spark jobs (standalone, livy, "
                                   "yarn, history)",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy);
