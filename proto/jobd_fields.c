//  Table-driven msgpack maps: one description of a struct's fields serves encoding, strict
//  decoding, copying and freeing, for events and job records alike. Internal to proto/.
#include "jobd_fields.h"
#include "jobd_event.h"
#include "jobd_figures.h"
#include "jobd_proto_internal.h"
#include "jobd_state.h"
#include "jobd_utf8.h"
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(base, field) ((char *)(base) + (field)->offset)

//  Longest piece of a rejected value quoted back in a reason.
#define QUOTE_MAX 32

static const char *
s_type_name (msgpack_object_type type)
{
    switch (type) {
        case MSGPACK_OBJECT_NIL:
            return "nil";
        case MSGPACK_OBJECT_BOOLEAN:
            return "bool";
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            return "int";
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            return "float";
        case MSGPACK_OBJECT_STR:
            return "str";
        case MSGPACK_OBJECT_ARRAY:
            return "array";
        case MSGPACK_OBJECT_MAP:
            return "map";
        case MSGPACK_OBJECT_BIN:
            return "bin";
        default:
            return "ext";
    }
}

static bool
s_is_int (const msgpack_object *value)
{
    return value->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
           value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

//  Reads an integer within [min, max]. Either msgpack int family is accepted where the value
//  fits, since encoders differ in which one they pick for small values.
static int
s_read_int (const jobd_field_t *field, const msgpack_object *value, int64_t min, uint64_t max,
            uint64_t *out, char *reason, size_t reason_size)
{
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= max) {
        *out = value->via.u64;
        return 0;
    }
    if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && value->via.i64 >= min) {
        *out = (uint64_t)value->via.i64;
        return 0;
    }
    if (!s_is_int (value))
        jobd_proto_reason (reason, reason_size, "field '%s': expected %s integer, got %s",
                           field->key, min < 0 ? "an" : "an unsigned", s_type_name (value->type));
    else if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        jobd_proto_reason (reason, reason_size,
                           "field '%s': %" PRId64 " is out of range (%" PRId64 " to %" PRIu64 ")",
                           field->key, value->via.i64, min, max);
    else
        jobd_proto_reason (reason, reason_size,
                           "field '%s': %" PRIu64 " is out of range (%" PRId64 " to %" PRIu64 ")",
                           field->key, value->via.u64, min, max);
    return JOBD_EPROTO;
}

static int
s_read_number (const jobd_field_t *field, const msgpack_object *value, void *slot, char *reason,
               size_t reason_size)
{
    uint64_t number = 0;
    int rc;
    switch (field->kind) {
        case JOBD_FIELD_I64:
            rc = s_read_int (field, value, INT64_MIN, INT64_MAX, &number, reason, reason_size);
            if (rc == 0)
                *(int64_t *)slot = (int64_t)number;
            return rc;
        case JOBD_FIELD_U32:
            rc = s_read_int (field, value, 0, UINT32_MAX, &number, reason, reason_size);
            if (rc == 0)
                *(uint32_t *)slot = (uint32_t)number;
            return rc;
        default:
            rc = s_read_int (field, value, 0, UINT64_MAX, &number, reason, reason_size);
            if (rc == 0)
                *(uint64_t *)slot = number;
            return rc;
    }
}

//  States and types are names from a closed list.
static int
s_read_name (const jobd_field_t *field, const char *text, size_t length, void *slot, char *reason,
             size_t reason_size)
{
    int quoted = (int)(length > QUOTE_MAX ? QUOTE_MAX : length);
    if (field->kind == JOBD_FIELD_TYPE) {
        jobd_event_type_t type = jobd_event_type_parse (text, length);
        if (type == JOBD_EVENT_INVALID) {
            jobd_proto_reason (reason, reason_size, "field '%s': unknown event type '%.*s'",
                               field->key, quoted, text);
            return JOBD_EPROTO;
        }
        *(jobd_event_type_t *)slot = type;
        return 0;
    }
    //  "NONE" is what a job's first transition comes from: an encoder may spell it out.
    if (field->kind == JOBD_FIELD_STATE_OR_NONE && length == 4 && memcmp (text, "NONE", 4) == 0) {
        *(jobd_state_t *)slot = JOBD_STATE_NONE;
        return 0;
    }
    if (jobd_state_parse (text, length, (jobd_state_t *)slot)) {
        jobd_proto_reason (reason, reason_size, "field '%s': unknown state '%.*s'", field->key,
                           quoted, text);
        return JOBD_EPROTO;
    }
    return 0;
}

