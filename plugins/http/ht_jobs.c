//  GET /api/v1/jobs and /api/v1/jobs/{id}: pages of job records and one job with its history,
//  read through the host table (LMDB read transactions on the server's threads).
#include "ht_jobs.h"
#include "jobd_json.h"
#include "jobd_msgpack.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define S_HISTORY_MAX 1000

//  What a page filters and sorts by, read from a record without allocating: a job whose strings
//  point into the view's own buffers (never destroyed).
typedef struct {
    jobd_job_t job;
    char id[JOBD_ID_MAX + 1], name[JOBD_NAME_MAX + 1], kind[JOBD_ID_MAX + 1],
        backend[JOBD_ID_MAX + 1];
} s_view_t;

//  A job kept for the page: its view for its key, its record as it is written out.
typedef struct {
    s_view_t *view;
    uint8_t *data;
    size_t size;
} s_entry_t;

typedef struct {
    const ht_params_t *params;
    s_entry_t *heap; //  the best `limit` so far; heap[0] the last of them in the order
    size_t count;
    uint64_t matched, after; //  jobs that match; those of them past the cursor
    msgpack_zone *zone;      //  reused for each record read
    int rc;
} s_page_t;

static int
s_compare_jobs (const ht_params_t *params, const jobd_job_t *a, const jobd_job_t *b)
{
    ht_key_t key_a = ht_key_of (params, a), key_b = ht_key_of (params, b);
    return ht_key_compare (params, &key_a, &key_b);
}

static int
s_compare (const ht_params_t *params, const s_entry_t *a, const s_entry_t *b)
{
    return s_compare_jobs (params, &a->view->job, &b->view->job);
}

static bool
s_view_string (const msgpack_object *value, char *buffer, size_t size, char **field)
{
    if (value->type != MSGPACK_OBJECT_STR || value->via.str.size >= size)
        return false;
    memcpy (buffer, value->via.str.ptr, value->via.str.size);
    buffer[value->via.str.size] = 0;
    *field = buffer;
    return true;
}

static bool
s_view_read (msgpack_zone *zone, const uint8_t *data, size_t size, s_view_t *view)
{
    msgpack_object map;
    if (jobd_msgpack_unpack_in (data, size, zone, &map, NULL, 0) != 0 ||
        map.type != MSGPACK_OBJECT_MAP)
        return false;
    memset (&view->job, 0, sizeof view->job);
    static char stale_flag[] = "1";
    for (uint32_t index = 0; index < map.via.map.size; index++) {
        const msgpack_object *key = &map.via.map.ptr[index].key;
        const msgpack_object *value = &map.via.map.ptr[index].val;
        if (key->type != MSGPACK_OBJECT_STR || key->via.str.size > 16)
            continue;
        char name[17];
        memcpy (name, key->via.str.ptr, key->via.str.size);
        name[key->via.str.size] = 0;
        bool number = value->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                      value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
        bool ok = true;
        if (strcmp (name, "id") == 0)
            ok = s_view_string (value, view->id, sizeof view->id, &view->job.id);
        else if (strcmp (name, "name") == 0)
            ok = s_view_string (value, view->name, sizeof view->name, &view->job.name);
        else if (strcmp (name, "kind") == 0)
            ok = s_view_string (value, view->kind, sizeof view->kind, &view->job.kind);
        else if (strcmp (name, "backend") == 0)
            ok = s_view_string (value, view->backend, sizeof view->backend, &view->job.backend);
        else if (strcmp (name, "state") == 0)
            ok = value->type == MSGPACK_OBJECT_STR &&
                 jobd_state_parse (value->via.str.ptr, value->via.str.size, &view->job.state) == 0;
        else if (strcmp (name, "stale") == 0)
            view->job.stale =
                value->type == MSGPACK_OBJECT_STR && value->via.str.size ? stale_flag : NULL;
        else if (number && strcmp (name, "updated_at") == 0)
            view->job.updated_at = value->via.i64;
        else if (number && strcmp (name, "queued_at") == 0)
            view->job.queued_at = value->via.i64;
        else if (number && strcmp (name, "submitted_at") == 0)
            view->job.submitted_at = value->via.i64;
        else if (number && strcmp (name, "started_at") == 0)
            view->job.started_at = value->via.i64;
        if (!ok)
            return false;
    }
    return view->job.id && view->job.kind && view->job.state != JOBD_STATE_NONE;
}

