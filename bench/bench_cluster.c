//  Benchmark (not a test): cluster mode (docs/cluster.md, sections 5, 13 and 16) against
//  tools/kafka-mock (three brokers on loopback), the real jobd binary in every role.
//  1. Restore: a writer (instance a, the driver plugin) fills the changelog with JOBS jobs, each
//     its history entries and its records as its commits produce them; then, RUNS times, a fresh
//     instance b (no plugin, empty store) reads it from offset 0 until its store holds every job:
//     jobs/s and messages/s, how soon b answers a query and how slowly while it restores. Next
//     to two ceilings of the same run: a plain librdkafka consumer reading the same topic end to
//     end (messages/s), and raw LMDB puts of the same records (their keys, values of their
//     sizes), 2,000 a commit as the replica apply commits (records/s).
//  2. CPU per transition: CPU_JOBS jobs x 3 transitions (the driver plugin: track -> SUBMITTED,
//     RUNNING, SUCCEEDED, as fast as the broker takes them) through a single jobd, a one-instance
//     cluster, and a three-instance one (a drives the load; b and c, with no plugin, own two
//     thirds of the partitions once the group settled, and apply the commands of their jobs
//     that a forwards to them),
//     interleaved RUNS times: each jobd process's user+system CPU from the start of the load to
//     its last transition published, per transition; the ratios; the time each took
//     (transitions/s); its heap after the load. The mock's own CPU is shown beside (another
//     process).
//  Usage: bench_cluster [--jobs N] [--runs R] [--cpu-jobs M] [--partitions P]
//                       [--kafka PROPERTY=VALUE]... [--no-restore] [--no-cpu] [--no-three]
//         (defaults: 100000 jobs, 3 runs, medians; 20000 jobs for the CPU part; 64 partitions:
//          the mock keeps only about the last 5 MiB of a partition, and the bench stops when
//          a partition lost its first messages; --kafka: a librdkafka property of every
//          cluster client, as cluster/kafka in jobd's config, up to 8)
#include "bench_util.h"
#include "harness_cluster.h"
#include "harness_kafka.h"
#include "jobd_map.h"
#include <lmdb.h>
#include <signal.h>
#include <string.h>

#define S_RUNS_MAX  16
#define S_BROKERS   "3"
#define S_LMDB_TXN  2000  //  records per raw LMDB commit: the replica apply's batch
#define S_IDLE_MS   30000 //  no transition for this long: the bench gives up
#define S_STATS_MS  10000 //  longest a stats query may take before it counts as unanswered
#define S_POLL_MS   50    //  between two stats queries while b restores
#define S_KAFKA_MAX 8     //  --kafka options

//  --kafka PROPERTY=VALUE: librdkafka properties for every cluster client (cluster/kafka).
static const char *s_kafka[S_KAFKA_MAX];
static int s_kafka_count;

static void
s_fail (const char *what, const char *log)
{
    fprintf (stderr, "bench: %s%s%s\n", what, log ? "; see " : "", log ? log : "");
    exit (1);
}

//  The changelog as the ceiling consumer read it: each message's key and value size, for the
//  raw LMDB ceiling's records.
typedef struct {
    size_t count;
    size_t alloc;
    uint32_t *key_size;
    uint32_t *value_size;
    size_t *key_at; //  offset of each key in keys
    char *keys;
    size_t keys_used;
    size_t keys_alloc;
    uint64_t bytes; //  keys and values
} s_records_t;

static void
s_records_add (s_records_t *self, const void *key, size_t key_size, size_t value_size)
{
    if (self->count == self->alloc) {
        self->alloc = self->alloc ? self->alloc * 2 : 65536;
        self->key_size = (uint32_t *)realloc (self->key_size, self->alloc * sizeof (uint32_t));
        self->value_size = (uint32_t *)realloc (self->value_size, self->alloc * sizeof (uint32_t));
        self->key_at = (size_t *)realloc (self->key_at, self->alloc * sizeof (size_t));
    }
    while (self->keys_used + key_size > self->keys_alloc) {
        self->keys_alloc = self->keys_alloc ? self->keys_alloc * 2 : (size_t)1 << 20;
        self->keys = (char *)realloc (self->keys, self->keys_alloc);
    }
    if (!self->key_size || !self->value_size || !self->key_at || !self->keys)
        s_fail ("out of memory", NULL);
    memcpy (self->keys + self->keys_used, key, key_size);
    self->key_at[self->count] = self->keys_used;
    self->key_size[self->count] = (uint32_t)key_size;
    self->value_size[self->count] = (uint32_t)value_size;
    self->keys_used += key_size;
    self->bytes += key_size + value_size;
    self->count++;
}

static void
s_records_free (s_records_t *self)
{
    free (self->key_size);
    free (self->value_size);
    free (self->key_at);
    free (self->keys);
    memset (self, 0, sizeof *self);
}

