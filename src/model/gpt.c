// GPT-2: parameter layout, initialisation, forward and backward.
#include "gpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "kernels/kernels.h"

int gpt_config_check(const GPTConfig *c, const char *where) {
    struct { const char *name; int v, lo, hi; } f[] = {
        {"vocab_size", c->vocab_size, 1, 1 << 24}, {"block_size", c->block_size, 1, 1 << 20},
        {"n_layer", c->n_layer, 1, 4096},          {"n_head", c->n_head, 1, 4096},
        {"n_embd", c->n_embd, 1, 1 << 20},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v < f[i].lo || f[i].v > f[i].hi)
            return em_error("%s: %s must be in [%d, %d], got %d", where, f[i].name, f[i].lo,
                            f[i].hi, f[i].v);
    if (c->n_embd % c->n_head)
        return em_error("%s: n_embd (%d) must be divisible by n_head (%d)", where, c->n_embd,
                        c->n_head);
    return 0;
}

void gpt_param_sizes(const GPTConfig *c, size_t s[NUM_PARAM_KINDS]) {
    size_t V = c->vocab_size, maxT = c->block_size, L = c->n_layer, C = c->n_embd;
    s[P_WTE] = V * C;         s[P_WPE] = maxT * C;
    s[P_LN1W] = L * C;        s[P_LN1B] = L * C;
    s[P_QKVW] = L * C * 3 * C; s[P_QKVB] = L * 3 * C;
    s[P_ATTPROJW] = L * C * C; s[P_ATTPROJB] = L * C;
    s[P_LN2W] = L * C;        s[P_LN2B] = L * C;
    s[P_FCW] = L * C * 4 * C; s[P_FCB] = L * 4 * C;
    s[P_FCPROJW] = L * 4 * C * C; s[P_FCPROJB] = L * C;
    s[P_LNFW] = C;            s[P_LNFB] = C;
}

size_t gpt_num_params(const GPTConfig *c) {
    size_t s[NUM_PARAM_KINDS], n = 0;
    gpt_param_sizes(c, s);
    for (int i = 0; i < NUM_PARAM_KINDS; i++) n += s[i];
    return n;
}

int gpt_kind_decays(int kind) {
    return kind == P_WTE || kind == P_WPE || kind == P_QKVW || kind == P_ATTPROJW ||
           kind == P_FCW || kind == P_FCPROJW;
}

double gpt_train_flops_per_token(const GPTConfig *c, int T, double *weights, double *attention) {
    double w = 6.0 * (double)gpt_num_params(c);
    double at = 12.0 * (double)c->n_layer * (double)c->n_embd * (double)T;
    if (weights) *weights = w;
    if (attention) *attention = at;
    return w + at;
}

void gpt_param_ptrs(const GPTConfig *c, float *base, ParamPtrs *p) {
    size_t s[NUM_PARAM_KINDS];
    gpt_param_sizes(c, s);
    float **f[NUM_PARAM_KINDS] = {&p->wte, &p->wpe, &p->ln1w, &p->ln1b, &p->qkvw, &p->qkvb,
                                  &p->attprojw, &p->attprojb, &p->ln2w, &p->ln2b, &p->fcw,
                                  &p->fcb, &p->fcprojw, &p->fcprojb, &p->lnfw, &p->lnfb};
    for (int i = 0; i < NUM_PARAM_KINDS; i++) { *f[i] = base; base += s[i]; }
}

