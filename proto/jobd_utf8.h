//  UTF-8 as RFC 3629 has it (no overlong forms, no surrogates, nothing past U+10FFFF): what
//  jansson accepts, for the readers and writers of JSON that do without it.
#ifndef JOBD_UTF8_H_INCLUDED
#define JOBD_UTF8_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The length (1 to 4) of the UTF-8 sequence at text, of which left bytes (at least 1) remain,
//  or 0 when it is not valid UTF-8.
size_t jobd_utf8_length (const char *text, size_t left);

//  Whether size bytes of text are valid UTF-8 (a NUL byte counts as a character).
bool jobd_utf8_valid (const char *text, size_t size);

//  The offset of the first byte of text that is not part of valid UTF-8, or size when all of
//  its size bytes are valid.
size_t jobd_utf8_check (const char *text, size_t size);

//  Where jobd_utf8_length said 0: how many bytes (1 to 3) one U+FFFD replaces, the "maximal
//  subpart" of Unicode's recommendation (what Python's errors="replace" and browsers read): a
//  sequence cut short counts once, a byte that starts nothing counts alone.
size_t jobd_utf8_invalid_length (const char *text, size_t left);

//  Writes the size bytes at text into out with each maximal invalid sequence replaced by U+FFFD
//  (EF BF BD), and a NUL. out has room for size * 3 + 1 bytes. Returns the length written.
size_t jobd_utf8_replace (const char *text, size_t size, char *out);

//  The longest prefix of the size bytes at text that is at most max bytes and does not end
//  inside a multi-byte sequence: where to cut text to a limit without making it invalid.
size_t jobd_utf8_cut (const char *text, size_t size, size_t max);

#ifdef __cplusplus
}
#endif
#endif
