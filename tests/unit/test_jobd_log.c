//  jobd's log lines: text with an ISO 8601 UTC time in milliseconds, JSON one object a line,
//  the syslog priority prefix when stderr is the journal (JOURNAL_STREAM), and CZMQ's lines
//  taken through a log stream into the same format. stderr is a temporary file here, read back.
#include "jobd_log.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_path[] = "/tmp/test_jobd_log_XXXXXX";
static long s_read_from;

//  What was logged since the last call (fresh).
static char *
s_logged (void)
{
    fflush (stderr);
    FILE *file = fopen (s_path, "r");
    assert_non_null (file);
    fseek (file, s_read_from, SEEK_SET);
    char *text = (char *)calloc (1, 65536);
    size_t size = fread (text, 1, 65535, file);
    s_read_from += (long)size;
    fclose (file);
    return text;
}

static void
test_text_line (void **state)
{
    jobd_log_set_format ("text");
    jobd_log (JOBD_LOG_WARN, "broker", "a job %s", "went stale");
    jobd_log (JOBD_LOG_DEBUG, "broker", "not written at info");
    char *text = s_logged ();
    //  To the journal: its priority, and no time of its own (journald stamps each line).
    assert_string_equal (text, "<4>warn  broker: a job went stale\n");
    free (text);
    //  Elsewhere: ISO 8601 UTC with milliseconds.
    jobd_log_set_journal (false);
    jobd_log (JOBD_LOG_WARN, "broker", "a job %s", "went stale");
    text = s_logged ();
    //  2026-12-04T10:17:48.908Z warn  broker: a job went stale
    assert_true (strlen (text) > 25);
    assert_true (text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
                 text[16] == ':' && text[19] == '.' && text[23] == 'Z');
    assert_string_equal (text + 24, " warn  broker: a job went stale\n");
    free (text);
    jobd_log_set_journal (true);
}

static void
test_json_line (void **state)
{
    assert_int_equal (jobd_log_set_format ("xml"), JOBD_ECONFIG);
    assert_int_equal (jobd_log_set_format ("json"), 0);
    jobd_log (JOBD_LOG_ERROR, "plugin \"x\"", "line one\nand \"two\"\t\x01");
    char *text = s_logged ();
    assert_int_equal (strncmp (text, "<3>{", 4), 0);
    json_error_t error;
    json_t *line = json_loads (text + 3, JSON_DISABLE_EOF_CHECK, &error);
    assert_non_null (line);
    assert_string_equal (json_string_value (json_object_get (line, "level")), "error");
    assert_string_equal (json_string_value (json_object_get (line, "source")), "plugin \"x\"");
    assert_string_equal (json_string_value (json_object_get (line, "msg")),
                         "line one\nand \"two\"\t\x01");
    assert_int_equal (strlen (json_string_value (json_object_get (line, "ts"))), 24);
    json_decref (line);
    free (text);
    jobd_log_set_format ("text");
}

//  CZMQ's zsys lines ("E: 26-12-04 10:19:00 text") and zclock's ("26-12-04 10:19:00 E (id):
//  text") become jobd's lines at their level, without CZMQ's local time.
static void
test_library_stream (void **state)
{
    FILE *stream = jobd_log_stream ("czmq");
    assert_non_null (stream);
    fprintf (stream, "E: 26-12-04 10:19:00 cannot bind\n");
    fprintf (stream, "26-12-04 10:19:00 W (zconfig): careful\nI: plain\n");
    fclose (stream);
    char *text = s_logged ();
    assert_non_null (strstr (text, "<3>error czmq: cannot bind\n"));
    assert_non_null (strstr (text, "<4>warn  czmq: (zconfig): careful\n"));
    assert_non_null (strstr (text, "<6>info  czmq: plain\n"));
    assert_null (strstr (text, "26-12-04 10:19:00"));
    free (text);
}

int
main (void)
{
    //  stderr is a file, named by JOURNAL_STREAM as systemd does for the journal's stream.
    int fd = mkstemp (s_path);
    assert_true (fd >= 0);
    struct stat info;
    assert_int_equal (fstat (fd, &info), 0);
    fflush (stderr);
    int saved = dup (STDERR_FILENO);
    dup2 (fd, STDERR_FILENO);
    char journal[64];
    snprintf (journal, sizeof journal, "%llu:%llu", (unsigned long long)info.st_dev,
              (unsigned long long)info.st_ino);
    setenv ("JOURNAL_STREAM", journal, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_text_line),
        cmocka_unit_test (test_json_line),
        cmocka_unit_test (test_library_stream),
    };
    //  cmocka reports on stdout; its failures' details go to stderr: shown at the end.
    int failed = cmocka_run_group_tests (tests, NULL, NULL);
    fflush (stderr);
    dup2 (saved, STDERR_FILENO);
    if (failed) {
        s_read_from = 0;
        char *text = s_logged ();
        fprintf (stderr, "%s", text);
        free (text);
    }
    unlink (s_path);
    return failed;
}
