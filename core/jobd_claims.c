//  Ownership in cluster mode (see jobd_claims.h and docs/cluster.md section 7).
#include "jobd_claims.h"
#include "jobd_error.h"
#include "jobd_forward.h"
#include "jobd_lease.h"
#include "jobd_log.h"
#include "jobd_route.h"
#include "jobd_store_cl.h"
#include <czmq.h>
#include <stdatomic.h>
#include <librdkafka/rdkafka.h>
#include <string.h>

#define LOG "cluster"

#define S_BUSY_MS      10     //  a turn while a partition moves towards owned
#define S_IDLE_MS      100    //  a turn while nothing moves: the group's callbacks are served then
#define S_QUERY_MS     500    //  longest a high watermark query waits
#define S_LEASE_SLACK  1.1    //  a lease wait covers clock rate differences (section 8)
#define S_COMMANDS_MAX 1000   //  commands taken from the jobs topic per turn, at most
#define S_RECLAIM_MAX  300000 //  longest wait before a partition is claimed again (ms)

typedef struct {
    jobd_claims_state_t state;
    uint64_t epoch;     //  this instance's claim (0: none)
    int64_t target;     //  CATCHUP: the changelog offset to apply up to (-1: not read yet)
    bool after_release; //  CLAIMING: the owner record before the claim was a release (or none)
    int64_t until;      //  WAITING: zclock_mono when it may act
    int64_t since;      //  zclock_mono of the assignment (for the log)
    bool live;          //  owned with a lease: acting, as last told (jobd_claims_turn)
    zlistx_t *backlog;  //  commands of the jobs topic (rd_kafka_message_t) waiting to be handed
    int64_t handed;     //  the offset after the last command handed (-1: none since a commit)
    bool expired;       //  owned, and its lease ran out since: a renewal is news
    bool assigned;      //  the group assigned it to this instance (and did not revoke it since)
    int64_t reclaim_at; //  REPLICA while assigned (another claim came after this one's): when to
                        //  claim it again, if the group still says it is this instance's
    int reclaims;       //  claimed again since the assignment: each doubles the next wait
    int64_t owned_at;   //  zclock_mono when it was last owned
    rd_kafka_queue_t *proof; //  a commit of its offset on its way: this instance still a member
} s_part_t;

struct jobd_claims {
    jobd_store_t *store;
    jobd_cluster_t *cluster;
    jobd_changelog_t *changelog;
    rd_kafka_t *group;   //  the consumer of <prefix>.jobs in group <prefix>
    jobd_lease_t *lease; //  renews the lease of each claimed partition
    int partitions;
    s_part_t *parts;
    char instance[JOBD_CL_INST_MAX + 1];
    int64_t lease_ms;
    int64_t session_ms;
    int revoke_ms;
    bool owned_dirty;    //  ownership changed: the store re-reads the first due timer
    bool assigned;       //  the group gave this instance its first assignment (maybe empty)
    atomic_bool settled; //  assigned, and no partition on its way to owned (read by main)
    //  What the plugins read, from their threads: per partition the epoch this instance acts
    //  under (0: it does not act), and how often that set changed.
    _Atomic uint64_t *acting;
    _Atomic uint64_t *since; //  per partition: the log's head when this instance began to own it
    atomic_uint_fast64_t changes;
    jobd_claims_command_fn *command_fn;
    void *command_arg;
    uint64_t commands; //  handed to the broker
    bool handed;       //  some since the last commit of their offsets
};

const char *
jobd_claims_state_name (jobd_claims_state_t state)
{
    static const char *names[] = {"replica", "catchup", "claiming", "waiting", "owned"};
    return (unsigned)state < sizeof names / sizeof names[0] ? names[state] : "unknown";
}

static bool
s_owned (uint16_t partition, void *arg)
{
    return jobd_claims_owns ((jobd_claims_t *)arg, partition);
}

//  This instance's member id in the group, into member ("" before it joined).
static void
s_member (jobd_claims_t *self, char *member, size_t size)
{
    char *id = rd_kafka_memberid (self->group);
    snprintf (member, size, "%s", id ? id : "");
    if (id)
        rd_kafka_mem_free (self->group, id);
}

static void
s_message_free (void **item)
{
    rd_kafka_message_t *message = (rd_kafka_message_t *)*item;
    if (message)
        rd_kafka_message_destroy (message);
    *item = NULL;
}

