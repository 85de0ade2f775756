//  Fuzz target: the http plugin's parsers of outside input (plugins/http/ht_parse.c): a path, a
//  query string, a cursor, a submit / retry / cancel body, an Authorization header. The first
//  byte picks which. Oracles: a routed job id is one jobd could hold and no path trick, a
//  dashboard file's name is of [a-z0-9.-] and does not start with '.'; accepted
//  parameters are within their ranges; a decoded cursor encodes back to one that decodes the
//  same; an accepted submit has a kind and its spec is a JSON object again.
#include "ht_parse.h"
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
s_route (const char *text)
{
    char id[JOBD_ID_MAX + 1];
    ht_route_t route = ht_route (text, id, sizeof id);
    //  A dashboard file's name cannot climb out of its folder nor hide a separator.
    if (route == HT_ROUTE_DASHBOARD &&
        (!*id || id[0] == '.' ||
         strspn (id, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen (id)))
        abort ();
    if (route == HT_ROUTE_JOB || route == HT_ROUTE_CANCEL || route == HT_ROUTE_RETRY) {
        size_t len = strlen (id);
        if (len == 0 || len > JOBD_ID_MAX || strchr (id, '/') || strcmp (id, ".") == 0 ||
            strcmp (id, "..") == 0)
            abort ();
        for (size_t index = 0; index < len; index++)
            if ((unsigned char)id[index] < 0x20)
                abort ();
    }
}

//  "k=v&k=v...", as libmicrohttpd hands them over one by one (already %-decoded).
static void
s_query (char *text, bool events)
{
    ht_params_t params;
    ht_params_init (&params);
    char reason[300];
    int rc = 0;
    for (char *pair = strtok (text, "&"); pair && rc == 0; pair = strtok (NULL, "&")) {
        char *value = strchr (pair, '=');
        if (value)
            *value++ = 0;
        reason[0] = 0;
        rc = ht_params_set (&params, pair, value, events, reason, sizeof reason);
        if (rc && !*reason)
            abort ();
    }
    if (rc == 0)
        rc = ht_params_finish (&params, reason, sizeof reason);
    if (rc == 0 && (params.limit < 1 || params.limit > HT_LIMIT_MAX ||
                    (params.has_since && params.has_until && params.since > params.until)))
        abort ();
}

static void
s_cursor (const char *text)
{
    ht_params_t params;
    ht_params_init (&params);
    char reason[300];
    if (ht_cursor_decode (&params, text, reason, sizeof reason) != 0)
        return;
    if (ht_params_finish (&params, reason, sizeof reason) != 0)
        abort ();
    ht_key_t key = {params.after_number, params.after_text, params.after_id};
    char *again = ht_cursor_encode (&params, &key);
    if (!again)
        return;
    ht_params_t second;
    ht_params_init (&second);
    if (ht_cursor_decode (&second, again, reason, sizeof reason) != 0 ||
        second.after_number != params.after_number ||
        strcmp (second.after_text, params.after_text) != 0 ||
        strcmp (second.after_id, params.after_id) != 0 || second.cursor_sort != params.cursor_sort)
        abort ();
    free (again);
}

static void
s_bodies (const char *data, size_t size)
{
    ht_submit_t submit;
    char reason[300];
    if (ht_submit_read (data, size, &submit, reason, sizeof reason) == 0) {
        json_t *spec = json_loads (submit.spec, 0, NULL);
        if (!submit.kind || !*submit.kind || !json_is_object (spec) ||
            strcmp (json_string_value (json_object_get (spec, "kind")), submit.kind) != 0)
            abort ();
        json_decref (spec);
        ht_submit_clear (&submit);
    } else if (submit.kind || submit.spec)
        abort ();
    bool now = false, stop = false;
    if (ht_retry_read (data, size, &now, &stop, reason, sizeof reason) == 0 && now && stop)
        abort ();
    ht_cancel_read (data, size, reason, sizeof reason);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    char *text = (char *)malloc (size);
    memcpy (text, data + 1, size - 1);
    text[size - 1] = 0;
    char token[64];
    switch (data[0] % 7) {
        case 0:
            s_route (text);
            break;
        case 1:
        case 2:
            s_query (text, data[0] % 7 == 2);
            break;
        case 3:
            s_cursor (text);
            break;
        case 4:
            s_bodies ((const char *)data + 1, size - 1);
            break;
        case 5:
            if (ht_bearer_read (text, token, sizeof token) == 0 &&
                (!*token || strlen (token) >= sizeof token))
                abort ();
            break;
        default:
            ht_token_equal (text, "0123456789abcdef");
    }
    free (text);
    return 0;
}
