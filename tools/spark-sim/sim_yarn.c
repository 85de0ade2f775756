//  sim_yarn: the YARN ResourceManager REST API (/ws/v1/cluster/apps...).
#include "sim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_CTYPE      "application/json; charset=utf-8"
#define S_MAX_VALUES 64

static const char *s_app_states[] = {"NEW",     "NEW_SAVING", "SUBMITTED", "ACCEPTED",
                                     "RUNNING", "FINISHED",   "FAILED",    "KILLED"};
static const char *s_final_statuses[] = {"UNDEFINED", "SUCCEEDED", "FAILED", "KILLED"};
static const char *s_deselects[] = {"resourceRequests", "timeouts", "appNodeLabelExpression",
                                    "amNodeLabelExpression", "resourceInfo"};

//  {"RemoteException":{"exception":...,"message":...,"javaClassName":...}}
static void
s_remote_exception (sim_req_t *req, int status, const char *exception, const char *message)
{
    static const struct {
        const char *name;
        const char *java;
    } classes[] = {
        {"NotFoundException", "org.apache.hadoop.yarn.webapp.NotFoundException"},
        {"BadRequestException", "org.apache.hadoop.yarn.webapp.BadRequestException"},
        {"AuthorizationException", "org.apache.hadoop.security.authorize.AuthorizationException"}};
    const char *java = exception;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strcmp (classes[i].name, exception) == 0)
            java = classes[i].java;
    sim_jw_t w;
    sim_jw_init (&w, SIM_JW_COMPACT);
    sim_jw_obj (&w, NULL);
    sim_jw_obj (&w, "RemoteException");
    sim_jw_str (&w, "exception", exception);
    sim_jw_str (&w, "message", message);
    sim_jw_str (&w, "javaClassName", java);
    sim_jw_end (&w);
    sim_jw_end (&w);
    sim_req_reply_jw (req, status, S_CTYPE, &w);
}

static void
s_bad_request (sim_req_t *req, const char *message)
{
    s_remote_exception (req, 400, "BadRequestException", message);
}

//  The public state, finalStatus and the internal RMAppState of an app at now.
typedef struct {
    const char *state;
    const char *final_status;
    const char *internal;
} s_states_t;

static s_states_t
s_states (const sim_job_t *job, int64_t now)
{
    switch (sim_jobs_phase (job, now)) {
        case SIM_PHASE_QUEUED:
            return (s_states_t){"ACCEPTED", "UNDEFINED", "ACCEPTED"};
        case SIM_PHASE_RUNNING:
            return (s_states_t){"RUNNING", "UNDEFINED", "RUNNING"};
        case SIM_PHASE_KILLING: {
            const char *from = sim_jobs_started (job, now) ? "RUNNING" : "ACCEPTED";
            return (s_states_t){from, "UNDEFINED", "KILLING"};
        }
        default:
            break;
    }
    s_states_t s = {"FINISHED", "SUCCEEDED", NULL};
    if (job->outcome == SIM_OUTCOME_FAIL)
        s = (s_states_t){"FAILED", "FAILED", NULL};
    else if (job->outcome == SIM_OUTCOME_KILL)
        s = (s_states_t){"KILLED", "KILLED", NULL};
    if (job->scenario->final_state && job->kill_ms < 0)
        s.state = job->scenario->final_state; //  e.g. final=FINISHED: FINISHED + FAILED
    s.internal = s.state;
    return s;
}

static void
s_diagnostics (const sim_job_t *job, int64_t now, char *buf, size_t len)
{
    *buf = 0;
    if (sim_jobs_phase (job, now) != SIM_PHASE_DONE)
        return;
    if (job->outcome == SIM_OUTCOME_FAIL && job->scenario->quiet)
        return; //  diagnostics may be empty (reference 4.4)
    if (job->outcome == SIM_OUTCOME_FAIL)
        snprintf (buf, len, "User class threw exception: %s",
                  job->scenario->error ? job->scenario->error
                                       : "java.lang.RuntimeException: simulated failure");
    else if (job->outcome == SIM_OUTCOME_KILL)
        snprintf (buf, len, "%s",
                  job->kill_reason ? job->kill_reason
                                   : "Application killed by user yarn at 127.0.0.1");
}

