//  Strings that are not UTF-8 and outputs jobctl cannot write: an admin client's event with
//  invalid UTF-8 is refused (jobd stores only what JSON can carry), so `jobctl --json ls` and
//  `show` always print JSON; and an answer jobctl cannot write is an error, never silence.
#include "harness.h"
#include "jobd_map.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

static harness_t s_harness;

static int
s_setup (void **state)
{
    harness_init (&s_harness, "jobctl-output");
    char extra[1024];
    snprintf (extra, sizeof extra,
              "plugins\n"
              "    demo\n"
              "        path = %s/plugins/demo.so\n",
              harness_build_dir ());
    harness_write_config (&s_harness, extra);
    return 0;
}

static int
s_teardown (void **state)
{
    harness_fini (&s_harness);
    return 0;
}

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    msgpack_pack_str (pk, strlen (text));
    msgpack_pack_str_body (pk, text, strlen (text));
}

//  Sends an event packed by hand, as any msgpack client could (jobctl's own encoder refuses
//  such strings): pairs of keys and string values after the envelope. Returns the reply's
//  reason ("" when ok) in reason.
static bool
s_send (const char *type, char *reason, size_t reason_size, ...)
{
    const char *pairs[16];
    size_t count = 0;
    va_list args;
    va_start (args, reason_size);
    for (const char *key = va_arg (args, const char *); key && count < 16;
         key = va_arg (args, const char *)) {
        pairs[count++] = key;
        pairs[count++] = va_arg (args, const char *);
    }
    va_end (args);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    char id[25];
    jobd_event_new_id (id);
    msgpack_pack_map (&pk, 6 + count / 2);
    s_pack_str (&pk, "v");
    msgpack_pack_uint32 (&pk, 1);
    s_pack_str (&pk, "type");
    s_pack_str (&pk, type);
    s_pack_str (&pk, "id");
    s_pack_str (&pk, id);
    s_pack_str (&pk, "ts");
    msgpack_pack_int64 (&pk, jobd_now_ms ());
    s_pack_str (&pk, "src");
    s_pack_str (&pk, "a-client");
    s_pack_str (&pk, "reply");
    msgpack_pack_true (&pk);
    for (size_t index = 0; index < count; index++)
        s_pack_str (&pk, pairs[index]);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    assert_int_equal (harness_request (&s_harness, buffer.data, buffer.size, &reply, 10000), 0);
    msgpack_sbuffer_destroy (&buffer);
    const msgpack_object *ok = jobd_map_lookup (&reply.data, "ok");
    bool accepted = ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean;
    reason[0] = 0;
    jobd_map_string (&reply.data, "reason", reason, reason_size);
    msgpack_unpacked_destroy (&reply);
    return accepted;
}

//  Runs jobctl with the harness's endpoints and store through sh (for redirections): the
//  command line's rest is appended as is.
static int
s_jobctl (char *out, size_t out_size, char *err, size_t err_size, const char *rest)
{
    char binary[512], line[2048];
    snprintf (line, sizeof line, "'%s' --run-dir '%s' --store '%s' %s",
              harness_bin ("jobctl", binary, sizeof binary), s_harness.run_dir, s_harness.store,
              rest);
    char *argv[] = {"/bin/sh", "-c", line, NULL};
    return harness_run (argv, out, out_size, err, err_size, 20000);
}

//  out must be one JSON value on one line; returns it (decref it).
static json_t *
s_json (const char *out)
{
    json_error_t error;
    json_t *value = json_loads (out, 0, &error);
    if (!value)
        fail_msg ("not JSON (%s): '%s'", error.text, out);
    return value;
}

static void
test_invalid_utf8_refused_and_output_always_written (void **state)
{
    assert_true (harness_start (&s_harness) > 0);
    assert_true (harness_wait_ready (&s_harness, 10000));
    char reason[512];
    //  Each event an outside client sends, with one string that is not UTF-8: refused.
    assert_false (s_send ("track", reason, sizeof reason, "kind", "kafka", "backend", "kafka",
                          "ext", "orders", "name", "caf\xe9 sync", NULL));
    assert_non_null (strstr (reason, "field 'name': not valid UTF-8"));
    assert_false (s_send ("track", reason, sizeof reason, "kind", "kafka", "backend", "kafka",
                          "ext", "\xff\xfe", NULL));
    assert_non_null (strstr (reason, "field 'ext': not valid UTF-8"));
    assert_false (s_send ("observed", reason, sizeof reason, "kind", "kafka", "backend", "kafka",
                          "ext", "orders", "state", "FAILED", "error", "boom \xc3", NULL));
    assert_non_null (strstr (reason, "not valid UTF-8"));
    assert_false (s_send ("submit", reason, sizeof reason, "kind", "demo", "spec", "{}", "name",
                          "\xed\xa0\x80", NULL));
    assert_non_null (strstr (reason, "field 'name': not valid UTF-8"));
    assert_int_equal (harness_count (&s_harness, JOBD_STATE_SUBMITTED), 0);
    //  The same with valid UTF-8 is taken.
    assert_true (s_send ("track", reason, sizeof reason, "kind", "kafka", "backend", "kafka", "ext",
                         "orders", "name", "caf\xc3\xa9 sync \xe2\x98\x95", NULL));

    //  So JSON output always has something to say.
    static char out[65536], err[8192];
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "--json ls"), 0);
    json_t *jobs = s_json (out);
    assert_int_equal (json_array_size (jobs), 1);
    assert_string_equal (json_string_value (json_object_get (json_array_get (jobs, 0), "name")),
                         "caf\xc3\xa9 sync \xe2\x98\x95");
    json_decref (jobs);
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "--json show job-1"), 0);
    json_t *shown = s_json (out);
    assert_int_equal (json_array_size (json_object_get (shown, "history")), 1);
    json_decref (shown);

    //  An answer that cannot be written is an error with a message, in every output form.
    static const char *commands[] = {"--json ls > /dev/full", "ls > /dev/full",
                                     "--json show job-1 > /dev/full", "show job-1 > /dev/full",
                                     "--json stats > /dev/full"};
    for (size_t index = 0; index < sizeof commands / sizeof commands[0]; index++) {
        int code = s_jobctl (out, sizeof out, err, sizeof err, commands[index]);
        if (code != 1 || !strstr (err, "jobctl: cannot write the output"))
            fail_msg ("jobctl %s: exit %d, stderr '%s'", commands[index], code, err);
    }
    //  jobctl's own arguments are held to it too.
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err,
                                "track x --kind k --backend b --name \"$(printf 'a\\377')\""),
                      2);
    assert_non_null (strstr (err, "field 'name': not valid UTF-8"));
    assert_int_equal (harness_stop (&s_harness, SIGTERM, 10000), 0);

    //  The same from the store, with jobd down.
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "--json ls"), 0);
    jobs = s_json (out);
    assert_int_equal (json_array_size (jobs), 1);
    json_decref (jobs);
    assert_int_equal (s_jobctl (out, sizeof out, err, sizeof err, "--json ls > /dev/full"), 1);
    assert_non_null (strstr (err, "jobctl: cannot write the output"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_invalid_utf8_refused_and_output_always_written)};
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
