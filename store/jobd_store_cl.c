//  The store's side of a cluster: the replica apply of changelog messages and the messages of
//  what a batch changed (docs/cluster.md, sections 5 and 6; README.md, "Cluster").
#include "jobd_store_cl.h"
#include "jobd_event.h"
#include "jobd_store_internal.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

int
jobd_store_cl_open (jobd_store_t *self, MDB_txn *txn, bool writable)
{
    unsigned create = writable ? MDB_CREATE : 0;
    int rc = mdb_dbi_open (txn, "cl_plog", create, &self->cl_plog);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "cl_pending", create, &self->cl_pending);
    //  A format 5 store, read only: no cluster state to read.
    if (rc == MDB_NOTFOUND && !writable)
        return 0;
    self->has_cluster = rc == 0;
    return rc;
}

//  Fills key with "NAME/<p>" and returns its size.
static size_t
s_meta_key (char *key, size_t key_max, const char *name, uint16_t partition)
{
    int size = snprintf (key, key_max, "%s/%u", name, (unsigned)partition);
    return size < 0 || (size_t)size >= key_max ? 0 : (size_t)size;
}

static int
s_meta_put (jobd_store_t *self, const char *key, size_t key_size, const void *data, size_t size)
{
    MDB_val k = jobd_store_val (key, key_size), v = jobd_store_val (data, size);
    self->writes++;
    return jobd_store_mdb_error (mdb_put (self->txn, self->meta, &k, &v, 0));
}

//  Reads a be64 meta value in txn (0 when absent).
static int
s_meta_get_u64 (jobd_store_t *self, MDB_txn *txn, const char *key, size_t key_size,
                uint64_t *value_p)
{
    *value_p = 0;
    int rc = jobd_store_meta_get (self, txn, key, key_size, value_p);
    return rc == JOBD_ENOTFOUND ? 0 : rc;
}

//  Fills key (job id, 0, be64 seq: the history key) and returns its size.
static size_t
s_history_key (uint8_t *key, const char *job, uint64_t seq)
{
    size_t size = strlen (job);
    memcpy (key, job, size);
    key[size] = 0;
    jobd_store_put_be (key + size + 1, 8, seq);
    return size + 9;
}

int
jobd_store_cl_pending_get (jobd_store_t *self, MDB_txn *txn, const char *id,
                           jobd_store_pending_t *pending)
{
    memset (pending, 0, sizeof *pending);
    MDB_val key = jobd_store_val (id, strlen (id)), value;
    int rc = mdb_get (txn, self->cl_pending, &key, &value);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return jobd_store_mdb_error (rc);
    if (value.mv_size != 16)
        return JOBD_ECORRUPT;
    pending->exists = true;
    pending->epoch = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
    pending->published = jobd_store_get_be ((const uint8_t *)value.mv_data + 8, 8);
    return 0;
}

static int
s_pending_put (jobd_store_t *self, const char *id, uint64_t epoch, uint64_t published)
{
    uint8_t bytes[16];
    jobd_store_put_be (bytes, 8, epoch);
    jobd_store_put_be (bytes + 8, 8, published);
    MDB_val key = jobd_store_val (id, strlen (id)), value = jobd_store_val (bytes, 16);
    self->writes++;
    return jobd_store_mdb_error (mdb_put (self->txn, self->cl_pending, &key, &value, 0));
}

//  ---------------------------------------------------------------------------------------------
//  The replica apply.

//  The apply's state for one partition.
typedef struct {
    jobd_store_t *store;
    uint16_t partition;
    uint64_t claim_epoch;
    bool claim_dirty;
    jobd_store_cl_applied_t *applied;
} s_apply_t;

void
jobd_store_cl_applied_clear (jobd_store_cl_applied_t *applied)
{
    if (!applied)
        return;
    for (size_t index = 0; index < applied->transition_count; index++)
        free (applied->transitions[index].data);
    free (applied->transitions);
    free (applied->jobs);
    memset (applied, 0, sizeof *applied);
}

void
jobd_store_cl_set_replicated (jobd_store_t *self, bool replicated)
{
    assert (self && !self->txn);
    self->replicated = replicated;
}

//  Step 4: an owner, in, stream or cursor record.
static int
s_apply_meta (s_apply_t *self, const jobd_cl_msg_t *msg, uint64_t offset)
{
    char key[JOBD_CL_NAME_MAX + 64];
    size_t size;
    switch (msg->kind) {
        case JOBD_CL_OWNER: {
            if (msg->claim && msg->epoch > self->claim_epoch) {
                self->claim_epoch = msg->epoch;
                self->claim_dirty = true;
                jobd_store_cl_applied_t *applied = self->applied;
                applied->claimed = true;
                size_t max = sizeof applied->claims / sizeof applied->claims[0];
                if (applied->claim_count == max) {
                    memmove (applied->claims, applied->claims + 1,
                             (max - 1) * sizeof applied->claims[0]);
                    applied->claim_count--;
                }
                applied->claims[applied->claim_count].offset = offset;
                applied->claims[applied->claim_count++].epoch = msg->epoch;
            }
            //  The last owner record (claim or release, epoch, instance): a new owner waits a
            //  lease after a claim, not after a release (section 7, step 4).
            uint8_t value[1 + 8 + JOBD_CL_INST_MAX];
            size_t inst = strlen (msg->inst);
            value[0] = msg->claim ? 'c' : 'r';
            jobd_store_put_be (value + 1, 8, msg->epoch);
            memcpy (value + 9, msg->inst, inst);
            size = s_meta_key (key, sizeof key, "owner", self->partition);
            return s_meta_put (self->store, key, size, value, 9 + inst);
        }
        case JOBD_CL_IN:
            size = s_meta_key (key, sizeof key, "in", self->partition);
            break;
        case JOBD_CL_STREAM:
            size = (size_t)snprintf (key, sizeof key, "stream/%u/%s", (unsigned)self->partition,
                                     msg->name);
            break;
        default: {
            //  A reader of the partition's transitions is done below this position: what every
            //  reader is done with leaves cl_plog (jobd_store_plog_prune, after the batch). When
            //  it moved, its clock for core/cursor_idle_max restarts (jobd_store_plog_expire).
            size = (size_t)snprintf (key, sizeof key, "cl_cursor/%s/%u", msg->name,
                                     (unsigned)self->partition);
            uint64_t before = 0;
            int had = s_meta_get_u64 (self->store, self->store->txn, key, size, &before);
            if (had == 0 && before != msg->number) {
                char at[JOBD_CL_NAME_MAX + 64];
                size_t at_size = (size_t)snprintf (at, sizeof at, "cl_cursor_at/%s/%u", msg->name,
                                                   (unsigned)self->partition);
                had = jobd_store_meta_put (self->store, at, at_size, (uint64_t)jobd_now_ms ());
            }
            if (had && had != JOBD_ECORRUPT)
                return had;
        }
    }
    return jobd_store_meta_put (self->store, key, size, msg->number);
}

