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

//  The envelope every REST reply shares: a JSON object with "action" (into root, borrowed from
//  body). Returns false, with status->error saying what came instead, for anything else.
static bool
s_envelope (const char *body, size_t size, long http, sp_status_t *status, sp_jobject_t *root)
{
    sp_status_reset (status);
    if (!sp_json_root (body, size, root) || sp_jobject_get (root, "action").type != SP_JSTRING) {
        snprintf (status->error, sizeof status->error,
                  "master answered HTTP %ld without a JSON reply (%zu bytes)", http, size);
        return false;
    }
    if (sp_jstr (root, "message", status->error, sizeof status->error) &&
        strstr (status->error, SP_STANDBY_PREFIX))
        status->standby = true;
    return true;
}

static bool
s_success (const sp_jobject_t *root)
{
    return sp_jobject_get (root, "success").type == SP_JTRUE;
}

int
sp_standalone_create (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_jobject_t root;
    if (!s_envelope (body, size, http, status, &root))
        return JOBD_EPROTO;
    char id[JOBD_ID_MAX + 1];
    if (http == 200 && s_success (&root) && sp_jstr (&root, "submissionId", id, sizeof id)) {
        sp_copy (status->id, sizeof status->id, id);
        status->state = JOBD_STATE_SUBMITTED;
        status->error[0] = 0; //  the message is "Driver successfully submitted as ..."
        return 0;
    }
    //  A refusal: ErrorResponse (400/500) or success:false (a standby master).
    if (!status->error[0])
        snprintf (status->error, sizeof status->error, "master refused the submission (HTTP %ld)",
                  http);
    return JOBD_ESTATE;
}

int
sp_standalone_status (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_jobject_t root;
    if (!s_envelope (body, size, http, status, &root))
        return JOBD_EPROTO;
    int rc = 0;
    char action[64], state[32];
    sp_jstr (&root, "action", action, sizeof action);
    if (http != 200 || strcmp (action, "SubmissionStatusResponse") != 0)
        rc = JOBD_EPROTO; //  400/468/500 ErrorResponse: the request or the server is wrong
    else if (!s_success (&root)) {
        //  Unknown, aged out or cleared, or a standby master: only the latter is not news.
        status->known = status->standby;
        if (!status->standby)
            status->error[0] = 0;
    } else {
        bool has_state = sp_jstr (&root, "driverState", state, sizeof state);
        sp_copy (status->raw, sizeof status->raw, has_state ? state : NULL);
        status->state = has_state ? sp_map_standalone (state) : JOBD_STATE_NONE;
        if (status->state == JOBD_STATE_NONE)
            rc = JOBD_EPROTO;
        //  A driver that exits non-zero leaves no message (§1.5): say what is known.
        if (status->state == JOBD_STATE_FAILED && !status->error[0])
            snprintf (status->error, sizeof status->error,
                      "the driver ended %s: it exited with a non-zero code (the master records "
                      "no message for that; see the driver's log on its worker)",
                      state);
    }
    sp_jstr (&root, "submissionId", status->id, sizeof status->id);
    return rc;
}

int
sp_standalone_kill (const char *body, size_t size, long http, sp_status_t *status)
{
    sp_jobject_t root;
    if (!s_envelope (body, size, http, status, &root))
        return JOBD_EPROTO;
    sp_jstr (&root, "submissionId", status->id, sizeof status->id);
    return http == 200 && s_success (&root) ? 0 : JOBD_ESTATE;
}

static bool
s_driver (const sp_jobject_t *driver, sp_status_t *status)
{
    char state[32], start[24];
    if (!sp_jstr (driver, "id", status->id, sizeof status->id) ||
        !sp_jstr (driver, "state", state, sizeof state))
        return false;
    sp_copy (status->raw, sizeof status->raw, state);
    status->state = sp_map_standalone (state);
    //  epoch ms, as a string
    status->started =
        sp_jstr (driver, "starttime", start, sizeof start) ? strtoll (start, NULL, 10) : 0;
    return status->state != JOBD_STATE_NONE;
}

//  The master UI's /json/: {..., "activedrivers":[...], "completeddrivers":[...], ...}
const sp_jlist_shape_t sp_master_list_shape = {
    .levels = 1, .keys = {{"activedrivers", "completeddrivers"}}, .parse = s_driver};

int
sp_master_json (const char *body, size_t size, long http, sp_status_fn *fn, void *arg)
{
    sp_jlist_t list;
    sp_jlist_init (&list, &sp_master_list_shape, fn, arg);
    return http == 200 ? sp_jlist_feed (&list, body, size, true) : JOBD_EPROTO;
}

