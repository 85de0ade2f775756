//  sim_standalone: the Spark standalone master's REST submission server (/v1/submissions/...).
#include "sim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CTYPE     "application/json;charset=utf-8"
#define S_NOT_ALIVE "Current state is not alive: STANDBY."
#define S_PLEASE    " Please submit requests through http://[host]:[port]/v1/submissions/..."
#define S_PKG       "org.apache.spark.deploy.rest."
//  Stack frames as Spark's formatException appends them ("\t" + frame, one a line).
#define S_REST_FRAMES                                                                              \
    "\n\torg.apache.spark.deploy.rest.SubmitRestProtocolMessage.validate("                         \
    "SubmitRestProtocolMessage.scala:75)"                                                          \
    "\n\torg.apache.spark.deploy.rest.SubmitRequestServlet.doPost(RestSubmissionServer.scala:285)"
#define S_MASTER_FRAMES                                                                            \
    "\n\torg.apache.spark.deploy.master.Master$$anonfun$receiveAndReply$1.applyOrElse(Master."     \
    "scala:512)"                                                                                   \
    "\n\torg.apache.spark.rpc.netty.Inbox.$anonfun$process$1(Inbox.scala:103)"

//  A response envelope; every field is optional (NULL, or success < 0, is left out).
typedef struct {
    const char *action;
    const char *driver_state;
    const char *highest;
    const char *message;
    const char *submission_id;
    int success;
    const json_t *unknown_fields;
    const char *worker_host_port;
    const char *worker_id;
} s_envelope_t;

//  Jackson with ORDER_MAP_ENTRIES_BY_KEYS and NON_NULL: keys alphabetical, nulls omitted.
static void
s_reply (sim_t *sim, sim_req_t *req, int status, const s_envelope_t *e)
{
    sim_jw_t w;
    sim_jw_init (&w, SIM_JW_JACKSON);
    sim_jw_obj (&w, NULL);
    sim_jw_str (&w, "action", e->action);
    if (e->driver_state)
        sim_jw_str (&w, "driverState", e->driver_state);
    if (e->highest)
        sim_jw_str (&w, "highestProtocolVersion", e->highest);
    if (e->message)
        sim_jw_str (&w, "message", e->message);
    sim_jw_str (&w, "serverSparkVersion", sim->config.spark_version);
    if (e->submission_id)
        sim_jw_str (&w, "submissionId", e->submission_id);
    if (e->success >= 0)
        sim_jw_bool (&w, "success", e->success);
    if (e->unknown_fields)
        sim_jw_json (&w, "unknownFields", e->unknown_fields);
    if (e->worker_host_port)
        sim_jw_str (&w, "workerHostPort", e->worker_host_port);
    if (e->worker_id)
        sim_jw_str (&w, "workerId", e->worker_id);
    sim_jw_end (&w);
    sim_req_reply_jw (req, status, S_CTYPE, &w);
}

static void
s_error (sim_t *sim, sim_req_t *req, int status, const char *message)
{
    s_envelope_t e = {.action = "ErrorResponse", .message = message, .success = -1};
    s_reply (sim, req, status, &e);
}

//  "Malformed request: <exception class>: <text>\n\t<frames>"
static void
s_malformed (sim_t *sim, sim_req_t *req, const char *exception, const char *text)
{
    size_t len = strlen (exception) + strlen (text) + sizeof S_REST_FRAMES + 64;
    char *message = malloc (len);
    snprintf (message, len, "Malformed request: %s: %s%s", exception, text, S_REST_FRAMES);
    s_error (sim, req, 400, message);
    free (message);
}

void
sim_standalone_version_error (sim_t *sim, sim_req_t *req, const char *version)
{
    char message[300];
    snprintf (message, sizeof message, "Unknown protocol version '%.64s'." S_PLEASE,
              version ? version : (req->nseg ? req->seg[0] : ""));
    s_envelope_t e = {
        .action = "ErrorResponse", .highest = "v1", .message = message, .success = -1};
    s_reply (sim, req, 468, &e);
}

