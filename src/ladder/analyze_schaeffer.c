// ladder/analyze_schaeffer: Schaeffer et al.'s predictions of exact match against the
// observation, per run and per size, and what they say in words computed from the numbers.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "ladder/ladder.h"

const int ladder_schaeffer_metric[LS_NUM] = {LG_PRED_TF, LG_INDEP_POW, LG_INDEP_PROD};

// What each prediction is called in sentences and in analysis.json.
static const char *const ls_words[LS_NUM] = {
    "the teacher-forced prediction mean_i p^L_i",
    "the greedy hit rate to the power L_i",
    "the product of the greedy per-position accuracies",
};
static const char *const ls_keys[LS_NUM] = {"teacher_forced", "independence_pow",
                                            "independence_prod"};

// A prediction is "close" when its mean error is at most this and the observation lies in
// its interval in at least half of the runs that have one.
#define SCHAEFFER_CLOSE 0.05

void ladder_analyze_schaeffer(const LadderGrid *g, LadderPart *p) {
    int S = g->n_sizes, K = g->n_seeds;
    for (int m = 0; m < LG_NUM; m++)  // per size: the union over seeds, as emerge_lo/hi
        for (int i = 0; i < LADDER_MAX; i++) {
            double lo = INFINITY, hi = -INFINITY;
            for (int k = 0; k < K && i < S; k++) {
                double v = g->metric[m][i][k], a = g->lo[m][i][k], b = g->hi[m][i][k];
                if (!isfinite(v) || !isfinite(a) || !isfinite(b)) continue;
                lo = fmin(lo, fmin(a, v));
                hi = fmax(hi, fmax(b, v));
            }
            p->ci_lo[m][i] = isfinite(lo) ? lo : NAN;
            p->ci_hi[m][i] = isfinite(hi) ? hi : NAN;
        }
    double pred[LADDER_MAX * LADDER_MAX], lo[LADDER_MAX * LADDER_MAX],
        hi[LADDER_MAX * LADDER_MAX], obs[LADDER_MAX * LADDER_MAX];
    for (int s = 0; s < LS_NUM; s++) {
        int m = ladder_schaeffer_metric[s], n = 0;
        for (int i = 0; i < S; i++)
            for (int k = 0; k < K; k++) {
                pred[n] = g->metric[m][i][k];
                lo[n] = g->lo[m][i][k];
                hi[n] = g->hi[m][i][k];
                obs[n++] = g->metric[LG_EM][i][k];
            }
        SchaefferCompare *c = &p->schaeffer[s];
        LadderStatus *st = &p->schaeffer_st[s];
        memset(st, 0, sizeof *st);
        st->state = LA_OK;
        if (ladder_schaeffer_compare(pred, lo, hi, obs, n, c)) {
            memset(c, 0, sizeof *c);  // a value outside [0, 1]: nothing to compare
            c->mean_abs = c->mean_signed = NAN;
            st->state = LA_FAILED;
            snprintf(st->error, sizeof st->error, "%s", em_errmsg());
        }
        em_clear_error();
    }
}

static int close_enough(const SchaefferCompare *c) {
    return c->runs > 0 && c->mean_abs <= SCHAEFFER_CLOSE &&
           (c->with_interval == 0 || 2 * c->inside >= c->with_interval);
}

void ladder_schaeffer_closest(const LadderPart *p, char *t, size_t n) {
    int order[LS_NUM], no = 0;
    t[0] = 0;
    for (int s = 0; s < LS_NUM; s++)
        if (p->schaeffer[s].runs > 0) order[no++] = s;
    for (int a = 1; a < no; a++)  // by mean error, smallest first
        for (int b = a; b > 0 && p->schaeffer[order[b]].mean_abs <
                                     p->schaeffer[order[b - 1]].mean_abs; b--) {
            int x = order[b]; order[b] = order[b - 1]; order[b - 1] = x;
        }
    if (no == 0) {
        str_catf(t, n, "No run has a prediction of exact match beside its observation.");
        return;
    }
    if (no > 1 && p->schaeffer[order[1]].mean_abs - p->schaeffer[order[0]].mean_abs <= 0.01)
        str_catf(t, n, "The predictions are about as close as each other:");
    else
        str_catf(t, n, "Closest to the observation is %s:", ls_words[order[0]]);
    for (int j = 0; j < no; j++)
        str_catf(t, n, "%s %s off by %.3f on average", j ? ";" : "", ls_words[order[j]],
            p->schaeffer[order[j]].mean_abs);
    str_catf(t, n, " (over %d runs).", p->schaeffer[order[0]].runs);
}

