//  The store: its LMDB environment and databases, opened (checking or upgrading the format) and
//  closed. The layout is documented in README.md; the write path is in jobd_store_write.c, the
//  reads in jobd_store_read.c.
#include "jobd_store_internal.h"
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Writes this build's format number in txn.
static int
s_write_format (jobd_store_t *self, MDB_txn *txn, char *reason, size_t reason_size)
{
    uint8_t format[4];
    jobd_store_put_be (format, sizeof format, JOBD_STORE_FORMAT);
    MDB_val key = jobd_store_val ("format", 6), value = jobd_store_val (format, sizeof format);
    int rc = mdb_put (txn, self->meta, &key, &value, 0);
    if (rc)
        snprintf (reason, reason_size, "store %s: %s", self->path, mdb_strerror (rc));
    return jobd_store_mdb_error (rc);
}

//  Opens the databases in txn and checks (or, when writable and new, writes) the format.
static int
s_open_databases (jobd_store_t *self, MDB_txn *txn, bool writable, char *reason, size_t reason_size)
{
    unsigned create = writable ? MDB_CREATE : 0;
    int rc = mdb_dbi_open (txn, "meta", create, &self->meta);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "jobs", create, &self->jobs);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "history", create, &self->history);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "by_state", create | MDB_DUPSORT, &self->by_state);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "by_ext", create, &self->by_ext);
    if (rc == 0)
        rc = jobd_store_log_open (self, txn, writable);
    if (rc == 0)
        rc = jobd_store_order_open (self, txn, writable);
    if (rc == 0)
        rc = jobd_store_timer_open (self, txn, writable);
    if (rc == 0)
        rc = jobd_store_cl_open (self, txn, writable);
    if (rc) {
        //  MDB_INCOMPATIBLE: a database of that name exists with other flags.
        bool foreign = rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE;
        snprintf (reason, reason_size, "store %s: %s", self->path,
                  foreign ? "not a jobd store (no jobd databases)" : mdb_strerror (rc));
        return foreign ? JOBD_ECORRUPT : jobd_store_mdb_error (rc);
    }
    MDB_val key = jobd_store_val ("format", 6), value;
    rc = mdb_get (txn, self->meta, &key, &value);
    if (rc == MDB_NOTFOUND && writable) {
        self->summed = true;
        return s_write_format (self, txn, reason, reason_size);
    }
    //  A be32; stores written by the first development builds hold a be64.
    if (rc || (value.mv_size != 4 && value.mv_size != 8)) {
        snprintf (reason, reason_size, "store %s: no format version: not a jobd store", self->path);
        return JOBD_ECORRUPT;
    }
    uint64_t format = jobd_store_get_be ((const uint8_t *)value.mv_data, value.mv_size);
    if (format > JOBD_STORE_FORMAT) {
        snprintf (reason, reason_size,
                  "store %s has format %llu, this jobd reads up to %d: upgrade jobd", self->path,
                  (unsigned long long)format, JOBD_STORE_FORMAT);
        return JOBD_EFORMAT;
    }
    //  Format 1 lacks the transition log (created above), format 2 the record checksums (added
    //  here, in the same transaction as the number: all or nothing). Format 3 differs only in
    //  what its log may hold (format 4 adds inline entries, which a format 3 jobd would take for
    //  damage), format 4 in the order index by_updated, which a format 4 jobd would not keep,
    //  format 5 in the timers' keys (no partition).
    self->summed = format >= 3;
    if (format < 6 && !writable) {
        //  Its timers have no partition in their keys: read only, it is read without them (as
        //  a store older than timers).
        self->has_timers = false;
        self->timer_next = 0;
    }
    if (format == JOBD_STORE_FORMAT || !writable)
        return 0;
    rc = format < 3 ? jobd_store_sum_upgrade (self, txn) : 0;
    //  Format 5 adds the order index (opened, empty, above): built from the records.
    if (rc == 0 && format < 5)
        rc = jobd_store_order_build (self, txn);
    //  Format 6 keys the timers by partition first (every one in partition 0 here) and adds the
    //  cluster's databases (created empty above). A format 5 jobd would read the new timer keys
    //  as due times far away: it must not open this store.
    if (rc == 0 && format < 6 && self->has_timers)
        rc = jobd_store_timer_upgrade (self, txn);
    if (rc) {
        //  The upgrade rewrites every record in one transaction: it needs about the jobs'
        //  size again in free room.
        snprintf (reason, reason_size, "store %s: upgrading to format %d: %s%s", self->path,
                  JOBD_STORE_FORMAT, mdb_strerror (rc),
                  rc == MDB_MAP_FULL ? " (the upgrade rewrites every job record at once: raise "
                                       "core/map_size by the store's size, then start again)"
                                     : "");
        return jobd_store_mdb_error (rc);
    }
    self->summed = true;
    return s_write_format (self, txn, reason, reason_size);
}

