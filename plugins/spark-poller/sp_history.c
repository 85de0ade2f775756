//  spark-poller: the Spark history server's /api/v1 (reference §2), read into statuses.
#include "sp_json.h"
#include <string.h>

static bool
s_application (const json_t *app, sp_status_t *status)
{
    const char *id = sp_json_str (app, "id");
    if (!id)
        return false;
    sp_copy (status->id, sizeof status->id, id);
    //  The newest attempt comes first; an app with none is running.
    json_t *attempt = json_array_get (json_object_get (app, "attempts"), 0);
    bool completed = json_is_true (json_object_get (attempt, "completed"));
    status->started = (int64_t)json_integer_value (json_object_get (attempt, "startTimeEpoch"));
    snprintf (status->raw, sizeof status->raw, "%s", completed ? "completed" : "running");
    //  completed:true carries no verdict: the caller asks for the app's jobs.
    status->state = completed ? JOBD_STATE_NONE : JOBD_STATE_RUNNING;
    status->ended = completed;
    return true;
}

int
sp_history_apps (const char *body, size_t size, long http, sp_status_fn *fn, void *arg)
{
    json_t *root = http == 200 ? sp_json_load (body, size) : NULL;
    int rc = 0;
    if (json_is_array (root))
        sp_json_each (root, s_application, fn, arg);
    else if (json_is_object (root)) {
        //  /applications/{id}: one ApplicationInfo.
        sp_status_t status;
        sp_status_reset (&status);
        if (s_application (root, &status))
            fn (&status, arg);
    } else
        rc = JOBD_EPROTO;
    json_decref (root);
    return rc;
}

int
sp_history_jobs (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_status_reset (status);
    if (http == 404) {
        status->known = false; //  text/plain "no such app: ..."
        return 0;
    }
    json_t *root = http == 200 ? sp_json_load (body, size) : NULL;
    if (!json_is_array (root)) {
        json_decref (root);
        return JOBD_EPROTO;
    }
    status->state = JOBD_STATE_SUCCEEDED;
    size_t index;
    json_t *job;
    json_array_foreach (root, index, job)
    {
        const char *job_status = sp_json_str (job, "status");
        if (job_status && !strcmp (job_status, "FAILED")) {
            status->state = JOBD_STATE_FAILED;
            snprintf (status->error, sizeof status->error,
                      "Spark job %" JSON_INTEGER_FORMAT " failed: %s",
                      json_integer_value (json_object_get (job, "jobId")),
                      sp_json_str (job, "name") ? sp_json_str (job, "name") : "(no name)");
            break;
        }
    }
    json_decref (root);
    return 0;
}
