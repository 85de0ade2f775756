//  notifier: a channel's reader, a thread (zactor) per channel. It reads the store's transition
//  log through its own cursor (`<plugin>/<channel>`, e.g. `notifier/ops`), decides what each
//  transition is (nt_decide), matches the rules, and hands the notes to the channel in log
//  order, one at a time. A note the channel cannot take now is tried again with backoff (1 s,
//  doubling up to backoff_max) and nothing after it is sent meanwhile; the cursor moves past a
//  transition only once its note was taken (or refused for good, or none was due), so that a
//  crash sends again only what was not confirmed, under the same key. Storms of one rule
//  become digests. Stale events are in the log too (ABI 1.6), in commit order.
//
//  In a cluster (ABI 1.9) a channel has a reader per partition this instance owns, over the
//  partition's transitions in changelog order, whose cursor is a changelog record: the next
//  owner goes on from it, after a crash too (what was sent after the last cursor is sent again,
//  at most S_CURSOR_INTERVAL of it). The channel's transition-log reader then sends stale
//  events only, for the jobs this instance acts on.
//
//  Messages on the actor's pipe: from it, "STATUS" + "0"|"1" (failing) + a one-line detail +
//  the numbers "DELIVERED PENDING OLDEST_S REFUSED", when the detail changes (at most every
//  second unless the failing flag changes).
#ifndef NT_READER_H_INCLUDED
#define NT_READER_H_INCLUDED

#include "nt_rules.h"
#include <pthread.h>

typedef struct {
    const jobd_host_t *host;
    const char *name; //  the channel's name (borrowed: it must outlive the actor)
    const nt_channel_type_t *type;
    void *channel; //  the channel's open state, used only by the actor while it runs
    const nt_rules_t *rules;
    const char *link;    //  the link template, or ""
    int64_t final_wait;  //  ms
    int64_t backoff_max; //  ms
    //  Cluster mode (ABI 1.9): the readers of one channel share it, and deliver one at a time.
    pthread_mutex_t *lock;
    //  -1: the transition log. Else the changelog partition it reads while this instance owns
    //  it (plog_read), with its cursor in the changelog (stream "changelog/<partition>").
    int partition;
    //  The transition log's stale events only (cluster mode: the partitions' readers send the
    //  transitions).
    bool stale_only;
} nt_reader_config_t;

//  Starts the reader of one channel (config is copied; what it points to is borrowed).
//  zactor_destroy stops it (after the delivery in progress, if any).
zactor_t *nt_reader_new (const nt_reader_config_t *config);

#endif
