//  spark-poller's JSON reader (sp_jscan): strict RFC 8259 checking, walking, and values copied
//  out as C text.
#include "sp_jscan.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
s_check (const char *text)
{
    return sp_jscan_check (text, strlen (text));
}

static void
test_check_accepts_json (void **state)
{
    const char *valid[] = {"{}",
                           "[]",
                           " \t\r\n{ } ",
                           "0",
                           "-0",
                           "12",
                           "-1.5e+3",
                           "1E-2",
                           "0.25",
                           "true",
                           "false",
                           "null",
                           "\"\"",
                           "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"",
                           "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
                           "{\"a\":[1,{\"b\":[]},\"c\"]}",
                           "[[[[[[[[[[]]]]]]]]]]"};
    for (size_t index = 0; index < sizeof valid / sizeof valid[0]; index++)
        if (!s_check (valid[index]))
            fail_msg ("refused valid JSON: %s", valid[index]);
}

static void
test_check_refuses_the_rest (void **state)
{
    const char *invalid[] = {"",          " ",        "{",
                             "}",         "[1,]",     "{\"a\":1,}",
                             "{\"a\" 1}", "{a:1}",    "{\"a\":1 \"b\":2}",
                             "[1 2]",     "01",       "1.",
                             ".5",        "-",        "1e",
                             "+1",        "tru",      "nul",
                             "True",      "\"abc",    "\"a\\x\"",
                             "\"\\u12\"", "\"a\nb\"", "\"\t\"",
                             "{} {}",     "[] x",     "<html>",
                             "{\"a\":}",  "[,1]",     "NaN",
                             "Infinity"};
    for (size_t index = 0; index < sizeof invalid / sizeof invalid[0]; index++)
        if (s_check (invalid[index]))
            fail_msg ("accepted invalid JSON: '%s'", invalid[index]);
    //  A NUL byte inside the text.
    assert_false (sp_jscan_check ("[1,\0 2]", 7));
    //  Every cut of a document short of its end (a truncated body).
    const char *whole = "{\"apps\":{\"app\":[{\"id\":\"a_1\",\"n\":-1.5e3,\"t\":true}]}}";
    for (size_t length = 0; length < strlen (whole); length++)
        if (sp_jscan_check (whole, length))
            fail_msg ("accepted a truncated document of %zu bytes", length);
    assert_true (s_check (whole));
}

static void
test_check_bounds_nesting (void **state)
{
    char deep[2 * SP_JSCAN_DEPTH + 3];
    for (int depth = SP_JSCAN_DEPTH; depth <= SP_JSCAN_DEPTH + 1; depth++) {
        memset (deep, '[', depth);
        memset (deep + depth, ']', depth);
        assert_int_equal (sp_jscan_check (deep, 2 * depth), depth <= SP_JSCAN_DEPTH);
    }
}

static void
test_walk (void **state)
{
    const char *text = "{\"list\":[{\"id\":\"x1\",\"n\":7},{\"id\":\"x2\",\"n\":8},3,{}],"
                       "\"total\":2,\"more\":{\"deep\":[1,[2]]}}";
    assert_true (s_check (text));
    sp_jscan_t scan;
    sp_jscan_init (&scan, text, strlen (text));
    assert_true (sp_jscan_enter (&scan, SP_JOBJECT));
    sp_jvalue_t key, value;
    char ids[64] = "";
    int64_t total = 0;
    int members = 0;
    while (sp_jscan_member (&scan, &key)) {
        members++;
        if (sp_jkey_is (key, "list")) {
            assert_true (sp_jscan_enter (&scan, SP_JARRAY));
            sp_jobject_t element;
            while (sp_jscan_element (&scan))
                if (sp_jscan_object (&scan, &element)) {
                    char id[8];
                    if (sp_jvalue_string (sp_jobject_get (&element, "id"), id, sizeof id))
                        strcat (ids, id);
                } else
                    assert_true (sp_jscan_value (&scan, NULL));
        } else if (sp_jkey_is (key, "total")) {
            assert_true (sp_jscan_value (&scan, &value));
            assert_true (sp_jvalue_integer (value, &total));
        } else
            assert_true (sp_jscan_value (&scan, &value));
    }
    assert_false (scan.failed);
    assert_int_equal (members, 3);
    assert_string_equal (ids, "x1x2");
    assert_int_equal (total, 2);
    //  The last member's value is the whole object, as text.
    assert_int_equal (value.type, SP_JOBJECT);
    assert_int_equal (value.size, strlen ("{\"deep\":[1,[2]]}"));
    //  Entering a value of another kind is refused without harm.
    sp_jscan_init (&scan, "[1]", 3);
    assert_false (sp_jscan_enter (&scan, SP_JOBJECT));
    assert_false (scan.failed);
    //  A broken body fails the walk, and it stays failed.
    sp_jscan_init (&scan, "[1 2]", 5);
    assert_true (sp_jscan_enter (&scan, SP_JARRAY));
    assert_true (sp_jscan_element (&scan));
    assert_true (sp_jscan_value (&scan, NULL));
    assert_false (sp_jscan_element (&scan));
    assert_true (scan.failed);
    assert_false (sp_jscan_value (&scan, NULL));
}

