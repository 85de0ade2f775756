//  The plugin loader with real shared objects: a good plugin runs, one that fails init, one built
//  for a wrong ABI, a missing one and a disabled one are each reported with their reason; a
//  plugin built against the ABI 1.0 header and one of a newer minor run, a descriptor smaller
//  than 1.0's is refused; the host table's reads hand over what they read sized or encoded.
#include "jobd_config.h"
#include "jobd_plugin_loader.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static jobd_config_t *
s_config (const char *text)
{
    char path[] = "/tmp/jobd-loader-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
    close (fd);
    jobd_config_t *config = NULL;
    char reason[256];
    assert_int_equal (jobd_config_load (path, &config, reason, sizeof reason), 0);
    unlink (path);
    return config;
}

static const char *
s_plugin_dir (void)
{
    static char dir[512];
    snprintf (dir, sizeof dir, "%s/test-plugins",
              getenv ("JOBD_BUILD_DIR") ? getenv ("JOBD_BUILD_DIR") : ".");
    return dir;
}

static void
test_each_outcome_is_reported (void **state)
{
    jobd_config_t *config = s_config ("plugins\n"
                                      "    driver\n"
                                      "        jobs = 0\n"
                                      "    failinit\n"
                                      "    badabi\n"
                                      "    missing\n"
                                      "    off\n"
                                      "        enabled = false\n");
    jobd_plugin_loader_t *loader = jobd_plugin_loader_new (config, NULL, s_plugin_dir ());
    char reason[512] = "";
    assert_int_equal (jobd_plugin_loader_load (loader, reason, sizeof reason), 0);
    const char *why = NULL;
    assert_string_equal (jobd_plugin_loader_status (loader, "driver", NULL), "loaded");
    assert_string_equal (jobd_plugin_loader_status (loader, "badabi", &why), "failed");
    char expected[100];
    snprintf (expected, sizeof expected, "built for plugin ABI 99.0, this jobd has %d.%d",
              JOBD_PLUGIN_ABI_MAJOR, JOBD_PLUGIN_ABI_MINOR);
    assert_non_null (strstr (why, expected));
    assert_string_equal (jobd_plugin_loader_status (loader, "missing", &why), "failed");
    assert_non_null (strstr (why, "missing.so"));
    assert_non_null (strstr (why, "run ldd"));
    assert_string_equal (jobd_plugin_loader_status (loader, "off", NULL), "disabled");
    assert_null (jobd_plugin_loader_status (loader, "nobody", NULL));

    assert_int_equal (jobd_plugin_loader_start (loader, NULL), 1);
    assert_string_equal (jobd_plugin_loader_status (loader, "driver", NULL), "running");
    assert_string_equal (jobd_plugin_loader_status (loader, "failinit", &why), "failed");
    assert_non_null (strstr (why, "failinit refuses to start"));
    //  Stopping joins the running plugin's thread.
    jobd_plugin_loader_destroy (&loader);
    assert_null (loader);
    jobd_config_destroy (&config);
}

static void
test_plugin_config_is_checked (void **state)
{
    jobd_config_t *config = s_config ("plugins\n    driver\n        jobz = 3\n");
    jobd_plugin_loader_t *loader = jobd_plugin_loader_new (config, NULL, s_plugin_dir ());
    char reason[512] = "";
    assert_int_equal (jobd_plugin_loader_load (loader, reason, sizeof reason), JOBD_ECONFIG);
    assert_non_null (strstr (reason, ":3: unknown key 'jobz' in section 'plugins/driver'"));
    jobd_plugin_loader_destroy (&loader);
    jobd_config_destroy (&config);
}

static void
test_folder_scan_without_plugins_section (void **state)
{
    jobd_config_t *config = s_config ("core\n    store = x\n");
    jobd_plugin_loader_t *loader = jobd_plugin_loader_new (config, NULL, s_plugin_dir ());
    char reason[512] = "";
    assert_int_equal (jobd_plugin_loader_load (loader, reason, sizeof reason), 0);
    //  Every .so of the folder, with its defaults.
    assert_string_equal (jobd_plugin_loader_status (loader, "driver", NULL), "loaded");
    assert_string_equal (jobd_plugin_loader_status (loader, "badabi", NULL), "failed");
    jobd_plugin_loader_destroy (&loader);
    jobd_config_destroy (&config);
}

