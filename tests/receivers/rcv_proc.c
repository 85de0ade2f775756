//  Test receivers: a real receiver as a child of the test, on loopback (rcv_proc.h).
#include "rcv_proc.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

long long
rcv_proc_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void
rcv_proc_pause (int ms)
{
    struct timespec step = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep (&step, NULL);
}

int
rcv_proc_init (rcv_proc_t *self, const char *name)
{
    memset (self, 0, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/jobd-rcv-%s-XXXXXX", name);
    if (!mkdtemp (self->dir))
        return -1;
    snprintf (self->log, sizeof self->log, "%s/receiver.log", self->dir);
    return 0;
}

int
rcv_proc_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = -1;
    if (bind (fd, (struct sockaddr *)&address, sizeof address) == 0 &&
        getsockname (fd, (struct sockaddr *)&address, &length) == 0)
        port = ntohs (address.sin_port);
    close (fd);
    return port;
}

//  Starts argv with stdin from /dev/null and stdout and stderr to out (or /dev/null when
//  NULL). The child dies with the test (PR_SET_PDEATHSIG, as tests/integration/harness.c):
//  a test killed by its timeout leaves no receiver behind. Returns the pid, or 0.
static pid_t
s_spawn (char *const argv[], const char *out)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid != 0)
        return pid > 0 ? pid : 0;
    //  The child: only async-signal-safe calls until exec (the test may have threads).
    if (prctl (PR_SET_PDEATHSIG, SIGKILL) || getppid () != parent)
        _exit (127);
    int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
    int out_fd = out ? open (out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : null_fd;
    if (null_fd < 0 || out_fd < 0 || dup2 (null_fd, 0) < 0 || dup2 (out_fd, 1) < 0 ||
        dup2 (out_fd, 2) < 0)
        _exit (127);
    execve (argv[0], argv, environ);
    _exit (127);
}

int
rcv_proc_spawn (rcv_proc_t *self, char *const argv[])
{
    self->pid = s_spawn (argv, self->log);
    return self->pid ? 0 : -1;
}

bool
rcv_proc_alive (rcv_proc_t *self)
{
    if (!self->pid)
        return false;
    int status;
    if (waitpid (self->pid, &status, WNOHANG) == 0)
        return true;
    self->pid = 0;
    return false;
}

void
rcv_proc_dump (rcv_proc_t *self, const char *why)
{
    size_t size = 0;
    char *text = rcv_proc_slurp (self->log, &size);
    const char *tail = text ? text : "";
    if (size > 2000)
        tail = text + size - 2000;
    fprintf (stderr, "receiver in %s: %s; its log ends:\n%s\n", self->dir, why, tail);
    free (text);
}

bool
rcv_proc_wait_port (rcv_proc_t *self, int timeout_ms)
{
    long long deadline = rcv_proc_now () + timeout_ms;
    while (rcv_proc_alive (self)) {
        int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons (self->port)};
        address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        bool open = fd >= 0 && connect (fd, (struct sockaddr *)&address, sizeof address) == 0;
        if (fd >= 0)
            close (fd);
        if (open)
            return true;
        if (rcv_proc_now () > deadline)
            break;
        rcv_proc_pause (20);
    }
    rcv_proc_dump (self, self->pid ? "no connection before the deadline" : "exited");
    return false;
}

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    return remove (path);
}

//  Sends sig to pid and reaps it within timeout_ms. True when it exited.
static bool
s_end (pid_t pid, int sig, int timeout_ms)
{
    kill (pid, sig);
    long long deadline = rcv_proc_now () + timeout_ms;
    int status;
    while (waitpid (pid, &status, WNOHANG) == 0) {
        if (rcv_proc_now () > deadline)
            return false;
        rcv_proc_pause (10);
    }
    return true;
}

void
rcv_proc_stop (rcv_proc_t *self)
{
    if (self->pid && !s_end (self->pid, SIGTERM, 3000))
        s_end (self->pid, SIGKILL, 5000);
    self->pid = 0;
    if (self->dir[0] && !getenv ("JOBD_KEEP_TEST_DIRS"))
        nftw (self->dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    self->dir[0] = 0;
}

int
rcv_proc_run (char *const argv[], int timeout_ms)
{
    pid_t pid = s_spawn (argv, NULL);
    if (!pid)
        return -1;
    long long deadline = rcv_proc_now () + timeout_ms;
    int status;
    while (waitpid (pid, &status, WNOHANG) == 0) {
        if (rcv_proc_now () > deadline) {
            s_end (pid, SIGKILL, 5000);
            return -1;
        }
        rcv_proc_pause (10);
    }
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

char *
rcv_proc_slurp (const char *path, size_t *size_p)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    size_t size = 0, capacity = 4096;
    char *text = malloc (capacity);
    size_t got;
    while (text && (got = fread (text + size, 1, capacity - size - 1, file)) > 0) {
        size += got;
        if (capacity - size < 2) {
            char *bigger = realloc (text, capacity * 2);
            if (!bigger) {
                free (text);
                text = NULL;
                break;
            }
            text = bigger;
            capacity *= 2;
        }
    }
    fclose (file);
    if (text) {
        text[size] = 0;
        if (size_p)
            *size_p = size;
    }
    return text;
}
