//  Lost standalone creates (spark-poller): their drivers are looked for in the master's /json/.
#include "sp_poller_internal.h"
#include <string.h>

//  A lost create's driver (sp_seek_start): a /json/ pass that does not find it decides only once it
//  started this long (ms) after the search, so that a create still on its way is in it.
#define SP_SEEK_SETTLE 1000
#define SP_SEEK_MAX    8 //  candidates kept per search: more is ambiguous anyway

//  Standalone: a create that may have reached the master, with no answer to say and no driver
//  found for it (sp_seek_start). Sending it again could run the job twice: the job fails with what
//  the operator can do instead.
static void
s_maybe_submitted (sp_poller_t *self, sp_job_t *job, const char *when)
{
    char error[SP_ERROR_MAX], blind[200] = "";
    if (!job->backend->ui_url[0])
        snprintf (blind, sizeof blind,
                  "; backend %s has no ui_url (with the master's /json/, jobd looks for the "
                  "driver itself)",
                  job->backend->name);
    snprintf (error, sizeof error,
              "the submission may have reached the master %s%s; jobd does not send it again "
              "(that could run it twice): check the master for a driver of this job "
              "(spark.jobd.id %s); if there is one, `jobctl track DRIVER_ID --kind spark "
              "--backend %s`, if not, `jobctl retry %s`",
              when, blind, job->id, job->backend->name, job->id);
    self->host->log (self->host, JOBD_LOG_WARN, "%s: %s", job->id, error);
    sp_job_observe (self, job, JOBD_STATE_FAILED, NULL, error);
}

bool
sp_seek_taken (const char *id, void *arg)
{
    sp_call_t *call = (sp_call_t *)arg;
    //  Any backend on the same master (two names for one master share its drivers).
    sp_poller_t *self = call->self;
    bool taken = false;
    for (size_t index = 0; !taken && index < self->backend_count; index++) {
        sp_backend_t *backend = &self->backends[index];
        if (backend != call->backend && strcmp (backend->url, call->backend->url) != 0)
            continue;
        char *owner = NULL;
        taken = sp_job_by_ext (self, backend, id) ||
                self->host->job_find (self->host, backend->name, id, &owner) == 0;
        free (owner);
    }
    return taken;
}

void
sp_seek_start (sp_poller_t *self, sp_job_t *job, const char *spec, const char *after,
               const char *when)
{
    sp_seek_t *seek = job->backend->ui_url[0] ? (sp_seek_t *)zmalloc (sizeof (sp_seek_t)) : NULL;
    if (!seek ||
        sp_created_from_spec (spec, &seek->wanted, seek->main_class, sizeof seek->main_class)) {
        free (seek);
        s_maybe_submitted (self, job, when);
        return;
    }
    int64_t now = zclock_time ();
    snprintf (seek->after, sizeof seek->after, "%s", after ? after : "");
    seek->wanted.after = seek->after;
    //  An earlier attempt's driver has the same description, and no job follows it any more
    //  (the store drops a job's backend id when its next attempt starts): what tells it apart is
    //  that it started before this attempt was queued.
    if (job->attempt > 1 && job->queued_at > SP_SEEK_CLOCK_SLACK)
        seek->wanted.not_before = job->queued_at - SP_SEEK_CLOCK_SLACK;
    seek->marked_at = job->sent_at;
    seek->since = seek->examined_at = now;
    snprintf (seek->when, sizeof seek->when, "%s", when);
    free (job->seek);
    job->seek = seek;
    job->submit = false;
    job->backend->list_due = now; //  look at once
    sp_poller_walk_by (self, now);
    self->host->log (self->host, JOBD_LOG_INFO,
                     "%s: the create's answer was lost (%s): looking for its driver in %s/json/",
                     job->id, when, job->backend->ui_url);
}

//  The search found the one driver the lost create made: the job follows it.
static void
s_adopt_driver (sp_poller_t *self, sp_job_t *job, sp_status_t *status)
{
    free (job->seek);
    job->seek = NULL;
    sp_job_set_ext (self, job, status->id);
    job->seen = true;
    self->host->log (self->host, JOBD_LOG_INFO,
                     "%s: driver %s (%s) is the one its lost create made: following it, not "
                     "submitting again",
                     job->id, status->id, status->raw);
    //  QUEUED moves on with the driver id (a relaunched one is followed from SUBMITTED).
    jobd_state_t state = status->state == JOBD_STATE_NONE || status->state == JOBD_STATE_UNKNOWN
                             ? JOBD_STATE_SUBMITTED
                             : status->state;
    status->state = state;
    if (!sp_reason_ask (self, job, status))
        sp_job_observe_status (self, job, state, status->id, status);
}

