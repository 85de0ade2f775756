//  Events on the wire: round trips of every type, and every way a message can be wrong.
#include "jobd_event.h"
#include "jobd_plugin.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//  A valid event of each type with only what its type requires (rich = false), or with every
//  field the type may carry (rich = true).
static jobd_event_t *
s_valid (jobd_event_type_t type, bool rich)
{
    jobd_event_t *event = jobd_event_new (type);
    assert_non_null (event);
    jobd_event_set (&event->source, "test");
    switch (type) {
        case JOBD_EVENT_SUBMIT:
            jobd_event_set (&event->kind, "spark");
            jobd_event_set (&event->spec, "{\"file\":\"hdfs:///app.jar\"}");
            if (rich) {
                jobd_event_set (&event->name, "nightly etl");
                jobd_event_set (&event->backend, "livy");
            }
            break;
        case JOBD_EVENT_TRACK:
            jobd_event_set (&event->kind, "spark");
            jobd_event_set (&event->backend, "yarn");
            jobd_event_set (&event->ext, "application_1_1");
            if (rich)
                jobd_event_set (&event->name, "tracked");
            break;
        case JOBD_EVENT_CANCEL:
        case JOBD_EVENT_RETRY:
            jobd_event_set (&event->job, "job-1");
            if (rich && type == JOBD_EVENT_RETRY)
                event->now = true;
            break;
        case JOBD_EVENT_OBSERVED:
            jobd_event_set (&event->job, "job-1");
            event->state = JOBD_STATE_RUNNING;
            if (rich) {
                jobd_event_set (&event->kind, "spark");
                jobd_event_set (&event->backend, "yarn");
                jobd_event_set (&event->ext, "application_1_1");
                jobd_event_set (&event->detail, "progress 40%");
                jobd_event_set (&event->error, "none yet");
                jobd_event_set (&event->cause, "none yet, in one line");
                jobd_event_set (&event->app_id, "application_1_1");
                jobd_event_set (&event->app_url, "http://rm:8088/proxy/application_1_1/");
                jobd_event_set (&event->log_url, "http://nm:8042/node/containerlogs/c_1/u");
                event->attempt = UINT32_MAX;
                event->create = true;
            }
            break;
        case JOBD_EVENT_TRANSITION:
            jobd_event_set (&event->job, "job-1");
            event->state = JOBD_STATE_FAILED;
            event->seq = 1;
            if (rich) {
                event->from = JOBD_STATE_RUNNING;
                event->seq = UINT64_MAX;
                event->attempt = 2;
                jobd_event_set (&event->error, "java.lang.RuntimeException: boom\n\tat x");
                jobd_event_set (&event->cause, "RuntimeException: boom");
            }
            break;
        case JOBD_EVENT_STALE:
            jobd_event_set (&event->job, "job-1");
            event->state = JOBD_STATE_SUBMITTED;
            if (rich)
                event->last_seen = -1; //  signed: before the epoch is still a time
            break;
        case JOBD_EVENT_PLUGIN_STATUS:
            jobd_event_set (&event->name, "spark-poller");
            jobd_event_set (&event->status, "degraded");
            if (rich) {
                jobd_event_set (&event->detail, "yarn: 503");
                jobd_event_set (&event->ask, "0123456789abcdef01234567");
            }
            break;
        case JOBD_EVENT_CURSOR:
            jobd_event_set (&event->name, "kafka-listener");
            if (rich)
                event->seq = 42;
            break;
        case JOBD_EVENT_CANCEL_FAILED:
            jobd_event_set (&event->job, "job-1");
            jobd_event_set (&event->status, "refused");
            jobd_event_set (&event->error, "HTTP 403: Unable to obtain user name");
            if (rich)
                jobd_event_set (&event->backend, "prod");
            break;
        case JOBD_EVENT_RETRY_PLAN:
            jobd_event_set (&event->job, "job-1");
            event->attempt = 1;
            event->state = JOBD_STATE_RETRY_WAIT;
            event->due = 1796312264725;
            if (rich) {
                jobd_event_set (&event->failure_class, "oom");
                jobd_event_set (&event->policy, "spark/livy");
                jobd_event_set (&event->change, "spark.executor.memory 4g -> 6g");
                jobd_event_set (&event->spec, "{\"file\":\"hdfs:///app.jar\"}");
            }
            break;
        default:
            break;
    }
    if (rich)
        event->reply = true;
    return event;
}

static void
s_assert_same_str (const char *expected, const char *actual)
{
    if (!expected)
        assert_null (actual);
    else {
        assert_non_null (actual);
        assert_string_equal (actual, expected);
    }
}

//  Every field, compared one by one.
static void
s_assert_same (const jobd_event_t *expected, const jobd_event_t *actual)
{
    assert_int_equal (actual->version, expected->version);
    assert_int_equal (actual->type, expected->type);
    assert_int_equal (actual->ts, expected->ts);
    assert_int_equal (actual->state, expected->state);
    assert_int_equal (actual->from, expected->from);
    assert_int_equal (actual->attempt, expected->attempt);
    assert_true (actual->seq == expected->seq);
    assert_int_equal (actual->create, expected->create);
    assert_int_equal (actual->last_seen, expected->last_seen);
    assert_int_equal (actual->reply, expected->reply);
    assert_int_equal (actual->due, expected->due);
    assert_int_equal (actual->now, expected->now);
    assert_int_equal (actual->stop, expected->stop);
    s_assert_same_str (expected->failure_class, actual->failure_class);
    s_assert_same_str (expected->policy, actual->policy);
    s_assert_same_str (expected->change, actual->change);
    s_assert_same_str (expected->ask, actual->ask);
    const char *const *want = (const char *const[]){
        expected->id,     expected->source,  expected->job,    expected->name,
        expected->kind,   expected->backend, expected->ext,    expected->error,
        expected->spec,   expected->detail,  expected->status, expected->cause,
        expected->app_id, expected->app_url, expected->log_url};
    const char *const *got = (const char *const[]){
        actual->id,      actual->source, actual->job,    actual->name,    actual->kind,
        actual->backend, actual->ext,    actual->error,  actual->spec,    actual->detail,
        actual->status,  actual->cause,  actual->app_id, actual->app_url, actual->log_url};
    for (int index = 0; index < 15; index++)
        s_assert_same_str (want[index], got[index]);
}

//  The number of keys in an encoded map (fixmap or map16).
static size_t
s_map_size (const uint8_t *data)
{
    if ((data[0] & 0xf0) == 0x80)
        return data[0] & 0x0f;
    assert_int_equal (data[0], 0xde);
    return ((size_t)data[1] << 8) | data[2];
}

static void
test_round_trip_every_type (void **state)
{
    //  Keys of the minimal form: the envelope (5) and what the type requires.
    static const size_t minimal_keys[JOBD_EVENT_TYPE_COUNT] = {0, 7, 8, 6, 6, 7, 8,
                                                               7, 7, 6, 8, 9, 5};
    for (int type = JOBD_EVENT_SUBMIT; type < JOBD_EVENT_TYPE_COUNT; type++)
        for (int rich = 0; rich < 2; rich++) {
            jobd_event_t *event = s_valid ((jobd_event_type_t)type, rich);
            uint8_t *data = NULL;
            size_t size = 0;
            char reason[256] = "";
            assert_int_equal (jobd_event_encode (event, &data, &size, reason, sizeof reason), 0);
            if (!rich)
                assert_int_equal (s_map_size (data), minimal_keys[type]);
            jobd_event_t *decoded = NULL;
            assert_int_equal (jobd_event_decode (data, size, &decoded, reason, sizeof reason), 0);
            s_assert_same (event, decoded);
            //  Encoding the decoded event gives the same bytes.
            uint8_t *again = NULL;
            size_t again_size = 0;
            assert_int_equal (jobd_event_encode (decoded, &again, &again_size, NULL, 0), 0);
            assert_int_equal (again_size, size);
            assert_memory_equal (again, data, size);
            //  A copy is deep and equal.
            jobd_event_t *copy = jobd_event_dup (decoded);
            s_assert_same (decoded, copy);
            assert_ptr_not_equal (copy->id, decoded->id);
            assert_ptr_not_equal (copy->source, decoded->source);
            jobd_event_destroy (&copy);
            assert_null (copy);
            free (again);
            free (data);
            jobd_event_destroy (&decoded);
            jobd_event_destroy (&event);
        }
}

