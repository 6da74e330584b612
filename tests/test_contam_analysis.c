// The ladder's evaluations split by contamination, read back: exact match over all, clean
// and dirty items by size, all - clean with its interval, the counted dirty items, the
// threshold over all and over clean items, and a registry without the split (older ones).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "data/tasks.h"
#include "ladder/contam_analysis.h"
#include "ladder/registry.h"
#include "test.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static char dir[64], path[128], task[128];

// Clean exact match per (seed, size); dirty items are always right.
static const double clean[2][3] = {{0.1, 0.2, 0.8}, {0.1, 0.4, 0.8}};

// A leak sweep of two values (0: no dirty item; 0.1: 10 of 100), 3 sizes, 2 seeds; split = 0
// writes exact match only, as a registry from before the split.
static void write_registry(int split) {
    snprintf(dir, sizeof dir, "/tmp/emergent-contam-XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/registry.sqlite", dir);
    Registry *r;
    CHECK(reg_open(&r, path) == 0, "%s", em_errmsg());
    for (int v = 0; v < 2; v++)
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 2; k++) {
                char key[64];
                snprintf(key, sizeof key, "s%d-leak%d-seed%d", i, v, k + 1);
                RunInfo ri = {.point = key, .size_idx = i, .n_layer = 1, .n_head = 1,
                              .n_embd = 8, .params = 1000 << i, .seed = k + 1,
                              .sweep_name = "leak", .sweep_value = v ? 0.1 : 0.0, .lr = 1e-3,
                              .steps = 10, .tokens = 100, .flops = 1e6};
                CHECK(reg_upsert_run(r, &ri) == 0, "%s", em_errmsg());
                double c = clean[k][i], nd = v ? 10 : 0, all = (c * (100 - nd) + nd) / 100;
                MetricValue mv[5] = {{"exact_match", all, 0.01, all - 0.02, all + 0.02},
                                     {"exact_match@clean", c, 0.01, c - 0.02, c + 0.02},
                                     {"items@clean", 100 - nd, NAN, NAN, NAN},
                                     {"items@dirty", nd, NAN, NAN, NAN},
                                     {"exact_match@dirty", 1.0, 0.02, 1.0, 1.0}};
                int nm = !split ? 1 : v ? 5 : 4;
                CHECK(reg_add_eval(r, key, 10, task, 100, mv, nm, NULL, NULL, 0) == 0, "%s",
                      em_errmsg());
                CHECK(reg_finish_run(r, key, 1.0, 1.0, 1.0) == 0, "%s", em_errmsg());
            }
    reg_close(r);
}

static void remove_registry(void) {
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    rmdir(dir);
}

static void spec(LadderSpec *s) {
    memset(s, 0, sizeof *s);
    strcpy(s->task, "add:2");
    strcpy(s->eval_tasks[0], "add:2");
    s->n_eval_tasks = 1;
    strcpy(s->sweep_name, "leak");
}

static void test_split(void) {
    write_registry(1);
    LadderSpec s;
    spec(&s);
    SweepContam *x = xcalloc(1, sizeof *x);
    CHECK(ladder_contam_analysis(dir, &s, x) == 0, "%s", em_errmsg());
    CHECK(x->present && x->n == 2 && x->p[1].n_sizes == 3, "present %d n %d", x->present, x->n);
    const ContamPart *b = &x->p[0], *p = &x->p[1];
    CHECK(b->dirty_items[2] == 0 && p->dirty_items[2] == 10 && p->items[2] == 100,
          "counted %g %g of %g", b->dirty_items[2], p->dirty_items[2], p->items[2]);
    CHECK(isnan(b->em[LC_DIRTY][0]) && p->em[LC_DIRTY][0] == 1.0, "dirty %g", p->em[LC_DIRTY][0]);
    CHECK(NEAR(p->em[LC_CLEAN][1], 0.3, 1e-12) && NEAR(p->lo[LC_CLEAN][1], 0.18, 1e-12) &&
          NEAR(p->hi[LC_CLEAN][1], 0.42, 1e-12), "clean at size 1: %g [%g, %g]",
          p->em[LC_CLEAN][1], p->lo[LC_CLEAN][1], p->hi[LC_CLEAN][1]);
    // all - clean = 0.1 (1 - clean): 0.08 and 0.06 at size 1; half-width
    // 1.96 sqrt(s^2 / 2 + 2 (0.1 sqrt(0.01^2 + 0.02^2))^2 / 4) with s^2 = 0.0002
    double half = 1.96 * sqrt(0.0002 / 2 + 2 * 0.01 * 0.0005 / 4);
    CHECK(NEAR(p->diff[1], 0.07, 1e-12) && NEAR(p->diff_hi[1] - p->diff[1], half, 1e-9) &&
          NEAR(p->diff[1] - p->diff_lo[1], half, 1e-9), "diff %g [%g, %g], half %g", p->diff[1],
          p->diff_lo[1], p->diff_hi[1], half);
    CHECK(b->diff[1] == 0 && b->diff_lo[1] == 0, "no dirty item: all - clean %g", b->diff[1]);
    // the curves cross 0.5 between 2000 and 4000 parameters: clean 0.3 -> 0.8, all 0.37 -> 0.82
    CHECK(NEAR(p->thr[1].point, 2000 * pow(2, 0.2 / 0.5), 1e-6) &&
          NEAR(p->thr[0].point, 2000 * pow(2, 0.13 / 0.45), 1e-6), "thresholds %g %g",
          p->thr[0].point, p->thr[1].point);
    CHECK(strstr(x->text, "Leak 0.1 (planted") && strstr(x->text, "counts 10.0 of 100 items dirty (10.0%)") &&
          strstr(x->text, "0.300 / 1.000"), "words: %s", x->text);
    free(x);
    remove_registry();
}

// A registry written before evaluations were split: nothing to say, no error.
static void test_unsplit(void) {
    write_registry(0);
    LadderSpec s;
    spec(&s);
    SweepContam *x = xcalloc(1, sizeof *x);
    CHECK(ladder_contam_analysis(dir, &s, x) == 0 && !x->present && !x->text[0], "%s",
          em_errmsg());
    free(x);
    remove_registry();
}

int main(void) {
    TaskSet ts;  // the registry's name for the task: eval's
    if (task_generate("add:2", TASK_TEST, 1, 1, &ts)) return 1;
    snprintf(task, sizeof task, "%s", ts.name);
    taskset_free(&ts);
    RUN(test_split);
    RUN(test_unsplit);
    return test_summary();
}
