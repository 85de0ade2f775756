//  Benchmark (not a test): the deadline watchdog's cost with many jobs stored. Fills a store with
//  JOBS jobs, each with its QUEUED deadline armed (a timer) by the commit that stores it, then runs
//  the broker on it and measures the process's CPU per second of wall time: idle (no timer due),
//  and firing RATE deadlines a second (each one: the stale flag, its commit, its stale event).
//  Next to it, the ceiling of one tick: a raw LMDB seek to the first timer key.
//  Usage: bench_deadlines [JOBS [RATE [SECONDS]]]   (default 1000000 jobs, 100/s, 5 s)
#include "jobd_broker.h"
#include "jobd_deadline.h"
#include "jobd_store.h"
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double
s_cpu (void)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
           (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static int
s_rm (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info, (void)flag, (void)ftw;
    return remove (path);
}

//  Stores jobs submits, 10,000 a commit (each arming its deadline when the store has the arm
//  function). Returns the seconds it took.
static double
s_fill (jobd_store_t *store, long jobs)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "bench");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{\"appResource\":\"x.jar\"}");
    double start = zclock_mono () / 1e3;
    for (long done = 0; done < jobs;) {
        if (jobd_store_begin (store))
            exit (1);
        for (int index = 0; index < 10000 && done < jobs; index++, done++) {
            jobd_apply_result_t result;
            if (jobd_store_apply (store, submit, &result)) {
                fprintf (stderr, "bench: apply failed\n");
                exit (1);
            }
            jobd_apply_result_clear (&result);
        }
        if (jobd_store_commit (store)) {
            fprintf (stderr, "bench: commit failed (map full?)\n");
            exit (1);
        }
    }
    jobd_event_destroy (&submit);
    return zclock_mono () / 1e3 - start;
}

