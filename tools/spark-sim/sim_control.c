//  sim_control: the simulator's own control API under /sim/ (jobs, faults, stats, clock, config).
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_COUNT 1000000

static void
s_error (sim_req_t *req, int status, const char *message)
{
    sim_req_reply_json (req, status, json_pack ("{s:s}", "error", message));
}

//  Parses the body as a JSON object; replies 400 and returns NULL otherwise.
static json_t *
s_body (sim_req_t *req)
{
    char err[200], message[300];
    json_t *body = req->body_len ? sim_req_json (req, err, sizeof err) : json_object ();
    if (body && json_is_object (body))
        return body;
    snprintf (message, sizeof message, "the body must be a JSON object: %s",
              body ? "not an object" : err);
    json_decref (body);
    s_error (req, 400, message);
    return NULL;
}

static const char *s_empty_shapes[] = {"object", "string", "null"};

static json_t *
s_config_json (sim_t *sim)
{
    sim_config_t *c = &sim->config;
    json_t *auth =
        json_pack ("{s:b,s:b,s:s,s:s,s:s,s:s}", "kill_ignore", c->kill_ignore, "yarn_negotiate",
                   c->yarn_negotiate, "yarn_delegation_token", c->yarn_delegation_token,
                   "livy_users", c->livy_users, "livy_modify_users", c->livy_modify_users,
                   "standalone_token", c->standalone_token);
    json_t *config = json_pack (
        "{s:s,s:i,s:i,s:I,s:I,s:s,s:b,s:b,s:b,s:I,s:i,s:o}", "spark_version", c->spark_version,
        "retained_drivers", c->retained_drivers, "yarn_max_completed", c->yarn_max_completed,
        "livy_retain_sec", (json_int_t)(c->livy_retain_ms / 1000), "kill_delay_ms",
        (json_int_t)c->kill_delay_ms, "yarn_empty", s_empty_shapes[c->yarn_empty],
        "yarn_require_user", c->yarn_require_user, "livy_csrf", c->livy_csrf, "standby", c->standby,
        "cluster_ts", (json_int_t)c->cluster_ts, "port", c->port, "scenario",
        sim_scenario_json (sim_jobs_default (sim->jobs)));
    json_object_update (config, auth);
    json_decref (auth);
    return config;
}

//  A string setting of at most size - 1 bytes; false when value is no such string.
static bool
s_config_string (json_t *value, char *out, size_t size)
{
    if (!json_is_string (value) || json_string_length (value) >= size)
        return false;
    snprintf (out, size, "%s", json_string_value (value));
    return true;
}

