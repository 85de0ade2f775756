//  Fuzz target: the changelog message decoder (store/jobd_cl_msg.c), which reads Kafka bytes. The
//  input's first byte is the key's size, then the key, then the value. A decoded message
//  re-encodes to a key and value that decode to the same message, and encode to the same bytes.
#include "jobd_cl_msg.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
s_same (const jobd_cl_msg_t *a, const jobd_cl_msg_t *b)
{
    if (a->kind != b->kind || a->epoch != b->epoch || strcmp (a->inst, b->inst) ||
        strcmp (a->job, b->job) || a->seq != b->seq || a->size != b->size ||
        (a->size && memcmp (a->bytes, b->bytes, a->size)) || a->timer_count != b->timer_count ||
        a->claim != b->claim || strcmp (a->name, b->name) || a->number != b->number)
        abort ();
    for (size_t index = 0; index < a->timer_count; index++)
        if (strcmp (a->timers[index].name, b->timers[index].name) ||
            a->timers[index].due != b->timers[index].due ||
            a->timers[index].value_size != b->timers[index].value_size ||
            memcmp (a->timers[index].value, b->timers[index].value, a->timers[index].value_size))
            abort ();
    if ((a->record == NULL) != (b->record == NULL))
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t key_size = data[0];
    if (key_size > size - 1)
        return 0;
    const uint8_t *key = data + 1, *value = data + 1 + key_size;
    size_t value_size = size - 1 - key_size;
    msgpack_zone *zone = msgpack_zone_new (1024);
    jobd_cl_msg_t msg, again;
    char reason[256];
    if (jobd_cl_msg_decode (key, key_size, value, value_size, zone, &msg, reason, sizeof reason)) {
        if (!reason[0])
            abort (); //  every refusal says why
        msgpack_zone_free (zone);
        return 0;
    }
    msgpack_sbuffer k1, v1, k2, v2;
    msgpack_sbuffer_init (&k1);
    msgpack_sbuffer_init (&v1);
    msgpack_sbuffer_init (&k2);
    msgpack_sbuffer_init (&v2);
    if (jobd_cl_msg_encode (&msg, &k1, &v1))
        abort ();
    msgpack_zone *zone2 = msgpack_zone_new (1024);
    if (jobd_cl_msg_decode (k1.data, k1.size, v1.data, v1.size, zone2, &again, reason,
                            sizeof reason))
        abort ();
    s_same (&msg, &again);
    if (jobd_cl_msg_encode (&again, &k2, &v2) || k1.size != k2.size || v1.size != v2.size ||
        memcmp (k1.data, k2.data, k1.size) || memcmp (v1.data, v2.data, v1.size))
        abort (); //  stable after one round
    jobd_cl_msg_clear (&again);
    jobd_cl_msg_clear (&msg);
    msgpack_sbuffer_destroy (&k1);
    msgpack_sbuffer_destroy (&v1);
    msgpack_sbuffer_destroy (&k2);
    msgpack_sbuffer_destroy (&v2);
    msgpack_zone_free (zone2);
    msgpack_zone_free (zone);
    return 0;
}
