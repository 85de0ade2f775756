//  The value pass of a store check: every job record, history entry and index entry read through
//  LMDB and decoded, as the reads would. It runs in a child process (jobd_store_verify), so that
//  even LMDB failing on a page the structural walk let through is reported, never a crash.
#include "jobd_store_internal.h"
#include "jobd_store_verify.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

//  Where the pass is: in memory shared with the parent, which reads it when the child dies.
typedef struct {
    char database[64];
    char key[128];
    jobd_verify_report_t report;
} s_progress_t;

static s_progress_t *s_progress;

static int s_damage (jobd_verify_report_t *report, const char *database, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_damage (jobd_verify_report_t *report, const char *database, const char *format, ...)
{
    report->damaged = true;
    report->page = UINT64_MAX;
    snprintf (report->database, sizeof report->database, "%s", database);
    va_list args;
    va_start (args, format);
    vsnprintf (report->problem, sizeof report->problem, format, args);
    va_end (args);
    return JOBD_ECORRUPT;
}

//  Notes the key being read, for a report after a crash.
static void
s_at (const char *database, const MDB_val *key)
{
    if (!s_progress)
        return;
    snprintf (s_progress->database, sizeof s_progress->database, "%s", database);
    size_t length =
        key->mv_size < sizeof s_progress->key - 1 ? key->mv_size : sizeof s_progress->key - 1;
    for (size_t index = 0; index < length; index++) {
        char c = ((const char *)key->mv_data)[index];
        s_progress->key[index] = c >= 0x20 && c < 0x7f ? c : '.';
    }
    s_progress->key[length] = 0;
}

//  The history entries of job (in id order, as the jobs database) at the cursor: seq 1 to
//  last_seq, each a transition of this job. Leaves the cursor on the next job's first entry.
static int
s_history (jobd_verify_report_t *report, MDB_cursor *cursor, MDB_val *key, MDB_val *value,
           int *found, const jobd_job_t *job)
{
    size_t prefix = strlen (job->id) + 1;
    uint64_t seq = 0;
    while (*found == 0 && key->mv_size == prefix + 8 &&
           memcmp (key->mv_data, job->id, prefix) == 0) {
        s_at ("history", key);
        seq++;
        jobd_event_t *event = NULL;
        char reason[256];
        if (jobd_store_get_be ((const uint8_t *)key->mv_data + prefix, 8) != seq)
            return s_damage (report, "history", "job '%s': history entry %llu is missing", job->id,
                             (unsigned long long)seq);
        if (jobd_event_decode (value->mv_data, value->mv_size, &event, reason, sizeof reason))
            return s_damage (report, "history", "job '%s': history entry %llu: %s", job->id,
                             (unsigned long long)seq, reason);
        bool fits = event->type == JOBD_EVENT_TRANSITION && event->seq == seq && event->job &&
                    strcmp (event->job, job->id) == 0;
        jobd_event_destroy (&event);
        if (!fits)
            return s_damage (report, "history", "job '%s': history entry %llu is not its %s",
                             job->id, (unsigned long long)seq, "transition");
        report->values++;
        *found = mdb_cursor_get (cursor, key, value, MDB_NEXT);
    }
    if (seq != job->last_seq)
        return s_damage (report, "history", "job '%s' has %llu transitions, its record says %llu",
                         job->id, (unsigned long long)seq, (unsigned long long)job->last_seq);
    return 0;
}

//  Every job record, with its history alongside: both are in id order.
static int
s_jobs (jobd_store_t *self, MDB_txn *txn, jobd_verify_report_t *report)
{
    MDB_cursor *jobs = NULL, *history = NULL;
    int rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->jobs, &jobs));
    if (rc == 0)
        rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->history, &history));
    MDB_val key, value, history_key, history_value;
    int found = rc ? MDB_NOTFOUND : mdb_cursor_get (jobs, &key, &value, MDB_FIRST);
    int history_found =
        rc ? MDB_NOTFOUND : mdb_cursor_get (history, &history_key, &history_value, MDB_FIRST);
    while (rc == 0 && found == 0) {
        s_at ("jobs", &key);
        jobd_job_t *job = NULL;
        char reason[256];
        size_t size = 0;
        if (jobd_store_record (self, &value, &size))
            rc = s_damage (report, "jobs", "job '%.*s': its record does not match its checksum",
                           (int)(key.mv_size & 0xff), (const char *)key.mv_data);
        else if (jobd_job_decode (value.mv_data, size, &job, reason, sizeof reason))
            rc = s_damage (report, "jobs", "job '%.*s': %s", (int)(key.mv_size & 0xff),
                           (const char *)key.mv_data, reason);
        else if (strlen (job->id) != key.mv_size || memcmp (job->id, key.mv_data, key.mv_size))
            rc = s_damage (report, "jobs", "the record under '%.*s' is job '%s'",
                           (int)(key.mv_size & 0xff), (const char *)key.mv_data, job->id);
        if (rc == 0) {
            report->values++;
            rc = s_history (report, history, &history_key, &history_value, &history_found, job);
        }
        jobd_job_destroy (&job);
        if (rc == 0)
            found = mdb_cursor_get (jobs, &key, &value, MDB_NEXT);
    }
    if (rc == 0 && history_found == 0)
        rc = s_damage (report, "history", "a history entry of no job (key of %zu bytes)",
                       history_key.mv_size);
    if (rc == 0 && found != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (found);
    if (rc == 0 && history_found != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (history_found);
    mdb_cursor_close (history);
    mdb_cursor_close (jobs);
    return rc;
}

//  The order index (format 5) holds one entry per job, at the job's updated_at.
static int
s_order_index (jobd_store_t *self, MDB_txn *txn, jobd_verify_report_t *report)
{
    if (!self->has_order)
        return 0;
    MDB_cursor *cursor = NULL;
    int rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->by_updated, &cursor));
    MDB_val key, value;
    size_t entries = 0;
    int found = rc ? MDB_NOTFOUND : mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    for (; rc == 0 && found == 0; found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        s_at ("by_updated", &key);
        char id[JOBD_ID_MAX + 1];
        jobd_job_t *job = NULL;
        if (key.mv_size <= 8 || key.mv_size > 8 + JOBD_ID_MAX) {
            rc = s_damage (report, "by_updated", "an entry of %zu bytes", key.mv_size);
            break;
        }
        memcpy (id, (const char *)key.mv_data + 8, key.mv_size - 8);
        id[key.mv_size - 8] = 0;
        rc = jobd_store_job_load (self, txn, id, &job);
        if (rc)
            rc = s_damage (report, "by_updated", "the index names job '%s': %s", id,
                           jobd_strerror (rc));
        else if ((uint64_t)(job->updated_at > 0 ? job->updated_at : 0) !=
                 jobd_store_get_be ((const uint8_t *)key.mv_data, 8))
            rc = s_damage (report, "by_updated", "job '%s' is indexed at another time", id);
        jobd_job_destroy (&job);
        entries++;
        report->values++;
    }
    mdb_cursor_close (cursor);
    if (rc == 0 && found != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (found);
    MDB_stat jobs;
    if (rc == 0 && (rc = jobd_store_mdb_error (mdb_stat (txn, self->jobs, &jobs))) == 0 &&
        jobs.ms_entries != entries)
        rc = s_damage (report, "by_updated", "%zu entries for %zu jobs", entries,
                       (size_t)jobs.ms_entries);
    return rc;
}

