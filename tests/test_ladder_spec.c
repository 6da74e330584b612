// Ladder specs from users: numbers outside what their fields hold, repeated seeds and sweep
// values, budgets that overflow the step count, and blocks too short for the tasks.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "ladder/runner_pool.h"
#include "ladder/spec.h"
#include "test.h"

static char tmpdir[64], path[128];

// A valid spec with one field's text replaced: the spec is printf'd with the five
// overridable parts (budget, seeds, extra fields, block_size, eval tasks).
static const char *spec(const char *budget, const char *seeds, const char *extra, int block,
                        const char *eval) {
    snprintf(path, sizeof path, "%s/spec.json", tmpdir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"name\": \"t\", \"task\": \"add:2\", \"task_n\": 200, \"task_val_n\": 50,"
               " \"budget\": %s, \"batch_size\": 4, \"block_size\": %d,"
               " \"sizes\": [{\"n_layer\": 1, \"n_head\": 1, \"n_embd\": 8}],"
               " \"seeds\": %s, %s \"eval\": {\"tasks\": [%s], \"n\": 20}}",
            budget, block, seeds, extra, eval);
    fclose(f);
    return path;
}

#define STD(extra) spec("{\"steps\": 10}", "[1, 2]", extra, 16, "\"add:2\"")

// The spec is refused with an error that names the file and holds `want`.
static void refused(const char *p, const char *want, const char *what) {
    LadderSpec s;
    int rc = ladder_spec_load(p, &s);
    CHECK(rc == -1, "%s: accepted", what);
    CHECK(rc == -1 && strstr(em_errmsg(), p) && strstr(em_errmsg(), want), "%s: '%s' (want '%s')",
          what, em_errmsg(), want);
}

static void test_valid(void) {
    LadderSpec s;
    CHECK(ladder_spec_load(STD(""), &s) == 0, "%s", em_errmsg());
    CHECK(s.n_seeds == 2 && s.seeds[1] == 2 && s.steps == 10, "fields");
    s.vocab_size = 13;
    LadderPoint pts[8];
    CHECK(ladder_points(&s, pts, 8) == 2 && pts[0].steps == 10, "points");
    CHECK(ladder_check_tasks(&s) == 0, "%s", em_errmsg());
    // a token budget: ceil(1e6 / (4 x 16)) = 15625 steps
    CHECK(ladder_spec_load(spec("{\"tokens\": 1e6}", "[2147483647]", "", 16, "\"add:2\""), &s) == 0,
          "%s", em_errmsg());
    s.vocab_size = 13;
    CHECK(ladder_points(&s, pts, 8) == 1 && pts[0].steps == 15625 && pts[0].seed == 2147483647,
          "steps %d seed %d", pts[0].steps, pts[0].seed);
}

// Defect: (int)3e9 was undefined; seeds outside int are refused, with the range.
static void test_seed_range(void) {
    refused(spec("{\"steps\": 10}", "[3e9]", "", 16, "\"add:2\""), "seeds[0]: expected an integer in [0, 2147483647]", "3e9");
    refused(spec("{\"steps\": 10}", "[1, 2147483648]", "", 16, "\"add:2\""), "seeds[1]", "2^31");
    refused(spec("{\"steps\": 10}", "[-1]", "", 16, "\"add:2\""), "seeds[0]", "-1");
    refused(spec("{\"steps\": 10}", "[1.5]", "", 16, "\"add:2\""), "seeds[0]", "1.5");
    refused(spec("{\"steps\": 10}", "[1e999]", "", 16, "\"add:2\""), "seeds[0]", "1e999 (inf)");
}

