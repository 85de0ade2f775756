//  sim_history: the Spark history server's monitoring API (/api/v1/applications...).
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_CTYPE "application/json"
#define S_TEXT  "text/plain;charset=utf-8"

//  Errors are text/plain (UIUtils.buildErrorResponse).
static void
s_text_error (sim_req_t *req, int status, const char *format, const char *what)
{
    char text[300];
    snprintf (text, sizeof text, format, what);
    sim_req_reply (req, status, S_TEXT, text);
}

static void
s_date (sim_jw_t *w, const char *key, int64_t ms)
{
    char text[32];
    sim_clock_gmt (ms, text);
    sim_jw_str (w, key, text);
}

//  An app is visible from when its driver starts (its event log exists).
static bool
s_visible (const sim_job_t *job, int64_t now)
{
    sim_phase_t phase = sim_jobs_phase (job, now);
    return phase != SIM_PHASE_GONE && sim_jobs_started (job, now);
}

static bool
s_completed (const sim_job_t *job, int64_t now)
{
    return sim_jobs_phase (job, now) == SIM_PHASE_DONE;
}

static void
s_app (sim_t *sim, sim_jw_t *w, const sim_job_t *job, int64_t now)
{
    bool done = s_completed (job, now);
    int64_t end = done ? job->end_ms : -1;
    int64_t updated = done ? job->end_ms : now;
    sim_jw_obj (w, NULL);
    sim_jw_str (w, "id", job->id);
    sim_jw_str (w, "name", job->name ? job->name : "spark-sim");
    sim_jw_arr (w, "attempts");
    sim_jw_obj (w, NULL);
    s_date (w, "startTime", job->start_ms);
    s_date (w, "endTime", end);
    s_date (w, "lastUpdated", updated);
    sim_jw_int (w, "duration", (done ? job->end_ms : now) - job->start_ms);
    sim_jw_str (w, "sparkUser", job->user ? job->user : "spark");
    sim_jw_bool (w, "completed", done);
    sim_jw_str (w, "appSparkVersion", sim->config.spark_version);
    sim_jw_int (w, "startTimeEpoch", job->start_ms);
    sim_jw_int (w, "endTimeEpoch", end);
    sim_jw_int (w, "lastUpdatedEpoch", updated);
    sim_jw_end (w);
    sim_jw_end (w);
    sim_jw_end (w);
}

static int64_t
s_end_key (const sim_job_t *job, int64_t now)
{
    return s_completed (job, now) ? job->end_ms : -1;
}

static int64_t s_sort_now;

//  The listing is ordered by end time, newest first; running apps (end -1) come last.
static int
s_by_end (const void *a, const void *b)
{
    const sim_job_t *x = *(sim_job_t *const *)a, *y = *(sim_job_t *const *)b;
    int64_t ex = s_end_key (x, s_sort_now), ey = s_end_key (y, s_sort_now);
    if (ex != ey)
        return ex < ey ? 1 : -1;
    return x->start_ms < y->start_ms ? 1 : x->start_ms > y->start_ms ? -1 : 0;
}

static void
s_applications (sim_t *sim, sim_req_t *req)
{
    const char *statuses[8];
    int nstatus = sim_req_args (req, "status", statuses, 8);
    bool running = nstatus == 0, completed = nstatus == 0;
    for (int i = 0; i < nstatus; i++) {
        if (strcasecmp (statuses[i], "running") == 0)
            running = true;
        else if (strcasecmp (statuses[i], "completed") == 0)
            completed = true;
        else {
            sim_req_reply (req, 404, S_TEXT, "");
            return;
        }
    }
    const char *names[] = {"minDate", "maxDate", "minEndDate", "maxEndDate"};
    int64_t range[4];
    sim_clock_parse ("2010-01-01", &range[0]);
    sim_clock_parse ("3000-01-01", &range[1]);
    range[2] = range[0];
    range[3] = range[1];
    for (int i = 0; i < 4; i++) {
        const char *text = sim_req_arg (req, names[i]);
        if (text && sim_clock_parse (text, &range[i])) {
            s_text_error (req, 400, "Couldn't parse date: %s", text);
            return;
        }
    }
    int64_t limit = INT64_MAX;
    const char *text = sim_req_arg (req, "limit");
    if (text && (sim_parse_int (text, &limit) || limit < 0)) {
        s_text_error (req, 404, "%s", "");
        return;
    }
    int64_t now = sim_jobs_enter (sim->jobs);
    size_t count = 0, cap = sim_jobs_count (sim->jobs, SIM_BACKEND_HISTORY) + 1;
    sim_job_t **list = malloc (cap * sizeof *list);
    for (sim_job_t *job = sim_jobs_first (sim->jobs, SIM_BACKEND_HISTORY); job; job = job->next) {
        if (!s_visible (job, now))
            continue;
        bool done = s_completed (job, now);
        bool start_ok = job->start_ms >= range[0] && job->start_ms <= range[1];
        bool end_ok = done ? job->end_ms >= range[2] && job->end_ms <= range[3] : range[3] > now;
        if ((done ? completed : running) && start_ok && end_ok)
            list[count++] = job;
    }
    s_sort_now = now;
    qsort (list, count, sizeof *list, s_by_end);
    sim_jw_t w;
    sim_jw_init (&w, SIM_JW_JACKSON);
    sim_jw_arr (&w, NULL);
    for (size_t i = 0; i < count && (int64_t)i < limit; i++)
        s_app (sim, &w, list[i], now);
    sim_jw_end (&w);
    sim_jobs_leave (sim->jobs);
    free (list);
    sim_req_reply_jw (req, 200, S_CTYPE, &w);
}

