// kernels: every op of the model, forward next to backward.
// Shapes in comments; N = B*T rows. Backward functions ACCUMULATE (+=) into
// every gradient they produce, as the chain rule does; callers zero buffers.
// Linear weights are stored (in, out), as GPT-2's Conv1D.
#ifndef EMERGENT_KERNELS_H
#define EMERGENT_KERNELS_H

#include <stddef.h>

// ---- embedding: out = wte[inp] + wpe[t] ----------------------------------
// inp (B,T) ids; wte (V,C); wpe (maxT,C) -> out (B,T,C)
void encoder_forward(float *out, const int *inp, const float *wte, const float *wpe,
                     int B, int T, int C);
void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp,
                      int B, int T, int C);

// ---- layernorm (eps 1e-5) ------------------------------------------------
// inp (N,C), w, b (C) -> out (N,C); saves mean, rstd (N)
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *w, const float *b, int N, int C);
// dinp += ...; dw, db += ... (or = ... when set_params: a step's first backward writes the
// parameter gradients instead of adding to zeroed ones)
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                        const float *inp, const float *w, const float *mean,
                        const float *rstd, int N, int C, int set_params);

// ---- linear: out = inp @ w + bias ------------------------------------------
// inp (N,C), w (C,OC), bias (OC) or NULL -> out (N,OC).
// accumulate != 0 adds into out (out += inp @ w + bias): fuses a residual add.
void matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                    int N, int C, int OC, int accumulate);
// dinp (N,C) += dout @ w^T; dw (C,OC) += inp^T @ dout; dbias (OC) += sum_rows dout.
// dinp or dbias may be NULL.
void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                     const float *inp, const float *w, int N, int C, int OC);
// The same with dinp = dout @ w^T overwritten (no zeroing pass before it), and dw, dbias
// overwritten too when set_params.
void matmul_backward_set(float *dinp, float *dw, float *dbias, const float *dout,
                         const float *inp, const float *w, int N, int C, int OC, int set_params);

// A projection into the residual stream: out = resid + bias, then the GEMM adds inp @ w into
// it (beta 1), so OpenBLAS neither clears out first nor is out read again after it (the MLP's
// first layer is matmul_forward without a bias, then bias_gelu_forward); out != resid
void matmul_forward_residual(float *out, const float *resid, const float *inp, const float *w,
                             const float *bias, int N, int C, int OC);

// ---- tied output head: logits = inp @ wte^T -------------------------------
// inp (N,C), wte (V,C) -> logits (N,V)
void head_forward(float *logits, const float *inp, const float *wte, int N, int C, int V);
// dinp (N,C) += dlogits @ wte; dwte (V,C) += dlogits^T @ inp (= when set_params)
void head_backward(float *dinp, float *dwte, const float *dlogits, const float *inp,
                   const float *wte, int N, int C, int V, int set_params);

// ---- one row's products, a thread's share (decoding, inside a parallel region) ----
// part (OC) = x[lo..hi) @ w[lo..hi, :], w (C,OC): rows lo..hi of a linear layer
void gemv_band(float *part, const float *x, const float *w, int lo, int hi, int OC);
// y[v] = w[v,:] . x for v in [lo, hi), w (V,C): rows of the tied head
void dot_rows(float *y, const float *w, const float *x, int lo, int hi, int C);

// ---- causal multi-head self-attention ---------------------------------------
// qkv (B,T,3C) laid out [q | k | v], heads of size HS = C/NH inside each.
// -> out (B,T,C), att (B,NH,T,T) softmax probabilities (upper triangle zero).
void attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int NH);
// datt (B,NH,T,T) is scratch (overwritten); dqkv += gradient.
void attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                        const float *att, int B, int T, int C, int NH);
// the same with dqkv = gradient (overwritten, no clearing pass first where T <= 64)
void attention_backward_set(float *dqkv, float *datt, const float *dout, const float *qkv,
                            const float *att, int B, int T, int C, int NH);

