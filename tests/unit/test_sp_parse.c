//  spark-poller's parsers against every reply shape of shared/reference/spark-rest.md.
#include "sp_status.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define BODY(text) text, strlen (text)

static void
test_standalone_create (void **state)
{
    sp_status_t status;
    assert_int_equal (
        sp_standalone_create (
            BODY (
                "{\n"
                "  \"action\" : \"CreateSubmissionResponse\",\n"
                "  \"message\" : \"Driver successfully submitted as driver-20231124153531-0000\",\n"
                "  \"serverSparkVersion\" : \"4.0.0\",\n"
                "  \"submissionId\" : \"driver-20231124153531-0000\",\n"
                "  \"success\" : true\n}"),
            200, &status),
        0);
    assert_string_equal (status.id, "driver-20231124153531-0000");
    assert_int_equal (status.state, JOBD_STATE_SUBMITTED);
    assert_string_equal (status.error, "");
    //  A standby master: HTTP 200, success false, no id.
    assert_int_equal (
        sp_standalone_create (
            BODY ("{\"action\":\"CreateSubmissionResponse\",\"message\":\"Current state is not "
                  "alive: STANDBY. Can only accept driver submissions in ALIVE state.\","
                  "\"serverSparkVersion\":\"3.5.1\",\"success\":false}"),
            200, &status),
        JOBD_ESTATE);
    assert_true (status.standby);
    assert_non_null (strstr (status.error, "STANDBY"));
    //  A refusal with its text.
    assert_int_equal (sp_standalone_create (BODY ("{\"action\":\"ErrorResponse\",\"message\":"
                                                  "\"Malformed request: Main class is missing.\","
                                                  "\"serverSparkVersion\":\"3.5.1\"}"),
                                            400, &status),
                      JOBD_ESTATE);
    assert_string_equal (status.error, "Malformed request: Main class is missing.");
    assert_false (status.standby);
    //  Not JSON at all: a proxy's HTML page, an empty 500, a truncated body.
    assert_int_equal (
        sp_standalone_create (BODY ("<html><body>502 Bad Gateway</body></html>"), 502, &status),
        JOBD_EPROTO);
    assert_non_null (strstr (status.error, "HTTP 502"));
    assert_int_equal (sp_standalone_create ("", 0, 500, &status), JOBD_EPROTO);
    assert_int_equal (
        sp_standalone_create (BODY ("{\"action\" : \"CreateSubmissionRes"), 200, &status),
        JOBD_EPROTO);
}

static void
test_standalone_status (void **state)
{
    sp_status_t status;
    assert_int_equal (
        sp_standalone_status (
            BODY ("{\n  \"action\" : \"SubmissionStatusResponse\",\n"
                  "  \"driverState\" : \"FINISHED\",\n"
                  "  \"serverSparkVersion\" : \"3.5.1\",\n"
                  "  \"submissionId\" : \"driver-20151008145126-0000\",\n"
                  "  \"success\" : true,\n"
                  "  \"workerHostPort\" : \"192.168.3.153:46894\",\n"
                  "  \"workerId\" : \"worker-20151007093409-192.168.3.153-46894\"\n}"),
            200, &status),
        0);
    assert_int_equal (status.state, JOBD_STATE_SUCCEEDED);
    assert_string_equal (status.raw, "FINISHED");
    assert_true (status.known);
    //  Failed, with the exception from the cluster.
    assert_int_equal (
        sp_standalone_status (
            BODY ("{\"action\":\"SubmissionStatusResponse\",\"driverState\":\"ERROR\","
                  "\"message\":\"Exception from the cluster:\\njava.io.FileNotFoundException: "
                  "hdfs:///jobs/x.jar\\n\\tat org.apache...\",\"serverSparkVersion\":\"3.5.1\","
                  "\"submissionId\":\"driver-1\",\"success\":true}"),
            200, &status),
        0);
    assert_int_equal (status.state, JOBD_STATE_FAILED);
    assert_non_null (strstr (status.error, "FileNotFoundException"));
    //  Failed with no message (§1.5): the reason says what each state means.
    const char *quiet[][2] = {{"FAILED", "non-zero"}, {"ERROR", "worker was lost"}};
    for (size_t index = 0; index < 2; index++) {
        char body[256];
        snprintf (body, sizeof body,
                  "{\"action\":\"SubmissionStatusResponse\",\"driverState\":\"%s\","
                  "\"submissionId\":\"driver-1\",\"success\":true}",
                  quiet[index][0]);
        assert_int_equal (sp_standalone_status (BODY (body), 200, &status), 0);
        assert_int_equal (status.state, JOBD_STATE_FAILED);
        assert_non_null (strstr (status.error, quiet[index][1]));
    }
    //  Unknown or aged out: success false, id echoed, nothing else.
    assert_int_equal (
        sp_standalone_status (BODY ("{\"action\":\"SubmissionStatusResponse\","
                                    "\"serverSparkVersion\":\"3.5.1\","
                                    "\"submissionId\":\"driver-9\",\"success\":false}"),
                              200, &status),
        0);
    assert_false (status.known);
    assert_int_equal (status.state, JOBD_STATE_NONE);
    //  A standby master is not a lost job.
    assert_int_equal (
        sp_standalone_status (
            BODY ("{\"action\":\"SubmissionStatusResponse\",\"message\":\"Exception from the "
                  "cluster:\\njava.lang.Exception: Current state is not alive: STANDBY. Can only "
                  "request driver status in ALIVE state.\",\"serverSparkVersion\":\"3.5.1\","
                  "\"submissionId\":\"driver-9\",\"success\":false}"),
            200, &status),
        0);
    assert_true (status.known);
    assert_true (status.standby);
    assert_int_equal (status.state, JOBD_STATE_NONE);
    //  Each driver state.
    static const struct {
        const char *word;
        jobd_state_t state;
    } words[] = {{"SUBMITTED", JOBD_STATE_SUBMITTED}, {"RUNNING", JOBD_STATE_RUNNING},
                 {"FAILED", JOBD_STATE_FAILED},       {"KILLED", JOBD_STATE_CANCELLED},
                 {"RELAUNCHING", JOBD_STATE_UNKNOWN}, {"UNKNOWN", JOBD_STATE_UNKNOWN}};
    for (size_t index = 0; index < sizeof words / sizeof words[0]; index++)
        assert_int_equal (sp_map_standalone (words[index].word), words[index].state);
    assert_int_equal (sp_map_standalone ("finished"), JOBD_STATE_NONE);
    //  Wrong protocol version (468) and an unknown driver state are not statuses.
    assert_int_equal (sp_standalone_status (
                          BODY ("{\"action\":\"ErrorResponse\",\"highestProtocolVersion\":\"v1\","
                                "\"message\":\"Unknown protocol version 'v2'.\","
                                "\"serverSparkVersion\":\"3.5.1\"}"),
                          468, &status),
                      JOBD_EPROTO);
    assert_int_equal (sp_standalone_status (BODY ("{\"action\":\"SubmissionStatusResponse\","
                                                  "\"driverState\":\"DANCING\",\"success\":true}"),
                                            200, &status),
                      JOBD_EPROTO);
}

