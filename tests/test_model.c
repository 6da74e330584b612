// Whole-model tests: gradients against finite differences, initial loss,
// overfitting one batch, determinism, ignored targets.
#include <math.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "kernels/kernels.h"
#include "model/gpt.h"
#include "test.h"

static void random_batch(int *inp, int *tgt, int n, int V, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) { inp[i] = rng_below(&r, V); tgt[i] = rng_below(&r, V); }
}

static double loss_at(GPT *m, const int *inp, const int *tgt, int B, int T) {
    gpt_forward(m, inp, tgt, B, T);
    return m->loss;
}

// Directional derivative along random directions, and per-tensor spot checks of the
// largest gradient entries, both by central differences on the fp32 model.
static void test_grad_finite_differences(void) {
    GPTConfig c = {.vocab_size = 11, .block_size = 8, .n_layer = 2, .n_head = 2, .n_embd = 8};
    GPT m;
    CHECK(gpt_create(&m, &c) == 0, "%s", em_errmsg());
    gpt_init_weights(&m, 7);
    // larger weights than GPT-2's init so every path carries a visible gradient
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 5.0f;
    int B = 2, T = 5, inp[10], tgt[10];
    random_batch(inp, tgt, B * T, c.vocab_size, 3);
    tgt[3] = -1;  // an ignored position
    gpt_alloc_acts(&m, B, T);
    gpt_alloc_grads(&m);
    gpt_zero_grad(&m);
    gpt_forward(&m, inp, tgt, B, T);
    gpt_backward(&m, inp, 1.0f);
    float *g = xmalloc(m.num_params * sizeof(float));
    memcpy(g, m.grads, m.num_params * sizeof(float));
    float *p0 = xmalloc(m.num_params * sizeof(float));
    memcpy(p0, m.params, m.num_params * sizeof(float));

    Rng r;
    rng_seed(&r, 11);
    float *d = xmalloc(m.num_params * sizeof(float));
    for (int trial = 0; trial < 3; trial++) {
        double gd = 0.0, eps = 1e-2, nd = 0.0;
        for (size_t i = 0; i < m.num_params; i++) { d[i] = rng_normal(&r); nd += (double)d[i] * d[i]; }
        nd = sqrt(nd);
        for (size_t i = 0; i < m.num_params; i++) { d[i] /= (float)nd; gd += (double)g[i] * d[i]; }
        for (size_t i = 0; i < m.num_params; i++) m.params[i] = p0[i] + (float)eps * d[i];
        double lp = loss_at(&m, inp, tgt, B, T);
        for (size_t i = 0; i < m.num_params; i++) m.params[i] = p0[i] - (float)eps * d[i];
        double lm = loss_at(&m, inp, tgt, B, T);
        double fd = (lp - lm) / (2 * eps);
        CHECK(fabs(fd - gd) <= 2e-2 * fabs(gd) + 1e-3, "direction %d: analytic %g vs numeric %g", trial, gd, fd);
    }
    memcpy(m.params, p0, m.num_params * sizeof(float));

    // per tensor: the 3 largest |grad| entries
    int nt = gpt_param_table(&c, NULL);
    ParamInfo *t = xmalloc(nt * sizeof *t);
    gpt_param_table(&c, t);
    int bad = 0;
    for (int k = 0; k < nt; k++) {
        size_t best[3] = {0, 0, 0};
        for (int j = 0; j < 3; j++) {
            float bv = -1;
            for (size_t i = 0; i < t[k].numel; i++) {
                size_t idx = t[k].offset + i;
                if ((j > 0 && idx == best[0]) || (j > 1 && idx == best[1])) continue;
                if (fabsf(g[idx]) > bv) { bv = fabsf(g[idx]); best[j] = idx; }
            }
        }
        for (int j = 0; j < 3; j++) {
            size_t idx = best[j];
            double eps = 1e-3;
            m.params[idx] = p0[idx] + eps;
            double lp = loss_at(&m, inp, tgt, B, T);
            m.params[idx] = p0[idx] - eps;
            double lm = loss_at(&m, inp, tgt, B, T);
            m.params[idx] = p0[idx];
            double fd = (lp - lm) / (2 * eps);
            double tol = 2e-2 * fabs(g[idx]) + 2e-3;
            if (fabs(fd - g[idx]) > tol) {
                bad++;
                fprintf(stderr, "  %s[%zu]: analytic %g numeric %g\n", t[k].name, idx - t[k].offset, g[idx], fd);
            }
        }
    }
    CHECK(bad == 0, "%d gradient entries disagree with finite differences", bad);
    free(t); free(d); free(g); free(p0);
    gpt_free(&m);
}