//  Starts the mock with the three topics of prefix (partitions each, replies 1), its log in
//  harness's folder; writes the bootstrap servers into brokers.
static void
s_start_mock (harness_proc_t *mock, const harness_t *harness, const char *prefix, int partitions,
              char *brokers, size_t size)
{
    char jobs[128], changelog[128], replies[128];
    snprintf (jobs, sizeof jobs, "%s.jobs:%d", prefix, partitions);
    snprintf (changelog, sizeof changelog, "%s.changelog:%d", prefix, partitions);
    snprintf (replies, sizeof replies, "%s.replies:1", prefix);
    const char *const args[] = {"--brokers", S_BROKERS, "--topic", jobs, "--topic",
                                changelog,   "--topic", replies,   NULL};
    if (harness_kafka_mock (mock, harness, args, brokers, size))
        s_fail ("kafka-mock did not start", NULL);
}

//  Writes harness's config: the driver plugin (jobs of it, started by a `driver.go` submission;
//  jobs 0: named and disabled, so that no plugin of the plugin folder is loaded either), and a
//  cluster section when brokers is not NULL.
static void
s_config (harness_t *harness, int jobs, const char *instance, const char *brokers,
          const char *prefix, int partitions)
{
    char text[4096], cluster[2048] = "";
    if (brokers) {
        size_t used = (size_t)snprintf (cluster, sizeof cluster,
                                        "cluster\n"
                                        "    instance = %s\n"
                                        "    brokers = %s\n"
                                        "    prefix = %s\n"
                                        "    partitions = %d\n"
                                        //  The load saturates both cores: with the 1 s
                                        //  default, the lease's renewals lag and it runs out
                                        //  (tracks refused, the load stalls); 3 s ran out
                                        //  too, now and then, while the changelog filled
                                        //  (the session: at least twice the lease).
                                        "    lease = 5s\n"
                                        "    session_timeout = 10s\n"
                                        "%s",
                                        instance, brokers, prefix, partitions,
                                        s_kafka_count ? "    kafka\n" : "");
        for (int index = 0; index < s_kafka_count && used < sizeof cluster; index++) {
            const char *equals = strchr (s_kafka[index], '=');
            used +=
                (size_t)snprintf (cluster + used, sizeof cluster - used, "        %.*s = \"%s\"\n",
                                  (int)(equals - s_kafka[index]), s_kafka[index], equals + 1);
        }
    }
    snprintf (text, sizeof text,
              "    log_level = warn\n"
              "plugins\n"
              "    driver\n"
              "        jobs = %d\n"
              "        start = false\n"
              "        enabled = %s\n"
              "%s",
              jobs > 0 ? jobs : 1, jobs > 0 ? "true" : "false", cluster);
    harness_write_config (harness, text);
}

//  Waits until the count instances of nodes own the partitions between them, each some.
static void
s_wait_shared (harness_t *nodes, int count, int partitions)
{
    int64_t deadline = zclock_mono () + 60000;
    for (;;) {
        int all = 0;
        bool each = true;
        for (int node = 0; node < count; node++) {
            int owned = harness_cluster_owned_count (&nodes[node]);
            each &= owned > 0;
            all += owned > 0 ? owned : 0;
        }
        if (each && all == partitions)
            return;
        if (zclock_mono () >= deadline)
            s_fail ("the instances did not share the partitions", nodes[0].log);
        zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    }
}

//  Starts harness's jobd and waits until its plugins run: a cluster instance answers queries
//  before it owns its partitions, and starts its plugins only then (its "running" line).
static void
s_start (harness_t *harness)
{
    harness_start (harness);
    if (!harness_wait_ready (harness, 60000))
        s_fail ("jobd did not start", harness->log);
    int64_t deadline = zclock_mono () + 60000;
    while (!harness_log_contains (harness, " running: store ")) {
        if (zclock_mono () >= deadline)
            s_fail ("jobd did not start its plugins", harness->log);
        zclock_sleep (20); //  polling interval: the log is the only word of it
    }
}

//  Submits the job of kind driver.go that starts the driver. A cluster instance answers before
//  it owns its partitions (its plugins start then): until it does, a submission is refused
//  (ENOTOWNER), and it is tried again, for 60 s.
static void
s_go (harness_t *harness)
{
    int64_t deadline = zclock_mono () + 60000;
    for (;;) {
        jobd_event_t *go = jobd_event_new (JOBD_EVENT_SUBMIT);
        jobd_event_set (&go->source, "bench");
        jobd_event_set (&go->kind, "driver.go");
        jobd_event_set (&go->spec, "{}");
        char job[128];
        if (harness_request_job (harness, &go, job, sizeof job) == 0)
            return;
        if (zclock_mono () >= deadline)
            s_fail ("the driver.go submission was not answered", harness->log);
        zclock_sleep (50); //  polling interval: the claims tell no one they settled
    }
}

