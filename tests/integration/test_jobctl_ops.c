//  jobctl as an operator uses it (issue 17): ls sorted, filtered and limited as asked; every
//  table and watch line within 80 columns; one JSON shape per object in ls, show and watch;
//  per-command help and one-line usage errors; watch with jobd down; health's exit codes; jobd
//  found from another folder. The real jobd, the demo plugin, the real jobctl.
#include "harness.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "../store_fill.h"
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static harness_t s_harness;
static char s_out[262144], s_err[16384];

//  The demo plugin: jobs move every 100 ms; every second one fails. extra: more plugins.
static void
s_config (const char *extra)
{
    char text[2048];
    snprintf (text, sizeof text,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        step = 100ms\n"
              "        fail_every = 2\n"
              "%s",
              harness_build_dir (), extra);
    harness_write_config (&s_harness, text);
}

static int
s_setup (void **state)
{
    harness_init (&s_harness, "jobctl-ops");
    s_config ("");
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  Runs "jobctl --run-dir RUN --store STORE <rest>" through sh (for environment variables,
//  redirections, another folder: prefix is put before jobctl, e.g. "cd / && COLUMNS=80").
//  Returns its exit code; its output in s_out and s_err.
static int
s_sh (const char *prefix, bool where, const char *rest)
{
    char relative[512], binary[PATH_MAX], line[4096];
    //  Absolute: the command may run in another folder.
    if (!realpath (harness_bin ("jobctl", relative, sizeof relative), binary))
        fail_msg ("no jobctl at %s", relative);
    if (where)
        snprintf (line, sizeof line, "%s '%s' --run-dir '%s' --store '%s' %s", prefix, binary,
                  s_harness.run_dir, s_harness.store, rest);
    else
        snprintf (line, sizeof line, "%s '%s' %s", prefix, binary, rest);
    char *argv[] = {"/bin/sh", "-c", line, NULL};
    return harness_run (argv, s_out, sizeof s_out, s_err, sizeof s_err, 20000);
}

static int
s_jobctl (const char *rest)
{
    return s_sh ("", true, rest);
}

//  Fails when a line of text is longer than width bytes.
static void
s_assert_fits (const char *text, size_t width)
{
    for (const char *line = text; *line;) {
        size_t length = strcspn (line, "\n");
        if (length > width)
            fail_msg ("a line of %zu bytes: '%.*s'", length, (int)length, line);
        line += length + (line[length] == '\n');
    }
}

static json_t *
s_json (const char *text)
{
    json_error_t error;
    json_t *value = json_loads (text, 0, &error);
    if (!value)
        fail_msg ("not JSON (%s): '%s'", error.text, text);
    return value;
}

//  Submits count demo jobs with a long name; waits until they have all ended.
static void
s_submit (int count)
{
    char spec[400], rest[600];
    snprintf (spec, sizeof spec, "%s/spec.json", s_harness.dir);
    FILE *file = fopen (spec, "w");
    fputs ("{\"name\": \"nightly-orders-aggregation-for-the-emea-region-of-the-warehouse\", "
           "\"kind\": \"demo\", \"backend\": \"demo\", \"demo\": true}",
           file);
    fclose (file);
    snprintf (rest, sizeof rest, "submit '%s'", spec);
    int64_t before = harness_count (&s_harness, JOBD_STATE_SUCCEEDED) +
                     harness_count (&s_harness, JOBD_STATE_FAILED);
    for (int index = 0; index < count; index++)
        assert_int_equal (s_jobctl (rest), 0);
    int64_t deadline = zclock_mono () + 20000;
    while (harness_count (&s_harness, JOBD_STATE_SUCCEEDED) +
                   harness_count (&s_harness, JOBD_STATE_FAILED) <
               before + count &&
           zclock_mono () < deadline)
        harness_wait_count (&s_harness, JOBD_STATE_SUCCEEDED,
                            harness_count (&s_harness, JOBD_STATE_SUCCEEDED) + 1, 200);
    assert_int_equal (harness_count (&s_harness, JOBD_STATE_SUCCEEDED) +
                          harness_count (&s_harness, JOBD_STATE_FAILED),
                      before + count);
}

//  Runs "env jobctl ls" on a terminal of 80 columns (script(1), util-linux: Debian's bsdutils,
//  always installed). Returns its exit code; what the terminal got in s_out.
static int
s_terminal (const char *env)
{
    char binary[512], line[2048];
    snprintf (line, sizeof line,
              "script -qec \"%s COLUMNS=80 '%s' --run-dir '%s' --store '%s' ls\" /dev/null", env,
              harness_bin ("jobctl", binary, sizeof binary), s_harness.run_dir, s_harness.store);
    char *argv[] = {"/bin/sh", "-c", line, NULL};
    return harness_run (argv, s_out, sizeof s_out, s_err, sizeof s_err, 20000);
}

static void
test_ls_sorts_filters_limits_and_fits (void **state)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    s_submit (12);
    //  Natural order (job-2 before job-10), --limit after sorting.
    assert_int_equal (s_jobctl ("ls --sort id --limit 3 -o name"), 0);
    assert_string_equal (s_out, "job-1\njob-2\njob-3\n");
    assert_int_equal (s_jobctl ("ls --sort -id --limit 2 -o name"), 0);
    assert_string_equal (s_out, "job-12\njob-11\n");
    //  Newest first by default.
    assert_int_equal (s_jobctl ("ls --limit 3 -o name"), 0);
    assert_string_equal (s_out, "job-12\njob-11\njob-10\n");
    //  --state in any case, with --since; --until before them all: none.
    assert_int_equal (s_jobctl ("ls --state failed --since 1h --sort id -o name"), 0);
    assert_string_equal (s_out, "job-2\njob-4\njob-6\njob-8\njob-10\njob-12\n");
    assert_int_equal (s_jobctl ("ls --state FAILED,succeeded --until 2000-01-01 -o name"), 0);
    assert_string_equal (s_out, "");
    assert_int_equal (s_jobctl ("ls --since 2000-01-01T00:00:00Z --sort id --limit 1 -o name"), 0);
    assert_string_equal (s_out, "job-1\n");
    //  At 80 columns nothing is longer: the long name and the cause are cut, with "...".
    assert_int_equal (s_sh ("LC_ALL=C COLUMNS=80", true, "ls"), 0);
    s_assert_fits (s_out, 80);
    assert_non_null (strstr (s_out, "AGE DURATION NAME"));
    assert_non_null (strstr (s_out, "nightly-"));
    assert_non_null (strstr (s_out, "..."));
    assert_null (strstr (s_out, "warehouse"));
    assert_int_equal (s_sh ("LC_ALL=C COLUMNS=80", true, "ls -o wide"), 0);
    s_assert_fits (s_out, 80);
    assert_int_equal (s_sh ("LC_ALL=C COLUMNS=80", true, "plugins"), 0);
    s_assert_fits (s_out, 80);
    assert_non_null (strstr (s_out, "demo"));
    //  A pipe without COLUMNS: nothing cut.
    assert_int_equal (s_sh ("LC_ALL=C", true, "ls -o wide 2>&1 | cat"), 0);
    assert_non_null (strstr (s_out, "warehouse"));
    assert_null (strstr (s_out, "\033[")); //  no colour off a terminal
    //  On a terminal (script(1) gives jobctl one): colour, but never with NO_COLOR.
    assert_int_equal (s_terminal (""), 0);
    assert_non_null (strstr (s_out, "\033["));
    assert_non_null (strstr (s_out, "SUCCEEDED"));
    assert_int_equal (s_terminal ("NO_COLOR=1"), 0);
    assert_null (strstr (s_out, "\033["));
    assert_non_null (strstr (s_out, "SUCCEEDED"));
}

//  Every key of a transition as the kafka-listener's outbound topic has it, and "from".
static void
s_assert_transition_shape (json_t *transition)
{
    assert_string_equal (json_string_value (json_object_get (transition, "type")), "transition");
    assert_true (json_is_string (json_object_get (transition, "from")));
    assert_true (json_is_string (json_object_get (transition, "job")));
    assert_true (json_is_string (json_object_get (transition, "state")));
    assert_true (json_is_integer (json_object_get (transition, "seq")));
    assert_true (json_is_integer (json_object_get (transition, "ts")));
    assert_null (json_object_get (transition, "v")); //  no bus envelope
    assert_null (json_object_get (transition, "id"));
}

//  Runs "prefix jobctl watch options --count 4" until the current states are out (the last
//  one holds last), then submits a job and waits for watch to see its 4 changes and end.
//  Returns the finished watch (free it).
static harness_proc_t *
s_watch (const char *prefix, const char *options, const char *last)
{
    char binary[512], line[2048];
    snprintf (line, sizeof line, "%s '%s' --run-dir '%s' watch %s --count 4", prefix,
              harness_bin ("jobctl", binary, sizeof binary), s_harness.run_dir, options);
    char *argv[] = {"/bin/sh", "-c", line, NULL};
    harness_proc_t *watch = (harness_proc_t *)calloc (1, sizeof (harness_proc_t));
    assert_int_equal (harness_spawn (watch, argv), 0);
    assert_true (harness_proc_wait_err (watch, "watching", 10000));
    assert_true (harness_proc_wait_out (watch, last, 10000));
    s_submit (1);
    assert_int_equal (harness_proc_finish (watch, 20000), 0);
    return watch;
}

static void
test_one_json_shape (void **state)
{
    //  ls: an array of jobs, spec an object; show: the same job object, and its history.
    assert_int_equal (s_jobctl ("ls --state FAILED --sort id -o json"), 0);
    json_t *list = s_json (s_out);
    assert_int_equal (json_array_size (list), 6);
    json_t *listed = json_array_get (list, 0);
    assert_string_equal (json_string_value (json_object_get (listed, "id")), "job-2");
    json_t *spec = json_object_get (listed, "spec");
    assert_true (json_is_object (spec));
    assert_string_equal (json_string_value (json_object_get (spec, "kind")), "demo");
    assert_int_equal (s_jobctl ("show job-2 -o json"), 0);
    json_t *shown = s_json (s_out);
    assert_true (json_equal (listed, json_object_get (shown, "job")));
    json_t *history = json_object_get (shown, "history");
    assert_int_equal (json_array_size (history), 4);
    s_assert_transition_shape (json_array_get (history, 0));
    assert_string_equal (json_string_value (json_object_get (json_array_get (history, 0), "from")),
                         "NONE");
    //  jsonl: one job a line.
    assert_int_equal (s_jobctl ("ls -o jsonl"), 0);
    size_t lines = 0;
    for (char *line = strtok (s_out, "\n"); line; line = strtok (NULL, "\n"), lines++) {
        json_t *job = s_json (line);
        assert_true (json_is_object (job));
        json_decref (job);
    }
    assert_int_equal (lines, 12);
    //  No wire envelope in stats and plugins.
    assert_int_equal (s_jobctl ("stats --json"), 0);
    json_t *stats = s_json (s_out);
    assert_null (json_object_get (stats, "v"));
    assert_null (json_object_get (stats, "ok"));
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (stats, "counts"), "FAILED")), 6);
    assert_int_equal (s_jobctl ("plugins -o json"), 0);
    json_t *plugins = s_json (s_out);
    assert_true (json_is_array (plugins));
    assert_string_equal (json_string_value (json_object_get (json_array_get (plugins, 0), "name")),
                         "demo");

    //  watch: the current states first (type "current"), then the changes, each with "from",
    //  each the same object as the job's history in show.
    harness_proc_t *watch = s_watch ("", "-o jsonl", "\"job\":\"job-12\"");
    assert_int_equal (s_jobctl ("show job-13 -o json"), 0);
    json_t *shown13 = s_json (s_out);
    json_t *history13 = json_object_get (shown13, "history");
    size_t currents = 0, changes = 0;
    for (char *text = strtok (watch->out, "\n"); text; text = strtok (NULL, "\n")) {
        json_t *object = s_json (text);
        const char *type = json_string_value (json_object_get (object, "type"));
        assert_true (json_object_get (object, "from") != NULL);
        if (strcmp (type, "current") == 0) {
            assert_int_equal (changes, 0); //  all before the first change
            currents++;
        } else {
            s_assert_transition_shape (object);
            assert_true (json_equal (object, json_array_get (history13, changes)));
            changes++;
        }
        json_decref (object);
    }
    assert_int_equal (currents, 12);
    assert_int_equal (changes, 4);
    free (watch);
    json_decref (shown13);
    json_decref (plugins);
    json_decref (stats);
    json_decref (shown);
    json_decref (list);
}

