//  The run folder: owner-only home of the ipc sockets, and the lock that keeps one jobd per store.
#ifndef JOBD_RUN_DIR_H_INCLUDED
#define JOBD_RUN_DIR_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _jobd_run_dir_t jobd_run_dir_t;

//  Creates run_dir (mode 0700) and store_dir when absent, and takes the store's lock
//  (store_dir/jobd.lock, holding our pid). Returns 0 and sets *self_p, -EBUSY when another jobd
//  holds the lock (the reason names its pid), JOBD_ESTORE when the store folder or its lock
//  cannot be made or opened (a read-only folder, say), or -errno for the run folder, each with a
//  reason naming the path.
int jobd_run_dir_open (const char *run_dir, const char *store_dir, jobd_run_dir_t **self_p,
                       char *reason, size_t reason_size);

//  Releases the lock; NULL-safe; sets *self_p to NULL.
void jobd_run_dir_close (jobd_run_dir_t **self_p);

//  For an ipc:// endpoint whose socket file exists: fails with -EADDRINUSE and a reason when a
//  live process still listens on it (zmq would silently take it over). Other endpoints: 0.
int jobd_run_dir_check_endpoint (const char *endpoint, char *reason, size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
