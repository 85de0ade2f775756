//  One-line causes: the line of a failure's full text that says why (the deepest exception of a
//  Spark stack trace, the first line of YARN diagnostics, Livy's error line), for watch and ls.
#ifndef JOBD_CAUSE_H_INCLUDED
#define JOBD_CAUSE_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOBD_CAUSE_CUT 200 //  a derived cause is cut here (at a UTF-8 boundary, then "...")

//  Each function writes one line into cause (size bytes, at least 4; at most JOBD_CAUSE_CUT
//  bytes of text plus "..." and a NUL) and returns its length, 0 (cause "") when text has none.
//  Control characters become spaces and an exception's package is dropped
//  ("org.apache.spark.SparkException: x" gives "SparkException: x"). text may be NULL.

//  The generic rule, for any producer's text: the first line that looks like an exception
//  ("Name: message" where Name ends in Exception, Error or Throwable, anywhere in the line),
//  else the first non-empty line.
size_t jobd_cause_generic (const char *text, char *cause, size_t size);

//  A Spark (JVM or Python) stack trace, as the standalone master's "Exception from the
//  cluster:" message or spark-submit's output holds it: the deepest exception (the last
//  "Caused by:"), else the generic rule.
size_t jobd_cause_spark (const char *text, char *cause, size_t size);

//  Livy's batch log (its last lines, joined by newlines): the Spark rule, without Livy's
//  "stdout:"/"stderr:" markers and log4j INFO/WARN/DEBUG lines; failing that, the last line
//  that says ERROR or Error, else the first line left.
size_t jobd_cause_livy_log (const char *text, char *cause, size_t size);

//  YARN diagnostics: the Spark rule (a "User class threw exception: ..." of an
//  ApplicationMaster), which without an exception is their first non-empty line.
size_t jobd_cause_yarn (const char *text, char *cause, size_t size);

#ifdef __cplusplus
}
#endif
#endif
