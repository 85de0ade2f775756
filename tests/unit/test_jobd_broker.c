//  The broker in-process: commands and observations in, replies after the commit, transitions
//  published only once they can be read back from the store, bad input answered and counted.
#include "jobd_map.h"
#include "jobd_asks.h"
#include "jobd_broker.h"
#include "jobd_plugin.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char dir[64];
    jobd_store_t *store;
    jobd_broker_t *broker;
    zsock_t *admin;
    zsock_t *events;
    zsock_t *bus; //  a plugin's side of the bus
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
    snprintf (self->dir, sizeof self->dir, "/tmp/jobd-broker-XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    char reason[256];
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &self->store, reason, sizeof reason), 0);
    assert_int_equal (jobd_broker_new (self->store, "inproc://test-admin", "inproc://test-events",
                                       64, &self->broker, reason, sizeof reason),
                      0);
    self->admin = zsock_new_dealer (">inproc://test-admin");
    self->bus = zsock_new_dealer (">" JOBD_BUS_ENDPOINT);
    self->events = zsock_new_sub (">inproc://test-events", "job.");
    zsock_set_subscribe (self->events, JOBD_WELCOME_TOPIC);
    //  The welcome says the subscription is in place.
    char *welcome = zstr_recv (self->events);
    assert_string_equal (welcome, JOBD_WELCOME_TOPIC);
    zstr_free (&welcome);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    zsock_destroy (&self->admin);
    zsock_destroy (&self->bus);
    zsock_destroy (&self->events);
    jobd_broker_destroy (&self->broker);
    assert_null (self->broker);
    jobd_store_destroy (&self->store);
    nftw (self->dir, s_remove, 8, FTW_DEPTH | FTW_PHYS);
    free (self);
    return 0;
}

static void
s_send (s_fixture_t *self, jobd_event_t *event)
{
    jobd_event_set (&event->source, "test");
    assert_int_equal (jobd_plugin_send (self->admin, event), 0);
}

//  Receives the reply (with a deadline) into unpacked; returns whether it says ok.
static bool
s_reply (s_fixture_t *self, msgpack_unpacked *unpacked)
{
    zsock_set_rcvtimeo (self->admin, 5000);
    zframe_t *frame = zframe_recv (self->admin);
    assert_non_null (frame);
    msgpack_unpacked_init (unpacked);
    assert_int_equal (
        jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), unpacked, NULL, 0), 0);
    zframe_destroy (&frame);
    const msgpack_object *ok = jobd_map_lookup (&unpacked->data, "ok");
    assert_non_null (ok);
    return ok->via.boolean;
}

//  The plugins query, {"v":1,"type":"query","id":"q","q":"plugins"}: its answer into reply.
static void
s_ask_plugins (s_fixture_t *self, msgpack_unpacked *reply)
{
    static const char query[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1q\xa1q\xa7plugins";
    zframe_t *frame = zframe_new (query, sizeof query - 1);
    zframe_send (&frame, self->admin, 0);
    assert_true (s_reply (self, reply));
}

static jobd_event_t *
s_transition (s_fixture_t *self)
{
    zsock_set_rcvtimeo (self->events, 5000);
    zmsg_t *msg = zmsg_recv (self->events);
    assert_non_null (msg);
    assert_int_equal (zmsg_size (msg), 2);
    zframe_t *payload = zmsg_last (msg);
    jobd_event_t *event = NULL;
    assert_int_equal (
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0), 0);
    char *topic = zmsg_popstr (msg);
    char expected[128];
    snprintf (expected, sizeof expected, "job.%s.%s", jobd_state_name (event->state), event->job);
    assert_string_equal (topic, expected);
    zstr_free (&topic);
    zmsg_destroy (&msg);
    return event;
}

static void
test_submit_observe_and_publish_after_commit (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{}");
    jobd_event_set (&submit->name, "etl");
    s_send (self, submit);
    msgpack_unpacked reply;
    assert_true (s_reply (self, &reply));
    char job[64], re[64];
    assert_true (jobd_map_string (&reply.data, "job", job, sizeof job));
    assert_true (jobd_map_string (&reply.data, "re", re, sizeof re));
    assert_string_equal (re, submit->id);
    msgpack_unpacked_destroy (&reply);
    jobd_event_destroy (&submit);

    jobd_event_t *transition = s_transition (self);
    assert_string_equal (transition->job, job);
    assert_int_equal (transition->state, JOBD_STATE_QUEUED);
    assert_int_equal (transition->from, JOBD_STATE_NONE);
    jobd_event_destroy (&transition);

    //  Three observations in a row: each published transition is already readable.
    jobd_state_t states[] = {JOBD_STATE_SUBMITTED, JOBD_STATE_RUNNING, JOBD_STATE_SUCCEEDED};
    for (size_t index = 0; index < 3; index++) {
        jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
        jobd_event_set (&observed->job, job);
        observed->state = states[index];
        s_send (self, observed);
        jobd_event_destroy (&observed);
    }
    for (size_t index = 0; index < 3; index++) {
        transition = s_transition (self);
        assert_int_equal (transition->state, states[index]);
        assert_int_equal (transition->seq, index + 2);
        jobd_job_t *record = NULL;
        assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
        assert_true (record->last_seq >= transition->seq);
        jobd_job_destroy (&record);
        jobd_event_destroy (&transition);
        assert_true (s_reply (self, &reply));
        msgpack_unpacked_destroy (&reply);
    }
    //  A repeat is not a transition: replied to as a duplicate, nothing published.
    jobd_event_t *again = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&again->job, job);
    again->state = JOBD_STATE_RUNNING;
    s_send (self, again);
    jobd_event_destroy (&again);
    assert_true (s_reply (self, &reply));
    char outcome[32];
    assert_true (jobd_map_string (&reply.data, "outcome", outcome, sizeof outcome));
    assert_string_equal (outcome, "backward");
    msgpack_unpacked_destroy (&reply);
    zsock_set_rcvtimeo (self->events, 0);
    zmsg_t *none = zmsg_recv (self->events);
    assert_null (none);
}

//  cancel.failed: refused from the admin endpoint (internal: plugins only); from a plugin, it is
//  recorded on the job and then published on "cancel.failed.<job>".
static void
test_cancel_failed_is_recorded_then_published (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    zsock_set_subscribe (self->events, "cancel.failed.");
    jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&track->kind, "spark");
    jobd_event_set (&track->backend, "yarn");
    jobd_event_set (&track->ext, "application_1_0001");
    s_send (self, track);
    jobd_event_destroy (&track);
    msgpack_unpacked reply;
    assert_true (s_reply (self, &reply));
    char job[64];
    assert_true (jobd_map_string (&reply.data, "job", job, sizeof job));
    msgpack_unpacked_destroy (&reply);
    jobd_event_t *transition = s_transition (self);
    jobd_event_destroy (&transition);

    jobd_event_t *failed = jobd_event_new (JOBD_EVENT_CANCEL_FAILED);
    jobd_event_set (&failed->job, job);
    jobd_event_set (&failed->status, "refused");
    jobd_event_set (&failed->error, "HTTP 403: Unable to obtain user name");
    s_send (self, failed);
    assert_false (s_reply (self, &reply));
    char reason[256];
    assert_true (jobd_map_string (&reply.data, "reason", reason, sizeof reason));
    assert_non_null (strstr (reason, "cancel.failed events come only from plugins"));
    msgpack_unpacked_destroy (&reply);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_null (record->cancel_status);
    jobd_job_destroy (&record);

    zsock_t *plugin = zsock_new_dealer (">" JOBD_BUS_ENDPOINT);
    failed->reply = true;
    assert_int_equal (jobd_plugin_send (plugin, failed), 0);
    zsock_set_rcvtimeo (plugin, 5000);
    zframe_t *frame = zframe_recv (plugin);
    assert_non_null (frame);
    zframe_destroy (&frame);
    zsock_set_rcvtimeo (self->events, 5000);
    zmsg_t *msg = zmsg_recv (self->events);
    assert_non_null (msg);
    char *topic = zmsg_popstr (msg);
    char expected[128];
    snprintf (expected, sizeof expected, "cancel.failed.%s", job);
    assert_string_equal (topic, expected);
    zstr_free (&topic);
    zframe_t *payload = zmsg_first (msg);
    jobd_event_t *published = NULL;
    assert_int_equal (
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &published, NULL, 0), 0);
    assert_int_equal (published->type, JOBD_EVENT_CANCEL_FAILED);
    assert_string_equal (published->error, failed->error);
    //  Published after its commit: the record already says so.
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_string_equal (record->cancel_status, "refused");
    assert_string_equal (record->cancel_error, failed->error);
    jobd_job_destroy (&record);
    jobd_event_destroy (&published);
    zmsg_destroy (&msg);
    jobd_event_destroy (&failed);
    zsock_destroy (&plugin);
}

