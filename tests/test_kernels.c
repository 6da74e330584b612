// Kernel tests: every op of src/kernels/kernels.h against an fp64 reference written
// here with plain loops. Forwards are compared with the reference directly; backwards
// with central differences of the reference's objective sum(dout * ref_forward(x)),
// every gradient buffer prefilled with nonzero values so that accumulation (+=) is
// checked as well. Shapes are deliberately odd (7, 13, 5, T=1, one row, one column).
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/fastmath.h"
#include "kernels/kernels.h"
#include "test.h"

#define FWD_TOL 1e-5   // forward: max error relative to the reference's max magnitude
#define GRAD_TOL 1e-4  // backward: max error relative to the gradient's max magnitude
#define FD_EPS 1e-6    // central-difference step, in double
#define MAXS 256       // finite differences on at most this many entries of a big tensor

// ---- data: a fixed-seed xorshift64* -------------------------------------------------

static uint64_t rs = 1;
static uint64_t rnext(void) {
    rs ^= rs >> 12;
    rs ^= rs << 25;
    rs ^= rs >> 27;
    return rs * 2685821657736338717ull;
}
static void rseed(uint64_t s) {
    rs = s * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < 4; i++) rnext();
}
static double runif(double lo, double hi) {
    return lo + (hi - lo) * (double)(rnext() >> 11) * (1.0 / 9007199254740992.0);
}
static int rbelow(int n) { return (int)(rnext() % (uint64_t)n); }

// Every buffer of a case comes from here and is freed at the case's end (LeakSanitizer).
static void *allocs[512];
static int nallocs;
static void *talloc(size_t bytes) {
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p || nallocs == (int)(sizeof allocs / sizeof *allocs)) {
        fprintf(stderr, "test_kernels: out of memory\n");
        exit(2);
    }
    allocs[nallocs++] = p;
    return p;
}
static void tfree_all(void) {
    while (nallocs) free(allocs[--nallocs]);
}
static float *falloc(size_t n) { return talloc(n * sizeof(float)); }
static double *dalloc(size_t n) { return talloc(n * sizeof(double)); }
static float *ffill(size_t n, float v) {
    float *x = falloc(n);
    for (size_t i = 0; i < n; i++) x[i] = v;
    return x;
}
static float *frand(size_t n, double lo, double hi) {
    float *x = falloc(n);
    for (size_t i = 0; i < n; i++) x[i] = (float)runif(lo, hi);
    return x;
}
static float *fcopy(const float *x, size_t n) {
    float *y = falloc(n);
    memcpy(y, x, n * sizeof(float));
    return y;
}
static double *to_d(const float *x, size_t n) {
    double *y = dalloc(n);
    for (size_t i = 0; i < n; i++) y[i] = x[i];
    return y;
}
static double maxabs(const double *x, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

// ---- comparisons -------------------------------------------------------------------

// The last comparison's diagnostic; CHECKD prints it under the FAIL line.
static char diag[512];
#define CHECKD(cond, fmt, ...) CHECK(cond, fmt "\n    %s", __VA_ARGS__, diag)

// max |got - want| <= tol, NaN failing; prints the worst entry otherwise.
static int close_abs(const char *what, const float *got, const double *want, size_t n,
                     double tol) {
    double worst = 0.0;
    size_t wi = 0;
    int nan = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (e != e) { nan = 1; wi = i; break; }
        if (e > worst) { worst = e; wi = i; }
    }
    int ok = !nan && worst <= tol;
    diag[0] = 0;
    if (!ok)
        snprintf(diag, sizeof diag, "%s: max err %.3g at [%zu] (got %.9g, want %.9g), tol %.3g, n=%zu%s",
                what, nan ? NAN : worst, wi, n ? got[wi] : 0.0, n ? want[wi] : 0.0, tol, n,
                nan ? " (NaN)" : "");
    return ok;
}
static int close_rel(const char *what, const float *got, const double *want, size_t n,
                     double rtol) {
    double scale = maxabs(want, n);
    return close_abs(what, got, want, n, rtol * (scale > 1e-30 ? scale : 1e-30));
}
// entries of x that differ from zero
static int nonzeros(const float *x, size_t n) {
    int k = 0;
    for (size_t i = 0; i < n; i++) k += x[i] != 0.0f;
    return k;
}

// ---- finite differences of an fp64 reference ---------------------------------------

typedef void (*RefFn)(const void *ctx, double *out);
typedef struct {
    RefFn f;
    const void *ctx;
    const double *dout;  // (nout) the upstream gradient: objective = sum(dout * f(ctx))
    double *out;         // (nout) scratch
    size_t nout;
} Objective;

static double objective(const Objective *o) {
    o->f(o->ctx, o->out);
    double s = 0.0;
    for (size_t i = 0; i < o->nout; i++) s += o->dout[i] * o->out[i];
    return s;
}

// The gradient of one input tensor (n entries), at m of its entries (all when small).
typedef struct {
    size_t n, m;
    size_t *idx;  // (m) which entries
    double *g;    // (m) d objective / d x[idx[k]] by central differences
    float *pre;   // (n) what the kernel's gradient buffer held before the backward
} Grad;

// x points into the reference context's data; each entry is restored after its step.
static Grad fd_grad(const Objective *o, double *x, size_t n, size_t maxs) {
    Grad G = {.n = n, .m = n <= maxs ? n : maxs};
    G.idx = talloc(G.m * sizeof(size_t));
    G.g = dalloc(G.m);
    for (size_t k = 0; k < G.m; k++)
        G.idx[k] = G.m == n ? k : k == 0 ? 0 : k == 1 ? n - 1 : (size_t)(rnext() % n);
    for (size_t k = 0; k < G.m; k++) {
        size_t j = G.idx[k];
        double x0 = x[j];
        x[j] = x0 + FD_EPS;
        double lp = objective(o);
        x[j] = x0 - FD_EPS;
        double lm = objective(o);
        x[j] = x0;
        G.g[k] = (lp - lm) / (2.0 * FD_EPS);
    }
    return G;
}

// A gradient buffer prefilled with values of the gradient's own magnitude, so that a
// kernel that overwrites instead of accumulating fails the check by far.
static float *prefill(Grad *G) {
    double s = maxabs(G->g, G->m);
    if (s == 0.0) s = 1.0;
    float *buf = frand(G->n, -s, s);
    G->pre = fcopy(buf, G->n);
    return buf;
}

// got must equal pre + g at the sampled entries, within GRAD_TOL of max |g|.
static int check_grad(const char *what, const float *got, const Grad *G) {
    float *gg = falloc(G->m);
    double *want = dalloc(G->m);
    for (size_t k = 0; k < G->m; k++) {
        gg[k] = got[G->idx[k]];
        want[k] = (double)G->pre[G->idx[k]] + G->g[k];
    }
    double s = maxabs(G->g, G->m);
    int ok = close_abs(what, gg, want, G->m, GRAD_TOL * (s > 1e-30 ? s : 1e-30));
    size_t len = strlen(diag);
    if (!ok && G->m < G->n)
        snprintf(diag + len, sizeof diag - len, " (entries sampled: %zu of %zu)", G->m, G->n);
    return ok;
}

