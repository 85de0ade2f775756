//  Benchmark (not a test): the spark-poller plugin against spark-sim. (1) list backends at scale:
//  N running jobs all end at once, time until jobd has published every transition and the HTTP
//  requests that took, at N and N/10; (2) per-job status polls per second on a standalone
//  master without ui_url, next to a plain libcurl multi loop (the ceiling); (3) latency from a
//  job's change at the cluster to its transition at a subscriber, at the default settings.
//  Usage: bench_spark [N] [M] [LATENCY_JOBS] [RUNS] [BACKENDS]
//    N             jobs per list backend (default 100000; also run at N/10)
//    M             jobs for per-job polling (default 1000)
//    LATENCY_JOBS  jobs per latency measurement (default 200)
//    RUNS          runs per figure, medians printed (default 3)
//    BACKENDS      list backends of (1), comma-separated: yarn,livy,masterui (default all three)
#include "bench_util.h"
#include "harness_spark.h"
#include "jobd_map.h"
#include "jobd_plugin.h"
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define BENCH_RUNS_MAX 16
#define BENCH_WINDOW   4096 //  track requests in flight to the admin endpoint
#define BENCH_HOUR     3600000

//  Wall clock in ms (the simulator's scenarios run in wall-clock time).
static double
s_wall_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

static void
s_die (const char *what)
{
    fprintf (stderr, "bench: %s\n", what);
    exit (1);
}

//  ---------------------------------------------------------------------------------------------
//  spark-sim: the process and its control API

typedef struct {
    harness_t home; //  only its temporary folder: the port file and the log
    harness_proc_t proc;
    int port;
} s_sim_t;

//  One request to the simulator. Returns the reply body parsed as JSON (fresh), or NULL.
static json_t *
s_sim_call (s_sim_t *self, const char *method, const char *path, const char *body)
{
    return harness_spark_call (self->port, method, path, body);
}

static void
s_sim_start (s_sim_t *self, const char *name, const char *threads)
{
    memset (self, 0, sizeof *self);
    harness_init (&self->home, name);
    const char *const args[] = {
        "--threads", threads, "--yarn-max-completed", "0", "--retained-drivers", "1000000", NULL};
    self->port = harness_spark_sim (&self->proc, &self->home, args);
    if (self->port <= 0)
        s_die ("spark-sim did not start");
}

static void
s_sim_stop (s_sim_t *self)
{
    kill (self->proc.pid, SIGTERM);
    harness_proc_finish (&self->proc, 10000);
    harness_fini (&self->home);
}

//  Creates count jobs on backend; returns their ids (fresh JSON array).
static json_t *
s_sim_jobs (s_sim_t *self, const char *backend, int count, int run_ms)
{
    char body[512];
    snprintf (body, sizeof body,
              "{\"backend\":\"%s\",\"count\":%d,\"tags\":[\"jobd\"],"
              "\"scenario\":{\"queue\":0,\"run\":%d,\"outcome\":\"success\"}}",
              backend, count, run_ms);
    json_t *reply = s_sim_call (self, "POST", "/sim/jobs", body);
    json_t *ids = json_incref (json_object_get (reply, "ids"));
    json_decref (reply);
    if (json_array_size (ids) != (size_t)count)
        s_die ("spark-sim did not create the jobs");
    return ids;
}

//  Requests the simulator counted so far: of one backend ("yarn"), or of one endpoint
//  ("GET /json"), or every request (both NULL).
static int64_t
s_sim_count (s_sim_t *self, const char *backend, const char *endpoint)
{
    json_t *stats = s_sim_call (self, "GET", "/sim/stats", NULL);
    json_t *value = backend    ? json_object_get (json_object_get (stats, "backends"), backend)
                    : endpoint ? json_object_get (json_object_get (stats, "endpoints"), endpoint)
                               : json_object_get (stats, "total");
    int64_t count = json_is_integer (value) ? (int64_t)json_integer_value (value) : 0;
    json_decref (stats);
    return count;
}

