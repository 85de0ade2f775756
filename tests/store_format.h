//  Tests' older stores: rewrites a store jobd wrote (format 6) as format 5 had it, so that the
//  upgrade is tested on what a format 5 jobd left. Header-only, with cmocka's asserts.
#ifndef JOBD_TEST_STORE_FORMAT_H_INCLUDED
#define JOBD_TEST_STORE_FORMAT_H_INCLUDED

#include <lmdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STORE_FORMAT_ENTRIES 64 //  timers a test store may hold

//  Rewrites the store in dir (no jobd on it) as format 5: timers keys and timers_by_job values
//  without their u16 partition, no cl_plog and cl_pending, meta format 5.
static void
store_make_format_5 (const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, timers, by_job, plog, pending;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 16), 0);
    assert_int_equal (mdb_env_open (env, dir, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "meta", 0, &meta), 0);
    assert_int_equal (mdb_dbi_open (txn, "timers", 0, &timers), 0);
    assert_int_equal (mdb_dbi_open (txn, "timers_by_job", 0, &by_job), 0);
    assert_int_equal (mdb_dbi_open (txn, "cl_plog", 0, &plog), 0);
    assert_int_equal (mdb_dbi_open (txn, "cl_pending", 0, &pending), 0);
    MDB_dbi both[2] = {timers, by_job};
    for (int db = 0; db < 2; db++) {
        //  Read all, drop all, put back without the partition (the key's first 2 bytes in
        //  timers, the value's in timers_by_job).
        MDB_val *keys = (MDB_val *)calloc (STORE_FORMAT_ENTRIES, sizeof (MDB_val));
        MDB_val *values = (MDB_val *)calloc (STORE_FORMAT_ENTRIES, sizeof (MDB_val));
        size_t count = 0;
        MDB_cursor *cursor;
        MDB_val key, value;
        assert_int_equal (mdb_cursor_open (txn, both[db], &cursor), 0);
        while (mdb_cursor_get (cursor, &key, &value, count ? MDB_NEXT : MDB_FIRST) == 0) {
            assert_true (count < STORE_FORMAT_ENTRIES && key.mv_size > 2 && value.mv_size >= 2);
            size_t skip_key = db == 0 ? 2 : 0, skip_value = db == 1 ? 2 : 0;
            keys[count].mv_size = key.mv_size - skip_key;
            keys[count].mv_data = malloc (keys[count].mv_size);
            memcpy (keys[count].mv_data, (uint8_t *)key.mv_data + skip_key, keys[count].mv_size);
            values[count].mv_size = value.mv_size - skip_value;
            values[count].mv_data = malloc (values[count].mv_size + 1);
            memcpy (values[count].mv_data, (uint8_t *)value.mv_data + skip_value,
                    values[count].mv_size);
            count++;
        }
        mdb_cursor_close (cursor);
        assert_int_equal (mdb_drop (txn, both[db], 0), 0);
        for (size_t index = 0; index < count; index++) {
            assert_int_equal (mdb_put (txn, both[db], &keys[index], &values[index], 0), 0);
            free (keys[index].mv_data);
            free (values[index].mv_data);
        }
        free (keys);
        free (values);
    }
    assert_int_equal (mdb_drop (txn, plog, 1), 0);
    assert_int_equal (mdb_drop (txn, pending, 1), 0);
    uint8_t five[4] = {0, 0, 0, 5};
    MDB_val key = {6, (void *)"format"}, value = {4, five};
    assert_int_equal (mdb_put (txn, meta, &key, &value, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

#endif
