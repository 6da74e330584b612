// The evaluation runner on an untrained model: exact match near 0, per-digit accuracy
// near chance; prompts, few-shot exemplars, outputs.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "eval/eval.h"
#include "test.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

// A fresh model with the vocabulary of add:2 (13 characters: digits, + = and newline).
static int fresh_model(GPT *m, Tokenizer *tok, TaskSet *train, TaskSet *test, uint64_t seed) {
    if (task_generate("add:2", TASK_TRAIN, 0, 1, train) || task_generate("add:2", TASK_TEST, 300, 2, test))
        return -1;
    char *text;
    unsigned char *mask;
    size_t len;
    if (task_training_text(train, &text, &mask, &len)) return -1;
    int rc = tok_build_char(tok, text, len, "add:2");
    free(text);
    free(mask);
    if (rc) return -1;
    GPTConfig c = {.vocab_size = tok->vocab_size, .block_size = 64, .n_layer = 2, .n_head = 2, .n_embd = 32};
    if (gpt_create(m, &c)) return -1;
    gpt_init_weights(m, seed);
    return 0;
}

// What the progress callback saw: calls per phase, the last done/total, the last exact match.
typedef struct { int calls[2], done[2], total[2], monotone; double em; } Seen;
static void record(void *ctx, const char *task, const char *phase, int done, int total, double em) {
    Seen *s = ctx;
    int k = !strcmp(phase, "scoring");
    if (s->calls[k] && done < s->done[k]) s->monotone = 0;
    s->calls[k]++;
    s->done[k] = done;
    s->total[k] = total;
    if (k) s->em = em;
}

static void test_fresh_model_is_at_chance(void) {
    GPT m;
    Tokenizer tok;
    TaskSet train, test;
    CHECK(fresh_model(&m, &tok, &train, &test, 5) == 0, "%s", em_errmsg());
    CHECK(tok.vocab_size == 13, "vocab %d (digits, +, =, newline)", tok.vocab_size);
    Seen seen = {.monotone = 1};
    EvalConfig ec = {.shots = 0, .seed = 1, .n_boot = 200, .progress = record, .progress_ctx = &seen};
    EvalResult r;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &r) == 0, "%s", em_errmsg());
    // progress: both phases reported, counts rising to every item, the final exact match
    CHECK(seen.calls[0] > 0 && seen.done[0] == 300 && seen.total[0] == 300, "generating: %d calls, %d/%d",
          seen.calls[0], seen.done[0], seen.total[0]);
    CHECK(seen.calls[1] == 300 && seen.done[1] == 300 && seen.total[1] == 300, "scoring: %d calls, %d/%d",
          seen.calls[1], seen.done[1], seen.total[1]);
    CHECK(seen.monotone, "progress went backwards");
    CHECK(fabs(seen.em - r.sum[MET_EXACT].mean) < 1e-12, "reported exact match %g, result %g", seen.em,
          r.sum[MET_EXACT].mean);
    // chance: 1/13 per token for a uniform model; allow [0, 0.25] for an untrained argmax
    CHECK(r.sum[MET_EXACT].mean <= 0.01, "exact match %g, expected ~0", r.sum[MET_EXACT].mean);
    CHECK(r.sum[MET_TOKEN_ACC].mean < 0.25, "token accuracy %g, expected near chance", r.sum[MET_TOKEN_ACC].mean);
    CHECK(r.sum[MET_TOKEN_ACC_TF].mean < 0.25, "teacher-forced accuracy %g", r.sum[MET_TOKEN_ACC_TF].mean);
    CHECK(fabs(r.sum[MET_MEAN_PROB].mean - 1.0 / 13) < 0.02, "mean token probability %g, expected ~1/13",
          r.sum[MET_MEAN_PROB].mean);
    CHECK(r.sum[MET_EXACT].n == 300 && r.n_pos == 3, "items %d, positions %d", r.sum[MET_EXACT].n, r.n_pos);
    CHECK(r.sum[MET_MC_GRADE].n == 0, "multiple-choice metric on a generative task");
    // an interval around each mean
    CHECK(r.sum[MET_MEAN_PROB].lo <= r.sum[MET_MEAN_PROB].mean && r.sum[MET_MEAN_PROB].mean <= r.sum[MET_MEAN_PROB].hi,
          "interval [%g, %g] misses the mean %g", r.sum[MET_MEAN_PROB].lo, r.sum[MET_MEAN_PROB].hi,
          r.sum[MET_MEAN_PROB].mean);

    // results and samples files
    char dir[] = "/tmp/emergent-eval-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char res[128], smp[128];
    snprintf(res, sizeof res, "%s/results.json", dir);
    snprintf(smp, sizeof smp, "%s/samples.jsonl", dir);
    CHECK(eval_write_results(res, &r, 1, "fresh", &m, &ec) == 0, "%s", em_errmsg());
    CHECK(eval_write_samples(smp, &r, 1) == 0, "%s", em_errmsg());
    char *j = read_file(res, NULL), *s = read_file(smp, NULL);
    CHECK(j && strstr(j, "\"ece_ci95,none\"") && strstr(j, "\"exact_match_pred_tf,none\"") &&
          strstr(j, "\"exact_match_indep_prod_ci95,none\"") && strstr(j, "\"tf_token_prob,none\"") &&
          strstr(j, "\"target_prob,none\""), "results JSON lacks the predictions: %s", j ? j : "");
    CHECK(j && strstr(j, "\"exact_match,none\"") && strstr(j, "\"exact_match_stderr,none\"") &&
          strstr(j, "\"n-shot\"") && strstr(j, "\"higher_is_better\"") && strstr(j, "\"add:2:plain\""),
          "results JSON lacks keys: %s", j ? j : "(none)");
    // the machine it ran on: CPU, ISA, BLAS and its kernel, threads
    CHECK(j && strstr(j, "\"machine\"") && strstr(j, "\"cpu\"") && strstr(j, "\"cpu_isa\"") &&
          strstr(j, "\"blas_kernel\"") && strstr(j, "\"threads\"") && strstr(j, "own loops"),
          "results JSON lacks the machine: %s", j ? j : "(none)");
    int lines = 0;
    for (char *c = s; c && *c; c++) lines += *c == '\n';
    CHECK(lines == 300, "samples: %d lines", lines);
    free(j);
    free(s);
    unlink(res);
    unlink(smp);
    rmdir(dir);
    eval_result_free(&r);

    // few-shot: the prompt holds 3 exemplars from the train split, then the query
    ec.shots = 3;
    ec.progress = NULL;
    TaskSet one = test;
    one.n = 2;
    CHECK(eval_task(&m, &tok, &one, &train, &ec, &r) == 0, "%s", em_errmsg());
    int eq = 0;
    for (const char *c = r.items[0].prompt; *c; c++) eq += *c == '=';
    CHECK(eq == 4, "3-shot prompt holds %d '=' (want 4): %s", eq, r.items[0].prompt);
    const char *q = test.items[0].prompt;
    size_t lp = strlen(r.items[0].prompt), lq = strlen(q);
    CHECK(lp > lq && !strcmp(r.items[0].prompt + lp - lq, q), "prompt does not end with the query");
    eval_result_free(&r);
    taskset_free(&train);
    taskset_free(&test);
    tok_free(&tok);
    gpt_free(&m);
}

