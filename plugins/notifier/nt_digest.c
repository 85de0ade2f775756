//  notifier: a digest, many notes of one rule folded into one (see nt_note.h).
#include "nt_note.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nt_digest {
    char *rule;
    int64_t window;
    size_t count;
    char *first_key;
    int64_t first_ts, last_ts;
    json_t *by_state; //  state -> count
    json_t *by_cause; //  cause (first line) -> count
    json_t *jobs;     //  the first NT_DIGEST_JOBS: {key, job, name, state, cause}
};

nt_digest_t *
nt_digest_new (const char *rule, int64_t window)
{
    nt_digest_t *self = (nt_digest_t *)calloc (1, sizeof (nt_digest_t));
    if (!self)
        return NULL;
    self->rule = strdup (rule ? rule : "");
    self->window = window;
    self->by_state = json_object ();
    self->by_cause = json_object ();
    self->jobs = json_array ();
    return self;
}

void
nt_digest_destroy (nt_digest_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nt_digest_t *self = *self_p;
    free (self->rule);
    free (self->first_key);
    json_decref (self->by_state);
    json_decref (self->by_cause);
    json_decref (self->jobs);
    free (self);
    *self_p = NULL;
}

static void
s_count (json_t *object, const char *key)
{
    json_t *value = json_object_get (object, key);
    json_object_set_new (object, key, json_integer (value ? json_integer_value (value) + 1 : 1));
}

void
nt_digest_add (nt_digest_t *self, const nt_note_t *note)
{
    if (!self->count) {
        self->first_key = strdup (note->key);
        self->first_ts = note->ts;
    }
    self->count++;
    self->last_ts = note->ts;
    const char *label = note->event == NT_EVENT_FINAL   ? "FAILED for good"
                        : note->event == NT_EVENT_STALE ? "stale"
                                                        : note->state;
    s_count (self->by_state, label ? label : "?");
    json_t *job = json_object_get (note->body, "job");
    const char *cause = json_string_value (json_object_get (job, "cause"));
    if (!cause)
        cause = json_string_value (json_object_get (job, "error"));
    char line[200];
    snprintf (line, sizeof line, "%.*s", (int)strcspn (cause ? cause : "", "\r\n"),
              cause ? cause : "");
    s_count (self->by_cause, *line ? line : "(none)");
    if (json_array_size (self->jobs) < NT_DIGEST_JOBS) {
        json_t *item = json_object ();
        json_object_set_new (item, "key", json_string (note->key));
        json_object_set_new (item, "job", json_string (note->job ? note->job : ""));
        if (note->name)
            json_object_set_new (item, "name", json_string (note->name));
        json_object_set_new (item, "event", json_string (label ? label : "?"));
        if (*line)
            json_object_set_new (item, "cause", json_string (line));
        json_array_append_new (self->jobs, item);
    }
}

size_t
nt_digest_count (const nt_digest_t *self)
{
    return self->count;
}

//  "3 FAILED for good, 1 stale" from an object of counts, into out.
static void
s_counts (FILE *out, json_t *object)
{
    const char *key;
    json_t *value;
    const char *separator = "";
    json_object_foreach (object, key, value)
    {
        fprintf (out, "%s%lld %s", separator, (long long)json_integer_value (value), key);
        separator = ", ";
    }
}

nt_note_t *
nt_digest_note (const nt_digest_t *self)
{
    if (!self->count)
        return NULL;
    nt_note_t *note = (nt_note_t *)calloc (1, sizeof (nt_note_t));
    if (!note)
        return NULL;
    char key[600];
    snprintf (key, sizeof key, "digest/%s/%s", self->rule, self->first_key);
    char subject[1024], *states = NULL;
    size_t states_size = 0;
    FILE *out = open_memstream (&states, &states_size);
    if (out) {
        s_counts (out, self->by_state);
        fclose (out);
    }
    snprintf (subject, sizeof subject, "jobd: %zu events of rule %s: %s", self->count, self->rule,
              states ? states : "");
    free (states);
    char from[40], to[40];
    nt_note_time (self->first_ts, from, sizeof from);
    nt_note_time (self->last_ts, to, sizeof to);
    char *text = NULL;
    size_t text_size = 0;
    out = open_memstream (&text, &text_size);
    if (out) {
        fprintf (out, "%s\nfrom %s to %s\nby cause: ", subject, from, to);
        s_counts (out, self->by_cause);
        fprintf (out, "\n");
        size_t index;
        json_t *item;
        json_array_foreach (self->jobs, index, item)
        {
            const char *name = json_string_value (json_object_get (item, "name"));
            const char *cause = json_string_value (json_object_get (item, "cause"));
            fprintf (out, "- %s%s%s%s: %s%s%s\n", json_string_value (json_object_get (item, "job")),
                     name ? " (" : "", name ? name : "", name ? ")" : "",
                     json_string_value (json_object_get (item, "event")), cause ? ": " : "",
                     cause ? cause : "");
        }
        if (self->count > json_array_size (self->jobs))
            fprintf (out, "and %zu more\n", self->count - json_array_size (self->jobs));
        fclose (out);
    }
    json_t *digest = json_object ();
    json_object_set_new (digest, "rule", json_string (self->rule));
    json_object_set_new (digest, "window_ms", json_integer (self->window));
    json_object_set_new (digest, "count", json_integer ((json_int_t)self->count));
    json_object_set (digest, "by_state", self->by_state);
    json_object_set (digest, "by_cause", self->by_cause);
    json_object_set (digest, "jobs", self->jobs);
    json_object_set_new (digest, "more",
                         json_integer ((json_int_t)(self->count - json_array_size (self->jobs))));
    json_t *body = json_object ();
    json_object_set_new (body, "key", json_string (key));
    json_object_set_new (body, "event", json_string ("digest"));
    json_object_set_new (body, "ts", json_integer (self->last_ts));
    json_object_set_new (body, "time", json_string (to));
    json_object_set_new (body, "subject", json_string (subject));
    json_object_set_new (body, "digest", digest);
    note->key = strdup (key);
    note->event = NT_EVENT_DIGEST;
    note->subject = strdup (subject);
    note->text = text;
    note->body = body;
    note->ts = self->last_ts;
    if (!note->key || !note->subject || !note->text)
        nt_note_destroy (&note);
    return note;
}
