// eval/metrics: per-item scores and their aggregation (see metrics.h for the definitions).
#include "eval/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

// ---- string and token matches ---------------------------------------------

double metric_exact(const int *resp, int nr, const int *tgt, int nt) {
    if (nr != nt) return 0.0;
    for (int i = 0; i < nt; i++)
        if (resp[i] != tgt[i]) return 0.0;
    return 1.0;
}

int metric_aligned_hits(const int *resp, int nr, const int *tgt, int nt, int *hit_per_pos) {
    int hits = 0;
    for (int i = 0; i < nt; i++) {
        int h = i < nr && resp[i] == tgt[i];
        if (hit_per_pos) hit_per_pos[i] = h;
        hits += h;
    }
    return hits;
}

int metric_aligned_hits_right(const int *resp, int nr, const int *tgt, int nt, int *hit_per_pos) {
    int hits = 0;
    for (int i = 0; i < nt; i++) {
        int j = nr - nt + i;  // the response token under target position i, right-aligned
        int h = j >= 0 && resp[j] == tgt[i];
        if (hit_per_pos) hit_per_pos[i] = h;
        hits += h;
    }
    return hits;
}

int metric_edit_distance(const int *a, int na, const int *b, int nb) {
    if (na < 0 || nb < 0)
        return em_error("metric_edit_distance: lengths must be >= 0, got %d and %d", na, nb);
    if (nb > na) {  // keep the rows as short as the shorter sequence
        const int *t = a; a = b; b = t;
        int tn = na; na = nb; nb = tn;
    }
    if (nb == 0) return na;
    // prev[j] = distance between a[0..i-1] and b[0..j-1]; cur is row i+1.
    int *prev = xmalloc(2 * (size_t)(nb + 1) * sizeof(int));
    int *cur = prev + nb + 1;
    for (int j = 0; j <= nb; j++) prev[j] = j;
    for (int i = 0; i < na; i++) {
        cur[0] = i + 1;
        for (int j = 0; j < nb; j++) {
            int sub = prev[j] + (a[i] != b[j]);
            int del = prev[j + 1] + 1;
            int ins = cur[j] + 1;
            int m = sub < del ? sub : del;
            cur[j + 1] = m < ins ? m : ins;
        }
        int *t = prev; prev = cur; cur = t;
    }
    int d = prev[nb];
    free(prev < cur ? prev : cur);  // the block starts at the lower of the two rows
    return d;
}

double metric_edit_distance_norm(const int *a, int na, const int *b, int nb) {
    int d = metric_edit_distance(a, na, b, nb);
    if (d < 0) return -1.0;
    int m = na > nb ? na : nb;
    return m == 0 ? 0.0 : (double)d / m;
}

// ---- teacher-forced probabilities -----------------------------------------

double metric_target_logprob(const double *logp, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += logp[i];
    return s;
}

double metric_mean_token_prob(const double *logp, int n) {
    if (n <= 0) return NAN;
    double s = 0.0;
    for (int i = 0; i < n; i++) s += exp(logp[i]);
    return s / n;
}

// ---- multiple choice --------------------------------------------------------

int metric_mc_pick(const double *choice_ll, int n) {
    int best = -1;
    for (int k = 0; k < n; k++) {
        if (isnan(choice_ll[k])) continue;
        if (best < 0 || choice_ll[k] > choice_ll[best]) best = k;  // strict: ties to the first
    }
    return best;
}

double metric_mc_grade(int pick, int correct) {
    return pick >= 0 && pick == correct ? 1.0 : 0.0;
}

double metric_mc_grade_scores(int pick, const double *scores, int n) {
    return pick >= 0 && pick < n ? scores[pick] : 0.0;
}

double metric_brier(const double *choice_ll, int n, int correct) {
    if (n <= 0)
        return em_error("metric_brier: need at least one choice, got %d", n);
    if (correct < 0 || correct >= n)
        return em_error("metric_brier: correct choice %d is not in [0, %d)", correct, n);
    double mx = -INFINITY;
    for (int k = 0; k < n; k++) if (choice_ll[k] > mx) mx = choice_ll[k];
    if (!isfinite(mx))
        return em_error("metric_brier: the choice log-likelihoods have no finite maximum");
    double z = 0.0;  // softmax with the maximum subtracted, so exp never overflows
    for (int k = 0; k < n; k++) z += exp(choice_ll[k] - mx);
    double s = 0.0;
    for (int k = 0; k < n; k++) {
        double d = exp(choice_ll[k] - mx) / z - (k == correct);
        s += d * d;
    }
    return s;
}

