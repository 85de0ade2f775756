//  What became of a send's writes of one partition (core/jobd_changelog.c, docs/cluster.md
//  section 10): fenced when its first message landed after a claim above its epoch; not
//  confirmed when Kafka refused it, or when the send straddles the claim (some of its writes
//  fenced, some not, which its tags cannot tell apart); else stored.
#include "jobd_changelog.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void
test_fate_of_a_send (void **state)
{
    (void)state;
    //  Claims of epoch 3 at offset 100 and of epoch 4 at offset 200.
    const jobd_changelog_claim_t claims[] = {{100, 3}, {200, 4}};
    //  Written with epoch 3, all of it before the claim of 4: stored.
    assert_int_equal (jobd_changelog_fate (claims, 2, 3, 150, 160, false), JOBD_CHANGELOG_STORED);
    //  ... all of it after: fenced.
    assert_int_equal (jobd_changelog_fate (claims, 2, 3, 210, 220, false), JOBD_CHANGELOG_FENCED);
    //  ... straddling it: not confirmed (before, the last message alone said fenced).
    assert_int_equal (jobd_changelog_fate (claims, 2, 3, 190, 210, false), JOBD_CHANGELOG_REFUSED);
    //  One message (first not tagged apart): as its last.
    assert_int_equal (jobd_changelog_fate (claims, 2, 3, -1, 210, false), JOBD_CHANGELOG_FENCED);
    //  Written with epoch 4: no claim above it.
    assert_int_equal (jobd_changelog_fate (claims, 2, 4, 210, 220, false), JOBD_CHANGELOG_STORED);
    //  Refused, or lost at produce (nothing landed): not confirmed.
    assert_int_equal (jobd_changelog_fate (claims, 2, 4, -1, -1, true), JOBD_CHANGELOG_REFUSED);
    assert_int_equal (jobd_changelog_fate (claims, 2, 3, 150, 160, true), JOBD_CHANGELOG_REFUSED);
    //  Fenced wins over refused: every replica dropped what landed.
    assert_int_equal (jobd_changelog_fate (claims, 2, 3, 210, 220, true), JOBD_CHANGELOG_FENCED);
    //  No claim read: stored.
    assert_int_equal (jobd_changelog_fate (NULL, 0, 1, 5, 6, false), JOBD_CHANGELOG_STORED);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test (test_fate_of_a_send)};
    return cmocka_run_group_tests (tests, NULL, NULL);
}
