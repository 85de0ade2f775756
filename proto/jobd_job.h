//  The job record: what the store keeps for each job, encoded as a msgpack map (see README.md).
#ifndef JOBD_JOB_H_INCLUDED
#define JOBD_JOB_H_INCLUDED

#include "jobd_error.h"
#include "jobd_state.h"
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Strings are heap-owned by the record, NULL when absent; times are ms since the epoch, 0 when
//  not reached yet.
typedef struct {
    char *id;             //  "id": jobd job id (required)
    char *name;           //  "name"
    char *kind;           //  "kind" (required): "spark", "kafka", ...
    char *backend;        //  "backend": configured backend name
    char *ext;            //  "ext": the backend's id for the job
    jobd_state_t state;   //  "state" (required)
    uint32_t attempt;     //  "attempt": 1-based
    uint64_t last_seq;    //  "last_seq": sequence number of the job's last transition
    int64_t queued_at;    //  "queued_at"
    int64_t submitted_at; //  "submitted_at"
    int64_t started_at;   //  "started_at"
    int64_t finished_at;  //  "finished_at"
    int64_t last_seen;    //  "last_seen": last observation of any kind
    int64_t updated_at;   //  "updated_at": last transition
    char *error;          //  "error": last error message
    char *spec;           //  "spec": JSON text of the submission spec
    //  The last cancel that went to the job's backend (appended: older readers skip them).
    char *cancel_status; //  "cancel_status": requested|refused|retrying|failed, or NULL
    char *cancel_error;  //  "cancel_error": why the backend's kill was refused or did not work
    int64_t cancel_at;   //  "cancel_at": when cancel_status was last set
    //  The last observation refused because its backend id belongs to another job (a backend
    //  that restarted and reused its ids): kept so that it is never dropped silently.
    char *conflict;      //  "conflict": what was refused and which job holds the id
    int64_t conflict_at; //  "conflict_at": when conflict was last set
    //  Freshness and deadlines (issue 13; appended: older readers skip them).
    int64_t confirmed_at; //  "confirmed_at": when its source last confirmed its state
    char *stale;          //  "stale": why the job was flagged stale in its current state, or NULL
    int64_t stale_at;     //  "stale_at": when it was flagged
    //  The last failure's one-line cause and the backend's links (appended, as above).
    char *cause;   //  "cause": one line out of error (jobd_cause.h)
    char *app_id;  //  "app_id": the application's id at the cluster
    char *app_url; //  "app_url": its web UI
    char *log_url; //  "log_url": the driver's log
    //  Retries (issue 14; appended, as above).
    int64_t retry_at;   //  "retry_at": RETRY_WAIT: when the next attempt starts; 0 otherwise
    char *retry_class;  //  "retry_class": the failure class of the last retry decision
    char *retry_policy; //  "retry_policy": the policy of the last retry decision
    char *retry_final;  //  "retry_final": FAILED for good: why no retry follows, or NULL
    //  Cluster (issue 18; appended, as above): the owner epoch of the last write of the record.
    uint64_t cl_epoch; //  "cl_epoch": 0 (absent) in a single instance
    //  The job's own heartbeat promise (issue 18; appended, as above): its freshness deadline
    //  while RUNNING, kept here so that a restart or another instance keeps it.
    int64_t heartbeat;       //  "heartbeat": ms between two signs of life; 0: none promised
    int64_t heartbeat_grace; //  "heartbeat_grace": ms of silence after the stale flag before LOST
} jobd_job_t;

//  Returns a fresh, zeroed record, or NULL when out of memory.
jobd_job_t *jobd_job_new (void);

//  Destroys the record and its strings; NULL-safe; sets *self_p to NULL.
void jobd_job_destroy (jobd_job_t **self_p);

//  Returns a fresh deep copy, or NULL.
jobd_job_t *jobd_job_dup (const jobd_job_t *self);

//  Encodes the record as one msgpack map. Returns 0 and sets *data_p (fresh, free() it) and
//  *size_p, or a negative error with a reason.
int jobd_job_encode (const jobd_job_t *self, uint8_t **data_p, size_t *size_p, char *reason,
                     size_t reason_size);

//  Decodes one record from exactly size bytes, with the same strictness as jobd_event_decode
//  (same string limits; unknown keys ignored). Returns 0 and sets *job_p (fresh), or JOBD_EPROTO
//  / JOBD_ETOOBIG with a reason.
int jobd_job_decode (const void *data, size_t size, jobd_job_t **job_p, char *reason,
                     size_t reason_size);

//  Packs the record as one msgpack map into pk. Returns 0 or a negative error.
int jobd_job_pack (const jobd_job_t *self, msgpack_packer *pk);

//  The same, appended to buffer directly (faster than through a packer). Returns 0 or -ENOMEM.
int jobd_job_pack_to (const jobd_job_t *self, msgpack_sbuffer *buffer);

//  Builds a record from a decoded msgpack object (a map), with the same strictness as
//  jobd_job_decode. Returns 0 and sets *job_p (fresh), or an error with a reason.
int jobd_job_from_object (const msgpack_object *obj, jobd_job_t **job_p, char *reason,
                          size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
