// report/sweep_report: the experiments' figures and sections (see sweep_report.h). Every
// sentence is the analysis's computed text (ladder/sweep_analysis.c); captions say only what
// is drawn.
#include "report/sweep_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/contam_report.h"

// The threshold (0.5 level) against the learning rate, with its interval as a band.
static int fig_threshold_lr(const char *fdir, const SweepLr *x) {
    Series s = {.label = "threshold at exact match 0.5 (band: 95% over seeds)", .x = x->lr,
                .y = x->thr, .n = x->n, .style = SERIES_MEAN, .ylo = x->lo, .yhi = x->hi,
                .color = REPORT_RGB(0x0072B2)};
    Figure f = {.name = "threshold_vs_lr", .title = "Emergence threshold against learning rate",
                .xlabel = "learning rate", .ylabel = "parameters where exact match reaches 0.5",
                .logx = 1, .logy = 1, .ymin = NAN, .ymax = NAN, .series = &s, .n_series = 1};
    return report_figure(fdir, &f);
}

static void lr_section(ReportHtml *h, const char *fdir, const SweepLr *x, int *rc) {
    html_h2(h, "Threshold against the learning rate");
    html_p(h, "%s", x->text);
    *rc |= fig_threshold_lr(fdir, x);
    char cap[512] = "The parameter count where exact match (mean over seeds) first reaches "
                    "0.5, per learning rate, with its 95% bootstrap interval over seeds as a band.";
    int missing = 0;
    for (int v = 0; v < x->n; v++)
        if (!isfinite(x->thr[v])) {
            size_t l = strlen(cap);
            snprintf(cap + l, sizeof cap - l, "%s%g", missing++ ? ", " : " No point at lr ",
                     x->lr[v]);
        }
    if (missing) strncat(cap, " (see the text: no threshold there).", sizeof cap - strlen(cap) - 1);
    html_figure(h, "report/threshold_vs_lr.png", cap);
}

// Exact match of the two training tasks against size, one panel per eval task.
static int fig_pair(const char *fdir, const SweepPair *x) {
    Figure pan[LADDER_EXP_TASKS];
    Series (*ss)[2] = xcalloc(LADDER_EXP_TASKS, sizeof *ss);
    char (*title)[160] = xcalloc(LADDER_EXP_TASKS, sizeof *title);
    for (int j = 0; j < x->n_tasks; j++) {
        const SweepPairTask *t = &x->t[j];
        for (int v = 0; v < 2; v++)
            ss[j][v] = (Series){.label = x->value[v], .x = t->params, .y = t->em[v].mean,
                                .n = t->n_sizes, .style = SERIES_MEAN, .ylo = t->em[v].min,
                                .yhi = t->em[v].max,
                                .color = REPORT_RGB(v ? 0xD55E00 : 0x0072B2)};
        snprintf(title[j], sizeof title[j], "evaluated on %s", t->pattern);
        pan[j] = (Figure){.title = title[j], .xlabel = "parameters", .ylabel = "exact match",
                          .logx = 1, .ymin = 0, .ymax = 1, .series = ss[j], .n_series = 2};
    }
    int rc = report_panels(fdir, "exact_match_by_task", "Exact match of the two training tasks "
                           "against size", pan, x->n_tasks, x->n_tasks > 1 ? 2 : 1, NULL);
    free(ss);
    free(title);
    return rc;
}

static void pair_section(ReportHtml *h, const char *fdir, const SweepPair *x, int *rc) {
    html_h2(h, "Two training tasks by size");
    html_p(h, "%s", x->text);
    *rc |= fig_pair(fdir, x);
    html_figure(h, "report/exact_match_by_task.png", "Exact match against size for each "
                "training task (mean over seeds, band: min-max), one panel per eval task; "
                "\"{task}\" and \"{format}\" stand for each point's own training task and its "
                "format.");
}

