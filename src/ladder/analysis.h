// ladder/analysis: what a ladder of model sizes says about scaling and emergence. Pure
// functions over arrays: the caller (ladder/analyze.c) gathers the values per (size, seed) from
// the registry and passes them in; nothing here reads files or SQLite.
//
// Words used below. A "size" is a model's scale on the x axis: its parameter count N or its
// training compute C in FLOPs (any positive number; every function takes it raw, not its log).
// A "curve" is one value per size (y[i] at x[i]); unless said otherwise the sizes may come in
// any order and each function sorts what it needs. Every function returns 0, or -1 with an
// em_error() message that names the function, the field and what was expected.
//
//   ladder_fit_power_law        L(x) = (x / Nc)^-alpha [+ Linf], GSL nonlinear least squares
//   ladder_bigbench_trend       BIG-bench's linearity and breakthroughness of a metric over size
//   ladder_schaeffer_compare    predictions of exact match (Schaeffer et al.) against the observation
//   ladder_emergence_threshold  where a curve first crosses half its maximum (log-x interpolation)
//   ladder_threshold_at         where a curve first crosses a fixed level (e.g. 0.5)
//   ladder_threshold_bootstrap  that threshold with a 95% percentile interval over seeds
//   ladder_curve_falls          whether a curve falls again after rising (non-monotone)
//   ladder_extrapolation_check  fit the smaller half of the sizes, predict the largest
#ifndef EMERGENT_LADDER_ANALYSIS_H
#define EMERGENT_LADDER_ANALYSIS_H

#include <stdint.h>

// ---- power-law fits ----------------------------------------------------------
// The scaling law of Kaplan et al. (2020): L(x) = (x / Nc)^-alpha, optionally plus an
// irreducible term Linf (Hoffmann et al. 2022's E): L(x) = (x / Nc)^-alpha + Linf.
//
// Fitting. With u = ln x - mean(ln x) (centred so the parameters are nearly uncorrelated),
// the model is f(x) = exp(c - alpha*u) [+ Linf], c = alpha*(ln Nc - mean(ln x)). The start:
// without Linf, the linear regression of ln y on u; with Linf, the same regression on
// ln(y - Linf0) for a grid of Linf0 below min(y), keeping the one of least squared error in
// y. Then GSL's trust-region nonlinear least squares (gsl_multifit_nlinear, Levenberg-
// Marquardt, More scaling) minimises sum_i (y_i - f(x_i))^2 over (c, alpha[, Linf]),
// unweighted, on y itself (not log y).
//
// Quality. sse = sum_i r_i^2 with r_i = y_i - f(x_i); rmse = sqrt(sse / n);
// r2 = 1 - sse / sum_i (y_i - mean y)^2 (NaN if y is constant). Standard errors: the
// covariance (J^T J)^-1 (gsl_multifit_nlinear_covar at the solution) times the residual
// variance s^2 = sse / (n - p), p = 2 or 3 parameters; NaN when n == p (an exact fit has no
// residual degrees of freedom). ln Nc = mean(ln x) + c / alpha and its se by the delta
// method (d lnNc/dc = 1/alpha, d lnNc/dalpha = -c/alpha^2); Nc_se = Nc * lnNc_se.
typedef struct {
    double Nc, lnNc, alpha, Linf;   // Linf = 0 without the irreducible term
    double Nc_se, lnNc_se, alpha_se, Linf_se;
    double r2, rmse, sse;
    int n;                          // points fitted
    int with_irreducible;           // 1 if Linf was fitted
    int converged;                  // 1 if GSL's convergence test passed
    int iters;                      // trust-region iterations taken
} PowerFit;

// Fits n points (x[i] > 0, y[i] finite; repeated x, e.g. several seeds of one size, are
// allowed). Needs at least 2 distinct x without Linf and 3 with it, and y > 0 without Linf
// (the law is positive). On success fills *out (also when GSL did not converge: then
// out->converged == 0 and the numbers are the last iterate's).
int ladder_fit_power_law(const double *x, const double *y, int n, int with_irreducible,
                         PowerFit *out);

// (x / Nc)^-alpha + Linf, computed as exp(-alpha (ln x - lnNc)) + Linf.
double ladder_power_predict(const PowerFit *f, double x);

// ---- BIG-bench's linearity and breakthroughness --------------------------------
// Srivastava et al. 2022, "Beyond the Imitation Game" (BIG-bench), Appendix B, "Definitions
// of linearity and breakthroughness". With the curve sorted by size, y_1..y_n, and its
// successive differences d_i = y_{i+1} - y_i (i = 1..n-1):
//   overall improvement  I = sign(argmax_i y_i - argmin_i y_i) * (max y - min y)
//   linearity            L = I / RootMeanSquare(d)   = I / sqrt(mean_i d_i^2)
//   breakthroughness     B = I / RootMedianSquare(d) = I / sqrt(median_i d_i^2)
// (B as in BIG-bench's analysis and its public re-implementations; L as its root-mean-square
// counterpart.) The positions x only order the points: spacing is ignored, which reads them
// as evenly spaced in log size, as BIG-bench's model families roughly are.
// Facts: both are unchanged by adding a constant to y or multiplying it by c > 0, and flip
// sign for a decreasing curve. |L| <= n - 1, with equality exactly for a straight line
// (all d_i equal; Cauchy-Schwarz), so linearity_norm = L / (n - 1) is 1 for a rising line.
// A step (most d_i = 0, one jump) has small L (sqrt(n-1)) and huge B: B = +-inf when more
// than half of the steps are exactly flat (median d^2 = 0) while I != 0; callers that print
// it should say so. A flat curve (I = 0) has L = B = 0.
typedef struct {
    double improvement;       // I
    double linearity;         // L
    double linearity_norm;    // L / (n - 1), in [-1, 1]
    double breakthroughness;  // B
    int n;
} Trend;

