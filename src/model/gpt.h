// model: GPT-2 (pre-LayerNorm, fused QKV, tanh-GELU MLP, tied head), forward and backward.
//
// Memory: every parameter lives in one float buffer, every gradient in a second
// with the same layout, every activation in one arena sized from (config, B, T).
// Weights of linear layers are stored (in, out), exactly as GPT-2's Conv1D, so a
// checkpoint tensor is a plain copy of a slice of the parameter buffer.
#ifndef EMERGENT_GPT_H
#define EMERGENT_GPT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int vocab_size;  // V
    int block_size;  // maximum T (GPT-2's n_positions)
    int n_layer;     // L
    int n_head;      // NH
    int n_embd;      // C
} GPTConfig;

// Checks ranges and divisibility; returns -1 with a message naming `where` and the field.
int gpt_config_check(const GPTConfig *c, const char *where);

// Parameter kinds, stored kind by kind across layers (each kind is one slab).
enum {
    P_WTE,      // (V, C)
    P_WPE,      // (maxT, C)
    P_LN1W,     // (L, C)
    P_LN1B,     // (L, C)
    P_QKVW,     // (L, C, 3C)
    P_QKVB,     // (L, 3C)
    P_ATTPROJW, // (L, C, C)
    P_ATTPROJB, // (L, C)
    P_LN2W,     // (L, C)
    P_LN2B,     // (L, C)
    P_FCW,      // (L, C, 4C)
    P_FCB,      // (L, 4C)
    P_FCPROJW,  // (L, 4C, C)
    P_FCPROJB,  // (L, C)
    P_LNFW,     // (C)
    P_LNFB,     // (C)
    NUM_PARAM_KINDS
};

typedef struct {
    float *wte, *wpe, *ln1w, *ln1b, *qkvw, *qkvb, *attprojw, *attprojb;
    float *ln2w, *ln2b, *fcw, *fcb, *fcprojw, *fcprojb, *lnfw, *lnfb;
} ParamPtrs;

// Sizes (in floats) of each kind, and the total.
void gpt_param_sizes(const GPTConfig *c, size_t sizes[NUM_PARAM_KINDS]);
size_t gpt_num_params(const GPTConfig *c);
// Training FLOPs per token at context T (PaLM's estimate): 6N for the weight matmuls
// (forward 2N, backward 4N; the tied wte counts once, as the head), plus 12·L·C·T for
// QK^T and att·V (forward 4·L·C·T, no causal halving). *weights and *attention (may be
// NULL) receive the two parts.
// 1 when AdamW's weight decay applies to parameters of this kind (the 2-D weights:
// embeddings and matmul weights; not biases or LayerNorm gains), as nanoGPT does.
int gpt_kind_decays(int kind);
double gpt_train_flops_per_token(const GPTConfig *c, int T, double *weights, double *attention);
// Points each field of `p` into the flat buffer `base` laid out by the config.
void gpt_param_ptrs(const GPTConfig *c, float *base, ParamPtrs *p);

// One named tensor of the Hugging Face GPT2LMHeadModel state dict.
typedef struct {
    char name[64];   // e.g. "transformer.h.3.attn.c_attn.weight"
    size_t offset;   // in floats, into the parameter buffer
    size_t numel;
    int ndim;        // 1 or 2
    int shape[2];    // (in, out) for linear weights
    int kind;        // P_*
    int layer;       // -1 for non-layer tensors
    int decay;       // 1: AdamW weight decay applies (2-D weights)
} ParamInfo;
// Fills `out` (may be NULL) and returns the number of tensors: 2 + 12 L + 2.
int gpt_param_table(const GPTConfig *c, ParamInfo *out);

// Activations saved by the forward pass for a batch of B sequences of T tokens.
typedef struct {
    float *encoded;   // (B, T, C)
    float *ln1;       // (L, B, T, C)
    float *ln1_mean;  // (L, B, T)
    float *ln1_rstd;  // (L, B, T)
    float *qkv;       // (L, B, T, 3C)
    float *att;       // (L, B, NH, T, T) softmax probabilities
    float *atty;      // (L, B, T, C) attention output before c_proj
    float *res2;      // (L, B, T, C) residual after attention
    float *ln2;       // (L, B, T, C)
    float *ln2_mean;  // (L, B, T)
    float *ln2_rstd;  // (L, B, T)
    float *fch;       // (L, B, T, 4C) c_fc output before GELU
    float *fch_gelu;  // (L, B, T, 4C)
    float *res3;      // (L, B, T, C) residual after the MLP (the block's output)
    float *lnf;       // (B, T, C)
    float *lnf_mean;  // (B, T)
    float *lnf_rstd;  // (B, T)
    float *logits;    // (B, T, V); overwritten by dlogits in backward
    float *lse;       // (B, T) log-sum-exp of each logits row
    float *losses;    // (B, T) -log p(target); 0 where the target is ignored
} Acts;

