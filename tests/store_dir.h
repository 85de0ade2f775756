//  Tests' store folders: a fresh store in a new folder under /tmp, and the folder removed whole
//  afterwards. Header-only, for the unit tests that each open a store of their own.
#ifndef JOBD_TEST_STORE_DIR_H_INCLUDED
#define JOBD_TEST_STORE_DIR_H_INCLUDED

#include "jobd_store.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

//  Opens a store in a new folder /tmp/jobd-NAME-XXXXXX, written into dir (size bytes).
static jobd_store_t *
store_dir_open (char *dir, size_t size, const char *name)
{
    snprintf (dir, size, "/tmp/jobd-%s-XXXXXX", name);
    assert_non_null (mkdtemp (dir));
    jobd_store_t *store = NULL;
    assert_int_equal (jobd_store_open (dir, 0, 0, &store, NULL, 0), 0);
    return store;
}

static int
store_dir_remove_one (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info, (void)flag, (void)ftw;
    return remove (path);
}

//  Removes dir and everything in it.
static void
store_dir_remove (const char *dir)
{
    nftw (dir, store_dir_remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
