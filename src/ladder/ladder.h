// ladder: train and evaluate every point of a ladder spec, N at a time, resumable, into
// an SQLite registry; read it back as grids; analyse them (src/report draws the figures).
#ifndef EMERGENT_LADDER_H
#define EMERGENT_LADDER_H

#include <stddef.h>

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
    int ranks;                        // START: MPI ranks (1: one process; jobs: all ranks')
    int done, running, queued, failed;  // PROGRESS
    double elapsed, eta;              // PROGRESS: seconds; eta < 0 while unknown
    const char *point, *message;      // POINT_FAILED
    const char *registry;             // END: the registry's path
} LadderProgress;
int ladder_run(const char *spec_path, const char *out_dir, int jobs,
               void (*report)(void *ctx, const LadderProgress *p), void *ctx);
// ladder_run, with quick = 1 running the spec's quick variant (ladder_spec_quick; DIR/quick
// marks its results as such).
int ladder_run_opts(const char *spec_path, const char *out_dir, int jobs, int quick,
                    void (*report)(void *ctx, const LadderProgress *p), void *ctx);
// Under mpirun (dist_size() > 1) every rank calls ladder_run_opts: rank 0 schedules the
// points over the ranks' workers, writes the registry and alone reports; out_dir must be on a
// file system every rank shares. Besides 0 and -1 it returns LADDER_PEER_FAILED (failed, and
// another rank holds the message) and LADDER_ABORT (an error broke the run over the ranks:
// the caller reports it and aborts every rank).
#define LADDER_PEER_FAILED 2
#define LADDER_ABORT 3

// ---- the ladder's metrics ----------------------------------------------------------
// The one table of the metrics a ladder reads back, in the order of the LG_* indices. name
// is the metric as eval writes it and the registry stores it (old_name: the name older
// registries stored it under, read when the new one is absent); label and axis are for
// titles and axis labels. The predictions of exact match (Schaeffer et al.): LG_PRED_TF from
// the teacher-forced per-token probability LG_TF_P, and the independence checks over answer
// positions from greedy per-position accuracy, LG_INDEP_POW and LG_INDEP_PROD.
enum { LG_EM, LG_TOK, LG_TOK_TF, LG_EDIT, LG_LOGP, LG_MPROB, LG_INDEP_PROD, LG_INDEP_POW,
       LG_PRED_TF, LG_TF_P, LG_TARGET_PROB, LG_ECE, LG_NUM };
typedef enum {
    LM_RATE,        // a fraction of items or tokens, in [0, 1]
    LM_DISTANCE,    // edits per answer token, >= 0
    LM_LOGPROB,     // a log-probability in nats, <= 0
    LM_PREDICTED,   // a rate predicted from other metrics (Schaeffer et al.)
    LM_CALIBRATION, // a calibration error in [0, 1]
} LadderMetricKind;
typedef struct {
    const char *name, *old_name;
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
    // exact match's 95% item-bootstrap interval per run (NaN where none was recorded)
    double em_lo[LADDER_MAX][LADDER_MAX], em_hi[LADDER_MAX][LADDER_MAX];
    // the items exact match was scored on per run (0 where none was recorded)
    int em_items[LADDER_MAX][LADDER_MAX];
    // each size's training budget as recorded: optimizer steps and tokens
    int train_steps[LADDER_MAX];
    double train_tokens[LADDER_MAX];
    // every metric's 95% item-bootstrap interval per run, [metric][size][seed] (NaN: none)
    double lo[LG_NUM][LADDER_MAX][LADDER_MAX], hi[LG_NUM][LADDER_MAX][LADDER_MAX];
    double pos[LADDER_MAX][LADDER_MAX][LG_MAX_POS];
    int n_steps[LADDER_MAX], steps[LADDER_MAX][LG_MAX_STEPS];
    double curve[2][LADDER_MAX][LG_MAX_STEPS][LADDER_MAX];  // exact match, token accuracy
} LadderGrid;
// The values of the second axis (n = 0 without one), ascending.
int ladder_sweep_values(const char *dir, double *values, int cap, int *n);
// The grid of one sweep value (NaN: the ladder has no second axis), on the first task (by
// name) evaluated for that value; a ladder that evaluates no task (losses only) gives a grid
// with task "" and NaN metrics once a run has finished.
int ladder_load_grid(const char *dir, double sweep, LadderGrid *g);
// The same on a named task (its metrics NaN where that task was not evaluated).
int ladder_load_grid_task(const char *dir, double sweep, const char *task, LadderGrid *g);
// Mean, min and max of the n values of one size over its seeds (NaN entries skipped; all
// three NaN when none is left).
void ladder_grid_stats(const double *v, int n, double *mean, double *lo, double *hi);
// Whether a run (its parameter count, seed and sweep value) is a cell of g: 1 with its size
// index *i and seed index *k, else 0.
int ladder_grid_cell(const LadderGrid *g, long long params, int seed, double sweep, int *i,
                     int *k);

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

