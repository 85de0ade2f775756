//  spark-sim: the classes the simulator's files share (one internal header for one tool).
#ifndef SIM_H_INCLUDED
#define SIM_H_INCLUDED

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <jansson.h>

#ifndef JOBD_VERSION
#define JOBD_VERSION "0.0.0"
#endif

//  The five faces of the simulator, plus its own control API.
typedef enum {
    SIM_BACKEND_STANDALONE, //  /v1/submissions/... (master REST submission server)
    SIM_BACKEND_MASTERUI,   //  /json/ (master web UI JSON)
    SIM_BACKEND_LIVY,       //  /batches...
    SIM_BACKEND_YARN,       //  /ws/v1/cluster/...
    SIM_BACKEND_HISTORY,    //  /api/v1/...
    SIM_BACKEND_CONTROL,    //  /sim/... (never faulted)
    SIM_BACKEND_COUNT
} sim_backend_t;

const char *sim_backend_name (sim_backend_t backend);
//  Returns the backend for a name ("standalone", "livy", ...), or -1.
int sim_backend_parse (const char *name);

// ---------------------------------------------------------------------------------------------
//  sim_buf: a growable byte buffer; the data is always NUL-terminated.
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} sim_buf_t;

void sim_buf_reserve (sim_buf_t *self, size_t more);
void sim_buf_append (sim_buf_t *self, const char *data, size_t len);
void sim_buf_puts (sim_buf_t *self, const char *text);
void sim_buf_printf (sim_buf_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
//  Hands the data over (fresh, caller frees; never NULL) and empties the buffer.
char *sim_buf_detach (sim_buf_t *self, size_t *len_p);
void sim_buf_reset (sim_buf_t *self);

// ---------------------------------------------------------------------------------------------
//  sim_jw: a streaming JSON writer. JACKSON is Jackson's DefaultPrettyPrinter ("key" : value,
//  arrays inline as [ a, b ], objects one key a line); COMPACT is Jackson/Jersey without spaces.
//  A NULL key means "array element". Keys are written in call order.
typedef enum { SIM_JW_COMPACT, SIM_JW_JACKSON } sim_jw_style_t;

#define SIM_JW_MAX_DEPTH 32
typedef struct {
    sim_buf_t buf;
    sim_jw_style_t style;
    int depth;
    int objects; //  open objects (Jackson indents by objects only)
    int count[SIM_JW_MAX_DEPTH];
    bool is_obj[SIM_JW_MAX_DEPTH];
} sim_jw_t;

void sim_jw_init (sim_jw_t *self, sim_jw_style_t style);
void sim_jw_obj (sim_jw_t *self, const char *key);
void sim_jw_arr (sim_jw_t *self, const char *key);
void sim_jw_end (sim_jw_t *self);
//  A NULL value writes null.
void sim_jw_str (sim_jw_t *self, const char *key, const char *value);
void sim_jw_int (sim_jw_t *self, const char *key, int64_t value);
void sim_jw_real (sim_jw_t *self, const char *key, double value);
void sim_jw_bool (sim_jw_t *self, const char *key, bool value);
void sim_jw_null (sim_jw_t *self, const char *key);
//  Writes a jansson value (any type) in the writer's style.
void sim_jw_json (sim_jw_t *self, const char *key, const json_t *value);
//  Appends a JSON-escaped string (quotes included) to a buffer.
void sim_jw_escape (sim_buf_t *buf, const char *text);

// ---------------------------------------------------------------------------------------------
//  sim_hash: a chained hash table from string keys (copied) to borrowed items.
typedef struct _sim_hash_t sim_hash_t;

sim_hash_t *sim_hash_new (void);
void sim_hash_destroy (sim_hash_t **self_p);
//  Inserts or replaces. Returns 0.
int sim_hash_insert (sim_hash_t *self, const char *key, void *item);
void *sim_hash_lookup (sim_hash_t *self, const char *key);
//  Returns the removed item, or NULL.
void *sim_hash_delete (sim_hash_t *self, const char *key);
size_t sim_hash_size (sim_hash_t *self);
//  Calls fn for every entry, in no particular order.
void sim_hash_foreach (sim_hash_t *self, void (*fn) (const char *key, void *item, void *arg),
                       void *arg);

// ---------------------------------------------------------------------------------------------
//  sim_clock: the simulated clock (wall clock plus a fast-forward offset) and Spark date formats.
int64_t sim_clock_now (void);
int64_t sim_clock_offset (void);
void sim_clock_advance (int64_t ms);
//  yyyyMMddHHmmss in local time (driver ids); buf needs 16 bytes.
void sim_clock_compact (int64_t ms, char *buf);
//  Java's Date.toString: "Fri Nov 24 15:35:31 UTC 2023"; buf needs 40 bytes.
void sim_clock_javadate (int64_t ms, char *buf);
//  Spark /api/v1 dates: "2020-08-13T03:29:37.826GMT"; buf needs 32 bytes.
void sim_clock_gmt (int64_t ms, char *buf);
//  log4j-style "24/11/28 11:46:00"; buf needs 24 bytes.
void sim_clock_log (int64_t ms, char *buf);
//  Parses yyyy-MM-dd'T'HH:mm:ss.SSSz or yyyy-MM-dd (GMT). Returns 0, or -1 if malformed.
int sim_clock_parse (const char *text, int64_t *ms_p);

// ---------------------------------------------------------------------------------------------
//  sim_scenario: how a job goes: queue time, run time, outcome.
typedef enum {
    SIM_OUTCOME_SUCCESS,
    SIM_OUTCOME_FAIL,
    SIM_OUTCOME_KILL,
    SIM_OUTCOME_RELAUNCH,
    SIM_OUTCOME_VANISH
} sim_outcome_t;

typedef struct _sim_scenario_t sim_scenario_t;
struct _sim_scenario_t {
    int64_t queue_ms;
    int64_t run_ms;
    sim_outcome_t outcome;
    sim_outcome_t then;    //  the replacement's outcome after a relaunch
    char *error;           //  exception / diagnostics text for fail
    char *final_state;     //  optional override of the backend's terminal state name
    int spark_jobs;        //  Spark jobs inside the app (history /jobs)
    bool quiet;            //  a failure leaves no reason (standalone message, Livy log, YARN
                           //  diagnostics): what a caller without view access, or a lost worker,
                           //  gets (reference 1.9, 3.4, 4.4)
    int64_t min_memory_mb; //  > 0: a job with less executor memory fails with SIM_OOM_ERROR
    sim_scenario_t *next;  //  the store keeps every scenario it made in a list
};

const char *sim_outcome_name (sim_outcome_t outcome);
//  Returns a fresh scenario: a copy of base (or the built-in default when base is NULL)
//  with the "key=value,..." text applied, or NULL with a reason in err.
sim_scenario_t *sim_scenario_parse (const sim_scenario_t *base, const char *text, char *err,
                                    size_t errlen);
//  Same from JSON: a string in the text form, or an object with the same keys.
sim_scenario_t *sim_scenario_from_json (const sim_scenario_t *base, const json_t *json, char *err,
                                        size_t errlen);
//  Returns a fresh copy with outcome set to base->then (the relaunched driver's scenario).
sim_scenario_t *sim_scenario_successor (const sim_scenario_t *base);
//  Returns a fresh JSON object.
json_t *sim_scenario_json (const sim_scenario_t *self);
//  The failure of a job whose executors have too little memory (scenario key min_memory).
#define SIM_OOM_ERROR "java.lang.OutOfMemoryError: Java heap space"
//  The scenario a new job runs with executor_memory (its spark.executor.memory or Livy
//  executorMemory; NULL: Spark's default, 1g): given (consumed, may be NULL: base, the default
//  scenario, applies), failing with SIM_OOM_ERROR when that scenario's min_memory is more.
//  Returns given, or a fresh copy of base made to fail, or NULL when given was NULL and base fits.
sim_scenario_t *sim_scenario_fit (const sim_scenario_t *base, sim_scenario_t *given,
                                  const char *executor_memory);
//  Utils.memoryStringToMb: digits and an optional unit (b, k, m, g, t, p, with or without b;
//  none: MB); returns the size in MB, or -1 when malformed.
int64_t sim_memory_mb (const char *text);
void sim_scenario_destroy (sim_scenario_t **self_p);

// ---------------------------------------------------------------------------------------------
//  sim_config: the tunables; changed at run time only under the store lock.
typedef enum {
    SIM_YARN_EMPTY_OBJECT, //  "apps":{}
    SIM_YARN_EMPTY_STRING, //  "apps":""
    SIM_YARN_EMPTY_NULL    //  "apps":null
} sim_yarn_empty_t;

typedef struct {
    char spark_version[32];
    int retained_drivers;   //  spark.deploy.retainedDrivers
    int yarn_max_completed; //  yarn.resourcemanager.max-completed-applications (0: no limit)
    int64_t livy_retain_ms; //  livy.server.session.state-retain.sec
    int64_t kill_delay_ms;  //  how long a kill of a running job takes
    sim_yarn_empty_t yarn_empty;
    bool yarn_require_user;          //  PUT .../state needs ?user.name=
    bool livy_csrf;                  //  non-GET Livy requests need X-Requested-By
    bool standby;                    //  the standalone master is a STANDBY
    bool kill_ignore;                //  kills are answered as taken, and nothing is killed
    bool yarn_negotiate;             //  every RM request needs Authorization: Negotiate (else 401)
    char yarn_delegation_token[256]; //  ?delegation= must be this one (when set)
    char livy_users[512];            //  "user:password,...": Livy needs HTTP basic (else 401)
    char livy_modify_users[256];     //  "user,...": who may DELETE a batch (else 403)
    char standalone_token[256];      //  the REST server needs Authorization: Bearer (else 403)
    int64_t cluster_ts;              //  YARN cluster timestamp in application ids
    int port;
} sim_config_t;

//  Spark's major version from config->spark_version.
int sim_config_spark_major (const sim_config_t *self);

// ---------------------------------------------------------------------------------------------
//  sim_heap: a min-heap of timed events on jobs.
typedef struct _sim_job_t sim_job_t;
typedef enum { SIM_EVENT_END, SIM_EVENT_GC } sim_event_type_t;
typedef struct {
    int64_t time;
    sim_job_t *job;
    sim_event_type_t type;
} sim_event_t;
typedef struct _sim_heap_t sim_heap_t;

sim_heap_t *sim_heap_new (void);
void sim_heap_destroy (sim_heap_t **self_p);
void sim_heap_push (sim_heap_t *self, sim_event_t event);
//  Pops the earliest event if it is due at or before now. Returns true when it did.
bool sim_heap_pop_due (sim_heap_t *self, int64_t now, sim_event_t *event);
//  Empties the heap, calling fn on each event's job.
void sim_heap_drain (sim_heap_t *self, void (*fn) (sim_job_t *job, void *arg), void *arg);

// ---------------------------------------------------------------------------------------------
//  sim_jobs: the job table. Time progression is computed from timestamps on demand; a heap of
//  end times drives what must happen once (retention lists, relaunch, Livy GC, vanish).
typedef enum {
    SIM_PHASE_QUEUED,
    SIM_PHASE_RUNNING,
    SIM_PHASE_KILLING, //  kill requested, not yet complete
    SIM_PHASE_DONE,
    SIM_PHASE_GONE //  vanished or removed
} sim_phase_t;

struct _sim_job_t {
    char id[64];
    sim_backend_t backend;
    int64_t number; //  Livy's numeric id; the sequence number elsewhere
    char *name;
    char *user;
    char *queue;
    char *tags;        //  YARN applicationTags (comma-separated)
    char *main_class;  //  standalone mainclass, Livy className
    char *resource;    //  appResource / file
    char *app_id;      //  Livy: the YARN application id it reports once running
    char *successor;   //  standalone relaunch: the new driver id
    char *kill_reason; //  YARN diagnostics of a user kill
    int cores;
    int memory_mb;
    const sim_scenario_t *scenario;
    int64_t created_ms;
    int64_t start_ms; //  leaves the queue
    int64_t end_ms;   //  reaches its terminal state
    int64_t kill_ms;  //  -1, or when a kill was requested
    sim_outcome_t outcome;
    bool finished; //  its end was processed (it is in, or went through, the completed list)
    bool removed;
    int refs; //  table membership plus heap events
    sim_job_t *prev, *next;
    sim_job_t *cprev, *cnext;
};

typedef struct _sim_jobs_t sim_jobs_t;

//  What a new job needs; unset strings may be NULL.
typedef struct {
    const char *name;
    const char *user;
    const char *queue;
    const char *tags;
    const char *main_class;
    const char *resource;
    int cores;
    int memory_mb;
    const sim_scenario_t *scenario; //  NULL: the default scenario
} sim_job_spec_t;

//  config is borrowed and must outlive the store.
sim_jobs_t *sim_jobs_new (sim_config_t *config);
void sim_jobs_destroy (sim_jobs_t **self_p);
//  Locks the store, applies everything due, and returns the simulated now.
int64_t sim_jobs_enter (sim_jobs_t *self);
void sim_jobs_leave (sim_jobs_t *self);
//  Keeps a scenario (consumed) for the store's lifetime and returns it, borrowed.
const sim_scenario_t *sim_jobs_keep (sim_jobs_t *self, sim_scenario_t **scenario_p);
const sim_scenario_t *sim_jobs_default (sim_jobs_t *self);
void sim_jobs_set_default (sim_jobs_t *self, sim_scenario_t **scenario_p);
//  Creates a job at now. Returns it (borrowed, valid while the lock is held).
sim_job_t *sim_jobs_add (sim_jobs_t *self, sim_backend_t backend, const sim_job_spec_t *spec,
                         int64_t now);
sim_job_t *sim_jobs_lookup (sim_jobs_t *self, sim_backend_t backend, const char *id);
//  Livy: looks a batch up by name.
sim_job_t *sim_jobs_lookup_name (sim_jobs_t *self, const char *name);
void sim_jobs_remove (sim_jobs_t *self, sim_job_t *job);
//  Requests a kill at now; it completes after delay_ms (0: at once). Returns 0, or -1 when the
//  job already ended or a kill is already on its way.
int sim_jobs_kill (sim_jobs_t *self, sim_job_t *job, int64_t now, int64_t delay_ms);
sim_phase_t sim_jobs_phase (const sim_job_t *job, int64_t now);
//  True once the job left the queue (it was not killed while still queued).
bool sim_jobs_started (const sim_job_t *job, int64_t now);
//  Jobs of a backend in creation order (NULL at the end).
sim_job_t *sim_jobs_first (sim_jobs_t *self, sim_backend_t backend);
//  Retained completed jobs (standalone, YARN) in completion order.
sim_job_t *sim_jobs_first_completed (sim_jobs_t *self, sim_backend_t backend);
size_t sim_jobs_count (sim_jobs_t *self, sim_backend_t backend);
//  Drops every completed job of a backend (standalone /clear).
void sim_jobs_clear_completed (sim_jobs_t *self, sim_backend_t backend);
//  Drops every job of every backend.
void sim_jobs_reset (sim_jobs_t *self);
//  The backend restarts without recovery (reference: Livy's ids start at 0 again, the YARN RM
//  gets a new cluster timestamp and numbers from 1, a master's driver and app counters start at
//  0): it forgets every job it held.
void sim_jobs_restart (sim_jobs_t *self, sim_backend_t backend, int64_t now);

// ---------------------------------------------------------------------------------------------
//  sim_req: one HTTP request and the reply being built for it.
typedef struct _sim_req_t sim_req_t;
typedef struct _sim_route_t sim_route_t;
typedef struct _sim_t sim_t;

#define SIM_MAX_SEGS 16
struct _sim_req_t {
    void *conn; //  struct MHD_Connection *
    const char *method;
    const char *url;
    char *path_copy;
    char *seg[SIM_MAX_SEGS]; //  non-empty path segments
    int nseg;
    char *body;
    size_t body_len;
    size_t body_cap;
    bool too_large;
    const sim_route_t *route;
    //  the reply
    int status;
    const char *ctype;
    sim_buf_t out;
    char *location;
    char *authenticate; //  WWW-Authenticate of a 401, or NULL
    bool close;         //  drop the connection instead of replying
};

//  The first value of a query parameter, or NULL.
const char *sim_req_arg (sim_req_t *self, const char *key);
//  All values of a repeated query parameter; returns how many (at most max).
int sim_req_args (sim_req_t *self, const char *key, const char **values, int max);
const char *sim_req_header (sim_req_t *self, const char *name);
//  Parses the body as JSON. Returns a fresh value, or NULL with the parser's reason in err.
json_t *sim_req_json (sim_req_t *self, char *err, size_t errlen);
//  Sets a plain reply: status, content type and text.
void sim_req_reply (sim_req_t *self, int status, const char *ctype, const char *text);
//  Sets the reply to the writer's output (the writer is emptied).
void sim_req_reply_jw (sim_req_t *self, int status, const char *ctype, sim_jw_t *writer);
//  Replies with a one-key compact JSON object: {"key":"value"}.
void sim_req_reply_pair (sim_req_t *self, int status, const char *ctype, const char *key,
                         const char *value);
//  Replies with a jansson value, compact, keys sorted (the control API).
void sim_req_reply_json (sim_req_t *self, int status, json_t *value);
//  Splits text on sep into its non-empty pieces (at most max), which point into *copy_p (fresh,
//  caller frees). Returns how many.
int sim_split (const char *text, char sep, char **copy_p, char **parts, int max);
//  Parses a decimal integer; returns 0, or -1 if text is not one.
int sim_parse_int (const char *text, int64_t *value_p);

// ---------------------------------------------------------------------------------------------
//  sim_auth: authentication in front of the APIs, when configured.
//  Checks the request against its backend's configured authentication; false when refused (the
//  reply is set).
bool sim_auth_check (sim_t *sim, sim_req_t *req, int backend);
//  The HTTP basic user (into user) and whether its "user:password" is in users (any, when
//  users is empty). False, with user empty, without basic credentials.
bool sim_auth_basic_user (sim_req_t *req, const char *users, char *user, size_t size);
//  Whether name is in the comma-separated list.
bool sim_auth_in_list (const char *list, const char *name);

// ---------------------------------------------------------------------------------------------
//  Routing: every backend exports a table; sim_server matches them in order.
typedef void (sim_handler_fn) (sim_t *sim, sim_req_t *req);
struct _sim_route_t {
    const char *method;  //  NULL: any method
    const char *pattern; //  "/ws/v1/cluster/apps/{id}/state"; "**" matches the rest
    sim_backend_t backend;
    sim_handler_fn *handler;
    bool fallback; //  a catch-all: a method mismatch on an earlier route wins (405)
};

//  A plain 404 for paths under a backend's prefix that it does not serve.
void sim_server_not_found (sim_t *sim, sim_req_t *req);

extern const sim_route_t sim_standalone_routes[];
extern const sim_route_t sim_masterui_routes[];
extern const sim_route_t sim_livy_routes[];
extern const sim_route_t sim_yarn_routes[];
extern const sim_route_t sim_history_routes[];
extern const sim_route_t sim_control_routes[];

//  Standalone helpers shared with the master UI and the server.
//  The driverState of a standalone driver at now (never NULL).
const char *sim_standalone_state (const sim_job_t *job, int64_t now);
//  The simulated worker's id and host:port (borrowed, static).
const char *sim_standalone_worker (sim_t *sim, const char **host_port_p);
//  Replies 468 "Unknown protocol version" for version (NULL: the request's first path segment).
void sim_standalone_version_error (sim_t *sim, sim_req_t *req, const char *version);

// ---------------------------------------------------------------------------------------------
//  sim_fault: fault injection rules.
typedef enum {
    SIM_FAULT_DOWN,
    SIM_FAULT_SLOW,
    SIM_FAULT_HTTP5XX,
    SIM_FAULT_HTML,
    SIM_FAULT_GARBAGE,
    SIM_FAULT_TRUNCATED,
    SIM_FAULT_VERSION
} sim_fault_mode_t;

typedef struct {
    int id;
    sim_fault_mode_t mode;
    int backend; //  -1: any (then prefix decides)
    char prefix[128];
    char method[16]; //  "": any
    int status;
    int64_t delay_ms;
    int count; //  -1: until cleared
    char body[512];
} sim_fault_rule_t;

typedef struct _sim_fault_t sim_fault_t;

sim_fault_t *sim_fault_new (void);
void sim_fault_destroy (sim_fault_t **self_p);
//  Adds a rule from JSON. Returns its id, or -1 with a reason in err.
int sim_fault_add (sim_fault_t *self, const json_t *spec, char *err, size_t errlen);
//  Removes one rule (id > 0) or all (id 0). Returns how many were removed.
int sim_fault_clear (sim_fault_t *self, int id);
//  Finds the first rule for this request, uses one of its count, and copies it to rule.
bool sim_fault_match (sim_fault_t *self, sim_backend_t backend, const char *method,
                      const char *path, sim_fault_rule_t *rule);
//  Returns a fresh JSON array of the active rules.
json_t *sim_fault_json (sim_fault_t *self);

// ---------------------------------------------------------------------------------------------
//  sim_agents: requests per User-Agent; per job, the runs of requests by one agent after
//  another; requests whose X-Jobd-Epoch is below one seen before for the job (sim_agents.c).
typedef struct _sim_agents_t sim_agents_t;

sim_agents_t *sim_agents_new (void);
void sim_agents_destroy (sim_agents_t **self_p);
void sim_agents_reset (sim_agents_t *self);
//  Counts req under its User-Agent ("(none)" without one).
void sim_agents_request (sim_agents_t *self, sim_req_t *req);
//  req concerned job_id (the backend's id): extends its agent's run, or starts a new one.
void sim_agents_job (sim_agents_t *self, sim_req_t *req, const char *job_id);
//  Sets "agents", "jobs_by_agent" and "stale_epoch_requests" in into.
void sim_agents_json (sim_agents_t *self, json_t *into);

// ---------------------------------------------------------------------------------------------
//  sim_stats: request counts per endpoint (method + route pattern), backend and status.
typedef struct _sim_stats_t sim_stats_t;

sim_stats_t *sim_stats_new (void);
void sim_stats_destroy (sim_stats_t **self_p);
void sim_stats_record (sim_stats_t *self, const char *method, const sim_route_t *route, int backend,
                       int status, bool faulted);
//  Counts one job made by a create (standalone, Livy) under key: the attempt's tag or name
//  ("creates" in the JSON: how many times one attempt was created, whatever its requests).
void sim_stats_created (sim_stats_t *self, const char *key);
void sim_stats_reset (sim_stats_t *self);
//  Returns a fresh JSON object.
json_t *sim_stats_json (sim_stats_t *self);

// ---------------------------------------------------------------------------------------------
//  sim_server: the HTTP server (one libmicrohttpd daemon) and the simulator's shared state.
struct _sim_t {
    sim_config_t config;
    sim_jobs_t *jobs;
    sim_fault_t *faults;
    sim_stats_t *stats;
    sim_agents_t *agents;
    void *daemon;
    int threads;        //  0: a thread per connection
    char worker_id[96]; //  the one simulated standalone worker
    volatile int stopping;
};

//  Creates the simulator and starts listening on 127.0.0.1:config->port (0: any free port;
//  config->port then holds the bound port). Returns NULL with a reason in err.
sim_t *sim_server_new (const sim_config_t *config, sim_scenario_t **default_p, int threads,
                       char *err, size_t errlen);
void sim_server_destroy (sim_t **self_p);

#endif
