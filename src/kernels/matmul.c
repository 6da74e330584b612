// Linear layers and the tied head on OpenBLAS's sgemm (row-major).
#include <dlfcn.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

// ---- the BLAS, loaded at first use ---------------------------------------------
// The two CBLAS entry points used here, declared by us: every CBLAS (OpenBLAS, the
// reference BLAS, BLIS) has this ABI, with 32-bit int dimensions, and the library is
// opened at run time, so no cblas.h (whichever one a machine's alternatives point at)
// is needed to build.
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };
typedef int blasint;

// OpenBLAS picks its kernel from the CPU when it loads, and Debian's 0.3.21 does not
// know Zen 4/5: it falls back to the AVX2 (Haswell) kernel at half the speed. So the
// library is opened here, after OPENBLAS_CORETYPE has been set from the CPU's flags,
// and its OpenMP build is preferred, so its threads and ours share one pool.
typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE,
                         const enum CBLAS_TRANSPOSE, const blasint, const blasint, const blasint,
                         const float, const float *, const blasint, const float *, const blasint,
                         const float, float *, const blasint);
typedef void (*sgemv_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const blasint,
                         const blasint, const float, const float *, const blasint, const float *,
                         const blasint, const float, float *, const blasint);
typedef char *(*corename_fn)(void);
static sgemm_fn p_sgemm;
static sgemv_fn p_sgemv;
static corename_fn p_corename;  // OpenBLAS's openblas_get_corename, when the BLAS is OpenBLAS
static char blas_name[160] = "none";
static const char *blas_core = "auto";
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static char blas_note[160];

// The core type: EMERGENT_BLAS_CORETYPE if given, else SkylakeX on CPUs with AVX-512
// (F, BW, DQ, VL), else OpenBLAS's own choice. An OPENBLAS_CORETYPE inherited from the
// environment (some systems set Haswell globally) is replaced, and the fact reported.
static void blas_load(void) {
    __builtin_cpu_init();
    const char *want = getenv("EMERGENT_BLAS_CORETYPE"), *had = getenv("OPENBLAS_CORETYPE");
#ifdef EMERGENT_ISA_AVX2
    if (!want) want = "Haswell";  // the AVX2 build (make ISA=avx2): the AVX2 kernel everywhere
#else
    if (!want && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        want = "SkylakeX";
#endif
    if (want && *want) {
        if (had && strcmp(had, want))
            snprintf(blas_note, sizeof blas_note, ", replacing OPENBLAS_CORETYPE=%s", had);
        setenv("OPENBLAS_CORETYPE", want, 1);
    }
    if (getenv("OPENBLAS_CORETYPE")) blas_core = getenv("OPENBLAS_CORETYPE");
    static const char *libs[] = {
        "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/openblas-openmp/libopenblas.so.0",
        "libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3",
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        void *h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) continue;
        p_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
        p_sgemv = (sgemv_fn)dlsym(h, "cblas_sgemv");
        if (p_sgemm && p_sgemv) {
            snprintf(blas_name, sizeof blas_name, "%s", libs[i]);
            p_corename = (corename_fn)dlsym(h, "openblas_get_corename");
            return;
        }
        dlclose(h);
    }
    fprintf(stderr, "emergent: no CBLAS library found (install libopenblas0-openmp or "
                    "libopenblas0)\n");
    exit(2);
}

// The threads' share of a product. OpenBLAS's threaded sgemm partitions both sides of C
// and synchronises its threads as they share packed panels; at a layer's shapes (a few
// hundred to a few thousand rows) that costs 5-10% of its speed. Handing each thread a band
// of C to multiply alone (one single-threaded sgemm per thread, called from our parallel
// region) does not: a band of rows when each thread gets SPLIT_MIN of them, else a band of
// columns; products smaller than that stay OpenBLAS's. Every element of C is still summed
// by the same kernel in the same order over K, and the bands depend only on the shape and
// the thread count, so results stay deterministic.
#define SPLIT_MIN 256
static int gemm_split = 1;
void kernels_set_gemm_split(int on) { gemm_split = on; }

