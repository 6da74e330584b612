// bench_train: training speed of one config (tokens/s, ms per phase and per op family,
// GFLOP/s, MFU against an sgemm ceiling measured here, peak RSS) and, with --gen-tokens,
// decoding speed with the KV cache against the memory-bandwidth bound.
//
// usage: bench_train --config baby|small|gpt2|ladder [--steps N] [--warmup W] [--threads N]
//                    [--gen-tokens N] [--gen-max-s S] [--bw-mib N] [--seed S] [--json FILE]
//
// One config per process, so the peak RSS is that config's. The order inside the
// process is: training steps, peak RSS read, sgemm ceilings, generation, bandwidth,
// so nothing measured after training inflates the training RSS.
#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/core.h"
#include "kernels/kernels.h"
#include "model/generate.h"
#include "model/gpt.h"
#include "train/train.h"

typedef struct {
    const char *name;
    GPTConfig cfg;
    int B, T;
} BenchConfig;

static const BenchConfig CONFIGS[] = {
    {"baby", {65, 64, 4, 4, 128}, 12, 64},
    {"small", {65, 256, 6, 6, 384}, 8, 256},
    {"gpt2", {50257, 64, 12, 12, 768}, 4, 64},
    // the largest model of make demo's ladder (ladders/addition-3.json): one point's step
    {"ladder", {14, 12, 2, 4, 64}, 128, 12},
};

// The trainer's recipe: train_optimizer_step (global norm, clipping at 1.0 folded
// into AdamW, weight decay 0.1 on the 2-D weights only), betas (0.9, 0.99).
static void bench_recipe(TrainConfig *tc) {
    train_config_default(tc);
    tc->lr = 1e-3f; tc->beta1 = 0.9f; tc->beta2 = 0.99f; tc->eps = 1e-8f;
    tc->weight_decay = 0.1f; tc->grad_clip = 1.0f;
}

// Median of n values (copied, the input keeps its order).
static double median(const double *v, int n) {
    if (n <= 0) return NAN;
    double *s = xmalloc((size_t)n * sizeof(double));
    memcpy(s, v, (size_t)n * sizeof(double));
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    double r = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return r;
}

static double vmin(const double *v, int n) {
    double r = INFINITY;
    for (int i = 0; i < n; i++) if (v[i] < r) r = v[i];
    return r;
}

static double vmax(const double *v, int n) {
    double r = -INFINITY;
    for (int i = 0; i < n; i++) if (v[i] > r) r = v[i];
    return r;
}

static double peak_rss_bytes(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0;  // Linux: KiB
}

static void random_tokens(Rng *r, int *ids, int n, int V) {
    for (int i = 0; i < n; i++) ids[i] = (int)rng_below(r, (uint32_t)V);
}

// ---- sgemm ceiling: matmul_forward (N,C) @ (C,OC), best of a few calls ---------
static int gemm_split = 1;  // --gemm-split

static double sgemm_gflops_mode(int N, int C, int OC, int split) {
    kernels_set_gemm_split(split);
    float *a = xmalloc((size_t)N * C * sizeof(float));
    float *w = xmalloc((size_t)C * OC * sizeof(float));
    float *o = xmalloc((size_t)N * OC * sizeof(float));
    Rng r;
    rng_seed(&r, 7);
    for (size_t i = 0; i < (size_t)N * C; i++) a[i] = rng_uniform(&r) - 0.5f;
    for (size_t i = 0; i < (size_t)C * OC; i++) w[i] = 0.04f * (rng_uniform(&r) - 0.5f);
    double t0 = now_sec();
    matmul_forward(o, a, w, NULL, N, C, OC, 0);  // warm-up: pages, threads, packing buffers
    double first = now_sec() - t0;
    int reps = first > 0 ? (int)(0.6 / first) : 20;
    if (reps < 3) reps = 3;
    if (reps > 30) reps = 30;
    double best = INFINITY;
    for (int i = 0; i < reps; i++) {
        t0 = now_sec();
        matmul_forward(o, a, w, NULL, N, C, OC, 0);
        double dt = now_sec() - t0;
        if (dt < best) best = dt;
    }
    free(a); free(w); free(o);
    return 2.0 * N * C * (double)OC / best / 1e9;
}

