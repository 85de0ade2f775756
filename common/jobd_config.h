//  Configuration: a ZPL file (or the embedded default) read with zconfig, environment variables
//  overriding keys, every key checked against a typed map.
#ifndef JOBD_CONFIG_H_INCLUDED
#define JOBD_CONFIG_H_INCLUDED

#include "jobd_plugin.h"
#include "jobd_value.h"
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _jobd_config_t jobd_config_t;

//  The core's own keys, section "core".
extern const jobd_conf_key_t jobd_config_core_map[];

//  Loads the ZPL file at path, or the embedded default when path is NULL. The file must be
//  trusted first (jobd_trust_check: owned by root or jobd's user, nobody else can write it or a
//  folder above it). Returns 0 and sets *self_p, or JOBD_ECONFIG / -EPERM (untrusted) / -errno
//  with a reason naming the file.
int jobd_config_load (const char *path, jobd_config_t **self_p, char *reason, size_t reason_size);

//  Destroys the config; NULL-safe; sets *self_p to NULL.
void jobd_config_destroy (jobd_config_t **self_p);

//  Checks section (e.g. "core", "plugins/demo") against map: every key present must be in the
//  map, every required key must be set, every value must parse as its type. Environment
//  variables override keys: JOBD_<PATH> with the path upper-cased and '/', '-', '.' as '_'
//  (JOBD_CORE_STORE, JOBD_PLUGINS_DEMO_JOBS). Returns 0, or JOBD_ECONFIG with a reason naming
//  the file, the line and the key.
int jobd_config_check (jobd_config_t *self, const char *section, const jobd_conf_key_t *map,
                       char *reason, size_t reason_size);

//  Resolves and checks the values of the keys of map in section, like jobd_config_check, but
//  without refusing keys the map does not name (for reading a few keys of a larger section).
int jobd_config_resolve (jobd_config_t *self, const char *section, const jobd_conf_key_t *map,
                         char *reason, size_t reason_size);

//  Checks that the top level holds only the sections named in the NULL-terminated list.
int jobd_config_check_sections (jobd_config_t *self, const char *const *allowed, char *reason,
                                size_t reason_size);

//  Returns the checked value of section/key (override, file or default), or NULL. Borrowed until
//  destroy. Only keys of a checked section have values.
const char *jobd_config_str (jobd_config_t *self, const char *section, const char *key);

//  Returns the parsed value of an INT, BOOL, DURATION (ms) or SIZE (bytes) key, or fallback.
int64_t jobd_config_int (jobd_config_t *self, const char *section, const char *key,
                         int64_t fallback);

//  Writes up to max names of the subsections under path into names (borrowed until destroy).
//  Returns how many there are.
size_t jobd_config_names (jobd_config_t *self, const char *path, const char **names, size_t max);

//  True when path names a section or key present in the file.
bool jobd_config_has (jobd_config_t *self, const char *path);

//  Returns the file name, or "(embedded default)". Borrowed.
const char *jobd_config_filename (jobd_config_t *self);

#ifdef __cplusplus
}
#endif
#endif