int gpt_param_table(const GPTConfig *c, ParamInfo *out) {
    static const char *layer_names[] = {
        [P_LN1W] = "ln_1.weight",          [P_LN1B] = "ln_1.bias",
        [P_QKVW] = "attn.c_attn.weight",   [P_QKVB] = "attn.c_attn.bias",
        [P_ATTPROJW] = "attn.c_proj.weight", [P_ATTPROJB] = "attn.c_proj.bias",
        [P_LN2W] = "ln_2.weight",          [P_LN2B] = "ln_2.bias",
        [P_FCW] = "mlp.c_fc.weight",       [P_FCB] = "mlp.c_fc.bias",
        [P_FCPROJW] = "mlp.c_proj.weight", [P_FCPROJB] = "mlp.c_proj.bias",
    };
    int C = c->n_embd, L = c->n_layer;
    // (in, out) shapes per layer kind; out == 0 marks a 1-D tensor
    int shape[NUM_PARAM_KINDS][2] = {
        [P_LN1W] = {C, 0}, [P_LN1B] = {C, 0}, [P_QKVW] = {C, 3 * C}, [P_QKVB] = {3 * C, 0},
        [P_ATTPROJW] = {C, C}, [P_ATTPROJB] = {C, 0}, [P_LN2W] = {C, 0}, [P_LN2B] = {C, 0},
        [P_FCW] = {C, 4 * C}, [P_FCB] = {4 * C, 0}, [P_FCPROJW] = {4 * C, C}, [P_FCPROJB] = {C, 0},
    };
    size_t s[NUM_PARAM_KINDS], off[NUM_PARAM_KINDS], o = 0;
    gpt_param_sizes(c, s);
    for (int k = 0; k < NUM_PARAM_KINDS; k++) { off[k] = o; o += s[k]; }
    int n = 0;
#define ADD(NAME, KIND, LAYER, OFF, D0, D1)                                        \
    do {                                                                           \
        if (out) {                                                                 \
            ParamInfo *pi = &out[n];                                               \
            snprintf(pi->name, sizeof pi->name, "%s", NAME);                       \
            pi->offset = (OFF); pi->kind = (KIND); pi->layer = (LAYER);            \
            pi->shape[0] = (D0); pi->shape[1] = (D1); pi->ndim = (D1) ? 2 : 1;     \
            pi->numel = (size_t)(D0) * ((D1) ? (size_t)(D1) : 1);                  \
            pi->decay = gpt_kind_decays(KIND);                                     \
        }                                                                          \
        n++;                                                                       \
    } while (0)
    ADD("transformer.wte.weight", P_WTE, -1, off[P_WTE], c->vocab_size, C);
    ADD("transformer.wpe.weight", P_WPE, -1, off[P_WPE], c->block_size, C);
    for (int l = 0; l < L; l++)
        for (int k = P_LN1W; k <= P_FCPROJB; k++) {
            char name[64];
            snprintf(name, sizeof name, "transformer.h.%d.%s", l, layer_names[k]);
            size_t per = s[k] / L;
            ADD(name, k, l, off[k] + per * l, shape[k][0], shape[k][1]);
        }
    ADD("transformer.ln_f.weight", P_LNFW, -1, off[P_LNFW], C, 0);
    ADD("transformer.ln_f.bias", P_LNFB, -1, off[P_LNFB], C, 0);
#undef ADD
    return n;
}

// ---- activations ----------------------------------------------------------
static size_t act_layout(const GPTConfig *c, int B, int T, float *base, Acts *a) {
    size_t L = c->n_layer, C = c->n_embd, NH = c->n_head, V = c->vocab_size, BT = (size_t)B * T;
    struct { float **p; size_t n; } f[] = {
        {&a->encoded, BT * C},     {&a->ln1, L * BT * C},       {&a->ln1_mean, L * BT},
        {&a->ln1_rstd, L * BT},    {&a->qkv, L * BT * 3 * C},   {&a->att, L * B * NH * T * T},
        {&a->atty, L * BT * C},    {&a->res2, L * BT * C},      {&a->ln2, L * BT * C},
        {&a->ln2_mean, L * BT},    {&a->ln2_rstd, L * BT},      {&a->fch, L * BT * 4 * C},
        {&a->fch_gelu, L * BT * 4 * C}, {&a->res3, L * BT * C}, {&a->lnf, BT * C},
        {&a->lnf_mean, BT},        {&a->lnf_rstd, BT},          {&a->logits, BT * V},
        {&a->lse, BT},             {&a->losses, BT},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (base) *f[i].p = base + n;
        n += f[i].n;
    }
    return n;
}

