//  Integration test harness: temporary folders, the real jobd as a child process, admin calls
//  and event subscriptions, every wait bounded by a deadline.
#include "harness.h"
#include "jobd_map.h"
#include "jobd_plugin.h"
#include "jobd_store.h"
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *
harness_build_dir (void)
{
    const char *dir = getenv ("JOBD_BUILD_DIR");
    return dir ? dir : ".";
}

const char *
harness_bin (const char *name, char *buffer, size_t size)
{
    snprintf (buffer, size, "%s/bin/%s", harness_build_dir (), name);
    return buffer;
}

void
harness_init (harness_t *self, const char *name)
{
    memset (self, 0, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/jobd-%s-XXXXXX", name);
    if (!mkdtemp (self->dir)) {
        perror ("mkdtemp");
        abort ();
    }
    snprintf (self->config, sizeof self->config, "%s/jobd.cfg", self->dir);
    snprintf (self->store, sizeof self->store, "%s/store", self->dir);
    snprintf (self->run_dir, sizeof self->run_dir, "%s/run", self->dir);
    snprintf (self->admin, sizeof self->admin, "ipc://%s/admin.sock", self->run_dir);
    snprintf (self->events, sizeof self->events, "ipc://%s/events.sock", self->run_dir);
    snprintf (self->log, sizeof self->log, "%s/jobd.log", self->dir);
}

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    return remove (path);
}

void
harness_fini (harness_t *self)
{
    if (self->pid)
        harness_stop (self, SIGKILL, 5000);
    if (getenv ("JOBD_KEEP_TEST_DIRS"))
        return;
    nftw (self->dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

void
harness_write_config (harness_t *self, const char *extra)
{
    FILE *file = fopen (self->config, "w");
    fprintf (file,
             "core\n"
             "    store = %s\n"
             "    run_dir = %s\n"
             "    plugin_dir = %s/test-plugins\n"
             "    log_level = info\n"
             "%s",
             self->store, self->run_dir, harness_build_dir (), extra);
    fclose (file);
}

//  Starts argv[0] with stdin, stdout and stderr from in_fd, out_fd and err_fd (-1: /dev/null
//  for stdin and stdout; err_path, appended to, for stderr when err_fd is -1). The child dies
//  with the test or bench that started it (a parent-death signal): one killed by a timeout or
//  by hand leaves no jobd, spark-sim or kafka-mock behind to skew what runs next. Returns its
//  pid, or 0.
static pid_t
s_spawn_child (char *const argv[], int in_fd, int out_fd, int err_fd, const char *err_path)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid != 0)
        return pid > 0 ? pid : 0;
    //  The child: only async-signal-safe calls until exec (the parent has threads).
    if (prctl (PR_SET_PDEATHSIG, SIGKILL) || getppid () != parent)
        _exit (127);
    int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
    int err =
        err_fd >= 0 ? err_fd : open (err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (null_fd < 0 || err < 0 || dup2 (in_fd >= 0 ? in_fd : null_fd, 0) < 0 ||
        dup2 (out_fd >= 0 ? out_fd : null_fd, 1) < 0 || dup2 (err, 2) < 0)
        _exit (127);
    execve (argv[0], argv, environ);
    _exit (127);
}

pid_t
harness_start (harness_t *self)
{
    char jobd[512];
    harness_bin ("jobd", jobd, sizeof jobd);
    char *argv[] = {jobd, "-c", self->config, NULL};
    self->pid = s_spawn_child (argv, -1, -1, -1, self->log);
    return self->pid;
}

int
harness_request (harness_t *self, const void *data, size_t size, msgpack_unpacked *reply,
                 int timeout_ms)
{
    zsock_t *dealer = harness_request_start (self, data, size);
    return dealer ? harness_request_finish (&dealer, reply, timeout_ms) : -1;
}

zsock_t *
harness_request_start (harness_t *self, const void *data, size_t size)
{
    zsock_t *dealer = zsock_new_dealer (self->admin);
    if (!dealer)
        return NULL;
    zsock_set_linger (dealer, 0);
    zframe_t *frame = zframe_new (data, size);
    zframe_send (&frame, dealer, 0);
    zframe_destroy (&frame);
    return dealer;
}

int
harness_request_finish (zsock_t **dealer_p, msgpack_unpacked *reply, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (*dealer_p, NULL);
    int rc = -1;
    if (zpoller_wait (poller, timeout_ms) == *dealer_p) {
        zframe_t *frame = zframe_recv (*dealer_p);
        if (frame &&
            jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), reply, NULL, 0) == 0)
            rc = 0;
        zframe_destroy (&frame);
    }
    zpoller_destroy (&poller);
    zsock_destroy (dealer_p);
    return rc;
}

