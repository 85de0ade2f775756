//  spark-sim-test: starts the simulator and checks its wire formats, progression, faults and stats.
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int s_failures;
static const char *s_extra[2]; //  headers s_http adds (User-Agent, X-Jobd-Epoch), or NULL
static char s_base[64];

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                  \
            fprintf (stderr, __VA_ARGS__);                                                         \
            fprintf (stderr, "\n");                                                                \
            s_failures++;                                                                          \
        }                                                                                          \
    } while (0)

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_nap (void)
{
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep (&ts, NULL);
}

typedef struct {
    long status;
    char *body;
    size_t len;
    CURLcode rc;
    char location[256];
} s_reply_t;

static size_t
s_write (char *data, size_t size, size_t n, void *arg)
{
    s_reply_t *reply = arg;
    char *body = realloc (reply->body, reply->len + size * n + 1);
    if (!body)
        return 0;
    memcpy (body + reply->len, data, size * n);
    reply->len += size * n;
    body[reply->len] = 0;
    reply->body = body;
    return size * n;
}

static size_t
s_header (char *data, size_t size, size_t n, void *arg)
{
    s_reply_t *reply = arg;
    if (strncasecmp (data, "Location: ", 10) == 0) {
        snprintf (reply->location, sizeof reply->location, "%.*s", (int)(size * n - 12), data + 10);
    }
    return size * n;
}

//  One request; the reply body is always a string (maybe empty). Free with s_free.
static s_reply_t
s_http (const char *method, const char *path, const char *body)
{
    s_reply_t reply = {0};
    reply.body = calloc (1, 1);
    char url[512];
    snprintf (url, sizeof url, "%s%s", s_base, path);
    CURL *curl = curl_easy_init ();
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, &reply);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT, 20L);
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    for (size_t index = 0; index < 2 && s_extra[index]; index++)
        headers = curl_slist_append (headers, s_extra[index]);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    if (body)
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    reply.rc = curl_easy_perform (curl);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    return reply;
}

static void
s_free (s_reply_t *reply)
{
    free (reply->body);
    reply->body = NULL;
}

//  Requests and parses a JSON reply; returns the value (fresh) and the status.
static json_t *
s_json (const char *method, const char *path, const char *body, long *status)
{
    s_reply_t reply = s_http (method, path, body);
    json_t *json = json_loads (reply.body, JSON_DECODE_ANY, NULL);
    if (status)
        *status = reply.status;
    s_free (&reply);
    return json ? json : json_null ();
}

static const char *
s_str (json_t *json, const char *key)
{
    const char *value = json_string_value (json_object_get (json, key));
    return value ? value : "";
}

static void
s_advance (int64_t ms)
{
    char body[64];
    snprintf (body, sizeof body, "{\"advance_ms\":%lld}", (long long)ms);
    json_decref (s_json ("POST", "/sim/clock", body, NULL));
}

static char *
s_create_driver (const char *scenario)
{
    char body[1024];
    snprintf (body, sizeof body,
              "{\"action\":\"CreateSubmissionRequest\",\"clientSparkVersion\":\"3.5.1\","
              "\"appResource\":\"hdfs:///jobs/myjob.jar\",\"mainClass\":\"com.example.Main\","
              "\"appArgs\":[],\"environmentVariables\":{},\"sparkProperties\":{"
              "\"spark.app.name\":\"myjob\",\"spark.sim.scenario\":\"%s\"}}",
              scenario);
    json_t *json = s_json ("POST", "/v1/submissions/create", body, NULL);
    char *id = strdup (s_str (json, "submissionId"));
    json_decref (json);
    return id;
}

static char *
s_driver_state (const char *id)
{
    char path[128];
    snprintf (path, sizeof path, "/v1/submissions/status/%s", id);
    json_t *json = s_json ("GET", path, NULL, NULL);
    char *state = strdup (s_str (json, "driverState"));
    json_decref (json);
    return state;
}

