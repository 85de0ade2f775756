//  The http plugin's server: libmicrohttpd's internal thread pool, routing, auth, bodies, limits,
//  and the mapping of each handler's ht_reply_t to a response. The loop only dispatches; the
//  parsers (ht_parse.c) and handlers (ht_jobs.c, ht_stream.c, ht_metrics.c, ht_broker.c) do the
//  rest.
#include "ht_server.h"
#include "ht_broker.h"
#include "ht_dashboard.h"
#include "ht_jobs.h"
#include "ht_metrics.h"
#include "ht_openapi.h"
#include "ht_stream.h"
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ht_server {
    const jobd_host_t *host;
    ht_settings_t settings;
    struct MHD_Daemon *daemon;
    ht_counters_t counters;
    ht_broker_t *broker;
    ht_streams_t *streams;
    ht_metrics_t *metrics;
    char *tls_cert, *tls_key; //  the files' contents
};

//  One request's state, from its first call to its completion.
typedef struct {
    int64_t started; //  monotonic us
    ht_route_t route;
    char id[JOBD_ID_MAX + 1];
    char *body;
    size_t size;
    bool too_big;
    bool answered; //  a response was queued (an early refusal)
    bool stream;
    bool fresh; //  made when its request line came (s_uri_log); the handler has not seen it yet
} s_request_t;

//  Queues reply as the connection's response and counts it.
static enum MHD_Result
s_queue (ht_server_t *self, struct MHD_Connection *connection, s_request_t *request,
         ht_reply_t *reply)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (
        reply->size, reply->body ? reply->body : (void *)"",
        reply->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!response) {
        free (reply->body);
        return MHD_NO;
    }
    reply->body = NULL;
    MHD_add_response_header (response, "Content-Type",
                             reply->type ? reply->type : "application/json; charset=utf-8");
    MHD_add_response_header (response, "Cache-Control", "no-store");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    if (reply->header_name)
        MHD_add_response_header (response, reply->header_name, reply->header_value);
    if (reply->status == 401)
        MHD_add_response_header (response, "WWW-Authenticate", "Bearer realm=\"jobd\"");
    if (reply->status == 503)
        MHD_add_response_header (response, "Retry-After", "1");
    enum MHD_Result result = MHD_queue_response (connection, reply->status, response);
    MHD_destroy_response (response);
    if (reply->status < 600)
        atomic_fetch_add (&self->counters.by_code[reply->status], 1);
    if (reply->refused)
        ht_count_refused (&self->counters, reply->refused);
    if (request)
        request->answered = true;
    return result;
}

static enum MHD_Result
s_refuse (ht_server_t *self, struct MHD_Connection *connection, s_request_t *request,
          unsigned status, const char *code, const char *reason, const char *label)
{
    ht_reply_t reply = {0};
    ht_reply_error (&reply, status, code, reason);
    reply.refused = label;
    if (status == 405) {
        reply.header_name = "Allow";
        snprintf (reply.header_value, sizeof reply.header_value, "%s",
                  ht_route_allow (request->route));
    }
    return s_queue (self, connection, request, &reply);
}

//  Query parameters, through ht_params_set.
typedef struct {
    ht_params_t *params;
    bool events;
    int rc;
    char reason[300];
} s_args_t;

static enum MHD_Result
s_arg (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    s_args_t *args = (s_args_t *)cls;
    if (args->rc == 0)
        args->rc = ht_params_set (args->params, key, value, args->events, args->reason,
                                  sizeof args->reason);
    return args->rc == 0 ? MHD_YES : MHD_NO;
}

