//  Trusted files: jobd refuses a config, a plugin or a plugin folder that others than its owner
//  or root can write, before it reads or dlopens it, and --check runs no code it has not vetted.
#include "harness.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static harness_t s_harness;
static char s_marker[400];

static int
s_setup (void **state)
{
    harness_init (&s_harness, "trust");
    snprintf (s_marker, sizeof s_marker, "%s/constructor-ran", s_harness.dir);
    setenv ("JOBD_TEST_MARKER", s_marker, 1);
    return 0;
}

static int
s_teardown (void **state)
{
    unsetenv ("JOBD_TEST_MARKER");
    unsetenv ("JOBD_PLUGINS_MARKER_PATH");
    unsetenv ("JOBD_CORE_PLUGIN_DIR");
    unsetenv ("LD_LIBRARY_PATH");
    harness_fini (&s_harness);
    return 0;
}

static bool
s_marker_exists (void)
{
    return access (s_marker, F_OK) == 0;
}

//  Runs jobd with arguments; returns its exit code, stderr in err.
static int
s_jobd (const char *const *args, char *err, size_t err_size)
{
    return harness_run_bin ("jobd", args, NULL, 0, err, err_size);
}

//  Copies the built marker plugin to dir/marker.so (mode 0644, dir made 0755 when absent).
static void
s_copy_marker (const char *dir, char *path, size_t path_size)
{
    mkdir (dir, 0755);
    char source[512];
    snprintf (source, sizeof source, "%s/test-plugins/marker.so", harness_build_dir ());
    snprintf (path, path_size, "%s/marker.so", dir);
    FILE *in = fopen (source, "rb");
    FILE *out = fopen (path, "wb");
    assert_non_null (in);
    assert_non_null (out);
    char buffer[65536];
    size_t got;
    while ((got = fread (buffer, 1, sizeof buffer, in)) > 0)
        assert_int_equal (fwrite (buffer, 1, got, out), got);
    fclose (in);
    fclose (out);
    assert_int_equal (chmod (path, 0644), 0);
}

static void
s_config_with_marker (const char *path)
{
    char extra[1024];
    snprintf (extra, sizeof extra, "plugins\n    marker\n        path = %s\n", path);
    harness_write_config (&s_harness, extra);
}

static void
test_group_writable_config_is_refused (void **state)
{
    char err[4096];
    const char *check[] = {"-c", s_harness.config, "--check", NULL};
    const char *run[] = {"-c", s_harness.config, NULL};
    harness_write_config (&s_harness, "");
    assert_int_equal (chmod (s_harness.config, 0664), 0);
    assert_int_equal (s_jobd (check, err, sizeof err), 3);
    assert_non_null (strstr (err, "is writable by its group (mode 0664)"));
    assert_non_null (strstr (err, s_harness.config));
    assert_int_equal (s_jobd (run, err, sizeof err), 3);
    assert_non_null (strstr (err, "chmod go-w"));
    //  A folder above it that everyone can write (not sticky) is as bad.
    assert_int_equal (chmod (s_harness.config, 0644), 0);
    assert_int_equal (chmod (s_harness.dir, 0777), 0);
    assert_int_equal (s_jobd (check, err, sizeof err), 3);
    assert_non_null (strstr (err, "its folder"));
    assert_non_null (strstr (err, "is writable by everyone (mode 0777)"));
    //  Sticky (like /tmp, under which this folder lives): others cannot swap our entries.
    assert_int_equal (chmod (s_harness.dir, 01777), 0);
    assert_int_equal (s_jobd (check, err, sizeof err), 0);
    assert_int_equal (chmod (s_harness.dir, 0700), 0);
    assert_int_equal (s_jobd (check, err, sizeof err), 0);
    if (geteuid () == 0) {
        //  Root may hand a file to anyone: one owned by another user is refused too.
        assert_int_equal (chown (s_harness.config, 65534, 65534), 0);
        assert_int_equal (s_jobd (check, err, sizeof err), 3);
        assert_non_null (strstr (err, "is owned by uid 65534"));
        assert_int_equal (chown (s_harness.config, 0, 0), 0);
    }
}