void
sp_seek_failed (sp_poller_t *self, sp_job_t *job, const char *ids)
{
    sp_seek_t *seek = job->seek;
    char when[SP_ERROR_MAX];
    if (!ids)
        snprintf (when, sizeof when,
                  "%s; no pass of the master's /json/ could look for it for %lld s (unreadable, "
                  "or creates to that master kept awaiting their replies)",
                  seek->when, (long long)((zclock_time () - seek->examined_at) / 1000));
    else if (*ids)
        snprintf (when, sizeof when,
                  "%s; the master's /json/ lists drivers that could be it or another lost "
                  "create's (%s: main class %s, the same cores and memory, made since) and "
                  "nothing tells which",
                  seek->when, ids, seek->main_class);
    else
        snprintf (when, sizeof when,
                  "%s; no driver of it (main class %s, newer than %s, followed by no job) is in "
                  "the master's /json/, which keeps only its latest drivers",
                  seek->when, seek->main_class, seek->after[0] ? seek->after : "any");
    free (job->seek);
    job->seek = NULL;
    s_maybe_submitted (self, job, when);
}

//  One lost create's search in a /json/ pass: its candidates, oldest first.
typedef struct {
    sp_job_t *job;
    int count; //  candidates (more than SP_SEEK_MAX kept is possible), or <0: unreadable
    sp_status_t found[SP_SEEK_MAX];
    bool decided;
} s_search_t;

//  The candidates' ids, for the operator.
static void
s_search_ids (const s_search_t *search, char *text, size_t size)
{
    size_t used = 0;
    text[0] = 0;
    for (int index = 0; index < search->count && index < SP_SEEK_MAX && used < size; index++)
        used += (size_t)snprintf (text + used, size - used, "%s%s", index ? ", " : "",
                                  search->found[index].id);
    if (search->count > SP_SEEK_MAX && used < size)
        snprintf (text + used, size - used, " and %d more", search->count - SP_SEEK_MAX);
}

//  Whether two searches have the very same candidates (kept whole), or share any.
static bool
s_search_same (const s_search_t *a, const s_search_t *b)
{
    bool same = a->count == b->count && a->count <= SP_SEEK_MAX;
    for (int index = 0; same && index < a->count; index++)
        same = strcmp (a->found[index].id, b->found[index].id) == 0;
    return same;
}

static bool
s_search_shares (const s_search_t *a, const s_search_t *b)
{
    if (a->count > SP_SEEK_MAX || b->count > SP_SEEK_MAX)
        return a->count > 0 && b->count > 0; //  not all kept: maybe
    for (int index = 0; index < a->count; index++)
        for (int other = 0; other < b->count; other++)
            if (strcmp (a->found[index].id, b->found[other].id) == 0)
                return true;
    return false;
}

static int
s_by_mark (const void *a, const void *b)
{
    const sp_job_t *job_a = *(sp_job_t *const *)a, *job_b = *(sp_job_t *const *)b;
    if (job_a->seek->marked_at != job_b->seek->marked_at)
        return job_a->seek->marked_at < job_b->seek->marked_at ? -1 : 1;
    return strcmp (job_a->id, job_b->id);
}

//  k lost creates of one description and exactly k drivers that only they could have made,
//  each of them a candidate of all: which is whose, /json/ cannot say. When every one of those
//  drivers has ended in the same state, each job's outcome is known all the same: they are
//  paired in order (the creates' order, the drivers' ids), which the log says. While some run,
//  the jobs wait; drivers that ended differently go to the operator.
static void
s_pair_in_order (sp_poller_t *self, s_search_t *searches, size_t count, size_t first)
{
    s_search_t *search = &searches[first];
    sp_job_t *group[SP_SEEK_MAX];
    size_t members = 0;
    for (size_t index = first; index < count; index++)
        if (!searches[index].decided && s_search_same (search, &searches[index]))
            group[members++] = searches[index].job;
    bool ended = true, alike = true;
    for (int index = 0; index < search->count; index++) {
        ended &= jobd_state_is_final (search->found[index].state);
        alike &= strcmp (search->found[index].raw, search->found[0].raw) == 0;
    }
    if (!ended)
        return; //  wait: the next pass looks again
    char ids[SP_ERROR_MAX];
    s_search_ids (search, ids, sizeof ids);
    qsort (group, members, sizeof group[0], s_by_mark);
    for (size_t index = 0; index < members; index++) {
        for (size_t each = first; each < count; each++)
            if (searches[each].job == group[index])
                searches[each].decided = true;
        if (!alike)
            sp_seek_failed (self, group[index], ids);
        else {
            self->host->log (self->host, JOBD_LOG_WARN,
                             "%s: drivers %s could each be its lost create's, and all ended %s: "
                             "paired in order of creation",
                             group[index]->id, ids, search->found[0].raw);
            s_adopt_driver (self, group[index], &search->found[index]);
        }
    }
}

