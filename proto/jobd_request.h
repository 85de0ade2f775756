//  The admin protocol's queries (ls, show, stats, plugins, cursors, drop_cursor, cluster): packed
//  by jobctl or any client, read by the broker. The wire format is proto/README.md, section 12.
#ifndef JOBD_REQUEST_H_INCLUDED
#define JOBD_REQUEST_H_INCLUDED

#include "jobd_event.h"
#include "jobd_order.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    JOBD_REQUEST_UNKNOWN = 0, //  a q this jobd does not know (refused with EPROTO)
    JOBD_REQUEST_LS,          //  jobs, filtered by state, kind and name, up to limit
    JOBD_REQUEST_SHOW,        //  one job and its history
    JOBD_REQUEST_STATS,       //  counts by state and the broker's counters
    JOBD_REQUEST_PLUGINS,     //  the plugins the loader handled
    JOBD_REQUEST_CURSORS,     //  the transition log's readers
    JOBD_REQUEST_DROP_CURSOR, //  removes one reader (written to the store)
    JOBD_REQUEST_CLUSTER      //  cluster mode: the changelog and each partition
} jobd_request_kind_t;

//  A query to send. Strings are borrowed; NULL ones are left out of the map.
typedef struct {
    const char *q;     //  "ls", "show", ... (jobd_request_kind_name), required
    const char *id;    //  the query's id, echoed as the reply's re; NULL packs ""
    const char *state; //  ls: comma-separated state names
    const char *kind;  //  ls: the jobs' kind
    const char *name;  //  ls: a substring of the jobs' name; drop_cursor: the cursor's name
    const char *job;   //  show: the job's id
    bool has_limit;    //  ls: limit is given
    uint64_t limit;    //  ls: most jobs in the answer (jobd caps it at 10000)
    //  ls, appended (older jobd ignore them: the answer is then in the store's order, unfiltered
    //  by these).
    const char *backend; //  ls: the jobs' backend
    const char *sort;    //  ls: the order, a jobd_order key ("-created"): the first limit in it
    bool has_since;      //  ls: since is given
    int64_t since;       //  ls: created at or after (ms since the epoch; jobd_job_created)
    bool has_until;      //  ls: until is given
    int64_t until;       //  ls: created before
} jobd_request_t;

//  A query as read: copies, NUL-terminated, with what each kind needs checked.
typedef struct {
    jobd_request_kind_t kind;
    char q[32];
    char id[JOBD_ID_MAX + 1]; //  "" when absent or not a fitting string
    uint32_t state_mask;      //  ls: 1 << state for each state named; 0: every state
    bool has_kind;            //  ls: kind was given (a string that fits)
    char job_kind[JOBD_ID_MAX + 1];
    bool has_name; //  ls, drop_cursor: name was given (a string that fits)
    char name[JOBD_NAME_MAX + 1];
    char job[JOBD_ID_MAX + 1]; //  show
    bool has_limit;            //  ls: limit was a non-negative integer
    uint64_t limit;
    bool has_backend; //  ls: backend was given
    char backend[JOBD_ID_MAX + 1];
    bool has_sort; //  ls: sort was given (a known key)
    jobd_order_t sort;
    bool has_since; //  ls: since was an integer
    int64_t since;
    bool has_until; //  ls: until was an integer
    int64_t until;
} jobd_request_in_t;

//  Packs request as one query map (v, type "query", id, q, then the fields given, in the order
//  of the struct). Returns 0, or JOBD_EPROTO when request->q is NULL.
int jobd_request_pack (const jobd_request_t *request, msgpack_packer *pk);

//  Reads a query map (its type already known to be "query"). Always fills request->id first (for
//  the reply). Returns 0, or JOBD_EPROTO with a reason: q missing or unknown, ls's state not a
//  list of state names, ls's sort not a key or since/until not integers, show's job missing,
//  drop_cursor's name missing or empty.
int jobd_request_read (const msgpack_object *map, jobd_request_in_t *request, char *reason,
                       size_t reason_size);

//  Returns the q of kind ("ls", ...), or "unknown". Static.
const char *jobd_request_kind_name (jobd_request_kind_t kind);

#ifdef __cplusplus
}
#endif
#endif
