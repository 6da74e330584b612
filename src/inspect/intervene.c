// Ablation and activation patching through the forward hooks (see intervene.h).
#include "inspect/intervene.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

// ---- ablation ---------------------------------------------------------------------------
// Sets columns [c0, c0+w) of every row of act (N rows of stride S) to 0 or to their mean.
static void ablate_cols(float *act, int N, int S, int c0, int w, int mode) {
    for (int j = c0; j < c0 + w; j++) {
        float v = 0.0f;
        if (mode == ABL_MEAN) {
            double s = 0.0;  // fixed order: deterministic
            for (int i = 0; i < N; i++) s += act[(size_t)i * S + j];
            v = (float)(s / N);
        }
        for (int i = 0; i < N; i++) act[(size_t)i * S + j] = v;
    }
}

int intervene_ablate_hook(int hook, int layer, float *act, int B, int T, void *ctx) {
    const AblateCtx *a = ctx;
    if (hook != HOOK_ATTN_Z && hook != HOOK_MLP_POST) return 0;
    // hook_z is (B,T,C); mlp.hook_post (B,T,4C); C is recovered from the head count below
    int changed = 0;
    for (int k = 0; k < a->n; k++) {
        const Ablation *s = &a->abl[k];
        if (s->layer != layer) continue;
        if (hook == HOOK_ATTN_Z && s->kind == ABL_HEAD) {
            int C = a->n_embd, HS = C / a->n_head;
            ablate_cols(act, B * T, C, s->head * HS, HS, s->mode);
            changed = 1;
        } else if (hook == HOOK_ATTN_Z && s->kind == ABL_ATTN) {
            ablate_cols(act, B * T, a->n_embd, 0, a->n_embd, s->mode);
            changed = 1;
        } else if (hook == HOOK_MLP_POST && s->kind == ABL_MLP) {
            ablate_cols(act, B * T, 4 * a->n_embd, 0, 4 * a->n_embd, s->mode);
            changed = 1;
        }
    }
    return changed;
}

int intervene_ablation_check(const GPT *m, const Ablation *abl, int n) {
    const GPTConfig *c = &m->cfg;
    for (int k = 0; k < n; k++) {
        const Ablation *s = &abl[k];
        if (s->kind < ABL_HEAD || s->kind > ABL_MLP)
            return em_error("ablation %d: unknown kind %d", k, s->kind);
        if (s->layer < 0 || s->layer >= c->n_layer)
            return em_error("ablation %d: layer %d out of range (the model has %d layers, 0..%d)",
                            k, s->layer, c->n_layer, c->n_layer - 1);
        if (s->kind == ABL_HEAD && (s->head < 0 || s->head >= c->n_head))
            return em_error("ablation %d: head %d out of range (the model has %d heads, 0..%d)",
                            k, s->head, c->n_head, c->n_head - 1);
        if (s->mode != ABL_ZERO && s->mode != ABL_MEAN)
            return em_error("ablation %d: unknown mode %d", k, s->mode);
    }
    return 0;
}

static void ablate_ctx(const GPT *m, AblateCtx *ctx, const Ablation *abl, int n) {
    ctx->abl = abl;
    ctx->n = n;
    ctx->n_head = m->cfg.n_head;
    ctx->n_embd = m->cfg.n_embd;
}

void intervene_ablate_install(GPT *m, AblateCtx *ctx, const Ablation *abl, int n) {
    ablate_ctx(m, ctx, abl, n);
    m->hook = intervene_ablate_hook;
    m->hook_ctx = ctx;
}

void intervene_clear(GPT *m) {
    m->hook = NULL;
    m->hook_ctx = NULL;
}

