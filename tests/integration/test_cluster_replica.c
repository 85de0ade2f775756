//  Cluster mode, the replica (docs/cluster.md sections 5 and 15, commit 3): instance a runs the
//  demo plugin, instance b none. Every job a stores reaches b's store through the changelog, and
//  both publish each transition once, when the changelog gives it back. A replica killed and
//  started again resumes where its store says it stopped: it publishes only what it had not.
//  Against librdkafka's mock cluster (tools/kafka-mock, three brokers, over loopback TCP).
#include "harness_cluster.h"
#include "jobd_route.h"
#include "jobd_state.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>

#define S_DEMO_JOBS 40
#define S_MORE_JOBS 10
#define S_STATES    4 //  a demo job's transitions: QUEUED, SUBMITTED, RUNNING, and its end

static harness_t s_a, s_b, s_c;
static harness_proc_t s_mock;
static char s_brokers[256];

static int
s_setup (void **state)
{
    harness_init (&s_a, "cluster-replica-a");
    harness_init (&s_b, "cluster-replica-b");
    harness_init (&s_c, "cluster-replica-c");
    //  The mock takes no CreateTopics (librdkafka 2.0.2): the topics are made here.
    const char *const args[] = {"--commands",
                                "--brokers",
                                "3",
                                "--topic",
                                "jobd.jobs:4",
                                "--topic",
                                "jobd.changelog:4",
                                "--topic",
                                "jobd.replies:1",
                                "--topic",
                                "jobd.status:2",
                                "--topic",
                                "jobd.out:2",
                                NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_a, args, s_brokers, sizeof s_brokers), 0);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_stop (&s_a, SIGKILL, 5000);
    harness_stop (&s_b, SIGKILL, 5000);
    harness_kafka_mock_stop (&s_mock);
    harness_fini (&s_a);
    harness_fini (&s_b);
    harness_fini (&s_c);
    return 0;
}

static void
s_config_step (harness_t *harness, const char *instance, int demo_jobs, const char *step)
{
    char text[2048], plugins[512];
    //  Without demo jobs, no plugin at all: a plugin named and disabled, so that none of the
    //  plugin folder's is loaded either.
    snprintf (plugins, sizeof plugins,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        jobs = %d\n"
              "        step = %s\n"
              "        enabled = %s\n",
              harness_build_dir (), demo_jobs > 0 ? demo_jobs : 0, step,
              demo_jobs >= 0 ? "true" : "false");
    snprintf (text, sizeof text,
              "%s"
              "cluster\n"
              "    instance = %s\n"
              "    brokers = %s\n"
              "    partitions = 4\n"
              "    session_timeout = 4s\n"
              "    reply_timeout = 2s\n",
              plugins, instance, s_brokers);
    harness_write_config (harness, text);
}

static void
s_config (harness_t *harness, const char *instance, int demo_jobs)
{
    s_config_step (harness, instance, demo_jobs, "20ms");
}

static void
s_start (harness_t *harness)
{
    assert_true (harness_start (harness) > 0);
    assert_true (harness_wait_ready (harness, 30000));
}

//  `jobctl -o jsonl ls --sort id` of an instance: one line per job, in id order. Through a file:
//  the harness keeps 64 KiB of a child's output, a few hundred jobs.
static void
s_ls (harness_t *harness, char *out, size_t size)
{
    char jobctl[512], command[2048], path[400], err[1024], ignored[16];
    snprintf (path, sizeof path, "%s/ls.jsonl", harness->dir);
    snprintf (command, sizeof command, "%s -c %s -o jsonl ls --sort id --limit 100000 > %s",
              harness_bin ("jobctl", jobctl, sizeof jobctl), harness->config, path);
    char *const argv[] = {"/bin/sh", "-c", command, NULL};
    out[0] = 0;
    assert_int_equal (harness_run (argv, ignored, sizeof ignored, err, sizeof err, 30000), 0);
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    size_t used = fread (out, 1, size - 1, file);
    out[used] = 0;
    assert_true (feof (file));
    fclose (file);
}

//  The broker's count of transitions it published (`jobctl stats`).
static int64_t
s_published (harness_t *harness)
{
    char out[16384], err[1024];
    const char *args[] = {"-c", harness->config, "--json", "stats", NULL};
    if (harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) != 0)
        return -1;
    json_t *root = json_loads (out, 0, NULL);
    json_t *value = json_object_get (json_object_get (root, "broker"), "transitions");
    int64_t count = json_is_integer (value) ? (int64_t)json_integer_value (value) : -1;
    json_decref (root);
    return count;
}

//  `jobctl cluster` of an instance, with option (NULL or "--json"): its exit code and output.
static int
s_cluster (harness_t *harness, const char *option, char *out, size_t size)
{
    char err[1024];
    const char *args[] = {"-c", harness->config, "cluster", option, NULL};
    return harness_run_bin ("jobctl", args, out, size, err, sizeof err);
}

//  Waits until both instances list the same jobs, in the same states, count ended jobs: true
//  when they did within timeout_ms.
static bool
s_wait_same (int64_t ended, int timeout_ms, char *a_ls, char *b_ls, size_t size)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        if (harness_cluster_ended (&s_a) == ended && harness_cluster_ended (&s_b) == ended) {
            s_ls (&s_a, a_ls, size);
            s_ls (&s_b, b_ls, size);
            if (strcmp (a_ls, b_ls) == 0)
                return true;
        }
        zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    }
    return false;
}

