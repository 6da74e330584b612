// report/ladder_report: the figures of a ladder (gnuplot, PNG and SVG) and DIR/report.html,
// drawn from its analysis (computed here, in process) and the grid of its first sweep value.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ladder/ladder.h"
#include "ladder/registry.h"
#include "report/report.h"
#include "report/report_impl.h"
#include "report/sweep_report.h"

// What every builder reads. The figures show the first value of a second axis (the whole
// ladder without one); one figure compares every value.
typedef struct {
    const char *dir;
    char fdir[1200];             // DIR/report
    const LadderAnalysis *a;
    const LadderPart *p;         // a->part[0]
    const LadderGrid *g;         // its grid: per seed, and over training
} LadderReport;


// ---- figures ------------------------------------------------------------------------------

// Per-seed lines, the seed mean in bold and a min-max band, of metric m against x.
typedef struct {
    double y[LADDER_MAX][LADDER_MAX];  // [seed][size]
    Series s[LADDER_MAX + 1];
} SeedLines;

static int seed_lines(const LadderReport *r, int m, const double *x, SeedLines *sl) {
    const LadderSpread *sp = &r->p->metric[m];
    int S = r->g->n_sizes, K = r->g->n_seeds, n = 0;
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < S; i++) sl->y[k][i] = r->g->metric[m][i][k];
        sl->s[n++] = (Series){.label = k == 0 ? "one seed" : NULL, .x = x, .y = sl->y[k], .n = S,
                              .style = SERIES_SEED, .color = REPORT_RGB(0x0072B2)};
    }
    sl->s[n++] = (Series){.label = "mean over seeds (band: min-max)", .x = x, .y = sp->mean,
                          .n = S, .style = SERIES_MEAN, .ylo = sp->min, .yhi = sp->max,
                          .color = REPORT_RGB(0x0072B2)};
    return n;
}

// 1, 2: exact match against parameters or against training FLOPs.
static int fig_exact_match(const LadderReport *r, int vs_flops) {
    SeedLines *sl = xcalloc(1, sizeof *sl);
    int n = seed_lines(r, LG_EM, vs_flops ? r->g->flops : r->g->params, sl);
    Figure f = {.name = vs_flops ? "exact_match_vs_flops" : "exact_match_vs_params",
                .title = vs_flops ? "Exact match against training compute"
                                  : "Exact match against model size",
                .xlabel = vs_flops ? "training FLOPs" : "parameters",
                .ylabel = "exact match (fraction of test items)",
                .logx = 1, .ymin = 0, .ymax = 1, .series = sl->s, .n_series = n,
                .note = "Thin lines: one seed each; bold: their mean; band: min-max over seeds."};
    int rc = report_figure(r->fdir, &f);
    free(sl);
    return rc;
}

// 3: the "mirage" side by side: the same models under four metrics.
static int fig_mirage(const LadderReport *r) {
    SeedLines *sl = xcalloc(4, sizeof *sl);
    Figure pan[4];
    const int mets[4] = {LG_EM, LG_TOK, LG_EDIT, LG_LOGP};
    for (int j = 0; j < 4; j++) {
        const LadderMetric *m = &ladder_metrics[mets[j]];
        int n = seed_lines(r, mets[j], r->g->params, &sl[j]);
        pan[j] = (Figure){.title = m->label, .xlabel = "parameters", .ylabel = m->axis,
                          .logx = 1, .ymin = NAN, .ymax = NAN, .series = sl[j].s, .n_series = n};
        if (m->kind == LM_RATE) { pan[j].ymin = 0; pan[j].ymax = 1; }
    }
    int rc = report_panels(r->fdir, "mirage", "The same models under four metrics", pan, 4, 2,
                           r->p->finding_text);
    free(sl);
    return rc;
}

