//  jobctl's listing commands: ls (jobs sorted, filtered and limited), stats, plugins and
//  cursors, each as a table, JSON or names.
#include "jobctl_cli.h"
#include "jobctl_jobs.h"
#include "jobctl_print.h"
#include "jobctl_table.h"
#include "jobd_error.h"
#include <errno.h>
#include <string.h>

static int s_print_stats (const jobctl_options_t *options, json_t *json);

//  stats when jobd is down: the jobs by state, from the store.
static int
s_stats_from_store (const jobctl_options_t *options)
{
    jobd_store_t *store = NULL;
    int code = jobctl_open_store (options, &store);
    if (code)
        return code;
    uint64_t counts[JOBD_STATE_COUNT] = {0};
    int rc = jobd_store_counts (store, counts);
    jobd_store_destroy (&store);
    if (rc == JOBD_ECORRUPT)
        return jobctl_damaged (options, "the state index does not read");
    if (rc)
        return jobctl_fail (EXIT_FAILED, "reading the store: %s", jobd_strerror (rc));
    json_t *json = json_object (), *by_state = json_object ();
    for (int state = JOBD_STATE_QUEUED; state < JOBD_STATE_COUNT; state++)
        json_object_set_new (by_state, jobd_state_name ((jobd_state_t)state),
                             json_integer ((json_int_t)counts[state]));
    json_object_set_new (json, "counts", by_state);
    code = s_print_stats (options, json);
    json_decref (json);
    return code;
}

//  ls: the jobs jobd holds (or the store, when jobd is down), filtered, sorted, then limited.
int
jobctl_cmd_ls (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 0)
        return jobctl_usage ("ls", "takes no arguments");
    //  The last changed first, as the http API and the dashboard: jobd walks an index and stops at
    //  the cut (-created reads every job once: 1.8 s at a million, bench_admin).
    jobd_order_t sort = {JOBD_ORDER_UPDATED, true};
    char reason[256];
    if (options->sort && jobctl_sort_parse (options->sort, &sort, reason, sizeof reason))
        return jobctl_fail (EXIT_USAGE, "ls: %s", reason);
    jobd_job_t **jobs = NULL;
    size_t count = 0;
    bool truncated = false;
    uint64_t limit = options->has_limit ? options->limit : 10000;
    int code = jobctl_jobs_fetch (options, true, options->sort ? options->sort : "-updated", limit,
                                  &jobs, &count, &truncated);
    if (code != EXIT_OK)
        return code;
    jobctl_jobs_sort (jobs, count, sort);
    size_t shown = options->has_limit && options->limit < count ? (size_t)options->limit : count;
    if (jobctl_output_json (options)) {
        json_t *array = json_array ();
        bool failed = !array;
        for (size_t index = 0; !failed && index < shown; index++)
            failed = json_array_append_new (array, jobctl_json_from_job (jobs[index])) != 0;
        code = failed ? jobctl_fail (EXIT_FAILED, "out of memory listing the jobs")
                      : jobctl_print_output_json (options, array);
        json_decref (array);
    } else if (options->output == JOBCTL_OUTPUT_NAME) {
        for (size_t index = 0; index < shown; index++)
            printf ("%s\n", jobs[index]->id);
    } else if (jobctl_jobs_table (stdout, jobs, shown, options->output == JOBCTL_OUTPUT_WIDE,
                                  jobd_now_ms (), options->width, options->color))
        code = jobctl_fail (EXIT_FAILED, "cannot write the output: %s", strerror (errno));
    //  jobd answers 10,000 at most: said when that, not --limit, cut the list.
    if (truncated && (!options->has_limit || options->limit > 10000))
        fprintf (stderr,
                 "jobctl: more than 10000 jobs match: these are the first 10000 in the order "
                 "asked; narrow it with --state, --kind, --name, --since or --limit\n");
    jobctl_jobs_free (&jobs, count);
    return code;
}

