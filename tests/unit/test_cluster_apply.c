//  The replica apply of changelog messages (store/jobd_store_cl.c, docs/cluster.md section 5): an
//  owner store records its batches as changelog messages, a replica store applies them. Apply is
//  idempotent, fenced epochs are dropped, a zombie's tail is replaced, timers move with the
//  record, the indexes follow; and the upgrade of a format 5 store keeps its timers firing.
#include "jobd_cl_msg.h"
#include "jobd_event.h"
#include "jobd_lost.h"
#include "jobd_store.h"
#include "jobd_store_cl.h"
#include "jobd_store_verify.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "../store_dir.h"
#include "../store_format.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PARTITION  3 //  every job of these tests
#define S_PARTITIONS 8

typedef struct {
    char owner_dir[64], replica_dir[64];
    jobd_store_t *owner, *replica;
    uint64_t epochs[S_PARTITIONS];
    uint64_t offset; //  the next changelog offset
    jobd_store_cl_outbox_t outbox;
    msgpack_zone *zone;
} s_fixture_t;

static uint16_t
s_partition (const char *id, void *arg)
{
    (void)id, (void)arg;
    return S_PARTITION;
}

static int
s_setup (void **state)
{
    s_fixture_t *self = (s_fixture_t *)calloc (1, sizeof *self);
    self->owner = store_dir_open (self->owner_dir, sizeof self->owner_dir, "cl-owner");
    self->replica = store_dir_open (self->replica_dir, sizeof self->replica_dir, "cl-replica");
    jobd_store_set_partition_fn (self->owner, s_partition, NULL);
    jobd_store_set_partition_fn (self->replica, s_partition, NULL);
    self->epochs[S_PARTITION] = 1;
    self->zone = msgpack_zone_new (4096);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_cl_outbox_clear (&self->outbox);
    jobd_store_destroy (&self->owner);
    jobd_store_destroy (&self->replica);
    store_dir_remove (self->owner_dir);
    store_dir_remove (self->replica_dir);
    msgpack_zone_free (self->zone);
    free (self);
    return 0;
}

//  Applies event on store in a batch that is also recorded for the changelog (into outbox) when
//  record is set. Returns the job's id into id (when given).
static void
s_step (s_fixture_t *self, jobd_store_t *store, jobd_event_t *event, bool record, char *id)
{
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (store), 0);
    assert_int_equal (jobd_store_apply (store, event, &result), 0);
    if (record)
        assert_int_equal (
            jobd_store_cl_record (store, "node-a", self->epochs, S_PARTITIONS, &self->outbox), 0);
    assert_int_equal (jobd_store_commit (store), 0);
    if (id)
        snprintf (id, JOBD_ID_MAX + 1, "%s", result.job);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&event);
}

static jobd_event_t *
s_submit (void)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{}");
    return submit;
}

static jobd_event_t *
s_observed (const char *id, jobd_state_t state, const char *ext)
{
    jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&observed->source, "test");
    jobd_event_set (&observed->job, id);
    jobd_event_set (&observed->backend, "spark-a");
    jobd_event_set (&observed->ext, ext);
    observed->state = state;
    return observed;
}

//  Decodes the outbox's messages (each with the next offset) and applies them to store as one
//  batch; clears the outbox. Fills applied (the caller clears it).
static void
s_deliver (s_fixture_t *self, jobd_store_t *store, jobd_store_cl_applied_t *applied)
{
    size_t count = self->outbox.count;
    jobd_cl_msg_t *msgs = (jobd_cl_msg_t *)calloc (count + 1, sizeof *msgs);
    jobd_store_cl_input_t *inputs = (jobd_store_cl_input_t *)calloc (count + 1, sizeof *inputs);
    msgpack_zone **zones = (msgpack_zone **)calloc (count + 1, sizeof *zones);
    for (size_t index = 0; index < count; index++) {
        const jobd_store_cl_out_t *out = &self->outbox.messages[index];
        assert_int_equal (out->partition, S_PARTITION);
        zones[index] = msgpack_zone_new (1024);
        char reason[256] = "";
        int rc = jobd_cl_msg_decode (out->key, out->key_size, out->value, out->value_size,
                                     zones[index], &msgs[index], reason, sizeof reason);
        if (rc)
            fprintf (stderr, "%s\n", reason);
        assert_int_equal (rc, 0);
        inputs[index].msg = &msgs[index];
        inputs[index].offset = self->offset++;
    }
    assert_int_equal (jobd_store_begin (store), 0);
    assert_int_equal (jobd_store_cl_apply (store, S_PARTITION, inputs, count, applied), 0);
    assert_int_equal (jobd_store_commit (store), 0);
    for (size_t index = 0; index < count; index++) {
        jobd_cl_msg_clear (&msgs[index]);
        msgpack_zone_free (zones[index]);
    }
    free (zones);
    free (inputs);
    free (msgs);
    jobd_store_cl_outbox_clear (&self->outbox);
}

//  Keeps a copy of the outbox's messages (to deliver them again).
static jobd_store_cl_outbox_t
s_outbox_copy (const jobd_store_cl_outbox_t *outbox)
{
    jobd_store_cl_outbox_t copy = {.count = outbox->count, .alloc = outbox->count};
    copy.messages = (jobd_store_cl_out_t *)calloc (outbox->count + 1, sizeof *copy.messages);
    for (size_t index = 0; index < outbox->count; index++) {
        const jobd_store_cl_out_t *out = &outbox->messages[index];
        copy.messages[index] = *out;
        copy.messages[index].key = (uint8_t *)malloc (out->key_size);
        memcpy (copy.messages[index].key, out->key, out->key_size);
        copy.messages[index].value = (uint8_t *)malloc (out->value_size);
        memcpy (copy.messages[index].value, out->value, out->value_size);
    }
    return copy;
}

//  Asserts that both stores hold the same record and history of job id.
static void
s_assert_same (s_fixture_t *self, const char *id)
{
    jobd_job_t *owner = NULL, *replica = NULL;
    assert_int_equal (jobd_store_job_get (self->owner, id, &owner), 0);
    assert_int_equal (jobd_store_job_get (self->replica, id, &replica), 0);
    assert_int_equal (owner->state, replica->state);
    assert_int_equal (owner->last_seq, replica->last_seq);
    assert_int_equal (owner->updated_at, replica->updated_at);
    assert_int_equal (replica->cl_epoch, self->epochs[S_PARTITION]);
    jobd_event_t **a = NULL, **b = NULL;
    size_t a_count = 0, b_count = 0;
    assert_int_equal (jobd_store_history (self->owner, id, &a, &a_count), 0);
    assert_int_equal (jobd_store_history (self->replica, id, &b, &b_count), 0);
    assert_int_equal (a_count, b_count);
    for (size_t index = 0; index < a_count; index++)
        assert_int_equal (a[index]->state, b[index]->state);
    jobd_store_history_free (&a, a_count);
    jobd_store_history_free (&b, b_count);
    jobd_job_destroy (&owner);
    jobd_job_destroy (&replica);
}

//  The owner's batches arrive at the replica: the same job, its transitions published there
//  once; the same messages again change nothing and publish nothing.
static void
test_apply_idempotent (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1];
    s_step (self, self->owner, s_submit (), true, id);
    s_step (self, self->owner, s_observed (id, JOBD_STATE_SUBMITTED, "app-1"), true, NULL);
    s_step (self, self->owner, s_observed (id, JOBD_STATE_RUNNING, NULL), true, NULL);
    assert_true (self->outbox.count >= 6); //  3 history entries and 3 records
    jobd_store_cl_outbox_t again = s_outbox_copy (&self->outbox);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.fenced, 0);
    assert_int_equal (applied.transition_count, 3);
    assert_int_equal (applied.transitions[0].to, JOBD_STATE_QUEUED);
    assert_int_equal (applied.transitions[2].to, JOBD_STATE_RUNNING);
    jobd_store_cl_applied_clear (&applied);
    s_assert_same (self, id);
    uint64_t next = 0;
    assert_int_equal (jobd_store_cl_meta (self->replica, "cl_next", S_PARTITION, &next), 0);
    assert_int_equal (next, self->offset);

    //  Twice = once: a restart re-reads from cl_next, or an older offset.
    self->outbox = s_outbox_copy (&again);
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.transition_count, 0);
    assert_int_equal (applied.applied, 0);
    jobd_store_cl_applied_clear (&applied);
    s_assert_same (self, id);

    //  The indexes followed: state counts and the backend id.
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->replica, counts), 0);
    assert_int_equal (counts[JOBD_STATE_RUNNING], 1);
    assert_int_equal (counts[JOBD_STATE_QUEUED], 0);
    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->replica, "spark-a", "app-1", &found), 0);
    assert_string_equal (found, id);
    free (found);

    //  The owner's own messages coming back confirm its pending writes and publish them there.
    uint64_t epoch, published;
    assert_int_equal (jobd_store_cl_pending (self->owner, id, &epoch, &published), 0);
    assert_int_equal (epoch, 1);
    assert_int_equal (published, 0);
    self->outbox = again;
    s_deliver (self, self->owner, &applied);
    assert_int_equal (applied.transition_count, 3);
    assert_int_equal (applied.applied, 0); //  the record was the owner's already
    jobd_store_cl_applied_clear (&applied);
    assert_int_equal (jobd_store_cl_pending (self->owner, id, &epoch, &published), JOBD_ENOTFOUND);
}

