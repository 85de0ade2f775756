//  notifier: the alertmanager channel. Prometheus Alertmanager's POST /api/v2/alerts: a job's
//  failure or silence fires an alert, its recovery resolves it; Alertmanager groups, routes,
//  silences and repeats them itself, so this channel gets no digests (nt_channel.h).
//
//  One alert per job and kind of trouble: alertname JobdJobFailed (FAILED, LOST: a failure,
//  final or not; a later failed attempt updates the same alert) or JobdJobStale (a silent
//  job), then job, name, kind, backend, state and the configured `labels`. Alertmanager tells
//  alerts apart by their labels and resolves one only on the same labels, which the channel
//  does not keep (it keeps no state that matters): a resolving note (recovered, succeeded on a
//  retry, cancelled) asks Alertmanager for the job's active alerts (GET /api/v2/alerts with
//  matchers on alertname, job and the configured labels) and sends each back with endsAt =
//  now. A firing alert ends at now + alert_ttl unless sent again, so an alert whose resolution
//  never came does not fire forever.
#include "nt_send.h"

#define S_LABELS_MAX 16

typedef struct {
    char *endpoint; //  {url}/api/v2/alerts
    char *shown;    //  the endpoint without user info or query, for errors
    char *user;     //  basic auth, or NULL
    char *password; //  basic auth (a secret), or NULL
    int64_t ttl;    //  ms: a firing alert's endsAt is now + ttl
    long timeout;   //  ms
    json_t *labels; //  the configured extra labels: an object
    CURL *curl;     //  one handle: its connection stays open between notes
} s_state_t;

static void s_close (void **state_p);

//  Is name a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)?
static bool
s_label_name (const char *name)
{
    if (!*name || isdigit ((unsigned char)*name))
        return false;
    for (const char *cursor = name; *cursor; cursor++)
        if (!isalnum ((unsigned char)*cursor) && *cursor != '_')
            return false;
    return true;
}

//  The labels every alert carries whatever the config says.
static bool
s_label_reserved (const char *name)
{
    static const char *const names[] = {"alertname", "job", "name", "kind", "backend", "state"};
    for (size_t index = 0; index < sizeof names / sizeof names[0]; index++)
        if (strcmp (name, names[index]) == 0)
            return true;
    return false;
}

//  Copies text without its leading and trailing blanks into a fresh string.
static char *
s_trim (const char *text, size_t length)
{
    while (length && isspace ((unsigned char)*text))
        text++, length--;
    while (length && isspace ((unsigned char)text[length - 1]))
        length--;
    return strndup (text, length);
}

//  Parses `labels` ("team=data, env=prod") into an object. Returns 0 or JOBD_ECONFIG.
static int
s_labels_parse (const char *channel, const char *text, json_t *labels, char *reason,
                size_t reason_size)
{
    while (text && *text) {
        size_t length = strcspn (text, ",");
        char *entry = s_trim (text, length);
        char *equals = entry ? strchr (entry, '=') : NULL;
        char *name = equals ? s_trim (entry, (size_t)(equals - entry)) : NULL;
        char *value = equals ? s_trim (equals + 1, strlen (equals + 1)) : NULL;
        const char *why = NULL;
        if (!entry)
            why = "out of memory";
        else if (!*entry)
            ; //  an empty entry ("a=b,", ""): nothing
        else if (!name || !value)
            why = "not NAME=VALUE";
        else if (!s_label_name (name))
            why = "a label name is letters, digits and _, not starting with a digit";
        else if (s_label_reserved (name))
            why = "the channel sets that label itself";
        else if (!*value)
            why = "empty value (Alertmanager drops empty labels)";
        else if (json_object_size (labels) >= S_LABELS_MAX)
            why = "more than 16 labels";
        else
            json_object_set_new (labels, name, nt_send_json_string (value));
        if (why)
            snprintf (reason, reason_size, "channels/%s/labels: '%.64s': %s", channel,
                      entry ? entry : "", why);
        free (entry);
        free (name);
        free (value);
        if (why)
            return JOBD_ECONFIG;
        text += length + (text[length] ? 1 : 0);
    }
    return 0;
}

