//  spark-poller: the standalone master's REST submission server (reference §1) and its web UI
//  JSON (§1.10), read into statuses.
#include "sp_json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  How the master says it is a standby (§1.4): not a lost job, try the next master.
#define SP_STANDBY_PREFIX "Current state is not alive"

jobd_state_t
sp_map_standalone (const char *driver_state)
{
    static const struct {
        const char *word;
        jobd_state_t state;
    } map[] = {
        //  Accepted with an id, waiting for a worker: jobd's SUBMITTED (jobd's QUEUED is its own
        //  not-yet-sent queue, and a job never moves back to it).
        {"SUBMITTED", JOBD_STATE_SUBMITTED},
        {"RUNNING", JOBD_STATE_RUNNING},
        {"FINISHED", JOBD_STATE_SUCCEEDED},
        {"FAILED", JOBD_STATE_FAILED},
        {"ERROR", JOBD_STATE_FAILED},
        {"KILLED", JOBD_STATE_CANCELLED},
        //  Dead under this id; a supervised driver lives on under a new one (found in /json/).
        {"RELAUNCHING", JOBD_STATE_UNKNOWN},
        {"UNKNOWN", JOBD_STATE_UNKNOWN},
    };
    for (size_t index = 0; driver_state && index < sizeof map / sizeof map[0]; index++)
        if (strcmp (driver_state, map[index].word) == 0)
            return map[index].state;
    return JOBD_STATE_NONE;
}

//  The envelope every REST reply shares: a JSON object with "action". Returns the object (fresh)
//  or NULL with status->error saying what came instead.
static json_t *
s_envelope (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_status_reset (status);
    json_t *root = sp_json_load (body, size);
    if (!json_is_object (root) || !sp_json_str (root, "action")) {
        snprintf (status->error, sizeof status->error,
                  "master answered HTTP %ld without a JSON reply (%zu bytes)", http, size);
        json_decref (root);
        return NULL;
    }
    const char *message = sp_json_str (root, "message");
    if (message)
        sp_copy (status->error, sizeof status->error, message);
    if (message && strstr (message, SP_STANDBY_PREFIX))
        status->standby = true;
    return root;
}

static bool
s_success (const json_t *root)
{
    return json_is_true (json_object_get (root, "success"));
}

int
sp_standalone_create (const char *body, size_t size, long http, sp_status_t *status)
{
    json_t *root = s_envelope (body, size, http, status);
    if (!root)
        return JOBD_EPROTO;
    const char *id = sp_json_str (root, "submissionId");
    int rc = 0;
    if (http == 200 && s_success (root) && id) {
        sp_copy (status->id, sizeof status->id, id);
        status->state = JOBD_STATE_SUBMITTED;
        status->error[0] = 0; //  the message is "Driver successfully submitted as ..."
    } else {
        //  A refusal: ErrorResponse (400/500) or success:false (a standby master).
        if (!status->error[0])
            snprintf (status->error, sizeof status->error,
                      "master refused the submission (HTTP %ld)", http);
        rc = JOBD_ESTATE;
    }
    json_decref (root);
    return rc;
}

int
sp_standalone_status (const char *body, size_t size, long http, sp_status_t *status)
{
    json_t *root = s_envelope (body, size, http, status);
    if (!root)
        return JOBD_EPROTO;
    int rc = 0;
    const char *action = sp_json_str (root, "action");
    if (http != 200 || strcmp (action, "SubmissionStatusResponse") != 0)
        rc = JOBD_EPROTO; //  400/468/500 ErrorResponse: the request or the server is wrong
    else if (!s_success (root)) {
        //  Unknown, aged out or cleared, or a standby master: only the latter is not news.
        status->known = status->standby;
        if (!status->standby)
            status->error[0] = 0;
    } else {
        const char *state = sp_json_str (root, "driverState");
        sp_copy (status->raw, sizeof status->raw, state);
        status->state = sp_map_standalone (state);
        if (status->state == JOBD_STATE_NONE)
            rc = JOBD_EPROTO;
        //  A driver that exits non-zero leaves no message (§1.5): say what is known.
        if (status->state == JOBD_STATE_FAILED && !status->error[0])
            snprintf (status->error, sizeof status->error,
                      "the driver ended %s: it exited with a non-zero code (the master records "
                      "no message for that; see the driver's log on its worker)",
                      state);
    }
    sp_copy (status->id, sizeof status->id, sp_json_str (root, "submissionId"));
    json_decref (root);
    return rc;
}

