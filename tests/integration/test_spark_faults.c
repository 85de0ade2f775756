//  spark-poller against spark-sim when things go wrong: backend faults (down, 5xx, HTML, garbage,
//  truncated, slow) keep jobs in their last state with bounded retries and heal by themselves;
//  jobs a backend forgets become LOST only after the grace; a standby master delays submissions
//  without duplicates; YARN and history server applications tracked with jobctl; jobd restarted
//  mid-polling (SIGTERM and SIGKILL) resumes without submitting twice; Livy forgetting a
//  finished batch is normal. One spark-sim and one jobd for the whole file; short intervals.
#include "harness_spark.h"
#include "jobd_map.h"
#include "jobd_job.h"
#include "jobd_plugin.h"
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOST_AFTER_MS 500

static harness_t s_harness;
static harness_proc_t s_simulator;
static int s_port;
static zsock_t *s_sub;

//  Every transition received so far, with the time it came: a wait looks here first.
typedef struct {
    jobd_event_t *event;
    int64_t at;
} s_seen_t;
static zlistx_t *s_seen;

static void
s_seen_destroy (s_seen_t **self_p)
{
    if (*self_p) {
        jobd_event_destroy (&(*self_p)->event);
        free (*self_p);
        *self_p = NULL;
    }
}

//  ---------------------------------------------------------------------------------------------
//  spark-sim over HTTP

//  A control request (/sim/...): its JSON reply, or the test fails.
static json_t *
s_sim (const char *method, const char *path, const char *body)
{
    json_t *json = harness_spark_call (s_port, method, path, body);
    if (!json)
        fail_msg ("spark-sim %s %s failed (above)", method, path);
    return json;
}

static void
s_sim_do (const char *method, const char *path, const char *body)
{
    json_t *json = s_sim (method, path, body);
    json_decref (json);
}

//  A counter of /sim/stats: group "endpoints" or "backends" and its key (0 when absent).
static int64_t
s_stat (const char *group, const char *key)
{
    json_t *json = s_sim ("GET", "/sim/stats", NULL);
    int64_t count =
        (int64_t)json_integer_value (json_object_get (json_object_get (json, group), key));
    json_decref (json);
    return count;
}

//  How many jobs of a backend spark-sim holds (/sim/health).
static int64_t
s_sim_jobs (const char *backend)
{
    json_t *json = s_sim ("GET", "/sim/health", NULL);
    int64_t count =
        (int64_t)json_integer_value (json_object_get (json_object_get (json, "jobs"), backend));
    json_decref (json);
    return count;
}

//  Moves spark-sim's clock on: every job whose scenario ends within ms ends now.
static void
s_advance (int64_t ms)
{
    char body[64];
    snprintf (body, sizeof body, "{\"advance_ms\":%lld}", (long long)ms);
    s_sim_do ("POST", "/sim/clock", body);
}

//  Creates count applications on a follow-only backend (yarn, history); returns the id array.
static json_t *
s_sim_apps (const char *backend, const char *scenario, int count)
{
    char body[1024];
    snprintf (body, sizeof body,
              "{\"backend\":\"%s\",\"count\":%d,\"scenario\":\"%s\",\"tags\":[\"jobd\"]}", backend,
              count, scenario);
    json_t *json = s_sim ("POST", "/sim/jobs", body);
    json_t *ids = json_incref (json_object_get (json, "ids"));
    json_decref (json);
    assert_int_equal (json_array_size (ids), count);
    return ids;
}

//  ---------------------------------------------------------------------------------------------
//  jobd: its log, admin requests, transitions

static long
s_log_size (void)
{
    struct stat info;
    return stat (s_harness.log, &info) == 0 ? (long)info.st_size : 0;
}

//  True when a line of jobd's log written after offset contains text and (when not NULL) also.
static bool
s_log_has (long offset, const char *text, const char *also)
{
    FILE *file = fopen (s_harness.log, "r");
    if (!file)
        return false;
    fseek (file, offset, SEEK_SET);
    char line[4096];
    bool found = false;
    while (!found && fgets (line, sizeof line, file))
        found = strstr (line, text) && (!also || strstr (line, also));
    fclose (file);
    return found;
}

static bool
s_wait_log (long offset, const char *text, const char *also, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!s_log_has (offset, text, also)) {
        if (zclock_mono () > deadline)
            return false;
        zclock_sleep (20);
    }
    return true;
}

static void
s_request (jobd_event_t *event, char *id, size_t size)
{
    jobd_event_set (&event->source, "test");
    uint8_t *data;
    size_t data_size;
    assert_int_equal (jobd_event_encode (event, &data, &data_size, NULL, 0), 0);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, data, data_size, &reply, 5000), 0);
    if (id)
        assert_true (jobd_map_string (&reply.data, "job", id, size));
    msgpack_unpacked_destroy (&reply);
    free (data);
    jobd_event_destroy (&event);
}

//  Submits a Spark job of main_class with a spark-sim scenario to a standalone or livy backend.
static void
s_submit_class (const char *backend, const char *main_class, const char *scenario, char *id,
                size_t size)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->backend, backend);
    char spec[1024];
    snprintf (spec, sizeof spec,
              "{\"appResource\":\"hdfs:///jobs/etl.jar\",\"mainClass\":\"%s\","
              "\"args\":[\"2026-11-28\"],\"sparkProperties\":{\"spark.sim.scenario\":\"%s\"}}",
              main_class, scenario);
    jobd_event_set (&submit->spec, spec);
    s_request (submit, id, size);
}

static void
s_submit (const char *backend, const char *scenario, char *id, size_t size)
{
    s_submit_class (backend, "com.example.Etl", scenario, id, size);
}

//  Tracks an application already at a backend (what `jobctl track` sends).
static void
s_track (const char *ext, const char *backend, char *id, size_t size)
{
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, backend);
    jobd_event_set (&track->ext, ext);
    s_request (track, id, size);
}

