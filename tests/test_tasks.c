// Tests for src/data/tasks: determinism, train/test disjointness, the exact surface formats,
// the scratchpad, the training mask, few-shot prompts, and the BIG-bench and JSONL loaders.
#include "data/tasks_impl.h"
#include "data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

// ---- helpers ----------------------------------------------------------------

static int same_items(const TaskSet *a, const TaskSet *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->items[i].prompt, b->items[i].prompt) ||
            strcmp(a->items[i].target, b->items[i].target))
            return 0;
    return 1;
}

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

// The number of test prompts that also occur among the train prompts.
static int overlap(const TaskSet *tr, const TaskSet *te) {
    char **v = malloc((size_t)tr->n * sizeof *v);
    for (int i = 0; i < tr->n; i++) v[i] = tr->items[i].prompt;
    qsort(v, (size_t)tr->n, sizeof *v, cmp_str);
    int hits = 0;
    for (int i = 0; i < te->n; i++)
        hits += bsearch(&te->items[i].prompt, v, (size_t)tr->n, sizeof *v, cmp_str) != NULL;
    free(v);
    return hits;
}

// The number of distinct prompts in a set.
static int distinct(const TaskSet *ts) {
    char **v = malloc((size_t)ts->n * sizeof *v);
    for (int i = 0; i < ts->n; i++) v[i] = ts->items[i].prompt;
    qsort(v, (size_t)ts->n, sizeof *v, cmp_str);
    int d = ts->n > 0;
    for (int i = 1; i < ts->n; i++) d += strcmp(v[i], v[i - 1]) != 0;
    free(v);
    return d;
}

// One item of a generator family made directly from its id (operands), via the internals.
static TaskItem make_one(const char *spec, uint64_t a, uint64_t b, TaskSet *ts) {
    TaskSpace sp = { 0 };
    TaskItem it = { 0 };
    taskset_init(ts, spec);
    const char *args = strchr(spec, ':') ? strchr(spec, ':') + 1 : NULL;
    int rc;
    if (!strncmp(spec, "add", 3)) rc = task_space_arith(spec, '+', args, &sp, ts);
    else if (!strncmp(spec, "sub", 3)) rc = task_space_arith(spec, '-', args, &sp, ts);
    else if (!strncmp(spec, "mul", 3)) rc = task_space_arith(spec, '*', args, &sp, ts);
    else if (!strncmp(spec, "mod", 3)) rc = task_space_mod(spec, args, &sp, ts);
    else {
        char fam[32];
        snprintf(fam, sizeof fam, "%s", spec);
        rc = task_space_mc(spec, fam, NULL, &sp, ts);
    }
    if (rc == 0) sp.make(sp.ctx, (TaskId){ a, b }, &it);
    if (sp.free_ctx) sp.free_ctx(sp.ctx);
    return it;
}

static void free_item(TaskItem *it) {
    TaskSet t = { 0 };
    t.items = malloc(sizeof *it);
    t.items[0] = *it;
    t.n = 1;
    taskset_free(&t);
}

#define EXPECT_ITEM(spec, a, b, P, T)                                                    \
    do {                                                                                 \
        TaskSet ts_;                                                                     \
        TaskItem it_ = make_one(spec, a, b, &ts_);                                       \
        CHECK(it_.prompt && !strcmp(it_.prompt, P), "%s prompt [%s]", spec,              \
              it_.prompt ? it_.prompt : "(null)");                                       \
        CHECK(it_.target && !strcmp(it_.target, T), "%s target [%s]", spec,              \
              it_.target ? it_.target : "(null)");                                       \
        free_item(&it_);                                                                 \
        taskset_free(&ts_);                                                              \
    } while (0)

// ---- generators -------------------------------------------------------------

static void test_determinism(void) {
    const char *specs[] = { "add:3", "add:5:pad", "mul:2:gpt3", "mod:97:*:0.4", "facts:50",
                            "ioi", "falsebelief", "evtrap" };
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        TaskSet a, b, c;
        CHECK(task_generate(specs[k], TASK_TEST, 40, 7, &a) == 0, "%s: %s", specs[k], em_errmsg());
        CHECK(task_generate(specs[k], TASK_TEST, 40, 7, &b) == 0, "%s", specs[k]);
        CHECK(task_generate(specs[k], TASK_TEST, 40, 8, &c) == 0, "%s", specs[k]);
        CHECK(a.n == 40 && same_items(&a, &b), "%s: same seed, same items", specs[k]);
        CHECK(!same_items(&a, &c), "%s: another seed, other items", specs[k]);
        taskset_free(&a); taskset_free(&b); taskset_free(&c);
    }
}

