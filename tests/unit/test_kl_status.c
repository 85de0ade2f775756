//  kafka-listener's reader of producers' status events: JSON and msgpack, the word mapping, and
//  every way a payload can be wrong (each refused with a reason for the dead-letter header).
#include "kl_status.h"
#include "jobd_utf8.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static const kl_options_t s_options = {"kafka-listener", "kafka", "kafka", true};

static jobd_event_t *
s_decode (const char *payload, int expect, const char *reason_part)
{
    jobd_event_t *event = NULL;
    char reason[256] = "";
    int rc = kl_status_decode (payload, strlen (payload), &s_options, "events/0/42", &event, NULL,
                               reason, sizeof reason);
    if (rc != expect)
        fail_msg ("'%s': got %d (%s), want %d", payload, rc, reason, expect);
    if (reason_part && !strstr (reason, reason_part))
        fail_msg ("'%s': reason '%s' does not say '%s'", payload, reason, reason_part);
    return event;
}

static void
test_json_by_job_and_by_ext (void **state)
{
    jobd_event_t *event = s_decode ("{\"job\":\"job-7\",\"state\":\"completed\",\"id\":\"e-1\","
                                    "\"ts\":1700000000000,\"attempt\":2}",
                                    0, NULL);
    assert_string_equal (event->job, "job-7");
    assert_int_equal (event->state, JOBD_STATE_SUCCEEDED);
    assert_string_equal (event->id, "e-1");
    assert_int_equal (event->ts, 1700000000000);
    assert_int_equal (event->attempt, 2);
    assert_false (event->create);
    assert_null (event->backend);
    jobd_event_destroy (&event);
    //  By the producer's own id: registered when unknown; the rest becomes detail.
    event = s_decode ("  {\"ext\":\"orders-sync\",\"name\":\"orders sync\",\"state\":\"ERROR\","
                      "\"error\":\"sink timed out\",\"progress\":0.4,\"details\":{\"rows\":12}}",
                      0, NULL);
    assert_string_equal (event->ext, "orders-sync");
    assert_string_equal (event->backend, "kafka");
    assert_string_equal (event->kind, "kafka");
    assert_true (event->create);
    assert_int_equal (event->state, JOBD_STATE_FAILED);
    assert_string_equal (event->error, "sink timed out");
    assert_string_equal (event->id, "events/0/42");
    assert_non_null (strstr (event->detail, "\"progress\":0.4"));
    assert_non_null (strstr (event->detail, "\"rows\":12"));
    jobd_event_destroy (&event);
}

static void
test_msgpack (void **state)
{
    //  {"ext":"x","state":"STARTED"} in msgpack.
    const char payload[] = "\x82\xa3"
                           "ext\xa1x\xa5state\xa7STARTED";
    jobd_event_t *event = NULL;
    char reason[128];
    assert_int_equal (kl_status_decode (payload, sizeof payload - 1, &s_options, "t/1/2", &event,
                                        NULL, reason, sizeof reason),
                      0);
    assert_int_equal (event->state, JOBD_STATE_RUNNING);
    assert_string_equal (event->ext, "x");
    jobd_event_destroy (&event);
    //  A lying msgpack length is refused before anything allocates for it.
    assert_int_equal (kl_status_decode ("\xdf\xff\xff\xff\xff", 5, &s_options, "t/1/3", &event,
                                        NULL, reason, sizeof reason),
                      JOBD_EPROTO);
}

static void
test_word_mapping (void **state)
{
    static const struct {
        const char *word;
        jobd_state_t state;
    } words[] = {{"STARTED", JOBD_STATE_RUNNING},     {"in_progress", JOBD_STATE_RUNNING},
                 {"Completed", JOBD_STATE_SUCCEEDED}, {"DONE", JOBD_STATE_SUCCEEDED},
                 {"error", JOBD_STATE_FAILED},        {"canceled", JOBD_STATE_CANCELLED},
                 {"ABORTED", JOBD_STATE_CANCELLED},   {"pending", JOBD_STATE_QUEUED},
                 {"RETRYING", JOBD_STATE_RETRY_WAIT}, {"LOST", JOBD_STATE_LOST},
                 {"sleeping", JOBD_STATE_NONE},       {NULL, JOBD_STATE_NONE}};
    for (size_t index = 0; index < sizeof words / sizeof words[0]; index++)
        assert_int_equal (kl_map_state (words[index].word), words[index].state);
}

