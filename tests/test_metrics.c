// eval/metrics on hand-computed cases: matches, aligned accuracy, edit distance, probabilities,
// multiple choice, Brier, ECE, numbers, Schaeffer predictions, and the bootstrap summary.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "eval/metrics.h"
#include "test.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

// Character tokens: "kitten" -> {'k','i',...}; returns the length.
static int toks(const char *s, int *out) {
    int n = (int)strlen(s);
    for (int i = 0; i < n; i++) out[i] = (unsigned char)s[i];
    return n;
}

static void test_exact(void) {
    int a[] = {1, 2, 3}, b[] = {1, 2, 3}, c[] = {1, 2, 4};
    CHECK(metric_exact(a, 3, b, 3) == 1.0, "identical sequences");
    CHECK(metric_exact(a, 2, b, 3) == 0.0, "a prefix is not a match");
    CHECK(metric_exact(a, 3, b, 2) == 0.0, "a longer response is not a match");
    CHECK(metric_exact(c, 3, b, 3) == 0.0, "last token differs");
    CHECK(metric_exact(NULL, 0, NULL, 0) == 1.0, "both empty");
}

static void test_aligned(void) {
    int t[8], r[8], h[8];
    int nt = toks("579", t);

    int nr = toks("57", r);  // shorter: the missing position misses
    memset(h, -1, sizeof h);
    CHECK(metric_aligned_hits(r, nr, t, nt, h) == 2, "left '57' vs '579'");
    CHECK(h[0] == 1 && h[1] == 1 && h[2] == 0, "hits %d %d %d", h[0], h[1], h[2]);
    CHECK(h[3] == -1, "wrote past nt");
    nr = toks("5891", r);    // longer: extra tokens ignored
    CHECK(metric_aligned_hits(r, nr, t, nt, h) == 2, "left '5891' vs '579'");
    CHECK(h[0] == 1 && h[1] == 0 && h[2] == 1, "hits %d %d %d", h[0], h[1], h[2]);
    CHECK(metric_aligned_hits(NULL, 0, t, nt, h) == 0, "empty response");
    CHECK(h[0] == 0 && h[1] == 0 && h[2] == 0, "empty response hits %d %d %d", h[0], h[1], h[2]);
    CHECK(metric_aligned_hits(t, nt, t, nt, NULL) == 3, "NULL hit_per_pos");

    // Right-aligned: digits line up from the units.
    nr = toks("57", r);
    CHECK(metric_aligned_hits_right(r, nr, t, nt, h) == 0, "right '57' vs '579'");
    CHECK(h[0] == 0 && h[1] == 0 && h[2] == 0, "hits %d %d %d", h[0], h[1], h[2]);
    nr = toks("79", r);
    CHECK(metric_aligned_hits_right(r, nr, t, nt, h) == 2, "right '79' vs '579'");
    CHECK(h[0] == 0 && h[1] == 1 && h[2] == 1, "hits %d %d %d", h[0], h[1], h[2]);
    nr = toks("1589", r);
    CHECK(metric_aligned_hits_right(r, nr, t, nt, h) == 2, "right '1589' vs '579'");
    CHECK(h[0] == 1 && h[1] == 0 && h[2] == 1, "hits %d %d %d", h[0], h[1], h[2]);

    // Teacher forcing: argmax predictions at the target positions, same count.
    int pred[] = {'5', '0', '9'};
    CHECK(NEAR(metric_aligned_hits(pred, 3, t, nt, NULL) / 3.0, 2.0 / 3.0, 1e-15),
          "teacher-forced accuracy");
}

