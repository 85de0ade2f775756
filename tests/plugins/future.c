//  Test plugin "future": a descriptor from a newer minor of this major, with a field appended
//  that this jobd does not know. The loader must read only what it knows, and run it.
#include "jobd_plugin.h"

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    return 0;
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    char *command = zstr_recv (pipe); //  $TERM (or anything) stops it
    zstr_free (&command);
    return 0;
}

//  The descriptor of a later minor: today's fields, then one more.
typedef struct {
    jobd_plugin_t known;
    int (*appended) (void *state);
} s_future_plugin_t;

JOBD_PLUGIN_EXPORT const s_future_plugin_t jobd_plugin = {
    .known = {.abi_major = JOBD_PLUGIN_ABI_MAJOR,
              .abi_minor = JOBD_PLUGIN_ABI_MINOR + 1,
              .size = sizeof (s_future_plugin_t),
              .name = "future",
              .version = "0.0.1",
              .description = "test: a descriptor of a newer minor",
              .init = s_init,
              .run = s_run},
    .appended = NULL};
