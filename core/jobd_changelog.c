//  Cluster mode on the broker's thread (see jobd_changelog.h and docs/cluster.md, section 5).
#include "jobd_changelog.h"
#include "jobd_error.h"
#include "jobd_log.h"
#include "jobd_lost.h"
#include "jobd_map.h"
#include "jobd_replica.h"
#include "jobd_route.h"
#include "jobd_settle.h"
#include "jobd_store_cl.h"
#include <czmq.h>
#include <string.h>

#define LOG "changelog"

#define S_READ_MAX        2000   //  messages per replica apply commit (docs/cluster.md, "Restore")
#define S_FULL_RETRIES    16     //  an apply the map could not hold, tried again as it grows
#define S_RETRY_MS        1000   //  after a failed apply commit, not before
#define S_PRODUCE_WAIT    100    //  ms per wait while the producer's queue is full
#define S_PRODUCE_WAITS   100    //  waits before a message is given up (10 s)
#define S_BAD_LOG_MS      10000  //  bad messages: one line per 10 s, then a count
#define S_TICKET_POLL_MS  2      //  ms: while a send waits for its delivery reports
#define S_SETTLE_RETRY_MS 5000   //  a settle that failed, tried again after (doubled each time)
#define S_SETTLE_BACKOFF  300000 //  ... up to
#define S_REPAIR_CHECK_MS 10000  //  keys written again: marks still there after this, again

//  What one send produced, per partition: confirmed once Kafka answered every message of it and
//  this instance applied the changelog past the highest offset acked then.
typedef struct {
    int32_t partition;
    uint64_t mark;  //  messages produced to the partition up to this send's last one
    bool answered;  //  Kafka answered every one of them
    int64_t target; //  then: the offset to apply past (-1: none acked)
    uint64_t epoch; //  this instance's epoch of the partition, which the messages carry
    int64_t last;   //  the highest offset this send's messages of the partition landed at (-1:
                    //  none known)
    int64_t first;  //  ... and the lowest
    bool refused;   //  Kafka refused that message for good
} s_part_t;

#define S_CLAIMS_KEPT  8  //  per partition: the last claims read that raised its epoch
#define S_OPAQUE_PARTS 13 //  bits of a landed message's opaque for its part (+ 1) in the ticket
//  The ticket's id above them, in a pointer: 51 bits of it.
_Static_assert(sizeof (uintptr_t) >= 8, "a send's ticket is kept in the producer's opaque");

//  A ticket some of whose messages landed after a claim above their epoch (fenced, not stored),
//  or that Kafka refused or were lost on the way (refused: sent again while owned).
typedef struct {
    uint64_t ticket;
    int32_t partition;
    bool refused;
} s_fenced_t;

typedef struct {
    uint64_t id;
    size_t count;
    s_part_t parts[];
} s_ticket_t;

//  One message read back, kept until its apply committed.
typedef struct {
    int32_t partition;
    int64_t offset;
    uint8_t *bytes; //  key then value: what msg borrows from
    jobd_cl_msg_t msg;
} s_kept_t;

struct jobd_changelog {
    jobd_config_t *config;
    jobd_store_t *store;
    jobd_cluster_t *cluster;
    jobd_replica_t *replica;
    int partitions;
    char instance[JOBD_CL_INST_MAX + 1];
    uint64_t *epochs; //  per partition: this instance's owner epoch (0 until ownership is built)
    int64_t *stamps;  //  per partition: the producer's timestamp of the last message read (ms)
    uint64_t *sent;   //  per partition: messages produced since the start
    int64_t *applied_next;   //  per partition: the changelog offset applied up to (committed)
    int64_t *settle_at;      //  per partition: when to look for writes to settle (0: no need to)
    int64_t *settle_wait;    //  per partition: the wait after the next failure (ms)
    int64_t *repair_at;      //  per partition: when to look for keys to repair (0: no need to)
    int64_t *resend_at;      //  per partition: when to send refused writes again (0: no need to)
    int64_t *resend_wait;    //  per partition: the wait after the next failed resend (ms)
    uint64_t *resend_ticket; //  per partition: the ticket of the last resend (0: none)
    jobd_lost_t *lost;       //  refused messages' keys, marked for the repair at the next resend
    uint64_t lost_logged;    //  jobd_lost_dropped when said last
    int64_t *repair_wait;    //  per partition: the wait after a repair Kafka refused (ms)
    uint64_t *repair_ticket; //  per partition: the ticket of the last repair (0: none)
    int64_t fenced_log_at;   //  zclock_mono of the last line about fenced messages
    uint64_t fenced_logged;  //  stats.fenced then
    zlistx_t *tickets;       //  s_ticket_t, oldest first: sends not confirmed yet
    jobd_changelog_claim_t *claims; //  partitions x S_CLAIMS_KEPT, oldest first
    size_t *claim_counts;           //  per partition
    size_t *send_part;  //  per partition, during a send: its part + 1 in the ticket (0: none)
    s_fenced_t *fenced; //  the fenced partitions of confirmed tickets, in ticket order
    size_t fenced_count;
    size_t fenced_alloc;
    uint64_t sent_ticket;         //  the ticket the last send made (0: none)
    uint64_t last_ticket;         //  the id of the last send's ticket
    uint64_t confirmed;           //  every ticket up to this one is confirmed
    jobd_changelog_view_fn *view; //  each partition's owner state, for jobd_changelog_pack
    void *view_arg;
    jobd_store_cl_outbox_t outbox;
    s_kept_t *kept; //  S_READ_MAX
    size_t kept_count;
    jobd_store_cl_input_t *inputs;    //  S_READ_MAX
    jobd_store_cl_applied_t *applied; //  one per apply call of a batch
    size_t applied_count;
    size_t applied_alloc;
    msgpack_zone zone;
    int64_t retry_at; //  zclock_mono: a failed batch is not tried again before
    int64_t bad_logged_at;
    uint64_t bad_unlogged;
    jobd_changelog_stats_t stats;
};

static uint16_t
s_partition (const char *id, void *arg)
{
    jobd_changelog_t *self = (jobd_changelog_t *)arg;
    int partition = jobd_route_partition (id, self->partitions);
    return partition < 0 ? 0 : (uint16_t)partition;
}