// ---- embedding ---------------------------------------------------------------------

typedef struct { int B, T, C; const int *inp; double *wte, *wpe; } EncCtx;

static void encoder_ref(const void *p, double *out) {
    const EncCtx *c = p;
    for (int bt = 0; bt < c->B * c->T; bt++)
        for (int i = 0; i < c->C; i++)
            out[(size_t)bt * c->C + i] = c->wte[(size_t)c->inp[bt] * c->C + i] +
                                         c->wpe[(size_t)(bt % c->T) * c->C + i];
}

// wpe has maxT >= T rows; the rows past T must get no gradient. repeat: ids repeat.
static void encoder_case(int B, int T, int C, int V, int maxT, int repeat) {
    int n = B * T;
    int *inp = talloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) inp[i] = rbelow(V);
    if (repeat) {
        inp[n - 1] = inp[0];
        if (n > 2) inp[n / 2] = inp[0];
    }
    float *wte = frand((size_t)V * C, -1, 1), *wpe = frand((size_t)maxT * C, -1, 1);
    EncCtx ctx = {B, T, C, inp, to_d(wte, (size_t)V * C), to_d(wpe, (size_t)maxT * C)};
    size_t no = (size_t)n * C;
    float *out = ffill(no, 123.0f);
    encoder_forward(out, inp, wte, wpe, B, T, C);
    double *ref = dalloc(no);
    encoder_ref(&ctx, ref);
    CHECKD(close_rel("encoder out", out, ref, no, FWD_TOL), "B=%d T=%d C=%d V=%d", B, T, C, V);

    float *dout = frand(no, -1, 1);
    Objective o = {encoder_ref, &ctx, to_d(dout, no), dalloc(no), no};
    Grad gwte = fd_grad(&o, ctx.wte, (size_t)V * C, MAXS * 4);
    Grad gwpe = fd_grad(&o, ctx.wpe, (size_t)maxT * C, MAXS * 4);
    float *dwte = prefill(&gwte), *dwpe = prefill(&gwpe);
    encoder_backward(dwte, dwpe, dout, inp, B, T, C);
    CHECKD(check_grad("encoder dwte", dwte, &gwte), "B=%d T=%d C=%d V=%d repeat=%d", B, T, C, V, repeat);
    CHECKD(check_grad("encoder dwpe", dwpe, &gwpe), "B=%d T=%d C=%d maxT=%d", B, T, C, maxT);
    tfree_all();
}

static void test_encoder(void) {
    rseed(1);
    encoder_case(2, 3, 7, 5, 4, 0);
    encoder_case(1, 1, 5, 3, 2, 0);
    encoder_case(3, 1, 13, 4, 1, 0);
    encoder_case(4, 9, 48, 65, 16, 0);
}

// repeated ids: the gradients of a repeated row add up
static void test_encoder_repeated_ids(void) {
    rseed(2);
    encoder_case(2, 5, 7, 6, 5, 1);
    encoder_case(1, 3, 4, 2, 3, 1);
    // every position the same token: one row of dwte gathers all B*T rows of dout
    int inp[6] = {3, 3, 3, 3, 3, 3}, B = 2, T = 3, C = 5, V = 4;
    float *dout = frand(6 * C, -1, 1), *dwte = frand((size_t)V * C, -1, 1);
    float *dwpe = frand((size_t)T * C, -1, 1);
    float *pte = fcopy(dwte, (size_t)V * C), *ppe = fcopy(dwpe, (size_t)T * C);
    encoder_backward(dwte, dwpe, dout, inp, B, T, C);
    double *want = dalloc((size_t)V * C), *wpe = dalloc((size_t)T * C);
    for (int i = 0; i < V * C; i++) want[i] = pte[i];
    for (int i = 0; i < T * C; i++) wpe[i] = ppe[i];
    for (int bt = 0; bt < B * T; bt++)
        for (int c = 0; c < C; c++) {
            want[3 * C + c] += dout[bt * C + c];
            wpe[(bt % T) * C + c] += dout[bt * C + c];
        }
    CHECKD(close_abs("encoder dwte, one id", dwte, want, (size_t)V * C, 1e-6), "B=%d T=%d", B, T);
    CHECKD(close_abs("encoder dwpe, one id", dwpe, wpe, (size_t)T * C, 1e-6), "B=%d T=%d", B, T);
    tfree_all();
}

// ---- layernorm ---------------------------------------------------------------------

typedef struct { int N, C; double *inp, *w, *b, *mean, *rstd; } LnCtx;

static void layernorm_ref(const void *p, double *out) {
    const LnCtx *c = p;
    for (int i = 0; i < c->N; i++) {
        const double *x = c->inp + (size_t)i * c->C;
        double m = 0.0, v = 0.0;
        for (int j = 0; j < c->C; j++) m += x[j];
        m /= c->C;
        for (int j = 0; j < c->C; j++) v += (x[j] - m) * (x[j] - m);
        v /= c->C;
        double s = 1.0 / sqrt(v + 1e-5);
        for (int j = 0; j < c->C; j++) out[(size_t)i * c->C + j] = (x[j] - m) * s * c->w[j] + c->b[j];
        if (c->mean) c->mean[i] = m;
        if (c->rstd) c->rstd[i] = s;
    }
}

static void layernorm_case(int N, int C, size_t maxs) {
    size_t n = (size_t)N * C;
    float *inp = frand(n, -1.5, 2.5), *w = frand(C, -1.5, 1.5), *b = frand(C, -1, 1);
    for (int i = 0; i < N; i++)  // rows of different scales
        for (int j = 0; j < C; j++) inp[(size_t)i * C + j] *= (float)(0.2 + 0.3 * (i % 5));
    double *rmean = dalloc(N), *rrstd = dalloc(N), *ref = dalloc(n);
    LnCtx ctx = {N, C, to_d(inp, n), to_d(w, C), to_d(b, C), rmean, rrstd};
    layernorm_ref(&ctx, ref);
    float *out = ffill(n, 123.0f), *mean = ffill(N, 123.0f), *rstd = ffill(N, 123.0f);
    layernorm_forward(out, mean, rstd, inp, w, b, N, C);
    CHECKD(close_rel("layernorm out", out, ref, n, FWD_TOL), "N=%d C=%d", N, C);
    CHECKD(close_rel("layernorm mean", mean, rmean, N, FWD_TOL), "N=%d C=%d", N, C);
    CHECKD(close_rel("layernorm rstd", rstd, rrstd, N, FWD_TOL), "N=%d C=%d", N, C);

    ctx.mean = ctx.rstd = NULL;
    float *dout = frand(n, -1, 1);
    Objective o = {layernorm_ref, &ctx, to_d(dout, n), dalloc(n), n};
    Grad gi = fd_grad(&o, ctx.inp, n, maxs), gw = fd_grad(&o, ctx.w, C, maxs),
         gb = fd_grad(&o, ctx.b, C, maxs);
    float *dinp = prefill(&gi), *dw = prefill(&gw), *db = prefill(&gb);
    layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd, N, C, 0);
    CHECKD(check_grad("layernorm dinp", dinp, &gi), "N=%d C=%d", N, C);
    CHECKD(check_grad("layernorm dw", dw, &gw), "N=%d C=%d", N, C);
    CHECKD(check_grad("layernorm db", db, &gb), "N=%d C=%d", N, C);
    tfree_all();
}

