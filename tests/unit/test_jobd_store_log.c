//  The transition log's cursors: listed with their clocks, removed, and expired when they stay
//  behind the head without moving; a removed or expired cursor stops holding the log.
#include "jobd_store.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char dir[64];
    jobd_store_t *store;
} s_fixture_t;

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    return remove (path);
}

static int
s_setup (void **state)
{
    s_fixture_t *self = (s_fixture_t *)calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/jobd-store-log-XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    char reason[256];
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &self->store, reason, sizeof reason), 0);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_destroy (&self->store);
    nftw (self->dir, s_remove, 8, FTW_DEPTH | FTW_PHYS);
    free (self);
    return 0;
}

//  Applies one event in a batch of its own; returns its rc.
static int
s_apply (jobd_store_t *store, jobd_event_t *event)
{
    jobd_event_set (&event->source, "test");
    assert_int_equal (jobd_store_begin (store), 0);
    jobd_apply_result_t result;
    int rc = jobd_store_apply (store, event, &result);
    jobd_apply_result_clear (&result);
    assert_int_equal (jobd_store_commit (store), 0);
    jobd_event_destroy (&event);
    return rc;
}

static int
s_cursor (jobd_store_t *store, const char *name, uint64_t position)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_CURSOR);
    jobd_event_set (&event->name, name);
    event->seq = position;
    return s_apply (store, event);
}

//  A submit: one transition (logged while some cursor exists).
static void
s_submit (jobd_store_t *store)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&event->kind, "spark");
    jobd_event_set (&event->spec, "{}");
    assert_int_equal (s_apply (store, event), 0);
}

static bool
s_count_one (uint64_t position, const uint8_t *data, size_t size, void *arg)
{
    (*(size_t *)arg)++;
    return true;
}

//  How many entries the log holds.
static size_t
s_log_size (jobd_store_t *store)
{
    size_t count = 0;
    assert_true (jobd_store_log_read (store, 0, 1000, s_count_one, &count) >= 0);
    return count;
}

//  The cursor called name, from the list; false when there is none.
static bool
s_find (jobd_store_t *store, const char *name, jobd_store_cursor_t *found, uint64_t *head_p)
{
    jobd_store_cursor_t *cursors = NULL;
    size_t count = 0;
    bool more = true, hit = false;
    uint64_t head = 0;
    assert_int_equal (jobd_store_cursor_list (store, 100, &cursors, &count, &head, &more), 0);
    assert_false (more);
    for (size_t index = 0; index < count; index++)
        if (strcmp (cursors[index].name, name) == 0) {
            *found = cursors[index];
            hit = true;
        }
    if (head_p)
        *head_p = head;
    free (cursors);
    return hit;
}

static void
test_cursors_are_listed_with_their_clock (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    int64_t before = jobd_now_ms ();
    assert_int_equal (s_cursor (self->store, "kafka-listener", 0), 0);
    s_submit (self->store);
    s_submit (self->store);
    assert_int_equal (s_cursor (self->store, "audit", 1), 0);
    jobd_store_cursor_t cursor;
    uint64_t head = 0;
    assert_true (s_find (self->store, "kafka-listener", &cursor, &head));
    assert_int_equal (cursor.position, 0);
    assert_true (cursor.moved_at >= before && cursor.moved_at <= jobd_now_ms ());
    assert_int_equal (head, 2);
    assert_true (s_find (self->store, "audit", &cursor, NULL));
    assert_int_equal (cursor.position, 1);
    //  A bounded list says that it left some out.
    jobd_store_cursor_t *cursors = NULL;
    size_t count = 0;
    bool more = false;
    assert_int_equal (jobd_store_cursor_list (self->store, 1, &cursors, &count, &head, &more), 0);
    assert_int_equal (count, 1);
    assert_true (more);
    assert_string_equal (cursors[0].name, "audit"); //  name order
    free (cursors);
}

