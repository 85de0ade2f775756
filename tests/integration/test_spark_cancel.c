//  Cancelling Spark jobs when the backend says no: a YARN ResourceManager that wants a user
//  (403 without user.name) or a delegation token, a kill that YARN accepts but never carries out,
//  Livy without modify access (403), a standby standalone master (success:false with HTTP 200).
//  Each refusal is logged, recorded on the job (jobctl show, --json), published, and reported
//  by `jobctl cancel --wait` with its own exit code; the real jobd, plugin, jobctl and HTTP.
#include "harness_spark.h"
#include "jobd_map.h"
#include "jobd_plugin.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_TOKEN "dt-7f3a9c-secret-token" //  must never show in a log or in jobctl's output

static harness_t s_harness;
static harness_proc_t s_sim;
static int s_port;
static zsock_t *s_sub;   //  every transition, from the start
static zlistx_t *s_seen; //  transitions received so far: a wait looks here first

static json_t *
s_sim_call (const char *method, const char *path, const char *body)
{
    json_t *json = harness_spark_call (s_port, method, path, body);
    assert_non_null (json);
    return json;
}

static void
s_sim_config (const char *body)
{
    json_decref (s_sim_call ("POST", "/sim/config", body));
}

static int
s_setup (void **state)
{
    harness_init (&s_harness, "spark-cancel");
    s_seen = zlistx_new ();
    zlistx_set_destructor (s_seen, (zlistx_destructor_fn *)jobd_event_destroy);
    const char *const args[] = {"--scenario", "queue=50,run=60000,outcome=success",
                                "--kill-delay-ms", "100", NULL};
    s_port = harness_spark_sim (&s_sim, &s_harness, args);
    assert_true (s_port > 0);
    char token_file[400];
    snprintf (token_file, sizeof token_file, "%s/yarn.token", s_harness.dir);
    FILE *file = fopen (token_file, "w");
    assert_non_null (file);
    fprintf (file, "%s\n", S_TOKEN);
    fclose (file);
    chmod (token_file, 0600);
    char extra[4096];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "        interval_min = 50ms\n"
              "        interval_max = 200ms\n"
              "        list_interval = 200ms\n"
              "        cancel_timeout = 1s\n"
              "        cancel_retries = 1\n"
              "        backend\n"
              "            yarn\n"
              "                type = yarn\n"
              "                url = http://127.0.0.1:%d\n"
              "            yarnu\n"
              "                type = yarn\n"
              "                url = http://127.0.0.1:%d\n"
              "                user = alice\n"
              "            yarnt\n"
              "                type = yarn\n"
              "                url = http://127.0.0.1:%d\n"
              "                auth = delegation\n"
              "                token_file = %s\n"
              "            yarnk\n"
              "                type = yarn\n"
              "                url = http://127.0.0.1:%d\n"
              "                auth = kerberos\n"
              "            livy\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:%d\n"
              "            master\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "            livyt\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:%d\n"
              "                timeout = 800ms\n",
              harness_build_dir (), s_port, s_port, s_port, token_file, s_port, s_port, s_port,
              s_port);
    harness_write_config (&s_harness, extra);
    harness_start (&s_harness);
    assert_true (harness_wait_ready (&s_harness, 10000));
    s_sub = harness_subscribe (&s_harness, "job.", 5000);
    assert_non_null (s_sub);
    return 0;
}

static int
s_teardown (void **state)
{
    zsock_destroy (&s_sub);
    harness_stop (&s_harness, SIGTERM, 10000);
    kill (s_sim.pid, SIGTERM);
    harness_proc_finish (&s_sim, 10000);
    harness_fini (&s_harness);
    zlistx_destroy (&s_seen);
    return 0;
}

//  Back to a sim that asks nothing, before each test.
static int
s_reset (void **state)
{
    s_sim_config ("{\"yarn_require_user\":false,\"kill_ignore\":false,\"yarn_negotiate\":false,"
                  "\"yarn_delegation_token\":\"\",\"livy_modify_users\":\"\",\"standby\":false}");
    return 0;
}

//  Waits for job to reach state, with a deadline.
static void
s_wait_state (const char *job, jobd_state_t state, int timeout_ms)
{
    if (!harness_wait_job_state (s_sub, s_seen, job, state, timeout_ms))
        fail_msg ("%s never reached %s", job, jobd_state_name (state));
}

