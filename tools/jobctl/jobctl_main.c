//  jobctl: the admin CLI of jobd. Submits, tracks, lists, shows, cancels, retries and watches
//  jobs through jobd's admin and events endpoints, or reads the store when jobd is down.
#include "jobctl_cli.h"
#include "jobctl_client.h"
#include "jobctl_jobs.h"
#include "jobctl_print.h"
#include "jobctl_table.h"
#include "jobctl_time.h"
#include "jobd_answer.h"
#include "jobd_cert.h"
#include "jobd_config.h"
#include "jobd_error.h"
#include "jobd_plugin.h"
#include "jobd_store.h"
#include <ctype.h>
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <locale.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#ifndef JOBCTL_DEFAULT_CONFIG
#define JOBCTL_DEFAULT_CONFIG "/etc/jobd/jobd.conf"
#endif

//  The options a command takes, besides the global ones (bits of s_command_t.takes).
enum {
    K_STATE = 1 << 0,
    K_KIND = 1 << 1,
    K_BACKEND = 1 << 2,
    K_NAME = 1 << 3,
    K_JOB = 1 << 4,
    K_ERROR = 1 << 5,
    K_LIMIT = 1 << 6,
    K_COUNT = 1 << 7,
    K_WAIT = 1 << 8,
    K_NOW = 1 << 9,
    K_STOP = 1 << 10,
    K_SINCE = 1 << 11,
    K_UNTIL = 1 << 12,
    K_SORT = 1 << 13,
    K_COUNT_OF = 14
};
static const char *s_option_names[K_COUNT_OF] = {
    "--state", "--kind", "--backend", "--name",   "--job",   "--error", "--limit",
    "--count", "--wait", "--now",     "--cancel", "--since", "--until", "--sort"};

typedef struct {
    const char *name;
    unsigned takes; //  K_* bits
    const char *usage;
} s_command_t;

