//  jobctl's output: human tables and lines by default, JSON for scripts.
#include "jobctl_print.h"
#include "jobd_error.h"
#include "jobd_json.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

json_t *
jobctl_json_from_msgpack (const msgpack_object *obj)
{
    return jobd_json_from_msgpack (obj);
}

int
jobctl_print_json (FILE *out, const json_t *value)
{
    char *text = value ? json_dumps (value, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (!text) {
        fprintf (stderr, "jobctl: cannot write the answer as JSON (%s)\n",
                 value ? "json_dumps failed" : "out of memory");
        return -1;
    }
    int failed = fprintf (out, "%s\n", text) < 0;
    free (text);
    failed = fflush (out) != 0 || failed || ferror (out);
    if (failed)
        fprintf (stderr, "jobctl: cannot write the output: %s\n", strerror (errno));
    return failed ? -1 : 0;
}

//  True when times are local: TZ is set (and not empty); else they are UTC.
static bool
s_local_time (void)
{
    const char *tz = getenv ("TZ");
    return tz && *tz;
}

const char *
jobctl_format_time (int64_t ms, char *buffer, size_t size)
{
    if (ms <= 0) {
        snprintf (buffer, size, "-");
        return buffer;
    }
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    if (!s_local_time ()) {
        gmtime_r (&seconds, &tm);
        strftime (buffer, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buffer;
    }
    //  Local time with its offset, as ISO 8601 writes it: "+01:00" (strftime's %z is "+0100").
    localtime_r (&seconds, &tm);
    char zone[16];
    strftime (zone, sizeof zone, "%z", &tm);
    char when[40];
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    if (strlen (zone) == 5)
        snprintf (buffer, size, "%s%.3s:%.2s", when, zone, zone + 3);
    else
        snprintf (buffer, size, "%s%s", when, zone);
    return buffer;
}

const char *
jobctl_format_time_ms (int64_t ms, char *buffer, size_t size)
{
    char seconds[48];
    jobctl_format_time (ms, seconds, sizeof seconds);
    //  The same text with the milliseconds before its zone: "...:07.123Z", "...:07.123+01:00".
    size_t length = strlen (seconds);
    size_t zone = length >= 19 ? 19 : length;
    if (ms <= 0 || length < 20)
        snprintf (buffer, size, "%s", seconds);
    else
        snprintf (buffer, size, "%.*s.%03d%s", (int)zone, seconds, (int)(ms % 1000),
                  seconds + zone);
    return buffer;
}

//  A span of time in its largest unit ("45s", "12m", "3h", "2d"); precise adds the next unit
//  when it is not 0 ("1m40s", "2h5m", "3d4h").
static const char *
s_format_span (int64_t span, bool precise, char *buffer, size_t size)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    size_t index = 0;
    while (index < 3 && span < units[index].ms)
        index++;
    long long whole = (long long)(span / units[index].ms);
    long long next = index < 3 ? (long long)(span % units[index].ms / units[index + 1].ms) : 0;
    if (precise && next)
        snprintf (buffer, size, "%lld%s%lld%s", whole, units[index].unit, next,
                  units[index + 1].unit);
    else
        snprintf (buffer, size, "%lld%s", whole, units[index].unit);
    return buffer;
}

const char *
jobctl_format_span (int64_t span, char *buffer, size_t size)
{
    return s_format_span (span > 0 ? span : 0, true, buffer, size);
}

const char *
jobctl_format_age (int64_t ms, int64_t now, char *buffer, size_t size)
{
    if (ms <= 0)
        snprintf (buffer, size, "-");
    else if (now < ms)
        snprintf (buffer, size, "0s"); //  a clock a little ahead of ours
    else
        s_format_span (now - ms, false, buffer, size);
    return buffer;
}

const char *
jobctl_format_countdown (int64_t ms, int64_t now, char *buffer, size_t size)
{
    char span[32];
    if (ms - now >= 1000)
        snprintf (buffer, size, "in %s", s_format_span (ms - now, true, span, sizeof span));
    else if (now - ms >= 1000)
        snprintf (buffer, size, "%s ago", s_format_span (now - ms, true, span, sizeof span));
    else
        snprintf (buffer, size, "now");
    return buffer;
}

//  The CAUSE column: why the job is in its state, while that explains it (a job retried and
//  running again keeps its last failure's cause for show, not for ls). A RETRY_WAIT job leads
//  with its countdown and class, a FAILED job no retry follows with "no retry". NULL: nothing.
const char *
jobctl_row_cause (const jobd_job_t *job, int64_t now, char *buffer, size_t size)
{
    jobd_state_t state = job->state;
    bool explains = state == JOBD_STATE_FAILED || state == JOBD_STATE_CANCELLED ||
                    state == JOBD_STATE_RETRY_WAIT || state == JOBD_STATE_UNKNOWN ||
                    state == JOBD_STATE_LOST;
    const char *cause = explains ? job->cause : NULL;
    char lead[96] = "";
    if (state == JOBD_STATE_RETRY_WAIT && job->retry_at > 0) {
        char countdown[48];
        jobctl_format_countdown (job->retry_at, now, countdown, sizeof countdown);
        snprintf (lead, sizeof lead, "retry %s%s%s%.32s%s", //  "retry in 1m40s (oom)"
                  job->retry_at > now ? "" : "due ", countdown, job->retry_class ? " (" : "",
                  job->retry_class ? job->retry_class : "", job->retry_class ? ")" : "");
    } else if (state == JOBD_STATE_FAILED && job->retry_final) {
        snprintf (lead, sizeof lead, "no retry");
        cause = cause ? cause : job->retry_final;
    }
    if (!*lead)
        return cause;
    snprintf (buffer, size, "%s%s%s", lead, cause ? ": " : "", cause ? cause : "");
    return buffer;
}

void
jobctl_print_job (FILE *out, const jobd_job_t *job)
{
    char when[32];
    fprintf (out, "id:           %s\n", job->id);
    fprintf (out, "name:         %s\n", job->name ? job->name : "");
    fprintf (out, "kind:         %s\n", job->kind);
    fprintf (out, "backend:      %s\n", job->backend ? job->backend : "-");
    fprintf (out, "external id:  %s\n", job->ext ? job->ext : "-");
    fprintf (out, "state:        %s\n", jobd_state_name (job->state));
    fprintf (out, "attempt:      %u\n", job->attempt);
    const struct {
        const char *label;
        int64_t value;
    } times[] = {{"queued:       ", job->queued_at},  {"submitted:    ", job->submitted_at},
                 {"started:      ", job->started_at}, {"finished:     ", job->finished_at},
                 {"last seen:    ", job->last_seen},  {"updated:      ", job->updated_at}};
    for (size_t index = 0; index < sizeof times / sizeof times[0]; index++)
        fprintf (out, "%s%s\n", times[index].label,
                 jobctl_format_time (times[index].value, when, sizeof when));
    char age[16];
    fprintf (out, "confirmed:    %s (%s ago: its source's last word on its state)\n",
             jobctl_format_time (job->confirmed_at, when, sizeof when),
             jobctl_format_age (job->confirmed_at, jobd_now_ms (), age, sizeof age));
    if (job->stale)
        fprintf (out, "stale:        since %s: %s\n",
                 jobctl_format_time (job->stale_at, when, sizeof when), job->stale);
    if (job->cause)
        fprintf (out, "cause:        %s\n", job->cause);
    if (job->error)
        fprintf (out, "last error:   %s\n", job->error);
    //  Where the backend shows the job (Livy appInfo, YARN trackingUrl, the master's driver page).
    if (job->app_id)
        fprintf (out, "app id:       %s\n", job->app_id);
    if (job->app_url)
        fprintf (out, "app UI:       %s\n", job->app_url);
    if (job->log_url)
        fprintf (out, "driver log:   %s\n", job->log_url);
    if (job->cancel_status)
        fprintf (out, "cancel:       %s at %s%s%s\n", job->cancel_status,
                 jobctl_format_time (job->cancel_at, when, sizeof when),
                 job->cancel_error ? ": " : "", job->cancel_error ? job->cancel_error : "");
    if (job->conflict)
        fprintf (out, "conflict:     %s: %s\n",
                 jobctl_format_time (job->conflict_at, when, sizeof when), job->conflict);
    //  Retries: the pending one (the plan's due time, class and policy), or why none follows.
    char countdown[48];
    bool pending = job->state == JOBD_STATE_RETRY_WAIT && job->retry_at > 0;
    if (pending)
        fprintf (
            out, "next retry:   attempt %u at %s, %s\n", job->attempt + 1,
            jobctl_format_time (job->retry_at, when, sizeof when),
            jobctl_format_countdown (job->retry_at, jobd_now_ms (), countdown, sizeof countdown));
    if (job->retry_class || job->retry_policy)
        fprintf (out, "%s class %s, policy %s\n", pending ? "retry by:    " : "last retry:  ",
                 job->retry_class ? job->retry_class : "-",
                 job->retry_policy ? job->retry_policy : "-");
    if (job->retry_final)
        fprintf (out, "no retry:     %s\n", job->retry_final);
}

int
jobctl_line_length (const char *text)
{
    return text ? (int)strcspn (text, "\r\n") : 0;
}

//  One transition's line; live (just published): a retry's due time counts down from now.
static void
s_print_transition (FILE *out, const jobd_event_t *transition, bool live)
{
    char when[40];
    jobctl_format_time_ms (transition->ts, when, sizeof when);
    //  A retry planned: when the next attempt starts, and the failure class that decided it.
    char retry[160] = "";
    if (transition->state == JOBD_STATE_RETRY_WAIT && transition->due > 0) {
        char due[32], countdown[56] = "";
        if (live)
            snprintf (countdown, sizeof countdown, " (%s)",
                      jobctl_format_countdown (transition->due, jobd_now_ms (), due, sizeof due));
        //  (In a history, none: the wait may have been skipped, or be long done.)
        snprintf (retry, sizeof retry, "  due %s%s%s%.64s",
                  jobctl_format_time (transition->due, due, sizeof due), countdown,
                  transition->failure_class ? ", class " : "",
                  transition->failure_class ? transition->failure_class : "");
    }
    //  One line per transition: its one-line cause, else (from an older jobd) a multi-line error's
    //  first line; `jobctl show` prints the error whole.
    const char *error = transition->cause ? transition->cause : transition->error;
    const char *label = transition->cause ? "  cause: " : "  error: ";
    int error_length = jobctl_line_length (error);
    bool cut = error && error[error_length] != 0;
    fprintf (out, "%s  %-10s #%-3" PRIu64 " %-10s -> %-10s attempt %u  %s%s%s%s%s%.*s%s\n", when,
             transition->job, transition->seq,
             transition->from ? jobd_state_name (transition->from) : "(new)",
             jobd_state_name (transition->state), transition->attempt,
             transition->source ? transition->source : "", transition->name ? "  " : "",
             transition->name ? transition->name : "", retry, error ? label : "", error_length,
             error ? error : "", cut ? " [...]" : "");
}

void
jobctl_print_transition (FILE *out, const jobd_event_t *transition)
{
    s_print_transition (out, transition, true);
}

void
jobctl_print_current (FILE *out, const jobd_job_t *job, int64_t now)
{
    char when[48], text[JOBD_CAUSE_MAX + 128];
    const char *cause = jobctl_row_cause (job, now, text, sizeof text);
    //  Where a transition has "FROM -> ", "(current)": the state is told, not a change.
    fprintf (out, "%s  %-10s #%-3" PRIu64 " %-14s%-10s attempt %u%s%s%s%s%s\n",
             jobctl_format_time_ms (job->updated_at, when, sizeof when), job->id, job->last_seq,
             "(current)", jobd_state_name (job->state), job->attempt, job->name ? "  " : "",
             job->name ? job->name : "", job->stale ? "  stale" : "", cause ? "  cause: " : "",
             cause ? cause : "");
}

void
jobctl_print_history (FILE *out, jobd_event_t *const *history, size_t count)
{
    for (size_t index = 0; index < count; index++)
        s_print_transition (out, history[index], false);
}

void
jobctl_print_stale (FILE *out, const jobd_event_t *stale)
{
    char when[40], heard[32];
    jobctl_format_time_ms (stale->ts, when, sizeof when);
    jobctl_format_time (stale->last_seen, heard, sizeof heard);
    int64_t silent = stale->ts - stale->last_seen;
    fprintf (out, "%s  %-10s STALE: still %s, silent for %lld.%01lld s (last heard %s)  %s%s%s\n",
             when, stale->job, jobd_state_name (stale->state), (long long)(silent / 1000),
             (long long)(silent % 1000 / 100), heard, stale->source ? stale->source : "",
             stale->error ? "  " : "", stale->error ? stale->error : "");
}

void
jobctl_print_cancel_failed (FILE *out, const jobd_event_t *failed)
{
    char when[40];
    jobctl_format_time_ms (failed->ts, when, sizeof when);
    fprintf (out, "%s  %-10s CANCEL %s at backend %s: %s  %s\n", when, failed->job, failed->status,
             failed->backend ? failed->backend : "?", failed->error ? failed->error : "",
             failed->source ? failed->source : "");
}

void
jobctl_print_retry_final (FILE *out, const jobd_event_t *final)
{
    char when[40];
    jobctl_format_time_ms (final->ts, when, sizeof when);
    fprintf (out, "%s  %-10s NO RETRY after attempt %u: %s%s%s  %s\n", when, final->job,
             final->attempt, final->error ? final->error : "",
             final->failure_class ? "  class " : "",
             final->failure_class ? final->failure_class : "", final->source ? final->source : "");
}

void
jobctl_print_retry_outcome (FILE *out, const char *job, const char *outcome,
                            jobd_event_t *const *history, size_t count, uint64_t after_seq)
{
    if (strcmp (outcome, "forwarded") == 0) {
        fprintf (out, "%s: retry asked of the retry plugin; `jobctl show %s` shows when\n", job,
                 job);
        return;
    }
    if (strcmp (outcome, "changed")) {
        fprintf (out, "%s: nothing to do (%s)\n", job, outcome);
        return;
    }
    size_t printed = 0;
    for (size_t index = 0; index < count; index++)
        if (history[index]->seq > after_seq) {
            jobctl_print_transition (out, history[index]);
            printed++;
        }
    if (!printed) //  the history could not be read back: the retry is done all the same
        fprintf (out, "%s: done\n", job);
}

void
jobctl_print_retry_refused (FILE *out, const jobd_job_t *job, const char *reason, bool stop,
                            int64_t now)
{
    jobd_state_t state = job->state;
    //  jobd's own reason when it gives one (an older jobd says only what ESTATE means).
    const char *why = reason && *reason && strcmp (reason, jobd_strerror (JOBD_ESTATE)) ? reason
                      : stop ? "only a RETRY_WAIT job has a pending retry to cancel"
                      : state == JOBD_STATE_RETRY_WAIT
                          ? "it waits for its next attempt: retry --now starts it at once, "
                            "retry --cancel stops it"
                          : "only a FAILED, LOST or RETRY_WAIT job can be retried";
    fprintf (out, "jobctl: %s is %s: %s\n", job->id, jobd_state_name (state), why);
    if (state == JOBD_STATE_RETRY_WAIT && job->retry_at > 0) {
        char when[32], countdown[48];
        fprintf (out, "jobctl: %s: next attempt %u at %s, %s\n", job->id, job->attempt + 1,
                 jobctl_format_time (job->retry_at, when, sizeof when),
                 jobctl_format_countdown (job->retry_at, now, countdown, sizeof countdown));
    }
}

//  Through msgpack, so that JSON output always matches the wire format field for field.
static json_t *
s_json_via_msgpack (int (*pack) (const void *, msgpack_packer *), const void *value)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    json_t *json = NULL;
    if (pack (value, &pk) == 0) {
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        if (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, NULL) ==
            MSGPACK_UNPACK_SUCCESS)
            json = jobctl_json_from_msgpack (&unpacked.data);
        msgpack_unpacked_destroy (&unpacked);
    }
    msgpack_sbuffer_destroy (&buffer);
    return json;
}

json_t *
jobctl_json_from_job (const jobd_job_t *job)
{
    json_t *json =
        s_json_via_msgpack ((int (*) (const void *, msgpack_packer *))jobd_job_pack, job);
    //  The spec is JSON text on the wire; here it is the object itself when it parses, so that
    //  jq reads into it.
    jobd_json_job_spec (json);
    return json;
}

json_t *
jobctl_json_from_event (const jobd_event_t *event)
{
    json_t *json =
        s_json_via_msgpack ((int (*) (const void *, msgpack_packer *))jobd_event_pack, event);
    if (!json || event->type != JOBD_EVENT_TRANSITION)
        return json;
    //  A transition as the kafka-listener's outbound topic carries it: "from" always ("NONE"
    //  for a job's first), without the bus envelope's version and event id.
    if (!json_object_get (json, "from"))
        json_object_set_new (json, "from", json_string ("NONE"));
    json_object_del (json, "v");
    json_object_del (json, "id");
    return json;
}
