//  UTF-8 validation (see jobd_utf8.h).
#include "jobd_utf8.h"
#include <stdint.h>
#include <string.h>

//  The bytes the second byte of a sequence may take after its lead: the ranges that rule out
//  overlong forms, surrogates and what passes U+10FFFF.
static void
s_second_range (unsigned char lead, unsigned char *low, unsigned char *high)
{
    *low = 0x80;
    *high = 0xBF;
    if (lead == 0xE0)
        *low = 0xA0;
    else if (lead == 0xED)
        *high = 0x9F;
    else if (lead == 0xF0)
        *low = 0x90;
    else if (lead == 0xF4)
        *high = 0x8F;
}

static size_t
s_expected (unsigned char lead)
{
    return lead >= 0xC2 && lead <= 0xDF   ? 2
           : lead >= 0xE0 && lead <= 0xEF ? 3
           : lead >= 0xF0 && lead <= 0xF4 ? 4
                                          : 0;
}

size_t
jobd_utf8_length (const char *text, size_t left)
{
    const unsigned char *at = (const unsigned char *)text;
    unsigned char c = at[0];
    if (c < 0x80)
        return 1;
    size_t length = s_expected (c);
    if (length == 0 || left < length)
        return 0;
    unsigned char low, high;
    s_second_range (c, &low, &high);
    if (at[1] < low || at[1] > high)
        return 0;
    for (size_t index = 2; index < length; index++)
        if (at[index] < 0x80 || at[index] > 0xBF)
            return 0;
    return length;
}

size_t
jobd_utf8_check (const char *text, size_t size)
{
    size_t at = 0;
    while (at < size) {
        //  ASCII eight bytes at a time: most text is, and every event string is checked.
        while (size - at >= 8) {
            uint64_t word;
            memcpy (&word, text + at, 8);
            if (word & 0x8080808080808080ull)
                break;
            at += 8;
        }
        if (at == size)
            break;
        size_t length = jobd_utf8_length (text + at, size - at);
        if (length == 0)
            return at;
        at += length;
    }
    return size;
}

bool
jobd_utf8_valid (const char *text, size_t size)
{
    return jobd_utf8_check (text, size) == size;
}

size_t
jobd_utf8_invalid_length (const char *text, size_t left)
{
    const unsigned char *at = (const unsigned char *)text;
    size_t expected = s_expected (at[0]);
    if (expected == 0 || left < 2)
        return 1;
    unsigned char low, high;
    s_second_range (at[0], &low, &high);
    if (at[1] < low || at[1] > high)
        return 1;
    size_t length = 2;
    while (length < expected && length < left && at[length] >= 0x80 && at[length] <= 0xBF)
        length++;
    //  A whole sequence would have been valid: only a prefix of one gets here.
    return length < expected ? length : 1;
}

size_t
jobd_utf8_replace (const char *text, size_t size, char *out)
{
    size_t written = 0;
    for (size_t at = 0; at < size;) {
        size_t valid = jobd_utf8_check (text + at, size - at);
        memcpy (out + written, text + at, valid);
        written += valid;
        at += valid;
        if (at < size) {
            memcpy (out + written, "\xef\xbf\xbd", 3);
            written += 3;
            at += jobd_utf8_invalid_length (text + at, size - at);
        }
    }
    out[written] = 0;
    return written;
}

size_t
jobd_utf8_cut (const char *text, size_t size, size_t max)
{
    if (size <= max)
        return size;
    size_t cut = max;
    //  Back over continuation bytes to the start of the character that max falls in.
    while (cut > 0 && max - cut < 3 && ((unsigned char)text[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}
