//  Benchmark (not a test): the retry plugin under a storm. The test plugin "failer" plays a
//  backend whose jobs fail once and then succeed; the real retry plugin decides, the broker fires
//  its timers, and a subscriber measures:
//  1. decisions per second: JOBS jobs fail at once (one burst, as in one list cycle); from the
//     first FAILED transition to the last RETRY_WAIT one;
//  2. timer lateness: each retry's QUEUED transition as a subscriber receives it, past the due
//     time its RETRY_WAIT transition carried (p50, p99, max), with JOBS timers pending (full
//     jitter over BACKOFF, no rate limit);
//  3. the rate limit: RATE_JOBS jobs failing at once with `rate` R per backend: the peak of
//     resubmissions (attempt-2 QUEUED transitions) in any one second, next to R;
//  4. A/B in one run: the broker's transitions per second for a failing workload (no retry
//     due during the run) with the retry plugin loaded and without it, interleaved, medians.
//  Usage: bench_retry [JOBS [BACKOFF_S [RATE [RUNS]]]]  (default 100000, 20, 100, 3; RUNS 0:
//  no A/B)
#include "bench_util.h"
#include "harness.h"
#include <signal.h>
#include <string.h>

typedef struct {
    double first_failed; //  seconds (monotonic) at the first FAILED received
    double last_plan;    //  ... at the last RETRY_WAIT received
    double last_fail;    //  ... at the last FAILED received
    size_t failed, waiting, requeued, succeeded;
    double *lateness; //  ms, per requeued job
    size_t lateness_count;
    int64_t *requeue_at; //  wall ms of each requeue (attempt-2 QUEUED) received
    size_t transitions;
} s_run_t;

static void
s_config (harness_t *harness, int jobs, bool retry, const char *retry_keys)
{
    char extra[2048];
    int length = snprintf (extra, sizeof extra,
                           "    log_level = warn\n"
                           "    deadline_queued = 0\n"
                           "    deadline_submitted = 0\n"
                           "plugins\n"
                           "    failer\n"
                           "        jobs = %d\n",
                           jobs);
    if (retry)
        snprintf (extra + length, sizeof extra - (size_t)length,
                  "    retry\n"
                  "        path = %s/plugins/retry.so\n"
                  "%s",
                  harness_build_dir (), retry_keys);
    harness_write_config (harness, extra);
}

static void
s_go (harness_t *harness)
{
    zsock_t *dealer = zsock_new_dealer (harness->admin);
    jobd_event_t *go = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&go->source, "bench");
    jobd_event_set (&go->kind, "failer.go");
    jobd_event_set (&go->spec, "{}");
    uint8_t *data;
    size_t size;
    if (jobd_event_encode (go, &data, &size, NULL, 0) == 0) {
        zframe_t *frame = zframe_new (data, size);
        zframe_send (&frame, dealer, 0);
        free (data);
    }
    jobd_event_destroy (&go);
    zmsg_t *reply = zmsg_recv (dealer);
    zmsg_destroy (&reply);
    zsock_destroy (&dealer);
}

//  Reads transitions until as many jobs failed, waited and succeeded as wanted (0: not
//  wanted), or nothing comes for idle_ms. The due time of each job's RETRY_WAIT transition is
//  kept by job id for its requeue's lateness.
static void
s_follow (zsock_t *sub, s_run_t *run, size_t jobs, size_t want_failed, size_t want_waiting,
          size_t want_succeeded, int idle_ms)
{
    zhashx_t *due = zhashx_new ();
    zhashx_set_destructor (due, NULL);
    zpoller_t *poller = zpoller_new (sub, NULL);
    run->lateness = (double *)calloc (jobs + 1, sizeof (double));
    run->requeue_at = (int64_t *)calloc (jobs + 1, sizeof (int64_t));
    while ((run->failed < want_failed || run->waiting < want_waiting ||
            run->succeeded < want_succeeded) &&
           zpoller_wait (poller, idle_ms) == sub) {
        zmsg_t *msg = zmsg_recv (sub);
        zframe_t *payload = zmsg_size (msg) == 2 ? zmsg_last (msg) : NULL;
        jobd_event_t *event = NULL;
        double now = bench_seconds ();
        if (payload &&
            jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) ==
                0 &&
            event->kind && strcmp (event->kind, "failer") == 0) {
            run->transitions++;
            if (event->state == JOBD_STATE_FAILED) {
                if (run->failed++ == 0)
                    run->first_failed = now;
                run->last_fail = now;
            } else if (event->state == JOBD_STATE_RETRY_WAIT) {
                run->waiting++;
                run->last_plan = now;
                zhashx_update (due, event->job, (void *)(intptr_t)event->due);
            } else if (event->state == JOBD_STATE_QUEUED && event->attempt >= 2) {
                int64_t when = (int64_t)(intptr_t)zhashx_lookup (due, event->job);
                int64_t at = jobd_now_ms ();
                if (when)
                    run->lateness[run->lateness_count++] = (double)(at - when);
                if (run->requeued < jobs)
                    run->requeue_at[run->requeued++] = at;
            } else if (event->state == JOBD_STATE_SUCCEEDED)
                run->succeeded++;
        }
        jobd_event_destroy (&event);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zhashx_destroy (&due);
}

