//  The admin endpoint as a trust boundary, against the real jobd: internal events from outside
//  are refused, messages over the limit are dropped before they are read, cursors are listed,
//  removed and expire; and the small things an operator meets (exit codes, messages, the last
//  count of rejects not logged).
#include "harness.h"
#include "jobd_map.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static harness_t s_harness;

static int
s_setup (void **state)
{
    harness_init (&s_harness, "limits");
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  Runs jobctl against this harness's jobd; returns its exit code, its output in out and err.
static int
s_jobctl (const char *const *args, char *out, size_t out_size, char *err, size_t err_size)
{
    char path[512];
    char *argv[16] = {(char *)harness_bin ("jobctl", path, sizeof path), "--admin",
                      s_harness.admin};
    size_t count = 3;
    for (; args[count - 3] && count < 15; count++)
        argv[count] = (char *)args[count - 3];
    argv[count] = NULL;
    return harness_run (argv, out, out_size, err, err_size, 20000);
}

static void
s_start (const char *extra)
{
    harness_write_config (&s_harness, extra);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
}

//  Sends an event to the admin endpoint and expects it refused with EPROTO.
static void
s_expect_refused (jobd_event_t *event)
{
    jobd_event_set (&event->source, "intruder");
    uint8_t *data;
    size_t size;
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, size, &reply, 5000), 0);
    char error[32] = "", reason[256] = "";
    assert_true (jobd_map_string (&reply.data, "error", error, sizeof error));
    assert_string_equal (error, "EPROTO");
    assert_true (jobd_map_string (&reply.data, "reason", reason, sizeof reason));
    assert_non_null (strstr (reason, "come only from plugins"));
    msgpack_unpacked_destroy (&reply);
    free (data);
    jobd_event_destroy (&event);
}

static void
test_forged_internal_events_are_refused (void **state)
{
    s_start ("plugins\n    driver\n        jobs = 1\n");
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_SUCCEEDED, 1, 10000));
    zsock_t *sub = harness_subscribe (&s_harness, "", 10000);
    assert_non_null (sub);

    jobd_event_t *status = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&status->name, "driver");
    jobd_event_set (&status->status, "failed");
    jobd_event_set (&status->detail, "forged");
    s_expect_refused (status);
    jobd_event_t *stale = jobd_event_new (JOBD_EVENT_STALE);
    jobd_event_set (&stale->job, "job-1");
    stale->state = JOBD_STATE_RUNNING;
    s_expect_refused (stale);
    jobd_event_t *cursor = jobd_event_new (JOBD_EVENT_CURSOR);
    jobd_event_set (&cursor->name, "stray");
    s_expect_refused (cursor);

    char status_word[32] = "";
    assert_int_equal (
        harness_plugin (&s_harness, "driver", status_word, sizeof status_word, NULL, 0), 0);
    assert_string_equal (status_word, "running");
    char out[8192], err[2048];
    const char *cursors[] = {"cursors", "--json", NULL};
    assert_int_equal (s_jobctl (cursors, out, sizeof out, err, sizeof err), 0);
    assert_null (strstr (out, "stray"));
    const char *stats[] = {"stats", "--json", NULL};
    assert_int_equal (s_jobctl (stats, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, "\"internal_refused\":3"));
    //  Nothing of it was published: the next message is a real submit's transition.
    const char *submit[] = {"submit", "-", NULL};
    char path[512];
    char *argv[] = {(char *)harness_bin ("jobctl", path, sizeof path),
                    "--admin",
                    s_harness.admin,
                    (char *)submit[0],
                    (char *)submit[1],
                    NULL};
    harness_proc_t proc;
    assert_int_equal (harness_spawn_talking (&proc, argv, s_harness.log), 0);
    assert_int_equal (harness_proc_say (&proc, "{\"kind\":\"spark\"}"), 0);
    assert_int_equal (harness_proc_finish (&proc, 10000), 0);
    zsock_set_rcvtimeo (sub, 10000);
    char *topic = zstr_recv (sub);
    assert_non_null (topic);
    assert_string_equal (topic, "job.QUEUED.job-2");
    zstr_free (&topic);
    zsock_destroy (&sub);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  jobd's peak resident size, in KiB (VmHWM), or -1.
static long
s_peak_kib (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *file = fopen (path, "r");
    long kib = -1;
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, "VmHWM:", 6) == 0)
            kib = strtol (line + 6, NULL, 10);
    if (file)
        fclose (file);
    return kib;
}

