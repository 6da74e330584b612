// Branch-free expf and tanhf that GCC vectorizes (libm's calls are scalar).
// expf: Cephes' range reduction and degree-6 polynomial, within 2 ulp on [-87, 88].
#ifndef EMERGENT_FASTMATH_H
#define EMERGENT_FASTMATH_H
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
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float e = p * scale;
    return x == x ? e : x;  // NaN in, NaN out
}

// tanh(u) = 1 - 2 / (exp(2u) + 1); absolute error ~1e-7
static inline float fast_tanhf(float u) { return 1.0f - 2.0f / (fast_expf(2.0f * u) + 1.0f); }

// Row reductions in LANES partial results combined in a fixed order (so the same inputs
// give the same bits): a serial float chain does not vectorize, and keeps everything else
// in its loop scalar too. n >= 1 for lanes_max.
#define LANES 16
static inline float lanes_tree_sum(float *a) {
    for (int w = LANES / 2; w > 0; w /= 2)
        for (int j = 0; j < w; j++) a[j] += a[j + w];
    return a[0];
}
static inline float lanes_sum(const float *restrict x, int n) {
    float a[LANES] = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) a[j] += x[i + j];
    for (int j = 0; i + j < n; j++) a[j] += x[i + j];
    return lanes_tree_sum(a);
}
static inline float lanes_dot(const float *restrict x, const float *restrict y, int n) {
    float a[LANES] = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) a[j] += x[i + j] * y[i + j];
    for (int j = 0; i + j < n; j++) a[j] += x[i + j] * y[i + j];
    return lanes_tree_sum(a);
}
// sum of (x[i] - m)^2
static inline float lanes_sqdev(const float *restrict x, float m, int n) {
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
    for (int w = LANES / 2; w > 0; w /= 2)
        for (int j = 0; j < w; j++) m[j] = m[j + w] > m[j] ? m[j + w] : m[j];
    return m[0];
}

#endif