static void
test_pack_and_from_object_match_encode_and_decode (void **state)
{
    jobd_event_t *event = s_valid (JOBD_EVENT_TRANSITION, true);
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    assert_int_equal (jobd_event_pack (event, &pk), 0);
    assert_int_equal (buffer.size, size);
    assert_memory_equal (buffer.data, data, size);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0), 0);
    jobd_event_t *decoded = NULL;
    assert_int_equal (jobd_event_from_object (&unpacked.data, &decoded, NULL, 0), 0);
    s_assert_same (event, decoded);
    jobd_event_destroy (&decoded);
    char reason[128] = "";
    assert_int_equal (jobd_event_from_object (NULL, &decoded, reason, sizeof reason), JOBD_EPROTO);
    assert_null (decoded);
    assert_non_null (strstr (reason, "expected a map"));
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    free (data);
    jobd_event_destroy (&event);
}

static void
test_new_and_destroy (void **state)
{
    int64_t before = jobd_now_ms ();
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_CANCEL);
    int64_t after = jobd_now_ms ();
    assert_non_null (event);
    assert_int_equal (event->version, JOBD_PROTO_VERSION);
    assert_int_equal (event->type, JOBD_EVENT_CANCEL);
    assert_true (event->ts >= before && event->ts <= after);
    //  Milliseconds since the epoch: after 2020, before 2100.
    assert_true (before > 1577836800000LL && before < 4102444800000LL);
    assert_int_equal (strlen (event->id), 24);
    assert_int_equal (strspn (event->id, "0123456789abcdef"), 24);
    assert_null (event->job);
    assert_int_equal (event->state, JOBD_STATE_NONE);
    jobd_event_destroy (&event);
    assert_null (event);
    jobd_event_destroy (&event); //  NULL-safe
    jobd_event_destroy (NULL);
    assert_null (jobd_event_dup (NULL));
}

static void
test_set (void **state)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_CANCEL);
    assert_int_equal (jobd_event_set (&event->job, "job-1"), 0);
    assert_string_equal (event->job, "job-1");
    assert_int_equal (jobd_event_set (&event->job, event->job), 0); //  to itself
    assert_string_equal (event->job, "job-1");
    assert_int_equal (jobd_event_set (&event->job, "job-2"), 0);
    assert_string_equal (event->job, "job-2");
    assert_int_equal (jobd_event_set (&event->job, NULL), 0);
    assert_null (event->job);
    jobd_event_destroy (&event);
}

#define IDS_PER_THREAD 20000
#define ID_THREADS     4

static void *
s_make_ids (void *arg)
{
    char (*ids)[25] = (char (*)[25])arg;
    for (int index = 0; index < IDS_PER_THREAD; index++)
        jobd_event_new_id (ids[index]);
    return NULL;
}

static int
s_compare_ids (const void *a, const void *b)
{
    return memcmp (a, b, 25);
}

static void
test_ids_are_unique_across_threads_and_processes (void **state)
{
    char (*ids)[25] = (char (*)[25])calloc (ID_THREADS * IDS_PER_THREAD, 25);
    pthread_t threads[ID_THREADS];
    for (int index = 0; index < ID_THREADS; index++)
        assert_int_equal (
            pthread_create (&threads[index], NULL, s_make_ids, ids + index * IDS_PER_THREAD), 0);
    for (int index = 0; index < ID_THREADS; index++)
        pthread_join (threads[index], NULL);
    qsort (ids, ID_THREADS * IDS_PER_THREAD, 25, s_compare_ids);
    for (int index = 0; index < ID_THREADS * IDS_PER_THREAD; index++) {
        assert_int_equal (strlen (ids[index]), 24);
        assert_int_equal (strspn (ids[index], "0123456789abcdef"), 24);
        if (index > 0 && strcmp (ids[index - 1], ids[index]) == 0)
            fail_msg ("id %s made twice", ids[index]);
    }
    //  A forked child draws its own random part: it never repeats its parent's ids.
    char parent[25], child[25] = "";
    jobd_event_new_id (parent);
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        char id[25];
        jobd_event_new_id (id);
        _exit (write (fds[1], id, sizeof id) == sizeof id ? 0 : 1);
    }
    assert_int_equal (read (fds[0], child, sizeof child), sizeof child);
    int status = 0;
    waitpid (pid, &status, 0);
    assert_int_equal (status, 0);
    close (fds[0]);
    close (fds[1]);
    assert_int_not_equal (memcmp (parent, child, 16), 0);
    free (ids);
}

//  ---------------------------------------------------------------------------------------------
//  Malformed messages are built from a valid event's encoding: one key replaced by a given
//  value, removed, or added.

typedef enum {
    V_OMIT,  //  remove the key
    V_NIL,   //  nil
    V_STR,   //  text
    V_BIN,   //  text as bin
    V_INT,   //  number (signed)
    V_UINT,  //  unsigned number
    V_BOOL,  //  number != 0
    V_FLOAT, //  1.5
    V_ARRAY, //  [1]
    V_LONG   //  a str of number bytes of 'x'
} s_kind_t;

typedef struct {
    s_kind_t kind;
    const char *text;
    int64_t number;
    uint64_t unsigned_number;
} s_value_t;

static void
s_pack_str (msgpack_packer *pk, const char *text, size_t length)
{
    msgpack_pack_str (pk, length);
    msgpack_pack_str_body (pk, text, length);
}

static void
s_pack_value (msgpack_packer *pk, const s_value_t *value)
{
    switch (value->kind) {
        case V_NIL:
            msgpack_pack_nil (pk);
            break;
        case V_STR:
            s_pack_str (pk, value->text, strlen (value->text));
            break;
        case V_BIN:
            msgpack_pack_bin (pk, strlen (value->text));
            msgpack_pack_bin_body (pk, value->text, strlen (value->text));
            break;
        case V_INT:
            msgpack_pack_int64 (pk, value->number);
            break;
        case V_UINT:
            msgpack_pack_uint64 (pk, value->unsigned_number);
            break;
        case V_BOOL:
            value->number ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
            break;
        case V_FLOAT:
            msgpack_pack_double (pk, 1.5);
            break;
        case V_ARRAY:
            msgpack_pack_array (pk, 1);
            msgpack_pack_int (pk, 1);
            break;
        case V_LONG: {
            char *text = (char *)malloc ((size_t)value->number + 1);
            memset (text, 'x', (size_t)value->number);
            s_pack_str (pk, text, (size_t)value->number);
            free (text);
            break;
        }
        default:
            break;
    }
}

//  Encodes event with key set to value (the key is added when the event lacks it, removed with
//  V_OMIT). Returns the bytes in buffer (destroy it).
static void
s_variant (const jobd_event_t *event, const char *key, const s_value_t *value,
           msgpack_sbuffer *buffer)
{
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0), 0);
    const msgpack_object_map *map = &unpacked.data.via.map;
    size_t keep = 0;
    for (uint32_t index = 0; index < map->size; index++)
        keep += !(map->ptr[index].key.via.str.size == strlen (key) &&
                  memcmp (map->ptr[index].key.via.str.ptr, key, strlen (key)) == 0);
    msgpack_sbuffer_init (buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, keep + (value->kind != V_OMIT));
    for (uint32_t index = 0; index < map->size; index++) {
        const msgpack_object_kv *kv = &map->ptr[index];
        if (kv->key.via.str.size == strlen (key) &&
            memcmp (kv->key.via.str.ptr, key, strlen (key)) == 0)
            continue;
        msgpack_pack_object (&pk, kv->key);
        msgpack_pack_object (&pk, kv->val);
    }
    if (value->kind != V_OMIT) {
        s_pack_str (&pk, key, strlen (key));
        s_pack_value (&pk, value);
    }
    msgpack_unpacked_destroy (&unpacked);
    free (data);
}

