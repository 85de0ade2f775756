//  jobctl ls: a list of job records sorted and filtered as asked, and its table.
#include "jobctl_jobs.h"
#include "jobctl_print.h"
#include "jobctl_table.h"
#include <stdlib.h>
#include <string.h>

int
jobctl_sort_parse (const char *text, jobd_order_t *sort, char *reason, size_t reason_size)
{
    if (jobd_order_parse (text, sort) == 0)
        return 0;
    snprintf (reason, reason_size,
              "--sort '%s': expected " JOBD_ORDER_KEYS ", with '-' before it for descending", text);
    return -1;
}

static int
s_qsort_compare (const void *a, const void *b, void *arg)
{
    return jobd_order_compare (*(jobd_job_t *const *)a, *(jobd_job_t *const *)b,
                               *(const jobd_order_t *)arg);
}

void
jobctl_jobs_sort (jobd_job_t **jobs, size_t count, jobd_order_t sort)
{
    if (count > 1) //  (an empty list may be NULL, which qsort_r must not be given)
        qsort_r (jobs, count, sizeof *jobs, s_qsort_compare, &sort);
}

//  A state's colour: green done, red failed or lost, yellow waiting or unsure.
static const char *
s_state_color (jobd_state_t state)
{
    switch (state) {
        case JOBD_STATE_SUCCEEDED:
            return "green";
        case JOBD_STATE_FAILED:
        case JOBD_STATE_LOST:
            return "red";
        case JOBD_STATE_RETRY_WAIT:
        case JOBD_STATE_UNKNOWN:
            return "yellow";
        default:
            return NULL;
    }
}

//  How long the job has run: from its start (else its submission) to its end, or to now while
//  it is not final. "-" before it started.
static const char *
s_duration (const jobd_job_t *job, int64_t now, char *buffer, size_t size)
{
    int64_t start = job->started_at ? job->started_at : job->submitted_at;
    int64_t end = job->finished_at ? job->finished_at
                  : jobd_state_is_final (job->state) || job->state == JOBD_STATE_LOST
                      ? job->updated_at
                      : now;
    if (!start || end < start)
        return "-";
    return jobctl_format_span (end - start, buffer, size);
}

int
jobctl_jobs_table (FILE *out, jobd_job_t *const *jobs, size_t count, bool wide, int64_t now,
                   size_t width, bool color)
{
    jobctl_table_t *table = jobctl_table_new ();
    if (!table)
        return -1;
    //  The columns, in order; wide only where marked. NAME and CAUSE take what is left, and are
    //  what is cut when the terminal is narrow.
    static const struct {
        const char *name;
        double share;
        int flags;
        bool wide;
    } columns[] = {{"ID", 0, 0, false},
                   {"STATE", 0, 0, false},
                   {"KIND", 0, 0, false},
                   {"BACKEND", 0, 0, true},
                   {"EXT", 0.1, JOBCTL_COLUMN_CUT, true},
                   {"TRY", 0, JOBCTL_COLUMN_RIGHT, false},
                   {"AGE", 0, JOBCTL_COLUMN_RIGHT, false},
                   {"DURATION", 0, JOBCTL_COLUMN_RIGHT, false},
                   {"UPDATED", 0, JOBCTL_COLUMN_RIGHT, true},
                   {"FRESH", 0, JOBCTL_COLUMN_RIGHT, true},
                   {"NAME", 0.25, JOBCTL_COLUMN_CUT, false},
                   {"CAUSE", 0.4, JOBCTL_COLUMN_CUT, false}};
    size_t shown = sizeof columns / sizeof columns[0];
    int rc = 0;
    for (size_t index = 0; rc == 0 && index < shown; index++)
        if (wide || !columns[index].wide)
            rc = jobctl_table_column (table, columns[index].name, columns[index].share,
                                      columns[index].flags);
    for (size_t index = 0; rc == 0 && index < count; index++) {
        const jobd_job_t *job = jobs[index];
        char attempt[16], updated[16], age[16], duration[32], fresh[16];
        char cause_text[JOBD_CAUSE_MAX + 128], stale_text[JOBD_CAUSE_MAX + 16];
        snprintf (attempt, sizeof attempt, "%u", job->attempt);
        const char *cause = jobctl_row_cause (job, now, cause_text, sizeof cause_text);
        if (job->stale) {
            //  Past its deadline: the flag leads the cause.
            snprintf (stale_text, sizeof stale_text, "stale%s%s", cause ? ": " : "",
                      cause ? cause : "");
            cause = stale_text;
        }
        const char *cells[] = {
            job->id,
            jobd_state_name (job->state),
            job->kind,
            job->backend,
            job->ext,
            attempt,
            jobctl_format_age (jobd_job_created (job), now, age, sizeof age),
            s_duration (job, now, duration, sizeof duration),
            jobctl_format_age (job->updated_at, now, updated, sizeof updated),
            jobctl_format_age (job->confirmed_at, now, fresh, sizeof fresh),
            job->name,
            cause,
        };
        rc = jobctl_table_row (table);
        size_t column = 0;
        for (size_t cell = 0; rc == 0 && cell < shown; cell++)
            if (wide || !columns[cell].wide)
                rc = jobctl_table_cell (table, column++, cells[cell],
                                        cell == 1 ? s_state_color (job->state) : NULL);
    }
    if (rc == 0)
        rc = jobctl_table_print (table, out, width, color);
    jobctl_table_destroy (&table);
    return rc;
}
