// Emergence over training time: when test accuracy generalised, and what moved before it.
#include "ladder/overtime.h"

#include <cjson/cJSON.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ladder/registry.h"

const char *const ot_measure_names[OT_NUM] = {"test_loss", "fourier_share", "weight_norm"};
const char *const ot_measure_words[OT_NUM] = {
    "test loss (10% of its fall)", "Fourier share (10% of its rise)", "weight norm (its minimum)"};

int ot_reach(const int *step, const double *v, int n, double level) {
    for (int i = 0; i < n; i++) if (v[i] >= level) return step[i];
    return -1;
}

int ot_move(const int *step, const double *v, int n, int dir, double floor) {
    // the extreme the curve moves to (min of a fall, max of a rise), then the opposite
    // extreme at or before it
    int e = -1, o = -1;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]) && (e < 0 || dir * v[i] > dir * v[e])) e = i;
    if (e < 0) return -1;
    for (int i = 0; i <= e; i++)
        if (isfinite(v[i]) && (o < 0 || dir * v[i] < dir * v[o])) o = i;
    double move = dir * (v[e] - v[o]);
    if (!(move >= floor) || move <= 0) return -1;
    double target = v[o] + dir * OT_MOVE_SHARE * move;
    for (int i = o; i <= e; i++)
        if (isfinite(v[i]) && dir * v[i] >= dir * target) return step[i];
    return step[e];
}

int ot_min_step(const int *step, const double *v, int n, double rel_floor) {
    int e = -1;
    for (int i = 0; i < n; i++) if (isfinite(v[i]) && (e < 0 || v[i] < v[e])) e = i;
    if (e < 0 || e == n - 1 || !isfinite(v[0])) return -1;
    if (!(v[0] - v[e] >= rel_floor * fabs(v[0]))) return -1;
    return step[e];
}

OtStat ot_stat(const double *v, int n) {
    OtStat s = {0, NAN, NAN, NAN, NAN, NAN};
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i])) continue;
        if (!s.n || v[i] < s.min) s.min = v[i];
        if (!s.n || v[i] > s.max) s.max = v[i];
        sum += v[i];
        s.n++;
    }
    if (!s.n) return s;
    s.mean = sum / s.n;
    if (s.n >= 2) {
        double ss = 0.0;
        for (int i = 0; i < n; i++) if (isfinite(v[i])) ss += (v[i] - s.mean) * (v[i] - s.mean);
        double h = gsl_cdf_tdist_Pinv(0.975, s.n - 1) * sqrt(ss / (s.n - 1) / s.n);
        s.lo = s.mean - h;
        s.hi = s.mean + h;
    }
    return s;
}

static void analyze_run(OtRun *r) {
    r->s_test50 = ot_reach(r->step, r->test_acc, r->n, OT_GEN_LEVEL);
    r->s_test99 = ot_reach(r->step, r->test_acc, r->n, OT_FULL_LEVEL);
    r->s_train99 = ot_reach(r->step, r->train_acc, r->n, OT_FULL_LEVEL);
    r->s_move[OT_TEST_LOSS] = ot_move(r->step, r->test_loss, r->n, -1, OT_LOSS_FLOOR);
    r->s_move[OT_FOURIER] = ot_move(r->step, r->fourier, r->n, 1, OT_FOURIER_FLOOR);
    r->s_move[OT_WEIGHT] = ot_min_step(r->step, r->weight_sq, r->n, OT_WEIGHT_FLOOR);
    r->first = -1;
    r->max_test_acc = 0.0;
    for (int i = 0; i < r->n; i++) if (r->test_acc[i] > r->max_test_acc) r->max_test_acc = r->test_acc[i];
    for (int m = 0; m < OT_NUM; m++) {
        r->has_lead[m] = r->s_test50 >= 0 && r->s_move[m] >= 0;
        r->lead[m] = r->has_lead[m] ? r->s_test50 - r->s_move[m] : 0;
        if (r->has_lead[m] && (r->first < 0 || r->lead[m] > r->lead[r->first])) r->first = m;
    }
}

static void fmt_stat(char *b, size_t n, const OtStat *s, const char *unit) {
    if (s->n == 0) snprintf(b, n, "-");
    else if (s->n == 1) snprintf(b, n, "%.0f%s (one seed: no interval)", s->mean, unit);
    else snprintf(b, n, "%.0f%s (mean of %d seeds, 95%% interval [%.0f, %.0f], range %.0f to %.0f)",
                  s->mean, unit, s->n, s->lo, s->hi, s->min, s->max);
}

