//  The broker: one thread that owns the bus and the store's write path. Observations and
//  commands in, group commit, transitions out, in that order and no other.
#include "jobd_broker.h"
#include "jobd_admin.h"
#include "jobd_asks.h"
#include "jobd_changelog.h"
#include "jobd_forward.h"
#include "jobd_route.h"
#include "jobd_held.h"
#include "jobd_claims.h"
#include "jobd_map.h"
#include "jobd_reply.h"
#include "jobd_log.h"
#include "jobd_owners.h"
#include "jobd_plugin.h"
#include "jobd_publisher.h"
#include "jobd_query.h"
#include "jobd_socket.h"
#include "jobd_store_cl.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define LOG "broker"

#define JOBD_BROKER_PLUGINS_MAX  256     //  entries of the plugin table (loaded plugins only)
#define JOBD_BROKER_CLIENT_QUEUE 64      //  default messages waiting per admin client
#define JOBD_BROKER_RETRY_PLUGIN "retry" //  the plugin name reserved for the retry policy
#define S_FULL_RETRIES           16   //  a batch the map could not hold, applied again as it grows
#define S_HELD_STOP_MS           2000 //  at stop: how long held replies wait for the changelog

//  One message waiting for the batch's commit.
typedef struct {
    zsock_t *from;         //  bus or admin
    uint8_t identity[256]; //  the sender's ROUTER identity
    size_t identity_size;
    bool delimiter;      //  the sender is a REQ socket: replies need an empty frame
    bool wants_reply;    //  admin senders always; plugins when the event says so
    jobd_event_t *event; //  a store event (submit, track, cancel, retry, observed), or NULL:
                         //  an observation of a batch refused on arrival (rc, reason, id)
    int rc;
    jobd_apply_result_t result;
    //  An observation of a `batch` event: the batch's entries are contiguous, its first holds
    //  the batch's id and size, and one reply answers them all after the commit.
    bool in_batch;
    bool flat;          //  event is one allocation (jobd_event_from_object_flat): free() it whole
    size_t batch_count; //  the first entry of a batch: how many entries it has
    char *batch_id;     //  the first entry of a batch: the batch event's id (fresh)
    char *id;           //  refused on arrival: the observation's id, when it had one (fresh);
                        //  a cursor removal: the query's id (fresh)
    char *reason;       //  refused on arrival: why (fresh)
    char *drop;         //  a `drop_cursor` query: the cursor to remove, in the batch (fresh)
} s_entry_t;

typedef struct {
    zsock_t *pipe;
    jobd_store_t *store;
    zsock_t *bus;                //  ROUTER, inproc: plugins
    zsock_t *admin;              //  ROUTER, external: jobctl and other tools
    jobd_publisher_t *publisher; //  transitions and commands to plugins and subscribers
    jobd_query_t *query;         //  answers the admin queries that read the store
    size_t batch_max;
    size_t batch_room; //  entries allocated: batch_max, or a whole batch event
    s_entry_t *batch;
    size_t batch_size;
    jobd_stats_t stats;
    zhashx_t *plugins;     //  name -> zhashx of strings
    zhashx_t *figures;     //  name -> zchunk_t: the figures of its last plugin.status
    jobd_owners_t *owners; //  which plugin takes which kind of submission, and checks it
    jobd_asks_t *asks;     //  plugins queries waiting for the plugins' answers to a status.ask
    uint64_t reject_logs;  //  rejects logged in the current second
    int64_t reject_second;
    int64_t cursor_idle_max;     //  ms, 0: cursors never expire
    int64_t tick;                //  ms between housekeeping turns
    int64_t next_tick;           //  zclock_mono of the next one
    int64_t next_expiry;         //  zclock_mono of the next cursor expiry pass
    jobd_deadline_t *deadline;   //  arms deadlines and fires them (borrowed), or NULL
    jobd_changelog_t *changelog; //  cluster mode (borrowed), or NULL: the single instance
    jobd_held_t *held;           //  cluster mode: replies waiting for the changelog
    uint64_t hold_ticket;       //  while a batch replies: the ticket its replies wait for (0: none)
    jobd_claims_t *claims;      //  cluster mode: the partitions this instance acts on (borrowed)
    jobd_forward_t *forward;    //  cluster mode: commands for other instances' jobs (borrowed)
    uint64_t forward_group;     //  while a batch flushes: its forwards' group (0: none yet)
    int64_t claims_wait;        //  ms until the claims need their next turn
    int64_t timers_retry_at;    //  ms since the epoch: after a failed firing, not before
    size_t timers_max;          //  timers fired per commit: batch_max, S_TIMERS_MIN at least
    jobd_store_timer_t *timers; //  timers_max, taken from the store each turn
    jobd_deadline_fired_t *fired; //  what each did
    uint64_t stale_logs;          //  stale jobs logged in the current second
    int64_t stale_second;
    void (*heartbeat) (const jobd_stats_t *stats, void *arg); //  or NULL (options)
    void *heartbeat_arg;
    int64_t heartbeat_ms;
    int64_t next_beat; //  zclock_mono of the next heartbeat
    bool terminated;
    msgpack_sbuffer reply_buffer; //  kept from reply to reply
} s_broker_t;

struct _jobd_broker_t {
    zactor_t *actor;
};

typedef struct {
    jobd_store_t *store;
    jobd_broker_options_t options;
    char *reason;
    size_t reason_size;
    int status; //  set by the actor before its start signal: 0, or why it could not start
} s_args_t;

//  Ends the second of rejects when it is over: says how many were not logged. Called with each
//  reject and by the housekeeping tick, so that the last second's count is written too.
static void
s_reject_second (s_broker_t *self, int64_t second)
{
    if (second == self->reject_second)
        return;
    if (self->reject_logs > 20)
        jobd_log (JOBD_LOG_WARN, LOG, "%" PRIu64 " more rejects not logged",
                  self->reject_logs - 20);
    self->reject_second = second;
    self->reject_logs = 0;
}

//  Rejects are logged, but at most 20 a second: a flood of bad input must not flood the log.
static void
s_reject (s_broker_t *self, const char *where, int rc, const char *reason)
{
    self->stats.rejected++;
    s_reject_second (self, jobd_now_ms () / 1000);
    if (++self->reject_logs <= 20)
        jobd_log (JOBD_LOG_WARN, LOG, "rejected from %s: %s", where,
                  reason && *reason ? reason : jobd_strerror (rc));
}

//  Sends a reply to its client. Cluster mode: a reply with no socket answers a command forwarded
//  by another instance (identity is its reply token): it goes to the replies topic (arg: the
//  broker).
static void
s_send_bytes (zsock_t *socket, const uint8_t *identity, size_t identity_size, bool delimiter,
              const void *data, size_t size, void *arg)
{
    if (!socket) {
        s_broker_t *self = (s_broker_t *)arg;
        if (self && self->forward && identity_size)
            jobd_forward_reply (self->forward, identity, identity_size, data, size);
        return;
    }
    void *handle = zsock_resolve (socket);
    //  ROUTER drops what it cannot deliver; a reply never blocks the broker.
    zmq_send (handle, identity, identity_size, ZMQ_SNDMORE);
    if (delimiter)
        zmq_send (handle, "", 0, ZMQ_SNDMORE);
    zmq_send (handle, data, size, 0);
}

static void
s_send_reply (s_broker_t *self, zsock_t *socket, const uint8_t *identity, size_t identity_size,
              bool delimiter, msgpack_sbuffer *buffer)
{
    s_send_bytes (socket, identity, identity_size, delimiter, buffer->data, buffer->size, self);
}

//  A reply to an event of the batch: in cluster mode held until the changelog gave the batch
//  back (docs/cluster.md section 10), else sent.
static void
s_batch_reply (s_broker_t *self, zsock_t *socket, const uint8_t *identity, size_t identity_size,
               bool delimiter, msgpack_sbuffer *buffer)
{
    if (self->hold_ticket && self->held &&
        jobd_held_add (self->held, self->hold_ticket, socket, identity, identity_size, delimiter,
                       buffer->data, buffer->size) == 0)
        return;
    s_send_reply (self, socket, identity, identity_size, delimiter, buffer);
}

//  The wire name of an apply outcome (a reply's "outcome").
static const char *
s_outcome_name (jobd_apply_outcome_t outcome)
{
    static const char *names[] = {"changed",     "duplicate", "backward",
                                  "old_attempt", "forwarded", "replayed"};
    return (unsigned)outcome < 6 ? names[outcome] : "unknown";
}

//  Packs the reply to one event: result may be NULL (no store outcome).
static void
s_pack_reply (msgpack_packer *pk, const char *event_id, int rc, const char *reason,
              const jobd_apply_result_t *result)
{
    const char *job = result && result->job[0] ? result->job : NULL;
    const char *outcome = result && rc == 0 ? s_outcome_name (result->outcome) : NULL;
    jobd_reply_pack (pk, event_id, rc, reason, job, outcome);
}

//  Replies are packed into the broker's one reply buffer: a fresh buffer cost a malloc (8 KiB,
//  msgpack's first size) per event.
static void
s_reply (s_broker_t *self, zsock_t *socket, const uint8_t *identity, size_t identity_size,
         bool delimiter, const char *event_id, int rc, const char *reason,
         const jobd_apply_result_t *result)
{
    msgpack_sbuffer_clear (&self->reply_buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->reply_buffer, msgpack_sbuffer_write);
    s_pack_reply (&pk, event_id, rc, reason, result);
    s_batch_reply (self, socket, identity, identity_size, delimiter, &self->reply_buffer);
}

