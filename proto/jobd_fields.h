//  Table-driven msgpack maps: one description of a struct's fields serves encoding, strict
//  decoding, copying and freeing, for events and job records alike. Internal to proto/.
#ifndef JOBD_FIELDS_H_INCLUDED
#define JOBD_FIELDS_H_INCLUDED

#include "jobd_error.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    JOBD_FIELD_STR,           //  char *, NUL-free msgpack str of at most max bytes
    JOBD_FIELD_I64,           //  int64_t
    JOBD_FIELD_U32,           //  uint32_t
    JOBD_FIELD_U64,           //  uint64_t
    JOBD_FIELD_BOOL,          //  bool; only true is packed
    JOBD_FIELD_STATE,         //  jobd_state_t as its name; NONE is not packed, "NONE" refused
    JOBD_FIELD_STATE_OR_NONE, //  the same, but "NONE" is read as JOBD_STATE_NONE ("from")
    JOBD_FIELD_TYPE,          //  jobd_event_type_t as its name
    JOBD_FIELD_FIGURES        //  jobd_figures_t: the msgpack bytes of a checked array
} jobd_field_kind_t;

typedef struct {
    const char *key;
    size_t key_length; //  strlen (key)
    jobd_field_kind_t kind;
    size_t offset; //  offsetof the field in the struct
    size_t max;    //  JOBD_FIELD_STR: longest value in bytes
} jobd_field_t;

//  Fills the struct at base from a msgpack map, field by field. Unknown keys are skipped, nil
//  values are absent, duplicate keys and wrong types are refused. Returns 0, or JOBD_EPROTO /
//  JOBD_ETOOBIG with a reason. On error the struct may hold some fields: free them.
int jobd_fields_read (const jobd_field_t *fields, size_t count, const msgpack_object *map,
                      void *base, char *reason, size_t reason_size);

//  The same into a fresh struct of struct_size bytes that holds its strings too: one allocation,
//  freed whole with free(); its strings must never be freed or replaced one by one. Returns 0
//  and sets *base_p, or an error with a reason (and nothing to free).
int jobd_fields_read_flat (const jobd_field_t *fields, size_t count, const msgpack_object *map,
                           size_t struct_size, void **base_p, char *reason, size_t reason_size);

//  Packs the present fields of the struct at base as one map (absent ones are omitted). Returns 0,
//  or -ENOMEM when the packer's writer failed.
int jobd_fields_pack (const jobd_field_t *fields, size_t count, const void *base,
                      msgpack_packer *pk);

//  The same map appended to buffer, written straight into it (the same bytes). Returns 0 or
//  -ENOMEM (then buffer holds what it held).
int jobd_fields_pack_to (const jobd_field_t *fields, size_t count, const void *base,
                         msgpack_sbuffer *buffer);

//  Deep-copies the string fields of src into dst (a bytewise copy of src). Returns 0 or -ENOMEM
//  (then dst's strings are the ones copied so far, the rest NULL).
int jobd_fields_dup (const jobd_field_t *fields, size_t count, void *dst);

//  Frees the string fields of the struct at base.
void jobd_fields_free (const jobd_field_t *fields, size_t count, void *base);

//  Checks every string field against its limit, and with utf8 that it is valid UTF-8. Returns 0,
//  or JOBD_ETOOBIG / JOBD_EPROTO with a reason (which never quotes the invalid bytes).
int jobd_fields_check (const jobd_field_t *fields, size_t count, const void *base, bool utf8,
                       char *reason, size_t reason_size);

//  Replaces each maximal invalid UTF-8 sequence in every string field of the struct at base with
//  U+FFFD. Returns how many strings changed, or -ENOMEM (then some may have).
int jobd_fields_fix_utf8 (const jobd_field_t *fields, size_t count, void *base);

//  Packs into a fresh buffer: *data_p (free() it) and *size_p. Returns 0 or -ENOMEM with a reason.
int jobd_fields_encode (const jobd_field_t *fields, size_t count, const void *base,
                        uint8_t **data_p, size_t *size_p, char *reason, size_t reason_size);

#endif
