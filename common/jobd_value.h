//  Typed values as jobd reads them (durations, sizes, booleans, integers): the one parser of
//  the config file, its environment overrides, core/deadlines and the plugins' own settings
//  (the retry policy). Pure: no state, no I/O; a library of its own (jobd_value) that plugins
//  may link through the SDK without linking the rest of common/.
#ifndef JOBD_VALUE_H_INCLUDED
#define JOBD_VALUE_H_INCLUDED

#include "jobd_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Parses a value of the given type. Returns 0 and sets *value_p (ms for durations, bytes for
//  sizes, 0/1 for booleans; strings always parse), or JOBD_ECONFIG.
int jobd_config_parse_value (jobd_conf_type_t type, const char *text, int64_t *value_p);

#ifdef __cplusplus
}
#endif
#endif