//  A job seen at a backend first gets the id every instance derives from its backend id; a
//  submission gets a fresh time-sorted one (docs/cluster.md, section 3).
static int
s_new_id (const char *backend, const char *ext, char *id, size_t size, void *arg)
{
    (void)arg;
    if (ext && *ext && backend && *backend)
        return jobd_route_derived_id (backend, ext, id, size);
    return jobd_route_new_id (id, size);
}

//  The wait before the next try after a failure (5 s the first time), and *wait_p the one after
//  it: doubled, up to 5 minutes.
static int64_t
s_backoff (int64_t *wait_p)
{
    int64_t wait = *wait_p ? *wait_p : S_SETTLE_RETRY_MS;
    *wait_p = 2 * wait < S_SETTLE_BACKOFF ? 2 * wait : S_SETTLE_BACKOFF;
    return wait;
}

//  Where a message of a send landed (its opaque: the ticket's id, then its partition's part + 1
//  in S_OPAQUE_PARTS bits), or that Kafka refused it, kept on the ticket when it is still
//  waiting: the lowest and highest offsets its messages of the partition landed at.
static void
s_landed (void *opaque, const rd_kafka_message_t *message, void *arg)
{
    jobd_changelog_t *self = (jobd_changelog_t *)arg;
    int32_t partition = message->partition;
    int64_t offset = message->offset;
    rd_kafka_resp_err_t err = message->err;
    //  Refused: its key is marked for the repair at the next resend of the partition.
    if (err)
        jobd_lost_add (self->lost, partition, message->key, message->key_len, message->payload,
                       message->len);
    uint64_t tag = (uint64_t)(uintptr_t)opaque, id = tag >> S_OPAQUE_PARTS;
    size_t index = (size_t)(tag & ((1u << S_OPAQUE_PARTS) - 1));
    //  From the newest: reports come in produce order per partition, mostly for the last sends
    //  (the oldest ticket can wait long for one slow partition while later ones pile up).
    for (s_ticket_t *ticket = (s_ticket_t *)zlistx_last (self->tickets); ticket && ticket->id >= id;
         ticket = (s_ticket_t *)zlistx_prev (self->tickets)) {
        s_part_t *part = ticket->id == id && index >= 1 && index <= ticket->count
                             ? &ticket->parts[index - 1]
                             : NULL;
        if (!part || part->partition != partition)
            continue;
        part->refused |= err != RD_KAFKA_RESP_ERR_NO_ERROR;
        if (err || offset < 0)
            continue;
        if (part->first < 0 || offset < part->first)
            part->first = offset;
        if (offset > part->last)
            part->last = offset;
    }
}

int
jobd_changelog_resend (jobd_changelog_t *self, int partition, uint64_t epoch, uint64_t min_epoch)
{
    if (partition < 0 || partition >= self->partitions)
        return JOBD_EINVAL;
    size_t jobs = 0, marked = 0;
    //  The records go with the new epoch, which the partition is not owned with yet.
    uint64_t owned = self->epochs[partition];
    self->epochs[partition] = epoch;
    int rc = jobd_store_begin (self->store);
    if (rc == 0) {
        //  The keys of messages Kafka refused: marked for the repair (a later write of the same
        //  job may have been read back already, and ended what the resend goes by).
        rc = jobd_lost_mark (self->lost, self->store, partition, min_epoch, &marked);
        //  Their cl_pending entries take the new epoch in the same commit, before they go.
        if (rc == 0)
            rc = jobd_store_cl_resend (self->store, self->instance, self->epochs,
                                       (size_t)self->partitions, partition, min_epoch,
                                       &self->outbox, &jobs);
        if (rc == 0)
            rc = jobd_store_commit (self->store);
        else
            jobd_store_abort (self->store);
    }
    if (rc == 0)
        jobd_lost_forget (self->lost, partition);
    if (rc == 0 && marked) {
        self->repair_at[partition] = 1;
        jobd_log (JOBD_LOG_WARN, LOG,
                  "partition %d: %zu changelog keys whose messages Kafka refused are marked for "
                  "the repair (written again)",
                  partition, marked);
    }
    uint64_t dropped = jobd_lost_dropped (self->lost);
    if (dropped > self->lost_logged) {
        jobd_log (JOBD_LOG_ERROR, LOG,
                  "%" PRIu64 " changelog keys whose messages Kafka refused were not kept (over %d "
                  "at once): a replica may miss those history entries until the job's next write",
                  dropped - self->lost_logged, JOBD_LOST_MAX);
        self->lost_logged = dropped;
    }
    if (rc) {
        jobd_log (JOBD_LOG_ERROR, LOG, "cannot re-send unconfirmed writes: %s", jobd_strerror (rc));
        jobd_store_cl_outbox_clear (&self->outbox);
        self->epochs[partition] = owned;
        return rc;
    }
    if (jobs)
        jobd_log (JOBD_LOG_WARN, LOG,
                  "partition %d: %zu jobs changed here were not confirmed by Kafka: their writes "
                  "go to the changelog again, with epoch %" PRIu64,
                  partition, jobs, epoch);
    jobd_changelog_send (self);
    self->epochs[partition] = owned;
    return 0;
}

