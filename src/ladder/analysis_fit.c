// ladder/analysis_fit: power-law fits L(x) = (x / Nc)^-alpha [+ Linf] by GSL's trust-region
// nonlinear least squares, in the centred parametrisation described in analysis.h.
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>

#include "core/core.h"
#include "ladder/analysis.h"

// The data GSL's callbacks see: u[i] = ln x[i] - mean ln x, y[i].
typedef struct { const double *u, *y; int n, p; } FitData;

// exp() of the model's exponent, kept finite while the solver tries wild steps.
static double safe_exp(double a) { return exp(a > 700.0 ? 700.0 : a); }

// r_i = f(x_i) - y_i with f = exp(c - alpha u) [+ Linf]; theta = (c, alpha[, Linf]).
static int fit_f(const gsl_vector *th, void *vd, gsl_vector *r) {
    const FitData *d = vd;
    double c = gsl_vector_get(th, 0), a = gsl_vector_get(th, 1);
    double linf = d->p == 3 ? gsl_vector_get(th, 2) : 0.0;
    for (int i = 0; i < d->n; i++)
        gsl_vector_set(r, i, safe_exp(c - a * d->u[i]) + linf - d->y[i]);
    return GSL_SUCCESS;
}

// J (n, p): df/dc = g, df/dalpha = -u g, df/dLinf = 1, with g = exp(c - alpha u).
static int fit_df(const gsl_vector *th, void *vd, gsl_matrix *J) {
    const FitData *d = vd;
    double c = gsl_vector_get(th, 0), a = gsl_vector_get(th, 1);
    for (int i = 0; i < d->n; i++) {
        double g = safe_exp(c - a * d->u[i]);
        gsl_matrix_set(J, i, 0, g);
        gsl_matrix_set(J, i, 1, -d->u[i] * g);
        if (d->p == 3) gsl_matrix_set(J, i, 2, 1.0);
    }
    return GSL_SUCCESS;
}

// Least squares of ln(y - linf) on u: ln(y - linf) = c - alpha u. Returns the squared error
// of the implied curve in y (HUGE_VAL if some y <= linf).
static double loglin_start(const double *u, const double *y, int n, double linf,
                           double *c, double *alpha) {
    double su = 0, sl = 0, suu = 0, sul = 0;
    for (int i = 0; i < n; i++) {
        if (!(y[i] > linf)) return HUGE_VAL;
        double l = log(y[i] - linf);
        su += u[i]; sl += l; suu += u[i] * u[i]; sul += u[i] * l;
    }
    double den = n * suu - su * su;
    if (!(den > 0)) return HUGE_VAL;
    double slope = (n * sul - su * sl) / den;
    *alpha = -slope;
    *c = (sl - slope * su) / n;
    double sse = 0;
    for (int i = 0; i < n; i++) {
        double e = safe_exp(*c - *alpha * u[i]) + linf - y[i];
        sse += e * e;
    }
    return sse;
}

// Distinct values among x[0..n-1] (n is small: a ladder has tens of points).
static int count_distinct(const double *x, int n) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = x[j] == x[i];
        k += !seen;
    }
    return k;
}

