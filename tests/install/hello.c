//  An out-of-tree plugin, built by tests/install/install.sh against the installed headers and
//  SDK with nothing but `pkg-config jobd-plugin`: it reports its configured greeting as its
//  status, which `jobctl plugins` shows when the installed jobd loaded and runs it.
#include <jobd_plugin_sdk.h>
#include <stdio.h>
#include <stdlib.h>

static const jobd_conf_key_t s_config[] = {
    {"greeting", JOBD_CONF_STRING, "hello", "the word it reports as its status detail"},
    {NULL, 0, NULL, NULL}};

typedef struct {
    const jobd_host_t *host;
    jobd_sdk_status_t *status;
    zsock_t *bus;
    char detail[128];
} s_hello_t;

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    s_hello_t *self = (s_hello_t *)calloc (1, sizeof *self);
    if (!self) {
        snprintf (reason, reason_size, "out of memory");
        return -1;
    }
    self->host = host;
    snprintf (self->detail, sizeof self->detail, "%s from out of tree",
              host->config_str (host, "greeting"));
    *state_p = self;
    return 0;
}

//  Each turn: the status, sent when due (the SDK sends it once unless it changes).
static int64_t
s_tick (void *arg)
{
    s_hello_t *self = (s_hello_t *)arg;
    if (jobd_sdk_status_due (self->status, false))
        jobd_sdk_status_send (self->status, self->bus, "running", self->detail);
    return 1000;
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    s_hello_t *self = (s_hello_t *)state;
    self->bus = bus;
    self->status = jobd_sdk_status_new (host, 1000);
    if (self->status)
        jobd_sdk_status_send (self->status, bus, "running", self->detail);
    host->log (host, JOBD_LOG_INFO, "%s", self->detail);
    jobd_sdk_loop_t loop = {.tick = s_tick};
    jobd_sdk_loop_run (&loop, pipe, bus, events, self);
    jobd_sdk_status_destroy (&self->status);
    return 0;
}

static void
s_destroy (void **state_p)
{
    free (*state_p);
    *state_p = NULL;
}

JOBD_PLUGIN_DEFINE (.name = "hello", .version = "0.0.1",
                    .description = "test: an out-of-tree plugin built with pkg-config jobd-plugin",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy);
