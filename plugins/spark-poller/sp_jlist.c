//  spark-poller: a list reply read as it arrives (see sp_jlist.h).
#include "sp_jlist.h"
#include "sp_json.h"
#include <string.h>

void
sp_jlist_init (sp_jlist_t *self, const sp_jlist_shape_t *shape, sp_status_fn *fn, void *arg)
{
    memset (self, 0, sizeof *self);
    self->shape = shape;
    self->fn = fn;
    self->arg = arg;
}

static bool
s_leads (const sp_jlist_shape_t *shape, int level, sp_jvalue_t key)
{
    for (int index = 0; index < 3 && shape->keys[level][index]; index++)
        if (sp_jkey_is (key, shape->keys[level][index]))
            return true;
    return false;
}

//  A value just read: whole, unless it ends where the body so far does (a number may go on).
static bool
s_whole (const sp_jscan_t *scan, bool complete)
{
    return complete || scan->at < scan->end;
}

//  The end of a container: the reading is over when it was the outermost.
static bool
s_leave (sp_jlist_t *self, const sp_jscan_t *scan)
{
    if (scan->failed)
        return false;
    self->ended = --self->depth == 0;
    return true;
}

//  One step: the body's start, a member (its value read or entered), an element, or an end.
//  Returns false when the body so far does not hold the whole step (or is not JSON), with no
//  effect; the caller then keeps its position.
static bool
s_step (sp_jlist_t *self, sp_jscan_t *scan, bool complete)
{
    const sp_jlist_shape_t *shape = self->shape;
    if (!self->started) {
        if (!sp_jscan_enter (scan, shape->levels ? SP_JOBJECT : SP_JARRAY))
            return false;
        self->started = true;
        self->depth = 1;
        self->array_seen = shape->levels == 0;
        return true;
    }
    if (self->depth == shape->levels + 1) {
        if (!sp_jscan_element (scan))
            return s_leave (self, scan);
        sp_jobject_t object;
        bool is_object = sp_jscan_peek (scan) == SP_JOBJECT;
        if (!(is_object ? sp_jscan_object (scan, &object) : sp_jscan_value (scan, NULL)) ||
            !s_whole (scan, complete))
            return false;
        sp_status_t status;
        sp_status_reset (&status);
        if (is_object && shape->parse (&object, &status) && !self->fn (&status, self->arg))
            self->stopped = true;
        return true;
    }
    sp_jvalue_t key, value;
    if (!sp_jscan_member (scan, &key))
        return s_leave (self, scan);
    int level = self->depth - 1;
    bool leads = level < shape->levels && s_leads (shape, level, key);
    if (leads) {
        sp_jtype_t kind = level + 1 < shape->levels ? SP_JOBJECT : SP_JARRAY;
        if (sp_jscan_peek (scan) == SP_JNONE)
            return false;
        self->key_seen |= level == 0;
        if (sp_jscan_enter (scan, kind)) {
            self->array_seen |= level == 0;
            self->depth++;
            return true;
        }
    }
    if (!sp_jscan_value (scan, &value) || !s_whole (scan, complete))
        return false;
    if (level == 0 && shape->capture && sp_jkey_is (key, shape->capture) &&
        !sp_jvalue_integer (value, &self->captured))
        self->captured = 0;
    return true;
}

int
sp_jlist_feed (sp_jlist_t *self, const char *body, size_t size, bool complete)
{
    if (!body)
        return complete ? JOBD_EPROTO : 0;
    if (!complete && size < self->retry_at)
        return 0;
    while (!self->stopped && !self->ended) {
        sp_jscan_t scan;
        sp_jscan_init (&scan, body, size);
        scan.at = body + self->at;
        scan.first = self->first;
        if (!s_step (self, &scan, complete)) {
            if (complete)
                return JOBD_EPROTO;
            //  Not here yet (or broken: the last feed tells). Waiting for the unread part to
            //  double keeps a big value, read again from its start, from costing n squared.
            size_t unread = size - self->at;
            self->retry_at = size + (unread ? unread : 1);
            return 0;
        }
        self->at = (size_t)(scan.at - body);
        self->first = scan.first;
    }
    if (!complete || self->stopped)
        return 0;
    //  Only space after the body's value, and what the shape requires.
    sp_jscan_t rest;
    sp_jscan_init (&rest, body + self->at, size - self->at);
    bool ok = sp_jscan_peek (&rest) == SP_JNONE && rest.at == rest.end;
    if (self->shape->required == SP_JLIST_KEY)
        ok = ok && self->key_seen;
    else if (self->shape->required == SP_JLIST_ARRAY)
        ok = ok && self->array_seen;
    return ok ? 0 : JOBD_EPROTO;
}
