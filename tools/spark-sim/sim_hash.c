//  sim_hash: a chained hash table from copied string keys to borrowed items.
#include "sim.h"

#include <stdlib.h>
#include <string.h>

typedef struct _s_entry_t s_entry_t;
struct _s_entry_t {
    s_entry_t *next;
    uint64_t hash;
    void *item;
    char key[]; //  the key lives in the entry: one allocation each
};

struct _sim_hash_t {
    s_entry_t **buckets;
    size_t nbuckets; //  a power of two
    size_t size;
};

//  FNV-1a: short keys, no adversaries.
static uint64_t
s_hash (const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

sim_hash_t *
sim_hash_new (void)
{
    sim_hash_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->nbuckets = 64;
    self->buckets = calloc (self->nbuckets, sizeof *self->buckets);
    if (!self->buckets) {
        free (self);
        return NULL;
    }
    return self;
}

void
sim_hash_destroy (sim_hash_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_hash_t *self = *self_p;
    for (size_t i = 0; i < self->nbuckets; i++) {
        s_entry_t *e = self->buckets[i];
        while (e) {
            s_entry_t *next = e->next;
            free (e);
            e = next;
        }
    }
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

static void
s_grow (sim_hash_t *self)
{
    size_t n = self->nbuckets * 2;
    s_entry_t **buckets = calloc (n, sizeof *buckets);
    if (!buckets)
        return; //  stay at the old size: slower, still correct
    for (size_t i = 0; i < self->nbuckets; i++) {
        s_entry_t *e = self->buckets[i];
        while (e) {
            s_entry_t *next = e->next;
            size_t b = e->hash & (n - 1);
            e->next = buckets[b];
            buckets[b] = e;
            e = next;
        }
    }
    free (self->buckets);
    self->buckets = buckets;
    self->nbuckets = n;
}

static s_entry_t **
s_find (sim_hash_t *self, const char *key, uint64_t hash)
{
    s_entry_t **link = &self->buckets[hash & (self->nbuckets - 1)];
    while (*link && ((*link)->hash != hash || strcmp ((*link)->key, key) != 0))
        link = &(*link)->next;
    return link;
}

int
sim_hash_insert (sim_hash_t *self, const char *key, void *item)
{
    uint64_t hash = s_hash (key);
    s_entry_t **link = s_find (self, key, hash);
    if (*link) {
        (*link)->item = item;
        return 0;
    }
    size_t len = strlen (key);
    s_entry_t *e = malloc (sizeof *e + len + 1);
    if (!e)
        abort ();
    memcpy (e->key, key, len + 1);
    e->hash = hash;
    e->item = item;
    e->next = NULL;
    *link = e;
    if (++self->size > self->nbuckets)
        s_grow (self);
    return 0;
}

void *
sim_hash_lookup (sim_hash_t *self, const char *key)
{
    s_entry_t *e = *s_find (self, key, s_hash (key));
    return e ? e->item : NULL;
}

void *
sim_hash_delete (sim_hash_t *self, const char *key)
{
    s_entry_t **link = s_find (self, key, s_hash (key));
    s_entry_t *e = *link;
    if (!e)
        return NULL;
    void *item = e->item;
    *link = e->next;
    free (e);
    self->size--;
    return item;
}

size_t
sim_hash_size (sim_hash_t *self)
{
    return self->size;
}

void
sim_hash_foreach (sim_hash_t *self, void (*fn) (const char *key, void *item, void *arg), void *arg)
{
    for (size_t i = 0; i < self->nbuckets; i++)
        for (s_entry_t *e = self->buckets[i]; e; e = e->next)
            fn (e->key, e->item, arg);
}
