// ladder/analyze: the numbers behind the report. Each grid of a ladder (one per value of its
// second axis) becomes a LadderPart: fits, BIG-bench trends, Schaeffer's errors, the emergence
// threshold; the whole is returned as a LadderAnalysis and written to DIR/analysis.json.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ladder/ladder.h"

int ladder_fit_valid(const PowerFit *f) {
    return f->n > 0 && f->converged && isfinite(f->Nc) && isfinite(f->alpha) &&
           (!f->with_irreducible || f->Linf >= 0);
}

// ---- one grid -------------------------------------------------------------------------

// Records the outcome of a computation that needed at least `need` points and had n.
static void record(LadderStatus *st, int n, int need, int rc) {
    memset(st, 0, sizeof *st);
    if (n < need) return;  // LA_SKIPPED
    st->state = rc == 0 ? LA_OK : LA_FAILED;
    if (rc) snprintf(st->error, sizeof st->error, "%s", em_errmsg());
    em_clear_error();
}

static void spread(const double (*v)[LADDER_MAX], int S, int K, LadderSpread *s) {
    for (int i = 0; i < S; i++) ladder_grid_stats(v[i], K, &s->mean[i], &s->min[i], &s->max[i]);
}

// Power laws of the final validation loss, every (size, seed) a point, and the extrapolation
// from the smaller half of the seed means.
static void analyze_loss(const LadderGrid *g, LadderPart *p) {
    int S = g->n_sizes, K = g->n_seeds;
    double *x = xmalloc(S * K * sizeof(double)), *xf = xmalloc(S * K * sizeof(double));
    double *y = xmalloc(S * K * sizeof(double));
    int n = 0;
    for (int i = 0; i < S; i++)
        for (int k = 0; k < K; k++)
            if (isfinite(g->val_loss[i][k]) && g->val_loss[i][k] > 0) {
                x[n] = g->params[i]; xf[n] = g->flops[i]; y[n++] = g->val_loss[i][k];
            }
    LadderFit *fp = &p->loss_params, *fpi = &p->loss_params_irr, *ff = &p->loss_flops;
    record(&fp->st, n, 3, n >= 3 ? ladder_fit_power_law(x, y, n, 0, &fp->fit) : 0);
    record(&fpi->st, n, 4, n >= 4 ? ladder_fit_power_law(x, y, n, 1, &fpi->fit) : 0);
    record(&ff->st, n, 3, n >= 3 ? ladder_fit_power_law(xf, y, n, 0, &ff->fit) : 0);
    const double *rows[LADDER_MAX];  // the sizes with a finite loss, every seed (NaN: missing)
    double mx[LADDER_MAX];
    int nm = 0;
    for (int i = 0; i < S; i++)
        if (isfinite(p->val_loss.mean[i])) { mx[nm] = g->params[i]; rows[nm++] = g->val_loss[i]; }
    record(&p->extrapolation_st, nm, 4,
           nm >= 4 ? ladder_extrapolate(mx, rows, nm, K, LADDER_FLOOR_AUTO, &p->extrapolation)
                   : 0);
    free(x); free(xf); free(y);
}

// The first size where metric m moved beyond its seed spread (see ladder.h), or -1.
static int first_move(const LadderPart *p, int m) {
    const LadderSpread *sp = &p->metric[m];
    double sign = ladder_metrics[m].higher_is_better ? 1 : -1;
    double floor = ladder_metrics[m].kind == LM_LOGPROB ? LADDER_MOVE_FLOOR_LOGP
                                                        : LADDER_MOVE_FLOOR;
    if (p->n_sizes < 2 || !isfinite(sp->mean[0])) return -1;
    double s0 = sp->max[0] - sp->min[0];
    for (int i = 1; i < p->n_sizes; i++) {
        if (!isfinite(sp->mean[i])) continue;
        if (sign * (sp->mean[i] - sp->mean[0]) > s0 + (sp->max[i] - sp->min[i]) + floor)
            return i;
    }
    return -1;
}