//  Sends an event (consumed) to jobd's admin endpoint; the job it names goes into job.
static void
s_request (jobd_event_t **event_p, char *job, size_t size)
{
    uint8_t *data;
    size_t data_size;
    assert_int_equal (jobd_event_encode (*event_p, &data, &data_size, NULL, 0), 0);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, data_size, &reply, 5000), 0);
    assert_true (jobd_map_string (&reply.data, "job", job, size));
    msgpack_unpacked_destroy (&reply);
    free (data);
    jobd_event_destroy (event_p);
}

//  One application made in spark-sim's YARN (running for a minute), tracked by jobd on backend.
static void
s_yarn_app (const char *backend, char *app, size_t app_size, char *job, size_t job_size)
{
    json_t *json = s_sim_call ("POST", "/sim/jobs",
                               "{\"backend\":\"yarn\",\"count\":1,\"tags\":[\"jobd\"],"
                               "\"scenario\":\"queue=50,run=60000,outcome=success\"}");
    snprintf (app, app_size, "%s",
              json_string_value (json_array_get (json_object_get (json, "ids"), 0)));
    json_decref (json);
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->source, "test");
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, backend);
    jobd_event_set (&track->ext, app);
    s_request (&track, job, job_size);
    s_wait_state (job, JOBD_STATE_RUNNING, 10000);
}

//  A job submitted to a submitting backend (livy, master), once RUNNING there.
static void
s_submitted (const char *backend, char *job, size_t size)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->backend, backend);
    jobd_event_set (&submit->spec, "{\"appResource\":\"hdfs:///jobs/etl.jar\",\"mainClass\":"
                                   "\"com.example.Etl\",\"sparkProperties\":{\"spark.sim."
                                   "scenario\":\"queue=50,run=60000,outcome=success\"}}");
    s_request (&submit, job, size);
    s_wait_state (job, JOBD_STATE_RUNNING, 10000);
}

//  Runs jobctl against this jobd: its exit code, stdout in out, stderr in err.
static int
s_jobctl (char *out, size_t out_size, char *err, size_t err_size, ...)
{
    char binary[512];
    char *argv[16] = {(char *)harness_bin ("jobctl", binary, sizeof binary), "--run-dir",
                      s_harness.run_dir};
    int argc = 3;
    va_list args;
    va_start (args, err_size);
    for (char *arg = va_arg (args, char *); arg && argc < 15; arg = va_arg (args, char *))
        argv[argc++] = arg;
    va_end (args);
    argv[argc] = NULL;
    out[0] = err[0] = 0;
    return harness_run (argv, out, out_size, err, err_size, 60000);
}

//  `jobctl cancel JOB --wait`: its exit code, stderr in err.
static int
s_cancel_wait (const char *job, char *err, size_t err_size)
{
    char out[4096];
    int64_t started = zclock_mono ();
    int code = s_jobctl (out, sizeof out, err, err_size, "cancel", (char *)job, "--wait",
                         "--timeout", "30s", NULL);
    print_message ("jobctl cancel %s --wait: exit %d in %lld ms\n%s%s", job, code,
                   (long long)(zclock_mono () - started), out, err);
    return code;
}

//  The job as `jobctl show --json` gives it.
static json_t *
s_show_json (const char *job)
{
    char out[65536], err[4096];
    assert_int_equal (
        s_jobctl (out, sizeof out, err, sizeof err, "show", (char *)job, "--json", NULL), 0);
    json_error_t error;
    json_t *json = json_loads (out, 0, &error);
    assert_non_null (json);
    json_t *record = json_incref (json_object_get (json, "job"));
    json_decref (json);
    return record;
}

static void
s_expect_cancel (const char *job, const char *status, const char *text)
{
    char out[65536], err[4096];
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "show", (char *)job, NULL), 0);
    char line[64];
    snprintf (line, sizeof line, "cancel:       %s at ", status);
    if (!strstr (out, line) || !strstr (out, text))
        fail_msg ("jobctl show %s has no '%s' cancel saying '%s':\n%s", job, status, text, out);
    json_t *record = s_show_json (job);
    assert_string_equal (json_string_value (json_object_get (record, "cancel_status")), status);
    assert_non_null (strstr (json_string_value (json_object_get (record, "cancel_error")), text));
    assert_true (json_integer_value (json_object_get (record, "cancel_at")) > 0);
    json_decref (record);
}

