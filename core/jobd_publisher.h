//  The broker's publications, sent from a thread of their own: transitions and other events on
//  the plugins' PUB (inproc) and the subscribers' XPUB. The broker adds what a batch publishes
//  once it is committed and hands it over in one message; the publisher sends it in that order.
//  Sending, one message per transition on each socket, was an eighth of the broker's time.
#ifndef JOBD_PUBLISHER_H_INCLUDED
#define JOBD_PUBLISHER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _jobd_publisher_t jobd_publisher_t;

//  Binds JOBD_EVENTS_ENDPOINT and events_endpoint and starts the thread. Returns 0, or an error
//  with a reason.
int jobd_publisher_new (const char *events_endpoint, jobd_publisher_t **self_p, char *reason,
                        size_t reason_size);

//  Sends everything handed over, then stops and unbinds. NULL-safe.
void jobd_publisher_destroy (jobd_publisher_t **self_p);

//  Adds a message, topic and body, to the next hand-over: for the plugins, and for the
//  subscribers too when external. Returns 0 or -ENOMEM.
int jobd_publisher_add (jobd_publisher_t *self, const char *topic, const void *data, size_t size,
                        bool external);

//  Hands what was added over to the thread, which sends it in order.
void jobd_publisher_flush (jobd_publisher_t *self);

#endif
