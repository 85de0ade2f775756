//  The http plugin: jobd's JSON API, live event stream, Prometheus metrics and health checks over
//  HTTP (API.md). The server runs on libmicrohttpd's own threads; this plugin's thread follows
//  the broker's publications (to wake the event streams and count transitions) and keeps the
//  transition log's cursor `http`, so that the log holds the last events_keep transitions.
#include "ht_server.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const jobd_conf_key_t s_config[] = {
    {"address", JOBD_CONF_STRING, "127.0.0.1", "the IPv4 address to listen on"},
    {"port", JOBD_CONF_INT, "8642", "the TCP port (0: any free one, logged)"},
    {"tls_cert", JOBD_CONF_STRING, "", "a PEM certificate file: serve HTTPS (with tls_key)"},
    {"tls_key", JOBD_CONF_STRING, "", "the PEM private key file of tls_cert"},
    {"threads", JOBD_CONF_INT, "2", "the server's threads (1 to 64)"},
    {"nice", JOBD_CONF_INT, "10",
     "the server threads' nice value (0 to 19): they yield the CPU to jobd's writer"},
    {"connections_max", JOBD_CONF_INT, "1100",
     "most connections at a time, event streams included"},
    {"per_ip_max", JOBD_CONF_INT, "0",
     "most connections from one address (0: no limit); past it a connection is closed at once"},
    {"timeout", JOBD_CONF_DURATION, "30s",
     "a connection idle this long (a slow client) is closed; event streams are not idle"},
    {"body_max", JOBD_CONF_SIZE, "64k", "the largest request body (413 past it)"},
    {"header_max", JOBD_CONF_SIZE, "32k",
     "memory for one connection's request line and headers (a larger request is refused)"},
    {"bus_timeout", JOBD_CONF_DURATION, "10s",
     "how long a command or query waits for jobd's broker (503 past it)"},
    {"stream_max", JOBD_CONF_INT, "1000", "most event streams at a time (503 past it)"},
    {"heartbeat", JOBD_CONF_DURATION, "15s", "a comment line on an idle event stream this often"},
    {"events_keep", JOBD_CONF_INT, "100000",
     "transitions the log keeps for event streams to resume from (the cursor 'http')"},
    {"metrics_scan_interval", JOBD_CONF_DURATION, "15s",
     "most often /metrics counts the stored jobs by state, kind and backend"},
    {"token", JOBD_CONF_STRING, "", "the bearer token (empty: token_file's)"},
    {"token_file", JOBD_CONF_STRING, "",
     "a file holding the token (empty: RUN_DIR/http.token); created 0600 with a random token "
     "when missing"},
    {"read_auth", JOBD_CONF_BOOL, "false",
     "reads (GET of /api/v1 and /metrics) need the token too"},
    {NULL, 0, NULL, NULL}};

typedef struct {
    const jobd_host_t *host;
    ht_settings_t settings;
    ht_server_t *server;
    zsock_t *bus;
    jobd_sdk_status_t *report;
    bool moved;           //  transitions published since the streams were woken
    int64_t heartbeat_at; //  monotonic ms of the next heartbeat wake
    int64_t cursor_at;    //  monotonic ms of the next cursor upkeep
} s_http_t;

//  Reads the token from path, or writes a new one there (0600) when the file is missing.
static int
s_token_file (const char *path, bool create, char *token, size_t size, char *reason,
              size_t reason_size)
{
    int fd = open (path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && !create)
        return 0; //  jobd --check: written at the first start
    if (fd < 0 && errno == ENOENT) {
        uint8_t random[32];
        if (getrandom (random, sizeof random, 0) != (ssize_t)sizeof random) {
            snprintf (reason, reason_size, "no random bytes for a token: %s", strerror (errno));
            return -EIO;
        }
        char text[65 + 1];
        for (size_t index = 0; index < sizeof random; index++)
            snprintf (text + 2 * index, 3, "%02x", random[index]);
        text[64] = '\n';
        text[65] = 0;
        fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
        bool written = fd >= 0 && write (fd, text, 65) == 65;
        if (fd >= 0)
            close (fd);
        if (!written) {
            snprintf (reason, reason_size, "cannot write the token file %s: %s", path,
                      strerror (errno));
            return -EIO;
        }
        fd = open (path, O_RDONLY | O_NOFOLLOW);
    }
    struct stat info;
    if (fd < 0 || fstat (fd, &info) != 0) {
        snprintf (reason, reason_size, "cannot read the token file %s: %s", path, strerror (errno));
        if (fd >= 0)
            close (fd);
        return -EIO;
    }
    if (info.st_mode & 077) {
        close (fd);
        snprintf (reason, reason_size,
                  "the token file %s may be read by others (mode %03o): chmod 600 it", path,
                  (unsigned)(info.st_mode & 0777));
        return JOBD_ECONFIG;
    }
    ssize_t len = read (fd, token, size - 1);
    close (fd);
    if (len < 0)
        len = 0;
    token[len] = 0;
    token[strcspn (token, "\r\n")] = 0;
    if (strlen (token) < 16) {
        snprintf (reason, reason_size, "the token in %s is shorter than 16 characters", path);
        return JOBD_ECONFIG;
    }
    return 0;
}

