//  kafka-listener under failure, against librdkafka's mock cluster (tools/kafka-mock over
//  loopback TCP): SIGKILLs mid-stream apply every transition exactly once; a broker outage
//  leaves jobd answering and loses nothing; two instances of one consumer group split the
//  partitions and the survivor takes over; the outbound topic keeps each job's transitions in
//  order.
#include "harness_kafka.h"
#include "jobd_map.h"
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static harness_t s_harness; //  its folder holds the mock's log
static harness_t s_a, s_b;  //  each test's jobd instances, made and removed around each test
static harness_proc_t s_mock;
static char s_brokers[256];
static bool s_brokers_down;

//  The consumer settings every jobd here runs with: a dead member leaves the group after 3 s
//  (librdkafka's default is 45 s), and clients reconnect within 100 ms of a broker coming back.
static void
s_config (harness_t *harness, const char *topic, const char *group, const char *transitions)
{
    char extra[2048];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    kafka-listener\n"
              "        path = %s/plugins/kafka-listener.so\n"
              "        brokers = %s\n"
              "        group = %s\n"
              "        topics = %s\n"
              "        transitions = %s\n"
              "        dead_letter = %s.dead\n"
              "        kafka\n"
              "            session.timeout.ms = 3000\n"
              "            heartbeat.interval.ms = 300\n"
              "            reconnect.backoff.ms = 10\n"
              "            reconnect.backoff.max.ms = 100\n",
              harness_build_dir (), s_brokers, group, topic, transitions, topic);
    harness_write_config (harness, extra);
}

//  Sends one command line and waits for its answer.
static void
s_mock_command (const char *command, const char *answer)
{
    assert_true (harness_kafka_command (&s_mock, command, answer));
}

static int
s_setup (void **state)
{
    harness_init (&s_harness, "kafka-cluster");
    const char *const args[] = {"--commands",       "--topic", "t1.status:4",      "--topic",
                                "t2.status:1",      "--topic", "t2.transitions:1", "--topic",
                                "t3.status:4",      "--topic", "t4.status:4",      "--topic",
                                "t4.transitions:4", NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_harness, args, s_brokers, sizeof s_brokers),
                      0);
    return 0;
}

static int
s_test_setup (void **state)
{
    harness_init (&s_a, "kafka-cluster-a");
    harness_init (&s_b, "kafka-cluster-b");
    return 0;
}

static int
s_test_teardown (void **state)
{
    if (s_brokers_down) { //  a failed outage test: the next tests need the brokers
        s_mock_command ("up all", "ok broker all up");
        s_brokers_down = false;
    }
    harness_fini (&s_a);
    harness_fini (&s_b);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_proc_finish (&s_mock, 10000); //  the end of stdin stops it
    harness_fini (&s_harness);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Kafka clients of the test

//  Where the cluster put one produced message (filled by the delivery report).
typedef struct {
    int32_t partition;
    int64_t offset;
} s_where_t;

static void
s_delivered (rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
    s_where_t *where = (s_where_t *)message->_private;
    if (where && !message->err) {
        where->partition = message->partition;
        where->offset = message->offset;
    }
}

static rd_kafka_t *
s_client (rd_kafka_type_t type, const char *group)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char error[256];
    const char *settings[][2] = {{"bootstrap.servers", s_brokers},
                                 {"reconnect.backoff.ms", "10"},
                                 {"reconnect.backoff.max.ms", "100"}};
    for (size_t index = 0; index < 3; index++)
        assert_int_equal (
            rd_kafka_conf_set (conf, settings[index][0], settings[index][1], error, sizeof error),
            RD_KAFKA_CONF_OK);
    if (type == RD_KAFKA_CONSUMER) {
        //  assign and committed need a group id, though this client never joins
        rd_kafka_conf_set (conf, "group.id", group, error, sizeof error);
        rd_kafka_conf_set (conf, "enable.auto.commit", "false", error, sizeof error);
    } else {
        //  One job's events in order on their partition, whatever the retries.
        rd_kafka_conf_set (conf, "enable.idempotence", "true", error, sizeof error);
        rd_kafka_conf_set (conf, "linger.ms", "2", error, sizeof error);
        rd_kafka_conf_set_dr_msg_cb (conf, s_delivered);
    }
    rd_kafka_t *client = rd_kafka_new (type, conf, error, sizeof error);
    assert_non_null (client);
    return client;
}

