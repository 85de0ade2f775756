//  kafka-listener: dead letters until Kafka confirms them (see kl_dead.h).
#include "kl_dead.h"
#include "jobd_utf8.h"
#include "kl_json.h"
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LETTERS_MAX 1024                //  unconfirmed letters before consuming pauses
#define S_BYTES_MAX   (64u * 1024 * 1024) //  their bytes, likewise
#define S_HEAD_MAX    (64 * 1024)         //  bytes kept of a payload too large for the topic
#define S_HEAD_SMALL  1024                //  the same, when the broker refused that too
#define S_KEY_MAX     1024                //  key bytes kept in a cut form
#define S_RECORD      512                 //  a record's framing, with room to spare
#define S_HEADER      16                  //  a header's framing, next to its name and value
#define S_RETRY_FIRST 500                 //  ms before a failed letter is sent again, doubled
#define S_RETRY_MAX   30000               //  up to this
#define S_STUCK_MAX   64                  //  partitions held by letters jobd had no memory for

//  The forms a letter takes, each smaller: whole, its head, a small head, headers only.
typedef enum { S_WHOLE, S_HEAD, S_SMALL, S_BARE } s_form_t;

typedef struct s_letter_t {
    struct s_letter_t *next;
    kl_dead_source_t source;
    char where[320]; //  topic/partition/offset, the jobd-source header
    char *key;
    size_t key_size;
    char *value; //  NULL with value_size > 0: not kept (out of memory), only its SHA-256
    size_t value_size;
    char reason[512];
    s_form_t form;
    char why[300];   //  what refused the whole letter
    char sha256[65]; //  of the whole value, hex; "" until a cut form needs it
    char cut[1300];  //  the reason of a cut form
    char size_text[21], kept_text[21];
    unsigned tries;   //  failed deliveries
    int64_t retry_at; //  0: in flight; else when to send it again (zclock_mono)
} s_letter_t;

struct _kl_dead_t {
    const jobd_host_t *host;
    rd_kafka_t *producer;
    char topic[256];
    size_t limit;        //  the producer's message.max.bytes
    s_letter_t *letters; //  unconfirmed
    size_t count, bytes;
    kl_dead_source_t stuck[S_STUCK_MAX];
    size_t stuck_count;
    bool all_stuck; //  more stuck than fit: every partition held
    uint64_t confirmed;
};

kl_dead_t *
kl_dead_new (const jobd_host_t *host, rd_kafka_t *producer, const char *topic)
{
    kl_dead_t *self = (kl_dead_t *)calloc (1, sizeof (kl_dead_t));
    if (!self)
        return NULL;
    self->host = host;
    self->producer = producer;
    snprintf (self->topic, sizeof self->topic, "%s", topic);
    char text[32] = "";
    size_t size = sizeof text;
    self->limit = 1000000; //  librdkafka's default
    if (producer && rd_kafka_conf_get (rd_kafka_conf (producer), "message.max.bytes", text,
                                       &size) == RD_KAFKA_CONF_OK)
        self->limit = (size_t)strtoull (text, NULL, 10);
    return self;
}

static void
s_letter_free (s_letter_t *letter)
{
    free (letter->key);
    free (letter->value);
    free (letter);
}

void
kl_dead_destroy (kl_dead_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kl_dead_t *self = *self_p;
    while (self->letters) {
        s_letter_t *next = self->letters->next;
        s_letter_free (self->letters);
        self->letters = next;
    }
    free (self);
    *self_p = NULL;
}

static void
s_sha256 (const void *data, size_t size, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!EVP_Digest (data, size, digest, &length, EVP_sha256 (), NULL) || length != 32) {
        snprintf (hex, 65, "unknown");
        return;
    }
    for (unsigned int index = 0; index < 32; index++)
        snprintf (hex + index * 2, 3, "%02x", digest[index]);
}

//  Sends the letter again after a pause that grows with each failure.
static void
s_later (kl_dead_t *self, s_letter_t *letter, const char *why)
{
    letter->tries++;
    int64_t pause = S_RETRY_FIRST;
    for (unsigned index = 1; index < letter->tries && pause < S_RETRY_MAX; index++)
        pause *= 2;
    if (pause > S_RETRY_MAX)
        pause = S_RETRY_MAX;
    letter->retry_at = zclock_mono () + pause;
    self->host->log (self->host, JOBD_LOG_WARN,
                     "the dead letter of %s is not stored in %s yet: %s; trying again in %lld ms "
                     "(the offset waits below it)",
                     letter->where, self->topic, why, (long long)pause);
}

//  The longest reason of a cut form: a quarter of what the producer takes, so that headers
//  never crowd out a letter under a small message.max.bytes.
static size_t
s_reason_max (const kl_dead_t *self, const s_letter_t *letter)
{
    size_t max = self->limit / 4;
    return max < sizeof letter->cut - 1 ? max : sizeof letter->cut - 1;
}

