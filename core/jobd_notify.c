//  jobd under a service manager: systemd's notify protocol, through libsystemd's sd_notify, and
//  the folders the unit hands it.
#include "jobd_notify.h"
#include "jobd_log.h"
#include <ctype.h>
#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#define LOG "jobd"

struct _jobd_notify_t {
    bool enabled;         //  NOTIFY_SOCKET is set
    int64_t watchdog_ms;  //  WATCHDOG_USEC for this process, in ms; 0: none
    int64_t next_ping;    //  zclock_mono of the next WATCHDOG=1 (the broker's thread only)
    pthread_mutex_t lock; //  what follows: the main thread and the broker's both send
    bool running;         //  between READY and STOPPING: the heartbeat refreshes STATUS
    char ready[256];      //  the STATUS sent with READY, which the heartbeat's extend
    char status[512];     //  the last STATUS sent
    bool failed;          //  a send failed (logged once)
};

void
jobd_notify_dir (jobd_config_t *config, const char *key, const char *variable, char *dir,
                 size_t dir_size)
{
    const char *configured = jobd_config_str (config, "core", key);
    snprintf (dir, dir_size, "%s", configured ? configured : "");
    char path[64], env[64];
    snprintf (path, sizeof path, "core/%s", key);
    snprintf (env, sizeof env, "JOBD_CORE_%s", key);
    for (char *c = env; *c; c++)
        *c = (char)toupper ((unsigned char)*c);
    //  The embedded default names both folders: only a file that leaves them out gets systemd's.
    bool named = jobd_config_has (config, path) || getenv (env);
    const char *folders = getenv (variable);
    if (named || !folders || *folders != '/')
        return;
    //  Several folders are separated by ':' (StateDirectory=a b): the first is jobd's.
    snprintf (dir, dir_size, "%.*s", (int)strcspn (folders, ":"), folders);
}

jobd_notify_t *
jobd_notify_new (void)
{
    jobd_notify_t *self = (jobd_notify_t *)calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    const char *socket = getenv ("NOTIFY_SOCKET");
    self->enabled = socket && *socket;
    uint64_t usec = 0;
    //  > 0 only when WATCHDOG_PID, if set, is this process: a watchdog meant for a parent (a
    //  shell script started by the unit, say) is not ours to feed.
    if (self->enabled && sd_watchdog_enabled (0, &usec) > 0 && usec >= 1000)
        self->watchdog_ms = (int64_t)(usec / 1000);
    return self;
}

void
jobd_notify_destroy (jobd_notify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy (&(*self_p)->lock);
    free (*self_p);
    *self_p = NULL;
}

bool
jobd_notify_enabled (jobd_notify_t *self)
{
    return self && self->enabled;
}

int64_t
jobd_notify_watchdog_ms (jobd_notify_t *self)
{
    return self ? self->watchdog_ms : 0;
}

int64_t
jobd_notify_heartbeat_ms (jobd_notify_t *self)
{
    int64_t watchdog = jobd_notify_watchdog_ms (self);
    return watchdog > 0 && watchdog / 4 < 1000 ? (watchdog / 4 > 0 ? watchdog / 4 : 1) : 1000;
}

//  Sends state (KEY=value lines); called with the lock held.
static int
s_send (jobd_notify_t *self, const char *state)
{
    int rc = sd_notify (0, state);
    if (rc < 0 && !self->failed) {
        self->failed = true;
        jobd_log (JOBD_LOG_WARN, LOG, "cannot notify the service manager (NOTIFY_SOCKET %s): %s",
                  getenv ("NOTIFY_SOCKET"), strerror (-rc));
    }
    return rc < 0 ? rc : 0;
}

//  Sends prefix (may be "") and, when it differs from the last one sent, STATUS=status; then
//  sets running. Called with the lock held.
static int
s_send_status (jobd_notify_t *self, const char *prefix, const char *status, bool running)
{
    char state[800];
    bool changed = status && strcmp (status, self->status) != 0;
    snprintf (state, sizeof state, "%s%s%s%s", prefix, *prefix && changed ? "\n" : "",
              changed ? "STATUS=" : "", changed ? status : "");
    if (changed)
        snprintf (self->status, sizeof self->status, "%s", status);
    self->running = running;
    return *state ? s_send (self, state) : 0;
}

//  s_send_status under the lock, for the main thread's calls; running: -1 keeps it.
static int
s_update (jobd_notify_t *self, const char *prefix, const char *status, int running)
{
    if (!jobd_notify_enabled (self))
        return 0;
    pthread_mutex_lock (&self->lock);
    if (running == 1)
        snprintf (self->ready, sizeof self->ready, "%s", status);
    int rc = s_send_status (self, prefix, status, running < 0 ? self->running : running == 1);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
jobd_notify_ready (jobd_notify_t *self, const char *status)
{
    return s_update (self, "READY=1", status, 1);
}

int
jobd_notify_status (jobd_notify_t *self, const char *status)
{
    return s_update (self, "", status, -1);
}

int
jobd_notify_stopping (jobd_notify_t *self, const char *status)
{
    return s_update (self, "STOPPING=1", status, 0);
}

void
jobd_notify_heartbeat (const jobd_stats_t *stats, void *arg)
{
    jobd_notify_t *self = (jobd_notify_t *)arg;
    if (!jobd_notify_enabled (self))
        return;
    //  Once running (and until stopping), STATUS is the READY line and the broker's counts.
    pthread_mutex_lock (&self->lock);
    if (self->running) {
        char status[512];
        snprintf (status, sizeof status,
                  "%s; %" PRIu64 " transitions, %" PRIu64 " commits, %" PRIu64
                  " messages refused since start",
                  self->ready, stats->transitions, stats->commits, stats->rejected);
        s_send_status (self, "", status, true);
    }
    pthread_mutex_unlock (&self->lock);
    int64_t now = zclock_mono ();
    if (self->watchdog_ms > 0 && now >= self->next_ping) {
        //  Twice per interval, as sd_watchdog_enabled(3) advises: one late turn is no restart.
        self->next_ping = now + self->watchdog_ms / 2;
        pthread_mutex_lock (&self->lock);
        s_send (self, "WATCHDOG=1");
        pthread_mutex_unlock (&self->lock);
    }
}