//  Publishes one message, topic and bytes, to the plugins and, when external, to the
//  subscribers: handed to the publisher's thread at the end of the loop turn.
static void
s_publish_bytes (s_broker_t *self, const char *topic, const void *data, size_t size, bool external)
{
    if (jobd_publisher_add (self->publisher, topic, data, size, external))
        jobd_log (JOBD_LOG_ERROR, LOG, "cannot publish %s: out of memory", topic);
}

static void
s_publish (s_broker_t *self, const char *topic, const jobd_event_t *event, bool external)
{
    uint8_t *data = NULL;
    size_t size = 0;
    char reason[256];
    if (jobd_event_encode (event, &data, &size, reason, sizeof reason)) {
        jobd_log (JOBD_LOG_ERROR, LOG, "cannot encode %s for publishing: %s", topic, reason);
        return;
    }
    s_publish_bytes (self, topic, data, size, external);
    free (data);
}

//  The store encoded the transition when it wrote it to the history: published as is.
static void
s_publish_transition (s_broker_t *self, const char *job, const jobd_transition_t *transition)
{
    //  "job.STATE.ID", by hand: snprintf's share of the broker's time showed.
    char topic[JOBD_ID_MAX + 32];
    const char *state = jobd_state_name (transition->to);
    size_t state_size = strlen (state), job_size = strnlen (job, JOBD_ID_MAX);
    memcpy (topic, "job.", 4);
    memcpy (topic + 4, state, state_size);
    topic[4 + state_size] = '.';
    memcpy (topic + 5 + state_size, job, job_size);
    topic[5 + state_size + job_size] = 0;
    s_publish_bytes (self, topic, transition->data, transition->size, true);
    self->stats.transitions++;
}

//  A command the store forwards goes to the plugins, with the job's record filled in: a cancel
//  the backend must carry out to those of the job's kind ("cmd.cancel.<kind>"), a plain retry
//  to the retry plugin ("cmd.retry"), which plans it by its policy.
static void
s_forward (s_broker_t *self, const char *id, const jobd_event_t *event)
{
    jobd_job_t *job = NULL;
    if (jobd_store_job_get (self->store, id, &job))
        return;
    jobd_event_t *command = jobd_event_dup (event);
    if (command) {
        jobd_event_set (&command->job, job->id);
        jobd_event_set (&command->kind, job->kind);
        jobd_event_set (&command->backend, job->backend);
        jobd_event_set (&command->ext, job->ext);
        command->attempt = job->attempt;
        char topic[JOBD_ID_MAX + 16];
        if (event->type == JOBD_EVENT_RETRY)
            snprintf (topic, sizeof topic, "cmd.retry");
        else
            snprintf (topic, sizeof topic, "cmd.cancel.%s", job->kind);
        s_publish (self, topic, command, false);
        jobd_event_destroy (&command);
    }
    self->stats.forwarded++;
    jobd_job_destroy (&job);
}

//  A refused or ineffective kill, once durable on the job's record, goes to the plugins and the
//  subscribers: "cancel.failed.<job id>" (`jobctl cancel --wait` waits for it).
static void
s_publish_cancel_failed (s_broker_t *self, const s_entry_t *entry)
{
    if (entry->event->type != JOBD_EVENT_CANCEL_FAILED ||
        entry->result.outcome != JOBD_APPLY_CHANGED)
        return;
    char topic[JOBD_ID_MAX + 32];
    snprintf (topic, sizeof topic, "cancel.failed.%s", entry->event->job);
    s_publish (self, topic, entry->event, true);
}

//  A retry plan, once durable: counted; a final one (no retry follows) goes to the plugins and
//  the subscribers on "retry.final.<job id>".
static void
s_publish_retry_plan (s_broker_t *self, const s_entry_t *entry)
{
    if (entry->event->type != JOBD_EVENT_RETRY_PLAN || entry->result.outcome != JOBD_APPLY_CHANGED)
        return;
    if (entry->event->state == JOBD_STATE_RETRY_WAIT) {
        self->stats.retry_planned++;
        return;
    }
    self->stats.retry_final++;
    char topic[JOBD_ID_MAX + 32];
    snprintf (topic, sizeof topic, "retry.final.%s", entry->event->job);
    s_publish (self, topic, entry->event, true);
}

static void
s_count_outcome (s_broker_t *self, const s_entry_t *entry)
{
    switch (entry->result.outcome) {
        case JOBD_APPLY_CHANGED:
            //  A cursor event changes the store but makes no transition: not "applied".
            if (entry->result.transition_count)
                self->stats.applied++;
            break;
        case JOBD_APPLY_DUPLICATE:
            self->stats.duplicates++;
            break;
        case JOBD_APPLY_BACKWARD:
            self->stats.backward++;
            jobd_log (JOBD_LOG_DEBUG, LOG, "job %s: %s from %s refused by the state machine",
                      entry->result.job, jobd_state_name (entry->event->state),
                      entry->event->source);
            break;
        case JOBD_APPLY_OLD_ATTEMPT:
            self->stats.old_attempt++;
            break;
        case JOBD_APPLY_REPLAY:
            self->stats.replayed++;
            break;
        case JOBD_APPLY_FORWARD:
            break;
    }
}

//  Answers a cursor removal after its batch's commit.
static void
s_answer_drop (s_broker_t *self, s_entry_t *entry, int batch_rc)
{
    char reason[JOBD_NAME_MAX + 64] = "";
    int rc = batch_rc ? batch_rc : entry->rc;
    if (rc == 0)
        jobd_log (JOBD_LOG_WARN, LOG,
                  "cursor '%s' removed by an admin client: it holds the "
                  "transition log no more",
                  entry->drop);
    else if (rc == JOBD_ENOTFOUND)
        snprintf (reason, sizeof reason, "no cursor '%s'", entry->drop);
    if (rc)
        self->stats.rejected++;
    s_reply (self, entry->from, entry->identity, entry->identity_size, entry->delimiter, entry->id,
             rc, reason, NULL);
    zstr_free (&entry->drop);
    zstr_free (&entry->id);
}

//  Why the store refused an event of the batch, for the log. An observation that would give its
//  job another job's backend id is kept on that job's record (store/README.md, "by_ext"): the
//  log says where to read it.
static void
s_refused_reason (const s_entry_t *entry, char *reason, size_t size)
{
    const jobd_event_t *event = entry->event;
    bool noted = event->type == JOBD_EVENT_OBSERVED && event->job && entry->rc == JOBD_EEXIST;
    snprintf (reason, size, "%s %s: %s%s%.64s%s%s%s", jobd_event_type_name (event->type),
              event->job ? event->job : (event->ext ? event->ext : ""), jobd_strerror (entry->rc),
              noted ? " (its backend id belongs to another job; kept on the record: jobctl show "
                    : "",
              noted ? event->job : "", noted ? ")" : "", entry->result.reason ? ": " : "",
              entry->result.reason ? entry->result.reason : "");
}

//  Cluster mode, after a batch's commit (rc 0) or abort: what it changed goes to the changelog.
static void
s_changelog_after (s_broker_t *self, int rc)
{
    if (self->changelog && rc == 0)
        jobd_changelog_send (self->changelog);
    else if (self->changelog)
        jobd_changelog_drop (self->changelog);
}

//  Cluster mode: a transition the changelog confirmed, published on its way back (on every
//  instance alike, this one's own included: docs/cluster.md, section 5).
static void
s_publish_confirmed (const char *job, const jobd_transition_t *transition, void *arg)
{
    s_publish_transition ((s_broker_t *)arg, job, transition);
}

//  What became of a held reply's write of job (jobd_changelog_fenced).
static jobd_held_fate_t
s_held_fenced (uint64_t ticket, const char *job, void *arg)
{
    switch (jobd_changelog_fenced (((s_broker_t *)arg)->changelog, ticket, job)) {
        case JOBD_CHANGELOG_FENCED:
            return JOBD_HELD_FENCED;
        case JOBD_CHANGELOG_REFUSED:
            return JOBD_HELD_REFUSED;
        default:
            return JOBD_HELD_STORED;
    }
}

//  Sends the held replies whose batches the changelog confirmed.
static void
s_release_held (s_broker_t *self)
{
    if (self->held && jobd_held_size (self->held))
        jobd_held_release (self->held, jobd_changelog_confirmed (self->changelog), s_send_bytes,
                           s_held_fenced, self);
}

//  Frees what an entry of the batch holds, once answered.
static void
s_entry_done (s_entry_t *entry)
{
    jobd_apply_result_clear (&entry->result);
    if (entry->flat) {
        free (entry->event);
        entry->event = NULL;
    }
    jobd_event_destroy (&entry->event);
    zstr_free (&entry->batch_id);
    zstr_free (&entry->id);
    zstr_free (&entry->reason);
}