//  1. YARN without a user: 403 "Unable to obtain user name". Refused, recorded, and reported;
//  the job runs on. With `user` (simple auth: user.name) the same kill works.
static void
test_yarn_kill_refused_without_user (void **state)
{
    s_sim_config ("{\"yarn_require_user\":true}");
    char app[64], job[64], err[8192];
    s_yarn_app ("yarn", app, sizeof app, job, sizeof job);
    //  jobctl watch sees the refusal too: the only event of this job from now on.
    char binary[512];
    char *watch_argv[] = {(char *)harness_bin ("jobctl", binary, sizeof binary),
                          "--run-dir",
                          s_harness.run_dir,
                          "watch",
                          "--job",
                          job,
                          "--count",
                          "1",
                          NULL};
    harness_proc_t watch;
    assert_int_equal (harness_spawn (&watch, watch_argv), 0);
    assert_true (harness_proc_wait_err (&watch, "watching", 10000));
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 5);
    assert_int_equal (harness_proc_finish (&watch, 10000), 0);
    assert_non_null (strstr (watch.out, "CANCEL refused at backend yarn: backend yarn refused"));
    assert_non_null (strstr (err, "was refused"));
    assert_non_null (strstr (err, "Unable to obtain user name, user not authenticated"));
    s_expect_cancel (job, "refused", "HTTP 403: Unable to obtain user name");
    assert_true (harness_log_contains (&s_harness, "cancel refused at backend yarn"));
    json_t *record = s_show_json (job);
    assert_string_equal (json_string_value (json_object_get (record, "state")), "RUNNING");
    json_decref (record);

    //  An application followed through a backend with a user (simple auth): killed.
    char job_u[64];
    s_yarn_app ("yarnu", app, sizeof app, job_u, sizeof job_u);
    assert_int_equal (s_cancel_wait (job_u, err, sizeof err), 0);
    s_wait_state (job_u, JOBD_STATE_CANCELLED, 10000);
}

//  2. A delegation token from a file: the kill works, and the token shows nowhere.
static void
test_yarn_kill_with_delegation_token (void **state)
{
    s_sim_config ("{\"yarn_require_user\":true,\"yarn_delegation_token\":\"" S_TOKEN "\"}");
    char app[64], job[64], err[8192];
    s_yarn_app ("yarnt", app, sizeof app, job, sizeof job);
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 0);
    //  A wrong token is refused the same way as a missing user.
    s_sim_config ("{\"yarn_delegation_token\":\"another\"}");
    s_yarn_app ("yarnt", app, sizeof app, job, sizeof job);
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 5);
    assert_non_null (strstr (err, "InvalidToken"));
    char out[65536];
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "show", job, NULL), 0);
    assert_null (strstr (out, S_TOKEN));
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "plugins", NULL), 0);
    assert_null (strstr (out, S_TOKEN));
    assert_false (harness_log_contains (&s_harness, S_TOKEN));
}

//  3. Kerberos without a ticket: the RM's 401 Negotiate challenge cannot be met; refused, with
//  what the RM said.
static void
test_yarn_kill_kerberos_challenge_refused (void **state)
{
    char app[64], job[64], err[8192];
    s_yarn_app ("yarnk", app, sizeof app, job, sizeof job);
    s_sim_config ("{\"yarn_negotiate\":true}");
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 5);
    assert_non_null (strstr (err, "HTTP 401"));
    s_expect_cancel (job, "refused", "HTTP 401");
}

//  4. YARN takes the kill (202) and never carries it out: after cancel_timeout the kill is sent
//  again (retrying, recorded and published), then given up (failed).
static void
test_yarn_kill_without_effect_is_retried_then_failed (void **state)
{
    s_sim_config ("{\"kill_ignore\":true}");
    char app[64], job[64], err[8192];
    s_yarn_app ("yarnu", app, sizeof app, job, sizeof job);
    int64_t started = zclock_mono ();
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 5);
    print_message ("gave up after %lld ms\n", (long long)(zclock_mono () - started));
    assert_non_null (strstr (err, "did not work yet, trying again"));
    assert_non_null (strstr (err, "did not take effect"));
    assert_non_null (strstr (err, "the kill was accepted but"));
    s_expect_cancel (job, "failed", "is still RUNNING at backend yarnu");
    json_t *stats = s_sim_call ("GET", "/sim/stats", NULL);
    json_int_t kills = json_integer_value (json_object_get (
        json_object_get (stats, "endpoints"), "PUT /ws/v1/cluster/apps/{appid}/state"));
    json_decref (stats);
    assert_true (kills >= 2);
}

