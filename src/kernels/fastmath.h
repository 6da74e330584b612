// Branch-free expf and tanhf that GCC vectorizes (libm's calls are scalar). The polynomials
// are written with fmaf: one instruction with FMA, and the same bits in the AVX2 and AVX-512
// builds (the build keeps ISO C's -ffp-contract=off, so nothing else is fused behind our back).
// expf: Cephes' range reduction and degree-6 polynomial, within 2 ulp on [-87, 88].
#ifndef EMERGENT_FASTMATH_H
#define EMERGENT_FASTMATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float fast_expf(float x) {
    // Clamped to [-87, 88] so that 2^n is a normal float; a NaN becomes -87 here and is
    // put back by the last line. Written as selects that map to min/max and one blend,
    // so GCC vectorizes it for AVX2 as well as AVX-512 (with -fno-trapping-math).
    float xc = x > -87.0f ? x : -87.0f;
    xc = xc < 88.0f ? xc : 88.0f;
    // round to nearest by the 1.5 * 2^23 trick (floorf does not vectorize without
    // -fno-trapping-math); n is in [-126, 127]
    float n = fmaf(xc, 1.44269504088896341f, 12582912.0f) - 12582912.0f;
    float r = fmaf(n, 2.12194440e-4f, xc - n * 0.693359375f);  // n * 0.693359375f is exact
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    p = fmaf(p * r, r, r) + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float e = p * scale;
    return x == x ? e : x;  // NaN in, NaN out
}

// tanh: the 13/6-degree rational interpolant of Eigen's fast tanh on [-9, 9] (tanh is 1 in
// float past 9): odd numerator over even denominator, one division and no exponential;
// within 4e-7 of tanh (tests/test_kernels.c checks it against fp64). NaN in, NaN out.
static inline float fast_tanhf(float u) {
    // the clamps are written so that a NaN passes through them (and so through the whole
    // function), which lets them compile to plain min/max: 10% faster than a final NaN test
    float x = -9.0f > u ? -9.0f : u;
    x = 9.0f < x ? 9.0f : x;
    float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = fmaf(p, x2, 2.00018790482477e-13f);
    p = fmaf(p, x2, -8.60467152213735e-11f);
    p = fmaf(p, x2, 5.12229709037114e-08f);
    p = fmaf(p, x2, 1.48572235717979e-05f);
    p = fmaf(p, x2, 6.37261928875436e-04f);
    p = fmaf(p, x2, 4.89352455891786e-03f);
    float q = 1.19825839466702e-06f;
    q = fmaf(q, x2, 1.18534705686654e-04f);
    q = fmaf(q, x2, 2.26843463243900e-03f);
    q = fmaf(q, x2, 4.89352518554385e-03f);
    float t = x * p / q;
    t = 1.0f < t ? 1.0f : t;  // it overshoots by 2 ulp near 8.5
    return -1.0f > t ? -1.0f : t;
}

// e[r n + j] = v[r] for r < rows, j < n: a per-row value laid out per entry, so that a flat
// loop over a block of short rows reads it contiguously (an index per entry would compile to a
// gather, which is slow on x86 cores)
static inline void spread_rows(float *restrict e, const float *restrict v, int rows, int n) {
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < n; j++) e[r * n + j] = v[r];
}

// Row reductions in LANES partial results combined in a fixed order (so the same inputs
// give the same bits): a serial float chain does not vectorize, and keeps everything else
// in its loop scalar too. n >= 1 for lanes_max.
// The tree adds lane j + w into lane j for w = 8, 4, 2, 1, in registers: GCC's vector types
// (two AVX2 registers or one AVX-512 one for 16 floats) and shuffles, the same adds in the
// same order on both, where the tree through the array in memory cost a store and reload per
// level (LayerNorm at 64 wide: 32 -> 22 us for 1536 rows).
#define LANES 16
typedef float lanes_v16 __attribute__((vector_size(64), aligned(4)));
typedef float lanes_v8 __attribute__((vector_size(32)));
typedef float lanes_v4 __attribute__((vector_size(16)));
typedef int lanes_i8 __attribute__((vector_size(32)));
typedef int lanes_i4 __attribute__((vector_size(16)));
#define LANES_LO8(v) __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
#define LANES_HI8(v) __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15)
#define LANES_LO4(v) __builtin_shufflevector(v, v, 0, 1, 2, 3)
#define LANES_HI4(v) __builtin_shufflevector(v, v, 4, 5, 6, 7)
static inline float lanes_tree_sum(const float *a) {
    lanes_v16 v;
    memcpy(&v, a, sizeof v);
    lanes_v8 s8 = LANES_LO8(v) + LANES_HI8(v);
    lanes_v4 s4 = LANES_LO4(s8) + LANES_HI4(s8);
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}
// the same tree for the max: lane j + w where it is greater (so NaN in lane j stays), else j
static inline float lanes_tree_max(const float *a) {
    lanes_v16 v;
    memcpy(&v, a, sizeof v);
    lanes_v8 lo = LANES_LO8(v), hi = LANES_HI8(v);
    lanes_i8 g8 = hi > lo;
    lanes_v8 m8 = (lanes_v8)((g8 & (lanes_i8)hi) | (~g8 & (lanes_i8)lo));
    lanes_v4 l4 = LANES_LO4(m8), h4 = LANES_HI4(m8);
    lanes_i4 g4 = h4 > l4;
    lanes_v4 m4 = (lanes_v4)((g4 & (lanes_i4)h4) | (~g4 & (lanes_i4)l4));
    float m0 = m4[2] > m4[0] ? m4[2] : m4[0], m1 = m4[3] > m4[1] ? m4[3] : m4[1];
    return m1 > m0 ? m1 : m0;
}
// Rows under two lane chunks (a small model's width) are summed in a plain loop: the lanes and
// their tree would cost more than the row.
static inline float lanes_sum(const float *restrict x, int n) {
    if (n < 2 * LANES) {
        float s = 0.0f;
        for (int i = 0; i < n; i++) s += x[i];
        return s;
    }
    float a[LANES] = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) a[j] += x[i + j];
    for (int j = 0; i + j < n; j++) a[j] += x[i + j];
    return lanes_tree_sum(a);
}
static inline float lanes_dot(const float *restrict x, const float *restrict y, int n) {
    if (n < 2 * LANES) {
        float s = 0.0f;
        for (int i = 0; i < n; i++) s += x[i] * y[i];
        return s;
    }
    float a[LANES] = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) a[j] += x[i + j] * y[i + j];
    for (int j = 0; i + j < n; j++) a[j] += x[i + j] * y[i + j];
    return lanes_tree_sum(a);
}
// sum of (x[i] - m)^2
static inline float lanes_sqdev(const float *restrict x, float m, int n) {
    if (n < 2 * LANES) {
        float s = 0.0f;
        for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
        return s;
    }
    float a[LANES] = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) { float d = x[i + j] - m; a[j] += d * d; }
    for (int j = 0; i + j < n; j++) { float d = x[i + j] - m; a[j] += d * d; }
    return lanes_tree_sum(a);
}
static inline float lanes_max(const float *restrict x, int n) {
    float m[LANES];
    for (int j = 0; j < LANES; j++) m[j] = x[0];
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    for (int j = 0; i + j < n; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    return lanes_tree_max(m);
}

#endif