//  Receives transitions from sub until count arrived or timeout_ms passed; each (topic) counted
//  in seen. Returns how many arrived.
static int
s_receive (zsock_t *sub, zhashx_t *seen, int count, int timeout_ms)
{
    int arrived = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    zpoller_t *poller = zpoller_new (sub, NULL);
    while (arrived < count && zclock_mono () < deadline) {
        if (zpoller_wait (poller, (int)(deadline - zclock_mono ())) != sub)
            continue;
        char *topic = NULL;
        zframe_t *body = NULL;
        if (zsock_recv (sub, "sf", &topic, &body) == 0 && topic) {
            //  The same transition twice is the same topic and body twice.
            char key[512];
            snprintf (key, sizeof key, "%s/%zu", topic, body ? zframe_size (body) : 0);
            uintptr_t times = (uintptr_t)zhashx_lookup (seen, key);
            zhashx_update (seen, key, (void *)(times + 1));
            arrived++;
        }
        zstr_free (&topic);
        zframe_destroy (&body);
    }
    zpoller_destroy (&poller);
    return arrived;
}

static size_t
s_doubled (zhashx_t *seen)
{
    size_t doubled = 0;
    for (void *times = zhashx_first (seen); times; times = zhashx_next (seen))
        if ((uintptr_t)times > 1)
            doubled++;
    return doubled;
}

static void
test_replica_follows_the_writer (void **state)
{
    static char a_ls[1 << 20], b_ls[1 << 20];
    s_config (&s_b, "node-b", 0); //  its demo moves the jobs of the partitions b owns
    s_start (&s_b);
    zsock_t *b_sub = harness_subscribe (&s_b, "job.", 5000);
    assert_non_null (b_sub);
    s_config (&s_a, "node-a", S_DEMO_JOBS);
    s_start (&s_a);
    //  Each instance publishes what the changelog confirmed, the writer's own included.
    assert_true (s_wait_same (S_DEMO_JOBS, 60000, a_ls, b_ls, sizeof a_ls));
    assert_int_equal (strlen (a_ls) > 0 ? 0 : 1, 0);
    zhashx_t *b_seen = zhashx_new ();
    assert_int_equal (s_receive (b_sub, b_seen, S_DEMO_JOBS * S_STATES, 20000),
                      S_DEMO_JOBS * S_STATES);
    assert_int_equal (zhashx_size (b_seen), S_DEMO_JOBS * S_STATES);
    assert_int_equal (s_doubled (b_seen), 0);
    assert_int_equal (s_published (&s_a), S_DEMO_JOBS * S_STATES);
    assert_int_equal (s_published (&s_b), S_DEMO_JOBS * S_STATES);
    //  The jobs carry the cluster's ids: job- and a ULID (docs/cluster.md, section 3).
    assert_non_null (strstr (a_ls, "\"id\":\"job-0"));
    //  jobctl cluster: what b read and published, and that it trails by nothing now.
    char out[16384];
    assert_int_equal (s_cluster (&s_b, "--json", out, sizeof out), 0);
    json_t *cluster = json_loads (out, 0, NULL);
    assert_non_null (cluster);
    assert_string_equal (json_string_value (json_object_get (cluster, "instance")), "node-b");
    assert_int_equal (json_integer_value (json_object_get (cluster, "partitions")), 4);
    json_t *changelog = json_object_get (cluster, "changelog");
    assert_int_equal (json_integer_value (json_object_get (changelog, "published")),
                      S_DEMO_JOBS * S_STATES);
    //  b writes no job: what it produced are its claims (and releases) of partitions.
    assert_int_equal (json_integer_value (json_object_get (changelog, "produce_lost")), 0);
    assert_int_equal (json_integer_value (json_object_get (changelog, "bad")), 0);
    assert_int_equal (json_array_size (json_object_get (cluster, "partition")), 4);
    json_decref (cluster);
    assert_int_equal (s_cluster (&s_a, NULL, out, sizeof out), 0);
    assert_non_null (strstr (out, "cluster jobd@"));
    assert_non_null (strstr (out, "instance node-a, 4 partitions"));
    assert_non_null (strstr (out, "PARTITION"));
    zhashx_destroy (&b_seen);
    zsock_destroy (&b_sub);
}

//  Submits a demo job named prefix-index to harness with `jobctl submit`.
static void
s_submit_demo (harness_t *harness, const char *prefix, int index)
{
    char out[256], err[1024], spec[300];
    snprintf (spec, sizeof spec, "%s/spec.json", harness->dir);
    FILE *file = fopen (spec, "w");
    assert_non_null (file);
    fprintf (file, "{\"kind\":\"demo\",\"name\":\"%s-%d\",\"demo\":true}", prefix, index);
    fclose (file);
    const char *submit[] = {"-c", harness->config, "submit", spec, NULL};
    assert_int_equal (harness_run_bin ("jobctl", submit, out, sizeof out, err, sizeof err), 0);
}

