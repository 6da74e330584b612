// tasks: synthetic facts over invented names (country -> capital), stated as sentences for
// training and asked as questions, with one entity in four held out of the questions.
#include "data/tasks_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FACTS_WORLD 0x776f726c64763155ULL  // the names: fixed forever
#define KEY_FACTS_SPLIT 0x66616374735f7631ULL
#define FACTS_MAX 20000

typedef struct {
    int N;
    char (*country)[24];
    char (*capital)[24];
} Facts;

static const char *onset[] = { "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t",
                               "v", "z", "br", "dr", "kr", "st", "th", "gr", "sh", "tr" };
static const char *vowel[] = { "a", "e", "i", "o", "u", "ai", "ou", "ea" };
static const char *coda[] = { "", "", "n", "r", "s", "l", "th", "nd", "sk" };
static const char *land_end[] = { "ia", "land", "stan", "or", "ovia", "esh", "ara", "enia" };
static const char *city_end[] = { "", "ton", "burg", "grad", "mar", "dor", "vik", "pol" };
#define NA(a) (sizeof(a) / sizeof(a)[0])

// One or two syllables and an ending; the draws are sequenced (argument order is unspecified).
static void make_name(Rng *r, const char **ends, size_t n_ends, char *out) {
    int syl = 1 + (int)rng_below(r, 2);
    const char *end = ends[rng_below(r, (uint32_t)n_ends)];
    out[0] = 0;
    for (int i = 0; i < syl; i++) {
        strcat(out, onset[rng_below(r, NA(onset))]);
        strcat(out, vowel[rng_below(r, NA(vowel))]);
        if (i == syl - 1 && !end[0]) strcat(out, coda[rng_below(r, NA(coda))]);
    }
    strcat(out, end);
    out[0] = (char)(out[0] - 'a' + 'A');
}

// A set of 64-bit name hashes (a collision only rejects a name: still deterministic).
typedef struct { uint64_t *k; size_t cap; } NameSet;

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h | 1;  // 0 marks an empty slot
}

static int nameset_add(NameSet *s, const char *name) {
    uint64_t h = fnv(name);
    size_t i = h & (s->cap - 1);
    while (s->k[i]) {
        if (s->k[i] == h) return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->k[i] = h;
    return 1;
}

// The world: entity i's names depend on i alone (a prefix of any larger world).
static void facts_world(Facts *f) {
    Rng r;
    rng_seed(&r, KEY_FACTS_WORLD);
    NameSet set = { NULL, 1 };
    while (set.cap < 8 * (size_t)f->N) set.cap <<= 1;
    set.k = xcalloc(set.cap, sizeof *set.k);
    f->country = xmalloc((size_t)f->N * sizeof *f->country);
    f->capital = xmalloc((size_t)f->N * sizeof *f->capital);
    for (int i = 0; i < f->N; i++) {
        do make_name(&r, land_end, NA(land_end), f->country[i]);
        while (!nameset_add(&set, f->country[i]));
        do make_name(&r, city_end, NA(city_end), f->capital[i]);
        while (!nameset_add(&set, f->capital[i]));
    }
    free(set.k);
}

static void facts_free(void *ctx) {
    Facts *f = ctx;
    free(f->country);
    free(f->capital);
    free(f);
}

// ids: (0, e) the statement of entity e, (1, e) the question about it.
static int facts_nth(void *ctx, uint64_t i, TaskId *id) {
    const Facts *f = ctx;
    id->a = i / (uint64_t)f->N;
    id->b = i % (uint64_t)f->N;
    return 1;
}

static int facts_held_out(uint64_t e) { return task_hash(KEY_FACTS_SPLIT, e, 0) % 4 == 0; }

static int facts_split(void *ctx, TaskId id) {
    return id.a == 1 && facts_held_out(id.b) ? TASK_TEST : TASK_TRAIN;
}

static int facts_make(void *ctx, TaskId id, TaskItem *it) {
    const Facts *f = ctx;
    const char *c = f->country[id.b], *k = f->capital[id.b];
    if (id.a == 0) {
        it->prompt = task_strdup("");
        it->target = task_fmt("The capital of %s is %s.", c, k);
    } else {
        it->prompt = task_fmt("Q: What is the capital of %s?\nA: ", c);
        it->target = task_strdup(k);
    }
    return 0;
}

int task_space_facts(const char *spec, const char *args, TaskSpace *sp, TaskSet *ts) {
    long N = 200;
    if (args) {
        char *end;
        N = strtol(args, &end, 10);
        if (end == args || *end || N < 1 || N > FACTS_MAX)
            return em_error("task spec \"%s\": N: expected a number of entities 1..%d", spec,
                            FACTS_MAX);
    }
    Facts *f = xcalloc(1, sizeof *f);
    f->N = (int)N;
    facts_world(f);
    sp->ctx = f;
    sp->free_ctx = facts_free;
    sp->size = 2 * (uint64_t)N;
    sp->nth = facts_nth;
    sp->split_of = facts_split;
    sp->make = facts_make;
    snprintf(ts->name, sizeof ts->name, "facts:%ld", N);
    return 0;
}
