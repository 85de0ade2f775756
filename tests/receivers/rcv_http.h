//  Test receivers: an HTTP recorder on libmicrohttpd, in the test's process, on a loopback
//  port of its own: records each request (method, path, headers, body) and answers the status
//  the test set (200 by default), for the Slack channel's tests.
#ifndef RCV_HTTP_H_INCLUDED
#define RCV_HTTP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct rcv_http rcv_http_t;

//  One recorded request.
typedef struct {
    char method[16];
    char path[256];
    char *headers; //  "Name: value\n" each, as received
    char *body;    //  NUL-terminated
    size_t body_size;
} rcv_request_t;

//  A recorder listening on 127.0.0.1 on a free port, or NULL.
rcv_http_t *rcv_http_new (void);

//  Stops it and frees what it recorded; NULL-safe; sets *self_p to NULL.
void rcv_http_destroy (rcv_http_t **self_p);

//  Its base URL, "http://127.0.0.1:PORT".
const char *rcv_http_url (rcv_http_t *self);

//  From now on answers status, with a Retry-After header when retry_after is not NULL.
void rcv_http_answer (rcv_http_t *self, unsigned status, const char *retry_after);

//  Waits up to timeout_ms until count requests are recorded. True when they are.
bool rcv_http_wait (rcv_http_t *self, size_t count, int timeout_ms);

//  Requests recorded so far.
size_t rcv_http_count (rcv_http_t *self);

//  Request index (0: the first), borrowed until destroy, or NULL.
const rcv_request_t *rcv_http_request (rcv_http_t *self, size_t index);

//  The value of header name (case-insensitive) in request, fresh, or NULL.
char *rcv_http_header (const rcv_request_t *request, const char *name);

#endif
