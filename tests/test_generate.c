// KV-cache decoding against the full forward, and the samplers.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "model/generate.h"
#include "test.h"

static void test_kv_matches_forward(void) {
    GPTConfig c = {.vocab_size = 23, .block_size = 12, .n_layer = 3, .n_head = 3, .n_embd = 24};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 9);
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 3.0f;  // sharper attention
    int T = 12, ids[12];
    Rng r;
    rng_seed(&r, 4);
    for (int i = 0; i < T; i++) ids[i] = rng_below(&r, c.vocab_size);
    gpt_alloc_acts(&m, 1, T);
    gpt_forward(&m, ids, NULL, 1, T);
    KVCache kv;
    kv_init(&kv, &m);
    float maxd = 0.0f;
    for (int t = 0; t < T; t++) {
        kv_step(&kv, ids[t]);
        for (int v = 0; v < c.vocab_size; v++)
            maxd = fmaxf(maxd, fabsf(kv.logits[v] - m.a.logits[t * c.vocab_size + v]));
    }
    CHECK(maxd < 1e-4f, "KV-cache logits differ from the full forward by %g", maxd);
    CHECK(kv.len == T, "cache length %d", kv.len);
    kv_free(&kv);
    gpt_free(&m);
}

// The one-row forward splits heads and product rows over the threads: with 1, 2, 3 and 5
// threads (5 > the 3 heads: some threads have none; 2 does not divide them) the logits and
// the cached keys and values match the full forward's.
static void test_kv_one_row_any_threads(void) {
    GPTConfig c = {.vocab_size = 29, .block_size = 9, .n_layer = 2, .n_head = 3, .n_embd = 24};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 21);
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 3.0f;
    int T = 9, ids[9], threads[] = {1, 2, 3, 5}, saved = omp_get_max_threads();
    Rng r;
    rng_seed(&r, 6);
    for (int i = 0; i < T; i++) ids[i] = rng_below(&r, c.vocab_size);
    gpt_alloc_acts(&m, 1, T);
    gpt_forward(&m, ids, NULL, 1, T);
    for (int k = 0; k < 4; k++) {
        omp_set_num_threads(threads[k]);
        KVCache kv;
        kv_init(&kv, &m);
        float maxd = 0.0f, maxk = 0.0f;
        for (int t = 0; t < T; t++) {
            kv_step(&kv, ids[t]);
            for (int v = 0; v < c.vocab_size; v++)
                maxd = fmaxf(maxd, fabsf(kv.logits[v] - m.a.logits[t * c.vocab_size + v]));
        }
        // layer 1's keys: the k columns of its qkv activations in the full forward
        int C = c.n_embd;
        const float *qkv1 = m.a.qkv + (size_t)T * 3 * C;
        const float *k1 = kv.k + (size_t)c.block_size * C;
        for (int t = 0; t < T; t++)
            for (int i = 0; i < C; i++)
                maxk = fmaxf(maxk, fabsf(k1[t * C + i] - qkv1[t * 3 * C + C + i]));
        CHECK(maxd < 1e-4f && maxk < 1e-4f, "%d threads: logits differ by %g, keys by %g",
              threads[k], maxd, maxk);
        kv_free(&kv);
    }
    omp_set_num_threads(saved);
    gpt_free(&m);
}

// Three slots fed in lockstep, at different positions, match three single caches.
static void test_kv_batch_matches_single(void) {
    GPTConfig c = {.vocab_size = 17, .block_size = 10, .n_layer = 2, .n_head = 2, .n_embd = 16};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 12);
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 4.0f;
    int seq[3][10];
    Rng r;
    rng_seed(&r, 8);
    for (int b = 0; b < 3; b++)
        for (int t = 0; t < 10; t++) seq[b][t] = rng_below(&r, c.vocab_size);
    KVCache one[3], kb;
    for (int b = 0; b < 3; b++) kv_init(&one[b], &m);
    kv_init_batch(&kb, &m, 3);
    float maxd = 0.0f;
    // slot 2 starts 3 steps late, and the rows come in a shuffled slot order
    for (int s = 0; s < 10; s++) {
        int slots[3], toks[3], n = 0;
        int order[3] = {2, 0, 1};
        for (int k = 0; k < 3; k++) {
            int b = order[k], t = b == 2 ? s - 3 : s;
            if (t < 0) continue;
            slots[n] = b;
            toks[n++] = seq[b][t];
            kv_step(&one[b], seq[b][t]);
        }
        kv_step_batch(&kb, slots, toks, n);
        for (int k = 0; k < n; k++)
            for (int v = 0; v < c.vocab_size; v++)
                maxd = fmaxf(maxd, fabsf(kb.logits[(size_t)k * c.vocab_size + v] - one[slots[k]].logits[v]));
    }
    CHECK(maxd < 1e-5f, "batched logits differ from single-slot logits by %g", maxd);
    CHECK(kb.lens[0] == 10 && kb.lens[1] == 10 && kb.lens[2] == 7, "lengths %d %d %d", kb.lens[0], kb.lens[1], kb.lens[2]);
    for (int b = 0; b < 3; b++) kv_free(&one[b]);
    kv_free(&kb);
    gpt_free(&m);
}

