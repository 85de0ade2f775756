//  The kafka-listener plugin: a consumer-group member that turns job status events into
//  observations, commits a message's offset only once the broker has answered for it (durable,
//  or refused and dead-lettered), publishes every transition to an outbound topic, and reports
//  each job's heartbeat promise with its observations (jobd's store keeps it and flags a RUNNING
//  job that stays silent past it stale, then LOST).
#include "jobd_plugin_sdk.h"
#include "jobd_reply.h"
#include "kl_dead.h"
#include "kl_forward.h"
#include "kl_json.h"
#include "kl_pending.h"
#include "kl_status.h"
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <string.h>

static const jobd_conf_key_t s_config[] = {
    {"brokers", JOBD_CONF_STRING, "",
     "bootstrap servers, host:port[,host:port]; required: without them the plugin does not "
     "start (jobd carries on)"},
    {"group", JOBD_CONF_STRING, "jobd", "consumer group id"},
    {"topics", JOBD_CONF_STRING, "jobd.status",
     "topics to consume, comma-separated; ^regex allowed"},
    {"dead_letter", JOBD_CONF_STRING, "jobd.dead-letter",
     "topic where events that cannot be read go"},
    {"transitions", JOBD_CONF_STRING, "",
     "topic every committed transition is produced to (JSON, keyed by job id; empty: none)"},
    {"create", JOBD_CONF_BOOL, "true", "register unknown jobs named by ext"},
    {"backend", JOBD_CONF_STRING, "kafka", "backend name of jobs named by ext"},
    {"kind", JOBD_CONF_STRING, "kafka", "kind of jobs registered from events"},
    {"heartbeat", JOBD_CONF_DURATION, "0",
     "deadline of RUNNING jobs of `kind` between two events (0: none)"},
    {"kinds/*/heartbeat", JOBD_CONF_DURATION, "0", "the same for jobs of that kind"},
    {"stale_grace", JOBD_CONF_DURATION, "30s",
     "how long a stale job may stay silent before it is LOST"},
    {"status_interval", JOBD_CONF_DURATION, "5s",
     "how often the Kafka state is reported (when it changed)"},
    {"batch", JOBD_CONF_BOOL, "true",
     "send a loop turn's observations in one batch event when jobd takes them (false: one by "
     "one, as to a jobd older than 1.2)"},
    {"fetch_wait", JOBD_CONF_DURATION, "500ms",
     "longest a fetch waits for data (librdkafka fetch.wait.max.ms); the mock cluster always "
     "waits this long when a partition is empty"},
    {"kafka/*", JOBD_CONF_STRING, "",
     "a librdkafka property passed as is to both clients (session.timeout.ms = 6000, ...; "
     "more in its README)"},
    {NULL, 0, NULL, NULL}};

//  The most librdkafka properties the kafka subsection may hold.
#define S_PROPERTIES_MAX 64

//  The most observations in one batch event: a loop turn reads at most 256 messages.
#define S_BATCH_MAX 256

//  The most observations waiting for the broker's answer: past it, the plugin stops reading
//  Kafka until answers come. Without a bound it read far ahead of the store (hundreds of
//  thousands of messages held in memory, which only cost page faults and a longer replay).
#define S_IN_FLIGHT_MAX 16384

//  The most transitions read from the bus in one loop turn.
#define S_TRANSITIONS_MAX 4096

//  Room kept in a batch event for its envelope.
#define S_BATCH_ENVELOPE 512

//  Partitions held at a message the store could not take (EFULL, ...), at most; past that every
//  partition's offset is held until jobd stops (the next start reads from the committed ones).
#define S_HELD_MAX 1024

//  How long one loop turn waits for Kafka, in ms.
#define S_WAIT 50

//  The pause before such a message is read again: doubled each time, up to the most.
#define S_REWIND_FIRST 1000
#define S_REWIND_MAX   30000

//  A kind's heartbeat (`heartbeat`, `kinds/NAME/heartbeat`).
typedef struct {
    char kind[JOBD_ID_MAX + 1];
    int64_t heartbeat; //  ms
} s_beat_t;
#define S_BEATS_MAX 65 //  the listener's kind and 64 others

typedef struct {
    const jobd_host_t *host;
    zsock_t *bus;
    rd_kafka_t *consumer;
    rd_kafka_t *producer;      //  the outbound topic's (idempotent)
    rd_kafka_t *dead_producer; //  the dead letters' (acks=all; failures retried by kl_dead)
    kl_dead_t *letters;        //  dead letters Kafka has not confirmed yet
    //  Messages the store could not take (a full map, a failed commit): their partitions are
    //  paused, their offsets held below them, and read again from them after a pause.
    //  Each with the last offset answered so since (upto): a later message of its partition may
    //  have been stored meanwhile (a smaller commit that fit), moving the stream's position past
    //  them, so that read again with their position they would be taken for replays. They are
    //  sent again without one, and the state machine alone keeps them from counting twice.
    struct {
        kl_dead_source_t at; //  offset -1: no longer held, still read again without positions
        int64_t upto;
    } held[S_HELD_MAX];
    size_t held_count;
    bool held_all; //  more than S_HELD_MAX: every partition's offset is held, for good
    int64_t rewind_at;
    unsigned rewinds;
    kl_options_t options;
    char dead_letter[256];
    char transitions[256];
    kl_pending_queue_t *pending;              //  sent, waiting for the broker's answer
    rd_kafka_topic_partition_list_t *commits; //  offsets answered for, not yet committed
    rd_kafka_topic_partition_list_t *dead;    //  confirmed dead letters' offsets waiting for the
                                              //  earlier messages of their partition
    kl_forward_t *forward;                    //  the outbound topic, from the transition log
    s_beat_t beats[S_BEATS_MAX];              //  the heartbeat of each kind that has one
    size_t beat_count;
    int64_t stale_grace;                     //  sent with each promise (heartbeat_grace)
    uint64_t consumed, refused, stale, lost; //  stale, lost: jobd's verdicts on promises
    int brokers_up, brokers_known;           //  as the last statistics said
    jobd_sdk_status_t *report;               //  plugin.status, sent when it changed
    //  Observations are sent in `batch` events when the broker takes them (ABI 1.2): one bus
    //  message and one reply per loop turn instead of one each.
    size_t batch_max;       //  0: one by one
    msgpack_sbuffer batch;  //  the observations of the next batch, packed
    size_t batch_count;     //  how many
    msgpack_sbuffer packet; //  the batch event being sent
    msgpack_zone *replies;  //  the maps of the reply being read, kept for the next
} s_listener_t;

