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
//  objects (a key that is not a string is written as the JSON text of its value, 1 or true; a
//  key given twice keeps its last value), bin
//  and ext become lower-case hex text, a float that is not finite the text "NaN", "Infinity" or
//  "-Infinity" (JSON has none), and the bytes of a str (key or value) that are not valid
//  UTF-8 become U+FFFD, one for each maximal invalid sequence (as Python's errors="replace"
//  reads them): nothing is dropped, and the result can always be written (json_dumps). For
//  writing out what may hold such bytes: records an older jobd stored.
json_t *jobd_json_from_msgpack (const msgpack_object *obj);

//  The same for input, held to what jansson's own reader accepts: a str (key or value, at any
//  depth) that is not valid UTF-8, a key that holds a NUL or is not a string, or a float that is
//  not finite, is refused. Returns a fresh value,
//  or NULL with a reason naming the top-level key it is under (never quoting the bytes), or
//  "out of memory".
json_t *jobd_json_from_msgpack_strict (const msgpack_object *obj, char *reason, size_t reason_size);

//  A job record as JSON (one of jobd_json_from_msgpack's) gets its `spec`, JSON text in the
//  record, as the object itself when the text parses; text that does not parse stays text. The
//  one job shape of jobctl and the http API. NULL-safe.
void jobd_json_job_spec (json_t *job);

#ifdef __cplusplus
}
#endif
#endif