// out (B,T,C) = att (B,NH,T,T) @ v, per head: attention_forward's second half, for a
// pattern that was changed after the forward (activation patching, ablation).
void attention_apply(float *out, const float *att, const float *qkv, int B, int T, int C, int NH);

// The same, written as plain loops (libm expf): the reference for the fast version.
void attention_forward_naive(float *out, float *att, const float *qkv, int B, int T, int C, int NH);
void attention_backward_naive(float *dqkv, float *datt, const float *dout, const float *qkv,
                              const float *att, int B, int T, int C, int NH);

// ---- GELU, tanh approximation -----------------------------------------------
void gelu_forward(float *out, const float *inp, size_t n);
void gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);
// dinp = gelu'(inp) * dout (overwrites: no zeroing pass before it)
void gelu_backward_set(float *dinp, const float *inp, const float *dout, size_t n);
// The same from the forward's output too (out = gelu(inp)): tanh read back from it, not
// recomputed (2x faster)
void gelu_backward_out(float *dinp, const float *inp, const float *out, const float *dout,
                       size_t n);
// fch (N,OC) += bias (OC, or NULL); out (N,OC) = gelu(fch): one pass after the GEMM
void bias_gelu_forward(float *fch, float *out, const float *bias, int N, int OC);

// ---- residual: out = a + b ---------------------------------------------------
void residual_forward(float *out, const float *a, const float *b, size_t n);
// out (N,C) = resid + bias, bias (C) or NULL: what a projection into the residual stream
// then adds its product to
void residual_bias_fill(float *out, const float *resid, const float *bias, int N, int C);

// ---- softmax cross-entropy ---------------------------------------------------
// logits (N,V), targets (N) with t < 0 ignored -> losses (N) (0 where ignored),
// lse (N) the log-sum-exp of each row. Returns the number of valid targets.
int xent_forward(float *losses, float *lse, const float *logits, const int *targets,
                 int N, int V);
// Overwrites logits with d(dloss * sum of valid losses)/dlogits, in place.
void xent_backward(float *logits, const float *lse, const int *targets, float dloss,
                   int N, int V);

// ---- AdamW (decoupled weight decay, bias correction; t counts from 1) --------
// The gradient used is grad_scale * g (gradient clipping folded into the update).
void adamw_update(float *p, const float *g, float *m, float *v, size_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int t,
                  float grad_scale);

// ---- runtime ---------------------------------------------------------------
// A process-wide scratch buffer of at least n floats, grown (only) when too small, so
// kernels allocate nothing in the steady state. Serial code only; slot 0..3.
float *kernel_scratch(int slot, size_t n);

// row-major C (M,N) = alpha * op(A) op(B) + beta * C, op transposing when trans* is 1: the
// BLAS's sgemm, with the threads each given a band of C (below)
void sgemm_rm(int transa, int transb, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);

// Whether a product on several threads hands each thread its own band of the output (1,
// the default) or leaves the threading to the BLAS (0): for tests and benchmarks.
void kernels_set_gemm_split(int on);

// A one-line description of the kernels in use: BLAS library, its core type and
// threading, the vector ISA of our own loops, and the thread count.
const char *kernels_describe(void);

// The machine a result was computed on: what decides whether two runs can be
// bit-identical (the same CPU kind, build ISA, BLAS kernel and thread count are).
typedef struct {
    char cpu[128];        // the CPU's model name (/proc/cpuinfo), "unknown" when unreadable
    char cpu_isa[16];     // the widest vector ISA the CPU offers: "AVX-512", "AVX2", "generic"
    char build_isa[16];   // the ISA our own loops were compiled for
    char blas[160];       // the BLAS library opened
    char blas_core[32];   // its kernel (OpenBLAS's core name), "unknown" when it cannot say
    int threads;          // OpenMP threads
} MachineInfo;
void kernels_machine(MachineInfo *mi);
// "CPU | ISA | BLAS kernel | threads" on one line, for logs, registries and reports.
void kernels_machine_line(const MachineInfo *mi, char *buf, size_t cap);

#endif