static void test_edit_distance(void) {
    int a[16], b[16];
    int na = toks("kitten", a), nb = toks("sitting", b);
    CHECK(metric_edit_distance(a, na, b, nb) == 3, "kitten/sitting %d",
          metric_edit_distance(a, na, b, nb));
    CHECK(metric_edit_distance(b, nb, a, na) == 3, "sitting/kitten");
    CHECK(NEAR(metric_edit_distance_norm(a, na, b, nb), 3.0 / 7.0, 1e-15), "norm %g",
          metric_edit_distance_norm(a, na, b, nb));
    na = toks("flaw", a); nb = toks("lawn", b);
    CHECK(metric_edit_distance(a, na, b, nb) == 2, "flaw/lawn");
    CHECK(metric_edit_distance(a, na, a, na) == 0, "identical");
    nb = toks("abc", b);
    CHECK(metric_edit_distance(NULL, 0, b, nb) == 3, "empty vs abc");
    CHECK(metric_edit_distance(b, nb, NULL, 0) == 3, "abc vs empty");
    CHECK(metric_edit_distance(NULL, 0, NULL, 0) == 0, "both empty");
    CHECK(metric_edit_distance_norm(NULL, 0, NULL, 0) == 0.0, "both empty, normalised");
    CHECK(metric_edit_distance_norm(NULL, 0, b, nb) == 1.0, "empty vs abc, normalised");
    em_clear_error();
    CHECK(metric_edit_distance(a, -1, b, nb) == -1, "negative length accepted");
    CHECK(strstr(em_errmsg(), "metric_edit_distance") != NULL, "message: %s", em_errmsg());
}

static void test_logprob(void) {
    double lp[] = {log(0.5), log(0.25)};
    CHECK(NEAR(metric_target_logprob(lp, 2), log(0.125), 1e-15), "sum %g",
          metric_target_logprob(lp, 2));
    CHECK(NEAR(metric_mean_token_prob(lp, 2), 0.375, 1e-15), "mean prob %g",
          metric_mean_token_prob(lp, 2));
    CHECK(metric_target_logprob(NULL, 0) == 0.0, "empty sum");
    CHECK(isnan(metric_mean_token_prob(NULL, 0)), "empty mean is not NaN");
}

static void test_multiple_choice(void) {
    double ll[] = {-3, -1, -1, -2};
    CHECK(metric_mc_pick(ll, 4) == 1, "argmax with a tie %d", metric_mc_pick(ll, 4));
    double lln[] = {NAN, -5, -7};
    CHECK(metric_mc_pick(lln, 3) == 1, "NaN picked: %d", metric_mc_pick(lln, 3));
    double all_nan[] = {NAN, NAN};
    CHECK(metric_mc_pick(all_nan, 2) == -1, "all NaN");
    CHECK(metric_mc_pick(NULL, 0) == -1, "no choices");
    CHECK(metric_mc_grade(1, 1) == 1.0, "right pick");
    CHECK(metric_mc_grade(2, 1) == 0.0, "wrong pick");
    CHECK(metric_mc_grade(-1, -1) == 0.0, "no pick is never right");
    double sc[] = {0, 0.5, 1};
    CHECK(metric_mc_grade_scores(1, sc, 3) == 0.5, "graded pick");
    CHECK(metric_mc_grade_scores(-1, sc, 3) == 0.0, "graded no pick");
}

static void test_brier(void) {
    // p = (0.7, 0.2, 0.1): right answer 0 -> 0.09 + 0.04 + 0.01; answer 1 -> 0.49 + 0.64 + 0.01.
    double ll[] = {log(0.7), log(0.2), log(0.1)};
    CHECK(NEAR(metric_brier(ll, 3, 0), 0.14, 1e-12), "brier %g", metric_brier(ll, 3, 0));
    CHECK(NEAR(metric_brier(ll, 3, 1), 1.14, 1e-12), "brier %g", metric_brier(ll, 3, 1));
    // Unnormalised log-likelihoods (shifted by -100) give the same softmax.
    double sh[] = {log(0.7) - 100, log(0.2) - 100, log(0.1) - 100};
    CHECK(NEAR(metric_brier(sh, 3, 0), 0.14, 1e-12), "shifted brier %g", metric_brier(sh, 3, 0));
    double eq[] = {-4, -4};
    CHECK(NEAR(metric_brier(eq, 2, 1), 0.5, 1e-15), "uniform brier %g", metric_brier(eq, 2, 1));
    double big[] = {1000, 0};  // no overflow, a certain answer
    CHECK(NEAR(metric_brier(big, 2, 0), 0.0, 1e-15), "certain right %g", metric_brier(big, 2, 0));
    CHECK(NEAR(metric_brier(big, 2, 1), 2.0, 1e-15), "certain wrong %g", metric_brier(big, 2, 1));
    CHECK(metric_brier(ll, 3, 3) == -1.0, "correct out of range accepted");
    CHECK(metric_brier(ll, 0, 0) == -1.0, "no choices accepted");
}