static void
test_replica_resumes_where_it_stopped (void **state)
{
    static char a_ls[1 << 20], b_ls[1 << 20];
    //  b dies; a goes on with more jobs; b, started again, reads only what it had not applied.
    harness_stop (&s_b, SIGKILL, 5000);
    for (int index = 0; index < S_MORE_JOBS; index++)
        s_submit_demo (&s_a, "more", index);
    int64_t deadline = zclock_mono () + 60000;
    while (harness_cluster_ended (&s_a) != S_DEMO_JOBS + S_MORE_JOBS && zclock_mono () < deadline)
        zclock_sleep (50);
    assert_int_equal (harness_cluster_ended (&s_a), S_DEMO_JOBS + S_MORE_JOBS);
    s_start (&s_b);
    assert_true (s_wait_same (S_DEMO_JOBS + S_MORE_JOBS, 60000, a_ls, b_ls, sizeof a_ls));
    //  Only the new jobs' transitions were published by b this time: the rest it had applied
    //  (and published) before it died.
    assert_int_equal (s_published (&s_b), S_MORE_JOBS * S_STATES);
    assert_int_equal (s_published (&s_a), (S_DEMO_JOBS + S_MORE_JOBS) * S_STATES);
}

static void
test_replies_wait_for_the_changelog (void **state)
{
    static char a_ls[1 << 20], b_ls[1 << 20];
    //  Kafka down: a submission reaches a's LMDB, but a says "stored" only once the changelog
    //  gave it back (docs/cluster.md section 10): jobctl gets no answer in time.
    zsock_t *b_sub = harness_subscribe (&s_b, "job.", 5000);
    assert_non_null (b_sub);
    assert_true (harness_kafka_command (&s_mock, "down all", "ok broker all down"));
    char out[256], err[1024], spec[300];
    snprintf (spec, sizeof spec, "%s/spec.json", s_a.dir);
    FILE *file = fopen (spec, "w");
    assert_non_null (file);
    fprintf (file, "{\"kind\":\"demo\",\"name\":\"while-down\",\"demo\":true}");
    fclose (file);
    const char *submit[] = {"-c", s_a.config, "--timeout", "500", "submit", spec, NULL};
    int code = harness_run_bin ("jobctl", submit, out, sizeof out, err, sizeof err);
    if (code == 0)
        fail_msg ("answered while Kafka was down: %s", out);
    //  Kafka back: the write reaches the changelog, both instances apply it and publish its
    //  transitions, and the demo runs the job to its end.
    assert_true (harness_kafka_command (&s_mock, "up all", "ok broker all up"));
    int64_t ended = S_DEMO_JOBS + S_MORE_JOBS + 1;
    assert_true (s_wait_same (ended, 60000, a_ls, b_ls, sizeof a_ls));
    assert_non_null (strstr (b_ls, "while-down"));
    zhashx_t *b_seen = zhashx_new ();
    assert_int_equal (s_receive (b_sub, b_seen, S_STATES, 20000), S_STATES);
    assert_int_equal (s_doubled (b_seen), 0);
    zhashx_destroy (&b_seen);
    zsock_destroy (&b_sub);
}

//  Kafka refuses the produce of a submission's write (the mock fails the next Produce request
//  with MESSAGE_TOO_LARGE): the write is committed on the instance and not confirmed, so its
//  reply is ETIMEOUT ("may yet be stored"), not "stored" nor "not stored"; the instance, still
//  its owner, sends it again, and the replica gets the job whole: every transition published
//  once, none missing. Before, the write waited for the next regain and the job's next record
//  counted a transition the replica never got.
static void
test_refused_write_goes_again (void **state)
{
    static char a_ls[1 << 20], b_ls[1 << 20];
    int64_t ended = harness_cluster_ended (&s_a);
    zsock_t *b_sub = harness_subscribe (&s_b, "job.", 5000);
    assert_non_null (b_sub);
    char out[256], err[1024], spec[300];
    snprintf (spec, sizeof spec, "%s/spec.json", s_a.dir);
    int tries = 0;
    bool refused = false;
    //  The failed request may be another client's (a cursor record): tried up to 5 times.
    while (!refused && tries < 5) {
        FILE *file = fopen (spec, "w");
        assert_non_null (file);
        fprintf (file, "{\"kind\":\"demo\",\"name\":\"refused-%d\",\"demo\":true}", tries++);
        fclose (file);
        assert_true (harness_kafka_command (&s_mock, "error 0 10 1", "ok"));
        const char *submit[] = {"-c", s_a.config, "--timeout", "10000", "submit", spec, NULL};
        int code = harness_run_bin ("jobctl", submit, out, sizeof out, err, sizeof err);
        refused = code != 0 && strstr (err, "may yet be stored");
        if (code != 0 && !refused)
            fail_msg ("a submission answered neither stored nor not confirmed: %s", err);
    }
    assert_true (refused);
    assert_non_null (strstr (err, "(job ")); //  the id to look it up by
    printf ("cluster-replica: refused after %d submissions: %s", tries, err);
    assert_true (s_wait_same (ended + tries, 60000, a_ls, b_ls, sizeof a_ls));
    zhashx_t *b_seen = zhashx_new ();
    assert_int_equal (s_receive (b_sub, b_seen, tries * S_STATES, 20000), tries * S_STATES);
    assert_int_equal (s_doubled (b_seen), 0);
    zhashx_destroy (&b_seen);
    zsock_destroy (&b_sub);
    static char cluster[1 << 16];
    assert_int_equal (s_cluster (&s_b, "--json", cluster, sizeof cluster), 0);
    json_t *root = json_loads (cluster, 0, NULL);
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (root, "changelog"), "missing")), 0);
    json_decref (root);
    assert_true (harness_log_contains (&s_a, "go to the changelog again"));
    //  The resend sent the refused writes (the job's cl_pending entry covered them): none of
    //  their keys was marked for the repair too, which would send them twice. (After more than
    //  one try, a refusal may have hit an earlier job, whose later write can land first.)
    if (tries == 1)
        assert_false (harness_log_contains (&s_a, "whose messages Kafka refused are marked"));
}

