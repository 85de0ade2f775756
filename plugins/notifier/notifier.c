//  The notifier plugin: tells people and systems what happened to jobs, once per event, through
//  channels (webhook, slack, email, alertmanager, exec). Each channel has a reader thread of the
//  store's transition log with its own cursor (nt_reader.c), so that nothing is lost while a
//  channel is down or jobd is killed; rules (nt_rules.c) say which events go where. This file
//  holds the config map, opens the channels and rules at init, and runs the loop that reports
//  the channels' status. In a cluster (ABI 1.9) a channel has one more reader per partition
//  this instance owns, started and ended as partitions come and go (nt_reader.h).
#include "jobd_plugin_sdk.h"
#include "nt_reader.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CHANNELS_MAX 32

static const jobd_conf_key_t s_config[] = {
    {"link", JOBD_CONF_STRING, "",
     "a URL template for a job's page, {job} replaced by its id, put in notes' links (empty: "
     "none)"},
    {"final_wait", JOBD_CONF_DURATION, "10s",
     "how long after a FAILED with no retry decision yet (no RETRY_WAIT, no retry_final on the "
     "record, the attempt unchanged) the notifier waits before calling it final"},
    {"backoff_max", JOBD_CONF_DURATION, "5m",
     "the longest wait between tries of a failing channel (from 1s, doubling)"},
    {"status_interval", JOBD_CONF_DURATION, "5s", "most often plugin.status is sent"},
    {"rules/*/events", JOBD_CONF_STRING, "final, stale, recovered",
     "comma list of failed, final, stale, recovered, cancelled, succeeded, state:<STATE>"},
    {"rules/*/channels", JOBD_CONF_STRING, "*", "the channels the rule sends to: * or names"},
    {"rules/*/kinds", JOBD_CONF_STRING, "",
     "the jobs' kinds: comma list of globs, or ~REGEX (POSIX extended) (empty: any)"},
    {"rules/*/backends", JOBD_CONF_STRING, "",
     "the jobs' backends: comma list of globs, or ~REGEX (empty: any)"},
    {"rules/*/names", JOBD_CONF_STRING, "",
     "the jobs' names: comma list of globs, or ~REGEX (empty: any)"},
    {"rules/*/digest_after", JOBD_CONF_INT, "10",
     "more than this many notes of the rule for one channel within the window become one digest "
     "at the window's end (the first ones go out one by one)"},
    {"rules/*/digest_window", JOBD_CONF_DURATION, "1m", "the digest window (0: no digests)"},
    {"channels/*/type", JOBD_CONF_STRING, NULL,
     "webhook, slack, email, alertmanager or exec (required)"},
    {"channels/*/timeout", JOBD_CONF_DURATION, "10s", "the longest one delivery may take"},
    {"channels/*/url", JOBD_CONF_STRING, "",
     "webhook: the target; slack: the incoming-webhook URL (a secret); email: smtp://host:port "
     "or smtps://; alertmanager: its base URL"},
    {"channels/*/url_env", JOBD_CONF_STRING, "", "url from this environment variable"},
    {"channels/*/url_file", JOBD_CONF_STRING, "", "url from this file"},
    {"channels/*/headers", JOBD_CONF_STRING, "",
     "webhook: extra headers, \"Name: value; Name2: value\""},
    {"channels/*/secret", JOBD_CONF_STRING, "",
     "webhook: HMAC-SHA256 key; the body's signature goes in X-Jobd-Signature: sha256=<hex>"},
    {"channels/*/secret_env", JOBD_CONF_STRING, "", "secret from this environment variable"},
    {"channels/*/secret_file", JOBD_CONF_STRING, "", "secret from this file"},
    {"channels/*/from", JOBD_CONF_STRING, "", "email: the sender address"},
    {"channels/*/to", JOBD_CONF_STRING, "", "email: comma list of recipients"},
    {"channels/*/username", JOBD_CONF_STRING, "",
     "email: SMTP login; alertmanager: basic auth user"},
    {"channels/*/password", JOBD_CONF_STRING, "",
     "email: SMTP password; alertmanager: basic auth password"},
    {"channels/*/password_env", JOBD_CONF_STRING, "", "password from this environment variable"},
    {"channels/*/password_file", JOBD_CONF_STRING, "", "password from this file"},
    {"channels/*/starttls", JOBD_CONF_STRING, "try", "email: try, require or off"},
    {"channels/*/labels", JOBD_CONF_STRING, "",
     "alertmanager: extra labels, \"team=data, env=prod\""},
    {"channels/*/alert_ttl", JOBD_CONF_DURATION, "24h",
     "alertmanager: a firing alert's endsAt is now + this"},
    {"channels/*/command", JOBD_CONF_STRING, "",
     "exec: run with /bin/sh -c, the note's JSON on stdin, JOBD_NOTIFY_KEY and "
     "JOBD_NOTIFY_EVENT in its environment, killed at the timeout"},
    {NULL, 0, NULL, NULL}};