//  5. Livy without modify access: 403 on DELETE.
static void
test_livy_kill_refused (void **state)
{
    s_sim_config ("{\"livy_modify_users\":\"admin\"}");
    char job[64], err[8192];
    s_submitted ("livy", job, sizeof job);
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 5);
    assert_non_null (strstr (err, "does not have modify access"));
    s_expect_cancel (job, "refused", "HTTP 403");
}

//  6. A standby standalone master: success:false with HTTP 200 is a refusal.
static void
test_standalone_kill_refused (void **state)
{
    char job[64], err[8192];
    s_submitted ("master", job, sizeof job);
    s_sim_config ("{\"standby\":true}");
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 5);
    assert_non_null (strstr (err, "Current state is not alive"));
    s_expect_cancel (job, "refused", "Can only kill drivers in ALIVE state");
    //  Once the master is back, a second cancel works: CANCELLED.
    s_sim_config ("{\"standby\":false}");
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 0);
}

//  7. jobd killed while a kill is on its way: the record says the cancel was requested, and the
//  restarted poller kills the job without being asked again.
static void
test_cancel_is_seen_through_after_a_restart (void **state)
{
    char app[64], job[64], out[4096], err[4096];
    s_yarn_app ("yarnu", app, sizeof app, job, sizeof job);
    //  The kill hangs at the RM (and would do nothing): jobd dies before any answer.
    s_sim_config ("{\"kill_ignore\":true}");
    json_decref (s_sim_call ("POST", "/sim/fault",
                             "{\"mode\":\"slow\",\"delay_ms\":8000,\"backend\":\"yarn\","
                             "\"prefix\":\"/ws/v1/cluster/apps/application_\"}"));
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "cancel", job, NULL), 0);
    assert_int_equal (harness_stop (&s_harness, SIGKILL, 5000), 128 + SIGKILL);
    json_decref (s_sim_call ("DELETE", "/sim/fault", NULL));
    s_sim_config ("{\"kill_ignore\":false}");
    zsock_destroy (&s_sub);
    harness_start (&s_harness);
    assert_true (harness_wait_ready (&s_harness, 10000));
    s_sub = harness_subscribe (&s_harness, "job.", 5000);
    assert_non_null (s_sub);
    s_wait_state (job, JOBD_STATE_CANCELLED, 15000);
    assert_true (harness_log_contains (&s_harness, "its cancel was not seen through"));
}

//  8. The other ends of `jobctl cancel --wait`: the job ends otherwise while its kill does
//  nothing (6), no outcome before --timeout (7), a job already ended (1), no such job (4).
static void
test_cancel_wait_exit_codes (void **state)
{
    s_sim_config ("{\"kill_ignore\":true}");
    char app[64], job[64], out[4096], err[8192];
    json_t *json = s_sim_call ("POST", "/sim/jobs",
                               "{\"backend\":\"yarn\",\"count\":1,\"tags\":[\"jobd\"],"
                               "\"scenario\":\"queue=50,run=1500,outcome=success\"}");
    snprintf (app, sizeof app, "%s",
              json_string_value (json_array_get (json_object_get (json, "ids"), 0)));
    json_decref (json);
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->source, "test");
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, "yarnu");
    jobd_event_set (&track->ext, app);
    s_request (&track, job, sizeof job);
    s_wait_state (job, JOBD_STATE_RUNNING, 10000);
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 6);
    assert_non_null (strstr (err, "ended SUCCEEDED before its kill took effect"));
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "cancel", job, "--wait", NULL),
                      1);
    assert_int_equal (
        s_jobctl (out, sizeof out, err, sizeof err, "cancel", "job-999", "--wait", NULL), 4);

    char running[64];
    s_yarn_app ("yarnu", app, sizeof app, running, sizeof running);
    //  A bare --timeout is milliseconds, as for every jobctl command.
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "cancel", running, "--wait",
                                "--timeout", "300", NULL),
                      7);
    assert_non_null (strstr (err, "no word from its backend within 0.3 s"));
}