static void
s_test_standalone (void)
{
    s_reply_t r = s_http ("POST", "/v1/submissions/create",
                          "{\"action\":\"CreateSubmissionRequest\",\"clientSparkVersion\":\"\","
                          "\"appResource\":\"x.jar\",\"mainClass\":\"M\",\"appArgs\":[],"
                          "\"environmentVariables\":{},\"sparkProperties\":{\"spark.app.name\":"
                          "\"a\"}}");
    char id[64] = "", expected[512];
    const char *found = strstr (r.body, "driver-");
    if (found)
        sscanf (found, "driver-%63[0-9-]", id);
    snprintf (expected, sizeof expected,
              "{\n  \"action\" : \"CreateSubmissionResponse\",\n  \"message\" : \"Driver "
              "successfully submitted as driver-%s\",\n  \"serverSparkVersion\" : \"4.0.0\",\n  "
              "\"submissionId\" : \"driver-%s\",\n  \"success\" : true\n}",
              id, id);
    CHECK (r.status == 200 && strcmp (r.body, expected) == 0, "create reply:\n%s", r.body);
    CHECK (strlen (id) == 19, "driver id driver-%s is not driver-yyyyMMddHHmmss-NNNN", id);
    s_free (&r);

    r = s_http ("GET", "/v1/submissions/status/driver-nope", NULL);
    CHECK (r.status == 200 &&
               strcmp (r.body, "{\n  \"action\" : \"SubmissionStatusResponse\",\n  "
                               "\"serverSparkVersion\" : \"4.0.0\",\n  \"submissionId\" : "
                               "\"driver-nope\",\n  \"success\" : false\n}") == 0,
           "unknown status reply:\n%s", r.body);
    s_free (&r);
    r = s_http ("GET", "/v2/submissions/status/x", NULL);
    CHECK (r.status == 468 && strstr (r.body, "\"highestProtocolVersion\" : \"v1\"") &&
               strstr (r.body, "Unknown protocol version 'v2'."),
           "468 reply %ld:\n%s", r.status, r.body);
    s_free (&r);
    r = s_http ("GET", "/v1/submissions/status/", NULL);
    CHECK (r.status == 400 && strstr (r.body, "Submission ID is missing in status request."),
           "missing id %ld:\n%s", r.status, r.body);
    s_free (&r);
    r = s_http ("POST", "/v1/submissions/create", "{\"action\":\"CreateSubmissionRequest\"}");
    CHECK (r.status == 400 && strstr (r.body, "Malformed request: "), "malformed %ld", r.status);
    s_free (&r);

    //  Progression, kill and relaunch, fast-forwarded with the clock.
    char *done = s_create_driver ("queue=1000,run=1000");
    char *queued = s_create_driver ("queue=60000,run=1000");
    char *relaunch = s_create_driver ("queue=0,run=1000,outcome=relaunch");
    char *state = s_driver_state (done);
    CHECK (strcmp (state, "SUBMITTED") == 0, "new driver is %s", state);
    free (state);
    json_t *kill = s_json ("POST", "/v1/submissions/kill/", NULL, NULL);
    json_decref (kill);
    char path[128];
    snprintf (path, sizeof path, "/v1/submissions/kill/%s", queued);
    kill = s_json ("POST", path, NULL, NULL);
    CHECK (json_is_true (json_object_get (kill, "success")), "kill of a queued driver failed");
    json_decref (kill);
    state = s_driver_state (queued);
    CHECK (strcmp (state, "KILLED") == 0, "a killed waiting driver is %s", state);
    free (state);
    s_advance (2500);
    state = s_driver_state (done);
    CHECK (strcmp (state, "FINISHED") == 0, "driver after 2.5 s is %s", state);
    free (state);
    state = s_driver_state (relaunch);
    CHECK (strcmp (state, "RELAUNCHING") == 0, "relaunched driver is %s", state);
    free (state);
    json_t *master = s_json ("GET", "/json/", NULL, NULL);
    json_t *active = json_object_get (master, "activedrivers");
    CHECK (json_array_size (active) == 1, "expected the relaunched driver in activedrivers");
    const char *starttime = s_str (json_array_get (active, 0), "starttime");
    CHECK (*starttime && strspn (starttime, "0123456789") == strlen (starttime),
           "starttime '%s' is not epoch ms", starttime);
    CHECK (json_array_size (json_object_get (master, "completeddrivers")) == 4,
           "expected 4 completed drivers");
    json_decref (master);
    free (done);
    free (queued);
    free (relaunch);

    json_decref (s_json ("POST", "/sim/master/standby", "{\"standby\":true}", NULL));
    long status;
    json_t *ready = s_json ("GET", "/v1/submissions/readyz", NULL, &status);
    CHECK (status == 503 && strcmp (s_str (ready, "message"), "Master is not ready.") == 0,
           "readyz on standby: %ld", status);
    json_decref (ready);
    json_decref (s_json ("POST", "/sim/master/standby", "{\"standby\":false}", NULL));
}