int
jobd_changelog_new (jobd_config_t *config, jobd_store_t *store, jobd_cluster_t *cluster,
                    jobd_changelog_t **self_p, char *reason, size_t reason_size)
{
    *self_p = NULL;
    jobd_changelog_t *self = (jobd_changelog_t *)calloc (1, sizeof (jobd_changelog_t));
    if (!self)
        return -ENOMEM;
    self->config = config;
    self->store = store;
    self->cluster = cluster;
    self->partitions = jobd_cluster_partitions (cluster);
    snprintf (self->instance, sizeof self->instance, "%s", jobd_cluster_instance (cluster));
    self->epochs = (uint64_t *)calloc ((size_t)self->partitions, sizeof (uint64_t));
    self->stamps = (int64_t *)calloc ((size_t)self->partitions, sizeof (int64_t));
    self->sent = (uint64_t *)calloc ((size_t)self->partitions, sizeof (uint64_t));
    self->applied_next = (int64_t *)calloc ((size_t)self->partitions, sizeof (int64_t));
    self->settle_at = (int64_t *)calloc ((size_t)self->partitions, sizeof (int64_t));
    self->settle_wait = (int64_t *)calloc ((size_t)self->partitions, sizeof (int64_t));
    self->repair_at = (int64_t *)calloc ((size_t)self->partitions, sizeof (int64_t));
    self->resend_at = (int64_t *)calloc ((size_t)self->partitions, sizeof (int64_t));
    self->resend_wait = (int64_t *)calloc ((size_t)self->partitions, sizeof (int64_t));
    self->resend_ticket = (uint64_t *)calloc ((size_t)self->partitions, sizeof (uint64_t));
    self->lost = jobd_lost_new ();
    self->repair_wait = (int64_t *)calloc ((size_t)self->partitions, sizeof (int64_t));
    self->repair_ticket = (uint64_t *)calloc ((size_t)self->partitions, sizeof (uint64_t));
    //  A crash may have left writes that a claim read before it fences: looked for at the start.
    for (int partition = 0; self->settle_at && partition < self->partitions; partition++)
        self->settle_at[partition] = 1;
    self->tickets = zlistx_new ();
    if (self->tickets)
        zlistx_set_destructor (self->tickets, (zlistx_destructor_fn *)zstr_free);
    self->kept = (s_kept_t *)calloc (S_READ_MAX, sizeof (s_kept_t));
    self->inputs = (jobd_store_cl_input_t *)calloc (S_READ_MAX, sizeof (jobd_store_cl_input_t));
    self->claims = (jobd_changelog_claim_t *)calloc ((size_t)self->partitions * S_CLAIMS_KEPT,
                                                     sizeof (jobd_changelog_claim_t));
    self->claim_counts = (size_t *)calloc ((size_t)self->partitions, sizeof (size_t));
    self->send_part = (size_t *)calloc ((size_t)self->partitions, sizeof (size_t));
    int64_t *next = (int64_t *)calloc ((size_t)self->partitions, sizeof (int64_t));
    msgpack_zone_init (&self->zone, 4096);
    int rc = self->epochs && self->stamps && self->sent && self->applied_next && self->settle_at &&
                     self->repair_at && self->resend_at && self->resend_wait &&
                     self->resend_ticket && self->lost && self->repair_wait &&
                     self->repair_ticket && self->settle_wait && self->tickets && self->kept &&
                     self->inputs && self->claims && self->claim_counts && self->send_part && next
                 ? 0
                 : -ENOMEM;
    if (rc)
        snprintf (reason, reason_size, "changelog: out of memory");
    else
        rc = jobd_store_cl_bind (store, jobd_cluster_name (cluster), reason, reason_size);
    if (rc && rc != JOBD_ECONFIG && rc != -ENOMEM)
        snprintf (reason, reason_size, "changelog: binding the store to cluster %s: %s",
                  jobd_cluster_name (cluster), jobd_strerror (rc));
    for (int partition = 0; rc == 0 && partition < self->partitions; partition++) {
        uint64_t value = 0;
        rc = jobd_store_cl_meta (store, "cl_next", (uint16_t)partition, &value);
        if (rc)
            snprintf (reason, reason_size, "changelog: reading where partition %d stopped: %s",
                      partition, jobd_strerror (rc));
        next[partition] = value > 0 ? (int64_t)value : -1;
        self->applied_next[partition] = (int64_t)value;
    }
    if (rc == 0)
        rc = jobd_replica_new (config, jobd_cluster_topic (cluster, "changelog"), self->partitions,
                               next, &self->replica, reason, reason_size);
    free (next);
    if (rc) {
        jobd_changelog_destroy (&self);
        return rc;
    }
    jobd_store_set_partition_fn (store, s_partition, self);
    jobd_store_set_id_fn (store, s_new_id, self);
    jobd_store_cl_set_replicated (store, true);
    jobd_cluster_set_landed_fn (cluster, s_landed, self);
    *self_p = self;
    return 0;
}

static void
s_kept_clear (jobd_changelog_t *self)
{
    for (size_t index = 0; index < self->kept_count; index++) {
        jobd_cl_msg_clear (&self->kept[index].msg);
        free (self->kept[index].bytes);
        self->kept[index].bytes = NULL;
    }
    self->kept_count = 0;
}

static void
s_applied_clear (jobd_changelog_t *self)
{
    for (size_t index = 0; index < self->applied_count; index++)
        jobd_store_cl_applied_clear (&self->applied[index]);
    self->applied_count = 0;
}

void
jobd_changelog_destroy (jobd_changelog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_changelog_t *self = *self_p;
    if (self->replica) {
        jobd_cluster_set_landed_fn (self->cluster, NULL, NULL);
        //  Back to a single instance's store settings: nothing of this object is called again.
        jobd_store_set_partition_fn (self->store, NULL, NULL);
        jobd_store_set_id_fn (self->store, NULL, NULL);
        jobd_store_cl_set_replicated (self->store, false);
    }
    jobd_replica_destroy (&self->replica);
    if (self->kept)
        s_kept_clear (self);
    s_applied_clear (self);
    free (self->applied);
    jobd_store_cl_outbox_clear (&self->outbox);
    msgpack_zone_destroy (&self->zone);
    free (self->kept);
    free (self->inputs);
    free (self->epochs);
    free (self->stamps);
    free (self->sent);
    free (self->applied_next);
    free (self->settle_at);
    free (self->repair_at);
    free (self->resend_at);
    free (self->resend_wait);
    free (self->resend_ticket);
    jobd_lost_destroy (&self->lost);
    free (self->repair_wait);
    free (self->repair_ticket);
    free (self->settle_wait);
    free (self->claims);
    free (self->claim_counts);
    free (self->send_part);
    free (self->fenced);
    zlistx_destroy (&self->tickets);
    free (self);
    *self_p = NULL;
}

int
jobd_changelog_record (jobd_changelog_t *self)
{
    jobd_store_cl_outbox_clear (&self->outbox); //  a batch tried again records anew
    return jobd_store_cl_record (self->store, self->instance, self->epochs,
                                 (size_t)self->partitions, &self->outbox);
}

