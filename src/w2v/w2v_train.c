// w2v training: vocabulary (min_count, sorted by count, </s> first), the unigram^0.75 table,
// subsampling, skip-gram / CBOW with negative sampling and hogwild threads, after word2vec.c.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "w2v/w2v.h"

#define EXP_TABLE_SIZE 1000
#define MAX_EXP 6
#define MAX_SENTENCE 1000

void w2v_config_default(W2VConfig *c) {
    *c = (W2VConfig){.size = 100, .window = 5, .negative = 5, .sample = 1e-3f, .min_count = 5,
                     .iter = 5, .alpha = 0, .cbow = 0, .threads = 1, .seed = 1};
}

// ---- reading words as word2vec.c's ReadWord does ---------------------------------------
typedef struct { const char *p, *end; int pending_eos; } Reader;

// Next word into w (cut at W2V_MAX_WORD-1 bytes); a newline is "</s>". 0 at the end.
static int next_word(Reader *r, char *w) {
    if (r->pending_eos) { r->pending_eos = 0; strcpy(w, W2V_EOS); return 1; }
    int n = 0;
    while (r->p < r->end) {
        char ch = *r->p++;
        if (ch == '\r') continue;
        if (ch == ' ' || ch == '\t' || ch == '\n') {
            if (n > 0) { if (ch == '\n') r->pending_eos = 1; break; }
            if (ch == '\n') { strcpy(w, W2V_EOS); return 1; }
            continue;
        }
        if (n < W2V_MAX_WORD - 1) w[n++] = ch;
    }
    w[n] = 0;
    return n > 0;
}

// ---- vocabulary -------------------------------------------------------------------------
static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void w2v_build_hash(W2VModel *m) {
    free(m->hash);
    size_t hs = 64;
    while (hs < (size_t)m->V * 2 + 2) hs <<= 1;
    m->hash_size = hs;
    m->hash = xmalloc(hs * sizeof(int));
    for (size_t i = 0; i < hs; i++) m->hash[i] = -1;
    for (int i = 0; i < m->V; i++) {
        size_t h = hash_str(m->words[i]) & (hs - 1);
        while (m->hash[h] >= 0 && strcmp(m->words[m->hash[h]], m->words[i])) h = (h + 1) & (hs - 1);
        if (m->hash[h] < 0) m->hash[h] = i;   // a duplicate keeps the first
    }
}

int w2v_find(const W2VModel *m, const char *word) {
    if (!m->hash) return -1;
    size_t h = hash_str(word) & (m->hash_size - 1);
    while (m->hash[h] >= 0) {
        if (!strcmp(m->words[m->hash[h]], word)) return m->hash[h];
        h = (h + 1) & (m->hash_size - 1);
    }
    return -1;
}

void w2v_free(W2VModel *m) {
    if (m->words)
        for (int i = 0; i < m->V; i++) free(m->words[i]);
    free(m->words); free(m->counts); free(m->vec); free(m->hash);
    memset(m, 0, sizeof *m);
}

// A growing vocabulary while counting.
typedef struct { W2VModel m; int cap; } Counter;

static int counter_add(Counter *c, const char *w) {
    W2VModel *m = &c->m;
    if (!m->hash || (size_t)m->V * 2 + 2 > m->hash_size) w2v_build_hash(m);
    size_t h = hash_str(w) & (m->hash_size - 1);
    while (m->hash[h] >= 0) {
        if (!strcmp(m->words[m->hash[h]], w)) { m->counts[m->hash[h]]++; return m->hash[h]; }
        h = (h + 1) & (m->hash_size - 1);
    }
    if (m->V == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        m->words = xrealloc(m->words, c->cap * sizeof(char *));
        m->counts = xrealloc(m->counts, c->cap * sizeof(int64_t));
    }
    m->words[m->V] = strdup(w);
    m->counts[m->V] = 1;
    m->hash[h] = m->V;
    return m->V++;
}