static const s_command_t s_commands[] = {
    {"submit", K_KIND | K_NAME | K_BACKEND,
     "Usage: jobctl submit FILE|- [--kind K] [--name N] [--backend B]\n"
     "Submits a job from a JSON spec (a file, or - for stdin) and prints its id.\n"
     "--kind, --name and --backend override the spec's. A spec its kind's plugin\n"
     "refuses, or a kind no running plugin takes, exits 1 with the reason\n"
     "(plugins/spark-poller/SPECS.md).\n"},
    {"track", K_KIND | K_BACKEND | K_NAME | K_STATE,
     "Usage: jobctl track EXT --kind K --backend B [--name N] [--state S]\n"
     "Follows a job that already runs at a backend (EXT: its id there); prints the\n"
     "job id.\n"},
    {"ls", K_STATE | K_KIND | K_BACKEND | K_NAME | K_LIMIT | K_SINCE | K_UNTIL | K_SORT,
     "Usage: jobctl ls [--state S[,S]] [--kind K] [--backend B] [--name TEXT]\n"
     "                 [--since T] [--until T] [--sort [-]KEY] [--limit N] [-o F]\n"
     "Lists jobs, newest first (reads the store when jobd is down).\n"
     "  --state S[,S]   in these states (any case: failed, FAILED)\n"
     "  --kind K        of this kind\n"
     "  --backend B     at this backend\n"
     "  --name TEXT     whose name contains TEXT\n"
     "  --since T       created at or after T: a duration before now (1h, 30m, 2d,\n"
     "                  1h30m) or ISO 8601 (2026-12-03, 2026-12-03T15:37Z,\n"
     "                  2026-12-03T15:37:57+01:00; without a zone: UTC, or local with\n"
     "                  TZ)\n"
     "  --until T       created before T (the same forms)\n"
     "  --sort [-]KEY   created, updated, name, state, kind, backend or id; -\n"
     "                  descending (default -updated: the last changed first); ties\n"
     "                  by id; ids and names in natural order (job-2 before job-10)\n"
     "  --limit N       the first N, after sorting\n"
     "Columns: AGE since created, DURATION run so far (start to end, or to now), TRY\n"
     "the attempt, CAUSE why a job is in its state (a RETRY_WAIT job's retry\n"
     "countdown, \"no retry\" of a FAILED job no retry follows, \"stale\" past its\n"
     "deadline); -o wide adds BACKEND, EXT, UPDATED (since its last change) and FRESH\n"
     "(since its source's last word).\n"},
    {"show", 0,
     "Usage: jobctl show ID [-o FORMAT]\n"
     "A job, its whole history and every attempt (why it ended, the retry planned\n"
     "after it, the next retry); the store when jobd is down. -o json: {\"job\": JOB,\n"
     "\"history\": [TRANSITION, ...]}.\n"},
    {"cancel", K_WAIT,
     "Usage: jobctl cancel ID [--wait] [--timeout T]\n"
     "Cancels a job (at its backend when it runs there). --wait waits until the\n"
     "backend confirms (CANCELLED, exit 0) or refuses (5), the job ends otherwise\n"
     "(6), or T passes (7; default 2m).\n"},
    {"retry", K_NOW | K_STOP,
     "Usage: jobctl retry ID [--now | --cancel]\n"
     "Runs a FAILED or LOST job again (attempt + 1): when the retry plugin runs,\n"
     "after its policy's wait (jobctl show says when), else at once. --now skips any\n"
     "wait (also a RETRY_WAIT job's); --cancel (or --stop) stops a RETRY_WAIT job's\n"
     "pending retry: it stays FAILED, for good. A refusal names the job's state.\n"},
    {"observe", K_ERROR,
     "Usage: jobctl observe ID STATE [--error TEXT]\n"
     "Reports a state seen outside jobd (it goes through the state machine).\n"},
    {"watch", K_STATE | K_JOB | K_COUNT | K_WAIT,
     "Usage: jobctl watch [--state S[,S]] [--job ID] [--count N] [--wait] [-o F]\n"
     "Prints the matching jobs' current states, then each change as it is committed\n"
     "(and stale jobs, refused kills and final failures, without --state), like\n"
     "kubectl get -w.\n"
     "  --count N   stop after N changes (the current states do not count)\n"
     "  --wait      when jobd is not running, wait for it (else: exit 3 at once)\n"
     "-o json/jsonl: one JSON object a line: transitions as the kafka-listener's\n"
     "outbound topic carries them (\"from\" always); first, the current states (type\n"
     "\"current\").\n"},
    {"plugins", 0,
     "Usage: jobctl plugins [-o FORMAT]\n"
     "The loaded plugins, their versions, status and detail (-o wide: the detail\n"
     "uncut).\n"},
    {"health", 0,
     "Usage: jobctl health [-o FORMAT]\n"
     "Whether every plugin and backend is fine, for probes and scripts: one line per\n"
     "problem on stdout. Exit 0: all fine; 1: a plugin is degraded, failed, starting\n"
     "or stopped (its detail names the backend that fails); 3: jobd is not reachable;\n"
     "9: permission denied on the admin socket.\n"},
    {"stats", 0,
     "Usage: jobctl stats [-o FORMAT]\n"
     "Jobs by state, and the broker's counters (jobs by state from the store when\n"
     "jobd is down).\n"},
    {"cursors", 0,
     "Usage: jobctl cursors [drop NAME] [-o FORMAT]\n"
     "Readers of the transition log (plugins): where each is, how far behind, since\n"
     "when; drop removes one (it stops holding the log). In a cluster, then each\n"
     "partition reader's cursor of each partition (PARTITION, a last column: its\n"
     "changelog offsets; these expire on their own, after core/cursor_idle_max).\n"},
    {"partition", K_BACKEND,
     "Usage: jobctl partition ID [N] [-o FORMAT]\n"
     "       jobctl partition EXT --backend B [N] [-o FORMAT]\n"
     "The partition of a cluster's jobs topic that job ID belongs to, among N\n"
     "(default 32): Kafka's murmur2 of ID, as Java's default partitioner and\n"
     "librdkafka's murmur2_random place a record keyed by ID (proto/README.md,\n"
     "\"Routing\"). With --backend: of the job that backend B knows as EXT (its id,\n"
     "job-x..., derived from B and EXT; -o name prints it). Needs no jobd.\n"
     "-o json: {\"job\", \"partition\", \"partitions\"}, and \"backend\", \"ext\".\n"},
    {"cluster", 0,
     "Usage: jobctl cluster [-o FORMAT]\n"
     "Cluster mode: the cluster's name, this instance, the changelog's counters, and\n"
     "each partition as this instance sees it: the next changelog offset it reads,\n"
     "how many messages it trails by (BEHIND, ? until Kafka said) and how old the\n"
     "last one read is (LAG), the last offset of its own writes Kafka acked, and the\n"
     "epoch of the partition's last claim. A single jobd says it runs alone (-o json:\n"
     "null).\n"},
    {"keygen", 0,
     "Usage: jobctl keygen FILE\n"
     "Makes a CURVE key pair: FILE (secret, 0600) and FILE.pub (copy it into jobd's\n"
     "core/curve_clients folder).\n"},
    {NULL, 0, NULL}};

