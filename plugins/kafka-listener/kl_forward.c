//  kafka-listener: the outbound topic, from the store's transition log (see kl_forward.h).
#include "kl_forward.h"
#include "kl_json.h"
#include "kl_outbox.h"
#include <string.h>

#define S_READ_MAX        1000 //  log entries read at a time
#define S_CURSOR_EVERY    1000 //  positions confirmed before the cursor moves, at the latest
#define S_CURSOR_INTERVAL 100  //  ms between cursor moves, at the latest

//  One reader: of the transition log (partition -1), or in cluster mode of an owned partition's
//  transitions in changelog order (plog_read, ABI 1.9), with its cursor in the changelog. A
//  partition's positions have gaps and repeats: the outbox counts the transitions read (n) and
//  ring[n] keeps each one's position, where the cursor goes once it is delivered.
typedef struct {
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
    kl_json_t json;     //  the text of the transition being produced
    msgpack_zone *zone; //  the maps of the log entry being read, kept for the next
    int partition;      //  -1: the transition log
    unsigned gen;       //  this reader's number among the partition's, in deliveries' opaque
    uint64_t *ring;     //  a partition's reader: the position of each transition in flight
} s_source_t;

struct _kl_forward_t {
    const jobd_host_t *host;
    zsock_t *bus;
    rd_kafka_t *producer;
    char topic[256];
    s_source_t *log;         //  the transition log's reader (in a cluster: its cursor only)
    s_source_t **parts;      //  cluster mode: a reader per owned partition
    uint32_t partitions;     //  0: a single jobd (or an older core)
    unsigned *gens;          //  each partition's readers started, for their deliveries' opaque
    uint64_t forwarded_gone; //  counts of partition readers ended
    uint64_t failed_gone;
};

//  A delivery's opaque: the reader (its partition + 1, 13 bits: up to 4,096 partitions; and
//  its number among the partition's readers, 16 bits) and the count of a partition's reader (35
//  bits); for the log's reader (partition field 0) all 51 low bits are the log position.
#define S_OP_SHIFT 35
#define S_OP_N     ((UINT64_C (1) << S_OP_SHIFT) - 1)
#define S_OP_PART  (S_OP_SHIFT + 16)
_Static_assert(sizeof (uintptr_t) >= 8, "a delivery's opaque needs 64 bits");
#define S_RING   (KL_OUTBOX_MAX + 1) //  a partition reader's positions: those in flight, and one
#define S_RECORD 64                  //  room kept for the rest of a changelog record's transitions

static void
s_send_cursor (s_source_t *self, uint64_t position)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_CURSOR);
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_event_set (&event->name, self->host->plugin_name);
    event->seq = position;
    if (self->partition >= 0) {
        //  A partition's cursor goes to the changelog under this instance's claim.
        char stream[32];
        snprintf (stream, sizeof stream, "changelog/%d", self->partition);
        jobd_event_set (&event->stream, stream);
        if (!self->host->partition_acting (self->host, (uint32_t)self->partition)) {
            jobd_event_destroy (&event);
            return;
        }
    }
    if (jobd_plugin_send (self->bus, event) == 0)
        self->cursor = position;
    self->cursor_at = zclock_mono ();
    jobd_event_destroy (&event);
}

static void s_source_destroy (s_source_t **self_p);

