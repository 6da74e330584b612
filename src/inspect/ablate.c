// Ablation end to end: log p(target | prompt) and a generated task scored by teacher forcing,
// without and with the ablations, or for every head and MLP alone (the sweep); and the
// patching grids of every site asked for (see intervene.h).
#include "inspect/intervene.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/tasks.h"
#include "eval/eval.h"

// eval_task with the ablations abl[0..n) installed (n = 0: none). The KV-cache decoder that
// eval_task uses for generation does not run the forward hooks, so the scores kept are the
// teacher-forced ones, which do: exact match = every target token is the argmax (what greedy
// decoding would produce), per-token accuracy, target log-probability, multiple-choice grade.
static int task_score(GPT *m, const Tokenizer *tok, const TaskSet *test, const TaskSet *pool,
                      int shots, uint64_t seed, const Ablation *abl, int n, InspectTaskScore *s) {
    EvalConfig ec = {.shots = shots, .seed = seed, .max_new = 1, .n_boot = 0};
    EvalResult r;
    GPTHook h0 = m->hook;
    void *c0 = m->hook_ctx;
    AblateCtx ctx;
    if (n) intervene_ablate_install(m, &ctx, abl, n);
    int rc = eval_task(m, tok, test, pool, &ec, &r);
    m->hook = h0;
    m->hook_ctx = c0;
    if (rc) return -1;
    int k = 0, hit = 0;
    for (int i = 0; i < r.n; i++)
        if (isfinite(r.items[i].m[MET_TOKEN_ACC_TF])) { k++; hit += r.items[i].m[MET_TOKEN_ACC_TF] == 1.0; }
    s->exact_tf = k ? (double)hit / k : NAN;
    s->tok_acc_tf = r.sum[MET_TOKEN_ACC_TF].n ? r.sum[MET_TOKEN_ACC_TF].mean : NAN;
    s->logprob = r.sum[MET_LOGPROB].n ? r.sum[MET_LOGPROB].mean : NAN;
    s->mc = r.sum[MET_MC_GRADE].n ? r.sum[MET_MC_GRADE].mean : NAN;
    eval_result_free(&r);
    return 0;
}

// log p(target | prompt) with the ablations abl[0..n) (none: n = 0).
static double ablated_logprob(GPT *m, const Ablation *abl, int n, const int *ids, int np, int nt) {
    GPTHook h0 = m->hook;
    void *c0 = m->hook_ctx;
    AblateCtx ctx;
    if (n) intervene_ablate_install(m, &ctx, abl, n);
    else intervene_clear(m);
    double lp = intervene_logprob(m, ids, np, nt);
    m->hook = h0;
    m->hook_ctx = c0;
    return lp;
}

// The sweep: every head, then the MLP, of every layer alone, into r's grids.
static int sweep(GPT *m, const Tokenizer *tok, const InspectAblateSpec *s, const TaskSet *test,
                 const TaskSet *pool, InspectAblation *r) {
    int L = r->L, NH = r->NH, cols = NH + 1;
    double *dh = xmalloc((size_t)L * NH * sizeof(double)), *dm = xmalloc(L * sizeof(double));
    intervene_sweep_logprob(m, s->ids, s->np, s->nt, s->mode, &r->base, dh, dm);
    r->dlogprob = xmalloc((size_t)L * cols * sizeof(double));
    for (int l = 0; l < L; l++) {
        for (int h = 0; h < NH; h++) r->dlogprob[l * cols + h] = dh[l * NH + h];
        r->dlogprob[l * cols + NH] = dm[l];
    }
    free(dh);
    free(dm);
    if (!r->has_task) return 0;
    r->dexact = xmalloc((size_t)L * cols * sizeof(double));
    for (int l = 0; l < L; l++) {
        for (int h = 0; h <= NH; h++) {
            Ablation a = {h < NH ? ABL_HEAD : ABL_MLP, l, h < NH ? h : 0, s->mode};
            InspectTaskScore t;
            if (task_score(m, tok, test, pool, s->shots, s->seed, &a, 1, &t)) return -1;
            r->dexact[l * cols + h] = t.exact_tf - r->task_base.exact_tf;
        }
    }
    return 0;
}

int inspect_ablate(GPT *m, const Tokenizer *tok, const InspectAblateSpec *s, InspectAblation *r) {
    memset(r, 0, sizeof *r);
    r->L = m->cfg.n_layer;
    r->NH = m->cfg.n_head;
    r->task_base = r->task_ablated = (InspectTaskScore){NAN, NAN, NAN, NAN};
    if (s->np < 1 || s->nt < 1) return em_error("ablate: the prompt and the target must not be empty");
    if (s->np + s->nt > m->cfg.block_size)
        return em_error("ablate: prompt + target: %d tokens, more than the model's context (%d)",
                        s->np + s->nt, m->cfg.block_size);
    if (s->n_abl && intervene_ablation_check(m, s->abl, s->n_abl)) return -1;
    if (gpt_alloc_acts(m, 1, m->cfg.block_size)) return -1;
    TaskSet test = {0}, pool = {0};
    if (s->task) {
        if (task_generate(s->task, TASK_TEST, s->n, s->seed, &test)) return -1;
        if (task_generate(s->task, TASK_TRAIN, 256, s->seed + 1, &pool)) { taskset_free(&test); return -1; }
        r->has_task = 1;
        snprintf(r->task_name, sizeof r->task_name, "%s", test.name);
        r->task_n = test.n;
    }
    int rc = -1;
    if (r->has_task && task_score(m, tok, &test, &pool, s->shots, s->seed, NULL, 0, &r->task_base)) goto done;
    if (s->n_abl) {
        r->base = ablated_logprob(m, NULL, 0, s->ids, s->np, s->nt);
        r->ablated = ablated_logprob(m, s->abl, s->n_abl, s->ids, s->np, s->nt);
        if (r->has_task && task_score(m, tok, &test, &pool, s->shots, s->seed, s->abl, s->n_abl,
                                      &r->task_ablated))
            goto done;
    } else if (sweep(m, tok, s, &test, &pool, r)) {
        goto done;
    }
    rc = 0;
done:
    if (r->has_task) { taskset_free(&test); taskset_free(&pool); }
    if (rc) inspect_ablation_free(r);
    return rc;
}

void inspect_ablation_free(InspectAblation *r) {
    free(r->dlogprob);
    free(r->dexact);
    r->dlogprob = r->dexact = NULL;
}

// ---- patching, every site asked for ------------------------------------------------------
int inspect_patch(GPT *m, const int *clean, const int *corrupt, int T, int answer, int wrong,
                  const int want[PATCH_NUM], InspectPatch *r) {
    memset(r, 0, sizeof *r);
    r->T = T;
    r->L = m->cfg.n_layer;
    r->NH = m->cfg.n_head;
    Patcher p;
    if (patch_init(&p, m, clean, corrupt, T, answer, wrong)) return -1;
    r->clean_diff = p.clean_diff;
    r->corrupt_diff = p.corrupt_diff;
    for (int s = 0; s < PATCH_NUM; s++) {
        if (!want[s]) continue;
        int cols = s == PATCH_HEAD ? r->NH : T;
        r->grid[s] = xmalloc((size_t)r->L * cols * sizeof(double));
        patch_grid(&p, corrupt, s, answer, wrong, r->grid[s]);
    }
    patch_free(&p);
    return 0;
}

void inspect_patch_free(InspectPatch *r) {
    for (int s = 0; s < PATCH_NUM; s++) free(r->grid[s]);
    memset(r, 0, sizeof *r);
}