// gpt_zero_grad marks the gradients and the next backward writes them: over garbage they
// equal those of a fresh model bit for bit, a second backward adds to them, and a batch
// with no target leaves them zero.
static void test_zero_grad_writes(void) {
    GPTConfig c = {.vocab_size = 13, .block_size = 9, .n_layer = 2, .n_head = 2, .n_embd = 16};
    GPT a, b;
    CHECK(gpt_create(&a, &c) == 0 && gpt_create(&b, &c) == 0, "%s", em_errmsg());
    gpt_init_weights(&a, 5);
    gpt_init_weights(&b, 5);
    int B = 3, T = 6, inp[18], tgt[18], none[18];
    random_batch(inp, tgt, B * T, c.vocab_size, 9);
    for (int i = 0; i < B * T; i++) none[i] = -1;
    gpt_alloc_acts(&a, B, T);
    gpt_alloc_acts(&b, B, T);
    gpt_alloc_grads(&a);
    gpt_alloc_grads(&b);
    size_t nb = a.num_params * sizeof(float);
    for (size_t i = 0; i < b.num_params; i++) b.grads[i] = 1e3f * (float)(i % 7) - 2e3f;
    memset(a.grads, 0, nb);  // a: += into zeros; b: written over garbage
    gpt_forward(&a, inp, tgt, B, T);
    gpt_backward(&a, inp, 0.5f);
    gpt_zero_grad(&b);
    gpt_forward(&b, inp, tgt, B, T);
    gpt_backward(&b, inp, 0.5f);
    CHECK(!memcmp(a.grads, b.grads, nb), "%s", "a backward after gpt_zero_grad must write every gradient");
    gpt_forward(&a, inp, tgt, B, T);
    gpt_backward(&a, inp, 0.5f);
    gpt_forward(&b, inp, tgt, B, T);
    gpt_backward(&b, inp, 0.5f);
    CHECK(!memcmp(a.grads, b.grads, nb), "%s", "the second backward of a step must add");
    gpt_zero_grad(&b);
    gpt_forward(&b, inp, none, B, T);
    gpt_backward(&b, inp, 1.0f);
    size_t nz = 0;
    for (size_t i = 0; i < b.num_params; i++) nz += b.grads[i] != 0.0f;
    CHECK(nz == 0, "%zu gradients nonzero after a batch with no target", nz);
    gpt_free(&a);
    gpt_free(&b);
}

static void test_initial_loss(void) {
    GPTConfig c = {.vocab_size = 65, .block_size = 64, .n_layer = 4, .n_head = 4, .n_embd = 128};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 1337);
    int B = 4, T = 64, *inp = xmalloc(B * T * sizeof(int)), *tgt = xmalloc(B * T * sizeof(int));
    random_batch(inp, tgt, B * T, c.vocab_size, 5);
    gpt_alloc_acts(&m, B, T);
    gpt_forward(&m, inp, tgt, B, T);
    CHECK(fabs(m.loss - log(65.0)) < 0.1, "initial loss %g, expected ln(65) = %g", m.loss, log(65.0));
    free(inp); free(tgt);
    gpt_free(&m);
}

