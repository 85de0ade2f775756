//  retry: a failure class's change to the next attempt's spec ("spark.executor.memory*1.5<=16g,
//  spark.driver.memory*1.5<=8g"): each item multiplies a memory setting, up to a cap.
#ifndef RT_CHANGE_H_INCLUDED
#define RT_CHANGE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rt_change rt_change_t;

//  Parses a change: items "PROPERTY*FACTOR[<=CAP]" separated by commas, PROPERTY a Spark
//  property (spark.*, at most 128 bytes), FACTOR a number above 0 and at most 100, CAP a memory
//  size (rt_size.h). At most 8 items. Returns 0 and sets *self_p (fresh; NULL for an empty
//  text), or -1 with a reason naming the item.
int rt_change_new (const char *text, rt_change_t **self_p, char *reason, size_t reason_size);

//  Frees the change; NULL-safe; sets *self_p to NULL.
void rt_change_destroy (rt_change_t **self_p);

//  Applies the change to spec (JSON text of a submission): each property is changed where the
//  spec holds it: its Livy field (executorMemory, driverMemory) when present, else the `conf`
//  map's key (or `sparkProperties`'); when absent, from Spark's default (1g for the executor and
//  driver memory; others absent are left alone) written to the Livy field or `conf`. Writes
//  what changed, one line ("executorMemory 4g -> 6g (class oom)"; "at its cap"), into line
//  (empty when the spec has no setting to change). Returns the new spec (fresh, free() it), or
//  NULL when nothing changed or spec is not a JSON object.
char *rt_change_apply (const rt_change_t *self, const char *spec, const char *class_name,
                       char *line, size_t line_size);

#ifdef __cplusplus
}
#endif
#endif