//  The ErrorServlet behind every path no other servlet takes.
static void
s_error_servlet (sim_t *sim, sim_req_t *req)
{
    char message[300];
    const char *actions = sim_config_spark_major (&sim->config) >= 4
                              ? "/create, /kill, /killall, /clear, /status, or /readyz."
                              : "/create, /kill, or /status.";
    if (req->nseg == 0)
        snprintf (message, sizeof message, "Missing protocol version." S_PLEASE);
    else if (strcmp (req->seg[0], "v1") == 0 && req->nseg == 1)
        snprintf (message, sizeof message, "Missing the /submissions prefix." S_PLEASE);
    else if (strcmp (req->seg[0], "v1") == 0 && strcmp (req->seg[1], "submissions") == 0)
        snprintf (message, sizeof message, "Missing an action: please specify one of %s" S_PLEASE,
                  actions);
    else {
        sim_standalone_version_error (sim, req, req->seg[0]);
        return;
    }
    s_error (sim, req, 400, message);
}

const char *
sim_standalone_worker (sim_t *sim, const char **host_port_p)
{
    if (host_port_p)
        *host_port_p = "127.0.0.1:7078";
    return sim->worker_id;
}

const char *
sim_standalone_state (const sim_job_t *job, int64_t now)
{
    switch (sim_jobs_phase (job, now)) {
        case SIM_PHASE_QUEUED:
            return "SUBMITTED";
        case SIM_PHASE_RUNNING:
            return "RUNNING";
        case SIM_PHASE_KILLING:
            return sim_jobs_started (job, now) ? "RUNNING" : "SUBMITTED";
        case SIM_PHASE_GONE:
            return "UNKNOWN";
        default:
            break;
    }
    if (job->scenario->final_state && job->kill_ms < 0)
        return job->scenario->final_state;
    switch (job->outcome) {
        case SIM_OUTCOME_FAIL:
            return "FAILED";
        case SIM_OUTCOME_KILL:
            return "KILLED";
        case SIM_OUTCOME_RELAUNCH:
            return "RELAUNCHING";
        default:
            return "FINISHED";
    }
}

//  Finds a live driver for the id in the first segment after the action, or replies.
static const char *
s_submission_id (sim_t *sim, sim_req_t *req, const char *what)
{
    if (req->nseg >= 4)
        return req->seg[3];
    char message[100];
    snprintf (message, sizeof message, "Submission ID is missing in %s request.", what);
    s_error (sim, req, 400, message);
    return NULL;
}

static void
s_status (sim_t *sim, sim_req_t *req)
{
    const char *id = s_submission_id (sim, req, "status");
    if (!id)
        return;
    s_envelope_t e = {.action = "SubmissionStatusResponse", .submission_id = id, .success = 0};
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = sim_jobs_lookup (sim->jobs, SIM_BACKEND_STANDALONE, id);
    if (job)
        sim_agents_job (sim->agents, req, job->id);
    char *message = NULL;
    if (sim->config.standby)
        message = strdup ("Exception from the cluster:\njava.lang.Exception: " S_NOT_ALIVE
                          " Can only request driver status in ALIVE state." S_MASTER_FRAMES);
    else if (job && sim_jobs_phase (job, now) != SIM_PHASE_GONE) {
        e.success = 1;
        e.driver_state = sim_standalone_state (job, now);
        if (sim_jobs_started (job, now))
            e.worker_id = sim_standalone_worker (sim, &e.worker_host_port);
        if (strcmp (e.driver_state, "ERROR") == 0 && !job->scenario->quiet) {
            const char *error = job->scenario->error
                                    ? job->scenario->error
                                    : "java.io.IOException: simulated driver error";
            size_t len = strlen (error) + 200;
            message = malloc (len);
            snprintf (message, len,
                      "Exception from the cluster:\n%s\n\torg.apache.spark.deploy.worker."
                      "DriverRunner$$anon$2.run(DriverRunner.scala:99)",
                      error);
        }
    }
    e.message = message;
    s_reply (sim, req, 200, &e);
    sim_jobs_leave (sim->jobs);
    free (message);
}

