// report/axes: ranges from the data, tick marks for log axes, where the legend goes.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_impl.h"

#define PAD 0.03   // each side, as a fraction of the span (of log10 on a log axis)

int rp_ok(double v, int log) { return isfinite(v) && (!log || v > 0); }

static double fwd(double v, int log) { return log ? log10(v) : v; }
static double inv(double t, int log) { return log ? pow(10, t) : t; }

// A range of transformed values (log10 on a log axis) made non-empty, padded, mapped back.
static RpRange finish(double lo, double hi, int have, int log, int pad_lo, int pad_hi) {
    RpRange r = {0, 1, log};
    if (!have) { lo = 0; hi = 1; pad_lo = pad_hi = 0; }
    if (hi < lo) { double t = lo; lo = hi; hi = t; }
    if (hi == lo) {
        double d = log ? 0.3 : (lo != 0 ? fabs(lo) * 0.1 : 0.5);
        lo -= d, hi += d;
    }
    double span = hi - lo;
    if (pad_lo) lo -= PAD * span;
    if (pad_hi) hi += PAD * span;
    r.lo = inv(lo, log);
    r.hi = inv(hi, log);
    return r;
}

RpRange rp_range_x(const Figure *figs, int n) {
    int log = n > 0 && figs[0].logx, have = 0;
    double lo = 0, hi = 0;
    for (int p = 0; p < n; p++)
        for (int i = 0; i < figs[p].n_series; i++) {
            const Series *s = &figs[p].series[i];
            for (int k = 0; k < s->n; k++) {
                if (!rp_ok(s->x[k], log) || !rp_ok(s->y[k], figs[p].logy)) continue;
                double t = fwd(s->x[k], log);
                if (!have || t < lo) lo = t;
                if (!have || t > hi) hi = t;
                have = 1;
            }
        }
    return finish(lo, hi, have, log, 1, 1);
}

RpRange rp_range_y(const Figure *f) {
    int log = f->logy, have = 0;
    int fix_lo = rp_ok(f->ymin, log), fix_hi = rp_ok(f->ymax, log);
    if (fix_lo && fix_hi && !(f->ymin < f->ymax)) fix_lo = fix_hi = 0;
    double lo = 0, hi = 0;
    for (int i = 0; i < f->n_series; i++) {
        const Series *s = &f->series[i];
        for (int k = 0; k < s->n; k++) {
            if (!rp_ok(s->x[k], f->logx) || !rp_ok(s->y[k], log)) continue;
            double v[3] = {s->y[k], s->ylo ? s->ylo[k] : NAN, s->yhi ? s->yhi[k] : NAN};
            for (int j = 0; j < 3; j++) {
                if (!rp_ok(v[j], log)) continue;
                double t = fwd(v[j], log);
                if (!have || t < lo) lo = t;
                if (!have || t > hi) hi = t;
                have = 1;
            }
        }
    }
    if (fix_lo) lo = fwd(f->ymin, log);
    if (fix_hi) hi = fwd(f->ymax, log);
    if (!have && (fix_lo != fix_hi)) {   // one bound fixed, no data: a unit span from it
        if (fix_lo) hi = lo + 1;
        else lo = hi - 1;
    }
    if ((fix_lo || fix_hi) && !(lo < hi)) {   // the fixed bound is beyond all the data
        if (fix_lo) hi = lo + (log ? 1 : fabs(lo) > 0 ? fabs(lo) : 1);
        else lo = hi - (log ? 1 : fabs(hi) > 0 ? fabs(hi) : 1);
    }
    // A fixed range is padded too, so that a point at ymax = 1 does not sit on the frame.
    return finish(lo, hi, have || fix_lo || fix_hi, log, 1, 1);
}

// One entry of a gnuplot tic list: ("label" value level), level 1 = a minor tic.
static void tic(FILE *o, int *n, double v, int k, double m, int label, int level) {
    fputs(*n ? ", " : "", o);
    (*n)++;
    if (!label) fputs("\"\"", o);
    else if (k >= -2 && k <= 3) fprintf(o, "\"%g\"", v);
    else if (fabs(m - 1) < 1e-9) fprintf(o, "\"10^{%d}\"", k);
    else fprintf(o, "\"%g×10^{%d}\"", m, k);
    fprintf(o, " %.10g %d", v, level);
}

