// eval/metrics: per-item scores of a model's answers, and their aggregation with a standard
// error and a bootstrap 95% interval.
//
// Words used below. A "response" is the generated answer's tokens after the stop string is
// stripped; the "target" is the expected answer's tokens. Token sequences are int arrays with
// a length; a length of 0 is allowed (the pointer may then be NULL).
//
// Per-item metrics return a double so that every score of an item can go through the same
// aggregation (metric_summarize). NaN means "undefined for this item" (e.g. the absolute error
// of a response that is not a number) and is skipped by the aggregation, which reports how
// many items it used.
#ifndef EMERGENT_EVAL_METRICS_H
#define EMERGENT_EVAL_METRICS_H

#include <stdint.h>

// ---- string and token matches ---------------------------------------------
// 1.0 if resp and tgt are the same token sequence (same length, same tokens), else 0.0.
double metric_exact(const int *resp, int nr, const int *tgt, int nt);

// Per-token accuracy aligned on the generated answer, left-aligned: target position i
// (0 <= i < nt) is a hit when i < nr and resp[i] == tgt[i]; a response shorter than the
// target misses the positions it lacks, extra response tokens are ignored (exact match is
// what punishes them). Fills hit_per_pos[i] with 0/1 for i < nt (hit_per_pos may be NULL;
// else it holds nt ints) and returns the number of hits. Aligned accuracy = hits / nt.
//
// Per-token accuracy under teacher forcing is the same count applied to the model's argmax
// predictions at the target positions (pred[i] = argmax of the logits after tgt[0..i-1]):
// metric_aligned_hits(pred, nt, tgt, nt, hit_per_pos) / nt.
int metric_aligned_hits(const int *resp, int nr, const int *tgt, int nt, int *hit_per_pos);

// The right-aligned variant, for numbers, whose digits are positional from the right: the
// last tokens are compared, target position i with resp[nr - nt + i] when that index is >= 0
// (so "57" against "579" hits nothing: 5!=7, 7!=9; "79" against "579" hits both). hit_per_pos
// is still indexed by target position, so hit_per_pos[nt - 1] is the units digit.
int metric_aligned_hits_right(const int *resp, int nr, const int *tgt, int nt, int *hit_per_pos);

// Levenshtein distance over tokens (insert, delete, substitute cost 1), O(na*nb) time and
// O(min(na, nb)) memory. Returns -1 (em_error) on a negative length.
int metric_edit_distance(const int *a, int na, const int *b, int nb);
// The distance divided by max(na, nb), in [0, 1]; 0 when both are empty; -1 on a negative length.
double metric_edit_distance_norm(const int *a, int na, const int *b, int nb);

// ---- teacher-forced probabilities -----------------------------------------
// logp[i] = log p(tgt[i] | prompt, tgt[0..i-1]) in nats, for the n answer tokens.
// Log-probability of the whole target: sum_i logp[i] (0 for n == 0).
double metric_target_logprob(const double *logp, int n);
// Mean per-token probability: (1/n) sum_i exp(logp[i]); NaN for n == 0.
double metric_mean_token_prob(const double *logp, int n);

// ---- multiple choice --------------------------------------------------------
// choice_ll[k] = log-likelihood of choice k (sum of its tokens' logp) given the prompt.
// The model's pick: the argmax, ties to the first; NaN entries are never picked.
// Returns -1 when n <= 0 or every entry is NaN.
int metric_mc_pick(const double *choice_ll, int n);
// Multiple-choice grade: 1.0 if pick == correct (and pick >= 0), else 0.0.
double metric_mc_grade(int pick, int correct);
// BIG-bench's grade for graded choices (task.json "target_scores"): scores[pick], 0 if pick < 0.
double metric_mc_grade_scores(int pick, const double *scores, int n);
// Brier score of one item, the multi-class Brier (1950) score that BIG-bench's
// calibration_multiple_choice_brier_score describes ("squared error between model assigned
// probabilities and 0, 1 targets across classes"): the choice log-likelihoods are normalised
// over the n choices, p = softmax(choice_ll), and the score is sum_k (p_k - [k == correct])^2,
// summed (not averaged) over choices, in [0, 2], 0 for a certain right answer. Returns -1 (em_error) if n <= 0 or correct is out
// of range.
double metric_brier(const double *choice_ll, int n, int correct);

// Expected calibration error over n items: confidence[i] in [0, 1] (e.g. the probability of
// the picked choice) and correct[i] in {0, 1} (or any accuracy in [0, 1]). Items go into
// `bins` equal-width bins over [0, 1] (bin b = [b/bins, (b+1)/bins), the last one closed);
// ECE = sum_b (n_b / N) |mean correct_b - mean confidence_b|. Pairs with a NaN are skipped;
// NaN if no pair is left. Returns -1 (em_error) if bins < 1 or a confidence is outside [0, 1].
double metric_ece(const double *confidence, const double *correct, int n, int bins);

