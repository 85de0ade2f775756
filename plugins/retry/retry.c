//  The retry plugin: decides, for each job that fails (or goes LOST, where the policy says so),
//  whether and when it runs again, and sends that decision as a `retry.plan` for the broker to
//  apply (FAILED -> RETRY_WAIT with a store timer, or a final FAILED). It never writes the store.
#include "jobd_msgpack.h"
#include "jobd_reply.h"
#include "rt_decide.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const jobd_conf_key_t s_config[] = {
    {"max_attempts", JOBD_CONF_INT, "3", "attempts in all, the first included (1: never retried)"},
    {"backoff_initial", JOBD_CONF_DURATION, "30s", "the wait before the second attempt"},
    {"backoff_max", JOBD_CONF_DURATION, "30m", "the longest wait before an attempt"},
    {"multiplier", JOBD_CONF_STRING, "2", "the wait grows by this factor each attempt (1 to 100)"},
    {"jitter", JOBD_CONF_STRING, "full",
     "full: the wait is a uniform pick between 0 and the backoff; none: the backoff itself"},
    {"on_lost", JOBD_CONF_BOOL, "false",
     "retry LOST jobs too (off: a lost job may still be running)"},
    {"rate", JOBD_CONF_INT, "5",
     "most resubmissions starting in one second, per backend (0: no limit)"},
    {"policies", JOBD_CONF_STRING, "",
     "per kind and kind/backend, e.g. \"spark max_attempts=5; spark/livy backoff_initial=1m "
     "rate=2\" (keys as above)"},
    {"catch_up", JOBD_CONF_DURATION, "1h",
     "at start, a failed job without a decision that failed longer ago than this gets a final "
     "one, not a retry (0: retry every one)"},
    {"status_interval", JOBD_CONF_DURATION, "5s", "most often plugin.status is sent"},
    {"classes/*/match", JOBD_CONF_STRING, NULL,
     "a failure class: POSIX extended regex, any case, on the job's cause and error (classes "
     "are tried in file order; none set: oom, transient, user)"},
    {"classes/*/max_attempts", JOBD_CONF_STRING, "",
     "the class's attempts in all (1: never retried; empty: the policy's)"},
    {"classes/*/backoff_initial", JOBD_CONF_STRING, "",
     "the class's first wait (empty: the policy's)"},
    {"classes/*/backoff_max", JOBD_CONF_STRING, "",
     "the class's longest wait (empty: the policy's)"},
    {"classes/*/multiplier", JOBD_CONF_STRING, "", "the class's multiplier (empty: the policy's)"},
    {"classes/*/change", JOBD_CONF_STRING, "",
     "what the next attempt changes, e.g. \"spark.executor.memory*1.5<=16g\" (empty: nothing)"},
    {NULL, 0, NULL, NULL}};

//  A plan sent and not answered yet.
typedef struct {
    char job[JOBD_ID_MAX + 1];
    char backend[JOBD_ID_MAX + 1];
    bool has_backend;
    uint32_t attempt;
    int64_t due;      //  0: a final plan
    int64_t sent_at;  //  ms since the epoch
    uint32_t retries; //  decisions of this failure the broker did not take before this one
} s_sent_t;

//  A job to decide for later: found undecided at start, or its plan not taken (refused for a
//  reason that passes, or unanswered).
typedef struct {
    char job[JOBD_ID_MAX + 1];
    rt_decide_why_t why;
    int64_t not_before; //  ms since the epoch
    uint32_t retries;
} s_redo_t;

#define S_IN_FLIGHT_MAX 1000  //  plans sent and not answered: the rest wait in `redo`
#define S_REPLY_WAIT_MS 60000 //  a plan unanswered this long is decided again
#define S_REDO_WAIT_MS  2000  //  the first wait before deciding again, doubling
#define S_REDO_WAIT_MAX 300000

typedef struct {
    const jobd_host_t *host;
    zsock_t *bus; //  set by run
    rt_policy_t *policy;
    rt_classes_t *classes;
    rt_slots_t *slots;
    int64_t catch_up;
    int64_t started;
    uint64_t random;
    jobd_sdk_status_t *report;
    zhashx_t *sent;    //  plan event id -> s_sent_t
    zhashx_t *pending; //  job id -> the plan's event id: one plan in flight per job
    zlistx_t *redo;    //  s_redo_t: jobs to decide when there is room (at most S_IN_FLIGHT_MAX
                       //  plans in flight)
    uint32_t retries;  //  s_decide's: the redo entry it decides for
    uint64_t planned;  //  RETRY_WAIT plans applied
    uint64_t final;    //  final plans applied
    uint64_t refused;  //  plans the broker refused
    char last_error[256];
    bool failed_now;         //  a refusal to report at once
    uint64_t acting_changes; //  cluster mode: the host's acting_changes at the last scan
} s_retry_t;

