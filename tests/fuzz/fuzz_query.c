//  Fuzz target: the query decoder (jobd_request_read), held to a second reading: a query it
//  reads, packed again with jobd_request_pack, reads back the same.
#include "jobd_event.h"
#include "jobd_request.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  The names of the states in mask, comma-separated, into names.
static void
s_state_names (uint32_t mask, char *names, size_t size)
{
    names[0] = 0;
    for (int state = JOBD_STATE_QUEUED; state < JOBD_STATE_COUNT; state++)
        if (mask & (1u << state)) {
            size_t used = strlen (names);
            snprintf (names + used, size - used, "%s%s", used ? "," : "",
                      jobd_state_name ((jobd_state_t)state));
        }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    char reason[256];
    jobd_request_in_t query;
    if (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0) == 0 &&
        jobd_request_read (&unpacked.data, &query, reason, sizeof reason) == 0) {
        char states[256];
        s_state_names (query.state_mask, states, sizeof states);
        jobd_request_t request = {.q = query.q,
                                  .id = query.id,
                                  .state = query.state_mask ? states : NULL,
                                  .kind = query.has_kind ? query.job_kind : NULL,
                                  .name = query.has_name ? query.name : NULL,
                                  .job = query.kind == JOBD_REQUEST_SHOW ? query.job : NULL,
                                  .has_limit = query.has_limit,
                                  .limit = query.limit};
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
        if (jobd_request_pack (&request, &pk))
            abort ();
        msgpack_unpacked again_unpacked;
        msgpack_unpacked_init (&again_unpacked);
        jobd_request_in_t again;
        if (jobd_msgpack_unpack (buffer.data, buffer.size, &again_unpacked, NULL, 0) ||
            jobd_request_read (&again_unpacked.data, &again, reason, sizeof reason))
            abort ();
        if (again.kind != query.kind || strcmp (again.q, query.q) || strcmp (again.id, query.id) ||
            again.state_mask != query.state_mask || again.has_kind != query.has_kind ||
            strcmp (again.job_kind, query.job_kind) || again.has_name != query.has_name ||
            strcmp (again.name, query.name) || again.has_limit != query.has_limit ||
            again.limit != query.limit ||
            (query.kind == JOBD_REQUEST_SHOW && strcmp (again.job, query.job)))
            abort ();
        msgpack_unpacked_destroy (&again_unpacked);
        msgpack_sbuffer_destroy (&buffer);
    }
    msgpack_unpacked_destroy (&unpacked);
    return 0;
}
