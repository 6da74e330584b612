// emergent ladder run|analyze|report: the main job.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/core.h"
#include "ladder/ladder.h"
#include "ladder/sweep_analysis.h"
#include "ladder/overtime.h"
#include "report/report.h"
#include "train/train.h"

// The ladder's progress: a header line, one status line redrawn in place on a terminal
// (every 2 s, and the last), failed points as they fail (even with --quiet), the registry.
typedef struct { int quiet, tty, open; double t_print; } LadderShow;
static void show(void *ctx, const LadderProgress *p) {
    LadderShow *s = ctx;
    switch (p->stage) {
    case LADDER_START:
        if (s->quiet) return;
        printf("ladder %s: %d points (%d sizes x %d seeds%s), %d to run, %d at a time, "
               "%d thread%s each", p->name, p->points, p->sizes, p->seeds,
               p->swept ? " x sweep" : "", p->to_run, p->jobs, p->threads,
               p->threads > 1 ? "s" : "");
        if (p->ranks > 1) printf(" over %d MPI ranks (%s)", p->ranks, dist_describe());
        printf("; %.2e training FLOPs to go\n", p->flops_todo);
        break;
    case LADDER_PROGRESS: {
        int last = p->done + p->failed == p->to_run;
        if (s->quiet || (!last && p->elapsed - s->t_print < 2.0)) return;
        char eta[32] = "?", el[32];
        if (p->eta >= 0) fmt_duration(eta, sizeof eta, p->eta);
        fmt_duration(el, sizeof el, p->elapsed);
        printf("%sladder: %d/%d points done, %d running, %d queued%s | %s | ETA %s%s",
               s->tty ? "\r" : "", p->done, p->to_run, p->running, p->queued,
               p->failed ? " (some failed)" : "", el, eta, s->tty ? "   " : "\n");
        s->open = s->tty;
        s->t_print = p->elapsed;
        break;
    }
    case LADDER_POINT_FAILED:
        fprintf(stderr, "%sladder: point %s: %s\n", s->open ? "\n" : "", p->point, p->message);
        break;
    case LADDER_END:
        if (s->open) printf("\n");
        s->open = 0;
        if (!s->quiet)
            printf("ladder: registry %s (also runs.csv, evaluations.csv, registry.json)\n",
                   p->registry);
        break;
    }
    fflush(stdout);
}

static int ladder_cmd_run(int argc, char **argv) {
    const char *out = NULL;
    int jobs = 0, quiet = 0, quick = 0;
    ArgSpec specs[] = {
        {"--out", ARG_STR, &out, "output directory (registry.sqlite, points/, report)"},
        {"--jobs", ARG_INT, &jobs, "points trained at a time (0: one per core)", 0, 1024},
        {"--quiet", ARG_FLAG, &quiet, "no progress display"},
        {"--quick", ARG_FLAG, &quick, "a smoke test of the pipeline: 3 smallest sizes, 2 seeds, "
                                      "30 steps, 40 eval items (its own --out)"},
        {NULL},
    };
    const char *pos[1];
    int np = 0;
    int rc = args_parse("ladder run", "SPEC.json --out DIR [--jobs N] [--quick]", specs, argc, argv, pos, 1, &np);
    if (rc) return rc > 0 ? 0 : 1;
    if (np != 1) { em_error("ladder run: give one SPEC.json (e.g. ladders/addition-3.json)"); return 1; }
    if (!out) { em_error("ladder run: --out DIR is required"); return 1; }
    LadderShow sh = {.quiet = quiet, .tty = isatty(1), .t_print = 0.0};
    rc = ladder_run_opts(pos[0], out, jobs, quick, show, &sh);  // over MPI ranks: rank 0 shows
    if (sh.open) printf("\n");
    if (rc == LADDER_PEER_FAILED) return CMD_REPORTED;
    if (rc == LADDER_ABORT) {  // the other ranks cannot go on without this one
        fprintf(stderr, "emergent ladder run: error: rank %d: %s\n", dist_rank(), em_errmsg());
        dist_abort(1);
    }
    return rc ? 1 : 0;
}