//  A reader of a channel, and how it does as it last said (nt_reader.h).
typedef struct {
    zactor_t *actor;
    bool failing;
    char detail[512];
    unsigned long long delivered, pending, refused;
    long long oldest; //  s
    bool broken;      //  it could not start: not tried again until the partition comes back
    bool stopping;    //  told to end
} s_reader_t;

typedef struct {
    char *name;
    const nt_channel_type_t *type;
    void *state;
    pthread_mutex_t lock; //  its readers deliver one at a time
    bool locked;          //  lock was made
    s_reader_t log;       //  the transition log's reader
    s_reader_t *parts;    //  cluster mode: a reader per partition this instance owns
    unsigned long long delivered_before, refused_before; //  of the partition readers ended
    bool failing;
    char detail[512];
    unsigned long long delivered, pending, refused; //  its readers' together
    long long oldest;                               //  s
} s_channel_t;

typedef struct {
    const jobd_host_t *host;
    uint32_t partitions; //  cluster mode (ABI 1.9): the cluster's partitions; else 0
    nt_reader_config_t base;
    zsock_t *bus;
    nt_rules_t *rules;
    s_channel_t channels[S_CHANNELS_MAX];
    size_t count;
    jobd_sdk_status_t *report;
    bool changed; //  a channel's failing flag changed: report at once
} s_notifier_t;

static void s_destroy (void **state_p);

//  Starts channel's reader of partition (-1: the transition log) into reader.
static void
s_reader_start (s_notifier_t *self, s_channel_t *channel, s_reader_t *reader, int partition)
{
    nt_reader_config_t config = self->base;
    config.name = channel->name;
    config.type = channel->type;
    config.channel = channel->state;
    config.lock = self->partitions ? &channel->lock : NULL;
    config.partition = partition;
    config.stale_only = self->partitions > 0 && partition < 0;
    memset (reader, 0, sizeof *reader);
    reader->actor = nt_reader_new (&config);
    reader->broken = !reader->actor;
    if (!reader->actor && partition < 0)
        self->host->log (self->host, JOBD_LOG_ERROR, "channel %s: cannot start its reader",
                         channel->name);
    else if (!reader->actor)
        self->host->log (self->host, JOBD_LOG_ERROR,
                         "channel %s: cannot start its reader of partition %d", channel->name,
                         partition);
    snprintf (reader->detail, sizeof reader->detail, "%s: starting", channel->name);
}

//  Ends a partition's reader; its figures stay in the channel's.
static void
s_reader_stop (s_channel_t *channel, s_reader_t *reader)
{
    if (!reader->actor)
        return;
    zactor_destroy (&reader->actor);
    channel->delivered_before += reader->delivered;
    channel->refused_before += reader->refused;
    memset (reader, 0, sizeof *reader);
}

//  Ends every reader of the channel: all are told first, so that they finish (a clean stop's
//  drain) side by side.
static void
s_readers_stop (s_notifier_t *self, s_channel_t *channel)
{
    for (uint32_t part = 0; channel->parts && part < self->partitions; part++)
        if (channel->parts[part].actor)
            zstr_send (channel->parts[part].actor, "$TERM");
    if (channel->log.actor)
        zstr_send (channel->log.actor, "$TERM");
    for (uint32_t part = 0; channel->parts && part < self->partitions; part++)
        s_reader_stop (channel, &channel->parts[part]);
    s_reader_stop (channel, &channel->log);
}

//  Cluster mode: a reader for each partition this instance owns now, none for the others (the
//  readers of partitions lost are all told first: each ends after its step under way).
static void
s_readers_follow (s_notifier_t *self)
{
    const jobd_host_t *host = self->host;
    bool lost = false;
    for (uint32_t part = 0; part < self->partitions; part++) {
        bool owned = host->partition_acting (host, part) != 0;
        for (size_t index = 0; index < self->count; index++) {
            s_channel_t *channel = &self->channels[index];
            s_reader_t *reader = &channel->parts[part];
            if (owned && !reader->actor && !reader->broken)
                s_reader_start (self, channel, reader, (int)part);
            else if (!owned && reader->actor) {
                zstr_send (reader->actor, "$TERM");
                reader->stopping = lost = true;
            } else if (!owned)
                reader->broken = false;
        }
    }
    for (uint32_t part = 0; lost && part < self->partitions; part++)
        for (size_t index = 0; index < self->count; index++)
            if (self->channels[index].parts[part].stopping)
                s_reader_stop (&self->channels[index], &self->channels[index].parts[part]);
}

