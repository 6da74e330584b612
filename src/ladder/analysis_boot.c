// ladder/analysis_boot: the emergence threshold with a two-stage bootstrap interval: seeds
// resampled at every size, and each drawn run's test items resampled (a binomial redraw of
// its exact match). Formulas and the assumptions behind them: analysis.h.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ladder/analysis.h"
#include "ladder/analysis_impl.h"

// A uniform double in [0, 1) with 53 random bits (rng_uniform has 24: too coarse for the
// tail of a binomial over thousands of items).
static double unif53(Rng *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }

// The CDF of Binomial(n, p) into cdf[0..n] (cdf[n] = 1 exactly), from log-pmfs.
static void binom_cdf(int n, double p, double *cdf) {
    double lp = log(p), lq = log1p(-p), ln = lgamma(n + 1.0), c = 0;
    for (int j = 0; j <= n; j++) {
        c += exp(ln - lgamma(j + 1.0) - lgamma(n - j + 1.0) + j * lp + (n - j) * lq);
        cdf[j] = c < 1 ? c : 1;
    }
    cdf[n] = 1;
}

// The smallest j with cdf[j] > u (u in [0, 1)): a draw of the binomial by inversion.
static int binom_draw(const double *cdf, int n, double u) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cdf[mid] > u) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

// One run of the ladder: its exact match v, and when its items are redrawn, their count n
// and the CDF of Binomial(n, v) (NULL: the value is used as it is).
typedef struct {
    double v;
    int n;
    double *cdf;
} BootRun;

static double run_draw(const BootRun *r, Rng *g) {
    if (!r->cdf) return r->v;
    return (double)binom_draw(r->cdf, r->n, unif53(g)) / r->n;
}

static int bootstrap(const double *x, const double *const *y_seed, const int *const *n_items,
                     int n_sizes, int n_seeds, int n_boot, uint64_t seed, double level,
                     int inflate, ThresholdCI *out);

int ladder_threshold_bootstrap(const double *x, const double *const *y_seed, int n_sizes,
                               int n_seeds, int n_boot, uint64_t seed, ThresholdCI *out) {
    return bootstrap(x, y_seed, NULL, n_sizes, n_seeds, n_boot, seed, 0.0, 0, out);
}

int ladder_threshold_bootstrap_at(const double *x, const double *const *y_seed, int n_sizes,
                                  int n_seeds, int n_boot, uint64_t seed, double level,
                                  ThresholdCI *out) {
    return bootstrap(x, y_seed, NULL, n_sizes, n_seeds, n_boot, seed, level, 0, out);
}

