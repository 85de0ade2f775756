//  Benchmark (not a test): the kafka-listener plugin against tools/kafka-mock. Status events
//  applied durably per second, next to a plain librdkafka consumer reading the same topic (the
//  ceiling); then produce -> published transition latency at 1,000 events/s, next to the same
//  produce -> consume latency of a plain consumer.
//  Usage: bench_kafka [EVENTS] [RUNS] [FETCH_WAIT_MS]
//         (default 200000 events = 100000 jobs x RUNNING, SUCCEEDED; 3 runs, medians. Latency
//          is measured twice: with the plugin's default fetch_wait (librdkafka's 500), then
//          with FETCH_WAIT_MS (default 5) for the plugin and the plain consumer alike: the mock
//          cluster answers a fetch that finds no data only after that wait, even when data
//          arrives meanwhile, which a real Kafka broker does not)
//  BENCH_KAFKA_BASELINE=DIR: each run also runs the jobd built in DIR (another build tree), right
//  after this one, for an interleaved A/B on the same noisy machine. BENCH_KAFKA_LATENCY=0:
//  throughput only.
#include "bench_util.h"
#include "harness.h"
#include "jobd_map.h"
#include "jobd_plugin.h"
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define S_STATUS_TOPIC      "bench.status"
#define S_LATENCY_TOPIC     "bench.latency"
#define S_LATENCY2_TOPIC    "bench.latency2"
#define S_TRANSITIONS_TOPIC "bench.transitions"
#define S_PARTITIONS        16

static char s_brokers[256];
static int s_fetch_wait_ms = -1; //  -1: the plugin's default (librdkafka's 500)

static void
s_fail (const char *what)
{
    fprintf (stderr, "bench: %s\n", what);
    exit (1);
}

static void
s_set (rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char error[256];
    if (rd_kafka_conf_set (conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK)
        s_fail (error);
}

//  A producer (linger_ms: how long it may batch) or a consumer in group (NULL: assign only),
//  configured like the plugin's: manual commits, from the earliest offset.
static rd_kafka_t *
s_client (rd_kafka_type_t type, const char *group, const char *linger_ms)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    s_set (conf, "bootstrap.servers", s_brokers);
    if (type == RD_KAFKA_CONSUMER) {
        s_set (conf, "group.id", group ? group : "bench-reader");
        s_set (conf, "enable.auto.commit", "false");
        s_set (conf, "auto.offset.reset", "earliest");
        if (s_fetch_wait_ms >= 0) {
            char text[16];
            snprintf (text, sizeof text, "%d", s_fetch_wait_ms);
            s_set (conf, "fetch.wait.max.ms", text);
        }
    } else
        s_set (conf, "linger.ms", linger_ms);
    char error[256];
    rd_kafka_t *client = rd_kafka_new (type, conf, error, sizeof error);
    if (!client)
        s_fail (error);
    return client;
}