//  Reads what a reader said of how it does.
static bool
s_reader_listen (s_reader_t *reader)
{
    bool changed = false;
    while (reader->actor && (zsock_events (zactor_sock (reader->actor)) & ZMQ_POLLIN)) {
        char *command = NULL, *flag = NULL, *detail = NULL, *numbers = NULL;
        if (zstr_recvx (reader->actor, &command, &flag, &detail, &numbers, NULL) >= 4 &&
            streq (command, "STATUS")) {
            bool now_failing = streq (flag, "1");
            changed |= now_failing != reader->failing;
            reader->failing = now_failing;
            snprintf (reader->detail, sizeof reader->detail, "%s", detail);
            if (sscanf (numbers, "%llu %llu %lld %llu", &reader->delivered, &reader->pending,
                        &reader->oldest, &reader->refused) != 4)
                reader->delivered = reader->pending = reader->refused = 0;
        }
        zstr_free (&command);
        zstr_free (&flag);
        zstr_free (&detail);
        zstr_free (&numbers);
    }
    return changed;
}

//  The channel's figures and detail: its readers' together. Returns whether its failing flag
//  changed.
static bool
s_channel_listen (s_notifier_t *self, s_channel_t *channel)
{
    s_reader_listen (&channel->log);
    bool failing = channel->log.failing;
    const char *failing_detail = failing ? channel->log.detail : NULL;
    unsigned long long delivered = channel->delivered_before + channel->log.delivered;
    unsigned long long refused = channel->refused_before + channel->log.refused;
    unsigned long long pending = channel->log.pending;
    long long oldest = channel->log.oldest;
    size_t readers = 0;
    for (uint32_t part = 0; channel->parts && part < self->partitions; part++) {
        s_reader_t *reader = &channel->parts[part];
        if (!reader->actor)
            continue;
        readers++;
        s_reader_listen (reader);
        delivered += reader->delivered;
        refused += reader->refused;
        pending += reader->pending;
        if (reader->oldest > oldest)
            oldest = reader->oldest;
        if (reader->failing && !failing_detail)
            failing_detail = reader->detail;
        failing |= reader->failing;
    }
    bool changed = failing != channel->failing;
    channel->failing = failing;
    channel->delivered = delivered;
    channel->refused = refused;
    channel->pending = pending;
    channel->oldest = oldest;
    if (failing_detail)
        snprintf (channel->detail, sizeof channel->detail, "%s", failing_detail);
    else if (self->partitions)
        snprintf (channel->detail, sizeof channel->detail,
                  "%s: %llu delivered, %llu pending, %zu partitions read", channel->name, delivered,
                  pending, readers);
    else
        snprintf (channel->detail, sizeof channel->detail, "%s", channel->log.detail);
    return changed;
}

//  The rules of section rules/*, or the default rule.
static int
s_rules (s_notifier_t *self, char *reason, size_t reason_size)
{
    const jobd_host_t *host = self->host;
    const char *names[NT_RULES_MAX + 1];
    size_t count = host->config_names (host, "rules", names, NT_RULES_MAX + 1);
    if (count > NT_RULES_MAX) {
        snprintf (reason, reason_size, "plugins/%s/rules: more than %d rules", host->plugin_name,
                  NT_RULES_MAX);
        return JOBD_ECONFIG;
    }
    if (count == 0) {
        char why[256];
        return nt_rules_add (self->rules, "default", "final, stale, recovered", "*", "", "", "", 10,
                             60000, why, sizeof why);
    }
    for (size_t index = 0; index < count; index++) {
        char keys[7][320];
        static const char *const fields[] = {"events", "channels",     "kinds",        "backends",
                                             "names",  "digest_after", "digest_window"};
        for (size_t field = 0; field < 7; field++)
            snprintf (keys[field], sizeof keys[field], "rules/%s/%s", names[index], fields[field]);
        char why[256] = "";
        if (nt_rules_add (self->rules, names[index], host->config_str (host, keys[0]),
                          host->config_str (host, keys[1]), host->config_str (host, keys[2]),
                          host->config_str (host, keys[3]), host->config_str (host, keys[4]),
                          host->config_int (host, keys[5], 10),
                          host->config_int (host, keys[6], 60000), why, sizeof why)) {
            snprintf (reason, reason_size, "plugins/%s/rules/%s/%s", host->plugin_name,
                      names[index], why);
            return JOBD_ECONFIG;
        }
    }
    return 0;
}

