//  notifier: the exec channel. Runs `command` with /bin/sh -c for each note, the note's JSON on
//  its stdin, JOBD_NOTIFY_KEY and JOBD_NOTIFY_EVENT in its environment; exit status 0 delivers
//  the note, any other is retried; past the channel's timeout the command's process group is
//  killed (SIGKILL) and the note retried. Its stdout and stderr go to /dev/null.
#include "nt_channel.h"
#include "nt_rules.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *command;
    int64_t timeout;
} s_exec_t;

static int
s_open (const nt_config_t *config, void **state_p, char *reason, size_t reason_size)
{
    const char *command = nt_config_str (config, "command");
    if (!command || !*command) {
        snprintf (reason, reason_size, "channels/%s/command: required for an exec channel",
                  config->name);
        return JOBD_ECONFIG;
    }
    s_exec_t *self = (s_exec_t *)calloc (1, sizeof (s_exec_t));
    self->command = strdup (command);
    self->timeout = nt_config_int (config, "timeout", 10000);
    *state_p = self;
    return 0;
}

static void
s_close (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_exec_t *self = (s_exec_t *)*state_p;
    free (self->command);
    free (self);
    *state_p = NULL;
}

static int64_t
s_mono (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

extern char **environ;

//  jobd's environment and the note's two variables (fresh; free the array and its two own
//  strings with s_env_free): made before fork, since the child of a threaded process may call
//  only async-signal-safe functions (no malloc, so no setenv).
static char **
s_env (const nt_note_t *note)
{
    size_t count = 0;
    while (environ && environ[count])
        count++;
    char **env = (char **)calloc (count + 3, sizeof (char *));
    if (!env)
        return NULL;
    size_t used = 0;
    for (size_t index = 0; index < count; index++)
        if (strncmp (environ[index], "JOBD_NOTIFY_KEY=", 16) &&
            strncmp (environ[index], "JOBD_NOTIFY_EVENT=", 18))
            env[used++] = environ[index];
    if (asprintf (&env[used], "JOBD_NOTIFY_KEY=%s", note->key) < 0)
        env[used] = NULL;
    else if (asprintf (&env[used + 1], "JOBD_NOTIFY_EVENT=%s", nt_event_name (note->event)) < 0)
        env[used + 1] = NULL;
    return env;
}

static void
s_env_free (char **env)
{
    if (!env)
        return;
    size_t used = 0;
    while (env[used] && strncmp (env[used], "JOBD_NOTIFY_KEY=", 16))
        used++;
    if (env[used]) {
        free (env[used]);
        free (env[used + 1]);
    }
    free (env);
}

//  The child: its own process group, stdin from the pipe, the rest to /dev/null. Only
//  async-signal-safe calls until exec.
static void
s_child (const s_exec_t *self, char **env, int input)
{
    setpgid (0, 0);
    dup2 (input, 0);
    int null = open ("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2 (null, 1);
        dup2 (null, 2);
    }
    for (int fd = 3; fd < 1024; fd++)
        close (fd);
    struct sigaction action = {.sa_handler = SIG_DFL};
    sigaction (SIGPIPE, &action, NULL);
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    char *argv[] = {"sh", "-c", self->command, NULL};
    execve ("/bin/sh", argv, env);
    _exit (127);
}

static int
s_deliver (void *state, const nt_note_t *note, char *error, size_t error_size)
{
    s_exec_t *self = (s_exec_t *)state;
    char *body = json_dumps (note->body, JSON_COMPACT);
    if (!body) {
        snprintf (error, error_size, "cannot write the note's JSON");
        return JOBD_EINVAL;
    }
    int fds[2];
    char **env = s_env (note);
    if (!env || pipe2 (fds, O_CLOEXEC)) {
        snprintf (error, error_size, "exec: pipe: %s", strerror (errno));
        s_env_free (env);
        free (body);
        return -EAGAIN;
    }
    pid_t pid = fork ();
    if (pid == 0)
        s_child (self, env, fds[0]);
    close (fds[0]);
    s_env_free (env);
    if (pid < 0) {
        snprintf (error, error_size, "exec: fork: %s", strerror (errno));
        close (fds[1]);
        free (body);
        return -EAGAIN;
    }
    setpgid (pid, pid);
    fcntl (fds[1], F_SETFL, O_NONBLOCK);
    int64_t deadline = s_mono () + self->timeout;
    size_t size = strlen (body), written = 0;
    int output = fds[1];
    int status = 0;
    bool done = false, timed_out = false;
    while (!done) {
        if (output >= 0 && written < size) {
            ssize_t count = write (output, body + written, size - written);
            if (count > 0)
                written += (size_t)count;
            else if (count < 0 && errno != EAGAIN && errno != EINTR)
                written = size; //  the command does not read its input (EPIPE): fine
        }
        if (output >= 0 && written >= size) {
            close (output);
            output = -1;
        }
        pid_t ended = waitpid (pid, &status, WNOHANG);
        if (ended == pid) {
            done = true;
            break;
        }
        int64_t left = deadline - s_mono ();
        if (left <= 0) {
            kill (-pid, SIGKILL);
            waitpid (pid, &status, 0);
            timed_out = done = true;
            break;
        }
        struct pollfd item = {.fd = output, .events = POLLOUT};
        //  The child's end is not polled: wait a little, then ask again.
        poll (output >= 0 ? &item : NULL, output >= 0 ? 1 : 0, left < 10 ? (int)left : 10);
    }
    if (output >= 0)
        close (output);
    free (body);
    if (timed_out) {
        snprintf (error, error_size, "exec: killed at the timeout (%lld ms)",
                  (long long)self->timeout);
        return JOBD_ETIMEOUT;
    }
    if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
        return 0;
    if (WIFEXITED (status))
        snprintf (error, error_size, "exec: exit status %d", WEXITSTATUS (status));
    else
        snprintf (error, error_size, "exec: killed by signal %d", WTERMSIG (status));
    return -EAGAIN;
}

const nt_channel_type_t nt_exec_type = {
    .type = "exec", .digests = true, .open = s_open, .deliver = s_deliver, .close = s_close};
