//  Fuzz target: the one-line cause rules (jobd_cause.h) on any text. Each gives one line within
//  its limit, without control characters, valid UTF-8 when the text was, and the generic rule
//  finds its own line again in what it gave.
#include "jobd_cause.h"
#include "jobd_utf8.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
s_check (size_t length, const char *cause, size_t size, bool utf8)
{
    if (length != strlen (cause) || length > JOBD_CAUSE_CUT || length >= size)
        abort ();
    for (size_t index = 0; index < length; index++)
        if ((unsigned char)cause[index] < 0x20 || cause[index] == 0x7f)
            abort ();
    if (utf8 && !jobd_utf8_valid (cause, length))
        abort ();
    if (length && (cause[0] == ' ' || cause[length - 1] == ' '))
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  The first byte picks the buffer's size (small ones cut early), the rest is the text.
    if (size < 1 || size > 256 * 1024)
        return 0;
    size_t cause_size = 4 + data[0] % (JOBD_CAUSE_CUT + 1);
    char *text = (char *)malloc (size);
    if (!text)
        return 0;
    memcpy (text, data + 1, size - 1);
    text[size - 1] = 0;
    bool utf8 = jobd_utf8_valid (text, strlen (text));
    size_t (*rules[]) (const char *, char *, size_t) = {jobd_cause_generic, jobd_cause_spark,
                                                        jobd_cause_livy_log, jobd_cause_yarn};
    char cause[JOBD_CAUSE_CUT + 4], again[JOBD_CAUSE_CUT + 4];
    for (size_t index = 0; index < sizeof rules / sizeof rules[0]; index++)
        s_check (rules[index](text, cause, cause_size), cause, cause_size, utf8);
    //  Text that has a line has a cause; and the generic rule's cause is its own cause.
    size_t length = jobd_cause_generic (text, cause, sizeof cause);
    if (jobd_cause_generic (cause, again, sizeof again) != length || strcmp (cause, again))
        abort ();
    free (text);
    return 0;
}