static void
test_object (void **state)
{
    //  Repeated keys: the last one (as jansson); escaped keys match their text.
    const char *text = "{\"a\":1,\"b\":\"x\",\"a\":2,\"k\\u0065y\":true}";
    sp_jscan_t scan;
    sp_jobject_t object;
    sp_jscan_init (&scan, text, strlen (text));
    assert_true (sp_jscan_object (&scan, &object));
    assert_int_equal (object.count, 4);
    int64_t number;
    assert_true (sp_jvalue_integer (sp_jobject_get (&object, "a"), &number));
    assert_int_equal (number, 2);
    assert_int_equal (sp_jobject_get (&object, "key").type, SP_JTRUE);
    assert_int_equal (sp_jobject_get (&object, "none").type, SP_JNONE);
    assert_false (sp_jvalue_integer (sp_jobject_get (&object, "b"), &number));
    //  A long escaped key (past any small buffer) matches too.
    char name[401], long_key[520];
    memset (name, 'n', 400);
    name[400] = 0;
    snprintf (long_key, sizeof long_key, "{\"\\u006e%s\":1}", name + 1);
    sp_jscan_init (&scan, long_key, strlen (long_key));
    assert_true (sp_jscan_object (&scan, &object));
    assert_int_equal (sp_jobject_get (&object, name).type, SP_JNUMBER);
    //  Members past SP_JMEMBERS are checked, not kept.
    char big[SP_JMEMBERS * 16 + 16];
    size_t used = (size_t)snprintf (big, sizeof big, "{");
    for (int index = 0; index < SP_JMEMBERS + 6; index++)
        used += (size_t)snprintf (big + used, sizeof big - used, "%s\"m%d\":%d", index ? "," : "",
                                  index, index);
    snprintf (big + used, sizeof big - used, "}");
    sp_jscan_init (&scan, big, strlen (big));
    assert_true (sp_jscan_object (&scan, &object));
    assert_int_equal (object.count, SP_JMEMBERS);
    assert_int_equal (sp_jobject_get (&object, "m63").type, SP_JNUMBER);
    assert_int_equal (sp_jobject_get (&object, "m64").type, SP_JNONE);
}

//  The value of the one-member object {"v": json}.
static sp_jvalue_t
s_value (const char *json, char *buffer, size_t size)
{
    snprintf (buffer, size, "{\"v\":%s}", json);
    static sp_jobject_t object;
    sp_jscan_t scan;
    sp_jscan_init (&scan, buffer, strlen (buffer));
    assert_true (sp_jscan_object (&scan, &object));
    return sp_jobject_get (&object, "v");
}

static void
test_strings (void **state)
{
    char body[256], text[64];
    assert_true (sp_jvalue_string (s_value ("\"a\\nb\\t\\\"c\\\"\\\\\"", body, sizeof body), text,
                                   sizeof text));
    assert_string_equal (text, "a\nb\t\"c\"\\");
    //  \u escapes become UTF-8, surrogate pairs one character.
    assert_true (sp_jvalue_string (
        s_value ("\"caf\\u00e9 \\ud83d\\ude00 \\u20ac\"", body, sizeof body), text, sizeof text));
    assert_string_equal (text, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac");
    //  Refused, leaving the buffer empty: \u0000, a lone surrogate, bad UTF-8, a non-string.
    const char *refused[] = {"\"a\\u0000b\"",
                             "\"\\ud83d\"",
                             "\"\\ude00x\"",
                             "\"\\ud83d\\u0041\"",
                             "\"\xc3\x28\"",
                             "\"\xed\xa0\x80\"",
                             "\"\xf5\x80\x80\x80\"",
                             "\"\xc0\xaf\"",
                             "12",
                             "null"};
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++) {
        strcpy (text, "dirty");
        if (sp_jvalue_string (s_value (refused[index], body, sizeof body), text, sizeof text))
            fail_msg ("read %s as text", refused[index]);
        assert_string_equal (text, "");
    }
    //  Too long: cut with "...", never inside a character.
    assert_true (sp_jvalue_string (s_value ("\"abcdefgh\"", body, sizeof body), text, 8));
    assert_string_equal (text, "abcd...");
    assert_true (
        sp_jvalue_string (s_value ("\"ab\xc3\xa9\xc3\xa9\xc3\xa9\"", body, sizeof body), text, 8));
    assert_string_equal (text, "ab\xc3\xa9...");
    assert_true (sp_jvalue_string (s_value ("\"abcdefg\"", body, sizeof body), text, 8));
    assert_string_equal (text, "abcdefg");
    char *copy = sp_jvalue_strdup (s_value ("\"\\u00e9t\\u00e9\"", body, sizeof body));
    assert_string_equal (copy, "\xc3\xa9t\xc3\xa9");
    free (copy);
    assert_null (sp_jvalue_strdup (s_value ("[]", body, sizeof body)));
}

static void
test_integers (void **state)
{
    char body[128];
    int64_t number = 0;
    assert_true (sp_jvalue_integer (s_value ("1795917094362", body, sizeof body), &number));
    assert_int_equal (number, 1795917094362LL);
    assert_true (sp_jvalue_integer (s_value ("-9223372036854775808", body, sizeof body), &number));
    assert_int_equal (number, INT64_MIN);
    const char *refused[] = {"1.0", "1e3", "9223372036854775808", "\"12\"", "true"};
    for (size_t index = 0; index < sizeof refused / sizeof refused[0]; index++)
        if (sp_jvalue_integer (s_value (refused[index], body, sizeof body), &number))
            fail_msg ("read %s as an integer", refused[index]);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_check_accepts_json),
                                       cmocka_unit_test (test_check_refuses_the_rest),
                                       cmocka_unit_test (test_check_bounds_nesting),
                                       cmocka_unit_test (test_walk),
                                       cmocka_unit_test (test_object),
                                       cmocka_unit_test (test_strings),
                                       cmocka_unit_test (test_integers)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
