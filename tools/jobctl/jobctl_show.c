//  jobctl show and retry: a job, its whole history and every attempt (from jobd, or the store
//  when jobd is down); a retry asked, and what came of it read back from the history.
#include "jobctl_cli.h"
#include "jobctl_print.h"
#include "jobd_answer.h"
#include "jobd_error.h"
#include <inttypes.h>
#include <string.h>

static int
s_print_show (const jobctl_options_t *options, const jobd_job_t *job, jobd_event_t **history,
              size_t count)
{
    if (jobctl_output_json (options)) {
        json_t *json = json_object ();
        json_t *array = json_array ();
        bool failed =
            !json || !array || json_object_set_new (json, "job", jobctl_json_from_job (job));
        for (size_t index = 0; !failed && index < count; index++)
            failed = json_array_append_new (array, jobctl_json_from_event (history[index]));
        //  One value, on one line, for json and jsonl alike.
        failed = failed || json_object_set (json, "history", array);
        int code = failed                             ? jobctl_fail (EXIT_FAILED, "out of memory")
                   : jobctl_print_json (stdout, json) ? EXIT_FAILED
                                                      : EXIT_OK;
        json_decref (array);
        json_decref (json);
        return code;
    }
    if (options->output == JOBCTL_OUTPUT_NAME) {
        printf ("%s\n", job->id);
        return EXIT_OK;
    }
    jobctl_print_job (stdout, job);
    printf ("history:\n");
    jobctl_print_history (stdout, history, count);
    jobctl_print_attempts (stdout, job, history, count, jobd_now_ms ());
    return EXIT_OK;
}

static int
s_show_from_store (const jobctl_options_t *options, const char *id)
{
    jobd_store_t *store = NULL;
    int code = jobctl_open_store (options, &store);
    if (code)
        return code;
    jobd_job_t *job = NULL;
    jobd_event_t **history = NULL;
    size_t count = 0;
    int rc = jobd_store_job_get (store, id, &job);
    if (rc == 0)
        rc = jobd_store_history (store, id, &history, &count);
    if (rc == 0)
        code = s_print_show (options, job, history, count);
    else if (rc == JOBD_ECORRUPT) {
        char what[128];
        snprintf (what, sizeof what, "job '%s' or its history does not read", id);
        code = jobctl_damaged (options, what);
    } else
        code = jobctl_fail (rc == JOBD_ENOTFOUND ? EXIT_NOTFOUND : EXIT_FAILED, "job '%s': %s", id,
                            jobd_strerror (rc));
    jobd_job_destroy (&job);
    jobd_store_history_free (&history, count);
    jobd_store_destroy (&store);
    return code;
}

//  Asks jobd for a job and its history. Returns an exit code; with EXIT_OK, *job_p (fresh) and
//  *history_p (fresh, *count_p transitions: jobd_store_history_free) are filled, and *skipped_p
//  says how many earlier transitions jobd left out.
static int
s_show_fetch (const jobctl_options_t *options, const char *id, jobd_job_t **job_p,
              jobd_event_t ***history_p, size_t *count_p, uint64_t *skipped_p)
{
    jobctl_request_t request;
    jobctl_query_pack (&request, (jobd_request_t){.q = "show", .job = id});
    msgpack_unpacked reply;
    int code = jobctl_call (options, &request.buffer, &reply, false);
    msgpack_sbuffer_destroy (&request.buffer);
    char reason[256];
    const msgpack_object *history = NULL;
    if (code == EXIT_OK &&
        jobd_answer_read_show (&reply.data, job_p, &history, skipped_p, reason, sizeof reason))
        code = jobctl_fail (EXIT_FAILED, "malformed reply: %s", reason);
    if (code == EXIT_OK) {
        size_t count = history->via.array.size;
        jobd_event_t **events = (jobd_event_t **)calloc (count + 1, sizeof (jobd_event_t *));
        size_t decoded = 0;
        for (size_t index = 0; events && index < count; index++)
            if (jobd_event_from_object (&history->via.array.ptr[index], &events[decoded], reason,
                                        sizeof reason) == 0)
                decoded++;
            else
                fprintf (stderr, "jobctl: skipping history entry %zu: %s\n", index + 1, reason);
        *history_p = events;
        *count_p = decoded;
        if (!events)
            code = jobctl_fail (EXIT_FAILED, "out of memory");
    }
    msgpack_unpacked_destroy (&reply);
    return code;
}

//  retry: asks for the job's next attempt (plain: by the retry plugin's policy when it runs;
//  --now: at once; --cancel: stops its pending retry), then says what came of it from the job's
//  history: the transitions since the last one seen before asking.
int
jobctl_cmd_retry (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 1)
        return jobctl_usage ("retry", "expected one job ID");
    if (options->now && options->stop)
        return jobctl_usage ("retry", "--now and --cancel exclude each other");
    const char *id = argv[0];
    jobd_job_t *job = NULL;
    jobd_event_t **history = NULL;
    size_t count = 0;
    uint64_t skipped = 0;
    int code = s_show_fetch (options, id, &job, &history, &count, &skipped);
    uint64_t before = job ? job->last_seq : 0;
    jobd_job_destroy (&job);
    jobd_store_history_free (&history, count);
    if (code != EXIT_OK)
        return code;
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_RETRY);
    jobd_event_set (&event->job, id);
    event->now = options->now;
    event->stop = options->stop;
    jobd_reply_t read;
    json_t *json;
    code = jobctl_event_call (options, event, true, &read, &json);
    jobd_event_destroy (&event);
    if (code == EXIT_OK && jobctl_output_json (options))
        return jobctl_print_reply (json);
    json_decref (json);
    if (code == EXIT_OK && options->output == JOBCTL_OUTPUT_NAME) {
        printf ("%s\n", read.job[0] ? read.job : id);
        return EXIT_OK;
    }
    bool refused = code == EXIT_FAILED && read.rc == JOBD_ESTATE;
    if (code != EXIT_OK && !refused)
        return code;
    //  Read back: the transitions it made, or the state that refused it.
    count = 0;
    int read_back = s_show_fetch (options, id, &job, &history, &count, &skipped);
    if (refused && read_back == EXIT_OK)
        jobctl_print_retry_refused (stderr, job, read.reason, options->stop, jobd_now_ms ());
    else if (refused)
        jobctl_fail (EXIT_FAILED, "%s: %s", id, read.reason);
    else {
        jobctl_print_retry_outcome (stdout, read.job[0] ? read.job : id, read.outcome, history,
                                    read_back == EXIT_OK ? count : 0, before);
        if (options->stop && job && job->retry_final)
            printf ("%s: no retry: %s\n", id, job->retry_final);
    }
    jobd_job_destroy (&job);
    jobd_store_history_free (&history, count);
    return code;
}

int
jobctl_cmd_show (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 1)
        return jobctl_usage ("show", "expected one job ID");
    jobd_job_t *job = NULL;
    jobd_event_t **history = NULL;
    size_t count = 0;
    uint64_t skipped = 0;
    int code = s_show_fetch (options, argv[0], &job, &history, &count, &skipped);
    if (code == EXIT_OK) {
        if (skipped)
            fprintf (stderr, "jobctl: %" PRIu64 " earlier transitions not shown\n", skipped);
        code = s_print_show (options, job, history, count);
    }
    jobd_job_destroy (&job);
    jobd_store_history_free (&history, count);
    if (code == EXIT_UNREACHABLE)
        return s_show_from_store (options, argv[0]);
    return code;
}
