//  Job records on disk and on the wire: round trips, and the decoder's strictness.
#include "jobd_job.h"
#include "jobd_event.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A record with every field set, at the edges of each type where it has edges.
static jobd_job_t *
s_full (void)
{
    jobd_job_t *job = jobd_job_new ();
    assert_non_null (job);
    job->id = strdup ("job-42");
    job->name = strdup ("nightly etl");
    job->kind = strdup ("spark");
    job->backend = strdup ("yarn");
    job->ext = strdup ("application_1700000000000_0042");
    job->state = JOBD_STATE_RETRY_WAIT;
    job->attempt = UINT32_MAX;
    job->last_seq = UINT64_MAX;
    job->queued_at = INT64_MIN;
    job->submitted_at = -1;
    job->started_at = 1;
    job->finished_at = INT64_MAX;
    job->last_seen = 1700000000123;
    job->updated_at = 1700000000456;
    job->error = strdup ("exit code 1");
    job->spec = strdup ("{\"file\":\"hdfs:///etl.jar\",\"args\":[\"--day\",\"2024-01-01\"]}");
    job->cause = strdup ("exit code 1");
    job->app_id = strdup ("application_1700000000000_0042");
    job->app_url = strdup ("http://rm:8088/proxy/application_1700000000000_0042/");
    job->log_url = strdup ("http://nm:8042/node/containerlogs/container_1/alice");
    return job;
}

static void
s_assert_same (const jobd_job_t *a, const jobd_job_t *b)
{
    const char *const strings_a[] = {a->id,   a->name,  a->kind,   a->backend, a->ext,    a->error,
                                     a->spec, a->cause, a->app_id, a->app_url, a->log_url};
    const char *const strings_b[] = {b->id,   b->name,  b->kind,   b->backend, b->ext,    b->error,
                                     b->spec, b->cause, b->app_id, b->app_url, b->log_url};
    for (size_t index = 0; index < 11; index++) {
        if (!strings_a[index] || !strings_b[index])
            assert_ptr_equal (strings_a[index], strings_b[index]);
        else
            assert_string_equal (strings_a[index], strings_b[index]);
    }
    const int64_t numbers_a[] = {a->state,       a->attempt,      (int64_t)a->last_seq,
                                 a->queued_at,   a->submitted_at, a->started_at,
                                 a->finished_at, a->last_seen,    a->updated_at};
    const int64_t numbers_b[] = {b->state,       b->attempt,      (int64_t)b->last_seq,
                                 b->queued_at,   b->submitted_at, b->started_at,
                                 b->finished_at, b->last_seen,    b->updated_at};
    for (size_t index = 0; index < 9; index++)
        if (numbers_a[index] != numbers_b[index])
            fail_msg ("number %zu: %lld != %lld", index, (long long)numbers_a[index],
                      (long long)numbers_b[index]);
}

static void
test_round_trip (void **state)
{
    jobd_job_t *full = s_full ();
    jobd_job_t *minimal = jobd_job_new ();
    minimal->id = strdup ("j");
    minimal->kind = strdup ("kafka");
    minimal->state = JOBD_STATE_QUEUED;
    jobd_job_t *records[] = {full, minimal};
    for (size_t index = 0; index < 2; index++) {
        uint8_t *data = NULL;
        size_t size = 0;
        char reason[256] = "";
        assert_int_equal (jobd_job_encode (records[index], &data, &size, reason, sizeof reason), 0);
        //  Absent fields are left out: the minimal record is a map of three.
        assert_int_equal (data[0], index == 0 ? 0xde : 0x83);
        jobd_job_t *decoded = NULL;
        assert_int_equal (jobd_job_decode (data, size, &decoded, reason, sizeof reason), 0);
        s_assert_same (records[index], decoded);
        uint8_t *again = NULL;
        size_t again_size = 0;
        assert_int_equal (jobd_job_encode (decoded, &again, &again_size, NULL, 0), 0);
        assert_int_equal (again_size, size);
        assert_memory_equal (again, data, size);
        //  pack writes the same bytes; from_object reads them the same way.
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
        assert_int_equal (jobd_job_pack (records[index], &pk), 0);
        assert_int_equal (buffer.size, size);
        assert_memory_equal (buffer.data, data, size);
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
        jobd_job_t *from_object = NULL;
        assert_int_equal (jobd_job_from_object (&unpacked.data, &from_object, NULL, 0), 0);
        s_assert_same (records[index], from_object);
        jobd_job_destroy (&from_object);
        msgpack_unpacked_destroy (&unpacked);
        msgpack_sbuffer_destroy (&buffer);
        //  A copy is deep.
        jobd_job_t *copy = jobd_job_dup (decoded);
        s_assert_same (decoded, copy);
        assert_ptr_not_equal (copy->id, decoded->id);
        jobd_job_destroy (&copy);
        assert_null (copy);
        free (again);
        free (data);
        jobd_job_destroy (&decoded);
    }
    jobd_job_destroy (&full);
    jobd_job_destroy (&minimal);
    jobd_job_destroy (&minimal); //  NULL-safe
    jobd_job_destroy (NULL);
    assert_null (jobd_job_dup (NULL));
}

