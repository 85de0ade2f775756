//  msgpack checking and unpacking: untrusted bytes are proved to hold exactly one value whose
//  lengths do not lie before msgpack-c's unpacker (and its allocator) sees them.
#include "jobd_msgpack.h"
#include "jobd_proto_internal.h"
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

//  The first chunk of an unpacking zone: room for a small message and its objects. msgpack's
//  default (8 KiB) was a large allocation per event, most of the cost of malloc at full speed;
//  the zone grows by itself for larger messages.
static size_t
s_zone_chunk (size_t size)
{
    return size + 512;
}

int
jobd_msgpack_unpack_limited (const void *data, size_t size, size_t max_size,
                             msgpack_unpacked *unpacked, char *reason, size_t reason_size)
{
    if (size > max_size) {
        jobd_proto_reason (reason, reason_size, "message of %zu bytes, over the %zu byte limit",
                           size, max_size);
        return JOBD_ETOOBIG;
    }
    //  The check proves that the bytes hold exactly one value and that no length in them lies,
    //  so the unpacker below neither over-allocates nor leaves trailing bytes unnoticed.
    int rc = jobd_msgpack_check (data, size, reason, reason_size);
    if (rc)
        return rc;
    size_t offset = 0;
    msgpack_object object;
    msgpack_zone *zone = msgpack_zone_new (s_zone_chunk (size));
    msgpack_unpack_return result =
        zone ? msgpack_unpack ((const char *)data, size, &offset, zone, &object)
             : MSGPACK_UNPACK_NOMEM_ERROR;
    if (result == MSGPACK_UNPACK_EXTRA_BYTES)
        result = MSGPACK_UNPACK_SUCCESS; //  told below, with their count
    if (result != MSGPACK_UNPACK_SUCCESS || offset != size)
        msgpack_zone_free (zone);
    if (result == MSGPACK_UNPACK_NOMEM_ERROR) {
        jobd_proto_reason (reason, reason_size, "out of memory");
        return -ENOMEM;
    }
    if (result != MSGPACK_UNPACK_SUCCESS) {
        jobd_proto_reason (reason, reason_size, "not valid msgpack");
        return JOBD_EPROTO;
    }
    if (offset != size) {
        jobd_proto_reason (reason, reason_size, "%zu trailing bytes after the map", size - offset);
        return JOBD_EPROTO;
    }
    msgpack_unpacked_destroy (unpacked);
    unpacked->zone = zone;
    unpacked->data = object;
    return 0;
}

//  Header size, payload size and child count of the msgpack value starting at byte.
static int
s_header (const uint8_t *data, size_t size, size_t *header, uint64_t *payload, uint64_t *children)
{
    uint8_t byte = data[0];
    *payload = 0;
    *children = 0;
    *header = 1;
    //  Lengths of 1, 2, 4 bytes that follow the type byte, read big-endian.
    size_t length_size = 0;
    bool length_is_payload = false, length_is_array = false, length_is_map = false;
    if (byte <= 0x7f || byte >= 0xe0 || byte == 0xc0 || byte == 0xc2 || byte == 0xc3)
        return 0;
    if ((byte & 0xf0) == 0x80) {
        *children = 2 * (byte & 0x0f);
        return 0;
    }
    if ((byte & 0xf0) == 0x90) {
        *children = byte & 0x0f;
        return 0;
    }
    if ((byte & 0xe0) == 0xa0) {
        *payload = byte & 0x1f;
        return 0;
    }
    switch (byte) {
        case 0xc4:
        case 0xd9:
            length_size = 1;
            length_is_payload = true;
            break;
        case 0xc5:
        case 0xda:
            length_size = 2;
            length_is_payload = true;
            break;
        case 0xc6:
        case 0xdb:
            length_size = 4;
            length_is_payload = true;
            break;
        case 0xc7:
            length_size = 1;
            length_is_payload = true;
            *payload = 1;
            break;
        case 0xc8:
            length_size = 2;
            length_is_payload = true;
            *payload = 1;
            break;
        case 0xc9:
            length_size = 4;
            length_is_payload = true;
            *payload = 1;
            break;
        case 0xca:
            *payload = 4;
            return 0;
        case 0xcb:
            *payload = 8;
            return 0;
        case 0xcc:
        case 0xd0:
            *payload = 1;
            return 0;
        case 0xcd:
        case 0xd1:
            *payload = 2;
            return 0;
        case 0xce:
        case 0xd2:
            *payload = 4;
            return 0;
        case 0xcf:
        case 0xd3:
            *payload = 8;
            return 0;
        case 0xd4:
            *payload = 2;
            return 0;
        case 0xd5:
            *payload = 3;
            return 0;
        case 0xd6:
            *payload = 5;
            return 0;
        case 0xd7:
            *payload = 9;
            return 0;
        case 0xd8:
            *payload = 17;
            return 0;
        case 0xdc:
            length_size = 2;
            length_is_array = true;
            break;
        case 0xdd:
            length_size = 4;
            length_is_array = true;
            break;
        case 0xde:
            length_size = 2;
            length_is_map = true;
            break;
        case 0xdf:
            length_size = 4;
            length_is_map = true;
            break;
        default:
            return JOBD_EPROTO; //  0xc1: never used
    }
    if (size < 1 + length_size)
        return JOBD_EPROTO;
    uint64_t length = 0;
    for (size_t index = 0; index < length_size; index++)
        length = (length << 8) | data[1 + index];
    *header = 1 + length_size;
    if (length_is_payload)
        *payload += length; //  ext types add their one type byte
    else if (length_is_array)
        *children = length;
    else if (length_is_map)
        *children = 2 * length;
    return 0;
}

