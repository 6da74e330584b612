// ladder/contam_analysis: exact match over all, clean and dirty items by size, the dirty
// items' share of the rise, and the threshold per sweep value (see contam_analysis.h).
#include "ladder/contam_analysis.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/tasks.h"
#include "eval/eval.h"
#include "ladder/registry.h"

// What one run recorded at its final step: per metric, value, stderr, lo, hi.
enum { Q_ALL, Q_CLEAN, Q_DIRTY, Q_NCLEAN, Q_NDIRTY, Q_NUM };
static const char *const q_name[Q_NUM] = {"exact_match", "exact_match@clean",
                                          "exact_match@dirty", "items@clean", "items@dirty"};
typedef struct { double v[LADDER_MAX][LADDER_MAX], se[LADDER_MAX][LADDER_MAX],
                 lo[LADDER_MAX][LADDER_MAX], hi[LADDER_MAX][LADDER_MAX]; } Cells;

static int load(Registry *reg, const LadderGrid *g, const char *task, int q, Cells *c, int *any) {
    for (int i = 0; i < LADDER_MAX; i++)
        for (int k = 0; k < LADDER_MAX; k++) c->v[i][k] = c->se[i][k] = c->lo[i][k] = c->hi[i][k] = NAN;
    RegRow *rows = NULL;
    int n = 0;
    if (reg_query_metric(reg, task, q_name[q], REG_STEP_FINAL, &rows, &n)) return -1;
    for (int j = 0; j < n; j++) {
        const RegRow *r = &rows[j];
        int i, k;
        if (!ladder_grid_cell(g, r->params, r->seed, r->sweep_value, &i, &k) || r->step != r->steps)
            continue;
        c->v[i][k] = r->value;
        c->se[i][k] = r->stderr_;
        c->lo[i][k] = r->lo;
        c->hi[i][k] = r->hi;
        if (any) *any = 1;
    }
    free(rows);
    return 0;
}

// The seed mean and the union of the runs' intervals and seed values at size i.
static void summary(const Cells *c, int i, int K, double *mean, double *lo, double *hi) {
    double s = 0, l = INFINITY, h = -INFINITY;
    int m = 0;
    for (int k = 0; k < K; k++) {
        double y = c->v[i][k];
        if (!isfinite(y)) continue;
        s += y;
        m++;
        if (isfinite(c->lo[i][k]) && c->lo[i][k] < l) l = c->lo[i][k];
        if (isfinite(c->hi[i][k]) && c->hi[i][k] > h) h = c->hi[i][k];
        if (y < l) l = y;
        if (y > h) h = y;
    }
    *mean = m ? s / m : NAN;
    *lo = m ? l : NAN;
    *hi = m ? h : NAN;
}

static void threshold(const ContamPart *p, const Cells *y, const Cells *n, int K, ThresholdCI *out) {
    static double yv[LADDER_MAX][LADDER_MAX];
    static int ni[LADDER_MAX][LADDER_MAX];
    const double *rows[LADDER_MAX];
    const int *nrows[LADDER_MAX];
    *out = (ThresholdCI){.point = NAN, .lo = NAN, .hi = NAN};
    for (int i = 0; i < p->n_sizes; i++) {
        for (int k = 0; k < K; k++) {
            yv[i][k] = y->v[i][k];
            ni[i][k] = isfinite(n->v[i][k]) ? (int)n->v[i][k] : 0;
        }
        rows[i] = yv[i];
        nrows[i] = ni[i];
    }
    if (p->n_sizes < 2 ||
        ladder_threshold_bootstrap_items(p->params, rows, nrows, p->n_sizes, K, 1000, 1,
                                         LADDER_ABS_LEVEL, out))
        *out = (ThresholdCI){.point = NAN, .lo = NAN, .hi = NAN};
    if (K < 2) out->lo = out->hi = NAN;
    em_clear_error();
}

