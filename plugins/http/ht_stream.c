//  GET /api/v1/events: Server-Sent Events from jobd's transition log (its transitions and stale
//  events). Each stream reads the log from its own position (no cursor per client); the entries
//  are decoded and written as JSON once, into a cache the streams share, so a thousand streams
//  cost one decoding per entry.
#include "ht_stream.h"
#include "jobd_json.h"
#include "jobd_msgpack.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define S_CACHE    8192  //  transitions kept decoded and written, by position
#define S_READ_MAX 256   //  log entries read in one transaction
#define S_OUT_MAX  65536 //  bytes a stream prepares before it writes them
#define S_RETRY_MS 2000  //  the stream's retry: field

typedef struct {
    uint64_t position; //  0: empty
    jobd_event_t *event;
    char *text; //  the event as JSON
} s_slot_t;

struct ht_streams {
    const jobd_host_t *host;
    ht_counters_t *counters;
    size_t max;
    int64_t heartbeat;
    pthread_mutex_t mutex;
    zlistx_t *waiting; //  suspended streams (s_stream_t, not owned)
    size_t count;
    uint64_t head;       //  the log's head, as the last wake said
    uint64_t generation; //  wakes so far: a stream suspends only if none came while it read
    bool closing;
    s_slot_t cache[S_CACHE];
};

typedef struct {
    ht_streams_t *owner;
    struct MHD_Connection *connection;
    ht_params_t params;
    uint64_t after;  //  the last position done with
    uint64_t asked;  //  the Last-Event-ID given, or 0
    char reset[200]; //  a reset to announce ("" none)
    char *out;
    size_t out_len, out_sent, out_cap;
    int64_t last_write; //  monotonic ms
    bool hello;
    bool suspended;
} s_stream_t;

ht_streams_t *
ht_streams_new (const jobd_host_t *host, ht_counters_t *counters, size_t max, int64_t heartbeat)
{
    ht_streams_t *self = (ht_streams_t *)calloc (1, sizeof (ht_streams_t));
    if (!self)
        return NULL;
    self->host = host;
    self->counters = counters;
    self->max = max;
    self->heartbeat = heartbeat > 0 ? heartbeat : 15000;
    self->waiting = zlistx_new ();
    if (!self->waiting) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->mutex, NULL);
    return self;
}

void
ht_streams_destroy (ht_streams_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ht_streams_t *self = *self_p;
    for (size_t index = 0; index < S_CACHE; index++) {
        jobd_event_destroy (&self->cache[index].event);
        free (self->cache[index].text);
    }
    zlistx_destroy (&self->waiting);
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}

char *
ht_sse_format (uint64_t id, const char *name, const char *data)
{
    char head[64] = "";
    if (id)
        snprintf (head, sizeof head, "id: %llu\n", (unsigned long long)id);
    size_t size = strlen (head) + strlen (name) + strlen (data) + 32;
    char *text = (char *)malloc (size);
    if (text)
        snprintf (text, size, "%sevent: %s\ndata: %s\n\n", head, name, data);
    return text;
}

static void
s_append (s_stream_t *stream, const char *text, size_t len)
{
    if (stream->out_len + len > stream->out_cap) {
        size_t cap = stream->out_cap ? stream->out_cap : 4096;
        while (cap < stream->out_len + len)
            cap *= 2;
        char *out = (char *)realloc (stream->out, cap);
        if (!out)
            return; //  dropped: the client sees a gap in ids and resumes from the last it got
        stream->out = out;
        stream->out_cap = cap;
    }
    memcpy (stream->out + stream->out_len, text, len);
    stream->out_len += len;
}

static void
s_append_event (s_stream_t *stream, uint64_t id, const char *name, const char *data)
{
    char *text = ht_sse_format (id, name, data);
    if (text) {
        s_append (stream, text, strlen (text));
        free (text);
    }
    atomic_fetch_add (&stream->owner->counters->stream_events, 1);
}

//  The JSON text of an encoded event.
static char *
s_json_text (const uint8_t *data, size_t size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    if (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0) != 0)
        return NULL;
    json_t *value = jobd_json_from_msgpack (&unpacked.data);
    msgpack_unpacked_destroy (&unpacked);
    char *text = value ? json_dumps (value, JSON_COMPACT) : NULL;
    json_decref (value);
    return text;
}

typedef struct {
    ht_streams_t *self;
    uint64_t first; //  the first position read, 0 when none
} s_load_t;