int
sp_standalone_kill (const char *body, size_t size, long http, sp_status_t *status)
{
    json_t *root = s_envelope (body, size, http, status);
    if (!root)
        return JOBD_EPROTO;
    int rc = http == 200 && s_success (root) ? 0 : JOBD_ESTATE;
    sp_copy (status->id, sizeof status->id, sp_json_str (root, "submissionId"));
    json_decref (root);
    return rc;
}

static bool
s_driver (const json_t *driver, sp_status_t *status)
{
    const char *id = sp_json_str (driver, "id");
    const char *state = sp_json_str (driver, "state");
    if (!id || !state)
        return false;
    sp_copy (status->id, sizeof status->id, id);
    sp_copy (status->raw, sizeof status->raw, state);
    status->state = sp_map_standalone (state);
    const char *start = sp_json_str (driver, "starttime"); //  epoch ms, as a string
    status->started = start ? strtoll (start, NULL, 10) : 0;
    return status->state != JOBD_STATE_NONE;
}

int
sp_master_json (const char *body, size_t size, long http, sp_status_fn *fn, void *arg)
{
    json_t *root = http == 200 ? sp_json_load (body, size) : NULL;
    if (!json_is_object (root)) {
        json_decref (root);
        return JOBD_EPROTO;
    }
    int stopped = sp_json_each (json_object_get (root, "activedrivers"), s_driver, fn, arg);
    if (!stopped)
        sp_json_each (json_object_get (root, "completeddrivers"), s_driver, fn, arg);
    json_decref (root);
    return 0;
}

//  Orders two drivers by age: their ids carry the master's submit time and a counter
//  (driver-yyyyMMddHHmmss-N, the counter may outgrow its four digits); starttime otherwise.
//  Returns <0 when a is older than b, 0 when neither is known older, >0 when newer.
static int
s_driver_order (const json_t *a, const json_t *b)
{
    char time_a[15], time_b[15];
    long long count_a, count_b;
    const char *id_a = sp_json_str (a, "id"), *id_b = sp_json_str (b, "id");
    if (id_a && id_b && sscanf (id_a, "driver-%14[0-9]-%lld", time_a, &count_a) == 2 &&
        sscanf (id_b, "driver-%14[0-9]-%lld", time_b, &count_b) == 2 && strlen (time_a) == 14 &&
        strlen (time_b) == 14) {
        int order = strcmp (time_a, time_b);
        return order ? order : (count_a > count_b) - (count_a < count_b);
    }
    const char *start_a = sp_json_str (a, "starttime"), *start_b = sp_json_str (b, "starttime");
    long long ms_a = start_a ? strtoll (start_a, NULL, 10) : 0;
    long long ms_b = start_b ? strtoll (start_b, NULL, 10) : 0;
    return (ms_a > ms_b) - (ms_a < ms_b);
}

//  Two values of one key: equal, or both absent.
static bool
s_same (const json_t *a, const json_t *b, const char *key)
{
    json_t *value_a = json_object_get (a, key), *value_b = json_object_get (b, key);
    return value_a == value_b || json_equal (value_a, value_b);
}

//  The same driver description: mainclass, cores and memory (what a relaunch copies).
static bool
s_same_description (const json_t *a, const json_t *b)
{
    const char *class_a = sp_json_str (a, "mainclass");
    return class_a && *class_a && s_same (a, b, "mainclass") && s_same (a, b, "cores") &&
           s_same (a, b, "memory");
}

int
sp_master_replacement (const char *body, size_t size, long http, const char *old_id,
                       sp_taken_fn *taken, void *arg, sp_status_t *status)
{
    sp_status_reset (status);
    json_t *root = http == 200 ? sp_json_load (body, size) : NULL;
    if (!json_is_object (root)) {
        json_decref (root);
        return JOBD_EPROTO;
    }
    json_t *lists[] = {json_object_get (root, "activedrivers"),
                       json_object_get (root, "completeddrivers")};
    const json_t *old = NULL, *best = NULL;
    size_t index;
    json_t *driver;
    for (int list = 0; list < 2 && !old; list++)
        json_array_foreach (lists[list], index, driver)
        {
            const char *id = sp_json_str (driver, "id");
            if (id && old_id && strcmp (id, old_id) == 0) {
                old = driver;
                break;
            }
        }
    for (int list = 0; list < 2 && old; list++)
        json_array_foreach (lists[list], index, driver)
        {
            const char *id = sp_json_str (driver, "id");
            if (!id || driver == old || !s_same_description (driver, old) ||
                s_driver_order (driver, old) <= 0 || (best && s_driver_order (driver, best) >= 0))
                continue;
            if (!taken || !taken (id, arg))
                best = driver;
        }
    int rc = best && s_driver (best, status) ? 0 : JOBD_ENOTFOUND;
    if (rc)
        sp_status_reset (status);
    json_decref (root);
    return rc;
}
