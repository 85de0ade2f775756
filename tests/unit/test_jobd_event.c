//  Events on the wire: round trips of every type, and every way a message can be wrong.
#include "jobd_event.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

//  A valid event of each type.
static jobd_event_t *
s_valid (jobd_event_type_t type)
{
    jobd_event_t *event = jobd_event_new (type);
    jobd_event_set (&event->source, "test");
    switch (type) {
        case JOBD_EVENT_SUBMIT:
            jobd_event_set (&event->kind, "spark");
            jobd_event_set (&event->spec, "{}");
            break;
        case JOBD_EVENT_TRACK:
            jobd_event_set (&event->kind, "spark");
            jobd_event_set (&event->backend, "yarn");
            jobd_event_set (&event->ext, "application_1_1");
            break;
        case JOBD_EVENT_CANCEL:
        case JOBD_EVENT_RETRY:
            jobd_event_set (&event->job, "job-1");
            break;
        case JOBD_EVENT_OBSERVED:
        case JOBD_EVENT_STALE:
            jobd_event_set (&event->job, "job-1");
            event->state = JOBD_STATE_RUNNING;
            event->last_seen = 12345;
            break;
        case JOBD_EVENT_TRANSITION:
            jobd_event_set (&event->job, "job-1");
            event->state = JOBD_STATE_FAILED;
            event->from = JOBD_STATE_RUNNING;
            event->seq = 3;
            event->attempt = 2;
            jobd_event_set (&event->error, "java.lang.RuntimeException: boom\n\tat x");
            break;
        case JOBD_EVENT_PLUGIN_STATUS:
            jobd_event_set (&event->name, "spark-poller");
            jobd_event_set (&event->status, "degraded");
            jobd_event_set (&event->detail, "yarn: 503");
            break;
        default:
            break;
    }
    return event;
}

static void
test_round_trip_every_type (void **state)
{
    for (int type = JOBD_EVENT_SUBMIT; type < JOBD_EVENT_TYPE_COUNT; type++) {
        jobd_event_t *event = s_valid ((jobd_event_type_t)type);
        event->reply = type % 2;
        uint8_t *data;
        size_t size;
        char reason[256] = "";
        assert_int_equal (jobd_event_encode (event, &data, &size, reason, sizeof reason), 0);
        jobd_event_t *decoded = NULL;
        assert_int_equal (jobd_event_decode (data, size, &decoded, reason, sizeof reason), 0);
        assert_int_equal (decoded->type, type);
        assert_string_equal (decoded->id, event->id);
        assert_int_equal (decoded->ts, event->ts);
        assert_int_equal (decoded->state, event->state);
        assert_int_equal (decoded->from, event->from);
        assert_int_equal (decoded->seq, event->seq);
        assert_int_equal (decoded->reply, event->reply);
        assert_int_equal (decoded->last_seen, event->last_seen);
        if (event->error)
            assert_string_equal (decoded->error, event->error);
        //  Encoding the decoded event gives the same bytes.
        uint8_t *again;
        size_t again_size;
        assert_int_equal (jobd_event_encode (decoded, &again, &again_size, NULL, 0), 0);
        assert_int_equal (again_size, size);
        assert_memory_equal (again, data, size);
        jobd_event_t *copy = jobd_event_dup (decoded);
        assert_string_equal (copy->source, "test");
        assert_ptr_not_equal (copy->source, decoded->source);
        jobd_event_destroy (&copy);
        free (again);
        free (data);
        jobd_event_destroy (&decoded);
        jobd_event_destroy (&event);
        assert_null (event);
    }
}

static void
test_ids_are_unique (void **state)
{
    char previous[25] = "", id[25];
    for (int index = 0; index < 1000; index++) {
        jobd_event_new_id (id);
        assert_int_equal (strlen (id), 24);
        assert_string_not_equal (id, previous);
        memcpy (previous, id, sizeof id);
    }
}

//  Decodes bytes and expects rc with a reason containing text.
static void
s_refused (const void *data, size_t size, int rc, const char *text)
{
    jobd_event_t *event = NULL;
    char reason[256] = "";
    assert_int_equal (jobd_event_decode (data, size, &event, reason, sizeof reason), rc);
    assert_null (event);
    if (!strstr (reason, text))
        fail_msg ("reason '%s' does not say '%s'", reason, text);
}

//  Encodes a map built by the caller with a packer.
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer pk;
} s_map_t;

static void
s_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str (pk, strlen (text));
    msgpack_pack_str_body (pk, text, strlen (text));
}

//  An observed event's map with `extra` more pairs for the caller to pack.
static void
s_observed_head (s_map_t *map, size_t extra)
{
    msgpack_sbuffer_init (&map->buffer);
    msgpack_packer_init (&map->pk, &map->buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&map->pk, 6 + extra);
    s_str (&map->pk, "v");
    msgpack_pack_int (&map->pk, 1);
    s_str (&map->pk, "type");
    s_str (&map->pk, "observed");
    s_str (&map->pk, "id");
    s_str (&map->pk, "e1");
    s_str (&map->pk, "ts");
    msgpack_pack_int64 (&map->pk, 1700000000000);
    s_str (&map->pk, "src");
    s_str (&map->pk, "test");
    s_str (&map->pk, "job");
    s_str (&map->pk, "job-1");
}

