//  kafka_mock: one librdkafka mock cluster on loopback, and the text commands that steer it.
#include "kafka_mock.h"
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kafka_mock_t {
    rd_kafka_t *rk;              //  The handle the cluster lives in; it never connects anywhere
    rd_kafka_mock_cluster_t *mc; //  Owned by us, destroyed before rk
    int broker_cnt;
};

//  The most words a command has ("leader <topic> <partition> <broker>" has four).
#define S_WORDS_MAX 6

static void
s_log (const rd_kafka_t *rk, int level, const char *facility, const char *message)
{
    //  Our own handle never connects, so librdkafka's warning that it has no bootstrap.servers
    //  is noise.
    if (!strcmp (facility, "CONFWARN") && strstr (message, "bootstrap.servers"))
        return;
    //  stdout carries the bootstrap line and the answers; everything else goes to stderr.
    fprintf (stderr, "kafka-mock: librdkafka %d %s: %s\n", level, facility, message);
}

kafka_mock_t *
kafka_mock_new (int broker_cnt, char *reason, size_t reason_size)
{
    if (broker_cnt < 1 || broker_cnt > KAFKA_MOCK_BROKERS_MAX) {
        snprintf (reason, reason_size, "broker count %d is not in 1..%d", broker_cnt,
                  KAFKA_MOCK_BROKERS_MAX);
        return NULL;
    }
    kafka_mock_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (reason, reason_size, "out of memory");
        return NULL;
    }
    self->broker_cnt = broker_cnt;

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    rd_kafka_conf_set_log_cb (conf, s_log);
    if (rd_kafka_conf_set (conf, "client.id", "kafka-mock", errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
        snprintf (reason, reason_size, "librdkafka config: %s", errstr);
        rd_kafka_conf_destroy (conf);
        free (self);
        return NULL;
    }
    //  rd_kafka_new owns conf from here on, also when it fails.
    self->rk = rd_kafka_new (RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!self->rk) {
        snprintf (reason, reason_size, "cannot create the librdkafka handle: %s", errstr);
        free (self);
        return NULL;
    }
    self->mc = rd_kafka_mock_cluster_new (self->rk, broker_cnt);
    if (!self->mc) {
        snprintf (reason, reason_size,
                  "cannot start the mock cluster (%d brokers): see librdkafka's log above",
                  broker_cnt);
        kafka_mock_destroy (&self);
        return NULL;
    }
    return self;
}

void
kafka_mock_destroy (kafka_mock_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    kafka_mock_t *self = *self_p;
    if (self->mc)
        rd_kafka_mock_cluster_destroy (self->mc);
    if (self->rk)
        rd_kafka_destroy (self->rk);
    free (self);
    *self_p = NULL;
}

const char *
kafka_mock_bootstraps (kafka_mock_t *self)
{
    return rd_kafka_mock_cluster_bootstraps (self->mc);
}

bool
kafka_mock_topic_name_valid (const char *name)
{
    size_t length = strlen (name);
    if (length == 0 || length > KAFKA_MOCK_TOPIC_MAX || !strcmp (name, ".") || !strcmp (name, ".."))
        return false;
    return strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
           length;
}

int
kafka_mock_topic_create (kafka_mock_t *self, const char *name, int partitions, char *reason,
                         size_t reason_size)
{
    if (!kafka_mock_topic_name_valid (name)) {
        snprintf (reason, reason_size, "topic name '%.64s' is not [A-Za-z0-9._-]{1,%d}", name,
                  KAFKA_MOCK_TOPIC_MAX);
        return -1;
    }
    if (partitions < 1 || partitions > KAFKA_MOCK_PARTITIONS_MAX) {
        snprintf (reason, reason_size, "partition count %d is not in 1..%d", partitions,
                  KAFKA_MOCK_PARTITIONS_MAX);
        return -1;
    }
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create (self->mc, name, partitions, self->broker_cnt);
    if (err) {
        snprintf (reason, reason_size, "topic %s: %s", name, rd_kafka_err2str (err));
        return -1;
    }
    return 0;
}

//  Parses a whole decimal integer in [min, max]. Returns true and sets *value_p.
static bool
s_parse_int (const char *text, long min, long max, long *value_p)
{
    if (!text || !*text)
        return false;
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || *end || value < min || value > max)
        return false;
    *value_p = value;
    return true;
}

