//  The structural check of LMDB's data file: every page reachable from the meta page, read with
//  pread and checked before any of its offsets is used. The layout is LMDB 0.9's (mdb.c:
//  MDB_page, MDB_node, MDB_db, MDB_meta) on a 64-bit machine; see store/README.md.
#include "jobd_store_verify.h"
#include "jobd_error.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_PAGEHDRSZ  16 //  mp_pgno (8), mp_pad (2), mp_flags (2), mp_lower, mp_upper (2 + 2)
#define S_NODESIZE   8  //  mn_lo, mn_hi, mn_flags, mn_ksize (2 each)
#define S_DB_SIZE    48 //  MDB_db
#define S_MAGIC      0xBEEFC0DEu
#define S_VERSION    1
#define S_MAX_DEPTH  32  //  LMDB's cursor stack
#define S_MAX_KEY    511 //  LMDB's default MDB_MAXKEYSIZE
#define S_P_BRANCH   0x01
#define S_P_LEAF     0x02
#define S_P_OVERFLOW 0x04
#define S_P_META     0x08
#define S_P_DIRTY    0x10
#define S_P_LEAF2    0x20
#define S_P_SUBP     0x40
#define S_F_BIGDATA  0x01
#define S_F_SUBDATA  0x02
#define S_F_DUPDATA  0x04
//  Database flags that change the key order: integer or reversed keys are not memcmp-ordered.
#define S_ORDER_FLAGS (MDB_REVERSEKEY | MDB_INTEGERKEY)
#define S_DUP_ORDER   (MDB_REVERSEDUP | MDB_INTEGERDUP | MDB_DUPFIXED)

typedef struct {
    uint32_t pad;
    uint16_t flags;
    uint16_t depth;
    uint64_t branch_pages;
    uint64_t leaf_pages;
    uint64_t overflow_pages;
    uint64_t entries;
    uint64_t root;
} s_db_t;

//  One walk: the file, the pages seen, and the report.
typedef struct {
    jobd_store_verify_read_fn *read_fn;
    void *arg;
    uint64_t file_size;
    uint32_t psize;
    uint64_t last_page;
    uint8_t *used; //  one bit per page: reached from a tree
    uint8_t *free; //  one bit per page: on the free list
    bool in_free;  //  walking the free list itself: its pages are checked against it after
    jobd_verify_report_t *report;
} s_walk_t;

//  One tree being walked, and what it must add up to.
typedef struct {
    const char *name;
    s_db_t db;
    bool dups;    //  a tree of duplicate values: keys only
    bool main;    //  the main database: its F_SUBDATA nodes are named databases
    bool is_free; //  LMDB's free list: its values are lists of free pages
    uint64_t branch_pages, leaf_pages, overflow_pages, entries;
} s_tree_t;

