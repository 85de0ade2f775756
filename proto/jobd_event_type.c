//  Event types: the closed list of their wire names.
#include "jobd_event.h"
#include <string.h>

static const char *s_type_names[JOBD_EVENT_TYPE_COUNT] = {
    "invalid", "submit",        "track",  "cancel",        "retry",      "observed",  "transition",
    "stale",   "plugin.status", "cursor", "cancel.failed", "retry.plan", "status.ask"};

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