static void test_layernorm(void) {
    rseed(3);
    layernorm_case(5, 7, 1 << 20);
    layernorm_case(1, 13, 1 << 20);
    layernorm_case(3, 2, 1 << 20);
    layernorm_case(33, 48, 1 << 20);  // 1584 entries: all of them
    layernorm_case(9, 37, 1 << 20);   // two 16-lane chunks and a tail
    layernorm_case(3, 100, 1 << 20);
    layernorm_case(4, 31, 1 << 20);   // the widest row of plain sums
    layernorm_case(4, 32, 1 << 20);   // the narrowest in lanes
}

// ---- linear ------------------------------------------------------------------------

typedef struct { int N, C, OC; double *inp, *w, *bias; const double *out0; } MmCtx;

static void matmul_ref(const void *p, double *out) {
    const MmCtx *c = p;
    for (int i = 0; i < c->N; i++)
        for (int o = 0; o < c->OC; o++) {
            double s = c->out0 ? c->out0[(size_t)i * c->OC + o] : 0.0;
            if (c->bias) s += c->bias[o];
            for (int k = 0; k < c->C; k++) s += c->inp[(size_t)i * c->C + k] * c->w[(size_t)k * c->OC + o];
            out[(size_t)i * c->OC + o] = s;
        }
}

// use_bias: a bias (else NULL); accumulate: out += ...; nulls: backward with dinp and
// dbias NULL. When the finite differences are sampled, an analytic fp64 gradient checks
// every entry too.
static void matmul_case(int N, int C, int OC, int use_bias, int accumulate, int nulls,
                        size_t maxs) {
    size_t ni = (size_t)N * C, nw = (size_t)C * OC, no = (size_t)N * OC;
    float *inp = frand(ni, -1, 1), *w = frand(nw, -1, 1);
    float *bias = use_bias ? frand(OC, -1, 1) : NULL;
    float *out = accumulate ? frand(no, -2, 2) : ffill(no, 123.0f);
    MmCtx ctx = {N, C, OC, to_d(inp, ni), to_d(w, nw), bias ? to_d(bias, OC) : NULL,
                 accumulate ? to_d(out, no) : NULL};
    double *ref = dalloc(no);
    matmul_ref(&ctx, ref);
    matmul_forward(out, inp, w, bias, N, C, OC, accumulate);
    CHECKD(close_rel("matmul out", out, ref, no, FWD_TOL), "N=%d C=%d OC=%d bias=%d accumulate=%d",
          N, C, OC, use_bias, accumulate);

    ctx.out0 = NULL;
    float *dout = frand(no, -1, 1);
    double *doutd = to_d(dout, no);
    Objective o = {matmul_ref, &ctx, doutd, dalloc(no), no};
    Grad gi = fd_grad(&o, ctx.inp, ni, maxs), gw = fd_grad(&o, ctx.w, nw, maxs), gb = {0};
    if (bias) gb = fd_grad(&o, ctx.bias, OC, maxs);
    float *dinp = prefill(&gi), *dw = prefill(&gw), *dbias = bias ? prefill(&gb) : NULL;
    matmul_backward(nulls ? NULL : dinp, dw, nulls ? NULL : dbias, dout, inp, w, N, C, OC);
    CHECKD(check_grad("matmul dw", dw, &gw), "N=%d C=%d OC=%d nulls=%d", N, C, OC, nulls);
    if (!nulls) {
        CHECKD(check_grad("matmul dinp", dinp, &gi), "N=%d C=%d OC=%d", N, C, OC);
        if (bias) CHECKD(check_grad("matmul dbias", dbias, &gb), "N=%d C=%d OC=%d", N, C, OC);
    }
    if (gi.m < ni || gw.m < nw) {
        double *wi = dalloc(ni), *ww = dalloc(nw), *wb = dalloc(OC);
        for (size_t k = 0; k < ni; k++) wi[k] = gi.pre[k];
        for (size_t k = 0; k < nw; k++) ww[k] = gw.pre[k];
        for (int i = 0; i < N; i++)
            for (int oc = 0; oc < OC; oc++) {
                double d = doutd[(size_t)i * OC + oc];
                for (int k = 0; k < C; k++) {
                    wi[(size_t)i * C + k] += d * ctx.w[(size_t)k * OC + oc];
                    ww[(size_t)k * OC + oc] += d * ctx.inp[(size_t)i * C + k];
                }
                wb[oc] += d;
            }
        CHECKD(close_rel("matmul dw (all, analytic)", dw, ww, nw, GRAD_TOL),
              "N=%d C=%d OC=%d", N, C, OC);
        if (!nulls) {
            CHECKD(close_rel("matmul dinp (all, analytic)", dinp, wi, ni, GRAD_TOL),
                  "N=%d C=%d OC=%d", N, C, OC);
            if (bias) {
                for (int oc = 0; oc < OC; oc++) wb[oc] += gb.pre[oc];
                CHECKD(close_rel("matmul dbias (all, analytic)", dbias, wb, OC, GRAD_TOL),
                      "N=%d C=%d OC=%d", N, C, OC);
            }
        }
    }
    tfree_all();
}

static void test_matmul(void) {
    rseed(4);
    matmul_case(5, 7, 13, 1, 0, 0, 1 << 20);
    matmul_case(1, 7, 13, 1, 0, 0, 1 << 20);  // one row
    matmul_case(5, 7, 1, 1, 0, 0, 1 << 20);   // one output column
    matmul_case(3, 1, 5, 1, 0, 0, 1 << 20);   // one input column
    matmul_case(33, 48, 96, 1, 0, 0, MAXS / 2);
}

static void test_matmul_accumulate(void) {
    rseed(5);
    matmul_case(5, 7, 13, 1, 1, 0, 1 << 20);
    matmul_case(5, 7, 13, 0, 1, 0, 1 << 20);
    matmul_case(17, 24, 40, 1, 1, 0, MAXS);
}

// Decoding's bands: gemv_band (the rows of a band's four quarters side by side, then the
// rows left over) and dot_rows (the same order of rows), against fp64 sums, on bands shorter
// than four rows, with and without a remainder, and not starting at 0.
static void test_decode_bands(void) {
    rseed(12);
    // gemv_band: bands of 1-3 rows (no quarter), odd and even quarters (pairs of rows and a
    // last single one), remainders
    int C = 45, OC = 19;
    int bands[][2] = {{0, 1}, {0, 3}, {0, 4}, {5, 12}, {3, 43}, {7, 45}, {0, 45}, {44, 45}};
    float *w = frand((size_t)C * OC, -1, 1), *x = frand(C, -1, 1), *part = falloc(OC);
    float *wt = frand((size_t)OC * C, -1, 1), *y = ffill(OC, NAN);
    double worst = 0.0;
    for (size_t b = 0; b < sizeof bands / sizeof bands[0]; b++) {
        int lo = bands[b][0], hi = bands[b][1];
        gemv_band(part, x, w, lo, hi, OC);
        for (int o = 0; o < OC; o++) {
            double r = 0.0;
            for (int c = lo; c < hi; c++) r += (double)x[c] * w[(size_t)c * OC + o];
            worst = fmax(worst, fabs(part[o] - r));
        }
    }
    int rows[][2] = {{0, 1}, {0, 3}, {2, 6}, {3, 19}, {0, 19}};
    for (size_t b = 0; b < sizeof rows / sizeof rows[0]; b++) {
        for (int v = 0; v < OC; v++) y[v] = NAN;
        dot_rows(y, wt, x, rows[b][0], rows[b][1], C);
        for (int v = 0; v < OC; v++) {
            if (v < rows[b][0] || v >= rows[b][1]) {  // rows outside the range untouched
                CHECK(isnan(y[v]), "dot_rows [%d, %d) wrote row %d", rows[b][0], rows[b][1], v);
                continue;
            }
            double r = 0.0;
            for (int c = 0; c < C; c++) r += (double)wt[(size_t)v * C + c] * x[c];
            worst = fmax(worst, fabs(y[v] - r));
        }
    }
    CHECK(worst < 1e-5, "bands differ from the fp64 sums by %g", worst);
    tfree_all();
}

