//  Routing in a cluster: the partition of a job id, and ids that need no coordination
//  (docs/cluster.md, section 3).
#include "jobd_route.h"
#include "jobd_error.h"
#include "jobd_event.h"
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

//  Crockford's base32: no I, L, O, U.
static const char s_crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define S_ENCODED 26 //  base32 characters of an id: 130 bits

//  The last submitted id this process made (48-bit ms, 80 random bits, big-endian), so that the
//  next one is above it; and the process that made it: a forked child starts afresh, or it and
//  its parent would both make the last id plus one.
static pthread_mutex_t s_last_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t s_last[16];
static pid_t s_last_pid;

uint32_t
jobd_route_murmur2 (const void *data, size_t size)
{
    const uint8_t *d = (const uint8_t *)data;
    const uint32_t m = 0x5bd1e995;
    uint32_t h = 0x9747b28c ^ (uint32_t)size;
    size_t i = 0;
    for (; i + 4 <= size; i += 4) {
        uint32_t k =
            d[i] | (uint32_t)d[i + 1] << 8 | (uint32_t)d[i + 2] << 16 | (uint32_t)d[i + 3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    //  Kafka's tail: the last 1 to 3 bytes, highest first.
    switch (size & 3) {
        case 3:
            h ^= (uint32_t)d[i + 2] << 16;
            //  fall through
        case 2:
            h ^= (uint32_t)d[i + 1] << 8;
            //  fall through
        case 1:
            h ^= d[i];
            h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

int
jobd_route_partition (const char *id, long partitions)
{
    if (!id || partitions < 1 || partitions > JOBD_ROUTE_PARTITIONS_MAX)
        return -EINVAL;
    size_t size = strnlen (id, JOBD_ROUTE_KEY_MAX + 1);
    if (size > JOBD_ROUTE_KEY_MAX)
        return JOBD_ETOOBIG;
    return (int)((jobd_route_murmur2 (id, size) & 0x7fffffff) % (uint32_t)partitions);
}

//  Writes S_ENCODED base32 characters of bytes, from bit offset on (bits counted from the
//  highest of bytes[0]), and a NUL.
static void
s_base32 (const uint8_t *bytes, size_t offset, char *out)
{
    for (size_t c = 0; c < S_ENCODED; c++) {
        unsigned value = 0;
        for (size_t bit = offset + 5 * c; bit < offset + 5 * c + 5; bit++)
            value = value << 1 | ((bytes[bit / 8] >> (7 - bit % 8)) & 1);
        out[c] = s_crockford[value];
    }
    out[S_ENCODED] = '\0';
}

//  Fills size bytes with getrandom's. Returns 0 or -errno.
static int
s_random (uint8_t *bytes, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t rc = getrandom (bytes + got, size - got, 0);
        if (rc < 0 && errno != EINTR)
            return -errno;
        if (rc > 0)
            got += (size_t)rc;
    }
    return 0;
}

//  Adds one to the 128-bit big-endian value. Returns false when it wrapped around.
static bool
s_increment (uint8_t value[16])
{
    for (int i = 15; i >= 0; i--)
        if (++value[i] != 0)
            return true;
    return false;
}

int
jobd_route_new_id_at (int64_t ms, char *id, size_t id_size)
{
    if (!id || id_size < sizeof "job-" - 1 + S_ENCODED + 1 || ms < 0 || ms >= (int64_t)1 << 48)
        return -EINVAL;
    //  One zero byte ahead: 130 bits encoded, the 128 of the value right-aligned.
    uint8_t bytes[17] = {0};
    for (int i = 0; i < 6; i++)
        bytes[1 + i] = (uint8_t)(ms >> (8 * (5 - i)));
    int rc = s_random (bytes + 7, 10);
    if (rc)
        return rc;
    pthread_mutex_lock (&s_last_lock);
    //  The same ms as the last id, or an earlier one (the clock stepped back): the last id plus
    //  one, so that ids made here only grow (a ULID's monotonic rule).
    pid_t pid = getpid ();
    if (s_last_pid == pid && memcmp (bytes + 1, s_last, 6) <= 0) {
        memcpy (bytes + 1, s_last, 16);
        if (!s_increment (bytes + 1))
            rc = -EOVERFLOW;
    }
    if (rc == 0) {
        memcpy (s_last, bytes + 1, 16);
        s_last_pid = pid;
    }
    pthread_mutex_unlock (&s_last_lock);
    if (rc)
        return rc;
    memcpy (id, "job-", 4);
    s_base32 (bytes, 6, id + 4);
    return 0;
}

int
jobd_route_new_id (char *id, size_t id_size)
{
    return jobd_route_new_id_at (jobd_now_ms (), id, id_size);
}

int64_t
jobd_route_id_time (const char *id)
{
    if (!id || strncmp (id, "job-", 4) != 0 || strnlen (id, 4 + S_ENCODED + 1) != 4 + S_ENCODED)
        return -1;
    //  The first 10 characters are 50 bits: 2 zero bits, then the 48 of the time.
    uint64_t value = 0;
    for (size_t c = 0; c < S_ENCODED; c++) {
        const char *found = strchr (s_crockford, id[4 + c]);
        if (!id[4 + c] || !found)
            return -1;
        if (c < 10)
            value = value << 5 | (uint64_t)(found - s_crockford);
    }
    if (value >> 48)
        return -1;
    return (int64_t)value;
}

int
jobd_route_derived_id (const char *backend, const char *ext, char *id, size_t id_size)
{
    if (!backend || !*backend || !ext || !*ext || !id ||
        id_size < sizeof "job-x" - 1 + S_ENCODED + 1)
        return -EINVAL;
    size_t backend_size = strnlen (backend, JOBD_ROUTE_KEY_MAX + 1);
    size_t ext_size = strnlen (ext, JOBD_ROUTE_KEY_MAX + 1);
    if (backend_size > JOBD_ROUTE_KEY_MAX || ext_size > JOBD_ROUTE_KEY_MAX)
        return JOBD_ETOOBIG;
    uint8_t input[2 * JOBD_ROUTE_KEY_MAX + 1];
    memcpy (input, backend, backend_size);
    input[backend_size] = 0;
    memcpy (input + backend_size + 1, ext, ext_size);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!EVP_Digest (input, backend_size + 1 + ext_size, digest, &length, EVP_sha256 (), NULL) ||
        length != 32)
        return -EIO;
    memcpy (id, "job-x", 5);
    s_base32 (digest, 0, id + 5);
    return 0;
}