static void
test_watch_lines_fit (void **state)
{
    harness_proc_t *watch = s_watch ("LC_ALL=C COLUMNS=80", "", "job-13");
    s_assert_fits (watch->out, 80);
    assert_non_null (strstr (watch->out, "(current)"));
    assert_non_null (strstr (watch->out, "-> QUEUED"));
    assert_non_null (strstr (watch->out, "..."));
    free (watch);
}

static void
test_help_and_usage_errors (void **state)
{
    assert_int_equal (s_jobctl ("--help"), 0);
    s_assert_fits (s_out, 80);
    assert_int_equal (s_jobctl ("ls --help"), 0);
    assert_memory_equal (s_out, "Usage: jobctl ls ", 17);
    s_assert_fits (s_out, 80);
    assert_non_null (strstr (s_out, "--since"));
    assert_int_equal (s_jobctl ("watch --help"), 0);
    assert_memory_equal (s_out, "Usage: jobctl watch ", 20);
    assert_int_equal (s_jobctl ("help health"), 0);
    assert_memory_equal (s_out, "Usage: jobctl health", 20);
    assert_non_null (strstr (s_out, "3: jobd is not reachable"));
    //  One line naming what is wrong, exit 2.
    assert_int_equal (s_jobctl ("ls --bogus"), 2);
    assert_string_equal (s_err, "jobctl: unknown option '--bogus' (see jobctl --help)\n");
    assert_int_equal (s_jobctl ("ls --count 3"), 2);
    assert_string_equal (s_err, "jobctl: ls: unknown option '--count' (see jobctl ls --help)\n");
    assert_int_equal (s_jobctl ("ls --state FAILD"), 2);
    assert_non_null (strstr (s_err, "--state 'FAILD': not a state"));
    assert_int_equal (s_jobctl ("ls --since yesterday"), 2);
    assert_non_null (strstr (s_err, "'yesterday' is not a time"));
    assert_int_equal (s_jobctl ("ls -o xml"), 2);
    assert_string_equal (s_err, "jobctl: -o 'xml': expected table, wide, json, jsonl or name\n");
    assert_int_equal (s_jobctl ("ls --sort size"), 2);
    assert_non_null (strstr (s_err, "--sort 'size'"));
    assert_int_equal (s_sh ("cd / &&", true, "submit missing.json"), 2);
    assert_string_equal (s_err, "jobctl: missing.json: No such file or directory\n");
}