//  Keeps kind's heartbeat (ms; 0: none), at most a month.
static void
s_beat_add (s_listener_t *self, const char *kind, int64_t heartbeat)
{
    if (!kind || heartbeat <= 0 || self->beat_count == S_BEATS_MAX)
        return;
    s_beat_t *beat = &self->beats[self->beat_count++];
    snprintf (beat->kind, sizeof beat->kind, "%s", kind);
    beat->heartbeat = heartbeat < JOBD_HEARTBEAT_MAX ? heartbeat : JOBD_HEARTBEAT_MAX;
}

//  The heartbeat of jobs of kind (0: none).
static int64_t
s_beat_of (s_listener_t *self, const char *kind)
{
    for (size_t index = 0; kind && index < self->beat_count; index++)
        if (strcmp (self->beats[index].kind, kind) == 0)
            return self->beats[index].heartbeat;
    return 0;
}

static void
s_error_cb (rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    s_listener_t *self = (s_listener_t *)opaque;
    self->host->log (self->host, JOBD_LOG_WARN, "kafka: %s", reason);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && self->bus)
        jobd_sdk_status_send (self->report, self->bus, "degraded", reason);
}

//  librdkafka's own log lines, through jobd's log (it writes them to stderr by itself otherwise,
//  in its own format). Its errors come to s_error_cb as well, which logs them: here they are
//  debug, so that each is said once.
static void
s_log_cb (const rd_kafka_t *rk, int level, const char *facility, const char *text)
{
    s_listener_t *self = (s_listener_t *)rd_kafka_opaque (rk);
    if (!self || !self->host)
        return;
    jobd_log_level_t jobd_level = level <= 3   ? JOBD_LOG_DEBUG //  also an error_cb
                                  : level == 4 ? JOBD_LOG_WARN
                                  : level <= 6 ? JOBD_LOG_INFO
                                               : JOBD_LOG_DEBUG;
    self->host->log (self->host, jobd_level, "kafka %s: %s", facility, text);
}

//  Consumer lag per partition, from librdkafka's statistics (topics -> partitions ->
//  consumer_lag; -1 and the unassigned partition "-1" are not known), for at most
//  KL_LAG_FIGURES partitions of topics whose names fit a label.
#define KL_LAG_FIGURES 256

static void
s_lag_figures (s_listener_t *self, json_t *root)
{
    size_t count = 0;
    const char *topic, *partition;
    json_t *each, *stats;
    json_object_foreach (json_object_get (root, "topics"), topic, each)
    {
        json_object_foreach (json_object_get (each, "partitions"), partition, stats)
        {
            json_int_t lag = json_integer_value (json_object_get (stats, "consumer_lag"));
            //  A topic name past a label's 128 bytes (Kafka allows 249) is left out, unlogged.
            if (strcmp (partition, "-1") == 0 || lag < 0 || count == KL_LAG_FIGURES ||
                strlen (topic) > JOBD_FIGURE_VALUE_MAX)
                continue;
            count +=
                jobd_sdk_status_figure (self->report, "kafka_consumer_lag",
                                        "Messages of the partition not consumed yet", (double)lag,
                                        "topic", topic, "partition", partition, NULL) == 0;
        }
    }
}

//  The stale and LOST counts as figures.
static void
s_silence_figures (s_listener_t *self)
{
    jobd_sdk_status_figure (self->report, "kafka_stale_total", "Jobs observed stale (no heartbeat)",
                            (double)self->stale, NULL);
    jobd_sdk_status_figure (self->report, "kafka_lost_total", "Jobs observed LOST (no heartbeat)",
                            (double)self->lost, NULL);
}

//  The figures of plugin.status (README.md, "Figures").
static void
s_figures (s_listener_t *self, json_t *root, int up, uint64_t waiting, uint64_t forwarded,
           uint64_t failed)
{
    jobd_sdk_status_t *report = self->report;
    jobd_sdk_status_figures_clear (report);
    jobd_sdk_status_figure (report, "kafka_brokers_up", "Kafka brokers the consumer reaches", up,
                            NULL);
    jobd_sdk_status_figure (report, "kafka_consumed_total", "Status messages consumed",
                            (double)self->consumed, NULL);
    jobd_sdk_status_figure (report, "kafka_refused_total",
                            "Status messages refused (each dead-lettered)", (double)self->refused,
                            NULL);
    jobd_sdk_status_figure (report, "kafka_dead_letters_total",
                            "Messages Kafka confirmed on the dead-letter topic",
                            (double)kl_dead_confirmed (self->letters), NULL);
    jobd_sdk_status_figure (report, "kafka_dead_letters_pending",
                            "Dead letters Kafka has not confirmed yet",
                            (double)kl_dead_waiting (self->letters), NULL);
    jobd_sdk_status_figure (report, "kafka_store_pending",
                            "Observations sent to jobd, not answered yet",
                            (double)kl_pending_queue_size (self->pending), NULL);
    s_silence_figures (self);
    jobd_sdk_status_figure (report, "kafka_outbound_pending",
                            "Transitions sent to the outbound topic, not confirmed yet",
                            (double)waiting, NULL);
    jobd_sdk_status_figure (report, "kafka_outbound_sent_total",
                            "Transitions Kafka confirmed on the outbound topic", (double)forwarded,
                            NULL);
    jobd_sdk_status_figure (report, "kafka_outbound_failed_total",
                            "Transitions the outbound topic did not take", (double)failed, NULL);
    s_lag_figures (self, root);
}

//  librdkafka's statistics (the consumer's, every status_interval): the brokers it reaches, and
//  the plugin's own counts, as plugin.status for `jobctl plugins` when something changed.
static void s_report (s_listener_t *self);