//  The writer killed again and again while it works: whatever it committed and had not handed to
//  Kafka goes there at its next start (jobd_store_cl_resend). The replica ends with every job as
//  the writer has it, and publishes each transition once.
//  The transitions jobs hold in all: the sum of their last_seq, from an `ls` in jsonl.
static int64_t
s_seq_sum (const char *ls)
{
    int64_t sum = 0;
    for (const char *line = ls; line && *line;
         line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL) {
        json_t *job = json_loadb (line, strcspn (line, "\n"), 0, NULL);
        sum += json_integer_value (json_object_get (job, "last_seq"));
        json_decref (job);
    }
    return sum;
}

//  How many jobs an `ls` in jsonl lists; *ended_p gets how many of them are in a final state.
static int64_t
s_jobs_ended (const char *ls, int64_t *ended_p)
{
    int64_t jobs = 0;
    *ended_p = 0;
    for (const char *line = ls; line && *line;
         line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL) {
        json_t *job = json_loadb (line, strcspn (line, "\n"), 0, NULL);
        const char *name = json_string_value (json_object_get (job, "state"));
        jobd_state_t state = JOBD_STATE_NONE;
        jobs++;
        if (name && jobd_state_parse (name, strlen (name), &state) == 0 &&
            (jobd_state_is_final (state) || state == JOBD_STATE_LOST))
            ++*ended_p;
        json_decref (job);
    }
    return jobs;
}

//  Waits until harness lists at least jobs jobs (30 s at most); ls is scratch.
static void
s_wait_jobs (harness_t *harness, int64_t jobs, char *ls, size_t size)
{
    int64_t ended = 0, deadline = zclock_mono () + 30000, listed = 0;
    while ((listed = (s_ls (harness, ls, size), s_jobs_ended (ls, &ended))) < jobs &&
           zclock_mono () < deadline)
        zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    assert_true (listed >= jobs);
}

static void
test_writer_killed_loses_nothing (void **state)
{
    static char a_ls[1 << 20], b_ls[1 << 20];
    s_ls (&s_b, b_ls, sizeof b_ls);
    int64_t published_before = s_published (&s_b), seq_before = s_seq_sum (b_ls), ended = 0;
    int64_t jobs_before = s_jobs_ended (b_ls, &ended);
    assert_true (published_before >= 0);
    zsock_t *b_sub = harness_subscribe (&s_b, "job.", 5000);
    assert_non_null (b_sub);
    //  Each start of a submits S_DEMO_JOBS more, each a state per 100 ms: a is killed once some
    //  of them ended, twice. Its partitions move to b meanwhile, and back.
    harness_stop (&s_a, SIGKILL, 5000);
    s_config_step (&s_a, "node-a", S_DEMO_JOBS, "100ms");
    for (int kill = 0; kill < 2; kill++) {
        s_start (&s_a);
        //  Its demo submits once a owns a partition again: killed before, it would submit none.
        s_wait_jobs (&s_a, jobs_before + (kill + 1) * S_DEMO_JOBS, a_ls, sizeof a_ls);
        int64_t started = harness_cluster_ended (&s_a), deadline = zclock_mono () + 30000;
        while (harness_cluster_ended (&s_a) < started + 5 && zclock_mono () < deadline)
            zclock_sleep (5); //  polling interval: jobd has no "tell me when" query
        harness_stop (&s_a, SIGKILL, 5000);
    }
    s_start (&s_a);
    //  Settled: the jobs of a's three starts all ended, b lists what a lists, and published
    //  every transition its jobs hold. (Not before a's last start submitted its jobs: until
    //  then the two can agree on what came before.)
    int64_t deadline = zclock_mono () + 60000, transitions = -1, jobs = 0;
    bool same = false;
    while (!same && zclock_mono () < deadline) {
        s_ls (&s_a, a_ls, sizeof a_ls);
        s_ls (&s_b, b_ls, sizeof b_ls);
        transitions = s_seq_sum (b_ls) - seq_before;
        jobs = s_jobs_ended (b_ls, &ended);
        same = jobs == jobs_before + 3 * S_DEMO_JOBS && ended == jobs && strcmp (a_ls, b_ls) == 0 &&
               s_published (&s_b) - published_before == transitions;
        if (!same)
            zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    }
    assert_int_equal (jobs, jobs_before + 3 * S_DEMO_JOBS);
    assert_int_equal (ended, jobs);
    assert_string_equal (a_ls, b_ls);
    assert_int_equal (s_published (&s_b) - published_before, transitions);
    assert_true (transitions >= 2 * S_DEMO_JOBS);
    zhashx_t *b_seen = zhashx_new ();
    assert_int_equal (s_receive (b_sub, b_seen, (int)transitions, 20000), transitions);
    assert_int_equal (s_doubled (b_seen), 0);
    zhashx_destroy (&b_seen);
    zsock_destroy (&b_sub);
}

//  A job's state in harness's store (`jobctl -o json show`), into state ("" when it did not say).
static void
s_state_of (harness_t *harness, const char *id, char *state, size_t size)
{
    static char out[1 << 16];
    char err[1024];
    const char *args[] = {"-c", harness->config, "-o", "json", "show", id, NULL};
    state[0] = 0;
    if (harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) != 0)
        return;
    json_t *root = json_loads (out, 0, NULL);
    json_t *job = json_object_get (root, "job");
    const char *text = json_string_value (json_object_get (job ? job : root, "state"));
    snprintf (state, size, "%s", text ? text : "");
    json_decref (root);
}

