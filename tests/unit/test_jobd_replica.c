//  The replica reader (cluster mode): every partition of a topic read in offset order, each from
//  the position given; a stop mid-batch takes the message it stopped at; a new reader from the
//  positions reached reads the rest, nothing twice. Against librdkafka's mock cluster, in
//  process (three brokers on loopback TCP).
#include "jobd_cluster.h"
#include "jobd_replica.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <czmq.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_PARTITIONS 8
#define S_MESSAGES   800

static rd_kafka_t *s_producer; //  owns the mock cluster
static jobd_config_t *s_config;
static char s_path[64];

static int
s_setup (void **state)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char error[256];
    assert_int_equal (rd_kafka_conf_set (conf, "test.mock.num.brokers", "3", error, sizeof error),
                      RD_KAFKA_CONF_OK);
    s_producer = rd_kafka_new (RD_KAFKA_PRODUCER, conf, error, sizeof error);
    assert_non_null (s_producer);
    rd_kafka_mock_cluster_t *mock = rd_kafka_handle_mock_cluster (s_producer);
    assert_int_equal (rd_kafka_mock_topic_create (mock, "t.changelog", S_PARTITIONS, 3), 0);
    assert_int_equal (rd_kafka_mock_topic_create (mock, "t.jobs", S_PARTITIONS, 3), 0);
    assert_int_equal (rd_kafka_mock_topic_create (mock, "t.replies", 1, 3), 0);
    snprintf (s_path, sizeof s_path, "/tmp/jobd-replica-XXXXXX");
    int fd = mkstemp (s_path);
    assert_true (fd >= 0);
    FILE *file = fdopen (fd, "w");
    fprintf (file,
             "cluster\n    instance = test\n    brokers = %s\n    prefix = t\n    partitions = "
             "%d\n",
             rd_kafka_mock_cluster_bootstraps (mock), S_PARTITIONS);
    fclose (file);
    char reason[256];
    assert_int_equal (jobd_config_load (s_path, &s_config, reason, sizeof reason), 0);
    assert_int_equal (jobd_cluster_check (s_config, reason, sizeof reason), 0);
    //  Message i: key "k<i>" in partition i % S_PARTITIONS.
    for (int index = 0; index < S_MESSAGES; index++) {
        char key[16];
        snprintf (key, sizeof key, "k%d", index);
        assert_int_equal (rd_kafka_producev (s_producer, RD_KAFKA_V_TOPIC ("t.changelog"),
                                             RD_KAFKA_V_PARTITION (index % S_PARTITIONS),
                                             RD_KAFKA_V_KEY (key, strlen (key)),
                                             RD_KAFKA_V_VALUE (key, strlen (key)),
                                             RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
                                             RD_KAFKA_V_END),
                          RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    assert_int_equal (rd_kafka_flush (s_producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    return 0;
}

static int
s_teardown (void **state)
{
    jobd_config_destroy (&s_config);
    unlink (s_path);
    rd_kafka_destroy (s_producer);
    return 0;
}

typedef struct {
    int64_t next[S_PARTITIONS]; //  the offset each partition must hand next
    bool seen[S_MESSAGES];
    size_t count;
    size_t stop_at; //  fn says stop at the message that makes count this (0: never)
} s_read_t;

static bool
s_take (const jobd_replica_message_t *message, void *arg)
{
    s_read_t *read = (s_read_t *)arg;
    assert_true (message->partition >= 0 && message->partition < S_PARTITIONS);
    assert_int_equal (message->offset, read->next[message->partition]);
    read->next[message->partition]++;
    char key[16];
    snprintf (key, sizeof key, "%.*s", (int)message->key_size, (const char *)message->key);
    int index = atoi (key + 1);
    assert_int_equal (index % S_PARTITIONS, message->partition);
    assert_false (read->seen[index]);
    read->seen[index] = true;
    assert_true (message->timestamp > 0);
    read->count++;
    return read->count != read->stop_at;
}

//  Reads until count reaches want (10 s at most).
static void
s_read_until (jobd_replica_t *replica, s_read_t *read, size_t want)
{
    for (int turns = 0; read->count < want && turns < 100; turns++)
        jobd_replica_read (replica, 64, 100, s_take, read);
    assert_int_equal (read->count, want);
}

static void
test_every_partition_in_order_then_resumed (void **state)
{
    char reason[256];
    jobd_replica_t *replica = NULL;
    assert_int_equal (jobd_replica_new (s_config, "t.changelog", S_PARTITIONS, NULL, &replica,
                                        reason, sizeof reason),
                      0);
    s_read_t read = {.stop_at = 350};
    s_read_until (replica, &read, 350);
    //  Stopped there: the next reader starts after the message it stopped at.
    int64_t next[S_PARTITIONS];
    for (int partition = 0; partition < S_PARTITIONS; partition++) {
        next[partition] = jobd_replica_next (replica, partition);
        //  -1: nothing read there yet, from the beginning still.
        assert_true (next[partition] == read.next[partition] ||
                     (next[partition] == -1 && read.next[partition] == 0));
    }
    jobd_replica_destroy (&replica);
    assert_null (replica);
    assert_int_equal (jobd_replica_new (s_config, "t.changelog", S_PARTITIONS, next, &replica,
                                        reason, sizeof reason),
                      0);
    read.stop_at = 0;
    s_read_until (replica, &read, S_MESSAGES);
    for (int partition = 0; partition < S_PARTITIONS; partition++) {
        assert_int_equal (jobd_replica_next (replica, partition), S_MESSAGES / S_PARTITIONS);
        assert_int_equal (jobd_replica_behind (replica, partition), 0);
    }
    //  Nothing more.
    assert_int_equal (jobd_replica_read (replica, 64, 200, s_take, &read), 0);
    assert_int_equal (jobd_replica_next (replica, S_PARTITIONS), -1);
    jobd_replica_destroy (&replica);
    jobd_replica_destroy (&replica); //  NULL-safe
}

//  The cluster's producer: what it produced is acked per partition, then read back in order.
typedef struct {
    size_t count;
    int64_t last[S_PARTITIONS];
} s_tail_t;

static bool
s_tail (const jobd_replica_message_t *message, void *arg)
{
    s_tail_t *tail = (s_tail_t *)arg;
    if (message->value_size == 4 && memcmp (message->value, "tail", 4) == 0) {
        tail->count++;
        tail->last[message->partition] = message->offset;
    }
    return true;
}

static void
test_produced_is_acked_then_read (void **state)
{
    char reason[256];
    jobd_cluster_t *cluster = NULL;
    assert_int_equal (jobd_cluster_new (s_config, &cluster, reason, sizeof reason), 0);
    assert_string_equal (jobd_cluster_topic (cluster, "changelog"), "t.changelog");
    for (int index = 0; index < 40; index++)
        assert_int_equal (jobd_cluster_produce (cluster, "changelog", index % S_PARTITIONS, "k", 1,
                                                "tail", 4, reason, sizeof reason),
                          0);
    assert_int_equal (jobd_cluster_produce (cluster, "changelog", S_PARTITIONS, "k", 1, "tail", 4,
                                            reason, sizeof reason),
                      -EINVAL);
    assert_non_null (strstr (reason, "no partition 8 of topic t.changelog"));
    assert_int_equal (jobd_cluster_flush (cluster, 10000), 0);
    assert_int_equal (jobd_cluster_poll (cluster), 0);
    assert_int_equal (jobd_cluster_refused (cluster), 0);
    //  After the S_MESSAGES of the setup, 5 more in each partition.
    for (int partition = 0; partition < S_PARTITIONS; partition++)
        assert_int_equal (jobd_cluster_acked (cluster, partition), S_MESSAGES / S_PARTITIONS + 4);
    jobd_replica_t *replica = NULL;
    assert_int_equal (jobd_replica_new (s_config, "t.changelog", S_PARTITIONS, NULL, &replica,
                                        reason, sizeof reason),
                      0);
    s_tail_t tail = {0};
    //  Waited for on the wake-up descriptor, as a loop serving other sockets would.
    int64_t until = zclock_mono () + 10000;
    while (tail.count < 40 && zclock_mono () < until) {
        struct pollfd wake = {jobd_replica_fd (replica), POLLIN, 0};
        if (poll (&wake, 1, 1000) == 1)
            jobd_replica_read (replica, 100, 0, s_tail, &tail);
    }
    assert_int_equal (tail.count, 40);
    for (int partition = 0; partition < S_PARTITIONS; partition++)
        assert_int_equal (tail.last[partition], jobd_cluster_acked (cluster, partition));
    jobd_replica_destroy (&replica);
    jobd_cluster_destroy (&cluster);
    assert_null (cluster);
}

static void
test_bad_partition_count_is_refused (void **state)
{
    char reason[256] = "";
    jobd_replica_t *replica = NULL;
    assert_int_equal (
        jobd_replica_new (s_config, "t.changelog", 0, NULL, &replica, reason, sizeof reason),
        JOBD_ECONFIG);
    assert_null (replica);
    assert_non_null (strstr (reason, "0 partitions"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_partition_in_order_then_resumed),
        cmocka_unit_test (test_produced_is_acked_then_read),
        cmocka_unit_test (test_bad_partition_count_is_refused)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
