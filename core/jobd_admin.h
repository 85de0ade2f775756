//  The admin protocol: replies to events and answers to queries (ls, show, stats, plugins),
//  as msgpack maps. Documented in core/README.md.
#ifndef JOBD_ADMIN_H_INCLUDED
#define JOBD_ADMIN_H_INCLUDED

#include "jobd_broker.h"
#include "jobd_store.h"
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

//  What a query may read: the store and the broker's own tables. All borrowed.
typedef struct {
    jobd_store_t *store;
    const jobd_broker_stats_t *stats;
    zhashx_t *plugins; //  name -> zhashx of "version", "status", "detail" strings
} jobd_admin_context_t;

//  Packs the reply to one event: rc is 0 or the error, result may be NULL (no store outcome).
void jobd_admin_reply (msgpack_packer *pk, const char *event_id, int rc, const char *reason,
                       const jobd_apply_result_t *result);

//  Packs the head of the reply to a `batch` event: a reply map whose last key, "replies", is an
//  array of count replies, to be packed next (jobd_admin_reply each, in the batch's order).
void jobd_admin_batch_reply (msgpack_packer *pk, const char *batch_id, size_t count);

//  Answers one query (a decoded map whose "type" is "query") into pk. Always packs a reply map;
//  returns 0, or the error the reply carries.
int jobd_admin_query (const jobd_admin_context_t *context, const msgpack_object *query,
                      msgpack_packer *pk);

//  Returns the value of key in a msgpack map, or NULL. Borrowed from map.
const msgpack_object *jobd_admin_lookup (const msgpack_object *map, const char *key);

//  Copies a string value of map[key] into a NUL-terminated buffer. Returns true when map[key]
//  is a string that fits.
bool jobd_admin_string (const msgpack_object *map, const char *key, char *buffer, size_t size);

//  Returns the jobd error name of rc ("ENOTFOUND", "EPROTO", ...), for replies. Static.
const char *jobd_admin_error_name (int rc);

#ifdef __cplusplus
}
#endif
#endif