//  jobctl with args (after -c config of harness): its exit code; its output into out.
static int
s_jobctl (harness_t *harness, const char *const *args, char *out, size_t size)
{
    const char *argv[16] = {"-c", harness->config};
    size_t count = 2;
    for (; args[count - 2] && count < 15; count++)
        argv[count] = args[count - 2];
    argv[count] = NULL;
    char err[1024];
    int code = harness_run_bin ("jobctl", argv, out, size, err, sizeof err);
    if (code)
        fprintf (stderr, "jobctl %s: %s", args[0], err);
    out[strcspn (out, "\n")] = 0;
    return code;
}

//  Commands for a job of a partition another instance owns reach it through the jobs topic, and
//  its reply comes back: each track and observe below is answered ok on either instance, and
//  both instances end with every job in the state observed.
static void
test_commands_reach_their_owner (void **state)
{
    harness_t *const nodes[2] = {&s_a, &s_b};
    assert_true (harness_cluster_wait_shared (nodes, 2, 4, 60000) >= 0);
    char ids[8][JOBD_ID_MAX + 1], ext[32];
    for (int job = 0; job < 8; job++) {
        snprintf (ext, sizeof ext, "far-%d", job);
        const char *track[] = {"track", ext, "--kind", "external", "--backend", "far", NULL};
        assert_int_equal (s_jobctl (&s_a, track, ids[job], sizeof ids[job]), 0);
    }
    for (int job = 0; job < 8; job++) {
        char out[256];
        const char *observe[] = {"observe", ids[job], "RUNNING", NULL};
        assert_int_equal (s_jobctl (&s_b, observe, out, sizeof out), 0);
    }
    for (int job = 0; job < 8; job++)
        for (int node = 0; node < 2; node++) {
            char seen[32] = "";
            int64_t deadline = zclock_mono () + 10000;
            while (strcmp (seen, "RUNNING") != 0 && zclock_mono () < deadline) {
                s_state_of (nodes[node], ids[job], seen, sizeof seen);
                if (strcmp (seen, "RUNNING") != 0)
                    zclock_sleep (20); //  polling interval: the replica applies on its own
            }
            assert_string_equal (seen, "RUNNING");
        }
    //  b's `jobctl cluster` counts what it forwarded (the observations of jobs of a's partitions)
    //  and the replies it relayed.
    int b_mask = harness_cluster_owned (&s_b), elsewhere = 0;
    for (int job = 0; job < 8; job++)
        elsewhere += !(b_mask & (1 << jobd_route_partition (ids[job], 4)));
    assert_true (elsewhere > 0); //  the 8 ids fall in partitions 0, 2 and 3: b owns two of four
    char out[16384];
    assert_int_equal (s_cluster (&s_b, "--json", out, sizeof out), 0);
    json_t *root = json_loads (out, 0, NULL);
    json_t *forward = json_object_get (root, "forward");
    assert_int_equal (json_integer_value (json_object_get (forward, "forwarded")), elsewhere);
    assert_int_equal (json_integer_value (json_object_get (forward, "relayed")), elsewhere);
    assert_int_equal (json_integer_value (json_object_get (forward, "timed_out")), 0);
    json_decref (root);
    assert_int_equal (s_cluster (&s_b, NULL, out, sizeof out), 0);
    assert_non_null (strstr (out, " replies relayed, "));
}

//  A command for a job whose owner does not answer (b stopped, its lease run out, still in the
//  group) is answered ETIMEOUT after reply_timeout, and stays in the jobs topic: once b runs
//  again and renews its lease, it applies it.
static void
test_forwarded_commands_wait_for_an_owner (void **state)
{
    harness_t *const nodes[2] = {&s_a, &s_b};
    assert_true (harness_cluster_wait_shared (nodes, 2, 4, 60000) >= 0);
    //  A backend id whose job falls in one of b's partitions.
    int b_mask = harness_cluster_owned (&s_b);
    char ext[32], id[JOBD_ID_MAX + 1];
    for (int candidate = 0;; candidate++) {
        snprintf (ext, sizeof ext, "late-%d", candidate);
        assert_int_equal (jobd_route_derived_id ("far", ext, id, sizeof id), 0);
        if (b_mask & (1 << jobd_route_partition (id, 4)))
            break;
    }
    assert_int_equal (kill (s_b.pid, SIGSTOP), 0);
    char out[256], err[1024];
    const char *track[] = {"-c",       s_a.config,  "track", ext, "--kind",
                           "external", "--backend", "far",   NULL};
    int code = harness_run_bin ("jobctl", track, out, sizeof out, err, sizeof err);
    assert_int_equal (kill (s_b.pid, SIGCONT), 0);
    if (code == 0 || !strstr (err, "not answered within"))
        fail_msg ("jobctl track: exit %d, %s", code, err);
    //  The answer names the job, to look up before sending it again.
    if (!strstr (err, id))
        fail_msg ("jobctl track: the timeout names no job (%s): %s", id, err);
    for (int node = 0; node < 2; node++) {
        char seen[32] = "";
        int64_t deadline = zclock_mono () + 20000;
        while (strcmp (seen, "SUBMITTED") != 0 && zclock_mono () < deadline) {
            s_state_of (nodes[node], id, seen, sizeof seen);
            if (strcmp (seen, "SUBMITTED") != 0)
                zclock_sleep (20); //  polling interval: the replica applies on its own
        }
        assert_string_equal (seen, "SUBMITTED");
    }
}

