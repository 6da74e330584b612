// The ladder report's section on emergence over training time (ladder/overtime.h): figures
// over steps (per seed, mean, band) and what came out, in words computed from the numbers.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ladder/overtime.h"
#include "report/report.h"

enum { OQ_TEST_ACC, OQ_TRAIN_ACC, OQ_TEST_LOSS, OQ_WEIGHT, OQ_FOURIER, OQ_NUM };
static const char *const oq_name[OQ_NUM] = {"test_acc_vs_step", "train_acc_vs_step",
                                            "test_loss_vs_step", "weight_norm_vs_step",
                                            "fourier_share_vs_step"};
static const char *const oq_title[OQ_NUM] = {
    "Test accuracy during training", "Train accuracy during training",
    "Test loss (answer cross-entropy) during training", "Total weight norm during training",
    "Fourier share of the residue embedding during training"};
static const char *const oq_ylabel[OQ_NUM] = {
    "exact match, test split", "exact match, train split", "answer cross-entropy, test (nats)",
    "sum of squared parameters", "share of power in the top-k frequencies"};

static const double *series_of(const OtRun *r, int q) {
    switch (q) {
    case OQ_TEST_ACC: return r->test_acc;
    case OQ_TRAIN_ACC: return r->train_acc;
    case OQ_TEST_LOSS: return r->test_loss;
    case OQ_WEIGHT: return r->weight_sq;
    default: return r->fourier;
    }
}

// One figure: for each part, its seeds (thin), their mean (bold) and min-max band.
static int figure(const char *fdir, const OtAnalysis *a, int q) {
    int cap = 0;
    for (int k = 0; k < a->n_parts; k++) cap += a->part[k].n_runs + 1;
    Series *s = xcalloc((size_t)cap, sizeof *s);
    double **bufs = xcalloc((size_t)a->n_parts, sizeof *bufs);
    char (*labels)[160] = xcalloc((size_t)a->n_parts, sizeof *labels);
    int ns = 0;
    for (int k = 0; k < a->n_parts; k++) {
        const OtPart *p = &a->part[k];
        if (p->n_runs == 0) continue;
        uint32_t col = report_color(k);
        int n = p->run[0].n;
        for (int i = 1; i < p->n_runs; i++) if (p->run[i].n < n) n = p->run[i].n;
        for (int i = 0; i < p->n_runs; i++) {
            const OtRun *r = &p->run[i];
            s[ns++] = (Series){.x = NULL, .y = series_of(r, q), .n = r->n, .style = SERIES_SEED,
                               .color = col};
            double *x = xmalloc((size_t)r->n * sizeof(double));
            for (int j = 0; j < r->n; j++) x[j] = r->step[j];
            s[ns - 1].x = x;
        }
        // mean and band over seeds at the steps every seed measured
        double *b = bufs[k] = xmalloc((size_t)(n > 0 ? n : 1) * 4 * sizeof(double));
        double *x = b, *mean = b + n, *lo = b + 2 * n, *hi = b + 3 * n;
        int m = 0;
        for (int j = 0; j < n; j++) {
            int st = p->run[0].step[j], ok = 1, c = 0;
            double sum = 0, mn = INFINITY, mx = -INFINITY;
            for (int i = 0; i < p->n_runs; i++) {
                double v = series_of(&p->run[i], q)[j];
                ok &= p->run[i].step[j] == st;
                if (!isfinite(v)) continue;
                sum += v; c++;
                if (v < mn) mn = v;
                if (v > mx) mx = v;
            }
            if (!ok || !c) continue;
            x[m] = st; mean[m] = sum / c; lo[m] = mn; hi[m] = mx;
            m++;
        }
        if (isfinite(p->sweep))
            snprintf(labels[k], sizeof labels[k], "%s %g, mean of %d seeds", a->sweep_name, p->sweep,
                     p->n_runs);
        else
            snprintf(labels[k], sizeof labels[k], "mean of %d seeds", p->n_runs);
        s[ns++] = (Series){.label = labels[k], .x = x, .y = mean, .n = m, .style = SERIES_MEAN,
                           .ylo = lo, .yhi = hi, .color = col};
    }
    const char *title = oq_title[q];
    char ylabel[128];
    if (q == OQ_FOURIER) snprintf(ylabel, sizeof ylabel, "share of power in the top %d frequencies", a->fourier_k);
    else snprintf(ylabel, sizeof ylabel, "%s", oq_ylabel[q]);
    Figure f = {.name = oq_name[q], .title = title, .xlabel = "training step", .ylabel = ylabel,
                .logy = q == OQ_TEST_LOSS, .ymin = NAN, .ymax = NAN, .series = s, .n_series = ns};
    if (q == OQ_TEST_ACC || q == OQ_TRAIN_ACC) { f.ymin = 0; f.ymax = 1; }
    int rc = report_figure(fdir, &f);
    for (int i = 0; i < ns; i++) if (s[i].style == SERIES_SEED) free((void *)s[i].x);
    for (int k = 0; k < a->n_parts; k++) free(bufs[k]);
    free(bufs);
    free(labels);
    free(s);
    return rc;
}

int report_overtime(ReportHtml *h, const char *dir, const char *fdir) {
    OtAnalysis *a = xcalloc(1, sizeof *a);
    int rc = ladder_overtime(dir, a);
    if (rc) { free(a); return rc > 0 ? 0 : -1; }  // no dense measurements: no section
    for (int q = 0; q < OQ_NUM && !rc; q++) rc = figure(fdir, a, q);
    html_h2(h, "Emergence over training time");
    html_p(h, "Dense evaluation during training: exact match and answer cross-entropy on the "
              "train and the test split of the training task, the total weight norm (sum of "
              "squares of every parameter) and the share of the Fourier power (DFT over the "
              "residues, per embedding dimension, summed) of the residues' embedding rows in "
              "their top %d frequencies. The head is tied: the embedding is the unembedding, so "
              "one share stands for both.", a->fourier_k);
    for (int k = 0; k < a->n_parts; k++) html_p(h, "%s", a->part[k].text);
    html_p(h, "A measure's step: the test loss when it has made 10%% of its fall (from its peak to "
              "its minimum), the Fourier share when it has made 10%% of its rise (from its low to "
              "its maximum), the weight norm at its minimum; its lead is the step of test "
              "accuracy 0.5 minus that step. Every number: overtime.json.");
    static const char *const caps[OQ_NUM] = {
        "Test accuracy (exact match) over training steps. Thin lines: one seed each; bold: "
        "their mean; band: min-max over seeds.",
        "Train accuracy over training steps (memorisation).",
        "Test loss over training steps (log scale).",
        "Total weight norm (sum of squares) over training steps.",
        "Fourier share of the residues' embedding (= unembedding, tied head) over training steps."};
    for (int q = 0; q < OQ_NUM; q++) {
        char png[128];
        snprintf(png, sizeof png, "report/%s.png", oq_name[q]);
        html_figure(h, png, caps[q]);
    }
    ladder_overtime_free(a);
    free(a);
    return rc;
}
