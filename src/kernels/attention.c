// Causal multi-head self-attention over a fused qkv (B,T,3C) = [q | k | v].
// Each (b, h) pair is one task: its products are GEMMs on strided views of qkv,
// called single-threaded inside the parallel loop (OpenBLAS's OpenMP build runs
// one thread when called from a parallel region).
#include <math.h>
#include <string.h>

#include "fastmath.h"
#include "kernels.h"

// row (T) <- softmax of row[0..t], zero above. Long rows: the reductions in lanes and the
// exponentials in a loop of their own, which vectorizes; short ones (a vector or two):
// plain loops, where a vector loop would be all remainder.
static inline void causal_softmax(float *restrict row, int t, int T) {
    if (t + 1 < 32) {
        float mx = row[0], sum = 0.0f;
        for (int u = 1; u <= t; u++) mx = row[u] > mx ? row[u] : mx;
        for (int u = 0; u <= t; u++) { row[u] = fast_expf(row[u] - mx); sum += row[u]; }
        float inv = 1.0f / sum;
        for (int u = 0; u <= t; u++) row[u] *= inv;
        for (int u = t + 1; u < T; u++) row[u] = 0.0f;
        return;
    }
    float mx = lanes_max(row, t + 1);
    for (int u = 0; u <= t; u++) row[u] = fast_expf(row[u] - mx);
    float inv = 1.0f / lanes_sum(row, t + 1);
    for (int u = 0; u <= t; u++) row[u] *= inv;
    for (int u = t + 1; u < T; u++) row[u] = 0.0f;
}

// Short contexts (T < SHORT_T): a row is a vector or less, all remainder to a row's own
// loop, so the whole (T,T) tile goes through flat loops over its T*T entries: the causal
// mask from rc (row and column of each entry), per-row values spread over the entries.
// SHORT_T <= RB: one block of rows.
#define SHORT_T 32
typedef struct { int row[SHORT_T * SHORT_T], col[SHORT_T * SHORT_T]; } RowCol;

// A short tile's products against the keys (values) transposed: (T,HS) rows at stride ld ->
// (HS,T). OpenBLAS runs its small-matrix kernel on (T,HS) @ (HS,T), but packs both operands
// for the (T,HS) @ (T,HS)^T form: 40 ns a call against 110 (T = 12, HS = 16).
#define SHORT_KT 4096  // floats of a transposed operand on the stack
static int short_kt(int T, int HS) { return T < SHORT_T && HS * T <= SHORT_KT; }
static void transpose_rows(float *restrict dst, const float *restrict src, int T, int HS, int ld) {
    for (int t = 0; t < T; t++)
        for (int i = 0; i < HS; i++) dst[i * T + t] = src[(size_t)t * ld + i];
}

static void rowcol_init(RowCol *rc, int T) {
    if (T >= SHORT_T) return;
    for (int j = 0; j < T * T; j++) { rc->row[j] = j / T; rc->col[j] = j % T; }
}

// the causal softmax of every row of the tile a (T,T), T < SHORT_T; the rows' max and
// reciprocal sum spread over e[] for the flat loops (spread_rows)
static void tile_softmax(float *restrict a, int T, const RowCol *rc) {
    float v[SHORT_T], e[SHORT_T * SHORT_T];
    for (int t = 0; t < T; t++) {
        const float *row = a + t * T;
        float m = row[0];
        for (int u = 1; u <= t; u++) m = row[u] > m ? row[u] : m;
        v[t] = m;
    }
    spread_rows(e, v, T, T);
    for (int j = 0; j < T * T; j++) {
        float x = fast_expf(a[j] - e[j]);
        a[j] = rc->col[j] <= rc->row[j] ? x : 0.0f;
    }
    for (int t = 0; t < T; t++) {
        float sum = 0.0f;
        for (int u = 0; u <= t; u++) sum += a[t * T + u];
        v[t] = 1.0f / sum;
    }
    spread_rows(e, v, T, T);
    for (int j = 0; j < T * T; j++) a[j] *= e[j];
}

// through the softmax of the tile: da = a * (da - rowsum(a * da)) * scale (a is zero above
// the diagonal, and so da becomes)
static void tile_softmax_backward(float *restrict da, const float *restrict a, int T, float scale) {
    float dot[SHORT_T], e[SHORT_T * SHORT_T];
    for (int t = 0; t < T; t++) {
        float d = 0.0f;
        for (int u = 0; u <= t; u++) d += a[t * T + u] * da[t * T + u];
        dot[t] = d;
    }
    spread_rows(e, dot, T, T);
    for (int j = 0; j < T * T; j++) da[j] = a[j] * (da[j] - e[j]) * scale;
}