//  xorshift64*: jitter needs spread, not secrecy.
static uint64_t
s_random (s_retry_t *self)
{
    self->random ^= self->random >> 12;
    self->random ^= self->random << 25;
    self->random ^= self->random >> 27;
    return self->random * 0x2545F4914F6CDD1DULL;
}

//  The default layer: the plugin's own keys, checked as a policies entry would be.
static int
s_base (const jobd_host_t *host, rt_rule_t *base, char *reason, size_t reason_size)
{
    static const char *const keys[] = {"max_attempts", "backoff_initial", "backoff_max",
                                       "multiplier",   "jitter",          "on_lost",
                                       "rate"};
    rt_rule_unset (base);
    for (size_t index = 0; index < sizeof keys / sizeof keys[0]; index++) {
        char why[256];
        if (rt_rule_set (base, keys[index], host->config_str (host, keys[index]), why,
                         sizeof why)) {
            snprintf (reason, reason_size, "plugins/%s/%s", host->plugin_name, why);
            return JOBD_ECONFIG;
        }
    }
    return 0;
}

//  The classes of section classes/*, in file order; the built-in ones when none is set.
static int
s_classes (s_retry_t *self, char *reason, size_t reason_size)
{
    const jobd_host_t *host = self->host;
    const char *names[RT_CLASSES_MAX + 1];
    size_t count = host->config_names (host, "classes", names, RT_CLASSES_MAX + 1);
    if (count > RT_CLASSES_MAX) {
        snprintf (reason, reason_size, "plugins/%s/classes: more than %d classes",
                  host->plugin_name, RT_CLASSES_MAX);
        return JOBD_ECONFIG;
    }
    if (count == 0)
        rt_classes_add_defaults (self->classes);
    static const char *const keys[] = {"max_attempts", "backoff_initial", "backoff_max",
                                       "multiplier"};
    for (size_t index = 0; index < count; index++) {
        char key[256], why[256] = "";
        jobd_sdk_retry_t settings;
        jobd_sdk_retry_unset (&settings);
        int rc = 0;
        for (size_t field = 0; field < 4 && rc == 0; field++) {
            snprintf (key, sizeof key, "classes/%s/%s", names[index], keys[field]);
            const char *value = host->config_str (host, key);
            if (value && *value)
                rc = jobd_sdk_retry_set (&settings, keys[field], value, why, sizeof why);
        }
        char match[256], change[256];
        snprintf (match, sizeof match, "classes/%s/match", names[index]);
        snprintf (change, sizeof change, "classes/%s/change", names[index]);
        if (rc == 0 &&
            rt_classes_add (self->classes, names[index], host->config_str (host, match), &settings,
                            host->config_str (host, change), why, sizeof why)) {
            snprintf (key, sizeof key, "classes/%s", names[index]);
            rc = JOBD_ECONFIG;
        }
        if (rc) {
            snprintf (reason, reason_size, "plugins/%s/%s: %s", host->plugin_name, key, why);
            return JOBD_ECONFIG;
        }
    }
    return 0;
}

static void s_destroy (void **state_p);

static int
s_init (const jobd_host_t *host, void **state_p, char *reason, size_t reason_size)
{
    s_retry_t *self = (s_retry_t *)zmalloc (sizeof (s_retry_t));
    self->host = host;
    self->classes = rt_classes_new ();
    self->slots = rt_slots_new ();
    self->sent = zhashx_new ();
    zhashx_set_destructor (self->sent, (zhashx_destructor_fn *)zstr_free);
    self->pending = zhashx_new ();
    zhashx_set_destructor (self->pending, (zhashx_destructor_fn *)zstr_free);
    self->redo = zlistx_new ();
    zlistx_set_destructor (self->redo, (zlistx_destructor_fn *)zstr_free);
    self->catch_up = host->config_int (host, "catch_up", 3600000);
    self->random = (uint64_t)zclock_usecs () ^ ((uint64_t)getpid () << 32) ^ 0x9E3779B97F4A7C15ULL;
    self->report = jobd_sdk_status_new (host, host->config_int (host, "status_interval", 5000));
    rt_rule_t base;
    int rc = s_base (host, &base, reason, reason_size);
    if (rc == 0 && (!self->classes || !self->slots || !self->report)) {
        snprintf (reason, reason_size, "out of memory");
        rc = -ENOMEM;
    }
    char why[512] = "";
    if (rc == 0 && rt_policy_new (&base, host->config_str (host, "policies"), &self->policy, why,
                                  sizeof why)) {
        snprintf (reason, reason_size, "plugins/%s/%s", host->plugin_name, why);
        rc = JOBD_ECONFIG;
    }
    if (rc == 0)
        rc = s_classes (self, reason, reason_size);
    if (rc) {
        void *state = self;
        s_destroy (&state);
        return rc;
    }
    *state_p = self;
    return 0;
}

