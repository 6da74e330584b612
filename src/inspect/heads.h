// inspect/heads: attention patterns of every layer and head, and per-head scores that name
// what a head does (Olsson et al. 2022, "In-context learning and induction heads";
// TransformerLens' head detectors).
#ifndef EMERGENT_HEADS_H
#define EMERGENT_HEADS_H

#include <stdint.h>

#include "model/gpt.h"

// Runs the model on ids[0..T) (B = 1) and copies every softmax pattern into
// att (L, NH, T, T): att[t][s] is the attention of position t to position s <= t.
// Uses m's hook (restored afterwards). Returns 0, or -1 with em_error().
int heads_patterns(GPT *m, const int *ids, int T, float *att);

// Scores of one head's pattern att (T, T), each in [0, 1]:
// previous-token: mean over t >= 1 of att[t][t-1] (NAN for T < 2);
double heads_prev_score(const float *att, int T);
// first-token: mean over t of att[t][0];
double heads_first_score(const float *att, int T);
// duplicate-token: mean, over positions whose token occurred before, of the attention to
// those earlier occurrences (NAN when no token repeats);
double heads_dup_score(const float *att, const int *ids, int T);
// induction, for a sequence repeated twice (T = 2n, ids[t + n] = ids[t]): mean over the
// second half t in [n, 2n) of att[t][t-n+1], the token after the previous occurrence.
double heads_induction_score(const float *att, int T, int n);

enum { HS_PREV, HS_FIRST, HS_DUP, HS_INDUCTION, HS_NUM };
extern const char *const heads_score_names[HS_NUM];   // "previous_token", ...

// Every score of every head on `samples` sequences of n random tokens repeated twice
// (distinct tokens when n <= V, drawn from seed), averaged: scores (HS_NUM, L, NH).
// Needs 2n <= block_size. Returns 0, or -1 with em_error().
int heads_scores_random(GPT *m, int n, int samples, uint64_t seed, double *scores);
// The same scores on one given sequence (no induction: NAN): scores (HS_NUM, L, NH).
int heads_scores_prompt(GPT *m, const int *ids, int T, double *scores);

// Everything `inspect attention` shows: with ids (T tokens; NULL: none) the patterns att
// (L, NH, T, T) and prompt_scores (HS_NUM, L, NH); always the scores on `samples` random
// sequences of n_rep tokens repeated twice, scores (HS_NUM, L, NH). Returns 0, or -1 with
// em_error() (r is then empty).
typedef struct {
    int L, NH, T;
    float *att;              // NULL without ids
    double *prompt_scores;   // NULL without ids
    double *scores;
} InspectAttention;
int inspect_attention(GPT *m, const int *ids, int T, int n_rep, int samples, uint64_t seed,
                      InspectAttention *r);
void inspect_attention_free(InspectAttention *r);

#endif
