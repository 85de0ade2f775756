//  Cluster mode (see jobd_cluster.h and docs/cluster.md): the config section and the topics.
#include "jobd_cluster.h"
#include "jobd_error.h"
#include "jobd_log.h"
#include <czmq.h>
#include <librdkafka/rdkafka.h>
#include <string.h>

#define LOG "cluster"

#define S_PROPERTIES_MAX 64 //  librdkafka properties under cluster/kafka

const jobd_conf_key_t jobd_cluster_map[] = {
    {"instance", JOBD_CONF_STRING, "",
     "required: this instance's name, unique in the cluster, [A-Za-z0-9._-]{1,64}"},
    {"brokers", JOBD_CONF_STRING, "", "required: the Kafka bootstrap servers, host:port,..."},
    {"prefix", JOBD_CONF_STRING, "jobd",
     "topics <prefix>.jobs, <prefix>.changelog, <prefix>.replies and the consumer group"},
    {"partitions", JOBD_CONF_INT, "32",
     "partitions of the jobs and changelog topics, fixed for the cluster's life (1..4096)"},
    {"session_timeout", JOBD_CONF_DURATION, "6s",
     "the consumer group's session timeout: an instance silent this long loses its partitions"},
    {"lease", JOBD_CONF_DURATION, "1s",
     "how long an owner may act on a partition without hearing from Kafka (renewed every quarter)"},
    {"join_lag", JOBD_CONF_INT, "10000",
     "join the group only once the replica is this close (messages per partition)"},
    {"revoke_timeout", JOBD_CONF_DURATION, "5s",
     "longest a clean hand-over of a partition waits for the plugins and Kafka"},
    {"reply_timeout", JOBD_CONF_DURATION, "10s", "longest a client waits for an owner's answer"},
    {"connect_timeout", JOBD_CONF_DURATION, "30s",
     "at start, how long to wait for a broker before giving up (jobd exits 7)"},
    {"kafka/*", JOBD_CONF_STRING, "",
     "librdkafka properties for every cluster client (security.protocol, sasl.*, ssl.*, ...)"},
    {NULL, 0, NULL, NULL}};

//  The three topics: role, partitions (0: cluster/partitions) and their configs.
static const struct {
    const char *role;
    int partitions;
    const char *configs[3][2];
} s_topics[] = {
    {"jobs", 0, {{"cleanup.policy", "delete"}, {"retention.ms", "604800000"}, {NULL, NULL}}},
    {"changelog",
     0,
     {{"cleanup.policy", "compact"},
      {"min.compaction.lag.ms", "3600000"},
      {"segment.ms", "3600000"}}},
    {"replies", 1, {{"cleanup.policy", "delete"}, {"retention.ms", "3600000"}, {NULL, NULL}}},
};
#define S_TOPICS (sizeof s_topics / sizeof s_topics[0])

struct jobd_cluster {
    rd_kafka_t *producer; //  the changelog's producer; also the admin client
    int64_t *acked;       //  per changelog partition: the highest offset acked, -1: none
    uint64_t *reported;   //  per changelog partition: delivery reports (acked or refused)
    uint64_t refused;     //  messages Kafka refused for good
    char topics[S_TOPICS][300];
    int partitions;
    char instance[65];
    char name[512]; //  <prefix>@<Kafka cluster id>: the store's meta `cluster`
    int brokers;    //  in the last metadata read (for the topics' replication factor)
    int wait; //  ms: connect_timeout, also the longest an answer to the topics' creation takes
    jobd_cluster_delivered_fn *delivered; //  other messages' reports (forwarded commands)
    void *delivered_arg;
    jobd_cluster_landed_fn *landed; //  where a changelog message with an opaque landed
    void *landed_arg;
};

bool
jobd_cluster_configured (jobd_config_t *config)
{
    return jobd_config_has (config, "cluster");
}

static bool
s_name_ok (const char *name, size_t max)
{
    size_t length = strlen (name);
    return length >= 1 && length <= max &&
           strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
               length;
}