double metric_ece(const double *confidence, const double *correct, int n, int bins) {
    if (bins < 1) return em_error("metric_ece: bins must be >= 1, got %d", bins);
    for (int i = 0; i < n; i++) {
        double c = confidence[i];
        if (!isnan(c) && (c < 0.0 || c > 1.0))
            return em_error("metric_ece: confidence[%d] = %g is outside [0, 1]", i, c);
    }
    // Per bin: count, sum of confidences, sum of correctness.
    double *acc = xcalloc(3 * (size_t)bins, sizeof(double));
    double *cnt = acc, *sconf = acc + bins, *scor = acc + 2 * bins;
    int used = 0;
    for (int i = 0; i < n; i++) {
        if (isnan(confidence[i]) || isnan(correct[i])) continue;
        int b = (int)(confidence[i] * bins);
        if (b >= bins) b = bins - 1;  // confidence 1.0 belongs to the last bin
        cnt[b] += 1.0; sconf[b] += confidence[i]; scor[b] += correct[i];
        used++;
    }
    double ece = used ? 0.0 : NAN;
    for (int b = 0; b < bins && used; b++)
        if (cnt[b] > 0) ece += (cnt[b] / used) * fabs(scor[b] / cnt[b] - sconf[b] / cnt[b]);
    free(acc);
    return ece;
}

// ---- numeric answers --------------------------------------------------------

