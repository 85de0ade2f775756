//  Unit tests of the admin protocol's answers (proto/jobd_answer): what the core packs reads
//  back through the readers jobctl uses, and a malformed answer is refused.
#include "jobd_answer.h"
#include "jobd_map.h"
#include "jobd_reply.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static jobd_job_t *
s_job (const char *id, jobd_state_t state)
{
    jobd_job_t *job = jobd_job_new ();
    assert_non_null (job);
    jobd_event_set (&job->id, id);
    jobd_event_set (&job->kind, "spark");
    job->state = state;
    job->attempt = 1;
    return job;
}

static void
test_ls_answer_reads_back (void **state)
{
    msgpack_sbuffer records;
    msgpack_sbuffer_init (&records);
    msgpack_packer records_pk;
    msgpack_packer_init (&records_pk, &records, msgpack_sbuffer_write);
    const char *ids[] = {"j1", "j2"};
    for (size_t index = 0; index < 2; index++) {
        jobd_job_t *job = s_job (ids[index], JOBD_STATE_RUNNING);
        assert_int_equal (jobd_job_pack (job, &records_pk), 0);
        jobd_job_destroy (&job);
    }
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    jobd_answer_pack_ls (&pk, "q1", true, 2, records.data, records.size);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    jobd_reply_t reply;
    assert_int_equal (jobd_reply_read (&unpacked.data, &reply, NULL, 0), 0);
    assert_true (reply.ok);
    assert_string_equal (reply.re, "q1");
    const msgpack_object *jobs = NULL;
    bool truncated = false;
    assert_int_equal (jobd_answer_read_ls (&unpacked.data, &jobs, &truncated), 0);
    assert_true (truncated);
    assert_int_equal (jobs->via.array.size, 2);
    for (size_t index = 0; index < 2; index++) {
        jobd_job_t *job = NULL;
        char reason[128];
        assert_int_equal (
            jobd_job_from_object (&jobs->via.array.ptr[index], &job, reason, sizeof reason), 0);
        assert_string_equal (job->id, ids[index]);
        jobd_job_destroy (&job);
    }
    //  A reply without jobs is no ls answer.
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_clear (&buffer);
    jobd_reply_pack (&pk, "q1", 0, NULL, NULL, NULL);
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    assert_int_equal (jobd_answer_read_ls (&unpacked.data, &jobs, &truncated), JOBD_EPROTO);
    assert_null (jobs);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    msgpack_sbuffer_destroy (&records);
}

static void
test_show_answer_keeps_the_last_transitions (void **state)
{
    jobd_job_t *job = s_job ("j1", JOBD_STATE_SUCCEEDED);
    jobd_event_t *history[3];
    for (size_t index = 0; index < 3; index++) {
        history[index] = jobd_event_new (JOBD_EVENT_TRANSITION);
        jobd_event_set (&history[index]->source, "test");
        jobd_event_set (&history[index]->job, "j1");
        history[index]->state = (jobd_state_t)(JOBD_STATE_SUBMITTED + index);
        history[index]->seq = index + 1;
    }
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    jobd_answer_pack_show (&pk, "q2", job, history, 3, 1);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    jobd_job_t *read = NULL;
    const msgpack_object *transitions = NULL;
    uint64_t skipped = 0;
    char reason[128];
    assert_int_equal (jobd_answer_read_show (&unpacked.data, &read, &transitions, &skipped, reason,
                                             sizeof reason),
                      0);
    assert_string_equal (read->id, "j1");
    assert_int_equal (read->state, JOBD_STATE_SUCCEEDED);
    assert_int_equal (skipped, 1);
    //  The first was skipped: the two most recent remain, in order.
    assert_int_equal (transitions->via.array.size, 2);
    jobd_event_t *event = NULL;
    assert_int_equal (
        jobd_event_from_object (&transitions->via.array.ptr[0], &event, reason, sizeof reason), 0);
    assert_int_equal (event->seq, 2);
    jobd_event_destroy (&event);
    jobd_job_destroy (&read);
    msgpack_unpacked_destroy (&unpacked);
    //  A show answer without its history is refused, with nothing to free.
    msgpack_sbuffer_clear (&buffer);
    jobd_reply_pack_head (&pk, "q2", 0, NULL, 1);
    jobd_map_pack_str (&pk, "job");
    jobd_job_pack (job, &pk);
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    assert_int_equal (jobd_answer_read_show (&unpacked.data, &read, &transitions, &skipped, reason,
                                             sizeof reason),
                      JOBD_EPROTO);
    assert_null (read);
    assert_string_equal (reason, "field 'history': expected an array of transitions");
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    for (size_t index = 0; index < 3; index++)
        jobd_event_destroy (&history[index]);
    jobd_job_destroy (&job);
}