static const W2VModel *sort_base;
static int by_count(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    int64_t ci = sort_base->counts[i], cj = sort_base->counts[j];
    if (ci != cj) return ci > cj ? -1 : 1;
    return strcmp(sort_base->words[i], sort_base->words[j]);
}

// ---- training ---------------------------------------------------------------------------
typedef struct {
    const W2VConfig *cfg;
    const int *tok;
    int64_t n_tok, train_words;
    const int64_t *counts;
    int V, size;
    float *syn0, *syn1;
    const int *table;
    int64_t table_size;
    const float *exp_table;
    float alpha0;
    int64_t words_actual;   // shared, atomic
    double t0;
} Trainer;

static inline float grad(const Trainer *T, float f, int label, float alpha) {
    if (f > MAX_EXP) return (label - 1) * alpha;
    if (f < -MAX_EXP) return (label - 0) * alpha;
    return (label - T->exp_table[(int)((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2))]) * alpha;
}

// One word against its negatives (word2vec's negative sampling): the positive pair (word,
// label 1) and `negative` words drawn from the unigram^0.75 table (label 0). `in` is the
// input vector (a context word's, or CBOW's mean); its gradient accumulates into neu1e.
static void negative_sampling(Trainer *T, int negative, int word, const float *in, float *neu1e,
                              float alpha, uint64_t *next_random) {
    int D = T->size;
    for (int d = 0; d <= negative; d++) {
        int target, label;
        if (d == 0) { target = word; label = 1; }
        else {
            *next_random = *next_random * 25214903917ULL + 11;
            target = T->table[(*next_random >> 16) % (uint64_t)T->table_size];
            if (target == 0) target = (int)(*next_random % (uint64_t)(T->V - 1)) + 1;
            if (target == word) continue;
            label = 0;
        }
        float *s1 = T->syn1 + (size_t)target * D, f = 0;
        for (int k = 0; k < D; k++) f += in[k] * s1[k];
        float g = grad(T, f, label, alpha);
        for (int k = 0; k < D; k++) neu1e[k] += g * s1[k];
        for (int k = 0; k < D; k++) s1[k] += g * in[k];
    }
}

static void train_thread(Trainer *T, int id, int nthreads) {
    const W2VConfig *c = T->cfg;
    const int D = T->size, win = c->window;
    Rng r;
    rng_seed(&r, c->seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E5ULL * (uint64_t)(id + 1));
    uint64_t next_random = rng_u64(&r);
    int64_t begin = T->n_tok * id / nthreads, end = T->n_tok * (id + 1) / nthreads;
    float *neu1 = xcalloc(D, sizeof(float)), *neu1e = xcalloc(D, sizeof(float));
    int sen[MAX_SENTENCE];
    float alpha = T->alpha0;
    const double st = c->sample * (double)T->train_words;
    for (int it = 0; it < c->iter; it++) {
        int64_t pos = begin, word_count = 0, last_word_count = 0;
        while (pos < end) {
            if (word_count - last_word_count > 10000) {
                int64_t add = word_count - last_word_count, done;
                last_word_count = word_count;
#pragma omp atomic capture
                done = T->words_actual += add;
                alpha = T->alpha0 * (1 - done / (float)(c->iter * T->train_words + 1));
                if (alpha < T->alpha0 * 0.0001f) alpha = T->alpha0 * 0.0001f;
                if (c->progress && id == 0) {
                    double el = now_sec() - T->t0;
                    c->progress(c->progress_ctx, (double)done, (double)(c->iter * T->train_words + 1),
                                alpha, done / (el > 0 ? el : 1e-9) / nthreads);
                }
            }
            // one sentence: up to </s> or MAX_SENTENCE words, frequent words subsampled
            int len = 0;
            while (pos < end) {
                int w = T->tok[pos++];
                word_count++;
                if (w == 0) break;
                if (c->sample > 0) {
                    double cn = (double)T->counts[w];
                    double keep = (sqrt(cn / st) + 1) * st / cn;
                    next_random = next_random * 25214903917ULL + 11;
                    if (keep < (next_random & 0xFFFF) / 65536.0) continue;
                }
                sen[len++] = w;
                if (len >= MAX_SENTENCE) break;
            }
            for (int sp = 0; sp < len; sp++) {
                int word = sen[sp];
                next_random = next_random * 25214903917ULL + 11;
                int b = (int)(next_random % (uint64_t)win);
                if (c->cbow) {
                    memset(neu1, 0, D * sizeof(float));
                    memset(neu1e, 0, D * sizeof(float));
                    int cw = 0;
                    for (int a = b; a < win * 2 + 1 - b; a++) {
                        if (a == win) continue;
                        int p = sp - win + a;
                        if (p < 0 || p >= len) continue;
                        const float *s0 = T->syn0 + (size_t)sen[p] * D;
                        for (int k = 0; k < D; k++) neu1[k] += s0[k];
                        cw++;
                    }
                    if (!cw) continue;
                    for (int k = 0; k < D; k++) neu1[k] /= cw;
                    negative_sampling(T, c->negative, word, neu1, neu1e, alpha, &next_random);
                    for (int a = b; a < win * 2 + 1 - b; a++) {
                        if (a == win) continue;
                        int p = sp - win + a;
                        if (p < 0 || p >= len) continue;
                        float *s0 = T->syn0 + (size_t)sen[p] * D;
                        for (int k = 0; k < D; k++) s0[k] += neu1e[k];
                    }
                } else {
                    for (int a = b; a < win * 2 + 1 - b; a++) {
                        if (a == win) continue;
                        int p = sp - win + a;
                        if (p < 0 || p >= len) continue;
                        float *s0 = T->syn0 + (size_t)sen[p] * D;
                        memset(neu1e, 0, D * sizeof(float));
                        negative_sampling(T, c->negative, word, s0, neu1e, alpha, &next_random);
                        for (int k = 0; k < D; k++) s0[k] += neu1e[k];
                    }
                }
            }
        }
        int64_t add = word_count - last_word_count;
#pragma omp atomic
        T->words_actual += add;
    }
    free(neu1); free(neu1e);
}