static int part(Registry *reg, const LadderGrid *g, const char *task, ContamPart *p, int *any) {
    Cells *c = xcalloc(Q_NUM, sizeof *c);
    int rc = 0, K = g->n_seeds;
    for (int q = 0; q < Q_NUM && !rc; q++) rc = load(reg, g, task, q, &c[q], q == Q_NCLEAN ? any : NULL);
    for (int i = 0; i < g->n_sizes && !rc; i++) {
        for (int l = 0; l < LC_NUM; l++) summary(&c[l], i, K, &p->em[l][i], &p->lo[l][i], &p->hi[l][i]);
        double sd = 0, sn = 0, d[LADDER_MAX], var = 0;
        int m = 0;
        for (int k = 0; k < K; k++) {
            double nc = c[Q_NCLEAN].v[i][k], nd = c[Q_NDIRTY].v[i][k];
            if (!isfinite(nc) || !isfinite(nd) || nc + nd <= 0) continue;
            double w = nd / (nc + nd), a = c[Q_ALL].v[i][k], cl = c[Q_CLEAN].v[i][k];
            if (nc == 0) continue;  // no clean item: nothing to compare with
            d[m] = nd == 0 ? 0 : a - cl;
            double se = nd == 0 ? 0 : w * sqrt(pow(c[Q_CLEAN].se[i][k], 2) + pow(c[Q_DIRTY].se[i][k], 2));
            if (!isfinite(d[m])) continue;
            var += isfinite(se) ? se * se : 0;
            sd += nd;
            sn += nc + nd;
            m++;
        }
        if (m > p->seeds) p->seeds = m;
        p->dirty_items[i] = m ? sd / m : NAN;
        p->items[i] = m ? sn / m : NAN;
        double mean = 0, s2 = 0;
        for (int k = 0; k < m; k++) mean += d[k] / m;
        for (int k = 0; k < m && m > 1; k++) s2 += (d[k] - mean) * (d[k] - mean) / (m - 1);
        double half = m ? 1.96 * sqrt(s2 / m + var / ((double)m * m)) : NAN;
        p->diff[i] = m ? mean : NAN;
        p->diff_lo[i] = mean - half;
        p->diff_hi[i] = mean + half;
    }
    if (!rc) {
        Cells *nall = xcalloc(1, sizeof *nall);
        for (int i = 0; i < LADDER_MAX; i++)
            for (int k = 0; k < LADDER_MAX; k++) nall->v[i][k] = c[Q_NCLEAN].v[i][k] + c[Q_NDIRTY].v[i][k];
        threshold(p, &c[Q_ALL], nall, K, &p->thr[0]);
        threshold(p, &c[Q_CLEAN], &c[Q_NCLEAN], K, &p->thr[1]);
        free(nall);
    }
    free(c);
    return rc;
}

static void thr_words(char *t, size_t n, const ThresholdCI *c) {
    if (!isfinite(c->point)) { str_catf(t, n, "does not cross %.1f inside the ladder", LADDER_ABS_LEVEL); return; }
    str_catf(t, n, "crosses %.1f at %.3g parameters", LADDER_ABS_LEVEL, c->point);
    if (isfinite(c->lo)) str_catf(t, n, " (95%% %.3g to %.3g)", c->lo, c->hi);
}

