//  Figures: a plugin's measures in its plugin.status; the strict check and the event round trip.
#include "jobd_event.h"
#include "jobd_figures.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  JSON to msgpack, so that each case reads as the wire example in proto/README.md does.
static void
s_pack_json (msgpack_packer *pk, const json_t *json)
{
    if (json_is_integer (json))
        msgpack_pack_int64 (pk, json_integer_value (json));
    else if (json_is_real (json))
        msgpack_pack_double (pk, json_real_value (json));
    else if (json_is_string (json)) {
        msgpack_pack_str (pk, json_string_length (json));
        msgpack_pack_str_body (pk, json_string_value (json), json_string_length (json));
    } else if (json_is_array (json)) {
        msgpack_pack_array (pk, json_array_size (json));
        size_t index;
        json_t *item;
        json_array_foreach (json, index, item) s_pack_json (pk, item);
    } else if (json_is_object (json)) {
        msgpack_pack_map (pk, json_object_size (json));
        const char *key;
        json_t *value;
        json_object_foreach ((json_t *)json, key, value)
        {
            msgpack_pack_str (pk, strlen (key));
            msgpack_pack_str_body (pk, key, strlen (key));
            s_pack_json (pk, value);
        }
    } else if (json_is_boolean (json))
        json_is_true (json) ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    else
        msgpack_pack_nil (pk);
}

//  A plugin.status whose figures are the JSON text (NULL: none), encoded.
static void
s_status (const char *figures, msgpack_sbuffer *buffer)
{
    msgpack_sbuffer_init (buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, buffer, msgpack_sbuffer_write);
    json_error_t error;
    json_t *json = figures ? json_loads (figures, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error) : NULL;
    if (figures && !json)
        fail_msg ("bad test JSON '%s': %s", figures, error.text);
    json_t *map =
        json_pack ("{si ss ss sI ss ss ss}", "v", 1, "type", "plugin.status", "id", "e1", "ts",
                   (json_int_t)1700000000000, "src", "demo", "name", "demo", "status", "running");
    if (json)
        json_object_set_new (map, "figures", json);
    s_pack_json (&pk, map);
    json_decref (map);
}

static jobd_event_t *
s_accepted (const char *figures)
{
    msgpack_sbuffer buffer;
    s_status (figures, &buffer);
    jobd_event_t *event = NULL;
    char reason[256] = "";
    if (jobd_event_decode (buffer.data, buffer.size, &event, reason, sizeof reason))
        fail_msg ("figures %s refused: %s", figures, reason);
    msgpack_sbuffer_destroy (&buffer);
    return event;
}

static void
s_refused (const char *figures, int rc, const char *text)
{
    msgpack_sbuffer buffer;
    s_status (figures, &buffer);
    jobd_event_t *event = NULL;
    char reason[256] = "";
    int got = jobd_event_decode (buffer.data, buffer.size, &event, reason, sizeof reason);
    if (got != rc)
        fail_msg ("figures %s: decode returned %d (%s), not %d", figures, got, reason, rc);
    assert_null (event);
    if (!strstr (reason, "field 'figures': ") || !strstr (reason, text))
        fail_msg ("figures %s: reason '%s' does not say '%s'", figures, reason, text);
    //  The broker's one-allocation reading says the same.
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    char flat_reason[256] = "";
    assert_int_equal (
        jobd_event_from_object_flat (&unpacked.data, &event, flat_reason, sizeof flat_reason), rc);
    assert_string_equal (flat_reason, reason);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
}

