//  Test plugin "failinit": its init always fails, with a reason the operator can read.
#include "jobd_plugin.h"

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    snprintf (reason, reason_size, "failinit refuses to start (as designed)");
    return JOBD_ECONFIG;
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    return 0;
}

JOBD_PLUGIN_DEFINE (.name = "failinit", .version = "0.0.1", .description = "test: init fails",
                    .init = s_init, .run = s_run);