static void words(SweepContam *x) {
    char *t = x->text;
    size_t n = sizeof x->text;
    int leak = !strcmp(x->sweep_name, "leak");
    str_catf(t, n, "Each evaluation of %s was split by the overlap index over the items seen "
              "(dirty) and unseen (clean) in the point's training data.", x->task);
    for (int v = 0; v < x->n; v++) {
        const ContamPart *p = &x->p[v];
        int L = p->n_sizes - 1;
        if (L < 0) continue;
        if (leak) str_catf(t, n, " Leak %g (planted: the test items whose keyed hash falls below %g):", p->value, p->value);
        else if (isfinite(p->value)) str_catf(t, n, " %s = %g:", x->sweep_name, p->value);
        str_catf(t, n, " the index counts %.1f of %.0f items dirty (%.1f%%).", p->dirty_items[L],
            p->items[L], 100 * p->dirty_items[L] / p->items[L]);
        str_catf(t, n, " At %.3g parameters exact match is %.3f [%.3f, %.3f] over all items, %.3f "
                  "[%.3f, %.3f] over clean ones", p->params[L], p->em[LC_ALL][L], p->lo[LC_ALL][L],
            p->hi[LC_ALL][L], p->em[LC_CLEAN][L], p->lo[LC_CLEAN][L], p->hi[LC_CLEAN][L]);
        if (isfinite(p->em[LC_DIRTY][L]))
            str_catf(t, n, " and %.3f [%.3f, %.3f] over dirty ones", p->em[LC_DIRTY][L],
                p->lo[LC_DIRTY][L], p->hi[LC_DIRTY][L]);
        str_catf(t, n, ".");
        if (p->dirty_items[L] > 0) {
            str_catf(t, n, " By size, exact match clean / dirty:");
            for (int i = 0; i <= L; i++)
                str_catf(t, n, "%s %.3f / %.3f", i ? "," : "", p->em[LC_CLEAN][i], p->em[LC_DIRTY][i]);
            str_catf(t, n, ".");
        }
        double rise = p->em[LC_ALL][L] - p->em[LC_ALL][0], drise = p->diff[L] - p->diff[0];
        if (p->dirty_items[L] > 0) {
            str_catf(t, n, " From %.3g to %.3g parameters exact match over all items rises by %.3f, "
                      "over clean ones by %.3f; all - clean is %.3f (95%% %.3f to %.3f) at the "
                      "smallest size and %.3f (95%% %.3f to %.3f) at the largest",
                p->params[0], p->params[L], rise, p->em[LC_CLEAN][L] - p->em[LC_CLEAN][0],
                p->diff[0], p->diff_lo[0], p->diff_hi[0], p->diff[L], p->diff_lo[L], p->diff_hi[L]);
            if (fabs(rise) > 1e-9) str_catf(t, n, ": the dirty items make %.1f%% of the rise", 100 * drise / rise);
            str_catf(t, n, ".");
            int most = 0;
            for (int i = 1; i <= L; i++) if (p->diff[i] > p->diff[most]) most = i;
            str_catf(t, n, " The largest all - clean is %.3f (95%% %.3f to %.3f) at %.3g parameters.",
                p->diff[most], p->diff_lo[most], p->diff_hi[most], p->params[most]);
        }
        str_catf(t, n, " Over all items exact match ");
        thr_words(t, n, &p->thr[0]);
        str_catf(t, n, "; over clean items it ");
        thr_words(t, n, &p->thr[1]);
        str_catf(t, n, ".");
    }
    if (x->n >= 2) {  // the threshold against the first value (in a leak sweep, the clean baseline)
        const ContamPart *b = &x->p[0];
        for (int v = 1; v < x->n; v++) {
            const ContamPart *p = &x->p[v];
            for (int q = 0; q < 2; q++) {
                const ThresholdCI *a0 = &b->thr[q], *a1 = &p->thr[q];
                const char *over = q ? "clean items" : "all items";
                if (isfinite(a0->point) != isfinite(a1->point)) {
                    const ContamPart *in = isfinite(a0->point) ? b : p, *out = in == b ? p : b;
                    int l = q ? LC_CLEAN : LC_ALL, o = out->n_sizes - 1;
                    str_catf(t, n, " Over %s, exact match crosses %.1f inside the ladder at %s %g "
                              "(%.3g parameters) but not at %g (%.3f [%.3f, %.3f] at the largest "
                              "size", over, LADDER_ABS_LEVEL, x->sweep_name, in->value,
                        (in == b ? a0 : a1)->point, out->value, out->em[l][o], out->lo[l][o],
                        out->hi[l][o]);
                    str_catf(t, n, out->hi[l][o] < LADDER_ABS_LEVEL
                                  ? ", its interval below %.1f): the threshold moves with the %s."
                                  : ", its interval reaching %.1f): this ladder cannot say that "
                                    "the threshold moves with the %s.",
                        LADDER_ABS_LEVEL, x->sweep_name);
                    continue;
                }
                if (!isfinite(a0->point)) {
                    str_catf(t, n, " Over %s, exact match crosses %.1f inside the ladder neither at %s "
                              "%g nor at %g.", over, LADDER_ABS_LEVEL, x->sweep_name, p->value,
                        b->value);
                    continue;
                }
                str_catf(t, n, " Over %s, the threshold at %s %g is %.2f times that at %g", over,
                    x->sweep_name, p->value, a1->point / a0->point, b->value);
                if (isfinite(a0->lo) && isfinite(a1->lo))
                    str_catf(t, n, (a1->hi < a0->lo || a1->lo > a0->hi)
                                  ? ": their intervals do not overlap, the threshold moves."
                                  : ": their intervals overlap, this ladder cannot tell them apart.");
                else str_catf(t, n, " (no intervals: one seed).");
            }
        }
    }
}

