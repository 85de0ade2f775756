//  GET /metrics: Prometheus' text format (0.0.4) from the broker's stats and plugins answers, a
//  count of the stored jobs by state, kind and backend (a store scan, cached), and the server's
//  own counters, and the figures plugins report in their status. Series names: API.md.
#include "ht_metrics.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct ht_metrics {
    const jobd_host_t *host;
    ht_counters_t *counters;
    ht_broker_t *broker;
    int64_t scan_interval;
    pthread_mutex_t mutex;
    char *jobs_text; //  the jobd_jobs series of the last scan
    int64_t scanned_at;
};

ht_metrics_t *
ht_metrics_new (const jobd_host_t *host, ht_counters_t *counters, ht_broker_t *broker,
                int64_t scan_interval)
{
    ht_metrics_t *self = (ht_metrics_t *)calloc (1, sizeof (ht_metrics_t));
    if (!self)
        return NULL;
    self->host = host;
    self->counters = counters;
    self->broker = broker;
    self->scan_interval = scan_interval;
    pthread_mutex_init (&self->mutex, NULL);
    return self;
}

void
ht_metrics_destroy (ht_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ht_metrics_t *self = *self_p;
    free (self->jobs_text);
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}

//  A growing text.
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} s_text_t;

static void s_add (s_text_t *text, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_add (s_text_t *text, const char *format, ...)
{
    va_list args;
    while (!text->failed) {
        va_start (args, format);
        int len = vsnprintf (text->data ? text->data + text->len : NULL,
                             text->data ? text->cap - text->len : 0, format, args);
        va_end (args);
        if (len < 0) {
            text->failed = true;
            return;
        }
        if (text->data && text->len + (size_t)len < text->cap) {
            text->len += (size_t)len;
            return;
        }
        size_t cap = text->cap ? text->cap * 2 : 8192;
        while (cap < text->len + (size_t)len + 1)
            cap *= 2;
        char *data = (char *)realloc (text->data, cap);
        if (!data) {
            text->failed = true;
            return;
        }
        text->data = data;
        text->cap = cap;
    }
}

//  A label value, escaped as the format wants (backslash, quote, new line).
static void
s_label (char *out, size_t size, const char *value)
{
    size_t at = 0;
    for (const char *c = value ? value : ""; *c && at + 3 < size; c++) {
        if (*c == '\\' || *c == '"') {
            out[at++] = '\\';
            out[at++] = *c;
        } else if (*c == '\n') {
            out[at++] = '\\';
            out[at++] = 'n';
        } else
            out[at++] = *c;
    }
    out[at] = 0;
}

//  Jobs by state, kind and backend, as counted by one scan.
typedef struct {
    zhashx_t *counts; //  "state\x1fkind\x1fbackend" -> count (a uint64_t in the pointer)
} s_scan_t;

static bool
s_scan_one (const jobd_job_t *job, void *arg)
{
    s_scan_t *scan = (s_scan_t *)arg;
    char key[400];
    snprintf (key, sizeof key, "%s\x1f%s\x1f%s", jobd_state_name (job->state),
              job->kind ? job->kind : "", job->backend ? job->backend : "");
    uintptr_t count = (uintptr_t)zhashx_lookup (scan->counts, key);
    zhashx_update (scan->counts, key, (void *)(count + 1));
    return true;
}

static char *
s_jobs_series (ht_metrics_t *self)
{
    s_scan_t scan = {zhashx_new ()};
    if (!scan.counts)
        return NULL;
    jobd_host_job_scan (self->host, 0, s_scan_one, &scan);
    s_text_t text = {0};
    s_add (&text, "# HELP jobd_jobs Jobs stored, by state, kind and backend.\n"
                  "# TYPE jobd_jobs gauge\n");
    zlistx_t *keys = zhashx_keys (scan.counts);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *)strcmp);
    zlistx_sort (keys);
    for (const char *key = (const char *)zlistx_first (keys); key;
         key = (const char *)zlistx_next (keys)) {
        char parts[3][400] = {"", "", ""};
        const char *start = key;
        for (int part = 0; part < 3; part++) {
            const char *end = strchr (start, '\x1f');
            size_t len = end ? (size_t)(end - start) : strlen (start);
            char raw[400];
            snprintf (raw, sizeof raw, "%.*s", (int)len, start);
            s_label (parts[part], sizeof parts[part], raw);
            start = end ? end + 1 : start + len;
        }
        s_add (&text, "jobd_jobs{state=\"%s\",kind=\"%s\",backend=\"%s\"} %lu\n", parts[0],
               parts[1], parts[2], (unsigned long)(uintptr_t)zhashx_lookup (scan.counts, key));
    }
    zlistx_destroy (&keys);
    zhashx_destroy (&scan.counts);
    if (text.failed) {
        free (text.data);
        return NULL;
    }
    return text.data;
}

