//  sim_jobs: the job table; each job's state is computed from its timestamps when asked.
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _sim_jobs_t {
    pthread_mutex_t lock;
    sim_config_t *config;
    sim_hash_t *ids[SIM_BACKEND_COUNT];
    sim_hash_t *livy_names;
    sim_job_t *head[SIM_BACKEND_COUNT], *tail[SIM_BACKEND_COUNT];
    size_t count[SIM_BACKEND_COUNT];
    sim_job_t *chead[SIM_BACKEND_COUNT], *ctail[SIM_BACKEND_COUNT];
    size_t ccount[SIM_BACKEND_COUNT];
    sim_heap_t *heap;
    sim_scenario_t *scenarios; //  every scenario ever used; jobs borrow them
    const sim_scenario_t *default_scenario;
    int64_t next_driver; //  standalone driver and app numbers start at 0
    int64_t next_app;
    int64_t next_livy;
    int64_t next_yarn; //  YARN application sequence numbers start at 1
};

sim_jobs_t *
sim_jobs_new (sim_config_t *config)
{
    sim_jobs_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    self->config = config;
    for (int b = 0; b < SIM_BACKEND_COUNT; b++)
        self->ids[b] = sim_hash_new ();
    self->livy_names = sim_hash_new ();
    self->heap = sim_heap_new ();
    sim_scenario_t *scenario = sim_scenario_parse (NULL, "", NULL, 0);
    self->default_scenario = sim_jobs_keep (self, &scenario);
    return self;
}