//  A reader of the log (partition -1) or of partition, from its cursor, or from the head when it
//  has none. NULL when there is nothing to read.
static s_source_t *
s_source_new (const jobd_host_t *host, zsock_t *bus, rd_kafka_t *producer, const char *topic,
              int partition, unsigned gen)
{
    if (!JOBD_HOST_HAS (host, log_cursor)) {
        if (*topic)
            host->log (host, JOBD_LOG_ERROR, "this jobd has no transition log: nothing goes to %s",
                       topic);
        return NULL;
    }
    uint64_t position = 0, head = 0;
    int rc = partition < 0 ? host->log_cursor (host, host->plugin_name, &position, &head)
                           : host->plog_cursor (host, host->plugin_name, (uint32_t)partition,
                                                &position, &head);
    if (rc && rc != JOBD_ENOTFOUND) {
        host->log (host, JOBD_LOG_ERROR, "cannot read the transition log: %s", jobd_strerror (rc));
        return NULL;
    }
    if (rc == JOBD_ENOTFOUND && !*topic)
        return NULL; //  never forwarded: nothing to keep moving
    s_source_t *self = (s_source_t *)zmalloc (sizeof (s_source_t));
    self->zone = msgpack_zone_new (MSGPACK_ZONE_CHUNK_SIZE);
    self->partition = partition;
    self->gen = gen & 0xffff;
    if (partition >= 0)
        self->ring = (uint64_t *)malloc (S_RING * sizeof (uint64_t));
    if (!self->zone || (partition >= 0 && !self->ring)) {
        msgpack_zone_free (self->zone);
        free (self->ring);
        free (self);
        return NULL;
    }
    self->host = host;
    self->bus = bus;
    self->producer = producer;
    snprintf (self->topic, sizeof self->topic, "%s", topic);
    self->cursor = position;
    self->dirty = true;
    if (rc == JOBD_ENOTFOUND) {
        //  The first start on this store: the topic carries transitions from now on.
        if (partition < 0)
            host->log (host, JOBD_LOG_INFO, "transitions go to %s from log position %llu", topic,
                       (unsigned long long)head + 1);
        else
            host->log (host, JOBD_LOG_INFO, "transitions of partition %d go to %s from %llu",
                       partition, topic, (unsigned long long)head);
        position = head;
        s_send_cursor (self, head);
    } else if (*topic && head > position && partition < 0)
        host->log (host, JOBD_LOG_INFO, "%llu transitions wait for %s since the last run",
                   (unsigned long long)(head - position), topic);
    //  A partition's outbox counts its transitions from 0; its cursor stays where it is until
    //  the first is delivered.
    self->outbox = kl_outbox_new (partition < 0 ? position : 0);
    if (partition >= 0)
        self->ring[0] = position;
    if (!self->outbox)
        s_source_destroy (&self);
    return self;
}

static void
s_source_destroy (s_source_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kl_outbox_destroy (&(*self_p)->outbox);
    kl_json_fini (&(*self_p)->json);
    msgpack_zone_free ((*self_p)->zone);
    free ((*self_p)->ring);
    free (*self_p);
    *self_p = NULL;
}

void
kl_forward_poke (kl_forward_t *self)
{
    if (!self)
        return;
    if (self->log)
        self->log->dirty = true;
    for (uint32_t part = 0; self->parts && part < self->partitions; part++)
        if (self->parts[part])
            self->parts[part]->dirty = true;
}

//  The fields of a transition the outbound topic carries, read in place from the log's msgpack
//  (decoding a whole event, a copy of every string, was a tenth of the plugin's time).
enum {
    S_JOB,
    S_FROM,
    S_STATE,
    S_NAME,
    S_KIND,
    S_BACKEND,
    S_EXT,
    S_ERROR,
    S_SRC,
    S_CAUSE,
    S_TYPE,
    S_TEXTS
};
enum { S_SEQ, S_ATTEMPT, S_TS, S_NUMBERS };
static const char *s_text_keys[S_TEXTS] = {"job", "from",  "state", "name",  "kind", "backend",
                                           "ext", "error", "src",   "cause", "type"};
static const char *s_number_keys[S_NUMBERS] = {"seq", "attempt", "ts"};

typedef struct {
    const char *text[S_TEXTS]; //  NULL: absent
    uint32_t size[S_TEXTS];
    int64_t number[S_NUMBERS]; //  0: absent
} s_fields_t;

//  The field a key names, among count names, or count.
static size_t
s_field (const msgpack_object *key, const char *const *names, size_t count)
{
    for (size_t field = 0; field < count; field++)
        if (names[field][0] == key->via.str.ptr[0] && key->via.str.size == strlen (names[field]) &&
            !memcmp (key->via.str.ptr, names[field], key->via.str.size))
            return field;
    return count;
}

//  Reads a transition from the log: false when it is not one (a damaged store).
static bool
s_read (const msgpack_object *map, s_fields_t *fields)
{
    memset (fields, 0, sizeof *fields);
    if (map->type != MSGPACK_OBJECT_MAP)
        return false;
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object *key = &map->via.map.ptr[index].key;
        const msgpack_object *value = &map->via.map.ptr[index].val;
        if (key->type != MSGPACK_OBJECT_STR || key->via.str.size == 0 ||
            value->type == MSGPACK_OBJECT_NIL)
            continue;
        size_t field = s_field (key, s_text_keys, S_TEXTS);
        if (field < S_TEXTS) {
            if (value->type != MSGPACK_OBJECT_STR)
                return false;
            fields->text[field] = value->via.str.ptr;
            fields->size[field] = value->via.str.size;
            continue;
        }
        field = s_field (key, s_number_keys, S_NUMBERS);
        if (field < S_NUMBERS) {
            if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= INT64_MAX)
                fields->number[field] = (int64_t)value->via.u64;
            else if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && field == S_TS)
                fields->number[field] = value->via.i64;
            else
                return false;
        }
    }
    jobd_state_t state;
    bool from_ok = !fields->text[S_FROM] ||
                   jobd_state_parse (fields->text[S_FROM], fields->size[S_FROM], &state) == 0 ||
                   (fields->size[S_FROM] == 4 && !memcmp (fields->text[S_FROM], "NONE", 4));
    return from_ok && fields->text[S_JOB] && fields->size[S_JOB] > 0 && fields->text[S_STATE] &&
           jobd_state_parse (fields->text[S_STATE], fields->size[S_STATE], &state) == 0 &&
           fields->number[S_SEQ] > 0;
}

