//  Integration test harness, Kafka side: tools/kafka-mock (librdkafka's mock cluster on
//  loopback) as a child process that takes commands on stdin.
#ifndef JOBD_HARNESS_KAFKA_H_INCLUDED
#define JOBD_HARNESS_KAFKA_H_INCLUDED

#include "harness.h"

//  Starts kafka-mock with args (NULL-terminated: --topic NAME:PARTS, --commands, ...), its stderr
//  appended to harness->dir/kafka-mock.log and its stdin a pipe (harness_kafka_command), and
//  writes the bootstrap servers into brokers. Returns 0, or -1 when it did not start.
int harness_kafka_mock (harness_proc_t *mock, const harness_t *harness, const char *const args[],
                        char *brokers, size_t brokers_size);

//  With --commands: sends one command line ("down all", ...) and waits for an answer line
//  containing answer. Returns true when it came within 10 s.
bool harness_kafka_command (harness_proc_t *mock, const char *command, const char *answer);

#endif