//  Opens the environment and its databases. Returns 0 or an error with a reason.
static int
s_open_env (jobd_store_t *self, bool writable, size_t map_size, char *reason, size_t reason_size)
{
    int rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, 16);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env, map_size ? map_size : (size_t)1 << 30);
    //  MDB_NOTLS: readers on several threads, and the broker reading while its batch is open.
    if (rc == 0)
        rc = mdb_env_open (self->env, self->path, MDB_NOTLS | (writable ? 0 : MDB_RDONLY), 0600);
    MDB_txn *txn = NULL;
    if (rc == 0)
        rc = mdb_txn_begin (self->env, NULL, writable ? 0 : MDB_RDONLY, &txn);
    if (rc) {
        snprintf (reason, reason_size, "store %s: %s", self->path, mdb_strerror (rc));
        return jobd_store_mdb_error (rc);
    }
    rc = s_open_databases (self, txn, writable, reason, reason_size);
    if (rc) {
        mdb_txn_abort (txn);
        return rc;
    }
    //  Committing keeps the database handles open for the store's life.
    rc = mdb_txn_commit (txn);
    if (rc)
        snprintf (reason, reason_size, "store %s: %s", self->path, mdb_strerror (rc));
    return jobd_store_mdb_error (rc);
}

int
jobd_store_open (const char *path, int flags, size_t map_size, jobd_store_t **self_p, char *reason,
                 size_t reason_size)
{
    assert (path && self_p);
    char scratch[1];
    if (!reason) {
        reason = scratch;
        reason_size = sizeof scratch;
    }
    bool writable = !(flags & JOBD_STORE_RDONLY);
    if (writable && mkdir (path, 0700) && errno != EEXIST) {
        int rc = -errno;
        snprintf (reason, reason_size, "store %s: %s", path, strerror (errno));
        return rc;
    }
    //  LMDB would create an empty store; a reader wants to hear that there is none.
    char data_file[PATH_MAX];
    snprintf (data_file, sizeof data_file, "%s/data.mdb", path);
    if (!writable && access (data_file, F_OK)) {
        snprintf (reason, reason_size, "store %s: no such store", path);
        return -ENOENT;
    }
    jobd_store_t *self = (jobd_store_t *)calloc (1, sizeof (jobd_store_t));
    if (!self)
        return -ENOMEM;
    self->path = strdup (path);
    pthread_mutex_init (&self->damage_lock, NULL);
    pthread_rwlock_init (&self->map_lock, NULL);
    msgpack_sbuffer_init (&self->scratch);
    int rc = -ENOMEM;
    if (jobd_store_batch_init (self) == 0 && self->path)
        rc = s_open_env (self, writable, map_size, reason, reason_size);
    if (rc) {
        jobd_store_destroy (&self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void
jobd_store_destroy (jobd_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_store_t *self = *self_p;
    if (self->batch_jobs)
        jobd_store_abort (self);
    if (self->env)
        mdb_env_close (self->env);
    msgpack_sbuffer_destroy (&self->scratch);
    zhashx_destroy (&self->batch_jobs);
    zhashx_destroy (&self->batch_streams);
    free (self->path);
    pthread_mutex_destroy (&self->damage_lock);
    pthread_rwlock_destroy (&self->map_lock);
    free (self);
    *self_p = NULL;
}

const char *
jobd_store_path (jobd_store_t *self)
{
    return self->path;
}
