//  sim_livy: Apache Livy's batch API (/batches...).
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CTYPE     "application/json;charset=utf-8"
#define S_MAX_LINES 12
#define S_LINE      320

//  Jackson's parse and mapping errors come back as a bare JSON string.
static void
s_bare (sim_req_t *req, const char *text)
{
    sim_jw_t w;
    sim_jw_init (&w, SIM_JW_COMPACT);
    sim_jw_str (&w, NULL, text);
    sim_req_reply_jw (req, 400, S_CTYPE, &w);
}

static const char *
s_state (const sim_job_t *job, int64_t now)
{
    switch (sim_jobs_phase (job, now)) {
        case SIM_PHASE_QUEUED:
            return "starting";
        case SIM_PHASE_RUNNING:
        case SIM_PHASE_KILLING:
            return "running";
        default:
            break;
    }
    if (job->scenario->final_state)
        return job->scenario->final_state;
    switch (job->outcome) {
        case SIM_OUTCOME_FAIL:
            return "dead";
        case SIM_OUTCOME_KILL:
            return "killed";
        default:
            return "success";
    }
}

//  The spark-submit output Livy keeps for a batch, as it stands at now.
static int
s_log (const sim_job_t *job, int64_t now, char lines[][S_LINE])
{
    if (job->scenario->quiet)
        return 0; //  what a caller without view access gets (reference 3.4)
    int n = 0;
    char when[24];
    const char *app = job->app_id;
    sim_clock_log (job->created_ms, when);
    snprintf (lines[n++], S_LINE, "stdout: ");
    snprintf (lines[n++], S_LINE, "\nstderr: ");
    snprintf (lines[n++], S_LINE, "%s INFO Client: Submitting application %s to ResourceManager",
              when, app);
    snprintf (lines[n++], S_LINE, "%s INFO Client: Application report for %s (state: ACCEPTED)",
              when, app);
    sim_phase_t phase = sim_jobs_phase (job, now);
    if (!sim_jobs_started (job, now))
        return n;
    sim_clock_log (job->start_ms, when);
    snprintf (lines[n++], S_LINE, "%s INFO Client: Application report for %s (state: RUNNING)",
              when, app);
    if (phase != SIM_PHASE_DONE)
        return n;
    sim_clock_log (job->end_ms, when);
    const char *error = job->scenario->error ? job->scenario->error
                                             : "java.lang.RuntimeException: simulated failure";
    if (job->outcome == SIM_OUTCOME_FAIL) {
        snprintf (lines[n++], S_LINE, "%s INFO Client: Application report for %s (state: FAILED)",
                  when, app);
        snprintf (lines[n++], S_LINE, "Exception in thread \"main\" %.250s", error);
        snprintf (lines[n++], S_LINE, "\nYARN Diagnostics: ");
        snprintf (lines[n++], S_LINE, "User class threw exception: %.250s", error);
    } else
        snprintf (lines[n++], S_LINE, "%s INFO Client: Application report for %s (state: %s)", when,
                  app, job->outcome == SIM_OUTCOME_KILL ? "KILLED" : "FINISHED");
    return n;
}

static void
s_batch (sim_t *sim, sim_jw_t *w, const sim_job_t *job, int64_t now)
{
    char lines[S_MAX_LINES][S_LINE], url[300];
    bool started = sim_jobs_started (job, now);
    sim_jw_obj (w, NULL);
    sim_jw_int (w, "id", job->number);
    sim_jw_str (w, "name", job->name);
    sim_jw_null (w, "owner");
    sim_jw_str (w, "proxyUser", job->user);
    sim_jw_str (w, "state", s_state (job, now));
    sim_jw_str (w, "appId", started ? job->app_id : NULL);
    sim_jw_obj (w, "appInfo");
    snprintf (url, sizeof url, "http://127.0.0.1:8042/node/containerlogs/container_%s_01_000001/%s",
              job->app_id + strlen ("application_"), job->user ? job->user : "livy");
    sim_jw_str (w, "driverLogUrl", started ? url : NULL);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/proxy/%s/", sim->config.port, job->app_id);
    sim_jw_str (w, "sparkUiUrl", started ? url : NULL);
    sim_jw_null (w, "executorLogUrls");
    sim_jw_end (w);
    sim_jw_arr (w, "log");
    int n = s_log (job, now, lines);
    for (int i = n > 10 ? n - 10 : 0; i < n; i++) //  the last 10 lines
        sim_jw_str (w, NULL, lines[i]);
    sim_jw_end (w);
    sim_jw_end (w);
}