static void
test_a_dropped_cursor_stops_holding_the_log (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    assert_int_equal (s_cursor (self->store, "stray", 0), 0);
    assert_int_equal (s_cursor (self->store, "kafka-listener", 0), 0);
    s_submit (self->store);
    s_submit (self->store);
    assert_int_equal (s_cursor (self->store, "kafka-listener", 2), 0);
    assert_int_equal (s_log_size (self->store), 2); //  held by the stray cursor
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_cursor_drop (self->store, "stray"), 0);
    assert_int_equal (jobd_store_cursor_drop (self->store, "never-was"), JOBD_ENOTFOUND);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (s_log_size (self->store), 0);
    jobd_store_cursor_t cursor;
    assert_false (s_find (self->store, "stray", &cursor, NULL));
    uint64_t position;
    assert_int_equal (jobd_store_cursor_get (self->store, "stray", &position, NULL),
                      JOBD_ENOTFOUND);
    //  The last cursor gone, the log stops; a drop that is not committed changes nothing.
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_cursor_drop (self->store, "kafka-listener"), 0);
    jobd_store_abort (self->store);
    s_submit (self->store);
    assert_int_equal (s_log_size (self->store), 1);
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_cursor_drop (self->store, "kafka-listener"), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (s_log_size (self->store), 0);
    s_submit (self->store);
    assert_int_equal (s_log_size (self->store), 0);
}

static void
s_expired (const jobd_store_cursor_t *cursor, uint64_t head, void *arg)
{
    snprintf ((char *)arg, 64, "%s at %llu of %llu", cursor->name,
              (unsigned long long)cursor->position, (unsigned long long)head);
}

static int
s_expire (jobd_store_t *store, int64_t now, int64_t idle_max, char *expired)
{
    *expired = 0;
    assert_int_equal (jobd_store_begin (store), 0);
    int rc = jobd_store_cursor_expire (store, now, idle_max, s_expired, expired);
    assert_int_equal (jobd_store_commit (store), 0);
    return rc;
}

static void
test_an_idle_cursor_behind_the_head_expires (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    const int64_t hour = 3600 * 1000;
    char expired[64];
    assert_int_equal (s_cursor (self->store, "stray", 0), 0);
    assert_int_equal (s_cursor (self->store, "kafka-listener", 0), 0);
    int64_t now = jobd_now_ms ();
    //  Caught up, a cursor holds nothing: however long it waits, it stays.
    assert_int_equal (s_expire (self->store, now + 5 * hour, hour, expired), 0);
    assert_string_equal (expired, "");
    jobd_store_cursor_t cursor;
    assert_true (s_find (self->store, "stray", &cursor, NULL));
    assert_int_equal (cursor.moved_at, now + 5 * hour); //  its clock restarted, durably
    now += 5 * hour;
    s_submit (self->store);
    s_submit (self->store);
    assert_int_equal (s_cursor (self->store, "kafka-listener", 2), 0);
    //  Behind the head: not yet idle long enough, then expired, and the log is dropped.
    assert_int_equal (s_expire (self->store, now + hour - 1, hour, expired), 0);
    assert_string_equal (expired, "");
    assert_int_equal (s_log_size (self->store), 2);
    assert_int_equal (s_expire (self->store, now + hour, hour, expired), 0);
    assert_string_equal (expired, "stray at 0 of 2");
    assert_false (s_find (self->store, "stray", &cursor, NULL));
    assert_true (s_find (self->store, "kafka-listener", &cursor, NULL));
    assert_int_equal (s_log_size (self->store), 0);
    //  idle_max 0: nothing expires.
    assert_int_equal (s_expire (self->store, now + 1000 * hour, 0, expired), 0);
    assert_true (s_find (self->store, "kafka-listener", &cursor, NULL));
    //  The clock survives a restart.
    jobd_store_destroy (&self->store);
    char reason[256];
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &self->store, reason, sizeof reason), 0);
    jobd_store_cursor_t again;
    assert_true (s_find (self->store, "kafka-listener", &again, NULL));
    assert_int_equal (again.moved_at, cursor.moved_at);
    assert_int_equal (again.position, 2);
}