static void
test_bad_input_is_answered_and_counted (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    static const struct {
        const char *bytes;
        size_t size;
        const char *error;
    } cases[] = {{"\xc1", 1, "EPROTO"},
                 {"\x93\x01\x02", 3, "EPROTO"},
                 {"\x80\x80", 2, "EPROTO"},
                 {"\x81\xa4type\xa6submit", 13, "EPROTO"}};
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        zframe_t *frame = zframe_new (cases[index].bytes, cases[index].size);
        zframe_send (&frame, self->admin, 0);
        msgpack_unpacked reply;
        assert_false (s_reply (self, &reply));
        char error[32], reason[256];
        assert_true (jobd_map_string (&reply.data, "error", error, sizeof error));
        assert_string_equal (error, cases[index].error);
        assert_true (jobd_map_string (&reply.data, "reason", reason, sizeof reason));
        assert_true (strlen (reason) > 0);
        msgpack_unpacked_destroy (&reply);
    }
    //  Unknown job; cancel of a job that does not exist.
    jobd_event_t *cancel = jobd_event_new (JOBD_EVENT_CANCEL);
    jobd_event_set (&cancel->job, "job-404");
    s_send (self, cancel);
    jobd_event_destroy (&cancel);
    msgpack_unpacked reply;
    assert_false (s_reply (self, &reply));
    msgpack_unpacked_destroy (&reply);

    //  stats counts them.
    static const char query[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1q\xa1q\xa5stats";
    zframe_t *frame = zframe_new (query, sizeof query - 1);
    zframe_send (&frame, self->admin, 0);
    assert_true (s_reply (self, &reply));
    const msgpack_object *broker = jobd_map_lookup (&reply.data, "broker");
    const msgpack_object *rejected = jobd_map_lookup (broker, "rejected");
    assert_non_null (rejected);
    assert_int_equal (rejected->via.u64, 5);
    msgpack_unpacked_destroy (&reply);
}

//  The plugin table's entry for name: field into buffer ("" when absent).
static void
s_plugin_field (s_fixture_t *self, const char *name, const char *field, char *buffer, size_t size)
{
    msgpack_unpacked reply;
    s_ask_plugins (self, &reply);
    const msgpack_object *plugins = jobd_map_lookup (&reply.data, "plugins");
    *buffer = 0;
    for (uint32_t index = 0; plugins && index < plugins->via.array.size; index++) {
        char found[64];
        if (jobd_map_string (&plugins->via.array.ptr[index], "name", found, sizeof found) &&
            strcmp (found, name) == 0 &&
            !jobd_map_string (&plugins->via.array.ptr[index], field, buffer, size))
            *buffer = 0;
    }
    msgpack_unpacked_destroy (&reply);
}

//  The loader registers a plugin it started; a plugin.status the plugin sent first stands.
static void
test_plugin_status_is_not_overwritten_by_registration (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_event_t *status = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&status->name, "early");
    jobd_event_set (&status->status, "degraded");
    jobd_event_set (&status->detail, "its own words");
    jobd_event_set (&status->source, "early");
    assert_int_equal (jobd_plugin_send (self->bus, status), 0);
    jobd_event_destroy (&status);
    char value[128];
    //  The bus and the admin socket are read in turns: wait until the status is in.
    int64_t deadline = zclock_mono () + 5000;
    do
        s_plugin_field (self, "early", "status", value, sizeof value);
    while (strcmp (value, "degraded") != 0 && zclock_mono () < deadline);
    assert_string_equal (value, "degraded");
    jobd_broker_plugin (self->broker, "early", "1.2.3", "running", "the description");
    jobd_broker_plugin (self->broker, "late", "0.1", "running", "the description");
    //  The registration comes by another socket: wait until it is in.
    deadline = zclock_mono () + 5000;
    do
        s_plugin_field (self, "late", "version", value, sizeof value);
    while (strcmp (value, "0.1") != 0 && zclock_mono () < deadline);
    s_plugin_field (self, "early", "version", value, sizeof value);
    assert_string_equal (value, "1.2.3");
    s_plugin_field (self, "early", "status", value, sizeof value);
    assert_string_equal (value, "degraded");
    s_plugin_field (self, "early", "detail", value, sizeof value);
    assert_string_equal (value, "its own words");
    s_plugin_field (self, "late", "status", value, sizeof value);
    assert_string_equal (value, "running");
    s_plugin_field (self, "late", "detail", value, sizeof value);
    assert_string_equal (value, "the description");
}

static uint64_t s_counter (s_fixture_t *self, const char *name);

//  How many figures the plugins answer shows for name (-1: none).
static int
s_plugin_figures (s_fixture_t *self, const char *name)
{
    msgpack_unpacked reply;
    s_ask_plugins (self, &reply);
    const msgpack_object *plugins = jobd_map_lookup (&reply.data, "plugins");
    int count = -1;
    for (uint32_t index = 0; plugins && index < plugins->via.array.size; index++) {
        char found[64];
        const msgpack_object *figures = jobd_map_lookup (&plugins->via.array.ptr[index], "figures");
        if (jobd_map_string (&plugins->via.array.ptr[index], "name", found, sizeof found) &&
            strcmp (found, name) == 0 && figures && figures->type == MSGPACK_OBJECT_ARRAY)
            count = (int)figures->via.array.size;
    }
    msgpack_unpacked_destroy (&reply);
    return count;
}

static void
s_send_figures (s_fixture_t *self, const uint8_t *figures, size_t size, const char *detail)
{
    jobd_event_t *status = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&status->name, "fig");
    jobd_event_set (&status->source, "fig");
    jobd_event_set (&status->status, "running");
    jobd_event_set (&status->detail, detail);
    if (figures) {
        status->figures.data = (uint8_t *)malloc (size);
        memcpy (status->figures.data, figures, size);
        status->figures.size = size;
    }
    assert_int_equal (jobd_plugin_send (self->bus, status), 0);
    jobd_event_destroy (&status);
}

