//  jobctl's side of the admin protocol: one request, one reply, with a deadline.
#include "jobctl_client.h"
#include "jobd_cert.h"
#include "jobd_curve.h"
#include "jobd_error.h"
#include "jobd_reply.h"
#include "jobd_run_dir.h"
#include <czmq.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
jobctl_reply_parse (const void *data, size_t size, msgpack_unpacked *unpacked, char *reason,
                    size_t reason_size)
{
    if (jobd_msgpack_unpack (data, size, unpacked, reason, reason_size))
        return JOBD_EPROTO;
    jobd_reply_t reply;
    if (jobd_reply_read (&unpacked->data, &reply, NULL, 0)) {
        snprintf (reason, reason_size, "reply is not a jobd reply map");
        return JOBD_EPROTO;
    }
    return 0;
}

//  The keys of jobctl_curve_set, for every socket jobctl_connect makes afterwards.
static zcert_t *s_client_cert;
static zcert_t *s_server_cert;

int
jobctl_curve_set (const char *client_key, const char *server_key, char *reason, size_t reason_size)
{
    if (!client_key != !server_key) {
        snprintf (reason, reason_size,
                  "CURVE needs both keys: --curve-key (ours) and --server-key (jobd's .pub)");
        return JOBD_ECONFIG;
    }
    if (!client_key)
        return 0;
    zcert_destroy (&s_client_cert);
    zcert_destroy (&s_server_cert);
    int rc = jobd_cert_load_secret (client_key, "client key", &s_client_cert, reason, reason_size);
    if (rc == 0)
        rc = jobd_cert_load_public (server_key, "server key", &s_server_cert, reason, reason_size);
    return rc;
}

int
jobctl_connect (zsock_t *socket, const char *endpoint)
{
    if (s_client_cert && s_server_cert && jobd_curve_is_network (endpoint)) {
        zcert_apply (s_client_cert, socket);
        zsock_set_curve_serverkey (socket, zcert_public_txt (s_server_cert));
    }
    return zsock_connect (socket, "%s", endpoint);
}

zsock_t *
jobctl_monitor_events (zsock_t *socket, int events)
{
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://jobctl-monitor-%p", (void *)socket);
    if (zmq_socket_monitor (zsock_resolve (socket), endpoint, events))
        return NULL;
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    if (monitor && zsock_connect (monitor, "%s", endpoint))
        zsock_destroy (&monitor);
    return monitor;
}

zsock_t *
jobctl_monitor_new (zsock_t *socket)
{
    return jobctl_monitor_events (socket, JOBCTL_HANDSHAKE_EVENTS);
}

int
jobctl_monitor_read (zsock_t *monitor, const char *endpoint, char *reason, size_t reason_size)
{
    int event = jobd_curve_monitor_event (monitor);
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        snprintf (reason, reason_size,
                  "jobd at %s refused our key: its public half is not in jobd's curve_clients "
                  "folder",
                  endpoint);
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
             event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        snprintf (reason, reason_size, "handshake with jobd at %s failed: %s", endpoint,
                  s_client_cert ? "is it CURVE with this server key (--server-key)?"
                                : "it needs CURVE keys (--curve-key and --server-key)");
    return event;
}

bool
jobctl_handshake_failed (zsock_t *monitor, const char *endpoint, char *reason, size_t reason_size)
{
    return (jobctl_monitor_read (monitor, endpoint, reason, reason_size) &
            JOBCTL_HANDSHAKE_EVENTS) != 0;
}

//  True when this user may not reach the ipc socket at path: its folder is closed to it, or
//  the socket itself (connect then fails with EACCES, where a dead socket gives ECONNREFUSED).
static bool
s_denied (const char *path)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen (path) >= sizeof address.sun_path)
        return false;
    if (access (path, F_OK))
        return errno == EACCES;
    strcpy (address.sun_path, path);
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool denied = connect (fd, (struct sockaddr *)&address, sizeof address) && errno == EACCES;
    close (fd);
    return denied;
}

int
jobctl_endpoint_probe (const char *endpoint, char *reason, size_t reason_size)
{
    //  An ipc socket nobody listens on (a missing file, or one left by a killed jobd) answers
    //  at once, rather than after the whole timeout.
    char scratch[16];
    if (strncmp (endpoint, "ipc://", 6) == 0 && s_denied (endpoint + 6)) {
        snprintf (reason, reason_size,
                  "permission denied: %s (or its folder) is not open to this user; run jobctl "
                  "as the user jobd runs as",
                  endpoint + 6);
        return JOBCTL_EACCES;
    }
    if (strncmp (endpoint, "ipc://", 6) == 0 &&
        jobd_run_dir_check_endpoint (endpoint, scratch, sizeof scratch) == 0) {
        snprintf (reason, reason_size, "jobd is not running (nothing listens on %s)", endpoint + 6);
        return JOBCTL_EUNREACHABLE;
    }
    return 0;
}

int
jobctl_request (const char *endpoint, int timeout_ms, const msgpack_sbuffer *request,
                msgpack_unpacked *unpacked, char *reason, size_t reason_size)
{
    int probed = jobctl_endpoint_probe (endpoint, reason, reason_size);
    if (probed)
        return probed;
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (dealer, 0);
    //  A refused handshake is told at once, rather than as a silence until the deadline.
    zsock_t *monitor = jobctl_monitor_new (dealer);
    if (jobctl_connect (dealer, endpoint)) {
        snprintf (reason, reason_size, "invalid admin endpoint %s", endpoint);
        zsock_destroy (&monitor);
        zsock_destroy (&dealer);
        return JOBD_EPROTO;
    }
    zframe_t *frame = zframe_new (request->data, request->size);
    zframe_send (&frame, dealer, 0);
    zframe_destroy (&frame);
    zpoller_t *poller = zpoller_new (dealer, monitor, NULL);
    int rc = JOBCTL_EUNREACHABLE;
    int64_t deadline = zclock_mono () + timeout_ms;
    void *which = NULL;
    while (rc == JOBCTL_EUNREACHABLE && zclock_mono () < deadline &&
           (which = zpoller_wait (poller, (int)(deadline - zclock_mono ()))) != NULL) {
        if (which == monitor) {
            if (jobctl_handshake_failed (monitor, endpoint, reason, reason_size))
                rc = JOBCTL_EREFUSED;
            continue;
        }
        frame = zframe_recv (dealer);
        rc = frame ? jobctl_reply_parse (zframe_data (frame), zframe_size (frame), unpacked, reason,
                                         reason_size)
                   : JOBD_EPROTO;
        zframe_destroy (&frame);
    }
    if (rc == JOBCTL_EUNREACHABLE)
        snprintf (reason, reason_size, "no reply from jobd at %s within %d ms", endpoint,
                  timeout_ms);
    zpoller_destroy (&poller);
    zsock_destroy (&monitor);
    zsock_destroy (&dealer);
    return rc;
}

bool
jobctl_reply_ok (const msgpack_object *reply, char *reason, size_t reason_size)
{
    jobd_reply_t read;
    if (jobd_reply_read (reply, &read, NULL, 0) == 0 && read.ok)
        return true;
    snprintf (reason, reason_size, "%s", read.reason[0] ? read.reason : "jobd refused the request");
    //  Cluster mode: a write committed and not confirmed names its job, to look it up by.
    size_t used = strlen (reason);
    if (read.rc == JOBD_ETIMEOUT && read.job[0] && used < reason_size)
        snprintf (reason + used, reason_size - used, " (job %s)", read.job);
    return false;
}