//  Writes a raw entry into the meta database of the (closed) store in dir, with LMDB itself.
static void
s_raw_meta_put (const char *dir, const char *key, const char *value)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 16), 0);
    assert_int_equal (mdb_env_open (env, dir, MDB_NOTLS, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "meta", 0, &dbi), 0);
    MDB_val k = {strlen (key), (void *)key}, v = {strlen (value), (void *)value};
    assert_int_equal (mdb_put (txn, dbi, &k, &v, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

static void
s_count_damage (const char *line, void *arg)
{
    (*(int *)arg)++;
}

//  A cursor entry no cursor event could have written (damage) is reported and passed over: the
//  other cursors are still listed, and expiry still runs.
static void
test_a_damaged_cursor_entry_is_passed_over (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    assert_int_equal (s_cursor (self->store, "audit", 0), 0);
    assert_int_equal (s_cursor (self->store, "kafka-listener", 0), 0);
    jobd_store_destroy (&self->store);
    s_raw_meta_put (self->dir, "cursor/broken", "abc");
    char reason[256];
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &self->store, reason, sizeof reason), 0);
    int damage = 0;
    jobd_store_set_damage_fn (self->store, s_count_damage, &damage);
    jobd_store_cursor_t cursor;
    assert_true (s_find (self->store, "audit", &cursor, NULL));
    assert_true (s_find (self->store, "kafka-listener", &cursor, NULL));
    assert_false (s_find (self->store, "broken", &cursor, NULL));
    assert_true (damage >= 1);
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_cursor_expire (self->store, jobd_now_ms (), 1, NULL, NULL), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
}

//  Collects each entry's type (and the first's position) for the inline entry test.
typedef struct {
    jobd_event_type_t types[8];
    uint64_t positions[8];
    size_t count;
} s_types_t;

static bool
s_type_one (uint64_t position, const uint8_t *data, size_t size, void *arg)
{
    s_types_t *seen = (s_types_t *)arg;
    jobd_event_t *event = NULL;
    assert_int_equal (jobd_event_decode (data, size, &event, NULL, 0), 0);
    if (seen->count < 8) {
        seen->types[seen->count] = event->type;
        seen->positions[seen->count] = position;
        seen->count++;
    }
    jobd_event_destroy (&event);
    return true;
}

//  A stale event is logged inline, in its batch's order, and read back as the event it was;
//  readers of transitions only pass over its position; nothing is logged without a cursor, and
//  a transition is refused (it is logged with its history entry).
static void
test_stale_events_are_logged_inline (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_event_t *stale = jobd_event_new (JOBD_EVENT_STALE);
    jobd_event_set (&stale->source, "deadline");
    jobd_event_set (&stale->job, "job-1");
    jobd_event_set (&stale->error, "QUEUED for more than 2m0s");
    stale->state = JOBD_STATE_QUEUED;
    //  No cursor: not logged.
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_log_event (self->store, stale), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    assert_int_equal (s_log_size (self->store), 0);
    assert_int_equal (s_cursor (self->store, "reader", 0), 0);
    s_submit (self->store);
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_log_event (self->store, stale), 0);
    jobd_event_t *transition = jobd_event_new (JOBD_EVENT_TRANSITION);
    assert_int_equal (jobd_store_log_event (self->store, transition), JOBD_EINVAL);
    jobd_event_destroy (&transition);
    assert_int_equal (jobd_store_commit (self->store), 0);
    s_submit (self->store);
    s_types_t seen = {0};
    assert_int_equal (jobd_store_log_read (self->store, 0, 10, s_type_one, &seen), 3);
    assert_int_equal (seen.count, 3);
    assert_int_equal (seen.types[0], JOBD_EVENT_TRANSITION);
    assert_int_equal (seen.types[1], JOBD_EVENT_STALE);
    assert_int_equal (seen.positions[1], 2);
    assert_int_equal (seen.types[2], JOBD_EVENT_TRANSITION);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (jobd_store_log_read_transitions (self->store, 0, 10, s_type_one, &seen), 2);
    assert_int_equal (seen.positions[0], 1);
    assert_int_equal (seen.positions[1], 3);
    //  An aborted batch logs nothing, and gives its position back.
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_log_event (self->store, stale), 0);
    jobd_store_abort (self->store);
    uint64_t head = 0;
    jobd_store_cursor_get (self->store, "reader", NULL, &head);
    assert_int_equal (head, 3);
    jobd_event_destroy (&stale);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_stale_events_are_logged_inline, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cursors_are_listed_with_their_clock, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_a_dropped_cursor_stops_holding_the_log, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_a_damaged_cursor_entry_is_passed_over, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_an_idle_cursor_behind_the_head_expires, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
