//  sim_server: the simulator's one HTTP daemon: routing, fault injection and request stats.
#include "sim.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_MAX_BODY (64u << 20)

//  Order matters: the standalone table ends with the REST server's catch-all error servlet.
static const sim_route_t *s_tables[] = {sim_control_routes, sim_masterui_routes,
                                        sim_livy_routes,    sim_yarn_routes,
                                        sim_history_routes, sim_standalone_routes};

static bool
s_match (const char *pattern, const sim_req_t *req)
{
    const char *p = pattern;
    int i = 0;
    while (*p == '/')
        p++;
    while (*p) {
        const char *slash = strchr (p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen (p);
        if (len == 2 && p[0] == '*' && p[1] == '*')
            return true;
        if (i >= req->nseg)
            return false;
        if (p[0] != '{' && (strlen (req->seg[i]) != len || strncmp (p, req->seg[i], len) != 0))
            return false;
        i++;
        p += len;
        while (*p == '/')
            p++;
    }
    return i == req->nseg;
}

//  Returns the route, or NULL with *status_p set to 404 or 405.
static const sim_route_t *
s_route (const sim_req_t *req, int *status_p)
{
    bool wrong_method = false;
    for (size_t t = 0; t < sizeof s_tables / sizeof s_tables[0]; t++)
        for (const sim_route_t *r = s_tables[t]; r->pattern; r++) {
            if (!s_match (r->pattern, req))
                continue;
            if (r->method && strcmp (r->method, req->method) != 0) {
                wrong_method = true;
                continue;
            }
            if (r->fallback && wrong_method)
                break;
            return r;
        }
    *status_p = wrong_method ? 405 : 404;
    return NULL;
}

static void
s_sleep (sim_t *self, int64_t ms)
{
    while (ms > 0 && !self->stopping) {
        int64_t step = ms > 20 ? 20 : ms;
        struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};
        nanosleep (&ts, NULL);
        ms -= step;
    }
}

static const char *s_html_502 =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
    "</html>\r\n";

//  Applies a fault that replaces the reply. Returns false when the request must go on.
static bool
s_fault_reply (sim_t *self, sim_req_t *req, const sim_fault_rule_t *rule)
{
    char text[600];
    switch (rule->mode) {
        case SIM_FAULT_DOWN:
            req->close = true;
            return true;
        case SIM_FAULT_SLOW:
            s_sleep (self, rule->delay_ms);
            return false;
        case SIM_FAULT_TRUNCATED:
            return false;
        case SIM_FAULT_HTTP5XX:
            snprintf (text, sizeof text, "%s", rule->body);
            if (!*text)
                snprintf (text, sizeof text, "%d %s\n", rule->status,
                          rule->status == 503 ? "Service Unavailable" : "Server Error");
            sim_req_reply (req, rule->status, "text/plain;charset=utf-8", text);
            return true;
        case SIM_FAULT_HTML:
            sim_req_reply (req, rule->status ? rule->status : 502, "text/html",
                           *rule->body ? rule->body : s_html_502);
            return true;
        case SIM_FAULT_GARBAGE:
            sim_req_reply (req, rule->status ? rule->status : 200, "application/json",
                           *rule->body ? rule->body : "}{ not json \x01\xff garbage [[[");
            return true;
        case SIM_FAULT_VERSION:
            sim_standalone_version_error (self, req, NULL);
            return true;
    }
    return false;
}

typedef struct {
    char *data;
    size_t limit;
} s_trunc_t;

//  Sends the first half of the body, then fails, so MHD closes the connection short of the
//  Content-Length it announced.
static ssize_t
s_trunc_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    s_trunc_t *trunc = cls;
    if (pos >= trunc->limit)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = trunc->limit - (size_t)pos;
    if (n > max)
        n = max;
    memcpy (buf, trunc->data + pos, n);
    return (ssize_t)n;
}

static void
s_trunc_free (void *cls)
{
    s_trunc_t *trunc = cls;
    free (trunc->data);
    free (trunc);
}