static void test_matmul_null_bias_and_grads(void) {
    rseed(6);
    matmul_case(5, 7, 13, 0, 0, 0, 1 << 20);  // bias NULL
    matmul_case(5, 7, 13, 1, 0, 1, 1 << 20);  // dinp, dbias NULL
    matmul_case(4, 3, 9, 0, 0, 1, 1 << 20);
    matmul_case(33, 48, 96, 0, 0, 1, MAXS / 2);
}

// ---- tied head ---------------------------------------------------------------------

typedef struct { int N, C, V; double *inp, *wte; } HeadCtx;

static void head_ref(const void *p, double *out) {
    const HeadCtx *c = p;
    for (int i = 0; i < c->N; i++)
        for (int v = 0; v < c->V; v++) {
            double s = 0.0;
            for (int k = 0; k < c->C; k++) s += c->inp[(size_t)i * c->C + k] * c->wte[(size_t)v * c->C + k];
            out[(size_t)i * c->V + v] = s;
        }
}

static void head_case(int N, int C, int V, size_t maxs) {
    size_t ni = (size_t)N * C, nw = (size_t)V * C, no = (size_t)N * V;
    float *inp = frand(ni, -1, 1), *wte = frand(nw, -1, 1), *logits = ffill(no, 123.0f);
    HeadCtx ctx = {N, C, V, to_d(inp, ni), to_d(wte, nw)};
    double *ref = dalloc(no);
    head_ref(&ctx, ref);
    head_forward(logits, inp, wte, N, C, V);
    CHECKD(close_rel("head logits", logits, ref, no, FWD_TOL), "N=%d C=%d V=%d", N, C, V);

    float *dl = frand(no, -1, 1);
    Objective o = {head_ref, &ctx, to_d(dl, no), dalloc(no), no};
    Grad gi = fd_grad(&o, ctx.inp, ni, maxs), gw = fd_grad(&o, ctx.wte, nw, maxs);
    float *dinp = prefill(&gi), *dwte = prefill(&gw);
    head_backward(dinp, dwte, dl, inp, wte, N, C, V, 0);
    CHECKD(check_grad("head dinp", dinp, &gi), "N=%d C=%d V=%d", N, C, V);
    CHECKD(check_grad("head dwte", dwte, &gw), "N=%d C=%d V=%d", N, C, V);
    tfree_all();
}

// A product on several threads: each thread multiplies its own band of C's rows (when it
// gets 256 or more) or columns, one sgemm each, or its own range of a long K. Every transposition, alpha and beta, bands
// that do not divide evenly (2 and 3 threads), against fp64 and against the BLAS's own
// threading; inside a parallel region the product is not split again.
static void gemm_band_case(int ta, int tb, int M, int N, int K, float alpha, float beta) {
    int lda = ta ? M : K, ldb = tb ? K : N;
    const float *A = frand((size_t)M * K, -1, 1), *B = frand((size_t)K * N, -1, 1);
    float *C0 = frand((size_t)M * N, -1, 1);
    if (beta == 0.0f)  // C is not read: garbage in it must not reach the result
        for (size_t i = 0; i < (size_t)M * N; i++) C0[i] = NAN;
    double *ref = dalloc((size_t)M * N);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                     (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
            ref[(size_t)i * N + j] =
                alpha * s + (beta == 0.0f ? 0.0 : beta * (double)C0[(size_t)i * N + j]);
        }
    for (int threads = 2; threads <= 3; threads++) {
        omp_set_num_threads(threads);
        float *C = fcopy(C0, (size_t)M * N), *Cb = fcopy(C0, (size_t)M * N);
        sgemm_rm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, N);
        kernels_set_gemm_split(0);
        sgemm_rm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Cb, N);
        kernels_set_gemm_split(1);
        CHECKD(close_rel("bands vs fp64", C, ref, (size_t)M * N, FWD_TOL),
               "ta=%d tb=%d M=%d N=%d K=%d threads=%d", ta, tb, M, N, K, threads);
        CHECKD(close_rel("bands vs the BLAS's threads", C, to_d(Cb, (size_t)M * N), (size_t)M * N,
                         FWD_TOL), "ta=%d tb=%d M=%d N=%d K=%d threads=%d", ta, tb, M, N, K, threads);
    }
    float *Cp = fcopy(C0, (size_t)M * N);
#pragma omp parallel num_threads(2)
#pragma omp single
    sgemm_rm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Cp, N);
    CHECKD(close_rel("inside a parallel region", Cp, ref, (size_t)M * N, FWD_TOL),
           "ta=%d tb=%d M=%d N=%d K=%d", ta, tb, M, N, K);
    omp_set_num_threads(2);
}

static void test_gemm_bands(void) {
    rseed(12);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            gemm_band_case(ta, tb, 805, 21, 13, 1.0f, 0.0f);   // row bands, 805 = 16*50 + 5
            gemm_band_case(ta, tb, 19, 771, 9, 0.5f, 1.0f);    // column bands
            gemm_band_case(ta, tb, 600, 600, 7, -1.0f, 0.25f); // both large: rows
            gemm_band_case(ta, tb, 37, 45, 11, 1.0f, 1.0f);    // small: the BLAS's own
            gemm_band_case(ta, tb, 9, 6, 701, 1.0f, 1.0f);     // long sums: ranges of K
            gemm_band_case(ta, tb, 5, 17, 999, 0.5f, 0.0f);
        }
    tfree_all();
}

static void test_head(void) {
    rseed(7);
    head_case(5, 7, 13, 1 << 20);
    head_case(1, 4, 1, 1 << 20);
    head_case(3, 1, 7, 1 << 20);
    head_case(33, 48, 65, MAXS);
    head_case(1, 37, 10, 1 << 20);  // one row (decoding, the gemv path), odd sizes
    head_case(1, 64, 7, 1 << 20);
    head_case(1, 21, 2600, 64);  // one row in pieces of rows, the last one short
}

// ---- attention ---------------------------------------------------------------------

typedef struct { int B, T, C, NH; double *qkv, *att; } AttCtx;

