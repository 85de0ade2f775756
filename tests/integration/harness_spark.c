//  Integration test harness, Spark side (see harness_spark.h).
#include "harness_spark.h"
#include "jobd_map.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
harness_spark_sim (harness_proc_t *sim, const harness_t *harness, const char *const args[])
{
    char binary[512], port_file[400], log[400];
    snprintf (port_file, sizeof port_file, "%s/sim.port", harness->dir);
    snprintf (log, sizeof log, "%s/spark-sim.log", harness->dir);
    char *argv[32] = {(char *)harness_bin ("spark-sim", binary, sizeof binary), "--port", "0",
                      "--port-file", port_file};
    size_t count = 5;
    for (size_t index = 0; args && args[index] && count < 31; index++)
        argv[count++] = (char *)args[index];
    argv[count] = NULL;
    if (harness_spawn_logged (sim, argv, log) || !harness_proc_wait_out (sim, "listening", 10000))
        return -1;
    FILE *file = fopen (port_file, "r");
    int port = -1;
    if (!file || fscanf (file, "%d", &port) != 1)
        port = -1;
    if (file)
        fclose (file);
    return port;
}

static size_t
s_write (char *data, size_t size, size_t count, void *arg)
{
    zchunk_t *chunk = (zchunk_t *)arg;
    zchunk_extend (chunk, data, size * count);
    return size * count;
}

char *
harness_spark_http (int port, const char *method, const char *path, const char *body, long *status)
{
    char url[512];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    zchunk_t *chunk = zchunk_new (NULL, 0);
    CURL *curl = curl_easy_init ();
    *status = -1;
    if (curl) {
        curl_easy_setopt (curl, CURLOPT_URL, url);
        curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
        curl_easy_setopt (curl, CURLOPT_WRITEDATA, chunk);
        curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 60000L); //  bulk /sim/jobs of a bench
        curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
        struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
        curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
        if (body)
            curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
        if (curl_easy_perform (curl) == CURLE_OK)
            curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, status);
        curl_slist_free_all (headers);
        curl_easy_cleanup (curl);
    }
    char *text = strndup ((const char *)zchunk_data (chunk), zchunk_size (chunk));
    zchunk_destroy (&chunk);
    return text;
}

json_t *
harness_spark_call (int port, const char *method, const char *path, const char *body)
{
    long status;
    char *text = harness_spark_http (port, method, path, body, &status);
    json_t *json = text ? json_loads (text, JSON_DECODE_ANY, NULL) : NULL;
    if (!json || status < 200 || status > 299) {
        fprintf (stderr, "spark-sim %s %s -> HTTP %ld: %s\n", method, path, status,
                 text ? text : "");
        json_decref (json);
        json = NULL;
    }
    free (text);
    return json;
}

int64_t
harness_spark_count (int port, const char *prefix)
{
    json_t *stats = harness_spark_call (port, "GET", "/sim/stats", NULL);
    if (!stats)
        return -1;
    int64_t count = 0;
    const char *key;
    json_t *value;
    json_object_foreach (json_object_get (stats, "endpoints"), key, value)
    {
        if (strncmp (key, prefix, strlen (prefix)) == 0)
            count += json_integer_value (value);
    }
    json_decref (stats);
    return count;
}

int64_t
harness_spark_creates (int port, const char *key)
{
    json_t *stats = harness_spark_call (port, "GET", "/sim/stats", NULL);
    if (!stats)
        return -1;
    int64_t count = json_integer_value (json_object_get (json_object_get (stats, "creates"), key));
    json_decref (stats);
    return count;
}

bool
harness_spark_wait (int port, const char *prefix, const char *key, int64_t count, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    for (;;) {
        int64_t now =
            prefix ? harness_spark_count (port, prefix) : harness_spark_creates (port, key);
        if (now >= count)
            return true;
        if (zclock_mono () >= deadline)
            return false;
        zclock_sleep (10); //  polling with a deadline: the simulator sends no events
    }
}

bool
harness_spark_wait_fault_taken (int port, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    for (;;) {
        json_t *faults = harness_spark_call (port, "GET", "/sim/fault", NULL);
        bool taken = faults && json_array_size (json_object_get (faults, "faults")) == 0;
        json_decref (faults);
        if (taken)
            return true;
        if (zclock_mono () >= deadline)
            return false;
        zclock_sleep (5);
    }
}

int
harness_spark_submit (harness_t *harness, const char *backend, const char *main_class,
                      const char *scenario, char *id, size_t size)
{
    return harness_spark_submit_within (harness, backend, main_class, scenario, id, size, 10000);
}

//  A submission of a Spark job (see harness_spark_submit), encoded into *data_p (free it).
static int
s_submit_bytes (const char *backend, const char *main_class, const char *scenario, uint8_t **data_p,
                size_t *size_p)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, "spark");
    jobd_event_set (&submit->backend, backend);
    char spec[1024];
    snprintf (spec, sizeof spec,
              "{\"appResource\":\"hdfs:///jobs/etl.jar\",\"mainClass\":\"%s\",\"args\":[],"
              "\"sparkProperties\":{\"spark.sim.scenario\":\"%s\"}}",
              main_class, scenario);
    jobd_event_set (&submit->spec, spec);
    int rc = jobd_event_encode (submit, data_p, size_p, NULL, 0) ? -1 : 0;
    jobd_event_destroy (&submit);
    return rc;
}

int
harness_spark_submit_within (harness_t *harness, const char *backend, const char *main_class,
                             const char *scenario, char *id, size_t size, int timeout_ms)
{
    uint8_t *data = NULL;
    size_t data_size = 0;
    int rc = s_submit_bytes (backend, main_class, scenario, &data, &data_size);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    if (rc == 0 && harness_request (harness, data, data_size, &reply, timeout_ms) != 0)
        rc = -1;
    if (rc == 0 && !jobd_map_string (&reply.data, "job", id, size)) {
        fprintf (stderr, "harness: the submission to %s was refused\n", harness->config);
        rc = -1;
    }
    msgpack_unpacked_destroy (&reply);
    free (data);
    return rc;
}

zsock_t *
harness_spark_submit_start (harness_t *harness, const char *backend, const char *main_class,
                            const char *scenario)
{
    uint8_t *data = NULL;
    size_t data_size = 0;
    zsock_t *dealer = s_submit_bytes (backend, main_class, scenario, &data, &data_size) == 0
                          ? harness_request_start (harness, data, data_size)
                          : NULL;
    free (data);
    return dealer;
}