//  CSRF protection: requests other than GET/HEAD/OPTIONS need X-Requested-By.
static bool
s_csrf_ok (sim_t *sim, sim_req_t *req)
{
    if (!sim->config.livy_csrf || sim_req_header (req, "X-Requested-By"))
        return true;
    sim_req_reply (req, 400, "text/html;charset=iso-8859-1",
                   "<html><body><h2>HTTP ERROR 400 Missing Required Header for CSRF "
                   "protection.</h2></body></html>\n");
    return false;
}

//  Finds the batch named by /batches/{id} (numeric id or name), or replies 404.
static sim_job_t *
s_find (sim_t *sim, sim_req_t *req, int64_t now)
{
    const char *key = req->seg[1];
    sim_job_t *job = sim_jobs_lookup (sim->jobs, SIM_BACKEND_LIVY, key);
    if (!job)
        job = sim_jobs_lookup_name (sim->jobs, key);
    if (job)
        sim_agents_job (sim->agents, req, job->id);
    if (job && sim_jobs_phase (job, now) != SIM_PHASE_GONE)
        return job;
    char message[200];
    snprintf (message, sizeof message, "Session '%.100s' not found.", key);
    sim_req_reply_pair (req, 404, S_CTYPE, "msg", message);
    return NULL;
}

static int64_t
s_int_arg (sim_req_t *req, const char *key, int64_t fallback)
{
    int64_t value;
    return sim_parse_int (sim_req_arg (req, key), &value) ? fallback : value;
}

static void
s_list (sim_t *sim, sim_req_t *req)
{
    int64_t from = s_int_arg (req, "from", 0), size = s_int_arg (req, "size", 100);
    sim_jw_t w;
    sim_jw_init (&w, SIM_JW_COMPACT);
    sim_jw_obj (&w, NULL);
    sim_jw_int (&w, "from", from);
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_jw_int (&w, "total", (int64_t)sim_jobs_count (sim->jobs, SIM_BACKEND_LIVY));
    sim_jw_arr (&w, "sessions");
    int64_t index = 0;
    for (sim_job_t *job = sim_jobs_first (sim->jobs, SIM_BACKEND_LIVY); job && index < from + size;
         job = job->next, index++)
        if (index >= from)
            s_batch (sim, &w, job, now);
    sim_jobs_leave (sim->jobs);
    sim_jw_end (&w);
    sim_jw_end (&w);
    sim_req_reply_jw (req, 200, S_CTYPE, &w);
}

static void
s_get (sim_t *sim, sim_req_t *req)
{
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now);
    if (job) {
        sim_jw_t w;
        sim_jw_init (&w, SIM_JW_COMPACT);
        s_batch (sim, &w, job, now);
        sim_req_reply_jw (req, 200, S_CTYPE, &w);
    }
    sim_jobs_leave (sim->jobs);
}

static void
s_get_state (sim_t *sim, sim_req_t *req)
{
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now);
    if (job) {
        sim_jw_t w;
        sim_jw_init (&w, SIM_JW_COMPACT);
        sim_jw_obj (&w, NULL);
        sim_jw_int (&w, "id", job->number);
        sim_jw_str (&w, "state", s_state (job, now));
        sim_jw_end (&w);
        sim_req_reply_jw (req, 200, S_CTYPE, &w);
    }
    sim_jobs_leave (sim->jobs);
}

