// tasks: n-digit add/sub/mul in seven surface formats, and modular arithmetic with one
// character per element (the grokking setting).
#include "data/tasks_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

enum { F_PLAIN, F_BIGBENCH, F_GPT3, F_PAD, F_REV, F_PADREV, F_SCRATCH, F_DIRECT, F_COUNT };
static const char *fmt_names[F_COUNT] = { "plain", "bigbench", "gpt3", "pad",
                                          "rev", "padrev", "scratch", "direct" };

#define KEY_ARITH 0x61726974685f7631ULL  // split keys: fixed forever, or test sets move
#define KEY_MOD 0x6d6f645f73706c31ULL
#define ARITH_TEST_FRAC 0.125

typedef struct {
    char op;
    int N, fmt;
    uint64_t lo, count;  // operands are lo .. lo+count-1
} Arith;

static void u128_str(u128 v, char *buf) {  // decimal, buf >= 40 bytes
    char t[40];
    int n = 0;
    do { t[n++] = (char)('0' + (int)(v % 10)); v /= 10; } while (v);
    for (int i = 0; i < n; i++) buf[i] = t[n - 1 - i];
    buf[n] = 0;
}

static void pad_to(char *s, int width) {
    int n = (int)strlen(s);
    if (n >= width) return;
    memmove(s + (width - n), s, (size_t)n + 1);
    memset(s, '0', (size_t)(width - n));
}

static void reverse(char *s) {
    for (size_t i = 0, j = strlen(s); i + 1 < j; i++, j--) {
        char t = s[i]; s[i] = s[j - 1]; s[j - 1] = t;
    }
}

// "2 9" from "29"
static char *spaced(const char *s, size_t n) {
    char *o = xmalloc(2 * n + 1);
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) o[p++] = ' ';
        o[p++] = s[i];
    }
    o[p] = 0;
    return o;
}

// Nye et al. 2021's scratchpad for a + b (decimal strings): see tasks.h for an example.
static char *scratchpad(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), cap = (la + lb + 8) * (la + lb + 8) * 4 + 64;
    char *s = xmalloc(cap), res[48] = "";
    size_t p = 0;
    int carry = 0;
    p += (size_t)snprintf(s + p, cap - p, "<scratch>\n");
    for (size_t k = 0;; k++) {  // k columns done
        size_t ra = la > k ? la - k : 0, rb = lb > k ? lb - k : 0;
        char *sa = spaced(a, ra), *sb = spaced(b, rb), *sr = spaced(res, strlen(res));
        if (ra || rb) p += (size_t)snprintf(s + p, cap - p, "%s + %s ", sa, sb);
        p += (size_t)snprintf(s + p, cap - p, ", %s%sC: %d\n", sr, res[0] ? " " : "", carry);
        free(sa); free(sb); free(sr);
        if (!ra && !rb) break;
        int d = carry + (ra ? a[ra - 1] - '0' : 0) + (rb ? b[rb - 1] - '0' : 0);
        carry = d / 10;
        memmove(res + 1, res, strlen(res) + 1);
        res[0] = (char)('0' + d % 10);
    }
    char *sr = spaced(res, strlen(res));
    p += (size_t)snprintf(s + p, cap - p, "%d %s\n</scratch>\n", carry, sr);
    free(sr);
    return s;
}

static int arith_nth(void *ctx, uint64_t i, TaskId *id) {
    const Arith *c = ctx;
    id->a = c->lo + i / c->count;
    id->b = c->lo + i % c->count;
    return c->op != '-' || id->a >= id->b;
}

static TaskId arith_draw(void *ctx, Rng *r) {
    const Arith *c = ctx;
    TaskId id = { c->lo + task_below64(r, c->count), c->lo + task_below64(r, c->count) };
    if (c->op == '-' && id.a < id.b) { uint64_t t = id.a; id.a = id.b; id.b = t; }
    return id;
}

static int arith_split(void *ctx, TaskId id) {
    const Arith *c = ctx;
    uint64_t k = ((uint64_t)(unsigned char)c->op << 8) | (uint64_t)c->N;
    return task_hash_unit(KEY_ARITH ^ k, id.a, id.b) < ARITH_TEST_FRAC ? TASK_TEST : TASK_TRAIN;
}