static void attention_ref(const void *p, double *out) {
    const AttCtx *c = p;
    int B = c->B, T = c->T, C = c->C, NH = c->NH, HS = C / NH;
    double scale = 1.0 / sqrt((double)HS), *pr = malloc((size_t)T * sizeof(double));
    if (!pr) exit(2);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const double *q = c->qkv + ((size_t)b * T + t) * 3 * C + h * HS;
                double mx = -INFINITY, sum = 0.0;
                for (int u = 0; u <= t; u++) {
                    const double *k = c->qkv + ((size_t)b * T + u) * 3 * C + C + h * HS;
                    double s = 0.0;
                    for (int i = 0; i < HS; i++) s += q[i] * k[i];
                    pr[u] = s * scale;
                    if (pr[u] > mx) mx = pr[u];
                }
                for (int u = 0; u <= t; u++) { pr[u] = exp(pr[u] - mx); sum += pr[u]; }
                for (int u = 0; u <= t; u++) pr[u] /= sum;
                if (c->att)
                    for (int u = 0; u < T; u++)
                        c->att[(((size_t)b * NH + h) * T + t) * T + u] = u <= t ? pr[u] : 0.0;
                for (int i = 0; i < HS; i++) {
                    double s = 0.0;
                    for (int u = 0; u <= t; u++)
                        s += pr[u] * c->qkv[((size_t)b * T + u) * 3 * C + 2 * C + h * HS + i];
                    out[((size_t)b * T + t) * C + h * HS + i] = s;
                }
            }
    free(pr);
}

static void attention_case(int B, int T, int C, int NH, size_t maxs) {
    size_t nq = (size_t)B * T * 3 * C, no = (size_t)B * T * C, na = (size_t)B * NH * T * T;
    float *qkv = frand(nq, -1.5, 1.5);
    double *ratt = dalloc(na), *ref = dalloc(no);
    AttCtx ctx = {B, T, C, NH, to_d(qkv, nq), ratt};
    attention_ref(&ctx, ref);
    float *out = ffill(no, 123.0f), *att = ffill(na, 123.0f);
    attention_forward(out, att, qkv, B, T, C, NH);
    CHECKD(close_rel("attention out", out, ref, no, FWD_TOL), "B=%d T=%d C=%d NH=%d", B, T, C, NH);
    CHECKD(close_rel("attention att", att, ratt, na, FWD_TOL), "B=%d T=%d C=%d NH=%d", B, T, C, NH);
    int upper = 0;
    for (size_t r = 0; r < (size_t)B * NH * T; r++)
        for (int u = (int)(r % T) + 1; u < T; u++) upper += att[r * T + u] != 0.0f;
    CHECK(upper == 0, "%d nonzero entries above the diagonal of att (B=%d T=%d NH=%d)", upper, B, T, NH);

    ctx.att = NULL;
    float *dout = frand(no, -1, 1), *datt = ffill(na, 77.0f);
    Objective o = {attention_ref, &ctx, to_d(dout, no), dalloc(no), no};
    Grad g = fd_grad(&o, ctx.qkv, nq, maxs);
    float *dqkv = prefill(&g);
    attention_backward(dqkv, datt, dout, qkv, att, B, T, C, NH);
    CHECKD(check_grad("attention dqkv", dqkv, &g), "B=%d T=%d C=%d NH=%d", B, T, C, NH);
    tfree_all();
}

static void test_attention(void) {
    rseed(8);
    attention_case(2, 5, 12, 3, 1 << 20);  // HS=4
    attention_case(1, 1, 8, 2, 1 << 20);   // T=1
    attention_case(3, 1, 12, 3, 1 << 20);
    attention_case(2, 7, 20, 2, 1 << 20);  // HS=10
    attention_case(1, 3, 6, 1, 1 << 20);   // one head, HS=6
    attention_case(2, 17, 48, 4, MAXS * 2);  // HS=12
    attention_case(1, 40, 8, 2, MAXS * 2);   // rows past 32 positions: the vector softmax
    attention_case(1, 70, 8, 2, MAXS * 2);   // two blocks of rows, the second partial
    attention_case(2, 130, 4, 1, MAXS);      // three blocks
}

// ---- GELU and the residual ---------------------------------------------------------

static double gelu_d(double x) {
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}
typedef struct { size_t n; double *x; } GeluCtx;
static void gelu_ref(const void *p, double *out) {
    const GeluCtx *c = p;
    for (size_t i = 0; i < c->n; i++) out[i] = gelu_d(c->x[i]);
}

static void gelu_case(size_t n) {
    float *x = frand(n, -6, 6);
    const float special[] = {0.0f, 1e-3f, -1e-3f, 1.0f, -1.0f, 3.0f, -3.0f, 8.0f, -8.0f};
    for (size_t i = 0; i < n && i < sizeof special / sizeof *special; i++) x[i] = special[i];
    GeluCtx ctx = {n, to_d(x, n)};
    double *ref = dalloc(n);
    gelu_ref(&ctx, ref);
    float *out = ffill(n, 123.0f);
    gelu_forward(out, x, n);
    CHECKD(close_rel("gelu out", out, ref, n, FWD_TOL), "n=%zu", n);

    float *dout = frand(n, -1, 1);
    Objective o = {gelu_ref, &ctx, to_d(dout, n), dalloc(n), n};
    Grad g = fd_grad(&o, ctx.x, n, 1 << 20);
    float *dinp = prefill(&g);
    gelu_backward(dinp, x, dout, n);
    CHECKD(check_grad("gelu dinp", dinp, &g), "n=%zu", n);
    float *d2 = ffill(n, -5.0f);  // from the forward's output: over garbage, the same gradient
    gelu_backward_out(d2, x, out, dout, n);
    for (size_t i = 0; i < n; i++) d2[i] += g.pre[i];  // check_grad wants pre + g
    CHECKD(check_grad("gelu dinp from the output", d2, &g), "n=%zu", n);
    float *d3 = falloc(n), *d4 = falloc(n);
    gelu_backward_set(d3, x, dout, n);
    gelu_backward_out(d4, x, out, dout, n);
    CHECKD(close_rel("gelu_backward_out vs recomputed", d4, to_d(d3, n), n, 2e-6), "n=%zu", n);
    tfree_all();
}

static void test_gelu(void) {
    rseed(9);
    gelu_case(1);
    gelu_case(13);
    gelu_case(1000);
}

// fast_expf and fast_tanhf (fastmath.h) against libm in fp64 on a dense grid, and at the edges
static void test_fastmath(void) {
    double worst_e = 0.0, worst_t = 0.0;
    for (int i = -2000000; i <= 2000000; i++) {
        float x = (float)i * 4.35e-5f;  // [-87, 87]: the documented range
        double e = exp((double)x), fe = fast_expf(x);
        worst_e = fmax(worst_e, fabs(fe - e) / e);
        float u = (float)i * 6e-6f;  // [-12, 12]
        worst_t = fmax(worst_t, fabs((double)fast_tanhf(u) - tanh((double)u)));
    }
    CHECK(worst_e < 3e-7, "fast_expf relative error %g", worst_e);
    CHECK(worst_t < 5e-7, "fast_tanhf absolute error %g", worst_t);
    CHECK(fast_tanhf(1e30f) == 1.0f && fast_tanhf(-INFINITY) == -1.0f && fast_tanhf(0.0f) == 0.0f,
          "tanh edges: %g %g %g", fast_tanhf(1e30f), fast_tanhf(-INFINITY), fast_tanhf(0.0f));
    CHECK(isnan(fast_tanhf(NAN)) && isnan(fast_expf(NAN)), "%s", "NaN in must give NaN out");
    CHECK(fast_expf(-1e30f) < 1e-37f && fast_expf(-1e30f) >= 0.0f, "exp(-huge) = %g",
          fast_expf(-1e30f));
}

