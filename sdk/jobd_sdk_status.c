//  Status reporting: plugin.status on the bus when a plugin's status, detail or figures change.
#include "jobd_plugin_sdk.h"
#include <math.h>
#include <stdarg.h>
#include <string.h>

//  One figure as set: its labels sorted by name, so that a set of labels has one form.
typedef struct {
    char *name;
    char *help;
    double value;
    size_t labels;
    char *label[JOBD_FIGURE_LABELS_MAX][2];
} s_figure_t;

struct jobd_sdk_status {
    const jobd_host_t *host;
    int64_t interval;
    int64_t due;  //  when the next report is due (0: at once)
    char *status; //  what was sent last, or NULL
    char *detail;
    uint8_t *figures_sent; //  the figures sent last (msgpack), NULL when none
    size_t figures_sent_size;
    s_figure_t *figures; //  the figures set
    size_t figure_count;
    bool oversize_told;        //  figures over their limit were logged once
    char ask[JOBD_ID_MAX + 1]; //  the status.ask the next send answers, "" when none
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

static void
s_figure_free (s_figure_t *figure)
{
    free (figure->name);
    free (figure->help);
    for (size_t index = 0; index < figure->labels; index++) {
        free (figure->label[index][0]);
        free (figure->label[index][1]);
    }
    memset (figure, 0, sizeof *figure);
}

void
jobd_sdk_status_figures_clear (jobd_sdk_status_t *self)
{
    assert (self);
    for (size_t index = 0; index < self->figure_count; index++)
        s_figure_free (&self->figures[index]);
    free (self->figures);
    self->figures = NULL;
    self->figure_count = 0;
}

void
jobd_sdk_status_destroy (jobd_sdk_status_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_sdk_status_t *self = *self_p;
    jobd_sdk_status_figures_clear (self);
    free (self->status);
    free (self->detail);
    free (self->figures_sent);
    free (self);
    *self_p = NULL;
}

bool
jobd_sdk_status_due (jobd_sdk_status_t *self, bool now)
{
    assert (self);
    int64_t clock = zclock_time ();
    if (!now && !self->ask[0] && clock < self->due)
        return false;
    self->due = clock + self->interval;
    return true;
}

size_t
jobd_sdk_status_figures (jobd_sdk_status_t *self)
{
    assert (self);
    return self->figure_count;
}

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str (pk, strlen (text));
    msgpack_pack_str_body (pk, text, strlen (text));
}

//  One entry: [name, value], [name, value, labels] or [name, value, labels|nil, help].
static void
s_pack_figure (msgpack_packer *pk, const s_figure_t *figure, bool with_help)
{
    bool help = with_help && figure->help;
    msgpack_pack_array (pk, help ? 4 : figure->labels ? 3 : 2);
    s_pack_str (pk, figure->name);
    //  Integers within 2^53 are exact in a double: sent as integers, which read better.
    if (figure->value == floor (figure->value) && fabs (figure->value) <= 9007199254740992.0)
        msgpack_pack_int64 (pk, (int64_t)figure->value);
    else
        msgpack_pack_double (pk, figure->value);
    if (figure->labels) {
        msgpack_pack_map (pk, figure->labels);
        for (size_t index = 0; index < figure->labels; index++) {
            s_pack_str (pk, figure->label[index][0]);
            s_pack_str (pk, figure->label[index][1]);
        }
    } else if (help)
        msgpack_pack_nil (pk);
    if (help)
        s_pack_str (pk, figure->help);
}

static bool
s_same_series (const s_figure_t *one, const s_figure_t *two)
{
    if (strcmp (one->name, two->name) || one->labels != two->labels)
        return false;
    for (size_t index = 0; index < one->labels; index++)
        if (strcmp (one->label[index][0], two->label[index][0]) ||
            strcmp (one->label[index][1], two->label[index][1]))
            return false;
    return true;
}

//  Reads the NULL-ended name, value pairs into figure, sorted by name. Returns 0, or JOBD_EINVAL
//  when there are more than the rule allows (or a name without a value), or -ENOMEM.
static int
s_read_labels (s_figure_t *figure, va_list args)
{
    const char *label;
    while ((label = va_arg (args, const char *))) {
        const char *value = va_arg (args, const char *);
        if (!value || figure->labels == JOBD_FIGURE_LABELS_MAX)
            return JOBD_EINVAL;
        size_t at = figure->labels;
        while (at > 0 && strcmp (figure->label[at - 1][0], label) > 0) {
            figure->label[at][0] = figure->label[at - 1][0];
            figure->label[at][1] = figure->label[at - 1][1];
            at--;
        }
        figure->label[at][0] = strdup (label);
        figure->label[at][1] = strdup (value);
        figure->labels++;
        if (!figure->label[at][0] || !figure->label[at][1])
            return -ENOMEM;
    }
    return 0;
}

//  The rules are proto's: the figure is checked as a figures array of its own.
static int
s_check (const s_figure_t *figure, char *reason, size_t reason_size)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 1);
    s_pack_figure (&pk, figure, true);
    int rc =
        jobd_figures_check_bytes ((const uint8_t *)buffer.data, buffer.size, reason, reason_size);
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}

