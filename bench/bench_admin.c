//  Benchmark (not a test): the admin queries that got smarter in issue 17, against the real jobd
//  with JOBS jobs stored and the demo plugin running (plus the other plugins jobd finds).
//  1. `plugins` (the broker asks every running plugin for its status and waits for the answers)
//     next to `stats` (answered at once from the broker's counters: the ceiling): latency p50,
//     p99 over ROUNDS queries each, interleaved.
//  2. `ls` with limit 5: unsorted (the first 5 in the store's order: the ceiling), sorted by
//     -updated (a walk of the by_updated index that stops at the cut) and by -created (every job
//     read once, the best 5 kept): latency p50 over ROUNDS/10 queries each.
//  Usage: bench_admin [JOBS [ROUNDS]]  (default 1000000, 200)
#include "bench_util.h"
#include "jobd_map.h"
#include "jobd_request.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static harness_t s_harness;

//  One query's time in ms (the process exits when jobd does not answer or refuses it).
static double
s_query (const jobd_request_t *request)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    jobd_request_pack (request, &pk);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    double start = bench_seconds ();
    if (harness_request (&s_harness, buffer.data, buffer.size, &reply, 60000)) {
        fprintf (stderr, "bench: no answer to %s\n", request->q);
        exit (1);
    }
    double ms = (bench_seconds () - start) * 1000;
    const msgpack_object *ok = jobd_map_lookup (&reply.data, "ok");
    if (!ok || !ok->via.boolean) {
        char reason[256] = "";
        jobd_map_string (&reply.data, "reason", reason, sizeof reason);
        fprintf (stderr, "bench: %s refused: %s\n", request->q, reason);
        exit (1);
    }
    msgpack_unpacked_destroy (&reply);
    msgpack_sbuffer_destroy (&buffer);
    return ms;
}

//  rounds of each request, interleaved; prints p50 and p99 of each.
static void
s_compare (const char *title, const jobd_request_t *requests, const char *const *names,
           size_t count, int rounds)
{
    double *times[8];
    for (size_t index = 0; index < count; index++)
        times[index] = (double *)calloc ((size_t)rounds, sizeof (double));
    for (int round = 0; round < rounds; round++)
        for (size_t index = 0; index < count; index++)
            times[index][round] = s_query (&requests[index]);
    printf ("%s (%d rounds, interleaved)\n", title, rounds);
    double ceiling = 0;
    for (size_t index = 0; index < count; index++) {
        double p50 = bench_percentile (times[index], (size_t)rounds, 0.5);
        double p99 = bench_percentile (times[index], (size_t)rounds, 0.99);
        if (index == 0)
            ceiling = p50;
        printf ("  %-34s p50 %9.3f ms  p99 %9.3f ms  (p50 %.1fx the first)\n", names[index], p50,
                p99, ceiling > 0 ? p50 / ceiling : 0);
        free (times[index]);
    }
}

int
main (int argc, char **argv)
{
    long jobs = argc > 1 ? atol (argv[1]) : 1000000;
    int rounds = argc > 2 ? atoi (argv[2]) : 200;
    if (jobs < 0 || rounds < 10) {
        fprintf (stderr, "usage: bench_admin [JOBS [ROUNDS]]  (ROUNDS at least 10)\n");
        return 2;
    }
    harness_init (&s_harness, "bench-admin");
    char config[512];
    snprintf (config, sizeof config,
              "    map_size = 8GiB\n"
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "    retry\n"
              "        path = %s/plugins/retry.so\n"
              "    notifier\n"
              "        path = %s/plugins/notifier.so\n",
              harness_build_dir (), harness_build_dir (), harness_build_dir ());
    harness_write_config (&s_harness, "");
    //  The core section is the harness's: map_size goes under it.
    FILE *file = fopen (s_harness.config, "a");
    fputs (config, file);
    fclose (file);
    bench_fill (&s_harness, jobs);
    if (harness_start (&s_harness) <= 0 || !harness_wait_ready (&s_harness, 120000)) {
        fprintf (stderr, "bench: jobd did not start (log: %s)\n", s_harness.log);
        return 1;
    }
    const jobd_request_t status[] = {{.q = "stats"}, {.q = "plugins"}};
    const char *const status_names[] = {"stats (answered at once)", "plugins (3 plugins asked)"};
    s_compare ("status", status, status_names, 2, rounds);
    const jobd_request_t ls[] = {
        {.q = "ls", .has_limit = true, .limit = 5},
        {.q = "ls", .has_limit = true, .limit = 5, .sort = "-updated"},
        {.q = "ls", .has_limit = true, .limit = 5, .sort = "-created"},
    };
    const char *const ls_names[] = {"ls limit 5, store order", "ls limit 5, -updated (index)",
                                    "ls limit 5, -created (one pass)"};
    printf ("%ld jobs stored\n", jobs);
    s_compare ("ls", ls, ls_names, 3, rounds / 10);
    harness_stop (&s_harness, SIGTERM, 60000);
    harness_fini (&s_harness);
    return 0;
}
