//  notifier: a channel's reader of the transition log (see nt_reader.h).
#include "nt_reader.h"
#include "nt_decide.h"
#include "nt_note.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define S_READ_MAX        256  //  log entries read at a time
#define S_IDLE            50   //  ms between looks at the log's head when caught up
#define S_DECIDE_POLL     200  //  ms between looks at an undecided FAILED's record
#define S_CURSOR_EVERY    100  //  positions skipped before the cursor moves, at the latest
#define S_CURSOR_INTERVAL 100  //  ms between cursor moves, at the latest
#define S_STATUS_INTERVAL 1000 //  ms between status lines, at the least
#define S_DRAIN_MS        5000 //  at a clean stop: the longest it goes on sending what it read
#define S_LINGER_MS       2000 //  the last cursor's way to the broker after the socket closes

typedef struct {
    uint64_t position;
    jobd_event_t *event; //  NULL: an entry that did not decode
} s_entry_t;

//  One rule's digest window for this channel.
typedef struct {
    bool open;
    int64_t start; //  the ts of its first note
    int64_t count; //  notes of the rule in the window
    nt_digest_t *digest;
    uint64_t hold; //  with a digest: the cursor stays at or before this position
} s_window_t;

typedef struct {
    nt_reader_config_t config;
    char cursor_name[256];
    zsock_t *pipe;
    zsock_t *bus;
    bool terminated;
    uint64_t done;      //  every position up to here is handled
    uint64_t read_upto; //  the last position read into the queue
    uint64_t cursor_sent;
    int64_t cursor_at;
    zlistx_t *queue;        //  s_entry_t, in log order
    nt_note_t *note;        //  the note being delivered, or NULL
    uint64_t note_position; //  its log position (0: a digest)
    int note_digest;        //  its rule's window when it is a digest, else -1
    nt_note_t *next;        //  a note waiting for the digest before it
    int next_rule;
    uint64_t next_position;
    int64_t next_try; //  when to try the note again (failing)
    int64_t backoff;
    bool failing;
    bool caught_up; //  the last log read found nothing new: the clock may close windows
    int64_t failing_since;
    char last_error[256];
    uint64_t delivered, refused, digests;
    s_window_t windows[NT_RULES_MAX];
    char status[512];
    bool status_failing;
    int64_t status_at;
} s_reader_t;

static int s_cursor_read (s_reader_t *self, uint64_t *position_p, uint64_t *head_p);

static void
s_entry_destroy (s_entry_t **entry_p)
{
    if (!entry_p || !*entry_p)
        return;
    jobd_event_destroy (&(*entry_p)->event);
    free (*entry_p);
    *entry_p = NULL;
}

//  Whether a partition's reader may go on: this instance owns its partition.
static bool
s_owner (s_reader_t *self)
{
    const jobd_host_t *host = self->config.host;
    return self->config.partition < 0 ||
           host->partition_acting (host, (uint32_t)self->config.partition) != 0;
}

static void
s_send_cursor (s_reader_t *self, uint64_t position)
{
    //  A partition's cursor goes to the changelog under this instance's claim: only while it
    //  owns the partition (the broker refuses it otherwise).
    if (!s_owner (self))
        return;
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_CURSOR);
    jobd_event_set (&event->source, self->config.host->plugin_name);
    jobd_event_set (&event->name, self->cursor_name);
    event->seq = position;
    if (self->config.partition >= 0) {
        char stream[32];
        snprintf (stream, sizeof stream, "changelog/%d", self->config.partition);
        jobd_event_set (&event->stream, stream);
    }
    if (jobd_plugin_send (self->bus, event) == 0)
        self->cursor_sent = position;
    self->cursor_at = zclock_mono ();
    jobd_event_destroy (&event);
}