static void test_ece(void) {
    // Two bins. [0, 0.5): conf 0.1, 0.3 (mean 0.2), correct 1, 1 -> gap 0.8, weight 1/2;
    // [0.5, 1]: conf 0.8, 0.9 (mean 0.85), correct 0, 1 -> gap 0.35, weight 1/2. ECE = 0.575.
    double conf[] = {0.1, 0.3, 0.8, 0.9}, cor[] = {1, 1, 0, 1};
    CHECK(NEAR(metric_ece(conf, cor, 4, 2), 0.575, 1e-12), "ece %g", metric_ece(conf, cor, 4, 2));
    // One bin: |0.75 - 0.525|.
    CHECK(NEAR(metric_ece(conf, cor, 4, 1), 0.225, 1e-12), "1-bin ece %g",
          metric_ece(conf, cor, 4, 1));
    // The edge 0.5 opens the upper bin: 0.4 alone (gap 0.4), 0.5 alone (gap 0.5) -> 0.45
    // (both in the lower bin would give |0.5 - 0.45| = 0.05).
    double c2[] = {0.4, 0.5}, k2[] = {0, 1};
    CHECK(NEAR(metric_ece(c2, k2, 2, 2), 0.45, 1e-12), "edge ece %g", metric_ece(c2, k2, 2, 2));
    double c3[] = {1.0}, k3[] = {0};
    CHECK(NEAR(metric_ece(c3, k3, 1, 10), 1.0, 1e-15), "confidence 1.0 %g",
          metric_ece(c3, k3, 1, 10));
    // NaN pairs are skipped: the same as the 4-item case.
    double cn[] = {0.1, NAN, 0.3, 0.8, 0.6, 0.9}, kn[] = {1, 1, 1, 0, NAN, 1};
    CHECK(NEAR(metric_ece(cn, kn, 6, 2), 0.575, 1e-12), "NaN ece %g", metric_ece(cn, kn, 6, 2));
    CHECK(isnan(metric_ece(cn + 1, kn + 1, 1, 2)), "no pair left is not NaN");
    double bad[] = {1.5};
    CHECK(metric_ece(bad, k3, 1, 2) == -1.0, "confidence 1.5 accepted");
    CHECK(metric_ece(conf, cor, 4, 0) == -1.0, "0 bins accepted");
}

static void test_parse_number(void) {
    struct { const char *s; double v; } ok[] = {
        {"579", 579}, {"-12", -12}, {"3.5", 3.5}, {"+7", 7}, {"007", 7}, {"-0.25", -0.25}, {"0", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = NAN;
        int rc = metric_parse_number(ok[i].s, &v);
        CHECK(rc == 0 && v == ok[i].v, "'%s' -> rc %d, %g", ok[i].s, rc, v);
    }
    char huge[420];
    huge[0] = '1';
    memset(huge + 1, '0', 400);
    huge[401] = '\0';
    const char *bad[] = {"", "12a", "1 2", " 12", "12 ", "1.", ".5", "-", "+", "1e3", "1.2.3",
                         "0x10", "inf", "nan", "--1", "1,000", huge};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42;
        int rc = metric_parse_number(bad[i], &v);
        CHECK(rc == -1 && v == 42, "'%.20s' accepted (rc %d, %g)", bad[i], rc, v);
    }
    double v = 42;
    CHECK(metric_parse_number(NULL, &v) == -1, "NULL accepted");
    // with white space around: GPT-3's completions (" 143", " -38097")
    CHECK(metric_parse_number_ws(" 143", &v) == 0 && v == 143, "' 143' -> %g", v);
    CHECK(metric_parse_number_ws(" -38097\n", &v) == 0 && v == -38097, "' -38097' -> %g", v);
    const char *bad_ws[] = {" ", "1 2", " 1e3", " - 5", "", huge};
    for (size_t i = 0; i < sizeof bad_ws / sizeof bad_ws[0]; i++) {
        v = 42;
        CHECK(metric_parse_number_ws(bad_ws[i], &v) == -1 && v == 42, "'%.20s' accepted", bad_ws[i]);
    }
}

