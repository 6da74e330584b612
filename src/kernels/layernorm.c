// LayerNorm over the last dimension, eps 1e-5 (GPT-2's).
// Each row is read from memory once: its later passes hit L1. Row sums run in LANES
// independent partial sums, added in a fixed order at the end, so they vectorize
// (a plain float sum is a serial chain) and stay deterministic.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "fastmath.h"
#include "kernels.h"

// inp (N,C) -> out (N,C); mean, rstd (N) saved for backward
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *w, const float *b, int N, int C) {
#pragma omp parallel for schedule(static) if (N > 64)
    for (int i = 0; i < N; i++) {
        const float *restrict x = inp + (size_t)i * C;
        float m = lanes_sum(x, C) / C;
        float s = 1.0f / sqrtf(lanes_sqdev(x, m, C) / C + 1e-5f);
        float *restrict o = out + (size_t)i * C;
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * s * w[c] + b[c];
        mean[i] = m;
        rstd[i] = s;
    }
}

// One row of the backward: dx (C) +=, and the row's share of dw, db into pw, pb (C).
static inline void row_backward(float *restrict dx, float *restrict pw, float *restrict pb,
                                const float *restrict d, const float *restrict x,
                                const float *restrict w, float m, float s, int C) {
    // dnorm = dout * w; dx = s * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))
    float s1, s2;  // sum(dnorm), sum(dnorm * norm)
    if (C < 2 * LANES) {  // a row of under two lane chunks: plain sums (fastmath.h)
        s1 = s2 = 0.0f;
        for (int c = 0; c < C; c++) {
            float nv = (x[c] - m) * s, dn = d[c] * w[c];
            s1 += dn;
            s2 += dn * nv;
            pw[c] += d[c] * nv;
            pb[c] += d[c];
        }
    } else {
        float a1[LANES] = {0}, a2[LANES] = {0};
        int c = 0;
        for (; c + LANES <= C; c += LANES)
            for (int j = 0; j < LANES; j++) {
                float nv = (x[c + j] - m) * s, dn = d[c + j] * w[c + j];
                a1[j] += dn;
                a2[j] += dn * nv;
                pw[c + j] += d[c + j] * nv;
                pb[c + j] += d[c + j];
            }
        for (int j = 0; c + j < C; j++) {
            float nv = (x[c + j] - m) * s, dn = d[c + j] * w[c + j];
            a1[j] += dn;
            a2[j] += dn * nv;
            pw[c + j] += d[c + j] * nv;
            pb[c + j] += d[c + j];
        }
        s1 = lanes_tree_sum(a1);
        s2 = lanes_tree_sum(a2);
    }
    float dmean = s1 / C, dmean_n = s2 / C;
    for (int c = 0; c < C; c++) {
        float nv = (x[c] - m) * s, dn = d[c] * w[c];
        dx[c] += s * (dn - dmean - nv * dmean_n);
    }
}

// dinp (N,C) += ...; dw, db (C) += ..., or = ... when set_params
// Rows are split into one contiguous range per thread; each thread sums its rows'
// dw, db into its own partial, and the partials are added in thread order, so the
// result is the same for the same thread count.
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                        const float *inp, const float *w, const float *mean,
                        const float *rstd, int N, int C, int set_params) {
    int nt = N > 64 ? omp_get_max_threads() : 1;
    float *part = kernel_scratch(1, (size_t)nt * 2 * C);
    for (size_t i = 0; i < (size_t)nt * 2 * C; i++) part[i] = 0.0f;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        int lo = (int)((long)N * t / n), hi = (int)((long)N * (t + 1) / n);
        float *pw = part + (size_t)t * 2 * C;
        for (int i = lo; i < hi; i++)
            row_backward(dinp + (size_t)i * C, pw, pw + C, dout + (size_t)i * C,
                         inp + (size_t)i * C, w, mean[i], rstd[i], C);
    }
    if (set_params)
        for (int c = 0; c < C; c++) dw[c] = db[c] = 0.0f;
    for (int t = 0; t < nt; t++) {
        const float *pw = part + (size_t)t * 2 * C, *pb = pw + C;
        for (int c = 0; c < C; c++) { dw[c] += pw[c]; db[c] += pb[c]; }
    }
}
