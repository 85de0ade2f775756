//  msgpack to JSON: what jobctl and the plugins write. Bytes that are not UTF-8 (records an
//  older jobd stored) are written as U+FFFD, never dropped; the strict reading refuses them.
#include "jobd_json.h"
#include "jobd_utf8.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

//  {key: value} of strings, packed and unpacked; unpacked is initialised here.
static void
s_map (msgpack_unpacked *unpacked, msgpack_sbuffer *buffer, const char *key, size_t key_size,
       const char *value, size_t value_size)
{
    msgpack_sbuffer_init (buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    msgpack_pack_str (&pk, 2);
    msgpack_pack_str_body (&pk, "id", 2);
    msgpack_pack_str (&pk, 5);
    msgpack_pack_str_body (&pk, "job-1", 5);
    msgpack_pack_str (&pk, key_size);
    msgpack_pack_str_body (&pk, key, key_size);
    msgpack_pack_str (&pk, value_size);
    msgpack_pack_str_body (&pk, value, value_size);
    msgpack_unpacked_init (unpacked);
    assert_int_equal (msgpack_unpack_next (unpacked, buffer->data, buffer->size, NULL),
                      MSGPACK_UNPACK_SUCCESS);
}

static void
test_invalid_utf8_is_replaced_not_dropped (void **state)
{
    //  Each: the bytes, and what Python's bytes.decode ("utf-8", "replace") makes of them.
    static const struct {
        const char *bytes;
        const char *expected;
    } cases[] = {
        {"caf\xe9", "caf\xef\xbf\xbd"},
        {"\xff", "\xef\xbf\xbd"},
        {"ab\xc3", "ab\xef\xbf\xbd"},
        {"\xe2\x82", "\xef\xbf\xbd"},
        {"\xe2\x82x", "\xef\xbf\xbdx"},
        {"\xf0\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf0\x9f\x98", "\xef\xbf\xbd"},
        {"\xc0\xaf ok \xe2\x82\xac", "\xef\xbf\xbd\xef\xbf\xbd ok \xe2\x82\xac"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        msgpack_unpacked unpacked;
        msgpack_sbuffer buffer;
        s_map (&unpacked, &buffer, "name", 4, cases[index].bytes, strlen (cases[index].bytes));
        json_t *json = jobd_json_from_msgpack (&unpacked.data);
        assert_non_null (json);
        assert_string_equal (json_string_value (json_object_get (json, "name")),
                             cases[index].expected);
        assert_string_equal (json_string_value (json_object_get (json, "id")), "job-1");
        char *text = json_dumps (json, JSON_COMPACT | JSON_ENSURE_ASCII);
        assert_non_null (text);
        assert_non_null (strstr (text, "\"name\":"));
        free (text);
        json_decref (json);
        //  The strict reading refuses it, naming the field, without quoting the bytes.
        char reason[256] = "";
        assert_null (jobd_json_from_msgpack_strict (&unpacked.data, reason, sizeof reason));
        assert_non_null (strstr (reason, "field 'name': not valid UTF-8 (byte 0x"));
        msgpack_unpacked_destroy (&unpacked);
        msgpack_sbuffer_destroy (&buffer);
    }
}

static void
test_keys_too (void **state)
{
    msgpack_unpacked unpacked;
    msgpack_sbuffer buffer;
    s_map (&unpacked, &buffer, "na\xffme", 5, "x", 1);
    json_t *json = jobd_json_from_msgpack (&unpacked.data);
    assert_non_null (json);
    assert_string_equal (json_string_value (json_object_get (json, "na\xef\xbf\xbdme")), "x");
    json_decref (json);
    char reason[256] = "";
    assert_null (jobd_json_from_msgpack_strict (&unpacked.data, reason, sizeof reason));
    assert_string_equal (reason, "a key is not valid UTF-8 (byte 0xff at offset 2)");
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    //  A key that holds a NUL is kept (written \u0000) or, read strictly, refused as JSON
    //  would refuse it.
    s_map (&unpacked, &buffer, "a\0b", 3, "y", 1);
    json = jobd_json_from_msgpack (&unpacked.data);
    assert_non_null (json);
    char *text = json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "{\"a\\u0000b\":\"y\",\"id\":\"job-1\"}");
    free (text);
    json_decref (json);
    assert_null (jobd_json_from_msgpack_strict (&unpacked.data, reason, sizeof reason));
    assert_string_equal (reason, "a key holds a NUL byte");
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
}

static void
test_nested_strict_reason (void **state)
{
    //  {"details": {"rows": ["ok", "\xff"]}}
    const char data[] = "\x81\xa7"
                        "details\x81\xa4rows\x92\xa2ok\xa1\xff";
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, data, sizeof data - 1, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    char reason[256] = "";
    assert_null (jobd_json_from_msgpack_strict (&unpacked.data, reason, sizeof reason));
    assert_string_equal (
        reason, "field 'details': a string in it is not valid UTF-8 (byte 0xff at offset 0)");
    json_t *json = jobd_json_from_msgpack (&unpacked.data);
    char *text = json_dumps (json, JSON_COMPACT | JSON_ENSURE_ASCII);
    assert_string_equal (text, "{\"details\":{\"rows\":[\"ok\",\"\\uFFFD\"]}}");
    free (text);
    json_decref (json);
    msgpack_unpacked_destroy (&unpacked);
}

static void
test_utf8_helpers (void **state)
{
    //  Cut at a limit, never inside a character.
    const char *text = "ab\xe2\x82\xac";
    assert_int_equal (jobd_utf8_cut (text, 5, 10), 5);
    assert_int_equal (jobd_utf8_cut (text, 5, 5), 5);
    assert_int_equal (jobd_utf8_cut (text, 5, 4), 2);
    assert_int_equal (jobd_utf8_cut (text, 5, 3), 2);
    assert_int_equal (jobd_utf8_cut (text, 5, 2), 2);
    assert_int_equal (jobd_utf8_check ("abcdefghij\xff", 11), 10);
    assert_int_equal (jobd_utf8_check ("abcdefghij", 10), 10);
    assert_true (jobd_utf8_valid ("", 0));
}

//  JSON has no NaN or infinity: written as words, never dropped; refused when read strictly.
static void
test_floats_that_are_not_finite (void **state)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    msgpack_pack_str (&pk, 8);
    msgpack_pack_str_body (&pk, "progress", 8);
    msgpack_pack_double (&pk, 0.0 / 0.0);
    msgpack_pack_str (&pk, 4);
    msgpack_pack_str_body (&pk, "rate", 4);
    msgpack_pack_double (&pk, -1.0 / 0.0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    json_t *json = jobd_json_from_msgpack (&unpacked.data);
    char *text = json_dumps (json, JSON_COMPACT);
    assert_string_equal (text, "{\"progress\":\"NaN\",\"rate\":\"-Infinity\"}");
    free (text);
    json_decref (json);
    char reason[256] = "";
    assert_null (jobd_json_from_msgpack_strict (&unpacked.data, reason, sizeof reason));
    assert_string_equal (reason, "field 'progress': a float that is not finite (NaN or infinity) "
                                 "has no JSON form");
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
}

//  A key that is not a string: JSON has none. Written as its value's text, or refused.
static void
test_keys_that_are_not_strings (void **state)
{
    //  {1: "one", true: "yes", "k": "v"}
    const char data[] = "\x83\x01\xa3one\xc3\xa3yes\xa1k\xa1v";
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, data, sizeof data - 1, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    json_t *json = jobd_json_from_msgpack (&unpacked.data);
    char *text = json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "{\"1\":\"one\",\"k\":\"v\",\"true\":\"yes\"}");
    free (text);
    json_decref (json);
    char reason[256] = "";
    assert_null (jobd_json_from_msgpack_strict (&unpacked.data, reason, sizeof reason));
    assert_string_equal (reason, "a key is not a string");
    msgpack_unpacked_destroy (&unpacked);
}

