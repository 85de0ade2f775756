//  jobctl's tables: columns laid out by libsmartcols to fit the terminal, long cells cut with an
//  ellipsis, colour only on a terminal and never with NO_COLOR.
#include "jobctl_table.h"
#include <langinfo.h>
#include <libsmartcols.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct _jobctl_table_t {
    struct libscols_table *table;
    struct libscols_line *line; //  the current row
    size_t columns;
    int flags[64];
};

jobctl_table_t *
jobctl_table_new (void)
{
    jobctl_table_t *self = (jobctl_table_t *)calloc (1, sizeof *self);
    if (self && !(self->table = scols_new_table ()))
        jobctl_table_destroy (&self);
    return self;
}

void
jobctl_table_destroy (jobctl_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scols_unref_table ((*self_p)->table);
    free (*self_p);
    *self_p = NULL;
}

int
jobctl_table_column (jobctl_table_t *self, const char *name, double share, int flags)
{
    if (self->columns == sizeof self->flags / sizeof self->flags[0])
        return -1;
    int scols_flags = (flags & JOBCTL_COLUMN_CUT ? SCOLS_FL_TRUNC : 0) |
                      (flags & JOBCTL_COLUMN_RIGHT ? SCOLS_FL_RIGHT : 0);
    if (!scols_table_new_column (self->table, name, share, scols_flags))
        return -1;
    self->flags[self->columns++] = flags;
    return 0;
}

int
jobctl_table_row (jobctl_table_t *self)
{
    self->line = scols_table_new_line (self->table, NULL);
    return self->line ? 0 : -1;
}

int
jobctl_table_cell (jobctl_table_t *self, size_t column, const char *text, const char *color)
{
    if (!self->line || column >= self->columns)
        return -1;
    //  One cell, one line: a cause or a name with a newline or a tab would break the table.
    char *clean = strdup (text && *text ? text : "-");
    if (!clean)
        return -1;
    for (char *at = clean; *at; at++)
        if ((unsigned char)*at < 0x20 || *at == 0x7f)
            *at = ' ';
    int rc = scols_line_refer_data (self->line, column, clean);
    if (rc)
        free (clean);
    else if (color)
        scols_cell_set_color (scols_line_get_cell (self->line, column), color);
    return rc ? -1 : 0;
}

//  Characters (UTF-8 sequences) in text.
static size_t
s_chars (const char *text)
{
    size_t count = 0;
    for (; *text; text++)
        count += ((unsigned char)*text & 0xc0) != 0x80;
    return count;
}

//  The ellipsis: one character in a UTF-8 locale, three dots elsewhere.
static const char *
s_ellipsis (void)
{
    const char *codeset = nl_langinfo (CODESET);
    return codeset && strcmp (codeset, "UTF-8") == 0 ? "\xe2\x80\xa6" : "...";
}

//  Cuts text (a fresh copy) to width characters ending with the ellipsis. Returns it, or NULL.
static char *
s_cut (const char *text, size_t width)
{
    const char *ellipsis = s_ellipsis ();
    size_t room = width > s_chars (ellipsis) ? width - s_chars (ellipsis) : 0;
    size_t bytes = 0, chars = 0;
    while (text[bytes] && chars < room) {
        bytes++;
        while (((unsigned char)text[bytes] & 0xc0) == 0x80)
            bytes++;
        chars++;
    }
    size_t size = bytes + strlen (ellipsis) + 1;
    char *cut = (char *)malloc (size);
    if (cut)
        snprintf (cut, size, "%.*s%s", (int)bytes, text, width ? ellipsis : "");
    return cut;
}

int
jobctl_table_print (jobctl_table_t *self, FILE *out, size_t width, bool color)
{
    struct libscols_table *table = self->table;
    scols_table_enable_colors (table, color);
    scols_table_set_stream (table, out);
    if (width > 0) {
        scols_table_set_termforce (table, SCOLS_TERMFORCE_ALWAYS);
        scols_table_set_termwidth (table, width);
        //  A first layout gives each column its width; the cells it cut are then cut again
        //  by us, with an ellipsis (libsmartcols cuts without one), to the same widths.
        char *scratch = NULL;
        if (scols_print_table_to_string (table, &scratch) == 0) {
            for (size_t column = 0; column < self->columns; column++) {
                if (!(self->flags[column] & JOBCTL_COLUMN_CUT))
                    continue;
                size_t room = scols_column_get_width (scols_table_get_column (table, column));
                struct libscols_iter *iter = scols_new_iter (SCOLS_ITER_FORWARD);
                struct libscols_line *line;
                while (iter && scols_table_next_line (table, iter, &line) == 0) {
                    struct libscols_cell *cell = scols_line_get_cell (line, column);
                    const char *data = scols_cell_get_data (cell);
                    char *cut = data && s_chars (data) > room ? s_cut (data, room) : NULL;
                    if (cut && scols_cell_refer_data (cell, cut))
                        free (cut);
                }
                scols_free_iter (iter);
            }
        }
        free (scratch);
    } else
        scols_table_set_termforce (table, SCOLS_TERMFORCE_NEVER);
    if (scols_print_table (table))
        return -1;
    return fflush (out) || ferror (out) ? -1 : 0;
}

size_t
jobctl_term_width (void)
{
    const char *columns = getenv ("COLUMNS");
    if (columns && *columns) {
        char *end;
        long value = strtol (columns, &end, 10);
        if (!*end && value > 0 && value < 100000)
            return (size_t)value;
    }
    struct winsize size;
    if (isatty (STDOUT_FILENO) && ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col)
        return size.ws_col;
    return 0;
}

bool
jobctl_color_wanted (void)
{
    const char *no_color = getenv ("NO_COLOR");
    return isatty (STDOUT_FILENO) && !(no_color && *no_color);
}

void
jobctl_fit_line (char *line, size_t size, size_t width)
{
    if (width == 0 || s_chars (line) <= width)
        return;
    char *cut = s_cut (line, width);
    if (cut)
        snprintf (line, size, "%s", cut);
    free (cut);
}
