//  Cluster mode with Spark (issue 18; docs/cluster.md section 7, "What acting covers"): three
//  jobd instances share the partitions as a consumer group, and each Spark job is submitted and
//  polled by the one instance that acts on its partition, never by two; each success is notified
//  by that instance alone. One instance is SIGKILLed with jobs running: its partitions are
//  claimed by the others, which poll its jobs to their end, and nothing is created twice; it
//  rejoins and gets a share back. spark-sim tells who asked (User-Agent) under which claim
//  (X-Jobd-Epoch). Against librdkafka's mock cluster (tools/kafka-mock, over loopback).
#include "harness_cluster.h"
#include "harness_spark.h"
#include "jobd_map.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define S_PARTITIONS 6
#define S_INSTANCES  3
#define S_JOBS_MAX   1000 //  JOBD_CLUSTER_JOBS (below): at most this many a instance
//  Spark jobs submitted to each instance by the first test: 12, or a third of
//  JOBD_CLUSTER_JOBS (the scale: JOBD_CLUSTER_JOBS=2000, not a CI run); the waits grow
//  with it (S_WAIT).
static int s_jobs = 12;
#define S_JOBS     s_jobs
#define S_WAIT(ms) ((ms) + s_jobs * 40)

static harness_t s_node[S_INSTANCES];
static harness_proc_t s_mock, s_sim;
static harness_t *const s_nodes[S_INSTANCES] = {&s_node[0], &s_node[1], &s_node[2]};
static char s_brokers[256];
static char s_notes[600]; //  where the instances' notifiers append the keys of their notes
static int s_port;

//  Three instances: the spark-poller, and a notifier whose channel runs command for each
//  success.
static void
s_config_command (harness_t *harness, const char *instance, const char *command)
{
    char plugins[1024];
    snprintf (plugins, sizeof plugins,
              "    notifier\n"
              "        path = %s/plugins/notifier.so\n"
              "        channels\n"
              "            file\n"
              "                type = exec\n"
              "                command = \"%s\"\n"
              "        rules\n"
              "            done\n"
              "                events = succeeded\n"
              "                digest_window = 0\n",
              harness_build_dir (), command);
    harness_cluster_spark_config (harness, instance, s_brokers, S_PARTITIONS, s_port, plugins, "");
}

//  The notifier's channel appends each success's key to s_notes.
static void
s_config (harness_t *harness, const char *instance)
{
    char command[700];
    snprintf (command, sizeof command, "echo $JOBD_NOTIFY_KEY >> %s", s_notes);
    s_config_command (harness, instance, command);
}

static int
s_setup (void **state)
{
    const char *scale = getenv ("JOBD_CLUSTER_JOBS");
    if (scale && atoi (scale) >= S_INSTANCES && atoi (scale) <= S_INSTANCES * S_JOBS_MAX)
        s_jobs = atoi (scale) / S_INSTANCES;
    static const char *names[S_INSTANCES] = {"cluster-spark-a", "cluster-spark-b",
                                             "cluster-spark-c"};
    for (int node = 0; node < S_INSTANCES; node++)
        harness_init (&s_node[node], names[node]);
    const char *const args[] = {
        "--brokers",        "3",       "--topic",        "jobd.jobs:6", "--topic",
        "jobd.changelog:6", "--topic", "jobd.replies:1", NULL};
    assert_int_equal (harness_kafka_mock (&s_mock, &s_node[0], args, s_brokers, sizeof s_brokers),
                      0);
    s_port = harness_spark_sim (&s_sim, &s_node[0], NULL);
    assert_true (s_port > 0);
    //  At the scale, the master keeps every completed driver: with Spark's default of
    //  200 (spark.deploy.retainedDrivers), a job whose end its new owner had not seen yet after
    //  a takeover was gone from the master, and jobd declared it LOST (6 of 2,000 here).
    if (s_jobs > 12) {
        char body[64];
        snprintf (body, sizeof body, "{\"retained_drivers\":%d}", 4 * S_INSTANCES * s_jobs);
        json_decref (harness_spark_call (s_port, "POST", "/sim/config", body));
    }
    snprintf (s_notes, sizeof s_notes, "%s/notes", s_node[0].dir);
    s_config (&s_node[0], "node-a");
    s_config (&s_node[1], "node-b");
    s_config (&s_node[2], "node-c");
    return 0;
}

static int
s_teardown (void **state)
{
    for (int node = 0; node < S_INSTANCES; node++)
        harness_stop (&s_node[node], SIGKILL, 5000);
    kill (s_sim.pid, SIGTERM);
    harness_proc_finish (&s_sim, 10000);
    harness_kafka_mock_stop (&s_mock);
    for (int node = 0; node < S_INSTANCES; node++)
        harness_fini (&s_node[node]);
    return 0;
}

