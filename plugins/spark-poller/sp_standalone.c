//  spark-poller: the standalone master's REST submission server (reference §1) and its web UI
//  JSON (§1.10), read into statuses.
#include "sp_json.h"
#include "jobd_cause.h"
#include "sp_spec.h"
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
        if (status->error[0]) //  "Exception from the cluster:\n<exception>\n\t<frames>"
            jobd_cause_spark (status->error, status->cause, sizeof status->cause);
        //  A driver that exits non-zero leaves no message (§1.5), nor does one whose worker
        //  was lost (ERROR, §1.9): say what is known.
        if (status->state == JOBD_STATE_FAILED && !status->error[0])
            snprintf (status->error, sizeof status->error,
                      "the driver ended %s: %s (the master records no message for that; see the "
                      "driver's log on its worker)",
                      state,
                      strcmp (state, "ERROR") == 0
                          ? "it could not be run or restarted, or its worker was lost"
                          : "it exited with a non-zero code");
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
    if (!sp_jid (driver, "id", status->id, sizeof status->id) ||
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
int
sp_driver_id_order (const char *a, const char *b, int *order)
{
    char time_a[15], time_b[15];
    long long count_a, count_b;
    if (!a || !b || sscanf (a, "driver-%14[0-9]-%lld", time_a, &count_a) != 2 ||
        sscanf (b, "driver-%14[0-9]-%lld", time_b, &count_b) != 2 || strlen (time_a) != 14 ||
        strlen (time_b) != 14)
        return JOBD_EPROTO;
    *order = strcmp (time_a, time_b);
    if (*order == 0)
        *order = (count_a > count_b) - (count_a < count_b);
    return 0;
}

static int
s_driver_order (const sp_jobject_t *a, const sp_jobject_t *b)
{
    char id_a[JOBD_ID_MAX + 1], id_b[JOBD_ID_MAX + 1];
    int order;
    if (sp_jstr (a, "id", id_a, sizeof id_a) && sp_jstr (b, "id", id_b, sizeof id_b) &&
        sp_driver_id_order (id_a, id_b, &order) == 0)
        return order;
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
s_drivers (const char *body, size_t size, void (*fn) (const sp_jobject_t *, void *), void *arg)
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
                    fn (&driver, arg);
                else
                    sp_jscan_value (&scan, NULL);
        } else
            sp_jscan_value (&scan, NULL);
    }
}

static void
s_find_old (const sp_jobject_t *driver, void *arg)
{
    s_relaunch_t *relaunch = (s_relaunch_t *)arg;
    char id[JOBD_ID_MAX + 1];
    if (!relaunch->have_old && sp_jstr (driver, "id", id, sizeof id) &&
        strcmp (id, relaunch->old_id) == 0) {
        relaunch->old = *driver;
        relaunch->have_old = true;
    }
}

