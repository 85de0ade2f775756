//  The event: the one message shape on jobd's bus, encoded as a msgpack map (see README.md).
#include "jobd_event.h"
#include "jobd_fields.h"
#include "jobd_proto_internal.h"
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define F(key, kind, member, max)                                                                  \
    {                                                                                              \
        key, sizeof (key) - 1, JOBD_FIELD_##kind, offsetof (jobd_event_t, member), max             \
    }

//  The wire map, in the order it is packed.
static const jobd_field_t s_fields[] = {
    F ("v", U32, version, 0),
    F ("type", TYPE, type, 0),
    F ("id", STR, id, JOBD_ID_MAX),
    F ("ts", I64, ts, 0),
    F ("src", STR, source, JOBD_ID_MAX),
    F ("job", STR, job, JOBD_ID_MAX),
    F ("name", STR, name, JOBD_NAME_MAX),
    F ("kind", STR, kind, JOBD_ID_MAX),
    F ("backend", STR, backend, JOBD_ID_MAX),
    F ("ext", STR, ext, JOBD_ID_MAX),
    F ("state", STATE, state, 0),
    F ("from", STATE_OR_NONE, from, 0),
    F ("attempt", U32, attempt, 0),
    F ("seq", U64, seq, 0),
    F ("error", STR, error, JOBD_ERROR_MAX),
    F ("spec", STR, spec, JOBD_SPEC_MAX),
    F ("detail", STR, detail, JOBD_DETAIL_MAX),
    F ("status", STR, status, JOBD_ID_MAX),
    F ("create", BOOL, create, 0),
    F ("last_seen", I64, last_seen, 0),
    F ("reply", BOOL, reply, 0),
    F ("stream", STR, stream, JOBD_NAME_MAX),
    F ("pos", U64, pos, 0),
    F ("cause", STR, cause, JOBD_CAUSE_MAX),
    F ("app_id", STR, app_id, JOBD_ID_MAX),
    F ("app_url", STR, app_url, JOBD_URL_MAX),
    F ("log_url", STR, log_url, JOBD_URL_MAX),
    F ("due", I64, due, 0),
    F ("class", STR, failure_class, JOBD_ID_MAX),
    F ("policy", STR, policy, JOBD_ID_MAX),
    F ("change", STR, change, JOBD_CHANGE_MAX),
    F ("now", BOOL, now, 0),
    F ("stop", BOOL, stop, 0),
    F ("figures", FIGURES, figures, JOBD_FIGURES_BYTES_MAX),
    F ("ask", STR, ask, JOBD_ID_MAX),
    F ("heartbeat", I64, heartbeat, 0),
    F ("heartbeat_grace", I64, heartbeat_grace, 0),
};
#define FIELD_COUNT (sizeof s_fields / sizeof s_fields[0])

int64_t
jobd_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  Event ids: 8 random bytes per process, then a counter: unique across threads and processes.
static uint64_t s_id_prefix;
static atomic_uint_fast32_t s_id_counter;
static pthread_once_t s_id_once = PTHREAD_ONCE_INIT;

static void
s_id_random (void)
{
    if (getrandom (&s_id_prefix, sizeof s_id_prefix, 0) != sizeof s_id_prefix)
        s_id_prefix = (uint64_t)jobd_now_ms () ^ ((uint64_t)getpid () << 32);
    atomic_store (&s_id_counter, 0);
}

static void
s_id_init (void)
{
    s_id_random ();
    //  A forked child would otherwise repeat its parent's ids.
    pthread_atfork (NULL, NULL, s_id_random);
}

void
jobd_event_new_id (char id[25])
{
    pthread_once (&s_id_once, s_id_init);
    static const char hex[] = "0123456789abcdef";
    uint64_t prefix = s_id_prefix;
    uint32_t counter = (uint32_t)atomic_fetch_add (&s_id_counter, 1);
    for (int index = 15; index >= 0; index--, prefix >>= 4)
        id[index] = hex[prefix & 15];
    for (int index = 23; index >= 16; index--, counter >>= 4)
        id[index] = hex[counter & 15];
    id[24] = 0;
}

jobd_event_t *
jobd_event_new (jobd_event_type_t type)
{
    jobd_event_t *self = (jobd_event_t *)calloc (1, sizeof (jobd_event_t));
    if (!self)
        return NULL;
    char id[25];
    jobd_event_new_id (id);
    self->id = strdup (id);
    if (!self->id) {
        free (self);
        return NULL;
    }
    self->version = JOBD_PROTO_VERSION;
    self->type = type;
    self->ts = jobd_now_ms ();
    return self;
}