static void test_disjoint_listed(void) {
    struct { const char *spec; int space; } cases[] = {
        { "add:1", 100 }, { "add:2", 8100 }, { "add:3:gpt3", 810000 }, { "sub:2", 4095 },
        { "mul:2:pad", 8100 }, { "mod:97:+:0.3", 97 * 97 }, { "mod:97:/", 97 * 96 },
        { "facts", 400 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        TaskSet tr, te;
        CHECK(task_generate(cases[k].spec, TASK_TRAIN, 0, 1, &tr) == 0, "%s: %s", cases[k].spec,
              em_errmsg());
        CHECK(task_generate(cases[k].spec, TASK_TEST, 0, 2, &te) == 0, "%s", cases[k].spec);
        CHECK(tr.n + te.n == cases[k].space, "%s: %d + %d items, expected %d", cases[k].spec,
              tr.n, te.n, cases[k].space);
        CHECK(te.n > 0 && tr.n > 0, "%s: sizes %d %d", cases[k].spec, tr.n, te.n);
        CHECK(overlap(&tr, &te) == 0, "%s: test items in train", cases[k].spec);
        CHECK(distinct(&te) == te.n, "%s: repeated test items", cases[k].spec);
        if (!strcmp(cases[k].spec, "mod:97:+:0.3")) {
            double f = (double)tr.n / (tr.n + te.n);
            CHECK(f > 0.27 && f < 0.33, "train fraction %.3f, expected about 0.3", f);
        }
        if (!strcmp(cases[k].spec, "add:2")) {  // about 1/8 held out
            CHECK(te.n > 8100 / 10 && te.n < 8100 / 6, "add:2 test size %d", te.n);
        }
        taskset_free(&tr); taskset_free(&te);
    }
}

static void test_disjoint_sampled(void) {
    const char *specs[] = { "add:5", "mul:10:pad", "ioi", "falsebelief", "evtrap" };
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        TaskSet tr, te;
        CHECK(task_generate(specs[k], TASK_TRAIN, 6000, 3, &tr) == 0, "%s: %s", specs[k],
              em_errmsg());
        CHECK(task_generate(specs[k], TASK_TEST, 800, 4, &te) == 0, "%s: %s", specs[k],
              em_errmsg());
        CHECK(overlap(&tr, &te) == 0, "%s: test items in train", specs[k]);
        CHECK(distinct(&tr) == tr.n && distinct(&te) == te.n, "%s: repeats", specs[k]);
        taskset_free(&tr); taskset_free(&te);
    }
    TaskSet ts;
    CHECK(task_generate("add:5", TASK_TEST, 0, 1, &ts) == -1, "sampled spaces need n > 0");
    CHECK(strstr(em_errmsg(), "add:5") && strstr(em_errmsg(), "n:"), "%s", em_errmsg());
}

// The test split of a small space is a fixed subset whatever the seed; long streams cycle.
static void test_fixed_split_and_cycling(void) {
    TaskSet a, b, tr;
    CHECK(task_generate("add:1", TASK_TEST, 0, 11, &a) == 0, "%s", em_errmsg());
    CHECK(task_generate("add:1", TASK_TEST, 0, 12, &b) == 0, "%s", em_errmsg());
    CHECK(a.n == b.n && a.n > 0, "%d %d", a.n, b.n);
    CHECK(overlap(&a, &b) == a.n, "the same subset for both seeds");
    CHECK(task_generate("add:1", TASK_TRAIN, 1000, 1, &tr) == 0, "%s", em_errmsg());
    CHECK(tr.n == 1000 && distinct(&tr) == 100 - a.n, "%d items, %d distinct", tr.n,
          distinct(&tr));
    CHECK(overlap(&a, &tr) == 0, "cycled train holds no test item");
    for (int i = 0; i < tr.n; i++) {  // every item is right
        int x, y;
        sscanf(tr.items[i].prompt, "%d+%d=", &x, &y);
        CHECK(atoi(tr.items[i].target) == x + y, "%s%s", tr.items[i].prompt, tr.items[i].target);
    }
    taskset_free(&a); taskset_free(&b); taskset_free(&tr);
}

static void test_formats(void) {
    EXPECT_ITEM("add:3", 123, 456, "123+456=", "579");
    EXPECT_ITEM("add:3:plain", 999, 999, "999+999=", "1998");
    EXPECT_ITEM("add:3:bigbench", 123, 456, "\nQ: What is 123 plus 456?\nA: ", "579");
    // gpt3: openai/gpt-3's data files, byte for byte (two_digit_addition.jsonl line 1,
    // two_digit_subtraction.jsonl line 2, two_digit_multiplication.jsonl line 1)
    EXPECT_ITEM("add:2:gpt3", 98, 45, "\n\nQ: What is 98 plus 45?\n\nA:", " 143");
    EXPECT_ITEM("sub:2:gpt3", 20, 5, "\n\nQ: What is 20 minus 5?\n\nA:", " 15");
    EXPECT_ITEM("mul:2:gpt3", 95, 45, "\n\nQ: What is 95 times 45?\n\nA:", " 4275");
    EXPECT_ITEM("add:3:gpt3", 556, 497, "\n\nQ: What is 556 plus 497?\n\nA:", " 1053");
    EXPECT_ITEM("add:3:pad", 7, 45, "007+045=", "0052");
    EXPECT_ITEM("add:3:rev", 123, 456, "123+456=", "975");
    EXPECT_ITEM("add:3:padrev", 7, 45, "007+045=", "2500");
    EXPECT_ITEM("add:3:padrev", 999, 999, "999+999=", "8991");
    EXPECT_ITEM("sub:3", 456, 123, "456-123=", "333");
    EXPECT_ITEM("sub:3:gpt3", 509, 488, "\n\nQ: What is 509 minus 488?\n\nA:", " 21");
    EXPECT_ITEM("sub:3:pad", 100, 99, "100-099=", "001");
    EXPECT_ITEM("mul:2", 12, 34, "12*34=", "408");
    EXPECT_ITEM("mul:2:bigbench", 12, 34, "\nQ: What is 12 times 34?\nA: ", "408");
    EXPECT_ITEM("mul:2:pad", 10, 10, "10*10=", "0100");
    EXPECT_ITEM("mul:10", 9999999999ULL, 9999999999ULL, "9999999999*9999999999=",
                "99999999980000000001");
    EXPECT_ITEM("add:10", 9999999999ULL, 1, "9999999999+1=", "10000000000");
    // mod: one character per element, U+0100 + x
    EXPECT_ITEM("mod:97:+", 3, 5, "\xc4\x83+\xc4\x85=", "\xc4\x88");
    EXPECT_ITEM("mod:97:-", 3, 5, "\xc4\x83-\xc4\x85=", "\xc5\x9f");  // 95 = U+015F
    EXPECT_ITEM("mod:97:/", 1, 2, "\xc4\x81/\xc4\x82=", "\xc4\xb1");  // 2^-1 = 49 = U+0131
    EXPECT_ITEM("mod:97:*", 96, 96, "\xc5\xa0*\xc5\xa0=", "\xc4\x81");  // (-1)^2 = 1

    TaskSet ts;  // set-level strings
    CHECK(task_generate("add:3:gpt3", TASK_TEST, 3, 1, &ts) == 0, "%s", em_errmsg());
    CHECK(!strcmp(ts.name, "add:3:gpt3") && !strcmp(ts.shot_sep, "") &&
          !strcmp(ts.stop, "\n") && ts.numeric && !ts.multiple_choice, "gpt3 set fields");
    taskset_free(&ts);
    CHECK(task_generate("add:2", TASK_TEST, 3, 1, &ts) == 0, "%s", em_errmsg());
    CHECK(!strcmp(ts.name, "add:2:plain") && !strcmp(ts.shot_sep, "\n") && ts.numeric, "name");
    taskset_free(&ts);
    CHECK(task_generate("add:2:rev", TASK_TEST, 3, 1, &ts) == 0 && !ts.numeric, "rev");
    taskset_free(&ts);
    CHECK(task_generate("mod:97:+", TASK_TEST, 3, 1, &ts) == 0 &&
          !strcmp(ts.name, "mod:97:+:0.5"), "mod name %s", ts.name);
    taskset_free(&ts);
}