//  Applies the known keys of body; returns NULL, or the reason it refused (nothing applied).
static const char *
s_config_apply (sim_t *sim, json_t *body, char *err, size_t errlen)
{
    sim_config_t c = sim->config;
    const char *key;
    json_t *value;
    sim_scenario_t *scenario = NULL;
    json_object_foreach (body, key, value)
    {
        if (strcmp (key, "scenario") == 0) {
            sim_scenario_destroy (&scenario);
            scenario = sim_scenario_from_json (NULL, value, err, errlen);
            if (!scenario)
                return err;
        } else if (strcmp (key, "spark_version") == 0 && json_is_string (value))
            snprintf (c.spark_version, sizeof c.spark_version, "%s", json_string_value (value));
        else if (strcmp (key, "retained_drivers") == 0 && json_is_integer (value))
            c.retained_drivers = (int)json_integer_value (value);
        else if (strcmp (key, "yarn_max_completed") == 0 && json_is_integer (value))
            c.yarn_max_completed = (int)json_integer_value (value);
        else if (strcmp (key, "livy_retain_sec") == 0 && json_is_integer (value))
            c.livy_retain_ms = json_integer_value (value) * 1000;
        else if (strcmp (key, "kill_delay_ms") == 0 && json_is_integer (value))
            c.kill_delay_ms = json_integer_value (value);
        else if (strcmp (key, "yarn_require_user") == 0 && json_is_boolean (value))
            c.yarn_require_user = json_is_true (value);
        else if (strcmp (key, "livy_csrf") == 0 && json_is_boolean (value))
            c.livy_csrf = json_is_true (value);
        else if (strcmp (key, "standby") == 0 && json_is_boolean (value))
            c.standby = json_is_true (value);
        else if (strcmp (key, "kill_ignore") == 0 && json_is_boolean (value))
            c.kill_ignore = json_is_true (value);
        else if (strcmp (key, "yarn_negotiate") == 0 && json_is_boolean (value))
            c.yarn_negotiate = json_is_true (value);
        else if (strcmp (key, "yarn_delegation_token") == 0 &&
                 s_config_string (value, c.yarn_delegation_token, sizeof c.yarn_delegation_token))
            ;
        else if (strcmp (key, "livy_users") == 0 &&
                 s_config_string (value, c.livy_users, sizeof c.livy_users))
            ;
        else if (strcmp (key, "livy_modify_users") == 0 &&
                 s_config_string (value, c.livy_modify_users, sizeof c.livy_modify_users))
            ;
        else if (strcmp (key, "standalone_token") == 0 &&
                 s_config_string (value, c.standalone_token, sizeof c.standalone_token))
            ;
        else if (strcmp (key, "yarn_empty") == 0 && json_is_string (value)) {
            int found = -1;
            for (int i = 0; i < 3; i++)
                if (strcmp (json_string_value (value), s_empty_shapes[i]) == 0)
                    found = i;
            if (found < 0) {
                sim_scenario_destroy (&scenario);
                return "yarn_empty must be object, string or null";
            }
            c.yarn_empty = (sim_yarn_empty_t)found;
        } else {
            snprintf (err, errlen, "unknown or mistyped config key '%s'", key);
            sim_scenario_destroy (&scenario);
            return err;
        }
    }
    sim_jobs_enter (sim->jobs);
    c.port = sim->config.port;
    sim->config = c;
    if (scenario)
        sim_jobs_set_default (sim->jobs, &scenario);
    sim_jobs_leave (sim->jobs);
    return NULL;
}

static void
s_config (sim_t *sim, sim_req_t *req)
{
    char err[300];
    if (strcmp (req->method, "POST") == 0) {
        json_t *body = s_body (req);
        if (!body)
            return;
        const char *problem = s_config_apply (sim, body, err, sizeof err);
        json_decref (body);
        if (problem) {
            s_error (req, 400, problem);
            return;
        }
    }
    sim_jobs_enter (sim->jobs);
    json_t *json = s_config_json (sim);
    sim_jobs_leave (sim->jobs);
    sim_req_reply_json (req, 200, json);
}

//  "tags": ["a","b"] or "a,b" -> "a,b" (fresh or NULL).
static char *
s_tags (json_t *tags)
{
    if (json_is_string (tags))
        return strdup (json_string_value (tags));
    if (!json_is_array (tags) || json_array_size (tags) == 0)
        return NULL;
    sim_buf_t buf = {0};
    size_t i;
    json_t *tag;
    json_array_foreach (tags, i, tag)
    {
        if (i)
            sim_buf_puts (&buf, ",");
        sim_buf_puts (&buf, json_is_string (tag) ? json_string_value (tag) : "");
    }
    return sim_buf_detach (&buf, NULL);
}

