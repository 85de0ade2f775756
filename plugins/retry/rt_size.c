//  retry: memory sizes as Spark writes them (rt_size.h).
#include "rt_size.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_KIB (1024LL)
#define S_MIB (S_KIB * 1024)
#define S_PIB (S_MIB * 1024 * 1024 * 1024)

static const struct {
    const char *unit;
    int64_t bytes;
} s_units[] = {{"b", 1},
               {"k", S_KIB},
               {"kb", S_KIB},
               {"m", S_MIB},
               {"mb", S_MIB},
               {"g", S_MIB * 1024},
               {"gb", S_MIB * 1024},
               {"t", S_MIB * 1024 * 1024},
               {"tb", S_MIB * 1024 * 1024},
               {"p", S_PIB},
               {"pb", S_PIB}};

int
rt_size_parse (const char *text, int64_t *bytes_p)
{
    if (!text)
        return -1;
    while (isspace ((unsigned char)*text))
        text++;
    int64_t number = 0;
    const char *digit = text;
    //  Digits only, bounded: no sign, no fraction (Spark refuses "1.5g" too).
    for (; isdigit ((unsigned char)*digit); digit++) {
        if (number > S_PIB)
            return -1;
        number = number * 10 + (*digit - '0');
    }
    if (digit == text)
        return -1;
    const char *end = digit;
    while (isspace ((unsigned char)*end))
        end++;
    int64_t scale = S_MIB;
    size_t length = 0;
    while (end[length] && !isspace ((unsigned char)end[length]))
        length++;
    if (length) {
        size_t index;
        for (index = 0; index < sizeof s_units / sizeof s_units[0]; index++)
            if (strlen (s_units[index].unit) == length &&
                strncasecmp (end, s_units[index].unit, length) == 0)
                break;
        if (index == sizeof s_units / sizeof s_units[0])
            return -1;
        scale = s_units[index].bytes;
        end += length;
    }
    while (isspace ((unsigned char)*end))
        end++;
    if (*end || number > S_PIB / scale)
        return -1;
    *bytes_p = number * scale;
    return 0;
}

const char *
rt_size_format (int64_t bytes, char *out, size_t size)
{
    static const char *names = "tgmk";
    int64_t unit = S_MIB * 1024 * 1024;
    for (const char *name = names; *name; name++, unit /= 1024)
        if (bytes >= unit && bytes % unit == 0) {
            snprintf (out, size, "%lld%c", (long long)(bytes / unit), *name);
            return out;
        }
    snprintf (out, size, "%lldb", (long long)bytes);
    return out;
}