static void
test_standalone_kill (void **state)
{
    sp_status_t status;
    assert_int_equal (
        sp_standalone_kill (BODY ("{\"action\":\"KillSubmissionResponse\",\"message\":"
                                  "\"Kill request for driver-1 submitted\","
                                  "\"submissionId\":\"driver-1\",\"success\":true}"),
                            200, &status),
        0);
    assert_int_equal (
        sp_standalone_kill (BODY ("{\"action\":\"KillSubmissionResponse\",\"message\":"
                                  "\"Driver driver-1 has already finished or does not "
                                  "exist\",\"submissionId\":\"driver-1\",\"success\":false}"),
                            200, &status),
        JOBD_ESTATE);
    assert_non_null (strstr (status.error, "already finished"));
}

typedef struct {
    sp_status_t seen[8];
    size_t count;
} s_seen_t;

static bool
s_collect (const sp_status_t *status, void *arg)
{
    s_seen_t *seen = (s_seen_t *)arg;
    if (seen->count < 8)
        seen->seen[seen->count] = *status;
    seen->count++;
    return true;
}

static void
test_master_json (void **state)
{
    s_seen_t seen = {.count = 0};
    assert_int_equal (
        sp_master_json (BODY ("{\"status\":\"ALIVE\",\"activedrivers\":[{\"id\":\"driver-2\","
                              "\"starttime\":\"1700000000123\",\"state\":\"RUNNING\",\"cores\":1,"
                              "\"memory\":1024,\"mainclass\":\"x.Main\"}],\"completeddrivers\":["
                              "{\"id\":\"driver-1\",\"starttime\":\"1699999999000\","
                              "\"state\":\"RELAUNCHING\"}]}"),
                        200, s_collect, &seen),
        0);
    assert_int_equal (seen.count, 2);
    assert_string_equal (seen.seen[0].id, "driver-2");
    assert_int_equal (seen.seen[0].state, JOBD_STATE_RUNNING);
    assert_int_equal (seen.seen[0].started, 1700000000123);
    assert_string_equal (seen.seen[1].raw, "RELAUNCHING");
    assert_int_equal (sp_master_json (BODY ("<html>"), 200, s_collect, &seen), JOBD_EPROTO);
}

//  Says that driver-20260101000000-0007 belongs to a job already.
//  A master's /json/ with drivers of two classes, sizes and ages.
static const char *s_master_body =
    "{\"status\":\"ALIVE\",\"activedrivers\":["
    "{\"id\":\"driver-20260101000000-0010\",\"starttime\":\"10\",\"state\":\"RUNNING\","
    "\"cores\":1,\"memory\":1024,\"mainclass\":\"x.Main\"},"
    "{\"id\":\"driver-20260101000000-0005\",\"starttime\":\"5\",\"state\":\"RUNNING\","
    "\"cores\":1,\"memory\":1024,\"mainclass\":\"y.Main\"},"
    "{\"id\":\"driver-20260101000000-0006\",\"starttime\":\"6\",\"state\":\"RUNNING\","
    "\"cores\":1,\"memory\":2048,\"mainclass\":\"x.Main\"},"
    "{\"id\":\"driver-20260101000000-0007\",\"starttime\":\"7\",\"state\":\"RUNNING\","
    "\"cores\":1,\"memory\":1024,\"mainclass\":\"x.Main\"},"
    "{\"id\":\"driver-20260101000000-0008\",\"starttime\":\"8\",\"state\":\"SUBMITTED\","
    "\"cores\":1,\"memory\":1024,\"mainclass\":\"x.Main\"}],"
    "\"completeddrivers\":["
    "{\"id\":\"driver-20251231235959-9999\",\"starttime\":\"1\",\"state\":\"FINISHED\","
    "\"cores\":1,\"memory\":1024,\"mainclass\":\"x.Main\"},"
    "{\"id\":\"driver-20260101000000-0002\",\"starttime\":\"2\",\"state\":\"FINISHED\","
    "\"cores\":1,\"memory\":1024,\"mainclass\":\"x.Main\"},"
    "{\"id\":\"driver-20260101000000-0003\",\"starttime\":\"3\",\"state\":"
    "\"RELAUNCHING\",\"cores\":1,\"memory\":1024,\"mainclass\":\"x.Main\"}]}";