// ---- numeric answers --------------------------------------------------------
// Parses a strict decimal number: optional sign, one or more digits, optionally '.' and one
// or more digits ("579", "-12", "+3.5", "007"); no spaces, exponent, or other characters, and
// the value must be finite. Returns 0 and sets *out on success, -1 if s is not a number (a
// normal outcome for a model's answer, so no em_error message is set).
int metric_parse_number(const char *s, double *out);
// The same with white space around the number allowed: an answer or target as a task
// writes it (GPT-3's completions are " 143").
int metric_parse_number_ws(const char *s, double *out);
// |pred - tgt|.
double metric_abs_error(double pred, double tgt);
// |pred - tgt| / max(|tgt|, 1e-12): the relative error, kept finite for a zero target.
double metric_rel_error(double pred, double tgt);

// ---- exact match predicted from per-token quantities (Schaeffer et al. 2023) -----
// Schaeffer, Miranda & Koyejo 2023, "Are Emergent Abilities of Large Language Models a
// Mirage?": if the answer tokens of an item were right independently with probability p, the
// item would be right with p^L, L its answer length. Each function below takes the items
// idx[0..m) (an index may repeat: a bootstrap resample; idx NULL: the items 0..m-1) and uses
// each item's OWN answer length len[i] (tokens of its target): in the `plain` format 40% of
// the 3-digit sums have 3 digits, not 4, and one length for all would mispredict them.
// Items with len[i] <= 0 (or a NaN log-probability) are skipped; NaN when none is left.
//
// Teacher forced, Schaeffer et al.'s own quantity. sum_logp[i] = log p(target_i | prompt),
// the sum of the teacher-forced log-probabilities of item i's len[i] answer tokens. The
// per-token probability is p = exp(-CE), CE = the mean cross-entropy per answer token pooled
// over the items: p = exp(sum_i sum_logp[i] / sum_i len[i]). Returns the predicted exact
// match mean_i p^len[i]; *p_tok (may be NULL) = p.
double metric_pred_tf(const double *sum_logp, const int *len, const int *idx, int m,
                      double *p_tok);

// Greedy, an independence check over answer positions. Item i's answer occupies positions
// pos0[i] .. pos0[i] + len[i] - 1 of a grid of n_pos (0 for left-aligned text; n_pos - len[i]
// for numbers, aligned on their last digit), and hit[i * n_pos + q] in {0, 1} says whether
// greedy decoding got position q right (aligned as per-token accuracy aligns it). With
// pbar = sum of hits / sum of len (the pooled per-token hit rate) and acc_q = the hit rate at
// position q over the items that have it:
//   returned    mean_i pbar^len[i]
//   *pred_prod  mean_i prod_{q of item i} acc_q      (may be NULL; so may *pbar)
// With one answer length for every item, pred_prod <= the returned value (AM-GM): errors
// that concentrate at some positions make exact match rarer than the mean rate predicts.
typedef struct {
    const unsigned char *hit;   // (n_items, n_pos)
    const int *pos0, *len;      // (n_items,)
    int n_pos;
} PositionHits;
double metric_pred_indep(const PositionHits *h, const int *idx, int m, double *pbar,
                         double *pred_prod);

// ---- aggregation ------------------------------------------------------------
// mean over the non-NaN values; se = sample sd (n-1 denominator) / sqrt(n), 0 when n < 2;
// [lo, hi] = the 2.5th and 97.5th percentiles (linear interpolation between order statistics,
// numpy's default) of n_boot means of resamples with replacement, drawn with the project's
// Rng seeded by `seed`, so the same inputs and seed give the same interval. n = values used.
// With no value left everything is NaN and n = 0; with n_boot == 0, lo = hi = NaN.
typedef struct {
    double mean;
    double se;     // standard error of the mean (lm-evaluation-harness's "_stderr")
    double lo, hi; // percentile bootstrap 95% interval
    int n;         // values used (NaN entries skipped)
} MetricSummary;
// Returns 0, or -1 (em_error) if n < 0 or n_boot < 0.
int metric_summarize(const double *x, int n, int n_boot, uint64_t seed, MetricSummary *out);

// The same interval for a statistic of the whole set of n items that is not a mean of
// per-item values (a calibration error, a predicted exact match): stat(idx, m, ctx) computes
// it over the items idx[0..m). mean = stat over all n items once; each of n_boot resamples
// draws n indices with replacement (the draws of metric_summarize, same seed, same draws);
// lo, hi = the 2.5th and 97.5th percentiles of the finite resampled values and se = their
// standard deviation (the bootstrap standard error); NaN when fewer than 2 are finite or
// n_boot == 0. n = n. With n == 0 everything is NaN. Returns 0, or -1 (em_error) if n < 0 or
// n_boot < 0.
typedef double (*MetricStat)(const int *idx, int m, void *ctx);
int metric_bootstrap(MetricStat stat, void *ctx, int n, int n_boot, uint64_t seed,
                     MetricSummary *out);
// k statistics computed together over the same resamples: stat fills vals[0..k); out[j]
// is what metric_bootstrap gives for statistic j alone with the same seed (one pass where
// k would draw the same indices k times). 1 <= k <= METRIC_STAT_MAX_K.
#define METRIC_STAT_MAX_K 8
typedef void (*MetricStatK)(const int *idx, int m, void *ctx, double *vals);
int metric_bootstrap_k(MetricStatK stat, void *ctx, int k, int n, int n_boot, uint64_t seed,
                       MetricSummary *out);

#endif
