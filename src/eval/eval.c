// The evaluation runner: prompts, greedy decoding with the KV cache, teacher forcing,
// multiple-choice log-likelihoods, and the per-item metrics.
#include "eval.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "model/generate.h"

const char *const eval_metric_names[MET_NUM] = {
    "exact_match", "token_accuracy", "token_accuracy_tf", "edit_distance", "edit_distance_norm",
    "target_logprob", "mean_token_prob", "abs_error", "rel_error", "mc_grade", "brier",
    "confidence", "target_prob",
};
const int eval_higher_is_better[MET_NUM] = {1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1};
// The names older registries hold the two independence checks under ("exact_match_pred_prod",
// "exact_match_pred_pow", computed then with the longest answer length) are read back by
// src/ladder/grid.c.
const char *const eval_stat_names[EST_NUM] = {
    "ece", "tf_token_prob", "exact_match_pred_tf", "exact_match_indep_pow",
    "exact_match_indep_prod",
};
const int eval_stat_higher_is_better[EST_NUM] = {0, 1, 1, 1, 1};

// Encodes text; a character outside the vocabulary is an error naming the task.
static int encode(const Tokenizer *tok, const char *text, int **ids, size_t *n, const char *task) {
    char where[160];
    snprintf(where, sizeof where, "task %s", task);
    return tok_encode(tok, text, strlen(text), ids, n, where);
}

// Tokens of text: encoded with tok, or (tok NULL) its code points, the tokens of a
// char-level tokenizer whose vocabulary holds them.
static int count_tokens(const Tokenizer *tok, const char *text, int *n, const char *task) {
    if (!tok) {
        int c = 0;
        for (const unsigned char *p = (const unsigned char *)text; *p; p++) c += (*p & 0xC0) != 0x80;
        *n = c;
        return 0;
    }
    int *ids = NULL;
    size_t m = 0;
    if (encode(tok, text, &ids, &m, task)) return -1;
    free(ids);
    *n = (int)m;
    return 0;
}

// The answer of an item in tokens: generative, scratch + target + stop, of which the
// context needs all but the last (a generated token is fed only to produce the next);
// multiple choice, the longest choice, all of it in the context. The stop counts as its
// characters: a model need not know it to be stopped by it.
static int answer_len(const Tokenizer *tok, const TaskSet *ts, const TaskItem *it, int *len,
                      int *need) {
    int n = 0, k;
    if (it->n_choices > 0) {
        for (int j = 0; j < it->n_choices; j++) {
            if (count_tokens(tok, it->choices[j], &k, ts->name)) return -1;
            if (k > n) n = k;
        }
        *len = *need = n;
        return 0;
    }
    if (it->scratch && count_tokens(tok, it->scratch, &n, ts->name)) return -1;
    if (count_tokens(tok, it->target, &k, ts->name)) return -1;
    n += k;
    count_tokens(NULL, ts->stop, &k, ts->name);
    *len = n + k;
    *need = n + (k > 0 ? k - 1 : 0);  // teacher forcing alone feeds scratch + target
    return 0;
}

int eval_check_fit(const Tokenizer *tok, const TaskSet *ts, int block_size) {
    int worst = -1, w_np = 0, w_len = 0, w_need = 0;
    for (int i = 0; i < ts->n; i++) {
        int np, len, need;
        char *p = task_fewshot_prompt(ts, NULL, 0, &ts->items[i]);
        int rc = count_tokens(tok, p, &np, ts->name);
        free(p);
        if (rc || answer_len(tok, ts, &ts->items[i], &len, &need)) return -1;
        if (worst < 0 || np + need > w_np + w_need) { worst = i; w_np = np; w_len = len; w_need = need; }
    }
    if (worst < 0 || w_np + w_need <= block_size) return 0;
    int mc = ts->items[worst].n_choices > 0;
    em_error("task %s: block size %d is too short: the longest prompt + answer (item %d) is %d "
             "tokens (prompt %d, %s %d), which needs a block size of at least %d%s",
             ts->name, block_size, worst, w_np + w_len, w_np,
             mc ? "longest choice" : "answer and stop", w_len, w_np + w_need,
             w_need >= block_size ? "; the answer alone does not fit" : "");
    return EVAL_UNFIT;
}

// The index of the largest logit (the first of equals): greedy decoding's choice.
static int argmax_row(const float *lg, int V) {
    int best = 0;
    for (int v = 1; v < V; v++) if (lg[v] > lg[best]) best = v;
    return best;
}

