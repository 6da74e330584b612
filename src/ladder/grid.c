// ladder/grid: a finished (or partial) ladder read back from its registry into per-size,
// per-seed grids; the ladder's metric table.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "eval/eval.h"
#include "ladder/ladder.h"
#include "ladder/registry.h"

const LadderMetric ladder_metrics[LG_NUM] = {
    [LG_EM] = {"exact_match", NULL, 1, LM_RATE, "exact match", "exact match"},
    [LG_TOK] = {"token_accuracy", NULL, 1, LM_RATE, "per-token (per-digit) accuracy",
                "accuracy per answer token"},
    [LG_TOK_TF] = {"token_accuracy_tf", NULL, 1, LM_RATE, "per-token accuracy, teacher forced",
                   "accuracy per answer token"},
    [LG_EDIT] = {"edit_distance_norm", NULL, 0, LM_DISTANCE, "edit distance (normalised)",
                 "edits / answer length"},
    [LG_LOGP] = {"target_logprob", NULL, 1, LM_LOGPROB, "target log-probability",
                 "log p(answer), nats"},
    [LG_MPROB] = {"mean_token_prob", NULL, 1, LM_RATE, "mean probability of the answer tokens",
                  "probability per answer token"},
    [LG_INDEP_PROD] = {"exact_match_indep_prod", "exact_match_pred_prod", 1, LM_PREDICTED,
                       "independence check: product of per-position accuracies",
                       "predicted exact match"},
    [LG_INDEP_POW] = {"exact_match_indep_pow", "exact_match_pred_pow", 1, LM_PREDICTED,
                      "independence check: greedy hit rate ^ L", "predicted exact match"},
    [LG_PRED_TF] = {"exact_match_pred_tf", NULL, 1, LM_PREDICTED,
                    "Schaeffer et al.: teacher-forced p ^ L", "predicted exact match"},
    [LG_TF_P] = {"tf_token_prob", NULL, 1, LM_RATE, "per-token probability exp(-CE)",
                 "probability per answer token"},
    [LG_TARGET_PROB] = {"target_prob", NULL, 1, LM_RATE, "probability of the whole answer",
                        "p(answer)"},
    [LG_ECE] = {"ece", NULL, 0, LM_CALIBRATION, "expected calibration error",
                "calibration error"},
};

void ladder_grid_stats(const double *v, int n, double *mean, double *lo, double *hi) {
    double s = 0.0;
    int c = 0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int k = 0; k < n; k++) {
        if (isnan(v[k])) continue;
        s += v[k];
        c++;
        if (v[k] < *lo) *lo = v[k];
        if (v[k] > *hi) *hi = v[k];
    }
    *mean = c ? s / c : NAN;
    if (!c) *lo = *hi = NAN;
}

static int size_index(const LadderGrid *g, long long params) {
    for (int i = 0; i < g->n_sizes; i++) if ((long long)g->params[i] == params) return i;
    return -1;
}
static int seed_index(const LadderGrid *g, int seed) {
    for (int k = 0; k < g->n_seeds; k++) if (g->seeds[k] == seed) return k;
    return -1;
}