static void sgemm_bands(const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb, int M,
                        int N, int K, float alpha, const float *A, int lda, const float *B,
                        int ldb, float beta, float *C, int ldc, int nt, int by_rows) {
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        int len = by_rows ? M : N, units = len / 16;  // bands start on 16-float boundaries
        int lo = (int)((long)units * t / n) * 16;
        int hi = t == n - 1 ? len : (int)((long)units * (t + 1) / n) * 16;
        if (hi > lo) {
            if (by_rows)
                p_sgemm(CblasRowMajor, ta, tb, hi - lo, N, K, alpha,
                        ta == CblasTrans ? A + lo : A + (size_t)lo * lda, lda, B, ldb, beta,
                        C + (size_t)lo * ldc, ldc);
            else
                p_sgemm(CblasRowMajor, ta, tb, M, hi - lo, K, alpha, A, lda,
                        tb == CblasTrans ? B + (size_t)lo * ldb : B + lo, ldb, beta, C + lo, ldc);
        }
    }
}

// A long sum with a small C (the head's input gradient, K = the vocabulary): each thread
// multiplies its own range of K into a partial C, and the partials are added to C in thread
// order. Every output element sums the same per-thread pieces in the same order.
static void sgemm_ksplit(const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb, int M,
                         int N, int K, float alpha, const float *A, int lda, const float *B,
                         int ldb, float beta, float *C, int ldc, int nt) {
    size_t mn = (size_t)M * N;
    float *part = kernel_scratch(3, (size_t)nt * mn);
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        int lo = (int)((long)K * t / n), hi = (int)((long)K * (t + 1) / n);
        p_sgemm(CblasRowMajor, ta, tb, M, N, hi - lo, alpha,
                ta == CblasTrans ? A + (size_t)lo * lda : A + lo, lda,
                tb == CblasTrans ? B + lo : B + (size_t)lo * ldb, ldb, 0.0f,
                part + (size_t)t * mn, N);
#pragma omp barrier
#pragma omp for schedule(static)
        for (int i = 0; i < M; i++) {
            float *restrict c = C + (size_t)i * ldc;
            for (int j = 0; j < N; j++) {
                float s = beta == 0.0f ? 0.0f : beta * c[j];
                for (int k = 0; k < n; k++) s += part[(size_t)k * mn + (size_t)i * N + j];
                c[j] = s;
            }
        }
    }
}

static inline void sgemm(const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb, int M,
                         int N, int K, float alpha, const float *A, int lda, const float *B,
                         int ldb, float beta, float *C, int ldc) {
    if (!p_sgemm) pthread_once(&blas_once, blas_load);
    int nt = gemm_split && !omp_in_parallel() ? omp_get_max_threads() : 1;
    if (nt > 1 && K / nt >= 8 * (M > N ? M : N) && (size_t)M * N <= ((size_t)1 << 20))
        sgemm_ksplit(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt);
    // op(A) transposed (a weight gradient, A^T dout): rows from half SPLIT_MIN each, as
    // measured at those shapes with both kernels (SkylakeX and Haswell)
    else if (nt > 1 && M / nt >= (ta == CblasTrans ? SPLIT_MIN / 2 : SPLIT_MIN))
        sgemm_bands(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt, 1);
    else if (nt > 1 && N / nt >= SPLIT_MIN)
        sgemm_bands(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt, 0);
    else
        p_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// y (M or N) = alpha * op(A) x + beta * y, A (M,N) row-major: one token's products,
// where a GEMM would pack the whole weight matrix for a single row.
static inline void sgemv(const enum CBLAS_TRANSPOSE ta, int M, int N, const float *A, int lda,
                         const float *x, float beta, float *y) {
    if (!p_sgemm) pthread_once(&blas_once, blas_load);
    p_sgemv(CblasRowMajor, ta, M, N, 1.0f, A, lda, x, 1, beta, y, 1);
}

// Decoding multiplies one row by each weight matrix: memory-bound. Each thread streams a
// contiguous band of w's rows into its own partial sum, and the partials are added in thread
// order, so the result is the same for the same threads.
// part (OC) = x[lo..hi) @ w[lo..hi, :], w (C,OC). The rows come from the 4 quarters of the
// band: four streams side by side, which a core reads faster than one (30 against 39 GB/s on
// a 2-core EPYC). A pass takes two rows of each quarter, so part is loaded and stored once
// per 8 rows; it adds them as two passes of 4 would, (part + 4 rows) + 4 rows: the same sums.
void gemv_band(float *restrict part, const float *x, const float *w, int lo, int hi, int OC) {
    for (int o = 0; o < OC; o++) part[o] = 0.0f;
    int q = (hi - lo) / 4, i = 0;
    for (; i + 2 <= q; i += 2) {
        int c0 = lo + i, c1 = c0 + q, c2 = c1 + q, c3 = c2 + q;
        const float *restrict w0 = w + (size_t)c0 * OC, *restrict w1 = w + (size_t)c1 * OC;
        const float *restrict w2 = w + (size_t)c2 * OC, *restrict w3 = w + (size_t)c3 * OC;
        const float *restrict u0 = w0 + OC, *restrict u1 = w1 + OC;  // the next row of each
        const float *restrict u2 = w2 + OC, *restrict u3 = w3 + OC;
        float x0 = x[c0], x1 = x[c1], x2 = x[c2], x3 = x[c3];
        float y0 = x[c0 + 1], y1 = x[c1 + 1], y2 = x[c2 + 1], y3 = x[c3 + 1];
        for (int o = 0; o < OC; o++)
            part[o] = (part[o] + (x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o])) +
                      (y0 * u0[o] + y1 * u1[o] + y2 * u2[o] + y3 * u3[o]);
    }
    for (; i < q; i++) {
        int c0 = lo + i, c1 = c0 + q, c2 = c1 + q, c3 = c2 + q;
        const float *restrict w0 = w + (size_t)c0 * OC, *restrict w1 = w + (size_t)c1 * OC;
        const float *restrict w2 = w + (size_t)c2 * OC, *restrict w3 = w + (size_t)c3 * OC;
        float x0 = x[c0], x1 = x[c1], x2 = x[c2], x3 = x[c3];
        for (int o = 0; o < OC; o++) part[o] += x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o];
    }
    for (int c = lo + 4 * q; c < hi; c++) {
        const float *restrict wr = w + (size_t)c * OC;
        float xc = x[c];
        for (int o = 0; o < OC; o++) part[o] += xc * wr[o];
    }
}