// 4: the loss power law, every (size, seed) a point.
static int fig_loss(const LadderReport *r) {
    const LadderGrid *g = r->g;
    const LadderFit *lf = &r->p->loss_params;
    int S = g->n_sizes, K = g->n_seeds, nl = 0, nf = 0;
    double lx[LADDER_MAX * LADDER_MAX], ly[LADDER_MAX * LADDER_MAX], fx[64], fy[64];
    for (int i = 0; i < S; i++)
        for (int k = 0; k < K; k++)
            if (isfinite(g->val_loss[i][k]) && g->val_loss[i][k] > 0) {
                lx[nl] = g->params[i]; ly[nl++] = g->val_loss[i][k];
            }
    if (lf->st.state == LA_OK) {
        for (int j = 0; j < 64; j++) {
            fx[j] = g->params[0] * pow(g->params[S - 1] / g->params[0], j / 63.0);
            fy[j] = ladder_power_predict(&lf->fit, fx[j]);
        }
        nf = 64;
    }
    char fitlabel[96];
    snprintf(fitlabel, sizeof fitlabel, "fit (N/%.3g)^-%.3f, r2 %.2f", lf->fit.Nc, lf->fit.alpha,
             lf->fit.r2);
    Series ls[2] = {
        {.label = "one run (size, seed)", .x = lx, .y = ly, .n = nl, .style = SERIES_POINTS},
        {.label = fitlabel, .x = fx, .y = fy, .n = nf, .style = SERIES_FIT}};
    Figure f = {.name = "loss_vs_params", .title = "Validation loss (answer tokens) against size",
                .xlabel = "parameters", .ylabel = "validation loss, nats per answer token",
                .logx = 1, .logy = 1, .ymin = NAN, .ymax = NAN, .series = ls,
                .n_series = nf ? 2 : 1,
                .note = "A power law L = (N/Nc)^-alpha fitted by nonlinear least squares."};
    return report_figure(r->fdir, &f);
}

// 5, 6: exact match (m = 0) or per-token accuracy (m = 1) over training, one line per size.
static int fig_training(const LadderReport *r, int m) {
    const LadderGrid *g = r->g;
    int S = g->n_sizes;
    double (*sx)[LG_MAX_STEPS] = xcalloc(LADDER_MAX, sizeof *sx);
    double (*sy)[LG_MAX_STEPS] = xcalloc(LADDER_MAX, sizeof *sy);
    char lab[LADDER_MAX][48];
    Series ss[LADDER_MAX];
    for (int i = 0; i < S; i++) {
        for (int s = 0; s < g->n_steps[i]; s++) {
            double lo, hi;
            sx[i][s] = g->steps[i][s];
            ladder_grid_stats(g->curve[m][i][s], g->n_seeds, &sy[i][s], &lo, &hi);
        }
        snprintf(lab[i], sizeof lab[i], "%.3gk params", g->params[i] / 1e3);
        ss[i] = (Series){.label = lab[i], .x = sx[i], .y = sy[i], .n = g->n_steps[i],
                         .style = SERIES_MEAN, .color = report_size_color(i, S)};
    }
    Figure f = {.name = m ? "token_accuracy_vs_step" : "exact_match_vs_step",
                .title = m ? "Per-token accuracy during training" : "Exact match during training",
                .xlabel = "training step", .ylabel = m ? "per-token accuracy" : "exact match",
                .logx = 1, .ymin = 0, .ymax = 1, .series = ss, .n_series = S,
                .note = "Mean over seeds at log-spaced evaluation steps."};
    int rc = report_figure(r->fdir, &f);
    free(sx);
    free(sy);
    return rc;
}

// 7: predicted against observed exact match (Schaeffer et al.), one point per run and
// prediction: teacher forced, and the two greedy independence checks.
static int fig_predicted(const LadderReport *r) {
    const LadderGrid *g = r->g;
    enum { RUNS = LADDER_MAX * LADDER_MAX };
    double (*ox)[RUNS] = xcalloc(LS_NUM, sizeof *ox), (*py)[RUNS] = xcalloc(LS_NUM, sizeof *py);
    int no[LS_NUM] = {0};
    for (int s = 0; s < LS_NUM; s++)
        for (int i = 0; i < g->n_sizes; i++)
            for (int k = 0; k < g->n_seeds; k++) {
                double o = g->metric[LG_EM][i][k], v = g->metric[ladder_schaeffer_metric[s]][i][k];
                if (!isfinite(o) || !isfinite(v)) continue;
                ox[s][no[s]] = o;
                py[s][no[s]++] = v;
            }
    double diag[2] = {0, 1};
    char note[512];
    ladder_schaeffer_closest(r->p, note, sizeof note);
    const char *lab[LS_NUM] = {"teacher-forced p ^ L (Schaeffer et al.)",
                               "greedy hit rate ^ L", "product of per-position accuracies"};
    const unsigned col[LS_NUM] = {REPORT_RGB(0x0072B2), REPORT_RGB(0xD55E00),
                                  REPORT_RGB(0x009E73)};
    Series ps[LS_NUM + 1];
    for (int s = 0; s < LS_NUM; s++)
        ps[s] = (Series){.label = lab[s], .x = ox[s], .y = py[s], .n = no[s],
                         .style = SERIES_POINTS, .color = col[s]};
    ps[LS_NUM] = (Series){.label = "prediction = observation", .x = diag, .y = diag, .n = 2,
                          .style = SERIES_FIT, .color = REPORT_RGB(0x555555)};
    Figure f = {.name = "predicted_vs_observed",
                .title = "Exact match predicted from per-token quantities",
                .xlabel = "observed exact match", .ylabel = "predicted exact match",
                .ymin = 0, .ymax = 1, .series = ps, .n_series = LS_NUM + 1,
                .note = note};
    int rc = report_figure(r->fdir, &f);
    free(ox);
    free(py);
    return rc;
}