//  Runs jobctl against this jobd; returns its exit code, stdout in out.
static int
s_jobctl (char *out, size_t out_size, const char *first, ...)
{
    char binary[512];
    char *argv[16] = {(char *)harness_bin ("jobctl", binary, sizeof binary), "--run-dir",
                      s_harness.run_dir};
    int argc = 3;
    va_list args;
    va_start (args, first);
    for (const char *arg = first; arg && argc < 15; arg = va_arg (args, const char *))
        argv[argc++] = (char *)arg;
    va_end (args);
    argv[argc] = NULL;
    char err[1024];
    return harness_run (argv, out, out_size, err, sizeof err, 10000);
}

//  The job's record as jobd has it (a `show` query), fresh; the test fails when jobd does
//  not answer.
static jobd_job_t *
s_show (const char *id)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 5);
    const char *pairs[] = {"type", "query", "id", "test", "q", "show", "job", id};
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "v", 1);
    msgpack_pack_uint32 (&pk, JOBD_PROTO_VERSION);
    for (size_t index = 0; index < 8; index++) {
        msgpack_pack_str (&pk, strlen (pairs[index]));
        msgpack_pack_str_body (&pk, pairs[index], strlen (pairs[index]));
    }
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, buffer.data, buffer.size, &reply, 5000), 0);
    jobd_job_t *job = NULL;
    char reason[256];
    if (jobd_job_from_object (jobd_map_lookup (&reply.data, "job"), &job, reason, sizeof reason))
        fail_msg ("show %s: %s", id, reason);
    msgpack_unpacked_destroy (&reply);
    msgpack_sbuffer_destroy (&buffer);
    return job;
}

static jobd_state_t
s_state (const char *id)
{
    jobd_job_t *job = s_show (id);
    jobd_state_t state = job->state;
    jobd_job_destroy (&job);
    return state;
}

static s_seen_t *
s_find (const char *job, jobd_state_t state)
{
    for (s_seen_t *seen = (s_seen_t *)zlistx_first (s_seen); seen;
         seen = (s_seen_t *)zlistx_next (s_seen))
        if (strcmp (seen->event->job, job) == 0 && seen->event->state == state)
            return seen;
    return NULL;
}

//  Waits for job to reach state; returns the transition (borrowed) or fails the test. Also asks
//  jobd now and then, for transitions committed while no subscriber was connected (restarts).
static s_seen_t *
s_wait_state (const char *job, jobd_state_t state, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms, next_show = zclock_mono () + 250;
    zpoller_t *poller = zpoller_new (s_sub, NULL);
    s_seen_t *found = s_find (job, state);
    while (!found && zclock_mono () < deadline) {
        if (zpoller_wait (poller, 50) == s_sub) {
            zmsg_t *msg = zmsg_recv (s_sub);
            zframe_t *payload = zmsg_last (msg);
            jobd_event_t *event = NULL;
            if (zmsg_size (msg) == 2 &&
                jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) ==
                    0) {
                s_seen_t *seen = (s_seen_t *)zmalloc (sizeof (s_seen_t));
                seen->event = event;
                seen->at = zclock_mono ();
                zlistx_add_end (s_seen, seen);
                found = s_find (job, state);
            }
            zmsg_destroy (&msg);
        }
        if (!found && zclock_mono () >= next_show) {
            next_show = zclock_mono () + 250;
            jobd_job_t *record = s_show (job);
            if (record->state == state) {
                s_seen_t *seen = (s_seen_t *)zmalloc (sizeof (s_seen_t));
                seen->event = jobd_event_new (JOBD_EVENT_TRANSITION);
                jobd_event_set (&seen->event->job, job);
                jobd_event_set (&seen->event->ext, record->ext);
                jobd_event_set (&seen->event->error, record->error);
                seen->event->state = state;
                seen->at = zclock_mono ();
                zlistx_add_end (s_seen, seen);
                found = seen;
            }
            jobd_job_destroy (&record);
        }
    }
    zpoller_destroy (&poller);
    if (!found)
        fail_msg ("%s never reached %s (it is %s)", job, jobd_state_name (state),
                  jobd_state_name (s_state (job)));
    return found;
}

static void
s_subscribe (void)
{
    s_sub = zsock_new_sub (s_harness.events, "job.");
    zsock_set_subscribe (s_sub, JOBD_WELCOME_TOPIC);
    zsock_set_rcvtimeo (s_sub, 10000);
    char *welcome = zstr_recv (s_sub);
    assert_non_null (welcome);
    zstr_free (&welcome);
    zsock_set_rcvtimeo (s_sub, -1);
}

static void
s_start_jobd (void)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    s_subscribe ();
}

//  ---------------------------------------------------------------------------------------------

static int
s_setup (void **state)
{
    harness_init (&s_harness, "spark-faults");
    s_seen = zlistx_new ();
    zlistx_set_destructor (s_seen, (zlistx_destructor_fn *)s_seen_destroy);
    const char *const args[] = {"--kill-delay-ms", "100", "--scenario",
                                "queue=50,run=300,outcome=success", NULL};
    s_port = harness_spark_sim (&s_simulator, &s_harness, args);
    assert_true (s_port > 0);
    //  master: a standalone master polled job by job; ui: one listed by its /json/ page. The
    //  300 ms timeout is below the `slow` fault's delay.
    char extra[4096];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "        interval_min = 50ms\n"
              "        interval_max = 200ms\n"
              "        list_interval = 100ms\n"
              "        lost_after = %dms\n"
              "        backend\n"
              "            master\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "                master = spark://127.0.0.1:7077\n"
              "                timeout = 300ms\n"
              "            ui\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "                ui_url = http://127.0.0.1:%d\n"
              "            livy\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:%d\n"
              "                timeout = 300ms\n"
              "            yarn\n"
              "                type = yarn\n"
              "                url = http://127.0.0.1:%d\n"
              "            hs\n"
              "                type = history\n"
              "                url = http://127.0.0.1:%d\n",
              harness_build_dir (), LOST_AFTER_MS, s_port, s_port, s_port, s_port, s_port, s_port);
    harness_write_config (&s_harness, extra);
    s_start_jobd ();
    return 0;
}