static void test_greedy_and_determinism(void) {
    GPTConfig c = {.vocab_size = 19, .block_size = 8, .n_layer = 2, .n_head = 2, .n_embd = 16};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 2);
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 5.0f;
    int prompt[3] = {1, 2, 3}, a[40], b[40], g[40];
    SampleConfig sc = {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f};
    Rng r1, r2;
    rng_seed(&r1, 5);
    rng_seed(&r2, 5);
    // 37 new tokens run past block_size (8): the window rebuild must hold up
    int n1 = gpt_generate(&m, prompt, 3, 37, &sc, &r1, a, NULL, NULL);
    int n2 = gpt_generate(&m, prompt, 3, 37, &sc, &r2, b, NULL, NULL);
    CHECK(n1 == 40 && n2 == 40, "lengths %d %d", n1, n2);
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed, different samples");
    int inrange = 1;
    for (int i = 0; i < 40; i++) inrange &= a[i] >= 0 && a[i] < c.vocab_size;
    CHECK(inrange, "token out of range");
    // greedy = argmax of the full forward at each step (within the window)
    SampleConfig greedy = {.temperature = 0.0f};
    gpt_generate(&m, prompt, 3, 5, &greedy, &r1, g, NULL, NULL);
    gpt_alloc_acts(&m, 1, 8);
    int ok = 1;
    for (int t = 3; t < 8; t++) {
        gpt_forward(&m, g, NULL, 1, t);
        const float *lg = m.a.logits + (size_t)(t - 1) * c.vocab_size;
        int best = 0;
        for (int v = 1; v < c.vocab_size; v++) if (lg[v] > lg[best]) best = v;
        ok &= best == g[t];
    }
    CHECK(ok, "greedy decoding disagrees with the argmax of the full forward");
    gpt_free(&m);
}

// kv_prefill (pieces of KV_PREFILL_ROWS rows) gives the cache and logits of n kv_steps.
static void test_prefill_matches_steps(void) {
    GPTConfig c = {.vocab_size = 29, .block_size = 150, .n_layer = 2, .n_head = 2, .n_embd = 16};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 21);
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 4.0f;
    int n = 2 * KV_PREFILL_ROWS + 7, ids[150];
    Rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < n; i++) ids[i] = rng_below(&r, c.vocab_size);
    KVCache a, b;
    kv_init(&a, &m);
    kv_init(&b, &m);
    for (int i = 0; i < n; i++) kv_step(&a, ids[i]);
    kv_prefill(&b, ids, 5);  // two calls: the second starts at position 5
    kv_prefill(&b, ids + 5, n - 5);
    float maxd = 0.0f, maxk = 0.0f;
    for (int v = 0; v < c.vocab_size; v++) maxd = fmaxf(maxd, fabsf(a.logits[v] - b.logits[v]));
    size_t nk = (size_t)c.n_layer * c.block_size * c.n_embd;
    for (size_t i = 0; i < nk; i++)
        maxk = fmaxf(maxk, fmaxf(fabsf(a.k[i] - b.k[i]), fabsf(a.v[i] - b.v[i])));
    CHECK(b.len == n, "prefill length %d, expected %d", b.len, n);
    CHECK(maxd < 1e-4f, "prefill logits differ from step-by-step by %g", maxd);
    CHECK(maxk < 1e-4f, "prefill keys/values differ from step-by-step by %g", maxk);
    kv_free(&a);
    kv_free(&b);
    gpt_free(&m);
}

// Greedy ids of gpt_generate (n ids in g) that disagree with the argmax of a fresh forward
// over the last block_size tokens before each one; *margin: the smallest top-1/top-2 gap.
static int window_mismatches(GPT *m, const int *g, int n_prompt, int n, float *margin) {
    int maxT = m->cfg.block_size, V = m->cfg.vocab_size, bad = 0;
    gpt_alloc_acts(m, 1, maxT);
    *margin = INFINITY;
    for (int t = n_prompt; t < n; t++) {
        int s = t > maxT ? t - maxT : 0;
        gpt_forward(m, g + s, NULL, 1, t - s);
        const float *lg = m->a.logits + (size_t)(t - s - 1) * V;
        int best = 0, second = -1;
        for (int v = 1; v < V; v++) if (lg[v] > lg[best]) best = v;
        for (int v = 0; v < V; v++)
            if (v != best && (second < 0 || lg[v] > lg[second])) second = v;
        *margin = fminf(*margin, lg[best] - lg[second]);
        bad += best != g[t];
    }
    return bad;
}

