//  Benchmark (not a test): durable transitions per second through the whole path (observation
//  in, committed, published, received by a subscriber), next to the same path committing once
//  per transition and a raw LMDB loop (the machine's ceiling); then latency at 1,000/s.
//  Usage: bench_transitions [JOBS]   (default 50000 jobs = 150,000 transitions)
#include "bench_util.h"
#include "harness.h"
#include "jobd_map.h"
#include "jobd_plugin.h"
#include <lmdb.h>
#include <signal.h>
#include <string.h>

static int
s_send_event (zsock_t *dealer, jobd_event_t *event)
{
    jobd_event_set (&event->source, "bench");
    uint8_t *data;
    size_t size;
    if (jobd_event_encode (event, &data, &size, NULL, 0))
        return -1;
    zframe_t *frame = zframe_new (data, size);
    free (data);
    return zframe_send (&frame, dealer, 0);
}

//  Runs jobd with the driver plugin for jobs jobs; returns transitions per second as received.
static double
s_whole_path (int jobs, int batch_max)
{
    harness_t harness;
    harness_init (&harness, "bench");
    char extra[512];
    snprintf (extra, sizeof extra,
              "    batch_max = %d\n"
              "    log_level = warn\n"
              "plugins\n"
              "    driver\n"
              "        jobs = %d\n"
              "        start = false\n",
              batch_max, jobs);
    harness_write_config (&harness, extra);
    harness_start (&harness);
    if (!harness_wait_ready (&harness, 10000)) {
        fprintf (stderr, "bench: jobd did not start; see %s\n", harness.log);
        exit (1);
    }
    zsock_t *sub = bench_subscribe (&harness, "job.");
    zsock_t *dealer = zsock_new_dealer (harness.admin);
    jobd_event_t *go = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&go->kind, "driver.go");
    jobd_event_set (&go->spec, "{}");
    s_send_event (dealer, go);
    jobd_event_destroy (&go);

    size_t expected = (size_t)jobs * 3 + 1, received = 0;
    double first = 0, last = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    while (received < expected && zpoller_wait (poller, 20000) == sub) {
        zmsg_t *msg = zmsg_recv (sub);
        if (zmsg_size (msg) == 2) {
            last = bench_seconds ();
            if (received++ == 0)
                first = last;
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    if (received < expected)
        fprintf (stderr, "bench: only %zu of %zu transitions arrived\n", received, expected);
    zsock_destroy (&dealer);
    zsock_destroy (&sub);
    harness_stop (&harness, SIGTERM, 30000);
    harness_fini (&harness);
    return (received - 1) / (last - first);
}

//  Raw LMDB: the same number of records (job record, history entry, index entry, each about the
//  size jobd writes) put in transactions of `per_commit`; returns records per second.
static double
s_raw_lmdb (size_t records, size_t per_commit)
{
    char dir[] = "/tmp/jobd-bench-lmdb-XXXXXX";
    if (!mkdtemp (dir))
        return 0;
    MDB_env *env;
    mdb_env_create (&env);
    mdb_env_set_mapsize (env, (size_t)4 << 30);
    mdb_env_set_maxdbs (env, 4);
    if (mdb_env_open (env, dir, MDB_NOTLS, 0600))
        return 0;
    MDB_dbi dbi[3];
    MDB_txn *txn;
    mdb_txn_begin (env, NULL, 0, &txn);
    const char *names[] = {"jobs", "history", "by_state"};
    for (int index = 0; index < 3; index++)
        mdb_dbi_open (txn, names[index], MDB_CREATE, &dbi[index]);
    mdb_txn_commit (txn);
    char value[200];
    memset (value, 'x', sizeof value);
    double start = bench_seconds ();
    for (size_t done = 0; done < records;) {
        mdb_txn_begin (env, NULL, 0, &txn);
        for (size_t index = 0; index < per_commit && done < records; index++, done++) {
            char key[48];
            int length = snprintf (key, sizeof key, "job-%zu", done / 3);
            MDB_val k = {(size_t)length, key}, v = {sizeof value, value};
            mdb_put (txn, dbi[0], &k, &v, 0);
            length = snprintf (key, sizeof key, "job-%zu%c%08zu", done / 3, 0, done % 3);
            k.mv_size = (size_t)length;
            mdb_put (txn, dbi[1], &k, &v, 0);
        }
        mdb_txn_commit (txn);
    }
    double rate = records / (bench_seconds () - start);
    mdb_env_close (env);
    char command[128];
    snprintf (command, sizeof command, "rm -rf %s", dir);
    if (system (command)) {
    }
    return rate;
}

//  Latency from sending an observation to receiving its transition, at `rate` per second.
static void
s_latency (int count, int rate, double *p50, double *p99)
{
    harness_t harness;
    harness_init (&harness, "bench-latency");
    harness_write_config (&harness, "    log_level = warn\nplugins\n");
    harness_start (&harness);
    if (!harness_wait_ready (&harness, 10000))
        exit (1);
    zsock_t *sub = bench_subscribe (&harness, "job.");
    zsock_t *dealer = zsock_new_dealer (harness.admin);
    double *sent = (double *)calloc (count, sizeof (double));
    double *latency = (double *)calloc (count, sizeof (double));
    int next = 0, received = 0;
    double start = bench_seconds ();
    zpoller_t *poller = zpoller_new (sub, dealer, NULL);
    while (received < count && bench_seconds () - start < 60) {
        double due = start + (double)next / rate;
        int wait = next < count ? (int)((due - bench_seconds ()) * 1000) : 100;
        zsock_t *which = (zsock_t *)zpoller_wait (poller, wait < 0 ? 0 : wait);
        if (which == sub) {
            zmsg_t *msg = zmsg_recv (sub);
            zframe_t *payload = zmsg_last (msg);
            jobd_event_t *event = NULL;
            if (zmsg_size (msg) == 2 &&
                jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) ==
                    0 &&
                event->ext) {
                int index = atoi (event->ext + 4);
                if (index >= 0 && index < count)
                    latency[received++] = (bench_seconds () - sent[index]) * 1000;
            }
            jobd_event_destroy (&event);
            zmsg_destroy (&msg);
        } else if (which == dealer) {
            zmsg_t *reply = zmsg_recv (dealer);
            zmsg_destroy (&reply);
        }
        while (next < count && bench_seconds () >= start + (double)next / rate) {
            jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
            char ext[32];
            snprintf (ext, sizeof ext, "lat-%d", next);
            jobd_event_set (&track->kind, "bench");
            jobd_event_set (&track->backend, "bench");
            jobd_event_set (&track->ext, ext);
            sent[next++] = bench_seconds ();
            s_send_event (dealer, track);
            jobd_event_destroy (&track);
        }
    }
    zpoller_destroy (&poller);
    qsort (latency, received, sizeof (double), bench_compare);
    *p50 = received ? latency[received / 2] : -1;
    *p99 = received ? latency[(size_t)(received * 0.99)] : -1;
    free (sent);
    free (latency);
    zsock_destroy (&dealer);
    zsock_destroy (&sub);
    harness_stop (&harness, SIGTERM, 30000);
    harness_fini (&harness);
}