static int
s_teardown (void **state)
{
    zsock_destroy (&s_sub);
    if (s_harness.pid)
        harness_stop (&s_harness, SIGTERM, 10000);
    kill (s_simulator.pid, SIGTERM);
    harness_proc_finish (&s_simulator, 10000);
    harness_fini (&s_harness);
    zlistx_destroy (&s_seen);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  1. Backend faults

//  One fault on the standalone master and on Livy while a job of each runs there. The jobs end
//  at the cluster during the fault (the clock is moved on): jobd cannot know, keeps RUNNING,
//  logs the backend's error, retries with backoff, and sees the end once the fault is cleared.
//  Waits until jobd's plugin table says spark-poller is `status`, with `text` in the part of its
//  detail about `backend` ("NAME (TYPE): ...; ...").
static void
s_wait_plugin (const char *status, const char *backend, const char *text, int timeout_ms)
{
    char now[64] = "", detail[2048] = "";
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        const char *part = NULL;
        if (harness_plugin (&s_harness, "spark-poller", now, sizeof now, detail, sizeof detail) ==
                0 &&
            strcmp (now, status) == 0 && (part = strstr (detail, backend))) {
            char segment[512];
            snprintf (segment, sizeof segment, "%.*s", (int)strcspn (part, ";"), part);
            if (strstr (segment, text))
                return;
        }
        zclock_sleep (20); //  the plugin table has no event to wait on: polled, with a deadline
    }
    fail_msg ("spark-poller is '%s' (%s), not '%s' with '%s...%s'", now, detail, status, backend,
              text);
}

static void
s_fault_case (const char *fault, const char *master_error, const char *livy_error)
{
    char master_job[64], livy_job[64];
    s_submit ("master", "queue=50,run=60000,outcome=success", master_job, sizeof master_job);
    s_submit ("livy", "queue=50,run=60000,outcome=success", livy_job, sizeof livy_job);
    s_wait_state (master_job, JOBD_STATE_RUNNING, 5000);
    s_wait_state (livy_job, JOBD_STATE_RUNNING, 5000);

    long offset = s_log_size ();
    int64_t before = s_stat ("backends", "standalone") + s_stat ("backends", "livy");
    int64_t start = zclock_mono ();
    char rule[512];
    snprintf (rule, sizeof rule, "{\"backend\":\"standalone\",%s}", fault);
    s_sim_do ("POST", "/sim/fault", rule);
    snprintf (rule, sizeof rule, "{\"backend\":\"livy\",%s}", fault);
    s_sim_do ("POST", "/sim/fault", rule);
    s_advance (120000);

    //  The backend's own error reaches jobd's log, for each backend.
    if (!s_wait_log (offset, "backend master: ", master_error, 5000))
        fail_msg ("jobd's log never said 'backend master: ...%s...'", master_error);
    if (!s_wait_log (offset, "backend livy: ", livy_error, 5000))
        fail_msg ("jobd's log never said 'backend livy: ...%s...'", livy_error);
    //  jobctl plugins shows it too: the plugin is degraded, each backend with its last error.
    s_wait_plugin ("degraded", "master (standalone): ", "failures in a row", 5000);
    s_wait_plugin ("degraded", "livy (livy): ", "failures in a row", 5000);

    //  A window of 1.5 s under the fault: the jobs keep their last state, jobd answers.
    while (zclock_mono () - start < 1500) {
        assert_int_equal (s_state (master_job), JOBD_STATE_RUNNING);
        assert_int_equal (s_state (livy_job), JOBD_STATE_RUNNING);
        assert_true (harness_count (&s_harness, JOBD_STATE_RUNNING) >= 2);
        zclock_sleep (100);
    }
    char out[4096];
    assert_int_equal (s_jobctl (out, sizeof out, "plugins", NULL), 0);
    assert_non_null (strstr (out, "spark-poller"));
    int64_t requests = s_stat ("backends", "standalone") + s_stat ("backends", "livy") - before;
    int64_t window = zclock_mono () - start;
    //  No spinning: backoff (100 ms, 200 ms, 400 ms, ... per backend) makes it about 10
    //  requests for both backends; a loop that retried at once would make thousands.
    print_message ("fault %s: %lld requests to the two backends in %lld ms\n", fault,
                   (long long)requests, (long long)window);
    assert_in_range (requests, 2, 40);

    s_sim_do ("DELETE", "/sim/fault", NULL);
    s_wait_state (master_job, JOBD_STATE_SUCCEEDED, 10000);
    s_wait_state (livy_job, JOBD_STATE_SUCCEEDED, 10000);
    assert_true (s_log_has (offset, "backend master answers again", NULL));
    assert_true (s_log_has (offset, "backend livy answers again", NULL));
    s_wait_plugin ("running", "livy (livy): ", "listed", 5000);
}

static void
test_fault_down (void **state)
{
    s_fault_case ("\"mode\":\"down\"", "Empty reply", "Empty reply");
}

static void
test_fault_5xx (void **state)
{
    s_fault_case ("\"mode\":\"http5xx\",\"status\":503", "HTTP 503", "HTTP 503");
}

static void
test_fault_html (void **state)
{
    s_fault_case ("\"mode\":\"html\"", "HTTP 502", "HTTP 502");
}

static void
test_fault_garbage (void **state)
{
    s_fault_case ("\"mode\":\"garbage\"", "unreadable status reply", "unreadable list reply");
}

