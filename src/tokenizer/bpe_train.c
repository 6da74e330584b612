// Training a byte-level BPE: count GPT-2's pieces, then merge the most frequent pair
// again and again, updating the counts of the words that hold it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/bpe_impl.h"

typedef struct {
    int a, b;
    int64_t count;
    int *words, n_words, cap_words;  // words that held the pair (some may no longer)
} Pair;

typedef struct { int64_t count; int a, b, pair; } HeapItem;

typedef struct {
    // distinct pieces ("words"): their symbols (token ids) and how often they occur
    int n_words;
    int *sym, *len;       // word w: sym[start[w] .. start[w] + len[w])
    size_t *start;
    int64_t *freq;
    int *stamp;           // the merge that last visited the word
    // pairs: (a, b) -> index
    Pair *pairs;
    int n_pairs, cap_pairs;
    uint64_t *pkey;       // (a + 1) << 32 | (b + 1), 0: empty
    int *pidx;
    size_t pcap;
    HeapItem *heap;
    size_t hn, hcap;
    // tokens: bytes of token i at blob.p + off[i], by id
    StrBuf blob;
    size_t *off;
    int n_tok, cap_tok;
    BMap tok_of;          // token bytes -> id
} Trainer;

static int better(const HeapItem *x, const HeapItem *y) {  // more frequent, then smaller ids
    if (x->count != y->count) return x->count > y->count;
    return x->a != y->a ? x->a < y->a : x->b < y->b;
}

static void heap_push(Trainer *tr, HeapItem it) {
    if (tr->hn == tr->hcap) {
        tr->hcap = tr->hcap ? 2 * tr->hcap : 1024;
        tr->heap = xrealloc(tr->heap, tr->hcap * sizeof *tr->heap);
    }
    size_t i = tr->hn++;
    while (i && better(&it, &tr->heap[(i - 1) / 2])) { tr->heap[i] = tr->heap[(i - 1) / 2]; i = (i - 1) / 2; }
    tr->heap[i] = it;
}

static HeapItem heap_pop(Trainer *tr) {
    HeapItem top = tr->heap[0], v = tr->heap[--tr->hn];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= tr->hn) break;
        if (c + 1 < tr->hn && better(&tr->heap[c + 1], &tr->heap[c])) c++;
        if (!better(&tr->heap[c], &v)) break;
        tr->heap[i] = tr->heap[c];
        i = c;
    }
    if (tr->hn) tr->heap[i] = v;
    return top;
}