static int s_damage (s_walk_t *self, uint64_t page, const char *database, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_damage (s_walk_t *self, uint64_t page, const char *database, const char *format, ...)
{
    jobd_verify_report_t *report = self->report;
    if (!report->damaged) {
        report->damaged = true;
        report->page = page;
        snprintf (report->database, sizeof report->database, "%s", database ? database : "");
        va_list args;
        va_start (args, format);
        vsnprintf (report->problem, sizeof report->problem, format, args);
        va_end (args);
    }
    return JOBD_ECORRUPT;
}

static uint16_t
s_u16 (const uint8_t *at)
{
    uint16_t value;
    memcpy (&value, at, sizeof value);
    return value;
}

static uint32_t
s_u32 (const uint8_t *at)
{
    uint32_t value;
    memcpy (&value, at, sizeof value);
    return value;
}

static uint64_t
s_u64 (const uint8_t *at)
{
    uint64_t value;
    memcpy (&value, at, sizeof value);
    return value;
}

static s_db_t
s_db_read (const uint8_t *at)
{
    s_db_t db = {.pad = s_u32 (at),
                 .flags = s_u16 (at + 4),
                 .depth = s_u16 (at + 6),
                 .branch_pages = s_u64 (at + 8),
                 .leaf_pages = s_u64 (at + 16),
                 .overflow_pages = s_u64 (at + 24),
                 .entries = s_u64 (at + 32),
                 .root = s_u64 (at + 40)};
    return db;
}

static bool
s_bit (const uint8_t *bits, uint64_t page)
{
    return bits[page / 8] & (1u << (page % 8));
}

static void
s_set_bit (uint8_t *bits, uint64_t page)
{
    bits[page / 8] |= (uint8_t)(1u << (page % 8));
}

//  Reads page into buffer (psize bytes). Returns 0 or damage: a page past the end of the file.
static int
s_read_page (s_walk_t *self, uint64_t page, uint8_t *buffer, const char *database)
{
    long got = self->read_fn (self->arg, page * self->psize, buffer, self->psize);
    if (got < 0)
        return (int)got;
    if ((size_t)got != self->psize)
        return s_damage (self, page, database, "page %llu is past the end of the file",
                         (unsigned long long)page);
    return 0;
}

//  Claims pages [page, page + count) for tree: each may be reached once, and must not be free.
static int
s_claim (s_walk_t *self, uint64_t page, uint64_t count, const char *database)
{
    if (page < 2 || count == 0 || page > self->last_page || count - 1 > self->last_page - page)
        return s_damage (self, page, database,
                         "a reference to page %llu (%llu page(s)), outside pages 2..%llu in use",
                         (unsigned long long)page, (unsigned long long)count,
                         (unsigned long long)self->last_page);
    for (uint64_t at = page; at < page + count; at++) {
        if (s_bit (self->used, at))
            return s_damage (self, at, database,
                             "page %llu is reached twice (a loop or a cross-linked page)",
                             (unsigned long long)at);
        if (!self->in_free && s_bit (self->free, at))
            return s_damage (self, at, database, "page %llu is in use and on the free list",
                             (unsigned long long)at);
        s_set_bit (self->used, at);
    }
    return 0;
}

//  Compares two keys as LMDB's default order does: bytes, then the shorter first.
static int
s_key_compare (const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size)
{
    int order = memcmp (a, b, a_size < b_size ? a_size : b_size);
    if (order)
        return order;
    return a_size < b_size ? -1 : a_size > b_size;
}

static int s_tree (s_walk_t *self, s_tree_t *tree);

//  Marks the pages of a free list entry (an IDL: a count, then page numbers) as free.
static int
s_free_list (s_walk_t *self, s_tree_t *tree, uint64_t page, const uint8_t *data, size_t size)
{
    if (size < 8 || size % 8)
        return s_damage (self, page, tree->name, "a free list entry of %zu bytes", size);
    //  A record may have been reserved larger than the list it holds.
    uint64_t count = s_u64 (data);
    if (count > size / 8 - 1)
        return s_damage (self, page, tree->name, "a free list entry counts %llu pages in %zu bytes",
                         (unsigned long long)count, size);
    for (uint64_t index = 1; index <= count; index++) {
        uint64_t free_page = s_u64 (data + 8 * index);
        if (free_page < 2 || free_page > self->last_page)
            return s_damage (self, page, tree->name, "the free list names page %llu, not in use",
                             (unsigned long long)free_page);
        if (!s_bit (self->free, free_page))
            self->report->free_pages++;
        s_set_bit (self->free, free_page);
    }
    return 0;
}

//  Checks the overflow pages of a large value of size bytes at page. The run may be longer than
//  the value needs (LMDB rewrites a shorter value in place). When out is not NULL, the value is
//  read into it (the free list needs its page numbers).
static int
s_overflow (s_walk_t *self, s_tree_t *tree, uint64_t page, uint64_t size, uint8_t *out)
{
    uint64_t needed = (size + S_PAGEHDRSZ + self->psize - 1) / self->psize;
    uint8_t header[S_PAGEHDRSZ];
    if (page < 2 || page > self->last_page)
        return s_claim (self, page, needed, tree->name);
    long got = self->read_fn (self->arg, page * self->psize, header, sizeof header);
    if (got < 0)
        return (int)got;
    uint16_t flags = got == sizeof header ? s_u16 (header + 10) & ~S_P_DIRTY : 0;
    uint64_t count = got == sizeof header ? s_u32 (header + 12) : 0;
    if (got != sizeof header || s_u64 (header) != page || flags != S_P_OVERFLOW || count < needed)
        return s_damage (self, page, tree->name,
                         "page %llu should start %llu overflow page(s) of a %llu-byte value, but "
                         "its header says page %llu, flags 0x%x, %llu page(s)",
                         (unsigned long long)page, (unsigned long long)needed,
                         (unsigned long long)size, (unsigned long long)s_u64 (header), flags,
                         (unsigned long long)count);
    int rc = s_claim (self, page, count, tree->name);
    if (rc)
        return rc;
    if ((page + count) * self->psize > self->file_size)
        return s_damage (self, page, tree->name, "overflow pages %llu..%llu are past the file end",
                         (unsigned long long)page, (unsigned long long)(page + count - 1));
    if (out) {
        got = self->read_fn (self->arg, page * self->psize + S_PAGEHDRSZ, out, size);
        if (got < 0)
            return (int)got;
        if ((uint64_t)got != size)
            return s_damage (self, page, tree->name, "overflow pages past the file end");
    }
    tree->overflow_pages += count;
    if (self->report->page_fn)
        self->report->page_fn (page, JOBD_VERIFY_OVERFLOW, tree->name, self->report->page_arg);
    return 0;
}

//  The duplicates of one key held inside its leaf node (a sub-page): keys only, in order.
static int
s_sub_page (s_walk_t *self, s_tree_t *tree, uint64_t page, const uint8_t *sub, size_t size)
{
    if (size < S_PAGEHDRSZ)
        return s_damage (self, page, tree->name, "a %zu-byte page of duplicates", size);
    //  LMDB makes a sub-page with P_DIRTY set, and writes it as it is.
    uint16_t flags = s_u16 (sub + 10) & ~S_P_DIRTY, lower = s_u16 (sub + 12),
             upper = s_u16 (sub + 14);
    if (flags != (S_P_LEAF | S_P_SUBP) || lower < S_PAGEHDRSZ || (lower - S_PAGEHDRSZ) % 2 ||
        lower > upper || upper > size || lower == S_PAGEHDRSZ)
        return s_damage (self, page, tree->name,
                         "a page of duplicates with flags 0x%x, bounds %u..%u in %zu bytes", flags,
                         lower, upper, size);
    size_t count = (size_t)(lower - S_PAGEHDRSZ) / 2;
    const uint8_t *previous = NULL;
    size_t previous_size = 0;
    for (size_t index = 0; index < count; index++) {
        uint16_t offset = s_u16 (sub + S_PAGEHDRSZ + 2 * index);
        if (offset < upper || offset % 2 || (size_t)offset + S_NODESIZE > size)
            return s_damage (self, page, tree->name, "duplicate %zu at offset %u of %zu", index,
                             offset, size);
        const uint8_t *node = sub + offset;
        size_t key_size = s_u16 (node + 6);
        if (s_u16 (node + 4) != 0 || key_size > S_MAX_KEY || offset + S_NODESIZE + key_size > size)
            return s_damage (self, page, tree->name, "duplicate %zu of %zu bytes is damaged", index,
                             key_size);
        const uint8_t *key = node + S_NODESIZE;
        if (previous && !(tree->db.flags & S_DUP_ORDER) &&
            s_key_compare (previous, previous_size, key, key_size) >= 0)
            return s_damage (self, page, tree->name, "duplicates out of order");
        previous = key;
        previous_size = key_size;
    }
    tree->entries += count;
    return 0;
}

//  The value of leaf node index (flags, key, data of size bytes) on page.
static int
s_leaf_value (s_walk_t *self, s_tree_t *tree, uint64_t page, unsigned flags, const uint8_t *key,
              size_t key_size, const uint8_t *data, size_t size)
{
    if (flags & S_F_BIGDATA) {
        if (flags != S_F_BIGDATA || tree->dups)
            return s_damage (self, page, tree->name, "a large value with node flags 0x%x", flags);
        //  Its size comes from the damaged page too: no value is larger than the file holding it
        //  (checked before the free list's copy is allocated).
        if (size > self->file_size)
            return s_damage (self, page, tree->name,
                             "a large value of %zu bytes, more than the whole file (%llu)", size,
                             (unsigned long long)self->file_size);
        uint8_t *value = NULL;
        if (tree->is_free && !(value = (uint8_t *)malloc (size ? size : 1)))
            return -ENOMEM;
        int rc = s_overflow (self, tree, s_u64 (data), size, value);
        if (rc == 0 && tree->is_free)
            rc = s_free_list (self, tree, page, value, size);
        free (value);
        tree->entries++;
        return rc;
    }
    if (tree->is_free && flags == 0) {
        tree->entries++;
        return s_free_list (self, tree, page, data, size);
    }
    if (flags == 0) {
        tree->entries++;
        return 0;
    }
    if (size != S_DB_SIZE && flags & S_F_SUBDATA)
        return s_damage (self, page, tree->name, "a database record of %zu bytes", size);
    if (flags == S_F_SUBDATA && tree->main) {
        char name[64];
        size_t length = key_size < sizeof name - 1 ? key_size : sizeof name - 1;
        memcpy (name, key, length);
        name[length] = 0;
        for (size_t index = 0; index < length; index++)
            if (name[index] < 0x20 || name[index] > 0x7e)
                name[index] = '?';
        s_tree_t named = {.name = name, .db = s_db_read (data)};
        self->report->databases++;
        tree->entries++;
        int rc = s_tree (self, &named);
        self->report->entries += named.entries;
        return rc;
    }
    bool dupsort = tree->db.flags & MDB_DUPSORT;
    if (flags == (S_F_DUPDATA | S_F_SUBDATA) && dupsort) {
        char name[96];
        snprintf (name, sizeof name, "%s (duplicates)", tree->name);
        s_tree_t dups = {.name = name, .db = s_db_read (data), .dups = true};
        int rc = s_tree (self, &dups);
        //  A tree of duplicates counts its own pages; its entries are its key's.
        tree->entries += dups.entries;
        return rc;
    }
    if (flags == S_F_DUPDATA && dupsort)
        return s_sub_page (self, tree, page, data, size);
    return s_damage (self, page, tree->name, "a node with flags 0x%x in this database", flags);
}

//  One page of tree at level (0: the root), whose keys must not sort before low (when set).
static int
s_page (s_walk_t *self, s_tree_t *tree, uint64_t page, unsigned level, const uint8_t *low,
        size_t low_size)
{
    int rc = s_claim (self, page, 1, tree->name);
    if (rc)
        return rc;
    uint8_t *buffer = (uint8_t *)malloc (self->psize);
    if (!buffer)
        return -ENOMEM;
    rc = s_read_page (self, page, buffer, tree->name);
    bool leaf = level + 1 == tree->db.depth;
    uint16_t expected = leaf ? S_P_LEAF : S_P_BRANCH;
    uint16_t flags = s_u16 (buffer + 10) & ~S_P_DIRTY;
    uint16_t lower = s_u16 (buffer + 12), upper = s_u16 (buffer + 14);
    if (rc == 0 && s_u64 (buffer) != page)
        rc = s_damage (self, page, tree->name, "page %llu says it is page %llu",
                       (unsigned long long)page, (unsigned long long)s_u64 (buffer));
    if (rc == 0 && flags != expected)
        rc = s_damage (self, page, tree->name,
                       "page %llu has flags 0x%x where a %s page (level %u of %u) belongs",
                       (unsigned long long)page, flags, leaf ? "leaf" : "branch", level + 1,
                       tree->db.depth);
    if (rc == 0 &&
        (lower <= S_PAGEHDRSZ || (lower - S_PAGEHDRSZ) % 2 || lower > upper || upper > self->psize))
        rc = s_damage (self, page, tree->name, "page %llu has free space bounds %u..%u",
                       (unsigned long long)page, lower, upper);
    if (rc == 0) {
        if (leaf)
            tree->leaf_pages++;
        else
            tree->branch_pages++;
    }
    size_t count = rc ? 0 : (size_t)(lower - S_PAGEHDRSZ) / 2;
    bool ordered = !(tree->db.flags & (tree->dups ? S_DUP_ORDER : S_ORDER_FLAGS)) && !tree->is_free;
    const uint8_t *previous = low;
    size_t previous_size = low_size;
    for (size_t index = 0; rc == 0 && index < count; index++) {
        uint16_t offset = s_u16 (buffer + S_PAGEHDRSZ + 2 * index);
        if (offset < upper || offset % 2 || (size_t)offset + S_NODESIZE > self->psize) {
            rc = s_damage (self, page, tree->name, "page %llu: node %zu at offset %u",
                           (unsigned long long)page, index, offset);
            break;
        }
        const uint8_t *node = buffer + offset;
        uint64_t lo = s_u16 (node), hi = s_u16 (node + 2), node_flags = s_u16 (node + 4);
        size_t key_size = s_u16 (node + 6);
        const uint8_t *key = node + S_NODESIZE;
        size_t end = offset + S_NODESIZE + key_size;
        size_t data_size = leaf ? (size_t)(lo | hi << 16) : 0;
        size_t stored = leaf ? (node_flags & S_F_BIGDATA ? 8 : data_size) : 0;
        if (key_size > S_MAX_KEY || end + stored > self->psize) {
            rc = s_damage (self, page, tree->name,
                           "page %llu: node %zu (key %zu bytes, value %zu) runs past the page",
                           (unsigned long long)page, index, key_size, stored);
            break;
        }
        //  A branch's first key is empty: its subtree starts at the parent's bound.
        bool has_key = leaf || index > 0;
        if (has_key && ordered && previous &&
            s_key_compare (previous, previous_size, key, key_size) >= (index == 0 ? 1 : 0)) {
            rc = s_damage (self, page, tree->name, "page %llu: key %zu is out of order",
                           (unsigned long long)page, index);
            break;
        }
        if (has_key) {
            previous = key;
            previous_size = key_size;
        }
        if (leaf)
            rc = s_leaf_value (self, tree, page, (unsigned)node_flags, key, key_size,
                               key + key_size, data_size);
        else
            rc = s_page (self, tree, lo | hi << 16 | node_flags << 32, level + 1,
                         has_key ? key : low, has_key ? key_size : low_size);
    }
    if (rc == 0 && self->report->page_fn)
        self->report->page_fn (page, leaf ? JOBD_VERIFY_LEAF : JOBD_VERIFY_BRANCH, tree->name,
                               self->report->page_arg);
    free (buffer);
    return rc;
}

//  A whole tree from its database record: the pages walked must add up to what it records.
static int
s_tree (s_walk_t *self, s_tree_t *tree)
{
    const s_db_t *db = &tree->db;
    if (db->root == (uint64_t)-1) {
        if (db->depth || db->entries || db->branch_pages || db->leaf_pages || db->overflow_pages)
            return s_damage (self, UINT64_MAX, tree->name,
                             "database '%s' has no root page but records %llu entries", tree->name,
                             (unsigned long long)db->entries);
        return 0;
    }
    if (db->depth == 0 || db->depth > S_MAX_DEPTH)
        return s_damage (self, db->root, tree->name, "database '%s' records a depth of %u",
                         tree->name, db->depth);
    if (tree->dups && db->flags & ~(MDB_REVERSEKEY | MDB_INTEGERKEY))
        return s_damage (self, db->root, tree->name, "a database of duplicates with flags 0x%x",
                         db->flags);
    int rc = s_page (self, tree, db->root, 0, NULL, 0);
    if (rc)
        return rc;
    self->report->branch_pages += tree->branch_pages;
    self->report->leaf_pages += tree->leaf_pages;
    self->report->overflow_pages += tree->overflow_pages;
    if (tree->entries != db->entries)
        return s_damage (self, db->root, tree->name,
                         "database '%s' records %llu entries, its pages hold %llu", tree->name,
                         (unsigned long long)db->entries, (unsigned long long)tree->entries);
    if (tree->branch_pages != db->branch_pages || tree->leaf_pages != db->leaf_pages ||
        tree->overflow_pages != db->overflow_pages)
        return s_damage (
            self, db->root, tree->name,
            "database '%s' records %llu/%llu/%llu branch/leaf/overflow pages, "
            "walked %llu/%llu/%llu",
            tree->name, (unsigned long long)db->branch_pages, (unsigned long long)db->leaf_pages,
            (unsigned long long)db->overflow_pages, (unsigned long long)tree->branch_pages,
            (unsigned long long)tree->leaf_pages, (unsigned long long)tree->overflow_pages);
    return 0;
}

//  Reads and checks meta page index (0 or 1) into meta (the page's first 152 bytes): what LMDB
//  checks before it uses either. The last page is checked on the meta page walked only: while
//  jobd writes, the other one may name pages past the file's size as last seen.
static int
s_meta (s_walk_t *self, unsigned index, uint32_t psize, uint8_t *meta)
{
    long got = self->read_fn (self->arg, (uint64_t)index * psize, meta, 152);
    if (got < 0)
        return (int)got;
    if (got != 152)
        return s_damage (self, index, "meta", "meta page %u is past the end of the file", index);
    uint16_t flags = s_u16 (meta + 10) & ~S_P_DIRTY;
    if (s_u64 (meta) != index || flags != S_P_META)
        return s_damage (self, index, "meta", "meta page %u says page %llu, flags 0x%x", index,
                         (unsigned long long)s_u64 (meta), flags);
    if (s_u32 (meta + 16) != S_MAGIC || s_u32 (meta + 20) != S_VERSION)
        return s_damage (self, index, "meta",
                         "meta page %u has magic 0x%x version %u: not an LMDB 0.9 page", index,
                         s_u32 (meta + 16), s_u32 (meta + 20));
    uint32_t page_size = s_u32 (meta + 40);
    if (page_size != psize)
        return s_damage (self, index, "meta", "meta page %u records a page size of %u", index,
                         page_size);
    return 0;
}

//  Reads both meta pages and picks the one of txnid (0: the newer; -EAGAIN when neither holds
//  it any more: a writer committed twice since). Fills self->psize, self->last_page, the two
//  database records and the report's header fields.
static int
s_metas (s_walk_t *self, uint64_t txnid, s_db_t *free_db, s_db_t *main_db)
{
    uint8_t metas[2][152];
    long got = self->read_fn (self->arg, 0, metas[0], sizeof metas[0]);
    if (got < 0)
        return (int)got;
    uint32_t psize = got == sizeof metas[0] ? s_u32 (metas[0] + 40) : 0;
    if (psize < 512 || psize > 65536 || (psize & (psize - 1)))
        return s_damage (self, 0, "meta", "meta page 0 records a page size of %u", psize);
    self->psize = psize;
    self->report->page_size = psize;
    int rc = s_meta (self, 0, psize, metas[0]);
    if (rc == 0)
        rc = s_meta (self, 1, psize, metas[1]);
    if (rc)
        return rc;
    unsigned pick = s_u64 (metas[1] + 144) > s_u64 (metas[0] + 144);
    if (txnid) {
        if (s_u64 (metas[0] + 144) != txnid && s_u64 (metas[1] + 144) != txnid)
            return -EAGAIN;
        pick = s_u64 (metas[1] + 144) == txnid;
    }
    const uint8_t *meta = metas[pick];
    uint64_t last = s_u64 (meta + 136);
    if (last < 1 || last >= self->file_size / psize)
        return s_damage (self, pick, "meta",
                         "meta page %u says the last page is %llu, the file holds %llu", pick,
                         (unsigned long long)last, (unsigned long long)(self->file_size / psize));
    self->last_page = last;
    self->report->last_page = last;
    self->report->txnid = s_u64 (meta + 144);
    *free_db = s_db_read (meta + 40);
    *main_db = s_db_read (meta + 88);
    if (self->report->page_fn) {
        self->report->page_fn (0, JOBD_VERIFY_META, "meta", self->report->page_arg);
        self->report->page_fn (1, JOBD_VERIFY_META, "meta", self->report->page_arg);
    }
    return 0;
}

int
jobd_store_verify_image (jobd_store_verify_read_fn *read_fn, void *arg, uint64_t file_size,
                         uint64_t txnid, jobd_verify_report_t *report)
{
    s_walk_t self = {.read_fn = read_fn, .arg = arg, .file_size = file_size, .report = report};
    s_db_t free_db, main_db;
    int rc = s_metas (&self, txnid, &free_db, &main_db);
    if (rc)
        return rc;
    size_t bitmap = (size_t)(self.last_page / 8 + 1);
    self.used = (uint8_t *)calloc (1, bitmap);
    self.free = (uint8_t *)calloc (1, bitmap);
    if (!self.used || !self.free)
        rc = -ENOMEM;
    //  The free list first, so that a page both free and in use is caught where it is used.
    //  Its database record holds the environment's flags: only its shape counts.
    free_db.flags = MDB_INTEGERKEY;
    s_tree_t free_tree = {.name = "free", .db = free_db, .is_free = true};
    s_tree_t main_tree = {.name = "main", .db = main_db, .main = true};
    self.in_free = true;
    if (rc == 0)
        rc = s_tree (&self, &free_tree);
    self.in_free = false;
    for (uint64_t page = 2; rc == 0 && page <= self.last_page; page++)
        if (s_bit (self.used, page) && s_bit (self.free, page))
            rc = s_damage (&self, page, "free", "page %llu holds the free list and is on it",
                           (unsigned long long)page);
    if (rc == 0)
        rc = s_tree (&self, &main_tree);
    report->entries += main_tree.entries;
    free (self.used);
    free (self.free);
    return rc;
}

static long
s_pread (void *arg, uint64_t offset, void *buffer, size_t size)
{
    int fd = *(int *)arg;
    size_t done = 0;
    while (done < size) {
        ssize_t got = pread (fd, (char *)buffer + done, size - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (long)done;
}

int
jobd_store_verify_structure (const char *path, jobd_verify_report_t *report)
{
    snprintf (report->file, sizeof report->file, "%s/data.mdb", path);
    int fd = open (report->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        snprintf (report->problem, sizeof report->problem, "%s", strerror (errno));
        return rc;
    }
    //  A read transaction pins the snapshot walked: its pages are not reused while it lives.
    //  When LMDB cannot open the file, the walk finds out why, on the newest meta page.
    MDB_env *env = NULL;
    if (mdb_env_create (&env) || mdb_env_open (env, path, MDB_RDONLY | MDB_NOTLS, 0600)) {
        mdb_env_close (env);
        env = NULL;
    }
    int rc = -EAGAIN;
    for (int attempt = 0; attempt < 100 && rc == -EAGAIN; attempt++) {
        MDB_txn *txn = NULL;
        uint64_t txnid = 0;
        if (env && mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) == 0)
            txnid = mdb_txn_id (txn);
        //  The size after the snapshot began: every page it names is in the file.
        struct stat status;
        rc = fstat (fd, &status) ? -errno : 0;
        if (rc == 0)
            rc = jobd_store_verify_image (s_pread, &fd, (uint64_t)status.st_size, txnid, report);
        if (txn)
            mdb_txn_abort (txn);
    }
    if (env)
        mdb_env_close (env);
    close (fd);
    if (rc && rc != JOBD_ECORRUPT)
        snprintf (report->problem, sizeof report->problem, "%s", strerror (-rc));
    return rc;
}