// The memorisation probe's final value per size: seed mean and the union interval.
static int memo(Registry *reg, const LadderGrid *g, ContamPart *p, int *any) {
    Cells *c = xcalloc(1, sizeof *c);
    int rc = 0;
    RegRow *rows = NULL;
    int n = 0;
    for (int i = 0; i < LADDER_MAX; i++)
        for (int k = 0; k < LADDER_MAX; k++) c->v[i][k] = c->lo[i][k] = c->hi[i][k] = NAN;
    if ((rc = reg_query_metric(reg, EVAL_MEMO_TASK, EVAL_MEMO_METRIC, REG_STEP_FINAL, &rows, &n))) {
        free(c);
        return rc;
    }
    for (int j = 0; j < n; j++) {
        const RegRow *r = &rows[j];
        int i, k;
        if (!ladder_grid_cell(g, r->params, r->seed, r->sweep_value, &i, &k) || r->step != r->steps)
            continue;
        c->v[i][k] = r->value;
        c->lo[i][k] = r->lo;
        c->hi[i][k] = r->hi;
        *any = 1;
    }
    free(rows);
    for (int i = 0; i < g->n_sizes; i++)
        summary(c, i, g->n_seeds, &p->memo[i], &p->memo_lo[i], &p->memo_hi[i]);
    free(c);
    return 0;
}

static void memo_words(SweepContam *x) {
    char *t = x->text;
    size_t n = sizeof x->text;
    str_catf(t, n, "%sMemorisation (Carlini et al.'s extraction: the fraction of %d training spans of "
              "%d tokens that greedy decoding reproduces verbatim from their first %d tokens), "
              "by size:", t[0] ? " " : "", x->memo_n, x->memo_span, x->memo_prefix);
    for (int v = 0; v < x->n; v++) {
        const ContamPart *p = &x->p[v];
        if (isfinite(p->value)) str_catf(t, n, "%s %s %g:", v ? ";" : "", x->sweep_name, p->value);
        for (int i = 0; i < p->n_sizes; i++)
            str_catf(t, n, "%s %.3f [%.3f, %.3f] at %.3g parameters", i ? "," : "", p->memo[i],
                p->memo_lo[i], p->memo_hi[i], p->params[i]);
    }
    str_catf(t, n, ".");
}

int ladder_contam_analysis(const char *dir, const LadderSpec *s, SweepContam *x) {
    memset(x, 0, sizeof *x);
    x->memo_n = s->mem_n;
    x->memo_span = s->mem_span;
    x->memo_prefix = s->mem_prefix;
    double sv[LADDER_MAX];
    int nsv = 0;
    if (ladder_sweep_values(dir, sv, LADDER_MAX, &nsv)) return -1;
    if (nsv == 0) { sv[0] = NAN; nsv = 1; }
    snprintf(x->sweep_name, sizeof x->sweep_name, "%s", s->sweep_name);
    char path[1300];
    snprintf(path, sizeof path, "%s/registry.sqlite", dir);
    Registry *reg;
    if (reg_open(&reg, path)) return -1;
    LadderGrid *g = xcalloc(1, sizeof *g);
    int rc = 0, any = 0, any_memo = 0;
    for (int v = 0; v < nsv && !rc; v++) {
        ContamPart *p = &x->p[x->n];
        if (s->n_eval_tasks < 1) {  // losses only: the grid of the memorisation probe
            if ((rc = ladder_load_grid_task(dir, sv[v], EVAL_MEMO_TASK, g))) break;
            p->value = g->sweep;
            p->n_sizes = g->n_sizes;
            memcpy(p->params, g->params, sizeof p->params);
            if (!(rc = memo(reg, g, p, &any_memo))) x->n++;
            continue;
        }
        int task_sweep = !strcmp(s->sweep_name, "task") && sv[v] >= 0 && sv[v] < s->n_sweep;
        char spec[512];
        TaskSet ts;
        if ((rc = ladder_eval_task(s, 0, task_sweep ? s->sweep_tasks[(int)sv[v]] : s->task, spec,
                                   sizeof spec)))
            break;
        snprintf(x->task, sizeof x->task, "%.127s", spec);  // the name eval gives it
        if (task_generate(spec, TASK_TEST, 1, 1, &ts) == 0) {
            snprintf(x->task, sizeof x->task, "%.127s", ts.name);
            taskset_free(&ts);
        }
        em_clear_error();
        if ((rc = ladder_load_grid_task(dir, sv[v], x->task, g))) break;
        p->value = g->sweep;
        p->n_sizes = g->n_sizes;
        memcpy(p->params, g->params, sizeof p->params);
        rc = part(reg, g, x->task, p, &any) || memo(reg, g, p, &any_memo);
        if (!rc) x->n++;
    }
    free(g);
    reg_close(reg);
    if (rc) return -1;
    x->split = any;
    x->has_memo = any_memo;
    x->present = any || any_memo;
    if (any) words(x);
    if (any_memo) memo_words(x);
    return 0;
}