static void
s_test_yarn (void)
{
    long status;
    json_t *apps = s_json ("GET", "/ws/v1/cluster/apps?applicationTags=none", NULL, NULL);
    char *text = json_dumps (apps, JSON_COMPACT);
    CHECK (strcmp (text, "{\"apps\":{}}") == 0, "empty list is %s", text);
    free (text);
    json_decref (apps);
    json_t *made = s_json ("POST", "/sim/jobs",
                           "{\"backend\":\"yarn\",\"count\":3,\"tags\":[\"jobd\"],"
                           "\"scenario\":\"queue=0,run=60000\"}",
                           &status);
    CHECK (status == 201 && json_array_size (json_object_get (made, "ids")) == 3,
           "POST /sim/jobs: %ld", status);
    const char *id = json_string_value (json_array_get (json_object_get (made, "ids"), 0));
    apps = s_json ("GET",
                   "/ws/v1/cluster/apps?applicationTypes=spark&applicationTags=JOBD&states="
                   "running&deSelects=resourceRequests",
                   NULL, NULL);
    CHECK (json_array_size (json_object_get (json_object_get (apps, "apps"), "app")) == 3,
           "tagged running apps");
    json_decref (apps);
    char path[128];
    snprintf (path, sizeof path, "/ws/v1/cluster/apps/%s/state", id);
    s_reply_t r = s_http ("PUT", path, "{\"state\":\"KILLED\"}");
    CHECK (r.status == 202 && strcmp (r.body, "{\"state\":\"RUNNING\"}") == 0 && *r.location,
           "first kill: %ld %s", r.status, r.body);
    s_free (&r);
    s_advance (200);
    r = s_http ("PUT", path, "{\"state\":\"KILLED\"}");
    CHECK (r.status == 200 && strcmp (r.body, "{\"state\":\"KILLED\"}") == 0, "kill done: %ld %s",
           r.status, r.body);
    s_free (&r);
    r = s_http ("PUT", path, "{\"state\":\"RUNNING\"}");
    CHECK (r.status == 400 && strstr (r.body, "Only 'KILLED' is allowed"), "bad target: %ld",
           r.status);
    s_free (&r);
    snprintf (path, sizeof path, "/ws/v1/cluster/apps/%s", id);
    json_t *one = s_json ("GET", path, NULL, NULL);
    json_t *app = json_object_get (one, "app");
    CHECK (strcmp (s_str (app, "state"), "KILLED") == 0 &&
               strcmp (s_str (app, "finalStatus"), "KILLED") == 0,
           "killed app reads %s/%s", s_str (app, "state"), s_str (app, "finalStatus"));
    json_decref (one);
    json_t *missing = s_json ("GET", "/ws/v1/cluster/apps/application_1_0001", NULL, &status);
    CHECK (status == 404 && json_object_get (missing, "RemoteException"), "unknown app: %ld",
           status);
    json_decref (missing);
    json_decref (made);
}