static void
s_kill (sim_t *sim, sim_req_t *req)
{
    const char *id = s_submission_id (sim, req, "kill");
    if (!id)
        return;
    char message[200];
    s_envelope_t e = {.action = "KillSubmissionResponse", .submission_id = id, .message = message};
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = sim_jobs_lookup (sim->jobs, SIM_BACKEND_STANDALONE, id);
    if (job)
        sim_agents_job (sim->agents, req, job->id);
    sim_phase_t phase = job ? sim_jobs_phase (job, now) : SIM_PHASE_GONE;
    if (sim->config.standby)
        snprintf (message, sizeof message, S_NOT_ALIVE " Can only kill drivers in ALIVE state.");
    else if (phase == SIM_PHASE_QUEUED || phase == SIM_PHASE_RUNNING ||
             phase == SIM_PHASE_KILLING) {
        //  A waiting driver is killed at once; a running one when its worker reports back.
        if (phase != SIM_PHASE_KILLING && !sim->config.kill_ignore)
            sim_jobs_kill (sim->jobs, job, now,
                           phase == SIM_PHASE_QUEUED ? 0 : sim->config.kill_delay_ms);
        e.success = 1;
        snprintf (message, sizeof message, "Kill request for %s submitted", id);
    } else
        snprintf (message, sizeof message, "Driver %s has already finished or does not exist", id);
    s_reply (sim, req, 200, &e);
    sim_jobs_leave (sim->jobs);
}

//  killall, clear and readyz exist from Spark 4.0; before, the error servlet answers.
static bool
s_needs_v4 (sim_t *sim, sim_req_t *req)
{
    if (sim_config_spark_major (&sim->config) >= 4)
        return false;
    s_error_servlet (sim, req);
    return true;
}

static void
s_killall (sim_t *sim, sim_req_t *req)
{
    if (s_needs_v4 (sim, req))
        return;
    s_envelope_t e = {.action = "KillAllSubmissionResponse"};
    int64_t now = sim_jobs_enter (sim->jobs);
    if (sim->config.standby)
        e.message = S_NOT_ALIVE " Can only kill drivers in ALIVE state.";
    else {
        for (sim_job_t *job = sim_jobs_first (sim->jobs, SIM_BACKEND_STANDALONE); job;
             job = job->next) {
            sim_phase_t phase = sim_jobs_phase (job, now);
            if (phase == SIM_PHASE_QUEUED || phase == SIM_PHASE_RUNNING)
                sim_jobs_kill (sim->jobs, job, now,
                               phase == SIM_PHASE_QUEUED ? 0 : sim->config.kill_delay_ms);
        }
        e.success = 1;
        e.message = "Kill request for all drivers submitted";
    }
    sim_jobs_leave (sim->jobs);
    s_reply (sim, req, 200, &e);
}

static void
s_clear (sim_t *sim, sim_req_t *req)
{
    if (s_needs_v4 (sim, req))
        return;
    s_envelope_t e = {.action = "ClearResponse", .message = ""};
    sim_jobs_enter (sim->jobs);
    if (sim->config.standby)
        e.message = S_NOT_ALIVE " Can only clear drivers in ALIVE state.";
    else {
        sim_jobs_clear_completed (sim->jobs, SIM_BACKEND_STANDALONE);
        e.success = 1;
    }
    sim_jobs_leave (sim->jobs);
    s_reply (sim, req, 200, &e);
}

static void
s_readyz (sim_t *sim, sim_req_t *req)
{
    if (s_needs_v4 (sim, req))
        return;
    if (sim->config.standby)
        s_error (sim, req, 503, "Master is not ready.");
    else {
        s_envelope_t e = {.action = "ReadyzResponse", .message = "", .success = 1};
        s_reply (sim, req, 200, &e);
    }
}

//  Checks one typed property; returns its error message, or NULL.
static const char *
s_check_property (json_t *props, const char *key, const char *type, char *buf, size_t len)
{
    json_t *value = json_object_get (props, key);
    if (!value)
        return NULL;
    const char *text = json_string_value (value);
    bool ok = text != NULL;
    if (ok && type[0] == 'b')
        ok = strcasecmp (text, "true") == 0 || strcasecmp (text, "false") == 0;
    else if (ok && type[0] == 'n') {
        char *end;
        strtod (text, &end);
        ok = *text && !*end;
    } else if (ok)
        ok = sim_memory_mb (text) >= 0;
    if (ok)
        return NULL;
    snprintf (buf, len, "Property '%s' expected %s value: actual was '%s'.", key, type,
              text ? text : "(not a string)");
    return buf;
}

static const char *s_known_actions[] = {"CreateSubmissionResponse",
                                        "KillSubmissionResponse",
                                        "KillAllSubmissionResponse",
                                        "SubmissionStatusResponse",
                                        "ClearResponse",
                                        "ReadyzResponse",
                                        "ErrorResponse",
                                        NULL};

