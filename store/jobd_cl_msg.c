//  Changelog messages: the one encoder and the one decoder of their Kafka keys and values
//  (docs/cluster.md, section 5). The decoder trusts nothing: the bytes come from Kafka.
#include "jobd_cl_msg.h"
#include "jobd_event.h"
#include "jobd_msgpack.h"
#include "jobd_store_internal.h"
#include <stdarg.h>
#include <stdio.h>

//  The keys of the partition records: 0x00, then a name ("\0stream/" and "\0cursor/" go on).
#define S_OWNER  "\0owner"
#define S_IN     "\0in"
#define S_STREAM "\0stream/"
#define S_CURSOR "\0cursor/"

static int s_refuse (char *reason, size_t reason_size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Writes the reason (when asked for) and returns JOBD_EPROTO.
static int
s_refuse (char *reason, size_t reason_size, const char *format, ...)
{
    if (reason && reason_size) {
        va_list args;
        va_start (args, format);
        int size = snprintf (reason, reason_size, "changelog message: ");
        if (size >= 0 && (size_t)size < reason_size)
            vsnprintf (reason + size, reason_size - (size_t)size, format, args);
        va_end (args);
    }
    return JOBD_EPROTO;
}

//  Copies a string of size bytes into out (out_max bytes at most, no NUL inside). Returns
//  whether it fits and is not empty.
static bool
s_copy_name (char *out, size_t out_max, const char *data, size_t size)
{
    if (size == 0 || size > out_max || memchr (data, 0, size))
        return false;
    memcpy (out, data, size);
    out[size] = 0;
    return true;
}

static bool
s_key_is (const msgpack_object *key, const char *name)
{
    size_t size = strlen (name);
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == size &&
           memcmp (key->via.str.ptr, name, size) == 0;
}

//  Reads the key into msg: its kind, and the job id and seq or the name it holds.
static int
s_decode_key (const uint8_t *key, size_t key_size, jobd_cl_msg_t *msg, char *reason,
              size_t reason_size)
{
    if (key_size == 0)
        return s_refuse (reason, reason_size, "empty key");
    if (key[0] == 0) {
        struct {
            const char *prefix;
            size_t size;
            jobd_cl_kind_t kind;
            bool named;
        } forms[] = {{S_OWNER, sizeof S_OWNER - 1, JOBD_CL_OWNER, false},
                     {S_IN, sizeof S_IN - 1, JOBD_CL_IN, false},
                     {S_STREAM, sizeof S_STREAM - 1, JOBD_CL_STREAM, true},
                     {S_CURSOR, sizeof S_CURSOR - 1, JOBD_CL_CURSOR, true}};
        for (size_t form = 0; form < sizeof forms / sizeof forms[0]; form++) {
            size_t size = forms[form].size;
            if (forms[form].named ? key_size <= size : key_size != size)
                continue;
            if (memcmp (key, forms[form].prefix, size))
                continue;
            msg->kind = forms[form].kind;
            if (forms[form].named && !s_copy_name (msg->name, JOBD_CL_NAME_MAX,
                                                   (const char *)key + size, key_size - size))
                return s_refuse (reason, reason_size, "a %s name over %d bytes or with a NUL",
                                 forms[form].prefix + 1, JOBD_CL_NAME_MAX);
            return 0;
        }
        return s_refuse (reason, reason_size, "unknown partition record key (%zu bytes)", key_size);
    }
    const uint8_t *zero = (const uint8_t *)memchr (key, 0, key_size);
    size_t id_size = zero ? (size_t)(zero - key) : key_size;
    if (id_size > JOBD_ID_MAX)
        return s_refuse (reason, reason_size, "a job id over %d bytes", JOBD_ID_MAX);
    memcpy (msg->job, key, id_size);
    msg->job[id_size] = 0;
    if (!zero) {
        msg->kind = JOBD_CL_REC;
        return 0;
    }
    if (key_size != id_size + 9)
        return s_refuse (reason, reason_size, "history key of job '%s' is not id, 0, be64 seq",
                         msg->job);
    msg->kind = JOBD_CL_EV;
    msg->seq = jobd_store_get_be (zero + 1, 8);
    if (msg->seq == 0 || msg->seq == UINT64_MAX)
        return s_refuse (reason, reason_size, "history key of job '%s' with seq %s", msg->job,
                         msg->seq ? "2^64 - 1" : "0");
    return 0;
}

//  Reads a `timers` array: [[name, due, value (bin)], ...].
static int
s_decode_timers (const msgpack_object *array, jobd_cl_msg_t *msg, char *reason, size_t reason_size)
{
    if (array->type != MSGPACK_OBJECT_ARRAY)
        return s_refuse (reason, reason_size, "`timers` of job '%s' is not an array", msg->job);
    if (array->via.array.size > JOBD_CL_TIMERS_MAX)
        return s_refuse (reason, reason_size, "job '%s' has %u timers, at most %d", msg->job,
                         array->via.array.size, JOBD_CL_TIMERS_MAX);
    for (uint32_t index = 0; index < array->via.array.size; index++) {
        const msgpack_object *item = &array->via.array.ptr[index];
        jobd_cl_timer_t *timer = &msg->timers[index];
        if (item->type != MSGPACK_OBJECT_ARRAY || item->via.array.size != 3)
            return s_refuse (reason, reason_size, "timer %u of job '%s' is not [name, due, value]",
                             index, msg->job);
        const msgpack_object *name = &item->via.array.ptr[0], *due = &item->via.array.ptr[1],
                             *value = &item->via.array.ptr[2];
        if (name->type != MSGPACK_OBJECT_STR ||
            !s_copy_name (timer->name, JOBD_STORE_TIMER_NAME_MAX, name->via.str.ptr,
                          name->via.str.size))
            return s_refuse (reason, reason_size, "timer %u of job '%s': a name of 1 to %d bytes",
                             index, msg->job, JOBD_STORE_TIMER_NAME_MAX);
        if (due->type != MSGPACK_OBJECT_POSITIVE_INTEGER || due->via.u64 == 0 ||
            due->via.u64 > INT64_MAX)
            return s_refuse (reason, reason_size, "timer '%s' of job '%s': due is not above 0",
                             timer->name, msg->job);
        if (value->type != MSGPACK_OBJECT_BIN || value->via.bin.size > JOBD_STORE_TIMER_VALUE_MAX)
            return s_refuse (reason, reason_size,
                             "timer '%s' of job '%s': value is not bytes (at most %d)", timer->name,
                             msg->job, JOBD_STORE_TIMER_VALUE_MAX);
        for (uint32_t before = 0; before < index; before++)
            if (strcmp (msg->timers[before].name, timer->name) == 0)
                return s_refuse (reason, reason_size, "job '%s' has timer '%s' twice", msg->job,
                                 timer->name);
        timer->due = (int64_t)due->via.u64;
        timer->value = (const uint8_t *)value->via.bin.ptr;
        timer->value_size = value->via.bin.size;
    }
    msg->timer_count = array->via.array.size;
    return 0;
}

//  Checks a record's bytes: its checksum, its decoding, its id and last_seq.
static int
s_decode_record (jobd_cl_msg_t *msg, char *reason, size_t reason_size)
{
    if (msg->size <= JOBD_STORE_SUM_SIZE)
        return s_refuse (reason, reason_size, "record of job '%s' too short", msg->job);
    size_t size = msg->size - JOBD_STORE_SUM_SIZE;
    if (jobd_store_crc32c (msg->bytes, size) != jobd_store_get_be (msg->bytes + size, 4))
        return s_refuse (reason, reason_size, "record of job '%s': checksum mismatch", msg->job);
    char why[200];
    if (jobd_job_decode (msg->bytes, size, &msg->record, why, sizeof why))
        return s_refuse (reason, reason_size, "record of job '%s': %s", msg->job, why);
    if (strcmp (msg->record->id, msg->job))
        return s_refuse (reason, reason_size, "record of job '%.64s' under the key of '%s'",
                         msg->record->id, msg->job);
    if (msg->record->last_seq == 0)
        return s_refuse (reason, reason_size, "record of job '%s' without last_seq", msg->job);
    return 0;
}

//  Checks a history entry's bytes: the transition of its key's job and seq.
static int
s_decode_entry (jobd_cl_msg_t *msg, char *reason, size_t reason_size)
{
    jobd_event_t *event = NULL;
    char why[200];
    int rc = jobd_event_decode (msg->bytes, msg->size, &event, why, sizeof why);
    if (rc == 0 && (event->type != JOBD_EVENT_TRANSITION || !event->job ||
                    strcmp (event->job, msg->job) || event->seq != msg->seq)) {
        snprintf (why, sizeof why, "not the transition %llu of job '%s'",
                  (unsigned long long)msg->seq, msg->job);
        rc = JOBD_EPROTO;
    }
    jobd_event_destroy (&event);
    return rc ? s_refuse (reason, reason_size, "history entry %llu of job '%s': %s",
                          (unsigned long long)msg->seq, msg->job, why)
              : 0;
}

//  Reads the value's map into msg (of the kind its key gave).
static int
s_decode_value (const msgpack_object *map, jobd_cl_msg_t *msg, char *reason, size_t reason_size)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return s_refuse (reason, reason_size, "value is not a map");
    bool has_v = false, has_epoch = false, has_number = false, has_type = false, gone = false;
    const msgpack_object *bytes = NULL, *timers = NULL;
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object *key = &map->via.map.ptr[index].key;
        const msgpack_object *value = &map->via.map.ptr[index].val;
        bool number = value->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
        if (s_key_is (key, "v")) {
            if (!number || value->via.u64 != JOBD_CL_VERSION)
                return s_refuse (reason, reason_size, "`v` is not %d", JOBD_CL_VERSION);
            has_v = true;
        } else if (s_key_is (key, "epoch")) {
            if (!number)
                return s_refuse (reason, reason_size, "`epoch` is not a number");
            msg->epoch = value->via.u64;
            has_epoch = true;
        } else if (s_key_is (key, "inst")) {
            if (value->type != MSGPACK_OBJECT_STR ||
                !s_copy_name (msg->inst, JOBD_CL_INST_MAX, value->via.str.ptr, value->via.str.size))
                return s_refuse (reason, reason_size, "`inst` is not a name of 1 to %d bytes",
                                 JOBD_CL_INST_MAX);
        } else if (s_key_is (key, msg->kind == JOBD_CL_REC ? "rec" : "ev") &&
                   (msg->kind == JOBD_CL_REC || msg->kind == JOBD_CL_EV)) {
            if (value->type != MSGPACK_OBJECT_BIN)
                return s_refuse (reason, reason_size, "`%s` is not bytes",
                                 msg->kind == JOBD_CL_REC ? "rec" : "ev");
            bytes = value;
        } else if (s_key_is (key, "timers") && msg->kind == JOBD_CL_REC)
            timers = value;
        else if (s_key_is (key, "gone") && msg->kind == JOBD_CL_REC) {
            if (value->type != MSGPACK_OBJECT_BOOLEAN || !value->via.boolean)
                return s_refuse (reason, reason_size, "`gone` of job '%s' is not true", msg->job);
            gone = true;
        } else if (s_key_is (key, "type") && msg->kind == JOBD_CL_OWNER) {
            msg->claim = value->type == MSGPACK_OBJECT_STR && value->via.str.size == 5 &&
                         memcmp (value->via.str.ptr, "claim", 5) == 0;
            if (!msg->claim && !(value->type == MSGPACK_OBJECT_STR && value->via.str.size == 7 &&
                                 memcmp (value->via.str.ptr, "release", 7) == 0))
                return s_refuse (reason, reason_size, "`type` is neither claim nor release");
            has_type = true;
        } else if (s_key_is (key, "member") && msg->kind == JOBD_CL_OWNER) {
            if (value->type != MSGPACK_OBJECT_STR ||
                !s_copy_name (msg->name, JOBD_CL_NAME_MAX, value->via.str.ptr, value->via.str.size))
                return s_refuse (reason, reason_size, "`member` is not a name of 1 to %d bytes",
                                 JOBD_CL_NAME_MAX);
        } else if (s_key_is (key, msg->kind == JOBD_CL_STREAM ? "pos" : "offset") &&
                   (msg->kind == JOBD_CL_IN || msg->kind == JOBD_CL_STREAM ||
                    msg->kind == JOBD_CL_CURSOR)) {
            if (!number)
                return s_refuse (reason, reason_size, "`%s` is not a number",
                                 msg->kind == JOBD_CL_STREAM ? "pos" : "offset");
            msg->number = value->via.u64;
            has_number = true;
        }
    }
    if (!has_v || !has_epoch || !msg->inst[0])
        return s_refuse (reason, reason_size, "`v`, `epoch` or `inst` missing");
    if (gone) {
        //  A job key whose valid value is "no such job" (docs/cluster.md section 5, the repair).
        if (bytes || timers)
            return s_refuse (reason, reason_size, "job '%s' is both gone and a record", msg->job);
        msg->kind = JOBD_CL_GONE;
        return 0;
    }
    switch (msg->kind) {
        case JOBD_CL_REC:
        case JOBD_CL_EV:
            if (!bytes)
                return s_refuse (reason, reason_size, "no `%s` for job '%s'",
                                 msg->kind == JOBD_CL_REC ? "rec" : "ev", msg->job);
            msg->bytes = (const uint8_t *)bytes->via.bin.ptr;
            msg->size = bytes->via.bin.size;
            if (msg->kind == JOBD_CL_EV)
                return s_decode_entry (msg, reason, reason_size);
            if (timers) {
                int rc = s_decode_timers (timers, msg, reason, reason_size);
                if (rc)
                    return rc;
            }
            return s_decode_record (msg, reason, reason_size);
        case JOBD_CL_OWNER:
            return has_type && msg->name[0]
                       ? 0
                       : s_refuse (reason, reason_size, "owner record without type or member");
        default:
            return has_number ? 0 : s_refuse (reason, reason_size, "no position");
    }
}

