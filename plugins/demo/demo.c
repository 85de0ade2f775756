//  The demo plugin: a pretend backend of kind "demo" that moves its jobs through their lifecycle,
//  so that a newcomer sees jobd work before any Spark or Kafka is around.
#include "jobd_plugin_sdk.h"
#include <jansson.h>
#include <string.h>

static const jobd_conf_key_t s_config[] = {
    {"jobs", JOBD_CONF_INT, "0", "demo jobs to submit at start (0: only run what others submit)"},
    {"step", JOBD_CONF_DURATION, "1s", "time between two states of a demo job"},
    {"fail_every", JOBD_CONF_INT, "3", "every Nth demo job fails (0: none)"},
    {"status_interval", JOBD_CONF_DURATION, "5s",
     "how often plugin.status (with the demo's figures) is sent"},
    {NULL, 0, NULL, NULL}};

typedef struct {
    const jobd_host_t *host;
    zsock_t *bus; //  set by run
    int64_t jobs;
    int64_t step;
    int64_t fail_every;
    zlistx_t *schedule; //  s_due_t, in due order
    jobd_sdk_status_t *report;
    uint64_t observed; //  observations sent
    int64_t status_interval;
    uint64_t acting_changes; //  cluster mode: the host's acting_changes at the last scan
    bool to_submit;          //  the start's `jobs` not submitted yet
} s_demo_t;

//  The next observation due for one job.
typedef struct {
    int64_t due;
    char job[JOBD_ID_MAX + 1];
    jobd_state_t state;
} s_due_t;

static int
s_compare_due (const void *a, const void *b)
{
    int64_t left = ((const s_due_t *)a)->due, right = ((const s_due_t *)b)->due;
    return left < right ? -1 : left > right;
}

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    s_demo_t *self = (s_demo_t *)zmalloc (sizeof (s_demo_t));
    self->host = host;
    self->jobs = host->config_int (host, "jobs", 0);
    self->step = host->config_int (host, "step", 1000);
    self->fail_every = host->config_int (host, "fail_every", 3);
    if (self->jobs < 0 || self->fail_every < 0) {
        snprintf (reason, reason_size, "jobs and fail_every must not be negative");
        free (self);
        return JOBD_ECONFIG;
    }
    self->schedule = zlistx_new ();
    zlistx_set_destructor (self->schedule, (zlistx_destructor_fn *)zstr_free);
    zlistx_set_comparator (self->schedule, s_compare_due);
    self->status_interval = host->config_int (host, "status_interval", 5000);
    self->report = jobd_sdk_status_new (host, self->status_interval);
    *state_p = self;
    return 0;
}

static void
s_destroy (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_demo_t *self = (s_demo_t *)*state_p;
    zlistx_destroy (&self->schedule);
    jobd_sdk_status_destroy (&self->report);
    free (self);
    *state_p = NULL;
}

static void
s_schedule (s_demo_t *self, const char *job, jobd_state_t state, int64_t delay)
{
    s_due_t *due = (s_due_t *)zmalloc (sizeof (s_due_t));
    due->due = zclock_time () + delay;
    snprintf (due->job, sizeof due->job, "%s", job);
    due->state = state;
    zlistx_insert (self->schedule, due, true);
}

//  Which way a job ends: every fail_every-th job (by its number) fails. A cluster's ids
//  (job- and a ULID) have no number: a hash of the id stands in for it.
static jobd_state_t
s_outcome (s_demo_t *self, const char *job)
{
    const char *digits = strncmp (job, "job-", 4) == 0 ? job + 4 : job;
    uint64_t number = 0;
    if (*digits && strspn (digits, "0123456789") == strlen (digits))
        number = strtoull (digits, NULL, 10);
    else
        for (number = 14695981039346656037ULL; *job; job++)
            number = (number ^ (uint8_t)*job) * 1099511628211ULL;
    return self->fail_every && number % (uint64_t)self->fail_every == 0 ? JOBD_STATE_FAILED
                                                                        : JOBD_STATE_SUCCEEDED;
}

static void
s_observe (s_demo_t *self, zsock_t *bus, const s_due_t *due)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_event_set (&event->job, due->job);
    event->state = due->state;
    if (due->state == JOBD_STATE_SUBMITTED) {
        char ext[JOBD_ID_MAX + 8];
        snprintf (ext, sizeof ext, "demo-%s", due->job);
        jobd_event_set (&event->ext, ext);
    }
    if (due->state == JOBD_STATE_FAILED)
        jobd_event_set (&event->error, "demo: the job exited with code 1 "
                                       "(java.lang.RuntimeException: simulated failure)");
    if (jobd_plugin_send (bus, event))
        self->host->log (self->host, JOBD_LOG_WARN, "cannot send an observation of %s", due->job);
    else
        self->observed++;
    jobd_event_destroy (&event);
}

