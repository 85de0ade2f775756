//  CURVE key files: zcert's ZPL format (jobd --keygen, jobctl keygen), read strictly (a secret key
//  must be trusted and unreadable by others) and written owner-only.
#ifndef JOBD_CERT_H_INCLUDED
#define JOBD_CERT_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Loads the secret certificate at path (zcert format) for one side of CURVE. It must be a
//  trusted file (jobd_trust_check) that neither its group nor others can read. Returns 0 and
//  sets *cert_p (fresh), or -EPERM / -errno / JOBD_ECONFIG with a reason naming what and path.
int jobd_cert_load_secret (const char *path, const char *what, zcert_t **cert_p, char *reason,
                           size_t reason_size);

//  Loads the public certificate at path (zcert format, e.g. jobd's PATH.pub). Returns 0 and sets
//  *cert_p (fresh), or -errno / JOBD_ECONFIG with a reason naming what and path.
int jobd_cert_load_public (const char *path, const char *what, zcert_t **cert_p, char *reason,
                           size_t reason_size);

//  Makes a new key pair: path (secret and public keys, mode 0600) and path.pub (the public key
//  alone, mode 0644, for the other side). Refuses to replace an existing path. Returns 0, or
//  -EEXIST / -errno with a reason.
int jobd_cert_keygen (const char *path, char *reason, size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