// Every mod item is right: decode the elements and check c = a OP b (mod 97).
static void test_mod_items(void) {
    const char ops[] = "+-*/";
    for (int k = 0; k < 4; k++) {
        char spec[32];
        snprintf(spec, sizeof spec, "mod:97:%c:0.5", ops[k]);
        TaskSet ts;
        CHECK(task_generate(spec, TASK_TRAIN, 0, 5, &ts) == 0, "%s", em_errmsg());
        for (int i = 0; i < ts.n; i++) {
            const unsigned char *p = (const unsigned char *)ts.items[i].prompt;
            const unsigned char *t = (const unsigned char *)ts.items[i].target;
            CHECK(strlen((const char *)p) == 6 && strlen((const char *)t) == 2, "lengths");
            int a = (((p[0] & 0x1f) << 6) | (p[1] & 0x3f)) - 0x100;
            int b = (((p[3] & 0x1f) << 6) | (p[4] & 0x3f)) - 0x100;
            int c = (((t[0] & 0x1f) << 6) | (t[1] & 0x3f)) - 0x100;
            int ok = ops[k] == '+' ? (a + b) % 97 == c
                   : ops[k] == '-' ? (a - b + 97) % 97 == c
                   : ops[k] == '*' ? a * b % 97 == c : (c * b) % 97 == a;
            CHECK(ok && p[2] == (unsigned char)ops[k] && p[5] == '=', "%s item %d: %d %d %d",
                  spec, i, a, b, c);
            if (!ok) break;
        }
        taskset_free(&ts);
    }
}

// Nye et al. 2021, Figure 2: 29 + 57.
static const char SCRATCH_29_57[] = "<scratch>\n"
                                    "2 9 + 5 7 , C: 0\n"
                                    "2 + 5 , 6 C: 1\n"
                                    ", 8 6 C: 0\n"
                                    "0 8 6\n"
                                    "</scratch>\n";

static void test_scratchpad(void) {
    TaskSet ts;
    TaskItem it = make_one("add:2:scratch", 29, 57, &ts);
    CHECK(!strcmp(it.prompt, "Input:\n2 9 + 5 7\nTarget:\n"), "[%s]", it.prompt);
    CHECK(it.scratch && !strcmp(it.scratch, SCRATCH_29_57), "[%s]", it.scratch);
    CHECK(!strcmp(it.target, "8 6"), "[%s]", it.target);
    CHECK(ts.has_scratch && !strcmp(ts.stop, "\n\n") && !ts.numeric, "set fields");
    free_item(&it);
    taskset_free(&ts);
    it = make_one("add:1:scratch", 7, 5, &ts);
    CHECK(!strcmp(it.scratch, "<scratch>\n7 + 5 , C: 0\n, 2 C: 1\n1 2\n</scratch>\n"), "[%s]",
          it.scratch);
    CHECK(!strcmp(it.target, "1 2"), "[%s]", it.target);
    free_item(&it);
    taskset_free(&ts);
    it = make_one("add:2:direct", 29, 57, &ts);
    CHECK(!strcmp(it.prompt, "Input:\n2 9 + 5 7\nTarget:\n") && !it.scratch &&
          !strcmp(it.target, "8 6") && !ts.has_scratch, "direct twin");
    free_item(&it);
    taskset_free(&ts);
    // the answer inside a generation
    CHECK(task_generate("add:2:scratch", TASK_TEST, 1, 1, &ts) == 0, "%s", em_errmsg());
    char *gen = malloc(strlen(SCRATCH_29_57) + 32);
    sprintf(gen, "%s8 6\n\nInput:\n1 2", SCRATCH_29_57);
    char *ans = task_extract_answer(&ts, gen);
    CHECK(!strcmp(ans, "8 6"), "[%s]", ans);
    free(ans);
    free(gen);
    taskset_free(&ts);
    CHECK(task_generate("add:2", TASK_TEST, 1, 1, &ts) == 0, "%s", em_errmsg());
    ans = task_extract_answer(&ts, "86\n12+3");
    CHECK(!strcmp(ans, "86"), "[%s]", ans);
    free(ans);
    taskset_free(&ts);
}