static const int mirage_metrics[4] = {LG_EM, LG_TOK, LG_EDIT, LG_LOGP};

// Appends printf-style text to buf (of n bytes), truncating.
// The metrics of the mirage figure compared: p->one_token, p->finding, p->finding_text.
static void finding(LadderPart *p) {
    char *t = p->finding_text;
    size_t n = sizeof p->finding_text;
    const int *fm = p->first_move;
    t[0] = 0;
    int same = p->n_sizes > 0;
    for (int i = 0; i < p->n_sizes; i++) {
        double a = p->metric[LG_EM].mean[i], b = p->metric[LG_TOK].mean[i];
        if (!(isfinite(a) && isfinite(b) && fabs(a - b) <= 1e-9)) same = 0;
    }
    p->one_token = same;
    if (p->n_sizes < 2) {  // nothing to compare across sizes
        p->finding = LF_NOTHING;
        str_catf(t, n, "One size: the metrics cannot be compared across sizes.");
        return;
    }
    int cfirst = -1;  // the first size where a continuous metric moved
    for (int j = 1; j < 4; j++)
        if (fm[mirage_metrics[j]] >= 0 && (cfirst < 0 || fm[mirage_metrics[j]] < cfirst))
            cfirst = fm[mirage_metrics[j]];
    int em = fm[LG_EM];
    if (same)
        p->finding = LF_ONE_TOKEN;
    else if (em < 0 && cfirst < 0)
        p->finding = LF_NOTHING;
    else if (em < 0)
        p->finding = LF_EM_NEVER;
    else if (cfirst < 0 || em < cfirst)
        p->finding = LF_EM_FIRST;
    else if (em == cfirst)
        p->finding = LF_TOGETHER;
    else
        p->finding = LF_CONT_FIRST;
    // the continuous metrics that moved first, as a list of labels
    char first[256] = "";
    int nf = 0;
    for (int j = 1; j < 4; j++)
        if (cfirst >= 0 && fm[mirage_metrics[j]] == cfirst)
            str_catf(first, sizeof first, "%s%s", nf++ ? " and " : "",
                ladder_metrics[mirage_metrics[j]].label);
    switch (p->finding) {
    case LF_ONE_TOKEN:
        str_catf(t, n, "Exact match and per-token accuracy are the same number at every size "
                  "(one-token answers), so the choice between them cannot shape this curve");
        if (em >= 0)
            str_catf(t, n, "; it first moves beyond its seed spread at %.3g parameters",
                p->params[em]);
        else
            str_catf(t, n, "; it never moves beyond its seed spread");
        str_catf(t, n, ".");
        break;
    case LF_NOTHING:
        str_catf(t, n, "No metric (exact match, per-token accuracy, edit distance, log-probability) "
                  "moved beyond its seed spread between the smallest and any larger size: "
                  "nothing emerged on this ladder.");
        break;
    case LF_EM_NEVER:
        str_catf(t, n, "Exact match never moved beyond its seed spread, while %s did (from %.3g "
                  "parameters): the models improve in a way exact match does not show.",
            first, p->params[cfirst]);
        break;
    case LF_EM_FIRST:
        str_catf(t, n, "Exact match moved beyond its seed spread first, at %.3g parameters", 
            p->params[em]);
        if (cfirst >= 0)
            str_catf(t, n, ", before %s (at %.3g)", first, p->params[cfirst]);
        else
            str_catf(t, n, "; no continuous metric did");
        str_catf(t, n, ": the continuous metrics do not show the change earlier.");
        break;
    case LF_TOGETHER:
        str_catf(t, n, "Exact match and %s moved together: each first moves beyond its seed spread "
                  "at %.3g parameters, so the metric does not make this jump.", first,
            p->params[em]);
        break;
    case LF_CONT_FIRST:
        str_catf(t, n, "%s moved first, at %.3g parameters; exact match only at %.3g: the continuous "
                  "metrics show the change earlier and more gradually, and the metric shapes "
                  "the curve (Schaeffer et al.'s \"mirage\").", first, p->params[cfirst],
            p->params[em]);
        if (first[0] >= 'a' && first[0] <= 'z') t[0] = (char)(first[0] - 'a' + 'A');
        break;
    }
    // every metric's numbers
    str_catf(t, n, " BIG-bench's breakthroughness (oriented so that improving is positive) and the "
              "lab's own linearity index (normalised; not BIG-bench's linearity):");
    for (int j = 0; j < 4; j++) {
        int m = mirage_metrics[j];
        char b[32];
        if (p->trend_st[m].state != LA_OK) {
            str_catf(t, n, "%s %s not computed", j ? ";" : "", ladder_metrics[m].label);
            continue;
        }
        ladder_fmt_breakthrough(p->trend[m].breakthroughness, b, sizeof b);
        str_catf(t, n, "%s %s %s and %.2f", j ? ";" : "", ladder_metrics[m].label, b,
            p->trend[m].linearity_norm);
    }
    str_catf(t, n, ".");
}