static size_t grad_layout(const GPTConfig *c, int B, int T, float *base, Grads *g) {
    size_t C = c->n_embd, NH = c->n_head, BT = (size_t)B * T;
    struct { float **p; size_t n; } f[] = {
        {&g->dres, BT * C}, {&g->dbuf, BT * C}, {&g->dqkv, BT * 3 * C},
        {&g->datt, B * NH * T * T}, {&g->dfch, BT * 4 * C}, {&g->dfchg, BT * 4 * C},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (base) *f[i].p = base + n;
        n += f[i].n;
    }
    return n;
}

size_t gpt_act_floats(const GPTConfig *c, int B, int T) { Acts a; return act_layout(c, B, T, NULL, &a); }
size_t gpt_grad_act_floats(const GPTConfig *c, int B, int T) { Grads g; return grad_layout(c, B, T, NULL, &g); }

// ---- lifecycle --------------------------------------------------------------
int gpt_create(GPT *m, const GPTConfig *cfg) {
    memset(m, 0, sizeof *m);
    if (gpt_config_check(cfg, "model config")) return -1;
    m->cfg = *cfg;
    m->num_params = gpt_num_params(cfg);
    m->params = xcalloc_big(m->num_params, sizeof(float));
    gpt_param_ptrs(cfg, m->params, &m->p);
    m->loss = NAN;
    return 0;
}

void gpt_init_weights(GPT *m, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    const GPTConfig *c = &m->cfg;
    int n = gpt_param_table(c, NULL);
    ParamInfo *t = xmalloc(n * sizeof *t);
    gpt_param_table(c, t);
    float proj_std = 0.02f / sqrtf(2.0f * c->n_layer);
    for (int i = 0; i < n; i++) {
        float *p = m->params + t[i].offset;
        int k = t[i].kind;
        if (k == P_LN1W || k == P_LN2W || k == P_LNFW) {
            for (size_t j = 0; j < t[i].numel; j++) p[j] = 1.0f;
        } else if (t[i].ndim == 1) {
            memset(p, 0, t[i].numel * sizeof(float));
        } else {
            float std = (k == P_ATTPROJW || k == P_FCPROJW) ? proj_std : 0.02f;
            for (size_t j = 0; j < t[i].numel; j++) p[j] = std * rng_normal(&r);
        }
    }
    free(t);
}

void gpt_alloc_grads(GPT *m) {
    if (m->grads) return;
    m->grads = xcalloc_big(m->num_params, sizeof(float));
    gpt_param_ptrs(&m->cfg, m->grads, &m->g);
}

int gpt_alloc_acts(GPT *m, int B, int T) {
    if (B < 1 || T < 1 || T > m->cfg.block_size)
        return em_error("batch shape (%d, %d): need B >= 1 and 1 <= T <= block_size %d", B, T,
                        m->cfg.block_size);
    if (m->act_mem && B <= m->maxB && T <= m->maxT) return 0;
    free(m->act_mem);
    free(m->gact_mem);
    m->act_mem = xcalloc_big(gpt_act_floats(&m->cfg, B, T), sizeof(float));
    m->gact_mem = xcalloc_big(gpt_grad_act_floats(&m->cfg, B, T), sizeof(float));
    m->maxB = B;
    m->maxT = T;
    return 0;
}

void gpt_free(GPT *m) {
    free(m->params);
    free(m->grads);
    free(m->act_mem);
    free(m->gact_mem);
    memset(m, 0, sizeof *m);
}

// ---- forward / backward -----------------------------------------------------
const char *const gpt_prof_names[PROF_NUM] = {"matmul", "attention", "norm+activation", "head+loss"};
const char *const gpt_hook_names[HOOK_NUM] = {"hook_resid_pre", "hook_resid_mid", "hook_resid_post",
                                              "attn.hook_pattern", "attn.hook_z", "mlp.hook_post"};
#define HOOK(id, l, act) (m->hook ? m->hook(id, l, act, B, T, m->hook_ctx) : 0)

