// `emergent ladder report`: the figures of a ladder (gnuplot, PNG and SVG) and report.html.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ladder/analysis.h"
#include "ladder/ladder.h"
#include "ladder/registry.h"
#include "report/report.h"

void grid_stats(const double *v, int n, double *mean, double *lo, double *hi);  // analyze.c

// Per-seed lines, the seed mean in bold and a min-max band, of metric m against x.
typedef struct {
    double y[LADDER_MAX][LADDER_MAX];  // [seed][size]
    double mean[LADDER_MAX], lo[LADDER_MAX], hi[LADDER_MAX];
    Series s[LADDER_MAX + 1];
    char labels[LADDER_MAX][32];
} SeedLines;

static int seed_lines(const LadderGrid *g, double (*v)[LADDER_MAX], const double *x,
                      SeedLines *sl) {
    int S = g->n_sizes, K = g->n_seeds, n = 0;
    for (int i = 0; i < S; i++) grid_stats(v[i], K, &sl->mean[i], &sl->lo[i], &sl->hi[i]);
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < S; i++) sl->y[k][i] = v[i][k];
        snprintf(sl->labels[k], sizeof sl->labels[k], "seed %d", g->seeds[k]);
        sl->s[n++] = (Series){.label = k == 0 ? "one seed" : NULL, .x = x, .y = sl->y[k], .n = S,
                              .style = SERIES_SEED, .color = REPORT_RGB(0x0072B2)};
    }
    sl->s[n++] = (Series){.label = "mean over seeds (band: min-max)", .x = x, .y = sl->mean,
                          .n = S, .style = SERIES_MEAN, .ylo = sl->lo, .yhi = sl->hi,
                          .color = REPORT_RGB(0x0072B2)};
    return n;
}

static void fmt(char *b, size_t n, double v, const char *f) {
    if (isfinite(v)) snprintf(b, n, f, v);
    else snprintf(b, n, "-");
}

