//  Job records carry a checksum: CRC32C (Castagnoli) of the record's msgpack bytes, 4 bytes
//  big-endian after them (format 3). LMDB checks no data; this makes a byte flipped inside a
//  record, that would still decode, a damaged read (JOBD_ECORRUPT) instead of a wrong answer.
#include "jobd_store_internal.h"
#include <pthread.h>

static uint32_t s_table[256];
static pthread_once_t s_table_once = PTHREAD_ONCE_INIT;

static void
s_table_fill (void)
{
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = byte;
        for (int bit = 0; bit < 8; bit++)
            crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        s_table[byte] = crc;
    }
}

#if defined(__x86_64__)
//  SSE 4.2 has the instruction: 8 bytes a step.
__attribute__ ((target ("sse4.2"))) static uint32_t
s_crc32c_sse (const uint8_t *data, size_t size)
{
    uint64_t crc = 0xFFFFFFFFu;
    for (; size >= 8; data += 8, size -= 8) {
        uint64_t word;
        memcpy (&word, data, 8);
        crc = __builtin_ia32_crc32di (crc, word);
    }
    uint32_t crc32 = (uint32_t)crc;
    for (; size > 0; data++, size--)
        crc32 = __builtin_ia32_crc32qi (crc32, *data);
    return crc32 ^ 0xFFFFFFFFu;
}
#endif

uint32_t
jobd_store_crc32c (const void *data, size_t size)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports ("sse4.2"))
        return s_crc32c_sse ((const uint8_t *)data, size);
#endif
    pthread_once (&s_table_once, s_table_fill);
    uint32_t crc = 0xFFFFFFFFu;
    for (const uint8_t *at = (const uint8_t *)data; size > 0; at++, size--)
        crc = s_table[(crc ^ *at) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

//  True when the last 4 bytes of value are the checksum of the others.
static bool
s_summed (const MDB_val *value)
{
    if (value->mv_size < JOBD_STORE_SUM_SIZE + 1)
        return false;
    size_t size = value->mv_size - JOBD_STORE_SUM_SIZE;
    const uint8_t *bytes = (const uint8_t *)value->mv_data;
    return jobd_store_get_be (bytes + size, JOBD_STORE_SUM_SIZE) == jobd_store_crc32c (bytes, size);
}

int
jobd_store_record (jobd_store_t *self, const MDB_val *value, size_t *size_p)
{
    if (s_summed (value)) {
        *size_p = value->mv_size - JOBD_STORE_SUM_SIZE;
        return 0;
    }
    //  A store written before format 3 holds records without one: read as they are.
    if (self->summed)
        return JOBD_ECORRUPT;
    *size_p = value->mv_size;
    return 0;
}

int
jobd_store_sum_append (msgpack_sbuffer *buffer)
{
    uint8_t sum[JOBD_STORE_SUM_SIZE];
    jobd_store_put_be (sum, sizeof sum, jobd_store_crc32c (buffer->data, buffer->size));
    return msgpack_sbuffer_write (buffer, (const char *)sum, sizeof sum) ? -ENOMEM : 0;
}

int
jobd_store_sum_upgrade (jobd_store_t *self, MDB_txn *txn)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->jobs, &cursor);
    if (rc)
        return rc;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    MDB_val key, value;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (s_summed (&value))
            continue; //  upgraded already
        buffer.size = 0;
        if (msgpack_sbuffer_write (&buffer, (const char *)value.mv_data, value.mv_size) ||
            jobd_store_sum_append (&buffer)) {
            rc = ENOMEM;
            break;
        }
        //  The key must outlive the put: LMDB moves the page's nodes under the one it returned.
        char key_copy[JOBD_ID_MAX + 1];
        if (key.mv_size > sizeof key_copy) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy (key_copy, key.mv_data, key.mv_size);
        MDB_val stable_key = jobd_store_val (key_copy, key.mv_size);
        MDB_val summed = jobd_store_val (buffer.data, buffer.size);
        rc = mdb_cursor_put (cursor, &stable_key, &summed, MDB_CURRENT);
        if (rc)
            break;
    }
    msgpack_sbuffer_destroy (&buffer);
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