// Teacher forcing of one sequence: ids[from..n) scored given what precedes them. The
// sequence is cut on the left to the context, and the first token has no prediction.
typedef struct {
    const int *ids;  // (n) after the cut
    int n, from;
    double *logp;    // (n - from) log p of each scored token
    int *argmax;     // (n - from) the greedy choice at each scored position
} TfRow;

static TfRow tf_row(const GPT *m, const int *ids, int n, int from, double *logp, int *argmax) {
    int maxT = m->cfg.block_size, cut = n > maxT ? n - maxT : 0;
    from -= cut;
    return (TfRow){ids + cut, n - cut, from < 1 ? 1 : from, logp, argmax};
}

// Rows of the arena eval_task asks for (teacher forcing batches up to them): up to 64, as
// many as fit 64 MiB of activations at the full context; an arena already larger is kept.
static int eval_rows(const GPTConfig *c) {
    int B = 64;
    while (B > 1 && (gpt_act_floats(c, B, c->block_size) +
                     gpt_grad_act_floats(c, B, c->block_size)) * sizeof(float) > (64u << 20))
        B /= 2;
    return B;
}

static int cmp_row_len(const void *a, const void *b, void *rows) {
    const TfRow *r = rows;
    int x = *(const int *)a, y = *(const int *)b;
    if (r[x].n != r[y].n) return (r[x].n > r[y].n) - (r[x].n < r[y].n);
    return (x > y) - (x < y);
}

// Scores many rows (a row of n 0 has nothing to score): rows of equal length share a
// forward, as many as the arena holds (m->maxB), so that no row is padded and each row's
// positions see exactly what a forward of that row alone sees. A row's numbers are those of
// its own forward up to the GEMMs' rounding (equal bit for bit where OpenBLAS sums each
// element in the same order at any row count). With a hook installed (ablation, patching)
// each row has a forward of its own, as the hook expects.
static void score_rows(GPT *m, TfRow *rows, int n) {
    int V = m->cfg.vocab_size, cap = m->hook ? 1 : m->maxB, first = 0;
    int *ord = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    for (int i = 0; i < n; i++) ord[i] = i;
    qsort_r(ord, (size_t)n, sizeof(int), cmp_row_len, rows);
    while (first < n && rows[ord[first]].n == 0) first++;  // rows with nothing to score
    int *buf = xmalloc((size_t)cap * (first < n ? rows[ord[n - 1]].n : 1) * sizeof(int));
    for (int a = first; a < n;) {
        int T = rows[ord[a]].n, b = a;
        while (b < n && b - a < cap && rows[ord[b]].n == T) b++;
        for (int r = a; r < b; r++)
            memcpy(buf + (size_t)(r - a) * T, rows[ord[r]].ids, (size_t)T * sizeof(int));
        gpt_forward(m, buf, NULL, b - a, T);  // (b-a, T)
        for (int r = a; r < b; r++) {
            const TfRow *t = &rows[ord[r]];
            for (int j = t->from; j < T; j++) {
                size_t at = (size_t)(r - a) * T + (size_t)(j - 1);
                const float *lg = m->a.logits + at * V;
                t->logp[j - t->from] = (double)lg[t->ids[j]] - m->a.lse[at];
                t->argmax[j - t->from] = argmax_row(lg, V);
            }
        }
        a = b;
    }
    free(buf);
    free(ord);
}

// Log-probabilities (and argmax hits) of ids[from..n) given ids[0..from), one forward pass.
static void score_tokens(GPT *m, const int *ids, int n, int from, double *logp, int *argmax) {
    TfRow t = tf_row(m, ids, n, from, logp, argmax);
    score_rows(m, &t, 1);
}

// Greedy decoding of many prompts at once, until the stop string or max_new tokens: a
// pool of KV-cache slots, the next position of every busy slot in one batched step, and a
// finished slot refilled with the next prompt. Fills each item's response and confidence
// (the probability of its generated tokens). Prompts are cut on the left to fit.
typedef struct {
    int item, fed, np, n_gen, last;
    const int *ids;
    char *out;
    size_t len, cap;
    double logp;
} Slot;