static int
s_stats_cb (rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
    s_listener_t *self = (s_listener_t *)opaque;
    json_t *root = json_loadb (json, json_len, 0, NULL);
    json_t *brokers = json_object_get (root, "brokers");
    const char *name;
    json_t *broker;
    //  Each broker once, by node id: bootstrap entries (-1) and the logical coordinator stand
    //  for the same brokers.
    json_int_t nodes[64];
    bool node_up[64];
    int known = 0;
    json_object_foreach (brokers, name, broker)
    {
        json_int_t node = json_integer_value (json_object_get (broker, "nodeid"));
        const char *state = json_string_value (json_object_get (broker, "state"));
        int index = 0;
        while (index < known && nodes[index] != node)
            index++;
        if (node < 0 || index == 64)
            continue;
        if (index == known) {
            nodes[known++] = node;
            node_up[index] = false;
        }
        node_up[index] = node_up[index] || (state && strcmp (state, "UP") == 0);
    }
    int up = 0;
    for (int index = 0; index < known; index++)
        up += node_up[index];
    self->brokers_up = up;
    self->brokers_known = known;
    uint64_t waiting, forwarded, failed;
    kl_forward_counts (self->forward, &waiting, &forwarded, &failed);
    s_figures (self, root, up, waiting, forwarded, failed);
    json_decref (root);
    s_report (self);
    return 0;
}

//  plugin.status from the counts: at each statistics, and at once when a job goes stale or
//  LOST (`jobctl plugins` then says so while the watch shows it, not up to status_interval
//  later).
static void
s_report (s_listener_t *self)
{
    uint64_t waiting, forwarded, failed;
    kl_forward_counts (self->forward, &waiting, &forwarded, &failed);
    int up = self->brokers_up, known = self->brokers_known;
    char brokers[64] = "brokers not counted yet"; //  before librdkafka's first statistics
    if (known)
        snprintf (brokers, sizeof brokers, "brokers up %d/%d", up, known);
    char detail[640];
    snprintf (detail, sizeof detail,
              "%s; consumed %llu, dead-lettered %llu (awaiting Kafka %zu), refused "
              "%llu, awaiting the store %zu; silent past their heartbeat (stale %llu, lost %llu "
              "in all); transitions out %llu, awaiting Kafka %llu, failed %llu",
              brokers, (unsigned long long)self->consumed,
              (unsigned long long)kl_dead_confirmed (self->letters),
              kl_dead_waiting (self->letters), (unsigned long long)self->refused,
              kl_pending_queue_size (self->pending), (unsigned long long)self->stale,
              (unsigned long long)self->lost, (unsigned long long)forwarded,
              (unsigned long long)waiting, (unsigned long long)failed);
    if (self->bus)
        jobd_sdk_status_send (self->report, self->bus, up > 0 || !known ? "running" : "degraded",
                              detail);
}

static void s_committed_cb (rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *offsets, void *opaque);

static void
s_delivered_cb (rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
    kl_forward_delivered (((s_listener_t *)opaque)->forward, message);
}

static void s_commit_dead (s_listener_t *self, const kl_dead_source_t *source);

//  A dead letter's delivery report: once Kafka stored it, its offset may move on.
static void
s_dead_delivered_cb (rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
    s_listener_t *self = (s_listener_t *)opaque;
    kl_dead_source_t source;
    if (kl_dead_delivered (self->letters, message, &source))
        s_commit_dead (self, &source);
}

