//  Test receivers: a real receiver (Alertmanager, an SMTP server) run as a child of the test on
//  loopback, in a temporary folder of its own, on a free port, stopped at teardown. Every wait
//  has a deadline; the child dies with the test (a parent-death signal).
#ifndef RCV_PROC_H_INCLUDED
#define RCV_PROC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;     //  the running receiver, or 0
    int port;      //  its loopback port
    char dir[256]; //  its temporary folder (config, storage, mail)
    char log[300]; //  dir/receiver.log: its stdout and stderr
    char url[64];  //  http://127.0.0.1:PORT or smtp://127.0.0.1:PORT
    char user[64]; //  the credentials it asks for (HTTP basic auth), or ""
    char password[64];
} rcv_proc_t;

//  Makes the temporary folder /tmp/jobd-rcv-NAME-XXXXXX and fills dir and log; pid 0. Returns
//  0, or -1 when the folder cannot be made.
int rcv_proc_init (rcv_proc_t *self, const char *name);

//  A free loopback TCP port (bound, read back and released), or -1.
int rcv_proc_free_port (void);

//  Starts argv (NULL-terminated; argv[0] a path) with stdout and stderr to the log and stdin
//  from /dev/null. Returns 0, or -1.
int rcv_proc_spawn (rcv_proc_t *self, char *const argv[]);

//  True while the child runs (false once it exited: it is then reaped and pid is 0).
bool rcv_proc_alive (rcv_proc_t *self);

//  Waits until 127.0.0.1:port accepts a TCP connection, up to timeout_ms. False when the child
//  exited or the deadline passed (the log's end is printed to stderr then).
bool rcv_proc_wait_port (rcv_proc_t *self, int timeout_ms);

//  Prints the log's last lines to stderr, after why: for a test that failed to reach it.
void rcv_proc_dump (rcv_proc_t *self, const char *why);

//  Kills the child (SIGTERM, SIGKILL after 3 s), reaps it and removes the folder (kept when
//  JOBD_KEEP_TEST_DIRS is set). Safe on an unstarted or stopped self.
void rcv_proc_stop (rcv_proc_t *self);

//  Runs argv to its end with a deadline (killed past it), output to /dev/null. Returns its exit
//  code, or -1.
int rcv_proc_run (char *const argv[], int timeout_ms);

//  Milliseconds of a monotonic clock.
long long rcv_proc_now (void);

//  Sleeps ms: the step of a bounded wait loop (every caller checks a deadline).
void rcv_proc_pause (int ms);

//  Reads a whole file into a fresh NUL-terminated string (its size in *size_p when not NULL),
//  or NULL.
char *rcv_proc_slurp (const char *path, size_t *size_p);

#endif