// The emergence verdict and thresholds of exact match (see ladder.h).
static void analyze_threshold(const LadderGrid *g, LadderPart *p) {
    int S = g->n_sizes, K = g->n_seeds;
    const double *ys[LADDER_MAX];  // ys[size][seed]
    const int *ni[LADDER_MAX];     // the items each run was scored on
    for (int i = 0; i < S; i++) { ys[i] = g->metric[LG_EM][i]; ni[i] = g->em_items[i]; }
    ThresholdCI th = {.point = NAN, .lo = NAN, .hi = NAN}, ta = th;
    p->verdict = LT_NOT_EMERGED;
    p->fall = NAN;
    p->emerge_lo[0] = p->emerge_lo[1] = p->emerge_hi[0] = p->emerge_hi[1] = NAN;
    p->threshold_seeds = S ? K : 0;
    for (int i = 0; i < S; i++) {
        int c = 0;
        for (int k = 0; k < K; k++) c += isfinite(g->metric[LG_EM][i][k]);
        if (c < p->threshold_seeds) p->threshold_seeds = c;
    }
    int rc = S >= 2 ? ladder_threshold_bootstrap_items(g->params, ys, ni, S, K, 1000, 1, 0, &th)
                    : 0;
    if (!rc && S >= 2)
        rc = ladder_threshold_bootstrap_items(g->params, ys, ni, S, K, 1000, 1, LADDER_ABS_LEVEL,
                                              &ta);
    record(&p->threshold_st, S, 2, rc);
    if (p->threshold_seeds < 2) th.lo = th.hi = ta.lo = ta.hi = NAN;  // one seed: no interval
    p->threshold = th;
    p->threshold_abs = ta;
    if (S < 2 || p->threshold_st.state != LA_OK) return;
    // the intervals of the smallest and the largest size: item intervals and seed values
    for (int e = 0; e < 2; e++) {
        int i = e ? S - 1 : 0;
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < K; k++) {
            double v = g->metric[LG_EM][i][k], a = g->em_lo[i][k], b = g->em_hi[i][k];
            if (!isfinite(v)) continue;
            if (isfinite(a) && isfinite(b) && a <= v && v <= b) {
                if (a < lo) lo = a;
                if (b > hi) hi = b;
            }
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        p->emerge_lo[e] = lo;
        p->emerge_hi[e] = hi;
    }
    const LadderSpread *em = &p->metric[LG_EM];
    if (!(p->emerge_lo[1] > p->emerge_hi[0] && em->mean[S - 1] - em->mean[0] >= LADDER_MIN_RISE))
        return;
    p->verdict = LT_EMERGED;
    int nm = 0;
    if (ladder_curve_falls(p->params, em->mean, S, &p->fall, &nm) == 0 && nm)
        p->verdict = LT_NON_MONOTONE;
    em_clear_error();
}

