//  GET /api/v1/jobs (a page of jobs) and GET /api/v1/jobs/{id} (one job and its history), read
//  through the host table on the calling thread: one read transaction each, never the writer's.
#ifndef HT_JOBS_H_INCLUDED
#define HT_JOBS_H_INCLUDED

#include "ht_core.h"

//  Fills reply with the page params asks for (API.md): jobs, matched, next, now.
void ht_jobs_list (const jobd_host_t *host, const ht_params_t *params, ht_reply_t *reply);

//  Fills reply with job id: its record, history, freshness, reason and links; 404 when unknown.
void ht_jobs_get (const jobd_host_t *host, const char *id, ht_reply_t *reply);

#endif
