// Byte-level BPE: the vocabulary and merges, encoding with a cache, decoding.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/bpe_impl.h"

// ---- a map from byte strings to ints --------------------------------------------
static uint64_t hash_bytes(const void *key, size_t len) {  // FNV-1a, never 0
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h ? h : 1;
}

void bmap_init(BMap *m, size_t cap_hint) {
    memset(m, 0, sizeof *m);
    m->cap = 64;
    while (m->cap < 2 * cap_hint) m->cap *= 2;
    m->hash = xcalloc(m->cap, sizeof *m->hash);
    m->koff = xmalloc(m->cap * sizeof *m->koff);
    m->klen = xmalloc(m->cap * sizeof *m->klen);
    m->val = xmalloc(m->cap * sizeof *m->val);
}

void bmap_free(BMap *m) {
    free(m->hash);
    free(m->koff);
    free(m->klen);
    free(m->val);
    sb_free(&m->keys);
    memset(m, 0, sizeof *m);
}

static size_t bmap_slot(const BMap *m, uint64_t h, const void *key, size_t len) {
    size_t i = h & (m->cap - 1);
    while (m->hash[i] && !(m->hash[i] == h && m->klen[i] == len &&
                           !memcmp(m->keys.p + m->koff[i], key, len)))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static void bmap_grow(BMap *m) {
    BMap g = *m;
    g.cap = m->cap * 2;
    g.hash = xcalloc(g.cap, sizeof *g.hash);
    g.koff = xmalloc(g.cap * sizeof *g.koff);
    g.klen = xmalloc(g.cap * sizeof *g.klen);
    g.val = xmalloc(g.cap * sizeof *g.val);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->hash[i]) continue;
        size_t j = m->hash[i] & (g.cap - 1);
        while (g.hash[j]) j = (j + 1) & (g.cap - 1);
        g.hash[j] = m->hash[i];
        g.koff[j] = m->koff[i];
        g.klen[j] = m->klen[i];
        g.val[j] = m->val[i];
    }
    free(m->hash);
    free(m->koff);
    free(m->klen);
    free(m->val);
    *m = g;
}

int *bmap_put(BMap *m, const void *key, size_t len, int val, int *found) {
    if (2 * (m->n + 1) > m->cap) bmap_grow(m);
    uint64_t h = hash_bytes(key, len);
    size_t i = bmap_slot(m, h, key, len);
    *found = m->hash[i] != 0;
    if (!*found) {
        m->hash[i] = h;
        m->koff[i] = (uint32_t)m->keys.n;
        m->klen[i] = (uint32_t)len;
        m->val[i] = val;
        sb_put(&m->keys, key, len);
        m->n++;
    }
    return &m->val[i];
}

int bmap_get(const BMap *m, const void *key, size_t len) {
    if (!m->cap) return -1;
    size_t i = bmap_slot(m, hash_bytes(key, len), key, len);
    return m->hash[i] ? m->val[i] : -1;
}

// ---- merges: (left, right) -> rank ---------------------------------------------
static uint64_t pair_key(int a, int b) { return (uint64_t)(a + 1) << 32 | (uint32_t)(b + 1); }
static size_t pair_hash(uint64_t k, size_t cap) {
    return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static int pair_rank(const struct Bpe *b, int l, int r) {
    uint64_t k = pair_key(l, r);
    for (size_t i = pair_hash(k, b->pair_cap);; i = (i + 1) & (b->pair_cap - 1)) {
        if (b->pair_key[i] == k) return b->pair_rank[i];
        if (!b->pair_key[i]) return -1;
    }
}

// ---- building -------------------------------------------------------------------
// The bytes a vocabulary string stands for: each code point through GPT-2's byte map;
// a string with a code point outside it is an added token standing for its own text.
static size_t string_bytes(const char *s, char *out, int *added) {
    size_t n = 0, len = strlen(s);
    *added = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int k = utf8_decode((const unsigned char *)s + i, len - i, &cp);
        int byte = k ? bpe_cp_byte(cp) : -1;
        if (byte < 0) { *added = 1; memcpy(out, s, len); return len; }
        out[n++] = (char)byte;
        i += k;
    }
    return n;
}