static void
test_bad_payloads_have_reasons (void **state)
{
    s_decode ("", JOBD_EPROTO, "empty");
    s_decode ("{\"job\":\"job-1\"", JOBD_EPROTO, "invalid JSON");
    s_decode ("{\"job\":\"job-1\",\"state\":\"RUNNING\"} trailing", JOBD_EPROTO, "invalid JSON");
    s_decode ("[1,2]", JOBD_EPROTO, NULL);
    s_decode ("{\"job\":\"job-1\"}", JOBD_EPROTO, "missing field 'state'");
    s_decode ("{\"job\":\"job-1\",\"state\":\"DANCING\"}", JOBD_EPROTO, "unknown state 'DANCING'");
    s_decode ("{\"state\":\"RUNNING\"}", JOBD_EPROTO, "to name the job");
    s_decode ("{\"job\":7,\"state\":\"RUNNING\"}", JOBD_EPROTO, "'job' must be a string");
    s_decode ("{\"job\":\"j\",\"state\":null}", JOBD_EPROTO, "missing field 'state'");
    s_decode ("{\"job\":\"j\",\"state\":\"RUNNING\",\"attempt\":-1}", JOBD_EPROTO, "attempt");
    s_decode ("{\"job\":\"j\",\"state\":\"RUNNING\",\"ts\":\"yesterday\"}", JOBD_EPROTO, "'ts'");
    s_decode ("{\"job\":\"j\\u0000x\",\"state\":\"RUNNING\"}", JOBD_EPROTO, NULL);
    s_decode ("{\"job\":\"\\u00ff\\ud800\",\"state\":\"RUNNING\"}", JOBD_EPROTO, NULL);
    char big[300];
    memset (big, 'x', sizeof big);
    big[sizeof big - 1] = 0;
    char payload[400];
    snprintf (payload, sizeof payload, "{\"job\":\"%s\",\"state\":\"RUNNING\"}", big);
    s_decode (payload, JOBD_ETOOBIG, "'job' is over its limit");
    jobd_event_t *event = NULL;
    char reason[128];
    assert_int_equal (kl_status_decode ("{}", KL_PAYLOAD_MAX + 1, &s_options, "t/0/0", &event, NULL,
                                        reason, sizeof reason),
                      JOBD_ETOOBIG);
    assert_null (event);
}

static void
test_heartbeat_promise (void **state)
{
    jobd_event_t *event = NULL;
    char reason[256] = "";
    int64_t heartbeat = -1;
    const char *payload = "{\"ext\":\"feed\",\"state\":\"HEARTBEAT\",\"heartbeat\":15000}";
    assert_int_equal (kl_status_decode (payload, strlen (payload), &s_options, "t/0/1", &event,
                                        &heartbeat, reason, sizeof reason),
                      0);
    assert_int_equal (heartbeat, 15000);
    assert_int_equal (event->state, JOBD_STATE_RUNNING);
    assert_null (event->detail); //  a known field: not copied into detail
    jobd_event_destroy (&event);
    payload = "{\"ext\":\"feed\",\"state\":\"RUNNING\"}";
    assert_int_equal (kl_status_decode (payload, strlen (payload), &s_options, "t/0/2", &event,
                                        &heartbeat, reason, sizeof reason),
                      0);
    assert_int_equal (heartbeat, 0);
    jobd_event_destroy (&event);
    s_decode ("{\"ext\":\"f\",\"state\":\"RUNNING\",\"heartbeat\":0}", JOBD_EPROTO, "heartbeat");
    s_decode ("{\"ext\":\"f\",\"state\":\"RUNNING\",\"heartbeat\":\"10s\"}", JOBD_EPROTO,
              "heartbeat");
    s_decode ("{\"ext\":\"f\",\"state\":\"RUNNING\",\"heartbeat\":99999999999999}", JOBD_EPROTO,
              "heartbeat");
}