// Defect: two points shared one directory when a seed or a sweep value was repeated.
static void test_duplicates(void) {
    refused(spec("{\"steps\": 10}", "[1, 2, 1]", "", 16, "\"add:2\""),
            "seeds[2]: 1 repeats seeds[0]", "seeds [1, 2, 1]");
    refused(STD("\"sweep\": {\"name\": \"lr\", \"values\": [0.01, 0.003, 0.01]},"),
            "sweep.values[2]: 0.01 repeats sweep.values[0]", "lr values");
    // the same point key: lr is printed as the float "%g" gives
    refused(STD("\"sweep\": {\"name\": \"lr\", \"values\": [0.001, 0.0010000001]},"),
            "sweep.values[1]", "lr values equal as keys");
    refused(STD("\"sweep\": {\"name\": \"task\", \"values\": [\"add:2\", \"add:1\", \"add:2\"]},"),
            "sweep.values[2]: add:2 repeats sweep.values[0]", "task values");
    LadderSpec s;
    CHECK(ladder_spec_load(STD("\"sweep\": {\"name\": \"lr\", \"values\": [0.001, 0.002]},"), &s) == 0,
          "%s", em_errmsg());
}

// Defect: a learning rate as large as 1e300 became inf as a float.
static void test_lr_range(void) {
    refused(STD("\"sweep\": {\"name\": \"lr\", \"values\": [1e300]},"),
            "sweep.values[0]: expected a learning rate in [1e-08, 10]", "lr 1e300");
    refused(STD("\"optimizer\": {\"lr\": 1e300},"), "optimizer.lr: must be in", "optimizer.lr");
    // the power rule: (params / 1)^4 x 1e-3 is far above 10
    LadderSpec s;
    CHECK(ladder_spec_load(STD("\"lr_rule\": {\"type\": \"power\", \"ref_params\": 1, \"exponent\": 4},"),
                           &s) == 0, "%s", em_errmsg());
    s.vocab_size = 13;
    LadderPoint pts[8];
    CHECK(ladder_points(&s, pts, 8) == -1, "an lr above 10 accepted (%g)", pts[0].lr);
    CHECK(strstr(em_errmsg(), "lr_rule: sizes[0]") && strstr(em_errmsg(), s.path), "%s", em_errmsg());
}

// Defect: a budget of 1e15 tokens overflowed the step count, which silently became 1.
static void test_budget_overflow(void) {
    refused(spec("{\"tokens\": 1e15}", "[1]", "", 2, "\"add:2\""),
            "budget.tokens: 1e+15 tokens is 125000000000000 steps", "tokens 1e15");
    // tokens_per_param: the step count depends on the parameters, known with the vocabulary
    LadderSpec s;
    const char *p = spec("{\"steps\": 1}", "[1]", "", 2, "\"add:2\"");
    FILE *f = fopen(p, "w");
    fprintf(f, "{\"name\": \"t\", \"task\": \"add:2\", \"budget\": {\"tokens_per_param\": 1e5},"
               " \"batch_size\": 1, \"block_size\": 2,"
               " \"sizes\": {\"min_params\": 1e3, \"max_params\": 1e9, \"count\": 2},"
               " \"seeds\": [1], \"eval\": {\"tasks\": [\"add:2\"]}}");
    fclose(f);
    CHECK(ladder_spec_load(p, &s) == 0, "%s", em_errmsg());
    s.vocab_size = 13;
    static LadderPoint pts[8];
    int n = ladder_points(&s, pts, 8);
    CHECK(n == -1, "accepted: %d points, the last with %d steps", n, n > 0 ? pts[n - 1].steps : 0);
    CHECK(strstr(em_errmsg(), "budget.tokens_per_param: sizes[1]") &&
          strstr(em_errmsg(), "at most 1073741824"), "%s", em_errmsg());
    f = fopen(p, "w");
    fprintf(f, "{\"name\": \"t\", \"task\": \"add:2\", \"budget\": {\"steps\": 1},"
               " \"batch_size\": 1, \"block_size\": 16,"
               " \"sizes\": [{\"n_layer\": 1, \"n_head\": 1, \"n_embd\": 8}],"
               " \"seeds\": [1], \"eval\": {\"tasks\": [\"add:2\"], \"seed\": 1.5}}");
    fclose(f);
    refused(p, "eval.seed: expected an integer", "eval.seed 1.5");
}

