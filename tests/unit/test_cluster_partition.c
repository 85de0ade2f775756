//  Routing (common/jobd_route.c): Kafka's murmur2 partition of a job id, checked against the
//  vectors of docs/cluster.md section 3 and against librdkafka's own partitioner; submitted ids
//  (ULIDs) and ids derived from a backend's id.
#include "jobd_error.h"
#include "jobd_event.h"
#include "jobd_route.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

//  Random keys compared with librdkafka's partitioner, and submitted ids made for uniqueness.
#define S_KEYS 5000
#define S_IDS  100000

//  The vectors of docs/cluster.md and proto/README.md ("Routing").
static void
test_vectors (void **state)
{
    //  Kafka's own unit test value (UtilsTest.testMurmur2).
    assert_int_equal ((int32_t)jobd_route_murmur2 ("21", 2), -973932308);
    assert_int_equal (jobd_route_partition ("job-1", 32), 12);
    assert_int_equal (jobd_route_partition ("job-01JEP5Z3QK8V6T2M4N7R9XW0YB", 32), 31);
    assert_int_equal (jobd_route_partition ("kafka-job-x", 32), 15);
    assert_int_equal (jobd_route_partition ("", 32), 25);
    //  One partition: everything in 0; the largest count is accepted.
    assert_int_equal (jobd_route_partition ("job-1", 1), 0);
    int p = jobd_route_partition ("job-1", JOBD_ROUTE_PARTITIONS_MAX);
    assert_true (p >= 0 && p < JOBD_ROUTE_PARTITIONS_MAX);
}

//  Input from outside is refused with an error, never asserted.
static void
test_bad_input (void **state)
{
    assert_int_equal (jobd_route_partition (NULL, 32), -EINVAL);
    assert_int_equal (jobd_route_partition ("job-1", 0), -EINVAL);
    assert_int_equal (jobd_route_partition ("job-1", -1), -EINVAL);
    assert_int_equal (jobd_route_partition ("job-1", JOBD_ROUTE_PARTITIONS_MAX + 1), -EINVAL);
    char id[JOBD_ROUTE_KEY_MAX + 2];
    memset (id, 'a', JOBD_ROUTE_KEY_MAX);
    id[JOBD_ROUTE_KEY_MAX] = 0;
    assert_true (jobd_route_partition (id, 32) >= 0);
    id[JOBD_ROUTE_KEY_MAX] = 'a';
    id[JOBD_ROUTE_KEY_MAX + 1] = 0;
    assert_int_equal (jobd_route_partition (id, 32), JOBD_ETOOBIG);

    char out[JOBD_ROUTE_ID_SIZE];
    assert_int_equal (jobd_route_derived_id ("", "x", out, sizeof out), -EINVAL);
    assert_int_equal (jobd_route_derived_id ("livy", "", out, sizeof out), -EINVAL);
    assert_int_equal (jobd_route_derived_id (NULL, "x", out, sizeof out), -EINVAL);
    assert_int_equal (jobd_route_derived_id ("livy", "x", out, 31), -EINVAL);
    assert_int_equal (jobd_route_derived_id ("livy", id, out, sizeof out), JOBD_ETOOBIG);
    assert_int_equal (jobd_route_derived_id (id, "x", out, sizeof out), JOBD_ETOOBIG);
    assert_int_equal (jobd_route_new_id (out, 30), -EINVAL);
    assert_int_equal (jobd_route_new_id_at (-1, out, sizeof out), -EINVAL);
    assert_int_equal (jobd_route_new_id_at ((int64_t)1 << 48, out, sizeof out), -EINVAL);

    //  Not submitted ids: no time.
    assert_int_equal (jobd_route_id_time ("job-1"), -1);
    assert_int_equal (jobd_route_id_time ("job-01JEP5Z3QK8V6T2M4N7R9XW0Y"), -1);
    assert_int_equal (jobd_route_id_time ("job-01JEP5Z3QK8V6T2M4N7R9XW0YBB"), -1);
    assert_int_equal (jobd_route_id_time ("job-01JEP5Z3QK8V6T2M4N7R9XW0YI"), -1);
    assert_int_equal (jobd_route_id_time ("job-81JEP5Z3QK8V6T2M4N7R9XW0YB"), -1);
    assert_int_equal (jobd_route_id_time ("job-01jep5z3qk8v6t2m4n7r9xw0yb"), -1);
    assert_int_equal (jobd_route_id_time (NULL), -1);
}