//  Decodes bytes and expects rc with a reason containing text.
static void
s_refused (const void *data, size_t size, int rc, const char *text)
{
    jobd_event_t *event = NULL;
    char reason[256] = "";
    int got = jobd_event_decode (data, size, &event, reason, sizeof reason);
    if (got != rc)
        fail_msg ("decode returned %d (%s), not %d; expected a reason with '%s'", got, reason, rc,
                  text);
    assert_null (event);
    if (!strstr (reason, text))
        fail_msg ("reason '%s' does not say '%s'", reason, text);
}

//  The variant of a valid event of type must be refused with rc and a reason saying text.
static void
s_variant_refused (jobd_event_type_t type, bool rich, const char *key, s_value_t value, int rc,
                   const char *text)
{
    jobd_event_t *event = s_valid (type, rich);
    msgpack_sbuffer buffer;
    s_variant (event, key, &value, &buffer);
    s_refused (buffer.data, buffer.size, rc, text);
    msgpack_sbuffer_destroy (&buffer);
    jobd_event_destroy (&event);
}

//  The variant must decode; returns the event (the caller destroys it).
static jobd_event_t *
s_variant_accepted (jobd_event_type_t type, bool rich, const char *key, s_value_t value)
{
    jobd_event_t *event = s_valid (type, rich);
    msgpack_sbuffer buffer;
    s_variant (event, key, &value, &buffer);
    jobd_event_t *decoded = NULL;
    char reason[256] = "";
    if (jobd_event_decode (buffer.data, buffer.size, &decoded, reason, sizeof reason))
        fail_msg ("%s event with '%s' changed refused: %s", jobd_event_type_name (type), key,
                  reason);
    msgpack_sbuffer_destroy (&buffer);
    jobd_event_destroy (&event);
    return decoded;
}

#define OMIT    ((s_value_t){V_OMIT, NULL, 0, 0})
#define NIL     ((s_value_t){V_NIL, NULL, 0, 0})
#define STR(t)  ((s_value_t){V_STR, (t), 0, 0})
#define BIN(t)  ((s_value_t){V_BIN, (t), 0, 0})
#define INT(n)  ((s_value_t){V_INT, NULL, (n), 0})
#define UINT(n) ((s_value_t){V_UINT, NULL, 0, (n)})
#define BOOL(b) ((s_value_t){V_BOOL, NULL, (b), 0})
#define FLOAT   ((s_value_t){V_FLOAT, NULL, 0, 0})
#define ARRAY   ((s_value_t){V_ARRAY, NULL, 0, 0})
#define LONG(n) ((s_value_t){V_LONG, NULL, (n), 0})

static void
test_every_required_field (void **state)
{
    static const struct {
        jobd_event_type_t type;
        const char *key;
        bool is_str;
    } required[] = {
        {JOBD_EVENT_SUBMIT, "kind", true},
        {JOBD_EVENT_SUBMIT, "spec", true},
        {JOBD_EVENT_TRACK, "kind", true},
        {JOBD_EVENT_TRACK, "backend", true},
        {JOBD_EVENT_TRACK, "ext", true},
        {JOBD_EVENT_CANCEL, "job", true},
        {JOBD_EVENT_RETRY, "job", true},
        {JOBD_EVENT_OBSERVED, "state", false},
        {JOBD_EVENT_OBSERVED, "job", true},
        {JOBD_EVENT_TRANSITION, "job", true},
        {JOBD_EVENT_TRANSITION, "state", false},
        {JOBD_EVENT_TRANSITION, "seq", false},
        {JOBD_EVENT_STALE, "job", true},
        {JOBD_EVENT_STALE, "state", false},
        {JOBD_EVENT_PLUGIN_STATUS, "name", true},
        {JOBD_EVENT_PLUGIN_STATUS, "status", true},
        {JOBD_EVENT_CURSOR, "name", true},
        {JOBD_EVENT_CANCEL_FAILED, "job", true},
        {JOBD_EVENT_CANCEL_FAILED, "status", true},
        {JOBD_EVENT_CANCEL_FAILED, "error", true},
        {JOBD_EVENT_RETRY_PLAN, "job", true},
        {JOBD_EVENT_RETRY_PLAN, "attempt", false},
        {JOBD_EVENT_RETRY_PLAN, "state", false},
        {JOBD_EVENT_RETRY_PLAN, "due", false},
    };
    char quoted[64];
    for (size_t index = 0; index < sizeof required / sizeof required[0]; index++) {
        snprintf (quoted, sizeof quoted, "missing field '%s'", required[index].key);
        s_variant_refused (required[index].type, false, required[index].key, OMIT, JOBD_EPROTO,
                           quoted);
        s_variant_refused (required[index].type, false, required[index].key, NIL, JOBD_EPROTO,
                           quoted);
        if (required[index].is_str)
            s_variant_refused (required[index].type, false, required[index].key, STR (""),
                               JOBD_EPROTO, quoted);
    }
    //  The envelope, for every type.
    static const char *envelope[] = {"type", "id", "ts", "src"};
    for (int type = JOBD_EVENT_SUBMIT; type < JOBD_EVENT_TYPE_COUNT; type++) {
        s_variant_refused ((jobd_event_type_t)type, false, "v", OMIT, JOBD_EPROTO,
                           "missing field 'v'");
        s_variant_refused ((jobd_event_type_t)type, false, "v", NIL, JOBD_EPROTO,
                           "missing field 'v'");
        for (size_t index = 0; index < 4; index++) {
            snprintf (quoted, sizeof quoted, "missing field '%s'", envelope[index]);
            s_variant_refused ((jobd_event_type_t)type, false, envelope[index], OMIT, JOBD_EPROTO,
                               quoted);
            s_variant_refused ((jobd_event_type_t)type, false, envelope[index], NIL, JOBD_EPROTO,
                               quoted);
        }
        s_variant_refused ((jobd_event_type_t)type, false, "id", STR (""), JOBD_EPROTO,
                           "missing field 'id'");
        s_variant_refused ((jobd_event_type_t)type, false, "src", STR (""), JOBD_EPROTO,
                           "missing field 'src'");
    }
}

