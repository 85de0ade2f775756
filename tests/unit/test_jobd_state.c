//  States and their wire names, and jobd_strerror: the small tables everything else relies on.
#include "jobd_state.h"
#include "jobd_error.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

static const char *s_expected[JOBD_STATE_COUNT] = {"NONE",      "QUEUED", "SUBMITTED", "RUNNING",
                                                   "SUCCEEDED", "FAILED", "CANCELLED", "RETRY_WAIT",
                                                   "UNKNOWN",   "LOST"};

static void
test_names_round_trip (void **state)
{
    for (int value = JOBD_STATE_NONE; value < JOBD_STATE_COUNT; value++)
        assert_string_equal (jobd_state_name ((jobd_state_t)value), s_expected[value]);
    for (int value = JOBD_STATE_QUEUED; value < JOBD_STATE_COUNT; value++) {
        jobd_state_t parsed = JOBD_STATE_NONE;
        assert_int_equal (jobd_state_parse (s_expected[value], strlen (s_expected[value]), &parsed),
                          0);
        assert_int_equal (parsed, value);
    }
    //  The numeric values are on disk: they never move.
    assert_int_equal (JOBD_STATE_QUEUED, 1);
    assert_int_equal (JOBD_STATE_LOST, 9);
    assert_string_equal (jobd_state_name (JOBD_STATE_COUNT), "INVALID");
    assert_string_equal (jobd_state_name ((jobd_state_t)-1), "INVALID");
    assert_string_equal (jobd_state_name ((jobd_state_t)1000), "INVALID");
}

static void
test_parse_is_exact (void **state)
{
    static const struct {
        const char *name;
        size_t length;
    } refused[] = {
        {"NONE", 4},      {"running", 7},     {"Running", 7},  {"RUNNIN", 6},
        {"RUNNINGX", 8},  {"RUNNING ", 8},    {" RUNNING", 8}, {"", 0},
        {"RUNNING\0", 8}, {"RETRY-WAIT", 10}, {"INVALID", 7},  {"3", 1},
    };
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++) {
        jobd_state_t parsed = JOBD_STATE_LOST;
        assert_int_equal (jobd_state_parse (refused[index].name, refused[index].length, &parsed),
                          JOBD_EPROTO);
        assert_int_equal (parsed, JOBD_STATE_LOST); //  untouched on failure
    }
    //  The length counts, not a NUL: a longer buffer holding a name is read to length only.
    jobd_state_t parsed = JOBD_STATE_NONE;
    assert_int_equal (jobd_state_parse ("FAILEDXYZ", 6, &parsed), 0);
    assert_int_equal (parsed, JOBD_STATE_FAILED);
}

static void
test_final_states (void **state)
{
    for (int value = JOBD_STATE_NONE; value < JOBD_STATE_COUNT; value++) {
        bool final = value == JOBD_STATE_SUCCEEDED || value == JOBD_STATE_FAILED ||
                     value == JOBD_STATE_CANCELLED;
        if (jobd_state_is_final ((jobd_state_t)value) != final)
            fail_msg ("%s: is_final should be %d", s_expected[value], final);
    }
    assert_false (jobd_state_is_final (JOBD_STATE_COUNT));
}

static void
test_strerror (void **state)
{
    //  Every jobd code has its own text, none of them the fallback.
    const char *texts[13];
    for (int code = -1001; code >= -1012; code--) {
        texts[-1000 - code] = jobd_strerror (code);
        assert_non_null (texts[-1000 - code]);
        assert_string_not_equal (texts[-1000 - code], "unknown error");
        for (int other = -1001; other > code; other--)
            assert_string_not_equal (texts[-1000 - other], texts[-1000 - code]);
    }
    assert_string_equal (jobd_strerror (JOBD_EPROTO), "malformed message");
    assert_string_equal (jobd_strerror (0), "success");
    //  -errno is the system's text; it is static, the same pointer on every call.
    assert_string_equal (jobd_strerror (-ENOENT), "No such file or directory");
    assert_string_equal (jobd_strerror (-ENOMEM), "Cannot allocate memory");
    assert_ptr_equal (jobd_strerror (-EINVAL), jobd_strerror (-EINVAL));
    //  Anything else is "unknown error", never NULL and never a formatted buffer.
    static const int unknown[] = {-99999, -4000,  -1000,     JOBD_ELAST - 1,
                                  1,      ENOENT, INT32_MIN, INT32_MAX};
    for (size_t index = 0; index < sizeof unknown / sizeof unknown[0]; index++)
        assert_string_equal (jobd_strerror (unknown[index]), "unknown error");
    assert_ptr_equal (jobd_strerror (-4000), jobd_strerror (-4001));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_names_round_trip),
        cmocka_unit_test (test_parse_is_exact),
        cmocka_unit_test (test_final_states),
        cmocka_unit_test (test_strerror),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
