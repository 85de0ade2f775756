//  Benchmark (not a test): the http plugin with many jobs stored, against the real jobd.
//  1. Requests per second and p99 latency over keep-alive connections (THREADS libcurl loops):
//     /healthz (a fixed small answer, the ceiling), GET /api/v1/jobs first page (limit 100),
//     the same page deep in the store (a cursor at the middle of the ids), a filtered page.
//  2. Event streams: STREAMS clients on /api/v1/events while a submitter sends submits to the
//     admin endpoint as fast as it is answered (the demo backend moves each job through three
//     more states): transitions delivered per second to all clients, and the lag from a
//     transition's commit time (its ts) to its arrival, p50/p99.
//  3. A/B in one run: the broker's submits per second with no HTTP load (A) and with STREAMS
//     streams open plus a client hammering /api/v1/jobs (B), interleaved A B A B.
//  Usage: bench_http [JOBS [STREAMS [SECONDS [THREADS]]]]  (default 1000000, 100, 5, 2)
#include "bench_util.h"
#include "ht_parse.h"
#include "http_client.h"
#include "jobd_store.h"
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static harness_t s_harness;
static int s_port;
static atomic_bool s_stop;

typedef struct {
    char url[1200];
    double seconds;
    double *latencies;
    size_t count, max;
    long failures;
    pthread_t thread;
} s_loop_t;

static size_t
s_discard (char *data, size_t size, size_t count, void *arg)
{
    (void)data, (void)arg;
    return size * count;
}

static void *
s_loop_run (void *arg)
{
    s_loop_t *loop = (s_loop_t *)arg;
    CURL *curl = curl_easy_init ();
    curl_easy_setopt (curl, CURLOPT_URL, loop->url);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    double end = bench_seconds () + loop->seconds;
    while (bench_seconds () < end && loop->count < loop->max) {
        double start = bench_seconds ();
        long status = 0;
        if (curl_easy_perform (curl) == CURLE_OK)
            curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200)
            loop->failures++;
        loop->latencies[loop->count++] = bench_seconds () - start;
    }
    curl_easy_cleanup (curl);
    return NULL;
}

//  Runs threads loops on path for seconds; prints requests/s, p50 and p99.
static void
s_rate (const char *label, const char *path, int threads, double seconds)
{
    s_loop_t loops[16];
    double start = bench_seconds ();
    for (int index = 0; index < threads; index++) {
        snprintf (loops[index].url, sizeof loops[index].url, "http://127.0.0.1:%d%s", s_port, path);
        loops[index].seconds = seconds;
        loops[index].max = 2000000;
        loops[index].latencies = (double *)malloc (loops[index].max * sizeof (double));
        loops[index].count = 0;
        loops[index].failures = 0;
        pthread_create (&loops[index].thread, NULL, s_loop_run, &loops[index]);
    }
    size_t total = 0;
    long failures = 0;
    for (int index = 0; index < threads; index++) {
        pthread_join (loops[index].thread, NULL);
        total += loops[index].count;
        failures += loops[index].failures;
    }
    double elapsed = bench_seconds () - start;
    double *all = (double *)malloc ((total ? total : 1) * sizeof (double));
    size_t used = 0;
    for (int index = 0; index < threads; index++) {
        memcpy (all + used, loops[index].latencies, loops[index].count * sizeof (double));
        used += loops[index].count;
        free (loops[index].latencies);
    }
    printf ("%-34s %9.1f req/s  p50 %8.2f ms  p99 %8.2f ms  (%zu requests, %ld not 200)\n", label,
            total / elapsed, bench_percentile (all, total, 0.5) * 1e3,
            bench_percentile (all, total, 0.99) * 1e3, total, failures);
    free (all);
}

//  The event streams, read by one thread with curl's multi interface.
typedef struct {
    CURL *curl;
    char partial[8192];
    size_t used;
} s_stream_t;

static atomic_long s_delivered;
static double *s_lags;
static atomic_size_t s_lag_count;
static size_t s_lag_max = 4000000;