static int arith_make(void *ctx, TaskId id, TaskItem *it) {
    const Arith *c = ctx;
    char a[48], b[48], ans[48];
    u128 v = c->op == '+' ? (u128)id.a + id.b
           : c->op == '-' ? (u128)(id.a - id.b) : (u128)id.a * id.b;
    u128_str(id.a, a);
    u128_str(id.b, b);
    u128_str(v, ans);
    const char *word = c->op == '+' ? "plus" : c->op == '-' ? "minus" : "times";
    int width = c->op == '+' ? c->N + 1 : c->op == '-' ? c->N : 2 * c->N;
    switch (c->fmt) {
    case F_BIGBENCH: it->prompt = task_fmt("\nQ: What is %s %s %s?\nA: ", a, word, b); break;
    case F_GPT3:  // openai/gpt-3's data files: "context" and "completion", byte for byte
        it->prompt = task_fmt("\n\nQ: What is %s %s %s?\n\nA:", a, word, b);
        it->target = task_fmt(" %s", ans);
        return 0;
    case F_PAD:
    case F_PADREV:
        pad_to(a, c->N);
        pad_to(b, c->N);
        pad_to(ans, width);
        if (c->fmt == F_PADREV) reverse(ans);
        it->prompt = task_fmt("%s%c%s=", a, c->op, b);
        break;
    case F_SCRATCH:
    case F_DIRECT: {
        char *sa = spaced(a, strlen(a)), *sb = spaced(b, strlen(b));
        it->prompt = task_fmt("Input:\n%s + %s\nTarget:\n", sa, sb);
        free(sa); free(sb);
        if (c->fmt == F_SCRATCH) it->scratch = scratchpad(a, b);
        it->target = spaced(ans, strlen(ans));
        return 0;
    }
    case F_REV: reverse(ans); /* fall through */
    default: it->prompt = task_fmt("%s%c%s=", a, c->op, b); break;
    }
    it->target = task_strdup(ans);
    return 0;
}

static int parse_int(const char *s, size_t n, long lo, long hi, long *v) {
    if (n == 0 || n > 18) return 0;
    long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return x >= lo && x <= hi;
}

int task_space_arith(const char *spec, char op, const char *args, TaskSpace *sp, TaskSet *ts) {
    long N;
    size_t l = args ? strcspn(args, ":") : 0;
    if (!args || !parse_int(args, l, 1, 10, &N))
        return em_error("task spec \"%s\": N: expected a number of digits 1..10", spec);
    int fmt = F_PLAIN;
    if (args[l] == ':') {
        const char *f = args + l + 1;
        for (fmt = 0; fmt < F_COUNT && strcmp(f, fmt_names[fmt]); fmt++) {}
        if (fmt == F_COUNT)
            return em_error("task spec \"%s\": format \"%s\": expected plain, bigbench, gpt3, "
                            "pad, rev, padrev, scratch or direct", spec, f);
    }
    if ((fmt == F_SCRATCH || fmt == F_DIRECT) && op != '+')
        return em_error("task spec \"%s\": format \"%s\": expected add (the scratchpad is "
                        "for addition only)", spec, fmt_names[fmt]);
    Arith *c = xcalloc(1, sizeof *c);
    c->op = op;
    c->N = (int)N;
    c->fmt = fmt;
    c->lo = 1;
    for (int i = 1; i < N; i++) c->lo *= 10;
    c->count = N == 1 ? 10 : 9 * c->lo;
    if (N == 1) c->lo = 0;
    sp->ctx = c;
    sp->free_ctx = free;
    sp->size = c->count * c->count <= TASK_LIST_MAX ? c->count * c->count : 0;
    sp->nth = arith_nth;
    sp->draw = arith_draw;
    sp->split_of = arith_split;
    sp->make = arith_make;
    snprintf(ts->name, sizeof ts->name, "%s:%ld:%s",
             op == '+' ? "add" : op == '-' ? "sub" : "mul", N, fmt_names[fmt]);
    if (fmt == F_GPT3) ts->shot_sep[0] = 0;  // each prompt starts with its "\n\n"
    if (fmt == F_SCRATCH || fmt == F_DIRECT) {
        strcpy(ts->stop, "\n\n");
        strcpy(ts->shot_sep, "\n\n");
    }
    ts->has_scratch = fmt == F_SCRATCH;
    ts->numeric = fmt == F_PLAIN || fmt == F_BIGBENCH || fmt == F_GPT3 || fmt == F_PAD;
    return 0;
}

