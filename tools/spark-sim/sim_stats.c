//  sim_stats: request counters per endpoint (method + route pattern), backend and HTTP status.
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _sim_stats_t {
    pthread_mutex_t lock;
    sim_hash_t *endpoints; //  "GET /ws/v1/cluster/apps" -> int64_t *
    sim_hash_t *creates;   //  a created job's tag or name -> int64_t *
    int64_t backends[SIM_BACKEND_COUNT + 1];
    int64_t statuses[600];
    int64_t total;
    int64_t faulted;
};

sim_stats_t *
sim_stats_new (void)
{
    sim_stats_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    pthread_mutex_init (&self->lock, NULL);
    self->endpoints = sim_hash_new ();
    self->creates = sim_hash_new ();
    return self;
}

static void
s_free_counter (const char *key, void *item, void *arg)
{
    free (item);
}

void
sim_stats_destroy (sim_stats_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_stats_t *self = *self_p;
    sim_hash_foreach (self->endpoints, s_free_counter, NULL);
    sim_hash_destroy (&self->endpoints);
    sim_hash_foreach (self->creates, s_free_counter, NULL);
    sim_hash_destroy (&self->creates);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

//  Adds one to key's counter in hash (under the lock).
static void
s_count (sim_hash_t *hash, const char *key)
{
    int64_t *counter = sim_hash_lookup (hash, key);
    if (!counter) {
        counter = calloc (1, sizeof *counter);
        if (!counter)
            abort ();
        sim_hash_insert (hash, key, counter);
    }
    (*counter)++;
}

void
sim_stats_record (sim_stats_t *self, const char *method, const sim_route_t *route, int backend,
                  int status, bool faulted)
{
    char key[200];
    if (route) {
        //  "/v1/submissions/status/{id}/**" reads better as "/v1/submissions/status/{id}".
        const char *pattern = route->pattern;
        size_t len = strlen (pattern);
        if (len >= 3 && strcmp (pattern + len - 3, "/**") == 0)
            len -= 3;
        snprintf (key, sizeof key, "%s %.*s", method, (int)(len ? len : 1), len ? pattern : "/");
    } else
        snprintf (key, sizeof key, "%s (no route)", method);
    pthread_mutex_lock (&self->lock);
    s_count (self->endpoints, key);
    self->backends[backend >= 0 ? backend : SIM_BACKEND_COUNT]++;
    if (status >= 0 && status < 600)
        self->statuses[status]++;
    self->total++;
    if (faulted)
        self->faulted++;
    pthread_mutex_unlock (&self->lock);
}

void
sim_stats_created (sim_stats_t *self, const char *key)
{
    pthread_mutex_lock (&self->lock);
    s_count (self->creates, key && *key ? key : "(none)");
    pthread_mutex_unlock (&self->lock);
}

void
sim_stats_reset (sim_stats_t *self)
{
    pthread_mutex_lock (&self->lock);
    sim_hash_foreach (self->endpoints, s_free_counter, NULL);
    sim_hash_destroy (&self->endpoints);
    self->endpoints = sim_hash_new ();
    sim_hash_foreach (self->creates, s_free_counter, NULL);
    sim_hash_destroy (&self->creates);
    self->creates = sim_hash_new ();
    memset (self->backends, 0, sizeof self->backends);
    memset (self->statuses, 0, sizeof self->statuses);
    self->total = self->faulted = 0;
    pthread_mutex_unlock (&self->lock);
}

static void
s_endpoint_json (const char *key, void *item, void *arg)
{
    json_object_set_new (arg, key, json_integer (*(int64_t *)item));
}

json_t *
sim_stats_json (sim_stats_t *self)
{
    json_t *endpoints = json_object ();
    json_t *backends = json_object ();
    json_t *statuses = json_object ();
    json_t *creates = json_object ();
    pthread_mutex_lock (&self->lock);
    sim_hash_foreach (self->endpoints, s_endpoint_json, endpoints);
    sim_hash_foreach (self->creates, s_endpoint_json, creates);
    for (int b = 0; b <= SIM_BACKEND_COUNT; b++)
        if (self->backends[b])
            json_object_set_new (backends, b < SIM_BACKEND_COUNT ? sim_backend_name (b) : "none",
                                 json_integer (self->backends[b]));
    for (int s = 0; s < 600; s++)
        if (self->statuses[s]) {
            char code[8];
            snprintf (code, sizeof code, "%d", s); //  0: connection dropped (fault "down")
            json_object_set_new (statuses, code, json_integer (self->statuses[s]));
        }
    json_t *json = json_pack ("{s:I,s:I,s:o,s:o,s:o,s:o}", "total", (json_int_t)self->total,
                              "faulted", (json_int_t)self->faulted, "endpoints", endpoints,
                              "backends", backends, "statuses", statuses, "creates", creates);
    pthread_mutex_unlock (&self->lock);
    return json;
}
