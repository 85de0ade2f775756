//  Benchmark (not a test): the notifier under a storm. The test plugin "failer" fails JOBS jobs
//  at once; the notifier's webhook channel posts one note per failure (rule events "failed", no
//  digest) to the bench's own receiver (webhook_sink). Figures:
//  1. the ceiling: a plain libcurl loop posting JOBS bodies of a note's size to the receiver,
//     one connection, one at a time (what one channel's ordered delivery can reach);
//  2. the notifier: notes delivered per second, from the first FAILED transition a subscriber
//     sees to the last note the receiver took;
//  3. A/B in one run: the broker's transitions per second for the same storm with the notifier
//     loaded and without it, interleaved, medians.
//  Usage: bench_notifier [JOBS [RUNS]]  (default 10000, 3)
#include "bench_util.h"
#include "harness.h"
#include "webhook_sink.h"
#include <curl/curl.h>
#include <signal.h>
#include <string.h>

static const char *s_body =
    "{\"key\":\"01JBENCHJOB0000000000000/3\",\"event\":\"failed\",\"ts\":1796356563120,"
    "\"time\":\"2026-12-04T04:16:03.120Z\",\"subject\":\"jobd: 01JBENCHJOB0000000000000 FAILED "
    "(attempt 1): java.net.ConnectException: Connection refused\",\"job\":{\"id\":"
    "\"01JBENCHJOB0000000000000\",\"kind\":\"failer\",\"backend\":\"failer\",\"state\":\"FAILED\","
    "\"attempt\":1,\"error\":\"java.net.ConnectException: Connection refused\"},\"transition\":"
    "{\"from\":\"RUNNING\",\"to\":\"FAILED\",\"seq\":3,\"ts\":1796356563120,\"src\":\"failer\"},"
    "\"links\":{}}";

static size_t
s_discard (char *data, size_t size, size_t count, void *arg)
{
    (void)data, (void)arg;
    return size * count;
}

//  Phase 1: a plain libcurl loop. Returns posts per second.
static double
s_ceiling (int jobs)
{
    webhook_sink_t *sink = webhook_sink_new ();
    CURL *curl = curl_easy_init ();
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    headers = curl_slist_append (headers, "Idempotency-Key: 01JBENCHJOB0000000000000/3");
    double start = bench_seconds ();
    for (int index = 0; index < jobs; index++) {
        curl_easy_setopt (curl, CURLOPT_URL, webhook_sink_url (sink));
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, s_body);
        curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
        curl_easy_perform (curl);
    }
    double rate = jobs / (bench_seconds () - start);
    if (webhook_sink_count (sink) != (size_t)jobs)
        fprintf (stderr, "bench: the receiver got %zu of %d\n", webhook_sink_count (sink), jobs);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    webhook_sink_destroy (&sink);
    return rate;
}

static void
s_start (harness_t *harness, int jobs, const char *url)
{
    harness_init (harness, "bench-notifier");
    char extra[2048];
    int length = snprintf (extra, sizeof extra,
                           "    log_level = warn\n"
                           "    deadline_queued = 0\n"
                           "    deadline_submitted = 0\n"
                           "plugins\n"
                           "    failer\n"
                           "        jobs = %d\n",
                           jobs);
    if (url)
        snprintf (extra + length, sizeof extra - (size_t)length,
                  "    notifier\n"
                  "        path = %s/plugins/notifier.so\n"
                  "        channels\n"
                  "            hook\n"
                  "                type = webhook\n"
                  "                url = \"%s\"\n"
                  "        rules\n"
                  "            all\n"
                  "                events = failed\n"
                  "                digest_window = 0\n",
                  harness_build_dir (), url);
    harness_write_config (harness, extra);
    if (harness_start (harness) <= 0 || !harness_wait_ready (harness, 20000)) {
        fprintf (stderr, "bench: jobd did not start; see %s\n", harness->log);
        exit (1);
    }
    //  The channel's cursor is committed before the storm (its first start begins at the head).
    zclock_sleep (url ? 500 : 0);
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

//  Reads transitions until jobs FAILED came (or timeout ms of silence). Returns how many
//  transitions; *first_p and *last_p: when the first and the last FAILED came.
static size_t
s_follow (zsock_t *sub, int jobs, double *first_p, double *last_p)
{
    size_t transitions = 0;
    int failed = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    while (failed < jobs && zpoller_wait (poller, 10000)) {
        zmsg_t *msg = zmsg_recv (sub);
        char *topic = msg ? zmsg_popstr (msg) : NULL;
        if (topic && strncmp (topic, "job.", 4) == 0) {
            transitions++;
            if (strncmp (topic, "job.FAILED.", 11) == 0) {
                if (failed++ == 0)
                    *first_p = bench_seconds ();
                *last_p = bench_seconds ();
            }
        }
        free (topic);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return transitions;
}

//  Phases 2 and 3: one storm, with the notifier (url) or without. Returns the broker's
//  transitions per second; *notes_p the notes per second (with the notifier).
static double
s_storm (int jobs, bool notifier, double *notes_p)
{
    webhook_sink_t *sink = notifier ? webhook_sink_new () : NULL;
    harness_t harness;
    s_start (&harness, jobs, sink ? webhook_sink_url (sink) : NULL);
    zsock_t *sub = bench_subscribe (&harness, "job.");
    double start = bench_seconds (), first = start, last = start;
    s_go (&harness);
    size_t transitions = s_follow (sub, jobs, &first, &last);
    double rate = transitions / (last - start);
    if (sink) {
        webhook_sink_wait (sink, (size_t)jobs, 120000);
        double done = bench_seconds ();
        *notes_p = webhook_sink_count (sink) / (done - first);
        printf ("  notifier: %zu notes in %.2f s from the first failure (%.0f/s); the last "
                "failure came %.2f s after the first\n",
                webhook_sink_count (sink), done - first, *notes_p, last - first);
    }
    zsock_destroy (&sub);
    harness_stop (&harness, SIGTERM, 60000);
    harness_fini (&harness);
    webhook_sink_destroy (&sink);
    return rate;
}

int
main (int argc, char *argv[])
{
    int jobs = argc > 1 ? atoi (argv[1]) : 10000;
    int runs = argc > 2 ? atoi (argv[2]) : 3;
    if (jobs <= 0 || runs < 1 || runs > 16) {
        fprintf (stderr, "usage: bench_notifier [JOBS [RUNS]]\n");
        return 2;
    }
    curl_global_init (CURL_GLOBAL_DEFAULT);
    printf ("jobd bench: notifier, %d failures at once, a webhook channel\n", jobs);
    double ceiling = s_ceiling (jobs);
    printf ("ceiling: a plain libcurl loop posts %.0f notes/s to the same receiver\n", ceiling);
    double on[16], off[16], notes[16];
    for (int run = 0; run < runs; run++) {
        off[run] = s_storm (jobs, false, NULL);
        on[run] = s_storm (jobs, true, &notes[run]);
        printf ("  A/B run %d: %.0f transitions/s without the notifier, %.0f with\n", run + 1,
                off[run], on[run]);
    }
    double median_notes = bench_percentile (notes, (size_t)runs, 0.5);
    printf ("notifier: %.0f notes/s (%.2f of the ceiling); broker: %.0f transitions/s with it, "
            "%.0f without (medians of %d)\n",
            median_notes, median_notes / ceiling, bench_percentile (on, (size_t)runs, 0.5),
            bench_percentile (off, (size_t)runs, 0.5), runs);
    return 0;
}
