//  spark-poller: HTTP with libcurl's multi interface, driven from the plugin's own loop:
//  keep-alive connections, a bound on requests in flight per host, a timeout on every request.
#include "sp_http.h"
#include <curl/curl.h>
#include <errno.h>
#include <string.h>

//  A YARN list of 100,000 apps is about 92 MB, Livy's 69 MB: the cap is for runaway replies.
#define SP_HTTP_BODY_MAX (512u << 20)

//  One host (scheme://host:port): its requests in libcurl's hands, and those waiting their turn.
//  libcurl's own queue of transfers waiting for a connection is walked at every transfer's end:
//  with a thousand jobs polled one by one, it was most of the plugin's time.
typedef struct {
    int active;
    zlistx_t *waiting; //  s_request_t, oldest first
} s_host_t;

struct _sp_http_t {
    CURLM *multi;
    int running;        //  requests started, active or waiting
    long max_per_host;  //  active requests per host at most
    char agent[256];    //  the User-Agent
    zlistx_t *requests; //  s_request_t started, for destroy
    zhashx_t *hosts;    //  "scheme://host:port" -> s_host_t
    zlistx_t *idle;     //  easy handles of ended requests, reset and used again
};

#define SP_HTTP_IDLE_MAX 64 //  easy handles kept for reuse

//  One request in flight; owned by its easy handle (CURLOPT_PRIVATE).
typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    char *body;     //  the request body
    char *response; //  the response, growing
    size_t size;
    size_t capacity;
    bool too_big;
    sp_http_done_fn *done;
    sp_http_progress_fn *progress;
    void *arg;
    void *handle; //  its place in the engine's list
    s_host_t *host;
    bool active; //  in libcurl's hands (not waiting)
    char error[CURL_ERROR_SIZE];
} s_request_t;

//  Frees a request; its easy handle goes back to the engine's pool (self NULL: cleaned up).
static void
s_request_destroy (sp_http_t *self, s_request_t *request)
{
    if (self && zlistx_size (self->idle) < SP_HTTP_IDLE_MAX)
        zlistx_add_end (self->idle, request->easy);
    else
        curl_easy_cleanup (request->easy);
    curl_slist_free_all (request->headers);
    free (request->body);
    free (request->response);
    free (request);
}

static size_t
s_write (char *data, size_t size, size_t count, void *arg)
{
    s_request_t *request = (s_request_t *)arg;
    size_t bytes = size * count;
    if (request->size + bytes > SP_HTTP_BODY_MAX) {
        request->too_big = true;
        return 0; //  aborts the transfer
    }
    if (request->size + bytes + 1 > request->capacity) {
        size_t capacity = (request->size + bytes + 1) * 2;
        char *grown = (char *)realloc (request->response, capacity);
        if (!grown)
            return 0;
        request->response = grown;
        request->capacity = capacity;
    }
    memcpy (request->response + request->size, data, bytes);
    request->size += bytes;
    request->response[request->size] = 0;
    if (request->progress)
        request->progress (request->arg, request->response, request->size);
    return bytes;
}

static void
s_host_destroy (s_host_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zlistx_destroy (&(*self_p)->waiting);
    free (*self_p);
    *self_p = NULL;
}

sp_http_t *
sp_http_new (long max_per_host, const char *agent)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    sp_http_t *self = (sp_http_t *)zmalloc (sizeof (sp_http_t));
    self->multi = curl_multi_init ();
    self->requests = zlistx_new ();
    self->idle = zlistx_new ();
    self->hosts = zhashx_new ();
    zhashx_set_destructor (self->hosts, (zhashx_destructor_fn *)s_host_destroy);
    self->max_per_host = max_per_host > 0 ? max_per_host : 4;
    snprintf (self->agent, sizeof self->agent, "%s", agent);
    curl_multi_setopt (self->multi, CURLMOPT_MAX_HOST_CONNECTIONS, self->max_per_host);
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS, 64L);
    return self;
}

void
sp_http_destroy (sp_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_http_t *self = *self_p;
    for (s_request_t *request = (s_request_t *)zlistx_first (self->requests); request;
         request = (s_request_t *)zlistx_next (self->requests)) {
        if (request->active)
            curl_multi_remove_handle (self->multi, request->easy);
        request->done (request->arg, 0, NULL, 0, "cancelled", true); //  its owner frees arg
        s_request_destroy (NULL, request);
    }
    zlistx_destroy (&self->requests);
    for (CURL *easy = (CURL *)zlistx_first (self->idle); easy;
         easy = (CURL *)zlistx_next (self->idle))
        curl_easy_cleanup (easy);
    zlistx_destroy (&self->idle);
    zhashx_destroy (&self->hosts);
    curl_multi_cleanup (self->multi);
    free (self);
    *self_p = NULL;
}