// analyze DIR / report DIR: one positional directory.
static int ladder_cmd_dir(const char *name, int (*fn)(const char *), int argc, char **argv) {
    ArgSpec specs[] = {{NULL}};
    const char *pos[1];
    int np = 0;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "ladder %s", name);
    int rc = args_parse(cmd, "DIR", specs, argc, argv, pos, 1, &np);
    if (rc) return rc > 0 ? 0 : 1;
    if (np != 1) { em_error("%s: give the ladder's output directory", cmd); return 1; }
    return fn(pos[0]) ? 1 : 0;
}

// The analysis of one grid: the table over sizes, then the fits and emergence measures.
static void print_part(const char *dir, const LadderPart *p) {
    printf("ladder %s: %d of %d runs done, task %s", dir, p->n_done, p->n_runs, p->task);
    if (p->sweep_name[0]) printf(", %s = %g", p->sweep_name, p->sweep);
    printf("\n");
    printf("\n%-10s %10s %10s  %-22s %-22s %8s %8s\n", "params", "FLOPs", "val loss",
           "exact match [min-max]", "token acc [min-max]", "tf p^L", "pbar^L");
    const LadderSpread *em = &p->metric[LG_EM], *tok = &p->metric[LG_TOK];
    for (int i = 0; i < p->n_sizes; i++)
        printf("%-10.0f %10.2e %10.4f  %.3f [%.3f-%.3f]    %.3f [%.3f-%.3f]    %8.3f %8.3f\n",
               p->params[i], p->flops[i], p->val_loss.mean[i], em->mean[i], em->min[i],
               em->max[i], tok->mean[i], tok->min[i], tok->max[i],
               p->metric[LG_PRED_TF].mean[i], p->metric[LG_INDEP_POW].mean[i]);
    const PowerFit *fp = &p->loss_params.fit, *fpi = &p->loss_params_irr.fit;
    const PowerFit *ff = &p->loss_flops.fit;
    if (p->loss_params.st.state == LA_OK)
        printf("\nloss ~ (N/%.3g)^-%.3f  (r2 %.3f)", fp->Nc, fp->alpha, fp->r2);
    else if (p->loss_params.st.state == LA_FAILED)
        printf("\nloss against parameters: no power-law fit (%s)", p->loss_params.st.error);
    if (p->loss_params_irr.st.state == LA_OK && ladder_fit_valid(fpi))
        printf("; with an irreducible term: (N/%.3g)^-%.3f + %.3f (r2 %.3f)", fpi->Nc, fpi->alpha,
               fpi->Linf, fpi->r2);
    else if (p->loss_params_irr.st.state == LA_OK)
        printf("; no valid fit with an irreducible term (it would need a negative floor)");
    else if (p->loss_params_irr.st.state == LA_FAILED)
        printf("; no fit with an irreducible term (%s)", p->loss_params_irr.st.error);
    if (p->loss_flops.st.state == LA_OK)
        printf("\nloss ~ (C/%.3g)^-%.3f against training FLOPs (r2 %.3f)", ff->Nc, ff->alpha,
               ff->r2);
    else if (p->loss_flops.st.state == LA_FAILED)
        printf("\nloss against training FLOPs: no power-law fit (%s)", p->loss_flops.st.error);
    const Extrapolation *ex = &p->extrapolation;
    if (p->extrapolation_st.state == LA_OK)
        printf("\nextrapolation: fit on the %d smallest, the largest predicted %.4f, observed "
               "%.4f (%+.1f%%)", ex->n_fit, ex->pred, ex->actual, 100 * ex->rel_err);
    else if (p->extrapolation_st.state == LA_FAILED)
        printf("\nextrapolation: not computed (%s)", p->extrapolation_st.error);
    char sw[2048];
    ladder_schaeffer_text(p, sw, sizeof sw);
    printf("\n%s\n", sw);
    for (int m = 0; m < LG_NUM; m++)
        if (p->trend_st[m].state == LA_FAILED)
            printf("BIG-bench trend of %s: not computed (%s)\n", ladder_metrics[m].name,
                   p->trend_st[m].error);
    printf("\n%-32s %-16s %13s %14s\n", "metric", "breakthrough", "lab linearity",
           "first moves at");
    for (int m = 0; m < LG_NUM; m++) {
        char b[32] = "-", l[32] = "-", f[32] = "never";
        if (p->trend_st[m].state == LA_OK) {
            ladder_fmt_breakthrough(p->trend[m].breakthroughness, b, sizeof b);
            snprintf(l, sizeof l, "%.2f", p->trend[m].linearity_norm);
        }
        if (p->first_move[m] >= 0) snprintf(f, sizeof f, "%.3g", p->params[p->first_move[m]]);
        printf("%-32s %-16s %13s %14s\n", ladder_metrics[m].name, b, l, f);
    }
    char t[1536];
    printf("(BIG-bench's breakthroughness and the lab's own linearity index, not BIG-bench's; "
           "oriented so that improving is positive)\n%s\n", p->finding_text);
    ladder_threshold_text(p, t, sizeof t);
    printf("emergence threshold (exact match): %s\n\n", t);
}

