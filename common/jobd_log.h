//  Logging: one line per message on stderr, with time, level and source, as text or JSON.
#ifndef JOBD_LOG_H_INCLUDED
#define JOBD_LOG_H_INCLUDED

#include "jobd_plugin.h"
#include <stdarg.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Sets the most verbose level written (default JOBD_LOG_INFO). Call before starting threads.
void jobd_log_set_level (jobd_log_level_t level);

//  Parses "error", "warn", "info" or "debug". Returns 0 and sets *level_p, or JOBD_ECONFIG.
int jobd_log_level_parse (const char *name, jobd_log_level_t *level_p);

//  Sets the line format: "text" (the default) or "json". Returns 0, or JOBD_ECONFIG for another
//  name. Call before starting threads.
int jobd_log_set_format (const char *name);

//  Whether lines go to the journal (priority prefix, no time of their own): found from
//  JOURNAL_STREAM at the first line; tests set it.
void jobd_log_set_journal (bool journal);

//  Writes one line to stderr when level is enabled: "TIME LEVEL source: message" (TIME ISO 8601
//  UTC with milliseconds), or {"ts","level","source","msg"} as JSON; prefixed with the syslog
//  priority ("<3>" ...) when stderr is the journal (JOURNAL_STREAM). Thread-safe.
void jobd_log (jobd_log_level_t level, const char *source, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Same, with a va_list.
void jobd_logv (jobd_log_level_t level, const char *source, const char *format, va_list args);

//  A line-buffered stream whose lines become log lines of source (for a library that writes to
//  a FILE: CZMQ's zsys_set_logstream). CZMQ's "L: YY-MM-DD HH:MM:SS " (or "YY-MM-DD HH:MM:SS L
//  ") prefix gives the level and is dropped. NULL when out of memory. fclose frees it.
FILE *jobd_log_stream (const char *source);

#ifdef __cplusplus
}
#endif
#endif
