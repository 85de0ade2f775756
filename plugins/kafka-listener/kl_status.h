//  kafka-listener: the job status event producers send, in JSON or msgpack, read into an
//  `observed` event (the format is in proto/README.md, "Kafka job status events").
#ifndef KL_STATUS_H_INCLUDED
#define KL_STATUS_H_INCLUDED

#include "jobd_event.h"
#include <stdbool.h>
#include <stddef.h>

#define KL_PAYLOAD_MAX   (256 * 1024)       //  larger payloads are dead-lettered unread
#define KL_HEARTBEAT_MAX JOBD_HEARTBEAT_MAX //  the longest heartbeat promise: 30 days

//  How to read events that do not say everything themselves.
typedef struct {
    const char *source;  //  the `src` of the observations ("kafka-listener")
    const char *backend; //  backend name for events that give an ext but no backend
    const char *kind;    //  kind of jobs registered from events ("kafka")
    bool create;         //  register unknown jobs (kind + ext) instead of refusing them
} kl_options_t;

//  Maps a producer's state word (any case): the jobd names, and STARTED, COMPLETED, ERROR and
//  their kin (see README). Returns JOBD_STATE_NONE for an unknown word.
jobd_state_t kl_map_state (const char *word);

//  Reads one payload (JSON when it starts with '{' after blanks, msgpack otherwise) into a fresh
//  observed event. fallback_id names the event when the payload has no id ("topic/partition/
//  offset"). Returns 0 and sets *event_p, and *heartbeat_p (when not NULL) to the producer's
//  heartbeat promise in ms (0: none); or JOBD_EPROTO / JOBD_ETOOBIG with a reason for the
//  dead-letter header.
int kl_status_decode (const void *payload, size_t size, const kl_options_t *options,
                      const char *fallback_id, jobd_event_t **event_p, int64_t *heartbeat_p,
                      char *reason, size_t reason_size);

//  The simple case of kl_status_decode (a flat JSON object of the plugin's keys, plain strings,
//  integers, null), without an allocation: fills event, whose strings borrow from strings
//  (strings_size bytes, at least size + 1 to be used), options and fallback_id; it must never be
//  freed or have its strings changed. Returns 1 when the payload is not the simple case (read it
//  with kl_status_decode_jansson then), else what kl_status_decode returns.
int kl_status_read (const void *payload, size_t size, const kl_options_t *options,
                    const char *fallback_id, jobd_event_t *event, char *strings,
                    size_t strings_size, int64_t *heartbeat_p, char *reason, size_t reason_size);

//  The same, every payload read by jansson (kl_status_decode reads the simple ones itself): for
//  the tests and the fuzzer, which hold the two readings to the same results.
int kl_status_decode_jansson (const void *payload, size_t size, const kl_options_t *options,
                              const char *fallback_id, jobd_event_t **event_p, int64_t *heartbeat_p,
                              char *reason, size_t reason_size);

#endif
