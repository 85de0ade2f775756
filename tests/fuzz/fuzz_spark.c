//  Fuzz target: spark-poller's parsers. The first byte picks the parser and the HTTP status; the
//  rest is the body, as a backend might send it.
#include "sp_jlist.h"
#include "sp_spec.h"
#include "sp_status.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
s_count (const sp_status_t *status, void *arg)
{
    //  Every status handed out is NUL-terminated within its buffers.
    if (memchr (status->id, 0, sizeof status->id) == NULL ||
        memchr (status->error, 0, sizeof status->error) == NULL ||
        memchr (status->name, 0, sizeof status->name) == NULL)
        __builtin_trap ();
    (*(size_t *)arg)++;
    return true;
}

//  A list read as it arrives, in pieces of `step` bytes, gives what the whole body gives: the
//  same verdict, and (when it is read) the same jobs, none twice.
static void
s_chunked (const sp_jlist_shape_t *shape, const char *body, size_t length, size_t step)
{
    size_t whole = 0, chunked = 0;
    sp_jlist_t list;
    sp_jlist_init (&list, shape, s_count, &whole);
    int expected = sp_jlist_feed (&list, body, length, true);
    sp_jlist_init (&list, shape, s_count, &chunked);
    for (size_t size = 0; size < length; size += step)
        sp_jlist_feed (&list, body, size, false);
    if (sp_jlist_feed (&list, body, length, true) != expected ||
        (expected == 0 && whole != chunked))
        __builtin_trap ();
}

//  A lost create's driver in /json/: the drivers kept are oldest first, each with an id.
static void
s_created (const char *body, size_t length, long http)
{
    sp_created_t wanted = {.main_class = "com.example.Etl",
                           .cores = 1,
                           .memory_mb = 1024,
                           .after = "driver-20260101000000-0001",
                           //  a later attempt's search: older starttimes are skipped
                           .not_before = length % 2 ? 1700000000000 : 0};
    sp_status_t found[4];
    int count = sp_master_created (body, length, http, &wanted, NULL, NULL, found, 4);
    for (int index = 0; index < count && index < 4; index++) {
        int order = -1;
        if (!found[index].id[0] || memchr (found[index].id, 0, sizeof found[index].id) == NULL ||
            (index && sp_driver_id_order (found[index - 1].id, found[index].id, &order) == 0 &&
             order > 0))
            __builtin_trap ();
    }
}

//  A spec read for what its driver looks like, and two driver ids ordered both ways (the body
//  cut in two): one order, and its reverse.
static void
s_spec_and_ids (const char *body, size_t length)
{
    char *text = strndup (body, length);
    if (!text)
        return;
    sp_created_t wanted;
    char main_class[64];
    sp_created_from_spec (text, &wanted, main_class, sizeof main_class);
    if (memchr (main_class, 0, sizeof main_class) == NULL)
        __builtin_trap ();
    char *second = text + strlen (text) / 2;
    char first[256];
    snprintf (first, sizeof first, "%.*s", (int)(second - text), text);
    //  The spec table: the check and the body agree (one table), for both backends; a body is
    //  JSON; a Livy batch name gives its tag back, whatever the job's name.
    for (int target = SP_SPEC_STANDALONE; target <= SP_SPEC_LIVY; target++) {
        char reason[256], *made = NULL;
        sp_spec_job_t job = {.job_id = "job-1", .tag = "jobd-job-1", .name = first};
        int checked = sp_spec_check (text, (sp_spec_target_t)target, reason, sizeof reason);
        int built =
            sp_spec_body (text, (sp_spec_target_t)target, &job, &made, reason, sizeof reason);
        json_t *parsed = made ? json_loads (made, 0, NULL) : NULL;
        bool bad = checked != built || (built == 0) != (made != NULL) ||
                   (made && !json_is_object (parsed));
        json_decref (parsed);
        if (bad)
            __builtin_trap ();
        free (made);
        if (sp_spec_guess (text, (sp_spec_target_t)target, &job, &made) == 0 && !made)
            __builtin_trap ();
        free (made);
    }
    char batch[SP_SPEC_NAME_MAX + 1], tag[SP_SPEC_NAME_MAX + 1];
    sp_spec_livy_name (first, "jobd-job-1-2", batch, sizeof batch);
    if (strcmp (sp_spec_livy_tag (batch, tag, sizeof tag), "jobd-job-1-2") != 0)
        __builtin_trap ();
    int forward = 0, backward = 0;
    int rc = sp_driver_id_order (first, second, &forward);
    if (rc != sp_driver_id_order (second, first, &backward) ||
        (rc == 0 && (forward > 0) - (forward < 0) != (backward < 0) - (backward > 0)))
        __builtin_trap ();
    free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const long codes[] = {200, 201, 400, 404, 468, 500, 502, 503};
    long http = codes[(data[0] >> 4) & 7];
    const char *body = (const char *)data + 1;
    size_t length = size - 1;
    sp_status_t status;
    size_t count = 0;
    long total = 0;
    switch (data[0] & 15) {
        case 0:
            sp_standalone_create (body, length, http, &status);
            break;
        case 1:
            sp_standalone_status (body, length, http, &status);
            break;
        case 2:
            sp_standalone_kill (body, length, http, &status);
            break;
        case 3:
            sp_master_json (body, length, http, s_count, &count);
            s_chunked (&sp_master_list_shape, body, length, 1 + (data[0] >> 4));
            break;
        case 4:
            sp_livy_batch (body, length, http, &status);
            break;
        case 5:
            sp_livy_list (body, length, http, s_count, &count, &total);
            s_chunked (&sp_livy_list_shape, body, length, 1 + (data[0] >> 4));
            break;
        case 6:
            sp_yarn_apps (body, length, http, s_count, &count);
            s_chunked (&sp_yarn_list_shape, body, length, 1 + (data[0] >> 4));
            break;
        case 7:
            sp_yarn_app (body, length, http, &status);
            break;
        case 8:
            sp_history_apps (body, length, http, s_count, &count);
            break;
        case 9:
            //  A relaunch's replacement of an id shaped like the master's.
            sp_master_replacement (body, length, http, "driver-20260101000000-0001", NULL, NULL,
                                   &status);
            break;
        case 10:
            s_created (body, length, http);
            break;
        case 11:
            s_spec_and_ids (body, length);
            break;
        case 12:
        case 13:
        case 14: {
            //  The kill answers (sp_kill.c), with the statuses a kill gets.
            static const long kill_codes[] = {200, 202, 400, 401, 403, 404, 500, 503};
            long code = kill_codes[(data[0] >> 4) & 7];
            sp_kill_t verdict = (data[0] & 15) == 12 ? sp_yarn_kill (body, length, code, &status)
                                : (data[0] & 15) == 13
                                    ? sp_livy_kill (body, length, code, &status)
                                    : sp_standalone_kill_verdict (body, length, code, &status);
            //  A refusal always says why, in a string that ends within its buffer.
            if (memchr (status.error, 0, sizeof status.error) == NULL ||
                (verdict == SP_KILL_REFUSED && !status.error[0]) || verdict > SP_KILL_UNCLEAR)
                __builtin_trap ();
            break;
        }
        default:
            sp_history_jobs (body, length, http, &status);
            break;
    }
    return 0;
}
