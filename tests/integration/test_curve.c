//  Authenticated TCP: jobd serves network endpoints with CURVE (zauth: only clients whose public
//  key is in curve_clients get in), refuses plain TCP unless insecure = true, and warns of a
//  wildcard address. Driven through jobd --keygen, jobctl keygen and jobctl itself.
#include "harness.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static harness_t s_harness;
static char s_admin[64], s_events[64];
static char s_server_key[400], s_server_pub[400], s_clients[400];
static char s_client_key[400], s_wrong_key[400];

//  Two distinct TCP ports free a moment ago (the kernel's picks for two sockets now closed).
static void
s_free_ports (int *admin_p, int *events_p)
{
    zsock_t *admin = zsock_new (ZMQ_ROUTER);
    zsock_t *events = zsock_new (ZMQ_ROUTER);
    *admin_p = zsock_bind (admin, "tcp://127.0.0.1:*");
    *events_p = zsock_bind (events, "tcp://127.0.0.1:*");
    zsock_destroy (&admin);
    zsock_destroy (&events);
    assert_true (*admin_p > 0 && *events_p > 0);
}

static int
s_setup (void **state)
{
    harness_init (&s_harness, "curve");
    int admin, events;
    s_free_ports (&admin, &events);
    snprintf (s_admin, sizeof s_admin, "tcp://127.0.0.1:%d", admin);
    snprintf (s_events, sizeof s_events, "tcp://127.0.0.1:%d", events);
    snprintf (s_server_key, sizeof s_server_key, "%s/server.key", s_harness.dir);
    snprintf (s_server_pub, sizeof s_server_pub, "%s/server.key.pub", s_harness.dir);
    snprintf (s_clients, sizeof s_clients, "%s/clients", s_harness.dir);
    snprintf (s_client_key, sizeof s_client_key, "%s/client.key", s_harness.dir);
    snprintf (s_wrong_key, sizeof s_wrong_key, "%s/wrong.key", s_harness.dir);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  The harness's config with TCP endpoints, then extra core keys, and no plugins.
static void
s_config (const char *admin, const char *events, const char *core)
{
    char extra[2048];
    snprintf (extra, sizeof extra, "    admin = %s\n    events = %s\n%splugins\n", admin, events,
              core);
    harness_write_config (&s_harness, extra);
}

static void
s_config_curve (void)
{
    char core[1200];
    snprintf (core, sizeof core, "    curve_key = %s\n    curve_clients = %s\n", s_server_key,
              s_clients);
    s_config (s_admin, s_events, core);
}

//  jobctl stats on the admin endpoint with key (and the server's public key), or none.
static int
s_stats (const char *key, char *err, size_t err_size)
{
    char out[8192];
    const char *with_key[] = {"--admin",    s_admin,     "--curve-key", key,     "--server-key",
                              s_server_pub, "--timeout", "15000",       "stats", NULL};
    const char *plain[] = {"--admin", s_admin, "--timeout", "15000", "stats", NULL};
    return harness_run_bin ("jobctl", key ? with_key : plain, out, sizeof out, err, err_size);
}

static void
test_plain_tcp_is_refused_unless_insecure (void **state)
{
    char err[4096];
    const char *check[] = {"-c", s_harness.config, "--check", NULL};
    s_config (s_admin, s_events, "");
    assert_int_equal (harness_run_bin ("jobd", check, NULL, 0, err, sizeof err), 3);
    assert_non_null (strstr (err, "'core/admin'"));
    assert_non_null (strstr (err, "is not authenticated: network endpoints need CURVE"));
    const char *run[] = {"-c", s_harness.config, NULL};
    assert_int_equal (harness_run_bin ("jobd", run, NULL, 0, err, sizeof err), 3);
    //  A wildcard address is warned of (checked without binding it).
    s_config ("tcp://0.0.0.0:1", "tcp://*:2", "    insecure = true\n");
    assert_int_equal (harness_run_bin ("jobd", check, NULL, 0, err, sizeof err), 0);
    assert_non_null (strstr (err, "admin endpoint tcp://0.0.0.0:1 listens on every address"));
    assert_non_null (strstr (err, "events endpoint tcp://*:2 listens on every address"));
    //  insecure = true, written out: plain TCP works, with a warning.
    s_config (s_admin, s_events, "    insecure = true\n");
    snprintf (s_harness.admin, sizeof s_harness.admin, "%s", s_admin);
    snprintf (s_harness.events, sizeof s_harness.events, "%s", s_events);
    assert_true (harness_start (&s_harness) > 0);
    assert_int_equal (s_stats (NULL, err, sizeof err), 0);
    assert_true (harness_log_contains (&s_harness, "is plain TCP (insecure = true)"));
    zsock_t *sub = harness_subscribe (&s_harness, "job.", 15000);
    assert_non_null (sub);
    zsock_destroy (&sub);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
}

static void
test_curve_lets_in_only_listed_keys (void **state)
{
    char out[4096], err[4096];
    s_config_curve ();
    const char *keygen[] = {"-c", s_harness.config, "--keygen", NULL};
    assert_int_equal (harness_run_bin ("jobd", keygen, out, sizeof out, err, sizeof err), 0);
    struct stat info;
    assert_int_equal (stat (s_server_key, &info), 0);
    assert_int_equal (info.st_mode & 0777, 0600);
    //  Never replaces a key.
    assert_int_equal (harness_run_bin ("jobd", keygen, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, "File exists"));
    const char *client[] = {"keygen", s_client_key, NULL};
    const char *wrong[] = {"keygen", s_wrong_key, NULL};
    assert_int_equal (harness_run_bin ("jobctl", client, out, sizeof out, err, sizeof err), 0);
    assert_int_equal (harness_run_bin ("jobctl", wrong, out, sizeof out, err, sizeof err), 0);
    assert_int_equal (stat (s_client_key, &info), 0);
    assert_int_equal (info.st_mode & 0777, 0600);
    char listed[600];
    snprintf (listed, sizeof listed, "%s/client.key.pub", s_clients);
    assert_int_equal (rename (strcat (strcpy (out, s_client_key), ".pub"), listed), 0);

    assert_true (harness_start (&s_harness) > 0);
    //  The right key gets in (and waits for jobd to be up).
    assert_int_equal (s_stats (s_client_key, err, sizeof err), 0);
    //  A key not in curve_clients is refused, and so is a client without CURVE.
    assert_int_equal (s_stats (s_wrong_key, err, sizeof err), 1);
    assert_non_null (strstr (err, "refused our key"));
    assert_int_equal (s_stats (NULL, err, sizeof err), 1);
    assert_non_null (strstr (err, "needs CURVE keys"));
    //  jobctl's own config file gives the same (and is held to the same trust as jobd's).
    char jobctl_config[600];
    snprintf (jobctl_config, sizeof jobctl_config, "%s/jobctl.cfg", s_harness.dir);
    FILE *file = fopen (jobctl_config, "w");
    assert_non_null (file);
    fprintf (file, "jobctl\n    admin = %s\n    curve_key = %s\n    server_key = %s\n", s_admin,
             s_client_key, s_server_pub);
    fclose (file);
    const char *from_config[] = {"-c", jobctl_config, "--timeout", "15000", "stats", NULL};
    assert_int_equal (harness_run_bin ("jobctl", from_config, out, sizeof out, err, sizeof err), 0);
    assert_int_equal (chmod (jobctl_config, 0666), 0);
    assert_int_equal (harness_run_bin ("jobctl", from_config, out, sizeof out, err, sizeof err), 2);
    assert_non_null (strstr (err, "is writable by everyone"));
    //  jobd logs and counts whom it refused.
    assert_true (harness_wait_log (&s_harness,
                                   "refused 1 client (CURVE: a key not in curve_clients)", 10000));
    assert_true (harness_wait_log (&s_harness,
                                   "(handshake failed: no CURVE, or the wrong server key)", 10000));
    //  The events endpoint too: jobctl watch is welcomed with the right key only.
    char jobctl[512];
    harness_bin ("jobctl", jobctl, sizeof jobctl);
    char *watch[] = {jobctl,         "--events",   s_events, "--curve-key", s_client_key,
                     "--server-key", s_server_pub, "watch",  NULL};
    harness_proc_t *proc = (harness_proc_t *)malloc (sizeof (harness_proc_t));
    assert_int_equal (harness_spawn (proc, watch), 0);
    assert_true (harness_proc_wait_err (proc, "watching", 15000));
    kill (proc->pid, SIGTERM);
    harness_proc_finish (proc, 10000);
    watch[4] = s_wrong_key;
    assert_int_equal (harness_spawn (proc, watch), 0);
    assert_int_equal (harness_proc_finish (proc, 15000), 1);
    assert_non_null (strstr (proc->err, "refused our key"));
    free (proc);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);

    //  A client key file others can write lets them in: refused, naming the file.
    assert_int_equal (chmod (listed, 0666), 0);
    const char *vet[] = {"-c", s_harness.config, "--check", NULL};
    assert_int_equal (harness_run_bin ("jobd", vet, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, "client.key.pub"));
    assert_int_equal (chmod (listed, 0644), 0);
    assert_int_equal (harness_run_bin ("jobd", vet, out, sizeof out, err, sizeof err), 0);

    //  A secret key others can read is no secret: refused.
    assert_int_equal (chmod (s_server_key, 0640), 0);
    const char *check[] = {"-c", s_harness.config, "--check", NULL};
    assert_int_equal (harness_run_bin ("jobd", check, out, sizeof out, err, sizeof err), 3);
    assert_non_null (strstr (err, "is no secret"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_plain_tcp_is_refused_unless_insecure, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_curve_lets_in_only_listed_keys, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
