// ladder/registry: every result of a ladder in one SQLite file (DIR/registry.sqlite): runs,
// checkpoints, training losses, evaluations with their metric values and per-position
// accuracies; queries for the analysis; exports as CSV and JSON.
//
// Several worker processes may write one registry at once: it is in WAL mode, every
// connection waits up to REG_BUSY_MS for a lock, and every call that writes more than one
// row does so in one transaction (BEGIN IMMEDIATE ... COMMIT), so a process killed at any
// moment leaves all of a call's rows or none. Writes are idempotent (upserts; an evaluation
// replaces the one with the same (point, step, task)), so a re-run after a kill never
// duplicates rows.
//
// A point is one model of the ladder, named by a string key such as "s03-seed2" or
// "s03-lr0.003-seed2". Its run must be added (reg_upsert_run) before its checkpoints,
// losses or evaluations. Names (point, task, metric, sweep) are 1..REG_NAME_MAX-1 bytes.
//
// A Registry is one connection: open it in the process and thread that uses it, never
// across fork(). Functions return 0, or -1 with em_error() naming the registry's path and
// the field (1 / 0 / -1 where documented: found / not found / error). NaN is stored as
// NULL and read back as NaN. Query results are ordered by params, sweep_value, seed, point
// (then step, ...) and returned in one malloc'd array the caller free()s; *rows is NULL
// when *n is 0.
#ifndef EMERGENT_REGISTRY_H
#define EMERGENT_REGISTRY_H

#include <stddef.h>

#define REG_SCHEMA_VERSION 3
#define REG_NAME_MAX 128
#define REG_BUSY_MS 60000
#define REG_STEP_FINAL (-1)  // queries: the last evaluated step of each run (for that task)
#define REG_STEP_ALL (-2)    // queries: every evaluated step

typedef struct Registry Registry;

// Opens path, creating the file and the schema when absent. Refuses a file that is not an
// SQLite database, an SQLite database that is not a registry, and a registry of a newer
// schema version than REG_SCHEMA_VERSION.
int reg_open(Registry **r, const char *path);
void reg_close(Registry *r);  // NULL is fine
const char *reg_path(const Registry *r);

// ---- writes ---------------------------------------------------------------
typedef struct {
    const char *point;
    int size_idx;             // rung of the ladder
    int n_layer, n_head, n_embd;
    long long params;         // parameter count
    int seed;
    const char *sweep_name;   // NULL or "": none
    double sweep_value;       // NaN: none
    double lr;
    int steps;                // training steps
    long long tokens;         // training tokens
    double flops;             // training FLOPs
} RunInfo;

// Adds a run with status "queued", or updates the configuration of an existing one while
// keeping its status and results.
int reg_upsert_run(Registry *r, const RunInfo *ri);
// status: "queued", "running", "done" or "failed". The run must exist.
int reg_set_status(Registry *r, const char *point, const char *status);
// 1 and the status copied into status[cap]; 0 (status "") when there is no such run; -1.
int reg_get_status(Registry *r, const char *point, char *status, size_t cap);
// The machine the run is made on (kernels_machine_line): set when it starts or resumes.
int reg_set_machine(Registry *r, const char *point, const char *machine);
// The distinct machines of the registry's runs with their run counts, most runs first
// (*rows malloc'd; free it).
typedef struct { char machine[512]; int runs; } RegMachine;
int reg_list_machines(Registry *r, RegMachine **rows, int *n);
// Records the final losses and wall-clock seconds and sets the status to "done".
int reg_finish_run(Registry *r, const char *point, double train_loss, double val_loss,
                   double wall_s);

// A checkpoint of point saved at step (replaces the path for an existing (point, step)).
int reg_add_checkpoint(Registry *r, const char *point, int step, const char *path);
// 1 with the highest step and its path; 0 when point has no checkpoint; -1.
int reg_last_checkpoint(Registry *r, const char *point, int *step, char *path, size_t cap);

// The training curve: one row per (point, step), replaced when written again.
int reg_add_loss(Registry *r, const char *point, int step, double train_loss, double val_loss);
// n rows in one transaction; train_loss or val_loss may be NULL (stored as NULL).
int reg_add_losses(Registry *r, const char *point, int n, const int *steps,
                   const double *train_loss, const double *val_loss);