int
harness_request_job (harness_t *self, jobd_event_t **event_p, char *job, size_t size)
{
    uint8_t *data = NULL;
    size_t data_size = 0;
    int rc = jobd_event_encode (*event_p, &data, &data_size, NULL, 0) ? -1 : 0;
    jobd_event_destroy (event_p);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    if (rc == 0)
        rc = harness_request (self, data, data_size, &reply, 5000);
    if (rc == 0 && !jobd_map_string (&reply.data, "job", job, size))
        rc = -1;
    msgpack_unpacked_destroy (&reply);
    free (data);
    return rc;
}

int64_t
harness_count (harness_t *self, jobd_state_t state)
{
    //  {"v":1,"type":"query","id":"t","q":"stats"}
    static const char query[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1t\xa1q\xa5stats";
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    int64_t count = -1;
    if (harness_request (self, query, sizeof query - 1, &reply, 1000) == 0) {
        const msgpack_object *counts = jobd_map_lookup (&reply.data, "counts");
        const msgpack_object *value = jobd_map_lookup (counts, jobd_state_name (state));
        if (value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            count = (int64_t)value->via.u64;
        else if (counts)
            count = 0;
    }
    msgpack_unpacked_destroy (&reply);
    return count;
}

int
harness_plugin (harness_t *self, const char *name, char *status, size_t status_size, char *detail,
                size_t detail_size)
{
    //  {"v":1,"type":"query","id":"t","q":"plugins"}
    static const char query[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1t\xa1q\xa7plugins";
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    int rc = -1;
    const msgpack_object *plugins = harness_request (self, query, sizeof query - 1, &reply, 1000)
                                        ? NULL
                                        : jobd_map_lookup (&reply.data, "plugins");
    for (uint32_t index = 0;
         rc && plugins && plugins->type == MSGPACK_OBJECT_ARRAY && index < plugins->via.array.size;
         index++) {
        const msgpack_object *plugin = &plugins->via.array.ptr[index];
        char found[128];
        if (!jobd_map_string (plugin, "name", found, sizeof found) || strcmp (found, name))
            continue;
        if (status && !jobd_map_string (plugin, "status", status, status_size))
            *status = 0;
        if (detail && !jobd_map_string (plugin, "detail", detail, detail_size))
            *detail = 0;
        rc = 0;
    }
    msgpack_unpacked_destroy (&reply);
    return rc;
}

bool
harness_wait_ready (harness_t *self, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        if (access (self->admin + 6, F_OK) == 0 && harness_count (self, JOBD_STATE_QUEUED) >= 0)
            return true;
        //  Not up yet: did it die?
        int status;
        if (self->pid && waitpid (self->pid, &status, WNOHANG) == self->pid) {
            self->pid = 0;
            return false;
        }
        //  The socket appears within milliseconds; poll for it at a short interval.
        poll (NULL, 0, 20);
    }
    return false;
}

int
harness_stop (harness_t *self, int sig, int timeout_ms)
{
    if (!self->pid)
        return -1;
    kill (self->pid, sig);
    int64_t deadline = zclock_mono () + timeout_ms;
    int status = 0;
    while (true) {
        pid_t done = waitpid (self->pid, &status, WNOHANG);
        if (done == self->pid)
            break;
        if (zclock_mono () > deadline) {
            kill (self->pid, SIGKILL);
            waitpid (self->pid, &status, 0);
            self->pid = 0;
            return -1;
        }
        poll (NULL, 0, 10);
    }
    self->pid = 0;
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    return 128 + WTERMSIG (status);
}

//  Reads what is readable from fd into buffer (keeping it NUL-terminated).
static void
s_drain (int fd, char *buffer, size_t size, size_t *used, bool *open)
{
    char scratch[4096];
    ssize_t got = read (fd, scratch, sizeof scratch);
    if (got <= 0) {
        *open = false;
        return;
    }
    if (buffer && *used + 1 < size) {
        size_t room = size - 1 - *used;
        size_t take = (size_t)got < room ? (size_t)got : room;
        memcpy (buffer + *used, scratch, take);
        *used += take;
        buffer[*used] = 0;
    }
}

static int
s_spawn (harness_proc_t *self, char *const argv[], const char *log, bool talking)
{
    memset (self, 0, sizeof *self);
    self->in_fd = -1;
    int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
    if (pipe2 (out_pipe, O_CLOEXEC) || pipe2 (err_pipe, O_CLOEXEC) ||
        (talking && pipe2 (in_pipe, O_CLOEXEC)))
        return -1;
    self->pid =
        s_spawn_child (argv, talking ? in_pipe[0] : -1, out_pipe[1], log ? -1 : err_pipe[1], log);
    int spawned = self->pid ? 0 : -1;
    close (out_pipe[1]);
    close (err_pipe[1]);
    if (talking)
        close (in_pipe[0]);
    self->out_fd = out_pipe[0];
    self->err_fd = err_pipe[0];
    self->in_fd = in_pipe[1];
    if (spawned) {
        close (self->out_fd);
        close (self->err_fd);
        if (self->in_fd >= 0)
            close (self->in_fd);
        self->out_fd = self->err_fd = self->in_fd = -1;
        return -1;
    }
    return 0;
}

int
harness_spawn (harness_proc_t *self, char *const argv[])
{
    return s_spawn (self, argv, NULL, false);
}

int
harness_spawn_logged (harness_proc_t *self, char *const argv[], const char *log)
{
    return s_spawn (self, argv, log, false);
}

int
harness_spawn_talking (harness_proc_t *self, char *const argv[], const char *log)
{
    return s_spawn (self, argv, log, true);
}

int
harness_proc_say (harness_proc_t *self, const char *line)
{
    size_t length = strlen (line);
    if (self->in_fd < 0 || write (self->in_fd, line, length) != (ssize_t)length ||
        write (self->in_fd, "\n", 1) != 1)
        return -1;
    return 0;
}

//  Reads whatever is readable within timeout_ms. Returns false once both pipes are closed.
static bool
s_proc_read (harness_proc_t *self, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = self->out_fd, .events = POLLIN},
                            {.fd = self->err_fd, .events = POLLIN}};
    if (self->out_fd < 0 && self->err_fd < 0)
        return false;
    if (poll (fds, 2, timeout_ms) <= 0)
        return true;
    bool open = true;
    if (fds[0].revents) {
        s_drain (self->out_fd, self->out, sizeof self->out, &self->out_used, &open);
        if (!open) {
            close (self->out_fd);
            self->out_fd = -1;
        }
    }
    open = true;
    if (fds[1].revents) {
        s_drain (self->err_fd, self->err, sizeof self->err, &self->err_used, &open);
        if (!open) {
            close (self->err_fd);
            self->err_fd = -1;
        }
    }
    return true;
}

