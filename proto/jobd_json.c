//  msgpack to JSON: for tools that print what is on the wire and for plugins that take events in
//  either encoding. A separate library (jobd_json), so that only its users link jansson.
#include "jobd_json.h"
#include "jobd_utf8.h"
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_TEXT_MAX 1024 //  bytes of a key that was not a string, written as JSON text

typedef struct {
    bool strict;       //  refuse invalid UTF-8 instead of replacing it
    const char *under; //  the top-level key being read, for the reason (NULL: the top)
    size_t under_size;
    char *reason;
    size_t reason_size;
} s_reading_t;

static json_t *
s_hex (const char *bytes, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = (char *)malloc (size * 2 + 1);
    if (!hex)
        return NULL;
    for (size_t index = 0; index < size; index++) {
        hex[index * 2] = digits[(unsigned char)bytes[index] >> 4];
        hex[index * 2 + 1] = digits[(unsigned char)bytes[index] & 15];
    }
    hex[size * 2] = 0;
    json_t *text = json_string (hex);
    free (hex);
    return text;
}

static void
s_refuse (s_reading_t *reading, const char *what, size_t offset, unsigned char byte)
{
    if (!reading->reason || reading->reason_size == 0)
        return;
    char where[300] = "";
    if (reading->under)
        snprintf (where, sizeof where,
                  "field '%.*s': ", (int)(reading->under_size > 64 ? 64 : reading->under_size),
                  reading->under);
    snprintf (reading->reason, reading->reason_size,
              "%s%snot valid UTF-8 (byte 0x%02x at offset %zu)", where, what, byte, offset);
}

static void
s_refuse_float (s_reading_t *reading)
{
    if (!reading->reason || reading->reason_size == 0)
        return;
    if (reading->under)
        snprintf (reading->reason, reading->reason_size,
                  "field '%.*s': a float that is not finite (NaN or infinity) has no JSON form",
                  (int)(reading->under_size > 64 ? 64 : reading->under_size), reading->under);
    else
        snprintf (reading->reason, reading->reason_size,
                  "a float that is not finite (NaN or infinity) has no JSON form");
}

//  text with every maximal invalid sequence replaced by U+FFFD, into a fresh buffer (*size_p
//  its length). NULL when out of memory.
static char *
s_replaced (const char *text, size_t size, size_t *size_p)
{
    //  U+FFFD takes 3 bytes and replaces at least one.
    char *out = (char *)malloc (size * 3 + 1);
    if (out)
        *size_p = jobd_utf8_replace (text, size, out);
    return out;
}

//  A str as JSON text: as it is when valid, else replaced or refused.
static json_t *
s_string (s_reading_t *reading, const char *text, size_t size, const char *what)
{
    if (size == 0)
        return json_string_nocheck (""); //  its pointer may be NULL
    size_t bad = jobd_utf8_check (text, size);
    if (bad == size)
        return json_stringn_nocheck (text, size);
    if (reading->strict) {
        s_refuse (reading, what, bad, (unsigned char)text[bad]);
        return NULL;
    }
    size_t length;
    char *fixed = s_replaced (text, size, &length);
    json_t *value = fixed ? json_stringn_nocheck (fixed, length) : NULL;
    free (fixed);
    return value;
}

static json_t *s_value (s_reading_t *reading, const msgpack_object *obj, int depth);

