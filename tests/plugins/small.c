//  Test plugin "small": a descriptor of major 1 smaller than ABI 1.0's (it ends before destroy):
//  not a descriptor of this major, the loader must refuse it with the reason.
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

JOBD_PLUGIN_EXPORT const jobd_plugin_t jobd_plugin = {.abi_major = JOBD_PLUGIN_ABI_MAJOR,
                                                      .abi_minor = 0,
                                                      .size = offsetof (jobd_plugin_t, destroy),
                                                      .name = "small",
                                                      .version = "0.0.1",
                                                      .init = s_init,
                                                      .run = s_run};