//  An owner that stopped before Kafka took its writes (the outbox lost with the process) sends
//  them again at its next start: its history past what was published, then its record. The
//  replica gets the job whole, and the owner publishes it once it comes back.
static void
test_resend_makes_lost_writes_durable (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1];
    s_step (self, self->owner, s_submit (), true, id);
    s_step (self, self->owner, s_observed (id, JOBD_STATE_SUBMITTED, "app-9"), true, NULL);
    s_step (self, self->owner, s_observed (id, JOBD_STATE_RUNNING, NULL), true, NULL);
    jobd_store_cl_outbox_clear (&self->outbox); //  the process died before producing them
    size_t jobs = 0;
    assert_int_equal (jobd_store_begin (self->owner), 0);
    assert_int_equal (jobd_store_cl_resend (self->owner, "node-a", NULL, S_PARTITIONS, -1, 0,
                                            &self->outbox, &jobs),
                      0);
    jobd_store_abort (self->owner);
    assert_int_equal (jobs, 1);
    assert_int_equal (self->outbox.count, 4); //  3 history entries and the record
    jobd_store_cl_outbox_t again = s_outbox_copy (&self->outbox);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.transition_count, 3);
    assert_int_equal (applied.missing, 0);
    jobd_store_cl_applied_clear (&applied);
    s_assert_same (self, id);
    self->outbox = again;
    s_deliver (self, self->owner, &applied);
    assert_int_equal (applied.transition_count, 3);
    jobd_store_cl_applied_clear (&applied);
    //  Confirmed: nothing is left to send again.
    assert_int_equal (jobd_store_begin (self->owner), 0);
    assert_int_equal (jobd_store_cl_resend (self->owner, "node-a", NULL, S_PARTITIONS, -1, 0,
                                            &self->outbox, &jobs),
                      0);
    jobd_store_abort (self->owner);
    assert_int_equal (jobs, 0);
    assert_int_equal (self->outbox.count, 0);
}

//  After a claim of epoch 2, a write of epoch 1 (a zombie's) is dropped by every reader.
static void
test_fenced_epochs_dropped (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1];
    s_step (self, self->owner, s_submit (), true, id);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);

    //  The claim of epoch 2, then the zombie's transition of epoch 1.
    jobd_cl_msg_t claim = {.kind = JOBD_CL_OWNER, .epoch = 2, .claim = true};
    snprintf (claim.inst, sizeof claim.inst, "node-b");
    snprintf (claim.name, sizeof claim.name, "member-b");
    msgpack_sbuffer key, value;
    msgpack_sbuffer_init (&key);
    msgpack_sbuffer_init (&value);
    assert_int_equal (jobd_cl_msg_encode (&claim, &key, &value), 0);
    s_step (self, self->owner, s_observed (id, JOBD_STATE_SUBMITTED, "app-9"), true, NULL);
    jobd_store_cl_outbox_t zombie = self->outbox;
    memset (&self->outbox, 0, sizeof self->outbox);
    //  The claim first: the outbox now holds it, then the zombie's messages.
    jobd_store_cl_out_t first = {
        .partition = S_PARTITION, .key_size = key.size, .value_size = value.size};
    first.key = (uint8_t *)msgpack_sbuffer_release (&key);
    first.value = (uint8_t *)msgpack_sbuffer_release (&value);
    self->outbox.messages = (jobd_store_cl_out_t *)calloc (zombie.count + 1, sizeof first);
    self->outbox.alloc = zombie.count + 1;
    self->outbox.messages[0] = first;
    memcpy (self->outbox.messages + 1, zombie.messages, zombie.count * sizeof first);
    self->outbox.count = zombie.count + 1;
    free (zombie.messages);
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.fenced, zombie.count);
    assert_int_equal (applied.transition_count, 0);
    jobd_store_cl_applied_clear (&applied);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->replica, id, &job), 0);
    assert_int_equal (job->state, JOBD_STATE_QUEUED);
    assert_int_equal (job->last_seq, 1);
    jobd_job_destroy (&job);
    uint64_t claim_epoch = 0;
    assert_int_equal (jobd_store_cl_meta (self->replica, "claim_epoch", S_PARTITION, &claim_epoch),
                      0);
    assert_int_equal (claim_epoch, 2);
}

//  Submits a job on the owner and delivers it to both stores (QUEUED, seq 1, from the
//  changelog); its record message decoded into record, when given.
static void
s_confirmed_submit (s_fixture_t *self, char *id, jobd_cl_msg_t *record,
                    jobd_store_cl_outbox_t *kept)
{
    s_step (self, self->owner, s_submit (), true, id);
    jobd_store_cl_outbox_t first = s_outbox_copy (&self->outbox);
    if (record) {
        //  Decoded from a copy the caller keeps (the message borrows its bytes).
        *kept = s_outbox_copy (&self->outbox);
        const jobd_store_cl_out_t *out = &kept->messages[kept->count - 1];
        char reason[256] = "";
        assert_int_equal (jobd_cl_msg_decode (out->key, out->key_size, out->value, out->value_size,
                                              self->zone, record, reason, sizeof reason),
                          0);
        assert_int_equal (record->kind, JOBD_CL_REC);
    }
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    self->outbox = first;
    s_deliver (self, self->owner, &applied);
    jobd_store_cl_applied_clear (&applied);
}

//  This instance wrote transitions the changelog never took (it lost the partition): the new
//  owner's record replaces them, and the local history past its last_seq is deleted.
static void
test_zombie_tail_replaced (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1];
    s_confirmed_submit (self, id, NULL, NULL);
    jobd_store_cl_applied_t applied;

    //  The replica is the zombie: it writes SUBMITTED and RUNNING (seq 2, 3) as epoch 1, which
    //  never reach the changelog.
    s_step (self, self->replica, s_observed (id, JOBD_STATE_SUBMITTED, "zombie-1"), true, NULL);
    s_step (self, self->replica, s_observed (id, JOBD_STATE_RUNNING, NULL), true, NULL);
    jobd_store_cl_outbox_clear (&self->outbox);

    //  The new owner (epoch 2) moves it to CANCELLED: seq 2.
    self->epochs[S_PARTITION] = 2;
    jobd_event_t *cancel = jobd_event_new (JOBD_EVENT_CANCEL);
    jobd_event_set (&cancel->source, "test");
    jobd_event_set (&cancel->job, id);
    s_step (self, self->owner, cancel, true, NULL);
    s_deliver (self, self->replica, &applied);
    //  Published: the new owner's seq 2 (the zombie published nothing past seq 1).
    assert_int_equal (applied.transition_count, 1);
    assert_int_equal (applied.transitions[0].to, JOBD_STATE_CANCELLED);
    jobd_store_cl_applied_clear (&applied);
    s_assert_same (self, id);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->replica, id, &job), 0);
    assert_int_equal (job->state, JOBD_STATE_CANCELLED);
    assert_int_equal (job->last_seq, 2);
    jobd_job_destroy (&job);
    //  The zombie's backend id is gone with its record; its pending entry is confirmed away.
    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->replica, "spark-a", "zombie-1", &found),
                      JOBD_ENOTFOUND);
    uint64_t epoch, published;
    assert_int_equal (jobd_store_cl_pending (self->replica, id, &epoch, &published),
                      JOBD_ENOTFOUND);
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->replica, counts), 0);
    assert_int_equal (counts[JOBD_STATE_RUNNING], 0);
    assert_int_equal (counts[JOBD_STATE_CANCELLED], 1);
}

//  Arms a `deadline` timer for every state entered, at updated_at + 1000 (the test's policy).
static int
s_arm (jobd_store_t *store, const jobd_job_t *job, void *arg)
{
    (void)arg;
    const char *value = jobd_state_name (job->state);
    return jobd_store_timer_set (store, job->id, "deadline", job->updated_at + 1000, value,
                                 strlen (value));
}

static bool
s_owned_none (uint16_t partition, void *arg)
{
    (void)arg;
    return partition != S_PARTITION;
}