static int
s_settings (const jobd_host_t *host, ht_settings_t *settings, bool create, char *reason,
            size_t reason_size)
{
    settings->address = host->config_str (host, "address");
    settings->port = host->config_int (host, "port", 8642);
    settings->tls_cert = host->config_str (host, "tls_cert");
    settings->tls_key = host->config_str (host, "tls_key");
    settings->threads = host->config_int (host, "threads", 2);
    settings->nice = host->config_int (host, "nice", 10);
    settings->connections_max = host->config_int (host, "connections_max", 1100);
    settings->per_ip_max = host->config_int (host, "per_ip_max", 0);
    settings->timeout = host->config_int (host, "timeout", 30000);
    settings->body_max = host->config_int (host, "body_max", 65536);
    settings->header_max = host->config_int (host, "header_max", 32768);
    settings->bus_timeout = host->config_int (host, "bus_timeout", 10000);
    settings->stream_max = host->config_int (host, "stream_max", 1000);
    settings->heartbeat = host->config_int (host, "heartbeat", 15000);
    settings->events_keep = host->config_int (host, "events_keep", 100000);
    settings->metrics_scan_interval = host->config_int (host, "metrics_scan_interval", 15000);
    settings->read_auth = host->config_int (host, "read_auth", 0) != 0;
    const struct {
        const char *key;
        int64_t value, low, high;
    } ranges[] = {{"port", settings->port, 0, 65535},
                  {"threads", settings->threads, 1, 64},
                  {"nice", settings->nice, 0, 19},
                  {"connections_max", settings->connections_max, 1, 100000},
                  {"per_ip_max", settings->per_ip_max, 0, 100000},
                  {"timeout", settings->timeout, 1000, 86400000},
                  {"body_max", settings->body_max, 1024, 16 * 1024 * 1024},
                  {"header_max", settings->header_max, 4096, 1024 * 1024},
                  {"bus_timeout", settings->bus_timeout, 100, 600000},
                  {"stream_max", settings->stream_max, 0, 100000},
                  {"heartbeat", settings->heartbeat, 100, 3600000},
                  {"events_keep", settings->events_keep, 0, 1000000000},
                  {"metrics_scan_interval", settings->metrics_scan_interval, 0, 86400000}};
    for (size_t index = 0; index < sizeof ranges / sizeof ranges[0]; index++)
        if (ranges[index].value < ranges[index].low || ranges[index].value > ranges[index].high) {
            snprintf (reason, reason_size, "key '%s': %lld is out of range (%lld to %lld)",
                      ranges[index].key, (long long)ranges[index].value,
                      (long long)ranges[index].low, (long long)ranges[index].high);
            return JOBD_ECONFIG;
        }
    const char *token = host->config_str (host, "token");
    if (token && *token) {
        if (strlen (token) < 16 || strlen (token) >= sizeof settings->token) {
            snprintf (reason, reason_size, "key 'token': 16 to 255 characters");
            return JOBD_ECONFIG;
        }
        snprintf (settings->token, sizeof settings->token, "%s", token);
        return 0;
    }
    const char *file = host->config_str (host, "token_file");
    char path[1024];
    if (file && *file)
        snprintf (path, sizeof path, "%s", file);
    else if (JOBD_HOST_HAS (host, run_dir) && host->run_dir && *host->run_dir)
        snprintf (path, sizeof path, "%s/http.token", host->run_dir);
    else {
        snprintf (reason, reason_size, "set 'token' or 'token_file' (this jobd has no run folder)");
        return JOBD_ECONFIG;
    }
    return s_token_file (path, create, settings->token, sizeof settings->token, reason,
                         reason_size);
}

//  jobd --check: the settings as init reads them (a token file is read, not written), and the
//  TLS files readable; no port is bound.
static int
s_check (const jobd_host_t *host, char *reason, size_t reason_size)
{
    ht_settings_t settings = {0};
    int rc = s_settings (host, &settings, false, reason, reason_size);
    if (rc == 0 && (*settings.tls_cert || *settings.tls_key) &&
        (!*settings.tls_cert || !*settings.tls_key)) {
        snprintf (reason, reason_size, "keys 'tls_cert' and 'tls_key' go together");
        rc = JOBD_ECONFIG;
    }
    const char *files[2] = {settings.tls_cert, settings.tls_key};
    for (int index = 0; rc == 0 && index < 2; index++)
        if (*files[index] && access (files[index], R_OK) != 0) {
            snprintf (reason, reason_size, "key '%s': cannot read %s: %s",
                      index ? "tls_key" : "tls_cert", files[index], strerror (errno));
            rc = JOBD_ECONFIG;
        }
    return rc;
}

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    if (!JOBD_HOST_HAS (host, job_scan_encoded) || !JOBD_HOST_HAS (host, log_read)) {
        snprintf (reason, reason_size, "needs a jobd of plugin ABI 1.3 or newer");
        return JOBD_EABI;
    }
    s_http_t *self = (s_http_t *)calloc (1, sizeof (s_http_t));
    if (!self)
        return -ENOMEM;
    self->host = host;
    int rc = s_settings (host, &self->settings, true, reason, reason_size);
    if (rc == 0)
        rc = ht_server_start (host, &self->settings, &self->server, reason, reason_size);
    if (rc) {
        free (self);
        return rc;
    }
    self->report = jobd_sdk_status_new (host, 5000);
    host->log (host, JOBD_LOG_INFO, "listening on %s://%s:%u",
               *self->settings.tls_cert ? "https" : "http", self->settings.address,
               (unsigned)ht_server_port (self->server));
    *state_p = self;
    return 0;
}

