//  retry: the policy's layers (plugins/retry/rt_policy.c), its backoff and jitter, and the retry
//  settings reader of the SDK (sdk/jobd_sdk_retry.c) that the spec validators use.
#include "rt_policy.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

//  The plugin's defaults: 3 attempts, 30s, 30m, x2, full jitter, rate 5.
static void
s_base (rt_rule_t *base)
{
    char reason[256];
    rt_rule_unset (base);
    assert_int_equal (rt_rule_set (base, "max_attempts", "3", reason, sizeof reason), 0);
    assert_int_equal (rt_rule_set (base, "backoff_initial", "30s", reason, sizeof reason), 0);
    assert_int_equal (rt_rule_set (base, "backoff_max", "30m", reason, sizeof reason), 0);
    assert_int_equal (rt_rule_set (base, "multiplier", "2", reason, sizeof reason), 0);
    assert_int_equal (rt_rule_set (base, "jitter", "full", reason, sizeof reason), 0);
    assert_int_equal (rt_rule_set (base, "on_lost", "false", reason, sizeof reason), 0);
    assert_int_equal (rt_rule_set (base, "rate", "5", reason, sizeof reason), 0);
}

static void
test_layers (void **state)
{
    (void)state;
    rt_rule_t base, rule;
    s_base (&base);
    rt_policy_t *policy = NULL;
    char reason[256] = "", name[128];
    assert_int_equal (rt_policy_new (&base,
                                     "spark max_attempts=5; spark/livy backoff_initial=1m rate=2;"
                                     " ;kafka on_lost=true",
                                     &policy, reason, sizeof reason),
                      0);
    rt_policy_resolve (policy, "spark", "livy", &rule, name, sizeof name);
    assert_string_equal (name, "backend livy");
    assert_int_equal (rule.retry.max_attempts, 5);
    assert_int_equal (rule.retry.backoff_initial, 60000);
    assert_int_equal (rule.retry.backoff_max, 1800000);
    assert_int_equal (rule.rate, 2);
    rt_policy_resolve (policy, "spark", "local", &rule, name, sizeof name);
    assert_string_equal (name, "kind spark");
    assert_int_equal (rule.retry.max_attempts, 5);
    assert_int_equal (rule.retry.backoff_initial, 30000);
    assert_int_equal (rule.rate, 5);
    rt_policy_resolve (policy, "demo", NULL, &rule, name, sizeof name);
    assert_string_equal (name, "default");
    assert_int_equal (rule.retry.max_attempts, 3);
    assert_int_equal (rule.retry.on_lost, 0);
    rt_policy_resolve (policy, "kafka", "k", &rule, name, sizeof name);
    assert_int_equal (rule.retry.on_lost, 1);
    rt_policy_destroy (&policy);
    rt_policy_destroy (&policy);
}

static void
test_policies_refused (void **state)
{
    (void)state;
    static const char *bad[] = {"spark max_attempts=0", "spark max_attempts=1001",
                                "spark foo=1",          "spark max_attempts",
                                "spark/ rate=1",        "/livy rate=1",
                                "spark rate=-1",        "spark jitter=half",
                                "spark multiplier=0.5", "spark backoff_initial=soon",
                                "spark on_lost=maybe",  "spark multiplier=2x"};
    rt_rule_t base;
    s_base (&base);
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        rt_policy_t *policy = NULL;
        char reason[256] = "";
        if (rt_policy_new (&base, bad[index], &policy, reason, sizeof reason) == 0)
            fail_msg ("'%s' accepted", bad[index]);
        assert_null (policy);
        assert_non_null (strstr (reason, "policies:"));
    }
    char reason[256] = "";
    rt_policy_t *policy = NULL;
    assert_int_not_equal (
        rt_policy_new (&base, "spark multiplier=0.5", &policy, reason, sizeof reason), 0);
    assert_string_equal (reason, "policies: entry 'spark': multiplier '0.5': not a number from 1 "
                                 "to 100");
}

