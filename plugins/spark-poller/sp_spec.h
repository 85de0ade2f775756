//  spark-poller: the submission spec of a Spark job (SPECS.md): one table of the keys it accepts,
//  their JSON types and what each backend receives for each, used both to check a submission
//  (the plugin's validate) and to build the create request, so that the two never disagree.
#ifndef SP_SPEC_H_INCLUDED
#define SP_SPEC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The backends that take submissions.
typedef enum { SP_SPEC_STANDALONE, SP_SPEC_LIVY } sp_spec_target_t;

//  Checks spec_text (a JSON object as text; NULL reads as {}) for target: every key known and of
//  its type, none the target cannot take, the application (file or appResource) present. Returns
//  0, or JOBD_EINVAL with a one-line reason naming the key.
int sp_spec_check (const char *spec_text, sp_spec_target_t target, char *reason,
                   size_t reason_size);

//  What a create request carries besides the spec.
typedef struct {
    const char *job_id; //  jobd's id: spark.jobd.id, and the spark.yarn.tags entry jobd-<id>
    const char *tag;    //  the attempt's tag (sp_backend_tag): part of the Livy batch name
    const char *name;   //  the job's name, or NULL
    const char *master; //  standalone: spark.master when the spec sets none, or ""/NULL
} sp_spec_job_t;

//  Builds the create request body for target from spec_text (checked as sp_spec_check does):
//  standalone a CreateSubmissionRequest, Livy a POST /batches body (SPECS.md). Returns 0 and
//  sets *body_p (fresh JSON text: free it), or JOBD_EINVAL with the reason, or -ENOMEM.
int sp_spec_body (const char *spec_text, sp_spec_target_t target, const sp_spec_job_t *job,
                  char **body_p, char *reason, size_t reason_size);

//  As sp_spec_body, without the check: the body a spec stored before the check existed (or any
//  object) would have been sent as, keys the table lacks left out. For reading back what was
//  sent (a lost standalone create). Returns 0 and sets *body_p (fresh), or JOBD_EINVAL when
//  spec_text is NULL or not a JSON object, or -ENOMEM.
int sp_spec_guess (const char *spec_text, sp_spec_target_t target, const sp_spec_job_t *job,
                   char **body_p);

//  The longest Livy batch name jobd writes: what a list reply's name is read into.
#define SP_SPEC_NAME_MAX 256

//  Writes the Livy batch name of a job: "<name> [<tag>]" (the name shortened to fit in
//  SP_SPEC_NAME_MAX), or the tag alone without a name. The tag makes it unique (Livy refuses a
//  name it still holds) and findable after a restart.
void sp_spec_livy_name (const char *name, const char *tag, char *out, size_t size);

//  Reads the tag back from a Livy batch name that sp_spec_livy_name wrote (the name itself
//  when it has no " [...]" at its end). Returns out.
const char *sp_spec_livy_tag (const char *batch_name, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
