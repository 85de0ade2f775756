//  retry: memory sizes as Spark writes them, and a failure class's change to the next attempt's
//  spec (plugins/retry/rt_size.c, rt_change.c).
#include "rt_change.h"
#include "rt_size.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024LL * 1024)

static void
test_size_units (void **state)
{
    (void)state;
    int64_t bytes = 0;
    assert_int_equal (rt_size_parse ("512m", &bytes), 0);
    assert_int_equal (bytes, 512 * MIB);
    assert_int_equal (rt_size_parse ("4g", &bytes), 0);
    assert_int_equal (bytes, 4096 * MIB);
    assert_int_equal (rt_size_parse ("4G", &bytes), 0);
    assert_int_equal (bytes, 4096 * MIB);
    assert_int_equal (rt_size_parse ("2gb", &bytes), 0);
    assert_int_equal (bytes, 2048 * MIB);
    //  No unit: MiB, as spark.executor.memory reads it.
    assert_int_equal (rt_size_parse ("4096", &bytes), 0);
    assert_int_equal (bytes, 4096 * MIB);
    assert_int_equal (rt_size_parse ("1k", &bytes), 0);
    assert_int_equal (bytes, 1024);
    //  Spark refuses fractions and unknown units; so does jobd.
    assert_int_equal (rt_size_parse ("1.5g", &bytes), -1);
    assert_int_equal (rt_size_parse ("10x", &bytes), -1);
    assert_int_equal (rt_size_parse ("-1g", &bytes), -1);
    assert_int_equal (rt_size_parse ("", &bytes), -1);
    assert_int_equal (rt_size_parse (NULL, &bytes), -1);
    assert_int_equal (rt_size_parse ("99999999999999999999g", &bytes), -1);
    char text[32];
    assert_string_equal (rt_size_format (6144 * MIB, text, sizeof text), "6g");
    assert_string_equal (rt_size_format (1536 * MIB, text, sizeof text), "1536m");
    assert_string_equal (rt_size_format (1024, text, sizeof text), "1k");
    assert_string_equal (rt_size_format (1000, text, sizeof text), "1000b");
}

static rt_change_t *
s_change (const char *text)
{
    rt_change_t *change = NULL;
    char reason[256] = "";
    if (rt_change_new (text, &change, reason, sizeof reason))
        fail_msg ("'%s' refused: %s", text, reason);
    return change;
}

//  The value at key (a JSON pointer of two levels at most) of spec text.
static void
s_assert_value (const char *spec, const char *map, const char *key, const char *wanted)
{
    json_t *root = json_loads (spec, 0, NULL);
    assert_non_null (root);
    json_t *holder = map ? json_object_get (root, map) : root;
    const char *value = json_string_value (json_object_get (holder, key));
    if (!value || strcmp (value, wanted))
        fail_msg ("%s%s%s: '%s', wanted '%s' in %s", map ? map : "", map ? "." : "", key,
                  value ? value : "(none)", wanted, spec);
    json_decref (root);
}

static void
test_change_livy_field (void **state)
{
    (void)state;
    rt_change_t *change = s_change ("spark.executor.memory*1.5<=16g, spark.driver.memory*1.5<=8g");
    char line[1024];
    char *spec = rt_change_apply (
        change, "{\"file\":\"x.jar\",\"executorMemory\":\"4g\",\"driverMemory\":\"2g\"}", "oom",
        line, sizeof line);
    assert_non_null (spec);
    s_assert_value (spec, NULL, "executorMemory", "6g");
    s_assert_value (spec, NULL, "driverMemory", "3g");
    s_assert_value (spec, NULL, "file", "x.jar");
    assert_string_equal (line,
                         "executorMemory 4g -> 6g (class oom); driverMemory 2g -> 3g (class oom)");
    free (spec);
    rt_change_destroy (&change);
    rt_change_destroy (&change); //  NULL-safe
}