static enum MHD_Result
s_send (sim_req_t *req, bool truncated)
{
    size_t len;
    char *data = sim_buf_detach (&req->out, &len);
    struct MHD_Response *response;
    if (truncated) {
        s_trunc_t *trunc = malloc (sizeof *trunc);
        trunc->data = data;
        trunc->limit = len / 2;
        response = MHD_create_response_from_callback (len ? len : 16, 4096, s_trunc_read, trunc,
                                                      s_trunc_free);
    } else
        response = MHD_create_response_from_buffer (len, data, MHD_RESPMEM_MUST_FREE);
    if (!response)
        return MHD_NO;
    if (req->ctype)
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, req->ctype);
    if (req->location)
        MHD_add_response_header (response, MHD_HTTP_HEADER_LOCATION, req->location);
    if (req->authenticate)
        MHD_add_response_header (response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, req->authenticate);
    enum MHD_Result rc = MHD_queue_response (req->conn, (unsigned)req->status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_handle (sim_t *self, sim_req_t *req)
{
    req->nseg = 0;
    char *query = strchr (req->url, '?');
    char *path = query ? strndup (req->url, (size_t)(query - req->url)) : strdup (req->url);
    req->nseg = sim_split (path, '/', &req->path_copy, req->seg, SIM_MAX_SEGS);
    free (path);
    req->status = 200;
    int status = 404;
    req->route = s_route (req, &status);
    int backend = req->route ? (int)req->route->backend : -1;
    if (backend < 0) {
        //  Paths outside every backend belong to nobody; count them under the catch-all.
        sim_req_reply (req, status, "text/html;charset=iso-8859-1",
                       status == 405 ? "<html><body><h2>HTTP ERROR 405 Method Not Allowed</h2>"
                                       "</body></html>\n"
                                     : "<html><body><h2>HTTP ERROR 404 Not Found</h2>"
                                       "</body></html>\n");
        sim_stats_record (self->stats, req->method, NULL, -1, status, false);
        return s_send (req, false);
    }
    sim_fault_rule_t rule;
    bool faulted =
        backend != SIM_BACKEND_CONTROL &&
        sim_fault_match (self->faults, (sim_backend_t)backend, req->method, req->url, &rule);
    if (backend != SIM_BACKEND_CONTROL)
        sim_agents_request (self->agents, req);
    if ((!faulted || !s_fault_reply (self, req, &rule)) && sim_auth_check (self, req, backend))
        req->route->handler (self, req);
    sim_stats_record (self->stats, req->method, req->route, backend, req->close ? 0 : req->status,
                      faulted);
    if (req->close)
        return MHD_NO;
    return s_send (req, faulted && rule.mode == SIM_FAULT_TRUNCATED);
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    sim_t *self = cls;
    sim_req_t *req = *con_cls;
    if (!req) {
        req = calloc (1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->conn = conn;
        req->method = method;
        req->url = url;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_size) {
        if (req->body_len + *upload_size > S_MAX_BODY)
            req->too_large = true;
        else {
            sim_buf_t buf = {req->body, req->body_len, req->body_cap};
            sim_buf_append (&buf, upload, *upload_size);
            req->body = buf.data;
            req->body_len = buf.len;
            req->body_cap = buf.cap;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (req->too_large) {
        sim_req_reply (req, 413, "text/plain", "Request Entity Too Large\n");
        return s_send (req, false);
    }
    return s_handle (self, req);
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    sim_req_t *req = *con_cls;
    if (!req)
        return;
    free (req->path_copy);
    free (req->body);
    free (req->location);
    free (req->authenticate);
    sim_buf_reset (&req->out);
    free (req);
    *con_cls = NULL;
}

sim_t *
sim_server_new (const sim_config_t *config, sim_scenario_t **default_p, int threads, char *err,
                size_t errlen)
{
    sim_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    self->config = *config;
    self->threads = threads;
    self->jobs = sim_jobs_new (&self->config);
    self->faults = sim_fault_new ();
    self->stats = sim_stats_new ();
    self->agents = sim_agents_new ();
    char stamp[16];
    sim_clock_compact (config->cluster_ts, stamp);
    snprintf (self->worker_id, sizeof self->worker_id, "worker-%s-127.0.0.1-7078", stamp);
    if (default_p && *default_p)
        sim_jobs_set_default (self->jobs, default_p);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)config->port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (threads > 0)
        flags |= MHD_USE_POLL;
    else
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)s_completed, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 4000, NULL},
        {threads > 0 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
        {MHD_OPTION_END, 0, NULL}};
    self->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_access, self, MHD_OPTION_ARRAY,
                                     options, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (err, errlen, "cannot listen on 127.0.0.1:%d (port taken?)", config->port);
        sim_server_destroy (&self);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->config.port = info ? info->port : config->port;
    return self;
}

void
sim_server_destroy (sim_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_t *self = *self_p;
    self->stopping = 1;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    sim_jobs_destroy (&self->jobs);
    sim_fault_destroy (&self->faults);
    sim_stats_destroy (&self->stats);
    sim_agents_destroy (&self->agents);
    free (self);
    *self_p = NULL;
}