//  Simple JSON events are read without jansson; every payload near that path must read the same
//  both ways: event, heartbeat, or the reason it is refused.
static void
test_fast_path_reads_as_jansson (void **state)
{
    static const char *payloads[] = {
        "{\"ext\":\"a\",\"state\":\"RUNNING\"}",
        " {\"job\" : \"job-1\" , \"state\":\"done\",\"ts\":-5,\"attempt\":0}\r\n",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"heartbeat\":60000,\"id\":\"e-9\",\"v\":1}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"name\":null,\"error\":null,\"ts\":null}",
        "{\"ext\":\"caf\xc3\xa9\",\"state\":\"RUNNING\"}",
        "{\"ext\":\"caf\xc3\",\"state\":\"RUNNING\"}",         //  bad UTF-8
        "{\"ext\":\"a\",\"state\":\"RUNNING\",}",              //  trailing comma
        "{\"ext\":\"a\",\"state\":\"RUNNING\"} x",             //  trailing bytes
        "{\"ext\":\"a\",\"ext\":\"b\",\"state\":\"RUNNING\"}", //  a repeated key
        "{\"ext\":\"a\\n\",\"state\":\"RUNNING\"}",            //  an escape
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"attempt\":01}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"attempt\":-0}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"attempt\":-1}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"attempt\":4294967296}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"attempt\":1.0}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"ts\":1234567890123456789}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"ts\":9999999999999999999}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"heartbeat\":0}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"heartbeat\":\"5s\"}",
        "{\"ext\":7,\"state\":\"RUNNING\"}",
        "{\"ext\":\"a\",\"state\":\"SLEEPING\"}",
        "{\"ext\":\"a\"}",
        "{\"name\":\"a\",\"state\":\"RUNNING\"}",
        "{\"ext\":\"\",\"state\":\"RUNNING\"}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"progress\":3}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"kind\":true}",
        "{}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\"",
        "{\"ext\":\"a\" \"state\":\"RUNNING\"}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\",\"error\":nul}",
        "{\"ext\":\"a\",\"state\":\"RUNNING\"}\v",
    };
    for (size_t index = 0; index < sizeof payloads / sizeof payloads[0]; index++) {
        const char *payload = payloads[index];
        jobd_event_t *fast = NULL, *slow = NULL;
        char reason[256] = "", slow_reason[256] = "";
        int64_t heartbeat = -1, slow_heartbeat = -2, before = jobd_now_ms ();
        int rc = kl_status_decode (payload, strlen (payload), &s_options, "t/0/1", &fast,
                                   &heartbeat, reason, sizeof reason);
        int slow_rc =
            kl_status_decode_jansson (payload, strlen (payload), &s_options, "t/0/1", &slow,
                                      &slow_heartbeat, slow_reason, sizeof slow_reason);
        if (rc != slow_rc || heartbeat != slow_heartbeat || strcmp (reason, slow_reason))
            fail_msg ("'%s': %d %lld '%s', jansson %d %lld '%s'", payload, rc, (long long)heartbeat,
                      reason, slow_rc, (long long)slow_heartbeat, slow_reason);
        if (rc == 0) {
            //  An event without a ts is stamped when it is made: the stamps may differ by a tick.
            if (fast->ts >= before && slow->ts >= before && slow->ts <= jobd_now_ms ())
                slow->ts = fast->ts;
            uint8_t *a = NULL, *b = NULL;
            size_t a_size = 0, b_size = 0;
            assert_int_equal (jobd_event_encode (fast, &a, &a_size, NULL, 0), 0);
            assert_int_equal (jobd_event_encode (slow, &b, &b_size, NULL, 0), 0);
            if (a_size != b_size || memcmp (a, b, a_size))
                fail_msg ("'%s': the two readings differ", payload);
            free (a);
            free (b);
        }
        jobd_event_destroy (&fast);
        jobd_event_destroy (&slow);
    }
}

