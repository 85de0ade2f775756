//  spark-poller's spec table: each spec error refused with its key, and what each backend
//  receives for each key (plugins/spark-poller/SPECS.md).
#include "jobd_error.h"
#include "sp_spec.h"
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static void
s_refused (const char *spec, sp_spec_target_t target, const char *words)
{
    char reason[512] = "";
    assert_int_equal (sp_spec_check (spec, target, reason, sizeof reason), JOBD_EINVAL);
    if (!strstr (reason, words))
        fail_msg ("%s: reason '%s' lacks '%s'", spec, reason, words);
}

static void
test_spec_errors (void **state)
{
    (void)state;
    const struct {
        const char *spec, *words;
    } cases[] = {
        {"[1]", "not a JSON object"},
        {"{", "not JSON"},
        {"{\"name\":\"x\"}", "no 'file'"},
        {"{\"file\":\"a.jar\",\"flink\":1}", "unknown key 'flink'"},
        {"{\"file\":7}", "'file' must be a string"},
        {"{\"file\":\"a.jar\",\"args\":\"a b\"}", "'args' must be an array of strings"},
        {"{\"file\":\"a.jar\",\"jars\":[\"x.jar\",2]}", "'jars': item 1 is not a string"},
        {"{\"file\":\"a.jar\",\"driverCores\":\"2\"}", "'driverCores' must be an integer"},
        {"{\"file\":\"a.jar\",\"numExecutors\":-1}", "'numExecutors' must be an integer"},
        {"{\"file\":\"a.jar\",\"conf\":[]}", "'conf' must be an object"},
        {"{\"file\":\"a.jar\",\"conf\":{\"spark.x\":{}}}", "'conf': 'spark.x' must be a string"},
        {"{\"file\":\"a.jar\",\"appResource\":\"b.jar\"}", "not both"},
        {"{\"file\":\"a.jar\",\"className\":\"A\",\"mainClass\":\"B\"}", "not both"},
        {"{\"file\":\"a.jar\",\"name\":[]}", "'name' must be a string"},
        //  The retry plugin's object, checked by the SDK's reader.
        {"{\"file\":\"a.jar\",\"retry\":3}", "key 'retry': not an object"},
        {"{\"file\":\"a.jar\",\"retry\":{\"multiplier\":0.5}}",
         "key 'retry': multiplier '0.5': not a number from 1 to 100"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        s_refused (cases[index].spec, SP_SPEC_LIVY, cases[index].words);
        s_refused (cases[index].spec, SP_SPEC_STANDALONE, cases[index].words);
    }
    //  Each backend refuses what it cannot take.
    s_refused ("{\"file\":\"a.jar\",\"proxyUser\":\"alice\"}", SP_SPEC_STANDALONE,
               "'proxyUser' is not taken by a standalone backend");
    s_refused ("{\"file\":\"a.jar\",\"environmentVariables\":{\"A\":\"1\"}}", SP_SPEC_LIVY,
               "spark.yarn.appMasterEnv");
    s_refused ("{\"file\":\"a.jar\",\"clientSparkVersion\":\"3.5.1\"}", SP_SPEC_LIVY,
               "'clientSparkVersion' is not taken by a livy backend");
    s_refused ("{\"file\":\"a.jar\",\"pyFiles\":[\"p.py\"]}", SP_SPEC_STANDALONE,
               "no Python application in cluster mode");
    s_refused ("{\"appResource\":\"hdfs:///jobs/fx.py\"}", SP_SPEC_STANDALONE,
               "'hdfs:///jobs/fx.py' is a Python application");
    s_refused ("{\"appResource\":\"a.jar\",\"action\":\"KillSubmissionRequest\"}",
               SP_SPEC_STANDALONE, "CreateSubmissionRequest");
    char reason[256];
    assert_int_equal (sp_spec_check ("{\"file\":\"a.jar\",\"kind\":\"spark\",\"backend\":\"l\","
                                     "\"deadlines\":{},\"max_runtime\":\"1h\"}",
                                     SP_SPEC_LIVY, reason, sizeof reason),
                      0);
    assert_int_equal (sp_spec_check ("{\"file\":\"a.jar\",\"retry\":{\"max_attempts\":5,"
                                     "\"backoff_initial\":\"1m\",\"jitter\":\"none\"}}",
                                     SP_SPEC_STANDALONE, reason, sizeof reason),
                      0);
}

static json_t *
s_body (const char *spec, sp_spec_target_t target, const char *name)
{
    sp_spec_job_t job = {
        .job_id = "job-7", .tag = "jobd-job-7", .name = name, .master = "spark://m:7077"};
    char *text = NULL, reason[256] = "";
    int rc = sp_spec_body (spec, target, &job, &text, reason, sizeof reason);
    if (rc)
        fail_msg ("%s: %s", spec, reason);
    json_t *body = json_loads (text, 0, NULL);
    free (text);
    assert_non_null (body);
    return body;
}

static const char *
s_str (json_t *object, const char *key)
{
    const char *value = json_string_value (json_object_get (object, key));
    if (!value)
        fail_msg ("no string '%s'", key);
    return value;
}

//  Livy's own batch fields, all of them, as Livy's POST /batches gets them.
#define S_LIVY_SPEC                                                                                \
    "{\"file\":\"hdfs:///jobs/etl.jar\",\"className\":\"com.example.Etl\",\"args\":[\"2026\"],"    \
    "\"jars\":[\"a.jar\",\"b.jar\"],\"pyFiles\":[\"p.py\"],\"files\":[\"f.txt\"],"                 \
    "\"archives\":[\"z.zip\"],\"driverMemory\":\"2g\",\"driverCores\":2,"                          \
    "\"executorMemory\":\"4g\",\"executorCores\":3,\"numExecutors\":5,\"queue\":\"etl\","          \
    "\"proxyUser\":\"alice\",\"name\":\"nightly\",\"kind\":\"spark\",\"backend\":\"livy\","        \
    "\"conf\":{\"spark.yarn.tags\":\"team-a\",\"spark.sql.shuffle.partitions\":64}}"

static void
test_livy_body (void **state)
{
    (void)state;
    json_t *body = s_body (S_LIVY_SPEC, SP_SPEC_LIVY, "nightly");
    assert_string_equal (s_str (body, "file"), "hdfs:///jobs/etl.jar");
    assert_string_equal (s_str (body, "className"), "com.example.Etl");
    assert_string_equal (json_string_value (json_array_get (json_object_get (body, "args"), 0)),
                         "2026");
    assert_int_equal (json_array_size (json_object_get (body, "jars")), 2);
    assert_int_equal (json_array_size (json_object_get (body, "pyFiles")), 1);
    assert_int_equal (json_array_size (json_object_get (body, "files")), 1);
    assert_int_equal (json_array_size (json_object_get (body, "archives")), 1);
    assert_string_equal (s_str (body, "driverMemory"), "2g");
    assert_int_equal (json_integer_value (json_object_get (body, "driverCores")), 2);
    assert_string_equal (s_str (body, "executorMemory"), "4g");
    assert_int_equal (json_integer_value (json_object_get (body, "executorCores")), 3);
    assert_int_equal (json_integer_value (json_object_get (body, "numExecutors")), 5);
    assert_string_equal (s_str (body, "queue"), "etl");
    assert_string_equal (s_str (body, "proxyUser"), "alice");
    //  The user's name, with jobd's tag that makes it unique and findable.
    assert_string_equal (s_str (body, "name"), "nightly [jobd-job-7]");
    json_t *conf = json_object_get (body, "conf");
    assert_string_equal (s_str (conf, "spark.yarn.tags"), "team-a,jobd-job-7");
    assert_string_equal (s_str (conf, "spark.sql.shuffle.partitions"), "64");
    assert_string_equal (s_str (conf, "spark.jobd.id"), "job-7");
    //  Nothing of jobd's own keys reaches Livy (it refuses unknown fields).
    assert_null (json_object_get (body, "kind"));
    assert_null (json_object_get (body, "backend"));
    assert_int_equal (json_object_size (body), 16);
    json_decref (body);
    //  Without a name: the tag alone, as before.
    body = s_body ("{\"appResource\":\"a.jar\",\"mainClass\":\"A\",\"appArgs\":[],"
                   "\"sparkProperties\":{\"spark.x\":\"1\"}}",
                   SP_SPEC_LIVY, NULL);
    assert_string_equal (s_str (body, "name"), "jobd-job-7");
    assert_string_equal (s_str (body, "file"), "a.jar");
    assert_string_equal (s_str (body, "className"), "A");
    assert_string_equal (s_str (json_object_get (body, "conf"), "spark.x"), "1");
    json_decref (body);
}

static void
test_standalone_body (void **state)
{
    (void)state;
    //  Livy's fields, sent to a standalone master as the properties spark-submit sets.
    const char *spec =
        "{\"file\":\"hdfs:///jobs/etl.jar\",\"className\":\"com.example.Etl\","
        "\"args\":[\"2026\"],\"jars\":[\"a.jar\",\"b.jar\"],"
        "\"files\":[\"f.txt\"],\"archives\":[\"z.zip\"],\"driverMemory\":\"2g\","
        "\"driverCores\":2,\"executorMemory\":\"4g\",\"executorCores\":3,"
        "\"numExecutors\":5,\"queue\":\"etl\",\"conf\":{\"spark.a\":\"1\"},"
        "\"sparkProperties\":{\"spark.b\":true},"
        "\"environmentVariables\":{\"TZ\":\"UTC\"},\"clientSparkVersion\":\"3.5.1\"}";
    json_t *body = s_body (spec, SP_SPEC_STANDALONE, "nightly");
    assert_string_equal (s_str (body, "action"), "CreateSubmissionRequest");
    assert_string_equal (s_str (body, "clientSparkVersion"), "3.5.1");
    assert_string_equal (s_str (body, "appResource"), "hdfs:///jobs/etl.jar");
    assert_string_equal (s_str (body, "mainClass"), "com.example.Etl");
    assert_int_equal (json_array_size (json_object_get (body, "appArgs")), 1);
    assert_string_equal (s_str (json_object_get (body, "environmentVariables"), "TZ"), "UTC");
    json_t *properties = json_object_get (body, "sparkProperties");
    const char *expected[][2] = {{"spark.jars", "a.jar,b.jar"},
                                 {"spark.files", "f.txt"},
                                 {"spark.archives", "z.zip"},
                                 {"spark.driver.memory", "2g"},
                                 {"spark.driver.cores", "2"},
                                 {"spark.executor.memory", "4g"},
                                 {"spark.executor.cores", "3"},
                                 {"spark.executor.instances", "5"},
                                 {"spark.yarn.queue", "etl"},
                                 {"spark.a", "1"},
                                 {"spark.b", "true"},
                                 {"spark.app.name", "nightly"},
                                 {"spark.jobd.id", "job-7"},
                                 {"spark.jobd.tag", "jobd-job-7"},
                                 {"spark.master", "spark://m:7077"},
                                 {"spark.submit.deployMode", "cluster"}};
    for (size_t index = 0; index < sizeof expected / sizeof expected[0]; index++)
        assert_string_equal (s_str (properties, expected[index][0]), expected[index][1]);
    assert_int_equal (json_object_size (properties), sizeof expected / sizeof expected[0]);
    assert_int_equal (json_object_size (body), 7);
    json_decref (body);
    //  The portable minimum (reference 1.4): appArgs, environmentVariables, spark.app.name.
    body = s_body ("{\"appResource\":\"a.jar\"}", SP_SPEC_STANDALONE, NULL);
    assert_int_equal (json_array_size (json_object_get (body, "appArgs")), 0);
    assert_true (json_is_object (json_object_get (body, "environmentVariables")));
    assert_string_equal (s_str (body, "mainClass"), "org.apache.spark.deploy.SparkSubmit");
    assert_string_equal (s_str (json_object_get (body, "sparkProperties"), "spark.app.name"),
                         "jobd-job-7");
    json_decref (body);
}

static void
test_livy_names (void **state)
{
    (void)state;
    char name[300], tag[300];
    sp_spec_livy_name ("nightly etl", "jobd-job-7-2", name, sizeof name);
    assert_string_equal (name, "nightly etl [jobd-job-7-2]");
    assert_string_equal (sp_spec_livy_tag (name, tag, sizeof tag), "jobd-job-7-2");
    assert_string_equal (sp_spec_livy_tag ("jobd-job-7", tag, sizeof tag), "jobd-job-7");
    assert_string_equal (sp_spec_livy_tag ("x [y] z", tag, sizeof tag), "x [y] z");
    sp_spec_livy_name (NULL, "jobd-job-7", name, sizeof name);
    assert_string_equal (name, "jobd-job-7");
    //  A long name is shortened, never the tag; not inside a UTF-8 character.
    char longer[400];
    memset (longer, 'a', sizeof longer);
    longer[sizeof longer - 1] = 0;
    memcpy (longer + 240, "\xc3\xa9\xc3\xa9", 4);
    sp_spec_livy_name (longer, "jobd-job-12345", name, sizeof name);
    assert_true (strlen (name) <= SP_SPEC_NAME_MAX);
    assert_string_equal (sp_spec_livy_tag (name, tag, sizeof tag), "jobd-job-12345");
    assert_non_null (strstr (name, "a [jobd"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_spec_errors),
        cmocka_unit_test (test_livy_body),
        cmocka_unit_test (test_standalone_body),
        cmocka_unit_test (test_livy_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
