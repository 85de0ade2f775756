//  The HTTP status and error code of a broker's reply that is not ok (API.md, "Errors").
#ifndef HT_STATUS_H_INCLUDED
#define HT_STATUS_H_INCLUDED

#include "jobd_reply.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The status of reply (not ok), and its error code into *code_p (a constant string):
//  EINVAL/EPROTO/ETOOBIG 400 invalid; ENOTFOUND 404 not_found; ESTATE/EEXIST 409 conflict;
//  ETIMEOUT with a job (cluster mode: a write committed and not confirmed) 504 unconfirmed;
//  EFULL/ESTORE/EBUSY/ETIMEOUT/ENOTOWNER 503 unavailable; anything else 500 internal.
unsigned ht_status_of (const jobd_reply_t *reply, const char **code_p);

#ifdef __cplusplus
}
#endif
#endif