static void test_facts(void) {
    TaskSet tr, te, big;
    CHECK(task_generate("facts:40", TASK_TRAIN, 0, 1, &tr) == 0, "%s", em_errmsg());
    CHECK(task_generate("facts:40", TASK_TEST, 0, 1, &te) == 0, "%s", em_errmsg());
    CHECK(task_generate("facts:80", TASK_TEST, 0, 1, &big) == 0, "%s", em_errmsg());
    CHECK(tr.n + te.n == 80 && te.n > 0, "%d %d", tr.n, te.n);
    // Each test question's answer is stated in a training sentence, never asked there.
    for (int i = 0; i < te.n; i++) {
        char country[64], want[160];
        CHECK(sscanf(te.items[i].prompt, "Q: What is the capital of %63[^?]?", country) == 1,
              "[%s]", te.items[i].prompt);
        snprintf(want, sizeof want, "The capital of %s is %s.", country, te.items[i].target);
        int stated = 0, asked = 0;
        for (int j = 0; j < tr.n; j++) {
            stated += !strcmp(tr.items[j].prompt, "") && !strcmp(tr.items[j].target, want);
            asked += strstr(tr.items[j].prompt, country) != NULL;
        }
        CHECK(stated == 1 && asked == 0, "%s: stated %d, asked %d", want, stated, asked);
    }
    // The world does not depend on N: facts:40's held-out questions are in facts:80's.
    CHECK(overlap(&big, &te) == te.n, "a larger world keeps the names");
    taskset_free(&tr); taskset_free(&te); taskset_free(&big);
}

static void test_multiple_choice(void) {
    TaskSet ts;
    // ioi: Mary=0, John=1, giver second, store, drink, template 0
    TaskItem it = make_one("ioi", 20, 0, &ts);
    CHECK(!strcmp(it.prompt, "When Mary and John went to the store, John gave a drink to"),
          "[%s]", it.prompt);
    CHECK(it.n_choices == 2 && !strcmp(it.choices[it.correct], " Mary") &&
          !strcmp(it.choices[!it.correct], " John") && !strcmp(it.target, " Mary") &&
          it.choice_scores[it.correct] == 1 && it.choice_scores[!it.correct] == 0, "choices");
    free_item(&it);
    taskset_free(&ts);
    // falsebelief: Sam, bag, popcorn, label chocolate, the belief question
    it = make_one("falsebelief", 12 * 6 * 10 * 11, 1, &ts);
    CHECK(!strcmp(it.prompt,
                  "Here is a bag filled with popcorn. There is no chocolate in the bag. Yet, the "
                  "label on the bag says \"chocolate\" and not \"popcorn\". Sam finds the bag. "
                  "She has never seen it before and cannot see what is inside. She reads the "
                  "label. She believes that the bag is full of"), "[%s]", it.prompt);
    CHECK(!strcmp(it.target, " chocolate") && !strcmp(it.choices[!it.correct], " popcorn"),
          "[%s]", it.target);
    free_item(&it);
    taskset_free(&ts);
    // evtrap: Sam, 95% to lose 50, 5% to win 5, wins: a bad bet
    it = make_one("evtrap", 12 * (12 + 13 * 3), 2, &ts);
    CHECK(!strcmp(it.prompt, "Sam can play a game with a 95% chance to lose 50 dollars and a "
                             "5% chance to win 5 dollars. Sam plays and wins 5 dollars. Was "
                             "it a good bet? Answer:"), "[%s]", it.prompt);
    CHECK(!strcmp(it.target, " no") && !strcmp(it.choices[it.correct], " no"), "[%s]",
          it.target);
    free_item(&it);
    taskset_free(&ts);
    // generated sets: both answer positions occur, the target is the right choice
    const char *fams[] = { "ioi", "falsebelief", "evtrap" };
    for (int k = 0; k < 3; k++) {
        CHECK(task_generate(fams[k], TASK_TEST, 200, 9, &ts) == 0, "%s", em_errmsg());
        int first = 0;
        for (int i = 0; i < ts.n; i++) {
            first += ts.items[i].correct == 0;
            CHECK(!strcmp(ts.items[i].target, ts.items[i].choices[ts.items[i].correct]), "t");
        }
        CHECK(ts.multiple_choice && first > 50 && first < 150, "%s: %d first", fams[k], first);
        taskset_free(&ts);
    }
}

static void test_spec_errors(void) {
    const char *bad[] = { "add", "add:0", "add:11", "add:3:foo", "sub:2:scratch", "mul:x",
                          "mod:97", "mod:97:^", "mod:98:/", "mod:97:+:1.5", "mod:97:+:x",
                          "mod:1000:+", "facts:0", "facts:abc", "ioi:3", "bogus:1", "" };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        TaskSet ts;
        CHECK(task_generate(bad[k], TASK_TEST, 5, 1, &ts) == -1, "\"%s\" accepted", bad[k]);
        CHECK(strstr(em_errmsg(), "task spec") && strstr(em_errmsg(), "expected"),
              "\"%s\": %s", bad[k], em_errmsg());
        CHECK(ts.items == NULL && ts.n == 0, "no partial output");
    }
    CHECK(strstr(task_specs_help(), "mod:P:OP[:FRAC]") != NULL, "help");
}

// ---- text built from sets -----------------------------------------------------

