//  Fuzz target: spark-poller's JSON reader (sp_jscan), against jansson. Whatever jansson reads
//  (nesting within SP_JSCAN_DEPTH, no NUL byte), sp_jscan_check accepts, and every string member of
//  a root object reads the same through both. Then the whole value is walked, every string and
//  number copied out.
#include "sp_jscan.h"
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
s_walk (sp_jscan_t *scan, int depth)
{
    sp_jvalue_t key, value;
    char text[64];
    int64_t number;
    if (depth > SP_JSCAN_DEPTH) //  check bounded the nesting: the walk cannot go deeper
        __builtin_trap ();
    if (sp_jscan_enter (scan, SP_JOBJECT)) {
        while (sp_jscan_member (scan, &key)) {
            sp_jvalue_string (key, text, sizeof text);
            s_walk (scan, depth + 1);
        }
    } else if (sp_jscan_enter (scan, SP_JARRAY)) {
        while (sp_jscan_element (scan))
            s_walk (scan, depth + 1);
    } else if (sp_jscan_value (scan, &value)) {
        if (sp_jvalue_string (value, text, sizeof text) && strlen (text) >= sizeof text)
            __builtin_trap ();
        free (sp_jvalue_strdup (value));
        sp_jvalue_integer (value, &number);
    }
}

//  Nesting depth of a jansson value.
static int
s_depth (const json_t *value)
{
    int deepest = 0;
    size_t index;
    const char *name;
    json_t *item;
    if (json_is_array (value))
        json_array_foreach (value, index, item)
        {
            int depth = s_depth (item);
            deepest = depth > deepest ? depth : deepest;
        }
    else if (json_is_object (value))
        json_object_foreach ((json_t *)value, name, item)
        {
            int depth = s_depth (item);
            deepest = depth > deepest ? depth : deepest;
        }
    else
        return 0;
    return deepest + 1;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    bool checked = sp_jscan_check (body, size);
    json_t *root = json_loadb (body, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    //  (jansson reads a NUL byte as the end of the text: sp_jscan refuses it.)
    if (root && s_depth (root) < SP_JSCAN_DEPTH && !memchr (body, 0, size) && !checked)
        __builtin_trap (); //  valid JSON refused
    if (root && checked && json_is_object (root) && json_object_size (root) < SP_JMEMBERS) {
        sp_jscan_t scan;
        sp_jobject_t object;
        sp_jscan_init (&scan, body, size);
        if (!sp_jscan_object (&scan, &object))
            __builtin_trap ();
        for (size_t index = 0; object.count < SP_JMEMBERS && index < object.count && index < 8;
             index++) {
            char *key = sp_jvalue_strdup (object.member[index].key);
            json_t *expected = key ? json_object_get (root, key) : NULL;
            sp_jvalue_t value = sp_jobject_get (&object, key ? key : "");
            char *text = sp_jvalue_strdup (value);
            //  A string jansson read without \u0000 reads the same (the last of repeated keys).
            if (key && json_is_string (expected) &&
                strlen (json_string_value (expected)) == json_string_length (expected) &&
                (!text || strcmp (text, json_string_value (expected)) != 0))
                __builtin_trap ();
            free (text);
            free (key);
        }
    }
    json_decref (root);
    if (checked) {
        sp_jscan_t scan;
        sp_jscan_init (&scan, body, size);
        s_walk (&scan, 0);
        if (scan.failed)
            __builtin_trap (); //  a checked body walks without failing
    }
    return 0;
}
