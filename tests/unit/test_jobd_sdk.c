//  The plugin SDK (sdk/): the command loop dispatches the pipe, bus, events and timers and stops
//  at $TERM; the status reporter sends plugin.status only when something changed, and when due.
#include "jobd_plugin_sdk.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define S_BUS      "inproc://test-sdk-bus"
#define S_EVENTS   "inproc://test-sdk-events"
#define S_DEADLINE 5000

//  What the loop's callbacks saw, read by the test after the loop ended.
//  Each callback that reads a message says so on the bus, for the test to wait on.
typedef struct {
    int ticks, replies, events, turns;
    char reply[64], event[64];
    zsock_t *bus;
} s_seen_t;

static int64_t
s_tick (void *arg)
{
    ((s_seen_t *)arg)->ticks++;
    return 10;
}

static void
s_on_reply (zsock_t *bus, void *arg)
{
    s_seen_t *seen = (s_seen_t *)arg;
    char *text = zstr_recv (bus);
    snprintf (seen->reply, sizeof seen->reply, "%s", text ? text : "");
    zstr_free (&text);
    seen->replies++;
    zstr_send (bus, "reply read");
}

static void
s_on_event (zsock_t *events, void *arg)
{
    s_seen_t *seen = (s_seen_t *)arg;
    char *topic = NULL, *body = NULL;
    zstr_recvx (events, &topic, &body, NULL);
    snprintf (seen->event, sizeof seen->event, "%s %s", topic ? topic : "", body ? body : "");
    zstr_free (&topic);
    zstr_free (&body);
    seen->events++;
    zstr_send (seen->bus, "event read");
}

static void
s_after (void *arg)
{
    ((s_seen_t *)arg)->turns++;
}

//  A plugin's thread: its own sockets, then the loop until $TERM; then says it is done.
static void
s_plugin (zsock_t *pipe, void *arg)
{
    zsock_t *bus = zsock_new_dealer (">" S_BUS);
    zsock_t *events = zsock_new_sub (">" S_EVENTS, "job.");
    ((s_seen_t *)arg)->bus = bus;
    zsock_signal (pipe, 0);
    zstr_send (bus, "hello"); //  the test answers it: a reply for on_reply
    jobd_sdk_loop_t loop = {
        .tick = s_tick, .on_reply = s_on_reply, .on_event = s_on_event, .after = s_after};
    int rc = jobd_sdk_loop_run (&loop, pipe, bus, events, arg);
    zsock_destroy (&events);
    zsock_destroy (&bus);
    zsock_signal (pipe, (byte)rc);
}

static void
test_loop_dispatches_until_term (void **state)
{
    zsock_t *bus = zsock_new_router ("@" S_BUS);
    zsock_t *events = zsock_new (ZMQ_XPUB);
    assert_int_equal (zsock_bind (events, S_EVENTS), 0);
    s_seen_t seen = {0};
    zactor_t *plugin = zactor_new (s_plugin, &seen);
    //  Its subscription, then its hello: answered.
    zsock_set_rcvtimeo (events, S_DEADLINE);
    zsock_set_rcvtimeo (bus, S_DEADLINE);
    zframe_t *subscription = zframe_recv (events);
    assert_non_null (subscription);
    zframe_destroy (&subscription);
    zmsg_t *hello = zmsg_recv (bus);
    assert_non_null (hello);
    zframe_t *identity = zmsg_pop (hello);
    zmsg_destroy (&hello);
    zframe_send (&identity, bus, ZFRAME_MORE);
    zstr_send (bus, "welcome back");
    zstr_sendx (events, "job.QUEUED.j1", "queued", NULL);
    //  Each read, in any order; then $TERM ends the loop.
    for (int count = 0; count < 2; count++) {
        char *ack = NULL;
        zframe_t *from = NULL;
        assert_int_equal (zsock_recv (bus, "fs", &from, &ack), 0);
        assert_true (!strcmp (ack, "reply read") || !strcmp (ack, "event read"));
        zframe_destroy (&from);
        zstr_free (&ack);
    }
    zstr_send (plugin, "$TERM");
    zsock_set_rcvtimeo (plugin, S_DEADLINE);
    assert_int_equal (zsock_wait (plugin), 0);
    assert_int_equal (seen.replies, 1);
    assert_string_equal (seen.reply, "welcome back");
    assert_int_equal (seen.events, 1);
    assert_string_equal (seen.event, "job.QUEUED.j1 queued");
    assert_true (seen.ticks >= 1);
    assert_int_equal (seen.turns, seen.ticks);
    zactor_destroy (&plugin);
    zsock_destroy (&bus);
    zsock_destroy (&events);
}

