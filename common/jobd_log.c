//  Logging: one line per message on stderr, with time, level and source; as text (the default)
//  or as JSON (one object a line), with the syslog priority prefix journald reads when stderr is
//  the journal (systemd sets JOURNAL_STREAM). Libraries that write their own lines (CZMQ's
//  zconfig, through jobd_log_stream) come through here too, in the same format.
#include "jobd_log.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static jobd_log_level_t s_level = JOBD_LOG_INFO;
static bool s_json;
static int s_journal = -1; //  -1: not looked at yet
static const char *s_names[] = {"error", "warn", "info", "debug"};
static const char *s_priorities[] = {"<3>", "<4>", "<6>", "<7>"}; //  sd-daemon(3)

void
jobd_log_set_level (jobd_log_level_t level)
{
    s_level = level;
}

int
jobd_log_level_parse (const char *name, jobd_log_level_t *level_p)
{
    for (int level = JOBD_LOG_ERROR; level <= JOBD_LOG_DEBUG; level++)
        if (strcmp (name, s_names[level]) == 0) {
            *level_p = (jobd_log_level_t)level;
            return 0;
        }
    return JOBD_ECONFIG;
}

int
jobd_log_set_format (const char *name)
{
    if (strcmp (name, "text") && strcmp (name, "json"))
        return JOBD_ECONFIG;
    s_json = strcmp (name, "json") == 0;
    return 0;
}

//  Whether stderr is the journal: JOURNAL_STREAM ("DEVICE:INODE") names stderr's file.
static bool
s_to_journal (void)
{
    if (s_journal >= 0)
        return s_journal;
    const char *stream = getenv ("JOURNAL_STREAM");
    unsigned long long device = 0, inode = 0;
    struct stat info;
    s_journal = stream && sscanf (stream, "%llu:%llu", &device, &inode) == 2 &&
                fstat (fileno (stderr), &info) == 0 && (unsigned long long)info.st_dev == device &&
                (unsigned long long)info.st_ino == inode;
    return s_journal;
}

//  Appends text to line (of size) as the inside of a JSON string.
static size_t
s_json_text (char *line, size_t used, size_t size, const char *text)
{
    for (const unsigned char *at = (const unsigned char *)text; *at && used + 7 < size; at++) {
        if (*at == '"' || *at == '\\') {
            line[used++] = '\\';
            line[used++] = (char)*at;
        } else if (*at < 0x20 || *at == 0x7f)
            used += (size_t)snprintf (line + used, size - used, "\\u%04x", *at);
        else
            line[used++] = (char)*at;
    }
    line[used] = 0;
    return used;
}

void
jobd_logv (jobd_log_level_t level, const char *source, const char *format, va_list args)
{
    if (level > s_level || level < JOBD_LOG_ERROR)
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    char when[40], message[2048], line[4608];
    snprintf (when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
    vsnprintf (message, sizeof message, format, args);
    const char *priority = s_to_journal () ? s_priorities[level] : "";
    if (s_json) {
        size_t used =
            (size_t)snprintf (line, sizeof line, "%s{\"ts\":\"%s\",\"level\":\"%s\",\"source\":\"",
                              priority, when, s_names[level]);
        used = s_json_text (line, used, sizeof line - 16, source);
        used += (size_t)snprintf (line + used, sizeof line - used, "\",\"msg\":\"");
        used = s_json_text (line, used, sizeof line - 4, message);
        snprintf (line + used, sizeof line - used, "\"}");
    } else if (*priority)
        //  The journal stamps each line itself (journalctl -o short-iso-precise shows it to the
        //  microsecond): a second time in the text would only be noise.
        snprintf (line, sizeof line, "%s%-5s %s: %s", priority, s_names[level], source, message);
    else
        snprintf (line, sizeof line, "%s %-5s %s: %s", when, s_names[level], source, message);
    //  One fputs per line: stdio's lock keeps lines from different threads whole.
    flockfile (stderr);
    fputs (line, stderr);
    fputc ('\n', stderr);
    funlockfile (stderr);
}

void
jobd_log_set_journal (bool journal)
{
    s_journal = journal;
}

void
jobd_log (jobd_log_level_t level, const char *source, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    jobd_logv (level, source, format, args);
    va_end (args);
}

//  A stream whose lines become log lines: CZMQ writes "YY-MM-DD HH:MM:SS L (IDENT): message"
//  (L one of E W N I D T; the ident may be absent: "L: message"), read back as level and
//  message.
typedef struct {
    char source[32];
    char line[2048];
    size_t used;
} s_stream_t;

//  Past CZMQ's own local time ("26-12-03 15:39:08 "), if text starts with one: jobd's line has
//  its own, in UTC.
static const char *
s_skip_date (const char *text)
{
    if (strlen (text) > 18 && text[2] == '-' && text[5] == '-' && text[8] == ' ' &&
        text[11] == ':' && text[14] == ':' && text[17] == ' ')
        return text + 18;
    return text;
}

//  The last stream made: a library keeps it for the process's life (CZMQ until its atexit
//  shutdown forgets it), so it is held here too, and not a leak.
static s_stream_t *s_kept;

static void
s_stream_line (s_stream_t *self)
{
    self->line[self->used] = 0;
    const char *text = s_skip_date (self->line);
    jobd_log_level_t level = JOBD_LOG_INFO;
    if (text[0] && strchr ("EWNIDT", text[0]) && (text[1] == ':' || text[1] == ' ')) {
        level = text[0] == 'E'                     ? JOBD_LOG_ERROR
                : text[0] == 'W'                   ? JOBD_LOG_WARN
                : text[0] == 'D' || text[0] == 'T' ? JOBD_LOG_DEBUG
                                                   : JOBD_LOG_INFO;
        text += text[1] == ':' ? 2 : 1;
        while (*text == ' ')
            text++;
        text = s_skip_date (text);
    }
    if (*text)
        jobd_log (level, self->source, "%s", text);
    self->used = 0;
}

static ssize_t
s_stream_write (void *cookie, const char *data, size_t size)
{
    s_stream_t *self = (s_stream_t *)cookie;
    for (size_t index = 0; index < size; index++) {
        if (data[index] == '\n' || self->used == sizeof self->line - 1)
            s_stream_line (self);
        if (data[index] != '\n')
            self->line[self->used++] = data[index];
    }
    return (ssize_t)size;
}

static int
s_stream_close (void *cookie)
{
    s_stream_t *self = (s_stream_t *)cookie;
    if (self->used)
        s_stream_line (self);
    if (s_kept == self)
        s_kept = NULL;
    free (self);
    return 0;
}

FILE *
jobd_log_stream (const char *source)
{
    s_stream_t *self = (s_stream_t *)calloc (1, sizeof (s_stream_t));
    if (!self)
        return NULL;
    s_kept = self;
    snprintf (self->source, sizeof self->source, "%s", source);
    cookie_io_functions_t functions = {.write = s_stream_write, .close = s_stream_close};
    FILE *stream = fopencookie (self, "w", functions);
    if (!stream)
        free (self);
    else
        setvbuf (stream, NULL, _IOLBF, 0);
    return stream;
}