//  The headers of the letter's form (a cut form's reason at most reason_max bytes). NULL when
//  out of memory.
static rd_kafka_headers_t *
s_headers (s_letter_t *letter, size_t kept, size_t reason_max)
{
    rd_kafka_headers_t *headers = rd_kafka_headers_new (5);
    if (!headers)
        return NULL;
    if (letter->form == S_WHOLE) {
        rd_kafka_header_add (headers, "jobd-reason", -1, letter->reason, -1);
        rd_kafka_header_add (headers, "jobd-source", -1, letter->where, -1);
        return headers;
    }
    snprintf (letter->cut, sizeof letter->cut,
              "%s; the payload (%zu bytes, SHA-256 %s) is too large for the dead-letter topic "
              "(%s): only its first %zu bytes are kept here",
              letter->reason, letter->value_size, letter->sha256, letter->why, kept);
    letter->cut[jobd_utf8_cut (letter->cut, strlen (letter->cut), reason_max)] = 0;
    kl_json_format_integer (letter->size_text, (int64_t)letter->value_size);
    kl_json_format_integer (letter->kept_text, (int64_t)kept);
    rd_kafka_header_add (headers, "jobd-reason", -1, letter->cut, -1);
    rd_kafka_header_add (headers, "jobd-source", -1, letter->where, -1);
    rd_kafka_header_add (headers, "jobd-size", -1, letter->size_text, -1);
    rd_kafka_header_add (headers, "jobd-sha256", -1, letter->sha256, -1);
    rd_kafka_header_add (headers, "jobd-kept", -1, letter->kept_text, -1);
    return headers;
}

//  Produces the letter in its form, or in a smaller one when the producer refuses it as too
//  large; a failure of another kind is tried again later. The bytes are the letter's own, not
//  copied: it lives until its delivery report.
static void
s_produce (kl_dead_t *self, s_letter_t *letter)
{
    //  What librdkafka counts against message.max.bytes: key, value, headers, framing.
    size_t where_size = strlen (letter->where);
    size_t whole = letter->value_size + letter->key_size + strlen (letter->reason) + where_size +
                   2 * S_HEADER + 22 + S_RECORD;
    if (letter->form == S_WHOLE && !letter->value && letter->value_size > 0) {
        snprintf (letter->why, sizeof letter->why, "jobd had no memory to keep it");
        letter->form = S_BARE;
    } else if (letter->form == S_WHOLE && whole > self->limit) {
        snprintf (letter->why, sizeof letter->why,
                  "over the dead-letter producer's message.max.bytes of %zu", self->limit);
        letter->form = S_HEAD;
    }
    while (true) {
        size_t kept = letter->value_size, key_size = letter->key_size;
        size_t reason_max = s_reason_max (self, letter);
        if (letter->form != S_WHOLE) {
            if (key_size > S_KEY_MAX)
                key_size = S_KEY_MAX;
            if (key_size > self->limit / 8)
                key_size = self->limit / 8;
            //  The headers of a cut form at their longest: reason, source, size, SHA-256, kept.
            size_t used =
                key_size + reason_max + where_size + 20 + 64 + 20 + 5 * S_HEADER + 58 + S_RECORD;
            size_t room = self->limit > used ? self->limit - used : 0;
            size_t cap = letter->form == S_HEAD    ? S_HEAD_MAX
                         : letter->form == S_SMALL ? S_HEAD_SMALL
                                                   : 0;
            cap = cap < room ? cap : room;
            kept = !letter->value ? 0 : kept > cap ? cap : kept;
            if (!letter->sha256[0])
                s_sha256 (letter->value, letter->value_size, letter->sha256);
        }
        rd_kafka_headers_t *headers = s_headers (letter, kept, reason_max);
        if (!headers) {
            s_later (self, letter, "out of memory");
            return;
        }
        rd_kafka_resp_err_t err = rd_kafka_producev (
            self->producer, RD_KAFKA_V_TOPIC (self->topic), RD_KAFKA_V_MSGFLAGS (0),
            RD_KAFKA_V_KEY (letter->key, key_size), RD_KAFKA_V_VALUE (letter->value, kept),
            RD_KAFKA_V_HEADERS (headers), RD_KAFKA_V_OPAQUE (letter), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            letter->retry_at = 0;
            return;
        }
        rd_kafka_headers_destroy (headers); //  not taken by a refused producev
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && letter->form < S_BARE) {
            if (letter->form == S_WHOLE)
                snprintf (letter->why, sizeof letter->why,
                          "the dead-letter producer refused it: %s", rd_kafka_err2str (err));
            letter->form++;
            continue;
        }
        s_later (self, letter, rd_kafka_err2str (err));
        return;
    }
}

