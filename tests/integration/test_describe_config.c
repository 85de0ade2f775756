//  jobd --describe-config: every key of the core and of the plugins jobd would load, from their
//  config maps, in text, JSON and markdown; a bad option or config fails as jobd's start-up does.
#include "harness.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static harness_t s_harness;
static char s_out[65536];
static char s_err[8192];

static int
s_setup (void **state)
{
    harness_init (&s_harness, "describe");
    return 0;
}

static int
s_teardown (void **state)
{
    unsetenv ("JOBD_CORE_PLUGIN_DIR");
    harness_fini (&s_harness);
    return 0;
}

//  Runs jobd with args (NULL-terminated); stdout in s_out, stderr in s_err. Returns the exit code.
static int
s_jobd (const char *const *args)
{
    return harness_run_bin ("jobd", args, s_out, sizeof s_out, s_err, sizeof s_err);
}

//  Writes the harness's config with a plugins section naming the built demo plugin only.
static void
s_config_with_demo (const char *demo_extra)
{
    char extra[1024];
    snprintf (extra, sizeof extra, "plugins\n    demo\n        path = %s/plugins/demo.so\n%s",
              harness_build_dir (), demo_extra);
    harness_write_config (&s_harness, extra);
}

//  Returns the section named name of the parsed answer (borrowed), or NULL.
static json_t *
s_section (json_t *root, const char *name)
{
    size_t index;
    json_t *section;
    json_array_foreach (json_object_get (root, "sections"), index, section)
    {
        if (strcmp (json_string_value (json_object_get (section, "section")), name) == 0)
            return section;
    }
    return NULL;
}

//  Checks that section holds key with this type and default (NULL: required) and a help text.
static void
s_assert_key (json_t *root, const char *section_name, const char *key, const char *type,
              const char *fallback)
{
    json_t *section = s_section (root, section_name);
    if (!section)
        fail_msg ("no section %s", section_name);
    size_t index;
    json_t *entry, *found = NULL;
    json_array_foreach (json_object_get (section, "keys"), index, entry)
    {
        if (strcmp (json_string_value (json_object_get (entry, "key")), key) == 0)
            found = entry;
    }
    if (!found)
        fail_msg ("no key %s in section %s", key, section_name);
    char path[300];
    snprintf (path, sizeof path, "%s/%s", section_name, key);
    assert_string_equal (json_string_value (json_object_get (found, "path")), path);
    assert_string_equal (json_string_value (json_object_get (found, "type")), type);
    json_t *value = json_object_get (found, "default");
    if (fallback)
        assert_string_equal (json_string_value (value), fallback);
    else
        assert_true (json_is_null (value));
    assert_true (json_is_true (json_object_get (found, "required")) == (fallback == NULL));
    const char *help = json_string_value (json_object_get (found, "help"));
    assert_non_null (help);
    assert_true (strlen (help) > 5);
}

static json_t *
s_parse (const char *text)
{
    json_error_t error;
    json_t *root = json_loads (text, 0, &error);
    if (!root)
        fail_msg ("not JSON: %s (line %d): %.200s", error.text, error.line, text);
    return root;
}

//  Without -c, jobd loads every plugin of its folder: all three plugins' keys are described.
static void
test_json_has_core_and_every_plugin (void **state)
{
    const char *args[] = {"--describe-config", "--json", NULL};
    assert_int_equal (s_jobd (args), 0);
    json_t *root = s_parse (s_out);
    assert_string_equal (json_string_value (json_object_get (root, "config")),
                         "(embedded default)");
    s_assert_key (root, "core", "store", "string", "jobd-data");
    s_assert_key (root, "core", "map_size", "size", "1GiB");
    s_assert_key (root, "core", "batch_max", "int", "4096");
    s_assert_key (root, "core", "insecure", "bool", "false");
    s_assert_key (root, "core", "cursor_idle_max", "duration", "168h");
    s_assert_key (root, "plugins/*", "enabled", "bool", "true");
    s_assert_key (root, "plugins/demo", "step", "duration", "1s");
    s_assert_key (root, "plugins/kafka-listener", "brokers", "string", "");
    s_assert_key (root, "plugins/kafka-listener", "kinds/*/heartbeat", "duration", "0");
    s_assert_key (root, "plugins/spark-poller", "backend/*/url", "string", NULL);
    json_t *demo = s_section (root, "plugins/demo");
    assert_string_equal (json_string_value (json_object_get (demo, "plugin")), "demo");
    assert_non_null (json_string_value (json_object_get (demo, "description")));
    //  Only what was asked: nothing but the description on stdout, and no log lines on stderr.
    assert_string_equal (s_err, "");
    json_decref (root);
}

//  With -c, exactly the plugins the config names are described, from the config's own folder.
static void
test_config_names_the_plugins (void **state)
{
    s_config_with_demo ("");
    const char *args[] = {"--describe-config", "--json", "-c", s_harness.config, NULL};
    assert_int_equal (s_jobd (args), 0);
    json_t *root = s_parse (s_out);
    assert_string_equal (json_string_value (json_object_get (root, "config")), s_harness.config);
    s_assert_key (root, "plugins/demo", "fail_every", "int", "3");
    assert_null (s_section (root, "plugins/spark-poller"));
    assert_null (s_section (root, "plugins/kafka-listener"));
    //  core, cluster, plugins/*, plugins/demo.
    assert_int_equal (json_array_size (json_object_get (root, "sections")), 4);
    json_decref (root);
}

