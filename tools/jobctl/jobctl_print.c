//  jobctl's output: human tables and lines by default, JSON for scripts.
#include "jobctl_print.h"
#include "jobd_json.h"
#include <errno.h>
#include <inttypes.h>
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

const char *
jobctl_format_time (int64_t ms, char *buffer, size_t size)
{
    if (ms <= 0) {
        snprintf (buffer, size, "-");
        return buffer;
    }
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    strftime (buffer, size, "%Y-%m-%d %H:%M:%S", &tm);
    return buffer;
}

const char *
jobctl_format_age (int64_t ms, int64_t now, char *buffer, size_t size)
{
    int64_t age = now - ms;
    if (ms <= 0)
        snprintf (buffer, size, "-");
    else if (age < 0)
        snprintf (buffer, size, "0s"); //  a clock a little ahead of ours
    else if (age < 60000)
        snprintf (buffer, size, "%llds", (long long)(age / 1000));
    else if (age < 3600000)
        snprintf (buffer, size, "%lldm", (long long)(age / 60000));
    else if (age < 86400000)
        snprintf (buffer, size, "%lldh", (long long)(age / 3600000));
    else
        snprintf (buffer, size, "%lldd", (long long)(age / 86400000));
    return buffer;
}

void
jobctl_print_job_header (FILE *out)
{
    fprintf (out, "%-12s %-10s %-7s %-12s %-3s %-19s %-5s %-5s %-16s %s\n", "ID", "STATE", "KIND",
             "BACKEND", "TRY", "UPDATED (UTC)", "FRESH", "STALE", "NAME", "CAUSE");
}

void
jobctl_print_job_row (FILE *out, const jobd_job_t *job)
{
    char updated[32], fresh[16];
    //  FRESH: how long ago its source last confirmed its state; STALE: past its deadline. The
    //  cause last (a name of any length only pushes it right), while it explains the state: a
    //  job retried and running again keeps its last failure's cause for show, not for ls.
    jobd_state_t state = job->state;
    bool explains = state == JOBD_STATE_FAILED || state == JOBD_STATE_CANCELLED ||
                    state == JOBD_STATE_RETRY_WAIT || state == JOBD_STATE_UNKNOWN ||
                    state == JOBD_STATE_LOST;
    const char *cause = explains ? job->cause : NULL;
    fprintf (out, "%-12s %-10s %-7s %-12s %-3u %-19s %-5s %-5s %-*s%s%s\n", job->id,
             jobd_state_name (state), job->kind, job->backend ? job->backend : "-", job->attempt,
             jobctl_format_time (job->updated_at, updated, sizeof updated),
             jobctl_format_age (job->confirmed_at, jobd_now_ms (), fresh, sizeof fresh),
             job->stale ? "stale" : "-", cause ? 16 : 0, job->name ? job->name : "",
             cause ? " " : "", cause ? cause : "");
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
}

void
jobctl_print_transition (FILE *out, const jobd_event_t *transition)
{
    char when[32];
    jobctl_format_time (transition->ts, when, sizeof when);
    //  One line per transition: its one-line cause, else (from an older jobd) a multi-line error's
    //  first line; `jobctl show` prints the error whole.
    const char *error = transition->cause ? transition->cause : transition->error;
    const char *label = transition->cause ? "  cause: " : "  error: ";
    int error_length = error ? (int)strcspn (error, "\r\n") : 0;
    bool cut = error && error[error_length] != 0;
    fprintf (out, "%s.%03d  %-10s #%-3" PRIu64 " %-10s -> %-10s attempt %u  %s%s%s%s%.*s%s\n", when,
             (int)(transition->ts % 1000), transition->job, transition->seq,
             transition->from ? jobd_state_name (transition->from) : "(new)",
             jobd_state_name (transition->state), transition->attempt,
             transition->source ? transition->source : "", transition->name ? "  " : "",
             transition->name ? transition->name : "", error ? label : "", error_length,
             error ? error : "", cut ? " [...]" : "");
}

void
jobctl_print_stale (FILE *out, const jobd_event_t *stale)
{
    char when[32], heard[32];
    jobctl_format_time (stale->ts, when, sizeof when);
    jobctl_format_time (stale->last_seen, heard, sizeof heard);
    int64_t silent = stale->ts - stale->last_seen;
    fprintf (out,
             "%s.%03d  %-10s STALE: still %s, silent for %lld.%01lld s (last heard %s)  %s%s%s\n",
             when, (int)(stale->ts % 1000), stale->job, jobd_state_name (stale->state),
             (long long)(silent / 1000), (long long)(silent % 1000 / 100), heard,
             stale->source ? stale->source : "", stale->error ? "  " : "",
             stale->error ? stale->error : "");
}

void
jobctl_print_cancel_failed (FILE *out, const jobd_event_t *failed)
{
    char when[32];
    jobctl_format_time (failed->ts, when, sizeof when);
    fprintf (out, "%s.%03d  %-10s CANCEL %s at backend %s: %s  %s\n", when,
             (int)(failed->ts % 1000), failed->job, failed->status,
             failed->backend ? failed->backend : "?", failed->error ? failed->error : "",
             failed->source ? failed->source : "");
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
    return s_json_via_msgpack ((int (*) (const void *, msgpack_packer *))jobd_job_pack, job);
}

json_t *
jobctl_json_from_event (const jobd_event_t *event)
{
    return s_json_via_msgpack ((int (*) (const void *, msgpack_packer *))jobd_event_pack, event);
}