//  The ticket of the send about to be produced (partitions touched, numbered in the order of
//  their first message: self->send_part), in the list before its messages go, so that where
//  they land is kept even when a full queue serves delivery reports inside the send. Its marks
//  are set once they went (s_ticket_mark). Returns NULL when there is no memory for it: the
//  send's replies then wait for nothing.
static s_ticket_t *
s_ticket_new (jobd_changelog_t *self, size_t parts)
{
    s_ticket_t *ticket = (s_ticket_t *)malloc (sizeof (s_ticket_t) + parts * sizeof (s_part_t));
    if (!ticket)
        return NULL;
    ticket->id = self->last_ticket + 1;
    ticket->count = parts;
    for (size_t index = 0; index < self->outbox.count; index++) {
        int32_t partition = self->outbox.messages[index].partition;
        ticket->parts[self->send_part[partition] - 1] = (s_part_t){
            .partition = partition, .epoch = self->epochs[partition], .last = -1, .first = -1};
    }
    if (!zlistx_add_end (self->tickets, ticket)) {
        free (ticket);
        return NULL;
    }
    self->last_ticket = ticket->id;
    return ticket;
}

//  A ticket confirmed: the partitions whose messages of the send were fenced (they landed after
//  a claim above the epoch they were written with: section 5, step 1), or not confirmed (Kafka
//  refused one, one was lost at produce, or they straddle such a claim) are kept with the
//  ticket, for its held replies (jobd_changelog_fenced).
static void
s_fenced_check (jobd_changelog_t *self, const s_ticket_t *ticket)
{
    for (size_t index = 0; index < ticket->count; index++) {
        const s_part_t *part = &ticket->parts[index];
        jobd_changelog_fate_t fate =
            jobd_changelog_fate (&self->claims[(size_t)part->partition * S_CLAIMS_KEPT],
                                 self->claim_counts[part->partition], part->epoch, part->first,
                                 part->last, part->refused);
        int32_t partition = part->partition;
        if (fate == JOBD_CHANGELOG_STORED) {
            //  A resend of the partition's refused writes stored: Kafka takes them again (other
            //  writes stored say nothing of a record it refuses for good).
            if (ticket->id == self->resend_ticket[partition])
                self->resend_wait[partition] = self->resend_ticket[partition] = 0;
            if (ticket->id == self->repair_ticket[partition])
                self->repair_wait[partition] = self->repair_ticket[partition] = 0;
            continue;
        }
        //  A repair Kafka refused (for good, maybe): its marks stay; the next one waits 20 s,
        //  doubled up to 5 minutes, until a repair of the partition is stored.
        if (part->refused && ticket->id == self->repair_ticket[partition]) {
            self->repair_ticket[partition] = 0;
            if (!self->repair_wait[partition])
                self->repair_wait[partition] = 2 * S_REPAIR_CHECK_MS;
            self->repair_at[partition] = zclock_mono () + s_backoff (&self->repair_wait[partition]);
        }
        bool fenced = fate == JOBD_CHANGELOG_FENCED;
        //  Refused while still owned under the same claim: its writes, committed here, go
        //  again (the claims' turn: jobd_changelog_resend_due), at once the first time, then
        //  5 s later, doubled up to 5 minutes while Kafka refuses them (a refusal for good:
        //  a record over the broker's message.max.bytes); given up since, the settle or the
        //  next regain decides.
        if (part->refused && self->epochs[partition] == part->epoch &&
            !self->resend_at[partition]) {
            int64_t wait =
                self->resend_wait[partition] ? s_backoff (&self->resend_wait[partition]) : 0;
            if (!wait)
                self->resend_wait[partition] = S_SETTLE_RETRY_MS;
            self->resend_at[partition] = zclock_mono () + wait + 1;
        }
        if (self->fenced_count == self->fenced_alloc) {
            //  Kept while the process lives: a held reply may ask about any of them (fenced
            //  sends come with cuts from Kafka, a few thousand at most each).
            size_t alloc = self->fenced_alloc ? 2 * self->fenced_alloc : 64;
            s_fenced_t *grown = (s_fenced_t *)realloc (self->fenced, alloc * sizeof (s_fenced_t));
            if (!grown) {
                jobd_log (JOBD_LOG_ERROR, LOG,
                          "out of memory: a fenced write of partition %d may be answered stored",
                          (int)part->partition);
                continue;
            }
            self->fenced = grown;
            self->fenced_alloc = alloc;
        }
        self->fenced[self->fenced_count++] = (s_fenced_t){ticket->id, part->partition, !fenced};
        self->stats.fenced_sends++;
    }
}

jobd_changelog_fate_t
jobd_changelog_fate (const jobd_changelog_claim_t *claims, size_t count, uint64_t epoch,
                     int64_t first, int64_t last, bool refused)
{
    //  Every message fenced: the first one landed after a claim above epoch; some: the last did.
    if (first < 0)
        first = last;
    bool fenced = false, some = false;
    for (size_t claim = 0; last >= 0 && claim < count; claim++) {
        bool above = claims[claim].epoch > epoch;
        fenced |= above && claims[claim].offset < first;
        some |= above && claims[claim].offset < last;
    }
    if (fenced)
        return JOBD_CHANGELOG_FENCED;
    //  Refused, or a send that straddles the claim (which of its writes were fenced is not
    //  known here: only the lowest and highest offsets are kept): not confirmed.
    return refused || some ? JOBD_CHANGELOG_REFUSED : JOBD_CHANGELOG_STORED;
}

jobd_changelog_fate_t
jobd_changelog_fenced (jobd_changelog_t *self, uint64_t ticket, const char *job)
{
    //  In ticket order: the first entry of ticket, by halves.
    size_t low = 0, high = self->fenced_count;
    if (!ticket || high == 0 || self->fenced[high - 1].ticket < ticket)
        return JOBD_CHANGELOG_STORED;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (self->fenced[middle].ticket < ticket)
            low = middle + 1;
        else
            high = middle;
    }
    int32_t partition = job ? (int32_t)s_partition (job, self) : -1;
    for (; low < self->fenced_count && self->fenced[low].ticket == ticket; low++)
        if (!job || self->fenced[low].partition == partition)
            return self->fenced[low].refused ? JOBD_CHANGELOG_REFUSED : JOBD_CHANGELOG_FENCED;
    return JOBD_CHANGELOG_STORED;
}

