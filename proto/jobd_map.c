//  Generic msgpack map helpers (see jobd_map.h).
#include "jobd_map.h"
#include <string.h>

const msgpack_object *
jobd_map_lookup (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t length = strlen (key);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[index];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == length &&
            memcmp (kv->key.via.str.ptr, key, length) == 0)
            return &kv->val;
    }
    return NULL;
}

bool
jobd_map_string (const msgpack_object *map, const char *key, char *buffer, size_t size)
{
    const msgpack_object *value = jobd_map_lookup (map, key);
    if (!value || value->type != MSGPACK_OBJECT_STR || value->via.str.size >= size ||
        memchr (value->via.str.ptr, 0, value->via.str.size))
        return false;
    memcpy (buffer, value->via.str.ptr, value->via.str.size);
    buffer[value->via.str.size] = 0;
    return true;
}

bool
jobd_map_true (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = jobd_map_lookup (map, key);
    return value && value->type == MSGPACK_OBJECT_BOOLEAN && value->via.boolean;
}

void
jobd_map_pack_str (msgpack_packer *pk, const char *text)
{
    size_t length = strlen (text);
    msgpack_pack_str (pk, length);
    msgpack_pack_str_body (pk, text, length);
}

void
jobd_map_pack_kv (msgpack_packer *pk, const char *key, const char *value)
{
    jobd_map_pack_str (pk, key);
    jobd_map_pack_str (pk, value);
}

void
jobd_map_pack_ku (msgpack_packer *pk, const char *key, uint64_t value)
{
    jobd_map_pack_str (pk, key);
    msgpack_pack_uint64 (pk, value);
}

void
jobd_map_pack_ki (msgpack_packer *pk, const char *key, int64_t value)
{
    jobd_map_pack_str (pk, key);
    msgpack_pack_int64 (pk, value);
}

void
jobd_map_pack_kb (msgpack_packer *pk, const char *key, bool value)
{
    jobd_map_pack_str (pk, key);
    if (value)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
}