static void test_numeric_errors(void) {
    CHECK(metric_abs_error(580, 579) == 1.0, "abs");
    CHECK(metric_abs_error(-3, 4) == 7.0, "abs across zero");
    CHECK(NEAR(metric_rel_error(580, 579), 1.0 / 579, 1e-15), "rel %g", metric_rel_error(580, 579));
    CHECK(NEAR(metric_rel_error(-10, 10), 2.0, 1e-15), "rel sign");
    CHECK(NEAR(metric_rel_error(0.5, 0), 0.5e12, 1e-3), "rel at zero target %g",
          metric_rel_error(0.5, 0));
    CHECK(metric_rel_error(0, 0) == 0.0, "rel both zero");
}

// Schaeffer et al.'s prediction from teacher-forced log-probabilities, each item raised to
// its own answer length: an fp64 reference written out by hand.
static void test_pred_tf(void) {
    const double s[3] = {-0.6, -1.0, -0.2};  // log p(target) of three items
    const int len[3] = {3, 4, 1};
    double p, pred = metric_pred_tf(s, len, NULL, 3, &p);
    double pref = exp(-1.8 / 8);  // exp(-CE): 1.8 nats over 8 answer tokens
    double ref = (pref * pref * pref + pref * pref * pref * pref + pref) / 3;
    CHECK(NEAR(p, pref, 1e-15) && NEAR(pred, ref, 1e-15), "p %.17g (want %.17g), pred %.17g "
          "(want %.17g)", p, pref, pred, ref);
    // each item's own length: one length for all (the longest, or the mean) gives another number
    CHECK(fabs(pred - pow(pref, 4)) > 0.05 && fabs(pred - pow(pref, 8.0 / 3)) > 1e-3,
          "pred %g vs fixed-L %g, %g", pred, pow(pref, 4), pow(pref, 8.0 / 3));
    // the same items at one length give p^L exactly
    const int same[3] = {2, 2, 2};
    double p2, pred2 = metric_pred_tf(s, same, NULL, 3, &p2);
    CHECK(NEAR(p2, exp(-1.8 / 6), 1e-15) && NEAR(pred2, p2 * p2, 1e-15), "one length: %g %g",
          p2, pred2);
    // a resample: item 0 twice and item 2; items without an answer are skipped
    const int idx[3] = {0, 0, 2};
    double pr = metric_pred_tf(s, len, idx, 3, &p);
    double q = exp(-1.4 / 7);
    CHECK(NEAR(p, q, 1e-15) && NEAR(pr, (2 * q * q * q + q) / 3, 1e-15), "resample %g %g", p, pr);
    const double s4[4] = {-0.6, NAN, -1.0, -0.2};
    const int l4[4] = {3, 2, 4, 0};
    pr = metric_pred_tf(s4, l4, NULL, 4, &p);
    q = exp(-1.6 / 7);
    CHECK(NEAR(pr, (q * q * q + q * q * q * q) / 2, 1e-15), "skipped items: %g", pr);
    CHECK(isnan(metric_pred_tf(s4, l4 + 3, NULL, 1, &p)) && isnan(p), "no item: %g", p);
}

