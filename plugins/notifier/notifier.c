//  The notifier plugin: tells people and systems what happened to jobs, once per event, through
//  channels (webhook, slack, email, alertmanager, exec). Each channel has a reader thread of the
//  store's transition log with its own cursor (nt_reader.c), so that nothing is lost while a
//  channel is down or jobd is killed; rules (nt_rules.c) say which events go where. This file
//  holds the config map, opens the channels and rules at init, and runs the loop that carries
//  stale events to the readers and reports the channels' status.
#include "jobd_plugin_sdk.h"
#include "nt_reader.h"
#include <curl/curl.h>
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

typedef struct {
    char *name;
    const nt_channel_type_t *type;
    void *state;
    zactor_t *reader;
    bool failing;
    char detail[512];
    unsigned long long delivered, pending, refused; //  as its reader last said
    long long oldest;                               //  s
} s_channel_t;

typedef struct {
    const jobd_host_t *host;
    zsock_t *bus;
    nt_rules_t *rules;
    s_channel_t channels[S_CHANNELS_MAX];
    size_t count;
    jobd_sdk_status_t *report;
    bool changed; //  a channel's failing flag changed: report at once
} s_notifier_t;

static void s_destroy (void **state_p);

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
        zactor_destroy (&channel->reader);
        if (channel->type && channel->state)
            channel->type->close (&channel->state);
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
    bool failing = false;
    for (size_t index = 0; index < self->count; index++) {
        s_channel_t *channel = &self->channels[index];
        while (channel->reader && (zsock_events (zactor_sock (channel->reader)) & ZMQ_POLLIN)) {
            char *command = NULL, *flag = NULL, *detail = NULL, *numbers = NULL;
            if (zstr_recvx (channel->reader, &command, &flag, &detail, &numbers, NULL) >= 4 &&
                streq (command, "STATUS")) {
                bool now_failing = streq (flag, "1");
                if (now_failing != channel->failing)
                    self->changed = true;
                channel->failing = now_failing;
                snprintf (channel->detail, sizeof channel->detail, "%s", detail);
                if (sscanf (numbers, "%llu %llu %lld %llu", &channel->delivered, &channel->pending,
                            &channel->oldest, &channel->refused) != 4)
                    channel->delivered = channel->pending = channel->refused = 0;
            }
            zstr_free (&command);
            zstr_free (&flag);
            zstr_free (&detail);
            zstr_free (&numbers);
        }
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
    for (size_t index = 0; index < self->count; index++) {
        s_channel_t *channel = &self->channels[index];
        nt_reader_config_t config = {.host = host,
                                     .name = channel->name,
                                     .type = channel->type,
                                     .channel = channel->state,
                                     .rules = self->rules,
                                     .link = host->config_str (host, "link"),
                                     .final_wait = host->config_int (host, "final_wait", 10000),
                                     .backoff_max = host->config_int (host, "backoff_max", 300000)};
        channel->reader = nt_reader_new (&config);
        if (!channel->reader)
            host->log (host, JOBD_LOG_ERROR, "channel %s: cannot start its reader", channel->name);
        snprintf (channel->detail, sizeof channel->detail, "%s: starting", channel->name);
    }
    if (self->count == 0)
        host->log (host, JOBD_LOG_WARN, "no channels configured: nothing will be sent");
    jobd_sdk_status_listen (self->report, events);
    jobd_sdk_loop_t loop = {.tick = s_tick, .on_event = s_on_event};
    int rc = jobd_sdk_loop_run (&loop, pipe, bus, events, self);
    for (size_t index = 0; index < self->count; index++)
        zactor_destroy (&self->channels[index].reader);
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