//  Produces value keyed by key (the job's ext): one job lives in one partition. partition is
//  RD_KAFKA_PARTITION_UA to let the key choose; where (may be NULL) is filled on delivery.
static void
s_produce (rd_kafka_t *producer, const char *topic, int32_t partition, const char *key,
           const char *value, s_where_t *where)
{
    if (where)
        where->partition = -1;
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev (
                producer, RD_KAFKA_V_TOPIC (topic), RD_KAFKA_V_PARTITION (partition),
                RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY (key, strlen (key)),
                RD_KAFKA_V_VALUE ((void *)value, strlen (value)), RD_KAFKA_V_OPAQUE (where),
                RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll (producer, 10);
    assert_int_equal (err, 0);
}

static void
s_produce_state (rd_kafka_t *producer, const char *topic, const char *ext, const char *state,
                 s_where_t *where)
{
    char value[200];
    snprintf (value, sizeof value, "{\"ext\":\"%s\",\"name\":\"%s\",\"state\":\"%s\"}", ext, ext,
              state);
    s_produce (producer, topic, RD_KAFKA_PARTITION_UA, ext, value, where);
}

static void
s_flush (rd_kafka_t *producer)
{
    assert_int_equal (rd_kafka_flush (producer, 15000), 0);
}

//  The offsets the group committed on the topic's partitions (0 when none).
static void
s_committed (const char *group, const char *topic, int partitions, int64_t *offsets)
{
    rd_kafka_t *consumer = s_client (RD_KAFKA_CONSUMER, group);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (partitions);
    for (int partition = 0; partition < partitions; partition++)
        rd_kafka_topic_partition_list_add (list, topic, partition);
    assert_int_equal (rd_kafka_committed (consumer, list, 10000), 0);
    for (int partition = 0; partition < partitions; partition++) {
        int64_t offset = list->elems[partition].offset;
        assert_int_equal (list->elems[partition].err, 0);
        offsets[list->elems[partition].partition] = offset < 0 ? 0 : offset;
    }
    rd_kafka_topic_partition_list_destroy (list);
    rd_kafka_destroy_flags (consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

//  A message read back, copied: librdkafka's messages must be gone before its handle is.
typedef struct {
    char key[64];
    char payload[512];
    int32_t partition;
} s_message_t;

//  Reads every partition of a topic from the start, until count messages or the deadline.
static size_t
s_read_topic (const char *topic, int partitions, s_message_t *messages, size_t count,
              int timeout_ms)
{
    rd_kafka_t *consumer = s_client (RD_KAFKA_CONSUMER, "jobd-test-reader");
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (partitions);
    for (int partition = 0; partition < partitions; partition++)
        rd_kafka_topic_partition_list_add (list, topic, partition)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal (rd_kafka_assign (consumer, list), 0);
    rd_kafka_topic_partition_list_destroy (list);
    size_t got = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    while (got < count && zclock_mono () < deadline) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll (consumer, 100);
        if (message && !message->err) {
            s_message_t *copy = &messages[got++];
            snprintf (copy->key, sizeof copy->key, "%.*s", (int)message->key_len,
                      (const char *)message->key);
            snprintf (copy->payload, sizeof copy->payload, "%.*s", (int)message->len,
                      (const char *)message->payload);
            copy->partition = message->partition;
        }
        if (message)
            rd_kafka_message_destroy (message);
    }
    rd_kafka_destroy_flags (consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return got;
}

//  ---------------------------------------------------------------------------------------------
//  Admin queries

//  Asks jobd {"q": q, key: value} (key may be NULL). Returns 0 with *reply filled, or -1.
static int
s_query (harness_t *harness, msgpack_unpacked *reply, const char *q, const char *key,
         const char *value)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, key ? 6 : 5);
    const char *pairs[][2] = {{"type", "query"}, {"id", "t"}, {"q", q}, {key, value}};
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_uint8 (&pk, 1);
    msgpack_pack_str_with_body (&pk, "limit", 5);
    msgpack_pack_uint32 (&pk, 1000000);
    for (size_t index = 0; index < (key ? 4u : 3u); index++) {
        msgpack_pack_str_with_body (&pk, pairs[index][0], strlen (pairs[index][0]));
        msgpack_pack_str_with_body (&pk, pairs[index][1], strlen (pairs[index][1]));
    }
    msgpack_unpacked_init (reply);
    int rc = harness_request (harness, buffer.data, buffer.size, reply, 5000);
    msgpack_sbuffer_destroy (&buffer);
    const msgpack_object *ok = rc ? NULL : jobd_map_lookup (&reply->data, "ok");
    if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN || !ok->via.boolean) {
        msgpack_unpacked_destroy (reply);
        return -1;
    }
    return 0;
}

static uint64_t
s_u64 (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = jobd_map_lookup (map, key);
    return value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? value->via.u64 : 0;
}

//  The broker's counters: how many observations changed something, or were no-ops.
typedef struct {
    uint64_t applied, duplicates, backward, rejected, old_attempt, replayed;
} s_stats_t;