static void
s_destroy (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_retry_t *self = (s_retry_t *)*state_p;
    rt_policy_destroy (&self->policy);
    rt_classes_destroy (&self->classes);
    rt_slots_destroy (&self->slots);
    jobd_sdk_status_destroy (&self->report);
    zhashx_destroy (&self->pending);
    zhashx_destroy (&self->sent);
    zlistx_destroy (&self->redo);
    free (self);
    *state_p = NULL;
}

//  Decides for job and sends the plan, if there is one to make.
static void
s_decide (s_retry_t *self, const jobd_job_t *job, rt_decide_why_t why)
{
    if (!jobd_host_acting (self->host, job->id))
        return; //  cluster mode: the instance that acts on the job plans its retry
    rt_decide_t context = {.policy = self->policy,
                           .classes = self->classes,
                           .slots = self->slots,
                           .source = self->host->plugin_name,
                           .now = jobd_now_ms (),
                           .started = self->started,
                           .catch_up = self->catch_up,
                           .random = s_random (self)};
    jobd_event_t *plan = rt_decide (&context, job, why);
    if (!plan) {
        if (why == RT_DECIDE_MANUAL)
            self->host->log (self->host, JOBD_LOG_INFO, "retry of %s: it is %s, nothing to plan",
                             job->id, jobd_state_name (job->state));
        return;
    }
    s_sent_t *sent = (s_sent_t *)zmalloc (sizeof (s_sent_t));
    snprintf (sent->job, sizeof sent->job, "%s", job->id);
    sent->has_backend = job->backend != NULL;
    snprintf (sent->backend, sizeof sent->backend, "%s", job->backend ? job->backend : "");
    sent->attempt = plan->attempt;
    sent->due = plan->state == JOBD_STATE_RETRY_WAIT ? plan->due : 0;
    sent->sent_at = jobd_now_ms ();
    sent->retries = self->retries;
    int rc = jobd_plugin_send (self->bus, plan);
    if (rc == JOBD_ETOOBIG && plan->spec) {
        //  The changed spec grew past its limit: the next attempt runs unchanged, and says so.
        jobd_event_set (&plan->spec, NULL);
        jobd_event_set (&plan->change, "the changed spec is over its size limit: unchanged");
        rc = jobd_plugin_send (self->bus, plan);
    }
    if (rc) {
        self->host->log (self->host, JOBD_LOG_WARN, "cannot send the retry plan of %s: %s", job->id,
                         jobd_strerror (rc));
        if (sent->due)
            rt_slots_give (self->slots, sent->has_backend ? sent->backend : NULL, sent->due,
                           jobd_now_ms ());
        free (sent);
    } else {
        zhashx_update (self->sent, plan->id, sent);
        zhashx_update (self->pending, job->id, strdup (plan->id));
    }
    jobd_event_destroy (&plan);
}

//  Queues job to be decided when there is room, not before delay ms from now.
static void
s_redo_add (s_retry_t *self, const char *job, rt_decide_why_t why, int64_t delay, uint32_t retries)
{
    s_redo_t *redo = (s_redo_t *)zmalloc (sizeof (s_redo_t));
    snprintf (redo->job, sizeof redo->job, "%s", job);
    redo->why = why;
    redo->not_before = jobd_now_ms () + delay;
    redo->retries = retries;
    zlistx_add_end (self->redo, redo);
}