//  Maps used as keys of maps used as keys, 30 deep: each level's key text is escaped once more,
//  which doubled it at each level (gigabytes; fuzz_json's OOM). A key's text is cut to 1,024
//  bytes: the JSON stays small.
static void
test_nested_keys_stay_small (void **state)
{
    char data[64];
    size_t used = 0;
    for (int level = 0; level < 30; level++)
        data[used++] = (char)0x81; //  a map of one: its key is the next value
    data[used++] = (char)0xa1;     //  the innermost key: "\""
    data[used++] = '"';
    for (int level = 0; level < 30; level++)
        data[used++] = (char)0xc3; //  each map's value: true
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, data, used, NULL), MSGPACK_UNPACK_SUCCESS);
    json_t *json = jobd_json_from_msgpack (&unpacked.data);
    assert_non_null (json);
    char *text = json_dumps (json, JSON_COMPACT);
    assert_non_null (text);
    assert_true (strlen (text) < 4096);
    free (text);
    json_decref (json);
    msgpack_unpacked_destroy (&unpacked);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_invalid_utf8_is_replaced_not_dropped),
        cmocka_unit_test (test_nested_keys_stay_small),
        cmocka_unit_test (test_keys_too),
        cmocka_unit_test (test_nested_strict_reason),
        cmocka_unit_test (test_utf8_helpers),
        cmocka_unit_test (test_floats_that_are_not_finite),
        cmocka_unit_test (test_keys_that_are_not_strings),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
