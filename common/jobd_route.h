//  Routing in a cluster: Kafka's murmur2 partition of a job id, and job ids that need no
//  coordination (time-sorted ids for submissions, ids derived from a backend's id).
#ifndef JOBD_ROUTE_H_INCLUDED
#define JOBD_ROUTE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_ROUTE_PARTITIONS_MAX 65535 //  partitions of a jobs topic, at most
#define JOBD_ROUTE_KEY_MAX        128   //  bytes of an id or a backend id (proto's JOBD_ID_MAX)
#define JOBD_ROUTE_ID_SIZE        32    //  room for either id form and its NUL

//  Kafka's murmur2 of size bytes of data (Java's Utils.murmur2, seed 0x9747b28c; librdkafka's
//  rd_kafka_msg_partitioner_murmur2 hashes with it too). Java returns it as an int: the same
//  bits. data may be NULL when size is 0.
uint32_t jobd_route_murmur2 (const void *data, size_t size);

//  The partition of job id among partitions: (murmur2 (id) & 0x7fffffff) % partitions, as
//  Kafka's default partitioner places a record keyed by id. Returns the partition (0 to
//  partitions - 1), JOBD_ETOOBIG for an id over JOBD_ROUTE_KEY_MAX bytes, or -EINVAL for a NULL
//  id or partitions outside 1..JOBD_ROUTE_PARTITIONS_MAX. Any bytes are an id here (the empty
//  one too); whether an id is a valid job id is proto's to say.
int jobd_route_partition (const char *id, long partitions);

//  Writes a fresh submitted job id into id (JOBD_ROUTE_ID_SIZE bytes at least): "job-" and 26
//  Crockford base32 characters of a ULID, 48 bits of ms since the epoch then 80 random bits
//  (getrandom). Ids sort as text by creation time; within one process they only grow, also
//  within one ms and when the clock steps back (the last id plus one; a forked child starts a
//  sequence of its own). Thread-safe. Returns 0, -EINVAL when id_size is too small, -errno when
//  no random bits could be had, or -EOVERFLOW when the last id was the largest there is.
int jobd_route_new_id (char *id, size_t id_size);

//  As jobd_route_new_id, at the time ms (ms since the epoch, below 2^48) instead of now.
int jobd_route_new_id_at (int64_t ms, char *id, size_t id_size);

//  The ms since the epoch that a submitted id (jobd_route_new_id) holds, or -1 when id is not
//  one ("job-", 26 characters of Crockford base32 upper case, the first 0 to 7).
int64_t jobd_route_id_time (const char *id);

//  Writes the id of the job that backend knows as ext into id (JOBD_ROUTE_ID_SIZE bytes at
//  least): "job-x" and 26 Crockford base32 characters of the first 130 bits of SHA-256
//  (backend, 0x00, ext). Every instance derives the same id from the same pair. Returns 0,
//  -EINVAL for a NULL or empty backend or ext or an id_size too small, JOBD_ETOOBIG for a
//  backend or ext over JOBD_ROUTE_KEY_MAX bytes, or -EIO when SHA-256 failed.
int jobd_route_derived_id (const char *backend, const char *ext, char *id, size_t id_size);

#ifdef __cplusplus
}
#endif
#endif
