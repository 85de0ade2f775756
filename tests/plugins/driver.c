//  Test plugin "driver": a deterministic stream of observations for tests and benchmarks.
//  For i in 1..jobs: track ext "drv-i" as SUBMITTED, observe RUNNING, observe SUCCEEDED. Sent
//  again from the start after a restart: every repeat must be harmless.
#include "jobd_plugin.h"
#include <string.h>

static const jobd_conf_key_t s_config[] = {
    {"jobs", JOBD_CONF_INT, "100", "jobs to drive"},
    {"start", JOBD_CONF_BOOL, "true", "false: start when a job of kind 'driver.go' is queued"},
    {"cursor", JOBD_CONF_STRING, "", "a transition log cursor to set at the head, never moved"},
    {NULL, 0, NULL, NULL}};

typedef struct {
    const jobd_host_t *host;
    int64_t jobs;
    bool start;
} s_driver_t;

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    s_driver_t *self = (s_driver_t *)zmalloc (sizeof (s_driver_t));
    self->host = host;
    self->jobs = host->config_int (host, "jobs", 100);
    self->start = host->config_int (host, "start", 1) != 0;
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

//  Sends one event; keeps reading the pipe so that $TERM is never kept waiting.
static bool
s_send (s_driver_t *self, zsock_t *pipe, zsock_t *bus, jobd_event_t *event)
{
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_plugin_send (bus, event);
    jobd_event_destroy (&event);
    return !(zsock_events (pipe) & ZMQ_POLLIN);
}

static void
s_drive (s_driver_t *self, zsock_t *pipe, zsock_t *bus)
{
    static const jobd_state_t steps[] = {JOBD_STATE_RUNNING, JOBD_STATE_SUCCEEDED};
    for (int64_t index = 1; index <= self->jobs; index++) {
        char ext[32];
        snprintf (ext, sizeof ext, "drv-%" PRId64, index);
        jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
        jobd_event_set (&track->kind, "test");
        jobd_event_set (&track->backend, "driver");
        jobd_event_set (&track->ext, ext);
        if (!s_send (self, pipe, bus, track))
            return;
        for (size_t step = 0; step < 2; step++) {
            jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
            jobd_event_set (&observed->backend, "driver");
            jobd_event_set (&observed->ext, ext);
            observed->state = steps[step];
            if (!s_send (self, pipe, bus, observed))
                return;
        }
    }
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    s_driver_t *self = (s_driver_t *)state;
    zsock_set_subscribe (events, "job.QUEUED.");
    const char *cursor = host->config_str (host, "cursor");
    if (cursor && *cursor) {
        //  A reader that never moves: the log's idle-cursor expiry has something to expire.
        jobd_event_t *event = jobd_event_new (JOBD_EVENT_CURSOR);
        jobd_event_set (&event->name, cursor);
        s_send (self, pipe, bus, event);
    }
    if (self->start)
        s_drive (self, pipe, bus);
    zpoller_t *poller = zpoller_new (pipe, events, bus, NULL);
    while (true) {
        zsock_t *which = (zsock_t *)zpoller_wait (poller, -1);
        zmsg_t *msg = which ? zmsg_recv (which) : NULL;
        char *first = msg ? zmsg_popstr (msg) : NULL;
        bool stop = which == pipe && (!first || strcmp (first, "$TERM") == 0);
        bool go = false;
        zframe_t *payload = which == events && msg ? zmsg_first (msg) : NULL;
        jobd_event_t *event = NULL;
        if (payload &&
            jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) == 0)
            go = event->kind && strcmp (event->kind, "driver.go") == 0;
        jobd_event_destroy (&event);
        zstr_free (&first);
        zmsg_destroy (&msg);
        if (stop || !which)
            break;
        if (go)
            s_drive (self, pipe, bus);
    }
    zpoller_destroy (&poller);
    return 0;
}

JOBD_PLUGIN_DEFINE (.name = "driver", .version = "1.0.0",
                    .description = "test: drives jobs through track, RUNNING, SUCCEEDED",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy);