static void
s_counter (s_text_t *text, const char *name, const char *help, json_t *broker, const char *key)
{
    json_t *value = json_object_get (broker, key);
    if (!json_is_integer (value))
        return;
    s_add (text, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", name, help, name, name,
           (long long)json_integer_value (value));
}

static void
s_broker_series (s_text_t *text, json_t *stats)
{
    json_t *broker = json_object_get (stats, "broker");
    s_counter (text, "jobd_events_received_total", "Events the broker read.", broker, "received");
    s_counter (text, "jobd_events_rejected_total", "Events the broker refused.", broker,
               "rejected");
    s_counter (text, "jobd_events_applied_total", "Events applied.", broker, "applied");
    s_counter (text, "jobd_broker_transitions_total", "Transitions committed since start.", broker,
               "transitions");
    s_counter (text, "jobd_commits_total", "Store commits.", broker, "commits");
    s_counter (text, "jobd_commit_failures_total", "Store commits that failed.", broker,
               "commit_failures");
    s_counter (text, "jobd_stale_published_total", "Stale events published.", broker,
               "stale_published");
    s_counter (text, "jobd_retry_planned_total", "Retry plans that scheduled an attempt.", broker,
               "retry_planned");
    s_counter (text, "jobd_retry_fired_total", "Retry timers that started an attempt.", broker,
               "retry_fired");
    s_counter (text, "jobd_retry_final_total", "Final retry decisions.", broker, "retry_final");
    const char *ignored[] = {"duplicates",  "duplicate",   "backward", "backward",
                             "old_attempt", "old_attempt", "replayed", "replayed"};
    s_add (text, "# HELP jobd_events_ignored_total Valid events that changed nothing.\n"
                 "# TYPE jobd_events_ignored_total counter\n");
    for (size_t index = 0; index < 8; index += 2)
        s_add (text, "jobd_events_ignored_total{reason=\"%s\"} %lld\n", ignored[index + 1],
               (long long)json_integer_value (json_object_get (broker, ignored[index])));
    s_add (text,
           "# HELP jobd_jobs_stale Jobs flagged stale now.\n# TYPE jobd_jobs_stale gauge\n"
           "jobd_jobs_stale %lld\n",
           (long long)json_integer_value (json_object_get (broker, "stale")));
    s_add (text,
           "# HELP jobd_broker_start_time_seconds When the broker started.\n"
           "# TYPE jobd_broker_start_time_seconds gauge\n"
           "jobd_broker_start_time_seconds %.3f\n",
           (double)json_integer_value (json_object_get (broker, "started_at")) / 1000.0);
}

//  A histogram from the stats answer's bounds and per-bucket counts (the last: past the bounds).
static void
s_histogram (s_text_t *text, const char *name, const char *help, json_t *bounds, json_t *counts,
             double scale, double sum)
{
    if (!json_is_array (bounds) || json_array_size (counts) != json_array_size (bounds) + 1)
        return;
    s_add (text, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t index = 0; index < json_array_size (bounds); index++) {
        cumulative += (uint64_t)json_integer_value (json_array_get (counts, index));
        s_add (text, "%s_bucket{le=\"%g\"} %llu\n", name,
               json_number_value (json_array_get (bounds, index)) * scale,
               (unsigned long long)cumulative);
    }
    cumulative += (uint64_t)json_integer_value (json_array_get (counts, json_array_size (bounds)));
    s_add (text, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
           (unsigned long long)cumulative, name, sum, name, (unsigned long long)cumulative);
}

