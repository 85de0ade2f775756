//  sim_scenario: a job's script (queue time, run time, outcome), parsed from text or JSON.
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  Utils.memoryStringToMb: digits and an optional unit; returns -1 when malformed.
int64_t
sim_memory_mb (const char *text)
{
    char *end;
    long long n = strtoll (text, &end, 10);
    if (end == text || n < 0)
        return -1;
    static const struct {
        const char *unit;
        int shift; //  log2 of bytes per unit
    } units[] = {{"", 20},  {"b", 0},   {"k", 10}, {"kb", 10}, {"m", 20}, {"mb", 20},
                 {"g", 30}, {"gb", 30}, {"t", 40}, {"tb", 40}, {"p", 50}, {"pb", 50}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcasecmp (end, units[i].unit) == 0)
            return units[i].shift >= 20 ? n << (units[i].shift - 20) : (n << units[i].shift) >> 20;
    return -1;
}

static const char *s_outcomes[] = {"success", "fail", "kill", "relaunch", "vanish"};

const char *
sim_outcome_name (sim_outcome_t outcome)
{
    return s_outcomes[outcome];
}

static sim_scenario_t *
s_copy (const sim_scenario_t *base)
{
    sim_scenario_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();
    if (base) {
        *self = *base;
        self->error = base->error ? strdup (base->error) : NULL;
        self->final_state = base->final_state ? strdup (base->final_state) : NULL;
    } else {
        self->queue_ms = 1000;
        self->run_ms = 5000;
        self->outcome = SIM_OUTCOME_SUCCESS;
        self->then = SIM_OUTCOME_SUCCESS;
        self->spark_jobs = 3;
    }
    self->next = NULL;
    return self;
}

void
sim_scenario_destroy (sim_scenario_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->error);
    free ((*self_p)->final_state);
    free (*self_p);
    *self_p = NULL;
}

static int
s_outcome (const char *text)
{
    for (int i = 0; i < 5; i++)
        if (strcmp (text, s_outcomes[i]) == 0)
            return i;
    return -1;
}

//  Applies one key; returns 0 or -1 with a reason.
static int
s_apply (sim_scenario_t *self, const char *key, const char *value, char *err, size_t errlen)
{
    int64_t number;
    if (strcmp (key, "queue") == 0 || strcmp (key, "run") == 0 || strcmp (key, "jobs") == 0) {
        if (sim_parse_int (value, &number) || number < 0 || number > 100LL * 365 * 86400000) {
            snprintf (err, errlen, "scenario: %s needs a number, not '%s'", key, value);
            return -1;
        }
        if (key[0] == 'q')
            self->queue_ms = number;
        else if (key[0] == 'r')
            self->run_ms = number;
        else
            self->spark_jobs = (int)(number > 1000 ? 1000 : number);
    } else if (strcmp (key, "outcome") == 0 || strcmp (key, "then") == 0) {
        int outcome = s_outcome (value);
        if (outcome < 0) {
            snprintf (err, errlen,
                      "scenario: %s must be success, fail, kill, relaunch or vanish, not '%s'", key,
                      value);
            return -1;
        }
        if (key[0] == 'o')
            self->outcome = outcome;
        else
            self->then = outcome;
    } else if (strcmp (key, "quiet") == 0) {
        if (strcmp (value, "1") && strcmp (value, "0") && strcmp (value, "true") &&
            strcmp (value, "false")) {
            snprintf (err, errlen, "scenario: quiet must be 1, 0, true or false, not '%s'", value);
            return -1;
        }
        self->quiet = value[0] == '1' || value[0] == 't';
    } else if (strcmp (key, "min_memory") == 0) {
        number = sim_memory_mb (value);
        if (number < 0 || number > INT32_MAX) {
            snprintf (err, errlen, "scenario: min_memory needs a memory size (6g, 512m), not '%s'",
                      value);
            return -1;
        }
        self->min_memory_mb = number;
    } else if (strcmp (key, "error") == 0 || strcmp (key, "final") == 0) {
        char **field = key[0] == 'e' ? &self->error : &self->final_state;
        free (*field);
        *field = *value ? strdup (value) : NULL;
    } else {
        snprintf (
            err, errlen,
            "scenario: unknown key '%s' (queue, run, outcome, then, error, final, jobs, quiet, "
            "min_memory)",
            key);
        return -1;
    }
    return 0;
}

