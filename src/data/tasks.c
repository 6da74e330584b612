// tasks: the spec dispatcher, the item picker shared by every generator (listed or sampled
// spaces, content-keyed splits), training text, few-shot prompts and answer extraction.
#include "data/tasks_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- small helpers ------------------------------------------------------

static uint64_t mix64(uint64_t x) {  // splitmix64's finalizer
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t task_hash(uint64_t key, uint64_t a, uint64_t b) {
    return mix64(mix64(mix64(key) ^ a) ^ b);
}

double task_hash_unit(uint64_t key, uint64_t a, uint64_t b) {
    return (double)(task_hash(key, a, b) >> 11) * 0x1p-53;
}

uint64_t task_below64(Rng *r, uint64_t n) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;  // reject the biased tail
    for (;;) {
        uint64_t x = rng_u64(r);
        if (x < lim) return x % n;
    }
}

char *task_fmt(const char *fmt, ...) {
    char small[256];
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    if ((size_t)n < sizeof small) memcpy(s, small, (size_t)n + 1);
    else vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

char *task_strdup(const char *s) {
    size_t n = strlen(s);
    char *d = xmalloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

int task_copy_field(char *dst, size_t cap, const char *src, const char *file, const char *field) {
    if (strlen(src) >= cap)
        return em_error("%s: %s: expected at most %zu bytes, got %zu", file, field, cap - 1,
                        strlen(src));
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

void taskset_init(TaskSet *ts, const char *name) {
    memset(ts, 0, sizeof *ts);
    snprintf(ts->name, sizeof ts->name, "%s", name);
    strcpy(ts->stop, "\n");
    strcpy(ts->shot_sep, "\n");
}

static void item_free(TaskItem *it) {
    free(it->prompt);
    free(it->target);
    for (int j = 0; j < it->n_alt; j++) free(it->alt_targets[j]);
    free(it->alt_targets);
    for (int j = 0; j < it->n_choices; j++) free(it->choices[j]);
    free(it->choices);
    free(it->choice_scores);
    free(it->scratch);
}

void taskset_free(TaskSet *ts) {
    if (!ts) return;
    for (int i = 0; i < ts->n; i++) item_free(&ts->items[i]);
    free(ts->items);
    free(ts->task_prefix);
    free(ts->output_regex);
    memset(ts, 0, sizeof *ts);
}

// ---- a set of item ids (open addressing on the ids' hashes) --------------

typedef struct { TaskId *k; uint8_t *used; size_t cap, n; } IdSet;

static int idset_add(IdSet *s, TaskId id) {  // 1 if added, 0 if already there
    if (2 * (s->n + 1) > s->cap) {
        IdSet t = { NULL, NULL, s->cap ? 2 * s->cap : 1024, 0 };
        t.k = xmalloc(t.cap * sizeof *t.k);
        t.used = xcalloc(t.cap, 1);
        for (size_t i = 0; i < s->cap; i++)
            if (s->used[i]) idset_add(&t, s->k[i]);
        free(s->k);
        free(s->used);
        *s = t;
    }
    size_t i = task_hash(0x1d5e7, id.a, id.b) & (s->cap - 1);
    while (s->used[i]) {
        if (s->k[i].a == id.a && s->k[i].b == id.b) return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->used[i] = 1;
    s->k[i] = id;
    s->n++;
    return 1;
}

// ---- picking the items of a split ---------------------------------------

static void shuffle(TaskId *v, size_t m, Rng *r) {
    for (size_t i = m; i > 1; i--) {
        size_t j = (size_t)task_below64(r, i);
        TaskId t = v[i - 1]; v[i - 1] = v[j]; v[j] = t;
    }
}

// The ids of n items of split: listed spaces are shuffled (and cycled past their size),
// sampled spaces are drawn by rejection, without repeats.
static int pick_ids(const char *spec, const TaskSpace *sp, int split, int n, Rng *r,
                    TaskId **out, int *nout) {
    if (sp->size > 0) {
        TaskId *mem = xmalloc(sp->size * sizeof *mem);
        size_t m = 0;
        for (uint64_t i = 0; i < sp->size; i++) {
            TaskId id;
            if (sp->nth(sp->ctx, i, &id) && sp->split_of(sp->ctx, id) == split) mem[m++] = id;
        }
        if (m == 0) {
            free(mem);
            return em_error("task spec \"%s\": the %s split is empty", spec,
                            split == TASK_TEST ? "test" : "train");
        }
        if (n <= 0) n = (int)m;
        TaskId *ids = xmalloc((size_t)n * sizeof *ids);
        for (int k = 0; k < n; k += (int)m) {
            shuffle(mem, m, r);
            size_t take = (size_t)(n - k) < m ? (size_t)(n - k) : m;
            memcpy(ids + k, mem, take * sizeof *ids);
        }
        free(mem);
        *out = ids;
        *nout = n;
        return 0;
    }
    if (n <= 0)
        return em_error("task spec \"%s\": n: expected a number of items > 0 (the space is "
                        "sampled, not listed)", spec);
    TaskId *ids = xmalloc((size_t)n * sizeof *ids);
    IdSet seen = { 0 };
    long long tries = 0, max_tries = 100LL * n + 100000;
    int k = 0;
    while (k < n && tries++ < max_tries) {
        TaskId id = sp->draw(sp->ctx, r);
        if (sp->split_of(sp->ctx, id) == split && idset_add(&seen, id)) ids[k++] = id;
    }
    free(seen.k);
    free(seen.used);
    if (k < n) {
        free(ids);
        return em_error("task spec \"%s\": n: the %s split has too few distinct items for %d",
                        spec, split == TASK_TEST ? "test" : "train", n);
    }
    *out = ids;
    *nout = n;
    return 0;
}

int task_generate(const char *spec, int split, int n, uint64_t seed, TaskSet *out) {
    memset(out, 0, sizeof *out);
    if (split != TASK_TRAIN && split != TASK_TEST)
        return em_error("task_generate: split: expected TASK_TRAIN or TASK_TEST, got %d", split);
    char fam[32];
    size_t fl = strcspn(spec, ":");
    if (fl == 0 || fl >= sizeof fam)
        return em_error("task spec \"%s\": expected FAMILY[:FIELDS] (%s)", spec,
                        "add, sub, mul, mod, facts, ioi, falsebelief, evtrap");
    memcpy(fam, spec, fl);
    fam[fl] = 0;
    const char *args = spec[fl] == ':' ? spec + fl + 1 : NULL;
    TaskSpace sp = { 0 };
    TaskSet ts;
    taskset_init(&ts, spec);
    int rc;
    if (!strcmp(fam, "add")) rc = task_space_arith(spec, '+', args, &sp, &ts);
    else if (!strcmp(fam, "sub")) rc = task_space_arith(spec, '-', args, &sp, &ts);
    else if (!strcmp(fam, "mul")) rc = task_space_arith(spec, '*', args, &sp, &ts);
    else if (!strcmp(fam, "mod")) rc = task_space_mod(spec, args, &sp, &ts);
    else if (!strcmp(fam, "facts")) rc = task_space_facts(spec, args, &sp, &ts);
    else if (!strcmp(fam, "ioi") || !strcmp(fam, "falsebelief") || !strcmp(fam, "evtrap"))
        rc = task_space_mc(spec, fam, args, &sp, &ts);
    else
        rc = em_error("task spec \"%s\": family \"%s\": expected one of add, sub, mul, mod, "
                      "facts, ioi, falsebelief, evtrap", spec, fam);
    if (rc) {
        if (sp.free_ctx) sp.free_ctx(sp.ctx);
        taskset_free(&ts);
        return -1;
    }
    Rng r;
    rng_seed(&r, seed);
    TaskId *ids = NULL;
    int m = 0;
    rc = pick_ids(ts.name, &sp, split, n, &r, &ids, &m);
    if (rc == 0) {
        ts.items = xcalloc((size_t)m, sizeof *ts.items);
        for (int i = 0; i < m && rc == 0; i++, ts.n++)
            rc = sp.make(sp.ctx, ids[i], &ts.items[i]);
    }
    free(ids);
    if (sp.free_ctx) sp.free_ctx(sp.ctx);
    if (rc) {
        taskset_free(&ts);
        return -1;
    }
    *out = ts;
    return 0;
}

// ---- text built from a set ----------------------------------------------

static const char *answer_of(const TaskItem *it) {
    if (it->choices && it->correct >= 0 && it->correct < it->n_choices)
        return it->choices[it->correct];
    return it->target ? it->target : "";
}

// What follows an item's stop in training text: the rest of shot_sep, so that items sit
// as they do in a few-shot prompt ("A: 579" "\n" "\n" "Q: ..." for bigbench).
static const char *sep_tail(const TaskSet *ts) {
    size_t sl = strlen(ts->stop);
    return strncmp(ts->shot_sep, ts->stop, sl) ? ts->shot_sep : ts->shot_sep + sl;
}

// With no shot_sep, a prompt that starts with the stop (gpt3: "\n\nQ: ...") carries the
// previous item's stop itself: the stop is not written twice, and the prompt's first bytes
// are trained on as that stop, so the text reads as the few-shot prompt does.
static int stop_in_next(const TaskSet *ts, int i) {
    size_t sl = strlen(ts->stop);
    return !ts->shot_sep[0] && sl && i + 1 < ts->n &&
           !strncmp(ts->items[i + 1].prompt, ts->stop, sl);
}

int task_training_text(const TaskSet *ts, char **text, unsigned char **mask, size_t *len) {
    const char *tail = sep_tail(ts);
    size_t ap = strlen(ts->answer_prefix), sl = strlen(ts->stop), tl = strlen(tail), total = 0;
    for (int i = 0; i < ts->n; i++) {
        const TaskItem *it = &ts->items[i];
        total += strlen(it->prompt) + ap + (it->scratch ? strlen(it->scratch) : 0) +
                 strlen(answer_of(it)) + (stop_in_next(ts, i) ? 0 : sl) +
                 (i + 1 < ts->n ? tl : 0);
    }
    char *t = xmalloc(total + 1);
    unsigned char *m = xmalloc(total + 1);
    size_t p = 0;
#define PUT(s, bit)                                   \
    do {                                              \
        size_t l_ = strlen(s);                        \
        memcpy(t + p, (s), l_);                       \
        memset(m + p, (bit), l_);                     \
        p += l_;                                      \
    } while (0)
    for (int i = 0; i < ts->n; i++) {
        const TaskItem *it = &ts->items[i];
        if (i > 0) PUT(tail, 0);
        size_t p0 = p;
        PUT(it->prompt, 0);
        if (i > 0 && stop_in_next(ts, i - 1)) memset(m + p0, 1, sl);
        PUT(ts->answer_prefix, 0);
        if (it->scratch) PUT(it->scratch, 1);
        PUT(answer_of(it), 1);
        if (!stop_in_next(ts, i)) PUT(ts->stop, 1);
    }
#undef PUT
    t[p] = 0;
    m[p] = 0;
    *text = t;
    *mask = m;
    *len = p;
    return 0;
}

char *task_fewshot_prompt(const TaskSet *ts, const TaskItem *shots, int k,
                          const TaskItem *query) {
    const char *tp = ts->task_prefix ? ts->task_prefix : "";
    size_t total = strlen(tp) + strlen(query->prompt) + strlen(ts->answer_prefix) + 1;
    for (int i = 0; i < k; i++)
        total += strlen(shots[i].prompt) + strlen(ts->answer_prefix) +
                 (shots[i].scratch ? strlen(shots[i].scratch) : 0) +
                 strlen(answer_of(&shots[i])) + strlen(ts->shot_sep);
    char *s = xmalloc(total);
    s[0] = 0;
    strcat(s, tp);
    for (int i = 0; i < k; i++) {
        strcat(s, shots[i].prompt);
        strcat(s, ts->answer_prefix);
        if (shots[i].scratch) strcat(s, shots[i].scratch);
        strcat(s, answer_of(&shots[i]));
        strcat(s, ts->shot_sep);
    }
    strcat(s, query->prompt);
    strcat(s, ts->answer_prefix);
    return s;
}

char *task_extract_answer(const TaskSet *ts, const char *gen) {
    size_t n = strlen(gen);
    if (ts->stop[0]) {
        const char *e = strstr(gen, ts->stop);
        if (e) n = (size_t)(e - gen);
    }
    size_t start = 0;
    if (ts->has_scratch) {
        static const char end[] = "</scratch>\n";
        for (size_t i = 0; i + sizeof end - 1 <= n; i++)
            if (!memcmp(gen + i, end, sizeof end - 1)) start = i + sizeof end - 1;
    }
    char *a = xmalloc(n - start + 1);
    memcpy(a, gen + start, n - start);
    a[n - start] = 0;
    return a;
}

const char *task_specs_help(void) {
    return "task specs:\n"
           "  add:N[:FMT] sub:N[:FMT] mul:N[:FMT]  N-digit arithmetic, N = 1..10 (sub: a >= b)\n"
           "      FMT plain    123+456=579 (default)\n"
           "          bigbench \\nQ: What is 123 plus 456?\\nA: 579\n"
           "          gpt3     \\n\\nQ: What is 123 plus 456?\\n\\nA: 579  (openai/gpt-3's files)\n"
           "          pad      007+045=0052  (operands to N digits, answer to N+1 / N / 2N)\n"
           "          rev      123+456=975   (answer least significant digit first)\n"
           "          padrev   007+045=2500\n"
           "          scratch  add only: Nye et al. 2021 scratchpad, digits space-separated\n"
           "          direct   add only: the scratchpad's prompt and answer, no scratchpad\n"
           "      test split: a fixed 1/8 of the operand pairs (keyed hash)\n"
           "  mod:P:OP[:FRAC]  a OP b = c (mod P), OP + - * / (/ needs P prime), P = 2..431;\n"
           "      element x is the one character U+0100+x; FRAC = training fraction (0.5)\n"
           "  facts[:N]   N invented countries and capitals (200); 1 in 4 held out: trained as\n"
           "      statements only, asked as questions in the test split\n"
           "  ioi         multiple choice: indirect-object identification\n"
           "  falsebelief multiple choice: the unexpected-contents false-belief test\n"
           "  evtrap      multiple choice: the expected-value (hindsight) trap\n";
}
