// Decoding with a KV cache: each new token costs one position's forward.
#include "generate.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

void kv_init_batch(KVCache *kv, const GPT *m, int B) {
    const GPTConfig *c = &m->cfg;
    size_t L = c->n_layer, T = c->block_size, C = c->n_embd;
    memset(kv, 0, sizeof *kv);
    kv->m = m;
    kv->B = B;
    // rows of one forward: a step of B slots, or a piece of a prefill
    size_t R = (size_t)(B > KV_PREFILL_ROWS ? B : KV_PREFILL_ROWS);
    kv->rows = (int)R;
    kv->lens = xcalloc(B, sizeof(int));
    kv->pos = xcalloc(R, sizeof(int));
    kv->k = xcalloc_big(B * L * T * C, sizeof(float));
    kv->v = xcalloc_big(B * L * T * C, sizeof(float));
    kv->x = xcalloc(R * C, sizeof(float));
    kv->ln = xcalloc(R * C, sizeof(float));
    kv->qkv = xcalloc(R * 3 * C, sizeof(float));
    kv->atty = xcalloc(R * C, sizeof(float));
    kv->fch = xcalloc(R * 4 * C, sizeof(float));
    kv->fchg = xcalloc(R * 4 * C, sizeof(float));
    kv->att = xcalloc(R * c->n_head * T, sizeof(float));
    kv->logits = xcalloc((size_t)B * c->vocab_size, sizeof(float));
}

void kv_init(KVCache *kv, const GPT *m) { kv_init_batch(kv, m, 1); }

void kv_free(KVCache *kv) {
    free(kv->lens); free(kv->pos); free(kv->k); free(kv->v); free(kv->x); free(kv->ln); free(kv->qkv);
    free(kv->atty); free(kv->fch); free(kv->fchg); free(kv->att); free(kv->logits);
    free(kv->part);
    memset(kv, 0, sizeof *kv);
}

void kv_reset(KVCache *kv) {
    memset(kv->lens, 0, kv->B * sizeof(int));
    kv->len = 0;
}

// Row r's query against its slot's cached keys up to its position kv->pos[r], head h.
static void kv_attend(KVCache *kv, int l, const int *slots, int r, int h) {
    const GPTConfig *c = &kv->m->cfg;
    int C = c->n_embd, NH = c->n_head, HS = C / NH, maxT = c->block_size, L = c->n_layer;
    float scale = 1.0f / sqrtf((float)HS);
    int b = slots[r], t = kv->pos[r];
    const float *K = kv->k + ((size_t)b * L + l) * maxT * C;
    const float *V = kv->v + ((size_t)b * L + l) * maxT * C;
    const float *q = kv->qkv + (size_t)r * 3 * C + h * HS;
    float *att = kv->att + ((size_t)r * NH + h) * maxT, mx = -INFINITY, sum = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        const float *k = K + (size_t)t2 * C + h * HS;
        float acc[8] = {0}, s = 0.0f;  // 8 lanes: the dot product vectorizes
        int i = 0;
        for (; i + 8 <= HS; i += 8)
            for (int j = 0; j < 8; j++) acc[j] += q[i + j] * k[i + j];
        for (; i < HS; i++) s += q[i] * k[i];
        for (int j = 0; j < 8; j++) s += acc[j];
        att[t2] = s * scale;
        if (att[t2] > mx) mx = att[t2];
    }
    for (int t2 = 0; t2 <= t; t2++) { att[t2] = expf(att[t2] - mx); sum += att[t2]; }
    float *o = kv->atty + (size_t)r * C + h * HS;
    for (int i = 0; i < HS; i++) o[i] = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        const float *v = V + (size_t)t2 * C + h * HS;
        float w = att[t2] / sum;
        for (int i = 0; i < HS; i++) o[i] += w * v[i];
    }
}

// One query per row, head by head (rows of one slot at several positions see only the keys
// at or before their own).
static void kv_attention(KVCache *kv, int l, const int *slots, int n) {
    int NH = kv->m->cfg.n_head;
    long work = 0;
    for (int r = 0; r < n; r++) work += (long)(kv->pos[r] + 1) * kv->m->cfg.n_embd;
#pragma omp parallel for collapse(2) schedule(static) if (work >= 65536)
    for (int r = 0; r < n; r++)
        for (int h = 0; h < NH; h++) kv_attend(kv, l, slots, r, h);
}