int ladder_fit_power_law(const double *x, const double *y, int n, int with_irreducible,
                         PowerFit *out) {
    int p = with_irreducible ? 3 : 2;
    if (n < p)
        return em_error("ladder_fit_power_law: n must be >= %d (%s), got %d", p,
                        with_irreducible ? "with Linf" : "without Linf", n);
    for (int i = 0; i < n; i++) {
        if (!(x[i] > 0) || !isfinite(x[i]))
            return em_error("ladder_fit_power_law: x[%d] = %g, expected a finite size > 0", i,
                            x[i]);
        if (!isfinite(y[i]))
            return em_error("ladder_fit_power_law: y[%d] = %g, expected a finite value", i, y[i]);
        if (!with_irreducible && !(y[i] > 0))
            return em_error("ladder_fit_power_law: y[%d] = %g, expected > 0 for a pure power law "
                            "(fit with the irreducible term otherwise)", i, y[i]);
    }
    if (count_distinct(x, n) < p)
        return em_error("ladder_fit_power_law: x has %d distinct sizes, expected >= %d",
                        count_distinct(x, n), p);

    double *u = xmalloc((size_t)n * sizeof(double));  // (n,) centred ln x
    double ubar = 0, ymin = y[0], ymax = y[0], ybar = 0;
    for (int i = 0; i < n; i++) {
        ubar += log(x[i]);
        ybar += y[i];
        if (y[i] < ymin) ymin = y[i];
        if (y[i] > ymax) ymax = y[i];
    }
    ubar /= n;
    ybar /= n;
    for (int i = 0; i < n; i++) u[i] = log(x[i]) - ubar;

    // Starting point: the log-linear fit, over a grid of Linf0 < min y when Linf is fitted.
    double c0 = 0, a0 = 0, linf0 = 0, best = HUGE_VAL;
    if (!with_irreducible) {
        best = loglin_start(u, y, n, 0.0, &c0, &a0);
    } else {
        double range = ymax - ymin > 0 ? ymax - ymin : (fabs(ymin) > 0 ? fabs(ymin) : 1.0);
        for (int k = 0; k < 51; k++) {  // ymin - range * 10^(-4 .. 2)
            double cand = ymin - range * pow(10.0, -4.0 + 6.0 * k / 50.0), c, a;
            double e = loglin_start(u, y, n, cand, &c, &a);
            if (e < best) { best = e; c0 = c; a0 = a; linf0 = cand; }
        }
        for (int k = 0; k < 10 && ymin > 0; k++) {  // fractions of ymin, for losses near 0
            double cand = ymin * k / 10.0, c, a;
            double e = loglin_start(u, y, n, cand, &c, &a);
            if (e < best) { best = e; c0 = c; a0 = a; linf0 = cand; }
        }
    }
    if (!(best < HUGE_VAL)) {
        free(u);
        return em_error("ladder_fit_power_law: no starting point (y cannot be a power law of x)");
    }

    FitData d = {u, y, n, p};
    gsl_multifit_nlinear_fdf fdf = {0};
    fdf.f = fit_f;
    fdf.df = fit_df;
    fdf.n = (size_t)n;
    fdf.p = (size_t)p;
    fdf.params = &d;
    gsl_multifit_nlinear_parameters prm = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &prm, (size_t)n, (size_t)p);
    gsl_vector *th = gsl_vector_alloc((size_t)p);
    gsl_matrix *cov = gsl_matrix_alloc((size_t)p, (size_t)p);
    gsl_vector_set(th, 0, c0);
    gsl_vector_set(th, 1, a0);
    if (p == 3) gsl_vector_set(th, 2, linf0);

    // GSL's default handler aborts; errors come back as status codes here instead.
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int status = gsl_multifit_nlinear_init(th, &fdf, w), info = 0;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += y[i] * y[i];
    if (status == GSL_SUCCESS) {
        if (best <= 1e-28 * ss) {
            // The start already fits exactly: no step can improve it (the solver would stop
            // with "no progress"), so the start is the solution.
            info = 1;
        } else {
            status = gsl_multifit_nlinear_driver(500, 1e-12, 1e-12, 0.0, NULL, NULL, &info, w);
        }
    }
    int ok_cov = status == GSL_SUCCESS &&
                 gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), 0.0, cov) == GSL_SUCCESS;
    gsl_set_error_handler(old);

    const gsl_vector *sol = gsl_multifit_nlinear_position(w);
    double c = gsl_vector_get(sol, 0), a = gsl_vector_get(sol, 1);
    double linf = p == 3 ? gsl_vector_get(sol, 2) : 0.0;
    double sse = 0, sst = 0;
    for (int i = 0; i < n; i++) {
        double e = safe_exp(c - a * u[i]) + linf - y[i];
        sse += e * e;
        sst += (y[i] - ybar) * (y[i] - ybar);
    }
    PowerFit f = {0};
    f.n = n;
    f.with_irreducible = with_irreducible ? 1 : 0;
    f.converged = status == GSL_SUCCESS;
    f.iters = (int)gsl_multifit_nlinear_niter(w);
    f.alpha = a;
    f.Linf = linf;
    f.lnNc = ubar + c / a;
    f.Nc = exp(f.lnNc);
    f.sse = sse;
    f.rmse = sqrt(sse / n);
    f.r2 = sst > 0 ? 1.0 - sse / sst : NAN;
    f.Nc_se = f.lnNc_se = f.alpha_se = f.Linf_se = NAN;
    f.u_mean = ubar;
    f.s2 = n > p ? sse / (n - p) : NAN;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) f.cov[i][j] = NAN;
    if (ok_cov && n > p) {
        double s2 = sse / (n - p);
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) f.cov[i][j] = gsl_matrix_get(cov, i, j) * s2;
        double vcc = gsl_matrix_get(cov, 0, 0) * s2, vaa = gsl_matrix_get(cov, 1, 1) * s2;
        double vca = gsl_matrix_get(cov, 0, 1) * s2;
        f.alpha_se = sqrt(vaa);
        if (p == 3) f.Linf_se = sqrt(gsl_matrix_get(cov, 2, 2) * s2);
        double gc = 1.0 / a, ga = -c / (a * a);  // gradient of lnNc in (c, alpha)
        f.lnNc_se = sqrt(gc * gc * vcc + 2 * gc * ga * vca + ga * ga * vaa);
        f.Nc_se = f.Nc * f.lnNc_se;
    }
    if (!with_irreducible) f.Linf_se = NAN;
    *out = f;

    gsl_matrix_free(cov);
    gsl_vector_free(th);
    gsl_multifit_nlinear_free(w);
    free(u);
    return 0;
}

double ladder_power_predict(const PowerFit *f, double x) {
    return exp(-f->alpha * (log(x) - f->lnNc)) + f->Linf;
}

double ladder_power_predict_se(const PowerFit *f, double x) {
    double u = log(x) - f->u_mean, c = f->alpha * (f->lnNc - f->u_mean);
    double f0 = exp(c - f->alpha * u), g[3] = {f0, -u * f0, 1.0}, v = 0;
    int p = f->with_irreducible ? 3 : 2;
    for (int i = 0; i < p; i++)
        for (int j = 0; j < p; j++) v += g[i] * f->cov[i][j] * g[j];
    return v >= 0 ? sqrt(v) : NAN;
}
