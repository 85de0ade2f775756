//  Fuzz target: the reply decoder (jobd_reply_read, held to a second reading: what it read,
//  packed again with jobd_reply_pack, reads back the same), jobctl's reply parser, and the
//  answer readers (jobd_answer_read_ls, _show) with the records jobctl reads from them.
#include "jobctl_client.h"
#include "jobd_answer.h"
#include "jobd_event.h"
#include "jobd_job.h"
#include "jobd_map.h"
#include "jobd_reply.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  Packs what was read and reads it again: every field comes back.
static void
s_round_trip (const jobd_reply_t *reply)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    //  A failed reply carries its code's name: one this build does not know reads as -EIO.
    int rc = reply->ok ? 0 : reply->rc;
    jobd_reply_pack (&pk, reply->re, rc, reply->reason, reply->job[0] ? reply->job : NULL,
                     reply->outcome[0] ? reply->outcome : NULL);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    jobd_reply_t again;
    if (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, NULL) != MSGPACK_UNPACK_SUCCESS ||
        jobd_reply_read (&unpacked.data, &again, NULL, 0))
        abort ();
    if (again.ok != reply->ok || again.rc != reply->rc || strcmp (again.re, reply->re) ||
        strcmp (again.job, reply->job) || strcmp (again.outcome, reply->outcome))
        abort ();
    //  The reason comes back unless it was empty (then jobd_strerror's text is sent).
    if (!reply->ok && reply->reason[0] && strcmp (again.reason, reply->reason))
        abort ();
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    char reason[256];
    if (jobctl_reply_parse (data, size, &unpacked, reason, sizeof reason) == 0) {
        jobctl_reply_ok (&unpacked.data, reason, sizeof reason);
        jobd_reply_t reply;
        if (jobd_reply_read (&unpacked.data, &reply, reason, sizeof reason))
            abort (); //  jobctl_reply_parse took it: so does the decoder
        s_round_trip (&reply);
        for (uint32_t index = 0; reply.replies && index < reply.replies->via.array.size; index++) {
            jobd_reply_t one;
            if (jobd_reply_read (&reply.replies->via.array.ptr[index], &one, NULL, 0) == 0)
                s_round_trip (&one);
        }
        //  The answer readers jobctl uses (ls, show).
        const msgpack_object *jobs = NULL, *history = NULL;
        bool truncated = false;
        jobd_answer_read_ls (&unpacked.data, &jobs, &truncated);
        jobd_job_t *shown = NULL;
        uint64_t skipped = 0;
        if (jobd_answer_read_show (&unpacked.data, &shown, &history, &skipped, reason,
                                   sizeof reason) == 0 &&
            (!shown || !history))
            abort ();
        jobd_job_destroy (&shown);
        for (uint32_t index = 0;
             jobs && jobs->type == MSGPACK_OBJECT_ARRAY && index < jobs->via.array.size; index++) {
            jobd_job_t *record = NULL;
            if (jobd_job_from_object (&jobs->via.array.ptr[index], &record, reason,
                                      sizeof reason) == 0)
                jobd_job_destroy (&record);
        }
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