//  Figures are kept as their msgpack bytes, copied into strings when it is given.
static int
s_read_figures (const msgpack_object *value, jobd_figures_t *slot, char **strings, char *reason,
                size_t reason_size)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = jobd_figures_from_object (value, &data, &size, reason, reason_size);
    if (rc || !data)
        return rc;
    if (strings) {
        memcpy (*strings, data, size);
        free (data);
        data = (uint8_t *)*strings;
        *strings += size;
    }
    slot->data = data;
    slot->size = size;
    return 0;
}

//  strings: where string values are copied to, one after the other (a block the caller sized),
//  or NULL for a heap allocation each.
static int
s_read_one (const jobd_field_t *field, const msgpack_object *value, void *base, char **strings,
            char *reason, size_t reason_size)
{
    void *slot = FIELD (base, field);
    if (field->kind == JOBD_FIELD_BOOL) {
        if (value->type != MSGPACK_OBJECT_BOOLEAN) {
            jobd_proto_reason (reason, reason_size, "field '%s': expected a bool, got %s",
                               field->key, s_type_name (value->type));
            return JOBD_EPROTO;
        }
        *(bool *)slot = value->via.boolean;
        return 0;
    }
    if (field->kind == JOBD_FIELD_I64 || field->kind == JOBD_FIELD_U32 ||
        field->kind == JOBD_FIELD_U64)
        return s_read_number (field, value, slot, reason, reason_size);
    if (field->kind == JOBD_FIELD_FIGURES)
        return s_read_figures (value, (jobd_figures_t *)slot, strings, reason, reason_size);
    //  Strings, states and types are msgpack str, never bin.
    if (value->type != MSGPACK_OBJECT_STR) {
        jobd_proto_reason (reason, reason_size, "field '%s': expected a str, got %s", field->key,
                           s_type_name (value->type));
        return JOBD_EPROTO;
    }
    const char *text = value->via.str.ptr;
    size_t length = value->via.str.size;
    if (field->kind != JOBD_FIELD_STR)
        return s_read_name (field, text, length, slot, reason, reason_size);
    if (length > field->max) {
        jobd_proto_reason (reason, reason_size, "field '%s': %zu bytes, over its %zu byte limit",
                           field->key, length, field->max);
        return JOBD_ETOOBIG;
    }
    if (memchr (text, 0, length)) {
        jobd_proto_reason (reason, reason_size, "field '%s': contains a NUL byte", field->key);
        return JOBD_EPROTO;
    }
    char *copy = strings ? *strings : (char *)malloc (length + 1);
    if (strings)
        *strings += length + 1;
    if (!copy) {
        jobd_proto_reason (reason, reason_size, "field '%s': out of memory", field->key);
        return -ENOMEM;
    }
    memcpy (copy, text, length);
    copy[length] = 0;
    *(char **)slot = copy;
    return 0;
}

static int
s_read (const jobd_field_t *fields, size_t count, const msgpack_object *map, void *base,
        char **strings, char *reason, size_t reason_size)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP) {
        jobd_proto_reason (reason, reason_size, "expected a map, got %s",
                           map ? s_type_name (map->type) : "nothing");
        return JOBD_EPROTO;
    }
    //  One bit per field: a key given twice is refused, since which value wins differs between
    //  decoders and a message that means two things to two readers is worse than none.
    uint64_t seen = 0;
    assert (count <= 64);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[index];
        if (kv->key.type != MSGPACK_OBJECT_STR) {
            jobd_proto_reason (reason, reason_size, "map key of type %s: keys must be str",
                               s_type_name (kv->key.type));
            return JOBD_EPROTO;
        }
        for (size_t field = 0; field < count; field++) {
            const char *key = fields[field].key;
            if (fields[field].key_length != kv->key.via.str.size ||
                memcmp (key, kv->key.via.str.ptr, kv->key.via.str.size))
                continue;
            if (seen & (1ull << field)) {
                jobd_proto_reason (reason, reason_size, "field '%s' given twice", key);
                return JOBD_EPROTO;
            }
            seen |= 1ull << field;
            if (kv->val.type == MSGPACK_OBJECT_NIL)
                break; //  nil is absent: required fields are then refused by validation
            int rc = s_read_one (&fields[field], &kv->val, base, strings, reason, reason_size);
            if (rc)
                return rc;
            break;
        }
    }
    return 0;
}

