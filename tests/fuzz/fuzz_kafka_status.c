//  Fuzz target: kafka-listener's reader of producers' status events (JSON or msgpack). The
//  plugin reads simple JSON events itself and hands the rest to jansson: both readings must give
//  the same result, event, heartbeat and reason alike.
#include "kl_status.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const kl_options_t s_options = {"kafka-listener", "kafka", "kafka", true};

//  The event encoded (a valid observed event encodes), or NULL for none.
static uint8_t *
s_encode (jobd_event_t *event, size_t *size_p)
{
    uint8_t *encoded = NULL;
    *size_p = 0;
    if (event && jobd_event_encode (event, &encoded, size_p, NULL, 0))
        __builtin_trap ();
    return encoded;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    jobd_event_t *event = NULL, *slow = NULL;
    char reason[256], slow_reason[256];
    int64_t heartbeat = -1, slow_heartbeat = -2;
    int64_t before = jobd_now_ms ();
    int rc = kl_status_decode (data, size, &s_options, "fuzz/0/0", &event, &heartbeat, reason,
                               sizeof reason);
    int slow_rc = kl_status_decode_jansson (data, size, &s_options, "fuzz/0/0", &slow,
                                            &slow_heartbeat, slow_reason, sizeof slow_reason);
    if (rc != slow_rc || heartbeat != slow_heartbeat || (rc && strcmp (reason, slow_reason)))
        __builtin_trap ();
    //  An event without a ts is stamped when it is made: the two stamps may differ by a tick.
    int64_t after = jobd_now_ms ();
    if (rc == 0 && slow_rc == 0 && event->ts >= before && event->ts <= after &&
        slow->ts >= before && slow->ts <= after)
        slow->ts = event->ts;
    size_t encoded_size, slow_size;
    uint8_t *encoded = s_encode (rc ? NULL : event, &encoded_size);
    uint8_t *slow_encoded = s_encode (slow_rc ? NULL : slow, &slow_size);
    if (encoded_size != slow_size || (encoded_size && memcmp (encoded, slow_encoded, slow_size)))
        __builtin_trap ();
    free (encoded);
    free (slow_encoded);
    jobd_event_destroy (&event);
    jobd_event_destroy (&slow);
    return 0;
}
