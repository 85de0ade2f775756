//  The broker's publisher thread: what is added goes out after the hand-over, in order, to the
//  plugins' socket always and to the subscribers' only when external; destroying it sends what
//  it was handed first; a second cannot bind the same endpoints.
#include "jobd_plugin.h"
#include "jobd_publisher.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <czmq.h>
#include <string.h>

#define S_SUBSCRIBERS "inproc://test-publisher-events"

//  The next message on sub within a second: its topic and body, or false.
static bool
s_next (zsock_t *sub, char *topic, size_t topic_size, char *body, size_t body_size)
{
    zsock_set_rcvtimeo (sub, 1000);
    zmsg_t *msg = zmsg_recv (sub);
    if (!msg)
        return false;
    if (zmsg_size (msg) == 1) { //  the welcome
        zmsg_destroy (&msg);
        return s_next (sub, topic, topic_size, body, body_size);
    }
    zframe_t *first = zmsg_first (msg), *second = zmsg_next (msg);
    snprintf (topic, topic_size, "%.*s", (int)zframe_size (first), (char *)zframe_data (first));
    snprintf (body, body_size, "%.*s", (int)zframe_size (second), (char *)zframe_data (second));
    zmsg_destroy (&msg);
    return true;
}

static void
test_in_order_to_the_right_sockets (void **state)
{
    char reason[256] = "";
    jobd_publisher_t *publisher = NULL;
    assert_int_equal (jobd_publisher_new (S_SUBSCRIBERS, &publisher, reason, sizeof reason), 0);
    //  A second cannot bind the plugins' endpoint: refused, with a reason that names it.
    jobd_publisher_t *second = NULL;
    assert_int_not_equal (
        jobd_publisher_new ("inproc://test-publisher-other", &second, reason, sizeof reason), 0);
    assert_null (second);
    assert_non_null (strstr (reason, JOBD_EVENTS_ENDPOINT));
    zsock_t *plugins = zsock_new_sub (">" JOBD_EVENTS_ENDPOINT, "");
    zsock_t *subscribers = zsock_new_sub (">" S_SUBSCRIBERS, "");
    //  The subscribers' side knows it is connected when the welcome comes.
    zsock_set_rcvtimeo (subscribers, 5000);
    char *welcome = zstr_recv (subscribers);
    assert_non_null (welcome);
    zstr_free (&welcome);
    //  The plugins' side: published until one arrives (a SUB joins a PUB asynchronously).
    char topic[64], body[64];
    bool joined = false;
    for (int attempt = 0; attempt < 50 && !joined; attempt++) {
        assert_int_equal (jobd_publisher_add (publisher, "probe", "p", 1, false), 0);
        jobd_publisher_flush (publisher);
        zsock_set_rcvtimeo (plugins, 100);
        zmsg_t *msg = zmsg_recv (plugins);
        joined = msg != NULL;
        zmsg_destroy (&msg);
    }
    assert_true (joined);
    while (s_next (plugins, topic, sizeof topic, body, sizeof body) && !strcmp (topic, "probe"))
        ; //  late probes
    assert_int_equal (jobd_publisher_add (publisher, "job.RUNNING.job-1", "one", 3, true), 0);
    assert_int_equal (jobd_publisher_add (publisher, "cmd.cancel.spark", "two", 3, false), 0);
    assert_int_equal (jobd_publisher_add (publisher, "job.SUCCEEDED.job-1", "three", 5, true), 0);
    //  Nothing goes out before the hand-over.
    zsock_set_rcvtimeo (subscribers, 50);
    assert_null (zmsg_recv (subscribers));
    jobd_publisher_flush (publisher);
    static const char *plugin_topics[] = {"job.RUNNING.job-1", "cmd.cancel.spark",
                                          "job.SUCCEEDED.job-1"};
    static const char *plugin_bodies[] = {"one", "two", "three"};
    for (size_t index = 0; index < 3; index++) {
        assert_true (s_next (plugins, topic, sizeof topic, body, sizeof body));
        assert_string_equal (topic, plugin_topics[index]);
        assert_string_equal (body, plugin_bodies[index]);
    }
    //  The command is the plugins' alone.
    assert_true (s_next (subscribers, topic, sizeof topic, body, sizeof body));
    assert_string_equal (topic, "job.RUNNING.job-1");
    assert_true (s_next (subscribers, topic, sizeof topic, body, sizeof body));
    assert_string_equal (topic, "job.SUCCEEDED.job-1");
    assert_string_equal (body, "three");
    //  Added, never flushed: destroying the publisher sends it.
    assert_int_equal (jobd_publisher_add (publisher, "job.FAILED.job-2", "last", 4, true), 0);
    jobd_publisher_destroy (&publisher);
    assert_null (publisher);
    assert_true (s_next (subscribers, topic, sizeof topic, body, sizeof body));
    assert_string_equal (topic, "job.FAILED.job-2");
    zsock_destroy (&plugins);
    zsock_destroy (&subscribers);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_in_order_to_the_right_sockets),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
