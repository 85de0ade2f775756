//  Fuzz target: kafka-listener's reader of producers' status events (JSON or msgpack).
#include "kl_status.h"
#include <stdint.h>
#include <stdlib.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const kl_options_t options = {"kafka-listener", "kafka", "kafka", true};
    jobd_event_t *event = NULL;
    char reason[256];
    if (kl_status_decode (data, size, &options, "fuzz/0/0", &event, NULL, reason, sizeof reason) ==
        0) {
        //  What it produced is a valid observed event: it encodes.
        uint8_t *encoded = NULL;
        size_t encoded_size = 0;
        if (jobd_event_encode (event, &encoded, &encoded_size, NULL, 0))
            __builtin_trap ();
        free (encoded);
        jobd_event_destroy (&event);
    }
    return 0;
}