int
jobd_store_cl_entry_put (jobd_store_t *self, const jobd_cl_msg_t *msg, bool *changed_p)
{
    *changed_p = false;
    uint8_t bytes[JOBD_ID_MAX + 9];
    MDB_val key = jobd_store_val (bytes, s_history_key (bytes, msg->job, msg->seq)), value;
    int rc = mdb_get (self->txn, self->history, &key, &value);
    if (rc == 0 && value.mv_size == msg->size && memcmp (value.mv_data, msg->bytes, msg->size) == 0)
        return 0;
    if (rc && rc != MDB_NOTFOUND)
        return jobd_store_mdb_error (rc);
    value = jobd_store_val (msg->bytes, msg->size);
    self->writes++;
    *changed_p = true;
    return jobd_store_mdb_error (mdb_put (self->txn, self->history, &key, &value, 0));
}

//  Step 2: a history entry, put under its key (unless it is there already, byte for byte).
static int
s_apply_entry (s_apply_t *self, const jobd_cl_msg_t *msg)
{
    bool changed = false;
    int rc = jobd_store_cl_entry_put (self->store, msg, &changed);
    self->applied->applied += changed;
    return rc;
}

int
jobd_store_cl_tail_delete (jobd_store_t *self, const char *job, uint64_t seq)
{
    uint8_t bytes[JOBD_ID_MAX + 9];
    size_t size = s_history_key (bytes, job, seq + 1), prefix = strlen (job) + 1;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (self->txn, self->history, &cursor);
    if (rc)
        return jobd_store_mdb_error (rc);
    MDB_val key = jobd_store_val (bytes, size), value;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == size && memcmp (key.mv_data, bytes, prefix) == 0) {
        self->writes++;
        rc = mdb_cursor_del (cursor, 0);
        if (rc == 0)
            rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
}

