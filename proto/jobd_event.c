//  The event: the one message shape on jobd's bus, encoded as a msgpack map (see README.md).
#include "jobd_event.h"
#include "jobd_fields.h"
#include <errno.h>
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
    F ("from", STATE, from, 0),
    F ("attempt", U32, attempt, 0),
    F ("seq", U64, seq, 0),
    F ("error", STR, error, JOBD_ERROR_MAX),
    F ("spec", STR, spec, JOBD_SPEC_MAX),
    F ("detail", STR, detail, JOBD_DETAIL_MAX),
    F ("status", STR, status, JOBD_ID_MAX),
    F ("create", BOOL, create, 0),
    F ("last_seen", I64, last_seen, 0),
    F ("reply", BOOL, reply, 0),
};
#define FIELD_COUNT (sizeof s_fields / sizeof s_fields[0])

static const char *s_type_names[JOBD_EVENT_TYPE_COUNT] = {"invalid",    "submit", "track",
                                                          "cancel",     "retry",  "observed",
                                                          "transition", "stale",  "plugin.status"};

const char *
jobd_event_type_name (jobd_event_type_t type)
{
    return (unsigned)type < JOBD_EVENT_TYPE_COUNT ? s_type_names[type] : "invalid";
}

jobd_event_type_t
jobd_event_type_parse (const char *name, size_t len)
{
    for (int type = JOBD_EVENT_SUBMIT; type < JOBD_EVENT_TYPE_COUNT; type++)
        if (strlen (s_type_names[type]) == len && memcmp (s_type_names[type], name, len) == 0)
            return (jobd_event_type_t)type;
    return JOBD_EVENT_INVALID;
}

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
s_id_init (void)
{
    if (getrandom (&s_id_prefix, sizeof s_id_prefix, 0) != sizeof s_id_prefix)
        s_id_prefix = (uint64_t)jobd_now_ms () ^ ((uint64_t)getpid () << 32);
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

int
jobd_event_validate (const jobd_event_t *self, char *reason, size_t reason_size)
{
    if (self->version < 1 || self->version > JOBD_PROTO_VERSION) {
        jobd_fields_reason (reason, reason_size, "field 'v': version %u, this jobd speaks 1 to %d",
                            self->version, JOBD_PROTO_VERSION);
        return JOBD_EPROTO;
    }
    const char *missing = NULL;
    if (self->type <= JOBD_EVENT_INVALID || self->type >= JOBD_EVENT_TYPE_COUNT)
        missing = "type";
    else if (s_empty (self->id))
        missing = "id";
    else if (self->ts == 0)
        missing = "ts";
    else if (s_empty (self->source))
        missing = "src";
    else
        switch (self->type) {
            case JOBD_EVENT_SUBMIT:
                missing = s_empty (self->kind) ? "kind" : !self->spec ? "spec" : NULL;
                break;
            case JOBD_EVENT_TRACK:
                missing = s_empty (self->kind)      ? "kind"
                          : s_empty (self->backend) ? "backend"
                          : s_empty (self->ext)     ? "ext"
                                                    : NULL;
                break;
            case JOBD_EVENT_CANCEL:
            case JOBD_EVENT_RETRY:
                missing = s_empty (self->job) ? "job" : NULL;
                break;
            case JOBD_EVENT_OBSERVED:
                missing = self->state == JOBD_STATE_NONE ? "state"
                          : s_empty (self->job) && (s_empty (self->backend) || s_empty (self->ext))
                              ? "job (or backend and ext)"
                          : self->create && s_empty (self->kind) ? "kind (create is set)"
                                                                 : NULL;
                break;
            case JOBD_EVENT_TRANSITION:
                missing = s_empty (self->job)              ? "job"
                          : self->state == JOBD_STATE_NONE ? "state"
                          : self->seq == 0                 ? "seq"
                                                           : NULL;
                break;
            case JOBD_EVENT_STALE:
                missing = s_empty (self->job)              ? "job"
                          : self->state == JOBD_STATE_NONE ? "state"
                                                           : NULL;
                break;
            case JOBD_EVENT_PLUGIN_STATUS:
                missing = s_empty (self->name) ? "name" : s_empty (self->status) ? "status" : NULL;
                break;
            default:
                break;
        }
    if (missing) {
        jobd_fields_reason (reason, reason_size, "%s event without field %s",
                            jobd_event_type_name (self->type), missing);
        return JOBD_EPROTO;
    }
    if (self->type == JOBD_EVENT_PLUGIN_STATUS) {
        static const char *statuses[] = {"starting", "running", "degraded", "failed", "stopped"};
        bool known = false;
        for (size_t index = 0; index < 5; index++)
            known = known || strcmp (self->status, statuses[index]) == 0;
        if (!known) {
            jobd_fields_reason (reason, reason_size,
                                "field 'status': '%s' is not starting, running, degraded, "
                                "failed or stopped",
                                self->status);
            return JOBD_EPROTO;
        }
    }
    return jobd_fields_check (s_fields, FIELD_COUNT, self, reason, reason_size);
}

int
jobd_event_encode (const jobd_event_t *self, uint8_t **data_p, size_t *size_p, char *reason,
                   size_t reason_size)
{
    int rc = jobd_event_validate (self, reason, reason_size);
    if (rc)
        return rc;
    return jobd_fields_encode (s_fields, FIELD_COUNT, self, data_p, size_p);
}

int
jobd_event_pack (const jobd_event_t *self, msgpack_packer *pk)
{
    return jobd_fields_pack (s_fields, FIELD_COUNT, self, pk);
}

//  Validates a freshly read event; hands it over or frees it.
static int
s_finish (jobd_event_t *self, int rc, jobd_event_t **event_p, char *reason, size_t reason_size)
{
    if (rc == 0)
        rc = jobd_event_validate (self, reason, reason_size);
    if (rc)
        jobd_event_destroy (&self);
    else
        *event_p = self;
    return rc;
}

int
jobd_event_from_object (const msgpack_object *obj, jobd_event_t **event_p, char *reason,
                        size_t reason_size)
{
    jobd_event_t *self = (jobd_event_t *)calloc (1, sizeof (jobd_event_t));
    if (!self)
        return -ENOMEM;
    int rc = jobd_fields_read (s_fields, FIELD_COUNT, obj, self, reason, reason_size);
    return s_finish (self, rc, event_p, reason, reason_size);
}

int
jobd_event_decode (const void *data, size_t size, jobd_event_t **event_p, char *reason,
                   size_t reason_size)
{
    jobd_event_t *self = (jobd_event_t *)calloc (1, sizeof (jobd_event_t));
    if (!self)
        return -ENOMEM;
    int rc = jobd_fields_decode (s_fields, FIELD_COUNT, data, size, JOBD_EVENT_MAX, self, reason,
                                 reason_size);
    return s_finish (self, rc, event_p, reason, reason_size);
}