static int
s_open (const nt_config_t *config, void **state_p, char *reason, size_t reason_size)
{
    *state_p = NULL;
    const char *url = nt_config_str (config, "url");
    if (!url || (strncmp (url, "http://", 7) && strncmp (url, "https://", 8)) ||
        strpbrk (url, "?#")) {
        snprintf (reason, reason_size,
                  "channels/%s/url: Alertmanager's base URL is required (http:// or https://, "
                  "no query)",
                  config->name);
        return JOBD_ECONFIG;
    }
    s_state_t *self = calloc (1, sizeof *self);
    if (!self)
        return -ENOMEM;
    size_t length = strlen (url);
    while (length && url[length - 1] == '/')
        length--;
    if (asprintf (&self->endpoint, "%.*s/api/v2/alerts", (int)length, url) < 0)
        self->endpoint = NULL;
    char shown[512];
    self->shown =
        self->endpoint ? strdup (nt_send_shown_url (self->endpoint, shown, sizeof shown)) : NULL;
    self->labels = json_object ();
    void *state = self;
    int rc = self->shown && self->labels ? 0 : -ENOMEM;
    if (rc == 0)
        rc = s_labels_parse (config->name, nt_config_str (config, "labels"), self->labels, reason,
                             reason_size);
    if (rc == 0)
        rc = nt_config_secret (config, "password", &self->password, reason, reason_size);
    const char *user = nt_config_str (config, "username");
    if (rc == 0 && user && *user)
        self->user = strdup (user);
    if (rc == 0 && (self->user != NULL) != (self->password != NULL)) {
        snprintf (reason, reason_size,
                  "channels/%s/%s: basic auth needs both username and password", config->name,
                  self->user ? "password" : "username");
        rc = JOBD_ECONFIG;
    }
    self->ttl = nt_config_int (config, "alert_ttl", 24 * 3600 * 1000LL);
    if (rc == 0 && self->ttl <= 0) {
        snprintf (reason, reason_size, "channels/%s/alert_ttl: must be more than 0", config->name);
        rc = JOBD_ECONFIG;
    }
    if (rc == 0)
        rc = nt_send_timeout (config, &self->timeout, reason, reason_size);
    if (rc == 0)
        rc = nt_send_curl_new (&self->curl);
    if (rc) {
        s_close (&state);
        return rc;
    }
    *state_p = self;
    return 0;
}

//  The annotations of note's alerts: summary (its subject), description (its text), key.
static json_t *
s_annotations (const nt_note_t *note)
{
    json_t *annotations = json_object ();
    if (note->subject)
        json_object_set_new (annotations, "summary", nt_send_json_string (note->subject));
    if (note->text)
        json_object_set_new (annotations, "description", nt_send_json_string (note->text));
    json_object_set_new (annotations, "key", nt_send_json_string (note->key));
    return annotations;
}

//  One alert of the job's note: labels (alertname, state, the job's, the configured ones),
//  annotations, startsAt, endsAt.
static json_t *
s_alert (s_state_t *self, const nt_note_t *note, const char *alertname, const char *state,
         int64_t starts, int64_t ends)
{
    json_t *labels = json_deep_copy (self->labels);
    json_object_set_new (labels, "alertname", json_string (alertname));
    const char *const pairs[][2] = {{"job", note->job},
                                    {"name", note->name},
                                    {"kind", note->kind},
                                    {"backend", note->backend},
                                    {"state", state}};
    for (size_t index = 0; index < sizeof pairs / sizeof pairs[0]; index++)
        if (pairs[index][1] && *pairs[index][1])
            json_object_set_new (labels, pairs[index][0], nt_send_json_string (pairs[index][1]));
    json_t *annotations = s_annotations (note);
    char starts_at[32], ends_at[32];
    json_t *alert = json_pack ("{s:o, s:o, s:s, s:s}", "labels", labels, "annotations", annotations,
                               "startsAt", nt_send_iso8601 (starts, starts_at, sizeof starts_at),
                               "endsAt", nt_send_iso8601 (ends, ends_at, sizeof ends_at));
    return alert;
}

static bool
s_first_link (const char *label, const char *url, void *arg)
{
    *(const char **)arg = url;
    return false;
}

//  The alert a failure or a silence fires (an array of one), or an empty array when the note
//  is neither (a rule sent it another event).
static json_t *
s_firing (s_state_t *self, const nt_note_t *note)
{
    json_t *alerts = json_array ();
    int64_t now = nt_send_now ();
    int64_t starts = note->ts > 0 && note->ts < now ? note->ts : now;
    const char *state = note->state ? note->state : "";
    const char *alertname = NULL;
    if (note->event == NT_EVENT_STALE)
        alertname = "JobdJobStale";
    else if (note->event == NT_EVENT_FAILED || note->event == NT_EVENT_FINAL ||
             (note->event == NT_EVENT_STATE &&
              (strcmp (state, "FAILED") == 0 || strcmp (state, "LOST") == 0)))
        alertname = "JobdJobFailed";
    if (!alertname || !alerts)
        return alerts;
    json_t *alert = s_alert (self, note, alertname, state, starts, now + self->ttl);
    const char *link = NULL;
    nt_send_links (note, s_first_link, &link);
    if (link)
        json_object_set_new (alert, "generatorURL", nt_send_json_string (link));
    json_array_append_new (alerts, alert);
    return alerts;
}