static int analyze(const char *dir) {
    LadderAnalysis *a = xcalloc(1, sizeof *a);
    int rc = ladder_analyze(dir, a);
    for (int i = 0; i < a->n_parts && !rc; i++) print_part(dir, &a->part[i]);
    if (!rc && a->sweep_name[0]) {
        printf("emergence threshold against %s:\n", a->sweep_name);
        for (int i = 0; i < a->n_parts; i++)
        {
            const LadderPart *q = &a->part[i];
            printf("  %s = %-10g ", a->sweep_name, q->sweep);
            if (q->threshold_st.state == LA_SKIPPED)
                printf("too few sizes (%d) for a threshold against size\n", q->n_sizes);
            else if (q->verdict == LT_EMERGED && isfinite(q->threshold.point))
                printf("threshold %.3g parameters\n", q->threshold.point);
            else if (q->verdict == LT_EMERGED)
                printf("emerged, no crossing inside the ladder\n");
            else
                printf("%s\n", q->verdict == LT_NON_MONOTONE ? "non-monotone" : "did not emerge");
        }
    }
    LadderExperiments *x = rc ? NULL : xcalloc(1, sizeof *x);
    if (x && !(rc = ladder_experiments(dir, a, x))) {
        const char *sec[5][2] = {{"threshold against the learning rate", x->lr.text},
                                 {"two training tasks", x->pair.text},
                                 {"loss on text", x->text.text},
                                 {"multiple choice", x->mc.text},
                                 {"seen and unseen items, memorisation", x->contam.text}};
        int present[5] = {x->lr.present, x->pair.present, x->text.present, x->mc.present,
                          x->contam.present};
        for (int i = 0; i < 5; i++)
            if (present[i]) printf("%s: %s\n\n", sec[i][0], sec[i][1]);
        printf("experiments: %s\n", x->path);
    }
    free(x);
    if (!rc) printf("analysis: %s\n", a->path);
    free(a);
    if (!rc) {  // emergence over training time, when the runs were densely evaluated
        OtAnalysis *o = xcalloc(1, sizeof *o);
        int orc = ladder_overtime(dir, o);
        if (orc == 0) {
            printf("over training time:\n");
            for (int i = 0; i < o->n_parts; i++) printf("  %s\n", o->part[i].text);
            printf("analysis over time: %s\n", o->path);
        }
        ladder_overtime_free(o);
        free(o);
        rc = orc < 0 ? -1 : 0;
    }
    return rc;
}

static int report(const char *dir) {
    if (report_ladder(dir)) return -1;
    printf("report: %s/report.html (figures in %s/report)\n", dir, dir);
    return 0;
}

int cmd_ladder(int argc, char **argv) {
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        printf("usage: emergent ladder <run|analyze|report> ...\n\n"
               "  run SPEC.json --out DIR [--jobs N]   train and evaluate every point of a ladder\n"
               "                                       (killed and run again, it resumes)\n"
               "  analyze DIR                          fits, emergence measures -> DIR/analysis.json\n"
               "  report DIR                           figures (PNG, SVG) and DIR/report.html\n");
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "run")) return ladder_cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[0], "analyze")) return ladder_cmd_dir("analyze", analyze, argc - 1, argv + 1);
    if (!strcmp(argv[0], "report")) return ladder_cmd_dir("report", report, argc - 1, argv + 1);
    em_error("ladder: unknown subcommand '%s' (see emergent ladder --help)", argv[0]);
    return 1;
}