void ladder_threshold_text(const LadderPart *p, char *t, size_t n) {
    t[0] = 0;
    if (p->threshold_st.state == LA_FAILED) {
        str_catf(t, n, "The emergence threshold could not be computed: %s.", p->threshold_st.error);
        return;
    }
    if (p->threshold_st.state != LA_OK) {
        str_catf(t, n, "The ladder has too few sizes for an emergence threshold.");
        return;
    }
    if (p->verdict == LT_NOT_EMERGED) {
        str_catf(t, n, "Exact match did not emerge: at the largest size its interval [%.3f, %.3f] "
                  "is not clearly above the smallest size's [%.3f, %.3f] (item and seed "
                  "intervals overlap, or it rose by less than %.2f), so no threshold is given.",
            p->emerge_lo[1], p->emerge_hi[1], p->emerge_lo[0], p->emerge_hi[0],
            LADDER_MIN_RISE);
        return;
    }
    if (p->verdict == LT_NON_MONOTONE) {
        str_catf(t, n, "Exact match is non-monotone in size: it falls by %.3f after rising (more than "
                  "%.0f%% of its range), so no single threshold summarises it.", p->fall,
            100 * LADDER_FALL_SHARE);
        return;
    }
    const ThresholdCI *c[2] = {&p->threshold, &p->threshold_abs};
    const char *what[2] = {"half its maximum", "0.5"};
    str_catf(t, n, "Exact match emerged: at the largest size its interval [%.3f, %.3f] lies above "
              "the smallest size's [%.3f, %.3f].", p->emerge_lo[1], p->emerge_hi[1],
        p->emerge_lo[0], p->emerge_hi[0]);
    for (int j = 0; j < 2; j++) {
        if (isnan(c[j]->point)) {
            str_catf(t, n, " It does not cross %s inside the ladder%s.", what[j],
                j ? "" : " (already above it at the smallest size)");
            continue;
        }
        str_catf(t, n, " It crosses %s at about %.3g parameters", what[j], c[j]->point);
        if (p->threshold_seeds < 2)
            str_catf(t, n, " (one seed: no interval)");
        else if (isfinite(c[j]->lo))
            str_catf(t, n, " (95%% bootstrap interval over %d seeds%s: %.3g to %.3g)",
                p->threshold_seeds, c[j]->n_item_runs ? " and their test items" : "", c[j]->lo,
                c[j]->hi);
        str_catf(t, n, ".");
    }
    if (p->threshold_seeds >= 2 && p->threshold_seeds < LADDER_FEW_SEEDS)
        str_catf(t, n, " With fewer than %d seeds the interval is too narrow: treat it as a rough "
                  "guide.", LADDER_FEW_SEEDS);
}

void ladder_fmt_breakthrough(double b, char *buf, size_t n) {
    if (isinf(b)) snprintf(buf, n, "%sinf (a step)", b < 0 ? "-" : "");
    else if (isnan(b)) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.2f", b);
}

void ladder_analyze_grid(const LadderGrid *g, LadderPart *p) {
    int S = g->n_sizes, K = g->n_seeds;
    memset(p, 0, sizeof *p);
    snprintf(p->task, sizeof p->task, "%s", g->task);
    snprintf(p->sweep_name, sizeof p->sweep_name, "%s", g->sweep_name);
    p->sweep = g->sweep;
    p->n_runs = g->n_runs;
    p->n_done = g->n_done;
    p->n_sizes = S;
    p->n_seeds = K;
    memcpy(p->params, g->params, sizeof p->params);
    memcpy(p->flops, g->flops, sizeof p->flops);
    spread(g->val_loss, S, K, &p->val_loss);
    analyze_loss(g, p);
    ladder_analyze_kaplan(g, p);

    // per metric: the seed means over size, BIG-bench's trend measures (better is up)
    for (int m = 0; m < LG_NUM; m++) {
        spread(g->metric[m], S, K, &p->metric[m]);
        double px[LADDER_MAX], py[LADDER_MAX], sign = ladder_metrics[m].higher_is_better ? 1 : -1;
        int c = 0;
        for (int i = 0; i < S; i++)
            if (isfinite(p->metric[m].mean[i])) {
                px[c] = g->params[i];
                py[c++] = sign * p->metric[m].mean[i];
            }
        record(&p->trend_st[m], c, 3,
               c >= 3 ? ladder_bigbench_trend(px, py, c, &p->trend[m]) : 0);
        p->first_move[m] = first_move(p, m);
    }
    ladder_analyze_schaeffer(g, p);
    finding(p);
    analyze_threshold(g, p);
}