// inflate = 1: seed deviations widened by sqrt(m / (m - 1)) (the two-stage bootstrap of
// analysis.h); 0: the plain percentile bootstrap over seeds.
static int bootstrap(const double *x, const double *const *y_seed, const int *const *n_items,
                     int n_sizes, int n_seeds, int n_boot, uint64_t seed, double level,
                     int inflate, ThresholdCI *out) {
    const char *fn = "ladder_threshold_bootstrap";
    if (n_sizes < 2) return em_error("%s: n_sizes must be >= 2, got %d", fn, n_sizes);
    if (n_seeds < 1) return em_error("%s: n_seeds must be >= 1, got %d", fn, n_seeds);
    if (n_boot < 0) return em_error("%s: n_boot must be >= 0, got %d", fn, n_boot);
    int *idx = xmalloc((size_t)n_sizes * sizeof(int));
    if (ladder_order_by_x(fn, x, n_sizes, 1, idx)) { free(idx); return -1; }
    // Per sorted size i: its runs with a finite value, run[i*n_seeds + 0..m[i]-1].
    int *m = xcalloc((size_t)n_sizes, sizeof(int));
    BootRun *run = xcalloc((size_t)n_sizes * n_seeds, sizeof(BootRun));
    double *lx = xmalloc((size_t)n_sizes * 2 * sizeof(double)), *yc = lx + n_sizes;
    double *th = xmalloc((size_t)(n_boot > 0 ? n_boot : 1) * sizeof(double));
    int rc = 0, n_item_runs = 0;
    for (int i = 0; i < n_sizes && rc == 0; i++) {
        const double *row = y_seed[idx[i]];
        lx[i] = log(x[idx[i]]);
        for (int s = 0; s < n_seeds; s++) {
            if (isnan(row[s])) continue;
            if (!isfinite(row[s])) {
                rc = em_error("%s: y_seed[%d][%d] = %g, expected a finite value or NaN (missing)",
                              fn, idx[i], s, row[s]);
                break;
            }
            int n = n_items ? n_items[idx[i]][s] : 0;
            if (n >= 1 && !(row[s] >= 0 && row[s] <= 1)) {
                rc = em_error("%s: y_seed[%d][%d] = %g with n_items %d, expected a proportion "
                              "in [0, 1]", fn, idx[i], s, row[s], n);
                break;
            }
            BootRun *r = &run[i * n_seeds + m[i]++];
            r->v = row[s];
            r->n = n;
        }
        if (rc == 0 && m[i] == 0)
            rc = em_error("%s: size %d (x = %g) has no finite seed value", fn, idx[i], x[idx[i]]);
        if (rc) break;
        // the resampled values: seed deviations widened by sqrt(m / (m - 1)); item CDFs
        BootRun *ri = &run[i * n_seeds];
        double mean = 0, c = m[i] > 1 ? sqrt((double)m[i] / (m[i] - 1)) : 1;
        for (int k = 0; k < m[i]; k++) mean += ri[k].v / m[i];
        for (int k = 0; k < m[i]; k++) {
            BootRun *r = &ri[k];
            if (inflate) r->v = mean + c * (r->v - mean);
            if (r->n < 1) { r->n = 0; continue; }  // no item count recorded: the value as it is
            n_item_runs++;
            if (r->v < 0) r->v = 0;
            if (r->v > 1) r->v = 1;
            if (r->v == 0 || r->v == 1) continue;  // a redraw of 0 or 1 is itself
            r->cdf = xmalloc((size_t)(r->n + 1) * sizeof(double));
            binom_cdf(r->n, r->v, r->cdf);
        }
    }
    if (rc == 0) {
        for (int i = 0; i < n_sizes; i++) {  // the point estimate: seed means
            double s = 0;
            for (int k = 0; k < n_seeds; k++)
                if (!isnan(y_seed[idx[i]][k])) s += y_seed[idx[i]][k];
            yc[i] = s / m[i];
        }
        out->point = ladder_crossing(lx, yc, n_sizes, level);
        Rng r;
        rng_seed(&r, seed);
        int nv = 0;
        for (int b = 0; b < n_boot; b++) {
            for (int i = 0; i < n_sizes; i++) {
                double s = 0;
                for (int k = 0; k < m[i]; k++)
                    s += run_draw(&run[i * n_seeds + rng_below(&r, (uint32_t)m[i])], &r);
                yc[i] = s / m[i];
            }
            double t = ladder_crossing(lx, yc, n_sizes, level);
            if (!isnan(t)) th[nv++] = log(t);
        }
        out->n_valid = nv;
        out->n_nan = n_boot - nv;
        out->n_item_runs = n_item_runs;
        out->lo = out->hi = NAN;
        if (nv >= 2) {
            qsort(th, (size_t)nv, sizeof(double), cmp_double);
            out->lo = exp(quantile_sorted(th, nv, 0.025));
            out->hi = exp(quantile_sorted(th, nv, 0.975));
        }
    }
    for (int j = 0; j < n_sizes * n_seeds; j++) free(run[j].cdf);
    free(th);
    free(lx);
    free(run);
    free(m);
    free(idx);
    return rc;
}

int ladder_threshold_bootstrap_items(const double *x, const double *const *y_seed,
                                     const int *const *n_items, int n_sizes, int n_seeds,
                                     int n_boot, uint64_t seed, double level, ThresholdCI *out) {
    return bootstrap(x, y_seed, n_items, n_sizes, n_seeds, n_boot, seed, level, 1, out);
}
