//  jobctl: the admin CLI of jobd. Submits, tracks, lists, shows, cancels, retries and watches
//  jobs through jobd's admin and events endpoints, or reads the store when jobd is down.
#include "jobctl_client.h"
#include "jobctl_print.h"
#include "jobd_answer.h"
#include "jobd_reply.h"
#include "jobd_request.h"
#include "jobd_config.h"
#include "jobd_cert.h"
#include "jobd_plugin.h"
#include "jobd_store.h"
#include "jobd_store_verify.h"
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>

//  Exit codes, as --help says.
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
    EXIT_NOTFOUND = 4,
    EXIT_REFUSED = 5, //  cancel --wait: the backend refused the kill, or it did not take effect
    EXIT_ENDED = 6,   //  cancel --wait: the job ended otherwise (SUCCEEDED, FAILED, LOST)
    EXIT_WAIT_TIMEOUT = 7, //  cancel --wait: no outcome before the timeout
    EXIT_DAMAGED = 8,      //  the store read while jobd is down is damaged
    EXIT_DENIED = 9        //  the admin socket is not open to this user
};

typedef struct {
    char admin[1100];
    char events[1100];
    const char *store;
    int timeout_ms;
    bool json;
    //  Command options.
    const char *state;
    const char *kind;
    const char *backend;
    const char *name;
    const char *job;
    const char *error;
    uint64_t limit;
    long count;
    bool wait;           //  cancel --wait
    bool now;            //  retry --now: the next attempt at once
    bool stop;           //  retry --cancel (or --stop): its pending retry stopped
    const char *timeout; //  --timeout as given: ms for jobd, seconds for cancel --wait
} s_options_t;

static const char *s_usage_text =
    "Usage: jobctl [GLOBAL OPTIONS] COMMAND [ARGS]\n"
    "Talks to jobd. Commands:\n"
    "  submit FILE|-              submit a job from a JSON spec; prints the new job id;\n"
    "                             a spec its kind's plugin refuses, or a kind no\n"
    "                             running plugin takes, exits 1 with the reason\n"
    "  track EXT --kind K --backend B [--name N] [--state S]\n"
    "                             follow a job that already runs at a backend\n"
    "  ls [--state S[,S]] [--kind K] [--name TEXT] [--limit N]\n"
    "                             list jobs (reads the store when jobd is down); CAUSE\n"
    "                             says when a RETRY_WAIT job's retry is due, and \"no\n"
    "                             retry\" of a FAILED job no retry follows\n"
    "  show ID                    a job, its whole history and every attempt (why it\n"
    "                             ended, the retry planned after it, the next retry);\n"
    "                             the store when jobd is down\n"
    "  cancel ID [--wait] [--timeout T]\n"
    "                             cancel a job (at its backend when it runs there); --wait\n"
    "                             waits until the backend confirms (CANCELLED) or refuses,\n"
    "                             the job ends otherwise, or T passes (default 2m)\n"
    "  retry ID [--now | --cancel]\n"
    "                             run a FAILED or LOST job again (attempt + 1): when the\n"
    "                             retry plugin runs, after its policy's wait (jobctl show\n"
    "                             says when), else at once; --now skips any wait (also a\n"
    "                             RETRY_WAIT job's); --cancel (or --stop) stops a RETRY_WAIT\n"
    "                             job's pending retry: it stays FAILED, for good\n"
    "  observe ID STATE [--error TEXT]\n"
    "                             report a state seen outside jobd (goes through the state "
    "machine)\n"
    "  watch [--state S[,S]] [--job ID] [--count N]\n"
    "                             print transitions as they are committed (and stale\n"
    "                             jobs, refused kills and final failures, without --state)\n"
    "  plugins                    loaded plugins, their versions and status\n"
    "  stats                      jobs by state, and the broker's counters (jobs by state\n"
    "                             from the store when jobd is down)\n"
    "  cursors [drop NAME]        readers of the transition log (plugins): where each is, how\n"
    "                             far behind, since when; drop removes one (it stops holding\n"
    "                             the log)\n"
    "  keygen FILE                make a CURVE key pair: FILE (secret, 0600) and FILE.pub\n"
    "                             (copy it into jobd's core/curve_clients folder)\n"
    "Global options:\n"
    "  --run-dir DIR    jobd's run folder (default $JOBD_CORE_RUN_DIR or ./jobd-run)\n"
    "  --admin EP       admin endpoint (default ipc://RUN_DIR/admin.sock)\n"
    "  --events EP      events endpoint (default ipc://RUN_DIR/events.sock)\n"
    "  --store DIR      store folder for reads when jobd is down (default $JOBD_CORE_STORE\n"
    "                   or ./jobd-data)\n"
    "  --timeout T      how long to wait for jobd (default 5000: a bare number is ms; 30s,\n"
    "                   2m); with cancel --wait: how long to wait for the outcome\n"
    "  -c, --config F   read defaults for the options below from F (ZPL, section\n"
    "                   jobctl: admin, events, curve_key, server_key; default\n"
    "                   $JOBCTL_CONFIG); options and environment win over it\n"
    "  --curve-key F    our secret key (jobctl keygen) for tcp:// endpoints, which jobd\n"
    "                   serves with CURVE (default $JOBCTL_CURVE_KEY)\n"
    "  --server-key F   jobd's public key, the KEY.pub of jobd --keygen (default\n"
    "                   $JOBCTL_SERVER_KEY)\n"
    "  --json           JSON output (one value, or JSON lines for watch)\n"
    "  -h, --help       this help (also: jobctl COMMAND --help)\n"
    "  -V, --version    the version\n"
    "Exit codes: 0 done (cancel --wait: the job is CANCELLED), 1 jobd refused the request\n"
    "  (or our CURVE key, or the output could not be written), 2 usage, 3 jobd unreachable, 4\n"
    "  not found; cancel --wait only: 5 the backend refused the kill or it did not take effect\n"
    "  (the reason is on stderr and in jobctl show), 6 the job ended otherwise (SUCCEEDED,\n"
    "  FAILED, LOST), 7 no outcome before the timeout; 8 the store read while jobd is down is\n"
    "  damaged (see jobd --verify); 9 permission denied (the admin socket is not open to this\n"
    "  user).\n";