//  A max-heap in the page's order: the entry that would be cut first sits at the top.
static void
s_sift_down (s_page_t *page, size_t at)
{
    while (true) {
        size_t largest = at, left = 2 * at + 1, right = left + 1;
        if (left < page->count &&
            s_compare (page->params, &page->heap[left], &page->heap[largest]) > 0)
            largest = left;
        if (right < page->count &&
            s_compare (page->params, &page->heap[right], &page->heap[largest]) > 0)
            largest = right;
        if (largest == at)
            return;
        s_entry_t swap = page->heap[at];
        page->heap[at] = page->heap[largest];
        page->heap[largest] = swap;
        at = largest;
    }
}

static void
s_sift_up (s_page_t *page, size_t at)
{
    while (at > 0) {
        size_t parent = (at - 1) / 2;
        if (s_compare (page->params, &page->heap[at], &page->heap[parent]) <= 0)
            return;
        s_entry_t swap = page->heap[at];
        page->heap[at] = page->heap[parent];
        page->heap[parent] = swap;
        at = parent;
    }
}

static void
s_entry_free (s_entry_t *entry)
{
    free (entry->view);
    free (entry->data);
    entry->view = NULL;
    entry->data = NULL;
}

//  A copy of view whose job points into the copy's own buffers.
static s_view_t *
s_view_dup (const s_view_t *view)
{
    s_view_t *copy = (s_view_t *)malloc (sizeof (s_view_t));
    if (!copy)
        return NULL;
    *copy = *view;
    copy->job.id = view->job.id ? copy->id : NULL;
    copy->job.name = view->job.name ? copy->name : NULL;
    copy->job.kind = view->job.kind ? copy->kind : NULL;
    copy->job.backend = view->job.backend ? copy->backend : NULL;
    return copy;
}

//  A kept job: its view and record copied into *entry. False (page->rc -ENOMEM) when out of
//  memory.
static bool
s_entry_copy (s_page_t *page, const s_view_t *view, const uint8_t *data, size_t size,
              s_entry_t *entry)
{
    *entry = (s_entry_t){s_view_dup (view), (uint8_t *)malloc (size), size};
    if (!entry->view || !entry->data) {
        s_entry_free (entry);
        page->rc = -ENOMEM;
        return false;
    }
    memcpy (entry->data, data, size);
    return true;
}

static bool
s_page_one (const uint8_t *data, size_t size, void *arg)
{
    s_page_t *page = (s_page_t *)arg;
    s_view_t view;
    if (!s_view_read (page->zone, data, size, &view))
        return true; //  a record this proto cannot read is not listed (jobctl show reads it)
    if (!ht_params_match_job (page->params, &view.job))
        return true;
    page->matched++;
    ht_key_t key = ht_key_of (page->params, &view.job);
    if (!ht_params_after_cursor (page->params, &key))
        return true;
    page->after++;
    if (page->count == page->params->limit &&
        s_compare_jobs (page->params, &view.job, &page->heap[0].view->job) >= 0)
        return true;
    //  Copied only once kept: most records of a big store are passed over.
    s_entry_t entry;
    if (!s_entry_copy (page, &view, data, size, &entry))
        return false;
    if (page->count == page->params->limit) {
        s_entry_free (&page->heap[0]);
        page->heap[0] = entry;
        s_sift_down (page, 0);
    } else {
        page->heap[page->count] = entry;
        s_sift_up (page, page->count++);
    }
    return true;
}