static bool
s_taken (const char *id, void *arg)
{
    (*(int *)arg)++;
    return strcmp (id, "driver-20260101000000-0007") == 0;
}

static void
test_master_replacement (void **state)
{
    //  driver-...-0003 was relaunched: -0005 (other class), -0006 (other memory), -0007 (taken)
    //  and -0002 (older) are not its replacement; -0010 and -0008 are, -0008 the oldest (the
    //  counter compares as a number, and -10000 is newer than -9999).
    const char *body = s_master_body;
    sp_status_t status;
    int asked = 0;
    assert_int_equal (sp_master_replacement (BODY (body), 200, "driver-20260101000000-0003",
                                             s_taken, &asked, &status),
                      0);
    assert_string_equal (status.id, "driver-20260101000000-0008");
    assert_int_equal (status.state, JOBD_STATE_SUBMITTED);
    assert_true (asked >= 1);
    //  Without the taken check -0007 is the oldest.
    assert_int_equal (
        sp_master_replacement (BODY (body), 200, "driver-20260101000000-0003", NULL, NULL, &status),
        0);
    assert_string_equal (status.id, "driver-20260101000000-0007");
    //  The newest driver has no replacement; an id not listed has none either.
    assert_int_equal (
        sp_master_replacement (BODY (body), 200, "driver-20260101000000-0010", NULL, NULL, &status),
        JOBD_ENOTFOUND);
    assert_int_equal (sp_master_replacement (BODY (body), 200, "driver-gone", NULL, NULL, &status),
                      JOBD_ENOTFOUND);
    //  Counters past four digits, and ids that do not parse (starttime decides).
    assert_int_equal (
        sp_master_replacement (
            BODY ("{\"activedrivers\":[{\"id\":\"driver-20260101000000-10000\",\"starttime\":"
                  "\"9\",\"state\":\"RUNNING\",\"mainclass\":\"x.Main\"}],"
                  "\"completeddrivers\":[{\"id\":\"driver-20260101000000-9999\","
                  "\"starttime\":\"8\",\"state\":\"RELAUNCHING\",\"mainclass\":\"x.Main\"}]}"),
            200, "driver-20260101000000-9999", NULL, NULL, &status),
        0);
    assert_string_equal (status.id, "driver-20260101000000-10000");
    assert_int_equal (
        sp_master_replacement (
            BODY ("{\"activedrivers\":[{\"id\":\"b\",\"starttime\":\"9\",\"state\":"
                  "\"FINISHED\",\"mainclass\":\"x.Main\"}],\"completeddrivers\":[{\"id\":\"a\","
                  "\"starttime\":\"8\",\"state\":\"RELAUNCHING\",\"mainclass\":\"x.Main\"}]}"),
            200, "a", NULL, NULL, &status),
        0);
    assert_string_equal (status.id, "b");
    assert_int_equal (status.state, JOBD_STATE_SUCCEEDED);
    assert_int_equal (sp_master_replacement (BODY ("<html>"), 200, "a", NULL, NULL, &status),
                      JOBD_EPROTO);
    assert_int_equal (sp_master_replacement (BODY ("{}"), 502, "a", NULL, NULL, &status),
                      JOBD_EPROTO);
}

