//  The run folder: owner-only home of the ipc sockets, and the lock that keeps one jobd per store.
#include "jobd_run_dir.h"
#include "jobd_error.h"
#include "jobd_log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct _jobd_run_dir_t {
    int lock_fd;
};

//  mkdir -p with mode for the folders it creates.
static int
s_mkdirs (const char *path, mode_t mode)
{
    char buffer[1024];
    snprintf (buffer, sizeof buffer, "%s", path);
    for (char *slash = buffer + 1; *slash; slash++)
        if (*slash == '/') {
            *slash = 0;
            if (mkdir (buffer, mode) && errno != EEXIST)
                return -errno;
            *slash = '/';
        }
    if (mkdir (buffer, mode) && errno != EEXIST)
        return -errno;
    return 0;
}

int
jobd_run_dir_open (const char *run_dir, const char *store_dir, jobd_run_dir_t **self_p,
                   char *reason, size_t reason_size)
{
    int rc = s_mkdirs (run_dir, 0700);
    if (rc) {
        snprintf (reason, reason_size, "run folder %s: %s", run_dir, strerror (-rc));
        return rc;
    }
    struct stat info;
    if (stat (run_dir, &info) == 0 && (info.st_mode & 077))
        jobd_log (JOBD_LOG_WARN, "jobd",
                  "run folder %s is open to other users (mode %o): its sockets are reachable "
                  "by them; chmod 700 it",
                  run_dir, info.st_mode & 0777);
    rc = s_mkdirs (store_dir, 0700);
    if (rc) {
        snprintf (reason, reason_size, "store folder %s: %s", store_dir, strerror (-rc));
        return JOBD_ESTORE;
    }
    char path[1100];
    snprintf (path, sizeof path, "%s/jobd.lock", store_dir);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (reason, reason_size, "store %s: cannot open its lock %s: %s", store_dir, path,
                  strerror (errno));
        return JOBD_ESTORE;
    }
    if (flock (fd, LOCK_EX | LOCK_NB)) {
        char pid[32] = "";
        ssize_t got = pread (fd, pid, sizeof pid - 1, 0);
        pid[got > 0 ? got : 0] = 0;
        pid[strcspn (pid, "\n")] = 0;
        snprintf (reason, reason_size, "store %s is in use by another jobd (pid %s)", store_dir,
                  *pid ? pid : "unknown");
        close (fd);
        return -EBUSY;
    }
    char pid[32];
    int length = snprintf (pid, sizeof pid, "%d\n", (int)getpid ());
    if (ftruncate (fd, 0) || pwrite (fd, pid, length, 0) != length)
        jobd_log (JOBD_LOG_WARN, "jobd", "cannot write the pid into %s", path);
    jobd_run_dir_t *self = (jobd_run_dir_t *)calloc (1, sizeof *self);
    if (!self) {
        close (fd);
        return -ENOMEM;
    }
    self->lock_fd = fd;
    *self_p = self;
    return 0;
}

void
jobd_run_dir_close (jobd_run_dir_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    close ((*self_p)->lock_fd);
    free (*self_p);
    *self_p = NULL;
}

int
jobd_run_dir_check_endpoint (const char *endpoint, char *reason, size_t reason_size)
{
    if (strncmp (endpoint, "ipc://", 6) != 0)
        return 0;
    const char *path = endpoint + 6;
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen (path) >= sizeof address.sun_path) {
        snprintf (reason, reason_size, "endpoint %s: path longer than %zu bytes", endpoint,
                  sizeof address.sun_path - 1);
        return -ENAMETOOLONG;
    }
    if (access (path, F_OK))
        return 0;
    strcpy (address.sun_path, path);
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int connected = connect (fd, (struct sockaddr *)&address, sizeof address);
    close (fd);
    if (connected == 0) {
        snprintf (reason, reason_size, "endpoint %s is in use by another process", endpoint);
        return -EADDRINUSE;
    }
    return 0;
}
