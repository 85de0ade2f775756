//  jobd --check for plugins whose init has no side effect: init, then destroy.
#include "jobd_plugin_sdk.h"

int
jobd_sdk_check_init (const jobd_host_t *host,
                     int (*init) (const jobd_host_t *, void **, char *, size_t),
                     void (*destroy) (void **), char *reason, size_t reason_size)
{
    void *state = NULL;
    int rc = init (host, &state, reason, reason_size);
    if (rc == 0 && destroy)
        destroy (&state);
    return rc;
}
