//  msgpack to JSON: for tools that print what is on the wire and for plugins that take events in
//  either encoding. A separate library (jobd_json), so that only its users link jansson.
#ifndef JOBD_JSON_H_INCLUDED
#define JOBD_JSON_H_INCLUDED

#include <jansson.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Returns a fresh JSON value for a msgpack object, or NULL when out of memory. Maps become
//  objects (keys that are not strings, hold a NUL or exceed 255 bytes are skipped), bin and ext
//  become lower-case hex text, so that nothing is lost and the result is always JSON.
json_t *jobd_json_from_msgpack (const msgpack_object *obj);

#ifdef __cplusplus
}
#endif
#endif