static void
s_find_best (const sp_jobject_t *driver, void *arg)
{
    s_relaunch_t *relaunch = (s_relaunch_t *)arg;
    char id[JOBD_ID_MAX + 1];
    if (!sp_jid (driver, "id", id, sizeof id) || strcmp (id, relaunch->old_id) == 0 ||
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

//  Utils.memoryStringToMb, where it reads the same in every version: digits and a unit (k, m, g,
//  t, p, with or without b). Without a unit the versions differ (bytes or MB): -1, unknown.
static int64_t
s_memory_mb (const char *text)
{
    char *end;
    long long count = text ? strtoll (text, &end, 10) : -1;
    if (!text || end == text || count < 0 || count > (1LL << 30))
        return -1;
    static const char units[] = "kmgtp";
    const char *unit = *end ? strchr (units, end[0] | 0x20) : NULL;
    if (!unit || (end[1] && ((end[1] | 0x20) != 'b' || end[2])))
        return -1;
    int shift = 10 * (int)(unit - units + 1) - 20; //  from the unit to MB
    return shift >= 0 ? (int64_t)count << shift : (int64_t)count >> -shift;
}

int
sp_created_from_spec (const char *spec_text, sp_created_t *wanted, char *main_class, size_t size)
{
    //  What sp_backend_submit sends (sp_spec_body): the same table reads the spec's Livy and REST
    //  keys (className, driverCores, conf...) the same way here.
    sp_spec_job_t job = {.job_id = "", .tag = ""};
    char *text = NULL;
    int rc = sp_spec_guess (spec_text, SP_SPEC_STANDALONE, &job, &text);
    json_t *body = text ? sp_json_load (text, strlen (text)) : NULL;
    free (text);
    json_t *properties = json_object_get (body, "sparkProperties");
    sp_copy (main_class, size,
             sp_json_str_or (body, "mainClass", "org.apache.spark.deploy.SparkSubmit"));
    wanted->main_class = main_class;
    //  The master's defaults: 1 core, 1024 MB (reference 1.4). A value jobd cannot read as the
    //  master does is left out of the comparison.
    json_t *cores = json_object_get (properties, "spark.driver.cores");
    const char *cores_text = json_string_value (cores);
    char *end = NULL;
    long long count = cores_text ? strtoll (cores_text, &end, 10) : 0;
    wanted->cores = !cores                               ? 1
                    : json_is_integer (cores)            ? (int64_t)json_integer_value (cores)
                    : cores_text && *cores_text && !*end ? count
                                                         : -1;
    json_t *memory = json_object_get (properties, "spark.driver.memory");
    wanted->memory_mb = !memory ? 1024 : s_memory_mb (json_string_value (memory));
    json_decref (body);
    return rc == 0 ? 0 : JOBD_EPROTO;
}

typedef struct {
    const sp_created_t *wanted;
    sp_taken_fn *taken;
    void *arg;
    int count;
    sp_status_t *found;
    size_t found_max, found_count;
} s_created_t;

//  A driver's integer member, written as a number or as a string of digits, or -1.
static int64_t
s_driver_int (const sp_jobject_t *driver, const char *key)
{
    int64_t number;
    char text[24];
    if (sp_jvalue_integer (sp_jobject_get (driver, key), &number))
        return number;
    return sp_jstr (driver, key, text, sizeof text) ? strtoll (text, NULL, 10) : -1;
}

//  Whether status a is of an older driver than b: by id, else by starttime.
static bool
s_older (const sp_status_t *a, const sp_status_t *b)
{
    int order;
    if (sp_driver_id_order (a->id, b->id, &order) == 0)
        return order < 0;
    return a->started < b->started;
}

static void
s_find_created (const sp_jobject_t *driver, void *arg)
{
    s_created_t *created = (s_created_t *)arg;
    const sp_created_t *wanted = created->wanted;
    char id[JOBD_ID_MAX + 1], main_class[512];
    int order = 1;
    if (!sp_jid (driver, "id", id, sizeof id) ||
        !sp_jstr (driver, "mainclass", main_class, sizeof main_class) ||
        strcmp (main_class, wanted->main_class) != 0 ||
        (wanted->after && *wanted->after && sp_driver_id_order (id, wanted->after, &order) == 0 &&
         order <= 0) ||
        (wanted->cores >= 0 && s_driver_int (driver, "cores") != wanted->cores) ||
        (wanted->memory_mb >= 0 && s_driver_int (driver, "memory") != wanted->memory_mb) ||
        (wanted->not_before > 0 && s_driver_int (driver, "starttime") >= 0 &&
         s_driver_int (driver, "starttime") < wanted->not_before) ||
        (created->taken && created->taken (id, created->arg)))
        return;
    created->count++;
    if (created->found_count == created->found_max)
        return;
    //  Kept oldest first (an insertion: a handful at most).
    sp_status_t status;
    sp_status_reset (&status);
    if (!s_driver (driver, &status))
        sp_copy (status.id, sizeof status.id, id); //  a state jobd does not know: no news
    size_t at = created->found_count++;
    for (; at > 0 && s_older (&status, &created->found[at - 1]); at--)
        created->found[at] = created->found[at - 1];
    created->found[at] = status;
}

int
sp_master_created (const char *body, size_t size, long http, const sp_created_t *wanted,
                   sp_taken_fn *taken, void *arg, sp_status_t *found, size_t found_max)
{
    sp_jscan_t scan;
    sp_jscan_init (&scan, body, size);
    if (http != 200 || !sp_jscan_check (body, size) || sp_jscan_peek (&scan) != SP_JOBJECT)
        return JOBD_EPROTO;
    s_created_t created = {
        .wanted = wanted, .taken = taken, .arg = arg, .found = found, .found_max = found_max};
    s_drivers (body, size, s_find_created, &created);
    return created.count;
}
