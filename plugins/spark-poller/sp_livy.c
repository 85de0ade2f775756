//  spark-poller: Apache Livy's batch API (reference §3), read into statuses.
#include "sp_json.h"
#include "jobd_cause.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

jobd_state_t
sp_map_livy (const char *state)
{
    static const struct {
        const char *word;
        jobd_state_t state;
    } map[] = {
        {"not_started", JOBD_STATE_SUBMITTED},
        {"starting", JOBD_STATE_SUBMITTED},
        //  Livy re-attaching after its own restart: no news about the job.
        {"recovering", JOBD_STATE_NONE},
        {"running", JOBD_STATE_RUNNING},
        {"idle", JOBD_STATE_RUNNING},
        {"busy", JOBD_STATE_RUNNING},
        {"shutting_down", JOBD_STATE_RUNNING},
        {"success", JOBD_STATE_SUCCEEDED},
        {"dead", JOBD_STATE_FAILED},
        {"error", JOBD_STATE_FAILED},
        {"killed", JOBD_STATE_CANCELLED},
    };
    for (size_t index = 0; state && index < sizeof map / sizeof map[0]; index++)
        if (strcmp (state, map[index].word) == 0)
            return map[index].state;
    return JOBD_STATE_NONE;
}

//  The log tail (up to 10 lines in a batch object) is the failure's reason; its end matters most.
static void
s_log_tail (sp_jvalue_t log, sp_status_t *status)
{
    if (log.type != SP_JARRAY)
        return;
    char *joined = (char *)malloc (log.size + 1); //  unescaped lines and newlines fit in it
    if (!joined)
        return;
    size_t used = 0;
    sp_jscan_t scan;
    sp_jscan_init (&scan, log.text, log.size);
    sp_jscan_enter (&scan, SP_JARRAY);
    sp_jvalue_t line;
    while (sp_jscan_element (&scan) && sp_jscan_value (&scan, &line)) {
        size_t start = used ? used + 1 : 0;
        if (!sp_jvalue_string (line, joined + start, log.size + 1 - start))
            continue; //  not a string, or not text: left out
        if (used)
            joined[used] = '\n';
        used = start + strlen (joined + start);
    }
    joined[used] = 0;
    sp_copy_tail (status->error, sizeof status->error, joined);
    jobd_cause_livy_log (joined, status->cause, sizeof status->cause);
    free (joined);
}

//  The batch's application and its links: "appId" and "appInfo" (null, or null members, until
//  the application is known).
static void
s_links (const sp_jobject_t *batch, sp_status_t *status)
{
    sp_jstr (batch, "appId", status->app_id, sizeof status->app_id);
    sp_jvalue_t info = sp_jobject_get (batch, "appInfo");
    sp_jobject_t members;
    sp_jscan_t scan;
    sp_jscan_init (&scan, info.text, info.size);
    if (info.type != SP_JOBJECT || !sp_jscan_object (&scan, &members))
        return;
    sp_jstr (&members, "sparkUiUrl", status->app_url, sizeof status->app_url);
    sp_jstr (&members, "driverLogUrl", status->log_url, sizeof status->log_url);
}

static bool
s_batch (const sp_jobject_t *batch, sp_status_t *status)
{
    int64_t id;
    char state[32];
    if (!sp_jvalue_integer (sp_jobject_get (batch, "id"), &id) ||
        !sp_jstr (batch, "state", state, sizeof state))
        return false;
    snprintf (status->id, sizeof status->id, "%" PRId64, id);
    sp_copy (status->raw, sizeof status->raw, state);
    sp_jstr (batch, "name", status->name, sizeof status->name);
    status->state = sp_map_livy (state);
    if (status->state == JOBD_STATE_FAILED || status->state == JOBD_STATE_CANCELLED)
        s_log_tail (sp_jobject_get (batch, "log"), status);
    s_links (batch, status);
    //  Recovering is known but no news; an unknown word is not a batch we can read.
    return status->state != JOBD_STATE_NONE || strcmp (state, "recovering") == 0;
}

//  Livy's errors: {"msg": "..."}, or a bare JSON string (a Jackson parse error).
static void
s_error (const json_t *root, long http, sp_status_t *status)
{
    const char *text = json_is_string (root) ? json_string_value (root) : sp_json_str (root, "msg");
    if (text)
        sp_copy (status->error, sizeof status->error, text);
    else
        snprintf (status->error, sizeof status->error, "Livy answered HTTP %ld", http);
}

int
sp_livy_batch (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_status_reset (status);
    if (http == 200 || http == 201) {
        sp_jobject_t batch;
        return sp_json_root (body, size, &batch) && s_batch (&batch, status) ? 0 : JOBD_EPROTO;
    }
    json_t *root = sp_json_load (body, size);
    s_error (root, http, status);
    json_decref (root);
    if (http == 404) {
        //  Deleted, or garbage-collected 600 s after it finished, or Livy lost it.
        status->known = false;
        return 0;
    }
    return http == 400 || http == 403 ? JOBD_ESTATE : JOBD_EPROTO;
}

//  {"from":0,"total":N,"sessions":[...]}
const sp_jlist_shape_t sp_livy_list_shape = {.levels = 1,
                                             .keys = {{"sessions"}},
                                             .capture = "total",
                                             .required = SP_JLIST_ARRAY,
                                             .parse = s_batch};

int
sp_livy_list (const char *body, size_t size, long http, sp_status_fn *fn, void *arg, long *total_p)
{
    sp_jlist_t list;
    sp_jlist_init (&list, &sp_livy_list_shape, fn, arg);
    int rc = http == 200 ? sp_jlist_feed (&list, body, size, true) : JOBD_EPROTO;
    if (total_p)
        *total_p = rc == 0 ? (long)list.captured : 0;
    return rc;
}