//  Finds /api/v1/applications/{appId}[/{attemptId}]; replies 404 and returns NULL otherwise.
//  The simulated apps have no attempt ids (client, standalone and k8s mode).
static sim_job_t *
s_find (sim_t *sim, sim_req_t *req, int64_t now, bool sub_resource, bool attempt)
{
    const char *id = req->seg[3];
    sim_job_t *job = sim_jobs_lookup (sim->jobs, SIM_BACKEND_HISTORY, id);
    if (job)
        sim_agents_job (sim->agents, req, job->id);
    if (job && s_visible (job, now) && !attempt)
        return job;
    s_text_error (req, 404, sub_resource ? "no such app: %s" : "unknown app: %s", id);
    return NULL;
}

static void
s_application (sim_t *sim, sim_req_t *req)
{
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now, req->nseg > 4, req->nseg > 4);
    if (job) {
        sim_jw_t w;
        sim_jw_init (&w, SIM_JW_JACKSON);
        s_app (sim, &w, job, now);
        sim_req_reply_jw (req, 200, S_CTYPE, &w);
    }
    sim_jobs_leave (sim->jobs);
}

static const char *s_job_statuses[] = {"RUNNING", "SUCCEEDED", "FAILED", "UNKNOWN"};

//  Spark job i of an app: the run time split evenly; the one a failure or kill cuts is FAILED.
//  Returns its status index, or -1 when it has not been submitted yet.
static int
s_job_status (const sim_job_t *job, int i, int64_t now, int64_t *submitted, int64_t *completed)
{
    int n = job->scenario->spark_jobs;
    int64_t run = job->scenario->run_ms;
    bool done = s_completed (job, now);
    int64_t until = done ? job->end_ms : now;
    *submitted = job->start_ms + run * i / n;
    *completed = job->start_ms + run * (i + 1) / n;
    if (*submitted > until || (i > 0 && *submitted >= until && done))
        return -1;
    bool cut = done && job->outcome != SIM_OUTCOME_SUCCESS;
    if (done && (*completed > job->end_ms || (cut && *completed >= job->end_ms))) {
        *completed = job->end_ms;
        return 2;
    }
    return *completed <= now ? 1 : 0;
}

static void
s_job (sim_jw_t *w, int i, int status, int64_t submitted, int64_t completed)
{
    char name[64];
    snprintf (name, sizeof name, "collect at SimJob.scala:%d", 40 + i);
    sim_jw_obj (w, NULL);
    sim_jw_int (w, "jobId", i);
    sim_jw_str (w, "name", name);
    s_date (w, "submissionTime", submitted);
    if (status != 0)
        s_date (w, "completionTime", completed);
    sim_jw_arr (w, "stageIds");
    sim_jw_int (w, NULL, 2 * i);
    sim_jw_int (w, NULL, 2 * i + 1);
    sim_jw_end (w);
    sim_jw_arr (w, "jobTags");
    sim_jw_end (w);
    sim_jw_str (w, "status", s_job_statuses[status]);
    int tasks_done = status == 1 ? 10 : status == 2 ? 6 : 4;
    const struct {
        const char *key;
        int value;
    } numbers[] = {{"numTasks", 10},
                   {"numActiveTasks", status == 0 ? 2 : 0},
                   {"numCompletedTasks", tasks_done},
                   {"numSkippedTasks", 0},
                   {"numFailedTasks", status == 2 ? 4 : 0},
                   {"numKilledTasks", 0},
                   {"numCompletedIndices", tasks_done},
                   {"numActiveStages", status == 0 ? 1 : 0},
                   {"numCompletedStages", status == 1 ? 2 : 1},
                   {"numSkippedStages", 0},
                   {"numFailedStages", status == 2 ? 1 : 0}};
    for (size_t k = 0; k < sizeof numbers / sizeof numbers[0]; k++)
        sim_jw_int (w, numbers[k].key, numbers[k].value);
    sim_jw_obj (w, "killedTasksSummary");
    sim_jw_end (w);
    sim_jw_end (w);
}

