//  Prototype of bench_cluster's takeover (docs/cluster.md §13, §16): how long librdkafka's mock
//  cluster takes to hand a dead member's partitions to the survivors of a cooperative-sticky
//  group, next to the same after a clean close (LeaveGroup), the floor, in interleaved runs.
//
//  proto_cluster_rebalance [--session MS] [--kills N]   (defaults 6000 and 20; 3 brokers, 3
//  members, 32 partitions). Each member is this program run again (--member), so that it can be
//  SIGKILLed; it prints "owned N T" (T: CLOCK_MONOTONIC ms) after each rebalance callback.
#include "bench_util.h"
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_MEMBERS    3
#define S_PARTITIONS 32
#define S_TOPIC      "jobs"

static volatile sig_atomic_t s_stop;
static int s_owned;

static void
s_on_term (int signal)
{
    s_stop = 1;
}

static void
s_rebalanced (rd_kafka_t *kafka, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
              void *unused)
{
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_error_destroy (rd_kafka_incremental_assign (kafka, parts));
        s_owned += parts->cnt;
    } else {
        rd_kafka_error_destroy (rd_kafka_incremental_unassign (kafka, parts));
        s_owned -= parts->cnt;
    }
    printf ("owned %d %lld\n", s_owned, (long long)zclock_mono ());
    fflush (stdout);
}