//  Every entry of the state index names a job in that state; every backend id index entry names
//  a job with that backend id.
static int
s_indexes (jobd_store_t *self, MDB_txn *txn, jobd_verify_report_t *report)
{
    MDB_cursor *cursor = NULL;
    int rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->by_state, &cursor));
    MDB_val key, value;
    int found = rc ? MDB_NOTFOUND : mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    for (; rc == 0 && found == 0; found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        s_at ("by_state", &value);
        char id[JOBD_ID_MAX + 1];
        jobd_job_t *job = NULL;
        if (key.mv_size != 1 || value.mv_size == 0 || value.mv_size > JOBD_ID_MAX)
            return s_damage (report, "by_state", "an entry of %zu/%zu bytes", key.mv_size,
                             value.mv_size);
        memcpy (id, value.mv_data, value.mv_size);
        id[value.mv_size] = 0;
        rc = jobd_store_job_load (self, txn, id, &job);
        if (rc == 0 && job->state != *(const uint8_t *)key.mv_data)
            rc = s_damage (report, "by_state", "job '%s' is %s, indexed under another state", id,
                           jobd_state_name (job->state));
        else if (rc)
            rc = s_damage (report, "by_state", "the index names job '%s': %s", id,
                           jobd_strerror (rc));
        jobd_job_destroy (&job);
        report->values++;
    }
    mdb_cursor_close (cursor);
    if (rc == 0 && found != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (found);
    cursor = NULL;
    if (rc == 0)
        rc = jobd_store_mdb_error (mdb_cursor_open (txn, self->by_ext, &cursor));
    found = rc ? MDB_NOTFOUND : mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    for (; rc == 0 && found == 0; found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        s_at ("by_ext", &key);
        char id[JOBD_ID_MAX + 1];
        jobd_job_t *job = NULL;
        const char *split = (const char *)memchr (key.mv_data, 0, key.mv_size);
        if (!split || value.mv_size == 0 || value.mv_size > JOBD_ID_MAX)
            return s_damage (report, "by_ext", "an entry of %zu/%zu bytes", key.mv_size,
                             value.mv_size);
        memcpy (id, value.mv_data, value.mv_size);
        id[value.mv_size] = 0;
        size_t ext_size = key.mv_size - (size_t)(split + 1 - (const char *)key.mv_data);
        rc = jobd_store_job_load (self, txn, id, &job);
        if (rc)
            rc =
                s_damage (report, "by_ext", "the index names job '%s': %s", id, jobd_strerror (rc));
        else if (!job->ext || strlen (job->ext) != ext_size ||
                 memcmp (job->ext, split + 1, ext_size))
            rc = s_damage (report, "by_ext", "job '%s' does not have the backend id indexed", id);
        jobd_job_destroy (&job);
        report->values++;
    }
    mdb_cursor_close (cursor);
    if (rc == 0 && found != MDB_NOTFOUND)
        rc = jobd_store_mdb_error (found);
    return rc;
}

