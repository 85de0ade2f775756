//  Fuzz target: the CURVE certificate reader (ZPL text -> public and secret keys).
#include "jobd_cert.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf (path, sizeof path, "/tmp/jobd-fuzz-cert-%d", (int)getpid ());
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return 0;
    ssize_t written = write (fd, data, size);
    close (fd);
    if (written != (ssize_t)size)
        return 0;
    char reason[512];
    zcert_t *cert = NULL;
    if (jobd_cert_load_public (path, "fuzz", &cert, reason, sizeof reason) == 0)
        zcert_destroy (&cert);
    if (jobd_cert_load_secret (path, "fuzz", &cert, reason, sizeof reason) == 0)
        zcert_destroy (&cert);
    return 0;
}
