// Schaeffer et al.'s predictions in a ladder's analysis: per-size intervals, the words
// computed from the numbers, analysis.json, and a registry written under the older names of
// the independence checks read back.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "ladder/ladder.h"
#include "ladder/registry.h"
#include "test.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

// S sizes, K seeds, every metric and interval NaN.
static LadderGrid *grid(int S, int K) {
    LadderGrid *g = xcalloc(1, sizeof *g);
    g->n_sizes = S;
    g->n_seeds = K;
    g->sweep = NAN;
    for (int i = 0; i < S; i++) {
        g->params[i] = pow(10.0, 3 + i);
        for (int k = 0; k < K; k++)
            for (int m = 0; m < LG_NUM; m++)
                g->metric[m][i][k] = g->lo[m][i][k] = g->hi[m][i][k] = NAN;
    }
    return g;
}

// Exact match em[i] + 0.01 k; the teacher-forced prediction em + off with an interval of
// +-w around it; each run.
static void fill(LadderGrid *g, const double *em, double off, double w) {
    for (int i = 0; i < g->n_sizes; i++)
        for (int k = 0; k < g->n_seeds; k++) {
            double e = em[i] + 0.01 * k, v = e + off;
            g->metric[LG_EM][i][k] = e;
            g->lo[LG_EM][i][k] = fmax(0, e - 0.02);
            g->hi[LG_EM][i][k] = fmin(1, e + 0.02);
            g->metric[LG_PRED_TF][i][k] = v;
            g->lo[LG_PRED_TF][i][k] = fmax(0, v - w);
            g->hi[LG_PRED_TF][i][k] = fmin(1, v + w);
        }
}

static void test_words_follow_numbers(void) {
    const double em[4] = {0.0, 0.1, 0.6, 0.8};
    LadderGrid *g = grid(4, 2);
    LadderPart *p = xcalloc(1, sizeof *p);
    char t[2048];
    // close: off by 0.01, inside an interval of +-0.03
    fill(g, em, 0.01, 0.03);
    ladder_analyze_grid(g, p);
    const SchaefferCompare *c = &p->schaeffer[LS_TF];
    CHECK(c->runs == 8 && NEAR(c->mean_abs, 0.01, 1e-12) && NEAR(c->mean_signed, 0.01, 1e-12) &&
          c->with_interval == 8 && c->inside == 8, "close: %d %g %g %d/%d", c->runs, c->mean_abs,
          c->mean_signed, c->inside, c->with_interval);
    // the per-size interval joins the seeds: [0.6 + 0.01 - 0.03, 0.61 + 0.01 + 0.03]
    CHECK(NEAR(p->ci_lo[LG_PRED_TF][2], 0.58, 1e-12) && NEAR(p->ci_hi[LG_PRED_TF][2], 0.65, 1e-12),
          "size interval [%g, %g]", p->ci_lo[LG_PRED_TF][2], p->ci_hi[LG_PRED_TF][2]);
    ladder_schaeffer_text(p, t, sizeof t);
    CHECK(strstr(t, "off by 0.010 on average over 8 runs") && strstr(t, "in 8 of 8 runs") &&
          strstr(t, "follows from the curve of p") && !strstr(t, "is not p^L"), "close: %s", t);
    // overshoots by 0.2, outside its interval
    fill(g, em, 0.15, 0.03);
    ladder_analyze_grid(g, p);
    ladder_schaeffer_text(p, t, sizeof t);
    CHECK(strstr(t, "overshoots by 0.150") && strstr(t, "in 0 of 8 runs") &&
          strstr(t, "is not p^L: fewer answers") && !strstr(t, "follows from"), "overshoots: %s",
          t);
    // falls short: greedy gets more right than p^L
    fill(g, em, -0.0, 0.03);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 2; k++) {
            g->metric[LG_PRED_TF][i][k] *= 0.5;
            g->lo[LG_PRED_TF][i][k] = g->hi[LG_PRED_TF][i][k] = NAN;  // no interval
        }
    ladder_analyze_grid(g, p);
    ladder_schaeffer_text(p, t, sizeof t);
    CHECK(strstr(t, "falls short") && strstr(t, "greedy decoding gets more answers right") &&
          !strstr(t, "item interval"), "falls short: %s", t);
    // the independence checks beside it, and the closest named by its error
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 2; k++) {
            g->metric[LG_INDEP_POW][i][k] = g->metric[LG_EM][i][k];
            g->metric[LG_INDEP_PROD][i][k] = fmin(1.0, g->metric[LG_EM][i][k] + 0.1);
        }
    ladder_analyze_grid(g, p);
    ladder_schaeffer_text(p, t, sizeof t);
    CHECK(strstr(t, "Closest to the observation is the greedy hit rate to the power L_i") &&
          p->schaeffer[LS_INDEP_POW].mean_abs == 0, "closest: %s", t);
    // a value that is not a probability: recorded, said, and in analysis.json
    g->metric[LG_INDEP_PROD][0][0] = 1.5;
    ladder_analyze_grid(g, p);
    ladder_schaeffer_text(p, t, sizeof t);
    CHECK(p->schaeffer_st[LS_INDEP_PROD].state == LA_FAILED && strstr(t, "failed") &&
          strstr(t, "pred[0] = 1.5"), "failure: %s", t);
    char *js = ladder_part_json(p);
    cJSON *o = cJSON_Parse(js), *sc = cJSON_GetObjectItem(o, "schaeffer");
    cJSON *tf = cJSON_GetObjectItem(sc, "teacher_forced");
    cJSON *ip = cJSON_GetObjectItem(sc, "independence_prod");
    cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metrics"), "exact_match_pred_tf");
    CHECK(tf && cJSON_GetObjectItem(tf, "runs")->valuedouble == 8 &&
          cJSON_IsString(cJSON_GetObjectItem(ip, "error")) &&
          cJSON_IsString(cJSON_GetObjectItem(sc, "text")) &&
          cJSON_GetArraySize(cJSON_GetObjectItem(m, "ci95_lo")) == 4, "analysis.json: %s", js);
    cJSON_Delete(o);
    free(js);
    free(g);
    free(p);
}