// Numeric metrics on a file task whose targets are numbers as GPT-3's files write them
// (" 143"): a model that always answers "7" gives "77..." and its absolute and relative
// errors against the published targets.
static void test_numeric_file_task(void) {
    char dir[] = "/tmp/emergent-evalnum-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[128];
    snprintf(path, sizeof path, "%s/two_digit_addition.jsonl", dir);
    const char *lines =
        "{\"context\": \"\\n\\nQ: What is 98 plus 45?\\n\\nA:\", \"completion\": \" 143\"}\n"
        "{\"context\": \"\\n\\nQ: What is 72 plus 25?\\n\\nA:\", \"completion\": \" 97\"}\n";
    CHECK(write_file_atomic(path, lines, strlen(lines)) == 0, "%s", em_errmsg());
    TaskSet ts;
    CHECK(task_load_jsonl(path, &ts) == 0 && ts.numeric, "not numeric: %s", em_errmsg());
    Tokenizer tok = {0};
    const char *chars = "\n 0123456789:?AQWabehilnpsstu";
    CHECK(tok_build_char(&tok, chars, strlen(chars), "chars") == 0, "%s", em_errmsg());
    GPTConfig c = {.vocab_size = tok.vocab_size, .block_size = 64, .n_layer = 1, .n_head = 1, .n_embd = 8};
    GPT m;
    CHECK(gpt_create(&m, &c) == 0, "%s", em_errmsg());
    memset(m.params, 0, m.num_params * sizeof(float));
    ParamPtrs p;
    gpt_param_ptrs(&c, m.params, &p);
    int *seven = NULL;
    size_t n1 = 0;
    CHECK(tok_encode(&tok, "7", 1, &seven, &n1, "7") == 0 && n1 == 1, "encode 7");
    p.lnfb[0] = 1.0f;                       // the final state is e_0 whatever the input ...
    p.wte[(size_t)seven[0] * c.n_embd] = 1.0f;  // ... and only "7" has a logit above 0
    free(seven);
    EvalConfig ec = {.shots = 0, .seed = 1, .n_boot = 50, .max_new = 4};
    EvalResult r;
    CHECK(eval_task(&m, &tok, &ts, &ts, &ec, &r) == 0, "%s", em_errmsg());
    CHECK(r.n == 2 && !strcmp(r.items[0].answer, "7777") && !strcmp(r.items[1].answer, "7777"),
          "answers [%s] [%s]", r.items[0].answer, r.items[1].answer);
    CHECK(r.items[0].m[MET_ABS_ERR] == 7777 - 143 && r.items[1].m[MET_ABS_ERR] == 7777 - 97,
          "abs errors %g %g", r.items[0].m[MET_ABS_ERR], r.items[1].m[MET_ABS_ERR]);
    CHECK(NEAR(r.items[0].m[MET_REL_ERR], (7777.0 - 143) / 143, 1e-12) &&
          NEAR(r.sum[MET_ABS_ERR].mean, (7634.0 + 7680.0) / 2, 1e-9), "rel %g, mean abs %g",
          r.items[0].m[MET_REL_ERR], r.sum[MET_ABS_ERR].mean);
    eval_result_free(&r);
    taskset_free(&ts);
    tok_free(&tok);
    gpt_free(&m);
    unlink(path);
    rmdir(dir);
}

