//  Fuzz target: what the notifier reads from its config: a rule's events, channels and
//  patterns (comma lists of globs, or ~REGEX), matched against a job's labels. The first byte
//  picks which field the input is; the rest is "VALUE\nLABEL". Oracles: a refused value has a
//  reason naming its key; an accepted one matches without crashing, and an empty pattern matches
//  anything.
#include "nt_rules.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *text = (char *)malloc (size);
    memcpy (text, data + 1, size - 1);
    text[size - 1] = 0;
    char *label = strchr (text, '\n');
    if (label)
        *label++ = 0;
    static const char *const keys[] = {
        "events: ", "channels: ", "kinds: ", "backends: ", "names: "};
    int field = data[0] % 5;
    const char *values[5] = {"final", "*", "", "", ""};
    values[field] = text;
    nt_rules_t *rules = nt_rules_new ();
    char reason[256] = "";
    int rc = nt_rules_add (rules, "fuzz", values[0], values[1], values[2], values[3], values[4], 10,
                           1000, reason, sizeof reason);
    if (rc && strncmp (reason, keys[field], strlen (keys[field])))
        abort ();
    if (rc == 0) {
        if (nt_rules_size (rules) != 1)
            abort ();
        nt_facts_t facts = {0xff, JOBD_STATE_FAILED, label, label, label};
        nt_event_t event;
        int rule = nt_rules_match (rules, label ? label : "x", &facts, &event);
        if (rule != -1 && (rule != 0 || event > NT_EVENT_DIGEST))
            abort ();
    }
    if (field >= 2) {
        char why[256] = "";
        if (nt_pattern_check (text, why, sizeof why) == 0) {
            nt_pattern_match (text, label);
            if (!nt_pattern_match ("", label))
                abort ();
        } else if (!*why)
            abort ();
    }
    nt_rules_destroy (&rules);
    free (text);
    return 0;
}
