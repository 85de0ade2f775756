//  The keys of changelog messages Kafka refused for good (or that were lost at produce), kept
//  from the delivery report until the store marks them for the repair (docs/cluster.md, section
//  5, "As built: the repair"): a refused history entry must go to the changelog again even when a
//  later write of the same job lands first and its read-back ends the job's unconfirmed state,
//  which the resend goes by. Used on the broker's thread.
#ifndef JOBD_LOST_H_INCLUDED
#define JOBD_LOST_H_INCLUDED

#include "jobd_store.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jobd_lost jobd_lost_t;

#define JOBD_LOST_MAX 65536 //  keys kept at most (about 300 bytes each)

//  A new, empty set. NULL when out of memory.
jobd_lost_t *jobd_lost_new (void);

//  Destroys *self_p and sets it to NULL. NULL-safe.
void jobd_lost_destroy (jobd_lost_t **self_p);

//  Keeps the key of a refused message of partition, as produced (key and value): once per key,
//  a job's history entries, record and "gone" as one (the lowest seq of its refused entries).
//  Owner records are the claims' own business, and a message that does not decode names no key:
//  not kept. Returns true when kept (false too when full: jobd_lost_dropped counts those).
bool jobd_lost_add (jobd_lost_t *self, int32_t partition, const void *key, size_t key_size,
                    const void *value, size_t value_size);

//  Marks the kept keys of partition for the repair in the store's open batch
//  (jobd_store_cl_lost: not those a resend with min_epoch sends anyway); *marked_p gets how
//  many were marked.
//  Returns 0 or the store's error. Once the batch is committed, jobd_lost_forget drops them.
int jobd_lost_mark (jobd_lost_t *self, jobd_store_t *store, int32_t partition, uint64_t min_epoch,
                    size_t *marked_p);

//  Drops the kept keys of partition; returns how many.
size_t jobd_lost_forget (jobd_lost_t *self, int32_t partition);

//  Keys not kept because the set was full, since the start.
uint64_t jobd_lost_dropped (const jobd_lost_t *self);

#ifdef __cplusplus
}
#endif
#endif
