//  Test receivers: Prometheus Alertmanager (Debian's prometheus-alertmanager) on loopback, with
//  a generated config whose one route ends in a receiver that sends nothing; alerts read back
//  through its own API.
#ifndef RCV_ALERTMANAGER_H_INCLUDED
#define RCV_ALERTMANAGER_H_INCLUDED

#include "rcv_proc.h"
#include <jansson.h>

//  The Alertmanager binary ($JOBD_ALERTMANAGER, or Debian's path), or NULL when absent.
const char *rcv_alertmanager_binary (void);

//  Starts Alertmanager on a free port (--storage.path in its folder, clustering off) and waits
//  for GET /-/ready, up to timeout_ms. With user and password (both or neither), its web
//  config asks for HTTP basic auth (a bcrypt hash of password). Returns 0 with self->url
//  "http://127.0.0.1:PORT", or -1 (self stopped, the log's end printed).
int rcv_alertmanager_start (rcv_proc_t *self, const char *user, const char *password,
                            int timeout_ms);

//  GET /api/v2/alerts?QUERY (query may be NULL or ""): the parsed array, fresh, or NULL.
json_t *rcv_alertmanager_alerts (rcv_proc_t *self, const char *query);

//  The first alert of alerts whose label name is value, borrowed from alerts, or NULL.
json_t *rcv_alertmanager_find (json_t *alerts, const char *name, const char *value);

#endif
