//  notifier: building notes (nt_note_t, nt_channel.h) from what the log and the store say: one
//  event of one job (a transition, or a stale flag), or a digest of many. A note made here owns
//  its strings and body: free it with nt_note_destroy.
#ifndef NT_NOTE_H_INCLUDED
#define NT_NOTE_H_INCLUDED

#include "nt_channel.h"

//  The note of event about job: from is the transition (or the stale event), record the job's
//  record when read (may be NULL), link the link template ("{job}" replaced by the job's id;
//  "" or NULL: none). Returns a fresh note, or NULL when out of memory.
nt_note_t *nt_note_new (nt_event_t event, const jobd_event_t *from, const jobd_job_t *record,
                        const char *link);

//  Frees a note made here; NULL-safe; sets *self_p to NULL.
void nt_note_destroy (nt_note_t **self_p);

//  Writes ms since the epoch as ISO 8601 UTC ("2026-12-04T04:16:03.120Z") into buffer.
void nt_note_time (int64_t ms, char *buffer, size_t size);

//  A digest being filled: many notes of one rule within its window, folded into one.
typedef struct nt_digest nt_digest_t;

#define NT_DIGEST_JOBS 20 //  jobs listed in a digest; the rest are counted

//  A digest of rule's notes in a window of window ms.
nt_digest_t *nt_digest_new (const char *rule, int64_t window);

//  Frees the digest; NULL-safe; sets *self_p to NULL.
void nt_digest_destroy (nt_digest_t **self_p);

//  Folds note into the digest.
void nt_digest_add (nt_digest_t *self, const nt_note_t *note);

//  How many notes it folds.
size_t nt_digest_count (const nt_digest_t *self);

//  The digest's note (fresh: nt_note_destroy it), or NULL when it folds none.
nt_note_t *nt_digest_note (const nt_digest_t *self);

#endif
