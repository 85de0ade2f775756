//  jobd under systemd, as systemd sees it: the notify protocol (sd_notify) read from a unix
//  datagram socket of the test's own, named by NOTIFY_SOCKET. READY once running, STATUS lines,
//  WATCHDOG=1 at the pace WATCHDOG_USEC asks and none without it, STOPPING=1 on SIGTERM.
#include "harness.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static harness_t s_harness;

//  What jobd told the socket, in order: each datagram's lines, one string per datagram.
typedef struct {
    int fd;
    char datagrams[512][512];
    size_t count;
} s_manager_t;

static s_manager_t s_manager;

static int
s_setup (void **state)
{
    harness_init (&s_harness, "notify");
    memset (&s_manager, 0, sizeof s_manager);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    snprintf (address.sun_path, sizeof address.sun_path, "%s/notify.sock", s_harness.dir);
    s_manager.fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true (s_manager.fd >= 0);
    assert_int_equal (bind (s_manager.fd, (struct sockaddr *)&address, sizeof address), 0);
    setenv ("NOTIFY_SOCKET", address.sun_path, 1);
    return 0;
}

static int
s_teardown (void **state)
{
    unsetenv ("NOTIFY_SOCKET");
    unsetenv ("WATCHDOG_USEC");
    close (s_manager.fd);
    harness_fini (&s_harness);
    return 0;
}

//  Reads datagrams until one holds line (a whole line, "READY=1"), or a line that starts with
//  it when prefix, up to timeout_ms. Returns the index of that datagram, or -1.
static int
s_wait_line (const char *line, bool prefix, int timeout_ms)
{
    size_t checked = 0;
    int64_t end = zclock_mono () + timeout_ms;
    while (true) {
        for (; checked < s_manager.count; checked++) {
            char copy[512];
            snprintf (copy, sizeof copy, "%s", s_manager.datagrams[checked]);
            for (char *save = NULL, *next = strtok_r (copy, "\n", &save); next;
                 next = strtok_r (NULL, "\n", &save))
                if (prefix ? strncmp (next, line, strlen (line)) == 0 : strcmp (next, line) == 0)
                    return (int)checked;
        }
        int64_t left = end - zclock_mono ();
        struct pollfd fd = {.fd = s_manager.fd, .events = POLLIN};
        if (left <= 0 || poll (&fd, 1, (int)left) <= 0)
            return -1;
        if (s_manager.count == sizeof s_manager.datagrams / sizeof s_manager.datagrams[0])
            return -1;
        char *into = s_manager.datagrams[s_manager.count];
        ssize_t got = recv (s_manager.fd, into, sizeof s_manager.datagrams[0] - 1, 0);
        if (got > 0) {
            into[got] = 0;
            s_manager.count++;
        }
    }
}

//  How many datagrams so far are exactly "WATCHDOG=1".
static size_t
s_pings (void)
{
    size_t pings = 0;
    for (size_t index = 0; index < s_manager.count; index++)
        pings += strcmp (s_manager.datagrams[index], "WATCHDOG=1") == 0;
    return pings;
}

//  Reads datagrams until one is a STATUS with the broker's counts (the heartbeat's, once
//  running), up to timeout_ms. Returns its index, or -1.
static int
s_wait_counts (int timeout_ms)
{
    for (int64_t end = zclock_mono () + timeout_ms; zclock_mono () < end;) {
        for (size_t index = 0; index < s_manager.count; index++)
            if (strstr (s_manager.datagrams[index], " transitions, "))
                return (int)index;
        s_wait_line ("(any datagram)", false, 100);
    }
    return -1;
}

static void
test_ready_status_watchdog_stopping (void **state)
{
    //  400 ms: jobd pings every 200 ms; three pings come within a second or so.
    setenv ("WATCHDOG_USEC", "400000", 1);
    harness_write_config (&s_harness, "");
    assert_true (harness_start (&s_harness) > 0);
    int starting = s_wait_line ("STATUS=starting", true, 20000);
    assert_true (starting >= 0);
    int ready = s_wait_line ("READY=1", false, 20000);
    assert_true (ready > starting);
    assert_non_null (strstr (s_manager.datagrams[ready], "STATUS=running: store "));
    //  jobd answers once it said READY: the broker and the plugins run.
    assert_true (harness_wait_ready (&s_harness, 5000));
    //  The broker's heartbeat refreshes STATUS with its counts.
    int counts = s_wait_counts (10000);
    assert_true (counts > ready);
    assert_non_null (strstr (s_manager.datagrams[counts], "STATUS=running: store "));
    //  Pings keep coming: wait for three more than we have.
    size_t pings = s_pings ();
    for (int64_t end = zclock_mono () + 10000; s_pings () < pings + 3 && zclock_mono () < end;)
        s_wait_line ("(any datagram)", false, 100);
    assert_true (s_pings () >= pings + 3);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 20000), 0);
    int stopping = s_wait_line ("STOPPING=1", false, 5000);
    assert_true (stopping > ready);
    assert_non_null (strstr (s_manager.datagrams[stopping], "STATUS=stopping"));
}