static void
s_store_series (s_text_t *text, json_t *stats)
{
    json_t *commits = json_object_get (stats, "commits");
    s_histogram (text, "jobd_commit_duration_seconds", "How long the broker's batch commits took.",
                 json_object_get (commits, "duration_le_ms"), json_object_get (commits, "duration"),
                 0.001,
                 (double)json_integer_value (json_object_get (commits, "duration_us")) / 1e6);
    s_histogram (text, "jobd_commit_batch_events", "Events in each batch the broker committed.",
                 json_object_get (commits, "size_le"), json_object_get (commits, "size"), 1,
                 (double)json_integer_value (json_object_get (commits, "events")));
    json_t *store = json_object_get (stats, "store");
    if (json_is_object (store))
        s_add (text,
               "# HELP jobd_store_size_bytes The store's pages in use.\n"
               "# TYPE jobd_store_size_bytes gauge\njobd_store_size_bytes %lld\n"
               "# HELP jobd_store_map_size_bytes The store's map size (core/map_size).\n"
               "# TYPE jobd_store_map_size_bytes gauge\njobd_store_map_size_bytes %lld\n",
               (long long)json_integer_value (json_object_get (store, "bytes")),
               (long long)json_integer_value (json_object_get (store, "map_bytes")));
}

static void
s_plugin_series (s_text_t *text, json_t *answer)
{
    s_add (text, "# HELP jobd_plugin_up Each plugin, labelled with its status.\n"
                 "# TYPE jobd_plugin_up gauge\n");
    size_t index;
    json_t *plugin;
    json_array_foreach (json_object_get (answer, "plugins"), index, plugin)
    {
        char name[300], status[300];
        s_label (name, sizeof name, json_string_value (json_object_get (plugin, "name")));
        s_label (status, sizeof status, json_string_value (json_object_get (plugin, "status")));
        s_add (text, "jobd_plugin_up{plugin=\"%s\",status=\"%s\"} 1\n", name, status);
    }
}

//  One sample of a plugin's figures (proto/README.md section 3, Figures), borrowed from the
//  plugins answer.
typedef struct {
    const char *name;
    const char *plugin;
    json_t *entry; //  [name, value, labels, help]
    size_t order;  //  its place in the answer: a name's first help is the first given
} s_figure_t;

static int
s_figure_compare (const void *one, const void *two)
{
    const s_figure_t *a = (const s_figure_t *)one, *b = (const s_figure_t *)two;
    int rc = strcmp (a->name, b->name);
    return rc ? rc : a->order < b->order ? -1 : a->order > b->order;
}

//  The families already written (their "# TYPE name " lines): a plugin's figure may not take
//  the name of one of jobd's own series.
static zhashx_t *
s_families (const s_text_t *text)
{
    zhashx_t *families = zhashx_new ();
    for (const char *line = text->data; families && line && *line;) {
        const char *end = strchr (line, '\n');
        if (strncmp (line, "# TYPE ", 7) == 0) {
            const char *name = line + 7, *space = strchr (name, ' ');
            if (space && (!end || space < end)) {
                char family[128];
                snprintf (family, sizeof family, "%.*s", (int)(space - name), name);
                zhashx_update (families, family, (void *)1);
            }
        }
        line = end ? end + 1 : NULL;
    }
    return families;
}

//  HELP text escapes backslash and new line.
static void
s_help (s_text_t *text, const char *help)
{
    for (const char *c = help; *c; c++)
        if (*c == '\\')
            s_add (text, "\\\\");
        else if (*c == '\n')
            s_add (text, "\\n");
        else
            s_add (text, "%c", *c);
}

