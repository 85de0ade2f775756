//  The http plugin's talk with the broker: commands (submit, cancel, retry) and the stats and
//  plugins queries, each on a DEALER socket of the calling thread, as a client's would be.
#include "ht_broker.h"
#include "ht_status.h"
#include "jobd_json.h"
#include "jobd_msgpack.h"
#include "jobd_request.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct ht_broker {
    const jobd_host_t *host;
    int64_t timeout;
    pthread_mutex_t mutex;
    json_t *cache[HT_QUERY_COUNT]; //  the last stats, plugins and cluster answers
    int64_t cached_at[HT_QUERY_COUNT];
};

ht_broker_t *
ht_broker_new (const jobd_host_t *host, int64_t timeout)
{
    ht_broker_t *self = (ht_broker_t *)calloc (1, sizeof (ht_broker_t));
    if (!self)
        return NULL;
    self->host = host;
    self->timeout = timeout;
    pthread_mutex_init (&self->mutex, NULL);
    return self;
}

void
ht_broker_destroy (ht_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ht_broker_t *self = *self_p;
    for (int which = 0; which < HT_QUERY_COUNT; which++)
        json_decref (self->cache[which]);
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}

//  Sends one frame on a fresh DEALER and waits for one answer frame, up to the timeout.
static int
s_exchange (ht_broker_t *self, const void *data, size_t size, zframe_t **answer_p)
{
    *answer_p = NULL;
    zsock_t *dealer = zsock_new_dealer (">" JOBD_BUS_ENDPOINT);
    if (!dealer)
        return -ENOMEM;
    zsock_set_linger (dealer, 0);
    zsock_set_rcvtimeo (dealer, (int)self->timeout);
    zsock_set_sndtimeo (dealer, (int)self->timeout);
    zframe_t *frame = zframe_new (data, size);
    int rc = frame && zframe_send (&frame, dealer, 0) == 0 ? 0 : -EAGAIN;
    zframe_destroy (&frame);
    if (rc == 0) {
        *answer_p = zframe_recv (dealer);
        if (!*answer_p)
            rc = -ETIMEDOUT;
    }
    zsock_destroy (&dealer);
    return rc;
}

int
ht_broker_command (ht_broker_t *self, jobd_event_t *event, jobd_reply_t *reply, char *reason,
                   size_t reason_size)
{
    memset (reply, 0, sizeof *reply);
    event->reply = true;
    jobd_event_set (&event->source, self->host->plugin_name);
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = jobd_event_encode (event, &data, &size, reason, reason_size);
    if (rc)
        return rc;
    zframe_t *answer = NULL;
    rc = s_exchange (self, data, size, &answer);
    free (data);
    if (rc) {
        snprintf (reason, reason_size, "jobd did not answer within %lld ms",
                  (long long)self->timeout);
        return rc;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    rc = jobd_msgpack_unpack (zframe_data (answer), zframe_size (answer), &unpacked, reason,
                              reason_size);
    if (rc == 0) {
        rc = jobd_reply_read (&unpacked.data, reply, reason, reason_size);
        msgpack_unpacked_destroy (&unpacked);
    }
    zframe_destroy (&answer);
    return rc;
}

void
ht_broker_reply_http (const jobd_reply_t *reply, unsigned ok_status, ht_reply_t *http)
{
    if (reply->ok) {
        json_t *body = json_pack ("{s:s,s:s}", "job", reply->job, "outcome", reply->outcome);
        ht_reply_json (http, ok_status, body);
        return;
    }
    const char *code = NULL;
    unsigned status = ht_status_of (reply, &code);
    const char *reason = reply->reason[0] ? reply->reason : reply->error;
    if (status == 504) {
        //  The job to look up before sending the command again.
        ht_reply_json (
            http, status,
            json_pack ("{s:s,s:s,s:s}", "error", code, "reason", reason, "job", reply->job));
        return;
    }
    ht_reply_error (http, status, code, reason);
}

//  Asks the broker a query and returns its answer as JSON, without the reply's own keys.
static json_t *
s_query (ht_broker_t *self, const char *q, char *reason, size_t reason_size)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    jobd_request_t request = {.q = q, .id = "http"};
    json_t *answer = NULL;
    zframe_t *frame = NULL;
    int rc = jobd_request_pack (&request, &pk);
    if (rc == 0)
        rc = s_exchange (self, buffer.data, buffer.size, &frame);
    msgpack_sbuffer_destroy (&buffer);
    if (rc) {
        snprintf (reason, reason_size, "jobd's broker did not answer within %lld ms",
                  (long long)self->timeout);
        return NULL;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    if (jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), &unpacked, reason,
                             reason_size) == 0) {
        jobd_reply_t reply;
        if (jobd_reply_read (&unpacked.data, &reply, reason, reason_size) == 0 && reply.ok)
            answer = jobd_json_from_msgpack (&unpacked.data);
        else if (!reply.ok)
            snprintf (reason, reason_size, "%s: %s", reply.error, reply.reason);
        msgpack_unpacked_destroy (&unpacked);
    }
    zframe_destroy (&frame);
    const char *const own[] = {"v", "type", "re", "ok"};
    for (size_t index = 0; answer && index < 4; index++)
        json_object_del (answer, own[index]);
    return answer;
}

json_t *
ht_broker_query (ht_broker_t *self, ht_query_t which, int64_t max_age, char *reason,
                 size_t reason_size)
{
    int64_t now = zclock_mono ();
    pthread_mutex_lock (&self->mutex);
    json_t *cached = self->cache[which] && now - self->cached_at[which] <= max_age
                         ? json_incref (self->cache[which])
                         : NULL;
    pthread_mutex_unlock (&self->mutex);
    if (cached)
        return cached;
    static const char *const names[HT_QUERY_COUNT] = {"stats", "plugins", "cluster"};
    json_t *answer = s_query (self, names[which], reason, reason_size);
    if (!answer)
        return NULL;
    pthread_mutex_lock (&self->mutex);
    json_decref (self->cache[which]);
    self->cache[which] = json_incref (answer);
    self->cached_at[which] = now;
    pthread_mutex_unlock (&self->mutex);
    return answer;
}
