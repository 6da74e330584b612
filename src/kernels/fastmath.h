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

#endif