#define ADD(...) do { if (o < cap) o += (size_t)snprintf(t + o, cap - o, __VA_ARGS__); } while (0)

static void part_words(OtPart *p, const char *sweep_name) {
    char *t = p->text, b[256];
    size_t o = 0, cap = sizeof p->text;
    if (isfinite(p->sweep)) ADD("%s %g: ", sweep_name, p->sweep);
    OtStat tr = p->train99;
    if (p->n_gen50 == 0) {
        double best = 0.0;
        for (int i = 0; i < p->n_runs; i++) if (p->run[i].max_test_acc > best) best = p->run[i].max_test_acc;
        ADD("did not generalise within %d steps: test accuracy never reached %.1f in any of %d "
            "seeds (at most %.3f)", p->last_step, OT_GEN_LEVEL, p->n_runs, best);
        if (tr.n > 0) {
            fmt_stat(b, sizeof b, &tr, "");
            ADD(", while train accuracy reached %.2f at step %s in %d of %d seeds (memorised)",
                OT_FULL_LEVEL, b, tr.n, p->n_runs);
        }
        ADD(".");
        int moved = 0;
        for (int m = 0; m < OT_NUM; m++) if (p->move[m].n > 0) {
            fmt_stat(b, sizeof b, &p->move[m], "");
            ADD("%s %s moved at step %s", moved++ ? ";" : " Meanwhile", ot_measure_words[m], b);
        }
        ADD(moved ? "." : " No continuous measure moved beyond its floor either.");
        return;
    }
    fmt_stat(b, sizeof b, &p->test50, "");
    ADD("test accuracy reached %.1f at step %s in %d of %d seeds", OT_GEN_LEVEL, b, p->n_gen50,
        p->n_runs);
    if (p->n_gen50 < p->n_runs) ADD(" (the others did not within %d steps)", p->last_step);
    if (p->test99.n > 0) {
        fmt_stat(b, sizeof b, &p->test99, "");
        ADD("; %.2f at step %s", OT_FULL_LEVEL, b);
    } else {
        ADD("; %.2f in no seed within %d steps", OT_FULL_LEVEL, p->last_step);
    }
    if (tr.n > 0) {
        fmt_stat(b, sizeof b, &tr, "");
        ADD("; train accuracy reached %.2f at step %s", OT_FULL_LEVEL, b);
    }
    ADD(".");
    for (int m = 0; m < OT_NUM; m++) {
        const OtStat *l = &p->lead[m];
        if (l->n == 0) {
            ADD(" The %s did not move in a seed that generalised.", ot_measure_words[m]);
            continue;
        }
        fmt_stat(b, sizeof b, l, " steps");
        ADD(" The %s came %s test accuracy %.1f by %s", ot_measure_words[m],
            l->mean >= 0 ? "before" : "after", OT_GEN_LEVEL, b);
        ADD("; per seed:");
        for (int i = 0, k = 0; i < p->n_runs; i++)
            if (p->run[i].has_lead[m]) ADD("%s %+d", k++ ? "," : "", p->run[i].lead[m]);
        ADD(".");
    }
    int best = -1;
    for (int m = 0; m < OT_NUM; m++)
        if (p->lead[m].n > 0 && (best < 0 || p->lead[m].mean > p->lead[best].mean)) best = m;
    if (best >= 0) {
        ADD(" First to move: the %s, in %d of %d seeds that generalised", ot_measure_words[best],
            p->first_count[best], p->n_gen50);
        if (p->lead[best].mean > 0) ADD(", %.0f steps (mean) before test accuracy %.1f.",
                                        p->lead[best].mean, OT_GEN_LEVEL);
        else ADD(", yet no earlier than test accuracy itself: no measure moved first.");
    }
    if (p->n_runs < OT_FEW_SEEDS)
        ADD(" (%d seed%s: intervals over seeds are wide.)", p->n_runs, p->n_runs == 1 ? "" : "s");
}