// Charges the time since *t to family f when profiling (one clock read per op).
static inline void prof(GPT *m, double *acc, int f, double *t) {
    if (!m->profile) return;
    double now = now_sec();
    acc[f] += now - *t;
    *t = now;
}
#define PF(f) prof(m, m->prof_fwd, f, &tp)
#define PB(f) prof(m, m->prof_bwd, f, &tp)
// The arena is laid out for the actual (B, T) of each call, inside the capacity.
void gpt_forward(GPT *m, const int *inputs, const int *targets, int B, int T) {
    const GPTConfig *c = &m->cfg;
    int L = c->n_layer, C = c->n_embd, NH = c->n_head, V = c->vocab_size, N = B * T;
    // The arena was sized by gpt_alloc_acts and the ids come from a tokenizer checked
    // against V: a call outside either is a bug in the caller, stopped before it writes.
    if (!m->act_mem || B < 1 || T < 1 || B > m->maxB || T > m->maxT) {
        fprintf(stderr, "gpt_forward: batch (%d, %d) outside the arena (%d, %d)\n", B, T,
                m->maxB, m->maxT);
        abort();
    }
    m->acts_hooked = m->hook != NULL;
    for (int i = 0; i < N; i++)
        if ((unsigned)inputs[i] >= (unsigned)V) {
            fprintf(stderr, "gpt_forward: token id %d at %d outside the vocabulary (%d)\n",
                    inputs[i], i, V);
            abort();
        }
    Acts *a = &m->a;
    act_layout(c, B, T, m->act_mem, a);
    grad_layout(c, B, T, m->gact_mem, &m->ga);
    ParamPtrs *p = &m->p;
    m->B = B;
    m->T = T;
    m->targets = targets;

    double tp = m->profile ? now_sec() : 0.0;
    encoder_forward(a->encoded, inputs, p->wte, p->wpe, B, T, C);
    PF(PROF_NORM_ACT);
    for (int l = 0; l < L; l++) {
        const float *x = l == 0 ? a->encoded : a->res3 + (size_t)(l - 1) * N * C;
        size_t oC = (size_t)l * N * C;
        float *ln1 = a->ln1 + oC, *qkv = a->qkv + 3 * oC, *atty = a->atty + oC;
        float *att = a->att + (size_t)l * B * NH * T * T;
        float *res2 = a->res2 + oC, *ln2 = a->ln2 + oC, *res3 = a->res3 + oC;
        float *fch = a->fch + 4 * oC, *fchg = a->fch_gelu + 4 * oC;
        HOOK(HOOK_RESID_PRE, l, (float *)x);
        layernorm_forward(ln1, a->ln1_mean + (size_t)l * N, a->ln1_rstd + (size_t)l * N, x,
                          p->ln1w + (size_t)l * C, p->ln1b + (size_t)l * C, N, C);
        PF(PROF_NORM_ACT);
        matmul_forward(qkv, ln1, p->qkvw + (size_t)l * C * 3 * C, p->qkvb + (size_t)l * 3 * C,
                       N, C, 3 * C, 0);
        PF(PROF_MATMUL);
        attention_forward(atty, att, qkv, B, T, C, NH);
        if (HOOK(HOOK_ATTN_PATTERN, l, att)) attention_apply(atty, att, qkv, B, T, C, NH);
        HOOK(HOOK_ATTN_Z, l, atty);
        PF(PROF_ATTN);
        // res2 = x + (atty @ Wproj + b)
        matmul_forward_residual(res2, x, atty, p->attprojw + (size_t)l * C * C,
                                p->attprojb + (size_t)l * C, N, C, C);
        PF(PROF_MATMUL);
        HOOK(HOOK_RESID_MID, l, res2);
        layernorm_forward(ln2, a->ln2_mean + (size_t)l * N, a->ln2_rstd + (size_t)l * N, res2,
                          p->ln2w + (size_t)l * C, p->ln2b + (size_t)l * C, N, C);
        PF(PROF_NORM_ACT);
        matmul_forward(fch, ln2, p->fcw + (size_t)l * C * 4 * C, NULL, N, C, 4 * C, 0);
        PF(PROF_MATMUL);
        bias_gelu_forward(fch, fchg, p->fcb + (size_t)l * 4 * C, N, 4 * C);  // fch += b; gelu
        HOOK(HOOK_MLP_POST, l, fchg);
        PF(PROF_NORM_ACT);
        // res3 = res2 + mlp(ln2)
        matmul_forward_residual(res3, res2, fchg, p->fcprojw + (size_t)l * 4 * C * C,
                                p->fcprojb + (size_t)l * C, N, 4 * C, C);
        PF(PROF_MATMUL);
        HOOK(HOOK_RESID_POST, l, res3);
    }
    const float *xL = a->res3 + (size_t)(L - 1) * N * C;
    layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, xL, p->lnfw, p->lnfb, N, C);
    PF(PROF_NORM_ACT);
    head_forward(a->logits, a->lnf, p->wte, N, C, V);
    m->n_valid = xent_forward(a->losses, a->lse, a->logits, targets, N, V);
    PF(PROF_HEAD_LOSS);
    if (targets && m->n_valid > 0) {
        double s = 0.0;  // fixed order: deterministic
        for (int i = 0; i < N; i++) s += a->losses[i];
        m->loss = (float)(s / m->n_valid);
    } else {
        m->loss = NAN;
    }
}