//  Cluster mode: a command the store refused because another instance owns its job's partition
//  goes to that owner through the jobs topic (docs/cluster.md section 4). A single event waits
//  for the owner's reply (relayed by jobd_forward_turn); an observation of a batch is answered
//  `forwarded` in the batch's reply, which goes once Kafka acked the batch's forwards. Returns
//  true when it was forwarded. Commands that came from the jobs topic are not forwarded again.
static bool
s_forward_command (s_broker_t *self, s_entry_t *entry)
{
    jobd_event_t *event = entry->event;
    if (!self->forward || !entry->from || !entry->result.job[0] ||
        (event->type != JOBD_EVENT_CANCEL && event->type != JOBD_EVENT_RETRY &&
         event->type != JOBD_EVENT_OBSERVED && event->type != JOBD_EVENT_TRACK &&
         event->type != JOBD_EVENT_SUBMIT))
        return false;
    //  A submission this instance could draw no id for (it acts on no partition): the last id
    //  drawn goes with it, and its partition's owner makes the job under it. (One with a
    //  backend id goes to its derived id's owner, which derives it again.)
    if (event->type == JOBD_EVENT_SUBMIT && jobd_route_id_time (entry->result.job) >= 0 &&
        jobd_event_set (&event->job, entry->result.job))
        return false;
    uint8_t *data = NULL;
    size_t size = 0;
    char reason[256] = "";
    int rc = jobd_event_encode (event, &data, &size, reason, sizeof reason);
    if (rc == 0 && entry->in_batch && !self->forward_group)
        self->forward_group = jobd_forward_group (self->forward);
    jobd_forward_to_t to = {entry->from, entry->identity, entry->identity_size, entry->delimiter};
    bool wants = !entry->in_batch && entry->wants_reply;
    if (rc == 0)
        rc = jobd_forward_send (self->forward, data, size, entry->result.job, wants ? &to : NULL,
                                event->id, entry->in_batch ? self->forward_group : 0, reason,
                                sizeof reason);
    free (data);
    if (rc) {
        jobd_log (JOBD_LOG_WARN, LOG, "%s of %s not forwarded to its owner: %s",
                  jobd_event_type_name (event->type), entry->result.job, reason);
        return false;
    }
    entry->rc = 0;
    entry->result.outcome = JOBD_APPLY_FORWARD;
    return true;
}

//  Applies the batch in one write transaction; publishes and replies only after the commit.
//  In cluster mode its transitions are published when the changelog gives them back.
static void
s_flush (s_broker_t *self)
{
    if (self->batch_size == 0)
        return;
    int batch_rc;
    int64_t commit_start;
    //  A batch the map cannot hold is applied again once the map grew (jobd_store_begin grows it
    //  after an EFULL): only past core/map_size_max is a client told EFULL.
    for (int attempt = 0;; attempt++) {
        batch_rc = jobd_store_begin (self->store);
        for (size_t index = 0; index < self->batch_size && batch_rc == 0; index++) {
            s_entry_t *entry = &self->batch[index];
            //  An event the store refuses costs that event only; one that breaks the batch
            //  makes the commit fail, and then every event of the batch is refused.
            jobd_apply_result_clear (&entry->result);
            if (entry->event)
                entry->rc = jobd_store_apply (self->store, entry->event, &entry->result);
            else if (entry->drop)
                entry->rc = jobd_store_cursor_drop (self->store, entry->drop);
        }
        if (batch_rc == 0 && self->changelog)
            batch_rc = jobd_changelog_record (self->changelog);
        commit_start = zclock_usecs ();
        if (batch_rc == 0)
            batch_rc = jobd_store_commit (self->store);
        else
            jobd_store_abort (self->store);
        s_changelog_after (self, batch_rc);
        if (batch_rc != JOBD_EFULL || attempt == S_FULL_RETRIES ||
            !jobd_store_map_may_grow (self->store))
            break;
    }
    if (batch_rc == 0)
        jobd_stats_commit (&self->stats, self->batch_size, zclock_usecs () - commit_start);

    if (batch_rc) {
        self->stats.commit_failures++;
        //  jobd_strerror (JOBD_EFULL) says to raise core/map_size_max already.
        jobd_log (JOBD_LOG_ERROR, LOG, "batch of %zu events not stored: %s", self->batch_size,
                  jobd_strerror (batch_rc));
    } else
        self->stats.commits++;

    //  Cluster mode: "stored" once the changelog gave the batch back; replies held before stay
    //  ahead of these.
    if (self->changelog)
        s_release_held (self);
    self->hold_ticket = self->changelog ? jobd_changelog_ticket (self->changelog) : 0;
    msgpack_packer batch_pk;
    size_t batch_last = 0; //  the index of the current batch event's last entry
    for (size_t index = 0; index < self->batch_size; index++) {
        s_entry_t *entry = &self->batch[index];
        if (entry->drop) {
            s_answer_drop (self, entry, batch_rc);
            continue;
        }
        if (!entry->event) {
            //  Refused on arrival (and counted then): only its reply is left.
        } else if (batch_rc) {
            entry->rc = batch_rc;
            self->stats.rejected++;
        } else if (entry->rc == JOBD_ENOTOWNER && s_forward_command (self, entry)) {
            if (!entry->in_batch) {
                s_entry_done (entry);
                continue; //  the owner answers
            }
        } else if (entry->rc) {
            //  A submission refused names no job: the id drawn for it was never stored.
            if (entry->event->type == JOBD_EVENT_SUBMIT && entry->rc == JOBD_ENOTOWNER)
                entry->result.job[0] = 0;
            char reason[300];
            s_refused_reason (entry, reason, sizeof reason);
            s_reject (self, entry->event->source, entry->rc, reason);
        } else {
            s_count_outcome (self, entry);
            for (size_t t = 0; !self->changelog && t < entry->result.transition_count; t++)
                s_publish_transition (self, entry->result.job, &entry->result.transitions[t]);
            if (entry->result.outcome == JOBD_APPLY_FORWARD)
                s_forward (self, entry->result.job, entry->event);
            s_publish_cancel_failed (self, entry);
            s_publish_retry_plan (self, entry);
        }
        if (entry->in_batch) {
            if (entry->batch_count) {
                batch_last = index + entry->batch_count - 1;
                msgpack_sbuffer_clear (&self->reply_buffer);
                msgpack_packer_init (&batch_pk, &self->reply_buffer, msgpack_sbuffer_write);
                jobd_reply_pack_batch (&batch_pk, entry->batch_id, entry->batch_count);
            }
            s_pack_reply (&batch_pk, entry->event ? entry->event->id : entry->id, entry->rc,
                          entry->reason, batch_rc || !entry->event ? NULL : &entry->result);
            if (index == batch_last && self->forward_group) {
                //  Its forwards acked by Kafka first (jobd_forward_turn releases it).
                jobd_forward_to_t to = {entry->from, entry->identity, entry->identity_size,
                                        entry->delimiter};
                jobd_forward_group_close (self->forward, self->forward_group, &to,
                                          self->reply_buffer.data, self->reply_buffer.size,
                                          self->hold_ticket);
                self->forward_group = 0;
            } else if (index == batch_last)
                s_batch_reply (self, entry->from, entry->identity, entry->identity_size,
                               entry->delimiter, &self->reply_buffer);
        } else if (entry->wants_reply || (entry->rc && entry->from == self->admin))
            s_reply (self, entry->from, entry->identity, entry->identity_size, entry->delimiter,
                     entry->event->id, entry->rc, batch_rc ? NULL : entry->result.reason,
                     batch_rc ? NULL : &entry->result);
        s_entry_done (entry);
    }
    self->hold_ticket = 0;
    self->batch_size = 0;
}

//  Sets a field of a plugin's entry in the table `jobctl plugins` shows. Returns false when the
//  plugin is new and the table is full (it holds loaded plugins only: JOBD_BROKER_PLUGINS_MAX).
static bool
s_plugin_set (s_broker_t *self, const char *name, const char *field, const char *value)
{
    zhashx_t *info = (zhashx_t *)zhashx_lookup (self->plugins, name);
    if (!info) {
        if (zhashx_size (self->plugins) >= JOBD_BROKER_PLUGINS_MAX)
            return false;
        info = zhashx_new ();
        zhashx_set_destructor (info, (zhashx_destructor_fn *)zstr_free);
        zhashx_set_duplicator (info, (zhashx_duplicator_fn *)strdup);
        zhashx_insert (self->plugins, name, info);
    }
    zhashx_update (info, field, (void *)(value ? value : ""));
    //  While the retry plugin runs, a plain retry is its to plan (store: JOBD_APPLY_FORWARD).
    if (strcmp (name, JOBD_BROKER_RETRY_PLUGIN) == 0 && strcmp (field, "status") == 0)
        jobd_store_set_retry_forward (self->store, jobd_owners_status_running (value));
    return true;
}

//  The admin endpoint's allow-list: the events an outside client may send. Everything else
//  (transition, stale, plugin.status, cursor, and any type added later) comes only from plugins
//  on the bus. Queries and batches (of observed events) are handled before this.
static bool
s_client_event (jobd_event_type_t type)
{
    switch (type) {
        case JOBD_EVENT_SUBMIT:
        case JOBD_EVENT_TRACK:
        case JOBD_EVENT_CANCEL:
        case JOBD_EVENT_RETRY:
        case JOBD_EVENT_OBSERVED:
            return true;
        default:
            return false;
    }
}

