//  spark-poller: a fast, strict JSON reader for big list bodies (see sp_jscan.h).
#include "sp_jscan.h"
#include "jobd_utf8.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

//  A byte a string holds as it is: not the quote, not a backslash, no control character.
static inline bool
s_plain (unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\';
}

static const char *
s_space (const char *at, const char *end)
{
    while (at < end && (*at == ' ' || *at == '\n' || *at == '\r' || *at == '\t'))
        at++;
    return at;
}

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  The four hex digits after "\u" at at, or -1.
static long
s_hex4 (const char *at)
{
    long code = 0;
    for (int index = 0; index < 4; index++) {
        int digit = s_hex (at[index]);
        if (digit < 0)
            return -1;
        code = code * 16 + digit;
    }
    return code;
}

//  Whether any of 8 bytes is a quote, a backslash or a control character (bit tricks from
//  "Bit Twiddling Hacks": a zero byte of v ^ c is a byte equal to c).
static inline bool
s_special8 (const char *at)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t v;
    memcpy (&v, at, 8);
    uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');
    uint64_t found =
        ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((v - ones * 0x20) & ~v);
    return (found & highs) != 0;
}

//  A string starting at its opening quote: the byte after its closing quote, or NULL. When
//  escaped is not NULL, it says whether the string has an escape.
static const char *
s_string (const char *at, const char *end, bool *escaped)
{
    at++;
    while (at < end) {
        while (end - at >= 8 && !s_special8 (at))
            at += 8;
        while (at < end && s_plain ((unsigned char)*at))
            at++;
        if (at >= end)
            return NULL;
        if (*at == '"')
            return at + 1;
        if (*at != '\\' || end - at < 2)
            return NULL; //  a control character, or a backslash at the end
        if (escaped)
            *escaped = true;
        char escape = at[1];
        if (escape == 'u') {
            if (end - at < 6 || s_hex4 (at + 2) < 0)
                return NULL;
            at += 6;
        } else if (escape && strchr ("\"\\/bfnrt", escape))
            at += 2;
        else
            return NULL;
    }
    return NULL;
}

static const char *
s_digits (const char *at, const char *end)
{
    const char *start = at;
    while (at < end && *at >= '0' && *at <= '9')
        at++;
    return at > start ? at : NULL;
}

static const char *
s_number (const char *at, const char *end)
{
    if (at < end && *at == '-')
        at++;
    if (at < end && *at == '0')
        at++;
    else if (!(at = s_digits (at, end)))
        return NULL;
    if (at < end && *at == '.' && !(at = s_digits (at + 1, end)))
        return NULL;
    if (at < end && (*at == 'e' || *at == 'E')) {
        at++;
        if (at < end && (*at == '+' || *at == '-'))
            at++;
        if (!(at = s_digits (at, end)))
            return NULL;
    }
    return at;
}

static sp_jtype_t
s_type (const char *at, const char *end)
{
    if (at >= end)
        return SP_JNONE;
    switch (*at) {
        case '"':
            return SP_JSTRING;
        case '{':
            return SP_JOBJECT;
        case '[':
            return SP_JARRAY;
        case 't':
            return SP_JTRUE;
        case 'f':
            return SP_JFALSE;
        case 'n':
            return SP_JNULL;
        default:
            return *at == '-' || (*at >= '0' && *at <= '9') ? SP_JNUMBER : SP_JNONE;
    }
}

static const char *s_value (const char *at, const char *end, int depth, sp_jobject_t *object);

//  An object or array starting at its bracket: the byte after its end, or NULL. An object's
//  members go into object when it is not NULL.
static const char *
s_container (const char *at, const char *end, int depth, sp_jobject_t *object)
{
    if (depth >= SP_JSCAN_DEPTH)
        return NULL;
    bool is_object = *at == '{';
    char close = is_object ? '}' : ']';
    if (object)
        object->count = 0;
    at = s_space (at + 1, end);
    if (at < end && *at == close)
        return at + 1;
    while (at < end) {
        const char *key = at;
        bool escaped = false;
        if (is_object) {
            if (*at != '"' || !(at = s_string (at, end, &escaped)))
                return NULL;
            const char *key_end = at;
            at = s_space (at, end);
            if (at >= end || *at != ':')
                return NULL;
            at = s_space (at + 1, end);
            if (object && object->count < SP_JMEMBERS) {
                object->member[object->count].key =
                    (sp_jvalue_t){SP_JSTRING, key, (size_t)(key_end - key)};
                object->member[object->count].value = (sp_jvalue_t){s_type (at, end), at, 0};
                object->member[object->count].escaped = escaped;
            }
        }
        const char *value = at;
        if (!(at = s_value (at, end, depth + 1, NULL)))
            return NULL;
        if (is_object && object && object->count < SP_JMEMBERS)
            object->member[object->count++].value.size = (size_t)(at - value);
        at = s_space (at, end);
        if (at < end && *at == close)
            return at + 1;
        if (at >= end || *at != ',')
            return NULL;
        at = s_space (at + 1, end);
    }
    return NULL;
}