//  What comes after a state the demo itself reported.
static void
s_advance (s_demo_t *self, const char *job, jobd_state_t state)
{
    if (state == JOBD_STATE_QUEUED)
        s_schedule (self, job, JOBD_STATE_SUBMITTED, self->step);
    else if (state == JOBD_STATE_SUBMITTED)
        s_schedule (self, job, JOBD_STATE_RUNNING, self->step);
    else if (state == JOBD_STATE_RUNNING)
        s_schedule (self, job, s_outcome (self, job), self->step * 3);
}

//  After a restart, demo jobs still moving carry on from the store.
static bool
s_resume_one (const jobd_job_t *job, void *arg)
{
    s_demo_t *self = (s_demo_t *)arg;
    if (job->kind && strcmp (job->kind, "demo") == 0 && jobd_host_acting (self->host, job->id))
        s_advance (self, job->id, job->state);
    return true;
}

//  Every demo job still moving that this instance acts on (all of them in a single jobd) is
//  scheduled from its stored state.
static void
s_resume (s_demo_t *self)
{
    self->acting_changes = jobd_host_acting_changes (self->host);
    zlistx_purge (self->schedule);
    jobd_host_job_scan (self->host,
                        (1u << JOBD_STATE_QUEUED) | (1u << JOBD_STATE_SUBMITTED) |
                            (1u << JOBD_STATE_RUNNING),
                        s_resume_one, self);
}

//  Cluster mode: whether this instance acts on a partition. A submission's id is drawn in one
//  of them, so that the demo moves its own jobs; before (a starting instance owns none until
//  the group gave it a share), jobd forwards them all to other instances.
static bool
s_may_submit (const jobd_host_t *host)
{
    if (!JOBD_HOST_HAS (host, partition_acting) || !host->partition_acting || host->partitions == 0)
        return true; //  a single jobd
    for (uint32_t partition = 0; partition < host->partitions; partition++)
        if (host->partition_acting (host, partition))
            return true;
    return false;
}

static void
s_submit_jobs (s_demo_t *self, zsock_t *bus)
{
    static const char *names[] = {"daily-orders-etl", "clickstream-sessionize", "fx-rates-load",
                                  "customer-dedupe",  "inventory-snapshot",     "ads-attribution"};
    for (int64_t index = 0; index < self->jobs; index++) {
        jobd_event_t *event = jobd_event_new (JOBD_EVENT_SUBMIT);
        jobd_event_set (&event->source, self->host->plugin_name);
        jobd_event_set (&event->kind, "demo");
        jobd_event_set (&event->backend, "demo");
        jobd_event_set (&event->name, names[index % 6]);
        jobd_event_set (&event->spec, "{\"demo\":true}");
        jobd_plugin_send (bus, event);
        jobd_event_destroy (&event);
    }
}

//  A publication: a demo job was queued, or is to be cancelled.
static void
s_on_event (zsock_t *events, void *arg)
{
    s_demo_t *self = (s_demo_t *)arg;
    zmsg_t *msg = zmsg_recv (events);
    zframe_t *payload = msg ? zmsg_last (msg) : NULL;
    jobd_event_t *event = NULL;
    if (payload &&
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) == 0 &&
        !(self->report && jobd_sdk_status_asked (self->report, event)) && event->kind &&
        strcmp (event->kind, "demo") == 0) {
        //  Cluster mode: the instance that acts on a job moves it.
        if (!jobd_host_acting (self->host, event->job))
            ;
        else if (event->type == JOBD_EVENT_TRANSITION && event->state == JOBD_STATE_QUEUED)
            s_advance (self, event->job, event->state);
        else if (event->type == JOBD_EVENT_CANCEL) {
            s_due_t due = {.state = JOBD_STATE_CANCELLED};
            snprintf (due.job, sizeof due.job, "%s", event->job);
            s_observe (self, self->bus, &due);
        }
    }
    jobd_event_destroy (&event);
    zmsg_destroy (&msg);
}

//  plugin.status with the demo's figures, a simple source for the metrics' tests.
static void
s_report (s_demo_t *self)
{
    if (!self->report || !jobd_sdk_status_due (self->report, false))
        return;
    size_t moving = zlistx_size (self->schedule);
    jobd_sdk_status_figures_clear (self->report);
    jobd_sdk_status_figure (self->report, "demo_observations_total",
                            "Observations the demo plugin sent", (double)self->observed, NULL);
    jobd_sdk_status_figure (self->report, "demo_jobs_moving", "Demo jobs the demo plugin moves",
                            (double)moving, "backend", "demo", NULL);
    char detail[64];
    snprintf (detail, sizeof detail, "%zu jobs moving", moving);
    jobd_sdk_status_send (self->report, self->bus, "running", detail);
}

