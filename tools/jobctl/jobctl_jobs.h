//  jobctl ls: a list of job records sorted and filtered as asked, and its table.
#ifndef JOBCTL_JOBS_H_INCLUDED
#define JOBCTL_JOBS_H_INCLUDED

#include "jobd_job.h"
#include <stdbool.h>
#include <stdio.h>

//  The keys of --sort: the http API's (plugins/http/API.md, GET /api/v1/jobs).
typedef enum {
    JOBCTL_SORT_CREATED,
    JOBCTL_SORT_UPDATED,
    JOBCTL_SORT_NAME,
    JOBCTL_SORT_STATE,
    JOBCTL_SORT_KIND,
    JOBCTL_SORT_BACKEND,
    JOBCTL_SORT_ID
} jobctl_sort_key_t;

typedef struct {
    jobctl_sort_key_t key;
    bool descending;
} jobctl_sort_t;

//  Parses --sort: a key, "-" before it for descending ("-created", "name"). Returns 0, or -1
//  with a reason naming text and the keys.
int jobctl_sort_parse (const char *text, jobctl_sort_t *sort, char *reason, size_t reason_size);

//  A job's creation time, as the http API has it: queued_at, else submitted_at, else
//  started_at, else updated_at.
int64_t jobctl_job_created (const jobd_job_t *job);

//  Sorts jobs (count records) by sort; ties by id, in the same direction. Ids and names compare
//  in natural order (job-2 before job-10: strverscmp).
void jobctl_jobs_sort (jobd_job_t **jobs, size_t count, jobctl_sort_t sort);

//  Prints jobs as ls's table, seen at now, fitted to width (0: no limit), in colour when color.
//  wide adds BACKEND, EXT, UPDATED (how long ago it last changed) and FRESH (how long ago its
//  source last confirmed its state): times as ages ("3h"); show and JSON have the times. A job
//  past its deadline has "stale" first in its CAUSE. Returns
//  0, or -1 when out refused the bytes.
int jobctl_jobs_table (FILE *out, jobd_job_t *const *jobs, size_t count, bool wide, int64_t now,
                       size_t width, bool color);

#endif
