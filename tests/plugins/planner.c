//  Test plugin "planner": a stand-in for the retry plugin's decisions. For each job that fails
//  (a `job.FAILED.` transition) it sends a retry.plan RETRY_WAIT due `wait` ms after the failure,
//  in the failed attempt (class "test", policy "planner"): the core's part of retries (the plan's
//  commit, the durable timer, its firing) tested with the real jobd, without the retry plugin.
#include "jobd_plugin.h"
#include <string.h>

static const jobd_conf_key_t s_config[] = {
    {"wait", JOBD_CONF_INT, "1000", "ms from a failure to its retry's due time"},
    {NULL, 0, NULL, NULL}};

typedef struct {
    const jobd_host_t *host;
    int64_t wait;
} s_planner_t;

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    s_planner_t *self = (s_planner_t *)zmalloc (sizeof (s_planner_t));
    self->host = host;
    self->wait = host->config_int (host, "wait", 1000);
    *state_p = self;
    return 0;
}

static void
s_destroy (void **state_p)
{
    if (state_p && *state_p) {
        free (*state_p);
        *state_p = NULL;
    }
}

//  The plan for one failure, sent on the bus.
static void
s_plan (s_planner_t *self, zsock_t *bus, const jobd_event_t *failed)
{
    jobd_event_t *plan = jobd_event_new (JOBD_EVENT_RETRY_PLAN);
    jobd_event_set (&plan->source, self->host->plugin_name);
    jobd_event_set (&plan->job, failed->job);
    jobd_event_set (&plan->failure_class, "test");
    jobd_event_set (&plan->policy, "planner");
    plan->attempt = failed->attempt;
    plan->state = JOBD_STATE_RETRY_WAIT;
    plan->due = failed->ts + self->wait;
    jobd_plugin_send (bus, plan);
    jobd_event_destroy (&plan);
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    s_planner_t *self = (s_planner_t *)state;
    zsock_set_subscribe (events, "job.FAILED.");
    zpoller_t *poller = zpoller_new (pipe, events, bus, NULL);
    while (true) {
        zsock_t *which = (zsock_t *)zpoller_wait (poller, -1);
        zmsg_t *msg = which ? zmsg_recv (which) : NULL;
        char *first = msg ? zmsg_popstr (msg) : NULL;
        bool stop = which == pipe && (!first || strcmp (first, "$TERM") == 0);
        zframe_t *payload = which == events && msg ? zmsg_first (msg) : NULL;
        jobd_event_t *event = NULL;
        if (payload &&
            jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) ==
                0 &&
            event->type == JOBD_EVENT_TRANSITION && event->state == JOBD_STATE_FAILED)
            s_plan (self, bus, event);
        jobd_event_destroy (&event);
        zstr_free (&first);
        zmsg_destroy (&msg);
        if (stop || !which)
            break;
    }
    zpoller_destroy (&poller);
    return 0;
}

JOBD_PLUGIN_DEFINE (.name = "planner", .version = "1.0.0",
                    .description = "test: plans a retry of each failed job, due `wait` ms later",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy);