// `reserve[i]`: the tokens item i's answer needs (its scratchpad, target and stop, at most
// max_new and block_size - 1); a prompt is cut on the left only as far as that needs, not
// to fit all of max_new.
// With a hook installed (ablation, patching), decoding runs the full forward at every
// step, so the hook sees every position as it does in training-shaped passes.
static void generate_hooked(GPT *m, const Tokenizer *tok, const TaskSet *ts, EvalItem *items,
                            int **ids, const int *nids, int n, int max_new, const int *reserve) {
    int maxT = m->cfg.block_size, V = m->cfg.vocab_size;
    size_t slen = strlen(ts->stop);
    int *seq = xmalloc((size_t)maxT * sizeof(int));
    for (int i = 0; i < n; i++) {
        int np = nids[i], cut = np + reserve[i] - 1 > maxT ? np + reserve[i] - 1 - maxT : 0;
        int len = np - cut;
        memcpy(seq, ids[i] + cut, len * sizeof(int));
        size_t cap = 64, ol = 0;
        char *out = xmalloc(cap);
        out[0] = 0;
        double logp = 0.0;
        for (int j = 0; j < max_new; j++) {
            gpt_forward(m, seq, NULL, 1, len);
            const float *lg = m->a.logits + (size_t)(len - 1) * V;
            int best = argmax_row(lg, V);
            logp += (double)lg[best] - m->a.lse[len - 1];
            char ch[TOK_MAX_BYTES];
            int nb = tok_decode_one(tok, best, ch);
            if (ol + nb + 1 > cap) { cap = 2 * (ol + nb + 1); out = xrealloc(out, cap); }
            memcpy(out + ol, ch, nb);
            ol += nb;
            out[ol] = 0;
            if ((slen && ol >= slen && !memcmp(out + ol - slen, ts->stop, slen)) || len >= maxT) break;
            seq[len++] = best;
        }
        items[i].response = out;
        items[i].m[MET_CONFIDENCE] = exp(logp);
    }
    free(seq);
}

static void generate_all(GPT *m, const Tokenizer *tok, const TaskSet *ts, EvalItem *items,
                         int **ids, const int *nids, int n, int max_new, int *reserve,
                         const EvalConfig *ec) {
    const GPTConfig *c = &m->cfg;
    int maxT = c->block_size, V = c->vocab_size;
    for (int i = 0; i < n; i++) {
        if (reserve[i] > max_new) reserve[i] = max_new;
        if (reserve[i] > maxT - 1) reserve[i] = maxT - 1;
    }
    if (m->hook) {
        generate_hooked(m, tok, ts, items, ids, nids, n, max_new, reserve);
        return;
    }
    // slots: up to 64, their caches within 512 MiB
    size_t per_slot = 2 * (size_t)c->n_layer * maxT * c->n_embd * sizeof(float);
    int B = (int)((512u << 20) / per_slot);
    B = B < 1 ? 1 : B > 64 ? 64 : B > n ? n : B;
    KVCache kv;
    kv_init_batch(&kv, m, B);
    Slot *sl = xcalloc(B, sizeof(Slot));
    int *rows = xmalloc(B * sizeof(int)), *toks = xmalloc(B * sizeof(int));
    int next = 0, done = 0, reported = 0;
    size_t slen = strlen(ts->stop);
    for (int b = 0; b < B; b++) sl[b].item = -1;
    while (done < n) {
        for (int b = 0; b < B && next < n; b++) {  // refill free slots
            if (sl[b].item >= 0) continue;
            // the last generated token is never fed: np + reserve - 1 positions must fit
            int np = nids[next], rs = reserve[next];
            int cut = np + rs - 1 > maxT ? np + rs - 1 - maxT : 0;
            sl[b] = (Slot){.item = next, .ids = ids[next] + cut, .np = np - cut, .cap = 64};
            sl[b].out = xmalloc(sl[b].cap);
            sl[b].out[0] = 0;
            kv.lens[b] = 0;
            next++;
        }
        int nr = 0;
        for (int b = 0; b < B; b++) {
            if (sl[b].item < 0) continue;
            rows[nr] = b;
            toks[nr++] = sl[b].fed < sl[b].np ? sl[b].ids[sl[b].fed] : sl[b].last;
        }
        kv_step_batch(&kv, rows, toks, nr);
        for (int k = 0; k < nr; k++) {
            Slot *s = &sl[rows[k]];
            if (s->fed < s->np && ++s->fed < s->np) continue;  // still reading the prompt
            const float *lg = kv.logits + (size_t)k * V;
            int best = argmax_row(lg, V);
            double sum = 0.0;
            for (int v = 0; v < V; v++) sum += exp((double)lg[v] - lg[best]);
            s->logp -= log(sum);  // log softmax of the argmax
            char ch[TOK_MAX_BYTES];
            int nb = tok_decode_one(tok, best, ch);
            if (s->len + nb + 1 > s->cap) { s->cap = 2 * (s->len + nb + 1); s->out = xrealloc(s->out, s->cap); }
            memcpy(s->out + s->len, ch, nb);
            s->len += nb;
            s->out[s->len] = 0;
            s->last = best;
            s->n_gen++;
            int stop = slen && s->len >= slen && !memcmp(s->out + s->len - slen, ts->stop, slen);
            if (stop || s->n_gen >= max_new || kv.lens[rows[k]] >= maxT) {
                items[s->item].response = s->out;
                items[s->item].m[MET_CONFIDENCE] = exp(s->logp);
                s->item = -1;
                done++;
            }
        }
        if (ec->progress && done != reported) {
            ec->progress(ec->progress_ctx, ts->name, "generating", done, n, NAN);
            reported = done;
        }
    }
    free(sl);
    free(rows);
    free(toks);
    kv_free(&kv);
}

