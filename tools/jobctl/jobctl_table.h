//  jobctl's tables: columns laid out by libsmartcols to fit the terminal, long cells cut with an
//  ellipsis, colour only on a terminal and never with NO_COLOR.
#ifndef JOBCTL_TABLE_H_INCLUDED
#define JOBCTL_TABLE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct _jobctl_table_t jobctl_table_t;

enum {
    JOBCTL_COLUMN_CUT = 1,  //  cut (with an ellipsis) when the table would not fit
    JOBCTL_COLUMN_RIGHT = 2 //  aligned right (numbers, ages)
};

//  Creates an empty table. Returns NULL when out of memory.
jobctl_table_t *jobctl_table_new (void);

//  Destroys the table; NULL-safe; sets *self_p to NULL.
void jobctl_table_destroy (jobctl_table_t **self_p);

//  Adds a column: its header, its share of the width when cells must be cut (0..1), its
//  JOBCTL_COLUMN_* flags. Returns 0, or -1 when out of memory.
int jobctl_table_column (jobctl_table_t *self, const char *name, double share, int flags);

//  Starts a new row. Returns 0, or -1 when out of memory.
int jobctl_table_row (jobctl_table_t *self);

//  Sets the current row's cell in column (text copied, control characters as spaces; NULL is
//  "-"), in color (a libsmartcols colour name such as "red", or NULL). Returns 0, or -1.
int jobctl_table_cell (jobctl_table_t *self, size_t column, const char *text, const char *color);

//  Prints the table to out in width columns (0: no limit, nothing cut), with colours when
//  color. Returns 0, or -1 when out refused the bytes.
int jobctl_table_print (jobctl_table_t *self, FILE *out, size_t width, bool color);

//  The width tables and lines are fitted to: $COLUMNS when set, else the width of the terminal
//  stdout is, else 0 (a pipe or a file: nothing is cut).
size_t jobctl_term_width (void);

//  True when stdout is a terminal and NO_COLOR is unset or empty (no-color.org).
bool jobctl_color_wanted (void);

//  Cuts line (one line, no newline, in a buffer of size bytes) to width columns with an
//  ellipsis when it is longer; 0 leaves it whole. Counts UTF-8 characters as a column each.
void jobctl_fit_line (char *line, size_t size, size_t width);

#endif
