//  spark-poller's list reader (sp_jlist): a list reply read as it arrives gives what the whole
//  body gives, each job once, and nothing of a body that is cut or broken after its last job.
#include "sp_jlist.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char ids[512]; //  "id/STATE " per job, in order
    int count;
} s_seen_t;

static bool
s_note (const sp_status_t *status, void *arg)
{
    s_seen_t *seen = (s_seen_t *)arg;
    size_t used = strlen (seen->ids);
    snprintf (seen->ids + used, sizeof seen->ids - used, "%s/%s ", status->id,
              jobd_state_name (status->state));
    seen->count++;
    return true;
}

//  Reads body in pieces of step bytes; returns the last feed's verdict.
static int
s_read (const sp_jlist_shape_t *shape, const char *body, size_t length, size_t step, s_seen_t *seen,
        sp_jlist_t *list)
{
    memset (seen, 0, sizeof *seen);
    sp_jlist_init (list, shape, s_note, seen);
    for (size_t size = 0; size < length; size += step)
        assert_int_equal (sp_jlist_feed (list, body, size, false), 0);
    return sp_jlist_feed (list, body, length, true);
}

static const char s_yarn[] =
    "{\"apps\":{\"app\":[{\"id\":\"application_1_0001\",\"state\":\"RUNNING\","
    "\"finalStatus\":\"UNDEFINED\",\"progress\":10.5,\"resourceRequests\":[{\"a\":[1,2]}]},"
    "{\"id\":\"application_1_0002\",\"state\":\"FINISHED\",\"finalStatus\":\"FAILED\","
    "\"diagnostics\":\"boom \\u00e9\"},\"not an app\",{\"id\":\"application_1_0003\","
    "\"state\":\"KILLED\",\"finalStatus\":\"KILLED\",\"elapsedTime\":123456789}]}}";

static void
test_pieces_read_as_whole (void **state)
{
    const char *expected = "application_1_0001/RUNNING application_1_0002/FAILED "
                           "application_1_0003/CANCELLED ";
    s_seen_t seen;
    sp_jlist_t list;
    for (size_t step = 1; step <= sizeof s_yarn; step++) {
        assert_int_equal (s_read (&sp_yarn_list_shape, s_yarn, strlen (s_yarn), step, &seen, &list),
                          0);
        if (strcmp (seen.ids, expected) != 0)
            fail_msg ("in pieces of %zu bytes: %s", step, seen.ids);
    }
}

static void
test_cut_bodies (void **state)
{
    //  Every cut: refused at the end, and what was handed out before is jobs whole, in order.
    const char *all = "application_1_0001/RUNNING application_1_0002/FAILED "
                      "application_1_0003/CANCELLED ";
    s_seen_t seen;
    sp_jlist_t list;
    for (size_t length = 0; length < strlen (s_yarn); length++) {
        if (s_read (&sp_yarn_list_shape, s_yarn, length, 7, &seen, &list) != JOBD_EPROTO)
            fail_msg ("a body cut at %zu bytes was read", length);
        assert_memory_equal (seen.ids, all, strlen (seen.ids));
    }
    //  Broken after the jobs, or of another shape.
    const char *broken[] = {"{\"apps\":{\"app\":[]}} x", "{\"apps\":{\"app\":[]}}}", "{}", "[]",
                            "<html>503</html>",          "{\"apps\":{\"app\":[}}"};
    for (size_t index = 0; index < sizeof broken / sizeof broken[0]; index++)
        assert_int_equal (
            s_read (&sp_yarn_list_shape, broken[index], strlen (broken[index]), 3, &seen, &list),
            JOBD_EPROTO);
    //  No body at all.
    sp_jlist_init (&list, &sp_yarn_list_shape, s_note, &seen);
    assert_int_equal (sp_jlist_feed (&list, NULL, 0, false), 0);
    assert_int_equal (sp_jlist_feed (&list, NULL, 0, true), JOBD_EPROTO);
    //  Every empty shape of YARN is an empty list.
    const char *empty[] = {"{\"apps\":{}}", "{\"apps\":\"\"}", "{\"apps\":null}",
                           "{\"apps\":{\"app\":[]}}"};
    for (size_t index = 0; index < sizeof empty / sizeof empty[0]; index++) {
        assert_int_equal (
            s_read (&sp_yarn_list_shape, empty[index], strlen (empty[index]), 2, &seen, &list), 0);
        assert_int_equal (seen.count, 0);
    }
}

static void
test_livy_total (void **state)
{
    //  "total" is read whole across pieces, before or after the sessions; sessions must be a list.
    const char *bodies[] = {
        "{\"from\":0,\"total\":123456,\"sessions\":[{\"id\":7,\"state\":\"running\"}]}",
        "{\"sessions\":[{\"id\":7,\"state\":\"running\"}],\"from\":0,\"total\":123456}"};
    s_seen_t seen;
    sp_jlist_t list;
    for (size_t index = 0; index < 2; index++)
        for (size_t step = 1; step < 12; step++) {
            assert_int_equal (s_read (&sp_livy_list_shape, bodies[index], strlen (bodies[index]),
                                      step, &seen, &list),
                              0);
            assert_int_equal (list.captured, 123456);
            assert_string_equal (seen.ids, "7/RUNNING ");
        }
    const char *no_list = "{\"from\":0,\"total\":0,\"sessions\":null}";
    assert_int_equal (s_read (&sp_livy_list_shape, no_list, strlen (no_list), 5, &seen, &list),
                      JOBD_EPROTO);
}

static void
test_master_both_lists (void **state)
{
    //  Both driver lists; everything else (workers, apps) is read past.
    const char *body =
        "{\"url\":\"spark://m:7077\",\"workers\":[{\"id\":\"w\",\"cores\":4}],\"activedrivers\":"
        "[{\"id\":\"driver-20260101000000-0001\",\"state\":\"RUNNING\"}],\"completeddrivers\":"
        "[{\"id\":\"driver-20260101000000-0000\",\"state\":\"FINISHED\"}],\"status\":\"ALIVE\"}";
    s_seen_t seen;
    sp_jlist_t list;
    assert_int_equal (s_read (&sp_master_list_shape, body, strlen (body), 4, &seen, &list), 0);
    assert_string_equal (seen.ids, "driver-20260101000000-0001/RUNNING "
                                   "driver-20260101000000-0000/SUCCEEDED ");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_pieces_read_as_whole), cmocka_unit_test (test_cut_bodies),
        cmocka_unit_test (test_livy_total), cmocka_unit_test (test_master_both_lists)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
