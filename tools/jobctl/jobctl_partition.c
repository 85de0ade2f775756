//  jobctl partition: which partition of a cluster's jobs topic a job id belongs to, or the job a
//  backend knows by its own id (docs/cluster.md section 3, proto/README.md "Routing"). Needs no
//  jobd.
#include "jobctl_cli.h"
#include "jobctl_print.h"
#include "jobd_error.h"
#include "jobd_route.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

//  The partition count of the jobs topic when none is given (cluster/partitions' default).
#define S_PARTITIONS_DEFAULT 32

int
jobctl_cmd_partition (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc < 1 || argc > 2)
        return jobctl_usage ("partition",
                             "expected an ID (EXT with --backend) and at most a partition count N");
    const char *id = argv[0];
    long partitions = S_PARTITIONS_DEFAULT;
    if (argc == 2) {
        char *end;
        errno = 0;
        partitions = strtol (argv[1], &end, 10);
        if (errno || end == argv[1] || *end || partitions < 1 ||
            partitions > JOBD_ROUTE_PARTITIONS_MAX) {
            char what[160];
            snprintf (what, sizeof what, "N '%.40s' is not a partition count (1 to %d)", argv[1],
                      JOBD_ROUTE_PARTITIONS_MAX);
            return jobctl_usage ("partition", what);
        }
    }
    //  --backend: ID is the backend's own id of the job, which names it (job-x...).
    char derived[JOBD_ROUTE_ID_SIZE];
    if (options->backend) {
        int rc = jobd_route_derived_id (options->backend, id, derived, sizeof derived);
        if (rc == JOBD_ETOOBIG) {
            char what[96];
            snprintf (what, sizeof what, "EXT or --backend is longer than %d bytes",
                      JOBD_ROUTE_KEY_MAX);
            return jobctl_usage ("partition", what);
        }
        if (rc == -EINVAL)
            return jobctl_usage ("partition", "EXT and --backend must not be empty");
        if (rc)
            return jobctl_fail (EXIT_FAILED, "partition: %s", jobd_strerror (rc));
        id = derived;
    }
    int partition = jobd_route_partition (id, partitions);
    if (partition == JOBD_ETOOBIG) {
        char what[96];
        snprintf (what, sizeof what, "ID is longer than %d bytes", JOBD_ROUTE_KEY_MAX);
        return jobctl_usage ("partition", what);
    }
    if (partition < 0)
        return jobctl_fail (EXIT_FAILED, "partition: %s", jobd_strerror (partition));
    if (jobctl_output_json (options)) {
        json_t *answer = options->backend
                             ? json_pack ("{s:s, s:i, s:I, s:s, s:s}", "job", id, "partition",
                                          partition, "partitions", (json_int_t)partitions,
                                          "backend", options->backend, "ext", argv[0])
                             : json_pack ("{s:s, s:i, s:I}", "job", id, "partition", partition,
                                          "partitions", (json_int_t)partitions);
        if (!answer) //  jansson takes UTF-8 only; the partition was of the bytes as given
            return jobctl_fail (EXIT_FAILED, "partition: not UTF-8: no JSON for it (%d)",
                                partition);
        int code = jobctl_print_json (stdout, answer) ? EXIT_FAILED : EXIT_OK;
        json_decref (answer);
        return code;
    }
    if (options->output == JOBCTL_OUTPUT_NAME)
        printf ("%s\n", id);
    else
        printf ("%d\n", partition);
    return EXIT_OK;
}