static void
s_jobs_create (sim_t *sim, sim_req_t *req)
{
    json_t *body = s_body (req);
    if (!body)
        return;
    char err[300];
    const char *name = json_string_value (json_object_get (body, "backend"));
    int backend = name ? sim_backend_parse (name) : -1;
    json_t *count_json = json_object_get (body, "count");
    int64_t count = count_json ? json_integer_value (count_json) : 1;
    json_t *spec_scenario = json_object_get (body, "scenario");
    if (backend < 0 || backend == SIM_BACKEND_CONTROL)
        s_error (req, 400, "backend must be standalone, livy, yarn or history");
    else if (count < 1 || count > S_MAX_COUNT)
        s_error (req, 400, "count must be between 1 and 1000000");
    else {
        char *tags = s_tags (json_object_get (body, "tags"));
        sim_jobs_enter (sim->jobs);
        sim_scenario_t *scenario = spec_scenario
                                       ? sim_scenario_from_json (sim_jobs_default (sim->jobs),
                                                                 spec_scenario, err, sizeof err)
                                       : NULL;
        if (spec_scenario && !scenario)
            s_error (req, 400, err);
        else {
            sim_job_spec_t spec = {
                .name = json_string_value (json_object_get (body, "name")),
                .user = json_string_value (json_object_get (body, "user")),
                .queue = json_string_value (json_object_get (body, "queue")),
                .tags = tags,
                .main_class = json_string_value (json_object_get (body, "main_class")),
                .cores = (int)json_integer_value (json_object_get (body, "cores")),
                .memory_mb = (int)json_integer_value (json_object_get (body, "memory_mb")),
                .scenario = scenario ? sim_jobs_keep (sim->jobs, &scenario) : NULL};
            bool want_ids = !json_is_false (json_object_get (body, "return_ids"));
            json_t *ids = json_array ();
            int64_t now = sim_clock_now ();
            for (int64_t i = 0; i < count; i++) {
                sim_job_t *job = sim_jobs_add (sim->jobs, (sim_backend_t)backend, &spec, now);
                if (want_ids)
                    json_array_append_new (ids, json_string (job->id));
            }
            sim_req_reply_json (req, 201,
                                json_pack ("{s:s,s:I,s:o}", "backend", name, "count",
                                           (json_int_t)count, "ids", ids));
        }
        sim_jobs_leave (sim->jobs);
        free (tags);
    }
    json_decref (body);
}

static void
s_jobs_reset (sim_t *sim, sim_req_t *req)
{
    sim_jobs_enter (sim->jobs);
    sim_jobs_reset (sim->jobs);
    sim_jobs_leave (sim->jobs);
    sim_req_reply_json (req, 200, json_pack ("{s:b}", "ok", 1));
}

static void
s_fault_add (sim_t *sim, sim_req_t *req)
{
    json_t *body = s_body (req);
    if (!body)
        return;
    char err[300];
    int id = sim_fault_add (sim->faults, body, err, sizeof err);
    json_decref (body);
    if (id < 0)
        s_error (req, 400, err);
    else
        sim_req_reply_json (req, 201, json_pack ("{s:i}", "id", id));
}

static void
s_fault_list (sim_t *sim, sim_req_t *req)
{
    sim_req_reply_json (req, 200, json_pack ("{s:o}", "faults", sim_fault_json (sim->faults)));
}

static void
s_fault_clear (sim_t *sim, sim_req_t *req)
{
    int64_t id = 0;
    if (req->nseg > 2 && (sim_parse_int (req->seg[2], &id) || id < 1)) {
        s_error (req, 400, "fault ids are positive integers");
        return;
    }
    int removed = sim_fault_clear (sim->faults, (int)id);
    sim_req_reply_json (req, 200, json_pack ("{s:i}", "removed", removed));
}

static void
s_stats (sim_t *sim, sim_req_t *req)
{
    json_t *stats = sim_stats_json (sim->stats);
    sim_agents_json (sim->agents, stats);
    sim_req_reply_json (req, 200, stats);
}

static void
s_stats_reset (sim_t *sim, sim_req_t *req)
{
    sim_stats_reset (sim->stats);
    sim_agents_reset (sim->agents);
    sim_req_reply_json (req, 200, json_pack ("{s:b}", "ok", 1));
}

static void
s_standby (sim_t *sim, sim_req_t *req)
{
    json_t *body = s_body (req);
    if (!body)
        return;
    json_t *standby = json_object_get (body, "standby");
    if (!json_is_boolean (standby))
        s_error (req, 400, "expected {\"standby\":true|false}");
    else {
        sim_jobs_enter (sim->jobs);
        sim->config.standby = json_is_true (standby);
        sim_jobs_leave (sim->jobs);
        sim_req_reply_json (req, 200, json_pack ("{s:b}", "standby", json_is_true (standby)));
    }
    json_decref (body);
}