//  Reads until buffer (the child's stdout or stderr) contains text, or the deadline.
static bool
s_proc_wait (harness_proc_t *self, const char *buffer, const char *text, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!strstr (buffer, text) && zclock_mono () < deadline)
        if (!s_proc_read (self, 100))
            break;
    return strstr (buffer, text) != NULL;
}

bool
harness_proc_wait_err (harness_proc_t *self, const char *text, int timeout_ms)
{
    return s_proc_wait (self, self->err, text, timeout_ms);
}

bool
harness_proc_wait_out (harness_proc_t *self, const char *text, int timeout_ms)
{
    return s_proc_wait (self, self->out, text, timeout_ms);
}

int
harness_proc_finish (harness_proc_t *self, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    if (self->in_fd >= 0) { //  end of stdin: a talking child's cue to stop
        close (self->in_fd);
        self->in_fd = -1;
    }
    while (zclock_mono () < deadline && s_proc_read (self, 100))
        ;
    if (self->out_fd >= 0)
        close (self->out_fd);
    if (self->err_fd >= 0)
        close (self->err_fd);
    self->out_fd = self->err_fd = -1;
    int status = 0;
    while (waitpid (self->pid, &status, WNOHANG) == 0) {
        if (zclock_mono () > deadline) {
            kill (self->pid, SIGKILL);
            waitpid (self->pid, &status, 0);
            return -1;
        }
        poll (NULL, 0, 10);
    }
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

int
harness_run (char *const argv[], char *out, size_t out_size, char *err, size_t err_size,
             int timeout_ms)
{
    harness_proc_t *proc = (harness_proc_t *)malloc (sizeof (harness_proc_t));
    int code = harness_spawn (proc, argv) ? -1 : harness_proc_finish (proc, timeout_ms);
    if (out && out_size)
        snprintf (out, out_size, "%s", code == -1 ? "" : proc->out);
    if (err && err_size)
        snprintf (err, err_size, "%s", code == -1 ? "" : proc->err);
    free (proc);
    return code;
}

bool
harness_wait_count (harness_t *self, jobd_state_t state, int64_t count, int timeout_ms)
{
    //  jobd has no "tell me when" query: ask at a short interval until the deadline.
    int64_t deadline = zclock_mono () + timeout_ms;
    while (harness_count (self, state) != count) {
        if (zclock_mono () > deadline)
            return false;
        poll (NULL, 0, 20);
    }
    return true;
}

bool
harness_log_contains (harness_t *self, const char *text)
{
    char line[4096];
    return harness_log_line (self, text, line, sizeof line);
}

bool
harness_log_line (harness_t *self, const char *text, char *line, size_t size)
{
    FILE *file = fopen (self->log, "r");
    if (!file)
        return false;
    bool found = false;
    while (!found && fgets (line, (int)size, file))
        found = strstr (line, text) != NULL;
    fclose (file);
    if (found)
        line[strcspn (line, "\n")] = 0;
    return found;
}

bool
harness_wait_log (harness_t *self, const char *text, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!harness_log_contains (self, text))
        if (zclock_mono () >= deadline || poll (NULL, 0, 20) < 0)
            return false;
    return true;
}

