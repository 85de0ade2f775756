//  The store's operator commands: the structural check before jobd opens its store, `jobd
//  --verify` and `jobd --backup`. LMDB trusts its pages; these make sure a damaged file is
//  reported (where, what, what to do) instead of crashing jobd again after every restart.
#include "jobd_store_cli.h"
#include "jobd_error.h"
#include "jobd_store_verify.h"
#include <errno.h>
#include <lmdb.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  The damage in words: "FILE is damaged: PROBLEM (page 37, database 'jobs')".
static void
s_damage_text (const jobd_verify_report_t *report, char *text, size_t size)
{
    char where[160] = "";
    if (report->page != UINT64_MAX && report->database[0])
        snprintf (where, sizeof where, " (page %llu, database '%s')",
                  (unsigned long long)report->page, report->database);
    else if (report->database[0])
        snprintf (where, sizeof where, " (database '%s')", report->database);
    snprintf (text, size, "store %s is damaged: %s%s", report->file, report->problem, where);
}

//  What to do, for any damage found.
static void
s_advice (const char *config_path, char *advice, size_t size)
{
    snprintf (advice, size,
              "What to do: stop jobd, keep the damaged folder for inspection, and restore the "
              "last backup (see \"Backup and restore\" in store/README.md), or move the folder "
              "aside to start with an empty store. `jobd --verify%s%s` checks a store.",
              config_path ? " -c " : "", config_path ? config_path : "");
}

//  data.mdb's identity and last change, as the clean mark records it.
static int
s_identity (const char *store_path, char *text, size_t size)
{
    char file[PATH_MAX];
    snprintf (file, sizeof file, "%s/data.mdb", store_path);
    struct stat status;
    if (stat (file, &status))
        return -errno;
    snprintf (text, size, "%llu %llu %lld %lld.%09ld\n", (unsigned long long)status.st_dev,
              (unsigned long long)status.st_ino, (long long)status.st_size,
              (long long)status.st_mtim.tv_sec, status.st_mtim.tv_nsec);
    return 0;
}

void
jobd_store_cli_mark_clean (const char *store_path)
{
    char mark[PATH_MAX], identity[128];
    snprintf (mark, sizeof mark, "%s/jobd.clean", store_path);
    if (s_identity (store_path, identity, sizeof identity))
        return;
    FILE *file = fopen (mark, "w");
    if (file) {
        fputs (identity, file);
        fclose (file);
    }
}

//  True when the last jobd stopped cleanly and data.mdb has not changed since. Consumes the
//  mark: from now on, only a clean stop writes it again.
static bool
s_clean_and_unchanged (const char *store_path)
{
    char mark[PATH_MAX], identity[128], recorded[128] = "";
    snprintf (mark, sizeof mark, "%s/jobd.clean", store_path);
    FILE *file = fopen (mark, "r");
    if (!file)
        return false;
    bool read = fgets (recorded, sizeof recorded, file) != NULL;
    fclose (file);
    unlink (mark);
    return read && s_identity (store_path, identity, sizeof identity) == 0 &&
           strcmp (identity, recorded) == 0;
}

int
jobd_store_cli_check (const char *store_path, const char *config_path, bool *walked, char *reason,
                      size_t reason_size)
{
    *walked = false;
    if (s_clean_and_unchanged (store_path))
        return 0;
    *walked = true;
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify_structure (store_path, &report);
    if (rc == -ENOENT)
        return 0; //  a new store
    if (rc == JOBD_ECORRUPT) {
        char damage[1200], advice[400];
        s_damage_text (&report, damage, sizeof damage);
        s_advice (config_path, advice, sizeof advice);
        snprintf (reason, reason_size,
                  "%s. jobd does not start on a damaged store (LMDB would crash reading it). %s",
                  damage, advice);
    } else if (rc)
        snprintf (reason, reason_size, "store %s: %s", report.file, report.problem);
    return rc;
}

//  Writes text as a JSON string.
static void
s_json_string (FILE *out, const char *text)
{
    fputc ('"', out);
    for (const unsigned char *at = (const unsigned char *)text; *at; at++) {
        if (*at == '"' || *at == '\\')
            fprintf (out, "\\%c", *at);
        else if (*at < 0x20)
            fprintf (out, "\\u%04x", *at);
        else
            fputc (*at, out);
    }
    fputc ('"', out);
}

