//  GET /api/v1/events: Server-Sent Events read from jobd's transition log (transitions and stale
//  events), each with `id:` = its log position, resumed from Last-Event-ID; heartbeats. A stream
//  with nothing to send is suspended (no thread waits on it) until the plugin's run thread wakes
//  the streams with the log's new head.
#ifndef HT_STREAM_H_INCLUDED
#define HT_STREAM_H_INCLUDED

#include "ht_core.h"
#include <microhttpd.h>

typedef struct ht_streams ht_streams_t;

//  The streams of one server: at most max at a time, a heartbeat every heartbeat ms when idle.
//  NULL when out of memory.
ht_streams_t *ht_streams_new (const jobd_host_t *host, ht_counters_t *counters, size_t max,
                              int64_t heartbeat);

//  Frees them; NULL-safe; sets *self_p to NULL. Call after the daemon stopped.
void ht_streams_destroy (ht_streams_t **self_p);

//  Opens a stream for a request (its filters and start in params). Returns the response to
//  queue (the caller destroys its reference), or NULL with reply filled (503 past max, 500).
struct MHD_Response *ht_streams_open (ht_streams_t *self, struct MHD_Connection *connection,
                                      const ht_params_t *params, ht_reply_t *reply);

//  The log's head moved to head (or a heartbeat is due): resumes the waiting streams. Any thread.
void ht_streams_wake (ht_streams_t *self, uint64_t head);

//  Ends every stream (each returns end of stream at its next call) and resumes them: before the
//  daemon stops, which must not find a connection suspended.
void ht_streams_close (ht_streams_t *self);

//  Streams open now.
size_t ht_streams_count (ht_streams_t *self);

//  Writes one SSE event into a fresh string: "id: ID\n" when id is not 0, "event: NAME\n",
//  "data: DATA\n\n" (data is one line of JSON). NULL when out of memory.
char *ht_sse_format (uint64_t id, const char *name, const char *data);

#endif