static size_t
s_stream_write (char *data, size_t size, size_t count, void *arg)
{
    s_stream_t *stream = (s_stream_t *)arg;
    size_t len = size * count;
    double now_ms = (double)jobd_now_ms ();
    for (size_t index = 0; index < len; index++) {
        char c = data[index];
        if (stream->used < sizeof stream->partial - 1)
            stream->partial[stream->used++] = c;
        if (c != '\n')
            continue;
        stream->partial[stream->used] = 0;
        static const char prefix[] = "data: {\"v\":1,\"type\":\"transition\"";
        if (strncmp (stream->partial, prefix, sizeof prefix - 1) == 0) {
            atomic_fetch_add (&s_delivered, 1);
            const char *ts = strstr (stream->partial, "\"ts\":");
            size_t at = atomic_fetch_add (&s_lag_count, 1);
            if (ts && at < s_lag_max)
                s_lags[at] = now_ms - strtod (ts + 5, NULL);
        }
        stream->used = 0;
    }
    return len;
}

typedef struct {
    int count;
    pthread_t thread;
} s_streams_t;

static void *
s_streams_run (void *arg)
{
    s_streams_t *streams = (s_streams_t *)arg;
    CURLM *multi = curl_multi_init ();
    s_stream_t *each = (s_stream_t *)calloc ((size_t)streams->count, sizeof (s_stream_t));
    char url[200];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/api/v1/events", s_port);
    for (int index = 0; index < streams->count; index++) {
        each[index].curl = curl_easy_init ();
        curl_easy_setopt (each[index].curl, CURLOPT_URL, url);
        curl_easy_setopt (each[index].curl, CURLOPT_WRITEFUNCTION, s_stream_write);
        curl_easy_setopt (each[index].curl, CURLOPT_WRITEDATA, &each[index]);
        curl_multi_add_handle (multi, each[index].curl);
    }
    int running = 1;
    while (!atomic_load (&s_stop) && running) {
        curl_multi_perform (multi, &running);
        curl_multi_poll (multi, NULL, 0, 100, NULL);
    }
    for (int index = 0; index < streams->count; index++) {
        curl_multi_remove_handle (multi, each[index].curl);
        curl_easy_cleanup (each[index].curl);
    }
    free (each);
    curl_multi_cleanup (multi);
    return NULL;
}

//  Submits demo jobs for seconds, 64 in flight (the broker commits them together); returns
//  submits per second.
static double
s_submit_for (double seconds)
{
    zsock_t *admin = zsock_new_dealer (s_harness.admin);
    zsock_set_rcvtimeo (admin, 10000);
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "bench");
    jobd_event_set (&submit->kind, "demo");
    jobd_event_set (&submit->spec, "{\"kind\":\"demo\"}");
    double start = bench_seconds (), end = start + seconds;
    long done = 0;
    while (bench_seconds () < end) {
        for (int index = 0; index < 64; index++) {
            char id[25];
            jobd_event_new_id (id);
            jobd_event_set (&submit->id, id);
            uint8_t *data = NULL;
            size_t size = 0;
            if (jobd_event_encode (submit, &data, &size, NULL, 0) == 0) {
                zframe_t *frame = zframe_new (data, size);
                zframe_send (&frame, admin, 0);
            }
            free (data);
        }
        for (int index = 0; index < 64; index++) {
            zframe_t *reply = zframe_recv (admin);
            if (!reply)
                break;
            done++;
            zframe_destroy (&reply);
        }
    }
    jobd_event_destroy (&submit);
    zsock_destroy (&admin);
    return done / (bench_seconds () - start);
}

static void *
s_hammer_run (void *arg)
{
    (void)arg;
    char url[200];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/api/v1/jobs?limit=100&kind=demo", s_port);
    CURL *curl = curl_easy_init ();
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    while (!atomic_load (&s_stop))
        curl_easy_perform (curl);
    curl_easy_cleanup (curl);
    return NULL;
}