void
sp_seek_find_created (sp_poller_t *self, sp_call_t *call, const char *body, size_t size, long http)
{
    //  A create whose reply is still on its way made a driver no job follows yet.
    zlist_t *seekers = zlist_new ();
    for (sp_job_t *job = (sp_job_t *)zhashx_first (self->jobs); job;
         job = (sp_job_t *)zhashx_next (self->jobs)) {
        if (job->backend == call->backend && job->in_flight && !job->ext[0]) {
            zlist_purge (seekers);
            break;
        }
        if (job->backend == call->backend && job->seek && !job->done)
            zlist_append (seekers, job);
    }
    size_t count = zlist_size (seekers);
    s_search_t *searches = count ? (s_search_t *)calloc (count, sizeof *searches) : NULL;
    sp_job_t *job = (sp_job_t *)zlist_first (seekers);
    for (size_t index = 0; searches && index < count;
         index++, job = (sp_job_t *)zlist_next (seekers)) {
        searches[index].job = job;
        searches[index].count =
            sp_master_created (body, size, http, &job->seek->wanted, sp_seek_taken, call,
                               searches[index].found, SP_SEEK_MAX);
        if (searches[index].count >= 0)
            job->seek->examined_at = zclock_time (); //  looked, even if it waits
    }
    for (size_t index = 0; searches && index < count; index++) {
        s_search_t *search = &searches[index];
        if (search->decided || search->count < 0)
            continue;
        size_t same = 0, shared = 0;
        for (size_t other = 0; other < count; other++) {
            same += s_search_same (search, &searches[other]);
            shared += other != index && !s_search_same (search, &searches[other]) &&
                      s_search_shares (search, &searches[other]);
        }
        bool settled = call->backend->list_started >= search->job->seek->since + SP_SEEK_SETTLE;
        char ids[SP_ERROR_MAX];
        s_search_ids (search, ids, sizeof ids);
        if (search->count == 1 && same == 1 && !shared) {
            search->decided = true;
            s_adopt_driver (self, search->job, &search->found[0]);
        } else if (search->count > 1 && (size_t)search->count == same && !shared)
            s_pair_in_order (self, searches, count, index);
        else if (settled) {
            search->decided = true;
            sp_seek_failed (self, search->job, ids);
        }
    }
    free (searches);
    zlist_destroy (&seekers);
}

//  One stored job for sp_seek_find_floors: a driver it followed, made before a search's mark, on
//  the same master, raises that search's floor.
typedef struct {
    sp_poller_t *self;
    zlist_t *seekers; //  the jobs that search
} s_floors_t;

static bool
s_floor_one (const jobd_job_t *record, void *arg)
{
    s_floors_t *floors = (s_floors_t *)arg;
    sp_backend_t *backend = sp_poller_backend (floors->self, record->backend);
    int order;
    //  Only driver ids: a queued job's ext is its mark.
    if (!backend || backend->kind != SP_STANDALONE || !record->ext || !record->submitted_at ||
        record->state == JOBD_STATE_QUEUED || !record->kind ||
        strcmp (record->kind, "spark") != 0 ||
        sp_driver_id_order (record->ext, record->ext, &order) != 0)
        return true;
    for (sp_job_t *job = (sp_job_t *)zlist_first (floors->seekers); job;
         job = (sp_job_t *)zlist_next (floors->seekers)) {
        sp_seek_t *seek = job->seek;
        if (strcmp (job->backend->url, backend->url) == 0 &&
            record->submitted_at <= seek->marked_at &&
            (!seek->after[0] ||
             (sp_driver_id_order (record->ext, seek->after, &order) == 0 && order > 0)))
            snprintf (seek->after, sizeof seek->after, "%s", record->ext);
    }
    return true;
}

void
sp_seek_find_floors (sp_poller_t *self)
{
    s_floors_t floors = {.self = self, .seekers = zlist_new ()};
    for (sp_job_t *job = (sp_job_t *)zhashx_first (self->jobs); job;
         job = (sp_job_t *)zhashx_next (self->jobs))
        if (job->seek)
            zlist_append (floors.seekers, job);
    if (zlist_size (floors.seekers))
        jobd_host_job_scan (self->host, (1u << JOBD_STATE_COUNT) - 1, s_floor_one, &floors);
    zlist_destroy (&floors.seekers);
}