//  A DEALER on the admin endpoint with a monitor of its connection; returns once connected.
typedef struct {
    zsock_t *dealer;
    zsock_t *monitor;
} s_client_t;

static void
s_client_connect (s_client_t *self, int index)
{
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "inproc://limits-monitor-%d", index);
    self->dealer = zsock_new (ZMQ_DEALER);
    zsock_set_linger (self->dealer, 0);
    zsock_set_sndtimeo (self->dealer, 10000);
    assert_int_equal (zmq_socket_monitor (zsock_resolve (self->dealer), endpoint,
                                          ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED),
                      0);
    self->monitor = zsock_new (ZMQ_PAIR);
    assert_int_equal (zsock_connect (self->monitor, "%s", endpoint), 0);
    assert_int_equal (zsock_connect (self->dealer, "%s", s_harness.admin), 0);
}

//  Waits for the monitor's next event of this kind, up to timeout_ms. True when it came.
static bool
s_client_wait (s_client_t *self, uint16_t wanted, int timeout_ms)
{
    zsock_set_rcvtimeo (self->monitor, timeout_ms);
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        zmsg_t *msg = zmsg_recv (self->monitor);
        if (!msg)
            return false;
        zframe_t *head = zmsg_first (msg);
        uint16_t event = 0;
        if (zframe_size (head) >= 2)
            memcpy (&event, zframe_data (head), 2);
        zmsg_destroy (&msg);
        if (event == wanted)
            return true;
    }
    return false;
}

static void
s_client_destroy (s_client_t *self)
{
    zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
}

static void
test_oversized_messages_are_dropped_before_they_are_read (void **state)
{
    s_start ("");
    long before = s_peak_kib (s_harness.pid);
    assert_true (before > 0);
    //  Four clients send 16 MiB each at once, and one 300 KiB (just over the 256 KiB limit):
    //  each is disconnected at the frame's header; jobd never holds the bytes (before, it read
    //  each whole: its peak grew by 64 MiB).
    enum { CLIENTS = 5 };
    s_client_t clients[CLIENTS];
    size_t big = 16u << 20;
    char *data = (char *)calloc (1, big);
    for (int index = 0; index < CLIENTS; index++) {
        s_client_connect (&clients[index], index);
        assert_true (s_client_wait (&clients[index], ZMQ_EVENT_CONNECTED, 10000));
        size_t size = index == CLIENTS - 1 ? 300 * 1024 : big;
        assert_int_equal (zmq_send (zsock_resolve (clients[index].dealer), data, size, 0),
                          (int)size);
    }
    for (int index = 0; index < CLIENTS; index++)
        assert_true (s_client_wait (&clients[index], ZMQ_EVENT_DISCONNECTED, 20000));
    free (data);
    for (int index = 0; index < CLIENTS; index++)
        s_client_destroy (&clients[index]);
    long after = s_peak_kib (s_harness.pid);
    printf ("jobd peak RSS %ld KiB before, %ld KiB after 4 x 16 MiB\n", before, after);
    assert_true (after - before < 12 * 1024);

    //  A message of three frames (four with the identity) is answered with the reason, and
    //  jobd still answers everyone.
    zsock_t *dealer = zsock_new_dealer (s_harness.admin);
    zsock_set_rcvtimeo (dealer, 10000);
    assert_int_equal (zstr_sendx (dealer, "a", "b", "c", NULL), 0);
    zframe_t *frame = zframe_recv (dealer);
    assert_non_null (frame);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (
        jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), &reply, NULL, 0), 0);
    char reason[128] = "";
    assert_true (jobd_map_string (&reply.data, "reason", reason, sizeof reason));
    assert_string_equal (reason, "expected one frame, got 3");
    msgpack_unpacked_destroy (&reply);
    zframe_destroy (&frame);
    zsock_destroy (&dealer);
    assert_int_equal (harness_count (&s_harness, JOBD_STATE_QUEUED), 0);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