//  Format 6: every timer is (be16 partition, be64 due, job id, 0, name) of an existing job, and
//  its by-job entry holds its partition and due; every cl_pending entry (be64 epoch, be64 seq)
//  names an existing job; every cl_plog entry names a history entry.
static int
s_cluster (jobd_store_t *self, MDB_txn *txn, jobd_verify_report_t *report)
{
    if (!self->has_timers || !self->has_cluster)
        return 0; //  older than format 6, read only: the layout it had
    MDB_dbi dbis[3] = {self->timers, self->cl_pending, self->cl_plog};
    const char *names[3] = {"timers", "cl_pending", "cl_plog"};
    int rc = 0;
    for (int db = 0; db < 3 && rc == 0; db++) {
        MDB_cursor *cursor = NULL;
        rc = jobd_store_mdb_error (mdb_cursor_open (txn, dbis[db], &cursor));
        MDB_val key, value;
        int found = rc ? MDB_NOTFOUND : mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
        for (; rc == 0 && found == 0; found = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
            s_at (names[db], &key);
            report->values++;
            const uint8_t *bytes = (const uint8_t *)key.mv_data;
            const void *job = bytes;
            size_t job_size = key.mv_size;
            MDB_val probe = value, got;
            MDB_dbi probe_dbi = self->history;
            if (db == 0) {
                const uint8_t *zero =
                    key.mv_size > 11 ? memchr (bytes + 10, 0, key.mv_size - 10) : NULL;
                if (!zero || zero == bytes + 10 || zero + 1 == bytes + key.mv_size)
                    return s_damage (report, "timers", "an entry of %zu bytes", key.mv_size);
                job = bytes + 10;
                job_size = (size_t)(zero - bytes) - 10;
                probe = jobd_store_val (bytes + 10, key.mv_size - 10);
                probe_dbi = self->timers_by_job;
            } else if (db == 1) {
                if (value.mv_size != 16 || key.mv_size == 0 || key.mv_size > JOBD_ID_MAX)
                    return s_damage (report, "cl_pending", "an entry of %zu/%zu bytes", key.mv_size,
                                     value.mv_size);
            } else if (key.mv_size != 18 || value.mv_size < 10)
                return s_damage (report, "cl_plog", "an entry of %zu/%zu bytes", key.mv_size,
                                 value.mv_size);
            //  The job (timers, cl_pending) or the history entry (cl_plog) exists; a timer's
            //  by-job entry points back at it.
            if (db < 2) {
                MDB_val id = jobd_store_val (job, job_size);
                if (job_size > JOBD_ID_MAX || mdb_get (txn, self->jobs, &id, &got))
                    return s_damage (report, names[db],
                                     "an entry of job '%.*s', which is not stored",
                                     (int)(job_size > 64 ? 64 : job_size), (const char *)job);
            }
            if (db != 1) {
                int missing = mdb_get (txn, probe_dbi, &probe, &got);
                if (missing || (db == 0 && (got.mv_size != 10 || memcmp (got.mv_data, bytes, 10))))
                    return s_damage (report, names[db], "an entry without its %s entry",
                                     db == 0 ? "timers_by_job" : "history");
            }
        }
        mdb_cursor_close (cursor);
        if (rc == 0 && found != MDB_NOTFOUND)
            rc = jobd_store_mdb_error (found);
    }
    return rc;
}