//  A temporary store and what it holds.
typedef struct {
    char dir[64];
    jobd_store_t *store;
} s_store_t;

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    return remove (path);
}

static void
s_store_open (s_store_t *self)
{
    snprintf (self->dir, sizeof self->dir, "/tmp/jobd-loader-store-XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    char reason[256];
    assert_int_equal (jobd_store_open (self->dir, 0, 0, &self->store, reason, sizeof reason), 0);
}

static void
s_store_close (s_store_t *self)
{
    jobd_store_destroy (&self->store);
    nftw (self->dir, s_remove, 8, FTW_DEPTH | FTW_PHYS);
}

//  Submits a job of kind with spec; returns its id in id.
static void
s_submit (s_store_t *self, const char *kind, const char *spec, char *id, size_t id_size)
{
    jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
    jobd_event_set (&submit->source, "test");
    jobd_event_set (&submit->kind, kind);
    jobd_event_set (&submit->spec, spec);
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_begin (self->store), 0);
    assert_int_equal (jobd_store_apply (self->store, submit, &result), 0);
    assert_int_equal (jobd_store_commit (self->store), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (&submit);
    snprintf (id, id_size, "%s", result.job);
}

//  Receives the next event that source sent on the bus (a ROUTER frame pair), within the bus's
//  receive timeout. Events of others are skipped: an earlier test's plugins, stopped before the
//  bus was bound, leave theirs queued for it.
static jobd_event_t *
s_bus_recv (zsock_t *bus, const char *source)
{
    while (true) {
        zmsg_t *msg = zmsg_recv (bus);
        assert_non_null (msg);
        assert_int_equal (zmsg_size (msg), 2);
        zframe_t *payload = zmsg_last (msg);
        jobd_event_t *event = NULL;
        assert_int_equal (
            jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0), 0);
        zmsg_destroy (&msg);
        if (event->source && strcmp (event->source, source) == 0)
            return event;
        jobd_event_destroy (&event);
    }
}

//  A plugin deployed when the ABI was 1.0 loads, runs, reads the store through the 1.0 host
//  table, sends an event and stops.
static void
test_abi10_plugin_runs (void **state)
{
    s_store_t store;
    s_store_open (&store);
    char id[64], text[256];
    s_submit (&store, "spark", "{}", id, sizeof id);
    snprintf (text, sizeof text, "plugins\n    abi10\n        job = %s\n", id);
    jobd_config_t *config = s_config (text);
    zsock_t *bus = zsock_new_router ("@" JOBD_BUS_ENDPOINT);
    assert_non_null (bus);
    zsock_set_rcvtimeo (bus, 5000);
    jobd_plugin_loader_t *loader = jobd_plugin_loader_new (config, store.store, s_plugin_dir ());
    char reason[512] = "";
    assert_int_equal (jobd_plugin_loader_load (loader, reason, sizeof reason), 0);
    const char *why = NULL;
    assert_string_equal (jobd_plugin_loader_status (loader, "abi10", &why), "loaded");
    assert_int_equal (jobd_plugin_loader_start (loader, NULL), 1);

    jobd_event_t *event = s_bus_recv (bus, "abi10");
    assert_int_equal (event->type, JOBD_EVENT_PLUGIN_STATUS);
    assert_string_equal (event->status, "running");
    char expected[256];
    snprintf (expected, sizeof expected, "job %s kind spark state QUEUED, 1 jobs", id);
    assert_string_equal (event->detail, expected);
    jobd_event_destroy (&event);

    //  Stopping it: $TERM, then the loader reports it stopped (not failed) on its behalf.
    jobd_plugin_loader_destroy (&loader);
    event = s_bus_recv (bus, "abi10");
    assert_string_equal (event->status, "stopped");
    jobd_event_destroy (&event);
    zsock_destroy (&bus);
    jobd_config_destroy (&config);
    s_store_close (&store);
}

