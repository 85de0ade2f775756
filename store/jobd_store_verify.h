//  Checking a store: a walk of LMDB's data file that trusts none of its pages, and a pass over
//  every stored value. LMDB itself trusts its pages: a damaged branch or leaf page can make it
//  crash inside the library. This walk reads the file with bounds checks only, so that jobd can
//  refuse a damaged store at start-up instead of crashing on it later, again after every restart.
#ifndef JOBD_STORE_VERIFY_H_INCLUDED
#define JOBD_STORE_VERIFY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Kinds of page, as jobd_store_verify_page_fn sees them.
typedef enum {
    JOBD_VERIFY_META = 0,
    JOBD_VERIFY_BRANCH,
    JOBD_VERIFY_LEAF,
    JOBD_VERIFY_OVERFLOW
} jobd_verify_page_t;

//  Called for each page in use, once the page was checked: its number, its kind, and the
//  database it belongs to ("main", "free", or a named database). For tests and tools.
typedef void (jobd_store_verify_page_fn) (uint64_t page, jobd_verify_page_t kind,
                                          const char *database, void *arg);

//  What a check found. Zero it, then optionally set page_fn and page_arg.
typedef struct {
    bool damaged;          //  a problem was found (the first one is described below)
    uint64_t page;         //  the page it is on (UINT64_MAX: not one page: the file, a count)
    char database[64];     //  the database it belongs to, or ""
    char file[512];        //  the data file checked
    char problem[512];     //  what is wrong (or why the file cannot be read)
    uint64_t txnid;        //  the transaction of the meta page walked
    uint32_t page_size;    //  LMDB's page size in the file
    uint64_t last_page;    //  the last page in use
    uint64_t branch_pages; //  pages walked, by kind
    uint64_t leaf_pages;   //
    uint64_t overflow_pages;
    uint64_t free_pages; //  pages on LMDB's free list
    uint64_t entries;    //  key/value pairs, in every database
    uint64_t databases;  //  named databases
    uint64_t values;     //  values decoded (jobd_store_verify_values)
    jobd_store_verify_page_fn *page_fn;
    void *page_arg;
} jobd_verify_report_t;

//  Reads size bytes at offset into buffer. Returns the bytes read (fewer at the end of the
//  file), or a negative error.
typedef long (jobd_store_verify_read_fn) (void *arg, uint64_t offset, void *buffer, size_t size);

//  Walks the page structure of an LMDB data file read through read_fn: both meta pages, then
//  every page of every database reachable from the meta page of transaction txnid (0: the
//  newest), the free list, and the overflow pages of large values. Every offset, size, page
//  number, page kind, depth and key order is checked before it is used; a page reached twice
//  is damage. Returns 0 (report->damaged false), JOBD_ECORRUPT (report says where and what),
//  -EAGAIN (txnid is on neither meta page any more: a writer committed twice since), or -ENOMEM /
//  a read error. Never trusts the file: safe on any bytes.
int jobd_store_verify_image (jobd_store_verify_read_fn *read_fn, void *arg, uint64_t file_size,
                             uint64_t txnid, jobd_verify_report_t *report);

//  Walks the page structure of the store in folder path (its data.mdb), as
//  jobd_store_verify_image. When LMDB can open it, a read transaction holds the snapshot walked,
//  so jobd may write meanwhile. Returns 0, JOBD_ECORRUPT, -ENOENT (no data.mdb), or another
//  negative error; report->problem names the file.
int jobd_store_verify_structure (const char *path, jobd_verify_report_t *report);

//  Reads every stored value of the store in path through LMDB: each job record and history entry
//  decodes and fits its key, histories are contiguous up to the record's last_seq, every index
//  entry names a job that has that state or backend id. Call it only on a store whose structure
//  passed. Returns 0, JOBD_ECORRUPT (report says where), or another negative error.
int jobd_store_verify_values (const char *path, jobd_verify_report_t *report);

//  The whole check of the store in path: the structure, then (when it passed and values is
//  true) the values, in a child process, so that even a failure of LMDB itself is reported (as
//  damage, with where the child was) and never crashes the caller. Returns as
//  jobd_store_verify_values.
int jobd_store_verify (const char *path, bool values, jobd_verify_report_t *report);

#ifdef __cplusplus
}
#endif
#endif
