//  The store's lookups by key, for its reads and its write path alike: a job record by id, a job
//  id by backend id.
#include "jobd_store_internal.h"

//  A job id is a key only when it fits one: anything else names no job.
static bool
s_id_valid (const char *id)
{
    return id && *id && strlen (id) <= JOBD_ID_MAX;
}

int
jobd_store_job_load (jobd_store_t *self, MDB_txn *txn, const char *id, jobd_job_t **job_p)
{
    if (!s_id_valid (id))
        return JOBD_ENOTFOUND;
    MDB_val key = jobd_store_val (id, strlen (id)), value;
    int rc = mdb_get (txn, self->jobs, &key, &value);
    if (rc)
        return jobd_store_mdb_error (rc);
    //  Never trust what is on disk: a record that does not decode fails this read only.
    jobd_job_t *job = NULL;
    size_t size;
    if (jobd_store_record (self, &value, &size) ||
        jobd_job_decode (value.mv_data, size, &job, NULL, 0))
        return JOBD_ECORRUPT;
    if (strcmp (job->id, id) != 0) {
        jobd_job_destroy (&job);
        return JOBD_ECORRUPT;
    }
    *job_p = job;
    return 0;
}

size_t
jobd_store_ext_key (char *buffer, const char *backend, const char *ext)
{
    size_t backend_length = backend ? strlen (backend) : 0;
    size_t ext_length = ext ? strlen (ext) : 0;
    if (ext_length == 0 || ext_length > JOBD_ID_MAX || backend_length > JOBD_ID_MAX)
        return 0;
    memcpy (buffer, backend ? backend : "", backend_length);
    buffer[backend_length] = 0;
    memcpy (buffer + backend_length + 1, ext, ext_length);
    return backend_length + 1 + ext_length;
}

int
jobd_store_ext_lookup (jobd_store_t *self, MDB_txn *txn, const char *backend, const char *ext,
                       char *id, size_t id_size)
{
    char buffer[JOBD_STORE_EXT_KEY_MAX];
    size_t size = jobd_store_ext_key (buffer, backend, ext);
    if (size == 0)
        return JOBD_ENOTFOUND;
    MDB_val key = jobd_store_val (buffer, size), value;
    int rc = mdb_get (txn, self->by_ext, &key, &value);
    if (rc)
        return jobd_store_mdb_error (rc);
    if (value.mv_size == 0 || value.mv_size >= id_size || memchr (value.mv_data, 0, value.mv_size))
        return JOBD_ECORRUPT;
    memcpy (id, value.mv_data, value.mv_size);
    id[value.mv_size] = 0;
    return 0;
}