//  A client's librdkafka config: the consumer's, the outbound topic's producer's, or
//  (dead_letters) the dead letters'. NULL with a reason when librdkafka refuses a property.
static rd_kafka_conf_t *
s_client_conf (const jobd_host_t *host, rd_kafka_type_t type, bool dead_letters, char *reason,
               size_t reason_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char error[512];
    //  The operator's librdkafka properties first: the settings below, which the plugin's
    //  guarantees rest on, win over them.
    const char *names[S_PROPERTIES_MAX];
    size_t count = host->config_names (host, "kafka", names, S_PROPERTIES_MAX);
    bool ok = count <= S_PROPERTIES_MAX;
    if (!ok)
        snprintf (error, sizeof error, "more than %d properties in plugins/%s/kafka",
                  S_PROPERTIES_MAX, host->plugin_name);
    for (size_t index = 0; ok && index < count; index++) {
        char key[300];
        snprintf (key, sizeof key, "kafka/%s", names[index]);
        const char *value = host->config_str (host, key);
        ok = rd_kafka_conf_set (conf, names[index], value ? value : "", error, sizeof error) ==
             RD_KAFKA_CONF_OK;
    }
    ok = ok && rd_kafka_conf_set (conf, "bootstrap.servers", host->config_str (host, "brokers"),
                                  error, sizeof error) == RD_KAFKA_CONF_OK;
    if (ok && type == RD_KAFKA_CONSUMER)
        ok = rd_kafka_conf_set (conf, "group.id", host->config_str (host, "group"), error,
                                sizeof error) == RD_KAFKA_CONF_OK
             //  Offsets are committed by hand, after the broker's reply: never on a timer.
             && rd_kafka_conf_set (conf, "enable.auto.commit", "false", error, sizeof error) ==
                    RD_KAFKA_CONF_OK &&
             rd_kafka_conf_set (conf, "auto.offset.reset", "earliest", error, sizeof error) ==
                 RD_KAFKA_CONF_OK;
    if (ok && type == RD_KAFKA_CONSUMER) {
        char wait[32];
        snprintf (wait, sizeof wait, "%lld", (long long)host->config_int (host, "fetch_wait", 500));
        ok = rd_kafka_conf_set (conf, "fetch.wait.max.ms", wait, error, sizeof error) ==
             RD_KAFKA_CONF_OK;
    }
    //  Idempotent, and never giving up: while Kafka is away, transitions wait in order. Dead
    //  letters are confirmed by every replica (acks=all) before an offset passes them; not
    //  idempotent, so that a letter the broker refuses (too large) does not make the producer
    //  bump its epoch: kl_dead sends it again in a smaller form.
    if (ok && type == RD_KAFKA_PRODUCER)
        ok = rd_kafka_conf_set (conf, "enable.idempotence", dead_letters ? "false" : "true", error,
                                sizeof error) == RD_KAFKA_CONF_OK &&
             rd_kafka_conf_set (conf, "acks", "all", error, sizeof error) == RD_KAFKA_CONF_OK &&
             rd_kafka_conf_set (conf, "message.timeout.ms", "0", error, sizeof error) ==
                 RD_KAFKA_CONF_OK;
    if (ok && type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb (conf, dead_letters ? s_dead_delivered_cb : s_delivered_cb);
    if (ok && type == RD_KAFKA_CONSUMER) {
        char interval[32];
        snprintf (interval, sizeof interval, "%lld",
                  (long long)host->config_int (host, "status_interval", 5000));
        ok = rd_kafka_conf_set (conf, "statistics.interval.ms", interval, error, sizeof error) ==
             RD_KAFKA_CONF_OK;
        rd_kafka_conf_set_stats_cb (conf, s_stats_cb);
        rd_kafka_conf_set_offset_commit_cb (conf, s_committed_cb);
    }
    if (!ok) {
        snprintf (reason, reason_size, "kafka config: %s", error);
        rd_kafka_conf_destroy (conf);
        return NULL;
    }
    return conf;
}

//  A client: the consumer, the outbound topic's producer, or (dead_letters) the dead letters'.
static rd_kafka_t *
s_client (s_listener_t *self, rd_kafka_type_t type, bool dead_letters, char *reason,
          size_t reason_size)
{
    rd_kafka_conf_t *conf = s_client_conf (self->host, type, dead_letters, reason, reason_size);
    if (!conf)
        return NULL;
    char error[512];
    rd_kafka_conf_set_opaque (conf, self);
    rd_kafka_conf_set_error_cb (conf, s_error_cb);
    rd_kafka_conf_set_log_cb (conf, s_log_cb);
    rd_kafka_t *client = rd_kafka_new (type, conf, error, sizeof error);
    if (!client)
        snprintf (reason, reason_size, "kafka: %s", error);
    return client;
}

static void
s_destroy (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_listener_t *self = (s_listener_t *)*state_p;
    if (self->consumer) {
        rd_kafka_consumer_close (self->consumer);
        rd_kafka_destroy (self->consumer);
    }
    if (self->producer) {
        rd_kafka_flush (self->producer, 5000);
        rd_kafka_destroy (self->producer);
    }
    //  Before the letters: it may still hold their bytes. What it did not confirm is read
    //  again at the next start (its offset was not committed).
    if (self->dead_producer)
        rd_kafka_destroy (self->dead_producer);
    kl_dead_destroy (&self->letters);
    kl_pending_queue_destroy (&self->pending);
    kl_forward_destroy (&self->forward);
    jobd_sdk_status_destroy (&self->report);
    rd_kafka_topic_partition_list_destroy (self->commits);
    rd_kafka_topic_partition_list_destroy (self->dead);
    msgpack_sbuffer_destroy (&self->batch);
    msgpack_sbuffer_destroy (&self->packet);
    if (self->replies)
        msgpack_zone_free (self->replies);
    free (self);
    *state_p = NULL;
}

//  What init refuses before it creates a client: no brokers.
static int
s_check_brokers (const jobd_host_t *host, char *reason, size_t reason_size)
{
    if (*host->config_str (host, "brokers"))
        return 0;
    snprintf (reason, reason_size, "no Kafka brokers: set plugins/%s/brokers", host->plugin_name);
    return JOBD_ECONFIG;
}

//  jobd --check: the brokers, and each client's librdkafka properties as librdkafka takes them,
//  without creating a client (which would connect).
static int
s_check (const jobd_host_t *host, char *reason, size_t reason_size)
{
    int rc = s_check_brokers (host, reason, reason_size);
    const rd_kafka_type_t types[3] = {RD_KAFKA_CONSUMER, RD_KAFKA_PRODUCER, RD_KAFKA_PRODUCER};
    for (int index = 0; rc == 0 && index < 3; index++) {
        rd_kafka_conf_t *conf = s_client_conf (host, types[index], index == 2, reason, reason_size);
        if (!conf)
            rc = JOBD_ECONFIG;
        else
            rd_kafka_conf_destroy (conf);
    }
    return rc;
}

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    int rc = s_check_brokers (host, reason, reason_size);
    if (rc)
        return rc;
    s_listener_t *self = (s_listener_t *)zmalloc (sizeof (s_listener_t));
    self->host = host;
    //  Reports come with librdkafka's statistics (every status_interval) and its errors.
    self->report = jobd_sdk_status_new (host, 0);
    self->options =
        (kl_options_t){host->plugin_name, host->config_str (host, "backend"),
                       host->config_str (host, "kind"), host->config_int (host, "create", 1) != 0};
    snprintf (self->dead_letter, sizeof self->dead_letter, "%s",
              host->config_str (host, "dead_letter"));
    snprintf (self->transitions, sizeof self->transitions, "%s",
              host->config_str (host, "transitions"));
    self->batch_max = JOBD_HOST_HAS (host, batch_max) && host->config_int (host, "batch", 1)
                          ? host->batch_max
                          : 0;
    if (self->batch_max > S_BATCH_MAX)
        self->batch_max = S_BATCH_MAX;
    msgpack_sbuffer_init (&self->batch);
    msgpack_sbuffer_init (&self->packet);
    //  A batch's reply holds a map per observation: room for a whole one in the first chunk.
    self->replies = msgpack_zone_new (64 * 1024);
    self->pending = kl_pending_queue_new ();
    //  Longer than an event can carry: the longest promise (a month) instead.
    self->stale_grace = host->config_int (host, "stale_grace", 30000);
    if (self->stale_grace > JOBD_HEARTBEAT_MAX)
        self->stale_grace = JOBD_HEARTBEAT_MAX;
    s_beat_add (self, self->options.kind, host->config_int (host, "heartbeat", 0));
    const char *kinds[S_BEATS_MAX - 1];
    size_t kind_count = host->config_names (host, "kinds", kinds, S_BEATS_MAX - 1);
    for (size_t index = 0; index < kind_count && index < S_BEATS_MAX - 1; index++) {
        char key[JOBD_NAME_MAX + 32];
        snprintf (key, sizeof key, "kinds/%s/heartbeat", kinds[index]);
        s_beat_add (self, kinds[index], host->config_int (host, key, 0));
    }
    self->commits = rd_kafka_topic_partition_list_new (16);
    self->dead = rd_kafka_topic_partition_list_new (16);
    self->consumer = s_client (self, RD_KAFKA_CONSUMER, false, reason, reason_size);
    if (self->consumer)
        //  One queue: consumer_poll serves the error and statistics callbacks too.
        rd_kafka_poll_set_consumer (self->consumer);
    self->producer =
        self->consumer ? s_client (self, RD_KAFKA_PRODUCER, false, reason, reason_size) : NULL;
    self->dead_producer =
        self->producer ? s_client (self, RD_KAFKA_PRODUCER, true, reason, reason_size) : NULL;
    self->letters =
        self->dead_producer ? kl_dead_new (host, self->dead_producer, self->dead_letter) : NULL;
    if (self->dead_producer && !self->letters)
        snprintf (reason, reason_size, "out of memory");
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new (4);
    char list[1024];
    snprintf (list, sizeof list, "%s", host->config_str (host, "topics"));
    char *save = NULL;
    for (char *topic = strtok_r (list, ",", &save); topic; topic = strtok_r (NULL, ",", &save))
        rd_kafka_topic_partition_list_add (topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err =
        self->letters ? rd_kafka_subscribe (self->consumer, topics) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy (topics);
    if (!self->letters || err) {
        if (err)
            snprintf (reason, reason_size, "kafka subscribe: %s", rd_kafka_err2str (err));
        s_destroy ((void **)&self);
        return JOBD_ECONFIG;
    }
    *state_p = self;
    return 0;
}

//  Marks the offset after this message for the next commit: everything before it on its
//  partition is done, since the broker answers one sender's events in order.
static void
s_mark (rd_kafka_topic_partition_list_t *list, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_t *entry = rd_kafka_topic_partition_list_find (list, topic, partition);
    if (!entry)
        entry = rd_kafka_topic_partition_list_add (list, topic, partition);
    if (entry->offset < offset + 1)
        entry->offset = offset + 1;
}

static void
s_commit (s_listener_t *self, const char *topic, int32_t partition, int64_t offset)
{
    s_mark (self->commits, topic, partition, offset);
}

//  An offset commit's result (served by consumer_poll). One that failed is tried again with the
//  next commit, for the partitions still assigned: otherwise the last offsets of a partition
//  that goes quiet stay uncommitted, and are read again at the next start.
static void
s_committed_cb (rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                void *opaque)
{
    s_listener_t *self = (s_listener_t *)opaque;
    if (!err || err == RD_KAFKA_RESP_ERR__NO_OFFSET || !offsets)
        return;
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment (rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    int retried = 0;
    for (int index = 0; index < offsets->cnt; index++) {
        const rd_kafka_topic_partition_t *entry = &offsets->elems[index];
        if (entry->offset > 0 &&
            rd_kafka_topic_partition_list_find (assigned, entry->topic, entry->partition)) {
            s_mark (self->commits, entry->topic, entry->partition, entry->offset - 1);
            retried++;
        }
    }
    rd_kafka_topic_partition_list_destroy (assigned);
    self->host->log (self->host, JOBD_LOG_WARN, "offset commit failed: %s (%d partitions retried)",
                     rd_kafka_err2str (err), retried);
}

//  A dead letter Kafka confirmed: its offset may be committed only once every earlier message
//  of its partition is durable. Those may still await the broker's answer, so it waits until
//  nothing does (a later answered message of the partition commits past it anyway).
static void
s_commit_dead (s_listener_t *self, const kl_dead_source_t *source)
{
    s_mark (self->dead, source->topic, source->partition, source->offset);
}

//  The lowest offset of the partition that no commit may pass: a dead letter Kafka has not
//  confirmed, or a message the store could not take. INT64_MAX: none.
static int64_t
s_floor (const s_listener_t *self, const char *topic, int32_t partition)
{
    int64_t floor = self->held_all ? 0 : kl_dead_floor (self->letters, topic, partition);
    for (size_t index = 0; index < self->held_count; index++)
        if (self->held[index].at.partition == partition && self->held[index].at.offset >= 0 &&
            self->held[index].at.offset < floor && strcmp (self->held[index].at.topic, topic) == 0)
            floor = self->held[index].at.offset;
    return floor;
}

static rd_kafka_topic_partition_list_t *
s_partition_list (const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (1);
    rd_kafka_topic_partition_list_add (list, topic, partition)->offset = offset;
    return list;
}

//  The entry of held for the partition, or held_count.
static size_t
s_held (const s_listener_t *self, const char *topic, int32_t partition)
{
    size_t index = 0;
    while (index < self->held_count && !(self->held[index].at.partition == partition &&
                                         strcmp (self->held[index].at.topic, topic) == 0))
        index++;
    return index;
}

//  A message the store could not take: its partition stops here (paused, its offset held below
//  it) and is read again from it after a pause that grows while it fails.
static void
s_hold (s_listener_t *self, const kl_pending_t *pending, const char *why)
{
    size_t index = s_held (self, pending->topic, pending->partition);
    if (index == self->held_count && index == S_HELD_MAX) {
        if (!self->held_all)
            self->host->log (self->host, JOBD_LOG_ERROR,
                             "more than %d partitions hold a message the store could not take: "
                             "no offset is committed until jobd stops",
                             S_HELD_MAX);
        self->held_all = true;
    } else if (index == self->held_count) {
        self->held[index].at = (kl_dead_source_t){"", pending->partition, pending->offset};
        snprintf (self->held[index].at.topic, sizeof self->held[index].at.topic, "%s",
                  pending->topic);
        self->held[index].upto = pending->offset;
        self->held_count++;
    } else {
        if (self->held[index].at.offset < 0 || pending->offset < self->held[index].at.offset)
            self->held[index].at.offset = pending->offset;
        if (pending->offset > self->held[index].upto)
            self->held[index].upto = pending->offset;
    }
    rd_kafka_topic_partition_list_t *list =
        s_partition_list (pending->topic, pending->partition, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_pause_partitions (self->consumer, list);
    rd_kafka_topic_partition_list_destroy (list);
    if (self->rewind_at)
        return; //  said once per pause
    int64_t pause = S_REWIND_FIRST;
    for (unsigned count = 0; count < self->rewinds && pause < S_REWIND_MAX; count++)
        pause *= 2;
    pause = pause < S_REWIND_MAX ? pause : S_REWIND_MAX;
    self->rewind_at = zclock_mono () + pause;
    self->host->log (self->host, JOBD_LOG_ERROR,
                     "jobd could not store %s/%d/%lld (%s): its partition is read again from "
                     "there in %lld ms; its offset waits below it",
                     pending->topic, (int)pending->partition, (long long)pending->offset, why,
                     (long long)pause);
}

//  A held message was answered for good (applied, or refused as such): its partition moves on.
static void
s_release (s_listener_t *self, const kl_pending_t *pending)
{
    size_t index = s_held (self, pending->topic, pending->partition);
    if (index == self->held_count)
        return;
    if (self->held[index].at.offset == pending->offset)
        self->held[index].at.offset = -1;
    //  Once the held message went through, and what failed after it was read again.
    if (self->held[index].at.offset < 0 && pending->offset >= self->held[index].upto)
        self->held[index] = self->held[--self->held_count];
    if (self->held_count == 0 && !self->held_all)
        self->rewinds = 0;
}

//  When the pause is over: each held partition is read again from its held message.
static void
s_rewind (s_listener_t *self)
{
    if (!self->rewind_at || zclock_mono () < self->rewind_at)
        return;
    self->rewind_at = 0;
    self->rewinds++;
    for (size_t index = 0; index < self->held_count; index++) {
        const kl_dead_source_t *held = &self->held[index].at;
        if (held->offset < 0)
            continue;
        rd_kafka_topic_partition_list_t *list =
            s_partition_list (held->topic, held->partition, held->offset);
        rd_kafka_error_t *error = rd_kafka_seek_partitions (self->consumer, list, 0);
        if (error) {
            self->host->log (self->host, JOBD_LOG_WARN, "kafka: cannot read %s/%d again: %s",
                             held->topic, (int)held->partition, rd_kafka_error_string (error));
            rd_kafka_error_destroy (error);
        }
        rd_kafka_resume_partitions (self->consumer, list);
        rd_kafka_topic_partition_list_destroy (list);
    }
}

//  Commits what s_commit marked, in one request: one per message cost an OffsetCommit (and a
//  wake-up of librdkafka's thread) each, which capped the plugin near 20k events/s.
static void
s_commit_flush (s_listener_t *self)
{
    if (self->dead->cnt > 0 && kl_pending_queue_size (self->pending) == 0 &&
        self->batch_count == 0) {
        for (int index = 0; index < self->dead->cnt; index++) {
            const rd_kafka_topic_partition_t *entry = &self->dead->elems[index];
            s_mark (self->commits, entry->topic, entry->partition, entry->offset - 1);
        }
        rd_kafka_topic_partition_list_destroy (self->dead);
        self->dead = rd_kafka_topic_partition_list_new (16);
    }
    if (self->commits->cnt == 0)
        return;
    //  A partition with a dead letter Kafka has not confirmed, or a message the store could not
    //  take, keeps its offset below it: what was answered after it is committed later.
    rd_kafka_topic_partition_list_t *held = rd_kafka_topic_partition_list_new (16);
    bool holding = kl_dead_waiting (self->letters) > 0 || self->held_count > 0 || self->held_all;
    for (int index = 0; holding && index < self->commits->cnt;) {
        const rd_kafka_topic_partition_t *entry = &self->commits->elems[index];
        if (s_floor (self, entry->topic, entry->partition) < entry->offset) {
            s_mark (held, entry->topic, entry->partition, entry->offset - 1);
            rd_kafka_topic_partition_list_del_by_idx (self->commits, index);
        } else
            index++;
    }
    if (self->commits->cnt > 0)
        rd_kafka_commit (self->consumer, self->commits, 1);
    rd_kafka_topic_partition_list_destroy (self->commits);
    self->commits = held;
}

//  Sends the observations packed so far as one batch event.
static void
s_batch_flush (s_listener_t *self)
{
    if (self->batch_count == 0)
        return;
    char id[32];
    jobd_event_new_id (id);
    msgpack_sbuffer_clear (&self->packet);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->packet, msgpack_sbuffer_write);
    int rc = jobd_event_pack_batch (&pk, id, self->host->plugin_name, self->batch_count);
    if (rc == 0)
        rc = msgpack_sbuffer_write (&self->packet, self->batch.data, self->batch.size);
    if (rc == 0 &&
        zmq_send (zsock_resolve (self->bus), self->packet.data, self->packet.size, 0) < 0)
        rc = -errno;
    if (rc)
        //  Their offsets are not committed: they are read again after a restart.
        self->host->log (self->host, JOBD_LOG_ERROR, "a batch of %zu observations not sent: %s",
                         self->batch_count, jobd_strerror (rc));
    msgpack_sbuffer_clear (&self->batch);
    self->batch_count = 0;
}

//  Sends a valid observation: into the next batch event when the broker takes batches.
static void
s_send_observation (s_listener_t *self, const jobd_event_t *event)
{
    if (self->batch_max == 0) {
        jobd_plugin_send (self->bus, event);
        return;
    }
    size_t before = self->batch.size;
    jobd_event_pack_to (event, &self->batch);
    if (self->batch_count > 0 && self->batch.size + S_BATCH_ENVELOPE > JOBD_EVENT_MAX) {
        //  Too big with it: the batch goes without it, and it starts the next one.
        self->batch.size = before;
        s_batch_flush (self);
        jobd_event_pack_to (event, &self->batch);
    }
    if (++self->batch_count >= self->batch_max)
        s_batch_flush (self);
}

//  A message that cannot be observed: dead-lettered with the reason (the original bytes, or a
//  form that fits, see kl_dead.h). Its offset moves on once Kafka confirms the letter.
static void
s_refuse (s_listener_t *self, const rd_kafka_message_t *message, const char *reason)
{
    kl_dead_send (self->letters, message, reason);
}

static void
s_on_message (s_listener_t *self, rd_kafka_message_t *message)
{
    if (message->err) {
        if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            self->host->log (self->host, JOBD_LOG_WARN, "kafka: %s",
                             rd_kafka_message_errstr (message));
        return;
    }
    self->consumed++;
    char reason[512];
    //  Our own id, so that the reply finds its message (the event's too, when it has none).
    char id[32];
    jobd_event_new_id (id);
    //  The simple event is read in place, into a view that borrows its strings (no allocation:
    //  they showed at full speed); any other is read by jansson into a fresh event.
    jobd_event_t view, *event = NULL;
    char strings[4096];
    int64_t heartbeat = 0;
    int rc = kl_status_read (message->payload, message->len, &self->options, id, &view, strings,
                             sizeof strings, &heartbeat, reason, sizeof reason);
    if (rc == 1)
        rc = kl_status_decode_jansson (message->payload, message->len, &self->options, id, &event,
                                       &heartbeat, reason, sizeof reason);
    if (rc) {
        s_refuse (self, message, reason);
        return;
    }
    //  Where it comes from: the store applies each message once, however often it is read.
    //  (Written by hand: snprintf's share of the plugin's time showed.)
    const char *topic = rd_kafka_topic_name (message->rkt);
    size_t topic_size = strnlen (topic, 256);
    char stream[300];
    memcpy (stream, topic, topic_size);
    stream[topic_size] = '/';
    kl_json_format_integer (stream + topic_size + 1, message->partition);
    //  Read again after the store could not take it: without its position (see held).
    size_t held = self->held_count ? s_held (self, topic, message->partition) : 0;
    bool positioned = held == self->held_count || message->offset > self->held[held].upto;
    if (event) {
        jobd_event_set (&event->id, id);
        jobd_event_set (&event->stream, positioned ? stream : NULL);
    } else {
        event = &view;
        view.id = id;
        view.stream = positioned ? stream : NULL;
    }
    event->reply = true;
    event->pos = positioned ? (uint64_t)message->offset + 1 : 0;
    //  The job's heartbeat promise (its own, else its kind's) goes with the observation: jobd's
    //  store keeps it and arms the job's freshness check in the same commit (core/README.md,
    //  "Deadlines"), so that a restart or another instance keeps it.
    int64_t promise = heartbeat > 0 ? heartbeat : s_beat_of (self, event->kind);
    if (promise > 0) {
        event->heartbeat = promise;
        event->heartbeat_grace = self->stale_grace;
    }
    //  What the plugin added must hold too (a topic name near its limit makes too long a
    //  stream): an event the broker would refuse is dead-lettered now, not left waiting.
    kl_pending_t *pending = NULL;
    if (jobd_event_validate (event, reason, sizeof reason) == 0 &&
        !(pending = self->pending ? kl_pending_queue_push (self->pending) : NULL))
        //  Not dropped: a later message of its partition would commit past it.
        snprintf (reason, sizeof reason, "jobd out of memory");
    if (!pending) {
        if (event != &view)
            jobd_event_destroy (&event);
        s_refuse (self, message, reason);
        return;
    }
    memcpy (pending->id, id, sizeof id);
    memcpy (pending->topic, topic, topic_size < sizeof pending->topic ? topic_size : 255);
    pending->partition = message->partition;
    pending->offset = message->offset;
    s_send_observation (self, event);
    if (event != &view)
        jobd_event_destroy (&event);
}

//  One event's reply: the event is durable (or refused for good): its offset can move on.
static void
s_on_answer (s_listener_t *self, const jobd_reply_t *answer)
{
    const char *re = answer->re, *why = answer->reason;
    bool ok = answer->ok;
    size_t skipped = 0;
    kl_pending_t *pending = kl_pending_queue_answer (self->pending, re, &skipped);
    if (skipped)
        //  Never answered, which only a bug could cause: not committed, read again at the next
        //  start (unless a later message of the same partition commits past them).
        self->host->log (self->host, JOBD_LOG_ERROR,
                         "%zu observations sent before %s had no answer", skipped, re);
    if (!pending) {
        if (!ok)
            //  A whole batch refused (a bug on one side): its observations stay uncommitted
            //  and are read again at the next start.
            self->host->log (self->host, JOBD_LOG_ERROR, "the broker refused %s: %s", re, why);
        return;
    }
    //  Refused for what the store holds (an unknown job, ...) is an answer for good; anything
    //  else (a full map, a commit that failed) is not: the message was not applied.
    int rc = answer->rc;
    bool for_good = ok || rc == JOBD_ENOTFOUND || rc == JOBD_ESTATE || rc == JOBD_EEXIST ||
                    rc == JOBD_EPROTO || rc == JOBD_ETOOBIG;
    if (!for_good) {
        s_hold (self, pending, why[0] ? why : answer->error);
        kl_pending_queue_pop (self->pending);
        return;
    }
    s_release (self, pending);
    if (!ok) {
        //  Refused by the broker (an unknown job, ...): logged and counted; the event itself
        //  is valid, so it is not dead-lettered twice over.
        self->refused++;
        self->host->log (self->host, JOBD_LOG_WARN, "%s/%d/%lld refused: %s", pending->topic,
                         (int)pending->partition, (long long)pending->offset, why);
    }
    s_commit (self, pending->topic, pending->partition, pending->offset);
    kl_pending_queue_pop (self->pending);
}

//  The broker's reply to one event, or to a batch (the replies to its observations, in order).
static void
s_on_reply (zsock_t *bus, void *arg)
{
    s_listener_t *self = (s_listener_t *)arg;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    bool received = zmq_msg_recv (&frame, zsock_resolve (self->bus), 0) >= 0;
    msgpack_object reply;
    if (received && self->replies &&
        jobd_msgpack_unpack_in (zmq_msg_data (&frame), zmq_msg_size (&frame), self->replies, &reply,
                                NULL, 0) == 0) {
        jobd_reply_t answer;
        jobd_reply_read (&reply, &answer, NULL, 0);
        const msgpack_object *replies = answer.replies;
        if (replies)
            for (uint32_t index = 0; index < replies->via.array.size; index++) {
                jobd_reply_t one;
                jobd_reply_read (&replies->via.array.ptr[index], &one, NULL, 0);
                s_on_answer (self, &one);
            }
        else
            s_on_answer (self, &answer);
    }
    zmq_msg_close (&frame);
}

//  True when topic (a publication's first frame) is a stale flag or a LOST transition: jobd's
//  verdicts on silent jobs, which the plugin counts when they are about a heartbeat.
static bool
s_silence_topic (zmq_msg_t *topic)
{
    size_t size = zmq_msg_size (topic);
    const char *data = (const char *)zmq_msg_data (topic);
    return (size > 6 && memcmp (data, "stale.", 6) == 0) ||
           (size > 9 && memcmp (data, "job.LOST.", 9) == 0);
}

//  One of jobd's verdicts on a silent job: counted (and reported at once) when it was about the
//  job's heartbeat promise and this instance acts on the job.
static void
s_on_silence (s_listener_t *self, const jobd_event_t *event)
{
    if (!event->error || !strstr (event->error, "(" JOBD_HEARTBEAT_ORIGIN ")") ||
        !jobd_host_acting (self->host, event->job))
        return;
    if (event->type == JOBD_EVENT_STALE)
        self->stale++;
    else
        self->lost++;
    s_silence_figures (self);
    s_report (self);
}

//  Publications: the transition log has news (the outbound topic), and jobd's verdicts on
//  silent jobs are counted.
//  Everything waiting is read as plain zmq messages, without asking the socket first: at full
//  speed one each, and zmsg's allocations and a ZMQ_EVENTS query per message showed.
static void
s_on_transitions (zsock_t *events, void *arg)
{
    s_listener_t *self = (s_listener_t *)arg;
    void *handle = zsock_resolve (events);
    zmq_msg_t frames[2];
    zmq_msg_init (&frames[0]);
    zmq_msg_init (&frames[1]);
    size_t count = 0, messages = 0;
    //  A bound per loop turn, so that Kafka and the replies get their turn under any load.
    while (messages < S_TRANSITIONS_MAX &&
           zmq_msg_recv (&frames[count < 2 ? count : 1], handle, ZMQ_DONTWAIT) >= 0) {
        //  A third frame would not be a transition: read over, and the message ignored.
        bool more = zmq_msg_more (&frames[count < 2 ? count : 1]);
        count++;
        if (more)
            continue;
        jobd_event_t *event = NULL;
        //  The broker's status.ask: answered at once, with the counts as they are.
        if (count == 2 && zmq_msg_size (&frames[0]) == strlen (JOBD_STATUS_ASK_TOPIC) &&
            memcmp (zmq_msg_data (&frames[0]), JOBD_STATUS_ASK_TOPIC,
                    strlen (JOBD_STATUS_ASK_TOPIC)) == 0) {
            if (jobd_event_decode (zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]), &event,
                                   NULL, 0) == 0 &&
                jobd_sdk_status_asked (self->report, event))
                s_report (self);
            jobd_event_destroy (&event);
            count = 0;
            messages++;
            continue;
        }
        //  Decoded only when it is a verdict on a silent job: at full speed decoding every
        //  transition would be most of the cost.
        if (count == 2 && s_silence_topic (&frames[0]) &&
            jobd_event_decode (zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]), &event, NULL,
                               0) == 0)
            s_on_silence (self, event);
        jobd_event_destroy (&event);
        kl_forward_poke (self->forward);
        count = 0;
        messages++;
    }
    zmq_msg_close (&frames[0]);
    zmq_msg_close (&frames[1]);
}

