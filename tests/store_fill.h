//  Tests' stores: a store of a given size and shape, written through the store's own write
//  path, for tests that then damage it. Header-only: unit and integration tests include it.
#ifndef JOBD_TEST_STORE_FILL_H_INCLUDED
#define JOBD_TEST_STORE_FILL_H_INCLUDED

#include "jobd_store.h"
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

static inline void
store_fill_apply (jobd_store_t *store, jobd_event_t **event_p)
{
    jobd_apply_result_t result;
    assert_int_equal (jobd_store_apply (store, *event_p, &result), 0);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (event_p);
}

//  Writes jobs jobs into the store in dir, in one batch: every big_every-th with a 9,000-byte
//  spec (overflow pages), the others 150 bytes; every third observed RUNNING with a backend id
//  (a few hundred jobs in one state make a tree of duplicates in the state index).
static inline void
store_fill (const char *dir, int jobs, int big_every)
{
    jobd_store_t *store = NULL;
    char reason[256];
    assert_int_equal (jobd_store_open (dir, 0, 0, &store, reason, sizeof reason), 0);
    assert_int_equal (jobd_store_begin (store), 0);
    static char spec[9000];
    for (int index = 1; index <= jobs; index++) {
        size_t size = index % big_every == 0 ? sizeof spec - 1 : 150;
        memset (spec, 'a' + index % 26, size);
        spec[size] = 0;
        jobd_event_t *event = jobd_event_new (JOBD_EVENT_SUBMIT);
        jobd_event_set (&event->kind, "spark");
        jobd_event_set (&event->source, "test");
        jobd_event_set (&event->spec, spec);
        store_fill_apply (store, &event);
        if (index % 3 == 0) {
            char id[32], ext[32];
            snprintf (id, sizeof id, "job-%d", index);
            snprintf (ext, sizeof ext, "app-%d", index);
            event = jobd_event_new (JOBD_EVENT_OBSERVED);
            jobd_event_set (&event->job, id);
            jobd_event_set (&event->source, "test");
            jobd_event_set (&event->backend, "standalone");
            jobd_event_set (&event->ext, ext);
            event->state = JOBD_STATE_RUNNING;
            store_fill_apply (store, &event);
        }
    }
    assert_int_equal (jobd_store_commit (store), 0);
    jobd_store_destroy (&store);
}

//  Opens database db of the (closed) store in dir with LMDB itself, in a write transaction.
static inline void
store_fill_raw_begin (const char *dir, const char *db, MDB_env **env_p, MDB_txn **txn_p,
                      MDB_dbi *dbi_p)
{
    assert_int_equal (mdb_env_create (env_p), 0);
    assert_int_equal (mdb_env_set_maxdbs (*env_p, 8), 0);
    assert_int_equal (mdb_env_open (*env_p, dir, 0, 0600), 0);
    assert_int_equal (mdb_txn_begin (*env_p, NULL, 0, txn_p), 0);
    assert_int_equal (mdb_dbi_open (*txn_p, db, 0, dbi_p), 0);
}

//  Commits and closes what store_fill_raw_begin opened.
static inline void
store_fill_raw_commit (MDB_env *env, MDB_txn *txn)
{
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

//  Writes one raw value into database db of the (closed) store in dir, with LMDB itself.
static inline void
store_fill_raw_put (const char *dir, const char *db, const char *key, const void *data, size_t size)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    store_fill_raw_begin (dir, db, &env, &txn, &dbi);
    MDB_val k = {strlen (key), (void *)key}, v = {size, (void *)data};
    assert_int_equal (mdb_put (txn, dbi, &k, &v, 0), 0);
    store_fill_raw_commit (env, txn);
}

//  Flips one bit of the byte at the middle of key's value in database db of the (closed) store
//  in dir: inside a job record, a letter of its spec; the msgpack still decodes.
static inline void
store_fill_raw_flip (const char *dir, const char *db, const char *key)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    store_fill_raw_begin (dir, db, &env, &txn, &dbi);
    MDB_val k = {strlen (key), (void *)key}, v;
    assert_int_equal (mdb_get (txn, dbi, &k, &v), 0);
    char *copy = (char *)malloc (v.mv_size);
    memcpy (copy, v.mv_data, v.mv_size);
    copy[v.mv_size / 2] ^= 0x01;
    MDB_val flipped = {v.mv_size, copy};
    assert_int_equal (mdb_put (txn, dbi, &k, &flipped, 0), 0);
    store_fill_raw_commit (env, txn);
    free (copy);
}

#endif
