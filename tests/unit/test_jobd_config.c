//  Config: ZPL files, typed maps, wildcards, environment overrides, errors with file and line.
#include "jobd_config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char s_path[64];

static jobd_config_t *
s_load (const char *text, int expect)
{
    snprintf (s_path, sizeof s_path, "/tmp/jobd-config-XXXXXX");
    int fd = mkstemp (s_path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
    close (fd);
    jobd_config_t *config = NULL;
    char reason[256];
    assert_int_equal (jobd_config_load (s_path, &config, reason, sizeof reason), expect);
    unlink (s_path);
    return config;
}

static const jobd_conf_key_t s_map[] = {{"url", JOBD_CONF_STRING, NULL, "required"},
                                        {"interval", JOBD_CONF_DURATION, "2s", NULL},
                                        {"limit", JOBD_CONF_SIZE, "1MiB", NULL},
                                        {"verbose", JOBD_CONF_BOOL, "no", NULL},
                                        {"backend/*/url", JOBD_CONF_STRING, NULL, "backend url"},
                                        {"backend/*/retries", JOBD_CONF_INT, "3", NULL},
                                        {NULL, 0, NULL, NULL}};

static void
test_values_defaults_and_wildcards (void **state)
{
    jobd_config_t *config = s_load ("plugins\n"
                                    "    p\n"
                                    "        url = http://x\n"
                                    "        interval = 250ms\n"
                                    "        verbose = on\n"
                                    "        backend\n"
                                    "            one\n"
                                    "                url = http://one\n"
                                    "            two\n"
                                    "                url = http://two\n"
                                    "                retries = 7\n",
                                    0);
    char reason[256] = "";
    assert_int_equal (jobd_config_check (config, "plugins/p", s_map, reason, sizeof reason), 0);
    assert_string_equal (jobd_config_str (config, "plugins/p", "url"), "http://x");
    assert_int_equal (jobd_config_int (config, "plugins/p", "interval", 0), 250);
    assert_int_equal (jobd_config_int (config, "plugins/p", "limit", 0), 1048576);
    assert_int_equal (jobd_config_int (config, "plugins/p", "verbose", 0), 1);
    assert_int_equal (jobd_config_int (config, "plugins/p", "backend/one/retries", 0), 3);
    assert_int_equal (jobd_config_int (config, "plugins/p", "backend/two/retries", 0), 7);
    const char *names[4];
    assert_int_equal (jobd_config_names (config, "plugins/p/backend", names, 4), 2);
    assert_string_equal (names[0], "one");
    assert_string_equal (names[1], "two");
    assert_int_equal (jobd_config_int (config, "plugins/p", "nothing", -5), -5);
    jobd_config_destroy (&config);
    assert_null (config);
}

static void
test_errors_name_file_line_and_key (void **state)
{
    char reason[256] = "";
    char expected[128];
    jobd_config_t *config = s_load ("plugins\n    p\n        url = x\n        urll = y\n", 0);
    assert_int_equal (jobd_config_check (config, "plugins/p", s_map, reason, sizeof reason),
                      JOBD_ECONFIG);
    snprintf (expected, sizeof expected, "%s:4: unknown key 'urll'", s_path);
    assert_non_null (strstr (reason, expected));
    jobd_config_destroy (&config);

    config = s_load ("plugins\n    p\n        url = x\n        interval = soon\n", 0);
    assert_int_equal (jobd_config_check (config, "plugins/p", s_map, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, ":4: key 'plugins/p/interval': 'soon' is not a duration"));
    jobd_config_destroy (&config);

    //  A required key, and a required key of a present wildcard subsection.
    config = s_load ("plugins\n    p\n        verbose = no\n", 0);
    assert_int_equal (jobd_config_check (config, "plugins/p", s_map, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "needs key 'url'"));
    jobd_config_destroy (&config);
    config = s_load ("plugins\n    p\n        url = x\n        backend\n            b\n"
                     "                retries = 1\n",
                     0);
    assert_int_equal (jobd_config_check (config, "plugins/p", s_map, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "needs key 'backend/b/url'"));
    jobd_config_destroy (&config);

    //  Tabs and unknown sections.
    assert_null (s_load ("core\n\tstore = x\n", JOBD_ECONFIG));
    config = s_load ("core\n    store = x\nbogus\n    a = 1\n", 0);
    static const char *const sections[] = {"core", "plugins", NULL};
    assert_int_equal (jobd_config_check_sections (config, sections, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, ":3: unknown section 'bogus'"));
    jobd_config_destroy (&config);
}

static void
test_environment_overrides (void **state)
{
    jobd_config_t *config = s_load ("plugins\n    p\n        url = from-file\n", 0);
    setenv ("JOBD_PLUGINS_P_URL", "from-env", 1);
    setenv ("JOBD_PLUGINS_P_INTERVAL", "1m", 1);
    char reason[256] = "";
    assert_int_equal (jobd_config_check (config, "plugins/p", s_map, reason, sizeof reason), 0);
    assert_string_equal (jobd_config_str (config, "plugins/p", "url"), "from-env");
    assert_int_equal (jobd_config_int (config, "plugins/p", "interval", 0), 60000);
    setenv ("JOBD_PLUGINS_P_LIMIT", "12 parsecs", 1);
    assert_int_equal (jobd_config_check (config, "plugins/p", s_map, reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "environment JOBD_PLUGINS_P_LIMIT"));
    unsetenv ("JOBD_PLUGINS_P_URL");
    unsetenv ("JOBD_PLUGINS_P_INTERVAL");
    unsetenv ("JOBD_PLUGINS_P_LIMIT");
    jobd_config_destroy (&config);
}

static void
test_value_parsing (void **state)
{
    int64_t value;
    assert_int_equal (jobd_config_parse_value (JOBD_CONF_DURATION, "1h", &value), 0);
    assert_int_equal (value, 3600000);
    assert_int_equal (jobd_config_parse_value (JOBD_CONF_DURATION, "-1s", &value), JOBD_ECONFIG);
    assert_int_equal (jobd_config_parse_value (JOBD_CONF_SIZE, "16MiB", &value), 0);
    assert_int_equal (value, 16 * 1048576);
    assert_int_equal (jobd_config_parse_value (JOBD_CONF_SIZE, "99999999999G", &value),
                      JOBD_ECONFIG);
    assert_int_equal (jobd_config_parse_value (JOBD_CONF_INT, "12a", &value), JOBD_ECONFIG);
    assert_int_equal (jobd_config_parse_value (JOBD_CONF_INT, "", &value), JOBD_ECONFIG);
    assert_int_equal (jobd_config_parse_value (JOBD_CONF_BOOL, "maybe", &value), JOBD_ECONFIG);
    assert_int_equal (jobd_config_parse_value (JOBD_CONF_BOOL, "OFF", &value), 0);
    assert_int_equal (value, 0);
}

static void
test_embedded_default (void **state)
{
    jobd_config_t *config = NULL;
    char reason[256];
    assert_int_equal (jobd_config_load (NULL, &config, reason, sizeof reason), 0);
    assert_int_equal (
        jobd_config_check (config, "core", jobd_config_core_map, reason, sizeof reason), 0);
    assert_string_equal (jobd_config_str (config, "core", "store"), "jobd-data");
    assert_int_equal (jobd_config_int (config, "core", "batch_max", 0), 4096);
    assert_string_equal (jobd_config_filename (config), "(embedded default)");
    jobd_config_destroy (&config);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_values_defaults_and_wildcards),
        cmocka_unit_test (test_errors_name_file_line_and_key),
        cmocka_unit_test (test_environment_overrides),
        cmocka_unit_test (test_value_parsing),
        cmocka_unit_test (test_embedded_default),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
