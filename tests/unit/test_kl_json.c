//  kafka-listener's JSON writer: the bytes jansson writes for the same object (the outbound
//  topic's format did not change when the plugin stopped building jansson trees), and the
//  bytes jansson refuses written as U+FFFD.
#include "jobd_utf8.h"
#include "kl_json.h"
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static const char *s_strings[] = {
    "",
    "plain",
    "quote \" backslash \\ slash /",
    "controls \b\f\n\r\t \x01\x1f\x7f end",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
    "\xe2\x80\xa8 line separator",
    "\x01",
};

static void
test_same_bytes_as_jansson (void **state)
{
    kl_json_t json = {0};
    for (size_t index = 0; index < sizeof s_strings / sizeof s_strings[0]; index++) {
        kl_json_begin (&json);
        assert_true (kl_json_string (&json, "job", s_strings[index]));
        kl_json_integer (&json, "seq", 42);
        kl_json_integer (&json, "ts", -1700000000000LL);
        assert_true (kl_json_string (&json, "k\"ey", s_strings[index]));
        const char *text = kl_json_end (&json);
        assert_non_null (text);
        assert_int_equal (strlen (text), json.size);

        json_t *object = json_pack ("{s:s, s:I, s:I}", "job", s_strings[index], "seq",
                                    (json_int_t)42, "ts", (json_int_t)-1700000000000LL);
        json_object_set_new (object, "k\"ey", json_string (s_strings[index]));
        char *expected = json_dumps (object, JSON_COMPACT);
        assert_string_equal (text, expected);
        free (expected);
        json_decref (object);
    }
    //  An empty object, and a buffer that grows past its first size.
    kl_json_begin (&json);
    assert_string_equal (kl_json_end (&json), "{}");
    char big[5000];
    memset (big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    kl_json_begin (&json);
    assert_true (kl_json_string (&json, "error", big));
    assert_int_equal (strlen (kl_json_end (&json)), sizeof big - 1 + 12);
    kl_json_fini (&json);
    assert_null (json.data);
}

//  What jansson refuses (json_string returns NULL) is written all the same, its invalid bytes as
//  U+FFFD (what Python's errors="replace" reads): a field is never dropped from a transition.
static void
test_invalid_utf8_written_as_replacement (void **state)
{
    static const struct {
        const char *bytes;
        const char *written;
    } bad[] = {
        {"\x80", "\xef\xbf\xbd"},                                 //  a lone continuation
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                 //  overlong
        {"\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, //  overlong
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, //  a surrogate
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, //  > U+10FFFF
        {"\xf5\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, //  never used
        {"ab\xc3", "ab\xef\xbf\xbd"},                                             //  cut short
        {"\xe2\x82x \"q\"", "\xef\xbf\xbdx \"q\""}, //  not a continuation
    };
    kl_json_t json = {0};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        assert_false (jobd_utf8_valid (bad[index].bytes, strlen (bad[index].bytes)));
        assert_null (json_string (bad[index].bytes));
        kl_json_begin (&json);
        assert_false (kl_json_string (&json, "name", bad[index].bytes));
        kl_json_integer (&json, "seq", 3);
        const char *text = kl_json_end (&json);
        //  jansson writes the replaced text the same way.
        json_t *object = json_pack ("{s:s, s:I}", "name", bad[index].written, "seq", (json_int_t)3);
        char *expected = json_dumps (object, JSON_COMPACT);
        assert_string_equal (text, expected);
        free (expected);
        json_decref (object);
    }
    for (size_t index = 0; index < sizeof s_strings / sizeof s_strings[0]; index++)
        assert_true (jobd_utf8_valid (s_strings[index], strlen (s_strings[index])));
    kl_json_fini (&json);
}

static void
test_integers_and_nul_as_jansson_writes_them (void **state)
{
    static const int64_t values[] = {0, 7, -7, 9, 10, 1700000000000LL, INT64_MAX, INT64_MIN};
    for (size_t index = 0; index < sizeof values / sizeof values[0]; index++) {
        char text[21], expected[32];
        snprintf (expected, sizeof expected, "%lld", (long long)values[index]);
        assert_int_equal (kl_json_format_integer (text, values[index]), strlen (expected));
        assert_string_equal (text, expected);
    }
    //  A string given by length may hold a NUL: \u0000, as json_stringn is written.
    kl_json_t json = {0};
    kl_json_begin (&json);
    assert_true (kl_json_string_n (&json, "job", "a\0b\"", 4));
    assert_false (kl_json_string_n (&json, "ext", "a\0\xc3", 3)); //  cut in a sequence
    const char *text = kl_json_end (&json);
    json_t *object = json_object ();
    json_object_set_new (object, "job", json_stringn ("a\0b\"", 4));
    json_object_set_new (object, "ext", json_stringn ("a\0\xef\xbf\xbd", 5));
    char *expected = json_dumps (object, JSON_COMPACT);
    assert_string_equal (text, expected);
    free (expected);
    json_decref (object);
    kl_json_fini (&json);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_same_bytes_as_jansson),
        cmocka_unit_test (test_invalid_utf8_written_as_replacement),
        cmocka_unit_test (test_integers_and_nul_as_jansson_writes_them),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