static harness_t
s_start (int jobs, bool retry, const char *retry_keys)
{
    harness_t harness;
    harness_init (&harness, "bench-retry");
    s_config (&harness, jobs, retry, retry_keys);
    harness_start (&harness);
    if (!harness_wait_ready (&harness, 20000)) {
        fprintf (stderr, "bench: jobd did not start; see %s\n", harness.log);
        exit (1);
    }
    return harness;
}

//  Phases 1 and 2: decisions per second, then the lateness of the JOBS pending timers.
static void
s_storm (int jobs, int backoff)
{
    char keys[512];
    snprintf (keys, sizeof keys,
              "        max_attempts = 2\n"
              "        backoff_initial = %ds\n"
              "        backoff_max = %ds\n"
              "        jitter = full\n"
              "        rate = 0\n",
              backoff, backoff);
    harness_t harness = s_start (jobs, true, keys);
    zsock_t *sub = bench_subscribe (&harness, "job.");
    s_run_t run = {0};
    s_go (&harness);
    s_follow (sub, &run, (size_t)jobs, (size_t)jobs, (size_t)jobs, (size_t)jobs, 60000);
    double decisions = run.waiting / (run.last_plan - run.first_failed);
    printf ("storm: %d jobs failed in %.2f s; %zu retry decisions (RETRY_WAIT) in %.2f s from the "
            "first failure: %.0f decisions/s\n",
            jobs, run.last_fail - run.first_failed, run.waiting, run.last_plan - run.first_failed,
            decisions);
    double p50 = bench_percentile (run.lateness, run.lateness_count, 0.5);
    double p99 = bench_percentile (run.lateness, run.lateness_count, 0.99);
    double max = bench_percentile (run.lateness, run.lateness_count, 1);
    printf ("timers: %zu retries fired (full jitter over %d s, up to %d pending); lateness past "
            "due as a subscriber sees it: p50 %.0f ms, p99 %.0f ms, max %.0f ms (goal: p99 < 250 "
            "ms); %zu succeeded\n",
            run.lateness_count, backoff, jobs, p50, p99, max, run.succeeded);
    free (run.lateness);
    free (run.requeue_at);
    zsock_destroy (&sub);
    harness_stop (&harness, SIGTERM, 60000);
    harness_fini (&harness);
}

static int
s_compare_ms (const void *a, const void *b)
{
    int64_t left = *(const int64_t *)a, right = *(const int64_t *)b;
    return (left > right) - (left < right);
}

