//  Fuzz target: the notifier's slack, email and alertmanager channels (plugins/notifier), on
//  what reaches them from outside: config values (alertmanager `labels`, email `from` and `to`)
//  and notes whose subject, text, key and job name come from jobs (any bytes). The first byte
//  picks the channel; the rest is fields split by 0x01: labels or to, from, subject, text, key,
//  name. Each note is delivered to a loopback port nothing listens on, so the whole message
//  or payload is built and the send fails at once. Oracles: open either succeeds or names the
//  key it refused; deliver says "later" (nothing listens) with one line of error that holds
//  neither the password nor Slack's secret URL path.
#include "nt_channel.h"
#include "nt_config_stub.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_PASSWORD  "fuzz-pa55word"
#define S_SLACK_URL "http://127.0.0.1:1/services/T0/B0/fuzzSECRETpath"

static const nt_config_t s_config = {NULL, "fuzz"};

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    char *copy = calloc (1, size);
    memcpy (copy, data + 1, size - 1);
    char *fields[6] = {"", "", "", "", "", ""};
    char *cursor = copy;
    for (size_t index = 0; index < 6 && cursor; index++) {
        fields[index] = cursor;
        cursor = strchr (cursor, '\x01');
        if (cursor)
            *cursor++ = 0;
    }
    //  A reason may quote a config value (labels, to): when the input holds the password's
    //  text itself, that is no leak.
    bool echoed = memmem (data, size, S_PASSWORD, strlen (S_PASSWORD)) != NULL;
    const nt_channel_type_t *types[] = {&nt_alertmanager_type, &nt_email_type, &nt_slack_type};
    const nt_channel_type_t *type = types[data[0] % 3];
    nt_config_stub_reset ();
    nt_config_stub_set ("timeout", "2s");
    nt_config_stub_set ("password", S_PASSWORD);
    nt_config_stub_set ("username", "fuzz");
    if (type == &nt_alertmanager_type) {
        nt_config_stub_set ("url", "http://127.0.0.1:1");
        nt_config_stub_set ("labels", fields[0]);
    } else if (type == &nt_email_type) {
        nt_config_stub_set ("url", "smtp://127.0.0.1:1");
        nt_config_stub_set ("to", fields[0]);
        nt_config_stub_set ("from", fields[1]);
    } else {
        nt_config_stub_set ("password", NULL);
        nt_config_stub_set ("username", NULL);
        nt_config_stub_set ("url", S_SLACK_URL);
    }
    void *state = NULL;
    char reason[256] = "";
    int rc = type->open (&s_config, &state, reason, sizeof reason);
    if (rc) {
        if (rc != JOBD_ECONFIG || state || strncmp (reason, "channels/fuzz/", 14) ||
            (strstr (reason, S_PASSWORD) && !echoed))
            abort ();
        free (copy);
        return 0;
    }
    json_t *body =
        json_pack ("{s:{s:s, s:s, s:i}, s:{s:s}}", "job", "cause", fields[3], "retry_final",
                   fields[2], "attempt", (int)size, "links", fields[5], "http://x/?a=<b>&c|d");
    nt_note_t note = {.key = fields[4],
                      .event = (nt_event_t)(data[0] / 3 % 8),
                      .subject = fields[2],
                      .text = fields[3],
                      .body = body,
                      .job = data[0] & 0x80 ? NULL : "job-1",
                      .name = fields[5],
                      .kind = "spark",
                      .backend = "livy",
                      .state = "FAILED",
                      .ts = (int64_t)size * 1000003};
    char error[256];
    memset (error, 'x', sizeof error);
    rc = type->deliver (state, &note, error, sizeof error);
    //  A digest or a note with no job is refused by alertmanager; anything else that reaches
    //  the network finds nobody and is to be tried later (or is nothing to send: 0).
    bool refused = type == &nt_alertmanager_type && (note.event == NT_EVENT_DIGEST || !note.job);
    if (refused ? rc != JOBD_EINVAL : (rc != 0 && rc != -EAGAIN && rc != JOBD_ETIMEOUT))
        abort ();
    if (rc && (!memchr (error, 0, sizeof error) || strchr (error, '\n') ||
               (strstr (error, S_PASSWORD) && !echoed) || strstr (error, "fuzzSECRETpath")))
        abort ();
    json_decref (body);
    type->close (&state);
    if (state)
        abort ();
    free (copy);
    return 0;
}