//  librdkafka's own lines, in jobd's log (its errors are warnings: it retries by itself, and what
//  matters reaches jobd as an answer or its absence).
static void
s_log_cb (const rd_kafka_t *rk, int level, const char *facility, const char *text)
{
    jobd_log_level_t jobd_level = level <= 4   ? JOBD_LOG_WARN
                                  : level <= 6 ? JOBD_LOG_INFO
                                               : JOBD_LOG_DEBUG;
    jobd_log (jobd_level, LOG, "kafka %s: %s", facility, text);
}

rd_kafka_conf_t *
jobd_cluster_conf (jobd_config_t *config, rd_kafka_type_t type, char *reason, size_t reason_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    const char *names[S_PROPERTIES_MAX];
    size_t count = jobd_config_names (config, "cluster/kafka", names, S_PROPERTIES_MAX);
    char error[512] = "";
    const char *failed = NULL;
    if (count > S_PROPERTIES_MAX) {
        snprintf (reason, reason_size, "cluster/kafka: more than %d properties", S_PROPERTIES_MAX);
        rd_kafka_conf_destroy (conf);
        return NULL;
    }
    for (size_t index = 0; !failed && index < count; index++) {
        char key[300];
        snprintf (key, sizeof key, "kafka/%s", names[index]);
        const char *value = jobd_config_str (config, "cluster", key);
        if (rd_kafka_conf_set (conf, names[index], value ? value : "", error, sizeof error) !=
            RD_KAFKA_CONF_OK)
            failed = names[index];
    }
    //  Producers: idempotent, every replica's ack, never giving up (the changelog is the
    //  cluster's state). Consumers: positions kept by jobd, in its store, never committed.
    char group[300];
    snprintf (group, sizeof group, "%s.replica.%s", jobd_config_str (config, "cluster", "prefix"),
              jobd_config_str (config, "cluster", "instance"));
    const char *common[][2] = {
        {"bootstrap.servers", jobd_config_str (config, "cluster", "brokers")},
        {"client.id", jobd_config_str (config, "cluster", "instance")}};
    const char *producer[][2] = {{"enable.idempotence", "true"},
                                 {"acks", "all"},
                                 {"linger.ms", "5"},
                                 {"message.timeout.ms", "0"}};
    const char *consumer[][2] = {{"group.id", group},
                                 {"enable.auto.commit", "false"},
                                 {"enable.auto.offset.store", "false"},
                                 {"enable.partition.eof", "false"},
                                 {"fetch.wait.max.ms", "10"}};
    const char *(*own)[2] = type == RD_KAFKA_PRODUCER ? producer : consumer;
    size_t own_count = type == RD_KAFKA_PRODUCER ? sizeof producer / sizeof producer[0]
                                                 : sizeof consumer / sizeof consumer[0];
    for (size_t index = 0; !failed && index < 2; index++)
        if (rd_kafka_conf_set (conf, common[index][0], common[index][1] ? common[index][1] : "",
                               error, sizeof error) != RD_KAFKA_CONF_OK)
            failed = common[index][0];
    for (size_t index = 0; !failed && index < own_count; index++)
        if (rd_kafka_conf_set (conf, own[index][0], own[index][1] ? own[index][1] : "", error,
                               sizeof error) != RD_KAFKA_CONF_OK)
            failed = own[index][0];
    if (failed) {
        snprintf (reason, reason_size, "cluster/kafka/%s: %s", failed, error);
        rd_kafka_conf_destroy (conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb (conf, s_log_cb);
    return conf;
}

int
jobd_cluster_check (jobd_config_t *config, char *reason, size_t reason_size)
{
    int rc = jobd_config_check (config, "cluster", jobd_cluster_map, reason, reason_size);
    if (rc)
        return rc;
    const char *instance = jobd_config_str (config, "cluster", "instance");
    const char *prefix = jobd_config_str (config, "cluster", "prefix");
    int64_t partitions = jobd_config_int (config, "cluster", "partitions", 32);
    const char *bad = NULL;
    if (!instance || !s_name_ok (instance, 64))
        bad = "cluster/instance: required, 1 to 64 of A-Z a-z 0-9 . _ - (unique in the cluster)";
    else if (!jobd_config_str (config, "cluster", "brokers") ||
             !*jobd_config_str (config, "cluster", "brokers"))
        bad = "cluster/brokers: required, the Kafka bootstrap servers (host:port,...)";
    else if (!prefix || !s_name_ok (prefix, 200))
        bad = "cluster/prefix: 1 to 200 of A-Z a-z 0-9 . _ - (a Kafka topic name's characters)";
    else if (partitions < 1 || partitions > JOBD_CLUSTER_PARTITIONS_MAX)
        bad = "cluster/partitions: 1 to 4096";
    else if (jobd_config_int (config, "cluster", "lease", 1000) < 100)
        bad = "cluster/lease: at least 100ms";
    else if (jobd_config_int (config, "cluster", "session_timeout", 6000) <
             2 * jobd_config_int (config, "cluster", "lease", 1000))
        bad = "cluster/session_timeout: at least twice cluster/lease (an owner must notice it "
              "lost Kafka before the group moves its partitions)";
    if (bad) {
        snprintf (reason, reason_size, "config %s: %s", jobd_config_filename (config), bad);
        return JOBD_ECONFIG;
    }
    rd_kafka_conf_t *conf = jobd_cluster_conf (config, RD_KAFKA_PRODUCER, reason, reason_size);
    if (!conf)
        return JOBD_ECONFIG;
    rd_kafka_conf_destroy (conf);
    return 0;
}

//  The partitions of each topic in metadata (-1: not there), and the brokers it names. False when
//  no broker answered.
static bool
s_existing (rd_kafka_t *rk, jobd_cluster_t *self, int existing[S_TOPICS], int timeout_ms)
{
    const struct rd_kafka_metadata *metadata = NULL;
    if (rd_kafka_metadata (rk, 1, NULL, &metadata, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return false;
    self->brokers = metadata->broker_cnt;
    for (size_t index = 0; index < S_TOPICS; index++) {
        existing[index] = -1;
        for (int topic = 0; topic < metadata->topic_cnt; topic++)
            if (strcmp (metadata->topics[topic].topic, self->topics[index]) == 0 &&
                metadata->topics[topic].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                existing[index] = metadata->topics[topic].partition_cnt;
    }
    rd_kafka_metadata_destroy (metadata);
    return true;
}

//  Makes the topics that are missing (another instance may make them at the same time: "already
//  exists" is fine). Returns 0, or JOBD_ETIMEOUT / JOBD_ECONFIG with a reason.
static int
s_create (jobd_cluster_t *self, const int existing[S_TOPICS], char *reason, size_t reason_size)
{
    rd_kafka_t *rk = self->producer;
    int replication = self->brokers >= 3 ? 3 : self->brokers > 0 ? self->brokers : 1;
    rd_kafka_NewTopic_t *topics[S_TOPICS];
    size_t count = 0;
    char error[512] = "";
    for (size_t index = 0; index < S_TOPICS; index++) {
        if (existing[index] >= 0)
            continue;
        int partitions = s_topics[index].partitions ? s_topics[index].partitions : self->partitions;
        rd_kafka_NewTopic_t *topic = rd_kafka_NewTopic_new (self->topics[index], partitions,
                                                            replication, error, sizeof error);
        if (!topic) {
            snprintf (reason, reason_size, "topic %s: %s", self->topics[index], error);
            for (size_t made = 0; made < count; made++)
                rd_kafka_NewTopic_destroy (topics[made]);
            return JOBD_ECONFIG;
        }
        for (size_t config = 0; config < 3 && s_topics[index].configs[config][0]; config++)
            rd_kafka_NewTopic_set_config (topic, s_topics[index].configs[config][0],
                                          s_topics[index].configs[config][1]);
        if (replication >= 3)
            rd_kafka_NewTopic_set_config (topic, "min.insync.replicas", "2");
        topics[count++] = topic;
        jobd_log (JOBD_LOG_INFO, LOG, "making topic %s: %d partitions, replication %d",
                  self->topics[index], partitions, replication);
    }
    if (count == 0)
        return 0;
    rd_kafka_queue_t *queue = rd_kafka_queue_new (rk);
    rd_kafka_CreateTopics (rk, topics, count, NULL, queue);
    rd_kafka_event_t *event = rd_kafka_queue_poll (queue, self->wait);
    int rc = 0;
    //  A cluster that takes no CreateTopics (librdkafka 2.0's mock; a broker whose ACLs refuse
    //  it): the operator makes them, as the reason says.
    if (!event || rd_kafka_event_error (event)) {
        snprintf (reason, reason_size,
                  "cannot make the cluster's topics (%s): make them with Kafka's tools: "
                  "%s and %s with %d partitions (the changelog cleanup.policy=compact), %s with 1",
                  event ? rd_kafka_event_error_string (event) : "no answer in connect_timeout",
                  self->topics[0], self->topics[1], self->partitions, self->topics[2]);
        rc = JOBD_ECONFIG;
    } else {
        size_t results = 0;
        const rd_kafka_topic_result_t **result = rd_kafka_CreateTopics_result_topics (
            rd_kafka_event_CreateTopics_result (event), &results);
        for (size_t index = 0; rc == 0 && index < results; index++) {
            rd_kafka_resp_err_t err = rd_kafka_topic_result_error (result[index]);
            if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                snprintf (reason, reason_size, "making topic %s: %s",
                          rd_kafka_topic_result_name (result[index]),
                          rd_kafka_topic_result_error_string (result[index]));
                rc = JOBD_ECONFIG;
            }
        }
    }
    rd_kafka_event_destroy (event);
    rd_kafka_queue_destroy (queue);
    for (size_t index = 0; index < count; index++)
        rd_kafka_NewTopic_destroy (topics[index]);
    return rc;
}

//  Every topic there with its partitions: 0, or JOBD_ECONFIG naming the first that differs.
static int
s_compare (jobd_cluster_t *self, const int existing[S_TOPICS], char *reason, size_t reason_size)
{
    for (size_t index = 0; index < S_TOPICS; index++) {
        int want = s_topics[index].partitions ? s_topics[index].partitions : self->partitions;
        if (existing[index] >= 0 && existing[index] != want) {
            snprintf (reason, reason_size,
                      "topic %s has %d partitions, this instance needs %d (%s): another "
                      "cluster's topics, or a changed config; a cluster's partitions are fixed "
                      "for its life",
                      self->topics[index], existing[index], want,
                      s_topics[index].partitions ? "fixed" : "cluster/partitions");
            return JOBD_ECONFIG;
        }
    }
    return 0;
}

//  A delivery report: the offset acked, or a message refused for good (the idempotent producer
//  retries everything else itself, for ever: message.timeout.ms 0).
static void
s_delivered (rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
    jobd_cluster_t *self = (jobd_cluster_t *)opaque;
    bool changelog = message->partition >= 0 && message->partition < self->partitions &&
                     strcmp (rd_kafka_topic_name (message->rkt), self->topics[1]) == 0;
    if (changelog)
        self->reported[message->partition]++;
    if (!changelog && message->_private && self->delivered) {
        self->delivered (message->_private, message->err, self->delivered_arg);
        return;
    }
    if (changelog && message->_private && self->landed)
        self->landed (message->_private, message, self->landed_arg);
    if (message->err) {
        self->refused++;
        jobd_log (JOBD_LOG_ERROR, LOG, "changelog message of partition %d refused: %s",
                  (int)message->partition, rd_kafka_err2str (message->err));
    } else if (changelog && message->offset > self->acked[message->partition])
        self->acked[message->partition] = message->offset;
}

int
jobd_cluster_new (jobd_config_t *config, jobd_cluster_t **self_p, char *reason, size_t reason_size)
{
    *self_p = NULL;
    int rc = jobd_cluster_check (config, reason, reason_size);
    if (rc)
        return rc;
    jobd_cluster_t *self = (jobd_cluster_t *)calloc (1, sizeof (jobd_cluster_t));
    if (!self)
        return -ENOMEM;
    self->partitions = (int)jobd_config_int (config, "cluster", "partitions", 32);
    snprintf (self->instance, sizeof self->instance, "%s",
              jobd_config_str (config, "cluster", "instance"));
    self->acked = (int64_t *)malloc ((size_t)self->partitions * sizeof (int64_t));
    self->reported = (uint64_t *)calloc ((size_t)self->partitions, sizeof (uint64_t));
    if (!self->acked || !self->reported) {
        free (self->reported);
        free (self->acked);
        free (self);
        return -ENOMEM;
    }
    for (int partition = 0; partition < self->partitions; partition++)
        self->acked[partition] = -1;
    int64_t wait = jobd_config_int (config, "cluster", "connect_timeout", 30000);
    self->wait = wait < 1000 ? 1000 : wait > 600000 ? 600000 : (int)wait;
    for (size_t index = 0; index < S_TOPICS; index++)
        snprintf (self->topics[index], sizeof self->topics[index], "%s.%s",
                  jobd_config_str (config, "cluster", "prefix"), s_topics[index].role);
    rd_kafka_conf_t *conf = jobd_cluster_conf (config, RD_KAFKA_PRODUCER, reason, reason_size);
    if (conf) {
        rd_kafka_conf_set_opaque (conf, self);
        rd_kafka_conf_set_dr_msg_cb (conf, s_delivered);
    }
    char error[512];
    if (conf && !(self->producer = rd_kafka_new (RD_KAFKA_PRODUCER, conf, error, sizeof error))) {
        snprintf (reason, reason_size, "cluster: %s", error);
        rd_kafka_conf_destroy (conf);
    }
    rc = self->producer ? 0 : JOBD_ECONFIG;
    //  Kafka may come up after jobd: wait for a broker up to connect_timeout.
    int existing[S_TOPICS];
    int64_t until = zclock_mono () + jobd_config_int (config, "cluster", "connect_timeout", 30000);
    bool answered = false;
    while (rc == 0 && !(answered = s_existing (self->producer, self, existing, 2000)) &&
           zclock_mono () < until)
        jobd_log (JOBD_LOG_WARN, LOG, "no Kafka broker answers at %s yet",
                  jobd_config_str (config, "cluster", "brokers"));
    if (rc == 0 && !answered) {
        snprintf (reason, reason_size, "cluster: no Kafka broker answered at %s in %lld ms",
                  jobd_config_str (config, "cluster", "brokers"),
                  (long long)jobd_config_int (config, "cluster", "connect_timeout", 30000));
        rc = JOBD_ETIMEOUT;
    }
    if (rc == 0)
        rc = s_compare (self, existing, reason, reason_size);
    if (rc == 0)
        rc = s_create (self, existing, reason, reason_size);
    //  Read back: what was made (or made meanwhile by another instance) must be as wanted.
    if (rc == 0 && !s_existing (self->producer, self, existing, 10000)) {
        snprintf (reason, reason_size, "cluster: Kafka stopped answering after making the topics");
        rc = JOBD_ETIMEOUT;
    }
    for (size_t index = 0; rc == 0 && index < S_TOPICS; index++)
        if (existing[index] < 0) {
            snprintf (reason, reason_size, "cluster: topic %s is still missing after its creation",
                      self->topics[index]);
            rc = JOBD_ETIMEOUT;
        }
    if (rc == 0)
        rc = s_compare (self, existing, reason, reason_size);
    if (rc) {
        jobd_cluster_destroy (&self);
        return rc;
    }
    //  The cluster a store belongs to: the topics' prefix on this Kafka cluster (its id, or the
    //  bootstrap list from brokers too old to say).
    char *id = rd_kafka_clusterid (self->producer, 5000);
    snprintf (self->name, sizeof self->name, "%s@%s", jobd_config_str (config, "cluster", "prefix"),
              id ? id : jobd_config_str (config, "cluster", "brokers"));
    if (id)
        rd_kafka_mem_free (self->producer, id);
    jobd_log (JOBD_LOG_INFO, LOG, "instance %s: topics %s, %s, %s (%d partitions) ready",
              jobd_config_str (config, "cluster", "instance"), self->topics[0], self->topics[1],
              self->topics[2], self->partitions);
    *self_p = self;
    return 0;
}

void
jobd_cluster_destroy (jobd_cluster_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_cluster_t *self = *self_p;
    if (self->producer) {
        rd_kafka_flush (self->producer, 5000);
        rd_kafka_destroy (self->producer);
    }
    free (self->acked);
    free (self->reported);
    free (self);
    *self_p = NULL;
}

const char *
jobd_cluster_instance (jobd_cluster_t *self)
{
    return self->instance;
}

const char *
jobd_cluster_name (jobd_cluster_t *self)
{
    return self->name;
}

int
jobd_cluster_partitions (jobd_cluster_t *self)
{
    return self->partitions;
}

const char *
jobd_cluster_topic (jobd_cluster_t *self, const char *role)
{
    for (size_t index = 0; index < S_TOPICS; index++)
        if (strcmp (s_topics[index].role, role) == 0)
            return self->topics[index];
    return NULL;
}

int
jobd_cluster_produce (jobd_cluster_t *self, const char *role, int32_t partition, const void *key,
                      size_t key_size, const void *value, size_t value_size, char *reason,
                      size_t reason_size)
{
    return jobd_cluster_produce_with (self, role, partition, key, key_size, value, value_size, NULL,
                                      NULL, NULL, reason, reason_size);
}

int
jobd_cluster_produce_with (jobd_cluster_t *self, const char *role, int32_t partition,
                           const void *key, size_t key_size, const void *value, size_t value_size,
                           const char *header, const char *header_value, void *opaque, char *reason,
                           size_t reason_size)
{
    const char *topic = jobd_cluster_topic (self, role);
    int partitions = strcmp (role, "replies") == 0 ? 1 : self->partitions;
    if (!topic || partition < 0 || partition >= partitions) {
        snprintf (reason, reason_size, "no partition %d of topic %s", (int)partition,
                  topic ? topic : role);
        return -EINVAL;
    }
    rd_kafka_resp_err_t err =
        header
            ? rd_kafka_producev (
                  self->producer, RD_KAFKA_V_TOPIC (topic), RD_KAFKA_V_PARTITION (partition),
                  RD_KAFKA_V_KEY (key, key_size), RD_KAFKA_V_VALUE ((void *)value, value_size),
                  RD_KAFKA_V_HEADER (header, header_value, -1), RD_KAFKA_V_OPAQUE (opaque),
                  RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)
            : rd_kafka_producev (self->producer, RD_KAFKA_V_TOPIC (topic),
                                 RD_KAFKA_V_PARTITION (partition), RD_KAFKA_V_KEY (key, key_size),
                                 RD_KAFKA_V_VALUE ((void *)value, value_size),
                                 RD_KAFKA_V_OPAQUE (opaque),
                                 RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    snprintf (reason, reason_size, "producing to %s/%d: %s", topic, (int)partition,
              rd_kafka_err2str (err));
    return err == RD_KAFKA_RESP_ERR__QUEUE_FULL          ? -ENOBUFS
           : err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? JOBD_ETOOBIG
                                                         : -EINVAL;
}

size_t
jobd_cluster_poll (jobd_cluster_t *self)
{
    rd_kafka_poll (self->producer, 0);
    return (size_t)rd_kafka_outq_len (self->producer);
}

int64_t
jobd_cluster_acked (jobd_cluster_t *self, int32_t partition)
{
    return partition >= 0 && partition < self->partitions ? self->acked[partition] : -1;
}

uint64_t
jobd_cluster_reported (jobd_cluster_t *self, int32_t partition)
{
    return partition >= 0 && partition < self->partitions ? self->reported[partition] : 0;
}

uint64_t
jobd_cluster_refused (jobd_cluster_t *self)
{
    return self->refused;
}

int
jobd_cluster_flush (jobd_cluster_t *self, int timeout_ms)
{
    return rd_kafka_flush (self->producer, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR
               ? 0
               : JOBD_ETIMEOUT;
}

void
jobd_cluster_set_delivered_fn (jobd_cluster_t *self, jobd_cluster_delivered_fn *fn, void *arg)
{
    self->delivered = fn;
    self->delivered_arg = arg;
}

void
jobd_cluster_set_landed_fn (jobd_cluster_t *self, jobd_cluster_landed_fn *fn, void *arg)
{
    self->landed = fn;
    self->landed_arg = arg;
}

int
jobd_cluster_high (jobd_cluster_t *self, const char *role, int32_t partition, int64_t *high_p)
{
    int64_t low = -1;
    const char *topic = jobd_cluster_topic (self, role);
    if (!topic || rd_kafka_query_watermark_offsets (self->producer, topic, partition, &low, high_p,
                                                    self->wait))
        return JOBD_ETIMEOUT;
    return 0;
}
