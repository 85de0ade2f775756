//  The store check: a clean store passes, with its pages counted; a damaged page of each kind
//  (meta, branch, leaf, overflow), a flipped byte inside a value, and a truncated file are found
//  and described, and nothing crashes.
#include "jobd_store.h"
#include "jobd_store_internal.h"
#include "jobd_store_verify.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "../store_fill.h"
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_JOBS 600

typedef struct {
    char dir[64];
    char copy[96];
    uint64_t pages[4][64]; //  by kind: some pages of each, in the order walked
    size_t counts[4];
    uint64_t jobs_leaf; //  a leaf page of the jobs database
} s_fixture_t;

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    return remove (path);
}

static void
s_page_seen (uint64_t page, jobd_verify_page_t kind, const char *database, void *arg)
{
    s_fixture_t *self = (s_fixture_t *)arg;
    if (self->counts[kind] < 64)
        self->pages[kind][self->counts[kind]++] = page;
    if (kind == JOBD_VERIFY_LEAF && strcmp (database, "jobs") == 0)
        self->jobs_leaf = page;
}

static int
s_setup (void **state)
{
    s_fixture_t *self = (s_fixture_t *)calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/jobd-verify-XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    snprintf (self->copy, sizeof self->copy, "%s/copy", self->dir);
    char store[96];
    snprintf (store, sizeof store, "%s/store", self->dir);
    store_fill (store, S_JOBS, 100);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    nftw (self->dir, s_remove, 8, FTW_DEPTH | FTW_PHYS);
    free (self);
    return 0;
}

//  Copies the store's data.mdb into a fresh folder self->copy.
static void
s_copy (s_fixture_t *self)
{
    char command[512];
    snprintf (command, sizeof command, "rm -rf %s && mkdir %s && cp %s/store/data.mdb %s/",
              self->copy, self->copy, self->dir, self->copy);
    assert_int_equal (system (command), 0);
}

//  Overwrites page (4 KiB) of the copy with pseudo-random bytes, or length bytes at offset
//  inside it with ones complemented.
static void
s_damage (s_fixture_t *self, uint64_t page, size_t offset, size_t length)
{
    char path[128];
    snprintf (path, sizeof path, "%s/data.mdb", self->copy);
    int fd = open (path, O_RDWR);
    assert_true (fd >= 0);
    uint8_t bytes[4096];
    assert_int_equal (pread (fd, bytes, sizeof bytes, (off_t)(page * 4096)), 4096);
    if (length == 0) {
        uint32_t seed = (uint32_t)page * 2654435761u;
        for (size_t index = 0; index < sizeof bytes; index++) {
            seed = seed * 1103515245u + 12345u;
            bytes[index] = (uint8_t)(seed >> 16);
        }
    } else
        for (size_t index = offset; index < offset + length; index++)
            bytes[index] = (uint8_t)~bytes[index];
    assert_int_equal (pwrite (fd, bytes, sizeof bytes, (off_t)(page * 4096)), 4096);
    close (fd);
}

static void
test_clean_store_passes (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char store[96];
    snprintf (store, sizeof store, "%s/store", self->dir);
    jobd_verify_report_t report = {.page_fn = s_page_seen, .page_arg = self};
    int rc = jobd_store_verify (store, true, &report);
    if (rc)
        fprintf (stderr, "%s\n", report.problem);
    assert_int_equal (rc, 0);
    assert_false (report.damaged);
    assert_int_equal (report.page_size, 4096);
    //  meta, jobs, history, by_state, by_ext, log, timers, timers_by_job, by_updated, cl_plog,
    //  cl_pending
    assert_int_equal (report.databases, 11);
    assert_true (report.branch_pages > 0);
    assert_true (report.leaf_pages > 10);
    assert_true (report.overflow_pages >= 3 * (S_JOBS / 100));
    //  Each job: its record and history entries, and its index entries.
    assert_true (report.values >= 2 * S_JOBS);
    assert_true (self->counts[JOBD_VERIFY_META] == 2 && self->counts[JOBD_VERIFY_BRANCH] > 0 &&
                 self->counts[JOBD_VERIFY_LEAF] > 0 && self->counts[JOBD_VERIFY_OVERFLOW] > 0);
}

//  Damages one page of the copy and checks that the verify reports it on that page.
static void
s_expect_damage (s_fixture_t *self, uint64_t page, size_t offset, size_t length, bool on_page)
{
    s_copy (self);
    s_damage (self, page, offset, length);
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify (self->copy, true, &report);
    assert_int_equal (rc, JOBD_ECORRUPT);
    assert_true (report.damaged);
    assert_non_null (strstr (report.file, self->copy));
    assert_true (report.problem[0] != 0);
    if (on_page)
        assert_true (report.page == page);
}

