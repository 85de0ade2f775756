//  The email channel (plugins/notifier/nt_email.c) against a real SMTP server (aiosmtpd) on
//  loopback: the message arrives with its headers and body, its Message-ID is the note's key
//  (the same message when sent again), a non-ASCII subject is an RFC 2047 encoded-word,
//  refusals and a server down map to nt_channel.h's codes, and no password shows in an error.
#include "nt_channel.h"
#include "nt_config_stub.h"
#include "rcv_smtp.h"
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

//  The receiver of the running test: stopped by the teardown whatever happened.
static rcv_proc_t s_receiver;

static const nt_config_t s_config = {NULL, "mail"};

static nt_note_t
s_note (const char *key, const char *subject, const char *text)
{
    nt_note_t note = {.key = key,
                      .event = NT_EVENT_FINAL,
                      .subject = subject,
                      .text = text,
                      .job = "job-42",
                      .name = "nightly-etl",
                      .kind = "spark",
                      .backend = "livy",
                      .state = "FAILED",
                      .ts = (int64_t)time (NULL) * 1000};
    return note;
}

static void *
s_open (void)
{
    void *state = nt_config_stub_open (&nt_email_type, &s_config);
    assert_non_null (state);
    return state;
}

//  Expects open to refuse the config with a reason that contains text.
static void
s_refused (const char *text)
{
    void *state = NULL;
    char reason[256] = "";
    assert_int_equal (nt_email_type.open (&s_config, &state, reason, sizeof reason), JOBD_ECONFIG);
    if (!strstr (reason, text))
        fail_msg ("reason '%s' does not say '%s'", reason, text);
    assert_null (state);
}

//  Starts the SMTP server and points the channel at it (from, to set). Skips without aiosmtpd.
static void
s_start (rcv_proc_t *smtp)
{
    if (!rcv_smtp_python ())
        skip ();
    assert_int_equal (rcv_smtp_start (smtp, NULL, NULL, 20000), 0);
    nt_config_stub_set ("url", smtp->url);
    nt_config_stub_set ("from", "jobd <jobd@example.com>");
    nt_config_stub_set ("to", "ops@example.com, Dev Team <dev@example.com>");
}

//  Decodes one RFC 2047 "B" encoded-word's base64 (between "?B?" and "?=") onto out.
static void
s_decode_word (const char *word, char *out, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t used = strlen (out);
    unsigned bits = 0, count = 0;
    for (const char *cursor = word; *cursor && *cursor != '?'; cursor++) {
        const char *at = strchr (alphabet, *cursor);
        if (*cursor == '=' || !at)
            break;
        bits = (bits << 6) | (unsigned)(at - alphabet);
        count += 6;
        if (count >= 8 && used + 1 < size) {
            count -= 8;
            out[used++] = (char)((bits >> count) & 0xFF);
        }
    }
    out[used] = 0;
}

static int
s_teardown (void **state)
{
    //  A test that failed half-way left its receiver running.
    rcv_proc_stop (&s_receiver);
    nt_config_stub_reset ();
    return 0;
}

static void
test_config_refused (void **state)
{
    s_refused ("channels/mail/url");
    nt_config_stub_set ("url", "http://mail.example.com");
    s_refused ("channels/mail/url");
    nt_config_stub_set ("url", "smtp://127.0.0.1:25");
    s_refused ("channels/mail/from");
    nt_config_stub_set ("from", "jobd\r\nBcc: victim@example.com");
    s_refused ("channels/mail/from");
    nt_config_stub_set ("from", "jobd@example.com");
    s_refused ("channels/mail/to: one or more");
    nt_config_stub_set ("to", "ops@example.com, not an address");
    s_refused ("channels/mail/to: 'not an address'");
    nt_config_stub_set ("to", "ops@example.com,");
    nt_config_stub_set ("starttls", "maybe");
    s_refused ("channels/mail/starttls");
    nt_config_stub_set ("starttls", "require");
    nt_config_stub_set ("username", "jobd");
    s_refused ("channels/mail/password");
    nt_config_stub_set ("password_env", "NT_EMAIL_TEST_UNSET_VARIABLE");
    s_refused ("NT_EMAIL_TEST_UNSET_VARIABLE");
    nt_config_stub_set ("password_env", NULL);
    nt_config_stub_set ("password", "pw");
    void *channel = s_open ();
    nt_email_type.close (&channel);
    assert_null (channel);
}