void
sim_jobs_destroy (sim_jobs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_jobs_t *self = *self_p;
    sim_jobs_reset (self);
    for (int b = 0; b < SIM_BACKEND_COUNT; b++)
        sim_hash_destroy (&self->ids[b]);
    sim_hash_destroy (&self->livy_names);
    sim_heap_destroy (&self->heap);
    while (self->scenarios) {
        sim_scenario_t *next = self->scenarios->next;
        sim_scenario_destroy (&self->scenarios);
        self->scenarios = next;
    }
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

const sim_scenario_t *
sim_jobs_keep (sim_jobs_t *self, sim_scenario_t **scenario_p)
{
    sim_scenario_t *scenario = *scenario_p;
    *scenario_p = NULL;
    scenario->next = self->scenarios;
    self->scenarios = scenario;
    return scenario;
}

const sim_scenario_t *
sim_jobs_default (sim_jobs_t *self)
{
    return self->default_scenario;
}

void
sim_jobs_set_default (sim_jobs_t *self, sim_scenario_t **scenario_p)
{
    self->default_scenario = sim_jobs_keep (self, scenario_p);
}

static void
s_unref (sim_job_t *job)
{
    if (--job->refs > 0)
        return;
    free (job->name);
    free (job->user);
    free (job->queue);
    free (job->tags);
    free (job->main_class);
    free (job->resource);
    free (job->app_id);
    free (job->successor);
    free (job->kill_reason);
    free (job);
}

static void
s_schedule (sim_jobs_t *self, sim_job_t *job, int64_t time, sim_event_type_t type)
{
    job->refs++;
    sim_heap_push (self->heap, (sim_event_t){.time = time, .job = job, .type = type});
}

static char *
s_dup (const char *text)
{
    return text ? strdup (text) : NULL;
}

static sim_job_t *
s_create (sim_jobs_t *self, sim_backend_t backend, const sim_job_spec_t *spec, int64_t created)
{
    sim_job_t *job = calloc (1, sizeof *job);
    if (!job)
        abort ();
    char stamp[16];
    sim_clock_compact (created, stamp);
    switch (backend) {
        case SIM_BACKEND_STANDALONE:
            job->number = self->next_driver++;
            snprintf (job->id, sizeof job->id, "driver-%s-%04lld", stamp, (long long)job->number);
            break;
        case SIM_BACKEND_HISTORY:
            job->number = self->next_app++;
            snprintf (job->id, sizeof job->id, "app-%s-%04lld", stamp, (long long)job->number);
            break;
        case SIM_BACKEND_LIVY:
            job->number = self->next_livy++;
            snprintf (job->id, sizeof job->id, "%lld", (long long)job->number);
            break;
        default:
            job->number = ++self->next_yarn;
            snprintf (job->id, sizeof job->id, "application_%lld_%04lld",
                      (long long)self->config->cluster_ts, (long long)job->number);
    }
    if (backend == SIM_BACKEND_LIVY) {
        //  The YARN application the batch reports once it runs.
        char app_id[64];
        snprintf (app_id, sizeof app_id, "application_%lld_%04lld",
                  (long long)self->config->cluster_ts, (long long)++self->next_yarn);
        job->app_id = strdup (app_id);
    }
    job->backend = backend;
    job->name = s_dup (spec->name);
    job->user = s_dup (spec->user);
    job->queue = s_dup (spec->queue);
    job->tags = s_dup (spec->tags);
    job->main_class = s_dup (spec->main_class);
    job->resource = s_dup (spec->resource);
    job->cores = spec->cores > 0 ? spec->cores : 1;
    job->memory_mb = spec->memory_mb > 0 ? spec->memory_mb : 1024;
    const sim_scenario_t *scenario = spec->scenario ? spec->scenario : self->default_scenario;
    job->scenario = scenario;
    job->created_ms = created;
    job->start_ms = created + scenario->queue_ms;
    job->end_ms = job->start_ms + scenario->run_ms;
    job->kill_ms = -1;
    job->outcome = scenario->outcome;
    if (job->outcome == SIM_OUTCOME_RELAUNCH && backend != SIM_BACKEND_STANDALONE) {
        //  Only a standalone master relaunches under a new id; elsewhere a relaunch is a second
        //  attempt of the same application that ends as "then" says.
        job->end_ms += scenario->run_ms;
        job->outcome =
            scenario->then == SIM_OUTCOME_RELAUNCH ? SIM_OUTCOME_SUCCESS : scenario->then;
    }
    job->refs = 1;
    sim_hash_insert (self->ids[backend], job->id, job);
    if (backend == SIM_BACKEND_LIVY && job->name)
        sim_hash_insert (self->livy_names, job->name, job);
    job->prev = self->tail[backend];
    if (job->prev)
        job->prev->next = job;
    else
        self->head[backend] = job;
    self->tail[backend] = job;
    self->count[backend]++;
    s_schedule (self, job, job->end_ms, SIM_EVENT_END);
    return job;
}

sim_job_t *
sim_jobs_add (sim_jobs_t *self, sim_backend_t backend, const sim_job_spec_t *spec, int64_t now)
{
    if (backend == SIM_BACKEND_MASTERUI)
        backend = SIM_BACKEND_STANDALONE;
    return s_create (self, backend, spec, now);
}

static void
s_uncomplete (sim_jobs_t *self, sim_job_t *job)
{
    sim_backend_t b = job->backend;
    if (!job->cprev && self->chead[b] != job)
        return; //  not in the list
    if (job->cprev)
        job->cprev->cnext = job->cnext;
    else
        self->chead[b] = job->cnext;
    if (job->cnext)
        job->cnext->cprev = job->cprev;
    else
        self->ctail[b] = job->cprev;
    job->cprev = job->cnext = NULL;
    self->ccount[b]--;
}

void
sim_jobs_remove (sim_jobs_t *self, sim_job_t *job)
{
    if (job->removed)
        return;
    sim_backend_t b = job->backend;
    job->removed = true;
    s_uncomplete (self, job);
    if (job->prev)
        job->prev->next = job->next;
    else
        self->head[b] = job->next;
    if (job->next)
        job->next->prev = job->prev;
    else
        self->tail[b] = job->prev;
    self->count[b]--;
    sim_hash_delete (self->ids[b], job->id);
    if (b == SIM_BACKEND_LIVY && job->name && sim_hash_lookup (self->livy_names, job->name) == job)
        sim_hash_delete (self->livy_names, job->name);
    s_unref (job);
}

static void
s_complete (sim_jobs_t *self, sim_job_t *job)
{
    sim_backend_t b = job->backend;
    job->cprev = self->ctail[b];
    job->cnext = NULL;
    if (job->cprev)
        job->cprev->cnext = job;
    else
        self->chead[b] = job;
    self->ctail[b] = job;
    self->ccount[b]++;
}

//  What happens once when a job reaches its end.
static void
s_finish (sim_jobs_t *self, sim_job_t *job)
{
    job->finished = true;
    if (job->outcome == SIM_OUTCOME_VANISH) {
        sim_jobs_remove (self, job);
        return;
    }
    if (job->backend == SIM_BACKEND_STANDALONE) {
        if (job->outcome == SIM_OUTCOME_RELAUNCH) {
            sim_scenario_t *next = sim_scenario_successor (job->scenario);
            sim_job_spec_t spec = {.name = job->name,
                                   .user = job->user,
                                   .main_class = job->main_class,
                                   .resource = job->resource,
                                   .cores = job->cores,
                                   .memory_mb = job->memory_mb,
                                   .scenario = sim_jobs_keep (self, &next)};
            sim_job_t *successor = s_create (self, SIM_BACKEND_STANDALONE, &spec, job->end_ms);
            job->successor = strdup (successor->id);
        }
        //  Master.removeDriver: a full list first loses its oldest 10%.
        int retained = self->config->retained_drivers;
        if ((int)self->ccount[job->backend] >= retained) {
            int drop = retained / 10 > 1 ? retained / 10 : 1;
            for (int i = 0; i < drop && self->chead[job->backend]; i++)
                sim_jobs_remove (self, self->chead[job->backend]);
        }
        s_complete (self, job);
    } else if (job->backend == SIM_BACKEND_YARN) {
        s_complete (self, job);
        int max = self->config->yarn_max_completed;
        while (max > 0 && (int)self->ccount[job->backend] > max)
            sim_jobs_remove (self, self->chead[job->backend]);
    } else if (job->backend == SIM_BACKEND_LIVY)
        s_schedule (self, job, job->end_ms + self->config->livy_retain_ms, SIM_EVENT_GC);
}

int64_t
sim_jobs_enter (sim_jobs_t *self)
{
    pthread_mutex_lock (&self->lock);
    int64_t now = sim_clock_now ();
    sim_event_t event;
    while (sim_heap_pop_due (self->heap, now, &event)) {
        sim_job_t *job = event.job;
        if (!job->removed) {
            if (event.type == SIM_EVENT_GC)
                sim_jobs_remove (self, job);
            else if (event.time == job->end_ms && !job->finished)
                s_finish (self, job);
        }
        s_unref (job);
    }
    return now;
}

void
sim_jobs_leave (sim_jobs_t *self)
{
    pthread_mutex_unlock (&self->lock);
}

sim_job_t *
sim_jobs_lookup (sim_jobs_t *self, sim_backend_t backend, const char *id)
{
    if (backend == SIM_BACKEND_MASTERUI)
        backend = SIM_BACKEND_STANDALONE;
    return sim_hash_lookup (self->ids[backend], id);
}

sim_job_t *
sim_jobs_lookup_name (sim_jobs_t *self, const char *name)
{
    return sim_hash_lookup (self->livy_names, name);
}

sim_phase_t
sim_jobs_phase (const sim_job_t *job, int64_t now)
{
    if (job->removed)
        return SIM_PHASE_GONE;
    if (now >= job->end_ms)
        return job->outcome == SIM_OUTCOME_VANISH ? SIM_PHASE_GONE : SIM_PHASE_DONE;
    if (job->kill_ms >= 0)
        return SIM_PHASE_KILLING;
    return now < job->start_ms ? SIM_PHASE_QUEUED : SIM_PHASE_RUNNING;
}

int
sim_jobs_kill (sim_jobs_t *self, sim_job_t *job, int64_t now, int64_t delay_ms)
{
    sim_phase_t phase = sim_jobs_phase (job, now);
    if (phase == SIM_PHASE_DONE || phase == SIM_PHASE_GONE || phase == SIM_PHASE_KILLING)
        return -1;
    job->kill_ms = now;
    job->end_ms = now + delay_ms;
    job->outcome = SIM_OUTCOME_KILL;
    s_schedule (self, job, job->end_ms, SIM_EVENT_END);
    return 0;
}

sim_job_t *
sim_jobs_first (sim_jobs_t *self, sim_backend_t backend)
{
    return self->head[backend == SIM_BACKEND_MASTERUI ? SIM_BACKEND_STANDALONE : backend];
}

sim_job_t *
sim_jobs_first_completed (sim_jobs_t *self, sim_backend_t backend)
{
    return self->chead[backend == SIM_BACKEND_MASTERUI ? SIM_BACKEND_STANDALONE : backend];
}

size_t
sim_jobs_count (sim_jobs_t *self, sim_backend_t backend)
{
    return self->count[backend == SIM_BACKEND_MASTERUI ? SIM_BACKEND_STANDALONE : backend];
}

void
sim_jobs_clear_completed (sim_jobs_t *self, sim_backend_t backend)
{
    while (self->chead[backend])
        sim_jobs_remove (self, self->chead[backend]);
}

static void
s_drop_event (sim_job_t *job, void *arg)
{
    s_unref (job);
}

void
sim_jobs_reset (sim_jobs_t *self)
{
    for (int b = 0; b < SIM_BACKEND_COUNT; b++)
        while (self->head[b])
            sim_jobs_remove (self, self->head[b]);
    sim_heap_drain (self->heap, s_drop_event, NULL);
}

void
sim_jobs_restart (sim_jobs_t *self, sim_backend_t backend, int64_t now)
{
    while (self->head[backend])
        sim_jobs_remove (self, self->head[backend]);
    switch (backend) {
        case SIM_BACKEND_STANDALONE:
            self->next_driver = self->next_app = 0;
            break;
        case SIM_BACKEND_LIVY:
            self->next_livy = 0;
            break;
        case SIM_BACKEND_YARN:
            self->next_yarn = 0;
            //  The RM's start time: never the old one, even within the same millisecond.
            self->config->cluster_ts =
                now > self->config->cluster_ts ? now : self->config->cluster_ts + 1;
            break;
        default:
            break;
    }
}

bool
sim_jobs_started (const sim_job_t *job, int64_t now)
{
    int64_t until = now < job->end_ms ? now : job->end_ms;
    if (job->kill_ms >= 0 && job->kill_ms < job->start_ms)
        return false;
    return until >= job->start_ms;
}
