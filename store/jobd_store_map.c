//  The store's map: LMDB maps the whole store at a fixed size, and a commit that does not fit is
//  MDB_MAP_FULL. jobd grows it instead: before a write batch, when the pages in use reach three
//  quarters of the map (or the last batch found it full), the map doubles, up to map_max. LMDB
//  allows that only while no transaction is open in the process, so every read transaction is
//  taken under map_lock, shared, and the grower takes it exclusive between two batches.
#include "jobd_store_internal.h"
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

//  Read transactions the calling thread has open: a nested one (a plugin reading from inside a
//  scan's callback) must not wait for a grower that waits for the outer one.
static __thread unsigned s_depth;

int
jobd_store_read_begin (jobd_store_t *self, MDB_txn **txn_p)
{
    *txn_p = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        //  A grower waits: new readers let it in first (glibc's rwlock prefers readers).
        while (s_depth == 0 && atomic_load (&self->grow_pending))
            sched_yield ();
        pthread_rwlock_rdlock (&self->map_lock);
        int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, txn_p);
        if (rc == 0) {
            s_depth++;
            return 0;
        }
        *txn_p = NULL;
        pthread_rwlock_unlock (&self->map_lock);
        if (rc != MDB_MAP_RESIZED || s_depth)
            return jobd_store_mdb_error (rc);
        //  Another process (jobd) grew the map past ours: adopt its size, then try again.
        atomic_store (&self->grow_pending, true);
        pthread_rwlock_wrlock (&self->map_lock);
        rc = mdb_env_set_mapsize (self->env, 0);
        pthread_rwlock_unlock (&self->map_lock);
        atomic_store (&self->grow_pending, false);
        if (rc)
            return jobd_store_mdb_error (rc);
    }
    return JOBD_ESTORE;
}

void
jobd_store_read_end (jobd_store_t *self, MDB_txn *txn)
{
    if (!txn)
        return;
    mdb_txn_abort (txn);
    s_depth--;
    pthread_rwlock_unlock (&self->map_lock);
}

int
jobd_store_size (jobd_store_t *self, uint64_t *used_p, uint64_t *map_p)
{
    MDB_envinfo info;
    MDB_stat stat;
    int rc = mdb_env_info (self->env, &info);
    if (rc == 0)
        rc = mdb_env_stat (self->env, &stat);
    if (rc)
        return jobd_store_mdb_error (rc);
    *used_p = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
    *map_p = info.me_mapsize;
    return 0;
}

int
jobd_store_map_grow (jobd_store_t *self)
{
    if (self->map_max == 0 || self->txn)
        return 0;
    uint64_t used_bytes = 0, map_bytes = 0;
    int rc = jobd_store_size (self, &used_bytes, &map_bytes);
    if (rc)
        return rc;
    size_t map = (size_t)map_bytes, used = (size_t)used_bytes;
    if (map >= self->map_max || (!self->grow_next && used < map - map / 4))
        return 0;
    size_t grown = map > self->map_max / 2 ? self->map_max : map * 2;
    grown -= grown % (size_t)sysconf (_SC_PAGESIZE); //  LMDB maps whole pages
    atomic_store (&self->grow_pending, true);
    pthread_rwlock_wrlock (&self->map_lock);
    rc = mdb_env_set_mapsize (self->env, grown);
    pthread_rwlock_unlock (&self->map_lock);
    atomic_store (&self->grow_pending, false);
    self->grow_next = false;
    if (rc == 0 && self->notice_fn) {
        char line[300], sizes[4][24];
        const size_t bytes[4] = {map, grown, used, self->map_max};
        for (int index = 0; index < 4; index++)
            snprintf (sizes[index], sizeof sizes[index],
                      bytes[index] >= (1u << 20) ? "%zu MiB" : "%zu KiB",
                      bytes[index] >= (1u << 20) ? bytes[index] >> 20 : bytes[index] >> 10);
        snprintf (line, sizeof line,
                  "store %s: map grown from %s to %s (%s in use; at most %s: core/map_size_max)",
                  self->path, sizes[0], sizes[1], sizes[2], sizes[3]);
        self->notice_fn (line, self->notice_arg);
    }
    return jobd_store_mdb_error (rc);
}

bool
jobd_store_map_may_grow (jobd_store_t *self)
{
    uint64_t used = 0, map = 0;
    return self->map_max > 0 && jobd_store_size (self, &used, &map) == 0 && map < self->map_max;
}

void
jobd_store_set_map_max (jobd_store_t *self, size_t map_max)
{
    self->map_max = map_max;
}

void
jobd_store_set_notice_fn (jobd_store_t *self, jobd_store_damage_fn *fn, void *arg)
{
    self->notice_fn = fn;
    self->notice_arg = arg;
}