static void
s_stats (harness_t *harness, s_stats_t *stats)
{
    msgpack_unpacked reply;
    assert_int_equal (s_query (harness, &reply, "stats", NULL, NULL), 0);
    const msgpack_object *broker = jobd_map_lookup (&reply.data, "broker");
    *stats = (s_stats_t){s_u64 (broker, "applied"),     s_u64 (broker, "duplicates"),
                         s_u64 (broker, "backward"),    s_u64 (broker, "rejected"),
                         s_u64 (broker, "old_attempt"), s_u64 (broker, "replayed")};
    msgpack_unpacked_destroy (&reply);
}

//  The exts of the jobs in state (a name), in a fresh zhashx ext -> job id.
static zhashx_t *
s_jobs (harness_t *harness, const char *state)
{
    msgpack_unpacked reply;
    assert_int_equal (s_query (harness, &reply, "ls", "state", state), 0);
    const msgpack_object *truncated = jobd_map_lookup (&reply.data, "truncated");
    assert_true (truncated && truncated->type == MSGPACK_OBJECT_BOOLEAN && !truncated->via.boolean);
    const msgpack_object *jobs = jobd_map_lookup (&reply.data, "jobs");
    assert_true (jobs && jobs->type == MSGPACK_OBJECT_ARRAY);
    zhashx_t *found = zhashx_new ();
    zhashx_set_destructor (found, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_duplicator (found, (zhashx_duplicator_fn *)strdup);
    for (uint32_t index = 0; index < jobs->via.array.size; index++) {
        char ext[JOBD_ID_MAX + 1], id[JOBD_ID_MAX + 1];
        assert_true (jobd_map_string (&jobs->via.array.ptr[index], "ext", ext, sizeof ext));
        assert_true (jobd_map_string (&jobs->via.array.ptr[index], "id", id, sizeof id));
        //  One ext, one job: a second one would be a replay that registered a job twice.
        assert_int_equal (zhashx_insert (found, ext, id), 0);
    }
    msgpack_unpacked_destroy (&reply);
    return found;
}

//  Checks from the store that the job's history is exactly states[0..count): each transition
//  once, from the one before (NONE first), with seq 1, 2, ... and last_seq at the end.
static void
s_check_history (harness_t *harness, const char *id, const char *const *states, size_t count)
{
    msgpack_unpacked reply;
    assert_int_equal (s_query (harness, &reply, "show", "job", id), 0);
    const msgpack_object *job = jobd_map_lookup (&reply.data, "job");
    const msgpack_object *history = jobd_map_lookup (&reply.data, "history");
    assert_true (history && history->type == MSGPACK_OBJECT_ARRAY);
    if (history->via.array.size != count)
        fail_msg ("job %s: %u transitions, %zu expected", id, history->via.array.size, count);
    assert_int_equal (s_u64 (job, "last_seq"), count);
    for (size_t index = 0; index < count; index++) {
        const msgpack_object *transition = &history->via.array.ptr[index];
        char from[32] = "NONE", to[32]; //  a job's first transition has no from
        if (jobd_map_lookup (transition, "from"))
            assert_true (jobd_map_string (transition, "from", from, sizeof from));
        assert_true (jobd_map_string (transition, "state", to, sizeof to));
        assert_int_equal (s_u64 (transition, "seq"), index + 1);
        assert_string_equal (from, index ? states[index - 1] : "NONE");
        assert_string_equal (to, states[index]);
    }
    msgpack_unpacked_destroy (&reply);
}

//  Waits until jobd counts count jobs in state (exactly), or fails the test.
static void
s_wait_count (harness_t *harness, jobd_state_t state, int64_t count, int timeout_ms)
{
    if (!harness_wait_count (harness, state, count, timeout_ms))
        fail_msg ("%s: %lld jobs %s after %d ms, %lld expected", harness->dir,
                  (long long)harness_count (harness, state), jobd_state_name (state), timeout_ms,
                  (long long)count);
}

//  Waits until jobd counts at least count jobs in state; returns how many it saw.
static int64_t
s_wait_at_least (harness_t *harness, jobd_state_t state, int64_t count, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms, seen;
    while ((seen = harness_count (harness, state)) < count && zclock_mono () < deadline)
        zclock_sleep (5); //  polling a counter with a deadline: no event to wait on
    if (seen < count)
        fail_msg ("%lld jobs %s, %lld expected", (long long)seen, jobd_state_name (state),
                  (long long)count);
    return seen;
}

//  ---------------------------------------------------------------------------------------------
//  1. SIGKILL mid-stream: exactly once

#define S1_JOBS   2000
#define S1_LAG    25 //  a job's SUCCEEDED comes this many jobs after its RUNNING
#define S1_KILLS  3
#define S1_CHUNKS 10

typedef enum { S1_RUNNING, S1_SUCCEEDED, S1_NOOP } s1_effect_t;

typedef struct {
    int job;
    s1_effect_t effect; //  what it does the first time it is applied
    const char *state;
    s_where_t where;
} s1_message_t;

//  After a SIGKILL, from the store itself (jobd is down): every message whose offset the group
//  committed is applied (a commit never runs ahead of the store). Returns the transitions in the
//  store, and in *replays_p those applied without their offset committed: the next jobd
//  replays them, and must count them as no-ops.
static uint64_t
s1_check_committed (harness_t *harness, const s1_message_t *messages, size_t count,
                    int64_t *committed, uint64_t *replays_p)
{
    s_committed ("g1", "t1.status", 4, committed);
    static int expected[S1_JOBS];
    memset (expected, 0, sizeof expected);
    for (size_t index = 0; index < count; index++) {
        const s1_message_t *message = &messages[index];
        int level = message->effect == S1_RUNNING ? 1 : message->effect == S1_SUCCEEDED ? 2 : 0;
        if (message->where.offset < committed[message->where.partition] &&
            level > expected[message->job])
            expected[message->job] = level;
    }
    jobd_store_t *store = NULL;
    char reason[256];
    assert_int_equal (
        jobd_store_open (harness->store, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason), 0);
    uint64_t transitions = 0, owed = 0;
    for (int job = 0; job < S1_JOBS; job++) {
        char ext[32], *id = NULL;
        snprintf (ext, sizeof ext, "k1-%04d", job);
        int level = 0;
        if (jobd_store_job_find (store, "kafka", ext, &id) == 0) {
            jobd_job_t *record = NULL;
            assert_int_equal (jobd_store_job_get (store, id, &record), 0);
            level = record->state == JOBD_STATE_SUCCEEDED ? 2 : 1;
            assert_true (record->state == JOBD_STATE_SUCCEEDED ||
                         record->state == JOBD_STATE_RUNNING);
            jobd_job_destroy (&record);
            free (id);
        }
        if (level < expected[job])
            fail_msg ("job %s: committed at level %d, stored at %d", ext, expected[job], level);
        transitions += (uint64_t)level;
        owed += (uint64_t)expected[job];
    }
    jobd_store_destroy (&store);
    *replays_p = transitions - owed;
    return transitions;
}

static void
test_sigkill_mid_stream_applies_once (void **state)
{
    //  RUNNING and SUCCEEDED per job, with deliberate repeats (RUNNING twice, SUCCEEDED twice)
    //  and a late RUNNING after SUCCEEDED (refused by the state machine): all keyed by job.
    static s1_message_t messages[S1_JOBS * 4];
    size_t count = 0;
    for (int step = 0; step < S1_JOBS + S1_LAG; step++) {
        int job = step, late = step - S1_LAG;
        if (job < S1_JOBS) {
            messages[count++] = (s1_message_t){job, S1_RUNNING, "RUNNING", {0, 0}};
            if (job % 5 == 0)
                messages[count++] = (s1_message_t){job, S1_NOOP, "RUNNING", {0, 0}};
        }
        if (late >= 0) {
            messages[count++] = (s1_message_t){late, S1_SUCCEEDED, "SUCCEEDED", {0, 0}};
            if (late % 7 == 0)
                messages[count++] = (s1_message_t){late, S1_NOOP, "SUCCEEDED", {0, 0}};
            if (late % 11 == 0)
                messages[count++] = (s1_message_t){late, S1_NOOP, "RUNNING", {0, 0}};
        }
    }
    //  The stream goes out in chunks while jobd consumes; a SIGKILL follows a chunk once jobd
    //  has applied some of it, so that later chunks are not even produced yet.
    harness_t *harness = &s_a;
    s_config (harness, "t1.status", "g1", "");
    assert_true (harness_start (harness) > 0);
    assert_true (harness_wait_ready (harness, 10000));
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER, NULL);
    int64_t committed[4] = {0};
    uint64_t stored = 0, replays = 0, replays_total = 0;
    size_t produced = 0;
    int kills = 0;
    for (int chunk = 0; chunk < S1_CHUNKS; chunk++) {
        int64_t finished = 0; //  jobs whose SUCCEEDED went out in earlier chunks
        for (size_t index = 0; index < produced; index++)
            finished += messages[index].effect == S1_SUCCEEDED;
        size_t end = count * (size_t)(chunk + 1) / S1_CHUNKS;
        for (; produced < end; produced++) {
            char ext[32];
            snprintf (ext, sizeof ext, "k1-%04d", messages[produced].job);
            s_produce_state (producer, "t1.status", ext, messages[produced].state,
                             &messages[produced].where);
        }
        s_flush (producer);
        if (chunk % 3 != 1 || kills == S1_KILLS)
            continue;
        //  Some of this chunk applied (perhaps all of it by the time the signal lands).
        s_wait_at_least (harness, JOBD_STATE_SUCCEEDED, finished + 1, 30000);
        assert_int_equal (harness_stop (harness, SIGKILL, 5000), 128 + SIGKILL);
        stored = s1_check_committed (harness, messages, produced, committed, &replays);
        replays_total += replays;
        kills++;
        print_message ("kill %d: %llu transitions stored, %llu of them to be replayed\n", kills,
                       (unsigned long long)stored, (unsigned long long)replays);
        assert_true (harness_start (harness) > 0);
        assert_true (harness_wait_ready (harness, 10000));
    }
    assert_int_equal (kills, S1_KILLS);
    rd_kafka_destroy (producer);

    //  The last jobd: everything applied, and everything it read after the last commit counted.
    s_wait_count (harness, JOBD_STATE_SUCCEEDED, S1_JOBS, 30000);
    uint64_t window = 0, window_noops = 0;
    for (size_t index = 0; index < count; index++)
        if (messages[index].where.offset >= committed[messages[index].where.partition]) {
            window++;
            window_noops += messages[index].effect == S1_NOOP;
        }
    s_stats_t stats;
    int64_t deadline = zclock_mono () + 10000;
    do {
        s_stats (harness, &stats);
        if (stats.applied + stats.duplicates + stats.backward + stats.replayed >= window)
            break;
        zclock_sleep (20); //  polling a counter with a deadline: no event to wait on
    } while (zclock_mono () < deadline);
    print_message ("last run: %llu read after the last commit, %llu applied, %llu duplicates, "
                   "%llu backward, %llu replayed (%llu deliberate no-ops, %llu replays of the "
                   "last kill)\n",
                   (unsigned long long)window, (unsigned long long)stats.applied,
                   (unsigned long long)stats.duplicates, (unsigned long long)stats.backward,
                   (unsigned long long)stats.replayed, (unsigned long long)window_noops,
                   (unsigned long long)replays);
    assert_int_equal (stats.rejected, 0);
    assert_int_equal (stats.old_attempt, 0);
    //  Exactly the missing transitions were applied; the rest, replays included, were no-ops.
    assert_int_equal (stats.applied, 2 * S1_JOBS - stored);
    assert_true (stats.applied + stats.duplicates + stats.backward + stats.replayed >= window);
    assert_true (stats.duplicates + stats.backward + stats.replayed >= window_noops + replays);
    //  Messages applied before the kill are known by their offset: replayed, not re-judged.
    assert_true (stats.replayed >= replays);
    assert_int_equal (harness_count (harness, JOBD_STATE_RUNNING), 0);

    //  Every job's history, from the store: NONE -> RUNNING -> SUCCEEDED, once, seq 1 and 2.
    zhashx_t *jobs = s_jobs (harness, "SUCCEEDED,RUNNING");
    assert_int_equal (zhashx_size (jobs), S1_JOBS);
    static const char *const states[] = {"RUNNING", "SUCCEEDED"};
    for (int job = 0; job < S1_JOBS; job++) {
        char ext[32];
        snprintf (ext, sizeof ext, "k1-%04d", job);
        const char *id = (const char *)zhashx_lookup (jobs, ext);
        assert_non_null (id);
        s_check_history (harness, id, states, 2);
    }
    zhashx_destroy (&jobs);
    print_message ("replays over %d kills: %llu\n", S1_KILLS, (unsigned long long)replays_total);
    assert_int_equal (harness_stop (harness, SIGTERM, 10000), 0);
}

