//  bench_verify: how long the store check takes as the store grows. Writes a store of JOBS jobs
//  (each submitted, then RUNNING, then SUCCEEDED, with a 200-byte spec), then times the
//  structural walk (what jobd does at every start) and the value pass (jobd --verify).
//  Usage: bench_verify [JOBS] [DIR]   (DIR: keep the store there; reused when it exists)
#include "jobd_store.h"
#include "jobd_store_verify.h"
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
s_apply (jobd_store_t *store, jobd_event_t *event)
{
    jobd_apply_result_t result;
    if (jobd_store_apply (store, event, &result)) {
        fprintf (stderr, "bench_verify: apply failed\n");
        exit (1);
    }
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&event);
}

static void
s_write (const char *dir, long jobs)
{
    jobd_store_t *store = NULL;
    char reason[512];
    if (jobd_store_open (dir, 0, (size_t)16 << 30, &store, reason, sizeof reason)) {
        fprintf (stderr, "bench_verify: %s\n", reason);
        exit (1);
    }
    char spec[201];
    memset (spec, 's', 200);
    spec[200] = 0;
    for (long index = 1; index <= jobs; index++) {
        if (index % 4096 == 1 && jobd_store_begin (store))
            exit (1);
        jobd_event_t *event = jobd_event_new (JOBD_EVENT_SUBMIT);
        jobd_event_set (&event->kind, "spark");
        jobd_event_set (&event->source, "bench");
        jobd_event_set (&event->name, "nightly-aggregation");
        jobd_event_set (&event->spec, spec);
        s_apply (store, event);
        char id[32], ext[32];
        snprintf (id, sizeof id, "job-%ld", index);
        snprintf (ext, sizeof ext, "app-20260101-%ld", index);
        for (int state = JOBD_STATE_RUNNING; state <= JOBD_STATE_SUCCEEDED; state++) {
            event = jobd_event_new (JOBD_EVENT_OBSERVED);
            jobd_event_set (&event->job, id);
            jobd_event_set (&event->source, "bench");
            jobd_event_set (&event->backend, "standalone");
            jobd_event_set (&event->ext, ext);
            event->state = (jobd_state_t)state;
            s_apply (store, event);
        }
        if ((index % 4096 == 0 || index == jobs) && jobd_store_commit (store))
            exit (1);
    }
    jobd_store_destroy (&store);
}

int
main (int argc, char *argv[])
{
    long jobs = argc > 1 ? atol (argv[1]) : 100000;
    char dir[256];
    if (argc > 2)
        snprintf (dir, sizeof dir, "%s", argv[2]);
    else
        snprintf (dir, sizeof dir, "/tmp/bench-verify-%ld", jobs);
    char data[300];
    snprintf (data, sizeof data, "%s/data.mdb", dir);
    struct stat status;
    int64_t start = zclock_mono ();
    if (stat (data, &status)) {
        s_write (dir, jobs);
        stat (data, &status);
        printf ("wrote %ld jobs in %.1f s\n", jobs, (zclock_mono () - start) / 1000.0);
    }
    printf ("store %s: %.1f MiB\n", dir, status.st_size / 1048576.0);
    for (int run = 0; run < 2; run++) {
        jobd_verify_report_t report = {0};
        start = zclock_mono ();
        int rc = jobd_store_verify_structure (dir, &report);
        int64_t structure = zclock_mono () - start;
        printf ("structure (%s): %lld ms: %llu pages (%llu branch, %llu leaf, %llu overflow, "
                "%llu free), %llu entries%s%s\n",
                run ? "warm" : "first", (long long)structure,
                (unsigned long long)report.last_page + 1, (unsigned long long)report.branch_pages,
                (unsigned long long)report.leaf_pages, (unsigned long long)report.overflow_pages,
                (unsigned long long)report.free_pages, (unsigned long long)report.entries,
                rc ? ": " : "", rc ? report.problem : "");
    }
    jobd_verify_report_t report = {0};
    start = zclock_mono ();
    int rc = jobd_store_verify (dir, true, &report);
    printf ("structure and values (jobd --verify): %lld ms, %llu values%s%s\n",
            (long long)(zclock_mono () - start), (unsigned long long)report.values, rc ? ": " : "",
            rc ? report.problem : "");
    printf ("reproduce: cd build && bin/bench_verify %ld %s\n", jobs, dir);
    return rc ? 1 : 0;
}