char *bpe_token_string(const struct Bpe *b, int id) {
    size_t a = b->off[id], n = b->off[id + 1] - a;
    char *s = xmalloc(2 * n + 1);
    size_t m = 0;
    if (b->added[id]) { memcpy(s, b->blob + a, n); m = n; }
    else for (size_t i = 0; i < n; i++) m += utf8_encode(bpe_byte_cp((unsigned char)b->blob[a + i]), s + m);
    s[m] = 0;
    return s;
}

static void bpe_free(struct Bpe *b) {
    if (!b) return;
    free(b->blob); free(b->off); free(b->added);
    free(b->left); free(b->right); free(b->merged);
    free(b->pair_key); free(b->pair_rank);
    bmap_free(&b->cache);
    free(b->cache_ids);
    free(b->w_id); free(b->w_next); free(b->w_prev); free(b->w_done); free(b->heap);
    free(b);
}

// "src: tokenizer.vocab[3]" or "src: \"tok\"", for messages.
static const char *where_vocab(char *buf, size_t n, const char *src, int json, int i,
                               const char *s) {
    if (json) snprintf(buf, n, "%s: tokenizer.vocab[%d]", src, i);
    else snprintf(buf, n, "%s: \"%.40s\"", src, s);
    return buf;
}
static const char *where_merge(char *buf, size_t n, const char *src, int json, int i) {
    if (json) snprintf(buf, n, "%s: tokenizer.merges[%d]", src, i);
    else snprintf(buf, n, "%s: line %d", src, i);
    return buf;
}

// One merges line "a b" -> the two token ids, or an error naming it.
static int parse_merge(const BMap *strs, const char *line, int *l, int *r, const char *w) {
    const char *sp = strchr(line, ' ');
    if (!sp || sp == line || !sp[1] || strchr(sp + 1, ' '))
        return em_error("%s: \"%.60s\": expected two symbols separated by one space", w, line);
    *l = bmap_get(strs, line, (size_t)(sp - line));
    *r = bmap_get(strs, sp + 1, strlen(sp + 1));
    if (*l < 0 || *r < 0)
        return em_error("%s: \"%.60s\": \"%.*s\" is not in the vocabulary", w, line,
                        *l < 0 ? (int)(sp - line) : (int)strlen(sp + 1),
                        *l < 0 ? line : sp + 1);
    return 0;
}