//  True when the request carries the token (or none is needed).
static bool
s_authorized (ht_server_t *self, struct MHD_Connection *connection, const char *given_param)
{
    char token[256];
    const char *header =
        MHD_lookup_connection_value (connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (header && ht_bearer_read (header, token, sizeof token) == 0)
        return ht_token_equal (token, self->settings.token);
    return given_param && *given_param && ht_token_equal (given_param, self->settings.token);
}

static bool
s_needs_auth (ht_server_t *self, ht_route_t route, const char *method)
{
    //  The dashboard's files hold no data: the page asks for the token when the API wants one.
    if (route == HT_ROUTE_HEALTHZ || route == HT_ROUTE_READYZ || route == HT_ROUTE_OPENAPI ||
        route == HT_ROUTE_DASHBOARD)
        return false;
    return strcmp (method, "POST") == 0 || self->settings.read_auth;
}

//  In a cluster, partitions this instance owns but does not act on (its lease ran out: Kafka did
//  not confirm its claim in time) make it not ready: their jobs wait until it renews or another
//  instance takes them. A jobd alone (the answer's cluster nil) has none.
static void
s_cluster_reasons (ht_server_t *self, json_t *reasons)
{
    char reason[300] = "";
    json_t *answer = ht_broker_query (self->broker, HT_QUERY_CLUSTER, 100, reason, sizeof reason);
    json_t *cluster = json_object_get (answer, "cluster");
    size_t index, length = 0, count = 0;
    json_t *partition;
    json_array_foreach (json_object_get (cluster, "partition"), index, partition)
    {
        const char *state = json_string_value (json_object_get (partition, "state"));
        if (!state || strcmp (state, "expired") != 0)
            continue;
        if (length < sizeof reason - 16)
            length += (size_t)snprintf (
                reason + length, sizeof reason - length, "%s%lld", count ? ", " : "",
                (long long)json_integer_value (json_object_get (partition, "partition")));
        count++;
    }
    if (count) {
        char line[400];
        snprintf (line, sizeof line,
                  "cluster: lease expired on partition%s %s (Kafka did not confirm this "
                  "instance's claim in time): not acting on their jobs",
                  count > 1 ? "s" : "", reason);
        json_array_append_new (reasons, json_string (line));
    }
    json_decref (answer);
}

//  GET /healthz and /readyz.
static void
s_health (ht_server_t *self, bool ready, ht_reply_t *reply)
{
    char reason[300] = "";
    json_t *stats = ht_broker_query (self->broker, HT_QUERY_STATS, 1000, reason, sizeof reason);
    if (!stats) {
        ht_reply_error (reply, 503, "unavailable", reason);
        return;
    }
    json_decref (stats);
    if (!ready) {
        ht_reply_json (reply, 200, json_pack ("{s:s}", "status", "ok"));
        return;
    }
    json_t *reasons = json_array ();
    uint64_t head = 0;
    int rc = self->host->log_cursor (self->host, self->host->plugin_name, NULL, &head);
    if (rc == JOBD_ENOTFOUND)
        json_array_append_new (reasons, json_string ("event stream: the transition log's cursor "
                                                     "is not set yet"));
    else if (rc != 0) {
        snprintf (reason, sizeof reason, "store: %s", jobd_strerror (rc));
        json_array_append_new (reasons, json_string (reason));
    }
    json_t *plugins = ht_broker_query (self->broker, HT_QUERY_PLUGINS, 1000, reason, sizeof reason);
    if (!plugins)
        json_array_append_new (reasons, json_string (reason));
    size_t index;
    json_t *plugin;
    json_array_foreach (json_object_get (plugins, "plugins"), index, plugin)
    {
        const char *status = json_string_value (json_object_get (plugin, "status"));
        if (status && strcmp (status, "running") != 0 && strcmp (status, "disabled") != 0) {
            const char *detail = json_string_value (json_object_get (plugin, "detail"));
            snprintf (reason, sizeof reason, "plugin %s: %s%s%.200s%s",
                      json_string_value (json_object_get (plugin, "name")), status,
                      detail && *detail ? " (" : "", detail ? detail : "",
                      detail && *detail ? ")" : "");
            json_array_append_new (reasons, json_string (reason));
        }
    }
    json_decref (plugins);
    s_cluster_reasons (self, reasons);
    if (json_array_size (reasons) == 0) {
        json_decref (reasons);
        ht_reply_json (reply, 200, json_pack ("{s:s}", "status", "ready"));
        return;
    }
    json_t *body = json_pack ("{s:s,s:O,s:o}", "error", "unavailable", "reason",
                              json_array_get (reasons, 0), "reasons", reasons);
    ht_reply_json (reply, 503, body);
}

//  GET /api/v1/stats and /api/v1/plugins: the broker's answers, with the server's own figures.
static void
s_broker_answer (ht_server_t *self, ht_query_t which, ht_reply_t *reply)
{
    char reason[300] = "";
    json_t *answer = ht_broker_query (self->broker, which, 100, reason, sizeof reason);
    if (!answer) {
        ht_reply_error (reply, 503, "unavailable", reason);
        return;
    }
    json_t *body = json_deep_copy (answer);
    json_decref (answer);
    if (body && which == HT_QUERY_STATS) {
        uint64_t requests = 0, refused = 0;
        for (int code = 100; code < 600; code++)
            requests += atomic_load (&self->counters.by_code[code]);
        for (size_t index = 0; index < HT_REFUSED_COUNT; index++)
            refused += atomic_load (&self->counters.refused[index]);
        json_object_set_new (body, "http",
                             json_pack ("{s:I,s:I,s:I}", "requests", (json_int_t)requests,
                                        "refused", (json_int_t)refused, "stream_clients",
                                        (json_int_t)ht_streams_count (self->streams)));
    }
    if (body)
        json_object_set_new (body, "now", json_integer (jobd_now_ms ()));
    ht_reply_json (reply, 200, body);
}

//  POST /api/v1/jobs, /cancel, /retry: a command to the broker, its reply relayed.
static void
s_command (ht_server_t *self, s_request_t *request, ht_reply_t *reply)
{
    char reason[512] = "";
    jobd_event_t *event = NULL;
    int rc = 0;
    if (request->route == HT_ROUTE_JOBS) {
        ht_submit_t submit;
        rc = ht_submit_read (request->body ? request->body : "", request->size, &submit, reason,
                             sizeof reason);
        if (rc == 0 && (event = jobd_event_new (JOBD_EVENT_SUBMIT)) != NULL) {
            event->kind = submit.kind;
            event->name = submit.name;
            event->backend = submit.backend;
            event->spec = submit.spec;
            memset (&submit, 0, sizeof submit);
        }
        ht_submit_clear (&submit);
    } else if (request->route == HT_ROUTE_CANCEL) {
        rc = ht_cancel_read (request->body ? request->body : "", request->size, reason,
                             sizeof reason);
        if (rc == 0 && (event = jobd_event_new (JOBD_EVENT_CANCEL)) != NULL)
            jobd_event_set (&event->job, request->id);
    } else {
        bool now = false, stop = false;
        rc = ht_retry_read (request->body ? request->body : "", request->size, &now, &stop, reason,
                            sizeof reason);
        if (rc == 0 && (event = jobd_event_new (JOBD_EVENT_RETRY)) != NULL) {
            jobd_event_set (&event->job, request->id);
            event->now = now;
            event->stop = stop;
        }
    }
    if (rc) {
        ht_reply_error (reply, 400, "bad_json", reason);
        reply->refused = "json";
        return;
    }
    if (!event) {
        ht_reply_error (reply, 500, "internal", "out of memory");
        return;
    }
    jobd_reply_t answer;
    rc = ht_broker_command (self->broker, event, &answer, reason, sizeof reason);
    jobd_event_destroy (&event);
    if (rc == JOBD_EPROTO || rc == JOBD_ETOOBIG) {
        ht_reply_error (reply, 400, "invalid", reason);
        return;
    }
    if (rc) {
        ht_reply_error (reply, 503, "unavailable", reason);
        return;
    }
    bool submitted = request->route == HT_ROUTE_JOBS && answer.ok;
    ht_broker_reply_http (&answer, submitted ? 201 : 200, reply);
    if (submitted) {
        reply->header_name = "Location";
        snprintf (reply->header_value, sizeof reply->header_value, "/api/v1/jobs/%s", answer.job);
    }
}

//  Queues a response a handler made with its own headers (consumed) and counts it.
static enum MHD_Result
s_queue_response (ht_server_t *self, struct MHD_Connection *connection, s_request_t *request,
                  unsigned status, struct MHD_Response *response)
{
    request->answered = true;
    enum MHD_Result result = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    atomic_fetch_add (&self->counters.by_code[status], 1);
    return result;
}

//  The jobs per state from the broker's stats (at most a second old), into counts. False when
//  the broker did not answer.
static bool
s_counts (ht_server_t *self, uint64_t counts[JOBD_STATE_COUNT])
{
    char reason[300];
    json_t *answer = ht_broker_query (self->broker, HT_QUERY_STATS, 1000, reason, sizeof reason);
    json_t *map = answer ? json_object_get (answer, "counts") : NULL;
    for (int state = 0; state < JOBD_STATE_COUNT; state++) {
        json_t *count = map ? json_object_get (map, jobd_state_name ((jobd_state_t)state)) : NULL;
        counts[state] = json_is_integer (count) && json_integer_value (count) > 0
                            ? (uint64_t)json_integer_value (count)
                            : 0;
    }
    json_decref (answer);
    return map != NULL;
}

//  Handles a whole request whose route, method and auth passed.
static enum MHD_Result
s_dispatch (ht_server_t *self, struct MHD_Connection *connection, s_request_t *request,
            const char *method, ht_params_t *params)
{
    ht_reply_t reply = {0};
    if (strcmp (method, "POST") == 0)
        s_command (self, request, &reply);
    else
        switch (request->route) {
            case HT_ROUTE_JOBS: {
                uint64_t counts[JOBD_STATE_COUNT];
                ht_jobs_list (self->host, params, s_counts (self, counts) ? counts : NULL, &reply);
                break;
            }
            case HT_ROUTE_JOB:
                ht_jobs_get (self->host, request->id, &reply);
                break;
            case HT_ROUTE_STATS:
                s_broker_answer (self, HT_QUERY_STATS, &reply);
                break;
            case HT_ROUTE_PLUGINS:
                s_broker_answer (self, HT_QUERY_PLUGINS, &reply);
                break;
            case HT_ROUTE_OPENAPI:
                reply.status = 200;
                reply.body = strdup (ht_openapi_json);
                reply.size = reply.body ? strlen (reply.body) : 0;
                break;
            case HT_ROUTE_METRICS:
                ht_metrics_render (self->metrics, &reply);
                break;
            case HT_ROUTE_HEALTHZ:
            case HT_ROUTE_READYZ:
                s_health (self, request->route == HT_ROUTE_READYZ, &reply);
                break;
            case HT_ROUTE_EVENTS: {
                struct MHD_Response *response =
                    ht_streams_open (self->streams, connection, params, &reply);
                if (!response)
                    break;
                request->stream = true;
                return s_queue_response (self, connection, request, 200, response);
            }
            case HT_ROUTE_DASHBOARD: {
                unsigned status = 0;
                struct MHD_Response *response = ht_dashboard_response (
                    request->id,
                    MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "If-None-Match"),
                    &status);
                if (response)
                    return s_queue_response (self, connection, request, status, response);
                ht_reply_error (&reply, 404, "not_found", "no such path");
                reply.refused = "path";
                break;
            }
            default:
                ht_reply_error (&reply, 404, "not_found", "no such path");
        }
    if (!reply.status)
        ht_reply_error (&reply, 500, "internal", "out of memory");
    return s_queue (self, connection, request, &reply);
}