static void
test_missing_fields_and_wrong_types (void **state)
{
    s_map_t map;
    //  No state.
    s_observed_head (&map, 0);
    s_refused (map.buffer.data, map.buffer.size, JOBD_EPROTO, "without field state");
    msgpack_sbuffer_destroy (&map.buffer);
    //  Unknown state.
    s_observed_head (&map, 1);
    s_str (&map.pk, "state");
    s_str (&map.pk, "RUNNIN");
    s_refused (map.buffer.data, map.buffer.size, JOBD_EPROTO, "unknown state 'RUNNIN'");
    msgpack_sbuffer_destroy (&map.buffer);
    //  State as a number.
    s_observed_head (&map, 1);
    s_str (&map.pk, "state");
    msgpack_pack_int (&map.pk, 3);
    s_refused (map.buffer.data, map.buffer.size, JOBD_EPROTO, "field 'state': expected a str");
    msgpack_sbuffer_destroy (&map.buffer);
    //  Negative attempt.
    s_observed_head (&map, 2);
    s_str (&map.pk, "state");
    s_str (&map.pk, "RUNNING");
    s_str (&map.pk, "attempt");
    msgpack_pack_int (&map.pk, -1);
    s_refused (map.buffer.data, map.buffer.size, JOBD_EPROTO, "field 'attempt'");
    msgpack_sbuffer_destroy (&map.buffer);
    //  Attempt over 32 bits.
    s_observed_head (&map, 2);
    s_str (&map.pk, "state");
    s_str (&map.pk, "RUNNING");
    s_str (&map.pk, "attempt");
    msgpack_pack_uint64 (&map.pk, 1ull << 40);
    s_refused (map.buffer.data, map.buffer.size, JOBD_EPROTO, "out of range");
    msgpack_sbuffer_destroy (&map.buffer);
    //  A key given twice.
    s_observed_head (&map, 2);
    s_str (&map.pk, "state");
    s_str (&map.pk, "RUNNING");
    s_str (&map.pk, "state");
    s_str (&map.pk, "FAILED");
    s_refused (map.buffer.data, map.buffer.size, JOBD_EPROTO, "given twice");
    msgpack_sbuffer_destroy (&map.buffer);
    //  A bin where a str belongs, and a NUL inside a str.
    s_observed_head (&map, 2);
    s_str (&map.pk, "state");
    s_str (&map.pk, "RUNNING");
    s_str (&map.pk, "error");
    msgpack_pack_bin (&map.pk, 3);
    msgpack_pack_bin_body (&map.pk, "abc", 3);
    s_refused (map.buffer.data, map.buffer.size, JOBD_EPROTO, "expected a str, got bin");
    msgpack_sbuffer_destroy (&map.buffer);
    s_observed_head (&map, 2);
    s_str (&map.pk, "state");
    s_str (&map.pk, "RUNNING");
    s_str (&map.pk, "error");
    msgpack_pack_str (&map.pk, 3);
    msgpack_pack_str_body (&map.pk, "a\0b", 3);
    s_refused (map.buffer.data, map.buffer.size, JOBD_EPROTO, "NUL");
    msgpack_sbuffer_destroy (&map.buffer);
    //  An oversized error.
    s_observed_head (&map, 2);
    s_str (&map.pk, "state");
    s_str (&map.pk, "FAILED");
    s_str (&map.pk, "error");
    char *big = (char *)malloc (JOBD_ERROR_MAX + 2);
    memset (big, 'x', JOBD_ERROR_MAX + 1);
    big[JOBD_ERROR_MAX + 1] = 0;
    s_str (&map.pk, big);
    free (big);
    s_refused (map.buffer.data, map.buffer.size, JOBD_ETOOBIG, "field 'error'");
    msgpack_sbuffer_destroy (&map.buffer);
    //  A newer protocol version.
    s_observed_head (&map, 0);
    map.buffer.data[3] = 2; //  "v": 1 -> 2 (fixmap, fixstr "v", positive fixint)
    s_refused (map.buffer.data, map.buffer.size, JOBD_EPROTO, "version 2");
    msgpack_sbuffer_destroy (&map.buffer);
}

static void
test_unknown_keys_and_nil_are_tolerated (void **state)
{
    s_map_t map;
    s_observed_head (&map, 4);
    s_str (&map.pk, "state");
    s_str (&map.pk, "RUNNING");
    s_str (&map.pk, "progress_v2");
    msgpack_pack_map (&map.pk, 1);
    s_str (&map.pk, "nested");
    msgpack_pack_double (&map.pk, 0.5);
    s_str (&map.pk, "error");
    msgpack_pack_nil (&map.pk);
    s_str (&map.pk, "attempt");
    msgpack_pack_nil (&map.pk);
    jobd_event_t *event = NULL;
    char reason[256] = "";
    assert_int_equal (
        jobd_event_decode (map.buffer.data, map.buffer.size, &event, reason, sizeof reason), 0);
    assert_null (event->error);
    assert_int_equal (event->attempt, 0);
    jobd_event_destroy (&event);
    msgpack_sbuffer_destroy (&map.buffer);
}

