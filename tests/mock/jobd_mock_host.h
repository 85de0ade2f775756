//  A mock host (collectd's plugin_mock): runs a plugin's descriptor (dlopen-ed from its .so, as
//  jobd does) without the daemon, so that its logic is unit-tested. It builds a jobd_host_t
//  (config from key/value pairs, an in-memory job table and transition log, batch_max), runs init
//  on the caller's thread and run on a thread of its own with the real inproc sockets, and keeps
//  the broker's ends of the bus (a ROUTER) and of the events (an XPUB): a test reads what the
//  plugin sends, answers it, publishes to it, and stops it with $TERM. Log lines are recorded.
//  One mock host at a time per process: it binds JOBD_BUS_ENDPOINT and JOBD_EVENTS_ENDPOINT.
#ifndef JOBD_MOCK_HOST_H_INCLUDED
#define JOBD_MOCK_HOST_H_INCLUDED

#include "jobd_answer.h"
#include "jobd_plugin.h"

typedef struct jobd_mock_host jobd_mock_host_t;

//  A host for the plugin section name (host->plugin_name). NULL when the endpoints are taken.
jobd_mock_host_t *jobd_mock_host_new (const char *name);

//  Stops the plugin if it runs (jobd_mock_host_stop), unloads it and frees the host; NULL-safe;
//  sets *self_p to NULL.
void jobd_mock_host_destroy (jobd_mock_host_t **self_p);

//  A cmocka teardown: destroys the mock host still alive (a test that failed half-way left it),
//  so that the next test can make its own. Returns 0.
int jobd_mock_host_teardown (void **state);

//  Sets a config key of the plugin's section ("step", "backend/local/url"): set before start.
void jobd_mock_host_set (jobd_mock_host_t *self, const char *key, const char *value);

//  Sets host->batch_max (0 by default: observations one by one).
void jobd_mock_host_set_batch_max (jobd_mock_host_t *self, uint32_t batch_max);

//  Cluster mode (ABI 1.7): host->instance becomes instance, and job_acting answers for each job
//  as jobd_mock_host_acting set it (acting, by default). Before start.
void jobd_mock_host_cluster (jobd_mock_host_t *self, const char *instance);

//  Whether this instance acts on job id (its partition is 0, its epoch 1); each call moves
//  acting_changes on. Any time.
void jobd_mock_host_acting (jobd_mock_host_t *self, const char *id, bool acting);

//  Puts a copy of job into the job table (replacing the job of the same id). Any time.
void jobd_mock_host_job_put (jobd_mock_host_t *self, const jobd_job_t *job);

//  Appends an encoded event (a transition, or a stale event) to the transition log; returns its
//  position (1, 2, ...).
uint64_t jobd_mock_host_log_append (jobd_mock_host_t *self, const uint8_t *data, size_t size);

//  Logs event (encoded) and publishes it under topic when topic is not NULL, as the broker does
//  after a commit. Returns its log position, or 0 when it does not encode or cannot be sent.
uint64_t jobd_mock_host_log_event (jobd_mock_host_t *self, const char *topic,
                                   const jobd_event_t *event);

//  Loads the plugin (dlopen RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE, as jobd does) and returns its
//  descriptor, borrowed until destroy, or NULL with the reason. plugin is a path to a .so, or a
//  name: the plugin built in this build tree ($JOBD_BUILD_DIR/plugins/<name>.so).
const jobd_plugin_t *jobd_mock_host_load (jobd_mock_host_t *self, const char *plugin, char *reason,
                                          size_t reason_size);

//  A mock host for the plugin built in this tree under name (jobd_mock_host_load), with the
//  config pairs (key, value, ..., NULL; config may be NULL) set: the usual start of a plugin's
//  test. Returns it and sets *plugin_p, or NULL with the reason (nothing left behind).
jobd_mock_host_t *jobd_mock_host_open (const char *name, const char *const *config,
                                       const jobd_plugin_t **plugin_p, char *reason,
                                       size_t reason_size);
//  Checks the config against plugin's map (unknown keys, missing required ones), calls its init
//  on this thread and, when it succeeds, starts run on a thread of its own. Returns 0, or the
//  init's error (or JOBD_ECONFIG) with its reason.
int jobd_mock_host_start (jobd_mock_host_t *self, const jobd_plugin_t *plugin, char *reason,
                          size_t reason_size);

//  Checks a submission as jobd's broker does, with the started plugin's validate (ABI 1.4): on
//  this thread, while run runs. Returns what validate returned (reason filled), or 0 when the
//  plugin has no validate (a submission of its kinds is accepted unchecked).
int jobd_mock_host_validate (jobd_mock_host_t *self, const char *kind, const char *backend,
                             const char *name, const char *spec, char *reason, size_t reason_size);

//  Sends $TERM, waits for run to return and calls destroy. Returns what run returned (0 when it
//  was not running).
int jobd_mock_host_stop (jobd_mock_host_t *self);

//  The next event the plugin sent on the bus (fresh), or NULL when none came within timeout ms.
//  Events that do not decode fail the test's expectations: they are logged and skipped.
jobd_event_t *jobd_mock_host_recv (jobd_mock_host_t *self, int timeout);

//  The next event of type the plugin sent, skipping others (plugin.status, ...), or NULL when
//  none came within timeout ms.
jobd_event_t *jobd_mock_host_expect (jobd_mock_host_t *self, jobd_event_type_t type, int timeout);

//  Answers the plugin's last sender as the broker does (proto/README.md, replies): re =
//  event_id; ok when error (an error name: "EFULL", "ESTATE", ...) is NULL, else error and
//  reason; job (the job the event applied to) and outcome ("changed", "duplicate", ...) when not
//  NULL. Packed with the broker's codec (jobd_reply_pack). Returns 0, -EINVAL for an error name
//  jobd does not know, or another negative error.
int jobd_mock_host_reply (jobd_mock_host_t *self, const char *event_id, const char *error,
                          const char *reason, const char *job, const char *outcome);

//  Waits up to timeout ms until the plugin subscribed to a topic that is a prefix of topic.
//  Returns true when it did.
bool jobd_mock_host_subscribed (jobd_mock_host_t *self, const char *topic, int timeout);

//  Publishes event to the plugin under topic ("job.QUEUED.<id>", "cmd.cancel.<kind>"), as the
//  broker does. Returns 0 or a negative error.
int jobd_mock_host_publish (jobd_mock_host_t *self, const char *topic, const jobd_event_t *event);

//  Waits up to timeout ms until the plugin's figures (proto/README.md, section 3: those of the
//  last plugin.status received, which may have come before) hold name with a value of at least
//  min and the labels given as name, value pairs ended by NULL (an entry's other labels are not
//  looked at); other events are skipped meanwhile. True when they did: the value in *value_p
//  (may be NULL).
bool jobd_mock_host_figure (jobd_mock_host_t *self, const char *name, double min, double *value_p,
                            int timeout, ...) __attribute__ ((sentinel));

//  Plays the broker for one `plugins` query (proto/README.md section 12): waits up to timeout
//  ms for it (other messages the plugin sends meanwhile are read and dropped) and answers it with
//  plugins (packed by jobd_answer_pack_plugins, figures and all). True when one was answered.
bool jobd_mock_host_answer_plugins (jobd_mock_host_t *self, const jobd_answer_plugin_t *plugins,
                                    size_t count, int timeout);

//  Waits up to timeout ms for a log line of the plugin containing text. True when one did.
bool jobd_mock_host_log_wait (jobd_mock_host_t *self, const char *text, int timeout);

#endif
