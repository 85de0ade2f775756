//  spark-poller: the small JSON helpers every backend parser shares (jansson underneath).
#ifndef SP_JSON_H_INCLUDED
#define SP_JSON_H_INCLUDED

#include "sp_status.h"
#include <jansson.h>

//  Parses exactly size bytes as JSON (any value). Returns a fresh value or NULL: empty bodies,
//  HTML error pages, truncated or non-JSON bodies. Bodies over 64 MiB are refused.
json_t *sp_json_load (const char *body, size_t size);

//  The string at key, or NULL when absent, null, or not a string. Borrowed from object.
const char *sp_json_str (const json_t *object, const char *key);

//  The string at key, or fallback.
const char *sp_json_str_or (const json_t *object, const char *key, const char *fallback);

//  Copies text into buffer; text that does not fit is cut with "..." at its end.
void sp_copy (char *buffer, size_t size, const char *text);

//  Copies the last part of text into buffer when it does not fit, starting with "...".
void sp_copy_tail (char *buffer, size_t size, const char *text);

//  Resets status for one job: unknown fields empty, known true.
void sp_status_reset (sp_status_t *status);

//  Calls fn for every element of array after parse (which fills a status from one element and
//  returns false to skip it). Returns 0, or 1 when fn stopped.
int sp_json_each (const json_t *array, bool (*parse) (const json_t *, sp_status_t *),
                  sp_status_fn *fn, void *arg);

#endif