//  Submits a standalone job that runs run_ms to harness; writes its id.
static void
s_submit (harness_t *harness, int run_ms, char *id, size_t size)
{
    char scenario[128];
    snprintf (scenario, sizeof scenario, "queue=50,run=%d,outcome=success", run_ms);
    assert_int_equal (
        harness_spark_submit (harness, "master", "com.example.Etl", scenario, id, size), 0);
}

//  Who polled the jobs (spark-sim's /sim/stats): with once, each job's runs of requests by one
//  agent, in order, must name no agent twice (an agent that polls again after another
//  interleaved with it; a rolling restart may hand a job back). Returns how many jobs changed
//  hands; *moved_ms gets, for those, the ms from killed_at to
//  the new agent's first request (sorted), *stale the requests under a superseded claim.
static int
s_check_agents (bool once, int64_t killed_at, int64_t *moved_ms, int *stale, int *jobs)
{
    json_t *stats = harness_spark_call (s_port, "GET", "/sim/stats", NULL);
    assert_non_null (stats);
    *stale = (int)json_integer_value (json_object_get (stats, "stale_epoch_requests"));
    const char *driver;
    json_t *runs;
    int moved = 0;
    *jobs = 0;
    json_object_foreach (json_object_get (stats, "jobs_by_agent"), driver, runs)
    {
        (*jobs)++;
        for (size_t one = 0; once && one < json_array_size (runs); one++)
            for (size_t two = one + 1; two < json_array_size (runs); two++)
                if (strcmp (json_string_value (json_array_get (json_array_get (runs, one), 0)),
                            json_string_value (json_array_get (json_array_get (runs, two), 0))) ==
                    0)
                    fail_msg ("driver %s: polled by %s, then another, then %s again", driver,
                              json_string_value (json_array_get (json_array_get (runs, one), 0)),
                              json_string_value (json_array_get (json_array_get (runs, two), 0)));
        if (json_array_size (runs) > 1) {
            json_t *second = json_array_get (runs, 1);
            moved_ms[moved++] = json_integer_value (json_array_get (second, 1)) - killed_at;
        }
    }
    json_decref (stats);
    for (int one = 0; one < moved; one++)
        for (int two = one + 1; two < moved; two++)
            if (moved_ms[two] < moved_ms[one]) {
                int64_t swap = moved_ms[one];
                moved_ms[one] = moved_ms[two];
                moved_ms[two] = swap;
            }
    return moved;
}

//  Every job created once at the master (creates per tag), and how many tags.
static void
s_check_creates (int expected)
{
    json_t *stats = harness_spark_call (s_port, "GET", "/sim/stats", NULL);
    assert_non_null (stats);
    const char *tag;
    json_t *count;
    int tags = 0;
    json_object_foreach (json_object_get (stats, "creates"), tag, count)
    {
        if (json_integer_value (count) != 1)
            fail_msg ("%s created %lld times", tag, (long long)json_integer_value (count));
        tags++;
    }
    json_decref (stats);
    assert_int_equal (tags, expected);
}

//  The different keys the notes file holds; *repeats_p gets how many lines were repeats (with
//  once, a repeat fails the test).
static int64_t
s_notes_read (bool once, int64_t *repeats_p)
{
    int64_t lines = 0;
    *repeats_p = 0;
    zlistx_t *keys = zlistx_new ();
    zlistx_set_destructor (keys, (zlistx_destructor_fn *)zstr_free);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *)strcmp);
    FILE *file = fopen (s_notes, "r");
    char line[256];
    while (file && fgets (line, sizeof line, file)) {
        line[strcspn (line, "\n")] = 0;
        if (zlistx_find (keys, line)) {
            if (once)
                fail_msg ("note %s sent twice", line);
            ++*repeats_p;
            continue;
        }
        zlistx_add_end (keys, strdup (line));
        lines++;
    }
    if (file)
        fclose (file);
    zlistx_destroy (&keys);
    return lines;
}

//  Waits until the notes file holds count different keys (within timeout_ms): each job's note
//  was sent. With once, no key may be there twice (each by one instance, the one acting on it);
//  without, a repeat is allowed (notes are sent at least once: an instance restarted sends again
//  what it sent after its cursor last moved). Returns how many lines were repeats.
static int64_t
s_check_notes (int64_t count, int timeout_ms, bool once)
{
    int64_t deadline = zclock_mono () + timeout_ms, lines = 0, repeats = 0;
    while (lines < count && zclock_mono () < deadline) {
        lines = s_notes_read (once, &repeats);
        if (lines < count)
            zclock_sleep (50); //  polling interval: the notes come from other processes
    }
    assert_int_equal (lines, count);
    return repeats;
}

