//  kafka_mock: one librdkafka mock cluster on loopback, and the text commands that steer it.
#ifndef KAFKA_MOCK_H_INCLUDED
#define KAFKA_MOCK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct kafka_mock_t kafka_mock_t;

//  Limits on what the command line and the commands accept.
#define KAFKA_MOCK_BROKERS_MAX    64
#define KAFKA_MOCK_PARTITIONS_MAX 10000
#define KAFKA_MOCK_TOPIC_MAX      249
#define KAFKA_MOCK_ERRORS_MAX     100000

//  Starts a mock cluster of broker_cnt brokers (ids 1..broker_cnt) listening on 127.0.0.1.
//  librdkafka logs go to stderr. Returns a new object, or NULL with a reason in reason.
kafka_mock_t *kafka_mock_new (int broker_cnt, char *reason, size_t reason_size);

//  Stops the cluster and frees it. NULL-safe; sets *self_p to NULL.
void kafka_mock_destroy (kafka_mock_t **self_p);

//  Returns the bootstrap servers, "127.0.0.1:PORT,...". Borrowed: valid until destroy.
const char *kafka_mock_bootstraps (kafka_mock_t *self);

//  Creates a topic with the given partitions, replicated on every broker. Returns 0, or -1 with
//  a reason in reason.
int kafka_mock_topic_create (kafka_mock_t *self, const char *name, int partitions, char *reason,
                             size_t reason_size);

//  Returns true when name is a legal Kafka topic name ([A-Za-z0-9._-], 1 to 249 characters).
bool kafka_mock_topic_name_valid (const char *name);

//  Runs one command line (see README.md) and writes the one-line answer, "ok ..." or
//  "error <reason>", without a newline, into reply. Returns 0, 1 after "quit", or -1 when the
//  command was refused (reply says why). line is modified (tokenized).
int kafka_mock_execute (kafka_mock_t *self, char *line, char *reply, size_t reply_size);

#endif