//  Events that do not touch the store: published as they come.
static int
s_route_output (s_broker_t *self, jobd_event_t *event, char *reason, size_t reason_size)
{
    char topic[JOBD_NAME_MAX + 16]; //  plugin names may be as long as a job name
    if (event->type == JOBD_EVENT_PLUGIN_STATUS) {
        if (!s_plugin_set (self, event->name, "status", event->status)) {
            snprintf (reason, reason_size, "plugin.status of '%s': the plugin table is full (%d)",
                      event->name, JOBD_BROKER_PLUGINS_MAX);
            return JOBD_ETOOBIG;
        }
        s_plugin_set (self, event->name, "detail", event->detail);
        jobd_asks_answer (self->asks, event->name, event->ask,
                          jobd_owners_status_running (event->status));
        //  The last report's figures stand for the plugin's measures: none when it had none.
        if (event->figures.data)
            zhashx_update (self->figures, event->name,
                           zchunk_new (event->figures.data, event->figures.size));
        else
            zhashx_delete (self->figures, event->name);
        snprintf (topic, sizeof topic, "plugin.%s", event->name);
        s_publish (self, topic, event, true);
        return 0;
    }
    if (event->type == JOBD_EVENT_STALE) {
        snprintf (topic, sizeof topic, "stale.%s", event->job);
        s_publish (self, topic, event, true);
        return 0;
    }
    snprintf (reason, reason_size, "%s events are emitted by the broker, not accepted",
              jobd_event_type_name (event->type));
    return JOBD_EPROTO;
}

//  Cluster mode: a `cursor` of a reader of a changelog partition (`stream` "changelog/<p>")
//  goes to the changelog as the partition's cursor record, under this instance's claim of it:
//  every instance applies it, and the partition's next owner reads on from it.
static int
s_partition_cursor (s_broker_t *self, const jobd_event_t *event, char *reason, size_t reason_size)
{
    const char *prefix = "changelog/";
    char *end = NULL;
    unsigned long partition = 0;
    if (strncmp (event->stream, prefix, strlen (prefix)) == 0 &&
        isdigit ((unsigned char)event->stream[strlen (prefix)]))
        partition = strtoul (event->stream + strlen (prefix), &end, 10);
    if (!self->changelog || !self->claims) {
        snprintf (reason, reason_size, "cursor of stream '%s': jobd does not run in a cluster",
                  event->stream);
        return JOBD_EPROTO;
    }
    if (!end || *end || partition >= (unsigned long)jobd_claims_partitions (self->claims)) {
        snprintf (reason, reason_size,
                  "cursor of stream '%s': expected changelog/<partition>, a partition below %d",
                  event->stream, jobd_claims_partitions (self->claims));
        return JOBD_EPROTO;
    }
    uint64_t epoch = jobd_claims_partition_acting (self->claims, (uint32_t)partition);
    if (!epoch) {
        snprintf (reason, reason_size, "cursor of stream '%s': this instance does not own it",
                  event->stream);
        return JOBD_ENOTOWNER;
    }
    return jobd_changelog_cursor (self->changelog, (int)partition, event->name, event->seq, epoch,
                                  reason, reason_size);
}

static const char *
s_plugin_status (const char *name, void *arg)
{
    zhashx_t *info = (zhashx_t *)zhashx_lookup ((zhashx_t *)arg, name);
    return info ? (const char *)zhashx_lookup (info, "status") : NULL;
}

//  A submission is checked by the plugin that owns its kind before it is stored: refused, it
//  costs nothing but its reply (ABI 1.4).
static int
s_check_submit (s_broker_t *self, const jobd_event_t *event, char *reason, size_t reason_size)
{
    jobd_submission_t submission = {.size = sizeof (jobd_submission_t),
                                    .kind = event->kind ? event->kind : "",
                                    .name = event->name,
                                    .backend = event->backend,
                                    .spec = event->spec};
    return jobd_owners_check (self->owners, &submission, s_plugin_status, self->plugins, reason,
                              reason_size);
}

//  Receives the frames of one ROUTER message: identity, an optional empty delimiter (REQ
//  senders), one payload. Returns how many frames there were; only the first 3 are kept in
//  frames (the rest are read and dropped), so frames[count - 1] exists only when count <= 3.
static size_t
s_recv_frames (void *handle, zmq_msg_t frames[3])
{
    size_t count = 0;
    int more = 1;
    while (more) {
        zmq_msg_t dropped;
        zmq_msg_t *frame = count < 3 ? &frames[count] : &dropped;
        zmq_msg_init (frame);
        if (zmq_msg_recv (frame, handle, 0) < 0) {
            zmq_msg_close (frame);
            return count;
        }
        count++;
        more = zmq_msg_more (frame);
        if (frame == &dropped)
            zmq_msg_close (frame);
    }
    return count;
}

//  The `cluster` query's answer: the changelog's, and what was forwarded to other instances.
static void
s_cluster_pack (msgpack_packer *pk, void *arg)
{
    s_broker_t *self = (s_broker_t *)arg;
    jobd_changelog_pack_more (pk, self->changelog, self->forward ? 1 : 0);
    if (!self->forward)
        return;
    uint64_t forwarded, relayed, timed_out;
    jobd_forward_counts (self->forward, &forwarded, &relayed, &timed_out);
    jobd_map_pack_str (pk, "forward");
    msgpack_pack_map (pk, 3);
    jobd_map_pack_ku (pk, "forwarded", forwarded);
    jobd_map_pack_ku (pk, "relayed", relayed);
    jobd_map_pack_ku (pk, "timed_out", timed_out);
}

//  Answers a query at once, from committed data.
static void
s_answer_query (s_broker_t *self, zsock_t *socket, const uint8_t *identity, size_t identity_size,
                bool delimiter, const msgpack_object *query)
{
    self->stats.queries++;
    jobd_admin_context_t context = {.store = self->store,
                                    .stats = &self->stats,
                                    .plugins = self->plugins,
                                    .figures = self->figures};
    if (self->changelog) {
        context.cluster_pack = s_cluster_pack;
        context.cluster_arg = self;
    }
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    jobd_admin_query (&context, query, &pk);
    s_send_reply (self, socket, identity, identity_size, delimiter, &buffer);
    msgpack_sbuffer_destroy (&buffer);
}

//  A held plugins query, once the plugins answered (or did not in time): answered from the table.
static void
s_answer_held (zsock_t *socket, const uint8_t *identity, size_t identity_size, bool delimiter,
               const void *query, size_t size, void *arg)
{
    s_broker_t *self = (s_broker_t *)arg;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    if (msgpack_unpack_next (&unpacked, (const char *)query, size, NULL) == MSGPACK_UNPACK_SUCCESS)
        s_answer_query (self, socket, identity, identity_size, delimiter, &unpacked.data);
    msgpack_unpacked_destroy (&unpacked);
}

//  `plugins` answers what the plugins say now: the broker asks them all (status.ask on
//  cmd.status, to the plugins only) and answers once they did, JOBD_ASKS_WAIT_MS at most.
static void
s_hold_plugins (s_broker_t *self, zsock_t *socket, const uint8_t *identity, size_t identity_size,
                bool delimiter, const msgpack_object *query, const void *data, size_t size)
{
    char ask[25];
    if (!jobd_asks_hold (self->asks, self->plugins, socket, identity, identity_size, delimiter,
                         data, size, ask)) {
        s_answer_query (self, socket, identity, identity_size, delimiter, query);
        return;
    }
    if (!ask[0])
        return;
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_STATUS_ASK);
    if (event && jobd_event_set (&event->id, ask) == 0 &&
        jobd_event_set (&event->source, "broker") == 0)
        s_publish (self, JOBD_STATUS_ASK_TOPIC, event, false);
    jobd_event_destroy (&event);
}

//  A query that reads the store goes to the query thread (jobd_query.c): a long one must not hold
//  up the commits. One that would wait behind too many others is refused at once (EBUSY).
static void
s_hand_query (s_broker_t *self, const uint8_t *identity, size_t identity_size, bool delimiter,
              const jobd_request_in_t *query, const void *data, size_t size)
{
    self->stats.queries++;
    char reason[160];
    int rc = jobd_query_send (self->query, identity, identity_size, delimiter, data, size, reason,
                              sizeof reason);
    if (rc) {
        s_reject (self, "admin", rc, reason);
        s_reply (self, self->admin, identity, identity_size, delimiter, query->id, rc, reason,
                 NULL);
    }
}

//  Appends a zeroed entry for a message from this sender to the batch.
static s_entry_t *
s_entry_add (s_broker_t *self, zsock_t *socket, const uint8_t *identity, size_t identity_size,
             bool delimiter)
{
    s_entry_t *entry = &self->batch[self->batch_size++];
    memset (entry, 0, sizeof *entry);
    entry->from = socket;
    memcpy (entry->identity, identity, identity_size);
    entry->identity_size = identity_size;
    entry->delimiter = delimiter;
    return entry;
}

//  A `drop_cursor` query writes the store: it goes into the batch and is answered after the
//  commit. rc and reason: what jobd_request_read said of it.
static void
s_receive_drop (s_broker_t *self, zsock_t *socket, const uint8_t *identity, size_t identity_size,
                bool delimiter, const jobd_request_in_t *query, int rc, const char *reason)
{
    self->stats.queries++;
    if (rc) {
        s_reject (self, socket == self->admin ? "admin" : "bus", rc, reason);
        s_reply (self, socket, identity, identity_size, delimiter, query->id, rc, reason, NULL);
        return;
    }
    s_entry_t *entry = s_entry_add (self, socket, identity, identity_size, delimiter);
    entry->id = strdup (query->id);
    entry->drop = strdup (query->name);
}