//  9. Livy answers a DELETE once the stop finishes, which can outlast jobd's timeout: the DELETE
//  sent again finds the batch gone (404), and that is the first one's success, not a refusal.
static void
test_livy_slow_delete_then_404_is_cancelled (void **state)
{
    char job[64], err[8192];
    s_submitted ("livyt", job, sizeof job);
    //  The first DELETE is carried out after 1 s (jobd gave up at 0.8 s); the second waits 0.6 s
    //  more, when the batch is already gone.
    json_decref (s_sim_call ("POST", "/sim/fault",
                             "{\"mode\":\"slow\",\"delay_ms\":1000,\"count\":1,"
                             "\"backend\":\"livy\",\"prefix\":\"/batches/\"}"));
    json_decref (s_sim_call ("POST", "/sim/fault",
                             "{\"mode\":\"slow\",\"delay_ms\":600,\"count\":1,"
                             "\"backend\":\"livy\",\"prefix\":\"/batches/\"}"));
    assert_int_equal (s_cancel_wait (job, err, sizeof err), 0);
    assert_non_null (strstr (err, "did not work yet, trying again"));
    json_decref (s_sim_call ("DELETE", "/sim/fault", NULL));
}

//  10. A job cancelled while QUEUED, its create already out: the driver the master then makes is
//  killed, not left to run unseen.
static void
test_cancel_while_the_create_is_out_kills_the_driver (void **state)
{
    json_decref (s_sim_call ("POST", "/sim/fault",
                             "{\"mode\":\"slow\",\"delay_ms\":1500,\"backend\":\"standalone\","
                             "\"prefix\":\"/v1/submissions/create\",\"count\":1}"));
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->backend, "master");
    jobd_event_set (&submit->spec, "{\"appResource\":\"hdfs:///jobs/etl.jar\",\"mainClass\":"
                                   "\"com.example.Late\",\"sparkProperties\":{\"spark.sim."
                                   "scenario\":\"queue=50,run=60000,outcome=success\"}}");
    char job[64], out[4096], err[4096];
    s_request (&submit, job, sizeof job);
    //  The submission mark is durable: the create is on its way (and held 1.5 s by the fault).
    int64_t deadline = zclock_mono () + 10000;
    bool marked = false;
    while (!marked && zclock_mono () < deadline) {
        json_t *record = s_show_json (job);
        const char *ext = json_string_value (json_object_get (record, "ext"));
        marked = ext && *ext;
        json_decref (record);
        if (!marked)
            poll (NULL, 0, 20); //  polling the record with a deadline: the mark makes no event
    }
    assert_true (marked);
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "cancel", job, NULL), 0);
    s_wait_state (job, JOBD_STATE_CANCELLED, 5000);
    //  The answer comes; the driver it names is killed.
    harness_wait_log (&s_harness, "ended while its create was out", 15000);
    char log[1 << 16] = "";
    FILE *file = fopen (s_harness.log, "r");
    assert_non_null (file);
    log[fread (log, 1, sizeof log - 1, file)] = 0;
    fclose (file);
    const char *made = strstr (log, "made it as ");
    if (!made)
        fail_msg ("no word of the unwanted driver in jobd's log:\n%s", log);
    char driver[64] = "", path[128];
    sscanf (made + strlen ("made it as "), "%63[^:]", driver);
    snprintf (path, sizeof path, "/v1/submissions/status/%s", driver);
    const char *driver_state = NULL;
    deadline = zclock_mono () + 10000;
    json_t *status = NULL;
    while (zclock_mono () < deadline) {
        json_decref (status);
        status = s_sim_call ("GET", path, NULL);
        driver_state = json_string_value (json_object_get (status, "driverState"));
        if (driver_state && strcmp (driver_state, "KILLED") == 0)
            break;
        poll (NULL, 0, 50); //  the master's kill takes --kill-delay-ms
    }
    if (!driver_state || strcmp (driver_state, "KILLED") != 0)
        fail_msg ("driver %s is %s, not KILLED", driver, driver_state ? driver_state : "(unknown)");
    json_decref (status);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup (test_yarn_kill_refused_without_user, s_reset),
        cmocka_unit_test_setup (test_yarn_kill_with_delegation_token, s_reset),
        cmocka_unit_test_setup (test_yarn_kill_kerberos_challenge_refused, s_reset),
        cmocka_unit_test_setup (test_yarn_kill_without_effect_is_retried_then_failed, s_reset),
        cmocka_unit_test_setup (test_livy_kill_refused, s_reset),
        cmocka_unit_test_setup (test_standalone_kill_refused, s_reset),
        cmocka_unit_test_setup (test_cancel_is_seen_through_after_a_restart, s_reset),
        cmocka_unit_test_setup (test_cancel_wait_exit_codes, s_reset),
        cmocka_unit_test_setup (test_livy_slow_delete_then_404_is_cancelled, s_reset),
        cmocka_unit_test_setup (test_cancel_while_the_create_is_out_kills_the_driver, s_reset),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
