//  Trusted paths: ownership and modes of a file and every folder above it, symlinks resolved.
#include "jobd_trust.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[64];

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    return remove (path);
}

static int
s_setup (void **state)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/jobd-trust-XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    return 0;
}

static int
s_teardown (void **state)
{
    chmod (s_dir, 0700);
    nftw (s_dir, s_remove, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

//  Makes s_dir/name with mode (a file, or a folder when name ends with '/').
static const char *
s_make (const char *name, mode_t mode)
{
    static char path[256];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    size_t length = strlen (path);
    if (path[length - 1] == '/') {
        path[length - 1] = 0;
        assert_int_equal (mkdir (path, 0700), 0);
    } else {
        FILE *file = fopen (path, "w");
        assert_non_null (file);
        fclose (file);
    }
    assert_int_equal (chmod (path, mode), 0);
    return path;
}

static int
s_check (const char *path, bool folder, char *reason, size_t reason_size)
{
    char resolved[PATH_MAX];
    return jobd_trust_check (path, folder, "config", resolved, sizeof resolved, reason,
                             reason_size);
}

static void
test_modes_of_the_file (void **state)
{
    char reason[512];
    assert_int_equal (s_check (s_make ("ok.cfg", 0644), false, reason, sizeof reason), 0);
    assert_int_equal (s_check (s_make ("group.cfg", 0664), false, reason, sizeof reason), -EPERM);
    assert_non_null (strstr (reason, "group.cfg is writable by its group (mode 0664)"));
    assert_non_null (strstr (reason, "chmod go-w"));
    assert_int_equal (s_check (s_make ("world.cfg", 0602), false, reason, sizeof reason), -EPERM);
    assert_non_null (strstr (reason, "is writable by everyone (mode 0602)"));
    //  Read by others is not written by them.
    assert_int_equal (s_check (s_make ("read.cfg", 0444), false, reason, sizeof reason), 0);
    char missing[256];
    snprintf (missing, sizeof missing, "%s/missing.cfg", s_dir);
    assert_int_equal (s_check (missing, false, reason, sizeof reason), -ENOENT);
    assert_non_null (strstr (reason, "No such file"));
    //  A folder is not a file, and a file is not a folder.
    assert_int_equal (s_check (s_make ("sub/", 0755), false, reason, sizeof reason), -EPERM);
    assert_non_null (strstr (reason, "is not a regular file"));
    assert_int_equal (s_check (s_make ("file", 0644), true, reason, sizeof reason), -EPERM);
    assert_non_null (strstr (reason, "is not a folder"));
}

static void
test_folders_above_and_symlinks (void **state)
{
    char reason[512], open_dir[256], inside[300], target[300], link[300];
    snprintf (open_dir, sizeof open_dir, "%s", s_make ("open/", 0777));
    snprintf (inside, sizeof inside, "%s/a.cfg", open_dir);
    FILE *file = fopen (inside, "w");
    assert_non_null (file);
    fclose (file);
    assert_int_equal (chmod (inside, 0644), 0);
    assert_int_equal (s_check (inside, false, reason, sizeof reason), -EPERM);
    assert_non_null (strstr (reason, "its folder"));
    assert_non_null (strstr (reason, "is writable by everyone (mode 0777)"));
    //  Sticky, like /tmp: others may add entries but cannot swap ours.
    assert_int_equal (chmod (open_dir, 01777), 0);
    assert_int_equal (s_check (inside, false, reason, sizeof reason), 0);
    assert_int_equal (chmod (open_dir, 0777), 0);
    //  A symlink is judged by what it points to.
    snprintf (target, sizeof target, "%s", s_make ("target.cfg", 0666));
    snprintf (link, sizeof link, "%s/link.cfg", s_dir);
    assert_int_equal (symlink (target, link), 0);
    assert_int_equal (s_check (link, false, reason, sizeof reason), -EPERM);
    assert_non_null (strstr (reason, "target.cfg is writable by everyone"));
    assert_int_equal (chmod (target, 0644), 0);
    char resolved[PATH_MAX];
    assert_int_equal (
        jobd_trust_check (link, false, "config", resolved, sizeof resolved, reason, sizeof reason),
        0);
    assert_string_equal (resolved, target);
    //  A folder checked as one.
    assert_int_equal (s_check (open_dir, true, reason, sizeof reason), -EPERM);
    assert_int_equal (chmod (open_dir, 0755), 0);
    assert_int_equal (s_check (open_dir, true, reason, sizeof reason), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_modes_of_the_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_folders_above_and_symlinks, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