// The independence check over positions, right-aligned numbers of 2 and 3 digits.
static void test_pred_indep(void) {
    // grid of 3 positions; item 0 has 2 digits (positions 1, 2), items 1 and 2 have 3
    const unsigned char hit[9] = {0, 1, 0, 1, 1, 1, 0, 1, 1};
    const int pos0[3] = {1, 0, 0}, len[3] = {2, 3, 3};
    PositionHits h = {hit, pos0, len, 3};
    double pbar, prod, pw = metric_pred_indep(&h, NULL, 3, &pbar, &prod);
    // acc = {1/2, 3/3, 2/3}; pbar = 6 hits / 8 tokens
    double ref_pw = (pow(0.75, 2) + 2 * pow(0.75, 3)) / 3;
    double ref_pr = (1.0 * 2 / 3 + 2 * (0.5 * 1.0 * 2 / 3)) / 3;  // = 4/9
    CHECK(NEAR(pbar, 0.75, 1e-15) && NEAR(pw, ref_pw, 1e-15) && NEAR(prod, ref_pr, 1e-15),
          "pbar %.17g pow %.17g (want %.17g) prod %.17g (want %.17g)", pbar, pw, ref_pw, prod,
          ref_pr);
    // one length for all (3, every position): what the per-item lengths replace
    double fixed_pr = 0.5 * 1.0 * 2 / 3, fixed_pw = pow((0.5 + 1.0 + 2.0 / 3) / 3, 3);
    CHECK(fabs(prod - fixed_pr) > 0.1 && fabs(pw - fixed_pw) > 0.05, "per-item L: %g %g vs "
          "fixed %g %g", prod, pw, fixed_pr, fixed_pw);
    // one length: prod <= pow (AM-GM), equal when every position has the same accuracy
    const unsigned char h2[6] = {1, 0, 1, 1, 0, 1};
    const int z[3] = {0, 0, 0}, two[3] = {2, 2, 2};
    PositionHits g = {h2, z, two, 2};
    pw = metric_pred_indep(&g, NULL, 3, &pbar, &prod);
    CHECK(NEAR(pbar, 4.0 / 6, 1e-15) && NEAR(pw, 4.0 / 9, 1e-15) &&
          NEAR(prod, 2.0 / 3 * 2.0 / 3, 1e-15), "equal positions %g %g", pw, prod);
    const unsigned char h3[6] = {1, 0, 1, 0, 1, 1};  // acc {1, 1/3}
    g.hit = h3;
    pw = metric_pred_indep(&g, NULL, 3, &pbar, &prod);
    CHECK(NEAR(prod, 1.0 / 3, 1e-15) && NEAR(pw, 4.0 / 9, 1e-15) && prod < pw,
          "AM-GM %g %g", prod, pw);
    const int idx[2] = {2, 2};  // a resample of item 2 alone: every position right
    pw = metric_pred_indep(&g, idx, 2, &pbar, &prod);
    CHECK(pw == 1.0 && prod == 1.0 && pbar == 1.0, "resample %g %g %g", pw, prod, pbar);
}

// A mean through metric_bootstrap: the draws, and so the interval, of metric_summarize.
static double mean_stat(const int *idx, int m, void *ctx) {
    const double *x = ctx;
    double s = 0.0;
    for (int j = 0; j < m; j++) s += x[idx ? idx[j] : j];
    return s / m;
}
static double nan_stat(const int *idx, int m, void *ctx) { return idx ? NAN : 1.0; }

// two statistics at once: the mean and the mean of squares (NaN on some resamples)
static double sq_stat(const int *idx, int m, void *ctx) {
    const double *x = ctx;
    double s = 0.0;
    for (int j = 0; j < m; j++) s += x[idx ? idx[j] : j] * x[idx ? idx[j] : j];
    return s / m > 0.3 ? NAN : s / m;
}
static void pair_stat(const int *idx, int m, void *ctx, double *vals) {
    vals[0] = mean_stat(idx, m, ctx);
    vals[1] = sq_stat(idx, m, ctx);
}