int metric_parse_number(const char *s, double *out) {
    if (!s) return -1;
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    const char *d0 = p;
    while (*p >= '0' && *p <= '9') p++;
    if (p == d0) return -1;  // at least one digit before any point
    if (*p == '.') {
        const char *f0 = ++p;
        while (*p >= '0' && *p <= '9') p++;
        if (p == f0) return -1;  // and at least one after it
    }
    if (*p != '\0') return -1;
    // The text is now known to be [sign]digits[.digits]; strtod gives the correctly rounded
    // value (the C locale's '.' is assumed: the project never calls setlocale).
    char *end;
    double v = strtod(s, &end);
    if (end != p || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int metric_parse_number_ws(const char *s, double *out) {
    if (!s) return -1;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    char buf[256];
    if (n >= sizeof buf) return -1;  // not a number an answer holds
    memcpy(buf, s, n);
    buf[n] = 0;
    return metric_parse_number(buf, out);
}

double metric_abs_error(double pred, double tgt) { return fabs(pred - tgt); }

double metric_rel_error(double pred, double tgt) {
    double den = fabs(tgt);
    if (den < 1e-12) den = 1e-12;
    return fabs(pred - tgt) / den;
}

// ---- exact match predicted from per-token quantities --------------------------

double metric_pred_tf(const double *sum_logp, const int *len, const int *idx, int m,
                      double *p_tok) {
    double s = 0.0, n = 0.0;
    for (int j = 0; j < m; j++) {
        int i = idx ? idx[j] : j;
        if (len[i] <= 0 || isnan(sum_logp[i])) continue;
        s += sum_logp[i];
        n += len[i];
    }
    double lp = n > 0 ? s / n : NAN;  // log p: minus the pooled cross-entropy per token
    if (p_tok) *p_tok = exp(lp);
    if (!(n > 0)) return NAN;
    double pred = 0.0;
    int c = 0;
    for (int j = 0; j < m; j++) {
        int i = idx ? idx[j] : j;
        if (len[i] <= 0 || isnan(sum_logp[i])) continue;
        pred += exp(len[i] * lp);  // p^L_i
        c++;
    }
    return pred / c;
}

double metric_pred_indep(const PositionHits *h, const int *idx, int m, double *pbar,
                         double *pred_prod) {
    int P = h->n_pos;
    double *cnt = xcalloc(2 * (size_t)(P > 0 ? P : 1), sizeof(double)), *hits = cnt + P;
    double th = 0.0, tl = 0.0;
    for (int j = 0; j < m; j++) {
        int i = idx ? idx[j] : j;
        for (int q = h->pos0[i]; q < h->pos0[i] + h->len[i]; q++) {
            cnt[q] += 1.0;
            hits[q] += h->hit[(size_t)i * P + q];
        }
        if (h->len[i] > 0) tl += h->len[i];
    }
    for (int q = 0; q < P; q++) th += hits[q];
    double pb = tl > 0 ? th / tl : NAN, pw = 0.0, pr = 0.0;
    int c = 0;
    // items by answer length (at most P positions): pb^L once per length, not per item
    int *by_len = xcalloc((size_t)P + 1, sizeof(int));
    for (int j = 0; j < m && tl > 0; j++) {
        int i = idx ? idx[j] : j;
        if (h->len[i] <= 0) continue;
        double prod = 1.0;
        for (int q = h->pos0[i]; q < h->pos0[i] + h->len[i]; q++) prod *= hits[q] / cnt[q];
        by_len[h->len[i] <= P ? h->len[i] : P]++;
        pr += prod;
        c++;
    }
    for (int L = 1; L <= P; L++)
        if (by_len[L]) pw += by_len[L] * pow(pb, L);
    free(by_len);
    free(cnt);
    if (pbar) *pbar = pb;
    if (pred_prod) *pred_prod = c ? pr / c : NAN;
    return c ? pw / c : NAN;
}

// ---- aggregation ------------------------------------------------------------

int metric_summarize(const double *x, int n, int n_boot, uint64_t seed, MetricSummary *out) {
    if (n < 0) return em_error("metric_summarize: n must be >= 0, got %d", n);
    if (n_boot < 0) return em_error("metric_summarize: n_boot must be >= 0, got %d", n_boot);
    out->mean = out->se = out->lo = out->hi = NAN;
    out->n = 0;
    // The values that count, in their order (the bootstrap draws index into this array).
    double *v = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) v[m++] = x[i];
    out->n = m;
    if (m == 0) { free(v); return 0; }
    double s = 0.0;
    for (int i = 0; i < m; i++) s += v[i];
    double mean = s / m;
    out->mean = mean;
    out->se = 0.0;
    if (m >= 2) {
        double ss = 0.0;
        for (int i = 0; i < m; i++) ss += (v[i] - mean) * (v[i] - mean);
        out->se = sqrt(ss / (m - 1)) / sqrt((double)m);
    }
    if (n_boot > 0) {
        double *bm = xmalloc((size_t)n_boot * sizeof(double));  // (n_boot,) resampled means
        Rng r;
        rng_seed(&r, seed);
        for (int b = 0; b < n_boot; b++) {
            double bs = 0.0;
            for (int i = 0; i < m; i++) bs += v[rng_below(&r, (uint32_t)m)];
            bm[b] = bs / m;
        }
        qsort(bm, (size_t)n_boot, sizeof(double), cmp_double);
        out->lo = quantile_sorted(bm, n_boot, 0.025);
        out->hi = quantile_sorted(bm, n_boot, 0.975);
        free(bm);
    }
    free(v);
    return 0;
}

int metric_bootstrap_k(MetricStatK stat, void *ctx, int k, int n, int n_boot, uint64_t seed,
                       MetricSummary *out) {
    if (n < 0) return em_error("metric_bootstrap: n must be >= 0, got %d", n);
    if (n_boot < 0) return em_error("metric_bootstrap: n_boot must be >= 0, got %d", n_boot);
    if (k < 1 || k > METRIC_STAT_MAX_K)
        return em_error("metric_bootstrap: k must be in 1..%d, got %d", METRIC_STAT_MAX_K, k);
    double vals[METRIC_STAT_MAX_K];
    for (int j = 0; j < k; j++) {
        out[j].mean = out[j].se = out[j].lo = out[j].hi = NAN;
        out[j].n = n;
    }
    if (n == 0) return 0;
    stat(NULL, n, ctx, vals);
    for (int j = 0; j < k; j++) out[j].mean = vals[j];
    int *idx = xmalloc((size_t)n * sizeof(int));
    size_t nb = (size_t)(n_boot > 0 ? n_boot : 1);
    double *bs = xmalloc((size_t)k * nb * sizeof(double));  // (k, n_boot)
    int nf[METRIC_STAT_MAX_K] = {0};
    Rng r;
    rng_seed(&r, seed);
    for (int b = 0; b < n_boot; b++) {
        for (int i = 0; i < n; i++) idx[i] = (int)rng_below(&r, (uint32_t)n);
        stat(idx, n, ctx, vals);
        for (int j = 0; j < k; j++)
            if (isfinite(vals[j])) bs[j * nb + nf[j]++] = vals[j];
    }
    for (int j = 0; j < k; j++) {
        double *x = bs + j * nb;
        int m = nf[j];
        if (m < 2) continue;
        double s = 0.0, ss = 0.0;
        for (int b = 0; b < m; b++) s += x[b];
        for (int b = 0; b < m; b++) ss += (x[b] - s / m) * (x[b] - s / m);
        out[j].se = sqrt(ss / (m - 1));
        qsort(x, (size_t)m, sizeof(double), cmp_double);
        out[j].lo = quantile_sorted(x, m, 0.025);
        out[j].hi = quantile_sorted(x, m, 0.975);
    }
    free(idx);
    free(bs);
    return 0;
}

// one statistic as a k = 1 MetricStatK
typedef struct { MetricStat f; void *ctx; } OneStat;
static void one_stat(const int *idx, int m, void *ctx, double *vals) {
    const OneStat *c = ctx;
    vals[0] = c->f(idx, m, c->ctx);
}

int metric_bootstrap(MetricStat stat, void *ctx, int n, int n_boot, uint64_t seed,
                     MetricSummary *out) {
    OneStat c = {stat, ctx};
    return metric_bootstrap_k(one_stat, &c, 1, n, n_boot, seed, out);
}