static void
s_test_livy (void)
{
    s_reply_t r = s_http ("POST", "/batches",
                          "{\"file\":\"x.jar\",\"name\":\"b\",\"conf\":{\"spark.sim.scenario\":"
                          "\"queue=100,run=100\"}}");
    CHECK (r.status == 201 && strstr (r.body, "\"state\":\"starting\",\"appId\":null"),
           "create batch: %ld %s", r.status, r.body);
    CHECK (strncmp (r.location, "/batches/", 9) == 0, "Location '%s'", r.location);
    s_free (&r);
    r = s_http ("POST", "/batches", "{\"file\":\"x.jar\",\"bogus\":1}");
    CHECK (r.status == 400 && r.body[0] == '"', "unknown field: %ld %s", r.status, r.body);
    s_free (&r);
    s_advance (300);
    r = s_http ("GET", "/batches/b/state", NULL);
    CHECK (r.status == 200 && strstr (r.body, "\"state\":\"success\""), "batch by name: %s",
           r.body);
    s_free (&r);
    s_advance (601 * 1000);
    r = s_http ("GET", "/batches/b", NULL);
    CHECK (r.status == 404 && strstr (r.body, "{\"msg\":\"Session 'b' not found.\"}"),
           "GC'd batch: %ld %s", r.status, r.body);
    s_free (&r);
    //  quiet=1: a dead batch with log [] (no view access); a bad quiet is refused.
    r = s_http ("POST", "/batches",
                "{\"file\":\"x.jar\",\"name\":\"q\",\"conf\":{\"spark.sim.scenario\":"
                "\"queue=0,run=100,outcome=fail,quiet=1\"}}");
    s_free (&r);
    s_advance (200);
    r = s_http ("GET", "/batches/q", NULL);
    CHECK (r.status == 200 && strstr (r.body, "\"state\":\"dead\"") &&
               strstr (r.body, "\"log\":[]"),
           "quiet batch: %ld %s", r.status, r.body);
    s_free (&r);
    r = s_http ("POST", "/batches",
                "{\"file\":\"x.jar\",\"conf\":{\"spark.sim.scenario\":\"quiet=maybe\"}}");
    CHECK (r.status == 400 && strstr (r.body, "quiet must be"), "bad quiet: %ld %s", r.status,
           r.body);
    s_free (&r);
}

static void
s_test_history (void)
{
    json_decref (s_json ("POST", "/sim/jobs",
                         "{\"backend\":\"history\",\"scenario\":\"queue=0,run=300,outcome=fail\"}",
                         NULL));
    s_advance (400);
    json_t *apps = s_json ("GET", "/api/v1/applications?status=completed&limit=5", NULL, NULL);
    json_t *attempt = json_array_get (json_object_get (json_array_get (apps, 0), "attempts"), 0);
    CHECK (json_is_true (json_object_get (attempt, "completed")), "history app not completed");
    char path[128];
    snprintf (path, sizeof path, "/api/v1/applications/%s/jobs?status=FAILED",
              s_str (json_array_get (apps, 0), "id"));
    json_t *jobs = s_json ("GET", path, NULL, NULL);
    CHECK (json_array_size (jobs) == 1, "expected one failed job");
    json_decref (jobs);
    json_decref (apps);
    s_reply_t r = s_http ("GET", "/api/v1/applications/nope", NULL);
    CHECK (r.status == 404 && strcmp (r.body, "unknown app: nope") == 0, "unknown app: %s", r.body);
    s_free (&r);
}

