//  A webhook receiver for tests (see webhook_sink.h).
#include "webhook_sink.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_POSTS_MAX   200000
#define S_BODY_MAX    (1 << 20)
#define S_HEADERS_MAX 4096

typedef struct {
    char *body;
    char *headers; //  "name: value\n" lines
} s_post_t;

struct webhook_sink {
    struct MHD_Daemon *daemon;
    char url[64];
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    int fail_status;
    size_t refused;
    s_post_t *posts;
    size_t count;
};

//  One request being read.
typedef struct {
    char *body;
    size_t size;
    bool too_big;
} s_request_t;

static enum MHD_Result
s_header (void *arg, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    char **headers = (char **)arg;
    size_t used = *headers ? strlen (*headers) : 0;
    size_t more = strlen (key) + strlen (value ? value : "") + 3;
    if (used + more > S_HEADERS_MAX)
        return MHD_YES;
    char *grown = (char *)realloc (*headers, used + more + 1);
    if (!grown)
        return MHD_YES;
    snprintf (grown + used, more + 1, "%s: %s\n", key, value ? value : "");
    *headers = grown;
    return MHD_YES;
}

static enum MHD_Result
s_answer (struct MHD_Connection *connection, int status)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result result = MHD_queue_response (connection, (unsigned)status, response);
    MHD_destroy_response (response);
    return result;
}

static enum MHD_Result
s_handle (void *arg, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *data, size_t *data_size, void **request_p)
{
    (void)url, (void)version;
    webhook_sink_t *self = (webhook_sink_t *)arg;
    s_request_t *request = (s_request_t *)*request_p;
    if (!request) {
        *request_p = calloc (1, sizeof (s_request_t));
        return *request_p ? MHD_YES : MHD_NO;
    }
    if (*data_size) {
        if (request->size + *data_size > S_BODY_MAX)
            request->too_big = true;
        else {
            char *grown = (char *)realloc (request->body, request->size + *data_size + 1);
            if (grown) {
                memcpy (grown + request->size, data, *data_size);
                request->size += *data_size;
                grown[request->size] = 0;
                request->body = grown;
            }
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp (method, "POST") || request->too_big)
        return s_answer (connection, request->too_big ? 413 : 405);
    pthread_mutex_lock (&self->mutex);
    int status = self->fail_status;
    if (status)
        self->refused++;
    else if (self->count < S_POSTS_MAX) {
        s_post_t *post = &self->posts[self->count];
        post->body = request->body ? request->body : strdup ("");
        request->body = NULL;
        post->headers = NULL;
        MHD_get_connection_values (connection, MHD_HEADER_KIND, s_header, &post->headers);
        self->count++;
    }
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->mutex);
    return s_answer (connection, status ? status : 200);
}

static void
s_done (void *arg, struct MHD_Connection *connection, void **request_p,
        enum MHD_RequestTerminationCode code)
{
    (void)arg, (void)connection, (void)code;
    s_request_t *request = (s_request_t *)*request_p;
    if (request) {
        free (request->body);
        free (request);
    }
    *request_p = NULL;
}

webhook_sink_t *
webhook_sink_new (void)
{
    webhook_sink_t *self = (webhook_sink_t *)calloc (1, sizeof (webhook_sink_t));
    self->posts = (s_post_t *)calloc (S_POSTS_MAX, sizeof (s_post_t));
    pthread_mutex_init (&self->mutex, NULL);
    pthread_cond_init (&self->changed, NULL);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    self->daemon =
        MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, s_handle,
                          self, MHD_OPTION_SOCK_ADDR, &address, MHD_OPTION_NOTIFY_COMPLETED, s_done,
                          self, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        self->daemon ? MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        webhook_sink_destroy (&self);
        return NULL;
    }
    snprintf (self->url, sizeof self->url, "http://127.0.0.1:%u/hook", (unsigned)info->port);
    return self;
}

void
webhook_sink_destroy (webhook_sink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    webhook_sink_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    for (size_t index = 0; index < self->count; index++) {
        free (self->posts[index].body);
        free (self->posts[index].headers);
    }
    free (self->posts);
    pthread_mutex_destroy (&self->mutex);
    pthread_cond_destroy (&self->changed);
    free (self);
    *self_p = NULL;
}

const char *
webhook_sink_url (webhook_sink_t *self)
{
    return self->url;
}

void
webhook_sink_fail (webhook_sink_t *self, int status)
{
    pthread_mutex_lock (&self->mutex);
    self->fail_status = status;
    pthread_mutex_unlock (&self->mutex);
}

size_t
webhook_sink_count (webhook_sink_t *self)
{
    pthread_mutex_lock (&self->mutex);
    size_t count = self->count;
    pthread_mutex_unlock (&self->mutex);
    return count;
}

size_t
webhook_sink_refused (webhook_sink_t *self)
{
    pthread_mutex_lock (&self->mutex);
    size_t count = self->refused;
    pthread_mutex_unlock (&self->mutex);
    return count;
}

static bool
s_wait (webhook_sink_t *self, size_t *counter, size_t count, int timeout)
{
    struct timespec deadline;
    clock_gettime (CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout / 1000;
    deadline.tv_nsec += (long)(timeout % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock (&self->mutex);
    int rc = 0;
    while (*counter < count && rc == 0)
        rc = pthread_cond_timedwait (&self->changed, &self->mutex, &deadline);
    bool reached = *counter >= count;
    pthread_mutex_unlock (&self->mutex);
    return reached;
}

bool
webhook_sink_wait (webhook_sink_t *self, size_t count, int timeout)
{
    return s_wait (self, &self->count, count, timeout);
}

bool
webhook_sink_wait_refused (webhook_sink_t *self, size_t count, int timeout)
{
    return s_wait (self, &self->refused, count, timeout);
}

char *
webhook_sink_body (webhook_sink_t *self, size_t index)
{
    pthread_mutex_lock (&self->mutex);
    char *body = index < self->count ? strdup (self->posts[index].body) : NULL;
    pthread_mutex_unlock (&self->mutex);
    return body;
}

char *
webhook_sink_header (webhook_sink_t *self, size_t index, const char *name)
{
    char *value = NULL;
    pthread_mutex_lock (&self->mutex);
    const char *line = index < self->count ? self->posts[index].headers : NULL;
    size_t length = strlen (name);
    while (line && *line && !value) {
        const char *end = strchr (line, '\n');
        if (strncasecmp (line, name, length) == 0 && line[length] == ':') {
            const char *start = line + length + 1;
            while (*start == ' ')
                start++;
            value = strndup (start, end ? (size_t)(end - start) : strlen (start));
        }
        line = end ? end + 1 : NULL;
    }
    pthread_mutex_unlock (&self->mutex);
    return value;
}