//  Decides for the queued jobs whose time has come, while fewer than S_IN_FLIGHT_MAX plans wait
//  for their answer. Returns true when some are left that could go now.
static bool
s_redo_run (s_retry_t *self)
{
    int64_t now = jobd_now_ms ();
    s_redo_t *redo = (s_redo_t *)zlistx_first (self->redo);
    while (redo && zhashx_size (self->sent) < S_IN_FLIGHT_MAX) {
        if (redo->not_before > now) {
            redo = (s_redo_t *)zlistx_next (self->redo);
            continue;
        }
        jobd_job_t *job = NULL;
        //  A plan in flight for the job answers for it already.
        if (!zhashx_lookup (self->pending, redo->job) &&
            jobd_host_job_get (self->host, redo->job, &job) == 0) {
            self->retries = redo->retries;
            s_decide (self, job, redo->why);
            self->retries = 0;
        }
        jobd_job_destroy (&job);
        zlistx_delete (self->redo, zlistx_cursor (self->redo));
        redo = (s_redo_t *)zlistx_next (self->redo);
    }
    for (; redo; redo = (s_redo_t *)zlistx_next (self->redo))
        if (redo->not_before <= now)
            return true;
    return false;
}

//  Plans unanswered for S_REPLY_WAIT_MS (the answer lost: the bus's queues overflowed) are
//  forgotten, their slot given back, and their jobs decided again.
static void
s_expire_sent (s_retry_t *self)
{
    int64_t now = jobd_now_ms ();
    zlistx_t *expired = zlistx_new ();
    for (s_sent_t *sent = (s_sent_t *)zhashx_first (self->sent); sent;
         sent = (s_sent_t *)zhashx_next (self->sent))
        if (now - sent->sent_at > S_REPLY_WAIT_MS)
            zlistx_add_end (expired, (void *)zhashx_cursor (self->sent));
    for (const char *id = (const char *)zlistx_first (expired); id;
         id = (const char *)zlistx_next (expired)) {
        s_sent_t *sent = (s_sent_t *)zhashx_lookup (self->sent, id);
        if (sent->due)
            rt_slots_give (self->slots, sent->has_backend ? sent->backend : NULL, sent->due, now);
        const char *in_flight = (const char *)zhashx_lookup (self->pending, sent->job);
        if (in_flight && strcmp (in_flight, id) == 0)
            zhashx_delete (self->pending, sent->job);
        self->host->log (self->host, JOBD_LOG_WARN,
                         "the retry plan of %s had no answer in %d s: deciding again", sent->job,
                         S_REPLY_WAIT_MS / 1000);
        s_redo_add (self, sent->job, RT_DECIDE_FAILED, 0, sent->retries + 1);
        zhashx_delete (self->sent, id);
    }
    zlistx_destroy (&expired);
}

//  The job id of an event: a FAILED or LOST transition, or a forwarded retry command.
static void
s_on_event (zsock_t *events, void *arg)
{
    s_retry_t *self = (s_retry_t *)arg;
    zmsg_t *msg = zmsg_recv (events);
    zframe_t *payload = msg && zmsg_size (msg) == 2 ? zmsg_last (msg) : NULL;
    jobd_event_t *event = NULL;
    if (payload)
        jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0);
    if (event && jobd_sdk_status_asked (self->report, event))
        jobd_event_destroy (&event); //  answered by the next tick
    bool manual = event && event->type == JOBD_EVENT_RETRY;
    bool failed = event && event->type == JOBD_EVENT_TRANSITION &&
                  (event->state == JOBD_STATE_FAILED || event->state == JOBD_STATE_LOST);
    jobd_job_t *job = NULL;
    //  One plan per failure: a plan in flight for this job already answers this one.
    if ((manual || failed) && !(failed && zhashx_lookup (self->pending, event->job)) &&
        jobd_host_job_get (self->host, event->job, &job) == 0 &&
        (manual || !event->attempt || job->attempt == event->attempt))
        s_decide (self, job, manual ? RT_DECIDE_MANUAL : RT_DECIDE_FAILED);
    else if (manual)
        self->host->log (self->host, JOBD_LOG_WARN, "retry of %s: no such job", event->job);
    jobd_job_destroy (&job);
    jobd_event_destroy (&event);
    zmsg_destroy (&msg);
}

//  True for a refusal that says nothing against the plan itself (deciding again may work).
static bool
s_refusal_passes (const char *error)
{
    static const char *const lasting[] = {"EPROTO", "ESTATE", "EINVAL", "ENOTFOUND", "ETOOBIG"};
    for (size_t index = 0; index < sizeof lasting / sizeof lasting[0]; index++)
        if (strcmp (error, lasting[index]) == 0)
            return false;
    return true;
}