//  The channels of section channels/*, opened.
static int
s_channels (s_notifier_t *self, char *reason, size_t reason_size)
{
    const jobd_host_t *host = self->host;
    const char *names[S_CHANNELS_MAX + 1];
    size_t count = host->config_names (host, "channels", names, S_CHANNELS_MAX + 1);
    if (count > S_CHANNELS_MAX) {
        snprintf (reason, reason_size, "plugins/%s/channels: more than %d channels",
                  host->plugin_name, S_CHANNELS_MAX);
        return JOBD_ECONFIG;
    }
    for (size_t index = 0; index < count; index++) {
        s_channel_t *channel = &self->channels[index];
        channel->name = strdup (names[index]);
        self->count = index + 1;
        nt_config_t config = {host, channel->name};
        const char *type = nt_config_str (&config, "type");
        channel->type = nt_channel_type (type);
        char why[400] = "";
        if (!channel->type) {
            snprintf (reason, reason_size,
                      "plugins/%s/channels/%s/type: unknown type '%.64s' (webhook, slack, email, "
                      "alertmanager, exec; this build has: %s%s%s%s%s)",
                      host->plugin_name, channel->name, type ? type : "",
                      nt_channel_type ("webhook") ? "webhook " : "",
                      nt_channel_type ("slack") ? "slack " : "",
                      nt_channel_type ("email") ? "email " : "",
                      nt_channel_type ("alertmanager") ? "alertmanager " : "",
                      nt_channel_type ("exec") ? "exec" : "");
            return JOBD_ECONFIG;
        }
        if (channel->type->open (&config, &channel->state, why, sizeof why)) {
            snprintf (reason, reason_size, "plugins/%s/%s", host->plugin_name, why);
            return JOBD_ECONFIG;
        }
    }
    const char *unknown = nt_rules_unknown_channel (self->rules, names, count);
    if (unknown) {
        snprintf (reason, reason_size, "plugins/%s/rules: no channel '%.64s'", host->plugin_name,
                  unknown);
        return JOBD_ECONFIG;
    }
    return 0;
}

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    if (!JOBD_HOST_HAS (host, log_cursor)) {
        snprintf (reason, reason_size, "this jobd has no transition log (ABI 1.1): cannot notify");
        return JOBD_ECONFIG;
    }
    curl_global_init (CURL_GLOBAL_DEFAULT);
    s_notifier_t *self = (s_notifier_t *)zmalloc (sizeof (s_notifier_t));
    self->host = host;
    self->rules = nt_rules_new ();
    self->report = jobd_sdk_status_new (host, host->config_int (host, "status_interval", 5000));
    int rc = s_rules (self, reason, reason_size);
    if (rc == 0)
        rc = s_channels (self, reason, reason_size);
    if (rc) {
        void *state = self;
        s_destroy (&state);
        return rc;
    }
    *state_p = self;
    return 0;
}

static void
s_destroy (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_notifier_t *self = (s_notifier_t *)*state_p;
    for (size_t index = 0; index < self->count; index++) {
        s_channel_t *channel = &self->channels[index];
        s_readers_stop (self, channel);
        if (channel->type && channel->state)
            channel->type->close (&channel->state);
        if (channel->locked)
            pthread_mutex_destroy (&channel->lock);
        free (channel->parts);
        free (channel->name);
    }
    nt_rules_destroy (&self->rules);
    jobd_sdk_status_destroy (&self->report);
    free (self);
    *state_p = NULL;
}

//  A channel's figures, as its reader last said them (nt_reader.h).
static void
s_channel_figures (s_notifier_t *self, const s_channel_t *channel)
{
    unsigned long long delivered = channel->delivered, pending = channel->pending,
                       refused = channel->refused;
    long long oldest = channel->oldest;
    jobd_sdk_status_t *report = self->report;
    const char *name = channel->name;
    jobd_sdk_status_figure (report, "notifier_delivered_total", "Notes the channel delivered",
                            (double)delivered, "channel", name, NULL);
    jobd_sdk_status_figure (report, "notifier_pending",
                            "Transitions and notes the channel has still to send", (double)pending,
                            "channel", name, NULL);
    jobd_sdk_status_figure (report, "notifier_oldest_pending_seconds",
                            "Age of the oldest of them (0: none)", (double)oldest, "channel", name,
                            NULL);
    jobd_sdk_status_figure (report, "notifier_refused_total",
                            "Notes the channel's receiver refused for good", (double)refused,
                            "channel", name, NULL);
    jobd_sdk_status_figure (report, "notifier_failing", "1 while the channel fails to deliver",
                            channel->failing, "channel", name, NULL);
}

