//  Benchmark (not a test): the retry plugin's decisions. (1) rt_decide alone on JOBS failed
//  Spark jobs (a third OOM with a memory change, a third transient, a third user errors), next
//  to its ceiling for the OOM third: loading and dumping the same spec with jansson. (2) The
//  built retry.so on the mock host: JOBS FAILED transitions published, every plan read and
//  answered, in windows of WINDOW (the bus's high-water mark is 1,000): decisions per second end
//  to end. Both print how the storm was spread: the busiest second and the last start, at the
//  plugin's default rate (5 a second per backend; 2 backends here).
//  Usage: bench_retry_plugin [JOBS [WINDOW]]   (default 100000, 500); run from the build folder
//  with JOBD_BUILD_DIR=$PWD.
#include "jobd_mock_host.h"
#include "rt_decide.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC                                                                                       \
    "{\"file\":\"hdfs:///jobs/etl.jar\",\"className\":\"com.example.Etl\",\"args\":[\"2026\"],"    \
    "\"executorMemory\":\"4g\",\"driverMemory\":\"2g\",\"numExecutors\":8,\"queue\":\"etl\","      \
    "\"conf\":{\"spark.sql.shuffle.partitions\":\"200\",\"spark.yarn.tags\":\"team-a\"}}"

static const char *s_errors[] = {
    "java.lang.OutOfMemoryError: Java heap space\n\tat org.apache.spark.sql.execution...",
    "org.apache.spark.shuffle.FetchFailedException: Connection refused: host-7/10.0.0.7:7337",
    "org.apache.spark.sql.AnalysisException: Table or view not found: sales.orders_2026"};

static jobd_job_t *
s_job (long index)
{
    jobd_job_t *job = jobd_job_new ();
    char id[32];
    snprintf (id, sizeof id, "job-%ld", index);
    jobd_event_set (&job->id, id);
    jobd_event_set (&job->kind, "spark");
    jobd_event_set (&job->backend, index % 2 ? "livy" : "local");
    jobd_event_set (&job->error, s_errors[index % 3]);
    jobd_event_set (&job->spec, SPEC);
    job->state = JOBD_STATE_FAILED;
    job->attempt = 1;
    job->finished_at = job->updated_at = jobd_now_ms ();
    return job;
}

//  Prints the busiest second and the last start of plans' due times (ms from now).
static void
s_spread (const char *what, int64_t *dues, long count, int64_t now)
{
    int64_t last = 0;
    long seconds = 4 * 86400;
    uint32_t *per_second = (uint32_t *)calloc ((size_t)seconds, sizeof (uint32_t));
    uint32_t busiest = 0;
    for (long index = 0; index < count; index++) {
        int64_t second = dues[index] / 1000 - now / 1000; //  wall seconds, as the slots count
        if (second >= 0 && second < seconds && ++per_second[second] > busiest)
            busiest = per_second[second];
        last = dues[index] - now > last ? dues[index] - now : last;
    }
    printf ("  %s: %ld retries planned; busiest second %u starts (both backends), last start "
            "%.0f s out\n",
            what, count, busiest, last / 1000.0);
    free (per_second);
}

static void
s_decide_alone (long jobs)
{
    rt_rule_t base;
    rt_rule_unset (&base);
    char reason[256];
    const char *keys[][2] = {{"max_attempts", "3"},  {"backoff_initial", "30s"},
                             {"backoff_max", "30m"}, {"multiplier", "2"},
                             {"jitter", "full"},     {"on_lost", "false"},
                             {"rate", "5"}};
    for (size_t index = 0; index < 7; index++)
        rt_rule_set (&base, keys[index][0], keys[index][1], reason, sizeof reason);
    rt_policy_t *policy = NULL;
    rt_policy_new (&base, NULL, &policy, reason, sizeof reason);
    rt_classes_t *classes = rt_classes_new ();
    rt_classes_add_defaults (classes);
    rt_slots_t *slots = rt_slots_new ();
    int64_t now = jobd_now_ms ();
    rt_decide_t context = {.policy = policy,
                           .classes = classes,
                           .slots = slots,
                           .source = "retry",
                           .now = now,
                           .started = now,
                           .catch_up = 3600000,
                           .random = 0x9E3779B97F4A7C15ULL};
    int64_t *dues = (int64_t *)calloc ((size_t)jobs, sizeof (int64_t));
    long planned = 0;
    int64_t start = zclock_usecs ();
    for (long index = 0; index < jobs; index++) {
        jobd_job_t *job = s_job (index);
        context.random = context.random * 6364136223846793005ULL + 1442695040888963407ULL;
        jobd_event_t *plan = rt_decide (&context, job, RT_DECIDE_FAILED);
        if (plan && plan->state == JOBD_STATE_RETRY_WAIT)
            dues[planned++] = plan->due;
        jobd_event_destroy (&plan);
        jobd_job_destroy (&job);
    }
    double seconds = (zclock_usecs () - start) / 1e6;
    //  The ceiling of the OOM third's change: the spec loaded and dumped, nothing else.
    start = zclock_usecs ();
    for (long index = 0; index < jobs / 3; index++) {
        json_t *root = json_loads (SPEC, 0, NULL);
        free (json_dumps (root, JSON_COMPACT | JSON_PRESERVE_ORDER));
        json_decref (root);
    }
    double ceiling = (zclock_usecs () - start) / 1e6;
    printf ("rt_decide alone: %ld decisions in %.3f s: %.0f decisions/s (jansson load+dump of the "
            "OOM third's spec alone: %.3f s)\n",
            jobs, seconds, jobs / seconds, ceiling);
    s_spread ("rt_decide", dues, planned, now);
    free (dues);
    rt_slots_destroy (&slots);
    rt_classes_destroy (&classes);
    rt_policy_destroy (&policy);
}

