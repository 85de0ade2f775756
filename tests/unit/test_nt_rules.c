//  The notifier's rules and decisions: patterns (globs, ~regex), events and channels, the
//  final-failure decision from the record, recovered, the note's key and body, digests.
#include "nt_decide.h"
#include "nt_note.h"
#include "nt_rules.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static nt_rules_t *
s_rules (const char *events, const char *channels, const char *kinds, const char *backends,
         const char *names)
{
    nt_rules_t *rules = nt_rules_new ();
    char reason[256] = "";
    if (nt_rules_add (rules, "r", events, channels, kinds, backends, names, 10, 60000, reason,
                      sizeof reason))
        fail_msg ("refused: %s", reason);
    return rules;
}

static nt_facts_t
s_facts (uint32_t events, jobd_state_t state, const char *kind, const char *backend,
         const char *name)
{
    nt_facts_t facts = {events, state, kind, backend, name};
    return facts;
}

static void
test_patterns (void **state)
{
    assert_true (nt_pattern_match ("", "anything"));
    assert_true (nt_pattern_match ("", NULL));
    assert_true (nt_pattern_match ("etl-*, nightly", "etl-42"));
    assert_true (nt_pattern_match ("etl-*, nightly", "nightly"));
    assert_false (nt_pattern_match ("etl-*, nightly", "nightly-2"));
    assert_false (nt_pattern_match ("etl-*", NULL));
    assert_true (nt_pattern_match ("*", NULL));
    assert_true (nt_pattern_match ("~^etl-[0-9]+$", "etl-42"));
    assert_false (nt_pattern_match ("~^etl-[0-9]+$", "etl-x"));
    char reason[128] = "";
    assert_int_equal (nt_pattern_check ("~(unclosed", reason, sizeof reason), JOBD_ECONFIG);
    assert_non_null (strstr (reason, "bad regular expression"));
}

static void
test_rule_errors (void **state)
{
    nt_rules_t *rules = nt_rules_new ();
    char reason[256] = "";
    assert_int_equal (nt_rules_add (rules, "r", "final, exploded", "*", "", "", "", 10, 1000,
                                    reason, sizeof reason),
                      JOBD_ECONFIG);
    assert_non_null (strstr (reason, "events: unknown event 'exploded'"));
    assert_int_equal (
        nt_rules_add (rules, "r", "state:NOPE", "*", "", "", "", 10, 1000, reason, sizeof reason),
        JOBD_ECONFIG);
    assert_int_equal (
        nt_rules_add (rules, "r", " ", "*", "", "", "", 10, 1000, reason, sizeof reason),
        JOBD_ECONFIG);
    assert_int_equal (
        nt_rules_add (rules, "r", "final", "*", "~(", "", "", 10, 1000, reason, sizeof reason),
        JOBD_ECONFIG);
    assert_non_null (strstr (reason, "kinds: "));
    assert_int_equal (nt_rules_size (rules), 0);
    assert_int_equal (
        nt_rules_add (rules, "r", "final", "ops, dev", "", "", "", 10, 1000, reason, sizeof reason),
        0);
    const char *known[] = {"ops"};
    assert_string_equal (nt_rules_unknown_channel (rules, known, 1), "dev");
    nt_rules_destroy (&rules);
    assert_null (rules);
}

static void
test_match_events_and_labels (void **state)
{
    nt_rules_t *rules =
        s_rules ("final, recovered, state:RUNNING", "ops", "spark", "livy, yarn", "~^etl-");
    nt_event_t event;
    uint32_t failed = (1u << NT_EVENT_STATE) | (1u << NT_EVENT_FAILED);
    uint32_t final = failed | (1u << NT_EVENT_FINAL);
    nt_facts_t facts = s_facts (final, JOBD_STATE_FAILED, "spark", "livy", "etl-1");
    assert_int_equal (nt_rules_match (rules, "ops", &facts, &event), 0);
    assert_int_equal (event, NT_EVENT_FINAL);
    //  Not final: the rule asks for final only.
    facts.events = failed;
    assert_int_equal (nt_rules_match (rules, "ops", &facts, &event), -1);
    //  Another channel, kind, backend, name.
    facts.events = final;
    assert_int_equal (nt_rules_match (rules, "dev", &facts, &event), -1);
    facts.kind = "kafka";
    assert_int_equal (nt_rules_match (rules, "ops", &facts, &event), -1);
    facts.kind = "spark";
    facts.backend = NULL;
    assert_int_equal (nt_rules_match (rules, "ops", &facts, &event), -1);
    facts.backend = "yarn";
    facts.name = "nightly";
    assert_int_equal (nt_rules_match (rules, "ops", &facts, &event), -1);
    facts.name = "etl-2";
    assert_int_equal (nt_rules_match (rules, "ops", &facts, &event), 0);
    //  state:RUNNING, and not state:QUEUED.
    facts = s_facts (1u << NT_EVENT_STATE, JOBD_STATE_RUNNING, "spark", "livy", "etl-1");
    assert_int_equal (nt_rules_match (rules, "ops", &facts, &event), 0);
    assert_int_equal (event, NT_EVENT_STATE);
    facts.state = JOBD_STATE_QUEUED;
    assert_int_equal (nt_rules_match (rules, "ops", &facts, &event), -1);
    //  Recovered before succeeded.
    facts =
        s_facts ((1u << NT_EVENT_STATE) | (1u << NT_EVENT_SUCCEEDED) | (1u << NT_EVENT_RECOVERED),
                 JOBD_STATE_SUCCEEDED, "spark", "livy", "etl-1");
    assert_int_equal (nt_rules_match (rules, "ops", &facts, &event), 0);
    assert_int_equal (event, NT_EVENT_RECOVERED);
    nt_rules_destroy (&rules);
}