static void
test_fault_truncated (void **state)
{
    s_fault_case ("\"mode\":\"truncated\"", "transfer closed", "transfer closed");
}

static void
test_fault_slow (void **state)
{
    s_fault_case ("\"mode\":\"slow\",\"delay_ms\":1000", "timed out", "timed out");
}

//  ---------------------------------------------------------------------------------------------
//  2. LOST after lost_after, not before

static void
s_expect_lost (const char *job, const char *backend)
{
    s_seen_t *running = s_wait_state (job, JOBD_STATE_RUNNING, 5000);
    int64_t running_at = running->at;
    s_seen_t *lost = s_wait_state (job, JOBD_STATE_LOST, 10000);
    //  The job vanishes after its run; it is LOST lost_after later, not as soon as it is gone.
    print_message ("%s (%s): LOST %lld ms after RUNNING\n", job, backend,
                   (long long)(lost->at - running_at));
    assert_true (lost->at - running_at >= LOST_AFTER_MS);
    assert_non_null (lost->event->error);
    char text[80];
    snprintf (text, sizeof text, "backend %s", backend);
    if (!strstr (lost->event->error, text))
        fail_msg ("LOST reason '%s' does not name the backend", lost->event->error);
}

static void
test_lost_after_grace (void **state)
{
    const char *scenario = "queue=50,run=300,outcome=vanish";
    char master_job[64], ui_job[64], livy_job[64], yarn_job[64];
    s_submit ("master", scenario, master_job, sizeof master_job);
    s_submit ("ui", scenario, ui_job, sizeof ui_job);
    s_submit ("livy", scenario, livy_job, sizeof livy_job);
    json_t *ids = s_sim_apps ("yarn", scenario, 1);
    s_track (json_string_value (json_array_get (ids, 0)), "yarn", yarn_job, sizeof yarn_job);
    json_decref (ids);
    s_expect_lost (master_job, "master");
    s_expect_lost (ui_job, "ui");
    s_expect_lost (livy_job, "livy");
    s_expect_lost (yarn_job, "yarn");
}

//  ---------------------------------------------------------------------------------------------
//  3. Standby master

static void
test_standby_master (void **state)
{
    char running[64], queued[3][64];
    s_submit ("master", "queue=50,run=60000,outcome=success", running, sizeof running);
    s_wait_state (running, JOBD_STATE_RUNNING, 5000);
    s_sim_do ("POST", "/sim/master/standby", "{\"standby\":true}");
    int64_t drivers = s_sim_jobs ("standalone");
    s_sim_do ("POST", "/sim/stats/reset", NULL);
    long offset = s_log_size ();
    for (int index = 0; index < 3; index++)
        s_submit ("master", "queue=50,run=200,outcome=success", queued[index], 64);
    //  The master refuses while standby; jobd says so and tries again.
    if (!s_wait_log (offset, "backend master: ", "STANDBY", 5000))
        fail_msg ("jobd's log never reported the standby master");
    int64_t deadline = zclock_mono () + 5000;
    while (s_stat ("endpoints", "POST /v1/submissions/create") < 6 && zclock_mono () < deadline)
        zclock_sleep (20);
    assert_true (s_stat ("endpoints", "POST /v1/submissions/create") >= 6);
    //  The running job ends at the cluster meanwhile; a standby master does not tell.
    s_advance (120000);
    for (int round = 0; round < 5; round++) {
        for (int index = 0; index < 3; index++)
            assert_int_equal (s_state (queued[index]), JOBD_STATE_QUEUED);
        assert_int_equal (s_state (running), JOBD_STATE_RUNNING);
        zclock_sleep (50);
    }
    assert_int_equal (s_sim_jobs ("standalone"), drivers);

    s_sim_do ("POST", "/sim/master/standby", "{\"standby\":false}");
    for (int index = 0; index < 3; index++)
        s_wait_state (queued[index], JOBD_STATE_SUCCEEDED, 10000);
    s_wait_state (running, JOBD_STATE_SUCCEEDED, 10000);
    //  Each queued job became exactly one driver.
    assert_int_equal (s_sim_jobs ("standalone"), drivers + 3);
    print_message ("standby: %lld create requests for 3 jobs, 3 drivers\n",
                   (long long)s_stat ("endpoints", "POST /v1/submissions/create"));
}

//  The next create's reply is cut halfway (the driver is made). Returns the drivers before.
static int64_t
s_cut_next_create (void)
{
    int64_t drivers = s_sim_jobs ("standalone");
    s_sim_do ("POST", "/sim/stats/reset", NULL);
    s_sim_do ("POST", "/sim/fault",
              "{\"mode\":\"truncated\",\"prefix\":\"/v1/submissions/create\",\"count\":1}");
    return drivers;
}

//  The driver exists, once: the create was not sent again.
static void
s_expect_one_driver (int64_t drivers)
{
    assert_int_equal (s_sim_jobs ("standalone"), drivers + 1);
    assert_int_equal (s_stat ("endpoints", "POST /v1/submissions/create"), 1);
    s_sim_do ("DELETE", "/sim/fault", NULL);
}

//  A create that reached the master and got no usable answer (the reply cut halfway, the
//  driver made): not sent again, which could run the job twice; the job fails saying what to
//  do. One refused before anything was sent is sent again (the standby case above).
static void
test_create_without_an_answer (void **state)
{
    int64_t drivers = s_cut_next_create ();
    char job[64];
    s_submit ("master", "queue=50,run=200,outcome=success", job, sizeof job);
    s_wait_state (job, JOBD_STATE_FAILED, 10000);
    jobd_job_t *record = s_show (job);
    assert_non_null (strstr (record->error, "may have reached the master without a usable answer"));
    assert_non_null (strstr (record->error, "jobctl track DRIVER_ID"));
    jobd_job_destroy (&record);
    s_expect_one_driver (drivers);
}