//  ---------------------------------------------------------------------------------------------
//  2. Every broker down, then back

#define S2_JOBS 20

//  The kafka-listener's status in jobd's plugin table ("" when it is not there).
static void
s_plugin_status (harness_t *harness, char *status, size_t size)
{
    *status = 0;
    msgpack_unpacked reply;
    if (s_query (harness, &reply, "plugins", NULL, NULL))
        return;
    const msgpack_object *plugins = jobd_map_lookup (&reply.data, "plugins");
    for (uint32_t index = 0;
         plugins && plugins->type == MSGPACK_OBJECT_ARRAY && index < plugins->via.array.size;
         index++) {
        char name[64];
        if (jobd_map_string (&plugins->via.array.ptr[index], "name", name, sizeof name) &&
            !strcmp (name, "kafka-listener"))
            jobd_map_string (&plugins->via.array.ptr[index], "status", status, size);
    }
    msgpack_unpacked_destroy (&reply);
}

static void
s_wait_plugin_status (harness_t *harness, const char *wanted, int timeout_ms)
{
    char status[64] = "";
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        s_plugin_status (harness, status, sizeof status);
        if (!strcmp (status, wanted))
            return;
        zclock_sleep (20); //  polling the plugin table with a deadline: no event to wait on
    }
    fail_msg ("kafka-listener status '%s' after %d ms, '%s' expected", status, timeout_ms, wanted);
}