static void
test_good_figures_round_trip (void **state)
{
    (void)state;
    const char *figures =
        "[[\"spark_poll_seconds\", 0.012, {\"backend\": \"livy\"}, \"Duration of the last poll\"],"
        " [\"spark_poll_errors_total\", 3, {\"backend\": \"livy\"}],"
        " [\"spark_poll_errors_total\", 0, {\"backend\": \"yarn\"}],"
        " [\"kafka_lag\", -1, null], [\"up\", 1],"
        " [\"x\", 1, {\"a\": \"\\u00e9t\\u00e9 \\\"quoted\\\" \\\\ line\\n\", \"b\": \"\","
        "  \"c\": \"c\", \"d\": \"d\"}]]";
    jobd_event_t *event = s_accepted (figures);
    assert_non_null (event->figures.data);
    //  Kept as their msgpack bytes: encoded and decoded again, the same.
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    jobd_event_t *again = NULL;
    assert_int_equal (jobd_event_decode (data, size, &again, NULL, 0), 0);
    assert_int_equal (again->figures.size, event->figures.size);
    assert_memory_equal (again->figures.data, event->figures.data, event->figures.size);
    jobd_event_t *copy = jobd_event_dup (again);
    assert_memory_equal (copy->figures.data, event->figures.data, event->figures.size);
    assert_ptr_not_equal (copy->figures.data, again->figures.data);
    assert_int_equal (jobd_figures_check_bytes (copy->figures.data, copy->figures.size, NULL, 0),
                      0);
    //  Flat reading holds the same bytes in its one block.
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0), 0);
    jobd_event_t *flat = NULL;
    assert_int_equal (jobd_event_from_object_flat (&unpacked.data, &flat, NULL, 0), 0);
    assert_int_equal (flat->figures.size, event->figures.size);
    assert_memory_equal (flat->figures.data, event->figures.data, event->figures.size);
    free (flat);
    msgpack_unpacked_destroy (&unpacked);
    free (data);
    jobd_event_destroy (&copy);
    jobd_event_destroy (&again);
    jobd_event_destroy (&event);
    //  nil and an empty array are no figures; an event without any keeps none.
    event = s_accepted ("null");
    assert_null (event->figures.data);
    jobd_event_destroy (&event);
    event = s_accepted ("[]");
    assert_null (event->figures.data);
    jobd_event_destroy (&event);
    event = s_accepted (NULL);
    assert_null (event->figures.data);
    jobd_event_destroy (&event);
}

static void
test_bad_figures_are_refused (void **state)
{
    (void)state;
    s_refused ("{}", JOBD_EPROTO, "expected an array");
    s_refused ("\"a\"", JOBD_EPROTO, "expected an array");
    s_refused ("[1]", JOBD_EPROTO, "[0]: expected [name, value, labels, help]");
    s_refused ("[[\"a\"]]", JOBD_EPROTO, "[0]: expected");
    s_refused ("[[\"a\", 1, null, \"h\", 5]]", JOBD_EPROTO, "[0]: expected");
    s_refused ("[[\"ok\", 1], [\"Poll\", 1]]", JOBD_EPROTO, "[1] name 'Poll': not [a-z]");
    s_refused ("[[\"1a\", 1]]", JOBD_EPROTO, "name '1a'");
    s_refused ("[[\"a-b\", 1]]", JOBD_EPROTO, "name 'a-b'");
    s_refused ("[[\"\", 1]]", JOBD_EPROTO, "name ''");
    s_refused ("[[5, 1]]", JOBD_EPROTO, "[0] name");
    s_refused ("[[\"poll_seconds_sum\", 1]]", JOBD_EPROTO, "_sum");
    s_refused ("[[\"polls_count\", 1]]", JOBD_EPROTO, "name 'polls_count'");
    s_refused ("[[\"polls_bucket\", 1]]", JOBD_EPROTO, "name 'polls_bucket'");
    char name[200];
    snprintf (name, sizeof name, "[[\"%065d\", 1]]", 0);
    name[3] = 'a';
    s_refused (name, JOBD_EPROTO, "[0] name");
    s_refused ("[[\"a\", \"1\"]]", JOBD_EPROTO, "[0] value: expected a finite number");
    s_refused ("[[\"a\", true]]", JOBD_EPROTO, "value");
    s_refused ("[[\"a\", null]]", JOBD_EPROTO, "value");
    s_refused ("[[\"a\", 1, []]]", JOBD_EPROTO, "[0] labels: expected a map or nil");
    s_refused ("[[\"a\", 1, {\"a\": \"1\", \"b\": \"2\", \"c\": \"3\", \"d\": \"4\", \"e\": "
               "\"5\"}]]",
               JOBD_EPROTO, "labels: 5, more than 4");
    s_refused ("[[\"a\", 1, {\"plugin\": \"x\"}]]", JOBD_EPROTO, "or is 'plugin'");
    s_refused ("[[\"a\", 1, {\"Backend\": \"x\"}]]", JOBD_EPROTO, "label 0");
    s_refused ("[[\"a\", 1, {\"__name__\": \"x\"}]]", JOBD_EPROTO, "label 0");
    s_refused ("[[\"a\", 1, {\"b\": 1}]]", JOBD_EPROTO, "a label's value: expected a str");
    char value[400];
    snprintf (value, sizeof value, "[[\"a\", 1, {\"b\": \"%0129d\"}]]", 0);
    s_refused (value, JOBD_EPROTO, "a label's value: 129 bytes, over its 128");
    s_refused ("[[\"a\", 1, {\"b\": \"x\\u0000y\"}]]", JOBD_EPROTO, "not valid UTF-8 text");
    s_refused ("[[\"a\", 1, null, 3]]", JOBD_EPROTO, "[0] help: expected a str");
    s_refused ("[[\"a\", 1, null, \"two\\nlines\"]]", JOBD_EPROTO, "help: more than one line");
    s_refused ("[[\"a\", 1, {\"b\": \"1\", \"c\": \"2\"}], [\"a\", 2, {\"c\": \"2\", \"b\": "
               "\"1\"}]]",
               JOBD_EPROTO, "[1]: the same name and labels as [0]");
    s_refused ("[[\"a\", 1], [\"b\", 1], [\"a\", 2, null]]", JOBD_EPROTO,
               "[2]: the same name and labels as [0]");
}