//  msgpack-c's unpacker holds at most 32 open containers (MSGPACK_EMBED_STACK_SIZE) and reports
//  more as out of memory: refuse deeper nesting first, with its real reason.
#define DEPTH_MAX 32

int
jobd_msgpack_check (const void *data, size_t size, char *reason, size_t reason_size)
{
    const uint8_t *bytes = (const uint8_t *)data;
    size_t offset = 0;
    //  Values still to read in each open container; level 0 is the one top value.
    uint64_t pending[DEPTH_MAX + 1] = {1};
    size_t depth = 0;
    while (depth > 0 || pending[0] > 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        if (offset >= size) {
            jobd_proto_reason (reason, reason_size, "not valid msgpack (truncated)");
            return JOBD_EPROTO;
        }
        size_t header;
        uint64_t payload, children;
        if (s_header (bytes + offset, size - offset, &header, &payload, &children)) {
            jobd_proto_reason (reason, reason_size, "not valid msgpack (%s at %zu)",
                               bytes[offset] == 0xc1 ? "never-used byte 0xc1" : "truncated",
                               offset);
            return JOBD_EPROTO;
        }
        size_t left = size - offset - header;
        //  Every element takes at least one byte: a claim of more is a lie, refused before
        //  anything allocates room for it.
        if (payload > left || children > left) {
            jobd_proto_reason (
                reason, reason_size,
                "not valid msgpack (a value at %zu claims more than the %zu bytes left)", offset,
                left);
            return JOBD_EPROTO;
        }
        offset += header + payload;
        pending[depth]--;
        if (children > 0) {
            if (depth == DEPTH_MAX) {
                jobd_proto_reason (reason, reason_size,
                                   "not valid msgpack (nested more than %d deep at %zu)", DEPTH_MAX,
                                   offset);
                return JOBD_EPROTO;
            }
            pending[++depth] = children;
        }
    }
    if (offset != size) {
        jobd_proto_reason (reason, reason_size, "%zu trailing bytes after the value",
                           size - offset);
        return JOBD_EPROTO;
    }
    return 0;
}

int
jobd_msgpack_unpack (const void *data, size_t size, msgpack_unpacked *unpacked, char *reason,
                     size_t reason_size)
{
    int rc = jobd_msgpack_check (data, size, reason, reason_size);
    if (rc)
        return rc;
    msgpack_zone *zone = msgpack_zone_new (s_zone_chunk (size));
    char *copy = zone ? (char *)msgpack_zone_malloc (zone, size ? size : 1) : NULL;
    if (!copy) {
        msgpack_zone_free (zone);
        return -ENOMEM;
    }
    memcpy (copy, data, size);
    size_t offset = 0;
    msgpack_object object;
    if (msgpack_unpack (copy, size, &offset, zone, &object) != MSGPACK_UNPACK_SUCCESS ||
        offset != size) {
        jobd_proto_reason (reason, reason_size, "not valid msgpack");
        msgpack_zone_free (zone);
        return JOBD_EPROTO;
    }
    msgpack_unpacked_destroy (unpacked);
    unpacked->zone = zone;
    unpacked->data = object;
    return 0;
}

int
jobd_msgpack_unpack_in (const void *data, size_t size, msgpack_zone *zone, msgpack_object *object,
                        char *reason, size_t reason_size)
{
    int rc = jobd_msgpack_check (data, size, reason, reason_size);
    if (rc)
        return rc;
    msgpack_zone_clear (zone);
    size_t offset = 0;
    msgpack_unpack_return result = msgpack_unpack ((const char *)data, size, &offset, zone, object);
    if (result == MSGPACK_UNPACK_NOMEM_ERROR) {
        jobd_proto_reason (reason, reason_size, "out of memory");
        return -ENOMEM;
    }
    if (result != MSGPACK_UNPACK_SUCCESS || offset != size) {
        jobd_proto_reason (reason, reason_size, "not valid msgpack");
        return JOBD_EPROTO;
    }
    return 0;
}