//  Runs jobctl against the harness's jobd; returns its exit code, its stdout in out.
static int
s_jobctl (harness_t *harness, const char *command, char *out, size_t out_size)
{
    char binary[512];
    char *argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                    "--run-dir",
                    harness->run_dir,
                    "--store",
                    harness->store,
                    "--timeout",
                    "2000",
                    "--json",
                    (char *)command,
                    NULL};
    return harness_run (argv, out, out_size, NULL, 0, 10000);
}

//  A transition read back from the outbound topic.
typedef struct {
    char job[JOBD_ID_MAX + 1];
    char from[32];
    char state[32];
    int64_t seq;
} s_outbound_t;

static void
s_outbound_parse (const s_message_t *message, s_outbound_t *transition)
{
    json_error_t error;
    json_t *json = json_loads (message->payload, 0, &error);
    assert_non_null (json);
    const char *job = NULL, *from = NULL, *state = NULL;
    json_int_t seq = 0;
    assert_int_equal (json_unpack (json, "{s:s, s:s, s:s, s:I}", "job", &job, "from", &from,
                                   "state", &state, "seq", &seq),
                      0);
    snprintf (transition->job, sizeof transition->job, "%s", job);
    snprintf (transition->from, sizeof transition->from, "%s", from);
    snprintf (transition->state, sizeof transition->state, "%s", state);
    transition->seq = seq;
    json_decref (json);
    //  Keyed by job: one job's transitions stay in order on one partition.
    assert_string_equal (message->key, transition->job);
}

