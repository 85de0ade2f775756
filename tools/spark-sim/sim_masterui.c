//  sim_masterui: the standalone master web UI's JSON (GET /json/), the one batch view of drivers.
#include "sim.h"

#include <stdio.h>
#include <string.h>

#define S_CTYPE        "text/json;charset=utf-8"
#define S_WORKER_CORES 1024
#define S_WORKER_MB    (1024 * 1024)

static void
s_driver (sim_t *sim, sim_jw_t *w, const sim_job_t *job, int64_t now)
{
    char text[48];
    sim_jw_obj (w, NULL);
    sim_jw_str (w, "id", job->id);
    snprintf (text, sizeof text, "%lld", (long long)job->created_ms);
    sim_jw_str (w, "starttime", text);
    sim_jw_str (w, "state", sim_standalone_state (job, now));
    sim_jw_int (w, "cores", job->cores);
    sim_jw_int (w, "memory", job->memory_mb);
    sim_jw_arr (w, "resources");
    sim_jw_end (w);
    sim_clock_javadate (job->created_ms, text);
    sim_jw_str (w, "submitdate", text);
    sim_jw_str (w, "worker",
                sim_jobs_started (job, now) ? sim_standalone_worker (sim, NULL) : "None");
    sim_jw_str (w, "mainclass", job->main_class ? job->main_class : "");
    sim_jw_end (w);
}

//  JsonProtocol.writeApplicationInfo: the application a running driver made, under the name it
//  was submitted with (spark.app.name), as the master's UI shows it.
static void
s_app (sim_jw_t *w, const sim_job_t *job, int64_t now)
{
    char text[64];
    sim_jw_obj (w, NULL);
    const char *dash = strchr (job->id, '-'); //  driver-<date>-<n> makes app-<date>-<n>
    snprintf (text, sizeof text, "app%s", dash ? dash : job->id);
    sim_jw_str (w, "id", text);
    sim_jw_int (w, "starttime", job->start_ms);
    sim_jw_str (w, "name", job->name ? job->name : "");
    sim_jw_int (w, "cores", job->cores);
    sim_jw_str (w, "user", job->user ? job->user : "spark");
    sim_jw_int (w, "memoryperexecutor", 1024);
    sim_jw_int (w, "memoryperslave", 1024);
    sim_jw_arr (w, "resourcesperexecutor");
    sim_jw_end (w);
    sim_jw_arr (w, "resourcesperslave");
    sim_jw_end (w);
    sim_clock_javadate (job->start_ms, text);
    sim_jw_str (w, "submitdate", text);
    sim_jw_str (w, "state", job->finished ? "FINISHED" : "RUNNING");
    sim_jw_int (w, "duration", (job->finished && job->end_ms ? job->end_ms : now) - job->start_ms);
    sim_jw_end (w);
}

static void
s_worker (sim_t *sim, sim_jw_t *w, int64_t cores_used, int64_t memory_used, int64_t now)
{
    sim_jw_obj (w, NULL);
    sim_jw_str (w, "id", sim_standalone_worker (sim, NULL));
    sim_jw_str (w, "host", "127.0.0.1");
    sim_jw_int (w, "port", 7078);
    sim_jw_str (w, "webuiaddress", "http://127.0.0.1:8081");
    sim_jw_int (w, "cores", S_WORKER_CORES);
    sim_jw_int (w, "coresused", cores_used);
    sim_jw_int (w, "coresfree", S_WORKER_CORES - cores_used);
    sim_jw_int (w, "memory", S_WORKER_MB);
    sim_jw_int (w, "memoryused", memory_used);
    sim_jw_int (w, "memoryfree", S_WORKER_MB - memory_used);
    const char *empty[] = {"resources", "resourcesused", "resourcesfree"};
    for (int i = 0; i < 3; i++) {
        sim_jw_obj (w, empty[i]);
        sim_jw_end (w);
    }
    sim_jw_str (w, "state", "ALIVE");
    sim_jw_int (w, "lastheartbeat", now - 1000);
    sim_jw_end (w);
}

static bool
s_want (const char *field, const char *name)
{
    return !field || strcmp (field, name) == 0;
}