//  The driver of a create whose answer was lost: those of its class, cores and memory, newer
//  than the last driver made before it, followed by no job; oldest first.
static void
test_master_created (void **state)
{
    sp_status_t found[3];
    int asked = 0;
    sp_created_t wanted = {.main_class = "x.Main",
                           .cores = 1,
                           .memory_mb = 1024,
                           .after = "driver-20260101000000-0003"};
    assert_int_equal (
        sp_master_created (BODY (s_master_body), 200, &wanted, s_taken, &asked, found, 3), 2);
    assert_string_equal (found[0].id, "driver-20260101000000-0008");
    assert_int_equal (found[0].state, JOBD_STATE_SUBMITTED);
    assert_string_equal (found[1].id, "driver-20260101000000-0010");
    assert_string_equal (found[1].raw, "RUNNING");
    wanted.after = "driver-20260101000000-0008";
    assert_int_equal (
        sp_master_created (BODY (s_master_body), 200, &wanted, s_taken, &asked, found, 3), 1);
    assert_string_equal (found[0].id, "driver-20260101000000-0010");
    //  A later attempt's lost create: a driver started before the attempt was queued is an
    //  earlier attempt's (followed by no job any more), not its.
    wanted.after = NULL;
    wanted.not_before = 8;
    assert_int_equal (sp_master_created (BODY (s_master_body), 200, &wanted, NULL, NULL, found, 3),
                      2);
    assert_string_equal (found[0].id, "driver-20260101000000-0008");
    assert_string_equal (found[1].id, "driver-20260101000000-0010");
    wanted.not_before = 0;
    //  No floor, nothing taken: every x.Main driver of 1 core and 1024 MB; the first 3 met
    //  (the active ones) are kept, oldest first.
    wanted.after = NULL;
    assert_int_equal (sp_master_created (BODY (s_master_body), 200, &wanted, NULL, NULL, found, 3),
                      6);
    assert_string_equal (found[0].id, "driver-20260101000000-0007");
    assert_string_equal (found[2].id, "driver-20260101000000-0010");
    //  Memory not compared: -0006 too. Another class; none.
    wanted.after = "driver-20260101000000-0003";
    wanted.memory_mb = -1;
    assert_int_equal (
        sp_master_created (BODY (s_master_body), 200, &wanted, s_taken, &asked, found, 3), 3);
    assert_string_equal (found[0].id, "driver-20260101000000-0006");
    wanted.main_class = "y.Main";
    assert_int_equal (sp_master_created (BODY (s_master_body), 200, &wanted, NULL, NULL, found, 0),
                      1);
    wanted.main_class = "z.Main";
    assert_int_equal (sp_master_created (BODY (s_master_body), 200, &wanted, NULL, NULL, found, 3),
                      0);
    assert_int_equal (sp_master_created (BODY ("<html>"), 200, &wanted, NULL, NULL, found, 3),
                      JOBD_EPROTO);
    assert_int_equal (sp_master_created (BODY ("{}"), 502, &wanted, NULL, NULL, found, 3),
                      JOBD_EPROTO);
    //  A driver with an empty id names nothing: it is not the lost create's (a job bound to it
    //  would poll /v1/submissions/status/ for ever), nor a list's.
    const char *empty = "{\"activedrivers\":[{\"id\":\"\",\"state\":\"RUNNING\",\"cores\":1,"
                        "\"memory\":1024,\"mainclass\":\"z.Main\"}],\"completeddrivers\":[]}";
    assert_int_equal (sp_master_created (BODY (empty), 200, &wanted, NULL, NULL, found, 3), 0);
    s_seen_t listed = {.count = 0};
    assert_int_equal (sp_master_json (BODY (empty), 200, s_collect, &listed), 0);
    assert_int_equal (listed.count, 0);
}

//  What a spec's driver looks like in /json/, as the master reads the spec (reference 1.4).
static void
test_created_from_spec (void **state)
{
    sp_created_t wanted;
    char main_class[64];
    assert_int_equal (sp_created_from_spec ("{\"mainClass\":\"a.B\",\"sparkProperties\":{"
                                            "\"spark.driver.cores\":\"2\","
                                            "\"spark.driver.memory\":\"2g\"}}",
                                            &wanted, main_class, sizeof main_class),
                      0);
    assert_string_equal (wanted.main_class, "a.B");
    assert_int_equal (wanted.cores, 2);
    assert_int_equal (wanted.memory_mb, 2048);
    assert_int_equal (sp_created_from_spec ("{}", &wanted, main_class, sizeof main_class), 0);
    assert_string_equal (wanted.main_class, "org.apache.spark.deploy.SparkSubmit");
    assert_int_equal (wanted.cores, 1);
    assert_int_equal (wanted.memory_mb, 1024);
    const struct {
        const char *properties;
        int64_t cores, memory_mb;
    } cases[] = {{"\"spark.driver.memory\":\"512m\"", 1, 512},
                 {"\"spark.driver.memory\":\"2GB\"", 1, 2048},
                 {"\"spark.driver.memory\":\"1t\"", 1, 1048576},
                 {"\"spark.driver.memory\":\"2048k\"", 1, 2},
                 //  Without a unit, versions differ (bytes or MB): not compared.
                 {"\"spark.driver.memory\":\"1024\"", 1, -1},
                 {"\"spark.driver.memory\":\"1x\"", 1, -1},
                 {"\"spark.driver.memory\":2", 1, -1},
                 {"\"spark.driver.cores\":4", 4, 1024},
                 {"\"spark.driver.cores\":\"two\"", -1, 1024}};
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        char spec[256];
        snprintf (spec, sizeof spec, "{\"sparkProperties\":{%s}}", cases[index].properties);
        assert_int_equal (sp_created_from_spec (spec, &wanted, main_class, sizeof main_class), 0);
        assert_int_equal (wanted.cores, cases[index].cores);
        assert_int_equal (wanted.memory_mb, cases[index].memory_mb);
    }
    assert_int_equal (sp_created_from_spec ("[1]", &wanted, main_class, sizeof main_class),
                      JOBD_EPROTO);
    assert_int_equal (sp_created_from_spec (NULL, &wanted, main_class, sizeof main_class),
                      JOBD_EPROTO);
}