void gpt_forward_hooked(GPT *m, GPTHook hook, void *ctx, const int *inputs, const int *targets,
                        int B, int T) {
    GPTHook old = m->hook;
    void *old_ctx = m->hook_ctx;
    m->hook = hook;
    m->hook_ctx = ctx;
    gpt_forward(m, inputs, targets, B, T);
    m->hook = old;
    m->hook_ctx = old_ctx;
}

void gpt_unembed(const GPT *m, const float *x, int N, float *logits) {
    int C = m->cfg.n_embd;
    float *ln = xmalloc(sizeof(float) * (size_t)N * C);   // (N, C)
    float *mean = xmalloc(sizeof(float) * (size_t)N), *rstd = xmalloc(sizeof(float) * (size_t)N);
    layernorm_forward(ln, mean, rstd, x, m->p.lnfw, m->p.lnfb, N, C);
    head_forward(logits, ln, m->p.wte, N, C, m->cfg.vocab_size);
    free(rstd); free(mean); free(ln);
}

void gpt_zero_grad(GPT *m) { m->grads_stale = 1; }

void gpt_grads_materialize(GPT *m) {
    if (m->grads && m->grads_stale) memset(m->grads, 0, m->num_params * sizeof(float));
    m->grads_stale = 0;
}

void gpt_backward(GPT *m, const int *inputs, float scale) {
    gpt_alloc_grads(m);
    const GPTConfig *c = &m->cfg;
    int B = m->B, T = m->T, L = c->n_layer, C = c->n_embd, NH = c->n_head, V = c->vocab_size;
    int N = B * T;
    Acts *a = &m->a;
    Grads *ga = &m->ga;
    ParamPtrs *p = &m->p, *g = &m->g;
    if (!m->targets || m->n_valid == 0) {
        gpt_grads_materialize(m);
        return;
    }
    // After gpt_zero_grad each parameter gradient is written, not added (no pass over memory
    // to zero them): the position embeddings' gradient is only ever added to, so it alone is
    // zeroed; wte's is written by the head first and then added to by the embedding.
    int sp = m->grads_stale;
    m->grads_stale = 0;
    if (sp) memset(g->wpe, 0, sizeof(float) * (size_t)c->block_size * C);

    double tp = m->profile ? now_sec() : 0.0;
    // head: logits become dlogits in place; dres = d(lnf input)
    xent_backward(a->logits, a->lse, m->targets, scale / m->n_valid, N, V);
    memset(ga->dbuf, 0, (size_t)N * C * sizeof(float));
    head_backward(ga->dbuf, g->wte, a->logits, a->lnf, p->wte, N, C, V, sp);
    PB(PROF_HEAD_LOSS);
    memset(ga->dres, 0, (size_t)N * C * sizeof(float));
    const float *xL = a->res3 + (size_t)(L - 1) * N * C;
    layernorm_backward(ga->dres, g->lnfw, g->lnfb, ga->dbuf, xL, p->lnfw, a->lnf_mean,
                       a->lnf_rstd, N, C, sp);
    PB(PROF_NORM_ACT);

    for (int l = L - 1; l >= 0; l--) {
        const float *x = l == 0 ? a->encoded : a->res3 + (size_t)(l - 1) * N * C;
        size_t oC = (size_t)l * N * C;
        // MLP: res3 = res2 + fcproj(gelu(fc(ln2(res2)))); dres carries d res3 -> d res2
        matmul_backward_set(ga->dfchg, g->fcprojw + (size_t)l * 4 * C * C, g->fcprojb + (size_t)l * C,
                        ga->dres, a->fch_gelu + 4 * oC, p->fcprojw + (size_t)l * 4 * C * C, N,
                        4 * C, C, sp);
        PB(PROF_MATMUL);
        float *dfch = ga->dfch;
        // tanh read back from the forward's output, unless a hook may have changed it
        if (m->acts_hooked)
            gelu_backward_set(dfch, a->fch + 4 * oC, ga->dfchg, (size_t)N * 4 * C);
        else
            gelu_backward_out(dfch, a->fch + 4 * oC, a->fch_gelu + 4 * oC, ga->dfchg,
                              (size_t)N * 4 * C);
        PB(PROF_NORM_ACT);
        matmul_backward_set(ga->dbuf, g->fcw + (size_t)l * C * 4 * C, g->fcb + (size_t)l * 4 * C, dfch,
                        a->ln2 + oC, p->fcw + (size_t)l * C * 4 * C, N, C, 4 * C, sp);
        PB(PROF_MATMUL);
        layernorm_backward(ga->dres, g->ln2w + (size_t)l * C, g->ln2b + (size_t)l * C, ga->dbuf,
                           a->res2 + oC, p->ln2w + (size_t)l * C, a->ln2_mean + (size_t)l * N,
                           a->ln2_rstd + (size_t)l * N, N, C, sp);
        PB(PROF_NORM_ACT);
        // attention: res2 = x + attproj(attn(qkv(ln1(x))))
        matmul_backward_set(ga->dbuf, g->attprojw + (size_t)l * C * C, g->attprojb + (size_t)l * C,
                        ga->dres, a->atty + oC, p->attprojw + (size_t)l * C * C, N, C, C, sp);
        PB(PROF_MATMUL);
        attention_backward_set(ga->dqkv, ga->datt, ga->dbuf, a->qkv + 3 * oC,
                               a->att + (size_t)l * B * NH * T * T, B, T, C, NH);
        PB(PROF_ATTN);
        matmul_backward_set(ga->dbuf, g->qkvw + (size_t)l * C * 3 * C, g->qkvb + (size_t)l * 3 * C,
                        ga->dqkv, a->ln1 + oC, p->qkvw + (size_t)l * C * 3 * C, N, C, 3 * C, sp);
        PB(PROF_MATMUL);
        layernorm_backward(ga->dres, g->ln1w + (size_t)l * C, g->ln1b + (size_t)l * C, ga->dbuf, x,
                           p->ln1w + (size_t)l * C, a->ln1_mean + (size_t)l * N,
                           a->ln1_rstd + (size_t)l * N, N, C, sp);
        PB(PROF_NORM_ACT);
        if (m->grads_done) m->grads_done(m->grads_ctx, l);
    }
    encoder_backward(g->wte, g->wpe, ga->dres, inputs, B, T, C);
    PB(PROF_NORM_ACT);
    if (m->grads_done) m->grads_done(m->grads_ctx, -1);
}