//  Moves the cursor over what is handled, but not past a digest not yet delivered.
static void
s_cursor (s_reader_t *self, bool force)
{
    uint64_t target = self->done;
    for (size_t rule = 0; rule < NT_RULES_MAX; rule++)
        if (self->windows[rule].digest && self->windows[rule].hold < target)
            target = self->windows[rule].hold;
    if (target > self->cursor_sent &&
        (force || target - self->cursor_sent >= S_CURSOR_EVERY ||
         zclock_mono () - self->cursor_at >= S_CURSOR_INTERVAL || zlistx_size (self->queue) == 0))
        s_send_cursor (self, target);
}

static bool
s_read_one (uint64_t position, const uint8_t *data, size_t size, void *arg)
{
    s_reader_t *self = (s_reader_t *)arg;
    //  Positions follow one another: a gap is entries dropped past this reader's cursor (the
    //  broker removes a cursor idle for cursor_idle_max, and with it what only it held). (A
    //  partition's positions are changelog offsets: they have gaps.)
    if (self->config.partition < 0 && self->read_upto && position > self->read_upto + 1)
        self->config.host->log (self->config.host, JOBD_LOG_ERROR,
                                "channel %s: log entries %llu to %llu were dropped before it "
                                "read them (its cursor was idle past core/cursor_idle_max): "
                                "their notes are lost",
                                self->config.name, (unsigned long long)self->read_upto + 1,
                                (unsigned long long)position - 1);
    s_entry_t *entry = (s_entry_t *)zmalloc (sizeof (s_entry_t));
    entry->position = position;
    char reason[256] = "";
    //  Transitions and stale events (logged since ABI 1.6); other types are passed over.
    if (jobd_event_decode (data, size, &entry->event, reason, sizeof reason))
        self->config.host->log (self->config.host, JOBD_LOG_WARN,
                                "channel %s: log entry %llu does not decode: %s", self->config.name,
                                (unsigned long long)position, reason);
    else if (entry->event->type != JOBD_EVENT_TRANSITION && entry->event->type != JOBD_EVENT_STALE)
        jobd_event_destroy (&entry->event);
    zlistx_add_end (self->queue, entry);
    self->read_upto = position;
    return true;
}

//  Sets the note to deliver next (individually), or folds it into its rule's digest.
static void
s_route (s_reader_t *self, nt_note_t *note, int rule, uint64_t position)
{
    const nt_rules_t *rules = self->config.rules;
    int64_t window = nt_rules_digest_window (rules, (size_t)rule);
    s_window_t *slot = &self->windows[rule];
    if (!self->config.type->digests || window <= 0) {
        self->note = note;
        self->note_position = position;
        return;
    }
    if (slot->open && note->ts >= slot->start + window) {
        slot->open = false;
        //  The window ended by the events' own time: its digest goes first (out of memory for
        //  it: it is made again at the next window's end).
        if (slot->digest && !self->note && (self->note = nt_digest_note (slot->digest))) {
            self->note_position = 0;
            self->note_digest = rule;
            self->next = note;
            self->next_rule = rule;
            self->next_position = position;
            return;
        }
    }
    if (!slot->open) {
        slot->open = true;
        slot->start = note->ts;
        slot->count = 0;
    }
    if (++slot->count <= nt_rules_digest_after (rules, (size_t)rule)) {
        self->note = note;
        self->note_position = position;
        return;
    }
    if (!slot->digest) {
        slot->digest = nt_digest_new (nt_rules_name (rules, (size_t)rule), window);
        slot->hold = position ? position - 1 : self->done;
    }
    if (!slot->digest) { //  out of memory: the note goes alone rather than be lost
        self->note = note;
        self->note_position = position;
        return;
    }
    nt_digest_add (slot->digest, note);
    nt_note_destroy (&note);
    if (position)
        self->done = position;
}

//  A note was taken (or refused for good): the next.
static void
s_note_done (s_reader_t *self)
{
    nt_note_destroy (&self->note);
    if (self->note_digest >= 0) {
        nt_digest_destroy (&self->windows[self->note_digest].digest);
        self->windows[self->note_digest].hold = 0;
        self->note_digest = -1;
    }
    if (self->note_position)
        self->done = self->note_position;
    self->note_position = 0;
    if (self->next) {
        nt_note_t *next = self->next;
        self->next = NULL;
        s_route (self, next, self->next_rule, self->next_position);
    }
    s_cursor (self, true);
}

