//  Benchmark (not a test): how late retry timers start their job's next attempt. Fills a store with
//  PENDING jobs waiting for a retry an hour away (each a FAILED job with a retry.plan: a RETRY_WAIT
//  transition and a `retry` timer), plus MEASURED jobs whose retries fall due spread evenly over
//  SECONDS, then runs the broker and takes, for each measured job, the time its RETRY_WAIT ->
//  QUEUED transition reached a subscriber (after its commit) minus its due time: p50, p99, max.
//  Then a burst: BURST jobs due at the same instant (a storm the jitter did not spread).
//  Usage: bench_retry_timers [PENDING [MEASURED [SECONDS [BURST]]]]
//         (default 100000 pending, 2000 measured over 10 s, burst 2000)
#include "jobd_broker.h"
#include "jobd_store.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_rm (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info, (void)flag, (void)ftw;
    return remove (path);
}

static void
s_apply (jobd_store_t *store, jobd_event_t *event, char *job, size_t size)
{
    jobd_apply_result_t result;
    if (jobd_store_apply (store, event, &result)) {
        fprintf (stderr, "bench: apply of %s failed\n", jobd_event_type_name (event->type));
        exit (1);
    }
    if (job)
        snprintf (job, size, "%s", result.job);
    jobd_apply_result_clear (&result);
}

//  Stores count jobs, 5,000 a commit, each submitted, FAILED and planned: due_fn (index) gives
//  its retry's due time. Job ids follow from the store's counter: first + index.
static void
s_fill (jobd_store_t *store, long count, int64_t (*due_fn) (long, void *), void *arg)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "bench");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{\"appResource\":\"local:///opt/app.jar\"}");
    jobd_event_t *failed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&failed->source, "bench");
    jobd_event_set (&failed->error, "lost executor 3: Connection refused");
    failed->state = JOBD_STATE_FAILED;
    jobd_event_t *plan = jobd_event_new (JOBD_EVENT_RETRY_PLAN);
    jobd_event_set (&plan->source, "retry");
    jobd_event_set (&plan->failure_class, "transient");
    jobd_event_set (&plan->policy, "default");
    plan->state = JOBD_STATE_RETRY_WAIT;
    plan->attempt = 1;
    for (long index = 0; index < count; index++) {
        if (index % 5000 == 0 && jobd_store_begin (store))
            exit (1);
        char job[64];
        s_apply (store, submit, job, sizeof job);
        jobd_event_set (&failed->job, job);
        s_apply (store, failed, NULL, 0);
        jobd_event_set (&plan->job, job);
        plan->due = due_fn (index, arg);
        s_apply (store, plan, NULL, 0);
        if ((index % 5000 == 4999 || index + 1 == count) && jobd_store_commit (store)) {
            fprintf (stderr, "bench: commit failed (map full?)\n");
            exit (1);
        }
    }
    jobd_event_destroy (&submit);
    jobd_event_destroy (&failed);
    jobd_event_destroy (&plan);
}

static int64_t
s_due_far (long index, void *arg)
{
    (void)index;
    return *(int64_t *)arg;
}

typedef struct {
    int64_t start;
    long count;
    int seconds;
} s_spread_t;

