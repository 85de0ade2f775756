//  Fuzz target: msgpack to JSON (jobd_json). The lenient reading always gives JSON that can be
//  written (bytes that are not UTF-8 as U+FFFD) and reads back as what it wrote; the strict
//  reading refuses exactly when some str is not UTF-8, a key holds a NUL or is not a string, or a
//  float is not finite, and otherwise gives the same value.
#include "jobd_event.h"
#include "jobd_json.h"
#include "jobd_utf8.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  Whether every str in obj is UTF-8, no key holds a NUL and every float is finite: what the
//  strict reading takes.
static bool
s_clean (const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            return isfinite (obj->via.f64);
        case MSGPACK_OBJECT_STR:
            return jobd_utf8_valid (obj->via.str.ptr, obj->via.str.size);
        case MSGPACK_OBJECT_ARRAY:
            for (uint32_t index = 0; index < obj->via.array.size; index++)
                if (!s_clean (&obj->via.array.ptr[index]))
                    return false;
            return true;
        case MSGPACK_OBJECT_MAP:
            for (uint32_t index = 0; index < obj->via.map.size; index++) {
                const msgpack_object_kv *kv = &obj->via.map.ptr[index];
                if (kv->key.type != MSGPACK_OBJECT_STR)
                    return false;
                if ((!s_clean (&kv->key) ||
                     (kv->key.via.str.size &&
                      memchr (kv->key.via.str.ptr, 0, kv->key.via.str.size))))
                    return false;
                if (!s_clean (&kv->val))
                    return false;
            }
            return true;
        default:
            return true;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    if (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0)) {
        msgpack_unpacked_destroy (&unpacked);
        return 0;
    }
    json_t *lenient = jobd_json_from_msgpack (&unpacked.data);
    if (!lenient)
        abort ();
    char *text = json_dumps (lenient, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        abort (); //  never nothing to write
    json_t *again = json_loads (text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    //  Read back as written (a float that is not finite cannot be JSON at all: not compared).
    if (again && !json_equal (again, lenient))
        abort ();
    char reason[256] = "";
    json_t *strict = jobd_json_from_msgpack_strict (&unpacked.data, reason, sizeof reason);
    if ((strict != NULL) != s_clean (&unpacked.data))
        abort ();
    if (strict && !json_equal (strict, lenient))
        abort ();
    if (!strict && !strstr (reason, "UTF-8") && !strstr (reason, "NUL") &&
        !strstr (reason, "finite") && !strstr (reason, "not a string"))
        abort ();
    json_decref (again);
    json_decref (strict);
    json_decref (lenient);
    free (text);
    msgpack_unpacked_destroy (&unpacked);
    return 0;
}