//  Kafka first: consumer_poll waits up to S_WAIT ms for a message, then the sockets. Then
//  whatever else is ready, up to a bound: the sockets are looked at once per turn. With too
//  much in flight, answers are awaited instead.
static void
s_wait (zsock_t **sockets, size_t count, int timeout, void *arg)
{
    s_listener_t *self = (s_listener_t *)arg;
    rd_kafka_message_t *message = NULL;
    if (kl_pending_queue_size (self->pending) < S_IN_FLIGHT_MAX && !kl_dead_full (self->letters))
        message = rd_kafka_consumer_poll (self->consumer, S_WAIT);
    else {
        zmq_pollitem_t answers = {zsock_resolve (self->bus), 0, ZMQ_POLLIN, 0};
        zmq_poll (&answers, 1, S_WAIT);
    }
    for (int taken = 0; message && taken < 256; taken++) {
        s_on_message (self, message);
        rd_kafka_message_destroy (message);
        message = taken < 255 ? rd_kafka_consumer_poll (self->consumer, 0) : NULL;
    }
    s_batch_flush (self);
    rd_kafka_poll (self->producer, 0);
    kl_dead_retry (self->letters);
    rd_kafka_poll (self->dead_producer, 0);
    s_rewind (self);
}

//  After the replies and the transitions: offsets answered for are committed, and the outbound
//  topic gets what the transition log has new.
static void
s_after (void *arg)
{
    s_listener_t *self = (s_listener_t *)arg;
    s_commit_flush (self);
    kl_forward_pump (self->forward, false);
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    s_listener_t *self = (s_listener_t *)state;
    self->bus = bus;
    //  Transitions feed the outbound topic when there is one; stale flags and transitions to
    //  LOST are counted when a heartbeat caused them.
    zsock_set_subscribe (events, "job.");
    zsock_set_subscribe (events, "stale.");
    jobd_sdk_status_listen (self->report, events);
    self->forward = kl_forward_new (host, bus, self->producer, self->transitions);
    jobd_sdk_loop_t loop = {.wait = s_wait,
                            .wait_max = S_WAIT,
                            .on_reply = s_on_reply,
                            .on_event = s_on_transitions,
                            .events_max = 1, //  s_on_transitions keeps its own bound
                            .after = s_after};
    jobd_sdk_loop_run (&loop, pipe, bus, events, self);
    //  Dead letters Kafka confirms in the next moment move their offsets now; the rest are read
    //  again, and dead-lettered again, at the next start.
    if (kl_dead_waiting (self->letters) > 0)
        rd_kafka_flush (self->dead_producer, 2000);
    s_commit_flush (self);
    //  What Kafka confirms in the next moment moves the cursor now; the rest is sent again at
    //  the next start.
    rd_kafka_flush (self->producer, 1000);
    kl_forward_pump (self->forward, true);
    return 0;
}

//  Kafka jobs are started by their producers and followed from their status events: this plugin
//  takes no submission (ABI 1.4: an empty list), so a `submit` of kind kafka is refused at once
//  rather than left QUEUED for ever.
static const char *const s_kinds[] = {NULL};

JOBD_PLUGIN_DEFINE (.name = "kafka-listener", .version = "0.1.0",
                    .description = "follows Kafka jobs from their status events; publishes "
                                   "transitions to Kafka",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy,
                    .check = s_check, .kinds = s_kinds);
