//  jobd's error codes and their one description function.
#include "jobd_error.h"
#include <string.h>

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
            return "the store is full (raise core/map_size)";
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
        default:
            break;
    }
    //  Not strerror: for an unknown code it formats into a buffer that the next call reuses.
    //  strerrordesc_np (glibc 2.32) returns static text, or NULL for an unknown code.
    const char *text = err < 0 && err > -4096 ? strerrordesc_np (-err) : NULL;
    return text ? text : "unknown error";
}