//  The same with the master's UI: the driver the create made is found in /json/ (its main class,
//  cores and memory, newer than the last driver a create was answered with, followed by no
//  job) and the job follows it.
static void
test_create_without_an_answer_found (void **state)
{
    int64_t drivers = s_cut_next_create ();
    char job[64];
    s_submit_class ("ui", "com.example.Unanswered", "queue=50,run=200,outcome=success", job,
                    sizeof job);
    s_seen_t *done = s_wait_state (job, JOBD_STATE_SUCCEEDED, 10000);
    assert_null (s_find (job, JOBD_STATE_FAILED));
    assert_non_null (done->event->ext);
    print_message ("create without an answer, ui_url: followed driver %s\n", done->event->ext);
    s_expect_one_driver (drivers);
}

//  ---------------------------------------------------------------------------------------------
//  4. Failure reasons

//  A driver that ends in ERROR or FAILED, seen first in the master's /json/ (which carries no
//  message): its status is asked before FAILED is recorded, so the reason is there: the
//  cluster's exception for ERROR, the non-zero exit for FAILED.
static void
test_failure_reason_from_list (void **state)
{
    char error_job[64], failed_job[64];
    s_submit ("ui",
              "queue=50,run=200,outcome=fail,final=ERROR,error=java.io.FileNotFoundException: "
              "hdfs:///jobs/missing.jar",
              error_job, sizeof error_job);
    s_submit ("ui", "queue=50,run=200,outcome=fail", failed_job, sizeof failed_job);
    s_seen_t *error = s_wait_state (error_job, JOBD_STATE_FAILED, 10000);
    s_seen_t *failed = s_wait_state (failed_job, JOBD_STATE_FAILED, 10000);
    print_message ("ERROR through /json/: %s\nFAILED through /json/: %s\n",
                   error->event->error ? error->event->error : "(none)",
                   failed->event->error ? failed->event->error : "(none)");
    assert_non_null (error->event->error);
    assert_non_null (strstr (error->event->error, "Exception from the cluster"));
    assert_non_null (strstr (error->event->error, "FileNotFoundException"));
    assert_non_null (failed->event->error);
    assert_non_null (strstr (failed->event->error, "non-zero"));
}

//  Failures a backend gives no reason for, as the reference allows (spark-sim's quiet=1): a
//  driver in ERROR without a message (a lost worker) seen in /json/, a dead Livy batch whose
//  log is [] (no view access), a failed YARN application with empty diagnostics. Each is FAILED
//  with a reason that says so, after its own status was asked.
static void
test_failure_reason_when_none_is_given (void **state)
{
    const char *scenario = "queue=50,run=200,outcome=fail,quiet=1";
    char ui_job[64], livy_job[64], yarn_job[64];
    s_submit ("ui", "queue=50,run=200,outcome=fail,final=ERROR,quiet=1", ui_job, sizeof ui_job);
    s_submit ("livy", scenario, livy_job, sizeof livy_job);
    json_t *ids = s_sim_apps ("yarn", scenario, 1);
    s_track (json_string_value (json_array_get (ids, 0)), "yarn", yarn_job, sizeof yarn_job);
    json_decref (ids);
    const struct {
        const char *job, *expected;
    } cases[] = {{ui_job, "worker was lost"},
                 {livy_job, "ended dead and gives no reason"},
                 {yarn_job, "ended FAILED/FAILED and gives no reason"}};
    for (size_t index = 0; index < 3; index++) {
        s_seen_t *failed = s_wait_state (cases[index].job, JOBD_STATE_FAILED, 10000);
        const char *error = failed->event->error;
        print_message ("%s: %s\n", cases[index].job, error ? error : "(none)");
        assert_non_null (error);
        assert_non_null (strstr (error, cases[index].expected));
    }
}

//  ---------------------------------------------------------------------------------------------
//  5. Recovery after an outage

//  Waits until spark-sim has served at least count requests of backend since before.
static void
s_wait_requests (const char *backend, int64_t before, int64_t count, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (s_stat ("backends", backend) - before < count && zclock_mono () < deadline)
        zclock_sleep (20); //  spark-sim's counters have no event to wait on
    if (s_stat ("backends", backend) - before < count)
        fail_msg ("%s served fewer than %lld requests in %d ms", backend, (long long)count,
                  timeout_ms);
}

//  Every backend fails long enough for its backoff to grow past 6 s; a job is submitted
//  meanwhile. Once they answer again, each is polled, and the job sent, within about a second
//  (a probe goes out about every second during the backoff), not after the backoff.
static void
test_recovery_after_outage (void **state)
{
    char running[64], waiting[64];
    s_submit ("master", "queue=50,run=60000,outcome=success", running, sizeof running);
    s_wait_state (running, JOBD_STATE_RUNNING, 5000);
    const char *backends[] = {"standalone", "masterui", "livy"};
    int64_t before[3];
    for (int index = 0; index < 3; index++)
        before[index] = s_stat ("backends", backends[index]);
    s_sim_do ("POST", "/sim/fault", "{\"mode\":\"http5xx\",\"status\":503}");
    s_submit ("master", "queue=50,run=200,outcome=success", waiting, sizeof waiting);
    //  interval_min 50 ms: 7 failures in a row put the next retry 6.4 s (+-10%) away.
    for (int index = 0; index < 3; index++)
        s_wait_requests (backends[index], before[index], 8, 20000);
    assert_int_equal (s_state (waiting), JOBD_STATE_QUEUED);
    int64_t creates = s_stat ("endpoints", "POST /v1/submissions/create");
    int64_t at[3];
    for (int index = 0; index < 3; index++)
        at[index] = s_stat ("backends", backends[index]);
    int64_t healed = zclock_mono ();
    s_sim_do ("DELETE", "/sim/fault", NULL);
    int64_t polled[3] = {0, 0, 0}, sent = 0, deadline = healed + 20000;
    while ((!polled[0] || !polled[1] || !polled[2] || !sent) && zclock_mono () < deadline) {
        for (int index = 0; index < 3; index++)
            if (!polled[index] && s_stat ("backends", backends[index]) > at[index])
                polled[index] = zclock_mono () - healed;
        if (!sent && s_stat ("endpoints", "POST /v1/submissions/create") > creates)
            sent = zclock_mono () - healed;
        zclock_sleep (10);
    }
    print_message ("after the outage: standalone polled in %lld ms, masterui in %lld ms, livy in "
                   "%lld ms, the waiting job sent in %lld ms\n",
                   (long long)polled[0], (long long)polled[1], (long long)polled[2],
                   (long long)sent);
    for (int index = 0; index < 3; index++)
        assert_in_range (polled[index], 1, 2500);
    assert_in_range (sent, 1, 2500);
    s_wait_state (waiting, JOBD_STATE_SUCCEEDED, 10000);
    s_advance (120000);
    s_wait_state (running, JOBD_STATE_SUCCEEDED, 10000);
}