static const char *s_usage_text =
    "Usage: jobctl [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS]\n"
    "Talks to jobd. Commands (jobctl COMMAND --help for each):\n"
    "  submit FILE|-    submit a job from a JSON spec; prints the new job id\n"
    "  track EXT        follow a job that already runs at a backend\n"
    "  ls               list jobs: filters, --since/--until, --sort, --limit\n"
    "  show ID          a job, its whole history and every attempt\n"
    "  cancel ID        cancel a job; --wait for the backend's word\n"
    "  retry ID         run a FAILED or LOST job again\n"
    "  observe ID STATE\n"
    "                   report a state seen outside jobd\n"
    "  watch            current states, then every change, live\n"
    "  plugins          loaded plugins, their versions and status\n"
    "  health           exit 0 when every plugin and backend is fine, 1 (and why) if\n"
    "                   not\n"
    "  stats            jobs by state and the broker's counters\n"
    "  cursors          readers of the transition log; cursors drop NAME\n"
    "  partition ID [N] the partition of a job among N (a cluster's routing)\n"
    "  cluster          the changelog and each partition (cluster mode)\n"
    "  keygen FILE      make a CURVE key pair\n"
    "Global options:\n"
    "  -o, --output F   table (default), wide, json, jsonl (one value a line) or\n"
    "                   name (ids only); --json is -o json\n"
    "  -c, --config F   jobd's config (or jobctl's own, section jobctl: admin,\n"
    "                   events, curve_key, server_key): where jobd's run folder and\n"
    "                   store are (default $JOBD_CONFIG, $JOBCTL_CONFIG, else\n"
    "                   " JOBCTL_DEFAULT_CONFIG " when it exists)\n"
    "  --run-dir DIR    jobd's run folder (default $JOBD_RUN_DIR, else the config's\n"
    "                   core/run_dir, else $JOBD_CORE_RUN_DIR or ./jobd-run)\n"
    "  --admin EP       admin endpoint (default ipc://RUN_DIR/admin.sock)\n"
    "  --events EP      events endpoint (default ipc://RUN_DIR/events.sock)\n"
    "  --store DIR      store folder for reads when jobd is down (default\n"
    "                   $JOBD_CORE_STORE, else the config's core/store, else\n"
    "                   ./jobd-data)\n"
    "  --timeout T      how long to wait for jobd (default 5000: a bare number is\n"
    "                   ms; 30s, 2m); with cancel --wait: how long to wait for the\n"
    "                   outcome\n"
    "  --curve-key F    our secret key (jobctl keygen) for tcp:// endpoints, which\n"
    "                   jobd serves with CURVE (default $JOBCTL_CURVE_KEY)\n"
    "  --server-key F   jobd's public key, the KEY.pub of jobd --keygen (default\n"
    "                   $JOBCTL_SERVER_KEY)\n"
    "  -h, --help       this help (also: jobctl COMMAND --help, jobctl help COMMAND)\n"
    "  -V, --version    the version\n"
    "Times are ISO 8601 in UTC, or local time when TZ is set. Tables fit the\n"
    "terminal ($COLUMNS, else its width); colour only on a terminal, never with\n"
    "NO_COLOR.\n"
    "Exit codes: 0 done (cancel --wait: the job is CANCELLED; health: all fine), 1\n"
    "  jobd refused the request (or our CURVE key, or the output could not be\n"
    "  written; health: a plugin or backend is not fine), 2 usage, 3 jobd\n"
    "  unreachable, 4 not found; cancel --wait only: 5 the backend refused the kill\n"
    "  or it did not take effect (the reason is on stderr and in jobctl show), 6 the\n"
    "  job ended otherwise (SUCCEEDED, FAILED, LOST), 7 no outcome before the\n"
    "  timeout; 8 the store read while jobd is down is damaged (see jobd --verify);\n"
    "  9 permission denied (the admin socket is not open to this user).\n";