//  Phase 3: the per-backend resubmission limit.
static void
s_rate (int jobs, int rate)
{
    char keys[512];
    snprintf (keys, sizeof keys,
              "        max_attempts = 2\n"
              "        backoff_initial = 1s\n"
              "        backoff_max = 1s\n"
              "        jitter = full\n"
              "        rate = %d\n",
              rate);
    harness_t harness = s_start (jobs, true, keys);
    zsock_t *sub = bench_subscribe (&harness, "job.");
    s_run_t run = {0};
    s_go (&harness);
    s_follow (sub, &run, (size_t)jobs, (size_t)jobs, (size_t)jobs, (size_t)jobs, 60000);
    //  The peak in a calendar second (what the limit promises), and in any sliding second.
    qsort (run.requeue_at, run.requeued, sizeof (int64_t), s_compare_ms);
    size_t calendar = 0, sliding = 0, first = 0;
    for (size_t index = 0, start = 0; index < run.requeued; index++) {
        if (run.requeue_at[index] / 1000 != run.requeue_at[start] / 1000)
            start = index;
        calendar = index - start + 1 > calendar ? index - start + 1 : calendar;
        while (run.requeue_at[index] - run.requeue_at[first] >= 1000)
            first++;
        sliding = index - first + 1 > sliding ? index - first + 1 : sliding;
    }
    double spread =
        run.requeued ? (double)(run.requeue_at[run.requeued - 1] - run.requeue_at[0]) / 1000 : 0;
    printf ("rate: %d jobs failing at once, limit %d/s per backend: peak %zu resubmissions in a "
            "calendar second (%.2f of the limit), %zu in any sliding second (%.2f), spread over "
            "%.1f s (ideal %.0f s)\n",
            jobs, rate, calendar, (double)calendar / rate, sliding, (double)sliding / rate, spread,
            (double)jobs / rate);
    free (run.lateness);
    free (run.requeue_at);
    zsock_destroy (&sub);
    harness_stop (&harness, SIGTERM, 60000);
    harness_fini (&harness);
}

//  Phase 4: transitions per second of a failing workload, retry plugin on or off (its retries
//  are an hour away: what is measured is deciding, not rerunning).
static double
s_throughput (int jobs, bool retry)
{
    harness_t harness = s_start (jobs, retry,
                                 "        max_attempts = 3\n"
                                 "        backoff_initial = 1h\n"
                                 "        backoff_max = 1h\n");
    zsock_t *sub = bench_subscribe (&harness, "job.");
    s_run_t run = {0};
    double start = bench_seconds ();
    s_go (&harness);
    //  Each job: QUEUED, RUNNING, FAILED (and RETRY_WAIT with the plugin).
    s_follow (sub, &run, (size_t)jobs, (size_t)jobs, retry ? (size_t)jobs : 0, 0, 30000);
    double end = retry ? run.last_plan : run.last_fail;
    double rate = run.transitions / (end - start);
    free (run.lateness);
    free (run.requeue_at);
    zsock_destroy (&sub);
    harness_stop (&harness, SIGTERM, 60000);
    harness_fini (&harness);
    return rate;
}

static double
s_median (double *values, int count)
{
    return bench_percentile (values, (size_t)count, 0.5);
}

int
main (int argc, char *argv[])
{
    int jobs = argc > 1 ? atoi (argv[1]) : 100000;
    int backoff = argc > 2 ? atoi (argv[2]) : 20;
    int rate = argc > 3 ? atoi (argv[3]) : 100;
    int runs = argc > 4 ? atoi (argv[4]) : 3;
    if (jobs <= 0 || backoff <= 0 || rate <= 0 || runs < 0 || runs > 16) {
        fprintf (stderr, "usage: bench_retry [JOBS [BACKOFF_S [RATE [RUNS]]]]\n");
        return 2;
    }
    printf ("jobd bench: retry storm, %d jobs, backoff %d s full jitter, rate limit %d/s\n", jobs,
            backoff, rate);
    s_storm (jobs, backoff);
    s_rate (rate * 20, rate);
    double on[16], off[16];
    int ab_jobs = jobs / 4 > 1000 ? jobs / 4 : 1000;
    for (int run = 0; run < runs; run++) {
        off[run] = s_throughput (ab_jobs, false);
        on[run] = s_throughput (ab_jobs, true);
        printf ("  A/B run %d: %.0f transitions/s without retry, %.0f with\n", run + 1, off[run],
                on[run]);
    }
    if (runs == 0)
        return 0; //  RUNS 0: no A/B
    double median_off = s_median (off, runs), median_on = s_median (on, runs);
    printf ("broker, %d failing jobs: %.0f transitions/s with the retry plugin, %.0f without "
            "(ratio %.2f; with it, each failure is one more transition: RETRY_WAIT)\n",
            ab_jobs, median_on, median_off, median_on / median_off);
    return 0;
}
