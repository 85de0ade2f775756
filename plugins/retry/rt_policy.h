//  retry: the policy, in layers: the plugin's own keys (the default), then `policies` entries per
//  kind and per kind/backend ("spark max_attempts=5; spark/livy backoff_initial=1m rate=2"),
//  and the backoff it gives an attempt.
#ifndef RT_POLICY_H_INCLUDED
#define RT_POLICY_H_INCLUDED

#include "jobd_plugin_sdk.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RT_POLICY_NAME_MAX 127

//  One layer: the retry settings and the per-backend rate (resubmissions a second; -1: unset).
typedef struct {
    jobd_sdk_retry_t retry;
    int64_t rate;
} rt_rule_t;

typedef struct rt_policy rt_policy_t;

//  Sets every field of rule to unset.
void rt_rule_unset (rt_rule_t *rule);

//  Sets one KEY=VALUE of a rule: the retry settings (jobd_sdk_retry_set) and rate (0 or more).
//  Returns 0, or JOBD_EINVAL with a reason.
int rt_rule_set (rt_rule_t *rule, const char *key, const char *value, char *reason,
                 size_t reason_size);

//  True when rule sets anything.
bool rt_rule_sets (const rt_rule_t *rule);

//  A policy with base as its default layer (every field set) and the entries of policies
//  ("KIND[/BACKEND] KEY=VALUE ...; ...", may be NULL). Returns 0 and sets *self_p, or
//  JOBD_ECONFIG with a reason naming the entry.
int rt_policy_new (const rt_rule_t *base, const char *policies, rt_policy_t **self_p, char *reason,
                   size_t reason_size);

//  Frees the policy; NULL-safe; sets *self_p to NULL.
void rt_policy_destroy (rt_policy_t **self_p);

//  The rule for a job of kind on backend (either may be NULL): the default, then its kind's
//  entry, then its kind/backend's. Writes which layer last set anything into name ("default",
//  "kind spark", "backend livy").
void rt_policy_resolve (const rt_policy_t *self, const char *kind, const char *backend,
                        rt_rule_t *rule, char *name, size_t name_size);

//  The wait before attempt + 1 after attempt (1-based) failed: initial * multiplier^(attempt-1),
//  at most max; with full jitter a uniform pick in [0, that], from random (64 random bits).
int64_t rt_policy_backoff (const jobd_sdk_retry_t *settings, uint32_t attempt, uint64_t random);

#ifdef __cplusplus
}
#endif
#endif