//  One transition as JSON: the object jansson's json_pack and json_dumps made before, written
//  straight into the forwarder's buffer (they cost a third of the plugin's time at full speed).
//  A string that is not UTF-8 (stored by an older jobd) is written with U+FFFD for its invalid
//  bytes, and *replaced set: never dropped. NULL when out of memory.
static const char *
s_json (s_source_t *self, const s_fields_t *fields, bool *replaced)
{
    kl_json_t *json = &self->json;
    kl_json_begin (json);
    const char *from = fields->text[S_FROM] ? fields->text[S_FROM] : "NONE";
    size_t from_size = fields->text[S_FROM] ? fields->size[S_FROM] : 4;
    bool exact = kl_json_string_n (json, "job", fields->text[S_JOB], fields->size[S_JOB]);
    exact = kl_json_string_n (json, "from", from, from_size) && exact;
    exact = kl_json_string_n (json, "state", fields->text[S_STATE], fields->size[S_STATE]) && exact;
    for (size_t field = 0; field < S_NUMBERS; field++)
        kl_json_integer (json, s_number_keys[field], fields->number[field]);
    for (size_t field = S_NAME; field < S_TEXTS; field++)
        if (fields->text[field])
            exact = kl_json_string_n (json, s_text_keys[field], fields->text[field],
                                      fields->size[field]) &&
                    exact;
    *replaced = !exact;
    return kl_json_end (json);
}

//  The log jumps to position: jobd dropped the entries before it (our cursor was removed while
//  we were behind: jobctl cursors drop, or core/cursor_idle_max). They cannot be sent; said once,
//  and the outbox moves past them once what is in flight is delivered. Returns false to wait.
static bool
s_skip_gap (s_source_t *self, uint64_t position)
{
    uint64_t from = kl_outbox_sent_upto (self->outbox) + 1;
    if (!kl_outbox_skip_to (self->outbox, position)) {
        self->full = true; //  read again once the deliveries in flight are in
        return false;
    }
    self->host->log (self->host, JOBD_LOG_WARN,
                     "transition log positions %llu to %llu were dropped by jobd before they were "
                     "sent (the cursor was removed while behind): they are not on the topic",
                     (unsigned long long)from, (unsigned long long)position - 1);
    return true;
}