static void
test_each_job_is_acted_on_by_one_instance (void **state)
{
    for (int node = 0; node < S_INSTANCES; node++) {
        assert_true (harness_start (&s_node[node]) > 0);
        assert_true (harness_wait_ready (&s_node[node], 30000));
    }
    int64_t shared = harness_cluster_wait_shared (s_nodes, S_INSTANCES, S_PARTITIONS, 60000);
    assert_true (shared >= 0);
    //  Jobs submitted to each instance (ids drawn in its own partitions) run long enough for c
    //  to die while they run.
    char id[JOBD_ID_MAX + 1];
    for (int node = 0; node < S_INSTANCES; node++)
        for (int job = 0; job < S_JOBS; job++)
            s_submit (&s_node[node], 8000 + s_jobs * 45, id, sizeof id);
    int total = S_INSTANCES * S_JOBS;
    //  Every instance sees every job running (the replicas), each created once.
    for (int node = 0; node < S_INSTANCES; node++)
        assert_true (harness_wait_count (&s_node[node], JOBD_STATE_RUNNING, total, S_WAIT (30000)));
    s_check_creates (total);
    int64_t killed_at = zclock_time ();
    harness_stop (&s_node[2], SIGKILL, 5000);
    int64_t takeover = harness_cluster_wait_shared (s_nodes, S_INSTANCES - 1, S_PARTITIONS, 60000);
    assert_true (takeover >= 0);
    //  c's jobs are polled to their end by a and b; every instance's store agrees.
    assert_true (harness_wait_count (&s_node[0], JOBD_STATE_SUCCEEDED, total, S_WAIT (60000)));
    assert_true (harness_wait_count (&s_node[1], JOBD_STATE_SUCCEEDED, total, S_WAIT (30000)));
    s_check_creates (total);
    //  Every instance's notifier reads every transition; each success is notified once.
    s_check_notes (total, S_WAIT (20000), true);
    static int64_t moved_ms[S_INSTANCES * S_JOBS_MAX];
    int stale = 0, jobs = 0;
    int moved = s_check_agents (true, killed_at, moved_ms, &stale, &jobs);
    assert_int_equal (jobs, total);
    assert_int_equal (stale, 0);
    assert_int_equal (moved, S_JOBS); //  exactly c's jobs changed hands
    printf ("cluster-spark: %d instances shared %d partitions in %lld ms; after c's SIGKILL a and "
            "b owned all in %lld ms, and polled c's %d jobs first after %lld ms (p50), %lld ms "
            "(max)\n",
            S_INSTANCES, S_PARTITIONS, (long long)shared, (long long)takeover, moved,
            (long long)moved_ms[moved / 2], (long long)moved_ms[moved - 1]);
    //  c back: it catches up and gets a share again; a job submitted to it runs once.
    assert_true (harness_start (&s_node[2]) > 0);
    assert_true (harness_wait_ready (&s_node[2], 30000));
    assert_true (harness_cluster_wait_shared (s_nodes, S_INSTANCES, S_PARTITIONS, 60000) >= 0);
    s_submit (&s_node[2], 100, id, sizeof id);
    for (int node = 0; node < S_INSTANCES; node++)
        assert_true (
            harness_wait_count (&s_node[node], JOBD_STATE_SUCCEEDED, total + 1, S_WAIT (30000)));
    s_check_creates (total + 1);
    assert_true (s_check_agents (true, killed_at, moved_ms, &stale, &jobs) >= S_JOBS);
    assert_int_equal (stale, 0);
}

//  How often text is in harness's log.
static int
s_log_count (harness_t *harness, const char *text)
{
    FILE *file = fopen (harness->log, "r");
    char line[4096];
    int count = 0;
    while (file && fgets (line, sizeof line, file))
        count += strstr (line, text) != NULL;
    if (file)
        fclose (file);
    return count;
}