static void test_training_text(void) {
    TaskSet ts;
    CHECK(task_generate("add:2", TASK_TEST, 2, 1, &ts) == 0, "%s", em_errmsg());
    char *text;
    unsigned char *mask;
    size_t len;
    CHECK(task_training_text(&ts, &text, &mask, &len) == 0, "%s", em_errmsg());
    char want[128], wmask[128];
    size_t p = 0;
    for (int i = 0; i < 2; i++) {
        const TaskItem *it = &ts.items[i];
        for (const char *c = it->prompt; *c; c++) { want[p] = *c; wmask[p++] = 0; }
        for (const char *c = it->target; *c; c++) { want[p] = *c; wmask[p++] = 1; }
        want[p] = '\n'; wmask[p++] = 1;
    }
    CHECK(len == p && !memcmp(text, want, p) && text[len] == 0, "text [%s]", text);
    CHECK(!memcmp(mask, wmask, p), "mask");
    free(text); free(mask);
    taskset_free(&ts);
    // scratch: the scratchpad is trained on; facts statements are trained on whole
    TaskItem it = make_one("add:2:scratch", 29, 57, &ts);
    ts.items = &it;
    ts.n = 1;
    CHECK(task_training_text(&ts, &text, &mask, &len) == 0, "%s", em_errmsg());
    size_t pl = strlen(it.prompt), sl = strlen(SCRATCH_29_57);
    CHECK(len == pl + sl + 3 + 2, "len %zu", len);
    CHECK(!strncmp(text + pl, SCRATCH_29_57, sl) && !strcmp(text + pl + sl, "8 6\n\n"), "[%s]",
          text);
    int ok = 1;
    for (size_t i = 0; i < len; i++) ok &= mask[i] == (i >= pl);
    CHECK(ok, "scratch mask");
    free(text); free(mask);
    ts.items = NULL;
    ts.n = 0;
    free_item(&it);
    taskset_free(&ts);
    // gpt3: the text is the few-shot prompt's ("A: 5\n\nQ: ..."): the next prompt's first "\n"
    // is the stop (trained on), the second is not; the last item ends with its stop
    CHECK(task_generate("add:1:gpt3", TASK_TEST, 2, 1, &ts) == 0, "%s", em_errmsg());
    CHECK(task_training_text(&ts, &text, &mask, &len) == 0, "%s", em_errmsg());
    snprintf(want, sizeof want, "%s%s%s%s\n", ts.items[0].prompt, ts.items[0].target,
             ts.items[1].prompt, ts.items[1].target);
    size_t a0 = strlen(ts.items[0].prompt) + strlen(ts.items[0].target);
    CHECK(!strcmp(text, want) && len == strlen(want) && !strncmp(text + a0, "\n\nQ: ", 5) &&
          mask[a0 - 1] == 1 && mask[a0] == 1 && mask[a0 + 1] == 0 && mask[a0 + 2] == 0 &&
          mask[len - 1] == 1 && mask[len - 2] == 1, "[%s]", text);
    free(text); free(mask);
    taskset_free(&ts);
    // multiple choice: the correct choice is the trained answer
    CHECK(task_generate("ioi", TASK_TRAIN, 1, 1, &ts) == 0, "%s", em_errmsg());
    CHECK(task_training_text(&ts, &text, &mask, &len) == 0, "%s", em_errmsg());
    size_t q = strlen(ts.items[0].prompt);
    CHECK(!strncmp(text + q, ts.items[0].choices[ts.items[0].correct], len - q - 1) &&
          mask[q] == 1 && mask[q - 1] == 0, "[%s]", text);
    free(text); free(mask);
    taskset_free(&ts);
}

// The sampler as it reads in the definition: per window, a start drawn among the example
// starts in [lo, hi - T - 1] (uniform there when none), T ids in, the next T out (masked: -1).
static void sample_reference(const TokenData *d, int part, int B, int T, Rng *r, int *inp,
                             int *tgt) {
    size_t lo = part ? d->split : 0, hi = part ? d->n : d->split, last = hi - T - 1;
    for (int b = 0; b < B; b++) {
        size_t in_range[4096], k = 0, s;
        for (size_t i = 0; d->starts && i < d->n_starts; i++)
            if (d->starts[i] >= lo && d->starts[i] <= last) in_range[k++] = d->starts[i];
        s = k ? in_range[rng_below(r, (uint32_t)k)] : lo + rng_below(r, (uint32_t)(last - lo + 1));
        for (int i = 0; i < T; i++) {
            inp[b * T + i] = d->tokens[s + i];
            tgt[b * T + i] = !d->mask || d->mask[s + i + 1] ? d->tokens[s + i + 1] : -1;
        }
    }
}

// data_sample searches the range once and draws every start before copying (to overlap the
// reads): the windows and the generator's state after them are those of the definition, for
// B below, at and above its chunk of 64, with and without starts and mask, in both parts.
static void test_sample_matches_definition(void) {
    TaskSet ts;
    CHECK(task_generate("add:3", TASK_TRAIN, 300, 5, &ts) == 0, "%s", em_errmsg());
    char *text;
    unsigned char *mask;
    size_t len;
    CHECK(task_training_text(&ts, &text, &mask, &len) == 0, "%s", em_errmsg());
    Tokenizer tok = {0};
    TokenData d;
    size_t half = len / 2;
    CHECK(data_from_texts(text, mask, half, text + half, mask + half, len - half, "\n", "add",
                          &tok, 12, &d) == 0, "%s", em_errmsg());
    CHECK(d.starts && d.n_starts > 100 && d.n_starts < 4096 && d.mask, "%zu starts", d.n_starts);
    int ok = 1, Bs[] = {1, 5, 64, 65, 200};
    enum { T = 12 };
    static int i1[200 * T], t1[200 * T], i2[200 * T], t2[200 * T];
    for (int v = 0; v < 3; v++) {
        TokenData e = d;
        if (v >= 1) e.starts = NULL;  // uniform windows
        if (v == 2) e.mask = NULL;    // every target kept
        for (int part = 0; part < 2; part++)
            for (int k = 0; k < 5; k++) {
                Rng r1, r2;
                rng_seed(&r1, 11 + k);
                rng_seed(&r2, 11 + k);
                data_sample(&e, part, Bs[k], T, &r1, i1, t1);
                sample_reference(&e, part, Bs[k], T, &r2, i2, t2);
                ok &= !memcmp(i1, i2, Bs[k] * T * sizeof(int)) &&
                      !memcmp(t1, t2, Bs[k] * T * sizeof(int)) && rng_u64(&r1) == rng_u64(&r2);
            }
    }
    CHECK(ok, "a window or the generator's state differs from the definition");
    data_free(&d);
    tok_free(&tok);
    free(text);
    free(mask);
    taskset_free(&ts);
}

