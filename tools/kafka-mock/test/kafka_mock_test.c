//  Tests kafka-mock the way jobd's tests use it: a subprocess steered through stdin and stdout.
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

//  Every wait in this test ends by this long at the latest.
#define S_WAIT_MS 10000

typedef struct {
    pid_t pid;
    int in_fd;  //  Its stdin, or -1 once closed
    int out_fd; //  Its stdout
    char buffer[4096];
    size_t used;
} s_child_t;

//  The child to kill when a check fails, so that a failed test leaves no cluster behind.
static s_child_t *s_current;

static void
s_fail (const char *what, const char *detail)
{
    fprintf (stderr, "kafka-mock-test: FAIL: %s%s%s\n", what, detail ? ": " : "",
             detail ? detail : "");
    if (s_current && s_current->pid > 0) {
        kill (s_current->pid, SIGKILL);
        waitpid (s_current->pid, NULL, 0);
    }
    exit (EXIT_FAILURE);
}

static void
s_check (bool ok, const char *what, const char *detail)
{
    if (!ok)
        s_fail (what, detail);
}

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int
s_remaining_ms (int64_t deadline)
{
    int64_t remaining = deadline - s_now_ms ();
    return remaining > 0 ? (int)remaining : 0;
}

static void
s_spawn (s_child_t *child, const char *path, const char *const args[])
{
    int in_pipe[2], out_pipe[2];
    s_check (pipe2 (in_pipe, O_CLOEXEC) == 0 && pipe2 (out_pipe, O_CLOEXEC) == 0, "pipe2",
             strerror (errno));
    char *argv[16] = {(char *)path};
    for (int index = 0; args[index] && index < 14; index++)
        argv[index + 1] = (char *)args[index];
    pid_t pid = fork ();
    s_check (pid >= 0, "fork", strerror (errno));
    if (pid == 0) {
        dup2 (in_pipe[0], STDIN_FILENO);
        dup2 (out_pipe[1], STDOUT_FILENO);
        //  The test blocks SIGCHLD to wait for it; the tool gets the default mask back.
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        execv (path, argv);
        _exit (127);
    }
    close (in_pipe[0]);
    close (out_pipe[1]);
    *child = (s_child_t){.pid = pid, .in_fd = in_pipe[1], .out_fd = out_pipe[0]};
    s_current = child;
}

//  Reads one line of the child's stdout into line, without the newline. Returns false on the end
//  of its stdout or at the deadline.
static bool
s_read_line (s_child_t *child, char *line, size_t line_size, int64_t deadline)
{
    while (true) {
        char *newline = memchr (child->buffer, '\n', child->used);
        if (newline) {
            size_t length = (size_t)(newline - child->buffer);
            snprintf (line, line_size, "%.*s", (int)length, child->buffer);
            child->used -= length + 1;
            memmove (child->buffer, newline + 1, child->used);
            return true;
        }
        if (child->used == sizeof child->buffer)
            return false;
        struct pollfd item = {.fd = child->out_fd, .events = POLLIN};
        int rc = poll (&item, 1, s_remaining_ms (deadline));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return false;
        ssize_t size =
            read (child->out_fd, child->buffer + child->used, sizeof child->buffer - child->used);
        if (size <= 0)
            return false;
        child->used += (size_t)size;
    }
}

//  Sends one command and checks that its answer starts with prefix.
static void
s_command (s_child_t *child, const char *command, const char *prefix)
{
    char line[1024];
    int length = snprintf (line, sizeof line, "%s\n", command);
    s_check (write (child->in_fd, line, (size_t)length) == length, "write a command", command);
    s_check (s_read_line (child, line, sizeof line, s_now_ms () + S_WAIT_MS),
             "an answer within the deadline", command);
    printf ("  %s -> %s\n", command, line);
    s_check (strncmp (line, prefix, strlen (prefix)) == 0, "the expected answer", line);
}

//  Waits for the child to exit. Returns its wait status, or -1 at the deadline.
static int
s_wait_exit (s_child_t *child, int64_t deadline)
{
    sigset_t chld;
    sigemptyset (&chld);
    sigaddset (&chld, SIGCHLD);
    while (true) {
        int status;
        pid_t pid = waitpid (child->pid, &status, WNOHANG);
        if (pid == child->pid) {
            child->pid = -1;
            return status;
        }
        int remaining = s_remaining_ms (deadline);
        if (remaining == 0)
            return -1;
        struct timespec timeout = {remaining / 1000, (remaining % 1000) * 1000000L};
        //  SIGCHLD is blocked, so an exit between waitpid and here stays pending: no lost wakeup.
        sigtimedwait (&chld, NULL, &timeout);
    }
}

static void
s_close (s_child_t *child)
{
    if (child->in_fd >= 0)
        close (child->in_fd);
    close (child->out_fd);
    child->in_fd = -1;
    if (s_current == child)
        s_current = NULL;
}