//  Confirms the tickets at the head whose messages Kafka answered and this instance applied.
static void
s_tickets_check (jobd_changelog_t *self)
{
    s_ticket_t *ticket;
    while ((ticket = (s_ticket_t *)zlistx_first (self->tickets))) {
        bool confirmed = true;
        for (size_t index = 0; index < ticket->count; index++) {
            s_part_t *part = &ticket->parts[index];
            //  Answered in order: once the reports reach the mark, the highest offset acked is at
            //  or past this send's last message (a refused one leaves it where it was).
            if (!part->answered &&
                jobd_cluster_reported (self->cluster, part->partition) >= part->mark) {
                part->answered = true;
                part->target = jobd_cluster_acked (self->cluster, part->partition);
            }
            if (!part->answered || self->applied_next[part->partition] <= part->target)
                confirmed = false;
        }
        if (!confirmed)
            break;
        s_fenced_check (self, ticket);
        self->confirmed = ticket->id;
        zlistx_delete (self->tickets, zlistx_cursor (self->tickets));
    }
    if (zlistx_size (self->tickets) == 0)
        self->confirmed = self->last_ticket;
}

void
jobd_changelog_send (jobd_changelog_t *self)
{
    char reason[256];
    //  Every message of the send carries the ticket's id and its partition's part + 1 there
    //  (parts in the order of first appearance), so that where it lands is kept (s_landed).
    size_t parts = 0;
    for (size_t index = 0; index < self->outbox.count; index++) {
        int32_t partition = self->outbox.messages[index].partition;
        if (!self->send_part[partition])
            self->send_part[partition] = ++parts;
    }
    s_ticket_t *ticket = parts ? s_ticket_new (self, parts) : NULL;
    self->sent_ticket = ticket ? ticket->id : 0;
    if (parts && !ticket)
        jobd_log (JOBD_LOG_ERROR, LOG, "out of memory: a batch's replies do not wait for Kafka");
    for (size_t index = 0; index < self->outbox.count; index++) {
        const jobd_store_cl_out_t *out = &self->outbox.messages[index];
        size_t part = self->send_part[out->partition];
        int rc = -ENOBUFS;
        void *opaque = NULL;
        if (ticket && part < (1u << S_OPAQUE_PARTS))
            opaque = (void *)(uintptr_t)((ticket->id << S_OPAQUE_PARTS) | (uint64_t)part);
        //  A full queue is Kafka falling behind: wait for it (the broker stops taking work),
        //  rather than let a replica miss a write.
        for (int wait = 0; rc == -ENOBUFS && wait <= S_PRODUCE_WAITS; wait++) {
            rc = jobd_cluster_produce_with (self->cluster, "changelog", out->partition, out->key,
                                            out->key_size, out->value, out->value_size, NULL, NULL,
                                            opaque, reason, sizeof reason);
            if (rc == -ENOBUFS)
                jobd_cluster_flush (self->cluster, S_PRODUCE_WAIT);
        }
        if (rc == 0) {
            self->stats.produced++;
            self->sent[out->partition]++;
        } else {
            self->stats.produce_lost++;
            if (ticket)
                ticket->parts[part - 1].refused = true; //  not stored
            jobd_lost_add (self->lost, out->partition, out->key, out->key_size, out->value,
                           out->value_size);
            jobd_log (JOBD_LOG_ERROR, LOG, "a changelog message of partition %u is lost: %s",
                      (unsigned)out->partition, reason);
        }
    }
    //  The marks: what was produced to each partition up to this send's last message.
    for (size_t index = 0; ticket && index < ticket->count; index++)
        ticket->parts[index].mark = self->sent[ticket->parts[index].partition];
    for (size_t index = 0; index < self->outbox.count; index++)
        self->send_part[self->outbox.messages[index].partition] = 0;
    jobd_store_cl_outbox_clear (&self->outbox);
    jobd_cluster_poll (self->cluster);
}

uint64_t
jobd_changelog_ticket (jobd_changelog_t *self)
{
    //  The last send's own ticket, even when already confirmed (its messages all lost at
    //  produce): its replies still go through the fenced check.
    if (self->sent_ticket)
        return self->sent_ticket;
    return zlistx_size (self->tickets) ? self->last_ticket : 0;
}

uint64_t
jobd_changelog_confirmed (jobd_changelog_t *self)
{
    s_tickets_check (self);
    return self->confirmed;
}

void
jobd_changelog_drop (jobd_changelog_t *self)
{
    jobd_store_cl_outbox_clear (&self->outbox);
}

int
jobd_changelog_fd (jobd_changelog_t *self)
{
    return jobd_replica_fd (self->replica);
}

//  One message read: its bytes copied, decoded. One that does not decode is counted and said
//  (a line per 10 s), and skipped.
static bool
s_take (const jobd_replica_message_t *message, void *arg)
{
    jobd_changelog_t *self = (jobd_changelog_t *)arg;
    self->stats.read++;
    if (message->partition >= 0 && message->partition < self->partitions)
        self->stamps[message->partition] = message->timestamp;
    s_kept_t *kept = &self->kept[self->kept_count];
    kept->partition = message->partition;
    kept->offset = message->offset;
    kept->bytes = (uint8_t *)malloc (message->key_size + message->value_size + 1);
    char reason[256] = "out of memory";
    int rc = kept->bytes ? 0 : -ENOMEM;
    if (rc == 0) {
        if (message->key_size)
            memcpy (kept->bytes, message->key, message->key_size);
        if (message->value_size)
            memcpy (kept->bytes + message->key_size, message->value, message->value_size);
        rc = jobd_cl_msg_decode (kept->bytes, message->key_size, kept->bytes + message->key_size,
                                 message->value_size, &self->zone, &kept->msg, reason,
                                 sizeof reason);
    }
    if (rc == 0) {
        self->kept_count++;
        return self->kept_count < S_READ_MAX;
    }
    free (kept->bytes);
    kept->bytes = NULL;
    self->stats.bad++;
    int64_t now = zclock_mono ();
    if (self->bad_logged_at == 0 || now - self->bad_logged_at >= S_BAD_LOG_MS) {
        jobd_log (JOBD_LOG_WARN, LOG,
                  "changelog partition %d offset %" PRId64 ": not applied: %s%s",
                  message->partition, message->offset, reason,
                  self->bad_unlogged ? " (and earlier ones not said)" : "");
        self->bad_logged_at = now;
        self->bad_unlogged = 0;
    } else
        self->bad_unlogged++;
    return true;
}

