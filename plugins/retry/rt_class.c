//  retry: failure classes (rt_class.h).
#include "rt_class.h"
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    rt_class_t public;
    regex_t pattern;
    rt_change_t *change;
} s_class_t;

struct rt_classes {
    s_class_t classes[RT_CLASSES_MAX];
    size_t count;
    rt_class_t fallback; //  "default": the policy's own settings
};

rt_classes_t *
rt_classes_new (void)
{
    rt_classes_t *self = (rt_classes_t *)calloc (1, sizeof (rt_classes_t));
    if (!self)
        return NULL;
    snprintf (self->fallback.name, sizeof self->fallback.name, "default");
    jobd_sdk_retry_unset (&self->fallback.retry);
    return self;
}

void
rt_classes_destroy (rt_classes_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rt_classes_t *self = *self_p;
    for (size_t index = 0; index < self->count; index++) {
        regfree (&self->classes[index].pattern);
        rt_change_destroy (&self->classes[index].change);
    }
    free (self);
    *self_p = NULL;
}

int
rt_classes_add (rt_classes_t *self, const char *name, const char *match,
                const jobd_sdk_retry_t *settings, const char *change, char *reason,
                size_t reason_size)
{
    if (self->count == RT_CLASSES_MAX) {
        snprintf (reason, reason_size, "more than %d classes", RT_CLASSES_MAX);
        return -1;
    }
    s_class_t *entry = &self->classes[self->count];
    *entry = (s_class_t){0};
    int code = regcomp (&entry->pattern, match ? match : "", REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (code) {
        char why[128];
        regerror (code, &entry->pattern, why, sizeof why);
        snprintf (reason, reason_size, "match '%.128s': %s", match ? match : "", why);
        return -1;
    }
    char why[256] = "";
    if (rt_change_new (change, &entry->change, why, sizeof why)) {
        regfree (&entry->pattern);
        snprintf (reason, reason_size, "change: %s", why);
        return -1;
    }
    snprintf (entry->public.name, sizeof entry->public.name, "%s", name);
    if (settings)
        entry->public.retry = *settings;
    else
        jobd_sdk_retry_unset (&entry->public.retry);
    entry->public.change = entry->change;
    self->count++;
    return 0;
}

void
rt_classes_add_defaults (rt_classes_t *self)
{
    static const struct {
        const char *name, *match, *change;
        int64_t max_attempts;
    } builtin[] = {
        {"oom", "OutOfMemoryError|Container killed .* memory|exit code 137|GC overhead limit",
         "spark.executor.memory*1.5<=16g, spark.driver.memory*1.5<=8g", -1},
        {"transient",
         "lost executor|Connection refused|Connection reset|503|Service Unavailable|timed out|"
         "FetchFailed",
         NULL, -1},
        {"user",
         "AnalysisException|FileNotFoundException|ClassNotFoundException|NoSuchMethodError|"
         "IllegalArgumentException|ParseException",
         NULL, 1}};
    for (size_t index = 0; index < sizeof builtin / sizeof builtin[0]; index++) {
        jobd_sdk_retry_t settings;
        jobd_sdk_retry_unset (&settings);
        settings.max_attempts = builtin[index].max_attempts;
        char reason[256];
        int rc = rt_classes_add (self, builtin[index].name, builtin[index].match, &settings,
                                 builtin[index].change, reason, sizeof reason);
        assert (rc == 0); //  the built-in patterns compile
        (void)rc;
    }
}

size_t
rt_classes_size (const rt_classes_t *self)
{
    return self->count;
}

const rt_class_t *
rt_classes_match (const rt_classes_t *self, const char *cause, const char *error)
{
    for (size_t index = 0; index < self->count; index++) {
        const regex_t *pattern = &self->classes[index].pattern;
        if ((cause && regexec (pattern, cause, 0, NULL, 0) == 0) ||
            (error && regexec (pattern, error, 0, NULL, 0) == 0))
            return &self->classes[index].public;
    }
    return &self->fallback;
}