// ---- modular arithmetic ---------------------------------------------------

typedef struct { int P; char op; double frac; } Mod;

#define MOD_MAX 431  // U+0100 .. U+02AE: Latin Extended-A/B and IPA letters, none combining

static int put_elem(char *s, int x) {  // code point U+0100 + x as UTF-8 (2 bytes)
    unsigned cp = 0x100u + (unsigned)x;
    s[0] = (char)(0xC0 | (cp >> 6));
    s[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

static int mod_nth(void *ctx, uint64_t i, TaskId *id) {
    const Mod *c = ctx;
    id->a = i / (uint64_t)c->P;
    id->b = i % (uint64_t)c->P;
    return c->op != '/' || id->b != 0;
}

static int mod_split(void *ctx, TaskId id) {
    const Mod *c = ctx;
    uint64_t k = ((uint64_t)(unsigned char)c->op << 16) | (uint64_t)c->P;
    return task_hash_unit(KEY_MOD ^ k, id.a, id.b) < c->frac ? TASK_TRAIN : TASK_TEST;
}

static uint64_t pow_mod(uint64_t b, uint64_t e, uint64_t m) {
    uint64_t r = 1;
    for (b %= m; e; e >>= 1, b = b * b % m)
        if (e & 1) r = r * b % m;
    return r;
}

static int mod_make(void *ctx, TaskId id, TaskItem *it) {
    const Mod *c = ctx;
    uint64_t P = (uint64_t)c->P, a = id.a, b = id.b, v;
    switch (c->op) {
    case '+': v = (a + b) % P; break;
    case '-': v = (a + P - b) % P; break;
    case '*': v = a * b % P; break;
    default: v = a * pow_mod(b, P - 2, P) % P; break;
    }
    char p[8], t[4];
    int n = put_elem(p, (int)a);
    p[n++] = c->op;
    n += put_elem(p + n, (int)b);
    p[n++] = '=';
    p[n] = 0;
    t[put_elem(t, (int)v)] = 0;
    it->prompt = task_strdup(p);
    it->target = task_strdup(t);
    return 0;
}

static int is_prime(long p) {
    if (p < 2) return 0;
    for (long d = 2; d * d <= p; d++)
        if (p % d == 0) return 0;
    return 1;
}

int task_space_mod(const char *spec, const char *args, TaskSpace *sp, TaskSet *ts) {
    long P;
    size_t l = args ? strcspn(args, ":") : 0;
    if (!args || !parse_int(args, l, 2, MOD_MAX, &P))
        return em_error("task spec \"%s\": P: expected a modulus 2..%d", spec, MOD_MAX);
    const char *o = args + l;
    if (o[0] != ':' || !o[1] || !strchr("+-*/", o[1]) || (o[2] && o[2] != ':'))
        return em_error("task spec \"%s\": OP: expected one of + - * /", spec);
    char op = o[1];
    if (op == '/' && !is_prime(P))
        return em_error("task spec \"%s\": P: expected a prime for / (%ld is not)", spec, P);
    double frac = 0.5;
    if (o[2] == ':') {
        char *end;
        frac = strtod(o + 3, &end);
        if (end == o + 3 || *end || !(frac > 0 && frac < 1))
            return em_error("task spec \"%s\": FRAC: expected a training fraction in (0, 1)",
                            spec);
    }
    Mod *c = xcalloc(1, sizeof *c);
    c->P = (int)P;
    c->op = op;
    c->frac = frac;
    sp->ctx = c;
    sp->free_ctx = free;
    sp->size = (uint64_t)P * (uint64_t)P;
    sp->nth = mod_nth;
    sp->split_of = mod_split;
    sp->make = mod_make;
    snprintf(ts->name, sizeof ts->name, "mod:%ld:%c:%g", P, op, frac);
    return 0;
}