// Validation and training loss against non-embedding parameters, the fit, Kaplan's slope.
static int fig_text(const char *fdir, const SweepText *x) {
    int S = x->n_sizes;
    double fx[64], fy[64], kx[2], ky[2];
    int nf = 0;
    if (x->fit_st.state == LA_OK && S >= 2) {
        for (int j = 0; j < 64; j++) {
            fx[j] = x->nonemb[0] * pow(x->nonemb[S - 1] / x->nonemb[0], j / 63.0);
            fy[j] = ladder_power_predict(&x->fit, fx[j]);
        }
        nf = 64;
        // Kaplan's exponent through the fit's value at the smallest size
        kx[0] = x->nonemb[0];
        kx[1] = x->nonemb[S - 1];
        ky[0] = fy[0];
        ky[1] = fy[0] * pow(kx[1] / kx[0], -KAPLAN_ALPHA_N);
    }
    char fitlabel[96], klabel[96];
    snprintf(fitlabel, sizeof fitlabel, "fit (N/%.3g)^-%.3f, r2 %.2f", x->fit.Nc, x->fit.alpha,
             x->fit.r2);
    snprintf(klabel, sizeof klabel, "slope of Kaplan's exponent %.3f", KAPLAN_ALPHA_N);
    Series s[4] = {
        {.label = "validation loss (band: seeds)", .x = x->nonemb, .y = x->val.mean, .n = S,
         .style = SERIES_MEAN, .ylo = x->val.min, .yhi = x->val.max, .color = REPORT_RGB(0x0072B2)},
        {.label = "training loss", .x = x->nonemb, .y = x->train.mean, .n = S,
         .style = SERIES_MEAN, .color = REPORT_RGB(0x009E73)},
        {.label = fitlabel, .x = fx, .y = fy, .n = nf, .style = SERIES_FIT,
         .color = REPORT_RGB(0x555555)},
        {.label = klabel, .x = kx, .y = ky, .n = nf ? 2 : 0, .style = SERIES_FIT,
         .color = REPORT_RGB(0xD55E00)}};
    Figure f = {.name = "text_loss_vs_nonembedding",
                .title = "Loss on text against non-embedding parameters",
                .xlabel = "non-embedding parameters", .ylabel = "loss, nats per character",
                .logx = 1, .logy = 1, .ymin = NAN, .ymax = NAN, .series = s,
                .n_series = nf ? 4 : 2};
    return report_figure(fdir, &f);
}

static void text_section(ReportHtml *h, const char *fdir, const SweepText *x, int *rc) {
    html_h2(h, "Loss as a power law in size, on text");
    html_p(h, "%s", x->text);
    *rc |= fig_text(fdir, x);
    html_figure(h, "report/text_loss_vs_nonembedding.png", "Validation loss (held-out text, "
                "mean over seeds, band: min-max) and training loss against non-embedding "
                "parameters, with the power law fitted to every run (dashed) and a line of "
                "Kaplan et al.'s exponent through the fit at the smallest size.");
    const char *hdr[] = {"parameters", "non-embedding", "val loss", "train loss", "gap"};
    int S = x->n_sizes;
    char (*cells)[32] = xcalloc((size_t)S * 5, 32);
    const char **cp = xcalloc((size_t)S * 5, sizeof(char *));
    for (int i = 0; i < S; i++) {
        char (*c)[32] = cells + (size_t)i * 5;
        snprintf(c[0], 32, "%.0f", x->params[i]);
        snprintf(c[1], 32, "%.0f", x->nonemb[i]);
        snprintf(c[2], 32, "%.4f", x->val.mean[i]);
        snprintf(c[3], 32, "%.4f", x->train.mean[i]);
        snprintf(c[4], 32, "%.4f", x->gap[i]);
        for (int j = 0; j < 5; j++) cp[i * 5 + j] = c[j];
    }
    html_table(h, hdr, 5, cp, S);
    free(cells);
    free(cp);
}

