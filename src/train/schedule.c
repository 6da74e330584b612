// The learning-rate schedule, gradient norms and the default recipe.
#include <math.h>
#include <stdlib.h>

#include "train.h"

void train_config_default(TrainConfig *tc) {
    *tc = (TrainConfig){
        .batch_size = 12, .seq_len = 0, .steps = 2000, .grad_accum = 1,
        .lr = 1e-3f, .min_lr = 1e-4f, .warmup = 100, .decay_steps = 0,
        .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = 0.1f, .grad_clip = 1.0f,
        .eval_every = 250, .eval_iters = 20, .log_every = 0, .save_every = 0, .seed = 1337,
    };
}

// nanoGPT's schedule: linear warmup to lr over `warmup` steps, cosine decay to min_lr at
// decay_steps, then min_lr.
float train_lr(const TrainConfig *tc, int step) {
    int decay = tc->decay_steps > 0 ? tc->decay_steps : tc->steps;
    if (step < tc->warmup) return tc->lr * (float)(step + 1) / (float)tc->warmup;
    if (step >= decay) return tc->min_lr;
    double ratio = (double)(step - tc->warmup) / (double)(decay - tc->warmup);
    double coeff = 0.5 * (1.0 + cos(M_PI * ratio));
    return (float)(tc->min_lr + coeff * (tc->lr - tc->min_lr));
}

double train_grad_norm(const float *g, size_t n) {
    double s = 0.0;
    // blocks in parallel, then the partial sums in a fixed order: deterministic
    enum { BLK = 1 << 16 };
    size_t nb = (n + BLK - 1) / BLK;
    static double *part;  // grown once: nothing allocated in the steady state
    static size_t cap;
    if (nb > cap) { free(part); part = xmalloc(nb * sizeof(double)); cap = nb; }
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * BLK, hi = lo + BLK < n ? lo + BLK : n;
        // 32 partial sums (four vectors: a serial double chain is latency-bound, 3x slower
        // than memory), combined in a fixed order
        double a[32] = {0};
        size_t i = lo;
        for (; i + 32 <= hi; i += 32)
            for (int j = 0; j < 32; j++) a[j] += (double)g[i + j] * g[i + j];
        for (int j = 0; i + j < hi; j++) a[j] += (double)g[i + j] * g[i + j];
        for (int w = 16; w > 0; w /= 2)
            for (int j = 0; j < w; j++) a[j] += a[j + w];
        part[b] = a[0];
    }
    for (size_t b = 0; b < nb; b++) s += part[b];
    return sqrt(s);
}