//  Every job's history on harness (`jobctl --json show`): seq 1, 2, ... each transition from the
//  state the one before went to, no move made twice, ending SUCCEEDED: nothing lost, nothing
//  doubled. Returns how many jobs it checked.
static int
s_check_histories (harness_t *harness)
{
    static char ids[1 << 16], out[1 << 16];
    char err[1024];
    const char *ls[] = {"-c", harness->config, "-o", "name", "ls", "--limit", "100000", NULL};
    assert_int_equal (harness_run_bin ("jobctl", ls, ids, sizeof ids, err, sizeof err), 0);
    int jobs = 0;
    char *save = NULL;
    for (char *id = strtok_r (ids, "\n", &save); id; id = strtok_r (NULL, "\n", &save)) {
        const char *show[] = {"-c", harness->config, "--json", "show", id, NULL};
        assert_int_equal (harness_run_bin ("jobctl", show, out, sizeof out, err, sizeof err), 0);
        json_t *root = json_loads (out, 0, NULL);
        json_t *history = json_object_get (root, "history");
        assert_true (json_array_size (history) > 0);
        const char *before = "NONE";
        size_t index;
        json_t *transition;
        json_array_foreach (history, index, transition)
        {
            const char *from = json_string_value (json_object_get (transition, "from"));
            const char *to = json_string_value (json_object_get (transition, "state"));
            if (json_integer_value (json_object_get (transition, "seq")) != (json_int_t)index + 1 ||
                strcmp (from ? from : "NONE", before) != 0 || !to)
                fail_msg ("job %s: transition %zu is not the one after %s:\n%s", id, index + 1,
                          before, out);
            for (size_t earlier = 0; earlier < index; earlier++) {
                json_t *other = json_array_get (history, earlier);
                const char *other_from = json_string_value (json_object_get (other, "from"));
                if (strcmp (json_string_value (json_object_get (other, "state")), to) == 0 &&
                    strcmp (other_from ? other_from : "NONE", before) == 0)
                    fail_msg ("job %s: %s -> %s twice:\n%s", id, before, to, out);
            }
            before = to;
        }
        assert_string_equal (before, "SUCCEEDED");
        json_decref (root);
        jobs++;
    }
    return jobs;
}

//  The spark-poller's requests to a backend so far (its spark_polls_total figure, from `jobctl
//  --json plugins`: an array of plugins); -1 when it did not say.
static int64_t
s_polls (harness_t *harness, const char *backend)
{
    static char out[1 << 16];
    char err[1024];
    const char *args[] = {"-c", harness->config, "--json", "plugins", NULL};
    if (harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) != 0)
        return -1;
    json_t *root = json_loads (out, 0, NULL);
    int64_t polls = -1;
    size_t index, each;
    json_t *plugin, *figure;
    json_array_foreach (root, index, plugin)
        json_array_foreach (json_object_get (plugin, "figures"), each, figure)
    {
        const char *name = json_string_value (json_array_get (figure, 0));
        const char *label =
            json_string_value (json_object_get (json_array_get (figure, 2), "backend"));
        if (name && label && strcmp (name, "spark_polls_total") == 0 &&
            strcmp (label, backend) == 0)
            polls = (int64_t)json_number_value (json_array_get (figure, 1));
    }
    json_decref (root);
    return polls;
}