static void
test_message_arrives (void **state)
{
    rcv_proc_t *smtp = &s_receiver;
    s_start (smtp);
    void *channel = s_open ();
    const char *text = "nightly-etl (job-42) FAILED for good.\n"
                       "cause: java.lang.OutOfMemoryError\n"
                       ".a line that starts with a dot\n"
                       "links: http://jobd.example/jobs/job-42\n";
    nt_note_t note =
        s_note ("job-42/7", "jobd: nightly-etl (job-42) FAILED for good: OutOfMemoryError", text);
    char error[256] = "";
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), 0);
    char *message = rcv_smtp_find (smtp, "job-42%2F7", 5000);
    assert_non_null (message);
    const char *const expected[][2] = {
        {"From", "jobd <jobd@example.com>"},
        {"To", "ops@example.com, dev@example.com"},
        {"Subject", note.subject},
        {"Message-ID", "<job-42%2F7@jobd>"},
        {"References", "<job%2Fjob-42@jobd>"},
        {"Content-Type", "text/plain; charset=UTF-8"},
        {"Content-Transfer-Encoding", "7bit"},
        {"X-MailFrom", "jobd@example.com"},
        {"X-RcptTo", "ops@example.com, dev@example.com"},
    };
    for (size_t index = 0; index < sizeof expected / sizeof expected[0]; index++) {
        char *value = rcv_smtp_header (message, expected[index][0]);
        if (!value || strcmp (value, expected[index][1]))
            fail_msg ("%s: '%s', not '%s'", expected[index][0], value ? value : "(none)",
                      expected[index][1]);
        free (value);
    }
    char *date = rcv_smtp_header (message, "Date");
    assert_non_null (date);
    assert_non_null (strstr (date, " +0000"));
    free (date);
    //  The body as sent, the dot line not doubled (curl stuffs it, the server unstuffs it).
    char *body = strdup (rcv_smtp_body (message));
    char *out = body;
    for (const char *in = body; *in; in++)
        if (*in != '\r')
            *out++ = *in;
    *out = 0;
    assert_string_equal (body, text);
    free (body);
    free (message);
    nt_email_type.close (&channel);
    rcv_proc_stop (smtp);
}

//  32 recipients with long addresses (about 2,000 characters): the To header is folded, one
//  address a line, so no line of the message passes RFC 5322's 998 characters, and every
//  address arrives.
static void
test_many_recipients_folded (void **state)
{
    rcv_proc_t *smtp = &s_receiver;
    s_start (smtp);
    char to[4096] = "", expected[4096] = "";
    for (int index = 0; index < 32; index++) {
        char address[128];
        snprintf (address, sizeof address,
                  "data-platform-on-call-rotation-member-number-%02d@very-long-domain.example.com",
                  index);
        snprintf (to + strlen (to), sizeof to - strlen (to), "%s%s", index ? ", " : "", address);
        snprintf (expected + strlen (expected), sizeof expected - strlen (expected), "%s%s",
                  index ? ", " : "", address);
    }
    nt_config_stub_set ("to", to);
    void *channel = s_open ();
    nt_note_t note = s_note ("job-9/2", "jobd: job-9 FAILED for good", "job-9 FAILED\n");
    char error[256] = "";
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), 0);
    char *message = rcv_smtp_find (smtp, "job-9%2F2", 5000);
    assert_non_null (message);
    for (const char *line = message; line && *line;
         line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL) {
        const char *end = strchr (line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen (line);
        //  aiosmtpd's own X-RcptTo line (the envelope, one line) is not the message's.
        if (length > 998 && strncmp (line, "X-RcptTo:", 9) != 0)
            fail_msg ("a line of %zu characters: %.60s...", length, line);
    }
    char *value = rcv_smtp_header (message, "To");
    assert_non_null (value);
    assert_string_equal (value, expected);
    free (value);
    value = rcv_smtp_header (message, "X-RcptTo");
    assert_non_null (value);
    assert_string_equal (value, expected);
    free (value);
    free (message);
    nt_email_type.close (&channel);
    rcv_proc_stop (smtp);
}