//  One transition as the outbound topic carries it: JSON, keyed by job id.
static bool
s_produce (uint64_t position, const uint8_t *data, size_t size, void *arg)
{
    s_source_t *self = (s_source_t *)arg;
    //  A partition's reader counts its transitions (n) and keeps each one's position.
    uint64_t n = position;
    if (self->partition >= 0) {
        //  A read may go past its max to end a changelog record: with the outbox full, it stops
        //  here (the record is read whole again), before the ring's slot of the oldest transition
        //  in flight is taken.
        if (kl_outbox_room (self->outbox) == 0) {
            self->full = true;
            return false;
        }
        n = kl_outbox_sent_upto (self->outbox) + 1;
        self->ring[n % S_RING] = position;
    } else if (position > kl_outbox_sent_upto (self->outbox) + 1 && !s_skip_gap (self, position))
        return false;
    msgpack_object map;
    s_fields_t fields;
    const char *text = NULL;
    //  Read in place: the entry stays put while the log is read.
    bool replaced = false;
    bool read = jobd_msgpack_unpack_in (data, size, self->zone, &map, NULL, 0) == 0 &&
                s_read (&map, &fields);
    if (read && fields.text[S_TYPE] &&
        !(fields.size[S_TYPE] == 10 && !memcmp (fields.text[S_TYPE], "transition", 10))) {
        //  The log's other events (stale) are not transitions: the topic carries transitions
        //  only (a job's stale flag is on its record, and live on jobd's `stale.` topic).
        kl_outbox_sent (self->outbox, n);
        kl_outbox_done (self->outbox, n);
        return true;
    }
    //  Cluster mode: every instance logs every transition; the one acting on the job sends those
    //  committed under its claim (what came before, its previous owner sent). A partition's
    //  reader sends what its cursor did not pass, whoever committed it.
    char job[JOBD_ID_MAX + 1];
    if (read && JOBD_HOST_HAS (self->host, instance) && self->host->instance &&
        fields.text[S_JOB] && fields.size[S_JOB] < sizeof job) {
        memcpy (job, fields.text[S_JOB], fields.size[S_JOB]);
        job[fields.size[S_JOB]] = 0;
        if (self->partition < 0 && !jobd_host_acting_at (self->host, job, position)) {
            kl_outbox_sent (self->outbox, n);
            kl_outbox_done (self->outbox, n);
            return true;
        }
    }
    if (read)
        text = s_json (self, &fields, &replaced);
    if (text && replaced)
        self->host->log (self->host, JOBD_LOG_WARN,
                         "transition log position %llu (job %.*s): a string is not valid UTF-8 "
                         "(stored by an older jobd): its invalid bytes go out as U+FFFD",
                         (unsigned long long)position, (int)fields.size[S_JOB], fields.text[S_JOB]);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__BAD_MSG;
    char where[21];
    kl_json_format_integer (where, (int64_t)position);
    if (text)
        err = rd_kafka_producev (
            self->producer, RD_KAFKA_V_TOPIC (self->topic),
            RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY (fields.text[S_JOB], fields.size[S_JOB]),
            RD_KAFKA_V_VALUE ((void *)text, self->json.size),
            RD_KAFKA_V_HEADER ("jobd-position", where, -1),
            RD_KAFKA_V_OPAQUE ((void *)(uintptr_t)((uint64_t)(self->partition + 1) << S_OP_PART |
                                                   (uint64_t)self->gen << S_OP_SHIFT | n)),
            RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        self->full = true; //  it stays in the log: sent once the queue drains
        return false;
    }
    kl_outbox_sent (self->outbox, n);
    if (err) {
        //  A transition that does not decode (a damaged store) or that the producer refuses
        //  outright: said and counted, not retried for ever.
        self->failed++;
        self->host->log (self->host, JOBD_LOG_ERROR, "transition log position %llu not sent: %s",
                         (unsigned long long)position,
                         text ? rd_kafka_err2str (err) : "it does not decode (or out of memory)");
        kl_outbox_done (self->outbox, n);
    }
    return true;
}

//  The cursor position a reader may move to: its log position, or for a partition's reader the
//  position of the last transition of its delivered run.
static uint64_t
s_done (const s_source_t *self)
{
    uint64_t done = kl_outbox_done_upto (self->outbox);
    return self->partition < 0 ? done : self->ring[done % S_RING];
}

static void
s_source_pump (s_source_t *self, bool force)
{
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
    //  A partition's read does not end inside a changelog record: room is kept for the rest.
    if (self->partition >= 0)
        room = room > S_RECORD ? room - S_RECORD : 0;
    if (self->dirty && room > 0) {
        size_t max = room < S_READ_MAX ? room : S_READ_MAX;
        self->full = false;
        //  A partition's reader reads on from the position of its last transition sent.
        uint64_t after = kl_outbox_sent_upto (self->outbox);
        int read = self->partition < 0
                       ? self->host->log_read (self->host, after, max, s_produce, self)
                       : self->host->plog_read (self->host, (uint32_t)self->partition,
                                                self->ring[after % S_RING], max, s_produce, self);
        if (read < 0)
            self->host->log (self->host, JOBD_LOG_ERROR, "cannot read the transition log: %s",
                             jobd_strerror (read));
        //  A full read may have left more behind; a short one read everything committed.
        self->dirty = read >= (int)max || self->full;
    }
    uint64_t done = s_done (self);
    if (done > self->cursor && (force || done - self->cursor >= S_CURSOR_EVERY ||
                                zclock_mono () - self->cursor_at >= S_CURSOR_INTERVAL))
        s_send_cursor (self, done);
}

static void
s_source_delivered (s_source_t *self, const rd_kafka_message_t *message, uint64_t position)
{
    if (message->err) {
        //  message.timeout.ms is 0: only a permanent error ends a message.
        self->failed++;
        self->host->log (self->host, JOBD_LOG_ERROR, "transition log position %llu not sent: %s",
                         (unsigned long long)position, rd_kafka_err2str (message->err));
    } else
        self->forwarded++;
    kl_outbox_done (self->outbox, position);
}