static void
test_damaged_pages_are_found (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char store[96];
    snprintf (store, sizeof store, "%s/store", self->dir);
    jobd_verify_report_t report = {.page_fn = s_page_seen, .page_arg = self};
    assert_int_equal (jobd_store_verify_structure (store, &report), 0);
    //  Both meta pages, every branch page seen, and a sample of leaves and overflow pages.
    s_expect_damage (self, 0, 0, 0, true);
    s_expect_damage (self, 1, 0, 0, true);
    for (size_t index = 0; index < self->counts[JOBD_VERIFY_BRANCH]; index++)
        s_expect_damage (self, self->pages[JOBD_VERIFY_BRANCH][index], 0, 0, true);
    for (size_t index = 0; index < self->counts[JOBD_VERIFY_LEAF]; index += 5)
        s_expect_damage (self, self->pages[JOBD_VERIFY_LEAF][index], 0, 0, true);
    for (size_t index = 0; index < self->counts[JOBD_VERIFY_OVERFLOW]; index++)
        s_expect_damage (self, self->pages[JOBD_VERIFY_OVERFLOW][index], 0, 0, true);
    //  A few bytes of a node's offset or header, not the whole page.
    s_expect_damage (self, self->jobs_leaf, 16, 2, true);
    s_expect_damage (self, self->jobs_leaf, 12, 1, true);
}

//  The offset in the jobs leaf of the value of its first node held in the page.
static size_t
s_value_offset (s_fixture_t *self)
{
    char path[128];
    snprintf (path, sizeof path, "%s/store/data.mdb", self->dir);
    int fd = open (path, O_RDONLY);
    uint8_t page[4096];
    assert_int_equal (pread (fd, page, sizeof page, (off_t)(self->jobs_leaf * 4096)), 4096);
    close (fd);
    uint16_t lower, pointer, flags, key_size;
    memcpy (&lower, page + 12, 2);
    for (size_t index = 0; 16 + 2 * index < lower; index++) {
        memcpy (&pointer, page + 16 + 2 * index, 2);
        memcpy (&flags, page + pointer + 4, 2);
        memcpy (&key_size, page + pointer + 6, 2);
        if (flags == 0)
            return pointer + 8 + key_size + 1;
    }
    fail_msg ("no small value in page %llu", (unsigned long long)self->jobs_leaf);
    return 0;
}

static void
test_flipped_value_bytes_are_found (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char store[96];
    snprintf (store, sizeof store, "%s/store", self->dir);
    jobd_verify_report_t report = {.page_fn = s_page_seen, .page_arg = self};
    assert_int_equal (jobd_store_verify_structure (store, &report), 0);
    //  The first bytes of a record in a jobs leaf (the map's first key): its msgpack no longer
    //  decodes. LMDB's page structure is untouched.
    s_copy (self);
    s_damage (self, self->jobs_leaf, s_value_offset (self), 3);
    jobd_verify_report_t values = {0};
    assert_int_equal (jobd_store_verify_structure (self->copy, &values), 0);
    assert_int_equal (jobd_store_verify (self->copy, true, &values), JOBD_ECORRUPT);
    assert_true (values.damaged);
}

static void
test_truncated_and_foreign_files (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    s_copy (self);
    char path[128];
    snprintf (path, sizeof path, "%s/data.mdb", self->copy);
    assert_int_equal (truncate (path, 3 * 4096), 0);
    jobd_verify_report_t report = {0};
    assert_int_equal (jobd_store_verify (self->copy, true, &report), JOBD_ECORRUPT);
    assert_true (report.damaged);
    //  Not an LMDB file at all.
    FILE *file = fopen (path, "w");
    fputs ("hello", file);
    fclose (file);
    memset (&report, 0, sizeof report);
    assert_int_equal (jobd_store_verify (self->copy, true, &report), JOBD_ECORRUPT);
    //  No file.
    unlink (path);
    memset (&report, 0, sizeof report);
    assert_int_equal (jobd_store_verify (self->copy, true, &report), -ENOENT);
}

//  Reads from an image in memory.
typedef struct {
    const uint8_t *data;
    size_t size;
} s_image_t;

static long
s_image_read (void *arg, uint64_t offset, void *buffer, size_t size)
{
    s_image_t *image = (s_image_t *)arg;
    if (offset >= image->size)
        return 0;
    size_t length = image->size - offset < size ? image->size - offset : size;
    memcpy (buffer, image->data + offset, length);
    return (long)length;
}