static int64_t
s_tick (void *arg)
{
    s_notifier_t *self = (s_notifier_t *)arg;
    s_readers_follow (self);
    bool failing = false;
    for (size_t index = 0; index < self->count; index++) {
        s_channel_t *channel = &self->channels[index];
        self->changed |= s_channel_listen (self, channel);
        failing |= channel->failing;
    }
    if (jobd_sdk_status_due (self->report, self->changed)) {
        char detail[2048] = "";
        size_t used = 0;
        for (size_t index = 0; index < self->count && used < sizeof detail; index++)
            used += (size_t)snprintf (detail + used, sizeof detail - used, "%s%s",
                                      index ? "; " : "", self->channels[index].detail);
        if (self->count == 0)
            snprintf (detail, sizeof detail, "no channels configured");
        jobd_sdk_status_figures_clear (self->report);
        for (size_t index = 0; index < self->count; index++)
            s_channel_figures (self, &self->channels[index]);
        jobd_sdk_status_send (self->report, self->bus, failing ? "degraded" : "running", detail);
        self->changed = false;
    }
    return 200;
}

//  The only publication it subscribes to: the broker's status.ask, answered by the next tick.
static void
s_on_event (zsock_t *events, void *arg)
{
    s_notifier_t *self = (s_notifier_t *)arg;
    zmsg_t *msg = zmsg_recv (events);
    zframe_t *payload = msg && zmsg_size (msg) == 2 ? zmsg_last (msg) : NULL;
    jobd_event_t *event = NULL;
    if (payload &&
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) == 0)
        jobd_sdk_status_asked (self->report, event);
    jobd_event_destroy (&event);
    zmsg_destroy (&msg);
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    s_notifier_t *self = (s_notifier_t *)state;
    self->bus = bus;
    self->base = (nt_reader_config_t){.host = host,
                                      .rules = self->rules,
                                      .link = host->config_str (host, "link"),
                                      .final_wait = host->config_int (host, "final_wait", 10000),
                                      .backoff_max = host->config_int (host, "backoff_max", 300000),
                                      .partition = -1};
    //  Cluster mode: the partitions' readers send the transitions (ABI 1.9; an older core's
    //  cluster has the transition log's reader send what this instance's claims committed).
    if (JOBD_HOST_HAS (host, plog_cursor) && host->partitions && host->partition_acting &&
        host->plog_read && host->plog_cursor)
        self->partitions = host->partitions;
    for (size_t index = 0; index < self->count; index++) {
        s_channel_t *channel = &self->channels[index];
        if (self->partitions) {
            channel->parts = (s_reader_t *)calloc (self->partitions, sizeof (s_reader_t));
            channel->locked = channel->parts && pthread_mutex_init (&channel->lock, NULL) == 0;
            if (!channel->locked) {
                host->log (host, JOBD_LOG_ERROR, "out of memory starting the channels");
                return -ENOMEM;
            }
        }
        s_reader_start (self, channel, &channel->log, -1);
        snprintf (channel->detail, sizeof channel->detail, "%s: starting", channel->name);
    }
    s_readers_follow (self);
    if (self->count == 0)
        host->log (host, JOBD_LOG_WARN, "no channels configured: nothing will be sent");
    jobd_sdk_status_listen (self->report, events);
    jobd_sdk_loop_t loop = {.tick = s_tick, .on_event = s_on_event};
    int rc = jobd_sdk_loop_run (&loop, pipe, bus, events, self);
    for (size_t index = 0; index < self->count; index++)
        s_readers_stop (self, &self->channels[index]);
    return rc;
}

static const char *const s_kinds[] = {NULL};

//  jobd --check: init reads the config and allocates only, so the check is init then destroy.
static int
s_check (const jobd_host_t *host, char *reason, size_t reason_size)
{
    return jobd_sdk_check_init (host, s_init, s_destroy, reason, reason_size);
}

JOBD_PLUGIN_DEFINE (.name = "notifier", .version = "1.0.0",
                    .description = "tells people and systems what happened to jobs, once per "
                                   "event: webhook, slack, email, alertmanager, exec",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy,
                    .check = s_check, .kinds = s_kinds);
