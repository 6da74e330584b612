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
//   ladder_bigbench_trend       BIG-bench's breakthroughness and the lab's linearity index
//   ladder_schaeffer_compare    predictions of exact match (Schaeffer et al.) against the observation
//   ladder_emergence_threshold  where a curve first crosses half its maximum (log-x interpolation)
//   ladder_threshold_at         where a curve first crosses a fixed level (e.g. 0.5)
//   ladder_threshold_bootstrap  that threshold with a 95% percentile interval over seeds and items
//   ladder_curve_falls          whether a curve falls again after rising (non-monotone)
//   ladder_extrapolate          fit the smaller half of the sizes, predict the largest, with
//                               a prediction interval: is the miss significant?
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
    // For predictions with an error (ladder_power_predict_se): the centring mean(ln x), the
    // residual variance s^2 = sse / (n - p) and the covariance s^2 (J^T J)^-1 of (c, alpha
    // [, Linf]) at the solution (NaN when n == p or GSL could not compute it).
    double u_mean, s2, cov[3][3];
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
// The standard error of that prediction (of the fitted curve, not of a new observation) by
// the delta method: sqrt(g^T cov g) with g = (f0, -u f0[, 1]), f0 = exp(c - alpha u),
// u = ln x - u_mean. NaN when the covariance is not available.
double ladder_power_predict_se(const PowerFit *f, double x);

// ---- BIG-bench's linearity and breakthroughness --------------------------------
// Srivastava et al. 2022, "Beyond the Imitation Game" (BIG-bench), Appendix B, "Definitions
// of linearity and breakthroughness". With the curve sorted by size, y_1..y_n, and its
// successive differences d_i = y_{i+1} - y_i (i = 1..n-1):
//   overall improvement  I = sign(argmax_i y_i - argmin_i y_i) * (max y - min y)
//   linearity            L = I / RootMeanSquare(d)   = I / sqrt(mean_i d_i^2)
//   breakthroughness     B = I / RootMedianSquare(d) = I / sqrt(median_i d_i^2)
// B is BIG-bench's breakthroughness as Srivastava et al. (Appendix B) define it and Schaeffer
// et al. (2023) quote it (their "emergence score"); the median of an even count is the mean
// of the middle two, as numpy's. L is the lab's own index, its root-mean-square counterpart:
// BIG-bench's own linearity could not be checked against its repository, so analysis.json,
// the CLI's table and the report call L "the lab's linearity index", never BIG-bench's. The positions x only order the points: spacing is ignored, which reads them
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

// The threshold with an interval over seeds and test items (a two-stage bootstrap).
// y_seed[i][s] is seed s's value at size x[i] (n_sizes rows of n_seeds; NaN marks a missing
// run and is skipped; every size needs one finite value). point = the threshold of the curve
// of seed means. At each size of m finite seeds with mean ybar, the values resampled are the
// seed values widened about their mean, y' = ybar + sqrt(m / (m - 1)) (y - ybar) (so that the
// resampled mean has the variance s^2 / m of the unbiased sample variance, not (m-1)/m of it;
// Davison & Hinkley 1997, section 3.3), kept in [0, 1] where items are redrawn. Each of n_boot
// resamples draws, at every size independently, as many seeds as it has finite values, with
// replacement; then, for each drawn run with an item count
// n = n_items[i][s] >= 1, redraws its test items: its value y' (y = k / n, k of n items
// right) is replaced by k* / n with k* ~ Binomial(n, y'); it averages them and takes the threshold.
// lo, hi = the 2.5th and 97.5th percentiles of the finite resampled thresholds, interpolated
// linearly between order statistics of ln x*. n_nan counts resamples whose threshold was NaN
// (not in the ladder); lo = hi = NaN when fewer than 2 resamples are finite. Deterministic:
// the project's Rng seeded by `seed`.
//
// Why a binomial redraw. The registry keeps each run's exact match, its n_items and its item
// interval, not the per-item outcomes. For a proportion the two are the same thing:
// resampling n items with replacement from n of which k are right gives a count k* ~
// Binomial(n, k / n) exactly, so the redraw is the item bootstrap of that run. What it
// assumes: (a) the items are independent draws from the task's distribution, and (b) item
// draws are independent between runs. (b) is an approximation: every run of a ladder is
// scored on the same test items, so a paired item bootstrap (one item resample shared by all
// runs) would keep the correlation between sizes; it needs the per-item outcomes.
// Independent redraws treat the shared item noise as independent, which spreads the curve
// between sizes more than a paired resample would: the interval errs wide, not narrow.
// Seed values already carry their own item noise, so with many seeds the two stages count
// it twice (the interval is then conservative); with few seeds the percentile bootstrap
// over seeds alone is too narrow (the widening above corrects its variance, not its lack of
// t-like tails), and the item stage partly makes up for it. Measured on 300 simulated
// ladders each (tests/test_analysis.c, test_bootstrap_coverage: 6 sizes, seed midpoints
// 0.15 decades apart, 300 items), the 95% interval covered the true threshold in 83%, 89%
// and 91% of ladders with 3, 5 and 10 seeds; the plain percentile bootstrap over seeds
// (ladder_threshold_bootstrap) in 71%, 83% and 88%. With under 5 seeds it stays too narrow.
//
// n_items may be NULL (no item redraw: seeds only), and a run with n_items < 1 keeps its
// value; y must be in [0, 1] where n_items >= 1.
typedef struct {
    double point, lo, hi;
    int n_valid, n_nan;       // n_valid + n_nan = n_boot
    int n_item_runs;          // runs whose items were redrawn
} ThresholdCI;
int ladder_threshold_bootstrap_items(const double *x, const double *const *y_seed,
                                     const int *const *n_items, int n_sizes, int n_seeds,
                                     int n_boot, uint64_t seed, double level, ThresholdCI *out);