static void
test_driver_id_order (void **state)
{
    int order = 0;
    assert_int_equal (
        sp_driver_id_order ("driver-20260101000000-0010", "driver-20260101000000-0008", &order), 0);
    assert_true (order > 0);
    assert_int_equal (
        sp_driver_id_order ("driver-20260101000000-10000", "driver-20260101000000-9999", &order),
        0);
    assert_true (order > 0);
    assert_int_equal (
        sp_driver_id_order ("driver-20251231235959-9999", "driver-20260101000000-0001", &order), 0);
    assert_true (order < 0);
    assert_int_equal (
        sp_driver_id_order ("driver-20260101000000-0001", "driver-20260101000000-0001", &order), 0);
    assert_int_equal (order, 0);
    assert_int_equal (sp_driver_id_order ("app-1", "driver-20260101000000-0001", &order),
                      JOBD_EPROTO);
    assert_int_equal (sp_driver_id_order ("driver-2026-0001", "driver-20260101000000-0001", &order),
                      JOBD_EPROTO);
}

static void
test_livy (void **state)
{
    sp_status_t status;
    assert_int_equal (
        sp_livy_batch (BODY ("{\"id\":0,\"name\":null,\"owner\":null,\"proxyUser\":null,"
                             "\"state\":\"starting\",\"appId\":null,\"appInfo\":{\"driverLogUrl\":"
                             "null,\"sparkUiUrl\":null},\"log\":[\"stdout: \",\"\\nstderr: \"]}"),
                       201, &status),
        0);
    assert_string_equal (status.id, "0");
    assert_int_equal (status.state, JOBD_STATE_SUBMITTED);
    //  dead: the log tail is the reason.
    assert_int_equal (
        sp_livy_batch (BODY ("{\"id\":7,\"state\":\"dead\",\"appId\":\"application_1_7\","
                             "\"log\":[\"line 1\",\"Exception in thread main: boom\"]}"),
                       200, &status),
        0);
    assert_int_equal (status.state, JOBD_STATE_FAILED);
    assert_string_equal (status.error, "line 1\nException in thread main: boom");
    //  Gone (GC'd, deleted): 404 with a message.
    assert_int_equal (sp_livy_batch (BODY ("{\"msg\":\"Session '7' not found.\"}"), 404, &status),
                      0);
    assert_false (status.known);
    //  Refusals: an object, or a bare JSON string.
    assert_int_equal (
        sp_livy_batch (
            BODY ("{\"msg\":\"Rejected, Reason: requirement failed: File is required.\"}"), 400,
            &status),
        JOBD_ESTATE);
    assert_non_null (strstr (status.error, "File is required"));
    assert_int_equal (sp_livy_batch (BODY ("\"Unrecognized field \\\"fiel\\\"\""), 400, &status),
                      JOBD_ESTATE);
    assert_non_null (strstr (status.error, "Unrecognized field"));
    //  /state and recovering.
    assert_int_equal (sp_livy_batch (BODY ("{\"id\":3,\"state\":\"recovering\"}"), 200, &status),
                      0);
    assert_true (status.known);
    assert_int_equal (status.state, JOBD_STATE_NONE);
    assert_int_equal (sp_livy_batch (BODY ("{\"id\":3,\"state\":\"killed\"}"), 200, &status), 0);
    assert_int_equal (status.state, JOBD_STATE_CANCELLED);
    //  The list.
    s_seen_t seen = {.count = 0};
    long total = 0;
    assert_int_equal (
        sp_livy_list (BODY ("{\"from\":0,\"total\":5,\"sessions\":[{\"id\":1,\"state\":"
                            "\"success\",\"name\":null},{\"id\":2,\"name\":\"jobd-job-7\","
                            "\"state\":\"running\"}]}"),
                      200, s_collect, &seen, &total),
        0);
    assert_int_equal (total, 5);
    assert_int_equal (seen.count, 2);
    assert_int_equal (seen.seen[0].state, JOBD_STATE_SUCCEEDED);
    //  The batch name: how jobd finds its batch again after a restart.
    assert_string_equal (seen.seen[0].name, "");
    assert_string_equal (seen.seen[1].name, "jobd-job-7");
    assert_int_equal (sp_livy_list (BODY ("{\"from\":0}"), 200, s_collect, &seen, &total),
                      JOBD_EPROTO);
}