//  /jobs and /jobs/{jobId}, with or without an attempt segment.
static void
s_jobs (sim_t *sim, sim_req_t *req)
{
    bool attempt = strcmp (req->seg[4], "jobs") != 0;
    int jobs_at = attempt ? 5 : 4;
    const char *one = req->nseg > jobs_at + 1 ? req->seg[jobs_at + 1] : NULL;
    const char *wanted[8];
    int nwanted = sim_req_args (req, "status", wanted, 8);
    unsigned mask = nwanted ? 0 : 0xf;
    for (int i = 0; i < nwanted; i++) {
        unsigned before = mask;
        for (int s = 0; s < 4; s++)
            if (strcasecmp (wanted[i], s_job_statuses[s]) == 0)
                mask |= 1u << s;
        if (mask == before) {
            //  The JAX-RS parameter conversion fails: 404.
            sim_req_reply (req, 404, S_TEXT, "");
            return;
        }
    }
    int64_t now = sim_jobs_enter (sim->jobs);
    sim_job_t *job = s_find (sim, req, now, true, attempt);
    if (job) {
        sim_jw_t w;
        sim_jw_init (&w, SIM_JW_JACKSON);
        int64_t id = -1;
        if (one && sim_parse_int (one, &id))
            id = -1;
        int found = 0;
        if (!one)
            sim_jw_arr (&w, NULL);
        for (int i = job->scenario->spark_jobs - 1; i >= 0; i--) {
            int64_t submitted, completed;
            int status = s_job_status (job, i, now, &submitted, &completed);
            if (status < 0 || (one && i != id) || !(mask & (1u << status)))
                continue;
            s_job (&w, i, status, submitted, completed);
            found++;
        }
        if (!one)
            sim_jw_end (&w);
        if (one && !found) {
            sim_buf_reset (&w.buf);
            s_text_error (req, 404, "unknown job: %s", one);
        } else
            sim_req_reply_jw (req, 200, S_CTYPE, &w);
    }
    sim_jobs_leave (sim->jobs);
}

static void
s_version (sim_t *sim, sim_req_t *req)
{
    sim_jw_t w;
    sim_jw_init (&w, SIM_JW_JACKSON);
    sim_jw_obj (&w, NULL);
    sim_jw_str (&w, "spark", sim->config.spark_version);
    sim_jw_end (&w);
    sim_req_reply_jw (req, 200, S_CTYPE, &w);
}

const sim_route_t sim_history_routes[] = {
    {"GET", "/api/v1/version", SIM_BACKEND_HISTORY, s_version, false},
    {"GET", "/api/v1/applications", SIM_BACKEND_HISTORY, s_applications, false},
    {"GET", "/api/v1/applications/{appId}", SIM_BACKEND_HISTORY, s_application, false},
    {"GET", "/api/v1/applications/{appId}/jobs", SIM_BACKEND_HISTORY, s_jobs, false},
    {"GET", "/api/v1/applications/{appId}/jobs/{jobId}", SIM_BACKEND_HISTORY, s_jobs, false},
    {"GET", "/api/v1/applications/{appId}/{attemptId}", SIM_BACKEND_HISTORY, s_application, false},
    {"GET", "/api/v1/applications/{appId}/{attemptId}/jobs", SIM_BACKEND_HISTORY, s_jobs, false},
    {"GET", "/api/v1/applications/{appId}/{attemptId}/jobs/{jobId}", SIM_BACKEND_HISTORY, s_jobs,
     false},
    {NULL, "/api/**", SIM_BACKEND_HISTORY, sim_server_not_found, true},
    {NULL, NULL, 0, NULL, false}};
