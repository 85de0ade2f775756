//  Configuration: a ZPL file (or the embedded default) read with zconfig, environment variables
//  overriding keys, every key checked against a typed map.
#include "jobd_config.h"
#include "jobd_trust.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

struct _jobd_config_t {
    zconfig_t *root;
    char *filename;   //  NULL for the embedded default
    char *text;       //  the file's text, to find the line of a key
    zhash_t *values;  //  "section/key" -> checked value (strings owned by the hash)
    zhash_t *numbers; //  "section/key" -> int64_t, the value parsed as its type
};

const jobd_conf_key_t jobd_config_core_map[] = {
    {"store", JOBD_CONF_STRING, "jobd-data", "folder of the LMDB store (created 0700)"},
    {"run_dir", JOBD_CONF_STRING, "jobd-run", "folder for ipc sockets and the lock (mode 0700)"},
    {"admin", JOBD_CONF_STRING, "",
     "admin endpoint (empty: ipc://RUN_DIR/admin.sock); tcp:// needs CURVE or insecure"},
    {"events", JOBD_CONF_STRING, "",
     "events endpoint, XPUB (empty: ipc://RUN_DIR/events.sock); tcp:// as for admin"},
    {"plugin_dir", JOBD_CONF_STRING, "",
     "plugin folder (empty: lib/jobd/plugins of jobd's installation; in a build tree, "
     "../plugins from the jobd binary)"},
    {"map_size", JOBD_CONF_SIZE, "1GiB",
     "LMDB map size at start; the map doubles when three quarters used, up to map_size_max"},
    {"map_size_max", JOBD_CONF_SIZE, "64GiB",
     "the largest the store's map may grow (about 50 million jobs; 0: it never grows)"},
    {"batch_max", JOBD_CONF_INT, "4096", "most events applied in one commit"},
    {"log_level", JOBD_CONF_STRING, "info", "error, warn, info or debug"},
    {"log_format", JOBD_CONF_STRING, "text",
     "text (TIME LEVEL SOURCE: MESSAGE) or json (one object a line: ts, level, source, msg)"},
    {"curve_key", JOBD_CONF_STRING, "",
     "CURVE: the server's secret key file (made by jobd --keygen; mode 0600)"},
    {"curve_clients", JOBD_CONF_STRING, "",
     "CURVE: folder of the public keys of the clients allowed in over the network"},
    {"insecure", JOBD_CONF_BOOL, "false",
     "true: accept plain, unauthenticated TCP (logged as a warning)"},
    {"message_max", JOBD_CONF_SIZE, "256KiB",
     "largest admin message frame read (ZMQ_MAXMSGSIZE); more than 256KiB acts as 256KiB"},
    {"client_queue_max", JOBD_CONF_INT, "64",
     "admin messages each client may have waiting (ZMQ_RCVHWM, per connection)"},
    {"cursor_idle_max", JOBD_CONF_DURATION, "168h",
     "a transition log cursor behind the head that has not moved this long is removed, with a "
     "warning, and so is a cluster partition reader's (0: never)"},
    {"deadline_queued", JOBD_CONF_DURATION, "2m",
     "a job QUEUED this long (no plugin took it to a backend) is flagged stale (0: never)"},
    {"deadline_submitted", JOBD_CONF_DURATION, "15m",
     "a job SUBMITTED this long (its backend has not started it) is flagged stale (0: never)"},
    {"deadline_running", JOBD_CONF_DURATION, "0",
     "a job RUNNING this long is flagged stale (0: never; a spec's max_runtime sets its own)"},
    {"deadline_unknown", JOBD_CONF_DURATION, "0",
     "a job UNKNOWN this long is flagged stale (0: never)"},
    {"deadline_action", JOBD_CONF_STRING, "none",
     "what a stale job gets after deadline_grace if it has not moved: none, lost or cancel"},
    {"deadline_fresh", JOBD_CONF_DURATION, "0",
     "a job in any state but a final one whose source has not confirmed it this long is flagged "
     "stale (0: never; set it above the source's poll interval, with a margin)"},
    {"deadline_grace", JOBD_CONF_DURATION, "5m",
     "time between a job's stale flag and its deadline_action"},
    {"deadlines", JOBD_CONF_STRING, "",
     "per kind or kind/backend: 'spark/livy running=2h action=lost grace=10m; kafka queued=5m' "
     "(keys: queued, submitted, running, unknown, retry_wait, max_runtime, fresh, action, grace)"},
    {NULL, 0, NULL, NULL}};

//  With no file, jobd runs on this: a local store, ipc endpoints, every plugin found.
static const char *s_default_config = "core\n"
                                      "    store = jobd-data\n"
                                      "    run_dir = jobd-run\n";

