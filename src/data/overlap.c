// overlap: which evaluation items a training stream contains. A set of hashed n-grams of the
// training symbols (and of the m-grams for each short item length m < n), built once in time
// and memory linear in the training data; an item is then checked in time linear in its own
// length. See data.h for the rule.
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "tasks.h"

// splitmix64's finaliser: spreads a rolling hash over all 64 bits.
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The polynomial hash of s[0..m) mod 2^64 with an odd base, finalised; 0 is the empty slot,
// so a hash of 0 is stored as 1.
static const uint64_t BASE = 0x9e3779b97f4a7c15ULL;
static uint64_t fin(uint64_t h) { h = mix64(h); return h ? h : 1; }

static uint64_t pow_base(int m) {
    uint64_t p = 1;
    for (int i = 0; i < m; i++) p *= BASE;
    return p;
}

static size_t table_cap(size_t want) {  // a power of two with load <= 1/2
    size_t c = 64;
    while (c < 2 * want) c <<= 1;
    return c;
}

// Inserts h; returns 1 when it was new.
static int set_add(uint64_t *tab, size_t cap, uint64_t h) {
    size_t i = (size_t)h & (cap - 1);
    while (tab[i]) {
        if (tab[i] == h) return 0;
        i = (i + 1) & (cap - 1);
    }
    tab[i] = h;
    return 1;
}

static int set_has(const uint64_t *tab, size_t cap, uint64_t h) {
    size_t i = (size_t)h & (cap - 1);
    while (tab[i]) {
        if (tab[i] == h) return 1;
        i = (i + 1) & (cap - 1);
    }
    return 0;
}

// Every m-gram of s[0..len) into table k of ix.
static int index_grams(OverlapIndex *ix, int k, const uint32_t *s, size_t len, int m) {
    size_t grams = len >= (size_t)m ? len - (size_t)m + 1 : 0;
    ix->cap[k] = table_cap(grams);
    ix->tab[k] = calloc(ix->cap[k], sizeof(uint64_t));
    if (!ix->tab[k])
        return em_error("overlap index: out of memory for %zu %d-grams (%zu bytes)", grams, m,
                        ix->cap[k] * sizeof(uint64_t));
    uint64_t top = pow_base(m - 1), h = 0;
    for (size_t i = 0; i < len; i++) {
        if (i >= (size_t)m) h -= top * ((uint64_t)s[i - (size_t)m] + 1);
        h = h * BASE + (uint64_t)s[i] + 1;
        if (i + 1 >= (size_t)m) ix->count[k] += (size_t)set_add(ix->tab[k], ix->cap[k], fin(h));
    }
    return 0;
}

int overlap_build(OverlapIndex *ix, const uint32_t *train, size_t len, int n,
                  const int *short_lens, int n_short) {
    memset(ix, 0, sizeof *ix);
    if (n < 1 || n > OVERLAP_MAX_N)
        return em_error("overlap index: n = %d: expected 1 to %d", n, OVERLAP_MAX_N);
    ix->n = n;
    ix->n_tokens = len;
    if (index_grams(ix, 0, train, len, n)) return -1;
    for (int j = 0; j < n_short; j++) {
        int m = short_lens[j], seen = m == n;
        if (m < 1 || m > n) {
            overlap_free(ix);
            return em_error("overlap index: item length %d: expected 1 to n = %d", m, n);
        }
        for (int i = 0; i < ix->n_short; i++) seen |= ix->lens[i] == m;
        if (seen) continue;
        if (ix->n_short == OVERLAP_MAX_SHORT) {
            overlap_free(ix);
            return em_error("overlap index: more than %d distinct item lengths below n = %d",
                            OVERLAP_MAX_SHORT, n);
        }
        ix->lens[ix->n_short] = m;
        if (index_grams(ix, 1 + ix->n_short, train, len, m)) { overlap_free(ix); return -1; }
        ix->n_short++;
    }
    return 0;
}

size_t overlap_bytes(const OverlapIndex *ix) {
    size_t b = 0;
    for (int k = 0; k <= ix->n_short; k++) b += ix->cap[k] * sizeof(uint64_t);
    return b;
}

int overlap_check(const OverlapIndex *ix, const uint32_t *s, int len, unsigned char *covered) {
    if (covered) memset(covered, 0, (size_t)(len > 0 ? len : 0));
    if (len <= 0) return 0;
    if (len < ix->n) {  // whole-item matching
        int k = -1;
        for (int i = 0; i < ix->n_short; i++) if (ix->lens[i] == len) k = 1 + i;
        if (k < 0)
            return em_error("overlap index: an item of %d symbols, below n = %d, but no "
                            "whole-item table of that length was built", len, ix->n);
        uint64_t h = 0;
        for (int i = 0; i < len; i++) h = h * BASE + (uint64_t)s[i] + 1;
        int hit = set_has(ix->tab[k], ix->cap[k], fin(h));
        if (hit && covered) memset(covered, 1, (size_t)len);
        return hit;
    }
    int n = ix->n, dirty = 0;
    uint64_t top = pow_base(n - 1), h = 0;
    for (int i = 0; i < len; i++) {
        if (i >= n) h -= top * ((uint64_t)s[i - n] + 1);
        h = h * BASE + (uint64_t)s[i] + 1;
        if (i + 1 >= n && set_has(ix->tab[0], ix->cap[0], fin(h))) {
            dirty = 1;
            if (covered) memset(covered + i + 1 - n, 1, (size_t)n);
        }
    }
    return dirty;
}

void overlap_free(OverlapIndex *ix) {
    for (int k = 0; k <= OVERLAP_MAX_SHORT; k++) free(ix->tab[k]);
    memset(ix, 0, sizeof *ix);
}