static void
test_every_byte_of_a_small_store (void **state)
{
    //  Flip each byte of a small store's pages in turn: the walk never crashes, and a flip that
    //  it accepts changes no page structure LMDB relies on.
    s_fixture_t *self = (s_fixture_t *)*state;
    char path[128];
    snprintf (path, sizeof path, "%s/store/data.mdb", self->dir);
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    uint8_t *data = (uint8_t *)malloc (8 * 4096);
    size_t size = fread (data, 1, 8 * 4096, file);
    fclose (file);
    s_image_t image = {data, size};
    size_t found = 0;
    for (size_t offset = 0; offset < size; offset += 7) {
        data[offset] ^= 0x5a;
        jobd_verify_report_t report = {0};
        if (jobd_store_verify_image (s_image_read, &image, size, 0, &report) == JOBD_ECORRUPT)
            found++;
        data[offset] ^= 0x5a;
    }
    assert_true (found > 0);
    free (data);
}

//  Applies one event, whatever comes of it: refusals are part of a random run.
static void
s_try (jobd_store_t *store, jobd_event_t **event_p)
{
    jobd_apply_result_t result;
    jobd_event_set (&(*event_p)->source, "test");
    jobd_store_apply (store, *event_p, &result);
    jobd_apply_result_clear (&result);
    jobd_event_destroy (event_p);
}

static void
test_healthy_stores_always_pass (void **state)
{
    //  A store taken through random batches of every kind of write (new jobs with small and
    //  large specs, transitions, retries that drop backend ids, cancels, log cursors that
    //  prune): the walk must find no damage after any commit, and the value pass none at the
    //  end. A false alarm would keep a healthy jobd from starting.
    s_fixture_t *self = (s_fixture_t *)*state;
    char dir[96];
    snprintf (dir, sizeof dir, "%s/random", self->dir);
    jobd_store_t *store = NULL;
    assert_int_equal (jobd_store_open (dir, 0, 0, &store, NULL, 0), 0);
    srand (7);
    static char spec[20000];
    int jobs = 0;
    for (int batch = 0; batch < 80; batch++) {
        assert_int_equal (jobd_store_begin (store), 0);
        for (int step = 0; step < 50; step++) {
            int what = rand () % 10;
            char id[32], ext[32];
            snprintf (id, sizeof id, "job-%d", jobs ? 1 + rand () % jobs : 1);
            snprintf (ext, sizeof ext, "app-%d", rand () % 500);
            jobd_event_t *event = NULL;
            if (what < 3 || jobs == 0) {
                size_t size = rand () % 4 == 0 ? 2000 + (size_t)(rand () % 18000) : 100;
                memset (spec, 'a' + rand () % 26, size);
                spec[size] = 0;
                event = jobd_event_new (JOBD_EVENT_SUBMIT);
                jobd_event_set (&event->kind, "spark");
                jobd_event_set (&event->spec, spec);
                jobs++;
            } else if (what < 7) {
                event = jobd_event_new (JOBD_EVENT_OBSERVED);
                jobd_event_set (&event->job, id);
                jobd_event_set (&event->backend, "standalone");
                if (rand () % 2)
                    jobd_event_set (&event->ext, ext);
                if (rand () % 3 == 0)
                    jobd_event_set (&event->error, spec + sizeof spec - 1 - rand () % 3000);
                event->state = (jobd_state_t)(JOBD_STATE_QUEUED + rand () % 9);
            } else if (what < 8) {
                event = jobd_event_new (rand () % 2 ? JOBD_EVENT_RETRY : JOBD_EVENT_CANCEL);
                jobd_event_set (&event->job, id);
            } else {
                uint64_t head = 0;
                jobd_store_cursor_get (store, NULL, NULL, &head);
                event = jobd_event_new (JOBD_EVENT_CURSOR);
                jobd_event_set (&event->name, rand () % 2 ? "outbox" : "audit");
                event->seq = head ? (uint64_t)rand () % head : 0;
            }
            s_try (store, &event);
        }
        assert_int_equal (jobd_store_commit (store), 0);
        jobd_verify_report_t report = {0};
        int rc = jobd_store_verify_structure (dir, &report);
        if (rc)
            fail_msg ("batch %d: %s (page %llu, database %s)", batch, report.problem,
                      (unsigned long long)report.page, report.database);
    }
    jobd_store_destroy (&store);
    jobd_verify_report_t report = {0};
    int rc = jobd_store_verify (dir, true, &report);
    if (rc)
        fail_msg ("%s (database %s)", report.problem, report.database);
    assert_true (report.overflow_pages > 0 && report.branch_pages > 0);
}

