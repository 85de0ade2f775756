//  Logging: one line per message on stderr, with time, level and source.
#ifndef JOBD_LOG_H_INCLUDED
#define JOBD_LOG_H_INCLUDED

#include "jobd_plugin.h"
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Sets the most verbose level written (default JOBD_LOG_INFO). Call before starting threads.
void jobd_log_set_level (jobd_log_level_t level);

//  Parses "error", "warn", "info" or "debug". Returns 0 and sets *level_p, or JOBD_ECONFIG.
int jobd_log_level_parse (const char *name, jobd_log_level_t *level_p);

//  Writes one line "TIME LEVEL source: message" to stderr when level is enabled. Thread-safe.
void jobd_log (jobd_log_level_t level, const char *source, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Same, with a va_list.
void jobd_logv (jobd_log_level_t level, const char *source, const char *format, va_list args);

#ifdef __cplusplus
}
#endif
#endif
