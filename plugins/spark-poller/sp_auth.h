//  spark-poller: how a backend authenticates each request (HTTP basic, a bearer token, YARN's
//  simple auth `user.name`, Kerberos/SPNEGO, a Hadoop delegation token), and its secrets, read
//  from the config or from a file only its owner can read. Secrets never reach a log.
#ifndef SP_AUTH_H_INCLUDED
#define SP_AUTH_H_INCLUDED

#include "jobd_plugin.h"
#include <curl/curl.h>

typedef enum {
    SP_AUTH_NONE,      //  nothing sent
    SP_AUTH_BASIC,     //  Authorization: Basic (user, password)
    SP_AUTH_BEARER,    //  Authorization: Bearer (token)
    SP_AUTH_SIMPLE,    //  ?user.name=USER (Hadoop simple auth: YARN's RM, reference 4.5)
    SP_AUTH_KERBEROS,  //  SPNEGO through libcurl's GSS-Negotiate, the ticket of jobd's user
    SP_AUTH_DELEGATION //  ?delegation=TOKEN (a Hadoop delegation token)
} sp_auth_kind_t;

#define SP_AUTH_SECRET_MAX 2048 //  a password or token, in bytes

typedef struct {
    sp_auth_kind_t kind;
    char user[256];
    char secret[SP_AUTH_SECRET_MAX]; //  password or token: never logged
} sp_auth_t;

//  Reads backend/NAME/{auth,user,password,password_file,token,token_file} from the plugin's
//  config. auth "auto" (the default) means bearer when a token is given, basic when a password
//  is, simple when only a user is, else none. Returns 0, or JOBD_ECONFIG with a reason naming
//  the backend and the key (never the secret).
int sp_auth_load (sp_auth_t *self, const jobd_host_t *host, const char *name, char *reason,
                  size_t reason_size);

//  Reads a secret from the first line of the file at path (trailing blanks dropped). The file
//  must be a regular file that others cannot read or write and its group cannot write (mode
//  0600 or 0640). Returns 0, or JOBD_ECONFIG with a reason naming the file and what is wrong.
int sp_auth_read_secret (const char *path, char *secret, size_t size, char *reason,
                         size_t reason_size);

//  Sets up easy for a request to url: writes the URL to send into url_out (url, with the
//  user.name or delegation parameter appended for those kinds) and adds headers to *headers.
//  Returns 0, or -ENOMEM / -ENAMETOOLONG.
int sp_auth_apply (const sp_auth_t *self, CURL *easy, const char *url, char *url_out,
                   size_t url_size, struct curl_slist **headers);

//  The kind's config word: "none", "basic", "bearer", "simple", "kerberos", "delegation".
const char *sp_auth_name (sp_auth_kind_t kind);

#endif