//  A record's timers replace the job's on the replica, in the job's partition: they fire there
//  only while that partition is owned.
static void
test_timers_move_with_record (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_set_arm_fn (self->owner, s_arm, NULL);
    char id[JOBD_ID_MAX + 1];
    s_step (self, self->owner, s_submit (), true, id);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    jobd_store_timer_t timers[2];
    size_t count = 0;
    assert_int_equal (jobd_store_timer_list (self->replica, id, timers, 2, &count), 0);
    assert_int_equal (count, 1);
    assert_string_equal (timers[0].name, "deadline");
    assert_memory_equal (timers[0].value, "QUEUED", 6);
    int64_t due = timers[0].due;

    //  The next state's timer replaces it.
    s_step (self, self->owner, s_observed (id, JOBD_STATE_SUBMITTED, "app-2"), true, NULL);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    assert_int_equal (jobd_store_timer_list (self->replica, id, timers, 2, &count), 0);
    assert_int_equal (count, 1);
    assert_memory_equal (timers[0].value, "SUBMITTED", 9);
    assert_true (timers[0].due >= due);

    //  Not owned here: it waits; owned: it fires.
    assert_int_equal (jobd_store_set_owned_fn (self->replica, s_owned_none, NULL), 0);
    assert_int_equal (jobd_store_timer_next (self->replica), 0);
    assert_int_equal (jobd_store_begin (self->replica), 0);
    assert_int_equal (jobd_store_timer_take (self->replica, INT64_MAX, 2, timers, &count), 0);
    assert_int_equal (count, 0);
    jobd_store_abort (self->replica);
    assert_int_equal (jobd_store_set_owned_fn (self->replica, NULL, NULL), 0);
    assert_true (jobd_store_timer_next (self->replica) > 0);
    assert_int_equal (jobd_store_begin (self->replica), 0);
    assert_int_equal (jobd_store_timer_take (self->replica, INT64_MAX, 2, timers, &count), 0);
    assert_int_equal (count, 1);
    assert_string_equal (timers[0].job, id);
    jobd_store_abort (self->replica);
    //  `jobd --verify`'s check knows format 6: the replica's timers and cl_pending pass it.
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify (self->replica_dir, true, &report);
    if (rc)
        fprintf (stderr, "%s\n", report.problem);
    assert_int_equal (rc, 0);
    assert_true (report.values > 4);
}

//  The changelog decoder refuses what is not a changelog message, with a reason.
//  job-1, job-3, ...: partition 1; job-2, job-4, ...: partition 2.
static uint16_t
s_partition_by_id (const char *id, void *arg)
{
    (void)arg;
    return (id[strlen (id) - 1] - '0') % 2 == 0 ? 2 : 1;
}

//  Applies an observation of job at stream position pos; returns its outcome.
static jobd_apply_outcome_t
s_observe_at (jobd_store_t *store, const char *job, jobd_state_t state, uint64_t pos)
{
    jobd_event_t *event = s_observed (job, state, NULL);
    jobd_event_set (&event->stream, "jobd.status/0");
    event->pos = pos;
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (store), 0);
    assert_int_equal (jobd_store_apply (store, event, &result), 0);
    assert_int_equal (jobd_store_commit (store), 0);
    jobd_apply_outcome_t outcome = result.outcome;
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&event);
    return outcome;
}

//  A status stream feeds every partition, and each partition's owner applies its share in its
//  own order: a forwarded observation may come after a later one of another partition. Stream
//  positions are kept per partition, so it is applied, not taken for a replay.
static void
test_stream_positions_per_partition (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_set_partition_fn (self->owner, s_partition_by_id, NULL);
    char first[JOBD_ID_MAX + 1], second[JOBD_ID_MAX + 1];
    s_step (self, self->owner, s_submit (), false, first);
    s_step (self, self->owner, s_submit (), false, second);
    assert_int_not_equal (s_partition_by_id (first, NULL), s_partition_by_id (second, NULL));
    assert_int_equal (s_observe_at (self->owner, second, JOBD_STATE_RUNNING, 7),
                      JOBD_APPLY_CHANGED);
    assert_int_equal (s_observe_at (self->owner, first, JOBD_STATE_RUNNING, 4), JOBD_APPLY_CHANGED);
    //  A replay is still one, in its partition.
    assert_int_equal (s_observe_at (self->owner, first, JOBD_STATE_SUCCEEDED, 4),
                      JOBD_APPLY_REPLAY);
    assert_int_equal (s_observe_at (self->owner, second, JOBD_STATE_SUCCEEDED, 6),
                      JOBD_APPLY_REPLAY);
}

static void s_outbox_add (s_fixture_t *self, const jobd_cl_msg_t *msg);

//  Appends a cursor record of reader name at position (epoch epoch) to the outbox.
static void
s_outbox_cursor (s_fixture_t *self, const char *name, uint64_t position, uint64_t epoch)
{
    jobd_cl_msg_t msg = {.kind = JOBD_CL_CURSOR, .epoch = epoch, .number = position};
    snprintf (msg.inst, sizeof msg.inst, "node-a");
    snprintf (msg.name, sizeof msg.name, "%s", name);
    s_outbox_add (self, &msg);
}

//  Appends msg, encoded, to the outbox.
static void
s_outbox_add (s_fixture_t *self, const jobd_cl_msg_t *msg)
{
    msgpack_sbuffer key, value;
    msgpack_sbuffer_init (&key);
    msgpack_sbuffer_init (&value);
    assert_int_equal (jobd_cl_msg_encode (msg, &key, &value), 0);
    jobd_store_cl_outbox_t *outbox = &self->outbox;
    outbox->messages = (jobd_store_cl_out_t *)realloc (
        outbox->messages, (outbox->count + 1) * sizeof (jobd_store_cl_out_t));
    outbox->alloc = outbox->count + 1;
    outbox->messages[outbox->count++] = (jobd_store_cl_out_t){.partition = S_PARTITION,
                                                              .key = (uint8_t *)key.data,
                                                              .key_size = key.size,
                                                              .value = (uint8_t *)value.data,
                                                              .value_size = value.size};
}

typedef struct {
    uint64_t epochs[16];
    size_t count;
} s_dead_t;

static int
s_dead_one (const char *id, uint64_t epoch, void *arg)
{
    s_dead_t *dead = (s_dead_t *)arg;
    assert_true (dead->count < 16);
    dead->epochs[dead->count++] = epoch;
    (void)id;
    return 0;
}

//  Names the replica's own submissions (the owner's counter named the job it has already).
static int
s_ghost_id (const char *backend, const char *ext, char *id, size_t size, void *arg)
{
    (void)backend, (void)ext, (void)arg;
    snprintf (id, size, "ghost-1");
    return 0;
}

//  Moves the outbox's messages from index `from` on into another outbox, returned.
static jobd_store_cl_outbox_t
s_outbox_split (jobd_store_cl_outbox_t *outbox, size_t from)
{
    jobd_store_cl_outbox_t tail = {.count = outbox->count - from, .alloc = outbox->count - from};
    tail.messages = (jobd_store_cl_out_t *)calloc (tail.count + 1, sizeof *tail.messages);
    memcpy (tail.messages, outbox->messages + from, tail.count * sizeof *tail.messages);
    outbox->count = from;
    return tail;
}