//  A record written pair by pair: keys with values given as msgpack bytes.
typedef struct {
    const char *key;
    const char *value; //  msgpack bytes
    size_t size;
} s_pair_t;

#define PAIR(k, v)                                                                                 \
    {                                                                                              \
        k, v, sizeof (v) - 1                                                                       \
    }

//  The three required fields, then up to four more pairs; skip names a required key to leave out.
static size_t
s_record (const char *skip, const s_pair_t *extra, size_t extra_count, uint8_t *out, size_t room)
{
    const s_pair_t required[] = {PAIR ("id", "\xa2j1"), PAIR ("kind", "\xa5spark"),
                                 PAIR ("state", "\xa7RUNNING")};
    size_t count = 0, size = 1;
    for (size_t pass = 0; pass < 2; pass++) {
        const s_pair_t *pairs = pass ? extra : required;
        for (size_t index = 0; index < (pass ? extra_count : 3); index++) {
            if (!pass && skip && strcmp (skip, pairs[index].key) == 0)
                continue;
            size_t key_length = strlen (pairs[index].key);
            assert_true (size + 1 + key_length + pairs[index].size <= room);
            out[size++] = (uint8_t)(0xa0 | key_length);
            memcpy (out + size, pairs[index].key, key_length);
            size += key_length;
            memcpy (out + size, pairs[index].value, pairs[index].size);
            size += pairs[index].size;
            count++;
        }
    }
    out[0] = (uint8_t)(0x80 | count);
    return size;
}

static void
s_expect (const uint8_t *data, size_t size, int rc, const char *text)
{
    jobd_job_t *job = NULL;
    char reason[256] = "";
    int got = jobd_job_decode (data, size, &job, reason, sizeof reason);
    if (got != rc || !strstr (reason, text))
        fail_msg ("got %d '%s', expected %d with '%s'", got, reason, rc, text);
    if (rc)
        assert_null (job);
    jobd_job_destroy (&job);
}

static void
test_required_fields (void **state)
{
    uint8_t data[512];
    size_t size = s_record (NULL, NULL, 0, data, sizeof data);
    s_expect (data, size, 0, "");
    static const char *required[] = {"id", "kind", "state"};
    char text[64];
    for (size_t index = 0; index < 3; index++) {
        snprintf (text, sizeof text, "job record: missing field '%s'", required[index]);
        size = s_record (required[index], NULL, 0, data, sizeof data);
        s_expect (data, size, JOBD_EPROTO, text);
        //  nil is absent: a required field cannot be nil.
        s_pair_t nil = {required[index], "\xc0", 1};
        size = s_record (required[index], &nil, 1, data, sizeof data);
        s_expect (data, size, JOBD_EPROTO, text);
    }
    //  Empty strings are missing too.
    const s_pair_t empty_id[] = {PAIR ("id", "\xa0")};
    size = s_record ("id", empty_id, 1, data, sizeof data);
    s_expect (data, size, JOBD_EPROTO, "missing field 'id'");
    const s_pair_t empty_kind[] = {PAIR ("kind", "\xa0")};
    size = s_record ("kind", empty_kind, 1, data, sizeof data);
    s_expect (data, size, JOBD_EPROTO, "missing field 'kind'");
    //  "NONE" is not a state a record can be in.
    const s_pair_t none[] = {PAIR ("state", "\xa4NONE")};
    size = s_record ("state", none, 1, data, sizeof data);
    s_expect (data, size, JOBD_EPROTO, "field 'state': unknown state 'NONE'");
    //  The encoder refuses what the decoder would.
    jobd_job_t *job = s_full ();
    job->state = JOBD_STATE_NONE;
    char reason[128] = "";
    uint8_t *encoded = NULL;
    size_t encoded_size = 0;
    assert_int_equal (jobd_job_encode (job, &encoded, &encoded_size, reason, sizeof reason),
                      JOBD_EPROTO);
    assert_non_null (strstr (reason, "'state'"));
    assert_null (encoded);
    jobd_job_destroy (&job);
}

