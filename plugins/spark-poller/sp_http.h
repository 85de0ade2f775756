//  spark-poller: HTTP with libcurl's multi interface, driven from the plugin's own loop:
//  keep-alive connections, a bound on requests in flight per host, a timeout on every request.
#ifndef SP_HTTP_H_INCLUDED
#define SP_HTTP_H_INCLUDED

#include "sp_auth.h"
#include <czmq.h>
#include <stddef.h>

//  How every request names itself: Spark, Livy and YARN servers log it, and a proxy may route
//  or limit by it.
#define SP_USER_AGENT "jobd/" JOBD_VERSION " spark-poller"

typedef struct _sp_http_t sp_http_t;

//  Called once per request when it ends. status is the HTTP status, or 0 when no response came
//  (error then says why: refused, timed out, ...). body is borrowed for the call. sent is false
//  when the request certainly never reached the server (no connection, nothing sent): only then
//  is a request that changes something safe to send again.
typedef void (sp_http_done_fn) (void *arg, long status, const char *body, size_t size,
                                const char *error, bool sent);

//  Called as a response's body grows, when asked for: body is all of it so far, borrowed for the
//  call (it moves as it grows). For readers that work while the rest arrives.
typedef void (sp_http_progress_fn) (void *arg, const char *body, size_t size);

//  Returns a new engine allowing max_per_host requests in flight per host (more wait their turn).
//  Its requests say agent (copied) as their User-Agent.
sp_http_t *sp_http_new (long max_per_host, const char *agent);

//  Cancels every request: each callback is called with status 0 and error "cancelled", so that
//  it frees its arg; NULL-safe; sets *self_p to NULL.
void sp_http_destroy (sp_http_t **self_p);

//  Starts a request. method is "GET", "POST", "PUT" or "DELETE"; body (JSON) may be NULL;
//  header is one more header line ("Name: value"), or NULL; auth (may be NULL: none) says how
//  the backend authenticates it (sp_auth.h). Returns 0, or
//  -ENOMEM / -ENAMETOOLONG. done is called later, from sp_http_wait; so is progress (may be
//  NULL) before it.
int sp_http_request (sp_http_t *self, const char *method, const char *url, const char *body,
                     const char *header, const sp_auth_t *auth, long timeout_ms,
                     sp_http_done_fn *done, sp_http_progress_fn *progress, void *arg);

//  Waits up to timeout_ms for network activity or for a message on one of the sockets, then
//  moves the transfers on and calls the callbacks of those that ended. Returns the number of
//  requests still in flight.
int sp_http_wait (sp_http_t *self, zsock_t **sockets, size_t count, int timeout_ms);

//  Requests in flight.
int sp_http_running (sp_http_t *self);

#endif