static void
test_yarn (void **state)
{
    s_seen_t seen = {.count = 0};
    assert_int_equal (
        sp_yarn_apps (
            BODY ("{\"apps\":{\"app\":[{\"id\":\"application_1_0001\",\"state\":\"FINISHED\","
                  "\"finalStatus\":\"SUCCEEDED\",\"startedTime\":1700000000000},"
                  "{\"id\":\"application_1_0002\",\"state\":\"FINISHED\",\"finalStatus\":"
                  "\"UNDEFINED\",\"diagnostics\":\"\"},{\"id\":\"application_1_0003\",\"state\":"
                  "\"FAILED\",\"finalStatus\":\"FAILED\",\"diagnostics\":\"AM container exited "
                  "with exitCode: 1\"},{\"id\":\"application_1_0004\",\"state\":\"ACCEPTED\","
                  "\"finalStatus\":\"UNDEFINED\"},{\"id\":\"application_1_0005\",\"state\":"
                  "\"KILLED\",\"finalStatus\":\"KILLED\",\"diagnostics\":\"killed by user\"}]}}"),
            200, s_collect, &seen),
        0);
    assert_int_equal (seen.count, 5);
    assert_int_equal (seen.seen[0].state, JOBD_STATE_SUCCEEDED);
    assert_int_equal (seen.seen[0].started, 1700000000000);
    assert_int_equal (seen.seen[1].state, JOBD_STATE_FAILED);
    assert_non_null (strstr (seen.seen[1].error, "without a final status"));
    assert_string_equal (seen.seen[2].error, "AM container exited with exitCode: 1");
    assert_int_equal (seen.seen[3].state, JOBD_STATE_SUBMITTED);
    assert_int_equal (seen.seen[4].state, JOBD_STATE_CANCELLED);
    //  Every empty shape.
    static const char *empties[] = {"{\"apps\":{}}", "{\"apps\":\"\"}", "{\"apps\":null}",
                                    "{\"apps\":{\"app\":[]}}"};
    for (size_t index = 0; index < 4; index++) {
        seen.count = 0;
        assert_int_equal (sp_yarn_apps (BODY (empties[index]), 200, s_collect, &seen), 0);
        assert_int_equal (seen.count, 0);
    }
    assert_int_equal (sp_yarn_apps (BODY ("{}"), 200, s_collect, &seen), JOBD_EPROTO);
    //  One app; a 404 RemoteException.
    sp_status_t status;
    assert_int_equal (sp_yarn_app (BODY ("{\"app\":{\"id\":\"application_1_0001\",\"state\":"
                                         "\"RUNNING\",\"finalStatus\":\"UNDEFINED\"}}"),
                                   200, &status),
                      0);
    assert_int_equal (status.state, JOBD_STATE_RUNNING);
    assert_string_equal (status.raw, "RUNNING/UNDEFINED");
    assert_int_equal (
        sp_yarn_app (
            BODY ("{\"RemoteException\":{\"exception\":\"NotFoundException\",\"message\":"
                  "\"java.lang.Exception: app with id: application_1_0001 not found\","
                  "\"javaClassName\":\"org.apache.hadoop.yarn.webapp.NotFoundException\"}}"),
            404, &status),
        0);
    assert_false (status.known);
    assert_non_null (strstr (status.error, "not found"));
    assert_int_equal (sp_map_yarn ("KILLING", "UNDEFINED"), JOBD_STATE_NONE);
}

static void
test_history (void **state)
{
    s_seen_t seen = {.count = 0};
    assert_int_equal (
        sp_history_apps (
            BODY ("[ {\"id\":\"app-1\",\"name\":\"MyJob\",\"attempts\":[{\"startTime\":"
                  "\"2020-08-13T03:29:37.826GMT\",\"endTime\":\"1969-12-31T23:59:59.999GMT\","
                  "\"completed\":false,\"startTimeEpoch\":1597289377826,\"endTimeEpoch\":-1}]},"
                  "{\"id\":\"app-2\",\"attempts\":[{\"attemptId\":\"2\",\"completed\":true},"
                  "{\"attemptId\":\"1\",\"completed\":true}]} ]"),
            200, s_collect, &seen),
        0);
    assert_int_equal (seen.count, 2);
    assert_int_equal (seen.seen[0].state, JOBD_STATE_RUNNING);
    assert_int_equal (seen.seen[0].started, 1597289377826);
    assert_true (seen.seen[1].ended);
    assert_int_equal (seen.seen[1].state, JOBD_STATE_NONE);
    sp_status_t status;
    assert_int_equal (sp_history_jobs (BODY ("[{\"jobId\":1,\"name\":\"save at X.scala:10\","
                                             "\"status\":\"FAILED\"},{\"jobId\":0,\"status\":"
                                             "\"SUCCEEDED\"}]"),
                                       200, &status),
                      0);
    assert_int_equal (status.state, JOBD_STATE_FAILED);
    assert_non_null (strstr (status.error, "Spark job 1 failed: save at X.scala:10"));
    assert_int_equal (
        sp_history_jobs (BODY ("[{\"jobId\":0,\"status\":\"SUCCEEDED\"}]"), 200, &status), 0);
    assert_int_equal (status.state, JOBD_STATE_SUCCEEDED);
    assert_int_equal (sp_history_jobs (BODY ("no such app: app-3"), 404, &status), 0);
    assert_false (status.known);
}

