//  Unit tests of jobd's error codes: every code has a description and a name, and names read back.
#include "jobd_error.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

//  Every code the header defines (#define JOBD_E<NAME> -<number>), read from the header itself
//  so that a code added later is checked without touching this test.
static size_t
s_header_codes (int *codes, char (*names)[32], size_t max)
{
    const char *source = getenv ("JOBD_SOURCE_DIR");
    assert_non_null (source);
    char path[4096];
    snprintf (path, sizeof path, "%s/proto/jobd_error.h", source);
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    char line[512];
    size_t count = 0;
    while (fgets (line, sizeof line, file)) {
        char name[32];
        int code;
        if (sscanf (line, "#define JOBD_E%31[A-Z] %d", name, &code) == 2 && code < 0) {
            assert_true (count < max);
            codes[count] = code;
            snprintf (names[count], sizeof names[count], "E%s", name);
            count++;
        }
    }
    fclose (file);
    return count;
}

static void
test_every_code_has_its_name (void **state)
{
    int codes[256];
    char names[256][32];
    size_t count = s_header_codes (codes, names, 256);
    assert_true (count >= 12);
    for (size_t index = 0; index < count; index++) {
        //  The name is the macro's (JOBD_ESTORE is "ESTORE"), never the catch-all.
        if (strcmp (jobd_error_name (codes[index]), names[index]))
            fail_msg ("code %d (JOBD_%s) is named '%s'", codes[index], names[index],
                      jobd_error_name (codes[index]));
        assert_string_not_equal (jobd_strerror (codes[index]), "unknown error");
        int back = 0;
        assert_int_equal (jobd_error_parse (names[index], strlen (names[index]), &back), 0);
        assert_int_equal (back, codes[index]);
    }
}

static void
test_names_outside_jobd_range (void **state)
{
    assert_string_equal (jobd_error_name (0), "OK");
    assert_string_equal (jobd_error_name (-EBUSY), "EBUSY");
    assert_string_equal (jobd_error_name (-ENOMEM), "EFAIL");
    assert_string_equal (jobd_error_name (-999999), "EFAIL");
    assert_string_equal (jobd_error_name (JOBD_ELAST - 1), "EFAIL");
    int rc = 1;
    assert_int_equal (jobd_error_parse ("OK", 2, &rc), 0);
    assert_int_equal (rc, 0);
    assert_int_equal (jobd_error_parse ("EBUSY", 5, &rc), 0);
    assert_int_equal (rc, -EBUSY);
    assert_int_equal (jobd_error_parse ("EFAIL", 5, &rc), 0);
    assert_true (rc < 0);
    //  Only whole names: a prefix or a longer name is not one.
    assert_int_equal (jobd_error_parse ("ESTOR", 5, &rc), JOBD_EPROTO);
    assert_int_equal (jobd_error_parse ("ESTOREX", 7, &rc), JOBD_EPROTO);
    assert_int_equal (jobd_error_parse ("", 0, &rc), JOBD_EPROTO);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_code_has_its_name),
        cmocka_unit_test (test_names_outside_jobd_range),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