//  librdkafka's murmur2 partitioner (and murmur2_random, for keyed records) places every key
//  where jobd does; its default, consistent_random (CRC32), does not.
static void
test_librdkafka (void **state)
{
    char error[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    //  No brokers: the producer only lends its topic handle to the partitioner.
    assert_int_equal (rd_kafka_conf_set (conf, "log_level", "0", error, sizeof error),
                      RD_KAFKA_CONF_OK);
    rd_kafka_t *producer = rd_kafka_new (RD_KAFKA_PRODUCER, conf, error, sizeof error);
    assert_non_null (producer);
    rd_kafka_topic_t *topic = rd_kafka_topic_new (producer, "jobd.jobs", NULL);
    assert_non_null (topic);

    unsigned seed = (unsigned)time (NULL);
    print_message ("seed %u\n", seed);
    srand (seed);
    static const int32_t counts[] = {1, 3, 32, 100, 1024, JOBD_ROUTE_PARTITIONS_MAX};
    size_t differs = 0;
    for (int n = 0; n < S_KEYS; n++) {
        //  Any bytes but NUL (ids are C strings), 0 to 128 of them.
        char key[JOBD_ROUTE_KEY_MAX + 1];
        size_t size = (size_t)rand () % (JOBD_ROUTE_KEY_MAX + 1);
        for (size_t i = 0; i < size; i++)
            key[i] = (char)(1 + rand () % 255);
        key[size] = 0;
        int32_t count = counts[n % (sizeof counts / sizeof counts[0])];
        int32_t theirs = rd_kafka_msg_partitioner_murmur2 (topic, key, size, count, NULL, NULL);
        assert_int_equal (jobd_route_partition (key, count), theirs);
        assert_int_equal (
            rd_kafka_msg_partitioner_murmur2_random (topic, key, size, count, NULL, NULL), theirs);
        //  The hash itself, nearly whole: modulo the largest partition count there is.
        assert_int_equal (
            (int32_t)((jobd_route_murmur2 (key, size) & 0x7fffffff) % INT32_MAX),
            rd_kafka_msg_partitioner_murmur2 (topic, key, size, INT32_MAX, NULL, NULL));
        if (count == 32 && rd_kafka_msg_partitioner_consistent_random (topic, key, size, count,
                                                                       NULL, NULL) != theirs)
            differs++;
    }
    //  About 31 keys in 32 land elsewhere with librdkafka's default partitioner.
    assert_true (differs > S_KEYS / 6 / 2);
    rd_kafka_topic_destroy (topic);
    rd_kafka_destroy (producer);
}

//  A submitted id at a known time: its first 10 characters are the time (computed once with
//  Python from 1733270400000 << 80, 2024-12-04T00:00:00Z). The first id this process makes, so
//  that no later one comes before it.
static void
test_id_known_time (void **state)
{
    char id[JOBD_ROUTE_ID_SIZE];
    assert_int_equal (jobd_route_new_id_at (1733270400000, id, sizeof id), 0);
    assert_int_equal (strlen (id), 30);
    assert_memory_equal (id, "job-01JE7FEV00", 14);
    assert_int_equal (jobd_route_id_time (id), 1733270400000);
}

//  Ids sort by their time, and several in one ms still grow.
static void
test_id_order (void **state)
{
    int64_t base = jobd_now_ms () - 600000;
    char last[JOBD_ROUTE_ID_SIZE] = "";
    for (int n = 0; n < 1000; n++) {
        int64_t ms = base + n / 4;
        char id[JOBD_ROUTE_ID_SIZE];
        assert_int_equal (jobd_route_new_id_at (ms, id, sizeof id), 0);
        assert_int_equal (jobd_route_id_time (id), ms);
        assert_true (strcmp (id, last) > 0);
        memcpy (last, id, sizeof id);
    }
}

//  100,000 ids from now: each "job-" and 26 characters of Crockford's alphabet, all different,
//  each above the one before.
static void
test_id_unique (void **state)
{
    static char ids[S_IDS][JOBD_ROUTE_ID_SIZE];
    int64_t before = jobd_now_ms ();
    for (int n = 0; n < S_IDS; n++) {
        assert_int_equal (jobd_route_new_id (ids[n], sizeof ids[n]), 0);
        assert_int_equal (strlen (ids[n]), 30);
        assert_memory_equal (ids[n], "job-", 4);
        assert_int_equal (strspn (ids[n] + 4, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 26);
        if (n > 0)
            assert_true (strcmp (ids[n], ids[n - 1]) > 0);
    }
    int64_t after = jobd_now_ms ();
    assert_true (jobd_route_id_time (ids[0]) >= before);
    assert_true (jobd_route_id_time (ids[S_IDS - 1]) <= after);
    //  Random bits: two ids made apart differ beyond their time and a counter's last digits.
    assert_memory_not_equal (ids[0] + 14, ids[S_IDS - 1] + 14, 8);
}

//  The clock stepping back does not make an id smaller than the last one.
static void
test_id_clock_back (void **state)
{
    char first[JOBD_ROUTE_ID_SIZE], second[JOBD_ROUTE_ID_SIZE];
    assert_int_equal (jobd_route_new_id (first, sizeof first), 0);
    assert_int_equal (jobd_route_new_id_at (1000, second, sizeof second), 0);
    assert_true (strcmp (second, first) > 0);
    assert_int_equal (jobd_route_id_time (second), jobd_route_id_time (first));
}

//  A forked child and its parent, in the same ms, do not both make the last id plus one.
static void
test_id_fork (void **state)
{
    char last[JOBD_ROUTE_ID_SIZE], parent[JOBD_ROUTE_ID_SIZE], child[JOBD_ROUTE_ID_SIZE] = "";
    assert_int_equal (jobd_route_new_id (last, sizeof last), 0);
    int64_t ms = jobd_route_id_time (last);
    int pipes[2];
    assert_int_equal (pipe (pipes), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        char id[JOBD_ROUTE_ID_SIZE] = "";
        jobd_route_new_id_at (ms, id, sizeof id);
        _exit (write (pipes[1], id, sizeof id) == sizeof id ? 0 : 1);
    }
    assert_int_equal (jobd_route_new_id_at (ms, parent, sizeof parent), 0);
    assert_int_equal (read (pipes[0], child, sizeof child), sizeof child);
    int status;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    close (pipes[0]);
    close (pipes[1]);
    assert_int_equal (jobd_route_id_time (child), ms);
    assert_string_not_equal (child, parent);
}

//  Derived ids: the same pair, the same id; vectors computed once with
//  printf 'kafka\0job-42' | sha256sum (and Python for the base32 of its first 130 bits).
static void
test_derived (void **state)
{
    char id[JOBD_ROUTE_ID_SIZE], again[JOBD_ROUTE_ID_SIZE];
    assert_int_equal (jobd_route_derived_id ("kafka", "job-42", id, sizeof id), 0);
    assert_string_equal (id, "job-xYG8ZPP7MGD5K4KN801D2SEDTMC");
    assert_int_equal (jobd_route_derived_id ("kafka", "job-42", again, sizeof again), 0);
    assert_string_equal (id, again);
    assert_int_equal (jobd_route_derived_id ("livy", "batch-7", id, sizeof id), 0);
    assert_string_equal (id, "job-x1D4EF5ZGPGW9FKZ9EEMBRYJQTD");
    //  The separator keeps ("ab", "c") and ("a", "bc") apart.
    assert_int_equal (jobd_route_derived_id ("ab", "c", id, sizeof id), 0);
    assert_int_equal (jobd_route_derived_id ("a", "bc", again, sizeof again), 0);
    assert_string_not_equal (id, again);
    //  The longest accepted: 128 bytes each.
    char longest[JOBD_ROUTE_KEY_MAX + 1];
    memset (longest, 'z', JOBD_ROUTE_KEY_MAX);
    longest[JOBD_ROUTE_KEY_MAX] = 0;
    assert_int_equal (jobd_route_derived_id (longest, longest, id, sizeof id), 0);
    assert_int_equal (strlen (id), 31);
    assert_true (jobd_route_partition (id, 32) >= 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        //  test_id_known_time first: the earliest time of all the ids made here.
        cmocka_unit_test (test_id_known_time), cmocka_unit_test (test_vectors),
        cmocka_unit_test (test_bad_input),     cmocka_unit_test (test_librdkafka),
        cmocka_unit_test (test_id_order),      cmocka_unit_test (test_id_unique),
        cmocka_unit_test (test_id_clock_back), cmocka_unit_test (test_id_fork),
        cmocka_unit_test (test_derived),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
