//  notifier: the webhook channel. POSTs the note's JSON body to `url`, with the channel's
//  `headers`, `Idempotency-Key: <note key>`, `X-Jobd-Event: <event>` and, when a `secret` is
//  set, `X-Jobd-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`.
#include "nt_channel.h"
#include "nt_rules.h"
#include "nt_send.h"
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    CURL *curl;
    char *url;
    char *shown;  //  the url for errors: no user info, no query (either may hold a token)
    char *secret; //  NULL: no signature
    struct curl_slist *headers; //  the channel's own
    int64_t timeout;
} s_webhook_t;

static void s_close (void **state_p);

//  url without its user info and query, for error lines (fresh).
static char *
s_shown (const char *url)
{
    const char *host = strstr (url, "://");
    host = host ? host + 3 : url;
    const char *end = host + strcspn (host, "/?#");
    const char *at = memchr (host, '@', (size_t)(end - host));
    size_t path = strcspn (end, "?#");
    char *shown = NULL;
    if (asprintf (&shown, "%.*s%.*s%.*s", (int)(host - url), url, (int)(end - (at ? at + 1 : host)),
                  at ? at + 1 : host, (int)path, end) < 0)
        return NULL;
    return shown;
}

//  Parses "Name: value; Name2: value" into list. Returns 0, or -1 with a reason.
static int
s_headers (const char *text, struct curl_slist **list_p, char *reason, size_t reason_size)
{
    char *copy = strdup (text ? text : "");
    char *save = NULL;
    int rc = 0;
    for (char *item = strtok_r (copy, ";", &save); item && rc == 0;
         item = strtok_r (NULL, ";", &save)) {
        while (*item == ' ' || *item == '\t')
            item++;
        size_t length = strlen (item);
        while (length && (item[length - 1] == ' ' || item[length - 1] == '\t'))
            item[--length] = 0;
        if (!length)
            continue;
        char *colon = strchr (item, ':');
        if (!colon || colon == item || strpbrk (item, "\r\n")) {
            snprintf (reason, reason_size, "'%.64s' is not 'Name: value'", item);
            rc = -1;
        } else
            *list_p = curl_slist_append (*list_p, item);
    }
    free (copy);
    return rc;
}

static int
s_open (const nt_config_t *config, void **state_p, char *reason, size_t reason_size)
{
    s_webhook_t *self = (s_webhook_t *)calloc (1, sizeof (s_webhook_t));
    void *state = self;
    int rc = nt_config_secret (config, "url", &self->url, reason, reason_size);
    if (rc == 0 &&
        (!self->url || (strncmp (self->url, "http://", 7) && strncmp (self->url, "https://", 8)))) {
        snprintf (reason, reason_size, "channels/%s/url: %s", config->name,
                  self->url ? "not an http:// or https:// URL" : "required for a webhook");
        rc = JOBD_ECONFIG;
    }
    if (rc == 0 && !(self->shown = s_shown (self->url)))
        rc = JOBD_ECONFIG;
    if (rc == 0)
        rc = nt_config_secret (config, "secret", &self->secret, reason, reason_size);
    char why[200];
    if (rc == 0 && s_headers (nt_config_str (config, "headers"), &self->headers, why, sizeof why)) {
        snprintf (reason, reason_size, "channels/%s/headers: %s", config->name, why);
        rc = JOBD_ECONFIG;
    }
    self->timeout = nt_config_int (config, "timeout", 10000);
    if (rc == 0 && self->timeout <= 0) {
        snprintf (reason, reason_size, "channels/%s/timeout: must be more than 0", config->name);
        rc = JOBD_ECONFIG;
    }
    if (rc == 0 && !(self->curl = curl_easy_init ())) {
        snprintf (reason, reason_size, "channels/%s: cannot make a curl handle", config->name);
        rc = JOBD_ECONFIG;
    }
    if (rc) {
        s_close (&state);
        return rc;
    }
    *state_p = self;
    return 0;
}

static void
s_close (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_webhook_t *self = (s_webhook_t *)*state_p;
    if (self->curl)
        curl_easy_cleanup (self->curl);
    curl_slist_free_all (self->headers);
    free (self->url);
    free (self->shown);
    if (self->secret) {
        explicit_bzero (self->secret, strlen (self->secret));
        free (self->secret);
    }
    free (self);
    *state_p = NULL;
}

static size_t
s_discard (char *data, size_t size, size_t count, void *arg)
{
    (void)data, (void)arg;
    return size * count;
}

//  The hex HMAC-SHA256 of body with key, into hex (65 bytes).
static void
s_sign (const char *key, const char *body, size_t size, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC (EVP_sha256 (), key, (int)strlen (key), (const unsigned char *)body, size, digest,
          &length);
    for (unsigned int index = 0; index < length && index < 32; index++)
        snprintf (hex + 2 * index, 3, "%02x", digest[index]);
    hex[64] = 0;
}

static int
s_deliver (void *state, const nt_note_t *note, char *error, size_t error_size)
{
    s_webhook_t *self = (s_webhook_t *)state;
    char *body = json_dumps (note->body, JSON_COMPACT);
    if (!body) {
        snprintf (error, error_size, "cannot write the note's JSON");
        return JOBD_EINVAL;
    }
    struct curl_slist *headers = NULL;
    headers = curl_slist_append (headers, "Content-Type: application/json");
    for (struct curl_slist *item = self->headers; item; item = item->next)
        headers = curl_slist_append (headers, item->data);
    char line[700];
    snprintf (line, sizeof line, "Idempotency-Key: %s", note->key);
    headers = curl_slist_append (headers, line);
    snprintf (line, sizeof line, "X-Jobd-Event: %s", nt_event_name (note->event));
    headers = curl_slist_append (headers, line);
    if (self->secret) {
        char hex[65];
        s_sign (self->secret, body, strlen (body), hex);
        snprintf (line, sizeof line, "X-Jobd-Signature: sha256=%s", hex);
        headers = curl_slist_append (headers, line);
    }
    CURL *curl = self->curl;
    curl_easy_reset (curl);
    curl_easy_setopt (curl, CURLOPT_URL, self->url);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, NT_USER_AGENT);
    curl_easy_setopt (curl, CURLOPT_POST, 1L);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)strlen (body));
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long)self->timeout);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long)self->timeout);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode code = curl_easy_perform (curl);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all (headers);
    free (body);
    if (code != CURLE_OK) {
        snprintf (error, error_size, "%s: %s", self->shown, curl_easy_strerror (code));
        return code == CURLE_OPERATION_TIMEDOUT ? JOBD_ETIMEOUT : -EAGAIN;
    }
    if (status >= 200 && status < 300)
        return 0;
    snprintf (error, error_size, "HTTP %ld from %s", status, self->shown);
    //  Only a refusal of the note itself drops it; a refusal of the channel (401, 403, 404,
    //  407, 410: a wrong URL or credentials) holds the notes until someone fixes it.
    if (status == 400 || status == 413 || status == 422)
        return JOBD_EINVAL;
    return -EAGAIN;
}

const nt_channel_type_t nt_webhook_type = {
    .type = "webhook", .digests = true, .open = s_open, .deliver = s_deliver, .close = s_close};