//  A job met walking the order index: the walk is the page's order, so the page is the first
//  `limit` jobs that match; one more says a next page exists, and ends the walk.
static bool
s_indexed_one (const uint8_t *data, size_t size, void *arg)
{
    s_page_t *page = (s_page_t *)arg;
    s_view_t view;
    if (!s_view_read (page->zone, data, size, &view) ||
        !ht_params_match_job (page->params, &view.job))
        return true;
    page->after++;
    if (page->count == page->params->limit)
        return false;
    if (!s_entry_copy (page, &view, data, size, &page->heap[page->count]))
        return false;
    page->count++;
    return true;
}

//  Whether the page comes from the order index: sorted by the last change, filtered by state at
//  most (matched then comes from the counts), on a core that has the index, and cheaper so. The
//  walk meets about limit * all / matched jobs to fill a page where the state index reads the
//  `matched` jobs of those states: a rare state is read through the state index.
static bool
s_indexed (const jobd_host_t *host, const ht_params_t *params, const uint64_t *counts,
           uint64_t *matched_p)
{
    if (!counts || params->sort != HT_SORT_UPDATED || params->kind[0] || params->backend[0] ||
        params->name[0] || params->has_since || params->has_until || params->stale ||
        !JOBD_HOST_HAS (host, job_scan_updated))
        return false;
    uint64_t all = 0, matched = 0;
    for (int state = 0; state < JOBD_STATE_COUNT; state++) {
        all += counts[state];
        if (!params->state_mask || (params->state_mask & (1u << state)))
            matched += counts[state];
    }
    *matched_p = matched;
    return matched > 0 && (double)params->limit * ((double)all / (double)matched) < (double)matched;
}

static int
s_sort_compare (const void *a, const void *b, void *params)
{
    return s_compare ((const ht_params_t *)params, (const s_entry_t *)a, (const s_entry_t *)b);
}

//  The record's encoded bytes as JSON, as jobctl --json writes it: the spec (JSON text in the
//  record) as the object itself when it parses (text that does not parse stays text).
static json_t *
s_record_json (const uint8_t *data, size_t size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    if (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0) != 0)
        return NULL;
    json_t *value = jobd_json_from_msgpack (&unpacked.data);
    msgpack_unpacked_destroy (&unpacked);
    jobd_json_job_spec (value);
    return value;
}

void
ht_jobs_list (const jobd_host_t *host, const ht_params_t *params, const uint64_t *counts,
              ht_reply_t *reply)
{
    s_page_t page = {.params = params};
    page.heap = (s_entry_t *)calloc (params->limit ? params->limit : 1, sizeof (s_entry_t));
    page.zone = msgpack_zone_new (4096);
    if (!page.heap || !page.zone) {
        free (page.heap);
        if (page.zone)
            msgpack_zone_free (page.zone);
        ht_reply_error (reply, 500, "internal", "out of memory");
        return;
    }
    int rc = JOBD_ENOTFOUND;
    uint64_t matched = 0;
    if (s_indexed (host, params, counts, &matched)) {
        rc = host->job_scan_updated (host, params->descending, params->after_number,
                                     params->has_cursor ? params->after_id : NULL, s_indexed_one,
                                     &page);
        page.matched = matched;
    }
    if (rc == JOBD_ENOTFOUND) //  no index (an old store opened read only): one pass
        rc = host->job_scan_encoded (host, params->state_mask, s_page_one, &page);
    if (rc == 0)
        rc = page.rc;
    qsort_r (page.heap, page.count, sizeof (s_entry_t), s_sort_compare, (void *)params);
    json_t *jobs = json_array ();
    for (size_t index = 0; index < page.count && rc == 0; index++)
        if (json_array_append_new (
                jobs, s_record_json (page.heap[index].data, page.heap[index].size)) != 0)
            rc = -ENOMEM;
    json_t *body = json_pack ("{s:o,s:I,s:I}", "jobs", jobs, "matched", (json_int_t)page.matched,
                              "now", (json_int_t)jobd_now_ms ());
    if (rc == 0 && body && page.after > page.count && page.count > 0) {
        ht_key_t last = ht_key_of (params, &page.heap[page.count - 1].view->job);
        char *next = ht_cursor_encode (params, &last);
        if (!next || json_object_set_new (body, "next", json_string (next)) != 0)
            rc = -ENOMEM;
        free (next);
    }
    for (size_t index = 0; index < page.count; index++)
        s_entry_free (&page.heap[index]);
    free (page.heap);
    msgpack_zone_free (page.zone);
    if (rc) {
        json_decref (body);
        ht_reply_error (reply, rc == -ENOMEM ? 500 : 503,
                        rc == -ENOMEM ? "internal" : "unavailable", jobd_strerror (rc));
        return;
    }
    ht_reply_json (reply, 200, body);
}