// The predictions of exact match that the analysis compares with the observation, and the
// metric (LG_*) of each.
enum { LS_TF, LS_INDEP_POW, LS_INDEP_PROD, LS_NUM };
extern const int ladder_schaeffer_metric[LS_NUM];

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
    // fit the smaller half of the sizes' losses (every run a point), predict the largest
    // size's seed mean with a prediction interval (ladder_extrapolate, floor AUTO; 4 sizes
    // needed)
    Extrapolation extrapolation;
    LadderStatus extrapolation_st;
    // Kaplan et al.'s conventions (analyze_kaplan.c): the non-embedding parameter count per
    // size (params minus the token and position embeddings; the head is tied to the token
    // embedding, so it adds none), NaN where the shape is unknown; the loss law fitted on it
    // (3 points needed); and the training budget the ladder recorded (LB_*), which decides
    // what the loss against FLOPs is.
    double nonemb[LADDER_MAX];
    LadderFit loss_nonemb;
    int budget;                     // LB_*
    int budget_steps;               // LB_STEPS: the steps of every size
    double budget_tokens;           // LB_STEPS: the tokens of every size
    double tokens_per_param;        // LB_TOKENS_PER_PARAM: the mean ratio over sizes
    // every metric over size, and BIG-bench's trend of its seed means (3 sizes needed),
    // oriented so that better is up: a lower-is-better metric (edit distance) is trended on
    // -y, so a sharp improvement has a large positive breakthroughness for every metric
    LadderSpread metric[LG_NUM];
    Trend trend[LG_NUM];
    LadderStatus trend_st[LG_NUM];
    // The first size (index into params) where a metric moved: its seed mean, oriented so
    // that better is up, exceeds the smallest size's by more than the two sizes' seed
    // spreads (max - min) together plus LADDER_MOVE_FLOOR (rates and distances) or
    // LADDER_MOVE_FLOOR_LOGP nats (log-probabilities); -1 when it never did.
    int first_move[LG_NUM];
    // 1 when exact match and per-token accuracy are the same number at every size (within
    // 1e-9, every size measured): one-token answers, where the metric cannot shape the curve
    int one_token;
    // What the metrics say together (LF_*), and the sentence that says it.
    int finding;
    char finding_text[1024];
    // Per size, every metric's interval: the union over seeds of each run's 95% item-
    // bootstrap interval and of the seed values (NaN where no run has one).
    double ci_lo[LG_NUM][LADDER_MAX], ci_hi[LG_NUM][LADDER_MAX];
    // Schaeffer et al.: each prediction of exact match (LS_*) against the observed exact
    // match, run by run (ladder_schaeffer_compare).
    SchaefferCompare schaeffer[LS_NUM];
    LadderStatus schaeffer_st[LS_NUM];  // LA_FAILED: a value outside [0, 1] (runs = 0)
    // the emergence threshold of exact match (parameters), 1000 resamples over seeds, at
    // half the ladder's maximum (threshold) and at the absolute level LADDER_ABS_LEVEL
    // (threshold_abs). Reported only when verdict == LT_EMERGED; the intervals rest on
    // threshold_seeds seeds (the fewest finite at any size) and are NaN with one seed.
    ThresholdCI threshold;          // NaN unless threshold_st.state == LA_OK
    ThresholdCI threshold_abs;
    LadderStatus threshold_st;
    int verdict;                    // LT_*
    int threshold_seeds;
    // The intervals compared for the verdict, at the smallest and the largest size: the
    // union over seeds of each run's item-bootstrap interval and of the seed values.
    double emerge_lo[2], emerge_hi[2];
    double fall;                    // exact match's largest fall after a rise (ladder_curve_falls)
} LadderPart;

