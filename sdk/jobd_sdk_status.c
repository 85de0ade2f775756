//  Status reporting: plugin.status on the bus when a plugin's status or detail changes.
#include "jobd_plugin_sdk.h"
#include <string.h>

struct jobd_sdk_status {
    const jobd_host_t *host;
    int64_t interval;
    int64_t due;  //  when the next report is due (0: at once)
    char *status; //  what was sent last, or NULL
    char *detail;
};

jobd_sdk_status_t *
jobd_sdk_status_new (const jobd_host_t *host, int64_t interval)
{
    assert (host);
    jobd_sdk_status_t *self = (jobd_sdk_status_t *)calloc (1, sizeof (jobd_sdk_status_t));
    if (!self)
        return NULL;
    self->host = host;
    self->interval = interval > 0 ? interval : 0;
    return self;
}

void
jobd_sdk_status_destroy (jobd_sdk_status_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_sdk_status_t *self = *self_p;
    free (self->status);
    free (self->detail);
    free (self);
    *self_p = NULL;
}

bool
jobd_sdk_status_due (jobd_sdk_status_t *self, bool now)
{
    assert (self);
    int64_t clock = zclock_time ();
    if (!now && clock < self->due)
        return false;
    self->due = clock + self->interval;
    return true;
}

static bool
s_same (const char *old, const char *new)
{
    return old && strcmp (old, new ? new : "") == 0;
}

int
jobd_sdk_status_send (jobd_sdk_status_t *self, zsock_t *bus, const char *status, const char *detail)
{
    assert (self);
    assert (bus && status);
    if (s_same (self->status, status) && s_same (self->detail, detail))
        return 0;
    char *status_copy = strdup (status), *detail_copy = strdup (detail ? detail : "");
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    const char *name = self->host->plugin_name;
    int rc = !status_copy || !detail_copy || !event ? -ENOMEM : 0;
    if (rc == 0)
        rc = jobd_event_set (&event->source, name) || jobd_event_set (&event->name, name) ||
                     jobd_event_set (&event->status, status) ||
                     (detail && jobd_event_set (&event->detail, detail))
                 ? -ENOMEM
                 : 0;
    if (rc == 0)
        rc = jobd_plugin_send (bus, event);
    jobd_event_destroy (&event);
    if (rc) {
        free (status_copy);
        free (detail_copy);
        return rc;
    }
    free (self->status);
    free (self->detail);
    self->status = status_copy;
    self->detail = detail_copy;
    return 1;
}

const char *
jobd_sdk_status_detail (jobd_sdk_status_t *self)
{
    assert (self);
    return self->detail ? self->detail : "";
}
