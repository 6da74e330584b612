// w2v queries: neighbours, 3CosAdd analogies and compute-accuracy.c's questions-words score.
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "w2v/w2v.h"

float *w2v_normalized(const W2VModel *m) {
    float *N = xmalloc((size_t)m->V * m->dim * sizeof(float));
    for (int i = 0; i < m->V; i++) {
        const float *v = m->vec + (size_t)i * m->dim;
        float *o = N + (size_t)i * m->dim;
        double s = 0;
        for (int k = 0; k < m->dim; k++) s += (double)v[k] * v[k];
        float inv = s > 0 ? (float)(1 / sqrt(s)) : 0;
        for (int k = 0; k < m->dim; k++) o[k] = v[k] * inv;
    }
    return N;
}

int w2v_nearest(const W2VModel *m, const float *N, int limit, const float *q, const int *ex,
                int n_ex, int k, int *ids, float *sims) {
    if (limit <= 0 || limit > m->V) limit = m->V;
    const int D = m->dim;
    double qs = 0;
    for (int j = 0; j < D; j++) qs += (double)q[j] * q[j];
    float qinv = qs > 0 ? (float)(1 / sqrt(qs)) : 0;
    int n = 0;
    for (int i = 0; i < limit; i++) {
        int skip = 0;
        for (int e = 0; e < n_ex; e++) skip |= ex[e] == i;
        if (skip) continue;
        const float *r = N + (size_t)i * D;
        float s = 0;
        for (int j = 0; j < D; j++) s += r[j] * q[j];
        s *= qinv;
        if (n == k && s <= sims[k - 1]) continue;   // ties keep the lower index
        int p = n < k ? n++ : k - 1;
        while (p > 0 && sims[p - 1] < s) { sims[p] = sims[p - 1]; ids[p] = ids[p - 1]; p--; }
        sims[p] = s;
        ids[p] = i;
    }
    return n;
}

int w2v_analogy(const W2VModel *m, const float *N, int limit, int a, int b, int c, int k,
                int *ids, float *sims) {
    const int D = m->dim;
    float *q = xmalloc(D * sizeof(float));
    const float *A = N + (size_t)a * D, *B = N + (size_t)b * D, *C = N + (size_t)c * D;
    for (int j = 0; j < D; j++) q[j] = B[j] - A[j] + C[j];
    int ex[3] = {a, b, c};
    int n = w2v_nearest(m, N, limit, q, ex, 3, k, ids, sims);
    free(q);
    return n;
}

static void lower(char *s) { for (; *s; s++) *s = (char)tolower((unsigned char)*s); }

void w2v_eval_free(W2VEvalResult *r) { free(r->sec); memset(r, 0, sizeof *r); }

typedef struct { int w[4], sec; } Question;

int w2v_eval_questions(const W2VModel *m, const char *path, int restrict_n, int fold_case,
                       W2VEvalResult *r) {
    memset(r, 0, sizeof *r);
    int L = restrict_n > 0 && restrict_n < m->V ? restrict_n : m->V;
    // the lookup over the first L words, case folded if asked (first spelling wins)
    W2VModel look = {.V = L, .dim = m->dim, .words = xmalloc(L * sizeof(char *))};
    for (int i = 0; i < L; i++) {
        look.words[i] = strdup(m->words[i]);
        if (fold_case) lower(look.words[i]);
    }
    w2v_build_hash(&look);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) { w2v_free(&look); return -1; }
    int cap_q = 1024, nq = 0, cap_s = 16, line = 0, rc = 0;
    Question *qs = xmalloc(cap_q * sizeof(Question));
    r->sec = xcalloc(cap_s, sizeof(W2VSection));
    char *save = NULL;
    for (char *p = text, *next; p && p < text + len; p = next) {
        char *nl = memchr(p, '\n', text + len - p);
        if (nl) { *nl = 0; next = nl + 1; } else next = NULL;
        line++;
        char *tok[5];
        int nt = 0;
        for (char *t = strtok_r(p, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
            if (nt < 5) tok[nt] = t;
            nt++;
        }
        if (nt == 0) continue;
        if (tok[0][0] == ':') {
            const char *name = tok[0][1] ? tok[0] + 1 : nt > 1 ? tok[1] : "";
            if (!*name || nt > (tok[0][1] ? 1 : 2)) {
                rc = em_error("%s:%d: a section line is ': NAME' (one word), got '%s%s'", path, line,
                              tok[0], nt > 1 ? " ..." : "");
                break;
            }
            if (r->n_sec == cap_s) r->sec = xrealloc(r->sec, (cap_s *= 2) * sizeof(W2VSection));
            W2VSection *s = &r->sec[r->n_sec++];
            memset(s, 0, sizeof *s);
            snprintf(s->name, sizeof s->name, "%s", name);
            s->semantic = strncmp(s->name, "gram", 4) != 0;
            continue;
        }
        if (nt != 4) {
            rc = em_error("%s:%d: expected a question of 4 words 'A B C D' (A:B :: C:D) or ': SECTION', got %d words",
                          path, line, nt);
            break;
        }
        if (r->n_sec == 0) {   // questions before any section: one unnamed semantic section
            r->n_sec = 1;
            snprintf(r->sec[0].name, sizeof r->sec[0].name, "(no section)");
            r->sec[0].semantic = 1;
        }
        W2VSection *s = &r->sec[r->n_sec - 1];
        s->total++;
        Question q = {.sec = r->n_sec - 1};
        int found = 1;
        for (int j = 0; j < 4; j++) {
            if (fold_case) lower(tok[j]);
            q.w[j] = w2v_find(&look, tok[j]);
            found &= q.w[j] >= 0;
        }
        if (!found) continue;
        s->seen++;
        if (nq == cap_q) qs = xrealloc(qs, (cap_q *= 2) * sizeof(Question));
        qs[nq++] = q;
    }
    free(text);
    w2v_free(&look);
    if (rc) { free(qs); w2v_eval_free(r); return -1; }
    float *N = w2v_normalized(m);
    char *hit = xcalloc(nq > 0 ? nq : 1, 1);
#pragma omp parallel for schedule(dynamic, 16)
    for (int i = 0; i < nq; i++) {
        int id;
        float sim;
        if (w2v_analogy(m, N, L, qs[i].w[0], qs[i].w[1], qs[i].w[2], 1, &id, &sim) == 1)
            hit[i] = id == qs[i].w[3];
    }
    for (int i = 0; i < nq; i++) r->sec[qs[i].sec].correct += hit[i];
    for (int i = 0; i < r->n_sec; i++) {
        W2VSection *s = &r->sec[i];
        r->correct += s->correct; r->seen += s->seen; r->total += s->total;
        if (s->semantic) { r->sem_correct += s->correct; r->sem_seen += s->seen; }
        else { r->syn_correct += s->correct; r->syn_seen += s->seen; }
    }
    free(hit); free(N); free(qs);
    return 0;
}