static void
test_world_writable_plugin_is_refused_and_never_run (void **state)
{
    char err[4096], dir[512], plugin[600];
    snprintf (dir, sizeof dir, "%s/plugins", s_harness.dir);
    s_copy_marker (dir, plugin, sizeof plugin);
    s_config_with_marker (plugin);
    const char *check[] = {"-c", s_harness.config, "--check", NULL};
    assert_int_equal (chmod (plugin, 0666), 0);
    assert_int_equal (s_jobd (check, err, sizeof err), 3);
    assert_non_null (strstr (err, "plugin marker"));
    assert_non_null (strstr (err, "is writable by everyone (mode 0666)"));
    assert_false (s_marker_exists ());
    //  An environment override is held to the same checks.
    assert_int_equal (chmod (plugin, 0644), 0);
    char other[600];
    snprintf (dir, sizeof dir, "%s/other", s_harness.dir);
    s_copy_marker (dir, other, sizeof other);
    assert_int_equal (chmod (other, 0620), 0);
    setenv ("JOBD_PLUGINS_MARKER_PATH", other, 1);
    assert_int_equal (s_jobd (check, err, sizeof err), 3);
    unsetenv ("JOBD_PLUGINS_MARKER_PATH");
    assert_non_null (strstr (err, "is writable by its group (mode 0620)"));
    assert_false (s_marker_exists ());
    //  Once vetted, it loads (so its constructor runs: the marker shows the test can see it).
    assert_int_equal (s_jobd (check, err, sizeof err), 0);
    assert_true (s_marker_exists ());
}

static void
test_plugin_in_world_writable_folder_is_refused (void **state)
{
    char err[4096], dir[512], plugin[600];
    snprintf (dir, sizeof dir, "%s/open", s_harness.dir);
    s_copy_marker (dir, plugin, sizeof plugin);
    assert_int_equal (chmod (dir, 0777), 0);
    const char *check[] = {"-c", s_harness.config, "--check", NULL};
    //  Named with its path.
    s_config_with_marker (plugin);
    assert_int_equal (s_jobd (check, err, sizeof err), 3);
    assert_non_null (strstr (err, "its folder"));
    assert_non_null (strstr (err, "is writable by everyone (mode 0777)"));
    assert_false (s_marker_exists ());
    //  Found in the plugin folder.
    harness_write_config (&s_harness, "");
    setenv ("JOBD_CORE_PLUGIN_DIR", dir, 1);
    assert_int_equal (s_jobd (check, err, sizeof err), 3);
    assert_non_null (strstr (err, "plugin folder"));
    assert_false (s_marker_exists ());
    //  jobd itself starts without it, and says why in its plugin table.
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    char status[32], detail[600];
    assert_int_equal (
        harness_plugin (&s_harness, "marker", status, sizeof status, detail, sizeof detail), 0);
    assert_string_equal (status, "failed");
    assert_non_null (strstr (detail, "is writable by everyone"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    unsetenv ("JOBD_CORE_PLUGIN_DIR");
    assert_false (s_marker_exists ());
}

static void
test_plugin_path_is_never_searched (void **state)
{
    //  A path without a slash is a file (relative to jobd's folder), never a name for dlopen to
    //  look up in the library path, where nothing was vetted.
    char err[4096], dir[512], plugin[600];
    snprintf (dir, sizeof dir, "%s/libs", s_harness.dir);
    s_copy_marker (dir, plugin, sizeof plugin);
    assert_int_equal (chmod (plugin, 0666), 0);
    setenv ("LD_LIBRARY_PATH", dir, 1);
    s_config_with_marker ("marker.so");
    const char *check[] = {"-c", s_harness.config, "--check", NULL};
    assert_int_equal (s_jobd (check, err, sizeof err), 0);
    unsetenv ("LD_LIBRARY_PATH");
    assert_non_null (strstr (err, "cannot load marker.so: No such file or directory"));
    assert_false (s_marker_exists ());
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_group_writable_config_is_refused, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_world_writable_plugin_is_refused_and_never_run,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_plugin_in_world_writable_folder_is_refused, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_plugin_path_is_never_searched, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
