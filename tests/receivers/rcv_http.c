//  Test receivers: an HTTP recorder on libmicrohttpd (rcv_http.h).
#include "rcv_http.h"
#include "rcv_proc.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_REQUESTS_MAX 1024

struct rcv_http {
    struct MHD_Daemon *daemon;
    char url[64];
    pthread_mutex_t mutex;
    unsigned status;
    char retry_after[32];
    rcv_request_t requests[S_REQUESTS_MAX];
    size_t count;
};

//  A request being received: its body grows over calls.
typedef struct {
    rcv_request_t request;
    size_t capacity;
} s_pending_t;

static enum MHD_Result
s_add_header (void *arg, enum MHD_ValueKind kind, const char *name, const char *value)
{
    char **headers = arg;
    size_t used = *headers ? strlen (*headers) : 0;
    size_t more = strlen (name) + strlen (value ? value : "") + 4;
    char *bigger = realloc (*headers, used + more);
    if (!bigger)
        return MHD_NO;
    snprintf (bigger + used, more, "%s: %s\n", name, value ? value : "");
    *headers = bigger;
    return MHD_YES;
}

static enum MHD_Result
s_handle (void *arg, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *data, size_t *data_size, void **state)
{
    rcv_http_t *self = arg;
    s_pending_t *pending = *state;
    if (!pending) {
        pending = calloc (1, sizeof *pending);
        if (!pending)
            return MHD_NO;
        snprintf (pending->request.method, sizeof pending->request.method, "%s", method);
        snprintf (pending->request.path, sizeof pending->request.path, "%s", url);
        pending->request.headers = strdup ("");
        MHD_get_connection_values (connection, MHD_HEADER_KIND, s_add_header,
                                   &pending->request.headers);
        pending->capacity = 1024;
        pending->request.body = calloc (1, pending->capacity);
        *state = pending;
        return MHD_YES;
    }
    if (*data_size) {
        size_t need = pending->request.body_size + *data_size + 1;
        if (need > pending->capacity) {
            char *bigger = realloc (pending->request.body, need * 2);
            if (!bigger)
                return MHD_NO;
            pending->request.body = bigger;
            pending->capacity = need * 2;
        }
        memcpy (pending->request.body + pending->request.body_size, data, *data_size);
        pending->request.body_size += *data_size;
        pending->request.body[pending->request.body_size] = 0;
        *data_size = 0;
        return MHD_YES;
    }
    //  The whole request is in: record it, answer.
    pthread_mutex_lock (&self->mutex);
    unsigned status = self->status;
    char retry_after[32];
    snprintf (retry_after, sizeof retry_after, "%s", self->retry_after);
    if (self->count < S_REQUESTS_MAX) {
        self->requests[self->count++] = pending->request;
        pending->request.headers = NULL;
        pending->request.body = NULL;
    }
    pthread_mutex_unlock (&self->mutex);
    const char *text = status < 300 ? "ok" : "refused";
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (retry_after[0])
        MHD_add_response_header (response, "Retry-After", retry_after);
    enum MHD_Result result = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return result;
}

static void
s_completed (void *arg, struct MHD_Connection *connection, void **state,
             enum MHD_RequestTerminationCode code)
{
    s_pending_t *pending = *state;
    if (pending) {
        free (pending->request.headers);
        free (pending->request.body);
        free (pending);
    }
    *state = NULL;
}

rcv_http_t *
rcv_http_new (void)
{
    rcv_http_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->mutex, NULL);
    self->status = 200;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    self->daemon =
        MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                          s_handle, self, MHD_OPTION_SOCK_ADDR, &address,
                          MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        self->daemon ? MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        rcv_http_destroy (&self);
        return NULL;
    }
    snprintf (self->url, sizeof self->url, "http://127.0.0.1:%u", (unsigned)info->port);
    return self;
}

void
rcv_http_destroy (rcv_http_t **self_p)
{
    rcv_http_t *self = *self_p;
    if (!self)
        return;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    for (size_t index = 0; index < self->count; index++) {
        free (self->requests[index].headers);
        free (self->requests[index].body);
    }
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}

const char *
rcv_http_url (rcv_http_t *self)
{
    return self->url;
}

void
rcv_http_answer (rcv_http_t *self, unsigned status, const char *retry_after)
{
    pthread_mutex_lock (&self->mutex);
    self->status = status;
    snprintf (self->retry_after, sizeof self->retry_after, "%s", retry_after ? retry_after : "");
    pthread_mutex_unlock (&self->mutex);
}

size_t
rcv_http_count (rcv_http_t *self)
{
    pthread_mutex_lock (&self->mutex);
    size_t count = self->count;
    pthread_mutex_unlock (&self->mutex);
    return count;
}

bool
rcv_http_wait (rcv_http_t *self, size_t count, int timeout_ms)
{
    long long deadline = rcv_proc_now () + timeout_ms;
    while (rcv_http_count (self) < count) {
        if (rcv_proc_now () > deadline)
            return false;
        rcv_proc_pause (10);
    }
    return true;
}

const rcv_request_t *
rcv_http_request (rcv_http_t *self, size_t index)
{
    //  Recorded requests never move nor change: only the count is shared.
    return index < rcv_http_count (self) ? &self->requests[index] : NULL;
}

char *
rcv_http_header (const rcv_request_t *request, const char *name)
{
    size_t length = strlen (name);
    for (const char *line = request->headers; line && *line;) {
        const char *end = strchr (line, '\n');
        if (strncasecmp (line, name, length) == 0 && line[length] == ':') {
            const char *value = line + length + 2;
            return strndup (value, end ? (size_t)(end - value) : strlen (value));
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}
