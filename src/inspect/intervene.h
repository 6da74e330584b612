// intervene: ablation and activation patching, through the forward pass's hooks only
// (gpt.h: m->hook / m->hook_ctx); nothing here recomputes any part of the model.
//
// Ablation. A spec removes one component's contribution:
//   ABL_HEAD (layer, head)  the head's slice of attn.hook_z (B,T,NH,HS), before c_proj;
//   ABL_ATTN (layer)        every head's z of the layer (so c_proj sees only its bias);
//   ABL_MLP  (layer)        mlp.hook_post (B,T,4C), after the GELU (only c_proj's bias stays).
// Modes: ABL_ZERO sets the activation to 0. ABL_MEAN replaces it, at every position, by its
// mean over all B*T positions of the SAME forward call (the prompt batch being scored), per
// feature: a reference set is not needed, and a one-position forward is left unchanged.
//
// Patching. Run the clean prompt once, recording every layer's activation at the site; then
// run the corrupted prompt (same token length) with the clean values written in at one
// (layer, position), or for PATCH_HEAD one head's z slice at every position, and measure the
// logit difference logit(answer) - logit(wrong) at the last position.
//   recovered = (patched - corrupted) / (clean - corrupted)   (NaN when clean == corrupted)
// Sites: PATCH_RESID blocks.l.hook_resid_pre (the residual stream entering block l);
// PATCH_ATTN attn.hook_z, all heads of block l at one position (the attention output before
// c_proj, which the c_proj linear map turns into the attention output); PATCH_MLP
// mlp.hook_post at one position; PATCH_HEAD attn.hook_z of one head, all positions.
#ifndef EMERGENT_INTERVENE_H
#define EMERGENT_INTERVENE_H

#include <stdint.h>

#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

enum { ABL_HEAD, ABL_ATTN, ABL_MLP };
enum { ABL_ZERO, ABL_MEAN };
typedef struct {
    int kind;    // ABL_*
    int layer;
    int head;    // ABL_HEAD only
    int mode;    // ABL_ZERO or ABL_MEAN
} Ablation;

// The hook context for a list of ablations (applied together).
typedef struct {
    const Ablation *abl;
    int n;
    int n_head, n_embd;
} AblateCtx;
// The hook itself (install with intervene_ablate_install, or by hand as m->hook, ctx).
int intervene_ablate_hook(int hook, int layer, float *act, int B, int T, void *ctx);
// Checks every spec against the model's config; -1 with a message naming the bad one.
int intervene_ablation_check(const GPT *m, const Ablation *abl, int n);
// Installs the hook on m (ctx must outlive the forwards); intervene_clear removes it.
void intervene_ablate_install(GPT *m, AblateCtx *ctx, const Ablation *abl, int n);
void intervene_clear(GPT *m);
// Parses "head:L.H", "attn:L", "mlp:L" (comma-separated list) with the given mode into
// out[0..max); returns the count, or -1 with a message.
int intervene_parse_ablations(const char *s, int mode, Ablation *out, int max);

// log p(ids[np..np+nt) | ids[0..np)) in nats, one forward of np+nt tokens (<= block_size)
// with whatever hook m has installed.
double intervene_logprob(GPT *m, const int *ids, int np, int nt);

// Sweep: the change of log p(target | prompt) when each head (dhead, L*NH, row-major
// layer x head) and each MLP (dmlp, L) is ablated alone in `mode`. *base: unablated.
void intervene_sweep_logprob(GPT *m, const int *ids, int np, int nt, int mode, double *base,
                             double *dhead, double *dmlp);

// ---- patching ---------------------------------------------------------------------------
enum { PATCH_RESID, PATCH_ATTN, PATCH_MLP, PATCH_HEAD, PATCH_NUM };
extern const char *const patch_site_names[PATCH_NUM];  // "resid", "attn", "mlp", "head"

typedef struct {
    GPT *m;
    int T;
    float *clean[PATCH_NUM];   // recorded: resid/attn/head (L,T,C), mlp (L,T,4C); NULL if not
    double clean_diff, corrupt_diff;
} Patcher;

// Runs the clean prompt (T tokens) and records the activations of every site.
// answer, wrong: token ids scored at the last position. Also runs the corrupted prompt.
int patch_init(Patcher *p, GPT *m, const int *clean, const int *corrupt, int T, int answer,
               int wrong);
void patch_free(Patcher *p);
// Logit difference of the corrupted run with the clean values of `site` written in at
// layer; pos = position (-1: every position) for resid/attn/mlp; head for PATCH_HEAD
// (-1: every head; then pos selects positions as for the others).
double patch_run(Patcher *p, const int *corrupt, int site, int layer, int pos, int head,
                 int answer, int wrong);
// The grid of recovered fractions: resid/attn/mlp (L, T) per (layer, position), head
// (L, NH) per (layer, head), row-major. grid holds L*T or L*NH doubles.
void patch_grid(Patcher *p, const int *corrupt, int site, int answer, int wrong, double *grid);
// (patched - corrupted) / (clean - corrupted); NaN when the clean and corrupted differences
// are equal.
double patch_recovered(const Patcher *p, double patched);

// ---- end to end (ablate.c) ------------------------------------------------------------
// What a task scores under teacher forcing (the forward hooks apply to it; the KV-cache
// decoder does not run them): exact match = every target token is the argmax (what greedy
// decoding would produce), per-token accuracy, mean target log-probability, multiple-choice
// grade (NAN when the task has no choices).
typedef struct { double exact_tf, tok_acc_tf, logprob, mc; } InspectTaskScore;

typedef struct {
    const int *ids;            // prompt (np tokens) then target (nt tokens), np + nt <= block_size
    int np, nt;
    const Ablation *abl;       // applied together; n_abl = 0: the sweep (every head and every
    int n_abl;                 // MLP alone, in `mode`)
    int mode;                  // ABL_ZERO or ABL_MEAN, for the sweep
    const char *task;          // a generated task (tasks.h spec, e.g. "add:2") also scored, or NULL
    int n, shots;              // its items and the exemplars in each prompt
    uint64_t seed;             // of the items (the exemplars' pool: seed + 1) and the shots
} InspectAblateSpec;

typedef struct {
    int L, NH;
    double base, ablated;      // log p(target | prompt), nats: unablated, ablated (not the sweep)
    double *dlogprob;          // sweep: (L, NH + 1) change of log p per layer x (heads, then the MLP)
    int has_task;
    char task_name[96];        // the task's canonical spec
    int task_n;                // its items
    InspectTaskScore task_base, task_ablated;   // task_ablated: not the sweep
    double *dexact;            // sweep with a task: (L, NH + 1) change of exact match
} InspectAblation;

// Checks the ablations, scores the prompt's target (and the task) unablated, then ablated or
// swept. Hooks that m has are restored. Returns 0, or -1 with em_error().
int inspect_ablate(GPT *m, const Tokenizer *tok, const InspectAblateSpec *s, InspectAblation *r);
void inspect_ablation_free(InspectAblation *r);

// Activation patching of every site with want[site] set: the recovered fractions of
// patch_grid in grid[site] (NULL for the others), and the two logit differences.
typedef struct {
    int T, L, NH;
    double clean_diff, corrupt_diff;
    double *grid[PATCH_NUM];   // resid/attn/mlp (L, T), head (L, NH)
} InspectPatch;
int inspect_patch(GPT *m, const int *clean, const int *corrupt, int T, int answer, int wrong,
                  const int want[PATCH_NUM], InspectPatch *r);
void inspect_patch_free(InspectPatch *r);

#endif