int intervene_parse_ablations(const char *s, int mode, Ablation *out, int max) {
    int n = 0;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char item[64];
        if (len == 0 || len >= sizeof item)
            return em_error("ablation '%.*s': expected head:L.H, attn:L or mlp:L", (int)len, p);
        memcpy(item, p, len);
        item[len] = 0;
        if (n >= max) return em_error("too many ablations (at most %d)", max);
        Ablation a = {.mode = mode};
        int l, h, used = 0;
        if (sscanf(item, "head:%d.%d%n", &l, &h, &used) == 2 && used == (int)len) {
            a.kind = ABL_HEAD; a.layer = l; a.head = h;
        } else if (sscanf(item, "attn:%d%n", &l, &used) == 1 && used == (int)len) {
            a.kind = ABL_ATTN; a.layer = l;
        } else if (sscanf(item, "mlp:%d%n", &l, &used) == 1 && used == (int)len) {
            a.kind = ABL_MLP; a.layer = l;
        } else {
            return em_error("ablation '%s': expected head:L.H, attn:L or mlp:L", item);
        }
        out[n++] = a;
        p += len;
        if (*p == ',') p++;
    }
    if (n == 0) return em_error("no ablation given (expected head:L.H, attn:L or mlp:L)");
    return n;
}

// log p(target | prompt) from the logits of the last forward (np + nt tokens)
static double target_logprob(const GPT *m, const int *ids, int np, int nt) {
    int n = np + nt, V = m->cfg.vocab_size;
    double s = 0.0;
    for (int j = np; j < n; j++) {  // the logits at j-1 predict ids[j]
        const float *lg = m->a.logits + (size_t)(j - 1) * V;
        s += (double)lg[ids[j]] - m->a.lse[j - 1];
    }
    return s;
}

double intervene_logprob(GPT *m, const int *ids, int np, int nt) {
    gpt_forward(m, ids, NULL, 1, np + nt);
    return target_logprob(m, ids, np, nt);
}

// log p(target | prompt) with the ablations abl[0..n) alone (none: n = 0), whatever hook m has.
static double ablated_logprob(GPT *m, const Ablation *abl, int n, const int *ids, int np, int nt) {
    AblateCtx ctx;
    ablate_ctx(m, &ctx, abl, n);
    gpt_forward_hooked(m, n ? intervene_ablate_hook : NULL, &ctx, ids, NULL, 1, np + nt);
    return target_logprob(m, ids, np, nt);
}

void intervene_sweep_logprob(GPT *m, const int *ids, int np, int nt, int mode, double *base,
                             double *dhead, double *dmlp) {
    double b = ablated_logprob(m, NULL, 0, ids, np, nt);
    *base = b;
    int L = m->cfg.n_layer, NH = m->cfg.n_head;
    for (int l = 0; l < L; l++) {
        for (int h = 0; h < NH; h++) {
            Ablation a = {ABL_HEAD, l, h, mode};
            dhead[l * NH + h] = ablated_logprob(m, &a, 1, ids, np, nt) - b;
        }
        Ablation a = {ABL_MLP, l, 0, mode};
        dmlp[l] = ablated_logprob(m, &a, 1, ids, np, nt) - b;
    }
}

// ---- patching ---------------------------------------------------------------------------
const char *const patch_site_names[PATCH_NUM] = {"resid", "attn", "mlp", "head"};

static int site_hook(int site) {
    return site == PATCH_RESID ? HOOK_RESID_PRE : site == PATCH_MLP ? HOOK_MLP_POST : HOOK_ATTN_Z;
}
static int site_width(const GPTConfig *c, int site) {
    return site == PATCH_MLP ? 4 * c->n_embd : c->n_embd;
}

typedef struct {
    Patcher *p;
    int site, layer, pos, head;  // patch mode
    int record;                  // 1: copy every site's activation into p->clean
} PatchCtx;