// A registry whose runs hold the independence checks under their older names (one run) or
// their new ones (the other): both are read, with the interval of every metric.
static void test_old_names_read(void) {
    char dir[] = "/tmp/emergent-schaeffer-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/registry.sqlite", dir);
    Registry *r;
    CHECK(reg_open(&r, path) == 0, "%s", em_errmsg());
    const char *pts[2] = {"a", "b"};
    for (int j = 0; j < 2; j++) {
        RunInfo ri = {.point = pts[j], .n_layer = 1, .n_head = 1, .n_embd = 8,
                      .params = 1000 * (j + 1), .seed = 1, .sweep_value = NAN, .lr = 1e-3,
                      .steps = 10, .tokens = 100, .flops = 1e6};
        CHECK(reg_upsert_run(r, &ri) == 0, "%s", em_errmsg());
        MetricValue mv[3] = {
            {"exact_match", 0.2 + j, 0.01, 0.15, 0.25},
            {j ? "exact_match_indep_pow" : "exact_match_pred_pow", 0.3, NAN, NAN, NAN},
            {"exact_match_pred_tf", 0.25, 0.02, 0.2, 0.3}};
        mv[0].value = 0.2 + 0.1 * j;
        CHECK(reg_add_eval(r, pts[j], 10, "add:2", 100, mv, 3, NULL, NULL, 0) == 0, "%s",
              em_errmsg());
        CHECK(reg_finish_run(r, pts[j], 1.0, 1.0, 1.0) == 0, "%s", em_errmsg());
    }
    reg_close(r);
    LadderGrid *g = xcalloc(1, sizeof *g);
    CHECK(ladder_load_grid(dir, NAN, g) == 0, "%s", em_errmsg());
    CHECK(g->n_sizes == 2 && g->metric[LG_INDEP_POW][0][0] == 0.3 &&
          g->metric[LG_INDEP_POW][1][0] == 0.3, "old and new names: %g %g",
          g->metric[LG_INDEP_POW][0][0], g->metric[LG_INDEP_POW][1][0]);
    CHECK(g->lo[LG_PRED_TF][1][0] == 0.2 && g->hi[LG_PRED_TF][1][0] == 0.3 &&
          g->em_lo[0][0] == 0.15 && isnan(g->lo[LG_INDEP_POW][0][0]), "intervals %g %g %g",
          g->lo[LG_PRED_TF][1][0], g->hi[LG_PRED_TF][1][0], g->em_lo[0][0]);
    free(g);
    unlink(path);
    char side[300];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    rmdir(dir);
}

int main(void) {
    RUN(test_words_follow_numbers);
    RUN(test_old_names_read);
    return test_summary();
}
