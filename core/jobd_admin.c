//  The answers to admin queries (ls, show, stats, plugins, cursors), from the store and the
//  broker's tables. The queries and replies themselves are proto's (jobd_request, jobd_reply).
#include "jobd_admin.h"
#include "jobd_map.h"
#include "jobd_admin_ls.h"
#include "jobd_answer.h"
#include "jobd_reply.h"
#include "jobd_store_cl.h"
#include <errno.h>
#include <string.h>

#define JOBD_SHOW_HISTORY_MAX  1000 //  transitions one show answer holds at most
#define JOBD_ADMIN_CURSORS_MAX 1000 //  cursors one `cursors` answer lists at most

static int
s_query_show (const jobd_admin_context_t *context, const jobd_request_in_t *query,
              msgpack_packer *pk)
{
    const char *id = query->id, *job_id = query->job;
    jobd_job_t *job = NULL;
    jobd_event_t **history = NULL;
    size_t count = 0;
    int rc = jobd_store_job_get (context->store, job_id, &job);
    if (rc == 0)
        rc = jobd_store_history (context->store, job_id, &history, &count);
    if (rc) {
        char reason[256];
        snprintf (reason, sizeof reason, "job '%s': %s", job_id, jobd_strerror (rc));
        jobd_reply_pack_head (pk, id, rc, reason, 0);
    } else {
        //  The most recent transitions; how many earlier ones were left out, when any were.
        size_t skipped = count > JOBD_SHOW_HISTORY_MAX ? count - JOBD_SHOW_HISTORY_MAX : 0;
        jobd_answer_pack_show (pk, id, job, history, count, skipped);
    }
    jobd_job_destroy (&job);
    jobd_store_history_free (&history, count);
    return rc;
}

static int
s_query_stats (const jobd_admin_context_t *context, const char *id, msgpack_packer *pk)
{
    uint64_t counts[JOBD_STATE_COUNT] = {0};
    int rc = jobd_store_counts (context->store, counts);
    if (rc) {
        jobd_reply_pack_head (pk, id, rc, NULL, 0);
        return rc;
    }
    jobd_stats_t stats = *context->stats;
    jobd_store_stale_count (context->store, &stats.stale);
    jobd_store_size (context->store, &stats.store_bytes, &stats.store_map_bytes);
    jobd_answer_pack_stats (pk, id, counts, &stats);
    return 0;
}

static int
s_query_plugins (const jobd_admin_context_t *context, const char *id, msgpack_packer *pk)
{
    //  In name order.
    zlistx_t *names = zhashx_keys (context->plugins);
    zlistx_set_comparator (names, (zlistx_comparator_fn *)strcmp);
    zlistx_sort (names);
    size_t count = 0;
    jobd_answer_plugin_t *plugins = (jobd_answer_plugin_t *)calloc (
        zlistx_size (names) ? zlistx_size (names) : 1, sizeof (jobd_answer_plugin_t));
    if (!plugins) {
        zlistx_destroy (&names);
        jobd_reply_pack_head (pk, id, -ENOMEM, NULL, 0);
        return -ENOMEM;
    }
    for (const char *name = (const char *)zlistx_first (names); name;
         name = (const char *)zlistx_next (names)) {
        zhashx_t *info = (zhashx_t *)zhashx_lookup (context->plugins, name);
        zchunk_t *figures =
            context->figures ? (zchunk_t *)zhashx_lookup (context->figures, name) : NULL;
        plugins[count++] = (jobd_answer_plugin_t){name,
                                                  (const char *)zhashx_lookup (info, "version"),
                                                  (const char *)zhashx_lookup (info, "status"),
                                                  (const char *)zhashx_lookup (info, "detail"),
                                                  figures ? zchunk_data (figures) : NULL,
                                                  figures ? zchunk_size (figures) : 0};
    }
    jobd_answer_pack_plugins (pk, id, plugins, count);
    free (plugins);
    zlistx_destroy (&names);
    return 0;
}

//  cursors: the transition log's readers, then (cluster mode) each partition reader's cursor of
//  each partition, where each is and since when (a bounded list).
static int
s_query_cursors (const jobd_admin_context_t *context, const char *id, msgpack_packer *pk)
{
    jobd_store_cursor_t *cursors = NULL;
    jobd_store_plog_cursor_t *partition_cursors = NULL;
    size_t count = 0, partition_count = 0;
    uint64_t head = 0;
    bool more = false, partition_more = false;
    int rc = jobd_store_cursor_list (context->store, JOBD_ADMIN_CURSORS_MAX, &cursors, &count,
                                     &head, &more);
    if (rc == 0)
        rc = jobd_store_plog_cursor_list (context->store, JOBD_ADMIN_CURSORS_MAX - count,
                                          &partition_cursors, &partition_count, &partition_more);
    jobd_answer_cursor_t *answer =
        rc ? NULL
           : (jobd_answer_cursor_t *)calloc (count + partition_count + 1,
                                             sizeof (jobd_answer_cursor_t));
    if (rc == 0 && !answer)
        rc = -ENOMEM;
    if (rc) {
        free (cursors);
        free (partition_cursors);
        jobd_reply_pack_head (pk, id, rc, NULL, 0);
        return rc;
    }
    for (size_t index = 0; index < count; index++)
        answer[index] = (jobd_answer_cursor_t){cursors[index].name, cursors[index].position,
                                               cursors[index].moved_at, -1, 0};
    for (size_t index = 0; index < partition_count; index++) {
        const jobd_store_plog_cursor_t *one = &partition_cursors[index];
        answer[count + index] = (jobd_answer_cursor_t){one->name, one->position, one->moved_at,
                                                       (int32_t)one->partition, one->head};
    }
    jobd_answer_pack_cursors (pk, id, head, more || partition_more, answer,
                              count + partition_count);
    free (answer);
    free (cursors);
    free (partition_cursors);
    return 0;
}

//  `cluster`: the changelog and each partition, as this instance sees them; nil when alone.
static int
s_query_cluster (const jobd_admin_context_t *context, const char *id, msgpack_packer *pk)
{
    jobd_reply_pack_head (pk, id, 0, NULL, 1);
    jobd_map_pack_str (pk, "cluster");
    if (context->cluster_pack)
        context->cluster_pack (pk, context->cluster_arg);
    else
        msgpack_pack_nil (pk);
    return 0;
}

int
jobd_admin_query (const jobd_admin_context_t *context, const msgpack_object *map,
                  msgpack_packer *pk)
{
    jobd_request_in_t query;
    char reason[256];
    int rc = jobd_request_read (map, &query, reason, sizeof reason);
    if (rc == 0 && query.kind == JOBD_REQUEST_DROP_CURSOR) {
        //  The broker answers it after its commit (jobd_broker.c): it is not one of these.
        snprintf (reason, sizeof reason, "field 'q': unknown query '%s'", query.q);
        rc = JOBD_EPROTO;
    }
    if (rc) {
        jobd_reply_pack_head (pk, query.id, rc, reason, 0);
        return rc;
    }
    switch (query.kind) {
        case JOBD_REQUEST_LS:
            return jobd_admin_ls (context, &query, pk);
        case JOBD_REQUEST_SHOW:
            return s_query_show (context, &query, pk);
        case JOBD_REQUEST_STATS:
            return s_query_stats (context, query.id, pk);
        case JOBD_REQUEST_PLUGINS:
            return s_query_plugins (context, query.id, pk);
        case JOBD_REQUEST_CLUSTER:
            return s_query_cluster (context, query.id, pk);
        default:
            return s_query_cursors (context, query.id, pk);
    }
}
