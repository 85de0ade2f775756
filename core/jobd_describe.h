//  jobd --describe-config: every config key of the core and of each plugin, from their typed maps.
#ifndef JOBD_DESCRIBE_H_INCLUDED
#define JOBD_DESCRIBE_H_INCLUDED

#include "jobd_config.h"
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    JOBD_DESCRIBE_TEXT = 0, //  for people, at most 80 columns
    JOBD_DESCRIBE_JSON,     //  one object, for scripts
    JOBD_DESCRIBE_MARKDOWN  //  one table per section between markers, for the READMEs
} jobd_describe_format_t;

//  Loads (never initialises nor starts) the plugins jobd's start-up would load with config (those
//  it names under "plugins", else every *.so in plugin_dir), then writes to out, in format, every
//  key of the core's map, of the loader's keys that every plugin section takes, and of each
//  plugin's map: key path, type, default, help. config is borrowed and must be checked (core).
//  Returns 0, or JOBD_ECONFIG with a reason when a plugin's section is invalid or a plugin that
//  is not disabled could not be loaded (its keys cannot be read); nothing is written then.
int jobd_describe_config (jobd_config_t *config, const char *plugin_dir,
                          jobd_describe_format_t format, FILE *out, char *reason,
                          size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif
