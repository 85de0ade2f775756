//  Status on demand: a `plugins` query waits (a quarter of a second at most) until every running
//  plugin answered a status.ask the broker published, so that what it shows is current.
#ifndef JOBD_ASKS_H_INCLUDED
#define JOBD_ASKS_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define JOBD_ASKS_WAIT_MS 250 //  the longest a query waits for the plugins' answers

typedef struct jobd_asks jobd_asks_t;

//  A query to answer now: the socket it came on, the sender, and its msgpack bytes (borrowed
//  for the call).
typedef void (jobd_asks_answer_fn) (zsock_t *socket, const uint8_t *identity, size_t identity_size,
                                    bool delimiter, const void *query, size_t size, void *arg);

//  Returns a new set of asks, or NULL when out of memory.
jobd_asks_t *jobd_asks_new (void);

//  Destroys it, dropping the queries still waiting; NULL-safe; sets *self_p to NULL.
void jobd_asks_destroy (jobd_asks_t **self_p);

//  Holds a query until the plugins answer. plugins is the broker's table (name -> zhashx with
//  "status"): the plugins running or degraded are waited for, but not those that let an ask pass
//  unanswered and have answered none since. Returns false when there is nothing to wait for (the
//  caller answers now: nothing was kept), else true; *ask is then the id of a status.ask to
//  publish (a new one, 24 hex digits), or "" when the query joined the ask in flight.
bool jobd_asks_hold (jobd_asks_t *self, zhashx_t *plugins, zsock_t *socket, const uint8_t *identity,
                     size_t identity_size, bool delimiter, const void *query, size_t size,
                     char ask[25]);

//  A plugin.status from name arrived, answering ask (NULL or "": a status of its own accord);
//  running is false when it says the plugin stopped or failed (it will answer no ask).
void jobd_asks_answer (jobd_asks_t *self, const char *name, const char *ask, bool running);

//  Ms until the ask in flight is due (0: now), or -1 when none is.
int64_t jobd_asks_wait (jobd_asks_t *self);

//  When the ask in flight is answered by all, or past its time: the plugins that did not answer
//  are no longer waited for, and fn answers each query held, oldest first. Returns how many.
size_t jobd_asks_finish (jobd_asks_t *self, jobd_asks_answer_fn *fn, void *arg);

#endif