static void
s_host_log (const jobd_host_t *self, jobd_log_level_t level, const char *format, ...)
{
}

//  The next plugin.status on socket, or NULL when none comes in 100 ms.
static jobd_event_t *
s_status (zsock_t *socket)
{
    zsock_set_rcvtimeo (socket, 100);
    zframe_t *frame = zframe_recv (socket);
    jobd_event_t *event = NULL;
    if (frame)
        assert_int_equal (
            jobd_event_decode (zframe_data (frame), zframe_size (frame), &event, NULL, 0), 0);
    zframe_destroy (&frame);
    return event;
}

static void
test_status_sent_when_changed (void **state)
{
    jobd_host_t host = {.size = sizeof host, .plugin_name = "sdk-test", .log = s_host_log};
    zsock_t *in = zsock_new_pair ("@inproc://test-sdk-status");
    zsock_t *out = zsock_new_pair (">inproc://test-sdk-status");
    jobd_sdk_status_t *report = jobd_sdk_status_new (&host, 0);
    assert_non_null (report);
    assert_string_equal (jobd_sdk_status_detail (report), "");
    assert_int_equal (jobd_sdk_status_send (report, out, "running", "2 backends up"), 1);
    jobd_event_t *event = s_status (in);
    assert_non_null (event);
    assert_int_equal (event->type, JOBD_EVENT_PLUGIN_STATUS);
    assert_string_equal (event->source, "sdk-test");
    assert_string_equal (event->name, "sdk-test");
    assert_string_equal (event->status, "running");
    assert_string_equal (event->detail, "2 backends up");
    jobd_event_destroy (&event);
    //  The same again: nothing sent.
    assert_int_equal (jobd_sdk_status_send (report, out, "running", "2 backends up"), 0);
    assert_null (s_status (in));
    //  Another detail, then another status with the same detail: each sent.
    assert_int_equal (jobd_sdk_status_send (report, out, "running", "1 backend up"), 1);
    event = s_status (in);
    assert_string_equal (event->detail, "1 backend up");
    jobd_event_destroy (&event);
    assert_int_equal (jobd_sdk_status_send (report, out, "degraded", "1 backend up"), 1);
    event = s_status (in);
    assert_string_equal (event->status, "degraded");
    jobd_event_destroy (&event);
    assert_string_equal (jobd_sdk_status_detail (report), "1 backend up");
    //  A status.ask: due at once, and the same status goes out again, carrying the ask's id.
    jobd_sdk_status_t *slow = jobd_sdk_status_new (&host, 3600000);
    assert_true (jobd_sdk_status_due (slow, false)); //  the first is due at once
    assert_false (jobd_sdk_status_due (slow, false));
    jobd_event_t *ask = jobd_event_new (JOBD_EVENT_STATUS_ASK);
    assert_false (jobd_sdk_status_asked (slow, event = jobd_event_new (JOBD_EVENT_TRANSITION)));
    jobd_event_destroy (&event);
    assert_true (jobd_sdk_status_asked (slow, ask));
    assert_true (jobd_sdk_status_due (slow, false));
    jobd_sdk_status_destroy (&slow);
    assert_true (jobd_sdk_status_asked (report, ask));
    assert_int_equal (jobd_sdk_status_send (report, out, "degraded", "1 backend up"), 1);
    event = s_status (in);
    assert_non_null (event);
    assert_string_equal (event->detail, "1 backend up");
    assert_string_equal (event->ask, ask->id);
    jobd_event_destroy (&event);
    //  Answered: the next unchanged one is not sent.
    assert_int_equal (jobd_sdk_status_send (report, out, "degraded", "1 backend up"), 0);
    assert_null (s_status (in));
    jobd_event_destroy (&ask);
    jobd_sdk_status_destroy (&report);
    assert_null (report);
    jobd_sdk_status_destroy (&report); //  NULL-safe
    zsock_destroy (&out);
    zsock_destroy (&in);
}