static void
s_plugin (long jobs, long window)
{
    const jobd_plugin_t *plugin = NULL;
    char reason[256] = "";
    const char *config[] = {"status_interval", "1h", NULL};
    jobd_mock_host_t *host = jobd_mock_host_open ("retry", config, &plugin, reason, sizeof reason);
    if (!host || jobd_mock_host_start (host, plugin, reason, sizeof reason) ||
        !jobd_mock_host_subscribed (host, "job.FAILED.x", 5000) ||
        !jobd_mock_host_log_wait (host, "started: ", 5000)) {
        fprintf (stderr, "bench_retry_plugin: the plugin did not start: %s\n", reason);
        exit (1);
    }
    for (long index = 0; index < jobs; index++) {
        jobd_job_t *job = s_job (index);
        jobd_mock_host_job_put (host, job);
        jobd_job_destroy (&job);
    }
    int64_t *dues = (int64_t *)calloc ((size_t)jobs, sizeof (int64_t));
    long planned = 0, answered = 0;
    int64_t now = jobd_now_ms (), start = zclock_usecs ();
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->source, "spark-poller");
    jobd_event_set (&event->kind, "spark");
    event->from = JOBD_STATE_RUNNING;
    event->state = JOBD_STATE_FAILED;
    event->attempt = 1;
    event->seq = 4;
    for (long sent = 0; sent < jobs;) {
        for (long index = 0; index < window && sent < jobs; index++, sent++) {
            char id[32], topic[64];
            snprintf (id, sizeof id, "job-%ld", sent);
            snprintf (topic, sizeof topic, "job.FAILED.%s", id);
            jobd_event_set (&event->job, id);
            jobd_mock_host_publish (host, topic, event);
        }
        while (answered < sent) {
            jobd_event_t *plan = jobd_mock_host_expect (host, JOBD_EVENT_RETRY_PLAN, 5000);
            if (!plan) {
                fprintf (stderr, "bench_retry_plugin: %ld plans of %ld sent came\n", answered,
                         sent);
                exit (1);
            }
            if (plan->state == JOBD_STATE_RETRY_WAIT)
                dues[planned++] = plan->due;
            jobd_mock_host_reply (host, plan->id, NULL, NULL, plan->job, "changed");
            jobd_event_destroy (&plan);
            answered++;
        }
    }
    double seconds = (zclock_usecs () - start) / 1e6;
    jobd_event_destroy (&event);
    printf ("retry.so on the mock host: %ld failures published, %ld plans read and answered in "
            "%.3f s: %.0f decisions/s\n",
            jobs, answered, seconds, answered / seconds);
    s_spread ("plugin", dues, planned, now);
    free (dues);
    jobd_mock_host_stop (host);
    jobd_mock_host_destroy (&host);
}

int
main (int argc, char **argv)
{
    long jobs = argc > 1 ? atol (argv[1]) : 100000;
    long window = argc > 2 ? atol (argv[2]) : 500;
    if (jobs <= 0 || window <= 0 || window > 900) {
        fprintf (stderr, "usage: bench_retry_plugin [JOBS [WINDOW (1..900)]]\n");
        return 2;
    }
    printf ("bench_retry_plugin: %ld failed Spark jobs (OOM, transient, user in turn), 2 backends, "
            "rate 5\n",
            jobs);
    s_decide_alone (jobs);
    s_plugin (jobs, window);
    printf ("reproduce: JOBD_BUILD_DIR=$PWD bin/bench_retry_plugin %ld %ld\n", jobs, window);
    return 0;
}
