// inspect/lens and inspect/heads: the last layer's lens is the model's own output; top-k
// and ranks agree with the distribution; the head scores on hand-built patterns.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "inspect/heads.h"
#include "inspect/lens.h"
#include "kernels/kernels.h"
#include "model/gpt.h"
#include "test.h"

// A small random model whose outputs are far from uniform: weights scaled up.
static void make_model(GPT *m) {
    GPTConfig c = {.vocab_size = 23, .block_size = 16, .n_layer = 3, .n_head = 2, .n_embd = 16};
    gpt_create(m, &c);
    gpt_init_weights(m, 42);
    size_t sizes[NUM_PARAM_KINDS];
    gpt_param_sizes(&c, sizes);
    size_t off = 0;
    for (int k = 0; k < NUM_PARAM_KINDS; k++) {   // scale the 2-D weights and biases
        int gain = k == P_LN1W || k == P_LN2W || k == P_LNFW;
        Rng r;
        rng_seed(&r, 7 + k);
        for (size_t i = 0; i < sizes[k]; i++)
            m->params[off + i] = gain ? 1.0f + 0.3f * rng_normal(&r) : m->params[off + i] * 15.0f + 0.05f * rng_normal(&r);
        off += sizes[k];
    }
}

static void test_lens_last_layer_is_the_output(void) {
    GPT m;
    make_model(&m);
    const int T = 11, V = m.cfg.vocab_size, L = m.cfg.n_layer, k = 5;
    int ids[11] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
    float *probs = malloc(sizeof(float) * L * T * V);
    LensResult r;
    CHECK(lens_run(&m, ids, T, k, 7, &r, probs) == 0, "%s", em_errmsg());
    CHECK(m.hook == NULL, "the hook was left set");
    gpt_forward(&m, ids, NULL, 1, T);   // the model's own output, no hook
    float *p = malloc(sizeof(float) * V);
    double worst = 0, maxp = 0;
    for (int t = 0; t < T; t++) {
        lens_softmax(p, m.a.logits + (size_t)t * V, V);
        for (int v = 0; v < V; v++) {
            double d = fabs(p[v] - probs[((size_t)(L - 1) * T + t) * V + v]);
            if (d > worst) worst = d;
            if (p[v] > maxp) maxp = p[v];
        }
    }
    CHECK(worst < 1e-5, "final lens vs softmax(logits): max-abs %g", worst);
    CHECK(maxp > 0.2, "the model is near uniform (max p %g): the test would be weak", maxp);
    // earlier layers differ from the last (the lens is not trivially the output)
    double diff = 0;
    for (int v = 0; v < V; v++) diff += fabs(probs[v] - probs[((size_t)(L - 1) * T) * V + v]);
    CHECK(diff > 1e-3, "layer 0 lens equals the output (%g)", diff);
    // top-k sorted, matching the distribution; rank and probability of the target
    int bad_sort = 0, bad_top = 0, bad_rank = 0;
    for (int lt = 0; lt < L * T; lt++) {
        const float *q = probs + (size_t)lt * V;
        const int *ti = r.top_id + (size_t)lt * k;
        const float *tp = r.top_p + (size_t)lt * k;
        for (int i = 0; i < k; i++) {
            if (i && tp[i] > tp[i - 1]) bad_sort++;
            if (tp[i] != q[ti[i]]) bad_top++;
            int above = 0;   // exactly i tokens are more probable than the i-th
            for (int v = 0; v < V; v++) above += q[v] > q[ti[i]];
            if (above > i) bad_top++;
        }
        int above = 0;
        for (int v = 0; v < V; v++) above += q[v] > q[7];
        if (r.target_p[lt] != q[7] || r.target_rank[lt] < above + 1 || r.target_rank[lt] > V) bad_rank++;
        if (r.target_rank[lt] <= k && ti[r.target_rank[lt] - 1] != 7) bad_rank++;
    }
    CHECK(!bad_sort && !bad_top && !bad_rank, "sort %d, top %d, rank %d", bad_sort, bad_top, bad_rank);
    lens_free(&r);
    CHECK(lens_run(&m, ids, T, 1, -1, &r, NULL) == 0 && r.target_rank == NULL, "no target");
    lens_free(&r);
    CHECK(lens_run(&m, ids, 17, 5, -1, &r, NULL) != 0, "T over the block size accepted");
    CHECK(lens_run(&m, ids, T, 24, -1, &r, NULL) != 0, "k over V accepted");
    CHECK(lens_run(&m, ids, T, 5, 23, &r, NULL) != 0, "target outside V accepted");
    free(p); free(probs);
    gpt_free(&m);
}

