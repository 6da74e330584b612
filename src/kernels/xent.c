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

// logits (N,V), targets (N) -> losses (N), lse (N); returns the count of valid targets
int xent_forward(float *losses, float *lse, const float *logits, const int *targets,
                 int N, int V) {
#pragma omp parallel for schedule(static) if ((long)N * V > 16384)
    for (int i = 0; i < N; i++) {
        const float *x = logits + (size_t)i * V;
        lse[i] = row_lse(x, V);
        int t = targets ? targets[i] : -1;
        losses[i] = t >= 0 ? lse[i] - x[t] : 0.0f;
    }
    int n = 0;
    if (targets)
        for (int i = 0; i < N; i++) n += targets[i] >= 0;
    return n;
}

// logits <- dloss * (softmax(logits) - onehot(target)); zero rows where ignored
void xent_backward(float *logits, const float *lse, const int *targets, float dloss,
                   int N, int V) {
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