//  ---------------------------------------------------------------------------------------------
//  The forwarder: the log's reader, and in a cluster a reader per owned partition.

kl_forward_t *
kl_forward_new (const jobd_host_t *host, zsock_t *bus, rd_kafka_t *producer, const char *topic)
{
    //  Cluster mode (ABI 1.9): the partitions' readers send; the log's reader only moves an
    //  earlier cursor along, so that the log does not grow.
    uint32_t partitions = JOBD_HOST_HAS (host, plog_cursor) && host->partition_acting &&
                                  host->plog_read && host->plog_cursor && *topic
                              ? host->partitions
                              : 0;
    s_source_t *log = s_source_new (host, bus, producer, partitions ? "" : topic, -1, 0);
    if (!log && !partitions)
        return NULL;
    kl_forward_t *self = (kl_forward_t *)zmalloc (sizeof (kl_forward_t));
    self->host = host;
    self->bus = bus;
    self->producer = producer;
    snprintf (self->topic, sizeof self->topic, "%s", topic);
    self->log = log;
    self->partitions = partitions;
    if (partitions) {
        self->parts = (s_source_t **)calloc (partitions, sizeof (s_source_t *));
        self->gens = (unsigned *)calloc (partitions, sizeof (unsigned));
    }
    if (partitions && (!self->parts || !self->gens)) {
        kl_forward_destroy (&self);
        return NULL;
    }
    return self;
}

//  Ends a partition's reader; its counts stay in the forwarder's. What it has in flight is
//  delivered all the same, and counted nowhere (its opaque names a reader that is gone).
static void
s_part_end (kl_forward_t *self, uint32_t part)
{
    if (!self->parts[part])
        return;
    self->forwarded_gone += self->parts[part]->forwarded;
    self->failed_gone += self->parts[part]->failed;
    s_source_destroy (&self->parts[part]);
}

void
kl_forward_destroy (kl_forward_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kl_forward_t *self = *self_p;
    s_source_destroy (&self->log);
    for (uint32_t part = 0; self->parts && part < self->partitions; part++)
        s_part_end (self, part);
    free (self->parts);
    free (self->gens);
    free (self);
    *self_p = NULL;
}

void
kl_forward_pump (kl_forward_t *self, bool force)
{
    if (!self)
        return;
    if (self->log)
        s_source_pump (self->log, force);
    //  A reader for each partition this instance owns now, none for the others.
    const jobd_host_t *host = self->host;
    for (uint32_t part = 0; self->parts && part < self->partitions; part++) {
        bool owned = host->partition_acting (host, part) != 0;
        if (owned && !self->parts[part]) {
            self->parts[part] = s_source_new (host, self->bus, self->producer, self->topic,
                                              (int)part, self->gens[part] + 1);
            if (self->parts[part])
                self->gens[part]++;
        } else if (!owned)
            s_part_end (self, part);
        if (self->parts[part])
            s_source_pump (self->parts[part], force);
    }
}

void
kl_forward_delivered (kl_forward_t *self, const rd_kafka_message_t *message)
{
    uint64_t opaque = (uint64_t)(uintptr_t)message->_private;
    if (!self || opaque == 0)
        return; //  a dead letter
    uint64_t n = opaque & S_OP_N;
    unsigned gen = (unsigned)((opaque >> S_OP_SHIFT) & 0xffff);
    uint64_t part = opaque >> S_OP_PART;
    if (part == 0 && self->log)
        s_source_delivered (self->log, message, opaque);
    else if (part > 0 && part <= self->partitions && self->parts[part - 1] &&
             self->parts[part - 1]->gen == gen)
        s_source_delivered (self->parts[part - 1], message, n);
}

void
kl_forward_counts (const kl_forward_t *self, uint64_t *waiting, uint64_t *forwarded,
                   uint64_t *failed)
{
    *waiting = *forwarded = *failed = 0;
    if (!self)
        return;
    *forwarded = self->forwarded_gone;
    *failed = self->failed_gone;
    for (uint32_t part = 0; part <= self->partitions; part++) {
        const s_source_t *one = part == 0 ? self->log : self->parts[part - 1];
        if (!one)
            continue;
        *waiting += kl_outbox_sent_upto (one->outbox) - kl_outbox_done_upto (one->outbox);
        *forwarded += one->forwarded;
        *failed += one->failed;
    }
}