// A block too short for the training task or an eval task: refused before any training.
static void test_block_too_short(void) {
    LadderSpec s;
    // add:2 items are at most "99+99=198\n", 10 tokens: a block of 9 holds them
    CHECK(ladder_spec_load(spec("{\"steps\": 10}", "[1]", "", 9, "\"add:2\""), &s) == 0, "%s",
          em_errmsg());
    CHECK(ladder_check_tasks(&s) == 0, "block 9: %s", em_errmsg());
    CHECK(ladder_spec_load(spec("{\"steps\": 10}", "[1]", "", 8, "\"add:1\""), &s) == 0, "%s",
          em_errmsg());
    CHECK(ladder_check_tasks(&s) == -1, "block 8 accepted for add:2");
    CHECK(strstr(em_errmsg(), s.path) && strstr(em_errmsg(), "task: ") &&
          strstr(em_errmsg(), "block size 8") && strstr(em_errmsg(), "at least 9"), "%s",
          em_errmsg());
    // the eval task: add:4 needs "1234+5678=" 10 + "6912\n" 5 - 1 = 14 or more
    CHECK(ladder_spec_load(spec("{\"steps\": 10}", "[1]", "", 12, "\"add:2\", \"add:4\""), &s) == 0,
          "%s", em_errmsg());
    CHECK(ladder_check_tasks(&s) == -1, "an eval task longer than the block accepted");
    CHECK(strstr(em_errmsg(), "block_size: eval.tasks[1]") && strstr(em_errmsg(), "block size 12"),
          "%s", em_errmsg());
    // a task sweep: each task is checked, not only the first
    CHECK(ladder_spec_load(spec("{\"steps\": 10}", "[1]",
                                "\"sweep\": {\"name\": \"task\", \"values\": [\"add:1\", \"add:3\"]},",
                                10, "\"add:1\""), &s) == 0, "%s", em_errmsg());
    CHECK(ladder_check_tasks(&s) == -1 && strstr(em_errmsg(), "sweep.values[1]"), "%s",
          em_errmsg());
}

// Eval tasks that name the point's training task: each sweep value is evaluated in its own
// format, and each expansion is checked against the block before any training.
static void test_eval_placeholders(void) {
    LadderSpec s;
    const char *sw = "\"sweep\": {\"name\": \"task\", \"values\": [\"add:2:scratch\", "
                     "\"add:2:direct\"]},";
    CHECK(ladder_spec_load(spec("{\"steps\": 10}", "[1]", sw, 200, "\"{task}\", \"add:3:{format}\""),
                           &s) == 0, "%s", em_errmsg());
    char out[128];
    CHECK(ladder_eval_task(&s, 0, s.sweep_tasks[0], out, sizeof out) == 0 &&
          !strcmp(out, "add:2:scratch"), "{task}: '%s'", out);
    CHECK(ladder_eval_task(&s, 1, s.sweep_tasks[1], out, sizeof out) == 0 &&
          !strcmp(out, "add:3:direct"), "{format}: '%s'", out);
    CHECK(ladder_check_tasks(&s) == 0, "%s", em_errmsg());
    CHECK(ladder_eval_task(&s, 0, s.sweep_tasks[0], out, 8) == -1 &&
          strstr(em_errmsg(), "eval.tasks[0]") && strstr(em_errmsg(), s.path), "%s", em_errmsg());
    // add:4:scratch (178 tokens) does not fit a block of 140, add:4:direct (44) does: the
    // scratch value's expansion is refused
    CHECK(ladder_spec_load(spec("{\"steps\": 10}", "[1]", sw, 140, "\"add:4:{format}\""), &s) == 0,
          "%s", em_errmsg());
    CHECK(ladder_check_tasks(&s) == -1 && strstr(em_errmsg(), "block_size: eval.tasks[0]") &&
          strstr(em_errmsg(), "add:4:scratch"), "%s", em_errmsg());
    // no eval task: a ladder of losses
    CHECK(ladder_spec_load(spec("{\"steps\": 10}", "[1]", "", 16, ""), &s) == 0 &&
          s.n_eval_tasks == 0, "empty eval.tasks: %s", em_errmsg());
}