static bool
s_load_one (uint64_t position, const uint8_t *data, size_t size, void *arg)
{
    s_load_t *load = (s_load_t *)arg;
    if (!load->first)
        load->first = position;
    jobd_event_t *event = NULL;
    char *text = NULL;
    //  Transitions and stale events; an entry of another type, or one this proto cannot read, is
    //  kept as an empty slot, so it is passed over.
    if (jobd_event_decode (data, size, &event, NULL, 0) == 0 &&
        (event->type == JOBD_EVENT_TRANSITION || event->type == JOBD_EVENT_STALE))
        text = s_json_text (data, size);
    if (!text)
        jobd_event_destroy (&event);
    ht_streams_t *self = load->self;
    pthread_mutex_lock (&self->mutex);
    s_slot_t *slot = &self->cache[position % S_CACHE];
    jobd_event_destroy (&slot->event);
    free (slot->text);
    slot->position = position;
    slot->event = event;
    slot->text = text;
    pthread_mutex_unlock (&self->mutex);
    return true;
}

//  Adds the log's events after stream->after up to head that pass its filters.
static void
s_fill_transitions (s_stream_t *stream, uint64_t head)
{
    ht_streams_t *self = stream->owner;
    while (stream->after < head && stream->out_len < S_OUT_MAX) {
        uint64_t want = stream->after + 1;
        pthread_mutex_lock (&self->mutex);
        s_slot_t *slot = &self->cache[want % S_CACHE];
        bool cached = slot->position == want;
        if (cached) {
            if (slot->event && ht_params_match_event (&stream->params, slot->event)) {
                const char *name = slot->event->type == JOBD_EVENT_STALE ? "stale" : "transition";
                char *text = ht_sse_format (want, name, slot->text);
                if (text) {
                    s_append (stream, text, strlen (text));
                    free (text);
                }
                atomic_fetch_add (&self->counters->stream_events, 1);
            }
            stream->after = want;
        }
        pthread_mutex_unlock (&self->mutex);
        if (cached)
            continue;
        s_load_t load = {self, 0};
        int rc = self->host->log_read (self->host, stream->after, S_READ_MAX, s_load_one, &load);
        if (rc < 0)
            return; //  tried again at the next wake
        if (load.first != want) {
            //  The log no longer holds it: trimmed while the stream was behind.
            char data[160];
            uint64_t resume = load.first ? load.first - 1 : head;
            snprintf (data, sizeof data,
                      "{\"after\":%llu,\"resume\":%llu,\"reason\":\"the transition log no longer "
                      "holds these transitions\"}",
                      (unsigned long long)stream->after, (unsigned long long)resume);
            s_append_event (stream, 0, "reset", data);
            stream->after = resume;
        }
    }
}

static void
s_fill (s_stream_t *stream, uint64_t head)
{
    if (!stream->hello) {
        char data[128];
        snprintf (data, sizeof data, "retry: %d\n\n", S_RETRY_MS);
        s_append (stream, data, strlen (data));
        snprintf (data, sizeof data, "{\"head\":%llu,\"after\":%llu}", (unsigned long long)head,
                  (unsigned long long)stream->after);
        s_append_event (stream, 0, "hello", data);
        if (*stream->reset)
            s_append_event (stream, 0, "reset", stream->reset);
        stream->hello = true;
    }
    s_fill_transitions (stream, head);
}

static ssize_t
s_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    s_stream_t *stream = (s_stream_t *)cls;
    ht_streams_t *self = stream->owner;
    for (int round = 0; round < 4; round++) {
        if (stream->out_sent < stream->out_len) {
            size_t len = stream->out_len - stream->out_sent;
            if (len > max)
                len = max;
            memcpy (buf, stream->out + stream->out_sent, len);
            stream->out_sent += len;
            stream->last_write = zclock_mono ();
            return (ssize_t)len;
        }
        stream->out_len = stream->out_sent = 0;
        pthread_mutex_lock (&self->mutex);
        bool closing = self->closing;
        uint64_t generation = self->generation, head = self->head;
        pthread_mutex_unlock (&self->mutex);
        if (closing)
            return MHD_CONTENT_READER_END_OF_STREAM;
        s_fill (stream, head);
        if (stream->out_len)
            continue;
        if (zclock_mono () - stream->last_write >= self->heartbeat * 3 / 4) {
            s_append (stream, ": keepalive\n\n", 13);
            continue;
        }
        pthread_mutex_lock (&self->mutex);
        if (self->generation == generation && !self->closing) {
            stream->suspended = true;
            zlistx_add_end (self->waiting, stream);
            MHD_suspend_connection (stream->connection);
            pthread_mutex_unlock (&self->mutex);
            return 0;
        }
        pthread_mutex_unlock (&self->mutex);
    }
    return 0;
}