//  The channel cannot go on (the note not delivered, the store not read): failing, with error,
//  tried again after a backoff that doubles up to backoff_max. Returns the ms to wait.
static int64_t
s_fail (s_reader_t *self, const char *key, const char *error, int64_t now)
{
    const jobd_host_t *host = self->config.host;
    if (!self->failing) {
        host->log (host, JOBD_LOG_WARN, "channel %s: cannot deliver %s: %s; trying again",
                   self->config.name, key ? key : "its next note", error);
        self->failing = true;
        self->failing_since = now;
    }
    snprintf (self->last_error, sizeof self->last_error, "%s", error);
    int64_t most = self->config.backoff_max > 0 ? self->config.backoff_max : 1000;
    self->backoff = self->backoff ? self->backoff * 2 : 1000;
    if (self->backoff > most)
        self->backoff = most;
    self->next_try = now + self->backoff;
    return self->backoff;
}

//  The store could not be read (not "no such job": that is news about the job): failing.
static int64_t
s_store_fail (s_reader_t *self, const char *what, int rc, int64_t now)
{
    char error[256];
    snprintf (error, sizeof error, "cannot read %s from the store: %s", what, jobd_strerror (rc));
    return s_fail (self, NULL, error, now);
}

//  Tries the note. Returns ms to wait before the next step.
static int64_t
s_deliver (s_reader_t *self, int64_t now)
{
    const jobd_host_t *host = self->config.host;
    if (now < self->next_try)
        return self->next_try - now;
    char error[256] = "";
    //  A partition's reader delivers only while this instance owns the partition: its next
    //  owner sends the note (again) from the partition's cursor.
    if (!s_owner (self))
        return S_IDLE;
    if (self->config.lock)
        pthread_mutex_lock (self->config.lock);
    int rc = JOBD_ENOTOWNER;
    if (s_owner (self)) //  again: another reader's delivery may have taken long
        rc = self->config.type->deliver (self->config.channel, self->note, error, sizeof error);
    if (self->config.lock)
        pthread_mutex_unlock (self->config.lock);
    if (rc == JOBD_ENOTOWNER)
        return S_IDLE;
    if (rc == 0 || rc == JOBD_EINVAL) {
        if (rc == 0)
            self->delivered++;
        else {
            self->refused++;
            snprintf (self->last_error, sizeof self->last_error, "%s", error);
            host->log (host, JOBD_LOG_WARN, "channel %s: note %s refused for good: %s",
                       self->config.name, self->note->key, error);
        }
        if (self->note->event == NT_EVENT_DIGEST)
            self->digests++;
        if (self->failing)
            host->log (host, JOBD_LOG_INFO, "channel %s: delivering again after %lld s",
                       self->config.name, (long long)((now - self->failing_since) / 1000));
        self->failing = false;
        self->backoff = 0;
        self->next_try = 0;
        s_note_done (self);
        return 0;
    }
    return s_fail (self, self->note->key, error, now);
}

