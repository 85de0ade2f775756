//  Fuzz target: jobctl's reply parser and the lookups jobctl does on a reply.
#include "jobctl_client.h"
#include "jobd_admin.h"
#include "jobd_event.h"
#include "jobd_job.h"
#include <stdint.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    char reason[256];
    if (jobctl_reply_parse (data, size, &unpacked, reason, sizeof reason) == 0) {
        jobctl_reply_ok (&unpacked.data, reason, sizeof reason);
        char job[JOBD_ID_MAX + 1];
        jobd_admin_string (&unpacked.data, "job", job, sizeof job);
        const msgpack_object *jobs = jobd_admin_lookup (&unpacked.data, "jobs");
        for (uint32_t index = 0;
             jobs && jobs->type == MSGPACK_OBJECT_ARRAY && index < jobs->via.array.size; index++) {
            jobd_job_t *record = NULL;
            if (jobd_job_from_object (&jobs->via.array.ptr[index], &record, reason,
                                      sizeof reason) == 0)
                jobd_job_destroy (&record);
        }
        const msgpack_object *history = jobd_admin_lookup (&unpacked.data, "history");
        for (uint32_t index = 0;
             history && history->type == MSGPACK_OBJECT_ARRAY && index < history->via.array.size;
             index++) {
            jobd_event_t *event = NULL;
            if (jobd_event_from_object (&history->via.array.ptr[index], &event, reason,
                                        sizeof reason) == 0)
                jobd_event_destroy (&event);
        }
    }
    msgpack_unpacked_destroy (&unpacked);
    return 0;
}