//  Parses a broker id: 1..broker_cnt, or "all" (-1, which librdkafka takes as every broker).
static bool
s_parse_broker (kafka_mock_t *self, const char *text, long *broker_p)
{
    if (text && !strcmp (text, "all")) {
        *broker_p = -1;
        return true;
    }
    return s_parse_int (text, 1, self->broker_cnt, broker_p);
}

//  Writes "error <reason>" into reply. Returns -1.
static int s_refuse (char *reply, size_t reply_size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_refuse (char *reply, size_t reply_size, const char *format, ...)
{
    char reason[300];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    snprintf (reply, reply_size, "error %s", reason);
    return -1;
}

static int
s_answer (rd_kafka_resp_err_t err, char *reply, size_t reply_size, const char *done)
{
    if (err) {
        snprintf (reply, reply_size, "error %s", rd_kafka_err2str (err));
        return -1;
    }
    snprintf (reply, reply_size, "ok %s", done);
    return 0;
}

static int
s_broker_command (kafka_mock_t *self, char **word, int word_cnt, char *reply, size_t reply_size)
{
    long broker, rtt = 0;
    bool is_rtt = !strcmp (word[0], "rtt");
    if (word_cnt != (is_rtt ? 3 : 2))
        return s_refuse (reply, reply_size, "usage: %s <broker id|all>%s", word[0],
                         is_rtt ? " <ms>" : "");
    if (!s_parse_broker (self, word[1], &broker))
        return s_refuse (reply, reply_size, "broker id '%.32s' is not in 1..%d or all", word[1],
                         self->broker_cnt);
    if (is_rtt && !s_parse_int (word[2], 0, INT_MAX, &rtt))
        return s_refuse (reply, reply_size, "rtt '%.32s' is not a number of milliseconds", word[2]);
    rd_kafka_resp_err_t err;
    char done[128];
    if (is_rtt) {
        err = rd_kafka_mock_broker_set_rtt (self->mc, (int32_t)broker, (int)rtt);
        snprintf (done, sizeof done, "broker %s rtt %ld ms", word[1], rtt);
    } else if (!strcmp (word[0], "down")) {
        err = rd_kafka_mock_broker_set_down (self->mc, (int32_t)broker);
        snprintf (done, sizeof done, "broker %s down", word[1]);
    } else {
        err = rd_kafka_mock_broker_set_up (self->mc, (int32_t)broker);
        snprintf (done, sizeof done, "broker %s up", word[1]);
    }
    return s_answer (err, reply, reply_size, done);
}

static int
s_topic_command (kafka_mock_t *self, char **word, int word_cnt, char *reply, size_t reply_size)
{
    long partitions;
    if (word_cnt != 3)
        return s_refuse (reply, reply_size, "usage: topic <name> <partitions>");
    if (!s_parse_int (word[2], 1, KAFKA_MOCK_PARTITIONS_MAX, &partitions))
        return s_refuse (reply, reply_size, "partition count '%.32s' is not in 1..%d", word[2],
                         KAFKA_MOCK_PARTITIONS_MAX);
    char reason[256];
    if (kafka_mock_topic_create (self, word[1], (int)partitions, reason, sizeof reason)) {
        snprintf (reply, reply_size, "error %s", reason);
        return -1;
    }
    snprintf (reply, reply_size, "ok topic %s partitions %ld", word[1], partitions);
    return 0;
}

static int
s_leader_command (kafka_mock_t *self, char **word, int word_cnt, char *reply, size_t reply_size)
{
    long partition, broker;
    if (word_cnt != 4)
        return s_refuse (reply, reply_size, "usage: leader <topic> <partition> <broker id|none>");
    if (!kafka_mock_topic_name_valid (word[1]))
        return s_refuse (reply, reply_size, "topic name '%.64s' is not valid", word[1]);
    if (!s_parse_int (word[2], 0, KAFKA_MOCK_PARTITIONS_MAX - 1, &partition))
        return s_refuse (reply, reply_size, "partition '%.32s' is not a partition number", word[2]);
    //  "none" leaves the partition without a leader, which librdkafka spells -1.
    if (!strcmp (word[3], "none"))
        broker = -1;
    else if (!s_parse_int (word[3], 1, self->broker_cnt, &broker))
        return s_refuse (reply, reply_size, "broker id '%.32s' is not in 1..%d", word[3],
                         self->broker_cnt);
    char done[400];
    snprintf (done, sizeof done, "topic %s partition %ld leader %s", word[1], partition, word[3]);
    return s_answer (
        rd_kafka_mock_partition_set_leader (self->mc, word[1], (int32_t)partition, (int32_t)broker),
        reply, reply_size, done);
}

static int
s_coordinator_command (kafka_mock_t *self, char **word, int word_cnt, char *reply,
                       size_t reply_size)
{
    long broker;
    if (word_cnt != 4 || (strcmp (word[1], "group") && strcmp (word[1], "transaction")))
        return s_refuse (reply, reply_size,
                         "usage: coordinator group|transaction <id> <broker id>");
    if (!s_parse_int (word[3], 1, self->broker_cnt, &broker))
        return s_refuse (reply, reply_size, "broker id '%.32s' is not in 1..%d", word[3],
                         self->broker_cnt);
    char done[400];
    snprintf (done, sizeof done, "coordinator %s %s %ld", word[1], word[2], broker);
    return s_answer (rd_kafka_mock_coordinator_set (self->mc, word[1], word[2], (int32_t)broker),
                     reply, reply_size, done);
}

static int
s_error_command (kafka_mock_t *self, char **word, int word_cnt, char *reply, size_t reply_size)
{
    long api_key, code, count;
    if (word_cnt != 4)
        return s_refuse (reply, reply_size, "usage: error <api key> <error code> <count>");
    if (!s_parse_int (word[1], 0, INT16_MAX, &api_key))
        return s_refuse (reply, reply_size, "api key '%.32s' is not in 0..32767", word[1]);
    //  Codes below zero are librdkafka's own (-195 __TRANSPORT makes the broker disconnect).
    if (!s_parse_int (word[2], RD_KAFKA_RESP_ERR__BEGIN + 1, INT16_MAX, &code) ||
        code == RD_KAFKA_RESP_ERR__END)
        return s_refuse (reply, reply_size, "error code '%.32s' is not a Kafka error code",
                         word[2]);
    if (!s_parse_int (word[3], 1, KAFKA_MOCK_ERRORS_MAX, &count))
        return s_refuse (reply, reply_size, "count '%.32s' is not in 1..%d", word[3],
                         KAFKA_MOCK_ERRORS_MAX);
    rd_kafka_resp_err_t *errors = malloc ((size_t)count * sizeof *errors);
    if (!errors)
        return s_refuse (reply, reply_size, "out of memory");
    for (long index = 0; index < count; index++)
        errors[index] = (rd_kafka_resp_err_t)code;
    rd_kafka_mock_push_request_errors_array (self->mc, (int16_t)api_key, (size_t)count, errors);
    free (errors);
    snprintf (reply, reply_size, "ok api key %ld fails %ld times with %ld (%s)", api_key, count,
              code, rd_kafka_err2name ((rd_kafka_resp_err_t)code));
    return 0;
}

int
kafka_mock_execute (kafka_mock_t *self, char *line, char *reply, size_t reply_size)
{
    char *word[S_WORDS_MAX + 1];
    int word_cnt = 0;
    char *saveptr = NULL;
    for (char *token = strtok_r (line, " \t\r\n", &saveptr); token;
         token = strtok_r (NULL, " \t\r\n", &saveptr)) {
        if (word_cnt == S_WORDS_MAX)
            return s_refuse (reply, reply_size, "too many words (at most %d)", S_WORDS_MAX);
        word[word_cnt++] = token;
    }
    if (word_cnt == 0)
        return s_refuse (reply, reply_size, "empty command");

    const char *verb = word[0];
    if (!strcmp (verb, "down") || !strcmp (verb, "up") || !strcmp (verb, "rtt"))
        return s_broker_command (self, word, word_cnt, reply, reply_size);
    if (!strcmp (verb, "topic"))
        return s_topic_command (self, word, word_cnt, reply, reply_size);
    if (!strcmp (verb, "leader"))
        return s_leader_command (self, word, word_cnt, reply, reply_size);
    if (!strcmp (verb, "coordinator"))
        return s_coordinator_command (self, word, word_cnt, reply, reply_size);
    if (!strcmp (verb, "error"))
        return s_error_command (self, word, word_cnt, reply, reply_size);
    if (!strcmp (verb, "quit")) {
        if (word_cnt != 1)
            return s_refuse (reply, reply_size, "usage: quit");
        snprintf (reply, reply_size, "ok bye");
        return 1;
    }
    return s_refuse (reply, reply_size,
                     "unknown command '%.32s' (down, up, rtt, topic, leader, coordinator, error, "
                     "quit)",
                     verb);
}
