// eval: score a model on a task under every metric of the emergence debate.
// Prompts (k-shot, exemplars from a disjoint pool, order from a seed), greedy decoding with
// the KV cache until the stop string, teacher-forced log-probabilities of the target, and
// log-likelihood scoring of multiple-choice continuations.
#ifndef EMERGENT_EVAL_H
#define EMERGENT_EVAL_H

#include <stdint.h>

#include "data/tasks.h"
#include "eval/metrics.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

// Per-item metrics (NaN where one does not apply to the task).
enum {
    MET_EXACT,          // exact match of the extracted answer (or any accepted answer)
    MET_TOKEN_ACC,      // per-token accuracy aligned on the generated answer
    MET_TOKEN_ACC_TF,   // per-token accuracy of the argmax under teacher forcing
    MET_EDIT,           // token edit distance answer vs target
    MET_EDIT_NORM,      // ... divided by the longer length
    MET_LOGPROB,        // log p(target | prompt), nats, teacher forced
    MET_MEAN_PROB,      // mean per-token probability of the target
    MET_ABS_ERR,        // numeric answers: |answer - target|
    MET_REL_ERR,        // numeric answers: |answer - target| / |target|
    MET_MC_GRADE,       // multiple choice: the most likely choice is the right one
    MET_BRIER,          // multiple choice: Brier score of the softmax over choices
    MET_CONFIDENCE,     // probability of the model's own answer (for calibration)
    MET_TARGET_PROB,    // p(target | prompt) = exp(MET_LOGPROB), teacher forced: the chance
                        // that sampling at temperature 1 gives the target tokens (generative)
    MET_NUM
};
extern const char *const eval_metric_names[MET_NUM];
extern const int eval_higher_is_better[MET_NUM];

// Statistics of the whole set of items, not means of per-item values, each with a 95%
// item-bootstrap interval (metric_bootstrap, drawn with exact match's seed, so every interval
// rests on the same resamples). NaN where one does not apply (multiple choice: the last four).
// The predictions of exact match use each item's own answer length L_i (see metrics.h).
enum {
    EST_ECE,             // expected calibration error (10 bins) of MET_CONFIDENCE vs MET_EXACT
    EST_TF_TOKEN_PROB,   // p = exp(-CE), CE the teacher-forced cross-entropy per answer token
    EST_EM_PRED_TF,      // Schaeffer et al.'s prediction of exact match: mean_i p^L_i
    EST_EM_INDEP_POW,    // independence check, greedy: mean_i pbar^L_i, pbar the hit rate
    EST_EM_INDEP_PROD,   // independence check, greedy: mean_i of the product of the
                         // per-position accuracies over item i's positions
    EST_NUM
};
extern const char *const eval_stat_names[EST_NUM];
extern const int eval_stat_higher_is_better[EST_NUM];

typedef struct {
    int shots;        // exemplars in each prompt
    uint64_t seed;    // exemplar choice and order, bootstrap
    int max_new;      // generation limit in tokens (0: from the longest target)
    int n_boot;       // bootstrap resamples for the 95% intervals
    // Called as items are generated and scored (NULL: silent): phase "generating" or
    // "scoring", done of total, and while scoring the running mean exact match.
    void (*progress)(void *ctx, const char *task, const char *phase, int done, int total,
                     double exact_match);
    void *progress_ctx;
    int truncate;     // 1: cut prompts that do not fit on the left; 0: refuse them (EVAL_UNFIT)
} EvalConfig;

typedef struct {
    char *prompt, *response, *answer;  // the full prompt, the raw generation, the answer in it
    const TaskItem *item;
    double m[MET_NUM];
} EvalItem;

