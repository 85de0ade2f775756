//  spark-poller: the small JSON helpers every backend parser shares: jansson for small replies,
//  sp_jscan for lists and anything that may be big.
#ifndef SP_JSON_H_INCLUDED
#define SP_JSON_H_INCLUDED

#include "sp_jlist.h"
#include "sp_jscan.h"
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

//  Copies the string at key into buffer (cut with "..."). Returns false, with buffer empty, when
//  it is absent, not a string, or not text (sp_jvalue_string).
bool sp_jstr (const sp_jobject_t *object, const char *key, char *buffer, size_t size);
//  An id: a string member that is not empty (an empty id names no driver, app or batch).
bool sp_jid (const sp_jobject_t *object, const char *key, char *buffer, size_t size);

//  The integer at key, or 0.
int64_t sp_jint (const sp_jobject_t *object, const char *key);

//  Reads a whole body that must be a JSON object into root. Returns false for anything else.
bool sp_json_root (const char *body, size_t size, sp_jobject_t *root);

//  The object at key in a JSON object body (among its first SP_JMEMBERS members), into object.
//  Returns false when the body is not a JSON object or has no object at key.
bool sp_json_root_member (const char *body, size_t size, const char *key, sp_jobject_t *object);

#endif