//  This instance lost the partition with writes Kafka never took, and another instance claimed
//  it (epoch 2), which fences them: they give way to the changelog's versions. A job it changed
//  is the changelog's last record again (its history, backend id and state count too), and the
//  new owner's history entry of it read before its record stays; a job it made, which the
//  changelog never had, is gone. Nothing is published; `jobd --verify` passes.
static void
test_fenced_writes_settle (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1], ghost[JOBD_ID_MAX + 1];
    jobd_cl_msg_t record, entry;
    jobd_store_cl_outbox_t kept = {0}, entry_kept = {0};
    s_confirmed_submit (self, id, &record, &kept);
    jobd_store_cl_applied_t applied;

    //  The replica owned the partition (epoch 1), and wrote what Kafka never took: SUBMITTED
    //  and RUNNING of the job, and a job of its own.
    s_step (self, self->replica, s_observed (id, JOBD_STATE_SUBMITTED, "lost-1"), true, NULL);
    s_step (self, self->replica, s_observed (id, JOBD_STATE_RUNNING, NULL), true, NULL);
    jobd_store_set_id_fn (self->replica, s_ghost_id, NULL);
    s_step (self, self->replica, s_submit (), true, ghost);
    jobd_store_cl_outbox_clear (&self->outbox);
    //  Not fenced yet: its claim is the last.
    s_dead_t dead = {.count = 0};
    assert_int_equal (jobd_store_cl_dead (self->replica, S_PARTITION, 0, s_dead_one, &dead), 0);
    assert_int_equal (dead.count, 0);

    //  node-b claims the partition (epoch 2), and cancels the job (its seq 2): the replica reads
    //  the claim and the cancel's history entry; the record comes in its next batch.
    jobd_cl_msg_t claim = {.kind = JOBD_CL_OWNER, .epoch = 2, .claim = true};
    snprintf (claim.inst, sizeof claim.inst, "node-b");
    snprintf (claim.name, sizeof claim.name, "member-b");
    s_outbox_add (self, &claim);
    s_deliver (self, self->replica, &applied);
    assert_true (applied.claimed);
    jobd_store_cl_applied_clear (&applied);
    self->epochs[S_PARTITION] = 2;
    jobd_event_t *cancel = jobd_event_new (JOBD_EVENT_CANCEL);
    jobd_event_set (&cancel->source, "test");
    jobd_event_set (&cancel->job, id);
    s_step (self, self->owner, cancel, true, NULL);
    assert_int_equal (self->outbox.count, 2); //  the history entry, then the record
    jobd_store_cl_outbox_t later = s_outbox_split (&self->outbox, 1);
    entry_kept = s_outbox_copy (&self->outbox);
    char reason[256] = "";
    const jobd_store_cl_out_t *out = &entry_kept.messages[0];
    assert_int_equal (jobd_cl_msg_decode (out->key, out->key_size, out->value, out->value_size,
                                          self->zone, &entry, reason, sizeof reason),
                      0);
    assert_int_equal (entry.kind, JOBD_CL_EV);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    assert_int_equal (jobd_store_cl_dead (self->replica, S_PARTITION, 0, s_dead_one, &dead), 0);
    assert_int_equal (dead.count, 2);
    assert_int_equal (dead.epochs[0], 1);
    //  Another partition's, or below epoch 1: none.
    dead.count = 0;
    assert_int_equal (jobd_store_cl_dead (self->replica, S_PARTITION + 1, 0, s_dead_one, &dead), 0);
    assert_int_equal (jobd_store_cl_dead (self->replica, S_PARTITION, 1, s_dead_one, &dead), 0);
    assert_int_equal (dead.count, 0);

    //  Settled: the job takes the changelog's record and history; the ghost goes.
    jobd_store_settled_t settled;
    assert_int_equal (jobd_store_begin (self->replica), 0);
    assert_int_equal (
        jobd_store_cl_settle (self->replica, S_PARTITION, id, 1, &record, &entry, 1, &settled), 0);
    assert_int_equal (settled, JOBD_STORE_SETTLED_TAKEN);
    assert_int_equal (
        jobd_store_cl_settle (self->replica, S_PARTITION, ghost, 1, NULL, NULL, 0, &settled), 0);
    assert_int_equal (settled, JOBD_STORE_SETTLED_REMOVED);
    //  Another epoch's writes, or a job settled already: not this call's; an entry of another
    //  job, or a record of another job: refused.
    assert_int_equal (
        jobd_store_cl_settle (self->replica, S_PARTITION, id, 1, &record, NULL, 0, &settled), 0);
    assert_int_equal (settled, JOBD_STORE_SETTLED_NOT);
    assert_int_equal (
        jobd_store_cl_settle (self->replica, S_PARTITION, ghost, 1, &record, NULL, 0, &settled),
        JOBD_EINVAL);
    assert_int_equal (
        jobd_store_cl_settle (self->replica, S_PARTITION, ghost, 1, NULL, &entry, 1, &settled),
        JOBD_EINVAL);
    assert_int_equal (jobd_store_commit (self->replica), 0);
    jobd_cl_msg_clear (&record);
    jobd_cl_msg_clear (&entry);
    jobd_store_cl_outbox_clear (&kept);
    jobd_store_cl_outbox_clear (&entry_kept);

    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->replica, id, &job), 0);
    assert_int_equal (job->state, JOBD_STATE_QUEUED);
    assert_int_equal (job->last_seq, 1);
    jobd_job_destroy (&job);
    assert_int_equal (jobd_store_job_get (self->replica, ghost, &job), JOBD_ENOTFOUND);
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (self->replica, ghost, &history, &count), JOBD_ENOTFOUND);
    char *found = NULL;
    assert_int_equal (jobd_store_job_find (self->replica, "spark-a", "lost-1", &found),
                      JOBD_ENOTFOUND);
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->replica, counts), 0);
    assert_int_equal (counts[JOBD_STATE_RUNNING], 0);
    assert_int_equal (counts[JOBD_STATE_QUEUED], 1);
    dead.count = 0;
    assert_int_equal (jobd_store_cl_dead (self->replica, S_PARTITION, 0, s_dead_one, &dead), 0);
    assert_int_equal (dead.count, 0);

    //  The new owner's record comes: its transition is published here, none missing.
    self->outbox = later;
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.missing, 0);
    assert_int_equal (applied.transition_count, 1);
    assert_int_equal (applied.transitions[0].to, JOBD_STATE_CANCELLED);
    jobd_store_cl_applied_clear (&applied);
    s_assert_same (self, id);
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify (self->replica_dir, true, &report);
    if (rc)
        fprintf (stderr, "%s\n", report.problem);
    assert_int_equal (rc, 0);
}

//  Appends a copy of the outbox's messages to log (what the changelog partition holds).
static void
s_log_append (jobd_store_cl_outbox_t *log, const jobd_store_cl_outbox_t *outbox)
{
    jobd_store_cl_outbox_t copy = s_outbox_copy (outbox);
    log->messages = (jobd_store_cl_out_t *)realloc (
        log->messages, (log->count + copy.count + 1) * sizeof (jobd_store_cl_out_t));
    memcpy (log->messages + log->count, copy.messages, copy.count * sizeof *copy.messages);
    log->count += copy.count;
    log->alloc = log->count;
    free (copy.messages);
}

//  What Kafka's compaction leaves of log: the last message of each key, in log order.
static jobd_store_cl_outbox_t
s_compacted (const jobd_store_cl_outbox_t *log)
{
    jobd_store_cl_outbox_t kept = {0}, one = {0};
    for (size_t index = 0; index < log->count; index++) {
        const jobd_store_cl_out_t *out = &log->messages[index];
        bool later = false;
        for (size_t next = index + 1; !later && next < log->count; next++)
            later = log->messages[next].key_size == out->key_size &&
                    memcmp (log->messages[next].key, out->key, out->key_size) == 0;
        if (later)
            continue;
        one.messages = (jobd_store_cl_out_t *)out;
        one.count = 1;
        s_log_append (&kept, &one);
    }
    return kept;
}

