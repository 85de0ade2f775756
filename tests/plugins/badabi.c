//  Test plugin "badabi": built for a plugin ABI major this jobd does not have.
#include "jobd_plugin.h"

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    return 0;
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    return 0;
}

JOBD_PLUGIN_EXPORT const jobd_plugin_t jobd_plugin = {.abi_major = JOBD_PLUGIN_ABI_MAJOR + 98,
                                                      .abi_minor = 0,
                                                      .size = sizeof (jobd_plugin_t),
                                                      .name = "badabi",
                                                      .version = "99.0.0",
                                                      .init = s_init,
                                                      .run = s_run};