sim_scenario_t *
sim_scenario_parse (const sim_scenario_t *base, const char *text, char *err, size_t errlen)
{
    sim_scenario_t *self = s_copy (base);
    char *copy = strdup (text);
    char *p = copy;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        char *eq = strchr (p, '=');
        if (!eq) {
            snprintf (err, errlen, "scenario: '%s' is not key=value", p);
            goto fail;
        }
        *eq = 0;
        char *value = eq + 1;
        char *next = NULL;
        //  error= takes the rest of the text: exception messages have commas.
        if (strcmp (p, "error") != 0) {
            next = strchr (value, ',');
            if (next)
                *next++ = 0;
        }
        if (s_apply (self, p, value, err, errlen))
            goto fail;
        p = next;
    }
    free (copy);
    return self;
fail:
    free (copy);
    sim_scenario_destroy (&self);
    return NULL;
}

sim_scenario_t *
sim_scenario_from_json (const sim_scenario_t *base, const json_t *json, char *err, size_t errlen)
{
    if (json_is_string (json))
        return sim_scenario_parse (base, json_string_value (json), err, errlen);
    if (!json_is_object (json)) {
        snprintf (err, errlen, "scenario must be a string or an object");
        return NULL;
    }
    sim_scenario_t *self = s_copy (base);
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *)json, key, value)
    {
        char text[64];
        const char *v = text;
        if (json_is_string (value))
            v = json_string_value (value);
        else if (json_is_integer (value))
            snprintf (text, sizeof text, "%lld", (long long)json_integer_value (value));
        else if (json_is_real (value))
            snprintf (text, sizeof text, "%lld", (long long)json_real_value (value));
        else
            snprintf (text, sizeof text, "(not a string or number)");
        if (s_apply (self, key, v, err, errlen)) {
            sim_scenario_destroy (&self);
            return NULL;
        }
    }
    return self;
}

sim_scenario_t *
sim_scenario_successor (const sim_scenario_t *base)
{
    sim_scenario_t *self = s_copy (base);
    self->outcome = base->then;
    self->then = SIM_OUTCOME_SUCCESS;
    return self;
}

json_t *
sim_scenario_json (const sim_scenario_t *self)
{
    json_t *json = json_pack ("{s:I,s:I,s:s,s:s,s:i}", "queue", (json_int_t)self->queue_ms, "run",
                              (json_int_t)self->run_ms, "outcome", s_outcomes[self->outcome],
                              "then", s_outcomes[self->then], "jobs", self->spark_jobs);
    if (self->error)
        json_object_set_new (json, "error", json_string (self->error));
    if (self->final_state)
        json_object_set_new (json, "final", json_string (self->final_state));
    if (self->quiet)
        json_object_set_new (json, "quiet", json_true ());
    if (self->min_memory_mb)
        json_object_set_new (json, "min_memory", json_integer (self->min_memory_mb));
    return json;
}

sim_scenario_t *
sim_scenario_fit (const sim_scenario_t *base, sim_scenario_t *given, const char *executor_memory)
{
    const sim_scenario_t *effective = given ? given : base;
    //  Spark's default spark.executor.memory is 1g; a size Spark cannot read fails the same.
    int64_t memory_mb = executor_memory ? sim_memory_mb (executor_memory) : 1024;
    if (!effective || effective->min_memory_mb <= 0 || memory_mb >= effective->min_memory_mb)
        return given;
    sim_scenario_t *self = given ? given : s_copy (base);
    self->outcome = SIM_OUTCOME_FAIL;
    free (self->error);
    self->error = strdup (SIM_OOM_ERROR);
    return self;
}
