//  The spark-poller's internals, shared by its files (sp_poller.c, the loop and the bus, at the
//  top; sp_job.c at the bottom). Nothing here is exported: the plugin is built with
//  -fvisibility=hidden and exports its descriptor only.
#ifndef SP_POLLER_INTERNAL_H
#define SP_POLLER_INTERNAL_H

#include "jobd_plugin_sdk.h"
#include "sp_backend.h"
#include "sp_http.h"
#include "sp_json.h"

#define SP_BACKENDS_MAX 32
#define SP_TAG_MAX      (JOBD_ID_MAX + 16)
//  A later attempt's lost create: a driver the master started more than this (ms) before the
//  attempt was queued is an earlier attempt's, not its (the master's clock against jobd's). Small
//  on purpose: a master clock behind by more only sends the job to the operator (its driver is
//  not found), while a large slack could take an earlier attempt's driver for a create that
//  made none.
#define SP_SEEK_CLOCK_SLACK 250

//  One Spark job being followed.
typedef struct {
    char id[JOBD_ID_MAX + 1];
    char ext[JOBD_ID_MAX + 1];
    sp_backend_t *backend;
    jobd_state_t state; //  as last reported to (or by) the broker
    uint32_t attempt;
    int64_t queued_at; //  when its attempt was queued (the record's queued_at, jobd's clock)
    int64_t due;       //  next poll
    int64_t interval;
    int64_t unknown_since; //  the backend first said it does not know the job, or 0
    int64_t since;         //  followed from (a list sent before this cannot have missed it)
    bool in_flight;
    bool seen;   //  present in the backend's last list
    bool done;   //  final: dropped at the next sweep
    bool gone;   //  cluster mode: another instance acts on it now: dropped at the next sweep
    bool submit; //  to be submitted (again, when the backend did not answer)
    //  The attempt's tag: the Livy batch name and the submission mark (README, "Restart").
    char tag[SP_TAG_MAX];
    bool marking; //  the mark is on its way to the store: the create waits for the reply
    bool resume;  //  Livy: the create may have reached Livy: the next whole list decides
    int64_t resume_after;
    bool relaunched;     //  standalone: the driver ended RELAUNCHING; its replacement is looked for
    uint64_t batch_name; //  Livy, a plain id: the hash of the batch's name when first seen, or 0
    //  A cancel being carried out: kills sent, and when the next is due (0: none) or, once the
    //  last one was accepted, when the job must have ended.
    bool killing;
    bool kill_accepted;
    int kill_tries;
    int64_t kill_at;
    //  A list said FAILED with no reason: the job's own status is asked for it (sp_reason_ask).
    bool asking;
    int reason_tries;
    char listed_raw[32];
    struct sp_seek_t
        *seek;       //  standalone: a lost create's driver is looked for (sp_seek_start), or NULL
    char *floor;     //  standalone: the backend's last_created when its create went out
    int64_t sent_at; //  when its last create went out
} sp_job_t;

//  What a standalone create whose answer was lost asked for: its driver is looked for in /json/.
typedef struct sp_seek_t {
    sp_created_t wanted;
    char main_class[256];
    char after[JOBD_ID_MAX + 1]; //  the newest driver made before the create, or ""
    int64_t marked_at;   //  when the mark was stored (after a restart) or the create sent, in
                         //  jobd's clock: lost creates are paired with drivers in this order
    int64_t since;       //  looked for since then
    int64_t examined_at; //  a /json/ pass last looked (or since, before any)
    char when[300];      //  how the answer was lost, for the operator
} sp_seek_t;

