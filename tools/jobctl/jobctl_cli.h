//  What jobctl's commands share: the options as parsed, exit codes, failing with a message,
//  and one query or event sent to jobd with the common failures handled.
#ifndef JOBCTL_CLI_H_INCLUDED
#define JOBCTL_CLI_H_INCLUDED

#include "jobd_event.h"
#include "jobd_reply.h"
#include "jobd_request.h"
#include "jobd_store.h"
#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

//  Exit codes, as --help says.
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1, //  health: a plugin or backend is not fine
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
    EXIT_NOTFOUND = 4,
    EXIT_REFUSED = 5, //  cancel --wait: the backend refused the kill, or it did not take effect
    EXIT_ENDED = 6,   //  cancel --wait: the job ended otherwise (SUCCEEDED, FAILED, LOST)
    EXIT_WAIT_TIMEOUT = 7, //  cancel --wait: no outcome before the timeout
    EXIT_DAMAGED = 8,      //  the store read while jobd is down is damaged
    EXIT_DENIED = 9        //  the admin socket is not open to this user
};

//  -o: how a command prints its answer.
typedef enum {
    JOBCTL_OUTPUT_TABLE, //  for people: a table or lines, fitted to the terminal
    JOBCTL_OUTPUT_WIDE,  //  the table with more columns
    JOBCTL_OUTPUT_JSON,  //  one JSON value
    JOBCTL_OUTPUT_JSONL, //  one JSON value a line (a list: one item a line)
    JOBCTL_OUTPUT_NAME   //  the names (job ids, plugin names) only, one a line
} jobctl_output_t;

typedef struct {
    char admin[1100];
    char events[1100];
    char store[1100];
    int timeout_ms;
    jobctl_output_t output;
    size_t width; //  the terminal's width for tables and lines; 0: no limit
    bool color;   //  colours in tables
    //  Command options.
    char state[256]; //  --state, upper-cased ("" when not given)
    const char *kind;
    const char *backend;
    const char *name;
    const char *job;
    const char *error;
    uint64_t limit;
    bool has_limit;
    long count;
    bool wait;           //  cancel --wait, watch --wait
    bool now;            //  retry --now: the next attempt at once
    bool stop;           //  retry --cancel (or --stop): its pending retry stopped
    const char *timeout; //  --timeout as given: ms for jobd, seconds for cancel --wait
    bool has_since, has_until;
    int64_t since, until; //  ls: ms since the epoch
    const char *sort;     //  ls --sort as given (NULL: -created)
} jobctl_options_t;

//  True when output is JSON or JSON lines.
static inline bool
jobctl_output_json (const jobctl_options_t *options)
{
    return options->output == JOBCTL_OUTPUT_JSON || options->output == JOBCTL_OUTPUT_JSONL;
}

//  Says "jobctl: " and the message on stderr; returns code.
int jobctl_fail (int code, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

//  A command's usage error: one line naming the command, what is wrong, and where its help is.
//  Returns EXIT_USAGE.
int jobctl_usage (const char *command, const char *what);

//  A query, packed (jobd_request_pack).
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer pk;
} jobctl_request_t;

//  Packs query (its id is "jobctl") into a fresh request (destroy its buffer).
void jobctl_query_pack (jobctl_request_t *request, jobd_request_t query);

//  Sends a request and handles the common failures. Returns an exit code; EXIT_OK with *reply
//  filled (destroy it) when jobd said ok. A refusal is said on stderr, but one with ESTATE when
//  quiet_estate: the caller says it better. *reply is always initialised.
int jobctl_call (const jobctl_options_t *options, msgpack_sbuffer *request, msgpack_unpacked *reply,
                 bool quiet_estate);

//  Sends a query (its buffer destroyed) and hands back its reply as JSON without the wire
//  envelope (v, type, re, ok): *json_p, fresh. Returns an exit code; says why on stderr but
//  with quiet set (then the caller does).
int jobctl_query_json (const jobctl_options_t *options, jobctl_request_t *request, json_t **json_p);

//  Sends one event built by the caller (its source set to "jobctl", a reply asked). Returns an
//  exit code (a refusal said on stderr, but ESTATE when quiet_estate), and reads the reply into
//  *read: with EXIT_OK its job and outcome, with a refusal its rc and reason. With JSON output,
//  *json_p is the reply as JSON (fresh, with its envelope) when there was one; else NULL.
int jobctl_event_call (const jobctl_options_t *options, jobd_event_t *event, bool quiet_estate,
                       jobd_reply_t *read, json_t **json_p);

//  Prints a reply (json, consumed) for -o json, without the wire envelope. Returns an exit code.
int jobctl_print_reply (json_t *json);

//  Removes the wire envelope of a reply (v, type, re, ok) from json. Returns json.
json_t *jobctl_unwrap (json_t *json);

//  Prints value for -o json (one value on one line) or -o jsonl (an array: one item a line).
//  Returns an exit code.
int jobctl_print_output_json (const jobctl_options_t *options, const json_t *value);

//  Parses a state list ("failed,LOST": any case). Returns 0 with *mask_p (1 << state each) and
//  upper (the names upper-cased, for jobd), or -1 with a reason naming the bad name.
int jobctl_state_mask (const char *states, uint32_t *mask_p, char *upper, size_t upper_size,
                       char *reason, size_t reason_size);

//  The commands that live in files of their own (jobctl_lists.c, jobctl_show.c,
//  jobctl_watch.c, jobctl_health.c, jobctl_partition.c). Each returns its exit code.
int jobctl_cmd_ls (const jobctl_options_t *options, int argc, char **argv);
int jobctl_cmd_stats (const jobctl_options_t *options, int argc, char **argv);
int jobctl_cmd_plugins (const jobctl_options_t *options, int argc, char **argv);
int jobctl_cmd_cursors (const jobctl_options_t *options, int argc, char **argv);
int jobctl_cmd_show (const jobctl_options_t *options, int argc, char **argv);
int jobctl_cmd_retry (const jobctl_options_t *options, int argc, char **argv);
int jobctl_cmd_watch (const jobctl_options_t *options, int argc, char **argv);
int jobctl_cmd_health (const jobctl_options_t *options, int argc, char **argv);
int jobctl_cmd_partition (const jobctl_options_t *options, int argc, char **argv);
int jobctl_cmd_cluster (const jobctl_options_t *options, int argc, char **argv);

//  Asks jobd for the first limit jobs (at most 10,000) in order sort (a jobd_order key) that match
//  the options' state, kind, name, backend, --since and --until, or reads the store when jobd is
//  down (every match: the caller sorts and limits). The filters are applied here too (an older
//  jobd ignores backend, sort, since and until). Returns an exit code; with EXIT_OK, *jobs_p
//  (fresh: jobctl_jobs_free) holds *count_p records, *truncated_p says whether more matched.
int jobctl_jobs_fetch (const jobctl_options_t *options, bool store_when_down, const char *sort,
                       uint64_t limit, jobd_job_t ***jobs_p, size_t *count_p, bool *truncated_p);
void jobctl_jobs_free (jobd_job_t ***jobs_p, size_t count);

//  Opens the store read-only for a read while jobd is down, its pages checked first. Returns an
//  exit code (EXIT_DAMAGED, EXIT_UNREACHABLE with the reason said), EXIT_OK with *store_p.
int jobctl_open_store (const jobctl_options_t *options, jobd_store_t **store_p);

//  Says that a read of the store found damage (what), with what to do. Returns EXIT_DAMAGED.
int jobctl_damaged (const jobctl_options_t *options, const char *what);

#endif
