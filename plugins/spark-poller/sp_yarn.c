//  spark-poller: the YARN ResourceManager's apps API (reference §4), read into statuses.
#include "sp_json.h"
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
s_app (const json_t *app, sp_status_t *status)
{
    const char *id = sp_json_str (app, "id");
    const char *state = sp_json_str (app, "state");
    const char *final_status = sp_json_str (app, "finalStatus");
    if (!id || !state)
        return false;
    sp_copy (status->id, sizeof status->id, id);
    snprintf (status->raw, sizeof status->raw, "%s/%s", state, final_status ? final_status : "-");
    status->state = sp_map_yarn (state, final_status);
    status->started = (int64_t)json_integer_value (json_object_get (app, "startedTime"));
    const char *diagnostics = sp_json_str (app, "diagnostics");
    if (status->state == JOBD_STATE_FAILED || status->state == JOBD_STATE_CANCELLED) {
        if (diagnostics && *diagnostics)
            sp_copy (status->error, sizeof status->error, diagnostics);
        else if (!strcmp (state, "FINISHED") && (!final_status || strcmp (final_status, "FAILED")))
            snprintf (status->error, sizeof status->error,
                      "YARN: the application finished without a final status (%s)", status->raw);
    }
    return status->state != JOBD_STATE_NONE;
}

int
sp_yarn_apps (const char *body, size_t size, long http, sp_status_fn *fn, void *arg)
{
    json_t *root = http == 200 ? sp_json_load (body, size) : NULL;
    if (!json_is_object (root) || !json_object_get (root, "apps")) {
        json_decref (root);
        return JOBD_EPROTO;
    }
    //  {"apps":{"app":[...]}}; no match is "apps":{}, "apps":"", "apps":null or no "app".
    sp_json_each (json_object_get (json_object_get (root, "apps"), "app"), s_app, fn, arg);
    json_decref (root);
    return 0;
}

int
sp_yarn_app (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_status_reset (status);
    json_t *root = sp_json_load (body, size);
    int rc = 0;
    if (http == 404) {
        //  Unknown, aged out past max-completed-applications, or an RM restart without recovery.
        status->known = false;
        const char *message = sp_json_str (json_object_get (root, "RemoteException"), "message");
        sp_copy (status->error, sizeof status->error, message);
    } else if (http != 200 || !s_app (json_object_get (root, "app"), status))
        rc = JOBD_EPROTO;
    json_decref (root);
    return rc;
}
