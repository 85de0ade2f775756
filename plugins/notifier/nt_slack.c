//  notifier: the slack channel. A Slack incoming webhook's payload: "text" (the note's subject:
//  the notification's fallback) and "blocks": a section in mrkdwn with short lines for a phone
//  (the job in bold, what happened, cause, attempt, the next retry or why none, kind and
//  backend, links), then a context with the note's key and time. The webhook URL is the
//  secret (anyone who has it can post to the channel): it comes from url, url_env or url_file
//  and errors say "slack webhook", never the URL.
#include "nt_send.h"

//  Slack's limit on a section's text is 3000 characters; text past this is cut.
#define S_SECTION_MAX 2900

typedef struct {
    char *url; //  the webhook (a secret)
    long timeout;
    CURL *curl;
} s_state_t;

static void s_close (void **state_p);

static int
s_open (const nt_config_t *config, void **state_p, char *reason, size_t reason_size)
{
    *state_p = NULL;
    char *url = NULL;
    int rc = nt_config_secret (config, "url", &url, reason, reason_size);
    if (rc)
        return rc;
    if (!url || (strncmp (url, "https://", 8) && strncmp (url, "http://", 7))) {
        //  Never the value: it may be the secret with a typo.
        snprintf (reason, reason_size,
                  "channels/%s/url: the Slack incoming-webhook URL (https://hooks.slack.com/...) "
                  "is required, from url, url_env or url_file",
                  config->name);
        free (url);
        return JOBD_ECONFIG;
    }
    s_state_t *self = calloc (1, sizeof *self);
    void *state = self;
    if (!self) {
        free (url);
        return -ENOMEM;
    }
    self->url = url;
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

//  ---------------------------------------------------------------------------------------------
//  The payload

//  text escaped as Slack wants (&, <, > as entities), control characters but newlines as
//  spaces (newline too when one_line).
static void
s_put_escaped (nt_send_text_t *text, const char *data, bool one_line)
{
    for (const char *cursor = data ? data : ""; *cursor; cursor++) {
        unsigned char byte = (unsigned char)*cursor;
        if (byte == '&')
            nt_send_put (text, "&amp;", 5);
        else if (byte == '<')
            nt_send_put (text, "&lt;", 4);
        else if (byte == '>')
            nt_send_put (text, "&gt;", 4);
        else if ((byte < 0x20 && (byte != '\n' || one_line)) || byte == 0x7f)
            nt_send_put (text, " ", 1);
        else
            nt_send_put (text, cursor, 1);
    }
}

//  Puts "label: value\n" with value escaped on one line, when value is set.
static void
s_put_line (nt_send_text_t *text, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    nt_send_put (text, label, strlen (label));
    nt_send_put (text, ": ", 2);
    s_put_escaped (text, value, true);
    nt_send_put (text, "\n", 1);
}

//  What happened, for the second line: an emoji a phone shows at a glance and the words.
static const char *
s_what (const nt_note_t *note)
{
    switch (note->event) {
        case NT_EVENT_FINAL:
            return ":x: *failed for good*";
        case NT_EVENT_FAILED:
            return ":warning: *failed*";
        case NT_EVENT_STALE:
            return ":hourglass: *stale*: silent past its deadline";
        case NT_EVENT_RECOVERED:
            return ":white_check_mark: *recovered*";
        case NT_EVENT_CANCELLED:
            return ":no_entry_sign: *cancelled*";
        case NT_EVENT_SUCCEEDED:
            return ":white_check_mark: *succeeded*";
        case NT_EVENT_DIGEST:
            return ":bell: *digest*";
        default:
            return ":information_source: *now*";
    }
}

typedef struct {
    nt_send_text_t *text;
    size_t count;
} s_links_t;

//  Puts one link as Slack's <URL|label>, after a separator from the one before.
static bool
s_put_link (const char *label, const char *url, void *arg)
{
    s_links_t *links = arg;
    nt_send_text_t *text = links->text;
    const char *before = links->count++ ? "  ·  <" : "<";
    nt_send_put (text, before, strlen (before));
    //  In a link, | and > end the URL and < starts one: percent-encoded; & as Slack's entity.
    for (const char *cursor = url; *cursor; cursor++) {
        char byte = *cursor;
        if (byte == '|' || byte == '<' || byte == '>' || (unsigned char)byte <= ' ') {
            char encoded[4];
            snprintf (encoded, sizeof encoded, "%%%02X", (unsigned char)byte);
            nt_send_put (text, encoded, 3);
        } else if (byte == '&')
            nt_send_put (text, "&amp;", 5);
        else
            nt_send_put (text, cursor, 1);
    }
    nt_send_put (text, "|", 1);
    char *shown = strdup (label);
    for (char *cursor = shown; cursor && *cursor; cursor++)
        if (*cursor == '|')
            *cursor = '/';
    s_put_escaped (text, shown ? shown : "link", true);
    free (shown);
    nt_send_put (text, ">", 1);
    return true;
}

//  The section's mrkdwn of a single event: short lines, no tables.
static void
s_put_event (nt_send_text_t *text, const nt_note_t *note)
{
    json_t *job = note->body ? json_object_get (note->body, "job") : NULL;
    nt_send_put (text, "*", 1);
    s_put_escaped (text, note->name && *note->name ? note->name : note->job, true);
    nt_send_put (text, "*", 1);
    if (note->name && *note->name && note->job) {
        nt_send_put (text, " (", 2);
        s_put_escaped (text, note->job, true);
        nt_send_put (text, ")", 1);
    }
    nt_send_put (text, "\n", 1);
    const char *what = s_what (note);
    nt_send_put (text, what, strlen (what));
    if (note->event == NT_EVENT_STATE || note->event == NT_EVENT_FAILED) {
        nt_send_put (text, ": ", 2);
        s_put_escaped (text, note->state, true);
    }
    nt_send_put (text, "\n", 1);
    const char *cause = json_string_value (json_object_get (job, "cause"));
    s_put_line (text, "cause", cause ? cause : json_string_value (json_object_get (job, "error")));
    json_t *attempt = json_object_get (job, "attempt");
    if (json_is_integer (attempt)) {
        char line[48];
        snprintf (line, sizeof line, "attempt: %lld\n", (long long)json_integer_value (attempt));
        nt_send_put (text, line, strlen (line));
    }
    json_t *retry_at = json_object_get (job, "retry_at");
    const char *retry_final = json_string_value (json_object_get (job, "retry_final"));
    char when[32];
    if (json_is_integer (retry_at) && json_integer_value (retry_at) > 0)
        s_put_line (text, "next retry",
                    nt_send_iso8601 (json_integer_value (retry_at), when, sizeof when));
    else if (retry_final && *retry_final)
        s_put_line (text, "no retry", retry_final);
    else if (note->event == NT_EVENT_FINAL)
        s_put_line (text, "no retry", "none left");
    if (note->kind || note->backend) {
        char line[256];
        snprintf (line, sizeof line, "%s%s%s", note->kind ? note->kind : "",
                  note->kind && note->backend ? " on " : "", note->backend ? note->backend : "");
        s_put_line (text, "kind", line);
    }
    s_links_t links = {text, 0};
    nt_send_links (note, s_put_link, &links);
    if (text->size && text->data[text->size - 1] == '\n')
        text->data[--text->size] = 0;
}

//  Cuts text at max bytes, at a UTF-8 character's start and not inside an entity or a link,
//  ending it with an ellipsis.
static void
s_cut (nt_send_text_t *text, size_t max)
{
    if (text->failed || text->size <= max)
        return;
    size_t end = max;
    while (end > 0 && ((unsigned char)text->data[end] & 0xC0) == 0x80)
        end--;
    char *open = memrchr (text->data, '<', end);
    char *amp = memrchr (text->data, '&', end);
    if (open && !memchr (open, '>', (size_t)(text->data + end - open)))
        end = (size_t)(open - text->data);
    if (amp && !memchr (amp, ';', (size_t)(text->data + end - amp)))
        end = (size_t)(amp - text->data);
    text->size = end;
    text->data[end] = 0;
    nt_send_put (text, "\n…", strlen ("\n…"));
}

//  The payload of note as JSON text (fresh), or NULL.
static char *
s_payload (const nt_note_t *note)
{
    nt_send_text_t section = {NULL, 0, 0, false};
    if (note->event == NT_EVENT_DIGEST || !note->job) {
        //  A digest: its subject in bold, then its text (counts, the first jobs) as lines.
        nt_send_put (&section, "*", 1);
        s_put_escaped (&section, note->subject, true);
        nt_send_put (&section, "*\n", 2);
        s_put_escaped (&section, note->text, false);
    } else
        s_put_event (&section, note);
    s_cut (&section, S_SECTION_MAX);
    nt_send_text_t fallback = {NULL, 0, 0, false};
    s_put_escaped (&fallback, note->subject, true);
    s_cut (&fallback, S_SECTION_MAX);
    nt_send_text_t context = {NULL, 0, 0, false};
    char when[32];
    nt_send_put (&context, "`", 1);
    s_put_escaped (&context, note->key, true);
    nt_send_put (&context, "`  ", 3);
    const char *time =
        nt_send_iso8601 (note->ts > 0 ? note->ts : nt_send_now (), when, sizeof when);
    nt_send_put (&context, time, strlen (time));
    //  An empty subject or text leaves a text unallocated: make each "" at least.
    nt_send_put (&section, "", 0);
    nt_send_put (&fallback, "", 0);
    nt_send_put (&context, "", 0);
    char *payload = NULL;
    if (!section.failed && !fallback.failed && !context.failed) {
        nt_send_utf8_fix (section.data);
        nt_send_utf8_fix (fallback.data);
        nt_send_utf8_fix (context.data);
        json_t *json = json_pack ("{s:s, s:[{s:s, s:{s:s, s:s}}, {s:s, s:[{s:s, s:s}]}]}", "text",
                                  fallback.data, "blocks", "type", "section", "text", "type",
                                  "mrkdwn", "text", section.data, "type", "context", "elements",
                                  "type", "mrkdwn", "text", context.data);
        payload = json ? json_dumps (json, JSON_COMPACT) : NULL;
        json_decref (json);
    }
    free (section.data);
    free (fallback.data);
    free (context.data);
    return payload;
}

//  ---------------------------------------------------------------------------------------------

static int
s_deliver (void *state, const nt_note_t *note, char *error, size_t error_size)
{
    s_state_t *self = state;
    char *payload = s_payload (note);
    //  The key in a header: only printable ASCII (a receiver drops the rare repeat by it).
    char header[300] = "Idempotency-Key: ";
    size_t used = strlen (header);
    for (const char *cursor = note->key ? note->key : ""; *cursor && used + 1 < sizeof header;
         cursor++)
        if ((unsigned char)*cursor > ' ' && (unsigned char)*cursor < 0x7f)
            header[used++] = *cursor;
    header[used] = 0;
    struct curl_slist *headers = curl_slist_append (NULL, header);
    if (!payload || !headers) {
        free (payload);
        curl_slist_free_all (headers);
        snprintf (error, error_size, "slack webhook: out of memory");
        return -ENOMEM;
    }
    int rc = nt_send_http (self->curl, self->url, "slack webhook", headers, payload, NULL, NULL,
                           self->timeout, NULL, error, error_size);
    curl_slist_free_all (headers);
    free (payload);
    return rc;
}

static void
s_close (void **state_p)
{
    s_state_t *self = *state_p;
    if (!self)
        return;
    nt_send_curl_destroy (&self->curl);
    nt_send_forget (&self->url);
    free (self);
    *state_p = NULL;
}

const nt_channel_type_t nt_slack_type = {
    .type = "slack",
    .digests = true,
    .open = s_open,
    .deliver = s_deliver,
    .close = s_close,
};
