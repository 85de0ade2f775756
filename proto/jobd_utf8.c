//  UTF-8 validation (see jobd_utf8.h).
#include "jobd_utf8.h"

size_t
jobd_utf8_length (const char *text, size_t left)
{
    const unsigned char *at = (const unsigned char *)text;
    unsigned char c = at[0];
    if (c < 0x80)
        return 1;
    size_t length = c >= 0xC2 && c <= 0xDF   ? 2
                    : c >= 0xE0 && c <= 0xEF ? 3
                    : c >= 0xF0 && c <= 0xF4 ? 4
                                             : 0;
    if (length == 0 || left < length)
        return 0;
    //  The second byte's range rules out overlong forms, surrogates and what passes U+10FFFF.
    unsigned char low = 0x80, high = 0xBF;
    if (c == 0xE0)
        low = 0xA0;
    else if (c == 0xED)
        high = 0x9F;
    else if (c == 0xF0)
        low = 0x90;
    else if (c == 0xF4)
        high = 0x8F;
    if (at[1] < low || at[1] > high)
        return 0;
    for (size_t index = 2; index < length; index++)
        if (at[index] < 0x80 || at[index] > 0xBF)
            return 0;
    return length;
}

bool
jobd_utf8_valid (const char *text, size_t size)
{
    for (size_t at = 0; at < size;) {
        size_t length = jobd_utf8_length (text + at, size - at);
        if (length == 0)
            return false;
        at += length;
    }
    return true;
}