static void
s_produce (rd_kafka_t *producer, const char *topic, const char *key, const char *value)
{
    while (rd_kafka_producev (
               producer, RD_KAFKA_V_TOPIC (topic), RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
               RD_KAFKA_V_KEY (key, strlen (key)), RD_KAFKA_V_VALUE ((void *)value, strlen (value)),
               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll (producer, 10);
}

//  Messages on every partition of topic (sum of high watermarks), or -1.
static int64_t
s_topic_size (rd_kafka_t *client, const char *topic, int partitions)
{
    int64_t total = 0;
    for (int partition = 0; partition < partitions; partition++) {
        int64_t low, high;
        if (rd_kafka_query_watermark_offsets (client, topic, partition, &low, &high, 5000))
            return -1;
        total += high;
    }
    return total;
}

//  Starts jobd with kafka-listener consuming topic in group.
static void
s_start_jobd (harness_t *harness, const char *name, const char *topic, const char *group)
{
    harness_init (harness, name);
    char extra[1024], fetch[64] = "";
    if (s_fetch_wait_ms >= 0)
        snprintf (fetch, sizeof fetch, "        fetch_wait = %dms\n", s_fetch_wait_ms);
    snprintf (extra, sizeof extra,
              "    log_level = warn\n"
              "plugins\n"
              "    kafka-listener\n"
              "        path = %s/plugins/kafka-listener.so\n"
              "        brokers = %s\n"
              "        group = %s\n"
              "        topics = %s\n"
              "        transitions = " S_TRANSITIONS_TOPIC "\n"
              "%s",
              harness_build_dir (), s_brokers, group, topic, fetch);
    harness_write_config (harness, extra);
    harness_start (harness);
    if (!harness_wait_ready (harness, 10000)) {
        fprintf (stderr, "bench: jobd did not start; see %s\n", harness->log);
        exit (1);
    }
}

static void
s_stop_jobd (harness_t *harness)
{
    int rc = harness_stop (harness, SIGTERM, 30000);
    if (rc != 0)
        fprintf (stderr, "bench: jobd exited with %d; see %s\n", rc, harness->log);
    harness_fini (harness);
}

//  Pre-produces events status events: events / 2 jobs, each RUNNING then SUCCEEDED, by ext.
static void
s_preproduce (int events)
{
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER, NULL, "5");
    double start = bench_seconds ();
    for (int index = 0; index < events; index++) {
        char ext[32], value[160];
        snprintf (ext, sizeof ext, "bench-%d", index / 2);
        snprintf (value, sizeof value,
                  "{\"ext\":\"%s\",\"name\":\"bench job %d\",\"state\":\"%s\"}", ext, index / 2,
                  index % 2 ? "SUCCEEDED" : "RUNNING");
        s_produce (producer, S_STATUS_TOPIC, ext, value);
        rd_kafka_poll (producer, 0);
    }
    if (rd_kafka_flush (producer, 60000))
        s_fail ("pre-produce: flush timed out");
    double seconds = bench_seconds () - start;
    int64_t size = s_topic_size (producer, S_STATUS_TOPIC, S_PARTITIONS);
    if (size != events) {
        fprintf (stderr, "bench: the status topic holds %lld messages, not %d\n", (long long)size,
                 events);
        exit (1);
    }
    rd_kafka_destroy (producer);
    fprintf (stderr, "pre-produced %d events in %.2f s (%.0f/s)\n", events, seconds,
             events / seconds);
}

//  The ceiling: a plain consumer in a fresh group reads the whole topic, as fast as it can.
//  Returns messages per second from the first message to the last (the group join excluded).
static double
s_ceiling (int events, int run)
{
    char group[64];
    snprintf (group, sizeof group, "bench-ceiling-%d-%d", getpid (), run);
    rd_kafka_t *consumer = s_client (RD_KAFKA_CONSUMER, group, NULL);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new (1);
    rd_kafka_topic_partition_list_add (topics, S_STATUS_TOPIC, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe (consumer, topics);
    rd_kafka_topic_partition_list_destroy (topics);
    int got = 0;
    double first = 0, last = 0, deadline = bench_seconds () + 60;
    while (got < events && bench_seconds () < deadline) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll (consumer, 100);
        if (message && !message->err) {
            last = bench_seconds ();
            if (got++ == 0)
                first = last;
        }
        if (message)
            rd_kafka_message_destroy (message);
    }
    rd_kafka_consumer_close (consumer);
    rd_kafka_destroy (consumer);
    if (got < events)
        fprintf (stderr, "bench: the ceiling consumer read only %d of %d\n", got, events);
    return got > 1 ? (got - 1) / (last - first) : 0;
}

//  jobd with kafka-listener in a fresh group: transitions per second, from the first one
//  published (consumption has started) to the last (all events applied durably: the broker
//  publishes after the commit). Each event makes one transition.
static double
s_jobd (int events, int run, double *cpu_us_p)
{
    harness_t harness;
    char group[64];
    snprintf (group, sizeof group, "bench-jobd-%d-%d", getpid (), run);
    rd_kafka_t *reader = s_client (RD_KAFKA_PRODUCER, NULL, "0");
    int64_t outbound = s_topic_size (reader, S_TRANSITIONS_TOPIC, S_PARTITIONS);
    s_start_jobd (&harness, "bench-kafka", S_STATUS_TOPIC, group);
    zsock_t *sub = bench_subscribe (&harness, "job.");
    int received = 0;
    double first = 0, last = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    //  Read as plain frames, every waiting message per wake-up: the bench shares the two cores
    //  with jobd, and zmsg's allocations made it take a fifth of one.
    void *handle = zsock_resolve (sub);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    //  The first wait covers the group join (about 3 s on the mock).
    while (received < events && zpoller_wait (poller, received ? 20000 : 30000) == sub) {
        int parts = 0;
        while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0) {
            parts++;
            if (zmq_msg_more (&frame))
                continue;
            if (parts == 2) {
                last = bench_seconds ();
                if (received++ == 0)
                    first = last;
            }
            parts = 0;
        }
    }
    zmq_msg_close (&frame);
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    int64_t succeeded = harness_count (&harness, JOBD_STATE_SUCCEEDED);
    if (received < events || succeeded != events / 2)
        fprintf (stderr, "bench: only %d of %d transitions arrived, %lld of %d jobs succeeded\n",
                 received, events, (long long)succeeded, events / 2);
    //  Every transition also goes out on the outbound topic, from the transition log: wait for
    //  the last ones (what is still in flight at a stop would go out at the next start).
    int64_t produced = 0;
    int64_t deadline = zclock_mono () + 30000;
    while ((produced = s_topic_size (reader, S_TRANSITIONS_TOPIC, S_PARTITIONS) - outbound) <
               events &&
           zclock_mono () < deadline)
        zclock_sleep (20); //  polling watermarks with a deadline: no event to wait on
    double drained = bench_seconds ();
    //  jobd's CPU per event, from its start to the outbound topic drained (the group join and
    //  the start-up included: a small share at 200,000 events).
    *cpu_us_p = bench_cpu_seconds (harness.pid) * 1e6 / events;
    s_stop_jobd (&harness);
    if (produced == events)
        fprintf (stderr,
                 "bench: the outbound topic had every transition %.2f s after the last was "
                 "published\n",
                 drained - last);
    if (outbound < 0 || produced != events)
        fprintf (stderr, "bench: %lld of %d transitions reached " S_TRANSITIONS_TOPIC "\n",
                 (long long)produced, events);
    rd_kafka_destroy (reader);
    return received > 1 ? (received - 1) / (last - first) : 0;
}