//  Requests spark-sim answered with a fault so far.
static int64_t
s_faulted (void)
{
    json_t *stats = s_sim ("GET", "/sim/stats", NULL);
    int64_t count = (int64_t)json_integer_value (json_object_get (stats, "faulted"));
    json_decref (stats);
    return count;
}

//  Lines of jobd's log written after offset that contain text.
static int
s_log_count (long offset, const char *text)
{
    FILE *file = fopen (s_harness.log, "r");
    int count = 0;
    char line[4096];
    if (file && fseek (file, offset, SEEK_SET) == 0)
        while (fgets (line, sizeof line, file))
            count += strstr (line, text) != NULL;
    if (file)
        fclose (file);
    return count;
}

//  A master whose replies about one driver stay unreadable while it answers the probe: the
//  probe lets the polls go on, but the failures go on counting (logged once, then every 20th),
//  not "answers again" and "failure 1" every second.
static void
test_probe_keeps_counting_a_bad_reply (void **state)
{
    char job[64];
    s_submit ("master", "queue=50,run=60000,outcome=success", job, sizeof job);
    s_seen_t *running = s_wait_state (job, JOBD_STATE_RUNNING, 5000);
    long offset = s_log_size ();
    char rule[512];
    snprintf (rule, sizeof rule, "{\"mode\":\"garbage\",\"prefix\":\"/v1/submissions/status/%s\"}",
              running->event->ext);
    s_sim_do ("POST", "/sim/fault", rule);
    int64_t faulted = s_faulted (), deadline = zclock_mono () + 20000;
    while (s_faulted () - faulted < 6 && zclock_mono () < deadline)
        zclock_sleep (50); //  spark-sim's counters have no event to wait on
    assert_true (s_faulted () - faulted >= 6);
    int failures = s_log_count (offset, "backend master: unreadable status reply");
    int recoveries = s_log_count (offset, "backend master answers again");
    print_message ("one driver's replies unreadable: %d failure lines, %d recoveries logged\n",
                   failures, recoveries);
    assert_in_range (failures, 1, 1);
    assert_int_equal (recoveries, 0);
    s_sim_do ("DELETE", "/sim/fault", NULL);
    s_advance (120000);
    s_wait_state (job, JOBD_STATE_SUCCEEDED, 10000);
}

//  ---------------------------------------------------------------------------------------------
//  6. YARN

static void
test_yarn_track (void **state)
{
    //  It runs long enough (3 s) for a list to see it RUNNING however slow the machine (under the
    //  sanitizers, jobctl alone took more than the 600 ms it used to live).
    json_t *ok = s_sim_apps ("yarn", "queue=100,run=3000,outcome=success", 1);
    json_t *failed = s_sim_apps (
        "yarn", "queue=50,run=300,outcome=fail,error=java.lang.IllegalStateException: no input", 1);
    json_t *killed = s_sim_apps ("yarn", "queue=50,run=60000,outcome=success", 1);
    char ok_job[64], failed_job[64], killed_job[64], out[1024];
    //  Through jobctl, as an operator would.
    assert_int_equal (s_jobctl (out, sizeof out, "track",
                                json_string_value (json_array_get (ok, 0)), "--kind", "spark",
                                "--backend", "yarn", NULL),
                      0);
    assert_int_equal (sscanf (out, "%63s", ok_job), 1);
    s_track (json_string_value (json_array_get (failed, 0)), "yarn", failed_job, 64);
    s_track (json_string_value (json_array_get (killed, 0)), "yarn", killed_job, 64);

    s_wait_state (ok_job, JOBD_STATE_RUNNING, 5000);
    s_wait_state (ok_job, JOBD_STATE_SUCCEEDED, 5000);
    s_seen_t *seen = s_wait_state (failed_job, JOBD_STATE_FAILED, 5000);
    assert_non_null (seen->event->error);
    if (!strstr (seen->event->error, "java.lang.IllegalStateException: no input"))
        fail_msg ("the failure's reason is not YARN's diagnostics: %s", seen->event->error);
    s_wait_state (killed_job, JOBD_STATE_RUNNING, 5000);
    assert_int_equal (s_jobctl (out, sizeof out, "cancel", killed_job, NULL), 0);
    s_wait_state (killed_job, JOBD_STATE_CANCELLED, 5000);
    json_decref (ok);
    json_decref (failed);
    json_decref (killed);
}

