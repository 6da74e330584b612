// ladder: train and evaluate every point of a ladder spec, N at a time, resumable, into
// an SQLite registry; read it back as grids; analyse them (src/report draws the figures).
#ifndef EMERGENT_LADDER_H
#define EMERGENT_LADDER_H

#include "ladder/analysis.h"
#include "ladder/spec.h"

// Runs every unfinished point of the spec into out_dir (out_dir/points/KEY: checkpoints,
// out_dir/registry.sqlite: every result). Killed and run again, it continues each
// unfinished point from its last checkpoint and never redoes a finished one.
// What ladder_run reports (report may be NULL): LADDER_START once, LADDER_PROGRESS about
// five times a second and once at the end, LADDER_POINT_FAILED from the worker of a point
// that failed, LADDER_END once the registry is exported.
enum { LADDER_START, LADDER_PROGRESS, LADDER_POINT_FAILED, LADDER_END };
typedef struct {
    int stage;
    const char *name;                 // the spec's name
    int points, sizes, seeds, swept;  // START: the ladder
    int to_run, jobs, threads;        // START: what this run does, how
    double flops_todo;                // START: training FLOPs to go
    int done, running, queued, failed;  // PROGRESS
    double elapsed, eta;              // PROGRESS: seconds; eta < 0 while unknown
    const char *point, *message;      // POINT_FAILED
    const char *registry;             // END: the registry's path
} LadderProgress;
int ladder_run(const char *spec_path, const char *out_dir, int jobs,
               void (*report)(void *ctx, const LadderProgress *p), void *ctx);

// ---- the ladder's metrics ----------------------------------------------------------
// The one table of the metrics a ladder reads back, in the order of the LG_* indices. name
// is the metric as eval writes it and the registry stores it; label and axis are for titles
// and axis labels.
enum { LG_EM, LG_TOK, LG_TOK_TF, LG_EDIT, LG_LOGP, LG_MPROB, LG_PRED_PROD, LG_PRED_POW, LG_NUM };
typedef enum {
    LM_RATE,        // a fraction of items or tokens, in [0, 1]
    LM_DISTANCE,    // edits per answer token, >= 0
    LM_LOGPROB,     // a log-probability in nats, <= 0
    LM_PREDICTED,   // a rate predicted from other metrics (Schaeffer et al.)
} LadderMetricKind;
typedef struct {
    const char *name;
    int higher_is_better;   // 1: higher is better, 0: lower is better
    LadderMetricKind kind;
    const char *label, *axis;
} LadderMetric;
extern const LadderMetric ladder_metrics[LG_NUM];

// ---- grids --------------------------------------------------------------------------
// A ladder read back from its registry: per size (sorted by parameters) and seed, the
// final-step metrics of the first evaluated task (NaN where a run is missing).
#define LG_MAX_POS 16
#define LG_MAX_STEPS 32
typedef struct {
    char task[128];
    char sweep_name[128];           // "" without a second axis
    double sweep;                   // this grid's value on it (NaN: none)
    int n_sizes, n_seeds, n_runs, n_done, n_pos;
    double params[LADDER_MAX], flops[LADDER_MAX];
    int layers[LADDER_MAX], width[LADDER_MAX], heads[LADDER_MAX];
    int seeds[LADDER_MAX];
    double val_loss[LADDER_MAX][LADDER_MAX];
    double metric[LG_NUM][LADDER_MAX][LADDER_MAX];
    double pos[LADDER_MAX][LADDER_MAX][LG_MAX_POS];
    int n_steps[LADDER_MAX], steps[LADDER_MAX][LG_MAX_STEPS];
    double curve[2][LADDER_MAX][LG_MAX_STEPS][LADDER_MAX];  // exact match, token accuracy
} LadderGrid;
// The values of the second axis (n = 0 without one), ascending.
int ladder_sweep_values(const char *dir, double *values, int cap, int *n);
// The grid of one sweep value (NaN: the ladder has no second axis).
int ladder_load_grid(const char *dir, double sweep, LadderGrid *g);
// Mean, min and max of the n values of one size over its seeds (NaN entries skipped; all
// three NaN when none is left).
void ladder_grid_stats(const double *v, int n, double *mean, double *lo, double *hi);

// ---- the analysis -------------------------------------------------------------------
// Each measure says whether it was computed: LA_SKIPPED when the ladder has too few points
// for it (not an error), LA_FAILED with the message of the function that refused.
enum { LA_SKIPPED = 0, LA_OK = 1, LA_FAILED = 2 };
typedef struct {
    int state;
    char error[256];
} LadderStatus;
typedef struct {
    PowerFit fit;                   // zero unless state == LA_OK
    LadderStatus st;
} LadderFit;
typedef struct {                    // per size, over its seeds (NaN where none)
    double mean[LADDER_MAX], min[LADDER_MAX], max[LADDER_MAX];
} LadderSpread;

// The analysis of one grid (one value of the second axis, or the whole ladder).
typedef struct {
    char task[128], sweep_name[128];
    double sweep;
    int n_runs, n_done, n_sizes, n_seeds;
    double params[LADDER_MAX], flops[LADDER_MAX];
    LadderSpread val_loss;
    // power laws of the final validation loss, every (size, seed) a point: against
    // parameters, with an irreducible term, against training FLOPs (3, 4 and 3 points needed)
    LadderFit loss_params, loss_params_irr, loss_flops;
    // fit the smaller half of the seed-mean losses, predict the largest (4 sizes needed)
    Extrapolation extrapolation;
    LadderStatus extrapolation_st;
    // every metric over size, and BIG-bench's trend of its seed means (3 sizes needed)
    LadderSpread metric[LG_NUM];
    Trend trend[LG_NUM];
    LadderStatus trend_st[LG_NUM];
    // Schaeffer et al.: |predicted - observed| exact match over the runs that have all three
    // (max_* = 0 when runs == 0)
    int schaeffer_runs;
    double mean_abs_pow, max_abs_pow, mean_abs_prod, max_abs_prod;
    // the emergence threshold of exact match (parameters), 1000 resamples over seeds
    ThresholdCI threshold;          // NaN unless threshold_st.state == LA_OK
    LadderStatus threshold_st;
} LadderPart;

typedef struct {
    char sweep_name[128];           // "" without a second axis
    int n_parts;                    // 1, or one per value of the second axis (ascending)
    LadderPart part[LADDER_MAX];
    char path[1300];                // the analysis.json written
} LadderAnalysis;

// 1 for a fit worth reporting: converged, finite, and a non-negative irreducible loss.
int ladder_fit_valid(const PowerFit *f);
// The analysis of one grid into *p. Never fails: what cannot be computed says so in p.
void ladder_analyze_grid(const LadderGrid *g, LadderPart *p);
// The analysis of a ladder directory into *a, also written to DIR/analysis.json. Returns 0,
// or -1 with em_error() (no registry, a registry that cannot be read, a failed write).
int ladder_analyze(const char *dir, LadderAnalysis *a);

#endif
