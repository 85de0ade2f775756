//  Figures: the strict check of a plugin's measures (README.md section 3, Figures).
#include "jobd_figures.h"
#include "jobd_proto_internal.h"
#include "jobd_utf8.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "field 'figures': "

static bool
s_has_suffix (const char *name, size_t len, const char *suffix)
{
    size_t suffix_len = strlen (suffix);
    return len >= suffix_len && memcmp (name + len - suffix_len, suffix, suffix_len) == 0;
}

//  [a-z][a-z0-9_]*, 1 to JOBD_FIGURE_NAME_MAX bytes.
static bool
s_snake (const char *name, size_t len)
{
    if (!name || len == 0 || len > JOBD_FIGURE_NAME_MAX || name[0] < 'a' || name[0] > 'z')
        return false;
    for (size_t index = 1; index < len; index++) {
        char c = name[index];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

bool
jobd_figure_name_valid (const char *name, size_t len)
{
    return s_snake (name, len) && !s_has_suffix (name, len, "_sum") &&
           !s_has_suffix (name, len, "_count") && !s_has_suffix (name, len, "_bucket");
}

bool
jobd_figure_label_valid (const char *name, size_t len)
{
    return s_snake (name, len) && !(len == 6 && memcmp (name, "plugin", 6) == 0);
}

bool
jobd_figure_is_counter (const char *name)
{
    return name && s_has_suffix (name, strlen (name), "_total");
}

//  A string of at most max bytes, no NUL, valid UTF-8; what names the item in the reason.
static int
s_check_text (const msgpack_object *value, size_t max, size_t entry, const char *what, char *reason,
              size_t reason_size)
{
    if (value->type != MSGPACK_OBJECT_STR) {
        jobd_proto_reason (reason, reason_size, PREFIX "[%zu] %s: expected a str", entry, what);
        return JOBD_EPROTO;
    }
    const char *text = value->via.str.ptr;
    size_t size = value->via.str.size;
    if (size > max) {
        jobd_proto_reason (reason, reason_size, PREFIX "[%zu] %s: %zu bytes, over its %zu", entry,
                           what, size, max);
        return JOBD_EPROTO;
    }
    size_t bad = jobd_utf8_check (text, size);
    if (bad < size || memchr (text, 0, size)) {
        jobd_proto_reason (reason, reason_size, PREFIX "[%zu] %s: not valid UTF-8 text", entry,
                           what);
        return JOBD_EPROTO;
    }
    return 0;
}

static int
s_check_labels (const msgpack_object *labels, size_t entry, char *reason, size_t reason_size)
{
    if (labels->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (labels->type != MSGPACK_OBJECT_MAP) {
        jobd_proto_reason (reason, reason_size, PREFIX "[%zu] labels: expected a map or nil",
                           entry);
        return JOBD_EPROTO;
    }
    if (labels->via.map.size > JOBD_FIGURE_LABELS_MAX) {
        jobd_proto_reason (reason, reason_size, PREFIX "[%zu] labels: %u, more than %d", entry,
                           labels->via.map.size, JOBD_FIGURE_LABELS_MAX);
        return JOBD_EPROTO;
    }
    for (uint32_t index = 0; index < labels->via.map.size; index++) {
        const msgpack_object *key = &labels->via.map.ptr[index].key;
        if (key->type != MSGPACK_OBJECT_STR ||
            !jobd_figure_label_valid (key->via.str.ptr, key->via.str.size)) {
            jobd_proto_reason (reason, reason_size,
                               PREFIX "[%zu] label %u: its name is not [a-z][a-z0-9_]* (1 to "
                                      "64 bytes) or is 'plugin'",
                               entry, index);
            return JOBD_EPROTO;
        }
        for (uint32_t other = 0; other < index; other++) {
            const msgpack_object *seen = &labels->via.map.ptr[other].key;
            if (seen->via.str.size == key->via.str.size &&
                memcmp (seen->via.str.ptr, key->via.str.ptr, key->via.str.size) == 0) {
                jobd_proto_reason (reason, reason_size, PREFIX "[%zu] label '%.*s' given twice",
                                   entry, (int)key->via.str.size, key->via.str.ptr);
                return JOBD_EPROTO;
            }
        }
        int rc = s_check_text (&labels->via.map.ptr[index].val, JOBD_FIGURE_VALUE_MAX, entry,
                               "a label's value", reason, reason_size);
        if (rc)
            return rc;
    }
    return 0;
}

static int
s_check_entry (const msgpack_object *entry, size_t index, char *reason, size_t reason_size)
{
    if (entry->type != MSGPACK_OBJECT_ARRAY || entry->via.array.size < 2 ||
        entry->via.array.size > 4) {
        jobd_proto_reason (reason, reason_size,
                           PREFIX "[%zu]: expected [name, value, labels, help] (2 to 4 items)",
                           index);
        return JOBD_EPROTO;
    }
    const msgpack_object *items = entry->via.array.ptr;
    if (items[0].type != MSGPACK_OBJECT_STR ||
        !jobd_figure_name_valid (items[0].via.str.ptr, items[0].via.str.size)) {
        int len = items[0].type == MSGPACK_OBJECT_STR ? (int)items[0].via.str.size : 0;
        jobd_proto_reason (reason, reason_size,
                           PREFIX "[%zu] name '%.*s': not [a-z][a-z0-9_]* (1 to 64 bytes, not "
                                  "ending in _sum, _count or _bucket)",
                           index, len > 64 ? 64 : len, len ? items[0].via.str.ptr : "");
        return JOBD_EPROTO;
    }
    const msgpack_object *value = &items[1];
    bool number =
        value->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
        value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
        ((value->type == MSGPACK_OBJECT_FLOAT32 || value->type == MSGPACK_OBJECT_FLOAT64) &&
         isfinite (value->via.f64));
    if (!number) {
        jobd_proto_reason (reason, reason_size, PREFIX "[%zu] value: expected a finite number",
                           index);
        return JOBD_EPROTO;
    }
    int rc = entry->via.array.size > 2 ? s_check_labels (&items[2], index, reason, reason_size) : 0;
    if (rc == 0 && entry->via.array.size > 3) {
        rc = s_check_text (&items[3], JOBD_FIGURE_HELP_MAX, index, "help", reason, reason_size);
        if (rc == 0 && (memchr (items[3].via.str.ptr, '\n', items[3].via.str.size) ||
                        memchr (items[3].via.str.ptr, '\r', items[3].via.str.size))) {
            jobd_proto_reason (reason, reason_size, PREFIX "[%zu] help: more than one line", index);
            rc = JOBD_EPROTO;
        }
    }
    return rc;
}

static uint32_t
s_label_count (const msgpack_object *entry)
{
    if (entry->via.array.size < 3 || entry->via.array.ptr[2].type != MSGPACK_OBJECT_MAP)
        return 0;
    return entry->via.array.ptr[2].via.map.size;
}

static bool
s_str_equal (const msgpack_object *one, const msgpack_object *two)
{
    return one->via.str.size == two->via.str.size &&
           memcmp (one->via.str.ptr, two->via.str.ptr, one->via.str.size) == 0;
}

//  Two checked entries with the same name and the same labels (as sets) would be one series
//  given twice.
static bool
s_same_series (const msgpack_object *one, const msgpack_object *two)
{
    if (!s_str_equal (&one->via.array.ptr[0], &two->via.array.ptr[0]))
        return false;
    uint32_t count = s_label_count (one);
    if (count != s_label_count (two))
        return false;
    for (uint32_t index = 0; index < count; index++) {
        const msgpack_object_kv *label = &one->via.array.ptr[2].via.map.ptr[index];
        bool found = false;
        for (uint32_t other = 0; other < count && !found; other++) {
            const msgpack_object_kv *match = &two->via.array.ptr[2].via.map.ptr[other];
            found =
                s_str_equal (&label->key, &match->key) && s_str_equal (&label->val, &match->val);
        }
        if (!found)
            return false;
    }
    return true;
}

int
jobd_figures_check (const msgpack_object *figures, char *reason, size_t reason_size)
{
    if (!figures || figures->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (figures->type != MSGPACK_OBJECT_ARRAY) {
        jobd_proto_reason (reason, reason_size, PREFIX "expected an array");
        return JOBD_EPROTO;
    }
    if (figures->via.array.size > JOBD_FIGURES_MAX) {
        jobd_proto_reason (reason, reason_size, PREFIX "%u entries, more than %d",
                           figures->via.array.size, JOBD_FIGURES_MAX);
        return JOBD_EPROTO;
    }
    const msgpack_object *entries = figures->via.array.ptr;
    for (uint32_t index = 0; index < figures->via.array.size; index++) {
        int rc = s_check_entry (&entries[index], index, reason, reason_size);
        if (rc)
            return rc;
        //  Quadratic, but on names first: 512 entries are 130,000 length compares at most.
        for (uint32_t other = 0; other < index; other++)
            if (s_same_series (&entries[index], &entries[other])) {
                jobd_proto_reason (reason, reason_size,
                                   PREFIX "[%u]: the same name and labels as [%u]", index, other);
                return JOBD_EPROTO;
            }
    }
    return 0;
}

int
jobd_figures_check_bytes (const uint8_t *data, size_t size, char *reason, size_t reason_size)
{
    if (size > JOBD_FIGURES_BYTES_MAX) {
        jobd_proto_reason (reason, reason_size, PREFIX "%zu bytes, over its %d byte limit", size,
                           JOBD_FIGURES_BYTES_MAX);
        return JOBD_ETOOBIG;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    char why[200] = "";
    int rc = jobd_msgpack_unpack_limited (data, size, JOBD_FIGURES_BYTES_MAX, &unpacked, why,
                                          sizeof why);
    if (rc)
        jobd_proto_reason (reason, reason_size, PREFIX "%s", why);
    else
        rc = jobd_figures_check (&unpacked.data, reason, reason_size);
    msgpack_unpacked_destroy (&unpacked);
    return rc;
}

int
jobd_figures_from_object (const msgpack_object *figures, uint8_t **data_p, size_t *size_p,
                          char *reason, size_t reason_size)
{
    *data_p = NULL;
    *size_p = 0;
    int rc = jobd_figures_check (figures, reason, reason_size);
    if (rc || !figures || figures->type == MSGPACK_OBJECT_NIL || figures->via.array.size == 0)
        return rc;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    if (msgpack_pack_object (&pk, *figures)) {
        msgpack_sbuffer_destroy (&buffer);
        jobd_proto_reason (reason, reason_size, PREFIX "out of memory");
        return -ENOMEM;
    }
    if (buffer.size > JOBD_FIGURES_BYTES_MAX) {
        jobd_proto_reason (reason, reason_size, PREFIX "%zu bytes, over its %d byte limit",
                           buffer.size, JOBD_FIGURES_BYTES_MAX);
        msgpack_sbuffer_destroy (&buffer);
        return JOBD_ETOOBIG;
    }
    *size_p = buffer.size;
    *data_p = (uint8_t *)msgpack_sbuffer_release (&buffer);
    return 0;
}
