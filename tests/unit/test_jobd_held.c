//  Replies held until the changelog confirms their write (core/jobd_held.c, docs/cluster.md
//  section 10): released in order once their ticket is confirmed; an answer that a write changed
//  a job whose changelog messages were fenced (or that it was so already) is refused ENOTOWNER,
//  every other answer goes as it was.
#include "jobd_error.h"
#include "jobd_held.h"
#include "jobd_msgpack.h"
#include "jobd_reply.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

//  What the release sent, unpacked, and how many.
typedef struct {
    msgpack_unpacked sent[4];
    size_t count;
} s_sent_t;

static void
s_send (zsock_t *socket, const uint8_t *identity, size_t identity_size, bool delimiter,
        const void *data, size_t size, void *arg)
{
    (void)socket, (void)identity, (void)identity_size, (void)delimiter;
    s_sent_t *sent = (s_sent_t *)arg;
    assert_true (sent->count < 4);
    msgpack_unpacked_init (&sent->sent[sent->count]);
    assert_int_equal (jobd_msgpack_unpack (data, size, &sent->sent[sent->count], NULL, 0), 0);
    sent->count++;
}

//  Job "job-fenced" was fenced in ticket 2, and only there (job NULL: any job of the ticket);
//  job "job-refused"'s write in ticket 4 was refused by Kafka.
static jobd_held_fate_t
s_fenced (uint64_t ticket, const char *job, void *arg)
{
    (void)arg;
    if (ticket == 4 && (!job || strcmp (job, "job-refused") == 0))
        return JOBD_HELD_REFUSED;
    return ticket == 2 && (!job || strcmp (job, "job-fenced") == 0) ? JOBD_HELD_FENCED
                                                                    : JOBD_HELD_STORED;
}

//  Packs a batch reply of three answers: two changed jobs and one duplicate, into buffer.
static void
s_batch (msgpack_sbuffer *buffer)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, buffer, msgpack_sbuffer_write);
    jobd_reply_pack_batch (&pk, "batch-1", 3);
    jobd_reply_pack (&pk, "e1", 0, NULL, "job-fenced", "changed");
    jobd_reply_pack (&pk, "e2", 0, NULL, "job-stored", "changed");
    jobd_reply_pack (&pk, "e3", 0, NULL, "job-fenced", "duplicate");
}

static void
s_read (const msgpack_object *object, jobd_reply_t *reply)
{
    assert_int_equal (jobd_reply_read (object, reply, NULL, 0), 0);
}

static void
test_fenced_answers_are_refused (void **state)
{
    (void)state;
    jobd_held_t *held = jobd_held_new ();
    assert_non_null (held);
    msgpack_sbuffer batch, single;
    msgpack_sbuffer_init (&batch);
    msgpack_sbuffer_init (&single);
    s_batch (&batch);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &single, msgpack_sbuffer_write);
    jobd_reply_pack (&pk, "e4", 0, NULL, "job-fenced", "changed");
    const uint8_t identity[] = {1, 2, 3};
    //  The batch in ticket 2 (fenced), the same single answer in ticket 2 and in ticket 3.
    assert_int_equal (jobd_held_add (held, 2, NULL, identity, 3, false, batch.data, batch.size), 0);
    assert_int_equal (jobd_held_add (held, 2, NULL, identity, 3, false, single.data, single.size),
                      0);
    assert_int_equal (jobd_held_add (held, 3, NULL, identity, 3, false, single.data, single.size),
                      0);
    s_sent_t sent = {.count = 0};
    //  Nothing confirmed: nothing goes.
    assert_int_equal (jobd_held_release (held, 1, s_send, s_fenced, &sent), 0);
    assert_int_equal (jobd_held_release (held, 3, s_send, s_fenced, &sent), 3);
    assert_int_equal (jobd_held_size (held), 0);

    //  The batch: the fenced job's change and duplicate refused; the stored one as it was.
    jobd_reply_t reply, one;
    s_read (&sent.sent[0].data, &reply);
    assert_true (reply.ok);
    assert_string_equal (reply.re, "batch-1");
    assert_non_null (reply.replies);
    assert_int_equal (reply.replies->via.array.size, 3);
    s_read (&reply.replies->via.array.ptr[0], &one);
    assert_false (one.ok);
    assert_int_equal (one.rc, JOBD_ENOTOWNER);
    assert_string_equal (one.re, "e1");
    assert_non_null (strstr (one.reason, "not stored"));
    s_read (&reply.replies->via.array.ptr[1], &one);
    assert_true (one.ok);
    assert_string_equal (one.job, "job-stored");
    s_read (&reply.replies->via.array.ptr[2], &one);
    assert_false (one.ok);
    assert_string_equal (one.re, "e3");
    //  The single answer: refused in the fenced ticket, stored in the next.
    s_read (&sent.sent[1].data, &one);
    assert_false (one.ok);
    assert_string_equal (one.error, "ENOTOWNER");
    s_read (&sent.sent[2].data, &one);
    assert_true (one.ok);
    assert_string_equal (one.job, "job-fenced");
    for (size_t index = 0; index < sent.count; index++)
        msgpack_unpacked_destroy (&sent.sent[index]);

    //  A refused write: not confirmed, which may yet be stored (it goes again): ETIMEOUT, with
    //  the job's id to look it up by.
    msgpack_sbuffer_clear (&single);
    jobd_reply_pack (&pk, "e5", 0, NULL, "job-refused", "changed");
    assert_int_equal (jobd_held_add (held, 4, NULL, identity, 3, false, single.data, single.size),
                      0);
    sent.count = 0;
    assert_int_equal (jobd_held_release (held, 4, s_send, s_fenced, &sent), 1);
    s_read (&sent.sent[0].data, &one);
    assert_false (one.ok);
    assert_string_equal (one.error, "ETIMEOUT");
    assert_string_equal (one.job, "job-refused");
    assert_non_null (strstr (one.reason, "may yet be stored"));
    msgpack_unpacked_destroy (&sent.sent[0]);
    msgpack_sbuffer_destroy (&batch);
    msgpack_sbuffer_destroy (&single);
    jobd_held_destroy (&held);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_fenced_answers_are_refused)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