// Grade, Brier and log-probability per task, per seed and their mean.
static int fig_mc(const char *fdir, const SweepMc *x) {
    int n = x->n_tasks * 3, K = x->n_seeds;
    Figure *pan = xcalloc((size_t)n, sizeof *pan);
    Series (*ss)[LADDER_MAX + 1] = xcalloc((size_t)n, sizeof *ss);
    double (*y)[LADDER_MAX][LADDER_MAX] = xcalloc((size_t)n, sizeof *y);  // [panel][seed][size]
    char (*title)[160] = xcalloc((size_t)n, sizeof *title);
    static const char *mname[3] = {"grade", "Brier score", "log p(right choice)"};
    const int slot[3] = {LG_EM, LG_EDIT, LG_LOGP};
    for (int j = 0; j < x->n_tasks; j++)
        for (int q = 0; q < 3; q++) {
            int pi = j * 3 + q, ns = 0;
            const SweepMcTask *m = &x->t[j];
            const LadderPart *p = &m->part;
            const double (*src)[LADDER_MAX] = q == 0 ? m->grade : q == 1 ? m->brier : m->logp;
            for (int k = 0; k < K; k++) {
                for (int i = 0; i < p->n_sizes; i++) y[pi][k][i] = src[i][k];
                ss[pi][ns++] = (Series){.label = k == 0 ? "one seed" : NULL, .x = p->params,
                                        .y = y[pi][k], .n = p->n_sizes, .style = SERIES_SEED,
                                        .color = REPORT_RGB(0x0072B2)};
            }
            const LadderSpread *sp = &p->metric[slot[q]];
            ss[pi][ns++] = (Series){.label = "mean over seeds", .x = p->params, .y = sp->mean,
                                    .n = p->n_sizes, .style = SERIES_MEAN, .ylo = sp->min,
                                    .yhi = sp->max, .color = REPORT_RGB(0x0072B2)};
            snprintf(title[pi], sizeof title[pi], "%s: %s", m->task, mname[q]);
            pan[pi] = (Figure){.title = title[pi], .xlabel = "parameters", .ylabel = mname[q],
                               .logx = 1, .ymin = NAN, .ymax = NAN, .series = ss[pi],
                               .n_series = ns};
            if (q == 0) { pan[pi].ymin = 0; pan[pi].ymax = 1; }
        }
    int rc = report_panels(fdir, "multiple_choice", "Multiple-choice scores against size", pan,
                           n, 3, NULL);
    free(pan);
    free(ss);
    free(y);
    free(title);
    return rc;
}

static void mc_section(ReportHtml *h, const char *fdir, const SweepMc *x, int *rc) {
    html_h2(h, "Multiple-choice scores by size");
    html_p(h, "%s", x->text);
    *rc |= fig_mc(fdir, x);
    html_figure(h, "report/multiple_choice.png", "One row per task: the grade (1 when the "
                "most likely choice is right), the Brier score of the softmax over the choices "
                "(lower is better) and the log-probability of the right choice, against size; "
                "thin lines one seed each, bold their mean, band min-max.");
}

int report_experiments(const char *dir, const char *fdir, const LadderAnalysis *a,
                       ReportHtml *h) {
    LadderExperiments *x = xcalloc(1, sizeof *x);
    int rc = ladder_experiments(dir, a, x);
    if (!rc && x->quick)
        html_p(h, "These results come from the quick variant of the spec (a smoke test of "
                  "the pipeline: too small for a finding).");
    if (!rc && x->lr.present) lr_section(h, fdir, &x->lr, &rc);
    if (!rc && x->pair.present) pair_section(h, fdir, &x->pair, &rc);
    if (!rc && x->text.present) text_section(h, fdir, &x->text, &rc);
    if (!rc && x->mc.present) mc_section(h, fdir, &x->mc, &rc);
    if (!rc && x->contam.present) report_contam_section(h, fdir, &x->contam, &rc);
    free(x);
    return rc ? -1 : 0;
}
