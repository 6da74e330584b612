// ladder/analysis: emergence measures over a ladder's curves: BIG-bench's linearity and
// breakthroughness, Schaeffer et al.'s exact-match predictions, the half-maximum threshold
// and whether a curve falls again (the bootstrap: analysis_boot.c; the extrapolation check:
// analysis_extrap.c). Formulas: analysis.h.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ladder/analysis.h"
#include "ladder/analysis_impl.h"

// ---- helpers -------------------------------------------------------------------------

// idx[0..n-1] = the order that sorts x ascending (insertion sort: n is a ladder's length).
// Fails, naming fn, on a non-finite or (if positive) non-positive x, or a repeated size.
int ladder_order_by_x(const char *fn, const double *x, int n, int positive, int *idx) {
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || (positive && !(x[i] > 0)))
            return em_error("%s: x[%d] = %g, expected a finite size%s", fn, i, x[i],
                            positive ? " > 0" : "");
        idx[i] = i;
    }
    for (int i = 1; i < n; i++) {
        int k = idx[i], j = i - 1;
        while (j >= 0 && x[idx[j]] > x[k]) { idx[j + 1] = idx[j]; j--; }
        idx[j + 1] = k;
    }
    for (int i = 1; i < n; i++)
        if (x[idx[i]] == x[idx[i - 1]])
            return em_error("%s: x[%d] and x[%d] are both %g, expected distinct sizes", fn,
                            idx[i - 1], idx[i], x[idx[i]]);
    return 0;
}

int ladder_check_finite(const char *fn, const char *name, const double *v, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return em_error("%s: %s[%d] = %g, expected a finite value", fn, name, i, v[i]);
    return 0;
}

// ---- BIG-bench's linearity and breakthroughness -----------------------------------------

int ladder_bigbench_trend(const double *x, const double *y, int n, Trend *out) {
    if (n < 2) return em_error("ladder_bigbench_trend: n must be >= 2 sizes, got %d", n);
    if (ladder_check_finite("ladder_bigbench_trend", "y", y, n)) return -1;
    int *idx = xmalloc((size_t)n * sizeof(int));
    if (ladder_order_by_x("ladder_bigbench_trend", x, n, 0, idx)) { free(idx); return -1; }
    // Sorted positions of the extremes (first occurrence) and the squared steps (n-1,).
    int imin = 0, imax = 0;
    double *d2 = xmalloc((size_t)(n - 1) * sizeof(double)), ms = 0;
    for (int i = 0; i < n; i++) {
        double v = y[idx[i]];
        if (v < y[idx[imin]]) imin = i;
        if (v > y[idx[imax]]) imax = i;
        if (i > 0) {
            double d = v - y[idx[i - 1]];
            d2[i - 1] = d * d;
            ms += d * d;
        }
    }
    ms /= n - 1;
    qsort(d2, (size_t)(n - 1), sizeof(double), cmp_double);
    double med = quantile_sorted(d2, n - 1, 0.5);  // the median (mean of the middle two if even)
    double range = y[idx[imax]] - y[idx[imin]];
    double I = (imax > imin ? 1.0 : -1.0) * range;
    Trend t = {0};
    t.n = n;
    t.improvement = range > 0 ? I : 0.0;
    t.linearity = range > 0 ? I / sqrt(ms) : 0.0;
    t.linearity_norm = t.linearity / (n - 1);
    t.breakthroughness = range > 0 ? (med > 0 ? I / sqrt(med) : copysign(INFINITY, I)) : 0.0;
    *out = t;
    free(d2);
    free(idx);
    return 0;
}

// ---- Schaeffer et al.'s predictions against the observation ------------------------------

static int check_prob(const char *name, int j, double p) {
    if (!isnan(p) && !(p >= 0.0 && p <= 1.0))
        return em_error("ladder_schaeffer_compare: %s[%d] = %g, expected a probability in "
                        "[0, 1] or NaN", name, j, p);
    return 0;
}