// the tanh approximation, not the erf form (they differ by ~1.5e-4 at x=1)
static void test_gelu_tanh_values(void) {
    float x[5] = {0.0f, 1.0f, -1.0f, 2.0f, -3.0f}, out[5];
    double want[5] = {0.0, 0.8411919906082768, -0.15880800939172324, 1.954597694087775,
                      -0.0036373920817729943};
    gelu_forward(out, x, 5);
    CHECKD(close_abs("gelu known values", out, want, 5, 2e-6), "%s", "tanh-approximate GELU");
}

static void test_residual(void) {
    rseed(10);
    size_t sizes[3] = {1, 13, 1001};
    for (int k = 0; k < 3; k++) {
        size_t n = sizes[k];
        float *a = frand(n, -3, 3), *b = frand(n, -3, 3), *out = ffill(n, 123.0f);
        double *ref = dalloc(n);
        for (size_t i = 0; i < n; i++) ref[i] = (double)a[i] + b[i];
        residual_forward(out, a, b, n);
        CHECKD(close_rel("residual out", out, ref, n, FWD_TOL), "n=%zu", n);
        tfree_all();
    }
}

// The fused forms against the plain ops they replace (themselves tested against fp64
// above), on odd shapes and on one row (the decoding path): the same values to float
// rounding, and the *_set forms overwrite whatever their output held.
static void fused_case(int N, int C, int OC) {
    size_t ni = (size_t)N * C, no = (size_t)N * OC;
    float *inp = frand(ni, -1, 1), *w = frand((size_t)C * OC, -0.5, 0.5), *bias = frand(OC, -1, 1);
    float *res = frand(no, -2, 2);
    // fch = inp @ w + bias, out = gelu(fch)
    float *f1 = ffill(no, 5.0f), *g1 = ffill(no, 5.0f), *f2 = ffill(no, 7.0f), *g2 = ffill(no, 7.0f);
    matmul_forward(f1, inp, w, bias, N, C, OC, 0);
    gelu_forward(g1, f1, no);
    matmul_forward(f2, inp, w, NULL, N, C, OC, 0);  // the MLP's first layer, as the model runs it
    bias_gelu_forward(f2, g2, bias, N, OC);
    CHECKD(close_rel("bias_gelu_forward fch", f2, to_d(f1, no), no, FWD_TOL), "N=%d C=%d OC=%d", N, C, OC);
    CHECKD(close_rel("bias_gelu_forward out", g2, to_d(g1, no), no, FWD_TOL), "N=%d C=%d OC=%d", N, C, OC);
    // out = res + inp @ w + bias
    float *r1 = ffill(no, 0.0f), *r2 = ffill(no, 9.0f);
    memcpy(r1, res, no * sizeof(float));
    matmul_forward(r1, inp, w, bias, N, C, OC, 1);
    matmul_forward_residual(r2, res, inp, w, bias, N, C, OC);
    CHECKD(close_rel("matmul_forward_residual", r2, to_d(r1, no), no, FWD_TOL), "N=%d C=%d OC=%d", N, C, OC);
    // dinp = dout @ w^T over a buffer of garbage, against += into zeros
    float *dout = frand(no, -1, 1), *di1 = ffill(ni, 0.0f), *di2 = ffill(ni, 3.0f);
    float *dw1 = ffill((size_t)C * OC, 0.5f), *dw2 = ffill((size_t)C * OC, 0.5f);
    float *db1 = ffill(OC, 0.25f), *db2 = ffill(OC, 0.25f);
    matmul_backward(di1, dw1, db1, dout, inp, w, N, C, OC);
    matmul_backward_set(di2, dw2, db2, dout, inp, w, N, C, OC, 0);
    CHECKD(close_rel("matmul_backward_set dinp", di2, to_d(di1, ni), ni, FWD_TOL), "N=%d C=%d OC=%d", N, C, OC);
    CHECKD(close_rel("matmul_backward_set dw", dw2, to_d(dw1, (size_t)C * OC), (size_t)C * OC, FWD_TOL),
           "N=%d C=%d OC=%d", N, C, OC);
    CHECKD(close_rel("matmul_backward_set dbias", db2, to_d(db1, OC), OC, FWD_TOL), "N=%d C=%d OC=%d", N, C, OC);
    // set_params: dw, dbias written over garbage equal the += into zeros, bit for bit
    float *dw3 = ffill((size_t)C * OC, 0.0f), *db3 = ffill(OC, 0.0f), *di3 = ffill(ni, 0.0f);
    float *dw4 = ffill((size_t)C * OC, 7.0f), *db4 = ffill(OC, -7.0f), *di4 = ffill(ni, 0.0f);
    matmul_backward(di3, dw3, db3, dout, inp, w, N, C, OC);
    matmul_backward_set(di4, dw4, db4, dout, inp, w, N, C, OC, 1);
    CHECK(!memcmp(dw3, dw4, sizeof(float) * C * OC) && !memcmp(db3, db4, sizeof(float) * OC),
          "matmul_backward_set set_params: N=%d C=%d OC=%d", N, C, OC);
    // the same for the head's dwte and LayerNorm's dw, db
    float *wt = frand((size_t)OC * C, -1, 1), *dl = frand((size_t)N * OC, -1, 1);
    float *dh3 = ffill((size_t)OC * C, 0.0f), *dh4 = ffill((size_t)OC * C, 5.0f);
    head_backward(di3, dh3, dl, inp, wt, N, C, OC, 0);
    head_backward(di4, dh4, dl, inp, wt, N, C, OC, 1);
    CHECK(!memcmp(dh3, dh4, sizeof(float) * OC * C), "head_backward set_params: N=%d C=%d V=%d",
          N, C, OC);
    float *lw = frand(C, 0.5, 1.5), *lb = frand(C, -1, 1), *lo = falloc(ni), *mu = falloc(N),
          *rs = falloc(N), *dlo = frand(ni, -1, 1);
    layernorm_forward(lo, mu, rs, inp, lw, lb, N, C);
    float *lw3 = ffill(C, 0.0f), *lb3 = ffill(C, 0.0f), *lw4 = ffill(C, 3.0f), *lb4 = ffill(C, 3.0f);
    layernorm_backward(di3, lw3, lb3, dlo, inp, lw, mu, rs, N, C, 0);
    layernorm_backward(di4, lw4, lb4, dlo, inp, lw, mu, rs, N, C, 1);
    CHECK(!memcmp(lw3, lw4, sizeof(float) * C) && !memcmp(lb3, lb4, sizeof(float) * C),
          "layernorm_backward set_params: N=%d C=%d", N, C);
    float *dg1 = ffill(no, 0.0f), *dg2 = ffill(no, -4.0f);
    gelu_backward(dg1, f1, dout, no);
    gelu_backward_set(dg2, f1, dout, no);
    CHECKD(close_rel("gelu_backward_set", dg2, to_d(dg1, no), no, FWD_TOL), "N=%d OC=%d", N, OC);
    tfree_all();
}