//  The timers: observes every job whose next state is due, and reports when that is due.
//  Returns ms until the next one.
static int64_t
s_tick (void *arg)
{
    s_demo_t *self = (s_demo_t *)arg;
    //  Cluster mode: partitions moved: the jobs this instance acts on now are scheduled afresh.
    if (jobd_host_acting_changes (self->host) != self->acting_changes)
        s_resume (self);
    if (self->to_submit && s_may_submit (self->host)) {
        s_submit_jobs (self, self->bus);
        self->to_submit = false;
    }
    s_due_t *next;
    while ((next = (s_due_t *)zlistx_first (self->schedule)) && next->due <= zclock_time ()) {
        s_due_t due = *next;
        zlistx_delete (self->schedule, zlistx_cursor (self->schedule));
        if (!jobd_host_acting (self->host, due.job))
            continue; //  another instance moves it now
        s_observe (self, self->bus, &due);
        s_advance (self, due.job, due.state);
    }
    s_report (self);
    int64_t wait = next ? next->due - zclock_time () : 1000;
    if (self->to_submit && wait > 100)
        wait = 100; //  polling interval: the host tells no ownership change
    return self->status_interval > 0 && self->status_interval < wait ? self->status_interval : wait;
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    s_demo_t *self = (s_demo_t *)state;
    self->bus = bus;
    zsock_set_subscribe (events, "job.QUEUED.");
    zsock_set_subscribe (events, "cmd.cancel.demo");
    if (self->report)
        jobd_sdk_status_listen (self->report, events);
    s_resume (self);
    self->to_submit = self->jobs > 0;
    //  Replies are not asked for (no event sets reply): the loop reads and drops any.
    jobd_sdk_loop_t loop = {.tick = s_tick, .on_event = s_on_event};
    return jobd_sdk_loop_run (&loop, pipe, bus, events, self);
}

//  A demo submission: backend "demo" (or none), a string name, and no key but jobd's own and
//  `demo` (a boolean). Pure: the spec only.
static int
s_validate (void *state, const jobd_host_t *host, const jobd_submission_t *submission, char *reason,
            size_t reason_size)
{
    (void)state;
    (void)host;
    if (submission->backend && strcmp (submission->backend, "demo") != 0) {
        snprintf (reason, reason_size, "backend '%s': demo jobs run on backend 'demo' only",
                  submission->backend);
        return JOBD_EINVAL;
    }
    json_error_t error;
    json_t *spec = submission->spec ? json_loads (submission->spec, 0, &error) : json_object ();
    int rc = JOBD_EINVAL;
    const char *key;
    json_t *value;
    if (!json_is_object (spec))
        snprintf (reason, reason_size, "the spec is not a JSON object");
    else
        rc = 0;
    json_object_foreach (rc ? NULL : spec, key, value)
    {
        bool string =
            strcmp (key, "kind") == 0 || strcmp (key, "name") == 0 || strcmp (key, "backend") == 0;
        if (strcmp (key, "demo") == 0 ? !json_is_boolean (value)
                                      : string && !json_is_string (value)) {
            snprintf (reason, reason_size, "key '%s' must be a %s", key,
                      string ? "string" : "boolean");
            rc = JOBD_EINVAL;
        } else if (strcmp (key, "retry") == 0) {
            rc = jobd_sdk_retry_read (NULL, value, reason, reason_size);
        } else if (strcmp (key, "demo") != 0 && !jobd_sdk_spec_common (key)) {
            snprintf (reason, reason_size,
                      "unknown key '%s' (a demo spec takes demo, kind, name, backend)", key);
            rc = JOBD_EINVAL;
        }
        if (rc)
            break;
    }
    json_decref (spec);
    return rc;
}

static const char *const s_kinds[] = {"demo", NULL};

//  jobd --check: init reads the config and allocates only, so the check is init then destroy.
static int
s_check (const jobd_host_t *host, char *reason, size_t reason_size)
{
    return jobd_sdk_check_init (host, s_init, s_destroy, reason, reason_size);
}

JOBD_PLUGIN_DEFINE (.name = "demo", .version = "1.0.0",
                    .description = "a pretend backend that moves demo jobs through their lifecycle",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy,
                    .check = s_check, .kinds = s_kinds, .validate = s_validate);