// Past block_size, greedy decoding conditions on exactly the last block_size tokens at
// every step (nanoGPT's and Hugging Face's rule), from a short prompt and from one longer
// than the block; the halving rule (CTX_HALVE) does not, and the check sees it.
static void test_context_past_block_exact(void) {
    GPTConfig c = {.vocab_size = 19, .block_size = 8, .n_layer = 2, .n_head = 2, .n_embd = 16};
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 2);
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 5.0f;
    int prompt[20], g[80];
    Rng r;
    rng_seed(&r, 17);
    for (int i = 0; i < 20; i++) prompt[i] = rng_below(&r, c.vocab_size);
    SampleConfig exact = {.temperature = 0.0f}, halve = {.temperature = 0.0f, .context = CTX_HALVE};
    float margin;
    int n = gpt_generate(&m, prompt, 3, 60, &exact, &r, g, NULL, NULL);
    int bad = window_mismatches(&m, g, 3, n, &margin);
    CHECK(n == 63 && bad == 0, "%d of 60 greedy ids past a 3-token prompt differ from a fresh "
          "forward over the last 8 tokens", bad);
    n = gpt_generate(&m, prompt, 20, 60, &exact, &r, g, NULL, NULL);
    bad = window_mismatches(&m, g, 20, n, &margin);
    CHECK(n == 80 && bad == 0, "%d of 60 greedy ids past a 20-token prompt differ", bad);
    CHECK(margin > 1e-3f, "top-1/top-2 margin %g: too close for an exact comparison", margin);
    n = gpt_generate(&m, prompt, 3, 60, &halve, &r, g, NULL, NULL);
    bad = window_mismatches(&m, g, 3, n, &margin);
    CHECK(bad > 0, "the halving rule matched the sliding window at every step: the check "
          "cannot tell them apart");
    gpt_free(&m);
}

static void test_top_k_top_p(void) {
    float logits[6] = {3.0f, 2.5f, 0.1f, -1.0f, 2.9f, -5.0f}, scratch[12];
    Rng r;
    rng_seed(&r, 1);
    int counts[6] = {0};
    SampleConfig k2 = {.temperature = 1.0f, .top_k = 2, .top_p = 1.0f};
    for (int i = 0; i < 2000; i++) counts[gpt_sample_token(logits, 6, &k2, &r, scratch)]++;
    CHECK(counts[0] > 0 && counts[4] > 0, "top-2 never drew the two best");
    CHECK(counts[1] + counts[2] + counts[3] + counts[5] == 0, "top-2 drew outside the top 2");
    // top-p 0.5: token 0 holds ~0.38 of the mass, token 4 ~0.34: both needed, no more
    memset(counts, 0, sizeof counts);
    SampleConfig p5 = {.temperature = 1.0f, .top_k = 0, .top_p = 0.5f};
    for (int i = 0; i < 2000; i++) counts[gpt_sample_token(logits, 6, &p5, &r, scratch)]++;
    CHECK(counts[0] > 0 && counts[4] > 0 && counts[1] + counts[2] + counts[3] + counts[5] == 0,
          "top-p 0.5 counts %d %d %d %d %d %d", counts[0], counts[1], counts[2], counts[3],
          counts[4], counts[5]);
    // temperature 1, no cut: frequencies follow softmax (chi-square-ish bound)
    memset(counts, 0, sizeof counts);
    SampleConfig all = {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f};
    int n = 20000;
    for (int i = 0; i < n; i++) counts[gpt_sample_token(logits, 6, &all, &r, scratch)]++;
    double z = 0;
    for (int i = 0; i < 6; i++) z += exp(logits[i]);
    double worst = 0;
    for (int i = 0; i < 6; i++) {
        double p = exp(logits[i]) / z, sd = sqrt(n * p * (1 - p)) + 1;
        worst = fmax(worst, fabs(counts[i] - n * p) / sd);
    }
    CHECK(worst < 5.0, "sampling frequencies off by %.1f standard deviations", worst);
    SampleConfig g = {.temperature = 0.0f};
    CHECK(gpt_sample_token(logits, 6, &g, &r, scratch) == 0, "greedy must pick the argmax");
}

int main(void) {
    RUN(test_kv_matches_forward);
    RUN(test_kv_one_row_any_threads);
    RUN(test_kv_batch_matches_single);
    RUN(test_greedy_and_determinism);
    RUN(test_prefill_matches_steps);
    RUN(test_context_past_block_exact);
    RUN(test_top_k_top_p);
    return test_summary();
}