// The forward of one row (slot, token at kv->pos[0]) in one parallel region: each of the n
// threads takes a band of every product's input rows (partials added in thread order) and a
// range of its outputs, and the threads meet at a spinning barrier six times a layer rather
// than opening a region per product, whose workers would sleep between them. Thread t's
// heads are the attention it computes and the rows of the output projection it reads, so
// the attention needs no meeting of its own. Leaves the final LayerNorm in kv->ln.
static void kv_forward_one(KVCache *kv, int slot, int token) {
    const GPT *m = kv->m;
    const GPTConfig *c = &m->cfg;
    const ParamPtrs *p = &m->p;
    int C = c->n_embd, NH = c->n_head, HS = C / NH, maxT = c->block_size, L = c->n_layer;
    int pos = kv->pos[0], nt = em_threads();
    if (kv->part_threads < nt) {  // partials of 4C and C outputs, and a LayerNorm, per thread
        free(kv->part);
        kv->part = xmalloc((size_t)nt * 6 * C * sizeof(float));
        kv->part_threads = nt;
    }
    float *x = kv->x, *qkv = kv->qkv, *atty = kv->atty;
    SpinBarrier bar = {0};
    encoder_forward(x, &token, p->wte, p->wpe + (size_t)pos * C, 1, 1, C);
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        float *pa = kv->part, *pb = kv->part + (size_t)n * 4 * C;  // (n,4C), (n,C)
        float *ln = kv->part + (size_t)n * 5 * C + (size_t)t * C, mean, rstd;
        int lo = (int)((long)C * t / n), hi = (int)((long)C * (t + 1) / n);
        int lo4 = (int)((long)4 * C * t / n), hi4 = (int)((long)4 * C * (t + 1) / n);
        int h0 = (int)((long)NH * t / n), h1 = (int)((long)NH * (t + 1) / n);
        for (int l = 0; l < L; l++) {
            const float *qkvb = p->qkvb + (size_t)l * 3 * C, *projb = p->attprojb + (size_t)l * C;
            const float *fcb = p->fcb + (size_t)l * 4 * C, *fcprojb = p->fcprojb + (size_t)l * C;
            layernorm_forward(ln, &mean, &rstd, x, p->ln1w + (size_t)l * C,
                              p->ln1b + (size_t)l * C, 1, C);
            gemv_band(pa + (size_t)t * 3 * C, ln, p->qkvw + (size_t)l * C * 3 * C, lo, hi, 3 * C);
            spin_barrier_wait(&bar, n);
            // this thread's heads: their q, k, v columns, the cache, the attention
            size_t off = (((size_t)slot * L + l) * maxT + pos) * C;
            for (int part = 0; part < 3; part++)
                for (int o = part * C + h0 * HS; o < part * C + h1 * HS; o++) {
                    float s = qkvb[o];
                    for (int k = 0; k < n; k++) s += pa[(size_t)k * 3 * C + o];
                    qkv[o] = s;
                    if (part == 1) kv->k[off + o - C] = s;
                    if (part == 2) kv->v[off + o - 2 * C] = s;
                }
            for (int h = h0; h < h1; h++) kv_attend(kv, l, &slot, 0, h);
            gemv_band(pb + (size_t)t * C, atty, p->attprojw + (size_t)l * C * C, h0 * HS, h1 * HS, C);
            spin_barrier_wait(&bar, n);
            for (int o = lo; o < hi; o++) {  // x += proj + bias
                float s = x[o] + projb[o];
                for (int k = 0; k < n; k++) s += pb[(size_t)k * C + o];
                x[o] = s;
            }
            spin_barrier_wait(&bar, n);
            layernorm_forward(ln, &mean, &rstd, x, p->ln2w + (size_t)l * C,
                              p->ln2b + (size_t)l * C, 1, C);
            gemv_band(pa + (size_t)t * 4 * C, ln, p->fcw + (size_t)l * C * 4 * C, lo, hi, 4 * C);
            spin_barrier_wait(&bar, n);
            for (int o = lo4; o < hi4; o++) {  // fch = fc + bias, then its GELU
                float s = fcb[o];
                for (int k = 0; k < n; k++) s += pa[(size_t)k * 4 * C + o];
                kv->fch[o] = s;
            }
            gelu_forward(kv->fchg + lo4, kv->fch + lo4, (size_t)(hi4 - lo4));
            gemv_band(pb + (size_t)t * C, kv->fchg, p->fcprojw + (size_t)l * 4 * C * C, lo4, hi4, C);
            spin_barrier_wait(&bar, n);
            for (int o = lo; o < hi; o++) {
                float s = x[o] + fcprojb[o];
                for (int k = 0; k < n; k++) s += pb[(size_t)k * C + o];
                x[o] = s;
            }
            spin_barrier_wait(&bar, n);
        }
        if (t == 0) layernorm_forward(kv->ln, &mean, &rstd, x, p->lnfw, p->lnfb, 1, C);
    }
}

