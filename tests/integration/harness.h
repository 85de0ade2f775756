//  Integration test harness: temporary folders, the real jobd as a child process, admin calls
//  and event subscriptions, every wait bounded by a deadline.
#ifndef JOBD_HARNESS_H_INCLUDED
#define JOBD_HARNESS_H_INCLUDED

#include "jobd_event.h"
#include "jobd_job.h"
#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    char dir[256];     //  temporary folder of this test
    char config[300];  //  dir/jobd.cfg
    char store[300];   //  dir/store
    char run_dir[300]; //  dir/run
    char admin[320];   //  ipc://dir/run/admin.sock
    char events[320];  //  ipc://dir/run/events.sock
    char log[300];     //  dir/jobd.log: jobd's stderr
    pid_t pid;         //  the running jobd, or 0
} harness_t;

//  Makes a fresh temporary folder and fills the paths. Aborts the test on failure.
void harness_init (harness_t *self, const char *name);

//  Removes the folder (and stops jobd if it runs).
void harness_fini (harness_t *self);

//  Writes dir/jobd.cfg: the core section for this harness, then extra (ZPL text, may be "").
void harness_write_config (harness_t *self, const char *extra);

//  Starts build/bin/jobd -c config with stderr to the log. Returns the pid.
pid_t harness_start (harness_t *self);

//  Waits until jobd answers a stats query, up to timeout_ms. Returns true when it does.
bool harness_wait_ready (harness_t *self, int timeout_ms);

//  Sends sig to jobd and waits for it to exit, up to timeout_ms. Returns its exit code, 128+sig
//  for a signal, or -1 on timeout (then it is SIGKILLed).
int harness_stop (harness_t *self, int sig, int timeout_ms);

//  Runs a command line (argv, NULL-terminated) to completion with a deadline; captures up to
//  out_size bytes of stdout (and of stderr into err, when not NULL). Returns the exit code, or -1.
int harness_run (char *const argv[], char *out, size_t out_size, char *err, size_t err_size,
                 int timeout_ms);

//  Runs the built binary name (build/bin/NAME) with args (NULL-terminated, at most 30) like
//  harness_run, with a 20 s deadline. Returns its exit code, or -1.
int harness_run_bin (const char *name, const char *const *args, char *out, size_t out_size,
                     char *err, size_t err_size);

//  A child process whose stdout and stderr the test reads as it runs.
typedef struct {
    pid_t pid;
    int in_fd; //  the child's stdin (harness_spawn_talking), or -1
    int out_fd;
    int err_fd;
    char out[65536];
    size_t out_used;
    char err[8192];
    size_t err_used;
} harness_proc_t;

//  Starts argv (NULL-terminated) with its stdout and stderr piped to the test. Returns 0 or -1.
int harness_spawn (harness_proc_t *self, char *const argv[]);

//  Same, with the child's stderr appended to the file log instead of piped: for chatty children
//  (a full pipe would block them).
int harness_spawn_logged (harness_proc_t *self, char *const argv[], const char *log);

//  Same as harness_spawn_logged, with the child's stdin a pipe the test writes to with
//  harness_proc_say (closed by harness_proc_finish).
int harness_spawn_talking (harness_proc_t *self, char *const argv[], const char *log);

//  Writes line and a newline to the child's stdin. Returns 0 or -1.
int harness_proc_say (harness_proc_t *self, const char *line);

//  Reads the child's output until its stderr contains text, up to timeout_ms. True when it did.
bool harness_proc_wait_err (harness_proc_t *self, const char *text, int timeout_ms);

//  Reads the child's output until its stdout contains text, up to timeout_ms. True when it did.
bool harness_proc_wait_out (harness_proc_t *self, const char *text, int timeout_ms);

//  Reads until the child exits, up to timeout_ms (then kills it). Returns its exit code or -1.
int harness_proc_finish (harness_proc_t *self, int timeout_ms);

//  A SUB socket on jobd's events endpoint (no receive limit), subscribed to prefix and to the
//  welcome; returns once the welcome came (from then on nothing published is missed), or NULL
//  after timeout_ms.
zsock_t *harness_subscribe (harness_t *self, const char *prefix, int timeout_ms);

//  Waits until stats count `count` jobs in state, up to timeout_ms. True when they do.
bool harness_wait_count (harness_t *self, jobd_state_t state, int64_t count, int timeout_ms);

//  Sends one msgpack request to the admin endpoint; returns 0 with *reply filled, or -1.
int harness_request (harness_t *self, const void *data, size_t size, msgpack_unpacked *reply,
                     int timeout_ms);

//  The same in two steps: sends the request and returns the socket its reply comes on (NULL:
//  none); then waits up to timeout_ms for the reply (0 with *reply filled, or -1), destroying
//  the socket.
zsock_t *harness_request_start (harness_t *self, const void *data, size_t size);
int harness_request_finish (zsock_t **dealer_p, msgpack_unpacked *reply, int timeout_ms);

//  Sends an event (consumed) that makes a job (submit, track) to the admin endpoint and writes
//  the new job's id into job. Returns 0, or -1 when it cannot be encoded, jobd does not answer,
//  or the reply names no job.
int harness_request_job (harness_t *self, jobd_event_t **event_p, char *job, size_t size);

//  Asks stats and returns counts[state] of jobs (or -1 when jobd does not answer).
int64_t harness_count (harness_t *self, jobd_state_t state);

//  Asks jobd's plugin table for plugin name: its status word and detail (either may be NULL).
//  Returns 0, or -1 when jobd does not answer or has no such plugin.
int harness_plugin (harness_t *self, const char *name, char *status, size_t status_size,
                    char *detail, size_t detail_size);

//  Returns the path of a built binary: build/bin/NAME (static buffer per call site not needed:
//  writes into buffer).
const char *harness_bin (const char *name, char *buffer, size_t size);

//  Returns the build folder (JOBD_BUILD_DIR).
const char *harness_build_dir (void);

//  True when jobd's log contains text.
bool harness_log_contains (harness_t *self, const char *text);

//  The first line of jobd's log that contains text, into line (size bytes, no newline). True
//  when there is one.
bool harness_log_line (harness_t *self, const char *text, char *line, size_t size);

//  Waits until jobd's log contains text (its log is a file: no event to wait on, so it is read
//  again every 20 ms), up to timeout_ms. True when it does.
bool harness_wait_log (harness_t *self, const char *text, int timeout_ms);

//  Reads transitions from sub (subscribed to them) into seen (a list of events it keeps, oldest
//  first; looked at first) until job has reached state, up to timeout_ms. True when it has.
bool harness_wait_job_state (zsock_t *sub, zlistx_t *seen, const char *job, jobd_state_t state,
                             int timeout_ms);

//  The same for job reaching state in attempt (0: any attempt).
bool harness_wait_job_attempt (zsock_t *sub, zlistx_t *seen, const char *job, jobd_state_t state,
                               uint32_t attempt, int timeout_ms);

//  Job id's record from the store (jobd stopped, or read beside it), and its history when
//  history_p is not NULL (free it with jobd_store_history_free). Returns the record (fresh), or
//  NULL with the reason on stderr.
jobd_job_t *harness_stored (harness_t *self, const char *id, jobd_event_t ***history_p,
                            size_t *count_p);

#endif