int
sp_http_request (sp_http_t *self, const char *method, const char *url, const char *body,
                 const char *header, const sp_auth_t *auth, long timeout_ms, sp_http_done_fn *done,
                 sp_http_progress_fn *progress, void *arg)
{
    s_request_t *request = (s_request_t *)calloc (1, sizeof (s_request_t));
    if (request && zlistx_size (self->idle)) {
        //  A handle used before: its options go, its connection cache and DNS cache stay.
        request->easy = (CURL *)zlistx_detach (self->idle, NULL);
        curl_easy_reset (request->easy);
    } else if (request)
        request->easy = curl_easy_init ();
    if (!request || !request->easy) {
        free (request);
        return -ENOMEM;
    }
    CURL *easy = request->easy;
    request->done = done;
    request->progress = progress;
    request->arg = arg;
    //  The URL with its auth parameter (user.name, delegation) when the backend wants one: a
    //  token can be long, and escaped it grows threefold.
    char full_url[1024 + 3 * SP_AUTH_SECRET_MAX + 64];
    request->headers = curl_slist_append (NULL, "Accept: application/json");
    int rc = request->headers ? 0 : -ENOMEM;
    if (rc == 0)
        rc = auth ? sp_auth_apply (auth, easy, url, full_url, sizeof full_url, &request->headers)
                  : (snprintf (full_url, sizeof full_url, "%s", url) >= (int)sizeof full_url
                         ? -ENAMETOOLONG
                         : 0);
    if (rc) {
        s_request_destroy (self, request);
        return rc;
    }
    curl_easy_setopt (easy, CURLOPT_URL, full_url);
    curl_easy_setopt (easy, CURLOPT_USERAGENT, self->agent);
    explicit_bzero (full_url, sizeof full_url);
    curl_easy_setopt (easy, CURLOPT_PRIVATE, request);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, request);
    curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, request->error);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, method);
    //  Livy with CSRF protection wants it on every non-GET; it costs nothing elsewhere.
    request->headers = curl_slist_append (request->headers, "X-Requested-By: jobd");
    if (header)
        request->headers = curl_slist_append (request->headers, header);
    if (body) {
        request->body = strdup (body);
        request->headers = curl_slist_append (request->headers, "Content-Type: application/json");
        curl_easy_setopt (easy, CURLOPT_POSTFIELDS, request->body);
    }
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, request->headers);
    //  The host: the URL up to the path ("http://master:6066").
    const char *authority = strstr (url, "://");
    authority = authority ? authority + 3 : url;
    char key[512];
    snprintf (key, sizeof key, "%.*s", (int)(authority - url + strcspn (authority, "/?#")), url);
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, key);
    if (!host) {
        host = (s_host_t *)zmalloc (sizeof (s_host_t));
        host->waiting = zlistx_new ();
        zhashx_insert (self->hosts, key, host);
    }
    request->host = host;
    if (host->active < self->max_per_host) {
        if (curl_multi_add_handle (self->multi, easy) != CURLM_OK) {
            s_request_destroy (self, request);
            return -ENOMEM;
        }
        request->active = true;
        host->active++;
    } else
        zlistx_add_end (host->waiting, request);
    request->handle = zlistx_add_end (self->requests, request);
    self->running++;
    return 0;
}

//  A request of host ended: the oldest waiting one, if any, takes its place.
static void
s_host_next (sp_http_t *self, s_host_t *host)
{
    host->active--;
    s_request_t *next = (s_request_t *)zlistx_first (host->waiting);
    while (next && host->active < self->max_per_host) {
        zlistx_delete (host->waiting, zlistx_cursor (host->waiting));
        if (curl_multi_add_handle (self->multi, next->easy) == CURLM_OK) {
            next->active = true;
            host->active++;
        } else {
            zlistx_delete (self->requests, next->handle);
            self->running--;
            next->done (next->arg, 0, NULL, 0, "cannot start the request", false);
            s_request_destroy (self, next);
        }
        next = (s_request_t *)zlistx_first (host->waiting);
    }
}

//  Hands every ended transfer to its callback.
static void
s_finish (sp_http_t *self)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read (self->multi, &left))) {
        if (message->msg != CURLMSG_DONE)
            continue;
        CURL *easy = message->easy_handle;
        CURLcode result = message->data.result;
        s_request_t *request = NULL;
        curl_easy_getinfo (easy, CURLINFO_PRIVATE, (char **)&request);
        long status = 0, request_size = 0;
        if (result == CURLE_OK)
            curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
        //  Bytes of request headers sent: none means the server never saw the request.
        curl_easy_getinfo (easy, CURLINFO_REQUEST_SIZE, &request_size);
        const char *error = result == CURLE_OK  ? NULL
                            : request->too_big  ? "response over 512 MiB"
                            : request->error[0] ? request->error
                                                : curl_easy_strerror (result);
        curl_multi_remove_handle (self->multi, easy);
        zlistx_detach (self->requests, request->handle);
        self->running--;
        s_host_next (self, request->host); //  before the callback: older requests go first
        request->done (request->arg, status, request->response ? request->response : "",
                       request->size, error, result == CURLE_OK || request_size > 0);
        s_request_destroy (self, request);
    }
}

int
sp_http_wait (sp_http_t *self, zsock_t **sockets, size_t count, int timeout_ms)
{
    struct curl_waitfd extra[8];
    size_t used = 0;
    bool pending = false;
    for (size_t index = 0; index < count && used < 8; index++) {
        //  ZMQ_FD only signals new arrivals: messages already queued must not wait.
        if (zsock_events (sockets[index]) & ZMQ_POLLIN)
            pending = true;
        extra[used++] =
            (struct curl_waitfd){.fd = zsock_fd (sockets[index]), .events = CURL_WAIT_POLLIN};
    }
    int still;
    curl_multi_perform (self->multi, &still);
    s_finish (self);
    if (!pending)
        curl_multi_poll (self->multi, extra, (unsigned)used, timeout_ms, NULL);
    curl_multi_perform (self->multi, &still);
    s_finish (self);
    return self->running;
}

int
sp_http_running (sp_http_t *self)
{
    return self->running;
}
