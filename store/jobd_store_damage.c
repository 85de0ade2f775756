//  Reporting damage met on the read and write paths: each read that meets it answers
//  JOBD_ECORRUPT; the operator hears of it once, with the file and what to do, then at most
//  once per JOBD_STORE_DAMAGE_QUIET_MS, so that a client asking again and again floods no log.
#include "jobd_store_internal.h"
#include <stdarg.h>
#include <stdio.h>

void
jobd_store_set_damage_fn (jobd_store_t *self, jobd_store_damage_fn *fn, void *arg)
{
    self->damage_fn = fn;
    self->damage_arg = arg;
}

uint64_t
jobd_store_damage_count (jobd_store_t *self)
{
    pthread_mutex_lock (&self->damage_lock);
    uint64_t count = self->damage_count;
    pthread_mutex_unlock (&self->damage_lock);
    return count;
}

int
jobd_store_damaged (jobd_store_t *self, int rc, const char *format, ...)
{
    if (rc != JOBD_ECORRUPT)
        return rc;
    int64_t now = zclock_mono ();
    pthread_mutex_lock (&self->damage_lock);
    self->damage_count++;
    bool report = self->damage_fn && (self->damage_last_ms == 0 ||
                                      now - self->damage_last_ms >= JOBD_STORE_DAMAGE_QUIET_MS);
    uint64_t held = self->damage_held;
    if (report) {
        self->damage_last_ms = now;
        self->damage_held = 0;
    } else
        self->damage_held++;
    pthread_mutex_unlock (&self->damage_lock);
    if (!report)
        return rc;
    char what[512], line[1536], more[96] = "";
    va_list args;
    va_start (args, format);
    vsnprintf (what, sizeof what, format, args);
    va_end (args);
    if (held)
        snprintf (more, sizeof more, " (%llu more since the last report)",
                  (unsigned long long)held);
    snprintf (line, sizeof line,
              "store %s/data.mdb: damaged data %s: answered ECORRUPT%s. What to do: stop jobd, "
              "run `jobd --verify`, and restore the last backup (\"Backup and restore\" in "
              "store/README.md)",
              self->path, what, more);
    self->damage_fn (line, self->damage_arg);
    return rc;
}
