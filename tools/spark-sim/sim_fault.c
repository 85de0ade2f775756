//  sim_fault: fault injection rules, matched per backend or path prefix, for N requests or until
//  cleared.
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_MAX_RULES 64

struct _sim_fault_t {
    pthread_mutex_t lock;
    sim_fault_rule_t rules[S_MAX_RULES];
    int size;
    int next_id;
};

static const char *s_modes[] = {"down",    "slow",      "http5xx", "html",
                                "garbage", "truncated", "version"};

sim_fault_t *
sim_fault_new (void)
{
    sim_fault_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    pthread_mutex_init (&self->lock, NULL);
    self->next_id = 1;
    return self;
}

void
sim_fault_destroy (sim_fault_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy (&(*self_p)->lock);
    free (*self_p);
    *self_p = NULL;
}

int
sim_fault_add (sim_fault_t *self, const json_t *spec, char *err, size_t errlen)
{
    sim_fault_rule_t rule = {.backend = -1, .count = -1};
    const char *mode = json_string_value (json_object_get (spec, "mode"));
    int m = -1;
    for (int i = 0; mode && i < (int)(sizeof s_modes / sizeof s_modes[0]); i++)
        if (strcmp (mode, s_modes[i]) == 0)
            m = i;
    if (m < 0) {
        snprintf (err, errlen,
                  "mode must be one of down, slow, http5xx, html, garbage, truncated, version");
        return -1;
    }
    rule.mode = (sim_fault_mode_t)m;
    json_t *backend = json_object_get (spec, "backend");
    if (backend) {
        rule.backend =
            json_is_string (backend) ? sim_backend_parse (json_string_value (backend)) : -1;
        if (rule.backend < 0 || rule.backend == SIM_BACKEND_CONTROL) {
            snprintf (err, errlen,
                      "backend must be one of standalone, masterui, livy, yarn, history");
            return -1;
        }
    }
    const char *prefix = json_string_value (json_object_get (spec, "prefix"));
    snprintf (rule.prefix, sizeof rule.prefix, "%s", prefix ? prefix : "");
    const char *method = json_string_value (json_object_get (spec, "method"));
    if (method && strlen (method) >= sizeof rule.method) {
        snprintf (err, errlen, "method must be an HTTP method (GET, POST, ...)");
        return -1;
    }
    snprintf (rule.method, sizeof rule.method, "%s", method ? method : "");
    const char *body = json_string_value (json_object_get (spec, "body"));
    snprintf (rule.body, sizeof rule.body, "%s", body ? body : "");
    json_t *count = json_object_get (spec, "count");
    if (count && (!json_is_integer (count) || json_integer_value (count) < 1)) {
        snprintf (err, errlen, "count must be a positive integer (omit it: until cleared)");
        return -1;
    }
    rule.count = count ? (int)json_integer_value (count) : -1;
    rule.delay_ms = json_integer_value (json_object_get (spec, "delay_ms"));
    if (rule.mode == SIM_FAULT_SLOW && rule.delay_ms <= 0)
        rule.delay_ms = 1000;
    rule.status = (int)json_integer_value (json_object_get (spec, "status"));
    if (rule.mode == SIM_FAULT_HTTP5XX && rule.status == 0)
        rule.status = 503;
    if (rule.status && (rule.status < 100 || rule.status > 599)) {
        snprintf (err, errlen, "status must be an HTTP status code");
        return -1;
    }
    pthread_mutex_lock (&self->lock);
    if (self->size == S_MAX_RULES) {
        pthread_mutex_unlock (&self->lock);
        snprintf (err, errlen, "too many fault rules (%d); DELETE /sim/fault first", S_MAX_RULES);
        return -1;
    }
    rule.id = self->next_id++;
    self->rules[self->size++] = rule;
    pthread_mutex_unlock (&self->lock);
    return rule.id;
}

static void
s_remove_at (sim_fault_t *self, int i)
{
    memmove (&self->rules[i], &self->rules[i + 1],
             (size_t)(self->size - i - 1) * sizeof (sim_fault_rule_t));
    self->size--;
}

int
sim_fault_clear (sim_fault_t *self, int id)
{
    pthread_mutex_lock (&self->lock);
    int removed = 0;
    for (int i = self->size - 1; i >= 0; i--)
        if (id == 0 || self->rules[i].id == id) {
            s_remove_at (self, i);
            removed++;
        }
    pthread_mutex_unlock (&self->lock);
    return removed;
}

bool
sim_fault_match (sim_fault_t *self, sim_backend_t backend, const char *method, const char *path,
                 sim_fault_rule_t *rule)
{
    bool found = false;
    pthread_mutex_lock (&self->lock);
    for (int i = 0; i < self->size; i++) {
        sim_fault_rule_t *r = &self->rules[i];
        if (r->backend >= 0 && r->backend != (int)backend)
            continue;
        if (*r->prefix && strncmp (path, r->prefix, strlen (r->prefix)) != 0)
            continue;
        if (*r->method && strcasecmp (method, r->method) != 0)
            continue; //  a Livy create (POST /batches), not its list (GET /batches)
        *rule = *r;
        if (r->count > 0 && --r->count == 0)
            s_remove_at (self, i);
        found = true;
        break;
    }
    pthread_mutex_unlock (&self->lock);
    return found;
}

json_t *
sim_fault_json (sim_fault_t *self)
{
    json_t *list = json_array ();
    pthread_mutex_lock (&self->lock);
    for (int i = 0; i < self->size; i++) {
        sim_fault_rule_t *r = &self->rules[i];
        json_t *item = json_pack ("{s:i,s:s}", "id", r->id, "mode", s_modes[r->mode]);
        if (r->backend >= 0)
            json_object_set_new (item, "backend", json_string (sim_backend_name (r->backend)));
        if (*r->prefix)
            json_object_set_new (item, "prefix", json_string (r->prefix));
        if (*r->method)
            json_object_set_new (item, "method", json_string (r->method));
        if (r->count > 0)
            json_object_set_new (item, "count", json_integer (r->count));
        if (r->delay_ms)
            json_object_set_new (item, "delay_ms", json_integer (r->delay_ms));
        if (r->status)
            json_object_set_new (item, "status", json_integer (r->status));
        if (*r->body)
            json_object_set_new (item, "body", json_string (r->body));
        json_array_append_new (list, item);
    }
    pthread_mutex_unlock (&self->lock);
    return list;
}