typedef struct {
    const jobd_host_t *host;
    zsock_t *bus;
    sp_http_t *http;
    sp_http_done_fn *done; //  the answer to every request (s_done, in sp_poller.c)
    sp_backend_t backends[SP_BACKENDS_MAX];
    size_t backend_count;
    zhashx_t *jobs;     //  job id -> sp_job_t
    zhashx_t *by_ext;   //  "<backend index>/<ext>" -> sp_job_t (borrowed from jobs)
    zhashx_t *marks;    //  event id of a submission mark -> job id
    zhashx_t *resuming; //  tag -> job id, of Livy jobs looked for in the list before a submit
    int64_t interval_min, interval_max, list_interval, lost_after;
    int64_t cancel_timeout;  //  an accepted kill must show within this (doubling each try)
    int cancel_retries;      //  kills sent again, at most
    bool stopping;           //  requests cancelled at the end: their calls are only freed
    bool draining;           //  "$TERM" came: submissions under way finish, nothing new starts
    int64_t drain_until;     //  ...until then at the latest (zclock_mono)
    uint64_t acting_changes; //  cluster mode: the host's acting_changes when last looked at
    bool taking_over;        //  cluster mode: the jobs of gained partitions are taken up
    bool cluster;            //  cluster mode (the host names an instance)
    //  The next walk over every job (sweep, resubmit, per-job polls) is due then, or earlier
    //  when something happens to a job: walking 100,000 jobs at every wake-up of the loop (each
    //  chunk of a big list reply) starved the reply past its timeout.
    int64_t walk_at;
    int64_t walked_at; //  the last walk: walks are SP_WALK_SPACING apart at the least
    //  plugin.status: sent when a backend starts or stops failing (status_now), else every
    //  status_interval when it changed.
    jobd_sdk_status_t *report;
    int64_t status_interval;
    bool status_now;
} sp_poller_t;

#define SP_STATUS_MAX 1024 //  the plugin.status detail, at most

//  What a list said of one job, kept until the whole list is read (sp_status_t, made small).
typedef struct {
    char *id, *name, *error;                  //  fresh; name and error NULL when empty
    char *cause, *app_id, *app_url, *log_url; //  fresh, NULL when empty
    char raw[32];
    jobd_state_t state;
    bool known;
} sp_listed_t;

//  A request's context: which poller, which job (or NULL for a list), which backend.
typedef struct {
    sp_poller_t *self;
    char job[JOBD_ID_MAX + 1];
    sp_backend_t *backend;
    enum { SP_SUBMIT, SP_POLL, SP_LIST, SP_KILL, SP_VERDICT, SP_REASON, SP_PROBE } what;
    int64_t started; //  when the request went out (zclock_usecs): its answer time
    long from;       //  SP_LIST: the first item of the page asked
    long count;      //  SP_LIST: the items read from the page
    //  SP_LIST: the reply is read as it arrives (a list of 100,000 jobs is read while it comes
    //  rather than after); what it says is kept, and acted on only once it is read whole.
    sp_jlist_t list;
    bool list_failed;
    sp_listed_t *listed;
    size_t listed_count, listed_size;
} sp_call_t;

//  ---------------------------------------------------------------------------------------------
//  sp_job.c

//  Frees a job and what its search holds (NULL-safe); *job_p is NULL after.
void sp_job_free (sp_job_t **job_p);

//  Starts a request. Returns its context (valid until its reply is handled), or NULL when it
//  could not start.
sp_call_t *sp_call_start (sp_poller_t *self, sp_backend_t *backend, sp_job_t *job, int what,
                          const char *method, const char *url, const char *body);

//  Frees a request's context and what its list kept (NULL-safe); *call_p is NULL after.
void sp_call_destroy (sp_call_t **call_p);

//  Returns interval with +-10% of jitter.
int64_t sp_jitter (int64_t interval);

//  Returns the backend of that name (borrowed from self), or NULL.
sp_backend_t *sp_poller_backend (sp_poller_t *self, const char *name);

//  Reports what the backend said about a job: an `observed` event, when it is news.
void sp_job_observe (sp_poller_t *self, sp_job_t *job, jobd_state_t state, const char *ext,
                     const char *error);

