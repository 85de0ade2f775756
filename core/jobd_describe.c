//  jobd --describe-config: every config key of the core and of each plugin, from their typed maps.
#include "jobd_describe.h"
#include "jobd_cluster.h"
#include "jobd_plugin_loader.h"
#include <jansson.h>
#include <string.h>

//  The most sections described: the core, the plugins' common keys, and up to 64 plugins (as
//  many as a config may name; a plugin folder may hold more).
#define S_SECTIONS_MAX 66

//  Output width of the text format, and where its help lines start.
#define S_WIDTH       80
#define S_KEY_WIDTH   22
#define S_TYPE_WIDTH  10
#define S_HELP_INDENT 8

//  One section and the map of its keys; everything borrowed (the maps live in jobd or in a
//  plugin, which the loader never unloads before it is destroyed).
typedef struct {
    char section[160];
    const char *plugin; //  the descriptor's name, or NULL for the core's sections
    const char *version;
    const char *description;
    const jobd_conf_key_t *map;
} s_section_t;

typedef struct {
    s_section_t sections[S_SECTIONS_MAX];
    size_t count;
    size_t failed;   //  plugins that are not disabled but did not load
    char first[700]; //  why the first of them did not load
} s_describe_t;

//  Returns the section added, or NULL when there are S_SECTIONS_MAX already.
static s_section_t *
s_add (s_describe_t *self, const char *section, const jobd_conf_key_t *map)
{
    if (self->count == S_SECTIONS_MAX)
        return NULL;
    s_section_t *entry = &self->sections[self->count++];
    snprintf (entry->section, sizeof entry->section, "%s", section);
    entry->map = map;
    return entry;
}

//  Called for each plugin the loader found: loaded ones are described, failed ones counted.
static void
s_add_plugin (const char *name, const jobd_plugin_t *plugin, const char *status, const char *reason,
              void *arg)
{
    s_describe_t *self = (s_describe_t *)arg;
    if (!plugin) {
        if (strcmp (status, "disabled") == 0)
            return;
        if (self->failed++ == 0)
            snprintf (self->first, sizeof self->first, "plugin %s not loaded: %s", name, reason);
        return;
    }
    char section[160];
    snprintf (section, sizeof section, "plugins/%s", name);
    s_section_t *entry = s_add (self, section, plugin->config);
    if (!entry) {
        if (self->failed++ == 0)
            snprintf (self->first, sizeof self->first,
                      "plugin %s not described: more than %d plugins", name, S_SECTIONS_MAX - 2);
        return;
    }
    entry->plugin = plugin->name;
    entry->version = plugin->version;
    entry->description = plugin->description;
}

static const char *
s_type_name (jobd_conf_type_t type)
{
    switch (type) {
        case JOBD_CONF_STRING:
            return "string";
        case JOBD_CONF_INT:
            return "int";
        case JOBD_CONF_BOOL:
            return "bool";
        case JOBD_CONF_DURATION:
            return "duration";
        case JOBD_CONF_SIZE:
            return "size";
        default:
            return "unknown";
    }
}

//  Writes text from column indent on, words wrapped at S_WIDTH (a word longer than a line stays
//  whole), each line ending with a newline.
static void
s_wrap (FILE *out, int indent, const char *text)
{
    int column = -1; //  -1: nothing on this line yet
    while (*text) {
        while (*text == ' ')
            text++;
        size_t word = strcspn (text, " ");
        if (word == 0)
            break;
        if (column >= 0 && column + 1 + (int)word > S_WIDTH) {
            fputc ('\n', out);
            column = -1;
        }
        if (column < 0)
            column = fprintf (out, "%*s", indent, "");
        else
            column += fprintf (out, " ");
        column += fprintf (out, "%.*s", (int)word, text);
        text += word;
    }
    if (column >= 0)
        fputc ('\n', out);
}

static void
s_write_text (s_describe_t *self, jobd_config_t *config, FILE *out)
{
    char header[600];
    snprintf (header, sizeof header,
              "jobd's config keys (config %s): key, type, default, help. A \"*\" in a key "
              "stands for any name; JOBD_<SECTION>_<KEY> in the environment overrides a key.",
              jobd_config_filename (config));
    s_wrap (out, 0, header);
    for (size_t index = 0; index < self->count; index++) {
        s_section_t *section = &self->sections[index];
        fprintf (out, "\n%s\n", section->section);
        if (section->plugin) {
            char about[600];
            snprintf (about, sizeof about, "%s %s%s%s", section->plugin,
                      section->version ? section->version : "", section->description ? ": " : "",
                      section->description ? section->description : "");
            s_wrap (out, 2, about);
        } else if (strcmp (section->section, "plugins/*") == 0)
            s_wrap (out, 2, "keys of every plugin's section, read by jobd's loader");
        if (!section->map || !section->map->key)
            fprintf (out, "    (no keys)\n");
        for (const jobd_conf_key_t *key = section->map; key && key->key; key++) {
            const char *fallback = !key->default_value    ? "(required)"
                                   : !*key->default_value ? "\"\""
                                                          : key->default_value;
            int width = fprintf (out, "    %s", key->key);
            int pad = 4 + S_KEY_WIDTH - width;
            fprintf (out, "%*s%-*s %s\n", pad > 2 ? pad : 2, "", S_TYPE_WIDTH - 1,
                     s_type_name (key->type), fallback);
            if (key->help)
                s_wrap (out, S_HELP_INDENT, key->help);
        }
    }
}