// The forward of n rows: row r puts tokens[r] at position kv->pos[r] of slot slots[r],
// its keys and values into the cache. Leaves the final LayerNorm of each row in kv->ln.
static void kv_forward_rows(KVCache *kv, const int *slots, const int *tokens, int n) {
    const GPT *m = kv->m;
    const GPTConfig *c = &m->cfg;
    const ParamPtrs *p = &m->p;
    int C = c->n_embd, maxT = c->block_size, L = c->n_layer;
    if (n == 1) {
        kv_forward_one(kv, slots[0], tokens[0]);
        return;
    }
    float *mean = kv->att, *rstd = kv->att + n;  // LayerNorm statistics: unused scratch
    for (int r = 0; r < n; r++)
        encoder_forward(kv->x + (size_t)r * C, &tokens[r], p->wte,
                        p->wpe + (size_t)kv->pos[r] * C, 1, 1, C);
    for (int l = 0; l < L; l++) {
        layernorm_forward(kv->ln, mean, rstd, kv->x, p->ln1w + (size_t)l * C,
                          p->ln1b + (size_t)l * C, n, C);
        matmul_forward(kv->qkv, kv->ln, p->qkvw + (size_t)l * C * 3 * C,
                       p->qkvb + (size_t)l * 3 * C, n, C, 3 * C, 0);
        for (int r = 0; r < n; r++) {
            int b = slots[r], t = kv->pos[r];
            size_t off = (((size_t)b * L + l) * maxT + t) * C;
            memcpy(kv->k + off, kv->qkv + (size_t)r * 3 * C + C, C * sizeof(float));
            memcpy(kv->v + off, kv->qkv + (size_t)r * 3 * C + 2 * C, C * sizeof(float));
        }
        kv_attention(kv, l, slots, n);
        matmul_forward(kv->x, kv->atty, p->attprojw + (size_t)l * C * C,
                       p->attprojb + (size_t)l * C, n, C, C, 1);
        layernorm_forward(kv->ln, mean, rstd, kv->x, p->ln2w + (size_t)l * C,
                          p->ln2b + (size_t)l * C, n, C);
        matmul_forward(kv->fch, kv->ln, p->fcw + (size_t)l * C * 4 * C,
                       p->fcb + (size_t)l * 4 * C, n, C, 4 * C, 0);
        gelu_forward(kv->fchg, kv->fch, (size_t)n * 4 * C);
        matmul_forward(kv->x, kv->fchg, p->fcprojw + (size_t)l * 4 * C * C,
                       p->fcprojb + (size_t)l * C, n, 4 * C, C, 1);
    }
    layernorm_forward(kv->ln, mean, rstd, kv->x, p->lnfw, p->lnfb, n, C);
}

void kv_step_batch(KVCache *kv, const int *slots, const int *tokens, int n) {
    const GPTConfig *c = &kv->m->cfg;
    for (int r = 0; r < n; r++) kv->pos[r] = kv->lens[slots[r]];
    kv_forward_rows(kv, slots, tokens, n);
    head_forward(kv->logits, kv->ln, kv->m->p.wte, n, c->n_embd, c->vocab_size);
    for (int r = 0; r < n; r++) kv->lens[slots[r]]++;
    kv->len = kv->lens[0];
}