static void test_topk_and_rank(void) {
    float p[6] = {0.1f, 0.3f, 0.1f, 0.05f, 0.3f, 0.15f};
    int ids[4];
    float ps[4];
    lens_topk(p, 6, 4, ids, ps);
    CHECK(ids[0] == 1 && ids[1] == 4 && ids[2] == 5 && ids[3] == 0, "%d %d %d %d", ids[0], ids[1], ids[2], ids[3]);
    CHECK(ps[0] == 0.3f && ps[3] == 0.1f, "probabilities");
    for (int i = 0; i < 4; i++) CHECK(lens_rank(p, 6, ids[i]) == i + 1, "rank of %d", ids[i]);
    CHECK(lens_rank(p, 6, 2) == 5 && lens_rank(p, 6, 3) == 6, "ranks of the tail");
    float q[3];
    float lg[3] = {1000.0f, 0.0f, 1000.0f};
    lens_softmax(q, lg, 3);
    CHECK(fabsf(q[0] - 0.5f) < 1e-6 && q[1] == 0.0f, "softmax stable: %g %g", q[0], q[1]);
}

static float *pattern(int T) { return calloc((size_t)T * T, sizeof(float)); }

static void test_scores_on_synthetic_patterns(void) {
    const int n = 6, T = 2 * n;
    int ids[12] = {4, 8, 1, 9, 3, 7, 4, 8, 1, 9, 3, 7};
    float *prev = pattern(T), *first = pattern(T), *ind = pattern(T), *dup = pattern(T);
    prev[0] = first[0] = ind[0] = dup[0] = 1;
    for (int t = 1; t < T; t++) {
        prev[t * T + t - 1] = 1;
        first[t * T] = 1;
        if (t >= n) { ind[t * T + t - n + 1] = 1; dup[t * T + t - n] = 1; }
        else { ind[t * T + t] = 1; dup[t * T + t] = 1; }
    }
    CHECK(fabs(heads_prev_score(prev, T) - 1) < 1e-12, "prev: %g", heads_prev_score(prev, T));
    CHECK(fabs(heads_first_score(prev, T) - 2.0 / T) < 1e-12, "prev pattern, first (t = 0, 1): %g", heads_first_score(prev, T));
    CHECK(heads_induction_score(prev, T, n) < 1e-12, "prev pattern, induction: %g", heads_induction_score(prev, T, n));
    CHECK(heads_dup_score(prev, ids, T) < 1e-12, "prev pattern, dup");
    CHECK(fabs(heads_first_score(first, T) - 1) < 1e-12, "first: %g", heads_first_score(first, T));
    CHECK(fabs(heads_prev_score(first, T) - 1.0 / (T - 1)) < 1e-12, "first pattern, prev (only t = 1)");
    CHECK(heads_induction_score(first, T, n) < 1e-12, "first pattern, induction");
    CHECK(fabs(heads_induction_score(ind, T, n) - 1) < 1e-12, "induction: %g", heads_induction_score(ind, T, n));
    CHECK(heads_prev_score(ind, T) < 0.1, "induction pattern, prev: %g", heads_prev_score(ind, T));
    CHECK(fabs(heads_dup_score(dup, ids, T) - 1) < 1e-12, "dup: %g", heads_dup_score(dup, ids, T));
    CHECK(heads_induction_score(dup, T, n) < 1e-12, "dup pattern, induction");
    // a half-and-half head scores one half on each
    float *mix = pattern(T);
    mix[0] = 1;
    for (int t = 1; t < T; t++) { mix[t * T + t - 1] += 0.5f; mix[t * T] += 0.5f; }
    CHECK(fabs(heads_prev_score(mix, T) - (0.5 * (T - 2) + 1) / (T - 1)) < 1e-6, "mix prev %g", heads_prev_score(mix, T));
    int distinct[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    CHECK(isnan(heads_dup_score(dup, distinct, T)), "dup without repeats is NaN");
    CHECK(isnan(heads_prev_score(prev, 1)), "prev of one token is NaN");
    CHECK(isnan(heads_induction_score(ind, T, n + 1)), "induction longer than the sequence is NaN");
    free(prev); free(first); free(ind); free(dup); free(mix);
}

static void test_patterns_and_random_scores(void) {
    GPT m;
    make_model(&m);
    const int L = m.cfg.n_layer, NH = m.cfg.n_head, T = 9;
    int ids[9] = {1, 2, 3, 1, 2, 3, 4, 4, 0};
    float *att = malloc(sizeof(float) * L * NH * T * T);
    CHECK(heads_patterns(&m, ids, T, att) == 0, "%s", em_errmsg());
    CHECK(m.hook == NULL, "the hook was left set");
    int bad = 0;
    for (int lh = 0; lh < L * NH; lh++)
        for (int t = 0; t < T; t++) {
            double s = 0;
            for (int u = 0; u < T; u++) {
                float a = att[((size_t)lh * T + t) * T + u];
                if (u > t && a != 0) bad++;
                s += a;
            }
            if (fabs(s - 1) > 1e-5) bad++;
        }
    CHECK(!bad, "%d rows not causal softmax", bad);
    double *sc = malloc(sizeof(double) * HS_NUM * L * NH), *sc2 = malloc(sizeof(double) * HS_NUM * L * NH);
    CHECK(heads_scores_random(&m, 8, 3, 5, sc) == 0, "%s", em_errmsg());
    CHECK(heads_scores_random(&m, 8, 3, 5, sc2) == 0, "%s", em_errmsg());
    CHECK(!memcmp(sc, sc2, sizeof(double) * HS_NUM * L * NH), "same seed, different scores");
    for (int i = 0; i < HS_NUM * L * NH; i++) CHECK(sc[i] >= 0 && sc[i] <= 1 + 1e-6, "score %d = %g", i, sc[i]);
    CHECK(heads_scores_random(&m, 9, 1, 5, sc) != 0, "2 x 9 > block 16 accepted");
    CHECK(heads_scores_prompt(&m, ids, T, sc) == 0, "%s", em_errmsg());
    CHECK(isnan(sc[HS_INDUCTION * L * NH]) && !isnan(sc[HS_DUP * L * NH]), "prompt scores");
    free(sc); free(sc2); free(att);
    gpt_free(&m);
}

// gpt_unembed is the model's own head: on the last block's output it gives gpt_forward's
// logits, bit for bit for a block of the same N (the same kernels) and for one vector of a
// one-token forward; one vector of a longer block goes through gemv instead of the GEMM
// and agrees to rounding.
static void test_unembed_matches_forward(void) {
    GPT m;
    make_model(&m);
    const int T = 9, V = m.cfg.vocab_size, C = m.cfg.n_embd, L = m.cfg.n_layer;
    int ids[9] = {2, 7, 1, 8, 2, 8, 1, 8, 2};
    CHECK(gpt_alloc_acts(&m, 1, T) == 0, "%s", em_errmsg());
    gpt_forward(&m, ids, NULL, 1, T);
    const float *xL = m.a.res3 + (size_t)(L - 1) * T * C;   // (T, C), the last block's output
    float *lg = malloc(sizeof(float) * T * V), *one = malloc(sizeof(float) * V);
    gpt_unembed(&m, xL, T, lg);
    CHECK(memcmp(lg + (size_t)(T - 1) * V, m.a.logits + (size_t)(T - 1) * V, sizeof(float) * V) == 0,
          "unembedding the (T, C) block: the last position's logits differ from gpt_forward's");
    CHECK(memcmp(lg, m.a.logits, sizeof(float) * T * V) == 0, "unembedding the block: some position differs");
    gpt_unembed(&m, xL + (size_t)(T - 1) * C, 1, one);
    double worst = 0;
    for (int v = 0; v < V; v++) {
        double d = fabs((double)one[v] - m.a.logits[(size_t)(T - 1) * V + v]);
        if (d > worst) worst = d;
    }
    CHECK(worst < 1e-4, "one vector: logits off by %g", worst);
    gpt_forward(&m, ids, NULL, 1, 1);
    gpt_unembed(&m, m.a.res3 + (size_t)(L - 1) * C, 1, one);
    CHECK(memcmp(one, m.a.logits, sizeof(float) * V) == 0, "one token: the logits differ from gpt_forward's");
    free(lg); free(one);
    gpt_free(&m);
}

// gpt_forward_hooked runs the hook it is given and puts back the one installed before.
static int count_calls(int hook, int layer, float *act, int B, int T, void *ctx) {
    (*(int *)ctx)++;
    return 0;
}
static void test_forward_hooked_restores(void) {
    GPT m;
    make_model(&m);
    int ids[4] = {1, 2, 3, 4}, outer = 0, inner = 0;
    CHECK(gpt_alloc_acts(&m, 1, 4) == 0, "%s", em_errmsg());
    m.hook = count_calls;
    m.hook_ctx = &outer;
    gpt_forward_hooked(&m, count_calls, &inner, ids, NULL, 1, 4);
    CHECK(inner == HOOK_NUM * m.cfg.n_layer && outer == 0, "inner %d, outer %d calls", inner, outer);
    CHECK(m.hook == count_calls && m.hook_ctx == &outer, "the previous hook was not restored");
    gpt_forward_hooked(&m, NULL, NULL, ids, NULL, 1, 4);
    CHECK(outer == 0 && m.hook_ctx == &outer, "a NULL hook ran the installed one");
    gpt_forward(&m, ids, NULL, 1, 4);
    CHECK(outer == HOOK_NUM * m.cfg.n_layer, "outer %d calls", outer);
    gpt_free(&m);
}

int main(void) {
    RUN(test_topk_and_rank);
    RUN(test_scores_on_synthetic_patterns);
    RUN(test_lens_last_layer_is_the_output);
    RUN(test_patterns_and_random_scores);
    RUN(test_unembed_matches_forward);
    RUN(test_forward_hooked_restores);
    return test_summary();
}