int bpe_build(Tokenizer *t, char **vocab, int n, char **merges, const int *lines, int nm,
              const char *src, const char *merge_src) {
    memset(t, 0, sizeof *t);
    int json = lines == NULL;
    char w[1400];
    if (n < 256) return em_error("%s: %d tokens: expected at least the 256 byte tokens", src, n);
    struct Bpe *b = xcalloc(1, sizeof *b);
    BMap strs;  // vocabulary string -> id
    bmap_init(&strs, (size_t)n);
    b->n = n;
    b->off = xmalloc(((size_t)n + 1) * sizeof *b->off);
    b->added = xcalloc((size_t)n, 1);
    StrBuf blob = {0};
    char tmp[4 * TOK_MAX_BYTES + 8];
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        size_t len = strlen(vocab[i]);
        int found, added;
        if (len == 0) { rc = em_error("%s: empty token", where_vocab(w, sizeof w, src, json, i, "")); break; }
        if (len > 4 * TOK_MAX_BYTES) {
            rc = em_error("%s: token %d is longer than %d bytes", where_vocab(w, sizeof w, src, json, i, vocab[i]), i, TOK_MAX_BYTES);
            break;
        }
        int *slot = bmap_put(&strs, vocab[i], len, i, &found);
        if (found) {
            rc = em_error("%s: token %d repeats token %d", where_vocab(w, sizeof w, src, json, i, vocab[i]), i, *slot);
            break;
        }
        size_t nb = string_bytes(vocab[i], tmp, &added);
        if (nb > TOK_MAX_BYTES) {
            rc = em_error("%s: token %d is %zu bytes, expected at most %d",
                          where_vocab(w, sizeof w, src, json, i, vocab[i]), i, nb, TOK_MAX_BYTES);
            break;
        }
        b->off[i] = (uint32_t)blob.n;
        b->added[i] = (unsigned char)added;
        sb_put(&blob, tmp, nb);
    }
    b->off[n] = (uint32_t)blob.n;
    b->blob = blob.p;
    for (int byte = 0; byte < 256 && !rc; byte++) {
        char s[4];
        int k = utf8_encode(bpe_byte_cp(byte), s);
        if ((b->byte_id[byte] = bmap_get(&strs, s, (size_t)k)) < 0)
            rc = em_error("%s: no token for the byte 0x%02X (\"%.*s\"): expected all 256 "
                          "byte tokens", src, byte, k, s);
    }
    b->n_merges = nm;
    b->left = xmalloc(((size_t)nm + 1) * sizeof(int));
    b->right = xmalloc(((size_t)nm + 1) * sizeof(int));
    b->merged = xmalloc(((size_t)nm + 1) * sizeof(int));
    b->pair_cap = 64;
    while (b->pair_cap < 2 * (size_t)nm) b->pair_cap *= 2;
    b->pair_key = xcalloc(b->pair_cap, sizeof *b->pair_key);
    b->pair_rank = xmalloc(b->pair_cap * sizeof *b->pair_rank);
    for (int r = 0; r < nm && !rc; r++) {
        int l = -1, rt = -1;
        where_merge(w, sizeof w, merge_src, json, json ? r : lines[r]);
        if (parse_merge(&strs, merges[r], &l, &rt, w)) { rc = -1; break; }
        size_t ll = strlen(vocab[l]), rl = strlen(vocab[rt]);
        char *cat = xmalloc(ll + rl + 1);
        memcpy(cat, vocab[l], ll);
        memcpy(cat + ll, vocab[rt], rl + 1);
        int m = bmap_get(&strs, cat, ll + rl);
        free(cat);
        if (m < 0) {
            rc = em_error("%s: \"%.60s\": the merged token is not in the vocabulary", w, merges[r]);
            break;
        }
        int prev = pair_rank(b, l, rt);
        if (prev >= 0) {
            rc = em_error("%s: \"%.60s\" repeats the merge of rank %d", w, merges[r], prev);
            break;
        }
        uint64_t k = pair_key(l, rt);
        size_t i = pair_hash(k, b->pair_cap);
        while (b->pair_key[i]) i = (i + 1) & (b->pair_cap - 1);
        b->pair_key[i] = k;
        b->pair_rank[i] = r;
        b->left[r] = l;
        b->right[r] = rt;
        b->merged[r] = m;
    }
    b->eot = bmap_get(&strs, "<|endoftext|>", 13);
    bmap_free(&strs);
    if (rc) { bpe_free(b); return -1; }
    bmap_init(&b->cache, 1024);
    t->kind = TOK_BPE;
    t->vocab_size = n;
    t->bpe = b;
    return 0;
}

// ---- encoding -------------------------------------------------------------------
// Binary min-heap of (rank << 32 | position).
static void heap_push(struct Bpe *b, size_t *n, uint64_t v) {
    if (*n == b->heap_cap) {
        b->heap_cap = b->heap_cap ? 2 * b->heap_cap : 64;
        b->heap = xrealloc(b->heap, b->heap_cap * sizeof *b->heap);
    }
    size_t i = (*n)++;
    while (i && b->heap[(i - 1) / 2] > v) { b->heap[i] = b->heap[(i - 1) / 2]; i = (i - 1) / 2; }
    b->heap[i] = v;
}
static uint64_t heap_pop(struct Bpe *b, size_t *n) {
    uint64_t top = b->heap[0], v = b->heap[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && b->heap[c + 1] < b->heap[c]) c++;
        if (b->heap[c] >= v) break;
        b->heap[i] = b->heap[c];
        i = c;
    }
    if (*n) b->heap[i] = v;
    return top;
}

static void push_pair(struct Bpe *b, size_t *hn, int p, int q) {
    if (p < 0 || q < 0) return;
    int r = pair_rank(b, b->w_id[p], b->w_id[q]);
    if (r >= 0) heap_push(b, hn, (uint64_t)r << 32 | (uint32_t)p);
}

