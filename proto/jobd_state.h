//  The job lifecycle states and their names on the wire.
#ifndef JOBD_STATE_H_INCLUDED
#define JOBD_STATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The numeric values are stored on disk (state index): only append.
typedef enum {
    JOBD_STATE_NONE = 0, //  no record yet (the "from" of a job's first transition)
    JOBD_STATE_QUEUED = 1,
    JOBD_STATE_SUBMITTED = 2,
    JOBD_STATE_RUNNING = 3,
    JOBD_STATE_SUCCEEDED = 4,
    JOBD_STATE_FAILED = 5,
    JOBD_STATE_CANCELLED = 6,
    JOBD_STATE_RETRY_WAIT = 7,
    JOBD_STATE_UNKNOWN = 8,
    JOBD_STATE_LOST = 9,
    JOBD_STATE_COUNT = 10
} jobd_state_t;

//  Returns the wire name ("QUEUED", ..., "NONE" for JOBD_STATE_NONE), or "INVALID". Static.
const char *jobd_state_name (jobd_state_t state);

//  Parses an exact upper-case wire name of len bytes (not NUL-terminated). "NONE" is refused.
//  Returns 0 and sets *state_p, or JOBD_EPROTO.
int jobd_state_parse (const char *name, size_t len, jobd_state_t *state_p);

//  True for SUCCEEDED, FAILED and CANCELLED. (FAILED may still be retried by a command.)
bool jobd_state_is_final (jobd_state_t state);

#ifdef __cplusplus
}
#endif
#endif
