//  The http plugin's parsers of outside input: routes, query parameters, cursors, JSON bodies.
#include "ht_parse.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_API "/api/v1"

static const struct {
    const char *path;
    ht_route_t route;
} s_routes[] = {{S_API "/jobs", HT_ROUTE_JOBS},
                {S_API "/stats", HT_ROUTE_STATS},
                {S_API "/plugins", HT_ROUTE_PLUGINS},
                {S_API "/events", HT_ROUTE_EVENTS},
                {S_API "/openapi.json", HT_ROUTE_OPENAPI},
                {"/metrics", HT_ROUTE_METRICS},
                {"/healthz", HT_ROUTE_HEALTHZ},
                {"/readyz", HT_ROUTE_READYZ}};

//  A job id as a path segment: what jobd would store, and nothing a path trick needs.
static bool
s_id_ok (const char *id, size_t len)
{
    if (len == 0 || len > JOBD_ID_MAX)
        return false;
    if ((len == 1 && id[0] == '.') || (len == 2 && id[0] == '.' && id[1] == '.'))
        return false;
    for (size_t index = 0; index < len; index++) {
        unsigned char c = (unsigned char)id[index];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return false;
    }
    return true;
}

//  The name of one of the dashboard's files: lower-case letters, digits, '.' and '-', not
//  starting with '.' (no path trick can be spelled with these).
static bool
s_asset_ok (const char *name)
{
    size_t len = strlen (name);
    return len > 0 && len <= 64 && name[0] != '.' &&
           strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789.-") == len;
}

ht_route_t
ht_route (const char *path, char *id, size_t id_size)
{
    if (id_size)
        id[0] = 0;
    const char *asset = strcmp (path, "/") == 0                  ? "index.html"
                        : strncmp (path, "/dashboard/", 11) == 0 ? path + 11
                                                                 : NULL;
    if (asset) {
        if (!s_asset_ok (asset) || strlen (asset) >= id_size)
            return HT_ROUTE_NONE;
        strcpy (id, asset);
        return HT_ROUTE_DASHBOARD;
    }
    for (size_t index = 0; index < sizeof s_routes / sizeof s_routes[0]; index++)
        if (strcmp (path, s_routes[index].path) == 0)
            return s_routes[index].route;
    const char *prefix = S_API "/jobs/";
    size_t prefix_len = strlen (prefix);
    if (strncmp (path, prefix, prefix_len) != 0)
        return HT_ROUTE_NONE;
    const char *start = path + prefix_len;
    const char *slash = strchr (start, '/');
    size_t len = slash ? (size_t)(slash - start) : strlen (start);
    ht_route_t route = HT_ROUTE_JOB;
    if (slash) {
        if (strcmp (slash, "/cancel") == 0)
            route = HT_ROUTE_CANCEL;
        else if (strcmp (slash, "/retry") == 0)
            route = HT_ROUTE_RETRY;
        else
            return HT_ROUTE_NONE;
    }
    if (!s_id_ok (start, len) || len >= id_size)
        return HT_ROUTE_NONE;
    memcpy (id, start, len);
    id[len] = 0;
    return route;
}

const char *
ht_route_allow (ht_route_t route)
{
    switch (route) {
        case HT_ROUTE_JOBS:
            return "GET, HEAD, POST";
        case HT_ROUTE_CANCEL:
        case HT_ROUTE_RETRY:
            return "POST";
        default:
            return "GET, HEAD";
    }
}

bool
ht_route_takes (ht_route_t route, const char *method)
{
    bool post = strcmp (method, "POST") == 0;
    bool get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
    switch (route) {
        case HT_ROUTE_NONE:
            return false;
        case HT_ROUTE_JOBS:
            return get || post;
        case HT_ROUTE_CANCEL:
        case HT_ROUTE_RETRY:
            return post;
        default:
            return get;
    }
}

void
ht_params_init (ht_params_t *self)
{
    memset (self, 0, sizeof *self);
    self->sort = HT_SORT_UPDATED;
    self->descending = true;
    self->limit = HT_LIMIT_DEFAULT;
}

