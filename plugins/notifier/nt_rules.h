//  notifier: the rules. A rule says which events (failed, final, stale, recovered, cancelled,
//  succeeded, state:<STATE>) of which jobs (kinds, backends, names: comma lists of globs, or one
//  POSIX extended regex written ~REGEX) go to which channels, and when a storm of them becomes a
//  digest (more than digest_after within digest_window). Rules are tried in the order they were
//  added (file order); the first that matches an event for a channel decides its note.
#ifndef NT_RULES_H_INCLUDED
#define NT_RULES_H_INCLUDED

#include "nt_channel.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NT_RULES_MAX 64

//  What an event of the log says about its job, for matching.
typedef struct {
    uint32_t events;    //  bits 1 << nt_event_t: every event the transition is (FAILED and FINAL)
    jobd_state_t state; //  the state entered (state:<STATE>)
    const char *kind, *backend, *name; //  NULL: absent (matches only an empty pattern, or "*")
} nt_facts_t;

typedef struct nt_rules nt_rules_t;

//  An empty rule list.
nt_rules_t *nt_rules_new (void);

//  Frees the rules; NULL-safe; sets *self_p to NULL.
void nt_rules_destroy (nt_rules_t **self_p);

//  Adds rule name. events: a comma list of event names; channels: "*" or a comma list of channel
//  names; kinds, backends, names: "" (any), a comma list of globs, or "~REGEX". Returns 0, or
//  JOBD_ECONFIG with a reason naming the key ("events: unknown event 'x'").
int nt_rules_add (nt_rules_t *self, const char *name, const char *events, const char *channels,
                  const char *kinds, const char *backends, const char *names, int64_t digest_after,
                  int64_t digest_window, char *reason, size_t reason_size);

//  How many rules there are.
size_t nt_rules_size (const nt_rules_t *self);

//  Rule index's name, digest_after and digest_window (ms).
const char *nt_rules_name (const nt_rules_t *self, size_t index);
int64_t nt_rules_digest_after (const nt_rules_t *self, size_t index);
int64_t nt_rules_digest_window (const nt_rules_t *self, size_t index);

//  A channel a rule names that is not among names (count of them), or NULL when all are known.
const char *nt_rules_unknown_channel (const nt_rules_t *self, const char *const *names,
                                      size_t count);

//  The first rule that sends facts to channel: its index, and in *event_p the event the note is
//  about (the most telling of those the rule asks for: final before failed, recovered before
//  succeeded, any of them before state). -1 when none matches.
int nt_rules_match (const nt_rules_t *self, const char *channel, const nt_facts_t *facts,
                    nt_event_t *event_p);

//  The name of an event ("final", "state", "digest", ...).
const char *nt_event_name (nt_event_t event);

//  Checks one pattern value ("" , globs, or ~REGEX). Returns 0, or JOBD_ECONFIG with a reason.
int nt_pattern_check (const char *pattern, char *reason, size_t reason_size);

//  True when value (NULL: absent) matches pattern ("" matches anything).
bool nt_pattern_match (const char *pattern, const char *value);

#endif