//  The first call of a request: route, method, auth, parameters and declared body size, each
//  refused here before any body is read.
static enum MHD_Result
s_begin (ht_server_t *self, struct MHD_Connection *connection, s_request_t *request,
         const char *url, const char *method, ht_params_t *params)
{
    request->route = ht_route (url, request->id, sizeof request->id);
    if (request->route == HT_ROUTE_NONE)
        return s_refuse (self, connection, request, 404, "not_found", "no such path", "path");
    if (!ht_route_takes (request->route, method))
        return s_refuse (self, connection, request, 405, "method_not_allowed",
                         "method not allowed here", "method");
    s_args_t args = {params, request->route == HT_ROUTE_EVENTS, 0, ""};
    if (request->route == HT_ROUTE_JOBS || request->route == HT_ROUTE_EVENTS) {
        MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, s_arg, &args);
        if (args.rc == 0)
            args.rc = ht_params_finish (params, args.reason, sizeof args.reason);
    } else if (MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0) {
        args.rc = -EINVAL;
        snprintf (args.reason, sizeof args.reason, "this path takes no parameters");
    }
    if (s_needs_auth (self, request->route, method) &&
        !s_authorized (self, connection, params->token))
        return s_refuse (self, connection, request, 401, "unauthorized",
                         "a valid bearer token is needed (Authorization: Bearer ...)", "auth");
    if (args.rc)
        return s_refuse (self, connection, request, 400, "bad_request", args.reason,
                         strstr (args.reason, "cursor") ? "cursor" : "query");
    if (strcmp (method, "POST") == 0) {
        const char *length = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                          MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *type =
            MHD_lookup_connection_value (connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        const char *chunked = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                           MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (chunked)
            return s_refuse (self, connection, request, 411, "length_required",
                             "a body needs a Content-Length (no chunked bodies)", "body");
        if (length && strtoull (length, NULL, 10) > (unsigned long long)self->settings.body_max)
            return s_refuse (self, connection, request, 413, "too_large",
                             "the body is over the server's limit", "body");
        if (length && strcmp (length, "0") != 0 &&
            (!type || strncasecmp (type, "application/json", 16) != 0))
            return s_refuse (self, connection, request, 415, "unsupported_media_type",
                             "the body must be application/json", "body");
    } else if (request->route == HT_ROUTE_EVENTS && !params->has_last_event_id) {
        const char *last =
            MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Last-Event-ID");
        if (last && *last) {
            char reason[200];
            if (ht_params_set (params, "last_event_id", last, true, reason, sizeof reason) != 0)
                return s_refuse (self, connection, request, 400, "bad_request",
                                 "header 'Last-Event-ID': a transition log position", "query");
        }
    }
    return MHD_YES;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    ht_server_t *self = (ht_server_t *)cls;
    //  The server's threads yield the CPU to jobd's writer: set once per thread, here since
    //  libmicrohttpd starts them without a hook.
    static __thread bool niced;
    if (!niced) {
        niced = true;
        if (self->settings.nice)
            setpriority (PRIO_PROCESS, (id_t)syscall (SYS_gettid), (int)self->settings.nice);
    }
    s_request_t *request = (s_request_t *)*con_cls;
    if (!request || request->fresh) {
        if (!request)
            request = (s_request_t *)calloc (1, sizeof (s_request_t));
        if (!request)
            return MHD_NO;
        if (!request->fresh)
            request->started = zclock_usecs ();
        request->fresh = false;
        *con_cls = request;
        ht_params_t params;
        ht_params_init (&params);
        enum MHD_Result result = s_begin (self, connection, request, url, method, &params);
        if (result != MHD_YES || request->answered || strcmp (method, "POST") == 0)
            return result;
        return s_dispatch (self, connection, request, method, &params);
    }
    if (request->answered) {
        *upload_data_size = 0; //  the body of a refused request is read and dropped
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        if (request->too_big || request->size + size > (size_t)self->settings.body_max) {
            request->too_big = true;
            return MHD_YES;
        }
        char *body = (char *)realloc (request->body, request->size + size + 1);
        if (!body)
            return MHD_NO;
        memcpy (body + request->size, upload_data, size);
        request->body = body;
        request->size += size;
        request->body[request->size] = 0;
        return MHD_YES;
    }
    if (request->too_big)
        return s_refuse (self, connection, request, 413, "too_large",
                         "the body is over the server's limit", "body");
    ht_params_t params;
    ht_params_init (&params);
    return s_dispatch (self, connection, request, method, &params);
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    (void)connection;
    (void)code;
    ht_server_t *self = (ht_server_t *)cls;
    s_request_t *request = (s_request_t *)*con_cls;
    if (!request)
        return;
    if (request->fresh && code == MHD_REQUEST_TERMINATED_WITH_ERROR) {
        //  The handler never saw it: libmicrohttpd answered it itself, 431 for a request line
        //  and headers past header_max. Counted as the server's own refusals are.
        atomic_fetch_add (&self->counters.by_code[431], 1);
        ht_count_refused (&self->counters, "headers");
    } else if (!request->fresh && !request->stream) {
        int64_t us = zclock_usecs () - request->started;
        size_t bucket = 0;
        while (bucket < 11 && (double)us / 1e6 > ht_duration_bounds[bucket])
            bucket++;
        if (bucket < 11)
            atomic_fetch_add (&self->counters.duration_buckets[bucket], 1);
        atomic_fetch_add (&self->counters.duration_count, 1);
        atomic_fetch_add (&self->counters.duration_us_sum, (uint64_t)(us > 0 ? us : 0));
    }
    free (request->body);
    free (request);
    *con_cls = NULL;
}

