#include <stdlib.h>
#include <string.h>

#include "data.h"

int data_load_text(const char *path, Tokenizer *tok, double val_frac, int min_len,
                   TokenData *d) {
    memset(d, 0, sizeof *d);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return -1;
    int built = 0;
    if (tok->kind == TOK_NONE) {
        if (tok_build_char(tok, text, len, path)) { free(text); return -1; }
        built = 1;
    }
    if (tok_encode(tok, text, len, &d->tokens, &d->n, path)) {
        free(text);
        if (built) tok_free(tok);
        return -1;
    }
    free(text);
    d->split = (size_t)((double)d->n * (1.0 - val_frac));
    size_t need = (size_t)min_len + 1;
    if (d->split < need || (val_frac > 0 && d->n - d->split < need)) {
        size_t n = d->n;
        data_free(d);
        if (built) tok_free(tok);
        return em_error("%s: %zu tokens is too short: the train and validation parts need at "
                        "least %zu tokens each (block size %d + 1)", path, n, need, min_len);
    }
    return 0;
}

void data_free(TokenData *d) {
    shards_free(d->shards);
    free(d->tokens);
    free(d->mask);
    free(d->starts);
    memset(d, 0, sizeof *d);
}

// The example starts within [lo, last]: *first and the count, by a binary search for each end.
static size_t starts_within(const TokenData *d, size_t lo, size_t last, size_t *first) {
    size_t a = 0, b = d->n_starts;
    while (a < b) { size_t m = (a + b) / 2; if (d->starts[m] < lo) a = m + 1; else b = m; }
    *first = a;
    b = d->n_starts;
    while (a < b) { size_t m = (a + b) / 2; if (d->starts[m] <= last) a = m + 1; else b = m; }
    return a - *first;
}

static size_t draw_below(size_t n, Rng *r) {
    return n > 0xFFFFFFFFu ? rng_u64(r) % n : rng_below(r, (uint32_t)n);
}

// B windows of T tokens from [lo, hi): each starts at one of the example starts there (when the
// data has them and some lie in range), else anywhere. The range is searched once for all B
// windows; the starts are drawn first (one draw each, in order) and their tokens prefetched, so
// the B random reads overlap instead of missing the cache one after another.
void data_sample(const TokenData *d, int part, int B, int T, Rng *r, int *inp, int *tgt) {
    if (d->shards) { shards_sample(d->shards, part, B, T, r, inp, tgt); return; }
    size_t lo = part ? d->split : 0, hi = part ? d->n : d->split;
    size_t last = hi - T - 1;  // inclusive
    size_t first = 0, count = d->starts ? starts_within(d, lo, last, &first) : 0;
    enum { CHUNK = 64 };
    size_t s[CHUNK];
    for (int b0 = 0; b0 < B; b0 += CHUNK) {
        int nb = B - b0 < CHUNK ? B - b0 : CHUNK;
        for (int j = 0; j < nb; j++) {
            s[j] = count ? d->starts[first + draw_below(count, r)]
                         : lo + draw_below(last - lo + 1, r);
            __builtin_prefetch(d->tokens + s[j]);
            __builtin_prefetch(d->tokens + s[j] + T);
            if (d->mask) __builtin_prefetch(d->mask + s[j]);
        }
        for (int j = 0; j < nb; j++) {
            int *in = inp + (size_t)(b0 + j) * T, *t = tgt + (size_t)(b0 + j) * T;
            const int *x = d->tokens + s[j];
            memcpy(in, x, T * sizeof(int));
            if (d->mask) {
                const unsigned char *m = d->mask + s[j] + 1;
                for (int i = 0; i < T; i++) t[i] = m[i] ? x[i + 1] : -1;
            } else {
                memcpy(t, x + 1, T * sizeof(int));
            }
        }
    }
}

int data_from_texts(const char *train_text, const unsigned char *train_mask, size_t train_len,
                    const char *val_text, const unsigned char *val_mask, size_t val_len,
                    const char *stop, const char *name, Tokenizer *tok, int min_len,
                    TokenData *d) {
    memset(d, 0, sizeof *d);
    size_t len = train_len + val_len;
    char *all = xmalloc(len + 1);
    memcpy(all, train_text, train_len);
    memcpy(all + train_len, val_text, val_len);
    all[len] = 0;
    int built = 0;
    if (tok->kind == TOK_NONE) {
        if (tok_build_char(tok, all, len, name)) { free(all); return -1; }
        built = 1;
    }
    // encode character by character to carry the byte mask over to tokens
    d->tokens = xmalloc((len + 1) * sizeof(int));
    d->mask = xmalloc(len + 1);
    d->starts = xmalloc((len + 1) * sizeof(size_t));
    size_t slen = stop ? strlen(stop) : 0, n = 0;
    int at_start = 1;
    // a char-level vocabulary: the whole text in one call (one id per character), the
    // characters' byte lengths then carry the mask over
    int *ids = NULL;
    size_t nids = 0;
    if (tok->kind == TOK_CHAR && tok_encode(tok, all, len, &ids, &nids, name)) {
        free(all);
        data_free(d);
        if (built) tok_free(tok);
        return -1;
    }
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int k = utf8_decode((const unsigned char *)all + i, len - i, &cp);  // > 0 with ids:
        int id;                                                              // tok_encode checked it
        if (ids) {
            id = ids[n];
        } else {
            int *one = NULL;
            size_t m = 0;
            if (!k || tok_encode(tok, all + i, k, &one, &m, name) || m != 1) {
                if (k && !one) em_error("%s: character at byte %zu is not in the vocabulary", name, i);
                else if (!k) em_error("%s: invalid UTF-8 at byte %zu", name, i);
                free(one);
                free(all);
                data_free(d);
                if (built) tok_free(tok);
                return -1;
            }
            id = one[0];
            free(one);
        }
        if (at_start) d->starts[d->n_starts++] = n;
        if (i == train_len && !at_start) d->starts[d->n_starts++] = n;
        d->tokens[n] = id;
        d->mask[n] = i < train_len ? train_mask[i] : val_mask[i - train_len];
        if (i < train_len && i + k == train_len) d->split = n + 1;
        i += k;
        n++;
        at_start = slen && i >= slen && all[i - 1] == stop[slen - 1] &&
                   (slen == 1 || memcmp(all + i - slen, stop, slen) == 0);
    }
    if (train_len == 0) d->split = 0;
    d->n = n;
    free(ids);
    free(all);
    size_t need = (size_t)min_len + 1;
    if (d->split < need || d->n - d->split < need) {
        em_error("%s: %zu train and %zu validation tokens: each part needs at least %zu "
                 "(block size %d + 1); ask for more items", name, d->split, d->n - d->split,
                 need, min_len);
        data_free(d);
        if (built) tok_free(tok);
        return -1;
    }
    return 0;
}
