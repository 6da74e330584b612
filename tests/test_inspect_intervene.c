// Ablation and activation patching on a small random model (weights scaled up so that
// attention is far from uniform and every head matters).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "inspect/intervene.h"
#include "test.h"

enum { L = 3, NH = 4, C = 32, V = 17, T = 8 };
static GPT g_m;

static void make_model(void) {
    GPTConfig c = {.vocab_size = V, .block_size = 16, .n_layer = L, .n_head = NH, .n_embd = C};
    CHECK(gpt_create(&g_m, &c) == 0, "gpt_create: %s", em_errmsg());
    gpt_init_weights(&g_m, 42);
    size_t sz[NUM_PARAM_KINDS];
    gpt_param_sizes(&c, sz);
    for (size_t i = 0; i < sz[P_QKVW]; i++) g_m.p.qkvw[i] *= 8.0f;
    for (size_t i = 0; i < sz[P_ATTPROJW]; i++) g_m.p.attprojw[i] *= 20.0f;
    for (size_t i = 0; i < sz[P_FCPROJW]; i++) g_m.p.fcprojw[i] *= 20.0f;
    for (size_t i = 0; i < sz[P_WTE]; i++) g_m.p.wte[i] *= 10.0f;
    CHECK(gpt_alloc_acts(&g_m, 2, 16) == 0, "alloc");
}

static const int clean[T] = {3, 5, 7, 2, 9, 4, 11, 6};
static const int corrupt[T] = {3, 5, 7, 2, 13, 4, 11, 6};  // differs at position 4 only
enum { ANS = 1, WRONG = 8, DIFF_POS = 4 };

static void test_patch_invariants(void) {
    Patcher p;
    CHECK(patch_init(&p, &g_m, clean, corrupt, T, ANS, WRONG) == 0, "%s", em_errmsg());
    CHECK(p.clean_diff != p.corrupt_diff, "clean %g corrupt %g", p.clean_diff, p.corrupt_diff);
    // every position of the residual stream entering block 0: the corrupted run IS the clean one
    double d = patch_run(&p, corrupt, PATCH_RESID, 0, -1, -1, ANS, WRONG);
    CHECK(d == p.clean_diff, "all positions: %.9g vs clean %.9g", d, p.clean_diff);
    CHECK(patch_recovered(&p, d) == 1.0, "recovered %g", patch_recovered(&p, d));
    // patching nothing (an unused layer index) recovers 0
    double d0 = patch_run(&p, corrupt, PATCH_RESID, L + 5, -1, -1, ANS, WRONG);
    CHECK(patch_recovered(&p, d0) == 0.0, "nothing patched: %g", patch_recovered(&p, d0));
    // the grid at layer 0: 1 at the differing position, exactly 0 elsewhere (same values)
    double grid[L * T];
    patch_grid(&p, corrupt, PATCH_RESID, ANS, WRONG, grid);
    for (int t = 0; t < T; t++)
        CHECK(grid[t] == (t == DIFF_POS ? 1.0 : 0.0), "resid grid[0][%d] = %g", t, grid[t]);
    // the last position at the last layer carries the difference only partly: finite, not 1
    CHECK(isfinite(grid[(L - 1) * T + T - 1]), "finite");
    // before the differing position nothing differs: attention output and MLP patch = 0
    double ga[L * T], gm[L * T], gh[L * NH];
    patch_grid(&p, corrupt, PATCH_ATTN, ANS, WRONG, ga);
    patch_grid(&p, corrupt, PATCH_MLP, ANS, WRONG, gm);
    patch_grid(&p, corrupt, PATCH_HEAD, ANS, WRONG, gh);
    for (int l = 0; l < L; l++)
        for (int t = 0; t < DIFF_POS; t++)
            CHECK(ga[l * T + t] == 0.0 && gm[l * T + t] == 0.0, "l %d t %d: %g %g", l, t,
                  ga[l * T + t], gm[l * T + t]);
    int nonzero = 0;
    for (int i = 0; i < L * NH; i++) nonzero += gh[i] != 0.0 && isfinite(gh[i]);
    CHECK(nonzero > 0, "some head patch recovers something");
    // every head of a layer at every position == the whole z at every position
    for (int l = 0; l < L; l++) {
        double a = patch_run(&p, corrupt, PATCH_HEAD, l, -1, -1, ANS, WRONG);
        double b = patch_run(&p, corrupt, PATCH_ATTN, l, -1, -1, ANS, WRONG);
        CHECK(a == b, "layer %d: %g vs %g", l, a, b);
    }
    // deterministic
    double grid2[L * T];
    patch_grid(&p, corrupt, PATCH_RESID, ANS, WRONG, grid2);
    CHECK(!memcmp(grid, grid2, sizeof grid), "grid not deterministic");
    CHECK(g_m.hook == NULL, "hook left installed");
    patch_free(&p);
}