void ladder_contam_json(const SweepContam *x, cJSON *root) {
    if (!x->present) return;
    static const char *const nm[LC_NUM] = {"all", "clean", "dirty"};
    cJSON *o = cJSON_AddObjectToObject(root, "contamination");
    cJSON_AddStringToObject(o, "task", x->task);
    cJSON_AddStringToObject(o, "sweep", x->sweep_name);
    cJSON *ps = cJSON_AddArrayToObject(o, "by_sweep");
    for (int v = 0; v < x->n; v++) {
        const ContamPart *p = &x->p[v];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(e, "sweep_value", json_num(p->value));
        cJSON_AddItemToObject(e, "params", json_num_array(p->params, p->n_sizes));
        if (x->split) {
            cJSON_AddItemToObject(e, "items", json_num_array(p->items, p->n_sizes));
            cJSON_AddItemToObject(e, "dirty_items_counted", json_num_array(p->dirty_items, p->n_sizes));
            for (int l = 0; l < LC_NUM; l++) {
                cJSON *m = cJSON_AddObjectToObject(e, nm[l]);
                cJSON_AddItemToObject(m, "exact_match", json_num_array(p->em[l], p->n_sizes));
                cJSON_AddItemToObject(m, "ci95_lo", json_num_array(p->lo[l], p->n_sizes));
                cJSON_AddItemToObject(m, "ci95_hi", json_num_array(p->hi[l], p->n_sizes));
            }
            cJSON *d = cJSON_AddObjectToObject(e, "all_minus_clean");
            cJSON_AddItemToObject(d, "mean", json_num_array(p->diff, p->n_sizes));
            cJSON_AddItemToObject(d, "ci95_lo", json_num_array(p->diff_lo, p->n_sizes));
            cJSON_AddItemToObject(d, "ci95_hi", json_num_array(p->diff_hi, p->n_sizes));
            for (int q = 0; q < 2; q++) {
                cJSON *t = cJSON_AddObjectToObject(e, q ? "threshold_clean" : "threshold_all");
                cJSON_AddItemToObject(t, "at_0_5", json_num(p->thr[q].point));
                cJSON_AddItemToObject(t, "ci95_lo", json_num(p->thr[q].lo));
                cJSON_AddItemToObject(t, "ci95_hi", json_num(p->thr[q].hi));
            }
        }
        if (x->has_memo) {
            cJSON *m = cJSON_AddObjectToObject(e, "memorized");
            cJSON_AddItemToObject(m, "mean", json_num_array(p->memo, p->n_sizes));
            cJSON_AddItemToObject(m, "ci95_lo", json_num_array(p->memo_lo, p->n_sizes));
            cJSON_AddItemToObject(m, "ci95_hi", json_num_array(p->memo_hi, p->n_sizes));
        }
        cJSON_AddItemToArray(ps, e);
    }
    cJSON_AddStringToObject(o, "finding", x->text);
}