//  JsonProtocol.writeMasterState, whole or one field (/json/activedrivers).
static void
s_json (sim_t *sim, sim_req_t *req)
{
    const char *field = req->nseg >= 2 ? req->seg[1] : NULL;
    sim_jw_t w;
    sim_jw_init (&w, SIM_JW_JACKSON);
    sim_jw_obj (&w, NULL);
    int64_t now = sim_jobs_enter (sim->jobs);
    bool alive = !sim->config.standby;
    int64_t cores_used = 0, memory_used = 0;
    for (sim_job_t *job = sim_jobs_first (sim->jobs, SIM_BACKEND_STANDALONE); job && alive;
         job = job->next)
        if (!job->finished && sim_jobs_started (job, now)) {
            cores_used += job->cores;
            memory_used += job->memory_mb;
        }
    char url[64];
    snprintf (url, sizeof url, "spark://127.0.0.1:7077");
    const char *lists[] = {"resources", "resourcesused"};
    const struct {
        const char *name;
        int64_t value;
    } numbers[] = {{"aliveworkers", 1},
                   {"cores", S_WORKER_CORES},
                   {"coresused", cores_used},
                   {"memory", S_WORKER_MB},
                   {"memoryused", memory_used}};
    bool known = false;
    if (s_want (field, "url")) {
        sim_jw_str (&w, "url", url);
        known = true;
    }
    if (s_want (field, "workers")) {
        sim_jw_arr (&w, "workers");
        s_worker (sim, &w, cores_used, memory_used, now);
        sim_jw_end (&w);
        known = true;
    }
    for (int i = 0; i < 5; i++)
        if (s_want (field, numbers[i].name)) {
            sim_jw_int (&w, numbers[i].name, numbers[i].value);
            known = true;
        }
    for (int i = 0; i < 2; i++)
        if (s_want (field, lists[i])) {
            sim_jw_arr (&w, lists[i]);
            sim_jw_end (&w);
            known = true;
        }
    //  A driver's application runs while the driver does (its queue time over).
    if (s_want (field, "activeapps")) {
        sim_jw_arr (&w, "activeapps");
        for (sim_job_t *job = sim_jobs_first (sim->jobs, SIM_BACKEND_STANDALONE); job && alive;
             job = job->next)
            if (!job->finished && sim_jobs_started (job, now))
                s_app (&w, job, now);
        sim_jw_end (&w);
        known = true;
    }
    if (s_want (field, "completedapps")) {
        sim_jw_arr (&w, "completedapps");
        for (sim_job_t *job = sim_jobs_first_completed (sim->jobs, SIM_BACKEND_STANDALONE);
             job && alive; job = job->cnext)
            if (job->start_ms && job->start_ms <= now)
                s_app (&w, job, now);
        sim_jw_end (&w);
        known = true;
    }
    if (s_want (field, "activedrivers")) {
        sim_jw_arr (&w, "activedrivers");
        for (sim_job_t *job = sim_jobs_first (sim->jobs, SIM_BACKEND_STANDALONE); job && alive;
             job = job->next)
            if (!job->finished)
                s_driver (sim, &w, job, now);
        sim_jw_end (&w);
        known = true;
    }
    if (s_want (field, "completeddrivers")) {
        sim_jw_arr (&w, "completeddrivers");
        for (sim_job_t *job = sim_jobs_first_completed (sim->jobs, SIM_BACKEND_STANDALONE);
             job && alive; job = job->cnext)
            s_driver (sim, &w, job, now);
        sim_jw_end (&w);
        known = true;
    }
    sim_jobs_leave (sim->jobs);
    if (s_want (field, "status")) {
        sim_jw_str (&w, "status", alive ? "ALIVE" : "STANDBY");
        known = true;
    }
    if (!known)
        sim_jw_str (&w, field, "");
    sim_jw_end (&w);
    sim_req_reply_jw (req, 200, S_CTYPE, &w);
}

const sim_route_t sim_masterui_routes[] = {
    {"GET", "/json", SIM_BACKEND_MASTERUI, s_json, false},
    {"GET", "/json/{field}/**", SIM_BACKEND_MASTERUI, s_json, false},
    {NULL, NULL, 0, NULL, false}};
