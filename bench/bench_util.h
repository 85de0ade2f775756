//  What the benchmarks share: a monotonic clock and order statistics.
#ifndef JOBD_BENCH_UTIL_H_INCLUDED
#define JOBD_BENCH_UTIL_H_INCLUDED

#include "harness.h"
#include <stddef.h>

//  harness_subscribe, or the bench stops: without the welcome nothing can be measured.
zsock_t *bench_subscribe (harness_t *harness, const char *prefix);

//  Seconds on the monotonic clock.
double bench_seconds (void);

//  qsort's comparison of doubles, ascending.
int bench_compare (const void *a, const void *b);

//  Sorts values in place and returns the value at fraction (0.5: the median, 0.99: p99,
//  1: the max) of them, or -1 when there are none.
double bench_percentile (double *values, size_t count, double fraction);

//  CPU seconds (user and system, every thread) that process pid (0: this one) has used so far,
//  or -1. A measure that a busy shared machine distorts less than a rate.
double bench_cpu_seconds (pid_t pid);

//  Fills harness's store (jobd not running) with jobs submits of kind "bench" (no plugin moves
//  them), 10,000 a commit, and says how long it took.
void bench_fill (harness_t *harness, long jobs);

#endif
