//  jobctl ls: sorted as asked (ids and names in natural order, job-2 before job-10), limited
//  after sorting, and its table fitted to the terminal: at 80 columns no line is longer, long
//  names and causes cut with an ellipsis.
#include "jobctl_jobs.h"
#include "jobd_event.h"
#include "jobctl_table.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define T0 1796340600000LL

static jobd_job_t *
s_job (int number, const char *name, jobd_state_t state, int64_t queued_at)
{
    jobd_job_t *job = jobd_job_new ();
    char id[32];
    snprintf (id, sizeof id, "job-%d", number);
    jobd_event_set (&job->id, id);
    jobd_event_set (&job->kind, "spark");
    jobd_event_set (&job->name, name);
    job->state = state;
    job->queued_at = queued_at;
    job->updated_at = queued_at + 1000;
    job->attempt = 1;
    return job;
}

static void
test_sort_keys_and_natural_order (void **state)
{
    jobd_order_t sort;
    char reason[256];
    assert_int_equal (jobctl_sort_parse ("-created", &sort, reason, sizeof reason), 0);
    assert_int_equal (sort.key, JOBD_ORDER_CREATED);
    assert_true (sort.descending);
    assert_int_equal (jobctl_sort_parse ("id", &sort, reason, sizeof reason), 0);
    assert_int_equal (sort.key, JOBD_ORDER_ID);
    assert_false (sort.descending);
    assert_int_equal (jobctl_sort_parse ("size", &sort, reason, sizeof reason), -1);
    assert_non_null (strstr (reason, "--sort 'size': expected created, updated, name"));

    //  Made in the order job-1, job-10, job-11, job-2 ... (as the store's keys sort): the ids
    //  sort naturally, and the first three of --sort id are job-1, job-2, job-3.
    int numbers[] = {1, 10, 11, 12, 2, 3, 4, 5, 6, 7, 8, 9};
    jobd_job_t *jobs[12];
    for (size_t index = 0; index < 12; index++)
        jobs[index] = s_job (numbers[index], index % 2 ? "etl-10" : "etl-9", JOBD_STATE_RUNNING,
                             T0 + numbers[index] * 1000);
    jobctl_jobs_sort (jobs, 12, (jobd_order_t){JOBD_ORDER_ID, false});
    for (int index = 0; index < 12; index++) {
        char id[32];
        snprintf (id, sizeof id, "job-%d", index + 1);
        assert_string_equal (jobs[index]->id, id);
    }
    //  Newest first (the default): job-12, job-11, job-10.
    jobctl_jobs_sort (jobs, 12, (jobd_order_t){JOBD_ORDER_CREATED, true});
    assert_string_equal (jobs[0]->id, "job-12");
    assert_string_equal (jobs[1]->id, "job-11");
    assert_string_equal (jobs[2]->id, "job-10");
    //  Names naturally too (etl-9 before etl-10), ties by id in the same direction.
    jobctl_jobs_sort (jobs, 12, (jobd_order_t){JOBD_ORDER_NAME, false});
    assert_string_equal (jobs[0]->name, "etl-9");
    assert_string_equal (jobs[0]->id, "job-1");
    assert_string_equal (jobs[11]->name, "etl-10");
    assert_string_equal (jobs[11]->id, "job-12");
    jobctl_jobs_sort (jobs, 12, (jobd_order_t){JOBD_ORDER_NAME, true});
    assert_string_equal (jobs[0]->id, "job-12");
    for (size_t index = 0; index < 12; index++)
        jobd_job_destroy (&jobs[index]);
}

//  Reads what was written to file back into out.
static void
s_read_back (FILE *file, char *out, size_t size)
{
    rewind (file);
    size_t used = fread (out, 1, size - 1, file);
    out[used] = 0;
    fclose (file);
}

static size_t
s_longest_line (const char *text)
{
    size_t longest = 0;
    while (*text) {
        size_t length = strcspn (text, "\n");
        longest = length > longest ? length : longest;
        text += length + (text[length] == '\n');
    }
    return longest;
}

static void
test_table_fits_80_columns (void **state)
{
    jobd_job_t *jobs[3];
    jobs[0] = s_job (1, "nightly-orders-aggregation-for-the-emea-region-with-a-very-long-name",
                     JOBD_STATE_FAILED, T0);
    jobd_event_set (&jobs[0]->cause, "java.lang.OutOfMemoryError: Java heap space while "
                                     "shuffling the orders table of the warehouse");
    jobs[0]->started_at = T0 + 5000;
    jobs[0]->finished_at = T0 + 5000 + 754000;
    jobs[1] = s_job (2, "short", JOBD_STATE_RUNNING, T0 - 3 * 3600000LL);
    jobs[1]->started_at = T0 - 3 * 3600000LL + 60000;
    jobs[2] = s_job (10, NULL, JOBD_STATE_QUEUED, T0);
    static char out[16384];
    FILE *file = tmpfile ();
    assert_int_equal (jobctl_jobs_table (file, jobs, 3, false, T0 + 3600000, 80, false), 0);
    s_read_back (file, out, sizeof out);
    assert_true (s_longest_line (out) <= 80);
    assert_non_null (strstr (out, "ID     STATE   KIND  TRY AGE DURATION NAME"));
    //  The name and the cause cut with an ellipsis ("..." outside a UTF-8 locale).
    assert_non_null (strstr (out, " nightly-ord... java.lang.OutOfMemoryErr...\n"));
    assert_null (strstr (out, "warehouse"));
    //  AGE since created; DURATION from the start to the end, or to now while it runs.
    assert_non_null (strstr (out, "job-1  FAILED  spark   1  1h   12m34s"));
    assert_non_null (strstr (out, "job-2  RUNNING spark   1  4h    3h59m short"));
    assert_non_null (strstr (out, "job-10 QUEUED  spark   1  1h        - -"));
    //  Wide, and no limit: nothing cut.
    file = tmpfile ();
    assert_int_equal (jobctl_jobs_table (file, jobs, 3, true, T0 + 3600000, 0, false), 0);
    s_read_back (file, out, sizeof out);
    assert_non_null (strstr (out, "with-a-very-long-name"));
    assert_non_null (strstr (out, "the warehouse\n"));
    assert_non_null (strstr (out, "AGE DURATION UPDATED FRESH NAME"));
    for (size_t index = 0; index < 3; index++)
        jobd_job_destroy (&jobs[index]);
}

static void
test_lines_fit (void **state)
{
    char line[128] = "2026-12-03T23:30:07.042Z  job-9      #4   FAILED     -> RETRY_WAIT "
                     "attempt 1  retry  due";
    size_t length = strlen (line);
    jobctl_fit_line (line, sizeof line, 0);
    assert_int_equal (strlen (line), length);
    jobctl_fit_line (line, sizeof line, 80);
    assert_int_equal (strlen (line), 80);
    assert_string_equal (line + 77, "...");
    char tiny[8] = "abcdef";
    jobctl_fit_line (tiny, sizeof tiny, 6);
    assert_string_equal (tiny, "abcdef");
    jobctl_fit_line (tiny, sizeof tiny, 5);
    assert_string_equal (tiny, "ab...");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_sort_keys_and_natural_order),
                                       cmocka_unit_test (test_table_fits_80_columns),
                                       cmocka_unit_test (test_lines_fit)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
