//  CURVE for jobd's network endpoints (see jobd_curve.h).
#include "jobd_curve.h"
#include "jobd_cert.h"
#include "jobd_log.h"
#include "jobd_trust.h"
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#define LOG        "curve"
#define ZAP_DOMAIN "jobd"

struct _jobd_curve_t {
    zcert_t *cert;
    zactor_t *auth;
    zactor_t *watcher; //  logs and counts refused handshakes
    char *watched[3];  //  the network endpoints it watches, NULL-terminated
};

//  The live server key, for jobd_curve_apply on the broker's and publisher's threads: written
//  by jobd_curve_new before they start, cleared by jobd_curve_destroy after they stopped.
static zcert_t *s_server_cert;

bool
jobd_curve_is_network (const char *endpoint)
{
    return strncmp (endpoint, "ipc://", 6) != 0 && strncmp (endpoint, "inproc://", 9) != 0;
}

//  True when endpoint binds every address of the machine: tcp://*:P, 0.0.0.0, ::, [::].
static bool
s_is_wildcard (const char *endpoint)
{
    const char *host = strstr (endpoint, "://");
    if (!host)
        return false;
    host += 3;
    const char *colon = strrchr (host, ':');
    size_t length = colon ? (size_t)(colon - host) : strlen (host);
    static const char *const any[] = {"*", "0.0.0.0", "::", "[::]", "[*]", "[0:0:0:0:0:0:0:0]"};
    for (size_t index = 0; index < sizeof any / sizeof any[0]; index++)
        if (strlen (any[index]) == length && memcmp (any[index], host, length) == 0)
            return true;
    return false;
}

//  The inproc endpoint on which the monitor of the socket bound to endpoint reports.
static void
s_monitor_name (const char *endpoint, char *name, size_t name_size)
{
    uint32_t hash = 5381;
    for (const char *c = endpoint; *c; c++)
        hash = hash * 33 + (uint8_t)*c;
    snprintf (name, name_size, "inproc://jobd-curve-monitor-%08x", hash);
}

int
jobd_curve_monitor_event (zsock_t *monitor)
{
    zmsg_t *msg = zmsg_recv (monitor);
    zframe_t *frame = msg ? zmsg_first (msg) : NULL;
    uint16_t event = 0;
    if (frame && zframe_size (frame) >= 2)
        memcpy (&event, zframe_data (frame), 2);
    zmsg_destroy (&msg);
    return event;
}

//  Refused handshakes on one endpoint: counted, and logged at most once a second.
typedef struct {
    const char *endpoint;
    zsock_t *monitor;
    uint64_t refused;    //  since start
    uint64_t unreported; //  since the last log line
    int64_t logged_at;   //  zclock_mono of the last log line
    const char *why;     //  of the last refusal
} s_watched_t;

static void
s_watched_report (s_watched_t *self, bool force)
{
    if (!self->unreported || (!force && zclock_mono () - self->logged_at < 1000))
        return;
    jobd_log (JOBD_LOG_WARN, LOG, "%s: refused %" PRIu64 " client%s (%s); %" PRIu64 " since start",
              self->endpoint, self->unreported, self->unreported == 1 ? "" : "s", self->why,
              self->refused);
    self->unreported = 0;
    self->logged_at = zclock_mono ();
}

static void
s_watched_event (s_watched_t *self)
{
    int event = jobd_curve_monitor_event (self->monitor);
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        self->why = "CURVE: a key not in curve_clients";
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
             event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        self->why = "handshake failed: no CURVE, or the wrong server key";
    else
        return;
    self->refused++;
    self->unreported++;
    s_watched_report (self, false);
}