static void
s_set_state (jobd_claims_t *self, int partition, jobd_claims_state_t state)
{
    s_part_t *part = &self->parts[partition];
    bool owned = part->state != JOBD_CLAIMS_OWNED && state == JOBD_CLAIMS_OWNED;
    if (owned) {
        part->owned_at = zclock_mono ();
        //  What the log holds now came under earlier owners (the claim's catch-up applied it
        //  all): the log's readers that act for jobs leave it to them (jobd_host_acting_at).
        uint64_t head = 0;
        jobd_store_log_head (self->store, &head);
        atomic_store (&self->since[partition], head);
    }
    if ((part->state == JOBD_CLAIMS_OWNED) != (state == JOBD_CLAIMS_OWNED)) {
        self->owned_dirty = true;
        jobd_changelog_set_epoch (self->changelog, partition,
                                  state == JOBD_CLAIMS_OWNED ? part->epoch : 0);
        atomic_store (&self->acting[partition], state == JOBD_CLAIMS_OWNED ? part->epoch : 0);
        atomic_fetch_add (&self->changes, 1);
    }
    if (state == JOBD_CLAIMS_REPLICA || state == JOBD_CLAIMS_CATCHUP) {
        jobd_lease_hold (self->lease, partition, false, 0);
        //  Commands not handed stay in the topic for the next owner (not committed); while the
        //  partition is still this instance's, for itself (s_overtaken).
        if (!part->assigned)
            zlistx_purge (part->backlog);
    }
    if (state != JOBD_CLAIMS_OWNED)
        part->expired = false;
    part->state = state;
}

//  Stops (or resumes) fetching partition's commands.
static void
s_pause (jobd_claims_t *self, int partition, bool pause)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (1);
    rd_kafka_topic_partition_list_add (list, jobd_cluster_topic (self->cluster, "jobs"), partition);
    rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions (self->group, list)
                                    : rd_kafka_resume_partitions (self->group, list);
    if (err)
        jobd_log (JOBD_LOG_WARN, LOG, "partition %d: commands not %s: %s", partition,
                  pause ? "paused" : "resumed", rd_kafka_err2str (err));
    rd_kafka_topic_partition_list_destroy (list);
}

//  The last owner record of a partition, as the store applied it (section 7, step 4).
typedef struct {
    bool claim; //  a claim, else a release
    uint64_t epoch;
    char inst[JOBD_CL_INST_MAX + 1];
} s_owner_t;

//  Reads partition's last owner record into owner. Returns 0, JOBD_ENOTFOUND (none yet), or an
//  error (the store said nothing: asked again a turn later).
static int
s_owner (jobd_claims_t *self, int partition, s_owner_t *owner)
{
    owner->claim = false;
    owner->epoch = 0;
    owner->inst[0] = 0;
    return jobd_store_cl_owner (self->store, (uint16_t)partition, &owner->claim, &owner->epoch,
                                owner->inst, sizeof owner->inst);
}

//  Whether owner is another instance's claim read after this instance's claim of part (a later
//  epoch, or the same one).
static bool
s_after_mine (jobd_claims_t *self, const s_part_t *part, const s_owner_t *owner)
{
    return owner->epoch > part->epoch ||
           (owner->epoch == part->epoch && strcmp (owner->inst, self->instance) != 0);
}

//  Before a claimed partition is owned (section 7, step 5): what this instance wrote there before
//  and Kafka never took is settled to the changelog's version when another owner came between
//  (its claim fences it: the last owner record before this claim is of epoch part->epoch - 1),
//  else produced again with the new epoch. Returns true when done; false when another instance
//  claimed it since, or (logged) when the settle or the resend failed: the partition waits (5 s,
//  doubled up to 5 minutes: the settle's backoff) and tries again, acting on nothing meanwhile,
//  so that no write of it goes out on a job the settle has not set back.
static bool
s_ready_to_own (jobd_claims_t *self, int partition)
{
    s_part_t *part = &self->parts[partition];
    //  Another instance's claim read since: not this instance's to own (s_renew says so).
    //  The store said nothing, or the claim is not this instance's: s_renew says what it is (a
    //  later claim ends the claim); asked again a turn later.
    s_owner_t owner;
    if (s_owner (self, partition, &owner) || owner.epoch != part->epoch ||
        strcmp (owner.inst, self->instance) != 0) {
        part->until = zclock_mono () + S_IDLE_MS;
        return false;
    }
    int rc =
        part->epoch > 1 ? jobd_changelog_settle (self->changelog, partition, part->epoch - 1) : 0;
    if (rc == 0)
        rc = jobd_changelog_resend (self->changelog, partition, part->epoch,
                                    part->epoch > 1 ? part->epoch - 1 : 0);
    if (rc) {
        int64_t wait = jobd_changelog_settle_later (self->changelog, partition);
        jobd_log (JOBD_LOG_WARN, LOG,
                  "partition %d: not owned yet (epoch %" PRIu64 "): its unconfirmed writes are "
                  "neither settled nor sent again; tried again in %lld s",
                  partition, part->epoch, (long long)(wait / 1000));
        part->until = zclock_mono () + wait;
    }
    return rc == 0;
}