static void test_fused(void) {
    rseed(12);
    fused_case(7, 13, 19);
    fused_case(1, 24, 40);
    fused_case(33, 16, 64);
    fused_case(130, 48, 200);  // above the kernels' parallel thresholds
}

// A NaN in gives a NaN out: the fast exp's clamps must not turn it into a number (a NaN
// loss stops training with an error; a finite one would hide it).
static void test_nan_propagates(void) {
    float x[3] = {0.5f, NAN, -1.0f}, out[3], lse[2], losses[2];
    gelu_forward(out, x, 3);
    CHECK(isnan(out[1]) && !isnan(out[0]) && !isnan(out[2]), "gelu(NaN) = %g, gelu(0.5) = %g", out[1], out[0]);
    float logits[2 * 17];
    for (int i = 0; i < 34; i++) logits[i] = 0.1f * i;
    logits[17 + 16] = NAN;  // in the second row's tail
    int tg[2] = {3, 4};
    xent_forward(losses, lse, logits, tg, 2, 17);
    CHECK(!isnan(losses[0]) && isnan(losses[1]), "losses %g %g: want a number, then NaN", losses[0], losses[1]);
}

// ---- softmax cross-entropy ---------------------------------------------------------

typedef struct { int N, V; double *logits; const int *targets; double *lse; } XentCtx;

static void xent_ref(const void *p, double *losses) {
    const XentCtx *c = p;
    for (int i = 0; i < c->N; i++) {
        const double *x = c->logits + (size_t)i * c->V;
        double mx = -INFINITY, s = 0.0;
        for (int v = 0; v < c->V; v++) if (x[v] > mx) mx = x[v];
        for (int v = 0; v < c->V; v++) s += exp(x[v] - mx);
        double l = mx + log(s);
        if (c->lse) c->lse[i] = l;
        losses[i] = c->targets[i] >= 0 ? l - x[c->targets[i]] : 0.0;
    }
}

// row i is ignored (target -1) where bit i of ignore is set; logits around offset
static void xent_case(int N, int V, unsigned ignore, float dloss, double offset) {
    size_t n = (size_t)N * V;
    float *logits = frand(n, offset - 3, offset + 3);
    int *tg = talloc((size_t)N * sizeof(int)), valid = 0;
    for (int i = 0; i < N; i++) tg[i] = rbelow(V);
    tg[0] = 0;
    if (N > 1) tg[N - 1] = V - 1;
    for (int i = 0; i < N; i++) {
        if (i < 32 && (ignore >> i & 1)) tg[i] = -1;
        valid += tg[i] >= 0;
    }
    double *rloss = dalloc(N), *rlse = dalloc(N);
    XentCtx ctx = {N, V, to_d(logits, n), tg, rlse};
    xent_ref(&ctx, rloss);
    float *losses = ffill(N, 123.0f), *lse = ffill(N, 123.0f);
    int cnt = xent_forward(losses, lse, logits, tg, N, V);
    CHECK(cnt == valid, "xent_forward returned %d, want %d valid targets (N=%d)", cnt, valid, N);
    // float's lse - x[t] loses digits in proportion to the logits' size
    double lscale = fmax(maxabs(rloss, N), fabs(offset) + 3.0);
    CHECKD(close_abs("xent losses", losses, rloss, N, FWD_TOL * lscale), "N=%d V=%d offset=%g", N, V, offset);
    CHECKD(close_rel("xent lse", lse, rlse, N, FWD_TOL), "N=%d V=%d offset=%g", N, V, offset);
    int bad = 0;
    for (int i = 0; i < N; i++) bad += tg[i] < 0 && losses[i] != 0.0f;
    CHECK(bad == 0, "%d ignored rows with a nonzero loss", bad);

    // backward, in place: d(dloss * sum of valid losses)/dlogits
    ctx.lse = NULL;
    double *dl = dalloc(N);
    for (int i = 0; i < N; i++) dl[i] = dloss;
    Objective o = {xent_ref, &ctx, dl, dalloc(N), (size_t)N};
    Grad g = fd_grad(&o, ctx.logits, n, 1 << 20);
    float *grad = fcopy(logits, n);
    xent_backward(grad, lse, tg, dloss, N, V);
    CHECKD(close_rel("xent dlogits (finite differences)", grad, g.g, n, GRAD_TOL),
          "N=%d V=%d dloss=%g", N, V, dloss);
    double *want = dalloc(n);
    for (int i = 0; i < N; i++) {
        if (tg[i] < 0) continue;
        for (int v = 0; v < V; v++)
            want[(size_t)i * V + v] =
                dloss * (exp(ctx.logits[(size_t)i * V + v] - rlse[i]) - (v == tg[i]));
    }
    CHECKD(close_rel("xent dlogits (softmax - onehot)", grad, want, n, GRAD_TOL),
          "N=%d V=%d dloss=%g", N, V, dloss);
    bad = 0;
    for (int i = 0; i < N; i++)
        if (tg[i] < 0) bad += nonzeros(grad + (size_t)i * V, V);
    CHECK(bad == 0, "%d nonzero gradient entries on ignored rows", bad);
    tfree_all();
}

static void test_xent(void) {
    rseed(11);
    xent_case(5, 7, 0x12, 0.37f, 0.0);       // rows 1 and 4 ignored
    xent_case(6, 65, 0x04, 1.0f / 5, 0.0);   // row 2 ignored
    xent_case(1, 7, 0, 1.0f, 0.0);
    xent_case(7, 65, 0x7f, 0.5f, 0.0);       // every row ignored
    xent_case(33, 65, 0x1000a, 1.0f / 30, 0.0);
    xent_case(3, 16, 0, 1.0f / 3, 0.0);      // one 16-lane chunk, no tail
    // short rows (a task's vocabulary, V < 32): 32 rows at a time in one flat loop
    xent_case(70, 14, 0x40021, 1.0f / 67, 0.0);  // three blocks, the last partial; 3 ignored
    xent_case(33, 31, 0x80000001u, 0.25f, 0.0);  // rows 0 and 31 ignored
    xent_case(40, 1, 0x8, 1.0f, 0.0);        // a one-token vocabulary
    xent_case(3, 50, 0x1, 0.5f, 0.0);
}

// logits near +-90: exp of an unshifted logit would overflow / underflow in float
static void test_xent_large_logits(void) {
    rseed(12);
    xent_case(4, 65, 0x2, 0.25f, 90.0);
    xent_case(4, 7, 0, 1.0f, -90.0);
}

// ---- AdamW -------------------------------------------------------------------------