//  Receives transitions from sub until expected arrived, or none for S_IDLE_MS. Returns how many
//  arrived; *last_p is when the last one did. Plain frames, every waiting message per wake-up:
//  the bench shares the two cores with jobd (see bench_kafka.c).
static size_t
s_receive (zsock_t *sub, size_t expected, double *last_p)
{
    size_t received = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    void *handle = zsock_resolve (sub);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (received < expected && zpoller_wait (poller, S_IDLE_MS) == sub) {
        int parts = 0;
        while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0) {
            parts++;
            if (zmq_msg_more (&frame))
                continue;
            if (parts == 2) {
                received++;
                *last_p = bench_seconds ();
            }
            parts = 0;
        }
    }
    zmq_msg_close (&frame);
    zpoller_destroy (&poller);
    return received;
}

typedef struct {
    int64_t stored;    //  jobs in all states (the sum of the counts)
    int64_t succeeded; //  jobs SUCCEEDED
    int64_t published; //  transitions the broker published since its start
} s_stats_t;

static int64_t
s_uint (const msgpack_object *value)
{
    return value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)value->via.u64 : 0;
}

//  One stats query with a long deadline. Returns 0, or -1 (every figure -1) when it was not
//  answered within S_STATS_MS.
static int
s_stats (harness_t *harness, s_stats_t *stats)
{
    //  {"v":1,"type":"query","id":"t","q":"stats"}
    static const char query[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1t\xa1q\xa5stats";
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    stats->stored = stats->succeeded = stats->published = -1;
    const msgpack_object *counts = NULL;
    if (harness_request (harness, query, sizeof query - 1, &reply, S_STATS_MS) == 0)
        counts = jobd_map_lookup (&reply.data, "counts");
    if (counts && counts->type == MSGPACK_OBJECT_MAP) {
        stats->stored = 0;
        for (uint32_t index = 0; index < counts->via.map.size; index++)
            stats->stored += s_uint (&counts->via.map.ptr[index].val);
        stats->succeeded = s_uint (jobd_map_lookup (counts, "SUCCEEDED"));
        stats->published =
            s_uint (jobd_map_lookup (jobd_map_lookup (&reply.data, "broker"), "transitions"));
    }
    msgpack_unpacked_destroy (&reply);
    return counts ? 0 : -1;
}

//  The anonymous memory (heap, not the store's mapped pages) process pid holds now, in MiB, or
//  -1.
static double
s_anon_mib (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *file = fopen (path, "r");
    long kib = -1;
    while (file && fgets (line, sizeof line, file))
        if (sscanf (line, "RssAnon: %ld kB", &kib) == 1)
            break;
    if (file)
        fclose (file);
    return kib < 0 ? -1 : kib / 1024.0;
}

//  True when the jobd of harness holds the driver's jobs jobs and the driver.go job, once each,
//  and published each of their transitions once (those the last commit counted may still be on
//  their way out of the broker's turn: waited for, up to 10 s). Says what differs on stderr.
static bool
s_counts_right (harness_t *harness, const char *who, int jobs)
{
    int64_t expected = (int64_t)jobs * 3 + 1;
    int64_t deadline = zclock_mono () + 10000;
    s_stats_t stats = {-1, -1, -1};
    while (s_stats (harness, &stats) == 0 && stats.published < expected &&
           zclock_mono () < deadline)
        zclock_sleep (S_POLL_MS); //  a query: jobd has no "tell me when"
    if (stats.stored == jobs + 1 && stats.published == expected)
        return true;
    fprintf (stderr, "bench: %s holds %lld jobs (not %d), published %lld transitions (not %lld)\n",
             who, (long long)stats.stored, jobs + 1, (long long)stats.published,
             (long long)expected);
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  Part 1: the restore.

typedef struct {
    const char *brokers;
    const char *prefix;
    const char *topic; //  the changelog
    int partitions;
    int jobs;
    int64_t messages; //  in the changelog
} s_changelog_t;

//  Instance a, the driver, fills the changelog; returns when a published every transition (it
//  publishes on read-back: by then every message is in the changelog), and stops it.
static void
s_fill (harness_t *writer, s_changelog_t *changelog)
{
    s_config (writer, changelog->jobs, "writer-a", changelog->brokers, changelog->prefix,
              changelog->partitions);
    s_start (writer);
    zsock_t *sub = bench_subscribe (writer, "job.");
    double start = bench_seconds (), last = start;
    s_go (writer);
    fprintf (stderr, "filling the changelog: instance a drives %d jobs x 3 transitions...\n",
             changelog->jobs);
    size_t expected = (size_t)changelog->jobs * 3 + 1; //  and the driver.go job's QUEUED
    size_t received = s_receive (sub, expected, &last);
    zsock_destroy (&sub);
    double cpu = bench_cpu_seconds (writer->pid), anon = s_anon_mib (writer->pid);
    if (received < expected) {
        fprintf (stderr, "bench: instance a published %zu of %zu transitions\n", received,
                 expected);
        s_fail ("the writer stalled", writer->log);
    }
    if (!s_counts_right (writer, "instance a", changelog->jobs))
        s_fail ("the writer's counts are wrong", writer->log);
    int rc = harness_stop (writer, SIGTERM, 60000);
    if (rc != 0)
        fprintf (stderr, "bench: instance a exited with %d; see %s\n", rc, writer->log);
    //  What the changelog holds: every partition from offset 0 (the mock drops a partition's
    //  oldest messages past about 5 MiB: a restore from it would miss jobs).
    rd_kafka_t *client = harness_kafka_client (changelog->brokers, RD_KAFKA_PRODUCER, NULL);
    if (!client)
        s_fail ("no librdkafka client", NULL);
    changelog->messages = 0;
    for (int partition = 0; partition < changelog->partitions; partition++) {
        int64_t low = -1, high = -1;
        if (rd_kafka_query_watermark_offsets (client, changelog->topic, partition, &low, &high,
                                              10000))
            s_fail ("the changelog's watermarks were not answered", NULL);
        if (low != 0) {
            fprintf (stderr,
                     "bench: changelog partition %d starts at offset %lld: the mock dropped its "
                     "oldest messages (about 5 MiB a partition); use more --partitions\n",
                     partition, (long long)low);
            exit (1);
        }
        changelog->messages += high;
    }
    rd_kafka_destroy (client);
    printf ("changelog: %d jobs filled by instance a in %.1f s (%.0f transitions/s, a's CPU %.1f "
            "s, its heap then %.0f MiB), %lld messages in %d partitions\n",
            changelog->jobs, last - start, (double)received / (last - start), cpu, anon,
            (long long)changelog->messages, changelog->partitions);
}

//  The ceiling: a plain consumer (no group) reads the whole changelog. Returns messages per
//  second from its creation to the last message; fills records when it is empty.
static double
s_consumer (const s_changelog_t *changelog, s_records_t *records)
{
    bool keep = records->count == 0;
    double start = bench_seconds (), last = start;
    rd_kafka_t *reader =
        harness_kafka_reader (changelog->brokers, changelog->topic, changelog->partitions);
    if (!reader)
        s_fail ("no librdkafka consumer", NULL);
    int64_t got = 0;
    while (got < changelog->messages) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll (reader, S_IDLE_MS);
        if (!message)
            break;
        if (!message->err) {
            got++;
            last = bench_seconds ();
            if (keep)
                s_records_add (records, message->key, message->key_len, message->len);
        }
        rd_kafka_message_destroy (message);
    }
    rd_kafka_destroy_flags (reader, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    if (got < changelog->messages) {
        fprintf (stderr, "bench: the plain consumer read %lld of %lld messages\n", (long long)got,
                 (long long)changelog->messages);
        exit (1);
    }
    return got / (last - start);
}

//  The other ceiling: the same records (keys, values of their sizes) put into a fresh LMDB, the
//  history entries (keys with a NUL) and the job records in a database each, S_LMDB_TXN a
//  commit. Returns records per second.
static double
s_raw_lmdb (const s_records_t *records)
{
    char dir[] = "/tmp/jobd-bench-cluster-lmdb-XXXXXX";
    if (!mkdtemp (dir))
        s_fail ("no temporary folder", NULL);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi[2];
    if (mdb_env_create (&env) || mdb_env_set_mapsize (env, (size_t)8 << 30) ||
        mdb_env_set_maxdbs (env, 2) || mdb_env_open (env, dir, MDB_NOTLS, 0600) ||
        mdb_txn_begin (env, NULL, 0, &txn) || mdb_dbi_open (txn, "jobs", MDB_CREATE, &dbi[0]) ||
        mdb_dbi_open (txn, "history", MDB_CREATE, &dbi[1]) || mdb_txn_commit (txn))
        s_fail ("raw LMDB: no environment", NULL);
    static char value[1 << 20];
    memset (value, 'x', sizeof value);
    double start = bench_seconds ();
    for (size_t done = 0; done < records->count;) {
        if (mdb_txn_begin (env, NULL, 0, &txn))
            s_fail ("raw LMDB: no transaction", NULL);
        for (size_t index = 0; index < S_LMDB_TXN && done < records->count; index++, done++) {
            char *key = records->keys + records->key_at[done];
            size_t key_size = records->key_size[done];
            size_t value_size = records->value_size[done];
            MDB_val k = {key_size, key};
            MDB_val v = {value_size < sizeof value ? value_size : sizeof value, value};
            bool history = memchr (key, 0, key_size) != NULL;
            if (key_size == 0 || key_size > 511 || mdb_put (txn, dbi[history], &k, &v, 0))
                s_fail ("raw LMDB: a put failed", NULL);
        }
        if (mdb_txn_commit (txn))
            s_fail ("raw LMDB: a commit failed", NULL);
    }
    double rate = records->count / (bench_seconds () - start);
    mdb_env_close (env);
    char command[128];
    snprintf (command, sizeof command, "rm -rf %s", dir);
    if (system (command)) {
    }
    return rate;
}

typedef struct {
    double seconds;       //  from b's start until its store held every job
    double first_answer;  //  from b's start until it answered its first stats query
    int64_t stored_first; //  jobs b held at that first answer
    double answer_p50;    //  stats answer times while b restored (ms)
    double answer_max;
    int64_t unanswered; //  stats queries not answered within S_STATS_MS
    double cpu;         //  b's CPU seconds over the restore
    double anon_mib;    //  b's anonymous memory once restored
    bool wrong;         //  b held or published another count than the writer's
} s_restore_t;

//  A fresh instance b restores the changelog into an empty store.
static s_restore_t
s_restore (const s_changelog_t *changelog, int run)
{
    s_restore_t result = {0};
    harness_t b;
    harness_init (&b, "bench-cluster-b");
    char instance[64];
    snprintf (instance, sizeof instance, "restore-b%d", run);
    s_config (&b, 0, instance, changelog->brokers, changelog->prefix, changelog->partitions);
    //  Timed from the spawn: jobd's start (the cluster's topics checked, the reader assigned)
    //  is part of what a new instance costs.
    double start = bench_seconds ();
    if (harness_start (&b) <= 0)
        s_fail ("jobd did not start", b.log);
    size_t alloc = 1024, answers = 0;
    double *answer = (double *)malloc (alloc * sizeof (double));
    s_stats_t stats = {-1, -1, -1};
    double next_report = start + 5;
    while (stats.succeeded < changelog->jobs) {
        if (access (b.admin + 6, F_OK) != 0) { //  the socket is not there yet
            int status;
            if (waitpid (b.pid, &status, WNOHANG) == b.pid) {
                b.pid = 0;
                s_fail ("instance b exited while restoring", b.log);
            }
            if (bench_seconds () - start > 60)
                s_fail ("instance b did not open its admin socket in 60 s", b.log);
            zclock_sleep (5); //  the socket appears within milliseconds: no event to wait on
            continue;
        }
        double asked = bench_seconds ();
        int rc = s_stats (&b, &stats);
        double now = bench_seconds ();
        if (rc) {
            result.unanswered++;
            if (result.first_answer == 0 && now - start > 60)
                s_fail ("instance b did not answer in 60 s", b.log);
            continue;
        }
        if (result.first_answer == 0) {
            result.first_answer = now - start;
            result.stored_first = stats.stored;
        } else {
            if (answers == alloc)
                answer = (double *)realloc (answer, (alloc *= 2) * sizeof (double));
            answer[answers++] = (now - asked) * 1000;
        }
        if (now > next_report) {
            fprintf (stderr, "  restore %d: %lld of %d jobs after %.0f s\n", run + 1,
                     (long long)stats.succeeded, changelog->jobs, now - start);
            next_report = now + 5;
        }
        if (now - start > 600)
            s_fail ("instance b did not restore every job in 600 s", b.log);
        if (stats.succeeded < changelog->jobs)
            zclock_sleep (S_POLL_MS); //  stats is a query: jobd has no "tell me when"
    }
    result.seconds = bench_seconds () - start;
    result.cpu = bench_cpu_seconds (b.pid);
    result.answer_p50 = bench_percentile (answer, answers, 0.5);
    result.answer_max = bench_percentile (answer, answers, 1);
    result.anon_mib = s_anon_mib (b.pid);
    free (answer);
    result.wrong = !s_counts_right (&b, "instance b", changelog->jobs);
    int rc = harness_stop (&b, SIGTERM, 60000);
    if (rc != 0)
        fprintf (stderr, "bench: instance b exited with %d; see %s\n", rc, b.log);
    harness_fini (&b);
    return result;
}

static double
s_median (double *values, int count)
{
    return bench_percentile (values, (size_t)count, 0.5);
}

static void
s_restore_part (int jobs, int runs, int partitions)
{
    harness_t writer;
    harness_init (&writer, "bench-cluster-a");
    harness_proc_t mock;
    char brokers[256];
    s_start_mock (&mock, &writer, "restore", partitions, brokers, sizeof brokers);
    s_changelog_t changelog = {brokers, "restore", "restore.changelog", partitions, jobs, 0};
    printf ("\n1. restore: %d jobs from the changelog (kafka-mock, %s brokers, %d partitions), %d "
            "runs, medians\n",
            jobs, S_BROKERS, partitions, runs);
    s_fill (&writer, &changelog);
    s_records_t records = {0};
    double consumer[S_RUNS_MAX], lmdb[S_RUNS_MAX], seconds[S_RUNS_MAX], first[S_RUNS_MAX],
        p50[S_RUNS_MAX], max[S_RUNS_MAX], cpu[S_RUNS_MAX], stored_first[S_RUNS_MAX],
        anon[S_RUNS_MAX];
    int64_t unanswered = 0, wrong = 0;
    for (int run = 0; run < runs; run++) {
        consumer[run] = s_consumer (&changelog, &records);
        lmdb[run] = s_raw_lmdb (&records);
        s_restore_t restore = s_restore (&changelog, run);
        seconds[run] = restore.seconds;
        first[run] = restore.first_answer * 1000;
        stored_first[run] = (double)restore.stored_first;
        p50[run] = restore.answer_p50;
        max[run] = restore.answer_max;
        cpu[run] = restore.cpu;
        anon[run] = restore.anon_mib;
        unanswered += restore.unanswered;
        wrong += restore.wrong;
        fprintf (stderr,
                 "run %d: restore %.1f s (%.0f jobs/s, %.0f messages/s), first answer %.0f ms "
                 "(%lld jobs then), answers p50 %.1f ms max %.0f ms; plain consumer %.0f "
                 "messages/s; raw LMDB %.0f records/s\n",
                 run + 1, seconds[run], jobs / seconds[run], changelog.messages / seconds[run],
                 first[run], (long long)restore.stored_first, p50[run], max[run], consumer[run],
                 lmdb[run]);
    }
    double restore_s = s_median (seconds, runs);
    double job_rate = jobs / restore_s, message_rate = changelog.messages / restore_s;
    double consumer_rate = s_median (consumer, runs), lmdb_rate = s_median (lmdb, runs);
    printf ("records: %zu messages, %.0f bytes each on average (key and value), %.1f MiB a "
            "partition\n",
            records.count, (double)records.bytes / records.count,
            records.bytes / 1048576.0 / partitions);
    printf ("%-64s %14s\n", "path", "per second");
    printf ("%-64s %14.0f\n", "restore, instance b: jobs stored (spawn -> every job stored)",
            job_rate);
    printf ("%-64s %14.0f\n", "restore, instance b: changelog messages applied", message_rate);
    printf ("%-64s %14.0f\n", "ceiling: plain librdkafka consumer, messages read end to end",
            consumer_rate);
    printf ("%-64s %14.0f\n", "ceiling: raw LMDB puts of the same records, 2,000 a commit",
            lmdb_rate);
    printf ("ratios: restore / plain consumer = %.2f; restore / raw LMDB = %.2f (messages)\n",
            message_rate / consumer_rate, message_rate / lmdb_rate);
    printf ("restore of %d jobs: %.1f s, instance b's CPU %.1f s (%.1f us a message)\n", jobs,
            restore_s, s_median (cpu, runs), s_median (cpu, runs) * 1e6 / changelog.messages);
    printf ("while restoring: b answers its first query %.0f ms after its start (%.0f jobs "
            "stored then); stats answers p50 %.1f ms, max %.0f ms (medians of runs; %lld not "
            "answered within %d s)\n",
            s_median (first, runs), s_median (stored_first, runs), s_median (p50, runs),
            s_median (max, runs), (long long)unanswered, S_STATS_MS / 1000);
    printf ("instance b once restored: %.0f MiB of anonymous memory (heap; the store's pages not "
            "counted); runs where b held or published another count than the writer: %lld\n",
            s_median (anon, runs), (long long)wrong);
    s_records_free (&records);
    harness_kafka_mock_stop (&mock);
    harness_fini (&writer);
}

//  ---------------------------------------------------------------------------------------------
//  Part 2: CPU per transition.

#define S_REPLICAS 2 //  the replicas of the three-instance cluster

typedef struct {
    double cpu_us;         //  the writer's CPU per transition (us)
    double mock_cpu_us;    //  the mock's (cluster mode), per transition
    double rate;           //  transitions per second, as the writer published them
    double anon_mib;       //  the writer's anonymous memory after the load
    double replica_cpu_us; //  with replicas: the CPU per transition of each, the mean
    double replica_lag_ms; //  with replicas: from the writer's last transition to the last
                           //  replica's (within S_POLL_MS)
} s_load_t;

//  jobs x 3 transitions through one jobd (replicas -1), a one-instance cluster (0), or a cluster
//  where a writes and replicas instances follow it (no plugin: they own nothing yet, they apply
//  the changelog and publish).
static s_load_t
s_load (int jobs, int replicas, int run)
{
    s_load_t result = {0};
    bool cluster = replicas >= 0;
    harness_t harness, replica[S_REPLICAS];
    harness_init (&harness, cluster ? "bench-cluster-cpu" : "bench-single-cpu");
    harness_proc_t mock;
    char brokers[256], prefix[32];
    snprintf (prefix, sizeof prefix, "cpu%d", run);
    if (cluster)
        s_start_mock (&mock, &harness, prefix, 32, brokers, sizeof brokers);
    s_config (&harness, jobs, "cpu-a", cluster ? brokers : NULL, prefix, 32);
    s_start (&harness);
    double replica_cpu[S_REPLICAS];
    for (int index = 0; index < replicas; index++) {
        char instance[32];
        snprintf (instance, sizeof instance, "cpu-r%d", index);
        harness_init (&replica[index], instance);
        s_config (&replica[index], 0, instance, brokers, prefix, 32);
        s_start (&replica[index]);
    }
    //  The group settled before the load: a drives the jobs of its own partitions (a track's id
    //  is drawn in one), and the others follow the changelog. (Partitions moving under the load
    //  would send a's observations to instances with no driver.)
    if (replicas > 0) {
        harness_t all[1 + S_REPLICAS];
        all[0] = harness;
        for (int index = 0; index < replicas; index++)
            all[1 + index] = replica[index];
        s_wait_shared (all, 1 + replicas, 32);
    }
    zsock_t *sub = bench_subscribe (&harness, "job.");
    //  From the load's start: jobd's own start (and the cluster's topics check) left out.
    double cpu = bench_cpu_seconds (harness.pid);
    double mock_cpu = cluster ? bench_cpu_seconds (mock.pid) : 0;
    for (int index = 0; index < replicas; index++)
        replica_cpu[index] = bench_cpu_seconds (replica[index].pid);
    double start = bench_seconds (), last = start;
    s_go (&harness);
    size_t expected = (size_t)jobs * 3 + 1;
    size_t received = s_receive (sub, expected, &last);
    zsock_destroy (&sub);
    if (received < expected) {
        fprintf (stderr, "bench: %s: %zu of %zu transitions arrived\n",
                 cluster ? "cluster" : "single", received, expected);
        s_fail ("the load stalled", harness.log);
    }
    result.cpu_us = (bench_cpu_seconds (harness.pid) - cpu) * 1e6 / received;
    result.rate = received / (last - start);
    result.anon_mib = s_anon_mib (harness.pid);
    //  The replicas, each once it published every transition (it may still be applying).
    for (int index = 0; index < replicas; index++) {
        if (!s_counts_right (&replica[index], "a replica", jobs))
            s_fail ("a replica's counts are wrong", replica[index].log);
        result.replica_cpu_us += (bench_cpu_seconds (replica[index].pid) - replica_cpu[index]) *
                                 1e6 / received / replicas;
        result.replica_lag_ms = (bench_seconds () - last) * 1000;
    }
    if (cluster)
        result.mock_cpu_us = (bench_cpu_seconds (mock.pid) - mock_cpu) * 1e6 / received;
    if (!s_counts_right (&harness, cluster ? "the cluster's jobd" : "the single jobd", jobs))
        s_fail ("the load's counts are wrong", harness.log);
    for (int index = 0; index < replicas; index++) {
        int rc = harness_stop (&replica[index], SIGTERM, 60000);
        if (rc != 0)
            fprintf (stderr, "bench: a replica exited with %d; see %s\n", rc, replica[index].log);
        harness_fini (&replica[index]);
    }
    int rc = harness_stop (&harness, SIGTERM, 60000);
    if (rc != 0)
        fprintf (stderr, "bench: jobd exited with %d; see %s\n", rc, harness.log);
    if (cluster)
        harness_kafka_mock_stop (&mock);
    harness_fini (&harness);
    return result;
}

//  The medians of runs loads of one kind.
typedef struct {
    double cpu_us[S_RUNS_MAX], mock_cpu_us[S_RUNS_MAX], rate[S_RUNS_MAX], anon_mib[S_RUNS_MAX],
        replica_cpu_us[S_RUNS_MAX], replica_lag_ms[S_RUNS_MAX];
} s_loads_t;

static void
s_loads_add (s_loads_t *self, int run, s_load_t load)
{
    self->cpu_us[run] = load.cpu_us;
    self->mock_cpu_us[run] = load.mock_cpu_us;
    self->rate[run] = load.rate;
    self->anon_mib[run] = load.anon_mib;
    self->replica_cpu_us[run] = load.replica_cpu_us;
    self->replica_lag_ms[run] = load.replica_lag_ms;
}

static s_load_t
s_loads_median (s_loads_t *self, int runs)
{
    s_load_t median = {
        s_median (self->cpu_us, runs),         s_median (self->mock_cpu_us, runs),
        s_median (self->rate, runs),           s_median (self->anon_mib, runs),
        s_median (self->replica_cpu_us, runs), s_median (self->replica_lag_ms, runs)};
    return median;
}

static bool s_three = true; //  the three-instance load too

static void
s_cpu_part (int jobs, int runs)
{
    printf ("\n2. CPU per transition: %d jobs x 3 transitions (driver plugin), a single jobd, a "
            "one-instance cluster and a three-instance one (a writes, %d replicas follow) on "
            "kafka-mock (%s brokers, 32 partitions), interleaved, %d runs, medians\n",
            jobs, S_REPLICAS, S_BROKERS, runs);
    s_loads_t loads[3];
    for (int run = 0; run < runs; run++) {
        s_load_t single = s_load (jobs, -1, run);
        s_load_t one = s_load (jobs, 0, run);
        //  --no-three: not the three-instance one. (In it, a's driver tracks jobs whose derived
        //  ids fall in b's and c's partitions too: those tracks and their observations are
        //  forwarded to their owners through the jobs topic, who apply them.)
        s_load_t three = s_three ? s_load (jobs, S_REPLICAS, run) : (s_load_t){0};
        s_loads_add (&loads[0], run, single);
        s_loads_add (&loads[1], run, one);
        s_loads_add (&loads[2], run, three);
        fprintf (stderr,
                 "run %d: single %.1f us CPU a transition, %.0f/s; one-instance cluster %.1f us "
                 "(mock %.1f us), %.0f/s",
                 run + 1, single.cpu_us, single.rate, one.cpu_us, one.mock_cpu_us, one.rate);
        if (s_three)
            fprintf (stderr,
                     "; three instances: a %.1f us, a replica %.1f us, %.0f/s (replicas %.0f ms "
                     "behind)",
                     three.cpu_us, three.replica_cpu_us, three.rate, three.replica_lag_ms);
        fprintf (stderr, "\n");
    }
    s_load_t single = s_loads_median (&loads[0], runs);
    s_load_t one = s_loads_median (&loads[1], runs);
    s_load_t three = s_loads_median (&loads[2], runs);
    printf ("%-46s %22s %14s %10s\n", "jobd", "CPU a transition (us)", "transitions/s", "heap MiB");
    printf ("%-46s %22.1f %14.0f %10.0f\n", "single instance", single.cpu_us, single.rate,
            single.anon_mib);
    printf ("%-46s %22.1f %14.0f %10.0f\n", "one-instance cluster (its jobd)", one.cpu_us, one.rate,
            one.anon_mib);
    printf ("%-46s %22.1f\n", "  and the mock's process beside it", one.mock_cpu_us);
    if (!s_three) {
        printf ("ratios: one-instance cluster / single CPU a transition = %.2f, transitions/s = "
                "%.2f\n",
                one.cpu_us / single.cpu_us, one.rate / single.rate);
        return;
    }
    printf ("%-46s %22.1f %14.0f %10.0f\n", "three instances: a, the writer", three.cpu_us,
            three.rate, three.anon_mib);
    printf ("%-46s %22.1f\n", "  each replica (b, c)", three.replica_cpu_us);
    printf ("%-46s %22.1f\n", "  the mock's process", three.mock_cpu_us);
    printf ("ratios: one-instance cluster / single CPU a transition = %.2f, transitions/s = "
            "%.2f; three instances (a + %d replicas) / single CPU a transition = %.2f; the "
            "replicas had published everything %.0f ms after a\n",
            one.cpu_us / single.cpu_us, one.rate / single.rate, S_REPLICAS,
            (three.cpu_us + S_REPLICAS * three.replica_cpu_us) / single.cpu_us,
            three.replica_lag_ms);
}

int
main (int argc, char *argv[])
{
    int jobs = 100000, runs = 3, cpu_jobs = 20000, partitions = 64;
    bool restore = true, cpu = true;
    for (int index = 1; index < argc; index++) {
        const char *option = argv[index];
        const char *value = index + 1 < argc ? argv[index + 1] : NULL;
        if (strcmp (option, "--no-restore") == 0)
            restore = false;
        else if (strcmp (option, "--no-three") == 0)
            s_three = false;
        else if (strcmp (option, "--no-cpu") == 0)
            cpu = false;
        else if (value && strcmp (option, "--jobs") == 0 && ++index)
            jobs = atoi (value);
        else if (value && strcmp (option, "--runs") == 0 && ++index)
            runs = atoi (value);
        else if (value && strcmp (option, "--cpu-jobs") == 0 && ++index)
            cpu_jobs = atoi (value);
        else if (value && strcmp (option, "--partitions") == 0 && ++index)
            partitions = atoi (value);
        else if (value && strcmp (option, "--kafka") == 0 && ++index && strchr (value, '=') &&
                 s_kafka_count < S_KAFKA_MAX)
            s_kafka[s_kafka_count++] = value;
        else
            runs = 0; //  the usage below
    }
    if (jobs <= 0 || runs <= 0 || runs > S_RUNS_MAX || cpu_jobs <= 0 || partitions <= 0 ||
        partitions > 4096) {
        fprintf (stderr,
                 "usage: bench_cluster [--jobs N] [--runs R (1..%d)] [--cpu-jobs M] "
                 "[--partitions P] [--kafka PROPERTY=VALUE]... [--no-restore] [--no-cpu] "
                 "[--no-three]\n",
                 S_RUNS_MAX);
        return 2;
    }
    //  The jobd, plugins and kafka-mock of the build this bench belongs to, unless told.
    if (!getenv ("JOBD_BUILD_DIR"))
        setenv ("JOBD_BUILD_DIR", JOBD_BENCH_BUILD_DIR, 1);
    printf ("jobd bench: cluster mode (docs/cluster.md), the real jobd against kafka-mock on "
            "loopback\n");
    if (restore)
        s_restore_part (jobs, runs, partitions);
    if (cpu)
        s_cpu_part (cpu_jobs, runs);
    printf ("\nreproduce: cd build && bin/bench_cluster --jobs %d --runs %d --cpu-jobs %d "
            "--partitions %d",
            jobs, runs, cpu_jobs, partitions);
    for (int index = 0; index < s_kafka_count; index++)
        printf (" --kafka '%s'", s_kafka[index]);
    printf ("%s%s\n", restore ? "" : " --no-restore", cpu ? "" : " --no-cpu");
    return 0;
}