// ---- symbols: code points, so that training streams and items compare as characters ----

static size_t put_utf8(uint32_t *s, const char *t, size_t len) {
    const unsigned char *u = (const unsigned char *)t;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int k = utf8_decode(u + i, len - i, &cp);
        if (k == 0) { cp = 0xFFFD; k = 1; }  // an invalid byte: a symbol no item holds
        s[n++] = cp;
        i += (size_t)k;
    }
    return n;
}

uint32_t *overlap_train_symbols(const TokenData *d, const Tokenizer *tok, size_t *len) {
    if (d->shards) {  // token shards: their train ids, read into memory for the index
        size_t n;
        int *ids = shards_part_ids(d->shards, 0, &n);
        TokenData t = {.tokens = ids, .n = n, .split = n};
        uint32_t *s = overlap_train_symbols(&t, tok, len);
        free(ids);
        return s;
    }
    if (tok->kind == TOK_CHAR) {  // one code point per token
        uint32_t *s = xmalloc((d->split ? d->split : 1) * sizeof *s);
        for (size_t i = 0; i < d->split; i++) s[i] = tok->chars[d->tokens[i]];
        *len = d->split;
        return s;
    }
    char *text = tok_decode(tok, d->tokens, d->split);  // other tokenizers: through the text
    size_t bytes = strlen(text);
    uint32_t *s = xmalloc((bytes ? bytes : 1) * sizeof *s);
    *len = put_utf8(s, text, bytes);
    free(text);
    return s;
}

static void put_text(uint32_t *s, int *n, const char *t) {
    *n += (int)put_utf8(s + *n, t, strlen(t));
}

uint32_t *overlap_item_symbols(const TaskSet *ts, const TaskItem *it, int *len) {
    size_t cap = strlen(it->prompt) + strlen(ts->answer_prefix) + strlen(it->target) +
                 strlen(ts->stop) + (it->scratch ? strlen(it->scratch) : 0) + 1;
    uint32_t *s = xmalloc(cap * sizeof *s);
    int n = 0;
    put_text(s, &n, it->prompt);
    put_text(s, &n, ts->answer_prefix);
    if (it->scratch) put_text(s, &n, it->scratch);
    put_text(s, &n, it->target);
    put_text(s, &n, ts->stop);
    *len = n;
    return s;
}

// ---- a task set checked against an index ----------------------------------------------

int overlap_short_lengths(const TaskSet *const *sets, int n_sets, int n, int *lens, int cap,
                          int *n_lens) {
    *n_lens = 0;
    for (int t = 0; t < n_sets; t++)
        for (int i = 0; i < sets[t]->n; i++) {
            int len;
            free(overlap_item_symbols(sets[t], &sets[t]->items[i], &len));
            if (len >= n || len < 1) continue;
            int seen = 0;
            for (int j = 0; j < *n_lens; j++) seen |= lens[j] == len;
            if (seen) continue;
            if (*n_lens == cap)
                return em_error("%s: items of more than %d different lengths below n = %d: "
                                "choose a smaller n", sets[t]->name, cap, n);
            lens[(*n_lens)++] = len;
        }
    return 0;
}

int overlap_check_set(const OverlapIndex *ix, const TaskSet *ts, OverlapReport *r) {
    memset(r, 0, sizeof *r);
    r->n_items = ts->n;
    r->dirty = xcalloc((size_t)(ts->n ? ts->n : 1), 1);
    r->spans = xcalloc((size_t)(ts->n ? ts->n : 1), sizeof *r->spans);
    r->n_spans = xcalloc((size_t)(ts->n ? ts->n : 1), sizeof *r->n_spans);
    for (int i = 0; i < ts->n; i++) {
        int len;
        uint32_t *s = overlap_item_symbols(ts, &ts->items[i], &len);
        unsigned char *cov = xmalloc((size_t)len + 1);
        int d = overlap_check(ix, s, len, cov);
        free(s);
        if (d < 0) { free(cov); overlap_report_free(r); return -1; }
        r->n_whole += len < ix->n;
        r->dirty[i] = (unsigned char)d;
        r->n_dirty += d;
        for (int a = 0; d && a < len;) {  // the covered runs as [start, end) pairs
            if (!cov[a]) { a++; continue; }
            int b = a;
            while (b < len && cov[b]) b++;
            r->spans[i] = xrealloc(r->spans[i], (size_t)(r->n_spans[i] + 1) * 2 * sizeof(int));
            r->spans[i][2 * r->n_spans[i]] = a;
            r->spans[i][2 * r->n_spans[i] + 1] = b;
            r->n_spans[i]++;
            a = b;
        }
        free(cov);
    }
    return 0;
}

void overlap_report_free(OverlapReport *r) {
    for (int i = 0; r->spans && i < r->n_items; i++) free(r->spans[i]);
    free(r->spans);
    free(r->n_spans);
    free(r->dirty);
    memset(r, 0, sizeof *r);
}

int overlap_flags(const uint32_t *train, size_t len, int n, const TaskSet *ts,
                  unsigned char *dirty, int *n_dirty) {
    int lens[OVERLAP_MAX_SHORT], nl;
    OverlapIndex ix;
    OverlapReport r;
    if (overlap_short_lengths(&ts, 1, n, lens, OVERLAP_MAX_SHORT, &nl) ||
        overlap_build(&ix, train, len, n, lens, nl))
        return -1;
    int rc = overlap_check_set(&ix, ts, &r);
    overlap_free(&ix);
    if (rc) return -1;
    memcpy(dirty, r.dirty, (size_t)ts->n);
    if (n_dirty) *n_dirty = r.n_dirty;
    overlap_report_free(&r);
    return 0;
}