int
jobd_fields_read (const jobd_field_t *fields, size_t count, const msgpack_object *map, void *base,
                  char *reason, size_t reason_size)
{
    return s_read (fields, count, map, base, NULL, reason, reason_size);
}

//  How many bytes msgpack packs the value in (0 when that fails: then it is refused anyway).
static size_t
s_packed_size (const msgpack_object *value)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    size_t size = msgpack_pack_object (&pk, *value) ? 0 : buffer.size;
    msgpack_sbuffer_destroy (&buffer);
    return size;
}

int
jobd_fields_read_flat (const jobd_field_t *fields, size_t count, const msgpack_object *map,
                       size_t struct_size, void **base_p, char *reason, size_t reason_size)
{
    //  Room for every string value a field could take (a key given twice is refused below).
    size_t room = 0;
    for (uint32_t index = 0; map && map->type == MSGPACK_OBJECT_MAP && index < map->via.map.size;
         index++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[index];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->val.type == MSGPACK_OBJECT_STR)
            room += kv->val.via.str.size + 1;
        else if (kv->key.type == MSGPACK_OBJECT_STR && kv->val.type == MSGPACK_OBJECT_ARRAY)
            room += s_packed_size (&kv->val); //  figures: their bytes (rare: plugin.status)
    }
    char *block = (char *)malloc (struct_size + room);
    if (!block) {
        jobd_proto_reason (reason, reason_size, "out of memory");
        return -ENOMEM;
    }
    memset (block, 0, struct_size);
    char *strings = block + struct_size;
    int rc = s_read (fields, count, map, block, &strings, reason, reason_size);
    if (rc)
        free (block);
    else
        *base_p = block;
    return rc;
}