//  ---------------------------------------------------------------------------------------------
//  jobd with the spark-poller plugin and one backend named "b"

static void
s_jobd_start (harness_t *harness, s_sim_t *sim, const char *type, bool ui_url, const char *settings)
{
    harness_init (harness, "bench-spark");
    char ui[128] = "";
    if (ui_url)
        snprintf (ui, sizeof ui, "                ui_url = http://127.0.0.1:%d\n", sim->port);
    char extra[2048];
    snprintf (extra, sizeof extra,
              "    log_level = warn\n"
              "plugins\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "%s"
              "        backend\n"
              "            b\n"
              "                type = %s\n"
              "                url = http://127.0.0.1:%d\n"
              "%s",
              harness_build_dir (), settings, type, sim->port, ui);
    harness_write_config (harness, extra);
    harness_start (harness);
    if (!harness_wait_ready (harness, 10000)) {
        fprintf (stderr, "bench: jobd did not start; see %s\n", harness->log);
        exit (1);
    }
}

static void
s_jobd_stop (harness_t *harness)
{
    if (getenv ("BENCH_SPARK_KEEP_LOG")) {
        char command[700];
        snprintf (command, sizeof command, "cat %s >> %s", harness->log,
                  getenv ("BENCH_SPARK_KEEP_LOG"));
        if (system (command)) {
        }
    }
    harness_stop (harness, SIGTERM, 60000);
    harness_fini (harness);
}

