//  jobd under a service manager: systemd's notify protocol (sd_notify). READY, STATUS, STOPPING
//  and the watchdog; without NOTIFY_SOCKET every call does nothing. And the folders the unit
//  hands jobd (STATE_DIRECTORY, RUNTIME_DIRECTORY) as the defaults of its store and run folder.
#ifndef JOBD_NOTIFY_H_INCLUDED
#define JOBD_NOTIFY_H_INCLUDED

#include "jobd_answer.h"
#include "jobd_config.h"
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _jobd_notify_t jobd_notify_t;

//  Writes into dir the folder core/key (store, run_dir) names: the config's value, except when
//  neither the config file nor the environment (JOBD_CORE_<KEY>) sets it and variable
//  (STATE_DIRECTORY, RUNTIME_DIRECTORY: what systemd sets for the unit's StateDirectory= and
//  RuntimeDirectory=) names a folder: then its first folder.
void jobd_notify_dir (jobd_config_t *config, const char *key, const char *variable, char *dir,
                      size_t dir_size);

//  Reads the service manager's environment (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID; left
//  set: the unit's NotifyAccess=main ignores a child's messages). Returns a fresh notifier; it
//  does nothing when jobd was not started by a service manager. NULL only without memory.
jobd_notify_t *jobd_notify_new (void);

//  NULL-safe; sets *self_p to NULL.
void jobd_notify_destroy (jobd_notify_t **self_p);

//  True when a service manager listens (NOTIFY_SOCKET was set).
bool jobd_notify_enabled (jobd_notify_t *self);

//  The watchdog's interval in ms (WATCHDOG_USEC, for this process), or 0 when there is none.
int64_t jobd_notify_watchdog_ms (jobd_notify_t *self);

//  How often the broker's heartbeat should call jobd_notify_heartbeat, in ms: a quarter of the
//  watchdog's interval, 1 s at most (STATUS is refreshed at that pace).
int64_t jobd_notify_heartbeat_ms (jobd_notify_t *self);

//  Tells the manager jobd is up (READY=1), with status as its STATUS line. Returns 0, or a
//  negative errno when the message could not be sent (logged once; jobd carries on).
int jobd_notify_ready (jobd_notify_t *self, const char *status);

//  Sets the STATUS line shown by systemctl status (sent only when it changed). Returns 0 or a
//  negative errno.
int jobd_notify_status (jobd_notify_t *self, const char *status);

//  Tells the manager jobd is stopping (STOPPING=1), with status as its STATUS line.
int jobd_notify_stopping (jobd_notify_t *self, const char *status);

//  The broker's heartbeat (jobd_broker_options_t.heartbeat), called on the broker's thread at
//  least every jobd_notify_watchdog_ms / 2 while its loop turns: pings the watchdog (WATCHDOG=1),
//  so that a broker stuck (in a commit, say) gets jobd restarted, and refreshes STATUS from
//  stats. arg is the notifier.
void jobd_notify_heartbeat (const jobd_stats_t *stats, void *arg);

#ifdef __cplusplus
}
#endif
#endif
