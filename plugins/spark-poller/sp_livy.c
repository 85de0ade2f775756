//  spark-poller: Apache Livy's batch API (reference §3), read into statuses.
#include "sp_json.h"
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
s_log_tail (const json_t *log, sp_status_t *status)
{
    size_t total = 1, index;
    json_t *line;
    json_array_foreach (log, index, line) total += json_string_length (line) + 1;
    char *joined = (char *)calloc (1, total);
    if (!joined)
        return;
    json_array_foreach (log, index, line)
    {
        if (!json_is_string (line))
            continue;
        if (*joined)
            strcat (joined, "\n");
        strcat (joined, json_string_value (line));
    }
    sp_copy_tail (status->error, sizeof status->error, joined);
    free (joined);
}

static bool
s_batch (const json_t *batch, sp_status_t *status)
{
    json_t *id = json_object_get (batch, "id");
    const char *state = sp_json_str (batch, "state");
    if (!json_is_integer (id) || !state)
        return false;
    snprintf (status->id, sizeof status->id, "%" JSON_INTEGER_FORMAT, json_integer_value (id));
    sp_copy (status->raw, sizeof status->raw, state);
    sp_copy (status->name, sizeof status->name, sp_json_str (batch, "name"));
    status->state = sp_map_livy (state);
    if (status->state == JOBD_STATE_FAILED || status->state == JOBD_STATE_CANCELLED)
        s_log_tail (json_object_get (batch, "log"), status);
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
    json_t *root = sp_json_load (body, size);
    int rc = 0;
    if (http == 404) {
        //  Deleted, or garbage-collected 600 s after it finished, or Livy lost it.
        status->known = false;
        s_error (root, http, status);
    } else if (http == 200 || http == 201) {
        if (!json_is_object (root) || !s_batch (root, status))
            rc = JOBD_EPROTO;
    } else {
        s_error (root, http, status);
        rc = http == 400 || http == 403 ? JOBD_ESTATE : JOBD_EPROTO;
    }
    json_decref (root);
    return rc;
}

int
sp_livy_list (const char *body, size_t size, long http, sp_status_fn *fn, void *arg, long *total_p)
{
    json_t *root = http == 200 ? sp_json_load (body, size) : NULL;
    json_t *sessions = json_object_get (root, "sessions");
    if (!json_is_array (sessions)) {
        json_decref (root);
        return JOBD_EPROTO;
    }
    if (total_p)
        *total_p = (long)json_integer_value (json_object_get (root, "total"));
    sp_json_each (sessions, s_batch, fn, arg);
    json_decref (root);
    return 0;
}