static void
test_walk_beside_a_writer (void **state)
{
    //  A child writes batches as fast as it can, growing the file; the walk of the live store
    //  (a pinned snapshot; the other meta page names pages past the size it read) finds nothing.
    s_fixture_t *self = (s_fixture_t *)*state;
    char dir[96];
    snprintf (dir, sizeof dir, "%s/store", self->dir);
    pid_t writer = fork ();
    assert_true (writer >= 0);
    if (writer == 0) {
        jobd_store_t *store = NULL;
        if (jobd_store_open (dir, 0, 0, &store, NULL, 0))
            _exit (1);
        static char big[6000];
        memset (big, 'x', sizeof big - 1);
        for (int batch = 0; batch < 300; batch++) {
            jobd_store_begin (store);
            for (int index = 0; index < 20; index++) {
                jobd_event_t *event = jobd_event_new (JOBD_EVENT_SUBMIT);
                jobd_event_set (&event->kind, "spark");
                jobd_event_set (&event->spec, index % 5 ? "{}" : big);
                s_try (store, &event);
            }
            if (jobd_store_commit (store))
                _exit (1);
        }
        jobd_store_destroy (&store);
        _exit (0);
    }
    int walks = 0, status = 0;
    while (waitpid (writer, &status, WNOHANG) == 0) {
        jobd_verify_report_t report = {0};
        int rc = jobd_store_verify_structure (dir, &report);
        if (rc)
            fail_msg ("walk %d: %s (page %llu, database %s)", walks, report.problem,
                      (unsigned long long)report.page, report.database);
        walks++;
    }
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    print_message ("%d walks beside the writer\n", walks);
    assert_true (walks > 0);
}

static void
test_flipped_byte_in_a_record_is_ecorrupt (void **state)
{
    //  One bit of a letter of job-10's spec: the record still decodes (it read back as a wrong
    //  answer before format 3); its checksum no longer matches.
    s_fixture_t *self = (s_fixture_t *)*state;
    char dir[96];
    snprintf (dir, sizeof dir, "%s/store", self->dir);
    store_fill_raw_flip (dir, "jobs", "job-10");
    jobd_store_t *store = NULL;
    assert_int_equal (jobd_store_open (dir, JOBD_STORE_RDONLY, 0, &store, NULL, 0), 0);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (store, "job-10", &job), JOBD_ECORRUPT);
    assert_int_equal (jobd_store_job_get (store, "job-11", &job), 0);
    jobd_job_destroy (&job);
    jobd_store_destroy (&store);
    jobd_verify_report_t report = {0};
    assert_int_equal (jobd_store_verify (dir, true, &report), JOBD_ECORRUPT);
    assert_non_null (strstr (report.problem, "job-10"));
}

//  Rewrites every job record of the (closed) store in dir without its checksum, and its format
//  as 2: what a format 2 jobd wrote.
static void
s_make_format_2 (const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi jobs, meta;
    MDB_cursor *cursor;
    store_fill_raw_begin (dir, "jobs", &env, &txn, &jobs);
    assert_int_equal (mdb_dbi_open (txn, "meta", 0, &meta), 0);
    assert_int_equal (mdb_cursor_open (txn, jobs, &cursor), 0);
    MDB_val key, value;
    static char copy[20000];
    for (int rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        //  Both copied: LMDB moves the page's nodes under what it returned.
        char key_copy[64];
        memcpy (key_copy, key.mv_data, key.mv_size);
        memcpy (copy, value.mv_data, value.mv_size - 4);
        MDB_val stable_key = {key.mv_size, key_copy}, bare = {value.mv_size - 4, copy};
        assert_int_equal (mdb_cursor_put (cursor, &stable_key, &bare, MDB_CURRENT), 0);
    }
    mdb_cursor_close (cursor);
    uint8_t format[4] = {0, 0, 0, 2};
    MDB_val format_key = {6, "format"}, format_value = {4, format};
    assert_int_equal (mdb_put (txn, meta, &format_key, &format_value, 0), 0);
    store_fill_raw_commit (env, txn);
}

