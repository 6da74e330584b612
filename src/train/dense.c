// Dense evaluation during training: a task's train and test items under teacher forcing,
// the weights' squared norm and the Fourier share of the residue embedding (train.h).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/tasks.h"
#include "train.h"

// One split's items as (n, T) inputs and targets; *T grows to the longest item.
static int encode_split(const TaskSet *ts, const Tokenizer *tok, int ***ids_out, int **len_out,
                        int **nt_out, int *maxlen) {
    int *lens = xmalloc((size_t)(ts->n > 0 ? ts->n : 1) * sizeof(int));
    int *nts = xmalloc((size_t)(ts->n > 0 ? ts->n : 1) * sizeof(int));
    int **ids = xcalloc((size_t)(ts->n > 0 ? ts->n : 1), sizeof(int *));
    for (int i = 0; i < ts->n; i++) {
        const TaskItem *it = &ts->items[i];
        size_t pl = strlen(it->prompt) + strlen(ts->answer_prefix) +
                    (it->scratch ? strlen(it->scratch) : 0);
        char *pre = xmalloc(pl + 1);
        snprintf(pre, pl + 1, "%s%s%s", it->prompt, ts->answer_prefix, it->scratch ? it->scratch : "");
        int *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        int rc = tok_encode(tok, pre, strlen(pre), &a, &na, ts->name) ||
                 tok_encode(tok, it->target, strlen(it->target), &b, &nb, ts->name);
        free(pre);
        if (rc || nb == 0 || na == 0) {
            free(a); free(b);
            for (int j = 0; j < i; j++) free(ids[j]);
            free(ids); free(lens); free(nts);
            return rc ? -1 : em_error("%s: item %d: an empty prompt or answer cannot be scored",
                                      ts->name, i);
        }
        ids[i] = xmalloc((na + nb) * sizeof(int));
        memcpy(ids[i], a, na * sizeof(int));
        memcpy(ids[i] + na, b, nb * sizeof(int));
        lens[i] = (int)(na + nb);
        nts[i] = (int)nb;
        if (lens[i] > *maxlen) *maxlen = lens[i];
        free(a); free(b);
    }
    *ids_out = ids;
    *len_out = lens;
    *nt_out = nts;
    return 0;
}

// Lays n items out as (n, T) rows: inputs ids[0 .. len-2] (padded with the first id),
// targets the answer's ids at their positions, -1 elsewhere.
static void layout(int **ids, const int *lens, const int *nts, int n, int T, int *inp, int *tgt) {
    for (int i = 0; i < n; i++) {
        int *ri = inp + (size_t)i * T, *rt = tgt + (size_t)i * T, L = lens[i];
        for (int t = 0; t < T; t++) {
            ri[t] = t < L - 1 ? ids[i][t] : ids[i][0];
            rt[t] = t >= L - 1 - nts[i] && t < L - 1 ? ids[i][t + 1] : -1;
        }
    }
}

int dense_setup(DenseEval *de, const char *task, const Tokenizer *tok, int n, int topk,
                int block_size, uint64_t seed) {
    memset(de, 0, sizeof *de);
    snprintf(de->task, sizeof de->task, "%s", task);
    de->topk = topk;
    TaskSet ts[2];
    int **ids[2] = {NULL, NULL}, *lens[2] = {NULL, NULL}, *nts[2] = {NULL, NULL}, maxlen = 0;
    for (int s = 0; s < 2; s++) {
        if (task_generate(task, s, n, seed + (uint64_t)s, &ts[s])) {
            if (s) taskset_free(&ts[0]);
            return -1;
        }
    }
    int rc = 0;
    for (int s = 0; s < 2 && !rc; s++) {
        if (ts[s].n < 1)
            rc = em_error("%s: the %s split has no items to evaluate", task, s ? "test" : "train");
        else if (ts[s].multiple_choice)
            rc = em_error("%s: a multiple-choice task: dense evaluation scores generated answers",
                          task);
        else
            rc = encode_split(&ts[s], tok, &ids[s], &lens[s], &nts[s], &maxlen);
    }
    if (!rc && maxlen - 1 > block_size)
        rc = em_error("%s: an item of %d tokens does not fit the block size %d", task, maxlen,
                      block_size);
    if (!rc) {
        de->T = maxlen - 1;
        for (int s = 0; s < 2; s++) {
            de->n[s] = ts[s].n;
            de->inp[s] = xmalloc((size_t)ts[s].n * de->T * sizeof(int));
            de->tgt[s] = xmalloc((size_t)ts[s].n * de->T * sizeof(int));
            layout(ids[s], lens[s], nts[s], ts[s].n, de->T, de->inp[s], de->tgt[s]);
        }
    }
    for (int s = 0; s < 2; s++) {
        for (int i = 0; ids[s] && i < ts[s].n; i++) free(ids[s][i]);
        free(ids[s]); free(lens[s]); free(nts[s]);
    }
    taskset_free(&ts[0]);
    taskset_free(&ts[1]);
    // mod:P: the residues' tokens, for the Fourier share
    long P = 0;
    if (!rc && sscanf(task, "mod:%ld:", &P) == 1 && P >= 2) {
        if (topk < 1 || topk > P / 2) {
            rc = em_error("%s: Fourier top-k %d: expected 1 to %ld (P/2 frequencies)", task, topk,
                          P / 2);
        } else {
            de->P = (int)P;
            de->residue_tok = xmalloc((size_t)P * sizeof(int));
            for (int x = 0; x < P && !rc; x++) {
                char u[8];
                int nb = utf8_encode(0x100u + (uint32_t)x, u), *id = NULL;
                size_t ni = 0;
                rc = tok_encode(tok, u, (size_t)nb, &id, &ni, task);
                if (!rc) de->residue_tok[x] = id[0];
                free(id);
            }
        }
    }
    if (rc) dense_free(de);
    return rc;
}

