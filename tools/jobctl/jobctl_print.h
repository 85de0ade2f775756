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

//  Formats ms since the epoch as "YYYY-MM-DD HH:MM:SS" UTC into buffer ("-" for 0).
const char *jobctl_format_time (int64_t ms, char *buffer, size_t size);

//  Writes how long ago ms was, seen at now ("45s", "12m", "3h", "2d"; "-" when ms is 0) into
//  buffer; returns buffer.
const char *jobctl_format_age (int64_t ms, int64_t now, char *buffer, size_t size);

//  Prints the header of the job table, and one row per job.
void jobctl_print_job_header (FILE *out);
void jobctl_print_job_row (FILE *out, const jobd_job_t *job);

//  Prints a job record as "key: value" lines.
void jobctl_print_job (FILE *out, const jobd_job_t *job);

//  Prints one transition as one line: time, job, from -> to, attempt, source, error.
void jobctl_print_transition (FILE *out, const jobd_event_t *transition);

//  Prints one stale event as one line: the job, its state, how long it has been silent.
void jobctl_print_stale (FILE *out, const jobd_event_t *stale);

//  Prints one cancel.failed event as one line: the job, the status, the backend, the reason.
void jobctl_print_cancel_failed (FILE *out, const jobd_event_t *failed);

//  Returns the job record as a fresh JSON object.
json_t *jobctl_json_from_job (const jobd_job_t *job);

//  Returns the event as a fresh JSON object.
json_t *jobctl_json_from_event (const jobd_event_t *event);

#endif
