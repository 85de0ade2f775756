//  spark-poller: a list reply read as it arrives. A backend's list is one array of jobs inside a
//  few objects ({"apps":{"app":[...]}}); this reader walks down to the array through a growing
//  body and hands each job's object to a parse function as soon as it is whole, so that reading
//  a list of 100,000 jobs overlaps its transfer instead of following it. A whole body is the
//  same with one feed. Every byte it reads is checked as sp_jscan_check does; a caller that must
//  not act on part of a broken body keeps what it gets until the last feed returns 0.
#ifndef SP_JLIST_H_INCLUDED
#define SP_JLIST_H_INCLUDED

#include "sp_jscan.h"
#include "sp_status.h" //  typedefs sp_jlist_shape_t

//  Where the array is and what a reply must have.
struct sp_jlist_shape_t {
    int levels;             //  objects around the array: 0 (the body is the array), 1 or 2
    const char *keys[2][3]; //  keys[level]: the member names that lead on (NULL-ended)
    const char *capture;    //  an integer member of the outermost object to keep, or NULL
    enum {
        SP_JLIST_ANY,  //  any body of that shape, even with no array
        SP_JLIST_KEY,  //  the outermost object must have a leading key (any value)
        SP_JLIST_ARRAY //  ... whose value is the container expected
    } required;
    bool (*parse) (const sp_jobject_t *object, sp_status_t *status); //  false: skip the object
};

typedef struct {
    const sp_jlist_shape_t *shape;
    sp_status_fn *fn;
    void *arg;
    size_t at;       //  offset of the next unread byte
    size_t retry_at; //  a read that needed more is tried again once the body is this long
    int depth;       //  containers entered
    bool first;      //  inside a container, before its first member or element
    bool started, ended, stopped, key_seen, array_seen;
    int64_t captured; //  shape->capture's value, or 0
} sp_jlist_t;

//  Starts reading a list of that shape: fn gets each job's status (false stops the reading).
void sp_jlist_init (sp_jlist_t *self, const sp_jlist_shape_t *shape, sp_status_fn *fn, void *arg);

//  Reads what body (everything received so far: size bytes, at any address) adds since the last
//  call. complete: nothing more will come. Returns 0 (read whole, or stopped, or waiting for
//  more when not complete), or JOBD_EPROTO when the body is not JSON or not of the shape.
int sp_jlist_feed (sp_jlist_t *self, const char *body, size_t size, bool complete);

#endif
