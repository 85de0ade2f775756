//  The plugin loader with real shared objects: a good plugin runs, one that fails init, one built
//  for a wrong ABI, a missing one and a disabled one are each reported with their reason.
#include "jobd_config.h"
#include "jobd_plugin_loader.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
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
    assert_non_null (strstr (why, "built for plugin ABI 99.0, this jobd has 1.2"));
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

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_each_outcome_is_reported),
        cmocka_unit_test (test_plugin_config_is_checked),
        cmocka_unit_test (test_folder_scan_without_plugins_section),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