static void
s_expect_exit (s_child_t *child, int code, const char *what)
{
    int status = s_wait_exit (child, s_now_ms () + S_WAIT_MS);
    s_check (status != -1, "an exit within the deadline", what);
    s_check (WIFEXITED (status) && WEXITSTATUS (status) == code, "the expected exit code", what);
}

static void
s_delivered (rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
    *(rd_kafka_resp_err_t *)message->_private = message->err;
}

static rd_kafka_t *
s_client_new (rd_kafka_type_t type, const char *bootstraps)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    const char *settings[][2] = {
        {"bootstrap.servers", bootstraps},
        //  librdkafka's default backoff (100 ms doubling up to 10 s, with jitter) makes the client
        //  take 0 to 3 s to notice that a broker is back; a test wants it at once.
        {"reconnect.backoff.ms", "10"},
        {"reconnect.backoff.max.ms", "100"},
        {"group.id", "kafka-mock-test"},
        {"enable.auto.commit", "false"},
        {"log_level", "4"},
    };
    size_t setting_cnt = type == RD_KAFKA_CONSUMER ? 6 : 3;
    for (size_t index = 0; index < setting_cnt; index++)
        s_check (rd_kafka_conf_set (conf, settings[index][0], settings[index][1], errstr,
                                    sizeof errstr) == RD_KAFKA_CONF_OK,
                 "client config", errstr);
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb (conf, s_delivered);
    rd_kafka_t *rk = rd_kafka_new (type, conf, errstr, sizeof errstr);
    s_check (rk != NULL, "rd_kafka_new", errstr);
    return rk;
}

//  Queues one message for partition 0; *status_p gets its delivery result.
static void
s_produce (rd_kafka_t *producer, const char *topic, const char *value,
           rd_kafka_resp_err_t *status_p)
{
    *status_p = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    rd_kafka_resp_err_t err = rd_kafka_producev (
        producer, RD_KAFKA_V_TOPIC (topic), RD_KAFKA_V_PARTITION (0),
        RD_KAFKA_V_VALUE ((void *)value, strlen (value)), RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE (status_p), RD_KAFKA_V_END);
    s_check (err == RD_KAFKA_RESP_ERR_NO_ERROR, "rd_kafka_producev", rd_kafka_err2str (err));
}

static void
s_expect_delivered (rd_kafka_t *producer, rd_kafka_resp_err_t *status_p)
{
    rd_kafka_flush (producer, S_WAIT_MS);
    s_check (*status_p == RD_KAFKA_RESP_ERR_NO_ERROR, "delivery within the deadline",
             rd_kafka_err2str (*status_p));
}

static void
s_expect_message (rd_kafka_t *consumer, const char *value)
{
    int64_t deadline = s_now_ms () + S_WAIT_MS;
    while (s_remaining_ms (deadline) > 0) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll (consumer, s_remaining_ms (deadline));
        if (!message)
            continue;
        bool found = !message->err && message->len == strlen (value) &&
                     memcmp (message->payload, value, message->len) == 0;
        rd_kafka_message_destroy (message);
        if (found)
            return;
    }
    s_fail ("the message back within the deadline", value);
}

