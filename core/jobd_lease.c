//  The owner's lease on its partitions (see jobd_lease.h and docs/cluster.md section 8 (b)).
#include "jobd_lease.h"
#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_QUERY_MAX_MS 500 //  longest a high watermark query waits

typedef struct {
    bool held;        //  renewed by the thread
    int64_t asked_at; //  the newest renewal: when its query was sent (0: none)
    int64_t high;     //  and what it answered
    bool taken;       //  that renewal was handed out (jobd_lease_renewal)
} s_part_t;

struct jobd_lease {
    rd_kafka_t *handle;
    char *topic;
    int partitions;
    int64_t lease_ms;
    pthread_t thread;
    pthread_mutex_t mutex; //  guards parts and stop
    pthread_cond_t wake;
    bool stop;
    s_part_t *parts;
    _Atomic int64_t *until; //  per partition: zclock_mono when the lease runs out (0: none)
};

//  One pass: the high watermark of each held partition, asked one by one.
static void
s_renew (jobd_lease_t *self)
{
    int64_t wait = self->lease_ms / 2 < S_QUERY_MAX_MS ? self->lease_ms / 2 : S_QUERY_MAX_MS;
    for (int partition = 0; partition < self->partitions; partition++) {
        pthread_mutex_lock (&self->mutex);
        bool held = self->parts[partition].held && !self->stop;
        pthread_mutex_unlock (&self->mutex);
        if (!held)
            continue;
        int64_t asked_at = zclock_mono (), low = -1, high = -1;
        if (rd_kafka_query_watermark_offsets (self->handle, self->topic, partition, &low, &high,
                                              (int)wait))
            continue; //  no answer: this renewal is missed, the lease runs on to its end
        pthread_mutex_lock (&self->mutex);
        s_part_t *part = &self->parts[partition];
        if (part->held && asked_at > part->asked_at) {
            part->asked_at = asked_at;
            part->high = high;
            part->taken = false;
        }
        pthread_mutex_unlock (&self->mutex);
    }
}

static void *
s_run (void *arg)
{
    jobd_lease_t *self = (jobd_lease_t *)arg;
    pthread_mutex_lock (&self->mutex);
    while (!self->stop) {
        pthread_mutex_unlock (&self->mutex);
        int64_t start = zclock_mono ();
        s_renew (self);
        //  Every quarter of a lease: a healthy owner always has three quarters left.
        int64_t next = start + self->lease_ms / 4;
        pthread_mutex_lock (&self->mutex);
        while (!self->stop && zclock_mono () < next) {
            struct timespec when;
            clock_gettime (CLOCK_MONOTONIC, &when);
            int64_t left = next - zclock_mono ();
            when.tv_sec += left / 1000;
            when.tv_nsec += (left % 1000) * 1000000;
            if (when.tv_nsec >= 1000000000) {
                when.tv_sec++;
                when.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait (&self->wake, &self->mutex, &when);
        }
    }
    pthread_mutex_unlock (&self->mutex);
    return NULL;
}

static void
s_free (jobd_lease_t *self)
{
    free (self->topic);
    free (self->parts);
    free ((void *)self->until);
    free (self);
}

int
jobd_lease_new (rd_kafka_t *handle, const char *topic, int partitions, int64_t lease_ms,
                jobd_lease_t **self_p)
{
    *self_p = NULL;
    jobd_lease_t *self = (jobd_lease_t *)calloc (1, sizeof (jobd_lease_t));
    if (!self)
        return -ENOMEM;
    self->handle = handle;
    self->topic = strdup (topic);
    self->partitions = partitions;
    self->lease_ms = lease_ms;
    self->parts = (s_part_t *)calloc ((size_t)partitions, sizeof (s_part_t));
    self->until = (_Atomic int64_t *)calloc ((size_t)partitions, sizeof (int64_t));
    if (!self->topic || !self->parts || !self->until) {
        s_free (self);
        return -ENOMEM;
    }
    pthread_mutex_init (&self->mutex, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->wake, &attr);
    pthread_condattr_destroy (&attr);
    int rc = pthread_create (&self->thread, NULL, s_run, self);
    if (rc) {
        pthread_cond_destroy (&self->wake);
        pthread_mutex_destroy (&self->mutex);
        s_free (self);
        return -rc;
    }
    *self_p = self;
    return 0;
}

void
jobd_lease_destroy (jobd_lease_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_lease_t *self = *self_p;
    pthread_mutex_lock (&self->mutex);
    self->stop = true;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->mutex);
    pthread_join (self->thread, NULL);
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->mutex);
    s_free (self);
    *self_p = NULL;
}

void
jobd_lease_hold (jobd_lease_t *self, int partition, bool held, int64_t claimed_at)
{
    if (!self || partition < 0 || partition >= self->partitions)
        return;
    pthread_mutex_lock (&self->mutex);
    s_part_t *part = &self->parts[partition];
    part->held = held;
    part->asked_at = held ? claimed_at : 0;
    part->high = 0; //  the claim: read back is what the caller checks
    part->taken = !held;
    pthread_mutex_unlock (&self->mutex);
    if (!held)
        atomic_store (&self->until[partition], 0);
}

bool
jobd_lease_renewal (jobd_lease_t *self, int partition, int64_t *asked_at, int64_t *high)
{
    if (!self || partition < 0 || partition >= self->partitions)
        return false;
    pthread_mutex_lock (&self->mutex);
    s_part_t *part = &self->parts[partition];
    bool fresh = part->held && !part->taken && part->asked_at;
    *asked_at = part->asked_at;
    *high = part->high;
    pthread_mutex_unlock (&self->mutex);
    return fresh;
}

void
jobd_lease_grant (jobd_lease_t *self, int partition, int64_t asked_at)
{
    if (!self || partition < 0 || partition >= self->partitions)
        return;
    pthread_mutex_lock (&self->mutex);
    s_part_t *part = &self->parts[partition];
    bool held = part->held;
    if (held && part->asked_at == asked_at)
        part->taken = true;
    pthread_mutex_unlock (&self->mutex);
    int64_t until = asked_at + self->lease_ms;
    if (held && until > atomic_load (&self->until[partition]))
        atomic_store (&self->until[partition], until);
}

int64_t
jobd_lease_left (jobd_lease_t *self, int partition)
{
    if (!self || partition < 0 || partition >= self->partitions)
        return 0;
    int64_t left = atomic_load (&self->until[partition]) - zclock_mono ();
    return left > 0 ? left : 0;
}
