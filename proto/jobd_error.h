//  jobd's error codes: 0 or a negative code; -errno, or jobd's own range below -1000.
#ifndef JOBD_ERROR_H_INCLUDED
#define JOBD_ERROR_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_EPROTO    -1001 //  malformed message (bad msgpack, wrong type, missing field)
#define JOBD_ETOOBIG   -1002 //  a message, string or collection over its limit
#define JOBD_ENOTFOUND -1003 //  no such job
#define JOBD_ESTATE    -1004 //  the command is not allowed in the job's current state
#define JOBD_EFORMAT   -1005 //  the store's on-disk format is newer than this build
#define JOBD_ECORRUPT  -1006 //  the store is corrupt or not an LMDB store
#define JOBD_EFULL     -1007 //  the store's map is full (MDB_MAP_FULL): raise store/map_size
#define JOBD_ESTORE    -1008 //  any other LMDB failure (logged with LMDB's own text)
#define JOBD_ECONFIG   -1009 //  invalid configuration
#define JOBD_EABI      -1010 //  a plugin built for another ABI
#define JOBD_EEXIST    -1011 //  already exists (duplicate id)
#define JOBD_ETIMEOUT  -1012 //  no answer before the deadline
#define JOBD_EINVAL                                                                                \
    -1013                    //  a submission refused: no running plugin takes its kind, or its spec
                             //  is invalid (the reason says why)
#define JOBD_ENOTOWNER -1014 //  cluster mode: the job's partition is owned by another instance
//  A new code goes above this line, and JOBD_ELAST moves to it: jobd_error_name checks at
//  compile time that each one has its name.
#define JOBD_EFIRST JOBD_EPROTO
#define JOBD_ELAST  JOBD_ENOTOWNER

//  Returns a static, human description of err (a jobd code or -errno). Never NULL.
const char *jobd_strerror (int err);

//  Returns the name an admin reply carries for rc (its "error" field): "OK" for 0, "EPROTO",
//  "ESTORE", ... for each jobd code, "EBUSY" for -EBUSY, and "EFAIL" for any other -errno.
//  Static; never NULL.
const char *jobd_error_name (int rc);

//  Reads a name back (the "error" of a reply): returns 0 and sets *rc_p to the code ("OK" is 0,
//  "EBUSY" is -EBUSY, "EFAIL" is -EIO), or JOBD_EPROTO for a name jobd does not know. length
//  bytes at name, not NUL-terminated.
int jobd_error_parse (const char *name, size_t length, int *rc_p);

#ifdef __cplusplus
}
#endif
#endif