static void
test_same_key_same_message_id (void **state)
{
    rcv_proc_t *smtp = &s_receiver;
    s_start (smtp);
    void *channel = s_open ();
    char error[256] = "";
    nt_note_t note = s_note ("job-42/7", "first send", "once\n");
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), 0);
    note = s_note ("job-42/7", "sent again after a crash", "twice\n");
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), 0);
    note = s_note ("job-42/9", "the next event of the job", "next\n");
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), 0);
    char *first = rcv_smtp_find (smtp, "first send", 5000);
    char *again = rcv_smtp_find (smtp, "sent again", 5000);
    char *next = rcv_smtp_find (smtp, "next event", 5000);
    assert_non_null (first);
    assert_non_null (again);
    assert_non_null (next);
    char *ids[3] = {rcv_smtp_header (first, "Message-ID"), rcv_smtp_header (again, "Message-ID"),
                    rcv_smtp_header (next, "Message-ID")};
    assert_string_equal (ids[0], "<job-42%2F7@jobd>");
    assert_string_equal (ids[0], ids[1]);
    assert_string_equal (ids[2], "<job-42%2F9@jobd>");
    char *references[2] = {rcv_smtp_header (first, "References"),
                           rcv_smtp_header (next, "References")};
    assert_string_equal (references[0], references[1]);
    for (size_t index = 0; index < 3; index++)
        free (ids[index]);
    free (references[0]);
    free (references[1]);
    free (first);
    free (again);
    free (next);
    nt_email_type.close (&channel);
    rcv_proc_stop (smtp);
}

static void
test_non_ascii (void **state)
{
    rcv_proc_t *smtp = &s_receiver;
    s_start (smtp);
    void *channel = s_open ();
    //  Long enough for several encoded-words, with multi-byte characters across their cuts.
    const char *subject = "jobd: nächtliche-ladung (job-42) FAILED für immer: 内存不足 "
                          "OutOfMemoryError ✓✓✓✓✓✓✓✓✓✓ über alles";
    const char *text = "Grüße: the job failed.\n";
    nt_note_t note = s_note ("job-42/8", subject, text);
    char error[256] = "";
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), 0);
    char *message = rcv_smtp_find (smtp, "job-42%2F8", 5000);
    assert_non_null (message);
    //  Every line of the header within 78 characters, the subject as encoded-words only.
    for (const char *line = message; *line && *line != '\n';) {
        size_t length = strcspn (line, "\n");
        assert_true (length <= 78 || !strncmp (line, "X-", 2));
        line += length + 1;
    }
    char *encoded = rcv_smtp_header (message, "Subject");
    assert_non_null (encoded);
    assert_true (!strncmp (encoded, "=?UTF-8?B?", 10));
    char decoded[512] = "";
    size_t words = 0;
    for (const char *word = encoded; (word = strstr (word, "=?UTF-8?B?")); word += 10, words++)
        s_decode_word (word + 10, decoded, sizeof decoded);
    assert_true (words >= 3);
    assert_string_equal (decoded, subject);
    char *encoding = rcv_smtp_header (message, "Content-Transfer-Encoding");
    assert_string_equal (encoding, "quoted-printable");
    assert_non_null (strstr (rcv_smtp_body (message), "Gr=C3=BC=C3=9Fe: the job failed."));
    free (encoding);
    free (encoded);
    free (message);

    //  A line of 3000 bytes (a stack trace on one line): quoted-printable, every line within
    //  RFC 5322's 998.
    char *long_text = calloc (1, 3002);
    memset (long_text, 'a', 3000);
    long_text[3000] = '\n';
    note = s_note ("job-42/12", "a long line", long_text);
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), 0);
    message = rcv_smtp_find (smtp, "job-42%2F12", 5000);
    assert_non_null (message);
    encoding = rcv_smtp_header (message, "Content-Transfer-Encoding");
    assert_string_equal (encoding, "quoted-printable");
    size_t letters = 0;
    for (const char *line = message; *line;) {
        size_t length = strcspn (line, "\n");
        assert_true (length <= 998);
        line += length + (line[length] ? 1 : 0);
    }
    for (const char *cursor = rcv_smtp_body (message); *cursor; cursor++)
        letters += *cursor == 'a';
    assert_int_equal (letters, 3000);
    free (encoding);
    free (message);
    free (long_text);
    nt_email_type.close (&channel);
    rcv_proc_stop (smtp);
}