// y (OC) (+)= x (C) @ w (C,OC)
static void gemv_bands(float *y, const float *x, const float *w, int C, int OC, int accumulate) {
    int nt = omp_get_max_threads();
    float *part = kernel_scratch(2, (size_t)nt * OC);
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        gemv_band(part + (size_t)t * OC, x, w, (int)((long)C * t / n), (int)((long)C * (t + 1) / n), OC);
#pragma omp barrier
#pragma omp for schedule(static)
        for (int o = 0; o < OC; o++) {
            float s = accumulate ? y[o] : 0.0f;
            for (int k = 0; k < n; k++) s += part[(size_t)k * OC + o];
            y[o] = s;
        }
    }
}

// the remainder of row wr from c on, then the 16 lanes
static inline float lanes_tail(const float *acc, const float *restrict wr, const float *x, int c,
                               int C) {
    float s = 0.0f;
    for (; c < C; c++) s += wr[c] * x[c];
    for (int j = 0; j < 16; j++) s += acc[j];
    return s;
}
static inline float dot_row(const float *restrict wr, const float *restrict x, int C) {
    float acc[16] = {0};  // 16 lanes: the sum vectorizes, in a fixed order
    int c = 0;
    for (; c + 16 <= C; c += 16)
        for (int j = 0; j < 16; j++) acc[j] += wr[c + j] * x[c + j];
    return lanes_tail(acc, wr, x, c, C);
}
// y[v] = w row v . x for v in [lo, hi): one row of each of the range's 4 quarters at a time,
// read side by side in one loop (four streams, as in gemv_band; a row after a row, the
// streams took turns and the head read at half the bandwidth). Each row's sum is the same
// as dot_row's: 16 lanes in a fixed order, the remainder, then the lanes.
void dot_rows(float *restrict y, const float *w, const float *x, int lo, int hi, int C) {
    int q = (hi - lo) / 4;
    for (int i = 0; i < q; i++) {
        int v0 = lo + i, v1 = v0 + q, v2 = v1 + q, v3 = v2 + q;
        const float *restrict w0 = w + (size_t)v0 * C, *restrict w1 = w + (size_t)v1 * C;
        const float *restrict w2 = w + (size_t)v2 * C, *restrict w3 = w + (size_t)v3 * C;
        float a0[16] = {0}, a1[16] = {0}, a2[16] = {0}, a3[16] = {0};
        int c = 0;
        for (; c + 16 <= C; c += 16)
            for (int j = 0; j < 16; j++) {
                float xj = x[c + j];
                a0[j] += w0[c + j] * xj;
                a1[j] += w1[c + j] * xj;
                a2[j] += w2[c + j] * xj;
                a3[j] += w3[c + j] * xj;
            }
        y[v0] = lanes_tail(a0, w0, x, c, C);
        y[v1] = lanes_tail(a1, w1, x, c, C);
        y[v2] = lanes_tail(a2, w2, x, c, C);
        y[v3] = lanes_tail(a3, w3, x, c, C);
    }
    for (int v = lo + 4 * q; v < hi; v++) y[v] = dot_row(w + (size_t)v * C, x, C);
}