static void pmap_grow(Trainer *tr) {
    size_t cap = tr->pcap ? 2 * tr->pcap : 1 << 14;
    uint64_t *k = xcalloc(cap, sizeof *k);
    int *ix = xmalloc(cap * sizeof *ix);
    for (size_t i = 0; i < tr->pcap; i++) {
        if (!tr->pkey[i]) continue;
        size_t j = (size_t)((tr->pkey[i] * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
        while (k[j]) j = (j + 1) & (cap - 1);
        k[j] = tr->pkey[i];
        ix[j] = tr->pidx[i];
    }
    free(tr->pkey);
    free(tr->pidx);
    tr->pkey = k;
    tr->pidx = ix;
    tr->pcap = cap;
}

// The index of pair (a, b), created with count 0 when new.
static int pair_of(Trainer *tr, int a, int b) {
    if (2 * ((size_t)tr->n_pairs + 1) > tr->pcap) pmap_grow(tr);
    uint64_t key = (uint64_t)(a + 1) << 32 | (uint32_t)(b + 1);
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (tr->pcap - 1);
    while (tr->pkey[i] && tr->pkey[i] != key) i = (i + 1) & (tr->pcap - 1);
    if (tr->pkey[i]) return tr->pidx[i];
    if (tr->n_pairs == tr->cap_pairs) {
        tr->cap_pairs = tr->cap_pairs ? 2 * tr->cap_pairs : 1024;
        tr->pairs = xrealloc(tr->pairs, (size_t)tr->cap_pairs * sizeof *tr->pairs);
    }
    Pair *p = &tr->pairs[tr->n_pairs];
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
    tr->pkey[i] = key;
    tr->pidx[i] = tr->n_pairs;
    return tr->n_pairs++;
}

static void pair_add_word(Pair *p, int w) {
    if (p->n_words && p->words[p->n_words - 1] == w) return;
    if (p->n_words == p->cap_words) {
        p->cap_words = p->cap_words ? 2 * p->cap_words : 4;
        p->words = xrealloc(p->words, (size_t)p->cap_words * sizeof(int));
    }
    p->words[p->n_words++] = w;
}

static int add_token(Trainer *tr, const char *bytes, size_t n) {
    int found;
    int *slot = bmap_put(&tr->tok_of, bytes, n, tr->n_tok, &found);
    if (found) return *slot;
    if (tr->n_tok + 1 >= tr->cap_tok) {
        tr->cap_tok = 2 * (tr->n_tok + 1);
        tr->off = xrealloc(tr->off, (size_t)(tr->cap_tok + 1) * sizeof *tr->off);
    }
    tr->off[tr->n_tok] = tr->blob.n;
    sb_put(&tr->blob, bytes, n);
    tr->off[tr->n_tok + 1] = tr->blob.n;
    return tr->n_tok++;
}

static size_t tok_len(const Trainer *tr, int id) { return tr->off[id + 1] - tr->off[id]; }

// The distinct pieces of the text, their counts, their byte tokens and their pairs.
static void count_words(Trainer *tr, const char *text, size_t len, const int byte_id[256]) {
    BMap words;
    bmap_init(&words, 1 << 16);
    size_t cap = 1 << 12;
    tr->freq = xmalloc(cap * sizeof *tr->freq);
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t j = pretok_next(s, len, i);
        int found;
        int *w = bmap_put(&words, s + i, j - i, tr->n_words, &found);
        if (!found) {
            if ((size_t)tr->n_words == cap) { cap *= 2; tr->freq = xrealloc(tr->freq, cap * sizeof *tr->freq); }
            tr->freq[tr->n_words++] = 0;
        }
        tr->freq[*w]++;
        i = j;
    }
    tr->start = xmalloc(((size_t)tr->n_words + 1) * sizeof *tr->start);
    tr->len = xmalloc((size_t)tr->n_words * sizeof *tr->len);
    tr->stamp = xmalloc((size_t)tr->n_words * sizeof *tr->stamp);
    tr->sym = xmalloc((words.keys.n + 1) * sizeof *tr->sym);
    // the map's keys lie in insertion order, one word after another
    for (size_t k = 0; k < words.cap; k++) {
        if (!words.hash[k]) continue;
        int w = words.val[k];
        tr->start[w] = words.koff[k];
        tr->len[w] = (int)words.klen[k];
    }
    for (size_t k = 0; k < words.keys.n; k++)
        tr->sym[k] = byte_id[(unsigned char)words.keys.p[k]];
    for (int w = 0; w < tr->n_words; w++) {
        tr->stamp[w] = -1;
        const int *x = tr->sym + tr->start[w];
        for (int i = 0; i + 1 < tr->len[w]; i++) {
            int pi = pair_of(tr, x[i], x[i + 1]);  // may move tr->pairs: index after
            Pair *p = &tr->pairs[pi];
            p->count += tr->freq[w];
            pair_add_word(p, w);
        }
    }
    bmap_free(&words);
}

// Merges (a, b) -> id in word w: the counts of its old pairs out, of its new pairs in.
// New pairs holding id are listed in *touched (by index, may repeat).
static void merge_word(Trainer *tr, int w, int a, int b, int id, int **touched, int *nt, int *ct) {
    int *x = tr->sym + tr->start[w], n = tr->len[w], m = 0;
    int64_t f = tr->freq[w];
    for (int i = 0; i + 1 < n; i++) {
        int p = pair_of(tr, x[i], x[i + 1]);  // may move tr->pairs: index after
        tr->pairs[p].count -= f;
    }
    for (int i = 0; i < n; i++) {
        if (i + 1 < n && x[i] == a && x[i + 1] == b) { x[m++] = id; i++; }
        else x[m++] = x[i];
    }
    tr->len[w] = m;
    for (int i = 0; i + 1 < m; i++) {
        int p = pair_of(tr, x[i], x[i + 1]);
        tr->pairs[p].count += f;
        if (x[i] == id || x[i + 1] == id) {
            pair_add_word(&tr->pairs[p], w);
            if (*nt == *ct) { *ct = *ct ? 2 * *ct : 64; *touched = xrealloc(*touched, (size_t)*ct * sizeof(int)); }
            (*touched)[(*nt)++] = p;
        }
    }
}

static void trainer_free(Trainer *tr) {
    for (int i = 0; i < tr->n_pairs; i++) free(tr->pairs[i].words);
    free(tr->pairs); free(tr->pkey); free(tr->pidx); free(tr->heap);
    free(tr->sym); free(tr->len); free(tr->start); free(tr->freq); free(tr->stamp);
    free(tr->off);
    sb_free(&tr->blob);
    bmap_free(&tr->tok_of);
}

// A token's bytes as GPT-2's byte symbols, malloc'd.
static char *symbols(const char *bytes, size_t n) {
    char *s = xmalloc(2 * n + 1);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += utf8_encode(bpe_byte_cp((unsigned char)bytes[i]), s + m);
    s[m] = 0;
    return s;
}

int tok_train_bpe(Tokenizer *t, const char *text, size_t len, int vocab_size, const char *src,
                  TokProgress progress, void *ctx) {
    memset(t, 0, sizeof *t);
    if (vocab_size < 257)
        return em_error("%s: vocabulary size %d: expected at least 257 (256 bytes and "
                        "<|endoftext|>)", src, vocab_size);
    if (len == 0) return em_error("%s: the text is empty", src);
    Trainer tr = {0};
    bmap_init(&tr.tok_of, (size_t)vocab_size);
    // the byte tokens in GPT-2's order: by the code point that stands for each byte
    int byte_id[256], order[256], k = 0;
    for (uint32_t cp = 0; k < 256; cp++)
        if (bpe_cp_byte(cp) >= 0) order[k++] = bpe_cp_byte(cp);
    for (int i = 0; i < 256; i++) {
        char c = (char)order[i];
        byte_id[order[i]] = add_token(&tr, &c, 1);
    }
    count_words(&tr, text, len, byte_id);
    for (int p = 0; p < tr.n_pairs; p++)
        heap_push(&tr, (HeapItem){tr.pairs[p].count, tr.pairs[p].a, tr.pairs[p].b, p});
    int target = vocab_size - 1, nm = 0, cm = 0;  // the last id is <|endoftext|>
    int *ml = NULL, *mr = NULL, *touched = NULL, nt = 0, ct = 0;
    char *cat = xmalloc(2 * TOK_MAX_BYTES);
    while (tr.n_tok < target && tr.hn) {
        HeapItem it = heap_pop(&tr);
        Pair *p = &tr.pairs[it.pair];
        if (p->count <= 0) continue;
        if (it.count != p->count) {  // stale: back with its count now
            heap_push(&tr, (HeapItem){p->count, p->a, p->b, it.pair});
            continue;
        }
        size_t la = tok_len(&tr, p->a), lb = tok_len(&tr, p->b);
        if (la + lb > TOK_MAX_BYTES) { p->count = 0; continue; }  // too long: never merged
        memcpy(cat, tr.blob.p + tr.off[p->a], la);
        memcpy(cat + la, tr.blob.p + tr.off[p->b], lb);
        int id = add_token(&tr, cat, la + lb), a = p->a, b = p->b;
        if (nm == cm) {
            cm = cm ? 2 * cm : 1024;
            ml = xrealloc(ml, (size_t)cm * sizeof(int));
            mr = xrealloc(mr, (size_t)cm * sizeof(int));
        }
        ml[nm] = a;
        mr[nm++] = b;
        nt = 0;
        // words first listed; the list may grow as merge_word adds to other pairs' lists
        for (int i = 0; i < tr.pairs[it.pair].n_words; i++) {
            int w = tr.pairs[it.pair].words[i];
            if (tr.stamp[w] == nm) continue;
            tr.stamp[w] = nm;
            merge_word(&tr, w, a, b, id, &touched, &nt, &ct);
        }
        tr.pairs[it.pair].n_words = 0;  // every occurrence is merged: none left
        for (int i = 0; i < nt; i++) {
            Pair *q = &tr.pairs[touched[i]];
            if (q->count > 0) heap_push(&tr, (HeapItem){q->count, q->a, q->b, touched[i]});
        }
        if (progress && nm % 100 == 0) progress(ctx, tr.n_tok + 1, vocab_size);
    }
    free(cat);
    free(touched);
    // the vocabulary and merges as their files would hold them, then the tokenizer
    int n = tr.n_tok + 1;
    char **vocab = xmalloc((size_t)n * sizeof(char *)), **merges = xmalloc(((size_t)nm + 1) * sizeof(char *));
    for (int i = 0; i < tr.n_tok; i++) vocab[i] = symbols(tr.blob.p + tr.off[i], tok_len(&tr, i));
    vocab[n - 1] = xstrdup("<|endoftext|>");
    for (int r = 0; r < nm; r++) {
        char *l = vocab[ml[r]], *rt = vocab[mr[r]];
        merges[r] = xmalloc(strlen(l) + strlen(rt) + 2);
        sprintf(merges[r], "%s %s", l, rt);
    }
    int *lines = xmalloc(((size_t)nm + 1) * sizeof(int));
    for (int r = 0; r < nm; r++) lines[r] = r + 2;
    int rc = bpe_build(t, vocab, n, merges, lines, nm, src, src);
    for (int i = 0; i < n; i++) free(vocab[i]);
    for (int r = 0; r < nm; r++) free(merges[r]);
    free(vocab); free(merges); free(lines); free(ml); free(mr);
    trainer_free(&tr);
    if (progress) progress(ctx, n, vocab_size);
    return rc;
}