//  The watcher's thread: reads the monitors of the network sockets until $TERM.
static void
s_watcher (zsock_t *pipe, void *args)
{
    char **endpoints = (char **)args;
    s_watched_t watched[2] = {{0}};
    zpoller_t *poller = zpoller_new (pipe, NULL);
    size_t count = 0;
    for (; count < 2 && endpoints[count]; count++) {
        char name[64];
        s_monitor_name (endpoints[count], name, sizeof name);
        watched[count].endpoint = endpoints[count];
        //  inproc may connect before the socket's thread binds the monitor.
        watched[count].monitor = zsock_new_pair (name);
        zpoller_add (poller, watched[count].monitor);
    }
    zsock_signal (pipe, 0);
    while (true) {
        //  Wake at least once a second to report what the rate limit held back.
        zsock_t *which = (zsock_t *)zpoller_wait (poller, 1000);
        if (which == pipe || zpoller_terminated (poller))
            break;
        for (size_t index = 0; index < count; index++)
            if (which == watched[index].monitor)
                s_watched_event (&watched[index]);
            else
                s_watched_report (&watched[index], false);
    }
    for (size_t index = 0; index < count; index++) {
        s_watched_report (&watched[index], true);
        zsock_destroy (&watched[index].monitor);
    }
    zpoller_destroy (&poller);
}

//  Checks one endpoint against the rules. Returns 0 or JOBD_ECONFIG with a reason.
static int
s_check_endpoint (jobd_config_t *config, const char *key, const char *endpoint, bool *curve_p,
                  char *reason, size_t reason_size)
{
    if (!jobd_curve_is_network (endpoint))
        return 0;
    if (s_is_wildcard (endpoint))
        jobd_log (JOBD_LOG_WARN, LOG,
                  "%s endpoint %s listens on every address of this machine: any host that can "
                  "reach it can try to connect; bind one address (tcp://127.0.0.1:PORT) unless "
                  "that is meant",
                  key, endpoint);
    const char *cert = jobd_config_str (config, "core", "curve_key");
    if (cert && *cert) {
        *curve_p = true;
        return 0;
    }
    if (jobd_config_int (config, "core", "insecure", 0)) {
        jobd_log (JOBD_LOG_WARN, LOG,
                  "%s endpoint %s is plain TCP (insecure = true): anyone who can reach it can "
                  "submit, cancel and watch every job; set core/curve_key and core/curve_clients",
                  key, endpoint);
        return 0;
    }
    snprintf (reason, reason_size,
              "config %s: key 'core/%s': %s is not authenticated: network endpoints need CURVE "
              "(set core/curve_key, made by jobd --keygen, and core/curve_clients, the folder "
              "of the clients' public keys), or write insecure = true to accept anyone who can "
              "reach it",
              jobd_config_filename (config), key, endpoint);
    return JOBD_ECONFIG;
}

//  Starts zauth on the clients' folder and the watcher of the network endpoints, and makes the
//  key live for jobd_curve_apply.
static void
s_start (jobd_curve_t *self, jobd_config_t *config, const char *admin, const char *events,
         const char *clients)
{
    self->auth = zactor_new (zauth, NULL);
    if (strcmp (jobd_config_str (config, "core", "log_level"), "debug") == 0) {
        zstr_send (self->auth, "VERBOSE");
        zsock_wait (self->auth);
    }
    zstr_sendx (self->auth, "CURVE", clients, NULL);
    zsock_wait (self->auth);
    size_t watched = 0;
    if (jobd_curve_is_network (admin))
        self->watched[watched++] = strdup (admin);
    if (jobd_curve_is_network (events))
        self->watched[watched++] = strdup (events);
    self->watcher = zactor_new (s_watcher, self->watched);
    s_server_cert = self->cert;
    jobd_log (JOBD_LOG_INFO, LOG, "network endpoints use CURVE: server key %s, clients in %s",
              zcert_public_txt (self->cert), clients);
}