static void s_reason (char *reason, size_t reason_size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_reason (char *reason, size_t reason_size, const char *format, ...)
{
    if (!reason || reason_size == 0)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (reason, reason_size, format, args);
    va_end (args);
}

static char *
s_read_file (const char *path, int *err_p)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        *err_p = -errno;
        return NULL;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    char buffer[4096];
    size_t got;
    while (out && (got = fread (buffer, 1, sizeof buffer, file)) > 0)
        fwrite (buffer, 1, got, out);
    if (out)
        fclose (out);
    fclose (file);
    *err_p = text ? 0 : -ENOMEM;
    return text;
}

//  zconfig_str_load, which says why it refuses a text on stdout (zclock_log: "YY-MM-DD HH:MM:SS
//  E (zconfig): (LINE) what"), where it would mix with what jobd prints: stdout is caught for
//  the call and the reason, "(LINE) what", goes to why. Start-up only (one thread).
static zconfig_t *
s_zpl_load (const char *text, char *why, size_t why_size)
{
    fflush (stdout);
    FILE *caught = tmpfile ();
    int saved = caught ? dup (STDOUT_FILENO) : -1;
    if (saved >= 0 && dup2 (fileno (caught), STDOUT_FILENO) < 0) {
        close (saved);
        saved = -1;
    }
    zconfig_t *root = zconfig_str_load (text);
    if (saved >= 0) {
        fflush (stdout);
        dup2 (saved, STDOUT_FILENO);
        close (saved);
        char line[512] = "";
        rewind (caught);
        if (fgets (line, sizeof line, caught)) {
            line[strcspn (line, "\r\n")] = 0;
            const char *at = strstr (line, "(zconfig): ");
            snprintf (why, why_size, "%s", at ? at + 11 : line);
        }
    }
    if (caught)
        fclose (caught);
    return root;
}

int
jobd_config_load (const char *path, jobd_config_t **self_p, char *reason, size_t reason_size)
{
    jobd_config_t *self = (jobd_config_t *)zmalloc (sizeof (jobd_config_t));
    self->values = zhash_new ();
    zhash_autofree (self->values);
    self->numbers = zhash_new ();
    int rc = 0;
    if (path) {
        self->filename = strdup (path);
        //  Whoever can change the config chooses the code jobd runs: refuse it before reading.
        char resolved[PATH_MAX];
        rc = jobd_trust_check (path, false, "config", resolved, sizeof resolved, reason,
                               reason_size);
        if (rc) {
            jobd_config_destroy (&self);
            return rc;
        }
        self->text = s_read_file (resolved, &rc);
        if (rc) {
            s_reason (reason, reason_size, "config %s: %s", path, strerror (-rc));
            jobd_config_destroy (&self);
            return rc;
        }
    } else
        self->text = strdup (s_default_config);
    //  ZPL has no tabs; zconfig would read a tab-indented file wrongly rather than refuse it.
    const char *tab = strchr (self->text, '\t');
    if (tab) {
        int line = 1;
        for (const char *c = self->text; c < tab; c++)
            line += *c == '\n';
        s_reason (reason, reason_size, "config %s:%d: tab character: ZPL indents with 4 spaces",
                  jobd_config_filename (self), line);
        jobd_config_destroy (&self);
        return JOBD_ECONFIG;
    }
    char why[256] = "";
    self->root = s_zpl_load (self->text, why, sizeof why);
    if (!self->root) {
        //  zconfig's "(LINE) what": the line and what it says, in jobd's words.
        int line = 0, used = 0;
        if (sscanf (why, " (%d) %n", &line, &used) == 1 && line > 0 && why[used])
            s_reason (reason, reason_size,
                      "config %s:%d: not valid ZPL: %s (indent by 4 spaces, 'key = value')",
                      jobd_config_filename (self), line, why + used);
        else
            s_reason (reason, reason_size,
                      "config %s: not valid ZPL (indent by 4 spaces, 'key = value')",
                      jobd_config_filename (self));
        jobd_config_destroy (&self);
        return JOBD_ECONFIG;
    }
    *self_p = self;
    return 0;
}

void
jobd_config_destroy (jobd_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobd_config_t *self = *self_p;
    zconfig_destroy (&self->root);
    zhash_destroy (&self->values);
    zhash_destroy (&self->numbers);
    free (self->filename);
    free (self->text);
    free (self);
    *self_p = NULL;
}

const char *
jobd_config_filename (jobd_config_t *self)
{
    return self->filename ? self->filename : "(embedded default)";
}