// 8: with a second axis, exact match (seed means) against size for each of its values.
static int fig_by_sweep(const LadderReport *r, const char *title) {
    const LadderAnalysis *a = r->a;
    char (*lab)[160] = xcalloc(LADDER_MAX, sizeof *lab);
    Series ss[LADDER_MAX];
    for (int v = 0; v < a->n_parts; v++) {
        const LadderPart *p = &a->part[v];
        snprintf(lab[v], sizeof lab[v], "%s = %g", p->sweep_name, p->sweep);
        ss[v] = (Series){.label = lab[v], .x = p->params, .y = p->metric[LG_EM].mean,
                         .n = p->n_sizes, .style = SERIES_MEAN,
                         .color = report_size_color(v, a->n_parts)};
    }
    Figure f = {.name = "exact_match_by_sweep", .title = title, .xlabel = "parameters",
                .ylabel = "exact match (mean over seeds)", .logx = 1, .ymin = 0, .ymax = 1,
                .series = ss, .n_series = a->n_parts};
    int rc = report_figure(r->fdir, &f);
    free(lab);
    return rc;
}

// ---- the page -----------------------------------------------------------------------------

static double fin(double v) { return isfinite(v) ? v : NAN; }

// Kaplan et al.'s conventions and the extrapolation check, in computed words.
static void kaplan_words(ReportHtml *h, const LadderPart *p) {
    const LadderFit *ne = &p->loss_nonemb;
    if (ne->st.state == LA_OK)
        html_p(h, "On the non-embedding parameter count (Kaplan et al.'s N: without the token "
                  "and position embeddings, %.0f%% of the smallest model), the loss fits "
                  "(N/%.3g)^-%.3f (standard error %.3f) with r2 %.2f%s; Kaplan et al. report "
                  "an exponent of 0.076 for language on web text.",
               100 * (1 - p->nonemb[0] / p->params[0]), ne->fit.Nc, ne->fit.alpha,
               fin(ne->fit.alpha_se), ne->fit.r2,
               ne->fit.converged ? "" : " (the fit did not converge: not a finding)");
    else if (ne->st.state == LA_FAILED)
        html_p(h, "The power law on non-embedding parameters could not be fitted: %s.",
               ne->st.error);
    char t[1024];
    ladder_budget_text(p, t, sizeof t);
    html_p(h, "%s", t);
    ladder_extrapolation_text(p, t, sizeof t);
    html_p(h, "%s", t);
}

// "What came out": the threshold, BIG-bench's measures, Schaeffer's errors, the loss fit.
static void page_summary(ReportHtml *h, const LadderReport *r) {
    const LadderPart *p = r->p;
    const LadderSpread *em = &p->metric[LG_EM];
    int S = p->n_sizes, last = S - 1;
    if (!p->task[0]) {  // no eval task: a ladder of losses (its section follows)
        html_p(h, "Ladder %s: %d sizes from %.0f to %.0f parameters, %d seeds each, no "
                  "evaluation task: the ladder measures losses. %d of %d runs finished.",
               r->dir, S, p->params[0], p->params[last], p->n_seeds, p->n_done, p->n_runs);
        return;
    }
    html_p(h, "Ladder %s: %d sizes from %.0f to %.0f parameters, %d seeds each, task %s. "
              "%d of %d runs finished.", r->dir, S, p->params[0], p->params[last], p->n_seeds,
           p->task, p->n_done, p->n_runs);
    html_h2(h, "What came out");
    html_p(h, "Exact match goes from %.3f (min-max %.3f-%.3f) at %.0f parameters to %.3f "
              "(%.3f-%.3f) at %.0f.", em->mean[0], em->min[0], em->max[0], p->params[0],
           em->mean[last], em->min[last], em->max[last], p->params[last]);
    char t[1536];
    ladder_threshold_text(p, t, sizeof t);
    html_p(h, "%s", t);
    html_p(h, "%s A higher breakthroughness (BIG-bench's) means a sharper jump (inf: a step, "
              "most steps flat); the lab's own linearity index (not BIG-bench's linearity) is 1 "
              "for a straight climb.", p->finding_text);
    char sw[2048];
    ladder_schaeffer_text(p, sw, sizeof sw);
    html_p(h, "%s", sw);
    const PowerFit *pf = &p->loss_params.fit;
    html_p(h, "The validation loss (on answer tokens) fits (N/%.3g)^-%.3f with r2 %.2f; a low "
              "r2 says the loss does not follow a power law in size over this range.",
           pf->Nc, pf->alpha, pf->r2);
    if (p->loss_params.st.state == LA_FAILED)
        html_p(h, "The power law could not be fitted: %s.", p->loss_params.st.error);
    kaplan_words(h, p);
    if (r->a->n_parts > 1)
        html_p(h, "The ladder sweeps %s beside size (%d values); the figures below show "
                  "%s = %g, and the last figure compares every value: if the jump moves with "
                  "%s, the threshold belongs to the recipe as much as to the model.",
               p->sweep_name, r->a->n_parts, p->sweep_name, p->sweep, p->sweep_name);
}