//  The same for what a backend's answer said (status: its error, its one-line cause and its
//  links go with the observation).
void sp_job_observe_status (sp_poller_t *self, sp_job_t *job, jobd_state_t state, const char *ext,
                            const sp_status_t *status);

//  A backend that failed backs off, with jitter, and recovers by itself.
void sp_poller_backend_result (sp_poller_t *self, sp_backend_t *backend, bool ok,
                               const char *error);

//  A probe's answer (s_poll_backend): a good one ends the backoff, so that what waits goes out at
//  once. The failures end only with an answer to a real request, or a second good probe in a
//  row (nothing else was asked): a backend whose reply about one job stays unreadable is not
//  logged as back and failing again every second.
void sp_poller_probe_result (sp_poller_t *self, sp_backend_t *backend, bool ok, const char *error);

//  Asks for a walk over the jobs at due (or before).
void sp_poller_walk_by (sp_poller_t *self, int64_t due);

//  A list reply names jobs by the backend's id: looked up in an index, not by a walk over every
//  job (that made a list of N jobs cost N^2).
sp_job_t *sp_job_by_ext (sp_poller_t *self, const sp_backend_t *backend, const char *ext);

//  Sets a job's backend id and keeps the index in step.
void sp_job_set_ext (sp_poller_t *self, sp_job_t *job, const char *ext);

//  Stops following a job.
void sp_poller_forget (sp_poller_t *self, const char *id);

//  Follows a stored job (again): backend, backend id, state and attempt from the record, any
//  earlier search dropped. Returns the job (owned by self->jobs), or NULL when no backend of
//  the poller has the record's backend name.
sp_job_t *sp_job_follow (sp_poller_t *self, const jobd_job_t *record);

//  ---------------------------------------------------------------------------------------------
//  sp_reason.c

//  A failure the backend gave no reason for (a driver that exited non-zero, a Livy log the caller
//  may not see, empty YARN diagnostics): the reason says what is known. trouble: why the job's
//  own status could not be read, or NULL.
void sp_reason_explain (const sp_job_t *job, sp_status_t *status, const char *trouble);

//  A list that says a job failed without saying why (the master's /json/ has no message): the
//  job's own status (standalone status/{id}, Livy's batch, YARN's app) is asked for the reason
//  before FAILED is recorded (sp_reason_done). Returns true when the status waits for it.
bool sp_reason_ask (sp_poller_t *self, sp_job_t *job, const sp_status_t *status);

//  The job's own status, asked by sp_reason_ask: its state and reason are recorded. While the
//  backend is in trouble the next list asks again (SP_REASON_TRIES in all); then, or when the
//  backend no longer knows the job, the list's verdict is recorded with what is known.
void sp_reason_done (sp_poller_t *self, sp_job_t *job, int rc, sp_status_t *status,
                     const char *why);

//  ---------------------------------------------------------------------------------------------
//  sp_list.c

//  After a /json/ pass: each relaunched driver's replacement, once /json/ lists it, is what its
//  job follows from then on (an observation with the new id: the job ends with its state).
void sp_list_follow_relaunches (sp_poller_t *self, sp_call_t *call, const char *body, size_t size,
                                long http);

//  One job's status, from a per-job poll or from a list.
void sp_list_apply_status (sp_poller_t *self, sp_job_t *job, const sp_status_t *given);

//  A history server application: running, or ended (then its jobs give the verdict).
int sp_list_history (sp_poller_t *self, sp_job_t *job, const char *body, size_t size, long http,
                     sp_status_t *status);

//  The end of a list reply: read whole, then what it said is acted on. Returns 0 or JOBD_EPROTO
//  (nothing acted on).
int sp_list_read (sp_poller_t *self, sp_call_t *call, long http, const char *body, size_t size,
                  long *total_p);

//  Livy: a job whose create may have reached Livy is submitted again only after a whole list,
//  asked after that, has no batch of its name.
void sp_list_resume (sp_poller_t *self, sp_job_t *job);