static void
test_no_watchdog_unless_asked (void **state)
{
    //  No WATCHDOG_USEC: READY, STATUS and STOPPING, never a ping.
    harness_write_config (&s_harness, "");
    assert_true (harness_start (&s_harness) > 0);
    assert_true (s_wait_line ("READY=1", false, 20000) >= 0);
    //  A heartbeat has run once the counts are in STATUS (every second).
    assert_true (s_wait_counts (10000) >= 0);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 20000), 0);
    assert_true (s_wait_line ("STOPPING=1", false, 5000) >= 0);
    assert_int_equal (s_pings (), 0);
}

static void
test_a_watchdog_for_another_process_is_not_fed (void **state)
{
    //  WATCHDOG_PID names another process (a wrapper script's watchdog): jobd leaves it alone.
    setenv ("WATCHDOG_USEC", "400000", 1);
    setenv ("WATCHDOG_PID", "1", 1);
    harness_write_config (&s_harness, "");
    pid_t pid = harness_start (&s_harness);
    unsetenv ("WATCHDOG_PID");
    assert_true (pid > 0);
    assert_true (s_wait_line ("READY=1", false, 20000) >= 0);
    assert_true (s_wait_counts (10000) >= 0);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 20000), 0);
    assert_int_equal (s_pings (), 0);
}

static void
test_the_units_folders_are_the_defaults (void **state)
{
    //  A config file that names no store nor run folder, started by a unit with StateDirectory
    //  and RuntimeDirectory: jobd's store and sockets go there.
    char state_dir[400], runtime_dir[400], path[500];
    snprintf (state_dir, sizeof state_dir, "%s/state", s_harness.dir);
    snprintf (runtime_dir, sizeof runtime_dir, "%s/runtime", s_harness.dir);
    assert_int_equal (mkdir (state_dir, 0700), 0);
    assert_int_equal (mkdir (runtime_dir, 0700), 0);
    FILE *file = fopen (s_harness.config, "w");
    assert_non_null (file);
    fprintf (file, "core\n    plugin_dir = %s/test-plugins\n", harness_build_dir ());
    fclose (file);
    setenv ("STATE_DIRECTORY", state_dir, 1);
    setenv ("RUNTIME_DIRECTORY", runtime_dir, 1);
    pid_t pid = harness_start (&s_harness);
    unsetenv ("STATE_DIRECTORY");
    unsetenv ("RUNTIME_DIRECTORY");
    assert_true (pid > 0);
    //  The harness talks to run/admin.sock: point it at the unit's folder.
    snprintf (s_harness.admin, sizeof s_harness.admin, "ipc://%s/admin.sock", runtime_dir);
    assert_true (s_wait_line ("READY=1", false, 20000) >= 0);
    assert_true (harness_wait_ready (&s_harness, 5000));
    snprintf (path, sizeof path, "%s/data.mdb", state_dir);
    assert_int_equal (access (path, F_OK), 0);
    snprintf (path, sizeof path, "%s/data.mdb", s_harness.store);
    assert_int_not_equal (access (path, F_OK), 0);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 20000), 0);
    //  The environment's word on a folder stands above the unit's.
    setenv ("STATE_DIRECTORY", state_dir, 1);
    setenv ("JOBD_CORE_STORE", s_harness.store, 1);
    setenv ("RUNTIME_DIRECTORY", runtime_dir, 1);
    pid = harness_start (&s_harness);
    unsetenv ("STATE_DIRECTORY");
    unsetenv ("JOBD_CORE_STORE");
    unsetenv ("RUNTIME_DIRECTORY");
    assert_true (pid > 0);
    assert_true (harness_wait_ready (&s_harness, 20000));
    snprintf (path, sizeof path, "%s/data.mdb", s_harness.store);
    assert_int_equal (access (path, F_OK), 0);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 20000), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_ready_status_watchdog_stopping, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_no_watchdog_unless_asked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_watchdog_for_another_process_is_not_fed, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_the_units_folders_are_the_defaults, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