static int *pos_hits_tmp(int n) { return xcalloc(n > 0 ? n : 1, sizeof(int)); }

// What the predictions of exact match need of each item (see metrics.h): its answer length,
// where its answer sits in a grid of `longest` positions, and its greedy hits there.
typedef struct {
    int longest;
    unsigned char *hit;  // (n_items, longest)
    int *pos0, *len;     // (n_items,); len 0: not a generative item
    double *sum_logp;    // (n_items,) log p(target), teacher forced
} ItemHits;

// The generative metrics of one item (index i) whose response is in.
static void score_generative(GPT *m, const Tokenizer *tok, const TaskSet *ts, EvalItem *it,
                             EvalResult *r, double *pos_hit, double *pos_hit_tf, ItemHits *ih,
                             int i_item, const TfRow *tf) {
    const TaskItem *item = it->item;
    it->answer = task_extract_answer(ts, it->response);
    if (ts->output_regex) {  // BIG-bench: the first match of output_regex, or nothing
        regex_t re;
        regmatch_t mt;
        if (regcomp(&re, ts->output_regex, REG_EXTENDED) == 0) {
            char *a = it->answer;
            if (regexec(&re, a, 1, &mt, 0) == 0 && mt.rm_so >= 0) {
                it->answer = strndup(a + mt.rm_so, mt.rm_eo - mt.rm_so);
            } else {
                it->answer = strdup("");
            }
            free(a);
            regfree(&re);
        }
    }

    int *aid = NULL, *tid = NULL;
    size_t na = 0, nt = 0;
    encode(tok, it->answer, &aid, &na, ts->name);
    encode(tok, item->target, &tid, &nt, ts->name);
    double ex = metric_exact(aid, (int)na, tid, (int)nt);
    for (int k = 0; k < item->n_alt && ex == 0.0; k++) ex = strcmp(it->answer, item->alt_targets[k]) == 0;
    it->m[MET_EXACT] = ex;
    int *hit = pos_hits_tmp((int)nt);
    int hits = ts->numeric ? metric_aligned_hits_right(aid, (int)na, tid, (int)nt, hit)
                           : metric_aligned_hits(aid, (int)na, tid, (int)nt, hit);
    it->m[MET_TOKEN_ACC] = nt ? (double)hits / nt : NAN;
    it->m[MET_EDIT] = metric_edit_distance(aid, (int)na, tid, (int)nt);
    it->m[MET_EDIT_NORM] = metric_edit_distance_norm(aid, (int)na, tid, (int)nt);
    int off = r->n_pos - (int)nt;  // positions from the left of the longest target
    for (size_t i = 0; i < nt; i++) {
        int p = ts->numeric ? off + (int)i : (int)i;  // numbers align on their last digit
        if (p >= 0 && p < r->n_pos) { pos_hit[p] += hit[i]; r->pos_count[p]++; }
    }
    if ((int)nt <= ih->longest) {  // the same alignment in a grid of every position
        int p0 = ts->numeric ? ih->longest - (int)nt : 0;
        ih->pos0[i_item] = p0;
        ih->len[i_item] = (int)nt;
        for (size_t i = 0; i < nt; i++)
            ih->hit[(size_t)i_item * ih->longest + p0 + i] = (unsigned char)hit[i];
    }

    // teacher forcing (scored beforehand, with every other item's, by tf_score_all)
    if (nt > 0 && tf) {
        const double *logp = tf->logp;
        const int *am = tf->argmax;
        it->m[MET_LOGPROB] = metric_target_logprob(logp, (int)nt);
        it->m[MET_MEAN_PROB] = metric_mean_token_prob(logp, (int)nt);
        it->m[MET_TARGET_PROB] = exp(it->m[MET_LOGPROB]);
        ih->sum_logp[i_item] = it->m[MET_LOGPROB];
        int *hit_tf = pos_hits_tmp((int)nt);
        int h = metric_aligned_hits(am, (int)nt, tid, (int)nt, hit_tf);
        it->m[MET_TOKEN_ACC_TF] = (double)h / nt;
        for (size_t i = 0; i < nt; i++) {
            int p = ts->numeric ? off + (int)i : (int)i;
            if (p >= 0 && p < r->n_pos) pos_hit_tf[p] += hit_tf[i];
        }
        free(hit_tf);
    }
    if (ts->numeric) {
        double a, t;
        if (metric_parse_number_ws(item->target, &t) == 0 &&
            metric_parse_number_ws(it->answer, &a) == 0) {
            it->m[MET_ABS_ERR] = metric_abs_error(a, t);
            it->m[MET_REL_ERR] = metric_rel_error(a, t);
        }
    }
    free(hit); free(aid); free(tid);
}

