//  kafka-listener: a small JSON object writer (see kl_json.h).
#include "kl_json.h"
#include "jobd_utf8.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
s_reserve (kl_json_t *self, size_t more)
{
    if (self->failed)
        return false;
    if (self->size + more + 1 <= self->capacity)
        return true;
    size_t capacity = self->capacity ? self->capacity : 256;
    while (capacity < self->size + more + 1)
        capacity *= 2;
    char *data = (char *)realloc (self->data, capacity);
    if (!data) {
        self->failed = true;
        return false;
    }
    self->data = data;
    self->capacity = capacity;
    return true;
}

static void
s_append (kl_json_t *self, const char *bytes, size_t size)
{
    if (!s_reserve (self, size))
        return;
    memcpy (self->data + self->size, bytes, size);
    self->size += size;
    self->data[self->size] = 0;
}

void
kl_json_begin (kl_json_t *self)
{
    self->size = 0;
    self->failed = false;
    s_append (self, "{", 1);
}

//  A JSON string, escaped as jansson escapes it: quote, backslash and control characters only
//  (a NUL too, as \u0000).
static void
s_quoted (kl_json_t *self, const char *text, size_t size)
{
    s_append (self, "\"", 1);
    const char *run = text, *end = text + size;
    for (const char *cursor = text; cursor < end; cursor++) {
        unsigned char byte = (unsigned char)*cursor;
        if (byte >= 0x20 && byte != '"' && byte != '\\')
            continue;
        s_append (self, run, (size_t)(cursor - run));
        run = cursor + 1;
        //  The short escapes JSON has, then \u00XX for the other control characters.
        static const char shorts[] = "\"\\\b\f\n\r\t", letters[] = "\"\\bfnrt";
        const char *found = byte ? strchr (shorts, byte) : NULL;
        char escape[8];
        if (found)
            snprintf (escape, sizeof escape, "\\%c", letters[found - shorts]);
        else
            snprintf (escape, sizeof escape, "\\u%04X", byte);
        s_append (self, escape, strlen (escape));
    }
    s_append (self, run, (size_t)(end - run));
    s_append (self, "\"", 1);
}

static void
s_key (kl_json_t *self, const char *key)
{
    if (self->size > 1)
        s_append (self, ",", 1);
    s_quoted (self, key, strlen (key));
    s_append (self, ":", 1);
}

bool
kl_json_string (kl_json_t *self, const char *key, const char *value)
{
    return kl_json_string_n (self, key, value, strlen (value));
}

//  True when size bytes of text are printable ASCII without a quote or a backslash: written as
//  they are, with no escape and no UTF-8 to check.
static bool
s_plain (const char *text, size_t size)
{
    for (size_t index = 0; index < size; index++) {
        unsigned char byte = (unsigned char)text[index];
        if (byte < 0x20 || byte >= 0x80 || byte == '"' || byte == '\\')
            return false;
    }
    return true;
}

bool
kl_json_string_n (kl_json_t *self, const char *key, const char *value, size_t size)
{
    size_t key_size = strlen (key);
    if (s_plain (value, size) && s_plain (key, key_size)) {
        //  The common case, in one piece: ,"key":"value"
        if (!s_reserve (self, key_size + size + 6))
            return true; //  out of memory: failed is set, kl_json_end says so
        char *out = self->data + self->size;
        if (self->size > 1)
            *out++ = ',';
        *out++ = '"';
        memcpy (out, key, key_size);
        out += key_size;
        memcpy (out, "\":\"", 3);
        out += 3;
        memcpy (out, value, size);
        out += size;
        *out++ = '"';
        *out = 0;
        self->size = (size_t)(out - self->data);
        return true;
    }
    s_key (self, key);
    size_t bad = jobd_utf8_check (value, size);
    if (bad == size) {
        s_quoted (self, value, size);
        return true;
    }
    //  Not UTF-8 (a record an older jobd stored): written all the same, each maximal invalid
    //  sequence as U+FFFD, into a copy quoted as usual. Never dropped.
    char *fixed = (char *)malloc (size * 3 + 1);
    if (!fixed) {
        self->failed = true;
        return false;
    }
    size_t written = jobd_utf8_replace (value, size, fixed);
    s_quoted (self, fixed, written);
    free (fixed);
    return false;
}

size_t
kl_json_format_integer (char text[21], int64_t value)
{
    //  Digits from the end, of the magnitude as unsigned (INT64_MIN has no positive twin).
    char digits[21];
    size_t count = 0;
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    size_t size = 0;
    if (value < 0)
        text[size++] = '-';
    while (count)
        text[size++] = digits[--count];
    text[size] = 0;
    return size;
}

void
kl_json_integer (kl_json_t *self, const char *key, int64_t value)
{
    char text[21];
    size_t size = kl_json_format_integer (text, value);
    s_key (self, key);
    s_append (self, text, size);
}

const char *
kl_json_end (kl_json_t *self)
{
    s_append (self, "}", 1);
    return self->failed ? NULL : self->data;
}

void
kl_json_fini (kl_json_t *self)
{
    free (self->data);
    *self = (kl_json_t){0};
}