//  True when the field holds a value worth packing: absent values are omitted, not nil.
static bool
s_present (const jobd_field_t *field, const void *base)
{
    const void *slot = FIELD (base, field);
    switch (field->kind) {
        case JOBD_FIELD_STR:
            return *(char *const *)slot != NULL;
        case JOBD_FIELD_I64:
            return *(const int64_t *)slot != 0;
        case JOBD_FIELD_U32:
            return *(const uint32_t *)slot != 0;
        case JOBD_FIELD_U64:
            return *(const uint64_t *)slot != 0;
        case JOBD_FIELD_BOOL:
            return *(const bool *)slot;
        case JOBD_FIELD_STATE:
        case JOBD_FIELD_STATE_OR_NONE:
            return *(const jobd_state_t *)slot != JOBD_STATE_NONE;
        case JOBD_FIELD_TYPE:
            return true;
        case JOBD_FIELD_FIGURES:
            return ((const jobd_figures_t *)slot)->data != NULL;
    }
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  Packing: straight into an sbuffer, the bytes msgpack's packer writes (its smallest forms),
//  without a call through the packer's writer for every key, header and value (encoding records
//  and transitions that way was a tenth of the broker's time at full speed).

static uint8_t *
s_put_be (uint8_t *out, uint64_t value, size_t size)
{
    for (size_t index = 0; index < size; index++)
        out[index] = (uint8_t)(value >> (8 * (size - 1 - index)));
    return out + size;
}

static uint8_t *
s_put_str (uint8_t *out, const char *text, size_t length)
{
    if (length < 32)
        *out++ = (uint8_t)(0xa0 | length);
    else if (length < 256) {
        *out++ = 0xd9;
        *out++ = (uint8_t)length;
    } else if (length < 65536) {
        *out++ = 0xda;
        out = s_put_be (out, length, 2);
    } else {
        *out++ = 0xdb;
        out = s_put_be (out, length, 4);
    }
    memcpy (out, text, length);
    return out + length;
}

//  An unsigned number, as msgpack_pack_uint64 (and _uint32, which picks the same forms) packs it.
static uint8_t *
s_put_unsigned (uint8_t *out, uint64_t value)
{
    if (value < 128) {
        *out++ = (uint8_t)value;
        return out;
    }
    if (value < 256) {
        *out++ = 0xcc;
        return s_put_be (out, value, 1);
    }
    if (value < 65536) {
        *out++ = 0xcd;
        return s_put_be (out, value, 2);
    }
    if (value < ((uint64_t)1 << 32)) {
        *out++ = 0xce;
        return s_put_be (out, value, 4);
    }
    *out++ = 0xcf;
    return s_put_be (out, value, 8);
}

//  A signed number, as msgpack_pack_int64 packs it.
static uint8_t *
s_put_signed (uint8_t *out, int64_t value)
{
    if (value >= -32 && value < 128) {
        *out++ = (uint8_t)value;
        return out;
    }
    if (value >= 0)
        return s_put_unsigned (out, (uint64_t)value);
    if (value >= -128) {
        *out++ = 0xd0;
        return s_put_be (out, (uint64_t)value, 1);
    }
    if (value >= -32768) {
        *out++ = 0xd1;
        return s_put_be (out, (uint64_t)value, 2);
    }
    if (value >= -((int64_t)1 << 31)) {
        *out++ = 0xd2;
        return s_put_be (out, (uint64_t)value, 4);
    }
    *out++ = 0xd3;
    return s_put_be (out, (uint64_t)value, 8);
}

int
jobd_fields_pack_to (const jobd_field_t *fields, size_t count, const void *base,
                     msgpack_sbuffer *buffer)
{
    //  The most it can take: a header of at most 5 bytes for the map, each key and each string,
    //  9 for a number.
    //  A string's length is measured once (tables have at most 64 fields: jobd_fields_read).
    size_t present = 0, bound = 5, lengths[64];
    assert (count <= 64);
    for (size_t index = 0; index < count; index++) {
        const jobd_field_t *field = &fields[index];
        if (!s_present (field, base))
            continue;
        present++;
        bound += 5 + field->key_length + 9;
        if (field->kind == JOBD_FIELD_STR) {
            lengths[index] = strlen (*(char *const *)FIELD (base, field));
            bound += 5 + lengths[index];
        } else if (field->kind == JOBD_FIELD_FIGURES)
            bound += ((const jobd_figures_t *)FIELD (base, field))->size;
        else if (field->kind >= JOBD_FIELD_STATE)
            bound += 5 + 32;
    }
    if (buffer->alloc - buffer->size < bound) {
        //  An empty buffer gets just the room it needs; a used one doubles, as msgpack's does.
        size_t alloc = buffer->alloc ? buffer->alloc * 2 : bound;
        while (alloc - buffer->size < bound)
            alloc *= 2;
        char *data = (char *)realloc (buffer->data, alloc);
        if (!data)
            return -ENOMEM;
        buffer->data = data;
        buffer->alloc = alloc;
    }
    uint8_t *out = (uint8_t *)buffer->data + buffer->size;
    if (present < 16)
        *out++ = (uint8_t)(0x80 | present);
    else if (present < 65536) {
        *out++ = 0xde;
        out = s_put_be (out, present, 2);
    } else {
        *out++ = 0xdf;
        out = s_put_be (out, present, 4);
    }
    for (size_t index = 0; index < count; index++) {
        const jobd_field_t *field = &fields[index];
        if (!s_present (field, base))
            continue;
        const void *slot = FIELD (base, field);
        out = s_put_str (out, field->key, field->key_length);
        const char *name = NULL;
        switch (field->kind) {
            case JOBD_FIELD_STR:
                out = s_put_str (out, *(char *const *)slot, lengths[index]);
                break;
            case JOBD_FIELD_I64:
                out = s_put_signed (out, *(const int64_t *)slot);
                break;
            case JOBD_FIELD_U32:
                out = s_put_unsigned (out, *(const uint32_t *)slot);
                break;
            case JOBD_FIELD_U64:
                out = s_put_unsigned (out, *(const uint64_t *)slot);
                break;
            case JOBD_FIELD_BOOL:
                *out++ = 0xc3;
                break;
            case JOBD_FIELD_STATE:
            case JOBD_FIELD_STATE_OR_NONE:
                name = jobd_state_name (*(const jobd_state_t *)slot);
                break;
            case JOBD_FIELD_TYPE:
                name = jobd_event_type_name (*(const jobd_event_type_t *)slot);
                break;
            case JOBD_FIELD_FIGURES: {
                const jobd_figures_t *figures = (const jobd_figures_t *)slot;
                memcpy (out, figures->data, figures->size);
                out += figures->size;
                break;
            }
        }
        if (name)
            out = s_put_str (out, name, strlen (name));
    }
    buffer->size = (size_t)(out - (uint8_t *)buffer->data);
    return 0;
}

int
jobd_fields_pack (const jobd_field_t *fields, size_t count, const void *base, msgpack_packer *pk)
{
    //  One encoder: the map is written into a buffer, then handed to the packer's writer whole.
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    int rc = jobd_fields_pack_to (fields, count, base, &buffer);
    if (rc == 0 && buffer.size && pk->callback (pk->data, buffer.data, buffer.size))
        rc = -ENOMEM;
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}

int
jobd_fields_dup (const jobd_field_t *fields, size_t count, void *dst)
{
    int rc = 0;
    for (size_t field = 0; field < count; field++) {
        if (fields[field].kind == JOBD_FIELD_FIGURES) {
            jobd_figures_t *figures = (jobd_figures_t *)FIELD (dst, &fields[field]);
            uint8_t *data = rc || !figures->data ? NULL : (uint8_t *)malloc (figures->size);
            if (data)
                memcpy (data, figures->data, figures->size);
            else if (!rc && figures->data)
                rc = -ENOMEM;
            figures->data = data;
            if (!data)
                figures->size = 0;
            continue;
        }
        if (fields[field].kind != JOBD_FIELD_STR)
            continue;
        char **slot = (char **)FIELD (dst, &fields[field]);
        if (rc)
            *slot = NULL; //  still the source's: must not be freed with the copy
        else if (*slot && !(*slot = strdup (*slot)))
            rc = -ENOMEM;
    }
    return rc;
}

void
jobd_fields_free (const jobd_field_t *fields, size_t count, void *base)
{
    for (size_t field = 0; field < count; field++)
        if (fields[field].kind == JOBD_FIELD_STR) {
            char **slot = (char **)FIELD (base, &fields[field]);
            free (*slot);
            *slot = NULL;
        } else if (fields[field].kind == JOBD_FIELD_FIGURES) {
            jobd_figures_t *figures = (jobd_figures_t *)FIELD (base, &fields[field]);
            free (figures->data);
            *figures = (jobd_figures_t){NULL, 0};
        }
}

int
jobd_fields_check (const jobd_field_t *fields, size_t count, const void *base, bool utf8,
                   char *reason, size_t reason_size)
{
    for (size_t field = 0; field < count; field++) {
        if (fields[field].kind == JOBD_FIELD_FIGURES) {
            const jobd_figures_t *figures = (const jobd_figures_t *)FIELD (base, &fields[field]);
            int rc = figures->data ? jobd_figures_check_bytes (figures->data, figures->size, reason,
                                                               reason_size)
                                   : 0;
            if (rc)
                return rc;
            continue;
        }
        if (fields[field].kind != JOBD_FIELD_STR)
            continue;
        const char *value = *(char *const *)FIELD (base, &fields[field]);
        size_t length = value ? strlen (value) : 0;
        if (length > fields[field].max) {
            jobd_proto_reason (reason, reason_size,
                               "field '%s': %zu bytes, over its %zu byte limit", fields[field].key,
                               length, fields[field].max);
            return JOBD_ETOOBIG;
        }
        size_t bad = utf8 && value ? jobd_utf8_check (value, length) : length;
        if (bad < length) {
            jobd_proto_reason (reason, reason_size,
                               "field '%s': not valid UTF-8 (byte 0x%02x at offset %zu)",
                               fields[field].key, (unsigned char)value[bad], bad);
            return JOBD_EPROTO;
        }
    }
    return 0;
}

int
jobd_fields_fix_utf8 (const jobd_field_t *fields, size_t count, void *base)
{
    int changed = 0;
    for (size_t field = 0; field < count; field++) {
        if (fields[field].kind != JOBD_FIELD_STR)
            continue;
        char **slot = (char **)FIELD (base, &fields[field]);
        size_t length = *slot ? strlen (*slot) : 0;
        if (jobd_utf8_check (*slot, length) == length)
            continue;
        char *fixed = (char *)malloc (length * 3 + 1);
        if (!fixed)
            return -ENOMEM;
        jobd_utf8_replace (*slot, length, fixed);
        free (*slot);
        *slot = fixed;
        changed++;
    }
    return changed;
}

int
jobd_fields_encode (const jobd_field_t *fields, size_t count, const void *base, uint8_t **data_p,
                    size_t *size_p, char *reason, size_t reason_size)
{
    //  One allocation, sized by what the map can take at most (msgpack's own first size, 8 KiB,
    //  was a large allocation per encoded event: the broker keeps a batch's transitions until
    //  the commit).
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    if (jobd_fields_pack_to (fields, count, base, &buffer)) {
        msgpack_sbuffer_destroy (&buffer);
        jobd_proto_reason (reason, reason_size, "out of memory");
        return -ENOMEM;
    }
    *size_p = buffer.size;
    *data_p = (uint8_t *)msgpack_sbuffer_release (&buffer);
    return 0;
}