static void adamw_case(size_t n, float lr, float b1, float b2, float eps, float wd) {
    float *p = frand(n, -1, 1), *m = ffill(n, 0.0f), *v = ffill(n, 0.0f), *p0 = fcopy(p, n);
    double *rp = to_d(p, n), *rm = dalloc(n), *rv = dalloc(n), *rd = dalloc(n);
    for (int t = 1; t <= 3; t++) {
        float *g = frand(n, -1, 1);
        if (n >= 5) {
            g[0] = 0.0f;      // no gradient: only the decay (and momentum) move it
            g[1] = 1e-9f;     // tiny gradients: eps matters
            g[2] = -1e-9f;
            g[3] = 5.0f;
            g[4] = t == 2 ? 0.0f : -0.5f;
        }
        float gs = t == 3 ? 0.5f : 1.0f;  // the clipping scale, on the last step
        adamw_update(p, g, m, v, n, lr, b1, b2, eps, wd, t, gs);
        for (size_t i = 0; i < n; i++) g[i] *= gs;  // the reference sees the scaled gradient
        double c1 = 1.0 - pow(b1, t), c2 = 1.0 - pow(b2, t);
        for (size_t i = 0; i < n; i++) {
            rm[i] = (double)b1 * rm[i] + (1.0 - b1) * g[i];
            rv[i] = (double)b2 * rv[i] + (1.0 - b2) * (double)g[i] * g[i];
            double mh = rm[i] / c1, vh = rv[i] / c2;
            rp[i] -= (double)lr * (mh / (sqrt(vh) + eps) + (double)wd * rp[i]);
        }
        // compare the total step p - p0, far more sensitive than p itself
        float *dp = falloc(n);
        for (size_t i = 0; i < n; i++) {
            dp[i] = p[i] - p0[i];
            rd[i] = rp[i] - p0[i];
        }
        CHECKD(close_rel("adamw p - p0", dp, rd, n, GRAD_TOL), "t=%d n=%zu lr=%g wd=%g", t, n, lr, wd);
        CHECKD(close_rel("adamw m", m, rm, n, FWD_TOL), "t=%d n=%zu", t, n);
        CHECKD(close_rel("adamw v", v, rv, n, FWD_TOL), "t=%d n=%zu", t, n);
    }
    tfree_all();
}

static void test_adamw(void) {
    rseed(13);
    adamw_case(37, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f);
    adamw_case(37, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f);
    adamw_case(1, 1e-2f, 0.8f, 0.95f, 1e-8f, 0.5f);
    adamw_case(1001, 3e-4f, 0.9f, 0.95f, 1e-6f, 0.1f);
}

// ---- the checker itself: a wrong answer must fail ----------------------------------

static void test_checks_can_fail(void) {
    rseed(14);
    float got[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    double want[4] = {1.0, 2.0, 3.0, 4.0};
    CHECKD(close_rel("exact", got, want, 4, FWD_TOL), "%s", "equal arrays must pass");
    got[2] += 1e-3f;
    CHECK(!close_rel("off", got, want, 4, FWD_TOL), "a 2.5e-4 relative error must fail");
    got[2] = NAN;
    CHECK(!close_rel("nan", got, want, 4, FWD_TOL), "NaN must fail");
    // a gradient written with = instead of += fails check_grad
    GeluCtx ctx = {3, dalloc(3)};
    ctx.x[0] = 0.5, ctx.x[1] = -1.0, ctx.x[2] = 2.0;
    double dout[3] = {1.0, -0.5, 0.25}, scratch[3];
    Objective o = {gelu_ref, &ctx, dout, scratch, 3};
    Grad g = fd_grad(&o, ctx.x, 3, 8);
    float *buf = prefill(&g);
    for (int i = 0; i < 3; i++) buf[i] = (float)g.g[i];  // overwritten, not accumulated
    CHECK(!check_grad("overwrite", buf, &g), "an overwritten gradient must fail");
    for (int i = 0; i < 3; i++) buf[i] = (float)(g.pre[i] + g.g[i]);
    CHECKD(check_grad("accumulate", buf, &g), "%s", "an accumulated gradient must pass");
    tfree_all();
}

// The GEMM-based attention against its plain-loop twin in attention.c, on odd shapes.
static float max_abs_diff(const float *a, const float *b, size_t n) {
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}
static void test_attention_fast_vs_naive(void) {
    // short tiles with the keys transposed, and one whose head is too wide for that (T 20,
    // HS 256: the plain product)
    int shapes[][4] = {{1, 1, 8, 2},  {2, 5, 12, 3},  {3, 17, 20, 2},
                       {2, 33, 48, 4}, {1, 64, 24, 1}, {2, 20, 256, 1}, {1, 65, 8, 2}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int B = shapes[k][0], T = shapes[k][1], C = shapes[k][2], NH = shapes[k][3];
        size_t nq = (size_t)B * T * 3 * C, no = (size_t)B * T * C, na = (size_t)B * NH * T * T;
        float *qkv = frand(nq, -2, 2), *dout = frand(no, -1, 1);
        float *o1 = falloc(no), *o2 = falloc(no), *a1 = falloc(na), *a2 = falloc(na);
        attention_forward(o1, a1, qkv, B, T, C, NH);
        attention_forward_naive(o2, a2, qkv, B, T, C, NH);
        float dof = max_abs_diff(o1, o2, no), daf = max_abs_diff(a1, a2, na);
        float *g1 = frand(nq, -1, 1), *g2 = fcopy(g1, nq), *s1 = falloc(na), *s2 = falloc(na);
        attention_backward(g1, s1, dout, qkv, a1, B, T, C, NH);
        attention_backward_naive(g2, s2, dout, qkv, a2, B, T, C, NH);
        float dg = max_abs_diff(g1, g2, nq);
        CHECK(dof < 1e-5f && daf < 1e-6f && dg < 1e-5f,
              "B %d T %d C %d NH %d: out %g, att %g, dqkv %g", B, T, C, NH, dof, daf, dg);
        // the overwriting form over NaN garbage, against += into zeros
        float *g3 = ffill(nq, NAN), *g4 = ffill(nq, 0.0f);
        attention_backward_set(g3, s1, dout, qkv, a1, B, T, C, NH);
        attention_backward(g4, s2, dout, qkv, a1, B, T, C, NH);
        float ds = max_abs_diff(g3, g4, nq);
        for (size_t i = 0; i < nq; i++) ds = isnan(g3[i]) ? INFINITY : ds;  // fmaxf drops NaN
        CHECK(ds < 1e-6f, "B %d T %d C %d NH %d: set against add, %g", B, T, C, NH, ds);
    }
    tfree_all();
}

int main(void) {
    RUN(test_checks_can_fail);
    RUN(test_encoder);
    RUN(test_encoder_repeated_ids);
    RUN(test_layernorm);
    RUN(test_matmul);
    RUN(test_matmul_accumulate);
    RUN(test_decode_bands);
    RUN(test_matmul_null_bias_and_grads);
    RUN(test_gemm_bands);
    RUN(test_head);
    RUN(test_attention);
    RUN(test_attention_fast_vs_naive);
    RUN(test_gelu);
    RUN(test_fastmath);
    RUN(test_gelu_tanh_values);
    RUN(test_residual);
    RUN(test_fused);
    RUN(test_nan_propagates);
    RUN(test_xent);
    RUN(test_xent_large_logits);
    RUN(test_adamw);
    return test_summary();
}
