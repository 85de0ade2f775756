//  sim_buf: a growable, always NUL-terminated byte buffer.
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sim_buf_reserve (sim_buf_t *self, size_t more)
{
    if (self->len + more + 1 <= self->cap)
        return;
    size_t cap = self->cap ? self->cap : 256;
    while (cap < self->len + more + 1)
        cap *= 2;
    char *data = realloc (self->data, cap);
    if (!data)
        abort ();
    self->data = data;
    self->cap = cap;
}

void
sim_buf_append (sim_buf_t *self, const char *data, size_t len)
{
    sim_buf_reserve (self, len);
    memcpy (self->data + self->len, data, len);
    self->len += len;
    self->data[self->len] = 0;
}

void
sim_buf_puts (sim_buf_t *self, const char *text)
{
    sim_buf_append (self, text, strlen (text));
}

void
sim_buf_printf (sim_buf_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char small[256];
    int n = vsnprintf (small, sizeof small, format, args);
    va_end (args);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        sim_buf_append (self, small, (size_t)n);
        return;
    }
    sim_buf_reserve (self, (size_t)n);
    va_start (args, format);
    vsnprintf (self->data + self->len, (size_t)n + 1, format, args);
    va_end (args);
    self->len += (size_t)n;
}

char *
sim_buf_detach (sim_buf_t *self, size_t *len_p)
{
    sim_buf_reserve (self, 0);
    char *data = self->data;
    if (len_p)
        *len_p = self->len;
    self->data = NULL;
    self->len = self->cap = 0;
    return data;
}

void
sim_buf_reset (sim_buf_t *self)
{
    free (self->data);
    self->data = NULL;
    self->len = self->cap = 0;
}