static void
s_app (sim_t *sim, sim_jw_t *w, const char *key, const sim_job_t *job, int64_t now,
       unsigned deselect)
{
    s_states_t s = s_states (job, now);
    bool done = sim_jobs_phase (job, now) == SIM_PHASE_DONE;
    bool started = sim_jobs_started (job, now);
    int64_t until = done ? job->end_ms : now;
    int64_t run_ms = started ? until - job->start_ms : 0;
    char text[1200];
    sim_jw_obj (w, key);
    sim_jw_str (w, "id", job->id);
    sim_jw_str (w, "user", job->user ? job->user : "spark");
    sim_jw_str (w, "name", job->name ? job->name : "spark-sim");
    sim_jw_str (w, "queue", job->queue ? job->queue : "default");
    sim_jw_str (w, "state", s.state);
    sim_jw_str (w, "finalStatus", s.final_status);
    double progress = done ? 100.0 : 0.0;
    if (!done && started && job->scenario->run_ms > 0)
        progress = 10.0 + 80.0 * (double)run_ms / (double)job->scenario->run_ms;
    sim_jw_real (w, "progress", progress > 100.0 ? 100.0 : progress);
    sim_jw_str (w, "trackingUI", done ? "History" : started ? "ApplicationMaster" : "UNASSIGNED");
    snprintf (text, sizeof text, "http://127.0.0.1:%d/proxy/%s/", sim->config.port, job->id);
    sim_jw_str (w, "trackingUrl", text);
    s_diagnostics (job, now, text, sizeof text);
    sim_jw_str (w, "diagnostics", text);
    sim_jw_int (w, "clusterId", sim->config.cluster_ts);
    sim_jw_str (w, "applicationType", "SPARK");
    sim_jw_str (w, "applicationTags", job->tags ? job->tags : "");
    sim_jw_int (w, "priority", 0);
    sim_jw_int (w, "startedTime", job->created_ms);
    sim_jw_int (w, "launchTime", started ? job->start_ms : 0);
    sim_jw_int (w, "finishedTime", done ? job->end_ms : 0);
    sim_jw_int (w, "elapsedTime", until - job->created_ms);
    snprintf (text, sizeof text,
              "http://127.0.0.1:8042/node/containerlogs/container_%lld_%04lld_01_000001/%s",
              (long long)sim->config.cluster_ts, (long long)job->number,
              job->user ? job->user : "spark");
    if (started) {
        sim_jw_str (w, "amContainerLogs", text);
        sim_jw_str (w, "amHostHttpAddress", "127.0.0.1:8042");
        sim_jw_str (w, "amRPCAddress", "127.0.0.1:40123");
    }
    bool holding = started && !done;
    sim_jw_int (w, "allocatedMB", holding ? job->memory_mb + 1024 : -1);
    sim_jw_int (w, "allocatedVCores", holding ? job->cores + 1 : -1);
    sim_jw_int (w, "reservedMB", 0);
    sim_jw_int (w, "reservedVCores", 0);
    sim_jw_int (w, "runningContainers", holding ? 2 : -1);
    sim_jw_int (w, "memorySeconds", (job->memory_mb + 1024) * (run_ms / 1000));
    sim_jw_int (w, "vcoreSeconds", (job->cores + 1) * (run_ms / 1000));
    sim_jw_real (w, "queueUsagePercentage", 0.0);
    sim_jw_real (w, "clusterUsagePercentage", 0.0);
    sim_jw_str (w, "logAggregationStatus", done ? "SUCCEEDED" : "NOT_START");
    sim_jw_bool (w, "unmanagedApplication", false);
    if (!(deselect & 8))
        sim_jw_str (w, "amNodeLabelExpression", "");
    if (!(deselect & 1) && !done) {
        sim_jw_arr (w, "resourceRequests");
        sim_jw_obj (w, NULL);
        sim_jw_obj (w, "capability");
        sim_jw_int (w, "memory", job->memory_mb);
        sim_jw_int (w, "vCores", job->cores);
        sim_jw_end (w);
        sim_jw_str (w, "nodeLabelExpression", "");
        sim_jw_int (w, "numContainers", started ? 1 : 0);
        sim_jw_obj (w, "priority");
        sim_jw_int (w, "priority", started ? 1 : 0);
        sim_jw_end (w);
        sim_jw_bool (w, "relaxLocality", true);
        sim_jw_str (w, "resourceName", "*");
        sim_jw_end (w);
        sim_jw_end (w);
    }
    sim_jw_end (w);
}

