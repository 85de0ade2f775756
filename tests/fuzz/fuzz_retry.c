//  Fuzz target: what the retry plugin reads from outside: a spec's retry object (the SDK's
//  reader, which the submit validators call), a failure class's change and the spec it is
//  applied to, and Spark memory strings. The first byte picks which. Oracles: accepted settings
//  are within their ranges; a changed spec is a JSON object again; a size written back reads
//  as the same size.
#include "jobd_plugin_sdk.h"
#include "rt_change.h"
#include "rt_size.h"
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
s_retry_object (const char *text)
{
    jobd_sdk_retry_t settings;
    jobd_sdk_retry_unset (&settings);
    char reason[256] = "";
    if (jobd_sdk_retry_from_spec (&settings, text, reason, sizeof reason)) {
        if (strncmp (reason, "key 'retry': ", 13))
            abort ();
        return;
    }
    if (settings.max_attempts != -1 && (settings.max_attempts < 1 || settings.max_attempts > 1000))
        abort ();
    if (settings.multiplier != -1 && !(settings.multiplier >= 1 && settings.multiplier <= 100))
        abort ();
    if (settings.backoff_initial < -1 || settings.backoff_max < -1)
        abort ();
    if (settings.backoff_initial >= 0 && settings.backoff_max >= 0 &&
        settings.backoff_max < settings.backoff_initial)
        abort ();
}

//  "CHANGE\nSPEC".
static void
s_change (char *text)
{
    char *spec = strchr (text, '\n');
    if (spec)
        *spec++ = 0;
    rt_change_t *change = NULL;
    char reason[256] = "";
    if (rt_change_new (text, &change, reason, sizeof reason)) {
        if (change || !*reason)
            abort ();
        return;
    }
    char line[1024];
    char *changed = rt_change_apply (change, spec ? spec : "{}", "fuzz", line, sizeof line);
    if (strlen (line) >= sizeof line)
        abort ();
    if (changed) {
        json_t *root = json_loads (changed, 0, NULL);
        if (!json_is_object (root))
            abort ();
        json_decref (root);
        free (changed);
    }
    rt_change_destroy (&change);
}

static void
s_size (const char *text)
{
    int64_t bytes = 0, again = 0;
    if (rt_size_parse (text, &bytes))
        return;
    char written[32];
    if (bytes < 0 || rt_size_parse (rt_size_format (bytes, written, sizeof written), &again) ||
        again != bytes)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256 * 1024)
        return 0;
    char *text = (char *)malloc (size);
    if (!text)
        return 0;
    memcpy (text, data + 1, size - 1);
    text[size - 1] = 0;
    switch (data[0] % 3) {
        case 0:
            s_retry_object (text);
            break;
        case 1:
            s_change (text);
            break;
        default:
            s_size (text);
    }
    free (text);
    return 0;
}