//  Raw msgpack cases JSON cannot write: bin, non-finite floats, bad UTF-8, too many, too big.
static void
s_refused_raw (void (*pack) (msgpack_packer *pk), int rc, const char *text)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&event->source, "demo");
    jobd_event_set (&event->name, "demo");
    jobd_event_set (&event->status, "running");
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    jobd_event_destroy (&event);
    //  The event's map with one more key: its first byte is a fixmap header.
    assert_true ((data[0] & 0xf0) == 0x80 && (data[0] & 0x0f) < 15);
    data[0]++;
    msgpack_sbuffer_write (&buffer, (const char *)data, size);
    free (data);
    msgpack_pack_str (&pk, 7);
    msgpack_pack_str_body (&pk, "figures", 7);
    pack (&pk);
    char reason[256] = "";
    int got = jobd_event_decode (buffer.data, buffer.size, &event, reason, sizeof reason);
    if (got != rc || !strstr (reason, text))
        fail_msg ("decode returned %d (%s), not %d with '%s'", got, reason, rc, text);
    assert_null (event);
    msgpack_sbuffer_destroy (&buffer);
}

static void
s_one (msgpack_packer *pk, const char *name)
{
    msgpack_pack_array (pk, 2);
    msgpack_pack_str (pk, strlen (name));
    msgpack_pack_str_body (pk, name, strlen (name));
}

static void
s_nan (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 1);
    s_one (pk, "a");
    msgpack_pack_double (pk, 0.0 / 0.0);
}

static void
s_infinity (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 1);
    s_one (pk, "a");
    msgpack_pack_float (pk, 1.0f / 0.0f);
}

static void
s_bin_name (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 1);
    msgpack_pack_array (pk, 2);
    msgpack_pack_bin (pk, 1);
    msgpack_pack_bin_body (pk, "a", 1);
    msgpack_pack_int (pk, 1);
}

static void
s_bad_utf8 (msgpack_packer *pk)
{
    msgpack_pack_array (pk, 1);
    msgpack_pack_array (pk, 3);
    msgpack_pack_str (pk, 1);
    msgpack_pack_str_body (pk, "a", 1);
    msgpack_pack_int (pk, 1);
    msgpack_pack_map (pk, 1);
    msgpack_pack_str (pk, 1);
    msgpack_pack_str_body (pk, "b", 1);
    msgpack_pack_str (pk, 2);
    msgpack_pack_str_body (pk, "\xc3\x28", 2);
}

