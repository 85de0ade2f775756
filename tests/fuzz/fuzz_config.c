//  Fuzz target: the config reader and checker (ZPL text -> typed, checked values).
#include "jobd_config.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const jobd_conf_key_t s_map[] = {
    {"url", JOBD_CONF_STRING, "x", NULL},  {"interval", JOBD_CONF_DURATION, "1s", NULL},
    {"limit", JOBD_CONF_SIZE, "1k", NULL}, {"on", JOBD_CONF_BOOL, "no", NULL},
    {"b/*/n", JOBD_CONF_INT, "1", NULL},   {NULL, 0, NULL, NULL}};

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf (path, sizeof path, "/tmp/jobd-fuzz-config-%d", (int)getpid ());
    FILE *file = fopen (path, "w");
    if (!file)
        return 0;
    fwrite (data, 1, size, file);
    fclose (file);
    jobd_config_t *config = NULL;
    char reason[512];
    if (jobd_config_load (path, &config, reason, sizeof reason) == 0) {
        static const char *const sections[] = {"core", "plugins", NULL};
        jobd_config_check_sections (config, sections, reason, sizeof reason);
        jobd_config_check (config, "core", jobd_config_core_map, reason, sizeof reason);
        jobd_config_check (config, "plugins/p", s_map, reason, sizeof reason);
        const char *names[8];
        jobd_config_names (config, "plugins", names, 8);
        jobd_config_destroy (&config);
    }
    return 0;
}