// y[i] at size x[i] (x distinct, finite; any order), n >= 2, y finite.
int ladder_bigbench_trend(const double *x, const double *y, int n, Trend *out);

// ---- Schaeffer et al.'s predictions against the observation ----------------------
// Schaeffer, Miranda & Koyejo 2023 predict exact match from per-token quantities (eval
// computes the predictions per item, each with its own answer length: src/eval/metrics.h).
// Over n runs, pred[j] is a prediction of run j's exact match with its 95% interval
// [lo[j], hi[j]] (lo, hi may be NULL, an entry NaN: no interval) and obs[j] the observed
// exact match; runs where pred or obs is NaN are skipped. Fills:
//   runs         runs with both
//   mean_abs     mean_j |pred_j - obs_j|   (NaN when runs == 0), max_abs its maximum (0)
//   mean_signed  mean_j (pred_j - obs_j): > 0 the prediction overshoots (NaN when runs == 0)
//   with_interval  runs whose prediction has an interval; inside: those whose observation
//                  lies in it (lo_j <= obs_j <= hi_j)
// Values must be probabilities in [0, 1] (or NaN); n >= 0.
typedef struct {
    int runs, with_interval, inside;
    double mean_abs, max_abs, mean_signed;
} SchaefferCompare;
int ladder_schaeffer_compare(const double *pred, const double *lo, const double *hi,
                             const double *obs, int n, SchaefferCompare *out);

// ---- the emergence threshold -----------------------------------------------------
// With the curve sorted by size and h = max(y) / 2: the first k with y_k >= h, and the size
// where the segment from (ln x_{k-1}, y_{k-1}) to (ln x_k, y_k) reaches h, i.e.
//   x* = exp(ln x_{k-1} + t (ln x_k - ln x_{k-1})),  t = (h - y_{k-1}) / (y_k - y_{k-1}),
// in the units of x. *thr = NaN when the crossing is not inside the ladder: max(y) <= 0 (it
// never rises) or y_1 >= h already at the smallest size (the threshold lies below it).
// x > 0 distinct (any order), y finite, n >= 2.
int ladder_emergence_threshold(const double *x, const double *y, int n, double *thr);
// The same at a fixed level instead of half the maximum: the first crossing of `level`
// (NaN when max(y) < level or y_1 >= level already). level > 0.
int ladder_threshold_at(const double *x, const double *y, int n, double level, double *thr);

// Whether a curve falls again after rising: with the curve sorted by size, fall =
// max_{i<j} (y_i - y_j), the largest drop from an earlier size to a later one (0 for a
// non-decreasing curve). *non_monotone = 1 when fall > LADDER_FALL_SHARE * (max y - min y):
// such a curve is not summarised by its first crossing. x distinct, y finite, n >= 2.
#define LADDER_FALL_SHARE 0.25
int ladder_curve_falls(const double *x, const double *y, int n, double *fall,
                       int *non_monotone);

// The threshold with an interval over seeds. y_seed[i][s] is seed s's value at size x[i]
// (n_sizes rows of n_seeds; NaN marks a missing run and is skipped; every size needs one
// finite value). point = the threshold of the curve of seed means. Each of n_boot resamples
// draws, at every size independently, as many seeds as it has finite values, with
// replacement, averages them and takes the threshold; lo, hi = the 2.5th and 97.5th
// percentiles of the finite resampled thresholds, interpolated linearly between order
// statistics of ln x*. n_nan counts resamples whose threshold was NaN (not in the ladder);
// lo = hi = NaN when fewer than 2 resamples are finite. Deterministic: the project's Rng
// seeded by `seed`.
typedef struct {
    double point, lo, hi;
    int n_valid, n_nan;       // n_valid + n_nan = n_boot
} ThresholdCI;
int ladder_threshold_bootstrap(const double *x, const double *const *y_seed, int n_sizes,
                               int n_seeds, int n_boot, uint64_t seed, ThresholdCI *out);
// The same with the threshold at a fixed level (level > 0; level <= 0: half the maximum).
int ladder_threshold_bootstrap_at(const double *x, const double *const *y_seed, int n_sizes,
                                  int n_seeds, int n_boot, uint64_t seed, double level,
                                  ThresholdCI *out);

// ---- extrapolation ----------------------------------------------------------------
// Sorts the n sizes (x distinct, one value each, e.g. seed means), fits the power law on the
// smaller half (the n/2 smallest, rounded down) and predicts the largest:
//   pred = ladder_power_predict(fit, x_max), actual = y at x_max,
//   rel_err = (pred - actual) / |actual| (signed; NaN if actual == 0).
// Needs n/2 >= 2 points (>= 3 with Linf).
typedef struct {
    double x_target, pred, actual, rel_err;
    int n_fit;
    PowerFit fit;
} Extrapolation;
int ladder_extrapolation_check(const double *x, const double *y, int n, int with_irreducible,
                               Extrapolation *out);

#endif