static void
test_truncated_and_malformed_buffers (void **state)
{
    jobd_event_t *valid = s_valid (JOBD_EVENT_TRANSITION);
    uint8_t *data;
    size_t size;
    assert_int_equal (jobd_event_encode (valid, &data, &size, NULL, 0), 0);
    //  Every truncation is refused; none reads past the end (the sanitizer pass checks that).
    for (size_t length = 0; length < size; length++) {
        uint8_t *copy = (uint8_t *)malloc (length ? length : 1);
        memcpy (copy, data, length);
        jobd_event_t *event = NULL;
        assert_int_not_equal (jobd_event_decode (copy, length, &event, NULL, 0), 0);
        assert_null (event);
        free (copy);
    }
    //  Trailing bytes.
    uint8_t *longer = (uint8_t *)malloc (size + 1);
    memcpy (longer, data, size);
    longer[size] = 0xc0;
    s_refused (longer, size + 1, JOBD_EPROTO, "trailing");
    free (longer);
    free (data);
    jobd_event_destroy (&valid);
    //  Not a map; never-used byte; a container that claims more than the buffer holds.
    s_refused ("\x93\x01\x02\x03", 4, JOBD_EPROTO, "expected a map, got array");
    s_refused ("\xc1", 1, JOBD_EPROTO, "not valid msgpack");
    s_refused ("\xdf\xff\xff\xff\xff", 5, JOBD_EPROTO, "claims more");
    s_refused ("\xdb\x7f\xff\xff\xff", 5, JOBD_EPROTO, "claims more");
    //  Keys that are not strings.
    s_refused ("\x81\x01\x02", 3, JOBD_EPROTO, "keys must be str");
    //  Oversized before any parsing.
    uint8_t *huge = (uint8_t *)calloc (1, JOBD_EVENT_MAX + 1);
    huge[0] = 0x80;
    s_refused (huge, JOBD_EVENT_MAX + 1, JOBD_ETOOBIG, "over the");
    free (huge);
}

static void
test_validate_requires_per_type (void **state)
{
    jobd_event_t *event = s_valid (JOBD_EVENT_TRACK);
    jobd_event_set (&event->ext, NULL);
    char reason[128] = "";
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), JOBD_EPROTO);
    assert_non_null (strstr (reason, "without field ext"));
    jobd_event_destroy (&event);
    event = s_valid (JOBD_EVENT_OBSERVED);
    jobd_event_set (&event->job, NULL);
    jobd_event_set (&event->backend, "yarn");
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), JOBD_EPROTO);
    jobd_event_set (&event->ext, "app");
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), 0);
    event->create = true;
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), JOBD_EPROTO);
    assert_non_null (strstr (reason, "kind"));
    jobd_event_destroy (&event);
    event = s_valid (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&event->status, "sleepy");
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), JOBD_EPROTO);
    jobd_event_destroy (&event);
    //  An unknown type name on the wire.
    assert_int_equal (jobd_event_type_parse ("observe", 7), JOBD_EVENT_INVALID);
    assert_int_equal (jobd_event_type_parse ("plugin.status", 13), JOBD_EVENT_PLUGIN_STATUS);
}

static void
test_states_and_errors (void **state)
{
    for (int value = JOBD_STATE_QUEUED; value < JOBD_STATE_COUNT; value++) {
        const char *name = jobd_state_name ((jobd_state_t)value);
        jobd_state_t parsed;
        assert_int_equal (jobd_state_parse (name, strlen (name), &parsed), 0);
        assert_int_equal (parsed, value);
    }
    jobd_state_t parsed;
    assert_int_equal (jobd_state_parse ("NONE", 4, &parsed), JOBD_EPROTO);
    assert_int_equal (jobd_state_parse ("running", 7, &parsed), JOBD_EPROTO);
    assert_string_equal (jobd_state_name ((jobd_state_t)42), "INVALID");
    assert_string_equal (jobd_strerror (JOBD_EFULL), "the store is full (raise core/map_size)");
    assert_string_equal (jobd_strerror (-ENOENT), "No such file or directory");
    assert_string_equal (jobd_strerror (-99999), "unknown error");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip_every_type),
        cmocka_unit_test (test_ids_are_unique),
        cmocka_unit_test (test_missing_fields_and_wrong_types),
        cmocka_unit_test (test_unknown_keys_and_nil_are_tolerated),
        cmocka_unit_test (test_truncated_and_malformed_buffers),
        cmocka_unit_test (test_validate_requires_per_type),
        cmocka_unit_test (test_states_and_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