void ladder_schaeffer_text(const LadderPart *p, char *t, size_t n) {
    const SchaefferCompare *c = &p->schaeffer[LS_TF];
    t[0] = 0;
    if (c->runs == 0 && p->schaeffer_st[LS_TF].state == LA_FAILED) {
        // said below
    } else if (c->runs == 0) {
        str_catf(t, n, "No run has Schaeffer et al.'s teacher-forced prediction of exact match "
                  "(registries written before it was recorded, or a multiple-choice task).");
    } else {
        str_catf(t, n, "Schaeffer et al.'s prediction of exact match from the teacher-forced "
                  "per-token probability p = exp(-CE), mean_i p^L_i with each item's own answer "
                  "length, is off by %.3f on average over %d runs (at most %.3f) and %s by "
                  "%.3f on average", c->mean_abs, c->runs, c->max_abs,
            c->mean_signed >= 0 ? "overshoots" : "falls short", fabs(c->mean_signed));
        if (c->with_interval)
            str_catf(t, n, "; the observed exact match lies inside its 95%% item interval in %d of "
                      "%d runs", c->inside, c->with_interval);
        str_catf(t, n, ".");
        if (close_enough(c))
            str_catf(t, n, " Within %.2f, exact match is what independent answer tokens with this "
                      "per-token probability give: its curve follows from the curve of p.",
                SCHAEFFER_CLOSE);
        else if (c->mean_signed >= 0)
            str_catf(t, n, " Exact match is not p^L: fewer answers are right than independent tokens "
                      "with this probability would give.");
        else
            str_catf(t, n, " Exact match is not p^L: greedy decoding gets more answers right than "
                      "independent tokens sampled with this probability would (the right token "
                      "is the most likely one without being certain).");
    }
    for (int s = 0; s < LS_NUM; s++)
        if (p->schaeffer_st[s].state == LA_FAILED)
            str_catf(t, n, " Comparing %s with the observation failed: %s.", ls_words[s],
                p->schaeffer_st[s].error);
    for (int s = LS_INDEP_POW; s < LS_NUM; s++) {
        const SchaefferCompare *d = &p->schaeffer[s];
        if (d->runs == 0) continue;
        str_catf(t, n, " Independence check over answer positions, %s: off by %.3f on average "
                  "(at most %.3f)", ls_words[s], d->mean_abs, d->max_abs);
        if (d->with_interval)
            str_catf(t, n, ", the observation inside its interval in %d of %d runs", d->inside,
                d->with_interval);
        str_catf(t, n, ".");
    }
    char cl[512];
    ladder_schaeffer_closest(p, cl, sizeof cl);
    if (c->runs > 0 || p->schaeffer[LS_INDEP_POW].runs > 0) str_catf(t, n, " %s", cl);
}


struct cJSON *ladder_schaeffer_json(const LadderPart *p) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "close_within", SCHAEFFER_CLOSE);
    for (int s = 0; s < LS_NUM; s++) {
        const SchaefferCompare *c = &p->schaeffer[s];
        int m = ladder_schaeffer_metric[s];
        cJSON *e = cJSON_AddObjectToObject(o, ls_keys[s]);
        cJSON_AddStringToObject(e, "metric", ladder_metrics[m].name);
        cJSON_AddNumberToObject(e, "runs", c->runs);
        cJSON_AddItemToObject(e, "mean_abs_error", json_num(c->mean_abs));
        cJSON_AddItemToObject(e, "max_abs_error", json_num(c->runs ? c->max_abs : NAN));
        cJSON_AddItemToObject(e, "mean_signed_error", json_num(c->mean_signed));
        cJSON_AddNumberToObject(e, "runs_with_interval", c->with_interval);
        cJSON_AddNumberToObject(e, "observed_inside_interval", c->inside);
        cJSON_AddBoolToObject(e, "close", close_enough(c));
        if (p->schaeffer_st[s].state == LA_FAILED)
            cJSON_AddStringToObject(e, "error", p->schaeffer_st[s].error);
    }
    char t[2048];
    ladder_schaeffer_text(p, t, sizeof t);
    cJSON_AddStringToObject(o, "text", t);
    return o;
}