int ladder_report(const char *dir) {
    if (!report_gnuplot_available())
        return em_error("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
    if (ladder_analyze(dir, 1)) return -1;
    LadderGrid *g = xcalloc(1, sizeof *g);
    double sv[LADDER_MAX];
    int nsv = 0;
    // with a second axis, the main figures show its first value; a figure compares them all
    if (ladder_sweep_values(dir, sv, LADDER_MAX, &nsv) || ladder_load_grid(dir, nsv ? sv[0] : NAN, g)) {
        free(g);
        return -1;
    }
    char fdir[1200];
    snprintf(fdir, sizeof fdir, "%s/report", dir);
    if (make_dir(fdir)) { free(g); return -1; }
    int S = g->n_sizes, K = g->n_seeds, rc = 0;
    SeedLines *sl = xcalloc(6, sizeof *sl);

    // 1, 2: exact match against parameters and against FLOPs
    int n = seed_lines(g, g->metric[LG_EM], g->params, &sl[0]);
    Figure em_p = {.name = "exact_match_vs_params", .title = "Exact match against model size",
                   .xlabel = "parameters", .ylabel = "exact match (fraction of test items)",
                   .logx = 1, .ymin = 0, .ymax = 1, .series = sl[0].s, .n_series = n,
                   .note = "Thin lines: one seed each; bold: their mean; band: min-max over seeds."};
    rc |= report_figure(fdir, &em_p);
    n = seed_lines(g, g->metric[LG_EM], g->flops, &sl[1]);
    Figure em_f = em_p;
    em_f.name = "exact_match_vs_flops";
    em_f.title = "Exact match against training compute";
    em_f.xlabel = "training FLOPs";
    em_f.series = sl[1].s;
    rc |= report_figure(fdir, &em_f);

    // 3: the "mirage" side by side: the same models under four metrics
    Figure pan[4];
    const int mets[4] = {LG_EM, LG_TOK, LG_EDIT, LG_LOGP};
    const char *ttl[4] = {"exact match", "per-token (per-digit) accuracy",
                          "edit distance (normalised)", "target log-probability"};
    const char *yl[4] = {"exact match", "accuracy per answer token", "edits / answer length",
                         "log p(answer), nats"};
    for (int j = 0; j < 4; j++) {
        n = seed_lines(g, g->metric[mets[j]], g->params, &sl[2 + j]);
        pan[j] = (Figure){.title = ttl[j], .xlabel = "parameters", .ylabel = yl[j], .logx = 1,
                          .ymin = NAN, .ymax = NAN, .series = sl[2 + j].s, .n_series = n};
        if (j < 2) { pan[j].ymin = 0; pan[j].ymax = 1; }
    }
    rc |= report_panels(fdir, "mirage", "The same models under four metrics", pan, 4, 2,
                        "Exact match jumps where per-token accuracy, edit distance and "
                        "log-probability move more gradually: the metric shapes the curve.");

    // 4: the loss power law
    double lx[LADDER_MAX * LADDER_MAX], ly[LADDER_MAX * LADDER_MAX], fx[64], fy[64];
    int nl = 0;
    for (int i = 0; i < S; i++)
        for (int k = 0; k < K; k++)
            if (isfinite(g->val_loss[i][k]) && g->val_loss[i][k] > 0) {
                lx[nl] = g->params[i]; ly[nl++] = g->val_loss[i][k];
            }
    PowerFit pf = {0};
    int nf = 0;
    if (nl >= 3 && fit_power_law(lx, ly, nl, 0, &pf) == 0) {
        for (int j = 0; j < 64; j++) {
            fx[j] = g->params[0] * pow(g->params[S - 1] / g->params[0], j / 63.0);
            fy[j] = power_predict(&pf, fx[j]);
        }
        nf = 64;
    }
    em_clear_error();
    char fitlabel[96];
    snprintf(fitlabel, sizeof fitlabel, "fit (N/%.3g)^-%.3f, r2 %.2f", pf.Nc, pf.alpha, pf.r2);
    Series ls[2] = {{.label = "one run (size, seed)", .x = lx, .y = ly, .n = nl, .style = SERIES_POINTS},
                    {.label = fitlabel, .x = fx, .y = fy, .n = nf, .style = SERIES_FIT}};
    Figure lf = {.name = "loss_vs_params", .title = "Validation loss (answer tokens) against size",
                 .xlabel = "parameters", .ylabel = "validation loss, nats per answer token",
                 .logx = 1, .logy = 1, .ymin = NAN, .ymax = NAN, .series = ls,
                 .n_series = nf ? 2 : 1,
                 .note = "A power law L = (N/Nc)^-alpha fitted by nonlinear least squares."};
    rc |= report_figure(fdir, &lf);

    // 5, 6: exact match and per-token accuracy over training, one line per size
    for (int m = 0; m < 2; m++) {
        static double sx[LADDER_MAX][LG_MAX_STEPS], sy[LADDER_MAX][LG_MAX_STEPS];
        static char lab[LADDER_MAX][48];
        Series ss[LADDER_MAX];
        for (int i = 0; i < S; i++) {
            for (int s = 0; s < g->n_steps[i]; s++) {
                double lo, hi;
                sx[i][s] = g->steps[i][s];
                grid_stats(g->curve[m][i][s], K, &sy[i][s], &lo, &hi);
            }
            snprintf(lab[i], sizeof lab[i], "%.3gk params", g->params[i] / 1e3);
            ss[i] = (Series){.label = lab[i], .x = sx[i], .y = sy[i], .n = g->n_steps[i],
                             .style = SERIES_MEAN, .color = report_size_color(i, S)};
        }
        Figure tf = {.name = m ? "token_accuracy_vs_step" : "exact_match_vs_step",
                     .title = m ? "Per-token accuracy during training" : "Exact match during training",
                     .xlabel = "training step", .ylabel = m ? "per-token accuracy" : "exact match",
                     .logx = 1, .ymin = 0, .ymax = 1, .series = ss, .n_series = S,
                     .note = "Mean over seeds at log-spaced evaluation steps."};
        rc |= report_figure(fdir, &tf);
    }

    // 7: predicted against observed exact match (Schaeffer et al.)
    double ox[LADDER_MAX * LADDER_MAX], pw[LADDER_MAX * LADDER_MAX], pp[LADDER_MAX * LADDER_MAX];
    int no = 0;
    for (int i = 0; i < S; i++)
        for (int k = 0; k < K; k++)
            if (isfinite(g->metric[LG_EM][i][k]) && isfinite(g->metric[LG_PRED_POW][i][k])) {
                ox[no] = g->metric[LG_EM][i][k];
                pw[no] = g->metric[LG_PRED_POW][i][k];
                pp[no++] = g->metric[LG_PRED_PROD][i][k];
            }
    double diag[2] = {0, 1};
    Series ps[3] = {
        {.label = "mean accuracy ^ answer length", .x = ox, .y = pw, .n = no, .style = SERIES_POINTS, .color = REPORT_RGB(0xD55E00)},
        {.label = "product of per-position accuracies", .x = ox, .y = pp, .n = no, .style = SERIES_POINTS, .color = REPORT_RGB(0x009E73)},
        {.label = "prediction = observation", .x = diag, .y = diag, .n = 2, .style = SERIES_FIT, .color = REPORT_RGB(0x555555)}};
    Figure pf7 = {.name = "predicted_vs_observed", .title = "Exact match predicted from per-token accuracy",
                  .xlabel = "observed exact match", .ylabel = "predicted exact match",
                  .ymin = 0, .ymax = 1, .series = ps, .n_series = 3,
                  .note = "One point per run. Errors sit at particular positions, so the mean "
                          "accuracy to the power L misses; the product of per-position accuracies does not."};
    rc |= report_figure(fdir, &pf7);

    // 8: with a second axis, exact match against size for each of its values
    static double swy[LADDER_MAX][LADDER_MAX], swx[LADDER_MAX][LADDER_MAX];
    static char swl[LADDER_MAX][160];
    Series sws[LADDER_MAX];
    char swtitle[256] = "";
    if (nsv > 1) {
        LadderGrid *h2 = xcalloc(1, sizeof *h2);
        for (int v = 0; v < nsv && !rc; v++) {
            if (ladder_load_grid(dir, sv[v], h2)) { rc = -1; break; }
            for (int i = 0; i < h2->n_sizes; i++) {
                double lo, hi;
                swx[v][i] = h2->params[i];
                grid_stats(h2->metric[LG_EM][i], h2->n_seeds, &swy[v][i], &lo, &hi);
            }
            snprintf(swl[v], sizeof swl[v], "%s = %g", h2->sweep_name, sv[v]);
            sws[v] = (Series){.label = swl[v], .x = swx[v], .y = swy[v], .n = h2->n_sizes,
                              .style = SERIES_MEAN, .color = report_size_color(v, nsv)};
        }
        snprintf(swtitle, sizeof swtitle, "Exact match against size, for each %s", g->sweep_name);
        Figure swf = {.name = "exact_match_by_sweep", .title = swtitle, .xlabel = "parameters",
                      .ylabel = "exact match (mean over seeds)", .logx = 1, .ymin = 0, .ymax = 1,
                      .series = sws, .n_series = nsv};
        if (!rc) rc |= report_figure(fdir, &swf);
        free(h2);
    }

    // the page
    char apath[1300];
    snprintf(apath, sizeof apath, "%s/analysis.json", dir);
    char *atext = read_file(apath, NULL);
    cJSON *a = atext ? cJSON_Parse(atext) : NULL;
    free(atext);
    const cJSON *bys = cJSON_GetObjectItemCaseSensitive(a, "by_sweep");
    const cJSON *am = bys ? cJSON_GetArrayItem(bys, 0) : a;  // the figures' sweep value
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(am, "threshold");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(am, "schaeffer");
    double thp = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(th, "params"));
    double thlo = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(th, "ci95_lo"));
    double thhi = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(th, "ci95_hi"));
    double epw = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sc, "mean_abs_error_pow"));
    double epr = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sc, "mean_abs_error_prod"));
    double mpw = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sc, "max_abs_error_pow"));
    double mpr = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sc, "max_abs_error_prod"));
    const cJSON *emj = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(am, "metrics"), "exact_match");
    const cJSON *tkj = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(am, "metrics"), "token_accuracy");
    double bem = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(emj, "breakthroughness"));
    double btk = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(tkj, "breakthroughness"));
    double lem = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(emj, "linearity_norm"));
    double ltk = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(tkj, "linearity_norm"));

    ReportHtml *h = html_begin("emergent: ladder report");
    html_p(h, "Ladder %s: %d sizes from %.0f to %.0f parameters, %d seeds each, task %s. "
              "%d of %d runs finished.", dir, S, g->params[0], g->params[S - 1], K, g->task,
           g->n_done, g->n_runs);
    html_h2(h, "What came out");
    double em0, emN, l0, h0, lN, hN;
    grid_stats(g->metric[LG_EM][0], K, &em0, &l0, &h0);
    grid_stats(g->metric[LG_EM][S - 1], K, &emN, &lN, &hN);
    html_p(h, "Exact match goes from %.3f (min-max %.3f-%.3f) at %.0f parameters to %.3f "
              "(%.3f-%.3f) at %.0f. It crosses half its maximum at about %.3g parameters "
              "(95%% bootstrap interval over seeds: %.3g to %.3g).", em0, l0, h0, g->params[0],
           emN, lN, hN, g->params[S - 1], thp, thlo, thhi);
    html_p(h, "BIG-bench's measures over size: exact match has breakthroughness %.2f and "
              "normalised linearity %.2f; per-token accuracy %.2f and %.2f. A higher "
              "breakthroughness means a sharper jump; linearity 1 is a straight climb.",
           bem, lem, btk, ltk);
    html_p(h, "Schaeffer et al.'s prediction of exact match from the mean per-token accuracy "
              "p as p^L is off by %.3f on average (at most %.3f); the product of the "
              "per-position accuracies is off by %.3f (at most %.3f). Where the two differ, "
              "the errors sit at particular answer positions rather than spread evenly.",
           epw, mpw, epr, mpr);
    html_p(h, "The validation loss (on answer tokens) fits (N/%.3g)^-%.3f with r2 %.2f; a low "
              "r2 says the loss does not follow a power law in size over this range.",
           pf.Nc, pf.alpha, pf.r2);
    cJSON_Delete(a);
    if (nsv > 1)
        html_p(h, "The ladder sweeps %s beside size (%d values); the figures below show "
                  "%s = %g, and the last figure compares every value: if the jump moves with "
                  "%s, the threshold belongs to the recipe as much as to the model.",
               g->sweep_name, nsv, g->sweep_name, sv[0], g->sweep_name);
    html_h2(h, "Figures");
    html_figure(h, "report/exact_match_vs_params.png", "Exact match against model size. Thin "
                "lines: one seed each; bold: their mean; band: min-max over seeds.");
    html_figure(h, "report/mirage.png", "The same models under four metrics: exact match "
                "jumps where per-token accuracy, edit distance and log-probability move more "
                "gradually (Schaeffer et al.'s \"mirage\").");
    html_figure(h, "report/exact_match_vs_flops.png", "Exact match against training compute.");
    html_figure(h, "report/loss_vs_params.png", "Validation loss on the answer tokens against "
                "size, with the fitted power law (dashed).");
    html_figure(h, "report/exact_match_vs_step.png", "Exact match during training, one line "
                "per size (mean over seeds, log-spaced evaluations).");
    html_figure(h, "report/token_accuracy_vs_step.png", "Per-token accuracy during training.");
    html_figure(h, "report/predicted_vs_observed.png", "Exact match predicted from per-token "
                "accuracy, one point per run: the mean accuracy to the power L (orange) and "
                "the product of per-position accuracies (green), against the observation.");
    if (nsv > 1) html_figure(h, "report/exact_match_by_sweep.png", swtitle);
    html_h2(h, "Numbers");
    const char *hdr[] = {"parameters", "layers x width", "training FLOPs", "val loss",
                         "exact match", "min-max", "per-token acc.", "edit dist.",
                         "log p(answer)", "prod p_i", "mean p ^ L"};
    char (*cells)[48] = xcalloc((size_t)S * 11, 48);
    const char **cp = xcalloc((size_t)S * 11, sizeof(char *));
    for (int i = 0; i < S; i++) {
        char (*c)[48] = cells + (size_t)i * 11;
        double m, lo, hi, m2, lo2, hi2;
        snprintf(c[0], 48, "%.0f", g->params[i]);
        snprintf(c[1], 48, "%d x %d", g->layers[i], g->width[i]);
        snprintf(c[2], 48, "%.2e", g->flops[i]);
        grid_stats(g->val_loss[i], K, &m, &lo, &hi); fmt(c[3], 48, m, "%.4f");
        grid_stats(g->metric[LG_EM][i], K, &m, &lo, &hi); fmt(c[4], 48, m, "%.3f");
        if (isfinite(lo)) snprintf(c[5], 48, "%.3f-%.3f", lo, hi); else snprintf(c[5], 48, "-");
        grid_stats(g->metric[LG_TOK][i], K, &m2, &lo2, &hi2); fmt(c[6], 48, m2, "%.3f");
        grid_stats(g->metric[LG_EDIT][i], K, &m2, &lo2, &hi2); fmt(c[7], 48, m2, "%.3f");
        grid_stats(g->metric[LG_LOGP][i], K, &m2, &lo2, &hi2); fmt(c[8], 48, m2, "%.3f");
        grid_stats(g->metric[LG_PRED_PROD][i], K, &m2, &lo2, &hi2); fmt(c[9], 48, m2, "%.3f");
        grid_stats(g->metric[LG_PRED_POW][i], K, &m2, &lo2, &hi2); fmt(c[10], 48, m2, "%.3f");
        for (int j = 0; j < 11; j++) cp[i * 11 + j] = c[j];
    }
    html_table(h, hdr, 11, cp, S);
    html_h2(h, "Where it ran");
    {
        char rp[1300];
        snprintf(rp, sizeof rp, "%s/registry.sqlite", dir);
        Registry *reg = NULL;
        char **mach = NULL;
        int *mc = NULL, nm = 0;
        if (reg_open(&reg, rp) || reg_list_machines(reg, &mach, &mc, &nm)) rc = -1;
        reg_close(reg);
        if (nm == 0)
            html_p(h, "The registry records no machine for these runs (made before machines "
                      "were recorded).");
        for (int i = 0; i < nm; i++) html_p(h, "%d run%s on: %s", mc[i], mc[i] == 1 ? "" : "s", mach[i]);
        if (nm > 1)
            html_p(h, "The runs were made on %d different machine configurations: two runs "
                      "of the same point are bit-identical only with the same CPU kind, build, "
                      "BLAS kernel and thread count, so differences between these may come "
                      "from the machines as well as from the seeds.", nm);
        else if (nm == 1)
            html_p(h, "Every run was made on this one configuration: the same spec run again on "
                      "it reproduces these numbers bit for bit.");
        reg_free_strings(mach, nm);
        free(mc);
    }
    html_p(h, "Every number: analysis.json, registry.sqlite (runs.csv, evaluations.csv, "
              "registry.json) in %s. The figures are PNG and SVG in report/, each with the "
              "gnuplot script (.gp) and data (.dat) that drew it.", dir);
    char hpath[1300];
    snprintf(hpath, sizeof hpath, "%s/report.html", dir);
    int hrc = html_end(h, hpath);
    free(cells);
    free(cp);
    free(sl);
    free(g);
    if (rc || hrc) return -1;
    printf("report: %s (figures in %s)\n", hpath, fdir);
    return 0;
}
