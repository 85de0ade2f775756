//  msgpack checking and unpacking of untrusted bytes, for every reader of msgpack in jobd.
#ifndef JOBD_MSGPACK_H_INCLUDED
#define JOBD_MSGPACK_H_INCLUDED

#include "jobd_error.h"
#include <msgpack.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Checks that data holds exactly one msgpack value in which no string, array or map claims more
//  than the bytes that remain, so that unpacking it cannot be made to allocate far more than
//  size. Run it on untrusted bytes before msgpack_unpack_next. Returns 0, or JOBD_EPROTO with a
//  reason (truncated, a never-used byte, a lying length, trailing bytes).
int jobd_msgpack_check (const void *data, size_t size, char *reason, size_t reason_size);

//  Checks data with jobd_msgpack_check, then unpacks it into unpacked (initialised by the caller)
//  from a copy owned by unpacked's zone: the object stays valid after data is freed, until
//  msgpack_unpacked_destroy. Returns 0, or JOBD_EPROTO / -ENOMEM with a reason.
int jobd_msgpack_unpack (const void *data, size_t size, msgpack_unpacked *unpacked, char *reason,
                         size_t reason_size);

//  Checks data with jobd_msgpack_check, then unpacks it in place into *object: its arrays and
//  maps go into zone (cleared first: a zone kept for reuse spares an allocation per message), its
//  strings point into data. Both must outlive the object. Returns 0, or JOBD_EPROTO / -ENOMEM
//  with a reason.
int jobd_msgpack_unpack_in (const void *data, size_t size, msgpack_zone *zone,
                            msgpack_object *object, char *reason, size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