//  {"ext": ext, "state": "RUNNING", key: value} in msgpack: a status event as a msgpack
//  producer writes it, any of its strings as given.
static int
s_msgpack_decode (const char *ext, const char *key, const char *value, char *reason,
                  size_t reason_size)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    const char *strings[] = {"ext", ext, "state", "RUNNING", key, value};
    for (size_t index = 0; index < 6; index++) {
        msgpack_pack_str (&pk, strlen (strings[index]));
        msgpack_pack_str_body (&pk, strings[index], strlen (strings[index]));
    }
    jobd_event_t *event = NULL;
    int rc = kl_status_decode (buffer.data, buffer.size, &s_options, "t/0/9", &event, NULL, reason,
                               reason_size);
    if (rc == 0) {
        assert_non_null (event);
        jobd_event_destroy (&event);
    } else
        assert_null (event);
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}

//  A msgpack event is held to the rule a JSON one is (jansson refuses invalid UTF-8): any string
//  in it, key or value, at any depth, that is not UTF-8 has it refused, and so dead-lettered.
static void
test_msgpack_strings_must_be_utf8 (void **state)
{
    char reason[256];
    assert_int_equal (s_msgpack_decode ("x", "name", "caf\xc3\xa9", reason, sizeof reason), 0);
    //  ext, key, value, and what the reason must say. A key that goes to the detail, or its
    //  value: refused, not dropped from the detail.
    static const char *cases[][4] = {
        {"caf\xe9", "name", "n", "field 'ext': not valid UTF-8"},
        {"x", "name", "\xff\xfe", "field 'name': not valid UTF-8"},
        {"x", "error", "boom \xc3", "field 'error': not valid UTF-8"},
        {"x", "progress", "\xed\xa0\x80", "field 'progress': not valid UTF-8"},
        {"x", "st\xffte", "RUNNING", "a key is not valid UTF-8"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        assert_int_equal (s_msgpack_decode (cases[index][0], cases[index][1], cases[index][2],
                                            reason, sizeof reason),
                          JOBD_EPROTO);
        assert_non_null (strstr (reason, cases[index][3]));
    }
    //  The same event in JSON is refused too (by jansson).
    s_decode ("{\"ext\":\"caf\xe9\",\"state\":\"RUNNING\"}", JOBD_EPROTO, "invalid JSON");
}

//  The detail is cut to its limit at a character's start: never into invalid UTF-8, which the
//  event's validation would refuse.
static void
test_long_detail_cut_on_a_character (void **state)
{
    //  {"ext":"x","state":"RUNNING","notes":"€€€..."}: 3 bytes a character, past the limit.
    size_t count = JOBD_DETAIL_MAX / 3 + 10;
    char *payload = (char *)malloc (count * 3 + 64);
    size_t size = (size_t)sprintf (payload, "{\"ext\":\"x\",\"state\":\"RUNNING\",\"notes\":\"");
    for (size_t index = 0; index < count; index++, size += 3)
        memcpy (payload + size, "\xe2\x82\xac", 3);
    size += (size_t)sprintf (payload + size, "\"}");
    for (int shift = 0; shift < 3; shift++) {
        //  Each alignment of the limit inside a character.
        jobd_event_t *event = s_decode (payload, 0, NULL);
        assert_true (strlen (event->detail) <= JOBD_DETAIL_MAX);
        assert_true (jobd_utf8_valid (event->detail, strlen (event->detail)));
        jobd_event_destroy (&event);
        //  One more ASCII byte in the key moves the cut by one.
        memmove (payload + 32, payload + 31, size - 31 + 1);
        payload[31] = 'x';
        size++;
    }
    free (payload);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_json_by_job_and_by_ext),
        cmocka_unit_test (test_msgpack),
        cmocka_unit_test (test_word_mapping),
        cmocka_unit_test (test_bad_payloads_have_reasons),
        cmocka_unit_test (test_heartbeat_promise),
        cmocka_unit_test (test_fast_path_reads_as_jansson),
        cmocka_unit_test (test_msgpack_strings_must_be_utf8),
        cmocka_unit_test (test_long_detail_cut_on_a_character),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
