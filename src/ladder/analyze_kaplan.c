// ladder/analyze_kaplan: Kaplan et al.'s (2020) conventions beside the lab's: the loss law on
// the non-embedding parameter count, and what the training budget makes of the loss against
// FLOPs; and the extrapolation check in words.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "ladder/ladder.h"

void ladder_analyze_kaplan(const LadderGrid *g, LadderPart *p) {
    int S = g->n_sizes, K = g->n_seeds, n = 0;
    double x[LADDER_MAX * LADDER_MAX], y[LADDER_MAX * LADDER_MAX];
    for (int i = 0; i < S; i++) {
        // gpt_num_params without the embeddings: V = 0 (wte, and the tied head) and maxT = 0
        GPTConfig c = {.n_layer = g->layers[i], .n_head = g->heads[i], .n_embd = g->width[i]};
        p->nonemb[i] = c.n_layer > 0 && c.n_embd > 0 ? (double)gpt_num_params(&c) : NAN;
        for (int k = 0; k < K && isfinite(p->nonemb[i]); k++)
            if (isfinite(g->val_loss[i][k]) && g->val_loss[i][k] > 0) {
                x[n] = p->nonemb[i];
                y[n++] = g->val_loss[i][k];
            }
    }
    memset(&p->loss_nonemb, 0, sizeof p->loss_nonemb);
    if (n >= 3) {
        int rc = ladder_fit_power_law(x, y, n, 0, &p->loss_nonemb.fit);
        p->loss_nonemb.st.state = rc == 0 ? LA_OK : LA_FAILED;
        if (rc) snprintf(p->loss_nonemb.st.error, sizeof p->loss_nonemb.st.error, "%s",
                         em_errmsg());
        em_clear_error();
    }
    // the budget: the same steps everywhere, or the same tokens per parameter
    int same = S > 0, known = S > 0;
    double rmin = INFINITY, rmax = 0, rsum = 0;
    for (int i = 0; i < S; i++) {
        if (g->train_steps[i] <= 0 || !(g->train_tokens[i] > 0) || !(g->params[i] > 0)) known = 0;
        if (g->train_steps[i] != g->train_steps[0]) same = 0;
        double r = g->train_tokens[i] / g->params[i];
        rsum += r;
        if (r < rmin) rmin = r;
        if (r > rmax) rmax = r;
    }
    p->budget = !known ? LB_UNKNOWN : same ? LB_STEPS
              : rmax <= 1.1 * rmin ? LB_TOKENS_PER_PARAM : LB_OTHER;
    p->budget_steps = known && same ? g->train_steps[0] : 0;
    p->budget_tokens = known && same ? g->train_tokens[0] : NAN;
    p->tokens_per_param = known && S ? rsum / S : NAN;
}

void ladder_budget_text(const LadderPart *p, char *t, size_t n) {
    t[0] = 0;
    switch (p->budget) {
    case LB_STEPS:
        str_catf(t, n, "Every size trained for the same %d steps (%.3g tokens), so the loss against "
                  "training FLOPs is at a fixed step budget, not the compute-efficient frontier: "
                  "a larger model gets more compute but no more data (Kaplan et al. and Hoffmann "
                  "et al. find the frontier over several budgets per size; a tokens_per_param "
                  "budget is the way toward it).", p->budget_steps, p->budget_tokens);
        break;
    case LB_TOKENS_PER_PARAM:
        str_catf(t, n, "Every size trained on about %.3g tokens per parameter (a tokens_per_param "
                  "budget), so the loss against training FLOPs grows data with size, the way "
                  "toward the compute-efficient frontier rather than a fixed step budget; one "
                  "budget per size does not locate the frontier itself.", p->tokens_per_param);
        break;
    case LB_OTHER:
        str_catf(t, n, "The sizes trained for neither the same steps nor the same tokens per "
                  "parameter (%.3g on average), so the loss against training FLOPs mixes size "
                  "and data: it is neither a fixed step budget nor the compute-efficient "
                  "frontier.", p->tokens_per_param);
        break;
    default:
        str_catf(t, n, "The registry records no training budget for these runs, so what the loss "
                  "against training FLOPs shows is not known.");
    }
}

void ladder_extrapolation_text(const LadderPart *p, char *t, size_t n) {
    const Extrapolation *e = &p->extrapolation;
    t[0] = 0;
    if (p->extrapolation_st.state == LA_SKIPPED) {
        str_catf(t, n, "The ladder has too few sizes for the extrapolation check (4 needed).");
        return;
    }
    if (p->extrapolation_st.state == LA_FAILED) {
        str_catf(t, n, "The extrapolation check could not be made: %s.", p->extrapolation_st.error);
        return;
    }
    str_catf(t, n, "Extrapolation: a power law fitted on the %d smallest sizes (%d runs), %s, ",
        e->n_fit, e->n_points, e->why);
    if (!e->converged) {
        str_catf(t, n, "did not converge, so its prediction for %.3g parameters (%.4g) is not a test "
                  "of the law.", e->x_target, e->pred);
        return;
    }
    str_catf(t, n, "predicts a loss of %.4g at %.3g parameters against %.4g measured (%+.1f%%)",
        e->pred, e->x_target, e->actual, 100 * e->rel_err);
    if (e->significant < 0) {
        str_catf(t, n, "; the fit leaves no residual degrees of freedom, so there is no prediction "
                  "interval and the miss cannot be judged.");
        return;
    }
    str_catf(t, n, "; its 95%% prediction interval is [%.4g, %.4g], so the miss is %s.", e->lo, e->hi,
        e->significant ? "significant: the law fitted on the small sizes does not extrapolate"
                       : "within the fit's uncertainty");
}
