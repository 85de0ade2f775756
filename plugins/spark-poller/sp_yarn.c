//  spark-poller: the YARN ResourceManager's apps API (reference §4), read into statuses.
#include "sp_json.h"
#include "jobd_cause.h"
#include <string.h>

jobd_state_t
sp_map_yarn (const char *state, const char *final_status)
{
    if (!state)
        return JOBD_STATE_NONE;
    if (!strcmp (state, "NEW") || !strcmp (state, "NEW_SAVING") || !strcmp (state, "SUBMITTED") ||
        !strcmp (state, "ACCEPTED"))
        return JOBD_STATE_SUBMITTED;
    if (!strcmp (state, "RUNNING"))
        return JOBD_STATE_RUNNING;
    if (!strcmp (state, "FAILED"))
        return JOBD_STATE_FAILED;
    if (!strcmp (state, "KILLED"))
        return JOBD_STATE_CANCELLED;
    if (!strcmp (state, "FINISHED")) {
        //  FINISHED says only that the AM unregistered: finalStatus is the verdict.
        if (final_status && !strcmp (final_status, "SUCCEEDED"))
            return JOBD_STATE_SUCCEEDED;
        if (final_status && !strcmp (final_status, "KILLED"))
            return JOBD_STATE_CANCELLED;
        return JOBD_STATE_FAILED; //  FAILED, or UNDEFINED: no verdict is no success
    }
    //  Internal RMAppState names from /state (FINAL_SAVING, FINISHING, KILLING): not a verdict.
    return JOBD_STATE_NONE;
}

static bool
s_app (const sp_jobject_t *app, sp_status_t *status)
{
    char state[32], final_status[32];
    if (!sp_jid (app, "id", status->id, sizeof status->id) ||
        !sp_jstr (app, "state", state, sizeof state))
        return false;
    bool has_final = sp_jstr (app, "finalStatus", final_status, sizeof final_status);
    snprintf (status->raw, sizeof status->raw, "%s/%s", state, has_final ? final_status : "-");
    status->state = sp_map_yarn (state, has_final ? final_status : NULL);
    status->started = sp_jint (app, "startedTime");
    if (status->state == JOBD_STATE_FAILED || status->state == JOBD_STATE_CANCELLED) {
        if (!sp_jstr (app, "diagnostics", status->error, sizeof status->error) || !*status->error) {
            if (!strcmp (state, "FINISHED") && (!has_final || strcmp (final_status, "FAILED")))
                snprintf (status->error, sizeof status->error,
                          "YARN: the application finished without a final status (%s)",
                          status->raw);
        } else
            jobd_cause_yarn (status->error, status->cause, sizeof status->cause);
    }
    //  No app_id: YARN's application id is the job's ext already.
    sp_jstr (app, "trackingUrl", status->app_url, sizeof status->app_url);
    sp_jstr (app, "amContainerLogs", status->log_url, sizeof status->log_url);
    return status->state != JOBD_STATE_NONE;
}

//  {"apps":{"app":[...]}}; no match is "apps":{}, "apps":"", "apps":null or no "app".
const sp_jlist_shape_t sp_yarn_list_shape = {
    .levels = 2, .keys = {{"apps"}, {"app"}}, .required = SP_JLIST_KEY, .parse = s_app};

int
sp_yarn_apps (const char *body, size_t size, long http, sp_status_fn *fn, void *arg)
{
    sp_jlist_t list;
    sp_jlist_init (&list, &sp_yarn_list_shape, fn, arg);
    return http == 200 ? sp_jlist_feed (&list, body, size, true) : JOBD_EPROTO;
}

int
sp_yarn_app (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_status_reset (status);
    sp_jobject_t object;
    if (http == 404) {
        //  Unknown, aged out past max-completed-applications, or an RM restart without recovery.
        status->known = false;
        if (sp_json_root_member (body, size, "RemoteException", &object))
            sp_jstr (&object, "message", status->error, sizeof status->error);
        return 0;
    }
    if (http != 200 || !sp_json_root_member (body, size, "app", &object) ||
        !s_app (&object, status))
        return JOBD_EPROTO;
    return 0;
}