// The teacher-forced sequences of the generative items: prompt [+ scratch] + target,
// scored on the target's tokens, all in batched forwards (score_rows). rows[i] is item i's
// (n 0: none: multiple choice, or an empty target); seq[i] owns the tokens it points into.
typedef struct {
    TfRow *rows;
    int **seq;
} TfAll;

static int tf_score_all(GPT *m, const Tokenizer *tok, const TaskSet *ts, const EvalResult *r,
                        TfAll *tf) {
    int n = r->n, rc = 0;
    tf->rows = xcalloc((size_t)n, sizeof(TfRow));
    tf->seq = xcalloc((size_t)n, sizeof(int *));
    for (int i = 0; i < n && !rc; i++) {
        const EvalItem *it = &r->items[i];
        const TaskItem *item = it->item;
        if (item->n_choices > 0) continue;
        size_t ls = item->scratch ? strlen(item->scratch) : 0;
        char *prefix = xmalloc(strlen(it->prompt) + ls + 1);
        strcpy(prefix, it->prompt);
        if (ls) strcat(prefix, item->scratch);
        int *fid = NULL, *tid = NULL;
        size_t nf = 0, nt = 0;
        rc = encode(tok, prefix, &fid, &nf, ts->name) || encode(tok, item->target, &tid, &nt, ts->name);
        if (!rc && nt > 0) {
            int *seq = xmalloc((nf + nt + 1) * sizeof(int));
            memcpy(seq, fid, nf * sizeof(int));
            memcpy(seq + nf, tid, nt * sizeof(int));
            tf->seq[i] = seq;
            tf->rows[i] = tf_row(m, seq, (int)(nf + nt), (int)nf, xcalloc(nt + 1, sizeof(double)),
                                 xcalloc(nt + 1, sizeof(int)));
        }
        free(prefix); free(fid); free(tid);
    }
    if (!rc) score_rows(m, tf->rows, n);
    return rc ? -1 : 0;
}

static void tf_free(TfAll *tf, int n) {
    for (int i = 0; tf->rows && i < n; i++) {
        free(tf->rows[i].logp);
        free(tf->rows[i].argmax);
        free(tf->seq[i]);
    }
    free(tf->rows);
    free(tf->seq);
    memset(tf, 0, sizeof *tf);
}