//  A plugin's figures are kept beside its status and answered in plugins; its next status
//  replaces them (none: none); bad figures refuse the status (counted), the kept ones stand.
static void
test_plugin_figures_are_kept_and_answered (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    //  [["up", 1], ["polls_total", 7, {"backend": "livy"}]]
    static const uint8_t two[] = {0x92, 0x92, 0xa2, 'u',  'p', 0x01, 0x93, 0xab, 'p',
                                  'o',  'l',  'l',  's',  '_', 't',  'o',  't',  'a',
                                  'l',  0x07, 0x81, 0xa7, 'b', 'a',  'c',  'k',  'e',
                                  'n',  'd',  0xa4, 'l',  'i', 'v',  'y'};
    s_send_figures (self, two, sizeof two, "first");
    int64_t deadline = zclock_mono () + 5000;
    while (s_plugin_figures (self, "fig") != 2 && zclock_mono () < deadline)
        ;
    assert_int_equal (s_plugin_figures (self, "fig"), 2);
    //  A status whose figures break a rule ("Up" is not a name) is refused whole.
    uint64_t rejected = s_counter (self, "rejected");
    jobd_event_t *status = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&status->name, "fig");
    jobd_event_set (&status->source, "fig");
    jobd_event_set (&status->status, "degraded");
    status->figures.data = (uint8_t *)malloc (sizeof two);
    memcpy (status->figures.data, two, sizeof two);
    status->figures.size = sizeof two;
    uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal (jobd_event_encode (status, &data, &size, NULL, 0), 0);
    jobd_event_destroy (&status);
    uint8_t *name = (uint8_t *)memmem (data, size, "\xa2up", 3);
    assert_non_null (name);
    name[1] = 'U';
    zframe_t *frame = zframe_new (data, size);
    zframe_send (&frame, self->bus, 0);
    free (data);
    deadline = zclock_mono () + 5000;
    while (s_counter (self, "rejected") == rejected && zclock_mono () < deadline)
        ;
    assert_int_equal (s_counter (self, "rejected"), rejected + 1);
    char value[64];
    s_plugin_field (self, "fig", "status", value, sizeof value);
    assert_string_equal (value, "running");
    assert_int_equal (s_plugin_figures (self, "fig"), 2);
    //  The next status without figures: none kept.
    s_send_figures (self, NULL, 0, "second");
    deadline = zclock_mono () + 5000;
    while (s_plugin_figures (self, "fig") != -1 && zclock_mono () < deadline)
        ;
    assert_int_equal (s_plugin_figures (self, "fig"), -1);
    s_plugin_field (self, "fig", "detail", value, sizeof value);
    assert_string_equal (value, "second");
}

//  Sends a batch of count observations of ext (RUNNING, then SUCCEEDED, then duplicates), with
//  a submit and a non-map at bad_at (when below count).
static void
s_send_batch (s_fixture_t *self, const char *batch_id, const char *ext, size_t count, size_t bad_at)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    assert_int_equal (jobd_event_pack_batch (&pk, batch_id, "test", count), 0);
    for (size_t index = 0; index < count; index++) {
        if (index == bad_at) {
            msgpack_pack_int (&pk, 7);
            continue;
        }
        jobd_event_t *event =
            jobd_event_new (index == bad_at + 1 ? JOBD_EVENT_SUBMIT : JOBD_EVENT_OBSERVED);
        jobd_event_set (&event->source, "test");
        jobd_event_set (&event->backend, "kafka");
        jobd_event_set (&event->ext, ext);
        jobd_event_set (&event->kind, "kafka");
        event->create = true;
        event->state = index == 0 ? JOBD_STATE_RUNNING : JOBD_STATE_SUCCEEDED;
        event->reply = true;
        char id[32];
        snprintf (id, sizeof id, "%s-%zu", batch_id, index);
        jobd_event_set (&event->id, id);
        assert_int_equal (jobd_event_pack (event, &pk), 0);
        jobd_event_destroy (&event);
    }
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    assert_int_equal (zframe_send (&frame, self->admin, 0), 0);
    msgpack_sbuffer_destroy (&buffer);
}

static void
test_batch_is_applied_and_answered_once_in_order (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    //  More observations than batch_max (64): a batch is applied whole, in one commit.
    s_send_batch (self, "batch-1", "b-1", 100, 2);
    msgpack_unpacked reply;
    assert_true (s_reply (self, &reply));
    char re[64];
    assert_true (jobd_map_string (&reply.data, "re", re, sizeof re));
    assert_string_equal (re, "batch-1");
    const msgpack_object *replies = jobd_map_lookup (&reply.data, "replies");
    assert_non_null (replies);
    assert_int_equal (replies->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal (replies->via.array.size, 100);
    for (size_t index = 0; index < 100; index++) {
        const msgpack_object *one = &replies->via.array.ptr[index];
        char expected[32], outcome[32] = "", error[32] = "";
        snprintf (expected, sizeof expected, "batch-1-%zu", index);
        assert_true (jobd_map_string (one, "re", re, sizeof re));
        //  The non-map has no id to name; every other reply names its observation.
        assert_string_equal (re, index == 2 ? "" : expected);
        const msgpack_object *ok = jobd_map_lookup (one, "ok");
        assert_non_null (ok);
        assert_int_equal (ok->via.boolean, index != 2 && index != 3);
        jobd_map_string (one, "outcome", outcome, sizeof outcome);
        jobd_map_string (one, "error", error, sizeof error);
        if (index == 2 || index == 3)
            assert_string_equal (error, "EPROTO");
        else
            assert_string_equal (outcome, index < 2 ? "changed" : "duplicate");
    }
    msgpack_unpacked_destroy (&reply);
    //  Published after the commit, in order: the job's two transitions.
    jobd_event_t *running = s_transition (self);
    jobd_event_t *succeeded = s_transition (self);
    assert_int_equal (running->state, JOBD_STATE_RUNNING);
    assert_int_equal (succeeded->state, JOBD_STATE_SUCCEEDED);
    assert_int_equal (succeeded->seq, 2);
    jobd_event_destroy (&running);
    jobd_event_destroy (&succeeded);

    //  A batch that is bad as a whole is answered with its id and the reason.
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    assert_int_equal (jobd_event_pack_batch (&pk, "batch-2", "test", 0), 0);
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    assert_int_equal (zframe_send (&frame, self->admin, 0), 0);
    msgpack_sbuffer_destroy (&buffer);
    assert_false (s_reply (self, &reply));
    assert_true (jobd_map_string (&reply.data, "re", re, sizeof re));
    assert_string_equal (re, "batch-2");
    msgpack_unpacked_destroy (&reply);
}

//  src "deadline" is jobd's own (its deadline actions, which do not count as the job's source
//  confirming it): refused from a sender, alone or in a batch, and nothing is stored.
static void
test_deadline_source_is_reserved (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&observed->id, "forged-1");
    jobd_event_set (&observed->source, "deadline");
    jobd_event_set (&observed->backend, "kafka");
    jobd_event_set (&observed->ext, "d-1");
    jobd_event_set (&observed->kind, "kafka");
    observed->create = true;
    observed->state = JOBD_STATE_RUNNING;
    assert_int_equal (jobd_plugin_send (self->admin, observed), 0);
    msgpack_unpacked reply;
    assert_false (s_reply (self, &reply));
    char error[32], reason[256];
    assert_true (jobd_map_string (&reply.data, "error", error, sizeof error));
    assert_string_equal (error, "EPROTO");
    assert_true (jobd_map_string (&reply.data, "reason", reason, sizeof reason));
    assert_non_null (strstr (reason, "src 'deadline' is jobd's own"));
    msgpack_unpacked_destroy (&reply);

    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    assert_int_equal (jobd_event_pack_batch (&pk, "batch-d", "test", 1), 0);
    jobd_event_set (&observed->id, "forged-2");
    assert_int_equal (jobd_event_pack (observed, &pk), 0);
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    assert_int_equal (zframe_send (&frame, self->admin, 0), 0);
    msgpack_sbuffer_destroy (&buffer);
    assert_true (s_reply (self, &reply));
    const msgpack_object *replies = jobd_map_lookup (&reply.data, "replies");
    assert_non_null (replies);
    assert_int_equal (replies->via.array.size, 1);
    assert_true (jobd_map_string (&replies->via.array.ptr[0], "error", error, sizeof error));
    assert_string_equal (error, "EPROTO");
    msgpack_unpacked_destroy (&reply);
    jobd_event_destroy (&observed);
    char *id = NULL;
    assert_int_equal (jobd_store_job_find (self->store, "kafka", "d-1", &id), JOBD_ENOTFOUND);
}

