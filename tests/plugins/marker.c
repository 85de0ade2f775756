//  Test plugin "marker": its constructor, which runs at dlopen before any check of jobd's, writes
//  the file named by $JOBD_TEST_MARKER. A test that finds no such file knows none of it ran.
#include "jobd_plugin.h"
#include <stdlib.h>

__attribute__ ((constructor)) static void
s_constructor (void)
{
    const char *marker = getenv ("JOBD_TEST_MARKER");
    FILE *file = marker ? fopen (marker, "w") : NULL;
    if (file) {
        fputs ("the marker plugin's constructor ran\n", file);
        fclose (file);
    }
}

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    return 0;
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    zmsg_t *msg = zmsg_recv (pipe); //  $TERM (or anything) stops it
    zmsg_destroy (&msg);
    return 0;
}

JOBD_PLUGIN_DEFINE (.name = "marker", .version = "0.0.1",
                    .description = "test: a constructor that leaves a marker file", .init = s_init,
                    .run = s_run);
