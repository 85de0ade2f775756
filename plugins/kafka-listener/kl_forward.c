//  kafka-listener: the outbound topic, from the store's transition log (see kl_forward.h).
#include "kl_forward.h"
#include "kl_json.h"
#include "kl_outbox.h"
#include <string.h>

#define S_READ_MAX        1000 //  log entries read at a time
#define S_CURSOR_EVERY    1000 //  positions confirmed before the cursor moves, at the latest
#define S_CURSOR_INTERVAL 100  //  ms between cursor moves, at the latest

struct _kl_forward_t {
    const jobd_host_t *host;
    zsock_t *bus;
    rd_kafka_t *producer;
    char topic[256]; //  "" : none
    kl_outbox_t *outbox;
    uint64_t cursor; //  the position last sent to the broker as the cursor
    int64_t cursor_at;
    bool dirty; //  the log may have entries after what was sent
    bool full;  //  the producer's queue was full: read again later
    uint64_t forwarded, failed;
    kl_json_t json; //  the text of the transition being produced
};

static void
s_send_cursor (kl_forward_t *self, uint64_t position)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_CURSOR);
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_event_set (&event->name, self->host->plugin_name);
    event->seq = position;
    if (jobd_plugin_send (self->bus, event) == 0)
        self->cursor = position;
    self->cursor_at = zclock_mono ();
    jobd_event_destroy (&event);
}

kl_forward_t *
kl_forward_new (const jobd_host_t *host, zsock_t *bus, rd_kafka_t *producer, const char *topic)
{
    if (!JOBD_HOST_HAS (host, log_cursor)) {
        if (*topic)
            host->log (host, JOBD_LOG_ERROR, "this jobd has no transition log: nothing goes to %s",
                       topic);
        return NULL;
    }
    uint64_t position = 0, head = 0;
    int rc = host->log_cursor (host, host->plugin_name, &position, &head);
    if (rc && rc != JOBD_ENOTFOUND) {
        host->log (host, JOBD_LOG_ERROR, "cannot read the transition log: %s", jobd_strerror (rc));
        return NULL;
    }
    if (rc == JOBD_ENOTFOUND && !*topic)
        return NULL; //  never forwarded: nothing to keep moving
    kl_forward_t *self = (kl_forward_t *)zmalloc (sizeof (kl_forward_t));
    self->host = host;
    self->bus = bus;
    self->producer = producer;
    snprintf (self->topic, sizeof self->topic, "%s", topic);
    self->cursor = position;
    self->dirty = true;
    if (rc == JOBD_ENOTFOUND) {
        //  The first start on this store: the topic carries transitions from now on.
        host->log (host, JOBD_LOG_INFO, "transitions go to %s from log position %llu", topic,
                   (unsigned long long)head + 1);
        position = head;
        s_send_cursor (self, head);
    } else if (*topic && head > position)
        host->log (host, JOBD_LOG_INFO, "%llu transitions wait for %s since the last run",
                   (unsigned long long)(head - position), topic);
    self->outbox = kl_outbox_new (position);
    return self;
}

void
kl_forward_destroy (kl_forward_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kl_outbox_destroy (&(*self_p)->outbox);
    kl_json_fini (&(*self_p)->json);
    free (*self_p);
    *self_p = NULL;
}

void
kl_forward_poke (kl_forward_t *self)
{
    if (self)
        self->dirty = true;
}

//  One transition as JSON: the object jansson's json_pack and json_dumps made before, written
//  straight into the forwarder's buffer (they cost a third of the plugin's time at full speed).
//  NULL when a string is not UTF-8 (json_pack refused the whole object then, and json_string
//  a field: the same here) or out of memory.
static const char *
s_json (kl_forward_t *self, const jobd_event_t *event)
{
    kl_json_t *json = &self->json;
    kl_json_begin (json);
    if (!kl_json_string (json, "job", event->job) ||
        !kl_json_string (json, "from", jobd_state_name (event->from)) ||
        !kl_json_string (json, "state", jobd_state_name (event->state)))
        return NULL;
    kl_json_integer (json, "seq", (int64_t)event->seq);
    kl_json_integer (json, "attempt", (int64_t)event->attempt);
    kl_json_integer (json, "ts", event->ts);
    const char *keys[] = {"name", "kind", "backend", "ext", "error", "src"};
    const char *values[] = {event->name, event->kind,  event->backend,
                            event->ext,  event->error, event->source};
    for (size_t index = 0; index < 6; index++)
        if (values[index])
            kl_json_string (json, keys[index], values[index]);
    return kl_json_end (json);
}

