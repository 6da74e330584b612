// report/ladder_schaeffer: the ladder report's section on Schaeffer et al.'s predictions of
// exact match, per size with intervals, and the calibration error beside them.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report_impl.h"

// "0.123 [0.100, 0.150]": a seed mean and its interval (the union over seeds of the runs'
// item intervals), "-" where there is no mean.
static void cell(char *b, size_t n, const LadderPart *p, int m, int i) {
    double v = p->metric[m].mean[i], lo = p->ci_lo[m][i], hi = p->ci_hi[m][i];
    if (!isfinite(v)) snprintf(b, n, "-");
    else if (isfinite(lo) && isfinite(hi)) snprintf(b, n, "%.3f [%.3f, %.3f]", v, lo, hi);
    else snprintf(b, n, "%.3f", v);
}

// Whether the intervals of metrics a and b at size i are disjoint (both must have one).
static int apart(const LadderPart *p, int a, int b, int i) {
    double la = p->ci_lo[a][i], ha = p->ci_hi[a][i], lb = p->ci_lo[b][i], hb = p->ci_hi[b][i];
    if (!(isfinite(la) && isfinite(ha) && isfinite(lb) && isfinite(hb))) return -1;
    return ha < lb || hb < la;
}

void rp_ladder_schaeffer(ReportHtml *h, const LadderPart *p) {
    int S = p->n_sizes;
    html_h2(h, "Exact match predicted from per-token quantities");
    html_p(h, "Schaeffer et al. (2023) predict exact match from the per-token probability of the "
              "target under teacher forcing, p = exp(-CE): an item of L tokens is right with "
              "p^L if its tokens are right independently. Each item is raised to its own answer "
              "length L_i (answers of one task need not have one length), and the prediction is "
              "the mean over items. It predicts sampling at temperature 1; the exact match "
              "measured here is greedy. The independence checks use greedy decoding's "
              "per-token hit rate (to the power L_i) and its per-position accuracies "
              "(multiplied over each item's positions). Intervals: each run's 95%% item "
              "bootstrap, joined over seeds.");
    const int cols[7] = {LG_EM, LG_TF_P, LG_PRED_TF, LG_INDEP_POW, LG_INDEP_PROD,
                         LG_TARGET_PROB, LG_ECE};
    const char *hdr[8] = {"parameters", "exact match", "p = exp(-CE)", "mean p ^ L_i",
                          "greedy pbar ^ L_i", "prod of position acc.", "p(answer)",
                          "calibration error"};
    char (*cells)[64] = xcalloc((size_t)(S > 0 ? S : 1) * 8, 64);
    const char **cp = xcalloc((size_t)(S > 0 ? S : 1) * 8, sizeof(char *));
    int n_apart = 0, n_both = 0;
    char where[512] = "";
    for (int i = 0; i < S; i++) {
        char (*c)[64] = cells + (size_t)i * 8;
        snprintf(c[0], 64, "%.0f", p->params[i]);
        for (int j = 0; j < 7; j++) cell(c[1 + j], 64, p, cols[j], i);
        for (int j = 0; j < 8; j++) cp[i * 8 + j] = c[j];
        int a = apart(p, LG_PRED_TF, LG_EM, i);
        if (a < 0) continue;
        n_both++;
        if (a) {
            size_t l = strlen(where);
            snprintf(where + l, sizeof where - l, "%s%.3g", n_apart ? ", " : "", p->params[i]);
            n_apart++;
        }
    }
    html_table(h, hdr, 8, cp, S);
    free(cells);
    free(cp);
    if (n_both == 0)
        html_p(h, "No size has intervals on both the observed and the teacher-forced predicted "
                  "exact match.");
    else if (n_apart == 0)
        html_p(h, "At every one of the %d sizes with both intervals, the intervals of the "
                  "observed and the teacher-forced predicted exact match overlap.", n_both);
    else
        html_p(h, "The intervals of the observed and the teacher-forced predicted exact match "
                  "are apart at %d of %d sizes (at %s parameters): there the prediction misses "
                  "by more than the items' sampling error.", n_apart, n_both, where);
    const LadderSpread *e = &p->metric[LG_ECE];
    if (S >= 1 && isfinite(e->mean[0]) && isfinite(e->mean[S - 1])) {
        char a[64], b[64];
        cell(a, sizeof a, p, LG_ECE, 0);
        cell(b, sizeof b, p, LG_ECE, S - 1);
        double lo0 = p->ci_lo[LG_ECE][0], hi0 = p->ci_hi[LG_ECE][0];
        double lo1 = p->ci_lo[LG_ECE][S - 1], hi1 = p->ci_hi[LG_ECE][S - 1];
        const char *how = "";
        if (S > 1 && isfinite(lo0) && isfinite(hi1) && isfinite(lo1) && isfinite(hi0))
            how = hi1 < lo0 ? ": better calibrated at the largest size, the intervals apart"
                : lo1 > hi0 ? ": worse calibrated at the largest size, the intervals apart"
                            : ": the intervals overlap, no clear change";
        html_p(h, "The expected calibration error (10 bins, the probability of the model's own "
                  "answer against whether it is right) is %s at %.0f parameters and %s at %.0f%s.",
               a, p->params[0], b, p->params[S - 1], how);
    }
}
