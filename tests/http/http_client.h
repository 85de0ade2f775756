//  A small libcurl client for the http plugin's tests and bench: one call, its status and body;
//  an event stream read until a text arrives. Every call is bounded by a deadline.
#ifndef HTTP_CLIENT_H_INCLUDED
#define HTTP_CLIENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    long status; //  0: no answer (no connection, timed out)
    char *body;  //  fresh, NUL-terminated ("" when none)
    size_t size;
    char location[256]; //  the Location header, or ""
    char allow[64];     //  the Allow header, or ""
    //  The headers the dashboard's files are checked by, each "" when absent.
    char content_type[64];
    char etag[64];
    char cache_control[64];
    char csp[400];    //  Content-Security-Policy
    char nosniff[32]; //  X-Content-Type-Options
} http_answer_t;

//  Calls method url (a "Content-Type: application/json" body when body is not NULL; a bearer
//  token when token is not NULL; one more raw header line when header is not NULL), within 10 s.
//  Returns 0 with *answer filled (clear it), or -1 when no answer came.
int http_call (const char *method, const char *url, const char *token, const char *body,
               const char *header, http_answer_t *answer);

//  Asks GET url until it answers status, up to timeout_ms (at a 20 ms pace: a server coming up
//  has no event to wait for). True when it did.
bool http_wait_status (const char *url, long status, int timeout_ms);

//  Frees the answer's body.
void http_answer_clear (http_answer_t *answer);

//  Reads the event stream at url (Last-Event-ID: last_event_id when not NULL; a bearer token when
//  not NULL) until what was read contains until, or timeout_ms passed. Returns everything read
//  (fresh), or NULL when the connection failed. *status_p (may be NULL) gets the HTTP status.
char *http_sse_read (const char *url, const char *last_event_id, const char *token,
                     const char *until, int timeout_ms, long *status_p);

//  A free TCP port on 127.0.0.1 (bound and released: another process may take it meanwhile).
int http_free_port (void);

#endif
