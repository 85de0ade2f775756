//  Commands forwarded to the owner of their job's partition (see jobd_forward.h and
//  docs/cluster.md section 4).
#include "jobd_forward.h"
#include "jobd_error.h"
#include "jobd_event.h"
#include "jobd_log.h"
#include "jobd_replica.h"
#include "jobd_reply.h"
#include "jobd_route.h"
#include <inttypes.h>
#include <msgpack.h>
#include <string.h>
#include <sys/random.h>

#define LOG "cluster"

#define S_IDLE_MS  1000 //  a turn with nobody waiting
#define S_READ_MAX 256  //  replies read per turn, at most
#define S_TOKEN    192  //  a token: <instance>/<16 hex digits of this run>/<n>

//  A client a reply goes to, kept (jobd_forward_to_t borrows its identity).
typedef struct {
    zsock_t *socket;
    uint8_t identity[256];
    size_t identity_size;
    bool delimiter;
} s_client_t;

static void
s_client_keep (s_client_t *client, const jobd_forward_to_t *to)
{
    client->socket = to->socket;
    client->identity_size = to->identity_size < sizeof client->identity ? to->identity_size : 0;
    memcpy (client->identity, to->identity, client->identity_size);
    client->delimiter = to->delimiter;
}

static jobd_forward_to_t
s_client_to (const s_client_t *client)
{
    return (jobd_forward_to_t){client->socket, client->identity, client->identity_size,
                               client->delimiter};
}

//  A client waiting for the owner's reply to its command.
typedef struct {
    s_client_t client;
    char re[JOBD_ID_MAX + 1];  //  its command's event id
    char job[JOBD_ID_MAX + 1]; //  the job it is about (a forwarded submission's drawn id)
    int partition;
    int64_t deadline; //  zclock_mono
} s_waiter_t;

//  A batch whose reply waits for Kafka to ack its forwards.
typedef struct {
    uint64_t id;
    size_t sent, acked, failed;
    bool closed; //  its reply is here
    s_client_t client;
    uint64_t ticket;
    void *reply;
    size_t reply_size;
} s_group_t;

struct jobd_forward {
    jobd_cluster_t *cluster;
    jobd_replica_t *replies; //  <prefix>.replies, partition 0
    char prefix[S_TOKEN];    //  "<instance>/<run>/": this run's tokens start with it
    size_t prefix_size;
    uint64_t next;       //  the last token's number
    uint64_t next_group; //  the last group's id
    int64_t reply_timeout;
    zhashx_t *waiting; //  token -> s_waiter_t
    int64_t expiry_at; //  the earliest waiter's deadline (0: nobody waits): the turns before it
                       //  do not look at them
    zlistx_t *groups;  //  s_group_t, in the order opened
    uint64_t forwarded, relayed, timed_out;
};

static void
s_group_free (void **item)
{
    s_group_t *group = (s_group_t *)*item;
    if (group)
        free (group->reply);
    free (group);
    *item = NULL;
}

//  A delivery report of a batch's forward (opaque: its group's id).
static void
s_delivered (void *opaque, rd_kafka_resp_err_t err, void *arg)
{
    jobd_forward_t *self = (jobd_forward_t *)arg;
    uint64_t id = (uint64_t)(uintptr_t)opaque;
    for (s_group_t *group = (s_group_t *)zlistx_first (self->groups); group;
         group = (s_group_t *)zlistx_next (self->groups))
        if (group->id == id) {
            group->acked++;
            if (err) {
                group->failed++;
                jobd_log (JOBD_LOG_ERROR, LOG, "a forwarded observation was refused by Kafka: %s",
                          rd_kafka_err2str (err));
            }
            return;
        }
}

