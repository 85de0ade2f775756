//  Unit tests of the admin protocol's replies (proto/jobd_reply): the bytes on the wire, and
//  reading them back.
#include "jobd_map.h"
#include "jobd_reply.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer pk;
    msgpack_unpacked unpacked;
} s_packed_t;

static void
s_begin (s_packed_t *self)
{
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->pk, &self->buffer, msgpack_sbuffer_write);
    msgpack_unpacked_init (&self->unpacked);
}

static const msgpack_object *
s_unpack (s_packed_t *self)
{
    assert_int_equal (
        jobd_msgpack_unpack (self->buffer.data, self->buffer.size, &self->unpacked, NULL, 0), 0);
    return &self->unpacked.data;
}

static void
s_end (s_packed_t *self)
{
    msgpack_unpacked_destroy (&self->unpacked);
    msgpack_sbuffer_destroy (&self->buffer);
}

//  The exact bytes of a successful reply: what every client reads (proto/README.md, section 12).
static void
test_ok_reply_bytes (void **state)
{
    s_packed_t packed;
    s_begin (&packed);
    jobd_reply_pack (&packed.pk, "e1", 0, NULL, "j1", "changed");
    static const char expected[] = "\x86"
                                   "\xa1v\x01"
                                   "\xa4type\xa5reply"
                                   "\xa2re\xa2"
                                   "e1"
                                   "\xa2ok\xc3"
                                   "\xa3job\xa2j1"
                                   "\xa7outcome\xa7"
                                   "changed";
    assert_int_equal (packed.buffer.size, sizeof expected - 1);
    assert_memory_equal (packed.buffer.data, expected, sizeof expected - 1);
    jobd_reply_t reply;
    assert_int_equal (jobd_reply_read (s_unpack (&packed), &reply, NULL, 0), 0);
    assert_true (reply.ok);
    assert_int_equal (reply.rc, 0);
    assert_string_equal (reply.re, "e1");
    assert_string_equal (reply.job, "j1");
    assert_string_equal (reply.outcome, "changed");
    assert_string_equal (reply.error, "");
    assert_null (reply.replies);
    s_end (&packed);
}

static void
test_error_reply_carries_name_and_reason (void **state)
{
    s_packed_t packed;
    s_begin (&packed);
    jobd_reply_pack (&packed.pk, "e2", JOBD_ESTORE, NULL, NULL, NULL);
    jobd_reply_t reply;
    assert_int_equal (jobd_reply_read (s_unpack (&packed), &reply, NULL, 0), 0);
    assert_false (reply.ok);
    //  A store failure is named ESTORE (it was EFAIL), and its reason defaults to jobd_strerror.
    assert_string_equal (reply.error, "ESTORE");
    assert_int_equal (reply.rc, JOBD_ESTORE);
    assert_string_equal (reply.reason, jobd_strerror (JOBD_ESTORE));
    assert_null (jobd_map_lookup (&packed.unpacked.data, "outcome"));
    s_end (&packed);

    s_begin (&packed);
    jobd_reply_pack (&packed.pk, NULL, -ENOMEM, "out of memory here", NULL, NULL);
    assert_int_equal (jobd_reply_read (s_unpack (&packed), &reply, NULL, 0), 0);
    assert_string_equal (reply.re, "");
    assert_string_equal (reply.error, "EFAIL");
    assert_int_equal (reply.rc, -EIO);
    assert_string_equal (reply.reason, "out of memory here");
    s_end (&packed);
}

static void
test_batch_reply_holds_replies_in_order (void **state)
{
    s_packed_t packed;
    s_begin (&packed);
    jobd_reply_pack_batch (&packed.pk, "b1", 2);
    jobd_reply_pack (&packed.pk, "o1", 0, NULL, "j1", "duplicate");
    jobd_reply_pack (&packed.pk, "o2", JOBD_ENOTFOUND, "observed x: no such job", NULL, NULL);
    jobd_reply_t reply;
    assert_int_equal (jobd_reply_read (s_unpack (&packed), &reply, NULL, 0), 0);
    assert_true (reply.ok);
    assert_string_equal (reply.re, "b1");
    assert_non_null (reply.replies);
    assert_int_equal (reply.replies->via.array.size, 2);
    jobd_reply_t one;
    assert_int_equal (jobd_reply_read (&reply.replies->via.array.ptr[0], &one, NULL, 0), 0);
    assert_true (one.ok);
    assert_string_equal (one.outcome, "duplicate");
    assert_int_equal (jobd_reply_read (&reply.replies->via.array.ptr[1], &one, NULL, 0), 0);
    assert_false (one.ok);
    assert_int_equal (one.rc, JOBD_ENOTFOUND);
    assert_string_equal (one.reason, "observed x: no such job");
    s_end (&packed);
}

static void
test_what_is_not_a_reply_is_refused (void **state)
{
    s_packed_t packed;
    s_begin (&packed);
    //  A map of type "reply" whose ok is not a boolean; then an event.
    msgpack_pack_map (&packed.pk, 2);
    jobd_map_pack_kv (&packed.pk, "type", "reply");
    jobd_map_pack_ku (&packed.pk, "ok", 1);
    jobd_reply_t reply;
    char reason[64];
    assert_int_equal (jobd_reply_read (s_unpack (&packed), &reply, reason, sizeof reason),
                      JOBD_EPROTO);
    assert_string_equal (reason, "reply without a boolean 'ok'");
    s_end (&packed);
    s_begin (&packed);
    msgpack_pack_map (&packed.pk, 2);
    jobd_map_pack_kv (&packed.pk, "type", "observed");
    jobd_map_pack_kb (&packed.pk, "ok", true);
    assert_int_equal (jobd_reply_read (s_unpack (&packed), &reply, reason, sizeof reason),
                      JOBD_EPROTO);
    assert_int_equal (jobd_reply_read (NULL, &reply, NULL, 0), JOBD_EPROTO);
    s_end (&packed);
    //  Refused, with an error name this build does not know (a newer jobd's): a failure still.
    s_begin (&packed);
    msgpack_pack_map (&packed.pk, 3);
    jobd_map_pack_kv (&packed.pk, "type", "reply");
    jobd_map_pack_kb (&packed.pk, "ok", false);
    jobd_map_pack_kv (&packed.pk, "error", "ENEWER");
    assert_int_equal (jobd_reply_read (s_unpack (&packed), &reply, NULL, 0), 0);
    assert_false (reply.ok);
    assert_int_equal (reply.rc, -EIO);
    s_end (&packed);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ok_reply_bytes),
        cmocka_unit_test (test_error_reply_carries_name_and_reason),
        cmocka_unit_test (test_batch_reply_holds_replies_in_order),
        cmocka_unit_test (test_what_is_not_a_reply_is_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
