//  GET /metrics: Prometheus' text format from the broker's figures, the store's jobs and the
//  server's own counters (series: API.md).
#ifndef HT_METRICS_H_INCLUDED
#define HT_METRICS_H_INCLUDED

#include "ht_broker.h"
#include "ht_core.h"

typedef struct ht_metrics ht_metrics_t;

//  Metrics of host, counters and broker (all borrowed until destroy); the store is scanned for
//  jobd_jobs at most every scan_interval ms. NULL when out of memory.
ht_metrics_t *ht_metrics_new (const jobd_host_t *host, ht_counters_t *counters, ht_broker_t *broker,
                              int64_t scan_interval);

//  Frees it; NULL-safe; sets *self_p to NULL.
void ht_metrics_destroy (ht_metrics_t **self_p);

//  Fills reply with the exposition text. Any thread.
void ht_metrics_render (ht_metrics_t *self, ht_reply_t *reply);

#endif