//  Puts "&filter=" and the matcher name="value" (or =~ when regex), URL-encoded, on url.
static void
s_put_matcher (s_state_t *self, nt_send_text_t *url, const char *name, const char *value,
               bool regex)
{
    nt_send_text_t matcher = {NULL, 0, 0, false};
    nt_send_puts (&matcher, name);
    nt_send_puts (&matcher, regex ? "=~\"" : "=\"");
    for (const char *cursor = value; *cursor; cursor++) {
        if (*cursor == '"' || *cursor == '\\')
            nt_send_put (&matcher, "\\", 1);
        nt_send_put (&matcher, cursor, 1);
    }
    nt_send_puts (&matcher, "\"");
    char *escaped = matcher.failed ? NULL : curl_easy_escape (self->curl, matcher.data, 0);
    nt_send_puts (url, url->size && !strchr (url->data, '?') ? "?filter=" : "&filter=");
    if (escaped)
        nt_send_puts (url, escaped);
    else
        url->failed = true;
    curl_free (escaped);
    free (matcher.data);
}

//  The resolutions of the job's alerts active now: each with the labels it fired with and
//  endsAt = now (an array, empty when none is active). Returns 0 with *alerts_p (fresh), or
//  deliver's code with the error when Alertmanager cannot be asked.
static int
s_resolving (s_state_t *self, const nt_note_t *note, json_t **alerts_p, char *error,
             size_t error_size)
{
    *alerts_p = NULL;
    nt_send_text_t url = {NULL, 0, 0, false};
    nt_send_puts (&url, self->endpoint);
    s_put_matcher (self, &url, "alertname", "JobdJob.*", true);
    s_put_matcher (self, &url, "job", note->job, false);
    const char *name;
    json_t *value;
    json_object_foreach (self->labels, name, value)
        s_put_matcher (self, &url, name, json_string_value (value), false);
    nt_send_text_t answer = {NULL, 0, 0, false};
    int rc = url.failed ? -ENOMEM
                        : nt_send_http (self->curl, url.data, self->shown, NULL, NULL, self->user,
                                        self->password, self->timeout, &answer, error, error_size);
    json_t *active =
        rc == 0 && !answer.failed && answer.data ? json_loads (answer.data, 0, NULL) : NULL;
    free (url.data);
    free (answer.data);
    if (rc)
        return rc;
    if (!json_is_array (active)) {
        json_decref (active);
        snprintf (error, error_size, "alertmanager: %s: its alerts are not a JSON array",
                  self->shown);
        return -EAGAIN;
    }
    json_t *alerts = json_array ();
    char now[32];
    nt_send_iso8601 (nt_send_now (), now, sizeof now);
    size_t index;
    json_t *alert;
    json_array_foreach (active, index, alert)
    {
        json_t *labels = json_object_get (alert, "labels");
        const char *starts = json_string_value (json_object_get (alert, "startsAt"));
        if (!json_is_object (labels) || !starts)
            continue;
        json_t *annotations = s_annotations (note);
        json_array_append_new (alerts,
                               json_pack ("{s:O, s:o, s:s, s:s}", "labels", labels, "annotations",
                                          annotations, "startsAt", starts, "endsAt", now));
    }
    json_decref (active);
    *alerts_p = alerts;
    return 0;
}

static int
s_deliver (void *state, const nt_note_t *note, char *error, size_t error_size)
{
    s_state_t *self = state;
    if (note->event == NT_EVENT_DIGEST || !note->job || !*note->job) {
        snprintf (error, error_size, "alertmanager: a note with no job (a digest) is not an alert");
        return JOBD_EINVAL;
    }
    json_t *alerts = NULL;
    if (note->resolves) {
        int rc = s_resolving (self, note, &alerts, error, error_size);
        if (rc)
            return rc;
    } else
        alerts = s_firing (self, note);
    if (!alerts) {
        snprintf (error, error_size, "alertmanager: out of memory");
        return -ENOMEM;
    }
    if (json_array_size (alerts) == 0) {
        //  Not a failure nor a silence (a rule sent it another event), or a resolution of a
        //  job with no active alert: nothing for Alertmanager, and nothing to retry.
        json_decref (alerts);
        return 0;
    }
    char *body = json_dumps (alerts, JSON_COMPACT);
    json_decref (alerts);
    if (!body) {
        snprintf (error, error_size, "alertmanager: out of memory");
        return -ENOMEM;
    }
    int rc = nt_send_http (self->curl, self->endpoint, self->shown, NULL, body, self->user,
                           self->password, self->timeout, NULL, error, error_size);
    free (body);
    return rc;
}

static void
s_close (void **state_p)
{
    s_state_t *self = *state_p;
    if (!self)
        return;
    nt_send_curl_destroy (&self->curl);
    free (self->endpoint);
    free (self->shown);
    free (self->user);
    nt_send_forget (&self->password);
    json_decref (self->labels);
    free (self);
    *state_p = NULL;
}

const nt_channel_type_t nt_alertmanager_type = {
    .type = "alertmanager",
    .digests = false,
    .open = s_open,
    .deliver = s_deliver,
    .close = s_close,
};
