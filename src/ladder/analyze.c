// ladder/analyze: the numbers behind the report. Each grid of a ladder (one per value of its
// second axis) becomes a LadderPart: fits, BIG-bench trends, Schaeffer's errors, the emergence
// threshold; the whole is returned as a LadderAnalysis and written to DIR/analysis.json.
#include <cjson/cJSON.h>
#include <math.h>
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
    double mx[LADDER_MAX], my[LADDER_MAX];
    int nm = 0;
    for (int i = 0; i < S; i++) {
        my[nm] = p->val_loss.mean[i];
        if (isfinite(my[nm])) mx[nm++] = g->params[i];
    }
    record(&p->extrapolation_st, nm, 4,
           nm >= 4 ? ladder_extrapolation_check(mx, my, nm, 0, &p->extrapolation) : 0);
    free(x); free(xf); free(y);
}

// Schaeffer et al.: exact match predicted from per-token accuracy, per run.
static void analyze_schaeffer(const LadderGrid *g, LadderPart *p) {
    double err_pow = 0, err_prod = 0, max_pow = 0, max_prod = 0;
    int ns = 0;
    for (int i = 0; i < g->n_sizes; i++)
        for (int k = 0; k < g->n_seeds; k++) {
            double em = g->metric[LG_EM][i][k], pp = g->metric[LG_PRED_POW][i][k];
            double pr = g->metric[LG_PRED_PROD][i][k];
            if (!isfinite(em) || !isfinite(pp) || !isfinite(pr)) continue;
            err_pow += fabs(pp - em); err_prod += fabs(pr - em);
            if (fabs(pp - em) > max_pow) max_pow = fabs(pp - em);
            if (fabs(pr - em) > max_prod) max_prod = fabs(pr - em);
            ns++;
        }
    p->schaeffer_runs = ns;
    p->mean_abs_pow = ns ? err_pow / ns : NAN;
    p->mean_abs_prod = ns ? err_prod / ns : NAN;
    p->max_abs_pow = max_pow;
    p->max_abs_prod = max_prod;
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

    // per metric: the seed means over size, BIG-bench's trend measures
    for (int m = 0; m < LG_NUM; m++) {
        spread(g->metric[m], S, K, &p->metric[m]);
        double px[LADDER_MAX], py[LADDER_MAX];
        int c = 0;
        for (int i = 0; i < S; i++)
            if (isfinite(p->metric[m].mean[i])) {
                px[c] = g->params[i];
                py[c++] = p->metric[m].mean[i];
            }
        record(&p->trend_st[m], c, 3,
               c >= 3 ? ladder_bigbench_trend(px, py, c, &p->trend[m]) : 0);
    }
    analyze_schaeffer(g, p);

    // the emergence threshold of exact match, with a bootstrap over seeds
    const double *ys[LADDER_MAX];  // ys[size][seed]
    for (int i = 0; i < S; i++) ys[i] = g->metric[LG_EM][i];
    ThresholdCI th = {.point = NAN, .lo = NAN, .hi = NAN};
    record(&p->threshold_st, S, 2,
           S >= 2 ? ladder_threshold_bootstrap(g->params, ys, S, K, 1000, 1, &th) : 0);
    p->threshold = th;
}

// ---- analysis.json --------------------------------------------------------------------

static cJSON *num(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static cJSON *fit_json(const PowerFit *f) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "alpha", num(f->alpha));
    cJSON_AddItemToObject(o, "alpha_se", num(f->alpha_se));
    cJSON_AddItemToObject(o, "Nc", num(f->Nc));
    cJSON_AddItemToObject(o, "Linf", num(f->Linf));
    cJSON_AddItemToObject(o, "Linf_se", num(f->Linf_se));
    cJSON_AddItemToObject(o, "r2", num(f->r2));
    cJSON_AddItemToObject(o, "rmse", num(f->rmse));
    cJSON_AddNumberToObject(o, "points", f->n);
    cJSON_AddBoolToObject(o, "converged", f->converged);
    cJSON_AddBoolToObject(o, "valid", ladder_fit_valid(f));
    return o;
}

static cJSON *array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, num(v[i]));
    return a;
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
    const Extrapolation *ex = &p->extrapolation;
    if (p->extrapolation_st.state != LA_SKIPPED) {
        cJSON *e = cJSON_AddObjectToObject(fits, "extrapolation");
        if (p->extrapolation_st.state == LA_FAILED) {
            cJSON_AddStringToObject(e, "error", p->extrapolation_st.error);
        } else {
            cJSON_AddItemToObject(e, "fit_on_smallest", num(ex->n_fit));
            cJSON_AddItemToObject(e, "params", num(ex->x_target));
            cJSON_AddItemToObject(e, "predicted", num(ex->pred));
            cJSON_AddItemToObject(e, "actual", num(ex->actual));
            cJSON_AddItemToObject(e, "rel_error", num(ex->rel_err));
        }
    }

    cJSON *mets = cJSON_AddObjectToObject(root, "metrics");
    for (int m = 0; m < LG_NUM; m++) {
        cJSON *o = cJSON_AddObjectToObject(mets, ladder_metrics[m].name);
        cJSON_AddItemToObject(o, "mean", array(p->metric[m].mean, S));
        cJSON_AddItemToObject(o, "min", array(p->metric[m].min, S));
        cJSON_AddItemToObject(o, "max", array(p->metric[m].max, S));
        if (p->trend_st[m].state == LA_OK) {
            cJSON_AddItemToObject(o, "breakthroughness", num(p->trend[m].breakthroughness));
            cJSON_AddItemToObject(o, "linearity", num(p->trend[m].linearity));
            cJSON_AddItemToObject(o, "linearity_norm", num(p->trend[m].linearity_norm));
        } else if (p->trend_st[m].state == LA_FAILED) {
            cJSON_AddStringToObject(o, "trend_error", p->trend_st[m].error);
        }
    }
    cJSON_AddItemToObject(root, "params", array(p->params, S));

    int ns = p->schaeffer_runs;
    cJSON *sc = cJSON_AddObjectToObject(root, "schaeffer");
    cJSON_AddNumberToObject(sc, "runs", ns);
    cJSON_AddItemToObject(sc, "mean_abs_error_pow", num(p->mean_abs_pow));
    cJSON_AddItemToObject(sc, "max_abs_error_pow", num(ns ? p->max_abs_pow : NAN));
    cJSON_AddItemToObject(sc, "mean_abs_error_prod", num(p->mean_abs_prod));
    cJSON_AddItemToObject(sc, "max_abs_error_prod", num(ns ? p->max_abs_prod : NAN));

    const ThresholdCI *th = &p->threshold;
    cJSON *t = cJSON_AddObjectToObject(root, "threshold");
    cJSON_AddItemToObject(t, "params", num(th->point));
    cJSON_AddItemToObject(t, "ci95_lo", num(th->lo));
    cJSON_AddItemToObject(t, "ci95_hi", num(th->hi));
    cJSON_AddNumberToObject(t, "resamples_without_threshold", th->n_nan);
    if (p->threshold_st.state == LA_FAILED)
        cJSON_AddStringToObject(t, "error", p->threshold_st.error);
    return root;
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