static int patch_hook(int hook, int layer, float *act, int B, int T, void *vctx) {
    PatchCtx *x = vctx;
    const GPTConfig *c = &x->p->m->cfg;
    if (x->record) {
        for (int s = PATCH_RESID; s <= PATCH_MLP; s++) {
            if (site_hook(s) != hook) continue;
            size_t n = (size_t)T * site_width(c, s);
            memcpy(x->p->clean[s] + (size_t)layer * n, act, n * sizeof(float));
        }
        return 0;
    }
    if (hook != site_hook(x->site) || layer != x->layer) return 0;
    int W = site_width(c, x->site), HS = c->n_embd / c->n_head;
    int c0 = 0, w = W;
    if (x->site == PATCH_HEAD && x->head >= 0) { c0 = x->head * HS; w = HS; }
    const float *src = x->p->clean[x->site] + (size_t)layer * T * W;
    for (int t = 0; t < T; t++) {
        if (x->pos >= 0 && t != x->pos) continue;
        memcpy(act + (size_t)t * W + c0, src + (size_t)t * W + c0, (size_t)w * sizeof(float));
    }
    return 1;
}

static double last_diff(const GPT *m, int T, int answer, int wrong) {
    const float *lg = m->a.logits + (size_t)(T - 1) * m->cfg.vocab_size;
    return (double)lg[answer] - (double)lg[wrong];
}

int patch_init(Patcher *p, GPT *m, const int *clean, const int *corrupt, int T, int answer,
               int wrong) {
    memset(p, 0, sizeof *p);
    const GPTConfig *c = &m->cfg;
    if (T < 1 || T > c->block_size)
        return em_error("patch: %d tokens (the model's context is %d)", T, c->block_size);
    if (answer < 0 || answer >= c->vocab_size || wrong < 0 || wrong >= c->vocab_size)
        return em_error("patch: answer/wrong token out of the vocabulary");
    if (gpt_alloc_acts(m, 1, T)) return -1;
    p->m = m;
    p->T = T;
    size_t LTC = (size_t)c->n_layer * T * c->n_embd;
    p->clean[PATCH_RESID] = xmalloc(LTC * sizeof(float));
    p->clean[PATCH_ATTN] = xmalloc(LTC * sizeof(float));
    p->clean[PATCH_MLP] = xmalloc(4 * LTC * sizeof(float));
    p->clean[PATCH_HEAD] = p->clean[PATCH_ATTN];  // the same z, sliced per head
    PatchCtx x = {.p = p, .record = 1};
    gpt_forward_hooked(m, patch_hook, &x, clean, NULL, 1, T);
    p->clean_diff = last_diff(m, T, answer, wrong);
    gpt_forward_hooked(m, NULL, NULL, corrupt, NULL, 1, T);
    p->corrupt_diff = last_diff(m, T, answer, wrong);
    return 0;
}

void patch_free(Patcher *p) {
    free(p->clean[PATCH_RESID]);
    free(p->clean[PATCH_ATTN]);
    free(p->clean[PATCH_MLP]);
    memset(p, 0, sizeof *p);
}

double patch_run(Patcher *p, const int *corrupt, int site, int layer, int pos, int head,
                 int answer, int wrong) {
    GPT *m = p->m;
    PatchCtx x = {.p = p, .site = site, .layer = layer, .pos = pos, .head = head};
    gpt_forward_hooked(m, patch_hook, &x, corrupt, NULL, 1, p->T);
    return last_diff(m, p->T, answer, wrong);
}

double patch_recovered(const Patcher *p, double patched) {
    double den = p->clean_diff - p->corrupt_diff;
    if (den == 0.0) return NAN;
    return (patched - p->corrupt_diff) / den;
}

void patch_grid(Patcher *p, const int *corrupt, int site, int answer, int wrong, double *grid) {
    int L = p->m->cfg.n_layer, NH = p->m->cfg.n_head, T = p->T;
    for (int l = 0; l < L; l++) {
        if (site == PATCH_HEAD) {
            for (int h = 0; h < NH; h++)
                grid[l * NH + h] = patch_recovered(p, patch_run(p, corrupt, site, l, -1, h, answer, wrong));
        } else {
            for (int t = 0; t < T; t++)
                grid[l * T + t] = patch_recovered(p, patch_run(p, corrupt, site, l, t, -1, answer, wrong));
        }
    }
}
