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
    if (err < 0 && err > -4096)
        return strerror (-err); //  glibc's strerror returns static text for known codes
    return "unknown error";
}