//  Each backend's failure text gives its one-line cause by its own format, and its links.
static void
test_causes_and_links (void **state)
{
    sp_status_t status;
    //  Standalone: the master's "Exception from the cluster:" message.
    assert_int_equal (
        sp_standalone_status (
            BODY ("{\"action\":\"SubmissionStatusResponse\",\"driverState\":\"FAILED\","
                  "\"message\":\"Exception from the cluster:\\norg.apache.spark.SparkException: "
                  "Job aborted: stage 3 failed 4 times\\n\\torg.apache.spark.scheduler."
                  "DAGScheduler.abortStage(DAGScheduler.scala:2608)\",\"submissionId\":"
                  "\"driver-1\",\"success\":true}"),
            200, &status),
        0);
    assert_int_equal (status.state, JOBD_STATE_FAILED);
    assert_string_equal (status.cause, "SparkException: Job aborted: stage 3 failed 4 times");
    //  Without a message the cause is left to jobd's generic rule.
    assert_int_equal (sp_standalone_status (BODY ("{\"action\":\"SubmissionStatusResponse\","
                                                  "\"driverState\":\"FAILED\",\"submissionId\":"
                                                  "\"driver-1\",\"success\":true}"),
                                            200, &status),
                      0);
    assert_string_equal (status.cause, "");
    //  Livy: the log's exception, appId and appInfo's links.
    assert_int_equal (
        sp_livy_batch (
            BODY ("{\"id\":7,\"name\":\"nightly\",\"state\":\"dead\",\"appId\":"
                  "\"application_1700000000000_0042\",\"appInfo\":{\"driverLogUrl\":"
                  "\"http://nm:8042/node/containerlogs/container_1/alice\",\"sparkUiUrl\":"
                  "\"http://rm:8088/proxy/application_1700000000000_0042/\",\"executorLogUrls\":"
                  "null},\"log\":[\"stdout: \",\"\\nstderr: \",\"24/01/15 10:00:00 INFO Client: "
                  "Uploading resource\",\"Exception in thread \\\"main\\\" "
                  "java.lang.ClassNotFoundException: com.example.Main\",\"\\tat "
                  "java.net.URLClassLoader.findClass(URLClassLoader.java:382)\"]}"),
            200, &status),
        0);
    assert_int_equal (status.state, JOBD_STATE_FAILED);
    assert_non_null (strstr (status.error, "stdout:"));
    assert_string_equal (status.cause, "ClassNotFoundException: com.example.Main");
    assert_string_equal (status.app_id, "application_1700000000000_0042");
    assert_string_equal (status.app_url, "http://rm:8088/proxy/application_1700000000000_0042/");
    assert_string_equal (status.log_url, "http://nm:8042/node/containerlogs/container_1/alice");
    //  Livy before the app is known: nulls, no links.
    assert_int_equal (sp_livy_batch (BODY ("{\"id\":0,\"state\":\"starting\",\"appId\":null,"
                                           "\"appInfo\":{\"driverLogUrl\":null,\"sparkUiUrl\":"
                                           "null},\"log\":[]}"),
                                     201, &status),
                      0);
    assert_string_equal (status.app_id, "");
    assert_string_equal (status.app_url, "");
    assert_string_equal (status.log_url, "");
    assert_string_equal (status.cause, "");
    //  YARN: the diagnostics' first line; trackingUrl and the AM's logs.
    assert_int_equal (
        sp_yarn_app (
            BODY ("{\"app\":{\"id\":\"application_1_0003\",\"state\":\"FAILED\",\"finalStatus\":"
                  "\"FAILED\",\"trackingUrl\":\"http://rm:8088/cluster/app/application_1_0003\","
                  "\"amContainerLogs\":\"http://nm:8042/node/containerlogs/c_3/bob\","
                  "\"diagnostics\":\"Application application_1_0003 failed 2 times due to AM "
                  "Container for appattempt_1_0003_000002 exited with  exitCode: 13\\nFailing "
                  "this attempt.Diagnostics: [2024-01-15]Exception from container-launch.\"}}"),
            200, &status),
        0);
    assert_string_equal (status.cause, "Application application_1_0003 failed 2 times due to AM "
                                       "Container for appattempt_1_0003_000002 exited with  "
                                       "exitCode: 13");
    assert_string_equal (status.app_id, ""); //  it is the ext
    assert_string_equal (status.app_url, "http://rm:8088/cluster/app/application_1_0003");
    assert_string_equal (status.log_url, "http://nm:8042/node/containerlogs/c_3/bob");
}

static void
test_long_errors_are_cut (void **state)
{
    char body[3 * SP_ERROR_MAX];
    snprintf (body, sizeof body, "{\"id\":1,\"state\":\"dead\",\"log\":[\"%0*d\",\"the end\"]}",
              2 * SP_ERROR_MAX, 0);
    sp_status_t status;
    assert_int_equal (sp_livy_batch (body, strlen (body), 200, &status), 0);
    assert_int_equal (strlen (status.error), SP_ERROR_MAX - 1);
    assert_non_null (strstr (status.error, "the end"));
    assert_memory_equal (status.error, "...", 3);
}

