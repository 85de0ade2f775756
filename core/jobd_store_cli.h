//  The store's operator commands of the jobd binary: the check at start-up, `jobd --verify` and
//  `jobd --backup DIR`. Each prints what it found, naming the file and what to do.
#ifndef JOBD_STORE_CLI_H_INCLUDED
#define JOBD_STORE_CLI_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Walks the page structure of the store in store_path before jobd opens it, unless the last
//  jobd stopped cleanly and data.mdb is unchanged since (jobd_store_cli_mark_clean; the mark is
//  consumed: a crash leaves none). No data.mdb yet: nothing to check. Sets *walked when it
//  walked. Returns 0, or JOBD_ECORRUPT with a reason that says where the damage is and what to
//  do, or another negative error with a reason.
int jobd_store_cli_check (const char *store_path, const char *config_path, bool *walked,
                          char *reason, size_t reason_size);

//  Marks the store closed cleanly: STORE/jobd.clean records data.mdb's identity, size and
//  modification time. Call after the store is closed, on a clean stop only.
void jobd_store_cli_mark_clean (const char *store_path);

//  `jobd --verify`: the structure, then every value (in a child process). Prints a human report,
//  or with json one JSON object, to out. Returns 0 (no damage), JOBD_ECORRUPT (damage), or
//  another negative error (the store cannot be read: printed to stderr).
int jobd_store_cli_verify (const char *store_path, const char *config_path, bool json, FILE *out);

//  `jobd --backup DIR`: a consistent, compacted copy of the store (LMDB's mdb_env_copy2 with
//  MDB_CP_COMPACT, from one read transaction, while jobd may run) into DIR/data.mdb (DIR is
//  created 0700; an existing DIR/data.mdb is never overwritten), after checking the store's
//  structure, and checked again once written. Returns 0, JOBD_ECORRUPT (a damaged store is not
//  copied), or another negative error; prints what it did to out, errors to stderr.
int jobd_store_cli_backup (const char *store_path, const char *dir, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
