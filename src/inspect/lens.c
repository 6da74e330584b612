// The logit lens: hook_resid_post of every block -> ln_f -> tied head -> softmax.
#include "inspect/lens.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

typedef struct { float *resid; int C; } LensCtx;   // resid (L, T, C)

static int record_resid(int hook, int layer, float *act, int B, int T, void *ctx) {
    LensCtx *c = ctx;
    if (hook == HOOK_RESID_POST)
        memcpy(c->resid + (size_t)layer * T * c->C, act, sizeof(float) * (size_t)T * c->C);
    return 0;
}

void lens_softmax(float *p, const float *logits, int V) {
    double mx = -INFINITY, s = 0;
    for (int v = 0; v < V; v++) if (logits[v] > mx) mx = logits[v];
    for (int v = 0; v < V; v++) s += exp((double)logits[v] - mx);
    for (int v = 0; v < V; v++) p[v] = (float)(exp((double)logits[v] - mx) / s);
}

// a before b: more probable, or as probable with a smaller id
static int before(const float *p, int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); }

void lens_topk(const float *p, int V, int k, int *ids, float *ps) {
    int n = 0;   // insertion into a sorted list of at most k
    for (int v = 0; v < V; v++) {
        if (n == k && !before(p, v, ids[n - 1])) continue;
        int i = n < k ? n++ : k - 1;
        while (i > 0 && before(p, v, ids[i - 1])) { ids[i] = ids[i - 1]; i--; }
        ids[i] = v;
    }
    for (int i = 0; i < k; i++) ps[i] = p[ids[i]];
}

int lens_rank(const float *p, int V, int id) {
    int r = 1;
    for (int v = 0; v < V; v++) r += v != id && before(p, v, id);
    return r;
}

int lens_run(GPT *m, const int *ids, int T, int k, int target, LensResult *r, float *probs) {
    const int L = m->cfg.n_layer, C = m->cfg.n_embd, V = m->cfg.vocab_size;
    memset(r, 0, sizeof *r);
    if (T < 1 || T > m->cfg.block_size)
        return em_error("lens: the prompt has %d tokens; the model takes 1 to %d", T, m->cfg.block_size);
    if (k < 1 || k > V) return em_error("lens: top-k %d is outside 1..%d (the vocabulary)", k, V);
    if (target < -1 || target >= V) return em_error("lens: target id %d is outside 0..%d", target, V - 1);
    for (int t = 0; t < T; t++)
        if (ids[t] < 0 || ids[t] >= V) return em_error("lens: token %d at position %d is outside 0..%d", ids[t], t, V - 1);
    if (gpt_alloc_acts(m, 1, T)) return -1;

    LensCtx ctx = {xmalloc(sizeof(float) * (size_t)L * T * C), C};
    gpt_forward_hooked(m, record_resid, &ctx, ids, NULL, 1, T);

    r->L = L; r->T = T; r->V = V; r->k = k; r->target = target;
    r->top_id = xmalloc(sizeof(int) * (size_t)L * T * k);
    r->top_p = xmalloc(sizeof(float) * (size_t)L * T * k);
    if (target >= 0) {
        r->target_rank = xmalloc(sizeof(int) * (size_t)L * T);
        r->target_p = xmalloc(sizeof(float) * (size_t)L * T);
    }
    float *logits = xmalloc(sizeof(float) * (size_t)T * V), *p = xmalloc(sizeof(float) * V);
    for (int l = 0; l < L; l++) {
        gpt_unembed(m, ctx.resid + (size_t)l * T * C, T, logits);
        for (int t = 0; t < T; t++) {
            size_t lt = (size_t)l * T + t;
            lens_softmax(p, logits + (size_t)t * V, V);
            if (probs) memcpy(probs + lt * V, p, sizeof(float) * V);
            lens_topk(p, V, k, r->top_id + lt * k, r->top_p + lt * k);
            if (target >= 0) {
                r->target_rank[lt] = lens_rank(p, V, target);
                r->target_p[lt] = p[target];
            }
        }
    }
    free(p); free(logits); free(ctx.resid);
    return 0;
}

void lens_free(LensResult *r) {
    free(r->top_id); free(r->top_p); free(r->target_rank); free(r->target_p);
    memset(r, 0, sizeof *r);
}