//  And whoever can write one of its key files: each is vetted as the folder is. zauth reads them
//  again while jobd runs, so a key added later must be made the same way (jobctl keygen).
static int
s_check_client_keys (const char *folder, char *reason, size_t reason_size)
{
    DIR *dir = opendir (folder);
    if (!dir) {
        snprintf (reason, reason_size, "curve_clients %s: %s", folder, strerror (errno));
        return -errno;
    }
    int rc = 0;
    for (struct dirent *entry = readdir (dir); entry && rc == 0; entry = readdir (dir)) {
        if (entry->d_name[0] == '.')
            continue; //  zauth skips hidden files too
        char path[PATH_MAX];
        snprintf (path, sizeof path, "%s/%s", folder, entry->d_name);
        rc = jobd_trust_check (path, false, "curve_clients key", NULL, 0, reason, reason_size);
    }
    closedir (dir);
    return rc;
}

int
jobd_curve_new (jobd_config_t *config, const char *admin, const char *events, jobd_curve_t **self_p,
                char *reason, size_t reason_size)
{
    *self_p = NULL;
    bool curve = false;
    int rc = s_check_endpoint (config, "admin", admin, &curve, reason, reason_size);
    if (rc == 0)
        rc = s_check_endpoint (config, "events", events, &curve, reason, reason_size);
    if (rc || !curve)
        return rc;
    if (!zsys_has_curve ()) {
        snprintf (reason, reason_size,
                  "config %s: core/curve_key is set but this libzmq has no "
                  "CURVE (built without libsodium)",
                  jobd_config_filename (config));
        return JOBD_ECONFIG;
    }
    const char *clients = jobd_config_str (config, "core", "curve_clients");
    if (!clients || !*clients) {
        snprintf (reason, reason_size,
                  "config %s: core/curve_key is set but core/curve_clients is not: name the "
                  "folder of the public keys of the clients allowed in",
                  jobd_config_filename (config));
        return JOBD_ECONFIG;
    }
    //  Whoever can write the folder can let themselves in.
    char resolved[PATH_MAX];
    rc = jobd_trust_check (clients, true, "curve_clients", resolved, sizeof resolved, reason,
                           reason_size);
    if (rc == 0)
        rc = s_check_client_keys (resolved, reason, reason_size);
    jobd_curve_t *self = rc ? NULL : (jobd_curve_t *)zmalloc (sizeof (jobd_curve_t));
    if (self)
        rc = jobd_cert_load_secret (jobd_config_str (config, "core", "curve_key"), "curve_key",
                                    &self->cert, reason, reason_size);
    if (rc == 0) {
        s_start (self, config, admin, events, resolved);
        *self_p = self;
    } else
        jobd_curve_destroy (&self);
    return rc;
}

void
jobd_curve_destroy (jobd_curve_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_curve_t *self = *self_p;
    if (s_server_cert == self->cert)
        s_server_cert = NULL;
    zactor_destroy (&self->watcher);
    zactor_destroy (&self->auth);
    zcert_destroy (&self->cert);
    for (size_t index = 0; self->watched[index]; index++)
        free (self->watched[index]);
    free (self);
    *self_p = NULL;
}

void
jobd_curve_apply (zsock_t *socket, const char *endpoint)
{
    if (!s_server_cert || !jobd_curve_is_network (endpoint))
        return;
    zcert_apply (s_server_cert, socket);
    zsock_set_curve_server (socket, 1);
    //  ZAP (zauth) decides who gets in; without an answer from it nobody does.
    zsock_set_zap_domain (socket, ZAP_DOMAIN);
    //  A draft option in libzmq 4.3 (CZMQ's setter asserts when libzmq lacks it): best effort,
    //  zauth runs before any socket binds anyway.
    int enforce = 1;
    zmq_setsockopt (zsock_resolve (socket), 93 /* ZMQ_ZAP_ENFORCE_DOMAIN */, &enforce,
                    sizeof enforce);
    //  Refused clients are logged and counted by jobd_curve_t's watcher.
    char name[64];
    s_monitor_name (endpoint, name, sizeof name);
    zmq_socket_monitor (zsock_resolve (socket), name,
                        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
}