void sgemm_rm(int transa, int transb, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    sgemm(transa ? CblasTrans : CblasNoTrans, transb ? CblasTrans : CblasNoTrans, M, N, K,
          alpha, A, lda, B, ldb, beta, C, ldc);
}

// inp (N,C) @ w (C,OC) + bias -> out (N,OC); accumulate: out += ...
void matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                    int N, int C, int OC, int accumulate) {
    if (N == 1) {  // one row (decoding): no parallel region for the bias
        if (bias)
            for (int o = 0; o < OC; o++) out[o] = (accumulate ? out[o] : 0.0f) + bias[o];
        gemv_bands(out, inp, w, C, OC, bias || accumulate);
        return;
    }
    if (bias) {
        if (accumulate) {
#pragma omp parallel for schedule(static)
            for (int i = 0; i < N; i++)
                for (int o = 0; o < OC; o++) out[(size_t)i * OC + o] += bias[o];
        } else {
#pragma omp parallel for schedule(static)
            for (int i = 0; i < N; i++)
                for (int o = 0; o < OC; o++) out[(size_t)i * OC + o] = bias[o];
        }
    }
    float beta = (bias || accumulate) ? 1.0f : 0.0f;
    sgemm(CblasNoTrans, CblasNoTrans, N, OC, C, 1.0f, inp, C, w, OC, beta, out, OC);
}

void matmul_forward_residual(float *out, const float *resid, const float *inp, const float *w,
                             const float *bias, int N, int C, int OC) {
    residual_bias_fill(out, resid, bias, N, OC);
    matmul_forward(out, inp, w, NULL, N, C, OC, 1);
}

static void backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                     const float *w, int N, int C, int OC, float beta, float beta_w);

void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                     const float *inp, const float *w, int N, int C, int OC) {
    backward(dinp, dw, dbias, dout, inp, w, N, C, OC, 1.0f, 1.0f);
}

void matmul_backward_set(float *dinp, float *dw, float *dbias, const float *dout,
                         const float *inp, const float *w, int N, int C, int OC, int set_params) {
    backward(dinp, dw, dbias, dout, inp, w, N, C, OC, 0.0f, set_params ? 0.0f : 1.0f);
}

// beta for dinp, beta_w for dw and dbias (0: overwrite, 1: add)
static void backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                     const float *w, int N, int C, int OC, float beta, float beta_w) {
    // dinp (N,C) = beta * dinp + dout (N,OC) @ w^T (OC,C)
    if (dinp)
        sgemm(CblasNoTrans, CblasTrans, N, C, OC, 1.0f, dout, OC, w, OC,
                    beta, dinp, C);
    // dw (C,OC) = beta_w * dw + inp^T (C,N) @ dout (N,OC)
    sgemm(CblasTrans, CblasNoTrans, C, OC, N, 1.0f, inp, C, dout, OC,
                beta_w, dw, OC);
    if (dbias) {  // row ranges per thread, partial sums added in thread order
        int nt = omp_get_max_threads();
        float *part = kernel_scratch(0, (size_t)nt * OC);
        for (size_t i = 0; i < (size_t)nt * OC; i++) part[i] = 0.0f;
#pragma omp parallel num_threads(nt)
        {
            int t = omp_get_thread_num(), n = omp_get_num_threads();
            int lo = (int)((long)N * t / n), hi = (int)((long)N * (t + 1) / n);
            float *restrict p = part + (size_t)t * OC;
            for (int i = lo; i < hi; i++) {
                const float *restrict d = dout + (size_t)i * OC;
                for (int o = 0; o < OC; o++) p[o] += d[o];
            }
        }
        if (beta_w == 0.0f)
            for (int o = 0; o < OC; o++) dbias[o] = 0.0f;
        for (int t = 0; t < nt; t++)
            for (int o = 0; o < OC; o++) dbias[o] += part[(size_t)t * OC + o];
    }
}

// inp (N,C) @ wte^T (C,V) -> logits (N,V)
void head_forward(float *logits, const float *inp, const float *wte, int N, int C, int V) {
    if (N == 1) {  // one row: logits (V) = wte (V,C) @ inp (C), in pieces the threads claim
        enum { PIECE = 1024 };  // rows (3 MiB of GPT-2's head): a slower thread takes fewer
        int np = (V + PIECE - 1) / PIECE;
#pragma omp parallel for schedule(dynamic, 1) if (np > 1)
        for (int k = 0; k < np; k++)
            dot_rows(logits, wte, inp, k * PIECE, (k + 1) * PIECE < V ? (k + 1) * PIECE : V, C);
        return;
    }
    sgemm(CblasNoTrans, CblasTrans, N, V, C, 1.0f, inp, C, wte, C,
                0.0f, logits, V);
}