static void test_bootstrap_k(void) {
    double x[40];
    for (int i = 0; i < 40; i++) x[i] = (double)((i * 7 + 3) % 11) / 11.0;
    MetricSummary k[2], a, b;
    CHECK(metric_bootstrap_k(pair_stat, x, 2, 40, 500, 5, k) == 0, "%s", em_errmsg());
    metric_bootstrap(mean_stat, x, 40, 500, 5, &a);
    metric_bootstrap(sq_stat, x, 40, 500, 5, &b);
#define SAME(x, y) ((x).n == (y).n && (x).mean == (y).mean && (x).se == (y).se && \
                    (x).lo == (y).lo && (x).hi == (y).hi)
    CHECK(SAME(k[0], a) && SAME(k[1], b),
          "k=2: [%g, %g] se %g, [%g, %g] se %g vs alone [%g, %g] se %g, [%g, %g] se %g", k[0].lo,
          k[0].hi, k[0].se, k[1].lo, k[1].hi, k[1].se, a.lo, a.hi, a.se, b.lo, b.hi, b.se);
    CHECK(metric_bootstrap_k(pair_stat, x, 0, 40, 10, 5, k) == -1 && strstr(em_errmsg(), "k must"),
          "%s", "k = 0 accepted");
}

static void test_bootstrap(void) {
    double x[50];
    for (int i = 0; i < 50; i++) x[i] = (double)((i * 13 + 5) % 17) / 17.0;
    MetricSummary a, b;
    CHECK(metric_bootstrap(mean_stat, x, 50, 1000, 9, &a) == 0, "%s", em_errmsg());
    metric_summarize(x, 50, 1000, 9, &b);
    CHECK(a.n == 50 && NEAR(a.mean, b.mean, 1e-15) && NEAR(a.lo, b.lo, 1e-12) &&
          NEAR(a.hi, b.hi, 1e-12), "bootstrap [%g, %g] %g vs summarize [%g, %g] %g", a.lo, a.hi,
          a.mean, b.lo, b.hi, b.mean);
    CHECK(fabs(a.se - b.se) < 0.15 * b.se, "bootstrap se %g vs analytic %g", a.se, b.se);
    CHECK(metric_bootstrap(mean_stat, x, 50, 0, 9, &a) == 0 && isnan(a.lo) && isnan(a.se) &&
          NEAR(a.mean, b.mean, 1e-15), "n_boot 0: %g [%g, %g]", a.mean, a.lo, a.hi);
    CHECK(metric_bootstrap(mean_stat, x, 0, 100, 9, &a) == 0 && a.n == 0 && isnan(a.mean),
          "no items: %g", a.mean);
    CHECK(metric_bootstrap(nan_stat, x, 5, 100, 9, &a) == 0 && a.mean == 1.0 && isnan(a.lo) &&
          isnan(a.hi), "no finite resample: [%g, %g]", a.lo, a.hi);
    CHECK(metric_bootstrap(mean_stat, x, -1, 10, 1, &a) == -1 && strstr(em_errmsg(), "n must"),
          "n < 0 accepted");
    CHECK(metric_bootstrap(mean_stat, x, 5, -1, 1, &a) == -1, "n_boot < 0 accepted");
}

