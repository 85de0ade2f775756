//  The http plugin's talk with the broker: commands with their replies, and the stats and
//  plugins queries (cached briefly), from any of the server's threads.
#ifndef HT_BROKER_H_INCLUDED
#define HT_BROKER_H_INCLUDED

#include "ht_core.h"
#include "jobd_reply.h"

typedef struct ht_broker ht_broker_t;

typedef enum { HT_QUERY_STATS = 0, HT_QUERY_PLUGINS = 1, HT_QUERY_CLUSTER = 2 } ht_query_t;
#define HT_QUERY_COUNT 3

//  A broker client for host (its plugin name is the commands' source); timeout in ms bounds each
//  exchange. NULL when out of memory.
ht_broker_t *ht_broker_new (const jobd_host_t *host, int64_t timeout);

//  Frees it; NULL-safe; sets *self_p to NULL.
void ht_broker_destroy (ht_broker_t **self_p);

//  Sends event (a submit, cancel or retry; reply and source set here) to the broker on a socket
//  of this thread and waits for its reply. Returns 0 with *reply read (ok or not), or a negative
//  error with a reason (the event was invalid, or no reply came in time). Any thread.
int ht_broker_command (ht_broker_t *self, jobd_event_t *event, jobd_reply_t *reply, char *reason,
                       size_t reason_size);

//  Maps a broker's reply to HTTP: ok: ok_status with {"job", "outcome"}; refusals by their error
//  (API.md, "Errors").
void ht_broker_reply_http (const jobd_reply_t *reply, unsigned ok_status, ht_reply_t *http);

//  The answer of a stats, plugins or cluster query (the reply's own keys left out), fresh
//  (json_decref it); an answer at most max_age ms old is reused. NULL with a reason when the broker
//  did not answer. Any thread.
json_t *ht_broker_query (ht_broker_t *self, ht_query_t which, int64_t max_age, char *reason,
                         size_t reason_size);

#endif