// The product's best speed: with the threads given bands of the output (as the model runs
// it) or with OpenBLAS's own threading, whichever is faster, so that a gain from the bands
// raises the ceiling too rather than only the model's figure.
static double sgemm_gflops(int N, int C, int OC) {
    double a = sgemm_gflops_mode(N, C, OC, 0), b = sgemm_gflops_mode(N, C, OC, 1);
    kernels_set_gemm_split(gemm_split);
    return a > b ? a : b;
}

// ---- memory bandwidth: a streaming read (sum of floats) on all threads ---------
// Each thread sums its share of the buffer as S streams read side by side (S = 1, 4, 8; the
// best of them): one sequential stream per core leaves bandwidth unused (30 against 39 GB/s
// on a 2-core EPYC), and decoding reads many rows of a matrix at once.
static double read_bandwidth_gbs(size_t mib) {
    size_t n = mib * 1024 * 1024 / sizeof(float);
    n -= n % 64;
    float *buf = aligned_alloc(64, n * sizeof(float));
    if (!buf) return NAN;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) buf[i] = 1.0f;  // first touch by the thread that reads it
    static const int streams[] = {1, 4, 8};
    double best = INFINITY;
    volatile float sink = 0.0f;
    for (int si = 0; si < 3; si++) {
        int S = streams[si];
        for (int rep = 0; rep < 6; rep++) {
            double t0 = now_sec();
            float total = 0.0f;
            size_t bytes = 0;
#pragma omp parallel reduction(+ : total, bytes)
            {
                int t = omp_get_thread_num(), nt = omp_get_num_threads();
                size_t lo = n / 64 * t / nt * 64, hi = n / 64 * (t + 1) / nt * 64;
                size_t len = (hi - lo) / S / 64 * 64;  // each stream's floats
                float acc[64] = {0};  // independent chains: load-bound, not add-latency-bound
                for (size_t i = 0; i < len; i += 64)
                    for (int s = 0; s < S; s++) {
                        const float *p = buf + lo + (size_t)s * len + i;
#pragma omp simd
                        for (int j = 0; j < 64; j++) acc[j] += p[j];
                    }
                for (int j = 0; j < 64; j++) total += acc[j];
                bytes += (size_t)S * len * sizeof(float);
            }
            double dt = now_sec() - t0;
            sink += total;
            if (rep > 0 && dt / (double)bytes < best)  // the first pass warms the TLB
                best = dt / (double)bytes;  // seconds per byte
        }
    }
    (void)sink;
    free(buf);
    return 1.0 / best / 1e9;
}

// ---- which BLAS the process has mapped, and what OpenBLAS says of itself ----------
static void blas_info(cJSON *out) {
    cJSON *libs = cJSON_AddArrayToObject(out, "libraries_mapped");
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024], first[512] = "";
    while (f && fgets(line, sizeof line, f)) {
        char *path = strchr(line, '/');
        if (!path || !strstr(path, "blas")) continue;
        path[strcspn(path, "\n")] = 0;
        int dup = 0;
        for (cJSON *it = libs->child; it; it = it->next)
            if (!strcmp(it->valuestring, path)) dup = 1;
        if (dup) continue;
        cJSON_AddItemToArray(libs, cJSON_CreateString(path));
        if (!first[0] && strstr(path, "openblas")) snprintf(first, sizeof first, "%s", path);
    }
    if (f) fclose(f);
    if (!first[0]) return;
    void *h = dlopen(first, RTLD_NOW | RTLD_NOLOAD);
    if (!h) return;
    char *(*corename)(void) = (char *(*)(void))dlsym(h, "openblas_get_corename");
    char *(*config)(void) = (char *(*)(void))dlsym(h, "openblas_get_config");
    int (*parallel)(void) = (int (*)(void))dlsym(h, "openblas_get_parallel");
    if (corename) cJSON_AddStringToObject(out, "openblas_core", corename());
    if (config) cJSON_AddStringToObject(out, "openblas_config", config());
    if (parallel) {
        static const char *p[] = {"sequential", "pthreads", "openmp"};
        int k = parallel();
        cJSON_AddStringToObject(out, "openblas_threading", k >= 0 && k <= 2 ? p[k] : "?");
    }
    dlclose(h);
}