static const s_command_t *
s_command_find (const char *name)
{
    for (const s_command_t *command = s_commands; name && command->name; command++)
        if (strcmp (command->name, name) == 0)
            return command;
    return NULL;
}

static const char *
s_env_or (const char *name, const char *fallback)
{
    const char *value = getenv (name);
    return value && *value ? value : fallback;
}

//  jobctl's own section of a config file (--config): section "jobctl".
static const jobd_conf_key_t s_config_map[] = {
    {"admin", JOBD_CONF_STRING, "", "admin endpoint"},
    {"events", JOBD_CONF_STRING, "", "events endpoint"},
    {"curve_key", JOBD_CONF_STRING, "", "our secret CURVE key (jobctl keygen)"},
    {"server_key", JOBD_CONF_STRING, "", "jobd's public CURVE key (KEY.pub of jobd --keygen)"},
    {NULL, 0, NULL, NULL}};

//  The config's value of section/key when set and when current is NULL (not given otherwise).
static const char *
s_config_or (jobd_config_t *config, const char *section, const char *key, const char *current)
{
    const char *value = config ? jobd_config_str (config, section, key) : NULL;
    return current || !value || !*value ? current : value;
}

//  Sends one event built by the caller; prints the job id (or the reply as JSON).
static int
s_send_event (const jobctl_options_t *options, jobd_event_t *event, bool print_job)
{
    jobd_reply_t read;
    json_t *json;
    int code = jobctl_event_call (options, event, false, &read, &json);
    if (code != EXIT_OK)
        return code;
    const char *job = read.job, *outcome = read.outcome;
    if (jobctl_output_json (options))
        code = jobctl_print_reply (json);
    else if (print_job || options->output == JOBCTL_OUTPUT_NAME)
        printf ("%s\n", job);
    else if (strcmp (outcome, "changed") && strcmp (outcome, "forwarded"))
        printf ("%s: nothing to do (%s)\n", job, outcome);
    else
        printf ("%s: %s\n", job,
                strcmp (outcome, "forwarded") ? "done" : "cancel sent to its backend");
    return code;
}

static int
s_cmd_submit (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 1)
        return jobctl_usage ("submit", "expected one FILE (or - for stdin)");
    json_error_t error;
    bool from_stdin = strcmp (argv[0], "-") == 0;
    FILE *file = from_stdin ? stdin : fopen (argv[0], "r");
    if (!file) //  "missing.json: No such file or directory", not jansson's "missing.json:-1:"
        return jobctl_fail (EXIT_USAGE, "%s: %s", argv[0], strerror (errno));
    json_t *spec = json_loadf (file, 0, &error);
    if (!from_stdin)
        fclose (file);
    if (!spec)
        return jobctl_fail (EXIT_USAGE, "%s:%d:%d: not JSON: %s", from_stdin ? "stdin" : argv[0],
                            error.line, error.column, error.text);
    if (!json_is_object (spec)) {
        json_decref (spec);
        return jobctl_fail (EXIT_USAGE, "%s: the spec must be a JSON object", argv[0]);
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

//  One state, any case ("running"). Returns 0 with *state_p, or -1.
static int
s_parse_state (const char *name, jobd_state_t *state_p)
{
    char upper[32];
    size_t length = strlen (name);
    if (length >= sizeof upper)
        return -1;
    for (size_t index = 0; index <= length; index++)
        upper[index] = (char)toupper ((unsigned char)name[index]);
    return jobd_state_parse (upper, length, state_p);
}

static int
s_cmd_track (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 1 || !options->kind || !options->backend)
        return jobctl_usage ("track", "expected EXT, --kind and --backend");
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRACK);
    jobd_event_set (&event->ext, argv[0]);
    jobd_event_set (&event->kind, options->kind);
    jobd_event_set (&event->backend, options->backend);
    jobd_event_set (&event->name, options->name);
    if (*options->state && s_parse_state (options->state, &event->state)) {
        jobd_event_destroy (&event);
        return jobctl_usage ("track", "--state: not one state");
    }
    int code = s_send_event (options, event, true);
    jobd_event_destroy (&event);
    return code;
}