// Ticks for a log axis: powers of ten (every step-th when there are many, with minor tics
// at 2..9 between); within less than a decade, 1-2-5 multiples or even steps.
static void log_tics(FILE *o, const char *ind, char ax, double lo, double hi) {
    double a = log10(lo), b = log10(hi);
    int k0 = (int)ceil(a - 1e-9), k1 = (int)floor(b + 1e-9), n = 0;
    fprintf(o, "%sset %ctics (", ind, ax);
    if (k1 > k0) {
        int step = 1 + (k1 - k0) / 8;
        for (int k = k0; k <= k1; k++)
            if ((k - k0) % step == 0) tic(o, &n, pow(10, k), k, 1, 1, 0);
        if (step == 1)
            for (int k = k0 - 1; k <= k1; k++)
                for (int m = 2; m <= 9; m++) {
                    double v = m * pow(10, k);
                    if (v >= lo && v <= hi) tic(o, &n, v, k, m, 0, 1);
                }
    } else {
        // Less than a decade: 1-2-5 multiples when they give three ticks, else "nice" even
        // steps (1, 2 or 5 times a power of ten) as on a linear axis.
        static const int m125[] = {1, 2, 5};
        int cnt = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int k = (int)floor(a) - 1; k <= (int)ceil(b); k++)
                for (int j = 0; j < 3; j++) {
                    double v = m125[j] * pow(10, k);
                    if (!(v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12))) continue;
                    if (pass == 0) cnt++;
                    else if (cnt >= 3) tic(o, &n, v, k, m125[j], 1, 0);
                }
        if (cnt < 3) {
            double raw = (hi - lo) / 4, p = pow(10, floor(log10(raw))), m = raw / p;
            double step = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
            for (double j = ceil(lo / step - 1e-9); j * step <= hi * (1 + 1e-12); j++) {
                double v = j * step;
                int k = (int)floor(log10(v) + 1e-9);
                tic(o, &n, v, k, v / pow(10, k), 1, 0);
            }
        }
    }
    fputs(")\n", o);
}

void rp_axis(FILE *o, const char *ind, char ax, const RpRange *r) {
    if (r->log) fprintf(o, "%sset logscale %c 10\n", ind, ax);
    else fprintf(o, "%sunset logscale %c\n", ind, ax);
    fprintf(o, "%sset %crange [%.10g:%.10g]\n", ind, ax, r->lo, r->hi);
    if (r->log) {
        log_tics(o, ind, ax, r->lo, r->hi);
    } else {
        fprintf(o, "%sset %ctics autofreq\n%sset format %c '%% h'\n%sunset m%ctics\n", ind, ax,
                ind, ax, ind, ax);
    }
}

// Where a value lands across the plot, 0..1.
static double frac(double v, const RpRange *r) {
    double a = fwd(r->lo, r->log), b = fwd(r->hi, r->log);
    return (fwd(v, r->log) - a) / (b - a);
}

static void count_at(int *cnt, double u, double v, double kw, double kh) {
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return;
    int left = u < kw, right = u > 1 - kw, top = v > 1 - kh, bottom = v < kh;
    if (top && left) cnt[0]++;
    if (top && right) cnt[1]++;
    if (bottom && left) cnt[2]++;
    if (bottom && right) cnt[3]++;
}

int rp_best_corner(const Figure *f, const int *block, const RpRange *xr, const RpRange *yr,
                   double plot_w, double plot_h, int *hits) {
    // The legend's box in pixels at 12 pt, as gnuplot draws it: about 8.8 px a character,
    // 65 px of sample line and margins, 21 px a row; then as a fraction of the plot.
    int entries = 0, chars = 0;
    for (int i = 0; i < f->n_series; i++) {
        const char *l = f->series[i].label;
        if (block[i] < 0 || !l || !*l) continue;
        entries++;
        int c = 0;
        for (const unsigned char *p = (const unsigned char *)l; *p; p++) c += (*p & 0xC0) != 0x80;
        if (c > chars) chars = c;
    }
    double kw = (8.8 * chars + 65) / plot_w, kh = (21.0 * entries + 12) / plot_h;
    int cnt[4] = {0, 0, 0, 0};
    for (int i = 0; i < f->n_series; i++) {
        const Series *s = &f->series[i];
        if (block[i] < 0) continue;
        double pu = NAN, pv = NAN;
        for (int k = 0; k < s->n; k++) {
            if (!rp_ok(s->x[k], f->logx) || !rp_ok(s->y[k], f->logy)) continue;
            double u = frac(s->x[k], xr), v = frac(s->y[k], yr);
            count_at(cnt, u, v, kw, kh);
            if (s->ylo) {
                if (rp_ok(s->ylo[k], f->logy)) count_at(cnt, u, frac(s->ylo[k], yr), kw, kh);
                if (rp_ok(s->yhi[k], f->logy)) count_at(cnt, u, frac(s->yhi[k], yr), kw, kh);
            }
            if (s->style != SERIES_POINTS && isfinite(pu))   // the segment from the last point
                for (int j = 1; j < 8; j++)
                    count_at(cnt, pu + (u - pu) * j / 8, pv + (v - pv) * j / 8, kw, kh);
            pu = u, pv = v;
        }
    }
    static const int pref[4] = {0, 1, 3, 2};   // ties: top left, top right, bottom right, ...
    int best = pref[0];
    for (int j = 1; j < 4; j++)
        if (cnt[pref[j]] < cnt[best]) best = pref[j];
    if (hits) *hits = cnt[best];
    return best;
}
