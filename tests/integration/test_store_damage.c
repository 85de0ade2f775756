//  A damaged data.mdb, page by page (meta, branch, leaf, overflow): jobd --verify, jobd's
//  start-up, and jobctl ls/show/stats reading the store report it; none crashes, and jobd refuses
//  to start (exit 6) instead of crashing on it again after every restart. Also: jobd --backup
//  while jobd runs, and a restore from that backup.
#include "harness.h"
#include "jobd_store.h"
#include "jobd_store_verify.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "../store_fill.h"
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_JOBS 400

static harness_t s_harness;
static char s_pristine[320];
//  Pages of each kind in the pristine store: the ones a test damages.
static uint64_t s_pages[4];
static char s_page_db[4][64];

static void
s_page_seen (uint64_t page, jobd_verify_page_t kind, const char *database, void *arg)
{
    //  The last page walked of each kind; a leaf and an overflow page of the jobs database,
    //  which every command reads.
    if (kind != JOBD_VERIFY_META && strcmp (database, "jobs"))
        return;
    s_pages[kind] = page;
    snprintf (s_page_db[kind], sizeof s_page_db[kind], "%s", database);
}

static int
s_setup (void **state)
{
    harness_init (&s_harness, "store-damage");
    harness_write_config (&s_harness, "");
    snprintf (s_pristine, sizeof s_pristine, "%s/pristine", s_harness.dir);
    store_fill (s_pristine, S_JOBS, 50);
    jobd_verify_report_t report = {.page_fn = s_page_seen};
    assert_int_equal (jobd_store_verify_structure (s_pristine, &report), 0);
    s_pages[JOBD_VERIFY_META] = report.txnid % 2; //  the meta page LMDB reads first
    for (int kind = 0; kind < 4; kind++)
        assert_true (kind == JOBD_VERIFY_META || s_pages[kind] >= 2);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

//  Puts a copy of the pristine store in the harness's store folder, with page overwritten by
//  pseudo-random bytes (none: undamaged).
static void
s_damaged_store (int64_t page)
{
    char command[1200];
    snprintf (command, sizeof command, "rm -rf %s && mkdir -m 700 %s && cp %s/data.mdb %s/",
              s_harness.store, s_harness.store, s_pristine, s_harness.store);
    assert_int_equal (system (command), 0);
    if (page < 0)
        return;
    char path[400];
    snprintf (path, sizeof path, "%s/data.mdb", s_harness.store);
    int fd = open (path, O_RDWR);
    assert_true (fd >= 0);
    uint8_t bytes[4096];
    uint32_t seed = (uint32_t)page + 1;
    for (size_t index = 0; index < sizeof bytes; index++) {
        seed = seed * 1103515245u + 12345u;
        bytes[index] = (uint8_t)(seed >> 16);
    }
    assert_int_equal (pwrite (fd, bytes, sizeof bytes, (off_t)page * 4096), 4096);
    close (fd);
}

static char s_out[65536], s_err[8192];

//  Runs a built binary with args (NULL-terminated); returns its exit code (128 + signal).
static int
s_run (const char *binary, ...)
{
    char path[512];
    char *argv[32] = {(char *)harness_bin (binary, path, sizeof path)};
    size_t count = 1;
    va_list args;
    va_start (args, binary);
    for (char *arg = va_arg (args, char *); arg && count < 31; arg = va_arg (args, char *))
        argv[count++] = arg;
    va_end (args);
    argv[count] = NULL;
    return harness_run (argv, s_out, sizeof s_out, s_err, sizeof s_err, 30000);
}

//  Every command against the damaged store: each reports the damage, none crashes.
static void
s_check_damaged (const char *what)
{
    int code = s_run ("jobd", "--verify", "-c", s_harness.config, NULL);
    print_message ("%s: jobd --verify: %d\n%s%s", what, code, s_out, s_err);
    assert_int_equal (code, 6);
    assert_non_null (strstr (s_out, "damaged"));
    assert_non_null (strstr (s_out, "data.mdb"));
    code = s_run ("jobd", "--verify", "--json", "-c", s_harness.config, NULL);
    assert_int_equal (code, 6);
    assert_non_null (strstr (s_out, "\"damaged\": true"));

    const char *reads[][2] = {
        {"ls", NULL}, {"show", "job-1"}, {"show", "job-350"}, {"stats", NULL}};
    for (size_t index = 0; index < sizeof reads / sizeof reads[0]; index++) {
        code = s_run ("jobctl", "--run-dir", s_harness.run_dir, "--store", s_harness.store,
                      "--timeout", "500", reads[index][0], reads[index][1], NULL);
        print_message ("%s: jobctl %s (jobd down): %d\n%s", what, reads[index][0], code, s_err);
        assert_int_equal (code, 8);
        assert_non_null (strstr (s_err, "damaged"));
    }

    //  jobd refuses to start, says why and what to do; so does every restart.
    for (int attempt = 0; attempt < 2; attempt++) {
        code = s_run ("jobd", "-c", s_harness.config, NULL);
        print_message ("%s: jobd start: %d\n%s", what, code, s_err);
        assert_int_equal (code, 6);
        assert_non_null (strstr (s_err, "damaged"));
        assert_non_null (strstr (s_err, "jobd --verify"));
    }
}

static void
test_clean_store_verifies (void **state)
{
    s_damaged_store (-1);
    int code = s_run ("jobd", "--verify", "-c", s_harness.config, NULL);
    print_message ("clean: %d\n%s%s", code, s_out, s_err);
    assert_int_equal (code, 0);
    assert_non_null (strstr (s_out, "no damage"));
    code = s_run ("jobd", "--verify", "--json", "-c", s_harness.config, NULL);
    assert_int_equal (code, 0);
    assert_non_null (strstr (s_out, "\"damaged\": false"));
    code = s_run ("jobctl", "--run-dir", s_harness.run_dir, "--store", s_harness.store, "--timeout",
                  "500", "show", "job-350", NULL);
    assert_int_equal (code, 0);
}

static void
test_damaged_meta_page (void **state)
{
    s_damaged_store ((int64_t)s_pages[JOBD_VERIFY_META]);
    s_check_damaged ("meta");
}

static void
test_damaged_branch_page (void **state)
{
    s_damaged_store ((int64_t)s_pages[JOBD_VERIFY_BRANCH]);
    s_check_damaged ("branch");
}

static void
test_damaged_leaf_page (void **state)
{
    s_damaged_store ((int64_t)s_pages[JOBD_VERIFY_LEAF]);
    s_check_damaged ("leaf");
}

static void
test_damaged_overflow_page (void **state)
{
    s_damaged_store ((int64_t)s_pages[JOBD_VERIFY_OVERFLOW]);
    s_check_damaged ("overflow");
}

//  Overwrites job id's record in the harness's store with bytes that are no msgpack map: the
//  pages stay whole, the value is damaged.
static void
s_damage_record (const char *id)
{
    store_fill_raw_put (s_harness.store, "jobs", id, "\xc1\xc1\xc1\xc1", 4);
}

static int
s_count (const char *text, const char *what)
{
    int count = 0;
    for (const char *at = strstr (text, what); at; at = strstr (at + 1, what))
        count++;
    return count;
}

static void
test_damaged_value_with_jobd_up (void **state)
{
    //  The pages are whole, so jobd starts; every read of the record answers ECORRUPT, the
    //  log says so once (not once per reply), other jobs still read, and --verify finds it.
    s_damaged_store (-1);
    s_damage_record ("job-7");
    store_fill_raw_flip (s_harness.store, "jobs", "job-9"); //  still decodes: the checksum
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    for (int attempt = 0; attempt < 5; attempt++) {
        int code = s_run ("jobctl", "--run-dir", s_harness.run_dir, "show", "job-7", NULL);
        print_message ("jobctl show job-7 (jobd up): %d: %s", code, s_err);
        assert_int_equal (code, 1);
        assert_non_null (strstr (s_err, "corrupt"));
    }
    assert_int_equal (s_run ("jobctl", "--run-dir", s_harness.run_dir, "show", "job-9", NULL), 1);
    assert_non_null (strstr (s_err, "corrupt"));
    assert_int_equal (s_run ("jobctl", "--run-dir", s_harness.run_dir, "show", "job-8", NULL), 0);
    int code = s_run ("jobd", "--verify", "-c", s_harness.config, NULL);
    print_message ("%s", s_out);
    assert_int_equal (code, 6);
    assert_non_null (strstr (s_out, "job-7"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    char log[65536] = "";
    FILE *file = fopen (s_harness.log, "r");
    size_t size = fread (log, 1, sizeof log - 1, file);
    fclose (file);
    log[size] = 0;
    assert_int_equal (s_count (log, "damaged data reading job 'job-7'"), 1);
    assert_non_null (strstr (log, "jobd --verify"));
    //  A stop after damage is no clean stop: the next start walks the pages again.
    char mark[600];
    snprintf (mark, sizeof mark, "%s/jobd.clean", s_harness.store);
    assert_int_equal (access (mark, F_OK), -1);
}

static void
test_backup_while_running_and_restore (void **state)
{
    s_damaged_store (-1);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    char backup[400];
    snprintf (backup, sizeof backup, "%s/backup", s_harness.dir);
    int code = s_run ("jobd", "--backup", backup, "-c", s_harness.config, NULL);
    print_message ("backup: %d\n%s%s", code, s_out, s_err);
    assert_int_equal (code, 0);
    assert_non_null (strstr (s_out, "backup of"));
    //  A backup is never overwritten.
    assert_int_equal (s_run ("jobd", "--backup", backup, "-c", s_harness.config, NULL), 4);
    assert_non_null (strstr (s_err, "exists"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);

    //  The store is damaged while jobd is down: the clean stop's mark does not cover it.
    char mark[400];
    snprintf (mark, sizeof mark, "%s/jobd.clean", s_harness.store);
    assert_int_equal (access (mark, F_OK), 0);
    char path[400];
    snprintf (path, sizeof path, "%s/data.mdb", s_harness.store);
    int fd = open (path, O_WRONLY);
    assert_true (fd >= 0);
    char zeros[4096] = {0};
    assert_int_equal (pwrite (fd, zeros, sizeof zeros, (off_t)s_pages[JOBD_VERIFY_LEAF] * 4096),
                      4096);
    close (fd);
    assert_int_equal (s_run ("jobd", "-c", s_harness.config, NULL), 6);

    //  The documented restore: move the damaged folder aside, put the backup's data.mdb in a
    //  fresh folder, start.
    char command[1400];
    snprintf (command, sizeof command, "mv %s %s.damaged && mkdir -m 700 %s && cp %s/data.mdb %s/",
              s_harness.store, s_harness.store, s_harness.store, backup, s_harness.store);
    assert_int_equal (system (command), 0);
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    assert_int_equal (s_run ("jobctl", "--run-dir", s_harness.run_dir, "show", "job-350", NULL), 0);
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);
    snprintf (command, sizeof command, "rm -rf %s.damaged", s_harness.store);
    assert_int_equal (system (command), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_clean_store_verifies),
                                       cmocka_unit_test (test_damaged_meta_page),
                                       cmocka_unit_test (test_damaged_branch_page),
                                       cmocka_unit_test (test_damaged_leaf_page),
                                       cmocka_unit_test (test_damaged_overflow_page),
                                       cmocka_unit_test (test_damaged_value_with_jobd_up),
                                       cmocka_unit_test (test_backup_while_running_and_restore)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