static json_t *
s_object (s_reading_t *reading, const msgpack_object *obj, int depth)
{
    json_t *object = json_object ();
    for (uint32_t index = 0; object && index < obj->via.map.size; index++) {
        const msgpack_object_kv *kv = &obj->via.map.ptr[index];
        if (depth == 0)
            reading->under = NULL;
        bool fine = true;
        char *fixed = NULL;
        //  An empty str may come with no pointer at all.
        size_t key_size = kv->key.type == MSGPACK_OBJECT_STR ? kv->key.via.str.size : 0;
        const char *key = key_size ? kv->key.via.str.ptr : "";
        size_t bad = jobd_utf8_check (key, key_size);
        if (kv->key.type != MSGPACK_OBJECT_STR && reading->strict) {
            //  JSON has no such key.
            if (reading->reason && reading->reason_size)
                snprintf (reading->reason, reading->reason_size, "a key is not a string");
            fine = false;
        } else if (kv->key.type != MSGPACK_OBJECT_STR) {
            //  Written as the JSON text of its value (1, true, "ab12" for bin): never dropped.
            json_t *as_value = s_value (reading, &kv->key, depth + 1);
            fixed = !as_value ? NULL
                    : json_is_string (as_value)
                        ? strdup (json_string_value (as_value))
                        : json_dumps (as_value, JSON_COMPACT | JSON_ENCODE_ANY);
            json_decref (as_value);
            key = fixed;
            key_size = fixed ? strlen (fixed) : 0;
            //  Cut to S_KEY_TEXT_MAX: a map used as a key of a map used as a key ... is escaped
            //  once more at each level, doubling its text (32 levels: gigabytes; fuzz_json).
            if (key_size > S_KEY_TEXT_MAX) {
                key_size = jobd_utf8_cut (fixed, key_size, S_KEY_TEXT_MAX);
                fixed[key_size] = 0;
            }
            fine = fixed != NULL;
        } else if (reading->strict && bad < key_size) {
            s_refuse (reading, depth > 0 ? "a key in it is " : "a key is ", bad,
                      (unsigned char)key[bad]);
            fine = false;
        } else if (reading->strict && memchr (key, 0, key_size)) {
            if (reading->reason && reading->reason_size)
                snprintf (reading->reason, reading->reason_size, "a key holds a NUL byte");
            fine = false;
        } else if (bad < key_size) {
            fixed = s_replaced (key, key_size, &key_size);
            key = fixed;
            fine = fixed != NULL;
        }
        if (depth == 0) {
            reading->under = key;
            reading->under_size = key_size;
        }
        json_t *value = fine ? s_value (reading, &kv->val, depth + 1) : NULL;
        //  A key may hold a NUL (written \u0000): set by its length.
        if (!value || json_object_setn_new_nocheck (object, key, key_size, value)) {
            json_decref (object);
            object = NULL;
        }
        free (fixed);
    }
    if (depth == 0)
        reading->under = NULL;
    return object;
}

static json_t *
s_value (s_reading_t *reading, const msgpack_object *obj, int depth)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:
            return json_null ();
        case MSGPACK_OBJECT_BOOLEAN:
            return json_boolean (obj->via.boolean);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            return obj->via.u64 > INT64_MAX ? json_real ((double)obj->via.u64)
                                            : json_integer ((json_int_t)obj->via.u64);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            return json_integer ((json_int_t)obj->via.i64);
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (isfinite (obj->via.f64))
                return json_real (obj->via.f64);
            //  JSON has no NaN or infinity (jansson refuses them): said in words, or refused.
            if (reading->strict) {
                s_refuse_float (reading);
                return NULL;
            }
            return json_string (isnan (obj->via.f64) ? "NaN"
                                : obj->via.f64 > 0   ? "Infinity"
                                                     : "-Infinity");
        case MSGPACK_OBJECT_STR:
            return s_string (reading, obj->via.str.ptr, obj->via.str.size,
                             depth > 1 ? "a string in it is " : "");
        case MSGPACK_OBJECT_ARRAY: {
            json_t *array = json_array ();
            for (uint32_t index = 0; array && index < obj->via.array.size; index++) {
                json_t *item = s_value (reading, &obj->via.array.ptr[index], depth + 1);
                if (!item || json_array_append_new (array, item)) {
                    json_decref (array);
                    array = NULL;
                }
            }
            return array;
        }
        case MSGPACK_OBJECT_MAP:
            return s_object (reading, obj, depth);
        case MSGPACK_OBJECT_BIN:
            return s_hex (obj->via.bin.ptr, obj->via.bin.size);
        default:
            return s_hex (obj->via.ext.ptr, obj->via.ext.size);
    }
}

json_t *
jobd_json_from_msgpack (const msgpack_object *obj)
{
    s_reading_t reading = {false, NULL, 0, NULL, 0};
    return s_value (&reading, obj, 0);
}

json_t *
jobd_json_from_msgpack_strict (const msgpack_object *obj, char *reason, size_t reason_size)
{
    if (reason && reason_size)
        snprintf (reason, reason_size, "out of memory");
    s_reading_t reading = {true, NULL, 0, reason, reason_size};
    return s_value (&reading, obj, 0);
}

void
jobd_json_job_spec (json_t *job)
{
    json_t *spec = job ? json_object_get (job, "spec") : NULL;
    json_t *parsed = json_is_string (spec) ? json_loads (json_string_value (spec), 0, NULL) : NULL;
    if (parsed)
        json_object_set_new (job, "spec", parsed);
}
