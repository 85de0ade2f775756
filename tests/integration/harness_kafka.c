//  Integration test harness, Kafka side (see harness_kafka.h).
#include "harness_kafka.h"
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