//  Prints stats (json: {"counts": {...}, "broker": {...}}, the broker's when jobd answered).
//  Returns an exit code.
static int
s_print_stats (const jobctl_options_t *options, json_t *json)
{
    if (jobctl_output_json (options))
        return jobctl_print_output_json (options, json);
    const char *key;
    json_t *value;
    if (options->output == JOBCTL_OUTPUT_NAME) {
        //  The states that hold jobs.
        json_object_foreach (json_object_get (json, "counts"), key,
                             value) if (json_integer_value (value) > 0) printf ("%s\n", key);
        return EXIT_OK;
    }
    printf ("jobs by state:\n");
    json_object_foreach (json_object_get (json, "counts"), key, value)
        printf ("  %-12s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value (value));
    json_t *broker = json_object_get (json, "broker");
    if (broker) {
        printf ("broker:\n");
        json_object_foreach (broker, key, value)
        {
            //  A time (started_at) as a time, never as ms since the epoch.
            char when[48];
            size_t length = strlen (key);
            if (length > 3 && strcmp (key + length - 3, "_at") == 0)
                printf ("  %-16s %s\n", key,
                        jobctl_format_time (json_integer_value (value), when, sizeof when));
            else
                printf ("  %-16s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value (value));
        }
    }
    return EXIT_OK;
}

int
jobctl_cmd_stats (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 0)
        return jobctl_usage ("stats", "takes no arguments");
    jobctl_request_t request;
    jobctl_query_pack (&request, (jobd_request_t){.q = "stats"});
    json_t *json = NULL;
    int code = jobctl_query_json (options, &request, &json);
    if (code == EXIT_UNREACHABLE)
        return s_stats_from_store (options);
    if (code == EXIT_OK)
        code = s_print_stats (options, json);
    json_decref (json);
    return code;
}

//  A plugin status's colour: green running, red failed, yellow otherwise.
static const char *
s_status_color (const char *status)
{
    return !status                           ? NULL
           : strcmp (status, "running") == 0 ? "green"
           : strcmp (status, "failed") == 0  ? "red"
                                             : "yellow";
}

int
jobctl_cmd_plugins (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 0)
        return jobctl_usage ("plugins", "takes no arguments");
    jobctl_request_t request;
    jobctl_query_pack (&request, (jobd_request_t){.q = "plugins"});
    json_t *json = NULL;
    int code = jobctl_query_json (options, &request, &json);
    if (code)
        return code;
    json_t *plugins = json_object_get (json, "plugins");
    size_t index;
    json_t *plugin;
    if (jobctl_output_json (options))
        code = jobctl_print_output_json (options, plugins); //  the array itself
    else if (options->output == JOBCTL_OUTPUT_NAME) {
        json_array_foreach (plugins, index, plugin)
            printf ("%s\n", json_string_value (json_object_get (plugin, "name")));
    } else {
        jobctl_table_t *table = jobctl_table_new ();
        int rc = table ? 0 : -1;
        rc = rc ? rc : jobctl_table_column (table, "NAME", 0, 0);
        rc = rc ? rc : jobctl_table_column (table, "VERSION", 0, 0);
        rc = rc ? rc : jobctl_table_column (table, "STATUS", 0, 0);
        rc = rc ? rc : jobctl_table_column (table, "DETAIL", 0.6, JOBCTL_COLUMN_CUT);
        json_array_foreach (plugins, index, plugin)
        {
            const char *status = json_string_value (json_object_get (plugin, "status"));
            rc = rc ? rc : jobctl_table_row (table);
            rc = rc ? rc
                    : jobctl_table_cell (
                          table, 0, json_string_value (json_object_get (plugin, "name")), NULL);
            rc = rc ? rc
                    : jobctl_table_cell (
                          table, 1, json_string_value (json_object_get (plugin, "version")), NULL);
            rc = rc ? rc : jobctl_table_cell (table, 2, status, s_status_color (status));
            rc = rc ? rc
                    : jobctl_table_cell (
                          table, 3, json_string_value (json_object_get (plugin, "detail")), NULL);
        }
        //  wide: the detail whole (it names each backend's state).
        if (rc == 0)
            rc = jobctl_table_print (table, stdout,
                                     options->output == JOBCTL_OUTPUT_WIDE ? 0 : options->width,
                                     options->color);
        jobctl_table_destroy (&table);
        if (rc)
            code = jobctl_fail (EXIT_FAILED, "cannot write the output: %s", strerror (errno));
    }
    json_decref (json);
    return code;
}