static void
s_stuck (kl_dead_t *self, const kl_dead_source_t *source)
{
    if (self->stuck_count < S_STUCK_MAX)
        self->stuck[self->stuck_count++] = *source;
    else
        self->all_stuck = true;
}

int
kl_dead_send (kl_dead_t *self, const rd_kafka_message_t *message, const char *reason)
{
    kl_dead_source_t source = {"", message->partition, message->offset};
    snprintf (source.topic, sizeof source.topic, "%s", rd_kafka_topic_name (message->rkt));
    s_letter_t *letter = (s_letter_t *)calloc (1, sizeof (s_letter_t));
    if (!letter) {
        //  Not sent: its offset must never be passed. Held until the next start reads it again.
        s_stuck (self, &source);
        self->host->log (self->host, JOBD_LOG_ERROR,
                         "%s/%d/%lld cannot be dead-lettered (out of memory): its partition's "
                         "offset stays below it until the next start (%s)",
                         source.topic, (int)source.partition, (long long)source.offset, reason);
        return -ENOMEM;
    }
    letter->source = source;
    snprintf (letter->where, sizeof letter->where, "%s/%d/%lld", source.topic,
              (int)source.partition, (long long)source.offset);
    snprintf (letter->reason, sizeof letter->reason, "%s", reason);
    if (message->key_len && (letter->key = (char *)malloc (message->key_len))) {
        memcpy (letter->key, message->key, message->key_len);
        letter->key_size = message->key_len;
    }
    letter->value_size = message->len;
    if (message->len && (letter->value = (char *)malloc (message->len)))
        memcpy (letter->value, message->payload, message->len);
    else if (message->len) //  no copy: only its hash and size can go, computed now
        s_sha256 (message->payload, message->len, letter->sha256);
    letter->next = self->letters;
    self->letters = letter;
    self->count++;
    self->bytes += letter->key_size + (letter->value ? letter->value_size : 0);
    s_produce (self, letter);
    return 0;
}

static void
s_remove (kl_dead_t *self, s_letter_t *letter)
{
    s_letter_t **link = &self->letters;
    while (*link && *link != letter)
        link = &(*link)->next;
    if (!*link)
        return;
    *link = letter->next;
    self->count--;
    self->bytes -= letter->key_size + (letter->value ? letter->value_size : 0);
    s_letter_free (letter);
}

bool
kl_dead_delivered (kl_dead_t *self, const rd_kafka_message_t *report, kl_dead_source_t *source)
{
    s_letter_t *letter = (s_letter_t *)report->_private;
    if (!self || !letter)
        return false;
    if (report->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        *source = letter->source;
        self->confirmed++;
        if (letter->form == S_WHOLE)
            self->host->log (self->host, JOBD_LOG_WARN, "dead-lettered %s: %s", letter->where,
                             letter->reason);
        else
            self->host->log (self->host, JOBD_LOG_WARN, "dead-lettered %s: %s", letter->where,
                             letter->cut);
        s_remove (self, letter);
        return true;
    }
    if ((report->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
         report->err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE) &&
        letter->form < S_BARE) {
        //  The broker's limit (its message.max.bytes, the topic's max.message.bytes): smaller.
        if (letter->form == S_WHOLE)
            snprintf (letter->why, sizeof letter->why, "Kafka refused it: %s",
                      rd_kafka_err2str (report->err));
        letter->form++;
        s_produce (self, letter);
        return false;
    }
    s_later (self, letter, rd_kafka_err2str (report->err));
    return false;
}

void
kl_dead_retry (kl_dead_t *self)
{
    if (!self || !self->letters)
        return;
    int64_t now = zclock_mono ();
    for (s_letter_t *letter = self->letters; letter; letter = letter->next)
        if (letter->retry_at && letter->retry_at <= now)
            s_produce (self, letter);
}

int64_t
kl_dead_floor (const kl_dead_t *self, const char *topic, int32_t partition)
{
    if (self->all_stuck)
        return 0;
    int64_t floor = INT64_MAX;
    for (const s_letter_t *letter = self->letters; letter; letter = letter->next)
        if (letter->source.offset < floor && letter->source.partition == partition &&
            strcmp (letter->source.topic, topic) == 0)
            floor = letter->source.offset;
    for (size_t index = 0; index < self->stuck_count; index++)
        if (self->stuck[index].offset < floor && self->stuck[index].partition == partition &&
            strcmp (self->stuck[index].topic, topic) == 0)
            floor = self->stuck[index].offset;
    return floor;
}

size_t
kl_dead_waiting (const kl_dead_t *self)
{
    return self->count + self->stuck_count + (self->all_stuck ? 1 : 0);
}

bool
kl_dead_full (const kl_dead_t *self)
{
    return self->count >= S_LETTERS_MAX || self->bytes >= S_BYTES_MAX;
}

uint64_t
kl_dead_confirmed (const kl_dead_t *self)
{
    return self->confirmed;
}