//  A descriptor of a newer minor (bigger, with a field this jobd does not know) loads and runs;
//  one smaller than ABI 1.0's is refused with its size and the size it needs.
static void
test_descriptor_sizes (void **state)
{
    jobd_config_t *config = s_config ("plugins\n    future\n    small\n");
    jobd_plugin_loader_t *loader = jobd_plugin_loader_new (config, NULL, s_plugin_dir ());
    char reason[512] = "";
    assert_int_equal (jobd_plugin_loader_load (loader, reason, sizeof reason), 0);
    const char *why = NULL;
    assert_string_equal (jobd_plugin_loader_status (loader, "future", &why), "loaded");
    assert_string_equal (jobd_plugin_loader_status (loader, "small", &why), "failed");
    char expected[200];
    snprintf (expected, sizeof expected, "incomplete descriptor (size %zu, ABI 1.0 has %zu bytes)",
              offsetof (jobd_plugin_t, destroy), JOBD_PLUGIN_SIZE_1_0);
    assert_non_null (strstr (why, expected));
    assert_int_equal (jobd_plugin_loader_start (loader, NULL), 1);
    assert_string_equal (jobd_plugin_loader_status (loader, "future", NULL), "running");
    jobd_plugin_loader_destroy (&loader);
    jobd_config_destroy (&config);
}

//  The 1.0 descriptor's size is frozen; JOBD_PLUGIN_HAS reads a field past a descriptor's size
//  as absent.
static void
test_descriptor_has (void **state)
{
    assert_int_equal (JOBD_PLUGIN_SIZE_1_0, offsetof (jobd_plugin_t, destroy) + sizeof (void *));
    assert_true (JOBD_PLUGIN_SIZE_1_0 <= sizeof (jobd_plugin_t));
    jobd_plugin_t descriptor = {.size = JOBD_PLUGIN_SIZE_1_0};
    assert_true (JOBD_PLUGIN_HAS (&descriptor, destroy));
    descriptor.size = offsetof (jobd_plugin_t, destroy);
    assert_true (JOBD_PLUGIN_HAS (&descriptor, run));
    assert_false (JOBD_PLUGIN_HAS (&descriptor, destroy));
}

typedef struct {
    size_t calls;
    size_t largest;
    char id[64];
    char *spec; //  the large job's spec, copied
} s_seen_t;

static bool
s_seen_encoded (const uint8_t *data, size_t size, void *arg)
{
    s_seen_t *seen = (s_seen_t *)arg;
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_job_decode (data, size, &job, NULL, 0), 0);
    seen->calls++;
    if (size > seen->largest) {
        seen->largest = size;
        snprintf (seen->id, sizeof seen->id, "%s", job->id);
        free (seen->spec);
        seen->spec = job->spec ? strdup (job->spec) : NULL;
    }
    jobd_job_destroy (&job);
    return true;
}

static bool
s_seen_job (const jobd_job_t *job, void *arg)
{
    s_seen_t *seen = (s_seen_t *)arg;
    seen->calls++;
    size_t size = job->spec ? strlen (job->spec) : 0;
    if (size > seen->largest) {
        seen->largest = size;
        snprintf (seen->id, sizeof seen->id, "%s", job->id);
    }
    return seen->calls < 2; //  stops after two
}

typedef struct {
    size_t calls;
    char job[64];
    jobd_state_t state;
} s_history_t;

static bool
s_history_one (const uint8_t *data, size_t size, void *arg)
{
    s_history_t *history = (s_history_t *)arg;
    jobd_event_t *event = NULL;
    assert_int_equal (jobd_event_decode (data, size, &event, NULL, 0), 0);
    assert_int_equal (event->type, JOBD_EVENT_TRANSITION);
    history->calls++;
    snprintf (history->job, sizeof history->job, "%s", event->job);
    history->state = event->state;
    jobd_event_destroy (&event);
    return true;
}

