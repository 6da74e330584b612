// ladder/analysis_extrap: the extrapolation check: a power law fitted on the smaller half of
// the sizes predicts the largest, with a 95% prediction interval (delta method) that says
// whether the miss is significant. Formulas: analysis.h.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "core/core.h"
#include "ladder/analysis.h"
#include "ladder/analysis_impl.h"

// The fit of the points (xs, ys) with or without the floor; 0 or -1 (em_error).
static int fit(const double *xs, const double *ys, int n, int floor, PowerFit *f) {
    return ladder_fit_power_law(xs, ys, n, floor, f);
}

// Why the law with a floor was not kept, or "" when it was.
static const char *floor_rejected(int rc, const PowerFit *f) {
    if (rc) return "could not be fitted";
    if (!f->converged) return "did not converge";
    if (f->Linf < 0) return "gave a negative irreducible loss";
    return "";
}

int ladder_extrapolate(const double *x, const double *const *y_seed, int n_sizes, int n_seeds,
                       int floor, Extrapolation *out) {
    const char *fn = "ladder_extrapolation_check";
    int nf = n_sizes / 2, need = floor == 1 ? 3 : 2;
    if (n_sizes < 1 || nf < need)
        return em_error("%s: n = %d sizes gives %d in the smaller half, expected >= %d (%s)", fn,
                        n_sizes, n_sizes > 0 ? nf : 0, need,
                        floor == 1 ? "with Linf" : "without Linf");
    if (n_seeds < 1) return em_error("%s: n_seeds must be >= 1, got %d", fn, n_seeds);
    int *idx = xmalloc((size_t)n_sizes * sizeof(int));
    if (ladder_order_by_x(fn, x, n_sizes, 1, idx)) { free(idx); return -1; }
    double *xs = xmalloc((size_t)nf * n_seeds * 2 * sizeof(double)), *ys = xs + nf * n_seeds;
    int np = 0, rc = 0, K = 0;
    double sum = 0;
    for (int i = 0; i < nf; i++)
        for (int s = 0; s < n_seeds; s++) {
            double v = y_seed[idx[i]][s];
            if (isnan(v)) continue;
            xs[np] = x[idx[i]];
            ys[np++] = v;
        }
    for (int s = 0; s < n_seeds; s++) {
        double v = y_seed[idx[n_sizes - 1]][s];
        if (!isnan(v)) { sum += v; K++; }
    }
    if (K == 0)
        rc = em_error("%s: the largest size (x = %g) has no finite value", fn,
                      x[idx[n_sizes - 1]]);
    else if (ladder_check_finite(fn, "y", ys, np) || !isfinite(sum))
        rc = em_error("%s: a value is infinite, expected finite values or NaN (missing)", fn);
    Extrapolation e = {0};
    if (rc == 0) {
        int use_floor = floor == 1 || (floor == LADDER_FLOOR_AUTO && nf >= 3);
        const char *rej = "";
        if (use_floor) {
            PowerFit with = {0};
            int frc = fit(xs, ys, np, 1, &with);
            if (floor == 1) { rc = frc; e.fit = with; }
            else if (!(rej = floor_rejected(frc, &with))[0]) e.fit = with;
            else em_clear_error();
        }
        if (rc == 0 && (!use_floor || rej[0])) rc = fit(xs, ys, np, 0, &e.fit);
        if (rc == 0) {
            e.with_floor = e.fit.with_irreducible;
            if (e.with_floor)
                snprintf(e.why, sizeof e.why, "with an irreducible term (the smaller half has "
                         "%d sizes)", nf);
            else if (use_floor)
                snprintf(e.why, sizeof e.why, "without an irreducible term (the law with one "
                         "%s)", rej);
            else
                snprintf(e.why, sizeof e.why, "without an irreducible term (the smaller half has "
                         "%d sizes; a floor needs 3)", nf);
        }
    }
    if (rc == 0) {
        e.n_fit = nf;
        e.n_points = np;
        e.n_target = K;
        e.converged = e.fit.converged;
        e.x_target = x[idx[n_sizes - 1]];
        e.actual = sum / K;
        e.pred = ladder_power_predict(&e.fit, e.x_target);
        e.rel_err = e.actual != 0 ? (e.pred - e.actual) / fabs(e.actual) : NAN;
        e.pred_se = ladder_power_predict_se(&e.fit, e.x_target);
        e.resid_sd = sqrt(e.fit.s2);
        e.lo = e.hi = NAN;
        int dof = np - (e.with_floor ? 3 : 2);
        if (dof >= 1 && isfinite(e.pred_se) && isfinite(e.fit.s2)) {
            double h = gsl_cdf_tdist_Pinv(0.975, dof) *
                       sqrt(e.pred_se * e.pred_se + e.fit.s2 / K);
            e.lo = e.pred - h;
            e.hi = e.pred + h;
        }
        e.significant = !e.converged || isnan(e.lo) ? -1
                                                    : (e.actual < e.lo || e.actual > e.hi);
        *out = e;
    }
    free(xs);
    free(idx);
    return rc;
}

int ladder_extrapolation_check(const double *x, const double *y, int n, int with_irreducible,
                               Extrapolation *out) {
    if (n < 1) return ladder_extrapolate(x, NULL, n, 1, with_irreducible ? 1 : 0, out);
    const double **rows = xmalloc((size_t)n * sizeof(double *));
    for (int i = 0; i < n; i++) rows[i] = &y[i];
    int rc = ladder_extrapolate(x, rows, n, 1, with_irreducible ? 1 : 0, out);
    free(rows);
    return rc;
}