//  Waits until harness lists count SUCCEEDED jobs of kind kafka (`jobctl -o name ls`).
static bool
s_wait_kafka (harness_t *harness, const char *state, int count, int timeout_ms)
{
    static char out[1 << 16];
    char err[1024];
    const char *args[] = {"-c",     harness->config, "-o",      "name", "ls",
                          "--kind", "kafka",         "--state", state,  NULL};
    int64_t deadline = zclock_mono () + timeout_ms;
    int lines = -1;
    while (lines != count && zclock_mono () < deadline) {
        lines = -1;
        if (harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) == 0) {
            lines = 0;
            for (const char *line = out; (line = strchr (line, '\n')); line++)
                lines++;
        }
        if (lines != count)
            zclock_sleep (20); //  polling interval: jobd has no "tell me when" query
    }
    return lines == count;
}

//  A status producer on the mock.
static rd_kafka_t *
s_producer (void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char error[256];
    rd_kafka_conf_set (conf, "bootstrap.servers", s_brokers, error, sizeof error);
    rd_kafka_t *producer = rd_kafka_new (RD_KAFKA_PRODUCER, conf, error, sizeof error);
    assert_non_null (producer);
    return producer;
}

//  A status event of job ext in state (the producer's word) to jobd.status, keyed by ext.
static void
s_produce_status (rd_kafka_t *producer, const char *ext, const char *state)
{
    char value[128];
    snprintf (value, sizeof value, "{\"ext\":\"%s\",\"state\":\"%s\"}", ext, state);
    assert_int_equal (rd_kafka_producev (producer, RD_KAFKA_V_TOPIC ("jobd.status"),
                                         RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_KEY (ext, strlen (ext)),
                                         RD_KAFKA_V_VALUE (value, strlen (value)), RD_KAFKA_V_END),
                      0);
}

//  The config of an instance that runs a kafka-listener on jobd.status in group, with more of
//  its keys (indented lines, "" for none).
static void
s_listener_config (harness_t *harness, const char *instance, const char *group, const char *more)
{
    char text[2048];
    snprintf (text, sizeof text,
              "plugins\n"
              "    kafka-listener\n"
              "        path = %s/plugins/kafka-listener.so\n"
              "        brokers = %s\n"
              "        group = %s\n"
              "        topics = jobd.status\n"
              "%s"
              "cluster\n"
              "    instance = %s\n"
              "    brokers = %s\n"
              "    partitions = 4\n"
              "    session_timeout = 4s\n",
              harness_build_dir (), s_brokers, group, more, instance, s_brokers);
    harness_write_config (harness, text);
}

//  Kafka status events applied by a's kafka-listener (in batches) for jobs of b's partitions go
//  to b through the jobs topic: every job reaches its final state on both instances, and none of
//  the listener's messages is refused or held to be read again.
static void
test_status_events_reach_their_owner (void **state)
{
    harness_stop (&s_a, SIGTERM, 10000);
    s_listener_config (&s_a, "node-a", "jobd-status", "");
    s_start (&s_a);
    harness_t *const nodes[2] = {&s_a, &s_b};
    assert_true (harness_cluster_wait_shared (nodes, 2, 4, 60000) >= 0);
    char key[32];
    rd_kafka_t *producer = s_producer ();
    const char *states[] = {"STARTED", "COMPLETED"};
    for (int state_index = 0; state_index < 2; state_index++)
        for (int job = 0; job < 8; job++) {
            snprintf (key, sizeof key, "stream-%d", job);
            s_produce_status (producer, key, states[state_index]);
        }
    assert_int_equal (rd_kafka_flush (producer, 10000), 0);
    rd_kafka_destroy (producer);
    assert_true (s_wait_kafka (&s_b, "SUCCEEDED", 8, 30000));
    assert_true (s_wait_kafka (&s_a, "SUCCEEDED", 8, 10000));
    assert_false (harness_log_contains (&s_a, "could not store jobd.status"));
}

//  Asks `jobctl plugins --json` of harness until its output holds text, up to timeout_ms (a
//  report: no event to wait on). True when it did.
static bool
s_plugins_say (harness_t *harness, const char *text, int timeout_ms)
{
    static char out[1 << 16];
    char err[1024];
    const char *args[] = {"-c", harness->config, "plugins", "--json", NULL};
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        if (harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) == 0 &&
            strstr (out, text))
            return true;
        zclock_sleep (50); //  polling interval: a plugin's report comes every status_interval
    }
    return false;
}

