//  One-line causes out of failure texts: Spark stack traces, Livy logs, YARN diagnostics, any
//  producer's error (see jobd_cause.h).
#include "jobd_cause.h"
#include "jobd_utf8.h"
#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

//  One line of the text: [start, start + length), without its newline.
typedef struct {
    const char *start;
    size_t length;
} s_line_t;

//  Which lines a rule reads.
typedef enum {
    S_LINES_ALL, //  every line
    S_LINES_LIVY //  Livy's log: no stdout:/stderr: markers, no INFO/WARN/DEBUG/TRACE log lines
} s_lines_t;

static bool
s_next_line (const char **cursor, s_line_t *line)
{
    const char *at = *cursor;
    if (!at || !*at)
        return false;
    size_t length = strcspn (at, "\n");
    line->start = at;
    line->length = length;
    *cursor = at[length] ? at + length + 1 : at + length;
    return true;
}

//  Spaces and control characters: what a cause never starts or ends with.
static bool
s_blank_char (char c)
{
    return isspace ((unsigned char)c) || (unsigned char)c < 0x20 || c == 0x7f;
}

static bool
s_blank (const char *text, size_t length)
{
    for (size_t index = 0; index < length; index++)
        if (!s_blank_char (text[index]))
            return false;
    return true;
}

static void
s_trim_start (s_line_t *line)
{
    while (line->length && isspace ((unsigned char)*line->start)) {
        line->start++;
        line->length--;
    }
}

static bool
s_starts (const s_line_t *line, const char *prefix)
{
    size_t length = strlen (prefix);
    return line->length >= length && memcmp (line->start, prefix, length) == 0;
}

//  Whether the word (a log4j level) stands alone in the first 64 bytes of the line.
static bool
s_has_level (const s_line_t *line, const char *level)
{
    size_t length = strlen (level), limit = line->length < 64 ? line->length : 64;
    for (size_t at = 0; at + length <= limit; at++)
        if (memcmp (line->start + at, level, length) == 0 &&
            (at == 0 || line->start[at - 1] == ' ') &&
            (at + length == line->length || line->start[at + length] == ' '))
            return true;
    return false;
}

//  Cuts Livy's markers off the line; false when the line is not to be read at all.
static bool
s_livy_line (s_line_t *line)
{
    s_trim_start (line);
    if (s_starts (line, "stdout:") || s_starts (line, "stderr:")) {
        line->start += 7;
        line->length -= 7;
        s_trim_start (line);
    }
    return !(s_has_level (line, "INFO") || s_has_level (line, "WARN") ||
             s_has_level (line, "DEBUG") || s_has_level (line, "TRACE"));
}

static bool
s_word_char (char c)
{
    return isalnum ((unsigned char)c) || c == '_' || c == '$' || c == '.';
}

static bool
s_ends_with (const char *word, size_t length, const char *suffix)
{
    size_t suffix_length = strlen (suffix);
    return length >= suffix_length &&
           memcmp (word + length - suffix_length, suffix, suffix_length) == 0;
}

//  Where the line's first exception name starts (its package left out), or NULL: a word ending
//  in Exception, Error or Throwable, its last part capitalised, followed by ':' or the line's end.
static const char *
s_exception (const s_line_t *line)
{
    const char *end = line->start + line->length;
    while (end > line->start && s_blank_char (end[-1]))
        end--; //  as s_write trims it: a name at the end of what is written is at the line's end
    for (const char *at = line->start; at < end; at++) {
        if (!s_word_char (*at) || (at > line->start && s_word_char (at[-1])))
            continue;
        const char *word_end = at;
        while (word_end < end && s_word_char (*word_end))
            word_end++;
        size_t length = (size_t)(word_end - at);
        const char *simple = at;
        for (const char *dot = at; dot < word_end; dot++)
            if (*dot == '.')
                simple = dot + 1;
        bool named = s_ends_with (at, length, "Exception") || s_ends_with (at, length, "Error") ||
                     s_ends_with (at, length, "Throwable");
        bool follows = word_end == end || *word_end == ':';
        //  Packages are lower-case: "Outer.Inner" keeps its outer class.
        bool package = true;
        for (const char *part = at; part < simple; part++)
            if ((part == at || part[-1] == '.') && !islower ((unsigned char)*part))
                package = false;
        if (named && follows && simple < word_end && isupper ((unsigned char)*simple))
            return package ? simple : at;
        at = word_end - 1;
    }
    return NULL;
}