//  A zombie's writes that land after another instance's claim are fenced, but they are the last
//  message of their keys: a compacted changelog would keep them, and lose the claim that fenced
//  them once a later owner record comes. The replica apply marks those keys (on every
//  instance); the owner writes their valid values again (a job's record, "gone" for a job the
//  changelog never validly had, its `\0in`); their read-back clears the marks. A store restored
//  from the compacted changelog then holds what the owner holds.
static void
test_fenced_keys_repaired_for_compaction (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_cl_outbox_t log = {0};
    jobd_store_cl_applied_t applied;
    char id[JOBD_ID_MAX + 1], ghost[JOBD_ID_MAX + 1];
    //  The owner (epoch 1) submits the job and consumed commands up to offset 5: confirmed.
    s_step (self, self->owner, s_submit (), true, id);
    jobd_cl_msg_t in = {.kind = JOBD_CL_IN, .epoch = 1, .number = 5};
    snprintf (in.inst, sizeof in.inst, "node-a");
    s_outbox_add (self, &in);
    s_log_append (&log, &self->outbox);
    jobd_store_cl_outbox_t copy = s_outbox_copy (&self->outbox);
    s_deliver (self, self->owner, &applied);
    jobd_store_cl_applied_clear (&applied);
    self->outbox = copy;
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);

    //  The replica, a zombie of epoch 1, writes the job's SUBMITTED, a job of its own and an
    //  in record; node-b's claim (epoch 2) lands before them.
    s_step (self, self->replica, s_observed (id, JOBD_STATE_SUBMITTED, "zombie-1"), true, NULL);
    jobd_store_set_id_fn (self->replica, s_ghost_id, NULL);
    s_step (self, self->replica, s_submit (), true, ghost);
    in.number = 9;
    s_outbox_add (self, &in);
    //  ... and the cursor of a reader that never ran under a valid owner: no valid value to
    //  write again; its mark goes.
    s_outbox_cursor (self, "zombie-reader", 3, 1);
    jobd_store_cl_outbox_t zombie = s_outbox_split (&self->outbox, 0);
    jobd_cl_msg_t claim = {.kind = JOBD_CL_OWNER, .epoch = 2, .claim = true};
    snprintf (claim.inst, sizeof claim.inst, "node-b");
    snprintf (claim.name, sizeof claim.name, "member-b");
    s_outbox_add (self, &claim);
    s_log_append (&self->outbox, &zombie);
    jobd_store_cl_outbox_clear (&zombie);
    s_log_append (&log, &self->outbox);
    copy = s_outbox_copy (&self->outbox);
    s_deliver (self, self->owner, &applied);
    assert_int_equal (applied.fenced, 6); //  2 history entries, 2 records, in, the cursor
    assert_int_equal (applied.marked, 4); //  the job, the ghost, \0in, the cursor
    assert_int_equal (applied.repairs, 4);
    jobd_store_cl_applied_clear (&applied);
    self->outbox = copy;
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.repairs, 4);
    jobd_store_cl_applied_clear (&applied);

    //  The owner, node-b (epoch 2), writes the three keys again.
    size_t keys = 0;
    assert_int_equal (jobd_store_begin (self->owner), 0);
    assert_int_equal (
        jobd_store_cl_repair (self->owner, "node-b", S_PARTITION, 2, &self->outbox, &keys), 0);
    assert_int_equal (jobd_store_commit (self->owner), 0);
    assert_int_equal (keys, 3);
    assert_int_equal (self->outbox.count, 3); //  the job's record, the ghost gone, \0in
    s_log_append (&log, &self->outbox);
    copy = s_outbox_copy (&self->outbox);
    s_deliver (self, self->owner, &applied);
    assert_int_equal (applied.repairs, 0);
    jobd_store_cl_applied_clear (&applied);
    self->outbox = copy;
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.repairs, 1); //  the cursor's: dropped when it owns the partition
    jobd_store_cl_applied_clear (&applied);
    //  Nothing left to repair; the zombie's versions gave way on the replica too.
    assert_int_equal (jobd_store_begin (self->owner), 0);
    assert_int_equal (
        jobd_store_cl_repair (self->owner, "node-b", S_PARTITION, 2, &self->outbox, &keys), 0);
    jobd_store_abort (self->owner);
    assert_int_equal (keys, 0);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->replica, ghost, &job), JOBD_ENOTFOUND);
    self->epochs[S_PARTITION] = 2;
    s_assert_same (self, id);

    //  A later owner record (node-a claims epoch 3): compaction keeps it, not node-b's claim.
    claim.epoch = 3;
    snprintf (claim.inst, sizeof claim.inst, "node-a");
    s_outbox_add (self, &claim);
    s_log_append (&log, &self->outbox);
    jobd_store_cl_outbox_clear (&self->outbox);

    //  A new instance restores from the compacted changelog: it holds what the owner holds.
    char dir[64];
    jobd_store_t *fresh = store_dir_open (dir, sizeof dir, "cl-fresh");
    jobd_store_set_partition_fn (fresh, s_partition, NULL);
    self->outbox = s_compacted (&log);
    s_deliver (self, fresh, &applied);
    jobd_store_cl_applied_clear (&applied);
    jobd_job_t *owner = NULL;
    assert_int_equal (jobd_store_job_get (self->owner, id, &owner), 0);
    assert_int_equal (jobd_store_job_get (fresh, id, &job), 0);
    assert_int_equal (job->state, owner->state);
    assert_int_equal (job->last_seq, owner->last_seq);
    jobd_job_destroy (&job);
    jobd_job_destroy (&owner);
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (fresh, id, &history, &count), 0);
    assert_int_equal (count, 1);
    assert_int_equal (history[0]->state, JOBD_STATE_QUEUED);
    jobd_store_history_free (&history, count);
    assert_int_equal (jobd_store_job_get (fresh, ghost, &job), JOBD_ENOTFOUND);
    assert_int_equal (jobd_store_history (fresh, ghost, &history, &count), JOBD_ENOTFOUND);
    uint64_t next_in = 0;
    assert_int_equal (jobd_store_cl_meta (fresh, "in", S_PARTITION, &next_in), 0);
    assert_int_equal (next_in, 5);
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify (dir, true, &report);
    if (rc)
        fprintf (stderr, "%s\n", report.problem);
    assert_int_equal (rc, 0);
    jobd_store_destroy (&fresh);
    store_dir_remove (dir);
    jobd_store_cl_outbox_clear (&log);
}

//  An owner that lacks a marked history entry (its record came, the entry never did: `missing`)
//  repairs the job's record alone, and its read-back clears the mark: it is not written again
//  every 10 s for ever.
static void
test_repair_of_a_missing_entry_ends (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1];
    s_confirmed_submit (self, id, NULL, NULL);
    //  The owner's SUBMITTED: the replica gets its record, not its history entry.
    s_step (self, self->owner, s_observed (id, JOBD_STATE_SUBMITTED, "lost-entry"), true, NULL);
    jobd_store_cl_outbox_t record = s_outbox_split (&self->outbox, 1);
    jobd_store_cl_outbox_t entry = self->outbox;
    self->outbox = record;
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.missing, 1);
    jobd_store_cl_applied_clear (&applied);
    //  node-b's claim (epoch 2), then that entry late (epoch 1): fenced, marked.
    jobd_cl_msg_t claim = {.kind = JOBD_CL_OWNER, .epoch = 2, .claim = true};
    snprintf (claim.inst, sizeof claim.inst, "node-b");
    snprintf (claim.name, sizeof claim.name, "member-b");
    memset (&self->outbox, 0, sizeof self->outbox);
    s_outbox_add (self, &claim);
    s_log_append (&self->outbox, &entry);
    jobd_store_cl_outbox_clear (&entry);
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.marked, 1);
    jobd_store_cl_applied_clear (&applied);
    //  The replica, owner now, repairs: the record only; its read-back clears the mark.
    size_t keys = 0;
    assert_int_equal (jobd_store_begin (self->replica), 0);
    assert_int_equal (
        jobd_store_cl_repair (self->replica, "node-b", S_PARTITION, 2, &self->outbox, &keys), 0);
    assert_int_equal (jobd_store_commit (self->replica), 0);
    assert_int_equal (keys, 1);
    assert_int_equal (self->outbox.count, 1);
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.repairs, 0);
    jobd_store_cl_applied_clear (&applied);
}

//  Kafka refuses the owner's write of a job's SUBMITTED (its history entry and record), and takes
//  the next write of the job (RUNNING), whose read-back ends the job's cl_pending entry before
//  the resend runs: the resend has nothing to send. The refused key, kept from the delivery
//  reports (jobd_lost: one key for the job) and marked at the resend, makes the repair write the
//  entry again, then the entries after it and the record: the replica's history ends whole, and
//  the mark clears. While cl_pending covers the entry, the resend sends it and nothing is marked.
static void
test_refused_entry_written_again (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1];
    s_confirmed_submit (self, id, NULL, NULL);
    jobd_lost_t *lost = jobd_lost_new ();
    assert_non_null (lost);
    //  SUBMITTED: refused, each message's delivery report kept.
    s_step (self, self->owner, s_observed (id, JOBD_STATE_SUBMITTED, "refused-1"), true, NULL);
    assert_int_equal (self->outbox.count, 2);
    for (size_t index = 0; index < self->outbox.count; index++) {
        const jobd_store_cl_out_t *out = &self->outbox.messages[index];
        assert_true (jobd_lost_add (lost, out->partition, out->key, out->key_size, out->value,
                                    out->value_size));
    }
    jobd_store_cl_outbox_clear (&self->outbox);
    size_t jobs = 0, marked = 0, keys = 0;
    assert_int_equal (jobd_store_begin (self->owner), 0);
    assert_int_equal (jobd_lost_mark (lost, self->owner, S_PARTITION, 1, &marked), 0);
    jobd_store_abort (self->owner);
    assert_int_equal (marked, 0); //  the resend sends it
    //  RUNNING: stored, read back by the owner and the replica (which misses SUBMITTED).
    s_step (self, self->owner, s_observed (id, JOBD_STATE_RUNNING, NULL), true, NULL);
    jobd_store_cl_outbox_t copy = s_outbox_copy (&self->outbox);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.missing, 1);
    jobd_store_cl_applied_clear (&applied);
    self->outbox = copy;
    s_deliver (self, self->owner, &applied);
    jobd_store_cl_applied_clear (&applied);
    //  The resend: nothing unconfirmed is left of the job; the refused keys are marked.
    assert_int_equal (jobd_store_begin (self->owner), 0);
    assert_int_equal (jobd_lost_mark (lost, self->owner, S_PARTITION, 1, &marked), 0);
    assert_int_equal (jobd_store_cl_resend (self->owner, "node-a", self->epochs, S_PARTITIONS,
                                            S_PARTITION, 1, &self->outbox, &jobs),
                      0);
    assert_int_equal (jobd_store_commit (self->owner), 0);
    assert_int_equal (jobd_lost_forget (lost, S_PARTITION), 1);
    assert_int_equal (marked, 1);
    assert_int_equal (jobs, 0);
    assert_int_equal (self->outbox.count, 0);
    //  The repair: SUBMITTED's entry, RUNNING's, the record.
    assert_int_equal (jobd_store_begin (self->owner), 0);
    assert_int_equal (
        jobd_store_cl_repair (self->owner, "node-a", S_PARTITION, 1, &self->outbox, &keys), 0);
    assert_int_equal (jobd_store_commit (self->owner), 0);
    assert_int_equal (keys, 1);
    assert_int_equal (self->outbox.count, 3);
    copy = s_outbox_copy (&self->outbox);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    s_assert_same (self, id);
    self->outbox = copy;
    s_deliver (self, self->owner, &applied);
    assert_int_equal (applied.repairs, 0); //  read back: the marks are gone
    jobd_store_cl_applied_clear (&applied);
    //  A message that does not decode, or an owner record, names no key to mark.
    assert_false (jobd_lost_add (lost, S_PARTITION, "x", 1, "\x80", 1));
    jobd_cl_msg_t claim = {.kind = JOBD_CL_OWNER, .epoch = 1, .claim = true};
    snprintf (claim.inst, sizeof claim.inst, "node-a");
    snprintf (claim.name, sizeof claim.name, "member-a");
    s_outbox_add (self, &claim);
    const jobd_store_cl_out_t *out = &self->outbox.messages[0];
    assert_false (
        jobd_lost_add (lost, S_PARTITION, out->key, out->key_size, out->value, out->value_size));
    jobd_store_cl_outbox_clear (&self->outbox);
    assert_int_equal (jobd_lost_dropped (lost), 0);
    jobd_lost_destroy (&lost);
}