//  The note of event (a transition or a stale event) when a rule wants it: routed. Returns the
//  ms to wait before asking again (an undecided FAILED), else 0.
static int64_t
s_consider (s_reader_t *self, const jobd_event_t *event, uint64_t position, int64_t now)
{
    const jobd_host_t *host = self->config.host;
    if (self->config.partition >= 0) {
        //  A partition's reader sends what its cursor has not passed, whoever committed it; it
        //  stops while this instance does not own the partition (the notifier ends it then).
        if (!s_owner (self))
            return S_IDLE;
    } else if ((self->config.stale_only && event->type == JOBD_EVENT_TRANSITION) ||
               !jobd_host_acting_at (host, event->job, position)) {
        //  Cluster mode: every instance logs every transition; the one acting on the job
        //  notifies what was committed under its claim (what came before, its previous owner
        //  did). With partition readers, this reader sends the stale events only.
        if (position)
            self->done = position;
        return 0;
    }
    jobd_job_t *record = NULL;
    nt_facts_t facts;
    bool failed = event->state == JOBD_STATE_FAILED || event->state == JOBD_STATE_LOST;
    if (event->type == JOBD_EVENT_STALE)
        nt_decide_stale (event, &facts);
    else {
        //  A job not found is gone (final); a store that cannot be read says nothing of it.
        int rc = failed ? jobd_host_job_get (host, event->job, &record) : 0;
        if (rc && rc != JOBD_ENOTFOUND)
            return s_store_fail (self, "a job's record", rc, now);
        int64_t wait = nt_decide (event, record, now, self->config.final_wait, &facts);
        if (wait > 0) {
            //  Undecided: worth waiting for only when being final would change the note.
            nt_facts_t final = facts;
            final.events |= 1u << NT_EVENT_FINAL;
            nt_event_t as_is = NT_EVENT_STATE, as_final = NT_EVENT_STATE;
            if (nt_rules_match (self->config.rules, self->config.name, &facts, &as_is) !=
                    nt_rules_match (self->config.rules, self->config.name, &final, &as_final) ||
                as_is != as_final) {
                jobd_job_destroy (&record);
                return wait < S_DECIDE_POLL ? wait : S_DECIDE_POLL;
            }
        }
    }
    nt_event_t kind = NT_EVENT_STATE;
    int rule = nt_rules_match (self->config.rules, self->config.name, &facts, &kind);
    if (rule >= 0) {
        int rc = record ? 0 : jobd_host_job_get (host, event->job, &record);
        if (rc && rc != JOBD_ENOTFOUND)
            return s_store_fail (self, "a job's record", rc, now);
        nt_note_t *note = nt_note_new (kind, event, record, self->config.link);
        if (note)
            s_route (self, note, rule, position);
        else if (position)
            self->done = position;
    } else if (position)
        self->done = position;
    jobd_job_destroy (&record);
    return 0;
}

//  One unit of work. Returns ms to wait before the next (0: at once).
static int64_t
s_step (s_reader_t *self)
{
    int64_t now = jobd_now_ms ();
    if (self->note)
        return s_deliver (self, now);
    //  Windows whose time is up: their digests. By the clock only once the reader has caught
    //  up with the log: while it works through a backlog (a channel that was down, a restart),
    //  the events' own times close windows (s_route), or a storm would go out note by note.
    bool idle = self->caught_up && zlistx_size (self->queue) == 0;
    for (size_t rule = 0; idle && rule < nt_rules_size (self->config.rules); rule++) {
        s_window_t *slot = &self->windows[rule];
        int64_t window = nt_rules_digest_window (self->config.rules, rule);
        if (slot->open && now >= slot->start + window) {
            slot->open = false;
            if (slot->digest) {
                self->note = nt_digest_note (slot->digest);
                if (!self->note) { //  out of memory: the window stays open, tried again
                    slot->open = true;
                    return s_fail (self, NULL, "out of memory making a digest", now);
                }
                self->note_position = 0;
                self->note_digest = (int)rule;
                return 0;
            }
        }
    }
    if (zlistx_size (self->queue) == 0) {
        if (now < self->next_try)
            return self->next_try - now;
        const jobd_host_t *host = self->config.host;
        int count = self->config.partition >= 0
                        ? host->plog_read (host, (uint32_t)self->config.partition, self->read_upto,
                                           S_READ_MAX, s_read_one, self)
                        : host->log_read (host, self->read_upto, S_READ_MAX, s_read_one, self);
        if (count < 0)
            return s_store_fail (self, "the transition log", count, now);
        self->caught_up = count == 0;
        if (count == 0)
            return S_IDLE;
    }
    s_entry_t *entry = (s_entry_t *)zlistx_first (self->queue);
    if (entry->event) {
        int64_t wait = s_consider (self, entry->event, entry->position, now);
        if (wait > 0)
            return wait;
    } else
        self->done = entry->position;
    zlistx_delete (self->queue, zlistx_cursor (self->queue));
    return 0;
}