static void test_summary_basic(void) {
    MetricSummary s;
    double x[] = {0, 1, 1, 0};
    CHECK(metric_summarize(x, 4, 1000, 7, &s) == 0, "summarize failed");
    CHECK(s.n == 4 && s.mean == 0.5, "n %d mean %g", s.n, s.mean);
    // sd = sqrt(4 * 0.25 / 3) = sqrt(1/3); se = sd / 2.
    CHECK(NEAR(s.se, sqrt(1.0 / 3.0) / 2.0, 1e-15), "se %.17g", s.se);
    CHECK(s.lo <= s.mean && s.mean <= s.hi, "interval [%g, %g] misses the mean", s.lo, s.hi);
    CHECK(s.lo >= 0 && s.hi <= 1 && s.lo < s.hi, "interval [%g, %g]", s.lo, s.hi);

    double y[] = {1, NAN, 3};  // NaN skipped: mean 2, sd sqrt(2), se 1
    CHECK(metric_summarize(y, 3, 200, 1, &s) == 0, "summarize with NaN failed");
    CHECK(s.n == 2 && s.mean == 2.0 && NEAR(s.se, 1.0, 1e-15), "n %d mean %g se %g",
          s.n, s.mean, s.se);

    double one[] = {0.7};
    CHECK(metric_summarize(one, 1, 100, 1, &s) == 0, "single value failed");
    CHECK(s.n == 1 && s.mean == 0.7 && s.se == 0.0 && s.lo == 0.7 && s.hi == 0.7,
          "single: n %d mean %g se %g [%g, %g]", s.n, s.mean, s.se, s.lo, s.hi);

    double nans[] = {NAN, NAN};
    CHECK(metric_summarize(nans, 2, 100, 1, &s) == 0, "all NaN failed");
    CHECK(s.n == 0 && isnan(s.mean) && isnan(s.se) && isnan(s.lo), "all NaN: n %d mean %g",
          s.n, s.mean);
    CHECK(metric_summarize(x, 4, 0, 1, &s) == 0 && isnan(s.lo) && isnan(s.hi) && s.mean == 0.5,
          "n_boot 0: [%g, %g]", s.lo, s.hi);
    CHECK(metric_summarize(x, -1, 10, 1, &s) == -1, "n < 0 accepted");
    CHECK(metric_summarize(x, 4, -1, 1, &s) == -1, "n_boot < 0 accepted");
}

static void test_summary_bootstrap(void) {
    double x[64];
    for (int i = 0; i < 64; i++) x[i] = (double)((i * i * 7 + 3) % 29) / 29.0;
    MetricSummary a, b, c;
    metric_summarize(x, 64, 1000, 123, &a);
    metric_summarize(x, 64, 1000, 123, &b);
    metric_summarize(x, 64, 1000, 124, &c);
    CHECK(a.lo == b.lo && a.hi == b.hi, "same seed, different interval");
    CHECK(a.lo != c.lo || a.hi != c.hi, "the seed does not change the draws");
    CHECK(a.lo < a.mean && a.mean < a.hi, "[%g, %g] misses %g", a.lo, a.hi, a.mean);

    // {0,1,1,0} repeated: the interval narrows with n, and for n = 400 its width is close to
    // the normal approximation 2 * 1.96 * se.
    static double big[400];
    for (int i = 0; i < 400; i++) big[i] = (i % 4 == 1 || i % 4 == 2);
    MetricSummary s16, s400;
    metric_summarize(big, 16, 2000, 5, &s16);
    metric_summarize(big, 400, 2000, 5, &s400);
    double w16 = s16.hi - s16.lo, w400 = s400.hi - s400.lo;
    CHECK(w400 < w16 / 3, "width %g at n=400 vs %g at n=16", w400, w16);
    double wn = 2 * 1.96 * s400.se;
    CHECK(fabs(w400 - wn) < 0.15 * wn, "bootstrap width %g vs normal %g", w400, wn);
    CHECK(s400.lo <= 0.5 && 0.5 <= s400.hi, "[%g, %g] misses 0.5", s400.lo, s400.hi);
}

int main(void) {
    RUN(test_exact);
    RUN(test_aligned);
    RUN(test_edit_distance);
    RUN(test_logprob);
    RUN(test_multiple_choice);
    RUN(test_brier);
    RUN(test_ece);
    RUN(test_parse_number);
    RUN(test_numeric_errors);
    RUN(test_pred_tf);
    RUN(test_pred_indep);
    RUN(test_bootstrap);
    RUN(test_bootstrap_k);
    RUN(test_summary_basic);
    RUN(test_summary_bootstrap);
    return test_summary();
}