//  Orders two drivers by age: their ids carry the master's submit time and a counter
//  (driver-yyyyMMddHHmmss-N, the counter may outgrow its four digits); starttime otherwise.
//  Returns <0 when a is older than b, 0 when neither is known older, >0 when newer.
static int
s_driver_order (const sp_jobject_t *a, const sp_jobject_t *b)
{
    char id_a[JOBD_ID_MAX + 1], id_b[JOBD_ID_MAX + 1], time_a[15], time_b[15];
    long long count_a, count_b;
    if (sp_jstr (a, "id", id_a, sizeof id_a) && sp_jstr (b, "id", id_b, sizeof id_b) &&
        sscanf (id_a, "driver-%14[0-9]-%lld", time_a, &count_a) == 2 &&
        sscanf (id_b, "driver-%14[0-9]-%lld", time_b, &count_b) == 2 && strlen (time_a) == 14 &&
        strlen (time_b) == 14) {
        int order = strcmp (time_a, time_b);
        return order ? order : (count_a > count_b) - (count_a < count_b);
    }
    char start_a[24], start_b[24];
    long long ms_a =
        sp_jstr (a, "starttime", start_a, sizeof start_a) ? strtoll (start_a, NULL, 10) : 0;
    long long ms_b =
        sp_jstr (b, "starttime", start_b, sizeof start_b) ? strtoll (start_b, NULL, 10) : 0;
    return (ms_a > ms_b) - (ms_a < ms_b);
}

//  Two values of one key: the same JSON text, or both absent.
static bool
s_same (const sp_jobject_t *a, const sp_jobject_t *b, const char *key)
{
    sp_jvalue_t value_a = sp_jobject_get (a, key), value_b = sp_jobject_get (b, key);
    return value_a.type == value_b.type && value_a.size == value_b.size &&
           (value_a.size == 0 || memcmp (value_a.text, value_b.text, value_a.size) == 0);
}

//  The same driver description: mainclass, cores and memory (what a relaunch copies).
static bool
s_same_description (const sp_jobject_t *a, const sp_jobject_t *b)
{
    char main_class[8];
    return sp_jstr (a, "mainclass", main_class, sizeof main_class) && *main_class &&
           s_same (a, b, "mainclass") && s_same (a, b, "cores") && s_same (a, b, "memory");
}

typedef struct {
    const char *old_id;
    sp_taken_fn *taken;
    void *arg;
    bool have_old, have_best;
    sp_jobject_t old, best; //  borrowed from the body
} s_relaunch_t;

//  Calls fn for every driver, active and completed, of a checked /json/ body.
static void
s_drivers (const char *body, size_t size, void (*fn) (const sp_jobject_t *, s_relaunch_t *),
           s_relaunch_t *relaunch)
{
    sp_jscan_t scan;
    sp_jvalue_t key;
    sp_jobject_t driver;
    sp_jscan_init (&scan, body, size);
    if (!sp_jscan_enter (&scan, SP_JOBJECT))
        return;
    while (sp_jscan_member (&scan, &key)) {
        if ((sp_jkey_is (key, "activedrivers") || sp_jkey_is (key, "completeddrivers")) &&
            sp_jscan_enter (&scan, SP_JARRAY)) {
            while (sp_jscan_element (&scan))
                if (sp_jscan_object (&scan, &driver))
                    fn (&driver, relaunch);
                else
                    sp_jscan_value (&scan, NULL);
        } else
            sp_jscan_value (&scan, NULL);
    }
}

static void
s_find_old (const sp_jobject_t *driver, s_relaunch_t *relaunch)
{
    char id[JOBD_ID_MAX + 1];
    if (!relaunch->have_old && sp_jstr (driver, "id", id, sizeof id) &&
        strcmp (id, relaunch->old_id) == 0) {
        relaunch->old = *driver;
        relaunch->have_old = true;
    }
}

static void
s_find_best (const sp_jobject_t *driver, s_relaunch_t *relaunch)
{
    char id[JOBD_ID_MAX + 1];
    if (!sp_jstr (driver, "id", id, sizeof id) || strcmp (id, relaunch->old_id) == 0 ||
        !s_same_description (driver, &relaunch->old) ||
        s_driver_order (driver, &relaunch->old) <= 0 ||
        (relaunch->have_best && s_driver_order (driver, &relaunch->best) >= 0))
        return;
    if (!relaunch->taken || !relaunch->taken (id, relaunch->arg)) {
        relaunch->best = *driver;
        relaunch->have_best = true;
    }
}

int
sp_master_replacement (const char *body, size_t size, long http, const char *old_id,
                       sp_taken_fn *taken, void *arg, sp_status_t *status)
{
    sp_status_reset (status);
    sp_jscan_t scan;
    sp_jscan_init (&scan, body, size);
    if (http != 200 || !sp_jscan_check (body, size) || sp_jscan_peek (&scan) != SP_JOBJECT)
        return JOBD_EPROTO;
    s_relaunch_t relaunch = {.old_id = old_id ? old_id : "", .taken = taken, .arg = arg};
    s_drivers (body, size, s_find_old, &relaunch);
    if (relaunch.have_old && *relaunch.old_id)
        s_drivers (body, size, s_find_best, &relaunch);
    int rc = relaunch.have_best && s_driver (&relaunch.best, status) ? 0 : JOBD_ENOTFOUND;
    if (rc)
        sp_status_reset (status);
    return rc;
}
