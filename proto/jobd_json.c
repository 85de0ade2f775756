//  msgpack to JSON: for tools that print what is on the wire and for plugins that take events in
//  either encoding. A separate library (jobd_json), so that only its users link jansson.
#include "jobd_json.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

json_t *
jobd_json_from_msgpack (const msgpack_object *obj)
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
            return json_real (obj->via.f64);
        case MSGPACK_OBJECT_STR:
            return json_stringn_nocheck (obj->via.str.ptr, obj->via.str.size);
        case MSGPACK_OBJECT_ARRAY: {
            json_t *array = json_array ();
            for (uint32_t index = 0; array && index < obj->via.array.size; index++)
                json_array_append_new (array, jobd_json_from_msgpack (&obj->via.array.ptr[index]));
            return array;
        }
        case MSGPACK_OBJECT_MAP: {
            json_t *object = json_object ();
            for (uint32_t index = 0; object && index < obj->via.map.size; index++) {
                const msgpack_object_kv *kv = &obj->via.map.ptr[index];
                //  An empty key has no bytes: msgpack-c gives it a NULL pointer, which neither
                //  memchr nor memcpy may be handed (undefined behaviour, even for 0 bytes).
                size_t size = kv->key.via.str.size;
                if (kv->key.type != MSGPACK_OBJECT_STR || size > 255 ||
                    (size && memchr (kv->key.via.str.ptr, 0, size)))
                    continue;
                char key[256];
                if (size)
                    memcpy (key, kv->key.via.str.ptr, size);
                key[size] = 0;
                json_object_set_new (object, key, jobd_json_from_msgpack (&kv->val));
            }
            return object;
        }
        case MSGPACK_OBJECT_BIN:
            return s_hex (obj->via.bin.ptr, obj->via.bin.size);
        default:
            return s_hex (obj->via.ext.ptr, obj->via.ext.size);
    }
}