static void
test_message_max_is_configured (void **state)
{
    s_start ("    message_max = 1KiB\n");
    s_client_t client;
    s_client_connect (&client, 99);
    assert_true (s_client_wait (&client, ZMQ_EVENT_CONNECTED, 10000));
    char data[2048] = "";
    assert_int_equal (zmq_send (zsock_resolve (client.dealer), data, sizeof data, 0),
                      (int)sizeof data);
    assert_true (s_client_wait (&client, ZMQ_EVENT_DISCONNECTED, 20000));
    s_client_destroy (&client);
    assert_int_equal (harness_count (&s_harness, JOBD_STATE_QUEUED), 0); //  small: answered
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  The cursors list (JSON) of this harness's jobd, into out.
static void
s_cursors (char *out, size_t size)
{
    char err[2048];
    const char *args[] = {"cursors", "--json", NULL};
    assert_int_equal (s_jobctl (args, out, size, err, sizeof err), 0);
}

static void
test_cursors_are_listed_and_dropped (void **state)
{
    s_start ("    cursor_idle_max = 0\n"
             "plugins\n    driver\n        jobs = 1\n        cursor = audit\n");
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_SUCCEEDED, 1, 10000));
    char out[8192], err[2048];
    s_cursors (out, sizeof out);
    //  track, RUNNING, SUCCEEDED: three transitions the reader has not passed.
    assert_non_null (strstr (out, "\"name\":\"audit\""));
    assert_non_null (strstr (out, "\"behind\":3"));
    const char *table[] = {"cursors", NULL};
    assert_int_equal (s_jobctl (table, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, "audit"));
    const char *drop[] = {"cursors", "drop", "audit", NULL};
    assert_int_equal (s_jobctl (drop, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, "cursor audit removed"));
    s_cursors (out, sizeof out);
    assert_null (strstr (out, "audit"));
    assert_int_equal (s_jobctl (drop, out, sizeof out, err, sizeof err), 4);
    assert_non_null (strstr (err, "no cursor 'audit'"));
    assert_true (harness_log_contains (&s_harness, "cursor 'audit' removed by an admin client"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

static void
test_an_idle_cursor_stops_holding_the_log (void **state)
{
    s_start ("    cursor_idle_max = 1s\n"
             "plugins\n    driver\n        jobs = 2\n        cursor = audit\n");
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_SUCCEEDED, 2, 10000));
    harness_wait_log (&s_harness, "cursor 'audit' has not moved", 20000);
    assert_true (harness_log_contains (&s_harness, "6 transitions behind the head"));
    char out[8192];
    s_cursors (out, sizeof out);
    assert_null (strstr (out, "audit"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

static void
test_the_last_count_of_unlogged_rejects_is_written (void **state)
{
    s_start ("");
    //  60 bad messages in well under a second: at most 20 a second are logged, and the count
    //  of the others is written when their second is over, even when nothing follows.
    for (int index = 0; index < 60; index++) {
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        assert_int_equal (harness_request (&s_harness, "\xc1", 1, &reply, 5000), 0);
        msgpack_unpacked_destroy (&reply);
    }
    assert_true (harness_wait_log (&s_harness, "more rejects not logged", 10000));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  Runs a built binary as user nobody; returns its exit code (-1 on timeout), stderr into err.
static int
s_run_as_nobody (char *const argv[], char *err, size_t err_size)
{
    char path[320];
    snprintf (path, sizeof path, "%s/nobody.err", s_harness.dir);
    int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    assert_true (fd >= 0);
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (fd, 2);
        if (setgid (NOBODY) || setuid (NOBODY))
            _exit (126);
        execv (argv[0], argv);
        _exit (127);
    }
    int status = 0;
    int64_t deadline = zclock_mono () + 20000;
    while (waitpid (pid, &status, WNOHANG) == 0) {
        if (zclock_mono () > deadline) {
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
            close (fd);
            return -1;
        }
        poll (NULL, 0, 10);
    }
    ssize_t got = pread (fd, err, err_size - 1, 0);
    err[got > 0 ? got : 0] = 0;
    close (fd);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_operator_messages_and_exit_codes (void **state)
{
    //  The harness folder is opened to others so that nobody can reach what the test gives it.
    assert_int_equal (chmod (s_harness.dir, 0755), 0);
    //  jobd runs as root, its run folder owner-only: jobctl as another user is refused, and
    //  says so, rather than "jobd is not running".
    s_start ("");
    char bin[512], err[4096];
    char *jobctl[] = {(char *)harness_bin ("jobctl", bin, sizeof bin), "--admin", s_harness.admin,
                      "stats", NULL};
    assert_int_equal (s_run_as_nobody (jobctl, err, sizeof err), 9);
    assert_non_null (strstr (err, "permission denied"));
    assert_null (strstr (err, "not running"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);

    //  A store folder this user cannot write: a store error, exit 4.
    char run_dir[320], config[320];
    snprintf (run_dir, sizeof run_dir, "%s/nobody-run", s_harness.dir);
    assert_int_equal (mkdir (run_dir, 0700), 0);
    assert_int_equal (chown (run_dir, NOBODY, NOBODY), 0);
    snprintf (config, sizeof config, "%s/nobody.cfg", s_harness.dir);
    FILE *file = fopen (config, "w");
    fprintf (file, "core\n    store = %s\n    run_dir = %s\n    plugin_dir = %s\n", s_harness.store,
             run_dir, s_harness.dir);
    fclose (file);
    assert_int_equal (chmod (config, 0644), 0);
    char *jobd[] = {(char *)harness_bin ("jobd", bin, sizeof bin), "-c", config, NULL};
    assert_int_equal (s_run_as_nobody (jobd, err, sizeof err), 4);
    assert_non_null (strstr (err, s_harness.store));
    assert_non_null (strstr (err, "Permission denied"));
}

//  Submits 100 KiB specs until the store refuses one with EFULL or count were taken. Returns how
//  many were taken.
static int
s_fill_store (int count)
{
    char *spec = (char *)malloc (100 * 1024 + 1);
    memset (spec, 'x', 100 * 1024);
    spec[0] = '"';
    spec[100 * 1024 - 1] = '"';
    spec[100 * 1024] = 0;
    char error[32] = "";
    int taken = 0;
    for (int index = 0; index < count && strcmp (error, "EFULL"); index++) {
        jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
        jobd_event_set (&submit->source, "test");
        jobd_event_set (&submit->kind, "spark");
        jobd_event_set (&submit->spec, spec);
        uint8_t *data;
        size_t size;
        assert_int_equal (jobd_event_encode (submit, &data, &size, NULL, 0), 0);
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        assert_int_equal (harness_request (&s_harness, data, size, &reply, 5000), 0);
        error[0] = 0;
        jobd_map_string (&reply.data, "error", error, sizeof error);
        taken += error[0] == 0;
        msgpack_unpacked_destroy (&reply);
        free (data);
        jobd_event_destroy (&submit);
    }
    free (spec);
    return taken;
}

//  Past map_size_max the store refuses, and says so once.
static void
test_a_full_store_says_so_once (void **state)
{
    s_start ("    map_size = 1MiB\n    map_size_max = 2MiB\n");
    int taken = s_fill_store (60);
    assert_true (taken > 0 && taken < 60);
    assert_true (harness_log_contains (&s_harness, "map grown from 1 MiB to 2 MiB"));
    assert_true (harness_log_contains (&s_harness, "(raise core/map_size_max)"));
    assert_false (
        harness_log_contains (&s_harness, "(raise core/map_size_max) (raise core/map_size_max)"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  A map that fills grows by itself (map_size_max by default), says so, and keeps everything
//  across a restart: 60 specs of 100 KiB in a map of 1 MiB.
static void
test_the_store_grows (void **state)
{
    s_start ("    map_size = 1MiB\n");
    assert_int_equal (s_fill_store (60), 60);
    assert_true (harness_log_contains (&s_harness, "map grown from 1 MiB to 2 MiB"));
    assert_true (harness_log_contains (&s_harness, "map grown from 4 MiB to 8 MiB"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    assert_true (harness_wait_count (&s_harness, JOBD_STATE_QUEUED, 60, 10000));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

//  A batch bigger than the map is applied again once the map grew, not refused: a 100 KiB spec
//  into a map of 128 KiB is taken (only past map_size_max does a client see EFULL).
static void
test_a_batch_bigger_than_the_map_is_taken (void **state)
{
    s_start ("    map_size = 128KiB\n");
    assert_int_equal (s_fill_store (1), 1);
    assert_true (harness_log_contains (&s_harness, "map grown from 128 KiB to 256 KiB"));
    assert_false (harness_log_contains (&s_harness, "not stored"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_forged_internal_events_are_refused, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_oversized_messages_are_dropped_before_they_are_read,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_message_max_is_configured, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cursors_are_listed_and_dropped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_an_idle_cursor_stops_holding_the_log, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_the_last_count_of_unlogged_rejects_is_written,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_operator_messages_and_exit_codes, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_a_full_store_says_so_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_the_store_grows, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_batch_bigger_than_the_map_is_taken, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