int
jobd_forward_new (jobd_config_t *config, jobd_cluster_t *cluster, jobd_forward_t **self_p,
                  char *reason, size_t reason_size)
{
    *self_p = NULL;
    jobd_forward_t *self = (jobd_forward_t *)zmalloc (sizeof (jobd_forward_t));
    self->cluster = cluster;
    self->reply_timeout = jobd_config_int (config, "cluster", "reply_timeout", 10000);
    uint64_t run = 0;
    if (getrandom (&run, sizeof run, 0) != (ssize_t)sizeof run)
        run = (uint64_t)zclock_time () ^ ((uint64_t)getpid () << 40);
    self->prefix_size = (size_t)snprintf (self->prefix, sizeof self->prefix, "%s/%016" PRIx64 "/",
                                          jobd_cluster_instance (cluster), run);
    self->waiting = zhashx_new ();
    zhashx_set_destructor (self->waiting, (zhashx_destructor_fn *)zstr_free);
    self->groups = zlistx_new ();
    zlistx_set_destructor (self->groups, s_group_free);
    //  Replies from now on: older ones answer other runs' tokens.
    int64_t next[1] = {-1};
    if (jobd_cluster_high (cluster, "replies", 0, &next[0]))
        next[0] = -1;
    int rc = jobd_replica_new (config, jobd_cluster_topic (cluster, "replies"), 1, next,
                               &self->replies, reason, reason_size);
    if (rc) {
        jobd_forward_destroy (&self);
        return rc;
    }
    jobd_cluster_set_delivered_fn (cluster, s_delivered, self);
    *self_p = self;
    return 0;
}

void
jobd_forward_destroy (jobd_forward_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_forward_t *self = *self_p;
    if (self->forwarded)
        jobd_log (JOBD_LOG_INFO, LOG,
                  "forwarded %" PRIu64 " commands to their owners; relayed %" PRIu64
                  " replies, %" PRIu64 " answered ETIMEOUT",
                  self->forwarded, self->relayed, self->timed_out);
    jobd_cluster_set_delivered_fn (self->cluster, NULL, NULL);
    jobd_replica_destroy (&self->replies);
    zhashx_destroy (&self->waiting);
    zlistx_destroy (&self->groups);
    free (self);
    *self_p = NULL;
}

int
jobd_forward_send (jobd_forward_t *self, const void *data, size_t size, const char *job,
                   const jobd_forward_to_t *to, const char *re, uint64_t group, char *reason,
                   size_t reason_size)
{
    int partition = jobd_route_partition (job, jobd_cluster_partitions (self->cluster));
    if (partition < 0) {
        snprintf (reason, reason_size, "job id '%s' has no partition", job);
        return JOBD_EPROTO;
    }
    char token[S_TOKEN];
    snprintf (token, sizeof token, "%s%" PRIu64, self->prefix, ++self->next);
    int rc = jobd_cluster_produce_with (self->cluster, "jobs", partition, job, strlen (job), data,
                                        size, JOBD_FORWARD_HEADER, to ? token : "",
                                        (void *)(uintptr_t)group, reason, reason_size);
    if (rc)
        return rc;
    self->forwarded++;
    if (group)
        for (s_group_t *one = (s_group_t *)zlistx_last (self->groups); one;
             one = (s_group_t *)zlistx_prev (self->groups))
            if (one->id == group) {
                one->sent++;
                break;
            }
    if (to) {
        s_waiter_t *waiter = (s_waiter_t *)zmalloc (sizeof (s_waiter_t));
        s_client_keep (&waiter->client, to);
        snprintf (waiter->re, sizeof waiter->re, "%s", re ? re : "");
        snprintf (waiter->job, sizeof waiter->job, "%s", job);
        waiter->partition = partition;
        waiter->deadline = zclock_mono () + self->reply_timeout;
        if (!self->expiry_at || waiter->deadline < self->expiry_at)
            self->expiry_at = waiter->deadline;
        zhashx_update (self->waiting, token, waiter);
    }
    return 0;
}

uint64_t
jobd_forward_group (jobd_forward_t *self)
{
    s_group_t *group = (s_group_t *)zmalloc (sizeof (s_group_t));
    group->id = ++self->next_group;
    zlistx_add_end (self->groups, group);
    return group->id;
}

void
jobd_forward_group_close (jobd_forward_t *self, uint64_t id, const jobd_forward_to_t *to,
                          const void *data, size_t size, uint64_t ticket)
{
    for (s_group_t *group = (s_group_t *)zlistx_last (self->groups); group;
         group = (s_group_t *)zlistx_prev (self->groups))
        if (group->id == id) {
            group->closed = true;
            s_client_keep (&group->client, to);
            group->ticket = ticket;
            group->reply = malloc (size);
            if (group->reply)
                memcpy (group->reply, data, size);
            group->reply_size = group->reply ? size : 0;
            return;
        }
}

int
jobd_forward_reply (jobd_forward_t *self, const uint8_t *token, size_t token_size, const void *data,
                    size_t size)
{
    char reason[256];
    int rc = jobd_cluster_produce (self->cluster, "replies", 0, token, token_size, data, size,
                                   reason, sizeof reason);
    if (rc)
        jobd_log (JOBD_LOG_WARN, LOG, "a forwarded command's reply was not sent: %s", reason);
    return rc;
}