static void
test_observed_transition_and_status_rules (void **state)
{
    //  observed: backend and ext stand in for job, and create needs kind.
    jobd_event_t *event = s_valid (JOBD_EVENT_OBSERVED, false);
    jobd_event_set (&event->job, NULL);
    char reason[256] = "";
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), JOBD_EPROTO);
    assert_non_null (strstr (reason, "'job' (or 'backend' and 'ext')"));
    jobd_event_set (&event->backend, "yarn");
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), JOBD_EPROTO);
    jobd_event_set (&event->ext, "application_1_1");
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), 0);
    event->create = true;
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), JOBD_EPROTO);
    assert_non_null (strstr (reason, "'kind'"));
    jobd_event_set (&event->kind, "spark");
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), 0);
    jobd_event_destroy (&event);
    s_variant_refused (JOBD_EVENT_OBSERVED, true, "kind", OMIT, JOBD_EPROTO, "'kind'");
    //  A cause is one line.
    s_variant_refused (JOBD_EVENT_OBSERVED, true, "cause", STR ("a\nb"), JOBD_EPROTO,
                       "field 'cause': more than one line");
    s_variant_refused (JOBD_EVENT_TRANSITION, true, "cause", STR ("a\rb"), JOBD_EPROTO,
                       "field 'cause': more than one line");
    jobd_event_t *decoded = s_variant_accepted (JOBD_EVENT_OBSERVED, true, "job", OMIT);
    assert_null (decoded->job);
    assert_string_equal (decoded->ext, "application_1_1");
    jobd_event_destroy (&decoded);
    decoded = s_variant_accepted (JOBD_EVENT_OBSERVED, true, "create", BOOL (0));
    assert_false (decoded->create);
    jobd_event_destroy (&decoded);
    //  transition: seq 0 is no sequence number; "from" NONE is omitted, or spelled "NONE".
    s_variant_refused (JOBD_EVENT_TRANSITION, false, "seq", INT (0), JOBD_EPROTO,
                       "missing field 'seq'");
    decoded = s_variant_accepted (JOBD_EVENT_TRANSITION, true, "from", OMIT);
    assert_int_equal (decoded->from, JOBD_STATE_NONE);
    jobd_event_destroy (&decoded);
    decoded = s_variant_accepted (JOBD_EVENT_TRANSITION, true, "from", STR ("NONE"));
    assert_int_equal (decoded->from, JOBD_STATE_NONE);
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (decoded, &data, &size, NULL, 0), 0);
    assert_null (memmem (data, size, "from", 4)); //  NONE is encoded by leaving "from" out
    free (data);
    jobd_event_destroy (&decoded);
    decoded = s_variant_accepted (JOBD_EVENT_TRANSITION, true, "from", STR ("QUEUED"));
    assert_int_equal (decoded->from, JOBD_STATE_QUEUED);
    jobd_event_destroy (&decoded);
    //  "NONE" is never a state.
    s_variant_refused (JOBD_EVENT_TRANSITION, true, "state", STR ("NONE"), JOBD_EPROTO,
                       "field 'state': unknown state 'NONE'");
    s_variant_refused (JOBD_EVENT_OBSERVED, false, "state", STR ("NONE"), JOBD_EPROTO,
                       "field 'state': unknown state 'NONE'");
    //  plugin.status: a closed list of statuses.
    static const char *statuses[] = {"starting", "running", "degraded", "failed", "stopped"};
    for (size_t index = 0; index < 5; index++) {
        decoded =
            s_variant_accepted (JOBD_EVENT_PLUGIN_STATUS, false, "status", STR (statuses[index]));
        assert_string_equal (decoded->status, statuses[index]);
        jobd_event_destroy (&decoded);
    }
    s_variant_refused (JOBD_EVENT_PLUGIN_STATUS, false, "status", STR ("sleepy"), JOBD_EPROTO,
                       "field 'status': 'sleepy'");
    s_variant_refused (JOBD_EVENT_PLUGIN_STATUS, false, "status", STR ("Running"), JOBD_EPROTO,
                       "field 'status'");
    //  cancel.failed: refused, retrying or failed, nothing else.
    static const char *cancel_statuses[] = {"refused", "retrying", "failed"};
    for (size_t index = 0; index < 3; index++) {
        decoded = s_variant_accepted (JOBD_EVENT_CANCEL_FAILED, false, "status",
                                      STR (cancel_statuses[index]));
        assert_string_equal (decoded->status, cancel_statuses[index]);
        jobd_event_destroy (&decoded);
    }
    s_variant_refused (JOBD_EVENT_CANCEL_FAILED, false, "status", STR ("running"), JOBD_EPROTO,
                       "field 'status': 'running' is not refused, retrying or failed");
}

static void
test_wrong_types (void **state)
{
    static const struct {
        jobd_event_type_t type; //  an event in which the key is valid
        const char *key;
        s_value_t value;
        const char *reason;
    } cases[] = {
        {JOBD_EVENT_CANCEL, "v", STR ("1"), "field 'v': expected an unsigned integer, got str"},
        {JOBD_EVENT_CANCEL, "v", FLOAT, "field 'v': expected an unsigned integer, got float"},
        {JOBD_EVENT_CANCEL, "type", INT (3), "field 'type': expected a str, got int"},
        {JOBD_EVENT_CANCEL, "type", BIN ("cancel"), "field 'type': expected a str, got bin"},
        {JOBD_EVENT_CANCEL, "id", INT (7), "field 'id': expected a str, got int"},
        {JOBD_EVENT_CANCEL, "ts", STR ("now"), "field 'ts': expected an integer, got str"},
        {JOBD_EVENT_CANCEL, "ts", FLOAT, "field 'ts': expected an integer, got float"},
        {JOBD_EVENT_CANCEL, "src", BIN ("test"), "field 'src': expected a str, got bin"},
        {JOBD_EVENT_CANCEL, "job", BOOL (1), "field 'job': expected a str, got bool"},
        {JOBD_EVENT_SUBMIT, "name", ARRAY, "field 'name': expected a str, got array"},
        {JOBD_EVENT_SUBMIT, "kind", INT (1), "field 'kind': expected a str, got int"},
        {JOBD_EVENT_SUBMIT, "spec", BIN ("{}"), "field 'spec': expected a str, got bin"},
        {JOBD_EVENT_TRACK, "backend", FLOAT, "field 'backend': expected a str, got float"},
        {JOBD_EVENT_TRACK, "ext", INT (42), "field 'ext': expected a str, got int"},
        {JOBD_EVENT_OBSERVED, "state", INT (3), "field 'state': expected a str, got int"},
        {JOBD_EVENT_OBSERVED, "attempt", STR ("2"),
         "field 'attempt': expected an unsigned integer, got str"},
        {JOBD_EVENT_OBSERVED, "attempt", INT (-1), "field 'attempt': -1 is out of range"},
        {JOBD_EVENT_OBSERVED, "attempt", UINT (1ull << 32),
         "field 'attempt': 4294967296 is out of range"},
        {JOBD_EVENT_OBSERVED, "create", INT (1), "field 'create': expected a bool, got int"},
        {JOBD_EVENT_OBSERVED, "create", STR ("true"), "field 'create': expected a bool, got str"},
        {JOBD_EVENT_OBSERVED, "error", BIN ("abc"), "field 'error': expected a str, got bin"},
        {JOBD_EVENT_OBSERVED, "detail", ARRAY, "field 'detail': expected a str, got array"},
        {JOBD_EVENT_TRANSITION, "from", INT (3), "field 'from': expected a str, got int"},
        {JOBD_EVENT_TRANSITION, "seq", INT (-1), "field 'seq': -1 is out of range"},
        {JOBD_EVENT_TRANSITION, "seq", FLOAT, "field 'seq': expected an unsigned integer"},
        {JOBD_EVENT_STALE, "last_seen", UINT ((uint64_t)INT64_MAX + 1),
         "field 'last_seen': 9223372036854775808 is out of range"},
        {JOBD_EVENT_STALE, "last_seen", STR ("1"), "field 'last_seen': expected an integer"},
        {JOBD_EVENT_CANCEL, "ts", UINT (UINT64_MAX), "field 'ts': 18446744073709551615 is out"},
        {JOBD_EVENT_PLUGIN_STATUS, "status", INT (1), "field 'status': expected a str, got int"},
        {JOBD_EVENT_PLUGIN_STATUS, "reply", STR ("yes"), "field 'reply': expected a bool"},
        {JOBD_EVENT_PLUGIN_STATUS, "reply", INT (0), "field 'reply': expected a bool, got int"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++)
        s_variant_refused (cases[index].type, true, cases[index].key, cases[index].value,
                           JOBD_EPROTO, cases[index].reason);
}

static void
test_integer_edges (void **state)
{
    //  Either msgpack int family is fine where the value fits.
    jobd_event_t *event = s_variant_accepted (JOBD_EVENT_OBSERVED, true, "attempt", INT (7));
    assert_int_equal (event->attempt, 7);
    jobd_event_destroy (&event);
    event = s_variant_accepted (JOBD_EVENT_OBSERVED, true, "attempt", UINT (UINT32_MAX));
    assert_int_equal (event->attempt, UINT32_MAX);
    jobd_event_destroy (&event);
    event = s_variant_accepted (JOBD_EVENT_CANCEL, false, "ts", INT (-1700000000000LL));
    assert_int_equal (event->ts, -1700000000000LL);
    jobd_event_destroy (&event);
    event = s_variant_accepted (JOBD_EVENT_CANCEL, false, "ts", UINT (INT64_MAX));
    assert_int_equal (event->ts, INT64_MAX);
    jobd_event_destroy (&event);
    event = s_variant_accepted (JOBD_EVENT_STALE, false, "last_seen", INT (INT64_MIN));
    assert_true (event->last_seen == INT64_MIN);
    jobd_event_destroy (&event);
    event = s_variant_accepted (JOBD_EVENT_TRANSITION, false, "seq", UINT (UINT64_MAX));
    assert_true (event->seq == UINT64_MAX);
    jobd_event_destroy (&event);
    //  A small positive value in a signed encoding (int64 0xd3) is an unsigned value too.
    static const uint8_t signed_seven[] = {0xd3, 0, 0, 0, 0, 0, 0, 0, 7};
    jobd_event_t *valid = s_valid (JOBD_EVENT_TRANSITION, false);
    valid->seq = 0x5a5a5a5a5a5a5a5aull; //  a marker to find and replace
    jobd_event_set (&valid->error, "padding");
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (valid, &data, &size, NULL, 0), 0);
    uint8_t *marker = (uint8_t *)memmem (data, size, "\xcf\x5a\x5a\x5a\x5a\x5a\x5a\x5a\x5a", 9);
    assert_non_null (marker);
    memcpy (marker, signed_seven, sizeof signed_seven);
    event = NULL;
    assert_int_equal (jobd_event_decode (data, size, &event, NULL, 0), 0);
    assert_true (event->seq == 7);
    jobd_event_destroy (&event);
    free (data);
    jobd_event_destroy (&valid);
}

