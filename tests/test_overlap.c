// Tests for src/data/overlap: the n-gram index against a brute-force substring search, whole-
// item matching below n, the overlapping spans, and a planted test item in generated data.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/data.h"
#include "data/tasks.h"
#include "test.h"

// Whether s[0..m) occurs in t[0..len): the reference.
static int occurs(const uint32_t *t, size_t len, const uint32_t *s, int m) {
    for (size_t i = 0; i + (size_t)m <= len; i++)
        if (!memcmp(t + i, s, (size_t)m * sizeof *s)) return 1;
    return 0;
}

// Random streams over a 6-symbol alphabet (so that short grams repeat and long ones mostly do
// not), items drawn as windows of the stream (some mutated): the index agrees with the brute
// force on every item and every span.
static void test_against_brute_force(void) {
    Rng r;
    rng_seed(&r, 7);
    size_t len = 5000;
    uint32_t *t = malloc(len * sizeof *t);
    for (size_t i = 0; i < len; i++) t[i] = 100 + rng_below(&r, 6);
    int n = 12, lens[] = {3, 5, 11};
    OverlapIndex ix;
    CHECK(overlap_build(&ix, t, len, n, lens, 3) == 0, "build: %s", em_errmsg());
    CHECK(ix.n_short == 3 && ix.n_tokens == len, "short tables %d", ix.n_short);
    int agree = 0, total = 0, dirty = 0;
    for (int k = 0; k < 600; k++) {
        int m = k % 3 == 0 ? lens[rng_below(&r, 3)] : n + (int)rng_below(&r, 30);
        uint32_t s[64];
        size_t at = rng_below(&r, (uint32_t)(len - (size_t)m));
        memcpy(s, t + at, (size_t)m * sizeof *s);
        if (k % 2)  // every 6th symbol redrawn, maybe outside the alphabet: most become unseen
            for (int i = (int)rng_below(&r, 6); i < m; i += 6) s[i] = 100 + rng_below(&r, 7);
        unsigned char cov[64];
        int d = overlap_check(&ix, s, m, cov), want = 0;
        int cov_ok = 1;
        if (m < n) {
            want = occurs(t, len, s, m);
            for (int i = 0; i < m; i++) cov_ok &= cov[i] == want;
        } else {
            unsigned char ref[64] = {0};
            for (int i = 0; i + n <= m; i++)
                if (occurs(t, len, s + i, n)) { want = 1; memset(ref + i, 1, (size_t)n); }
            cov_ok = !memcmp(ref, cov, (size_t)m);
        }
        agree += d == want && cov_ok;
        dirty += want;
        total++;
    }
    CHECK(agree == total, "index agrees with the brute force on %d of %d items", agree, total);
    CHECK(dirty > 100 && dirty < total - 100, "both kinds tested: %d dirty of %d", dirty, total);
    uint32_t s4[4] = {100, 101, 102, 100};
    CHECK(overlap_check(&ix, s4, 4, NULL) == -1 && strstr(em_errmsg(), "no whole-item table"),
          "an unindexed short length is refused: %s", em_errmsg());
    overlap_free(&ix);
    CHECK(overlap_build(&ix, t, len, 0, NULL, 0) == -1, "n = 0 refused");
    int bad = 13;
    CHECK(overlap_build(&ix, t, len, 12, &bad, 1) == -1 && strstr(em_errmsg(), "length 13"),
          "a short length above n refused: %s", em_errmsg());
    free(t);
}

// GPT-3's rule on text: a planted copy of an item is found, with its span; a near-duplicate
// that shares only n - 1 characters at a time with the training text is not.
static void test_planted_text(void) {
    const char *train = "It was the best of times, it was the worst of times.\n"
                        "The quick brown fox jumps over the lazy dog.\n";
    size_t len = strlen(train);
    uint32_t t[256];
    for (size_t i = 0; i < len; i++) t[i] = (unsigned char)train[i];
    OverlapIndex ix;
    CHECK(overlap_build(&ix, t, len, 13, NULL, 0) == 0, "build");
    TaskSet ts = {0};
    snprintf(ts.stop, sizeof ts.stop, "\n");
    TaskItem items[3] = {
        {.prompt = "Q: Finish: the quick brown fox jumps ", .target = "over"},  // 25+ chars copied
        {.prompt = "brown fox juXps over thX lazy dog", .target = "."},  // runs of <= 12 shared
        {.prompt = "Nothing here resembles the text", .target = "."},
    };
    ts.items = items;
    ts.n = 3;
    OverlapReport rep;
    CHECK(overlap_check_set(&ix, &ts, &rep) == 0, "check set: %s", em_errmsg());
    CHECK(rep.n_dirty == 1 && rep.dirty[0] && !rep.dirty[1] && !rep.dirty[2],
          "planted found, near-duplicate not: dirty %d %d %d", rep.dirty[0], rep.dirty[1],
          rep.dirty[2]);
    // "he quick brown fox jumps over" is in the text (Q: Finish: t|he ...): span [12, 41)
    CHECK(rep.n_spans[0] == 1 && rep.spans[0][0] == 12 && rep.spans[0][1] == 41,
          "span [%d, %d)", rep.n_spans[0] ? rep.spans[0][0] : -1,
          rep.n_spans[0] ? rep.spans[0][1] : -1);
    overlap_report_free(&rep);
    overlap_free(&ix);
}

// Generated data: the test split of add:3 is disjoint from its train split, so no test item
// is in the training stream; the train split's items are all found whole.
static void test_generated_splits(void) {
    Tokenizer tok = {0};
    TokenData d;
    char *src = NULL;
    CHECK(data_load_mixture("add:2:pad", 0, 200, 1, &tok, 16, &d, &src) == 0, "load: %s",
          em_errmsg());
    size_t len;
    uint32_t *s = overlap_train_symbols(&d, &tok, &len);
    TaskSet te, tr;
    CHECK(task_generate("add:2:pad", TASK_TEST, 0, 1, &te) == 0, "test split");
    CHECK(task_generate("add:2:pad", TASK_TRAIN, 300, 2, &tr) == 0, "train split");
    const TaskSet *sets[2] = {&te, &tr};
    int lens[OVERLAP_MAX_SHORT], nl;
    CHECK(overlap_short_lengths(sets, 2, 13, lens, OVERLAP_MAX_SHORT, &nl) == 0 && nl == 1 &&
          lens[0] == 10, "one short length (\"07+45=052\\n\" is 10): %d %d", nl, lens[0]);
    OverlapIndex ix;
    CHECK(overlap_build(&ix, s, len, 13, lens, nl) == 0, "build");
    OverlapReport a, b;
    CHECK(overlap_check_set(&ix, &te, &a) == 0 && overlap_check_set(&ix, &tr, &b) == 0, "check");
    CHECK(a.n_dirty == 0 && a.n_whole == te.n, "test split clean: %d dirty of %d", a.n_dirty,
          a.n_items);
    CHECK(b.n_dirty == tr.n, "train split found: %d of %d", b.n_dirty, b.n_items);
    overlap_report_free(&a);
    overlap_report_free(&b);
    overlap_free(&ix);
    taskset_free(&te);
    taskset_free(&tr);
    free(s);
    free(src);
    data_free(&d);
    tok_free(&tok);
}

int main(void) {
    RUN(test_against_brute_force);
    RUN(test_planted_text);
    RUN(test_generated_splits);
    return test_summary();
}
