//  What the benchmarks share (see bench_util.h).
#include "bench_util.h"
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