//  What each kill answer of the reference means (sp_kill.c): taken, done, refused with the
//  backend's words, or no usable answer.
static void
test_kill_answers (void **state)
{
    sp_status_t status;
    //  YARN (4.5): 202 under way, 200 KILLED done, 200 with an ended state done (not killed).
    assert_int_equal (sp_yarn_kill (BODY ("{\"state\":\"KILLING\"}"), 202, &status),
                      SP_KILL_ACCEPTED);
    assert_int_equal (sp_yarn_kill (BODY ("{\"state\":\"KILLED\"}"), 200, &status), SP_KILL_DONE);
    assert_int_equal (status.state, JOBD_STATE_CANCELLED);
    assert_int_equal (sp_yarn_kill (BODY ("{\"state\":\"FINISHED\"}"), 200, &status), SP_KILL_DONE);
    assert_int_equal (status.state, JOBD_STATE_NONE);
    assert_non_null (strstr (status.error, "already ended (FINISHED)"));
    //  403 without a user, 403 without MODIFY_APP, 404 unknown, 400 a bad target: refused.
    assert_int_equal (
        sp_yarn_kill (BODY ("{\"RemoteException\":{\"exception\":\"AuthorizationException\","
                            "\"message\":\"Unable to obtain user name, user not authenticated\","
                            "\"javaClassName\":\"org.apache.hadoop.security.authorize."
                            "AuthorizationException\"}}"),
                      403, &status),
        SP_KILL_REFUSED);
    assert_string_equal (status.error,
                         "HTTP 403: Unable to obtain user name, user not authenticated");
    assert_int_equal (sp_yarn_kill (BODY ("{\"RemoteException\":{\"exception\":\"NotFound"
                                          "Exception\",\"message\":\"java.lang.Exception: app "
                                          "with id: application_1_0001 not found\"}}"),
                                    404, &status),
                      SP_KILL_REFUSED);
    assert_non_null (strstr (status.error, "HTTP 404: java.lang.Exception: app with id"));
    //  A 401 page from an SPNEGO filter: refused, its text without the tags.
    assert_int_equal (sp_yarn_kill (BODY ("<html><body><h2>HTTP ERROR 401</h2>\n<p>Authentication "
                                          "required</p></body></html>"),
                                    401, &status),
                      SP_KILL_REFUSED);
    assert_string_equal (status.error, "HTTP 401: HTTP ERROR 401 Authentication required");
    //  A 2xx without a readable state (an empty 202, a 204, a cut 200) is taken: the app's
    //  state will tell. 5xx, a redirect: no usable answer.
    assert_int_equal (sp_yarn_kill (BODY ("oops"), 500, &status), SP_KILL_UNCLEAR);
    assert_int_equal (sp_yarn_kill (BODY (""), 202, &status), SP_KILL_ACCEPTED);
    assert_int_equal (sp_yarn_kill (BODY (""), 204, &status), SP_KILL_ACCEPTED);
    assert_int_equal (sp_yarn_kill (BODY ("{\"state\":"), 200, &status), SP_KILL_ACCEPTED);
    assert_int_equal (sp_yarn_kill (BODY ("{\"state\":\"KILLING\"}"), 200, &status),
                      SP_KILL_ACCEPTED);
    assert_int_equal (sp_yarn_kill (BODY (""), 307, &status), SP_KILL_UNCLEAR);

    //  Livy (3.5): 200 deleted; 404 already stopped, 403 no modify access, 400 CSRF: refused.
    assert_int_equal (sp_livy_kill (BODY ("{\"msg\":\"deleted\"}"), 200, &status), SP_KILL_DONE);
    assert_int_equal (status.state, JOBD_STATE_CANCELLED);
    assert_int_equal (
        sp_livy_kill (BODY ("{\"msg\":\"Session 3 already stopped.\"}"), 404, &status),
        SP_KILL_REFUSED);
    assert_string_equal (status.error, "HTTP 404: Session 3 already stopped.");
    assert_int_equal (sp_livy_kill (BODY (""), 403, &status), SP_KILL_REFUSED);
    assert_string_equal (status.error, "HTTP 403");
    assert_int_equal (sp_livy_kill (BODY ("<html><body><h2>HTTP ERROR 400 Missing Required Header "
                                          "for CSRF protection.</h2></body></html>"),
                                    400, &status),
                      SP_KILL_REFUSED);
    assert_non_null (strstr (status.error, "Missing Required Header for CSRF protection."));
    assert_int_equal (sp_livy_kill (BODY (""), 204, &status), SP_KILL_DONE);
    assert_int_equal (sp_livy_kill (BODY ("\"bad\""), 503, &status), SP_KILL_UNCLEAR);

    //  Standalone (1.6): success true taken; success false with HTTP 200 refused.
    assert_int_equal (sp_standalone_kill_verdict (
                          BODY ("{\n  \"action\" : \"KillSubmissionResponse\",\n  \"message\" : "
                                "\"Kill request for driver-1 submitted\",\n  \"serverSparkVersion\""
                                " : \"3.5.1\",\n  \"submissionId\" : \"driver-1\",\n  \"success\" "
                                ": true\n}"),
                          200, &status),
                      SP_KILL_ACCEPTED);
    assert_int_equal (sp_standalone_kill_verdict (
                          BODY ("{\n  \"action\" : \"KillSubmissionResponse\",\n  \"message\" : "
                                "\"Driver driver-1 has already finished or does not exist\",\n  "
                                "\"serverSparkVersion\" : \"3.5.1\",\n  \"submissionId\" : "
                                "\"driver-1\",\n  \"success\" : false\n}"),
                          200, &status),
                      SP_KILL_REFUSED);
    assert_string_equal (status.error,
                         "HTTP 200: Driver driver-1 has already finished or does not exist");
    assert_int_equal (
        sp_standalone_kill_verdict (BODY ("<html><body>403 Forbidden</body></html>"), 403, &status),
        SP_KILL_REFUSED);
    assert_int_equal (sp_standalone_kill_verdict (BODY (""), 500, &status), SP_KILL_UNCLEAR);
    assert_int_equal (
        sp_standalone_kill_verdict (BODY ("{\"action\":\"ErrorResponse\",\"message\":\"Internal "
                                          "server error\",\"serverSparkVersion\":\"3.5.1\"}"),
                                    500, &status),
        SP_KILL_UNCLEAR);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_standalone_create),
        cmocka_unit_test (test_standalone_status),
        cmocka_unit_test (test_standalone_kill),
        cmocka_unit_test (test_master_json),
        cmocka_unit_test (test_master_replacement),
        cmocka_unit_test (test_master_created),
        cmocka_unit_test (test_created_from_spec),
        cmocka_unit_test (test_driver_id_order),
        cmocka_unit_test (test_livy),
        cmocka_unit_test (test_yarn),
        cmocka_unit_test (test_history),
        cmocka_unit_test (test_long_errors_are_cut),
        cmocka_unit_test (test_causes_and_links),
        cmocka_unit_test (test_kill_answers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