//  A `src` only jobd itself gives (its deadline actions, which the store tells apart by it):
//  refused from any sender. Returns 0 or JOBD_EPROTO with a reason.
static int
s_check_source (const jobd_event_t *event, char *reason, size_t reason_size)
{
    if (!event->source || strcmp (event->source, JOBD_STORE_SOURCE_DEADLINE) != 0)
        return 0;
    snprintf (reason, reason_size,
              "src '%s' is jobd's own (its deadline actions): a sender may not use it",
              event->source);
    return JOBD_EPROTO;
}

//  A `batch` event: its observations are queued one by one, each refused alone when it is bad,
//  and answered together in one reply after the commit (a plugin's bus round trip per event
//  was most of the cost of a message). Returns 0, or an error when the batch as a whole is bad.
static int
s_receive_batch (s_broker_t *self, zsock_t *socket, const uint8_t *identity, size_t identity_size,
                 bool delimiter, const msgpack_object *map, char *reason, size_t reason_size)
{
    char id[JOBD_ID_MAX + 1] = "";
    const msgpack_object *events = jobd_map_lookup (map, "events");
    const msgpack_object *version = jobd_map_lookup (map, "v");
    if (!version || version->type != MSGPACK_OBJECT_POSITIVE_INTEGER || version->via.u64 == 0 ||
        version->via.u64 > JOBD_PROTO_VERSION) {
        snprintf (reason, reason_size, "batch event: field 'v' missing or newer than %d",
                  JOBD_PROTO_VERSION);
        return JOBD_EPROTO;
    }
    if (!jobd_map_string (map, "id", id, sizeof id) || !id[0]) {
        snprintf (reason, reason_size, "batch event: missing field 'id'");
        return JOBD_EPROTO;
    }
    if (!events || events->type != MSGPACK_OBJECT_ARRAY || events->via.array.size == 0 ||
        events->via.array.size > JOBD_BATCH_MAX) {
        snprintf (reason, reason_size, "batch event: 'events' must be an array of 1 to %d events",
                  JOBD_BATCH_MAX);
        return JOBD_EPROTO;
    }
    size_t count = events->via.array.size;
    //  A batch is applied in one commit: what is waiting goes first when the batch would not fit
    //  under batch_max with it (a batch larger than batch_max is committed alone).
    if (self->batch_size > 0 && self->batch_size + count > self->batch_max)
        s_flush (self);
    for (size_t index = 0; index < count; index++) {
        s_entry_t *entry = s_entry_add (self, socket, identity, identity_size, delimiter);
        entry->in_batch = true;
        if (index == 0) {
            entry->batch_count = count;
            entry->batch_id = strdup (id);
        }
        if (index > 0)
            self->stats.received++; //  the batch itself was counted as the first
        const msgpack_object *item = &events->via.array.ptr[index];
        char why[512] = "";
        //  Read only, then freed whole: the event and its strings are one allocation.
        int rc = item->type == MSGPACK_OBJECT_MAP
                     ? jobd_event_from_object_flat (item, &entry->event, why, sizeof why)
                     : JOBD_EPROTO;
        entry->flat = rc == 0;
        if (rc == 0 && entry->event->type != JOBD_EVENT_OBSERVED)
            snprintf (why, sizeof why, "a batch carries observed events only, not %s",
                      jobd_event_type_name (entry->event->type));
        if (rc == 0 && (why[0] || s_check_source (entry->event, why, sizeof why))) {
            rc = JOBD_EPROTO;
            free (entry->event);
            entry->event = NULL;
            entry->flat = false;
        }
        if (rc) {
            char item_id[JOBD_ID_MAX + 1] = "";
            if (item->type == MSGPACK_OBJECT_MAP)
                jobd_map_string (item, "id", item_id, sizeof item_id);
            if (!why[0])
                snprintf (why, sizeof why, "a batch's events must be maps");
            entry->rc = rc;
            entry->id = strdup (item_id);
            entry->reason = strdup (why);
            s_reject (self, socket == self->admin ? "admin" : "bus", rc, why);
        }
    }
    return 0;
}

//  Cluster mode: a command another instance forwarded through the jobs topic, handed by the
//  claims while this instance owns its partition (jobd_claims_set_command_fn). Checked as the
//  admin endpoint checks a client's; applied in the next batch; its reply (token_size > 0) goes
//  to the replies topic under token (s_send_bytes).
static void
s_command (const void *data, size_t size, const uint8_t *token, size_t token_size, void *arg)
{
    s_broker_t *self = (s_broker_t *)arg;
    self->stats.received++;
    jobd_event_t *event = NULL;
    char reason[512] = "";
    if (token_size > 255)
        token_size = 0; //  not a token of ours: no reply
    int rc = size > JOBD_EVENT_MAX
                 ? JOBD_ETOOBIG
                 : jobd_event_decode ((const uint8_t *)data, size, &event, reason, sizeof reason);
    if (rc == 0 && !s_client_event (event->type)) {
        snprintf (reason, sizeof reason, "%s events are not forwarded",
                  jobd_event_type_name (event->type));
        rc = JOBD_EPROTO;
    }
    //  A submission an instance that acts on none of the partitions forwarded: with the id it
    //  drew (in a partition of this instance), or a backend id whose derived id is one here.
    bool derived = rc == 0 && event->backend && *event->backend && event->ext && *event->ext;
    if (rc == 0 && event->type == JOBD_EVENT_SUBMIT && !derived &&
        jobd_route_id_time (event->job) < 0) {
        snprintf (reason, sizeof reason,
                  "a forwarded submit carries the job id drawn for it ('job': \"job-\" and 26 "
                  "base32 characters)");
        rc = JOBD_EPROTO;
    }
    if (rc == 0 && event->type == JOBD_EVENT_SUBMIT && derived)
        jobd_event_set (&event->job, NULL);
    if (rc == 0)
        rc = s_check_source (event, reason, sizeof reason);
    if (rc == 0 && event->type == JOBD_EVENT_SUBMIT)
        rc = s_check_submit (self, event, reason, sizeof reason);
    if (rc) {
        s_reject (self, "jobs topic", rc, reason);
        if (token_size)
            s_reply (self, NULL, token, token_size, false, event ? event->id : "", rc, reason,
                     NULL);
        jobd_event_destroy (&event);
        return;
    }
    if (self->batch_size >= self->batch_max)
        s_flush (self);
    s_entry_t *entry = s_entry_add (self, NULL, token, token_size, false);
    entry->wants_reply = token_size > 0;
    entry->event = event;
}

//  A forwarded command's reply, relayed to its client (jobd_forward_turn).
static void
s_forward_send (const jobd_forward_to_t *to, const void *data, size_t size, void *arg)
{
    s_send_bytes (to->socket, to->identity, to->identity_size, to->delimiter, data, size, arg);
}

//  A batch's reply whose forwards Kafka acked: held until its own writes are confirmed too.
static void
s_forward_release (const jobd_forward_to_t *to, const void *data, size_t size, uint64_t ticket,
                   void *arg)
{
    s_broker_t *self = (s_broker_t *)arg;
    if (ticket && self->held &&
        jobd_held_add (self->held, ticket, to->socket, to->identity, to->identity_size,
                       to->delimiter, data, size) == 0) {
        s_release_held (self);
        return;
    }
    s_send_bytes (to->socket, to->identity, to->identity_size, to->delimiter, data, size, self);
}

