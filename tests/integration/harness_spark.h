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

//  Requests spark-sim on port served on endpoints starting with prefix ("POST /batches"), from
//  /sim/stats; -1 when it does not answer.
int64_t harness_spark_count (int port, const char *prefix);

//  Jobs creates made under key (an attempt's tag: standalone spark.jobd.tag, a Livy batch
//  name), from /sim/stats "creates"; -1 when it does not answer.
int64_t harness_spark_creates (int port, const char *key);

//  Waits until harness_spark_count (prefix), or harness_spark_creates (key) when prefix is NULL,
//  reaches count, up to timeout_ms (polled: the simulator has no events). True when it does.
bool harness_spark_wait (int port, const char *prefix, const char *key, int64_t count,
                         int timeout_ms);

//  Waits until no fault rule is left (a `count` rule goes with its last request), up to
//  timeout_ms. True when none is.
bool harness_spark_wait_fault_taken (int port, int timeout_ms);

//  Submits a Spark job to jobd through its admin endpoint: backend, main_class, and spark-sim's
//  scenario ("queue=50,run=100,outcome=success") in its spark.sim.scenario property. Returns 0 and
//  writes the job's id, or -1 (reason on stderr).
int harness_spark_submit (harness_t *harness, const char *backend, const char *main_class,
                          const char *scenario, char *id, size_t size);

//  The same, waiting up to timeout_ms for the answer (harness_spark_submit: 10 s).
int harness_spark_submit_within (harness_t *harness, const char *backend, const char *main_class,
                                 const char *scenario, char *id, size_t size, int timeout_ms);

//  Sends the submission and returns the socket its reply comes on (harness_request_finish), or
//  NULL.
zsock_t *harness_spark_submit_start (harness_t *harness, const char *backend,
                                     const char *main_class, const char *scenario);
#endif
