//  retry: a failure class's change to the next attempt's spec (rt_change.h).
#include "rt_change.h"
#include "rt_size.h"
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ITEMS_MAX    8
#define S_PROPERTY_MAX 128
#define S_DEFAULT      (1024LL * 1024 * 1024) //  Spark's default executor and driver memory: 1g

typedef struct {
    char property[S_PROPERTY_MAX + 1];
    double factor;
    int64_t cap; //  bytes; 0: none
} s_item_t;

struct rt_change {
    s_item_t items[S_ITEMS_MAX];
    size_t count;
};

//  The Livy batch fields that hold a Spark property (SPECS.md: both backends take them).
static const char *
s_field_of (const char *property)
{
    if (strcmp (property, "spark.executor.memory") == 0)
        return "executorMemory";
    if (strcmp (property, "spark.driver.memory") == 0)
        return "driverMemory";
    return NULL;
}

static char *
s_trim (char *text)
{
    while (isspace ((unsigned char)*text))
        text++;
    size_t length = strlen (text);
    while (length && isspace ((unsigned char)text[length - 1]))
        text[--length] = 0;
    return text;
}

//  One "PROPERTY*FACTOR[<=CAP]". Returns 0 or -1 with the reason.
static int
s_item_parse (char *text, s_item_t *item, char *reason, size_t reason_size)
{
    char *star = strchr (text, '*');
    char *cap = strstr (text, "<=");
    if (cap)
        *cap = 0, cap += 2;
    if (star)
        *star = 0;
    char *property = s_trim (text);
    char *end = NULL;
    errno = 0;
    double factor = star ? strtod (s_trim (star + 1), &end) : NAN;
    int64_t bytes = 0;
    const char *wrong = NULL;
    if (strncmp (property, "spark.", 6) != 0 || strlen (property) > S_PROPERTY_MAX ||
        strpbrk (property, " \t\"\\"))
        wrong = "a Spark property (spark.*)";
    else if (!star || isnan (factor) || errno || !end || *s_trim (end) || factor <= 0 ||
             factor > 100)
        wrong = "a factor above 0 and at most 100 after '*'";
    else if (cap && rt_size_parse (s_trim (cap), &bytes))
        wrong = "a memory size after '<=' (512m, 16g; no unit: MiB)";
    if (wrong) {
        snprintf (reason, reason_size, "'%.160s': wanted PROPERTY*FACTOR[<=CAP] with %s", property,
                  wrong);
        return -1;
    }
    snprintf (item->property, sizeof item->property, "%s", property);
    item->factor = factor;
    item->cap = bytes;
    return 0;
}

int
rt_change_new (const char *text, rt_change_t **self_p, char *reason, size_t reason_size)
{
    *self_p = NULL;
    char *copy = strdup (text ? text : "");
    rt_change_t *self = (rt_change_t *)calloc (1, sizeof (rt_change_t));
    int rc = copy && self ? 0 : -1;
    if (rc)
        snprintf (reason, reason_size, "out of memory");
    char *save = NULL;
    for (char *item = rc ? NULL : strtok_r (copy, ",", &save); item && rc == 0;
         item = strtok_r (NULL, ",", &save)) {
        if (!*s_trim (item))
            continue;
        if (self->count == S_ITEMS_MAX) {
            snprintf (reason, reason_size, "more than %d items", S_ITEMS_MAX);
            rc = -1;
        } else
            rc = s_item_parse (item, &self->items[self->count++], reason, reason_size);
    }
    free (copy);
    if (rc || self->count == 0)
        rt_change_destroy (&self);
    *self_p = self;
    return rc;
}

void
rt_change_destroy (rt_change_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

//  Where the spec holds property: the object and key to read and write. An absent setting is
//  written to the Livy field when there is one, else to conf (created).
static json_t *
s_holder (json_t *spec, const char *property, const char **key_p, bool *absent_p)
{
    const char *field = s_field_of (property);
    *absent_p = false;
    if (field && json_object_get (spec, field)) {
        *key_p = field;
        return spec;
    }
    *key_p = property;
    static const char *const maps[] = {"conf", "sparkProperties"};
    for (size_t index = 0; index < 2; index++) {
        json_t *map = json_object_get (spec, maps[index]);
        if (json_is_object (map) && json_object_get (map, property))
            return map;
    }
    *absent_p = true;
    if (field) {
        *key_p = field;
        return spec;
    }
    json_t *conf = json_object_get (spec, "conf");
    if (!json_is_object (conf)) {
        conf = json_object ();
        json_object_set_new (spec, "conf", conf);
    }
    return conf;
}

//  Applies one item. Appends what it did to line; returns true when the spec changed.
static bool
s_item_apply (const s_item_t *item, json_t *spec, const char *class_name, char *line,
              size_t line_size)
{
    const char *key;
    bool absent;
    json_t *holder = s_holder (spec, item->property, &key, &absent);
    json_t *value = json_object_get (holder, key);
    int64_t bytes = 0;
    char text[64], before[32], after[32], note[160] = "";
    size_t used = strlen (line);
    const char *sep = used ? "; " : "";
    if (absent) {
        if (!s_field_of (item->property))
            return false; //  no known default to start from
        bytes = S_DEFAULT;
        snprintf (note, sizeof note, " (absent: Spark's default)");
    } else {
        const char *given = json_is_string (value) ? json_string_value (value) : NULL;
        if (json_is_integer (value)) {
            snprintf (text, sizeof text, "%lld", (long long)json_integer_value (value));
            given = text;
        }
        if (rt_size_parse (given, &bytes)) {
            snprintf (line + used, line_size - used,
                      "%s%s: '%.32s' is not a memory size, left "
                      "alone (class %s)",
                      sep, key, given ? given : "?", class_name);
            return false;
        }
    }
    rt_size_format (bytes, before, sizeof before);
    if (item->cap && bytes >= item->cap) {
        snprintf (line + used, line_size - used, "%s%s %s%s: at its cap (class %s)", sep, key,
                  before, note, class_name);
        return false;
    }
    //  Whole MiB: what Spark's memory settings take.
    double wanted = floor ((double)bytes * item->factor / (1024.0 * 1024.0)) * 1024.0 * 1024.0;
    int64_t next = wanted > 9e15 ? (int64_t)9e15 : (int64_t)wanted;
    if (item->cap && next > item->cap)
        next = item->cap;
    if (next < 1024 * 1024)
        next = 1024 * 1024;
    rt_size_format (next, after, sizeof after);
    snprintf (line + used, line_size - used, "%s%s %s%s -> %s%s (class %s)", sep, key, before, note,
              after, item->cap && next == item->cap ? ", its cap" : "", class_name);
    json_object_set_new (holder, key, json_string (after));
    return next != bytes || absent;
}

char *
rt_change_apply (const rt_change_t *self, const char *spec, const char *class_name, char *line,
                 size_t line_size)
{
    line[0] = 0;
    if (!self || !spec)
        return NULL;
    json_t *root = json_loads (spec, 0, NULL);
    bool changed = false;
    for (size_t index = 0; json_is_object (root) && index < self->count; index++)
        changed |= s_item_apply (&self->items[index], root, class_name, line, line_size);
    char *result = changed ? json_dumps (root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref (root);
    return result;
}