static int
s_cmd_job_command (const jobctl_options_t *options, int argc, char **argv, jobd_event_type_t type)
{
    if (argc != 1)
        return jobctl_usage (jobd_event_type_name (type), "expected one job ID");
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
s_cancel_wait (const jobctl_options_t *options, const char *job)
{
    //  --timeout reads as everywhere else (a bare number is ms; 30s, 2m); without it, 2 minutes.
    int64_t wait_ms = options->timeout ? options->timeout_ms : 120000;
    zsock_t *sub = zsock_new (ZMQ_SUB);
    if (jobctl_connect (sub, options->events)) {
        zsock_destroy (&sub);
        return jobctl_fail (EXIT_USAGE, "invalid events endpoint %s", options->events);
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
        code =
            jobctl_fail (EXIT_UNREACHABLE, "no answer on the events endpoint %s", options->events);
    if (code < 0) {
        //  --timeout is the wait's here: jobd itself gets its usual time to answer.
        jobctl_options_t request = *options;
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
            code = s_cancel_outcome (event, job, jobctl_output_json (options));
        jobd_event_destroy (&event);
        zmsg_destroy (&msg);
    }
    if (code < 0)
        code =
            jobctl_fail (EXIT_WAIT_TIMEOUT,
                         "%s: no word from its backend within %.1f s (the kill may still be under "
                         "way: jobctl show %s)",
                         job, (double)wait_ms / 1000, job);
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    return code;
}

static int
s_cmd_cancel (const jobctl_options_t *options, int argc, char **argv)
{
    if (argc != 1)
        return jobctl_usage ("cancel", "expected one job ID");
    if (!options->wait)
        return s_cmd_job_command (options, argc, argv, JOBD_EVENT_CANCEL);
    return s_cancel_wait (options, argv[0]);
}

static int
s_cmd_observe (const jobctl_options_t *options, int argc, char **argv)
{
    jobd_state_t state;
    if (argc != 2)
        return jobctl_usage ("observe", "expected a job ID and a STATE");
    if (s_parse_state (argv[1], &state))
        return jobctl_fail (EXIT_USAGE,
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

static int
s_cmd_keygen (int argc, char **argv)
{
    if (argc != 1)
        return jobctl_fail (EXIT_USAGE, "usage: jobctl keygen FILE");
    char reason[1024];
    if (jobd_cert_keygen (argv[0], reason, sizeof reason))
        return jobctl_fail (EXIT_FAILED, "%s", reason);
    printf ("jobctl: wrote our secret key %s (0600) and its public key %s.pub: copy that into "
            "jobd's core/curve_clients folder\n",
            argv[0], argv[0]);
    return EXIT_OK;
}

//  Runs one command. Returns its exit code.
static int
s_command (const jobctl_options_t *options, const char *command, int rest, char **args)
{
    if (strcmp (command, "submit") == 0)
        return s_cmd_submit (options, rest, args);
    if (strcmp (command, "track") == 0)
        return s_cmd_track (options, rest, args);
    if (strcmp (command, "ls") == 0)
        return jobctl_cmd_ls (options, rest, args);
    if (strcmp (command, "show") == 0)
        return jobctl_cmd_show (options, rest, args);
    if (strcmp (command, "cancel") == 0)
        return s_cmd_cancel (options, rest, args);
    if (strcmp (command, "retry") == 0)
        return jobctl_cmd_retry (options, rest, args);
    if (strcmp (command, "observe") == 0)
        return s_cmd_observe (options, rest, args);
    if (strcmp (command, "watch") == 0)
        return jobctl_cmd_watch (options, rest, args);
    if (strcmp (command, "cursors") == 0)
        return jobctl_cmd_cursors (options, rest, args);
    if (strcmp (command, "plugins") == 0)
        return jobctl_cmd_plugins (options, rest, args);
    if (strcmp (command, "stats") == 0)
        return jobctl_cmd_stats (options, rest, args);
    if (strcmp (command, "health") == 0)
        return jobctl_cmd_health (options, rest, args);
    if (strcmp (command, "partition") == 0)
        return jobctl_cmd_partition (options, rest, args);
    if (strcmp (command, "cluster") == 0)
        return jobctl_cmd_cluster (options, rest, args);
    return jobctl_fail (EXIT_USAGE, "unknown command '%s' (see jobctl --help)", command);
}

//  Where jobd is, from a config file: jobd's own (section core: run_dir, store, admin,
//  events) or jobctl's (section jobctl). Paths found are copied into the buffers given.
typedef struct {
    char run_dir[1024], store[1024], admin[1100], events[1100];
    char curve_key[1024], server_key[1024];
} s_found_t;

//  Reads path into found. Returns 0, or -1 with a reason naming the file.
static int
s_config_read (const char *path, s_found_t *found, char *reason, size_t reason_size)
{
    jobd_config_t *config = NULL;
    int rc = jobd_config_load (path, &config, reason, reason_size);
    static const char *const sections[] = {"core", "plugins", "cluster", "jobctl", NULL};
    if (rc == 0)
        rc = jobd_config_check_sections (config, sections, reason, reason_size);
    if (rc == 0)
        rc = jobd_config_check (config, "jobctl", s_config_map, reason, reason_size);
    //  The core's keys as jobd reads them (with its JOBD_CORE_* overrides); its other keys and
    //  the plugins' are jobd's to check.
    if (rc == 0)
        rc = jobd_config_resolve (config, "core", jobd_config_core_map, reason, reason_size);
    if (rc == 0) {
        static const struct {
            const char *path, *env;
            size_t offset, size;
        } keys[] = {{"core/run_dir", "JOBD_CORE_RUN_DIR", offsetof (s_found_t, run_dir), 1024},
                    {"core/store", "JOBD_CORE_STORE", offsetof (s_found_t, store), 1024},
                    {"core/admin", "JOBD_CORE_ADMIN", offsetof (s_found_t, admin), 1100},
                    {"core/events", "JOBD_CORE_EVENTS", offsetof (s_found_t, events), 1100}};
        for (size_t index = 0; index < sizeof keys / sizeof keys[0]; index++) {
            const char *value = jobd_config_str (config, "core", keys[index].path + 5);
            bool set = jobd_config_has (config, keys[index].path) || getenv (keys[index].env);
            if (set && value && *value)
                snprintf ((char *)found + keys[index].offset, keys[index].size, "%s", value);
        }
        //  jobctl's own section wins over the core's endpoints.
        const char *admin = s_config_or (config, "jobctl", "admin", NULL);
        const char *events = s_config_or (config, "jobctl", "events", NULL);
        const char *curve_key = s_config_or (config, "jobctl", "curve_key", NULL);
        const char *server_key = s_config_or (config, "jobctl", "server_key", NULL);
        if (admin)
            snprintf (found->admin, sizeof found->admin, "%s", admin);
        if (events)
            snprintf (found->events, sizeof found->events, "%s", events);
        if (curve_key)
            snprintf (found->curve_key, sizeof found->curve_key, "%s", curve_key);
        if (server_key)
            snprintf (found->server_key, sizeof found->server_key, "%s", server_key);
    }
    jobd_config_destroy (&config);
    return rc ? -1 : 0;
}

//  Prints a command's help (or the whole usage), to out. Returns code.
static int
s_help (const char *name, FILE *out, int code)
{
    const s_command_t *command = s_command_find (name);
    if (command)
        fprintf (out, "%sGlobal options (-o, -c, --run-dir, --timeout, ...): jobctl --help\n",
                 command->usage);
    else
        fputs (s_usage_text, out);
    return code;
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
        O_STOP,
        O_SINCE,
        O_UNTIL,
        O_SORT
    };
    static const struct option long_options[] = {
        {"run-dir", required_argument, NULL, O_RUN_DIR},
        {"admin", required_argument, NULL, O_ADMIN},
        {"events", required_argument, NULL, O_EVENTS},
        {"store", required_argument, NULL, O_STORE},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"json", no_argument, NULL, O_JSON},
        {"output", required_argument, NULL, 'o'},
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
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {"sort", required_argument, NULL, O_SORT},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    setlocale (LC_CTYPE, ""); //  the terminal's characters, for the tables' widths
    jobctl_options_t options = {.timeout_ms = 5000, .limit = 10000};
    const char *run_dir = NULL, *store = NULL;
    const char *admin = s_env_or ("JOBD_CORE_ADMIN", NULL);
    const char *events = s_env_or ("JOBD_CORE_EVENTS", NULL);
    const char *curve_key = s_env_or ("JOBCTL_CURVE_KEY", NULL);
    const char *server_key = s_env_or ("JOBCTL_SERVER_KEY", NULL);
    const char *config_path = s_env_or ("JOBD_CONFIG", s_env_or ("JOBCTL_CONFIG", NULL));
    const char *since = NULL, *until = NULL;
    bool help = false;
    unsigned given = 0; //  K_* bits of the command options given
    int option;
    char *end;
    char reason[1024];
    opterr = 0; //  our own one-line messages
    //  GNU getopt permutes: options may come before or after the command and its arguments.
    while ((option = getopt_long (argc, argv, ":c:o:hV", long_options, NULL)) != -1) {
        if (option >= O_STATE && option != O_CURVE_KEY && option != O_SERVER_KEY) {
            static const struct {
                int option;
                unsigned bit;
            } bits[] = {{O_STATE, K_STATE}, {O_KIND, K_KIND},   {O_BACKEND, K_BACKEND},
                        {O_NAME, K_NAME},   {O_JOB, K_JOB},     {O_ERROR, K_ERROR},
                        {O_LIMIT, K_LIMIT}, {O_COUNT, K_COUNT}, {O_WAIT, K_WAIT},
                        {O_NOW, K_NOW},     {O_STOP, K_STOP},   {O_SINCE, K_SINCE},
                        {O_UNTIL, K_UNTIL}, {O_SORT, K_SORT}};
            for (size_t index = 0; index < sizeof bits / sizeof bits[0]; index++)
                if (bits[index].option == option)
                    given |= bits[index].bit;
        }
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
                store = optarg;
                break;
            case O_CURVE_KEY:
                curve_key = optarg;
                break;
            case O_SERVER_KEY:
                server_key = optarg;
                break;
            case O_JSON:
                options.output = JOBCTL_OUTPUT_JSON;
                break;
            case 'o': {
                static const char *formats[] = {"table", "wide", "json", "jsonl", "name"};
                size_t index = 0;
                while (index < 5 && strcmp (optarg, formats[index]))
                    index++;
                if (index == 5)
                    return jobctl_fail (
                        EXIT_USAGE, "-o '%s': expected table, wide, json, jsonl or name", optarg);
                options.output = (jobctl_output_t)index;
                break;
            }
            case O_STATE:
                snprintf (options.state, sizeof options.state, "%s", optarg);
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
            case O_SINCE:
                since = optarg;
                break;
            case O_UNTIL:
                until = optarg;
                break;
            case O_SORT:
                options.sort = optarg;
                break;
            case O_TIMEOUT: {
                int64_t ms = s_duration_ms (optarg);
                if (ms < 0 || ms > INT32_MAX)
                    return jobctl_fail (
                        EXIT_USAGE, "--timeout '%s' is not a duration (5000 ms, 30s, 2m)", optarg);
                options.timeout = optarg;
                options.timeout_ms = (int)ms;
                break;
            }
            case O_LIMIT:
            case O_COUNT: {
                long value = strtol (optarg, &end, 10);
                if (*end || end == optarg || value < 0)
                    return jobctl_fail (EXIT_USAGE, "%s '%s' is not a number",
                                        option == O_LIMIT ? "--limit" : "--count", optarg);
                if (option == O_LIMIT) {
                    options.limit = (uint64_t)value;
                    options.has_limit = true;
                } else
                    options.count = value;
                break;
            }
            case 'c':
                config_path = optarg;
                break;
            case 'h':
                help = true;
                break;
            case 'V':
                printf ("jobctl %s (proto %d)\n", JOBD_VERSION, JOBD_PROTO_VERSION);
                return EXIT_OK;
            case ':':
                return jobctl_fail (EXIT_USAGE, "option '%s' needs a value (see jobctl --help)",
                                    argv[optind - 1]);
            default:
                if (optopt > 0 && optopt < 128)
                    return jobctl_fail (EXIT_USAGE, "unknown option '-%c' (see jobctl --help)",
                                        optopt);
                return jobctl_fail (EXIT_USAGE, "unknown option '%s' (see jobctl --help)",
                                    argv[optind - 1]);
        }
    }
    char **words = argv + optind;
    int count = argc - optind;
    //  jobctl --help, jobctl ls --help, jobctl help ls: to stdout, exit 0.
    if (help || (count > 0 && strcmp (words[0], "help") == 0))
        return s_help (count > 0 ? words[strcmp (words[0], "help") == 0 && count > 1] : NULL,
                       stdout, EXIT_OK);
    if (count == 0)
        return s_help (NULL, stderr, EXIT_USAGE);
    const char *command = words[0];
    const s_command_t *known = s_command_find (command);
    if (!known)
        return jobctl_fail (EXIT_USAGE, "unknown command '%s' (see jobctl --help)", command);
    for (int bit = 0; bit < K_COUNT_OF; bit++)
        if ((given & (1u << bit)) && !(known->takes & (1u << bit))) {
            char what[96];
            snprintf (what, sizeof what, "unknown option '%s'", s_option_names[bit]);
            return jobctl_usage (command, what);
        }
    if (options.wait && strcmp (command, "cancel") && strcmp (command, "watch"))
        return jobctl_usage (command, "--wait is for cancel and watch");
    //  Option values, checked before anything is asked of jobd.
    uint32_t mask;
    char upper[256];
    if (*options.state &&
        jobctl_state_mask (options.state, &mask, upper, sizeof upper, reason, sizeof reason))
        return jobctl_usage (command, reason);
    int64_t now = jobd_now_ms ();
    if (since && jobctl_time_parse (since, now, &options.since, reason, sizeof reason))
        return jobctl_usage (command, reason);
    if (until && jobctl_time_parse (until, now, &options.until, reason, sizeof reason))
        return jobctl_usage (command, reason);
    options.has_since = since != NULL;
    options.has_until = until != NULL;
    jobd_order_t sort;
    if (options.sort && jobctl_sort_parse (options.sort, &sort, reason, sizeof reason))
        return jobctl_usage (command, reason);
    //  Where jobd is: --run-dir, $JOBD_RUN_DIR, the config's (-c, $JOBD_CONFIG, the installed
    //  default when it exists), $JOBD_CORE_RUN_DIR, ./jobd-run.
    s_found_t found;
    memset (&found, 0, sizeof found);
    const char *default_config = JOBCTL_DEFAULT_CONFIG;
    if (!config_path && access (default_config, F_OK) == 0) {
        if (s_config_read (default_config, &found, reason, sizeof reason))
            fprintf (stderr, "jobctl: ignoring %s: %s\n", default_config, reason);
    } else if (config_path && s_config_read (config_path, &found, reason, sizeof reason))
        return jobctl_fail (EXIT_USAGE, "%s", reason);
    run_dir = run_dir                           ? run_dir
              : s_env_or ("JOBD_RUN_DIR", NULL) ? s_env_or ("JOBD_RUN_DIR", NULL)
              : *found.run_dir                  ? found.run_dir
                                                : s_env_or ("JOBD_CORE_RUN_DIR", "jobd-run");
    store = store                                ? store
            : s_env_or ("JOBD_CORE_STORE", NULL) ? s_env_or ("JOBD_CORE_STORE", NULL)
            : *found.store                       ? found.store
                                                 : "jobd-data";
    admin = admin ? admin : *found.admin ? found.admin : NULL;
    events = events ? events : *found.events ? found.events : NULL;
    curve_key = curve_key ? curve_key : *found.curve_key ? found.curve_key : NULL;
    server_key = server_key ? server_key : *found.server_key ? found.server_key : NULL;
    snprintf (options.admin, sizeof options.admin, admin ? "%s" : "ipc://%s/admin.sock",
              admin ? admin : run_dir);
    snprintf (options.events, sizeof options.events, events ? "%s" : "ipc://%s/events.sock",
              events ? events : run_dir);
    snprintf (options.store, sizeof options.store, "%s", store);
    options.width = jobctl_term_width ();
    options.color = jobctl_color_wanted ();
    int rest = count - 1;
    char **args = words + 1;
    zsys_init ();
    if (strcmp (command, "keygen") == 0)
        return s_cmd_keygen (rest, args);
    if (jobctl_curve_set (curve_key, server_key, reason, sizeof reason))
        return jobctl_fail (EXIT_USAGE, "%s", reason);
    int code = s_command (&options, command, rest, args);
    //  An answer it could not write (a full disk, a closed pipe) is a failure, never silence.
    if (fflush (stdout) != 0 || ferror (stdout)) {
        int error = errno;
        if (code == EXIT_OK)
            code = jobctl_fail (EXIT_FAILED, "cannot write the output: %s", strerror (error));
    }
    return code;
}
