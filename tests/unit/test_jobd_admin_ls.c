//  The admin ls answer: the first limit jobs of every match, in the order asked. Checked against
//  an oracle (every job read, filtered, sorted with jobd_order_compare, cut at limit) for every
//  key, both directions, several limits and filters; the walk by last change included.
#include "jobd_admin_ls.h"
#include "jobd_map.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_JOBS 60

static char s_dir[64];
static jobd_store_t *s_store;

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    return remove (path);
}

static bool s_batch; //  s_apply leaves the commit to the caller

static void
s_apply (jobd_event_t *event)
{
    jobd_apply_result_t result;
    jobd_event_set (&event->source, "test");
    if (!s_batch)
        assert_int_equal (jobd_store_begin (s_store), 0);
    assert_int_equal (jobd_store_apply (s_store, event, &result), 0);
    if (!s_batch)
        assert_int_equal (jobd_store_commit (s_store), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&event);
}

//  S_JOBS jobs: the first 12 in one commit (the same ms, mostly: ties, in which job-10 comes
//  before job-2 in the index but not in natural order), then one commit each (times spread
//  over some ms); names that sort otherwise than ids, two kinds, every third RUNNING at backend
//  b1 or b2, every fifth FAILED.
static int
s_setup (void **state)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/jobd-admin-ls-XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    char reason[256];
    assert_int_equal (jobd_store_open (s_dir, 0, 0, &s_store, reason, sizeof reason), 0);
    s_batch = true;
    assert_int_equal (jobd_store_begin (s_store), 0);
    for (int index = 1; index <= S_JOBS; index++) {
        if (index == 13) {
            assert_int_equal (jobd_store_commit (s_store), 0);
            s_batch = false;
        }
        char name[32], id[32], ext[32];
        snprintf (name, sizeof name, "load-%d", (index * 37) % S_JOBS);
        jobd_event_t *event = jobd_event_new (JOBD_EVENT_SUBMIT);
        jobd_event_set (&event->kind, index % 2 ? "spark" : "demo");
        jobd_event_set (&event->name, name);
        jobd_event_set (&event->spec, "{}");
        s_apply (event);
        snprintf (id, sizeof id, "job-%d", index);
        if (index % 3 == 0 || index % 5 == 0) {
            snprintf (ext, sizeof ext, "app-%d", index);
            event = jobd_event_new (JOBD_EVENT_OBSERVED);
            jobd_event_set (&event->job, id);
            jobd_event_set (&event->backend, index % 2 ? "b1" : "b2");
            jobd_event_set (&event->ext, ext);
            event->state = index % 5 == 0 ? JOBD_STATE_FAILED : JOBD_STATE_RUNNING;
            s_apply (event);
        }
    }
    //  Some old jobs change last.
    for (int index = 1; index <= 9; index += 4) {
        char id[32];
        snprintf (id, sizeof id, "job-%d", index);
        jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
        jobd_event_set (&event->job, id);
        jobd_event_set (&event->backend, "b1");
        jobd_event_set (&event->ext, id);
        event->state = JOBD_STATE_RUNNING;
        s_apply (event);
    }
    return 0;
}

