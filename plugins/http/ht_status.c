//  The HTTP status and error code of a broker's reply that is not ok (API.md, "Errors").
#include "ht_status.h"
#include <string.h>

unsigned
ht_status_of (const jobd_reply_t *reply, const char **code_p)
{
    const char *error = reply->error;
    //  Cluster mode: committed on the instance, not confirmed by Kafka (it may yet be stored):
    //  the job to look up, and no invitation to send it again.
    if (!strcmp (error, "ETIMEOUT") && reply->job[0]) {
        *code_p = "unconfirmed";
        return 504;
    }
    if (!strcmp (error, "EINVAL") || !strcmp (error, "EPROTO") || !strcmp (error, "ETOOBIG")) {
        *code_p = "invalid";
        return 400;
    }
    if (!strcmp (error, "ENOTFOUND")) {
        *code_p = "not_found";
        return 404;
    }
    if (!strcmp (error, "ESTATE") || !strcmp (error, "EEXIST")) {
        *code_p = "conflict";
        return 409;
    }
    if (!strcmp (error, "EFULL") || !strcmp (error, "ESTORE") || !strcmp (error, "EBUSY") ||
        !strcmp (error, "ETIMEOUT") || !strcmp (error, "ENOTOWNER")) {
        *code_p = "unavailable";
        return 503;
    }
    *code_p = "internal";
    return 500;
}
