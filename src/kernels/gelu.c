// GELU, tanh approximation (GPT-2's), and the residual add.
#include <omp.h>

#include "fastmath.h"
#include "kernels.h"

#define GELU_K 0.7978845608028654f  // sqrt(2/pi)

// Each thread takes one contiguous range; the loops over a range vectorize.
#define PARALLEL_RANGES(n, BODY)                                      \
    _Pragma("omp parallel if (n > 8192)") {                           \
        size_t nt_ = omp_get_num_threads(), t_ = omp_get_thread_num(); \
        size_t lo = (n) * t_ / nt_, hi = (n) * (t_ + 1) / nt_;        \
        BODY;                                                         \
    }

static void gelu_fwd(float *restrict out, const float *restrict inp, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + fast_tanhf(GELU_K * (x + 0.044715f * x * x * x)));
    }
}

// dinp (+)= gelu'(inp) * dout; accumulate 0 overwrites dinp
static void gelu_bwd(float *restrict dinp, const float *restrict inp, const float *restrict dout,
                     size_t n, int accumulate) {
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float th = fast_tanhf(GELU_K * (x + 0.044715f * x * x * x));
        float g = 0.5f * (1.0f + th) +
                  0.5f * x * (1.0f - th * th) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] = (accumulate ? dinp[i] : 0.0f) + g * dout[i];
    }
}

// dinp = gelu'(inp) * dout with tanh recovered from the forward's output out = gelu(inp):
// th = 2 out / inp - 1 (0 at inp = 0), one division in place of the tanh polynomial. It is
// the th the forward computed, to ~1e-9.
static void gelu_bwd_out(float *restrict dinp, const float *restrict inp, const float *restrict out,
                         const float *restrict dout, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float th = x != 0.0f ? 2.0f * out[i] / x - 1.0f : 0.0f;
        float g = 0.5f * (1.0f + th) +
                  0.5f * x * (1.0f - th * th) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] = g * dout[i];
    }
}

// fch (N,OC) += bias; out = gelu(fch): a linear layer's bias and its activation in one pass
static void bias_gelu_rows(float *restrict fch, float *restrict out, const float *restrict bias,
                           size_t lo, size_t hi, int OC) {
    for (size_t i = lo; i < hi; i++) {
        float *restrict f = fch + i * OC, *restrict o = out + i * OC;
        for (int c = 0; c < OC; c++) {
            float x = f[c] + bias[c];
            f[c] = x;
            o[c] = 0.5f * x * (1.0f + fast_tanhf(GELU_K * (x + 0.044715f * x * x * x)));
        }
    }
}

void bias_gelu_forward(float *fch, float *out, const float *bias, int N, int OC) {
    size_t n = (size_t)N;
    if (!bias) {
        gelu_forward(out, fch, (size_t)N * OC);
        return;
    }
#pragma omp parallel if ((size_t)N * OC > 8192)
    {
        size_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        bias_gelu_rows(fch, out, bias, n * t / nt, n * (t + 1) / nt, OC);
    }
}

void gelu_forward(float *out, const float *inp, size_t n) {
    PARALLEL_RANGES(n, gelu_fwd(out + lo, inp + lo, hi - lo));
}

void gelu_backward(float *dinp, const float *inp, const float *dout, size_t n) {
    PARALLEL_RANGES(n, gelu_bwd(dinp + lo, inp + lo, dout + lo, hi - lo, 1));
}

void gelu_backward_set(float *dinp, const float *inp, const float *dout, size_t n) {
    PARALLEL_RANGES(n, gelu_bwd(dinp + lo, inp + lo, dout + lo, hi - lo, 0));
}

void gelu_backward_out(float *dinp, const float *inp, const float *out, const float *dout,
                       size_t n) {
    PARALLEL_RANGES(n, gelu_bwd_out(dinp + lo, inp + lo, out + lo, dout + lo, hi - lo));
}

// out (N,C) = resid + bias, bias (C) or NULL: the residual stream and a projection's bias,
// which the projection's GEMM then adds its product to
void residual_bias_fill(float *out, const float *resid, const float *bias, int N, int C) {
#pragma omp parallel for schedule(static) if ((size_t)N * C > 8192)
    for (int i = 0; i < N; i++) {
        float *restrict o = out + (size_t)i * C;
        const float *restrict x = resid + (size_t)i * C;
        if (bias)
            for (int c = 0; c < C; c++) o[c] = x[c] + bias[c];
        else
            for (int c = 0; c < C; c++) o[c] = x[c];
    }
}

void residual_forward(float *out, const float *a, const float *b, size_t n) {
#pragma omp parallel for schedule(static) if (n > 8192)
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}
