//  Integration test harness, cluster side: what the cluster tests ask of several jobd instances
//  (docs/cluster.md) through jobctl: the partitions each owns, and how many jobs have ended.
#ifndef JOBD_HARNESS_CLUSTER_H_INCLUDED
#define JOBD_HARNESS_CLUSTER_H_INCLUDED

#include "harness_kafka.h"

//  The partitions an instance owns now, as a bit mask (`jobctl --json cluster`); -1 when it did
//  not say.
int harness_cluster_owned (harness_t *harness);

//  How many partitions harness owns (any number of them), or -1 when it did not say.
int harness_cluster_owned_count (harness_t *harness);

//  Waits until the count instances share every one of partitions: each owns some, none one that
//  another owns. Returns the ms it took, or -1 past timeout_ms.
int64_t harness_cluster_wait_shared (harness_t *const *nodes, int count, int partitions,
                                     int timeout_ms);

//  Writes the config of a cluster instance that runs the spark-poller on a standalone master
//  ("master") and a Livy server ("livy", listed every 200 ms) at spark-sim's sim_port (polls
//  every 100-200 ms): instance, brokers, partitions and a 4 s session
//  (unless cluster names session_timeout), then plugins (more plugin sections, "" for none) and
//  cluster (more keys of the cluster section, "" for none), each a block of indented lines.
void harness_cluster_spark_config (harness_t *harness, const char *instance, const char *brokers,
                                   int partitions, int sim_port, const char *plugins,
                                   const char *cluster);

//  Jobs SUCCEEDED or FAILED in an instance's store; -1 when it did not answer.
int64_t harness_cluster_ended (harness_t *harness);

//  Waits until harness_cluster_ended says ended, up to timeout_ms. True when it did.
bool harness_cluster_wait_ended (harness_t *harness, int64_t ended, int timeout_ms);

#endif
