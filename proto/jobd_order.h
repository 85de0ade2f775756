//  The orders a list of jobs can be sorted in: the http API's sort keys (plugins/http/API.md),
//  shared by the admin `ls` query and jobctl.
#ifndef JOBD_ORDER_H_INCLUDED
#define JOBD_ORDER_H_INCLUDED

#include "jobd_job.h"
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    JOBD_ORDER_CREATED,
    JOBD_ORDER_UPDATED,
    JOBD_ORDER_NAME,
    JOBD_ORDER_STATE,
    JOBD_ORDER_KIND,
    JOBD_ORDER_BACKEND,
    JOBD_ORDER_ID
} jobd_order_key_t;

typedef struct {
    jobd_order_key_t key;
    bool descending;
} jobd_order_t;

//  The keys, for messages.
#define JOBD_ORDER_KEYS "created, updated, name, state, kind, backend or id"

//  Parses a key with "-" before it for descending ("-created", "name"). Returns 0, or
//  JOBD_EINVAL when text is none of the keys.
int jobd_order_parse (const char *text, jobd_order_t *order);

//  A job's creation time, as the http API has it: queued_at, else submitted_at, else
//  started_at, else updated_at.
int64_t jobd_job_created (const jobd_job_t *job);

//  What a list of jobs may be narrowed by (the admin `ls` query's and jobctl's filters beside the
//  state): NULL strings and absent times do not narrow.
typedef struct {
    const char *kind;    //  exactly
    const char *name;    //  a substring of the job's name
    const char *backend; //  exactly
    bool has_since;
    int64_t since; //  created at or after (jobd_job_created, ms since the epoch)
    bool has_until;
    int64_t until; //  created before
} jobd_job_filter_t;

//  True when job passes every filter given.
bool jobd_job_filter_match (const jobd_job_filter_t *filter, const jobd_job_t *job);

//  Below zero when a sorts before b in order, above when after; ties by id in the same
//  direction, so only the same id compares equal. Ids and names compare in natural order (job-2
//  before job-10: strverscmp); a missing text sorts as "".
int jobd_order_compare (const jobd_job_t *a, const jobd_job_t *b, jobd_order_t order);

#ifdef __cplusplus
}
#endif
#endif