static int s_fail (int code, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_fail (int code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fputs ("jobctl: ", stderr);
    vfprintf (stderr, format, args);
    fputc ('\n', stderr);
    va_end (args);
    return code;
}

static const char *
s_env_or (const char *name, const char *fallback)
{
    const char *value = getenv (name);
    return value && *value ? value : fallback;
}

//  jobctl's config file (--config): section "jobctl".
static const jobd_conf_key_t s_config_map[] = {
    {"admin", JOBD_CONF_STRING, "", "admin endpoint"},
    {"events", JOBD_CONF_STRING, "", "events endpoint"},
    {"curve_key", JOBD_CONF_STRING, "", "our secret CURVE key (jobctl keygen)"},
    {"server_key", JOBD_CONF_STRING, "", "jobd's public CURVE key (KEY.pub of jobd --keygen)"},
    {NULL, 0, NULL, NULL}};

//  The config's value of key when set and when current is NULL (not given otherwise).
static const char *
s_config_or (jobd_config_t *config, const char *key, const char *current)
{
    const char *value = jobd_config_str (config, "jobctl", key);
    return current || !value || !*value ? current : value;
}

//  A query, packed (jobd_request_pack).
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer pk;
} s_request_t;

//  Sends a request and handles the common failures. Returns an exit code; EXIT_OK with *reply
//  filled (destroy it) when jobd said ok. A refusal is said on stderr, but one with ESTATE when
//  quiet_estate: the caller says it better.
static int
s_call_ex (const s_options_t *options, msgpack_sbuffer *request, msgpack_unpacked *reply,
           bool quiet_estate)
{
    char reason[512];
    msgpack_unpacked_init (reply);
    int rc =
        jobctl_request (options->admin, options->timeout_ms, request, reply, reason, sizeof reason);
    if (rc == JOBCTL_EUNREACHABLE)
        return s_fail (EXIT_UNREACHABLE, "%s", reason);
    if (rc == JOBCTL_EREFUSED)
        return s_fail (EXIT_FAILED, "%s", reason);
    if (rc == JOBCTL_EACCES)
        return s_fail (EXIT_DENIED, "%s", reason);
    if (rc)
        return s_fail (EXIT_FAILED, "%s", reason);
    if (!jobctl_reply_ok (&reply->data, reason, sizeof reason)) {
        jobd_reply_t read;
        jobd_reply_read (&reply->data, &read, NULL, 0);
        if (quiet_estate && read.rc == JOBD_ESTATE)
            return EXIT_FAILED;
        return s_fail (read.rc == JOBD_ENOTFOUND ? EXIT_NOTFOUND : EXIT_FAILED, "%s", reason);
    }
    return EXIT_OK;
}

static int
s_call (const s_options_t *options, msgpack_sbuffer *request, msgpack_unpacked *reply)
{
    return s_call_ex (options, request, reply, false);
}

//  Sends one event built by the caller. Returns an exit code (a refusal said on stderr, but
//  ESTATE when quiet_estate), and reads the reply into *read: with EXIT_OK its job and outcome,
//  with a refusal its rc and reason. With --json, *json_p is the reply as JSON (fresh) when
//  there was one.
static int
s_event_call (const s_options_t *options, jobd_event_t *event, bool quiet_estate,
              jobd_reply_t *read, json_t **json_p)
{
    jobd_event_set (&event->source, "jobctl");
    event->reply = true;
    uint8_t *data = NULL;
    size_t size = 0;
    char reason[512];
    memset (read, 0, sizeof *read);
    *json_p = NULL;
    if (jobd_event_encode (event, &data, &size, reason, sizeof reason))
        return s_fail (EXIT_USAGE, "%s", reason);
    msgpack_sbuffer request = {.data = (char *)data, .size = size, .alloc = size};
    msgpack_unpacked reply;
    int code = s_call_ex (options, &request, &reply, quiet_estate);
    free (data);
    jobd_reply_read (&reply.data, read, NULL, 0);
    if (code == EXIT_OK && options->json)
        *json_p = jobctl_json_from_msgpack (&reply.data);
    msgpack_unpacked_destroy (&reply);
    return code;
}

//  Prints json (consumed) for --json. Returns an exit code.
static int
s_print_json_reply (json_t *json)
{
    int code = jobctl_print_json (stdout, json) ? EXIT_FAILED : EXIT_OK;
    json_decref (json);
    return code;
}

//  Sends one event built by the caller; prints the job id (or the reply as JSON).
static int
s_send_event (const s_options_t *options, jobd_event_t *event, bool print_job)
{
    jobd_reply_t read;
    json_t *json;
    int code = s_event_call (options, event, false, &read, &json);
    if (code != EXIT_OK)
        return code;
    const char *job = read.job, *outcome = read.outcome;
    if (options->json)
        code = s_print_json_reply (json);
    else if (print_job)
        printf ("%s\n", job);
    else if (strcmp (outcome, "changed") && strcmp (outcome, "forwarded"))
        printf ("%s: nothing to do (%s)\n", job, outcome);
    else
        printf ("%s: %s\n", job,
                strcmp (outcome, "forwarded") ? "done" : "cancel sent to its backend");
    return code;
}

static int
s_cmd_submit (const s_options_t *options, int argc, char **argv)
{
    if (argc != 1)
        return s_fail (EXIT_USAGE, "usage: jobctl submit FILE|- (a JSON object)");
    json_error_t error;
    json_t *spec = strcmp (argv[0], "-") == 0 ? json_loadf (stdin, 0, &error)
                                              : json_load_file (argv[0], 0, &error);
    if (!spec)
        return s_fail (EXIT_USAGE, "%s:%d: %s", argv[0], error.line, error.text);
    if (!json_is_object (spec)) {
        json_decref (spec);
        return s_fail (EXIT_USAGE, "%s: the spec must be a JSON object", argv[0]);
    }
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_SUBMIT);
    const char *kind =
        options->kind ? options->kind : json_string_value (json_object_get (spec, "kind"));
    const char *name =
        options->name ? options->name : json_string_value (json_object_get (spec, "name"));
    const char *backend =
        options->backend ? options->backend : json_string_value (json_object_get (spec, "backend"));
    jobd_event_set (&event->kind, kind ? kind : "spark");
    jobd_event_set (&event->name, name);
    jobd_event_set (&event->backend, backend);
    char *text = json_dumps (spec, JSON_COMPACT);
    jobd_event_set (&event->spec, text);
    free (text);
    json_decref (spec);
    int code = s_send_event (options, event, true);
    jobd_event_destroy (&event);
    return code;
}

static int
s_parse_state (const char *name, jobd_state_t *state_p)
{
    return jobd_state_parse (name, strlen (name), state_p);
}