//  Reads one message from a ROUTER and either queues it in the batch or answers it now.
static void
s_receive (s_broker_t *self, zsock_t *socket)
{
    zmq_msg_t frames[3];
    size_t count = s_recv_frames (zsock_resolve (socket), frames);
    if (count == 0)
        return;
    self->stats.received++;
    bool admin = socket == self->admin;
    const char *where = admin ? "admin" : "bus";
    const uint8_t *identity = (const uint8_t *)zmq_msg_data (&frames[0]);
    size_t identity_size = zmq_msg_size (&frames[0]);
    bool delimiter = count == 3 && zmq_msg_size (&frames[1]) == 0;
    zmq_msg_t *payload = count <= 3 ? &frames[count - 1] : NULL;
    char reason[512] = "";
    int rc = 0;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    jobd_event_t *event = NULL;

    if (count < 2 || (count == 3 && !delimiter) || count > 3 || identity_size > 255) {
        snprintf (reason, sizeof reason, "expected one frame, got %zu", count - 1);
        rc = JOBD_EPROTO;
    } else if (zmq_msg_size (payload) > JOBD_EVENT_MAX) {
        snprintf (reason, sizeof reason, "message of %zu bytes over the %d byte limit",
                  zmq_msg_size (payload), JOBD_EVENT_MAX);
        rc = JOBD_ETOOBIG;
    } else {
        //  Checked first, then unpacked in place: the frame outlives every use of the object.
        rc = jobd_msgpack_check (zmq_msg_data (payload), zmq_msg_size (payload), reason,
                                 sizeof reason);
        if (rc == 0 &&
            msgpack_unpack_next (&unpacked, (const char *)zmq_msg_data (payload),
                                 zmq_msg_size (payload), NULL) != MSGPACK_UNPACK_SUCCESS) {
            snprintf (reason, sizeof reason, "not valid msgpack");
            rc = JOBD_EPROTO;
        }
    }
    bool batch = false; //  a bad batch is answered whatever it says: a batch always is
    if (rc == 0) {
        char type[32] = "";
        jobd_map_string (&unpacked.data, "type", type, sizeof type);
        if (strcmp (type, "query") == 0) {
            jobd_request_in_t query;
            rc = jobd_request_read (&unpacked.data, &query, reason, sizeof reason);
            if (query.kind == JOBD_REQUEST_DROP_CURSOR)
                s_receive_drop (self, socket, identity, identity_size, delimiter, &query, rc,
                                reason);
            else if (admin && jobd_query_handles (query.kind))
                s_hand_query (self, identity, identity_size, delimiter, &query,
                              zmq_msg_data (payload), zmq_msg_size (payload));
            else if (rc == 0 && query.kind == JOBD_REQUEST_PLUGINS && self->asks)
                s_hold_plugins (self, socket, identity, identity_size, delimiter, &unpacked.data,
                                zmq_msg_data (payload), zmq_msg_size (payload));
            else
                s_answer_query (self, socket, identity, identity_size, delimiter, &unpacked.data);
            goto done;
        }
        batch = strcmp (type, "batch") == 0;
        if (batch) {
            rc = s_receive_batch (self, socket, identity, identity_size, delimiter, &unpacked.data,
                                  reason, sizeof reason);
            if (rc == 0)
                goto done;
        }
        if (rc == 0)
            rc = jobd_event_from_object (&unpacked.data, &event, reason, sizeof reason);
        if (rc == 0 && admin && !s_client_event (event->type)) {
            snprintf (reason, sizeof reason,
                      "%s events come only from plugins; the admin endpoint takes submit, track, "
                      "cancel, retry, observed, batch and query",
                      jobd_event_type_name (event->type));
            rc = JOBD_EPROTO;
            self->stats.internal_refused++;
        }
        if (rc == 0)
            rc = s_check_source (event, reason, sizeof reason);
    }
    if (rc == 0 && (event->type == JOBD_EVENT_PLUGIN_STATUS || event->type == JOBD_EVENT_STALE ||
                    event->type == JOBD_EVENT_TRANSITION || event->type == JOBD_EVENT_STATUS_ASK)) {
        rc = s_route_output (self, event, reason, sizeof reason);
        if (rc == 0) {
            if (admin || event->reply)
                s_reply (self, socket, identity, identity_size, delimiter, event->id, 0, NULL,
                         NULL);
            goto done;
        }
    }
    if (rc == 0 && event->type == JOBD_EVENT_CURSOR && event->stream) {
        rc = s_partition_cursor (self, event, reason, sizeof reason);
        if (rc == 0) {
            if (event->reply)
                s_reply (self, socket, identity, identity_size, delimiter, event->id, 0, NULL,
                         NULL);
            goto done;
        }
    }
    if (rc == 0 && event->type == JOBD_EVENT_SUBMIT) {
        //  The new job's id is jobd's to draw (a `job` of a submission was always ignored).
        jobd_event_set (&event->job, NULL);
        rc = s_check_submit (self, event, reason, sizeof reason);
    }
    if (rc) {
        s_reject (self, where, rc, reason);
        if (count >= 2 && identity_size <= 255 && (admin || batch || (event && event->reply))) {
            char id[JOBD_ID_MAX + 1] = "";
            if (!event)
                jobd_map_string (&unpacked.data, "id", id, sizeof id);
            s_reply (self, socket, identity, identity_size, delimiter, event ? event->id : id, rc,
                     reason, NULL);
        }
        goto done;
    }
    s_entry_t *entry = s_entry_add (self, socket, identity, identity_size, delimiter);
    entry->wants_reply = admin || event->reply;
    entry->event = event;
    event = NULL;
done:
    jobd_event_destroy (&event);
    msgpack_unpacked_destroy (&unpacked);
    for (size_t index = 0; index < count && index < 3; index++)
        zmq_msg_close (&frames[index]);
}

static bool
s_readable (zsock_t *socket)
{
    return (zsock_events (socket) & ZMQ_POLLIN) != 0;
}

//  Collects what is already waiting, up to batch_max, then commits it all at once. While the
//  commit's fsync runs, more arrives: under load batches grow by themselves, and an idle broker
//  commits a single event without waiting.
static void
s_collect_and_flush (s_broker_t *self)
{
    bool more = true;
    while (more && self->batch_size < self->batch_max) {
        more = false;
        if (s_readable (self->bus)) {
            s_receive (self, self->bus);
            more = true;
        }
        if (self->batch_size < self->batch_max && s_readable (self->admin)) {
            s_receive (self, self->admin);
            more = true;
        }
    }
    s_flush (self);
}

//  The cursors an expiry pass removed, said once its commit holds (at most S_EXPIRED_SAID lines).
#define S_EXPIRED_SAID 16
typedef struct {
    char lines[S_EXPIRED_SAID][JOBD_NAME_MAX + 160];
    size_t count;
} s_expired_t;

static void
s_note_expired (const jobd_store_cursor_t *cursor, uint64_t head, void *arg)
{
    s_expired_t *expired = (s_expired_t *)arg;
    if (expired->count < S_EXPIRED_SAID)
        snprintf (expired->lines[expired->count], sizeof expired->lines[0],
                  "cursor '%s' has not moved for %" PRId64 " s while %" PRIu64 " transitions "
                  "behind the head (core/cursor_idle_max): removed, it holds the transition log "
                  "no more",
                  cursor->name, (jobd_now_ms () - cursor->moved_at) / 1000,
                  head - cursor->position);
    expired->count++;
}

//  The same for a partition reader's cursor (cluster mode): it holds this store's cl_plog no more.
static void
s_note_plog_expired (const char *name, uint16_t partition, int64_t idle_ms, uint64_t behind,
                     void *arg)
{
    s_expired_t *expired = (s_expired_t *)arg;
    if (expired->count < S_EXPIRED_SAID)
        snprintf (expired->lines[expired->count], sizeof expired->lines[0],
                  "cursor '%s' of changelog partition %u has not moved for %" PRId64 " s while "
                  "%" PRIu64 " positions behind its head (core/cursor_idle_max): removed here, "
                  "it holds the partition's transitions no more",
                  name, (unsigned)partition, idle_ms / 1000, behind);
    expired->count++;
}

//  A cursor that stays behind without moving stops holding the log: its own write transaction,
//  between two batches (nothing is written while no cursor is due).
static void
s_expire_cursors (s_broker_t *self)
{
    s_expired_t expired = {.count = 0};
    int rc = jobd_store_begin (self->store);
    if (rc == 0)
        rc = jobd_store_cursor_expire (self->store, jobd_now_ms (), self->cursor_idle_max,
                                       s_note_expired, &expired);
    if (rc == 0 && self->changelog)
        rc = jobd_store_plog_expire (self->store, jobd_now_ms (), self->cursor_idle_max,
                                     s_note_plog_expired, &expired);
    if (rc == 0)
        rc = jobd_store_commit (self->store);
    else
        jobd_store_abort (self->store);
    if (rc) {
        jobd_log (JOBD_LOG_ERROR, LOG, "cannot expire idle cursors: %s", jobd_strerror (rc));
        return;
    }
    for (size_t index = 0; index < expired.count && index < S_EXPIRED_SAID; index++)
        jobd_log (JOBD_LOG_WARN, LOG, "%s", expired.lines[index]);
    if (expired.count > S_EXPIRED_SAID)
        jobd_log (JOBD_LOG_WARN, LOG, "%zu more idle cursors removed",
                  expired.count - S_EXPIRED_SAID);
}

//  Timers fired per commit: batch_max (as many as events), so that a burst of due retries is
//  fired as fast as events are applied (bench_retry: 100,000 retries due over 20 s while 100,000
//  jobs fail, with 5,000 due a second: at 256 a commit, fsync-bound, they fell 2 s behind; at
//  4096, p99 270 ms). A turn stays bounded however many are due.
#define S_TIMERS_MIN 256
//  A timer fires this late at most, so that timers due close together share one commit (one
//  fsync): at 100 deadlines a second, at most 20 commits instead of 100. Small enough for a
//  retry to start well within a second of its due time (issue 14: p99 under 250 ms; 1 s before).
#define S_TIMERS_SLACK_MS 50

//  After the commit that took them: each fired timer's stale event and transitions go out.
static void
s_publish_fired (s_broker_t *self, const jobd_store_timer_t *timer, jobd_deadline_fired_t *fired)
{
    if (fired->stale) {
        char topic[JOBD_ID_MAX + 16];
        snprintf (topic, sizeof topic, "stale.%s", fired->stale->job);
        s_publish (self, topic, fired->stale, true);
        self->stats.stale_published++;
        //  A backend outage can make thousands stale at once: 20 lines a second, then a count.
        int64_t second = jobd_now_ms () / 1000;
        if (second != self->stale_second) {
            if (self->stale_logs > 20)
                jobd_log (JOBD_LOG_WARN, LOG, "%" PRIu64 " more stale jobs not logged",
                          self->stale_logs - 20);
            self->stale_second = second;
            self->stale_logs = 0;
        }
        if (++self->stale_logs <= 20)
            jobd_log (JOBD_LOG_WARN, LOG, "job %s is stale: %s", fired->stale->job,
                      fired->stale->error);
    }
    if (fired->rc && fired->action)
        jobd_log (JOBD_LOG_WARN, LOG, "job %s: deadline action %s not applied: %s",
                  fired->action->job, jobd_event_type_name (fired->action->type),
                  jobd_strerror (fired->rc));
    for (size_t t = 0; !self->changelog && fired->rc == 0 && t < fired->result.transition_count;
         t++)
        s_publish_transition (self, fired->result.job, &fired->result.transitions[t]);
    if (fired->rc == 0 && fired->action && fired->result.outcome == JOBD_APPLY_FORWARD)
        s_forward (self, fired->result.job, fired->action);
    if (fired->rc == 0 && fired->result.transition_count &&
        strcmp (timer->name, JOBD_STORE_TIMER_RETRY) == 0)
        self->stats.retry_fired++;
}

