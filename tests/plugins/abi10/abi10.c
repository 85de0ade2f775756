//  Test plugin "abi10": built against the frozen ABI 1.0 header (jobd_plugin.h, a verbatim copy
//  of the first one, in this folder), as a plugin deployed before any minor was appended is. It
//  must load and run in any later jobd of major 1: it reads a job through the 1.0 host table
//  (job_get, job_scan), reports what it read in a plugin.status event, and stops on $TERM.
#include "jobd_plugin.h"
#include <string.h>

//  The include path puts this folder first: this is the 1.0 header, not include/'s.
_Static_assert(JOBD_PLUGIN_ABI_MAJOR == 1 && JOBD_PLUGIN_ABI_MINOR == 0, "not the 1.0 header");

static const jobd_conf_key_t s_config[] = {
    {"job", JOBD_CONF_STRING, "", "a job id to read at start, reported in the status detail"},
    {NULL, 0, NULL, NULL}};

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    //  A 1.0 plugin can only check that the host table is at least as big as the one it knows.
    if (host->size < sizeof (jobd_host_t) || host->abi_major != JOBD_PLUGIN_ABI_MAJOR) {
        snprintf (reason, reason_size, "host table of ABI %u.%u, size %u", host->abi_major,
                  host->abi_minor, host->size);
        return JOBD_EABI;
    }
    return 0;
}

static bool
s_count_one (const jobd_job_t *job, void *arg)
{
    (*(size_t *)arg)++;
    return true;
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    char detail[512] = "no job";
    const char *id = host->config_str (host, "job");
    if (id && *id) {
        jobd_job_t *job = NULL;
        size_t count = 0;
        int rc = host->job_get (host, id, &job);
        host->job_scan (host, 0, s_count_one, &count);
        if (rc == 0)
            snprintf (detail, sizeof detail, "job %s kind %s state %s, %zu jobs", job->id,
                      job->kind, jobd_state_name (job->state), count);
        else
            snprintf (detail, sizeof detail, "job %s: %s", id, jobd_strerror (rc));
        jobd_job_destroy (&job);
    }
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&event->source, host->plugin_name);
    jobd_event_set (&event->name, host->plugin_name);
    jobd_event_set (&event->status, "running");
    jobd_event_set (&event->detail, detail);
    int rc = jobd_plugin_send (bus, event);
    jobd_event_destroy (&event);
    char *command = zstr_recv (pipe); //  $TERM (or anything) stops it
    zstr_free (&command);
    return rc;
}

JOBD_PLUGIN_DEFINE (.name = "abi10", .version = "1.0.0",
                    .description = "test: built against the plugin ABI 1.0 header",
                    .config = s_config, .init = s_init, .run = s_run);