void kv_prefill(KVCache *kv, const int *tokens, int n) {
    const GPTConfig *c = &kv->m->cfg;
    int *slots = xcalloc((size_t)kv->rows, sizeof(int));  // all slot 0
    for (int o = 0; o < n; o += kv->rows) {
        int k = n - o < kv->rows ? n - o : kv->rows;
        for (int r = 0; r < k; r++) kv->pos[r] = kv->lens[0] + r;
        kv_forward_rows(kv, slots, tokens + o, k);
        kv->lens[0] += k;
        if (o + k == n)  // the logits of the last token only
            head_forward(kv->logits, kv->ln + (size_t)(k - 1) * c->n_embd, kv->m->p.wte, 1,
                         c->n_embd, c->vocab_size);
    }
    kv->len = kv->lens[0];
    free(slots);
}

void kv_step(KVCache *kv, int token) {
    int slot = 0;
    kv_step_batch(kv, &slot, &token, 1);
}

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

int gpt_sample_token(const float *logits, int V, const SampleConfig *cfg, Rng *r, float *scratch) {
    int best = 0;
    for (int i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    if (cfg->temperature <= 0.0f) return best;
    float *p = scratch, *sorted = scratch + V;
    float mx = logits[best], inv_t = 1.0f / cfg->temperature;
    // the cut-off logit implied by top-k
    float cut = -INFINITY;
    if (cfg->top_k > 0 && cfg->top_k < V) {
        memcpy(sorted, logits, V * sizeof(float));
        qsort(sorted, V, sizeof(float), cmp_desc);
        cut = sorted[cfg->top_k - 1];
    }
    double sum = 0.0;
    for (int i = 0; i < V; i++) {
        p[i] = logits[i] >= cut ? expf((logits[i] - mx) * inv_t) : 0.0f;
        sum += p[i];
    }
    // top-p: keep the smallest set of most likely tokens whose mass reaches top_p
    if (cfg->top_p > 0.0f && cfg->top_p < 1.0f) {
        memcpy(sorted, p, V * sizeof(float));
        qsort(sorted, V, sizeof(float), cmp_desc);
        double acc = 0.0;
        float pcut = sorted[0];
        for (int i = 0; i < V; i++) {
            acc += sorted[i] / sum;
            pcut = sorted[i];
            if (acc >= cfg->top_p) break;
        }
        sum = 0.0;
        for (int i = 0; i < V; i++) { if (p[i] < pcut) p[i] = 0.0f; sum += p[i]; }
    }
    double u = rng_uniform(r) * sum, acc = 0.0;
    int last = best;
    for (int i = 0; i < V; i++) {
        if (p[i] <= 0.0f) continue;
        acc += p[i];
        last = i;
        if (u < acc) return i;
    }
    return last;
}

int gpt_generate(const GPT *m, const int *prompt, int n_prompt, int max_new,
             const SampleConfig *cfg, Rng *r, int *out, void (*emit)(int, void *), void *ctx) {
    int maxT = m->cfg.block_size, V = m->cfg.vocab_size, n = n_prompt;
    memcpy(out, prompt, n_prompt * sizeof(int));
    KVCache kv;
    kv_init(&kv, m);
    float *scratch = xmalloc(2 * (size_t)V * sizeof(float));
    // prefill: the last maxT tokens of the prompt
    int start = n > maxT ? n - maxT : 0;
    kv_prefill(&kv, out + start, n - start);
    for (int j = 0; j < max_new; j++) {
        int tok = gpt_sample_token(kv.logits, V, cfg, r, scratch);
        out[n++] = tok;
        if (emit) emit(tok, ctx);
        if (j == max_new - 1) break;
        if (kv.len < maxT) {
            kv_step(&kv, tok);
        } else if (cfg->context == CTX_HALVE) {  // rebuild from the recent half, then step
            kv_reset(&kv);
            kv_prefill(&kv, out + n - 1 - maxT / 2, maxT / 2);
            kv_step(&kv, tok);
        } else {  // every position moved: the cache of the last maxT tokens, anew
            kv_reset(&kv);
            kv_prefill(&kv, out + n - maxT, maxT);
        }
    }
    free(scratch);
    kv_free(&kv);
    return n;
}
