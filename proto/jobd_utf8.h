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

#ifdef __cplusplus
}
#endif
#endif