//  A record deletes the history past its last_seq even when it is the record the store holds
//  already: a restore from a compacted changelog reads a zombie's history entry (its claim gone)
//  and then the owner's repair, the same record as before.
static void
test_same_record_cuts_the_history (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1];
    jobd_cl_msg_t record;
    jobd_store_cl_outbox_t kept = {0};
    s_confirmed_submit (self, id, &record, &kept);
    jobd_cl_msg_clear (&record);
    //  A history entry of seq 2 alone (its record never comes), then the job's record again.
    s_step (self, self->owner, s_observed (id, JOBD_STATE_SUBMITTED, "cut-1"), true, NULL);
    jobd_store_cl_outbox_t tail = s_outbox_split (&self->outbox, 1);
    jobd_store_cl_outbox_clear (&tail);
    jobd_store_cl_outbox_t again = s_outbox_split (&kept, kept.count - 1);
    s_log_append (&self->outbox, &again);
    jobd_store_cl_outbox_clear (&again);
    jobd_store_cl_outbox_clear (&kept);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (self->replica, id, &history, &count), 0);
    assert_int_equal (count, 1);
    jobd_store_history_free (&history, count);
}

//  "gone" (an owner's repair of a job it did not have) removes a job that was only a fenced
//  write here (an unconfirmed write of an older epoch), not one this instance wrote since, at
//  that epoch or a later one (the owner made the job again after it said gone).
static void
test_gone_spares_a_newer_write (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char ghost[JOBD_ID_MAX + 1];
    jobd_store_set_id_fn (self->replica, s_ghost_id, NULL);
    s_step (self, self->replica, s_submit (), true, ghost); //  epoch 1, never confirmed
    self->epochs[S_PARTITION] = 2;
    jobd_store_set_id_fn (self->owner, s_ghost_id, NULL);
    s_step (self, self->owner, s_submit (), true, NULL); //  epoch 2: the owner's own, since
    jobd_store_cl_outbox_clear (&self->outbox);
    jobd_cl_msg_t gone = {.kind = JOBD_CL_GONE, .epoch = 2};
    snprintf (gone.inst, sizeof gone.inst, "node-b");
    snprintf (gone.job, sizeof gone.job, "%s", ghost);
    s_outbox_add (self, &gone);
    jobd_store_cl_outbox_t copy = s_outbox_copy (&self->outbox);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->owner, &applied);
    jobd_store_cl_applied_clear (&applied);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->owner, ghost, &job), 0);
    jobd_job_destroy (&job);
    self->outbox = copy;
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.applied, 1);
    jobd_store_cl_applied_clear (&applied);
    assert_int_equal (jobd_store_job_get (self->replica, ghost, &job), JOBD_ENOTFOUND);
    uint64_t epoch = 0, published = 0;
    assert_int_equal (jobd_store_cl_pending (self->replica, ghost, &epoch, &published),
                      JOBD_ENOTFOUND);
}

//  A write produced again when this instance owns its partition once more takes the new epoch
//  in cl_pending (in the resend's commit), so that this instance's own claim does not make it
//  look fenced; writes below the resend's lowest epoch are not sent.
static void
test_resend_takes_the_new_epoch (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1];
    s_step (self, self->owner, s_submit (), true, id);
    jobd_store_cl_outbox_clear (&self->outbox); //  Kafka never took it
    size_t jobs = 0;
    uint64_t epochs[S_PARTITIONS] = {0};
    epochs[S_PARTITION] = 2;
    assert_int_equal (jobd_store_begin (self->owner), 0);
    assert_int_equal (jobd_store_cl_resend (self->owner, "node-a", epochs, S_PARTITIONS, -1, 2,
                                            &self->outbox, &jobs),
                      0);
    assert_int_equal (jobs, 0);
    assert_int_equal (jobd_store_cl_resend (self->owner, "node-a", epochs, S_PARTITIONS, -1, 1,
                                            &self->outbox, &jobs),
                      0);
    assert_int_equal (jobd_store_commit (self->owner), 0);
    assert_int_equal (jobs, 1);
    uint64_t epoch = 0, published = 9;
    assert_int_equal (jobd_store_cl_pending (self->owner, id, &epoch, &published), 0);
    assert_int_equal (epoch, 2);
    assert_int_equal (published, 0);
    //  Its own claim of epoch 2 read back: nothing of it is fenced.
    jobd_store_cl_outbox_clear (&self->outbox);
    jobd_cl_msg_t claim = {.kind = JOBD_CL_OWNER, .epoch = 2, .claim = true};
    snprintf (claim.inst, sizeof claim.inst, "node-a");
    snprintf (claim.name, sizeof claim.name, "member-a");
    s_outbox_add (self, &claim);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->owner, &applied);
    jobd_store_cl_applied_clear (&applied);
    s_dead_t dead = {.count = 0};
    assert_int_equal (jobd_store_cl_dead (self->owner, S_PARTITION, 0, s_dead_one, &dead), 0);
    assert_int_equal (dead.count, 0);
}

typedef struct {
    uint64_t positions[16];
    jobd_state_t states[16];
    size_t count;
} s_plog_t;

static bool
s_plog_one (uint64_t position, const uint8_t *data, size_t size, void *arg)
{
    s_plog_t *self = (s_plog_t *)arg;
    jobd_event_t *event = NULL;
    assert_int_equal (jobd_event_decode (data, size, &event, NULL, 0), 0);
    assert_true (self->count < 16);
    self->positions[self->count] = position;
    self->states[self->count++] = event->state;
    jobd_event_destroy (&event);
    return true;
}

static void
s_plog_expired (const char *name, uint16_t partition, int64_t idle_ms, uint64_t behind, void *arg)
{
    s_plog_t *expired = (s_plog_t *)arg; //  positions: how far behind
    assert_string_equal (name, "notifier/gone");
    assert_int_equal (partition, S_PARTITION);
    assert_true (idle_ms >= 2000);
    expired->positions[expired->count++] = behind;
}

