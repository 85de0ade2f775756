//  Reasons for failures a backend reported without one: the job's own status is asked
//  (spark-poller).
#include "sp_poller_internal.h"
#include <string.h>

#define SP_REASON_TRIES 3 //  asks for a failure's reason while the backend is in trouble

void
sp_reason_explain (const sp_job_t *job, sp_status_t *status, const char *trouble)
{
    if (status->state != JOBD_STATE_FAILED || status->error[0])
        return;
    snprintf (status->error, sizeof status->error,
              "backend %s reports that %s ended %s and gives no reason for it%s%.300s",
              job->backend->name, job->ext, status->raw[0] ? status->raw : "in failure",
              trouble ? "; asking for its own status failed: " : "", trouble ? trouble : "");
}

bool
sp_reason_ask (sp_poller_t *self, sp_job_t *job, const sp_status_t *status)
{
    if (status->state != JOBD_STATE_FAILED || status->error[0] || job->done || !job->ext[0])
        return false;
    if (!job->asking && !job->in_flight) {
        char url[1024];
        sp_backend_poll_url (job->backend, job->ext, url, sizeof url);
        snprintf (job->listed_raw, sizeof job->listed_raw, "%s", status->raw);
        job->asking = sp_call_start (self, job->backend, job, SP_REASON, "GET", url, NULL) != NULL;
    }
    return true; //  a request of the job is out: the next list asks again
}

void
sp_reason_done (sp_poller_t *self, sp_job_t *job, int rc, sp_status_t *status, const char *why)
{
    job->asking = false;
    bool answered =
        rc == 0 && status->known && !status->standby && status->state != JOBD_STATE_NONE;
    if (!answered && (rc != 0 || status->standby) && ++job->reason_tries < SP_REASON_TRIES)
        return;
    char trouble[SP_ERROR_MAX];
    if (!answered) {
        snprintf (trouble, sizeof trouble, "%s",
                  rc != 0 || status->standby ? why : "the backend no longer knows it");
        sp_status_reset (status);
        status->state = JOBD_STATE_FAILED;
        sp_copy (status->raw, sizeof status->raw, job->listed_raw);
    }
    sp_reason_explain (job, status, answered ? NULL : trouble);
    job->unknown_since = 0;
    sp_job_observe_status (self, job, status->state, job->ext, status);
}