// Multiple choice: the log-likelihood of each continuation after the prompt.
static void score_choices(GPT *m, const Tokenizer *tok, const TaskSet *ts, EvalItem *it,
                          const int *pids, int np, EvalResult *r) {
    const TaskItem *item = it->item;
    double *ll = xmalloc(item->n_choices * sizeof(double));
    for (int k = 0; k < item->n_choices; k++) {
        int *cid = NULL;
        size_t nc = 0;
        encode(tok, item->choices[k], &cid, &nc, ts->name);
        int *seq = xmalloc((np + nc + 1) * sizeof(int));
        memcpy(seq, pids, np * sizeof(int));
        memcpy(seq + np, cid, nc * sizeof(int));
        double *logp = xmalloc((nc + 1) * sizeof(double));
        int *am = xmalloc((nc + 1) * sizeof(int));
        score_tokens(m, seq, np + (int)nc, np, logp, am);
        ll[k] = metric_target_logprob(logp, (int)nc);
        free(cid); free(seq); free(logp); free(am);
    }
    int pick = metric_mc_pick(ll, item->n_choices);
    it->m[MET_MC_GRADE] = item->choice_scores ? metric_mc_grade_scores(pick, item->choice_scores, item->n_choices)
                                             : metric_mc_grade(pick, item->correct);
    it->m[MET_EXACT] = metric_mc_grade(pick, item->correct);
    it->m[MET_BRIER] = metric_brier(ll, item->n_choices, item->correct);
    double mx = ll[pick], s = 0.0;
    for (int k = 0; k < item->n_choices; k++) s += exp(ll[k] - mx);
    it->m[MET_CONFIDENCE] = 1.0 / s;
    it->m[MET_LOGPROB] = ll[item->correct];
    it->response = strdup(item->choices[pick]);
    it->answer = strdup(item->choices[pick]);
    free(ll);
}

static void item_hits_free(ItemHits *ih) {
    free(ih->hit);
    free(ih->pos0);
    free(ih->len);
    free(ih->sum_logp);
}

// The statistics of the whole set (EST_*) as metric_bootstrap's statistics over item indices.
typedef struct { const double *conf, *correct; } EceCtx;
static double ece_stat(const int *idx, int m, void *ctx) {
    const EceCtx *c = ctx;
    double *v = xmalloc(2 * (size_t)m * sizeof(double)), e;
    for (int j = 0; j < m; j++) {
        v[j] = c->conf[idx ? idx[j] : j];
        v[m + j] = c->correct[idx ? idx[j] : j];
    }
    e = metric_ece(v, v + m, m, 10);  // -1: a confidence outside [0, 1] (none is)
    free(v);
    return e < 0 ? NAN : e;
}
typedef struct { const double *sum_logp; const PositionHits *ph; } PredCtx;
// (the token probability, exact match predicted from it)
static void tf_stats(const int *idx, int m, void *ctx, double *vals) {
    const PredCtx *c = ctx;
    vals[1] = metric_pred_tf(c->sum_logp, c->ph->len, idx, m, &vals[0]);
}
// (exact match predicted from the mean per-position accuracy, from the product)
static void indep_stats(const int *idx, int m, void *ctx, double *vals) {
    vals[0] = metric_pred_indep(((const PredCtx *)ctx)->ph, idx, m, NULL, &vals[1]);
}

// The predictions of exact match over the generative items with an answer (compacted, so
// that the bootstrap resamples them alone).
static void predictions(ItemHits *ih, int n, const EvalConfig *ec, EvalResult *r) {
    int g = 0, L = ih->longest;
    for (int i = 0; i < n; i++) {
        if (ih->len[i] <= 0 || isnan(ih->sum_logp[i])) continue;
        if (g != i) {
            ih->len[g] = ih->len[i];
            ih->pos0[g] = ih->pos0[i];
            ih->sum_logp[g] = ih->sum_logp[i];
            memcpy(ih->hit + (size_t)g * L, ih->hit + (size_t)i * L, (size_t)L);
        }
        g++;
    }
    PositionHits ph = {.hit = ih->hit, .pos0 = ih->pos0, .len = ih->len, .n_pos = L};
    PredCtx c = {ih->sum_logp, &ph};
    // the four statistics (EST_TF_TOKEN_PROB, then the three predictions) in two passes
    metric_bootstrap_k(tf_stats, &c, 2, g, ec->n_boot, ec->seed + MET_EXACT,
                       &r->stat[EST_TF_TOKEN_PROB]);
    metric_bootstrap_k(indep_stats, &c, 2, g, ec->n_boot, ec->seed + MET_EXACT,
                       &r->stat[EST_TF_TOKEN_PROB + 2]);
}