static int
s_cmd_track (const s_options_t *options, int argc, char **argv)
{
    if (argc != 1 || !options->kind || !options->backend)
        return s_fail (EXIT_USAGE,
                       "usage: jobctl track EXT --kind K --backend B [--name N] [--state S]");
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&event->ext, argv[0]);
    jobd_event_set (&event->kind, options->kind);
    jobd_event_set (&event->backend, options->backend);
    jobd_event_set (&event->name, options->name);
    if (options->state && s_parse_state (options->state, &event->state)) {
        jobd_event_destroy (&event);
        return s_fail (EXIT_USAGE, "unknown state '%s'", options->state);
    }
    int code = s_send_event (options, event, true);
    jobd_event_destroy (&event);
    return code;
}

static int
s_cmd_job_command (const s_options_t *options, int argc, char **argv, jobd_event_type_t type)
{
    if (argc != 1)
        return s_fail (EXIT_USAGE, "usage: jobctl %s ID", jobd_event_type_name (type));
    jobd_event_t *event = jobd_event_new (type);
    jobd_event_set (&event->job, argv[0]);
    int code = s_send_event (options, event, false);
    jobd_event_destroy (&event);
    return code;
}

//  Parses a --timeout value: digits and an optional unit (ms, s, m); a bare number is in ms.
//  Returns ms, or -1 when it is not such a value.
static int64_t
s_duration_ms (const char *text)
{
    char *end;
    long long value = strtoll (text, &end, 10);
    if (end == text || value < 0 || value > 86400000LL)
        return -1;
    if (*end == 0)
        return value;
    if (strcmp (end, "ms") == 0)
        return value;
    if (strcmp (end, "s") == 0)
        return value * 1000;
    if (strcmp (end, "m") == 0)
        return value * 60000;
    return -1;
}

//  What one event says of a cancel being waited for: -1 nothing yet, else an exit code.
static int
s_cancel_outcome (const jobd_event_t *event, const char *job, bool json)
{
    if (!event->job || strcmp (event->job, job) != 0)
        return -1;
    if (json) {
        json_t *value = jobctl_json_from_event (event);
        jobctl_print_json (stdout, value);
        json_decref (value);
    }
    if (event->type == JOBD_EVENT_CANCEL_FAILED) {
        bool over = strcmp (event->status, "retrying") != 0;
        fprintf (stderr, "jobctl: %s: the kill %s at backend %s: %s\n", job,
                 !over                                    ? "did not work yet, trying again"
                 : strcmp (event->status, "refused") == 0 ? "was refused"
                                                          : "did not take effect",
                 event->backend ? event->backend : "?", event->error ? event->error : "");
        return over ? EXIT_REFUSED : -1;
    }
    if (event->type != JOBD_EVENT_TRANSITION)
        return -1;
    if (event->state == JOBD_STATE_CANCELLED) {
        if (!json)
            printf ("%s: CANCELLED\n", job);
        return EXIT_OK;
    }
    if (jobd_state_is_final (event->state) || event->state == JOBD_STATE_LOST) {
        fprintf (stderr, "jobctl: %s: ended %s before its kill took effect%s%s\n", job,
                 jobd_state_name (event->state), event->error ? ": " : "",
                 event->cause   ? event->cause
                 : event->error ? event->error
                                : "");
        return EXIT_ENDED;
    }
    return -1;
}

//  cancel --wait: subscribes first (nothing published after the cancel can be missed), sends the
//  cancel, then waits for its outcome on the events endpoint, up to the deadline.
static int
s_cancel_wait (const s_options_t *options, const char *job)
{
    //  --timeout reads as everywhere else (a bare number is ms; 30s, 2m); without it, 2 minutes.
    int64_t wait_ms = options->timeout ? options->timeout_ms : 120000;
    zsock_t *sub = zsock_new (ZMQ_SUB);
    if (jobctl_connect (sub, options->events)) {
        zsock_destroy (&sub);
        return s_fail (EXIT_USAGE, "invalid events endpoint %s", options->events);
    }
    char topic[JOBD_ID_MAX + 32];
    snprintf (topic, sizeof topic, "cancel.failed.%s", job);
    zsock_set_subscribe (sub, topic);
    //  This job's transitions only (a prefix: job-4 also gets job-42's, told apart by the id).
    for (int state = JOBD_STATE_QUEUED; state < JOBD_STATE_COUNT; state++) {
        snprintf (topic, sizeof topic, "job.%s.%s", jobd_state_name ((jobd_state_t)state), job);
        zsock_set_subscribe (sub, topic);
    }
    zsock_set_subscribe (sub, JOBD_WELCOME_TOPIC);
    zpoller_t *poller = zpoller_new (sub, NULL);
    int64_t deadline = zclock_mono () + 5000;
    bool welcomed = false;
    while (!welcomed && zclock_mono () < deadline && !zsys_interrupted) {
        if (zpoller_wait (poller, (int)(deadline - zclock_mono ())) != sub)
            continue;
        zmsg_t *msg = zmsg_recv (sub);
        welcomed = msg && zframe_streq (zmsg_first (msg), JOBD_WELCOME_TOPIC);
        zmsg_destroy (&msg);
    }
    int code = -1;
    if (!welcomed)
        code = s_fail (EXIT_UNREACHABLE, "no answer on the events endpoint %s", options->events);
    if (code < 0) {
        //  --timeout is the wait's here: jobd itself gets its usual time to answer.
        s_options_t request = *options;
        request.timeout_ms = 5000;
        jobd_event_t *event = jobd_event_new (JOBD_EVENT_CANCEL);
        jobd_event_set (&event->job, job);
        code = s_send_event (&request, event, false);
        jobd_event_destroy (&event);
        code = code == EXIT_OK ? -1 : code;
    }
    deadline = zclock_mono () + wait_ms;
    while (code < 0 && !zsys_interrupted) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        if (zpoller_wait (poller, (int)(left < 1000 ? left : 1000)) != sub)
            continue;
        zmsg_t *msg = zmsg_recv (sub);
        zframe_t *payload = msg && zmsg_size (msg) == 2 ? zmsg_last (msg) : NULL;
        jobd_event_t *event = NULL;
        if (payload &&
            jobd_event_decode (zframe_data (payload), zframe_size (payload), &event, NULL, 0) == 0)
            code = s_cancel_outcome (event, job, options->json);
        jobd_event_destroy (&event);
        zmsg_destroy (&msg);
    }
    if (code < 0)
        code = s_fail (EXIT_WAIT_TIMEOUT,
                       "%s: no word from its backend within %.1f s (the kill may still be under "
                       "way: jobctl show %s)",
                       job, (double)wait_ms / 1000, job);
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    return code;
}