static void
s_figure_sample (s_text_t *text, const s_figure_t *figure)
{
    char plugin[600];
    s_label (plugin, sizeof plugin, figure->plugin);
    s_add (text, "jobd_%s{plugin=\"%s\"", figure->name, plugin);
    const char *key;
    json_t *value;
    json_object_foreach (json_array_get (figure->entry, 2), key, value)
    {
        char escaped[300];
        s_label (escaped, sizeof escaped, json_string_value (value));
        s_add (text, ",%s=\"%s\"", key, escaped);
    }
    json_t *number = json_array_get (figure->entry, 1);
    if (json_is_integer (number))
        s_add (text, "} %" JSON_INTEGER_FORMAT "\n", json_integer_value (number));
    else
        s_add (text, "} %.17g\n", json_number_value (number));
}

//  The plugins' figures as jobd_<name>{plugin="<plugin>",<labels>}: grouped by name (a family's
//  samples must follow its HELP and TYPE), in name order; counters end in _total, the rest are
//  gauges. jobd checked them when they came; what does not look so here is left out.
static void
s_figure_series (s_text_t *text, json_t *answer)
{
    size_t count = 0, room = 0, index, at;
    s_figure_t *figures = NULL;
    json_t *plugin, *entry;
    json_array_foreach (json_object_get (answer, "plugins"), index, plugin)
    {
        const char *name = json_string_value (json_object_get (plugin, "name"));
        json_array_foreach (json_object_get (plugin, "figures"), at, entry)
        {
            const char *figure = json_string_value (json_array_get (entry, 0));
            if (!name || !figure || !json_is_number (json_array_get (entry, 1)))
                continue;
            if (count == room) {
                room = room ? room * 2 : 64;
                s_figure_t *grown = (s_figure_t *)realloc (figures, room * sizeof *figures);
                if (!grown) {
                    text->failed = true;
                    free (figures);
                    return;
                }
                figures = grown;
            }
            figures[count] = (s_figure_t){figure, name, entry, count};
            count++;
        }
    }
    if (count == 0)
        return;
    qsort (figures, count, sizeof *figures, s_figure_compare);
    zhashx_t *families = s_families (text);
    for (size_t first = 0; first < count;) {
        size_t last = first;
        while (last < count && strcmp (figures[last].name, figures[first].name) == 0)
            last++;
        char family[128];
        snprintf (family, sizeof family, "jobd_%s", figures[first].name);
        if (!families || !zhashx_lookup (families, family)) {
            const char *help = NULL;
            for (size_t one = first; one < last && !help; one++)
                help = json_string_value (json_array_get (figures[one].entry, 3));
            s_add (text, "# HELP %s ", family);
            if (help)
                s_help (text, help);
            else
                s_add (text, "A plugin's figure %s.", figures[first].name);
            s_add (text, "\n# TYPE %s %s\n", family,
                   jobd_figure_is_counter (figures[first].name) ? "counter" : "gauge");
            for (size_t one = first; one < last; one++)
                s_figure_sample (text, &figures[one]);
        }
        first = last;
    }
    zhashx_destroy (&families);
    free (figures);
}