typedef struct {
    double p50, p99, max;
    int count;
} s_latency_t;

static s_latency_t
s_percentiles (double *values, int count)
{
    qsort (values, count, sizeof (double), bench_compare);
    s_latency_t result = {-1, -1, -1, count};
    if (count > 0) {
        result.p50 = values[count / 2];
        result.p99 = values[(int)(count * 0.99)];
        result.max = values[count - 1];
    }
    return result;
}

//  The index in ext "lat-N", or -1.
static int
s_latency_index (const char *ext, size_t size, int count)
{
    if (!ext || size < 5 || size > 16 || memcmp (ext, "lat-", 4))
        return -1;
    char digits[16];
    snprintf (digits, sizeof digits, "%.*s", (int)size - 4, ext + 4);
    int index = atoi (digits);
    return index >= 0 && index < count ? index : -1;
}

//  Produces count events at rate per second to the latency topic (linger.ms 0: each is sent at
//  once), each a new job RUNNING by ext "lat-N"; measures send -> transition received from jobd
//  (*jobd_p) and send -> message received by a plain consumer assigned the same topic
//  (*plain_p), in ms.
static void
s_latency (const char *topic, int count, int rate, s_latency_t *jobd_p, s_latency_t *plain_p)
{
    harness_t harness;
    char group[64];
    snprintf (group, sizeof group, "%s-%d", topic, getpid ()); //  a group per topic: no rebalance
    s_start_jobd (&harness, "bench-kafka-latency", topic, group);
    zsock_t *sub = bench_subscribe (&harness, "job.");
    rd_kafka_t *producer = s_client (RD_KAFKA_PRODUCER, NULL, "0");
    //  The plain consumer: assigned every partition (no group join), woken through a pipe.
    rd_kafka_t *consumer = s_client (RD_KAFKA_CONSUMER, NULL, NULL);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (S_PARTITIONS);
    for (int partition = 0; partition < S_PARTITIONS; partition++)
        rd_kafka_topic_partition_list_add (list, topic, partition)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign (consumer, list);
    rd_kafka_topic_partition_list_destroy (list);
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer (consumer);
    int wake[2];
    if (pipe (wake))
        s_fail ("pipe");
    rd_kafka_queue_io_event_enable (queue, wake[1], "1", 1);

    //  Warm up: wait until one event made it through (the group join takes about 3 s).
    s_produce (producer, topic, "warm", "{\"ext\":\"warm\",\"state\":\"RUNNING\"}");
    zpoller_t *poller = zpoller_new (sub, NULL);
    bool warm = false;
    while (!warm && zpoller_wait (poller, 30000) == sub) {
        zmsg_t *msg = zmsg_recv (sub);
        warm = zmsg_size (msg) == 2;
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    if (!warm)
        s_fail ("the warm-up event never became a transition");

    double *sent = (double *)calloc (count, sizeof (double));
    double *jobd = (double *)calloc (count, sizeof (double));
    double *plain = (double *)calloc (count, sizeof (double));
    int next = 0, received = 0, consumed = 0;
    double start = bench_seconds ();
    zmq_pollitem_t items[] = {{zsock_resolve (sub), 0, ZMQ_POLLIN, 0},
                              {NULL, wake[0], ZMQ_POLLIN, 0}};
    while ((received < count || consumed < count) && bench_seconds () - start < count / rate + 30) {
        double due = start + (double)next / rate;
        long wait = next < count ? (long)((due - bench_seconds ()) * 1000) : 100;
        zmq_poll (items, 2, wait < 0 ? 0 : wait);
        if (items[0].revents & ZMQ_POLLIN) {
            zmsg_t *msg;
            while ((msg = zmsg_recv_nowait (sub))) {
                zframe_t *payload = zmsg_last (msg);
                jobd_event_t *event = NULL;
                if (zmsg_size (msg) == 2 &&
                    jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL,
                                       0) == 0 &&
                    event->ext) {
                    int index = s_latency_index (event->ext, strlen (event->ext), count);
                    if (index >= 0 && index < next)
                        jobd[received++] = (bench_seconds () - sent[index]) * 1000;
                }
                jobd_event_destroy (&event);
                zmsg_destroy (&msg);
            }
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char drain[64];
            if (read (wake[0], drain, sizeof drain) < 0)
                s_fail ("read");
        }
        rd_kafka_message_t *message;
        while ((message = rd_kafka_consumer_poll (consumer, 0))) {
            int index = message->err
                            ? -1
                            : s_latency_index ((const char *)message->key, message->key_len, count);
            if (index >= 0 && index < next)
                plain[consumed++] = (bench_seconds () - sent[index]) * 1000;
            rd_kafka_message_destroy (message);
        }
        while (next < count && bench_seconds () >= start + (double)next / rate) {
            char ext[32], value[128];
            snprintf (ext, sizeof ext, "lat-%d", next);
            snprintf (value, sizeof value, "{\"ext\":\"%s\",\"state\":\"RUNNING\"}", ext);
            sent[next++] = bench_seconds ();
            s_produce (producer, topic, ext, value);
        }
        rd_kafka_poll (producer, 0);
    }
    if (received < count || consumed < count)
        fprintf (stderr, "bench: latency: %d transitions and %d plain messages of %d\n", received,
                 consumed, count);
    *jobd_p = s_percentiles (jobd, received);
    *plain_p = s_percentiles (plain, consumed);
    free (sent);
    free (jobd);
    free (plain);
    rd_kafka_queue_destroy (queue);
    rd_kafka_destroy_flags (consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    close (wake[0]);
    close (wake[1]);
    rd_kafka_flush (producer, 5000);
    rd_kafka_destroy (producer);
    zsock_destroy (&sub);
    s_stop_jobd (&harness);
}

//  Starts tools/kafka-mock with the bench's topics; fills s_brokers.
static void
s_start_mock (harness_proc_t *mock, const char *log)
{
    char binary[512], topics[4][64];
    const char *names[] = {S_STATUS_TOPIC, S_LATENCY_TOPIC, S_LATENCY2_TOPIC, S_TRANSITIONS_TOPIC};
    for (int index = 0; index < 4; index++)
        snprintf (topics[index], sizeof topics[index], "%s:%d", names[index], S_PARTITIONS);
    char *argv[] = {(char *)harness_bin ("kafka-mock", binary, sizeof binary),
                    "--topic",
                    topics[0],
                    "--topic",
                    topics[1],
                    "--topic",
                    topics[2],
                    "--topic",
                    topics[3],
                    "--topic",
                    "jobd.dead-letter:1",
                    NULL};
    if (harness_spawn_logged (mock, argv, log) || !harness_proc_wait_out (mock, "\n", 10000))
        s_fail ("kafka-mock did not start");
    snprintf (s_brokers, sizeof s_brokers, "%.*s", (int)strcspn (mock->out, "\n"), mock->out);
}

static void
s_print_latency (const char *what, s_latency_t latency)
{
    printf ("  %-58s p50 %7.2f  p99 %7.2f  max %7.2f ms\n", what, latency.p50, latency.p99,
            latency.max);
}

int
main (int argc, char *argv[])
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    int events = argc > 1 ? atoi (argv[1]) : 200000;
    int runs = argc > 2 ? atoi (argv[2]) : 3;
    int fetch_wait_ms = argc > 3 ? atoi (argv[3]) : 5;
    if (events < 2 || events % 2 || runs <= 0 || runs > 16 || fetch_wait_ms < 0) {
        fprintf (stderr, "usage: bench_kafka [EVENTS (even)] [RUNS (1-16)] [FETCH_WAIT_MS]\n");
        return 2;
    }
    //  The mock's log stays in /tmp when the bench fails, for a look afterwards.
    char log[] = "/tmp/jobd-bench-kafka-mock-XXXXXX";
    int fd = mkstemp (log);
    if (fd < 0)
        s_fail ("mkstemp");
    close (fd);
    harness_proc_t mock;
    s_start_mock (&mock, log);
    printf ("jobd bench: kafka-listener on kafka-mock (%s), %d status events (%d jobs x RUNNING, "
            "SUCCEEDED) on %d partitions, outbound transitions topic on, %d runs, medians\n",
            s_brokers, events, events / 2, S_PARTITIONS, runs);
    s_preproduce (events);

    double jobd[16], ceiling[16], cpu[16], base[16], base_cpu[16];
    const char *baseline = getenv ("BENCH_KAFKA_BASELINE");
    char build[4096];
    snprintf (build, sizeof build, "%s", harness_build_dir ());
    for (int run = 0; run < runs; run++) {
        ceiling[run] = s_ceiling (events, run);
        jobd[run] = s_jobd (events, run, &cpu[run]);
        fprintf (stderr,
                 "run %d: jobd %.0f events/s applied, plain consumer %.0f/s, jobd CPU %.1f "
                 "us/event\n",
                 run + 1, jobd[run], ceiling[run], cpu[run]);
        if (baseline) {
            setenv ("JOBD_BUILD_DIR", baseline, 1);
            base[run] = s_jobd (events, runs + run, &base_cpu[run]);
            setenv ("JOBD_BUILD_DIR", build, 1);
            fprintf (stderr, "run %d: baseline jobd %.0f events/s applied, CPU %.1f us/event\n",
                     run + 1, base[run], base_cpu[run]);
        }
    }
    qsort (jobd, runs, sizeof (double), bench_compare);
    qsort (ceiling, runs, sizeof (double), bench_compare);
    qsort (cpu, runs, sizeof (double), bench_compare);
    double median = jobd[runs / 2], ceiling_median = ceiling[runs / 2];
    printf ("%-64s %12s\n", "path", "per second");
    printf ("%-64s %12.0f\n", "kafka-listener: status events applied durably (-> subscriber)",
            median);
    printf ("%-64s %12.0f\n", "ceiling: plain librdkafka consumer, fresh group, same topic",
            ceiling_median);
    printf ("ratio kafka-listener / ceiling = %.3f (goal: >= 100000 events/s applied)\n",
            median / ceiling_median);
    printf ("jobd CPU per event (every thread, start to outbound drained): %.1f us\n",
            cpu[runs / 2]);
    if (baseline) {
        qsort (base, runs, sizeof (double), bench_compare);
        qsort (base_cpu, runs, sizeof (double), bench_compare);
        printf ("baseline jobd (%s): %.0f events/s, %.1f us CPU per event; this one / baseline "
                "= %.2f\n",
                baseline, base[runs / 2], base_cpu[runs / 2], median / base[runs / 2]);
    }
    const char *latency_on = getenv ("BENCH_KAFKA_LATENCY");
    if (latency_on && strcmp (latency_on, "0") == 0) {
        kill (mock.pid, SIGTERM);
        harness_proc_finish (&mock, 10000);
        unlink (log);
        return 0;
    }

    s_latency_t latency, plain;
    printf ("latency at 1,000 events/s for 10 s, produce -> (goal: p99 < 20 ms):\n");
    s_latency (S_LATENCY_TOPIC, 10000, 1000, &latency, &plain);
    s_print_latency ("transition published, fetch_wait default (500ms)", latency);
    s_print_latency ("ceiling: consumed by a plain consumer, same fetch wait", plain);
    s_fetch_wait_ms = fetch_wait_ms;
    s_latency (S_LATENCY2_TOPIC, 10000, 1000, &latency, &plain);
    char what[80];
    snprintf (what, sizeof what, "transition published, fetch_wait = %d ms", fetch_wait_ms);
    s_print_latency (what, latency);
    s_print_latency ("ceiling: consumed by a plain consumer, same fetch wait", plain);

    kill (mock.pid, SIGTERM);
    harness_proc_finish (&mock, 10000);
    unlink (log);
    return 0;
}