//  cursors: the list; cursors drop NAME: remove one.
int
jobctl_cmd_cursors (const jobctl_options_t *options, int argc, char **argv)
{
    bool drop = argc == 2 && strcmp (argv[0], "drop") == 0;
    if (argc != 0 && !drop)
        return jobctl_usage ("cursors", "expected nothing, or drop NAME");
    jobctl_request_t request;
    jobctl_query_pack (&request, (jobd_request_t){.q = drop ? "drop_cursor" : "cursors",
                                                  .name = drop ? argv[1] : NULL});
    json_t *json = NULL;
    int code = jobctl_query_json (options, &request, &json);
    if (code)
        return code;
    json_t *cursors = json_object_get (json, "cursors");
    size_t index = 0;
    json_t *cursor;
    if (drop) {
        if (jobctl_output_json (options))
            code = jobctl_print_output_json (options, json);
        else if (options->output == JOBCTL_OUTPUT_NAME)
            printf ("%s\n", argv[1]);
        else
            printf ("cursor %s removed\n", argv[1]);
    } else if (jobctl_output_json (options))
        code = jobctl_print_output_json (options, cursors); //  the array itself
    else if (options->output == JOBCTL_OUTPUT_NAME) {
        json_array_foreach (cursors, index, cursor)
            printf ("%s\n", json_string_value (json_object_get (cursor, "name")));
    } else {
        int64_t now = jobd_now_ms ();
        jobctl_table_t *table = jobctl_table_new ();
        int rc = table ? 0 : -1;
        //  A cluster partition reader's cursor names its partition (changelog offsets), in a
        //  last column that only a cluster's list has; "-": the transition log's.
        bool partitions = false;
        json_array_foreach (cursors, index, cursor) partitions |=
            json_is_integer (json_object_get (cursor, "partition"));
        rc = rc ? rc : jobctl_table_column (table, "NAME", 0.5, JOBCTL_COLUMN_CUT);
        rc = rc ? rc : jobctl_table_column (table, "POSITION", 0, JOBCTL_COLUMN_RIGHT);
        rc = rc ? rc : jobctl_table_column (table, "BEHIND", 0, JOBCTL_COLUMN_RIGHT);
        rc = rc ? rc : jobctl_table_column (table, "MOVED", 0, JOBCTL_COLUMN_RIGHT);
        if (partitions)
            rc = rc ? rc : jobctl_table_column (table, "PARTITION", 0, JOBCTL_COLUMN_RIGHT);
        json_array_foreach (cursors, index, cursor)
        {
            char position[24], behind[24], moved[16], partition[16] = "-";
            json_t *part = json_object_get (cursor, "partition");
            if (json_is_integer (part))
                snprintf (partition, sizeof partition, "%" JSON_INTEGER_FORMAT,
                          json_integer_value (part));
            snprintf (position, sizeof position, "%" JSON_INTEGER_FORMAT,
                      json_integer_value (json_object_get (cursor, "position")));
            snprintf (behind, sizeof behind, "%" JSON_INTEGER_FORMAT,
                      json_integer_value (json_object_get (cursor, "behind")));
            jobctl_format_age (json_integer_value (json_object_get (cursor, "moved_at")), now,
                               moved, sizeof moved);
            rc = rc ? rc : jobctl_table_row (table);
            rc = rc ? rc
                    : jobctl_table_cell (
                          table, 0, json_string_value (json_object_get (cursor, "name")), NULL);
            rc = rc ? rc : jobctl_table_cell (table, 1, position, NULL);
            rc = rc ? rc : jobctl_table_cell (table, 2, behind, NULL);
            rc = rc ? rc : jobctl_table_cell (table, 3, moved, NULL);
            if (partitions)
                rc = rc ? rc : jobctl_table_cell (table, 4, partition, NULL);
        }
        if (rc == 0)
            rc = jobctl_table_print (table, stdout, options->width, options->color);
        jobctl_table_destroy (&table);
        if (rc)
            code = jobctl_fail (EXIT_FAILED, "cannot write the output: %s", strerror (errno));
    }
    if (!drop && json_is_true (json_object_get (json, "truncated")))
        fprintf (stderr, "jobctl: list truncated at %zu cursors\n", json_array_size (cursors));
    json_decref (json);
    return code;
}
