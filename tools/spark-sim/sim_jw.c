//  sim_jw: a streaming JSON writer that reproduces Jackson's pretty and compact layouts.
#include "sim.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void
sim_jw_init (sim_jw_t *self, sim_jw_style_t style)
{
    memset (self, 0, sizeof *self);
    self->style = style;
}

static void
s_indent (sim_jw_t *self, int level)
{
    sim_buf_reserve (&self->buf, (size_t)level * 2 + 1);
    self->buf.data[self->buf.len++] = '\n';
    for (int i = 0; i < level * 2; i++)
        self->buf.data[self->buf.len++] = ' ';
    self->buf.data[self->buf.len] = 0;
}

void
sim_jw_escape (sim_buf_t *buf, const char *text)
{
    size_t len = strlen (text);
    sim_buf_reserve (buf, len + 2);
    buf->data[buf->len++] = '"';
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        //  Copy the longest run that needs no escaping in one go.
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            sim_buf_append (buf, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        char esc[8];
        switch (*p) {
            case '"':
                strcpy (esc, "\\\"");
                break;
            case '\\':
                strcpy (esc, "\\\\");
                break;
            case '\n':
                strcpy (esc, "\\n");
                break;
            case '\r':
                strcpy (esc, "\\r");
                break;
            case '\t':
                strcpy (esc, "\\t");
                break;
            case '\b':
                strcpy (esc, "\\b");
                break;
            case '\f':
                strcpy (esc, "\\f");
                break;
            default:
                snprintf (esc, sizeof esc, "\\u%04X", *p);
        }
        sim_buf_append (buf, esc, strlen (esc));
        p++;
    }
    sim_buf_append (buf, "\"", 1);
}

//  Writes the separator and key that come before a value.
static void
s_before (sim_jw_t *self, const char *key)
{
    if (self->depth == 0)
        return;
    int d = self->depth - 1;
    bool first = self->count[d]++ == 0;
    bool pretty = self->style == SIM_JW_JACKSON;
    if (self->is_obj[d]) {
        assert (key);
        if (!first)
            sim_buf_append (&self->buf, ",", 1);
        if (pretty)
            s_indent (self, self->objects);
        sim_jw_escape (&self->buf, key);
        sim_buf_puts (&self->buf, pretty ? " : " : ":");
    } else {
        assert (!key);
        if (pretty)
            sim_buf_puts (&self->buf, first ? " " : ", ");
        else if (!first)
            sim_buf_append (&self->buf, ",", 1);
    }
}

static void
s_open (sim_jw_t *self, const char *key, bool is_obj)
{
    s_before (self, key);
    assert (self->depth < SIM_JW_MAX_DEPTH);
    self->is_obj[self->depth] = is_obj;
    self->count[self->depth] = 0;
    self->depth++;
    if (is_obj)
        self->objects++;
    sim_buf_append (&self->buf, is_obj ? "{" : "[", 1);
}

void
sim_jw_obj (sim_jw_t *self, const char *key)
{
    s_open (self, key, true);
}

void
sim_jw_arr (sim_jw_t *self, const char *key)
{
    s_open (self, key, false);
}

void
sim_jw_end (sim_jw_t *self)
{
    assert (self->depth > 0);
    int d = --self->depth;
    bool pretty = self->style == SIM_JW_JACKSON;
    if (self->is_obj[d]) {
        self->objects--;
        if (pretty) {
            if (self->count[d] > 0)
                s_indent (self, self->objects);
            else
                sim_buf_append (&self->buf, " ", 1);
        }
        sim_buf_append (&self->buf, "}", 1);
    } else
        sim_buf_puts (&self->buf, pretty ? " ]" : "]");
}

void
sim_jw_str (sim_jw_t *self, const char *key, const char *value)
{
    s_before (self, key);
    if (value)
        sim_jw_escape (&self->buf, value);
    else
        sim_buf_append (&self->buf, "null", 4);
}

void
sim_jw_int (sim_jw_t *self, const char *key, int64_t value)
{
    s_before (self, key);
    //  Digits backwards into a small buffer: snprintf is the slow part of big listings.
    char text[24];
    char *p = text + sizeof text;
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        *--p = '-';
    sim_buf_append (&self->buf, p, (size_t)(text + sizeof text - p));
}

void
sim_jw_real (sim_jw_t *self, const char *key, double value)
{
    s_before (self, key);
    char text[40];
    //  Java prints doubles with at least one decimal: 100.0, 12.5.
    if (value == floor (value) && fabs (value) < 1e15)
        snprintf (text, sizeof text, "%.1f", value);
    else
        snprintf (text, sizeof text, "%.10g", value);
    sim_buf_puts (&self->buf, text);
}

void
sim_jw_bool (sim_jw_t *self, const char *key, bool value)
{
    s_before (self, key);
    sim_buf_puts (&self->buf, value ? "true" : "false");
}

void
sim_jw_null (sim_jw_t *self, const char *key)
{
    sim_jw_str (self, key, NULL);
}

void
sim_jw_json (sim_jw_t *self, const char *key, const json_t *value)
{
    switch (json_typeof (value)) {
        case JSON_OBJECT: {
            sim_jw_obj (self, key);
            const char *k;
            json_t *v;
            json_object_foreach ((json_t *)value, k, v) sim_jw_json (self, k, v);
            sim_jw_end (self);
            break;
        }
        case JSON_ARRAY: {
            sim_jw_arr (self, key);
            size_t i;
            json_t *v;
            json_array_foreach (value, i, v) sim_jw_json (self, NULL, v);
            sim_jw_end (self);
            break;
        }
        case JSON_STRING:
            sim_jw_str (self, key, json_string_value (value));
            break;
        case JSON_INTEGER:
            sim_jw_int (self, key, json_integer_value (value));
            break;
        case JSON_REAL:
            sim_jw_real (self, key, json_real_value (value));
            break;
        case JSON_TRUE:
            sim_jw_bool (self, key, true);
            break;
        case JSON_FALSE:
            sim_jw_bool (self, key, false);
            break;
        default:
            sim_jw_null (self, key);
    }
}