static void
test_unknown_state_and_type_names (void **state)
{
    static const char *states[] = {"RUNNIN", "running", "RUNNINGX", "", "QUEUED ", "RETRY-WAIT"};
    char expected[64];
    for (size_t index = 0; index < sizeof states / sizeof states[0]; index++) {
        snprintf (expected, sizeof expected, "field 'state': unknown state '%s'", states[index]);
        s_variant_refused (JOBD_EVENT_OBSERVED, false, "state", STR (states[index]), JOBD_EPROTO,
                           expected);
        snprintf (expected, sizeof expected, "field 'from': unknown state '%s'", states[index]);
        s_variant_refused (JOBD_EVENT_TRANSITION, true, "from", STR (states[index]), JOBD_EPROTO,
                           expected);
    }
    static const char *types[] = {"observe", "", "SUBMIT", "plugin.status ", "plugin", "reply"};
    for (size_t index = 0; index < sizeof types / sizeof types[0]; index++) {
        snprintf (expected, sizeof expected, "field 'type': unknown event type '%s'", types[index]);
        s_variant_refused (JOBD_EVENT_CANCEL, false, "type", STR (types[index]), JOBD_EPROTO,
                           expected);
    }
    //  A long unknown name is quoted only in part, and a small reason buffer is cut, never
    //  overrun; a zero-size one is not written.
    s_variant_refused (JOBD_EVENT_OBSERVED, false, "state", LONG (100), JOBD_EPROTO,
                       "unknown state 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'");
    jobd_event_t *event = s_valid (JOBD_EVENT_OBSERVED, false);
    msgpack_sbuffer buffer;
    s_variant (event, "state", &STR ("RUNNIN"), &buffer);
    char reason[12];
    memset (reason, '#', sizeof reason);
    jobd_event_t *decoded = NULL;
    assert_int_equal (jobd_event_decode (buffer.data, buffer.size, &decoded, reason, 8),
                      JOBD_EPROTO);
    assert_int_equal (strlen (reason), 7);
    assert_int_equal (reason[8], '#');
    memset (reason, '#', sizeof reason);
    assert_int_equal (jobd_event_decode (buffer.data, buffer.size, &decoded, reason, 0),
                      JOBD_EPROTO);
    assert_int_equal (reason[0], '#');
    assert_null (decoded);
    msgpack_sbuffer_destroy (&buffer);
    jobd_event_destroy (&event);
    //  The name tables themselves.
    for (int type = JOBD_EVENT_SUBMIT; type < JOBD_EVENT_TYPE_COUNT; type++) {
        const char *name = jobd_event_type_name ((jobd_event_type_t)type);
        assert_int_equal (jobd_event_type_parse (name, strlen (name)), type);
    }
    assert_string_equal (jobd_event_type_name (JOBD_EVENT_PLUGIN_STATUS), "plugin.status");
    assert_string_equal (jobd_event_type_name (JOBD_EVENT_INVALID), "invalid");
    assert_string_equal (jobd_event_type_name ((jobd_event_type_t)99), "invalid");
    assert_int_equal (jobd_event_type_parse ("invalid", 7), JOBD_EVENT_INVALID);
    assert_int_equal (jobd_event_type_parse ("submitx", 6), JOBD_EVENT_SUBMIT);
}

static void
test_oversized_strings (void **state)
{
    static const struct {
        jobd_event_type_t type;
        const char *key;
        int64_t max;
    } limits[] = {
        {JOBD_EVENT_CANCEL, "id", JOBD_ID_MAX},
        {JOBD_EVENT_CANCEL, "src", JOBD_ID_MAX},
        {JOBD_EVENT_CANCEL, "job", JOBD_ID_MAX},
        {JOBD_EVENT_SUBMIT, "name", JOBD_NAME_MAX},
        {JOBD_EVENT_SUBMIT, "kind", JOBD_ID_MAX},
        {JOBD_EVENT_SUBMIT, "spec", JOBD_SPEC_MAX},
        {JOBD_EVENT_TRACK, "backend", JOBD_ID_MAX},
        {JOBD_EVENT_TRACK, "ext", JOBD_ID_MAX},
        {JOBD_EVENT_OBSERVED, "error", JOBD_ERROR_MAX},
        {JOBD_EVENT_OBSERVED, "detail", JOBD_DETAIL_MAX},
        {JOBD_EVENT_OBSERVED, "cause", JOBD_CAUSE_MAX},
        {JOBD_EVENT_OBSERVED, "app_id", JOBD_ID_MAX},
        {JOBD_EVENT_OBSERVED, "app_url", JOBD_URL_MAX},
        {JOBD_EVENT_OBSERVED, "log_url", JOBD_URL_MAX},
        {JOBD_EVENT_PLUGIN_STATUS, "name", JOBD_NAME_MAX},
    };
    char expected[64];
    for (size_t index = 0; index < sizeof limits / sizeof limits[0]; index++) {
        //  At the limit: accepted.
        jobd_event_t *event = s_variant_accepted (limits[index].type, true, limits[index].key,
                                                  LONG (limits[index].max));
        jobd_event_destroy (&event);
        //  One byte over: refused by the decoder, naming the field.
        snprintf (expected, sizeof expected, "field '%s': %d bytes, over its %d byte limit",
                  limits[index].key, (int)limits[index].max + 1, (int)limits[index].max);
        s_variant_refused (limits[index].type, true, limits[index].key,
                           LONG (limits[index].max + 1), JOBD_ETOOBIG, expected);
    }
    //  status is limited too, though no valid status is that long.
    s_variant_refused (JOBD_EVENT_PLUGIN_STATUS, true, "status", LONG (JOBD_ID_MAX + 1),
                       JOBD_ETOOBIG, "field 'status'");
    //  validate and encode refuse the same.
    jobd_event_t *event = s_valid (JOBD_EVENT_OBSERVED, true);
    char *big = (char *)malloc (JOBD_ERROR_MAX + 2);
    memset (big, 'e', JOBD_ERROR_MAX + 1);
    big[JOBD_ERROR_MAX + 1] = 0;
    jobd_event_set (&event->error, big);
    char reason[128] = "";
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), JOBD_ETOOBIG);
    assert_non_null (strstr (reason, "field 'error'"));
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (event, &data, &size, reason, sizeof reason), JOBD_ETOOBIG);
    assert_null (data);
    free (big);
    jobd_event_destroy (&event);
    //  A whole message over the limit is refused before parsing: even garbage says ETOOBIG.
    uint8_t *huge = (uint8_t *)malloc (JOBD_EVENT_MAX + 1);
    memset (huge, 0xc1, JOBD_EVENT_MAX + 1);
    s_refused (huge, JOBD_EVENT_MAX + 1, JOBD_ETOOBIG, "over the 262144 byte limit");
    free (huge);
}