static void
s_http_series (ht_metrics_t *self, s_text_t *text)
{
    ht_counters_t *counters = self->counters;
    s_add (text, "# HELP jobd_transitions_total Transitions published since the http plugin "
                 "started, by from and to state.\n# TYPE jobd_transitions_total counter\n");
    for (int from = 0; from < JOBD_STATE_COUNT; from++)
        for (int to = 1; to < JOBD_STATE_COUNT; to++) {
            uint64_t count = atomic_load (&counters->transitions[from][to]);
            if (count)
                s_add (text, "jobd_transitions_total{from=\"%s\",to=\"%s\"} %llu\n",
                       jobd_state_name ((jobd_state_t)from), jobd_state_name ((jobd_state_t)to),
                       (unsigned long long)count);
        }
    s_add (text, "# HELP jobd_http_requests_total HTTP requests answered, by status code.\n"
                 "# TYPE jobd_http_requests_total counter\n");
    for (int code = 100; code < 600; code++) {
        uint64_t count = atomic_load (&counters->by_code[code]);
        if (count)
            s_add (text, "jobd_http_requests_total{code=\"%d\"} %llu\n", code,
                   (unsigned long long)count);
    }
    s_add (text, "# HELP jobd_http_refused_total Bad HTTP requests refused, by reason.\n"
                 "# TYPE jobd_http_refused_total counter\n");
    for (size_t index = 0; index < HT_REFUSED_COUNT; index++)
        s_add (text, "jobd_http_refused_total{reason=\"%s\"} %llu\n", ht_refused_names[index],
               (unsigned long long)atomic_load (&counters->refused[index]));
    s_add (text, "# HELP jobd_http_request_duration_seconds Time to answer an API request.\n"
                 "# TYPE jobd_http_request_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t index = 0; index < 11; index++) {
        cumulative += atomic_load (&counters->duration_buckets[index]);
        s_add (text, "jobd_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
               ht_duration_bounds[index], (unsigned long long)cumulative);
    }
    uint64_t count = atomic_load (&counters->duration_count);
    s_add (text,
           "jobd_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
           "jobd_http_request_duration_seconds_sum %.6f\n"
           "jobd_http_request_duration_seconds_count %llu\n",
           (unsigned long long)count, (double)atomic_load (&counters->duration_us_sum) / 1e6,
           (unsigned long long)count);
    s_add (text,
           "# HELP jobd_http_stream_clients Open event streams.\n"
           "# TYPE jobd_http_stream_clients gauge\njobd_http_stream_clients %llu\n"
           "# HELP jobd_http_stream_events_total Events written to event streams.\n"
           "# TYPE jobd_http_stream_events_total counter\njobd_http_stream_events_total %llu\n",
           (unsigned long long)atomic_load (&counters->stream_clients),
           (unsigned long long)atomic_load (&counters->stream_events));
}

void
ht_metrics_render (ht_metrics_t *self, ht_reply_t *reply)
{
    s_text_t text = {0};
    s_add (&text,
           "# HELP jobd_up 1: jobd's http plugin answers.\n# TYPE jobd_up gauge\njobd_up 1\n");
    int64_t now = zclock_mono ();
    pthread_mutex_lock (&self->mutex);
    if (!self->jobs_text || now - self->scanned_at >= self->scan_interval) {
        char *jobs = s_jobs_series (self);
        if (jobs) {
            free (self->jobs_text);
            self->jobs_text = jobs;
            self->scanned_at = now;
        }
    }
    if (self->jobs_text)
        s_add (&text, "%s", self->jobs_text);
    pthread_mutex_unlock (&self->mutex);
    char reason[256];
    json_t *stats = ht_broker_query (self->broker, HT_QUERY_STATS, 1000, reason, sizeof reason);
    if (stats) {
        s_broker_series (&text, stats);
        s_store_series (&text, stats);
    }
    json_decref (stats);
    json_t *plugins = ht_broker_query (self->broker, HT_QUERY_PLUGINS, 1000, reason, sizeof reason);
    if (plugins)
        s_plugin_series (&text, plugins);
    uint64_t head = 0;
    self->host->log_cursor (self->host, self->host->plugin_name, NULL, &head);
    s_add (&text,
           "# HELP jobd_transition_log_head The transition log's last position.\n"
           "# TYPE jobd_transition_log_head gauge\njobd_transition_log_head %llu\n",
           (unsigned long long)head);
    s_http_series (self, &text);
    //  Last: a figure that takes the name of one of the series above is left out.
    if (plugins)
        s_figure_series (&text, plugins);
    json_decref (plugins);
    if (text.failed) {
        free (text.data);
        ht_reply_error (reply, 500, "internal", "out of memory");
        return;
    }
    reply->status = 200;
    reply->body = text.data;
    reply->size = text.len;
    reply->type = "text/plain; version=0.0.4; charset=utf-8";
}