static void
s_free (void *cls)
{
    s_stream_t *stream = (s_stream_t *)cls;
    ht_streams_t *self = stream->owner;
    pthread_mutex_lock (&self->mutex);
    if (stream->suspended) {
        void *handle = zlistx_find (self->waiting, stream);
        if (handle)
            zlistx_delete (self->waiting, handle);
    }
    self->count--;
    pthread_mutex_unlock (&self->mutex);
    atomic_fetch_sub (&self->counters->stream_clients, 1);
    free (stream->out);
    free (stream);
}

//  Where a stream asked to start after asked begins, and whether the log still holds it.
static void
s_start (ht_streams_t *self, s_stream_t *stream, uint64_t head)
{
    stream->after = head;
    if (!stream->params.has_last_event_id)
        return;
    uint64_t asked = stream->params.last_event_id;
    stream->asked = asked;
    uint64_t resume = asked;
    if (asked > head)
        resume = head;
    else if (asked < head) {
        s_load_t load = {self, 0};
        self->host->log_read (self->host, asked, 1, s_load_one, &load);
        if (load.first != asked + 1)
            resume = load.first ? load.first - 1 : head;
    }
    if (resume != asked)
        snprintf (stream->reset, sizeof stream->reset,
                  "{\"after\":%llu,\"resume\":%llu,\"reason\":\"%s\"}", (unsigned long long)asked,
                  (unsigned long long)resume,
                  asked > head ? "past the transition log's head (another store?)"
                               : "the transition log no longer holds these transitions");
    stream->after = resume;
}

struct MHD_Response *
ht_streams_open (ht_streams_t *self, struct MHD_Connection *connection, const ht_params_t *params,
                 ht_reply_t *reply)
{
    uint64_t head = 0;
    self->host->log_cursor (self->host, self->host->plugin_name, NULL, &head);
    pthread_mutex_lock (&self->mutex);
    bool full = self->count >= self->max || self->closing;
    if (!full) {
        self->count++;
        if (head > self->head)
            self->head = head;
    }
    pthread_mutex_unlock (&self->mutex);
    if (full) {
        ht_reply_error (reply, 503, "unavailable", "too many event streams open");
        return NULL;
    }
    s_stream_t *stream = (s_stream_t *)calloc (1, sizeof (s_stream_t));
    struct MHD_Response *response = NULL;
    if (stream) {
        stream->owner = self;
        stream->connection = connection;
        stream->params = *params;
        stream->last_write = zclock_mono ();
        s_start (self, stream, head);
        response =
            MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 16384, s_read, stream, s_free);
    }
    if (!response) {
        free (stream);
        pthread_mutex_lock (&self->mutex);
        self->count--;
        pthread_mutex_unlock (&self->mutex);
        ht_reply_error (reply, 500, "internal", "out of memory");
        return NULL;
    }
    atomic_fetch_add (&self->counters->stream_clients, 1);
    MHD_add_response_header (response, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header (response, "Cache-Control", "no-cache");
    MHD_add_response_header (response, "X-Accel-Buffering", "no");
    return response;
}

//  Resumes every waiting stream; the caller holds the mutex.
static void
s_resume_all (ht_streams_t *self)
{
    self->generation++;
    for (s_stream_t *stream = (s_stream_t *)zlistx_first (self->waiting); stream;
         stream = (s_stream_t *)zlistx_next (self->waiting)) {
        stream->suspended = false;
        MHD_resume_connection (stream->connection);
    }
    zlistx_purge (self->waiting);
}

void
ht_streams_wake (ht_streams_t *self, uint64_t head)
{
    pthread_mutex_lock (&self->mutex);
    if (head > self->head)
        self->head = head;
    s_resume_all (self);
    pthread_mutex_unlock (&self->mutex);
}

void
ht_streams_close (ht_streams_t *self)
{
    pthread_mutex_lock (&self->mutex);
    self->closing = true;
    s_resume_all (self);
    pthread_mutex_unlock (&self->mutex);
}

size_t
ht_streams_count (ht_streams_t *self)
{
    pthread_mutex_lock (&self->mutex);
    size_t count = self->count;
    pthread_mutex_unlock (&self->mutex);
    return count;
}