//  Whether the job's timers in the open batch are exactly the message's.
static bool
s_timers_equal (jobd_store_t *self, uint16_t partition, const jobd_cl_msg_t *msg)
{
    MDB_cursor *cursor;
    if (mdb_cursor_open (self->txn, self->timers_by_job, &cursor))
        return false;
    size_t prefix = strlen (msg->job) + 1, found = 0;
    MDB_val key = jobd_store_val (msg->job, prefix), due;
    uint8_t start[JOBD_ID_MAX + 1];
    memcpy (start, msg->job, prefix); //  the id and its NUL: the first key of the job's timers
    key.mv_data = start;
    int rc = mdb_cursor_get (cursor, &key, &due, MDB_SET_RANGE);
    bool equal = true;
    while (equal && rc == 0 && key.mv_size > prefix && memcmp (key.mv_data, start, prefix) == 0) {
        const char *name = (const char *)key.mv_data + prefix;
        size_t name_size = key.mv_size - prefix;
        const jobd_cl_timer_t *timer = NULL;
        for (size_t index = 0; index < msg->timer_count && !timer; index++)
            if (strlen (msg->timers[index].name) == name_size &&
                memcmp (msg->timers[index].name, name, name_size) == 0)
                timer = &msg->timers[index];
        equal = timer && due.mv_size == 10 &&
                jobd_store_get_be ((const uint8_t *)due.mv_data, 2) == partition &&
                (int64_t)jobd_store_get_be ((const uint8_t *)due.mv_data + 2, 8) == timer->due;
        if (equal) {
            //  The value: under the timers key (partition, due, job, 0, name).
            uint8_t bytes[JOBD_STORE_TIMER_KEY_MAX];
            memcpy (bytes, due.mv_data, 10);
            memcpy (bytes + 10, key.mv_data, key.mv_size);
            MDB_val timer_key = jobd_store_val (bytes, 10 + key.mv_size), value;
            equal = mdb_get (self->txn, self->timers, &timer_key, &value) == 0 &&
                    value.mv_size == timer->value_size &&
                    memcmp (value.mv_data, timer->value, timer->value_size) == 0;
            found++;
        }
        rc = mdb_cursor_get (cursor, &key, &due, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    return equal && found == msg->timer_count;
}

//  Publishes the job's transitions after seq `from` up to `to`: the local transition log (and
//  cl_plog), and applied.
static int
s_publish (s_apply_t *self, const char *job, uint64_t from, uint64_t to, uint64_t offset)
{
    jobd_store_t *store = self->store;
    jobd_store_cl_applied_t *applied = self->applied;
    for (uint64_t seq = from + 1; seq <= to; seq++) {
        uint8_t bytes[JOBD_ID_MAX + 9];
        size_t size = s_history_key (bytes, job, seq);
        MDB_val key = jobd_store_val (bytes, size), value;
        int rc = mdb_get (store->txn, store->history, &key, &value);
        if (rc == MDB_NOTFOUND) {
            applied->missing++;
            continue;
        }
        if (rc)
            return jobd_store_mdb_error (rc);
        jobd_event_t *event = NULL;
        if (jobd_event_decode (value.mv_data, value.mv_size, &event, NULL, 0)) {
            applied->missing++; //  the decoder let only transitions in: damage since
            continue;
        }
        jobd_transition_t transition = {
            .from = event->from, .to = event->state, .seq = seq, .size = value.mv_size};
        jobd_event_destroy (&event);
        if (applied->transition_count == applied->transition_alloc) {
            size_t alloc = applied->transition_alloc ? applied->transition_alloc * 2 : 16;
            jobd_transition_t *grown = (jobd_transition_t *)realloc (
                applied->transitions, alloc * sizeof (jobd_transition_t));
            if (grown)
                applied->transitions = grown;
            char (*jobs)[JOBD_ID_MAX + 1] =
                grown ? (char (*)[JOBD_ID_MAX + 1]) realloc (applied->jobs, alloc * sizeof *jobs)
                      : NULL;
            if (!jobs)
                return -ENOMEM;
            applied->jobs = jobs;
            applied->transition_alloc = alloc;
        }
        transition.data = (uint8_t *)malloc (value.mv_size);
        if (!transition.data)
            return -ENOMEM;
        memcpy (transition.data, value.mv_data, value.mv_size);
        snprintf (applied->jobs[applied->transition_count], sizeof applied->jobs[0], "%s", job);
        applied->transitions[applied->transition_count++] = transition;
        rc = jobd_store_log_append (store, bytes, size);
        //  cl_plog, whether or not a reader has a cursor yet: a store restored from the
        //  changelog meets a reader's cursor only after the transitions it had not passed.
        if (rc == 0) {
            //  (be16 partition, be64 offset of the record, be64 seq): the partition's log in
            //  changelog order.
            uint8_t plog[18];
            jobd_store_put_be (plog, 2, self->partition);
            jobd_store_put_be (plog + 2, 8, offset);
            jobd_store_put_be (plog + 10, 8, seq);
            MDB_val plog_key = jobd_store_val (plog, sizeof plog);
            MDB_val history_key = jobd_store_val (bytes, size);
            store->writes++;
            rc = jobd_store_mdb_error (
                mdb_put (store->txn, store->cl_plog, &plog_key, &history_key, 0));
        }
        if (rc)
            return rc;
    }
    return 0;
}

//  Whether a and b pack to the same bytes.
static bool
s_same_record (jobd_store_t *self, const jobd_job_t *a, const jobd_job_t *b)
{
    msgpack_sbuffer other;
    msgpack_sbuffer_init (&other);
    self->scratch.size = 0;
    bool same = jobd_job_pack_to (a, &self->scratch) == 0 && jobd_job_pack_to (b, &other) == 0 &&
                self->scratch.size == other.size &&
                memcmp (self->scratch.data, other.data, other.size) == 0;
    msgpack_sbuffer_destroy (&other);
    return same;
}

int
jobd_store_cl_take (jobd_store_t *self, uint16_t partition, const jobd_job_t *local,
                    const jobd_cl_msg_t *msg, bool *changed_p)
{
    const jobd_job_t *record = msg->record;
    jobd_job_t *copy = jobd_job_dup (record);
    if (!copy)
        return -ENOMEM;
    copy->cl_epoch = msg->epoch;
    int rc = 0;
    bool changed = !local || !s_same_record (self, local, copy);
    if (changed)
        rc = jobd_store_batch_replace (self, &copy);
    else
        jobd_job_destroy (&copy);
    //  History past the record's last_seq goes, whether or not the record changed (a restore
    //  from a compacted changelog reads a zombie's entries no claim fences any more).
    if (rc == 0)
        rc = jobd_store_cl_tail_delete (self, msg->job, record->last_seq);
    if (rc == 0 && !s_timers_equal (self, partition, msg)) {
        changed = true;
        rc = jobd_store_timers_clear (self, msg->job, NULL);
        for (size_t index = 0; rc == 0 && index < msg->timer_count; index++) {
            const jobd_cl_timer_t *timer = &msg->timers[index];
            rc = jobd_store_timer_put (self, partition, msg->job, timer->name, timer->due,
                                       timer->value, timer->value_size);
        }
    }
    *changed_p = changed;
    return rc;
}

//  Step 3: a job record.
static int
s_apply_record (s_apply_t *self, const jobd_cl_msg_t *msg, uint64_t offset)
{
    jobd_store_t *store = self->store;
    jobd_job_t *local = NULL;
    int rc = jobd_store_batch_get (store, msg->job, &local);
    if (rc && rc != JOBD_ENOTFOUND)
        return rc;
    jobd_store_pending_t pending;
    rc = jobd_store_cl_pending_get (store, store->txn, msg->job, &pending);
    if (rc)
        return rc;
    const jobd_job_t *record = msg->record;
    uint64_t local_epoch = local ? local->cl_epoch : 0, local_seq = local ? local->last_seq : 0;
    //  What this instance published of the job: what the changelog confirmed. A job with no
    //  unconfirmed write of this instance's is as the changelog had it.
    uint64_t published = pending.exists ? pending.published : local_seq;
    bool below =
        msg->epoch < local_epoch || (msg->epoch == local_epoch && record->last_seq < local_seq);
    if (below) {
        //  This instance's own write coming back while it is ahead (later commits in flight):
        //  what it confirms is published now.
        if (pending.exists && msg->epoch == pending.epoch && record->last_seq > published) {
            rc = s_publish (self, msg->job, published, record->last_seq, offset);
            if (rc == 0)
                rc = s_pending_put (store, msg->job, pending.epoch, record->last_seq);
            return rc;
        }
        self->applied->older++;
        return 0;
    }
    bool changed = false;
    rc = jobd_store_cl_take (store, self->partition, local, msg, &changed);
    if (rc == 0 && record->last_seq > published)
        rc = s_publish (self, msg->job, published, record->last_seq, offset);
    //  The changelog and this store agree on the job now: nothing of it is unconfirmed.
    if (rc == 0 && pending.exists) {
        MDB_val key = jobd_store_val (msg->job, strlen (msg->job));
        store->writes++;
        rc = mdb_del (store->txn, store->cl_pending, &key, NULL);
        rc = rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
    }
    if (changed)
        self->applied->applied++;
    return rc;
}

//  A job the changelog has no valid record of (the owner's repair of a fenced one): a version
//  of it here was this instance's own write, never confirmed; it goes as the settle removes one,
//  and so do history entries of it (a restore from a compacted changelog reads the fenced ones).
static int
s_apply_gone (s_apply_t *self, const jobd_cl_msg_t *msg)
{
    jobd_store_t *store = self->store;
    //  This instance's own write of the job at that epoch or a later one (the owner made the job
    //  again after it said gone): it is newer; its record comes after.
    jobd_store_pending_t pending;
    int rc = jobd_store_cl_pending_get (store, store->txn, msg->job, &pending);
    if (rc || (pending.exists && pending.epoch >= msg->epoch))
        return rc;
    jobd_job_t *local = NULL;
    rc = jobd_store_batch_get (store, msg->job, &local);
    bool had = rc == 0;
    if (rc == JOBD_ENOTFOUND)
        rc = 0;
    if (rc == 0)
        rc = jobd_store_cl_tail_delete (store, msg->job, 0);
    if (rc == 0)
        rc = jobd_store_timers_clear (store, msg->job, NULL);
    if (rc == 0 && had)
        rc = jobd_store_batch_remove (store, msg->job);
    if (rc == 0) {
        MDB_val key = jobd_store_val (msg->job, strlen (msg->job));
        store->writes++;
        rc = mdb_del (store->txn, store->cl_pending, &key, NULL);
        rc = rc == MDB_NOTFOUND ? 0 : jobd_store_mdb_error (rc);
    }
    if (rc == 0)
        self->applied->applied++;
    return rc;
}

int
jobd_store_cl_apply (jobd_store_t *self, uint16_t partition, const jobd_store_cl_input_t *inputs,
                     size_t count, jobd_store_cl_applied_t *applied)
{
    memset (applied, 0, sizeof *applied);
    applied->partition = partition;
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    if (!self->has_cluster || !self->has_timers)
        return JOBD_ESTORE;
    for (size_t index = 0; index < count; index++) {
        const jobd_cl_msg_t *msg = inputs[index].msg;
        //  Decoded messages only: a record's decoding, a name's limits, a partition's order.
        if (!msg || (msg->kind == JOBD_CL_REC && !msg->record) ||
            (index && inputs[index].offset <= inputs[index - 1].offset))
            return JOBD_EPROTO;
    }
    s_apply_t apply = {.store = self, .partition = partition, .applied = applied};
    char key[64];
    size_t key_size = s_meta_key (key, sizeof key, "claim_epoch", partition);
    int rc = s_meta_get_u64 (self, self->txn, key, key_size, &apply.claim_epoch);
    uint64_t repairs = 0;
    if (rc == 0)
        rc = jobd_store_repair_count (self, self->txn, partition, &repairs);
    applied->repairs = repairs;
    unsigned writes = self->writes;
    for (size_t index = 0; rc == 0 && index < count; index++) {
        const jobd_cl_msg_t *msg = inputs[index].msg;
        //  Step 1: fenced. Log order makes it the same decision on every instance. Its key's
        //  last value in the changelog is not valid now: marked for the owner to write again.
        if (msg->epoch < apply.claim_epoch) {
            applied->fenced++;
            bool marked = false;
            rc = jobd_store_repair_fenced (self, partition, msg, &applied->repairs, &marked);
            applied->marked += marked;
            continue;
        }
        if (applied->repairs)
            rc = jobd_store_repair_valid (self, partition, msg, &applied->repairs);
        if (rc)
            break;
        if (msg->kind == JOBD_CL_REC)
            rc = s_apply_record (&apply, msg, inputs[index].offset);
        else if (msg->kind == JOBD_CL_EV)
            rc = s_apply_entry (&apply, msg);
        else if (msg->kind == JOBD_CL_GONE)
            rc = s_apply_gone (&apply, msg);
        else
            rc = s_apply_meta (&apply, msg, inputs[index].offset);
    }
    if (rc == 0 && applied->repairs != repairs)
        rc = jobd_store_repair_count_put (self, partition, applied->repairs);
    //  Step 5: where the next read of the partition starts, in the same commit.
    if (rc == 0 && apply.claim_dirty) {
        key_size = s_meta_key (key, sizeof key, "claim_epoch", partition);
        rc = jobd_store_meta_put (self, key, key_size, apply.claim_epoch);
    }
    if (rc == 0 && count) {
        key_size = s_meta_key (key, sizeof key, "cl_next", partition);
        rc = jobd_store_meta_put (self, key, key_size, inputs[count - 1].offset + 1);
    }
    if (rc == 0 && count)
        rc = jobd_store_plog_prune (self, partition, inputs[count - 1].offset + 1);
    if (rc) {
        if (self->writes != writes || rc != JOBD_ECORRUPT)
            self->failed = rc;
        jobd_store_cl_applied_clear (applied);
    }
    return jobd_store_damaged (self, rc, "applying changelog partition %u", (unsigned)partition);
}

//  ---------------------------------------------------------------------------------------------
//  The messages of what a batch changed.

typedef struct {
    const char *inst;
    const uint64_t *epochs;
    size_t partitions;
    jobd_store_cl_outbox_t *outbox;
    //  Encoding buffers, kept from message to message: each message gets exactly its bytes
    //  (a buffer of its own kept msgpack's 8 KiB start for some 300 bytes: bench_cluster saw a
    //  commit of 5,000 messages hold 80 MiB).
    msgpack_sbuffer key;
    msgpack_sbuffer value;
    bool skip_missing; //  a history entry not in the store is passed over (the repair's)
} s_record_t;

static void
s_record_init (s_record_t *self)
{
    msgpack_sbuffer_init (&self->key);
    msgpack_sbuffer_init (&self->value);
}

static void
s_record_fini (s_record_t *self)
{
    msgpack_sbuffer_destroy (&self->key);
    msgpack_sbuffer_destroy (&self->value);
}

void
jobd_store_cl_outbox_clear (jobd_store_cl_outbox_t *outbox)
{
    if (!outbox)
        return;
    for (size_t index = 0; index < outbox->count; index++) {
        free (outbox->messages[index].key);
        free (outbox->messages[index].value);
    }
    free (outbox->messages);
    memset (outbox, 0, sizeof *outbox);
}

//  Encodes msg and appends it to the outbox.
static int
s_out (s_record_t *self, uint16_t partition, const jobd_cl_msg_t *msg)
{
    jobd_store_cl_outbox_t *outbox = self->outbox;
    if (outbox->count == outbox->alloc) {
        size_t alloc = outbox->alloc ? outbox->alloc * 2 : 16;
        jobd_store_cl_out_t *grown =
            (jobd_store_cl_out_t *)realloc (outbox->messages, alloc * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        outbox->messages = grown;
        outbox->alloc = alloc;
    }
    msgpack_sbuffer_clear (&self->key);
    msgpack_sbuffer_clear (&self->value);
    int rc = jobd_cl_msg_encode (msg, &self->key, &self->value);
    if (rc)
        return rc;
    uint8_t *key = (uint8_t *)malloc (self->key.size + 1);
    uint8_t *value = (uint8_t *)malloc (self->value.size + 1);
    if (!key || !value) {
        free (key);
        free (value);
        return -ENOMEM;
    }
    memcpy (key, self->key.data, self->key.size);
    memcpy (value, self->value.data, self->value.size);
    jobd_store_cl_out_t *out = &outbox->messages[outbox->count++];
    *out = (jobd_store_cl_out_t){.partition = partition,
                                 .key = key,
                                 .key_size = self->key.size,
                                 .value = value,
                                 .value_size = self->value.size};
    return 0;
}

//  Reads the job's timers (the open batch's) into msg; their values borrow from the map.
static int
s_timers_read (jobd_store_t *self, const char *job, jobd_cl_msg_t *msg)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (self->txn, self->timers_by_job, &cursor);
    if (rc)
        return jobd_store_mdb_error (rc);
    size_t prefix = strlen (job) + 1;
    uint8_t start[JOBD_ID_MAX + 1];
    memcpy (start, job, prefix);
    MDB_val key = jobd_store_val (start, prefix), due;
    rc = mdb_cursor_get (cursor, &key, &due, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size > prefix && memcmp (key.mv_data, start, prefix) == 0) {
        size_t name_size = key.mv_size - prefix;
        if (msg->timer_count == JOBD_CL_TIMERS_MAX || due.mv_size != 10 ||
            name_size > JOBD_STORE_TIMER_NAME_MAX) {
            rc = JOBD_ECORRUPT;
            break;
        }
        jobd_cl_timer_t *timer = &msg->timers[msg->timer_count];
        memcpy (timer->name, (const char *)key.mv_data + prefix, name_size);
        timer->name[name_size] = 0;
        timer->due = (int64_t)jobd_store_get_be ((const uint8_t *)due.mv_data + 2, 8);
        uint8_t bytes[JOBD_STORE_TIMER_KEY_MAX];
        memcpy (bytes, due.mv_data, 10);
        memcpy (bytes + 10, key.mv_data, key.mv_size);
        MDB_val timer_key = jobd_store_val (bytes, 10 + key.mv_size), value;
        rc = mdb_get (self->txn, self->timers, &timer_key, &value);
        if (rc == 0) {
            timer->value = (const uint8_t *)value.mv_data;
            timer->value_size = value.mv_size;
            msg->timer_count++;
            rc = mdb_cursor_get (cursor, &key, &due, MDB_NEXT);
        }
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND ? 0 : rc == JOBD_ECORRUPT ? rc : jobd_store_mdb_error (rc);
}

//  Appends the job's history entries after seq `from`, then its record (as job holds it) and
//  timers, written with epoch, to the outbox.
static int
s_record_out (jobd_store_t *self, s_record_t *record, uint16_t partition, const jobd_job_t *job,
              uint64_t from, uint64_t epoch)
{
    jobd_cl_msg_t msg = {.epoch = epoch};
    snprintf (msg.inst, sizeof msg.inst, "%s", record->inst);
    snprintf (msg.job, sizeof msg.job, "%s", job->id);
    int rc = 0;
    //  Its new history entries first: the record that counts them comes after them.
    for (uint64_t seq = from + 1; rc == 0 && seq <= job->last_seq; seq++) {
        uint8_t bytes[JOBD_ID_MAX + 9];
        MDB_val key = jobd_store_val (bytes, s_history_key (bytes, job->id, seq)), value;
        int got = mdb_get (self->txn, self->history, &key, &value);
        if (got == MDB_NOTFOUND && record->skip_missing)
            continue;
        rc = jobd_store_mdb_error (got);
        msg.kind = JOBD_CL_EV;
        msg.seq = seq;
        msg.bytes = (const uint8_t *)value.mv_data;
        msg.size = value.mv_size;
        if (rc == 0)
            rc = s_out (record, partition, &msg);
    }
    self->scratch.size = 0;
    if (rc == 0 &&
        (jobd_job_pack_to (job, &self->scratch) || jobd_store_sum_append (&self->scratch)))
        rc = -ENOMEM;
    msg.kind = JOBD_CL_REC;
    msg.bytes = (const uint8_t *)self->scratch.data;
    msg.size = self->scratch.size;
    if (rc == 0)
        rc = s_timers_read (self, job->id, &msg);
    if (rc == 0)
        rc = s_out (record, partition, &msg);
    return rc;
}

static int
s_record_job (jobd_store_t *self, jobd_job_t *job, uint64_t stored_seq, void *arg)
{
    s_record_t *record = (s_record_t *)arg;
    uint16_t partition = jobd_store_partition (self, job->id);
    if (partition >= record->partitions)
        return JOBD_EINVAL;
    uint64_t epoch = record->epochs[partition];
    jobd_store_pending_t pending;
    int rc = jobd_store_cl_pending_get (self, self->txn, job->id, &pending);
    job->cl_epoch = epoch; //  the batch's copy: the local record says whose write it is
    if (rc == 0)
        rc = s_record_out (self, record, partition, job, stored_seq, epoch);
    //  Unconfirmed until the record comes back: what was published of it stays what it was.
    if (rc == 0)
        rc = s_pending_put (self, job->id, epoch, pending.exists ? pending.published : stored_seq);
    return rc;
}

int
jobd_store_cl_pending_each (jobd_store_t *self, MDB_txn *txn, jobd_store_pending_fn *fn, void *arg)
{
    MDB_cursor *cursor = NULL;
    int rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->cl_pending, &cursor));
    MDB_val key, value;
    int found = rc ? MDB_NOTFOUND : mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    for (; rc == 0 && found == 0; found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        char id[JOBD_ID_MAX + 1];
        if (key.mv_size == 0 || key.mv_size > JOBD_ID_MAX || value.mv_size != 16) {
            rc = JOBD_ECORRUPT;
            break;
        }
        memcpy (id, key.mv_data, key.mv_size);
        id[key.mv_size] = 0;
        jobd_store_pending_t pending = {
            .exists = true,
            .epoch = jobd_store_get_be ((const uint8_t *)value.mv_data, 8),
            .published = jobd_store_get_be ((const uint8_t *)value.mv_data + 8, 8)};
        rc = fn (self, id, &pending, arg);
    }
    if (rc == 0 && found != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (found);
    if (cursor)
        mdb_cursor_close (cursor);
    return rc;
}

typedef struct {
    s_record_t record;
    const uint64_t *epochs;
    int only;
    uint64_t min_epoch;
    size_t jobs;
    char (*ids)[JOBD_ID_MAX + 1]; //  the jobs sent, whose cl_pending takes the new epoch
    uint64_t *published;
    size_t alloc;
} s_resend_t;

static int
s_resend_job (jobd_store_t *self, const char *id, const jobd_store_pending_t *pending, void *arg)
{
    s_resend_t *resend = (s_resend_t *)arg;
    uint16_t partition = jobd_store_partition (self, id);
    if (partition >= resend->record.partitions)
        return JOBD_EINVAL;
    if ((resend->only >= 0 && partition != resend->only) || pending->epoch < resend->min_epoch)
        return 0;
    if (resend->jobs == resend->alloc) {
        size_t alloc = resend->alloc ? 2 * resend->alloc : 16;
        char (*ids)[JOBD_ID_MAX + 1] =
            (char (*)[JOBD_ID_MAX + 1]) realloc (resend->ids, alloc * sizeof *ids);
        if (ids)
            resend->ids = ids;
        uint64_t *published =
            ids ? (uint64_t *)realloc (resend->published, alloc * sizeof (uint64_t)) : NULL;
        if (!published)
            return -ENOMEM;
        resend->published = published;
        resend->alloc = alloc;
    }
    jobd_job_t *job = NULL;
    int rc = jobd_store_batch_get (self, id, &job);
    if (rc == 0)
        rc = s_record_out (self, &resend->record, partition, job, pending->published,
                           resend->epochs ? resend->epochs[partition] : pending->epoch);
    if (rc == 0) {
        snprintf (resend->ids[resend->jobs], sizeof resend->ids[0], "%s", id);
        resend->published[resend->jobs++] = pending->published;
    }
    return rc;
}

int
jobd_store_cl_resend (jobd_store_t *self, const char *inst, const uint64_t *epochs,
                      size_t partitions, int only, uint64_t min_epoch,
                      jobd_store_cl_outbox_t *outbox, size_t *jobs_p)
{
    *jobs_p = 0;
    if (!self->txn)
        return JOBD_ESTORE;
    if (!self->has_cluster || !inst || !*inst || strlen (inst) > JOBD_CL_INST_MAX)
        return JOBD_EINVAL;
    s_resend_t resend = {.record = {.inst = inst, .partitions = partitions, .outbox = outbox},
                         .epochs = epochs,
                         .only = only,
                         .min_epoch = min_epoch};
    s_record_init (&resend.record);
    int rc = jobd_store_cl_pending_each (self, self->txn, s_resend_job, &resend);
    //  Produced again with epochs: what cl_pending says they were last written with (a later
    //  claim of this instance's own then fences none of them: jobd_store_cl_dead).
    for (size_t index = 0; rc == 0 && epochs && index < resend.jobs; index++) {
        uint16_t partition = jobd_store_partition (self, resend.ids[index]);
        rc = s_pending_put (self, resend.ids[index], epochs[partition], resend.published[index]);
    }
    *jobs_p = rc ? 0 : resend.jobs;
    free (resend.ids);
    free (resend.published);
    s_record_fini (&resend.record);
    return jobd_store_damaged (self, rc, "re-sending unconfirmed writes to the changelog");
}

int
jobd_store_cl_lost (jobd_store_t *self, uint16_t partition, const jobd_cl_msg_t *msg,
                    uint64_t min_epoch, bool *marked_p)
{
    *marked_p = false;
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    if (!self->has_cluster || !msg)
        return JOBD_EINVAL;
    jobd_store_pending_t pending = {0};
    int rc = jobd_cl_msg_of_job (msg->kind)
                 ? jobd_store_cl_pending_get (self, self->txn, msg->job, &pending)
                 : 0;
    //  The resend sends the job's record, and its history entries past `published`.
    if (rc == 0 && pending.exists && pending.epoch >= min_epoch &&
        (msg->kind != JOBD_CL_EV || pending.published < msg->seq))
        return 0;
    uint64_t count = 0;
    if (rc == 0)
        rc = jobd_store_repair_count (self, self->txn, partition, &count);
    uint64_t before = count;
    if (rc == 0)
        rc = jobd_store_repair_fenced (self, partition, msg, &count, marked_p);
    if (rc == 0 && count != before)
        rc = jobd_store_repair_count_put (self, partition, count);
    return jobd_store_damaged (self, rc, "marking a refused changelog message of partition %u",
                               (unsigned)partition);
}

typedef struct {
    s_record_t record;
    uint16_t partition;
    uint64_t epoch;
    size_t repaired; //  keys written again
} s_repair_t;

//  One mark: the key's valid value, as this owner holds it, to the outbox (a mark whose key has
//  no valid value here goes: nothing valid was ever written under it).
static int
s_repair_one (jobd_store_t *self, char kind, const uint8_t *key, size_t size, uint64_t from,
              void *arg)
{
    s_repair_t *repair = (s_repair_t *)arg;
    jobd_cl_msg_t msg = {.epoch = repair->epoch};
    snprintf (msg.inst, sizeof msg.inst, "%s", repair->record.inst);
    if (kind == 'j') {
        if (size == 0 || size > JOBD_ID_MAX)
            return JOBD_ECORRUPT;
        memcpy (msg.job, key, size);
        msg.job[size] = 0;
        jobd_job_t *job = NULL;
        int rc = jobd_store_batch_get (self, msg.job, &job);
        if (rc && rc != JOBD_ENOTFOUND)
            return rc;
        repair->repaired++;
        if (rc == JOBD_ENOTFOUND) {
            msg.kind = JOBD_CL_GONE;
            return s_out (&repair->record, repair->partition, &msg);
        }
        //  The history entries from the lowest one marked, then the record and its timers.
        uint64_t after = from > 0 && from <= job->last_seq ? from - 1 : job->last_seq;
        rc = s_record_out (self, &repair->record, repair->partition, job, after, repair->epoch);
        //  This store lacks that entry (it never came: `missing`): the read-back of its other
        //  entries would never clear the mark; the record's does once the mark says it alone.
        if (rc == 0 && after < job->last_seq) {
            uint8_t bytes[JOBD_ID_MAX + 9];
            MDB_val entry = jobd_store_val (bytes, s_history_key (bytes, job->id, from)), value;
            int got = mdb_get (self->txn, self->history, &entry, &value);
            if (got == MDB_NOTFOUND)
                return JOBD_STORE_REPAIR_RECORD;
            rc = jobd_store_mdb_error (got);
        }
        return rc;
    }
    //  A partition record: "\0owner", "\0in", "\0stream/NAME", "\0cursor/NAME".
    char meta[JOBD_CL_NAME_MAX + 64];
    size_t meta_size = 0;
    const char *name = size > 1 ? (const char *)key + 1 : "";
    size_t name_size = size > 1 ? size - 1 : 0;
    bool found = true;
    uint64_t value = 0;
    if (kind == 'm' && name_size == 5 && memcmp (name, "owner", 5) == 0) {
        msg.kind = JOBD_CL_OWNER; //  this owner's claim, again
        msg.claim = true;
        snprintf (msg.name, sizeof msg.name, "%s", repair->record.inst);
    } else if (kind == 'm' && name_size == 2 && memcmp (name, "in", 2) == 0) {
        msg.kind = JOBD_CL_IN;
        meta_size = s_meta_key (meta, sizeof meta, "in", repair->partition);
    } else if (kind == 'm' && name_size > 7 && name_size - 7 <= JOBD_CL_NAME_MAX &&
               (memcmp (name, "stream/", 7) == 0 || memcmp (name, "cursor/", 7) == 0)) {
        bool stream = name[0] == 's';
        msg.kind = stream ? JOBD_CL_STREAM : JOBD_CL_CURSOR;
        memcpy (msg.name, name + 7, name_size - 7);
        msg.name[name_size - 7] = 0;
        int printed = stream ? snprintf (meta, sizeof meta, "stream/%u/%s",
                                         (unsigned)repair->partition, msg.name)
                             : snprintf (meta, sizeof meta, "cl_cursor/%s/%u", msg.name,
                                         (unsigned)repair->partition);
        meta_size = printed > 0 && (size_t)printed < sizeof meta ? (size_t)printed : 0;
    } else
        return JOBD_ECORRUPT;
    if (meta_size) {
        MDB_val k = jobd_store_val (meta, meta_size), v;
        int rc = mdb_get (self->txn, self->meta, &k, &v);
        found = rc == 0;
        if (rc && rc != MDB_NOTFOUND)
            return jobd_store_mdb_error (rc);
        if (found && v.mv_size != 8)
            return JOBD_ECORRUPT;
        if (found)
            value = jobd_store_get_be ((const uint8_t *)v.mv_data, 8);
        msg.number = value;
    }
    if (!found)
        return JOBD_STORE_REPAIR_DROP; //  nothing valid was written under it
    repair->repaired++;
    return s_out (&repair->record, repair->partition, &msg);
}

int
jobd_store_cl_repair (jobd_store_t *self, const char *inst, uint16_t partition, uint64_t epoch,
                      jobd_store_cl_outbox_t *outbox, size_t *keys_p)
{
    *keys_p = 0;
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    if (!self->has_cluster || !inst || !*inst || strlen (inst) > JOBD_CL_INST_MAX || !epoch)
        return JOBD_EINVAL;
    s_repair_t repair = {.record = {.inst = inst, .outbox = outbox, .skip_missing = true},
                         .partition = partition,
                         .epoch = epoch};
    s_record_init (&repair.record);
    uint64_t count = 0, dropped = 0;
    int rc = jobd_store_repair_count (self, self->txn, partition, &count);
    if (rc == 0 && count)
        rc = jobd_store_repair_each (self, self->txn, partition, s_repair_one, &repair, &dropped);
    if (rc == 0 && dropped)
        rc = jobd_store_repair_count_put (self, partition, count > dropped ? count - dropped : 0);
    *keys_p = rc ? 0 : repair.repaired;
    s_record_fini (&repair.record);
    return jobd_store_damaged (self, rc, "writing fenced keys of partition %u again",
                               (unsigned)partition);
}

int
jobd_store_cl_record (jobd_store_t *self, const char *inst, const uint64_t *epochs,
                      size_t partitions, jobd_store_cl_outbox_t *outbox)
{
    if (!self->txn)
        return JOBD_ESTORE;
    if (self->failed)
        return self->failed;
    if (!self->has_cluster || !inst || !*inst || strlen (inst) > JOBD_CL_INST_MAX)
        return JOBD_EINVAL;
    s_record_t record = {
        .inst = inst, .epochs = epochs, .partitions = partitions, .outbox = outbox};
    s_record_init (&record);
    int rc = jobd_store_batch_each (self, s_record_job, &record);
    s_record_fini (&record);
    if (rc)
        self->failed = rc;
    return jobd_store_damaged (self, rc, "recording a batch for the changelog");
}

int
jobd_store_cl_meta (jobd_store_t *self, const char *name, uint16_t partition, uint64_t *value_p)
{
    *value_p = 0;
    char key[128];
    size_t size = s_meta_key (key, sizeof key, name, partition);
    if (size == 0)
        return JOBD_EINVAL;
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    rc = s_meta_get_u64 (self, txn, key, size, value_p);
    jobd_store_read_end (self, txn);
    return rc;
}

int
jobd_store_cl_pending (jobd_store_t *self, const char *id, uint64_t *epoch_p, uint64_t *published_p)
{
    *epoch_p = *published_p = 0;
    if (!self->has_cluster)
        return JOBD_ENOTFOUND;
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    jobd_store_pending_t pending;
    rc = jobd_store_cl_pending_get (self, txn, id, &pending);
    jobd_store_read_end (self, txn);
    if (rc == 0 && !pending.exists)
        rc = JOBD_ENOTFOUND;
    *epoch_p = pending.epoch;
    *published_p = pending.published;
    return rc;
}

int
jobd_store_cl_bound (jobd_store_t *self, char *cluster, size_t size)
{
    cluster[0] = 0;
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_val key = jobd_store_val ("cluster", 7), value;
    rc = mdb_get (txn, self->meta, &key, &value);
    if (rc == 0)
        snprintf (cluster, size, "%.*s", (int)(value.mv_size < size ? value.mv_size : size - 1),
                  (const char *)value.mv_data);
    jobd_store_read_end (self, txn);
    return rc == MDB_NOTFOUND ? JOBD_ENOTFOUND : jobd_store_mdb_error (rc);
}

int
jobd_store_cl_bind (jobd_store_t *self, const char *cluster, char *reason, size_t reason_size)
{
    if (!self->has_cluster)
        return JOBD_ESTORE;
    char bound[JOBD_CL_NAME_MAX + 1];
    int rc = jobd_store_cl_bound (self, bound, sizeof bound);
    if (rc == 0 && strcmp (bound, cluster) == 0)
        return 0;
    if (rc == 0) {
        snprintf (reason, reason_size,
                  "store %s belongs to cluster %s, not %s: each cluster's instances keep stores "
                  "of their own",
                  self->path, bound, cluster);
        return JOBD_ECONFIG;
    }
    if (rc != JOBD_ENOTFOUND)
        return rc;
    rc = jobd_store_begin (self);
    MDB_stat stat = {0};
    if (rc == 0)
        rc = jobd_store_mdb_error (mdb_stat (self->txn, self->jobs, &stat));
    if (rc == 0 && stat.ms_entries) {
        jobd_store_abort (self);
        snprintf (reason, reason_size,
                  "store %s holds %zu job%s of a single jobd: an instance of cluster %s starts "
                  "with a store of its own, empty, and restores every job from the changelog",
                  self->path, (size_t)stat.ms_entries, stat.ms_entries == 1 ? "" : "s", cluster);
        return JOBD_ECONFIG;
    }
    if (rc == 0)
        rc = s_meta_put (self, "cluster", 7, cluster, strlen (cluster));
    if (rc == 0)
        rc = jobd_store_commit (self);
    else
        jobd_store_abort (self);
    return rc;
}

int
jobd_store_cl_owner (jobd_store_t *self, uint16_t partition, bool *claim_p, uint64_t *epoch_p,
                     char *inst, size_t inst_size)
{
    *claim_p = false;
    *epoch_p = 0;
    if (inst_size)
        inst[0] = 0;
    char key[64];
    size_t key_size = s_meta_key (key, sizeof key, "owner", partition);
    MDB_txn *txn;
    int rc = jobd_store_read_begin (self, &txn);
    if (rc)
        return rc;
    MDB_val k = jobd_store_val (key, key_size), v;
    rc = mdb_get (txn, self->meta, &k, &v);
    const uint8_t *value = (const uint8_t *)v.mv_data;
    if (rc == 0 && (v.mv_size < 9 || (value[0] != 'c' && value[0] != 'r')))
        rc = JOBD_ECORRUPT;
    else if (rc == 0) {
        *claim_p = value[0] == 'c';
        *epoch_p = jobd_store_get_be (value + 1, 8);
        if (inst_size)
            snprintf (inst, inst_size, "%.*s", (int)(v.mv_size - 9), (const char *)value + 9);
    } else
        rc = rc == MDB_NOTFOUND ? JOBD_ENOTFOUND : jobd_store_mdb_error (rc);
    jobd_store_read_end (self, txn);
    return rc;
}