static void
s_too_many (msgpack_packer *pk)
{
    msgpack_pack_array (pk, JOBD_FIGURES_MAX + 1);
    for (int index = 0; index <= JOBD_FIGURES_MAX; index++) {
        char name[32];
        snprintf (name, sizeof name, "f%d", index);
        s_one (pk, name);
        msgpack_pack_int (pk, index);
    }
}

//  200 entries, each with 4 labels of 128 bytes: over 64 KiB (and under an event's 256 KiB).
static void
s_too_big (msgpack_packer *pk)
{
    char value[JOBD_FIGURE_VALUE_MAX];
    memset (value, 'v', sizeof value);
    msgpack_pack_array (pk, 200);
    for (int index = 0; index < 200; index++) {
        char name[32];
        snprintf (name, sizeof name, "f%d", index);
        msgpack_pack_array (pk, 3);
        msgpack_pack_str (pk, strlen (name));
        msgpack_pack_str_body (pk, name, strlen (name));
        msgpack_pack_int (pk, index);
        msgpack_pack_map (pk, 4);
        for (char label = 'a'; label < 'e'; label++) {
            msgpack_pack_str (pk, 1);
            msgpack_pack_str_body (pk, &label, 1);
            msgpack_pack_str (pk, sizeof value);
            msgpack_pack_str_body (pk, value, sizeof value);
        }
    }
}

static void
test_raw_figures_are_refused (void **state)
{
    (void)state;
    s_refused_raw (s_nan, JOBD_EPROTO, "[0] value: expected a finite number");
    s_refused_raw (s_infinity, JOBD_EPROTO, "[0] value: expected a finite number");
    s_refused_raw (s_bin_name, JOBD_EPROTO, "[0] name");
    s_refused_raw (s_bad_utf8, JOBD_EPROTO, "a label's value: not valid UTF-8 text");
    s_refused_raw (s_too_many, JOBD_EPROTO, "513 entries, more than 512");
    s_refused_raw (s_too_big, JOBD_ETOOBIG, "over its 65536 byte limit");
}

//  An event built in C is validated before it is encoded: bad figure bytes are refused there.
static void
test_encode_checks_figures (void **state)
{
    (void)state;
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&event->source, "demo");
    jobd_event_set (&event->name, "demo");
    jobd_event_set (&event->status, "running");
    static const uint8_t bad[] = {0x91, 0x92, 0xa1, 'A', 0x01}; //  [["A", 1]]
    event->figures.data = (uint8_t *)malloc (sizeof bad);
    memcpy (event->figures.data, bad, sizeof bad);
    event->figures.size = sizeof bad;
    uint8_t *data = NULL;
    size_t size = 0;
    char reason[256] = "";
    assert_int_equal (jobd_event_encode (event, &data, &size, reason, sizeof reason), JOBD_EPROTO);
    assert_non_null (strstr (reason, "field 'figures': [0] name 'A'"));
    event->figures.data[3] = 'a';
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    free (data);
    //  Trailing bytes after the array are not figures.
    event->figures.size = sizeof bad - 1;
    assert_int_not_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    event->figures.size = sizeof bad;
    jobd_event_destroy (&event);
}

static void
test_names (void **state)
{
    (void)state;
    assert_true (jobd_figure_name_valid ("spark_poll_seconds", 18));
    assert_false (jobd_figure_name_valid ("_a", 2));
    assert_false (jobd_figure_name_valid ("a_sum", 5));
    assert_true (jobd_figure_name_valid ("a_summary", 9));
    assert_true (jobd_figure_label_valid ("backend", 7));
    assert_false (jobd_figure_label_valid ("plugin", 6));
    assert_true (jobd_figure_label_valid ("plugins", 7));
    assert_true (jobd_figure_is_counter ("spark_poll_errors_total"));
    assert_false (jobd_figure_is_counter ("total_jobs"));
    assert_false (jobd_figure_is_counter (NULL));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_good_figures_round_trip),
        cmocka_unit_test (test_bad_figures_are_refused),
        cmocka_unit_test (test_raw_figures_are_refused),
        cmocka_unit_test (test_encode_checks_figures),
        cmocka_unit_test (test_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