//  Assigned by the group: catch up with the changelog, then claim (section 7, steps 1-2).
static void
s_assigned (jobd_claims_t *self, int partition)
{
    s_part_t *part = &self->parts[partition];
    part->assigned = true;
    if (part->state != JOBD_CLAIMS_REPLICA)
        return;
    s_pause (self, partition, false); //  paused when it was given up (s_overtaken)
    part->target = -1;
    part->since = zclock_mono ();
    s_set_state (self, partition, JOBD_CLAIMS_CATCHUP);
}

//  Revoked: stop acting at once; a clean revoke also releases the partition in the changelog, so
//  that the next owner need not wait a lease. Returns true when it produced a release.
static bool
s_revoked (jobd_claims_t *self, int partition, bool lost)
{
    s_part_t *part = &self->parts[partition];
    bool claimed = part->state == JOBD_CLAIMS_OWNED || part->state == JOBD_CLAIMS_WAITING ||
                   part->state == JOBD_CLAIMS_CLAIMING;
    part->assigned = false;
    part->reclaim_at = 0;
    part->reclaims = 0;
    if (part->proof) //  its answer is no longer asked for
        rd_kafka_queue_destroy (part->proof);
    part->proof = NULL;
    s_set_state (self, partition, JOBD_CLAIMS_REPLICA);
    if (!claimed || lost) {
        if (claimed)
            jobd_log (JOBD_LOG_WARN, LOG, "lost partition %d (epoch %" PRIu64 "): not acting",
                      partition, part->epoch);
        return false;
    }
    char reason[256], member[JOBD_CL_NAME_MAX + 1];
    s_member (self, member, sizeof member);
    if (jobd_changelog_owner (self->changelog, partition, false, part->epoch, member, reason,
                              sizeof reason)) {
        jobd_log (JOBD_LOG_WARN, LOG, "partition %d: no release written: %s", partition, reason);
        return false;
    }
    jobd_log (JOBD_LOG_INFO, LOG, "released partition %d (epoch %" PRIu64 ")", partition,
              part->epoch);
    return true;
}

static void
s_rebalance (rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *list,
             void *opaque)
{
    jobd_claims_t *self = (jobd_claims_t *)opaque;
    rd_kafka_error_t *error = NULL;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        self->assigned = true;
        error = rd_kafka_incremental_assign (rk, list);
        for (int index = 0; !error && index < list->cnt; index++)
            if (list->elems[index].partition >= 0 &&
                list->elems[index].partition < self->partitions)
                s_assigned (self, list->elems[index].partition);
    } else {
        bool lost = rd_kafka_assignment_lost (rk);
        bool released = false;
        for (int index = 0; index < list->cnt; index++)
            if (list->elems[index].partition >= 0 &&
                list->elems[index].partition < self->partitions)
                released |= s_revoked (self, list->elems[index].partition, lost);
        //  The releases (and every write before them) acked before the partitions go.
        if (released && jobd_cluster_flush (self->cluster, self->revoke_ms))
            jobd_log (JOBD_LOG_WARN, LOG, "releases not acked within cluster/revoke_timeout");
        error = rd_kafka_incremental_unassign (rk, list);
    }
    if (error) {
        jobd_log (JOBD_LOG_ERROR, LOG, "rebalance: %s", rd_kafka_error_string (error));
        rd_kafka_error_destroy (error);
    }
}

static const char *
s_view (int partition, uint64_t *epoch_p, void *arg)
{
    jobd_claims_t *self = (jobd_claims_t *)arg;
    jobd_claims_state_t state = jobd_claims_state (self, partition, epoch_p);
    if (state == JOBD_CLAIMS_OWNED && jobd_lease_left (self->lease, partition) == 0)
        return "expired"; //  owned, but Kafka did not confirm the claim in time: not acting
    return jobd_claims_state_name (state);
}