//  A partition reader's cursor that stays behind without moving for core/cursor_idle_max (a
//  channel removed from the configuration) holds cl_plog no more: removed, with its
//  partition's transitions it alone held. One at the head holds nothing and stays.
static void
test_idle_partition_cursor_expires (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char id[JOBD_ID_MAX + 1];
    s_step (self, self->owner, s_submit (), true, id);
    s_step (self, self->owner, s_observed (id, JOBD_STATE_SUBMITTED, "app-3"), true, NULL);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    uint64_t head = 0;
    jobd_store_plog_cursor (self->replica, "notifier/ops", S_PARTITION, NULL, &head);
    //  One reader at the head, one behind it (done with nothing).
    s_outbox_cursor (self, "notifier/ops", head, 1);
    s_outbox_cursor (self, "notifier/gone", 1, 1);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    s_plog_t read = {0}, expired = {0};
    assert_int_equal (jobd_store_plog_read (self->replica, S_PARTITION, 0, 100, s_plog_one, &read),
                      2);
    //  Not idle long enough; then past it: the one behind goes, the one at the head stays.
    int64_t now = jobd_now_ms ();
    assert_int_equal (jobd_store_begin (self->replica), 0);
    assert_int_equal (
        jobd_store_plog_expire (self->replica, now + 500, 2000, s_plog_expired, &expired), 0);
    assert_int_equal (jobd_store_commit (self->replica), 0);
    assert_int_equal (expired.count, 0);
    assert_int_equal (jobd_store_begin (self->replica), 0);
    assert_int_equal (
        jobd_store_plog_expire (self->replica, now + 3000, 2000, s_plog_expired, &expired), 0);
    assert_int_equal (jobd_store_commit (self->replica), 0);
    assert_int_equal (expired.count, 1);
    assert_int_equal (expired.positions[0], head - 1);
    assert_int_equal (
        jobd_store_plog_cursor (self->replica, "notifier/gone", S_PARTITION, NULL, NULL),
        JOBD_ENOTFOUND);
    assert_int_equal (
        jobd_store_plog_cursor (self->replica, "notifier/ops", S_PARTITION, NULL, NULL), 0);
    //  The partition's next batch drops what only the removed cursor held.
    s_step (self, self->owner, s_observed (id, JOBD_STATE_RUNNING, NULL), true, NULL);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    memset (&read, 0, sizeof read);
    assert_int_equal (jobd_store_plog_read (self->replica, S_PARTITION, 0, 100, s_plog_one, &read),
                      1);
    assert_int_equal (read.states[0], JOBD_STATE_RUNNING);
    //  Its reader back: its next cursor record sets it again.
    s_outbox_cursor (self, "notifier/gone", head, 1);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    assert_int_equal (
        jobd_store_plog_cursor (self->replica, "notifier/gone", S_PARTITION, NULL, NULL), 0);
}

//  The partition's transitions in changelog order (cl_plog), from the first cursor record on:
//  a record that counts two transitions puts them at offset O and O + 1 (a reader done with O
//  has one of them to read again), a read never ends inside an offset, and a cursor record
//  drops what every reader of the partition passed.
static void
test_partition_log_follows_cursors (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    //  No reader yet: kept all the same (a store restored from the changelog meets a reader's
    //  cursor after what it had not passed).
    char id[JOBD_ID_MAX + 1];
    s_step (self, self->owner, s_submit (), true, id);
    jobd_store_cl_applied_t applied;
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    s_plog_t read = {0};
    assert_int_equal (jobd_store_plog_read (self->replica, S_PARTITION, 0, 100, s_plog_one, &read),
                      1);
    assert_int_equal (read.states[0], JOBD_STATE_QUEUED);
    assert_int_equal (read.positions[0], self->offset);
    memset (&read, 0, sizeof read);
    uint64_t position = 7, head = 0;
    assert_int_equal (
        jobd_store_plog_cursor (self->replica, "notifier/ops", S_PARTITION, &position, &head),
        JOBD_ENOTFOUND);
    assert_int_equal (position, 0);
    assert_int_equal (head, self->offset);
    //  A reader's first cursor, at the head (what it passed goes); then a job moves twice in one
    //  batch, and once more.
    s_outbox_cursor (self, "notifier/ops", head, 1);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    assert_int_equal (jobd_store_begin (self->owner), 0);
    jobd_apply_result_t result;
    jobd_event_t *event = s_observed (id, JOBD_STATE_SUBMITTED, "app-7");
    assert_int_equal (jobd_store_apply (self->owner, event, &result), 0);
    jobd_event_destroy (&event);
    jobd_apply_result_clear (&result);
    event = s_observed (id, JOBD_STATE_RUNNING, NULL);
    assert_int_equal (jobd_store_apply (self->owner, event, &result), 0);
    jobd_event_destroy (&event);
    jobd_apply_result_clear (&result);
    assert_int_equal (
        jobd_store_cl_record (self->owner, "node-a", self->epochs, S_PARTITIONS, &self->outbox), 0);
    assert_int_equal (jobd_store_commit (self->owner), 0);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    uint64_t two_at = self->offset - 1; //  the record's offset
    s_step (self, self->owner, s_observed (id, JOBD_STATE_SUCCEEDED, NULL), true, NULL);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    assert_int_equal (jobd_store_plog_read (self->replica, S_PARTITION, 0, 100, s_plog_one, &read),
                      3);
    assert_int_equal (read.states[0], JOBD_STATE_SUBMITTED);
    assert_int_equal (read.positions[0], two_at);
    assert_int_equal (read.states[1], JOBD_STATE_RUNNING);
    assert_int_equal (read.positions[1], two_at + 1);
    assert_int_equal (read.states[2], JOBD_STATE_SUCCEEDED);
    assert_int_equal (read.positions[2], self->offset);
    //  At most one entry asked: both of the record's come (a read does not end inside it).
    memset (&read, 0, sizeof read);
    assert_int_equal (jobd_store_plog_read (self->replica, S_PARTITION, 0, 1, s_plog_one, &read),
                      2);
    //  A reader done with the first entry only reads both again; done with the record, one.
    memset (&read, 0, sizeof read);
    assert_int_equal (
        jobd_store_plog_read (self->replica, S_PARTITION, two_at, 100, s_plog_one, &read), 3);
    memset (&read, 0, sizeof read);
    assert_int_equal (
        jobd_store_plog_read (self->replica, S_PARTITION, two_at + 1, 100, s_plog_one, &read), 1);
    //  Another partition has nothing of them.
    assert_int_equal (
        jobd_store_plog_read (self->replica, S_PARTITION + 1, 0, 100, s_plog_one, &read), 0);
    //  Two readers: what the lower one has not passed stays.
    s_outbox_cursor (self, "notifier/mail", two_at + 1, 1);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    memset (&read, 0, sizeof read);
    assert_int_equal (jobd_store_plog_read (self->replica, S_PARTITION, 0, 100, s_plog_one, &read),
                      3);
    s_outbox_cursor (self, "notifier/ops", self->offset, 1);
    s_deliver (self, self->replica, &applied);
    jobd_store_cl_applied_clear (&applied);
    memset (&read, 0, sizeof read);
    assert_int_equal (jobd_store_plog_read (self->replica, S_PARTITION, 0, 100, s_plog_one, &read),
                      1);
    assert_int_equal (read.states[0], JOBD_STATE_SUCCEEDED);
    assert_int_equal (
        jobd_store_plog_cursor (self->replica, "notifier/mail", S_PARTITION, &position, &head), 0);
    assert_int_equal (position, two_at + 1);
    assert_int_equal (head, read.positions[0]); //  the last transition kept, not a cursor record
    //  A cursor written under an epoch below the claim is fenced: it moves nothing.
    self->epochs[S_PARTITION] = 2;
    jobd_cl_msg_t claim = {.kind = JOBD_CL_OWNER, .epoch = 2, .claim = true};
    snprintf (claim.inst, sizeof claim.inst, "node-b");
    snprintf (claim.name, sizeof claim.name, "member-b");
    s_outbox_cursor (self, "notifier/mail", 1, 2); //  a slot, replaced by the claim
    msgpack_sbuffer key, value;
    msgpack_sbuffer_init (&key);
    msgpack_sbuffer_init (&value);
    assert_int_equal (jobd_cl_msg_encode (&claim, &key, &value), 0);
    jobd_store_cl_out_t *slot = &self->outbox.messages[self->outbox.count - 1];
    free (slot->key);
    free (slot->value);
    slot->key = (uint8_t *)key.data;
    slot->key_size = key.size;
    slot->value = (uint8_t *)value.data;
    slot->value_size = value.size;
    s_outbox_cursor (self, "notifier/mail", self->offset + 5, 1);
    s_deliver (self, self->replica, &applied);
    assert_int_equal (applied.fenced, 1);
    jobd_store_cl_applied_clear (&applied);
    assert_int_equal (
        jobd_store_plog_cursor (self->replica, "notifier/mail", S_PARTITION, &position, NULL), 0);
    assert_int_equal (position, two_at + 1);
    //  What is left passes `jobd --verify` (every cl_plog entry names a history entry).
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify (self->replica_dir, true, &report);
    if (rc)
        fprintf (stderr, "%s\n", report.problem);
    assert_int_equal (rc, 0);
}

static int
s_derived_id (const char *backend, const char *ext, char *id, size_t size, void *arg)
{
    (void)arg;
    snprintf (id, size, "%s-%s", backend ? backend : "job", ext ? ext : "new");
    return 0;
}