zsock_t *
harness_subscribe (harness_t *self, const char *prefix, int timeout_ms)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 0);
    zsock_set_subscribe (sub, prefix);
    zsock_set_subscribe (sub, JOBD_WELCOME_TOPIC);
    zsock_connect (sub, "%s", self->events);
    zpoller_t *poller = zpoller_new (sub, NULL);
    bool welcomed = false;
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!welcomed && zclock_mono () < deadline &&
           zpoller_wait (poller, (int)(deadline - zclock_mono ())) == sub) {
        zmsg_t *msg = zmsg_recv (sub);
        welcomed = zmsg_size (msg) == 1;
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    if (!welcomed)
        zsock_destroy (&sub);
    return sub;
}

int
harness_run_bin (const char *name, const char *const *args, char *out, size_t out_size, char *err,
                 size_t err_size)
{
    char path[512];
    char *argv[32] = {(char *)harness_bin (name, path, sizeof path)};
    size_t count = 1;
    for (; args && args[count - 1] && count < 31; count++)
        argv[count] = (char *)args[count - 1];
    argv[count] = NULL;
    return harness_run (argv, out, out_size, err, err_size, 20000);
}

static bool
s_seen (zlistx_t *seen, const char *job, jobd_state_t state, uint32_t attempt)
{
    for (jobd_event_t *event = (jobd_event_t *)zlistx_first (seen); event;
         event = (jobd_event_t *)zlistx_next (seen))
        if (event->job && strcmp (event->job, job) == 0 && event->state == state &&
            (!attempt || event->attempt == attempt))
            return true;
    return false;
}

bool
harness_wait_job_attempt (zsock_t *sub, zlistx_t *seen, const char *job, jobd_state_t state,
                          uint32_t attempt, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    zpoller_t *poller = zpoller_new (sub, NULL);
    bool found = s_seen (seen, job, state, attempt);
    while (!found && zclock_mono () < deadline) {
        if (zpoller_wait (poller, 100) != sub)
            continue;
        zmsg_t *msg = zmsg_recv (sub);
        zframe_t *payload = zmsg_last (msg);
        jobd_event_t *event = NULL;
        if (zmsg_size (msg) == 2 && jobd_event_decode (zframe_data (payload), zframe_size (payload),
                                                       &event, NULL, 0) == 0) {
            zlistx_add_end (seen, event);
            found = s_seen (seen, job, state, attempt);
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return found;
}

bool
harness_wait_job_state (zsock_t *sub, zlistx_t *seen, const char *job, jobd_state_t state,
                        int timeout_ms)
{
    return harness_wait_job_attempt (sub, seen, job, state, 0, timeout_ms);
}

jobd_job_t *
harness_stored (harness_t *self, const char *id, jobd_event_t ***history_p, size_t *count_p)
{
    jobd_store_t *store = NULL;
    char reason[256];
    if (jobd_store_open (self->store, JOBD_STORE_RDONLY, 0, &store, reason, sizeof reason)) {
        fprintf (stderr, "cannot open the store %s: %s\n", self->store, reason);
        return NULL;
    }
    jobd_job_t *job = NULL;
    if (jobd_store_job_get (store, id, &job) ||
        (history_p && jobd_store_history (store, id, history_p, count_p)))
        jobd_job_destroy (&job);
    jobd_store_destroy (&store);
    return job;
}