static void page_figures(ReportHtml *h, const LadderReport *r, const char *sweep_title) {
    html_h2(h, "Figures");
    if (!r->p->task[0]) {
        html_figure(h, "report/loss_vs_params.png", "Validation loss against size (all "
                    "parameters), with the fitted power law (dashed).");
        return;
    }
    html_figure(h, "report/exact_match_vs_params.png", "Exact match against model size. Thin "
                "lines: one seed each; bold: their mean; band: min-max over seeds.");
    char cap[1200];
    snprintf(cap, sizeof cap, "The same models under four metrics. %s", r->p->finding_text);
    html_figure(h, "report/mirage.png", cap);
    char bt[1024];
    ladder_budget_text(r->p, bt, sizeof bt);
    snprintf(cap, sizeof cap, "Exact match against training compute. %s", bt);
    html_figure(h, "report/exact_match_vs_flops.png", cap);
    html_figure(h, "report/loss_vs_params.png", "Validation loss on the answer tokens against "
                "size, with the fitted power law (dashed).");
    html_figure(h, "report/exact_match_vs_step.png", "Exact match during training, one line "
                "per size (mean over seeds, log-spaced evaluations).");
    html_figure(h, "report/token_accuracy_vs_step.png", "Per-token accuracy during training.");
    char sw[512];
    ladder_schaeffer_closest(r->p, sw, sizeof sw);
    snprintf(cap, sizeof cap, "Exact match predicted from per-token quantities, one point per "
             "run, each item raised to its own answer length L_i: Schaeffer et al.'s "
             "teacher-forced per-token probability p = exp(-CE) (blue), and two independence "
             "checks from greedy decoding, the hit rate to the power L_i (orange) and the "
             "product of per-position accuracies (green), against the observation. %s", sw);
    html_figure(h, "report/predicted_vs_observed.png", cap);
    if (r->a->n_parts > 1) html_figure(h, "report/exact_match_by_sweep.png", sweep_title);
}

static void fmt(char *b, size_t n, double v, const char *f) {
    if (isfinite(v)) snprintf(b, n, f, v);
    else snprintf(b, n, "-");
}

// "Numbers": one row per size, seed means.
static void page_numbers(ReportHtml *h, const LadderReport *r) {
    const LadderPart *p = r->p;
    int S = p->n_sizes;
    html_h2(h, "Numbers");
    const char *hdr[] = {"parameters", "layers x width", "training FLOPs", "val loss",
                         "exact match", "min-max", "per-token acc.", "edit dist.",
                         "log p(answer)", "tf p ^ L", "greedy pbar ^ L", "non-embedding params"};
    enum { NC = 12 };
    const int means[5] = {LG_TOK, LG_EDIT, LG_LOGP, LG_PRED_TF, LG_INDEP_POW};
    char (*cells)[48] = xcalloc((size_t)S * NC, 48);
    const char **cp = xcalloc((size_t)S * NC, sizeof(char *));
    for (int i = 0; i < S; i++) {
        char (*c)[48] = cells + (size_t)i * NC;
        const LadderSpread *em = &p->metric[LG_EM];
        snprintf(c[0], 48, "%.0f", p->params[i]);
        snprintf(c[1], 48, "%d x %d", r->g->layers[i], r->g->width[i]);
        snprintf(c[2], 48, "%.2e", p->flops[i]);
        fmt(c[3], 48, p->val_loss.mean[i], "%.4f");
        fmt(c[4], 48, em->mean[i], "%.3f");
        if (isfinite(em->min[i])) snprintf(c[5], 48, "%.3f-%.3f", em->min[i], em->max[i]);
        else snprintf(c[5], 48, "-");
        for (int j = 0; j < 5; j++) fmt(c[6 + j], 48, p->metric[means[j]].mean[i], "%.3f");
        fmt(c[11], 48, p->nonemb[i], "%.0f");
        for (int j = 0; j < NC; j++) cp[i * NC + j] = c[j];
    }
    html_table(h, hdr, NC, cp, S);
    free(cells);
    free(cp);
}