static void
s_get_log (sim_t *sim, sim_req_t *req)
{
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now);
    if (job) {
        char lines[S_MAX_LINES][S_LINE];
        int64_t total = s_log (job, now, lines);
        int64_t size = s_int_arg (req, "size", 100);
        int64_t from = s_int_arg (req, "from", total - size > 0 ? total - size : 0);
        if (size < 0) {
            from = 0;
            size = total;
        }
        sim_jw_t w;
        sim_jw_init (&w, SIM_JW_COMPACT);
        sim_jw_obj (&w, NULL);
        sim_jw_int (&w, "id", job->number);
        sim_jw_int (&w, "from", from);
        sim_jw_int (&w, "total", total);
        sim_jw_arr (&w, "log");
        for (int64_t i = from < 0 ? 0 : from; i < total && i < from + size; i++)
            sim_jw_str (&w, NULL, lines[i]);
        sim_jw_end (&w);
        sim_jw_end (&w);
        sim_req_reply_jw (req, 200, S_CTYPE, &w);
    }
    sim_jobs_leave (sim->jobs);
}

static void
s_delete (sim_t *sim, sim_req_t *req)
{
    if (!s_csrf_ok (sim, req))
        return;
    char user[256] = "";
    sim_auth_basic_user (req, NULL, user, sizeof user);
    if (sim->config.livy_modify_users[0] &&
        !sim_auth_in_list (sim->config.livy_modify_users, user)) {
        //  Needs modify access (3.5); [sim] the 403 carries Livy's {"msg"} shape.
        char message[400];
        snprintf (message, sizeof message, "User '%s' does not have modify access to the session",
                  *user ? user : "anonymous");
        sim_req_reply_pair (req, 403, S_CTYPE, "msg", message);
        return;
    }
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now);
    if (job) {
        //  Livy kills the app and forgets the batch: "killed" is never visible.
        sim_jobs_remove (sim->jobs, job);
        sim_req_reply_pair (req, 200, S_CTYPE, "msg", "deleted");
    }
    sim_jobs_leave (sim->jobs);
}

//  CreateBatchRequest's fields and their JSON types ('s' string, 'i' int, 'a' string array,
//  'o' string map).
static const struct {
    const char *name;
    char type;
} s_fields[] = {
    {"file", 's'},        {"proxyUser", 's'},      {"className", 's'},     {"args", 'a'},
    {"jars", 'a'},        {"pyFiles", 'a'},        {"files", 'a'},         {"driverMemory", 's'},
    {"driverCores", 'i'}, {"executorMemory", 's'}, {"executorCores", 'i'}, {"numExecutors", 'i'},
    {"archives", 'a'},    {"queue", 's'},          {"name", 's'},          {"conf", 'o'}};

//  Checks the body as Jackson would map it; returns the error text, or NULL.
static const char *
s_check_body (json_t *body, char *buf, size_t len)
{
    const char *key;
    json_t *value;
    json_object_foreach (body, key, value)
    {
        char type = 0;
        for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++)
            if (strcmp (key, s_fields[i].name) == 0)
                type = s_fields[i].type;
        if (!type) {
            snprintf (buf, len,
                      "Unrecognized field \"%.100s\" (class "
                      "org.apache.livy.server.batch.CreateBatchRequest), not marked as ignorable",
                      key);
            return buf;
        }
        bool ok = json_is_null (value) || (type == 's' && json_is_string (value)) ||
                  (type == 'i' && json_is_integer (value));
        if (type == 'a' && json_is_array (value)) {
            ok = true;
            size_t i;
            json_t *item;
            json_array_foreach (value, i, item) ok &= json_is_string (item) != 0;
        }
        if (type == 'o' && json_is_object (value)) {
            ok = true;
            const char *k;
            json_t *item;
            json_object_foreach (value, k, item) ok &= json_is_string (item) != 0;
        }
        if (!ok) {
            snprintf (buf, len, "Cannot deserialize value of field \"%.100s\" (expected %s)", key,
                      type == 's'   ? "a string"
                      : type == 'i' ? "an int"
                      : type == 'a' ? "a list of strings"
                                    : "a map of strings");
            return buf;
        }
    }
    return NULL;
}