//  The 1-based line where path ("plugins/demo/jobs") is written, or 0 when it is not in the text.
static int
s_line_of (jobd_config_t *self, const char *path)
{
    char stack[16][128];
    int line_no = 0;
    const char *line = self->text;
    while (line && *line) {
        line_no++;
        const char *end = strchr (line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen (line);
        size_t indent = 0;
        while (indent < length && line[indent] == ' ')
            indent++;
        size_t depth = indent / 4;
        size_t name_end = indent;
        while (name_end < length && line[name_end] != ' ' && line[name_end] != '=' &&
               line[name_end] != '#')
            name_end++;
        if (name_end > indent && line[indent] != '#' && depth < 16) {
            snprintf (stack[depth], sizeof stack[depth], "%.*s", (int)(name_end - indent),
                      line + indent);
            char joined[16 * 129] = "";
            size_t used = 0;
            for (size_t level = 0; level <= depth; level++)
                used += (size_t)snprintf (joined + used, sizeof joined - used, "%s%s",
                                          level ? "/" : "", stack[level]);
            if (strcmp (joined, path) == 0)
                return line_no;
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}

static void
s_where (jobd_config_t *self, const char *path, char *where, size_t where_size)
{
    int line = s_line_of (self, path);
    if (line)
        snprintf (where, where_size, "%s:%d", jobd_config_filename (self), line);
    else
        snprintf (where, where_size, "%s", jobd_config_filename (self));
}

static const char *
s_type_name (jobd_conf_type_t type)
{
    switch (type) {
        case JOBD_CONF_INT:
            return "an integer";
        case JOBD_CONF_BOOL:
            return "true or false";
        case JOBD_CONF_DURATION:
            return "a duration like 500ms, 2s, 5m";
        case JOBD_CONF_SIZE:
            return "a size like 512k, 64MiB, 1G";
        default:
            return "text";
    }
}

//  True when the key pattern ("backend/*/url") matches the relative path ("backend/a/url").
static bool
s_key_matches (const char *pattern, const char *path)
{
    while (*pattern && *path) {
        const char *pattern_end = strchrnul (pattern, '/');
        const char *path_end = strchrnul (path, '/');
        bool wildcard = pattern_end - pattern == 1 && *pattern == '*';
        if (!wildcard && (pattern_end - pattern != path_end - path ||
                          memcmp (pattern, path, path_end - path) != 0))
            return false;
        pattern = *pattern_end ? pattern_end + 1 : pattern_end;
        path = *path_end ? path_end + 1 : path_end;
    }
    return *pattern == 0 && *path == 0;
}

static const jobd_conf_key_t *
s_map_find (const jobd_conf_key_t *map, const char *path)
{
    for (const jobd_conf_key_t *entry = map; entry && entry->key; entry++)
        if (s_key_matches (entry->key, path))
            return entry;
    return NULL;
}

//  Checks every key written under node (relative path prefix) against map.
static int
s_check_present (jobd_config_t *self, const char *section, zconfig_t *node, const char *prefix,
                 const jobd_conf_key_t *map, char *reason, size_t reason_size)
{
    for (zconfig_t *child = zconfig_child (node); child; child = zconfig_next (child)) {
        char path[512];
        snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", zconfig_name (child));
        if (zconfig_child (child)) {
            int rc = s_check_present (self, section, child, path, map, reason, reason_size);
            if (rc)
                return rc;
            continue;
        }
        if (!s_map_find (map, path)) {
            char full[600], where[600];
            snprintf (full, sizeof full, "%s/%s", section, path);
            s_where (self, full, where, sizeof where);
            s_reason (reason, reason_size, "config %s: unknown key '%s' in section '%s'", where,
                      path, section);
            return JOBD_ECONFIG;
        }
    }
    return 0;
}

static void
s_env_name (const char *path, char *name, size_t name_size)
{
    snprintf (name, name_size, "JOBD_%s", path);
    for (char *c = name + 5; *c; c++)
        *c = (*c == '/' || *c == '-' || *c == '.') ? '_' : (char)toupper ((unsigned char)*c);
}

//  Resolves, checks and records one concrete key (section/path).
static int
s_resolve (jobd_config_t *self, const char *section, const char *path, const jobd_conf_key_t *entry,
           char *reason, size_t reason_size)
{
    char full[600], env[600], where[700];
    snprintf (full, sizeof full, "%s/%s", section, path);
    s_env_name (full, env, sizeof env);
    const char *value = getenv (env);
    bool from_env = value != NULL;
    if (!value) {
        zconfig_t *node = zconfig_locate (self->root, full);
        value = node ? zconfig_value (node) : NULL;
    }
    if (!value)
        value = entry->default_value;
    if (!value) {
        s_where (self, section, where, sizeof where);
        s_reason (reason, reason_size, "config %s: section '%s' needs key '%s' (%s)", where,
                  section, path, entry->help ? entry->help : s_type_name (entry->type));
        return JOBD_ECONFIG;
    }
    int64_t parsed;
    if (jobd_config_parse_value (entry->type, value, &parsed)) {
        if (from_env)
            snprintf (where, sizeof where, "environment %s", env);
        else {
            char file_where[600];
            s_where (self, full, file_where, sizeof file_where);
            snprintf (where, sizeof where, "%s", file_where);
        }
        s_reason (reason, reason_size, "config %s: key '%s': '%s' is not %s", where, full, value,
                  s_type_name (entry->type));
        return JOBD_ECONFIG;
    }
    zhash_update (self->values, full, (void *)value);
    int64_t *number = (int64_t *)zmalloc (sizeof (int64_t));
    *number = parsed;
    zhash_update (self->numbers, full, number);
    zhash_freefn (self->numbers, full, free);
    return 0;
}

//  Resolves every key of map under section, expanding "*" segments over the subsections present.
static int
s_resolve_pattern (jobd_config_t *self, const char *section, const char *done, const char *rest,
                   const jobd_conf_key_t *entry, char *reason, size_t reason_size)
{
    const char *star = strstr (rest, "*");
    if (!star) {
        char path[512];
        snprintf (path, sizeof path, "%s%s", done, rest);
        return s_resolve (self, section, path, entry, reason, reason_size);
    }
    char parent[512];
    snprintf (parent, sizeof parent, "%s/%s%.*s", section, done, (int)(star - rest), rest);
    size_t length = strlen (parent);
    if (length && parent[length - 1] == '/')
        parent[length - 1] = 0;
    zconfig_t *node = zconfig_locate (self->root, parent);
    for (zconfig_t *child = node ? zconfig_child (node) : NULL; child;
         child = zconfig_next (child)) {
        char next_done[512];
        snprintf (next_done, sizeof next_done, "%s%.*s%s", done, (int)(star - rest), rest,
                  zconfig_name (child));
        int rc = s_resolve_pattern (self, section, next_done, star + 1, entry, reason, reason_size);
        if (rc)
            return rc;
    }
    return 0;
}

int
jobd_config_check (jobd_config_t *self, const char *section, const jobd_conf_key_t *map,
                   char *reason, size_t reason_size)
{
    zconfig_t *node = zconfig_locate (self->root, section);
    if (node) {
        int rc = s_check_present (self, section, node, "", map, reason, reason_size);
        if (rc)
            return rc;
    }
    return jobd_config_resolve (self, section, map, reason, reason_size);
}

int
jobd_config_resolve (jobd_config_t *self, const char *section, const jobd_conf_key_t *map,
                     char *reason, size_t reason_size)
{
    for (const jobd_conf_key_t *entry = map; entry && entry->key; entry++) {
        int rc = s_resolve_pattern (self, section, "", entry->key, entry, reason, reason_size);
        if (rc)
            return rc;
    }
    return 0;
}

int
jobd_config_check_sections (jobd_config_t *self, const char *const *allowed, char *reason,
                            size_t reason_size)
{
    for (zconfig_t *child = zconfig_child (self->root); child; child = zconfig_next (child)) {
        bool known = false;
        for (const char *const *name = allowed; *name; name++)
            known = known || strcmp (*name, zconfig_name (child)) == 0;
        if (!known) {
            char where[600];
            s_where (self, zconfig_name (child), where, sizeof where);
            s_reason (reason, reason_size, "config %s: unknown section '%s'", where,
                      zconfig_name (child));
            return JOBD_ECONFIG;
        }
    }
    return 0;
}

const char *
jobd_config_str (jobd_config_t *self, const char *section, const char *key)
{
    char full[600];
    snprintf (full, sizeof full, "%s/%s", section, key);
    return (const char *)zhash_lookup (self->values, full);
}

int64_t
jobd_config_int (jobd_config_t *self, const char *section, const char *key, int64_t fallback)
{
    char full[600];
    snprintf (full, sizeof full, "%s/%s", section, key);
    int64_t *number = (int64_t *)zhash_lookup (self->numbers, full);
    return number ? *number : fallback;
}

size_t
jobd_config_names (jobd_config_t *self, const char *path, const char **names, size_t max)
{
    zconfig_t *node = zconfig_locate (self->root, path);
    size_t count = 0;
    for (zconfig_t *child = node ? zconfig_child (node) : NULL; child;
         child = zconfig_next (child)) {
        if (count < max)
            names[count] = zconfig_name (child);
        count++;
    }
    return count;
}

bool
jobd_config_has (jobd_config_t *self, const char *path)
{
    return zconfig_locate (self->root, path) != NULL;
}
