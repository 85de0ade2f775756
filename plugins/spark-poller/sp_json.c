//  spark-poller: the small JSON helpers every backend parser shares (jansson underneath).
#include "sp_json.h"
#include <string.h>

//  As sp_http.c: a list of 100,000 YARN apps is about 92 MB.
#define SP_BODY_MAX (512u << 20)

json_t *
sp_json_load (const char *body, size_t size)
{
    if (!body || size == 0 || size > SP_BODY_MAX)
        return NULL;
    json_error_t error;
    return json_loadb (body, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
}

const char *
sp_json_str (const json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

const char *
sp_json_str_or (const json_t *object, const char *key, const char *fallback)
{
    const char *value = sp_json_str (object, key);
    return value ? value : fallback;
}

void
sp_copy (char *buffer, size_t size, const char *text)
{
    if (size == 0)
        return;
    size_t length = text ? strlen (text) : 0;
    if (length < size) {
        memcpy (buffer, text ? text : "", length + 1);
        return;
    }
    memcpy (buffer, text, size - 1);
    buffer[size - 1] = 0;
    if (size > 4)
        memcpy (buffer + size - 4, "...", 3);
}

void
sp_copy_tail (char *buffer, size_t size, const char *text)
{
    size_t length = text ? strlen (text) : 0;
    if (length < size || size < 8) {
        sp_copy (buffer, size, text);
        return;
    }
    memcpy (buffer, "...", 3);
    memcpy (buffer + 3, text + length - (size - 4), size - 4);
    buffer[size - 1] = 0;
}

void
sp_status_reset (sp_status_t *status)
{
    //  Not a memset of the whole: a list resets one status per job (100,000 of them).
    status->id[0] = status->raw[0] = status->error[0] = status->name[0] = 0;
    status->cause[0] = status->app_id[0] = status->app_url[0] = status->log_url[0] = 0;
    status->state = JOBD_STATE_NONE;
    status->known = true;
    status->standby = status->ended = false;
    status->started = 0;
}

bool
sp_jstr (const sp_jobject_t *object, const char *key, char *buffer, size_t size)
{
    return sp_jvalue_string (sp_jobject_get (object, key), buffer, size);
}

bool
sp_jid (const sp_jobject_t *object, const char *key, char *buffer, size_t size)
{
    return sp_jstr (object, key, buffer, size) && buffer[0];
}

int64_t
sp_jint (const sp_jobject_t *object, const char *key)
{
    int64_t number = 0;
    return sp_jvalue_integer (sp_jobject_get (object, key), &number) ? number : 0;
}

bool
sp_json_root (const char *body, size_t size, sp_jobject_t *root)
{
    if (!body || size > SP_BODY_MAX || !sp_jscan_check (body, size))
        return false;
    sp_jscan_t scan;
    sp_jscan_init (&scan, body, size);
    return sp_jscan_object (&scan, root);
}

bool
sp_json_root_member (const char *body, size_t size, const char *key, sp_jobject_t *object)
{
    sp_jobject_t root;
    if (!sp_json_root (body, size, &root))
        return false;
    sp_jvalue_t value = sp_jobject_get (&root, key);
    sp_jscan_t scan;
    sp_jscan_init (&scan, value.text, value.size);
    return value.type == SP_JOBJECT && sp_jscan_object (&scan, object);
}
