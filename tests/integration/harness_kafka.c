//  Integration test harness, Kafka side (see harness_kafka.h).
#include "harness_kafka.h"
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int
harness_kafka_mock (harness_proc_t *mock, const harness_t *harness, const char *const args[],
                    char *brokers, size_t brokers_size)
{
    char binary[512], log[400];
    snprintf (log, sizeof log, "%s/kafka-mock.log", harness->dir);
    char *argv[64] = {(char *)harness_bin ("kafka-mock", binary, sizeof binary)};
    size_t count = 1;
    for (size_t index = 0; args && args[index] && count < 63; index++)
        argv[count++] = (char *)args[index];
    argv[count] = NULL;
    //  The first stdout line is the bootstrap servers.
    if (harness_spawn_talking (mock, argv, log) || !harness_proc_wait_out (mock, "\n", 10000))
        return -1;
    snprintf (brokers, brokers_size, "%.*s", (int)strcspn (mock->out, "\n"), mock->out);
    return 0;
}

bool
harness_kafka_command (harness_proc_t *mock, const char *command, const char *answer)
{
    return harness_proc_say (mock, command) == 0 && harness_proc_wait_out (mock, answer, 10000);
}

void
harness_kafka_mock_stop (harness_proc_t *mock)
{
    kill (mock->pid, SIGTERM);
    harness_proc_finish (mock, 10000);
}

rd_kafka_t *
harness_kafka_client (const char *brokers, rd_kafka_type_t type, const char *group)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    char error[256];
    bool ok = rd_kafka_conf_set (conf, "bootstrap.servers", brokers, error, sizeof error) ==
              RD_KAFKA_CONF_OK;
    if (type == RD_KAFKA_PRODUCER)
        ok = ok && rd_kafka_conf_set (conf, "message.max.bytes", "10000000", error, sizeof error) ==
                       RD_KAFKA_CONF_OK;
    else
        ok = ok &&
             rd_kafka_conf_set (conf, "group.id", group, error, sizeof error) == RD_KAFKA_CONF_OK &&
             rd_kafka_conf_set (conf, "enable.auto.commit", "false", error, sizeof error) ==
                 RD_KAFKA_CONF_OK;
    if (!ok) {
        rd_kafka_conf_destroy (conf);
        return NULL;
    }
    return rd_kafka_new (type, conf, error, sizeof error);
}

rd_kafka_t *
harness_kafka_reader (const char *brokers, const char *topic, int partitions)
{
    rd_kafka_t *consumer = harness_kafka_client (brokers, RD_KAFKA_CONSUMER, "jobd-test-reader");
    if (!consumer)
        return NULL;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (partitions);
    for (int partition = 0; partition < partitions; partition++)
        rd_kafka_topic_partition_list_add (list, topic, partition)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t err = rd_kafka_assign (consumer, list);
    rd_kafka_topic_partition_list_destroy (list);
    if (err) {
        rd_kafka_destroy_flags (consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        return NULL;
    }
    return consumer;
}

int64_t
harness_kafka_committed (const char *brokers, const char *group, const char *topic, int partitions)
{
    rd_kafka_t *reader = harness_kafka_client (brokers, RD_KAFKA_CONSUMER, group);
    if (!reader)
        return -1;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new (partitions);
    for (int partition = 0; partition < partitions; partition++)
        rd_kafka_topic_partition_list_add (list, topic, partition);
    int64_t sum = -1;
    if (rd_kafka_committed (reader, list, 5000) == 0) {
        sum = 0;
        for (int index = 0; index < list->cnt; index++)
            sum += list->elems[index].offset > 0 ? list->elems[index].offset : 0;
    }
    rd_kafka_topic_partition_list_destroy (list);
    rd_kafka_destroy_flags (reader, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return sum;
}

void
harness_netcut_env (const char *brokers, const char *cut_file, char *preload, size_t preload_size,
                    char *spec, size_t spec_size)
{
    char netcut[512];
    snprintf (netcut, sizeof netcut, "%s/lib/netcut.so", harness_build_dir ());
    char asan[512] = "";
    FILE *maps = fopen ("/proc/self/maps", "r");
    char line[1024];
    while (maps && !*asan && fgets (line, sizeof line, maps)) {
        char *path = strchr (line, '/');
        if (path && strstr (path, "/libasan.so")) {
            path[strcspn (path, "\n")] = '\0';
            snprintf (asan, sizeof asan, "%s", path);
        }
    }
    if (maps)
        fclose (maps);
    snprintf (preload, preload_size, "%s%s%s", asan, *asan ? " " : "", netcut);
    size_t used = (size_t)snprintf (spec, spec_size, "%s:", cut_file);
    for (const char *colon = brokers; (colon = strchr (colon, ':')) && used < spec_size; colon++)
        used += (size_t)snprintf (spec + used, spec_size - used, "%s%d",
                                  spec[used - 1] == ':' ? "" : ",", atoi (colon + 1));
}