static void
test_wrong_types_and_ranges (void **state)
{
    static const struct {
        s_pair_t pair;
        const char *reason;
    } cases[] = {
        {PAIR ("name", "\x01"), "field 'name': expected a str, got int"},
        {PAIR ("backend", "\xc4\x01y"), "field 'backend': expected a str, got bin"},
        {PAIR ("ext", "\x91\x01"), "field 'ext': expected a str, got array"},
        {PAIR ("error", "\x80"), "field 'error': expected a str, got map"},
        {PAIR ("spec", "\xc3"), "field 'spec': expected a str, got bool"},
        {PAIR ("state", "\x03"), "field 'state': expected a str, got int"},
        {PAIR ("state", "\xa7running"), "field 'state': unknown state 'running'"},
        {PAIR ("attempt", "\xa1"
                          "1"),
         "field 'attempt': expected an unsigned integer, got str"},
        {PAIR ("attempt", "\xff"), "field 'attempt': -1 is out of range"},
        {PAIR ("attempt", "\xcf\x00\x00\x00\x01\x00\x00\x00\x00"),
         "field 'attempt': 4294967296 is out of range"},
        {PAIR ("last_seq", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00"),
         "field 'last_seq': -9223372036854775808 is out of range"},
        {PAIR ("last_seq", "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"),
         "field 'last_seq': expected an unsigned integer, got float"},
        {PAIR ("queued_at", "\xcf\x80\x00\x00\x00\x00\x00\x00\x00"),
         "field 'queued_at': 9223372036854775808 is out of range"},
        {PAIR ("submitted_at", "\xa1"
                               "1"),
         "field 'submitted_at': expected an integer, got str"},
        {PAIR ("started_at", "\xc2"), "field 'started_at': expected an integer, got bool"},
        {PAIR ("finished_at", "\xca\x00\x00\x00\x00"), "field 'finished_at': expected an integer"},
        {PAIR ("last_seen", "\xc4\x00"), "field 'last_seen': expected an integer, got bin"},
        {PAIR ("updated_at", "\xd4\x01\x01"), "field 'updated_at': expected an integer, got ext"},
        {PAIR ("id", "\xa2j1"), "field 'id' given twice"},
        {PAIR ("kind", "\xc0"), "field 'kind' given twice"},
        {PAIR ("name", "\xa3"
                       "a\0b"),
         "field 'name': contains a NUL byte"},
    };
    uint8_t data[512];
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        //  A required key is replaced, others are added; "twice" cases add to the required ones.
        const char *skip = strstr (cases[index].reason, "twice") ? NULL : cases[index].pair.key;
        size_t size = s_record (skip, &cases[index].pair, 1, data, sizeof data);
        s_expect (data, size, JOBD_EPROTO, cases[index].reason);
    }
    //  Signed encodings of small positive numbers, and unknown keys of any type, are fine.
    const s_pair_t fine[] = {PAIR ("attempt", "\xd0\x05"), PAIR ("last_seq", "\xd1\x00\x09"),
                             PAIR ("queued_at", "\xe0"), PAIR ("history", "\x92\xc0\x80")};
    size_t size = s_record (NULL, fine, 4, data, sizeof data);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_job_decode (data, size, &job, NULL, 0), 0);
    assert_int_equal (job->attempt, 5);
    assert_int_equal (job->last_seq, 9);
    assert_int_equal (job->queued_at, -32);
    jobd_job_destroy (&job);
    //  nil optional fields are absent.
    const s_pair_t nils[] = {PAIR ("error", "\xc0"), PAIR ("attempt", "\xc0"),
                             PAIR ("updated_at", "\xc0"), PAIR ("spec", "\xc0")};
    size = s_record (NULL, nils, 4, data, sizeof data);
    assert_int_equal (jobd_job_decode (data, size, &job, NULL, 0), 0);
    assert_null (job->error);
    assert_null (job->spec);
    assert_int_equal (job->attempt, 0);
    assert_int_equal (job->updated_at, 0);
    jobd_job_destroy (&job);
}

