//  What the benchmarks share (see bench_util.h).
#include "bench_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
