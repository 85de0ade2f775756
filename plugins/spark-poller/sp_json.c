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
    memset (status, 0, sizeof *status);
    status->known = true;
}

int
sp_json_each (const json_t *array, bool (*parse) (const json_t *, sp_status_t *), sp_status_fn *fn,
              void *arg)
{
    size_t index;
    json_t *element;
    sp_status_t status;
    json_array_foreach (array, index, element)
    {
        sp_status_reset (&status);
        if (parse (element, &status) && !fn (&status, arg))
            return 1;
    }
    return 0;
}