static void
test_brokers_down_and_back (void **state)
{
    harness_t *harness = &s_a;
    s_config (harness, "t2.status", "g2", "t2.transitions");
    assert_true (harness_start (harness) > 0);
    assert_true (harness_wait_ready (harness, 10000));
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER, NULL);
    s_produce_state (producer, "t2.status", "k2-00", "RUNNING", NULL);
    s_flush (producer);
    s_wait_count (harness, JOBD_STATE_RUNNING, 1, 20000); //  the group is joined

    s_mock_command ("down all", "ok broker all down");
    s_brokers_down = true;
    s_wait_plugin_status (harness, "degraded", 15000);
    //  Kafka is gone; jobd is not: the admin side answers, through the real jobctl too.
    static char out[65536];
    assert_int_equal (s_jobctl (harness, "stats", out, sizeof out), 0);
    json_t *json = json_loads (out, 0, NULL);
    assert_non_null (json);
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (json, "counts"), "RUNNING")), 1);
    json_decref (json);
    assert_int_equal (s_jobctl (harness, "plugins", out, sizeof out), 0);
    assert_non_null (strstr (out, "\"status\":\"degraded\""));

    //  Events produced during the outage wait in the producer; a repeat of k2-00's RUNNING too.
    for (int job = 0; job < S2_JOBS; job++) {
        char ext[32];
        snprintf (ext, sizeof ext, "k2-%02d", job);
        s_produce_state (producer, "t2.status", ext, "RUNNING", NULL);
        s_produce_state (producer, "t2.status", ext, "SUCCEEDED", NULL);
    }
    rd_kafka_poll (producer, 0);
    assert_int_equal (harness_count (harness, JOBD_STATE_SUCCEEDED), 0);

    s_mock_command ("up all", "ok broker all up");
    s_brokers_down = false;
    s_flush (producer);
    rd_kafka_destroy (producer);
    s_wait_count (harness, JOBD_STATE_SUCCEEDED, S2_JOBS, 20000);
    assert_int_equal (harness_count (harness, JOBD_STATE_RUNNING), 0);
    s_wait_plugin_status (harness, "running", 15000);

    //  The outbound topic carries every transition, each once: 2 per job.
    static s_message_t messages[2 * S2_JOBS];
    assert_int_equal (s_read_topic ("t2.transitions", 1, messages, 2 * S2_JOBS, 20000),
                      2 * S2_JOBS);
    zhashx_t *seen = zhashx_new ();
    for (size_t index = 0; index < 2 * S2_JOBS; index++) {
        s_outbound_t transition;
        s_outbound_parse (&messages[index], &transition);
        char key[JOBD_ID_MAX + 32];
        snprintf (key, sizeof key, "%s/%lld", transition.job, (long long)transition.seq);
        assert_true (transition.seq == 1 || transition.seq == 2);
        assert_int_equal (zhashx_insert (seen, key, (void *)1), 0);
    }
    zhashx_destroy (&seen);
    assert_int_equal (harness_stop (harness, SIGTERM, 10000), 0);
}

//  ---------------------------------------------------------------------------------------------
//  3. Two instances in one group: the partitions split, then the survivor takes them all

#define S3_JOBS 200

//  Jobs in state SUCCEEDED at both instances, as ext -> id tables (fresh).
static void
s3_both (zhashx_t **a_p, zhashx_t **b_p)
{
    *a_p = s_jobs (&s_a, "SUCCEEDED");
    *b_p = s_jobs (&s_b, "SUCCEEDED");
}