static int
s_cmd_cancel (const s_options_t *options, int argc, char **argv)
{
    if (argc != 1)
        return s_fail (EXIT_USAGE, "usage: jobctl cancel ID [--wait] [--timeout T]");
    if (!options->wait)
        return s_cmd_job_command (options, argc, argv, JOBD_EVENT_CANCEL);
    return s_cancel_wait (options, argv[0]);
}

static int
s_cmd_observe (const s_options_t *options, int argc, char **argv)
{
    jobd_state_t state;
    if (argc != 2)
        return s_fail (EXIT_USAGE, "usage: jobctl observe ID STATE [--error TEXT]");
    if (s_parse_state (argv[1], &state))
        return s_fail (EXIT_USAGE,
                       "unknown state '%s' (QUEUED, SUBMITTED, RUNNING, SUCCEEDED, "
                       "FAILED, CANCELLED, RETRY_WAIT, UNKNOWN, LOST)",
                       argv[1]);
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_OBSERVED);
    jobd_event_set (&event->job, argv[0]);
    jobd_event_set (&event->error, options->error);
    event->state = state;
    int code = s_send_event (options, event, false);
    jobd_event_destroy (&event);
    return code;
}

//  ls and show when jobd is down: the store, read-only.
typedef struct {
    const s_options_t *options;
    json_t *array;
    uint64_t count;
    bool failed; //  a record could not be added to the array (out of memory)
} s_ls_t;

static bool
s_ls_print (const jobd_job_t *job, void *arg)
{
    s_ls_t *ls = (s_ls_t *)arg;
    const s_options_t *options = ls->options;
    if ((options->kind && strcmp (job->kind, options->kind)) ||
        (options->name && (!job->name || !strstr (job->name, options->name))))
        return true;
    if (ls->count++ == options->limit)
        return false;
    if (options->json)
        ls->failed = !ls->array || json_array_append_new (ls->array, jobctl_json_from_job (job)) ||
                     ls->failed;
    else
        jobctl_print_job_row (stdout, job);
    return true;
}

//  Prints ls's array, when it makes one. Returns an exit code.
static int
s_print_array (s_ls_t *ls)
{
    if (!ls->options->json)
        return EXIT_OK;
    int code = ls->failed || !ls->array ? s_fail (EXIT_FAILED, "out of memory listing the jobs")
               : jobctl_print_json (stdout, ls->array) ? EXIT_FAILED
                                                       : EXIT_OK;
    json_decref (ls->array);
    ls->array = NULL;
    return code;
}

static uint32_t
s_state_mask (const char *states, bool *ok)
{
    uint32_t mask = 0;
    char buffer[256];
    snprintf (buffer, sizeof buffer, "%s", states ? states : "");
    char *save = NULL;
    *ok = true;
    for (char *name = strtok_r (buffer, ",", &save); name; name = strtok_r (NULL, ",", &save)) {
        jobd_state_t state;
        if (s_parse_state (name, &state))
            *ok = false;
        mask |= 1u << state;
    }
    return mask;
}

//  A read of the store found damage: says so, with what to do.
static int
s_damaged (const s_options_t *options, const char *what)
{
    return s_fail (EXIT_DAMAGED,
                   "the store %s is damaged: %s. Run `jobd --verify` for the whole check and "
                   "restore the last backup (store/README.md, \"Backup and restore\")",
                   options->store, what);
}

static int
s_open_store (const s_options_t *options, jobd_store_t **store_p)
{
    char reason[512];
    //  LMDB trusts its pages, and a damaged one crashes it: walk them first.
    jobd_verify_report_t report = {0};
    int checked = jobd_store_verify_structure (options->store, &report);
    if (checked == JOBD_ECORRUPT) {
        char what[1100], page[32] = "";
        if (report.page != UINT64_MAX)
            snprintf (page, sizeof page, "page %llu, ", (unsigned long long)report.page);
        snprintf (what, sizeof what, "%s (%sdatabase '%s')", report.problem, page, report.database);
        return s_damaged (options, what);
    }
    int rc = jobd_store_open (options->store, JOBD_STORE_RDONLY, 0, store_p, reason, sizeof reason);
    if (rc)
        return s_fail (EXIT_UNREACHABLE, "jobd is not reachable and the store cannot be read: %s",
                       reason);
    fprintf (stderr, "jobctl: jobd is not reachable; reading the store %s directly\n",
             options->store);
    return EXIT_OK;
}

static int
s_ls_from_store (const s_options_t *options)
{
    bool ok;
    uint32_t mask = s_state_mask (options->state, &ok);
    jobd_store_t *store = NULL;
    int code = s_open_store (options, &store);
    if (code)
        return code;
    s_ls_t ls = {options, options->json ? json_array () : NULL, 0, false};
    if (!options->json)
        jobctl_print_job_header (stdout);
    int rc = jobd_store_scan (store, mask, s_ls_print, &ls);
    code = s_print_array (&ls);
    jobd_store_destroy (&store);
    if (rc == JOBD_ECORRUPT)
        return s_damaged (options, "a job record or index entry does not read");
    return rc ? s_fail (EXIT_FAILED, "reading the store: %s", jobd_strerror (rc)) : code;
}

//  Prints a reply's "jobs" array.
static int
s_print_jobs (const s_options_t *options, const msgpack_object *reply)
{
    const msgpack_object *jobs = NULL;
    bool truncated = false;
    if (jobd_answer_read_ls (reply, &jobs, &truncated))
        return s_fail (EXIT_FAILED, "reply without a jobs list");
    s_ls_t ls = {options, options->json ? json_array () : NULL, 0, false};
    if (!options->json)
        jobctl_print_job_header (stdout);
    for (uint32_t index = 0; index < jobs->via.array.size; index++) {
        jobd_job_t *job = NULL;
        char reason[256];
        if (jobd_job_from_object (&jobs->via.array.ptr[index], &job, reason, sizeof reason) == 0)
            s_ls_print (job, &ls);
        else
            fprintf (stderr, "jobctl: skipping a job record: %s\n", reason);
        jobd_job_destroy (&job);
    }
    int code = s_print_array (&ls);
    if (truncated)
        fprintf (stderr,
                 "jobctl: list truncated at %" PRIu64 " jobs (use --limit; jobd answers at most "
                 "10000 a query: narrow it with --state, --kind or --name)\n",
                 ls.count);
    return code;
}