#define EVAL_MAX_POS 64
typedef struct {
    const TaskSet *ts;
    int n;
    EvalItem *items;
    MetricSummary sum[MET_NUM];
    MetricSummary stat[EST_NUM];    // ECE and the predictions of exact match (EST_*)
    int n_pos;                      // answer positions (the longest target, in tokens)
    double pos_acc[EVAL_MAX_POS];   // accuracy per position, aligned on the generated answer
    double pos_acc_tf[EVAL_MAX_POS];// ... under teacher forcing
    int pos_count[EVAL_MAX_POS];    // items with that position
    int truncated;                  // items whose prompt was cut on the left to fit the
                                    // context (exemplars only, unless ec->truncate)
    double seconds;
    // Seen or unseen (eval_split_by): every per-item metric over the clean items [0] and the
    // dirty ones [1], each with its interval (n = 0 where a part has no item); dirty[i] is
    // item i's flag. has_split = 0 (and dirty NULL) until eval_split_by is called.
    int has_split, n_split[2];
    MetricSummary split[2][MET_NUM];
    unsigned char *dirty;
} EvalResult;

// What eval_task and eval_check_fit return when a prompt does not fit (em_error says why).
#define EVAL_UNFIT (-2)

// Every item's zero-shot prompt (task prefix and query) and its answer must fit in the
// block: generative, prompt + scratch + target + stop less its last token; multiple
// choice, prompt + the longest choice. Returns 0, or EVAL_UNFIT with an error naming the
// task, the block size and the longest prompt + answer; -1 if a text cannot be encoded.
// tok NULL counts characters (the tokens of a char-level tokenizer that holds them).
int eval_check_fit(const Tokenizer *tok, const TaskSet *ts, int block_size);

// Scores m on the items of test; exemplars come from pool (the train split: disjoint).
// Unless ec->truncate, refuses (EVAL_UNFIT) a task whose items do not fit m's block
// (eval_check_fit); exemplars that do not fit are cut on the left and counted in truncated.
int eval_task(GPT *m, const Tokenizer *tok, const TaskSet *test, const TaskSet *pool,
              const EvalConfig *ec, EvalResult *out);
void eval_result_free(EvalResult *r);
// Splits r's items by a contamination flag per item (dirty[i] = 1: item i occurs in the
// training data; see data.h, overlap_*) and summarises every metric over each part, with
// n_boot resamples from seed (the whole set's seeds, so the parts' draws are reproducible).
int eval_split_by(EvalResult *r, const unsigned char *dirty, int n_boot, uint64_t seed);

// Memorisation as extraction (Carlini et al. 2021, "Extracting Training Data from Large
// Language Models"; 2023, "Quantifying Memorization Across Neural Language Models"): of n
// spans of `span` tokens drawn uniformly (with replacement, from seed) from the training
// stream tokens[0..len), the fraction whose last span - prefix tokens greedy decoding
// reproduces verbatim from their first `prefix` tokens (defaults 50 and 32: a 32-token
// prompt, an 18-token continuation). Greedy: the argmax, the lowest id on a tie. out: the
// mean of the 0/1 outcomes with its percentile bootstrap interval (1000 resamples). Needs
// 1 <= prefix < span <= the block size and len >= span; else -1 (em_error).
// The registry records it as metric EVAL_MEMO_METRIC of the pseudo-task EVAL_MEMO_TASK.
#define EVAL_MEMO_TASK "memorization"
#define EVAL_MEMO_METRIC "memorized"
typedef struct { int n, span, prefix; uint64_t seed; } MemorizeConfig;
int eval_memorized(const GPT *m, const int *tokens, size_t len, const MemorizeConfig *c,
                   MetricSummary *out);

// lm-evaluation-harness-shaped JSON: results.{task}.{"metric,none"}, "metric_stderr,none",
// n-shot, n-samples, higher_is_better, config, versions, date. Written atomically.
int eval_write_results(const char *path, const EvalResult *r, int n_tasks, const char *model_path,
                       const GPT *m, const EvalConfig *ec);
// One JSON object per item: task, doc_id, prompt, target, response, answer, metrics.
int eval_write_samples(const char *path, const EvalResult *r, int n_tasks);

#endif