int
jobd_sdk_status_figure (jobd_sdk_status_t *self, const char *name, const char *help, double value,
                        ...)
{
    assert (self);
    assert (name);
    s_figure_t figure = {strdup (name), help ? strdup (help) : NULL, value, 0, {{NULL}}};
    va_list args;
    va_start (args, value);
    int rc = !figure.name || (help && !figure.help) ? -ENOMEM : s_read_labels (&figure, args);
    va_end (args);
    char reason[256] = "more than 4 labels, or a label without a value";
    if (rc == 0 && !isfinite (value)) {
        snprintf (reason, sizeof reason, "its value is not a finite number");
        rc = JOBD_EINVAL;
    }
    if (rc == 0 && s_check (&figure, reason, sizeof reason))
        rc = JOBD_EINVAL;
    if (rc == JOBD_EINVAL)
        self->host->log (self->host, JOBD_LOG_WARN, "figure '%.64s' not reported: %s", name,
                         reason);
    size_t at = 0;
    while (rc == 0 && at < self->figure_count && !s_same_series (&self->figures[at], &figure))
        at++;
    if (rc == 0 && at == self->figure_count) {
        s_figure_t *figures = NULL;
        if (self->figure_count == JOBD_FIGURES_MAX)
            rc = JOBD_ETOOBIG;
        else if (!(figures = (s_figure_t *)realloc (self->figures,
                                                    (self->figure_count + 1) * sizeof *figures)))
            rc = -ENOMEM;
        else {
            self->figures = figures;
            memset (&self->figures[self->figure_count++], 0, sizeof *figures);
        }
    }
    if (rc) {
        s_figure_free (&figure);
        return rc;
    }
    s_figure_free (&self->figures[at]);
    self->figures[at] = figure;
    return 0;
}

//  The figures set, packed (*data_p NULL when none); a name's help goes with its first entry.
static int
s_pack_figures (jobd_sdk_status_t *self, uint8_t **data_p, size_t *size_p)
{
    *data_p = NULL;
    *size_p = 0;
    if (self->figure_count == 0)
        return 0;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, self->figure_count);
    for (size_t index = 0; index < self->figure_count; index++) {
        bool first = true;
        for (size_t other = 0; other < index && first; other++)
            first = strcmp (self->figures[other].name, self->figures[index].name) != 0 ||
                    !self->figures[other].help;
        s_pack_figure (&pk, &self->figures[index], first);
    }
    if (!buffer.data) {
        msgpack_sbuffer_destroy (&buffer);
        return -ENOMEM;
    }
    if (buffer.size > JOBD_FIGURES_BYTES_MAX) {
        //  Many long labels: the status still goes, without its figures.
        if (!self->oversize_told)
            self->host->log (self->host, JOBD_LOG_WARN,
                             "figures not reported: %zu bytes, over their %d byte limit",
                             buffer.size, JOBD_FIGURES_BYTES_MAX);
        self->oversize_told = true;
        msgpack_sbuffer_destroy (&buffer);
        return 0;
    }
    *size_p = buffer.size;
    *data_p = (uint8_t *)msgpack_sbuffer_release (&buffer);
    return 0;
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
    uint8_t *figures = NULL;
    size_t figures_size = 0;
    if (s_pack_figures (self, &figures, &figures_size))
        return -ENOMEM;
    bool asked = self->ask[0] != 0; //  an answer goes out even when nothing changed
    if (!asked && s_same (self->status, status) && s_same (self->detail, detail) &&
        figures_size == self->figures_sent_size &&
        (figures_size == 0 || memcmp (figures, self->figures_sent, figures_size) == 0)) {
        free (figures);
        return 0;
    }
    char *status_copy = strdup (status), *detail_copy = strdup (detail ? detail : "");
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_PLUGIN_STATUS);
    const char *name = self->host->plugin_name;
    int rc = !status_copy || !detail_copy || !event ? -ENOMEM : 0;
    if (rc == 0)
        rc = jobd_event_set (&event->source, name) || jobd_event_set (&event->name, name) ||
                     jobd_event_set (&event->status, status) ||
                     (detail && jobd_event_set (&event->detail, detail)) ||
                     (asked && jobd_event_set (&event->ask, self->ask))
                 ? -ENOMEM
                 : 0;
    if (rc == 0 && figures) {
        //  Lent to the event for the send, then kept as the figures sent.
        event->figures = (jobd_figures_t){figures, figures_size};
        rc = jobd_plugin_send (bus, event);
        event->figures = (jobd_figures_t){NULL, 0};
    } else if (rc == 0)
        rc = jobd_plugin_send (bus, event);
    jobd_event_destroy (&event);
    if (rc) {
        free (figures);
        free (status_copy);
        free (detail_copy);
        return rc;
    }
    free (self->status);
    free (self->detail);
    free (self->figures_sent);
    self->status = status_copy;
    self->detail = detail_copy;
    self->figures_sent = figures;
    self->figures_sent_size = figures_size;
    self->ask[0] = 0;
    return 1;
}

void
jobd_sdk_status_listen (jobd_sdk_status_t *self, zsock_t *events)
{
    assert (self);
    assert (events);
    zsock_set_subscribe (events, JOBD_STATUS_ASK_TOPIC);
}

bool
jobd_sdk_status_asked (jobd_sdk_status_t *self, const jobd_event_t *event)
{
    assert (self);
    if (!event || event->type != JOBD_EVENT_STATUS_ASK || !event->id)
        return false;
    snprintf (self->ask, sizeof self->ask, "%s", event->id);
    return true;
}

const char *
jobd_sdk_status_detail (jobd_sdk_status_t *self)
{
    assert (self);
    return self->detail ? self->detail : "";
}