static const char *s_create_fields[] = {
    "action",          "clientSparkVersion",   "appResource", "mainClass", "appArgs",
    "sparkProperties", "environmentVariables", "message",     NULL};

//  Validates a CreateSubmissionRequest as the server would; replies and returns false on error.
static bool
s_validate (sim_t *sim, sim_req_t *req, json_t *body)
{
    char buf[400];
    const char *missing_field = "SubmitRestMissingFieldException";
    const char *required[] = {"clientSparkVersion", "appResource", "appArgs",
                              "environmentVariables", NULL};
    bool v4 = sim_config_spark_major (&sim->config) >= 4;
    json_t *props = json_object_get (body, "sparkProperties");
    for (int i = 0; required[i]; i++) {
        if (i == 2 && !json_is_object (props)) {
            s_malformed (sim, req, "SubmitRestProtocolException", "No Spark properties set!");
            return false;
        }
        if (i >= 2 && v4)
            break;
        json_t *value = json_object_get (body, required[i]);
        if (!value || json_is_null (value)) {
            snprintf (buf, sizeof buf, "'%s' is missing in message CreateSubmissionRequest.",
                      required[i]);
            s_malformed (sim, req, missing_field, buf);
            return false;
        }
    }
    if (!v4 && !json_object_get (props, "spark.app.name")) {
        s_malformed (sim, req, missing_field,
                     "'spark.app.name' is missing in message CreateSubmissionRequest.");
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach (props, key, value)
    {
        if (!json_is_string (value)) {
            snprintf (buf, sizeof buf,
                      "Cannot deserialize value of type `java.lang.String` for "
                      "property '%s'",
                      key);
            s_malformed (sim, req, "com.fasterxml.jackson.databind.exc.MismatchedInputException",
                         buf);
            return false;
        }
    }
    const char *checks[][2] = {{"spark.driver.supervise", "boolean"},
                               {"spark.driver.cores", "numeric"},
                               {"spark.cores.max", "numeric"},
                               {"spark.driver.memory", "memory"},
                               {"spark.executor.memory", "memory"}};
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const char *error = s_check_property (props, checks[i][0], checks[i][1], buf, sizeof buf);
        if (error) {
            s_malformed (sim, req, "SubmitRestProtocolException", error);
            return false;
        }
    }
    if (!json_is_string (json_object_get (body, "mainClass"))) {
        s_malformed (sim, req, missing_field, "Main class is missing.");
        return false;
    }
    return true;
}

//  Reads the body and its action; replies and returns NULL unless it is a create request.
static json_t *
s_create_body (sim_t *sim, sim_req_t *req)
{
    char err[300];
    json_t *body = sim_req_json (req, err, sizeof err);
    if (!body || !json_is_object (body)) {
        s_malformed (sim, req, "com.fasterxml.jackson.core.JsonParseException",
                     body ? "the request is not a JSON object" : err);
        json_decref (body);
        return NULL;
    }
    const char *action = json_string_value (json_object_get (body, "action"));
    if (!action) {
        char text[400];
        snprintf (text, sizeof text, "Action field not found in JSON:\n%.*s",
                  (int)(req->body_len > 300 ? 300 : req->body_len), req->body);
        s_malformed (sim, req, "org.apache.spark.deploy.rest.SubmitRestMissingFieldException",
                     text);
    } else if (strcmp (action, "CreateSubmissionRequest") == 0)
        return body;
    else {
        bool known = false;
        for (int i = 0; s_known_actions[i]; i++)
            known |= strcmp (action, s_known_actions[i]) == 0;
        char text[300];
        if (known) {
            snprintf (text, sizeof text, "Received message of unexpected type %.64s.", action);
            s_error (sim, req, 400, text);
        } else {
            //  Class.forName fails and nothing catches it: Jetty's own error page.
            snprintf (text, sizeof text,
                      "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;"
                      "charset=ISO-8859-1\"/>\n<title>Error 500 Server Error</title>\n</head>\n"
                      "<body><h2>HTTP ERROR 500 java.lang.ClassNotFoundException: " S_PKG "%.64s"
                      "</h2>\n</body>\n</html>\n",
                      action);
            sim_req_reply (req, 500, "text/html;charset=iso-8859-1", text);
        }
    }
    json_decref (body);
    return NULL;
}