// ---- analysis.json --------------------------------------------------------------------


static cJSON *fit_json(const PowerFit *f) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "alpha", json_num(f->alpha));
    cJSON_AddItemToObject(o, "alpha_se", json_num(f->alpha_se));
    cJSON_AddItemToObject(o, "Nc", json_num(f->Nc));
    cJSON_AddItemToObject(o, "Linf", json_num(f->Linf));
    cJSON_AddItemToObject(o, "Linf_se", json_num(f->Linf_se));
    cJSON_AddItemToObject(o, "r2", json_num(f->r2));
    cJSON_AddItemToObject(o, "rmse", json_num(f->rmse));
    cJSON_AddNumberToObject(o, "points", f->n);
    cJSON_AddBoolToObject(o, "converged", f->converged);
    cJSON_AddBoolToObject(o, "valid", ladder_fit_valid(f));
    return o;
}

// A computed fit as its object; a failed one as {"error": why}; a skipped one not at all.
static void add_fit(cJSON *o, const char *key, const LadderFit *f) {
    if (f->st.state == LA_OK) cJSON_AddItemToObject(o, key, fit_json(&f->fit));
    if (f->st.state == LA_FAILED)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(o, key), "error", f->st.error);
}

static cJSON *part_json(const LadderPart *p) {
    int S = p->n_sizes;
    cJSON *root = cJSON_CreateObject();
    if (p->sweep_name[0]) {
        cJSON_AddStringToObject(root, "sweep", p->sweep_name);
        cJSON_AddNumberToObject(root, "sweep_value", p->sweep);
    }
    cJSON_AddStringToObject(root, "task", p->task);
    cJSON_AddNumberToObject(root, "runs", p->n_runs);
    cJSON_AddNumberToObject(root, "runs_done", p->n_done);

    cJSON *fits = cJSON_AddObjectToObject(root, "loss_power_law");
    add_fit(fits, "vs_params", &p->loss_params);
    add_fit(fits, "vs_params_irreducible", &p->loss_params_irr);
    add_fit(fits, "vs_flops", &p->loss_flops);
    add_fit(fits, "vs_nonembedding_params", &p->loss_nonemb);
    const Extrapolation *ex = &p->extrapolation;
    char words[1024];
    if (p->extrapolation_st.state != LA_SKIPPED) {
        cJSON *e = cJSON_AddObjectToObject(fits, "extrapolation");
        if (p->extrapolation_st.state == LA_FAILED) {
            cJSON_AddStringToObject(e, "error", p->extrapolation_st.error);
        } else {
            cJSON_AddItemToObject(e, "fit_on_smallest", json_num(ex->n_fit));
            cJSON_AddItemToObject(e, "points_fitted", json_num(ex->n_points));
            cJSON_AddBoolToObject(e, "with_irreducible", ex->with_floor);
            cJSON_AddStringToObject(e, "law", ex->why);
            cJSON_AddBoolToObject(e, "converged", ex->converged);
            cJSON_AddItemToObject(e, "params", json_num(ex->x_target));
            cJSON_AddItemToObject(e, "predicted", json_num(ex->pred));
            cJSON_AddItemToObject(e, "actual", json_num(ex->actual));
            cJSON_AddItemToObject(e, "actual_seeds", json_num(ex->n_target));
            cJSON_AddItemToObject(e, "rel_error", json_num(ex->rel_err));
            cJSON_AddItemToObject(e, "pi95_lo", json_num(ex->lo));
            cJSON_AddItemToObject(e, "pi95_hi", json_num(ex->hi));
            cJSON_AddStringToObject(e, "interval", "delta method: pred +- t(0.975, n - p) * "
                                    "sqrt(se_fit^2 + s^2 / seeds)");
            if (ex->significant < 0) cJSON_AddNullToObject(e, "miss_significant");
            else cJSON_AddBoolToObject(e, "miss_significant", ex->significant);
        }
        ladder_extrapolation_text(p, words, sizeof words);
        cJSON_AddStringToObject(e, "text", words);
    }
    cJSON_AddItemToObject(root, "nonembedding_params", json_num_array(p->nonemb, S));
    static const char *budgets[] = {"unknown", "steps", "tokens_per_param", "other"};
    cJSON *bj = cJSON_AddObjectToObject(root, "budget");
    cJSON_AddStringToObject(bj, "kind", budgets[p->budget]);
    if (p->budget == LB_STEPS) {
        cJSON_AddNumberToObject(bj, "steps", p->budget_steps);
        cJSON_AddItemToObject(bj, "tokens", json_num(p->budget_tokens));
    }
    cJSON_AddItemToObject(bj, "tokens_per_param", json_num(p->tokens_per_param));
    ladder_budget_text(p, words, sizeof words);
    cJSON_AddStringToObject(bj, "loss_vs_flops", words);

    cJSON *mets = cJSON_AddObjectToObject(root, "metrics");
    for (int m = 0; m < LG_NUM; m++) {
        cJSON *o = cJSON_AddObjectToObject(mets, ladder_metrics[m].name);
        cJSON_AddItemToObject(o, "mean", json_num_array(p->metric[m].mean, S));
        cJSON_AddItemToObject(o, "min", json_num_array(p->metric[m].min, S));
        cJSON_AddItemToObject(o, "max", json_num_array(p->metric[m].max, S));
        cJSON_AddItemToObject(o, "ci95_lo", json_num_array(p->ci_lo[m], S));  // item intervals, seeds
        cJSON_AddItemToObject(o, "ci95_hi", json_num_array(p->ci_hi[m], S));
        if (p->trend_st[m].state == LA_OK) {
            double b = p->trend[m].breakthroughness;
            if (isinf(b))  // JSON has no infinity: a step says so in words
                cJSON_AddStringToObject(o, "breakthroughness", b > 0 ? "inf" : "-inf");
            else
                cJSON_AddItemToObject(o, "breakthroughness", json_num(b));
            cJSON_AddStringToObject(o, "breakthroughness_definition", LADDER_B_DEFINITION);
            cJSON_AddItemToObject(o, "lab_linearity_index", json_num(p->trend[m].linearity));
            cJSON_AddItemToObject(o, "lab_linearity_index_norm",
                                  json_num(p->trend[m].linearity_norm));
            cJSON_AddStringToObject(o, "lab_linearity_index_definition", LADDER_L_DEFINITION);
            cJSON_AddStringToObject(o, "trend_of", ladder_metrics[m].higher_is_better
                                                       ? "the metric (higher is better)"
                                                       : "minus the metric (lower is better)");
        } else if (p->trend_st[m].state == LA_FAILED) {
            cJSON_AddStringToObject(o, "trend_error", p->trend_st[m].error);
        }
        cJSON_AddItemToObject(o, "first_moves_at_params",
                              json_num(p->first_move[m] >= 0 ? p->params[p->first_move[m]] : NAN));
    }
    cJSON_AddBoolToObject(root, "one_token_answers", p->one_token);
    cJSON_AddStringToObject(root, "finding", p->finding_text);
    cJSON_AddItemToObject(root, "params", json_num_array(p->params, S));

    cJSON_AddItemToObject(root, "schaeffer", ladder_schaeffer_json(p));

    const ThresholdCI *th = &p->threshold, *ta = &p->threshold_abs;
    cJSON *t = cJSON_AddObjectToObject(root, "threshold");
    static const char *verdicts[] = {"did not emerge", "emerged", "non-monotone"};
    int rep = p->verdict == LT_EMERGED;  // a number only for a curve that emerged and stayed
    cJSON_AddStringToObject(t, "verdict", verdicts[p->verdict]);
    cJSON_AddItemToObject(t, "smallest_size_interval", json_num_array((double[]){p->emerge_lo[0],
                                                                        p->emerge_hi[0]}, 2));
    cJSON_AddItemToObject(t, "largest_size_interval", json_num_array((double[]){p->emerge_lo[1],
                                                                       p->emerge_hi[1]}, 2));
    cJSON_AddItemToObject(t, "largest_fall", json_num(p->fall));
    cJSON_AddNumberToObject(t, "seeds", p->threshold_seeds);
    cJSON_AddStringToObject(t, "resampled", th->n_item_runs
                                                ? "seeds and each run's test items (binomial "
                                                  "redraw of its exact match)"
                                                : "seeds only (no item counts recorded)");
    if (p->threshold_seeds < 2)
        cJSON_AddStringToObject(t, "interval", "none: one seed gives no interval");
    else if (p->threshold_seeds < LADDER_FEW_SEEDS)
        cJSON_AddStringToObject(t, "warning", "fewer than 5 seeds: the interval is too narrow");
    cJSON_AddItemToObject(t, "params", json_num(rep ? th->point : NAN));
    cJSON_AddItemToObject(t, "ci95_lo", json_num(rep ? th->lo : NAN));
    cJSON_AddItemToObject(t, "ci95_hi", json_num(rep ? th->hi : NAN));
    cJSON_AddNumberToObject(t, "resamples_without_threshold", th->n_nan);
    cJSON *t5 = cJSON_AddObjectToObject(t, "at_level");
    cJSON_AddNumberToObject(t5, "level", LADDER_ABS_LEVEL);
    cJSON_AddItemToObject(t5, "params", json_num(rep ? ta->point : NAN));
    cJSON_AddItemToObject(t5, "ci95_lo", json_num(rep ? ta->lo : NAN));
    cJSON_AddItemToObject(t5, "ci95_hi", json_num(rep ? ta->hi : NAN));
    cJSON_AddNumberToObject(t5, "resamples_without_threshold", ta->n_nan);
    if (p->threshold_st.state == LA_FAILED)
        cJSON_AddStringToObject(t, "error", p->threshold_st.error);
    return root;
}

