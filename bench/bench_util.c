//  What the benchmarks share (see bench_util.h).
#include "bench_util.h"
#include "jobd_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double
bench_seconds (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

int
bench_compare (const void *a, const void *b)
{
    double left = *(const double *)a, right = *(const double *)b;
    return left < right ? -1 : left > right;
}

double
bench_percentile (double *values, size_t count, double fraction)
{
    if (count == 0)
        return -1;
    qsort (values, count, sizeof (double), bench_compare);
    size_t index = (size_t)(count * fraction);
    return values[index < count ? index : count - 1];
}

zsock_t *
bench_subscribe (harness_t *harness, const char *prefix)
{
    zsock_t *sub = harness_subscribe (harness, prefix, 10000);
    if (!sub) {
        fprintf (stderr, "bench: no welcome from jobd\n");
        exit (1);
    }
    return sub;
}

double
bench_cpu_seconds (pid_t pid)
{
    char path[64], text[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", pid ? (int)pid : (int)getpid ());
    FILE *file = fopen (path, "r");
    size_t size = file ? fread (text, 1, sizeof text - 1, file) : 0;
    if (file)
        fclose (file);
    text[size] = 0;
    //  After the command name (which may hold blanks): utime is the 12th field, stime the 13th.
    char *rest = strrchr (text, ')');
    unsigned long long utime = 0, stime = 0;
    if (!rest || sscanf (rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                         &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf (_SC_CLK_TCK);
}

//  Fills the store with jobs submits of kind "bench" (no plugin moves them), 10,000 a commit.
void
bench_fill (harness_t *harness, long jobs)
{
    jobd_store_t *store = NULL;
    char reason[256];
    if (jobd_store_open (harness->store, 0, (size_t)8 << 30, &store, reason, sizeof reason)) {
        fprintf (stderr, "bench: %s\n", reason);
        exit (1);
    }
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "bench");
    jobd_event_set (&submit->kind, "bench");
    jobd_event_set (&submit->name, "nightly orders");
    jobd_event_set (&submit->spec, "{\"appResource\":\"x.jar\"}");
    double start = bench_seconds ();
    for (long done = 0; done < jobs;) {
        if (jobd_store_begin (store))
            exit (1);
        for (int index = 0; index < 10000 && done < jobs; index++, done++) {
            jobd_apply_result_t result;
            if (jobd_store_apply (store, submit, &result))
                exit (1);
            jobd_apply_result_clear (&result);
        }
        if (jobd_store_commit (store))
            exit (1);
    }
    jobd_event_destroy (&submit);
    jobd_store_destroy (&store);
    printf ("filled %ld jobs in %.1f s\n", jobs, bench_seconds () - start);
}