static void
test_stop_applies_what_was_received (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    //  Many events sent, then the broker is stopped at once: all of them are stored.
    for (int index = 0; index < 500; index++) {
        jobd_event_t *track = jobd_event_new (JOBD_EVENT_TRACK);
        char ext[32];
        snprintf (ext, sizeof ext, "ext-%d", index);
        jobd_event_set (&track->kind, "spark");
        jobd_event_set (&track->backend, "b");
        jobd_event_set (&track->ext, ext);
        s_send (self, track);
        jobd_event_destroy (&track);
    }
    //  No waiting for replies: $TERM arrives while events are still queued, and the broker
    //  applies, commits and publishes them before it stops.
    jobd_broker_destroy (&self->broker);
    uint64_t counts[JOBD_STATE_COUNT];
    assert_int_equal (jobd_store_counts (self->store, counts), 0);
    assert_int_equal (counts[JOBD_STATE_SUBMITTED], 500);
}

//  Sends raw frames from the admin DEALER (the ROUTER adds the identity).
static void
s_send_frames (s_fixture_t *self, size_t count, const char *payload)
{
    for (size_t index = 0; index < count; index++) {
        const char *data = index + 1 == count ? payload : "x";
        assert_int_equal (zmq_send (zsock_resolve (self->admin), data, strlen (data),
                                    index + 1 < count ? ZMQ_SNDMORE : 0),
                          (int)strlen (data));
    }
}

//  The broker's counter name, from a stats query.
static uint64_t
s_counter (s_fixture_t *self, const char *name)
{
    static const char query[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1q\xa1q\xa5stats";
    zframe_t *frame = zframe_new (query, sizeof query - 1);
    zframe_send (&frame, self->admin, 0);
    msgpack_unpacked reply;
    assert_true (s_reply (self, &reply));
    const msgpack_object *value = jobd_map_lookup (jobd_map_lookup (&reply.data, "broker"), name);
    assert_non_null (value);
    uint64_t number = value->via.u64;
    msgpack_unpacked_destroy (&reply);
    return number;
}

//  Messages of 2, 4 and 9 frames (3, 5, 10 with the identity) are refused with a reason; the
//  broker kept only the frames it has room for (a 4-frame message read past its array: ASan).
static void
test_many_frames_are_refused (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    static const char stats[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1q\xa1q\xa5stats";
    size_t counts[] = {2, 4, 9};
    for (size_t index = 0; index < 3; index++) {
        s_send_frames (self, counts[index], stats);
        msgpack_unpacked reply;
        assert_false (s_reply (self, &reply));
        char error[32], reason[256], expected[64];
        assert_true (jobd_map_string (&reply.data, "error", error, sizeof error));
        assert_string_equal (error, "EPROTO");
        assert_true (jobd_map_string (&reply.data, "reason", reason, sizeof reason));
        snprintf (expected, sizeof expected, "expected one frame, got %zu", counts[index]);
        assert_string_equal (reason, expected);
        msgpack_unpacked_destroy (&reply);
    }
    assert_int_equal (s_counter (self, "rejected"), 3);
}

//  Sends an event of an internal type from the admin endpoint; expects it refused.
static void
s_forge (s_fixture_t *self, jobd_event_t *event)
{
    s_send (self, event);
    msgpack_unpacked reply;
    assert_false (s_reply (self, &reply));
    char error[32], reason[256], re[64];
    assert_true (jobd_map_string (&reply.data, "error", error, sizeof error));
    assert_string_equal (error, "EPROTO");
    assert_true (jobd_map_string (&reply.data, "re", re, sizeof re));
    assert_string_equal (re, event->id);
    assert_true (jobd_map_string (&reply.data, "reason", reason, sizeof reason));
    assert_non_null (strstr (reason, "come only from plugins"));
    msgpack_unpacked_destroy (&reply);
    jobd_event_destroy (&event);
}

//  plugin.status, stale, transition and cursor from outside: refused and counted, nothing
//  published, no plugin entry, no cursor in the store.
static void
test_admin_refuses_internal_events (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    zsock_t *all = zsock_new_sub (">inproc://test-events", "");
    char *welcome = zstr_recv (all);
    assert_string_equal (welcome, JOBD_WELCOME_TOPIC);
    zstr_free (&welcome);

    jobd_event_t *status = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&status->name, "kafka-listener");
    jobd_event_set (&status->status, "failed");
    jobd_event_set (&status->detail, "forged");
    s_forge (self, status);
    jobd_event_t *stale = jobd_event_new (JOBD_EVENT_STALE);
    jobd_event_set (&stale->job, "job-1");
    stale->state = JOBD_STATE_RUNNING;
    s_forge (self, stale);
    jobd_event_t *transition = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&transition->job, "job-1");
    transition->state = JOBD_STATE_FAILED;
    transition->from = JOBD_STATE_RUNNING;
    transition->seq = 3;
    s_forge (self, transition);
    jobd_event_t *cursor = jobd_event_new (JOBD_EVENT_CURSOR);
    jobd_event_set (&cursor->name, "stray");
    s_forge (self, cursor);

    assert_int_equal (s_counter (self, "internal_refused"), 4);
    assert_int_equal (s_counter (self, "rejected"), 4);
    char value[64];
    s_plugin_field (self, "kafka-listener", "status", value, sizeof value);
    assert_string_equal (value, "");
    uint64_t position = 7, head = 7;
    assert_int_equal (jobd_store_cursor_get (self->store, "stray", &position, &head),
                      JOBD_ENOTFOUND);
    //  Nothing was published: the next message is the transition of a real submit.
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{}");
    s_send (self, submit);
    jobd_event_destroy (&submit);
    msgpack_unpacked reply;
    assert_true (s_reply (self, &reply));
    msgpack_unpacked_destroy (&reply);
    zsock_set_rcvtimeo (all, 5000);
    char *topic = zstr_recv (all);
    assert_non_null (topic);
    assert_string_equal (topic, "job.QUEUED.job-1");
    zstr_free (&topic);
    zsock_destroy (&all);
}

//  The plugin table holds loaded plugins: a plugin sending statuses under ever new names
//  cannot grow it past its bound.
static void
test_plugin_table_is_bounded (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    for (int index = 0; index < 300; index++) {
        jobd_event_t *status = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
        char name[32];
        snprintf (name, sizeof name, "plugin-%03d", index);
        jobd_event_set (&status->name, name);
        jobd_event_set (&status->source, name);
        jobd_event_set (&status->status, "running");
        assert_int_equal (jobd_plugin_send (self->bus, status), 0);
        jobd_event_destroy (&status);
    }
    //  The bus is read in order: once the last status is refused, all were handled.
    int64_t deadline = zclock_mono () + 5000;
    while (s_counter (self, "rejected") < 300 - 256 && zclock_mono () < deadline)
        ;
    assert_int_equal (s_counter (self, "rejected"), 300 - 256);
    char value[64];
    s_plugin_field (self, "plugin-255", "status", value, sizeof value);
    assert_string_equal (value, "running");
    s_plugin_field (self, "plugin-256", "status", value, sizeof value);
    assert_string_equal (value, "");
}

//  Fills the store with count submitted jobs, behind the broker's back (it is idle).
static void
s_fill (s_fixture_t *self, int count)
{
    assert_int_equal (jobd_store_begin (self->store), 0);
    for (int index = 0; index < count; index++) {
        jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
        jobd_event_set (&submit->source, "test");
        jobd_event_set (&submit->kind, "spark");
        jobd_event_set (&submit->spec, "{}");
        jobd_apply_result_t result;
        assert_int_equal (jobd_store_apply (self->store, submit, &result), 0);
        jobd_apply_result_clear (&result);
        jobd_event_destroy (&submit);
    }
    assert_int_equal (jobd_store_commit (self->store), 0);
}

