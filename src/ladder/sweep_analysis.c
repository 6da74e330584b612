// ladder/sweep_analysis: the sections of a ladder's analysis beyond one curve against size
// (see sweep_analysis.h): the threshold against the learning rate, a crossover between two
// training tasks, the loss power law on text, and multiple-choice scores side by side.
#include "ladder/sweep_analysis.h"

#include <cjson/cJSON.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/tasks.h"
#include "eval/eval.h"
#include "ladder/registry.h"

static int size_of(const LadderGrid *g, long long params) {
    for (int i = 0; i < g->n_sizes; i++) if ((long long)g->params[i] == params) return i;
    return -1;
}
static int seed_of(const LadderGrid *g, int seed) {
    for (int k = 0; k < g->n_seeds; k++) if (g->seeds[k] == seed) return k;
    return -1;
}
static int same_sweep(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

// Metric `metric` of `task` at the final step of each run of g's sweep value into
// out[size][seed], with its item interval into lo, hi (may be NULL); NaN where missing.
static int load_metric(Registry *reg, const LadderGrid *g, const char *task, const char *metric,
                       double (*out)[LADDER_MAX], double (*lo)[LADDER_MAX],
                       double (*hi)[LADDER_MAX]) {
    for (int i = 0; i < LADDER_MAX; i++)
        for (int k = 0; k < LADDER_MAX; k++) {
            out[i][k] = NAN;
            if (lo) lo[i][k] = hi[i][k] = NAN;
        }
    RegRow *rows = NULL;
    int n = 0;
    if (reg_query_metric(reg, task, metric, REG_STEP_FINAL, &rows, &n)) return -1;
    for (int j = 0; j < n; j++) {
        int i = size_of(g, rows[j].params), k = seed_of(g, rows[j].seed);
        if (i < 0 || k < 0 || !same_sweep(rows[j].sweep_value, g->sweep)) continue;
        if (rows[j].step != rows[j].steps) continue;
        out[i][k] = rows[j].value;
        if (lo) { lo[i][k] = rows[j].lo; hi[i][k] = rows[j].hi; }
    }
    free(rows);
    return 0;
}

static int open_reg(const char *dir, Registry **reg) {
    char path[1300];
    snprintf(path, sizeof path, "%s/registry.sqlite", dir);
    return reg_open(reg, path);
}

// The canonical name eval gives a task spec (the registry's name for it).
static void canonical(const char *spec, char *out, size_t n) {  // spec shorter than n
    TaskSet ts;
    snprintf(out, n, "%s", spec);
    if (task_generate(spec, TASK_TEST, 1, 1, &ts) == 0) {
        snprintf(out, n, "%s", ts.name);
        taskset_free(&ts);
    }
    em_clear_error();
}

static void fmt_params(char *b, size_t n, int i, const double *params) {
    if (i < 0) snprintf(b, n, "never");
    else snprintf(b, n, "%.3g parameters", params[i]);
}

// ---- the threshold against the learning rate ------------------------------------------
static void section_lr(const LadderAnalysis *a, SweepLr *x) {
    if (strcmp(a->sweep_name, "lr") || a->n_parts < 2) return;
    x->present = 1;
    x->n = a->n_parts;
    char *t = x->text;
    size_t n = sizeof x->text;
    int emerged = 0, first = -1, last = -1;
    for (int v = 0; v < x->n; v++) {
        const LadderPart *p = &a->part[v];
        x->lr[v] = p->sweep;
        x->verdict[v] = p->verdict;
        int ok = p->verdict == LT_EMERGED && isfinite(p->threshold_abs.point);
        x->thr[v] = ok ? p->threshold_abs.point : NAN;
        x->lo[v] = ok ? p->threshold_abs.lo : NAN;
        x->hi[v] = ok ? p->threshold_abs.hi : NAN;
        if (p->verdict == LT_EMERGED) emerged++;
        if (ok) { if (first < 0) first = v; last = v; }
    }
    str_catf(t, n, "Exact match emerged at %d of %d learning rates.", emerged, x->n);
    for (int v = 0; v < x->n; v++) {
        const LadderPart *p = &a->part[v];
        str_catf(t, n, " At lr %g: ", x->lr[v]);
        if (p->threshold_st.state == LA_SKIPPED) {
            str_catf(t, n, "too few sizes (%d) for a threshold.", p->n_sizes);
        } else if (p->verdict == LT_NOT_EMERGED) {
            str_catf(t, n, "did not emerge (exact match %.3f at the largest size).",
                p->metric[LG_EM].mean[p->n_sizes - 1]);
        } else if (p->verdict == LT_NON_MONOTONE) {
            str_catf(t, n, "non-monotone (it falls by %.3f after rising).", p->fall);
        } else if (!isfinite(x->thr[v])) {
            str_catf(t, n, "emerged but does not cross %.1f inside the ladder.", LADDER_ABS_LEVEL);
        } else {
            str_catf(t, n, "crosses %.1f at %.3g parameters", LADDER_ABS_LEVEL, x->thr[v]);
            if (p->threshold_seeds < 2) str_catf(t, n, " (one seed: no interval).");
            else if (isfinite(x->lo[v]))
                str_catf(t, n, " (95%% interval over %d seeds %.3g to %.3g).", p->threshold_seeds,
                    x->lo[v], x->hi[v]);
            else str_catf(t, n, ".");
        }
    }
    if (first >= 0 && last > first) {
        double lo = INFINITY, hi = -INFINITY;
        int ilo = first, ihi = first;
        for (int v = first; v <= last; v++)
            if (isfinite(x->thr[v])) {
                if (x->thr[v] < lo) { lo = x->thr[v]; ilo = v; }
                if (x->thr[v] > hi) { hi = x->thr[v]; ihi = v; }
            }
        str_catf(t, n, " The threshold moves by a factor of %.1f with the learning rate, from %.3g "
                  "parameters at lr %g to %.3g at lr %g", hi / lo, lo, x->lr[ilo], hi,
            x->lr[ihi]);
        if (isfinite(x->hi[ilo]) && isfinite(x->lo[ihi]))
            str_catf(t, n, x->hi[ilo] < x->lo[ihi]
                          ? "; their intervals do not overlap: the learning rate moves the "
                            "threshold beyond the seeds' spread."
                          : "; their intervals overlap: this ladder cannot tell the two "
                            "thresholds apart.");
        else
            str_catf(t, n, " (no intervals to compare).");
    } else if (emerged < x->n) {
        str_catf(t, n, " Whether it emerges at all depends on the learning rate.");
    }
}

// ---- two training tasks compared --------------------------------------------------------
// Per size, the union of the runs' item-bootstrap intervals and the seed values.
static void interval(const double (*v)[LADDER_MAX], const double (*lo)[LADDER_MAX],
                     const double (*hi)[LADDER_MAX], int i, int K, double *l, double *h) {
    *l = INFINITY;
    *h = -INFINITY;
    for (int k = 0; k < K; k++) {
        double y = v[i][k];
        if (!isfinite(y)) continue;
        if (isfinite(lo[i][k]) && isfinite(hi[i][k]) && lo[i][k] <= y && y <= hi[i][k]) {
            if (lo[i][k] < *l) *l = lo[i][k];
            if (hi[i][k] > *h) *h = hi[i][k];
        }
        if (y < *l) *l = y;
        if (y > *h) *h = y;
    }
    if (*l > *h) *l = *h = NAN;
}

typedef struct {
    double v[LADDER_MAX][LADDER_MAX], lo[LADDER_MAX][LADDER_MAX], hi[LADDER_MAX][LADDER_MAX];
} Runs;

static int pair_task(const char *dir, const LadderExperiments *x, int t, SweepPairTask *pt,
                     LadderGrid *g) {
    const LadderSpec *s = &x->spec;
    Runs *r = xcalloc(2, sizeof *r);
    snprintf(pt->pattern, sizeof pt->pattern, "%s", s->eval_tasks[t]);
    int rc = 0, K = 0;
    for (int v = 0; v < 2 && !rc; v++) {
        char spec[sizeof pt->task[v]];
        rc = ladder_eval_task(s, t, s->sweep_tasks[v], spec, sizeof spec);
        if (rc) break;
        canonical(spec, pt->task[v], sizeof pt->task[v]);
        rc = ladder_load_grid_task(dir, (double)v, pt->task[v], g);
        if (rc) break;
        Registry *reg;
        if ((rc = open_reg(dir, &reg))) break;
        rc = load_metric(reg, g, pt->task[v], ladder_metrics[LG_EM].name, r[v].v, r[v].lo,
                         r[v].hi);
        reg_close(reg);
        pt->n_sizes = g->n_sizes;
        K = g->n_seeds;
        memcpy(pt->params, g->params, sizeof pt->params);
        for (int i = 0; i < g->n_sizes; i++) {
            ladder_grid_stats(r[v].v[i], K, &pt->em[v].mean[i], &pt->em[v].min[i],
                              &pt->em[v].max[i]);
            interval((const double (*)[LADDER_MAX])r[v].v, (const double (*)[LADDER_MAX])r[v].lo,
                     (const double (*)[LADDER_MAX])r[v].hi, i, K, &pt->lo[v][i], &pt->hi[v][i]);
        }
    }
    pt->cross = pt->reverse = -1;
    pt->cross_ci = (ThresholdCI){.point = NAN, .lo = NAN, .hi = NAN};
    if (rc) { free(r); return rc; }
    int S = pt->n_sizes;
    for (int i = 0; i < S; i++) {
        if (pt->cross < 0 && pt->lo[0][i] > pt->hi[1][i]) pt->cross = i;
        if (pt->reverse < 0 && pt->lo[1][i] > pt->hi[0][i]) pt->reverse = i;
    }
    // the paired difference per (size, seed), and where its mean reaches LADDER_MIN_RISE
    static double d[LADDER_MAX][LADDER_MAX];
    const double *rows[LADDER_MAX];
    int ok = S >= 2;
    pt->seeds = K;
    for (int i = 0; i < S; i++) {
        int c = 0;
        for (int k = 0; k < K; k++) {
            d[i][k] = r[0].v[i][k] - r[1].v[i][k];
            c += isfinite(d[i][k]);
        }
        if (c < pt->seeds) pt->seeds = c;
        if (!c) ok = 0;
        rows[i] = d[i];
    }
    if (ok && ladder_threshold_bootstrap_at(pt->params, rows, S, K, 1000, 1, LADDER_MIN_RISE,
                                            &pt->cross_ci) == 0) {
        if (pt->seeds < 2) pt->cross_ci.lo = pt->cross_ci.hi = NAN;
    } else {
        pt->cross_ci = (ThresholdCI){.point = NAN, .lo = NAN, .hi = NAN};
    }
    em_clear_error();
    free(r);
    return 0;
}

static void pair_words(const SweepPair *x, const SweepPairTask *pt, char *t, size_t n) {
    int S = pt->n_sizes, L = S - 1;
    if (S < 1) return;
    str_catf(t, n, " Evaluated on %s against %s (eval task %s): exact match %.3f against %.3f at "
              "the largest size (%.3g parameters).", pt->task[0], pt->task[1], pt->pattern,
        pt->em[0].mean[L], pt->em[1].mean[L], pt->params[L]);
    if (pt->cross < 0) {
        str_catf(t, n, " No crossover in this ladder: %s never beats %s by more than their "
                  "intervals.", x->value[0], x->value[1]);
    } else if (pt->cross == 0) {
        str_catf(t, n, " %s beats %s by more than their intervals already at the smallest size "
                  "(%.3g parameters): the crossover lies below this ladder.", x->value[0],
            x->value[1], pt->params[0]);
    } else {
        str_catf(t, n, " Crossover: %s beats %s by more than their intervals from %.3g parameters "
                  "(below it, at %.3g, it does not)", x->value[0], x->value[1],
            pt->params[pt->cross], pt->params[pt->cross - 1]);
        if (isfinite(pt->cross_ci.point)) {
            str_catf(t, n, "; the mean difference reaches %.2f at about %.3g parameters",
                LADDER_MIN_RISE, pt->cross_ci.point);
            if (pt->seeds < 2) str_catf(t, n, " (one seed: no interval)");
            else if (isfinite(pt->cross_ci.lo))
                str_catf(t, n, " (95%% interval over %d seeds: %.3g to %.3g)", pt->seeds,
                    pt->cross_ci.lo, pt->cross_ci.hi);
        }
        str_catf(t, n, ".");
    }
    if (pt->reverse >= 0)
        str_catf(t, n, " %s beats %s by more than their intervals at %.3g parameters.", x->value[1],
            x->value[0], pt->params[pt->reverse]);
}

static int section_pair(const char *dir, LadderExperiments *x) {
    const LadderSpec *s = &x->spec;
    SweepPair *p = &x->pair;
    if (strcmp(s->sweep_name, "task") || s->n_sweep < 2 || s->n_eval_tasks < 1) return 0;
    p->present = 1;
    for (int v = 0; v < 2; v++) snprintf(p->value[v], sizeof p->value[v], "%s", s->sweep_tasks[v]);
    LadderGrid *g = xcalloc(1, sizeof *g);
    int rc = 0;
    str_catf(p->text, sizeof p->text, "Trained on %s against %s (the first two values of the task "
                                 "sweep), each evaluated in its own format.", p->value[0],
        p->value[1]);
    for (int t = 0; t < s->n_eval_tasks && t < LADDER_EXP_TASKS && !rc; t++) {
        rc = pair_task(dir, x, t, &p->t[t], g);
        if (!rc) {
            pair_words(p, &p->t[t], p->text, sizeof p->text);
            p->n_tasks++;
        }
    }
    free(g);
    return rc;
}

// ---- the loss power law on text ---------------------------------------------------------
static int text_only(const char *task) {
    const char *c = task;
    while (*c) {
        if (strncmp(c, "file:", 5)) return 0;
        const char *comma = strchr(c, ',');
        if (!comma) break;
        c = comma + 1;
    }
    return task[0] != 0;
}

// The power law (no floor) through the seed means of sizes [0, k); 1 when every one lies
// within LADDER_LAW_TOL of it.
static int law_holds(const SweepText *x, int k, PowerFit *f) {
    double px[LADDER_MAX], py[LADDER_MAX];
    int n = 0;
    for (int i = 0; i < k; i++)
        if (isfinite(x->val.mean[i])) { px[n] = x->nonemb[i]; py[n++] = x->val.mean[i]; }
    if (n < 3 || ladder_fit_power_law(px, py, n, 0, f) || !ladder_fit_valid(f)) {
        em_clear_error();
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (fabs(log(py[i] / ladder_power_predict(f, px[i]))) > LADDER_LAW_TOL) return 0;
    return 1;
}

static int section_text(const char *dir, const LadderAnalysis *a, LadderExperiments *ex) {
    SweepText *x = &ex->text;
    if (!text_only(ex->spec.task)) return 0;
    x->present = 1;
    x->tokens_per_param = ex->spec.tokens_per_param;
    LadderGrid *g = xcalloc(1, sizeof *g);
    int rc = ladder_load_grid(dir, a->part[0].sweep, g);
    RegRun *runs = NULL;
    int nr = 0;
    Registry *reg = NULL;
    if (!rc) rc = open_reg(dir, &reg) || reg_query_runs(reg, &runs, &nr);
    reg_close(reg);
    if (rc) { free(g); return -1; }
    int S = g->n_sizes, K = g->n_seeds;
    static double tr[LADDER_MAX][LADDER_MAX];
    for (int i = 0; i < LADDER_MAX; i++)
        for (int k = 0; k < LADDER_MAX; k++) tr[i][k] = NAN;
    for (int j = 0; j < nr; j++) {
        int i = size_of(g, runs[j].params), k = seed_of(g, runs[j].seed);
        if (i >= 0 && k >= 0 && same_sweep(runs[j].sweep_value, g->sweep) &&
            !strcmp(runs[j].status, "done"))
            tr[i][k] = runs[j].train_loss;
    }
    free(runs);
    x->n_sizes = S;
    double px[LADDER_MAX * LADDER_MAX], py[LADDER_MAX * LADDER_MAX];
    int np = 0;
    x->overfit_from = -1;
    for (int i = 0; i < S; i++) {
        GPTConfig c = {.vocab_size = 0, .block_size = 0, .n_layer = g->layers[i],
                       .n_head = g->heads[i], .n_embd = g->width[i]};
        x->params[i] = g->params[i];
        x->nonemb[i] = (double)gpt_num_params(&c);
        ladder_grid_stats(g->val_loss[i], K, &x->val.mean[i], &x->val.min[i], &x->val.max[i]);
        ladder_grid_stats(tr[i], K, &x->train.mean[i], &x->train.min[i], &x->train.max[i]);
        double gs = 0;
        int gc = 0;
        for (int k = 0; k < K; k++) {
            if (isfinite(g->val_loss[i][k]) && g->val_loss[i][k] > 0) {
                px[np] = x->nonemb[i];
                py[np++] = g->val_loss[i][k];
            }
            if (isfinite(g->val_loss[i][k]) && isfinite(tr[i][k])) {
                gs += g->val_loss[i][k] - tr[i][k];
                gc++;
            }
        }
        x->gap[i] = gc ? gs / gc : NAN;
        if (x->overfit_from < 0 && x->gap[i] > LADDER_OVERFIT_GAP) x->overfit_from = i;
    }
    x->n_points = np;
    int frc = np >= 3 ? ladder_fit_power_law(px, py, np, 0, &x->fit) : 0;
    memset(&x->fit_st, 0, sizeof x->fit_st);
    if (np >= 3) {
        x->fit_st.state = frc ? LA_FAILED : LA_OK;
        if (frc) snprintf(x->fit_st.error, sizeof x->fit_st.error, "%s", em_errmsg());
    }
    em_clear_error();
    x->alpha_lo = x->alpha_hi = NAN;
    if (x->fit_st.state == LA_OK && np > 2 && isfinite(x->fit.alpha_se)) {
        double q = gsl_cdf_tdist_Pinv(0.975, np - 2);
        x->alpha_lo = x->fit.alpha - q * x->fit.alpha_se;
        x->alpha_hi = x->fit.alpha + q * x->fit.alpha_se;
    }
    x->holds_to = -1;
    x->next_off = NAN;
    for (int k = S; k >= 3; k--) {
        PowerFit f;
        if (!law_holds(x, k, &f)) continue;
        x->holds_to = k - 1;
        if (k < S && isfinite(x->val.mean[k]))
            x->next_off = x->val.mean[k] / ladder_power_predict(&f, x->nonemb[k]) - 1;
        break;
    }
    free(g);

    char *t = x->text;
    size_t n = sizeof x->text;
    int L = S - 1;
    if (S < 1) { str_catf(t, n, "No run of this text ladder has finished."); return 0; }
    str_catf(t, n, "On %s, the validation loss (on the held-out last 10%% of the text) goes from "
              "%.3f at %.3g non-embedding parameters to %.3f at %.3g (seed means).",
        ex->spec.task, x->val.mean[0], x->nonemb[0], x->val.mean[L], x->nonemb[L]);
    if (x->fit_st.state == LA_FAILED) {
        str_catf(t, n, " No power law could be fitted: %s.", x->fit_st.error);
    } else if (x->fit_st.state != LA_OK) {
        str_catf(t, n, " Too few runs for a power law (3 needed).");
    } else {
        str_catf(t, n, " Over every run (%d), L = (N/%.3g)^-%.3f with N the non-embedding "
                  "parameters", np, x->fit.Nc, x->fit.alpha);
        if (isfinite(x->alpha_lo))
            str_catf(t, n, ", exponent 95%% interval %.3f to %.3f", x->alpha_lo, x->alpha_hi);
        str_catf(t, n, ", r2 %.3f%s.", x->fit.r2, x->fit.converged ? "" : " (the fit did not converge)");
        if (isfinite(x->alpha_lo))
            str_catf(t, n, " Kaplan et al. report %.3f for non-embedding parameters: this ladder's "
                      "interval %s it.", KAPLAN_ALPHA_N,
                x->alpha_lo > KAPLAN_ALPHA_N   ? "lies above"
                : x->alpha_hi < KAPLAN_ALPHA_N ? "lies below"
                                               : "contains");
        if (x->tokens_per_param > 0)
            str_catf(t, n, " Every size trained on %g tokens (characters) per parameter (a "
                      "tokens_per_param budget), not to convergence as Kaplan's L(N).",
                x->tokens_per_param);
    }
    if (x->holds_to >= 0) {
        str_catf(t, n, " The law holds (every seed mean within %.0f%% of a power law fitted to "
                  "them) from %.3g to %.3g non-embedding parameters", 100 * LADDER_LAW_TOL,
            x->nonemb[0], x->nonemb[x->holds_to]);
        if (x->holds_to < L && isfinite(x->next_off))
            str_catf(t, n, "; at the next size (%.3g) the loss lies %.1f%% %s it", x->nonemb[x->holds_to + 1],
                100 * fabs(x->next_off), x->next_off > 0 ? "above" : "below");
        else if (x->holds_to == L)
            str_catf(t, n, ", the whole ladder");
        str_catf(t, n, ".");
    } else if (S >= 3) {
        str_catf(t, n, " The law does not hold within %.0f%% even over the three smallest sizes.",
            100 * LADDER_LAW_TOL);
    }
    if (isfinite(x->gap[0]) && isfinite(x->gap[L])) {
        str_catf(t, n, " The validation loss exceeds the training loss by %.3f nats at the smallest "
                  "size and %.3f at the largest", x->gap[0], x->gap[L]);
        if (x->overfit_from >= 0)
            str_catf(t, n, "; the data run out (a gap above %.2f nats: overfitting) from %.3g "
                      "non-embedding parameters.", LADDER_OVERFIT_GAP,
                x->nonemb[x->overfit_from]);
        else
            str_catf(t, n, "; it stays below %.2f nats at every size: the data did not run out in "
                      "this ladder.", LADDER_OVERFIT_GAP);
    }
    return 0;
}

// ---- multiple-choice scores ------------------------------------------------------------
static void mc_first_list(const LadderPart *p, int upto, char *b, size_t n) {
    // the continuous scores (Brier, log-probability) that first moved at size `upto`
    b[0] = 0;
    int c = 0;
    if (p->first_move[LG_EDIT] == upto) str_catf(b, n, "%sthe Brier score", c++ ? " and " : "");
    if (p->first_move[LG_LOGP] == upto)
        str_catf(b, n, "%sthe target log-probability", c++ ? " and " : "");
}

static void mc_words(const SweepMcTask *m, char *t, size_t n) {
    const LadderPart *p = &m->part;
    int S = p->n_sizes, L = S - 1;
    if (S < 1) return;
    const LadderSpread *gr = &p->metric[LG_EM], *br = &p->metric[LG_EDIT], *lp = &p->metric[LG_LOGP];
    str_catf(t, n, " %s: from %.3g to %.3g parameters the grade goes %.3f to %.3f, the Brier score "
              "%.3f to %.3f, the target log-probability %.3f to %.3f.", m->task, p->params[0],
        p->params[L], gr->mean[0], gr->mean[L], br->mean[0], br->mean[L], lp->mean[0],
        lp->mean[L]);
    char fg[48], fb[48], fl[48], bg[32] = "-", bb[32] = "-", bl[32] = "-";
    fmt_params(fg, sizeof fg, p->first_move[LG_EM], p->params);
    fmt_params(fb, sizeof fb, p->first_move[LG_EDIT], p->params);
    fmt_params(fl, sizeof fl, p->first_move[LG_LOGP], p->params);
    if (p->trend_st[LG_EM].state == LA_OK)
        ladder_fmt_breakthrough(p->trend[LG_EM].breakthroughness, bg, sizeof bg);
    if (p->trend_st[LG_EDIT].state == LA_OK)
        ladder_fmt_breakthrough(p->trend[LG_EDIT].breakthroughness, bb, sizeof bb);
    if (p->trend_st[LG_LOGP].state == LA_OK)
        ladder_fmt_breakthrough(p->trend[LG_LOGP].breakthroughness, bl, sizeof bl);
    str_catf(t, n, " First move beyond the seed spread: grade %s (breakthroughness %s), Brier %s "
              "(%s), log-probability %s (%s).", fg, bg, fb, bb, fl, bl);
    int cfirst = -1;
    for (int j = 0; j < 2; j++) {
        int f = p->first_move[j ? LG_LOGP : LG_EDIT];
        if (f >= 0 && (cfirst < 0 || f < cfirst)) cfirst = f;
    }
    char first[96];
    mc_first_list(p, cfirst, first, sizeof first);
    if (first[0] >= 'a' && first[0] <= 'z') first[0] = (char)(first[0] - 'a' + 'A');
    double Bg = p->trend[LG_EM].breakthroughness, Bb = p->trend[LG_EDIT].breakthroughness;
    int sharper = p->trend_st[LG_EM].state == LA_OK && p->trend_st[LG_EDIT].state == LA_OK &&
                  Bg > Bb;
    switch (p->finding) {
    case LF_EM_NEVER:
        str_catf(t, n, " %s improved while the grade never moved beyond its seed spread.", first);
        break;
    case LF_EM_FIRST:
        str_catf(t, n, " The grade moved before the continuous scores: no mirage on this task.");
        break;
    case LF_TOGETHER:
        first[0] = (char)(first[0] - 'A' + 'a');
        str_catf(t, n, " The grade and %s moved at the same size: the grade does not make this "
                  "jump.", first);
        break;
    case LF_CONT_FIRST:
        str_catf(t, n, " %s moved first, the grade only at %s", first, fg);
        if (sharper)
            str_catf(t, n, ", and the grade is sharper than the Brier score (breakthroughness %s "
                      "against %s): the grade jumps while the Brier score moves smoothly, the "
                      "mirage in its multiple-choice form.", bg, bb);
        else
            str_catf(t, n, ", but the grade is not sharper than the Brier score (breakthroughness "
                      "%s against %s).", bg, bb);
        break;
    default:
        str_catf(t, n, " No score moved beyond its seed spread: nothing emerged on this task.");
        break;
    }
}

static int section_mc(const char *dir, const LadderAnalysis *a, LadderExperiments *ex) {
    SweepMc *x = &ex->mc;
    Registry *reg;
    RegName *tasks = NULL;
    int nt = 0;
    if (open_reg(dir, &reg)) return -1;
    if (reg_list_tasks(reg, &tasks, &nt)) { reg_close(reg); return -1; }
    LadderGrid *g = xcalloc(1, sizeof *g);
    double sweep = a->part[0].sweep;
    int rc = 0, mirage = 0;
    char names[512] = "";
    for (int j = 0; j < nt && x->n_tasks < LADDER_EXP_TASKS && !rc; j++) {
        SweepMcTask *m = &x->t[x->n_tasks];
        static double lo[LADDER_MAX][LADDER_MAX], hi[LADDER_MAX][LADDER_MAX];
        reg_close(reg);
        reg = NULL;
        if ((rc = ladder_load_grid_task(dir, sweep, tasks[j].s, g))) break;
        if ((rc = open_reg(dir, &reg))) break;
        rc = load_metric(reg, g, tasks[j].s, eval_metric_names[MET_MC_GRADE], m->grade, lo, hi) ||
             load_metric(reg, g, tasks[j].s, eval_metric_names[MET_BRIER], m->brier, NULL, NULL) ||
             load_metric(reg, g, tasks[j].s, eval_metric_names[MET_LOGPROB], m->logp, NULL, NULL);
        if (rc) break;
        int any = 0;
        for (int i = 0; i < g->n_sizes; i++)
            for (int k = 0; k < g->n_seeds; k++) any |= isfinite(m->grade[i][k]);
        if (!any) continue;  // not a multiple-choice task
        snprintf(m->task, sizeof m->task, "%s", tasks[j].s);
        // grade in exact match's slot, Brier in edit distance's (lower is better)
        for (int q = 0; q < LG_NUM; q++)
            for (int i = 0; i < LADDER_MAX; i++)
                for (int k = 0; k < LADDER_MAX; k++) g->metric[q][i][k] = NAN;
        memcpy(g->metric[LG_EM], m->grade, sizeof m->grade);
        memcpy(g->em_lo, lo, sizeof lo);
        memcpy(g->em_hi, hi, sizeof hi);
        memcpy(g->metric[LG_EDIT], m->brier, sizeof m->brier);
        memcpy(g->metric[LG_LOGP], m->logp, sizeof m->logp);
        ladder_analyze_grid(g, &m->part);
        x->n_seeds = g->n_seeds;
        x->n_tasks++;
        const LadderPart *p = &m->part;
        if (p->finding == LF_CONT_FIRST && p->trend_st[LG_EM].state == LA_OK &&
            p->trend_st[LG_EDIT].state == LA_OK &&
            p->trend[LG_EM].breakthroughness > p->trend[LG_EDIT].breakthroughness) {
            str_catf(names, sizeof names, "%s%s", mirage++ ? ", " : "", m->task);
        }
    }
    reg_close(reg);
    free(tasks);
    free(g);
    if (rc || !x->n_tasks) return rc;
    x->present = 1;
    str_catf(x->text, sizeof x->text, "Multiple-choice tasks scored by grade (the most likely "
                                 "choice is right), Brier score of the softmax over the choices "
                                 "(lower is better) and log-probability of the right choice.");
    for (int j = 0; j < x->n_tasks; j++) mc_words(&x->t[j], x->text, sizeof x->text);
    if (mirage)
        str_catf(x->text, sizeof x->text, " The grade jumps after a smoother Brier score on %d of "
                                     "%d tasks (%s).", mirage, x->n_tasks, names);
    else
        str_catf(x->text, sizeof x->text, " On none of the %d tasks does the grade jump after a "
                                     "smoother Brier score.", x->n_tasks);
    return 0;
}

// ---- experiments.json -------------------------------------------------------------------
static int write_json(const LadderExperiments *x) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "quick", x->quick);
    if (x->lr.present) {
        const SweepLr *l = &x->lr;
        cJSON *o = cJSON_AddObjectToObject(root, "threshold_vs_lr");
        cJSON_AddItemToObject(o, "lr", json_num_array(l->lr, l->n));
        cJSON_AddItemToObject(o, "threshold_at_0_5", json_num_array(l->thr, l->n));
        cJSON_AddItemToObject(o, "ci95_lo", json_num_array(l->lo, l->n));
        cJSON_AddItemToObject(o, "ci95_hi", json_num_array(l->hi, l->n));
        cJSON *v = cJSON_AddArrayToObject(o, "verdict");
        static const char *vs[] = {"did not emerge", "emerged", "non-monotone"};
        for (int i = 0; i < l->n; i++) cJSON_AddItemToArray(v, cJSON_CreateString(vs[l->verdict[i]]));
        cJSON_AddStringToObject(o, "finding", l->text);
    }
    if (x->pair.present) {
        const SweepPair *p = &x->pair;
        cJSON *o = cJSON_AddObjectToObject(root, "task_pair");
        cJSON_AddStringToObject(o, "first", p->value[0]);
        cJSON_AddStringToObject(o, "second", p->value[1]);
        cJSON *ts = cJSON_AddArrayToObject(o, "eval_tasks");
        for (int j = 0; j < p->n_tasks; j++) {
            const SweepPairTask *t = &p->t[j];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "eval_task", t->pattern);
            cJSON_AddItemToObject(e, "params", json_num_array(t->params, t->n_sizes));
            cJSON_AddItemToObject(e, "exact_match_first", json_num_array(t->em[0].mean, t->n_sizes));
            cJSON_AddItemToObject(e, "exact_match_second", json_num_array(t->em[1].mean, t->n_sizes));
            cJSON_AddItemToObject(e, "crossover_params",
                                  json_num(t->cross >= 0 ? t->params[t->cross] : NAN));
            cJSON_AddItemToObject(e, "difference_reaches_0_05_at", json_num(t->cross_ci.point));
            cJSON_AddItemToObject(e, "ci95_lo", json_num(t->cross_ci.lo));
            cJSON_AddItemToObject(e, "ci95_hi", json_num(t->cross_ci.hi));
            cJSON_AddNumberToObject(e, "seeds", t->seeds);
            cJSON_AddItemToArray(ts, e);
        }
        cJSON_AddStringToObject(o, "finding", p->text);
    }
    if (x->text.present) {
        const SweepText *t = &x->text;
        cJSON *o = cJSON_AddObjectToObject(root, "text_power_law");
        cJSON_AddItemToObject(o, "params", json_num_array(t->params, t->n_sizes));
        cJSON_AddItemToObject(o, "non_embedding_params", json_num_array(t->nonemb, t->n_sizes));
        cJSON_AddItemToObject(o, "val_loss", json_num_array(t->val.mean, t->n_sizes));
        cJSON_AddItemToObject(o, "train_loss", json_num_array(t->train.mean, t->n_sizes));
        cJSON_AddItemToObject(o, "gap", json_num_array(t->gap, t->n_sizes));
        cJSON_AddItemToObject(o, "alpha", json_num(t->fit_st.state == LA_OK ? t->fit.alpha : NAN));
        cJSON_AddItemToObject(o, "alpha_ci95", json_num_array((double[]){t->alpha_lo, t->alpha_hi}, 2));
        cJSON_AddItemToObject(o, "r2", json_num(t->fit_st.state == LA_OK ? t->fit.r2 : NAN));
        cJSON_AddNumberToObject(o, "kaplan_alpha_n", KAPLAN_ALPHA_N);
        cJSON_AddItemToObject(o, "law_holds_to_non_embedding_params",
                              json_num(t->holds_to >= 0 ? t->nonemb[t->holds_to] : NAN));
        cJSON_AddItemToObject(o, "overfits_from_non_embedding_params",
                              json_num(t->overfit_from >= 0 ? t->nonemb[t->overfit_from] : NAN));
        cJSON_AddStringToObject(o, "finding", t->text);
    }
    if (x->mc.present) {
        const SweepMc *m = &x->mc;
        cJSON *o = cJSON_AddObjectToObject(root, "multiple_choice");
        cJSON *ts = cJSON_AddArrayToObject(o, "tasks");
        for (int j = 0; j < m->n_tasks; j++) {
            const LadderPart *p = &m->t[j].part;
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "task", m->t[j].task);
            cJSON_AddItemToObject(e, "params", json_num_array(p->params, p->n_sizes));
            const int slot[3] = {LG_EM, LG_EDIT, LG_LOGP};
            const char *name[3] = {"mc_grade", "brier", "target_logprob"};
            for (int q = 0; q < 3; q++) {
                cJSON *mo = cJSON_AddObjectToObject(e, name[q]);
                cJSON_AddItemToObject(mo, "mean", json_num_array(p->metric[slot[q]].mean, p->n_sizes));
                double b = p->trend_st[slot[q]].state == LA_OK
                               ? p->trend[slot[q]].breakthroughness : NAN;
                if (isinf(b)) cJSON_AddStringToObject(mo, "breakthroughness", b > 0 ? "inf" : "-inf");
                else cJSON_AddItemToObject(mo, "breakthroughness", json_num(b));
                int f = p->first_move[slot[q]];
                cJSON_AddItemToObject(mo, "first_moves_at_params", json_num(f >= 0 ? p->params[f] : NAN));
            }
            cJSON_AddItemToArray(ts, e);
        }
        cJSON_AddStringToObject(o, "finding", m->text);
    }
    ladder_contam_json(&x->contam, root);
    char *s = cJSON_Print(root);
    int rc = write_file_atomic(x->path, s, strlen(s));
    free(s);
    cJSON_Delete(root);
    return rc;
}

int ladder_experiments(const char *dir, const LadderAnalysis *a, LadderExperiments *x) {
    memset(x, 0, sizeof *x);
    char path[1300];
    snprintf(path, sizeof path, "%s/spec.json", dir);
    if (ladder_spec_load(path, &x->spec)) return -1;
    snprintf(path, sizeof path, "%s/quick", dir);
    x->quick = file_exists(path);
    if (x->quick) ladder_spec_quick(&x->spec);
    section_lr(a, &x->lr);
    if (section_pair(dir, x) || section_text(dir, a, x) || section_mc(dir, a, x) ||
        ladder_contam_analysis(dir, &x->spec, &x->contam))
        return -1;
    snprintf(x->path, sizeof x->path, "%s/experiments.json", dir);
    return write_json(x);
}
