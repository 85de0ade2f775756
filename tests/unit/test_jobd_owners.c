//  The owners of submissions: a kind nobody running takes, a stopped owner, a validator's
//  refusal, an older plugin that says nothing of its kinds.
#include "jobd_error.h"
#include "jobd_owners.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

//  The plugins' status words: "<name>=<status>" pairs.
static const char *s_statuses[8][2];

static const char *
s_status (const char *name, void *arg)
{
    (void)arg;
    for (size_t index = 0; index < 8 && s_statuses[index][0]; index++)
        if (strcmp (s_statuses[index][0], name) == 0)
            return s_statuses[index][1];
    return NULL;
}

static int s_calls;

//  Refuses a spec that is not "{}"; counts its calls.
static int
s_validate (void *state, const jobd_host_t *host, const jobd_submission_t *submission, char *reason,
            size_t reason_size)
{
    (void)host;
    s_calls++;
    assert_string_equal ((const char *)state, "demo-state");
    assert_true (JOBD_SUBMISSION_HAS (submission, spec));
    if (submission->spec && strcmp (submission->spec, "{}") == 0)
        return 0;
    snprintf (reason, reason_size, "unknown key 'x'");
    return JOBD_EINVAL;
}

static const char *const s_demo_kinds[] = {"demo", NULL};
static const char *const s_spark_kinds[] = {"spark", NULL};
static const char *const s_none[] = {NULL};

static jobd_owners_t *
s_table (void)
{
    memset (s_statuses, 0, sizeof s_statuses);
    s_statuses[0][0] = "demo";
    s_statuses[0][1] = "running";
    s_statuses[1][0] = "spark-poller";
    s_statuses[1][1] = "failed";
    s_statuses[2][0] = "kafka-listener";
    s_statuses[2][1] = "degraded";
    jobd_owners_t *owners = jobd_owners_new ();
    jobd_owner_t demo = {.name = "demo",
                         .kinds = s_demo_kinds,
                         .validate = s_validate,
                         .state = (void *)"demo-state"};
    jobd_owner_t spark = {.name = "spark-poller", .kinds = s_spark_kinds};
    jobd_owner_t kafka = {.name = "kafka-listener", .kinds = s_none};
    assert_int_equal (jobd_owners_add (owners, &demo), 0);
    assert_int_equal (jobd_owners_add (owners, &spark), 0);
    assert_int_equal (jobd_owners_add (owners, &kafka), 0);
    return owners;
}

static int
s_check (jobd_owners_t *owners, const char *kind, const char *spec, char *reason, size_t size)
{
    jobd_submission_t submission = {
        .size = sizeof submission, .kind = kind, .name = "n", .spec = spec};
    reason[0] = 0;
    return jobd_owners_check (owners, &submission, s_status, NULL, reason, size);
}

static void
test_checks_once_ready (void **state)
{
    (void)state;
    jobd_owners_t *owners = s_table ();
    char reason[512];
    //  Before the loader said every plugin is known: accepted unchecked (broker unit tests).
    assert_int_equal (s_check (owners, "flink", "{}", reason, sizeof reason), 0);
    jobd_owners_ready (owners);
    assert_int_equal (s_check (owners, "flink", "{}", reason, sizeof reason), JOBD_EINVAL);
    assert_string_equal (reason, "no running plugin takes jobs of kind 'flink'; kinds taken: demo");
    //  kafka-listener runs but takes no submission.
    assert_int_equal (s_check (owners, "kafka", "{}", reason, sizeof reason), JOBD_EINVAL);
    assert_non_null (strstr (reason, "kind 'kafka'"));
    //  Forgotten (the plugins are stopping): unchecked again, and no validate is called.
    jobd_owners_clear (owners);
    s_calls = 0;
    assert_int_equal (s_check (owners, "demo", "{\"x\":1}", reason, sizeof reason), 0);
    assert_int_equal (s_calls, 0);
    jobd_owners_destroy (&owners);
    assert_null (owners);
    jobd_owners_destroy (&owners);
}

static void
test_owner_validates (void **state)
{
    (void)state;
    jobd_owners_t *owners = s_table ();
    jobd_owners_ready (owners);
    char reason[512];
    s_calls = 0;
    assert_int_equal (s_check (owners, "demo", "{}", reason, sizeof reason), 0);
    assert_int_equal (s_check (owners, "demo", "{\"x\":1}", reason, sizeof reason), JOBD_EINVAL);
    assert_string_equal (reason, "demo refused the demo job: unknown key 'x'");
    assert_int_equal (s_calls, 2);
    jobd_owners_destroy (&owners);
}

static void
test_stopped_owner_takes_nothing (void **state)
{
    (void)state;
    jobd_owners_t *owners = s_table ();
    jobd_owners_ready (owners);
    char reason[512];
    assert_int_equal (s_check (owners, "spark", "{}", reason, sizeof reason), JOBD_EINVAL);
    assert_string_equal (reason, "kind 'spark' is taken by plugin spark-poller, which is not "
                                 "running (failed); kinds taken now: demo");
    //  Once it runs (degraded counts as running), it takes its kind (no validate: unchecked).
    s_statuses[1][1] = "degraded";
    assert_int_equal (s_check (owners, "spark", "{}", reason, sizeof reason), 0);
    //  A failed demo: nothing is taken at all.
    s_statuses[0][1] = "stopped";
    s_statuses[1][1] = "failed";
    assert_int_equal (s_check (owners, "demo", "{}", reason, sizeof reason), JOBD_EINVAL);
    assert_non_null (strstr (reason, "kinds taken now: none"));
    jobd_owners_destroy (&owners);
}

static void
test_older_plugin_keeps_kinds_open (void **state)
{
    (void)state;
    jobd_owners_t *owners = s_table ();
    jobd_owner_t older = {.name = "older"}; //  ABI 1.3: no kinds
    assert_int_equal (jobd_owners_add (owners, &older), 0);
    jobd_owners_ready (owners);
    char reason[512];
    //  Not running yet: it does not count.
    assert_int_equal (s_check (owners, "flink", "{}", reason, sizeof reason), JOBD_EINVAL);
    s_statuses[3][0] = "older";
    s_statuses[3][1] = "running";
    assert_int_equal (s_check (owners, "flink", "{}", reason, sizeof reason), 0);
    //  A kind a 1.4 plugin lists is still checked by it.
    assert_int_equal (s_check (owners, "demo", "{\"x\":1}", reason, sizeof reason), JOBD_EINVAL);
    jobd_owners_destroy (&owners);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_checks_once_ready),
        cmocka_unit_test (test_owner_validates),
        cmocka_unit_test (test_stopped_owner_takes_nothing),
        cmocka_unit_test (test_older_plugin_keeps_kinds_open),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
