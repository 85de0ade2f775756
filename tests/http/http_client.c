//  A small libcurl client for the http plugin's tests and bench.
#include "http_client.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *data;
    size_t size;
    const char *until; //  stop once data contains it (streams), or NULL
} s_buffer_t;

static size_t
s_write (char *data, size_t size, size_t count, void *arg)
{
    s_buffer_t *buffer = (s_buffer_t *)arg;
    size_t len = size * count;
    char *grown = (char *)realloc (buffer->data, buffer->size + len + 1);
    if (!grown)
        return 0;
    memcpy (grown + buffer->size, data, len);
    buffer->data = grown;
    buffer->size += len;
    buffer->data[buffer->size] = 0;
    if (buffer->until && strstr (buffer->data, buffer->until))
        return 0; //  enough: ends the transfer
    return len;
}

static size_t
s_header (char *data, size_t size, size_t count, void *arg)
{
    http_answer_t *answer = (http_answer_t *)arg;
    size_t len = size * count;
    const struct {
        const char *name;
        char *into;
        size_t room;
    } wanted[] = {{"Location:", answer->location, sizeof answer->location},
                  {"Allow:", answer->allow, sizeof answer->allow},
                  {"Content-Type:", answer->content_type, sizeof answer->content_type},
                  {"ETag:", answer->etag, sizeof answer->etag},
                  {"Cache-Control:", answer->cache_control, sizeof answer->cache_control},
                  {"Content-Security-Policy:", answer->csp, sizeof answer->csp},
                  {"X-Content-Type-Options:", answer->nosniff, sizeof answer->nosniff}};
    for (size_t index = 0; index < sizeof wanted / sizeof wanted[0]; index++) {
        size_t name_len = strlen (wanted[index].name);
        if (len > name_len && strncasecmp (data, wanted[index].name, name_len) == 0) {
            size_t start = name_len;
            while (start < len && data[start] == ' ')
                start++;
            size_t end = len;
            while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n'))
                end--;
            size_t copy =
                end - start < wanted[index].room - 1 ? end - start : wanted[index].room - 1;
            memcpy (wanted[index].into, data + start, copy);
            wanted[index].into[copy] = 0;
        }
    }
    return len;
}

static struct curl_slist *
s_headers (const char *token, const char *body, const char *header, const char *last_event_id)
{
    struct curl_slist *headers = NULL;
    char line[512];
    if (token) {
        snprintf (line, sizeof line, "Authorization: Bearer %s", token);
        headers = curl_slist_append (headers, line);
    }
    if (body && !(header && strncasecmp (header, "Content-Type:", 13) == 0))
        headers = curl_slist_append (headers, "Content-Type: application/json");
    if (header)
        headers = curl_slist_append (headers, header);
    if (last_event_id) {
        snprintf (line, sizeof line, "Last-Event-ID: %s", last_event_id);
        headers = curl_slist_append (headers, line);
    }
    return headers;
}

int
http_call (const char *method, const char *url, const char *token, const char *body,
           const char *header, http_answer_t *answer)
{
    memset (answer, 0, sizeof *answer);
    CURL *curl = curl_easy_init ();
    if (!curl)
        return -1;
    s_buffer_t buffer = {NULL, 0, NULL};
    struct curl_slist *headers = s_headers (token, body, header, NULL);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp (method, "HEAD") == 0)
        curl_easy_setopt (curl, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)strlen (body));
    } else if (strcmp (method, "POST") == 0)
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &buffer);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, answer);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_PATH_AS_IS, 1L); //  path tricks reach the server as written
    CURLcode code = curl_easy_perform (curl);
    if (code == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &answer->status);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    answer->body = buffer.data ? buffer.data : strdup ("");
    answer->size = buffer.size;
    return code == CURLE_OK ? 0 : -1;
}

void
http_answer_clear (http_answer_t *answer)
{
    free (answer->body);
    answer->body = NULL;
}

char *
http_sse_read (const char *url, const char *last_event_id, const char *token, const char *until,
               int timeout_ms, long *status_p)
{
    CURL *curl = curl_easy_init ();
    if (!curl)
        return NULL;
    s_buffer_t buffer = {NULL, 0, until};
    struct curl_slist *headers = s_headers (token, NULL, NULL, last_event_id);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &buffer);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode code = curl_easy_perform (curl);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    if (status_p)
        *status_p = status;
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    if (code == CURLE_COULDNT_CONNECT || (!buffer.data && status == 0)) {
        free (buffer.data);
        return NULL;
    }
    return buffer.data ? buffer.data : strdup ("");
}

int
http_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof address;
    int port = -1;
    if (fd >= 0 && bind (fd, (struct sockaddr *)&address, sizeof address) == 0 &&
        getsockname (fd, (struct sockaddr *)&address, &len) == 0)
        port = ntohs (address.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

bool
http_wait_status (const char *url, long status, int timeout_ms)
{
    struct timespec now, pace = {0, 20 * 1000 * 1000};
    clock_gettime (CLOCK_MONOTONIC, &now);
    int64_t deadline = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + timeout_ms;
    while (true) {
        http_answer_t answer;
        int rc = http_call ("GET", url, NULL, NULL, NULL, &answer);
        bool done = rc == 0 && answer.status == status;
        http_answer_clear (&answer);
        if (done)
            return true;
        clock_gettime (CLOCK_MONOTONIC, &now);
        if ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 > deadline)
            return false;
        nanosleep (&pace, NULL);
    }
}
