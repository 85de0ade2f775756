//  The admin protocol: replies to events and answers to queries (ls, show, stats, plugins),
//  as msgpack maps. Documented in core/README.md.
#include "jobd_admin.h"
#include <errno.h>
#include <string.h>

#define JOBD_LS_DEFAULT_LIMIT  10000
#define JOBD_LS_MAX            10000              //  jobs one ls answer holds at most
#define JOBD_LS_BYTES_MAX      (16 * 1024 * 1024) //  ... and bytes of job records
#define JOBD_SHOW_HISTORY_MAX  1000               //  transitions one show answer holds at most
#define JOBD_ADMIN_CURSORS_MAX 1000               //  cursors one `cursors` answer lists at most

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    size_t length = strlen (text);
    msgpack_pack_str (pk, length);
    msgpack_pack_str_body (pk, text, length);
}

static void
s_pack_kv (msgpack_packer *pk, const char *key, const char *value)
{
    s_pack_str (pk, key);
    s_pack_str (pk, value);
}

static void
s_pack_ku (msgpack_packer *pk, const char *key, uint64_t value)
{
    s_pack_str (pk, key);
    msgpack_pack_uint64 (pk, value);
}

const msgpack_object *
jobd_admin_lookup (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t length = strlen (key);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[index];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == length &&
            memcmp (kv->key.via.str.ptr, key, length) == 0)
            return &kv->val;
    }
    return NULL;
}

bool
jobd_admin_string (const msgpack_object *map, const char *key, char *buffer, size_t size)
{
    const msgpack_object *value = jobd_admin_lookup (map, key);
    if (!value || value->type != MSGPACK_OBJECT_STR || value->via.str.size >= size ||
        memchr (value->via.str.ptr, 0, value->via.str.size))
        return false;
    memcpy (buffer, value->via.str.ptr, value->via.str.size);
    buffer[value->via.str.size] = 0;
    return true;
}

const char *
jobd_admin_error_name (int rc)
{
    switch (rc) {
        case 0:
            return "OK";
        case JOBD_EPROTO:
            return "EPROTO";
        case JOBD_ETOOBIG:
            return "ETOOBIG";
        case JOBD_ENOTFOUND:
            return "ENOTFOUND";
        case JOBD_ESTATE:
            return "ESTATE";
        case JOBD_EFULL:
            return "EFULL";
        case JOBD_EEXIST:
            return "EEXIST";
        case JOBD_ECORRUPT:
            return "ECORRUPT";
        case -EBUSY:
            return "EBUSY";
        default:
            return "EFAIL";
    }
}

static const char *
s_outcome_name (jobd_apply_outcome_t outcome)
{
    static const char *names[] = {"changed",     "duplicate", "backward",
                                  "old_attempt", "forwarded", "replayed"};
    return (unsigned)outcome < 6 ? names[outcome] : "unknown";
}

//  Packs the head of a reply map with `extra` more pairs to come.
static void
s_reply_head (msgpack_packer *pk, const char *event_id, int rc, const char *reason, size_t extra)
{
    msgpack_pack_map (pk, 4 + (rc ? 2 : 0) + extra);
    s_pack_ku (pk, "v", JOBD_PROTO_VERSION);
    s_pack_kv (pk, "type", "reply");
    s_pack_kv (pk, "re", event_id ? event_id : "");
    s_pack_str (pk, "ok");
    if (rc)
        msgpack_pack_false (pk);
    else
        msgpack_pack_true (pk);
    if (rc) {
        s_pack_kv (pk, "error", jobd_admin_error_name (rc));
        s_pack_kv (pk, "reason", reason && *reason ? reason : jobd_strerror (rc));
    }
}

void
jobd_admin_reply (msgpack_packer *pk, const char *event_id, int rc, const char *reason,
                  const jobd_apply_result_t *result)
{
    bool has_job = result && result->job[0];
    bool has_outcome = result && rc == 0;
    s_reply_head (pk, event_id, rc, reason, has_job + has_outcome);
    if (has_job)
        s_pack_kv (pk, "job", result->job);
    if (has_outcome)
        s_pack_kv (pk, "outcome", s_outcome_name (result->outcome));
}

void
jobd_admin_batch_reply (msgpack_packer *pk, const char *batch_id, size_t count)
{
    s_reply_head (pk, batch_id, 0, NULL, 1);
    s_pack_str (pk, "replies");
    msgpack_pack_array (pk, count);
}

//  ls: every job matching state (a name), kind and name (a substring), up to limit.
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer pk;
    const char *kind;
    const char *name;
    uint64_t limit;
    uint64_t count;
    bool truncated;
} s_ls_t;