static void
test_format_2_store_gets_checksums (void **state)
{
    s_fixture_t *self = (s_fixture_t *)*state;
    char dir[96];
    snprintf (dir, sizeof dir, "%s/store", self->dir);
    s_make_format_2 (dir);
    //  Read-only: read as it is, unchecked.
    jobd_store_t *store = NULL;
    assert_int_equal (jobd_store_open (dir, JOBD_STORE_RDONLY, 0, &store, NULL, 0), 0);
    jobd_job_t *job = NULL;
    assert_int_equal (jobd_store_job_get (store, "job-100", &job), 0);
    assert_int_equal (strlen (job->spec), 8999);
    jobd_job_destroy (&job);
    jobd_store_destroy (&store);
    jobd_verify_report_t report = {0};
    assert_int_equal (jobd_store_verify (dir, true, &report), 0);
    //  Writable: every record gets its checksum (each under its own key: the whole check
    //  passes), the format becomes 3, a flip is caught.
    assert_int_equal (jobd_store_open (dir, 0, 0, &store, NULL, 0), 0);
    jobd_store_destroy (&store);
    memset (&report, 0, sizeof report);
    int rc = jobd_store_verify (dir, true, &report);
    if (rc)
        fail_msg ("%s", report.problem);
    store_fill_raw_flip (dir, "jobs", "job-100");
    assert_int_equal (jobd_store_open (dir, 0, 0, &store, NULL, 0), 0);
    assert_int_equal (jobd_store_job_get (store, "job-100", &job), JOBD_ECORRUPT);
    assert_int_equal (jobd_store_job_get (store, "job-99", &job), 0);
    jobd_job_destroy (&job);
    jobd_store_destroy (&store);
}

static void
test_crc32c_known_values (void **state)
{
    //  The Castagnoli check value, and the empty input.
    assert_int_equal (jobd_store_crc32c ("123456789", 9), 0xE3069283u);
    assert_int_equal (jobd_store_crc32c ("", 0), 0);
    char bytes[1000];
    for (size_t index = 0; index < sizeof bytes; index++)
        bytes[index] = (char)(index * 7);
    //  Any length (the 8-byte steps and the tail): a bit flipped anywhere changes it.
    for (size_t size = 1; size < sizeof bytes; size += 37) {
        uint32_t sum = jobd_store_crc32c (bytes, size);
        bytes[size / 2] ^= 0x10;
        assert_true (jobd_store_crc32c (bytes, size) != sum);
        bytes[size / 2] ^= 0x10;
    }
}

static void
s_damage_line (const char *line, void *arg)
{
    char *last = (char *)arg;
    snprintf (last, 2048, "%s", line);
    last[2047]++; //  the count of lines, in the buffer's last byte
}

static void
test_reads_that_meet_damage_are_reported (void **state)
{
    //  A record overwritten with bytes that are no msgpack map: every read of it answers
    //  ECORRUPT; the operator hears of it once per quiet period, with the file and what to do.
    s_fixture_t *self = (s_fixture_t *)*state;
    char store_dir[96];
    snprintf (store_dir, sizeof store_dir, "%s/store", self->dir);
    store_fill_raw_put (store_dir, "jobs", "job-7", "\xc1\xc1\xc1\xc1", 4);

    jobd_store_t *store = NULL;
    assert_int_equal (jobd_store_open (store_dir, JOBD_STORE_RDONLY, 0, &store, NULL, 0), 0);
    static char last[2048];
    memset (last, 0, sizeof last);
    jobd_store_set_damage_fn (store, s_damage_line, last);
    jobd_job_t *job = NULL;
    for (int attempt = 0; attempt < 5; attempt++)
        assert_int_equal (jobd_store_job_get (store, "job-7", &job), JOBD_ECORRUPT);
    jobd_event_t **history = NULL;
    size_t count = 0;
    assert_int_equal (jobd_store_history (store, "job-7", &history, &count), JOBD_ECORRUPT);
    assert_int_equal (jobd_store_job_get (store, "job-8", &job), 0); //  others still read
    jobd_job_destroy (&job);
    assert_int_equal (jobd_store_damage_count (store), 6);
    assert_int_equal (last[2047], 1);
    assert_non_null (strstr (last, "data.mdb"));
    assert_non_null (strstr (last, "job-7"));
    assert_non_null (strstr (last, "jobd --verify"));
    jobd_store_destroy (&store);
}

int
main (void)
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {T (test_clean_store_passes),
                                       T (test_damaged_pages_are_found),
                                       T (test_flipped_value_bytes_are_found),
                                       T (test_truncated_and_foreign_files),
                                       T (test_every_byte_of_a_small_store),
                                       T (test_reads_that_meet_damage_are_reported),
                                       T (test_healthy_stores_always_pass),
                                       T (test_walk_beside_a_writer),
                                       T (test_flipped_byte_in_a_record_is_ecorrupt),
                                       T (test_format_2_store_gets_checksums),
                                       T (test_crc32c_known_values)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