typedef struct {
    jobd_forward_t *self;
    jobd_forward_send_fn *send;
    void *arg;
} s_relay_t;

//  One message of the replies topic: relayed when its token is one of this run's.
static bool
s_relay (const jobd_replica_message_t *message, void *arg)
{
    s_relay_t *relay = (s_relay_t *)arg;
    jobd_forward_t *self = relay->self;
    if (message->key_size < self->prefix_size || message->key_size >= S_TOKEN ||
        memcmp (message->key, self->prefix, self->prefix_size) != 0)
        return true;
    char token[S_TOKEN];
    memcpy (token, message->key, message->key_size);
    token[message->key_size] = 0;
    s_waiter_t *waiter = (s_waiter_t *)zhashx_lookup (self->waiting, token);
    if (!waiter)
        return true; //  answered ETIMEOUT already
    jobd_forward_to_t to = s_client_to (&waiter->client);
    relay->send (&to, message->value, message->value_size, relay->arg);
    self->relayed++;
    zhashx_delete (self->waiting, token);
    return true;
}

//  Answers ETIMEOUT the clients whose deadline passed, and finds the next deadline.
static void
s_expire (jobd_forward_t *self, int64_t now, jobd_forward_send_fn *send, void *arg)
{
    zlist_t *expired = zlist_new ();
    self->expiry_at = 0;
    for (s_waiter_t *waiter = (s_waiter_t *)zhashx_first (self->waiting); waiter;
         waiter = (s_waiter_t *)zhashx_next (self->waiting)) {
        if (waiter->deadline <= now)
            zlist_append (expired, (void *)zhashx_cursor (self->waiting));
        else if (!self->expiry_at || waiter->deadline < self->expiry_at)
            self->expiry_at = waiter->deadline;
    }
    for (const char *token = (const char *)zlist_first (expired); token;
         token = (const char *)zlist_next (expired)) {
        s_waiter_t *waiter = (s_waiter_t *)zhashx_lookup (self->waiting, token);
        char reason[256];
        snprintf (reason, sizeof reason,
                  "forwarded to the owner of partition %d through Kafka, not answered within "
                  "%lld ms (it is applied once an owner reads it: look the job up before "
                  "sending it again)",
                  waiter->partition, (long long)self->reply_timeout);
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
        //  The job it names: a submission's is made under it once an owner reads it.
        jobd_reply_pack (&pk, waiter->re, JOBD_ETIMEOUT, reason, waiter->job, NULL);
        jobd_forward_to_t to = s_client_to (&waiter->client);
        send (&to, buffer.data, buffer.size, arg);
        msgpack_sbuffer_destroy (&buffer);
        self->timed_out++;
        zhashx_delete (self->waiting, token);
    }
    zlist_destroy (&expired);
}

int64_t
jobd_forward_turn (jobd_forward_t *self, jobd_forward_send_fn *send,
                   jobd_forward_release_fn *release, void *arg)
{
    s_relay_t relay = {self, send, arg};
    while (jobd_replica_read (self->replies, S_READ_MAX, 0, s_relay, &relay) == S_READ_MAX)
        ;
    int64_t now = zclock_mono ();
    if (self->expiry_at && now >= self->expiry_at)
        s_expire (self, now, send, arg);
    int64_t wait =
        self->expiry_at && self->expiry_at - now < S_IDLE_MS ? self->expiry_at - now : S_IDLE_MS;
    //  Batches in order: a reply never overtakes an earlier batch's.
    s_group_t *group;
    while ((group = (s_group_t *)zlistx_first (self->groups)) && group->closed &&
           group->acked >= group->sent) {
        jobd_forward_to_t to = s_client_to (&group->client);
        if (group->reply)
            release (&to, group->reply, group->reply_size, group->ticket, arg);
        zlistx_delete (self->groups, zlistx_cursor (self->groups));
    }
    if (zlistx_size (self->groups) && wait > 10)
        wait = 10;
    return wait;
}

int
jobd_forward_fd (jobd_forward_t *self)
{
    return jobd_replica_fd (self->replies);
}

void
jobd_forward_counts (jobd_forward_t *self, uint64_t *forwarded, uint64_t *relayed,
                     uint64_t *timed_out)
{
    *forwarded = self->forwarded;
    *relayed = self->relayed;
    *timed_out = self->timed_out;
}