//  The broker's answer to a plan: applied, a duplicate (the job moved on), or refused.
static void
s_on_reply (zsock_t *bus, void *arg)
{
    s_retry_t *self = (s_retry_t *)arg;
    zframe_t *frame = zframe_recv (bus);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    jobd_reply_t answer = {0};
    if (frame &&
        jobd_msgpack_unpack (zframe_data (frame), zframe_size (frame), &reply, NULL, 0) == 0)
        jobd_reply_read (&reply.data, &answer, NULL, 0);
    msgpack_unpacked_destroy (&reply);
    zframe_destroy (&frame);
    s_sent_t *sent = (s_sent_t *)zhashx_lookup (self->sent, answer.re);
    if (!sent)
        return;
    bool applied = answer.ok && strcmp (answer.outcome, "changed") == 0;
    if (applied && sent->due)
        self->planned++;
    else if (applied)
        self->final++;
    else if (sent->due)
        rt_slots_give (self->slots, sent->has_backend ? sent->backend : NULL, sent->due,
                       jobd_now_ms ());
    if (!answer.ok) {
        self->refused++;
        snprintf (self->last_error, sizeof self->last_error, "%s: %s: %s", sent->job, answer.error,
                  answer.reason);
        self->failed_now = true;
        self->host->log (self->host, JOBD_LOG_WARN,
                         "the retry plan of %s (attempt %u) was "
                         "refused: %s: %s",
                         sent->job, sent->attempt, answer.error, answer.reason);
    }
    const char *in_flight = (const char *)zhashx_lookup (self->pending, sent->job);
    if (in_flight && strcmp (in_flight, answer.re) == 0)
        zhashx_delete (self->pending, sent->job);
    //  A refusal that may pass (the store could not commit: full, an I/O error, the batch it
    //  was in failed) leaves the failure undecided: it is decided again, later and later.
    if (!answer.ok && s_refusal_passes (answer.error)) {
        int64_t wait = S_REDO_WAIT_MS;
        for (uint32_t index = 0; index < sent->retries && wait < S_REDO_WAIT_MAX; index++)
            wait *= 2;
        s_redo_add (self, sent->job, RT_DECIDE_FAILED,
                    wait < S_REDO_WAIT_MAX ? wait : S_REDO_WAIT_MAX, sent->retries + 1);
    }
    zhashx_delete (self->sent, answer.re);
}

//  The figures of plugin.status (README.md, "Figures"). Planned, fired and final retries as the
//  store applied them are jobd's own series (jobd_retry_*_total): these are the plugin's side.
static void
s_figures (s_retry_t *self, size_t waiting)
{
    jobd_sdk_status_t *report = self->report;
    jobd_sdk_status_figures_clear (report);
    const char *help = "The plugin's plans jobd applied, by decision";
    jobd_sdk_status_figure (report, "retry_plans_applied_total", help, (double)self->planned,
                            "decision", "retry", NULL);
    jobd_sdk_status_figure (report, "retry_plans_applied_total", help, (double)self->final,
                            "decision", "final", NULL);
    jobd_sdk_status_figure (report, "retry_plans_refused_total", "Plans jobd refused",
                            (double)self->refused, NULL);
    jobd_sdk_status_figure (report, "retry_waiting", "Jobs waiting for their next attempt",
                            (double)waiting, NULL);
    jobd_sdk_status_figure (report, "retry_plans_unanswered", "Plans sent, not answered yet",
                            (double)zhashx_size (self->sent), NULL);
    jobd_sdk_status_figure (report, "retry_undecided",
                            "Failed jobs queued for a decision (room for plans, or again)",
                            (double)zlistx_size (self->redo), NULL);
}

//  The status for `jobctl plugins`: what was decided, what waits, the last refusal.
//  At start: the retries already planned take their slots again, and failed jobs without a
//  decision (lost in a crash before its commit, or failed while the plugin was off) get one.
//  Cluster mode: the same for the jobs of the partitions this instance comes to act on.
typedef struct {
    s_retry_t *self;
    zlistx_t *undecided; //  job ids: records are read again one by one (a spec may be 128 KiB)
    bool taken_over;     //  a rescan after the partitions moved: the slots are counted already
} s_rescan_t;

static bool
s_rescan_one (const jobd_job_t *job, void *arg)
{
    s_rescan_t *rescan = (s_rescan_t *)arg;
    if (!jobd_host_acting (rescan->self->host, job->id))
        return true;
    if (job->state == JOBD_STATE_RETRY_WAIT && job->retry_at && !rescan->taken_over)
        rt_slots_count (rescan->self->slots, job->backend, job->retry_at, jobd_now_ms ());
    else if (job->state != JOBD_STATE_RETRY_WAIT && !job->retry_final)
        zlistx_add_end (rescan->undecided, strdup (job->id));
    return true;
}