// The plain percentile bootstrap over seeds (no widening, no item redraw), at half the
// maximum or at a fixed level (level > 0; level <= 0: half the maximum).
int ladder_threshold_bootstrap(const double *x, const double *const *y_seed, int n_sizes,
                               int n_seeds, int n_boot, uint64_t seed, ThresholdCI *out);
int ladder_threshold_bootstrap_at(const double *x, const double *const *y_seed, int n_sizes,
                                  int n_seeds, int n_boot, uint64_t seed, double level,
                                  ThresholdCI *out);

// ---- extrapolation ----------------------------------------------------------------
// Fit the smaller half of the sizes, predict the largest, and say whether the miss is larger
// than the fit's own uncertainty. With y_seed[i][s] as for the bootstrap (NaN: missing):
//   the fitted points: every finite (size, seed) of the n_sizes / 2 smallest sizes;
//   the law: with the irreducible term Linf when floor = LADDER_FLOOR_AUTO and the smaller half
//     has >= 3 sizes (or floor = 1), without it otherwise (floor = 0). In AUTO, a law with a
//     floor that fails, does not converge or gives Linf < 0 is replaced by the law without
//     it, and `why` says so;
//   actual = the mean of the K finite seeds at the largest size; pred = the law there;
//   rel_err = (pred - actual) / |actual| (signed; NaN if actual == 0);
//   the 95% prediction interval for actual (delta method): pred +- t_{0.975, n - p} *
//     sqrt(se_fit^2 + s^2 / K), se_fit = ladder_power_predict_se at x_max, s^2 the residual
//     variance of the fit (n points, p parameters): the fit's uncertainty plus the scatter of
//     a mean of K runs around the law. NaN (no interval) when n == p (an exact fit has no
//     residual to measure it by) or the covariance is not available. s^2 also holds any lack
//     of fit of the law, which does not shrink with K: the interval is then too narrow by
//     that much, and a miss beyond it says the law does not extrapolate.
//   significant = 1 when actual lies outside [lo, hi], 0 inside, -1 when there is no
//     interval or the fit did not converge (then the prediction is not a test of anything).
// Needs >= 2 sizes in the smaller half (>= 3 with Linf forced) and y > 0 without Linf.
#define LADDER_FLOOR_AUTO (-1)
typedef struct {
    double x_target, pred, actual, rel_err;
    double lo, hi;                  // 95% prediction interval of actual; NaN: none
    double pred_se, resid_sd;       // se_fit at x_target, s
    int n_fit, n_points, n_target;  // sizes and points fitted, seeds at the largest size
    int with_floor, converged, significant;
    char why[192];                  // the law fitted and why, in words
    PowerFit fit;
} Extrapolation;
int ladder_extrapolate(const double *x, const double *const *y_seed, int n_sizes, int n_seeds,
                       int floor, Extrapolation *out);
// One value per size (e.g. seed means; x distinct): the same, with the floor given.
int ladder_extrapolation_check(const double *x, const double *y, int n, int with_irreducible,
                               Extrapolation *out);

#endif