static void test_ablation(void) {
    AblateCtx ctx;
    int np = 5, nt = 3;
    double base = intervene_logprob(&g_m, clean, np, nt);
    // zero-ablating a head changes log p; so does an MLP
    Ablation h = {ABL_HEAD, 1, 2, ABL_ZERO};
    intervene_ablate_install(&g_m, &ctx, &h, 1);
    double lh = intervene_logprob(&g_m, clean, np, nt);
    CHECK(fabs(lh - base) > 1e-4, "head ablation: %g vs %g", lh, base);
    Ablation mm = {ABL_MLP, 0, 0, ABL_ZERO};
    intervene_ablate_install(&g_m, &ctx, &mm, 1);
    CHECK(fabs(intervene_logprob(&g_m, clean, np, nt) - base) > 1e-4, "mlp ablation");
    // all heads of a layer == the attention layer
    Ablation heads[NH], attn = {ABL_ATTN, 1, 0, ABL_ZERO};
    for (int k = 0; k < NH; k++) heads[k] = (Ablation){ABL_HEAD, 1, k, ABL_ZERO};
    intervene_ablate_install(&g_m, &ctx, heads, NH);
    double a1 = intervene_logprob(&g_m, clean, np, nt);
    intervene_ablate_install(&g_m, &ctx, &attn, 1);
    double a2 = intervene_logprob(&g_m, clean, np, nt);
    CHECK(a1 == a2, "all heads %g vs attn layer %g", a1, a2);
    // mean ablation over a single position is the identity; zero ablation is not
    intervene_clear(&g_m);
    gpt_forward(&g_m, clean, NULL, 1, 1);
    float *ref = malloc(V * sizeof(float));
    memcpy(ref, g_m.a.logits, V * sizeof(float));
    Ablation mh = {ABL_HEAD, 0, 1, ABL_MEAN};
    intervene_ablate_install(&g_m, &ctx, &mh, 1);
    gpt_forward(&g_m, clean, NULL, 1, 1);
    CHECK(!memcmp(ref, g_m.a.logits, V * sizeof(float)), "mean over one position changed logits");
    mh.mode = ABL_ZERO;
    gpt_forward(&g_m, clean, NULL, 1, 1);
    CHECK(memcmp(ref, g_m.a.logits, V * sizeof(float)), "zero ablation left logits unchanged");
    // mean ablation over several positions differs from no ablation and from zero ablation
    mh.mode = ABL_MEAN;
    double lm = intervene_logprob(&g_m, clean, np, nt);
    mh.mode = ABL_ZERO;
    double lz = intervene_logprob(&g_m, clean, np, nt);
    CHECK(lm != base && lm != lz, "mean %g zero %g base %g", lm, lz, base);
    free(ref);
    intervene_clear(&g_m);
    CHECK(intervene_logprob(&g_m, clean, np, nt) == base, "clearing restores the model");
}

