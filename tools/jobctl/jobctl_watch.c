//  jobctl watch: the matching jobs' current states, then every change as it is committed, like
//  kubectl get -w. Fails at once when jobd is not running, unless --wait.
#include "jobctl_cli.h"
#include "jobctl_client.h"
#include "jobctl_print.h"
#include "jobctl_table.h"
#include "jobd_plugin.h"
#include <czmq.h>
#include <errno.h>
#include <string.h>

//  A watch under way.
typedef struct {
    const jobctl_options_t *options;
    uint32_t mask;  //  --state's states (0: all)
    zhashx_t *seen; //  job id -> the seq of its state printed as current (uintptr_t)
    long changes;   //  changes printed (--count)
    int welcomes;   //  jobd's welcomes: 1 + how many times it came back
} s_watch_t;

//  Prints one line, fitted to the terminal. Returns an exit code.
static int
s_line (const s_watch_t *self, const char *text)
{
    char line[4096];
    snprintf (line, sizeof line, "%.*s", (int)strcspn (text, "\n"), text);
    jobctl_fit_line (line, sizeof line, self->options->width);
    if (printf ("%s\n", line) < 0 || fflush (stdout) || ferror (stdout))
        return jobctl_fail (EXIT_FAILED, "cannot write the output: %s", strerror (errno));
    return EXIT_OK;
}

//  A job's current state as JSON: a transition's shape, type "current", "from" null (no change
//  is told here).
static json_t *
s_current_json (const jobd_job_t *job)
{
    json_t *json =
        json_pack ("{s:s, s:s, s:n, s:s, s:I, s:I, s:I}", "type", "current", "job", job->id, "from",
                   "state", jobd_state_name (job->state), "seq", (json_int_t)job->last_seq,
                   "attempt", (json_int_t)job->attempt, "ts", (json_int_t)job->updated_at);
    const struct {
        const char *key, *value;
    } texts[] = {{"name", job->name},  {"kind", job->kind},   {"backend", job->backend},
                 {"ext", job->ext},    {"error", job->error}, {"cause", job->cause},
                 {"stale", job->stale}};
    for (size_t index = 0; json && index < sizeof texts / sizeof texts[0]; index++)
        if (texts[index].value)
            json_object_set_new (json, texts[index].key, json_string (texts[index].value));
    return json;
}

//  Prints json (consumed) as one line. Returns an exit code.
static int
s_json_line (json_t *json)
{
    int code = jobctl_print_json (stdout, json) ? EXIT_FAILED : EXIT_OK;
    json_decref (json);
    return code;
}

//  Prints a job's current state as watch's human line (what is a job).
static void
s_current_printer (FILE *out, const void *what)
{
    jobctl_print_current (out, (const jobd_job_t *)what, jobd_now_ms ());
}

//  Prints an event as watch's human line (what is an event).
static void
s_event_printer (FILE *out, const void *what)
{
    const jobd_event_t *event = (const jobd_event_t *)what;
    if (event->type == JOBD_EVENT_STALE)
        jobctl_print_stale (out, event);
    else if (event->type == JOBD_EVENT_CANCEL_FAILED)
        jobctl_print_cancel_failed (out, event);
    else if (event->type == JOBD_EVENT_RETRY_PLAN)
        jobctl_print_retry_final (out, event);
    else
        jobctl_print_transition (out, event);
}

//  Prints what as one line: JSON (json, consumed), its job id (-o name), or printer's line
//  fitted to the terminal. Returns an exit code.
static int
s_print (s_watch_t *self, json_t *json, const char *job, void (*printer) (FILE *, const void *),
         const void *what)
{
    const jobctl_options_t *options = self->options;
    if (jobctl_output_json (options))
        return s_json_line (json);
    json_decref (json);
    if (options->output == JOBCTL_OUTPUT_NAME)
        return s_line (self, job ? job : "");
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return jobctl_fail (EXIT_FAILED, "out of memory");
    printer (out, what);
    fclose (out);
    int code = s_line (self, text);
    free (text);
    return code;
}

