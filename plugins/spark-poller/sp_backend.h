//  spark-poller: one configured backend (a standalone master, a Livy server, a YARN RM, a history
//  server): the requests it takes for submit, poll and kill, and what their replies mean.
#ifndef SP_BACKEND_H_INCLUDED
#define SP_BACKEND_H_INCLUDED

#include "jobd_plugin.h"
#include "sp_auth.h"
#include "sp_status.h"

typedef enum { SP_STANDALONE, SP_LIVY, SP_YARN, SP_HISTORY } sp_kind_t;

typedef struct {
    char name[64];
    sp_kind_t kind;
    char url[512];    //  REST base: http://master:6066, http://livy:8998, http://rm:8088, ...
    char ui_url[512]; //  standalone: the master web UI (http://master:8080) for /json/, or ""
    sp_auth_t auth;   //  how requests authenticate (sp_auth.h): its secret is never logged
    char master[256]; //  standalone: spark.master for submissions (spark://host:7077)
    char tag[64];     //  YARN application tag jobd adds and lists by
    long timeout_ms;
    //  Health: failures in a row, the time before which nothing is sent, the last error.
    int failures;
    int64_t resume_at;
    char last_error[256];
    bool list_in_flight;
    int64_t list_due;
    int64_t list_started; //  when the list pass in progress (or the last one) asked its first page
    int64_t listed_at;    //  when the last list pass that was read whole was started, or 0
    long list_count;      //  jobs read by the list pass in progress
    long listed_jobs;     //  jobs in the last list pass read whole
    size_t followed;      //  jobs of the backend in the poller's table at the last walk
    int64_t listed_ms;    //  how long it took: first page asked to last page read, in ms
    //  Figures (plugin.status): poll and list requests since start, those that failed, and
    //  their answer times.
    uint64_t polls;
    uint64_t poll_errors;
    int64_t poll_us_last;
    uint64_t poll_us_total;
    //  While it fails: a cheap request (sp_backend_probe_url) about every second, so that
    //  polls and submissions resume as soon as it answers, not after the whole backoff.
    bool probe_in_flight;
    bool probed; //  a probe answered since the last failure: the next one ends the streak
    int64_t probe_due;
    //  Standalone: the newest driver id a create on this master was answered with (any backend
    //  with this url), or "": a later create's driver is newer (a lost answer's search, s_seek).
    char last_created[JOBD_ID_MAX + 1];
    //  YARN: the newest cluster timestamp (the RM's start time) in the ids it listed, or 0: an
    //  application of an older one that the RM no longer knows went with a restart.
    int64_t cluster_ts;
} sp_backend_t;

//  How often a failing backend is asked whether it answers again, in ms (+-10%).
#define SP_PROBE_INTERVAL 1000

//  One line on the backend's health for plugin.status: its name and type, then its last whole
//  list (jobs, time) or "answering", or its trouble.
void sp_backend_describe (const sp_backend_t *self, char *text, size_t size);

//  Reads backend/NAME from the plugin's config. Returns 0, or JOBD_ECONFIG with a reason.
int sp_backend_load (sp_backend_t *self, const jobd_host_t *host, const char *name, char *reason,
                     size_t reason_size);

//  True when the backend lists many jobs in one request (polled by list, not per job).
bool sp_backend_lists (const sp_backend_t *self);

//  Writes the tag of a job's attempt: "jobd-<job id>", and "jobd-<job id>-<attempt>" after the
//  first. It is the Livy batch name (Livy refuses a name it still holds) and the submission mark
//  (README, "Restart").
void sp_backend_tag (const char *job_id, uint32_t attempt, char *tag, size_t tag_size);

//  The request that submits job_id under tag (spec: the submit spec, a JSON object as text).
//  Writes the method, URL and a fresh body (free it; sp_spec_body). Returns 0, or JOBD_ESTATE
//  with a reason when this backend cannot submit (YARN and history servers follow jobs only),
//  or JOBD_EINVAL when the spec is unusable (sp_spec_check).
int sp_backend_submit (const sp_backend_t *self, const char *job_id, const char *tag,
                       const char *name, const char *spec, const char **method, char *url,
                       size_t url_size, char **body_p, char *reason, size_t reason_size);

//  Livy restarted without recovery numbers its batches from 0 again, and exposes nothing of its
//  own restarts (no start time, no instance id): what identifies a batch across restarts is its
//  id with the name jobd gave it (its tag, unique per job and attempt). A Livy job's ext is
//  "ID@NAME" (README, "Incarnations"): a new job's batch never takes a finished job's ext, and a
//  batch that now bears another name under a known id is not the job's. Plain ids (tracked
//  batches, records of older jobds) keep working (sp_list.c checks their names as first seen).
//  A standalone master restarted within the second of an earlier submission gives a driver id
//  again: that create's ext is "ID@TAG" too (sp_submit_create_done); the rest stay plain.
//  The length of the backend's own id at the start of an ext (the part before '@').
int sp_backend_id_length (const char *ext);
//  The ext of id named (Livy) or tagged (a reused driver id) name: "ID@TAG", where TAG is the
//  tag at the end of a Livy batch name ("nightly [jobd-job-5]": jobd-job-5) or else the whole
//  name; the id alone when name is empty or too long.
void sp_backend_tagged_ext (const char *id, const char *name, char *ext, size_t ext_size);
//  Livy: whether a batch listed or polled under ext's id, named name (its tag compared, as
//  sp_backend_tagged_ext takes it), is another batch than the one ext names (Livy restarted and
//  gave the id again). False for plain ids and unnamed batches.
bool sp_backend_livy_other (const char *ext, const char *name);

//  YARN: the cluster timestamp of an application id (application_<clusterTimestamp>_<seq>), or 0
//  when it does not parse.
int64_t sp_backend_cluster_ts (const char *app_id);

//  The request that polls one job (ext), or the backend's list (ext NULL; Livy: its first page).
void sp_backend_poll_url (const sp_backend_t *self, const char *ext, char *url, size_t url_size);

//  The cheap request that tells whether a failing backend answers again: its list (list
//  backends), a standalone master's status of an id it cannot know, a history server's newest
//  application.
void sp_backend_probe_url (const sp_backend_t *self, char *url, size_t url_size);

//  Whether the reply to that request says the backend answers (a standby master does not).
bool sp_backend_probe_ok (const sp_backend_t *self, long http, const char *body, size_t size);

//  Livy: the request for the page of the batch list that starts at from.
void sp_backend_list_url (const sp_backend_t *self, long from, char *url, size_t url_size);

//  The request that kills ext: method, URL, body (static or NULL).
void sp_backend_kill (const sp_backend_t *self, const char *ext, const char **method, char *url,
                      size_t url_size, const char **body);

#endif