// A forward outside the arena or with a token id outside the vocabulary stops (SIGABRT)
// before it writes or reads out of bounds; inside both, it runs.
static void forward_child(int B, int T, int bad_id) {
    GPTConfig c = {.vocab_size = 11, .block_size = 8, .n_layer = 1, .n_head = 2, .n_embd = 8};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 1);
    gpt_alloc_acts(&m, 2, 4);
    int inp[64] = {0};
    if (bad_id) inp[B * T - 1] = bad_id;
    gpt_forward(&m, inp, NULL, B, T);
    exit(0);
}
// Runs forward_child in a fresh process (this binary, re-executed: a fork would inherit
// OpenMP's threads half-alive); the signal that ended it, or minus its exit status.
static int forward_in_child(int B, int T, int bad_id) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char b[16], t[16], id[16];
        snprintf(b, sizeof b, "%d", B); snprintf(t, sizeof t, "%d", T);
        snprintf(id, sizeof id, "%d", bad_id);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 2);
        execl("/proc/self/exe", "test_model", "--forward-child", b, t, id, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) ? WTERMSIG(st) : -WEXITSTATUS(st);
}
static void test_forward_bounds(void) {
    CHECK(forward_in_child(2, 4, 0) == 0, "a batch inside the arena: %d", forward_in_child(2, 4, 0));
    CHECK(forward_in_child(1, 3, 0) == 0, "a smaller batch");
    CHECK(forward_in_child(3, 4, 0) == SIGABRT, "B beyond the arena");
    CHECK(forward_in_child(2, 5, 0) == SIGABRT, "T beyond the arena");
    CHECK(forward_in_child(1, 4, 11) == SIGABRT, "id == vocab_size");
    CHECK(forward_in_child(1, 4, -1) == SIGABRT, "negative id");
}

static float train_steps(GPT *m, const int *inp, const int *tgt, int B, int T, int steps, float *m1, float *v1) {
    for (int s = 1; s <= steps; s++) {
        gpt_zero_grad(m);
        gpt_forward(m, inp, tgt, B, T);
        gpt_backward(m, inp, 1.0f);
        adamw_update(m->params, m->grads, m1, v1, m->num_params, 3e-3f, 0.9f, 0.99f, 1e-8f, 0.0f, s, 1.0f);
    }
    gpt_forward(m, inp, tgt, B, T);
    return m->loss;
}

static void test_overfit_one_batch(void) {
    GPTConfig c = {.vocab_size = 65, .block_size = 32, .n_layer = 2, .n_head = 4, .n_embd = 64};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 42);
    int B = 4, T = 32, inp[128], tgt[128];
    random_batch(inp, tgt, B * T, c.vocab_size, 9);
    gpt_alloc_acts(&m, B, T);
    gpt_alloc_grads(&m);
    float *m1 = xcalloc(m.num_params, 4), *v1 = xcalloc(m.num_params, 4);
    float loss = train_steps(&m, inp, tgt, B, T, 300, m1, v1);
    CHECK(loss < 0.05f, "loss after 300 steps on one batch: %g (want < 0.05)", loss);
    free(m1); free(v1);
    gpt_free(&m);
}

static void test_deterministic(void) {
    GPTConfig c = {.vocab_size = 17, .block_size = 16, .n_layer = 2, .n_head = 2, .n_embd = 32};
    float losses[2];
    for (int run = 0; run < 2; run++) {
        GPT m;
        gpt_create(&m, &c);
        gpt_init_weights(&m, 1);
        int inp[64], tgt[64];
        random_batch(inp, tgt, 64, c.vocab_size, 2);
        gpt_alloc_acts(&m, 4, 16);
        gpt_alloc_grads(&m);
        float *m1 = xcalloc(m.num_params, 4), *v1 = xcalloc(m.num_params, 4);
        losses[run] = train_steps(&m, inp, tgt, 4, 16, 20, m1, v1);
        free(m1); free(v1);
        gpt_free(&m);
    }
    CHECK(memcmp(&losses[0], &losses[1], sizeof(float)) == 0, "losses differ: %.9g vs %.9g", losses[0], losses[1]);
}

// Ignored targets contribute neither loss nor gradient; the mean is over valid ones.
static void test_ignored_targets(void) {
    GPTConfig c = {.vocab_size = 13, .block_size = 8, .n_layer = 1, .n_head = 2, .n_embd = 8};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 3);
    int inp[8], tgt[8], tgt2[8];
    random_batch(inp, tgt, 8, 13, 4);
    gpt_alloc_acts(&m, 1, 8);
    gpt_forward(&m, inp, tgt, 1, 8);
    double s = 0;
    for (int i = 4; i < 8; i++) s += m.a.losses[i];
    for (int i = 0; i < 8; i++) tgt2[i] = i < 4 ? -1 : tgt[i];
    gpt_forward(&m, inp, tgt2, 1, 8);
    CHECK(m.n_valid == 4, "n_valid %d", m.n_valid);
    CHECK(fabs(m.loss - s / 4) < 1e-6, "masked loss %g vs %g", m.loss, s / 4);
    gpt_free(&m);
}