static void
s_test_faults (void)
{
    json_decref (s_json ("POST", "/sim/stats/reset", NULL, NULL));
    json_decref (s_json ("POST", "/sim/fault",
                         "{\"backend\":\"yarn\",\"mode\":\"http5xx\","
                         "\"status\":503,\"count\":1}",
                         NULL));
    s_reply_t r = s_http ("GET", "/ws/v1/cluster/apps", NULL);
    CHECK (r.status == 503, "fault http5xx: %ld", r.status);
    s_free (&r);
    r = s_http ("GET", "/ws/v1/cluster/apps", NULL);
    CHECK (r.status == 200, "after count 1: %ld", r.status);
    s_free (&r);
    json_decref (s_json ("POST", "/sim/fault", "{\"prefix\":\"/json\",\"mode\":\"down\"}", NULL));
    r = s_http ("GET", "/json/", NULL);
    CHECK (r.rc == CURLE_GOT_NOTHING, "fault down: curl %d", (int)r.rc);
    s_free (&r);
    json_decref (s_json ("DELETE", "/sim/fault", NULL, NULL));
    json_decref (
        s_json ("POST", "/sim/fault", "{\"backend\":\"livy\",\"mode\":\"truncated\"}", NULL));
    r = s_http ("GET", "/batches", NULL);
    CHECK (r.rc == CURLE_PARTIAL_FILE, "fault truncated: curl %d", (int)r.rc);
    s_free (&r);
    json_decref (s_json ("DELETE", "/sim/fault", NULL, NULL));
    json_t *stats = s_json ("GET", "/sim/stats", NULL, NULL);
    json_t *endpoints = json_object_get (stats, "endpoints");
    CHECK (json_integer_value (json_object_get (endpoints, "GET /ws/v1/cluster/apps")) == 2,
           "stats for GET /ws/v1/cluster/apps");
    CHECK (json_integer_value (json_object_get (stats, "faulted")) == 3, "faulted count");
    json_decref (stats);
}

//  A create with executor memory `memory` (NULL: none) on a scenario with min_memory=6g.
static char *
s_create_sized (const char *tag, const char *memory, const char *final)
{
    char body[1024], sized[64] = "";
    if (memory)
        snprintf (sized, sizeof sized, ",\"spark.executor.memory\":\"%s\"", memory);
    snprintf (body, sizeof body,
              "{\"action\":\"CreateSubmissionRequest\",\"clientSparkVersion\":\"\","
              "\"appResource\":\"x.jar\",\"mainClass\":\"M\",\"appArgs\":[],"
              "\"environmentVariables\":{},\"sparkProperties\":{\"spark.app.name\":\"sized\","
              "\"spark.jobd.tag\":\"%s\",\"spark.sim.scenario\":\"queue=0,run=100,"
              "min_memory=6g%s\"%s}}",
              tag, final, sized);
    json_t *json = s_json ("POST", "/v1/submissions/create", body, NULL);
    char *id = strdup (s_str (json, "submissionId"));
    json_decref (json);
    return id;
}

