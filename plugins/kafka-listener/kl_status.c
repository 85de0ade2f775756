//  kafka-listener: the job status event producers send, in JSON or msgpack, read into an
//  `observed` event (the format is in proto/README.md, "Kafka job status events").
#include "kl_status.h"
#include "jobd_json.h"
#include "jobd_utf8.h"
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

jobd_state_t
kl_map_state (const char *word)
{
    static const struct {
        const char *word;
        jobd_state_t state;
    } map[] = {
        {"QUEUED", JOBD_STATE_QUEUED},         {"PENDING", JOBD_STATE_QUEUED},
        {"WAITING", JOBD_STATE_QUEUED},        {"SUBMITTED", JOBD_STATE_SUBMITTED},
        {"ACCEPTED", JOBD_STATE_SUBMITTED},    {"RUNNING", JOBD_STATE_RUNNING},
        {"STARTED", JOBD_STATE_RUNNING},       {"IN_PROGRESS", JOBD_STATE_RUNNING},
        {"PROCESSING", JOBD_STATE_RUNNING},    {"ACTIVE", JOBD_STATE_RUNNING},
        {"HEARTBEAT", JOBD_STATE_RUNNING},     {"SUCCEEDED", JOBD_STATE_SUCCEEDED},
        {"COMPLETED", JOBD_STATE_SUCCEEDED},   {"SUCCESS", JOBD_STATE_SUCCEEDED},
        {"FINISHED", JOBD_STATE_SUCCEEDED},    {"DONE", JOBD_STATE_SUCCEEDED},
        {"FAILED", JOBD_STATE_FAILED},         {"FAILURE", JOBD_STATE_FAILED},
        {"ERROR", JOBD_STATE_FAILED},          {"ERRORED", JOBD_STATE_FAILED},
        {"CANCELLED", JOBD_STATE_CANCELLED},   {"CANCELED", JOBD_STATE_CANCELLED},
        {"KILLED", JOBD_STATE_CANCELLED},      {"ABORTED", JOBD_STATE_CANCELLED},
        {"RETRY_WAIT", JOBD_STATE_RETRY_WAIT}, {"RETRYING", JOBD_STATE_RETRY_WAIT},
        {"UNKNOWN", JOBD_STATE_UNKNOWN},       {"LOST", JOBD_STATE_LOST},
    };
    for (size_t index = 0; word && index < sizeof map / sizeof map[0]; index++)
        if (strcasecmp (word, map[index].word) == 0)
            return map[index].state;
    return JOBD_STATE_NONE;
}

static int
s_fail (char *reason, size_t reason_size, int rc, const char *format, const char *field)
{
    snprintf (reason, reason_size, format, field);
    return rc;
}