// Deletes point's losses after after_step (a resumed run rewrites them).
int reg_trim_losses(Registry *r, const char *point, int after_step);

typedef struct { const char *name; double value, stderr_, lo, hi; } MetricValue;
// One evaluation of point at step on task, in one transaction: n_items scored items, n_metrics
// metric values (distinct names) and n_pos per-position accuracies, generated (pos_acc) and
// under teacher forcing (pos_acc_tf); either array may be NULL. Replaces an existing
// evaluation of (point, step, task) with all its rows.
int reg_add_eval(Registry *r, const char *point, int step, const char *task, int n_items,
                 const MetricValue *m, int n_metrics, const double *pos_acc,
                 const double *pos_acc_tf, int n_pos);

// Dense measurements during training (registry_dense.c): one row per (point, step), replaced
// when written again; NaN stored as NULL. fourier_k: the frequencies of fourier_share.
typedef struct {
    char point[REG_NAME_MAX];
    double sweep_value;   // the run's (queries only)
    int seed;             // the run's (queries only)
    int step;
    double train_acc, test_acc, train_loss, test_loss, weight_sq, fourier_share;
    int fourier_k;
} RegDense;
int reg_add_dense(Registry *r, const char *point, const RegDense *row);
// Every dense row, ordered as runs are, then by step.
int reg_query_dense(Registry *r, RegDense **rows, int *n);

// ---- queries --------------------------------------------------------------
typedef struct {
    char point[REG_NAME_MAX];
    int size_idx, n_layer, n_head, n_embd;
    long long params;
    int seed;
    char sweep_name[REG_NAME_MAX];  // "" when none
    double sweep_value, lr;
    int steps;
    long long tokens;
    double flops;
    char status[16];
    double train_loss, val_loss, wall_s;  // NaN until finished
} RegRun;
int reg_query_runs(Registry *r, RegRun **rows, int *n);
int reg_get_run(Registry *r, const char *point, RegRun *out);  // 1 / 0 / -1

// One metric of one evaluation, with its run's coordinates.
typedef struct {
    char point[REG_NAME_MAX];
    int size_idx;
    long long params;
    double flops;
    int seed;
    double sweep_value;
    int steps;    // the run's configured training steps
    int step;     // the evaluated step
    int n_items;
    double value, stderr_, lo, hi;
} RegRow;
// Metric `metric` of task `task` at step (>= 0, REG_STEP_FINAL or REG_STEP_ALL).
int reg_query_metric(Registry *r, const char *task, const char *metric, int step,
                     RegRow **rows, int *n);

typedef struct {
    char point[REG_NAME_MAX];
    long long params;
    int seed;
    double sweep_value;
    int step, pos;
    double acc, acc_tf;
} RegPosRow;
// Per-position accuracies of task at step (as in reg_query_metric), ordered ..., step, pos.
int reg_query_positions(Registry *r, const char *task, int step, RegPosRow **rows, int *n);

typedef struct { char point[REG_NAME_MAX]; int step; double train_loss, val_loss; } RegLoss;
// point's training curve, or every run's when point is NULL.
int reg_query_losses(Registry *r, const char *point, RegLoss **rows, int *n);

typedef struct { char s[REG_NAME_MAX]; } RegName;
// The distinct evaluated tasks, and the metrics recorded for one task, sorted by name.
int reg_list_tasks(Registry *r, RegName **names, int *n);
int reg_list_metrics(Registry *r, const char *task, RegName **names, int *n);

// ---- exports (each file written atomically, from one consistent snapshot) --
// dir/runs.csv, checkpoints.csv, losses.csv, evaluations.csv (one row per point, step, task,
// metric) and positions.csv; RFC 4180 quoting, NULL as an empty field, reals round-trip.
// The last two columns of runs.csv (wall_s, updated) are the only ones that differ between
// two identical ladders.
int reg_export_csv(Registry *r, const char *dir);
// Every table as {"schema_version", "runs", "checkpoints", "losses", "evaluations"}, each
// evaluation with its "metrics" {name: {value, stderr, lo, hi}}, "pos_acc" and "pos_acc_tf";
// NULL as null.
int reg_export_json(Registry *r, const char *path);

#endif