int
jobd_store_verify_values (const char *path, jobd_verify_report_t *report)
{
    jobd_store_t *self = NULL;
    int rc = jobd_store_open (path, JOBD_STORE_RDONLY, 0, &self, report->problem,
                              sizeof report->problem);
    if (rc == JOBD_ECORRUPT)
        report->damaged = true;
    if (rc)
        return rc;
    MDB_txn *txn = NULL;
    rc = jobd_store_mdb_error (mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn));
    if (rc == 0)
        rc = s_jobs (self, txn, report);
    if (rc == 0)
        rc = s_indexes (self, txn, report);
    if (rc == 0)
        rc = s_order_index (self, txn, report);
    if (rc == 0)
        rc = s_cluster (self, txn, report);
    if (rc == JOBD_ECORRUPT && !report->damaged)
        s_damage (report, s_progress ? s_progress->database : "", "LMDB reports damage");
    if (txn)
        mdb_txn_abort (txn);
    jobd_store_destroy (&self);
    return rc;
}

//  The value pass in a child. Its report comes back through shared memory; a child killed by a
//  signal is damage where it was.
static int
s_values_in_child (const char *path, jobd_verify_report_t *report)
{
    s_progress_t *progress = (s_progress_t *)mmap (
        NULL, sizeof (s_progress_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (progress == MAP_FAILED)
        return -errno;
    memset (progress, 0, sizeof *progress);
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0) {
        munmap (progress, sizeof *progress);
        return -errno;
    }
    if (pid == 0) {
        s_progress = progress;
        int rc = jobd_store_verify_values (path, &progress->report);
        _exit (rc == 0 ? 0 : rc == JOBD_ECORRUPT ? 1 : 2);
    }
    int status = 0;
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
    int rc = 0;
    uint64_t values = progress->report.values;
    if (WIFSIGNALED (status)) {
        report->damaged = true;
        report->page = UINT64_MAX;
        snprintf (report->database, sizeof report->database, "%s", progress->database);
        snprintf (report->problem, sizeof report->problem,
                  "reading database '%s' at key '%s' crashed LMDB (%s)", progress->database,
                  progress->key, strsignal (WTERMSIG (status)));
        rc = JOBD_ECORRUPT;
    } else if (WEXITSTATUS (status) == 1) {
        memcpy (report->database, progress->report.database, sizeof report->database);
        memcpy (report->problem, progress->report.problem, sizeof report->problem);
        report->damaged = true;
        report->page = UINT64_MAX;
        rc = JOBD_ECORRUPT;
    } else if (WEXITSTATUS (status) != 0) {
        snprintf (report->problem, sizeof report->problem, "%s", progress->report.problem);
        rc = JOBD_ESTORE;
    }
    report->values = values;
    munmap (progress, sizeof *progress);
    return rc;
}

int
jobd_store_verify (const char *path, bool values, jobd_verify_report_t *report)
{
    int rc = jobd_store_verify_structure (path, report);
    if (rc == 0 && values)
        rc = s_values_in_child (path, report);
    return rc;
}