//  A value starting at at (no space before it): the byte after it, or NULL.
static const char *
s_value (const char *at, const char *end, int depth, sp_jobject_t *object)
{
    static const struct {
        sp_jtype_t type;
        const char *text;
    } literals[] = {{SP_JTRUE, "true"}, {SP_JFALSE, "false"}, {SP_JNULL, "null"}};
    sp_jtype_t type = s_type (at, end);
    switch (type) {
        case SP_JSTRING:
            return s_string (at, end, NULL);
        case SP_JOBJECT:
        case SP_JARRAY:
            return s_container (at, end, depth, object);
        case SP_JNUMBER:
            return s_number (at, end);
        case SP_JNONE:
            return NULL;
        default:
            for (size_t index = 0; index < 3; index++) {
                size_t length = strlen (literals[index].text);
                if (literals[index].type == type && (size_t)(end - at) >= length &&
                    memcmp (at, literals[index].text, length) == 0)
                    return at + length;
            }
            return NULL;
    }
}

bool
sp_jscan_check (const char *body, size_t size)
{
    if (!body)
        return false;
    const char *end = body + size;
    const char *at = s_value (s_space (body, end), end, 0, NULL);
    return at && s_space (at, end) == end;
}

void
sp_jscan_init (sp_jscan_t *self, const char *body, size_t size)
{
    self->at = body;
    self->end = body ? body + size : body;
    self->failed = !body;
    self->first = false;
}

static bool
s_fail (sp_jscan_t *self)
{
    self->failed = true;
    return false;
}

sp_jtype_t
sp_jscan_peek (sp_jscan_t *self)
{
    if (self->failed)
        return SP_JNONE;
    self->at = s_space (self->at, self->end);
    return s_type (self->at, self->end);
}

static bool
s_read (sp_jscan_t *self, sp_jvalue_t *value, sp_jobject_t *object)
{
    sp_jtype_t type = sp_jscan_peek (self);
    const char *start = self->at;
    const char *after = type == SP_JNONE ? NULL : s_value (start, self->end, 0, object);
    if (!after)
        return s_fail (self);
    if (value)
        *value = (sp_jvalue_t){type, start, (size_t)(after - start)};
    self->at = after;
    self->first = false;
    return true;
}

bool
sp_jscan_value (sp_jscan_t *self, sp_jvalue_t *value)
{
    return s_read (self, value, NULL);
}

bool
sp_jscan_object (sp_jscan_t *self, sp_jobject_t *object)
{
    return sp_jscan_peek (self) == SP_JOBJECT && s_read (self, NULL, object);
}

bool
sp_jscan_enter (sp_jscan_t *self, sp_jtype_t kind)
{
    if ((kind != SP_JOBJECT && kind != SP_JARRAY) || sp_jscan_peek (self) != kind)
        return false;
    self->at++;
    self->first = true;
    return true;
}

//  Before the next member or element: true at one (after its comma), false at the end of the
//  container (consumed) or on bad JSON.
static bool
s_next (sp_jscan_t *self, char close)
{
    if (self->failed)
        return false;
    const char *at = s_space (self->at, self->end);
    if (at < self->end && *at == close) {
        self->at = at + 1;
        self->first = false;
        return false;
    }
    if (!self->first) {
        if (at >= self->end || *at != ',')
            return s_fail (self);
        at = s_space (at + 1, self->end);
    }
    if (at >= self->end)
        return s_fail (self);
    self->at = at;
    self->first = false;
    return true;
}

bool
sp_jscan_member (sp_jscan_t *self, sp_jvalue_t *key)
{
    if (!s_next (self, '}'))
        return false;
    const char *start = self->at;
    const char *key_end = *start == '"' ? s_string (start, self->end, NULL) : NULL;
    const char *after = key_end ? s_space (key_end, self->end) : NULL;
    if (!after || after >= self->end || *after != ':')
        return s_fail (self);
    if (key)
        *key = (sp_jvalue_t){SP_JSTRING, start, (size_t)(key_end - start)};
    self->at = after + 1;
    return true;
}

bool
sp_jscan_element (sp_jscan_t *self)
{
    return s_next (self, ']');
}

//  ---------------------------------------------------------------------------------------------
//  Values

