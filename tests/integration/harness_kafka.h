//  Integration test harness, Kafka side: tools/kafka-mock (librdkafka's mock cluster on
//  loopback) as a child process that takes commands on stdin.
#ifndef JOBD_HARNESS_KAFKA_H_INCLUDED
#define JOBD_HARNESS_KAFKA_H_INCLUDED

#include "harness.h"
#include <librdkafka/rdkafka.h>

//  Starts kafka-mock with args (NULL-terminated: --topic NAME:PARTS, --commands, ...), its stderr
//  appended to harness->dir/kafka-mock.log and its stdin a pipe (harness_kafka_command), and
//  writes the bootstrap servers into brokers. Returns 0, or -1 when it did not start.
int harness_kafka_mock (harness_proc_t *mock, const harness_t *harness, const char *const args[],
                        char *brokers, size_t brokers_size);

//  With --commands: sends one command line ("down all", ...) and waits for an answer line
//  containing answer. Returns true when it came within 10 s.
bool harness_kafka_command (harness_proc_t *mock, const char *command, const char *answer);

//  Stops kafka-mock (SIGTERM) and waits for it.
void harness_kafka_mock_stop (harness_proc_t *mock);

//  A client of the cluster at brokers: a producer (that takes messages up to 10 MB, as some
//  producers are set), or a consumer in group that never joins it (for assign and committed).
//  NULL when librdkafka refuses.
rd_kafka_t *harness_kafka_client (const char *brokers, rd_kafka_type_t type, const char *group);

//  A consumer (never joining a group) assigned to partitions 0..partitions-1 of topic from their
//  beginning. Destroy it with rd_kafka_destroy_flags (..., RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE).
rd_kafka_t *harness_kafka_reader (const char *brokers, const char *topic, int partitions);

//  The sum of group's committed offsets of partitions 0..partitions-1 of topic (a partition
//  without one counts 0), or -1 when the coordinator does not answer.
int64_t harness_kafka_committed (const char *brokers, const char *group, const char *topic,
                                 int partitions);

//  netcut.so (netcut.c) for a child that is to be cut from the mock's brokers while cut_file
//  exists: LD_PRELOAD's value into preload (netcut.so, after libasan when this program runs under
//  AddressSanitizer: its runtime must come first) and JOBD_TEST_NETCUT's into spec (cut_file and
//  the port of each broker of brokers, "127.0.0.1:P1,127.0.0.1:P2,...").
void harness_netcut_env (const char *brokers, const char *cut_file, char *preload,
                         size_t preload_size, char *spec, size_t spec_size);

#endif