static void
test_stats_plugins_cursors_answers (void **state)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    uint64_t counts[JOBD_STATE_COUNT] = {0};
    counts[JOBD_STATE_LOST] = 7;
    jobd_stats_t stats = {.received = 3, .started_at = 42, .retry_fired = 5, .store_bytes = 8192};
    jobd_stats_commit (&stats, 3, 3000);       //  3 ms: the 5 ms bucket; 3 events: <= 4
    jobd_stats_commit (&stats, 5000, 2000000); //  2 s and 5,000 events: the last buckets
    jobd_answer_pack_stats (&pk, "s", counts, &stats);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    const msgpack_object *lost =
        jobd_map_lookup (jobd_map_lookup (&unpacked.data, "counts"), "LOST");
    assert_non_null (lost);
    assert_int_equal (lost->via.u64, 7);
    const msgpack_object *broker = jobd_map_lookup (&unpacked.data, "broker");
    assert_int_equal (broker->via.map.size, 19);
    assert_int_equal (jobd_map_lookup (broker, "received")->via.u64, 3);
    assert_int_equal (jobd_map_lookup (broker, "retry_fired")->via.u64, 5);
    assert_int_equal (jobd_map_lookup (broker, "started_at")->via.u64, 42);
    const msgpack_object *commits = jobd_map_lookup (&unpacked.data, "commits");
    const msgpack_object *duration = jobd_map_lookup (commits, "duration");
    assert_int_equal (duration->via.array.size, JOBD_STATS_DURATIONS + 1);
    assert_int_equal (duration->via.array.ptr[2].via.u64, 1);
    assert_int_equal (duration->via.array.ptr[JOBD_STATS_DURATIONS].via.u64, 1);
    const msgpack_object *size = jobd_map_lookup (commits, "size");
    assert_int_equal (size->via.array.ptr[1].via.u64, 1);
    assert_int_equal (size->via.array.ptr[JOBD_STATS_SIZES].via.u64, 1);
    assert_int_equal (jobd_map_lookup (commits, "events")->via.u64, 5003);
    assert_int_equal (jobd_map_lookup (commits, "duration_us")->via.u64, 2003000);
    assert_int_equal (jobd_map_lookup (jobd_map_lookup (&unpacked.data, "store"), "bytes")->via.u64,
                      8192);
    msgpack_unpacked_destroy (&unpacked);

    msgpack_sbuffer_clear (&buffer);
    static const uint8_t figures[] = {0x91, 0x92, 0xa2, 'u', 'p', 0x01}; //  [["up", 1]]
    jobd_answer_plugin_t plugins[] = {{"demo", "1.0", "running", NULL, NULL, 0},
                                      {"fig", "1.0", "running", "", figures, sizeof figures}};
    jobd_answer_pack_plugins (&pk, "p", plugins, 2);
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    const msgpack_object *list = jobd_map_lookup (&unpacked.data, "plugins");
    char detail[8] = "x";
    assert_true (jobd_map_string (&list->via.array.ptr[0], "detail", detail, sizeof detail));
    assert_string_equal (detail, ""); //  NULL packs ""
    //  Figures are left out when there are none, and packed as they came when there are.
    assert_null (jobd_map_lookup (&list->via.array.ptr[0], "figures"));
    const msgpack_object *packed = jobd_map_lookup (&list->via.array.ptr[1], "figures");
    assert_non_null (packed);
    assert_int_equal (packed->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal (packed->via.array.size, 1);
    assert_int_equal (packed->via.array.ptr[0].via.array.ptr[1].via.u64, 1);
    msgpack_unpacked_destroy (&unpacked);

    msgpack_sbuffer_clear (&buffer);
    jobd_answer_cursor_t cursors[] = {
        {"out", 5, 100, -1, 0}, {"late", 12, 0, -1, 0}, {"notifier", 40, 7, 3, 45}};
    jobd_answer_pack_cursors (&pk, "c", 10, false, cursors, 3);
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (jobd_msgpack_unpack (buffer.data, buffer.size, &unpacked, NULL, 0), 0);
    list = jobd_map_lookup (&unpacked.data, "cursors");
    assert_int_equal (jobd_map_lookup (&list->via.array.ptr[0], "behind")->via.u64, 5);
    //  A cursor past the head (a race with the log) is 0 behind, never a huge number.
    assert_int_equal (jobd_map_lookup (&list->via.array.ptr[1], "behind")->via.u64, 0);
    assert_null (jobd_map_lookup (&list->via.array.ptr[1], "partition"));
    //  A partition reader's: behind its own partition's head, which it names.
    assert_int_equal (jobd_map_lookup (&list->via.array.ptr[2], "behind")->via.u64, 5);
    assert_int_equal (jobd_map_lookup (&list->via.array.ptr[2], "partition")->via.u64, 3);
    assert_false (jobd_map_true (&unpacked.data, "truncated"));
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ls_answer_reads_back),
        cmocka_unit_test (test_show_answer_keeps_the_last_transitions),
        cmocka_unit_test (test_stats_plugins_cursors_answers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