//  A rolling restart (SIGTERM, start again, wait until the three share the partitions; each
//  instance in turn) while jobs run: every partition is handed over by a release, so no claim
//  waits out a lease; no job is polled by two instances at once or created twice; every
//  history holds each move once; each success is notified (at least once).
static void
test_rolling_restart_hands_over_cleanly (void **state)
{
    //  The jobs of the first test, and the one submitted after c came back.
    int total = S_INSTANCES * S_JOBS + 1;
    int waits[S_INSTANCES];
    const char *wait_text = "after the lease of an owner that did not release";
    for (int node = 0; node < S_INSTANCES; node++)
        waits[node] = s_log_count (&s_node[node], wait_text);
    char id[JOBD_ID_MAX + 1];
    for (int node = 0; node < S_INSTANCES; node++) {
        //  Jobs on every instance, running through this instance's restart.
        for (int other = 0; other < S_INSTANCES; other++)
            for (int job = 0; job < 2; job++)
                s_submit (&s_node[other], 4000, id, sizeof id);
        total += 2 * S_INSTANCES;
        harness_t *others[S_INSTANCES - 1];
        for (int other = 0, count = 0; other < S_INSTANCES; other++)
            if (other != node)
                others[count++] = &s_node[other];
        assert_int_equal (harness_stop (&s_node[node], SIGTERM, 20000), 0);
        assert_true (harness_cluster_wait_shared (others, S_INSTANCES - 1, S_PARTITIONS, 60000) >=
                     0);
        assert_true (harness_start (&s_node[node]) > 0);
        assert_true (harness_wait_ready (&s_node[node], 30000));
        assert_true (harness_cluster_wait_shared (s_nodes, S_INSTANCES, S_PARTITIONS, 60000) >= 0);
    }
    for (int node = 0; node < S_INSTANCES; node++)
        if (!harness_wait_count (&s_node[node], JOBD_STATE_SUCCEEDED, total, S_WAIT (60000)))
            fail_msg ("%s: %lld jobs SUCCEEDED, %d expected (%lld RUNNING, %lld QUEUED, %lld "
                      "SUBMITTED)",
                      s_node[node].dir,
                      (long long)harness_count (&s_node[node], JOBD_STATE_SUCCEEDED), total,
                      (long long)harness_count (&s_node[node], JOBD_STATE_RUNNING),
                      (long long)harness_count (&s_node[node], JOBD_STATE_QUEUED),
                      (long long)harness_count (&s_node[node], JOBD_STATE_SUBMITTED));
    //  Every takeover followed a release: no instance waited out a lease.
    for (int node = 0; node < S_INSTANCES; node++)
        assert_int_equal (s_log_count (&s_node[node], wait_text), waits[node]);
    s_check_creates (total);
    static int64_t moved_ms[S_INSTANCES * S_JOBS_MAX * 4];
    int stale = 0, jobs = 0;
    s_check_agents (false, zclock_time (), moved_ms, &stale, &jobs);
    assert_int_equal (stale, 0);
    assert_int_equal (jobs, total);
    for (int node = 0; node < S_INSTANCES; node++)
        assert_int_equal (s_check_histories (&s_node[node]), total);
    //  Each success notified, none lost in a hand-over (the notifier sends what it read before
    //  it stops); a repeat is allowed.
    int64_t repeats = s_check_notes (total, S_WAIT (20000), false);
    printf ("cluster-spark: rolling restart: %d jobs, each notified, %lld repeated\n", total,
            (long long)repeats);
    //  Livy (listed every 200 ms) holds no job of any instance: none lists it. A Livy job
    //  submitted to a: a, which acts on it, lists Livy; b and c still do not.
    for (int node = 0; node < S_INSTANCES; node++)
        assert_int_equal (s_polls (&s_node[node], "livy"), 0);
    assert_int_equal (harness_spark_submit (&s_node[0], "livy", "com.example.Etl",
                                            "queue=50,run=100,outcome=success", id, sizeof id),
                      0);
    assert_true (harness_wait_count (&s_node[0], JOBD_STATE_SUCCEEDED, total + 1, 30000));
    assert_true (s_polls (&s_node[0], "livy") > 0);
    for (int node = 1; node < S_INSTANCES; node++)
        assert_int_equal (s_polls (&s_node[node], "livy"), 0);
}

//  An owner killed while its channel could not send: the partitions' next owners send what it
//  held, from its cursor of each partition, which the changelog carries (docs/cluster.md,
//  section 7). Before, they sent only what was committed under their own claims: c's notes
//  were lost.
static void
test_notes_outlive_their_owner (void **state)
{
    int64_t repeats = 0, before = s_notes_read (false, &repeats);
    //  c again, with a channel that fails (its command exits 1).
    assert_int_equal (harness_stop (&s_node[2], SIGTERM, 20000), 0);
    s_config_command (&s_node[2], "node-c", "exit 1");
    assert_true (harness_start (&s_node[2]) > 0);
    assert_true (harness_wait_ready (&s_node[2], 30000));
    assert_true (harness_cluster_wait_shared (s_nodes, S_INSTANCES, S_PARTITIONS, 60000) >= 0);
    //  Jobs of c's partitions end on c: their notes wait in its channel.
    int64_t succeeded = harness_count (&s_node[2], JOBD_STATE_SUCCEEDED);
    char id[JOBD_ID_MAX + 1];
    for (int job = 0; job < 4; job++)
        s_submit (&s_node[2], 100, id, sizeof id);
    assert_true (harness_wait_count (&s_node[2], JOBD_STATE_SUCCEEDED, succeeded + 4, 30000));
    assert_int_equal (s_notes_read (false, &repeats), before);
    //  c dies; a and b own its partitions and send its notes.
    harness_stop (&s_node[2], SIGKILL, 5000);
    harness_t *others[] = {&s_node[0], &s_node[1]};
    assert_true (harness_cluster_wait_shared (others, 2, S_PARTITIONS, 60000) >= 0);
    s_check_notes (before + 4, 30000, false);
    //  c back as it was.
    s_config (&s_node[2], "node-c");
    assert_true (harness_start (&s_node[2]) > 0);
    assert_true (harness_wait_ready (&s_node[2], 30000));
    assert_true (harness_cluster_wait_shared (s_nodes, S_INSTANCES, S_PARTITIONS, 60000) >= 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_each_job_is_acted_on_by_one_instance),
                                       cmocka_unit_test (test_rolling_restart_hands_over_cleanly),
                                       cmocka_unit_test (test_notes_outlive_their_owner)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