static bool
s_ls_one (const jobd_job_t *job, void *arg)
{
    s_ls_t *ls = (s_ls_t *)arg;
    if (ls->kind && (!job->kind || strcmp (job->kind, ls->kind)))
        return true;
    if (ls->name && (!job->name || !strstr (job->name, ls->name)))
        return true;
    if (ls->count == ls->limit || ls->buffer.size >= JOBD_LS_BYTES_MAX) {
        ls->truncated = true;
        return false;
    }
    jobd_job_pack (job, &ls->pk);
    ls->count++;
    return true;
}

static int
s_state_mask (const msgpack_object *query, uint32_t *mask_p, char *reason, size_t reason_size)
{
    *mask_p = 0;
    char names[256];
    if (!jobd_admin_lookup (query, "state"))
        return 0;
    if (!jobd_admin_string (query, "state", names, sizeof names)) {
        snprintf (reason, reason_size, "field 'state': expected a string of state names");
        return JOBD_EPROTO;
    }
    //  A comma-separated list of states.
    char *save = NULL;
    for (char *name = strtok_r (names, ",", &save); name; name = strtok_r (NULL, ",", &save)) {
        jobd_state_t state;
        if (jobd_state_parse (name, strlen (name), &state)) {
            snprintf (reason, reason_size, "field 'state': unknown state '%s'", name);
            return JOBD_EPROTO;
        }
        *mask_p |= 1u << state;
    }
    return 0;
}

