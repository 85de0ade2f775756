//  The admin protocol's replies: the reply to one event, the reply to a batch, and the head every
//  answer to a query starts with. Encoded by the broker, read by jobctl and the plugins.
//  The wire format is proto/README.md, section 12.
#ifndef JOBD_REPLY_H_INCLUDED
#define JOBD_REPLY_H_INCLUDED

#include "jobd_event.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_REPLY_REASON_MAX 512 //  bytes of a reason kept by jobd_reply_read (longer: cut)

//  A reply as read. Strings are copied, NUL-terminated, empty when absent (or too long).
typedef struct {
    char re[JOBD_ID_MAX + 1];               //  the id of the event or query it answers
    bool ok;                                //  true: done (durable, or answered)
    int rc;                                 //  0 when ok; else the code of error (EFAIL: -EIO)
    char error[32];                         //  the error's name ("ENOTFOUND"); "" when ok
    char reason[JOBD_REPLY_REASON_MAX + 1]; //  why, for a person; "" when ok
    char job[JOBD_ID_MAX + 1];              //  the job the event touched, when there was one
    char outcome[32];                       //  "changed", "duplicate", ... when ok
    const msgpack_object *replies;          //  a batch's replies (an array of maps), or NULL;
                                            //  borrowed from the map read
} jobd_reply_t;

//  Packs the head of a reply map: v, type, re, ok and, when rc is not 0, error (its name) and
//  reason (jobd_strerror (rc) when reason is NULL or empty), announcing extra more pairs, which
//  the caller packs next. re NULL packs "".
void jobd_reply_pack_head (msgpack_packer *pk, const char *re, int rc, const char *reason,
                           size_t extra);

//  Packs the reply to one event: the head, then job and outcome when not NULL.
void jobd_reply_pack (msgpack_packer *pk, const char *re, int rc, const char *reason,
                      const char *job, const char *outcome);

//  Packs the head of the reply to a `batch` event: a reply map whose last key, "replies", is an
//  array of count replies, to be packed next (jobd_reply_pack each, in the batch's order).
void jobd_reply_pack_batch (msgpack_packer *pk, const char *batch_id, size_t count);

//  Reads a reply map into *reply (rc: the code of its error, -EIO for a name this build does not
//  know or none at all). Returns 0, or JOBD_EPROTO with a reason when map is not a map,
//  its type is not "reply", or ok is not a boolean (then *reply is zeroed).
int jobd_reply_read (const msgpack_object *map, jobd_reply_t *reply, char *reason,
                     size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
