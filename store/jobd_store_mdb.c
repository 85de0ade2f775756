//  The store's LMDB helpers: LMDB's errors in jobd's range, values, big-endian numbers.
#include "jobd_store_internal.h"

int
jobd_store_mdb_error (int rc)
{
    switch (rc) {
        case 0:
            return 0;
        case MDB_NOTFOUND:
            return JOBD_ENOTFOUND;
        case MDB_MAP_FULL:
            return JOBD_EFULL;
        case MDB_CORRUPTED:
        case MDB_INVALID:
        case MDB_VERSION_MISMATCH:
        case MDB_PAGE_NOTFOUND:
            return JOBD_ECORRUPT;
        case ENOENT:
        case EACCES:
        case ENOMEM:
        case ENOSPC:
            return -rc;
        default:
            return JOBD_ESTORE;
    }
}

MDB_val
jobd_store_val (const void *data, size_t size)
{
    MDB_val value = {size, (void *)data};
    return value;
}

void
jobd_store_put_be (uint8_t *out, size_t size, uint64_t value)
{
    for (size_t index = size; index > 0; index--, value >>= 8)
        out[index - 1] = (uint8_t)value;
}

uint64_t
jobd_store_get_be (const uint8_t *in, size_t size)
{
    uint64_t value = 0;
    for (size_t index = 0; index < size; index++)
        value = (value << 8) | in[index];
    return value;
}
