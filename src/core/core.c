#include "core.h"

#include <errno.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

// ---- errors -------------------------------------------------------------
static _Thread_local char g_err[2048];

int em_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
    return -1;
}
const char *em_errmsg(void) { return g_err[0] ? g_err : "unknown error"; }
void em_clear_error(void) { g_err[0] = 0; }

// ---- RNG ----------------------------------------------------------------
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
void rng_seed(Rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}
float rng_uniform(Rng *r) { return (float)(rng_u64(r) >> 40) * (1.0f / 16777216.0f); }
float rng_normal(Rng *r) {
    double u1 = ((rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);  // (0, 1]
    double u2 = (rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

// ---- timing -------------------------------------------------------------
double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
void fmt_duration(char *buf, size_t n, double sec) {
    if (!(sec >= 0) || sec > 1e8) { snprintf(buf, n, "?"); return; }
    long s = (long)(sec + 0.5);
    if (sec < 60) snprintf(buf, n, "%.1fs", sec);
    else if (s < 3600) snprintf(buf, n, "%ldm%02lds", s / 60, s % 60);
    else snprintf(buf, n, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

// ---- files --------------------------------------------------------------
char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { em_error("%s: cannot open: %s", path, strerror(errno)); return NULL; }
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); em_error("%s: cannot seek", path); return NULL; }
    long n = ftell(f);
    if (n < 0) { fclose(f); em_error("%s: cannot read size", path); return NULL; }
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (!buf) { fclose(f); em_error("%s: out of memory reading %ld bytes", path, n); return NULL; }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f); free(buf); em_error("%s: short read", path); return NULL;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = (size_t)n;
    return buf;
}
int atomic_open(AtomicFile *af, const char *path) {
    if (strlen(path) >= sizeof af->path) return em_error("%s: path too long", path);
    strcpy(af->path, path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp", path);
    af->fp = fopen(af->tmp, "wb");
    if (!af->fp) return em_error("%s: cannot create: %s", af->tmp, strerror(errno));
    return 0;
}
int atomic_write(AtomicFile *af, const void *data, size_t len) {
    if (len && fwrite(data, 1, len, (FILE *)af->fp) != len)
        return em_error("%s: write failed: %s", af->tmp, strerror(errno));
    return 0;
}
int atomic_commit(AtomicFile *af) {
    FILE *f = af->fp;
    af->fp = NULL;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        int e = errno; fclose(f); remove(af->tmp);
        return em_error("%s: write failed: %s", af->tmp, strerror(e));
    }
    if (fclose(f) != 0) { int e = errno; remove(af->tmp); return em_error("%s: close failed: %s", af->tmp, strerror(e)); }
    if (rename(af->tmp, af->path) != 0) {
        int e = errno; remove(af->tmp);
        return em_error("%s: cannot rename to %s: %s", af->tmp, af->path, strerror(e));
    }
    return 0;
}
void atomic_abort(AtomicFile *af) {
    if (af->fp) { fclose((FILE *)af->fp); af->fp = NULL; }
    remove(af->tmp);
}
int write_file_atomic(const char *path, const void *data, size_t len) {
    AtomicFile af;
    if (atomic_open(&af, path)) return -1;
    if (atomic_write(&af, data, len)) { atomic_abort(&af); return -1; }
    return atomic_commit(&af);
}
int file_exists(const char *path) { struct stat st; return stat(path, &st) == 0; }
int make_dir(const char *path) {
    char buf[1024];
    if (strlen(path) >= sizeof buf) return em_error("%s: path too long", path);
    strcpy(buf, path);
    // parents first, as mkdir -p does
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return em_error("%s: cannot create directory: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        return em_error("%s: exists and is not a directory", path);
    }
    return em_error("%s: cannot create directory: %s", path, strerror(errno));
}

// ---- small numerics -------------------------------------------------------
int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double quantile_sorted(const double *v, int n, double q) {
    double h = q * (n - 1);
    int i = (int)floor(h);
    if (i >= n - 1) return v[n - 1];
    return v[i] + (h - i) * (v[i + 1] - v[i]);
}

// ---- misc ---------------------------------------------------------------
void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "emergent: out of memory (%zu bytes)\n", n); exit(2); }
    return p;
}
void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) { fprintf(stderr, "emergent: out of memory (%zu bytes)\n", n); exit(2); }
    return q;
}
char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}
void *xcalloc(size_t n, size_t sz) {
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) { fprintf(stderr, "emergent: out of memory (%zu bytes)\n", n * sz); exit(2); }
    return p;
}
void *xcalloc_big(size_t n, size_t sz) {
    size_t bytes = n * sz;
    if (bytes < (4u << 20)) return xcalloc(n, sz);
    size_t align = 2u << 20;
    void *p = NULL;
    if (posix_memalign(&p, align, bytes) != 0) {
        fprintf(stderr, "emergent: out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    madvise(p, (bytes + align - 1) & ~(align - 1), MADV_HUGEPAGE);
    memset(p, 0, bytes);
    return p;
}

int em_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// ---- growable byte strings ----------------------------------------------------------
void sb_put(StrBuf *b, const void *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->n + n + 1 > cap) cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
void sb_puts(StrBuf *b, const char *s) { sb_put(b, s, strlen(s)); }
void sb_printf(StrBuf *b, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        sb_put(b, "", 0);  // room for the terminator at least
        if (b->n + (size_t)n + 1 > b->cap) {
            size_t cap = b->cap;
            while (b->n + (size_t)n + 1 > cap) cap *= 2;
            b->p = xrealloc(b->p, cap);
            b->cap = cap;
        }
        vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap2);
        b->n += (size_t)n;
    }
    va_end(ap2);
}
void sb_json_string(StrBuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') { char e[2] = {'\\', (char)*c}; sb_put(b, e, 2); }
        else if (*c == '\n') sb_puts(b, "\\n");
        else if (*c == '\t') sb_puts(b, "\\t");
        else if (*c == '\r') sb_puts(b, "\\r");
        else if (*c < 0x20) sb_printf(b, "\\u%04x", *c);
        else sb_put(b, c, 1);
    }
    sb_put(b, "\"", 1);
}
void sb_free(StrBuf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

void em_wait_policy(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("GOMP_SPINCOUNT", "300", 1)) return;
    execv("/proc/self/exe", argv);  // on failure: go on with libgomp's default
}

void str_catf(char *buf, size_t n, const char *f, ...) {
    size_t l = strlen(buf);
    if (l + 1 >= n) return;
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf + l, n - l, f, ap);
    va_end(ap);
}

// ---- JSON numbers ---------------------------------------------------------
cJSON *json_num(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }
cJSON *json_num_array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, json_num(v[i]));
    return a;
}