static void test_sweep(void) {
    double base, dh[L * NH], dm[L], base2, dh2[L * NH], dm2[L];
    intervene_sweep_logprob(&g_m, clean, 5, 3, ABL_ZERO, &base, dh, dm);
    intervene_sweep_logprob(&g_m, clean, 5, 3, ABL_ZERO, &base2, dh2, dm2);
    CHECK(base == base2 && !memcmp(dh, dh2, sizeof dh) && !memcmp(dm, dm2, sizeof dm),
          "sweep not deterministic");
    int nz = 0;
    for (int i = 0; i < L * NH; i++) nz += dh[i] != 0.0;
    CHECK(nz == L * NH, "only %d of %d heads change log p", nz, L * NH);
    // the sweep entry of head (1,2) equals a single ablation of it
    AblateCtx ctx;
    Ablation h = {ABL_HEAD, 1, 2, ABL_ZERO};
    intervene_ablate_install(&g_m, &ctx, &h, 1);
    double lh = intervene_logprob(&g_m, clean, 5, 3);
    intervene_clear(&g_m);
    CHECK(lh - base == dh[1 * NH + 2], "sweep %g vs single %g", dh[1 * NH + 2], lh - base);
    CHECK(g_m.hook == NULL, "hook left installed");
}

static void test_parse_ablations(void) {
    Ablation a[8];
    int n = intervene_parse_ablations("head:1.2,attn:0,mlp:2", ABL_MEAN, a, 8);
    CHECK(n == 3, "n %d: %s", n, em_errmsg());
    CHECK(a[0].kind == ABL_HEAD && a[0].layer == 1 && a[0].head == 2 && a[0].mode == ABL_MEAN, "head");
    CHECK(a[1].kind == ABL_ATTN && a[1].layer == 0 && a[2].kind == ABL_MLP && a[2].layer == 2, "attn mlp");
    CHECK(intervene_ablation_check(&g_m, a, n) == 0, "%s", em_errmsg());
    CHECK(intervene_parse_ablations("head:1", ABL_ZERO, a, 8) < 0, "head without index accepted");
    CHECK(intervene_parse_ablations("mlp:1x", ABL_ZERO, a, 8) < 0, "trailing junk accepted");
    CHECK(intervene_parse_ablations("", ABL_ZERO, a, 8) < 0, "empty accepted");
    n = intervene_parse_ablations("head:3.0", ABL_ZERO, a, 8);
    CHECK(n == 1 && intervene_ablation_check(&g_m, a, n) < 0 && strstr(em_errmsg(), "layer 3"),
          "layer out of range: %s", em_errmsg());
    n = intervene_parse_ablations("head:0.4", ABL_ZERO, a, 8);
    CHECK(n == 1 && intervene_ablation_check(&g_m, a, n) < 0 && strstr(em_errmsg(), "head 4"),
          "head out of range: %s", em_errmsg());
}

// Ablating nothing and patching clean into clean leave the logits exactly as the plain
// forward of the clean prompt gives them.
static void test_identity_interventions(void) {
    gpt_forward(&g_m, clean, NULL, 1, T);
    size_t nl = (size_t)T * g_m.cfg.vocab_size;
    float *ref = malloc(nl * sizeof(float));
    memcpy(ref, g_m.a.logits, nl * sizeof(float));
    AblateCtx ctx;
    intervene_ablate_install(&g_m, &ctx, NULL, 0);
    gpt_forward(&g_m, clean, NULL, 1, T);
    CHECK(!memcmp(ref, g_m.a.logits, nl * sizeof(float)), "ablating nothing changed the logits");
    intervene_clear(&g_m);
    Patcher p;
    CHECK(patch_init(&p, &g_m, clean, clean, T, ANS, WRONG) == 0, "%s", em_errmsg());
    int same = 1;
    for (int site = 0; site < PATCH_NUM; site++)
        for (int l = 0; l < g_m.cfg.n_layer; l++) {
            double d = patch_run(&p, clean, site, l, -1, -1, ANS, WRONG);
            same &= d == p.clean_diff && !memcmp(ref, g_m.a.logits, nl * sizeof(float));
        }
    CHECK(same, "patching clean into clean changed the logits");
    patch_free(&p);
    free(ref);
}

int main(void) {
    make_model();
    RUN(test_patch_invariants);
    RUN(test_ablation);
    RUN(test_sweep);
    RUN(test_parse_ablations);
    RUN(test_identity_interventions);
    gpt_free(&g_m);
    return test_summary();
}
