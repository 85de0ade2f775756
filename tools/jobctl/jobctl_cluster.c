//  jobctl cluster: the cluster as this instance sees it (docs/cluster.md, section 6 "Reads"): the
//  changelog's counters and each partition, how far this instance's replica trails.
#include "jobctl_cli.h"
#include "jobctl_table.h"
#include <errno.h>
#include <inttypes.h>
#include <string.h>

static json_int_t
s_int (json_t *object, const char *key)
{
    return json_integer_value (json_object_get (object, key));
}

//  One partition's row: PARTITION, STATE, NEXT, BEHIND, LAG, ACKED, CLAIM.
static int
s_row (jobctl_table_t *table, json_t *partition)
{
    char cells[7][32];
    json_int_t behind = s_int (partition, "behind"), acked = s_int (partition, "acked");
    snprintf (cells[0], sizeof cells[0], "%" JSON_INTEGER_FORMAT, s_int (partition, "partition"));
    snprintf (cells[1], sizeof cells[1], "%" JSON_INTEGER_FORMAT, s_int (partition, "next"));
    if (behind < 0)
        snprintf (cells[2], sizeof cells[2], "?");
    else
        snprintf (cells[2], sizeof cells[2], "%" JSON_INTEGER_FORMAT, behind);
    snprintf (cells[3], sizeof cells[3], "%" JSON_INTEGER_FORMAT " ms",
              s_int (partition, "lag_ms"));
    if (acked < 0)
        snprintf (cells[4], sizeof cells[4], "-");
    else
        snprintf (cells[4], sizeof cells[4], "%" JSON_INTEGER_FORMAT, acked);
    snprintf (cells[5], sizeof cells[5], "%" JSON_INTEGER_FORMAT, s_int (partition, "claim_epoch"));
    const char *state = json_string_value (json_object_get (partition, "state"));
    snprintf (cells[6], sizeof cells[6], "%s", state ? state : "-");
    //  The state goes second: PARTITION, STATE, NEXT, ...
    static const size_t order[] = {0, 6, 1, 2, 3, 4, 5};
    int rc = jobctl_table_row (table);
    for (size_t column = 0; rc == 0 && column < 7; column++)
        rc = jobctl_table_cell (table, column, cells[order[column]],
                                order[column] == 2 && behind > 0                          ? "yellow"
                                : order[column] == 6 && state && !strcmp (state, "owned") ? "green"
                                                                                          : NULL);
    return rc;
}

static int
s_print (const jobctl_options_t *options, json_t *cluster)
{
    json_t *changelog = json_object_get (cluster, "changelog");
    printf ("cluster %s, instance %s, %" JSON_INTEGER_FORMAT " partitions\n",
            json_string_value (json_object_get (cluster, "name")),
            json_string_value (json_object_get (cluster, "instance")),
            s_int (cluster, "partitions"));
    printf ("changelog: produced %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT
            " not acked yet, %" JSON_INTEGER_FORMAT " lost), read %" JSON_INTEGER_FORMAT
            ", applied %" JSON_INTEGER_FORMAT ", published %" JSON_INTEGER_FORMAT
            ", fenced %" JSON_INTEGER_FORMAT ", bad %" JSON_INTEGER_FORMAT "\n",
            s_int (changelog, "produced"), s_int (changelog, "unacked"),
            s_int (changelog, "produce_lost"), s_int (changelog, "read"),
            s_int (changelog, "applied"), s_int (changelog, "published"),
            s_int (changelog, "fenced"), s_int (changelog, "bad"));
    json_t *forward = json_object_get (cluster, "forward");
    if (forward)
        printf ("forward: %" JSON_INTEGER_FORMAT " commands to their owners, %" JSON_INTEGER_FORMAT
                " replies relayed, %" JSON_INTEGER_FORMAT " answered ETIMEOUT\n",
                s_int (forward, "forwarded"), s_int (forward, "relayed"),
                s_int (forward, "timed_out"));
    jobctl_table_t *table = jobctl_table_new ();
    int rc = table ? 0 : -1;
    static const char *columns[] = {"PARTITION", "STATE", "NEXT", "BEHIND",
                                    "LAG",       "ACKED", "CLAIM"};
    for (size_t column = 0; rc == 0 && column < 7; column++)
        rc = jobctl_table_column (table, columns[column], 0, 0);
    size_t index;
    json_t *partition;
    json_array_foreach (json_object_get (cluster, "partition"), index, partition)
    {
        if (rc == 0)
            rc = s_row (table, partition);
    }
    if (rc == 0)
        rc = jobctl_table_print (table, stdout, options->width, options->color);
    jobctl_table_destroy (&table);
    return rc ? jobctl_fail (EXIT_FAILED, "cannot write the output: %s", strerror (errno))
              : EXIT_OK;
}

int
jobctl_cmd_cluster (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 0)
        return jobctl_usage ("cluster", "takes no arguments");
    jobctl_request_t request;
    jobctl_query_pack (&request, (jobd_request_t){.q = "cluster"});
    json_t *json = NULL;
    int code = jobctl_query_json (options, &request, &json);
    if (code)
        return code;
    json_t *cluster = json_object_get (json, "cluster");
    if (jobctl_output_json (options))
        code = jobctl_print_output_json (options, cluster ? cluster : json_null ());
    else if (!json_is_object (cluster))
        printf ("jobd runs alone: its config has no cluster section\n");
    else
        code = s_print (options, cluster);
    json_decref (json);
    return code;
}
