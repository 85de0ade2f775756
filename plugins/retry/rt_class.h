//  retry: failure classes, an ordered list of patterns on a failed job's cause and error, each
//  with its own retry settings and change; the first that matches decides, "default" when none.
#ifndef RT_CLASS_H_INCLUDED
#define RT_CLASS_H_INCLUDED

#include "jobd_plugin_sdk.h"
#include "rt_change.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RT_CLASS_NAME_MAX 63
#define RT_CLASSES_MAX    64

typedef struct {
    char name[RT_CLASS_NAME_MAX + 1];
    jobd_sdk_retry_t retry;    //  what the class sets (max_attempts 1: never retried)
    const rt_change_t *change; //  owned by the list; NULL: the next attempt's spec is unchanged
} rt_class_t;

typedef struct rt_classes rt_classes_t;

//  An empty list (only "default", which matches anything). NULL when out of memory.
rt_classes_t *rt_classes_new (void);

//  Frees the list; NULL-safe; sets *self_p to NULL.
void rt_classes_destroy (rt_classes_t **self_p);

//  Appends a class: name, match (a POSIX extended regex, case-insensitive), settings (may be
//  NULL), change (rt_change.h text; NULL or empty: none). Returns 0, or -1 with a reason (the
//  regex's own error, the change's item, too many classes).
int rt_classes_add (rt_classes_t *self, const char *name, const char *match,
                    const jobd_sdk_retry_t *settings, const char *change, char *reason,
                    size_t reason_size);

//  Appends the built-in classes (oom, transient, user): for a config that names none.
void rt_classes_add_defaults (rt_classes_t *self);

//  How many classes were added (the default not counted).
size_t rt_classes_size (const rt_classes_t *self);

//  The first class whose pattern matches cause or error (either may be NULL), else "default".
//  Borrowed until destroy.
const rt_class_t *rt_classes_match (const rt_classes_t *self, const char *cause, const char *error);

#ifdef __cplusplus
}
#endif
#endif