static bool
s_keep_record (const uint8_t *data, size_t size, void *arg)
{
    *(json_t **)arg = s_record_json (data, size);
    return false;
}

static bool
s_keep_transition (const uint8_t *data, size_t size, void *arg)
{
    json_t *value = s_record_json (data, size);
    if (value)
        json_array_append_new ((json_t *)arg, value);
    return true;
}

//  The one line that says why: the stale reason, else the cause, else the error's first line.
static json_t *
s_reason (json_t *job)
{
    const char *keys[] = {"stale", "cause", "error"};
    for (size_t index = 0; index < 3; index++) {
        const char *text = json_string_value (json_object_get (job, keys[index]));
        if (text && *text) {
            size_t len = strcspn (text, "\r\n");
            return json_stringn (text, len > 400 ? 400 : len);
        }
    }
    return NULL;
}

void
ht_jobs_get (const jobd_host_t *host, const char *id, ht_reply_t *reply)
{
    json_t *job = NULL;
    int rc = host->job_read (host, id, s_keep_record, &job);
    if (rc == JOBD_ENOTFOUND || (rc == 0 && !job)) {
        char reason[200];
        snprintf (reason, sizeof reason, "no job '%.128s'", id);
        ht_reply_error (reply, rc == 0 ? 500 : 404, rc == 0 ? "internal" : "not_found", reason);
        return;
    }
    if (rc) {
        ht_reply_error (reply, 503, "unavailable", jobd_strerror (rc));
        return;
    }
    json_t *history = json_array ();
    int total = 0;
    if (JOBD_HOST_HAS (host, job_history) && host->job_history)
        total = host->job_history (host, id, S_HISTORY_MAX, s_keep_transition, history);
    int64_t now = jobd_now_ms ();
    json_t *freshness = json_object ();
    json_int_t confirmed = json_integer_value (json_object_get (job, "confirmed_at"));
    if (confirmed) {
        json_object_set_new (freshness, "confirmed_at", json_integer (confirmed));
        json_object_set_new (freshness, "age_ms", json_integer (now - confirmed));
    }
    json_t *links = json_object ();
    const char *link_keys[] = {"app_id", "app_url", "log_url"};
    for (size_t index = 0; index < 3; index++) {
        json_t *value = json_object_get (job, link_keys[index]);
        if (value)
            json_object_set (links, link_keys[index], value);
    }
    json_t *why = s_reason (job);
    size_t shown = json_array_size (history);
    json_t *body =
        json_pack ("{s:o,s:o,s:I,s:o,s:o,s:I}", "job", job, "history", history, "history_skipped",
                   (json_int_t)(total > 0 && (size_t)total > shown ? (size_t)total - shown : 0),
                   "freshness", freshness, "links", links, "now", (json_int_t)now);
    if (body && why)
        json_object_set_new (body, "reason", why);
    else
        json_decref (why);
    ht_reply_json (reply, 200, body);
}