//  Scenario key min_memory: too little executor memory fails with an OutOfMemoryError (Spark's
//  default 1g when none is set); enough runs the scenario's outcome. /sim/stats counts the jobs
//  creates made per tag (standalone spark.jobd.tag, Livy the batch name).
static void
s_test_memory (void)
{
    json_decref (s_json ("POST", "/sim/stats/reset", NULL, NULL));
    char *small = s_create_sized ("jobd-job-1", "4g", "");
    char *unset = s_create_sized ("jobd-job-1-2", NULL, "");
    char *shown = s_create_sized ("jobd-job-2", "4096m", ",final=ERROR");
    char *enough = s_create_sized ("jobd-job-1-3", "6g", "");
    s_advance (200);
    const struct {
        const char *id, *state, *what;
    } drivers[] = {
        {small, "FAILED", "4g"}, {unset, "FAILED", "the default 1g"}, {enough, "FINISHED", "6g"}};
    for (size_t index = 0; index < sizeof drivers / sizeof drivers[0]; index++) {
        char *state = s_driver_state (drivers[index].id);
        CHECK (strcmp (state, drivers[index].state) == 0, "%s with min_memory=6g is %s",
               drivers[index].what, state);
        free (state);
    }
    char path[128];
    snprintf (path, sizeof path, "/v1/submissions/status/%s", shown);
    s_reply_t r = s_http ("GET", path, NULL);
    CHECK (strstr (r.body, "\"driverState\" : \"ERROR\"") &&
               strstr (r.body, "java.lang.OutOfMemoryError: Java heap space"),
           "ERROR with the OOM: %s", r.body);
    s_free (&r);
    free (small);
    free (unset);
    free (shown);
    free (enough);

    const char *batches[][2] = {{"etl [jobd-job-3]", "4g"}, {"etl [jobd-job-3-2]", "6g"}};
    for (size_t index = 0; index < 2; index++) {
        char body[512];
        snprintf (body, sizeof body,
                  "{\"file\":\"x.jar\",\"name\":\"%s\",\"executorMemory\":\"%s\",\"conf\":{"
                  "\"spark.sim.scenario\":\"queue=0,run=100,min_memory=6g\"}}",
                  batches[index][0], batches[index][1]);
        r = s_http ("POST", "/batches", body);
        CHECK (r.status == 201, "livy create: %ld %s", r.status, r.body);
        s_free (&r);
    }
    s_advance (200);
    r = s_http ("GET", "/batches/etl%20%5Bjobd-job-3%5D", NULL);
    CHECK (strstr (r.body, "\"state\":\"dead\"") &&
               strstr (r.body, "java.lang.OutOfMemoryError: Java heap space"),
           "livy batch under min_memory: %s", r.body);
    s_free (&r);
    r = s_http ("GET", "/batches/etl%20%5Bjobd-job-3-2%5D/state", NULL);
    CHECK (strstr (r.body, "\"state\":\"success\""), "livy batch with 6g: %s", r.body);
    s_free (&r);
    r = s_http ("POST", "/batches",
                "{\"file\":\"x.jar\",\"conf\":{\"spark.sim.scenario\":\"min_memory=lots\"}}");
    CHECK (r.status == 400 && strstr (r.body, "min_memory needs a memory size"),
           "bad min_memory: %ld %s", r.status, r.body);
    s_free (&r);

    //  A fault scoped to a method: Livy's create, not its list on the same path.
    json_decref (s_json ("POST", "/sim/fault",
                         "{\"backend\":\"livy\",\"method\":\"POST\",\"mode\":\"http5xx\","
                         "\"count\":1}",
                         NULL));
    r = s_http ("GET", "/batches", NULL);
    CHECK (r.status == 200, "a GET under a POST fault: %ld", r.status);
    s_free (&r);
    r = s_http ("POST", "/batches", "{\"file\":\"x.jar\"}");
    CHECK (r.status == 503, "a POST under a POST fault: %ld", r.status);
    s_free (&r);
    json_t *stats = s_json ("GET", "/sim/stats", NULL, NULL);
    json_t *creates = json_object_get (stats, "creates");
    const char *tags[] = {"jobd-job-1",   "jobd-job-1-2",     "jobd-job-2",
                          "jobd-job-1-3", "etl [jobd-job-3]", "etl [jobd-job-3-2]"};
    for (size_t index = 0; index < sizeof tags / sizeof tags[0]; index++)
        CHECK (json_integer_value (json_object_get (creates, tags[index])) == 1,
               "creates of %s: %lld", tags[index],
               (long long)json_integer_value (json_object_get (creates, tags[index])));
    CHECK (json_object_size (creates) == 6, "creates counted %zu keys (a refused create counts)",
           json_object_size (creates));
    json_decref (stats);
}

