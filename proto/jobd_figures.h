//  Figures: a plugin's measures carried in its plugin.status (`figures`, README.md section 3),
//  kept as the msgpack bytes of one checked array.
#ifndef JOBD_FIGURES_H_INCLUDED
#define JOBD_FIGURES_H_INCLUDED

#include "jobd_error.h"
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_FIGURES_MAX       512         //  entries in one `figures`
#define JOBD_FIGURES_BYTES_MAX (64 * 1024) //  one `figures`, encoded
#define JOBD_FIGURE_NAME_MAX   64          //  a figure's name, a label's name
#define JOBD_FIGURE_LABELS_MAX 4           //  labels of one entry
#define JOBD_FIGURE_VALUE_MAX  128         //  a label's value
#define JOBD_FIGURE_HELP_MAX   256         //  a figure's help line

//  The msgpack bytes of a checked `figures` array; data NULL (size 0) when absent. An event
//  owns its figures' data.
typedef struct {
    uint8_t *data;
    size_t size;
} jobd_figures_t;

//  Checks a decoded `figures` value against every rule of README.md (section 3, Figures).
//  Returns 0, or JOBD_EPROTO / JOBD_ETOOBIG with a reason starting "field 'figures': " that names
//  the entry. A nil or empty array passes (no figures).
int jobd_figures_check (const msgpack_object *figures, char *reason, size_t reason_size);

//  The same for the msgpack bytes of one `figures` array (trailing bytes refused).
int jobd_figures_check_bytes (const uint8_t *data, size_t size, char *reason, size_t reason_size);

//  Checks a decoded `figures` value (as jobd_figures_check) and packs it: *data_p (fresh, free()
//  it; NULL for nil or an empty array: no figures) and *size_p. Returns 0, or JOBD_EPROTO /
//  JOBD_ETOOBIG (over JOBD_FIGURES_BYTES_MAX) / -ENOMEM with a reason.
int jobd_figures_from_object (const msgpack_object *figures, uint8_t **data_p, size_t *size_p,
                              char *reason, size_t reason_size);

//  True when the len bytes at name are a figure's name: [a-z][a-z0-9_]*, 1 to 64 bytes, not
//  ending in _sum, _count or _bucket.
bool jobd_figure_name_valid (const char *name, size_t len);

//  True when the len bytes at name are a label's name: [a-z][a-z0-9_]*, 1 to 64 bytes, not
//  "plugin" (jobd adds that label).
bool jobd_figure_label_valid (const char *name, size_t len);

//  True when a figure of that name is a counter (it ends in _total); else it is a gauge.
bool jobd_figure_is_counter (const char *name);

#ifdef __cplusplus
}
#endif
#endif