static int
s_by_updated (const void *a, const void *b)
{
    const jobd_job_t *left = *(jobd_job_t *const *)a, *right = *(jobd_job_t *const *)b;
    return left->updated_at < right->updated_at ? -1 : left->updated_at > right->updated_at;
}

//  The current states (once subscribed, so that no change after them is missed): oldest change
//  first, the latest last, as the changes that follow. Returns an exit code.
static int
s_print_currents (s_watch_t *self)
{
    jobd_job_t **jobs = NULL;
    size_t count = 0;
    bool truncated = false;
    int code =
        jobctl_jobs_fetch (self->options, false, "-updated", 10000, &jobs, &count, &truncated);
    if (code != EXIT_OK)
        return code;
    if (count > 1) //  (an empty list may be NULL)
        qsort (jobs, count, sizeof *jobs, s_by_updated);
    for (size_t index = 0; code == EXIT_OK && index < count; index++) {
        const jobd_job_t *job = jobs[index];
        if (self->options->job && strcmp (job->id, self->options->job))
            continue;
        zhashx_update (self->seen, job->id, (void *)(uintptr_t)job->last_seq);
        json_t *json = jobctl_output_json (self->options) ? s_current_json (job) : NULL;
        code = s_print (self, json, job->id, s_current_printer, job);
    }
    if (truncated)
        fprintf (stderr, "jobctl: more jobs match than jobd answers a query (10000): the current "
                         "states of the first 10000 only\n");
    jobctl_jobs_free (&jobs, count);
    return code;
}

//  Handles one message from the events endpoint. Returns an exit code, or -1 to go on.
static int
s_handle (s_watch_t *self, zmsg_t *msg)
{
    zframe_t *topic = zmsg_first (msg);
    zframe_t *payload = zmsg_next (msg);
    if (!payload && zframe_streq (topic, JOBD_WELCOME_TOPIC)) {
        //  Subscribed: from here on nothing committed is missed. Then what is now (again, when
        //  jobd came back: what it committed while we were away is in the current states).
        if (self->welcomes++ == 0)
            fprintf (stderr, "jobctl: watching %s (Ctrl-C to stop)\n", self->options->events);
        else
            fprintf (stderr, "jobctl: jobd is back at %s: its current states, then changes\n",
                     self->options->events);
        int code = s_print_currents (self);
        if (code == EXIT_UNREACHABLE && self->options->wait) {
            //  Gone again before its states were read: waited for, as asked.
            fprintf (stderr, "jobctl: waiting for jobd at %s\n", self->options->events);
            return -1;
        }
        return code == EXIT_OK ? -1 : code;
    }
    jobd_event_t *event = NULL;
    char reason[256];
    int code = -1;
    if (!payload || jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, reason,
                                       sizeof reason)) {
        fprintf (stderr, "jobctl: skipping a malformed event (%s)\n",
                 payload ? reason : "no payload");
        return -1;
    }
    const jobctl_options_t *options = self->options;
    bool match = !options->job || (event->job && strcmp (event->job, options->job) == 0);
    //  A change the current states already showed (committed between our subscription and
    //  the listing) is not told twice.
    uintptr_t shown = event->job ? (uintptr_t)zhashx_lookup (self->seen, event->job) : 0;
    if (match && event->type == JOBD_EVENT_TRANSITION && event->seq <= shown)
        match = false;
    if (match) {
        self->changes++;
        json_t *json = jobctl_output_json (options) ? jobctl_json_from_event (event) : NULL;
        code = s_print (self, json, event->job, s_event_printer, event);
        if (code == EXIT_OK)
            code = -1;
    }
    jobd_event_destroy (&event);
    return code;
}

