// ladder/overtime: emergence over training time. Reads the dense measurements of a ladder's
// runs (the registry's dense table: test and train accuracy, answer loss, weight norm,
// Fourier share, every few steps) and says, per run and over seeds, when test accuracy
// generalised and which continuous measure moved before it, and by how many steps.
//
// Definitions (steps are optimizer updates; a curve is a run's dense measurements in order):
//   reach(level)   the first measured step where the accuracy is >= level; -1 if never.
//   test loss      its fall: peak = the largest test loss at or before the step of the run's
//                  smallest test loss (min); the fall is peak - min. The move step is the
//                  first step after the peak where the loss is <= peak - 0.1 x fall. No move
//                  when the fall is under OT_LOSS_FLOOR nats.
//   Fourier share  its rise, the mirror image: low = the smallest share at or before the step
//                  of the largest (high); the move step is the first step after low where the
//                  share is >= low + 0.1 x (high - low). No move when the rise is under
//                  OT_FOURIER_FLOOR.
//   weight norm    the step of the smallest sum of squares; no move when it is the last step
//                  measured (still falling) or less than OT_WEIGHT_FLOOR below the first value.
//   lead           step(test accuracy 0.5) - move step: positive when the measure moved first.
// Over seeds: the mean and, with 2 or more seeds, a 95% t-interval of the mean (one seed: no
// interval), over the seeds where both steps exist.
#ifndef EMERGENT_LADDER_OVERTIME_H
#define EMERGENT_LADDER_OVERTIME_H

#include <stddef.h>

#include "ladder/spec.h"

#define OT_MOVE_SHARE 0.1
#define OT_LOSS_FLOOR 0.25
#define OT_FOURIER_FLOOR 0.05
#define OT_WEIGHT_FLOOR 0.01   // relative to the first value
#define OT_GEN_LEVEL 0.5
#define OT_FULL_LEVEL 0.99
#define OT_FEW_SEEDS 5         // fewer seeds: the text warns that intervals are wide

enum { OT_TEST_LOSS, OT_FOURIER, OT_WEIGHT, OT_NUM };
extern const char *const ot_measure_names[OT_NUM];   // "test_loss", "fourier_share", ...
extern const char *const ot_measure_words[OT_NUM];   // "test loss (10% of its fall)", ...

typedef struct {
    char point[128];
    int seed, n;
    int *step;                     // (n) the measured steps
    double *train_acc, *test_acc, *train_loss, *test_loss, *weight_sq, *fourier;  // (n)
    int s_test50, s_test99, s_train99;   // reach(); -1: never
    int s_move[OT_NUM];            // -1: did not move
    int lead[OT_NUM];              // s_test50 - s_move[m], when both exist
    int has_lead[OT_NUM];
    int first;                     // the measure with the largest lead, -1 when none
    double max_test_acc;
} OtRun;

typedef struct {                   // one quantity over seeds
    int n;                         // seeds it rests on
    double mean, lo, hi, min, max; // lo, hi: 95% t-interval of the mean (NaN when n < 2)
} OtStat;

typedef struct {
    double sweep;                  // NaN: no second axis
    int n_runs, last_step;
    OtRun run[LADDER_MAX];
    int n_gen50;                   // seeds that reached test accuracy 0.5
    OtStat test50, test99, train99, move[OT_NUM], lead[OT_NUM];
    int first_count[OT_NUM];       // seeds where each measure moved first
    char text[3072];               // what came out, in words
} OtPart;

typedef struct {
    char sweep_name[128];
    int n_parts, fourier_k;
    OtPart part[LADDER_MAX];
    char path[1300];               // DIR/overtime.json
} OtAnalysis;

// The analysis of DIR's dense measurements into *a (heap: it is large), written to
// DIR/overtime.json. Returns 0, 1 when the registry has no dense rows (nothing written), -1
// with em_error().
int ladder_overtime(const char *dir, OtAnalysis *a);
void ladder_overtime_free(OtAnalysis *a);

// The pieces, for tests. reach: first step with v >= level (-1). move: the move step of a
// fall (dir -1) or a rise (dir +1) as defined above, -1 when the move is under floor.
// min_step: the weight norm's step as above (-1: no move).
int ot_reach(const int *step, const double *v, int n, double level);
int ot_move(const int *step, const double *v, int n, int dir, double floor);
int ot_min_step(const int *step, const double *v, int n, double rel_floor);
// Mean, 95% t-interval and range of n values (NaN entries skipped).
OtStat ot_stat(const double *v, int n);

#endif
