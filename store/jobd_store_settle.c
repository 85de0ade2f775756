//  The settle of a cluster instance's writes that the changelog never confirmed and never will
//  (docs/cluster.md, section 6, "Restore"; README.md, "Cluster").
#include "jobd_store_cl.h"
#include "jobd_store_internal.h"
#include <stdio.h>

typedef struct {
    uint16_t partition;
    uint64_t below;
    jobd_store_cl_dead_fn *fn;
    void *arg;
} s_dead_t;

static int
s_dead_one (jobd_store_t *self, const char *id, const jobd_store_pending_t *pending, void *arg)
{
    s_dead_t *dead = (s_dead_t *)arg;
    return pending->epoch < dead->below && jobd_store_partition (self, id) == dead->partition
               ? dead->fn (id, pending->epoch, dead->arg)
               : 0;
}

int
jobd_store_cl_dead (jobd_store_t *self, uint16_t partition, uint64_t below,
                    jobd_store_cl_dead_fn *fn, void *arg)
{
    if (!self->has_cluster)
        return 0;
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    if (below == 0) {
        char name[32];
        snprintf (name, sizeof name, "claim_epoch/%u", (unsigned)partition);
        rc = jobd_store_meta_u64 (self, txn, name, &below);
        rc = rc == JOBD_ENOTFOUND ? 0 : rc;
    }
    s_dead_t dead = {.partition = partition, .below = below, .fn = fn, .arg = arg};
    if (rc == 0)
        rc = jobd_store_cl_pending_each (self, txn, s_dead_one, &dead);
    jobd_store_read_end (self, txn);
    return jobd_store_damaged (self, rc, "listing unconfirmed writes of partition %u",
                               (unsigned)partition);
}

int
jobd_store_cl_settle (jobd_store_t *self, uint16_t partition, const char *id, uint64_t epoch,
                      const jobd_cl_msg_t *record, const jobd_cl_msg_t *entries, size_t entry_count,
                      jobd_store_settled_t *settled_p)
{
    *settled_p = JOBD_STORE_SETTLED_NOT;
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    if (!self->has_cluster || !id ||
        (record && (record->kind != JOBD_CL_REC || !record->record || strcmp (record->job, id))))
        return JOBD_EINVAL;
    for (size_t index = 0; index < entry_count; index++)
        if (entries[index].kind != JOBD_CL_EV || strcmp (entries[index].job, id))
            return JOBD_EINVAL;
    jobd_store_pending_t pending;
    int rc = jobd_store_cl_pending_get (self, self->txn, id, &pending);
    //  Settled already, or written again since (under another epoch): not this call's.
    if (rc || !pending.exists || pending.epoch != epoch)
        return jobd_store_damaged (self, rc, "settling job '%.64s'", id);
    unsigned writes = self->writes;
    if (record) {
        jobd_job_t *local = NULL;
        rc = jobd_store_batch_get (self, id, &local);
        bool changed = false;
        if (rc == 0 || rc == JOBD_ENOTFOUND)
            rc = jobd_store_cl_take (self, partition, rc ? NULL : local, record, &changed);
        *settled_p = JOBD_STORE_SETTLED_TAKEN;
    } else if (pending.published == 0) {
        //  The changelog never had the job: it was made here, and never happened.
        rc = jobd_store_cl_tail_delete (self, id, 0);
        if (rc == 0)
            rc = jobd_store_timers_clear (self, id, NULL);
        if (rc == 0)
            rc = jobd_store_batch_remove (self, id);
        rc = rc == JOBD_ENOTFOUND ? 0 : rc;
        *settled_p = JOBD_STORE_SETTLED_REMOVED;
    } else
        *settled_p = JOBD_STORE_SETTLED_KEPT;
    //  What the changelog holds of its history, as the replica apply put it.
    for (size_t index = 0; rc == 0 && *settled_p != JOBD_STORE_SETTLED_KEPT && index < entry_count;
         index++) {
        bool changed = false;
        rc = jobd_store_cl_entry_put (self, &entries[index], &changed);
    }
    if (rc == 0) {
        MDB_val key = jobd_store_val (id, strlen (id));
        self->writes++;
        rc = mdb_del (self->txn, self->cl_pending, &key, NULL);
        rc = rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
    }
    if (rc && self->writes != writes)
        self->failed = rc;
    return jobd_store_damaged (self, rc, "settling job '%.64s'", id);
}
