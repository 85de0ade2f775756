//  Fuzz target: the job decoder. What decodes must encode, and decode again to the same bytes.
#include "jobd_job.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    jobd_job_t *first = NULL;
    char reason[256];
    if (jobd_job_decode (data, size, &first, reason, sizeof reason))
        return 0;
    uint8_t *encoded = NULL;
    size_t encoded_size = 0;
    if (jobd_job_encode (first, &encoded, &encoded_size, reason, sizeof reason))
        abort (); //  a decoded value is valid by construction
    jobd_job_t *second = NULL;
    if (jobd_job_decode (encoded, encoded_size, &second, reason, sizeof reason))
        abort ();
    uint8_t *again = NULL;
    size_t again_size = 0;
    if (jobd_job_encode (second, &again, &again_size, NULL, 0) || again_size != encoded_size ||
        memcmp (again, encoded, encoded_size))
        abort (); //  the round trip is stable
    free (again);
    free (encoded);
    jobd_job_destroy (&second);
    jobd_job_destroy (&first);
    return 0;
}