//  Reads a decimal integer that fills all of text (an optional '-' for signed ones).
static bool
s_integer (const char *text, bool sign, int64_t *value_p)
{
    const char *digits = sign && text[0] == '-' ? text + 1 : text;
    if (!*digits || strlen (digits) > 18)
        return false;
    for (const char *c = digits; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    int64_t value = strtoll (digits, NULL, 10);
    *value_p = digits != text ? -value : value;
    return true;
}

static bool
s_copy (char *buffer, size_t size, const char *value)
{
    size_t len = strlen (value);
    if (len == 0 || len >= size)
        return false;
    memcpy (buffer, value, len + 1);
    return true;
}

static const char *const s_sorts[] = {"updated", "created", "name", "state",
                                      "kind",    "backend", "id"};

static int
s_states (ht_params_t *self, const char *value)
{
    const char *item = value;
    while (true) {
        const char *comma = strchr (item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen (item);
        jobd_state_t state;
        if (len == 0 || jobd_state_parse (item, len, &state) != 0)
            return -EINVAL;
        self->state_mask |= 1u << state;
        if (!comma)
            return 0;
        item = comma + 1;
    }
}

//  One parameter: 0, or -EINVAL (the caller writes the reason).
static int
s_param (ht_params_t *self, int which, const char *value, char *reason, size_t reason_size)
{
    int64_t number = 0;
    switch (which) {
        case 0:
            return s_states (self, value);
        case 1:
            return s_copy (self->kind, sizeof self->kind, value) ? 0 : -EINVAL;
        case 2:
            return s_copy (self->backend, sizeof self->backend, value) ? 0 : -EINVAL;
        case 3:
            return s_copy (self->name, sizeof self->name, value) ? 0 : -EINVAL;
        case 4:
            self->has_since = s_integer (value, true, &self->since);
            return self->has_since ? 0 : -EINVAL;
        case 5:
            self->has_until = s_integer (value, true, &self->until);
            return self->has_until ? 0 : -EINVAL;
        case 6:
            if (strcmp (value, "updated") != 0 && strcmp (value, "created") != 0)
                return -EINVAL;
            self->time_updated = strcmp (value, "updated") == 0;
            return 0;
        case 7:
            if (strcmp (value, "true") != 0 && strcmp (value, "false") != 0)
                return -EINVAL;
            self->stale = strcmp (value, "true") == 0;
            return 0;
        case 8: {
            bool descending = value[0] == '-';
            const char *field = descending ? value + 1 : value;
            for (size_t index = 0; index < sizeof s_sorts / sizeof s_sorts[0]; index++)
                if (strcmp (field, s_sorts[index]) == 0) {
                    self->sort = (ht_sort_t)index;
                    self->descending = descending;
                    self->has_sort = true;
                    return 0;
                }
            return -EINVAL;
        }
        case 9:
            if (!s_integer (value, false, &number) || number < 1 || number > HT_LIMIT_MAX)
                return -EINVAL;
            self->limit = (uint32_t)number;
            return 0;
        case 10:
            return ht_cursor_decode (self, value, reason, reason_size);
        case 11:
            return s_copy (self->job, sizeof self->job, value) ? 0 : -EINVAL;
        case 12:
            if (!s_integer (value, false, &number))
                return -EINVAL;
            self->has_last_event_id = true;
            self->last_event_id = (uint64_t)number;
            return 0;
        case 13:
            return s_copy (self->token, sizeof self->token, value) ? 0 : -EINVAL;
    }
    return -EINVAL;
}

static const struct {
    const char *key;
    unsigned where; //  1: /jobs, 2: /events
    const char *wanted;
} s_params[] = {{"state", 3, "comma-separated state names"},
                {"kind", 3, "1 to 128 bytes"},
                {"backend", 3, "1 to 128 bytes"},
                {"name", 3, "1 to 256 bytes"},
                {"since", 1, "ms since the epoch"},
                {"until", 1, "ms since the epoch"},
                {"time", 1, "created or updated"},
                {"stale", 1, "true or false"},
                {"sort", 1,
                 "updated, created, name, state, kind, backend or id, '-' first to "
                 "descend"},
                {"limit", 1, "1 to 1000"},
                {"cursor", 1, "the 'next' of the previous page"},
                {"job", 2, "a job id"},
                {"last_event_id", 2, "a transition log position"},
                {"token", 2, "the bearer token"}};

int
ht_params_set (ht_params_t *self, const char *key, const char *value, bool events, char *reason,
               size_t reason_size)
{
    unsigned where = events ? 2 : 1;
    for (size_t index = 0; index < sizeof s_params / sizeof s_params[0]; index++) {
        if (strcmp (key, s_params[index].key) != 0 || !(s_params[index].where & where))
            continue;
        if (self->seen & (1u << index)) {
            snprintf (reason, reason_size, "parameter '%s' given twice", key);
            return -EINVAL;
        }
        self->seen |= 1u << index;
        char detail[200] = "";
        if (s_param (self, (int)index, value ? value : "", detail, sizeof detail) != 0) {
            snprintf (reason, reason_size, "parameter '%s': %s", key,
                      *detail ? detail : s_params[index].wanted);
            return -EINVAL;
        }
        return 0;
    }
    snprintf (reason, reason_size, "unknown parameter '%.64s'", key);
    return -EINVAL;
}

int
ht_params_finish (ht_params_t *self, char *reason, size_t reason_size)
{
    if (self->has_since && self->has_until && self->since > self->until) {
        snprintf (reason, reason_size, "parameter 'since' is past 'until'");
        return -EINVAL;
    }
    if (!self->has_cursor)
        return 0;
    if (!self->has_sort) {
        self->sort = self->cursor_sort;
        self->descending = self->cursor_descending;
    } else if (self->sort != self->cursor_sort || self->descending != self->cursor_descending) {
        snprintf (reason, reason_size, "parameter 'cursor': made for another sort order");
        return -EINVAL;
    }
    return 0;
}

int64_t
ht_job_created (const jobd_job_t *job)
{
    if (job->queued_at)
        return job->queued_at;
    if (job->submitted_at)
        return job->submitted_at;
    if (job->started_at)
        return job->started_at;
    return job->updated_at;
}

static bool
s_text_match (const char *want, const char *have)
{
    return !*want || (have && strcmp (want, have) == 0);
}

bool
ht_params_match_job (const ht_params_t *self, const jobd_job_t *job)
{
    if (self->state_mask && !(self->state_mask & (1u << job->state)))
        return false;
    if (!s_text_match (self->kind, job->kind) || !s_text_match (self->backend, job->backend))
        return false;
    if (*self->name && !(job->name && strstr (job->name, self->name)))
        return false;
    if (self->stale && !job->stale)
        return false;
    int64_t time = self->time_updated ? job->updated_at : ht_job_created (job);
    if (self->has_since && time < self->since)
        return false;
    if (self->has_until && time >= self->until)
        return false;
    return true;
}

bool
ht_params_match_event (const ht_params_t *self, const jobd_event_t *event)
{
    if (self->state_mask && !(self->state_mask & (1u << event->state)))
        return false;
    if (!s_text_match (self->kind, event->kind) || !s_text_match (self->backend, event->backend))
        return false;
    if (!s_text_match (self->job, event->job))
        return false;
    return !*self->name || (event->name && strstr (event->name, self->name));
}

static bool
s_numeric (ht_sort_t sort)
{
    return sort == HT_SORT_UPDATED || sort == HT_SORT_CREATED;
}

ht_key_t
ht_key_of (const ht_params_t *self, const jobd_job_t *job)
{
    ht_key_t key = {0, "", job->id ? job->id : ""};
    switch (self->sort) {
        case HT_SORT_UPDATED:
            key.number = job->updated_at;
            break;
        case HT_SORT_CREATED:
            key.number = ht_job_created (job);
            break;
        case HT_SORT_NAME:
            key.text = job->name ? job->name : "";
            break;
        case HT_SORT_STATE:
            key.text = jobd_state_name (job->state);
            break;
        case HT_SORT_KIND:
            key.text = job->kind ? job->kind : "";
            break;
        case HT_SORT_BACKEND:
            key.text = job->backend ? job->backend : "";
            break;
        case HT_SORT_ID:
            break;
    }
    return key;
}

int
ht_key_compare (const ht_params_t *self, const ht_key_t *a, const ht_key_t *b)
{
    int order = 0;
    if (s_numeric (self->sort))
        order = a->number < b->number ? -1 : a->number > b->number ? 1 : 0;
    else
        order = strcmp (a->text, b->text);
    if (order == 0)
        order = strcmp (a->id, b->id);
    return self->descending ? -order : order;
}

bool
ht_params_after_cursor (const ht_params_t *self, const ht_key_t *key)
{
    if (!self->has_cursor)
        return true;
    ht_key_t after = {self->after_number, self->after_text, self->after_id};
    return ht_key_compare (self, &after, key) < 0;
}

//  base64url without padding (RFC 4648, section 5).
static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *
s_b64_encode (const uint8_t *data, size_t size)
{
    char *text = (char *)malloc (size / 3 * 4 + 5);
    if (!text)
        return NULL;
    size_t out = 0;
    for (size_t index = 0; index < size; index += 3) {
        uint32_t bits = (uint32_t)data[index] << 16;
        if (index + 1 < size)
            bits |= (uint32_t)data[index + 1] << 8;
        if (index + 2 < size)
            bits |= data[index + 2];
        text[out++] = s_b64[(bits >> 18) & 63];
        text[out++] = s_b64[(bits >> 12) & 63];
        if (index + 1 < size)
            text[out++] = s_b64[(bits >> 6) & 63];
        if (index + 2 < size)
            text[out++] = s_b64[bits & 63];
    }
    text[out] = 0;
    return text;
}

//  Decodes into data (size bytes at most). Returns the bytes written, or -1.
static long
s_b64_decode (const char *text, uint8_t *data, size_t size)
{
    size_t len = strlen (text), out = 0;
    if (len % 4 == 1)
        return -1;
    uint32_t bits = 0;
    int have = 0;
    for (size_t index = 0; index < len; index++) {
        const char *at = strchr (s_b64, text[index]);
        if (!at || !text[index])
            return -1;
        bits = (bits << 6) | (uint32_t)(at - s_b64);
        have += 6;
        if (have >= 8) {
            have -= 8;
            if (out >= size)
                return -1;
            data[out++] = (uint8_t)(bits >> have);
        }
    }
    return (long)out;
}

//  The text inside the base64: "1|<sort index>|<a or d>|<number>|<text length>|<text><id>".
char *
ht_cursor_encode (const ht_params_t *self, const ht_key_t *key)
{
    size_t text_len = strlen (key->text), id_len = strlen (key->id);
    size_t size = 64 + text_len + id_len;
    char *plain = (char *)malloc (size);
    if (!plain)
        return NULL;
    int len = snprintf (plain, size, "1|%d|%c|%lld|%zu|%s%s", (int)self->sort,
                        self->descending ? 'd' : 'a', (long long)key->number, text_len, key->text,
                        key->id);
    char *text = len > 0 ? s_b64_encode ((const uint8_t *)plain, (size_t)len) : NULL;
    free (plain);
    return text;
}

int
ht_cursor_decode (ht_params_t *self, const char *text, char *reason, size_t reason_size)
{
    uint8_t plain[1024];
    long len = strlen (text) < 1300 ? s_b64_decode (text, plain, sizeof plain - 1) : -1;
    int sort = 0, used = 0;
    char order = 0;
    long long number = 0;
    size_t text_len = 0;
    if (len > 0) {
        plain[len] = 0;
        if (memchr (plain, 0, (size_t)len) ||
            sscanf ((const char *)plain, "1|%d|%c|%lld|%zu|%n", &sort, &order, &number, &text_len,
                    &used) != 4 ||
            used == 0)
            len = -1;
    }
    size_t rest = len > 0 ? (size_t)len - (size_t)used : 0;
    const char *tail = (const char *)plain + used;
    if (len <= 0 || sort < 0 || sort > HT_SORT_ID || (order != 'a' && order != 'd') ||
        text_len > JOBD_NAME_MAX || rest <= text_len || rest - text_len > JOBD_ID_MAX) {
        snprintf (reason, reason_size, "not a cursor of this server");
        return -EINVAL;
    }
    self->cursor_sort = (ht_sort_t)sort;
    self->cursor_descending = order == 'd';
    self->has_cursor = true;
    self->after_number = number;
    memcpy (self->after_text, tail, text_len);
    self->after_text[text_len] = 0;
    memcpy (self->after_id, tail + text_len, rest - text_len);
    self->after_id[rest - text_len] = 0;
    return 0;
}

//  Loads one JSON object from a body, refusing what jansson refuses (and NUL bytes).
static json_t *
s_object (const char *data, size_t size, char *reason, size_t reason_size)
{
    json_error_t error;
    json_t *value = json_loadb (data, size, JSON_REJECT_DUPLICATES, &error);
    if (!value) {
        snprintf (reason, reason_size, "not JSON: %s (at byte %d)", error.text, error.position);
        return NULL;
    }
    if (!json_is_object (value)) {
        snprintf (reason, reason_size, "expected a JSON object");
        json_decref (value);
        return NULL;
    }
    return value;
}

//  A string key of object: 0 (absent: *value_p NULL), or -EINVAL with a reason.
static int
s_string_key (json_t *object, const char *key, size_t max, const char **value_p, char *reason,
              size_t reason_size)
{
    json_t *value = json_object_get (object, key);
    *value_p = NULL;
    if (!value)
        return 0;
    if (!json_is_string (value) || json_string_length (value) == 0 ||
        json_string_length (value) > max ||
        strlen (json_string_value (value)) != json_string_length (value)) {
        snprintf (reason, reason_size, "key '%s': expected a string of 1 to %zu bytes", key, max);
        return -EINVAL;
    }
    *value_p = json_string_value (value);
    return 0;
}

int
ht_submit_read (const char *data, size_t size, ht_submit_t *submit, char *reason,
                size_t reason_size)
{
    memset (submit, 0, sizeof *submit);
    json_t *object = s_object (data, size, reason, reason_size);
    if (!object)
        return -EINVAL;
    const char *kind = NULL, *name = NULL, *backend = NULL;
    int rc = s_string_key (object, "kind", JOBD_ID_MAX, &kind, reason, reason_size);
    if (rc == 0)
        rc = s_string_key (object, "name", JOBD_NAME_MAX, &name, reason, reason_size);
    if (rc == 0)
        rc = s_string_key (object, "backend", JOBD_ID_MAX, &backend, reason, reason_size);
    if (rc == 0 && !kind) {
        snprintf (reason, reason_size, "key 'kind': missing (the job's kind: spark, kafka, ...)");
        rc = -EINVAL;
    }
    char *spec = rc == 0 ? json_dumps (object, JSON_COMPACT) : NULL;
    if (rc == 0 && spec && strlen (spec) >= JOBD_SPEC_MAX) {
        snprintf (reason, reason_size, "spec of %zu bytes, over the %d byte limit", strlen (spec),
                  JOBD_SPEC_MAX - 1);
        rc = -EINVAL;
    }
    if (rc == 0) {
        submit->kind = strdup (kind);
        submit->name = name ? strdup (name) : NULL;
        submit->backend = backend ? strdup (backend) : NULL;
        submit->spec = spec;
        spec = NULL;
        if (!submit->kind || (name && !submit->name) || (backend && !submit->backend) ||
            !submit->spec)
            rc = -ENOMEM;
    } else if (rc == 0)
        rc = -ENOMEM;
    free (spec);
    json_decref (object);
    if (rc)
        ht_submit_clear (submit);
    return rc;
}

void
ht_submit_clear (ht_submit_t *submit)
{
    free (submit->kind);
    free (submit->name);
    free (submit->backend);
    free (submit->spec);
    memset (submit, 0, sizeof *submit);
}

//  True when the body is empty or only white space.
static bool
s_blank (const char *data, size_t size)
{
    for (size_t index = 0; index < size; index++)
        if (data[index] != ' ' && data[index] != '\t' && data[index] != '\r' && data[index] != '\n')
            return false;
    return true;
}

int
ht_retry_read (const char *data, size_t size, bool *now_p, bool *stop_p, char *reason,
               size_t reason_size)
{
    *now_p = *stop_p = false;
    if (s_blank (data, size))
        return 0;
    json_t *object = s_object (data, size, reason, reason_size);
    if (!object)
        return -EINVAL;
    int rc = 0;
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value)
    {
        bool now = strcmp (key, "now") == 0, stop = strcmp (key, "stop") == 0;
        if ((!now && !stop) || !json_is_boolean (value)) {
            snprintf (reason, reason_size, "key '%.64s': %s", key,
                      now || stop ? "expected true or false" : "unknown (now or stop)");
            rc = -EINVAL;
            break;
        }
        *(now ? now_p : stop_p) = json_is_true (value);
    }
    if (rc == 0 && *now_p && *stop_p) {
        snprintf (reason, reason_size, "'now' and 'stop' together");
        rc = -EINVAL;
    }
    json_decref (object);
    return rc;
}

int
ht_cancel_read (const char *data, size_t size, char *reason, size_t reason_size)
{
    if (s_blank (data, size))
        return 0;
    json_t *object = s_object (data, size, reason, reason_size);
    if (!object)
        return -EINVAL;
    int rc = 0;
    if (json_object_size (object) != 0) {
        snprintf (reason, reason_size, "a cancel takes no keys");
        rc = -EINVAL;
    }
    json_decref (object);
    return rc;
}

bool
ht_token_equal (const char *given, const char *expected)
{
    size_t given_len = strlen (given), expected_len = strlen (expected);
    unsigned char diff = given_len != expected_len;
    for (size_t index = 0; index < expected_len; index++)
        diff |= (unsigned char)(expected[index] ^ (index < given_len ? given[index] : 0));
    return diff == 0 && expected_len > 0;
}

int
ht_bearer_read (const char *header, char *token, size_t token_size)
{
    if (!header || strncasecmp (header, "Bearer ", 7) != 0)
        return -EINVAL;
    const char *start = header + 7;
    while (*start == ' ')
        start++;
    size_t len = strlen (start);
    while (len && start[len - 1] == ' ')
        len--;
    if (len == 0 || len >= token_size)
        return -EINVAL;
    memcpy (token, start, len);
    token[len] = 0;
    return 0;
}