static size_t
s_encode (unsigned long code, char *out)
{
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xC0 | (code >> 6));
        out[1] = (char)(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xE0 | (code >> 12));
        out[1] = (char)(0x80 | ((code >> 6) & 0x3F));
        out[2] = (char)(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (code >> 18));
    out[1] = (char)(0x80 | ((code >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((code >> 6) & 0x3F));
    out[3] = (char)(0x80 | (code & 0x3F));
    return 4;
}

//  One character of a string's text at *at_p (an escape or a UTF-8 sequence), into out (up to
//  4 bytes). Returns its length in out, or 0 when it is not allowed.
static size_t
s_char (const char **at_p, const char *end, char *out)
{
    const char *at = *at_p;
    if (*at != '\\') {
        size_t length = (unsigned char)*at < 0x20 ? 0 : jobd_utf8_length (at, (size_t)(end - at));
        memcpy (out, at, length);
        *at_p = at + (length ? length : 1);
        return length;
    }
    if (end - at < 2)
        return 0;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *simple = at[1] ? strchr (from, at[1]) : NULL;
    if (simple) {
        out[0] = to[simple - from];
        *at_p = at + 2;
        return 1;
    }
    long code = end - at >= 6 && at[1] == 'u' ? s_hex4 (at + 2) : -1;
    at += 6;
    if (code >= 0xD800 && code <= 0xDBFF) { //  a high surrogate: its low one must follow
        long low = end - at >= 6 && at[0] == '\\' && at[1] == 'u' ? s_hex4 (at + 2) : -1;
        if (low < 0xDC00 || low > 0xDFFF)
            return 0;
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        at += 6;
    } else if (code >= 0xDC00 && code <= 0xDFFF)
        code = -1;
    if (code <= 0) //  not an escape, a lone low surrogate, or \u0000 (no C string holds it)
        return 0;
    *at_p = at;
    return s_encode ((unsigned long)code, out);
}

bool
sp_jvalue_string (sp_jvalue_t value, char *buffer, size_t size)
{
    if (size == 0)
        return false;
    buffer[0] = 0;
    if (value.type != SP_JSTRING || value.size < 2 || !value.text)
        return false;
    const char *at = value.text + 1, *end = value.text + value.size - 1;
    size_t used = 0;
    while (at < end) {
        char one[4];
        size_t length = s_char (&at, end, one);
        if (length == 0) {
            buffer[0] = 0;
            return false;
        }
        if (used + length >= size) { //  cut, at a character's start, with "..."
            while (size > 4 && used > size - 4)
                while (used > 0 && ((unsigned char)buffer[--used] & 0xC0) == 0x80)
                    ;
            if (size > 4)
                memcpy (buffer + used, "...", 3), used += 3;
            buffer[used] = 0;
            return true;
        }
        memcpy (buffer + used, one, length);
        used += length;
    }
    buffer[used] = 0;
    return true;
}

char *
sp_jvalue_strdup (sp_jvalue_t value)
{
    if (value.type != SP_JSTRING)
        return NULL;
    char *copy = (char *)malloc (value.size);
    if (copy && !sp_jvalue_string (value, copy, value.size)) {
        free (copy);
        copy = NULL;
    }
    return copy;
}

bool
sp_jvalue_integer (sp_jvalue_t value, int64_t *number)
{
    char digits[24];
    if (value.type != SP_JNUMBER || value.size >= sizeof digits ||
        memchr (value.text, '.', value.size) || memchr (value.text, 'e', value.size) ||
        memchr (value.text, 'E', value.size))
        return false;
    memcpy (digits, value.text, value.size);
    digits[value.size] = 0;
    errno = 0;
    char *after;
    long long parsed = strtoll (digits, &after, 10);
    if (errno || after == digits || *after)
        return false;
    *number = (int64_t)parsed;
    return true;
}

bool
sp_jkey_is (sp_jvalue_t key, const char *name)
{
    size_t length = strlen (name);
    if (key.type != SP_JSTRING || key.size < 2)
        return false;
    if (!memchr (key.text, '\\', key.size))
        return key.size == length + 2 && memcmp (key.text + 1, name, length) == 0;
    //  An escaped key: compared unescaped (never cut: it is shorter than its JSON text).
    char small[256];
    char *unescaped = key.size <= sizeof small ? small : (char *)malloc (key.size);
    bool same =
        unescaped && sp_jvalue_string (key, unescaped, key.size) && strcmp (unescaped, name) == 0;
    if (unescaped != small)
        free (unescaped);
    return same;
}

sp_jvalue_t
sp_jobject_get (const sp_jobject_t *object, const char *name)
{
    size_t length = strlen (name);
    for (size_t index = object->count; index-- > 0;) {
        sp_jvalue_t key = object->member[index].key;
        if (object->member[index].escaped
                ? sp_jkey_is (key, name)
                : key.size == length + 2 && memcmp (key.text + 1, name, length) == 0)
            return object->member[index].value;
    }
    return (sp_jvalue_t){SP_JNONE, NULL, 0};
}
