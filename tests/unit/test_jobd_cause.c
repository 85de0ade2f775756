//  One-line causes out of real failure texts: standalone master messages, spark-submit output
//  (JVM and Python), Livy batch logs, YARN diagnostics, and any producer's error.
#include "jobd_cause.h"
#include "jobd_utf8.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

typedef size_t (s_rule_fn) (const char *text, char *cause, size_t size);

static void
s_expect (s_rule_fn *rule, const char *text, const char *expected)
{
    char cause[JOBD_CAUSE_CUT + 4];
    memset (cause, 'x', sizeof cause);
    size_t length = rule (text, cause, sizeof cause);
    assert_string_equal (cause, expected);
    assert_int_equal (length, strlen (expected));
}

//  The standalone master's status message (reference 1.5): "Exception from the cluster:\n",
//  the exception's toString, then its frames after tabs.
static void
test_standalone_message (void **state)
{
    s_expect (
        jobd_cause_spark,
        "Exception from the cluster:\norg.apache.spark.SparkException: Job aborted: stage 3 "
        "failed 4 times\n\torg.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages"
        "(DAGScheduler.scala:2672)\n\torg.apache.spark.scheduler.DAGScheduler.$anonfun$"
        "abortStage$2(DAGScheduler.scala:2608)",
        "SparkException: Job aborted: stage 3 failed 4 times");
    s_expect (jobd_cause_spark,
              "Exception from the cluster:\njava.io.FileNotFoundException: /tmp/app.jar (No such "
              "file or directory)\n\tjava.base/java.io.FileInputStream.open0(Native Method)\n\t"
              "org.apache.spark.deploy.worker.DriverRunner.downloadUserJar(DriverRunner.scala:160)",
              "FileNotFoundException: /tmp/app.jar (No such file or directory)");
    //  No exception in it at all: its first line.
    s_expect (jobd_cause_spark, "Exception from the cluster:\n", "Exception from the cluster:");
}

//  spark-submit's output for a failed job: the deepest exception is the last "Caused by:".
static void
test_spark_caused_by (void **state)
{
    const char *trace =
        "24/01/15 10:00:07 INFO DAGScheduler: Job 0 failed: count at Main.scala:10, took 3.2 s\n"
        "Exception in thread \"main\" org.apache.spark.SparkException: Job aborted due to stage "
        "failure: Task 0 in stage 3.0 failed 4 times, most recent failure: Lost task 0.3 in stage "
        "3.0 (TID 7) (10.0.0.5 executor 1): java.lang.ArithmeticException: / by zero\n"
        "\tat Main$.$anonfun$main$1(Main.scala:10)\n"
        "Driver stacktrace:\n"
        "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages("
        "DAGScheduler.scala:2672)\n"
        "\tat org.apache.spark.rdd.RDD.count(RDD.scala:1274)\n"
        "Caused by: java.io.IOException: cannot read part-0000\n"
        "\tat Main$.read(Main.scala:20)\n"
        "Caused by: java.lang.ArithmeticException: / by zero\n"
        "\tat Main$.$anonfun$main$1(Main.scala:10)\n"
        "\t... 8 more\n";
    s_expect (jobd_cause_spark, trace, "ArithmeticException: / by zero");
    //  The generic rule takes the first one, cut at 200 bytes.
    s_expect (jobd_cause_generic, trace,
              "SparkException: Job aborted due to stage failure: Task 0 in stage 3.0 failed 4 "
              "times, most recent failure: Lost task 0.3 in stage 3.0 (TID 7) (10.0.0.5 executor "
              "1): java.lang.ArithmeticException: /...");
    //  A nested class keeps its outer class; a bare name at the line's end counts.
    s_expect (jobd_cause_spark, "Caused by: java.lang.OutOfMemoryError\n\tat x.y(Z.java:1)",
              "OutOfMemoryError");
    s_expect (jobd_cause_spark,
              "Exception in thread \"main\" com.acme.Job$BadInputException: row 7",
              "Job$BadInputException: row 7");
}