char *ladder_part_json(const LadderPart *p) {
    cJSON *o = part_json(p);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

static int write_json(const LadderAnalysis *a) {
    cJSON *root;
    if (!a->sweep_name[0]) {
        root = part_json(&a->part[0]);
    } else {  // one analysis per value of the second axis
        root = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(root, "by_sweep");
        for (int i = 0; i < a->n_parts; i++) cJSON_AddItemToArray(arr, part_json(&a->part[i]));
        cJSON_AddStringToObject(root, "sweep", a->sweep_name);
    }
    char *s = cJSON_Print(root);
    int rc = write_file_atomic(a->path, s, strlen(s));
    free(s);
    cJSON_Delete(root);
    return rc;
}

// ---- a ladder directory ---------------------------------------------------------------

int ladder_analyze(const char *dir, LadderAnalysis *a) {
    double sv[LADDER_MAX];
    int nsv = 0, rc = 0;
    memset(a, 0, sizeof *a);
    if (ladder_sweep_values(dir, sv, LADDER_MAX, &nsv)) return -1;
    LadderGrid *g = xcalloc(1, sizeof *g);
    for (int i = 0; i < (nsv ? nsv : 1) && !rc; i++) {
        rc = ladder_load_grid(dir, nsv ? sv[i] : NAN, g);
        if (!rc) ladder_analyze_grid(g, &a->part[a->n_parts++]);
    }
    if (!rc && nsv) snprintf(a->sweep_name, sizeof a->sweep_name, "%s", g->sweep_name);
    free(g);
    snprintf(a->path, sizeof a->path, "%s/analysis.json", dir);
    return rc ? rc : write_json(a);
}
