//  Replies held back until what they answer is durable (cluster mode, docs/cluster.md section
//  10: a reply that says "stored" is sent once the changelog gave the write back). A FIFO: each
//  reply waits for its ticket, and none overtakes one held before it.
#ifndef JOBD_HELD_H_INCLUDED
#define JOBD_HELD_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jobd_held jobd_held_t;

//  Sends one reply (the broker's ROUTER send), with arg.
typedef void (jobd_held_send_fn) (zsock_t *socket, const uint8_t *identity, size_t identity_size,
                                  bool delimiter, const void *data, size_t size, void *arg);

jobd_held_t *jobd_held_new (void);

//  Frees the replies still held (unsent). NULL-safe; sets *self_p to NULL.
void jobd_held_destroy (jobd_held_t **self_p);

//  Holds a reply (copied) until ticket is confirmed. Returns 0 or -ENOMEM.
int jobd_held_add (jobd_held_t *self, uint64_t ticket, zsock_t *socket, const uint8_t *identity,
                   size_t identity_size, bool delimiter, const void *data, size_t size);

//  Says whether the write of job in the send of ticket was fenced (another instance's claim came
//  first, and every replica dropped it); job NULL: whether any write of that send was.
typedef bool (jobd_held_fenced_fn) (uint64_t ticket, const char *job, void *arg);

//  Sends, in the order held, every reply whose ticket is at most confirmed, up to the first that
//  is not. In a reply, an "ok" answer about a job whose write in that ticket fenced (NULL: none
//  is) is turned into ENOTOWNER: not stored. Returns how many it sent.
size_t jobd_held_release (jobd_held_t *self, uint64_t confirmed, jobd_held_send_fn *send,
                          jobd_held_fenced_fn *fenced, void *arg);

//  Replies held now.
size_t jobd_held_size (jobd_held_t *self);

#ifdef __cplusplus
}
#endif
#endif