static int same_sweep(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

int ladder_grid_cell(const LadderGrid *g, long long params, int seed, double sweep, int *i,
                     int *k) {
    *i = size_index(g, params);
    *k = seed_index(g, seed);
    return *i >= 0 && *k >= 0 && same_sweep(sweep, g->sweep);
}

static int open_registry(const char *dir, Registry **reg) {
    char path[1200];
    snprintf(path, sizeof path, "%s/registry.sqlite", dir);
    if (!file_exists(path))
        return em_error("%s: no registry (run the ladder into %s first)", path, dir);
    return reg_open(reg, path);
}

int ladder_sweep_values(const char *dir, double *values, int cap, int *n) {
    Registry *reg;
    *n = 0;
    if (open_registry(dir, &reg)) return -1;
    RegRun *runs = NULL;
    int nr = 0;
    if (reg_query_runs(reg, &runs, &nr)) { reg_close(reg); return -1; }
    for (int j = 0; j < nr; j++) {
        if (isnan(runs[j].sweep_value)) continue;
        int seen = 0;
        for (int i = 0; i < *n; i++) seen |= values[i] == runs[j].sweep_value;
        if (!seen && *n < cap) values[(*n)++] = runs[j].sweep_value;
    }
    qsort(values, *n, sizeof(double), cmp_double);
    free(runs);
    reg_close(reg);
    return 0;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

// One metric at the final step of each run into out[size][seed] (NaN where missing).
// With lo, hi: also each run's item-bootstrap interval (NaN where none was recorded). A run
// that holds the metric only under old_name (written before it was renamed) is read there.
static int fill_metric(Registry *reg, const LadderGrid *g, const char *task, const char *metric,
                       const char *old_name, double (*out)[LADDER_MAX], double (*lo)[LADDER_MAX],
                       double (*hi)[LADDER_MAX], int (*items)[LADDER_MAX]) {
    // (rows of other sweep values are skipped below)
    for (int i = 0; i < LADDER_MAX; i++)
        for (int k = 0; k < LADDER_MAX; k++) {
            out[i][k] = NAN;
            if (lo) lo[i][k] = hi[i][k] = NAN;
            if (items) items[i][k] = 0;
        }
    if (!task[0]) return 0;
    for (int v = 0; v < 2; v++) {  // the old name first: the new one overrides it
        const char *name = v ? metric : old_name;
        RegRow *rows = NULL;
        int n = 0;
        if (!name) continue;
        if (reg_query_metric(reg, task, name, REG_STEP_FINAL, &rows, &n)) return -1;
        for (int j = 0; j < n; j++) {
            int i = size_index(g, rows[j].params), k = seed_index(g, rows[j].seed);
            if (!same_sweep(rows[j].sweep_value, g->sweep)) continue;
            if (i < 0 || k < 0 || rows[j].step != rows[j].steps) continue;
            out[i][k] = rows[j].value;
            if (lo) { lo[i][k] = rows[j].lo; hi[i][k] = rows[j].hi; }
            if (items) items[i][k] = rows[j].n_items;
        }
        free(rows);
    }
    return 0;
}

// The runs of g's sweep value: sizes (sorted by parameters), seeds, shapes, final val loss.
static int fill_runs(Registry *reg, LadderGrid *g) {
    RegRun *runs = NULL;
    int nr = 0;
    if (reg_query_runs(reg, &runs, &nr)) return -1;
    long long ps[LADDER_MAX * LADDER_MAX];
    int np = 0;
    for (int j = 0; j < nr; j++) {
        if (!same_sweep(runs[j].sweep_value, g->sweep)) continue;
        snprintf(g->sweep_name, sizeof g->sweep_name, "%s", runs[j].sweep_name);
        int seen = 0;
        for (int i = 0; i < np; i++) seen |= ps[i] == runs[j].params;
        if (!seen && np < LADDER_MAX) ps[np++] = runs[j].params;
        if (seed_index(g, runs[j].seed) < 0 && g->n_seeds < LADDER_MAX)
            g->seeds[g->n_seeds++] = runs[j].seed;
        if (!strcmp(runs[j].status, "done")) g->n_done++;
        g->n_runs++;
    }
    qsort(ps, np, sizeof ps[0], cmp_ll);
    g->n_sizes = np;
    for (int i = 0; i < np; i++) g->params[i] = (double)ps[i];
    for (int i = 0; i < LADDER_MAX; i++)
        for (int k = 0; k < LADDER_MAX; k++) g->val_loss[i][k] = NAN;
    for (int j = 0; j < nr; j++) {
        int i = size_index(g, runs[j].params), k = seed_index(g, runs[j].seed);
        if (i < 0 || k < 0 || !same_sweep(runs[j].sweep_value, g->sweep)) continue;
        g->flops[i] = runs[j].flops;
        g->train_steps[i] = runs[j].steps;
        g->train_tokens[i] = (double)runs[j].tokens;
        g->layers[i] = runs[j].n_layer;
        g->width[i] = runs[j].n_embd;
        g->heads[i] = runs[j].n_head;
        if (!strcmp(runs[j].status, "done")) g->val_loss[i][k] = runs[j].val_loss;
    }
    free(runs);
    return 0;
}

// Per-position accuracies at the final step (left as they are when the query fails).
static void fill_positions(Registry *reg, LadderGrid *g) {
    RegPosRow *pr = NULL;
    int npr = 0;
    if (reg_query_positions(reg, g->task, REG_STEP_FINAL, &pr, &npr) != 0) return;
    for (int i = 0; i < LADDER_MAX; i++)
        for (int k = 0; k < LADDER_MAX; k++)
            for (int p = 0; p < LG_MAX_POS; p++) g->pos[i][k][p] = NAN;
    for (int j = 0; j < npr; j++) {
        int i = size_index(g, pr[j].params), k = seed_index(g, pr[j].seed);
        if (!same_sweep(pr[j].sweep_value, g->sweep)) continue;
        if (i < 0 || k < 0 || pr[j].pos >= LG_MAX_POS) continue;
        g->pos[i][k][pr[j].pos] = pr[j].acc;
        if (pr[j].pos + 1 > g->n_pos) g->n_pos = pr[j].pos + 1;
    }
    free(pr);
}

// Training-time curves: exact match (m = 0) or token accuracy (m = 1) at every evaluated step.
static int fill_curve(Registry *reg, LadderGrid *g, int m) {
    RegRow *rows = NULL;
    int n = 0;
    const char *name = ladder_metrics[m ? LG_TOK : LG_EM].name;
    int rc = reg_query_metric(reg, g->task, name, REG_STEP_ALL, &rows, &n);
    for (int j = 0; j < n && !rc; j++) {
        int i = size_index(g, rows[j].params), k = seed_index(g, rows[j].seed);
        if (i < 0 || k < 0 || !same_sweep(rows[j].sweep_value, g->sweep)) continue;
        int s = 0;
        while (s < g->n_steps[i] && g->steps[i][s] != rows[j].step) s++;
        if (s == g->n_steps[i] && s < LG_MAX_STEPS) {
            g->steps[i][s] = rows[j].step;
            for (int kk = 0; kk < LADDER_MAX; kk++) g->curve[m][i][s][kk] = NAN;
            g->n_steps[i]++;
        }
        if (s < LG_MAX_STEPS) g->curve[m][i][s][k] = rows[j].value;
    }
    free(rows);
    return rc;
}

// 1 when task has a final exact match of g's sweep value.
static int task_in_sweep(Registry *reg, const LadderGrid *g, const char *task) {
    RegRow *rows = NULL;
    int n = 0, found = 0;
    if (reg_query_metric(reg, task, ladder_metrics[LG_EM].name, REG_STEP_FINAL, &rows, &n))
        return 0;
    for (int j = 0; j < n && !found; j++) found = same_sweep(rows[j].sweep_value, g->sweep);
    free(rows);
    return found;
}

int ladder_load_grid_task(const char *dir, double sweep, const char *task, LadderGrid *g) {
    memset(g, 0, sizeof *g);
    g->sweep = sweep;
    char path[1200];
    snprintf(path, sizeof path, "%s/registry.sqlite", dir);
    Registry *reg;
    if (open_registry(dir, &reg)) return -1;
    if (fill_runs(reg, g)) { reg_close(reg); return -1; }
    RegName *tasks = NULL;
    int nt = 0, rc = 0;
    if (reg_list_tasks(reg, &tasks, &nt)) { reg_close(reg); return -1; }
    if (nt == 0 && g->n_done == 0) {
        free(tasks);
        reg_close(reg);
        return em_error("%s: no evaluations yet", path);
    }
    if (task) {
        snprintf(g->task, sizeof g->task, "%s", task);
    } else if (nt > 0) {  // the first task evaluated for this sweep value (a task sweep may
                          // evaluate each value on its own tasks)
        int pick = -1;
        for (int j = 0; j < nt; j++)
            if (task_in_sweep(reg, g, tasks[j].s)) { pick = j; break; }
        for (int j = 0; j < nt && pick < 0; j++)  // the memorisation probe is no task
            if (strcmp(tasks[j].s, EVAL_MEMO_TASK)) pick = j;
        if (pick >= 0) snprintf(g->task, sizeof g->task, "%s", tasks[pick].s);
    }
    free(tasks);
    for (int m = 0; m < LG_NUM && !rc; m++)  // NaN throughout without a task
        rc = fill_metric(reg, g, g->task, ladder_metrics[m].name, ladder_metrics[m].old_name,
                         g->metric[m], g->lo[m], g->hi[m], m == LG_EM ? g->em_items : NULL);
    memcpy(g->em_lo, g->lo[LG_EM], sizeof g->em_lo);
    memcpy(g->em_hi, g->hi[LG_EM], sizeof g->em_hi);
    if (!rc && g->task[0]) fill_positions(reg, g);
    for (int m = 0; m < 2 && !rc && g->task[0]; m++) rc = fill_curve(reg, g, m);
    reg_close(reg);
    return rc;
}

int ladder_load_grid(const char *dir, double sweep, LadderGrid *g) {
    return ladder_load_grid_task(dir, sweep, NULL, g);
}