int
jobd_claims_new (jobd_config_t *config, jobd_store_t *store, jobd_cluster_t *cluster,
                 jobd_changelog_t *changelog, jobd_claims_t **self_p, char *reason,
                 size_t reason_size)
{
    *self_p = NULL;
    jobd_claims_t *self = (jobd_claims_t *)calloc (1, sizeof (jobd_claims_t));
    if (!self)
        return -ENOMEM;
    self->store = store;
    self->cluster = cluster;
    self->changelog = changelog;
    self->partitions = jobd_cluster_partitions (cluster);
    snprintf (self->instance, sizeof self->instance, "%s", jobd_cluster_instance (cluster));
    self->lease_ms = jobd_config_int (config, "cluster", "lease", 1000);
    self->revoke_ms = (int)jobd_config_int (config, "cluster", "revoke_timeout", 5000);
    self->parts = (s_part_t *)calloc ((size_t)self->partitions, sizeof (s_part_t));
    self->acting = (_Atomic uint64_t *)calloc ((size_t)self->partitions, sizeof (uint64_t));
    self->since = (_Atomic uint64_t *)calloc ((size_t)self->partitions, sizeof (uint64_t));
    if (!self->parts || !self->acting || !self->since) {
        free (self->parts);
        free ((void *)self->acting);
        free ((void *)self->since);
        free (self);
        return -ENOMEM;
    }
    for (int partition = 0; partition < self->partitions; partition++) {
        self->parts[partition].backlog = zlistx_new ();
        zlistx_set_destructor (self->parts[partition].backlog, s_message_free);
        self->parts[partition].handed = -1;
    }
    rd_kafka_conf_t *conf = jobd_cluster_conf (config, RD_KAFKA_CONSUMER, reason, reason_size);
    //  Heartbeats every sixth of the session (librdkafka's 3 s default would let a 3 s session
    //  time out between two of them).
    char session[32], heartbeat[32], error[512];
    int64_t session_ms = jobd_config_int (config, "cluster", "session_timeout", 6000);
    self->session_ms = session_ms;
    snprintf (session, sizeof session, "%lld", (long long)session_ms);
    snprintf (heartbeat, sizeof heartbeat, "%lld",
              (long long)(session_ms / 6 > 0 ? session_ms / 6 : 1));
    const char *own[][2] = {{"group.id", jobd_config_str (config, "cluster", "prefix")},
                            {"partition.assignment.strategy", "cooperative-sticky"},
                            {"session.timeout.ms", session},
                            {"heartbeat.interval.ms", heartbeat},
                            //  A command produced before the group had an offset is applied.
                            {"auto.offset.reset", "earliest"}};
    for (size_t index = 0; conf && index < sizeof own / sizeof own[0]; index++)
        if (rd_kafka_conf_set (conf, own[index][0], own[index][1], error, sizeof error) !=
            RD_KAFKA_CONF_OK) {
            snprintf (reason, reason_size, "cluster: %s: %s", own[index][0], error);
            rd_kafka_conf_destroy (conf);
            conf = NULL;
        }
    if (conf) {
        rd_kafka_conf_set_opaque (conf, self);
        rd_kafka_conf_set_rebalance_cb (conf, s_rebalance);
        if (!(self->group = rd_kafka_new (RD_KAFKA_CONSUMER, conf, error, sizeof error))) {
            snprintf (reason, reason_size, "cluster: group consumer: %s", error);
            rd_kafka_conf_destroy (conf);
        }
    }
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new (1);
    rd_kafka_topic_partition_list_add (topics, jobd_cluster_topic (cluster, "jobs"),
                                       RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err =
        self->group ? rd_kafka_subscribe (self->group, topics) : RD_KAFKA_RESP_ERR__INVALID_ARG;
    rd_kafka_topic_partition_list_destroy (topics);
    if (self->group && err)
        snprintf (reason, reason_size, "cluster: joining group %s: %s",
                  jobd_config_str (config, "cluster", "prefix"), rd_kafka_err2str (err));
    if (!self->group || err) {
        jobd_claims_destroy (&self);
        return JOBD_ECONFIG;
    }
    int rc = jobd_lease_new (self->group, jobd_cluster_topic (cluster, "changelog"),
                             self->partitions, self->lease_ms, &self->lease);
    if (rc) {
        snprintf (reason, reason_size, "cluster: the lease thread: %s", strerror (-rc));
        jobd_claims_destroy (&self);
        return rc;
    }
    jobd_store_set_owned_fn (store, s_owned, self);
    jobd_changelog_set_view (changelog, s_view, self);
    *self_p = self;
    return 0;
}

void
jobd_claims_destroy (jobd_claims_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_claims_t *self = *self_p;
    if (self->group) {
        //  A clean leave: the revoke callback releases every owned partition.
        rd_kafka_consumer_close (self->group);
        jobd_lease_destroy (&self->lease);
        //  librdkafka's messages and queues go before its handle.
        for (int partition = 0; self->parts && partition < self->partitions; partition++) {
            zlistx_purge (self->parts[partition].backlog);
            if (self->parts[partition].proof)
                rd_kafka_queue_destroy (self->parts[partition].proof);
        }
        rd_kafka_destroy (self->group);
        jobd_store_set_owned_fn (self->store, NULL, NULL);
        jobd_changelog_set_view (self->changelog, NULL, NULL);
    }
    for (int partition = 0; self->parts && partition < self->partitions; partition++)
        zlistx_destroy (&self->parts[partition].backlog);
    free (self->parts);
    free ((void *)self->acting);
    free ((void *)self->since);
    free (self);
    *self_p = NULL;
}

//  CATCHUP: once the replica applied the partition up to the high watermark read at the start,
//  the last owner record is known: claim the next epoch (section 7, steps 1-2).
static void
s_catch_up (jobd_claims_t *self, int partition)
{
    s_part_t *part = &self->parts[partition];
    if (part->target < 0) {
        int64_t low = -1, high = -1;
        if (rd_kafka_query_watermark_offsets (self->group,
                                              jobd_cluster_topic (self->cluster, "changelog"),
                                              partition, &low, &high, S_QUERY_MS))
            return; //  Kafka did not answer: asked again next turn
        part->target = high;
    }
    if (jobd_changelog_applied (self->changelog, partition) < part->target)
        return;
    s_owner_t owner;
    int rc = s_owner (self, partition, &owner);
    if (rc && rc != JOBD_ENOTFOUND)
        return;
    part->after_release = rc == JOBD_ENOTFOUND || !owner.claim;
    part->epoch = owner.epoch + 1;
    char reason[256], member[JOBD_CL_NAME_MAX + 1];
    s_member (self, member, sizeof member);
    int64_t claimed_at = zclock_mono ();
    if (jobd_changelog_owner (self->changelog, partition, true, part->epoch, member, reason,
                              sizeof reason)) {
        jobd_log (JOBD_LOG_WARN, LOG, "partition %d: claim not written (tried again): %s",
                  partition, reason);
        return;
    }
    //  The lease is renewed from the claim on (the claim's append came after claimed_at).
    jobd_lease_hold (self->lease, partition, true, claimed_at);
    s_set_state (self, partition, JOBD_CLAIMS_CLAIMING);
}

//  Another instance's claim (inst, epoch) came after this instance's: not acting on the partition.
//  A claim the group did not back (a zombie's, or one that landed late) would leave the partition
//  with no owner until the next rebalance: while the group still assigns it here, its commands
//  are paused (kept, not purged: no other member reads them) and, a session timeout later (by
//  then the group took it from a member it is not assigned to), it is claimed again once the
//  group's coordinator took a commit of its offset from this instance (s_reclaim_turn); each
//  time the wait doubles, up to 5 minutes.
static void
s_overtaken (jobd_claims_t *self, int partition, const char *inst, uint64_t epoch)
{
    s_part_t *part = &self->parts[partition];
    //  Owned for longer than twice the longest wait since the last re-claim: no fight; waits
    //  afresh.
    if (part->state == JOBD_CLAIMS_OWNED && zclock_mono () - part->owned_at > 2 * S_RECLAIM_MAX)
        part->reclaims = 0;
    int64_t wait = self->session_ms << (part->reclaims < 6 ? part->reclaims : 6);
    wait = wait < S_RECLAIM_MAX ? wait : S_RECLAIM_MAX;
    jobd_log (JOBD_LOG_WARN, LOG,
              "partition %d: %s claimed it (epoch %" PRIu64 ") after this instance: not acting%s",
              partition, inst, epoch,
              part->assigned ? " (claimed again later if the group still assigns it here)" : "");
    s_set_state (self, partition, JOBD_CLAIMS_REPLICA);
    if (part->assigned) {
        s_pause (self, partition, true);
        part->reclaim_at = zclock_mono () + wait;
    }
}

//  The offset of partition's next command not handed (to commit: all before it was handed); -1
//  when not known.
static int64_t
s_next_command (jobd_claims_t *self, int partition)
{
    rd_kafka_message_t *first = (rd_kafka_message_t *)zlistx_first (self->parts[partition].backlog);
    if (first)
        return first->offset;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (1);
    const char *topic = jobd_cluster_topic (self->cluster, "jobs");
    rd_kafka_topic_partition_list_add (list, topic, partition)->offset = RD_KAFKA_OFFSET_INVALID;
    int64_t offset = -1;
    if (rd_kafka_position (self->group, list) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        list->elems[0].offset >= 0)
        offset = list->elems[0].offset;
    else if (rd_kafka_committed (self->group, list, S_QUERY_MS) == RD_KAFKA_RESP_ERR_NO_ERROR &&
             !list->elems[0].err) {
        //  The group's offset, or, when it has none (nothing committed: nothing consumed yet),
        //  the partition's start. A coordinator that did not answer: not known (a low watermark
        //  then could move the group's offset back).
        int64_t low = -1, high = -1;
        if (list->elems[0].offset >= 0)
            offset = list->elems[0].offset;
        else if (rd_kafka_query_watermark_offsets (self->group, topic, partition, &low, &high,
                                                   S_QUERY_MS) == RD_KAFKA_RESP_ERR_NO_ERROR)
            offset = low;
    }
    rd_kafka_topic_partition_list_destroy (list);
    return offset;
}

//  A partition given up while still assigned here (s_overtaken): when its wait is over, commits
//  its offset (what was handed) to the group's coordinator, which refuses a member of an older
//  generation; once that commit is taken, claims it again (section 7, steps 1-6).
static void
s_reclaim_turn (jobd_claims_t *self, int partition, int64_t now)
{
    s_part_t *part = &self->parts[partition];
    if (part->proof) {
        rd_kafka_event_t *event = rd_kafka_queue_poll (part->proof, 0);
        if (!event)
            return;
        if (rd_kafka_event_type (event) != RD_KAFKA_EVENT_OFFSET_COMMIT) {
            rd_kafka_event_destroy (event); //  not the commit's answer
            return;
        }
        rd_kafka_resp_err_t err = rd_kafka_event_error (event);
        char why[256];
        snprintf (why, sizeof why, "%s", rd_kafka_err2str (err));
        rd_kafka_event_destroy (event);
        rd_kafka_queue_destroy (part->proof);
        part->proof = NULL;
        if (!part->assigned || part->state != JOBD_CLAIMS_REPLICA)
            return;
        if (err) {
            part->reclaim_at = now + self->session_ms;
            jobd_log (JOBD_LOG_WARN, LOG,
                      "partition %d: not claimed again: the group's coordinator did not take "
                      "this instance's commit (%s); asked again in %lld ms",
                      partition, why, (long long)self->session_ms);
            return;
        }
        jobd_log (JOBD_LOG_WARN, LOG,
                  "partition %d: still assigned to this instance after another instance's claim: "
                  "claiming it again",
                  partition);
        part->reclaims++;
        s_assigned (self, partition);
        return;
    }
    if (part->state != JOBD_CLAIMS_REPLICA || !part->assigned || !part->reclaim_at ||
        now < part->reclaim_at)
        return;
    part->reclaim_at = 0;
    int64_t offset = s_next_command (self, partition);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (1);
    rd_kafka_topic_partition_list_add (list, jobd_cluster_topic (self->cluster, "jobs"), partition)
        ->offset = offset;
    part->proof = offset >= 0 ? rd_kafka_queue_new (self->group) : NULL;
    rd_kafka_resp_err_t err =
        part->proof ? rd_kafka_commit_queue (self->group, list, part->proof, NULL, NULL)
                    : RD_KAFKA_RESP_ERR__STATE;
    rd_kafka_topic_partition_list_destroy (list);
    if (err) {
        if (part->proof)
            rd_kafka_queue_destroy (part->proof);
        part->proof = NULL;
        part->reclaim_at = now + self->session_ms;
    }
}

//  A renewal of the lease of a claimed partition (section 8 (b)), once the replica applied the
//  partition up to the high watermark it read: the lease runs on while this instance's claim is
//  still the last; a later claim ends it.
static void
s_renew (jobd_claims_t *self, int partition)
{
    s_part_t *part = &self->parts[partition];
    int64_t asked_at = 0, high = 0;
    if (!jobd_lease_renewal (self->lease, partition, &asked_at, &high) ||
        jobd_changelog_applied (self->changelog, partition) < high)
        return;
    s_owner_t owner;
    if (s_owner (self, partition, &owner))
        return;
    if (owner.claim && owner.epoch == part->epoch && strcmp (owner.inst, self->instance) == 0)
        jobd_lease_grant (self->lease, partition, asked_at);
    else if (s_after_mine (self, part, &owner) && part->state != JOBD_CLAIMS_CLAIMING)
        s_overtaken (self, partition, owner.inst, owner.epoch);
}

//  Whether this instance acts on partition now: owned, with time left on its lease. When that
//  changed since the last turn, the plugins and the store's timers are told.
static void
s_live (jobd_claims_t *self, int partition)
{
    s_part_t *part = &self->parts[partition];
    bool live = part->state == JOBD_CLAIMS_OWNED && jobd_lease_left (self->lease, partition) > 0;
    if (live == part->live)
        return;
    part->live = live;
    self->owned_dirty = true;
    atomic_fetch_add (&self->changes, 1);
    if (part->state != JOBD_CLAIMS_OWNED)
        return;
    if (live && part->expired)
        jobd_log (JOBD_LOG_INFO, LOG, "partition %d: lease renewed: acting again", partition);
    part->expired = !live;
    if (!live)
        jobd_log (JOBD_LOG_WARN, LOG,
                  "partition %d: lease ran out (Kafka did not confirm this instance's claim for "
                  "%lld ms): not acting",
                  partition, (long long)self->lease_ms);
}

//  Hands the broker the commands of a partition this instance acts on, in their order.
static void
s_hand (jobd_claims_t *self, int partition)
{
    s_part_t *part = &self->parts[partition];
    rd_kafka_message_t *message;
    while ((message = (rd_kafka_message_t *)zlistx_first (part->backlog))) {
        const void *token = NULL;
        size_t token_size = 0;
        rd_kafka_headers_t *headers = NULL;
        if (rd_kafka_message_headers (message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last (headers, JOBD_FORWARD_HEADER, &token, &token_size) !=
                RD_KAFKA_RESP_ERR_NO_ERROR)
            token_size = 0;
        self->command_fn (message->payload, message->len, (const uint8_t *)token,
                          token ? token_size : 0, self->command_arg);
        self->commands++;
        part->handed = message->offset + 1;
        self->handed = true;
        zlistx_delete (part->backlog, zlistx_cursor (part->backlog));
    }
}

//  CLAIMING: the claim read back makes this instance the owner; a later claim read first means
//  another instance claimed after it (section 7, step 3).
static void
s_claimed (jobd_claims_t *self, int partition)
{
    s_part_t *part = &self->parts[partition];
    s_owner_t owner;
    if (s_owner (self, partition, &owner))
        return;
    if (s_after_mine (self, part, &owner)) {
        s_overtaken (self, partition, owner.inst, owner.epoch);
        return;
    }
    if (owner.epoch < part->epoch || !owner.claim)
        return; //  not read back yet
    if (part->after_release) {
        if (s_ready_to_own (self, partition))
            s_set_state (self, partition, JOBD_CLAIMS_OWNED);
        else if (part->state == JOBD_CLAIMS_CLAIMING)
            s_set_state (self, partition, JOBD_CLAIMS_WAITING);
        return;
    }
    //  The previous owner did not release: it may act until its lease runs out (section 8).
    part->until = zclock_mono () + (int64_t)((double)self->lease_ms * S_LEASE_SLACK);
    s_set_state (self, partition, JOBD_CLAIMS_WAITING);
}

int64_t
jobd_claims_turn (jobd_claims_t *self)
{
    //  Serves the group's callbacks, and takes the commands forwarded through the jobs topic.
    rd_kafka_message_t *message;
    for (int taken = 0;
         taken < S_COMMANDS_MAX && (message = rd_kafka_consumer_poll (self->group, 0)); taken++) {
        if (message->err || message->partition < 0 || message->partition >= self->partitions ||
            !self->command_fn)
            rd_kafka_message_destroy (message);
        else
            zlistx_add_end (self->parts[message->partition].backlog, message);
    }
    int64_t wait = S_IDLE_MS, now = zclock_mono ();
    bool moving = false;
    for (int partition = 0; partition < self->partitions; partition++) {
        s_part_t *part = &self->parts[partition];
        s_reclaim_turn (self, partition, now);
        if (part->state == JOBD_CLAIMS_CATCHUP)
            s_catch_up (self, partition);
        if (part->state == JOBD_CLAIMS_CLAIMING)
            s_claimed (self, partition);
        if (part->state == JOBD_CLAIMS_WAITING && now >= part->until &&
            s_ready_to_own (self, partition))
            s_set_state (self, partition, JOBD_CLAIMS_OWNED);
        if (part->state != JOBD_CLAIMS_REPLICA && part->state != JOBD_CLAIMS_CATCHUP)
            s_renew (self, partition);
        if (part->state == JOBD_CLAIMS_REPLICA)
            jobd_changelog_settle_due (self->changelog, partition);
        s_live (self, partition);
        if (part->live) {
            s_hand (self, partition);
            jobd_changelog_resend_due (self->changelog, partition);
            jobd_changelog_repair_due (self->changelog, partition);
        }
        if (part->state == JOBD_CLAIMS_OWNED && part->since) {
            jobd_log (JOBD_LOG_INFO, LOG, "owner of partition %d (epoch %" PRIu64 ") in %lld ms%s",
                      partition, part->epoch, (long long)(zclock_mono () - part->since),
                      part->after_release ? ""
                                          : ", after the lease of an owner that did not release");
            part->since = 0;
        }
        if (part->state == JOBD_CLAIMS_CATCHUP || part->state == JOBD_CLAIMS_CLAIMING)
            wait = S_BUSY_MS;
        moving |= part->state != JOBD_CLAIMS_REPLICA && part->state != JOBD_CLAIMS_OWNED;
        if (part->state == JOBD_CLAIMS_WAITING && part->until - now < wait)
            wait = part->until - now > 0 ? part->until - now : 0;
    }
    atomic_store (&self->settled, self->assigned && !moving);
    if (self->owned_dirty) {
        self->owned_dirty = false;
        if (jobd_store_set_owned_fn (self->store, s_owned, self))
            jobd_log (JOBD_LOG_ERROR, LOG, "cannot read the owned partitions' timers");
    }
    return wait;
}

bool
jobd_claims_owns (jobd_claims_t *self, int partition)
{
    return partition >= 0 && partition < self->partitions &&
           self->parts[partition].state == JOBD_CLAIMS_OWNED &&
           jobd_lease_left (self->lease, partition) > 0;
}

jobd_claims_state_t
jobd_claims_state (jobd_claims_t *self, int partition, uint64_t *epoch_p)
{
    if (partition < 0 || partition >= self->partitions) {
        *epoch_p = 0;
        return JOBD_CLAIMS_REPLICA;
    }
    *epoch_p = self->parts[partition].epoch;
    return self->parts[partition].state;
}

bool
jobd_claims_settled (jobd_claims_t *self)
{
    return atomic_load (&self->settled);
}

int
jobd_claims_acting (jobd_claims_t *self, const char *id, uint32_t *partition_p, uint64_t *epoch_p)
{
    int partition = id ? jobd_route_partition (id, self->partitions) : -1;
    uint64_t epoch = partition >= 0 && jobd_lease_left (self->lease, partition) > 0
                         ? atomic_load (&self->acting[partition])
                         : 0;
    if (partition_p)
        *partition_p = partition >= 0 ? (uint32_t)partition : 0;
    if (epoch_p)
        *epoch_p = epoch;
    return epoch ? 0 : JOBD_ENOTOWNER;
}

int
jobd_claims_partitions (jobd_claims_t *self)
{
    return self->partitions;
}

uint64_t
jobd_claims_partition_acting (jobd_claims_t *self, uint32_t partition)
{
    return partition < (uint32_t)self->partitions &&
                   jobd_lease_left (self->lease, (int)partition) > 0
               ? atomic_load (&self->acting[partition])
               : 0;
}

uint64_t
jobd_claims_since (jobd_claims_t *self, uint32_t partition)
{
    return partition < (uint32_t)self->partitions ? atomic_load (&self->since[partition]) : 0;
}

uint64_t
jobd_claims_changes (jobd_claims_t *self)
{
    return atomic_load (&self->changes);
}

void
jobd_claims_set_command_fn (jobd_claims_t *self, jobd_claims_command_fn *fn, void *arg)
{
    self->command_fn = fn;
    self->command_arg = arg;
}

void
jobd_claims_commit (jobd_claims_t *self)
{
    if (!self->handed)
        return; //  the broker's every turn: nothing to look at
    self->handed = false;
    rd_kafka_topic_partition_list_t *offsets = NULL;
    for (int partition = 0; partition < self->partitions; partition++) {
        s_part_t *part = &self->parts[partition];
        if (part->handed < 0)
            continue;
        if (!offsets)
            offsets = rd_kafka_topic_partition_list_new (4);
        rd_kafka_topic_partition_list_add (offsets, jobd_cluster_topic (self->cluster, "jobs"),
                                           partition)
            ->offset = part->handed;
        part->handed = -1;
    }
    if (!offsets)
        return;
    rd_kafka_resp_err_t err = rd_kafka_commit (self->group, offsets, 1);
    if (err)
        jobd_log (JOBD_LOG_WARN, LOG, "commands' offsets not committed: %s",
                  rd_kafka_err2str (err));
    rd_kafka_topic_partition_list_destroy (offsets);
}