//  job_read and job_scan_encoded hand over the record encoded with its size, a large one whole;
//  the header's helpers decode it with the caller's proto, and fall back to job_get and job_scan
//  on a core older than 1.3.
static void
test_host_reads_encoded (void **state)
{
    s_store_t store;
    s_store_open (&store);
    //  A spec near the limit: its record is bigger than any buffer a reader would guess.
    char *spec = (char *)malloc (JOBD_SPEC_MAX);
    memset (spec, 'x', JOBD_SPEC_MAX - 1);
    spec[0] = '"';
    spec[JOBD_SPEC_MAX - 2] = '"';
    spec[JOBD_SPEC_MAX - 1] = 0;
    char small[64], large[64], other[64];
    s_submit (&store, "spark", "{}", small, sizeof small);
    s_submit (&store, "spark", spec, large, sizeof large);
    s_submit (&store, "kafka", "{}", other, sizeof other);
    jobd_config_t *config = s_config ("plugins\n    future\n");
    jobd_plugin_loader_t *loader = jobd_plugin_loader_new (config, store.store, s_plugin_dir ());
    char reason[512] = "";
    assert_int_equal (jobd_plugin_loader_load (loader, reason, sizeof reason), 0);
    assert_null (jobd_plugin_loader_host (loader, "future"));
    assert_int_equal (jobd_plugin_loader_start (loader, NULL), 1);
    const jobd_host_t *host = jobd_plugin_loader_host (loader, "future");
    assert_non_null (host);
    assert_int_equal (host->abi_minor, JOBD_PLUGIN_ABI_MINOR);
    assert_true (JOBD_HOST_HAS (host, job_read) && JOBD_HOST_HAS (host, job_scan_encoded));

    s_seen_t seen = {0};
    assert_int_equal (host->job_read (host, large, s_seen_encoded, &seen), 0);
    assert_int_equal (seen.calls, 1);
    assert_true (seen.largest > JOBD_SPEC_MAX);
    assert_string_equal (seen.id, large);
    assert_string_equal (seen.spec, spec);
    assert_int_equal (host->job_read (host, "job-none", s_seen_encoded, &seen), JOBD_ENOTFOUND);
    assert_int_equal (seen.calls, 1);

    //  ABI 1.5: the run folder (none in this config), and a job's history as transition events
    //  (one: its QUEUED).
    assert_true (JOBD_HOST_HAS (host, job_history) && JOBD_HOST_HAS (host, run_dir));
    s_history_t history = {0};
    assert_int_equal (host->job_history (host, small, 10, s_history_one, &history), 1);
    assert_int_equal (history.calls, 1);
    assert_string_equal (history.job, small);
    assert_int_equal (history.state, JOBD_STATE_QUEUED);
    assert_int_equal (host->job_history (host, small, 0, s_history_one, &history), 1);
    assert_int_equal (history.calls, 1);
    assert_int_equal (host->job_history (host, "job-none", 10, s_history_one, &history),
                      JOBD_ENOTFOUND);

    seen.calls = 0;
    assert_int_equal (host->job_scan_encoded (host, 0, s_seen_encoded, &seen), 0);
    assert_int_equal (seen.calls, 3);
    assert_string_equal (seen.id, large);
    seen.calls = 0;
    assert_int_equal (
        host->job_scan_encoded (host, 1u << JOBD_STATE_RUNNING, s_seen_encoded, &seen), 0);
    assert_int_equal (seen.calls, 0);

    //  The helpers, on this core and on a 1.2 one (a host table that ends before job_read).
    jobd_host_t older = *host;
    older.size = offsetof (jobd_host_t, job_read);
    assert_false (JOBD_HOST_HAS (&older, job_read));
    const jobd_host_t *hosts[] = {host, &older};
    for (size_t index = 0; index < 2; index++) {
        jobd_job_t *job = (jobd_job_t *)1;
        assert_int_equal (jobd_host_job_get (hosts[index], large, &job), 0);
        assert_string_equal (job->id, large);
        assert_string_equal (job->spec, spec);
        assert_int_equal (job->state, JOBD_STATE_QUEUED);
        jobd_job_destroy (&job);
        job = (jobd_job_t *)1;
        assert_int_equal (jobd_host_job_get (hosts[index], "job-none", &job), JOBD_ENOTFOUND);
        assert_null (job);
        s_seen_t scanned = {0};
        assert_int_equal (jobd_host_job_scan (hosts[index], 0, s_seen_job, &scanned), 0);
        assert_int_equal (scanned.calls, 2); //  stopped by the callback
        scanned.calls = 0;
        assert_int_equal (
            jobd_host_job_scan (hosts[index], 1u << JOBD_STATE_QUEUED, s_seen_job, &scanned), 0);
        assert_int_equal (scanned.calls, 2);
    }
    free (seen.spec);
    free (spec);
    jobd_plugin_loader_destroy (&loader);
    jobd_config_destroy (&config);
    s_store_close (&store);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_each_outcome_is_reported),
        cmocka_unit_test (test_plugin_config_is_checked),
        cmocka_unit_test (test_folder_scan_without_plugins_section),
        cmocka_unit_test (test_abi10_plugin_runs),
        cmocka_unit_test (test_descriptor_sizes),
        cmocka_unit_test (test_descriptor_has),
        cmocka_unit_test (test_host_reads_encoded),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