void dense_free(DenseEval *de) {
    for (int s = 0; s < 2; s++) { free(de->inp[s]); free(de->tgt[s]); }
    free(de->residue_tok);
    memset(de, 0, sizeof *de);
}

double dense_weight_sq(const GPT *m) {
    double s = 0.0;
    for (size_t i = 0; i < m->num_params; i++) s += (double)m->params[i] * m->params[i];
    return s;
}

static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

double dense_fourier_share(const float *x, int P, int C, int ld, int k) {
    int F = P / 2;
    if (F < 1 || k < 1) return NAN;
    double *pw = xcalloc((size_t)F, sizeof(double));
    double *cs = xmalloc((size_t)P * sizeof(double)), *sn = xmalloc((size_t)P * sizeof(double));
    for (int j = 0; j < P; j++) {  // the angles of 2 pi j / P, reduced exactly
        cs[j] = cos(2.0 * M_PI * j / P);
        sn[j] = sin(2.0 * M_PI * j / P);
    }
    double all = 0.0;  // P x the sum of squares: the power of every frequency, the constant too
    for (int r = 0; r < P; r++)
        for (int c = 0; c < C; c++) all += P * (double)x[(size_t)r * ld + c] * x[(size_t)r * ld + c];
    for (int c = 0; c < C; c++)
        for (int f = 1; f <= F; f++) {
            double re = 0.0, im = 0.0;
            for (int r = 0; r < P; r++) {
                int j = (int)((long)f * r % P);
                double v = x[(size_t)r * ld + c];
                re += v * cs[j];
                im -= v * sn[j];
            }
            // X_{P-f} is the conjugate of X_f: the pair carries twice |X_f|^2, unless f = P - f
            pw[f - 1] += (2 * f == P ? 1.0 : 2.0) * (re * re + im * im);
        }
    double total = 0.0, top = 0.0;
    for (int f = 0; f < F; f++) total += pw[f];
    qsort(pw, (size_t)F, sizeof(double), cmp_desc);
    for (int f = 0; f < F && f < k; f++) top += pw[f];
    free(pw); free(cs); free(sn);
    // a constant leaves only rounding in the other frequencies: no share to speak of
    return total > 1e-20 * all ? top / total : NAN;
}

int dense_measure(GPT *m, const DenseEval *de, int B, int step, DenseRecord *r) {
    double t0 = now_sec();
    memset(r, 0, sizeof *r);
    r->step = step;
    int T = de->T, V = m->cfg.vocab_size;
    if (B < 1) B = 1;
    if (gpt_alloc_acts(m, B, T)) return -1;
    for (int s = 0; s < 2; s++) {
        double loss = 0.0;
        long hit = 0;
        for (int i0 = 0; i0 < de->n[s]; i0 += B) {
            int b = de->n[s] - i0 < B ? de->n[s] - i0 : B;
            const int *inp = de->inp[s] + (size_t)i0 * T, *tgt = de->tgt[s] + (size_t)i0 * T;
            gpt_forward(m, inp, tgt, b, T);
            for (int i = 0; i < b; i++) {
                int ok = 1;
                for (int t = 0; t < T; t++) {
                    int y = tgt[i * T + t];
                    if (y < 0) continue;
                    loss += m->a.losses[i * T + t];
                    const float *lg = m->a.logits + ((size_t)i * T + t) * V;
                    int best = 0;
                    for (int v = 1; v < V; v++) if (lg[v] > lg[best]) best = v;
                    ok &= best == y;
                }
                hit += ok;
            }
        }
        r->acc[s] = (double)hit / de->n[s];
        r->loss[s] = loss / de->n[s];
    }
    r->weight_sq = dense_weight_sq(m);
    r->fourier = NAN;
    if (de->P > 0) {
        int C = m->cfg.n_embd;
        float *E = xmalloc((size_t)de->P * C * sizeof(float));  // (P, C) rows of wte
        for (int x = 0; x < de->P; x++)
            memcpy(E + (size_t)x * C, m->p.wte + (size_t)de->residue_tok[x] * C, C * sizeof(float));
        r->fourier = dense_fourier_share(E, de->P, C, C, de->topk);
        free(E);
    }
    r->seconds = now_sec() - t0;
    return 0;
}

static void num(char *buf, size_t cap, size_t *o, const char *key, double v) {
    if (*o >= cap) return;
    if (isfinite(v)) *o += (size_t)snprintf(buf + *o, cap - *o, ",\"%s\":%.9g", key, v);
    else *o += (size_t)snprintf(buf + *o, cap - *o, ",\"%s\":null", key);
}

void dense_record_json(const DenseRecord *r, int topk, char *buf, size_t cap) {
    size_t o = (size_t)snprintf(buf, cap, "{\"step\":%d", r->step);
    num(buf, cap, &o, "train_acc", r->acc[0]);
    num(buf, cap, &o, "test_acc", r->acc[1]);
    num(buf, cap, &o, "train_loss", r->loss[0]);
    num(buf, cap, &o, "test_loss", r->loss[1]);
    num(buf, cap, &o, "weight_sq", r->weight_sq);
    num(buf, cap, &o, "fourier_share", r->fourier);
    if (o < cap) o += (size_t)snprintf(buf + o, cap - o, ",\"fourier_k\":%d", topk);
    if (o < cap && isfinite(r->fourier))
        o += (size_t)snprintf(buf + o, cap - o, ",\"fourier_of\":\"wte rows of the residues "
                              "(tied head: the embedding is the unembedding)\"");
    num(buf, cap, &o, "eval_s", r->seconds);
    if (o < cap) snprintf(buf + o, cap - o, "}");
}