static void
test_truncated_buffers_and_trailing_bytes (void **state)
{
    for (int type = JOBD_EVENT_SUBMIT; type < JOBD_EVENT_TYPE_COUNT; type++) {
        jobd_event_t *valid = s_valid ((jobd_event_type_t)type, true);
        uint8_t *data = NULL;
        size_t size = 0;
        assert_int_equal (jobd_event_encode (valid, &data, &size, NULL, 0), 0);
        //  Every truncation is refused; each copy is exactly its length so that the sanitizer
        //  build catches a read past the end.
        for (size_t length = 0; length < size; length++) {
            uint8_t *copy = (uint8_t *)malloc (length ? length : 1);
            memcpy (copy, data, length);
            jobd_event_t *event = NULL;
            char reason[256] = "";
            assert_int_equal (jobd_event_decode (copy, length, &event, reason, sizeof reason),
                              JOBD_EPROTO);
            assert_null (event);
            assert_true (strlen (reason) > 0);
            free (copy);
        }
        //  Any byte after the map, or a second event, is refused.
        static const uint8_t tails[] = {0x00, 0xc0, 0x80, 0xc1};
        uint8_t *longer = (uint8_t *)malloc (2 * size);
        memcpy (longer, data, size);
        for (size_t index = 0; index < sizeof tails; index++) {
            longer[size] = tails[index];
            s_refused (longer, size + 1, JOBD_EPROTO, "trailing");
        }
        memcpy (longer + size, data, size);
        s_refused (longer, 2 * size, JOBD_EPROTO, "trailing");
        free (longer);
        free (data);
        jobd_event_destroy (&valid);
    }
}

static void
test_not_a_map (void **state)
{
    s_refused ("\x93\x01\x02\x03", 4, JOBD_EPROTO, "expected a map, got array");
    s_refused ("\x01", 1, JOBD_EPROTO, "expected a map, got int");
    s_refused ("\xa3"
               "abc",
               4, JOBD_EPROTO, "expected a map, got str");
    s_refused ("\xc4\x01\x00", 3, JOBD_EPROTO, "expected a map, got bin");
    s_refused ("\xc0", 1, JOBD_EPROTO, "expected a map, got nil");
    s_refused ("\xc3", 1, JOBD_EPROTO, "expected a map, got bool");
    s_refused ("\xcb\0\0\0\0\0\0\0\0", 9, JOBD_EPROTO, "expected a map, got float");
    s_refused ("\xd4\x01\x00", 3, JOBD_EPROTO, "expected a map, got ext");
    //  An empty map is a map, with nothing in it.
    s_refused ("\x80", 1, JOBD_EPROTO, "missing field 'v'");
    s_refused ("", 0, JOBD_EPROTO, "truncated");
    s_refused ("\xc1", 1, JOBD_EPROTO, "not valid msgpack");
    //  Lengths that claim more than the buffer holds are refused before anything is allocated.
    s_refused ("\xdf\xff\xff\xff\xff", 5, JOBD_EPROTO, "claims more");
    s_refused ("\xdd\xff\xff\xff\xff", 5, JOBD_EPROTO, "claims more");
    s_refused ("\xdb\x7f\xff\xff\xff", 5, JOBD_EPROTO, "claims more");
    //  Keys must be strings.
    s_refused ("\x81\x01\x02", 3, JOBD_EPROTO, "keys must be str");
    s_refused ("\x81\xc4\x01v\x01", 5, JOBD_EPROTO, "keys must be str");
}

static void
test_unknown_keys_nil_and_duplicates (void **state)
{
    //  Unknown keys of any type are skipped, nested or not.
    jobd_event_t *event = s_valid (JOBD_EVENT_OBSERVED, false);
    msgpack_sbuffer buffer;
    s_variant (event, "progress_v2", &ARRAY, &buffer);
    jobd_event_t *decoded = NULL;
    assert_int_equal (jobd_event_decode (buffer.data, buffer.size, &decoded, NULL, 0), 0);
    s_assert_same (event, decoded);
    jobd_event_destroy (&decoded);
    msgpack_sbuffer_destroy (&buffer);
    static const s_value_t extras[] = {STR ("x"), BIN ("x"), INT (-5), FLOAT, NIL, BOOL (1)};
    for (size_t index = 0; index < sizeof extras / sizeof extras[0]; index++) {
        decoded = s_variant_accepted (JOBD_EVENT_OBSERVED, false, "future", extras[index]);
        jobd_event_set (&decoded->id, event->id); //  another event, with its own id and time
        decoded->ts = event->ts;
        s_assert_same (event, decoded);
        jobd_event_destroy (&decoded);
    }
    //  A key differing only in case is another, unknown key.
    decoded = s_variant_accepted (JOBD_EVENT_OBSERVED, false, "State", INT (1));
    assert_int_equal (decoded->state, JOBD_STATE_RUNNING);
    jobd_event_destroy (&decoded);
    jobd_event_destroy (&event);
    //  nil is absent for optional fields of every kind.
    static const char *optional[] = {"error", "detail", "attempt", "create", "reply",
                                     "kind",  "from",   "backend", "ext",    "name"};
    for (size_t index = 0; index < sizeof optional / sizeof optional[0]; index++) {
        decoded = s_variant_accepted (JOBD_EVENT_OBSERVED, false, optional[index], NIL);
        assert_null (decoded->error);
        assert_null (decoded->detail);
        assert_int_equal (decoded->attempt, 0);
        assert_false (decoded->create);
        assert_false (decoded->reply);
        assert_int_equal (decoded->from, JOBD_STATE_NONE);
        jobd_event_destroy (&decoded);
    }
    //  A known key given twice is refused, whatever the values, nil included.
    static const uint8_t prefix[] = {0x82, 0xa3, 'j', 'o', 'b', 0xa1, 'a', 0xa3, 'j', 'o', 'b'};
    uint8_t twice[sizeof prefix + 2];
    memcpy (twice, prefix, sizeof prefix);
    memcpy (twice + sizeof prefix,
            "\xa1"
            "a",
            2);
    s_refused (twice, sizeof twice, JOBD_EPROTO, "field 'job' given twice");
    twice[sizeof prefix] = 0xc0;
    s_refused (twice, sizeof prefix + 1, JOBD_EPROTO, "field 'job' given twice");
    //  ... also in a whole valid event, where the second value is the same.
    event = s_valid (JOBD_EVENT_OBSERVED, false);
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    static const char pair[] = "\xa5state\xa6"
                               "FAILED";
    uint8_t *more = (uint8_t *)malloc (size + sizeof pair - 1);
    memcpy (more, data, size);
    more[0]++; //  fixmap: one more pair
    memcpy (more + size, pair, sizeof pair - 1);
    s_refused (more, size + sizeof pair - 1, JOBD_EPROTO, "field 'state' given twice");
    free (more);
    free (data);
    jobd_event_destroy (&event);
}

