// Attention patterns (attn.hook_pattern of every layer) and per-head scores.
#include "inspect/heads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

const char *const heads_score_names[HS_NUM] = {"previous_token", "first_token",
                                               "duplicate_token", "induction"};

typedef struct { float *att; int NH; } HeadsCtx;   // att (L, NH, T, T)

static int record_pattern(int hook, int layer, float *act, int B, int T, void *ctx) {
    HeadsCtx *c = ctx;
    size_t n = (size_t)c->NH * T * T;   // B = 1
    if (hook == HOOK_ATTN_PATTERN) memcpy(c->att + (size_t)layer * n, act, sizeof(float) * n);
    return 0;
}

int heads_patterns(GPT *m, const int *ids, int T, float *att) {
    const int V = m->cfg.vocab_size;
    if (T < 1 || T > m->cfg.block_size)
        return em_error("attention: the sequence has %d tokens; the model takes 1 to %d", T, m->cfg.block_size);
    for (int t = 0; t < T; t++)
        if (ids[t] < 0 || ids[t] >= V)
            return em_error("attention: token %d at position %d is outside 0..%d", ids[t], t, V - 1);
    if (gpt_alloc_acts(m, 1, T)) return -1;
    HeadsCtx ctx = {att, m->cfg.n_head};
    gpt_forward_hooked(m, record_pattern, &ctx, ids, NULL, 1, T);
    return 0;
}

double heads_prev_score(const float *att, int T) {
    if (T < 2) return NAN;
    double s = 0;
    for (int t = 1; t < T; t++) s += att[(size_t)t * T + t - 1];
    return s / (T - 1);
}

double heads_first_score(const float *att, int T) {
    double s = 0;
    for (int t = 0; t < T; t++) s += att[(size_t)t * T];
    return T > 0 ? s / T : NAN;
}

double heads_dup_score(const float *att, const int *ids, int T) {
    double s = 0;
    int n = 0;
    for (int t = 1; t < T; t++) {
        double a = 0;
        int seen = 0;
        for (int u = 0; u < t; u++)
            if (ids[u] == ids[t]) { a += att[(size_t)t * T + u]; seen = 1; }
        if (seen) { s += a; n++; }
    }
    return n ? s / n : NAN;
}

double heads_induction_score(const float *att, int T, int n) {
    if (n < 1 || T < 2 * n) return NAN;
    double s = 0;
    for (int t = n; t < 2 * n; t++) s += att[(size_t)t * T + t - n + 1];
    return s / n;
}

// scores (HS_NUM, L, NH) from the patterns att (L, NH, T, T); n > 0: a repeat of length n
static void score_all(const float *att, const int *ids, int T, int n, int L, int NH,
                      double *scores, double w) {
    for (int l = 0; l < L; l++)
        for (int h = 0; h < NH; h++) {
            const float *a = att + ((size_t)l * NH + h) * T * T;
            size_t i = (size_t)l * NH + h, LH = (size_t)L * NH;
            scores[HS_PREV * LH + i] += w * heads_prev_score(a, T);
            scores[HS_FIRST * LH + i] += w * heads_first_score(a, T);
            scores[HS_DUP * LH + i] += w * heads_dup_score(a, ids, T);
            scores[HS_INDUCTION * LH + i] += n > 0 ? w * heads_induction_score(a, T, n) : NAN;
        }
}

int heads_scores_random(GPT *m, int n, int samples, uint64_t seed, double *scores) {
    const int L = m->cfg.n_layer, NH = m->cfg.n_head, V = m->cfg.vocab_size, T = 2 * n;
    if (n < 1 || T > m->cfg.block_size)
        return em_error("attention: a repeated sequence of 2 x %d tokens does not fit the context (%d)",
                        n, m->cfg.block_size);
    if (samples < 1) return em_error("attention: samples must be at least 1 (got %d)", samples);
    memset(scores, 0, sizeof(double) * HS_NUM * L * NH);
    int *ids = xmalloc(sizeof(int) * T), *perm = xmalloc(sizeof(int) * V);
    float *att = xmalloc(sizeof(float) * (size_t)L * NH * T * T);
    Rng rng;
    rng_seed(&rng, seed);
    int rc = 0;
    for (int s = 0; s < samples && !rc; s++) {
        if (n <= V) {   // n distinct tokens: a partial Fisher-Yates shuffle
            for (int v = 0; v < V; v++) perm[v] = v;
            for (int i = 0; i < n; i++) {
                int j = i + (int)rng_below(&rng, (uint32_t)(V - i));
                int x = perm[i]; perm[i] = perm[j]; perm[j] = x;
                ids[i] = perm[i];
            }
        } else {
            for (int i = 0; i < n; i++) ids[i] = (int)rng_below(&rng, (uint32_t)V);
        }
        memcpy(ids + n, ids, sizeof(int) * n);
        rc = heads_patterns(m, ids, T, att);
        if (!rc) score_all(att, ids, T, n, L, NH, scores, 1.0 / samples);
    }
    free(att); free(perm); free(ids);
    return rc;
}

int heads_scores_prompt(GPT *m, const int *ids, int T, double *scores) {
    const int L = m->cfg.n_layer, NH = m->cfg.n_head;
    float *att = xmalloc(sizeof(float) * (size_t)L * NH * T * T);
    memset(scores, 0, sizeof(double) * HS_NUM * L * NH);
    int rc = heads_patterns(m, ids, T, att);
    if (!rc) score_all(att, ids, T, 0, L, NH, scores, 1.0);
    free(att);
    return rc;
}

int inspect_attention(GPT *m, const int *ids, int T, int n_rep, int samples, uint64_t seed,
                      InspectAttention *r) {
    const int L = m->cfg.n_layer, NH = m->cfg.n_head;
    size_t LH = (size_t)L * NH;
    memset(r, 0, sizeof *r);
    r->L = L; r->NH = NH; r->T = ids ? T : 0;
    r->scores = xmalloc(sizeof(double) * HS_NUM * LH);
    if (ids) {
        r->att = xmalloc(sizeof(float) * LH * T * T);
        r->prompt_scores = xmalloc(sizeof(double) * HS_NUM * LH);
        if (heads_patterns(m, ids, T, r->att) || heads_scores_prompt(m, ids, T, r->prompt_scores)) {
            inspect_attention_free(r);
            return -1;
        }
    }
    if (heads_scores_random(m, n_rep, samples, seed, r->scores)) { inspect_attention_free(r); return -1; }
    return 0;
}

void inspect_attention_free(InspectAttention *r) {
    free(r->att); free(r->prompt_scores); free(r->scores);
    memset(r, 0, sizeof *r);
}