// Merges one piece's bytes into tokens, written to out; returns their count. As GPT-2's
// encoder.py: the pair of lowest rank is merged at each of its occurrences, left to right
// without overlap, before any other pair is considered; until no pair has a rank.
static size_t merge_piece(struct Bpe *b, const unsigned char *s, size_t n, int *out) {
    if (n > b->w_cap) {
        b->w_cap = n;
        b->w_id = xrealloc(b->w_id, n * sizeof(int));
        b->w_next = xrealloc(b->w_next, n * sizeof(int));
        b->w_prev = xrealloc(b->w_prev, n * sizeof(int));
        b->w_done = xrealloc(b->w_done, n * sizeof(int));
    }
    int *id = b->w_id, *nx = b->w_next, *pv = b->w_prev, *done = b->w_done;
    for (size_t i = 0; i < n; i++) {
        id[i] = b->byte_id[s[i]];
        nx[i] = i + 1 < n ? (int)i + 1 : -1;
        pv[i] = (int)i - 1;
    }
    size_t hn = 0;
    for (size_t i = 0; i + 1 < n; i++) push_pair(b, &hn, (int)i, (int)i + 1);
    while (hn) {
        // every occurrence of the lowest-ranked pair, left to right (one rank: one pair)
        uint32_t r = (uint32_t)(b->heap[0] >> 32);
        int nd = 0;
        while (hn && (uint32_t)(b->heap[0] >> 32) == r) {
            int p = (int)(uint32_t)heap_pop(b, &hn), q = nx[p];
            if (id[p] < 0 || q < 0 || id[p] != b->left[r] || id[q] != b->right[r]) continue;
            id[p] = b->merged[r];
            id[q] = -1;
            nx[p] = nx[q];
            if (nx[q] >= 0) pv[nx[q]] = p;
            done[nd++] = p;
        }
        // then the pairs the merged tokens form with their neighbours
        for (int k = 0; k < nd; k++) {
            push_pair(b, &hn, pv[done[k]], done[k]);
            push_pair(b, &hn, done[k], nx[done[k]]);
        }
    }
    size_t m = 0;
    for (int p = 0; p >= 0; p = nx[p]) out[m++] = id[p];
    return m;
}

#define CACHE_MAX_PIECE 64       // longer pieces are merged each time
#define CACHE_MAX_ENTRIES 500000 // then the cache starts over

static size_t encode_piece(struct Bpe *b, const unsigned char *s, size_t n, int *out) {
    if (n == 1) { out[0] = b->byte_id[s[0]]; return 1; }
    if (n > CACHE_MAX_PIECE) return merge_piece(b, s, n, out);
    int v = bmap_get(&b->cache, s, n);
    if (v >= 0) {
        size_t m = (size_t)b->cache_ids[v];
        memcpy(out, b->cache_ids + v + 1, m * sizeof(int));
        return m;
    }
    size_t m = merge_piece(b, s, n, out);
    if (b->cache.n >= CACHE_MAX_ENTRIES) {
        bmap_free(&b->cache);
        bmap_init(&b->cache, 1024);
        b->cache_n = 0;
    }
    if (b->cache_n + m + 1 > b->cache_cap) {
        b->cache_cap = 2 * (b->cache_n + m + 1);
        b->cache_ids = xrealloc(b->cache_ids, b->cache_cap * sizeof(int));
    }
    int found;
    bmap_put(&b->cache, s, n, (int)b->cache_n, &found);
    b->cache_ids[b->cache_n] = (int)m;
    memcpy(b->cache_ids + b->cache_n + 1, out, m * sizeof(int));
    b->cache_n += m + 1;
    return m;
}

int bpe_encode(const Tokenizer *t, const char *text, size_t len, int **ids, size_t *n) {
    struct Bpe *b = t->bpe;
    int *out = xmalloc((len + 1) * sizeof(int));  // at most one token per byte
    const unsigned char *s = (const unsigned char *)text;
    size_t m = 0;
    for (size_t i = 0; i < len;) {
        size_t j = pretok_next(s, len, i);
        m += encode_piece(b, s + i, j - i, out + m);
        i = j;
    }
    *ids = out;
    *n = m;
    return 0;
}

int bpe_decode_one(const Tokenizer *t, int id, char *buf) {
    const struct Bpe *b = t->bpe;
    if (id < 0 || id >= b->n) return 0;
    size_t n = b->off[id + 1] - b->off[id];
    memcpy(buf, b->blob + b->off[id], n);
    return (int)n;
}

size_t bpe_token_len(const Tokenizer *t, int id) {
    const struct Bpe *b = t->bpe;
    return id < 0 || id >= b->n ? 0 : b->off[id + 1] - b->off[id];
}

void bpe_release(Tokenizer *t) { bpe_free(t->bpe); t->bpe = NULL; }

int tok_eot(const Tokenizer *t) { return t->kind == TOK_BPE ? t->bpe->eot : -1; }
