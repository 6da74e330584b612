// core: errors, RNG, timing, progress, small file helpers.
#ifndef EMERGENT_CORE_H
#define EMERGENT_CORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define EMERGENT_VERSION "0.1.0"

// ---- errors -------------------------------------------------------------
// One error path: a failing function records a message naming the file, the
// field and what was expected, and returns -1. main() prints it and exits 1.
int em_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *em_errmsg(void);
void em_clear_error(void);

// ---- RNG ----------------------------------------------------------------
// xoshiro256** seeded by splitmix64: one 64-bit seed drives every random choice.
typedef struct { uint64_t s[4]; } Rng;
void rng_seed(Rng *r, uint64_t seed);
// inline: the bootstrap draws millions of indices, one call each
static inline uint64_t rng_u64(Rng *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5, out = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}
// uniform in [0, n): Lemire's multiply-shift with rejection (unbiased)
static inline uint32_t rng_below(Rng *r, uint32_t n) {
    uint64_t m = (uint64_t)(uint32_t)(rng_u64(r) >> 32) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) { m = (uint64_t)(uint32_t)(rng_u64(r) >> 32) * n; lo = (uint32_t)m; }
    }
    return (uint32_t)(m >> 32);
}
float rng_uniform(Rng *r);                 // uniform in [0, 1)
float rng_normal(Rng *r);                  // N(0, 1), Box-Muller

// ---- JSON numbers ---------------------------------------------------------
// v as a JSON number, or null when it is not finite (JSON has no NaN or infinity); an
// array of n of them. (cJSON's own type; core.c includes cJSON.)
struct cJSON;
struct cJSON *json_num(double v);
struct cJSON *json_num_array(const double *v, int n);

// ---- timing and progress ------------------------------------------------
double now_sec(void);   // monotonic clock
// Formats seconds as "1h02m", "3m05s" or "12.3s".
void fmt_duration(char *buf, size_t n, double sec);

// ---- files --------------------------------------------------------------
// Reads a whole file; returns NULL (with em_error) on failure. Caller frees.
char *read_file(const char *path, size_t *len);
// Writes data to path atomically: path.tmp, fsync, rename.
int write_file_atomic(const char *path, const void *data, size_t len);
// Opens "path.tmp" for writing; commit fsyncs, closes and renames; abort removes.
typedef struct { void *fp; char path[1024]; char tmp[1040]; } AtomicFile;
int atomic_open(AtomicFile *af, const char *path);
int atomic_write(AtomicFile *af, const void *data, size_t len);
int atomic_commit(AtomicFile *af);
void atomic_abort(AtomicFile *af);
int file_exists(const char *path);
int make_dir(const char *path);  // mkdir -p; ok if it exists

// ---- small numerics -------------------------------------------------------
int cmp_double(const void *a, const void *b);  // qsort: ascending
// The q-quantile of sorted v[0..n-1], linear between order statistics (numpy's default).
double quantile_sorted(const double *v, int n, double q);

// ---- misc ---------------------------------------------------------------
void *xmalloc(size_t n);   // aborts on out-of-memory (not user input)
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
int em_threads(void);      // OpenMP threads in use
// OpenMP's threads wait for work by spinning for a while (libgomp's default: 300,000 spins),
// which is fast on an idle machine and collapses on a shared one: the spinning thread holds the
// core the working one needs. A short spin (GOMP_SPINCOUNT=300, then sleep) keeps 92% of the
// idle speed of the smallest model measured and half of it beside a busy process (sleeping at
// once, OMP_WAIT_POLICY=PASSIVE, lost a quarter of the idle speed; see bench/README.md). libgomp
// reads it when it is loaded, before main, so the process runs itself again once with it set.
// A policy the user set (OMP_WAIT_POLICY or GOMP_SPINCOUNT) is kept. Returns only when nothing
// was re-executed (or the re-execution failed).
void em_wait_policy(char **argv);
// Zeroed memory for the big flat buffers (parameters, gradients, moments, activations):
// 2 MiB-aligned and marked for transparent huge pages, so streaming over hundreds of
// megabytes does not miss the TLB at every 4 KiB page. Freed with free().
void *xcalloc_big(size_t n, size_t sz);
// A barrier for the nt threads of one parallel region (zeroed before the region). OpenMP's
// own sleeps as soon as em_wait_policy's short spin runs out, and each wake-up costs tens of
// µs: too much for a decoded token, whose threads meet about a hundred times in a few ms.
// This one spins for up to 50 µs, then sleeps on a futex.
typedef struct { atomic_int arrived, gen, sleepers; } SpinBarrier;
void spin_barrier_wait(SpinBarrier *b, int nt);

// ---- growable byte strings ----------------------------------------------------------
// A NUL-terminated buffer that grows by doubling (out of memory: the xmalloc policy).
// Appends printf-formatted text to the NUL-terminated buf of n bytes, cut to fit (a sentence
// built in a fixed buffer).
void str_catf(char *buf, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
typedef struct { char *p; size_t n, cap; } StrBuf;
void sb_put(StrBuf *b, const void *s, size_t n);
void sb_puts(StrBuf *b, const char *s);
void sb_printf(StrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// s as a JSON string literal: quoted, with " \ and control characters escaped
// (bytes >= 0x80 pass through: UTF-8 stays UTF-8).
void sb_json_string(StrBuf *b, const char *s);
void sb_free(StrBuf *b);

#endif