//  An ls that matches nothing walks every job: {"v":1,"type":"query","id":"ls","q":"ls",
//  "name":"no such name"}
static const char s_slow_ls[] =
    "\x85\xa1v\x01\xa4type\xa5query\xa2id\xa2ls\xa1q\xa2ls\xa4name\xacno such name";

//  Queries that read the store are answered off the broker's thread: a client's slow ones do not
//  hold up another client's submit, and one client cannot have more than 4 waiting.
static void
test_queries_do_not_hold_up_commits (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    s_fill (self, 20000);
    zsock_t *other = zsock_new_dealer (">inproc://test-admin");
    for (int index = 0; index < 6; index++) {
        zframe_t *frame = zframe_new (s_slow_ls, sizeof s_slow_ls - 1);
        zframe_send (&frame, self->admin, 0);
    }
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "other");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{}");
    assert_int_equal (jobd_plugin_send (other, submit), 0);
    jobd_event_destroy (&submit);
    zsock_set_rcvtimeo (other, 10000);
    zframe_t *frame = zframe_recv (other);
    assert_non_null (frame);
    zframe_destroy (&frame);
    //  The submit was answered while the scans were still going: not all 4 answers are in.
    //  All six come back: 4 answers and 2 refusals (EBUSY: 4 of this client's wait already).
    size_t answers = 0, busy = 0;
    bool draining = true; //  what was already there when the submit's reply came
    while (answers + busy < 6) {
        zsock_set_rcvtimeo (self->admin, draining ? 0 : 10000);
        frame = zframe_recv (self->admin);
        if (!frame) {
            assert_true (draining);
            assert_true (answers < 4);
            draining = false;
            continue;
        }
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        assert_int_equal (
            jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), &reply, NULL, 0), 0);
        zframe_destroy (&frame);
        char error[32] = "";
        if (jobd_map_string (&reply.data, "error", error, sizeof error)) {
            assert_string_equal (error, "EBUSY");
            busy++;
        } else
            answers++;
        msgpack_unpacked_destroy (&reply);
    }
    assert_false (draining);
    assert_int_equal (busy, 2);
    zsock_destroy (&other);
}

//  Sends a query (msgpack bytes) and returns its reply (ok or not) in reply.
static void
s_query (s_fixture_t *self, const char *bytes, size_t size, msgpack_unpacked *reply)
{
    zframe_t *frame = zframe_new (bytes, size);
    zframe_send (&frame, self->admin, 0);
    s_reply (self, reply);
}

//  An answer holds at most 10,000 jobs and the last 1,000 transitions of a job.
static void
test_answers_are_bounded (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    s_fill (self, 10050);
    //  {"v":1,"type":"query","id":"ls","q":"ls","limit":100000}
    static const char ls[] =
        "\x85\xa1v\x01\xa4type\xa5query\xa2id\xa2ls\xa1q\xa2ls\xa5limit\xce\x00\x01\x86\xa0";
    msgpack_unpacked reply;
    s_query (self, ls, sizeof ls - 1, &reply);
    const msgpack_object *jobs = jobd_map_lookup (&reply.data, "jobs");
    assert_non_null (jobs);
    assert_int_equal (jobs->via.array.size, 10000);
    const msgpack_object *truncated = jobd_map_lookup (&reply.data, "truncated");
    assert_true (truncated && truncated->via.boolean);
    msgpack_unpacked_destroy (&reply);
    //  job-1 goes SUBMITTED, then RUNNING and UNKNOWN in turn: 1,101 transitions.
    assert_int_equal (jobd_store_begin (self->store), 0);
    for (int index = 0; index < 1100; index++) {
        jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
        jobd_event_set (&observed->source, "test");
        jobd_event_set (&observed->job, "job-1");
        observed->state = index == 0  ? JOBD_STATE_SUBMITTED
                          : index % 2 ? JOBD_STATE_RUNNING
                                      : JOBD_STATE_UNKNOWN;
        jobd_apply_result_t result;
        assert_int_equal (jobd_store_apply (self->store, observed, &result), 0);
        assert_int_equal (result.transition_count, 1);
        jobd_apply_result_clear (&result);
        jobd_event_destroy (&observed);
    }
    assert_int_equal (jobd_store_commit (self->store), 0);
    //  {"v":1,"type":"query","id":"s","q":"show","job":"job-1"}
    static const char show[] =
        "\x85\xa1v\x01\xa4type\xa5query\xa2id\xa1s\xa1q\xa4show\xa3job\xa5job-1";
    s_query (self, show, sizeof show - 1, &reply);
    const msgpack_object *history = jobd_map_lookup (&reply.data, "history");
    assert_non_null (history);
    assert_int_equal (history->via.array.size, 1000);
    const msgpack_object *skipped = jobd_map_lookup (&reply.data, "history_skipped");
    assert_non_null (skipped);
    assert_int_equal (skipped->via.u64, 101);
    msgpack_unpacked_destroy (&reply);
}

//  The broker again, with a deadline policy: stops the fixture's broker (its sockets first) and
//  starts one with deadline on the same store and endpoints, subscribed to jobs and stale.
static void
s_restart_with (s_fixture_t *self, jobd_deadline_t *deadline)
{
    zsock_destroy (&self->admin);
    zsock_destroy (&self->bus);
    zsock_destroy (&self->events);
    jobd_broker_destroy (&self->broker);
    jobd_broker_options_t options = {.admin_endpoint = "inproc://test-admin",
                                     .events_endpoint = "inproc://test-events",
                                     .batch_max = 64,
                                     .deadline = deadline};
    char reason[256];
    assert_int_equal (
        jobd_broker_start (self->store, &options, &self->broker, reason, sizeof reason), 0);
    self->admin = zsock_new_dealer (">inproc://test-admin");
    self->bus = zsock_new_dealer (">" JOBD_BUS_ENDPOINT);
    self->events = zsock_new_sub (">inproc://test-events", "job.");
    zsock_set_subscribe (self->events, "stale.");
    zsock_set_subscribe (self->events, JOBD_WELCOME_TOPIC);
    char *welcome = zstr_recv (self->events);
    assert_string_equal (welcome, JOBD_WELCOME_TOPIC);
    zstr_free (&welcome);
}

//  The next message on the events socket (with a deadline): its topic into topic, its event.
static jobd_event_t *
s_next_event (s_fixture_t *self, char *topic, size_t size)
{
    zsock_set_rcvtimeo (self->events, 5000);
    zmsg_t *msg = zmsg_recv (self->events);
    assert_non_null (msg);
    char *head = zmsg_popstr (msg);
    snprintf (topic, size, "%s", head);
    zstr_free (&head);
    zframe_t *payload = zmsg_first (msg);
    jobd_event_t *event = NULL;
    assert_int_equal (
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0), 0);
    zmsg_destroy (&msg);
    return event;
}

static void
s_submit (s_fixture_t *self, const char *spec, char *job, size_t size)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, spec);
    s_send (self, submit);
    jobd_event_destroy (&submit);
    msgpack_unpacked reply;
    assert_true (s_reply (self, &reply));
    assert_true (jobd_map_string (&reply.data, "job", job, size));
    msgpack_unpacked_destroy (&reply);
}

