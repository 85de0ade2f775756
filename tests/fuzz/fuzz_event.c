//  Fuzz target: the event decoder. What decodes must encode, and decode again to the same bytes.
#include "jobd_event.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  Encodes event, or aborts: a decoded event is valid by construction.
static uint8_t *
s_encode (const jobd_event_t *event, size_t *size_p)
{
    uint8_t *data = NULL;
    if (jobd_event_encode (event, &data, size_p, NULL, 0))
        abort ();
    return data;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    jobd_event_t *first = NULL;
    char reason[256];
    int rc = jobd_event_decode (data, size, &first, reason, sizeof reason);
    //  The unpack-then-read path (the broker's) must agree with the one-call decoder.
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    jobd_event_t *via_object = NULL, *flat = NULL;
    if (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0) == 0 && size <= JOBD_EVENT_MAX) {
        if ((jobd_event_from_object (&unpacked.data, &via_object, NULL, 0) == 0) != (rc == 0))
            abort ();
        //  The one-allocation reading (the broker's batches) must agree too, reason included.
        char flat_reason[256] = "", object_reason[256] = "";
        jobd_event_t *again = NULL;
        int object_rc =
            jobd_event_from_object (&unpacked.data, &again, object_reason, sizeof object_reason);
        int flat_rc =
            jobd_event_from_object_flat (&unpacked.data, &flat, flat_reason, sizeof flat_reason);
        if (flat_rc != object_rc || strcmp (flat_reason, object_reason))
            abort ();
        jobd_event_destroy (&again);
    }
    msgpack_unpacked_destroy (&unpacked);
    if (flat) {
        size_t flat_size = 0, object_size = 0;
        uint8_t *flat_encoded = s_encode (flat, &flat_size);
        uint8_t *object_encoded = s_encode (via_object, &object_size);
        if (flat_size != object_size || memcmp (flat_encoded, object_encoded, object_size))
            abort ();
        free (flat_encoded);
        free (object_encoded);
        free (flat);
    }
    if (rc) {
        if (first || !memchr (reason, 0, sizeof reason) || reason[0] == 0)
            abort (); //  a refusal sets nothing and always says why
        return 0;
    }
    //  Figures that decoded hold to every rule on their own (the check /metrics relies on).
    if (first->figures.data &&
        (first->figures.size > JOBD_FIGURES_BYTES_MAX ||
         jobd_figures_check_bytes (first->figures.data, first->figures.size, NULL, 0)))
        abort ();
    size_t encoded_size = 0;
    uint8_t *encoded = s_encode (first, &encoded_size);
    jobd_event_t *second = NULL;
    if (jobd_event_decode (encoded, encoded_size, &second, reason, sizeof reason))
        abort ();
    jobd_event_t *copy = jobd_event_dup (second);
    size_t again_size = 0;
    uint8_t *again = s_encode (copy, &again_size);
    if (again_size != encoded_size || memcmp (again, encoded, encoded_size))
        abort (); //  the round trip is stable
    if (via_object) {
        size_t object_size = 0;
        uint8_t *object_encoded = s_encode (via_object, &object_size);
        if (object_size != encoded_size || memcmp (object_encoded, encoded, encoded_size))
            abort ();
        free (object_encoded);
    }
    free (again);
    free (encoded);
    jobd_event_destroy (&via_object);
    jobd_event_destroy (&copy);
    jobd_event_destroy (&second);
    jobd_event_destroy (&first);
    return 0;
}