//  Writes [from, end of line) into cause as one line: control characters as spaces, trailing
//  space trimmed, cut at JOBD_CAUSE_CUT (or size) on a UTF-8 boundary with "...".
static size_t
s_write (const s_line_t *line, const char *from, char *cause, size_t size)
{
    assert (cause && size >= 4);
    size_t length = (size_t)(line->start + line->length - from);
    while (length && s_blank_char (from[length - 1]))
        length--;
    while (length && s_blank_char (*from)) {
        from++;
        length--;
    }
    size_t max = size - 1 < JOBD_CAUSE_CUT ? size - 1 : JOBD_CAUSE_CUT;
    size_t kept = length;
    bool cut = length > max;
    if (cut)
        kept = jobd_utf8_cut (from, length, max - 3);
    for (size_t index = 0; index < kept; index++) {
        unsigned char c = (unsigned char)from[index];
        cause[index] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    if (cut) {
        memcpy (cause + kept, "...", 3);
        kept += 3;
    }
    cause[kept] = 0;
    return kept;
}

static bool
s_readable (s_line_t *line, s_lines_t lines)
{
    if (lines == S_LINES_LIVY && !s_livy_line (line))
        return false;
    return !s_blank (line->start, line->length);
}

//  An exception quoted in brackets ("failed (java.io.IOException: x)"): cuts the line's closing
//  brackets that the exception did not open. Returns at.
static const char *
s_unquote (s_line_t *line, const char *at)
{
    const char *before = at;
    while (before > line->start && s_word_char (before[-1]))
        before--; //  to the package's start
    if (before == line->start || (before[-1] != '(' && before[-1] != '['))
        return at;
    char open = before[-1], close = open == '(' ? ')' : ']';
    const char *end = line->start + line->length;
    while (end > at && s_blank_char (end[-1]))
        end--;
    int depth = 0;
    for (const char *cursor = at; cursor < end; cursor++)
        depth += *cursor == open ? 1 : *cursor == close ? -1 : 0;
    while (depth < 0 && end > at && end[-1] == close) {
        end--;
        depth++;
    }
    line->length = (size_t)(end - line->start);
    return at;
}

//  The first exception line, or with deepest the last "Caused by:" one when there is one.
static size_t
s_exception_rule (const char *text, s_lines_t lines, bool deepest, char *cause, size_t size)
{
    s_line_t line, found = {NULL, 0};
    const char *found_at = NULL, *cursor = text;
    while (s_next_line (&cursor, &line)) {
        if (!s_readable (&line, lines))
            continue;
        s_trim_start (&line);
        if (s_starts (&line, "at "))
            continue; //  a stack frame
        bool caused = s_starts (&line, "Caused by:");
        const char *at = s_exception (&line);
        if (at && (!found_at || (deepest && caused))) {
            found = line;
            found_at = at;
            if (!deepest)
                break;
        }
    }
    return found_at ? s_write (&found, s_unquote (&found, found_at), cause, size) : 0;
}

static size_t
s_first_line (const char *text, s_lines_t lines, char *cause, size_t size)
{
    s_line_t line;
    const char *cursor = text;
    while (s_next_line (&cursor, &line))
        if (s_readable (&line, lines))
            return s_write (&line, line.start, cause, size);
    return 0;
}

static size_t
s_none (char *cause, size_t size)
{
    assert (cause && size >= 4);
    cause[0] = 0;
    return 0;
}

//  An exception line (the first, or with deepest the last "Caused by:"), else the first line.
static size_t
s_exception_or_first (const char *text, bool deepest, char *cause, size_t size)
{
    size_t length = s_none (cause, size);
    if (text)
        length = s_exception_rule (text, S_LINES_ALL, deepest, cause, size);
    if (text && !length)
        length = s_first_line (text, S_LINES_ALL, cause, size);
    return length;
}

size_t
jobd_cause_generic (const char *text, char *cause, size_t size)
{
    return s_exception_or_first (text, false, cause, size);
}

size_t
jobd_cause_spark (const char *text, char *cause, size_t size)
{
    //  The deepest exception, else the first line: the generic rule's fallback (its first
    //  exception would be the deepest's fallback too, and there is none).
    return s_exception_or_first (text, true, cause, size);
}

//  The last line of Livy's log that says ERROR (the text after the level) or starts "Error".
static size_t
s_livy_error (const char *text, char *cause, size_t size)
{
    s_line_t line, found = {NULL, 0};
    const char *found_at = NULL, *cursor = text;
    while (s_next_line (&cursor, &line)) {
        if (!s_readable (&line, S_LINES_LIVY))
            continue;
        const char *level = NULL;
        for (size_t at = 0; at + 6 <= line.length && at < 64 && !level; at++)
            if (memcmp (line.start + at, "ERROR ", 6) == 0 &&
                (at == 0 || line.start[at - 1] == ' '))
                level = line.start + at + 6;
        if (level || s_starts (&line, "Error")) {
            found = line;
            found_at = level ? level : line.start;
        }
    }
    return found_at ? s_write (&found, found_at, cause, size) : 0;
}

size_t
jobd_cause_livy_log (const char *text, char *cause, size_t size)
{
    size_t length = s_none (cause, size);
    if (!text)
        return 0;
    length = s_exception_rule (text, S_LINES_LIVY, true, cause, size);
    if (!length)
        length = s_livy_error (text, cause, size);
    if (!length)
        length = s_first_line (text, S_LINES_LIVY, cause, size);
    return length ? length : jobd_cause_generic (text, cause, size);
}

size_t
jobd_cause_yarn (const char *text, char *cause, size_t size)
{
    return s_exception_or_first (text, true, cause, size);
}