static void analyze_part(OtPart *p, const char *sweep_name) {
    double v[LADDER_MAX];
    int n = p->n_runs;
    p->last_step = 0;
    for (int i = 0; i < n; i++) {
        analyze_run(&p->run[i]);
        if (p->run[i].n && p->run[i].step[p->run[i].n - 1] > p->last_step)
            p->last_step = p->run[i].step[p->run[i].n - 1];
    }
#define STAT(dst, expr) do { for (int i = 0; i < n; i++) { const OtRun *r = &p->run[i]; v[i] = (expr); } (dst) = ot_stat(v, n); } while (0)
    STAT(p->test50, r->s_test50 >= 0 ? r->s_test50 : NAN);
    STAT(p->test99, r->s_test99 >= 0 ? r->s_test99 : NAN);
    STAT(p->train99, r->s_train99 >= 0 ? r->s_train99 : NAN);
    for (int m = 0; m < OT_NUM; m++) {
        STAT(p->move[m], r->s_move[m] >= 0 ? r->s_move[m] : NAN);
        STAT(p->lead[m], r->has_lead[m] ? r->lead[m] : NAN);
        p->first_count[m] = 0;
        for (int i = 0; i < n; i++) p->first_count[m] += p->run[i].first == m;
    }
#undef STAT
    p->n_gen50 = p->test50.n;
    part_words(p, sweep_name);
}

// ---- JSON ---------------------------------------------------------------------------------
static cJSON *jstep(int s) { return s >= 0 ? cJSON_CreateNumber(s) : cJSON_CreateNull(); }
static cJSON *jstat(const OtStat *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seeds", s->n);
    cJSON_AddItemToObject(o, "mean", json_num(s->mean));
    cJSON_AddItemToObject(o, "ci95_lo", json_num(s->lo));
    cJSON_AddItemToObject(o, "ci95_hi", json_num(s->hi));
    cJSON_AddItemToObject(o, "min", json_num(s->min));
    cJSON_AddItemToObject(o, "max", json_num(s->max));
    return o;
}