int
main (int argc, char **argv)
{
    long jobs = argc > 1 ? atol (argv[1]) : 1000000;
    int streams = argc > 2 ? atoi (argv[2]) : 100;
    double seconds = argc > 3 ? atof (argv[3]) : 5;
    int threads = argc > 4 ? atoi (argv[4]) : 2;
    if (threads < 1 || threads > 16)
        threads = 2;
    curl_global_init (CURL_GLOBAL_DEFAULT);
    harness_init (&s_harness, "bench-http");
    s_port = http_free_port ();
    bench_fill (&s_harness, jobs);
    char extra[1200];
    snprintf (extra, sizeof extra,
              "    map_size = 8G\n"
              "    deadline_queued = 0\n"
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        step = 10ms\n"
              "    http\n"
              "        path = %s/plugins/http.so\n"
              "        port = %d\n"
              "        threads = %d\n"
              "        token = bench-token-0123456789\n"
              "        stream_max = %d\n"
              "        connections_max = %d\n",
              harness_build_dir (), harness_build_dir (), s_port, threads, streams + 100,
              streams + 200);
    harness_write_config (&s_harness, extra);
    if (harness_start (&s_harness) <= 0 || !harness_wait_ready (&s_harness, 120000)) {
        fprintf (stderr, "bench: jobd did not start (see %s)\n", s_harness.log);
        return 1;
    }
    printf ("jobd with %ld jobs; %d client threads, %.0f s each\n", jobs, threads, seconds);

    //  1. Request rates.
    ht_params_t params;
    ht_params_init (&params);
    char reason[200];
    ht_params_set (&params, "sort", "id", false, reason, sizeof reason);
    char middle[32];
    snprintf (middle, sizeof middle, "job-%ld", jobs / 2);
    ht_key_t key = {0, "", middle};
    char *cursor = ht_cursor_encode (&params, &key);
    char deep[1000];
    snprintf (deep, sizeof deep, "/api/v1/jobs?limit=100&sort=id&cursor=%s", cursor);
    free (cursor);
    s_rate ("GET /healthz (ceiling)", "/healthz", threads, seconds);
    s_rate ("GET /api/v1/openapi.json (18 KB)", "/api/v1/openapi.json", threads, seconds);
    s_rate ("GET /api/v1/jobs first page", "/api/v1/jobs?limit=100", threads, seconds);
    s_rate ("GET /api/v1/jobs deep cursor", deep, threads, seconds);
    s_rate ("GET /api/v1/jobs?state=RUNNING", "/api/v1/jobs?limit=100&state=RUNNING", threads,
            seconds);
    s_rate ("GET /api/v1/jobs/job-1", "/api/v1/jobs/job-1", threads, seconds);

    //  2 and 3: A (no HTTP load) and B (streams and a /jobs hammer), interleaved.
    s_lags = (double *)malloc (s_lag_max * sizeof (double));
    double rate[2] = {0, 0};
    for (int round = 0; round < 4; round++) {
        bool loaded = round % 2;
        s_streams_t reader = {streams, 0};
        pthread_t hammer;
        atomic_store (&s_stop, false);
        if (loaded) {
            pthread_create (&reader.thread, NULL, s_streams_run, &reader);
            pthread_create (&hammer, NULL, s_hammer_run, NULL);
            //  Let the streams connect (bounded).
            for (int wait = 0; wait < 100; wait++) {
                http_answer_t answer;
                char url[200];
                snprintf (url, sizeof url, "http://127.0.0.1:%d/api/v1/stats", s_port);
                http_call ("GET", url, NULL, NULL, NULL, &answer);
                char want[64];
                snprintf (want, sizeof want, "\"stream_clients\":%d", streams);
                bool ready = answer.body && strstr (answer.body, want);
                http_answer_clear (&answer);
                if (ready)
                    break;
                zclock_sleep (50);
            }
            atomic_store (&s_delivered, 0);
            atomic_store (&s_lag_count, 0);
        }
        double start = bench_seconds ();
        double submits = s_submit_for (seconds);
        rate[loaded] += submits / 2;
        if (loaded) {
            double elapsed = bench_seconds () - start;
            long delivered = atomic_load (&s_delivered);
            size_t lags = atomic_load (&s_lag_count);
            if (lags > s_lag_max)
                lags = s_lag_max;
            printf ("streams: %d clients, %.0f transitions/s delivered in all (%.0f per client), "
                    "lag p50 %.1f ms p99 %.1f ms\n",
                    streams, delivered / elapsed, delivered / elapsed / streams,
                    bench_percentile (s_lags, lags, 0.5), bench_percentile (s_lags, lags, 0.99));
            atomic_store (&s_stop, true);
            pthread_join (reader.thread, NULL);
            pthread_join (hammer, NULL);
        }
        printf ("round %d (%s): %.0f submits/s\n", round,
                loaded ? "B: streams + /jobs hammer" : "A: no HTTP load", submits);
    }
    printf ("broker submits/s: A %.0f, B %.0f (B/A %.2f)\n", rate[0], rate[1],
            rate[0] > 0 ? rate[1] / rate[0] : 0);
    free (s_lags);
    harness_stop (&s_harness, SIGTERM, 60000);
    harness_fini (&s_harness);
    curl_global_cleanup ();
    return 0;
}
