//  notifier: the note of one event (see nt_note.h).
#include "nt_note.h"
#include "nt_rules.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_LINE_MAX 300 //  bytes of a cause or error in a subject

void
nt_note_time (int64_t ms, char *buffer, size_t size)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm parts;
    gmtime_r (&seconds, &parts);
    char date[32];
    strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &parts);
    snprintf (buffer, size, "%s.%03dZ", date, (int)(ms % 1000));
}

//  Frees a note's strings and body.
void
nt_note_destroy (nt_note_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nt_note_t *self = *self_p;
    free ((char *)self->key);
    free ((char *)self->subject);
    free ((char *)self->text);
    free ((char *)self->job);
    free ((char *)self->name);
    free ((char *)self->kind);
    free ((char *)self->backend);
    free ((char *)self->state);
    json_decref (self->body);
    free (self);
    *self_p = NULL;
}

static char *
s_dup (const char *text)
{
    return text ? strdup (text) : NULL;
}

//  The first line of text, at most S_LINE_MAX bytes, into line.
static void
s_first_line (const char *text, char *line, size_t size)
{
    size_t length = text ? strcspn (text, "\r\n") : 0;
    if (length > S_LINE_MAX)
        length = S_LINE_MAX;
    snprintf (line, size, "%.*s", (int)length, text ? text : "");
}

//  The link template with {job} replaced by job (fresh), or NULL when there is none.
static char *
s_link (const char *link, const char *job)
{
    if (!link || !*link)
        return NULL;
    size_t size = strlen (link) + 1;
    for (const char *at = strstr (link, "{job}"); at; at = strstr (at + 5, "{job}"))
        size += strlen (job);
    char *out = (char *)malloc (size);
    if (!out)
        return NULL;
    char *write = out;
    for (const char *at = link; *at;) {
        if (strncmp (at, "{job}", 5) == 0) {
            write = stpcpy (write, job);
            at += 5;
        } else
            *write++ = *at++;
    }
    *write = 0;
    return out;
}

static void
s_set_text (json_t *object, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new (object, key, json_string (value));
}

//  The one-line subject.
static void
s_subject (nt_event_t event, const jobd_event_t *from, const char *label, const char *why,
           char *subject, size_t size)
{
    const char *state = jobd_state_name (from->state);
    switch (event) {
        case NT_EVENT_FINAL:
            snprintf (subject, size, "jobd: %s %s for good%s%s", label, state, *why ? ": " : "",
                      why);
            break;
        case NT_EVENT_FAILED:
            snprintf (subject, size, "jobd: %s %s (attempt %u)%s%s", label, state,
                      from->attempt ? from->attempt : 1, *why ? ": " : "", why);
            break;
        case NT_EVENT_STALE:
            snprintf (subject, size, "jobd: %s stale in %s%s%s", label, state, *why ? ": " : "",
                      why);
            break;
        case NT_EVENT_RECOVERED:
            snprintf (subject, size, "jobd: %s recovered: SUCCEEDED on attempt %u", label,
                      from->attempt ? from->attempt : 1);
            break;
        default:
            snprintf (subject, size, "jobd: %s %s%s%s", label, state, *why ? ": " : "", why);
            break;
    }
}