//  A QUEUED job past its deadline: published stale once, with the reason, flagged on its record
//  and counted; after the grace, its action (cancel) applies through the state machine. A job
//  whose spec sets no deadline for its state... and one that moves on in time, never fires.
static void
test_deadline_fires_stale_once_then_action (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    jobd_deadline_t *deadline = NULL;
    char reason[256];
    assert_int_equal (jobd_deadline_new (NULL, &deadline, reason, sizeof reason), 0);
    jobd_deadline_set (deadline, JOBD_STATE_QUEUED, 200, "cancel", 1500);
    s_restart_with (self, deadline);
    char late[64], moved[64], topic[128];
    s_submit (self, "{}", late, sizeof late);
    //  This one's spec gives QUEUED a day: it never fires here.
    s_submit (self, "{\"deadlines\":{\"queued\":\"24h\"}}", moved, sizeof moved);
    for (int index = 0; index < 2; index++) {
        jobd_event_t *queued = s_next_event (self, topic, sizeof topic);
        assert_int_equal (queued->state, JOBD_STATE_QUEUED);
        jobd_event_destroy (&queued);
    }
    jobd_event_t *stale = s_next_event (self, topic, sizeof topic);
    char expected[128];
    snprintf (expected, sizeof expected, "stale.%s", late);
    assert_string_equal (topic, expected);
    assert_int_equal (stale->type, JOBD_EVENT_STALE);
    assert_int_equal (stale->state, JOBD_STATE_QUEUED);
    assert_non_null (strstr (stale->error, "QUEUED for more than 200ms"));
    assert_non_null (strstr (stale->error, "action cancel"));
    jobd_event_destroy (&stale);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (self->store, late, &job), 0);
    assert_non_null (job->stale);
    jobd_job_destroy (&job);
    assert_int_equal (s_counter (self, "stale_published"), 1);
    assert_int_equal (s_counter (self, "stale"), 1);
    //  The grace is over: the cancel applies; the next message is its transition, not a second
    //  stale.
    jobd_event_t *cancelled = s_next_event (self, topic, sizeof topic);
    assert_int_equal (cancelled->type, JOBD_EVENT_TRANSITION);
    assert_string_equal (cancelled->job, late);
    assert_int_equal (cancelled->state, JOBD_STATE_CANCELLED);
    assert_string_equal (cancelled->source, "deadline");
    jobd_event_destroy (&cancelled);
    assert_int_equal (jobd_store_job_get (self->store, late, &job), 0);
    assert_null (job->stale); //  the transition cleared it
    jobd_job_destroy (&job);
    assert_int_equal (s_counter (self, "stale"), 0);
    assert_int_equal (s_counter (self, "stale_published"), 1);
    jobd_store_timer_t timers[4];
    size_t count = 9;
    assert_int_equal (jobd_store_timer_list (self->store, late, timers, 4, &count), 0);
    assert_int_equal (count, 0);
    assert_int_equal (jobd_store_timer_list (self->store, moved, timers, 4, &count), 0);
    assert_int_equal (count, 1);
    jobd_broker_destroy (&self->broker);
    jobd_deadline_destroy (&deadline);
}

//  A deadline that fell due while no broker ran (armed in a commit, then nobody to fire it)
//  fires at the first turn of the next broker.
static void
test_deadline_due_while_down_fires_at_start (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    zsock_destroy (&self->admin);
    zsock_destroy (&self->bus);
    zsock_destroy (&self->events);
    jobd_broker_destroy (&self->broker);
    jobd_deadline_t *deadline = NULL;
    assert_int_equal (jobd_deadline_new (NULL, &deadline, NULL, 0), 0);
    jobd_deadline_set (deadline, JOBD_STATE_QUEUED, 1, NULL, -1);
    //  The commit that stores the job arms its deadline, due 1 ms later: long past when the
    //  broker starts.
    jobd_store_set_arm_fn (self->store, jobd_deadline_arm, deadline);
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->spec, "{}");
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, submit, &result), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    jobd_store_set_arm_fn (self->store, NULL, NULL);
    jobd_event_destroy (&submit);
    jobd_apply_result_clear (&result);
    jobd_deadline_set (deadline, JOBD_STATE_QUEUED, 0, NULL, -1); //  no new ones
    assert_true (jobd_store_timer_next (self->store) > 0);
    s_restart_with (self, deadline);
    //  Fired before the subscriber could hear it: the record says so, within the deadline.
    jobd_job_t *job = NULL;
    int64_t until = zclock_mono () + 5000;
    while (zclock_mono () < until) {
        assert_int_equal (jobd_store_job_get (self->store, result.job, &job), 0);
        bool flagged = job->stale != NULL;
        jobd_job_destroy (&job);
        if (flagged)
            break;
        zclock_sleep (10);
    }
    assert_int_equal (jobd_store_job_get (self->store, result.job, &job), 0);
    assert_non_null (job->stale);
    assert_non_null (strstr (job->stale, "QUEUED for more than 1ms"));
    jobd_job_destroy (&job);
    assert_int_equal (s_counter (self, "stale_published"), 1);
    assert_int_equal (jobd_store_timer_next (self->store), 0);
    jobd_broker_destroy (&self->broker);
    jobd_deadline_destroy (&deadline);
}

//  ---------------------------------------------------------------------------------------------
//  Retries (issue 14).

//  Sends event (consumed) from the plugin side of the bus, asking for a reply; returns its ok.
static bool
s_plugin_send (s_fixture_t *self, jobd_event_t *event)
{
    jobd_event_set (&event->source, "retry");
    event->reply = true;
    assert_int_equal (jobd_plugin_send (self->bus, event), 0);
    jobd_event_destroy (&event);
    zsock_set_rcvtimeo (self->bus, 5000);
    zframe_t *frame = zframe_recv (self->bus);
    assert_non_null (frame);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (
        jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), &unpacked, NULL, 0), 0);
    zframe_destroy (&frame);
    const msgpack_object *ok = jobd_map_lookup (&unpacked.data, "ok");
    bool answer = ok && ok->via.boolean;
    msgpack_unpacked_destroy (&unpacked);
    return answer;
}

//  A job submitted and observed FAILED (attempt 1), its two transitions read; its id into job.
static void
s_failed_job (s_fixture_t *self, char *job, size_t size)
{
    s_submit (self, "{}", job, size);
    jobd_event_t *observed = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&observed->job, job);
    jobd_event_set (&observed->error, "lost executor 3");
    observed->state = JOBD_STATE_FAILED;
    s_send (self, observed);
    jobd_event_destroy (&observed);
    msgpack_unpacked reply;
    assert_true (s_reply (self, &reply));
    msgpack_unpacked_destroy (&reply);
    for (int index = 0; index < 2; index++) {
        jobd_event_t *transition = s_transition (self);
        jobd_event_destroy (&transition);
    }
}

static jobd_event_t *
s_retry_plan (const char *job, jobd_state_t state, int64_t due)
{
    jobd_event_t *plan = jobd_event_new (JOBD_EVENT_RETRY_PLAN);
    jobd_event_set (&plan->job, job);
    plan->attempt = 1;
    plan->state = state;
    plan->due = due;
    jobd_event_set (&plan->failure_class, "transient");
    jobd_event_set (&plan->policy, "default");
    if (state == JOBD_STATE_FAILED)
        jobd_event_set (&plan->error, "3 attempts made, the most the policy allows");
    return plan;
}