static void
test_first_rule_wins (void **state)
{
    nt_rules_t *rules = nt_rules_new ();
    char reason[256];
    assert_int_equal (nt_rules_add (rules, "quiet", "final", "*", "", "", "test-*", 10, 1000,
                                    reason, sizeof reason),
                      0);
    assert_int_equal (
        nt_rules_add (rules, "all", "failed", "*", "", "", "", 5, 1000, reason, sizeof reason), 0);
    uint32_t final = (1u << NT_EVENT_STATE) | (1u << NT_EVENT_FAILED) | (1u << NT_EVENT_FINAL);
    nt_facts_t facts = s_facts (final, JOBD_STATE_FAILED, "k", NULL, "test-1");
    nt_event_t event;
    assert_int_equal (nt_rules_match (rules, "x", &facts, &event), 0);
    assert_int_equal (event, NT_EVENT_FINAL);
    facts.name = "prod";
    assert_int_equal (nt_rules_match (rules, "x", &facts, &event), 1);
    assert_int_equal (event, NT_EVENT_FAILED);
    assert_string_equal (nt_rules_name (rules, 1), "all");
    assert_int_equal (nt_rules_digest_after (rules, 1), 5);
    nt_rules_destroy (&rules);
}

static jobd_event_t *
s_transition (jobd_state_t from, jobd_state_t to, uint32_t attempt, uint64_t seq, int64_t ts)
{
    jobd_event_t *event = jobd_event_new (JOBD_EVENT_TRANSITION);
    jobd_event_set (&event->job, "job-7");
    jobd_event_set (&event->name, "etl");
    jobd_event_set (&event->kind, "spark");
    event->from = from;
    event->state = to;
    event->attempt = attempt;
    event->seq = seq;
    event->ts = ts;
    return event;
}

static jobd_job_t *
s_record (jobd_state_t state, uint32_t attempt, uint64_t last_seq, const char *retry_final)
{
    jobd_job_t *job = jobd_job_new ();
    jobd_event_set (&job->id, "job-7");
    jobd_event_set (&job->kind, "spark");
    job->state = state;
    job->attempt = attempt;
    job->last_seq = last_seq;
    jobd_event_set (&job->retry_final, retry_final);
    return job;
}

static void
test_final_decision (void **state)
{
    uint32_t final = 1u << NT_EVENT_FINAL;
    nt_facts_t facts;
    jobd_event_t *failed = s_transition (JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 2, 5, 100000);
    //  retry_final on the record: final at once.
    jobd_job_t *record = s_record (JOBD_STATE_FAILED, 2, 5, "2 of 2 attempts failed");
    assert_int_equal (nt_decide (failed, record, 100001, 10000, &facts), 0);
    assert_true (facts.events & final);
    assert_true (facts.events & (1u << NT_EVENT_FAILED));
    jobd_job_destroy (&record);
    //  RETRY_WAIT, a later attempt, a later transition: not final.
    record = s_record (JOBD_STATE_RETRY_WAIT, 2, 6, NULL);
    assert_int_equal (nt_decide (failed, record, 100001, 10000, &facts), 0);
    assert_false (facts.events & final);
    assert_true (facts.events & (1u << NT_EVENT_FAILED));
    jobd_job_destroy (&record);
    record = s_record (JOBD_STATE_FAILED, 3, 9, "3 of 3 attempts failed");
    assert_int_equal (nt_decide (failed, record, 100001, 10000, &facts), 0);
    assert_false (facts.events & final);
    jobd_job_destroy (&record);
    record = s_record (JOBD_STATE_FAILED, 2, 7, "retry stopped by jobctl");
    assert_int_equal (nt_decide (failed, record, 100001, 10000, &facts), 0);
    assert_false (facts.events & final);
    jobd_job_destroy (&record);
    //  No decision yet: wait until final_wait after the transition, then final.
    record = s_record (JOBD_STATE_FAILED, 2, 5, NULL);
    assert_int_equal (nt_decide (failed, record, 104000, 10000, &facts), 6000);
    assert_int_equal (nt_decide (failed, record, 110000, 10000, &facts), 0);
    assert_true (facts.events & final);
    jobd_job_destroy (&record);
    //  The job is gone: final.
    assert_int_equal (nt_decide (failed, NULL, 100001, 10000, &facts), 0);
    assert_true (facts.events & final);
    jobd_event_destroy (&failed);
}

