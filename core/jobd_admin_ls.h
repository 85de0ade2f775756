//  The admin `ls` answer: jobs filtered by state, kind, name, backend and creation time, the
//  first limit of them in the order asked (or the store's when none is).
#ifndef JOBD_ADMIN_LS_H_INCLUDED
#define JOBD_ADMIN_LS_H_INCLUDED

#include "jobd_admin.h"

#define JOBD_LS_DEFAULT_LIMIT 10000
#define JOBD_LS_MAX           10000              //  jobs one ls answer holds at most
#define JOBD_LS_BYTES_MAX     (16 * 1024 * 1024) //  ... and bytes of job records

//  Answers query (an ls) into pk. With a sort, the first limit jobs of every match in that order
//  (a sort by updated walks the store's index and stops there; any other reads every job once);
//  without, the first limit in the store's order. Returns 0, or the error the reply carries.
int jobd_admin_ls (const jobd_admin_context_t *context, const jobd_request_in_t *query,
                   msgpack_packer *pk);

#endif
