//  Reasons: the one way proto/'s decoders and validators write why they refused something.
#include "jobd_proto_internal.h"
#include <stdarg.h>
#include <stdio.h>

void
jobd_proto_reason (char *reason, size_t reason_size, const char *format, ...)
{
    if (!reason || reason_size == 0)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (reason, reason_size, format, args);
    va_end (args);
}