//  A PySpark job: the traceback's last line names the exception.
static void
test_python_traceback (void **state)
{
    s_expect (jobd_cause_spark,
              "Traceback (most recent call last):\n"
              "  File \"/app/job.py\", line 12, in <module>\n"
              "    df = spark.read.parquet(path)\n"
              "  File \"/opt/spark/python/lib/pyspark.zip/pyspark/sql/readwriter.py\", line 531, "
              "in parquet\n"
              "    raise AnalysisException(msg)\n"
              "pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does "
              "not exist: s3a://bucket/x.\n",
              "AnalysisException: [PATH_NOT_FOUND] Path does not exist: s3a://bucket/x.");
    s_expect (jobd_cause_generic, "Traceback (most recent call last):\n  File \"a.py\"\nValueError",
              "ValueError");
}

//  Livy's batch log (reference 3.4): its markers and INFO/WARN lines are not the cause.
static void
test_livy_log (void **state)
{
    s_expect (jobd_cause_livy_log,
              "stdout: \n\nstderr: \nWarning: Skip remote jar hdfs://nn/app.jar.\n"
              "24/01/15 10:00:00 WARN NativeCodeLoader: Unable to load native-hadoop library "
              "(java.lang.UnsatisfiedLinkError: no hadoop)\n"
              "Exception in thread \"main\" java.lang.ClassNotFoundException: com.example.Main\n"
              "\tat java.net.URLClassLoader.findClass(URLClassLoader.java:382)\n"
              "\tat java.lang.ClassLoader.loadClass(ClassLoader.java:418)",
              "ClassNotFoundException: com.example.Main");
    //  On YARN: the application report's continuation lines carry the diagnostics.
    s_expect (jobd_cause_livy_log,
              "24/01/15 10:00:05 INFO Client: Application report for "
              "application_1700000000000_0042 (state: FINISHED)\n"
              "24/01/15 10:00:05 INFO Client: \n"
              "\t client token: N/A\n"
              "\t diagnostics: User class threw exception: java.lang.RuntimeException: boom\n"
              "\t ApplicationMaster host: 10.0.0.7\n"
              "\t final status: FAILED\n"
              "Exception in thread \"main\" org.apache.spark.SparkException: Application "
              "application_1700000000000_0042 finished with failed status",
              "RuntimeException: boom");
    //  No exception: the last ERROR line, after its level.
    s_expect (jobd_cause_livy_log,
              "stdout: \n\nstderr: \n24/01/15 10:00:00 ERROR SparkContext: Error initializing "
              "SparkContext.\n24/01/15 10:00:00 INFO ShutdownHookManager: Shutdown hook called",
              "SparkContext: Error initializing SparkContext.");
    s_expect (jobd_cause_livy_log, "stdout: \n\nstderr: \nError: Failed to load class Main.",
              "Error: Failed to load class Main.");
    //  Nothing but noise: the first line left, else the generic rule.
    s_expect (jobd_cause_livy_log, "stdout: \n\nstderr: \nspark-submit exited with code 1",
              "spark-submit exited with code 1");
    s_expect (jobd_cause_livy_log, "24/01/15 INFO Client: gone", "24/01/15 INFO Client: gone");
}

