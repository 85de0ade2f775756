//  A webhook receiver for tests, on libmicrohttpd: listens on loopback (a free port), records
//  each POST it takes (body and headers, in arrival order), and can be told to answer an error
//  status for a while (a receiver that is down). Every wait is bounded.
#ifndef WEBHOOK_SINK_H_INCLUDED
#define WEBHOOK_SINK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct webhook_sink webhook_sink_t;

//  A receiver on 127.0.0.1 and a free port, or NULL.
webhook_sink_t *webhook_sink_new (void);

//  Stops it and frees what it recorded; NULL-safe; sets *self_p to NULL.
void webhook_sink_destroy (webhook_sink_t **self_p);

//  "http://127.0.0.1:PORT/hook".
const char *webhook_sink_url (webhook_sink_t *self);

//  From now on answers status (e.g. 503) without recording, until told 0 (answer 200 again).
void webhook_sink_fail (webhook_sink_t *self, int status);

//  How many POSTs it recorded (answered 200), and how many it answered with the failure status.
size_t webhook_sink_count (webhook_sink_t *self);
size_t webhook_sink_refused (webhook_sink_t *self);

//  Waits up to timeout ms until it recorded count POSTs (or refused count, for _refused).
bool webhook_sink_wait (webhook_sink_t *self, size_t count, int timeout);
bool webhook_sink_wait_refused (webhook_sink_t *self, size_t count, int timeout);

//  The body of recorded POST index (fresh copy: free it), or NULL.
char *webhook_sink_body (webhook_sink_t *self, size_t index);

//  The value of header name of recorded POST index (fresh copy: free it), or NULL.
char *webhook_sink_header (webhook_sink_t *self, size_t index, const char *name);

#endif