int ladder_schaeffer_compare(const double *pred, const double *lo, const double *hi,
                             const double *obs, int n, SchaefferCompare *out) {
    const char *fn = "ladder_schaeffer_compare";
    if (n < 0) return em_error("%s: n must be >= 0, got %d", fn, n);
    if (n > 0 && (!pred || !obs))
        return em_error("%s: pred and obs must hold n = %d values, got NULL", fn, n);
    for (int j = 0; j < n; j++)
        if (check_prob("pred", j, pred[j]) || check_prob("obs", j, obs[j]) ||
            (lo && check_prob("lo", j, lo[j])) || (hi && check_prob("hi", j, hi[j])))
            return -1;
    SchaefferCompare c = {0};
    double sa = 0.0, ss = 0.0;
    for (int j = 0; j < n; j++) {
        if (isnan(pred[j]) || isnan(obs[j])) continue;
        double d = pred[j] - obs[j];
        sa += fabs(d);
        ss += d;
        if (fabs(d) > c.max_abs) c.max_abs = fabs(d);
        c.runs++;
        if (lo && hi && !isnan(lo[j]) && !isnan(hi[j])) {
            c.with_interval++;
            c.inside += lo[j] <= obs[j] && obs[j] <= hi[j];
        }
    }
    c.mean_abs = c.runs ? sa / c.runs : NAN;
    c.mean_signed = c.runs ? ss / c.runs : NAN;
    *out = c;
    return 0;
}

// ---- the emergence threshold -------------------------------------------------------------

// The crossing of `level` (level <= 0: half the maximum) by y along sorted sizes lx (ln x
// ascending); NaN if not inside.
double ladder_crossing(const double *lx, const double *y, int n, double level) {
    double ymax = y[0];
    for (int i = 1; i < n; i++)
        if (y[i] > ymax) ymax = y[i];
    double h = level > 0 ? level : ymax / 2;
    if (!(ymax > 0) || ymax < h || y[0] >= h) return NAN;
    int k = 1;
    while (y[k] < h) k++;  // exists: y at the argmax is ymax >= h
    double t = (h - y[k - 1]) / (y[k] - y[k - 1]);
    return exp(lx[k - 1] + t * (lx[k] - lx[k - 1]));
}

static int threshold_level(const char *fn, const double *x, const double *y, int n,
                           double level, double *thr) {
    if (n < 2) return em_error("%s: n must be >= 2 sizes, got %d", fn, n);
    if (ladder_check_finite(fn, "y", y, n)) return -1;
    int *idx = xmalloc((size_t)n * sizeof(int));
    if (ladder_order_by_x(fn, x, n, 1, idx)) { free(idx); return -1; }
    double *lx = xmalloc((size_t)n * 2 * sizeof(double)), *ys = lx + n;  // sorted ln x, y
    for (int i = 0; i < n; i++) { lx[i] = log(x[idx[i]]); ys[i] = y[idx[i]]; }
    *thr = ladder_crossing(lx, ys, n, level);
    free(lx);
    free(idx);
    return 0;
}

int ladder_emergence_threshold(const double *x, const double *y, int n, double *thr) {
    return threshold_level("ladder_emergence_threshold", x, y, n, 0.0, thr);
}

int ladder_threshold_at(const double *x, const double *y, int n, double level, double *thr) {
    if (!(level > 0))
        return em_error("ladder_threshold_at: level = %g, expected a level > 0", level);
    return threshold_level("ladder_threshold_at", x, y, n, level, thr);
}

int ladder_curve_falls(const double *x, const double *y, int n, double *fall,
                       int *non_monotone) {
    const char *fn = "ladder_curve_falls";
    if (n < 2) return em_error("%s: n must be >= 2 sizes, got %d", fn, n);
    if (ladder_check_finite(fn, "y", y, n)) return -1;
    int *idx = xmalloc((size_t)n * sizeof(int));
    if (ladder_order_by_x(fn, x, n, 0, idx)) { free(idx); return -1; }
    double peak = y[idx[0]], lo = peak, hi = peak, f = 0;
    for (int i = 1; i < n; i++) {
        double v = y[idx[i]];
        if (peak - v > f) f = peak - v;
        if (v > peak) peak = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    *fall = f;
    *non_monotone = f > LADDER_FALL_SHARE * (hi - lo) && f > 0;
    free(idx);
    return 0;
}
