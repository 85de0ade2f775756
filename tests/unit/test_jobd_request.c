//  Unit tests of the admin protocol's queries (proto/jobd_request): the bytes jobctl sends, and
//  what the broker reads from them, refusals included.
#include "jobd_map.h"
#include "jobd_request.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

//  Packs request, then reads it back into *in. Returns jobd_request_read's result.
static int
s_round_trip (const jobd_request_t *request, jobd_request_in_t *in, char *reason,
              size_t reason_size)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    assert_int_equal (jobd_request_pack (request, &pk), 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    int rc = jobd_request_read (&unpacked.data, in, reason, reason_size);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}

//  The exact bytes of jobctl's `show` query.
static void
test_show_bytes (void **state)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    jobd_request_t request = {.q = "show", .id = "jobctl", .job = "j1"};
    assert_int_equal (jobd_request_pack (&request, &pk), 0);
    static const char expected[] = "\x85"
                                   "\xa1v\x01"
                                   "\xa4type\xa5query"
                                   "\xa2id\xa6jobctl"
                                   "\xa1q\xa4show"
                                   "\xa3job\xa2j1";
    assert_int_equal (buffer.size, sizeof expected - 1);
    assert_memory_equal (buffer.data, expected, sizeof expected - 1);
    msgpack_sbuffer_destroy (&buffer);
    request.q = NULL;
    assert_int_equal (jobd_request_pack (&request, &pk), JOBD_EPROTO);
}

static void
test_ls_round_trip (void **state)
{
    jobd_request_t request = {.q = "ls",
                              .id = "q7",
                              .state = "FAILED,RUNNING",
                              .kind = "spark",
                              .name = "etl",
                              .has_limit = true,
                              .limit = 25};
    jobd_request_in_t in;
    char reason[256];
    assert_int_equal (s_round_trip (&request, &in, reason, sizeof reason), 0);
    assert_int_equal (in.kind, JOBD_REQUEST_LS);
    assert_string_equal (in.id, "q7");
    assert_int_equal (in.state_mask, (1u << JOBD_STATE_FAILED) | (1u << JOBD_STATE_RUNNING));
    assert_true (in.has_kind);
    assert_string_equal (in.job_kind, "spark");
    assert_true (in.has_name);
    assert_string_equal (in.name, "etl");
    assert_true (in.has_limit);
    assert_int_equal (in.limit, 25);
    //  Nothing but q: every state, no filter, the default limit.
    request = (jobd_request_t){.q = "ls"};
    assert_int_equal (s_round_trip (&request, &in, reason, sizeof reason), 0);
    assert_int_equal (in.state_mask, 0);
    assert_false (in.has_kind || in.has_name || in.has_limit);
    assert_string_equal (in.id, "");
}

static void
test_refusals_name_the_field (void **state)
{
    jobd_request_in_t in;
    char reason[256];
    jobd_request_t request = {.q = "ls", .id = "q1", .state = "RUNNING,RUNNIN"};
    assert_int_equal (s_round_trip (&request, &in, reason, sizeof reason), JOBD_EPROTO);
    assert_string_equal (reason, "field 'state': unknown state 'RUNNIN'");
    assert_string_equal (in.id, "q1"); //  read first, for the reply's re
    request = (jobd_request_t){.q = "show", .id = "q2"};
    assert_int_equal (s_round_trip (&request, &in, reason, sizeof reason), JOBD_EPROTO);
    assert_string_equal (reason, "field 'job': expected a job id");
    request = (jobd_request_t){.q = "drop_cursor", .name = ""};
    assert_int_equal (s_round_trip (&request, &in, reason, sizeof reason), JOBD_EPROTO);
    assert_int_equal (in.kind, JOBD_REQUEST_DROP_CURSOR);
    assert_string_equal (reason, "field 'name': expected the name of a cursor");
    request = (jobd_request_t){.q = "lss"};
    assert_int_equal (s_round_trip (&request, &in, reason, sizeof reason), JOBD_EPROTO);
    assert_int_equal (in.kind, JOBD_REQUEST_UNKNOWN);
    assert_string_equal (reason, "field 'q': unknown query 'lss'");
    //  No q at all.
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    jobd_map_pack_kv (&pk, "type", "query");
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    assert_int_equal (jobd_request_read (&unpacked.data, &in, reason, sizeof reason), JOBD_EPROTO);
    assert_string_equal (
        reason, "field 'q': expected ls, show, stats, plugins, cursors, drop_cursor or cluster");
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
}

static void
test_kind_names (void **state)
{
    const char *names[] = {"ls", "show", "stats", "plugins", "cursors", "drop_cursor"};
    for (size_t index = 0; index < 6; index++) {
        jobd_request_t request = {.q = names[index], .job = "j", .name = "c"};
        jobd_request_in_t in;
        char reason[256];
        assert_int_equal (s_round_trip (&request, &in, reason, sizeof reason), 0);
        assert_int_equal (in.kind, (jobd_request_kind_t)(index + 1));
        assert_string_equal (jobd_request_kind_name (in.kind), names[index]);
    }
    assert_string_equal (jobd_request_kind_name ((jobd_request_kind_t)99), "unknown");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_show_bytes),
        cmocka_unit_test (test_ls_round_trip),
        cmocka_unit_test (test_refusals_name_the_field),
        cmocka_unit_test (test_kind_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