void
jobd_event_destroy (jobd_event_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_fields_free (s_fields, FIELD_COUNT, *self_p);
    free (*self_p);
    *self_p = NULL;
}

jobd_event_t *
jobd_event_dup (const jobd_event_t *self)
{
    if (!self)
        return NULL;
    jobd_event_t *copy = (jobd_event_t *)malloc (sizeof (jobd_event_t));
    if (!copy)
        return NULL;
    *copy = *self;
    if (jobd_fields_dup (s_fields, FIELD_COUNT, copy)) {
        jobd_event_destroy (&copy);
        return NULL;
    }
    return copy;
}

int
jobd_event_set (char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup (value)))
        return -ENOMEM;
    free (*field);
    *field = copy;
    return 0;
}

static bool
s_empty (const char *text)
{
    return !text || !*text;
}

//  Returns the name of the first field the event's type requires and lacks, or NULL. Empty
//  strings count as missing: an empty id or job matches nothing.
static const char *
s_missing (const jobd_event_t *self)
{
    switch (self->type) {
        case JOBD_EVENT_SUBMIT:
            return s_empty (self->kind) ? "'kind'" : s_empty (self->spec) ? "'spec'" : NULL;
        case JOBD_EVENT_TRACK:
            return s_empty (self->kind)      ? "'kind'"
                   : s_empty (self->backend) ? "'backend'"
                   : s_empty (self->ext)     ? "'ext'"
                                             : NULL;
        case JOBD_EVENT_CANCEL:
        case JOBD_EVENT_RETRY:
            return s_empty (self->job) ? "'job'" : NULL;
        case JOBD_EVENT_OBSERVED:
            if (self->state == JOBD_STATE_NONE)
                return "'state'";
            if (s_empty (self->job) && (s_empty (self->backend) || s_empty (self->ext)))
                return "'job' (or 'backend' and 'ext')";
            if (!s_empty (self->stream) && self->pos == 0)
                return "'pos' (required by 'stream')";
            return self->create && s_empty (self->kind) ? "'kind' (required by 'create')" : NULL;
        case JOBD_EVENT_TRANSITION:
            return s_empty (self->job)              ? "'job'"
                   : self->state == JOBD_STATE_NONE ? "'state'"
                   : self->seq == 0                 ? "'seq'"
                                                    : NULL;
        case JOBD_EVENT_STALE:
            return s_empty (self->job)              ? "'job'"
                   : self->state == JOBD_STATE_NONE ? "'state'"
                                                    : NULL;
        case JOBD_EVENT_PLUGIN_STATUS:
            return s_empty (self->name) ? "'name'" : s_empty (self->status) ? "'status'" : NULL;
        case JOBD_EVENT_CURSOR:
            return s_empty (self->name) ? "'name'" : NULL;
        case JOBD_EVENT_CANCEL_FAILED:
            return s_empty (self->job)      ? "'job'"
                   : s_empty (self->status) ? "'status'"
                   : s_empty (self->error)  ? "'error'"
                                            : NULL;
        case JOBD_EVENT_RETRY_PLAN:
            if (s_empty (self->job))
                return "'job'";
            if (self->attempt == 0)
                return "'attempt'";
            if (self->state == JOBD_STATE_NONE)
                return "'state'";
            if (self->state == JOBD_STATE_RETRY_WAIT)
                return self->due <= 0 ? "'due' (required by state RETRY_WAIT)" : NULL;
            return self->state == JOBD_STATE_FAILED && s_empty (self->error)
                       ? "'error' (required by state FAILED)"
                       : NULL;
        default:
            return NULL;
    }
}

static const char *s_statuses[] = {"starting", "running", "degraded", "failed", "stopped"};
static const char *s_cancel_statuses[] = {"refused", "retrying", "failed"};

