//  Fuzz target: what the broker does with one admin message: unpack, then answer it as a query
//  (jobd_request_read, then the answers of jobd_answer) or decode it as an event (against a small
//  real store). Every answer must read back as a reply (jobd_reply_read), with the query's id,
//  and an ls or show answer as one (jobd_answer_read_*).
#include "jobd_admin.h"
#include "jobd_map.h"
#include "jobd_reply.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jobd_store_t *s_store;
static zhashx_t *s_plugins;

static void
s_open_store (void)
{
    char dir[] = "/tmp/jobd-fuzz-admin-XXXXXX";
    char reason[256];
    if (!mkdtemp (dir) || jobd_store_open (dir, 0, 0, &s_store, reason, sizeof reason))
        abort ();
    //  A few jobs so that ls and show have something to walk.
    jobd_store_begin (s_store);
    for (int index = 0; index < 3; index++) {
        jobd_event_t *submit = jobd_event_new (JOBD_EVENT_SUBMIT);
        jobd_event_set (&submit->source, "fuzz");
        jobd_event_set (&submit->kind, "spark");
        jobd_event_set (&submit->spec, "{}");
        jobd_apply_result_t result;
        memset (&result, 0, sizeof result);
        jobd_store_apply (s_store, submit, &result);
        jobd_apply_result_clear (&result);
        jobd_event_destroy (&submit);
    }
    jobd_store_commit (s_store);
    s_plugins = zhashx_new ();
}

//  The answer to query (rc: what jobd_admin_query returned) reads back as its reply.
static void
s_check_answer (const msgpack_object *query, int rc, const msgpack_sbuffer *buffer)
{
    msgpack_unpacked answer;
    msgpack_unpacked_init (&answer);
    jobd_reply_t reply;
    jobd_request_in_t request;
    char reason[256];
    jobd_request_read (query, &request, reason, sizeof reason);
    if (jobd_msgpack_unpack (buffer->data, buffer->size, &answer, NULL, 0) ||
        jobd_reply_read (&answer.data, &reply, NULL, 0) || reply.ok != (rc == 0) ||
        strcmp (reply.re, request.id) || (rc && reply.rc != rc && reply.rc != -EIO))
        abort ();
    if (rc == 0 && request.kind == JOBD_REQUEST_LS) {
        const msgpack_object *jobs;
        bool truncated;
        if (jobd_answer_read_ls (&answer.data, &jobs, &truncated))
            abort ();
    }
    if (rc == 0 && request.kind == JOBD_REQUEST_SHOW) {
        jobd_job_t *job = NULL;
        const msgpack_object *history;
        uint64_t skipped;
        if (jobd_answer_read_show (&answer.data, &job, &history, &skipped, reason, sizeof reason))
            abort ();
        jobd_job_destroy (&job);
    }
    msgpack_unpacked_destroy (&answer);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_store)
        s_open_store ();
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    if (jobd_msgpack_unpack (data, size, &unpacked, NULL, 0) == 0) {
        char type[32] = "";
        jobd_map_string (&unpacked.data, "type", type, sizeof type);
        if (strcmp (type, "query") == 0) {
            jobd_stats_t stats = {0};
            jobd_admin_context_t context = {
                .store = s_store, .stats = &stats, .plugins = s_plugins};
            msgpack_sbuffer buffer;
            msgpack_sbuffer_init (&buffer);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
            int rc = jobd_admin_query (&context, &unpacked.data, &pk);
            s_check_answer (&unpacked.data, rc, &buffer);
            msgpack_sbuffer_destroy (&buffer);
        } else {
            jobd_event_t *event = NULL;
            char reason[256];
            if (jobd_event_from_object (&unpacked.data, &event, reason, sizeof reason) == 0)
                jobd_event_destroy (&event);
        }
    }
    msgpack_unpacked_destroy (&unpacked);
    return 0;
}