static int check_config(const W2VConfig *c) {
    if (c->size < 1 || c->size > 100000) return em_error("w2v: size must be in [1, 100000], got %d", c->size);
    if (c->window < 1) return em_error("w2v: window must be >= 1, got %d", c->window);
    if (c->negative < 1) return em_error("w2v: negative must be >= 1 (negative sampling is the only objective), got %d", c->negative);
    if (c->min_count < 1) return em_error("w2v: min-count must be >= 1, got %d", c->min_count);
    if (c->iter < 1) return em_error("w2v: iter must be >= 1, got %d", c->iter);
    if (c->threads < 1) return em_error("w2v: threads must be >= 1, got %d", c->threads);
    if (c->sample < 0) return em_error("w2v: sample must be >= 0, got %g", c->sample);
    return 0;
}

int w2v_train_text(const char *text, size_t len, const char *name, const W2VConfig *cfg,
                   W2VModel *out, W2VStats *st) {
    memset(out, 0, sizeof *out);
    if (check_config(cfg)) return -1;
    // pass 1: count, remembering each token's provisional id
    Counter cnt = {0};
    counter_add(&cnt, W2V_EOS);
    cnt.m.counts[0] = 0;
    Reader rd = {text, text + len, 0};
    char w[W2V_MAX_WORD];
    size_t cap = 1 << 16, n = 0;
    int *tok = xmalloc(cap * sizeof(int));
    while (next_word(&rd, w)) {
        if (n == cap) tok = xrealloc(tok, (cap *= 2) * sizeof(int));
        tok[n++] = counter_add(&cnt, w);
    }
    // sort by count (ties by word), </s> first; drop words under min_count
    int Vr = cnt.m.V;
    int *order = xmalloc(Vr * sizeof(int)), *remap = xmalloc(Vr * sizeof(int));
    for (int i = 0; i < Vr; i++) order[i] = i;
    sort_base = &cnt.m;
    qsort(order + 1, Vr - 1, sizeof(int), by_count);
    W2VModel *m = out;
    m->words = xmalloc(Vr * sizeof(char *));
    m->counts = xmalloc(Vr * sizeof(int64_t));
    for (int i = 0; i < Vr; i++) {
        int o = order[i];
        remap[o] = -1;
        if (i > 0 && cnt.m.counts[o] < cfg->min_count) continue;
        remap[o] = m->V;
        m->words[m->V] = cnt.m.words[o];
        cnt.m.words[o] = NULL;
        m->counts[m->V++] = cnt.m.counts[o];
    }
    for (int i = 0; i < Vr; i++) free(cnt.m.words[i]);
    cnt.m.V = 0;
    w2v_free(&cnt.m);
    free(order);
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        if (remap[tok[i]] >= 0) tok[nk++] = remap[tok[i]];
    free(remap);
    int64_t train_words = 0;
    for (int i = 0; i < m->V; i++) train_words += m->counts[i];
    if (m->V < 2) {
        free(tok);
        w2v_free(m);
        return em_error("%s: no word occurs min-count (%d) times or more (%zu words read)", name,
                        cfg->min_count, n);
    }
    w2v_build_hash(m);
    const int D = cfg->size, V = m->V;
    // initial vectors: uniform in [-0.5, 0.5) / size; output vectors zero
    Rng r;
    rng_seed(&r, cfg->seed);
    m->dim = D;
    m->vec = xmalloc((size_t)V * D * sizeof(float));
    for (size_t i = 0; i < (size_t)V * D; i++) m->vec[i] = (rng_uniform(&r) - 0.5f) / D;
    float *syn1 = xcalloc((size_t)V * D, sizeof(float));
    // unigram^0.75 table (size scaled with the vocabulary, 1e6 to 1e8 entries)
    int64_t ts = (int64_t)V * 100;
    if (ts < 1000000) ts = 1000000;
    if (ts > 100000000) ts = 100000000;
    int *table = xmalloc(ts * sizeof(int));
    double pow_sum = 0;
    for (int i = 0; i < V; i++) pow_sum += pow((double)m->counts[i], 0.75);
    int i = 0;
    double d1 = pow((double)m->counts[0], 0.75) / pow_sum;
    for (int64_t a = 0; a < ts; a++) {
        table[a] = i;
        if (a / (double)ts > d1) { i++; if (i < V) d1 += pow((double)m->counts[i], 0.75) / pow_sum; }
        if (i >= V) i = V - 1;
    }
    float exp_table[EXP_TABLE_SIZE];
    for (int k = 0; k < EXP_TABLE_SIZE; k++) {
        double e = exp((k / (double)EXP_TABLE_SIZE * 2 - 1) * MAX_EXP);
        exp_table[k] = (float)(e / (e + 1));
    }
    Trainer T = {.cfg = cfg, .tok = tok, .n_tok = (int64_t)nk, .train_words = train_words,
                 .counts = m->counts, .V = V, .size = D, .syn0 = m->vec, .syn1 = syn1,
                 .table = table, .table_size = ts, .exp_table = exp_table,
                 .alpha0 = cfg->alpha > 0 ? cfg->alpha : (cfg->cbow ? 0.05f : 0.025f),
                 .t0 = now_sec()};
    int nt = cfg->threads;
    if ((int64_t)nt > T.n_tok) nt = (int)(T.n_tok > 0 ? T.n_tok : 1);
#pragma omp parallel num_threads(nt)
    train_thread(&T, omp_get_thread_num(), omp_get_num_threads());
    double sec = now_sec() - T.t0;
    if (st) {
        st->corpus_words = train_words;
        st->words_done = T.words_actual;
        st->seconds = sec;
        st->threads = nt;
        st->words_per_sec_thread = T.words_actual / (sec > 0 ? sec : 1e-9) / nt;
    }
    free(table); free(syn1); free(tok);
    return 0;
}

int w2v_train_file(const char *path, const W2VConfig *cfg, W2VModel *m, W2VStats *st) {
    memset(m, 0, sizeof *m);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return -1;
    int rc = w2v_train_text(text, len, path, cfg, m, st);
    free(text);
    return rc;
}