//  The list filters of GET /ws/v1/cluster/apps.
typedef struct {
    unsigned states; //  bit per s_app_states entry; 0: any
    const char *final_status;
    const char *user, *queue, *name;
    int64_t limit;
    int64_t started[2], finished[2];
    char *types[S_MAX_VALUES], *tags[S_MAX_VALUES];
    int ntypes, ntags;
    char *copies[2 * S_MAX_VALUES];
    int ncopies;
    unsigned deselect;
} s_filter_t;

//  Splits every value of a repeatable comma-separated parameter into out.
static int
s_list_param (sim_req_t *req, s_filter_t *f, const char *key, char **out, int max)
{
    const char *values[S_MAX_VALUES];
    int n = sim_req_args (req, key, values, S_MAX_VALUES), count = 0;
    for (int i = 0; i < n && f->ncopies < 2 * S_MAX_VALUES; i++) {
        char *parts[S_MAX_VALUES];
        int k = sim_split (values[i], ',', &f->copies[f->ncopies++], parts, S_MAX_VALUES);
        for (int j = 0; j < k && count < max; j++) {
            while (isspace ((unsigned char)*parts[j]))
                parts[j]++;
            if (*parts[j])
                out[count++] = parts[j];
        }
    }
    return count;
}

//  Fills the filter from the query; replies 400 and returns -1 on a bad parameter.
static int
s_filter (sim_req_t *req, s_filter_t *f)
{
    memset (f, 0, sizeof *f);
    f->limit = INT64_MAX;
    f->started[1] = f->finished[1] = INT64_MAX;
    char *states[S_MAX_VALUES], message[300];
    int n = s_list_param (req, f, "states", states, S_MAX_VALUES);
    if (sim_req_arg (req, "state") && n < S_MAX_VALUES)
        states[n++] = (char *)sim_req_arg (req, "state");
    for (int i = 0; i < n; i++) {
        int found = -1;
        for (int s = 0; s < 8; s++)
            if (strcasecmp (states[i], s_app_states[s]) == 0)
                found = s;
        if (found < 0) {
            snprintf (message, sizeof message,
                      "Invalid application-state %s specified. It should be one of [NEW, "
                      "NEW_SAVING, SUBMITTED, ACCEPTED, RUNNING, FINISHED, FAILED, KILLED]",
                      states[i]);
            s_bad_request (req, message);
            return -1;
        }
        f->states |= 1u << found;
    }
    f->final_status = sim_req_arg (req, "finalStatus");
    bool known = !f->final_status;
    for (int s = 0; !known && s < 4; s++)
        known = strcmp (f->final_status, s_final_statuses[s]) == 0;
    if (!known) {
        snprintf (message, sizeof message,
                  "java.lang.IllegalArgumentException: No enum constant "
                  "org.apache.hadoop.yarn.api.records.FinalApplicationStatus.%s",
                  f->final_status);
        s_bad_request (req, message);
        return -1;
    }
    f->user = sim_req_arg (req, "user");
    f->queue = sim_req_arg (req, "queue");
    f->name = sim_req_arg (req, "name");
    const char *numbers[] = {"limit", "startedTimeBegin", "startedTimeEnd", "finishedTimeBegin",
                             "finishedTimeEnd"};
    int64_t *targets[] = {&f->limit, &f->started[0], &f->started[1], &f->finished[0],
                          &f->finished[1]};
    for (int i = 0; i < 5; i++) {
        const char *text = sim_req_arg (req, numbers[i]);
        if (!text)
            continue;
        int64_t value;
        if (sim_parse_int (text, &value) || value < (i == 0 ? 1 : 0)) {
            snprintf (message, sizeof message, "%s value must be %s", numbers[i],
                      i == 0 ? "greater then 0" : "greater than 0");
            s_bad_request (req, message);
            return -1;
        }
        *targets[i] = value;
    }
    f->ntypes = s_list_param (req, f, "applicationTypes", f->types, S_MAX_VALUES);
    f->ntags = s_list_param (req, f, "applicationTags", f->tags, S_MAX_VALUES);
    char *deselects[S_MAX_VALUES];
    n = s_list_param (req, f, "deSelects", deselects, S_MAX_VALUES);
    for (int i = 0; i < n; i++) {
        int found = -1;
        for (int d = 0; d < 5; d++)
            if (strcasecmp (deselects[i], s_deselects[d]) == 0)
                found = d;
        if (found < 0) {
            snprintf (message, sizeof message,
                      "Invalid deSelects string %s specified. It should be one of "
                      "resourceRequests, timeouts, appNodeLabelExpression, "
                      "amNodeLabelExpression, resourceInfo",
                      deselects[i]);
            s_bad_request (req, message);
            return -1;
        }
        f->deselect |= 1u << found;
    }
    return 0;
}

