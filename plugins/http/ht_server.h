//  The http plugin's server: libmicrohttpd with its own thread pool, the routes of API.md, auth,
//  limits and the counting of what it refuses. Handlers read through the host table on the
//  server's threads and send commands to the broker on sockets of their own.
#ifndef HT_SERVER_H_INCLUDED
#define HT_SERVER_H_INCLUDED

#include "ht_core.h"

typedef struct ht_server ht_server_t;

//  Starts serving with settings (copied) for host (borrowed until stop). Returns 0 and sets
//  *self_p, or a negative error with a reason for the operator (the address is taken, a TLS file
//  cannot be read).
int ht_server_start (const jobd_host_t *host, const ht_settings_t *settings, ht_server_t **self_p,
                     char *reason, size_t reason_size);

//  Ends the event streams, stops the daemon (its threads joined) and frees it; NULL-safe; sets
//  *self_p to NULL.
void ht_server_stop (ht_server_t **self_p);

//  The port it listens on (the one the kernel chose when the settings said 0).
uint16_t ht_server_port (ht_server_t *self);

//  Counts a published transition (jobd_transitions_total). Any thread.
void ht_server_count_transition (ht_server_t *self, jobd_state_t from, jobd_state_t to);

//  Wakes the event streams: the transition log's head is now head. Any thread.
void ht_server_wake (ht_server_t *self, uint64_t head);

#endif
