//  jobctl ls: a list of job records sorted and filtered as asked, and its table.
#ifndef JOBCTL_JOBS_H_INCLUDED
#define JOBCTL_JOBS_H_INCLUDED

#include "jobd_job.h"
#include "jobd_order.h"
#include <stdbool.h>
#include <stdio.h>

//  Parses --sort: a key, "-" before it for descending ("-created", "name"; jobd_order.h).
//  Returns 0, or -1 with a reason naming text and the keys.
int jobctl_sort_parse (const char *text, jobd_order_t *sort, char *reason, size_t reason_size);

//  Sorts jobs (count records) by sort (jobd_order_compare).
void jobctl_jobs_sort (jobd_job_t **jobs, size_t count, jobd_order_t sort);

//  Prints jobs as ls's table, seen at now, fitted to width (0: no limit), in colour when color.
//  wide adds BACKEND, EXT, UPDATED (how long ago it last changed) and FRESH (how long ago its
//  source last confirmed its state): times as ages ("3h"); show and JSON have the times. A job
//  past its deadline has "stale" first in its CAUSE. Returns
//  0, or -1 when out refused the bytes.
int jobctl_jobs_table (FILE *out, jobd_job_t *const *jobs, size_t count, bool wide, int64_t now,
                       size_t width, bool color);

#endif
