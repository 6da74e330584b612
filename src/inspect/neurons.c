// neurons: top-activating contexts of an MLP neuron, read through the forward's hooks.
#include "inspect/neurons.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int neuron_hit_before(const NeuronHit *a, const NeuronHit *b) {
    int na = isnan(a->act), nb = isnan(b->act);
    if (na != nb) return nb;
    if (!na && a->act != b->act) return a->act > b->act;
    if (a->pos != b->pos) return a->pos < b->pos;
    return a->neuron < b->neuron;
}

static int cmp_hits(const void *x, const void *y) {
    const NeuronHit *a = x, *b = y;
    return neuron_hit_before(a, b) ? -1 : neuron_hit_before(b, a) ? 1 : 0;
}

// A min-heap of the k best hits: the root is the one that ranks last.
typedef struct { NeuronHit *h; int n, k; } Heap;

static int worse(const NeuronHit *a, const NeuronHit *b) { return neuron_hit_before(b, a); }

static void heap_push(Heap *hp, const NeuronHit *x) {
    NeuronHit *h = hp->h;
    if (hp->n < hp->k) {
        int i = hp->n++;
        while (i > 0 && worse(x, &h[(i - 1) / 2])) { h[i] = h[(i - 1) / 2]; i = (i - 1) / 2; }
        h[i] = *x;
        return;
    }
    if (!neuron_hit_before(x, &h[0])) return;
    int i = 0, n = hp->n;  // replace the root, sift down
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && worse(&h[c + 1], &h[c])) c++;
        if (!worse(&h[c], x)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = *x;
}

typedef struct {
    int layer, neuron;   // neuron < 0: every neuron (top-neurons mode)
    int F;               // 4C
    size_t start;        // corpus index of the batch's first token
    Heap heap;           // top-contexts mode
    NeuronHit *best;     // (F) per-neuron maximum, top-neurons mode
} Ctx;

// blocks.{layer}.mlp.hook_post: (B,T,F), B windows of T consecutive tokens from x->start.
static int hook_fn(int hook, int layer, float *act, int B, int T, void *vctx) {
    Ctx *x = vctx;
    if (hook != HOOK_MLP_POST || layer != x->layer) return 0;
    for (int b = 0; b < B; b++) {
        size_t ws = x->start + (size_t)b * T;
        for (int t = 0; t < T; t++) {
            const float *row = act + ((size_t)b * T + t) * x->F;
            NeuronHit h = {.pos = ws + t, .win_start = ws, .win_len = T};
            if (x->neuron >= 0) {
                h.act = row[x->neuron];
                h.neuron = x->neuron;
                heap_push(&x->heap, &h);
            } else {
                for (int j = 0; j < x->F; j++) {
                    h.act = row[j];
                    h.neuron = j;
                    if (neuron_hit_before(&h, &x->best[j])) x->best[j] = h;
                }
            }
        }
    }
    return 0;
}

static int check_args(const GPT *m, int layer, int neuron, int k, int B) {
    int L = m->cfg.n_layer, F = 4 * m->cfg.n_embd;
    if (layer < 0 || layer >= L)
        return em_error("layer %d is out of range: the model has %d layers (0..%d)", layer, L, L - 1);
    if (neuron >= F || neuron < -1)
        return em_error("neuron %d is out of range: layer %d has %d MLP neurons (0..%d)", neuron,
                        layer, F, F - 1);
    if (k < 1) return em_error("top %d: expected at least 1", k);
    if (B < 1) return em_error("batch %d: expected at least 1", B);
    return 0;
}

// Runs the corpus through the model in windows of block_size, B at a time, with the hook.
static int scan(GPT *m, const int *ids, size_t n, int B, Ctx *x) {
    if (n == 0) return em_error("the corpus has no tokens");
    int T = m->cfg.block_size;
    if ((size_t)T > n) T = (int)n;
    size_t full = n / T;
    if ((size_t)B > full) B = (int)full;
    if (gpt_alloc_acts(m, B, T)) return -1;
    for (size_t w = 0; w < full;) {  // whole windows are consecutive in ids: no copy
        int nb = full - w < (size_t)B ? (int)(full - w) : B;
        x->start = w * T;
        gpt_forward_hooked(m, hook_fn, x, ids + x->start, NULL, nb, T);
        w += nb;
    }
    int rem = (int)(n - full * T);
    if (rem > 0) {
        x->start = full * T;
        gpt_forward_hooked(m, hook_fn, x, ids + x->start, NULL, 1, rem);
    }
    return 0;
}

int neuron_top_contexts(GPT *m, const int *ids, size_t n, int layer, int neuron, int k, int B,
                        NeuronHit *out, int *n_out) {
    *n_out = 0;
    if (check_args(m, layer, neuron, k, B)) return -1;
    if (neuron < 0) return em_error("neuron %d is out of range", neuron);
    Ctx x = {.layer = layer, .neuron = neuron, .F = 4 * m->cfg.n_embd,
             .heap = {.h = out, .n = 0, .k = k}};
    if (scan(m, ids, n, B, &x)) return -1;
    qsort(out, x.heap.n, sizeof *out, cmp_hits);
    *n_out = x.heap.n;
    return 0;
}

int neuron_top_neurons(GPT *m, const int *ids, size_t n, int layer, int k, int B,
                       NeuronHit *out, int *n_out) {
    *n_out = 0;
    if (check_args(m, layer, -1, k, B)) return -1;
    int F = 4 * m->cfg.n_embd;
    Ctx x = {.layer = layer, .neuron = -1, .F = F, .best = xcalloc(F, sizeof(NeuronHit))};
    for (int j = 0; j < F; j++) x.best[j] = (NeuronHit){.act = NAN, .pos = (size_t)-1, .neuron = j};
    if (scan(m, ids, n, B, &x)) { free(x.best); return -1; }
    qsort(x.best, F, sizeof *x.best, cmp_hits);
    int nk = k < F ? k : F;
    memcpy(out, x.best, nk * sizeof *out);
    *n_out = nk;
    free(x.best);
    return 0;
}