static void
test_string_limits (void **state)
{
    static const struct {
        const char *key;
        size_t max;
    } limits[] = {{"id", JOBD_ID_MAX},      {"name", JOBD_NAME_MAX}, {"kind", JOBD_ID_MAX},
                  {"backend", JOBD_ID_MAX}, {"ext", JOBD_ID_MAX},    {"error", JOBD_ERROR_MAX},
                  {"spec", JOBD_SPEC_MAX}};
    for (size_t index = 0; index < sizeof limits / sizeof limits[0]; index++)
        for (size_t over = 0; over < 2; over++) {
            jobd_job_t *job = s_full ();
            char **slot = strcmp (limits[index].key, "id") == 0        ? &job->id
                          : strcmp (limits[index].key, "name") == 0    ? &job->name
                          : strcmp (limits[index].key, "kind") == 0    ? &job->kind
                          : strcmp (limits[index].key, "backend") == 0 ? &job->backend
                          : strcmp (limits[index].key, "ext") == 0     ? &job->ext
                          : strcmp (limits[index].key, "error") == 0   ? &job->error
                                                                       : &job->spec;
            free (*slot);
            *slot = (char *)malloc (limits[index].max + over + 1);
            memset (*slot, 'z', limits[index].max + over);
            (*slot)[limits[index].max + over] = 0;
            //  Encoding refuses the long one...
            uint8_t *data = NULL;
            size_t size = 0;
            char reason[128] = "";
            int rc = jobd_job_encode (job, &data, &size, reason, sizeof reason);
            assert_int_equal (rc, over ? JOBD_ETOOBIG : 0);
            if (over) {
                char text[64];
                snprintf (text, sizeof text, "field '%s': %zu bytes", limits[index].key,
                          limits[index].max + 1);
                assert_non_null (strstr (reason, text));
                //  ... and so does decoding what another encoder wrote.
                msgpack_sbuffer buffer;
                msgpack_sbuffer_init (&buffer);
                msgpack_packer pk;
                msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
                assert_int_equal (jobd_job_pack (job, &pk), 0);
                s_expect ((const uint8_t *)buffer.data, buffer.size, JOBD_ETOOBIG, text);
                msgpack_sbuffer_destroy (&buffer);
            } else {
                jobd_job_t *decoded = NULL;
                assert_int_equal (jobd_job_decode (data, size, &decoded, NULL, 0), 0);
                s_assert_same (job, decoded);
                jobd_job_destroy (&decoded);
            }
            free (data);
            jobd_job_destroy (&job);
        }
}

static void
test_malformed_buffers (void **state)
{
    jobd_job_t *job = s_full ();
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_job_encode (job, &data, &size, NULL, 0), 0);
    for (size_t length = 0; length < size; length++) {
        uint8_t *copy = (uint8_t *)malloc (length ? length : 1);
        memcpy (copy, data, length);
        jobd_job_t *decoded = NULL;
        assert_int_equal (jobd_job_decode (copy, length, &decoded, NULL, 0), JOBD_EPROTO);
        assert_null (decoded);
        free (copy);
    }
    uint8_t *longer = (uint8_t *)malloc (size + 1);
    memcpy (longer, data, size);
    longer[size] = 0x00;
    s_expect (longer, size + 1, JOBD_EPROTO, "1 trailing bytes");
    free (longer);
    free (data);
    jobd_job_destroy (&job);
    s_expect ((const uint8_t *)"\x92\x01\x02", 3, JOBD_EPROTO, "expected a map, got array");
    s_expect ((const uint8_t *)"\xa2id", 3, JOBD_EPROTO, "expected a map, got str");
    s_expect ((const uint8_t *)"\x81\x00\x00", 3, JOBD_EPROTO, "keys must be str");
    s_expect ((const uint8_t *)"\xde\xff\xff", 3, JOBD_EPROTO, "claims more");
    s_expect ((const uint8_t *)"\xc1", 1, JOBD_EPROTO, "not valid msgpack");
    uint8_t *huge = (uint8_t *)calloc (1, JOBD_EVENT_MAX + 1);
    s_expect (huge, JOBD_EVENT_MAX + 1, JOBD_ETOOBIG, "over the");
    free (huge);
    jobd_job_t *decoded = NULL;
    char reason[64] = "";
    assert_int_equal (jobd_job_from_object (NULL, &decoded, reason, sizeof reason), JOBD_EPROTO);
    assert_null (decoded);
    assert_non_null (strstr (reason, "expected a map"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_required_fields),
        cmocka_unit_test (test_wrong_types_and_ranges),
        cmocka_unit_test (test_string_limits),
        cmocka_unit_test (test_malformed_buffers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
