//  GET /api/v1/jobs (a page of jobs) and GET /api/v1/jobs/{id} (one job and its history), read
//  through the host table on the calling thread: one read transaction each, never the writer's.
#ifndef HT_JOBS_H_INCLUDED
#define HT_JOBS_H_INCLUDED

#include "ht_core.h"

//  Fills reply with the page params asks for (API.md): jobs, matched, next, now. counts (jobs
//  per state, or NULL when not known) lets a page sorted by the last change and filtered by
//  state at most come from the store's order index: it costs the page, not a pass over the jobs.
void ht_jobs_list (const jobd_host_t *host, const ht_params_t *params, const uint64_t *counts,
                   ht_reply_t *reply);

//  Fills reply with job id: its record, history, freshness, reason and links; 404 when unknown.
void ht_jobs_get (const jobd_host_t *host, const char *id, ht_reply_t *reply);

#endif
