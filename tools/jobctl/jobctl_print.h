//  jobctl's output: human tables and lines by default, JSON for scripts.
#ifndef JOBCTL_PRINT_H_INCLUDED
#define JOBCTL_PRINT_H_INCLUDED

#include "jobd_event.h"
#include "jobd_job.h"
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>

//  Returns a fresh JSON value for a msgpack object (maps with string keys become objects,
//  bin becomes hex text, bytes that are not UTF-8 become U+FFFD: see jobd_json.h). NULL when out
//  of memory.
json_t *jobctl_json_from_msgpack (const msgpack_object *obj);

//  Prints one JSON value on one line of out, and flushes it. Returns 0, or -1 after saying why
//  on stderr: value is NULL (out of memory), it cannot be written as JSON, or out refused the
//  bytes (a full disk, a closed pipe). jobctl never prints nothing and exits 0.
int jobctl_print_json (FILE *out, const json_t *value);

//  jobctl's one time format, ISO 8601 with its zone: UTC ("2026-12-03T23:41:07Z"), or local
//  time when TZ is set ("2026-12-04T00:41:07+01:00"). Formats ms since the epoch into buffer
//  ("-" for 0); returns buffer.
const char *jobctl_format_time (int64_t ms, char *buffer, size_t size);

//  The same with milliseconds, "2026-12-03T23:41:07.123Z", for lines of events (watch, history).
const char *jobctl_format_time_ms (int64_t ms, char *buffer, size_t size);

//  Writes how long ago ms was, seen at now, in one unit for table columns ("45s", "12m", "3h",
//  "2d"; "-" when ms is 0) into buffer; returns buffer.
const char *jobctl_format_age (int64_t ms, int64_t now, char *buffer, size_t size);

//  Writes a span of time in two units ("45s", "1m40s", "2h5m", "3d") into buffer; returns it.
const char *jobctl_format_span (int64_t span, char *buffer, size_t size);

//  Writes how far ms is from now, in two units: "in 1m40s" (ahead), "3h5m ago" (past), "now"
//  (within a second) into buffer; returns buffer.
const char *jobctl_format_countdown (int64_t ms, int64_t now, char *buffer, size_t size);

//  The length of text's first line (0 for NULL).
int jobctl_line_length (const char *text);

//  The CAUSE column of ls: why the job is in its state, while that explains it; a RETRY_WAIT
//  job's leads with its countdown and class (seen at now), a FAILED job no retry follows with
//  "no retry". Returns buffer, job->cause, or NULL (nothing to say).
const char *jobctl_row_cause (const jobd_job_t *job, int64_t now, char *buffer, size_t size);

//  Prints a job record as "key: value" lines (with its pending retry, or why none follows).
void jobctl_print_job (FILE *out, const jobd_job_t *job);

//  Prints one transition as one line: time, job, from -> to, attempt, source, and for a retry
//  planned (RETRY_WAIT) its due time and class, then the cause (else the error's first line).
void jobctl_print_transition (FILE *out, const jobd_event_t *transition);

//  Prints a job's current state as one line laid out as a transition's (watch's first lines):
//  its last change's time, id, seq, "(current)" where a transition has its "FROM ->", state,
//  attempt, name, and its cause (seen at now).
void jobctl_print_current (FILE *out, const jobd_job_t *job, int64_t now);

//  Prints a job's history (count transitions), one line each as above, a retry's due time
//  without its countdown (the attempts section says which retry is pending).
void jobctl_print_history (FILE *out, jobd_event_t *const *history, size_t count);

//  Prints one stale event as one line: the job, its state, how long it has been silent.
void jobctl_print_stale (FILE *out, const jobd_event_t *stale);

//  Prints one cancel.failed event as one line: the job, the status, the backend, the reason.
void jobctl_print_cancel_failed (FILE *out, const jobd_event_t *failed);

//  Prints one retry.plan FAILED event (topic retry.final.<id>) as one line: the job failed for
//  good, and why.
void jobctl_print_retry_final (FILE *out, const jobd_event_t *final);

//  Prints the attempts section of show: one block per attempt in history (count transitions in
//  seq order), with its start and end, end state and cause, the retry planned after it (class,
//  policy, change, due time) and, for the job's current attempt, its next retry (seen at now)
//  or why none follows (the record's retry_final).
void jobctl_print_attempts (FILE *out, const jobd_job_t *job, jobd_event_t *const *history,
                            size_t count, int64_t now);

//  Prints what a retry came to: outcome "forwarded" (the retry plugin plans the next attempt),
//  "changed" (the transitions of history after after_seq: the retry's, and any since), or
//  another outcome (nothing to do).
void jobctl_print_retry_outcome (FILE *out, const char *job, const char *outcome,
                                 jobd_event_t *const *history, size_t count, uint64_t after_seq);

//  Prints why jobd refused a retry (ESTATE) of job, as it is now: its state and reason (jobd's,
//  else what a retry, or with stop a retry --cancel, takes) and, while it waits, its next
//  attempt's time (seen at now).
void jobctl_print_retry_refused (FILE *out, const jobd_job_t *job, const char *reason, bool stop,
                                 int64_t now);

//  Returns the job record as a fresh JSON object: the record's fields (proto/README.md section
//  7), its spec as a JSON object when it parses.
json_t *jobctl_json_from_job (const jobd_job_t *job);

//  Returns the event as a fresh JSON object; a transition in the shape of the kafka-listener's
//  outbound topic: "from" always ("NONE" for a job's first), no "v" nor event "id".
json_t *jobctl_json_from_event (const jobd_event_t *event);

#endif