//  One transition as the outbound topic carries it: JSON, keyed by job id.
static bool
s_produce (uint64_t position, const uint8_t *data, size_t size, void *arg)
{
    kl_forward_t *self = (kl_forward_t *)arg;
    jobd_event_t *event = NULL;
    const char *text = NULL;
    if (jobd_event_decode (data, size, &event, NULL, 0) == 0)
        text = s_json (self, event);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__BAD_MSG;
    char where[32];
    snprintf (where, sizeof where, "%llu", (unsigned long long)position);
    if (text)
        err = rd_kafka_producev (self->producer, RD_KAFKA_V_TOPIC (self->topic),
                                 RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_KEY (event->job, strlen (event->job)),
                                 RD_KAFKA_V_VALUE ((void *)text, self->json.size),
                                 RD_KAFKA_V_HEADER ("jobd-position", where, -1),
                                 RD_KAFKA_V_OPAQUE ((void *)(uintptr_t)position), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        jobd_event_destroy (&event);
        self->full = true; //  it stays in the log: sent once the queue drains
        return false;
    }
    kl_outbox_sent (self->outbox, position);
    if (err) {
        //  A transition that does not decode (a damaged store) or that the producer refuses
        //  outright: said and counted, not retried for ever.
        self->failed++;
        self->host->log (self->host, JOBD_LOG_ERROR, "transition log position %llu not sent: %s",
                         (unsigned long long)position,
                         text ? rd_kafka_err2str (err) : "it does not decode");
        kl_outbox_done (self->outbox, position);
    }
    jobd_event_destroy (&event);
    return true;
}

void
kl_forward_pump (kl_forward_t *self, bool force)
{
    if (!self)
        return;
    if (!self->topic[0]) {
        //  No topic any more: the cursor follows the head, so the log is dropped as it grows.
        uint64_t head = 0;
        if (force || zclock_mono () - self->cursor_at >= 1000) {
            self->host->log_cursor (self->host, self->host->plugin_name, NULL, &head);
            if (head > self->cursor)
                s_send_cursor (self, head);
            self->cursor_at = zclock_mono ();
        }
        return;
    }
    size_t room = kl_outbox_room (self->outbox);
    if (self->dirty && room > 0) {
        size_t max = room < S_READ_MAX ? room : S_READ_MAX;
        self->full = false;
        int read = self->host->log_read (self->host, kl_outbox_sent_upto (self->outbox), max,
                                         s_produce, self);
        if (read < 0)
            self->host->log (self->host, JOBD_LOG_ERROR, "cannot read the transition log: %s",
                             jobd_strerror (read));
        //  A full read may have left more behind; a short one read everything committed.
        self->dirty = read == (int)max || self->full;
    }
    uint64_t done = kl_outbox_done_upto (self->outbox);
    if (done > self->cursor && (force || done - self->cursor >= S_CURSOR_EVERY ||
                                zclock_mono () - self->cursor_at >= S_CURSOR_INTERVAL))
        s_send_cursor (self, done);
}

void
kl_forward_delivered (kl_forward_t *self, const rd_kafka_message_t *message)
{
    uint64_t position = (uint64_t)(uintptr_t)message->_private;
    if (!self || position == 0)
        return; //  a dead letter
    if (message->err) {
        //  message.timeout.ms is 0: only a permanent error ends a message.
        self->failed++;
        self->host->log (self->host, JOBD_LOG_ERROR, "transition log position %llu not sent: %s",
                         (unsigned long long)position, rd_kafka_err2str (message->err));
    } else
        self->forwarded++;
    kl_outbox_done (self->outbox, position);
}

void
kl_forward_counts (const kl_forward_t *self, uint64_t *waiting, uint64_t *forwarded,
                   uint64_t *failed)
{
    *waiting = self ? kl_outbox_sent_upto (self->outbox) - kl_outbox_done_upto (self->outbox) : 0;
    *forwarded = self ? self->forwarded : 0;
    *failed = self ? self->failed : 0;
}