static void
s_create (sim_t *sim, sim_req_t *req)
{
    if (!s_csrf_ok (sim, req))
        return;
    char err[300], message[400];
    json_t *body = sim_req_json (req, err, sizeof err);
    const char *problem = !body                    ? err
                          : !json_is_object (body) ? "Cannot deserialize instance of "
                                                     "`org.apache.livy.server.batch."
                                                     "CreateBatchRequest` out of non-object token"
                                                   : s_check_body (body, message, sizeof message);
    if (problem) {
        s_bare (req, problem);
        json_decref (body);
        return;
    }
    const char *name = json_string_value (json_object_get (body, "name"));
    const char *doas = sim_req_arg (req, "doAs");
    json_t *conf = json_object_get (body, "conf");
    const char *text = json_string_value (json_object_get (conf, "spark.sim.scenario"));
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *other = name ? sim_jobs_lookup_name (sim->jobs, name) : NULL;
    sim_scenario_t *scenario = NULL;
    if (text)
        scenario = sim_scenario_parse (sim_jobs_default (sim->jobs), text, err, sizeof err);
    if (!json_is_string (json_object_get (body, "file")))
        sim_req_reply_pair (req, 400, S_CTYPE, "msg",
                            "Rejected, Reason: requirement failed: File is required.");
    else if (other && sim_jobs_phase (other, now) != SIM_PHASE_GONE) {
        snprintf (message, sizeof message,
                  "Rejected, Reason: Duplicate session name: Some(%.100s) for session %lld", name,
                  (long long)other->number);
        sim_req_reply_pair (req, 400, S_CTYPE, "msg", message);
    } else if (text && !scenario) {
        snprintf (message, sizeof message, "Rejected, Reason: %s", err);
        sim_req_reply_pair (req, 400, S_CTYPE, "msg", message);
    } else {
        const char *memory = json_string_value (json_object_get (body, "executorMemory"));
        if (!memory)
            memory = json_string_value (json_object_get (conf, "spark.executor.memory"));
        //  too little executor memory: the scenario's min_memory makes it fail
        scenario = sim_scenario_fit (sim_jobs_default (sim->jobs), scenario, memory);
        json_t *cores = json_object_get (body, "driverCores");
        sim_job_spec_t spec = {
            .name = name,
            .user = doas ? doas : json_string_value (json_object_get (body, "proxyUser")),
            .queue = json_string_value (json_object_get (body, "queue")),
            .tags = json_string_value (json_object_get (conf, "spark.yarn.tags")),
            .main_class = json_string_value (json_object_get (body, "className")),
            .resource = json_string_value (json_object_get (body, "file")),
            .cores = cores ? (int)json_integer_value (cores) : 1,
            .scenario = scenario ? sim_jobs_keep (sim->jobs, &scenario) : NULL};
        sim_job_t *job = sim_jobs_add (sim->jobs, SIM_BACKEND_LIVY, &spec, now);
        sim_stats_created (sim->stats, name); //  creates per batch name (jobd's tag is in it)
        sim_jw_t w;
        sim_jw_init (&w, SIM_JW_COMPACT);
        s_batch (sim, &w, job, now);
        sim_req_reply_jw (req, 201, S_CTYPE, &w);
        char location[64];
        snprintf (location, sizeof location, "/batches/%lld", (long long)job->number);
        req->location = strdup (location);
    }
    sim_jobs_leave (sim->jobs);
    sim_scenario_destroy (&scenario);
    json_decref (body);
}

const sim_route_t sim_livy_routes[] = {
    {"GET", "/batches", SIM_BACKEND_LIVY, s_list, false},
    {"POST", "/batches", SIM_BACKEND_LIVY, s_create, false},
    {"GET", "/batches/{id}", SIM_BACKEND_LIVY, s_get, false},
    {"DELETE", "/batches/{id}", SIM_BACKEND_LIVY, s_delete, false},
    {"GET", "/batches/{id}/state", SIM_BACKEND_LIVY, s_get_state, false},
    {"GET", "/batches/{id}/log", SIM_BACKEND_LIVY, s_get_log, false},
    {NULL, "/batches/**", SIM_BACKEND_LIVY, sim_server_not_found, true},
    {NULL, NULL, 0, NULL, false}};
