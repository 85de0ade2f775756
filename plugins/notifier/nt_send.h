//  notifier: what the slack, email and alertmanager channels share (times, the note's links, a
//  POST with libcurl and what its outcome means in nt_channel.h's codes). Header-only, static
//  inline: each channel file stays one unit the plugin's build lists by name, and no channel
//  file calls into another.
#ifndef NT_SEND_H_INCLUDED
#define NT_SEND_H_INCLUDED

#include "jobd_error.h"
#include "nt_channel.h"
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

//  ms since the epoch now.
static inline int64_t
nt_send_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  ms as ISO 8601 UTC with milliseconds ("2026-12-04T04:17:14.769Z") into buffer (25 bytes).
static inline const char *
nt_send_iso8601 (int64_t ms, char *buffer, size_t size)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    char date[32];
    strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (buffer, size, "%s.%03dZ", date, (int)(ms % 1000));
    return buffer;
}

//  Calls each (label, url, arg) for each link of the note's body ("links": an object of label
//  -> URL, or an array of URLs or of {"label"|"name", "url"|"href"} objects), in order, until
//  it returns false. Links that are not http(s) URLs are skipped: they go into markup.
static inline void
nt_send_links (const nt_note_t *note, bool (*each) (const char *label, const char *url, void *arg),
               void *arg)
{
    json_t *links = note->body ? json_object_get (note->body, "links") : NULL;
    const char *label, *url;
    json_t *value;
    size_t index;
    if (json_is_object (links)) {
        json_object_foreach (links, label, value)
        {
            url = json_string_value (value);
            if (url && (!strncmp (url, "http://", 7) || !strncmp (url, "https://", 8)) &&
                !each (label, url, arg))
                return;
        }
    }
    json_array_foreach (links, index, value)
    {
        label = json_string_value (json_object_get (value, "label"));
        if (!label)
            label = json_string_value (json_object_get (value, "name"));
        url = json_string_value (json_is_string (value) ? value : json_object_get (value, "url"));
        if (!url)
            url = json_string_value (json_object_get (value, "href"));
        if (url && (!strncmp (url, "http://", 7) || !strncmp (url, "https://", 8)) &&
            !each (label ? label : "link", url, arg))
            return;
    }
}