int
jobd_event_validate (const jobd_event_t *self, char *reason, size_t reason_size)
{
    if (self->version == 0) {
        jobd_proto_reason (reason, reason_size, "missing field 'v'");
        return JOBD_EPROTO;
    }
    if (self->version > JOBD_PROTO_VERSION) {
        jobd_proto_reason (reason, reason_size,
                           "field 'v': version %u is newer than this jobd's version %d",
                           self->version, JOBD_PROTO_VERSION);
        return JOBD_EPROTO;
    }
    if (self->type <= JOBD_EVENT_INVALID || self->type >= JOBD_EVENT_TYPE_COUNT) {
        jobd_proto_reason (reason, reason_size, "missing field 'type'");
        return JOBD_EPROTO;
    }
    const char *missing = s_empty (self->id)       ? "'id'"
                          : self->ts == 0          ? "'ts'"
                          : s_empty (self->source) ? "'src'"
                                                   : s_missing (self);
    if (missing) {
        jobd_proto_reason (reason, reason_size, "%s event: missing field %s",
                           jobd_event_type_name (self->type), missing);
        return JOBD_EPROTO;
    }
    if (self->type == JOBD_EVENT_PLUGIN_STATUS) {
        bool known = false;
        for (size_t index = 0; index < sizeof s_statuses / sizeof s_statuses[0]; index++)
            known = known || strcmp (self->status, s_statuses[index]) == 0;
        if (!known) {
            jobd_proto_reason (reason, reason_size,
                               "field 'status': '%.32s' is not starting, running, degraded, "
                               "failed or stopped",
                               self->status);
            return JOBD_EPROTO;
        }
    }
    if (self->type == JOBD_EVENT_CANCEL_FAILED && !jobd_cancel_status_known (self->status)) {
        jobd_proto_reason (reason, reason_size,
                           "field 'status': '%.32s' is not refused, retrying or failed",
                           self->status);
        return JOBD_EPROTO;
    }
    if (self->type == JOBD_EVENT_RETRY_PLAN && self->state != JOBD_STATE_RETRY_WAIT &&
        self->state != JOBD_STATE_FAILED) {
        jobd_proto_reason (reason, reason_size,
                           "field 'state': a retry.plan is RETRY_WAIT (a next attempt at 'due') "
                           "or FAILED (final: no retry), not %s",
                           jobd_state_name (self->state));
        return JOBD_EPROTO;
    }
    if (self->type == JOBD_EVENT_RETRY && self->now && self->stop) {
        jobd_proto_reason (reason, reason_size,
                           "retry event: 'now' and 'stop' together (start the next attempt, or "
                           "stop the pending one)");
        return JOBD_EPROTO;
    }
    if (self->heartbeat < 0 || self->heartbeat > JOBD_HEARTBEAT_MAX || self->heartbeat_grace < 0 ||
        self->heartbeat_grace > JOBD_HEARTBEAT_MAX) {
        jobd_proto_reason (
            reason, reason_size, "field '%s': %lld ms, not between 0 and %lld (30 days)",
            self->heartbeat < 0 || self->heartbeat > JOBD_HEARTBEAT_MAX ? "heartbeat"
                                                                        : "heartbeat_grace",
            (long long)(self->heartbeat < 0 || self->heartbeat > JOBD_HEARTBEAT_MAX
                            ? self->heartbeat
                            : self->heartbeat_grace),
            (long long)JOBD_HEARTBEAT_MAX);
        return JOBD_EPROTO;
    }
    //  A cause is one line, for watch and ls: a newline in it would break their columns.
    if (self->cause && strpbrk (self->cause, "\r\n")) {
        jobd_proto_reason (reason, reason_size, "field 'cause': more than one line");
        return JOBD_EPROTO;
    }
    //  Every event that comes to jobd is held to UTF-8 (in msgpack as in the JSON some arrive
    //  in), so that the store only takes strings JSON can carry. A transition is made by jobd
    //  from its store, where an older jobd may have left invalid bytes: it is still read.
    return jobd_fields_check (s_fields, FIELD_COUNT, self, self->type != JOBD_EVENT_TRANSITION,
                              reason, reason_size);
}

int
jobd_event_fix_utf8 (jobd_event_t *self)
{
    return jobd_fields_fix_utf8 (s_fields, FIELD_COUNT, self);
}

bool
jobd_cancel_status_known (const char *status)
{
    for (size_t index = 0; status && index < sizeof s_cancel_statuses / sizeof s_cancel_statuses[0];
         index++)
        if (strcmp (status, s_cancel_statuses[index]) == 0)
            return true;
    return false;
}

