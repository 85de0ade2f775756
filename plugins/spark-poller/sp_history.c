//  spark-poller: the Spark history server's /api/v1 (reference §2), read into statuses.
#include "sp_json.h"
#include <string.h>

static bool
s_application (const sp_jobject_t *app, sp_status_t *status)
{
    if (!sp_jid (app, "id", status->id, sizeof status->id))
        return false;
    //  The newest attempt comes first; an app with none is running.
    sp_jvalue_t attempts = sp_jobject_get (app, "attempts");
    sp_jobject_t attempt = {.count = 0};
    sp_jscan_t scan;
    sp_jscan_init (&scan, attempts.text, attempts.size);
    if (sp_jscan_enter (&scan, SP_JARRAY) && sp_jscan_element (&scan))
        sp_jscan_object (&scan, &attempt);
    bool completed = sp_jobject_get (&attempt, "completed").type == SP_JTRUE;
    status->started = sp_jint (&attempt, "startTimeEpoch");
    snprintf (status->raw, sizeof status->raw, "%s", completed ? "completed" : "running");
    //  completed:true carries no verdict: the caller asks for the app's jobs.
    status->state = completed ? JOBD_STATE_NONE : JOBD_STATE_RUNNING;
    status->ended = completed;
    return true;
}

//  /applications: an array of ApplicationInfo.
static const sp_jlist_shape_t s_list_shape = {.levels = 0, .parse = s_application};

int
sp_history_apps (const char *body, size_t size, long http, sp_status_fn *fn, void *arg)
{
    if (http != 200)
        return JOBD_EPROTO;
    sp_jobject_t app;
    if (!sp_json_root (body, size, &app)) {
        sp_jlist_t list;
        sp_jlist_init (&list, &s_list_shape, fn, arg);
        return sp_jlist_feed (&list, body, size, true);
    }
    //  /applications/{id}: one ApplicationInfo.
    sp_status_t status;
    sp_status_reset (&status);
    if (s_application (&app, &status))
        fn (&status, arg);
    return 0;
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
