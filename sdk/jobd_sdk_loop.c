//  The command loop every plugin runs on its thread: pipe ("$TERM"), bus replies, events, timers.
#include "jobd_plugin_sdk.h"
#include <string.h>

typedef enum { S_RUNNING, S_TERM, S_FAILED } s_pipe_t;

//  The pipe: S_TERM once "$TERM" came, S_FAILED when the pipe failed (the context ends).
static s_pipe_t
s_read_pipe (zsock_t *pipe)
{
    s_pipe_t state = S_RUNNING;
    while (state == S_RUNNING && (zsock_events (pipe) & ZMQ_POLLIN)) {
        char *command = zstr_recv (pipe);
        state = !command ? S_FAILED : strcmp (command, "$TERM") == 0 ? S_TERM : S_RUNNING;
        zstr_free (&command);
    }
    return state;
}

//  Calls fn while socket has a message, up to max times (0: no bound). Without fn the messages
//  are read and dropped, so that they do not pile up.
static void
s_read (zsock_t *socket, jobd_sdk_read_fn *fn, size_t max, void *arg)
{
    for (size_t count = 0; (!max || count < max) && (zsock_events (socket) & ZMQ_POLLIN); count++)
        if (fn)
            fn (socket, arg);
        else {
            zmsg_t *msg = zmsg_recv (socket);
            zmsg_destroy (&msg);
        }
}

static void
s_wait (zsock_t **sockets, size_t count, int timeout)
{
    zmq_pollitem_t items[3];
    for (size_t index = 0; index < count; index++)
        items[index] = (zmq_pollitem_t){zsock_resolve (sockets[index]), 0, ZMQ_POLLIN, 0};
    zmq_poll (items, (int)count, timeout);
}

int
jobd_sdk_loop_run (const jobd_sdk_loop_t *loop, zsock_t *pipe, zsock_t *bus, zsock_t *events,
                   void *arg)
{
    assert (loop);
    assert (pipe && bus && events);
    int wait_max = loop->wait_max > 0 ? loop->wait_max : 1000;
    zsock_t *sockets[] = {pipe, bus, events};
    s_pipe_t pipe_state = S_RUNNING;
    //  After "$TERM", the loop turns on while the plugin still finishes what it started.
    while (pipe_state == S_RUNNING ||
           (pipe_state == S_TERM && loop->draining && loop->draining (arg))) {
        int64_t wait = loop->tick ? loop->tick (arg) : wait_max;
        int timeout = wait < 0 ? 0 : wait > wait_max ? wait_max : (int)wait;
        if (loop->wait)
            loop->wait (sockets, 3, timeout, arg);
        else
            s_wait (sockets, 3, timeout);
        if (pipe_state == S_RUNNING)
            pipe_state = s_read_pipe (pipe);
        s_read (bus, loop->on_reply, loop->replies_max, arg);
        s_read (events, loop->on_event, loop->events_max, arg);
        if (loop->after)
            loop->after (arg);
    }
    return 0;
}