//  POST /sim/restart {"backend":"livy"|"yarn"|"standalone"}: that server restarts without
//  recovery while the simulator (and the others) run on.
static void
s_restart (sim_t *sim, sim_req_t *req)
{
    json_t *body = s_body (req);
    if (!body)
        return;
    const char *name = json_string_value (json_object_get (body, "backend"));
    sim_backend_t backend = SIM_BACKEND_CONTROL;
    const sim_backend_t restartable[] = {SIM_BACKEND_STANDALONE, SIM_BACKEND_LIVY,
                                         SIM_BACKEND_YARN};
    for (int i = 0; name && i < 3; i++)
        if (strcmp (name, sim_backend_name (restartable[i])) == 0)
            backend = restartable[i];
    if (backend == SIM_BACKEND_CONTROL)
        s_error (req, 400, "expected {\"backend\":\"livy\"|\"yarn\"|\"standalone\"}");
    else {
        int64_t now = sim_jobs_enter (sim->jobs);
        sim_jobs_restart (sim->jobs, backend, now);
        sim_jobs_leave (sim->jobs);
        sim_req_reply_json (req, 200, json_pack ("{s:s}", "restarted", name));
    }
    json_decref (body);
}

static void
s_clock (sim_t *sim, sim_req_t *req)
{
    if (strcmp (req->method, "POST") == 0) {
        json_t *body = s_body (req);
        if (!body)
            return;
        json_t *advance = json_object_get (body, "advance_ms");
        bool ok = json_is_integer (advance) && json_integer_value (advance) >= 0;
        if (ok)
            sim_clock_advance (json_integer_value (advance));
        json_decref (body);
        if (!ok) {
            s_error (req, 400, "expected {\"advance_ms\":N} with N >= 0 (time only moves on)");
            return;
        }
    }
    sim_req_reply_json (req, 200,
                        json_pack ("{s:I,s:I}", "now", (json_int_t)sim_clock_now (), "offset_ms",
                                   (json_int_t)sim_clock_offset ()));
}

static void
s_health (sim_t *sim, sim_req_t *req)
{
    sim_jobs_enter (sim->jobs);
    json_t *counts = json_object ();
    const sim_backend_t backends[] = {SIM_BACKEND_STANDALONE, SIM_BACKEND_LIVY, SIM_BACKEND_YARN,
                                      SIM_BACKEND_HISTORY};
    for (int i = 0; i < 4; i++)
        json_object_set_new (counts, sim_backend_name (backends[i]),
                             json_integer ((json_int_t)sim_jobs_count (sim->jobs, backends[i])));
    sim_jobs_leave (sim->jobs);
    sim_req_reply_json (req, 200,
                        json_pack ("{s:b,s:s,s:i,s:o}", "ok", 1, "version", JOBD_VERSION, "port",
                                   sim->config.port, "jobs", counts));
}

const sim_route_t sim_control_routes[] = {
    {"GET", "/sim/health", SIM_BACKEND_CONTROL, s_health, false},
    {"POST", "/sim/jobs", SIM_BACKEND_CONTROL, s_jobs_create, false},
    {"DELETE", "/sim/jobs", SIM_BACKEND_CONTROL, s_jobs_reset, false},
    {"POST", "/sim/fault", SIM_BACKEND_CONTROL, s_fault_add, false},
    {"GET", "/sim/fault", SIM_BACKEND_CONTROL, s_fault_list, false},
    {"DELETE", "/sim/fault", SIM_BACKEND_CONTROL, s_fault_clear, false},
    {"DELETE", "/sim/fault/{id}", SIM_BACKEND_CONTROL, s_fault_clear, false},
    {"GET", "/sim/stats", SIM_BACKEND_CONTROL, s_stats, false},
    {"POST", "/sim/stats/reset", SIM_BACKEND_CONTROL, s_stats_reset, false},
    {"POST", "/sim/master/standby", SIM_BACKEND_CONTROL, s_standby, false},
    {"POST", "/sim/restart", SIM_BACKEND_CONTROL, s_restart, false},
    {"GET", "/sim/clock", SIM_BACKEND_CONTROL, s_clock, false},
    {"POST", "/sim/clock", SIM_BACKEND_CONTROL, s_clock, false},
    {"GET", "/sim/config", SIM_BACKEND_CONTROL, s_config, false},
    {"POST", "/sim/config", SIM_BACKEND_CONTROL, s_config, false},
    {NULL, "/sim/**", SIM_BACKEND_CONTROL, sim_server_not_found, true},
    {NULL, NULL, 0, NULL, false}};