int eval_task(GPT *m, const Tokenizer *tok, const TaskSet *test, const TaskSet *pool,
              const EvalConfig *ec, EvalResult *r) {
    memset(r, 0, sizeof *r);
    r->ts = test;
    r->n = test->n;
    if (test->n <= 0) return em_error("task %s: no items to evaluate", test->name);
    if (ec->shots > 0 && (!pool || pool->n < ec->shots + (pool == test)))
        return em_error("task %s: %d shots need a pool of at least %d exemplars (have %d)",
                        test->name, ec->shots, ec->shots, pool ? pool->n : 0);
    if (!ec->truncate) {
        int rc = eval_check_fit(tok, test, m->cfg.block_size);
        if (rc) return rc;
    }
    if (gpt_alloc_acts(m, eval_rows(&m->cfg), m->cfg.block_size)) return -1;
    r->items = xcalloc(test->n, sizeof(EvalItem));
    // the longest target fixes the answer positions and the default generation limit
    int longest = 0, longest_scratch = 0;
    for (int i = 0; i < test->n; i++) {
        int *ids = NULL;
        size_t n = 0;
        if (encode(tok, test->items[i].target, &ids, &n, test->name)) { eval_result_free(r); return -1; }
        free(ids);
        if ((int)n > longest) longest = (int)n;
        int ls = test->items[i].scratch ? (int)strlen(test->items[i].scratch) : 0;
        if (ls > longest_scratch) longest_scratch = ls;
    }
    r->n_pos = longest < EVAL_MAX_POS ? longest : EVAL_MAX_POS;
    int max_new = ec->max_new > 0 ? ec->max_new
                                  : longest + longest_scratch + (int)strlen(test->stop) + 8;
    double pos_hit[EVAL_MAX_POS] = {0}, pos_hit_tf[EVAL_MAX_POS] = {0};
    ItemHits ih = {.longest = longest};
    ih.hit = xcalloc((size_t)test->n * (longest > 0 ? longest : 1), 1);
    ih.pos0 = xcalloc(test->n, sizeof(int));
    ih.len = xcalloc(test->n, sizeof(int));
    ih.sum_logp = xmalloc(test->n * sizeof(double));
    for (int i = 0; i < test->n; i++) ih.sum_logp[i] = NAN;
    Rng rng;
    rng_seed(&rng, ec->seed);
    const TaskItem **shots = xcalloc(ec->shots > 0 ? ec->shots : 1, sizeof *shots);
    int **ids = xcalloc(test->n, sizeof(int *)), *nids = xcalloc(test->n, sizeof(int));
    int *need = xcalloc(test->n, sizeof(int));  // context after the prompt (answer_len)
    double t0 = now_sec(), em_sum = 0.0;
    int rc = 0, n_gen = 0;
    // 1. prompts: exemplars are distinct pool items, drawn and ordered by the seed
    for (int i = 0; i < test->n && !rc; i++) {
        EvalItem *it = &r->items[i];
        it->item = &test->items[i];
        for (int k = 0; k < MET_NUM; k++) it->m[k] = NAN;
        for (int k = 0; k < ec->shots; k++) {
            const TaskItem *s;
            int again;
            do {
                s = &pool->items[rng_below(&rng, (uint32_t)pool->n)];
                again = 0;
                for (int j = 0; j < k; j++) again |= shots[j] == s;
                again |= s == it->item;  // a file task is its own pool: never the query
            } while (again);
            shots[k] = s;
        }
        TaskItem *picked = xcalloc(ec->shots > 0 ? ec->shots : 1, sizeof(TaskItem));
        for (int k = 0; k < ec->shots; k++) picked[k] = *shots[k];
        it->prompt = task_fewshot_prompt(test, picked, ec->shots, it->item);
        free(picked);
        size_t np = 0;
        int len;
        if (encode(tok, it->prompt, &ids[i], &np, test->name)) rc = -1;
        else if (np == 0) rc = em_error("task %s: item %d has an empty prompt", test->name, i);
        else if (answer_len(tok, test, it->item, &len, &need[i])) rc = -1;
        nids[i] = (int)np;
        n_gen += it->item->n_choices == 0;
        r->truncated += !rc && (int)np + need[i] > m->cfg.block_size;  // cut on the left
    }
    // 2. greedy decoding of the generative items, batched over the KV-cache slots
    if (!rc && n_gen > 0) {
        EvalItem *gi = xcalloc(n_gen, sizeof(EvalItem));
        int **gids = xcalloc(n_gen, sizeof(int *)), *gn = xcalloc(n_gen, sizeof(int)), j = 0;
        int *reserve = xcalloc(n_gen, sizeof(int));
        for (int i = 0; i < test->n; i++)
            if (test->items[i].n_choices == 0) {
                gids[j] = ids[i];
                gn[j] = nids[i];
                reserve[j++] = need[i] + 1;  // + the last token, generated but never fed
            }
        generate_all(m, tok, test, gi, gids, gn, n_gen, max_new, reserve, ec);
        free(reserve);
        j = 0;
        for (int i = 0; i < test->n; i++)
            if (test->items[i].n_choices == 0) {
                r->items[i].response = gi[j].response;
                r->items[i].m[MET_CONFIDENCE] = gi[j++].m[MET_CONFIDENCE];
            }
        free(gi); free(gids); free(gn);
    }
    // 3. scoring: teacher forcing, choices, and the metrics of each item
    TfAll tf = {0};
    if (!rc && n_gen > 0) rc = tf_score_all(m, tok, test, r, &tf);
    for (int i = 0; i < test->n && !rc; i++) {
        EvalItem *it = &r->items[i];
        if (it->item->n_choices > 0) score_choices(m, tok, test, it, ids[i], nids[i], r);
        else score_generative(m, tok, test, it, r, pos_hit, pos_hit_tf, &ih, i,
                              tf.rows && tf.rows[i].n > 0 ? &tf.rows[i] : NULL);
        em_sum += isnan(it->m[MET_EXACT]) ? 0.0 : it->m[MET_EXACT];
        if (ec->progress)
            ec->progress(ec->progress_ctx, test->name, "scoring", i + 1, test->n, em_sum / (i + 1));
    }
    tf_free(&tf, test->n);
    for (int i = 0; i < test->n; i++) free(ids[i]);
    free(ids);
    free(nids);
    free(need);
    free(shots);
    if (rc) { item_hits_free(&ih); eval_result_free(r); return -1; }

    // aggregation
    double *x = xmalloc(test->n * sizeof(double)), *conf = xmalloc(test->n * sizeof(double));
    for (int k = 0; k < MET_NUM; k++) {
        for (int i = 0; i < test->n; i++) x[i] = r->items[i].m[k];
        metric_summarize(x, test->n, ec->n_boot, ec->seed + k, &r->sum[k]);
    }
    int nc = 0;  // the items with both a confidence and an exact match
    for (int i = 0; i < test->n; i++) {
        conf[nc] = r->items[i].m[MET_CONFIDENCE];
        x[nc] = r->items[i].m[MET_EXACT];
        nc += !isnan(conf[nc]) && !isnan(x[nc]);
    }
    EceCtx ece = {conf, x};
    metric_bootstrap(ece_stat, &ece, nc, ec->n_boot, ec->seed + MET_EXACT, &r->stat[EST_ECE]);
    free(x);
    free(conf);
    predictions(&ih, test->n, ec, r);
    item_hits_free(&ih);
    for (int p = 0; p < r->n_pos; p++) {
        r->pos_acc[p] = r->pos_count[p] ? pos_hit[p] / r->pos_count[p] : NAN;
        r->pos_acc_tf[p] = r->pos_count[p] ? pos_hit_tf[p] / r->pos_count[p] : NAN;
    }
    r->seconds = now_sec() - t0;
    return 0;
}

