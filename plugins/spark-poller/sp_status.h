//  spark-poller: what a Spark backend said about one job, and the parsers that read it from each
//  backend's JSON (shared/reference/spark-rest.md). Parsers are pure: bytes in, statuses out.
#ifndef SP_STATUS_H_INCLUDED
#define SP_STATUS_H_INCLUDED

#include "jobd_event.h"
#include <stdbool.h>
#include <stddef.h>

#define SP_ERROR_MAX 2048 //  a failure's reason is cut here (with "...")

//  One job as a backend reports it.
typedef struct {
    char id[JOBD_ID_MAX + 1];     //  the backend's id: driver id, Livy batch id, YARN app id
    char raw[32];                 //  the backend's own state word(s), for logs: "FINISHED/FAILED"
    jobd_state_t state;           //  mapped (reference §6); NONE when there is no news
    bool known;                   //  false: the backend does not know this id (aged out, cleared)
    bool standby;                 //  standalone: a standby master answered (not a lost job)
    char error[SP_ERROR_MAX];     //  the failure's reason, when there is one
    char name[JOBD_NAME_MAX + 1]; //  Livy: the batch name ("jobd-<job id>" for jobd's), or ""
    int64_t started;              //  ms since the epoch, 0 when not given
    bool ended;                   //  history server: the application ended, its verdict unknown
    //  The failure's one-line cause (jobd_cause.h), and where the backend shows the job.
    char cause[JOBD_CAUSE_MAX];   //  out of error by the backend's own format, or ""
    char app_id[JOBD_ID_MAX + 1]; //  Livy appId (YARN's is the ext itself)
    char app_url[JOBD_URL_MAX];   //  Livy sparkUiUrl; YARN trackingUrl; the master's driver page
    char log_url[JOBD_URL_MAX];   //  Livy driverLogUrl; YARN amContainerLogs
} sp_status_t;

//  Called once per job found in a list response. Return false to stop.
typedef bool (sp_status_fn) (const sp_status_t *status, void *arg);

//  Standalone master REST (reference §1). http is the HTTP status code.
//  create: returns 0 and fills status->id (state SUBMITTED), or JOBD_ESTATE with status->error
//  holding the master's refusal text (standby too: status->standby), or JOBD_EPROTO.
int sp_standalone_create (const char *body, size_t size, long http, sp_status_t *status);
//  status: 0 with status filled (known false for success:false), or JOBD_EPROTO.
int sp_standalone_status (const char *body, size_t size, long http, sp_status_t *status);
//  kill: 0 when the kill was accepted, JOBD_ESTATE when the driver had already finished or does
//  not exist (status->error has the text), JOBD_EPROTO otherwise.
int sp_standalone_kill (const char *body, size_t size, long http, sp_status_t *status);
//  The master web UI's /json/: every active and completed driver. Returns 0 or JOBD_EPROTO.
int sp_master_json (const char *body, size_t size, long http, sp_status_fn *fn, void *arg);

//  Whether a driver id already belongs to someone (a job jobd follows): such a driver is no
//  relaunch's replacement.
typedef bool (sp_taken_fn) (const char *id, void *arg);

//  The master web UI's /json/ again, for the driver that replaced old_id after a relaunch: the
//  master re-creates a supervised driver under a new id with the same description and says
//  nothing of the link (reference 1.9). The replacement is the oldest driver with old_id's
//  mainclass, cores and memory, newer than old_id (by id: driver-yyyyMMddHHmmss-N, else by
//  starttime), for which taken (may be NULL) returns false. Returns 0 with status filled (the
//  replacement's id and state), JOBD_ENOTFOUND when old_id is not listed or nothing matches, or
//  JOBD_EPROTO.
int sp_master_replacement (const char *body, size_t size, long http, const char *old_id,
                           sp_taken_fn *taken, void *arg, sp_status_t *status);

//  What a standalone create asked for, as the master's /json/ shows a driver (reference 1.10):
//  its main class, cores and memory in MB (-1: the spec says it in a form jobd does not read
//  as every master version does; then it is not compared), and the newest driver the master
//  had certainly made before it (NULL or "" when jobd knows none): the master numbers its
//  drivers in order (driver-yyyyMMddHHmmss-N), so the create's driver is newer than that one.
typedef struct {
    const char *main_class;
    int64_t cores, memory_mb;
    const char *after;
    //  > 0: a driver whose starttime is before this (epoch ms) is not it: a later attempt's
    //  create is not answered by the driver of an attempt before (its id left the store).
    int64_t not_before;
} sp_created_t;