// With a hook installed, decoding runs the full forward at each step: a hook that changes
// nothing gives the same responses as the KV-cache decoder.
static int noop(int hook, int layer, float *act, int B, int T, void *ctx) { return 0; }
static void test_hooked_decoding_matches_cache(void) {
    GPT m;
    Tokenizer tok;
    TaskSet train, test;
    CHECK(fresh_model(&m, &tok, &train, &test, 9) == 0, "%s", em_errmsg());
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 6.0f;  // varied answers
    test.n = 40;
    EvalConfig ec = {.shots = 0, .seed = 1, .n_boot = 0};
    EvalResult a, b;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &a) == 0, "%s", em_errmsg());
    m.hook = noop;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &b) == 0, "%s", em_errmsg());
    int same = 1;
    for (int i = 0; i < 40; i++) same &= !strcmp(a.items[i].response, b.items[i].response);
    CHECK(same, "hooked decoding differs from the KV-cache decoder");
    eval_result_free(&a);
    eval_result_free(&b);
    test.n = 300;
    taskset_free(&train);
    taskset_free(&test);
    tok_free(&tok);
    gpt_free(&m);
}

// Teacher forcing scores the items in batched forwards, rows of equal length together (up
// to the arena's rows); with a hook, one forward per item. The two must agree item by item
// to float rounding, over items of several lengths and more items of one length than a
// batch holds.
static void test_teacher_forcing_batched(void) {
    GPT m;
    Tokenizer tok;
    TaskSet train, test;
    CHECK(fresh_model(&m, &tok, &train, &test, 11) == 0, "%s", em_errmsg());
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 4.0f;  // confident, varied
    int lens[16] = {0}, distinct = 0, most = 0;
    for (int i = 0; i < test.n; i++) {
        int l = (int)strlen(test.items[i].prompt) + (int)strlen(test.items[i].target);
        CHECK(l < 16, "item %d: length %d", i, l);
        distinct += lens[l]++ == 0;
        if (lens[l] > most) most = lens[l];
    }
    EvalConfig ec = {.shots = 0, .seed = 1, .n_boot = 0};
    EvalResult a, b;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &a) == 0, "%s", em_errmsg());
    CHECK(distinct >= 2 && most > m.maxB && m.maxB > 1, "lengths %d, most of one length %d, rows %d",
          distinct, most, m.maxB);
    m.hook = noop;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &b) == 0, "%s", em_errmsg());
    m.hook = NULL;
    double worst = 0.0;
    int acc_diff = 0;
    for (int i = 0; i < test.n; i++) {
        const double *x = a.items[i].m, *y = b.items[i].m;
        double d = fabs(x[MET_LOGPROB] - y[MET_LOGPROB]) / (1.0 + fabs(y[MET_LOGPROB]));
        if (!(d <= worst)) worst = d;  // NaN counts as the worst
        acc_diff += x[MET_TOKEN_ACC_TF] != y[MET_TOKEN_ACC_TF];
        if (!(fabs(x[MET_MEAN_PROB] - y[MET_MEAN_PROB]) <= 1e-6)) worst = INFINITY;
    }
    CHECK(worst <= 1e-5, "log p(target): batched and alone differ by %g (relative)", worst);
    CHECK(acc_diff == 0, "teacher-forced accuracy differs on %d items", acc_diff);
    CHECK(a.sum[MET_LOGPROB].mean < -1.0, "log p %g: not a varied model", a.sum[MET_LOGPROB].mean);
    eval_result_free(&a);
    eval_result_free(&b);
    taskset_free(&train);
    taskset_free(&test);
    tok_free(&tok);
    gpt_free(&m);
}

