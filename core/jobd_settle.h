//  The settle of a cluster instance's writes that the changelog never confirmed and never will
//  (docs/cluster.md, section 6, "Restore"): the instance committed them while it owned a
//  partition, Kafka never took them, and another instance claimed the partition since, which
//  fences them. The jobs they changed become what the changelog holds of them again. Used on the
//  broker's thread (the store's one writer), outside a batch.
#ifndef JOBD_SETTLE_H_INCLUDED
#define JOBD_SETTLE_H_INCLUDED

#include "jobd_config.h"
#include "jobd_store.h"
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  What a settle did.
typedef struct {
    size_t dead;    //  jobs with unconfirmed writes below the epoch
    size_t taken;   //  ... now the changelog's last record of them
    size_t removed; //  ... that the changelog never had: gone
    size_t kept;    //  ... with no record read, though the changelog confirmed some of them
    size_t bad;     //  messages read that did not decode (passed over)
    int64_t ms;     //  how long it took
} jobd_settle_result_t;

#define JOBD_SETTLE_READ_MS 10000 //  the longest the re-read of a partition may take

//  Settles partition's jobs whose unconfirmed writes have an epoch below `below` (0: the
//  partition's claim epoch as applied here): the changelog topic's partition is read again from
//  its start up to offset end (what the store applied), with the replica apply's fencing, and
//  each such job takes its last record there (jobd_store_cl_settle), in one commit. Nothing is
//  read when no job needs it. Returns 0, or an error with a reason (nothing changed: the caller
//  may try again).
int jobd_settle_partition (jobd_config_t *config, jobd_store_t *store, const char *topic,
                           int partition, int64_t end, uint64_t below, jobd_settle_result_t *result,
                           char *reason, size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