static void
test_backoff (void **state)
{
    (void)state;
    rt_rule_t base;
    s_base (&base);
    jobd_sdk_retry_t settings = base.retry;
    settings.jitter = JOBD_SDK_JITTER_NONE;
    assert_int_equal (rt_policy_backoff (&settings, 1, 0), 30000);
    assert_int_equal (rt_policy_backoff (&settings, 2, 0), 60000);
    assert_int_equal (rt_policy_backoff (&settings, 3, 0), 120000);
    assert_int_equal (rt_policy_backoff (&settings, 7, 0), 1800000); //  at backoff_max
    assert_int_equal (rt_policy_backoff (&settings, 4000, 0), 1800000);
    settings.multiplier = 1.5;
    assert_int_equal (rt_policy_backoff (&settings, 2, 0), 45000);
    //  Full jitter: uniform in [0, min (max, initial * mult^(n-1))].
    settings.jitter = JOBD_SDK_JITTER_FULL;
    settings.multiplier = 2;
    uint64_t random = 88172645463325252ULL, low = UINT64_MAX, high = 0;
    for (int index = 0; index < 10000; index++) {
        random ^= random << 13, random ^= random >> 7, random ^= random << 17;
        int64_t wait = rt_policy_backoff (&settings, 2, random);
        assert_true (wait >= 0 && wait <= 60000);
        low = (uint64_t)wait < low ? (uint64_t)wait : low;
        high = (uint64_t)wait > high ? (uint64_t)wait : high;
    }
    assert_true (low < 1000 && high > 59000); //  the whole range is used
    assert_int_equal (rt_policy_backoff (&settings, 2, 0), 0);
    assert_true (rt_policy_backoff (&settings, 2, UINT64_MAX) <= 60000);
    //  Durations past a year (a config read without the SDK's check) wait a year at most.
    settings.jitter = JOBD_SDK_JITTER_NONE;
    settings.backoff_initial = settings.backoff_max = INT64_MAX;
    assert_int_equal (rt_policy_backoff (&settings, 3, 0), 365LL * 86400 * 1000);
}

//  The spec's retry object: what the submit validators call.
static void
test_spec_object (void **state)
{
    (void)state;
    jobd_sdk_retry_t settings;
    jobd_sdk_retry_unset (&settings);
    char reason[256] = "";
    assert_int_equal (
        jobd_sdk_retry_from_spec (
            &settings,
            "{\"file\":\"x\",\"retry\":{\"max_attempts\":5,\"backoff_initial\":\"1m\","
            "\"backoff_max\":600000,\"multiplier\":1.5,\"jitter\":\"none\","
            "\"on_lost\":true}}",
            reason, sizeof reason),
        0);
    assert_int_equal (settings.max_attempts, 5);
    assert_int_equal (settings.backoff_initial, 60000);
    assert_int_equal (settings.backoff_max, 600000);
    assert_true (settings.multiplier == 1.5);
    assert_int_equal (settings.jitter, JOBD_SDK_JITTER_NONE);
    assert_int_equal (settings.on_lost, 1);
    //  A spec without retry: nothing set.
    jobd_sdk_retry_unset (&settings);
    assert_int_equal (
        jobd_sdk_retry_from_spec (&settings, "{\"file\":\"x\"}", reason, sizeof reason), 0);
    assert_int_equal (settings.max_attempts, -1);
    static const char *bad[] = {
        "{\"retry\":5}",
        "{\"retry\":{\"max_attemps\":5}}",
        "{\"retry\":{\"max_attempts\":\"5\"}}",
        "{\"retry\":{\"max_attempts\":0}}",
        "{\"retry\":{\"max_attempts\":2.5}}",
        "{\"retry\":{\"backoff_initial\":\"soon\"}}",
        "{\"retry\":{\"backoff_initial\":-5}}",
        "{\"retry\":{\"backoff_initial\":\"10m\",\"backoff_max\":\"1m\"}}",
        "{\"retry\":{\"multiplier\":0.5}}",
        "{\"retry\":{\"multiplier\":\"2\"}}",
        "{\"retry\":{\"jitter\":\"half\"}}",
        "{\"retry\":{\"jitter\":1}}",
        "{\"retry\":{\"on_lost\":\"yes\"}}",
        "{\"retry\":{\"on_lost\":1}}",
        "{\"retry\":{\"backoff_initial\":9223372036854775807,"
        "\"backoff_max\":9223372036854775807}}",
        "{\"retry\":{\"backoff_max\":\"8785h\"}}",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        reason[0] = 0;
        if (jobd_sdk_retry_from_spec (NULL, bad[index], reason, sizeof reason) == 0)
            fail_msg ("'%s' accepted", bad[index]);
        assert_int_equal (strncmp (reason, "key 'retry': ", 13), 0);
    }
    jobd_sdk_retry_from_spec (NULL, "{\"retry\":{\"max_attemps\":5}}", reason, sizeof reason);
    assert_string_equal (reason, "key 'retry': unknown key 'max_attemps' (one of max_attempts, "
                                 "backoff_initial, backoff_max, multiplier, jitter, on_lost)");
    //  jobd's own spec keys take retry, so that every validator passes it to the reader.
    assert_true (jobd_sdk_spec_common ("retry"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_layers),
        cmocka_unit_test (test_policies_refused),
        cmocka_unit_test (test_backoff),
        cmocka_unit_test (test_spec_object),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
