//  Changelog messages of a jobd cluster (docs/cluster.md, section 5): their Kafka key and value
//  bytes, encoded and decoded in this one place. The decoder reads bytes from Kafka: untrusted.
#ifndef JOBD_CL_MSG_H_INCLUDED
#define JOBD_CL_MSG_H_INCLUDED

#include "jobd_job.h"
#include "jobd_store.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_CL_VERSION    1   //  every value's `v`
#define JOBD_CL_INST_MAX   64  //  an instance name: [A-Za-z0-9._-]{1,64}
#define JOBD_CL_NAME_MAX   255 //  a member id, a stream ("topic/partition"), a cursor's name
#define JOBD_CL_TIMERS_MAX 16  //  timers of one job in a record message

typedef enum {
    JOBD_CL_REC = 1, //  key: job id; `rec` (job record, checksum included) and `timers`
    JOBD_CL_EV,      //  key: job id, 0x00, be64 seq; `ev` (the history entry as published)
    JOBD_CL_OWNER,   //  key: "\0owner"; `type` claim|release, `member`
    JOBD_CL_IN,      //  key: "\0in"; `offset`: the next jobs-topic offset to apply
    JOBD_CL_STREAM,  //  key: "\0stream/" name; `pos`
    JOBD_CL_CURSOR,  //  key: "\0cursor/" name; `offset`
    JOBD_CL_GONE,    //  key: job id; `gone` true: the changelog has no valid record of the job
} jobd_cl_kind_t;

typedef struct {
    char name[JOBD_STORE_TIMER_NAME_MAX + 1];
    int64_t due;          //  ms since the epoch, above 0
    const uint8_t *value; //  borrowed from the message's value bytes
    size_t value_size;    //  at most JOBD_STORE_TIMER_VALUE_MAX
} jobd_cl_timer_t;

//  One message, decoded. Pointers borrow from the bytes it was decoded from, except record.
typedef struct {
    jobd_cl_kind_t kind;
    uint64_t epoch; //  the writer's owner epoch of the partition
    char inst[JOBD_CL_INST_MAX + 1];
    char job[JOBD_ID_MAX + 1]; //  REC, EV, GONE
    uint64_t seq;              //  EV: above 0
    const uint8_t *bytes;      //  REC: the record (msgpack map, then CRC32C be32); EV: the entry
    size_t size;
    jobd_job_t *record; //  REC: decoded (owned: jobd_cl_msg_clear); encoding ignores it
    jobd_cl_timer_t timers[JOBD_CL_TIMERS_MAX]; //  REC
    size_t timer_count;
    bool claim;                      //  OWNER: claim, else release
    char name[JOBD_CL_NAME_MAX + 1]; //  OWNER: member; STREAM: stream; CURSOR: reader
    uint64_t number;                 //  IN, CURSOR: offset; STREAM: pos
} jobd_cl_msg_t;

//  Decodes one changelog message from its key and value bytes into msg (cleared first; then
//  jobd_cl_msg_clear it). zone is scratch for the msgpack objects (cleared first; kept for
//  reuse). What is checked: the key's form, `v` 1, `epoch`, `inst`, each kind's keys and limits;
//  a record's checksum, its decoding, its id equal to the key, its last_seq above 0; a history
//  entry decoding as the transition of that job and seq. Keys it does not know are skipped.
//  Returns 0, or JOBD_EPROTO (-ENOMEM) with a reason, msg then holding nothing to free.
int jobd_cl_msg_decode (const void *key, size_t key_size, const void *value, size_t value_size,
                        msgpack_zone *zone, jobd_cl_msg_t *msg, char *reason, size_t reason_size);

//  Frees what msg owns (the decoded record). NULL-safe.
void jobd_cl_msg_clear (jobd_cl_msg_t *msg);

//  Whether a message of kind is keyed by a job's id (REC, EV, GONE), not a partition record.
bool jobd_cl_msg_of_job (jobd_cl_kind_t kind);

//  Encodes msg (its kind's fields; record ignored) as a key into key_buffer and a value into
//  value_buffer (both appended to). Returns 0, JOBD_EPROTO (a field over its limit, a name that
//  is no key), or -ENOMEM.
int jobd_cl_msg_encode (const jobd_cl_msg_t *msg, msgpack_sbuffer *key_buffer,
                        msgpack_sbuffer *value_buffer);

#ifdef __cplusplus
}
#endif
#endif
