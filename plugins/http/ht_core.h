//  The http plugin's shared state and the reply its handlers build: internal to plugins/http.
//  The server (ht_server.c) owns the daemon and dispatches; each handler file fills an ht_reply_t
//  from the host table or the broker, and none of them calls another handler file.
#ifndef HT_CORE_H_INCLUDED
#define HT_CORE_H_INCLUDED

#include "ht_parse.h"
#include "jobd_plugin_sdk.h"
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

//  What a handler answers: status, body (fresh, or NULL) and its type, an optional header.
typedef struct {
    unsigned status;
    char *body;
    size_t size;
    const char *type; //  NULL: application/json
    const char *header_name;
    char header_value[160];
    const char *refused; //  a refusal's reason label for jobd_http_refused_total, or NULL
} ht_reply_t;

#define HT_REFUSED_COUNT 10 //  reasons a request is refused: ht_refused_names

//  Counters, written from any of the server's threads.
typedef struct {
    atomic_uint_fast64_t requests[6]; //  by status class: 1xx unused, 2xx, 3xx, 4xx, 5xx, other
    atomic_uint_fast64_t by_code[600];
    atomic_uint_fast64_t refused[HT_REFUSED_COUNT]; //  by ht_refused_names
    atomic_uint_fast64_t duration_buckets[12];
    atomic_uint_fast64_t duration_count;
    atomic_uint_fast64_t duration_us_sum;
    atomic_uint_fast64_t stream_clients;
    atomic_uint_fast64_t stream_events;
    atomic_uint_fast64_t transitions[JOBD_STATE_COUNT][JOBD_STATE_COUNT]; //  [from][to]
} ht_counters_t;

//  The reasons a request is refused, as jobd_http_refused_total labels them ("headers": a
//  request line and headers past header_max, answered 431 by libmicrohttpd itself; "other"
//  last).
static const char *const ht_refused_names[HT_REFUSED_COUNT] = {
    "auth", "path", "method", "body", "json", "query", "cursor", "limit", "headers", "other"};

static inline void
ht_count_refused (ht_counters_t *counters, const char *reason)
{
    for (size_t index = 0; index < HT_REFUSED_COUNT; index++)
        if (strcmp (ht_refused_names[index], reason) == 0) {
            atomic_fetch_add (&counters->refused[index], 1);
            return;
        }
    atomic_fetch_add (&counters->refused[HT_REFUSED_COUNT - 1], 1);
}

//  The upper bounds of the request duration histogram, in seconds.
static const double ht_duration_bounds[11] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1.0};

//  The plugin's settings, read at init.
typedef struct {
    const char *address;
    int64_t port;
    const char *tls_cert, *tls_key; //  file paths, or ""
    int64_t connections_max, per_ip_max, threads;
    int64_t timeout;     //  ms: an idle connection is closed
    int64_t body_max;    //  bytes
    int64_t header_max;  //  bytes of the request line and headers
    int64_t bus_timeout; //  ms: how long a command or query waits for the broker
    int64_t stream_max, heartbeat, events_keep, metrics_scan_interval;
    int64_t nice; //  the server threads' nice value (0: as jobd's)
    bool read_auth;
    char token[256];
} ht_settings_t;

//  Fills reply with a JSON error ({"error": code, "reason": text}) and counts the refusal.
static inline void
ht_reply_error (ht_reply_t *reply, unsigned status, const char *code, const char *reason)
{
    json_t *body = json_pack ("{s:s,s:s}", "error", code, "reason", reason ? reason : "");
    reply->status = status;
    reply->body = body ? json_dumps (body, JSON_COMPACT) : NULL;
    reply->size = reply->body ? strlen (reply->body) : 0;
    reply->type = NULL;
    json_decref (body);
}

//  Fills reply with a JSON value (consumed), status 200 unless set.
static inline void
ht_reply_json (ht_reply_t *reply, unsigned status, json_t *value)
{
    if (!value) {
        ht_reply_error (reply, 500, "internal", "out of memory");
        return;
    }
    reply->status = status;
    reply->body = json_dumps (value, JSON_COMPACT);
    reply->size = reply->body ? strlen (reply->body) : 0;
    reply->type = NULL;
    json_decref (value);
    if (!reply->body)
        ht_reply_error (reply, 500, "internal", "out of memory");
}

#endif
