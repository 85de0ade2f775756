//  kafka-listener: a small JSON object writer for the messages the plugin produces, without a
//  tree of allocated values: text written straight into a buffer kept from message to message.
//  Its output is the bytes jansson's json_dumps (JSON_COMPACT) writes for the same object.
#ifndef KL_JSON_H_INCLUDED
#define KL_JSON_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;  //  the text, NUL-terminated; owned by the writer
    size_t size; //  bytes of text, the NUL excluded
    size_t capacity;
    bool failed; //  out of memory: the text is incomplete
} kl_json_t;

//  Starts a new object in self (initialised to zeroes before first use; the buffer is kept).
void kl_json_begin (kl_json_t *self);

//  Appends "key":"value". Bytes of value that are not valid UTF-8 (jansson refuses such
//  strings) are written as U+FFFD, one for each maximal invalid sequence, as
//  jobd_json_from_msgpack writes them: the field is never dropped. Returns true when value was
//  written as it is, false when some of it was replaced (or out of memory: kl_json_end says).
bool kl_json_string (kl_json_t *self, const char *key, const char *value);

//  The same for size bytes at value (which may hold a NUL, written \u0000 as jansson does).
bool kl_json_string_n (kl_json_t *self, const char *key, const char *value, size_t size);

//  Appends "key":value.
void kl_json_integer (kl_json_t *self, const char *key, int64_t value);

//  Writes value in decimal and a NUL into text (20 characters at most: INT64_MIN). Returns the
//  length. What snprintf writes with PRId64, without its cost.
size_t kl_json_format_integer (char text[21], int64_t value);

//  Closes the object. Returns the text (borrowed, valid until the next begin), or NULL when out
//  of memory.
const char *kl_json_end (kl_json_t *self);

//  Frees the buffer; self can be used again from begin.
void kl_json_fini (kl_json_t *self);

#endif