// A fresh model with the vocabulary of a task's train split and the given block size.
static int model_for(const char *spec, int ntrain, int block, GPT *m, Tokenizer *tok,
                     TaskSet *train, TaskSet *test) {
    if (task_generate(spec, TASK_TRAIN, ntrain, 1, train) || task_generate(spec, TASK_TEST, 40, 2, test))
        return -1;
    char *text;
    unsigned char *mask;
    size_t len;
    if (task_training_text(train, &text, &mask, &len)) return -1;
    int rc = tok_build_char(tok, text, len, spec);
    free(text);
    free(mask);
    if (rc) return -1;
    GPTConfig c = {.vocab_size = tok->vocab_size, .block_size = block, .n_layer = 1, .n_head = 2,
                   .n_embd = 16};
    if (gpt_create(m, &c)) return -1;
    gpt_init_weights(m, 3);
    return 0;
}

// Defect: mod:97 on a block of 4 cut every prompt on the left and reported exact match
// 0.000 with a footnote. "<a>+<b>=" is 4 tokens and the answer "<c>\n" 2, of which the
// context holds all but the last: the block must be 5. Refused unless truncation is asked.
static void test_prompts_that_do_not_fit(void) {
    GPT m;
    Tokenizer tok;
    TaskSet train, test;
    CHECK(model_for("mod:97:+", 0, 4, &m, &tok, &train, &test) == 0, "%s", em_errmsg());
    EvalConfig ec = {.shots = 0, .seed = 1, .n_boot = 0};
    EvalResult r;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &r) == EVAL_UNFIT, "a block of 4 accepted");
    CHECK(strstr(em_errmsg(), "mod:97") && strstr(em_errmsg(), "block size 4") &&
          strstr(em_errmsg(), "is 6 tokens") && strstr(em_errmsg(), "at least 5"), "%s",
          em_errmsg());
    CHECK(r.items == NULL, "partial result left");
    // the same check on characters, without a tokenizer: U+0100.. are 2 bytes, 1 token
    CHECK(eval_check_fit(NULL, &test, 4) == EVAL_UNFIT && eval_check_fit(NULL, &test, 5) == 0,
          "counting characters: %s", em_errmsg());
    CHECK(eval_check_fit(&tok, &test, 5) == 0, "%s", em_errmsg());
    // asked for: every prompt is cut, and counted
    ec.truncate = 1;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &r) == 0, "%s", em_errmsg());
    CHECK(r.truncated == test.n, "%d of %d prompts counted as cut", r.truncated, test.n);
    eval_result_free(&r);
    gpt_free(&m);
    tok_free(&tok);
    taskset_free(&train);
    taskset_free(&test);

    // a block of 16 holds the query of add:2 ("12+34=" 6 + "46\n" 3 - 1 = 8), not 3 exemplars
    // before it: the exemplars are cut on the left, each such prompt counted
    CHECK(model_for("add:2", 0, 16, &m, &tok, &train, &test) == 0, "%s", em_errmsg());
    ec.truncate = 0;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &r) == 0, "%s", em_errmsg());
    CHECK(r.truncated == 0, "%d prompts cut without exemplars", r.truncated);
    eval_result_free(&r);
    ec.shots = 3;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &r) == 0, "%s", em_errmsg());
    CHECK(r.truncated == test.n, "%d of %d few-shot prompts counted as cut", r.truncated, test.n);
    eval_result_free(&r);
    // multiple choice: the prompt and the longest choice
    gpt_free(&m);
    tok_free(&tok);
    taskset_free(&train);
    taskset_free(&test);
    CHECK(model_for("ioi", 500, 8, &m, &tok, &train, &test) == 0, "%s", em_errmsg());
    ec.shots = 0;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &r) == EVAL_UNFIT &&
          strstr(em_errmsg(), "longest choice"), "%s", em_errmsg());
    gpt_free(&m);
    tok_free(&tok);
    taskset_free(&train);
    taskset_free(&test);
}