//  Writes text in a markdown table cell: a '|' would end the cell, a line end the table.
static void
s_markdown_cell (FILE *out, const char *text)
{
    for (; text && *text; text++) {
        if (*text == '|')
            fputc ('\\', out);
        fputc (*text == '\n' ? ' ' : *text, out);
    }
}

//  One table per section, between the markers scripts/config-docs.sh replaces in the READMEs.
//  Nothing in it depends on the machine or the config file: it is compared with the READMEs.
static void
s_write_markdown (s_describe_t *self, FILE *out)
{
    for (size_t index = 0; index < self->count; index++) {
        s_section_t *section = &self->sections[index];
        fprintf (out, "%s<!-- jobd:config %s -->\n", index ? "\n" : "", section->section);
        fprintf (out, "| key | type | default | meaning |\n|---|---|---|---|\n");
        for (const jobd_conf_key_t *key = section->map; key && key->key; key++) {
            fprintf (out, "| `%s` | %s | ", key->key, s_type_name (key->type));
            if (!key->default_value)
                fprintf (out, "required");
            else
                fprintf (out, "`%s`", *key->default_value ? key->default_value : "\"\"");
            fprintf (out, " | ");
            s_markdown_cell (out, key->help);
            fprintf (out, " |\n");
        }
        fprintf (out, "<!-- /jobd:config -->\n");
    }
}

//  A JSON string, or null for NULL. jansson refuses text that is not UTF-8: a plugin's map could
//  hold such text, so it is written as null rather than dropping the whole key.
static json_t *
s_json_text (const char *text)
{
    json_t *value = text ? json_string (text) : NULL;
    return value ? value : json_null ();
}

static int
s_write_json (s_describe_t *self, jobd_config_t *config, const char *plugin_dir, FILE *out)
{
    json_t *root = json_object ();
    json_t *sections = json_array ();
    json_object_set_new (root, "config", s_json_text (jobd_config_filename (config)));
    json_object_set_new (root, "plugin_dir", s_json_text (plugin_dir));
    json_object_set_new (root, "sections", sections);
    for (size_t index = 0; index < self->count; index++) {
        s_section_t *section = &self->sections[index];
        json_t *object = json_object ();
        json_t *keys = json_array ();
        json_object_set_new (object, "section", s_json_text (section->section));
        if (section->plugin) {
            json_object_set_new (object, "plugin", s_json_text (section->plugin));
            json_object_set_new (object, "version", s_json_text (section->version));
            json_object_set_new (object, "description", s_json_text (section->description));
        }
        json_object_set_new (object, "keys", keys);
        for (const jobd_conf_key_t *key = section->map; key && key->key; key++) {
            char path[700];
            snprintf (path, sizeof path, "%s/%s", section->section, key->key);
            json_t *entry = json_object ();
            json_object_set_new (entry, "key", s_json_text (key->key));
            json_object_set_new (entry, "path", s_json_text (path));
            json_object_set_new (entry, "type", s_json_text (s_type_name (key->type)));
            json_object_set_new (entry, "default", s_json_text (key->default_value));
            json_object_set_new (entry, "required", json_boolean (!key->default_value));
            json_object_set_new (entry, "help", s_json_text (key->help));
            json_array_append_new (keys, entry);
        }
        json_array_append_new (sections, object);
    }
    int rc = json_dumpf (root, out, JSON_INDENT (2)) == 0 && fputc ('\n', out) != EOF ? 0 : -EIO;
    json_decref (root);
    return rc;
}

int
jobd_describe_config (jobd_config_t *config, const char *plugin_dir, jobd_describe_format_t format,
                      FILE *out, char *reason, size_t reason_size)
{
    s_describe_t *self = (s_describe_t *)zmalloc (sizeof (s_describe_t));
    //  The real loader, as start-up runs it (trust checks, dlopen, ABI and config checks), so
    //  that what is described is what jobd would load; but init and run are never called.
    jobd_plugin_loader_t *loader = jobd_plugin_loader_new (config, NULL, plugin_dir);
    int rc = jobd_plugin_loader_load (loader, reason, reason_size);
    if (rc == 0) {
        s_add (self, "core", jobd_config_core_map);
        s_add (self, "cluster", jobd_cluster_map);
        s_add (self, "plugins/*", jobd_plugin_loader_keys ());
        jobd_plugin_loader_each (loader, s_add_plugin, self);
        if (self->failed) {
            snprintf (reason, reason_size, "%s%s: its keys cannot be described", self->first,
                      self->failed > 1 ? " (and others, see above)" : "");
            rc = JOBD_ECONFIG;
        }
    }
    if (rc == 0) {
        if (format == JOBD_DESCRIBE_JSON)
            rc = s_write_json (self, config, plugin_dir, out);
        else if (format == JOBD_DESCRIBE_MARKDOWN)
            s_write_markdown (self, out);
        else
            s_write_text (self, config, out);
        if (rc == 0 && fflush (out))
            rc = -EIO;
        if (rc)
            snprintf (reason, reason_size, "cannot write the description: %s", strerror (errno));
    }
    //  The maps described live in the plugins: the loader goes only once they are written.
    jobd_plugin_loader_destroy (&loader);
    free (self);
    return rc;
}
