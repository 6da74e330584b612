// Training data from task generators and text files, mixed in given proportions.
//
// A mixture is "COMPONENT[@WEIGHT],...": a generator spec (add:2, mod:97:+, ...),
// file:PATH for a UTF-8 text, or leak:FRAC:N:SEED:SPEC, test items planted in training (the
// contamination experiment): of the N test items of SPEC that an evaluation with SEED draws
// (task_generate(SPEC, TASK_TEST, N, SEED), as eval and the ladder draw them), those whose
// keyed hash of (prompt, target) falls below FRAC, repeated in turn to fill the component's
// share of the items (nothing when none is chosen; no validation part). Weights are shares of the training tokens (default equal),
// numbers in [1e-6, 1e6].
// With a text file in the mix, its train part (the first 90%) fixes the scale and each
// generator gets tokens in proportion; without one, n items are split by weight. Windows
// are drawn uniformly over the concatenated stream, so each component's share of the
// windows is its share of the tokens. Generators train on their answers only (the mask);
// text trains on every token. The validation part holds each generator's test split and
// the last 10% of each text. A block (T) shorter than a generator's item is an error: a
// window of T + 1 tokens from an item's start must hold the whole item.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "tasks.h"

// Accepted weights, and the most items one generator may get from its weight.
#define WEIGHT_MIN 1e-6
#define WEIGHT_MAX 1e6
#define MIX_MAX_ITEMS (1 << 30)

typedef struct { char *text; unsigned char *mask; size_t len, cap; } Buf;

static void buf_add(Buf *b, const char *t, const unsigned char *m, size_t n, int all_ones) {
    if (b->len + n + 1 > b->cap) {
        b->cap = 2 * (b->len + n + 1);
        b->text = xrealloc(b->text, b->cap);
        b->mask = xrealloc(b->mask, b->cap);
    }
    memcpy(b->text + b->len, t, n);
    if (all_ones) memset(b->mask + b->len, 1, n);
    else memcpy(b->mask + b->len, m, n);
    b->len += n;
    b->text[b->len] = 0;
}

// The longest item of a training text in tokens (characters: data_from_texts gives each
// its token), an item running from an example start to the next stop, where windows begin.
static size_t longest_item(const char *t, size_t len, const char *stop) {
    size_t sl = strlen(stop), run = 0, most = 0;
    for (size_t i = 0; i < len; i++) {
        run += ((unsigned char)t[i] & 0xC0) != 0x80;
        if (sl && i + 1 >= sl && !memcmp(t + i + 1 - sl, stop, sl)) {
            if (run > most) most = run;
            run = 0;
        }
    }
    return run > most ? run : most;
}

// One generator's items as masked text, appended to b; *longest: its longest item in tokens.
static int add_task(Buf *b, const char *spec, int split, int n, uint64_t seed, char *stop,
                    int *items, size_t *longest) {
    TaskSet ts;
    if (task_generate(spec, split, n, seed, &ts)) return -1;
    char *t;
    unsigned char *m;
    size_t len;
    if (task_training_text(&ts, &t, &m, &len)) { taskset_free(&ts); return -1; }
    buf_add(b, t, m, len, 0);
    *longest = longest_item(t, len, ts.stop);
    snprintf(stop, 32, "%s", ts.stop);
    *items = ts.n;
    free(t);
    free(m);
    taskset_free(&ts);
    return 0;
}

// ---- leaked test items ----------------------------------------------------------------
typedef struct { double frac; int n; uint64_t seed; const char *spec; } Leak;

// "leak:FRAC:N:SEED:SPEC" -> *lk (spec points into s).
static int parse_leak(const char *mixture, const char *s, Leak *lk) {
    char *end;
    const char *p = s + 5;
    lk->frac = strtod(p, &end);
    int ok = end != p && *end == ':' && lk->frac >= 0 && lk->frac <= 1;
    if (ok) { p = end + 1; long v = strtol(p, &end, 10); ok = end != p && *end == ':' && v >= 1 && v <= (1 << 24); lk->n = (int)v; }
    if (ok) { p = end + 1; unsigned long long v = strtoull(p, &end, 10); ok = end != p && *end == ':' && *p != '-'; lk->seed = v; }
    if (!ok || !end[1])
        return em_error("task %s: %s: expected leak:FRAC:N:SEED:SPEC (FRAC in [0, 1], N test "
                        "items in [1, 2^24], SEED the evaluation's seed, SPEC a generator)",
                        mixture, s);
    lk->spec = end + 1;
    return 0;
}