static void
s_rescan (s_retry_t *self, bool taken_over)
{
    s_rescan_t rescan = {self, zlistx_new (), taken_over};
    zlistx_set_destructor (rescan.undecided, (zlistx_destructor_fn *)zstr_free);
    uint32_t mask =
        (1u << JOBD_STATE_FAILED) | (1u << JOBD_STATE_LOST) | (1u << JOBD_STATE_RETRY_WAIT);
    int rc = jobd_host_job_scan (self->host, mask, s_rescan_one, &rescan);
    if (rc)
        self->host->log (self->host, JOBD_LOG_WARN, "cannot scan the failed jobs: %s",
                         jobd_strerror (rc));
    //  Decided by the tick, at most S_IN_FLIGHT_MAX plans in flight: a store with 100,000
    //  undecided failures must not flood the bus with plans whose answers it cannot hold.
    size_t undecided = zlistx_size (rescan.undecided);
    for (const char *id = (const char *)zlistx_first (rescan.undecided); id;
         id = (const char *)zlistx_next (rescan.undecided))
        s_redo_add (self, id, RT_DECIDE_RESCAN, 0, 0);
    zlistx_destroy (&rescan.undecided);
    if (!taken_over || undecided)
        self->host->log (self->host, JOBD_LOG_INFO,
                         "%s: %zu failed jobs without a decision to decide, %zu retries pending",
                         taken_over ? "partitions moved" : "started", undecided,
                         rt_slots_pending (self->slots, jobd_now_ms ()));
}

static int64_t
s_tick (void *arg)
{
    s_retry_t *self = (s_retry_t *)arg;
    //  Cluster mode: the failures of the partitions this instance now acts on get a decision.
    //  Their waiting retries are not counted in the slots (their due times pass soon enough).
    uint64_t changes = jobd_host_acting_changes (self->host);
    if (changes != self->acting_changes) {
        self->acting_changes = changes;
        s_rescan (self, true);
    }
    s_expire_sent (self);
    bool more = s_redo_run (self);
    if (jobd_sdk_status_due (self->report, self->failed_now)) {
        size_t waiting = rt_slots_pending (self->slots, jobd_now_ms ());
        s_figures (self, waiting);
        char detail[512];
        snprintf (detail, sizeof detail,
                  "%llu retries planned, %llu failed for good, %zu pending, %zu undecided, %zu "
                  "queued%s%s",
                  (unsigned long long)self->planned, (unsigned long long)self->final, waiting,
                  zhashx_size (self->sent), zlistx_size (self->redo),
                  self->last_error[0] ? "; last refusal: " : "", self->last_error);
        jobd_sdk_status_send (self->report, self->bus, "running", detail);
        self->failed_now = false;
    }
    //  Queued jobs that could go wait only for answers to make room: look again soon.
    return more ? 10 : 1000;
}

static int
s_run (void *state, const jobd_host_t *host, zsock_t *pipe, zsock_t *bus, zsock_t *events)
{
    (void)host;
    s_retry_t *self = (s_retry_t *)state;
    self->bus = bus;
    self->started = jobd_now_ms ();
    //  Subscribed before the scan, so that no failure falls between the two.
    zsock_set_subscribe (events, "job.FAILED.");
    zsock_set_subscribe (events, "job.LOST.");
    zsock_set_subscribe (events, "cmd.retry");
    jobd_sdk_status_listen (self->report, events);
    self->acting_changes = jobd_host_acting_changes (host);
    s_rescan (self, false);
    jobd_sdk_loop_t loop = {.tick = s_tick, .on_event = s_on_event, .on_reply = s_on_reply};
    return jobd_sdk_loop_run (&loop, pipe, bus, events, self);
}

static const char *const s_kinds[] = {NULL};

//  jobd --check: init reads the config and allocates only, so the check is init then destroy.
static int
s_check (const jobd_host_t *host, char *reason, size_t reason_size)
{
    return jobd_sdk_check_init (host, s_init, s_destroy, reason, reason_size);
}

JOBD_PLUGIN_DEFINE (.name = "retry", .version = "1.0.0",
                    .description = "runs failed jobs again by policy: when, how often, with what "
                                   "change, spread per backend",
                    .config = s_config, .init = s_init, .run = s_run, .destroy = s_destroy,
                    .check = s_check, .kinds = s_kinds);
