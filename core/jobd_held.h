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

//  What became of the write of job in the send of ticket; job NULL: of any write of that send.
typedef enum {
    JOBD_HELD_STORED,  //  confirmed
    JOBD_HELD_FENCED,  //  another instance's claim came first, and every replica dropped it
    JOBD_HELD_REFUSED, //  Kafka refused it or it was lost on the way: committed here, sent again
} jobd_held_fate_t;
typedef jobd_held_fate_t (jobd_held_fenced_fn) (uint64_t ticket, const char *job, void *arg);

//  Sends, in the order held, every reply whose ticket is at most confirmed, up to the first that
//  is not. In a reply, an "ok" answer about a job whose write in that ticket was fenced (NULL:
//  none is) is turned into ENOTOWNER (not stored), one whose write was refused into ETIMEOUT
//  (not confirmed: it may yet be stored), which keeps the job's id. Returns how many it sent.
size_t jobd_held_release (jobd_held_t *self, uint64_t confirmed, jobd_held_send_fn *send,
                          jobd_held_fenced_fn *fenced, void *arg);

//  Replies held now.
size_t jobd_held_size (jobd_held_t *self);

#ifdef __cplusplus
}
#endif
#endif