static int
s_by_position (const void *a, const void *b)
{
    const s_kept_t *x = (const s_kept_t *)a, *y = (const s_kept_t *)b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

//  Applies count inputs of partition in the open batch, keeping what it published.
static int
s_apply_run (jobd_changelog_t *self, int32_t partition, const jobd_store_cl_input_t *inputs,
             size_t count)
{
    if (self->applied_count == self->applied_alloc) {
        size_t alloc = self->applied_alloc ? self->applied_alloc * 2 : 16;
        jobd_store_cl_applied_t *grown = (jobd_store_cl_applied_t *)realloc (
            self->applied, alloc * sizeof (jobd_store_cl_applied_t));
        if (!grown)
            return -ENOMEM;
        self->applied = grown;
        self->applied_alloc = alloc;
    }
    jobd_store_cl_applied_t *applied = &self->applied[self->applied_count];
    int rc = jobd_store_cl_apply (self->store, (uint16_t)partition, inputs, count, applied);
    if (rc == 0)
        self->applied_count++;
    return rc;
}

//  The kept messages in one write transaction, partition by partition.
static int
s_apply_kept (jobd_changelog_t *self)
{
    int rc = jobd_store_begin (self->store);
    for (size_t start = 0, end; rc == 0 && start < self->kept_count; start = end) {
        int32_t partition = self->kept[start].partition;
        for (end = start; end < self->kept_count && self->kept[end].partition == partition; end++) {
            self->inputs[end - start].msg = &self->kept[end].msg;
            self->inputs[end - start].offset = (uint64_t)self->kept[end].offset;
        }
        rc = s_apply_run (self, partition, self->inputs, end - start);
        //  A message this store cannot take (its record disagrees with the local history) costs
        //  itself only: the run again one message at a time, skipping those refused.
        for (size_t index = 0; rc == JOBD_ECORRUPT && index < end - start; index++) {
            int one = s_apply_run (self, partition, &self->inputs[index], 1);
            if (one == JOBD_ECORRUPT) {
                self->stats.bad++;
                jobd_log (JOBD_LOG_WARN, LOG,
                          "changelog partition %d offset %" PRIu64 ": not applied: %s", partition,
                          self->inputs[index].offset, jobd_strerror (one));
            } else if (one) {
                rc = one;
                break;
            }
            if (index == end - start - 1)
                rc = 0;
        }
    }
    if (rc == 0)
        rc = jobd_store_commit (self->store);
    else
        jobd_store_abort (self->store);
    return rc;
}

size_t
jobd_changelog_apply (jobd_changelog_t *self, jobd_changelog_publish_fn *publish, void *arg)
{
    jobd_cluster_poll (self->cluster);
    if (self->kept_count && zclock_mono () < self->retry_at)
        return 0;
    size_t read = 0;
    if (self->kept_count < S_READ_MAX)
        read = jobd_replica_read (self->replica, S_READ_MAX - self->kept_count, 0, s_take, self);
    if (self->kept_count == 0)
        return read;
    //  In offset order per partition, the partitions one after another (stable: offsets are
    //  unique within a partition).
    qsort (self->kept, self->kept_count, sizeof (s_kept_t), s_by_position);
    int rc;
    for (int attempt = 0;; attempt++) {
        s_applied_clear (self);
        rc = s_apply_kept (self);
        if (rc != JOBD_EFULL || attempt == S_FULL_RETRIES || !jobd_store_map_may_grow (self->store))
            break;
    }
    if (rc) {
        s_applied_clear (self);
        self->stats.apply_failures++;
        self->retry_at = zclock_mono () + S_RETRY_MS;
        jobd_log (JOBD_LOG_ERROR, LOG,
                  "%zu changelog messages not applied (tried again in 1 s): %s", self->kept_count,
                  jobd_strerror (rc));
        return read;
    }
    self->stats.commits++;
    for (size_t index = 0; index < self->kept_count; index++) {
        const s_kept_t *kept = &self->kept[index];
        if (kept->offset + 1 > self->applied_next[kept->partition])
            self->applied_next[kept->partition] = kept->offset + 1;
    }
    for (size_t index = 0; index < self->applied_count; index++) {
        jobd_store_cl_applied_t *applied = &self->applied[index];
        self->stats.fenced += applied->fenced;
        self->stats.older += applied->older;
        self->stats.missing += applied->missing;
        self->stats.applied += applied->applied;
        if (applied->fenced && zclock_mono () - self->fenced_log_at >= S_BAD_LOG_MS) {
            jobd_log (JOBD_LOG_WARN, LOG,
                      "partition %u: changelog messages written under an epoch below its last "
                      "claim are fenced (dropped): %" PRIu64 " (%" PRIu64 " since the last line)",
                      (unsigned)applied->partition, applied->fenced,
                      self->stats.fenced - self->fenced_logged);
            self->fenced_log_at = zclock_mono ();
            self->fenced_logged = self->stats.fenced;
        }
        //  A fenced message left its key invalid: the owner writes it again.
        //  (At most 10 s later while a refused repair backs off: its wait is for its own keys.)
        if (applied->marked && applied->partition < (uint16_t)self->partitions) {
            int64_t *at = &self->repair_at[applied->partition];
            if (!*at)
                *at = 1;
            else if (*at > zclock_mono () + S_REPAIR_CHECK_MS)
                *at = zclock_mono () + S_REPAIR_CHECK_MS;
        }
        //  A claim may fence some of this instance's unconfirmed writes of the partition.
        if (applied->claimed && applied->partition < (uint16_t)self->partitions) {
            self->settle_at[applied->partition] = 1;
            self->settle_wait[applied->partition] = 0;
        }
        for (size_t claim = 0;
             applied->partition < (uint16_t)self->partitions && claim < applied->claim_count;
             claim++) {
            size_t *count = &self->claim_counts[applied->partition];
            jobd_changelog_claim_t *claims =
                &self->claims[(size_t)applied->partition * S_CLAIMS_KEPT];
            if (*count == S_CLAIMS_KEPT) {
                memmove (claims, claims + 1, (S_CLAIMS_KEPT - 1) * sizeof (jobd_changelog_claim_t));
                (*count)--;
            }
            claims[(*count)++] = (jobd_changelog_claim_t){(int64_t)applied->claims[claim].offset,
                                                          applied->claims[claim].epoch};
        }
        for (size_t t = 0; t < applied->transition_count; t++) {
            publish (applied->jobs[t], &applied->transitions[t], arg);
            self->stats.published++;
        }
    }
    s_applied_clear (self);
    s_kept_clear (self);
    return read;
}

int64_t
jobd_changelog_wait (jobd_changelog_t *self)
{
    //  Delivery reports wake nothing: while a send waits for them, look again soon.
    int64_t wait = zlistx_size (self->tickets) ? S_TICKET_POLL_MS : -1;
    if (self->kept_count) {
        int64_t retry = self->retry_at - zclock_mono ();
        retry = retry > 0 ? retry : 0;
        wait = wait < 0 || retry < wait ? retry : wait;
    }
    return wait;
}

void
jobd_changelog_pack (msgpack_packer *pk, void *arg)
{
    jobd_changelog_pack_more (pk, (jobd_changelog_t *)arg, 0);
}

void
jobd_changelog_pack_more (msgpack_packer *pk, jobd_changelog_t *self, size_t more)
{
    const jobd_changelog_stats_t *stats = &self->stats;
    msgpack_pack_map (pk, 5 + more);
    jobd_map_pack_kv (pk, "name", jobd_cluster_name (self->cluster));
    jobd_map_pack_kv (pk, "instance", self->instance);
    jobd_map_pack_ku (pk, "partitions", (uint64_t)self->partitions);
    jobd_map_pack_str (pk, "changelog");
    msgpack_pack_map (pk, 15);
    jobd_map_pack_ku (pk, "produced", stats->produced);
    jobd_map_pack_ku (pk, "produce_lost", stats->produce_lost);
    jobd_map_pack_ku (pk, "unacked", (uint64_t)jobd_cluster_poll (self->cluster));
    jobd_map_pack_ku (pk, "read", stats->read);
    jobd_map_pack_ku (pk, "bad", stats->bad);
    jobd_map_pack_ku (pk, "applied", stats->applied);
    jobd_map_pack_ku (pk, "fenced", stats->fenced);
    jobd_map_pack_ku (pk, "older", stats->older);
    jobd_map_pack_ku (pk, "missing", stats->missing);
    jobd_map_pack_ku (pk, "published", stats->published);
    jobd_map_pack_ku (pk, "commits", stats->commits);
    jobd_map_pack_ku (pk, "apply_failures", stats->apply_failures);
    jobd_map_pack_ku (pk, "settled", stats->settled);
    jobd_map_pack_ku (pk, "fenced_sends", stats->fenced_sends);
    jobd_map_pack_ku (pk, "repaired", stats->repaired);
    jobd_map_pack_str (pk, "partition");
    msgpack_pack_array (pk, (size_t)self->partitions);
    int64_t now = jobd_now_ms ();
    for (int partition = 0; partition < self->partitions; partition++) {
        int64_t behind = jobd_replica_behind (self->replica, partition);
        uint64_t claim = 0;
        jobd_store_cl_meta (self->store, "claim_epoch", (uint16_t)partition, &claim);
        uint64_t epoch = 0;
        const char *state = self->view ? self->view (partition, &epoch, self->view_arg) : NULL;
        msgpack_pack_map (pk, state ? 8 : 6);
        jobd_map_pack_ku (pk, "partition", (uint64_t)partition);
        if (state) {
            jobd_map_pack_kv (pk, "state", state);
            jobd_map_pack_ku (pk, "epoch", epoch);
        }
        jobd_map_pack_ki (pk, "next", jobd_replica_next (self->replica, partition));
        //  -1: the high watermark was not heard yet.
        jobd_map_pack_ki (pk, "behind", behind);
        //  How old the last message read is, while more wait: how far the replica trails.
        jobd_map_pack_ki (pk, "lag_ms",
                          behind > 0 && self->stamps[partition] > 0 ? now - self->stamps[partition]
                                                                    : 0);
        jobd_map_pack_ki (pk, "acked", jobd_cluster_acked (self->cluster, partition));
        jobd_map_pack_ku (pk, "claim_epoch", claim);
    }
}

void
jobd_changelog_set_epoch (jobd_changelog_t *self, int partition, uint64_t epoch)
{
    if (partition < 0 || partition >= self->partitions)
        return;
    //  Given up: writes Kafka has not taken may be fenced by the next owner's claim.
    if (self->epochs[partition] && !epoch) {
        self->settle_at[partition] = 1;
        self->settle_wait[partition] = 0;
    }
    //  Owned: keys marked before, under other owners, are this one's to repair.
    if (!self->epochs[partition] && epoch)
        self->repair_at[partition] = 1;
    //  Refused writes of another epoch are the settle's, or the regain's resend.
    if (self->epochs[partition] != epoch) {
        self->resend_at[partition] = 0;
        self->resend_wait[partition] = 0;
        self->resend_ticket[partition] = 0;
        self->repair_wait[partition] = 0;
        self->repair_ticket[partition] = 0;
    }
    self->epochs[partition] = epoch;
}

int
jobd_changelog_settle (jobd_changelog_t *self, int partition, uint64_t below)
{
    if (partition < 0 || partition >= self->partitions)
        return JOBD_EINVAL;
    jobd_settle_result_t result;
    char reason[256] = "";
    int rc = jobd_settle_partition (
        self->config, self->store, jobd_cluster_topic (self->cluster, "changelog"), partition,
        self->applied_next[partition], below, &result, reason, sizeof reason);
    if (rc) {
        jobd_log (JOBD_LOG_ERROR, LOG,
                  "partition %d: %zu jobs changed here that Kafka never confirmed, and a later "
                  "claim fences, are not settled: %s",
                  partition, result.dead, reason);
        return rc;
    }
    if (result.dead) {
        self->stats.settled += result.taken + result.removed + result.kept;
        jobd_log (JOBD_LOG_WARN, LOG,
                  "partition %d: %zu jobs changed here were never confirmed by Kafka, and another "
                  "instance owned the partition since: %zu are as the changelog has them, %zu it "
                  "never had are removed, %zu with no record left in it are kept as they are here "
                  "(%lld ms)",
                  partition, result.dead, result.taken, result.removed, result.kept,
                  (long long)result.ms);
    }
    if (result.bad)
        jobd_log (JOBD_LOG_WARN, LOG,
                  "partition %d: %zu changelog messages read again did not decode: passed over",
                  partition, result.bad);
    return 0;
}

int64_t
jobd_changelog_settle_later (jobd_changelog_t *self, int partition)
{
    if (partition < 0 || partition >= self->partitions)
        return S_SETTLE_RETRY_MS;
    int64_t wait = s_backoff (&self->settle_wait[partition]);
    self->settle_at[partition] = zclock_mono () + wait;
    return wait;
}

void
jobd_changelog_settle_due (jobd_changelog_t *self, int partition)
{
    if (partition < 0 || partition >= self->partitions || !self->settle_at[partition] ||
        zclock_mono () < self->settle_at[partition])
        return;
    self->settle_at[partition] = 0;
    if (jobd_changelog_settle (self, partition, 0))
        jobd_changelog_settle_later (self, partition);
    else
        self->settle_wait[partition] = 0;
}

void
jobd_changelog_resend_due (jobd_changelog_t *self, int partition)
{
    if (partition < 0 || partition >= self->partitions || !self->epochs[partition] ||
        !self->resend_at[partition] || zclock_mono () < self->resend_at[partition])
        return;
    self->resend_at[partition] = 0;
    uint64_t epoch = self->epochs[partition];
    //  Its own ticket says whether Kafka took them (s_fenced_check); a store that failed here is
    //  asked again after the same backoff.
    if (jobd_changelog_resend (self, partition, epoch, epoch) == 0) {
        self->resend_ticket[partition] = self->sent_ticket;
        //  Nothing to send (the refused keys marked for the repair, or confirmed since): the
        //  next refusal goes at once again.
        if (!self->sent_ticket)
            self->resend_wait[partition] = 0;
        return;
    }
    self->resend_at[partition] = zclock_mono () + s_backoff (&self->resend_wait[partition]);
}

void
jobd_changelog_repair_due (jobd_changelog_t *self, int partition)
{
    if (partition < 0 || partition >= self->partitions || !self->epochs[partition] ||
        !self->repair_at[partition] || zclock_mono () < self->repair_at[partition])
        return;
    self->repair_at[partition] = 0;
    //  The last repair not confirmed yet (a slow partition holds the tickets): its fate decides
    //  the backoff, so it is not replaced before.
    if (self->repair_ticket[partition] > self->confirmed) {
        self->repair_at[partition] = zclock_mono () + S_REPAIR_CHECK_MS;
        return;
    }
    size_t keys = 0;
    int rc = jobd_store_begin (self->store);
    if (rc == 0) {
        rc = jobd_store_cl_repair (self->store, self->instance, (uint16_t)partition,
                                   self->epochs[partition], &self->outbox, &keys);
        if (rc == 0)
            rc = jobd_store_commit (self->store);
        else
            jobd_store_abort (self->store);
    }
    if (rc) {
        jobd_store_cl_outbox_clear (&self->outbox);
        self->repair_at[partition] = zclock_mono () + S_SETTLE_RETRY_MS;
        jobd_log (JOBD_LOG_ERROR, LOG,
                  "partition %d: keys a fenced or refused write left invalid in the changelog are "
                  "not written again (tried again in %d s): %s",
                  partition, S_SETTLE_RETRY_MS / 1000, jobd_strerror (rc));
        return;
    }
    if (!keys)
        return;
    self->stats.repaired += keys;
    jobd_log (JOBD_LOG_INFO, LOG,
              "partition %d: %zu keys whose last changelog message was a fenced write (or Kafka "
              "refused it) are written again with epoch %" PRIu64,
              partition, keys, self->epochs[partition]);
    jobd_changelog_send (self);
    self->repair_ticket[partition] = self->sent_ticket;
    //  Their read-back clears the marks; any left then are written again (later when Kafka
    //  refused the last repair: s_fenced_check).
    self->repair_at[partition] = zclock_mono () + S_REPAIR_CHECK_MS;
}

int64_t
jobd_changelog_applied (jobd_changelog_t *self, int partition)
{
    return partition >= 0 && partition < self->partitions ? self->applied_next[partition] : 0;
}

//  Produces msg (a record of partition's own, not a job's), what naming it in a reason.
static int
s_produce_meta (jobd_changelog_t *self, int partition, jobd_cl_msg_t *msg, const char *what,
                char *reason, size_t reason_size)
{
    snprintf (msg->inst, sizeof msg->inst, "%s", self->instance);
    msgpack_sbuffer key, value;
    msgpack_sbuffer_init (&key);
    msgpack_sbuffer_init (&value);
    int rc = jobd_cl_msg_encode (msg, &key, &value);
    if (rc)
        snprintf (reason, reason_size, "encoding the %s record: %s", what, jobd_strerror (rc));
    else
        rc = jobd_cluster_produce (self->cluster, "changelog", partition, key.data, key.size,
                                   value.data, value.size, reason, reason_size);
    if (rc == 0) {
        self->stats.produced++;
        self->sent[partition]++;
    }
    msgpack_sbuffer_destroy (&key);
    msgpack_sbuffer_destroy (&value);
    return rc;
}

int
jobd_changelog_owner (jobd_changelog_t *self, int partition, bool claim, uint64_t epoch,
                      const char *member, char *reason, size_t reason_size)
{
    jobd_cl_msg_t msg = {.kind = JOBD_CL_OWNER, .epoch = epoch, .claim = claim};
    snprintf (msg.name, sizeof msg.name, "%s", member);
    return s_produce_meta (self, partition, &msg, "owner", reason, reason_size);
}

int
jobd_changelog_cursor (jobd_changelog_t *self, int partition, const char *name, uint64_t position,
                       uint64_t epoch, char *reason, size_t reason_size)
{
    jobd_cl_msg_t msg = {.kind = JOBD_CL_CURSOR, .epoch = epoch, .number = position};
    snprintf (msg.name, sizeof msg.name, "%s", name);
    return s_produce_meta (self, partition, &msg, "cursor", reason, reason_size);
}

void
jobd_changelog_set_view (jobd_changelog_t *self, jobd_changelog_view_fn *view, void *arg)
{
    self->view = view;
    self->view_arg = arg;
}
