//  The http plugin's parsers of outside input: routes, query parameters, cursors and JSON bodies.
//  Pure functions, no I/O: the server, the tests and the fuzzers (tests/fuzz/fuzz_http.c) call
//  them. The wire contract is API.md.
#ifndef HT_PARSE_H_INCLUDED
#define HT_PARSE_H_INCLUDED

#include "jobd_event.h"
#include "jobd_job.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HT_LIMIT_DEFAULT 100
#define HT_LIMIT_MAX     1000

//  What a request asks for, by its method and path.
typedef enum {
    HT_ROUTE_NONE = 0, //  unknown path: 404
    HT_ROUTE_JOBS,     //  /api/v1/jobs: GET list, POST submit
    HT_ROUTE_JOB,      //  /api/v1/jobs/{id}
    HT_ROUTE_CANCEL,   //  /api/v1/jobs/{id}/cancel
    HT_ROUTE_RETRY,    //  /api/v1/jobs/{id}/retry
    HT_ROUTE_STATS,
    HT_ROUTE_PLUGINS,
    HT_ROUTE_EVENTS,
    HT_ROUTE_OPENAPI,
    HT_ROUTE_METRICS,
    HT_ROUTE_HEALTHZ,
    HT_ROUTE_READYZ,
    HT_ROUTE_DASHBOARD //  / and /dashboard/NAME: the page's files (id: the file's name)
} ht_route_t;

//  Sort orders of /api/v1/jobs.
typedef enum {
    HT_SORT_UPDATED = 0,
    HT_SORT_CREATED,
    HT_SORT_NAME,
    HT_SORT_STATE,
    HT_SORT_KIND,
    HT_SORT_BACKEND,
    HT_SORT_ID
} ht_sort_t;

//  A job's place in a sort order: a number or a text (by the order), then its id.
typedef struct {
    int64_t number;
    const char *text; //  borrowed; "" for none
    const char *id;   //  borrowed
} ht_key_t;

//  The query parameters of /api/v1/jobs and /api/v1/events, parsed and checked.
typedef struct {
    uint32_t state_mask; //  1 << state; 0: every state
    char kind[JOBD_ID_MAX + 1];
    char backend[JOBD_ID_MAX + 1];
    char name[JOBD_NAME_MAX + 1];
    char job[JOBD_ID_MAX + 1]; //  events: one job
    bool has_since, has_until;
    int64_t since, until;
    bool time_updated; //  since/until on updated_at (else the creation time)
    bool stale;        //  only jobs flagged stale
    ht_sort_t sort;
    bool descending;
    bool has_sort;
    uint32_t limit;
    //  The cursor, decoded: the page starts strictly after this key.
    bool has_cursor;
    ht_sort_t cursor_sort; //  the order the cursor was made for
    bool cursor_descending;
    int64_t after_number;
    char after_text[JOBD_NAME_MAX + 1];
    char after_id[JOBD_ID_MAX + 1];
    //  events: the stream's start (last_event_id), and the token given as a parameter.
    bool has_last_event_id;
    uint64_t last_event_id;
    char token[256];
    uint32_t seen; //  the parameters given (bits, by the order of ht_params_set's table)
} ht_params_t;

//  Finds the route of a request path (already %-decoded, without its query string) and copies a
//  job id it holds into id. Returns the route, or HT_ROUTE_NONE for an unknown path or a job id
//  that is not acceptable (empty, over 128 bytes, with a '/', a control character, "." or "..").
//  The dashboard's files: "/" is index.html, "/dashboard/NAME" is NAME when it is made of
//  [a-z0-9.-] and does not start with '.' (whether such a file exists is the server's to say).
ht_route_t ht_route (const char *path, char *id, size_t id_size);

//  The methods a route takes, as an Allow header's value ("GET, HEAD", "GET, HEAD, POST").
const char *ht_route_allow (ht_route_t route);

//  True when the route takes method ("GET", "HEAD", "POST").
bool ht_route_takes (ht_route_t route, const char *method);