static void
s_create (sim_t *sim, sim_req_t *req)
{
    json_t *body = s_create_body (sim, req);
    if (!body || !s_validate (sim, req, body)) {
        json_decref (body);
        return;
    }
    json_t *unknown = json_array ();
    const char *key;
    json_t *value;
    json_object_foreach (body, key, value)
    {
        bool known = false;
        for (int i = 0; s_create_fields[i]; i++)
            known |= strcmp (key, s_create_fields[i]) == 0;
        if (!known)
            json_array_append_new (unknown, json_string (key));
    }
    json_t *props = json_object_get (body, "sparkProperties");
    const char *text = json_string_value (json_object_get (props, "spark.sim.scenario"));
    char message[200], err[200];
    s_envelope_t e = {.action = "CreateSubmissionResponse",
                      .message = message,
                      .unknown_fields = json_array_size (unknown) ? unknown : NULL};
    sim_jobs_enter (sim->jobs);
    sim_scenario_t *scenario = NULL;
    if (text)
        scenario = sim_scenario_parse (sim_jobs_default (sim->jobs), text, err, sizeof err);
    bool bad = text && !scenario;
    if (!bad) //  too little executor memory: the scenario's min_memory makes it fail
        scenario =
            sim_scenario_fit (sim_jobs_default (sim->jobs), scenario,
                              json_string_value (json_object_get (props, "spark.executor.memory")));
    if (bad)
        s_malformed (sim, req, "SubmitRestProtocolException", err);
    else if (sim->config.standby)
        snprintf (message, sizeof message,
                  S_NOT_ALIVE " Can only accept driver submissions in ALIVE state.");
    else {
        const char *cores = json_string_value (json_object_get (props, "spark.driver.cores"));
        const char *memory = json_string_value (json_object_get (props, "spark.driver.memory"));
        sim_job_spec_t spec = {
            .name = json_string_value (json_object_get (props, "spark.app.name")),
            .main_class = json_string_value (json_object_get (body, "mainClass")),
            .resource = json_string_value (json_object_get (body, "appResource")),
            .cores = cores ? atoi (cores) : 1,
            .memory_mb = memory ? (int)sim_memory_mb (memory) : 1024,
            .scenario = scenario ? sim_jobs_keep (sim->jobs, &scenario) : NULL};
        sim_job_t *job = sim_jobs_add (sim->jobs, SIM_BACKEND_STANDALONE, &spec, sim_clock_now ());
        //  Creates per attempt: jobd's tag (spark-poller sets spark.jobd.tag), else the app name.
        const char *tag = json_string_value (json_object_get (props, "spark.jobd.tag"));
        sim_stats_created (sim->stats, tag ? tag : spec.name);
        snprintf (message, sizeof message, "Driver successfully submitted as %s", job->id);
        e.submission_id = job->id;
        e.success = 1;
    }
    if (!bad)
        s_reply (sim, req, 200, &e);
    sim_jobs_leave (sim->jobs);
    sim_scenario_destroy (&scenario);
    json_decref (unknown);
    json_decref (body);
}

const sim_route_t sim_standalone_routes[] = {
    {"POST", "/v1/submissions/create/**", SIM_BACKEND_STANDALONE, s_create, false},
    {"GET", "/v1/submissions/status", SIM_BACKEND_STANDALONE, s_status, false},
    {"GET", "/v1/submissions/status/{id}/**", SIM_BACKEND_STANDALONE, s_status, false},
    {"POST", "/v1/submissions/kill", SIM_BACKEND_STANDALONE, s_kill, false},
    {"POST", "/v1/submissions/kill/{id}/**", SIM_BACKEND_STANDALONE, s_kill, false},
    {"POST", "/v1/submissions/killall/**", SIM_BACKEND_STANDALONE, s_killall, false},
    {"POST", "/v1/submissions/clear/**", SIM_BACKEND_STANDALONE, s_clear, false},
    {"GET", "/v1/submissions/readyz/**", SIM_BACKEND_STANDALONE, s_readyz, false},
    {NULL, "/**", SIM_BACKEND_STANDALONE, s_error_servlet, true},
    {NULL, NULL, 0, NULL, false}};