static void
test_health_exit_codes (void **state)
{
    //  All fine: 0.
    assert_int_equal (s_jobctl ("health"), 0);
    assert_non_null (strstr (s_out, "ok: 1 plugins running"));
    assert_int_equal (s_jobctl ("health -o json"), 0);
    json_t *json = s_json (s_out);
    assert_true (json_is_true (json_object_get (json, "healthy")));
    json_decref (json);
    //  jobd down: 3.
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    assert_int_equal (s_jobctl ("health"), 3);
    assert_non_null (strstr (s_err, "jobd is not running"));
    //  A plugin that failed to start: 1, with its name and why.
    s_config ("    failinit\n");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    assert_int_equal (s_jobctl ("health"), 1);
    assert_non_null (strstr (s_out, "plugin failinit is failed: "));
    assert_null (strstr (s_out, "plugin demo"));
    assert_int_equal (s_jobctl ("health -o name"), 1);
    assert_string_equal (s_out, "failinit\n");
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    //  A plugin the operator disabled is as asked: 0.
    s_config ("    failinit\n        enabled = false\n");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    assert_int_equal (s_jobctl ("health"), 0);
    assert_non_null (strstr (s_out, "ok: 1 plugins running"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    s_config ("");
}

static void
test_watch_with_jobd_down (void **state)
{
    //  jobd is down: watch says so at once, exit 3.
    int64_t started = zclock_mono ();
    assert_int_equal (s_jobctl ("watch"), 3);
    assert_true (zclock_mono () - started < 3000);
    assert_non_null (strstr (s_err, "jobd is not running"));
    assert_non_null (strstr (s_err, "--wait"));
    //  --wait: it waits, and goes on once jobd is there.
    char binary[512];
    char *argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                    "--run-dir",
                    s_harness.run_dir,
                    "watch",
                    "--wait",
                    "--count",
                    "1",
                    NULL};
    harness_proc_t *watch = (harness_proc_t *)calloc (1, sizeof (harness_proc_t));
    assert_int_equal (harness_spawn (watch, argv), 0);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_proc_wait_err (watch, "watching", 20000));
    assert_true (harness_wait_ready (&s_harness, 10000));
    s_submit (1);
    assert_int_equal (harness_proc_finish (watch, 20000), 0);
    assert_non_null (strstr (watch->out, "job-15"));
    //  jobd goes away while watched: said; it comes back: its states again, then its changes.
    free (watch);
    watch = (harness_proc_t *)calloc (1, sizeof (harness_proc_t));
    assert_int_equal (harness_spawn (watch, argv), 0);
    assert_true (harness_proc_wait_err (watch, "watching", 10000));
    assert_true (harness_proc_wait_out (watch, "job-15", 10000)); //  its current states
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    assert_true (harness_proc_wait_err (watch, "went away; waiting for it", 10000));
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_proc_wait_err (watch, "jobd is back", 20000));
    s_submit (1);
    assert_int_equal (harness_proc_finish (watch, 20000), 0);
    assert_non_null (strstr (watch->out, "job-16"));
    free (watch);
}