static int write_json(const OtAnalysis *a) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "sweep_name", a->sweep_name);
    cJSON_AddNumberToObject(root, "fourier_k", a->fourier_k);
    cJSON_AddStringToObject(root, "fourier_of", "the token embedding rows of the residues; the "
                            "head is tied, so this is also the unembedding");
    cJSON *def = cJSON_AddObjectToObject(root, "definitions");
    cJSON_AddStringToObject(def, "test_loss", "first step after the peak where the test loss has "
                            "made 10% of its fall from the peak to its minimum (fall >= 0.25 nats)");
    cJSON_AddStringToObject(def, "fourier_share", "first step after the low where the share has "
                            "made 10% of its rise from the low to its maximum (rise >= 0.05)");
    cJSON_AddStringToObject(def, "weight_norm", "step of the smallest sum of squares (not the "
                            "last step; >= 1% below the first value)");
    cJSON_AddStringToObject(def, "lead", "step(test accuracy 0.5) - the measure's step");
    cJSON *parts = cJSON_AddArrayToObject(root, "parts");
    for (int k = 0; k < a->n_parts; k++) {
        const OtPart *p = &a->part[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(parts, o);
        cJSON_AddItemToObject(o, "sweep", json_num(p->sweep));
        cJSON_AddNumberToObject(o, "seeds", p->n_runs);
        cJSON_AddNumberToObject(o, "last_step", p->last_step);
        cJSON_AddNumberToObject(o, "generalised_seeds", p->n_gen50);
        cJSON_AddItemToObject(o, "step_test_acc_0.5", jstat(&p->test50));
        cJSON_AddItemToObject(o, "step_test_acc_0.99", jstat(&p->test99));
        cJSON_AddItemToObject(o, "step_train_acc_0.99", jstat(&p->train99));
        cJSON *mv = cJSON_AddObjectToObject(o, "move_step"), *ld = cJSON_AddObjectToObject(o, "lead");
        cJSON *fc = cJSON_AddObjectToObject(o, "first_count");
        for (int m = 0; m < OT_NUM; m++) {
            cJSON_AddItemToObject(mv, ot_measure_names[m], jstat(&p->move[m]));
            cJSON_AddItemToObject(ld, ot_measure_names[m], jstat(&p->lead[m]));
            cJSON_AddNumberToObject(fc, ot_measure_names[m], p->first_count[m]);
        }
        cJSON *runs = cJSON_AddArrayToObject(o, "runs");
        for (int i = 0; i < p->n_runs; i++) {
            const OtRun *r = &p->run[i];
            cJSON *ro = cJSON_CreateObject();
            cJSON_AddItemToArray(runs, ro);
            cJSON_AddStringToObject(ro, "point", r->point);
            cJSON_AddNumberToObject(ro, "seed", r->seed);
            cJSON_AddNumberToObject(ro, "measurements", r->n);
            cJSON_AddItemToObject(ro, "step_test_acc_0.5", jstep(r->s_test50));
            cJSON_AddItemToObject(ro, "step_test_acc_0.99", jstep(r->s_test99));
            cJSON_AddItemToObject(ro, "step_train_acc_0.99", jstep(r->s_train99));
            cJSON_AddItemToObject(ro, "max_test_acc", json_num(r->max_test_acc));
            cJSON *rm = cJSON_AddObjectToObject(ro, "move_step"), *rl = cJSON_AddObjectToObject(ro, "lead");
            for (int m = 0; m < OT_NUM; m++) {
                cJSON_AddItemToObject(rm, ot_measure_names[m], jstep(r->s_move[m]));
                cJSON_AddItemToObject(rl, ot_measure_names[m],
                                      r->has_lead[m] ? cJSON_CreateNumber(r->lead[m]) : cJSON_CreateNull());
            }
            cJSON_AddItemToObject(ro, "first", r->first >= 0 ? cJSON_CreateString(ot_measure_names[r->first])
                                                              : cJSON_CreateNull());
        }
        cJSON_AddStringToObject(o, "text", p->text);
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    int rc = write_file_atomic(a->path, s, strlen(s));
    free(s);
    return rc;
}

// ---- reading the registry -----------------------------------------------------------------
static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

int ladder_overtime(const char *dir, OtAnalysis *a) {
    memset(a, 0, sizeof *a);
    char path[1200];
    snprintf(path, sizeof path, "%s/registry.sqlite", dir);
    snprintf(a->path, sizeof a->path, "%s/overtime.json", dir);
    Registry *reg;
    if (reg_open(&reg, path)) return -1;
    RegDense *rows = NULL;
    RegRun *runs = NULL;
    int n = 0, nr = 0;
    int rc = reg_query_dense(reg, &rows, &n);
    if (!rc) rc = reg_query_runs(reg, &runs, &nr);
    reg_close(reg);
    if (rc) { free(rows); free(runs); return -1; }
    if (n == 0) { free(rows); free(runs); return 1; }
    for (int i = 0; i < nr; i++)
        if (runs[i].sweep_name[0]) { snprintf(a->sweep_name, sizeof a->sweep_name, "%s", runs[i].sweep_name); break; }
    free(runs);
    a->fourier_k = rows[0].fourier_k;
    // parts by sweep value (ascending, NaN alone), runs by point in query order
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && !strcmp(rows[j].point, rows[i].point)) j++;
        OtPart *p = NULL;
        for (int k = 0; k < a->n_parts; k++) if (same(a->part[k].sweep, rows[i].sweep_value)) p = &a->part[k];
        if (!p && a->n_parts < LADDER_MAX) {
            p = &a->part[a->n_parts++];
            p->sweep = rows[i].sweep_value;
        }
        if (p && p->n_runs < LADDER_MAX) {
            OtRun *r = &p->run[p->n_runs++];
            int m = j - i;
            snprintf(r->point, sizeof r->point, "%s", rows[i].point);
            r->seed = rows[i].seed;
            r->n = m;
            r->step = xmalloc((size_t)m * sizeof(int));
            double *buf = xmalloc((size_t)m * 6 * sizeof(double));
            r->train_acc = buf; r->test_acc = buf + m; r->train_loss = buf + 2 * m;
            r->test_loss = buf + 3 * m; r->weight_sq = buf + 4 * m; r->fourier = buf + 5 * m;
            for (int q = 0; q < m; q++) {
                const RegDense *d = &rows[i + q];
                r->step[q] = d->step;
                r->train_acc[q] = d->train_acc; r->test_acc[q] = d->test_acc;
                r->train_loss[q] = d->train_loss; r->test_loss[q] = d->test_loss;
                r->weight_sq[q] = d->weight_sq; r->fourier[q] = d->fourier_share;
            }
        }
        i = j;
    }
    free(rows);
    for (int a1 = 1; a1 < a->n_parts; a1++)  // ascending sweep values
        for (int b = a1; b > 0 && a->part[b].sweep < a->part[b - 1].sweep; b--) {
            OtPart t = a->part[b]; a->part[b] = a->part[b - 1]; a->part[b - 1] = t;
        }
    for (int k = 0; k < a->n_parts; k++) analyze_part(&a->part[k], a->sweep_name);
    return write_json(a) ? -1 : 0;
}

void ladder_overtime_free(OtAnalysis *a) {
    for (int k = 0; k < a->n_parts; k++)
        for (int i = 0; i < a->part[k].n_runs; i++) {
            free(a->part[k].run[i].step);
            free(a->part[k].run[i].train_acc);
        }
    a->n_parts = 0;
}
