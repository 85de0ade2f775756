//  retry: memory sizes as Spark writes them ("512m", "4g", "4096" = MiB), read and written.
#ifndef RT_SIZE_H_INCLUDED
#define RT_SIZE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Reads a Spark memory string: a whole number with an optional unit, b, k, kb, m, mb, g, gb, t,
//  tb, p, pb in any case (Spark's JavaUtils.byteStringAs); no unit means MiB, as for
//  spark.executor.memory and spark.driver.memory. Returns 0 and sets *bytes_p, or -1 (not a
//  size, negative, or over 1 PiB).
int rt_size_parse (const char *text, int64_t *bytes_p);

//  Writes bytes as Spark reads it back, in the largest unit that holds it whole (t, g, m, k,
//  else b): "6g", "1536m". Returns out.
const char *rt_size_format (int64_t bytes, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
