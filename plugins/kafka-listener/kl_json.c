//  kafka-listener: a small JSON object writer (see kl_json.h).
#include "kl_json.h"
#include <inttypes.h>
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

//  The length of the UTF-8 sequence at text, or 0 when it is not valid.
static size_t
s_utf8_length (const unsigned char *text)
{
    unsigned char first = text[0];
    size_t length;
    uint32_t value;
    if (first < 0x80)
        return 1;
    if (first < 0xC2)
        return 0; //  a continuation byte, or an overlong 2-byte form
    if (first < 0xE0) {
        length = 2;
        value = first & 0x1F;
    } else if (first < 0xF0) {
        length = 3;
        value = first & 0x0F;
    } else if (first < 0xF5) {
        length = 4;
        value = first & 0x07;
    } else
        return 0;
    for (size_t index = 1; index < length; index++) {
        if ((text[index] & 0xC0) != 0x80)
            return 0; //  also stops at the NUL
        value = (value << 6) | (text[index] & 0x3F);
    }
    if ((length == 3 && value < 0x800) || (length == 4 && value < 0x10000) || value > 0x10FFFF ||
        (value >= 0xD800 && value <= 0xDFFF))
        return 0;
    return length;
}

bool
kl_json_utf8 (const char *text)
{
    const unsigned char *cursor = (const unsigned char *)text;
    while (*cursor) {
        size_t length = s_utf8_length (cursor);
        if (length == 0)
            return false;
        cursor += length;
    }
    return true;
}

//  A JSON string, escaped as jansson escapes it: quote, backslash and control characters only.
static void
s_quoted (kl_json_t *self, const char *text)
{
    s_append (self, "\"", 1);
    const char *run = text;
    for (const char *cursor = text;; cursor++) {
        unsigned char byte = (unsigned char)*cursor;
        if (byte >= 0x20 && byte != '"' && byte != '\\')
            continue;
        s_append (self, run, (size_t)(cursor - run));
        run = cursor + 1;
        if (byte == 0)
            break;
        //  The short escapes JSON has, then \u00XX for the other control characters.
        static const char shorts[] = "\"\\\b\f\n\r\t", letters[] = "\"\\bfnrt";
        const char *found = strchr (shorts, byte);
        char escape[8];
        if (found)
            snprintf (escape, sizeof escape, "\\%c", letters[found - shorts]);
        else
            snprintf (escape, sizeof escape, "\\u%04X", byte);
        s_append (self, escape, strlen (escape));
    }
    s_append (self, "\"", 1);
}

static void
s_key (kl_json_t *self, const char *key)
{
    if (self->size > 1)
        s_append (self, ",", 1);
    s_quoted (self, key);
    s_append (self, ":", 1);
}

bool
kl_json_string (kl_json_t *self, const char *key, const char *value)
{
    if (!kl_json_utf8 (value))
        return false;
    s_key (self, key);
    s_quoted (self, value);
    return true;
}

void
kl_json_integer (kl_json_t *self, const char *key, int64_t value)
{
    char text[32];
    int size = snprintf (text, sizeof text, "%" PRId64, value);
    s_key (self, key);
    s_append (self, text, (size_t)size);
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
