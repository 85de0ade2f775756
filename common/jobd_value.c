//  Typed values as jobd reads them: durations, sizes, booleans and integers (jobd_value.h).
#include "jobd_value.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
jobd_config_parse_value (jobd_conf_type_t type, const char *text, int64_t *value_p)
{
    if (type == JOBD_CONF_STRING) {
        *value_p = 0;
        return 0;
    }
    if (type == JOBD_CONF_BOOL) {
        static const char *yes[] = {"true", "yes", "on", "1"};
        static const char *no[] = {"false", "no", "off", "0"};
        for (size_t index = 0; index < 4; index++) {
            if (strcasecmp (text, yes[index]) == 0)
                return *value_p = 1, 0;
            if (strcasecmp (text, no[index]) == 0)
                return *value_p = 0, 0;
        }
        return JOBD_ECONFIG;
    }
    errno = 0;
    char *end = NULL;
    long long number = strtoll (text, &end, 10);
    if (end == text || errno == ERANGE)
        return JOBD_ECONFIG;
    while (*end == ' ')
        end++;
    long long scale = 1;
    if (type == JOBD_CONF_INT) {
        if (*end)
            return JOBD_ECONFIG;
    } else if (type == JOBD_CONF_DURATION) {
        static const struct {
            const char *unit;
            long long ms;
        } units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
        size_t index;
        for (index = 0; index < sizeof units / sizeof units[0]; index++)
            if (strcmp (end, units[index].unit) == 0)
                break;
        if (index == sizeof units / sizeof units[0] || number < 0)
            return JOBD_ECONFIG;
        scale = units[index].ms;
    } else if (type == JOBD_CONF_SIZE) {
        static const struct {
            const char *unit;
            long long bytes;
        } units[] = {{"", 1},           {"b", 1},           {"k", 1024},        {"kb", 1024},
                     {"kib", 1024},     {"m", 1048576},     {"mb", 1048576},    {"mib", 1048576},
                     {"g", 1073741824}, {"gb", 1073741824}, {"gib", 1073741824}};
        size_t index;
        for (index = 0; index < sizeof units / sizeof units[0]; index++)
            if (strcasecmp (end, units[index].unit) == 0)
                break;
        if (index == sizeof units / sizeof units[0] || number < 0)
            return JOBD_ECONFIG;
        scale = units[index].bytes;
    } else
        return JOBD_ECONFIG;
    if (number != 0 && (number > LLONG_MAX / scale || number < LLONG_MIN / scale))
        return JOBD_ECONFIG;
    *value_p = number * scale;
    return 0;
}