//  What arming costs the write path: submits per second into a fresh store without deadlines
//  (A) and with (B), interleaved A B A B.
static void
s_arm_cost (jobd_deadline_t *deadline, long jobs)
{
    double seconds[2] = {0, 0};
    for (int round = 0; round < 4; round++) {
        char dir[64];
        snprintf (dir, sizeof dir, "/tmp/bench-deadlines-ab-XXXXXX");
        jobd_store_t *store = NULL;
        if (!mkdtemp (dir) || jobd_store_open (dir, 0, (size_t)4 << 30, &store, NULL, 0))
            exit (1);
        if (round % 2)
            jobd_store_set_arm_fn (store, jobd_deadline_arm, deadline);
        seconds[round % 2] += s_fill (store, jobs);
        jobd_store_destroy (&store);
        nftw (dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    }
    printf ("submits/s into the store, %ld a run, A B A B: without deadlines %.0f, with %.0f "
            "(%.1f%% slower)\n",
            jobs, 2 * jobs / seconds[0], 2 * jobs / seconds[1],
            100 * (seconds[1] - seconds[0]) / seconds[0]);
}

//  Runs the broker for seconds and returns its CPU per wall second (the whole process: the
//  broker, publisher and query threads; nothing else runs).
static double
s_watch (jobd_store_t *store, jobd_deadline_t *deadline, int seconds)
{
    jobd_broker_options_t options = {.admin_endpoint = "inproc://bench-admin",
                                     .events_endpoint = "inproc://bench-events",
                                     .batch_max = 4096,
                                     .deadline = deadline};
    jobd_broker_t *broker = NULL;
    char reason[256];
    if (jobd_broker_start (store, &options, &broker, reason, sizeof reason)) {
        fprintf (stderr, "bench: %s\n", reason);
        exit (1);
    }
    double cpu = s_cpu (), wall = zclock_mono () / 1e3;
    zclock_sleep (seconds * 1000); //  a benchmark, not a test: the broker runs alone meanwhile
    double used = s_cpu () - cpu, elapsed = zclock_mono () / 1e3 - wall;
    jobd_broker_destroy (&broker);
    return used / elapsed;
}

//  The ceiling of a tick that reads the store: one read transaction and a seek to the first
//  timer, in a loop. Returns seeks per second.
static double
s_raw_seeks (const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    mdb_env_create (&env);
    mdb_env_set_maxdbs (env, 16);
    mdb_env_set_mapsize (env, (size_t)8 << 30);
    if (mdb_env_open (env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) {
        mdb_env_close (env);
        return 0;
    }
    mdb_txn_begin (env, NULL, MDB_RDONLY, &txn);
    if (mdb_dbi_open (txn, "timers", 0, &dbi) || mdb_txn_commit (txn)) {
        mdb_env_close (env);
        return 0;
    }
    long count = 200000;
    double start = zclock_usecs () / 1e6;
    for (long index = 0; index < count; index++) {
        MDB_cursor *cursor;
        MDB_val key, value;
        mdb_txn_begin (env, NULL, MDB_RDONLY, &txn);
        mdb_cursor_open (txn, dbi, &cursor);
        mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
        mdb_cursor_close (cursor);
        mdb_txn_abort (txn);
    }
    double elapsed = zclock_usecs () / 1e6 - start;
    mdb_env_close (env);
    return count / elapsed;
}

int
main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    long jobs = argc > 1 ? atol (argv[1]) : 1000000;
    long rate = argc > 2 ? atol (argv[2]) : 100;
    int seconds = argc > 3 ? atoi (argv[3]) : 5;
    char dir[64];
    snprintf (dir, sizeof dir, "/tmp/bench-deadlines-XXXXXX");
    if (!mkdtemp (dir))
        return 1;
    jobd_store_t *store = NULL;
    char reason[256];
    if (jobd_store_open (dir, 0, (size_t)8 << 30, &store, reason, sizeof reason)) {
        fprintf (stderr, "bench: %s\n", reason);
        return 1;
    }
    jobd_deadline_t *deadline = NULL;
    jobd_deadline_new (NULL, &deadline, NULL, 0);
    //  Every job's QUEUED deadline a day away: stored, none due.
    jobd_deadline_set (deadline, JOBD_STATE_QUEUED, 24 * 3600 * 1000LL, NULL, -1);
    s_arm_cost (deadline, 100000);
    jobd_store_set_arm_fn (store, jobd_deadline_arm, deadline);
    printf ("filled %ld jobs (each with a deadline timer) in %.1f s\n", jobs, s_fill (store, jobs));
    jobd_store_set_arm_fn (store, NULL, NULL);

    double idle = s_watch (store, deadline, seconds);
    printf ("idle, %ld timers stored, none due:   %.4f%% of a core\n", jobs, idle * 100);

    //  Re-arm rate x seconds of them (the first jobs) due over the window to come: each fires,
    //  flags its job, publishes its stale event, in the commit that deletes its timer.
    long firing = rate * seconds;
    int64_t now = jobd_now_ms ();
    jobd_store_begin (store);
    for (long index = 0; index < firing && index < jobs; index++) {
        char id[32];
        snprintf (id, sizeof id, "job-%ld", index + 1);
        jobd_store_timer_t timers[2];
        size_t count = 0;
        jobd_store_timer_list (store, id, timers, 2, &count);
        if (count == 1)
            jobd_store_timer_set (store, id, "deadline", now + 200 + index * 1000 / rate,
                                  timers[0].value, timers[0].value_size);
    }
    if (jobd_store_commit (store))
        return 1;
    double busy = s_watch (store, deadline, seconds);
    uint64_t stale = 0;
    jobd_store_stale_count (store, &stale);
    printf ("firing %ld/s (%llu fired), %ld stored: %.4f%% of a core\n", rate,
            (unsigned long long)stale, jobs, busy * 100);
    jobd_deadline_destroy (&deadline);
    jobd_store_destroy (&store);
    double seeks = s_raw_seeks (dir);
    printf ("ceiling: raw LMDB read txn + seek to the first timer: %.0f/s (%.2f us each); the "
            "idle watchdog does none (the first due time is kept in memory)\n",
            seeks, seeks > 0 ? 1e6 / seeks : 0);
    nftw (dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