//  Packs query (its id is "jobctl") into a fresh request.
static void
s_query_pack (s_request_t *request, jobd_request_t query)
{
    msgpack_sbuffer_init (&request->buffer);
    msgpack_packer_init (&request->pk, &request->buffer, msgpack_sbuffer_write);
    query.id = "jobctl";
    jobd_request_pack (&query, &request->pk);
}

static int
s_cmd_ls (const s_options_t *options, int argc, char **argv)
{
    bool ok;
    s_state_mask (options->state, &ok);
    if (argc != 0 || !ok)
        return s_fail (EXIT_USAGE,
                       "usage: jobctl ls [--state S[,S]] [--kind K] [--name TEXT] [--limit N]");
    s_request_t request;
    s_query_pack (&request, (jobd_request_t){.q = "ls",
                                             .state = options->state,
                                             .kind = options->kind,
                                             .name = options->name,
                                             .has_limit = true,
                                             .limit = options->limit});
    msgpack_unpacked reply;
    int code = s_call (options, &request.buffer, &reply);
    if (code == EXIT_OK)
        code = s_print_jobs (options, &reply.data);
    msgpack_unpacked_destroy (&reply);
    msgpack_sbuffer_destroy (&request.buffer);
    if (code == EXIT_UNREACHABLE)
        return s_ls_from_store (options);
    return code;
}

//  Returns an exit code.
static int
s_print_show (const s_options_t *options, const jobd_job_t *job, jobd_event_t **history,
              size_t count)
{
    if (options->json) {
        json_t *json = json_object ();
        json_t *array = json_array ();
        bool failed =
            !json || !array || json_object_set_new (json, "job", jobctl_json_from_job (job));
        for (size_t index = 0; !failed && index < count; index++)
            failed = json_array_append_new (array, jobctl_json_from_event (history[index]));
        failed = failed || json_object_set (json, "history", array);
        int code = failed                             ? s_fail (EXIT_FAILED, "out of memory")
                   : jobctl_print_json (stdout, json) ? EXIT_FAILED
                                                      : EXIT_OK;
        json_decref (array);
        json_decref (json);
        return code;
    }
    jobctl_print_job (stdout, job);
    printf ("history:\n");
    jobctl_print_history (stdout, history, count);
    jobctl_print_attempts (stdout, job, history, count, jobd_now_ms ());
    return EXIT_OK;
}

static int
s_show_from_store (const s_options_t *options, const char *id)
{
    jobd_store_t *store = NULL;
    int code = s_open_store (options, &store);
    if (code)
        return code;
    jobd_job_t *job = NULL;
    jobd_event_t **history = NULL;
    size_t count = 0;
    int rc = jobd_store_job_get (store, id, &job);
    if (rc == 0)
        rc = jobd_store_history (store, id, &history, &count);
    if (rc == 0)
        code = s_print_show (options, job, history, count);
    else if (rc == JOBD_ECORRUPT) {
        char what[128];
        snprintf (what, sizeof what, "job '%s' or its history does not read", id);
        code = s_damaged (options, what);
    } else
        code = s_fail (rc == JOBD_ENOTFOUND ? EXIT_NOTFOUND : EXIT_FAILED, "job '%s': %s", id,
                       jobd_strerror (rc));
    jobd_job_destroy (&job);
    jobd_store_history_free (&history, count);
    jobd_store_destroy (&store);
    return code;
}

//  Asks jobd for a job and its history. Returns an exit code; with EXIT_OK, *job_p (fresh) and
//  *history_p (fresh, *count_p transitions: jobd_store_history_free) are filled, and *skipped_p
//  says how many earlier transitions jobd left out.
static int
s_show_fetch (const s_options_t *options, const char *id, jobd_job_t **job_p,
              jobd_event_t ***history_p, size_t *count_p, uint64_t *skipped_p)
{
    s_request_t request;
    s_query_pack (&request, (jobd_request_t){.q = "show", .job = id});
    msgpack_unpacked reply;
    int code = s_call (options, &request.buffer, &reply);
    msgpack_sbuffer_destroy (&request.buffer);
    char reason[256];
    const msgpack_object *history = NULL;
    if (code == EXIT_OK &&
        jobd_answer_read_show (&reply.data, job_p, &history, skipped_p, reason, sizeof reason))
        code = s_fail (EXIT_FAILED, "malformed reply: %s", reason);
    if (code == EXIT_OK) {
        size_t count = history->via.array.size;
        jobd_event_t **events = (jobd_event_t **)calloc (count + 1, sizeof (jobd_event_t *));
        size_t decoded = 0;
        for (size_t index = 0; events && index < count; index++)
            if (jobd_event_from_object (&history->via.array.ptr[index], &events[decoded], reason,
                                        sizeof reason) == 0)
                decoded++;
            else
                fprintf (stderr, "jobctl: skipping history entry %zu: %s\n", index + 1, reason);
        *history_p = events;
        *count_p = decoded;
        if (!events)
            code = s_fail (EXIT_FAILED, "out of memory");
    }
    msgpack_unpacked_destroy (&reply);
    return code;
}

//  retry: asks for the job's next attempt (plain: by the retry plugin's policy when it runs;
//  --now: at once; --cancel: stops its pending retry), then says what came of it from the job's
//  history: the transitions since the last one seen before asking.
static int
s_cmd_retry (const s_options_t *options, int argc, char **argv)
{
    if (argc != 1 || (options->now && options->stop))
        return s_fail (EXIT_USAGE, "usage: jobctl retry ID [--now | --cancel]");
    const char *id = argv[0];
    jobd_job_t *job = NULL;
    jobd_event_t **history = NULL;
    size_t count = 0;
    uint64_t skipped = 0;
    int code = s_show_fetch (options, id, &job, &history, &count, &skipped);
    uint64_t before = job ? job->last_seq : 0;
    jobd_job_destroy (&job);
    jobd_store_history_free (&history, count);
    if (code != EXIT_OK)
        return code;
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_RETRY);
    jobd_event_set (&event->job, id);
    event->now = options->now;
    event->stop = options->stop;
    jobd_reply_t read;
    json_t *json;
    code = s_event_call (options, event, true, &read, &json);
    jobd_event_destroy (&event);
    if (code == EXIT_OK && options->json)
        return s_print_json_reply (json);
    bool refused = code == EXIT_FAILED && read.rc == JOBD_ESTATE;
    if (code != EXIT_OK && !refused)
        return code;
    //  Read back: the transitions it made, or the state that refused it.
    count = 0;
    int read_back = s_show_fetch (options, id, &job, &history, &count, &skipped);
    if (refused && read_back == EXIT_OK)
        jobctl_print_retry_refused (stderr, job, read.reason, options->stop, jobd_now_ms ());
    else if (refused)
        s_fail (EXIT_FAILED, "%s: %s", id, read.reason);
    else {
        jobctl_print_retry_outcome (stdout, read.job[0] ? read.job : id, read.outcome, history,
                                    read_back == EXIT_OK ? count : 0, before);
        if (options->stop && job && job->retry_final)
            printf ("%s: no retry: %s\n", id, job->retry_final);
    }
    jobd_job_destroy (&job);
    jobd_store_history_free (&history, count);
    return code;
}