static void
test_jobd_found_from_another_folder (void **state)
{
    char prefix[1024];
    //  jobd's config, by -c and by JOBD_CONFIG: its core/run_dir.
    char rest[600];
    snprintf (rest, sizeof rest, "-c '%s' stats -o name", s_harness.config);
    assert_int_equal (s_sh ("cd / &&", false, rest), 0);
    assert_non_null (strstr (s_out, "FAILED\n"));
    snprintf (prefix, sizeof prefix, "cd / && JOBD_CONFIG='%s'", s_harness.config);
    assert_int_equal (s_sh (prefix, false, "ls --limit 1 -o name"), 0);
    assert_string_equal (s_out, "job-16\n");
    snprintf (prefix, sizeof prefix, "cd / && JOBD_RUN_DIR='%s'", s_harness.run_dir);
    assert_int_equal (s_sh (prefix, false, "health"), 0);
    //  A config jobctl cannot use is said, with its name.
    snprintf (prefix, sizeof prefix, "cd / && JOBD_CONFIG=/nonexistent/jobd.cfg");
    assert_int_equal (s_sh (prefix, false, "stats"), 2);
    assert_non_null (strstr (s_err, "/nonexistent/jobd.cfg"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  The value of figure name in plugin's entry of a plugins answer (-1: not there).
static double
s_figure (json_t *plugins, const char *plugin, const char *name)
{
    size_t index, at;
    json_t *entry, *figure;
    json_array_foreach (plugins, index, entry)
    {
        if (strcmp (json_string_value (json_object_get (entry, "name")), plugin) != 0)
            continue;
        json_array_foreach (
            json_object_get (entry, "figures"), at,
            figure) if (strcmp (json_string_value (json_array_get (figure, 0)), name) ==
                        0) return json_number_value (json_array_get (figure, 1));
    }
    return -1;
}

//  What `jobctl plugins` shows is what the plugins say when asked, not their last periodic
//  report: with the demo's status_interval an hour, its first report (at start, nothing observed)
//  would stand for an hour.
static void
test_plugins_current_when_asked (void **state)
{
    s_config ("        status_interval = 1h\n");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    s_submit (2);
    assert_int_equal (s_jobctl ("plugins -o json"), 0);
    json_t *plugins = s_json (s_out);
    //  Two jobs: each observed SUBMITTED, RUNNING and an end.
    assert_true (s_figure (plugins, "demo", "demo_observations_total") >= 6);
    assert_true (s_figure (plugins, "demo", "demo_jobs_moving") == 0);
    json_decref (plugins);
    assert_false (harness_log_contains (&s_harness, "did not answer a status ask"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    s_config ("");
}

//  The id of the last job of the store in its own order whose state is QUEUED.
static bool
s_last_queued (const jobd_job_t *job, void *arg)
{
    snprintf ((char *)arg, 64, "%s", job->id);
    return true;
}

//  More jobs than one answer holds: jobd sorts all of them before it cuts. The job changed last
//  is one the store's order puts past the first 10,000 (ids sort as bytes there: job-9999 after
//  job-10000); before, jobctl sorted the first 10,000 it got and never showed it.
static void
test_ls_sorts_more_than_one_answer_holds (void **state)
{
    store_fill (s_harness.store, 10050, 1000000);
    char last[64] = "";
    jobd_store_t *store = NULL;
    char reason[256];
    assert_int_equal (
        jobd_store_open (s_harness.store, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason), 0);
    assert_int_equal (jobd_store_scan (store, 1u << JOBD_STATE_QUEUED, s_last_queued, last), 0);
    jobd_store_destroy (&store);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    char rest[128];
    snprintf (rest, sizeof rest, "cancel %s", last);
    assert_int_equal (s_jobctl (rest), 0);
    assert_int_equal (s_jobctl ("ls --sort -updated --limit 1 -o name"), 0);
    char want[80];
    snprintf (want, sizeof want, "%s\n", last);
    assert_string_equal (s_out, want);
    assert_string_equal (s_err, "");
    //  Without --limit: 10,000 of them, and a word on stderr that more match.
    assert_int_equal (s_jobctl ("ls -o name"), 0);
    assert_non_null (strstr (s_err, "more than 10000 jobs match"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_ls_sorts_filters_limits_and_fits),
                                       cmocka_unit_test (test_one_json_shape),
                                       cmocka_unit_test (test_watch_lines_fit),
                                       cmocka_unit_test (test_help_and_usage_errors),
                                       cmocka_unit_test (test_health_exit_codes),
                                       cmocka_unit_test (test_watch_with_jobd_down),
                                       cmocka_unit_test (test_jobd_found_from_another_folder),
                                       cmocka_unit_test (test_plugins_current_when_asked),
                                       cmocka_unit_test (test_ls_sorts_more_than_one_answer_holds)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
