//  Generic msgpack map helpers: look a key up, copy a string value out, pack key-value pairs.
//  What the admin codecs (jobd_reply, jobd_request) and their readers share.
#ifndef JOBD_MAP_H_INCLUDED
#define JOBD_MAP_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Returns the value of key in a msgpack map (the first one, when the key repeats), or NULL when
//  map is NULL, not a map, or has no such str key. Borrowed from map.
const msgpack_object *jobd_map_lookup (const msgpack_object *map, const char *key);

//  Copies the string value of map[key] into a NUL-terminated buffer. Returns true when map[key]
//  is a str with no NUL byte that fits (with its NUL) in size bytes; false leaves buffer alone.
bool jobd_map_string (const msgpack_object *map, const char *key, char *buffer, size_t size);

//  Returns true when map[key] is the boolean true.
bool jobd_map_true (const msgpack_object *map, const char *key);

//  Packs text (NUL-terminated) as a msgpack str.
void jobd_map_pack_str (msgpack_packer *pk, const char *text);

//  Packs the pair key: value (strings).
void jobd_map_pack_kv (msgpack_packer *pk, const char *key, const char *value);

//  Packs the pair key: value (an unsigned integer, shortest encoding).
void jobd_map_pack_ku (msgpack_packer *pk, const char *key, uint64_t value);

//  Packs the pair key: value (a signed integer, shortest encoding).
void jobd_map_pack_ki (msgpack_packer *pk, const char *key, int64_t value);

//  Packs the pair key: value (a boolean).
void jobd_map_pack_kb (msgpack_packer *pk, const char *key, bool value);

#ifdef __cplusplus
}
#endif
#endif