//  Produces and consumes through the cluster, takes its only broker down and up, and quits.
static void
s_test_commands (const char *tool)
{
    puts ("commands: produce, consume, down, up, quit");
    const char *topic = "kafka-mock-test";
    s_child_t child;
    s_spawn (&child, tool, (const char *[]){"--commands", "--topic", "kafka-mock-test:2", NULL});
    char bootstraps[1024];
    s_check (s_read_line (&child, bootstraps, sizeof bootstraps, s_now_ms () + S_WAIT_MS),
             "the bootstrap line within the deadline", NULL);
    printf ("  bootstrap servers %s\n", bootstraps);
    s_check (strncmp (bootstraps, "127.0.0.1:", 10) == 0, "a loopback bootstrap", bootstraps);

    rd_kafka_t *producer = s_client_new (RD_KAFKA_PRODUCER, bootstraps);
    rd_kafka_t *consumer = s_client_new (RD_KAFKA_CONSUMER, bootstraps);
    //  rd_kafka_assign skips the group join, which takes about 3 s on the mock.
    rd_kafka_topic_partition_list_t *partitions = rd_kafka_topic_partition_list_new (1);
    rd_kafka_topic_partition_list_add (partitions, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t err = rd_kafka_assign (consumer, partitions);
    rd_kafka_topic_partition_list_destroy (partitions);
    s_check (err == RD_KAFKA_RESP_ERR_NO_ERROR, "rd_kafka_assign", rd_kafka_err2str (err));

    rd_kafka_resp_err_t status;
    int64_t start = s_now_ms ();
    s_produce (producer, topic, "hello", &status);
    s_expect_delivered (producer, &status);
    s_expect_message (consumer, "hello");
    printf ("  produced and consumed in %lld ms\n", (long long)(s_now_ms () - start));

    s_command (&child, "frobnicate", "error ");
    s_command (&child, "down 2", "error ");
    s_command (&child, "down 1", "ok");
    //  Queued while the only broker is down; it must be delivered once the broker is back.
    s_produce (producer, topic, "world", &status);
    s_command (&child, "up 1", "ok");
    int64_t up_at = s_now_ms ();
    s_expect_delivered (producer, &status);
    printf ("  delivered %lld ms after 'up 1'\n", (long long)(s_now_ms () - up_at));
    s_expect_message (consumer, "world");
    printf ("  consumed %lld ms after 'up 1'\n", (long long)(s_now_ms () - up_at));

    s_command (&child, "rtt 1 0", "ok");
    s_command (&child, "topic extra 3", "ok");
    s_command (&child, "leader kafka-mock-test 1 1", "ok");
    s_command (&child, "coordinator group kafka-mock-test 1", "ok");
    s_command (&child, "error 0 6 1", "ok");
    //  The clients go first: closing them against a stopped cluster would wait for it.
    start = s_now_ms ();
    rd_kafka_consumer_close (consumer);
    rd_kafka_destroy (consumer);
    rd_kafka_destroy (producer);
    printf ("  clients closed in %lld ms\n", (long long)(s_now_ms () - start));
    s_command (&child, "quit", "ok");
    start = s_now_ms ();
    s_expect_exit (&child, 0, "quit");
    printf ("  exited %lld ms after quit\n", (long long)(s_now_ms () - start));
    s_close (&child);
}

//  Without --commands: writes the bootstrap file, stops on SIGTERM and removes the file.
static void
s_test_signal (const char *tool)
{
    puts ("signal: bootstrap file, SIGTERM");
    char dir[] = "/tmp/kafka-mock-test.XXXXXX";
    s_check (mkdtemp (dir) != NULL, "mkdtemp", strerror (errno));
    char path[64];
    snprintf (path, sizeof path, "%s/bootstrap", dir);
    s_child_t child;
    s_spawn (&child, tool, (const char *[]){"--brokers", "3", "--bootstrap-file", path, NULL});
    char bootstraps[1024], content[1024] = "";
    s_check (s_read_line (&child, bootstraps, sizeof bootstraps, s_now_ms () + S_WAIT_MS),
             "the bootstrap line within the deadline", NULL);
    printf ("  bootstrap servers %s\n", bootstraps);
    //  The tool writes the file before the line, so it is there now.
    FILE *file = fopen (path, "r");
    s_check (file != NULL, "the bootstrap file", strerror (errno));
    s_check (fgets (content, sizeof content, file) != NULL, "a line in the bootstrap file", path);
    fclose (file);
    content[strcspn (content, "\n")] = '\0';
    s_check (strcmp (content, bootstraps) == 0, "the same bootstraps in the file", content);
    s_check (strchr (bootstraps, ',') && strchr (strchr (bootstraps, ',') + 1, ','),
             "three brokers", bootstraps);

    kill (child.pid, SIGTERM);
    s_expect_exit (&child, 0, "SIGTERM");
    s_close (&child);
    s_check (access (path, F_OK) != 0, "the bootstrap file removed", path);
    rmdir (dir);
}

//  With --commands, the end of stdin stops the tool: a test that dies leaves no cluster behind.
static void
s_test_stdin_eof (const char *tool)
{
    puts ("eof: the end of stdin stops the tool");
    s_child_t child;
    s_spawn (&child, tool, (const char *[]){"--commands", NULL});
    char line[1024];
    s_check (s_read_line (&child, line, sizeof line, s_now_ms () + S_WAIT_MS),
             "the bootstrap line within the deadline", NULL);
    s_command (&child, "up all", "ok");
    close (child.in_fd);
    child.in_fd = -1;
    s_expect_exit (&child, 0, "end of stdin");
    s_close (&child);
}

static void
s_test_usage (const char *tool)
{
    puts ("usage: bad flags exit with 2");
    const char *const *cases[] = {
        (const char *[]){"--brokers", "0", NULL}, (const char *[]){"--topic", "no/slash", NULL},
        (const char *[]){"--topic", "t:0", NULL}, (const char *[]){"--frobnicate", NULL},
        (const char *[]){"--brokers", NULL},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        s_child_t child;
        s_spawn (&child, tool, cases[index]);
        s_expect_exit (&child, 2, cases[index][0]);
        s_close (&child);
    }
}

int
main (int argc, char *argv[])
{
    if (argc != 2) {
        fprintf (stderr, "usage: kafka-mock-test PATH-TO-KAFKA-MOCK\n");
        return 2;
    }
    //  Blocked so that s_wait_exit can wait for it with a deadline.
    sigset_t chld;
    sigemptyset (&chld);
    sigaddset (&chld, SIGCHLD);
    sigprocmask (SIG_BLOCK, &chld, NULL);
    signal (SIGPIPE, SIG_IGN);

    s_test_usage (argv[1]);
    s_test_stdin_eof (argv[1]);
    s_test_signal (argv[1]);
    s_test_commands (argv[1]);
    puts ("kafka-mock-test: all passed");
    return 0;
}