static void
test_versions (void **state)
{
    s_variant_refused (JOBD_EVENT_CANCEL, false, "v", INT (JOBD_PROTO_VERSION + 1), JOBD_EPROTO,
                       "field 'v': version 2 is newer than this jobd's version 1");
    s_variant_refused (JOBD_EVENT_CANCEL, false, "v", UINT (1ull << 40), JOBD_EPROTO,
                       "version 1099511627776");
    s_variant_refused (JOBD_EVENT_CANCEL, false, "v", INT (0), JOBD_EPROTO, "missing field 'v'");
    s_variant_refused (JOBD_EVENT_CANCEL, false, "v", INT (-1), JOBD_EPROTO,
                       "field 'v': -1 is out of range");
    //  A newer sender's event is refused for its version, not for what this jobd cannot read,
    //  wherever "v" is in the map.
    static const uint8_t newer[] = {0x82, 0xa4, 't', 'y', 'p',  'e', 0xa4,
                                    'w',  'a',  'r', 'p', 0xa1, 'v', 0x02};
    s_refused (newer, sizeof newer, JOBD_EPROTO, "version 2");
    //  Encoding refuses a version this jobd does not speak.
    jobd_event_t *event = s_valid (JOBD_EVENT_CANCEL, false);
    event->version = 2;
    char reason[128] = "";
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (event, &data, &size, reason, sizeof reason), JOBD_EPROTO);
    assert_non_null (strstr (reason, "version 2"));
    jobd_event_destroy (&event);
}

static void
test_deep_nesting (void **state)
{
    //  An unknown key's value nested deeper than the unpacker's stack is refused, not a crash.
    static const size_t depths[] = {8, 30, 31, 32, 33, 64, 4096};
    for (size_t index = 0; index < sizeof depths / sizeof depths[0]; index++) {
        size_t depth = depths[index];
        jobd_event_t *event = s_valid (JOBD_EVENT_CANCEL, false);
        uint8_t *data = NULL;
        size_t size = 0;
        assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
        uint8_t *nested = (uint8_t *)malloc (size + 2 + depth + 1);
        memcpy (nested, data, size);
        nested[0]++;
        memcpy (nested + size, "\xa1x", 2);
        memset (nested + size + 2, 0x91, depth);
        nested[size + 2 + depth] = 0xc0;
        jobd_event_t *decoded = NULL;
        int rc = jobd_event_decode (nested, size + 2 + depth + 1, &decoded, NULL, 0);
        if (depth < 32)
            assert_int_equal (rc, 0);
        else
            assert_int_equal (rc, JOBD_EPROTO);
        if (depth >= 32) {
            char reason[128] = "";
            jobd_event_decode (nested, size + 2 + depth + 1, &decoded, reason, sizeof reason);
            assert_non_null (strstr (reason, "nested more than 32 deep"));
        }
        jobd_event_destroy (&decoded);
        free (nested);
        free (data);
        jobd_event_destroy (&event);
    }
}

//  Packing straight into a buffer writes what msgpack's packer writes, at every size edge of
//  numbers, strings and maps: msgpack-c's own packer, given the decoded map, writes the same
//  bytes. Through a packer (jobd_event_pack), the same bytes again.
static void
s_same_both_ways (const jobd_event_t *event)
{
    msgpack_sbuffer direct, repacked, packed;
    msgpack_sbuffer_init (&direct);
    msgpack_sbuffer_init (&repacked);
    msgpack_sbuffer_init (&packed);
    msgpack_sbuffer_write (&direct, "x", 1); //  appended after what the buffer holds
    assert_int_equal (jobd_event_pack_to (event, &direct), 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    assert_int_equal (msgpack_unpack_next (&unpacked, direct.data + 1, direct.size - 1, &offset),
                      MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (offset, direct.size - 1);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &repacked, msgpack_sbuffer_write);
    assert_int_equal (msgpack_pack_object (&pk, unpacked.data), 0);
    assert_int_equal (direct.size, repacked.size + 1);
    assert_memory_equal (direct.data + 1, repacked.data, repacked.size);
    msgpack_packer_init (&pk, &packed, msgpack_sbuffer_write);
    assert_int_equal (jobd_event_pack (event, &pk), 0);
    assert_int_equal (packed.size, repacked.size);
    assert_memory_equal (packed.data, repacked.data, repacked.size);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&direct);
    msgpack_sbuffer_destroy (&repacked);
    msgpack_sbuffer_destroy (&packed);
}

static void
test_pack_to_writes_what_the_packer_writes (void **state)
{
    static const int64_t signed_edges[] = {
        0,         1,  127, 128, 255,  256,  65535,  65536,  4294967295LL,  4294967296LL,
        INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL,
        INT64_MIN};
    static const uint64_t unsigned_edges[] = {
        1, 127, 128, 255, 256, 65535, 65536, 4294967295ULL, 4294967296ULL, UINT64_MAX};
    static const size_t lengths[] = {0, 1, 31, 32, 255, 256, 4096};
    char text[4097];
    memset (text, 'a', sizeof text);
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->job, "job-1");
    event->state = JOBD_STATE_RUNNING;
    for (size_t index = 0; index < sizeof signed_edges / sizeof signed_edges[0]; index++) {
        event->ts = event->last_seen = signed_edges[index];
        s_same_both_ways (event);
    }
    for (size_t index = 0; index < sizeof unsigned_edges / sizeof unsigned_edges[0]; index++) {
        event->seq = event->pos = unsigned_edges[index];
        event->attempt = (uint32_t)unsigned_edges[index];
        s_same_both_ways (event);
    }
    for (size_t index = 0; index < sizeof lengths / sizeof lengths[0]; index++) {
        text[lengths[index]] = 0;
        jobd_event_set (&event->error, text);
        jobd_event_set (&event->detail, lengths[index] ? text : NULL);
        text[lengths[index]] = 'a';
        event->from = index % 2 ? JOBD_STATE_NONE : JOBD_STATE_QUEUED;
        event->create = index % 2;
        s_same_both_ways (event);
    }
    //  A map of 16 entries or more takes a map16 header.
    for (size_t index = 0; index < 8; index++) {
        char value[32];
        snprintf (value, sizeof value, "v%zu", index);
        jobd_event_set (index == 0   ? &event->name
                        : index == 1 ? &event->kind
                        : index == 2 ? &event->backend
                        : index == 3 ? &event->ext
                        : index == 4 ? &event->source
                        : index == 5 ? &event->spec
                        : index == 6 ? &event->status
                                     : &event->stream,
                        value);
        s_same_both_ways (event);
    }
    jobd_event_destroy (&event);
}

//  The one-allocation reading of a map (the broker's batches) reads what the usual one reads,
//  and refuses what it refuses, with the same reason.
static void
test_flat_reading_agrees (void **state)
{
    jobd_event_t *event = s_valid (JOBD_EVENT_OBSERVED, true);
    jobd_event_set (&event->error, ""); //  an empty string is a string
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0), 0);
    jobd_event_t *flat = NULL;
    assert_int_equal (jobd_event_from_object_flat (&unpacked.data, &flat, NULL, 0), 0);
    uint8_t *again = NULL;
    size_t again_size = 0;
    assert_int_equal (jobd_event_encode (flat, &again, &again_size, NULL, 0), 0);
    assert_int_equal (again_size, size);
    assert_memory_equal (again, data, size);
    assert_string_equal (flat->ext, "application_1_1");
    assert_string_equal (flat->error, "");
    free (flat);
    free (again);
    free (data);
    msgpack_unpacked_destroy (&unpacked);
    //  Refused: an observation without a state, and a key given twice.
    const char bad[][64] = {"\x83\xa1v\x01\xa4type\xa8observed\xa3"
                            "ext\xa1x",
                            "\x82\xa3"
                            "ext\xa1x\xa3"
                            "ext\xa1y"};
    for (size_t index = 0; index < 2; index++) {
        msgpack_unpacked_init (&unpacked);
        assert_int_equal (jobd_msgpack_unpack (bad[index], strlen (bad[index]), &unpacked, NULL, 0),
                          0);
        char reason[256] = "", flat_reason[256] = "";
        jobd_event_t *usual = NULL;
        flat = NULL;
        int rc = jobd_event_from_object (&unpacked.data, &usual, reason, sizeof reason);
        assert_int_not_equal (rc, 0);
        assert_int_equal (
            jobd_event_from_object_flat (&unpacked.data, &flat, flat_reason, sizeof flat_reason),
            rc);
        assert_string_equal (flat_reason, reason);
        assert_null (flat);
        msgpack_unpacked_destroy (&unpacked);
    }
    jobd_event_destroy (&event);
}