//  A `retry` timer (armed by a retry.plan): the job starts its next attempt, in this batch.
static int
s_fire_retry (s_broker_t *self, const jobd_store_timer_t *timer, jobd_deadline_fired_t *fired)
{
    fired->rc = jobd_store_retry_fire (self->store, timer, &fired->result);
    //  ESTATE: the job moved on (a timer an older jobd left behind). Anything else is logged;
    //  an error that killed the batch also fails its commit, and the timers are tried again.
    if (fired->rc && fired->rc != JOBD_ESTATE)
        jobd_log (JOBD_LOG_WARN, LOG, "job %s: retry timer not applied: %s", timer->job,
                  jobd_strerror (fired->rc));
    return 0;
}

//  The deadline policy's timers: without a policy (a broker made by jobd_broker_new: tests),
//  they are taken and dropped.
static int
s_fire_deadline (s_broker_t *self, const jobd_store_timer_t *timer, jobd_deadline_fired_t *fired)
{
    return self->deadline ? jobd_deadline_fire (self->deadline, self->store, timer, fired) : 0;
}

//  Who fires a timer, by its name (the notifier's will be added here). A name nobody knows is
//  dropped with its firing commit.
typedef int (s_fire_fn) (s_broker_t *self, const jobd_store_timer_t *timer,
                         jobd_deadline_fired_t *fired);
static const struct {
    const char *name;
    s_fire_fn *fire;
} s_timer_kinds[] = {{JOBD_STORE_TIMER_RETRY, s_fire_retry},
                     {"deadline", s_fire_deadline},
                     {"deadline.action", s_fire_deadline},
                     {"fresh", s_fire_deadline}};

static int
s_fire_one (s_broker_t *self, const jobd_store_timer_t *timer, jobd_deadline_fired_t *fired)
{
    memset (fired, 0, sizeof *fired);
    for (size_t index = 0; index < sizeof s_timer_kinds / sizeof s_timer_kinds[0]; index++)
        if (strcmp (timer->name, s_timer_kinds[index].name) == 0)
            return s_timer_kinds[index].fire (self, timer, fired);
    jobd_log (JOBD_LOG_WARN, LOG, "job %s: timer '%s' that no part of this jobd fires: dropped",
              timer->job, timer->name);
    return 0;
}

//  Fires the timers that are due, in the commit that deletes them: a timer fires once, across
//  a crash at any moment; one that fell due while jobd was down fires at the first turn. Costs
//  one comparison while nothing is due (the store keeps the first due time).
static void
s_fire_timers (s_broker_t *self, int64_t now)
{
    int64_t next = jobd_store_timer_next (self->store);
    if (next == 0 || next > now - S_TIMERS_SLACK_MS || now < self->timers_retry_at)
        return;
    size_t count = 0;
    int rc = jobd_store_begin (self->store);
    if (rc == 0)
        rc = jobd_store_timer_take (self->store, now, self->timers_max, self->timers, &count);
    for (size_t index = 0; rc == 0 && index < count; index++)
        rc = s_fire_one (self, &self->timers[index], &self->fired[index]);
    if (rc == 0 && self->changelog)
        rc = jobd_changelog_record (self->changelog);
    if (rc == 0)
        rc = jobd_store_commit (self->store);
    else
        jobd_store_abort (self->store);
    s_changelog_after (self, rc);
    if (rc) {
        //  Nothing fired: the timers are still stored. Try again in a second, not in a spin.
        jobd_log (JOBD_LOG_ERROR, LOG, "cannot fire %zu due timers: %s", count, jobd_strerror (rc));
        self->timers_retry_at = now + 1000;
    } else
        self->stats.commits++;
    for (size_t index = 0; index < count; index++) {
        if (rc == 0)
            s_publish_fired (self, &self->timers[index], &self->fired[index]);
        jobd_deadline_fired_clear (&self->fired[index]);
    }
    //  Out now: the loop hands over what a turn published after its poll, which may sleep until
    //  the next timer.
    jobd_publisher_flush (self->publisher);
}

//  What runs on a clock rather than on a message: due timers, the last second's reject count,
//  cursor expiry. Returns the ms until the next turn: the next tick, or the first due timer.
static int
s_housekeep (s_broker_t *self)
{
    int64_t wall = jobd_now_ms ();
    s_fire_timers (self, wall);
    int64_t now = zclock_mono ();
    if (now >= self->next_tick) {
        self->next_tick = now + self->tick;
        s_reject_second (self, jobd_now_ms () / 1000);
        if (self->cursor_idle_max > 0 && now >= self->next_expiry) {
            self->next_expiry = now + self->tick;
            s_expire_cursors (self);
        }
    }
    int64_t wait = self->next_tick - now;
    if (self->heartbeat) {
        if (now >= self->next_beat) {
            self->next_beat = now + self->heartbeat_ms;
            self->heartbeat (&self->stats, self->heartbeat_arg);
        }
        if (self->next_beat - now < wait)
            wait = self->next_beat - now;
    }
    int64_t due = jobd_store_timer_next (self->store);
    if (due) {
        //  In ms from now (a due time far ahead must not overflow the sum).
        int64_t until =
            due - wall < INT64_MAX - S_TIMERS_SLACK_MS ? due - wall + S_TIMERS_SLACK_MS : INT64_MAX;
        if (self->timers_retry_at - wall > until)
            until = self->timers_retry_at - wall;
        if (until < wait)
            wait = until > 0 ? until : 0;
    }
    return (int)wait;
}

static void
s_handle_pipe (s_broker_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg) {
        self->terminated = true;
        return;
    }
    char *command = zmsg_popstr (msg);
    if (command && streq (command, "$TERM"))
        self->terminated = true;
    else if (command && streq (command, "PLUGIN")) {
        //  The loader's word on a plugin it started. The plugin's thread may have reported
        //  already (its plugin.status comes by the bus, which may be read first): that stands.
        char *name = zmsg_popstr (msg);
        zhashx_t *info = name ? (zhashx_t *)zhashx_lookup (self->plugins, name) : NULL;
        bool reported = info && zhashx_lookup (info, "status");
        static const char *fields[] = {"version", "status", "detail"};
        for (size_t index = 0; name && index < 3; index++) {
            char *value = zmsg_popstr (msg);
            if (index == 0 || !reported)
                s_plugin_set (self, name, fields[index], value);
            zstr_free (&value);
        }
        zstr_free (&name);
    } else if (command && streq (command, "OWNER")) {
        zframe_t *frame = zmsg_pop (msg);
        jobd_owner_t owner; //  copied out: a frame's data need not be aligned for pointers
        if (frame && zframe_size (frame) == sizeof owner) {
            memcpy (&owner, zframe_data (frame), sizeof owner);
            if (jobd_owners_add (self->owners, &owner))
                jobd_log (JOBD_LOG_ERROR, LOG, "too many plugins: submissions of %s not checked",
                          owner.name);
        }
        zframe_destroy (&frame);
    } else if (command && streq (command, "OWNERS_READY"))
        jobd_owners_ready (self->owners);
    else if (command && streq (command, "OWNERS_DROP")) {
        jobd_owners_clear (self->owners);
        zsock_signal (self->pipe, 0); //  no validate runs from now on
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
}

