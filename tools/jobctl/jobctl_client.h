//  jobctl's side of the admin protocol: one request, one reply, with a deadline.
#ifndef JOBCTL_CLIENT_H_INCLUDED
#define JOBCTL_CLIENT_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

#define JOBCTL_EUNREACHABLE -2001 //  no reply before the deadline: jobd is not running there
#define JOBCTL_EACCES       -2002 //  the admin socket is not open to this user

//  Checks that data holds one reply map (v, type "reply", ok). Returns 0 and fills unpacked
//  (the caller destroys it), or JOBD_EPROTO with a reason. Never reads past data + size.
int jobctl_reply_parse (const void *data, size_t size, msgpack_unpacked *unpacked, char *reason,
                        size_t reason_size);

//  Sends request (one msgpack map) to the admin endpoint and waits up to timeout_ms for the
//  reply. Returns 0 with *unpacked filled (a reply map; see jobctl_reply_parse), or
//  JOBCTL_EUNREACHABLE, or JOBD_EPROTO, each with a reason.
int jobctl_request (const char *endpoint, int timeout_ms, const msgpack_sbuffer *request,
                    msgpack_unpacked *unpacked, char *reason, size_t reason_size);

//  True when the reply says ok; otherwise copies its reason.
bool jobctl_reply_ok (const msgpack_object *reply, char *reason, size_t reason_size);

#endif
