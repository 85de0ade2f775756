//  Fuzz target: the structural walk of LMDB's data file (jobd_store_verify_image) on any bytes.
//  It must never crash; and where it finds no damage, LMDB itself, reading every database of
//  the same file through cursors, must neither crash nor call a page corrupt: that is the
//  walk's promise (jobd starts only on stores it passes).
#include "jobd_error.h"
#include "jobd_store_verify.h"
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const uint8_t *data;
    size_t size;
} s_image_t;

static long
s_read (void *arg, uint64_t offset, void *buffer, size_t size)
{
    s_image_t *image = (s_image_t *)arg;
    if (offset >= image->size)
        return 0;
    size_t length = image->size - offset < size ? image->size - offset : size;
    memcpy (buffer, image->data + offset, length);
    return (long)length;
}

static void
s_expect_whole (int rc)
{
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND)
        abort (); //  the walk passed a page LMDB finds damaged
}

//  Reads every entry of dbi (duplicates too).
static void
s_read_all (MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *cursor;
    if (mdb_cursor_open (txn, dbi, &cursor))
        return;
    MDB_val key, value;
    int rc;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT))
        ;
    s_expect_whole (rc);
    mdb_cursor_close (cursor);
}

//  LMDB reads the file: the main database, and every named database in it.
static void
s_lmdb_reads (const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi main_dbi;
    if (mdb_env_create (&env))
        return;
    mdb_env_set_maxdbs (env, 64);
    if (mdb_env_open (env, dir, MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0600) == 0 &&
        mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) == 0) {
        if (mdb_dbi_open (txn, NULL, 0, &main_dbi) == 0) {
            s_read_all (txn, main_dbi);
            MDB_cursor *cursor;
            MDB_val key, value;
            if (mdb_cursor_open (txn, main_dbi, &cursor) == 0) {
                for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
                     rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
                    char name[512];
                    if (key.mv_size == 0 || key.mv_size >= sizeof name ||
                        memchr (key.mv_data, 0, key.mv_size))
                        continue;
                    memcpy (name, key.mv_data, key.mv_size);
                    name[key.mv_size] = 0;
                    MDB_dbi dbi;
                    if (mdb_dbi_open (txn, name, 0, &dbi) == 0)
                        s_read_all (txn, dbi);
                }
                mdb_cursor_close (cursor);
            }
        }
        mdb_txn_abort (txn);
    }
    mdb_env_close (env);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_image_t image = {data, size};
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify_image (s_read, &image, size, 0, &report);
    if (rc == JOBD_ECORRUPT && !report.damaged)
        abort ();
    if (rc)
        return 0;
    char path[64];
    snprintf (path, sizeof path, "/tmp/fuzz-store-verify-%d.mdb", (int)getpid ());
    FILE *file = fopen (path, "wb");
    if (!file)
        return 0;
    size_t written = fwrite (data, 1, size, file);
    fclose (file);
    if (written == size)
        s_lmdb_reads (path);
    unlink (path);
    return 0;
}