static void
s_broker_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = (s_args_t *)arg;
    const jobd_broker_options_t *options = &args->options;
    s_broker_t self_data = {.pipe = pipe,
                            .store = args->store,
                            .batch_max = options->batch_max,
                            .cursor_idle_max = options->cursor_idle_max,
                            .deadline = options->deadline,
                            .changelog = options->changelog,
                            .claims = options->claims,
                            .forward = options->forward,
                            .heartbeat = options->heartbeat,
                            .heartbeat_arg = options->heartbeat_arg,
                            .heartbeat_ms =
                                options->heartbeat_ms > 0 ? options->heartbeat_ms : 1000};
    s_broker_t *self = &self_data;
    self->timers_max = self->batch_max > S_TIMERS_MIN ? self->batch_max : S_TIMERS_MIN;
    self->timers = (jobd_store_timer_t *)zmalloc (sizeof (jobd_store_timer_t) * self->timers_max);
    self->fired =
        (jobd_deadline_fired_t *)zmalloc (sizeof (jobd_deadline_fired_t) * self->timers_max);
    //  Every state a job enters gets its deadline in the same commit.
    if (self->deadline)
        jobd_store_set_arm_fn (self->store, jobd_deadline_arm, self->deadline);
    //  Housekeeping each second, or 4 times per cursor_idle_max when that is shorter.
    self->tick = 1000;
    if (self->cursor_idle_max > 0 && self->cursor_idle_max / 4 < self->tick)
        self->tick = self->cursor_idle_max / 4 > 10 ? self->cursor_idle_max / 4 : 10;
    self->stats.started_at = jobd_now_ms ();
    self->batch_room = self->batch_max > JOBD_BATCH_MAX ? self->batch_max : JOBD_BATCH_MAX;
    self->batch = (s_entry_t *)zmalloc (sizeof (s_entry_t) * self->batch_room);
    msgpack_sbuffer_init (&self->reply_buffer);
    self->plugins = zhashx_new ();
    self->owners = jobd_owners_new ();
    zhashx_set_destructor (self->plugins, (zhashx_destructor_fn *)zhashx_destroy);
    self->figures = zhashx_new ();
    zhashx_set_destructor (self->figures, (zhashx_destructor_fn *)zchunk_destroy);
    self->asks = jobd_asks_new ();
    self->held = jobd_held_new ();
    self->bus = jobd_socket_bind (ZMQ_ROUTER, JOBD_BUS_ENDPOINT, args->reason, args->reason_size);
    if (self->bus && jobd_publisher_new (options->events_endpoint, &self->publisher, args->reason,
                                         args->reason_size))
        self->publisher = NULL;
    self->admin =
        self->publisher
            ? jobd_socket_bind_limited (ZMQ_ROUTER, options->admin_endpoint, options->message_max,
                                        options->client_queue_max, args->reason, args->reason_size)
            : NULL;
    self->query = self->admin ? jobd_query_new (self->store) : NULL;
    //  The pipe, the bus, the admin socket, the query answers, and in cluster mode the changelog.
    enum { S_PIPE, S_BUS, S_ADMIN, S_QUERY, S_CHANGELOG, S_FORWARD, S_ITEMS };
    zmq_pollitem_t items[S_ITEMS] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0}};
    size_t item_count = 0;
    if (self->query) {
        items[S_BUS].socket = zsock_resolve (self->bus);
        items[S_ADMIN].socket = zsock_resolve (self->admin);
        items[S_QUERY].socket = zsock_resolve (jobd_query_sock (self->query));
        item_count = S_CHANGELOG;
        if (self->changelog) {
            items[S_CHANGELOG].fd = jobd_changelog_fd (self->changelog);
            item_count = S_FORWARD;
        }
        if (self->changelog && self->forward) {
            items[S_FORWARD].fd = jobd_forward_fd (self->forward);
            item_count = S_ITEMS;
        }
        if (self->claims && self->forward)
            jobd_claims_set_command_fn (self->claims, s_command, self);
        for (size_t index = 0; index < item_count; index++)
            items[index].events = ZMQ_POLLIN;
        jobd_log (JOBD_LOG_INFO, LOG, "admin on %s, events on %s", options->admin_endpoint,
                  options->events_endpoint);
    }
    //  The start handshake: zactor_new returns once we signal, and args (on its caller's stack)
    //  is gone from then on.
    args->status = item_count ? 0 : -EADDRINUSE;
    zsock_signal (pipe, 0);
    args = NULL;
    while (item_count && !self->terminated) {
        int wait = s_housekeep (self);
        int64_t ask_wait = jobd_asks_wait (self->asks);
        if (ask_wait >= 0 && ask_wait < wait)
            wait = (int)ask_wait;
        int64_t changelog_wait = self->changelog ? jobd_changelog_wait (self->changelog) : -1;
        if (changelog_wait >= 0 && changelog_wait < wait)
            wait = (int)changelog_wait;
        if (self->claims && self->claims_wait < wait)
            wait = (int)self->claims_wait;
        //  Signals are handled by the main thread (EINTR: one more turn); only $TERM stops the
        //  broker.
        if (zmq_poll (items, (int)item_count, wait) < 0)
            continue;
        if (items[S_PIPE].revents & ZMQ_POLLIN)
            s_handle_pipe (self);
        else if (items[S_BUS].revents & ZMQ_POLLIN || items[S_ADMIN].revents & ZMQ_POLLIN)
            s_collect_and_flush (self);
        if (self->changelog) {
            jobd_changelog_apply (self->changelog, s_publish_confirmed, self);
            s_release_held (self);
        }
        if (self->claims) {
            self->claims_wait = jobd_claims_turn (self->claims);
            //  Commands it handed from the jobs topic: applied now, then their offsets committed.
            s_flush (self);
            jobd_claims_commit (self->claims);
        }
        if (self->forward) {
            int64_t forward_wait =
                jobd_forward_turn (self->forward, s_forward_send, s_forward_release, self);
            if (forward_wait < self->claims_wait)
                self->claims_wait = forward_wait;
        }
        //  Answers are sent each turn: a busy bus or admin socket would starve a poll for them.
        jobd_query_deliver (self->query, self->admin);
        jobd_asks_finish (self->asks, s_answer_held, self);
        //  What the turn published goes to the publisher's thread, in one hand-over.
        jobd_publisher_flush (self->publisher);
    }
    //  Stopping: everything already received is applied, committed and published.
    while (item_count && (s_readable (self->bus) || s_readable (self->admin)))
        s_collect_and_flush (self);
    //  Cluster mode: the replies still held wait for Kafka a little (a stop during an outage
    //  does not wait for it).
    int64_t held_until = zclock_mono () + S_HELD_STOP_MS;
    while (self->changelog && self->held && jobd_held_size (self->held) &&
           zclock_mono () < held_until) {
        zmq_poll (items + S_CHANGELOG, 1, 10);
        jobd_changelog_apply (self->changelog, s_publish_confirmed, self);
        s_release_held (self);
    }
    if (self->claims)
        jobd_claims_set_command_fn (self->claims, NULL, NULL);
    jobd_publisher_flush (self->publisher);
    jobd_query_destroy (&self->query);
    jobd_publisher_destroy (&self->publisher); //  sends what it was handed first
    jobd_socket_close (&self->admin);
    jobd_socket_close (&self->bus);
    zhashx_destroy (&self->plugins);
    zhashx_destroy (&self->figures);
    jobd_asks_destroy (&self->asks);
    jobd_held_destroy (&self->held);
    jobd_owners_destroy (&self->owners);
    msgpack_sbuffer_destroy (&self->reply_buffer);
    free (self->batch);
    free (self->timers);
    free (self->fired);
    if (self->deadline)
        jobd_store_set_arm_fn (self->store, NULL, NULL);
    jobd_store_set_retry_forward (self->store, false); //  no plugin table without the broker
}

int
jobd_broker_new (jobd_store_t *store, const char *admin_endpoint, const char *events_endpoint,
                 size_t batch_max, jobd_broker_t **self_p, char *reason, size_t reason_size)
{
    jobd_broker_options_t options = {.admin_endpoint = admin_endpoint,
                                     .events_endpoint = events_endpoint,
                                     .batch_max = batch_max};
    return jobd_broker_start (store, &options, self_p, reason, reason_size);
}

int
jobd_broker_start (jobd_store_t *store, const jobd_broker_options_t *options,
                   jobd_broker_t **self_p, char *reason, size_t reason_size)
{
    s_args_t args = {store, *options, reason, reason_size, 0};
    if (args.options.batch_max == 0)
        args.options.batch_max = 1;
    if (args.options.client_queue_max <= 0)
        args.options.client_queue_max = JOBD_BROKER_CLIENT_QUEUE;
    //  A frame over JOBD_EVENT_MAX would only be read to be refused: never read one.
    if (args.options.message_max <= 0 || args.options.message_max > JOBD_EVENT_MAX)
        args.options.message_max = JOBD_EVENT_MAX;
    jobd_broker_t *self = (jobd_broker_t *)zmalloc (sizeof (jobd_broker_t));
    self->actor = zactor_new (s_broker_actor, &args);
    int rc = self->actor ? args.status : -ENOMEM;
    if (rc) {
        jobd_broker_destroy (&self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void
jobd_broker_destroy (jobd_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_broker_t *self = *self_p;
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
}

void
jobd_broker_plugin (jobd_broker_t *self, const char *name, const char *version, const char *status,
                    const char *detail)
{
    zstr_sendx (self->actor, "PLUGIN", name, version ? version : "", status ? status : "",
                detail ? detail : "", NULL);
}

zsock_t *
jobd_broker_pipe (jobd_broker_t *self)
{
    return zactor_sock (self->actor);
}

void
jobd_broker_owner (jobd_broker_t *self, const char *name, const jobd_plugin_t *plugin, void *state,
                   const jobd_host_t *host)
{
    jobd_owner_t owner = {.state = state, .host = host};
    snprintf (owner.name, sizeof owner.name, "%s", name);
    //  The loader's copy of the descriptor is zeroed past what an older plugin's covers.
    if (JOBD_PLUGIN_HAS (plugin, kinds))
        owner.kinds = plugin->kinds;
    if (JOBD_PLUGIN_HAS (plugin, validate))
        owner.validate = plugin->validate;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "OWNER");
    zmsg_addmem (msg, &owner, sizeof owner);
    zmsg_send (&msg, self->actor);
}

void
jobd_broker_owners_ready (jobd_broker_t *self)
{
    zstr_send (self->actor, "OWNERS_READY");
}

void
jobd_broker_owners_drop (jobd_broker_t *self)
{
    //  A broker thread that died (its pipe then holds the actor's end signal) calls nothing.
    if (zsock_events (zactor_sock (self->actor)) & ZMQ_POLLIN)
        return;
    if (zstr_send (self->actor, "OWNERS_DROP") == 0)
        zsock_wait (self->actor);
}
