//  jobctl partition: the real jobctl prints the partition of a job id (proto/README.md,
//  "Routing"), with no jobd running, and refuses bad input with one line and exit 2.
#include "harness.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

static char s_out[4096], s_err[4096];

//  Runs jobctl with args (NULL-terminated). Returns its exit code; its output in s_out, s_err.
static int
s_jobctl (const char *const *args)
{
    memset (s_out, 0, sizeof s_out);
    memset (s_err, 0, sizeof s_err);
    return harness_run_bin ("jobctl", args, s_out, sizeof s_out, s_err, sizeof s_err);
}

static void
test_partition (void **state)
{
    //  No jobd anywhere: the run folder named does not exist.
    const char *one[] = {"--run-dir", "/nonexistent", "partition", "job-1", NULL};
    assert_int_equal (s_jobctl (one), 0);
    assert_string_equal (s_out, "12\n");
    const char *ulid[] = {"partition", "job-01JEP5Z3QK8V6T2M4N7R9XW0YB", "32", NULL};
    assert_int_equal (s_jobctl (ulid), 0);
    assert_string_equal (s_out, "31\n");
    const char *empty[] = {"partition", "", NULL};
    assert_int_equal (s_jobctl (empty), 0);
    assert_string_equal (s_out, "25\n");
    const char *single[] = {"partition", "kafka-job-x", "1", NULL};
    assert_int_equal (s_jobctl (single), 0);
    assert_string_equal (s_out, "0\n");
    const char *json[] = {"-o", "json", "partition", "kafka-job-x", NULL};
    assert_int_equal (s_jobctl (json), 0);
    json_error_t error;
    json_t *answer = json_loads (s_out, 0, &error);
    assert_non_null (answer);
    int partition = -1, partitions = -1;
    const char *job = NULL;
    assert_int_equal (json_unpack (answer, "{s:s, s:i, s:i}", "job", &job, "partition", &partition,
                                   "partitions", &partitions),
                      0);
    assert_string_equal (job, "kafka-job-x");
    assert_int_equal (partition, 15);
    assert_int_equal (partitions, 32);
    json_decref (answer);
    const char *name[] = {"partition", "job-1", "-o", "name", NULL};
    assert_int_equal (s_jobctl (name), 0);
    assert_string_equal (s_out, "job-1\n");
    //  An id that starts with '-', after "--".
    const char *dash[] = {"partition", "--", "-1", NULL};
    assert_int_equal (s_jobctl (dash), 0);
}

//  --backend: the job a backend knows by its own id (proto/README.md's vector).
static void
test_partition_of_ext (void **state)
{
    const char *name[] = {"partition", "job-42", "--backend", "kafka", "-o", "name", NULL};
    assert_int_equal (s_jobctl (name), 0);
    assert_string_equal (s_out, "job-xYG8ZPP7MGD5K4KN801D2SEDTMC\n");
    const char *plain[] = {"partition", "job-42", "--backend", "kafka", NULL};
    assert_int_equal (s_jobctl (plain), 0);
    const char *derived[] = {"partition", "job-xYG8ZPP7MGD5K4KN801D2SEDTMC", NULL};
    char by_ext[64];
    snprintf (by_ext, sizeof by_ext, "%s", s_out);
    assert_int_equal (s_jobctl (derived), 0);
    assert_string_equal (s_out, by_ext);
    const char *json[] = {"-o", "json", "partition", "batch-7", "--backend", "livy", "8", NULL};
    assert_int_equal (s_jobctl (json), 0);
    json_error_t error;
    json_t *answer = json_loads (s_out, 0, &error);
    assert_non_null (answer);
    const char *job = NULL, *backend = NULL, *ext = NULL;
    int partitions = -1;
    assert_int_equal (json_unpack (answer, "{s:s, s:s, s:s, s:i}", "job", &job, "backend", &backend,
                                   "ext", &ext, "partitions", &partitions),
                      0);
    assert_string_equal (job, "job-x1D4EF5ZGPGW9FKZ9EEMBRYJQTD");
    assert_string_equal (backend, "livy");
    assert_string_equal (ext, "batch-7");
    assert_int_equal (partitions, 8);
    json_decref (answer);
    const char *empty[] = {"partition", "x", "--backend", "", NULL};
    assert_int_equal (s_jobctl (empty), 2);
    assert_non_null (strstr (s_err, "EXT and --backend must not be empty"));
}

static void
test_help_and_bad_input (void **state)
{
    const char *help[] = {"partition", "--help", NULL};
    assert_int_equal (s_jobctl (help), 0);
    assert_memory_equal (s_out, "Usage: jobctl partition ID [N]", 30);
    const char *listed[] = {"--help", NULL};
    assert_int_equal (s_jobctl (listed), 0);
    assert_non_null (strstr (s_out, "  partition ID [N] "));
    //  One line naming what is wrong, exit 2, nothing on stdout.
    const char *none[] = {"partition", NULL};
    assert_int_equal (s_jobctl (none), 2);
    assert_non_null (strstr (s_err, "partition: expected an ID"));
    assert_string_equal (s_out, "");
    const char *zero[] = {"partition", "job-1", "0", NULL};
    assert_int_equal (s_jobctl (zero), 2);
    assert_non_null (strstr (s_err, "N '0' is not a partition count (1 to 65535)"));
    const char *big[] = {"partition", "job-1", "65536", NULL};
    assert_int_equal (s_jobctl (big), 2);
    const char *word[] = {"partition", "job-1", "3x", NULL};
    assert_int_equal (s_jobctl (word), 2);
    char id[200];
    memset (id, 'a', 129);
    id[129] = 0;
    const char *long_id[] = {"partition", id, NULL};
    assert_int_equal (s_jobctl (long_id), 2);
    assert_non_null (strstr (s_err, "ID is longer than 128 bytes"));
    const char *option[] = {"partition", "job-1", "--state", "FAILED", NULL};
    assert_int_equal (s_jobctl (option), 2);
    assert_non_null (strstr (s_err, "unknown option '--state'"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_partition),
                                       cmocka_unit_test (test_partition_of_ext),
                                       cmocka_unit_test (test_help_and_bad_input)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
