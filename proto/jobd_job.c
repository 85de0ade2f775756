//  The job record: what the store keeps for each job, encoded as a msgpack map (see README.md).
#include "jobd_job.h"
#include "jobd_event.h"
#include "jobd_fields.h"
#include "jobd_proto_internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define F(key, kind, member, max)                                                                  \
    {                                                                                              \
        key, sizeof (key) - 1, JOBD_FIELD_##kind, offsetof (jobd_job_t, member), max               \
    }

static const jobd_field_t s_fields[] = {
    F ("id", STR, id, JOBD_ID_MAX),
    F ("name", STR, name, JOBD_NAME_MAX),
    F ("kind", STR, kind, JOBD_ID_MAX),
    F ("backend", STR, backend, JOBD_ID_MAX),
    F ("ext", STR, ext, JOBD_ID_MAX),
    F ("state", STATE, state, 0),
    F ("attempt", U32, attempt, 0),
    F ("last_seq", U64, last_seq, 0),
    F ("queued_at", I64, queued_at, 0),
    F ("submitted_at", I64, submitted_at, 0),
    F ("started_at", I64, started_at, 0),
    F ("finished_at", I64, finished_at, 0),
    F ("last_seen", I64, last_seen, 0),
    F ("updated_at", I64, updated_at, 0),
    F ("error", STR, error, JOBD_ERROR_MAX),
    F ("spec", STR, spec, JOBD_SPEC_MAX),
    F ("cancel_status", STR, cancel_status, JOBD_ID_MAX),
    F ("cancel_error", STR, cancel_error, JOBD_ERROR_MAX),
    F ("cancel_at", I64, cancel_at, 0),
    F ("conflict", STR, conflict, JOBD_ERROR_MAX),
    F ("conflict_at", I64, conflict_at, 0),
    F ("confirmed_at", I64, confirmed_at, 0),
    F ("stale", STR, stale, JOBD_ERROR_MAX),
    F ("stale_at", I64, stale_at, 0),
    F ("cause", STR, cause, JOBD_CAUSE_MAX),
    F ("app_id", STR, app_id, JOBD_ID_MAX),
    F ("app_url", STR, app_url, JOBD_URL_MAX),
    F ("log_url", STR, log_url, JOBD_URL_MAX),
    F ("retry_at", I64, retry_at, 0),
    F ("retry_class", STR, retry_class, JOBD_ID_MAX),
    F ("retry_policy", STR, retry_policy, JOBD_ID_MAX),
    F ("retry_final", STR, retry_final, JOBD_ERROR_MAX),
    F ("cl_epoch", U64, cl_epoch, 0),
    F ("heartbeat", I64, heartbeat, 0),
    F ("heartbeat_grace", I64, heartbeat_grace, 0),
};
#define FIELD_COUNT (sizeof s_fields / sizeof s_fields[0])

jobd_job_t *
jobd_job_new (void)
{
    return (jobd_job_t *)calloc (1, sizeof (jobd_job_t));
}

void
jobd_job_destroy (jobd_job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_fields_free (s_fields, FIELD_COUNT, *self_p);
    free (*self_p);
    *self_p = NULL;
}

jobd_job_t *
jobd_job_dup (const jobd_job_t *self)
{
    if (!self)
        return NULL;
    jobd_job_t *copy = (jobd_job_t *)malloc (sizeof (jobd_job_t));
    if (!copy)
        return NULL;
    *copy = *self;
    if (jobd_fields_dup (s_fields, FIELD_COUNT, copy)) {
        jobd_job_destroy (&copy);
        return NULL;
    }
    return copy;
}

static int
s_validate (const jobd_job_t *self, char *reason, size_t reason_size)
{
    const char *missing = !self->id || !*self->id          ? "id"
                          : !self->kind || !*self->kind    ? "kind"
                          : self->state == JOBD_STATE_NONE ? "state"
                                                           : NULL;
    if (missing) {
        jobd_proto_reason (reason, reason_size, "job record: missing field '%s'", missing);
        return JOBD_EPROTO;
    }
    //  Not held to UTF-8: a record an older jobd stored must still be read (and written out, the
    //  invalid bytes replaced). The events that make records are (jobd_event_validate).
    return jobd_fields_check (s_fields, FIELD_COUNT, self, false, reason, reason_size);
}

int
jobd_job_encode (const jobd_job_t *self, uint8_t **data_p, size_t *size_p, char *reason,
                 size_t reason_size)
{
    int rc = s_validate (self, reason, reason_size);
    if (rc)
        return rc;
    return jobd_fields_encode (s_fields, FIELD_COUNT, self, data_p, size_p, reason, reason_size);
}

int
jobd_job_pack (const jobd_job_t *self, msgpack_packer *pk)
{
    return jobd_fields_pack (s_fields, FIELD_COUNT, self, pk);
}

int
jobd_job_pack_to (const jobd_job_t *self, msgpack_sbuffer *buffer)
{
    return jobd_fields_pack_to (s_fields, FIELD_COUNT, self, buffer);
}

int
jobd_job_from_object (const msgpack_object *obj, jobd_job_t **job_p, char *reason,
                      size_t reason_size)
{
    jobd_job_t *self = jobd_job_new ();
    if (!self)
        return -ENOMEM;
    int rc = jobd_fields_read (s_fields, FIELD_COUNT, obj, self, reason, reason_size);
    if (rc == 0)
        rc = s_validate (self, reason, reason_size);
    if (rc)
        jobd_job_destroy (&self);
    else
        *job_p = self;
    return rc;
}

int
jobd_job_decode (const void *data, size_t size, jobd_job_t **job_p, char *reason,
                 size_t reason_size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    int rc =
        jobd_msgpack_unpack_limited (data, size, JOBD_EVENT_MAX, &unpacked, reason, reason_size);
    if (rc == 0)
        rc = jobd_job_from_object (&unpacked.data, job_p, reason, reason_size);
    msgpack_unpacked_destroy (&unpacked);
    return rc;
}