// Whether a test item is leaked: a keyed FNV-1a hash of prompt and target, mixed, below frac.
static int leaked(const TaskItem *it, uint64_t key, double frac) {
    uint64_t h = 1469598103934665603ULL ^ key;
    for (const char *c = it->prompt; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *c = it->target; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33;
    return (double)(h >> 11) * 0x1.0p-53 < frac;
}

// The leaked items, repeated in turn to ni items, appended to b like add_task's items.
static int add_leak(Buf *b, const char *mixture, const char *s, int ni, char *stop, int *items,
                    size_t *longest) {
    Leak lk = {0};
    TaskSet ts;
    *items = 0;
    *longest = 0;
    if (parse_leak(mixture, s, &lk) || task_generate(lk.spec, TASK_TEST, lk.n, lk.seed, &ts))
        return -1;
    TaskSet view = ts;  // the chosen items (shallow copies: ts owns the strings)
    view.items = xmalloc((size_t)(ts.n ? ts.n : 1) * sizeof *view.items);
    view.n = 0;
    for (int i = 0; i < ts.n; i++)
        if (leaked(&ts.items[i], lk.seed, lk.frac)) view.items[view.n++] = ts.items[i];
    int chosen = view.n, rc = 0;
    for (int done = 0; done < ni && chosen > 0 && !rc; done += chosen) {
        char *t;
        unsigned char *m;
        size_t len;
        view.n = ni - done < chosen ? ni - done : chosen;  // the last round may be partial
        if ((rc = task_training_text(&view, &t, &m, &len))) break;
        buf_add(b, t, m, len, 0);
        size_t l = longest_item(t, len, ts.stop);
        if (l > *longest) *longest = l;
        free(t);
        free(m);
    }
    if (!rc && chosen > 0) {
        snprintf(stop, 32, "%s", ts.stop);
        *items = ni;
    }
    free(view.items);
    taskset_free(&ts);
    return rc;
}

// Mean bytes per item of a generator (from a sample), to turn a token share into items.
static double bytes_per_item(const char *spec, uint64_t seed) {
    TaskSet ts;
    if (task_generate(spec, TASK_TRAIN, 200, seed, &ts)) return -1;
    char *t;
    unsigned char *m;
    size_t len = 0;
    int ok = task_training_text(&ts, &t, &m, &len) == 0;
    int n = ts.n;
    taskset_free(&ts);
    if (!ok) return -1;
    free(t);
    free(m);
    return n ? (double)len / n : -1;
}

int data_load_mixture(const char *mixture, int n, int val_n, uint64_t seed, Tokenizer *tok,
                      int T, TokenData *d, char **source) {
    char *list = strdup(mixture);
    enum { MAXC = 32 };
    char *spec[MAXC];
    double w[MAXC], wsum = 0.0;
    int nc = 0, rc = 0, given = 0;
    for (char *save = NULL, *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        if (nc == MAXC) { rc = em_error("mixture %s: at most %d components", mixture, MAXC); break; }
        char *at = strrchr(c, '@');
        w[nc] = 1.0;
        if (at) {
            char *end;
            *at = 0;
            w[nc] = strtod(at + 1, &end);
            if (end == at + 1 || *end || !(w[nc] >= WEIGHT_MIN && w[nc] <= WEIGHT_MAX)) {
                rc = em_error("task %s: weight '%s' of %s: expected a positive number in [%g, %g]",
                              mixture, at + 1, c, WEIGHT_MIN, WEIGHT_MAX);
                break;
            }
            given++;
        }
        spec[nc++] = c;
    }
    if (!rc && nc == 0) rc = em_error("mixture: empty");
    for (int i = 0; i < nc; i++) wsum += w[i];
    // the scale: the text files' train bytes, else n items in all
    Buf tr = {0}, va = {0};
    double file_bytes = 0.0, file_w = 0.0;
    char stop[32] = "\n";
    int n_items = 0;
    for (int i = 0; i < nc && !rc; i++) {
        if (strncmp(spec[i], "file:", 5)) continue;
        size_t len;
        char *text = read_file(spec[i] + 5, &len);
        if (!text) { rc = -1; break; }
        size_t cut = (size_t)(len * 0.9);
        while (cut < len && ((unsigned char)text[cut] & 0xC0) == 0x80) cut++;  // a whole character
        buf_add(&tr, text, NULL, cut, 1);
        buf_add(&va, text + cut, NULL, len - cut, 1);
        file_bytes += cut;
        file_w += w[i];
        free(text);
    }
    for (int i = 0; i < nc && !rc; i++) {
        if (!strncmp(spec[i], "file:", 5)) continue;
        int ni = n, vi = val_n, got;
        if (nc > 1) {
            // in doubles, range-checked before the conversion to int
            double share = w[i] / wsum, dn;
            if (file_w > 0) {
                Leak lk = {.spec = spec[i]};
                if (!strncmp(spec[i], "leak:", 5) && parse_leak(mixture, spec[i], &lk)) { rc = -1; break; }
                double bpi = bytes_per_item(lk.spec, seed);
                if (bpi <= 0) { rc = -1; break; }
                dn = file_bytes * (w[i] / file_w) / bpi + 0.5;
            } else {
                if (n <= 0) { rc = em_error("mixture %s: a mixture of generators needs a number of training items in all (n > 0)", mixture); break; }
                dn = n * share + 0.5;
            }
            if (!(dn <= MIX_MAX_ITEMS)) {
                rc = em_error("task %s: %s would get %.4g training items by its weight; expected at "
                              "most %d (lower its weight)", mixture, spec[i], dn, MIX_MAX_ITEMS);
                break;
            }
            ni = (int)dn;
            vi = (int)(val_n * share + 0.5);
            if (ni < 1) ni = 1;
            if (vi < 1) vi = 1;
        }
        size_t lt, lv = 0;
        if (!strncmp(spec[i], "leak:", 5)) {
            if (add_leak(&tr, mixture, spec[i], ni, stop, &got, &lt)) { rc = -1; break; }
        } else {
            if (add_task(&tr, spec[i], TASK_TRAIN, ni, seed + i, stop, &got, &lt)) { rc = -1; break; }
            if (add_task(&va, spec[i], TASK_TEST, vi, seed + i, stop, &got, &lv)) { rc = -1; break; }
        }
        n_items += got;
        // a window of T + 1 tokens from an item's start must hold the whole item
        size_t most = lt > lv ? lt : lv;
        if (most > (size_t)T + 1) {
            rc = em_error("task %s: block size %d is shorter than one item: the longest item of %s "
                          "(prompt, answer and stop) is %zu tokens, which needs a block size of at "
                          "least %zu", mixture, T, spec[i], most, most - 1);
            break;
        }
    }
    (void)given;
    (void)n_items;
    if (!rc)
        rc = data_from_texts(tr.text ? tr.text : "", tr.mask, tr.len, va.text ? va.text : "",
                             va.mask, va.len, stop, mixture, tok, T, d);
    if (!rc) {
        size_t sl = strlen(mixture) + 64;
        *source = xmalloc(sl);
        snprintf(*source, sl, "task=%s;n=%d;val=%d", mixture, n, val_n);
    }
    free(tr.text); free(tr.mask); free(va.text); free(va.mask);
    free(list);
    return rc;
}

// ---- a recorded source, loaded again ---------------------------------------------------
// The source string data_load_mixture writes: "task=SPEC;n=N;val=M".
static int parse_source(const char *s, char *spec, size_t cap, int *n, int *val_n) {
    const char *semi = strstr(s, ";n=");
    if (strncmp(s, "task=", 5) || !semi || (size_t)(semi - s - 5) >= cap) return 0;
    memcpy(spec, s + 5, (size_t)(semi - s - 5));
    spec[semi - s - 5] = 0;
    return sscanf(semi, ";n=%d;val=%d", n, val_n) == 2;
}

int data_load_source(const char *source, uint64_t seed, float val_frac, Tokenizer *tok, int T,
                     TokenData *d, char **source_out) {
    char spec[1024];
    int n, val_n;
    if (source_out) *source_out = NULL;
    if (parse_source(source, spec, sizeof spec, &n, &val_n))
        return data_load_mixture(spec, n, val_n, seed, tok, T, d, source_out);
    if (data_is_shard_dir(source) ? data_load_shards(source, tok, T, d)
                                  : data_load_text(source, tok, val_frac, T, d))
        return -1;
    if (source_out) *source_out = xstrdup(source);
    return 0;
}