int
jobctl_cmd_watch (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 0)
        return jobctl_fail (EXIT_USAGE, "watch: takes no arguments (see jobctl watch --help)");
    char upper[256], reason[512];
    s_watch_t self = {.options = options};
    if (jobctl_state_mask (options->state, &self.mask, upper, sizeof upper, reason, sizeof reason))
        return jobctl_fail (EXIT_USAGE, "watch: %s", reason);
    //  jobd down: said at once (a SUB socket would wait for it silently), unless --wait.
    int probed = options->wait ? 0 : jobctl_endpoint_probe (options->events, reason, sizeof reason);
    if (probed)
        return jobctl_fail (probed == JOBCTL_EACCES ? EXIT_DENIED : EXIT_UNREACHABLE, "%s%s",
                            reason, probed == JOBCTL_EACCES ? "" : "; watch --wait waits for it");
    zsock_t *sub = zsock_new (ZMQ_SUB);
    //  Refused handshakes, and jobd going away (it is waited for: the socket reconnects, and
    //  the current states are listed again at its welcome).
    zsock_t *monitor =
        jobctl_monitor_events (sub, JOBCTL_HANDSHAKE_EVENTS | ZMQ_EVENT_DISCONNECTED);
    if (jobctl_connect (sub, options->events)) {
        zsock_destroy (&monitor);
        zsock_destroy (&sub);
        return jobctl_fail (EXIT_USAGE, "invalid events endpoint %s", options->events);
    }
    self.seen = zhashx_new ();
    zpoller_t *poller = zpoller_new (sub, monitor, NULL);
    //  Server-side prefix filters; the job id is then compared exactly (job-4 vs job-42).
    for (int state = JOBD_STATE_QUEUED; state < JOBD_STATE_COUNT; state++) {
        if (self.mask && !(self.mask & (1u << state)))
            continue;
        char topic[JOBD_ID_MAX + 32];
        snprintf (topic, sizeof topic, "job.%s.%s", jobd_state_name ((jobd_state_t)state),
                  options->job ? options->job : "");
        zsock_set_subscribe (sub, topic);
    }
    if (!self.mask) {
        zsock_set_subscribe (sub, "stale.");
        zsock_set_subscribe (sub, "cancel.failed.");
        zsock_set_subscribe (sub, "retry.final.");
    }
    zsock_set_subscribe (sub, JOBD_WELCOME_TOPIC);
    int code = -1;
    bool welcomed = false;
    //  Not on ipc (tcp://): no welcome within the timeout means nobody answers there.
    int64_t deadline = options->wait ? INT64_MAX : zclock_mono () + options->timeout_ms;
    while (code < 0 && !zsys_interrupted &&
           (options->count <= 0 || self.changes < options->count)) {
        int64_t left = welcomed ? -1 : deadline - zclock_mono ();
        if (!welcomed && left <= 0) {
            code = jobctl_fail (EXIT_UNREACHABLE,
                                "no answer from jobd on %s within %d ms (is it running? watch "
                                "--wait waits for it)",
                                options->events, options->timeout_ms);
            break;
        }
        void *which =
            zpoller_wait (poller, left < 0 || left > 1000 ? (welcomed ? -1 : 1000) : (int)left);
        if (!which) {
            if (zpoller_terminated (poller))
                break;
            continue;
        }
        if (which == monitor) {
            int event = jobctl_monitor_read (monitor, options->events, reason, sizeof reason);
            if (event & JOBCTL_HANDSHAKE_EVENTS)
                code = jobctl_fail (EXIT_FAILED, "%s", reason);
            else if (event == ZMQ_EVENT_DISCONNECTED && welcomed)
                fprintf (stderr, "jobctl: jobd at %s went away; waiting for it to come back\n",
                         options->events);
            continue;
        }
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            break;
        welcomed = welcomed || zframe_streq (zmsg_first (msg), JOBD_WELCOME_TOPIC);
        code = s_handle (&self, msg);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&monitor);
    zsock_destroy (&sub);
    zhashx_destroy (&self.seen);
    return code < 0 ? EXIT_OK : code;
}