int eval_split_by(EvalResult *r, const unsigned char *dirty, int n_boot, uint64_t seed) {
    free(r->dirty);
    r->dirty = xmalloc((size_t)(r->n ? r->n : 1));
    double *x = xmalloc((size_t)(r->n ? r->n : 1) * sizeof *x);
    int rc = 0;
    r->n_split[0] = r->n_split[1] = 0;
    for (int i = 0; i < r->n; i++) {
        r->dirty[i] = dirty[i] ? 1 : 0;
        r->n_split[r->dirty[i]]++;
    }
    for (int part = 0; part < 2 && !rc; part++)
        for (int k = 0; k < MET_NUM && !rc; k++) {
            int m = 0;
            for (int i = 0; i < r->n; i++)
                if (r->dirty[i] == part) x[m++] = r->items[i].m[k];
            rc = metric_summarize(x, m, n_boot, seed + (uint64_t)k, &r->split[part][k]);
        }
    free(x);
    r->has_split = !rc;
    return rc;
}

void eval_result_free(EvalResult *r) {
    if (r->items)
        for (int i = 0; i < r->n; i++) {
            free(r->items[i].prompt);
            free(r->items[i].response);
            free(r->items[i].answer);
        }
    free(r->items);
    free(r->dirty);
    memset(r, 0, sizeof *r);
}