int
jobd_store_cli_verify (const char *store_path, const char *config_path, bool json, FILE *out)
{
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify (store_path, true, &report);
    if (rc && rc != JOBD_ECORRUPT) {
        fprintf (stderr, "jobd: cannot check the store %s: %s\n", report.file, report.problem);
        return rc;
    }
    char damage[1200], advice[400];
    s_damage_text (&report, damage, sizeof damage);
    s_advice (config_path, advice, sizeof advice);
    if (json) {
        fprintf (out, "{\"store\": ");
        s_json_string (out, store_path);
        fprintf (out, ", \"file\": ");
        s_json_string (out, report.file);
        fprintf (out,
                 ", \"damaged\": %s, \"page_size\": %u, \"txnid\": %llu, \"last_page\": %llu, "
                 "\"branch_pages\": %llu, \"leaf_pages\": %llu, \"overflow_pages\": %llu, "
                 "\"free_pages\": %llu, \"databases\": %llu, \"entries\": %llu, \"values\": %llu",
                 report.damaged ? "true" : "false", report.page_size,
                 (unsigned long long)report.txnid, (unsigned long long)report.last_page,
                 (unsigned long long)report.branch_pages, (unsigned long long)report.leaf_pages,
                 (unsigned long long)report.overflow_pages, (unsigned long long)report.free_pages,
                 (unsigned long long)report.databases, (unsigned long long)report.entries,
                 (unsigned long long)report.values);
        if (report.damaged) {
            if (report.page != UINT64_MAX)
                fprintf (out, ", \"page\": %llu", (unsigned long long)report.page);
            fprintf (out, ", \"database\": ");
            s_json_string (out, report.database);
            fprintf (out, ", \"problem\": ");
            s_json_string (out, report.problem);
            fprintf (out, ", \"advice\": ");
            s_json_string (out, advice);
        }
        fprintf (out, "}\n");
    } else if (report.damaged)
        fprintf (out, "jobd: %s\njobd: %s\n", damage, advice);
    else
        fprintf (out,
                 "jobd: store %s: no damage found: %llu pages of %u bytes (%llu branch, %llu "
                 "leaf, %llu overflow, %llu free), %llu databases, %llu entries, %llu values "
                 "decoded\n",
                 store_path, (unsigned long long)report.last_page + 1, report.page_size,
                 (unsigned long long)report.branch_pages, (unsigned long long)report.leaf_pages,
                 (unsigned long long)report.overflow_pages, (unsigned long long)report.free_pages,
                 (unsigned long long)report.databases, (unsigned long long)report.entries,
                 (unsigned long long)report.values);
    return rc;
}

int
jobd_store_cli_backup (const char *store_path, const char *dir, FILE *out)
{
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify_structure (store_path, &report);
    if (rc) {
        char damage[1200];
        s_damage_text (&report, damage, sizeof damage);
        if (rc == JOBD_ECORRUPT)
            fprintf (stderr,
                     "jobd: no backup: %s. A damaged store is not copied (LMDB would "
                     "crash reading it): restore the last good backup instead.\n",
                     damage);
        else
            fprintf (stderr, "jobd: no backup: %s: %s\n", report.file, report.problem);
        return rc;
    }
    char target[PATH_MAX];
    snprintf (target, sizeof target, "%s/data.mdb", dir);
    if (mkdir (dir, 0700) && errno != EEXIST) {
        rc = -errno;
        fprintf (stderr, "jobd: no backup: %s: %s\n", dir, strerror (errno));
        return rc;
    }
    if (access (target, F_OK) == 0) {
        fprintf (stderr, "jobd: no backup: %s exists (a backup is never overwritten)\n", target);
        return -EEXIST;
    }
    //  A reader of the live store: jobd may go on writing meanwhile; the copy is one snapshot.
    MDB_env *env = NULL;
    rc = mdb_env_create (&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (env, 8);
    if (rc == 0)
        rc = mdb_env_open (env, store_path, MDB_RDONLY | MDB_NOTLS, 0600);
    if (rc == 0)
        rc = mdb_env_copy2 (env, dir, MDB_CP_COMPACT);
    if (env)
        mdb_env_close (env);
    if (rc) {
        fprintf (stderr, "jobd: no backup of %s into %s: %s\n", store_path, dir, mdb_strerror (rc));
        unlink (target);
        return JOBD_ESTORE;
    }
    jobd_verify_report_t copy = {0};
    rc = jobd_store_verify (dir, true, &copy);
    if (rc) {
        fprintf (stderr, "jobd: the backup %s does not check: %s\n", target, copy.problem);
        unlink (target);
        return rc;
    }
    struct stat status = {0};
    stat (target, &status);
    fprintf (out,
             "jobd: backup of %s written to %s: %.1f MiB, transaction %llu, %llu values checked\n",
             store_path, target, status.st_size / 1048576.0, (unsigned long long)copy.txnid,
             (unsigned long long)copy.values);
    return 0;
}
