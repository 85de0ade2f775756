//  What jobctl's commands share: the options as parsed, exit codes, failing with a message,
//  and one query or event sent to jobd with the common failures handled.
#include "jobctl_cli.h"
#include "jobctl_client.h"
#include "jobctl_jobs.h"
#include "jobctl_print.h"
#include "jobd_answer.h"
#include "jobd_error.h"
#include "jobd_store.h"
#include "jobd_store_verify.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

int
jobctl_fail (int code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fputs ("jobctl: ", stderr);
    vfprintf (stderr, format, args);
    fputc ('\n', stderr);
    va_end (args);
    return code;
}

int
jobctl_usage (const char *command, const char *what)
{
    return jobctl_fail (EXIT_USAGE, "%s: %s (see jobctl %s --help)", command, what, command);
}

void
jobctl_query_pack (jobctl_request_t *request, jobd_request_t query)
{
    msgpack_sbuffer_init (&request->buffer);
    msgpack_packer_init (&request->pk, &request->buffer, msgpack_sbuffer_write);
    query.id = "jobctl";
    jobd_request_pack (&query, &request->pk);
}

int
jobctl_call (const jobctl_options_t *options, msgpack_sbuffer *request, msgpack_unpacked *reply,
             bool quiet_estate)
{
    char reason[512];
    msgpack_unpacked_init (reply);
    int rc =
        jobctl_request (options->admin, options->timeout_ms, request, reply, reason, sizeof reason);
    if (rc == JOBCTL_EUNREACHABLE)
        return jobctl_fail (EXIT_UNREACHABLE, "%s", reason);
    if (rc == JOBCTL_EACCES)
        return jobctl_fail (EXIT_DENIED, "%s", reason);
    if (rc)
        return jobctl_fail (EXIT_FAILED, "%s", reason);
    if (!jobctl_reply_ok (&reply->data, reason, sizeof reason)) {
        jobd_reply_t read;
        jobd_reply_read (&reply->data, &read, NULL, 0);
        if (quiet_estate && read.rc == JOBD_ESTATE)
            return EXIT_FAILED;
        return jobctl_fail (read.rc == JOBD_ENOTFOUND ? EXIT_NOTFOUND : EXIT_FAILED, "%s", reason);
    }
    return EXIT_OK;
}

int
jobctl_event_call (const jobctl_options_t *options, jobd_event_t *event, bool quiet_estate,
                   jobd_reply_t *read, json_t **json_p)
{
    jobd_event_set (&event->source, "jobctl");
    event->reply = true;
    uint8_t *data = NULL;
    size_t size = 0;
    char reason[512];
    memset (read, 0, sizeof *read);
    *json_p = NULL;
    if (jobd_event_encode (event, &data, &size, reason, sizeof reason))
        return jobctl_fail (EXIT_USAGE, "%s", reason);
    msgpack_sbuffer request = {.data = (char *)data, .size = size, .alloc = size};
    msgpack_unpacked reply;
    int code = jobctl_call (options, &request, &reply, quiet_estate);
    free (data);
    jobd_reply_read (&reply.data, read, NULL, 0);
    if (code == EXIT_OK && jobctl_output_json (options))
        *json_p = jobctl_json_from_msgpack (&reply.data);
    msgpack_unpacked_destroy (&reply);
    return code;
}

int
jobctl_print_reply (json_t *json)
{
    int code = jobctl_print_json (stdout, jobctl_unwrap (json)) ? EXIT_FAILED : EXIT_OK;
    json_decref (json);
    return code;
}

json_t *
jobctl_unwrap (json_t *json)
{
    static const char *envelope[] = {"v", "type", "re", "ok"};
    for (size_t index = 0; json && index < sizeof envelope / sizeof envelope[0]; index++)
        json_object_del (json, envelope[index]);
    return json;
}