static void usage(FILE *f) {
    fprintf(f, "usage: bench_train --config baby|small|gpt2|ladder [--steps N] [--warmup W] "
               "[--threads N]\n                   [--gen-tokens N] [--gen-max-s S] [--bw-mib N] [--seed S] "
               "[--json FILE]\n                   [--n-layer L] [--n-head H] [--n-embd C] [--gemm-split 0|1]\n"
               "  --steps N       timed steps after the warm-up (default 20)\n"
               "  --warmup W      untimed steps first (default 3)\n"
               "  --threads N     OpenMP threads (default 2)\n"
               "  --gen-tokens N  also time decoding of N tokens with the KV cache, batch 1,\n"
               "                  and measure memory bandwidth (default 0: off)\n"
               "  --gen-max-s S   stop timing tokens (at 8 or more) after S seconds (default 30)\n"
               "  --bw-mib N      size of the bandwidth buffer in MiB (default 1024)\n"
               "  --n-layer L, --n-head H, --n-embd C\n"
               "                  the config's model with another shape (its batch and context)\n"
               "  --gemm-split 0|1  1: each thread multiplies its own band of a product (as\n"
               "                  emergent runs); 0: OpenBLAS's own threading (default 1)\n");
}

int main(int argc, char **argv) {
    em_wait_policy(argv);  // as emergent itself runs
    const char *name = NULL, *json_path = NULL;
    int steps = 20, warmup = 3, threads = 2, gen_tokens = 0, bw_mib = 1024;
    double gen_max_s = 30.0;
    uint64_t seed = 1337;
    int n_layer = 0, n_head = 0, n_embd = 0;  // 0: the config's own
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!v) { fprintf(stderr, "bench_train: %s needs a value\n", a); usage(stderr); return 2; }
        if (!strcmp(a, "--config")) name = v;
        else if (!strcmp(a, "--steps")) steps = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--gen-tokens")) gen_tokens = atoi(v);
        else if (!strcmp(a, "--gen-max-s")) gen_max_s = atof(v);
        else if (!strcmp(a, "--bw-mib")) bw_mib = atoi(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--json")) json_path = v;
        else if (!strcmp(a, "--n-layer")) n_layer = atoi(v);
        else if (!strcmp(a, "--n-head")) n_head = atoi(v);
        else if (!strcmp(a, "--n-embd")) n_embd = atoi(v);
        else if (!strcmp(a, "--gemm-split")) gemm_split = atoi(v) != 0;
        else { fprintf(stderr, "bench_train: unknown flag %s\n", a); usage(stderr); return 2; }
        i++;
    }
    const BenchConfig *bc = NULL;
    for (size_t i = 0; name && i < sizeof CONFIGS / sizeof CONFIGS[0]; i++)
        if (!strcmp(name, CONFIGS[i].name)) bc = &CONFIGS[i];
    if (!bc || steps < 1 || warmup < 0 || threads < 1 || gen_tokens < 0 || bw_mib < 1) {
        fprintf(stderr, "bench_train: --config must be baby, small or gpt2; --steps >= 1, "
                        "--warmup >= 0, --threads >= 1, --bw-mib >= 1\n");
        usage(stderr);
        return 2;
    }
    omp_set_num_threads(threads);
    kernels_set_gemm_split(gemm_split);
    GPTConfig cfg = bc->cfg;
    if (n_layer > 0) cfg.n_layer = n_layer;
    if (n_head > 0) cfg.n_head = n_head;
    if (n_embd > 0) cfg.n_embd = n_embd;
    if (cfg.n_embd % cfg.n_head) {
        fprintf(stderr, "bench_train: --n-embd %d is not a multiple of --n-head %d\n", cfg.n_embd,
                cfg.n_head);
        return 2;
    }
    const GPTConfig *c = &cfg;
    int B = bc->B, T = bc->T, L = c->n_layer, C = c->n_embd, V = c->vocab_size;
    if (gen_tokens > c->block_size) gen_tokens = c->block_size;

    // ---- training ------------------------------------------------------------
    GPT m;
    if (gpt_create(&m, c) || gpt_alloc_acts(&m, B, T)) {
        fprintf(stderr, "bench_train: %s\n", em_errmsg());
        return 1;
    }
    gpt_init_weights(&m, seed);
    gpt_alloc_grads(&m);
    size_t P = m.num_params;
    TrainConfig tc;
    bench_recipe(&tc);
    TrainState st = {.m = xcalloc_big(P, sizeof(float)), .v = xcalloc_big(P, sizeof(float))};
    int *inp = xmalloc((size_t)B * T * sizeof(int)), *tgt = xmalloc((size_t)B * T * sizeof(int));
    Rng rng;
    rng_seed(&rng, seed ^ 0xbe4cULL);
    m.profile = 1;

    int total = warmup + steps;
    double *t_step = xcalloc((size_t)steps, sizeof(double));
    double *t_ph[3], *t_fam[2][PROF_NUM];
    for (int k = 0; k < 3; k++) t_ph[k] = xcalloc((size_t)steps, sizeof(double));
    for (int d = 0; d < 2; d++)
        for (int f = 0; f < PROF_NUM; f++) t_fam[d][f] = xcalloc((size_t)steps, sizeof(double));
    float loss_first = NAN, loss_last = NAN;
    double norm_last = NAN;

    printf("bench_train: %s (V %d, L %d, NH %d, C %d, T %d, B %d), %zu parameters, %d threads\n",
           bc->name, V, L, c->n_head, C, T, B, P, threads);
    printf("  kernels: %s\n", kernels_describe());
    fflush(stdout);
    gpt_zero_grad(&m);
    for (int s = 0; s < total; s++) {
        random_tokens(&rng, inp, B * T, V);
        random_tokens(&rng, tgt, B * T, V);
        memset(m.prof_fwd, 0, sizeof m.prof_fwd);
        memset(m.prof_bwd, 0, sizeof m.prof_bwd);
        double t0 = now_sec();
        gpt_forward(&m, inp, tgt, B, T);
        double t1 = now_sec();
        gpt_backward(&m, inp, 1.0f);
        double t2 = now_sec();
        // optimizer: norm, clipping and AdamW as the trainer does, then zero the gradients
        st.step = s;
        double norm = train_optimizer_step(&m, &st, &tc, tc.lr);
        gpt_zero_grad(&m);
        double t3 = now_sec();
        if (!isfinite(m.loss) || !isfinite(norm)) {
            fprintf(stderr, "bench_train: step %d: loss %g, gradient norm %g\n", s + 1, m.loss,
                    norm);
            return 1;
        }
        if (s == 0) loss_first = m.loss;
        loss_last = m.loss;
        norm_last = norm;
        if (s < warmup) continue;
        int i = s - warmup;
        t_step[i] = t3 - t0;
        t_ph[0][i] = t1 - t0;
        t_ph[1][i] = t2 - t1;
        t_ph[2][i] = t3 - t2;
        for (int f = 0; f < PROF_NUM; f++) {
            t_fam[0][f][i] = m.prof_fwd[f];
            t_fam[1][f][i] = m.prof_bwd[f];
        }
    }
    double rss = peak_rss_bytes();

    double *tps = xmalloc((size_t)steps * sizeof(double));
    for (int i = 0; i < steps; i++) tps[i] = (double)B * T / t_step[i];
    double tps_med = median(tps, steps), tps_min = vmin(tps, steps), tps_max = vmax(tps, steps);
    double flops_tok = gpt_train_flops_per_token(c, T, NULL, NULL);
    double gflops = flops_tok * tps_med / 1e9;

    // ---- sgemm ceilings: a large transformer shape, and this config's largest matmul --
    int big[3] = {4096, 768, 3072};
    int own[3] = {B * T, C, 4 * C};
    if ((double)V > 4.0 * C) { own[2] = V; }  // the head is the largest (gpt2)
    double ceil_big = sgemm_gflops(big[0], big[1], big[2]);
    double ceil_own = sgemm_gflops(own[0], own[1], own[2]);
    double mfu = gflops / ceil_big;

    static const char *phase_names[3] = {"forward", "backward", "optimizer"};
    printf("  tokens/s  %.0f (min %.0f, max %.0f) over %d steps after %d warm-up; loss %.3f -> "
           "%.3f\n", tps_med, tps_min, tps_max, steps, warmup, loss_first, loss_last);
    printf("  ms/step   %.1f =", 1e3 * median(t_step, steps));
    for (int k = 0; k < 3; k++)
        printf(" %s %.1f%s", phase_names[k], 1e3 * median(t_ph[k], steps), k < 2 ? " +" : "");
    printf("  (medians)\n  families ");
    for (int f = 0; f < PROF_NUM; f++)
        printf(" %s %.1f (fwd %.1f, bwd %.1f)%s", gpt_prof_names[f],
               1e3 * (median(t_fam[0][f], steps) + median(t_fam[1][f], steps)),
               1e3 * median(t_fam[0][f], steps), 1e3 * median(t_fam[1][f], steps),
               f < PROF_NUM - 1 ? "," : "");
    printf("\n  GFLOP/s   %.1f (%.3g FLOPs/token); sgemm ceiling %.1f GFLOP/s at %dx%dx%d, "
           "%.1f at %dx%dx%d; MFU %.1f%%\n", gflops, flops_tok, ceil_big, big[0], big[1], big[2],
           ceil_own, own[0], own[1], own[2], 100.0 * mfu);
    printf("  peak RSS  %.1f MiB\n", rss / 1048576.0);
    fflush(stdout);

    cJSON *j = cJSON_CreateObject();
    cJSON *jc = cJSON_AddObjectToObject(j, "config");
    cJSON_AddStringToObject(jc, "name", bc->name);
    cJSON_AddNumberToObject(jc, "vocab_size", V);
    cJSON_AddNumberToObject(jc, "n_layer", L);
    cJSON_AddNumberToObject(jc, "n_head", c->n_head);
    cJSON_AddNumberToObject(jc, "n_embd", C);
    cJSON_AddNumberToObject(jc, "block_size", c->block_size);
    cJSON_AddNumberToObject(jc, "batch_size", B);
    cJSON_AddNumberToObject(jc, "seq_len", T);
    cJSON_AddNumberToObject(j, "threads", threads);
    cJSON_AddStringToObject(j, "kernels", kernels_describe());
    blas_info(cJSON_AddObjectToObject(j, "blas"));
    cJSON_AddNumberToObject(j, "num_params", (double)P);
    cJSON_AddNumberToObject(j, "flops_per_token", flops_tok);
    cJSON_AddNumberToObject(j, "steps", steps);
    cJSON_AddNumberToObject(j, "warmup", warmup);
    cJSON_AddNumberToObject(j, "loss_first", loss_first);
    cJSON_AddNumberToObject(j, "loss_last", loss_last);
    cJSON_AddNumberToObject(j, "grad_norm_last", norm_last);
    cJSON *jt = cJSON_AddObjectToObject(j, "tokens_per_s");
    cJSON_AddNumberToObject(jt, "median", tps_med);
    cJSON_AddNumberToObject(jt, "min", tps_min);
    cJSON_AddNumberToObject(jt, "max", tps_max);
    cJSON_AddItemToObject(jt, "per_step", cJSON_CreateDoubleArray(tps, steps));
    cJSON *js = cJSON_AddObjectToObject(j, "step_ms");
    double mean = 0.0;
    for (int i = 0; i < steps; i++) mean += t_step[i] / steps;
    cJSON_AddNumberToObject(js, "median", 1e3 * median(t_step, steps));
    cJSON_AddNumberToObject(js, "mean", 1e3 * mean);
    cJSON *jp = cJSON_AddObjectToObject(j, "phase_ms");
    for (int k = 0; k < 3; k++)
        cJSON_AddNumberToObject(jp, phase_names[k], 1e3 * median(t_ph[k], steps));
    cJSON *jf = cJSON_AddObjectToObject(j, "family_ms");
    for (int f = 0; f < PROF_NUM; f++) {
        cJSON *x = cJSON_AddObjectToObject(jf, gpt_prof_names[f]);
        double fw = 1e3 * median(t_fam[0][f], steps), bw = 1e3 * median(t_fam[1][f], steps);
        cJSON_AddNumberToObject(x, "forward", fw);
        cJSON_AddNumberToObject(x, "backward", bw);
        cJSON_AddNumberToObject(x, "total", fw + bw);
    }
    cJSON_AddNumberToObject(j, "gflops", gflops);
    cJSON *jg = cJSON_AddObjectToObject(j, "sgemm_ceiling");
    cJSON *jb = cJSON_AddObjectToObject(jg, "large");
    cJSON_AddItemToObject(jb, "shape_N_C_OC", cJSON_CreateIntArray(big, 3));
    cJSON_AddNumberToObject(jb, "gflops", ceil_big);
    cJSON *jo = cJSON_AddObjectToObject(jg, "own");
    cJSON_AddItemToObject(jo, "shape_N_C_OC", cJSON_CreateIntArray(own, 3));
    cJSON_AddNumberToObject(jo, "gflops", ceil_own);
    cJSON_AddNumberToObject(j, "mfu", mfu);
    cJSON_AddNumberToObject(j, "peak_rss_bytes", rss);

    free(st.m); free(st.v);  // generation needs only the weights
    free(m.grads); m.grads = NULL;

    // ---- generation: one token at a time with the KV cache, batch 1 ----------------
    if (gen_tokens > 0) {
        KVCache kv;
        kv_init(&kv, &m);
        // the bandwidth read before and after the tokens: the bound takes the higher, so a
        // host that slows down during the run cannot put decoding above its bound
        double bw_before = read_bandwidth_gbs((size_t)bw_mib);
        int w = gen_tokens < 4 ? gen_tokens : 4;
        for (int i = 0; i < w; i++) kv_step(&kv, (int)rng_below(&rng, (uint32_t)V));
        kv_reset(&kv);
        double *tt = xmalloc((size_t)gen_tokens * sizeof(double)), sum = 0.0;
        int n = 0;  // tokens timed: all of them, or fewer (>= 8) once gen_max_s has passed
        for (; n < gen_tokens && (n < 8 || sum < gen_max_s); n++) {
            int tok = (int)rng_below(&rng, (uint32_t)V);
            double t0 = now_sec();
            kv_step(&kv, tok);
            tt[n] = now_sec() - t0;
            sum += tt[n];
        }
        kv_free(&kv);
        int asked = gen_tokens;
        gen_tokens = n;
        // bytes read per token: every weight once (wte twice over: one row in, all of it
        // for the head; counted once), of wpe only the one row at the position
        double wbytes = 4.0 * ((double)P - (double)c->block_size * C + C);
        // plus the cache: K and V of every layer up to the position (mean over the run)
        double kvbytes = 4.0 * 2.0 * L * (double)C * (gen_tokens + 1) / 2.0;
        double bw_after = read_bandwidth_gbs((size_t)bw_mib);
        double bw = bw_before > bw_after ? bw_before : bw_after;
        double gen_tps = gen_tokens / sum;
        double bound = bw * 1e9 / wbytes;
        printf("  generate  %.2f tokens/s (median %.1f ms/token) for %d tokens, batch 1; "
               "bound %.2f tokens/s = %.1f GB/s / %.0f MB of weights; %.0f%% of it\n", gen_tps,
               1e3 * median(tt, gen_tokens), gen_tokens, bound, bw, wbytes / 1e6,
               100.0 * gen_tps / bound);
        cJSON *jgen = cJSON_AddObjectToObject(j, "generation");
        cJSON_AddNumberToObject(jgen, "tokens", gen_tokens);
        cJSON_AddNumberToObject(jgen, "tokens_asked", asked);
        cJSON_AddNumberToObject(jgen, "batch", 1);
        cJSON_AddNumberToObject(jgen, "tokens_per_s", gen_tps);
        cJSON_AddNumberToObject(jgen, "ms_per_token_median", 1e3 * median(tt, gen_tokens));
        cJSON_AddNumberToObject(jgen, "ms_per_token_min", 1e3 * vmin(tt, gen_tokens));
        cJSON_AddNumberToObject(jgen, "ms_per_token_max", 1e3 * vmax(tt, gen_tokens));
        cJSON_AddNumberToObject(jgen, "weight_bytes_per_token", wbytes);
        cJSON_AddNumberToObject(jgen, "kv_bytes_per_token_mean", kvbytes);
        cJSON_AddNumberToObject(jgen, "bandwidth_gbs", bw);
        cJSON_AddNumberToObject(jgen, "bandwidth_gbs_before", bw_before);
        cJSON_AddNumberToObject(jgen, "bandwidth_gbs_after", bw_after);
        cJSON_AddNumberToObject(jgen, "bandwidth_buffer_mib", bw_mib);
        cJSON_AddNumberToObject(jgen, "bound_tokens_per_s", bound);
        cJSON_AddNumberToObject(jgen, "fraction_of_bound", gen_tps / bound);
        free(tt);
    }

    if (json_path) {
        char *text = cJSON_Print(j);
        size_t n = strlen(text);
        text = realloc(text, n + 2);
        text[n] = '\n';
        text[n + 1] = 0;
        if (write_file_atomic(json_path, text, n + 1)) {
            fprintf(stderr, "bench_train: %s\n", em_errmsg());
            return 1;
        }
        free(text);
    }
    cJSON_Delete(j);
    free(inp); free(tgt); free(tps); free(t_step);
    for (int k = 0; k < 3; k++) free(t_ph[k]);
    for (int d = 0; d < 2; d++)
        for (int f = 0; f < PROF_NUM; f++) free(t_fam[d][f]);
    gpt_free(&m);
    return 0;
}