static bool
s_has_tag (const char *tags, const char *tag)
{
    size_t len = strlen (tag);
    for (const char *p = tags; p && *p;) {
        const char *comma = strchr (p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen (p);
        if (n == len && strncasecmp (p, tag, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

static bool
s_matches (const s_filter_t *f, const sim_job_t *job, int64_t now)
{
    s_states_t s = s_states (job, now);
    if (f->states) {
        int index = 0;
        while (index < 8 && strcmp (s.state, s_app_states[index]) != 0)
            index++;
        if (index == 8 || !(f->states & (1u << index)))
            return false;
    }
    if (f->final_status && strcasecmp (f->final_status, s.final_status) != 0)
        return false;
    if ((f->user && strcmp (f->user, job->user ? job->user : "spark") != 0) ||
        (f->queue && strcmp (f->queue, job->queue ? job->queue : "default") != 0) ||
        (f->name && strcmp (f->name, job->name ? job->name : "spark-sim") != 0))
        return false;
    int64_t finished = sim_jobs_phase (job, now) == SIM_PHASE_DONE ? job->end_ms : 0;
    if (job->created_ms < f->started[0] || job->created_ms > f->started[1] ||
        finished < f->finished[0] || finished > f->finished[1])
        return false;
    bool ok = f->ntypes == 0;
    for (int i = 0; !ok && i < f->ntypes; i++)
        ok = strcasecmp (f->types[i], "SPARK") == 0;
    bool tagged = f->ntags == 0;
    for (int i = 0; !tagged && i < f->ntags; i++)
        tagged = s_has_tag (job->tags, f->tags[i]);
    return ok && tagged;
}

static void
s_apps (sim_t *sim, sim_req_t *req)
{
    s_filter_t f;
    if (s_filter (req, &f) == 0) {
        sim_jw_t w;
        sim_jw_init (&w, SIM_JW_COMPACT);
        sim_jw_obj (&w, NULL);
        sim_jw_obj (&w, "apps");
        sim_jw_arr (&w, "app");
        int64_t count = 0;
        int64_t now = sim_jobs_enter (sim->jobs);
        for (sim_job_t *job = sim_jobs_first (sim->jobs, SIM_BACKEND_YARN); job && count < f.limit;
             job = job->next)
            if (s_matches (&f, job, now)) {
                s_app (sim, &w, NULL, job, now, f.deselect);
                count++;
            }
        sim_yarn_empty_t empty = sim->config.yarn_empty;
        sim_jobs_leave (sim->jobs);
        sim_jw_end (&w);
        sim_jw_end (&w);
        sim_jw_end (&w);
        if (count == 0) {
            //  The empty list differs by Hadoop version.
            const char *shapes[] = {"{\"apps\":{}}", "{\"apps\":\"\"}", "{\"apps\":null}"};
            sim_buf_reset (&w.buf);
            sim_buf_puts (&w.buf, shapes[empty]);
        }
        sim_req_reply_jw (req, 200, S_CTYPE, &w);
    }
    for (int i = 0; i < f.ncopies; i++)
        free (f.copies[i]);
}

//  Finds the app of /ws/v1/cluster/apps/{id}; replies 400 or 404 and returns NULL otherwise.
static sim_job_t *
s_find (sim_t *sim, sim_req_t *req, int64_t now)
{
    const char *id = req->seg[4];
    char message[300];
    long long ts;
    int seq, consumed = 0;
    if (sscanf (id, "application_%lld_%d%n", &ts, &seq, &consumed) != 2 || id[consumed] != 0) {
        snprintf (message, sizeof message,
                  "java.lang.IllegalArgumentException: Invalid ApplicationId: %s", id);
        s_bad_request (req, message);
        return NULL;
    }
    sim_job_t *job = sim_jobs_lookup (sim->jobs, SIM_BACKEND_YARN, id);
    if (job)
        sim_agents_job (sim->agents, req, job->id);
    if (job && sim_jobs_phase (job, now) != SIM_PHASE_GONE)
        return job;
    snprintf (message, sizeof message, "java.lang.Exception: app with id: %s not found", id);
    s_remote_exception (req, 404, "NotFoundException", message);
    return NULL;
}

static void
s_app_one (sim_t *sim, sim_req_t *req)
{
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now);
    if (job) {
        sim_jw_t w;
        sim_jw_init (&w, SIM_JW_COMPACT);
        sim_jw_obj (&w, NULL);
        s_app (sim, &w, "app", job, now, 0);
        sim_jw_end (&w);
        sim_req_reply_jw (req, 200, S_CTYPE, &w);
    }
    sim_jobs_leave (sim->jobs);
}

static void
s_get_state (sim_t *sim, sim_req_t *req)
{
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now);
    if (job)
        sim_req_reply_pair (req, 200, S_CTYPE, "state", s_states (job, now).internal);
    sim_jobs_leave (sim->jobs);
}

//  The kill: 202 (with Location) until the app is KILLED, then 200; 200 with the final state
//  when it had already ended.
static void
s_put_state (sim_t *sim, sim_req_t *req)
{
    const char *user = sim_req_arg (req, "user.name");
    const char *delegation = sim_req_arg (req, "delegation");
    if (delegation && *delegation) {
        //  [sim] a token is valid when it is the configured one; its owner is the caller.
        if (!sim->config.yarn_delegation_token[0] ||
            strcmp (delegation, sim->config.yarn_delegation_token) != 0) {
            s_remote_exception (req, 403, "AuthorizationException",
                                "org.apache.hadoop.security.token.SecretManager$InvalidToken: "
                                "token can't be found in cache");
            return;
        }
        user = "token-owner";
    }
    if (sim->config.yarn_require_user && (!user || !*user)) {
        s_remote_exception (req, 403, "AuthorizationException",
                            "Unable to obtain user name, user not authenticated");
        return;
    }
    char err[200];
    json_t *body = sim_req_json (req, err, sizeof err);
    const char *target = json_string_value (json_object_get (body, "state"));
    const char *diagnostics = json_string_value (json_object_get (body, "diagnostics"));
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now);
    if (!job)
        ;
    else if (!target || strcmp (target, "KILLED") != 0)
        s_bad_request (req, "java.lang.Exception: Only 'KILLED' is allowed as a target state.");
    else if (sim_jobs_phase (job, now) == SIM_PHASE_DONE)
        sim_req_reply_pair (req, 200, S_CTYPE, "state", s_states (job, now).internal);
    else {
        const char *before = s_states (job, now).internal;
        if (!sim->config.kill_ignore &&
            sim_jobs_kill (sim->jobs, job, now, sim->config.kill_delay_ms) == 0) {
            char reason[400];
            if (diagnostics)
                snprintf (reason, sizeof reason, "%s", diagnostics);
            else
                snprintf (reason, sizeof reason,
                          "Application %s was killed by user %s at 127.0.0.1", job->id,
                          user ? user : "dr.who");
            free (job->kill_reason);
            job->kill_reason = strdup (reason);
        }
        char location[300];
        const char *host = sim_req_header (req, "Host");
        snprintf (location, sizeof location, "http://%s/ws/v1/cluster/apps/%s/state",
                  host ? host : "127.0.0.1", job->id);
        free (req->location);
        req->location = strdup (location);
        sim_req_reply_pair (req, 202, S_CTYPE, "state", before);
    }
    sim_jobs_leave (sim->jobs);
    json_decref (body);
}

static void
s_attempts (sim_t *sim, sim_req_t *req)
{
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now);
    if (job) {
        char text[200];
        sim_jw_t w;
        sim_jw_init (&w, SIM_JW_COMPACT);
        sim_jw_obj (&w, NULL);
        sim_jw_obj (&w, "appAttempts");
        sim_jw_arr (&w, "appAttempt");
        sim_jw_obj (&w, NULL);
        sim_jw_int (&w, "id", 1);
        sim_jw_int (&w, "startTime", job->created_ms);
        bool done = sim_jobs_phase (job, now) == SIM_PHASE_DONE;
        sim_jw_int (&w, "finishedTime", done ? job->end_ms : 0);
        snprintf (text, sizeof text, "container_%lld_%04lld_01_000001",
                  (long long)sim->config.cluster_ts, (long long)job->number);
        sim_jw_str (&w, "containerId", text);
        sim_jw_str (&w, "nodeHttpAddress", "127.0.0.1:8042");
        sim_jw_str (&w, "nodeId", "127.0.0.1:45454");
        sim_jw_str (&w, "blacklistedNodes", "");
        snprintf (text, sizeof text, "appattempt_%lld_%04lld_000001",
                  (long long)sim->config.cluster_ts, (long long)job->number);
        sim_jw_str (&w, "appAttemptId", text);
        s_states_t s = s_states (job, now);
        sim_jw_str (&w, "appAttemptState",
                    strcmp (s.state, "ACCEPTED") == 0 ? "SCHEDULED" : s.state);
        sim_jw_end (&w);
        sim_jw_end (&w);
        sim_jw_end (&w);
        sim_jw_end (&w);
        sim_req_reply_jw (req, 200, S_CTYPE, &w);
    }
    sim_jobs_leave (sim->jobs);
}

const sim_route_t sim_yarn_routes[] = {
    {"GET", "/ws/v1/cluster/apps", SIM_BACKEND_YARN, s_apps, false},
    {"GET", "/ws/v1/cluster/apps/{appid}", SIM_BACKEND_YARN, s_app_one, false},
    {"GET", "/ws/v1/cluster/apps/{appid}/state", SIM_BACKEND_YARN, s_get_state, false},
    {"PUT", "/ws/v1/cluster/apps/{appid}/state", SIM_BACKEND_YARN, s_put_state, false},
    {"GET", "/ws/v1/cluster/apps/{appid}/appattempts", SIM_BACKEND_YARN, s_attempts, false},
    {NULL, "/ws/**", SIM_BACKEND_YARN, sim_server_not_found, true},
    {NULL, NULL, 0, NULL, false}};