int
jobctl_query_json (const jobctl_options_t *options, jobctl_request_t *request, json_t **json_p)
{
    msgpack_unpacked reply;
    int code = jobctl_call (options, &request->buffer, &reply, false);
    msgpack_sbuffer_destroy (&request->buffer);
    if (code == EXIT_OK) {
        *json_p = jobctl_unwrap (jobctl_json_from_msgpack (&reply.data));
        if (!*json_p)
            code = jobctl_fail (EXIT_FAILED, "out of memory reading jobd's answer");
    }
    msgpack_unpacked_destroy (&reply);
    return code;
}

int
jobctl_print_output_json (const jobctl_options_t *options, const json_t *value)
{
    if (options->output != JOBCTL_OUTPUT_JSONL || !json_is_array (value))
        return jobctl_print_json (stdout, value) ? EXIT_FAILED : EXIT_OK;
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item)
    {
        if (jobctl_print_json (stdout, item))
            return EXIT_FAILED;
    }
    return EXIT_OK;
}

int
jobctl_state_mask (const char *states, uint32_t *mask_p, char *upper, size_t upper_size,
                   char *reason, size_t reason_size)
{
    char buffer[256];
    snprintf (buffer, sizeof buffer, "%s", states ? states : "");
    for (char *at = buffer; *at; at++)
        *at = (char)toupper ((unsigned char)*at);
    snprintf (upper, upper_size, "%s", buffer);
    uint32_t mask = 0;
    char *save = NULL;
    for (char *name = strtok_r (buffer, ",", &save); name; name = strtok_r (NULL, ",", &save)) {
        jobd_state_t state;
        if (jobd_state_parse (name, strlen (name), &state)) {
            snprintf (reason, reason_size,
                      "--state '%s': not a state (QUEUED, SUBMITTED, RUNNING, SUCCEEDED, FAILED, "
                      "CANCELLED, RETRY_WAIT, UNKNOWN, LOST; any case, comma-separated)",
                      name);
            return -1;
        }
        mask |= 1u << state;
    }
    *mask_p = mask;
    return 0;
}

//  A list of records being collected, with the filters jobd does not apply.
typedef struct {
    const jobctl_options_t *options;
    jobd_job_t **jobs;
    size_t count, allocated;
    bool failed; //  out of memory
} s_list_t;

//  Adds job (consumed) when it matches what jobd did not filter.
static void
s_list_add (s_list_t *self, jobd_job_t *job)
{
    const jobctl_options_t *options = self->options;
    jobd_job_filter_t filter = {options->kind,      options->name,  options->backend,
                                options->has_since, options->since, options->has_until,
                                options->until};
    bool match = jobd_job_filter_match (&filter, job);
    if (match && self->count == self->allocated) {
        size_t allocated = self->allocated ? self->allocated * 2 : 256;
        jobd_job_t **grown = (jobd_job_t **)realloc (self->jobs, allocated * sizeof *grown);
        if (grown) {
            self->jobs = grown;
            self->allocated = allocated;
        } else
            self->failed = true;
    }
    if (match && self->count < self->allocated)
        self->jobs[self->count++] = job;
    else
        jobd_job_destroy (&job);
}

static bool
s_list_scan (const jobd_job_t *job, void *arg)
{
    s_list_t *self = (s_list_t *)arg;
    jobd_job_t *copy = jobd_job_dup (job);
    if (!copy)
        self->failed = true;
    else
        s_list_add (self, copy);
    return !self->failed;
}

//  A read of the store found damage: says so, with what to do.
static int
s_damaged (const jobctl_options_t *options, const char *what)
{
    return jobctl_fail (EXIT_DAMAGED,
                        "the store %s is damaged: %s. Run `jobd --verify` for the whole check and "
                        "restore the last backup (store/README.md, \"Backup and restore\")",
                        options->store, what);
}

