//  The orders a list of jobs can be sorted in (see jobd_order.h).
#include "jobd_order.h"
#include "jobd_error.h"
#include <string.h>

int
jobd_order_parse (const char *text, jobd_order_t *order)
{
    static const char *names[] = {"created", "updated", "name", "state", "kind", "backend", "id"};
    if (!text)
        return JOBD_EINVAL;
    bool descending = text[0] == '-';
    const char *key = descending ? text + 1 : text;
    for (size_t index = 0; index < sizeof names / sizeof names[0]; index++)
        if (strcmp (key, names[index]) == 0) {
            order->key = (jobd_order_key_t)index;
            order->descending = descending;
            return 0;
        }
    return JOBD_EINVAL;
}

int64_t
jobd_job_created (const jobd_job_t *job)
{
    return job->queued_at      ? job->queued_at
           : job->submitted_at ? job->submitted_at
           : job->started_at   ? job->started_at
                               : job->updated_at;
}

bool
jobd_job_filter_match (const jobd_job_filter_t *filter, const jobd_job_t *job)
{
    if (filter->kind && (!job->kind || strcmp (job->kind, filter->kind)))
        return false;
    if (filter->name && (!job->name || !strstr (job->name, filter->name)))
        return false;
    if (filter->backend && (!job->backend || strcmp (job->backend, filter->backend)))
        return false;
    int64_t created = jobd_job_created (job);
    return (!filter->has_since || created >= filter->since) &&
           (!filter->has_until || created < filter->until);
}

//  NULL sorts as "".
static int
s_text_compare (const char *a, const char *b)
{
    return strverscmp (a ? a : "", b ? b : "");
}

static int
s_compare (const jobd_job_t *a, const jobd_job_t *b, jobd_order_key_t key)
{
    int64_t left = 0, right = 0;
    int order = 0;
    switch (key) {
        case JOBD_ORDER_CREATED:
            left = jobd_job_created (a);
            right = jobd_job_created (b);
            break;
        case JOBD_ORDER_UPDATED:
            left = a->updated_at;
            right = b->updated_at;
            break;
        case JOBD_ORDER_NAME:
            order = s_text_compare (a->name, b->name);
            break;
        case JOBD_ORDER_STATE:
            order = strcmp (jobd_state_name (a->state), jobd_state_name (b->state));
            break;
        case JOBD_ORDER_KIND:
            order = s_text_compare (a->kind, b->kind);
            break;
        case JOBD_ORDER_BACKEND:
            order = s_text_compare (a->backend, b->backend);
            break;
        case JOBD_ORDER_ID:
            break;
    }
    if (order == 0)
        order = left < right ? -1 : left > right ? 1 : 0;
    if (order == 0)
        order = s_text_compare (a->id, b->id);
    //  strverscmp says "job-01" and "job-1" are equal: bytes decide, so that ids stay distinct.
    return order ? order : strcmp (a->id ? a->id : "", b->id ? b->id : "");
}

int
jobd_order_compare (const jobd_job_t *a, const jobd_job_t *b, jobd_order_t order)
{
    int result = s_compare (a, b, order.key);
    return order.descending ? -result : result;
}