//  Tracks every id (backend "b", state RUNNING) through the admin endpoint, many requests in
//  flight at once; jobctl track does the same one process per job. Returns the job ids in
//  jobd (fresh zhashx ext -> job id) and the tracks per second in *rate.
static zhashx_t *
s_track (harness_t *harness, json_t *ids, double *rate)
{
    zsock_t *dealer = zsock_new_dealer (harness->admin);
    zsock_set_sndhwm (dealer, 0);
    zsock_set_rcvhwm (dealer, 0);
    zhashx_t *jobs = zhashx_new ();
    zhashx_set_destructor (jobs, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_duplicator (jobs, (zhashx_duplicator_fn *)strdup);
    zhashx_t *pending = zhashx_new (); //  event id -> ext (borrowed from ids)
    size_t count = json_array_size (ids), sent = 0, replied = 0;
    double start = bench_seconds ();
    while (replied < count) {
        while (sent < count && sent - replied < BENCH_WINDOW) {
            jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
            jobd_event_set (&track->source, "bench");
            jobd_event_set (&track->kind, "spark");
            jobd_event_set (&track->backend, "b");
            jobd_event_set (&track->ext, json_string_value (json_array_get (ids, sent)));
            track->state = JOBD_STATE_RUNNING;
            zhashx_insert (pending, track->id,
                           (void *)json_string_value (json_array_get (ids, sent)));
            uint8_t *data;
            size_t size;
            if (jobd_event_encode (track, &data, &size, NULL, 0))
                s_die ("cannot encode a track");
            zframe_t *frame = zframe_new (data, size);
            free (data);
            zframe_send (&frame, dealer, 0);
            jobd_event_destroy (&track);
            sent++;
        }
        zsock_set_rcvtimeo (dealer, 30000);
        zframe_t *frame = zframe_recv (dealer);
        if (!frame)
            s_die ("jobd did not answer a track");
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        char job[JOBD_ID_MAX + 1], re[64];
        if (msgpack_unpack_next (&reply, (const char *)zframe_data (frame), zframe_size (frame),
                                 NULL) != MSGPACK_UNPACK_SUCCESS ||
            !jobd_map_string (&reply.data, "job", job, sizeof job) ||
            !jobd_map_string (&reply.data, "re", re, sizeof re) || !zhashx_lookup (pending, re))
            s_die ("a track was refused");
        zhashx_insert (jobs, zhashx_lookup (pending, re), job);
        zhashx_delete (pending, re);
        msgpack_unpacked_destroy (&reply);
        zframe_destroy (&frame);
        replied++;
    }
    *rate = count / (bench_seconds () - start);
    zhashx_destroy (&pending);
    zsock_destroy (&dealer);
    return jobs;
}

//  Waits until the simulator has seen `lists` more requests on endpoint (the plugin then has
//  read at least lists-1 full replies since). Returns false after timeout_ms.
static bool
s_wait_requests (s_sim_t *sim, const char *endpoint, int64_t lists, int timeout_ms)
{
    int64_t target = s_sim_count (sim, NULL, endpoint) + lists;
    double deadline = bench_seconds () + timeout_ms / 1000.0;
    while (s_sim_count (sim, NULL, endpoint) < target)
        if (bench_seconds () > deadline)
            return false;
        else
            zclock_sleep (20); //  polling with a deadline
    return true;
}

//  ---------------------------------------------------------------------------------------------
//  (1) list backends at scale

typedef struct {
    const char *name;     //  as printed and given in BACKENDS
    const char *sim;      //  spark-sim backend of /sim/jobs
    const char *type;     //  spark-poller backend type
    bool ui_url;          //  standalone: list with the master UI's /json/
    const char *list;     //  the list endpoint in /sim/stats
    const char *counted;  //  the simulator backend(s) the plugin's requests count under
    const char *counted2; //  or NULL
    const char *url;      //  the list request the plugin sends (path and query)
} s_list_backend_t;

static const s_list_backend_t s_list_backends[] = {
    {"yarn", "yarn", "yarn", false, "GET /ws/v1/cluster/apps", "yarn", NULL,
     "/ws/v1/cluster/apps?applicationTypes=SPARK&applicationTags=jobd&deSelects=resourceRequests"},
    {"livy", "livy", "livy", false, "GET /batches", "livy", NULL, "/batches?from=0&size=100000"},
    {"masterui", "standalone", "standalone", true, "GET /json", "masterui", "standalone", "/json/"},
};

static size_t
s_count_bytes (char *data, size_t size, size_t count, void *arg)
{
    *(size_t *)arg += size * count;
    return size * count;
}

//  The ceiling of a list pass: a plain libcurl GET of the same list, its body only counted. The
//  median of three, in ms.
static double
s_fetch_ms (s_sim_t *sim, const char *path)
{
    double samples[3];
    char url[512];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", sim->port, path);
    CURL *easy = curl_easy_init ();
    size_t bytes = 0;
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_count_bytes);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, &bytes);
    for (int run = 0; run < 3; run++) {
        double start = bench_seconds ();
        if (curl_easy_perform (easy) != CURLE_OK || bytes == 0)
            s_die ("the plain fetch of a list failed");
        samples[run] = (bench_seconds () - start) * 1000;
    }
    curl_easy_cleanup (easy);
    return bench_percentile (samples, 3, 0.5);
}

typedef struct {
    double cycle;      //  s from the change at the cluster to the last transition received
    double listed;     //  s from the change to the next list request at the sim
    double first;      //  s from the change to the first transition
    double requests;   //  HTTP requests to the backend during the cycle
    double steady;     //  requests per list while nothing changes
    double track_rate; //  tracks per second through the admin endpoint
    double list_ms;    //  the plugin's time for a whole list pass while nothing changes
    double fetch_ms;   //  a plain libcurl GET of the same list (the ceiling)
} s_cycle_t;

//  The plugin's own time for a whole list pass that read every job (its plugin.status detail:
//  "b (TYPE): N jobs listed in M ms"): the median of three passes, or -1.
static double
s_listed_ms (harness_t *harness, int jobs)
{
    double samples[3];
    int count = 0;
    char last[1024] = "";
    double deadline = bench_seconds () + 30;
    while (count < 3 && bench_seconds () < deadline) {
        char detail[1024];
        const char *at;
        long listed;
        long long ms;
        if (harness_plugin (harness, "spark-poller", NULL, 0, detail, sizeof detail) == 0 &&
            strcmp (detail, last) && (at = strstr (detail, "): ")) &&
            sscanf (at, "): %ld jobs listed in %lld ms", &listed, &ms) == 2 && listed == jobs)
            samples[count++] = (double)ms;
        snprintf (last, sizeof last, "%s", detail);
        zclock_sleep (20); //  a bench, not a test: the plugin table is polled
    }
    return count ? bench_percentile (samples, count, 0.5) : -1;
}