//  Keeps the cursor `http` events_keep behind the head: the log then holds what a stream may
//  resume from, and entries older than that may be dropped.
static void
s_cursor (s_http_t *self)
{
    uint64_t head = 0, position = 0;
    int rc = self->host->log_cursor (self->host, self->host->plugin_name, &position, &head);
    uint64_t keep = (uint64_t)self->settings.events_keep;
    uint64_t wanted = head > keep ? head - keep : 0;
    if (rc == 0 && position == wanted)
        return; //  set, and where it should be (a dropped one is set again)
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_CURSOR);
    if (!event)
        return;
    jobd_event_set (&event->source, self->host->plugin_name);
    jobd_event_set (&event->name, self->host->plugin_name);
    event->seq = wanted;
    jobd_plugin_send (self->bus, event);
    jobd_event_destroy (&event);
}

static int64_t
s_tick (void *arg)
{
    s_http_t *self = (s_http_t *)arg;
    int64_t now = zclock_mono ();
    if (now >= self->cursor_at) {
        s_cursor (self);
        self->cursor_at = now + 10000;
    }
    if (now >= self->heartbeat_at) {
        uint64_t head = 0;
        self->host->log_cursor (self->host, self->host->plugin_name, NULL, &head);
        ht_server_wake (self->server, head);
        self->heartbeat_at = now + self->settings.heartbeat / 2;
    }
    if (self->report && jobd_sdk_status_due (self->report, false)) {
        char detail[200];
        snprintf (detail, sizeof detail, "listening on %s:%u", self->settings.address,
                  (unsigned)ht_server_port (self->server));
        jobd_sdk_status_send (self->report, self->bus, "running", detail);
    }
    int64_t next = self->heartbeat_at < self->cursor_at ? self->heartbeat_at : self->cursor_at;
    return next - now;
}

static void
s_on_event (zsock_t *events, void *arg)
{
    s_http_t *self = (s_http_t *)arg;
    zmsg_t *msg = zmsg_recv (events);
    if (!msg)
        return;
    zframe_t *topic = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    jobd_event_t *event = NULL;
    if (topic && body &&
        jobd_event_decode (zframe_data (body), zframe_size (body), &event, NULL, 0) == 0) {
        if (self->report && jobd_sdk_status_asked (self->report, event))
            ; //  answered by the next tick
        else if (event->type == JOBD_EVENT_TRANSITION) {
            ht_server_count_transition (self->server, event->from, event->state);
            self->moved = true;
        } else if (event->type == JOBD_EVENT_STALE)
            self->moved = true; //  in the log too: the streams send it from there
    }
    jobd_event_destroy (&event);
    zmsg_destroy (&msg);
}

//  Once per turn, after every publication waiting was read: one wake for all of them.
static void
s_after (void *arg)
{
    s_http_t *self = (s_http_t *)arg;
    if (!self->moved)
        return;
    self->moved = false;
    uint64_t head = 0;
    self->host->log_cursor (self->host, self->host->plugin_name, NULL, &head);
    ht_server_wake (self->server, head);
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    (void)host;
    s_http_t *self = (s_http_t *)state;
    self->bus = bus;
    zsock_set_subscribe (events, "job.");
    zsock_set_subscribe (events, "stale.");
    if (self->report)
        jobd_sdk_status_listen (self->report, events);
    jobd_sdk_loop_t loop = {
        .tick = s_tick, .on_event = s_on_event, .after = s_after, .wait_max = 1000};
    return jobd_sdk_loop_run (&loop, pipe, bus, events, self);
}

static void
s_destroy (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_http_t *self = (s_http_t *)*state_p;
    ht_server_stop (&self->server);
    jobd_sdk_status_destroy (&self->report);
    free (self);
    *state_p = NULL;
}

static const char *const s_kinds[] = {NULL};

JOBD_PLUGIN_DEFINE (.name = "http", .version = "1.0.0",
                    .description = "JSON API, live event stream, Prometheus metrics and health "
                                   "checks over HTTP",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy,
                    .check = s_check, .kinds = s_kinds);
