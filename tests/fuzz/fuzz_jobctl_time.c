//  Fuzz target: jobctl's time and duration parser (ls --since, --until). A time it reads is
//  printed by jobctl's own formatter and read back to the same instant; a duration is never
//  negative nor past its bound.
#include "jobctl_print.h"
#include "jobctl_time.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    static bool once;
    if (!once) {
        unsetenv ("TZ"); //  UTC: the round trip below holds for any instant
        once = true;
    }
    char text[257];
    memcpy (text, data, size);
    text[size] = 0;
    char reason[512];
    int64_t ms;
    if (jobctl_duration_parse (text, &ms, reason, sizeof reason) == 0 &&
        (ms < 0 || ms > 100LL * 366 * 86400000LL))
        abort ();
    const int64_t now = 1796340600000LL;
    if (jobctl_time_parse (text, now, &ms, reason, sizeof reason) != 0)
        return 0;
    if (ms <= 0)
        return 0; //  before the epoch: printed as "-"
    char printed[64];
    int64_t again = -1;
    jobctl_format_time_ms (ms, printed, sizeof printed);
    if (jobctl_time_parse (printed, now, &again, reason, sizeof reason) != 0 || again != ms)
        abort ();
    return 0;
}