//  Produces a warm-up event to each partition and waits until each is applied somewhere. True
//  when both instances applied some: both hold partitions.
static bool
s3_warm_round (rd_kafka_t *producer, int round)
{
    char exts[4][32];
    for (int partition = 0; partition < 4; partition++) {
        snprintf (exts[partition], sizeof exts[partition], "w3-%02d-%d", round, partition);
        char value[128];
        snprintf (value, sizeof value, "{\"ext\":\"%s\",\"state\":\"RUNNING\"}", exts[partition]);
        s_produce (producer, "t3.status", partition, exts[partition], value, NULL);
    }
    s_flush (producer);
    int64_t deadline = zclock_mono () + 15000;
    while (true) {
        zhashx_t *a = s_jobs (&s_a, "RUNNING"), *b = s_jobs (&s_b, "RUNNING");
        int in_a = 0, in_b = 0, applied = 0;
        for (int partition = 0; partition < 4; partition++) {
            bool here = zhashx_lookup (a, exts[partition]) != NULL;
            bool there = zhashx_lookup (b, exts[partition]) != NULL;
            in_a += here;
            in_b += there;
            applied += here || there;
        }
        zhashx_destroy (&a);
        zhashx_destroy (&b);
        if (applied == 4)
            return in_a > 0 && in_b > 0;
        if (zclock_mono () > deadline)
            fail_msg ("warm-up round %d: %d of 4 events applied", round, applied);
        zclock_sleep (20); //  polling both stores with a deadline: no event to wait on
    }
}

static void
test_two_instances_split_then_take_over (void **state)
{
    s_config (&s_a, "t3.status", "g3", "");
    s_config (&s_b, "t3.status", "g3", "");
    assert_true (harness_start (&s_a) > 0);
    assert_true (harness_start (&s_b) > 0);
    assert_true (harness_wait_ready (&s_a, 10000));
    assert_true (harness_wait_ready (&s_b, 10000));
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER, NULL);
    //  Until two rounds in a row split between the two: the group is settled, and stays so.
    int split = 0, round = 0;
    for (; split < 2 && round < 20; round++)
        split = s3_warm_round (producer, round) ? split + 1 : 0;
    assert_int_equal (split, 2);

    //  Batch 1, keyed by job: each job in one partition, so at one instance.
    static s_where_t where[S3_JOBS];
    for (int job = 0; job < S3_JOBS; job++) {
        char ext[32];
        snprintf (ext, sizeof ext, "k3a-%03d", job);
        s_produce_state (producer, "t3.status", ext, "RUNNING", &where[job]);
    }
    for (int job = 0; job < S3_JOBS; job++) {
        char ext[32];
        snprintf (ext, sizeof ext, "k3a-%03d", job);
        s_produce_state (producer, "t3.status", ext, "SUCCEEDED", NULL);
    }
    s_flush (producer);
    int64_t deadline = zclock_mono () + 20000;
    while (harness_count (&s_a, JOBD_STATE_SUCCEEDED) + harness_count (&s_b, JOBD_STATE_SUCCEEDED) <
               S3_JOBS &&
           zclock_mono () < deadline)
        zclock_sleep (20); //  polling both stores with a deadline: no event to wait on
    zhashx_t *a, *b;
    s3_both (&a, &b);
    print_message ("batch 1: %zu jobs at a, %zu at b\n", zhashx_size (a), zhashx_size (b));
    assert_true (zhashx_size (a) > 0);
    assert_true (zhashx_size (b) > 0);
    assert_int_equal (zhashx_size (a) + zhashx_size (b), S3_JOBS);
    char owner[4] = {0}; //  which instance holds each partition: 'a' or 'b'
    for (int job = 0; job < S3_JOBS; job++) {
        char ext[32];
        snprintf (ext, sizeof ext, "k3a-%03d", job);
        bool here = zhashx_lookup (a, ext) != NULL, there = zhashx_lookup (b, ext) != NULL;
        assert_true (here != there); //  disjoint, and the union is every job
        char holder = here ? 'a' : 'b';
        assert_true (where[job].partition >= 0 && where[job].partition < 4);
        if (!owner[where[job].partition])
            owner[where[job].partition] = holder;
        assert_int_equal (owner[where[job].partition], holder);
    }
    zhashx_destroy (&a);
    zhashx_destroy (&b);

    //  b dies without leaving the group; batch 2 lands on every partition, b's included.
    assert_int_equal (harness_stop (&s_b, SIGKILL, 5000), 128 + SIGKILL);
    static s_where_t where2[S3_JOBS];
    for (int job = 0; job < S3_JOBS; job++) {
        char ext[32];
        snprintf (ext, sizeof ext, "k3b-%03d", job);
        s_produce_state (producer, "t3.status", ext, "RUNNING", &where2[job]);
        s_produce_state (producer, "t3.status", ext, "SUCCEEDED", NULL);
    }
    s_flush (producer);
    rd_kafka_destroy (producer);
    int at_b = 0;
    for (int job = 0; job < S3_JOBS; job++)
        at_b += owner[where2[job].partition] == 'b';
    assert_true (at_b > 0);

    //  The survivor has every job of batch 2 (after the dead member's session times out).
    deadline = zclock_mono () + 30000;
    int found = 0;
    while (found < S3_JOBS) {
        a = s_jobs (&s_a, "SUCCEEDED");
        found = 0;
        for (int job = 0; job < S3_JOBS; job++) {
            char ext[32];
            snprintf (ext, sizeof ext, "k3b-%03d", job);
            found += zhashx_lookup (a, ext) != NULL;
        }
        zhashx_destroy (&a);
        if (found < S3_JOBS && zclock_mono () > deadline)
            fail_msg ("the survivor has %d of the %d jobs of batch 2", found, S3_JOBS);
        if (found < S3_JOBS)
            zclock_sleep (50); //  polling the store with a deadline: no event to wait on
    }
    a = s_jobs (&s_a, "SUCCEEDED");
    static const char *const states[] = {"RUNNING", "SUCCEEDED"};
    for (int job = 0; job < S3_JOBS; job++) {
        char ext[32];
        snprintf (ext, sizeof ext, "k3b-%03d", job);
        s_check_history (&s_a, (const char *)zhashx_lookup (a, ext), states, 2);
    }
    zhashx_destroy (&a);
    assert_int_equal (harness_stop (&s_a, SIGTERM, 10000), 0);
}