//  A request line arrived: its request, before libmicrohttpd reads the headers, so that one it
//  refuses itself (too large) is still seen at completion.
static void *
s_uri_log (void *cls, const char *uri, struct MHD_Connection *connection)
{
    (void)cls;
    (void)uri;
    (void)connection;
    s_request_t *request = (s_request_t *)calloc (1, sizeof (s_request_t));
    if (request) {
        request->fresh = true;
        request->started = zclock_usecs ();
    }
    return request;
}

//  Reads a whole (small) file: a TLS certificate or key.
static char *
s_read_file (const char *path, char *reason, size_t reason_size)
{
    FILE *file = fopen (path, "rb");
    char *data = file ? (char *)calloc (1, 1024 * 1024 + 1) : NULL;
    size_t size = data ? fread (data, 1, 1024 * 1024, file) : 0;
    if (file)
        fclose (file);
    if (!data || size == 0) {
        snprintf (reason, reason_size, "cannot read %s: %s", path,
                  file ? "empty or out of memory" : strerror (errno));
        free (data);
        return NULL;
    }
    return data;
}

int
ht_server_start (const jobd_host_t *host, const ht_settings_t *settings, ht_server_t **self_p,
                 char *reason, size_t reason_size)
{
    *self_p = NULL;
    ht_server_t *self = (ht_server_t *)calloc (1, sizeof (ht_server_t));
    if (!self)
        return -ENOMEM;
    self->host = host;
    self->settings = *settings;
    self->broker = ht_broker_new (host, settings->bus_timeout);
    self->streams =
        ht_streams_new (host, &self->counters, (size_t)settings->stream_max, settings->heartbeat);
    self->metrics = self->broker ? ht_metrics_new (host, &self->counters, self->broker,
                                                   settings->metrics_scan_interval)
                                 : NULL;
    if (!self->broker || !self->streams || !self->metrics) {
        ht_server_stop (&self);
        return -ENOMEM;
    }
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons ((uint16_t)settings->port)};
    if (inet_pton (AF_INET, settings->address, &address.sin_addr) != 1) {
        snprintf (reason, reason_size, "key 'address': '%s' is not an IPv4 address",
                  settings->address);
        ht_server_stop (&self);
        return JOBD_ECONFIG;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    bool tls = *settings->tls_cert || *settings->tls_key;
    if (tls) {
        if (!*settings->tls_cert || !*settings->tls_key) {
            snprintf (reason, reason_size, "keys 'tls_cert' and 'tls_key' go together");
            ht_server_stop (&self);
            return JOBD_ECONFIG;
        }
        if (MHD_is_feature_supported (MHD_FEATURE_TLS) != MHD_YES) {
            snprintf (reason, reason_size, "this libmicrohttpd has no TLS");
            ht_server_stop (&self);
            return JOBD_ECONFIG;
        }
        self->tls_cert = s_read_file (settings->tls_cert, reason, reason_size);
        self->tls_key =
            self->tls_cert ? s_read_file (settings->tls_key, reason, reason_size) : NULL;
        if (!self->tls_key) {
            ht_server_stop (&self);
            return JOBD_ECONFIG;
        }
        flags |= MHD_USE_TLS;
    }
    unsigned timeout_s = (unsigned)((settings->timeout + 999) / 1000);
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &address},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)settings->threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)settings->connections_max, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)settings->per_ip_max, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)timeout_s, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)settings->header_max, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)s_completed, self},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)s_uri_log, self},
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, self->tls_cert},
        {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, self->tls_key},
        {MHD_OPTION_END, 0, NULL}};
    self->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_access, self, MHD_OPTION_ARRAY,
                                     options, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (reason, reason_size,
                  "cannot listen on %s:%lld (taken, or not an address of "
                  "this host?)",
                  settings->address, (long long)settings->port);
        ht_server_stop (&self);
        return -EADDRINUSE;
    }
    *self_p = self;
    return 0;
}

void
ht_server_stop (ht_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ht_server_t *self = *self_p;
    if (self->daemon) {
        ht_streams_close (self->streams);
        //  The streams resumed now end at their next call: let the daemon's threads make it
        //  before it stops (it must find no connection suspended), bounded.
        for (int wait = 0; wait < 200 && ht_streams_count (self->streams) > 0; wait++)
            zclock_sleep (10);
        MHD_stop_daemon (self->daemon);
    }
    ht_metrics_destroy (&self->metrics);
    ht_streams_destroy (&self->streams);
    ht_broker_destroy (&self->broker);
    free (self->tls_cert);
    free (self->tls_key);
    free (self);
    *self_p = NULL;
}

uint16_t
ht_server_port (ht_server_t *self)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void
ht_server_count_transition (ht_server_t *self, jobd_state_t from, jobd_state_t to)
{
    if ((int)from >= 0 && from < JOBD_STATE_COUNT && (int)to >= 0 && to < JOBD_STATE_COUNT)
        atomic_fetch_add (&self->counters.transitions[from][to], 1);
}

void
ht_server_wake (ht_server_t *self, uint64_t head)
{
    ht_streams_wake (self->streams, head);
}