//  Without a plugins section, the plugins are those of core/plugin_dir (or its environment
//  override), as at start-up: one that cannot be loaded is named, and fails the description.
static void
test_plugin_dir_from_config_and_environment (void **state)
{
    harness_write_config (&s_harness, ""); //  plugin_dir = BUILD/test-plugins
    const char *args[] = {"--describe-config", "--json", "-c", s_harness.config, NULL};
    assert_int_equal (s_jobd (args), 3);
    assert_non_null (strstr (s_err, "plugin badabi not loaded"));
    assert_non_null (strstr (s_err, "ABI 99.0"));
    assert_string_equal (s_out, "");

    char dir[400];
    snprintf (dir, sizeof dir, "%s/plugins", harness_build_dir ());
    setenv ("JOBD_CORE_PLUGIN_DIR", dir, 1);
    assert_int_equal (s_jobd (args), 0);
    json_t *root = s_parse (s_out);
    assert_string_equal (json_string_value (json_object_get (root, "plugin_dir")), dir);
    s_assert_key (root, "plugins/spark-poller", "backend/*/timeout", "duration", "10s");
    assert_null (s_section (root, "plugins/badabi"));
    json_decref (root);
}

//  The text is for people: every line fits in 80 columns, every key is there with its help.
static void
test_text_fits_80_columns (void **state)
{
    const char *args[] = {"--describe-config", NULL};
    assert_int_equal (s_jobd (args), 0);
    assert_non_null (strstr (s_out, "\nplugins/spark-poller\n"));
    assert_non_null (strstr (s_out, "    backend/*/password_file"));
    assert_non_null (strstr (s_out, "(required)"));
    assert_non_null (strstr (s_out, "folder of the LMDB store"));
    int line = 1;
    for (const char *at = s_out; *at; line++) {
        size_t length = strcspn (at, "\n");
        if (length > 80)
            fail_msg ("line %d has %zu columns: %.*s", line, length, (int)length, at);
        at += length + (at[length] == '\n');
    }
    assert_true (line > 60);
}

//  The markdown is what the READMEs hold between their markers (scripts/config-docs.sh).
static void
test_markdown_has_marked_tables (void **state)
{
    const char *args[] = {"--describe-config", "--markdown", NULL};
    assert_int_equal (s_jobd (args), 0);
    assert_true (strncmp (s_out, "<!-- jobd:config core -->\n| key | type | default | meaning |\n",
                          60) == 0);
    assert_non_null (strstr (s_out, "<!-- jobd:config plugins/demo -->\n"));
    assert_non_null (strstr (s_out, "| `step` | duration | `1s` | "));
    assert_non_null (strstr (s_out, "| `backend/*/type` | string | required | "));
    assert_non_null (strstr (s_out, "<!-- /jobd:config -->\n"));
}

//  Options: as the rest of jobd's, a usage error is exit 2 with a pointer to --help.
static void
test_bad_options_are_usage_errors (void **state)
{
    const char *both[] = {"--describe-config", "--json", "--markdown", NULL};
    assert_int_equal (s_jobd (both), 2);
    assert_non_null (strstr (s_err, "--describe-config"));
    const char *alone[] = {"--markdown", NULL};
    assert_int_equal (s_jobd (alone), 2);
    const char *with_check[] = {"--describe-config", "--check", NULL};
    assert_int_equal (s_jobd (with_check), 2);
    const char *unknown[] = {"--describe-config", "--colour", NULL};
    assert_int_equal (s_jobd (unknown), 2);
    const char *help[] = {"--help", NULL};
    assert_int_equal (s_jobd (help), 0);
    assert_non_null (strstr (s_out, "--describe-config"));
}

//  A bad config fails as start-up would (exit 3, the file, the line and the key), and nothing is
//  written on stdout.
static void
test_bad_config_is_refused (void **state)
{
    const char *args[] = {"--describe-config", "--json", "-c", s_harness.config, NULL};
    harness_write_config (&s_harness, "    colour = blue\n");
    assert_int_equal (s_jobd (args), 3);
    assert_non_null (strstr (s_err, "unknown key 'colour' in section 'core'"));
    assert_string_equal (s_out, "");

    s_config_with_demo ("        step = soon\n");
    assert_int_equal (s_jobd (args), 3);
    assert_non_null (strstr (s_err, "'plugins/demo/step': 'soon' is not a duration"));
    assert_string_equal (s_out, "");

    //  A plugin that cannot be loaded cannot be described: say which and why.
    harness_write_config (&s_harness, "plugins\n    nosuch\n");
    assert_int_equal (s_jobd (args), 3);
    assert_non_null (strstr (s_err, "plugin nosuch not loaded: cannot load"));
    assert_non_null (strstr (s_err, "its keys cannot be described"));
    assert_string_equal (s_out, "");

    //  A disabled plugin is not loaded, and not an error.
    harness_write_config (&s_harness, "plugins\n    nosuch\n        enabled = false\n");
    assert_int_equal (s_jobd (args), 0);
    json_t *root = s_parse (s_out);
    assert_null (s_section (root, "plugins/nosuch"));
    json_decref (root);

    const char *missing[] = {"--describe-config", "-c", "/nonexistent/jobd.cfg", NULL};
    assert_int_equal (s_jobd (missing), 3);
    assert_non_null (strstr (s_err, "/nonexistent/jobd.cfg"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_json_has_core_and_every_plugin, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_config_names_the_plugins, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_plugin_dir_from_config_and_environment, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_text_fits_80_columns, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_markdown_has_marked_tables, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_options_are_usage_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_config_is_refused, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