//  YARN is followed by its list: one request per cycle however many applications are tracked.
//  count YARN apps made in spark-sim and tracked by jobd (jobs: their ids there), all RUNNING.
//  Returns their ids at the sim (fresh).
static json_t *
s_yarn_running (int count, char (*jobs)[64])
{
    json_t *ids = s_sim_apps ("yarn", "queue=50,run=60000,outcome=success", count);
    for (int index = 0; index < count; index++)
        s_track (json_string_value (json_array_get (ids, index)), "yarn", jobs[index], 64);
    for (int index = 0; index < count; index++)
        s_wait_state (jobs[index], JOBD_STATE_RUNNING, 5000);
    return ids;
}

//  Ends what s_yarn_running started: the apps succeed, and jobd says so.
static void
s_yarn_finish (json_t **ids_p, char (*jobs)[64], int count)
{
    s_advance (120000);
    for (int index = 0; index < count; index++)
        s_wait_state (jobs[index], JOBD_STATE_SUCCEEDED, 5000);
    json_decref (*ids_p);
    *ids_p = NULL;
}

static void
test_yarn_one_list_per_cycle (void **state)
{
    enum { COUNT = 50 };
    char jobs[COUNT][64];
    json_t *ids = s_yarn_running (COUNT, jobs);
    //  Apps seen RUNNING by their own poll are in the list from the next complete cycle on.
    s_sim_do ("POST", "/sim/stats/reset", NULL);
    int64_t deadline = zclock_mono () + 5000;
    while (s_stat ("endpoints", "GET /ws/v1/cluster/apps") < 2 && zclock_mono () < deadline)
        zclock_sleep (20);
    int64_t lists = s_stat ("endpoints", "GET /ws/v1/cluster/apps");
    int64_t one_by_one = s_stat ("endpoints", "GET /ws/v1/cluster/apps/{appid}");
    while (s_stat ("endpoints", "GET /ws/v1/cluster/apps") < lists + 10 &&
           zclock_mono () < deadline)
        zclock_sleep (20);
    lists = s_stat ("endpoints", "GET /ws/v1/cluster/apps") - lists;
    one_by_one = s_stat ("endpoints", "GET /ws/v1/cluster/apps/{appid}") - one_by_one;
    print_message ("yarn, %d apps: %lld list requests, %lld per-app requests\n", COUNT,
                   (long long)lists, (long long)one_by_one);
    assert_true (lists >= 10);
    //  Polled one by one, 50 apps would cost 50 requests per cycle, 500 here.
    assert_true (one_by_one <= 5);
    s_yarn_finish (&ids, jobs, COUNT);
}

//  A list that cannot be read says nothing of its jobs: they are not polled one by one for it
//  (that would send a request per job to a backend already in trouble), the next list follows
//  them again.
static void
test_yarn_bad_list_polls_nothing_alone (void **state)
{
    enum { COUNT = 30 };
    char jobs[COUNT][64];
    json_t *ids = s_yarn_running (COUNT, jobs);
    int64_t deadline = zclock_mono () + 10000;
    int64_t lists = s_stat ("endpoints", "GET /ws/v1/cluster/apps");
    while (s_stat ("endpoints", "GET /ws/v1/cluster/apps") < lists + 2 && zclock_mono () < deadline)
        zclock_sleep (20);
    //  Every app is in the last lists: the next two lists come back as garbage.
    int64_t one_by_one = s_stat ("endpoints", "GET /ws/v1/cluster/apps/{appid}");
    s_sim_do ("POST", "/sim/fault", "{\"backend\":\"yarn\",\"mode\":\"garbage\",\"count\":2}");
    lists = s_stat ("endpoints", "GET /ws/v1/cluster/apps");
    while (s_stat ("endpoints", "GET /ws/v1/cluster/apps") < lists + 4 && zclock_mono () < deadline)
        zclock_sleep (20);
    assert_true (s_stat ("endpoints", "GET /ws/v1/cluster/apps") >= lists + 4);
    one_by_one = s_stat ("endpoints", "GET /ws/v1/cluster/apps/{appid}") - one_by_one;
    print_message ("yarn, %d apps, 2 unreadable lists: %lld per-app requests\n", COUNT,
                   (long long)one_by_one);
    assert_true (one_by_one <= 2);
    s_yarn_finish (&ids, jobs, COUNT);
}

//  ---------------------------------------------------------------------------------------------
//  7. History server

static void
test_history (void **state)
{
    json_t *ok = s_sim_apps ("history", "queue=50,run=300,outcome=success", 1);
    json_t *failed = s_sim_apps (
        "history", "queue=50,run=300,outcome=fail,error=java.lang.IllegalStateException: no input",
        1);
    char ok_job[64], failed_job[64];
    s_track (json_string_value (json_array_get (ok, 0)), "hs", ok_job, sizeof ok_job);
    s_track (json_string_value (json_array_get (failed, 0)), "hs", failed_job, sizeof failed_job);
    s_wait_state (ok_job, JOBD_STATE_RUNNING, 5000);
    s_wait_state (ok_job, JOBD_STATE_SUCCEEDED, 5000);
    s_seen_t *seen = s_wait_state (failed_job, JOBD_STATE_FAILED, 5000);
    assert_non_null (seen->event->error);
    //  The reason names the failed Spark job of the application.
    if (!strstr (seen->event->error, "Spark job") || !strstr (seen->event->error, "failed"))
        fail_msg ("the failure's reason does not come from the failed job: %s", seen->event->error);
    json_decref (ok);
    json_decref (failed);
}

//  ---------------------------------------------------------------------------------------------
//  8. Restart mid-polling