//  Heartbeats in a cluster: both instances run a kafka-listener (one consumer group on the status
//  topic), and jobs of kind kafka promise an event every 600 ms. A job that keeps its promise
//  stays RUNNING whichever instance reads its events and whichever owns it; a silent one is
//  stale, then LOST, once. The promise and the check are in the owner's store, not in the memory
//  of the listener that happened to read the job's events.
static void
test_heartbeats_are_kept_by_the_owner (void **state)
{
    harness_stop (&s_a, SIGTERM, 10000);
    harness_stop (&s_b, SIGTERM, 10000);
    harness_t *const nodes[2] = {&s_a, &s_b};
    const char *instances[2] = {"node-a", "node-b"};
    for (int node = 0; node < 2; node++) {
        s_listener_config (nodes[node], instances[node], "jobd-beats",
                           "        heartbeat = 1s\n"
                           "        stale_grace = 1s\n"
                           "        status_interval = 200ms\n"
                           "        kafka\n"
                           "            session.timeout.ms = 3000\n"
                           "            heartbeat.interval.ms = 300\n");
        s_start (nodes[node]);
    }
    assert_true (harness_cluster_wait_shared (nodes, 2, 4, 60000) >= 0);
    //  Both listeners read a status partition (their group split the topic), so that no pause
    //  of the group's rebalance falls within the test.
    for (int node = 0; node < 2; node++)
        assert_true (s_plugins_say (nodes[node], "\"kafka_consumer_lag\",", 30000));
    int64_t published[2] = {s_published (&s_a), s_published (&s_b)};
    int64_t lost = harness_count (&s_b, JOBD_STATE_LOST);
    rd_kafka_t *producer = s_producer ();
    s_produce_status (producer, "quiet", "STARTED");
    //  The chatty job speaks every 100 ms for 3 s: half as long again as its promise and grace.
    int64_t until = zclock_mono () + 3000;
    while (zclock_mono () < until) {
        s_produce_status (producer, "chatty", "STARTED");
        rd_kafka_poll (producer, 100); //  the producer's pace: a status every 100 ms
    }
    s_produce_status (producer, "chatty", "COMPLETED");
    assert_int_equal (rd_kafka_flush (producer, 10000), 0);
    rd_kafka_destroy (producer);
    if (!harness_wait_count (&s_b, JOBD_STATE_LOST, lost + 1, 20000)) {
        static char out[1 << 16];
        s_ls (&s_b, out, sizeof out);
        fail_msg ("LOST %lld, before %lld: %s", (long long)harness_count (&s_b, JOBD_STATE_LOST),
                  (long long)lost, out);
    }
    assert_true (harness_wait_count (&s_a, JOBD_STATE_LOST, lost + 1, 20000));
    //  Each instance published quiet's RUNNING and LOST and chatty's RUNNING and SUCCEEDED, no
    //  more: chatty was never LOST, and nothing was doubled.
    int64_t deadline = zclock_mono () + 20000;
    while ((s_published (&s_a) - published[0] < 4 || s_published (&s_b) - published[1] < 4) &&
           zclock_mono () < deadline)
        zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    assert_int_equal (s_published (&s_a) - published[0], 4);
    assert_int_equal (s_published (&s_b) - published[1], 4);
    assert_int_equal (harness_count (&s_b, JOBD_STATE_LOST), lost + 1);
}

#define S_OUT_JOBS 8 //  demo jobs of a's whose transitions wait for the outbound topic

//  An instance with the demo plugin (demo_jobs at start) and a kafka-listener whose outbound
//  topic is jobd.out on brokers (the listener's own: "127.0.0.1:1" is nobody).
static void
s_outbound_config (harness_t *harness, const char *instance, const char *brokers, int demo_jobs)
{
    char text[2048];
    snprintf (text, sizeof text,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        jobs = %d\n"
              "        step = 20ms\n"
              "    kafka-listener\n"
              "        path = %s/plugins/kafka-listener.so\n"
              "        brokers = %s\n"
              "        group = jobd-out-%s\n"
              "        topics = jobd.status\n"
              "        transitions = jobd.out\n"
              "cluster\n"
              "    instance = %s\n"
              "    brokers = %s\n"
              "    partitions = 4\n"
              "    session_timeout = 4s\n",
              harness_build_dir (), demo_jobs, harness_build_dir (), brokers, instance, instance,
              s_brokers);
    harness_write_config (harness, text);
}

//  The different (job, seq) pairs on jobd.out, read from its start until count arrived or
//  timeout_ms passed.
static size_t
s_outbound_read (size_t count, int timeout_ms)
{
    rd_kafka_t *consumer = harness_kafka_client (s_brokers, RD_KAFKA_CONSUMER, "out-reader");
    assert_non_null (consumer);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (2);
    for (int partition = 0; partition < 2; partition++)
        rd_kafka_topic_partition_list_add (list, "jobd.out", partition)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal (rd_kafka_assign (consumer, list), 0);
    rd_kafka_topic_partition_list_destroy (list);
    zhashx_t *seen = zhashx_new ();
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zhashx_size (seen) < count && zclock_mono () < deadline) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll (consumer, 100);
        if (message && !message->err) {
            json_t *json = json_loadb (message->payload, message->len, 0, NULL);
            char key[128];
            snprintf (key, sizeof key, "%s/%lld", json_string_value (json_object_get (json, "job")),
                      (long long)json_integer_value (json_object_get (json, "seq")));
            zhashx_update (seen, key, (void *)1);
            json_decref (json);
        }
        if (message)
            rd_kafka_message_destroy (message);
    }
    size_t got = zhashx_size (seen);
    zhashx_destroy (&seen);
    rd_kafka_destroy_flags (consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return got;
}