// Scratch for the backward pass, reused by every layer.
typedef struct {
    float *dres;      // (B, T, C) gradient flowing along the residual stream
    float *dbuf;      // (B, T, C) gradient of a LayerNorm output / attention output
    float *dqkv;      // (B, T, 3C)
    float *datt;      // (B, NH, T, T)
    float *dfch;      // (B, T, 4C) gradient of the c_fc output (before GELU)
    float *dfchg;     // (B, T, 4C) gradient of the GELU output
} Grads;

size_t gpt_act_floats(const GPTConfig *c, int B, int T);   // forward arena
size_t gpt_grad_act_floats(const GPTConfig *c, int B, int T);  // backward scratch

// Hook points of the forward pass, named as TransformerLens names them
// (blocks.{l}.hook_resid_pre, ...). A hook sees the activation in place and may change it
// (return nonzero when it did). Layouts: resid_* (B,T,C); attn.hook_pattern (B,NH,T,T)
// softmax probabilities; attn.hook_z (B,T,C) = (B,T,NH,HS), the heads' outputs before
// c_proj; mlp.hook_post (B,T,4C), after the GELU. For inspection only: the backward pass
// does not see changes made by hooks. With no hook set the forward is unchanged.
enum { HOOK_RESID_PRE, HOOK_RESID_MID, HOOK_RESID_POST, HOOK_ATTN_PATTERN, HOOK_ATTN_Z,
       HOOK_MLP_POST, HOOK_NUM };
extern const char *const gpt_hook_names[HOOK_NUM];  // "hook_resid_pre", "attn.hook_z", ...
typedef int (*GPTHook)(int hook, int layer, float *act, int B, int T, void *ctx);

// Op families for profiling (GPT.profile).
enum { PROF_MATMUL, PROF_ATTN, PROF_NORM_ACT, PROF_HEAD_LOSS, PROF_NUM };
extern const char *const gpt_prof_names[PROF_NUM];

typedef struct {
    GPTConfig cfg;
    size_t num_params;
    float *params;        // flat parameters
    float *grads;         // flat gradients, same layout (NULL until gpt_alloc_grads)
    ParamPtrs p, g;
    int maxB, maxT;       // the arena's capacity
    float *act_mem, *gact_mem;
    Acts a;
    Grads ga;
    int B, T;             // shape of the last forward
    const int *targets;   // of the last forward (caller keeps them alive for backward)
    int n_valid;          // targets >= 0 in the last forward
    float loss;           // mean loss over valid targets (NAN when none given)
    GPTHook hook;         // NULL: no hooks (see above)
    void *hook_ctx;
    int profile;          // 1: accumulate seconds per op family below
    double prof_fwd[PROF_NUM], prof_bwd[PROF_NUM];
    // Called by gpt_backward when layer l's gradients are complete (layers L-1 .. 0 in that
    // order), then with l = -1 after the encoder (wte, wpe; ln_f's are complete before
    // layer L-1). NULL: none. Data parallelism starts a layer's gradient sum from here.
    void (*grads_done)(void *ctx, int l);
    int grads_stale;      // 1 after gpt_zero_grad: the next backward writes, not adds
    int acts_hooked;      // 1: the last forward ran with hooks (its activations may be edited)
    void *grads_ctx;
} GPT;

// Allocates the parameter buffer (zeroed). Validates the config.
int gpt_create(GPT *m, const GPTConfig *cfg);
// GPT-2 initialisation: N(0, 0.02) weights, N(0, 0.02/sqrt(2L)) residual projections,
// zero biases, unit LayerNorm gains.
void gpt_init_weights(GPT *m, uint64_t seed);
void gpt_alloc_grads(GPT *m);
// Sizes the activation arena for up to B x T (T <= block_size). Idempotent when it fits.
int gpt_alloc_acts(GPT *m, int B, int T);
void gpt_free(GPT *m);

// inputs, targets: (B, T) token ids; targets may be NULL, and a target < 0 is ignored.
// Fills m->a (logits, losses) and m->loss. B, T must fit the arena.
void gpt_forward(GPT *m, const int *inputs, const int *targets, int B, int T);
// gpt_forward with `hook` (and its ctx) installed for this one call; the hooks that were
// installed before (m->hook, m->hook_ctx) are restored afterwards.
void gpt_forward_hooked(GPT *m, GPTHook hook, void *ctx, const int *inputs, const int *targets,
                        int B, int T);
// The model's unembedding: final LayerNorm (ln_f) and the tied head, applied to N residual
// vectors x (N, C) -> logits (N, V), with the kernels gpt_forward uses (for a block of the
// same N, the logits are those gpt_forward computes from the last block's output).
void gpt_unembed(const GPT *m, const float *x, int N, float *logits);
// Zeroes the gradients for the next backward: it then writes them instead of adding (no pass
// over memory). Until that backward, m->grads holds the old values: a reader that may come
// before any backward (a step whose micro-batches had no target) calls gpt_grads_materialize.
void gpt_zero_grad(GPT *m);
// The gradients as zero now if gpt_zero_grad marked them and no backward has run since.
void gpt_grads_materialize(GPT *m);
// Accumulates d(loss * scale)/dparams into m->grads (scale = 1/accumulation steps).
// Needs the inputs of the last forward (with targets).
void gpt_backward(GPT *m, const int *inputs, float scale);

#endif