int
jobd_event_encode (const jobd_event_t *self, uint8_t **data_p, size_t *size_p, char *reason,
                   size_t reason_size)
{
    int rc = jobd_event_validate (self, reason, reason_size);
    if (rc)
        return rc;
    return jobd_fields_encode (s_fields, FIELD_COUNT, self, data_p, size_p, reason, reason_size);
}

int
jobd_event_pack (const jobd_event_t *self, msgpack_packer *pk)
{
    return jobd_fields_pack (s_fields, FIELD_COUNT, self, pk);
}

int
jobd_event_pack_to (const jobd_event_t *self, msgpack_sbuffer *buffer)
{
    return jobd_fields_pack_to (s_fields, FIELD_COUNT, self, buffer);
}

static int
s_pack_string (msgpack_packer *pk, const char *text)
{
    size_t size = strlen (text);
    return msgpack_pack_str (pk, size) || msgpack_pack_str_body (pk, text, size);
}

int
jobd_event_pack_batch (msgpack_packer *pk, const char *id, const char *source, size_t count)
{
    int rc = msgpack_pack_map (pk, 6) || s_pack_string (pk, "v") ||
             msgpack_pack_uint32 (pk, JOBD_PROTO_VERSION) || s_pack_string (pk, "type") ||
             s_pack_string (pk, "batch") || s_pack_string (pk, "id") || s_pack_string (pk, id) ||
             s_pack_string (pk, "ts") || msgpack_pack_int64 (pk, jobd_now_ms ()) ||
             s_pack_string (pk, "src") || s_pack_string (pk, source) ||
             s_pack_string (pk, "events") || msgpack_pack_array (pk, count);
    return rc ? -ENOMEM : 0;
}

//  A newer sender may use types and fields this jobd does not know: name the version, not the
//  first unknown thing, whichever order the keys come in.
static int
s_check_version (const msgpack_object *obj, char *reason, size_t reason_size)
{
    if (!obj || obj->type != MSGPACK_OBJECT_MAP)
        return 0;
    for (uint32_t index = 0; index < obj->via.map.size; index++) {
        const msgpack_object *key = &obj->via.map.ptr[index].key;
        const msgpack_object *value = &obj->via.map.ptr[index].val;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == 1 &&
            key->via.str.ptr[0] == 'v' && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
            value->via.u64 > JOBD_PROTO_VERSION) {
            jobd_proto_reason (reason, reason_size,
                               "field 'v': version %" PRIu64
                               " is newer than this jobd's version %d",
                               value->via.u64, JOBD_PROTO_VERSION);
            return JOBD_EPROTO;
        }
    }
    return 0;
}

//  Reads and validates obj into a fresh event: one allocation when flat, else the usual one.
static int
s_from_object (const msgpack_object *obj, bool flat, jobd_event_t **event_p, char *reason,
               size_t reason_size)
{
    int rc = s_check_version (obj, reason, reason_size);
    if (rc)
        return rc;
    jobd_event_t *self = NULL;
    if (flat)
        rc = jobd_fields_read_flat (s_fields, FIELD_COUNT, obj, sizeof (jobd_event_t),
                                    (void **)&self, reason, reason_size);
    else if ((self = (jobd_event_t *)calloc (1, sizeof (jobd_event_t))))
        rc = jobd_fields_read (s_fields, FIELD_COUNT, obj, self, reason, reason_size);
    else
        return -ENOMEM;
    if (rc == 0)
        rc = jobd_event_validate (self, reason, reason_size);
    if (rc == 0)
        *event_p = self;
    else if (flat)
        free (self);
    else
        jobd_event_destroy (&self);
    return rc;
}

int
jobd_event_from_object (const msgpack_object *obj, jobd_event_t **event_p, char *reason,
                        size_t reason_size)
{
    return s_from_object (obj, false, event_p, reason, reason_size);
}

int
jobd_event_from_object_flat (const msgpack_object *obj, jobd_event_t **event_p, char *reason,
                             size_t reason_size)
{
    return s_from_object (obj, true, event_p, reason, reason_size);
}

int
jobd_event_decode (const void *data, size_t size, jobd_event_t **event_p, char *reason,
                   size_t reason_size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    int rc =
        jobd_msgpack_unpack_limited (data, size, JOBD_EVENT_MAX, &unpacked, reason, reason_size);
    if (rc == 0)
        rc = jobd_event_from_object (&unpacked.data, event_p, reason, reason_size);
    msgpack_unpacked_destroy (&unpacked);
    return rc;
}
