//  The admin protocol's answers to queries (see jobd_answer.h).
#include "jobd_answer.h"
#include "jobd_map.h"
#include "jobd_reply.h"
#include <stdio.h>
#include <string.h>

void
jobd_answer_pack_ls (msgpack_packer *pk, const char *re, bool truncated, size_t count,
                     const void *jobs, size_t jobs_size)
{
    jobd_reply_pack_head (pk, re, 0, NULL, 2);
    jobd_map_pack_kb (pk, "truncated", truncated);
    jobd_map_pack_str (pk, "jobs");
    msgpack_pack_array (pk, count);
    //  The records were packed before their number was known: their bytes follow the header.
    msgpack_pack_str_body (pk, jobs, jobs_size);
}

void
jobd_answer_pack_show (msgpack_packer *pk, const char *re, const jobd_job_t *job,
                       jobd_event_t *const *history, size_t count, size_t skipped)
{
    jobd_reply_pack_head (pk, re, 0, NULL, 2 + (skipped > 0));
    jobd_map_pack_str (pk, "job");
    jobd_job_pack (job, pk);
    if (skipped)
        jobd_map_pack_ku (pk, "history_skipped", skipped);
    jobd_map_pack_str (pk, "history");
    msgpack_pack_array (pk, count - skipped);
    for (size_t index = skipped; index < count; index++)
        jobd_event_pack (history[index], pk);
}

//  Three keys of a histogram: NAME_le (its count bounds), NAME (count + 1 bucket counts, the last
//  past the bounds) and sum_key.
static void
s_pack_histogram (msgpack_packer *pk, const char *name, const double *bounds, size_t count,
                  const uint64_t *buckets, const char *sum_key, uint64_t sum)
{
    char key[32];
    snprintf (key, sizeof key, "%s_le%s", name, strcmp (name, "duration") == 0 ? "_ms" : "");
    jobd_map_pack_str (pk, key);
    msgpack_pack_array (pk, count);
    for (size_t index = 0; index < count; index++)
        msgpack_pack_double (pk, bounds[index]);
    jobd_map_pack_str (pk, name);
    msgpack_pack_array (pk, count + 1);
    for (size_t index = 0; index <= count; index++)
        msgpack_pack_uint64 (pk, buckets[index]);
    jobd_map_pack_ku (pk, sum_key, sum);
}

void
jobd_answer_pack_stats (msgpack_packer *pk, const char *re, const uint64_t counts[JOBD_STATE_COUNT],
                        const jobd_stats_t *stats)
{
    jobd_reply_pack_head (pk, re, 0, NULL, 4);
    jobd_map_pack_str (pk, "counts");
    msgpack_pack_map (pk, JOBD_STATE_COUNT - 1);
    for (int state = JOBD_STATE_QUEUED; state < JOBD_STATE_COUNT; state++)
        jobd_map_pack_ku (pk, jobd_state_name ((jobd_state_t)state), counts[state]);
    jobd_map_pack_str (pk, "broker");
    msgpack_pack_map (pk, 19);
    jobd_map_pack_ku (pk, "received", stats->received);
    jobd_map_pack_ku (pk, "rejected", stats->rejected);
    jobd_map_pack_ku (pk, "applied", stats->applied);
    jobd_map_pack_ku (pk, "transitions", stats->transitions);
    jobd_map_pack_ku (pk, "duplicates", stats->duplicates);
    jobd_map_pack_ku (pk, "backward", stats->backward);
    jobd_map_pack_ku (pk, "old_attempt", stats->old_attempt);
    jobd_map_pack_ku (pk, "replayed", stats->replayed);
    jobd_map_pack_ku (pk, "forwarded", stats->forwarded);
    jobd_map_pack_ku (pk, "commits", stats->commits);
    jobd_map_pack_ku (pk, "commit_failures", stats->commit_failures);
    jobd_map_pack_ku (pk, "queries", stats->queries);
    jobd_map_pack_ku (pk, "internal_refused", stats->internal_refused);
    jobd_map_pack_ku (pk, "started_at", (uint64_t)stats->started_at);
    jobd_map_pack_ku (pk, "stale_published", stats->stale_published);
    jobd_map_pack_ku (pk, "stale", stats->stale);
    jobd_map_pack_ku (pk, "retry_planned", stats->retry_planned);
    jobd_map_pack_ku (pk, "retry_fired", stats->retry_fired);
    jobd_map_pack_ku (pk, "retry_final", stats->retry_final);
    jobd_map_pack_str (pk, "commits");
    msgpack_pack_map (pk, 6);
    s_pack_histogram (pk, "duration", jobd_stats_duration_ms, JOBD_STATS_DURATIONS,
                      stats->commit_duration, "duration_us", stats->commit_us);
    s_pack_histogram (pk, "size", jobd_stats_size, JOBD_STATS_SIZES, stats->batch_size, "events",
                      stats->batch_events);
    jobd_map_pack_str (pk, "store");
    msgpack_pack_map (pk, 2);
    jobd_map_pack_ku (pk, "bytes", stats->store_bytes);
    jobd_map_pack_ku (pk, "map_bytes", stats->store_map_bytes);
}

