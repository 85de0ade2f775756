//  jobd's error codes and their one description function.
#include "jobd_error.h"
#include <assert.h>
#include <errno.h>
#include <string.h>

//  The names of jobd's own codes, from JOBD_EFIRST down to JOBD_ELAST, indexed by
//  JOBD_EFIRST - code. Names are part of the admin protocol (proto/README.md, section 8).
static const char *s_names[] = {
    "EPROTO",    //  JOBD_EPROTO
    "ETOOBIG",   //  JOBD_ETOOBIG
    "ENOTFOUND", //  JOBD_ENOTFOUND
    "ESTATE",    //  JOBD_ESTATE
    "EFORMAT",   //  JOBD_EFORMAT
    "ECORRUPT",  //  JOBD_ECORRUPT
    "EFULL",     //  JOBD_EFULL
    "ESTORE",    //  JOBD_ESTORE
    "ECONFIG",   //  JOBD_ECONFIG
    "EABI",      //  JOBD_EABI
    "EEXIST",    //  JOBD_EEXIST
    "ETIMEOUT",  //  JOBD_ETIMEOUT
    "EINVAL",    //  JOBD_EINVAL
    "ENOTOWNER", //  JOBD_ENOTOWNER
};
static_assert (sizeof s_names / sizeof s_names[0] == JOBD_EFIRST - JOBD_ELAST + 1,
               "every jobd error code from JOBD_EFIRST to JOBD_ELAST has its name in s_names");

const char *
jobd_error_name (int rc)
{
    if (rc == 0)
        return "OK";
    if (rc <= JOBD_EFIRST && rc >= JOBD_ELAST)
        return s_names[JOBD_EFIRST - rc];
    if (rc == -EBUSY)
        return "EBUSY";
    return "EFAIL";
}

int
jobd_error_parse (const char *name, size_t length, int *rc_p)
{
    for (int rc = JOBD_EFIRST; rc >= JOBD_ELAST; rc--) {
        const char *known = s_names[JOBD_EFIRST - rc];
        if (strlen (known) == length && memcmp (known, name, length) == 0) {
            *rc_p = rc;
            return 0;
        }
    }
    static const struct {
        const char *name;
        int rc;
    } others[] = {{"OK", 0}, {"EBUSY", -EBUSY}, {"EFAIL", -EIO}};
    for (size_t index = 0; index < sizeof others / sizeof others[0]; index++)
        if (strlen (others[index].name) == length &&
            memcmp (others[index].name, name, length) == 0) {
            *rc_p = others[index].rc;
            return 0;
        }
    return JOBD_EPROTO;
}

const char *
jobd_strerror (int err)
{
    switch (err) {
        case 0:
            return "success";
        case JOBD_EPROTO:
            return "malformed message";
        case JOBD_ETOOBIG:
            return "over the size limit";
        case JOBD_ENOTFOUND:
            return "no such job";
        case JOBD_ESTATE:
            return "not allowed in the job's current state";
        case JOBD_EFORMAT:
            return "the store was written by a newer jobd";
        case JOBD_ECORRUPT:
            return "the store is corrupt or not a jobd store";
        case JOBD_EFULL:
            return "the store is full (raise core/map_size_max)";
        case JOBD_ESTORE:
            return "store failure";
        case JOBD_ECONFIG:
            return "invalid configuration";
        case JOBD_EABI:
            return "plugin built for another ABI";
        case JOBD_EEXIST:
            return "already exists";
        case JOBD_ETIMEOUT:
            return "no answer before the deadline";
        case JOBD_EINVAL:
            return "invalid submission";
        case JOBD_ENOTOWNER:
            return "the job's partition is owned by another instance of the cluster";
        default:
            break;
    }
    //  Not strerror: for an unknown code it formats into a buffer that the next call reuses.
    //  strerrordesc_np (glibc 2.32) returns static text, or NULL for an unknown code.
    const char *text = err < 0 && err > -4096 ? strerrordesc_np (-err) : NULL;
    return text ? text : "unknown error";
}
