//  sim_agents: who asked. Requests per User-Agent, and per job the runs of requests by one agent
//  after another ([agent, first_ms, last_ms, requests]), so that a test sees which jobd instance
//  followed a job when, and whether two ever interleaved. A request's X-Jobd-Epoch
//  ("partition/epoch") lower than one already seen for the same job is counted as stale: an
//  instance acting after its successor started.
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_RUNS_MAX 64 //  runs kept per job; later ones are counted, not kept

typedef struct {
    char *agent;
    int64_t first, last, requests;
} s_run_t;

typedef struct {
    s_run_t runs[S_RUNS_MAX];
    size_t count;
    int64_t runs_dropped;
    int64_t epoch; //  the highest X-Jobd-Epoch seen, -1: none
} s_job_t;

struct _sim_agents_t {
    pthread_mutex_t lock;
    sim_hash_t *agents; //  User-Agent -> int64_t *
    sim_hash_t *jobs;   //  job id -> s_job_t *
    int64_t stale;
};

sim_agents_t *
sim_agents_new (void)
{
    sim_agents_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    pthread_mutex_init (&self->lock, NULL);
    self->agents = sim_hash_new ();
    self->jobs = sim_hash_new ();
    return self;
}

static void
s_free_agent (const char *key, void *item, void *arg)
{
    free (item);
}

static void
s_free_job (const char *key, void *item, void *arg)
{
    s_job_t *job = item;
    for (size_t index = 0; index < job->count; index++)
        free (job->runs[index].agent);
    free (job);
}

//  Empties the tables (under the lock, or before anyone else sees them).
static void
s_clear (sim_agents_t *self)
{
    sim_hash_foreach (self->agents, s_free_agent, NULL);
    sim_hash_destroy (&self->agents);
    sim_hash_foreach (self->jobs, s_free_job, NULL);
    sim_hash_destroy (&self->jobs);
    self->stale = 0;
}

void
sim_agents_destroy (sim_agents_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_agents_t *self = *self_p;
    s_clear (self);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void
sim_agents_reset (sim_agents_t *self)
{
    pthread_mutex_lock (&self->lock);
    s_clear (self);
    self->agents = sim_hash_new ();
    self->jobs = sim_hash_new ();
    pthread_mutex_unlock (&self->lock);
}

static const char *
s_agent (sim_req_t *req)
{
    const char *agent = sim_req_header (req, "User-Agent");
    return agent && *agent ? agent : "(none)";
}

void
sim_agents_request (sim_agents_t *self, sim_req_t *req)
{
    const char *agent = s_agent (req);
    pthread_mutex_lock (&self->lock);
    int64_t *counter = sim_hash_lookup (self->agents, agent);
    if (!counter) {
        counter = calloc (1, sizeof *counter);
        if (!counter)
            abort ();
        sim_hash_insert (self->agents, agent, counter);
    }
    (*counter)++;
    pthread_mutex_unlock (&self->lock);
}

//  The epoch of "partition/epoch", or -1 when the header is absent or not that.
static int64_t
s_epoch (sim_req_t *req)
{
    const char *header = sim_req_header (req, "X-Jobd-Epoch");
    long long partition, epoch;
    int used = 0;
    if (!header || sscanf (header, "%lld/%lld%n", &partition, &epoch, &used) != 2 ||
        header[used] != 0 || epoch < 0)
        return -1;
    return epoch;
}

void
sim_agents_job (sim_agents_t *self, sim_req_t *req, const char *job_id)
{
    struct timespec clock;
    clock_gettime (CLOCK_REALTIME, &clock);
    int64_t now = (int64_t)clock.tv_sec * 1000 + clock.tv_nsec / 1000000;
    const char *agent = s_agent (req);
    int64_t epoch = s_epoch (req);
    pthread_mutex_lock (&self->lock);
    s_job_t *job = sim_hash_lookup (self->jobs, job_id);
    if (!job) {
        job = calloc (1, sizeof *job);
        if (!job)
            abort ();
        job->epoch = -1;
        sim_hash_insert (self->jobs, job_id, job);
    }
    if (epoch >= 0 && epoch < job->epoch)
        self->stale++;
    else if (epoch > job->epoch)
        job->epoch = epoch;
    s_run_t *run = job->count ? &job->runs[job->count - 1] : NULL;
    if (run && strcmp (run->agent, agent) == 0) {
        run->last = now;
        run->requests++;
    } else if (job->count < S_RUNS_MAX) {
        run = &job->runs[job->count++];
        run->agent = strdup (agent);
        if (!run->agent)
            abort ();
        run->first = run->last = now;
        run->requests = 1;
    } else
        job->runs_dropped++;
    pthread_mutex_unlock (&self->lock);
}

static void
s_agent_json (const char *key, void *item, void *arg)
{
    json_object_set_new (arg, key, json_integer (*(int64_t *)item));
}

static void
s_job_json (const char *key, void *item, void *arg)
{
    s_job_t *job = item;
    json_t *runs = json_array ();
    for (size_t index = 0; index < job->count; index++) {
        s_run_t *run = &job->runs[index];
        json_array_append_new (runs, json_pack ("[s,I,I,I]", run->agent, (json_int_t)run->first,
                                                (json_int_t)run->last, (json_int_t)run->requests));
    }
    json_object_set_new (arg, key, runs);
}

void
sim_agents_json (sim_agents_t *self, json_t *into)
{
    json_t *agents = json_object (), *jobs = json_object ();
    pthread_mutex_lock (&self->lock);
    sim_hash_foreach (self->agents, s_agent_json, agents);
    sim_hash_foreach (self->jobs, s_job_json, jobs);
    json_object_set_new (into, "stale_epoch_requests", json_integer (self->stale));
    pthread_mutex_unlock (&self->lock);
    json_object_set_new (into, "agents", agents);
    json_object_set_new (into, "jobs_by_agent", jobs);
}