void
jobd_stats_commit (jobd_stats_t *stats, size_t events, int64_t us)
{
    size_t bucket = 0;
    while (bucket < JOBD_STATS_DURATIONS && (double)us > jobd_stats_duration_ms[bucket] * 1000)
        bucket++;
    stats->commit_duration[bucket]++;
    stats->commit_us += (uint64_t)(us > 0 ? us : 0);
    bucket = 0;
    while (bucket < JOBD_STATS_SIZES && (double)events > jobd_stats_size[bucket])
        bucket++;
    stats->batch_size[bucket]++;
    stats->batch_events += events;
}

void
jobd_answer_pack_plugins (msgpack_packer *pk, const char *re, const jobd_answer_plugin_t *plugins,
                          size_t count)
{
    jobd_reply_pack_head (pk, re, 0, NULL, 1);
    jobd_map_pack_str (pk, "plugins");
    msgpack_pack_array (pk, count);
    for (size_t index = 0; index < count; index++) {
        const jobd_answer_plugin_t *plugin = &plugins[index];
        bool figures = plugin->figures && plugin->figures_size;
        msgpack_pack_map (pk, figures ? 5 : 4);
        jobd_map_pack_kv (pk, "name", plugin->name ? plugin->name : "");
        jobd_map_pack_kv (pk, "version", plugin->version ? plugin->version : "");
        jobd_map_pack_kv (pk, "status", plugin->status ? plugin->status : "");
        jobd_map_pack_kv (pk, "detail", plugin->detail ? plugin->detail : "");
        if (figures) {
            //  Checked when they came (jobd_figures_check): one msgpack value, written as is.
            jobd_map_pack_str (pk, "figures");
            pk->callback (pk->data, (const char *)plugin->figures, plugin->figures_size);
        }
    }
}

void
jobd_answer_pack_cursors (msgpack_packer *pk, const char *re, uint64_t head, bool truncated,
                          const jobd_answer_cursor_t *cursors, size_t count)
{
    jobd_reply_pack_head (pk, re, 0, NULL, 3);
    jobd_map_pack_ku (pk, "head", head);
    jobd_map_pack_kb (pk, "truncated", truncated);
    jobd_map_pack_str (pk, "cursors");
    msgpack_pack_array (pk, count);
    for (size_t index = 0; index < count; index++) {
        const jobd_answer_cursor_t *cursor = &cursors[index];
        bool partition = cursor->partition >= 0;
        uint64_t its_head = partition ? cursor->head : head;
        msgpack_pack_map (pk, partition ? 5 : 4);
        jobd_map_pack_kv (pk, "name", cursor->name);
        if (partition)
            jobd_map_pack_ku (pk, "partition", (uint64_t)cursor->partition);
        jobd_map_pack_ku (pk, "position", cursor->position);
        jobd_map_pack_ku (pk, "behind",
                          its_head > cursor->position ? its_head - cursor->position : 0);
        jobd_map_pack_str (pk, "moved_at");
        msgpack_pack_int64 (pk, cursor->moved_at);
    }
}

int
jobd_answer_read_ls (const msgpack_object *reply, const msgpack_object **jobs_p, bool *truncated_p)
{
    const msgpack_object *jobs = jobd_map_lookup (reply, "jobs");
    *jobs_p = jobs && jobs->type == MSGPACK_OBJECT_ARRAY ? jobs : NULL;
    *truncated_p = jobd_map_true (reply, "truncated");
    return *jobs_p ? 0 : JOBD_EPROTO;
}

int
jobd_answer_read_show (const msgpack_object *reply, jobd_job_t **job_p,
                       const msgpack_object **history_p, uint64_t *skipped_p, char *reason,
                       size_t reason_size)
{
    *job_p = NULL;
    *history_p = NULL;
    *skipped_p = 0;
    const msgpack_object *history = jobd_map_lookup (reply, "history");
    int rc = jobd_job_from_object (jobd_map_lookup (reply, "job"), job_p, reason, reason_size);
    if (rc == 0 && (!history || history->type != MSGPACK_OBJECT_ARRAY)) {
        snprintf (reason, reason_size, "field 'history': expected an array of transitions");
        jobd_job_destroy (job_p);
        rc = JOBD_EPROTO;
    }
    if (rc)
        return rc;
    *history_p = history;
    const msgpack_object *skipped = jobd_map_lookup (reply, "history_skipped");
    if (skipped && skipped->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *skipped_p = skipped->via.u64;
    return 0;
}