//  Orders two driver ids of the default pattern (reference 1.2): *order is <0 when a is older
//  than b, 0 when the same, >0 when newer. Returns 0, or JOBD_EPROTO when either does not parse
//  (spark.deploy.driverIdPattern changed): then nothing says which is older.
int sp_driver_id_order (const char *a, const char *b, int *order);

//  Fills wanted (not after) from a submit spec (JSON text); main_class (size bytes) holds
//  the class, which wanted points to. Returns 0, or JOBD_EPROTO when spec is not an object.
int sp_created_from_spec (const char *spec, sp_created_t *wanted, char *main_class, size_t size);

//  The master web UI's /json/ again, for the driver a create made when its reply was lost: the
//  drivers, active or completed, described as wanted and for which taken (may be NULL) returns
//  false. Returns how many there are (0 or more), with the first found_max of them in found,
//  oldest first (by id, else starttime); or JOBD_EPROTO.
int sp_master_created (const char *body, size_t size, long http, const sp_created_t *wanted,
                       sp_taken_fn *taken, void *arg, sp_status_t *found, size_t found_max);

//  Livy batches (reference §3): one batch object (POST reply, GET /batches/{id}), the list
//  (GET /batches: *total_p gets "total"), or /state. A 404 gives known false. status->name is
//  the batch's name, when it has one.
int sp_livy_batch (const char *body, size_t size, long http, sp_status_t *status);
int sp_livy_list (const char *body, size_t size, long http, sp_status_fn *fn, void *arg,
                  long *total_p);

//  YARN ResourceManager (reference §4): the apps list (every empty shape) or one {"app":{}}.
//  404 on one app gives known false.
int sp_yarn_apps (const char *body, size_t size, long http, sp_status_fn *fn, void *arg);
int sp_yarn_app (const char *body, size_t size, long http, sp_status_t *status);

//  Spark history server /api/v1/applications (reference §2): RUNNING while the newest attempt
//  is not completed; SUCCEEDED-or-unknown when completed (it has no verdict: mapped to
//  SUCCEEDED only when success is not required to be proven, see README).
int sp_history_apps (const char *body, size_t size, long http, sp_status_fn *fn, void *arg);

//  The verdict for an ended application from its /jobs list: FAILED (error: the failed job)
//  when any job failed, else SUCCEEDED. 404 gives known false.
int sp_history_jobs (const char *body, size_t size, long http, sp_status_t *status);

//  What a backend's answer to a kill means (sp_kill.c). status->error gets the backend's words
//  (refused, unclear, or an app that had ended); status->state is CANCELLED when the answer
//  says the job is killed (Livy 200; YARN 200 {"state":"KILLED"}).
typedef enum {
    SP_KILL_ACCEPTED, //  taken, under way: the job's state will show it (YARN 202, standalone)
    SP_KILL_DONE,     //  complete, or nothing left to kill (YARN 200, Livy 200)
    SP_KILL_REFUSED,  //  the backend said no (4xx, standalone success:false): not sent again
    SP_KILL_UNCLEAR   //  no usable answer (5xx, unreadable): may be sent again
} sp_kill_t;
sp_kill_t sp_yarn_kill (const char *body, size_t size, long http, sp_status_t *status);
sp_kill_t sp_livy_kill (const char *body, size_t size, long http, sp_status_t *status);
sp_kill_t sp_standalone_kill_verdict (const char *body, size_t size, long http,
                                      sp_status_t *status);

//  The list replies' shapes, for reading them as they arrive (sp_jlist.h): what sp_master_json,
//  sp_livy_list (total: the captured value) and sp_yarn_apps read.
typedef struct sp_jlist_shape_t sp_jlist_shape_t;
extern const sp_jlist_shape_t sp_master_list_shape, sp_livy_list_shape, sp_yarn_list_shape;

//  The mappings on their own (reference §6). Return JOBD_STATE_NONE for an unknown word.
jobd_state_t sp_map_standalone (const char *driver_state);
jobd_state_t sp_map_livy (const char *state);
jobd_state_t sp_map_yarn (const char *state, const char *final_status);

#endif