//  Tells the run loop how the channel does, when that changed.
static void
s_status (s_reader_t *self)
{
    int64_t now = jobd_now_ms ();
    if (self->failing == self->status_failing && now - self->status_at < S_STATUS_INTERVAL)
        return;
    uint64_t head = self->done;
    s_cursor_read (self, NULL, &head);
    uint64_t behind = head > self->done ? head - self->done : 0;
    for (size_t rule = 0; rule < NT_RULES_MAX; rule++)
        if (self->windows[rule].digest) //  folded, waiting for the window's end
            behind += nt_digest_count (self->windows[rule].digest);
    int64_t oldest = 0;
    if (self->note)
        oldest = self->note->ts;
    else {
        s_entry_t *entry = (s_entry_t *)zlistx_first (self->queue);
        if (entry && entry->event)
            oldest = entry->event->ts;
    }
    char detail[512];
    int used =
        snprintf (detail, sizeof detail, "%s: %llu delivered, %llu pending", self->config.name,
                  (unsigned long long)self->delivered, (unsigned long long)behind);
    if (oldest && now > oldest && (size_t)used < sizeof detail)
        used += snprintf (detail + used, sizeof detail - (size_t)used, " (oldest %llds)",
                          (long long)((now - oldest) / 1000));
    if (self->refused && (size_t)used < sizeof detail)
        used += snprintf (detail + used, sizeof detail - (size_t)used, ", %llu refused",
                          (unsigned long long)self->refused);
    if (self->failing && (size_t)used < sizeof detail)
        snprintf (detail + used, sizeof detail - (size_t)used, ", failing for %llds: %s",
                  (long long)((now - self->failing_since) / 1000), self->last_error);
    self->status_at = now;
    if (strcmp (detail, self->status) == 0 && self->failing == self->status_failing)
        return;
    snprintf (self->status, sizeof self->status, "%s", detail);
    self->status_failing = self->failing;
    char numbers[96];
    snprintf (numbers, sizeof numbers, "%llu %llu %lld %llu", (unsigned long long)self->delivered,
              (unsigned long long)behind,
              (long long)(oldest && now > oldest ? (now - oldest) / 1000 : 0),
              (unsigned long long)self->refused);
    zstr_sendx (self->pipe, "STATUS", self->failing ? "1" : "0", detail, numbers, NULL);
}