void head_backward(float *dinp, float *dwte, const float *dlogits, const float *inp,
                   const float *wte, int N, int C, int V, int set_params) {
    // dinp (N,C) += dlogits (N,V) @ wte (V,C)
    sgemm(CblasNoTrans, CblasNoTrans, N, C, V, 1.0f, dlogits, V, wte, C,
                1.0f, dinp, C);
    // dwte (V,C) (+)= dlogits^T (V,N) @ inp (N,C)
    sgemm(CblasTrans, CblasNoTrans, V, C, N, 1.0f, dlogits, V, inp, C,
                set_params ? 0.0f : 1.0f, dwte, C);
}

float *kernel_scratch(int slot, size_t n) {
    static float *buf[4];
    static size_t cap[4];
    if (n > cap[slot]) {
        free(buf[slot]);
        buf[slot] = malloc(n * sizeof(float));
        if (!buf[slot]) { fprintf(stderr, "emergent: out of memory\n"); exit(2); }
        cap[slot] = n;
    }
    return buf[slot];
}

static const char *build_isa(void);

const char *kernels_describe(void) {
    static char buf[512];
    const char *isa = build_isa();
    pthread_once(&blas_once, blas_load);
    int nt = omp_get_max_threads();
    snprintf(buf, sizeof buf, "sgemm from %s (core %s%s)%s; own loops %s; %d threads",
             blas_name, blas_core, blas_note,
             nt > 1 ? (gemm_split ? ", a band of each product per thread"
                                  : ", threaded by OpenBLAS")
                    : "",
             isa, nt);
    return buf;
}

// ---- the machine ------------------------------------------------------------------
static const char *build_isa(void) {
#if defined(__AVX512F__)
    return "AVX-512";
#elif defined(__AVX2__)
    return "AVX2";
#else
    return "generic";
#endif
}

void kernels_machine(MachineInfo *mi) {
    memset(mi, 0, sizeof *mi);
    snprintf(mi->cpu, sizeof mi->cpu, "unknown");
    // the model name, and family/model numbers: a virtual machine may say only "AMD EPYC",
    // and the numbers still tell Zen 3 (family 25) from Zen 5 (family 26)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512], name[96] = "unknown";
        int family = -1, model = -1;
        while (fgets(line, sizeof line, f) && (family < 0 || model < 0 || !strcmp(name, "unknown"))) {
            char *v = strchr(line, ':');
            if (!v) continue;
            v++;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\n")] = 0;
            if (!strncmp(line, "model name", 10)) snprintf(name, sizeof name, "%s", v);
            else if (!strncmp(line, "cpu family", 10)) family = atoi(v);
            else if (!strncmp(line, "model\t", 6) || !strncmp(line, "model ", 6)) model = atoi(v);
        }
        fclose(f);
        if (family >= 0 && model >= 0)
            snprintf(mi->cpu, sizeof mi->cpu, "%s (family %d, model %d)", name, family, model);
        else
            snprintf(mi->cpu, sizeof mi->cpu, "%s", name);
    }
    __builtin_cpu_init();
    const char *ci = "generic";
    if (__builtin_cpu_supports("avx512f")) ci = "AVX-512";
    else if (__builtin_cpu_supports("avx2")) ci = "AVX2";
    snprintf(mi->cpu_isa, sizeof mi->cpu_isa, "%s", ci);
    snprintf(mi->build_isa, sizeof mi->build_isa, "%s", build_isa());
    pthread_once(&blas_once, blas_load);
    snprintf(mi->blas, sizeof mi->blas, "%s", blas_name);
    const char *core = p_corename ? p_corename() : NULL;
    snprintf(mi->blas_core, sizeof mi->blas_core, "%s", core && *core ? core : "unknown");
    mi->threads = omp_get_max_threads();
}

void kernels_machine_line(const MachineInfo *mi, char *buf, size_t cap) {
    snprintf(buf, cap, "%s | own loops %s (CPU %s) | %s, kernel %s | %d thread%s", mi->cpu,
             mi->build_isa, mi->cpu_isa, mi->blas, mi->blas_core, mi->threads,
             mi->threads == 1 ? "" : "s");
}