//  Sets self to the defaults (every job, sort -updated, limit 100).
void ht_params_init (ht_params_t *self);

//  Takes one query parameter (%-decoded). events selects the /events set of parameters (job,
//  last_event_id, token) instead of /jobs' (sort, limit, cursor). Returns 0, or -EINVAL with a
//  reason naming the parameter: unknown, given twice, or a malformed value. A cursor is checked
//  against the sort order once all parameters are taken (ht_params_finish).
int ht_params_set (ht_params_t *self, const char *key, const char *value, bool events, char *reason,
                   size_t reason_size);

//  Checks what needs every parameter: a cursor made for another sort order, since past until.
//  Returns 0 or -EINVAL with a reason.
int ht_params_finish (ht_params_t *self, char *reason, size_t reason_size);

//  The time since/until apply to for job: its updated_at, or its creation time (queued_at, else
//  submitted_at, else started_at, else updated_at).
int64_t ht_job_created (const jobd_job_t *job);

//  True when job passes the filters of self (state, kind, backend, name, since/until, stale).
bool ht_params_match_job (const ht_params_t *self, const jobd_job_t *job);

//  True when a transition or stale event passes the filters (state, kind, backend, name, job).
bool ht_params_match_event (const ht_params_t *self, const jobd_event_t *event);

//  The key of job in self's sort order, borrowing job's strings.
ht_key_t ht_key_of (const ht_params_t *self, const jobd_job_t *job);

//  Compares two keys in self's order (ties broken by id, in the same direction): < 0 when a
//  comes first.
int ht_key_compare (const ht_params_t *self, const ht_key_t *a, const ht_key_t *b);

//  True when key comes strictly after self's cursor (true when there is no cursor).
bool ht_params_after_cursor (const ht_params_t *self, const ht_key_t *key);

//  Encodes the cursor that starts the page after key, in self's sort order: base64url text,
//  fresh (free it), or NULL when out of memory. Opaque to clients (API.md).
char *ht_cursor_encode (const ht_params_t *self, const ht_key_t *key);

//  Decodes a cursor into self (has_cursor, after_*, and the sort order it was made for, which
//  ht_params_finish checks against the sort asked for, or takes when none was). Returns 0 or
//  -EINVAL with a reason.
int ht_cursor_decode (ht_params_t *self, const char *text, char *reason, size_t reason_size);

//  A submission read from a POST /api/v1/jobs body: fresh strings (ht_submit_clear frees them).
typedef struct {
    char *kind;
    char *name;    //  or NULL
    char *backend; //  or NULL
    char *spec;    //  the whole object, compact JSON text
} ht_submit_t;

//  Reads a submit body: one JSON object with "kind" (a non-empty string), "name" and "backend"
//  (strings, when given), as jobctl submit reads a spec file. Returns 0, or -EINVAL with a
//  reason (not JSON, not an object, a key of the wrong type, over a limit), or -ENOMEM.
int ht_submit_read (const char *data, size_t size, ht_submit_t *submit, char *reason,
                    size_t reason_size);

//  Frees what ht_submit_read set; NULL-safe fields.
void ht_submit_clear (ht_submit_t *submit);

//  Reads a retry body: empty, or one JSON object with optional booleans "now" and "stop" (not
//  both). Returns 0 or -EINVAL with a reason.
int ht_retry_read (const char *data, size_t size, bool *now_p, bool *stop_p, char *reason,
                   size_t reason_size);

//  Reads a cancel body: empty, or an empty JSON object. Returns 0 or -EINVAL with a reason.
int ht_cancel_read (const char *data, size_t size, char *reason, size_t reason_size);

//  Compares a token given by a client with the expected one in constant time (for the length of
//  the expected token). True when they are equal.
bool ht_token_equal (const char *given, const char *expected);

//  Reads an Authorization header's bearer token into token (NUL-terminated). Returns 0, or
//  -EINVAL when the header is not "Bearer <token>" or the token does not fit.
int ht_bearer_read (const char *header, char *token, size_t token_size);

#ifdef __cplusplus
}
#endif
#endif