//  url without its user info, query and fragment, for errors and logs: a URL may carry
//  credentials or a token there. Writes into buffer.
static inline const char *
nt_send_shown_url (const char *url, char *buffer, size_t size)
{
    const char *scheme = strstr (url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *path = host + strcspn (host, "/?#");
    const char *at = memchr (host, '@', (size_t)(path - host));
    if (at)
        host = at + 1;
    snprintf (buffer, size, "%.*s%.*s%.*s", scheme ? (int)(scheme + 3 - url) : 0, url,
              (int)(path - host), host, (int)strcspn (path, "?#"), path);
    return buffer;
}

//  How every request of the notifier names itself (receivers log it).
#define NT_USER_AGENT "jobd/" JOBD_VERSION " notifier"

//  A channel's curl handle, with curl's global state (counted: the last destroy frees it).
//  Returns 0, or -ENOMEM with *curl_p NULL.
static inline int
nt_send_curl_new (CURL **curl_p)
{
    *curl_p = NULL;
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -ENOMEM;
    if (!(*curl_p = curl_easy_init ())) {
        curl_global_cleanup ();
        return -ENOMEM;
    }
    return 0;
}

//  Frees the handle and its share of curl's global state; NULL-safe; sets *curl_p to NULL.
static inline void
nt_send_curl_destroy (CURL **curl_p)
{
    if (!*curl_p)
        return;
    curl_easy_cleanup (*curl_p);
    curl_global_cleanup ();
    *curl_p = NULL;
}

//  Reads the channel's timeout (ms, default 10s) into *timeout_p. Returns 0, or JOBD_ECONFIG
//  when it is not more than 0.
static inline int
nt_send_timeout (const nt_config_t *config, long *timeout_p, char *reason, size_t reason_size)
{
    *timeout_p = (long)nt_config_int (config, "timeout", 10000);
    if (*timeout_p > 0)
        return 0;
    snprintf (reason, reason_size, "channels/%s/timeout: must be more than 0", config->name);
    return JOBD_ECONFIG;
}

//  Wipes a secret and frees it; NULL-safe; sets *secret_p to NULL.
static inline void
nt_send_forget (char **secret_p)
{
    if (!*secret_p)
        return;
    explicit_bzero (*secret_p, strlen (*secret_p));
    free (*secret_p);
    *secret_p = NULL;
}

//  The length of the valid UTF-8 sequence at text, or 0 when it is not one (RFC 3629: no
//  overlong forms, no surrogates, nothing past U+10FFFF).
static inline size_t
nt_send_utf8_length (const unsigned char *text)
{
    unsigned char byte = text[0];
    if (byte < 0x80)
        return 1;
    size_t length = byte >= 0xC2 && byte <= 0xDF   ? 2
                    : byte >= 0xE0 && byte <= 0xEF ? 3
                    : byte >= 0xF0 && byte <= 0xF4 ? 4
                                                   : 0;
    unsigned char low = byte == 0xE0 ? 0xA0 : byte == 0xF0 ? 0x90 : 0x80;
    unsigned char high = byte == 0xED ? 0x9F : byte == 0xF4 ? 0x8F : 0xBF;
    if (length == 0 || text[1] < low || text[1] > high)
        return 0;
    for (size_t index = 2; index < length; index++)
        if ((text[index] & 0xC0) != 0x80)
            return 0;
    return length;
}

//  Replaces in place each byte of text that is not part of valid UTF-8 by '?': a job's name or
//  error may hold any bytes, and JSON (jansson) takes only UTF-8; a note must not fail for it.
static inline void
nt_send_utf8_fix (char *text)
{
    unsigned char *cursor = (unsigned char *)text;
    while (cursor && *cursor) {
        size_t length = nt_send_utf8_length (cursor);
        if (length == 0)
            *cursor++ = '?';
        else
            cursor += length;
    }
}

//  A JSON string of text with its invalid UTF-8 bytes as '?' (NULL text: ""), or NULL when
//  out of memory.
static inline json_t *
nt_send_json_string (const char *text)
{
    char *copy = strdup (text ? text : "");
    nt_send_utf8_fix (copy);
    json_t *string = copy ? json_string (copy) : NULL;
    free (copy);
    return string;
}

//  A growing text (a message, a payload): data NUL-terminated, or failed when memory ran out.
typedef struct {
    char *data;
    size_t size, capacity;
    bool failed;
} nt_send_text_t;

static inline void
nt_send_put (nt_send_text_t *text, const char *data, size_t size)
{
    if (text->failed)
        return;
    if (text->size + size + 1 > text->capacity) {
        size_t capacity = (text->size + size + 1) * 2;
        char *bigger = realloc (text->data, capacity);
        if (!bigger) {
            text->failed = true;
            return;
        }
        text->data = bigger;
        text->capacity = capacity;
    }
    memcpy (text->data + text->size, data, size);
    text->size += size;
    text->data[text->size] = 0;
}

static inline void
nt_send_puts (nt_send_text_t *text, const char *data)
{
    nt_send_put (text, data, strlen (data));
}

//  What a request got back: the Retry-After header, the body's start (for errors) and, when
//  asked, the whole body (up to 4 MiB).
typedef struct {
    char retry_after[32];
    char body[160];
    size_t body_used;
    nt_send_text_t *answer;
} nt_send_reply_t;

static inline size_t
nt_send_on_header (char *data, size_t size, size_t count, void *arg)
{
    nt_send_reply_t *reply = arg;
    size_t length = size * count;
    if (length > 12 && strncasecmp (data, "Retry-After:", 12) == 0) {
        const char *value = data + 12;
        while (*value == ' ' && value < data + length)
            value++;
        int value_length = (int)strcspn (value, "\r\n");
        if (value + value_length > data + length)
            value_length = (int)(data + length - value);
        snprintf (reply->retry_after, sizeof reply->retry_after, "%.*s", value_length, value);
    }
    return length;
}

static inline size_t
nt_send_on_body (char *data, size_t size, size_t count, void *arg)
{
    nt_send_reply_t *reply = arg;
    size_t length = size * count;
    if (reply->answer && reply->answer->size + length <= 4 << 20)
        nt_send_put (reply->answer, data, length);
    for (size_t index = 0; index < length && reply->body_used + 1 < sizeof reply->body; index++) {
        unsigned char byte = (unsigned char)data[index];
        reply->body[reply->body_used++] = byte < 0x20 || byte == 0x7f ? ' ' : (char)byte;
    }
    reply->body[reply->body_used] = 0;
    return length;
}

//  What a failed transfer (no HTTP status) means: JOBD_ETIMEOUT for a timeout, -EAGAIN for
//  anything else (no connection, a reset, TLS): the receiver may take the note later.
static inline int
nt_send_curl_code (CURLcode code)
{
    return code == CURLE_OPERATION_TIMEDOUT ? JOBD_ETIMEOUT : -EAGAIN;
}

//  Sends body (JSON) with POST to url, or GETs url when body is NULL, with curl (reset first:
//  one handle per channel keeps its connection alive), headers (may be NULL) and Content-Type:
//  application/json, basic auth when user is set, within timeout_ms; the answer's body into
//  answer when not NULL. Returns 0 for 2xx; JOBD_EINVAL for a refusal of this body (400, 413,
//  422); JOBD_ETIMEOUT for a timeout; -EAGAIN for anything else (5xx, 408, 429, a refusal of
//  the channel: 401, 403, 404, ...; no answer): nt_channel.h. error gets one line naming
//  the target as shown (never the URL when it is a secret; never a password), the status, a
//  Retry-After, and the start of the answer's body.
static inline int
nt_send_http (CURL *curl, const char *url, const char *shown, struct curl_slist *headers,
              const char *body, const char *user, const char *password, long timeout_ms,
              nt_send_text_t *answer, char *error, size_t error_size)
{
    nt_send_reply_t reply = {{0}, {0}, 0, answer};
    struct curl_slist *all = curl_slist_append (NULL, "Content-Type: application/json");
    for (struct curl_slist *header = headers; all && header; header = header->next)
        all = curl_slist_append (all, header->data);
    if (!all) {
        snprintf (error, error_size, "%s: out of memory", shown);
        return -ENOMEM;
    }
    curl_easy_reset (curl);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, NT_USER_AGENT);
    if (body) {
        curl_easy_setopt (curl, CURLOPT_POST, 1L);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)strlen (body));
    }
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, all);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, nt_send_on_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, &reply);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, nt_send_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &reply);
    if (user) {
        curl_easy_setopt (curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt (curl, CURLOPT_USERNAME, user);
        curl_easy_setopt (curl, CURLOPT_PASSWORD, password ? password : "");
    }
    CURLcode code = curl_easy_perform (curl);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    //  The handle keeps pointers to these until the next reset: drop them now.
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all (all);
    if (code != CURLE_OK) {
        //  curl's generic text, not its error buffer: that may quote the URL.
        snprintf (error, error_size, "%s: %s", shown, curl_easy_strerror (code));
        return nt_send_curl_code (code);
    }
    if (status >= 200 && status < 300)
        return 0;
    snprintf (error, error_size, "HTTP %ld from %s%s%s%s%s", status, shown,
              reply.retry_after[0] ? " (Retry-After: " : "", reply.retry_after,
              reply.retry_after[0] ? ")" : "", reply.body_used ? ": " : "");
    size_t used = strlen (error);
    if (reply.body_used && used + 1 < error_size)
        snprintf (error + used, error_size - used, "%s", reply.body);
    return status == 400 || status == 413 || status == 422 ? JOBD_EINVAL : -EAGAIN;
}

#endif