nt_note_t *
nt_note_new (nt_event_t event, const jobd_event_t *from, const jobd_job_t *record, const char *link)
{
    nt_note_t *self = (nt_note_t *)calloc (1, sizeof (nt_note_t));
    if (!self)
        return NULL;
    const char *job = from->job ? from->job : "";
    const char *name = from->name ? from->name : record ? record->name : NULL;
    const char *kind = from->kind ? from->kind : record ? record->kind : NULL;
    const char *backend = from->backend ? from->backend : record ? record->backend : NULL;
    const char *ext = from->ext ? from->ext : record ? record->ext : NULL;
    const char *cause = from->cause ? from->cause : record ? record->cause : NULL;
    const char *error = from->error ? from->error : record ? record->error : NULL;
    bool same_attempt = record && (!from->attempt || record->attempt == from->attempt);
    const char *retry_final = same_attempt ? record->retry_final : NULL;
    bool stale = from->type == JOBD_EVENT_STALE;

    char key[JOBD_ID_MAX + 64];
    uint64_t seq = stale ? (record ? record->last_seq : 0) : from->seq;
    snprintf (key, sizeof key, stale ? "%s/%llu/stale" : "%s/%llu", job, (unsigned long long)seq);
    char label[600];
    if (name && *name)
        snprintf (label, sizeof label, "%s (%s)", name, job);
    else
        snprintf (label, sizeof label, "%s", job);
    char why[S_LINE_MAX + 8];
    s_first_line (event == NT_EVENT_FINAL && !cause && !error ? retry_final
                  : cause                                     ? cause
                                                              : error,
                  why, sizeof why);
    if (event == NT_EVENT_RECOVERED || event == NT_EVENT_SUCCEEDED)
        why[0] = 0;
    char subject[1024];
    s_subject (event, from, label, why, subject, sizeof subject);

    char when[40];
    nt_note_time (from->ts, when, sizeof when);
    char *page = s_link (link, job);
    const char *app_url = record ? record->app_url : NULL;
    const char *log_url = record ? record->log_url : NULL;
    char *text = NULL;
    size_t text_size = 0;
    FILE *out = open_memstream (&text, &text_size);
    if (out) {
        fprintf (out, "%s\n", subject);
        fprintf (out, "job: %s", job);
        if (name)
            fprintf (out, ", name %s", name);
        if (kind)
            fprintf (out, ", kind %s", kind);
        if (backend)
            fprintf (out, ", backend %s", backend);
        if (ext)
            fprintf (out, ", external id %s", ext);
        fprintf (out, "\n");
        if (stale)
            fprintf (out, "stale in %s at %s\n", jobd_state_name (from->state), when);
        else
            fprintf (out, "%s -> %s at %s (attempt %u)\n", jobd_state_name (from->from),
                     jobd_state_name (from->state), when, from->attempt ? from->attempt : 1);
        if (cause)
            fprintf (out, "cause: %.1000s\n", cause);
        if (error && (!cause || strcmp (cause, error)))
            fprintf (out, "error: %.1000s\n", error);
        if (event == NT_EVENT_FINAL && retry_final)
            fprintf (out, "no retry: %.1000s\n", retry_final);
        if (record && record->retry_at && record->state == JOBD_STATE_RETRY_WAIT) {
            char due[40];
            nt_note_time (record->retry_at, due, sizeof due);
            fprintf (out, "next attempt at %s\n", due);
        }
        if (page)
            fprintf (out, "link: %s\n", page);
        if (app_url)
            fprintf (out, "app: %s\n", app_url);
        if (log_url)
            fprintf (out, "log: %s\n", log_url);
        fclose (out);
    }

    json_t *body = json_object ();
    json_object_set_new (body, "key", json_string (key));
    json_object_set_new (body, "event", json_string (nt_event_name (event)));
    json_object_set_new (body, "ts", json_integer (from->ts));
    json_object_set_new (body, "time", json_string (when));
    json_object_set_new (body, "subject", json_string (subject));
    json_t *about = json_object ();
    json_object_set_new (about, "id", json_string (job));
    s_set_text (about, "name", name);
    s_set_text (about, "kind", kind);
    s_set_text (about, "backend", backend);
    s_set_text (about, "ext", ext);
    json_object_set_new (about, "state", json_string (jobd_state_name (from->state)));
    json_object_set_new (about, "attempt", json_integer (from->attempt ? from->attempt : 1));
    s_set_text (about, "cause", cause);
    s_set_text (about, "error", error);
    s_set_text (about, "retry_final", retry_final);
    if (record && record->retry_at && record->state == JOBD_STATE_RETRY_WAIT)
        json_object_set_new (about, "retry_at", json_integer (record->retry_at));
    if (stale)
        s_set_text (about, "stale", from->error);
    json_object_set_new (body, "job", about);
    if (!stale) {
        json_t *transition = json_object ();
        json_object_set_new (transition, "from", json_string (jobd_state_name (from->from)));
        json_object_set_new (transition, "to", json_string (jobd_state_name (from->state)));
        json_object_set_new (transition, "seq", json_integer ((json_int_t)from->seq));
        json_object_set_new (transition, "ts", json_integer (from->ts));
        s_set_text (transition, "src", from->source);
        json_object_set_new (body, "transition", transition);
    }
    json_t *links = json_object ();
    s_set_text (links, "job", page);
    s_set_text (links, "app", app_url);
    s_set_text (links, "log", log_url);
    json_object_set_new (body, "links", links);
    free (page);

    self->key = strdup (key);
    self->event = event;
    self->subject = strdup (subject);
    self->text = text;
    self->body = body;
    self->job = strdup (job);
    self->name = s_dup (name);
    self->kind = s_dup (kind);
    self->backend = s_dup (backend);
    self->state = strdup (jobd_state_name (from->state));
    self->ts = from->ts;
    self->resolves =
        event == NT_EVENT_RECOVERED || event == NT_EVENT_SUCCEEDED || event == NT_EVENT_CANCELLED;
    if (!self->key || !self->subject || !self->text || !self->body || !self->job || !self->state)
        nt_note_destroy (&self);
    return self;
}