static void
test_recovered (void **state)
{
    nt_facts_t facts;
    uint32_t recovered = 1u << NT_EVENT_RECOVERED;
    jobd_event_t *event = s_transition (JOBD_STATE_RUNNING, JOBD_STATE_SUCCEEDED, 2, 9, 1);
    assert_int_equal (nt_decide (event, NULL, 2, 10000, &facts), 0);
    assert_true (facts.events & recovered);
    assert_true (facts.events & (1u << NT_EVENT_SUCCEEDED));
    event->attempt = 1;
    nt_decide (event, NULL, 2, 10000, &facts);
    assert_false (facts.events & recovered);
    event->from = JOBD_STATE_FAILED;
    nt_decide (event, NULL, 2, 10000, &facts);
    assert_true (facts.events & recovered);
    event->state = JOBD_STATE_CANCELLED;
    nt_decide (event, NULL, 2, 10000, &facts);
    assert_int_equal (facts.events, (1u << NT_EVENT_STATE) | (1u << NT_EVENT_CANCELLED));
    jobd_event_destroy (&event);
}

static void
test_note (void **state)
{
    jobd_event_t *failed =
        s_transition (JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 2, 5, 1764820563120);
    jobd_event_set (&failed->cause, "java.lang.OutOfMemoryError");
    jobd_job_t *record = s_record (JOBD_STATE_FAILED, 2, 5, "2 of 2 attempts failed");
    nt_note_t *note = nt_note_new (NT_EVENT_FINAL, failed, record, "https://jobs/{job}/page");
    assert_non_null (note);
    assert_string_equal (note->key, "job-7/5");
    assert_string_equal (note->subject,
                         "jobd: etl (job-7) FAILED for good: java.lang.OutOfMemoryError");
    assert_non_null (strstr (note->text, "no retry: 2 of 2 attempts failed\n"));
    assert_non_null (strstr (note->text, "link: https://jobs/job-7/page\n"));
    assert_non_null (
        strstr (note->text, "RUNNING -> FAILED at 2025-12-04T03:56:03.120Z (attempt 2)"));
    assert_string_equal (json_string_value (json_object_get (note->body, "event")), "final");
    json_t *job = json_object_get (note->body, "job");
    assert_int_equal (json_integer_value (json_object_get (job, "attempt")), 2);
    assert_string_equal (json_string_value (json_object_get (job, "retry_final")),
                         "2 of 2 attempts failed");
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (note->body, "transition"), "seq")),
        5);
    assert_false (note->resolves);
    nt_note_destroy (&note);
    assert_null (note);
    jobd_job_destroy (&record);
    jobd_event_destroy (&failed);
}

static void
test_digest (void **state)
{
    nt_digest_t *digest = nt_digest_new ("storm", 60000);
    for (int index = 0; index < 25; index++) {
        jobd_event_t *failed =
            s_transition (JOBD_STATE_RUNNING, JOBD_STATE_FAILED, 1, (uint64_t)index + 1, 1000);
        jobd_event_set (&failed->cause, index % 5 ? "OOM" : "refused");
        nt_note_t *note = nt_note_new (NT_EVENT_FINAL, failed, NULL, NULL);
        nt_digest_add (digest, note);
        nt_note_destroy (&note);
        jobd_event_destroy (&failed);
    }
    assert_int_equal (nt_digest_count (digest), 25);
    nt_note_t *note = nt_digest_note (digest);
    assert_string_equal (note->key, "digest/storm/job-7/1");
    assert_int_equal (note->event, NT_EVENT_DIGEST);
    json_t *body = json_object_get (note->body, "digest");
    assert_int_equal (json_integer_value (json_object_get (body, "count")), 25);
    assert_int_equal (json_array_size (json_object_get (body, "jobs")), NT_DIGEST_JOBS);
    assert_int_equal (json_integer_value (json_object_get (body, "more")), 5);
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (body, "by_cause"), "OOM")), 20);
    assert_non_null (strstr (note->text, "and 5 more\n"));
    nt_note_destroy (&note);
    nt_digest_destroy (&digest);
    assert_null (digest);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_patterns),
        cmocka_unit_test (test_rule_errors),
        cmocka_unit_test (test_match_events_and_labels),
        cmocka_unit_test (test_first_rule_wins),
        cmocka_unit_test (test_final_decision),
        cmocka_unit_test (test_recovered),
        cmocka_unit_test (test_note),
        cmocka_unit_test (test_digest),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