// The quick variant: few sizes, seeds and steps, whatever the budget.
static void test_quick(void) {
    LadderSpec s;
    CHECK(ladder_spec_load(spec("{\"tokens_per_param\": 20}", "[1, 2, 3]", "", 16, "\"add:2\""),
                           &s) == 0, "%s", em_errmsg());
    s.n_sizes = 5;
    for (int i = 1; i < 5; i++) s.sizes[i] = s.sizes[0];
    ladder_spec_quick(&s);
    s.vocab_size = 13;
    LadderPoint pts[16];
    CHECK(s.n_sizes == 3 && s.n_seeds == 2 && s.eval_points == 2 && s.eval_n <= 40,
          "sizes %d seeds %d", s.n_sizes, s.n_seeds);
    CHECK(ladder_points(&s, pts, 16) == 6 && pts[0].steps == LADDER_QUICK_STEPS, "steps %d",
          pts[0].steps);
}

// A leak sweep: each point trains on the task plus the planted test items of eval.tasks[0]
// (its placeholders read against the task, not the mixture), drawn as the evaluation draws
// them (eval.n, eval.seed; the quick variant's n too); bad values and specs are refused.
static void test_leak(void) {
    LadderSpec s;
    const char *sw = "\"sweep\": {\"name\": \"leak\", \"values\": [0, 0.1]}, \"leak_weight\": 0.2,";
    CHECK(ladder_spec_load(spec("{\"steps\": 10}", "[1]", sw, 16, "\"{task}\""), &s) == 0, "%s",
          em_errmsg());
    CHECK(s.contam_n == 13, "a leak sweep splits its evaluations by default: %d", s.contam_n);
    s.vocab_size = 13;
    LadderPoint pts[4];
    char ev[128];
    CHECK(ladder_points(&s, pts, 4) == 2, "points");
    CHECK(!strcmp(pts[1].task, "add:2@0.8,leak:0.10000000000000001:20:12345:add:2@0.2") &&
          !strcmp(pts[1].key, "s00-leak0.1-seed1"), "task %s key %s", pts[1].task, pts[1].key);
    CHECK(!strcmp(pts[1].eval_base, "add:2") &&
          ladder_eval_task(&s, 0, pts[1].eval_base, ev, sizeof ev) == 0 && !strcmp(ev, "add:2"),
          "eval task of a leak point: %s", ev);
    CHECK(ladder_check_tasks(&s) == 0, "%s", em_errmsg());
    s.eval_n = 1000;
    ladder_spec_quick(&s);
    CHECK(strstr(s.leak_tasks[0], "leak:0:40:12345:add:2@"), "quick: %s", s.leak_tasks[0]);
    refused(spec("{\"steps\": 10}", "[1]", "\"sweep\": {\"name\": \"leak\", \"values\": [1.5]},",
                 16, "\"add:2\""), "sweep.values[0]: expected a leaked fraction", "leak 1.5");
    refused(spec("{\"steps\": 10}", "[1]", "\"sweep\": {\"name\": \"leak\", \"values\": [0.1]},",
                 16, ""), "eval.tasks: a leak sweep", "no eval task");
    refused(spec("{\"steps\": 10}", "[1]", "\"leak_weight\": 1,", 16, "\"add:2\""),
            "leak_weight: must be in", "weight 1");
    CHECK(ladder_spec_load(STD(""), &s) == 0 && s.contam_n == 0, "no split without a leak sweep");
    CHECK(ladder_spec_load(spec("{\"steps\": 10}", "[1]", "", 16, "\"add:2\"], \"contamination_n\": 7, \"x\": [0"), &s) == 0 &&
          s.contam_n == 7, "eval.contamination_n: %s", em_errmsg());
}

// The memorisation probe: spans no longer than the block, a prefix shorter than the span.
static void test_memorization(void) {
    LadderSpec s;
    CHECK(ladder_spec_load(STD("\"memorization\": {\"n\": 10, \"span\": 12, \"prefix\": 4},"), &s) == 0 &&
          s.mem_n == 10 && s.mem_span == 12 && s.mem_prefix == 4, "%s", em_errmsg());
    refused(STD("\"memorization\": {\"n\": 10},"), "memorization: expected 1 <= prefix < span <= block_size 16",
            "default span 50 in a block of 16");
    refused(STD("\"memorization\": {\"n\": 10, \"span\": 8},"), "prefix 32 and span 8",
            "default prefix 32 over a span of 8");
    refused(STD("\"memorization\": {\"n\": 10, \"span\": 20, \"prefix\": 4},"), "memorization.span",
            "span 20 in a block of 16");
}

