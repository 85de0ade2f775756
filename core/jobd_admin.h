//  The answers to admin queries (ls, show, stats, plugins, cursors, cluster): read from the store
//  and the broker's tables, packed as reply maps. The protocol itself (queries, replies, error
//  names) is proto's: jobd_request.h, jobd_reply.h, proto/README.md section 9.
#ifndef JOBD_ADMIN_H_INCLUDED
#define JOBD_ADMIN_H_INCLUDED

#include "jobd_answer.h"
#include "jobd_request.h"
#include "jobd_store.h"
#include <czmq.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

//  What a query may read: the store and the broker's own tables. All borrowed.
typedef struct {
    jobd_store_t *store;
    const jobd_stats_t *stats; //  the broker's counters
    zhashx_t *plugins;         //  name -> zhashx of "version", "status", "detail" strings
    zhashx_t *figures;         //  name -> zchunk_t: the plugin's last figures (msgpack), or NULL
    //  Cluster mode: packs the `cluster` query's answer map (NULL: the single instance, whose
    //  answer is nil).
    void (*cluster_pack) (msgpack_packer *pk, void *arg);
    void *cluster_arg;
} jobd_admin_context_t;

//  Answers one query (a map whose "type" is "query", read with jobd_request_read) into pk.
//  Always packs a reply map; returns 0, or the error the reply carries. drop_cursor is not one
//  of these (the broker answers it after its commit): refused as unknown.
int jobd_admin_query (const jobd_admin_context_t *context, const msgpack_object *query,
                      msgpack_packer *pk);

#ifdef __cplusplus
}
#endif
#endif
