//  Stream positions: an observation that says where it comes from (`stream`, `pos`: a Kafka
//  topic and partition, and the message's offset) is applied only if it is past the last
//  position applied from that stream. So a replay after a crash, or a whole topic read again by
//  a new group, is recognised as such however the job moved meanwhile, and applies nothing. The
//  position is written in the same transaction as what the observation changed: exactly once.
#include "jobd_store_internal.h"
#include <errno.h>
#include <string.h>

#define S_STREAM_PREFIX "stream/"

//  A stream's position key: "stream/<stream>", or in a cluster "stream/<p>/<stream>" with the
//  partition of the job the observation is about (docs/cluster.md section 6): a status stream
//  feeds every partition, and each partition's owner applies its share in its own order (a
//  forwarded observation may come after a later one of another partition). Returns the key's
//  length, or -1 when it does not fit.
static int
s_key (jobd_store_t *self, const char *stream, const char *job, char *key, size_t size)
{
    int length = job && *job && self->partition_fn
                     ? snprintf (key, size, S_STREAM_PREFIX "%u/%s",
                                 (unsigned)jobd_store_partition (self, job), stream)
                     : snprintf (key, size, S_STREAM_PREFIX "%s", stream);
    return length > 0 && (size_t)length < size ? length : -1;
}

int
jobd_store_stream_check (jobd_store_t *self, const jobd_event_t *event, const char *job,
                         bool *replay_p)
{
    *replay_p = false;
    if (!event->stream || !*event->stream)
        return 0;
    char name[sizeof S_STREAM_PREFIX + 8 + JOBD_NAME_MAX];
    int length = s_key (self, event->stream, job, name, sizeof name);
    if (length < 0)
        return JOBD_EPROTO;
    uint64_t *cached = (uint64_t *)zhashx_lookup (self->batch_streams, name);
    uint64_t last = 0;
    if (cached)
        last = *cached;
    else {
        MDB_val key = jobd_store_val (name, (size_t)length), value;
        int rc = mdb_get (self->txn, self->meta, &key, &value);
        if (rc && rc != MDB_NOTFOUND)
            return jobd_store_mdb_error (rc);
        if (rc == 0 && value.mv_size != 8)
            return JOBD_ECORRUPT;
        if (rc == 0)
            last = jobd_store_get_be ((const uint8_t *)value.mv_data, 8);
    }
    *replay_p = event->pos <= last;
    return 0;
}

int
jobd_store_stream_advance (jobd_store_t *self, const jobd_event_t *event, const char *job)
{
    if (!event->stream || !*event->stream)
        return 0;
    char name[sizeof S_STREAM_PREFIX + 8 + JOBD_NAME_MAX];
    if (s_key (self, event->stream, job, name, sizeof name) < 0)
        return JOBD_EPROTO;
    uint64_t *cached = (uint64_t *)zhashx_lookup (self->batch_streams, name);
    if (!cached) {
        cached = (uint64_t *)malloc (sizeof (uint64_t));
        if (!cached)
            return -ENOMEM;
        zhashx_insert (self->batch_streams, name, cached);
    }
    *cached = event->pos;
    return 0;
}

int
jobd_store_stream_save (jobd_store_t *self)
{
    int rc = 0;
    for (uint64_t *position = (uint64_t *)zhashx_first (self->batch_streams); position && rc == 0;
         position = (uint64_t *)zhashx_next (self->batch_streams)) {
        const char *name = (const char *)zhashx_cursor (self->batch_streams);
        size_t length = strlen (name);
        uint8_t bytes[8];
        jobd_store_put_be (bytes, sizeof bytes, *position);
        MDB_val key = jobd_store_val (name, length), value = jobd_store_val (bytes, 8);
        self->writes++;
        rc = jobd_store_mdb_error (mdb_put (self->txn, self->meta, &key, &value, 0));
    }
    return rc;
}

void
jobd_store_stream_end (jobd_store_t *self)
{
    if (self->batch_streams)
        zhashx_purge (self->batch_streams);
}