//  Requests of a job by one agent after another make runs; an X-Jobd-Epoch below one seen for
//  the job is counted as stale.
static void
s_test_agents (void)
{
    json_decref (s_json ("POST", "/sim/stats/reset", NULL, NULL));
    char *id = s_create_sized ("jobd-job-agents", "6g", "");
    char path[128];
    snprintf (path, sizeof path, "/v1/submissions/status/%s", id);
    const char *calls[][2] = {{"User-Agent: jobd-a", "X-Jobd-Epoch: 3/5"},
                              {"User-Agent: jobd-a", "X-Jobd-Epoch: 3/5"},
                              {"User-Agent: jobd-b", "X-Jobd-Epoch: 3/6"},
                              {"User-Agent: jobd-a", "X-Jobd-Epoch: 3/5"}};
    for (size_t index = 0; index < 4; index++) {
        s_extra[0] = calls[index][0];
        s_extra[1] = calls[index][1];
        s_reply_t r = s_http ("GET", path, NULL);
        s_free (&r);
    }
    s_extra[0] = s_extra[1] = NULL;
    json_t *stats = s_json ("GET", "/sim/stats", NULL, NULL);
    json_t *runs = json_object_get (json_object_get (stats, "jobs_by_agent"), id);
    CHECK (json_array_size (runs) == 3, "runs of %s: %zu", id, json_array_size (runs));
    const char *agents[] = {"jobd-a", "jobd-b", "jobd-a"};
    const json_int_t requests[] = {2, 1, 1};
    for (size_t index = 0; index < 3 && index < json_array_size (runs); index++) {
        json_t *run = json_array_get (runs, index);
        CHECK (strcmp (json_string_value (json_array_get (run, 0)), agents[index]) == 0 &&
                   json_integer_value (json_array_get (run, 3)) == requests[index] &&
                   json_integer_value (json_array_get (run, 1)) <=
                       json_integer_value (json_array_get (run, 2)),
               "run %zu of %s", index, id);
    }
    CHECK (json_integer_value (json_object_get (stats, "stale_epoch_requests")) == 1,
           "stale epoch requests: %lld",
           (long long)json_integer_value (json_object_get (stats, "stale_epoch_requests")));
    CHECK (json_integer_value (json_object_get (json_object_get (stats, "agents"), "jobd-a")) == 3,
           "requests of jobd-a");
    json_decref (stats);
    free (id);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: spark-sim-test PATH-TO-spark-sim\n");
        return 2;
    }
    char dir[] = "/tmp/spark-sim-test-XXXXXX";
    if (!mkdtemp (dir))
        return 2;
    char port_file[128];
    snprintf (port_file, sizeof port_file, "%s/port", dir);
    pid_t pid = fork ();
    if (pid == 0) {
        execl (argv[1], argv[1], "--port", "0", "--port-file", port_file, "--kill-delay-ms", "100",
               (char *)NULL);
        _exit (127);
    }
    curl_global_init (CURL_GLOBAL_ALL);
    int port = 0;
    for (int64_t deadline = s_now_ms () + 10000; !port && s_now_ms () < deadline; s_nap ()) {
        FILE *file = fopen (port_file, "r");
        if (file) {
            if (fscanf (file, "%d", &port) != 1)
                port = 0;
            fclose (file);
        }
    }
    CHECK (port > 0, "spark-sim did not write its port file within 10 s");
    if (port > 0) {
        snprintf (s_base, sizeof s_base, "http://127.0.0.1:%d", port);
        s_test_standalone ();
        s_test_yarn ();
        s_test_livy ();
        s_test_history ();
        s_test_faults ();
        s_test_memory ();
        s_test_agents ();
    }
    kill (pid, SIGTERM);
    int status = -1;
    for (int64_t deadline = s_now_ms () + 10000; s_now_ms () < deadline; s_nap ())
        if (waitpid (pid, &status, WNOHANG) == pid)
            break;
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "spark-sim did not exit cleanly");
    CHECK (access (port_file, F_OK) != 0, "port file left behind");
    rmdir (dir);
    curl_global_cleanup ();
    if (s_failures)
        fprintf (stderr, "%d check(s) failed\n", s_failures);
    else
        printf ("spark-sim-test: all checks passed\n");
    return s_failures ? 1 : 0;
}