//  ---------------------------------------------------------------------------------------------
//  4. The outbound topic: each job's transitions in order, none missing

#define S4_JOBS 300

static void
test_outbound_order_per_job (void **state)
{
    harness_t *harness = &s_a;
    s_config (harness, "t4.status", "g4", "t4.transitions");
    assert_true (harness_start (harness) > 0);
    assert_true (harness_wait_ready (harness, 10000));
    static const char *const states[] = {"QUEUED", "SUBMITTED", "RUNNING", "SUCCEEDED"};
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER, NULL);
    //  Step by step across all jobs: the jobs' transitions interleave on every partition.
    for (int step = 0; step < 4; step++)
        for (int job = 0; job < S4_JOBS; job++) {
            char ext[32];
            snprintf (ext, sizeof ext, "k4-%03d", job);
            s_produce_state (producer, "t4.status", ext, states[step], NULL);
        }
    s_flush (producer);
    rd_kafka_destroy (producer);
    s_wait_count (harness, JOBD_STATE_SUCCEEDED, S4_JOBS, 30000);

    static s_message_t messages[4 * S4_JOBS];
    assert_int_equal (s_read_topic ("t4.transitions", 4, messages, 4 * S4_JOBS, 20000),
                      4 * S4_JOBS);
    //  Per job: seq 1, 2, 3, 4 in that order, each from the state before, on one partition.
    typedef struct {
        int64_t seq;
        int32_t partition;
    } s_last_t;
    zhashx_t *last = zhashx_new ();
    zhashx_set_destructor (last, (zhashx_destructor_fn *)zstr_free);
    for (size_t index = 0; index < 4 * S4_JOBS; index++) {
        s_outbound_t transition;
        s_outbound_parse (&messages[index], &transition);
        s_last_t *seen = (s_last_t *)zhashx_lookup (last, transition.job);
        if (!seen) {
            seen = (s_last_t *)zmalloc (sizeof (s_last_t));
            seen->partition = messages[index].partition;
            zhashx_insert (last, transition.job, seen);
        }
        if (transition.seq != seen->seq + 1)
            fail_msg ("job %s: seq %lld after %lld", transition.job, (long long)transition.seq,
                      (long long)seen->seq);
        assert_int_equal (seen->partition, messages[index].partition);
        assert_string_equal (transition.from, seen->seq ? states[seen->seq - 1] : "NONE");
        assert_string_equal (transition.state, states[seen->seq]);
        seen->seq = transition.seq;
    }
    assert_int_equal (zhashx_size (last), S4_JOBS);
    for (s_last_t *seen = (s_last_t *)zhashx_first (last); seen;
         seen = (s_last_t *)zhashx_next (last))
        assert_int_equal (seen->seq, 4);
    zhashx_destroy (&last);
    assert_int_equal (harness_stop (harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_sigkill_mid_stream_applies_once, s_test_setup,
                                         s_test_teardown),
        cmocka_unit_test_setup_teardown (test_brokers_down_and_back, s_test_setup, s_test_teardown),
        cmocka_unit_test_setup_teardown (test_two_instances_split_then_take_over, s_test_setup,
                                         s_test_teardown),
        cmocka_unit_test_setup_teardown (test_outbound_order_per_job, s_test_setup,
                                         s_test_teardown),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
