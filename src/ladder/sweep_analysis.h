// ladder/sweep_analysis: what a ladder shows beyond one curve of exact match against size,
// computed from its registry and the spec it ran (DIR/spec.json). Each section is computed
// when the ladder has what it needs, and says what came out in sentences built from the
// numbers:
//   lr     a learning-rate sweep: exact match's emergence verdict and threshold per rate
//   pair   a task sweep of two or more values: where the first value beats the second by more
//          than their intervals (the crossover), on every eval task (e.g. the trained format
//          and one digit more, each value evaluated in its own format)
//   text   a ladder trained on text only: the validation loss as a power law in non-embedding
//          parameters (Kaplan et al. 2020), where the law holds and where the data run out
//   mc     multiple-choice eval tasks: grade, Brier score and target log-probability by size
//   contamination  evaluations split over seen and unseen items (a leak sweep, or
//          eval.contamination_n): exact match all / clean / dirty by size (contam_analysis.h)
#ifndef EMERGENT_LADDER_SWEEP_ANALYSIS_H
#define EMERGENT_LADDER_SWEEP_ANALYSIS_H

#include "ladder/contam_analysis.h"
#include "ladder/ladder.h"

// Kaplan et al. 2020, eq. (1.1): L(N) = (Nc / N)^alpha_N, alpha_N ~ 0.076, N the
// non-embedding parameters (converged models, their WebText2 BPE tokens).
#define KAPLAN_ALPHA_N 0.076
// The train/validation gap (nats) from which the data are said to run out (overfitting).
#define LADDER_OVERFIT_GAP 0.05
// The power law "holds" over the sizes whose seed-mean loss lies within this relative
// distance (|ln y - ln fit|) of a law fitted to them.
#define LADDER_LAW_TOL 0.03
#define LADDER_EXP_TASKS 8

typedef struct {
    int present;
    int n;                              // learning rates (the ladder's parts)
    double lr[LADDER_MAX];
    double thr[LADDER_MAX], lo[LADDER_MAX], hi[LADDER_MAX];  // at LADDER_ABS_LEVEL; NaN: none
    int verdict[LADDER_MAX];            // LT_*
    char text[2048];
} SweepLr;

// One eval task of a task sweep: exact match per size for the first two sweep values.
typedef struct {
    char pattern[128];                  // the eval task as the spec writes it
    char task[2][128];                  // as evaluated for value 0 and value 1
    int n_sizes;
    double params[LADDER_MAX];
    LadderSpread em[2];                 // seed mean, min, max per size
    double lo[2][LADDER_MAX], hi[2][LADDER_MAX];  // item-bootstrap and seed union per size
    int cross;                          // first size where value 0's interval lies above
                                        // value 1's (-1: none); reverse: the other way round
    int reverse;
    ThresholdCI cross_ci;               // where the paired mean difference first reaches
                                        // LADDER_MIN_RISE, 95% over seeds (NaN: not inside)
    int seeds;
} SweepPairTask;

typedef struct {
    int present;
    char value[2][128];                 // the two training tasks compared
    int n_tasks;
    SweepPairTask t[LADDER_EXP_TASKS];
    char text[3072];
} SweepPair;

typedef struct {
    int present;
    int n_sizes, n_points;
    double params[LADDER_MAX], nonemb[LADDER_MAX];  // total and non-embedding parameters
    LadderSpread val, train;            // final losses per size over seeds
    double gap[LADDER_MAX];             // mean (val - train) per size
    double tokens_per_param;            // the budget (0: another budget)
    PowerFit fit;                       // every (size, seed) against non-embedding params
    LadderStatus fit_st;
    double alpha_lo, alpha_hi;          // 95% (t distribution on the fit's standard error)
    int holds_to;                       // the law holds from size 0 to this one (-1: never)
    double next_off;                    // the next size's loss relative to that law (NaN)
    int overfit_from;                   // first size with gap > LADDER_OVERFIT_GAP (-1)
    char text[3072];
} SweepText;

typedef struct {
    char task[128];
    LadderPart part;                    // the analysis with grade in the exact-match slot,
                                        // Brier in the edit-distance slot (lower is better),
                                        // log-probability in its own; first_move and trend
                                        // are analyze.c's
    double grade[LADDER_MAX][LADDER_MAX], brier[LADDER_MAX][LADDER_MAX];  // [size][seed]
    double logp[LADDER_MAX][LADDER_MAX];
} SweepMcTask;

typedef struct {
    int present;
    int n_tasks, n_seeds;
    SweepMcTask t[LADDER_EXP_TASKS];
    char text[4096];
} SweepMc;

typedef struct {
    LadderSpec spec;                    // DIR/spec.json
    int quick;                          // the run was a quick variant (DIR/quick)
    SweepLr lr;
    SweepPair pair;
    SweepText text;
    SweepMc mc;
    SweepContam contam;                 // evaluations split by contamination (contam_analysis.h)
    char path[1300];                    // DIR/experiments.json
} LadderExperiments;

// Computes every section the ladder in dir supports from its analysis a (ladder_analyze),
// writes DIR/experiments.json. Returns 0, or -1 with em_error() (no spec.json, a registry
// that cannot be read, a failed write).
int ladder_experiments(const char *dir, const LadderAnalysis *a, LadderExperiments *x);

#endif