static void
s_restart_case (int sig)
{
    enum { MASTER = 3, LIVY = 2, RUN_MS = 2000 };
    char jobs[MASTER + LIVY][64];
    s_sim_do ("POST", "/sim/stats/reset", NULL);
    int64_t submitted = zclock_mono ();
    for (int index = 0; index < MASTER + LIVY; index++)
        s_submit (index < MASTER ? "master" : "livy", "queue=50,run=2000,outcome=success",
                  jobs[index], 64);
    for (int index = 0; index < MASTER + LIVY; index++)
        s_wait_state (jobs[index], JOBD_STATE_RUNNING, 5000);
    assert_int_equal (s_stat ("endpoints", "POST /v1/submissions/create"), MASTER);
    assert_int_equal (s_stat ("endpoints", "POST /batches"), LIVY);

    zsock_destroy (&s_sub);
    int code = harness_stop (&s_harness, sig, 10000);
    if (code != (sig == SIGTERM ? 0 : 128 + sig)) {
        //  Say why (a sanitizer report, say) before failing.
        char line[1024];
        FILE *file = fopen (s_harness.log, "r");
        while (file && fgets (line, sizeof line, file))
            if (!strstr (line, "spark-poller: backend"))
                print_message ("jobd: %s", line);
        if (file)
            fclose (file);
        fail_msg ("jobd stopped by signal %d exited with %d", sig, code);
    }
    s_sim_do ("POST", "/sim/stats/reset", NULL);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    int64_t ready = zclock_mono ();
    s_subscribe ();
    //  Polling resumes from the store at once: the first status requests within a second.
    while ((s_stat ("endpoints", "GET /v1/submissions/status/{id}") == 0 ||
            s_stat ("endpoints", "GET /batches") == 0) &&
           zclock_mono () - ready < 1000)
        zclock_sleep (10);
    int64_t resumed = zclock_mono () - ready;
    assert_true (s_stat ("endpoints", "GET /v1/submissions/status/{id}") > 0);
    assert_true (s_stat ("endpoints", "GET /batches") > 0);
    //  Each job ends by itself when its scenario does, plus a margin (the scenario started
    //  after `submitted`, so the end is at most that late).
    int64_t remaining = submitted + 50 + RUN_MS - ready;
    int64_t slowest = 0;
    for (int index = 0; index < MASTER + LIVY; index++) {
        s_seen_t *seen = s_wait_state (jobs[index], JOBD_STATE_SUCCEEDED, 10000);
        slowest = seen->at - ready > slowest ? seen->at - ready : slowest;
    }
    print_message ("restart (signal %d): polling resumed %lld ms after ready; all SUCCEEDED %lld "
                   "ms after ready, scenario left %lld ms\n",
                   sig, (long long)resumed, (long long)slowest, (long long)remaining);
    assert_true (slowest <= (remaining > 0 ? remaining : 0) + 1500);
    //  Nothing was submitted again.
    assert_int_equal (s_stat ("endpoints", "POST /v1/submissions/create"), 0);
    assert_int_equal (s_stat ("endpoints", "POST /batches"), 0);
}

static void
test_restart_sigterm (void **state)
{
    s_restart_case (SIGTERM);
}

static void
test_restart_sigkill (void **state)
{
    s_restart_case (SIGKILL);
}

//  ---------------------------------------------------------------------------------------------
//  9. Livy forgets finished batches: not news

static void
test_livy_gc_after_final (void **state)
{
    s_sim_do ("POST", "/sim/config", "{\"livy_retain_sec\":1}");
    char job[64];
    s_submit ("livy", "queue=50,run=200,outcome=success", job, sizeof job);
    s_seen_t *seen = s_wait_state (job, JOBD_STATE_SUBMITTED, 5000);
    char path[128];
    //  A Livy ext is the batch id and its name (spark-poller README, "Incarnations").
    snprintf (path, sizeof path, "/batches/%.*s", (int)strcspn (seen->event->ext, "@"),
              seen->event->ext);
    s_wait_state (job, JOBD_STATE_SUCCEEDED, 5000);
    //  Livy deletes the batch a second after its end.
    int64_t deadline = zclock_mono () + 5000;
    long status = 0;
    while (zclock_mono () < deadline) {
        free (harness_spark_http (s_port, "GET", path, NULL, &status));
        if (status == 404)
            break;
        zclock_sleep (50);
    }
    assert_int_equal (status, 404);
    //  Three more list cycles without the batch: the job stays SUCCEEDED.
    int64_t lists = s_stat ("endpoints", "GET /batches");
    deadline = zclock_mono () + 5000;
    while (s_stat ("endpoints", "GET /batches") < lists + 3 && zclock_mono () < deadline)
        zclock_sleep (20);
    assert_true (s_stat ("endpoints", "GET /batches") >= lists + 3);
    assert_int_equal (s_state (job), JOBD_STATE_SUCCEEDED);
    assert_null (s_find (job, JOBD_STATE_LOST));
    s_sim_do ("POST", "/sim/config", "{\"livy_retain_sec\":600}");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fault_down),
        cmocka_unit_test (test_fault_5xx),
        cmocka_unit_test (test_fault_html),
        cmocka_unit_test (test_fault_garbage),
        cmocka_unit_test (test_fault_truncated),
        cmocka_unit_test (test_fault_slow),
        cmocka_unit_test (test_lost_after_grace),
        cmocka_unit_test (test_standby_master),
        cmocka_unit_test (test_create_without_an_answer),
        cmocka_unit_test (test_create_without_an_answer_found),
        cmocka_unit_test (test_failure_reason_from_list),
        cmocka_unit_test (test_failure_reason_when_none_is_given),
        cmocka_unit_test (test_recovery_after_outage),
        cmocka_unit_test (test_probe_keeps_counting_a_bad_reply),
        cmocka_unit_test (test_yarn_track),
        cmocka_unit_test (test_yarn_one_list_per_cycle),
        cmocka_unit_test (test_yarn_bad_list_polls_nothing_alone),
        cmocka_unit_test (test_history),
        cmocka_unit_test (test_restart_sigterm),
        cmocka_unit_test (test_restart_sigkill),
        cmocka_unit_test (test_livy_gc_after_final),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