//  A whole Livy list was read (every page): the jobs it was to look for and did not find were
//  never created (or Livy forgot them: README): they are submitted.
void sp_list_whole (sp_poller_t *self, sp_backend_t *backend);

//  ---------------------------------------------------------------------------------------------
//  sp_seek.c

//  Standalone: a create whose answer was lost (jobd stopped before it came, or no usable reply),
//  sent after the master made driver after (or NULL). With ui_url, its driver is looked for in
//  the master's /json/ (sp_seek_find_created); without, nothing can find it: the operator is asked
//  (s_maybe_submitted).
void sp_seek_start (sp_poller_t *self, sp_job_t *job, const char *spec, const char *after,
                    const char *when);

//  Whether a driver id is followed by a job (here, or in the store): no relaunch's replacement,
//  nor a lost create's driver.
bool sp_seek_taken (const char *id, void *arg);

//  The search cannot tell: no driver of the job in /json/ (it may have aged out), or several
//  that it cannot tell apart, or /json/ not read. The operator decides (ids: the candidates, ""
//  for none, NULL when /json/ could not be read).
void sp_seek_failed (sp_poller_t *self, sp_job_t *job, const char *ids);

//  After a /json/ pass: each lost create's driver. One driver described as its request (main
//  class, cores, memory), newer than the last one made before it, followed by no job, and no
//  other search's candidate: the job follows it. Drivers only a group of identical searches
//  could have made: s_pair_in_order. None, or several otherwise, once the create has had time
//  to reach the master: the operator is asked.
void sp_seek_find_created (sp_poller_t *self, sp_call_t *call, const char *body, size_t size,
                           long http);

//  After a restart, the searches for lost creates' drivers (sp_seek_start) start from the newest
//  driver the store says this master made before each mark: the driver ids the master gave
//  around that time.
void sp_seek_find_floors (sp_poller_t *self);

//  ---------------------------------------------------------------------------------------------
//  sp_submit.c

//  The answer to a create of job_id on backend, or its absence; job is NULL when the job is no
//  longer followed (then what the backend made is killed). Returns 0 when the backend answered
//  (taken or refused), or -1 with why for the backend's health.
int sp_submit_create_done (sp_poller_t *self, sp_backend_t *backend, const char *job_id,
                           sp_job_t *job, long http, const char *body, size_t size,
                           const char *error, bool sent, char *why, size_t why_size);

//  Whether a queued job carries its submission mark: its create may have been sent.
bool sp_submit_marked (const sp_job_t *job, const jobd_job_t *record);

//  Sends the create request of a marked job.
void sp_submit_send_create (sp_poller_t *self, sp_job_t *job, const jobd_job_t *record);

//  The plugin's validate (ABI 1.4): a spark submission names a configured backend that submits
//  (standalone or livy) and its spec passes sp_spec_check for that backend. Pure: reads the
//  backends' names and kinds, which init set and run never changes.
int sp_submit_validate (void *state, const jobd_host_t *host, const jobd_submission_t *submission,
                        char *reason, size_t reason_size);

//  Submits a queued job: its submission mark first, then its create (sp_submit_send_create); a
//  job whose backend the poller does not have is reported FAILED.
void sp_submit_job (sp_poller_t *self, const jobd_job_t *record);

//  ---------------------------------------------------------------------------------------------
//  sp_kill_track.c

//  Starts carrying out a cancel the broker forwarded (or one a restart found unfinished).
void sp_kill_track_cancel (sp_poller_t *self, sp_job_t *job, const jobd_event_t *event);

//  A walk found the job's kill due: sent again, or, when the last was accepted and the job is
//  still at its backend, that is said first.
void sp_kill_track_due (sp_poller_t *self, sp_job_t *job);

//  The answer to a kill. Returns 0 when the backend answered (whatever it said), or -1 with why
//  for the backend's health.
int sp_kill_track_done (sp_poller_t *self, sp_job_t *job, long http, const char *body, size_t size,
                        const char *error, char *why, size_t why_size);

#endif