//  A plan from the retry plugin: RETRY_WAIT published at once, and when its timer falls due
//  (this broker has no deadline policy: retry timers fire all the same) QUEUED with attempt 2,
//  src retry, well within a second of due; counted.
static void
test_retry_timer_starts_the_next_attempt (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[64];
    s_failed_job (self, job, sizeof job);
    int64_t due = jobd_now_ms () + 300;
    assert_true (s_plugin_send (self, s_retry_plan (job, JOBD_STATE_RETRY_WAIT, due)));
    jobd_event_t *waiting = s_transition (self);
    assert_int_equal (waiting->state, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (waiting->due, due);
    assert_string_equal (waiting->failure_class, "transient");
    jobd_event_destroy (&waiting);
    jobd_event_t *queued = s_transition (self);
    assert_int_equal (queued->state, JOBD_STATE_QUEUED);
    assert_int_equal (queued->from, JOBD_STATE_RETRY_WAIT);
    assert_int_equal (queued->attempt, 2);
    assert_string_equal (queued->source, "retry");
    assert_true (queued->ts >= due);
    assert_true (queued->ts - due < 1000);
    jobd_event_destroy (&queued);
    //  Published after its commit: the record says so already.
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (record->state, JOBD_STATE_QUEUED);
    assert_int_equal (record->attempt, 2);
    jobd_job_destroy (&record);
    assert_int_equal (s_counter (self, "retry_planned"), 1);
    assert_int_equal (s_counter (self, "retry_fired"), 1);
    assert_int_equal (jobd_store_timer_next (self->store), 0);
}

//  A retry timer that fell due while no broker ran fires at the next broker's first turn.
static void
test_retry_due_while_down_fires_at_start (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[64];
    s_failed_job (self, job, sizeof job);
    zsock_destroy (&self->admin);
    zsock_destroy (&self->bus);
    zsock_destroy (&self->events);
    jobd_broker_destroy (&self->broker);
    jobd_event_t *plan = s_retry_plan (job, JOBD_STATE_RETRY_WAIT, jobd_now_ms () - 1000);
    jobd_event_set (&plan->source, "retry");
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, plan, &result), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&plan);
    s_restart_with (self, NULL);
    jobd_job_t *record = NULL;
    int64_t until = zclock_mono () + 5000;
    jobd_state_t seen = JOBD_STATE_NONE;
    while (seen != JOBD_STATE_QUEUED && zclock_mono () < until) {
        assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
        seen = record->state;
        jobd_job_destroy (&record);
        if (seen != JOBD_STATE_QUEUED)
            zclock_sleep (10);
    }
    assert_int_equal (seen, JOBD_STATE_QUEUED);
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (record->attempt, 2);
    jobd_job_destroy (&record);
    assert_int_equal (s_counter (self, "retry_fired"), 1);
    jobd_broker_destroy (&self->broker);
}

//  The plugin name's status as the broker's table has it, waited for (the loader's word comes by
//  the broker's pipe, read in its own turn).
static void
s_plugin_status_wait (s_fixture_t *self, const char *name, const char *status)
{
    char value[64] = "";
    int64_t until = zclock_mono () + 5000;
    do
        s_plugin_field (self, name, "status", value, sizeof value);
    while (strcmp (value, status) != 0 && zclock_mono () < until);
    assert_string_equal (value, status);
}

//  A plugin.status from name on the bus (answering ask when not NULL), with its reply waited for:
//  in the broker's table once this returns.
static void
s_status_from (s_fixture_t *self, const char *name, const char *detail, const char *ask)
{
    jobd_event_t *status = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&status->name, name);
    jobd_event_set (&status->status, "running");
    jobd_event_set (&status->detail, detail);
    jobd_event_set (&status->ask, ask);
    jobd_event_set (&status->source, name);
    status->reply = true;
    assert_int_equal (jobd_plugin_send (self->bus, status), 0);
    jobd_event_destroy (&status);
    zsock_set_rcvtimeo (self->bus, 5000);
    zframe_t *frame = zframe_recv (self->bus);
    assert_non_null (frame);
    zframe_destroy (&frame);
}

//  The next status.ask on the plugins' cmd.status (5 s at most): its id into id.
static void
s_next_ask (zsock_t *sub, char id[25])
{
    zsock_set_rcvtimeo (sub, 5000);
    zmsg_t *msg = zmsg_recv (sub);
    char *topic = msg ? zmsg_popstr (msg) : NULL;
    //  The plugins' statuses the test sends are published too: passed over.
    while (topic && strcmp (topic, JOBD_STATUS_ASK_TOPIC) != 0) {
        zstr_free (&topic);
        zmsg_destroy (&msg);
        msg = zmsg_recv (sub);
        topic = msg ? zmsg_popstr (msg) : NULL;
    }
    assert_non_null (topic);
    zstr_free (&topic);
    zframe_t *payload = zmsg_first (msg);
    jobd_event_t *event = NULL;
    assert_int_equal (
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0), 0);
    assert_int_equal (event->type, JOBD_EVENT_STATUS_ASK);
    snprintf (id, 25, "%s", event->id);
    jobd_event_destroy (&event);
    zmsg_destroy (&msg);
}

//  The detail of plugin name in a plugins answer.
static void
s_detail_in (msgpack_unpacked *reply, const char *name, char *detail, size_t size)
{
    const msgpack_object *plugins = jobd_map_lookup (&reply->data, "plugins");
    *detail = 0;
    for (uint32_t index = 0; plugins && index < plugins->via.array.size; index++) {
        char found[64];
        if (jobd_map_string (&plugins->via.array.ptr[index], "name", found, sizeof found) &&
            strcmp (found, name) == 0)
            jobd_map_string (&plugins->via.array.ptr[index], "detail", detail, size);
    }
}

//  `plugins` is answered with what the plugins say when asked: the broker publishes a status.ask
//  to the plugins and answers once each running one answered. One that lets an ask pass is
//  waited for JOBD_ASKS_WAIT_MS, then not at all until it answers one again.
static void
test_plugins_are_asked_for_their_status (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    //  The plugins' side has no welcome: the subscriptions are in place once a status of the
    //  plugin is received through them (they are taken in order).
    zsock_t *sub = zsock_new_sub (">" JOBD_EVENTS_ENDPOINT, JOBD_STATUS_ASK_TOPIC);
    zsock_set_subscribe (sub, "plugin.asked");
    zsock_set_rcvtimeo (sub, 100);
    zmsg_t *seen = NULL;
    for (int64_t until = zclock_mono () + 5000; !seen && zclock_mono () < until;) {
        s_status_from (self, "asked", "old", NULL);
        seen = zmsg_recv (sub);
    }
    assert_non_null (seen);
    zmsg_destroy (&seen);
    static const char query[] = "\x84\xa1v\x01\xa4type\xa5query\xa2id\xa1q\xa1q\xa7plugins";
    zframe_t *frame = zframe_new (query, sizeof query - 1);
    zframe_send (&frame, self->admin, 0);
    char ask[25];
    s_next_ask (sub, ask);
    s_status_from (self, "asked", "fresh", ask);
    msgpack_unpacked reply;
    assert_true (s_reply (self, &reply));
    char detail[64];
    s_detail_in (&reply, "asked", detail, sizeof detail);
    assert_string_equal (detail, "fresh");
    msgpack_unpacked_destroy (&reply);

    //  A second plugin that does not answer: the answer comes after the wait, with its last word.
    s_status_from (self, "mute", "as it was", NULL);
    frame = zframe_new (query, sizeof query - 1);
    int64_t asked_at = zclock_mono ();
    zframe_send (&frame, self->admin, 0);
    s_next_ask (sub, ask);
    s_status_from (self, "asked", "fresher", ask);
    assert_true (s_reply (self, &reply));
    assert_true (zclock_mono () - asked_at >= JOBD_ASKS_WAIT_MS - 10);
    s_detail_in (&reply, "mute", detail, sizeof detail);
    assert_string_equal (detail, "as it was");
    s_detail_in (&reply, "asked", detail, sizeof detail);
    assert_string_equal (detail, "fresher");
    msgpack_unpacked_destroy (&reply);
    //  It is no longer waited for: the answer comes as soon as the other answered.
    frame = zframe_new (query, sizeof query - 1);
    asked_at = zclock_mono ();
    zframe_send (&frame, self->admin, 0);
    s_next_ask (sub, ask);
    s_status_from (self, "asked", "freshest", ask);
    assert_true (s_reply (self, &reply));
    assert_true (zclock_mono () - asked_at < JOBD_ASKS_WAIT_MS);
    msgpack_unpacked_destroy (&reply);
    //  Once it answers an ask, it is waited for again.
    s_status_from (self, "mute", "back", ask);
    frame = zframe_new (query, sizeof query - 1);
    asked_at = zclock_mono ();
    zframe_send (&frame, self->admin, 0);
    s_next_ask (sub, ask);
    s_status_from (self, "asked", "again", ask);
    assert_true (s_reply (self, &reply));
    assert_true (zclock_mono () - asked_at >= JOBD_ASKS_WAIT_MS - 10);
    msgpack_unpacked_destroy (&reply);
    //  status.ask is the broker's: refused from a plugin.
    jobd_event_t *forged = jobd_event_new (JOBD_EVENT_STATUS_ASK);
    jobd_event_set (&forged->source, "asked");
    forged->reply = true;
    assert_int_equal (jobd_plugin_send (self->bus, forged), 0);
    jobd_event_destroy (&forged);
    frame = zframe_recv (self->bus);
    assert_non_null (frame);
    msgpack_unpacked_init (&reply);
    assert_int_equal (
        jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), &reply, NULL, 0), 0);
    zframe_destroy (&frame);
    assert_false (jobd_map_lookup (&reply.data, "ok")->via.boolean);
    msgpack_unpacked_destroy (&reply);
    zsock_destroy (&sub);
}

