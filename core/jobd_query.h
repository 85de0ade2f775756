//  The admin queries that read the store (ls, show, cursors), answered on a thread of their own
//  from LMDB read transactions: a long one never holds up the broker's commits. The broker hands
//  each such query over with its sender, and sends the answer the thread hands back.
#ifndef JOBD_QUERY_H_INCLUDED
#define JOBD_QUERY_H_INCLUDED

#include "jobd_request.h"
#include "jobd_store.h"
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct _jobd_query_t jobd_query_t;

#define JOBD_QUERY_IN_FLIGHT_MAX  32 //  queries handed over and not answered yet, in all
#define JOBD_QUERY_PER_CLIENT_MAX 4  //  ... from one client (one ROUTER identity)

//  Starts the thread on store (borrowed; must outlive it). Returns NULL when out of memory.
jobd_query_t *jobd_query_new (jobd_store_t *store);

//  Stops the thread; queries not answered yet are dropped. NULL-safe; sets *self_p to NULL.
void jobd_query_destroy (jobd_query_t **self_p);

//  True when the query is one the thread answers: ls, show, cursors.
bool jobd_query_handles (jobd_request_kind_t kind);

//  Hands a query over: the sender's identity and delimiter (REQ), and the message (copied).
//  Returns 0, or -EBUSY (with a reason) when JOBD_QUERY_IN_FLIGHT_MAX queries, or
//  JOBD_QUERY_PER_CLIENT_MAX of this sender's, wait for their answer.
int jobd_query_send (jobd_query_t *self, const uint8_t *identity, size_t identity_size,
                     bool delimiter, const void *data, size_t size, char *reason,
                     size_t reason_size);

//  The socket that is readable when an answer is waiting (for the broker's poller). Borrowed.
zsock_t *jobd_query_sock (jobd_query_t *self);

//  Sends every waiting answer to its sender on router (the admin ROUTER). Returns how many.
size_t jobd_query_deliver (jobd_query_t *self, zsock_t *router);

#endif