//  The figures of the last status on in, unpacked into unpacked (its data), or nil.
static const msgpack_object *
s_figures (zsock_t *in, msgpack_unpacked *unpacked)
{
    jobd_event_t *event = s_status (in);
    assert_non_null (event);
    msgpack_unpacked_init (unpacked);
    //  The unpacked strings point into the bytes: kept here until the next call.
    static uint8_t bytes[JOBD_FIGURES_BYTES_MAX];
    if (event->figures.data) {
        memcpy (bytes, event->figures.data, event->figures.size);
        size_t offset = 0;
        assert_int_equal (
            msgpack_unpack_next (unpacked, (const char *)bytes, event->figures.size, &offset),
            MSGPACK_UNPACK_SUCCESS);
    }
    jobd_event_destroy (&event);
    return &unpacked->data;
}

static void
s_assert_str (const msgpack_object *object, const char *text)
{
    assert_int_equal (object->type, MSGPACK_OBJECT_STR);
    assert_int_equal (object->via.str.size, strlen (text));
    assert_memory_equal (object->via.str.ptr, text, strlen (text));
}

//  Figures go with the status: sent when they change, each name's help once, labels sorted,
//  integers as integers; a figure that breaks a rule is refused at once.
static void
test_status_figures (void **state)
{
    jobd_host_t host = {.size = sizeof host, .plugin_name = "sdk-test", .log = s_host_log};
    zsock_t *in = zsock_new_pair ("@inproc://test-sdk-figures");
    zsock_t *out = zsock_new_pair (">inproc://test-sdk-figures");
    jobd_sdk_status_t *report = jobd_sdk_status_new (&host, 0);
    assert_int_equal (jobd_sdk_status_figure (report, "poll_seconds", "Duration of the last poll",
                                              0.25, "backend", "livy", NULL),
                      0);
    assert_int_equal (jobd_sdk_status_figure (report, "poll_seconds", "Duration of the last poll",
                                              1.0, "zone", "b", "backend", "yarn", NULL),
                      0);
    assert_int_equal (jobd_sdk_status_figure (report, "polls_total", NULL, 3, NULL), 0);
    assert_int_equal (jobd_sdk_status_figures (report), 3);
    assert_int_equal (jobd_sdk_status_send (report, out, "running", "ok"), 1);
    msgpack_unpacked unpacked;
    const msgpack_object *figures = s_figures (in, &unpacked);
    assert_int_equal (figures->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal (figures->via.array.size, 3);
    const msgpack_object *first = figures->via.array.ptr[0].via.array.ptr;
    assert_int_equal (figures->via.array.ptr[0].via.array.size, 4);
    s_assert_str (&first[0], "poll_seconds");
    assert_int_equal (first[1].type, MSGPACK_OBJECT_FLOAT64);
    assert_true (first[1].via.f64 == 0.25);
    s_assert_str (&first[3], "Duration of the last poll");
    //  The second entry of a name carries no help; its labels are sorted; 1.0 is an integer.
    const msgpack_object *second = figures->via.array.ptr[1].via.array.ptr;
    assert_int_equal (figures->via.array.ptr[1].via.array.size, 3);
    assert_int_equal (second[1].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    s_assert_str (&second[2].via.map.ptr[0].key, "backend");
    s_assert_str (&second[2].via.map.ptr[1].key, "zone");
    assert_int_equal (figures->via.array.ptr[2].via.array.size, 2);
    msgpack_unpacked_destroy (&unpacked);
    //  The same figures again: nothing to send. One changed (same name and labels in another
    //  order: replaced): sent.
    assert_int_equal (jobd_sdk_status_send (report, out, "running", "ok"), 0);
    assert_null (s_status (in));
    assert_int_equal (jobd_sdk_status_figure (report, "poll_seconds", NULL, 2.0, "backend", "yarn",
                                              "zone", "b", NULL),
                      0);
    assert_int_equal (jobd_sdk_status_figures (report), 3);
    assert_int_equal (jobd_sdk_status_send (report, out, "running", "ok"), 1);
    figures = s_figures (in, &unpacked);
    assert_int_equal (figures->via.array.ptr[1].via.array.ptr[1].via.u64, 2);
    msgpack_unpacked_destroy (&unpacked);
    //  Rules broken: refused at once, nothing kept.
    assert_int_equal (jobd_sdk_status_figure (report, "Poll", NULL, 1, NULL), JOBD_EINVAL);
    assert_int_equal (jobd_sdk_status_figure (report, "a", NULL, 1, "plugin", "x", NULL),
                      JOBD_EINVAL);
    assert_int_equal (jobd_sdk_status_figure (report, "a", NULL, 1, "a", "1", "b", "2", "c", "3",
                                              "d", "4", "e", "5", NULL),
                      JOBD_EINVAL);
    assert_int_equal (jobd_sdk_status_figure (report, "a", "two\nlines", 1, NULL), JOBD_EINVAL);
    assert_int_equal (jobd_sdk_status_figure (report, "a", NULL, 0.0 / 0.0, NULL), JOBD_EINVAL);
    assert_int_equal (jobd_sdk_status_figure (report, "a", NULL, 1, "b", "\xc3\x28", NULL),
                      JOBD_EINVAL);
    assert_int_equal (jobd_sdk_status_figures (report), 3);
    //  Cleared: the next status goes without figures.
    jobd_sdk_status_figures_clear (report);
    assert_int_equal (jobd_sdk_status_send (report, out, "running", "ok"), 1);
    figures = s_figures (in, &unpacked);
    assert_int_equal (figures->type, MSGPACK_OBJECT_NIL);
    msgpack_unpacked_destroy (&unpacked);
    //  At most 512.
    for (int index = 0; index < JOBD_FIGURES_MAX; index++) {
        char name[16];
        snprintf (name, sizeof name, "f%d", index);
        assert_int_equal (jobd_sdk_status_figure (report, name, NULL, index, NULL), 0);
    }
    assert_int_equal (jobd_sdk_status_figure (report, "one_more", NULL, 1, NULL), JOBD_ETOOBIG);
    assert_int_equal (jobd_sdk_status_send (report, out, "running", "ok"), 1);
    figures = s_figures (in, &unpacked);
    assert_int_equal (figures->via.array.size, JOBD_FIGURES_MAX);
    msgpack_unpacked_destroy (&unpacked);
    jobd_sdk_status_destroy (&report);
    zsock_destroy (&in);
    zsock_destroy (&out);
}

static void
test_status_due_every_interval (void **state)
{
    jobd_host_t host = {.size = sizeof host, .plugin_name = "sdk-test", .log = s_host_log};
    jobd_sdk_status_t *report = jobd_sdk_status_new (&host, 3600000);
    assert_true (jobd_sdk_status_due (report, false)); //  the first is due at once
    assert_false (jobd_sdk_status_due (report, false));
    assert_true (jobd_sdk_status_due (report, true)); //  now: something worth saying
    assert_false (jobd_sdk_status_due (report, false));
    jobd_sdk_status_destroy (&report);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_loop_dispatches_until_term),
        cmocka_unit_test (test_status_sent_when_changed),
        cmocka_unit_test (test_status_figures),
        cmocka_unit_test (test_status_due_every_interval),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
