//  spark-poller: a fast reader for the big list bodies. A list of 100,000 jobs is 30 to 110 MB
//  of JSON; jansson builds a tree of every value at 30-45 MB/s on this machine, which alone
//  makes a cycle of several seconds. This reader walks the text in place (RFC 8259, strictly),
//  keeps only where values start and end, and copies out just the strings and numbers a parser
//  asks for. A body is first checked whole (sp_jscan_check), so a parser never acts on part of
//  a truncated or broken body; then read with the walking calls below.
#ifndef SP_JSCAN_H_INCLUDED
#define SP_JSCAN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SP_JNONE, //  absent (a missing member), or not a value
    SP_JNULL,
    SP_JFALSE,
    SP_JTRUE,
    SP_JNUMBER,
    SP_JSTRING,
    SP_JOBJECT,
    SP_JARRAY
} sp_jtype_t;

//  One value: its type and its bytes in the body (a string with its quotes). Borrowed from the
//  body, valid while it is.
typedef struct {
    sp_jtype_t type;
    const char *text;
    size_t size;
} sp_jvalue_t;

//  The members of one object, in order; members past SP_JMEMBERS are checked but not kept.
#define SP_JMEMBERS 64
typedef struct {
    size_t count;
    struct {
        sp_jvalue_t key; //  a string
        sp_jvalue_t value;
        bool escaped; //  the key has an escape (compared unescaped)
    } member[SP_JMEMBERS];
} sp_jobject_t;

//  A position in a body. Any call that meets something that is not JSON sets failed and
//  returns false (or SP_JNONE); the reader then stays failed.
typedef struct {
    const char *at;
    const char *end;
    bool failed;
    bool first; //  inside a container, before its first member or element
} sp_jscan_t;

#define SP_JSCAN_DEPTH 128 //  containers nested deeper than this are refused

//  Whether body is exactly one JSON value with only whitespace around it.
bool sp_jscan_check (const char *body, size_t size);

//  Starts a reader at the beginning of body. Walk only a body that sp_jscan_check accepted: on
//  any other, the calls never read outside it, but may let through what the check refuses.
void sp_jscan_init (sp_jscan_t *self, const char *body, size_t size);

//  The type of the value at the reader (after whitespace), without reading it.
sp_jtype_t sp_jscan_peek (sp_jscan_t *self);

//  Reads one value whole and gives it (value may be NULL). Returns false on bad JSON.
bool sp_jscan_value (sp_jscan_t *self, sp_jvalue_t *value);

//  Reads an object whole into object. Returns false when the value is not an object.
bool sp_jscan_object (sp_jscan_t *self, sp_jobject_t *object);

//  Walking into a container: enter it ('{' or '['), then call member (objects) or element
//  (arrays) until it returns false, which it does at the container's end (consumed) or on bad
//  JSON. After member, the reader is at the member's value; after element, at the element.
//  Each value must be read (sp_jscan_value, sp_jscan_object, or entered and walked) before the
//  next call. Returns false when the value there is not of that kind.
bool sp_jscan_enter (sp_jscan_t *self, sp_jtype_t kind);
bool sp_jscan_member (sp_jscan_t *self, sp_jvalue_t *key);
bool sp_jscan_element (sp_jscan_t *self);

//  Whether a key (a string value) is name.
bool sp_jkey_is (sp_jvalue_t key, const char *name);

//  The value of name in object (the last one when it repeats), or a value of type SP_JNONE.
sp_jvalue_t sp_jobject_get (const sp_jobject_t *object, const char *name);

//  Copies a string value, unescaped, into buffer (cut with "..." when it does not fit). Returns
//  false, with buffer empty, when value is not a string, holds \u0000, or is not valid UTF-8.
bool sp_jvalue_string (sp_jvalue_t value, char *buffer, size_t size);

//  A fresh copy of a string value, unescaped, or NULL (as sp_jvalue_string).
char *sp_jvalue_strdup (sp_jvalue_t value);

//  An integer value (no fraction or exponent, within int64). Returns false otherwise.
bool sp_jvalue_integer (sp_jvalue_t value, int64_t *number);

#endif