//  A plain retry while a plugin named retry runs: forwarded on cmd.retry (with the record's kind
//  and attempt), nothing stored; once it stopped, applied as `now`. A waiting job: ESTATE, and
//  the reply says what to do.
static void
test_plain_retry_is_forwarded_while_the_retry_plugin_runs (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    zsock_t *plugin = zsock_new_sub (">" JOBD_EVENTS_ENDPOINT, "cmd.retry");
    char job[64], waiting[64];
    s_failed_job (self, job, sizeof job);
    s_failed_job (self, waiting, sizeof waiting);
    jobd_broker_plugin (self->broker, "retry", "1.0", "running", NULL);
    s_plugin_status_wait (self, "retry", "running");
    jobd_event_t *retry = jobd_event_new (JOBD_EVENT_RETRY);
    jobd_event_set (&retry->job, job);
    s_send (self, retry);
    msgpack_unpacked reply;
    assert_true (s_reply (self, &reply));
    char outcome[32];
    assert_true (jobd_map_string (&reply.data, "outcome", outcome, sizeof outcome));
    assert_string_equal (outcome, "forwarded");
    msgpack_unpacked_destroy (&reply);
    zsock_set_rcvtimeo (plugin, 5000);
    zmsg_t *msg = zmsg_recv (plugin);
    assert_non_null (msg);
    char *topic = zmsg_popstr (msg);
    assert_string_equal (topic, "cmd.retry");
    zstr_free (&topic);
    zframe_t *payload = zmsg_first (msg);
    jobd_event_t *forwarded = NULL;
    assert_int_equal (
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &forwarded, NULL, 0), 0);
    assert_int_equal (forwarded->type, JOBD_EVENT_RETRY);
    assert_string_equal (forwarded->job, job);
    assert_string_equal (forwarded->kind, "spark");
    assert_int_equal (forwarded->attempt, 1);
    jobd_event_destroy (&forwarded);
    zmsg_destroy (&msg);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    jobd_job_destroy (&record);

    assert_true (s_plugin_send (
        self, s_retry_plan (waiting, JOBD_STATE_RETRY_WAIT, jobd_now_ms () + 3600000)));
    jobd_event_t *transition = s_transition (self);
    jobd_event_destroy (&transition);
    jobd_event_t *again = jobd_event_dup (retry);
    jobd_event_set (&again->job, waiting);
    s_send (self, again);
    jobd_event_destroy (&again);
    assert_false (s_reply (self, &reply));
    char error[32], reason[512];
    assert_true (jobd_map_string (&reply.data, "error", error, sizeof error));
    assert_string_equal (error, "ESTATE");
    assert_true (jobd_map_string (&reply.data, "reason", reason, sizeof reason));
    assert_non_null (strstr (reason, "RETRY_WAIT"));
    assert_non_null (strstr (reason, "'now'"));
    msgpack_unpacked_destroy (&reply);

    //  The plugin stopped (its own word, which stands over the loader's): the same retry starts
    //  the next attempt here.
    jobd_event_t *stopped = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    jobd_event_set (&stopped->name, "retry");
    jobd_event_set (&stopped->status, "stopped");
    assert_true (s_plugin_send (self, stopped));
    s_plugin_status_wait (self, "retry", "stopped");
    s_send (self, retry);
    jobd_event_destroy (&retry);
    assert_true (s_reply (self, &reply));
    assert_true (jobd_map_string (&reply.data, "outcome", outcome, sizeof outcome));
    assert_string_equal (outcome, "changed");
    msgpack_unpacked_destroy (&reply);
    transition = s_transition (self);
    assert_int_equal (transition->state, JOBD_STATE_RETRY_WAIT);
    jobd_event_destroy (&transition);
    transition = s_transition (self);
    assert_int_equal (transition->state, JOBD_STATE_QUEUED);
    assert_int_equal (transition->attempt, 2);
    jobd_event_destroy (&transition);
    zsock_destroy (&plugin);
}

//  retry.plan is internal: refused from the admin endpoint, nothing stored.
static void
test_retry_plan_is_refused_from_admin (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char job[64];
    s_failed_job (self, job, sizeof job);
    s_forge (self, s_retry_plan (job, JOBD_STATE_RETRY_WAIT, jobd_now_ms () + 1000));
    assert_int_equal (s_counter (self, "internal_refused"), 1);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_int_equal (record->state, JOBD_STATE_FAILED);
    jobd_job_destroy (&record);
    assert_int_equal (jobd_store_timer_next (self->store), 0);
}

//  A final plan is kept on the record, then published on retry.final.<job>, once.
static void
test_retry_final_is_recorded_then_published (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    zsock_set_subscribe (self->events, "retry.final.");
    char job[64], topic[128], expected[128];
    s_failed_job (self, job, sizeof job);
    assert_true (s_plugin_send (self, s_retry_plan (job, JOBD_STATE_FAILED, 0)));
    jobd_event_t *final = s_next_event (self, topic, sizeof topic);
    snprintf (expected, sizeof expected, "retry.final.%s", job);
    assert_string_equal (topic, expected);
    assert_int_equal (final->type, JOBD_EVENT_RETRY_PLAN);
    assert_int_equal (final->state, JOBD_STATE_FAILED);
    assert_string_equal (final->error, "3 attempts made, the most the policy allows");
    jobd_event_destroy (&final);
    jobd_job_t *record = NULL;
    assert_int_equal (jobd_store_job_get (self->store, job, &record), 0);
    assert_string_equal (record->retry_final, "3 attempts made, the most the policy allows");
    jobd_job_destroy (&record);
    //  The same plan again changes nothing and is not published again.
    assert_true (s_plugin_send (self, s_retry_plan (job, JOBD_STATE_FAILED, 0)));
    assert_int_equal (s_counter (self, "retry_final"), 1);
    zsock_set_rcvtimeo (self->events, 0);
    zmsg_t *none = zmsg_recv (self->events);
    assert_null (none);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_plugin_figures_are_kept_and_answered, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_submit_observe_and_publish_after_commit, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_cancel_failed_is_recorded_then_published, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_input_is_answered_and_counted, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_plugin_status_is_not_overwritten_by_registration,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_batch_is_applied_and_answered_once_in_order, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_deadline_source_is_reserved, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stop_applies_what_was_received, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_many_frames_are_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_admin_refuses_internal_events, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_plugin_table_is_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_queries_do_not_hold_up_commits, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_answers_are_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_deadline_fires_stale_once_then_action, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_deadline_due_while_down_fires_at_start, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_retry_timer_starts_the_next_attempt, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_retry_due_while_down_fires_at_start, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_plain_retry_is_forwarded_while_the_retry_plugin_runs,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_retry_plan_is_refused_from_admin, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_plugins_are_asked_for_their_status, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_retry_final_is_recorded_then_published, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