static json_t *
s_load (const void *payload, size_t size, char *reason, size_t reason_size)
{
    const char *bytes = (const char *)payload;
    size_t start = 0;
    while (start < size && isspace ((unsigned char)bytes[start]))
        start++;
    if (start < size && bytes[start] == '{') {
        json_error_t error;
        json_t *root = json_loadb (bytes, size, 0, &error);
        if (!root)
            snprintf (reason, reason_size, "invalid JSON at line %d column %d: %s", error.line,
                      error.column, error.text);
        return root;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    json_t *root = NULL;
    char why[200] = "";
    //  One reader for both, held to the same rules: a string that is not UTF-8 (key or value,
    //  at any depth) is refused, as jansson refuses it in JSON.
    if (jobd_msgpack_unpack (payload, size, &unpacked, why, sizeof why) == 0)
        root = jobd_json_from_msgpack_strict (&unpacked.data, reason, reason_size);
    else
        snprintf (reason, reason_size,
                  "neither a JSON object nor a msgpack map (read as msgpack: %s)", why);
    msgpack_unpacked_destroy (&unpacked);
    return root;
}

//  A string field (absent and null are NULL); refuses other types and oversized values.
static int
s_string (json_t *root, const char *key, size_t max, const char **value, char *reason,
          size_t reason_size)
{
    json_t *field = json_object_get (root, key);
    *value = NULL;
    if (!field || json_is_null (field))
        return 0;
    if (!json_is_string (field))
        return s_fail (reason, reason_size, JOBD_EPROTO, "field '%s' must be a string", key);
    if (json_string_length (field) > max)
        return s_fail (reason, reason_size, JOBD_ETOOBIG, "field '%s' is over its limit", key);
    if (memchr (json_string_value (field), 0, json_string_length (field)))
        return s_fail (reason, reason_size, JOBD_EPROTO, "field '%s' contains a NUL byte", key);
    *value = json_string_value (field);
    return 0;
}

//  The fields of a status event the plugin reads itself; any other goes to the detail.
static bool
s_known (const char *key)
{
    static const char *known[] = {"v",    "id",    "job",   "ext",     "backend", "kind",
                                  "name", "state", "error", "attempt", "ts",      "heartbeat"};
    for (size_t index = 0; index < sizeof known / sizeof known[0]; index++)
        if (strcmp (key, known[index]) == 0)
            return true;
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  The fast path: the common event, a flat JSON object of the plugin's own keys whose values are
//  plain strings (no escape), integers or null, read in place. Anything else (an escape, a
//  nested value, a float, a key it does not read, a repeated key, a value the checks refuse)
//  goes to jansson, so that what is refused and why stay exactly the same. jansson built a
//  tree of each payload: a fifth of the plugin's time at full speed.

enum {
    S_V,
    S_ID,
    S_JOB,
    S_EXT,
    S_BACKEND,
    S_KIND,
    S_NAME,
    S_STATE,
    S_ERROR,
    S_ATTEMPT,
    S_TS,
    S_HEARTBEAT,
    S_KEYS
};
static const char *s_keys[S_KEYS] = {"v",    "id",    "job",   "ext",     "backend", "kind",
                                     "name", "state", "error", "attempt", "ts",      "heartbeat"};
static const size_t s_limits[S_KEYS] = {0,
                                        JOBD_ID_MAX,
                                        JOBD_ID_MAX,
                                        JOBD_ID_MAX,
                                        JOBD_ID_MAX,
                                        JOBD_ID_MAX,
                                        JOBD_NAME_MAX,
                                        64,
                                        JOBD_ERROR_MAX,
                                        0,
                                        0,
                                        0};

typedef enum { S_ABSENT, S_NULL, S_STRING, S_INTEGER } s_kind_t;

typedef struct {
    s_kind_t kind;
    const char *text; //  S_STRING: in the payload, not NUL-terminated
    size_t size;
    int64_t number; //  S_INTEGER
} s_value_t;

static const char *
s_blank (const char *cursor, const char *end)
{
    while (cursor < end &&
           (*cursor == ' ' || *cursor == '\t' || *cursor == '\n' || *cursor == '\r'))
        cursor++;
    return cursor;
}

//  A string without escapes or control characters, valid UTF-8; cursor is on its quote.
static const char *
s_fast_string (const char *cursor, const char *end, const char **text, size_t *size)
{
    const char *start = ++cursor;
    bool ascii = true;
    while (cursor < end && *cursor != '"') {
        unsigned char byte = (unsigned char)*cursor++;
        if (byte < 0x20 || byte == '\\')
            return NULL;
        ascii = ascii && byte < 0x80;
    }
    if (cursor == end || (!ascii && !jobd_utf8_valid (start, (size_t)(cursor - start))))
        return NULL;
    *text = start;
    *size = (size_t)(cursor - start);
    return cursor + 1;
}

//  An integer of at most 18 digits (no fraction, no exponent, no leading zero).
static const char *
s_fast_integer (const char *cursor, const char *end, int64_t *number)
{
    bool negative = *cursor == '-';
    if (negative)
        cursor++;
    const char *digits = cursor;
    int64_t value = 0;
    while (cursor < end && *cursor >= '0' && *cursor <= '9' && cursor - digits < 18)
        value = value * 10 + (*cursor++ - '0');
    size_t count = (size_t)(cursor - digits);
    if (count == 0 || count > 18 || (count > 1 && *digits == '0') ||
        (cursor < end && (*cursor == '.' || *cursor == 'e' || *cursor == 'E' ||
                          (*cursor >= '0' && *cursor <= '9'))))
        return NULL;
    *number = negative ? -value : value;
    return cursor;
}

//  Reads the object into values; false when it is not the simple case.
static bool
s_fast_read (const char *cursor, const char *end, s_value_t *values)
{
    cursor = s_blank (cursor, end);
    if (cursor == end || *cursor++ != '{')
        return false;
    cursor = s_blank (cursor, end);
    bool more = cursor < end && *cursor != '}';
    while (more) {
        const char *key;
        size_t key_size;
        if (cursor == end || *cursor != '"' ||
            !(cursor = s_fast_string (cursor, end, &key, &key_size)))
            return false;
        size_t field = 0;
        while (field < S_KEYS &&
               !(strlen (s_keys[field]) == key_size && !memcmp (s_keys[field], key, key_size)))
            field++;
        if (field == S_KEYS || values[field].kind != S_ABSENT)
            return false; //  a key for the detail, or one said twice
        cursor = s_blank (cursor, end);
        if (cursor == end || *cursor++ != ':')
            return false;
        cursor = s_blank (cursor, end);
        s_value_t *value = &values[field];
        if (cursor == end)
            return false;
        if (*cursor == '"') {
            value->kind = S_STRING;
            cursor = s_fast_string (cursor, end, &value->text, &value->size);
        } else if (*cursor == '-' || (*cursor >= '0' && *cursor <= '9')) {
            value->kind = S_INTEGER;
            cursor = s_fast_integer (cursor, end, &value->number);
        } else if (end - cursor >= 4 && !memcmp (cursor, "null", 4)) {
            value->kind = S_NULL;
            cursor += 4;
        } else
            return false;
        if (!cursor)
            return false;
        cursor = s_blank (cursor, end);
        more = cursor < end && *cursor == ',';
        if (more)
            cursor = s_blank (cursor + 1, end);
    }
    if (cursor == end || *cursor != '}')
        return false;
    return cursor < end && s_blank (cursor + 1, end) == end;
}

//  A NUL-terminated copy of size bytes of text at *strings, which moves past it; NULL: none.
static const char *
s_copy (char **strings, const char *text, size_t size)
{
    if (!text)
        return NULL;
    char *copy = *strings;
    memcpy (copy, text, size);
    copy[size] = 0;
    *strings += size + 1;
    return copy;
}

int
kl_status_read (const void *payload, size_t size, const kl_options_t *options,
                const char *fallback_id, jobd_event_t *event, char *strings, size_t strings_size,
                int64_t *heartbeat_p, char *reason, size_t reason_size)
{
    s_value_t values[S_KEYS];
    memset (values, 0, sizeof values);
    //  Every string copied with its NUL fits: the payload holds them all, and their quotes.
    if (!payload || size == 0 || size > KL_PAYLOAD_MAX || size + 1 > strings_size ||
        !s_fast_read ((const char *)payload, (const char *)payload + size, values))
        return 1;
    for (size_t field = S_ID; field <= S_ERROR; field++)
        if (values[field].kind == S_INTEGER ||
            (values[field].kind == S_STRING && values[field].size > s_limits[field]))
            return 1;
    for (size_t field = S_ATTEMPT; field <= S_HEARTBEAT; field++)
        if (values[field].kind == S_STRING)
            return 1;
    const s_value_t *attempt = &values[S_ATTEMPT], *heartbeat = &values[S_HEARTBEAT];
    const s_value_t *state_word = &values[S_STATE];
    char word[65];
    if (state_word->kind != S_STRING)
        return 1;
    memcpy (word, state_word->text, state_word->size);
    word[state_word->size] = 0;
    jobd_state_t state = kl_map_state (word);
    if (state == JOBD_STATE_NONE ||
        (values[S_JOB].kind != S_STRING && values[S_EXT].kind != S_STRING) ||
        (attempt->kind == S_INTEGER && (attempt->number < 0 || attempt->number > UINT32_MAX)) ||
        (heartbeat->kind == S_INTEGER &&
         (heartbeat->number <= 0 || heartbeat->number > KL_HEARTBEAT_MAX)))
        return 1;
    if (heartbeat_p)
        *heartbeat_p = heartbeat->kind == S_INTEGER ? heartbeat->number : 0;
    memset (event, 0, sizeof *event);
    event->version = JOBD_PROTO_VERSION;
    event->type = JOBD_EVENT_OBSERVED;
    event->ts = values[S_TS].kind == S_INTEGER && values[S_TS].number > 0 ? values[S_TS].number
                                                                          : jobd_now_ms ();
    event->state = state;
    if (attempt->kind == S_INTEGER)
        event->attempt = (uint32_t)attempt->number;
    //  The same defaults as the jansson reading: strings absent or null are NULL.
    const char *text[S_KEYS];
    for (size_t field = 0; field < S_KEYS; field++)
        text[field] = s_copy (&strings, values[field].kind == S_STRING ? values[field].text : NULL,
                              values[field].size);
    bool has_ext = text[S_EXT] != NULL;
    //  Casts: the event borrows, and its reader never frees nor changes its strings.
    event->id = (char *)(text[S_ID] ? text[S_ID] : fallback_id);
    event->source = (char *)options->source;
    event->job = (char *)text[S_JOB];
    event->ext = (char *)text[S_EXT];
    event->backend =
        (char *)(has_ext ? (text[S_BACKEND] ? text[S_BACKEND] : options->backend) : NULL);
    event->kind = (char *)(text[S_KIND] ? text[S_KIND] : options->kind);
    event->name = (char *)text[S_NAME];
    event->error = (char *)text[S_ERROR];
    event->create = !text[S_JOB] && options->create;
    return jobd_event_validate (event, reason, reason_size);
}

//  ---------------------------------------------------------------------------------------------

int
kl_status_decode (const void *payload, size_t size, const kl_options_t *options,
                  const char *fallback_id, jobd_event_t **event_p, int64_t *heartbeat_p,
                  char *reason, size_t reason_size)
{
    reason[0] = 0;
    jobd_event_t view;
    char strings[4096];
    int rc = kl_status_read (payload, size, options, fallback_id, &view, strings, sizeof strings,
                             heartbeat_p, reason, reason_size);
    if (rc == 0 && !(*event_p = jobd_event_dup (&view)))
        rc = -ENOMEM;
    if (rc != 1)
        return rc;
    return kl_status_decode_jansson (payload, size, options, fallback_id, event_p, heartbeat_p,
                                     reason, reason_size);
}

int
kl_status_decode_jansson (const void *payload, size_t size, const kl_options_t *options,
                          const char *fallback_id, jobd_event_t **event_p, int64_t *heartbeat_p,
                          char *reason, size_t reason_size)
{
    reason[0] = 0;
    if (heartbeat_p)
        *heartbeat_p = 0;
    if (size > KL_PAYLOAD_MAX) {
        snprintf (reason, reason_size, "payload of %zu bytes, over the %d byte limit", size,
                  KL_PAYLOAD_MAX);
        return JOBD_ETOOBIG;
    }
    if (size == 0 || !payload) {
        snprintf (reason, reason_size, "empty payload (a tombstone?)");
        return JOBD_EPROTO;
    }
    json_t *root = s_load (payload, size, reason, reason_size);
    if (!json_is_object (root)) {
        if (root)
            snprintf (reason, reason_size, "the payload must be an object (a map)");
        json_decref (root);
        return JOBD_EPROTO;
    }
    const char *id = NULL, *job = NULL, *ext = NULL, *backend = NULL, *kind = NULL, *name = NULL,
               *state_word = NULL, *error = NULL;
    int rc = s_string (root, "id", JOBD_ID_MAX, &id, reason, reason_size);
    if (rc == 0)
        rc = s_string (root, "job", JOBD_ID_MAX, &job, reason, reason_size);
    if (rc == 0)
        rc = s_string (root, "ext", JOBD_ID_MAX, &ext, reason, reason_size);
    if (rc == 0)
        rc = s_string (root, "backend", JOBD_ID_MAX, &backend, reason, reason_size);
    if (rc == 0)
        rc = s_string (root, "kind", JOBD_ID_MAX, &kind, reason, reason_size);
    if (rc == 0)
        rc = s_string (root, "name", JOBD_NAME_MAX, &name, reason, reason_size);
    if (rc == 0)
        rc = s_string (root, "state", 64, &state_word, reason, reason_size);
    if (rc == 0)
        rc = s_string (root, "error", JOBD_ERROR_MAX, &error, reason, reason_size);
    jobd_state_t state = kl_map_state (state_word);
    json_t *attempt = json_object_get (root, "attempt");
    json_t *ts = json_object_get (root, "ts");
    json_t *heartbeat = json_object_get (root, "heartbeat");
    if (rc == 0 && !state_word)
        rc = s_fail (reason, reason_size, JOBD_EPROTO, "missing field '%s'", "state");
    else if (rc == 0 && state == JOBD_STATE_NONE)
        rc = s_fail (reason, reason_size, JOBD_EPROTO, "field 'state': unknown state '%.64s'",
                     state_word);
    else if (rc == 0 && !job && !ext)
        rc = s_fail (reason, reason_size, JOBD_EPROTO, "no '%s' (or 'ext') to name the job", "job");
    else if (rc == 0 && attempt && !json_is_null (attempt) &&
             (!json_is_integer (attempt) || json_integer_value (attempt) < 0 ||
              json_integer_value (attempt) > UINT32_MAX))
        rc = s_fail (reason, reason_size, JOBD_EPROTO, "field '%s' must be a whole number",
                     "attempt");
    else if (rc == 0 && ts && !json_is_null (ts) && !json_is_integer (ts))
        rc = s_fail (reason, reason_size, JOBD_EPROTO,
                     "field '%s' must be milliseconds since the epoch", "ts");
    else if (rc == 0 && heartbeat && !json_is_null (heartbeat) &&
             (!json_is_integer (heartbeat) || json_integer_value (heartbeat) <= 0 ||
              json_integer_value (heartbeat) > KL_HEARTBEAT_MAX))
        rc = s_fail (reason, reason_size, JOBD_EPROTO,
                     "field '%s' must be milliseconds, from 1 to 30 days", "heartbeat");
    jobd_event_t *event = NULL;
    if (rc == 0) {
        event = jobd_event_new (JOBD_EVENT_OBSERVED);
        if (!event)
            rc = -ENOMEM;
    }
    if (rc == 0) {
        event->state = state;
        event->attempt = attempt ? (uint32_t)json_integer_value (attempt) : 0;
        if (ts && json_integer_value (ts) > 0)
            event->ts = json_integer_value (ts);
        if (heartbeat_p && heartbeat)
            *heartbeat_p = json_integer_value (heartbeat);
        //  Everything else the producer said (progress, details, ...) travels as detail text.
        //  The rest shares the payload's values (no copy), and is only made when there is one.
        json_t *rest = NULL;
        const char *key;
        json_t *value;
        json_object_foreach (root, key, value)
        {
            if (s_known (key))
                continue;
            if (!rest)
                rest = json_object ();
            json_object_set (rest, key, value);
        }
        char *detail = rest ? json_dumps (rest, JSON_COMPACT) : NULL;
        //  Cut at a character's start: a cut inside one would not be UTF-8.
        if (detail)
            detail[jobd_utf8_cut (detail, strlen (detail), JOBD_DETAIL_MAX)] = 0;
        json_decref (rest);
        if (jobd_event_set (&event->id, id ? id : fallback_id) ||
            jobd_event_set (&event->source, options->source) || jobd_event_set (&event->job, job) ||
            jobd_event_set (&event->ext, ext) ||
            jobd_event_set (&event->backend, ext ? (backend ? backend : options->backend) : NULL) ||
            jobd_event_set (&event->kind, kind ? kind : options->kind) ||
            jobd_event_set (&event->name, name) || jobd_event_set (&event->error, error) ||
            jobd_event_set (&event->detail, detail))
            rc = -ENOMEM;
        free (detail);
        event->create = !job && options->create;
        if (rc == 0)
            rc = jobd_event_validate (event, reason, reason_size);
    }
    json_decref (root);
    if (rc)
        jobd_event_destroy (&event);
    else
        *event_p = event;
    return rc;
}
