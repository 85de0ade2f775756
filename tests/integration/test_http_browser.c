//  The dashboard in a real browser: the real jobd (demo and http plugins) and headless Chromium
//  driven by tests/browser/dashboard.test.mjs (playwright-core). This program owns jobd: it
//  starts it, hands node the URL and the token file of the run folder, and stops and restarts
//  jobd when the script asks ("STOP" / "START" / "AUTH" on its stdout), so that the page's
//  "stream dropped" and "back" banners are seen, and its token dialog with read_auth. Skips (exit
//  77) only when chromium, node or the script's node_modules are absent: scripts/deps.sh installs
//  them.
#include "harness.h"
#include "http_client.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_DEADLINE 15000
//  The whole browser run, for the script: sanitizer builds make jobd several times slower.
#define S_RUN_MS 100000

static harness_t s_harness;
static int s_port;
static char s_chromium[256];
static char s_script[512];

static void
s_start (void)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, S_DEADLINE));
    //  Ready (the page's first requests must not fail): the store read, the log's cursor set.
    char url[100];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/readyz", s_port);
    assert_true (http_wait_status (url, 200, S_DEADLINE));
}

//  Prints the script's log (its progress and, on failure, why and what the page showed).
static void
s_print_log (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return;
    char line[1024];
    while (fgets (line, sizeof line, file))
        fputs (line, stderr);
    fclose (file);
}

//  Writes jobd's config: a demo job is RUNNING for 3 steps (2.1 s), long enough to be seen on
//  screen before it ends; every third one fails, with a reason for the failures list.
//  read_auth: reads need the token too (the page must ask for it).
static void
s_config (bool read_auth)
{
    char extra[1024];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n"
              "        step = 700ms\n"
              "        fail_every = 3\n"
              "    http\n"
              "        path = %s/plugins/http.so\n"
              "        port = %d\n"
              "        heartbeat = 1s\n"
              "        read_auth = %s\n",
              harness_build_dir (), harness_build_dir (), s_port, read_auth ? "true" : "false");
    harness_write_config (&s_harness, extra);
}

static void
test_dashboard_in_chromium (void **state)
{
    (void)state;
    harness_init (&s_harness, "http_browser");
    s_port = http_free_port ();
    s_config (false);
    s_start ();

    char url[64], token[400], shot[512], log[400], deadline[32];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", s_port);
    snprintf (token, sizeof token, "%s/http.token", s_harness.run_dir);
    snprintf (shot, sizeof shot, "%s/dashboard-test.png", harness_build_dir ());
    snprintf (log, sizeof log, "%s/browser.log", s_harness.dir);
    snprintf (deadline, sizeof deadline, "%d", S_RUN_MS);
    unlink (shot);
    setenv ("CHROMIUM", s_chromium, 1);
    setenv ("DEADLINE_MS", deadline, 1);
    char *argv[] = {"/usr/bin/node", s_script, url, token, shot, NULL};
    harness_proc_t node;
    int64_t started = zclock_mono ();
    assert_int_equal (harness_spawn_talking (&node, argv, log), 0);

    //  The script's cues, each with the whole run's deadline (it exits at once on a failure):
    //  STOP (jobd stops: the page shows the stream dropped), START (it is back), AUTH (it
    //  starts again with read_auth: the page must ask for the token), then PASS.
    bool passed = false;
    if (harness_proc_wait_out (&node, "STOP", S_RUN_MS)) {
        assert_int_equal (harness_stop (&s_harness, SIGTERM, S_DEADLINE), 0);
        assert_int_equal (harness_proc_say (&node, "stopped"), 0);
        if (harness_proc_wait_out (&node, "START", S_RUN_MS)) {
            s_start ();
            assert_int_equal (harness_proc_say (&node, "started"), 0);
        }
        if (harness_proc_wait_out (&node, "AUTH", S_RUN_MS)) {
            assert_int_equal (harness_stop (&s_harness, SIGTERM, S_DEADLINE), 0);
            s_config (true);
            s_start ();
            assert_int_equal (harness_proc_say (&node, "auth"), 0);
            passed = harness_proc_wait_out (&node, "PASS", S_RUN_MS);
        }
    }
    int code = harness_proc_finish (&node, S_DEADLINE);
    s_print_log (log);
    fprintf (stderr, "browser test: %.1f s, exit %d\n", (zclock_mono () - started) / 1000.0, code);
    if (!passed || code != 0)
        fail_msg ("the dashboard's browser test failed (its log is above)");
    struct stat info;
    assert_int_equal (stat (shot, &info), 0);
    assert_true (info.st_size > 10000);
    fprintf (stderr, "screenshot: %s (%lld bytes)\n", shot, (long long)info.st_size);
    harness_fini (&s_harness);
}

//  Chromium, node and the script's packages, or NULL with what is missing.
static const char *
s_missing (void)
{
    const char *chromium = getenv ("CHROMIUM");
    snprintf (s_chromium, sizeof s_chromium, "%s", chromium ? chromium : "/usr/bin/chromium");
    if (access (s_chromium, X_OK) != 0)
        return "no chromium (scripts/deps.sh installs Debian's)";
    if (access ("/usr/bin/node", X_OK) != 0)
        return "no /usr/bin/node";
    const char *source = getenv ("JOBD_SOURCE_DIR");
    snprintf (s_script, sizeof s_script, "%s/tests/browser/dashboard.test.mjs",
              source ? source : ".");
    char modules[600];
    snprintf (modules, sizeof modules, "%s/tests/browser/node_modules/playwright-core/package.json",
              source ? source : ".");
    if (access (modules, R_OK) != 0)
        return "no tests/browser/node_modules (scripts/deps.sh runs npm ci there)";
    return NULL;
}

int
main (void)
{
    const char *missing = s_missing ();
    if (missing) {
        printf ("SKIP: %s\n", missing);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_dashboard_in_chromium),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