// The ladder's ETA: points whose seconds a step are exactly a + b f give back the exact time
// left; one size timed alone gives time in proportion to FLOPs; a long running point bounds it.
static double eta_want(int n, const double *f, const int *left, double a, double b, int slots) {
    double w = 0.0;
    for (int k = 0; k < n; k++) w += left[k] * (a + b * f[k]);
    return w / slots;
}
static void test_pool_eta(void) {
    double a = 2e-3, b = 1e-11, f[5] = {9e8, 9e8, 4e8, 1e8, 1e7}, sec[5];
    int done[5] = {1500, 700, 400, 0, 0}, left[5] = {0, 800, 1100, 1500, 1500};
    int run[5] = {0, 1, 1, 0, 0};
    for (int k = 0; k < 5; k++) sec[k] = done[k] ? done[k] * (a + b * f[k]) : -1.0;
    double got = pool_eta(5, f, done, sec, left, run, 2), want = eta_want(5, f, left, a, b, 2);
    CHECK(fabs(got - want) < 1e-9 * want, "affine: %.9g s, want %.9g", got, want);
    // the FLOPs alone would say less: the small points' overhead is what it adds
    double flops_only = 0.0;
    for (int k = 0; k < 5; k++) flops_only += left[k] * f[k] * (a + b * f[0]) / f[0] / 2;
    CHECK(got > flops_only * 1.2, "%.3g s against %.3g s in proportion to FLOPs", got, flops_only);
    // only the first size timed: in proportion to its FLOPs
    int done1[5] = {1500, 1200, 0, 0, 0}, run1[5] = {0, 1, 0, 0, 0};
    int left1[5] = {0, 300, 1500, 1500, 1500};
    double sec1[5] = {sec[0], 1200 * (a + b * f[1]), -1.0, -1.0, -1.0};
    got = pool_eta(5, f, done1, sec1, left1, run1, 2);
    want = 0.0;
    for (int k = 0; k < 5; k++) want += left1[k] * f[k] * ((a + b * f[0]) / f[0]) / 2;
    CHECK(fabs(got - want) < 1e-9 * want, "one size: %.9g s, want %.9g", got, want);
    // one long point left running beside short ones: its rest
    int left2[5] = {0, 1400, 0, 0, 10}, run2[5] = {0, 1, 0, 0, 1};
    got = pool_eta(5, f, done, sec, left2, run2, 2);
    want = 1400 * (a + b * f[1]);
    CHECK(fabs(got - want) < 1e-9 * want, "tail: %.9g s, want %.9g", got, want);
    // a point just started, its set-up over a few steps, is left out while others are settled
    int done3[5] = {1500, 700, 400, 5, 0}, left3[5] = {0, 800, 1100, 1495, 1500};
    int run3[5] = {0, 1, 1, 1, 0};
    double sec3[5] = {sec[0], sec[1], sec[2], 2.0, -1.0};
    got = pool_eta(5, f, done3, sec3, left3, run3, 2);
    want = eta_want(5, f, left3, a, b, 2);
    CHECK(fabs(got - want) < 1e-9 * want, "a new point: %.9g s, want %.9g", got, want);
    // nothing timed yet
    int none[5] = {0};
    double unk[5] = {-1, -1, -1, -1, -1};
    CHECK(pool_eta(5, f, none, unk, left, run, 2) < 0.0, "an ETA with nothing timed");
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_ladder_spec_XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    RUN(test_valid);
    RUN(test_pool_eta);
    RUN(test_seed_range);
    RUN(test_duplicates);
    RUN(test_lr_range);
    RUN(test_budget_overflow);
    RUN(test_block_too_short);
    RUN(test_eval_placeholders);
    RUN(test_quick);
    RUN(test_leak);
    RUN(test_memorization);
    unlink(path);
    rmdir(tmpdir);
    return test_summary();
}