int
jobd_cl_msg_decode (const void *key, size_t key_size, const void *value, size_t value_size,
                    msgpack_zone *zone, jobd_cl_msg_t *msg, char *reason, size_t reason_size)
{
    memset (msg, 0, sizeof *msg);
    int rc = s_decode_key ((const uint8_t *)key, key_size, msg, reason, reason_size);
    msgpack_object object;
    char why[200];
    if (rc == 0 && jobd_msgpack_unpack_in (value, value_size, zone, &object, why, sizeof why))
        rc = s_refuse (reason, reason_size, "%s", why);
    if (rc == 0)
        rc = s_decode_value (&object, msg, reason, reason_size);
    if (rc)
        jobd_cl_msg_clear (msg);
    return rc;
}

bool
jobd_cl_msg_of_job (jobd_cl_kind_t kind)
{
    return kind == JOBD_CL_REC || kind == JOBD_CL_EV || kind == JOBD_CL_GONE;
}

void
jobd_cl_msg_clear (jobd_cl_msg_t *msg)
{
    if (msg)
        jobd_job_destroy (&msg->record);
}

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    size_t size = strlen (text);
    msgpack_pack_str (pk, size);
    msgpack_pack_str_body (pk, text, size);
}

int
jobd_cl_msg_encode (const jobd_cl_msg_t *msg, msgpack_sbuffer *key_buffer,
                    msgpack_sbuffer *value_buffer)
{
    if (!msg->inst[0] || strlen (msg->inst) > JOBD_CL_INST_MAX)
        return JOBD_EPROTO;
    //  The key.
    size_t job_size = strnlen (msg->job, JOBD_ID_MAX + 1);
    bool job_kind = jobd_cl_msg_of_job (msg->kind);
    if (job_kind && (job_size == 0 || job_size > JOBD_ID_MAX))
        return JOBD_EPROTO;
    const char *prefix = msg->kind == JOBD_CL_OWNER    ? S_OWNER
                         : msg->kind == JOBD_CL_IN     ? S_IN
                         : msg->kind == JOBD_CL_STREAM ? S_STREAM
                                                       : S_CURSOR;
    size_t prefix_size = msg->kind == JOBD_CL_OWNER    ? sizeof S_OWNER - 1
                         : msg->kind == JOBD_CL_IN     ? sizeof S_IN - 1
                         : msg->kind == JOBD_CL_STREAM ? sizeof S_STREAM - 1
                                                       : sizeof S_CURSOR - 1;
    bool named = msg->kind == JOBD_CL_STREAM || msg->kind == JOBD_CL_CURSOR;
    size_t name_size = strnlen (msg->name, JOBD_CL_NAME_MAX + 1);
    if ((named || msg->kind == JOBD_CL_OWNER) && (name_size == 0 || name_size > JOBD_CL_NAME_MAX))
        return JOBD_EPROTO;
    if (msg->kind == JOBD_CL_REC && msg->timer_count > JOBD_CL_TIMERS_MAX)
        return JOBD_EPROTO;
    int rc = 0;
    if (job_kind) {
        rc = msgpack_sbuffer_write (key_buffer, msg->job, job_size);
        if (rc == 0 && msg->kind == JOBD_CL_EV) {
            uint8_t seq[9] = {0};
            jobd_store_put_be (seq + 1, 8, msg->seq);
            rc = msgpack_sbuffer_write (key_buffer, (const char *)seq, sizeof seq);
        }
    } else {
        rc = msgpack_sbuffer_write (key_buffer, prefix, prefix_size);
        if (rc == 0 && named)
            rc = msgpack_sbuffer_write (key_buffer, msg->name, name_size);
    }
    if (rc)
        return -ENOMEM;
    //  The value: v, epoch, inst, then the kind's fields.
    msgpack_packer pk;
    msgpack_packer_init (&pk, value_buffer, msgpack_sbuffer_write);
    size_t fields = msg->kind == JOBD_CL_REC || msg->kind == JOBD_CL_OWNER ? 5 : 4;
    rc |= msgpack_pack_map (&pk, fields);
    s_pack_str (&pk, "v");
    rc |= msgpack_pack_uint64 (&pk, JOBD_CL_VERSION);
    s_pack_str (&pk, "epoch");
    rc |= msgpack_pack_uint64 (&pk, msg->epoch);
    s_pack_str (&pk, "inst");
    s_pack_str (&pk, msg->inst);
    switch (msg->kind) {
        case JOBD_CL_REC:
        case JOBD_CL_EV:
            s_pack_str (&pk, msg->kind == JOBD_CL_REC ? "rec" : "ev");
            rc |= msgpack_pack_bin (&pk, msg->size);
            rc |= msgpack_pack_bin_body (&pk, msg->bytes, msg->size);
            if (msg->kind == JOBD_CL_EV)
                break;
            s_pack_str (&pk, "timers");
            rc |= msgpack_pack_array (&pk, msg->timer_count);
            for (size_t index = 0; index < msg->timer_count; index++) {
                const jobd_cl_timer_t *timer = &msg->timers[index];
                rc |= msgpack_pack_array (&pk, 3);
                s_pack_str (&pk, timer->name);
                rc |= msgpack_pack_uint64 (&pk, (uint64_t)timer->due);
                rc |= msgpack_pack_bin (&pk, timer->value_size);
                rc |= msgpack_pack_bin_body (&pk, timer->value, timer->value_size);
            }
            break;
        case JOBD_CL_GONE:
            s_pack_str (&pk, "gone");
            rc |= msgpack_pack_true (&pk);
            break;
        case JOBD_CL_OWNER:
            s_pack_str (&pk, "type");
            s_pack_str (&pk, msg->claim ? "claim" : "release");
            s_pack_str (&pk, "member");
            s_pack_str (&pk, msg->name);
            break;
        default:
            s_pack_str (&pk, msg->kind == JOBD_CL_STREAM ? "pos" : "offset");
            rc |= msgpack_pack_uint64 (&pk, msg->number);
    }
    return rc ? -ENOMEM : 0;
}
