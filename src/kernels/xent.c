// Softmax cross-entropy over the vocabulary; targets < 0 are ignored.
#include <math.h>

#include "fastmath.h"
#include "kernels.h"

// log-sum-exp of one row: the max and the sum of exponentials in lanes (fastmath.h)
static inline float row_lse(const float *restrict x, int V) {
    float mx = lanes_max(x, V), s[LANES] = {0};
    int v = 0;
    for (; v + LANES <= V; v += LANES)
        for (int j = 0; j < LANES; j++) s[j] += fast_expf(x[v + j] - mx);
    for (int j = 0; v + j < V; j++) s[j] += fast_expf(x[v + j] - mx);
    return mx + logf(lanes_tree_sum(s));
}

// Short rows (V < 2 LANES, a task's vocabulary): a row's own loop would be all remainder,
// so the exponentials of XR rows go in one flat loop, each element shifted by its row's
// value spread over sh[].
#define XR 32
#define XSHORT (2 * LANES)

// lse (n) of the n <= XR rows of x (n,V)
static void lse_short(float *restrict lse, const float *restrict x, int n, int V) {
    float mx[XR], sh[XR * XSHORT], e[XR * XSHORT];
    for (int r = 0; r < n; r++) {
        float m = x[r * V];
        for (int v = 1; v < V; v++) m = x[r * V + v] > m ? x[r * V + v] : m;
        mx[r] = m;
    }
    spread_rows(sh, mx, n, V);
    for (int j = 0; j < n * V; j++) e[j] = fast_expf(x[j] - sh[j]);
    for (int r = 0; r < n; r++) {
        float s = 0.0f;
        for (int v = 0; v < V; v++) s += e[r * V + v];
        lse[r] = mx[r] + logf(s);
    }
}

// logits (N,V), targets (N) -> losses (N), lse (N); returns the count of valid targets
int xent_forward(float *losses, float *lse, const float *logits, const int *targets,
                 int N, int V) {
    if (V < XSHORT) {
#pragma omp parallel for schedule(static) if ((long)N * V > 16384)
        for (int i0 = 0; i0 < N; i0 += XR)
            lse_short(lse + i0, logits + (size_t)i0 * V, N - i0 < XR ? N - i0 : XR, V);
    } else {
#pragma omp parallel for schedule(static) if ((long)N * V > 16384)
        for (int i = 0; i < N; i++) lse[i] = row_lse(logits + (size_t)i * V, V);
    }
    for (int i = 0; i < N; i++) {
        int t = targets ? targets[i] : -1;
        losses[i] = t >= 0 ? lse[i] - logits[(size_t)i * V + t] : 0.0f;
    }
    int n = 0;
    if (targets)
        for (int i = 0; i < N; i++) n += targets[i] >= 0;
    return n;
}

// logits <- dloss * (softmax(logits) - onehot(target)); zero rows where ignored
void xent_backward(float *logits, const float *lse, const int *targets, float dloss,
                   int N, int V) {
    if (V < XSHORT) {
#pragma omp parallel for schedule(static) if ((long)N * V > 16384)
        for (int i0 = 0; i0 < N; i0 += XR) {
            int n = N - i0 < XR ? N - i0 : XR;
            float sh[XR * XSHORT], *restrict x = logits + (size_t)i0 * V;
            spread_rows(sh, lse + i0, n, V);
            for (int j = 0; j < n * V; j++) x[j] = dloss * fast_expf(x[j] - sh[j]);
            for (int r = 0; r < n; r++) {
                int t = targets[i0 + r];
                if (t >= 0) x[r * V + t] -= dloss;
                else
                    for (int v = 0; v < V; v++) x[r * V + v] = 0.0f;
            }
        }
        return;
    }
#pragma omp parallel for schedule(static) if ((long)N * V > 16384)
    for (int i = 0; i < N; i++) {
        float *x = logits + (size_t)i * V;
        int t = targets[i];
        if (t < 0) {
            for (int v = 0; v < V; v++) x[v] = 0.0f;
            continue;
        }
        float l = lse[i];
        for (int v = 0; v < V; v++) x[v] = dloss * fast_expf(x[v] - l);
        x[t] -= dloss;
    }
}