static bool s_owner_here; //  whether the store owns S_PARTITION

static bool
s_owned_fn (uint16_t partition, void *arg)
{
    (void)arg;
    return partition != S_PARTITION || s_owner_here;
}

//  Applies event on store in its own batch; returns the store's code, the job into job.
static int
s_apply_one (jobd_store_t *store, jobd_event_t *event, char *job, size_t size)
{
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (store), 0);
    int rc = jobd_store_apply (store, event, &result);
    assert_int_equal (jobd_store_commit (store), 0);
    snprintf (job, size, "%s", result.job);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&event);
    return rc;
}

//  An observation by backend id of a job unknown here, of a partition another instance owns: the
//  store names the derived id and ENOTOWNER, for the broker to forward it to the owner (who may
//  have it: a track forwarded there first). On the partition's owner, it is no such job.
static void
test_unknown_backend_id_goes_to_its_owner (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_set_id_fn (self->replica, s_derived_id, NULL);
    s_owner_here = false;
    assert_int_equal (jobd_store_set_owned_fn (self->replica, s_owned_fn, NULL), 0);
    char job[JOBD_ID_MAX + 1];
    assert_int_equal (s_apply_one (self->replica, s_observed (NULL, JOBD_STATE_RUNNING, "app-9"),
                                   job, sizeof job),
                      JOBD_ENOTOWNER);
    assert_string_equal (job, "spark-a-app-9");
    s_owner_here = true;
    assert_int_equal (s_apply_one (self->replica, s_observed (NULL, JOBD_STATE_RUNNING, "app-9"),
                                   job, sizeof job),
                      JOBD_ENOTFOUND);
    assert_string_equal (job, "");
}

//  A submission another instance forwarded (it acts on no partition) carries the id it drew:
//  the partition's owner makes the job under it; the same submission again (the jobs topic is
//  read at least once) is that job's duplicate; an instance that does not own the id's
//  partition refuses it ENOTOWNER, and makes nothing.
static void
test_forwarded_submission_keeps_its_id (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_set_id_fn (self->replica, s_derived_id, NULL);
    s_owner_here = false;
    assert_int_equal (jobd_store_set_owned_fn (self->replica, s_owned_fn, NULL), 0);
    const char *given = "job-01M92N6B5HENRRWCYTYM8MVX0N";
    char job[JOBD_ID_MAX + 1];
    jobd_event_t *submit = s_submit ();
    jobd_event_set (&submit->job, given);
    assert_int_equal (s_apply_one (self->replica, submit, job, sizeof job), JOBD_ENOTOWNER);
    s_owner_here = true;
    for (int again = 0; again < 2; again++) {
        submit = s_submit ();
        jobd_event_set (&submit->job, given);
        jobd_apply_result_t result;
        assert_int_equal (jobd_store_begin (self->replica), 0);
        assert_int_equal (jobd_store_apply (self->replica, submit, &result), 0);
        assert_int_equal (jobd_store_commit (self->replica), 0);
        assert_string_equal (result.job, given);
        assert_int_equal (result.outcome, again ? JOBD_APPLY_DUPLICATE : JOBD_APPLY_CHANGED);
        jobd_apply_result_clear (&result);
        jobd_event_destroy (&submit);
    }
    jobd_job_t *made = NULL;
    assert_int_equal (jobd_store_job_get (self->replica, given, &made), 0);
    assert_int_equal (made->state, JOBD_STATE_QUEUED);
    assert_int_equal (made->last_seq, 1);
    jobd_job_destroy (&made);
}

static void
test_decoder_refuses (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_cl_msg_t msg;
    char reason[256];
    assert_int_equal (
        jobd_cl_msg_decode ("", 0, "\x80", 1, self->zone, &msg, reason, sizeof reason),
        JOBD_EPROTO);
    assert_non_null (strstr (reason, "empty key"));
    assert_int_equal (
        jobd_cl_msg_decode ("\0nope", 5, "\x80", 1, self->zone, &msg, reason, sizeof reason),
        JOBD_EPROTO);
    //  {"v": 2, ...}
    assert_int_equal (
        jobd_cl_msg_decode ("\0in", 3, "\x81\xa1v\x02", 4, self->zone, &msg, reason, sizeof reason),
        JOBD_EPROTO);
    assert_non_null (strstr (reason, "`v`"));
    //  A record whose checksum does not match.
    char id[JOBD_ID_MAX + 1];
    s_step (self, self->owner, s_submit (), true, id);
    jobd_store_cl_out_t *rec = &self->outbox.messages[self->outbox.count - 1];
    assert_int_equal (jobd_cl_msg_decode (rec->key, rec->key_size, rec->value, rec->value_size,
                                          self->zone, &msg, reason, sizeof reason),
                      0);
    assert_int_equal (msg.kind, JOBD_CL_REC);
    size_t inside = (size_t)(msg.bytes - rec->value) + msg.size / 2;
    jobd_cl_msg_clear (&msg);
    rec->value[inside] ^= 0x01;
    assert_int_equal (jobd_cl_msg_decode (rec->key, rec->key_size, rec->value, rec->value_size,
                                          self->zone, &msg, reason, sizeof reason),
                      JOBD_EPROTO);
    assert_non_null (strstr (reason, "checksum"));
}

//  A format 5 store: read only, it reads (without timers); opened writable, it is upgraded in
//  place and its timers still fire, at their time.
static void
test_upgrade_5_to_6_keeps_timers (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_store_t *store = self->replica; //  partition function: 3; the upgrade says 0
    jobd_store_set_partition_fn (store, NULL, NULL);
    jobd_store_set_arm_fn (store, s_arm, NULL);
    char ids[3][JOBD_ID_MAX + 1];
    for (int job = 0; job < 3; job++)
        s_step (self, store, s_submit (), false, ids[job]);
    jobd_store_timer_t before[2];
    size_t count = 0;
    assert_int_equal (jobd_store_timer_list (store, ids[1], before, 2, &count), 0);
    assert_int_equal (count, 1);
    jobd_store_destroy (&self->replica);
    store_make_format_5 (self->replica_dir);

    jobd_store_t *reader = NULL;
    assert_int_equal (jobd_store_open (self->replica_dir, JOBD_STORE_RDONLY, 0, &reader, NULL, 0),
                      0);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (reader, ids[2], &job), 0);
    assert_int_equal (job->state, JOBD_STATE_QUEUED);
    jobd_job_destroy (&job);
    jobd_store_destroy (&reader);

    assert_int_equal (jobd_store_open (self->replica_dir, 0, 0, &self->replica, NULL, 0), 0);
    store = self->replica;
    jobd_store_set_arm_fn (store, s_arm, NULL);
    jobd_store_timer_t after[2];
    assert_int_equal (jobd_store_timer_list (store, ids[1], after, 2, &count), 0);
    assert_int_equal (count, 1);
    assert_int_equal (after[0].due, before[0].due);
    assert_string_equal (after[0].name, "deadline");
    assert_true (jobd_store_timer_next (store) > 0);
    //  Not due yet: nothing; at their time: all three, once.
    jobd_store_timer_t taken[4];
    assert_int_equal (jobd_store_begin (store), 0);
    assert_int_equal (
        jobd_store_timer_take (store, jobd_store_timer_next (store) - 1, 4, taken, &count), 0);
    assert_int_equal (count, 0);
    assert_int_equal (jobd_store_timer_take (store, INT64_MAX, 4, taken, &count), 0);
    assert_int_equal (count, 3);
    assert_int_equal (jobd_store_commit (store), 0);
    assert_int_equal (jobd_store_timer_list (store, ids[1], after, 2, &count), 0);
    assert_int_equal (count, 0);
    //  A transition still arms and clears timers in the new layout.
    s_step (self, store, s_observed (ids[0], JOBD_STATE_SUBMITTED, "x-1"), false, NULL);
    assert_int_equal (jobd_store_timer_list (store, ids[0], after, 2, &count), 0);
    assert_int_equal (count, 1);
    assert_memory_equal (after[0].value, "SUBMITTED", 9);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_apply_idempotent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_resend_makes_lost_writes_durable, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_fenced_epochs_dropped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_zombie_tail_replaced, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_fenced_writes_settle, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_resend_takes_the_new_epoch, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_fenced_keys_repaired_for_compaction, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_gone_spares_a_newer_write, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_same_record_cuts_the_history, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refused_entry_written_again, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_forwarded_submission_keeps_its_id, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_repair_of_a_missing_entry_ends, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_timers_move_with_record, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stream_positions_per_partition, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_decoder_refuses, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_partition_log_follows_cursors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_idle_partition_cursor_expires, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_backend_id_goes_to_its_owner, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_upgrade_5_to_6_keeps_timers, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
