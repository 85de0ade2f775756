//  The admin `ls` answer (see jobd_admin_ls.h).
#include "jobd_admin_ls.h"
#include "jobd_reply.h"
#include <errno.h>
#include <string.h>

typedef struct {
    const jobd_request_in_t *query;
    jobd_job_filter_t filter; //  the query's, beside its state
    uint64_t limit;
    uint64_t matched;
    bool truncated;
    int rc; //  -ENOMEM, or a record the index walk could not decode
    //  Without a sort: packed as they come.
    msgpack_sbuffer buffer;
    msgpack_packer pk;
    uint64_t count;
    //  With a sort: the best limit so far, a heap whose root sorts last.
    jobd_job_t **top;
    size_t kept;
} s_ls_t;

static int
s_compare (const s_ls_t *ls, size_t a, size_t b)
{
    return jobd_order_compare (ls->top[a], ls->top[b], ls->query->sort);
}

//  Restores the heap from index down.
static void
s_sift_down (s_ls_t *ls, size_t index)
{
    while (true) {
        size_t largest = index, left = 2 * index + 1, right = left + 1;
        if (left < ls->kept && s_compare (ls, left, largest) > 0)
            largest = left;
        if (right < ls->kept && s_compare (ls, right, largest) > 0)
            largest = right;
        if (largest == index)
            return;
        jobd_job_t *swap = ls->top[index];
        ls->top[index] = ls->top[largest];
        ls->top[largest] = swap;
        index = largest;
    }
}

static void
s_sift_up (s_ls_t *ls, size_t index)
{
    while (index > 0 && s_compare (ls, index, (index - 1) / 2) > 0) {
        size_t parent = (index - 1) / 2;
        jobd_job_t *swap = ls->top[index];
        ls->top[index] = ls->top[parent];
        ls->top[parent] = swap;
        index = parent;
    }
}

//  Keeps job (borrowed) when it is among the best limit so far.
static void
s_keep (s_ls_t *ls, const jobd_job_t *job)
{
    if (ls->kept == ls->limit) {
        ls->truncated = true;
        if (ls->limit == 0 || jobd_order_compare (job, ls->top[0], ls->query->sort) >= 0)
            return;
        jobd_job_t *copy = jobd_job_dup (job);
        if (!copy) {
            ls->rc = -ENOMEM;
            return;
        }
        jobd_job_destroy (&ls->top[0]);
        ls->top[0] = copy;
        s_sift_down (ls, 0);
        return;
    }
    jobd_job_t *copy = jobd_job_dup (job);
    if (!copy) {
        ls->rc = -ENOMEM;
        return;
    }
    ls->top[ls->kept++] = copy;
    s_sift_up (ls, ls->kept - 1);
}

//  A job of the scan (its state already matched).
static bool
s_one (const jobd_job_t *job, void *arg)
{
    s_ls_t *ls = (s_ls_t *)arg;
    if (!jobd_job_filter_match (&ls->filter, job))
        return true;
    ls->matched++;
    if (ls->top) {
        s_keep (ls, job);
        return ls->rc == 0;
    }
    if (ls->count == ls->limit || ls->buffer.size >= JOBD_LS_BYTES_MAX) {
        ls->truncated = true;
        return false;
    }
    jobd_job_pack (job, &ls->pk);
    ls->count++;
    return true;
}

//  A job of the walk by last change: in the order asked, so the first limit are the answer.
static bool
s_one_updated (const uint8_t *data, size_t size, void *arg)
{
    s_ls_t *ls = (s_ls_t *)arg;
    jobd_job_t *job = NULL;
    if (jobd_job_decode (data, size, &job, NULL, 0)) {
        ls->rc = JOBD_ECORRUPT;
        return false;
    }
    bool more = true;
    uint32_t mask = ls->query->state_mask;
    if ((!mask || (mask & (1u << job->state))) && jobd_job_filter_match (&ls->filter, job)) {
        //  The index breaks ties by the id's bytes, the order by its natural order: the jobs
        //  changed in the same ms as the last kept one still compete for its place.
        if (ls->kept == ls->limit &&
            (ls->limit == 0 || job->updated_at != ls->top[0]->updated_at)) {
            ls->truncated = true;
            more = false;
        } else
            s_keep (ls, job);
    }
    jobd_job_destroy (&job);
    return more && ls->rc == 0;
}

static int
s_sort_compare (const void *a, const void *b, void *arg)
{
    return jobd_order_compare (*(jobd_job_t *const *)a, *(jobd_job_t *const *)b,
                               *(const jobd_order_t *)arg);
}

//  The jobs kept, in order, packed into the answer's buffer (16 MiB of records at most).
static void
s_pack_top (s_ls_t *ls)
{
    jobd_order_t order = ls->query->sort;
    if (ls->kept > 1)
        qsort_r (ls->top, ls->kept, sizeof *ls->top, s_sort_compare, &order);
    for (size_t index = 0; index < ls->kept; index++) {
        if (ls->buffer.size >= JOBD_LS_BYTES_MAX) {
            ls->truncated = true;
            break;
        }
        jobd_job_pack (ls->top[index], &ls->pk);
        ls->count++;
    }
}

int
jobd_admin_ls (const jobd_admin_context_t *context, const jobd_request_in_t *query,
               msgpack_packer *pk)
{
    s_ls_t ls = {.query = query,
                 .filter = {.kind = query->has_kind ? query->job_kind : NULL,
                            .name = query->has_name ? query->name : NULL,
                            .backend = query->has_backend ? query->backend : NULL,
                            .has_since = query->has_since,
                            .since = query->since,
                            .has_until = query->has_until,
                            .until = query->until},
                 .limit = JOBD_LS_DEFAULT_LIMIT};
    if (query->has_limit)
        ls.limit = query->limit < JOBD_LS_MAX ? query->limit : JOBD_LS_MAX;
    msgpack_sbuffer_init (&ls.buffer);
    msgpack_packer_init (&ls.pk, &ls.buffer, msgpack_sbuffer_write);
    int rc = 0;
    if (query->has_sort) {
        ls.top = (jobd_job_t **)calloc (ls.limit ? ls.limit : 1, sizeof (jobd_job_t *));
        rc = ls.top ? 0 : -ENOMEM;
    }
    if (rc == 0 && query->has_sort && query->sort.key == JOBD_ORDER_UPDATED) {
        rc = jobd_store_scan_updated (context->store, query->sort.descending, 0, NULL,
                                      s_one_updated, &ls);
        if (rc == JOBD_ENOTFOUND) { //  a store without the index: the whole scan
            for (size_t index = 0; index < ls.kept; index++)
                jobd_job_destroy (&ls.top[index]);
            ls.kept = 0;
            ls.truncated = false;
            rc = jobd_store_scan (context->store, query->state_mask, s_one, &ls);
        }
    } else if (rc == 0)
        rc = jobd_store_scan (context->store, query->state_mask, s_one, &ls);
    if (rc == 0)
        rc = ls.rc;
    if (rc == 0 && ls.top)
        s_pack_top (&ls);
    for (size_t index = 0; index < ls.kept; index++)
        jobd_job_destroy (&ls.top[index]);
    free (ls.top);
    if (rc) {
        msgpack_sbuffer_destroy (&ls.buffer);
        jobd_reply_pack_head (pk, query->id, rc, NULL, 0);
        return rc;
    }
    //  The jobs were packed into their own buffer before their number was known.
    jobd_answer_pack_ls (pk, query->id, ls.truncated, ls.count, ls.buffer.data, ls.buffer.size);
    msgpack_sbuffer_destroy (&ls.buffer);
    return 0;
}
