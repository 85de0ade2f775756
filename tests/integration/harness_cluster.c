//  Integration test harness, cluster side (see harness_cluster.h).
#include "harness_cluster.h"
#include <jansson.h>
#include <string.h>

//  The partitions harness owns (`jobctl --json cluster`): their mask (partitions below 31) into
//  *mask_p and their number; -1 when it did not say.
static int
s_owned (harness_t *harness, int *mask_p)
{
    static char out[1 << 16];
    char err[1024];
    const char *args[] = {"-c", harness->config, "--json", "cluster", NULL};
    *mask_p = 0;
    if (harness_run_bin ("jobctl", args, out, sizeof out, err, sizeof err) != 0)
        return -1;
    json_t *root = json_loads (out, 0, NULL);
    size_t index;
    json_t *partition;
    int owned = 0;
    json_array_foreach (json_object_get (root, "partition"), index, partition)
    {
        const char *state = json_string_value (json_object_get (partition, "state"));
        json_int_t number = json_integer_value (json_object_get (partition, "partition"));
        if (state && strcmp (state, "owned") == 0) {
            owned++;
            if (number >= 0 && number < 31)
                *mask_p |= 1 << number;
        }
    }
    json_decref (root);
    return root ? owned : -1;
}

int
harness_cluster_owned (harness_t *harness)
{
    int mask = 0;
    return s_owned (harness, &mask) < 0 ? -1 : mask;
}

int
harness_cluster_owned_count (harness_t *harness)
{
    int mask = 0;
    return s_owned (harness, &mask);
}

int64_t
harness_cluster_wait_shared (harness_t *const *nodes, int count, int partitions, int timeout_ms)
{
    int64_t start = zclock_mono (), deadline = start + timeout_ms;
    while (zclock_mono () < deadline) {
        int all = 0, overlap = 0;
        bool each = true;
        for (int node = 0; node < count; node++) {
            int mask = harness_cluster_owned (nodes[node]);
            each &= mask > 0;
            overlap |= all & (mask > 0 ? mask : 0);
            all |= mask > 0 ? mask : 0;
        }
        if (each && !overlap && all == (1 << partitions) - 1)
            return zclock_mono () - start;
        zclock_sleep (50); //  polling interval: jobd has no "tell me when" query
    }
    return -1;
}

int64_t
harness_cluster_ended (harness_t *harness)
{
    int64_t succeeded = harness_count (harness, JOBD_STATE_SUCCEEDED);
    int64_t failed = harness_count (harness, JOBD_STATE_FAILED);
    return succeeded < 0 || failed < 0 ? -1 : succeeded + failed;
}

bool
harness_cluster_wait_ended (harness_t *harness, int64_t ended, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (harness_cluster_ended (harness) != ended && zclock_mono () < deadline)
        zclock_sleep (20); //  polling interval: jobd has no "tell me when" query
    return harness_cluster_ended (harness) == ended;
}

void
harness_cluster_spark_config (harness_t *harness, const char *instance, const char *brokers,
                              int partitions, int sim_port, const char *plugins,
                              const char *cluster)
{
    char text[4096];
    snprintf (text, sizeof text,
              "plugins\n"
              "    spark-poller\n"
              "        path = %s/plugins/spark-poller.so\n"
              "        interval_min = 100ms\n"
              "        interval_max = 200ms\n"
              "        list_interval = 200ms\n"
              "        backend\n"
              "            master\n"
              "                type = standalone\n"
              "                url = http://127.0.0.1:%d\n"
              "                master = spark://127.0.0.1:7077\n"
              "            livy\n"
              "                type = livy\n"
              "                url = http://127.0.0.1:%d\n"
              "%s"
              "cluster\n"
              "    instance = %s\n"
              "    brokers = %s\n"
              "    partitions = %d\n"
              "%s"
              "%s",
              harness_build_dir (), sim_port, sim_port, plugins, instance, brokers, partitions,
              strstr (cluster, "session_timeout") ? "" : "    session_timeout = 4s\n", cluster);
    harness_write_config (harness, text);
}