static int
s_cmd_show (const s_options_t *options, int argc, char **argv)
{
    if (argc != 1)
        return s_fail (EXIT_USAGE, "usage: jobctl show ID");
    jobd_job_t *job = NULL;
    jobd_event_t **history = NULL;
    size_t count = 0;
    uint64_t skipped = 0;
    int code = s_show_fetch (options, argv[0], &job, &history, &count, &skipped);
    if (code == EXIT_OK) {
        if (skipped)
            fprintf (stderr, "jobctl: %" PRIu64 " earlier transitions not shown\n", skipped);
        code = s_print_show (options, job, history, count);
    }
    jobd_job_destroy (&job);
    jobd_store_history_free (&history, count);
    if (code == EXIT_UNREACHABLE)
        return s_show_from_store (options, argv[0]);
    return code;
}

//  stats when jobd is down: the jobs by state, from the store.
static int
s_stats_from_store (const s_options_t *options)
{
    jobd_store_t *store = NULL;
    int code = s_open_store (options, &store);
    if (code)
        return code;
    uint64_t counts[JOBD_STATE_COUNT] = {0};
    int rc = jobd_store_counts (store, counts);
    jobd_store_destroy (&store);
    if (rc == JOBD_ECORRUPT)
        return s_damaged (options, "the state index does not read");
    if (rc)
        return s_fail (EXIT_FAILED, "reading the store: %s", jobd_strerror (rc));
    json_t *json = json_object (), *by_state = json_object ();
    for (int state = JOBD_STATE_QUEUED; state < JOBD_STATE_COUNT; state++)
        json_object_set_new (by_state, jobd_state_name ((jobd_state_t)state),
                             json_integer ((json_int_t)counts[state]));
    json_object_set_new (json, "counts", by_state);
    if (options->json)
        jobctl_print_json (stdout, json);
    else {
        const char *key;
        json_t *value;
        printf ("jobs by state:\n");
        json_object_foreach (by_state, key, value)
            printf ("  %-12s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value (value));
    }
    json_decref (json);
    return EXIT_OK;
}

//  Sends a query (consumed) and hands back its reply as JSON (*json_p, fresh). Returns an exit
//  code.
static int
s_query_json (const s_options_t *options, s_request_t *request, json_t **json_p)
{
    msgpack_unpacked reply;
    int code = s_call (options, &request->buffer, &reply);
    msgpack_sbuffer_destroy (&request->buffer);
    if (code == EXIT_OK)
        *json_p = jobctl_json_from_msgpack (&reply.data);
    msgpack_unpacked_destroy (&reply);
    return code;
}

static int
s_cmd_query_print (const s_options_t *options, int argc, const char *what)
{
    if (argc != 0)
        return s_fail (EXIT_USAGE, "usage: jobctl %s", what);
    s_request_t request;
    s_query_pack (&request, (jobd_request_t){.q = what});
    json_t *json = NULL;
    int code = s_query_json (options, &request, &json);
    if (code == EXIT_UNREACHABLE && strcmp (what, "stats") == 0)
        return s_stats_from_store (options);
    if (code)
        return code;
    int printed = EXIT_OK;
    if (options->json)
        printed = jobctl_print_json (stdout, json) ? EXIT_FAILED : EXIT_OK;
    else if (strcmp (what, "plugins") == 0) {
        printf ("%-16s %-10s %-10s %s\n", "NAME", "VERSION", "STATUS", "DETAIL");
        size_t index;
        json_t *plugin;
        json_array_foreach (json_object_get (json, "plugins"), index, plugin)
            printf ("%-16s %-10s %-10s %s\n", json_string_value (json_object_get (plugin, "name")),
                    json_string_value (json_object_get (plugin, "version")),
                    json_string_value (json_object_get (plugin, "status")),
                    json_string_value (json_object_get (plugin, "detail")));
    } else {
        const char *key;
        json_t *value;
        printf ("jobs by state:\n");
        json_object_foreach (json_object_get (json, "counts"), key, value)
            printf ("  %-12s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value (value));
        printf ("broker:\n");
        json_object_foreach (json_object_get (json, "broker"), key, value)
            printf ("  %-16s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value (value));
    }
    json_decref (json);
    return printed;
}

//  cursors: the list; cursors drop NAME: remove one.
static int
s_cmd_cursors (const s_options_t *options, int argc, char **argv)
{
    bool drop = argc == 2 && strcmp (argv[0], "drop") == 0;
    if (argc != 0 && !drop)
        return s_fail (EXIT_USAGE, "usage: jobctl cursors [drop NAME]");
    s_request_t request;
    s_query_pack (&request, (jobd_request_t){.q = drop ? "drop_cursor" : "cursors",
                                             .name = drop ? argv[1] : NULL});
    json_t *json = NULL;
    int code = s_query_json (options, &request, &json);
    if (code)
        return code;
    int printed = EXIT_OK;
    if (options->json)
        printed = jobctl_print_json (stdout, json) ? EXIT_FAILED : EXIT_OK;
    else if (drop)
        printf ("cursor %s removed\n", argv[1]);
    else {
        int64_t now = jobd_now_ms ();
        printf ("%-24s %12s %10s %s\n", "NAME", "POSITION", "BEHIND", "MOVED");
        size_t index;
        json_t *cursor;
        json_array_foreach (json_object_get (json, "cursors"), index, cursor)
        {
            json_int_t moved = json_integer_value (json_object_get (cursor, "moved_at"));
            char ago[32] = "unknown";
            if (moved > 0)
                snprintf (ago, sizeof ago, "%" JSON_INTEGER_FORMAT " s ago",
                          (json_int_t)(now - moved) / 1000);
            printf ("%-24s %12" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT " %s\n",
                    json_string_value (json_object_get (cursor, "name")),
                    json_integer_value (json_object_get (cursor, "position")),
                    json_integer_value (json_object_get (cursor, "behind")), ago);
        }
        if (json_is_true (json_object_get (json, "truncated")))
            fprintf (stderr, "jobctl: list truncated at %zu cursors\n", index);
    }
    json_decref (json);
    return printed;
}

static int
s_cmd_watch (const s_options_t *options, int argc, char **argv)
{
    bool ok;
    uint32_t mask = s_state_mask (options->state, &ok);
    if (argc != 0 || !ok)
        return s_fail (EXIT_USAGE, "usage: jobctl watch [--state S[,S]] [--job ID] [--count N]");
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_t *monitor = jobctl_monitor_new (sub);
    if (jobctl_connect (sub, options->events)) {
        zsock_destroy (&monitor);
        zsock_destroy (&sub);
        return s_fail (EXIT_USAGE, "invalid events endpoint %s", options->events);
    }
    zpoller_t *poller = zpoller_new (sub, monitor, NULL);
    int code = EXIT_OK;
    //  Server-side prefix filters; the job id is then compared exactly (job-4 vs job-42).
    for (int state = JOBD_STATE_QUEUED; state < JOBD_STATE_COUNT; state++) {
        if (mask && !(mask & (1u << state)))
            continue;
        char topic[JOBD_ID_MAX + 32];
        snprintf (topic, sizeof topic, "job.%s.%s", jobd_state_name ((jobd_state_t)state),
                  options->job ? options->job : "");
        zsock_set_subscribe (sub, topic);
    }
    if (!options->state) {
        zsock_set_subscribe (sub, "stale.");
        zsock_set_subscribe (sub, "cancel.failed.");
        zsock_set_subscribe (sub, "retry.final.");
    }
    zsock_set_subscribe (sub, JOBD_WELCOME_TOPIC);
    long seen = 0;
    while (code == EXIT_OK && !zsys_interrupted && (options->count <= 0 || seen < options->count)) {
        void *which = zpoller_wait (poller, -1);
        if (which && which == monitor) {
            char why[512];
            if (jobctl_handshake_failed (monitor, options->events, why, sizeof why)) {
                code = s_fail (EXIT_FAILED, "%s", why);
                break;
            }
            continue;
        }
        zmsg_t *msg = which ? zmsg_recv (sub) : NULL;
        if (!msg)
            break;
        zframe_t *topic = zmsg_first (msg);
        zframe_t *payload = zmsg_next (msg);
        if (!payload && zframe_streq (topic, JOBD_WELCOME_TOPIC)) {
            //  Connected: from here on nothing committed is missed.
            fprintf (stderr, "jobctl: watching %s (Ctrl-C to stop)\n", options->events);
            zmsg_destroy (&msg);
            continue;
        }
        jobd_event_t *event = NULL;
        char reason[256];
        if (!payload || jobd_event_decode (zframe_data (payload), zframe_size (payload), &event,
                                           reason, sizeof reason)) {
            fprintf (stderr, "jobctl: skipping a malformed event (%s)\n",
                     payload ? reason : "no payload");
        } else if (!options->job || (event->job && strcmp (event->job, options->job) == 0)) {
            seen++;
            if (options->json) {
                json_t *json = jobctl_json_from_event (event);
                if (jobctl_print_json (stdout, json))
                    code = EXIT_FAILED;
                json_decref (json);
            } else {
                if (event->type == JOBD_EVENT_STALE)
                    jobctl_print_stale (stdout, event);
                else if (event->type == JOBD_EVENT_CANCEL_FAILED)
                    jobctl_print_cancel_failed (stdout, event);
                else if (event->type == JOBD_EVENT_RETRY_PLAN)
                    jobctl_print_retry_final (stdout, event);
                else
                    jobctl_print_transition (stdout, event);
                if (fflush (stdout) || ferror (stdout))
                    code = s_fail (EXIT_FAILED, "cannot write the output: %s", strerror (errno));
            }
        }
        jobd_event_destroy (&event);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&monitor);
    zsock_destroy (&sub);
    return code;
}

static int
s_cmd_keygen (int argc, char **argv)
{
    if (argc != 1)
        return s_fail (EXIT_USAGE, "usage: jobctl keygen FILE");
    char reason[1024];
    if (jobd_cert_keygen (argv[0], reason, sizeof reason))
        return s_fail (EXIT_FAILED, "%s", reason);
    printf ("jobctl: wrote our secret key %s (0600) and its public key %s.pub: copy that into "
            "jobd's core/curve_clients folder\n",
            argv[0], argv[0]);
    return EXIT_OK;
}

//  Runs one command. Returns its exit code.
static int
s_command (const s_options_t *options, const char *command, int rest, char **args)
{
    if ((options->now || options->stop) && strcmp (command, "retry") != 0)
        return s_fail (EXIT_USAGE, "--%s is for retry only", options->now ? "now" : "cancel");
    if (strcmp (command, "submit") == 0)
        return s_cmd_submit (options, rest, args);
    if (strcmp (command, "track") == 0)
        return s_cmd_track (options, rest, args);
    if (strcmp (command, "ls") == 0)
        return s_cmd_ls (options, rest, args);
    if (strcmp (command, "show") == 0)
        return s_cmd_show (options, rest, args);
    if (strcmp (command, "cancel") == 0)
        return s_cmd_cancel (options, rest, args);
    if (options->wait)
        return s_fail (EXIT_USAGE, "--wait is for cancel only");
    if (strcmp (command, "retry") == 0)
        return s_cmd_retry (options, rest, args);
    if (strcmp (command, "observe") == 0)
        return s_cmd_observe (options, rest, args);
    if (strcmp (command, "watch") == 0)
        return s_cmd_watch (options, rest, args);
    if (strcmp (command, "cursors") == 0)
        return s_cmd_cursors (options, rest, args);
    if (strcmp (command, "plugins") == 0 || strcmp (command, "stats") == 0)
        return s_cmd_query_print (options, rest, command);
    return s_fail (EXIT_USAGE, "unknown command '%s' (see jobctl --help)", command);
}

int
main (int argc, char *argv[])
{
    enum {
        O_RUN_DIR = 256,
        O_ADMIN,
        O_EVENTS,
        O_STORE,
        O_TIMEOUT,
        O_JSON,
        O_STATE,
        O_KIND,
        O_BACKEND,
        O_NAME,
        O_JOB,
        O_ERROR,
        O_LIMIT,
        O_COUNT,
        O_CURVE_KEY,
        O_SERVER_KEY,
        O_WAIT,
        O_NOW,
        O_STOP
    };
    static const struct option long_options[] = {
        {"run-dir", required_argument, NULL, O_RUN_DIR},
        {"admin", required_argument, NULL, O_ADMIN},
        {"events", required_argument, NULL, O_EVENTS},
        {"store", required_argument, NULL, O_STORE},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"json", no_argument, NULL, O_JSON},
        {"state", required_argument, NULL, O_STATE},
        {"kind", required_argument, NULL, O_KIND},
        {"backend", required_argument, NULL, O_BACKEND},
        {"name", required_argument, NULL, O_NAME},
        {"job", required_argument, NULL, O_JOB},
        {"error", required_argument, NULL, O_ERROR},
        {"limit", required_argument, NULL, O_LIMIT},
        {"count", required_argument, NULL, O_COUNT},
        {"curve-key", required_argument, NULL, O_CURVE_KEY},
        {"server-key", required_argument, NULL, O_SERVER_KEY},
        {"wait", no_argument, NULL, O_WAIT},
        {"now", no_argument, NULL, O_NOW},
        {"cancel", no_argument, NULL, O_STOP},
        {"stop", no_argument, NULL, O_STOP},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    s_options_t options = {.timeout_ms = 5000, .limit = 10000};
    const char *run_dir = s_env_or ("JOBD_CORE_RUN_DIR", "jobd-run");
    const char *admin = s_env_or ("JOBD_CORE_ADMIN", NULL);
    const char *events = s_env_or ("JOBD_CORE_EVENTS", NULL);
    options.store = s_env_or ("JOBD_CORE_STORE", "jobd-data");
    const char *curve_key = s_env_or ("JOBCTL_CURVE_KEY", NULL);
    const char *server_key = s_env_or ("JOBCTL_SERVER_KEY", NULL);
    int option;
    char *end;
    //  GNU getopt permutes: options may come before or after the command and its arguments.
    const char *config_path = s_env_or ("JOBCTL_CONFIG", NULL);
    while ((option = getopt_long (argc, argv, "c:hV", long_options, NULL)) != -1) {
        switch (option) {
            case O_RUN_DIR:
                run_dir = optarg;
                break;
            case O_ADMIN:
                admin = optarg;
                break;
            case O_EVENTS:
                events = optarg;
                break;
            case O_STORE:
                options.store = optarg;
                break;
            case O_CURVE_KEY:
                curve_key = optarg;
                break;
            case O_SERVER_KEY:
                server_key = optarg;
                break;
            case O_JSON:
                options.json = true;
                break;
            case O_STATE:
                options.state = optarg;
                break;
            case O_KIND:
                options.kind = optarg;
                break;
            case O_BACKEND:
                options.backend = optarg;
                break;
            case O_NAME:
                options.name = optarg;
                break;
            case O_JOB:
                options.job = optarg;
                break;
            case O_ERROR:
                options.error = optarg;
                break;
            case O_WAIT:
                options.wait = true;
                break;
            case O_NOW:
                options.now = true;
                break;
            case O_STOP:
                options.stop = true;
                break;
            case O_TIMEOUT: {
                int64_t ms = s_duration_ms (optarg);
                if (ms < 0 || ms > INT32_MAX)
                    return s_fail (EXIT_USAGE, "--timeout '%s' is not a duration", optarg);
                options.timeout = optarg;
                options.timeout_ms = (int)ms;
                break;
            }
            case O_LIMIT:
            case O_COUNT: {
                long value = strtol (optarg, &end, 10);
                if (*end || end == optarg || value < 0)
                    return s_fail (EXIT_USAGE, "'%s' is not a number", optarg);
                if (option == O_LIMIT)
                    options.limit = (uint64_t)value;
                else
                    options.count = value;
                break;
            }
            case 'c':
                config_path = optarg;
                break;
            case 'h':
                fputs (s_usage_text, stdout);
                return EXIT_OK;
            case 'V':
                printf ("jobctl %s (proto %d)\n", JOBD_VERSION, JOBD_PROTO_VERSION);
                return EXIT_OK;
            default:
                fputs (s_usage_text, stderr);
                return EXIT_USAGE;
        }
    }
    //  The config file fills in what neither an option nor the environment gave.
    jobd_config_t *config = NULL;
    if (config_path) {
        char reason[1024];
        int rc = jobd_config_load (config_path, &config, reason, sizeof reason);
        static const char *const sections[] = {"jobctl", NULL};
        if (rc == 0)
            rc = jobd_config_check_sections (config, sections, reason, sizeof reason);
        if (rc == 0)
            rc = jobd_config_check (config, "jobctl", s_config_map, reason, sizeof reason);
        if (rc) {
            jobd_config_destroy (&config);
            return s_fail (EXIT_USAGE, "%s", reason);
        }
        admin = s_config_or (config, "admin", admin);
        events = s_config_or (config, "events", events);
        curve_key = s_config_or (config, "curve_key", curve_key);
        server_key = s_config_or (config, "server_key", server_key);
    }
    snprintf (options.admin, sizeof options.admin, admin ? "%s" : "ipc://%s/admin.sock",
              admin ? admin : run_dir);
    snprintf (options.events, sizeof options.events, events ? "%s" : "ipc://%s/events.sock",
              events ? events : run_dir);
    //  Copied: the config lends its strings only until it is destroyed, here.
    char curve_key_copy[1024], server_key_copy[1024];
    snprintf (curve_key_copy, sizeof curve_key_copy, "%s", curve_key ? curve_key : "");
    snprintf (server_key_copy, sizeof server_key_copy, "%s", server_key ? server_key : "");
    curve_key = curve_key ? curve_key_copy : NULL;
    server_key = server_key ? server_key_copy : NULL;
    jobd_config_destroy (&config);
    char **words = argv + optind;
    int count = argc - optind;
    if (count == 0) {
        fputs (s_usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *command = words[0];
    int rest = count - 1;
    char **args = words + 1;
    zsys_init ();
    if (strcmp (command, "keygen") == 0)
        return s_cmd_keygen (rest, args);
    char reason[1024];
    if (jobctl_curve_set (curve_key, server_key, reason, sizeof reason))
        return s_fail (EXIT_USAGE, "%s", reason);
    int code = s_command (&options, command, rest, args);
    //  An answer it could not write (a full disk, a closed pipe) is a failure, never silence.
    if (fflush (stdout) != 0 || ferror (stdout)) {
        int error = errno;
        if (code == EXIT_OK)
            code = s_fail (EXIT_FAILED, "cannot write the output: %s", strerror (error));
    }
    return code;
}
