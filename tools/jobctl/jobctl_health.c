//  jobctl health: whether every plugin and its backends are fine, for probes and scripts. Exit 0
//  all fine, 1 a plugin or backend is not (one line each, with why), 3 jobd is not reachable.
#include "jobctl_cli.h"
#include "jobctl_print.h"
#include <string.h>

//  A plugin's status that is fine: "running". Anything else ("starting", "degraded", "failed",
//  "stopped") is a problem for a probe: jobd does not do all its work.
static bool
s_fine (const char *status)
{
    //  A plugin the operator disabled is as asked, not a problem a probe should report.
    return status && (strcmp (status, "running") == 0 || strcmp (status, "disabled") == 0);
}

static size_t
s_running (json_t *plugins)
{
    size_t count = 0, index;
    json_t *plugin;
    json_array_foreach (plugins, index, plugin)
    {
        const char *status = json_string_value (json_object_get (plugin, "status"));
        count += status && strcmp (status, "running") == 0;
    }
    return count;
}

int
jobctl_cmd_health (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 0)
        return jobctl_fail (EXIT_USAGE, "health: takes no arguments (see jobctl health --help)");
    jobctl_request_t request;
    jobctl_query_pack (&request, (jobd_request_t){.q = "plugins"});
    json_t *json = NULL;
    int code = jobctl_query_json (options, &request, &json);
    if (code == EXIT_NOTFOUND)
        code = EXIT_FAILED;
    if (code != EXIT_OK) {
        if (jobctl_output_json (options)) {
            //  Still one answer for a script: why not.
            json_t *down = json_pack ("{s:b, s:s}", "healthy", 0, "problem",
                                      code == EXIT_UNREACHABLE ? "jobd is not reachable"
                                      : code == EXIT_DENIED    ? "permission denied"
                                                               : "jobd refused the query");
            jobctl_print_json (stdout, down);
            json_decref (down);
        }
        return code;
    }
    json_t *plugins = json_object_get (json, "plugins");
    json_t *problems = json_array ();
    size_t index;
    json_t *plugin;
    json_array_foreach (plugins, index, plugin)
    {
        const char *status = json_string_value (json_object_get (plugin, "status"));
        if (s_fine (status))
            continue;
        json_array_append (problems, plugin);
    }
    bool healthy = json_array_size (problems) == 0;
    if (jobctl_output_json (options)) {
        json_t *answer = json_pack ("{s:b, s:I, s:O}", "healthy", healthy, "plugins",
                                    (json_int_t)json_array_size (plugins), "problems", problems);
        if (jobctl_print_json (stdout, answer))
            code = EXIT_FAILED;
        json_decref (answer);
    } else if (options->output == JOBCTL_OUTPUT_NAME) {
        json_array_foreach (problems, index, plugin)
            printf ("%s\n", json_string_value (json_object_get (plugin, "name")));
    } else if (healthy)
        printf ("ok: %zu plugins running\n", s_running (plugins));
    else {
        //  One line a problem: the plugin, its status, and its detail (which names the
        //  backends that fail: spark-poller's "livy: down since ...", kafka-listener's
        //  "brokers up 0/3").
        json_array_foreach (problems, index, plugin)
        {
            const char *detail = json_string_value (json_object_get (plugin, "detail"));
            printf ("plugin %s is %s%s%.*s\n", json_string_value (json_object_get (plugin, "name")),
                    json_string_value (json_object_get (plugin, "status")),
                    detail && *detail ? ": " : "", detail ? (int)strcspn (detail, "\n") : 0,
                    detail ? detail : "");
        }
    }
    json_decref (problems);
    json_decref (json);
    if (code == EXIT_OK && !healthy)
        code = EXIT_FAILED;
    return code;
}