//  YARN diagnostics (reference 4.4): the first line, or the exception an AM reported.
static void
test_yarn_diagnostics (void **state)
{
    s_expect (jobd_cause_yarn,
              "Application application_1700000000000_0042 failed 2 times due to AM Container for "
              "appattempt_1700000000000_0042_000002 exited with  exitCode: 13\n"
              "Failing this attempt.Diagnostics: [2024-01-15 10:00:00.000]Exception from "
              "container-launch.\nContainer id: container_1700000000000_0042_02_000001\n"
              "Exit code: 13\nStack trace: ExitCodeException exitCode=13:\n"
              "\tat org.apache.hadoop.util.Shell.runCommand(Shell.java:1008)",
              "Application application_1700000000000_0042 failed 2 times due to AM Container for "
              "appattempt_1700000000000_0042_000002 exited with  exitCode: 13");
    s_expect (jobd_cause_yarn,
              "User class threw exception: org.apache.spark.sql.AnalysisException: Table or view "
              "not found: db.t; line 1 pos 14\n\tat org.apache.spark.sql.Dataset.ofRows(x)",
              "AnalysisException: Table or view not found: db.t; line 1 pos 14");
    s_expect (jobd_cause_yarn, "\n\nApplication killed by user.\n", "Application killed by user.");
}

//  A producer's error and jobd's own texts: the generic rule.
static void
test_generic (void **state)
{
    s_expect (jobd_cause_generic, "sink timed out after 30 s", "sink timed out after 30 s");
    s_expect (jobd_cause_generic, "\n \n  first line  \nsecond", "first line");
    s_expect (jobd_cause_generic, "java.net.SocketTimeoutException", "SocketTimeoutException");
    s_expect (jobd_cause_generic,
              "a\tb\x01"
              "c\r\n",
              "a b c");
    s_expect (jobd_cause_generic, "", "");
    s_expect (jobd_cause_generic, " \n\t\n", "");
    s_expect (jobd_cause_generic, NULL, "");
    s_expect (jobd_cause_spark, NULL, "");
    s_expect (jobd_cause_livy_log, NULL, "");
    s_expect (jobd_cause_yarn, NULL, "");
    //  An exception quoted in brackets keeps no bracket it did not open; its own stay.
    s_expect (jobd_cause_generic, "job 4 failed (java.lang.RuntimeException: simulated failure)",
              "RuntimeException: simulated failure");
    s_expect (jobd_cause_generic, "stage [org.apache.spark.SparkException: lost (3 tries)]",
              "SparkException: lost (3 tries)");
    s_expect (jobd_cause_generic, "java.io.IOException: bad path a)b", "IOException: bad path a)b");
    //  Words that only look like one: lower-case, or no colon after it.
    s_expect (jobd_cause_generic, "the job threw exception: x\nNoSuchException here",
              "the job threw exception: x");
}

//  Long lines are cut at a character's start, with "...".
static void
test_cut (void **state)
{
    char text[1024], cause[JOBD_CAUSE_CUT + 4];
    size_t used = 0;
    while (used + 2 < sizeof text) {
        memcpy (text + used, "\xc3\xa9", 2); //  é
        used += 2;
    }
    text[used] = 0;
    text[201] = 'x'; //  the 200 bytes end inside a character: cut before it
    size_t length = jobd_cause_generic (text, cause, sizeof cause);
    assert_true (length <= JOBD_CAUSE_CUT);
    assert_int_equal (length, strlen (cause));
    assert_memory_equal (cause + length - 3, "...", 3);
    assert_true (jobd_utf8_valid (cause, length));
    //  A smaller buffer cuts shorter.
    length = jobd_cause_generic ("abcdefghij", cause, 8);
    assert_string_equal (cause, "abcd...");
    assert_int_equal (length, 7);
    //  Exactly the limit is not cut.
    memset (text, 'a', JOBD_CAUSE_CUT);
    text[JOBD_CAUSE_CUT] = 0;
    assert_int_equal (jobd_cause_generic (text, cause, sizeof cause), JOBD_CAUSE_CUT);
    assert_null (strchr (cause, '.'));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_standalone_message),
        cmocka_unit_test (test_spark_caused_by),
        cmocka_unit_test (test_python_traceback),
        cmocka_unit_test (test_livy_log),
        cmocka_unit_test (test_yarn_diagnostics),
        cmocka_unit_test (test_generic),
        cmocka_unit_test (test_cut),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
