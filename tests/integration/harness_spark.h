//  Integration test harness, Spark side: tools/spark-sim as a child process and its /sim/
//  control API over libcurl, for the spark-poller tests and bench_spark.
#ifndef JOBD_HARNESS_SPARK_H_INCLUDED
#define JOBD_HARNESS_SPARK_H_INCLUDED

#include "harness.h"
#include <jansson.h>

//  Starts spark-sim on a free loopback port with extra arguments (NULL-terminated, or NULL),
//  its stderr appended to harness->dir/spark-sim.log. Returns the port, or -1.
int harness_spark_sim (harness_proc_t *sim, const harness_t *harness, const char *const args[]);

//  One request to spark-sim on port. Returns the body (fresh, "" when none) and sets *status to
//  the HTTP status, or -1 when no answer came.
char *harness_spark_http (int port, const char *method, const char *path, const char *body,
                          long *status);

//  A control call (/sim/...): its JSON reply (fresh), or NULL, with the reason on stderr, when the
//  answer is not a 2xx with JSON.
json_t *harness_spark_call (int port, const char *method, const char *path, const char *body);

#endif