int
main (int argc, char *argv[])
{
    int jobs = argc > 1 ? atoi (argv[1]) : 50000;
    int runs = argc > 2 ? atoi (argv[2]) : 3;
    if (jobs <= 0 || runs <= 0) {
        fprintf (stderr, "usage: bench_transitions [JOBS] [RUNS]\n");
        return 2;
    }
    printf ("jobd bench: %d jobs x 3 transitions, %d runs each, medians\n", jobs, runs);
    double group[16], single[16], raw_batch[16], raw_single[16];
    for (int run = 0; run < runs && run < 16; run++) {
        group[run] = s_whole_path (jobs, 4096);
        single[run] = s_whole_path (jobs / 25 > 100 ? jobs / 25 : 100, 1);
        raw_batch[run] = s_raw_lmdb ((size_t)jobs * 3, 1000);
        raw_single[run] = s_raw_lmdb (3000, 1);
        fprintf (stderr,
                 "run %d: group %.0f/s, one commit each %.0f/s, raw LMDB %.0f/s batched, %.0f/s "
                 "single\n",
                 run + 1, group[run], single[run], raw_batch[run], raw_single[run]);
    }
    qsort (group, runs, sizeof (double), bench_compare);
    qsort (single, runs, sizeof (double), bench_compare);
    qsort (raw_batch, runs, sizeof (double), bench_compare);
    qsort (raw_single, runs, sizeof (double), bench_compare);
    int median = runs / 2;
    printf ("%-58s %12s\n", "path", "per second");
    printf ("%-58s %12.0f\n", "whole path, group commit (observation -> subscriber)",
            group[median]);
    printf ("%-58s %12.0f\n", "whole path, one commit per transition", single[median]);
    printf ("%-58s %12.0f\n", "ceiling: raw LMDB, 2 puts per record, 1000 per commit",
            raw_batch[median]);
    printf ("%-58s %12.0f\n", "ceiling: raw LMDB, one commit per record", raw_single[median]);
    printf ("ratios: group commit / raw batched = %.2f; group / one-commit = %.1fx\n",
            group[median] / raw_batch[median], group[median] / single[median]);
    double p50, p99;
    s_latency (3000, 1000, &p50, &p99);
    printf (
        "latency at 1,000 observations/s (send -> transition received): p50 %.2f ms, p99 %.2f ms\n",
        p50, p99);
    return 0;
}