//  The outbound topic across a crash (docs/cluster.md section 7): a's listener cannot reach its
//  Kafka, so the transitions of the jobs a owns wait under its cursors of its partitions, which
//  the changelog carries; a is killed, b owns every partition and sends them from those
//  cursors. Before, b sent only what was committed under its own claims: they were lost.
static void
test_outbound_outlives_its_owner (void **state)
{
    harness_stop (&s_a, SIGTERM, 10000);
    harness_stop (&s_b, SIGTERM, 10000);
    s_outbound_config (&s_b, "node-b", s_brokers, 0);
    s_start (&s_b);
    int64_t ended = harness_cluster_ended (&s_b);
    s_outbound_config (&s_a, "node-a", "127.0.0.1:1", 0);
    s_start (&s_a);
    //  Once a's listener reads its partitions (a channel's first start sends from then on),
    //  jobs submitted to a (in a's partitions) all end; nothing of theirs reaches jobd.out.
    int64_t deadline = zclock_mono () + 30000;
    while (!harness_log_contains (&s_a, "transitions of partition") && zclock_mono () < deadline)
        zclock_sleep (50); //  polling interval: the log is the only word of it
    assert_true (harness_log_contains (&s_a, "transitions of partition"));
    for (int job = 0; job < S_OUT_JOBS; job++)
        s_submit_demo (&s_a, "out", job);
    assert_true (harness_cluster_wait_ended (&s_b, ended + S_OUT_JOBS, 30000));
    harness_stop (&s_a, SIGKILL, 5000);
    deadline = zclock_mono () + 30000;
    while (harness_cluster_owned (&s_b) != 0xf && zclock_mono () < deadline)
        zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    assert_int_equal (harness_cluster_owned (&s_b), 0xf);
    assert_int_equal (s_outbound_read (S_OUT_JOBS * S_STATES, 30000), S_OUT_JOBS * S_STATES);
    //  `jobctl cursors` lists the outbound reader's cursor of each partition it sent from.
    static char out[1 << 16];
    char err[1024];
    const char *args[] = {"-c", s_b.config, "-o", "json", "cursors", NULL};
    json_t *cursors = NULL;
    size_t partitions = 0;
    deadline = zclock_mono () + 10000;
    while (partitions == 0 && zclock_mono () < deadline) {
        json_decref (cursors);
        cursors = harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) == 0
                      ? json_loads (out, 0, NULL)
                      : NULL;
        size_t index;
        json_t *cursor;
        json_array_foreach (cursors, index, cursor) partitions +=
            json_is_integer (json_object_get (cursor, "partition")) &&
            json_integer_value (json_object_get (cursor, "position")) > 0;
        if (partitions == 0)
            zclock_sleep (100); //  polling interval: cursor records go at most every second
    }
    if (partitions == 0)
        fail_msg ("jobctl cursors lists no partition cursor: %s", out);
    json_decref (cursors);
}

//  jobd -c config of harness: its exit code, its stderr in err.
static int
s_jobd_exit (harness_t *harness, char *err, size_t size)
{
    static char out[4096];
    const char *args[] = {"-c", harness->config, NULL};
    return harness_run_bin ("jobd", args, out, sizeof out, err, size);
}

static void
test_stores_of_another_kind_are_refused (void **state)
{
    char err[16384], plugins_a[512];
    //  A cluster instance's store, started alone: it would fork the cluster's jobs.
    harness_stop (&s_a, SIGTERM, 10000);
    snprintf (plugins_a, sizeof plugins_a,
              "plugins\n    demo\n        path = %s/plugins/demo.so\n        enabled = false\n",
              harness_build_dir ());
    harness_write_config (&s_a, plugins_a);
    err[0] = 0;
    assert_int_equal (s_jobd_exit (&s_a, err, sizeof err), 4);
    assert_non_null (strstr (err, "belongs to cluster jobd@"));
    //  A single jobd's store with jobs, started as a cluster instance: its ids and timers are not
    //  a cluster's.
    char plugins[512];
    snprintf (plugins, sizeof plugins, "plugins\n    demo\n        path = %s/plugins/demo.so\n",
              harness_build_dir ());
    harness_write_config (&s_c, plugins);
    assert_true (harness_start (&s_c) > 0);
    assert_true (harness_wait_ready (&s_c, 20000));
    char spec[300], out[256];
    snprintf (spec, sizeof spec, "%s/spec.json", s_c.dir);
    FILE *file = fopen (spec, "w");
    assert_non_null (file);
    fprintf (file, "{\"kind\":\"demo\",\"name\":\"alone\",\"demo\":true}");
    fclose (file);
    const char *submit[] = {"-c", s_c.config, "submit", spec, NULL};
    assert_int_equal (harness_run_bin ("jobctl", submit, out, sizeof out, err, sizeof err), 0);
    assert_int_equal (s_cluster (&s_c, NULL, err, sizeof err), 0);
    assert_non_null (strstr (err, "jobd runs alone"));
    assert_int_equal (harness_stop (&s_c, SIGTERM, 10000), 0);
    s_config (&s_c, "node-c", -1);
    err[0] = 0;
    int code = s_jobd_exit (&s_c, err, sizeof err);
    if (code != 4 || !strstr (err, "holds 1 job of a single jobd"))
        fail_msg ("exit %d, stderr: %s", code, err);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_replica_follows_the_writer),
                                       cmocka_unit_test (test_replica_resumes_where_it_stopped),
                                       cmocka_unit_test (test_replies_wait_for_the_changelog),
                                       cmocka_unit_test (test_refused_write_goes_again),
                                       cmocka_unit_test (test_writer_killed_loses_nothing),
                                       cmocka_unit_test (test_commands_reach_their_owner),
                                       cmocka_unit_test (test_forwarded_commands_wait_for_an_owner),
                                       cmocka_unit_test (test_status_events_reach_their_owner),
                                       cmocka_unit_test (test_heartbeats_are_kept_by_the_owner),
                                       cmocka_unit_test (test_outbound_outlives_its_owner),
                                       cmocka_unit_test (test_stores_of_another_kind_are_refused)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