static s_cycle_t
s_list_cycle (s_sim_t *sim, const s_list_backend_t *backend, int jobs)
{
    s_cycle_t result = {0};
    s_sim_call (sim, "DELETE", "/sim/jobs", NULL);
    json_t *ids = s_sim_jobs (sim, backend->sim, jobs, BENCH_HOUR);
    result.fetch_ms = s_fetch_ms (sim, backend->url);
    harness_t harness;
    s_jobd_start (&harness, sim, backend->type, backend->ui_url,
                  "        status_interval = 100ms\n");
    zsock_t *sub = bench_subscribe (&harness, "job.SUCCEEDED.");
    zhashx_t *tracked = s_track (&harness, ids, &result.track_rate);
    json_decref (ids);
    //  Steady state: a list sent after every job was followed has been read, then two more.
    int64_t lists = s_sim_count (sim, NULL, backend->list);
    int64_t before = s_sim_count (sim, backend->counted, NULL) +
                     (backend->counted2 ? s_sim_count (sim, backend->counted2, NULL) : 0);
    if (!s_wait_requests (sim, backend->list, 3, 60000))
        s_die ("the plugin does not list");
    int64_t lists_seen = s_sim_count (sim, NULL, backend->list) - lists;
    int64_t after = s_sim_count (sim, backend->counted, NULL) +
                    (backend->counted2 ? s_sim_count (sim, backend->counted2, NULL) : 0);
    result.steady = (double)(after - before) / (lists_seen ? lists_seen : 1);
    result.list_ms = s_listed_ms (&harness, jobs);
    if (getenv ("BENCH_SPARK_PROFILE") && jobs >= 100000) {
        //  Time to `perf record -p PID` from another shell (the polling window too).
        fprintf (stderr, "bench: jobd pid %d lists %d jobs for %s s: profile it now\n",
                 (int)harness.pid, jobs, getenv ("BENCH_SPARK_PROFILE"));
        zclock_sleep (atoi (getenv ("BENCH_SPARK_PROFILE")) * 1000);
    }

    //  The change: every job's hour of run time passes at once.
    s_sim_call (sim, "POST", "/sim/stats/reset", NULL);
    int64_t lists_before = s_sim_count (sim, NULL, backend->list);
    double change = bench_seconds ();
    json_decref (s_sim_call (sim, "POST", "/sim/clock", "{\"advance_ms\":3600000}"));
    //  When the next list reaches the sim: the cycle's wait part (transitions queue meanwhile).
    while (s_sim_count (sim, NULL, backend->list) == lists_before && bench_seconds () - change < 30)
        zclock_sleep (2);
    result.listed = bench_seconds () - change;
    int received = 0;
    double first = 0, last = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    while (received < jobs && zpoller_wait (poller, 60000) == sub) {
        zmsg_t *msg = zmsg_recv (sub);
        if (zmsg_size (msg) == 2) {
            last = bench_seconds ();
            if (received++ == 0)
                first = last;
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    if (received < jobs)
        fprintf (stderr, "bench: %s: only %d of %d jobs ended in jobd\n", backend->name, received,
                 jobs);
    if (harness_count (&harness, JOBD_STATE_SUCCEEDED) != jobs)
        fprintf (stderr, "bench: %s: jobd counts %lld SUCCEEDED, not %d\n", backend->name,
                 (long long)harness_count (&harness, JOBD_STATE_SUCCEEDED), jobs);
    result.cycle = last - change;
    result.first = first - change;
    result.requests =
        (double)(s_sim_count (sim, backend->counted, NULL) +
                 (backend->counted2 ? s_sim_count (sim, backend->counted2, NULL) : 0));
    zhashx_destroy (&tracked);
    zsock_destroy (&sub);
    s_jobd_stop (&harness);
    return result;
}

static void
s_bench_lists (int jobs, int runs, const char *which)
{
    s_sim_t sim;
    s_sim_start (&sim, "bench-sim", "0");
    printf ("\n(1) list backends: N running jobs end at once (the sim clock moves an hour); "
            "cycle = from the change\n    until every SUCCEEDED transition reached a subscriber "
            "= the wait for the next list (list_interval\n    1s, default settings; the change "
            "comes just after a list) + list->all (fetch, parse, commit,\n    publish). "
            "req/cycle: HTTP requests to the backend meanwhile; req/list: per list while nothing\n"
            "    changes. list ms: the plugin's own time for a whole list pass while nothing\n"
            "    changes (request to every job read: the poll cycle, goal < 1 s at 100,000 "
            "jobs), median of 3\n    passes; fetch ms: the ceiling, a plain libcurl GET of the "
            "same list (median of 3). Medians\n    of %d runs (N >= 50000: one run).\n",
            runs);
    printf ("    %-9s %7s %9s %9s %9s %9s %9s %9s %9s %9s\n", "backend", "jobs", "cycle s",
            "wait s", "list->all", "req/cycle", "req/list", "list ms", "fetch ms", "tracks/s");
    for (size_t index = 0; index < sizeof s_list_backends / sizeof s_list_backends[0]; index++) {
        const s_list_backend_t *backend = &s_list_backends[index];
        if (!strstr (which, backend->name))
            continue;
        int sizes[2] = {jobs / 10 > 0 ? jobs / 10 : 1, jobs};
        for (int size = 0; size < 2; size++) {
            //  A run at 100,000 jobs takes half a minute: one, unless asked for few jobs.
            int runs_here = size == 1 && jobs >= 50000 ? 1 : runs;
            double cycle[BENCH_RUNS_MAX], wait[BENCH_RUNS_MAX], process[BENCH_RUNS_MAX],
                requests[BENCH_RUNS_MAX], steady[BENCH_RUNS_MAX], track[BENCH_RUNS_MAX],
                list_ms[BENCH_RUNS_MAX], fetch_ms[BENCH_RUNS_MAX];
            for (int run = 0; run < runs_here; run++) {
                s_cycle_t result = s_list_cycle (&sim, backend, sizes[size]);
                cycle[run] = result.cycle;
                wait[run] = result.listed;
                process[run] = result.cycle - result.listed;
                requests[run] = result.requests;
                steady[run] = result.steady;
                track[run] = result.track_rate;
                list_ms[run] = result.list_ms;
                fetch_ms[run] = result.fetch_ms;
                fprintf (stderr,
                         "    run %d: %s %d jobs: cycle %.3f s (list after %.3f s, first "
                         "transition %.3f s), %.0f requests\n",
                         run + 1, backend->name, sizes[size], result.cycle, result.listed,
                         result.first, result.requests);
            }
            printf ("    %-9s %7d %9.3f %9.3f %9.3f %9.0f %9.1f %9.0f %9.0f %9.0f\n", backend->name,
                    sizes[size], bench_percentile (cycle, runs_here, 0.5),
                    bench_percentile (wait, runs_here, 0.5),
                    bench_percentile (process, runs_here, 0.5),
                    bench_percentile (requests, runs_here, 0.5),
                    bench_percentile (steady, runs_here, 0.5),
                    bench_percentile (list_ms, runs_here, 0.5),
                    bench_percentile (fetch_ms, runs_here, 0.5),
                    bench_percentile (track, runs_here, 0.5));
            fflush (stdout);
        }
    }
    s_sim_stop (&sim);
}

//  ---------------------------------------------------------------------------------------------
//  (2) per-job status polling

//  The ceiling: a plain libcurl multi loop fetching the same status URLs round robin, in_flight
//  at a time on keep-alive connections, for seconds. Returns replies per second.
static double
s_curl_loop (s_sim_t *sim, json_t *ids, int in_flight, double seconds)
{
    CURLM *multi = curl_multi_init ();
    curl_multi_setopt (multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)in_flight);
    size_t count = json_array_size (ids), next = 0;
    CURL *easies[64];
    char urls[64][256];
    FILE *sink = fopen ("/dev/null", "w");
    for (int index = 0; index < in_flight; index++) {
        easies[index] = curl_easy_init ();
        curl_easy_setopt (easies[index], CURLOPT_WRITEDATA, sink);
        curl_easy_setopt (easies[index], CURLOPT_PRIVATE, (char *)urls[index]);
    }
    int64_t done = 0;
    double start = bench_seconds (), end = start + seconds;
    for (int index = 0; index < in_flight; index++) {
        snprintf (urls[index], sizeof urls[index], "http://127.0.0.1:%d/v1/submissions/status/%s",
                  sim->port, json_string_value (json_array_get (ids, next++ % count)));
        curl_easy_setopt (easies[index], CURLOPT_URL, urls[index]);
        curl_multi_add_handle (multi, easies[index]);
    }
    int running = in_flight;
    while (running > 0) {
        curl_multi_perform (multi, &running);
        CURLMsg *message;
        int left;
        while ((message = curl_multi_info_read (multi, &left))) {
            if (message->msg != CURLMSG_DONE)
                continue;
            CURL *easy = message->easy_handle;
            char *url;
            curl_easy_getinfo (easy, CURLINFO_PRIVATE, &url);
            curl_multi_remove_handle (multi, easy);
            if (message->data.result == CURLE_OK)
                done++;
            if (bench_seconds () < end) {
                snprintf (url, 256, "http://127.0.0.1:%d/v1/submissions/status/%s", sim->port,
                          json_string_value (json_array_get (ids, next++ % count)));
                curl_easy_setopt (easy, CURLOPT_URL, url);
                curl_multi_add_handle (multi, easy);
                running++;
            }
        }
        if (running)
            curl_multi_poll (multi, NULL, 0, 100, NULL);
    }
    double rate = done / (bench_seconds () - start);
    for (int index = 0; index < in_flight; index++)
        curl_easy_cleanup (easies[index]);
    curl_multi_cleanup (multi);
    fclose (sink);
    return rate;
}

static void
s_bench_polling (int jobs, int runs, double window)
{
    s_sim_t sim;
    s_sim_start (&sim, "bench-sim", "0");
    json_t *ids = s_sim_jobs (&sim, "standalone", jobs, 10 * BENCH_HOUR);
    const char *status = "GET /v1/submissions/status/{id}";
    double jobd_rate[BENCH_RUNS_MAX], curl_rate[BENCH_RUNS_MAX], ratio[BENCH_RUNS_MAX],
        jobd_cpu[BENCH_RUNS_MAX], curl_cpu[BENCH_RUNS_MAX], cpu_ratio[BENCH_RUNS_MAX];
    for (int run = 0; run < runs; run++) {
        harness_t harness;
        s_jobd_start (&harness, &sim, "standalone", false,
                      "        interval_min = 1ms\n"
                      "        interval_max = 1ms\n"
                      "        max_in_flight = 8\n");
        double track_rate;
        zhashx_t *tracked = s_track (&harness, ids, &track_rate);
        zhashx_destroy (&tracked);
        //  Warm: every job polled at least once more after tracking.
        if (!s_wait_requests (&sim, status, jobs, 30000))
            s_die ("jobd does not poll");
        if (getenv ("BENCH_SPARK_PROFILE")) {
            window = atof (getenv ("BENCH_SPARK_PROFILE"));
            fprintf (stderr, "bench: jobd pid %d polls for %.0f s: profile it now\n",
                     (int)harness.pid, window);
        }
        int64_t before = s_sim_count (&sim, NULL, status);
        double start = bench_seconds (), cpu = bench_cpu_seconds (harness.pid);
        zclock_sleep ((int)(window * 1000)); //  the measurement window, not a wait for an event
        int64_t after = s_sim_count (&sim, NULL, status);
        jobd_cpu[run] = (bench_cpu_seconds (harness.pid) - cpu) * 1e6 / (double)(after - before);
        jobd_rate[run] = (after - before) / (bench_seconds () - start);
        s_jobd_stop (&harness);
        //  The ceiling, with jobd stopped so that both had the machine to themselves.
        before = s_sim_count (&sim, NULL, status);
        start = bench_seconds ();
        cpu = bench_cpu_seconds (0);
        curl_rate[run] = s_curl_loop (&sim, ids, 8, window);
        double seen = (s_sim_count (&sim, NULL, status) - before) / (bench_seconds () - start);
        curl_cpu[run] = (bench_cpu_seconds (0) - cpu) * 1e6 / (seen * (bench_seconds () - start));
        ratio[run] = jobd_rate[run] / curl_rate[run];
        cpu_ratio[run] = curl_cpu[run] / jobd_cpu[run];
        fprintf (stderr,
                 "    run %d: jobd %.0f polls/s (%.1f us CPU each), libcurl loop %.0f/s (%.1f us "
                 "each; sim saw %.0f/s)\n",
                 run + 1, jobd_rate[run], jobd_cpu[run], curl_rate[run], curl_cpu[run], seen);
    }
    printf ("\n(2) per-job status polling: %d standalone jobs without ui_url, interval_min = "
            "interval_max = 1ms,\n    max_in_flight 8; status requests per second the sim "
            "received over %.0f s windows. Medians of %d.\n",
            jobs, window, runs);
    printf ("    jobd spark-poller                      %10.0f polls/s\n",
            bench_percentile (jobd_rate, runs, 0.5));
    printf ("    ceiling: plain libcurl multi, 8 in flight %7.0f polls/s\n",
            bench_percentile (curl_rate, runs, 0.5));
    printf ("    ratio jobd / ceiling                   %10.2f   (goal >= 0.70)\n",
            bench_percentile (ratio, runs, 0.5));
    printf ("    CPU per poll: jobd (every thread)      %10.1f us\n",
            bench_percentile (jobd_cpu, runs, 0.5));
    printf ("    CPU per poll: plain libcurl loop       %10.1f us\n",
            bench_percentile (curl_cpu, runs, 0.5));
    printf ("    ratio plain / jobd (CPU)               %10.2f   (the busy machine distorts "
            "it less)\n",
            bench_percentile (cpu_ratio, runs, 0.5));
    fflush (stdout);
    json_decref (ids);
    s_sim_stop (&sim);
}

//  ---------------------------------------------------------------------------------------------
//  (3) change-to-transition latency

//  jobs jobs start now and end between 3 s and 3 + spread s from now, evenly; returns the
//  latencies (ms, sorted) from each job's end at the sim to its SUCCEEDED at a subscriber.
static void
s_latency (const char *sim_backend, const char *type, int jobs, double *p50, double *p99,
           double *worst)
{
    s_sim_t sim;
    s_sim_start (&sim, "bench-sim", "0");
    harness_t harness;
    s_jobd_start (&harness, &sim, type, false, "");
    zsock_t *sub = bench_subscribe (&harness, "job.SUCCEEDED.");
    int spread = 10000;
    json_t *ids = json_array ();
    double *end = (double *)calloc (jobs, sizeof (double));
    for (int index = 0; index < jobs; index++) {
        int run = 3000 + (int)((int64_t)spread * index / jobs);
        double before = s_wall_ms ();
        json_t *one = s_sim_jobs (&sim, sim_backend, 1, run);
        double after = s_wall_ms ();
        //  The sim stamps the job while answering: between the two, within a ms or so.
        end[index] = (before + after) / 2 + run;
        json_array_extend (ids, one);
        json_decref (one);
    }
    double track_rate;
    zhashx_t *tracked = s_track (&harness, ids, &track_rate); //  ext -> job id
    //  job id -> index in ids
    zhashx_t *index_of = zhashx_new ();
    for (int index = 0; index < jobs; index++) {
        const char *job =
            (const char *)zhashx_lookup (tracked, json_string_value (json_array_get (ids, index)));
        zhashx_insert (index_of, job, (void *)(intptr_t)(index + 1));
    }
    double *latency = (double *)calloc (jobs, sizeof (double));
    int received = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    while (received < jobs && zpoller_wait (poller, spread + 30000) == sub) {
        zmsg_t *msg = zmsg_recv (sub);
        double now = s_wall_ms ();
        char *topic = zmsg_popstr (msg);
        //  job.SUCCEEDED.<id>
        intptr_t index = topic && zmsg_size (msg) == 1
                             ? (intptr_t)zhashx_lookup (index_of, topic + strlen ("job.SUCCEEDED."))
                             : 0;
        if (index)
            latency[received++] = now - end[index - 1];
        zstr_free (&topic);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    if (received < jobs)
        fprintf (stderr, "bench: latency %s: only %d of %d transitions\n", type, received, jobs);
    qsort (latency, received, sizeof (double), bench_compare);
    *p50 = received ? latency[received / 2] : -1;
    *p99 = received ? latency[(size_t)(received * 0.99)] : -1;
    *worst = received ? latency[received - 1] : -1;
    free (latency);
    free (end);
    zhashx_destroy (&index_of);
    zhashx_destroy (&tracked);
    json_decref (ids);
    zsock_destroy (&sub);
    s_jobd_stop (&harness);
    s_sim_stop (&sim);
}

static void
s_bench_latency (int jobs)
{
    printf ("\n(3) latency from a job's end at the sim to its SUCCEEDED transition at a "
            "subscriber,\n    default plugin settings (interval_min 250ms, interval_max 1800ms, "
            "list_interval 1s); %d jobs\n    ending over 10 s, each stable for 3 s or more.\n",
            jobs);
    printf ("    %-44s %9s %9s %9s\n", "path", "p50 ms", "p99 ms", "max ms");
    double p50, p99, worst;
    s_latency ("standalone", "standalone", jobs, &p50, &p99, &worst);
    printf ("    %-44s %9.0f %9.0f %9.0f\n", "standalone, per-job status polling", p50, p99, worst);
    fflush (stdout);
    s_latency ("yarn", "yarn", jobs, &p50, &p99, &worst);
    printf ("    %-44s %9.0f %9.0f %9.0f\n", "yarn, one list per cycle", p50, p99, worst);
    fflush (stdout);
}

int
main (int argc, char *argv[])
{
    int jobs = argc > 1 ? atoi (argv[1]) : 100000;
    int polled = argc > 2 ? atoi (argv[2]) : 1000;
    int latency_jobs = argc > 3 ? atoi (argv[3]) : 200;
    int runs = argc > 4 ? atoi (argv[4]) : 3;
    const char *which = argc > 5 ? argv[5] : "yarn,livy,masterui";
    if (jobs <= 0 || polled <= 0 || latency_jobs <= 0 || runs <= 0 || runs > BENCH_RUNS_MAX) {
        fprintf (stderr, "usage: bench_spark [N] [M] [LATENCY_JOBS] [RUNS] [BACKENDS]\n");
        return 2;
    }
    if (!getenv ("JOBD_BUILD_DIR"))
        setenv ("JOBD_BUILD_DIR", JOBD_BENCH_BUILD_DIR, 1);
    curl_global_init (CURL_GLOBAL_DEFAULT);
    printf ("jobd bench_spark: spark-poller against spark-sim on loopback\n"
            "reproduce: bench_spark %d %d %d %d %s\n",
            jobs, polled, latency_jobs, runs, which);
    fflush (stdout);
    if (strcmp (which, "none") != 0)
        s_bench_lists (jobs, runs, which);
    s_bench_polling (polled, runs, 3.0);
    s_bench_latency (latency_jobs);
    curl_global_cleanup ();
    return 0;
}