// The forward with a shorter T (inside the arena) matches the prefix of a longer one.
static void test_causal_prefix(void) {
    GPTConfig c = {.vocab_size = 13, .block_size = 8, .n_layer = 2, .n_head = 2, .n_embd = 8};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 5);
    int inp[8], tgt[8];
    random_batch(inp, tgt, 8, 13, 6);
    gpt_alloc_acts(&m, 1, 8);
    gpt_forward(&m, inp, NULL, 1, 8);
    float full[3 * 13];
    memcpy(full, m.a.logits, sizeof full);
    gpt_forward(&m, inp, NULL, 1, 3);
    float maxd = 0;
    for (int i = 0; i < 3 * 13; i++) maxd = fmaxf(maxd, fabsf(full[i] - m.a.logits[i]));
    CHECK(maxd < 1e-5f, "prefix logits differ by %g", maxd);
    gpt_free(&m);
}

// Hooks: a hook that changes nothing leaves the forward bit-identical (also when it claims a
// change to the pattern, which recomputes z); zeroing the heads' z changes the logits.
static int hook_calls;
static int noop_hook(int hook, int layer, float *act, int B, int T, void *ctx) {
    hook_calls++;
    return hook == HOOK_ATTN_PATTERN;  // "changed": forces z to be recomputed from the pattern
}
static int zero_z_hook(int hook, int layer, float *act, int B, int T, void *ctx) {
    const GPTConfig *c = ctx;
    if (hook == HOOK_ATTN_Z && layer == 0)
        for (int i = 0; i < B * T * c->n_embd; i++) act[i] = 0.0f;
    return hook == HOOK_ATTN_Z && layer == 0;
}
static void test_hooks(void) {
    GPTConfig c = {.vocab_size = 13, .block_size = 8, .n_layer = 2, .n_head = 2, .n_embd = 16};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 8);
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 4.0f;
    int inp[16], tgt[16];
    random_batch(inp, tgt, 16, 13, 3);
    gpt_alloc_acts(&m, 2, 8);
    gpt_forward(&m, inp, tgt, 2, 8);
    float *ref = xmalloc(2 * 8 * 13 * sizeof(float));
    memcpy(ref, m.a.logits, 2 * 8 * 13 * sizeof(float));
    m.hook = noop_hook;
    gpt_forward(&m, inp, tgt, 2, 8);
    float d = 0;
    for (int i = 0; i < 2 * 8 * 13; i++) d = fmaxf(d, fabsf(ref[i] - m.a.logits[i]));
    CHECK(hook_calls == 2 * HOOK_NUM, "hook called %d times, expected %d", hook_calls, 2 * HOOK_NUM);
    CHECK(d < 1e-6f, "a hook that changes nothing moved the logits by %g", d);
    m.hook = zero_z_hook;
    m.hook_ctx = &c;
    gpt_forward(&m, inp, tgt, 2, 8);
    d = 0;
    for (int i = 0; i < 2 * 8 * 13; i++) d = fmaxf(d, fabsf(ref[i] - m.a.logits[i]));
    CHECK(d > 1e-3f, "ablating layer 0's heads did not change the logits (%g)", d);
    m.hook = NULL;
    gpt_forward(&m, inp, tgt, 2, 8);
    CHECK(memcmp(ref, m.a.logits, 2 * 8 * 13 * sizeof(float)) == 0, "without hooks the forward is not the plain one");
    free(ref);
    gpt_free(&m);
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--forward-child"))
        forward_child(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    RUN(test_grad_finite_differences);
    RUN(test_zero_grad_writes);
    RUN(test_initial_loss);
    RUN(test_overfit_one_batch);
    RUN(test_deterministic);
    RUN(test_ignored_targets);
    RUN(test_causal_prefix);
    RUN(test_hooks);
    RUN(test_forward_bounds);
    return test_summary();
}
