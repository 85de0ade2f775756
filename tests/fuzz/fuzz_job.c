//  Fuzz target: the job record decoder. A decoded record re-encodes to bytes that decode to it.
#include "jobd_job.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    jobd_job_t *record = NULL;
    if (jobd_job_decode (data, size, &record, NULL, 0))
        return 0;
    //  encode (validating) and pack (not) must write the same bytes for a decoded record.
    uint8_t *encoded = NULL;
    size_t encoded_size = 0;
    msgpack_sbuffer packed;
    msgpack_sbuffer_init (&packed);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &packed, msgpack_sbuffer_write);
    if (jobd_job_encode (record, &encoded, &encoded_size, NULL, 0) || jobd_job_pack (record, &pk) ||
        packed.size != encoded_size || memcmp (packed.data, encoded, encoded_size))
        abort ();
    jobd_job_t *reread = NULL;
    if (jobd_job_decode (encoded, encoded_size, &reread, NULL, 0))
        abort ();
    uint8_t *twice = NULL;
    size_t twice_size = 0;
    if (jobd_job_encode (reread, &twice, &twice_size, NULL, 0) || twice_size != encoded_size ||
        memcmp (twice, encoded, encoded_size))
        abort (); //  stable after one round
    free (twice);
    free (encoded);
    msgpack_sbuffer_destroy (&packed);
    jobd_job_destroy (&reread);
    jobd_job_destroy (&record);
    return 0;
}