static void
test_change_conf_key (void **state)
{
    (void)state;
    rt_change_t *change = s_change ("spark.executor.memory*1.5<=16g");
    char line[1024];
    //  No unit in Spark's property: MiB.
    char *spec = rt_change_apply (change, "{\"conf\":{\"spark.executor.memory\":\"4096\"}}", "oom",
                                  line, sizeof line);
    assert_non_null (spec);
    s_assert_value (spec, "conf", "spark.executor.memory", "6g");
    assert_string_equal (line, "spark.executor.memory 4g -> 6g (class oom)");
    free (spec);
    spec = rt_change_apply (change, "{\"sparkProperties\":{\"spark.executor.memory\":\"1000m\"}}",
                            "oom", line, sizeof line);
    s_assert_value (spec, "sparkProperties", "spark.executor.memory", "1500m");
    free (spec);
    rt_change_destroy (&change);
}

static void
test_change_absent_and_caps (void **state)
{
    (void)state;
    rt_change_t *change = s_change ("spark.executor.memory*1.5<=16g,spark.yarn.am.memory*2");
    char line[1024];
    //  Absent: from Spark's default, 1g, and said so; a property without a known default is
    //  left alone.
    char *spec = rt_change_apply (change, "{\"file\":\"x.jar\"}", "oom", line, sizeof line);
    assert_non_null (spec);
    s_assert_value (spec, NULL, "executorMemory", "1536m");
    assert_string_equal (line, "executorMemory 1g (absent: Spark's default) -> 1536m (class oom)");
    assert_null (strstr (spec, "spark.yarn.am.memory"));
    free (spec);
    //  Over the cap: the cap. At the cap: unchanged, and said so.
    spec = rt_change_apply (change, "{\"executorMemory\":\"12g\"}", "oom", line, sizeof line);
    s_assert_value (spec, NULL, "executorMemory", "16g");
    assert_string_equal (line, "executorMemory 12g -> 16g, its cap (class oom)");
    free (spec);
    spec = rt_change_apply (change, "{\"executorMemory\":\"16g\"}", "oom", line, sizeof line);
    assert_null (spec);
    assert_string_equal (line, "executorMemory 16g: at its cap (class oom)");
    //  A value that is not a memory size is left alone, and said so.
    spec = rt_change_apply (change, "{\"executorMemory\":\"lots\"}", "oom", line, sizeof line);
    assert_null (spec);
    assert_non_null (strstr (line, "is not a memory size"));
    //  Not a JSON object: nothing.
    assert_null (rt_change_apply (change, "[1]", "oom", line, sizeof line));
    assert_null (rt_change_apply (NULL, "{}", "oom", line, sizeof line));
    rt_change_destroy (&change);
}

static void
test_change_refused (void **state)
{
    (void)state;
    static const char *bad[] = {"spark.executor.memory",
                                "executorMemory*2",
                                "spark.executor.memory*0",
                                "spark.executor.memory*101",
                                "spark.executor.memory*x",
                                "spark.executor.memory*2<=lots",
                                "spark.executor.memory*2<=1.5g",
                                "spark.a*2,spark.b*2,spark.c*2,spark.d*2,spark.e*2,spark.f*2,"
                                "spark.g*2,spark.h*2,spark.i*2"};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        rt_change_t *change = NULL;
        char reason[256] = "";
        if (rt_change_new (bad[index], &change, reason, sizeof reason) == 0)
            fail_msg ("'%s' accepted", bad[index]);
        assert_null (change);
        assert_true (strlen (reason) > 0);
    }
    rt_change_t *change = NULL;
    char reason[256] = "";
    assert_int_equal (rt_change_new ("", &change, reason, sizeof reason), 0);
    assert_null (change);
    assert_int_equal (rt_change_new (" , ", &change, reason, sizeof reason), 0);
    assert_null (change);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_size_units),      cmocka_unit_test (test_change_livy_field),
        cmocka_unit_test (test_change_conf_key), cmocka_unit_test (test_change_absent_and_caps),
        cmocka_unit_test (test_change_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