int
jobctl_open_store (const jobctl_options_t *options, jobd_store_t **store_p)
{
    char reason[512];
    //  LMDB trusts its pages, and a damaged one crashes it: walk them first.
    jobd_verify_report_t report = {0};
    int checked = jobd_store_verify_structure (options->store, &report);
    if (checked == JOBD_ECORRUPT) {
        char what[1100], page[32] = "";
        if (report.page != UINT64_MAX)
            snprintf (page, sizeof page, "page %llu, ", (unsigned long long)report.page);
        snprintf (what, sizeof what, "%s (%sdatabase '%s')", report.problem, page, report.database);
        return s_damaged (options, what);
    }
    int rc = jobd_store_open (options->store, JOBD_STORE_RDONLY, 0, store_p, reason, sizeof reason);
    if (rc)
        return jobctl_fail (EXIT_UNREACHABLE,
                            "jobd is not reachable and the store cannot be read: %s", reason);
    fprintf (stderr, "jobctl: jobd is not reachable; reading the store %s directly\n",
             options->store);
    return EXIT_OK;
}

int
jobctl_damaged (const jobctl_options_t *options, const char *what)
{
    return s_damaged (options, what);
}

//  The list from the store, read-only: jobd is down.
static int
s_fetch_store (const jobctl_options_t *options, uint32_t mask, s_list_t *list)
{
    jobd_store_t *store = NULL;
    int code = jobctl_open_store (options, &store);
    if (code)
        return code;
    int rc = jobd_store_scan (store, mask, s_list_scan, list);
    jobd_store_destroy (&store);
    if (rc == JOBD_ECORRUPT)
        return s_damaged (options, "a job record or index entry does not read");
    if (rc)
        return jobctl_fail (EXIT_FAILED, "reading the store: %s", jobd_strerror (rc));
    return EXIT_OK;
}

int
jobctl_jobs_fetch (const jobctl_options_t *options, bool store_when_down, const char *sort,
                   uint64_t limit, jobd_job_t ***jobs_p, size_t *count_p, bool *truncated_p)
{
    uint32_t mask = 0;
    char upper[256], reason[512];
    if (jobctl_state_mask (options->state, &mask, upper, sizeof upper, reason, sizeof reason))
        return jobctl_fail (EXIT_USAGE, "%s", reason);
    s_list_t list = {.options = options};
    *truncated_p = false;
    //  jobd filters, sorts and limits every job it holds: the first limit of all in that order.
    jobctl_request_t request;
    jobctl_query_pack (&request, (jobd_request_t){.q = "ls",
                                                  .state = *upper ? upper : NULL,
                                                  .kind = options->kind,
                                                  .name = options->name,
                                                  .has_limit = true,
                                                  .limit = limit < 10000 ? limit : 10000,
                                                  .backend = options->backend,
                                                  .sort = sort,
                                                  .has_since = options->has_since,
                                                  .since = options->since,
                                                  .has_until = options->has_until,
                                                  .until = options->until});
    msgpack_unpacked reply;
    int code = jobctl_call (options, &request.buffer, &reply, false);
    msgpack_sbuffer_destroy (&request.buffer);
    const msgpack_object *jobs = NULL;
    if (code == EXIT_OK && jobd_answer_read_ls (&reply.data, &jobs, truncated_p))
        code = jobctl_fail (EXIT_FAILED, "reply without a jobs list");
    for (uint32_t index = 0; code == EXIT_OK && index < jobs->via.array.size && !list.failed;
         index++) {
        jobd_job_t *job = NULL;
        if (jobd_job_from_object (&jobs->via.array.ptr[index], &job, reason, sizeof reason) == 0)
            s_list_add (&list, job);
        else
            fprintf (stderr, "jobctl: skipping a job record: %s\n", reason);
    }
    msgpack_unpacked_destroy (&reply);
    if (code == EXIT_UNREACHABLE && store_when_down)
        code = s_fetch_store (options, mask, &list);
    if (code == EXIT_OK && list.failed)
        code = jobctl_fail (EXIT_FAILED, "out of memory listing the jobs");
    if (code != EXIT_OK) {
        jobctl_jobs_free (&list.jobs, list.count);
        return code;
    }
    *jobs_p = list.jobs;
    *count_p = list.count;
    return EXIT_OK;
}

void
jobctl_jobs_free (jobd_job_t ***jobs_p, size_t count)
{
    if (!jobs_p || !*jobs_p)
        return;
    for (size_t index = 0; index < count; index++)
        jobd_job_destroy (&(*jobs_p)[index]);
    free (*jobs_p);
    *jobs_p = NULL;
}