// Rows go in blocks of RB: block r0.. needs only the positions before its last row, so its
// products stop there (the causal triangle, to the block: 10/16 of the square at T = 4 RB).
#define RB 64

// -> out (B,T,C), att (B,NH,T,T) softmax probabilities, zero above the diagonal
void attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int NH) {
    int HS = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
    RowCol rc_, *rc = &rc_;
    rowcol_init(rc, T);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *q = qkv + (size_t)b * T * C3 + h * HS, *k = q + C, *v = q + 2 * C;
            float *a = att + ((size_t)b * NH + h) * T * T, *o = out + (size_t)b * T * C + h * HS;
            for (int r0 = 0; r0 < T; r0 += RB) {
                int rn = T - r0 < RB ? T - r0 : RB, cols = r0 + rn;
                // scores (rn, cols) = scale * q rows (rn,HS) @ k (cols,HS)^T
                if (short_kt(T, HS)) {
                    float kt[SHORT_KT];
                    transpose_rows(kt, k, T, HS, C3);
                    sgemm_rm(0, 0, T, T, HS, scale, q, C3, kt, T, 0.0f, a, T);
                } else
                    sgemm_rm(0, 1, rn, cols, HS, scale, q + (size_t)r0 * C3, C3, k, C3, 0.0f,
                             a + (size_t)r0 * T, T);
                if (T < SHORT_T) tile_softmax(a, T, rc);
                else
                    for (int t = r0; t < cols; t++) causal_softmax(a + (size_t)t * T, t, T);
                // out rows (rn,HS) = att (rn,cols) @ v (cols,HS)
                sgemm_rm(0, 0, rn, HS, cols, 1.0f, a + (size_t)r0 * T, T, v, C3, 0.0f,
                         o + (size_t)r0 * C, C);
            }
        }
}

void attention_apply(float *out, const float *att, const float *qkv, int B, int T, int C, int NH) {
    int HS = C / NH, C3 = 3 * C;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *v = qkv + (size_t)b * T * C3 + 2 * C + h * HS;
            const float *a = att + ((size_t)b * NH + h) * T * T;
            sgemm_rm(0, 0, T, HS, T, 1.0f, a, T, v, C3, 0.0f, out + (size_t)b * T * C + h * HS, C);
        }
}

// datt (B,NH,T,T) is scratch (overwritten); dqkv = beta * dqkv + gradient, beta 0 or 1;
// beta 0 takes one block of rows (T <= RB), whose products write every row of the head.
static void backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                     const float *att, int B, int T, int C, int NH, float beta) {
    int HS = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *q = qkv + (size_t)b * T * C3 + h * HS, *k = q + C, *v = q + 2 * C;
            float *dq = dqkv + (size_t)b * T * C3 + h * HS, *dk = dq + C, *dv = dq + 2 * C;
            const float *a = att + ((size_t)b * NH + h) * T * T;
            float *da = datt + ((size_t)b * NH + h) * T * T;
            const float *d = dout + (size_t)b * T * C + h * HS;
            for (int r0 = 0; r0 < T; r0 += RB) {
                int rn = T - r0 < RB ? T - r0 : RB, cols = r0 + rn;
                const float *ar = a + (size_t)r0 * T, *dr0 = d + (size_t)r0 * C;
                float *dar = da + (size_t)r0 * T;
                // through out = att @ v: datt = dout @ v^T; dv += att^T @ dout
                if (short_kt(T, HS)) {
                    float vt[SHORT_KT];
                    transpose_rows(vt, v, T, HS, C3);
                    sgemm_rm(0, 0, T, T, HS, 1.0f, d, C, vt, T, 0.0f, da, T);
                } else
                    sgemm_rm(0, 1, rn, cols, HS, 1.0f, dr0, C, v, C3, 0.0f, dar, T);
                sgemm_rm(1, 0, cols, HS, rn, 1.0f, ar, T, dr0, C, beta, dv, C3);
                // through the softmax: dscores = att * (datt - sum(att * datt)) * scale
                if (T < SHORT_T) {
                    tile_softmax_backward(dar, ar, T, scale);
                } else
                for (int t = r0; t < cols; t++) {
                    const float *restrict at = a + (size_t)t * T;  // zero past t
                    float *restrict dt = da + (size_t)t * T;
                    float dot = 0.0f;
                    if (t + 1 < 32)
                        for (int u = 0; u <= t; u++) dot += at[u] * dt[u];
                    else
                        dot = lanes_dot(at, dt, t + 1);
                    for (int u = 0; u < cols; u++) dt[u] = at[u] * (dt[u] - dot) * scale;
                    for (int u = cols; u < T; u++) dt[u] = 0.0f;
                }
                // through the scores: dq += dscores @ k; dk += dscores^T @ q
                sgemm_rm(0, 0, rn, HS, cols, 1.0f, dar, T, k, C3, beta, dq + (size_t)r0 * C3, C3);
                sgemm_rm(1, 0, cols, HS, rn, 1.0f, dar, T, q + (size_t)r0 * C3, C3, beta, dk, C3);
            }
        }
}

void attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                        const float *att, int B, int T, int C, int NH) {
    backward(dqkv, datt, dout, qkv, att, B, T, C, NH, 1.0f);
}

void attention_backward_set(float *dqkv, float *datt, const float *dout, const float *qkv,
                            const float *att, int B, int T, int C, int NH) {
    if (T > RB) memset(dqkv, 0, (size_t)B * T * 3 * C * sizeof(float));
    backward(dqkv, datt, dout, qkv, att, B, T, C, NH, T > RB ? 1.0f : 0.0f);
}

// ---- the plain loops: the reference the GEMM version above is tested against ----

// -> out (B,T,C), att (B,NH,T,T) softmax probabilities, zero above the diagonal
void attention_forward_naive(float *out, float *att, const float *qkv, int B, int T, int C, int NH) {
    int HS = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *base = qkv + (size_t)b * T * C3;
            for (int t = 0; t < T; t++) {
                const float *q = base + (size_t)t * C3 + h * HS;
                float *a = att + (((size_t)b * NH + h) * T + t) * T;
                float mx = -INFINITY;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *k = base + (size_t)t2 * C3 + C + h * HS;
                    float s = 0.0f;
                    for (int i = 0; i < HS; i++) s += q[i] * k[i];
                    s *= scale;
                    a[t2] = s;
                    if (s > mx) mx = s;
                }
                float sum = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) { a[t2] = expf(a[t2] - mx); sum += a[t2]; }
                float inv = 1.0f / sum;
                for (int t2 = 0; t2 <= t; t2++) a[t2] *= inv;
                for (int t2 = t + 1; t2 < T; t2++) a[t2] = 0.0f;
                float *o = out + ((size_t)b * T + t) * C + h * HS;
                for (int i = 0; i < HS; i++) o[i] = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = base + (size_t)t2 * C3 + 2 * C + h * HS;
                    float w = a[t2];
                    for (int i = 0; i < HS; i++) o[i] += w * v[i];
                }
            }
        }
}

// One (b, h) pair per task: dk and dv of a position gather from every later query,
// so the pair's rows run in order and the sums stay deterministic.
void attention_backward_naive(float *dqkv, float *datt, const float *dout, const float *qkv,
                        const float *att, int B, int T, int C, int NH) {
    int HS = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *base = qkv + (size_t)b * T * C3;
            float *dbase = dqkv + (size_t)b * T * C3;
            for (int t = 0; t < T; t++) {
                const float *a = att + (((size_t)b * NH + h) * T + t) * T;
                float *da = datt + (((size_t)b * NH + h) * T + t) * T;
                const float *d = dout + ((size_t)b * T + t) * C + h * HS;
                // through out = att @ v
                float dot = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = base + (size_t)t2 * C3 + 2 * C + h * HS;
                    float *dv = dbase + (size_t)t2 * C3 + 2 * C + h * HS;
                    float s = 0.0f;
                    for (int i = 0; i < HS; i++) { s += d[i] * v[i]; dv[i] += a[t2] * d[i]; }
                    da[t2] = s;
                    dot += a[t2] * s;
                }
                // through the softmax, then the scaled dot products
                const float *q = base + (size_t)t * C3 + h * HS;
                float *dq = dbase + (size_t)t * C3 + h * HS;
                for (int t2 = 0; t2 <= t; t2++) {
                    float dpre = a[t2] * (da[t2] - dot) * scale;
                    const float *k = base + (size_t)t2 * C3 + C + h * HS;
                    float *dk = dbase + (size_t)t2 * C3 + C + h * HS;
                    for (int i = 0; i < HS; i++) { dq[i] += dpre * k[i]; dk[i] += dpre * q[i]; }
                }
            }
        }
}
