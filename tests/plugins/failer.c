//  Test plugin "failer": a pretend backend whose jobs fail, for retry tests and benchmarks.
//  A job of kind 'failer.go' makes it submit `jobs` jobs of kind 'failer' (backend 'failer',
//  with a spec, so that jobd can run them again). Each QUEUED job of kind 'failer' is observed
//  RUNNING and then, while its attempt is at most `fail_attempts`, FAILED with `error`; a later
//  attempt SUCCEEDS. The retry plugin's resubmissions are those QUEUED transitions past attempt 1.
#include "jobd_plugin.h"
#include <string.h>

static const jobd_conf_key_t s_config[] = {
    {"jobs", JOBD_CONF_INT, "100", "jobs to submit when a job of kind 'failer.go' is queued"},
    {"fail_attempts", JOBD_CONF_INT, "1", "attempts that fail (then the job succeeds)"},
    {"error", JOBD_CONF_STRING, "java.net.ConnectException: Connection refused",
     "the failure's error text"},
    {NULL, 0, NULL, NULL}};

static const char *const s_kinds[] = {"failer", "failer.go", NULL};

typedef struct {
    const jobd_host_t *host;
    int64_t jobs;
    int64_t fail_attempts;
    char *error;
} s_failer_t;

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    (void)reason, (void)reason_size;
    s_failer_t *self = (s_failer_t *)zmalloc (sizeof (s_failer_t));
    self->host = host;
    self->jobs = host->config_int (host, "jobs", 100);
    self->fail_attempts = host->config_int (host, "fail_attempts", 1);
    const char *error = host->config_str (host, "error");
    self->error = strdup (error && *error ? error : "failed");
    *state_p = self;
    return 0;
}

static void
s_destroy (void **state_p)
{
    if (state_p && *state_p) {
        s_failer_t *self = (s_failer_t *)*state_p;
        free (self->error);
        free (self);
        *state_p = NULL;
    }
}

static void
s_send (s_failer_t *self, zsock_t *bus, jobd_event_t *event)
{
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_plugin_send (bus, event);
    jobd_event_destroy (&event);
}

static void
s_submit_all (s_failer_t *self, zsock_t *bus)
{
    for (int64_t index = 0; index < self->jobs; index++) {
        jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
        jobd_event_set (&submit->kind, "failer");
        jobd_event_set (&submit->backend, "failer");
        jobd_event_set (&submit->spec, "{\"kind\":\"failer\"}");
        s_send (self, bus, submit);
    }
}

//  RUNNING, then FAILED or SUCCEEDED, for the job's attempt.
static void
s_run_job (s_failer_t *self, zsock_t *bus, const jobd_event_t *queued)
{
    bool fails = (int64_t)queued->attempt <= self->fail_attempts;
    for (int step = 0; step < 2; step++) {
        jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
        jobd_event_set (&observed->job, queued->job);
        observed->attempt = queued->attempt;
        observed->state = step == 0 ? JOBD_STATE_RUNNING
                          : fails   ? JOBD_STATE_FAILED
                                    : JOBD_STATE_SUCCEEDED;
        if (step == 1 && fails)
            jobd_event_set (&observed->error, self->error);
        s_send (self, bus, observed);
    }
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    (void)host;
    s_failer_t *self = (s_failer_t *)state;
    zsock_set_subscribe (events, "job.QUEUED.");
    zpoller_t *poller = zpoller_new (pipe, events, bus, NULL);
    while (true) {
        zsock_t *which = (zsock_t *)zpoller_wait (poller, -1);
        if (!which || which == pipe)
            break; //  $TERM, or interrupted
        zmsg_t *msg = zmsg_recv (which);
        zframe_t *payload = which == events && zmsg_size (msg) == 2 ? zmsg_last (msg) : NULL;
        jobd_event_t *event = NULL;
        if (payload &&
            jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) ==
                0 &&
            event->kind) {
            if (strcmp (event->kind, "failer.go") == 0)
                s_submit_all (self, bus);
            else if (strcmp (event->kind, "failer") == 0)
                s_run_job (self, bus, event);
        }
        jobd_event_destroy (&event);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return 0;
}

JOBD_PLUGIN_DEFINE (.name = "failer", .version = "1.0.0",
                    .description = "test: a pretend backend whose jobs fail, then succeed",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy,
                    .kinds = s_kinds);