static int
s_query_ls (const jobd_admin_context_t *context, const msgpack_object *query, const char *id,
            msgpack_packer *pk)
{
    char reason[256] = "", kind[JOBD_ID_MAX + 1], name[JOBD_NAME_MAX + 1];
    uint32_t mask;
    int rc = s_state_mask (query, &mask, reason, sizeof reason);
    if (rc) {
        s_reply_head (pk, id, rc, reason, 0);
        return rc;
    }
    s_ls_t ls = {.limit = JOBD_LS_DEFAULT_LIMIT};
    ls.kind = jobd_admin_string (query, "kind", kind, sizeof kind) ? kind : NULL;
    ls.name = jobd_admin_string (query, "name", name, sizeof name) ? name : NULL;
    const msgpack_object *limit = jobd_admin_lookup (query, "limit");
    if (limit && limit->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        ls.limit = limit->via.u64 < JOBD_LS_MAX ? limit->via.u64 : JOBD_LS_MAX;
    msgpack_sbuffer_init (&ls.buffer);
    msgpack_packer_init (&ls.pk, &ls.buffer, msgpack_sbuffer_write);
    rc = jobd_store_scan (context->store, mask, s_ls_one, &ls);
    if (rc) {
        msgpack_sbuffer_destroy (&ls.buffer);
        s_reply_head (pk, id, rc, NULL, 0);
        return rc;
    }
    s_reply_head (pk, id, 0, NULL, 2);
    s_pack_str (pk, "truncated");
    if (ls.truncated)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    s_pack_str (pk, "jobs");
    msgpack_pack_array (pk, ls.count);
    //  The jobs were packed into their own buffer before their number was known.
    msgpack_pack_str_body (pk, ls.buffer.data, ls.buffer.size);
    msgpack_sbuffer_destroy (&ls.buffer);
    return 0;
}

static int
s_query_show (const jobd_admin_context_t *context, const msgpack_object *query, const char *id,
              msgpack_packer *pk)
{
    char job_id[JOBD_ID_MAX + 1];
    if (!jobd_admin_string (query, "job", job_id, sizeof job_id)) {
        s_reply_head (pk, id, JOBD_EPROTO, "field 'job': expected a job id", 0);
        return JOBD_EPROTO;
    }
    jobd_job_t *job = NULL;
    jobd_event_t **history = NULL;
    size_t count = 0;
    int rc = jobd_store_job_get (context->store, job_id, &job);
    if (rc == 0)
        rc = jobd_store_history (context->store, job_id, &history, &count);
    if (rc) {
        char reason[256];
        snprintf (reason, sizeof reason, "job '%s': %s", job_id, jobd_strerror (rc));
        s_reply_head (pk, id, rc, reason, 0);
    } else {
        //  The most recent transitions; how many earlier ones were left out, when any were.
        size_t skipped = count > JOBD_SHOW_HISTORY_MAX ? count - JOBD_SHOW_HISTORY_MAX : 0;
        s_reply_head (pk, id, 0, NULL, 2 + (skipped > 0));
        s_pack_str (pk, "job");
        jobd_job_pack (job, pk);
        if (skipped)
            s_pack_ku (pk, "history_skipped", skipped);
        s_pack_str (pk, "history");
        msgpack_pack_array (pk, count - skipped);
        for (size_t index = skipped; index < count; index++)
            jobd_event_pack (history[index], pk);
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
        s_reply_head (pk, id, rc, NULL, 0);
        return rc;
    }
    const jobd_broker_stats_t *stats = context->stats;
    s_reply_head (pk, id, 0, NULL, 2);
    s_pack_str (pk, "counts");
    msgpack_pack_map (pk, JOBD_STATE_COUNT - 1);
    for (int state = JOBD_STATE_QUEUED; state < JOBD_STATE_COUNT; state++)
        s_pack_ku (pk, jobd_state_name ((jobd_state_t)state), counts[state]);
    s_pack_str (pk, "broker");
    msgpack_pack_map (pk, 14);
    s_pack_ku (pk, "received", stats->received);
    s_pack_ku (pk, "rejected", stats->rejected);
    s_pack_ku (pk, "applied", stats->applied);
    s_pack_ku (pk, "transitions", stats->transitions);
    s_pack_ku (pk, "duplicates", stats->duplicates);
    s_pack_ku (pk, "backward", stats->backward);
    s_pack_ku (pk, "old_attempt", stats->old_attempt);
    s_pack_ku (pk, "replayed", stats->replayed);
    s_pack_ku (pk, "forwarded", stats->forwarded);
    s_pack_ku (pk, "commits", stats->commits);
    s_pack_ku (pk, "commit_failures", stats->commit_failures);
    s_pack_ku (pk, "queries", stats->queries);
    s_pack_ku (pk, "internal_refused", stats->internal_refused);
    s_pack_ku (pk, "started_at", (uint64_t)stats->started_at);
    return 0;
}

static int
s_query_plugins (const jobd_admin_context_t *context, const char *id, msgpack_packer *pk)
{
    s_reply_head (pk, id, 0, NULL, 1);
    s_pack_str (pk, "plugins");
    msgpack_pack_array (pk, zhashx_size (context->plugins));
    zlistx_t *names = zhashx_keys (context->plugins);
    zlistx_set_comparator (names, (zlistx_comparator_fn *)strcmp);
    zlistx_sort (names);
    for (const char *name = (const char *)zlistx_first (names); name;
         name = (const char *)zlistx_next (names)) {
        zhashx_t *info = (zhashx_t *)zhashx_lookup (context->plugins, name);
        msgpack_pack_map (pk, 4);
        s_pack_kv (pk, "name", name);
        static const char *fields[] = {"version", "status", "detail"};
        for (size_t index = 0; index < 3; index++) {
            const char *value = (const char *)zhashx_lookup (info, fields[index]);
            s_pack_kv (pk, fields[index], value ? value : "");
        }
    }
    zlistx_destroy (&names);
    return 0;
}

//  cursors: the transition log's readers, where each is and since when (a bounded list).
static int
s_query_cursors (const jobd_admin_context_t *context, const char *id, msgpack_packer *pk)
{
    jobd_store_cursor_t *cursors = NULL;
    size_t count = 0;
    uint64_t head = 0;
    bool more = false;
    int rc = jobd_store_cursor_list (context->store, JOBD_ADMIN_CURSORS_MAX, &cursors, &count,
                                     &head, &more);
    if (rc) {
        s_reply_head (pk, id, rc, NULL, 0);
        return rc;
    }
    s_reply_head (pk, id, 0, NULL, 3);
    s_pack_ku (pk, "head", head);
    s_pack_str (pk, "truncated");
    if (more)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    s_pack_str (pk, "cursors");
    msgpack_pack_array (pk, count);
    for (size_t index = 0; index < count; index++) {
        const jobd_store_cursor_t *cursor = &cursors[index];
        msgpack_pack_map (pk, 4);
        s_pack_kv (pk, "name", cursor->name);
        s_pack_ku (pk, "position", cursor->position);
        s_pack_ku (pk, "behind", head > cursor->position ? head - cursor->position : 0);
        s_pack_str (pk, "moved_at");
        msgpack_pack_int64 (pk, cursor->moved_at);
    }
    free (cursors);
    return 0;
}

int
jobd_admin_query (const jobd_admin_context_t *context, const msgpack_object *query,
                  msgpack_packer *pk)
{
    char id[JOBD_ID_MAX + 1] = "", what[32] = "";
    jobd_admin_string (query, "id", id, sizeof id);
    if (!jobd_admin_string (query, "q", what, sizeof what)) {
        s_reply_head (pk, id, JOBD_EPROTO,
                      "field 'q': expected ls, show, stats, plugins, cursors or drop_cursor", 0);
        return JOBD_EPROTO;
    }
    if (strcmp (what, "ls") == 0)
        return s_query_ls (context, query, id, pk);
    if (strcmp (what, "show") == 0)
        return s_query_show (context, query, id, pk);
    if (strcmp (what, "stats") == 0)
        return s_query_stats (context, id, pk);
    if (strcmp (what, "plugins") == 0)
        return s_query_plugins (context, id, pk);
    if (strcmp (what, "cursors") == 0)
        return s_query_cursors (context, id, pk);
    char reason[96];
    snprintf (reason, sizeof reason, "field 'q': unknown query '%s'", what);
    s_reply_head (pk, id, JOBD_EPROTO, reason, 0);
    return JOBD_EPROTO;
}