static void test_fewshot(void) {
    TaskSet ts;
    CHECK(task_generate("add:1:gpt3", TASK_TEST, 3, 1, &ts) == 0, "%s", em_errmsg());
    ts.task_prefix = task_strdup("Add.\n");
    char *p = task_fewshot_prompt(&ts, ts.items, 2, &ts.items[2]);
    char want[512];
    snprintf(want, sizeof want, "Add.\n%s%s%s%s%s", ts.items[0].prompt,
             ts.items[0].target, ts.items[1].prompt, ts.items[1].target, ts.items[2].prompt);
    CHECK(!strcmp(p, want), "[%s]", p);
    free(p);
    p = task_fewshot_prompt(&ts, NULL, 0, &ts.items[2]);
    snprintf(want, sizeof want, "Add.\n%s", ts.items[2].prompt);
    CHECK(!strcmp(p, want), "zero-shot [%s]", p);
    free(p);
    taskset_free(&ts);
}

// ---- loaders ------------------------------------------------------------------

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *content) {
    static char path[160];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fputs(content, f);
    fclose(f);
    return path;
}

static void test_bigbench_real(void) {
    const char *path = "../shared/data/bigbench-hard/multistep_arithmetic_two/task.json";
    if (!file_exists(path)) {
        printf("  note: %s absent (a clone without ../shared): skipped\n", path);
        return;
    }
    TaskSet ts;
    CHECK(task_load_bigbench(path, &ts) == 0, "%s", em_errmsg());
    CHECK(ts.n == 250, "%d items", ts.n);
    CHECK(!strcmp(ts.items[0].prompt, "\nQ: ((-1 + 2 + 9 * 5) - (-2 + -4 + -4 * -7)) =\nA: "),
          "[%s]", ts.items[0].prompt);
    CHECK(!strcmp(ts.items[0].target, "24") && !strcmp(ts.items[2].target, "-50"), "targets");
    CHECK(ts.numeric && !ts.multiple_choice && !ts.task_prefix && !ts.output_regex &&
          !strcmp(ts.shot_sep, "\n") && !strcmp(ts.stop, "\n"), "set fields");
    taskset_free(&ts);
}