// What the emergence verdict of exact match is:
//   LT_EMERGED       the largest size's interval lies above the smallest's, and the seed
//                    mean rose by at least LADDER_MIN_RISE: a threshold is reported
//   LT_NOT_EMERGED   otherwise: "did not emerge", no threshold number
//   LT_NON_MONOTONE  it emerged but falls again after rising by more than LADDER_FALL_SHARE
//                    of its range: reported as such, not by its first crossing
enum { LT_NOT_EMERGED = 0, LT_EMERGED = 1, LT_NON_MONOTONE = 2 };
// The training budget of a ladder's sizes, from the steps and tokens its runs recorded:
//   LB_STEPS             every size trained the same steps (a steps or tokens budget): loss
//                        against FLOPs at a fixed step budget, not the compute-efficient
//                        frontier
//   LB_TOKENS_PER_PARAM  the steps differ and tokens / params agrees within 10% across sizes
//   LB_OTHER             neither; LB_UNKNOWN: no budget recorded
enum { LB_UNKNOWN = 0, LB_STEPS, LB_TOKENS_PER_PARAM, LB_OTHER };
void ladder_analyze_kaplan(const LadderGrid *g, LadderPart *p);
// What the loss against FLOPs shows, given the budget, as sentences.
void ladder_budget_text(const LadderPart *p, char *buf, size_t n);
// What the extrapolation check found, as sentences.
void ladder_extrapolation_text(const LadderPart *p, char *buf, size_t n);
// What the trend numbers are, as analysis.json says. Breakthroughness is BIG-bench's
// (Srivastava et al. 2022, Appendix B; the formula Schaeffer et al. 2023 quote as its
// "emergence score"). BIG-bench's own linearity could not be checked against its
// repository (google/BIG-bench holds no code for it that could be found), so the linearity
// here is the lab's own index, named so everywhere.
#define LADDER_B_DEFINITION "BIG-bench's: I / sqrt(median of squared steps), I = sign(argmax " \
    "- argmin) * (max - min) over the sizes in order (Srivastava et al. 2022, Appendix B)"
#define LADDER_L_DEFINITION "the lab's own index, not BIG-bench's linearity: I / sqrt(mean of " \
    "squared steps); norm = that / (sizes - 1), 1 for a straight rising line"
#define LADDER_ABS_LEVEL 0.5
#define LADDER_MIN_RISE 0.05
#define LADDER_MOVE_FLOOR 0.02
#define LADDER_MOVE_FLOOR_LOGP 0.05
#define LADDER_FEW_SEEDS 5
// What the four metrics of the mirage figure (exact match, per-token accuracy, edit
// distance, log-probability) say together:
//   LF_ONE_TOKEN     exact match and per-token accuracy are one number (one-token answers)
//   LF_NOTHING       no metric moved beyond its seed spread: nothing emerged
//   LF_CONT_FIRST    a continuous metric moved at a smaller size than exact match
//   LF_TOGETHER      exact match moved at the same size as the first continuous metric
//   LF_EM_FIRST      exact match moved before every continuous metric
//   LF_EM_NEVER      continuous metrics moved, exact match never did
enum { LF_ONE_TOKEN, LF_NOTHING, LF_CONT_FIRST, LF_TOGETHER, LF_EM_FIRST, LF_EM_NEVER };

// Fills p->ci_lo, p->ci_hi and p->schaeffer from the grid (ladder_analyze_grid calls it).
void ladder_analyze_schaeffer(const LadderGrid *g, LadderPart *p);
// What the predictions say, as sentences computed from the numbers: the teacher-forced
// prediction's errors and how often the observation lies in its interval, then the
// independence checks and which prediction is closest.
void ladder_schaeffer_text(const LadderPart *p, char *buf, size_t n);
// Which prediction is closest to the observation, with the mean errors, in one sentence.
void ladder_schaeffer_closest(const LadderPart *p, char *buf, size_t n);
// The "schaeffer" object of analysis.json.
struct cJSON;
struct cJSON *ladder_schaeffer_json(const LadderPart *p);

// The emergence verdict and thresholds of exact match as sentences (what the CLI and the
// report say): "did not emerge", "non-monotone", or the thresholds with their intervals,
// the seeds they rest on and a warning under LADDER_FEW_SEEDS seeds.
void ladder_threshold_text(const LadderPart *p, char *buf, size_t n);
// A breakthroughness as words: "12.3", "inf (a step)", "-inf (a step)", or "-" (NaN).
void ladder_fmt_breakthrough(double b, char *buf, size_t n);
// The analysis of one part as the JSON object analysis.json holds for it (malloc'd text).
// An infinite breakthroughness is written as the string "inf" or "-inf" (JSON has no
// infinity); every other number that is not finite as null.
char *ladder_part_json(const LadderPart *p);

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
