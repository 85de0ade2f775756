//  The admin protocol's queries (see jobd_request.h).
#include "jobd_request.h"
#include "jobd_map.h"
#include "jobd_state.h"
#include <stdio.h>
#include <string.h>

static const char *s_kind_names[] = {"unknown", "ls",      "show",        "stats",
                                     "plugins", "cursors", "drop_cursor", "cluster"};

const char *
jobd_request_kind_name (jobd_request_kind_t kind)
{
    return (unsigned)kind < sizeof s_kind_names / sizeof s_kind_names[0] ? s_kind_names[kind]
                                                                         : "unknown";
}

int
jobd_request_pack (const jobd_request_t *request, msgpack_packer *pk)
{
    if (!request->q)
        return JOBD_EPROTO;
    const char *keys[] = {"state", "kind", "name", "job", "backend", "sort"};
    const char *values[] = {request->state, request->kind,    request->name,
                            request->job,   request->backend, request->sort};
    size_t extra = request->has_limit + request->has_since + request->has_until;
    for (size_t index = 0; index < 6; index++)
        extra += values[index] != NULL;
    msgpack_pack_map (pk, 4 + extra);
    jobd_map_pack_ku (pk, "v", JOBD_PROTO_VERSION);
    jobd_map_pack_kv (pk, "type", "query");
    jobd_map_pack_kv (pk, "id", request->id ? request->id : "");
    jobd_map_pack_kv (pk, "q", request->q);
    for (size_t index = 0; index < 6; index++)
        if (values[index])
            jobd_map_pack_kv (pk, keys[index], values[index]);
    if (request->has_limit)
        jobd_map_pack_ku (pk, "limit", request->limit);
    if (request->has_since)
        jobd_map_pack_ki (pk, "since", request->since);
    if (request->has_until)
        jobd_map_pack_ki (pk, "until", request->until);
    return 0;
}

//  ls's state: a comma-separated list of state names, as a mask.
static int
s_state_mask (const msgpack_object *map, uint32_t *mask_p, char *reason, size_t reason_size)
{
    *mask_p = 0;
    char names[256];
    if (!jobd_map_lookup (map, "state"))
        return 0;
    if (!jobd_map_string (map, "state", names, sizeof names)) {
        snprintf (reason, reason_size, "field 'state': expected a string of state names");
        return JOBD_EPROTO;
    }
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

//  An integer field of ms since the epoch, when there: 0, or JOBD_EPROTO naming it.
static int
s_time (const msgpack_object *map, const char *key, bool *has, int64_t *value, char *reason,
        size_t reason_size)
{
    const msgpack_object *object = jobd_map_lookup (map, key);
    if (!object)
        return 0;
    if (object->type == MSGPACK_OBJECT_POSITIVE_INTEGER && object->via.u64 <= INT64_MAX)
        *value = (int64_t)object->via.u64;
    else if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *value = object->via.i64;
    else {
        snprintf (reason, reason_size, "field '%s': expected ms since the epoch (an integer)", key);
        return JOBD_EPROTO;
    }
    *has = true;
    return 0;
}

//  ls's order and time window: sort (a jobd_order key), since and until.
static int
s_ls_window (const msgpack_object *map, jobd_request_in_t *request, char *reason,
             size_t reason_size)
{
    char sort[32];
    if (jobd_map_lookup (map, "sort")) {
        if (!jobd_map_string (map, "sort", sort, sizeof sort) ||
            jobd_order_parse (sort, &request->sort)) {
            snprintf (reason, reason_size,
                      "field 'sort': expected " JOBD_ORDER_KEYS ", with '-' before it for "
                      "descending");
            return JOBD_EPROTO;
        }
        request->has_sort = true;
    }
    int rc = s_time (map, "since", &request->has_since, &request->since, reason, reason_size);
    return rc ? rc
              : s_time (map, "until", &request->has_until, &request->until, reason, reason_size);
}

int
jobd_request_read (const msgpack_object *map, jobd_request_in_t *request, char *reason,
                   size_t reason_size)
{
    memset (request, 0, sizeof *request);
    jobd_map_string (map, "id", request->id, sizeof request->id);
    if (!jobd_map_string (map, "q", request->q, sizeof request->q)) {
        snprintf (reason, reason_size,
                  "field 'q': expected ls, show, stats, plugins, cursors, drop_cursor or cluster");
        return JOBD_EPROTO;
    }
    for (size_t kind = 1; kind < sizeof s_kind_names / sizeof s_kind_names[0]; kind++)
        if (strcmp (request->q, s_kind_names[kind]) == 0)
            request->kind = (jobd_request_kind_t)kind;
    request->has_name = jobd_map_string (map, "name", request->name, sizeof request->name);
    switch (request->kind) {
        case JOBD_REQUEST_LS: {
            request->has_kind =
                jobd_map_string (map, "kind", request->job_kind, sizeof request->job_kind);
            const msgpack_object *limit = jobd_map_lookup (map, "limit");
            if (limit && limit->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                request->has_limit = true;
                request->limit = limit->via.u64;
            }
            request->has_backend =
                jobd_map_string (map, "backend", request->backend, sizeof request->backend);
            int rc = s_ls_window (map, request, reason, reason_size);
            return rc ? rc : s_state_mask (map, &request->state_mask, reason, reason_size);
        }
        case JOBD_REQUEST_SHOW:
            if (!jobd_map_string (map, "job", request->job, sizeof request->job)) {
                snprintf (reason, reason_size, "field 'job': expected a job id");
                return JOBD_EPROTO;
            }
            return 0;
        case JOBD_REQUEST_DROP_CURSOR:
            if (!request->has_name || !request->name[0]) {
                snprintf (reason, reason_size, "field 'name': expected the name of a cursor");
                return JOBD_EPROTO;
            }
            return 0;
        case JOBD_REQUEST_UNKNOWN:
            snprintf (reason, reason_size, "field 'q': unknown query '%s'", request->q);
            return JOBD_EPROTO;
        default:
            return 0;
    }
}