//  Reads what the pipe holds, waiting up to timeout ms for the first.
static void
s_listen (s_reader_t *self, int64_t timeout)
{
    zmq_pollitem_t item = {zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0};
    while (!self->terminated && zmq_poll (&item, 1, (long)timeout) > 0 &&
           (item.revents & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (self->pipe);
        if (!msg) {
            self->terminated = true;
            break;
        }
        char *command = zmsg_popstr (msg);
        if (command && streq (command, "$TERM"))
            self->terminated = true;
        free (command);
        zmsg_destroy (&msg);
        timeout = 0;
    }
}

//  The reader's cursor and its source's head (the transition log's, or its partition's).
static int
s_cursor_read (s_reader_t *self, uint64_t *position_p, uint64_t *head_p)
{
    const jobd_host_t *host = self->config.host;
    if (self->config.partition >= 0)
        return host->plog_cursor (host, self->cursor_name, (uint32_t)self->config.partition,
                                  position_p, head_p);
    return host->log_cursor (host, self->cursor_name, position_p, head_p);
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    s_reader_t *self = (s_reader_t *)arg;
    self->pipe = pipe;
    //  A command of an exec channel that exits early must not stop jobd with SIGPIPE.
    sigset_t block;
    sigemptyset (&block);
    sigaddset (&block, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &block, NULL);
    const jobd_host_t *host = self->config.host;
    self->bus = zsock_new_dealer (">" JOBD_BUS_ENDPOINT);
    uint64_t position = 0, head = 0;
    int rc = self->bus ? s_cursor_read (self, &position, &head) : -ENOMEM;
    char source[48] = "log";
    if (self->config.partition >= 0)
        snprintf (source, sizeof source, "partition %d", self->config.partition);
    zsock_signal (pipe, 0);
    if (rc == JOBD_ENOTFOUND) {
        //  The first start of this channel: it tells what happens from now on.
        host->log (host, JOBD_LOG_INFO, "channel %s: notes from %s position %llu on",
                   self->config.name, source,
                   (unsigned long long)head + (self->config.partition < 0 ? 1 : 0));
        position = head;
        self->done = self->read_upto = position;
        s_send_cursor (self, position);
    } else if (rc == 0) {
        self->done = self->read_upto = self->cursor_sent = position;
        if (head > position && self->config.partition >= 0)
            host->log (host, JOBD_LOG_INFO,
                       "channel %s: partition %d from position %llu, %llu behind its head",
                       self->config.name, self->config.partition, (unsigned long long)position,
                       (unsigned long long)(head - position));
        else if (head > position)
            host->log (host, JOBD_LOG_INFO,
                       "channel %s: %llu transitions to read since the last run", self->config.name,
                       (unsigned long long)(head - position));
    } else {
        host->log (host, JOBD_LOG_ERROR, "channel %s: cannot read the transition %s: %s",
                   self->config.name, source, jobd_strerror (rc));
        zstr_sendx (pipe, "STATUS", "1", "cannot read the transition log", NULL);
    }
    int64_t drain_until = 0;
    while (rc == 0 || rc == JOBD_ENOTFOUND) {
        int64_t wait = s_step (self);
        s_cursor (self, false);
        s_status (self);
        if (!self->terminated) {
            s_listen (self, wait);
            continue;
        }
        //  A clean stop: the transitions in the log now are read and their notes sent first,
        //  within S_DRAIN_MS, while this instance still acts on their jobs (in a cluster, the
        //  partitions are released only after the plugins stopped, and the next owner does not
        //  notify what this one committed). A channel that fails keeps its notes for the next
        //  start, as before.
        int64_t now = zclock_mono ();
        if (!drain_until)
            drain_until = now + S_DRAIN_MS;
        bool more = !self->caught_up || zlistx_size (self->queue) > 0 || self->note || self->next;
        if (!more || now >= drain_until || !s_owner (self))
            break;
        if (wait > 0)
            zclock_sleep ((int)(wait < drain_until - now ? wait : drain_until - now));
    }
    while (!self->terminated)
        s_listen (self, 1000);
    if (rc == 0 || rc == JOBD_ENOTFOUND)
        s_cursor (self, true);
    //  The last cursor reaches the broker (which stops after the plugins): without it, the next
    //  start would send again what this run sent since the cursor last moved.
    if (self->bus)
        zsock_set_linger (self->bus, S_LINGER_MS);
    zsock_destroy (&self->bus);
}

static void
s_free (s_reader_t *self)
{
    zlistx_destroy (&self->queue);
    nt_note_destroy (&self->note);
    nt_note_destroy (&self->next);
    for (size_t rule = 0; rule < NT_RULES_MAX; rule++)
        nt_digest_destroy (&self->windows[rule].digest);
    free (self);
}

//  The actor owns its state: it is freed when the actor ends (zactor_destroy).
static void
s_actor_main (zsock_t *pipe, void *arg)
{
    s_actor (pipe, arg);
    s_free ((s_reader_t *)arg);
}

zactor_t *
nt_reader_new (const nt_reader_config_t *config)
{
    s_reader_t *self = (s_reader_t *)zmalloc (sizeof (s_reader_t));
    self->config = *config;
    snprintf (self->cursor_name, sizeof self->cursor_name, "%s/%s", config->host->plugin_name,
              config->name);
    if (config->partition >= 0 &&
        (!JOBD_HOST_HAS (config->host, plog_cursor) || !config->host->plog_read)) {
        free (self);
        return NULL;
    }
    self->queue = zlistx_new ();
    zlistx_set_destructor (self->queue, (zlistx_destructor_fn *)s_entry_destroy);
    self->note_digest = -1;
    zactor_t *actor = zactor_new (s_actor_main, self);
    if (!actor)
        s_free (self);
    return actor;
}