//  Every string of an event that comes to jobd (commands, observations, plugin outputs) is valid
//  UTF-8, as JSON events already had to be: a store that holds only UTF-8 can always be written
//  as JSON. A transition is what jobd makes from its store: one that carries a string an older
//  jobd stored is still read, so that it can be shown.
static void
test_strings_must_be_utf8 (void **state)
{
    static const struct {
        jobd_event_type_t type;
        const char *key;
    } fields[] = {
        {JOBD_EVENT_SUBMIT, "name"},
        {JOBD_EVENT_SUBMIT, "spec"},
        {JOBD_EVENT_SUBMIT, "kind"},
        {JOBD_EVENT_TRACK, "ext"},
        {JOBD_EVENT_TRACK, "backend"},
        {JOBD_EVENT_CANCEL, "job"},
        {JOBD_EVENT_RETRY, "src"},
        {JOBD_EVENT_OBSERVED, "ext"},
        {JOBD_EVENT_OBSERVED, "error"},
        {JOBD_EVENT_OBSERVED, "name"},
        {JOBD_EVENT_OBSERVED, "detail"},
        {JOBD_EVENT_OBSERVED, "id"},
        {JOBD_EVENT_OBSERVED, "backend"},
        {JOBD_EVENT_STALE, "job"},
        {JOBD_EVENT_PLUGIN_STATUS, "detail"},
        {JOBD_EVENT_CURSOR, "name"},
    };
    static const char *bad[] = {
        "\xff",         "caf\xe9",          "ok \xc3",    "\xc0\xaf",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "x\xe2\x82y", "\x80 lone",
    };
    char quoted[64];
    for (size_t index = 0; index < sizeof fields / sizeof fields[0]; index++) {
        snprintf (quoted, sizeof quoted, "field '%s': not valid UTF-8", fields[index].key);
        for (size_t which = 0; which < sizeof bad / sizeof bad[0]; which++)
            s_variant_refused (fields[index].type, true, fields[index].key, STR (bad[which]),
                               JOBD_EPROTO, quoted);
        //  Valid multi-byte text is fine.
        jobd_event_t *decoded =
            s_variant_accepted (fields[index].type, true, fields[index].key,
                                STR ("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
        jobd_event_destroy (&decoded);
    }
    //  The reason says where, and never quotes the bad bytes themselves.
    jobd_event_t *event = s_valid (JOBD_EVENT_OBSERVED, true);
    jobd_event_set (&event->name, "ab\xff");
    char reason[256] = "";
    assert_int_equal (jobd_event_validate (event, reason, sizeof reason), JOBD_EPROTO);
    assert_string_equal (reason, "field 'name': not valid UTF-8 (byte 0xff at offset 2)");
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (event, &data, &size, NULL, 0), JOBD_EPROTO);
    jobd_event_destroy (&event);
    //  A transition read from a store an older jobd wrote keeps its bytes.
    jobd_event_t *transition =
        s_variant_accepted (JOBD_EVENT_TRANSITION, true, "name", STR ("old \xff name"));
    assert_string_equal (transition->name, "old \xff name");
    jobd_event_destroy (&transition);
}

//  Text from a backend is not held to UTF-8: a plugin's event with such bytes is sent with
//  U+FFFD for them (jobd_plugin_send), never refused and lost.
static void
test_plugins_send_fixed_text (void **state)
{
    jobd_event_t *event = s_valid (JOBD_EVENT_OBSERVED, true);
    jobd_event_set (&event->error, "Spark job 3 failed: caf\xc3"); //  cut inside a character
    jobd_event_set (&event->name, "\xff ok");
    jobd_event_t *copy = jobd_event_dup (event);
    assert_int_equal (jobd_event_fix_utf8 (copy), 2);
    assert_string_equal (copy->error, "Spark job 3 failed: caf\xef\xbf\xbd");
    assert_string_equal (copy->name, "\xef\xbf\xbd ok");
    assert_int_equal (jobd_event_fix_utf8 (copy), 0);
    jobd_event_destroy (&copy);
    zsock_t *broker = zsock_new_pair ("@inproc://test-plugin-send");
    zsock_t *plugin = zsock_new_pair (">inproc://test-plugin-send");
    assert_int_equal (jobd_plugin_send (plugin, event), 0);
    zframe_t *frame = zframe_recv (broker);
    assert_non_null (frame);
    jobd_event_t *received = NULL;
    assert_int_equal (
        jobd_event_decode (zframe_data (frame), zframe_size (frame), &received, NULL, 0), 0);
    assert_string_equal (received->error, "Spark job 3 failed: caf\xef\xbf\xbd");
    assert_string_equal (received->name, "\xef\xbf\xbd ok");
    //  The plugin's own event is left as it was.
    assert_string_equal (event->name, "\xff ok");
    jobd_event_destroy (&received);
    zframe_destroy (&frame);
    zsock_destroy (&plugin);
    zsock_destroy (&broker);
    jobd_event_destroy (&event);
}

//  A retry.plan schedules (RETRY_WAIT at due) or ends the job's retries (FAILED with why); a
//  retry either skips the wait or stops it, never both.
static void
test_retry_plan_and_retry_flags (void **state)
{
    (void)state;
    s_variant_refused (JOBD_EVENT_RETRY_PLAN, false, "state", STR ("QUEUED"), JOBD_EPROTO,
                       "a retry.plan is RETRY_WAIT");
    s_variant_refused (JOBD_EVENT_RETRY_PLAN, false, "due", INT (-5), JOBD_EPROTO,
                       "missing field 'due'");
    s_variant_refused (JOBD_EVENT_RETRY_PLAN, false, "state", STR ("FAILED"), JOBD_EPROTO,
                       "missing field 'error' (required by state FAILED)");
    jobd_event_t *final = s_valid (JOBD_EVENT_RETRY_PLAN, false);
    final->state = JOBD_STATE_FAILED;
    final->due = 0;
    jobd_event_set (&final->error, "attempts exhausted: 3 of 3");
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (final, &data, &size, NULL, 0), 0);
    free (data);
    jobd_event_destroy (&final);
    jobd_event_t *retry = s_valid (JOBD_EVENT_RETRY, true);
    retry->stop = true;
    char reason[256] = "";
    assert_int_equal (jobd_event_encode (retry, &data, &size, reason, sizeof reason), JOBD_EPROTO);
    assert_non_null (strstr (reason, "'now' and 'stop' together"));
    jobd_event_destroy (&retry);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip_every_type),
        cmocka_unit_test (test_pack_and_from_object_match_encode_and_decode),
        cmocka_unit_test (test_new_and_destroy),
        cmocka_unit_test (test_set),
        cmocka_unit_test (test_ids_are_unique_across_threads_and_processes),
        cmocka_unit_test (test_every_required_field),
        cmocka_unit_test (test_observed_transition_and_status_rules),
        cmocka_unit_test (test_wrong_types),
        cmocka_unit_test (test_integer_edges),
        cmocka_unit_test (test_unknown_state_and_type_names),
        cmocka_unit_test (test_oversized_strings),
        cmocka_unit_test (test_truncated_buffers_and_trailing_bytes),
        cmocka_unit_test (test_not_a_map),
        cmocka_unit_test (test_unknown_keys_nil_and_duplicates),
        cmocka_unit_test (test_versions),
        cmocka_unit_test (test_deep_nesting),
        cmocka_unit_test (test_pack_to_writes_what_the_packer_writes),
        cmocka_unit_test (test_flat_reading_agrees),
        cmocka_unit_test (test_strings_must_be_utf8),
        cmocka_unit_test (test_plugins_send_fixed_text),
        cmocka_unit_test (test_retry_plan_and_retry_flags),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
