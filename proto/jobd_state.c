//  The job lifecycle states and their names on the wire.
#include "jobd_state.h"
#include "jobd_error.h"
#include <string.h>

static const char *s_names[JOBD_STATE_COUNT] = {"NONE",      "QUEUED", "SUBMITTED", "RUNNING",
                                                "SUCCEEDED", "FAILED", "CANCELLED", "RETRY_WAIT",
                                                "UNKNOWN",   "LOST"};

const char *
jobd_state_name (jobd_state_t state)
{
    return (unsigned)state < JOBD_STATE_COUNT ? s_names[state] : "INVALID";
}

int
jobd_state_parse (const char *name, size_t len, jobd_state_t *state_p)
{
    for (int state = JOBD_STATE_QUEUED; state < JOBD_STATE_COUNT; state++)
        if (strlen (s_names[state]) == len && memcmp (s_names[state], name, len) == 0) {
            *state_p = (jobd_state_t)state;
            return 0;
        }
    return JOBD_EPROTO;
}

bool
jobd_state_is_final (jobd_state_t state)
{
    return state == JOBD_STATE_SUCCEEDED || state == JOBD_STATE_FAILED ||
           state == JOBD_STATE_CANCELLED;
}