static void
test_refused_and_down (void **state)
{
    rcv_proc_t *smtp = &s_receiver;
    s_start (smtp);
    //  A recipient the server refuses (553): the channel's address is wrong, not this note: held
    //  (tried again later) until the config is fixed.
    nt_config_stub_set ("to", "a@b@c");
    void *channel = s_open ();
    nt_note_t note = s_note ("job-42/1", "refused", "text\n");
    char error[256] = "";
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "smtp: 553"));
    nt_email_type.close (&channel);

    //  STARTTLS required of a server that offers none: later (the operator fixes the config).
    nt_config_stub_set ("to", "ops@example.com");
    nt_config_stub_set ("starttls", "require");
    channel = s_open ();
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    nt_email_type.close (&channel);
    assert_int_equal (rcv_smtp_count (smtp), 0);

    //  Down, with a login set: later, and the password nowhere.
    nt_config_stub_set ("starttls", "try");
    nt_config_stub_set ("username", "jobd");
    nt_config_stub_set ("password", "sm7p-pa55word");
    char url[64];
    snprintf (url, sizeof url, "%s", smtp->url);
    rcv_proc_stop (smtp);
    channel = s_open ();
    int rc = nt_email_type.deliver (channel, &note, error, sizeof error);
    assert_true (rc == -EAGAIN || rc == JOBD_ETIMEOUT);
    assert_non_null (strstr (error, url));
    assert_null (strstr (error, "sm7p-pa55word"));
    nt_email_type.close (&channel);
}

static void
test_login (void **state)
{
    if (!rcv_smtp_python ())
        skip ();
    rcv_proc_t *smtp = &s_receiver;
    assert_int_equal (rcv_smtp_start (smtp, "jobd", "sm7p-l0gin", 20000), 0);
    nt_config_stub_set ("url", smtp->url);
    nt_config_stub_set ("from", "jobd@example.com");
    nt_config_stub_set ("to", "ops@example.com");
    nt_config_stub_set ("username", "jobd");
    setenv ("NT_EMAIL_TEST_PASSWORD", "sm7p-l0gin", 1);
    nt_config_stub_set ("password_env", "NT_EMAIL_TEST_PASSWORD");
    void *channel = s_open ();
    nt_note_t note = s_note ("job-42/11", "logged in", "text\n");
    char error[256] = "";
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), 0);
    char *message = rcv_smtp_find (smtp, "logged in", 5000);
    assert_non_null (message);
    free (message);
    nt_email_type.close (&channel);

    //  A wrong password: 535, held until fixed; neither password in the error.
    nt_config_stub_set ("password_env", NULL);
    nt_config_stub_set ("password", "wr0ng-l0gin");
    channel = s_open ();
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "smtp: 535"));
    assert_null (strstr (error, "wr0ng-l0gin"));
    assert_null (strstr (error, "sm7p-l0gin"));
    nt_email_type.close (&channel);

    //  No login where the server wants one: 530, held until fixed.
    nt_config_stub_set ("password", NULL);
    nt_config_stub_set ("username", NULL);
    channel = s_open ();
    assert_int_equal (nt_email_type.deliver (channel, &note, error, sizeof error), -EAGAIN);
    assert_non_null (strstr (error, "smtp: 530"));
    nt_email_type.close (&channel);
    assert_int_equal (rcv_smtp_count (smtp), 1);
    rcv_proc_stop (smtp);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_config_refused, s_teardown),
        cmocka_unit_test_teardown (test_message_arrives, s_teardown),
        cmocka_unit_test_teardown (test_many_recipients_folded, s_teardown),
        cmocka_unit_test_teardown (test_same_key_same_message_id, s_teardown),
        cmocka_unit_test_teardown (test_non_ascii, s_teardown),
        cmocka_unit_test_teardown (test_refused_and_down, s_teardown),
        cmocka_unit_test_teardown (test_login, s_teardown),
    };
    if (!rcv_smtp_python ())
        fprintf (stderr, "SKIP: no Python with aiosmtpd (Debian's python3-aiosmtpd: run "
                         "scripts/deps.sh)\n");
    return cmocka_run_group_tests (tests, NULL, NULL);
}
