//  The replica reader of cluster mode (see jobd_replica.h).
#include "jobd_replica.h"
#include "jobd_cluster.h"
#include "jobd_error.h"
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct jobd_replica {
    rd_kafka_t *consumer;
    rd_kafka_queue_t *queue; //  the consumer's: its messages
    int wake[2];             //  a pipe librdkafka writes a byte to when the queue fills again
    char *topic;
    int partitions;
    int64_t *next; //  per partition: the next offset to hand (-1: from the beginning, unknown)
};

int
jobd_replica_new (jobd_config_t *config, const char *topic, int partitions, const int64_t *next,
                  jobd_replica_t **self_p, char *reason, size_t reason_size)
{
    *self_p = NULL;
    if (partitions < 1 || partitions > JOBD_CLUSTER_PARTITIONS_MAX) {
        snprintf (reason, reason_size, "replica of %s: %d partitions", topic, partitions);
        return JOBD_ECONFIG;
    }
    jobd_replica_t *self = (jobd_replica_t *)calloc (1, sizeof (jobd_replica_t));
    if (!self)
        return -ENOMEM;
    self->wake[0] = self->wake[1] = -1;
    self->topic = strdup (topic);
    self->partitions = partitions;
    self->next = (int64_t *)calloc ((size_t)partitions, sizeof (int64_t));
    if (!self->topic || !self->next) {
        jobd_replica_destroy (&self);
        return -ENOMEM;
    }
    rd_kafka_conf_t *conf = jobd_cluster_conf (config, RD_KAFKA_CONSUMER, reason, reason_size);
    char error[512];
    if (conf && !(self->consumer = rd_kafka_new (RD_KAFKA_CONSUMER, conf, error, sizeof error))) {
        snprintf (reason, reason_size, "replica of %s: %s", topic, error);
        rd_kafka_conf_destroy (conf);
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (partitions);
    for (int partition = 0; partition < partitions; partition++) {
        self->next[partition] = next && next[partition] >= 0 ? next[partition] : -1;
        rd_kafka_topic_partition_list_add (list, topic, partition)->offset =
            self->next[partition] >= 0 ? self->next[partition] : RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_resp_err_t err =
        self->consumer ? rd_kafka_assign (self->consumer, list) : RD_KAFKA_RESP_ERR__INVALID_ARG;
    rd_kafka_topic_partition_list_destroy (list);
    //  The wake-up: a byte on a pipe whenever the queue gets a message after being empty, so
    //  that the reader's thread can wait in its own poll with every other socket it serves.
    if (!err && pipe2 (self->wake, O_NONBLOCK | O_CLOEXEC) == 0 &&
        (self->queue = rd_kafka_queue_get_consumer (self->consumer))) {
        rd_kafka_queue_io_event_enable (self->queue, self->wake[1], "1", 1);
        //  Messages queued before that wrote nothing: the first wait must not miss them.
        if (write (self->wake[1], "1", 1) != 1)
            err = RD_KAFKA_RESP_ERR__FAIL;
    } else if (!err) {
        snprintf (reason, reason_size, "replica of %s: no wake-up pipe", topic);
        err = RD_KAFKA_RESP_ERR__FAIL;
    }
    if (err) {
        if (self->consumer)
            snprintf (reason, reason_size, "replica of %s: %s", topic, rd_kafka_err2str (err));
        jobd_replica_destroy (&self);
        return JOBD_ECONFIG;
    }
    *self_p = self;
    return 0;
}

void
jobd_replica_destroy (jobd_replica_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_replica_t *self = *self_p;
    if (self->queue) {
        rd_kafka_queue_io_event_enable (self->queue, -1, NULL, 0);
        rd_kafka_queue_destroy (self->queue);
    }
    //  It never joined a group: nothing to leave, nothing to commit.
    if (self->consumer)
        rd_kafka_destroy_flags (self->consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    for (int end = 0; end < 2; end++)
        if (self->wake[end] >= 0)
            close (self->wake[end]);
    free (self->topic);
    free (self->next);
    free (self);
    *self_p = NULL;
}

size_t
jobd_replica_read (jobd_replica_t *self, size_t max, int timeout_ms, jobd_replica_fn *fn, void *arg)
{
    //  The wake-up bytes so far are read first: a message after them writes a new one.
    char drained[64];
    while (read (self->wake[0], drained, sizeof drained) > 0)
        ;
    size_t count = 0;
    bool more = true;
    while (more && count < max) {
        rd_kafka_message_t *message =
            rd_kafka_consumer_poll (self->consumer, count == 0 ? timeout_ms : 0);
        if (!message)
            break;
        //  Errors (a broker down, a partition's leader moving) are librdkafka's to retry and its
        //  log's to tell: nothing to hand.
        if (!message->err && message->partition >= 0 && message->partition < self->partitions) {
            int64_t timestamp = rd_kafka_message_timestamp (message, NULL);
            jobd_replica_message_t handed = {message->partition, message->offset,  message->key,
                                             message->key_len,   message->payload, message->len,
                                             timestamp};
            self->next[message->partition] = message->offset + 1;
            more = fn (&handed, arg);
            count++;
        }
        rd_kafka_message_destroy (message);
    }
    //  Left in the queue (max reached, or a poll that served something else and said nothing):
    //  the descriptor stays readable, as no enqueue on an empty queue will make it so.
    if (rd_kafka_queue_length (self->queue) > 0 && write (self->wake[1], "1", 1) != 1) {
        //  A full pipe is readable already.
    }
    return count;
}

int
jobd_replica_scan (jobd_config_t *config, const char *topic, int32_t partition, int64_t end,
                   int timeout_ms, jobd_replica_fn *fn, void *arg, char *reason, size_t reason_size)
{
    if (end <= 0)
        return 0;
    rd_kafka_conf_t *conf = jobd_cluster_conf (config, RD_KAFKA_CONSUMER, reason, reason_size);
    char error[512];
    rd_kafka_t *consumer = NULL;
    //  The partition's end says "no more" where a compacted log has no message at end - 1.
    if (conf && rd_kafka_conf_set (conf, "enable.partition.eof", "true", error, sizeof error) !=
                    RD_KAFKA_CONF_OK) {
        snprintf (reason, reason_size, "re-reading %s: %s", topic, error);
        rd_kafka_conf_destroy (conf);
        conf = NULL;
    }
    if (conf && !(consumer = rd_kafka_new (RD_KAFKA_CONSUMER, conf, error, sizeof error))) {
        snprintf (reason, reason_size, "re-reading %s: %s", topic, error);
        rd_kafka_conf_destroy (conf);
    }
    if (!consumer)
        return JOBD_ECONFIG;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (1);
    rd_kafka_topic_partition_list_add (list, topic, partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t err = rd_kafka_assign (consumer, list);
    rd_kafka_topic_partition_list_destroy (list);
    int rc = JOBD_ETIMEOUT;
    if (err) {
        snprintf (reason, reason_size, "re-reading %s [%d]: %s", topic, (int)partition,
                  rd_kafka_err2str (err));
        rc = JOBD_ECONFIG;
    }
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    int64_t deadline = now.tv_sec * 1000 + now.tv_nsec / 1000000 + timeout_ms;
    while (rc == JOBD_ETIMEOUT) {
        clock_gettime (CLOCK_MONOTONIC, &now);
        int64_t left = deadline - (now.tv_sec * 1000 + now.tv_nsec / 1000000);
        if (left <= 0)
            break;
        rd_kafka_message_t *message =
            rd_kafka_consumer_poll (consumer, left < 100 ? (int)left : 100);
        if (!message)
            continue;
        //  The end, once past `end` (a compacted log has no message at end - 1; a leader that
        //  moved may name an end below what was read before: not the end then).
        if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            rc = message->offset >= end ? 0 : rc;
        else if (!message->err && message->partition == partition && message->offset < end) {
            jobd_replica_message_t handed = {message->partition,
                                             message->offset,
                                             message->key,
                                             message->key_len,
                                             message->payload,
                                             message->len,
                                             rd_kafka_message_timestamp (message, NULL)};
            fn (&handed, arg);
            if (message->offset + 1 >= end)
                rc = 0;
        } else if (!message->err && message->partition == partition)
            rc = 0;
        rd_kafka_message_destroy (message);
    }
    if (rc == JOBD_ETIMEOUT)
        snprintf (reason, reason_size, "re-reading %s [%d]: Kafka did not hand it within %d ms",
                  topic, (int)partition, timeout_ms);
    rd_kafka_destroy_flags (consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return rc;
}

int
jobd_replica_fd (jobd_replica_t *self)
{
    return self->wake[0];
}

int64_t
jobd_replica_next (jobd_replica_t *self, int32_t partition)
{
    return partition >= 0 && partition < self->partitions ? self->next[partition] : -1;
}

int64_t
jobd_replica_behind (jobd_replica_t *self, int32_t partition)
{
    if (partition < 0 || partition >= self->partitions)
        return -1;
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets (self->consumer, self->topic, partition, &low, &high) ||
        high < 0)
        return -1;
    int64_t next = self->next[partition] >= 0 ? self->next[partition] : low;
    return high > next ? high - next : 0;
}