static int
s_teardown (void **state)
{
    jobd_store_destroy (&s_store);
    nftw (s_dir, s_remove, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

//  The query map of request, read as the broker reads it.
static void
s_request (const jobd_request_t *request, jobd_request_in_t *in)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    assert_int_equal (jobd_request_pack (request, &pk), 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    char reason[256];
    assert_int_equal (jobd_request_read (&unpacked.data, in, reason, sizeof reason), 0);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
}

//  The ids jobd answers, comma-separated, into ids; whether it said truncated.
static bool
s_answer (const jobd_request_t *request, char *ids, size_t size)
{
    jobd_request_in_t in;
    s_request (request, &in);
    jobd_admin_context_t context = {.store = s_store};
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    assert_int_equal (jobd_admin_ls (&context, &in, &pk), 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *jobs = NULL;
    bool truncated = false;
    assert_int_equal (jobd_answer_read_ls (&unpacked.data, &jobs, &truncated), 0);
    *ids = 0;
    size_t used = 0;
    for (uint32_t index = 0; index < jobs->via.array.size; index++) {
        jobd_job_t *job = NULL;
        assert_int_equal (jobd_job_from_object (&jobs->via.array.ptr[index], &job, NULL, 0), 0);
        used += (size_t)snprintf (ids + used, size - used, "%s%s", index ? "," : "", job->id);
        jobd_job_destroy (&job);
    }
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    return truncated;
}

typedef struct {
    jobd_request_in_t in;
    jobd_job_t *jobs[S_JOBS];
    size_t count;
} s_oracle_t;

static bool
s_collect (const jobd_job_t *job, void *arg)
{
    s_oracle_t *oracle = (s_oracle_t *)arg;
    const jobd_request_in_t *in = &oracle->in;
    int64_t created = jobd_job_created (job);
    if ((in->has_kind && strcmp (job->kind, in->job_kind)) ||
        (in->has_backend && (!job->backend || strcmp (job->backend, in->backend))) ||
        (in->has_since && created < in->since) || (in->has_until && created >= in->until))
        return true;
    oracle->jobs[oracle->count++] = jobd_job_dup (job);
    return true;
}

static int
s_oracle_compare (const void *a, const void *b, void *arg)
{
    return jobd_order_compare (*(jobd_job_t *const *)a, *(jobd_job_t *const *)b,
                               *(const jobd_order_t *)arg);
}

//  What the answer must be: every job read, filtered, sorted, cut. Returns whether it was cut.
static bool
s_oracle (const jobd_request_t *request, char *ids, size_t size)
{
    s_oracle_t oracle = {0};
    s_request (request, &oracle.in);
    assert_int_equal (jobd_store_scan (s_store, oracle.in.state_mask, s_collect, &oracle), 0);
    qsort_r (oracle.jobs, oracle.count, sizeof oracle.jobs[0], s_oracle_compare, &oracle.in.sort);
    size_t shown = oracle.count < request->limit ? oracle.count : request->limit, used = 0;
    *ids = 0;
    for (size_t index = 0; index < oracle.count; index++) {
        if (index < shown)
            used += (size_t)snprintf (ids + used, size - used, "%s%s", index ? "," : "",
                                      oracle.jobs[index]->id);
        jobd_job_destroy (&oracle.jobs[index]);
    }
    return oracle.count > shown;
}

static void
test_every_order_matches_the_oracle (void **state)
{
    static const char *sorts[] = {"created", "-created", "updated", "-updated", "name",
                                  "-name",   "state",    "-state",  "kind",     "-kind",
                                  "backend", "-backend", "id",      "-id"};
    static const uint64_t limits[] = {0, 1, 3, 7, S_JOBS - 1, S_JOBS, 1000};
    //  The window: the middle third of the creation times.
    jobd_job_t *first = NULL, *last = NULL;
    assert_int_equal (jobd_store_job_get (s_store, "job-20", &first), 0);
    assert_int_equal (jobd_store_job_get (s_store, "job-40", &last), 0);
    jobd_request_t filters[] = {
        {.q = "ls"},
        {.q = "ls", .state = "RUNNING"},
        {.q = "ls", .state = "RUNNING,FAILED", .backend = "b1"},
        {.q = "ls", .kind = "demo"},
        {.q = "ls",
         .has_since = true,
         .since = jobd_job_created (first),
         .has_until = true,
         .until = jobd_job_created (last)},
        {.q = "ls", .backend = "nowhere"},
    };
    jobd_job_destroy (&first);
    jobd_job_destroy (&last);
    char got[4096], want[4096];
    size_t checked = 0;
    for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++)
        for (size_t s = 0; s < sizeof sorts / sizeof sorts[0]; s++)
            for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
                jobd_request_t request = filters[f];
                request.sort = sorts[s];
                request.has_limit = true;
                request.limit = limits[l];
                bool cut = s_oracle (&request, want, sizeof want);
                bool truncated = s_answer (&request, got, sizeof got);
                if (strcmp (got, want) || cut != truncated)
                    fail_msg ("filter %zu, sort %s, limit %llu:\n got %s (truncated %d)\nwant %s "
                              "(%d)",
                              f, sorts[s], (unsigned long long)limits[l], got, truncated, want,
                              cut);
                checked++;
            }
    assert_int_equal (checked, 6 * 14 * 7);
}

//  Without a sort: the store's order, the first limit, as before.
static void
test_no_sort_is_the_store_order (void **state)
{
    char got[4096];
    assert_true (
        s_answer (&(jobd_request_t){.q = "ls", .has_limit = true, .limit = 2}, got, sizeof got));
    assert_string_equal (got, "job-1,job-10");
    assert_false (s_answer (&(jobd_request_t){.q = "ls", .state = "FAILED", .backend = "b2"}, got,
                            sizeof got));
    assert_string_equal (got, "job-10,job-20,job-30,job-40,job-50,job-60");
}

//  Bad sort and times are refused with a reason naming the field.
static void
test_bad_fields_are_refused (void **state)
{
    const char *cases[][2] = {{"sort", "size"}, {"since", "yesterday"}};
    for (size_t index = 0; index < 2; index++) {
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 4);
        jobd_map_pack_ku (&pk, "v", 1);
        jobd_map_pack_kv (&pk, "type", "query");
        jobd_map_pack_kv (&pk, "q", "ls");
        jobd_map_pack_kv (&pk, cases[index][0], cases[index][1]);
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        assert_int_equal (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, NULL),
                          MSGPACK_UNPACK_SUCCESS);
        jobd_request_in_t in;
        char reason[256] = "";
        assert_int_equal (jobd_request_read (&unpacked.data, &in, reason, sizeof reason),
                          JOBD_EPROTO);
        char field[32];
        snprintf (field, sizeof field, "field '%s'", cases[index][0]);
        assert_non_null (strstr (reason, field));
        msgpack_unpacked_destroy (&unpacked);
        msgpack_sbuffer_destroy (&buffer);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_every_order_matches_the_oracle),
                                       cmocka_unit_test (test_no_sort_is_the_store_order),
                                       cmocka_unit_test (test_bad_fields_are_refused)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