static int64_t
s_due_spread (long index, void *arg)
{
    s_spread_t *spread = (s_spread_t *)arg;
    return spread->start + index * spread->seconds * 1000LL / spread->count;
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

//  Receives count QUEUED transitions of jobs first .. first + count - 1 and writes each one's
//  arrival minus its job's due (dues[job - first]) into lateness. Returns how many arrived.
static long
s_collect (zsock_t *events, long first, long count, const int64_t *dues, int64_t *lateness)
{
    long got = 0;
    zsock_set_rcvtimeo (events, 15000);
    while (got < count) {
        zmsg_t *msg = zmsg_recv (events);
        if (!msg)
            break;
        int64_t now = jobd_now_ms ();
        char *topic = zmsg_popstr (msg);
        const char *id = topic ? strrchr (topic, '-') : NULL;
        long number = id ? atol (id + 1) : 0;
        if (number >= first && number < first + count)
            lateness[got++] = now - dues[number - first];
        zstr_free (&topic);
        zmsg_destroy (&msg);
    }
    return got;
}

static void
s_report (const char *what, int64_t *lateness, long count)
{
    if (count == 0) {
        printf ("%s: none arrived\n", what);
        return;
    }
    qsort (lateness, count, sizeof lateness[0], s_compare);
    printf ("%s: %ld timers, lateness p50 %lld ms, p99 %lld ms, max %lld ms\n", what, count,
            (long long)lateness[count / 2], (long long)lateness[count * 99 / 100],
            (long long)lateness[count - 1]);
}

int
main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    long pending = argc > 1 ? atol (argv[1]) : 100000;
    long measured = argc > 2 ? atol (argv[2]) : 2000;
    int seconds = argc > 3 ? atoi (argv[3]) : 10;
    long burst = argc > 4 ? atol (argv[4]) : 2000;
    char dir[64];
    snprintf (dir, sizeof dir, "/tmp/bench-retry-XXXXXX");
    if (!mkdtemp (dir) || measured <= 0 || seconds <= 0)
        return 1;
    jobd_store_t *store = NULL;
    char reason[256];
    if (jobd_store_open (dir, 0, (size_t)8 << 30, &store, reason, sizeof reason)) {
        fprintf (stderr, "bench: %s\n", reason);
        return 1;
    }
    int64_t far = jobd_now_ms () + 3600 * 1000LL;
    double start = zclock_mono () / 1e3;
    s_fill (store, pending, s_due_far, &far);
    printf ("filled %ld jobs waiting for a retry an hour away in %.1f s\n", pending,
            zclock_mono () / 1e3 - start);
    //  The measured jobs fall due from 3 s on (time to start the broker), evenly over seconds.
    s_spread_t spread = {jobd_now_ms () + 3000, measured, seconds};
    s_fill (store, measured, s_due_spread, &spread);
    int64_t *dues = (int64_t *)calloc (measured + burst, sizeof (int64_t));
    int64_t *lateness = (int64_t *)calloc (measured + burst, sizeof (int64_t));
    for (long index = 0; index < measured; index++)
        dues[index] = s_due_spread (index, &spread);

    jobd_broker_t *broker = NULL;
    if (jobd_broker_new (store, "inproc://bench-admin", "inproc://bench-events", 1024, &broker,
                         reason, sizeof reason)) {
        fprintf (stderr, "bench: %s\n", reason);
        return 1;
    }
    zsock_t *events = zsock_new_sub (">inproc://bench-events", "job.QUEUED.");
    long got = s_collect (events, pending + 1, measured, dues, lateness);
    char what[128];
    snprintf (what, sizeof what, "%ld due over %d s (%ld/s), %ld pending", measured, seconds,
              measured / seconds, pending);
    s_report (what, lateness, got);

    if (burst > 0) {
        //  Stored while the broker runs: the store is the broker's to write, so it stops first.
        zsock_destroy (&events);
        jobd_broker_destroy (&broker);
        int64_t at = jobd_now_ms () + 2000;
        s_fill (store, burst, s_due_far, &at);
        for (long index = 0; index < burst; index++)
            dues[index] = at;
        if (jobd_broker_new (store, "inproc://bench-admin", "inproc://bench-events", 1024, &broker,
                             reason, sizeof reason))
            return 1;
        events = zsock_new_sub (">inproc://bench-events", "job.QUEUED.");
        got = s_collect (events, pending + measured + 1, burst, dues, lateness);
        snprintf (what, sizeof what, "burst of %ld due at one instant, %ld pending", burst,
                  pending);
        s_report (what, lateness, got);
    }
    zsock_destroy (&events);
    jobd_broker_destroy (&broker);
    jobd_store_destroy (&store);
    free (dues);
    free (lateness);
    nftw (dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    printf ("reproduce: cd build && bin/bench_retry_timers %ld %ld %d %ld\n", pending, measured,
            seconds, burst);
    return 0;
}