static void test_bigbench_files(void) {
    TaskSet ts;
    const char *p = write_tmp("mc.json",
        "{\"name\": \"tiny\", \"task_prefix\": \"Answer.\\n\", \"output_regex\": \"[0-9]+\","
        " \"stop_string\": \".\", \"few_shot_example_separator\": \"\\n\\n\","
        " \"examples\": [{\"input\": \"2+2?\", \"target_scores\": {\"5\": 0, \"4\": 1}},"
        " {\"input\": \"1+1?\", \"target_scores\": {\"2\": 1, \"3\": 0.5},"
        "  \"target\": [\"2\", \"two\"]}]}");
    CHECK(task_load_bigbench(p, &ts) == 0, "%s", em_errmsg());
    CHECK(ts.n == 2 && !strcmp(ts.name, "tiny") && ts.multiple_choice, "set");
    CHECK(!strcmp(ts.items[0].prompt, "\nQ: 2+2?\n  choice: 5\n  choice: 4\nA: "), "[%s]",
          ts.items[0].prompt);
    CHECK(ts.items[0].correct == 1 && !strcmp(ts.items[0].target, "4") &&
          ts.items[0].choice_scores[0] == 0, "correct");
    CHECK(ts.items[1].correct == 0 && !strcmp(ts.items[1].target, "2") && ts.items[1].n_alt == 1
          && !strcmp(ts.items[1].alt_targets[0], "two"), "target list");
    CHECK(!strcmp(ts.task_prefix, "Answer.\n") && !strcmp(ts.output_regex, "[0-9]+") &&
          !strcmp(ts.stop, ".") && !strcmp(ts.shot_sep, "\n\n"), "fields");
    taskset_free(&ts);
    p = write_tmp("gen.json",
        "{\"example_input_prefix\": \"In: \", \"example_output_prefix\": \" Out: \","
        " \"append_choices_to_input\": false,"
        " \"examples\": [{\"input\": \"a\", \"target\": \"b\"},"
        " {\"input\": \"c\", \"target_scores\": {\"x\": 1, \"y\": 0}}]}");
    CHECK(task_load_bigbench(p, &ts) == 0, "%s", em_errmsg());
    CHECK(!strcmp(ts.items[0].prompt, "In: a Out: ") && !strcmp(ts.items[1].prompt, "In: c Out: ")
          && !ts.multiple_choice && !ts.numeric && !strcmp(ts.name, p), "[%s]",
          ts.items[1].prompt);
    taskset_free(&ts);

    struct { const char *name, *json, *msg; } bad[] = {
        { "b1.json", "{\"examples\": [{\"input\": \"a\", \"target\": \"b\"},"
                     " {\"input\": \"c\", \"target\": 3}]}",
          "examples[1].target: expected a string or a list of strings" },
        { "b2.json", "{\"examples\": []}", "examples: expected a non-empty list" },
        { "b3.json", "{\"examples\": [{\"input\": \"a\", \"target\": \"b\"}", "not valid JSON" },
        { "b4.json", "{\"examples\": [{\"target\": \"b\"}]}", "examples[0].input: expected" },
        { "b5.json", "{\"examples\": [{\"input\": \"a\", \"target_scores\": {\"x\": \"1\"}}]}",
          "examples[0].target_scores: expected" },
        { "b6.json", "{\"examples\": [{\"input\": \"a\"}]}", "examples[0]: expected \"target\"" },
        { "b7.json", "{\"stop_string\": 1, \"examples\": [{\"input\": \"a\", \"target\": \"\"}]}",
          "stop_string: expected a string" },
        { "b8.json", "[1, 2]", "expected a JSON object" },
        { "b9.json", "{\"examples\": [{\"input\": \"a\", \"target\": []}]}",
          "examples[0].target: expected" },
        { "b10.json", "{\"examples\": [7]}", "examples[0]: expected an object" },
        { "b11.json", "{\"examples\": [{\"input\": \"a\", \"target\": \"b\"}]} x",
          "not valid JSON" },
        // 1e999 parses as inf: not a score
        { "b12.json", "{\"examples\": [{\"input\": \"a\", \"target_scores\": {\"x\": 1e999, \"y\": 0}}]}",
          "examples[0].target_scores: expected an object of choices and finite numbers" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        p = write_tmp(bad[k].name, bad[k].json);
        CHECK(task_load_bigbench(p, &ts) == -1, "%s accepted", bad[k].name);
        CHECK(strstr(em_errmsg(), p) && strstr(em_errmsg(), bad[k].msg), "%s: %s", bad[k].name,
              em_errmsg());
        CHECK(ts.items == NULL && ts.n == 0, "no partial output");
    }
    CHECK(task_load_bigbench("/nonexistent/task.json", &ts) == -1 &&
          strstr(em_errmsg(), "/nonexistent/task.json"), "%s", em_errmsg());
}

static void test_jsonl(void) {
    TaskSet ts;
    const char *p = write_tmp("ok.jsonl", "{\"context\": \"1+1=\", \"completion\": \"2\"}\n"
                                          "\n"
                                          "  {\"input\": \"2+2=\", \"target\": \"4\"}\r\n");
    CHECK(task_load_jsonl(p, &ts) == 0, "%s", em_errmsg());
    CHECK(ts.n == 2 && !strcmp(ts.items[1].prompt, "2+2=") && !strcmp(ts.items[1].target, "4")
          && ts.numeric && !strcmp(ts.stop, "\n") && !strcmp(ts.shot_sep, "\n"), "items");
    taskset_free(&ts);
    // openai/gpt-3's two_digit_addition.jsonl, its first three lines as published: numeric
    // targets with a leading space, and k shots concatenated with no separator
    p = write_tmp("gpt3.jsonl",
                  "{\"context\": \"\\n\\nQ: What is 98 plus 45?\\n\\nA:\", \"completion\": \" 143\"}\n"
                  "{\"context\": \"\\n\\nQ: What is 95 plus 58?\\n\\nA:\", \"completion\": \" 153\"}\n"
                  "{\"context\": \"\\n\\nQ: What is 0 plus 25?\\n\\nA:\", \"completion\": \" 25\"}\n");
    CHECK(task_load_jsonl(p, &ts) == 0, "%s", em_errmsg());
    CHECK(ts.n == 3 && ts.numeric && !strcmp(ts.shot_sep, "") && !strcmp(ts.stop, "\n") &&
          !strcmp(ts.items[0].prompt, "\n\nQ: What is 98 plus 45?\n\nA:") &&
          !strcmp(ts.items[0].target, " 143"), "published items");
    char *fs = task_fewshot_prompt(&ts, ts.items, 2, &ts.items[2]);
    CHECK(!strcmp(fs, "\n\nQ: What is 98 plus 45?\n\nA: 143\n\nQ: What is 95 plus 58?\n\nA: 153"
                      "\n\nQ: What is 0 plus 25?\n\nA:"), "published 2-shot [%s]", fs);
    TaskSet g;  // the gpt3 generator's items, few-shot prompt and training text: the same bytes
    TaskItem gi[3] = { make_one("add:2:gpt3", 98, 45, &g), {0}, {0} };
    taskset_free(&g);
    gi[1] = make_one("add:2:gpt3", 95, 58, &g);
    taskset_free(&g);
    gi[2] = make_one("add:2:gpt3", 0, 25, &g);  // (0 is not 2 digits: made all the same)
    char *gs = task_fewshot_prompt(&g, gi, 2, &gi[2]);
    CHECK(!strcmp(gs, fs), "generator 2-shot [%s]", gs);
    free(gs);
    free(fs);
    for (int i = 0; i < 3; i++) free_item(&gi[i]);
    taskset_free(&g);
    taskset_free(&ts);
    p = write_tmp("nonnum.jsonl", "{\"context\": \"a\", \"completion\": \" 1e3\"}\n");
    CHECK(task_load_jsonl(p, &ts) == 0 && !ts.numeric, "\" 1e3\" is not a decimal number");
    taskset_free(&ts);
    struct { const char *name, *text, *msg; } bad[] = {
        { "b1.jsonl", "{\"context\": \"a\", \"completion\": \"b\"}\n\n[1]\n",
          ":3: expected an object" },
        { "b2.jsonl", "{\"context\": \"a\"}\n", ":1: expected an object with string fields" },
        { "b3.jsonl", "{\"input\": \"a\", \"target\": \"b\"}\n{oops\n", ":2: not valid JSON" },
        { "b4.jsonl", "{\"input\": \"a\", \"target\": 5}\n", ":1: expected" },
        { "b5.jsonl", "\n\n", "expected at least one JSON line" },
        { "b6.jsonl", "{\"input\": \"a\", \"target\": \"b\"} {}\n", ":1: not valid JSON" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        p = write_tmp(bad[k].name, bad[k].text);
        CHECK(task_load_jsonl(p, &ts) == -1, "%s accepted", bad[k].name);
        CHECK(strstr(em_errmsg(), p) && strstr(em_errmsg(), bad[k].msg), "%s: %s", bad[k].name,
              em_errmsg());
        CHECK(ts.items == NULL && ts.n == 0, "no partial output");
    }
}

// ---- mixtures: weights, item counts, the block ---------------------------------

// Refused with an error holding `want`, and nothing left allocated.
static void mixture_refused(const char *mix, int n, int T, const char *want) {
    Tokenizer tok = { 0 };
    TokenData d;
    char *src = NULL;
    int rc = data_load_mixture(mix, n, 50, 1, &tok, T, &d, &src);
    CHECK(rc == -1, "%s (block %d) accepted", mix, T);
    if (rc == 0) { data_free(&d); tok_free(&tok); free(src); return; }
    CHECK(strstr(em_errmsg(), want), "%s: '%s' (want '%s')", mix, em_errmsg(), want);
    CHECK(tok.kind == TOK_NONE && src == NULL, "%s: partial output", mix);
}

static int mixture_loads(const char *mix, int n, int T) {
    Tokenizer tok = { 0 };
    TokenData d;
    char *src = NULL;
    if (data_load_mixture(mix, n, 50, 1, &tok, T, &d, &src)) return 0;
    data_free(&d);
    tok_free(&tok);
    free(src);
    return 1;
}

// Defect: "add:2@inf" made the share NaN, 1e-300 beside 1e300 an infinite item count,
// each turned into an int (undefined).
static void test_mixture_weights(void) {
    const char *range = "expected a positive number in [1e-06, 1e+06]";
    mixture_refused("add:2@inf", 100, 16, range);
    mixture_refused("add:2@nan", 100, 16, range);
    mixture_refused("add:2@1e-300,add:1@1e300", 100, 16, range);
    mixture_refused("add:2@1e7,add:1", 100, 16, range);
    mixture_refused("add:2@,add:1", 100, 16, range);
    CHECK(mixture_loads("add:2@1e-6,add:1@1e6", 100, 16), "%s", em_errmsg());
    // weights in range whose ratio asks for more items than a generator may give
    char mix[200];
    snprintf(mix, sizeof mix, "add:2@1e6,file:%s@1e-6",
             write_tmp("text.txt", "some text of a few bytes, enough for a split\n"
                                   "and a second line of it\n"));
    mixture_refused(mix, 0, 4, "add:2 would get");
    CHECK(strstr(em_errmsg(), "expected at most 1073741824"), "%s", em_errmsg());
}

// A block size shorter than one item is refused where task data is prepared.
static void test_mixture_block(void) {
    // mod:97: "<a>+<b>=" 4 tokens, "<c>" 1, "\n" 1: a window of T + 1 = 6 holds it
    mixture_refused("mod:97:+", 0, 4, "block size 4 is shorter than one item");
    CHECK(strstr(em_errmsg(), "6 tokens") && strstr(em_errmsg(), "at least 5") &&
          strstr(em_errmsg(), "mod:97:+"), "%s", em_errmsg());
    CHECK(mixture_loads("mod:97:+", 0, 5), "%s", em_errmsg());
    // add:3: "999+999=1998\n" is 13 tokens; a mixture names the component
    mixture_refused("add:1,add:3", 400, 11, "the longest item of add:3");
    CHECK(mixture_loads("add:1,add:3", 400, 12), "%s", em_errmsg());
    // the scratchpad counts: add:2:scratch items are far longer than their answers
    mixture_refused("add:2:scratch", 50, 32, "shorter than one item");
}

static void cleanup_tmp(void) {
    const char *names[] = { "mc.json", "gen.json", "b1.json", "b2.json", "b3.json", "b4.json",
                            "b5.json", "b6.json", "b7.json", "b8.json", "b9.json", "b10.json",
                            "b11.json", "b12.json", "text.txt", "ok.jsonl", "gpt3.jsonl", "nonnum.jsonl", "b1.jsonl", "b2.jsonl", "b3.jsonl",
                            "b4.jsonl", "b5.jsonl", "b6.jsonl" };
    char path[160];
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[k]);
        unlink(path);
    }
    rmdir(tmpdir);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_tasks_XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    RUN(test_determinism);
    RUN(test_disjoint_listed);
    RUN(test_disjoint_sampled);
    RUN(test_fixed_split_and_cycling);
    RUN(test_formats);
    RUN(test_mod_items);
    RUN(test_scratchpad);
    RUN(test_facts);
    RUN(test_multiple_choice);
    RUN(test_spec_errors);
    RUN(test_training_text);
    RUN(test_sample_matches_definition);
    RUN(test_fewshot);
    RUN(test_bigbench_real);
    RUN(test_bigbench_files);
    RUN(test_jsonl);
    RUN(test_mixture_weights);
    RUN(test_mixture_block);
    cleanup_tmp();
    return test_summary();
}
