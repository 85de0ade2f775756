//  jobctl's side of the admin protocol: one request, one reply, with a deadline.
#include "jobctl_client.h"
#include "jobd_admin.h"
#include "jobd_error.h"
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
    char type[16];
    const msgpack_object *ok = jobd_admin_lookup (&unpacked->data, "ok");
    if (!jobd_admin_string (&unpacked->data, "type", type, sizeof type) || strcmp (type, "reply") ||
        !ok || ok->type != MSGPACK_OBJECT_BOOLEAN) {
        snprintf (reason, reason_size, "reply is not a jobd reply map");
        return JOBD_EPROTO;
    }
    return 0;
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
jobctl_request (const char *endpoint, int timeout_ms, const msgpack_sbuffer *request,
                msgpack_unpacked *unpacked, char *reason, size_t reason_size)
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
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (dealer, 0);
    if (zsock_connect (dealer, "%s", endpoint)) {
        snprintf (reason, reason_size, "invalid admin endpoint %s", endpoint);
        zsock_destroy (&dealer);
        return JOBD_EPROTO;
    }
    zframe_t *frame = zframe_new (request->data, request->size);
    zframe_send (&frame, dealer, 0);
    zframe_destroy (&frame);
    zpoller_t *poller = zpoller_new (dealer, NULL);
    int rc = JOBCTL_EUNREACHABLE;
    if (zpoller_wait (poller, timeout_ms) == dealer) {
        frame = zframe_recv (dealer);
        rc = frame ? jobctl_reply_parse (zframe_data (frame), zframe_size (frame), unpacked, reason,
                                         reason_size)
                   : JOBD_EPROTO;
        zframe_destroy (&frame);
    } else
        snprintf (reason, reason_size, "no reply from jobd at %s within %d ms", endpoint,
                  timeout_ms);
    zpoller_destroy (&poller);
    zsock_destroy (&dealer);
    return rc;
}

bool
jobctl_reply_ok (const msgpack_object *reply, char *reason, size_t reason_size)
{
    const msgpack_object *ok = jobd_admin_lookup (reply, "ok");
    if (ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean)
        return true;
    if (!jobd_admin_string (reply, "reason", reason, reason_size))
        snprintf (reason, reason_size, "jobd refused the request");
    return false;
}