//  --member: a group member until SIGTERM, which closes it cleanly (LeaveGroup).
static int
s_member (const char *brokers, const char *group, int session_ms)
{
    signal (SIGTERM, s_on_term);
    char error[256], session[16], heartbeat[16];
    snprintf (session, sizeof session, "%d", session_ms);
    snprintf (heartbeat, sizeof heartbeat, "%d", session_ms / 6);
    const char *settings[][2] = {{"bootstrap.servers", brokers},
                                 {"group.id", group},
                                 {"partition.assignment.strategy", "cooperative-sticky"},
                                 {"session.timeout.ms", session},
                                 {"heartbeat.interval.ms", heartbeat},
                                 {"enable.auto.commit", "false"}};
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (rd_kafka_conf_set (conf, settings[i][0], settings[i][1], error, sizeof error))
            return fprintf (stderr, "member: %s\n", error), 1;
    rd_kafka_conf_set_rebalance_cb (conf, s_rebalanced);
    rd_kafka_t *kafka = rd_kafka_new (RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (!kafka)
        return fprintf (stderr, "member: %s\n", error), 1;
    rd_kafka_poll_set_consumer (kafka);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new (1);
    rd_kafka_topic_partition_list_add (topics, S_TOPIC, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe (kafka, topics);
    rd_kafka_topic_partition_list_destroy (topics);
    while (!s_stop) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll (kafka, 100);
        if (message)
            rd_kafka_message_destroy (message);
    }
    rd_kafka_consumer_close (kafka);
    rd_kafka_destroy (kafka);
    return 0;
}

typedef struct {
    harness_proc_t proc;
    int owned;         //  from its last line
    long long changed; //  that line's time (ms)
    size_t parsed;     //  bytes of proc.out read so far
} s_member_t;

static s_member_t s_group[S_MEMBERS];

//  Reads every member's new lines for about period_ms in all.
static void
s_pump (int period_ms)
{
    for (int i = 0; i < S_MEMBERS; i++) {
        s_member_t *member = &s_group[i];
        if (member->proc.pid <= 0)
            continue;
        harness_proc_wait_out (&member->proc, "\001", period_ms / S_MEMBERS); //  never comes
        char *line = member->proc.out + member->parsed, *end;
        while ((end = strchr (line, '\n'))) {
            int owned;
            long long at;
            if (sscanf (line, "owned %d %lld", &owned, &at) == 2) {
                member->owned = owned;
                member->changed = at;
            }
            line = end + 1;
        }
        member->parsed = (size_t)(line - member->proc.out);
    }
}

static void
s_spawn (int i, const char *self, const char *brokers, const char *group, int session_ms,
         const char *log)
{
    char session[16];
    snprintf (session, sizeof session, "%d", session_ms);
    char *argv[] = {(char *)self, "--member", (char *)brokers, (char *)group, session, NULL};
    memset (&s_group[i], 0, sizeof s_group[i]);
    if (harness_spawn_logged (&s_group[i].proc, argv, log)) {
        fprintf (stderr, "proto_cluster_rebalance: cannot start a member\n");
        exit (1);
    }
}

//  True when every member holds its share and all partitions are held.
static bool
s_settled (void)
{
    int sum = 0;
    for (int i = 0; i < S_MEMBERS; i++) {
        if (s_group[i].owned < S_PARTITIONS / S_MEMBERS)
            return false;
        sum += s_group[i].owned;
    }
    return sum == S_PARTITIONS;
}

//  Stops member victim with signal and returns the ms until the survivors held every partition
//  (the time of the callback that completed it), or -1 after 60 s.
static double
s_takeover (int victim, int signal)
{
    int64_t start = zclock_mono ();
    kill (s_group[victim].proc.pid, signal);
    s_group[victim].owned = 0;
    while (zclock_mono () < start + 60000) {
        s_pump (60);
        int sum = 0;
        long long last = 0;
        for (int i = 0; i < S_MEMBERS; i++)
            if (i != victim) {
                sum += s_group[i].owned;
                last = s_group[i].changed > last ? s_group[i].changed : last;
            }
        if (sum == S_PARTITIONS)
            return (double)(last - start);
    }
    return -1;
}

int
main (int argc, char *argv[])
{
    if (argc == 5 && !strcmp (argv[1], "--member"))
        return s_member (argv[2], argv[3], atoi (argv[4]));
    int session_ms = 6000, kills = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp (argv[i], "--session"))
            session_ms = atoi (argv[i + 1]);
        else if (!strcmp (argv[i], "--kills"))
            kills = atoi (argv[i + 1]);
    }
    if (session_ms < 1000 || kills < 1 || kills > 1000) {
        fprintf (stderr, "usage: proto_cluster_rebalance [--session MS (>= 1000)] [--kills N]\n");
        return 2;
    }
    char error[256], self[512], group[64], log[400];
    ssize_t length = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (length <= 0)
        return 1;
    self[length] = '\0';
    //  The handle only holds the mock: log_level 3 spares the warning that it has no brokers.
    rd_kafka_conf_t *host_conf = rd_kafka_conf_new ();
    rd_kafka_conf_set (host_conf, "log_level", "3", error, sizeof error);
    rd_kafka_t *host = rd_kafka_new (RD_KAFKA_PRODUCER, host_conf, error, sizeof error);
    rd_kafka_mock_cluster_t *mock = host ? rd_kafka_mock_cluster_new (host, 3) : NULL;
    if (!mock || rd_kafka_mock_topic_create (mock, S_TOPIC, S_PARTITIONS, 3)) {
        fprintf (stderr, "proto_cluster_rebalance: no mock cluster\n");
        return 1;
    }
    const char *brokers = rd_kafka_mock_cluster_bootstraps (mock);
    harness_t harness;
    harness_init (&harness, "proto-rebalance");
    snprintf (log, sizeof log, "%s/members.log", harness.dir);
    snprintf (group, sizeof group, "proto-%d", (int)getpid ());
    for (int i = 0; i < S_MEMBERS; i++)
        s_spawn (i, self, brokers, group, session_ms, log);

    //  Interleaved: a SIGKILL, then a clean close, each of the next member in turn.
    double *killed = calloc ((size_t)kills, sizeof (double));
    double *closed = calloc ((size_t)kills, sizeof (double));
    size_t killed_count = 0, closed_count = 0;
    for (int run = 0; run < 2 * kills; run++) {
        int64_t deadline = zclock_mono () + 120000;
        while (!s_settled () && zclock_mono () < deadline)
            s_pump (150);
        if (!s_settled ()) {
            fprintf (stderr, "proto_cluster_rebalance: the group did not settle in 120 s\n");
            break;
        }
        int64_t quiet = zclock_mono () + 2000; //  let the last round's heartbeats pass
        while (zclock_mono () < quiet)
            s_pump (150);
        int victim = run % S_MEMBERS, signal = run % 2 ? SIGTERM : SIGKILL;
        double ms = s_takeover (victim, signal);
        harness_proc_finish (&s_group[victim].proc, 10000);
        printf ("run %2d: %s member %d: takeover %.0f ms\n", run,
                signal == SIGKILL ? "SIGKILL" : "close  ", victim, ms);
        fflush (stdout);
        if (ms >= 0 && signal == SIGKILL)
            killed[killed_count++] = ms / 1000;
        else if (ms >= 0)
            closed[closed_count++] = ms / 1000;
        s_spawn (victim, self, brokers, group, session_ms, log);
    }
    printf ("session.timeout.ms %d, %d members, %d partitions, cooperative-sticky:\n", session_ms,
            S_MEMBERS, S_PARTITIONS);
    printf ("  takeover after SIGKILL:       p50 %5.1f s  max %5.1f s  (%zu runs)\n",
            bench_percentile (killed, killed_count, 0.5),
            bench_percentile (killed, killed_count, 1), killed_count);
    printf ("  after a clean close (floor):  p50 %5.1f s  max %5.1f s  (%zu runs)\n",
            bench_percentile (closed, closed_count, 0.5),
            bench_percentile (closed, closed_count, 1), closed_count);
    for (int i = 0; i < S_MEMBERS; i++) {
        kill (s_group[i].proc.pid, SIGKILL);
        harness_proc_finish (&s_group[i].proc, 10000);
    }
    free (killed);
    free (closed);
    harness_fini (&harness);
    rd_kafka_mock_cluster_destroy (mock);
    rd_kafka_destroy (host);
    return 0;
}
