//  Helpers shared by the files of proto/ (each defined in one file, called by the others). Not
//  part of proto's API: nothing outside proto/ includes it.
#ifndef JOBD_PROTO_INTERNAL_H_INCLUDED
#define JOBD_PROTO_INTERNAL_H_INCLUDED

#include <msgpack.h>
#include <stddef.h>

//  Writes a formatted reason when reason is not NULL (jobd_reason.c).
void jobd_proto_reason (char *reason, size_t reason_size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Unpacks exactly size bytes (at most max_size, checked first) as one msgpack value into
//  unpacked (initialised by the caller, who destroys it). Strings in it point into data. Returns 0,
//  or JOBD_EPROTO / JOBD_ETOOBIG / -ENOMEM with a reason (jobd_msgpack.c).
int jobd_msgpack_unpack_limited (const void *data, size_t size, size_t max_size,
                                 msgpack_unpacked *unpacked, char *reason, size_t reason_size);

#endif