// "Where it ran": the machines of the runs, from the registry.
static int page_machines(ReportHtml *h, const char *dir) {
    html_h2(h, "Where it ran");
    char rp[1300];
    snprintf(rp, sizeof rp, "%s/registry.sqlite", dir);
    Registry *reg = NULL;
    RegMachine *mach = NULL;
    int nm = 0, rc = 0;
    if (reg_open(&reg, rp) || reg_list_machines(reg, &mach, &nm)) rc = -1;
    reg_close(reg);
    if (nm == 0)
        html_p(h, "The registry records no machine for these runs (made before machines "
                  "were recorded).");
    for (int i = 0; i < nm; i++)
        html_p(h, "%d run%s on: %s", mach[i].runs, mach[i].runs == 1 ? "" : "s",
               mach[i].machine);
    if (nm > 1)
        html_p(h, "The runs were made on %d different machine configurations: two runs "
                  "of the same point are bit-identical only with the same CPU kind, build, "
                  "BLAS kernel and thread count, so differences between these may come "
                  "from the machines as well as from the seeds.", nm);
    else if (nm == 1)
        html_p(h, "Every run was made on this one configuration: the same spec run again on "
                  "it reproduces these numbers bit for bit.");
    free(mach);
    return rc;
}

// ---- the report ---------------------------------------------------------------------------

static int draw(const LadderReport *r) {
    char sweep_title[256] = "";
    int rc = 0, evals = r->p->task[0] != 0;  // no eval task: losses only
    if (evals) {
        rc |= fig_exact_match(r, 0);
        rc |= fig_exact_match(r, 1);
        rc |= fig_mirage(r);
        rc |= fig_training(r, 0);
        rc |= fig_training(r, 1);
        rc |= fig_predicted(r);
    }
    rc |= fig_loss(r);
    if (evals && r->a->n_parts > 1) {
        snprintf(sweep_title, sizeof sweep_title, "Exact match against size, for each %s",
                 r->a->sweep_name);
        if (!rc) rc |= fig_by_sweep(r, sweep_title);
    }
    ReportHtml *h = html_begin("emergent: ladder report");
    page_summary(h, r);
    page_figures(h, r, sweep_title);
    if (!rc) rc |= report_experiments(r->dir, r->fdir, r->a, h);
    rc |= report_overtime(h, r->dir, r->fdir);
    if (evals) {
        page_numbers(h, r);
        rp_ladder_schaeffer(h, r->p);
    }
    rc |= page_machines(h, r->dir);
    html_p(h, "Every number: analysis.json, registry.sqlite (runs.csv, evaluations.csv, "
              "registry.json) in %s. The figures are PNG and SVG in report/, each with the "
              "gnuplot script (.gp) and data (.dat) that drew it.", r->dir);
    char hpath[1300];
    snprintf(hpath, sizeof hpath, "%s/report.html", r->dir);
    int hrc = html_end(h, hpath);
    return rc || hrc ? -1 : 0;
}

int report_ladder(const char *dir) {
    if (!report_gnuplot_available())
        return em_error("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
    LadderAnalysis *a = xcalloc(1, sizeof *a);
    LadderGrid *g = xcalloc(1, sizeof *g);
    LadderReport r = {.dir = dir, .a = a, .p = &a->part[0], .g = g};
    snprintf(r.fdir, sizeof r.fdir, "%s/report", dir);
    int rc = ladder_analyze(dir, a);
    if (!rc) rc = ladder_load_grid(dir, a->sweep_name[0] ? a->part[0].sweep : NAN, g);
    if (!rc) rc = make_dir(r.fdir);
    if (!rc) rc = draw(&r);
    free(g);
    free(a);
    return rc;
}
