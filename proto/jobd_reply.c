//  The admin protocol's replies (see jobd_reply.h).
#include "jobd_reply.h"
#include "jobd_map.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

void
jobd_reply_pack_head (msgpack_packer *pk, const char *re, int rc, const char *reason, size_t extra)
{
    msgpack_pack_map (pk, 4 + (rc ? 2 : 0) + extra);
    jobd_map_pack_ku (pk, "v", JOBD_PROTO_VERSION);
    jobd_map_pack_kv (pk, "type", "reply");
    jobd_map_pack_kv (pk, "re", re ? re : "");
    jobd_map_pack_kb (pk, "ok", rc == 0);
    if (rc) {
        jobd_map_pack_kv (pk, "error", jobd_error_name (rc));
        jobd_map_pack_kv (pk, "reason", reason && *reason ? reason : jobd_strerror (rc));
    }
}

void
jobd_reply_pack (msgpack_packer *pk, const char *re, int rc, const char *reason, const char *job,
                 const char *outcome)
{
    jobd_reply_pack_head (pk, re, rc, reason, (job != NULL) + (outcome != NULL));
    if (job)
        jobd_map_pack_kv (pk, "job", job);
    if (outcome)
        jobd_map_pack_kv (pk, "outcome", outcome);
}

void
jobd_reply_pack_batch (msgpack_packer *pk, const char *batch_id, size_t count)
{
    jobd_reply_pack_head (pk, batch_id, 0, NULL, 1);
    jobd_map_pack_str (pk, "replies");
    msgpack_pack_array (pk, count);
}

int
jobd_reply_read (const msgpack_object *map, jobd_reply_t *reply, char *reason, size_t reason_size)
{
    memset (reply, 0, sizeof *reply);
    char type[8] = "";
    const msgpack_object *ok = jobd_map_lookup (map, "ok");
    if (!map || map->type != MSGPACK_OBJECT_MAP ||
        !jobd_map_string (map, "type", type, sizeof type) || strcmp (type, "reply")) {
        if (reason)
            snprintf (reason, reason_size, "not a reply");
        return JOBD_EPROTO;
    }
    if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN) {
        if (reason)
            snprintf (reason, reason_size, "reply without a boolean 'ok'");
        return JOBD_EPROTO;
    }
    reply->ok = ok->via.boolean;
    jobd_map_string (map, "re", reply->re, sizeof reply->re);
    jobd_map_string (map, "job", reply->job, sizeof reply->job);
    jobd_map_string (map, "outcome", reply->outcome, sizeof reply->outcome);
    jobd_map_string (map, "error", reply->error, sizeof reply->error);
    //  A reason is for a person: one too long for the buffer is cut, not dropped.
    const msgpack_object *why = jobd_map_lookup (map, "reason");
    if (why && why->type == MSGPACK_OBJECT_STR)
        snprintf (reply->reason, sizeof reply->reason, "%.*s",
                  (int)(why->via.str.size < JOBD_REPLY_REASON_MAX ? why->via.str.size
                                                                  : JOBD_REPLY_REASON_MAX),
                  why->via.str.ptr);
    //  A name this build does not know (a newer jobd's), or none: a failure still.
    if (!reply->ok &&
        (jobd_error_parse (reply->error, strlen (reply->error), &reply->rc) || reply->rc == 0))
        reply->rc = -EIO;
    const msgpack_object *replies = jobd_map_lookup (map, "replies");
    if (replies && replies->type == MSGPACK_OBJECT_ARRAY)
        reply->replies = replies;
    return 0;
}