// Schaeffer et al.'s prediction and the independence checks, recomputed in fp64 from the
// items: add:2 sums have 2 or 3 digits, and each item is raised to its own length.
static void test_predictions_per_item_length(void) {
    GPT m;
    Tokenizer tok;
    TaskSet train, test;
    CHECK(fresh_model(&m, &tok, &train, &test, 9) == 0, "%s", em_errmsg());
    for (size_t i = 0; i < m.num_params; i++) m.params[i] *= 4.0f;  // a peaked distribution
    EvalConfig ec = {.shots = 0, .seed = 1, .n_boot = 300};
    EvalResult r;
    CHECK(eval_task(&m, &tok, &test, &train, &ec, &r) == 0, "%s", em_errmsg());
    double s = 0.0, nl = 0.0, hits = 0.0, tp = 0.0, conf[300], cor[300];
    int len[300], n2 = 0, n3 = 0;
    for (int i = 0; i < r.n; i++) {
        int *ids = NULL;
        size_t n = 0;
        CHECK(tok_encode(&tok, test.items[i].target, strlen(test.items[i].target), &ids, &n,
                         "t") == 0, "%s", em_errmsg());
        free(ids);
        len[i] = (int)n;
        n2 += n == 2;
        n3 += n == 3;
        s += r.items[i].m[MET_LOGPROB];
        nl += (double)n;
        hits += r.items[i].m[MET_TOKEN_ACC] * (double)n;
        tp += exp(r.items[i].m[MET_LOGPROB]);
        conf[i] = r.items[i].m[MET_CONFIDENCE];
        cor[i] = r.items[i].m[MET_EXACT];
    }
    CHECK(n2 > 30 && n3 > 30 && n2 + n3 == r.n, "lengths: %d of 2, %d of 3", n2, n3);
    double p = exp(s / nl), pbar = hits / nl, pred = 0.0, pw = 0.0, pr = 0.0;
    const double *a = r.pos_acc;  // right-aligned: a 2-digit sum has the last two positions
    for (int i = 0; i < r.n; i++) {
        pred += pow(p, len[i]) / r.n;
        pw += pow(pbar, len[i]) / r.n;
        pr += (len[i] == 3 ? a[0] * a[1] * a[2] : a[1] * a[2]) / r.n;
    }
    const MetricSummary *st = r.stat;
    CHECK(NEAR(st[EST_TF_TOKEN_PROB].mean, p, 1e-12) && NEAR(st[EST_EM_PRED_TF].mean, pred, 1e-12),
          "p %.15g (want %.15g), pred %.15g (want %.15g)", st[EST_TF_TOKEN_PROB].mean, p,
          st[EST_EM_PRED_TF].mean, pred);
    // a fixed L (the longest answer) is another number
    CHECK(fabs(st[EST_EM_PRED_TF].mean - pow(p, 3)) > 0.1 * pred, "pred %g vs p^3 %g", pred,
          pow(p, 3));
    CHECK(NEAR(st[EST_EM_INDEP_POW].mean, pw, 1e-12) && NEAR(st[EST_EM_INDEP_PROD].mean, pr, 1e-12),
          "pow %.15g (want %.15g) prod %.15g (want %.15g)", st[EST_EM_INDEP_POW].mean, pw,
          st[EST_EM_INDEP_PROD].mean, pr);
    CHECK(NEAR(r.sum[MET_TARGET_PROB].mean, tp / r.n, 1e-12), "target prob %g", tp / r.n);
    CHECK(NEAR(st[EST_ECE].mean, metric_ece(conf, cor, r.n, 10), 1e-15), "ece %g",
          st[EST_ECE].mean);
    for (int k = 0; k < EST_NUM; k++)  // an interval around each, on every item
        CHECK(st[k].n == r.n && st[k].lo <= st[k].mean && st[k].mean <= st[k].hi &&
              st[k].lo < st[k].hi && st[k].se > 0, "%s: %g [%g, %g] se %g n %d",
              eval_stat_names[k], st[k].mean, st[k].lo, st[k].hi, st[k].se, st[k].n);
    eval_result_free(&r);
    taskset_free(&train);
    taskset_free(&test);
    tok_free(&tok);
    gpt_free(&m);
}

int main(void) {
    RUN(test_fresh_model_is_at_chance);
    RUN(test_hooked_decoding_matches_cache);
    RUN(test_teacher_forcing_batched);
    RUN(test_prompts_that_do_not_fit);
    RUN(test_predictions_per_item_length);
    RUN(test_numeric_file_task);
    return test_summary();
}
